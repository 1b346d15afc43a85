/* Fuzz target: FTP control lines through ftp_parse_control. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ftp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ftp_control c;
	/* on and off the control port: the two take different paths */
	if (ftp_parse_control(data, size, 21, 50000, &c) == 0 &&
	    (strnlen(c.text, sizeof(c.text)) == sizeof(c.text) ||
	     strnlen(c.argument, sizeof(c.argument)) == sizeof(c.argument) ||
	     (strcmp(c.command, "PASS") == 0 && c.argument[0])))
		__builtin_trap();
	(void)ftp_parse_control(data, size, 50000, 2121, &c);
	return 0;
}

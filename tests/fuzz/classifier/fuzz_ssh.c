/* Fuzz target: SSH identification lines through ssh_parse_banner. */
#include <stddef.h>
#include <stdint.h>

#include "ssh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssh_banner b;
	(void)ssh_parse_banner(data, size, &b);
	return 0;
}

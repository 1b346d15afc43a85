/* Fuzz target: NTP packets through ntp_parse. */
#include <stddef.h>
#include <stdint.h>

#include "ntp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntp_message m;
	if (ntp_parse(data, size, &m) == 0)
		(void)ntp_mode_name(m.mode);
	return 0;
}

/* Fuzz target: SSDP datagrams through ssdp_parse. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ssdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssdp_message m;
	if (ssdp_parse(data, size, &m) == 0) {
		(void)ssdp_kind_name(m.kind);
		if (strnlen(m.target, sizeof(m.target)) == sizeof(m.target) ||
		    strnlen(m.server, sizeof(m.server)) == sizeof(m.server) ||
		    strnlen(m.nts, sizeof(m.nts)) == sizeof(m.nts))
			__builtin_trap();
	}
	return 0;
}

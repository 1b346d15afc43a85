/* Fuzz target: WireGuard messages through wireguard_parse. */
#include <stddef.h>
#include <stdint.h>

#include "wireguard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wireguard_message m;
	if (wireguard_parse(data, size, &m) == 0)
		(void)wireguard_type_name(m.type);
	return 0;
}

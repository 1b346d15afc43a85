/* Fuzz target: DHCPv4 / BOOTP messages through dhcp_parse. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dhcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_message m;
	if (dhcp_parse(data, size, &m) == 0 &&
	    (strnlen(m.hostname, sizeof(m.hostname)) == sizeof(m.hostname) ||
	     strnlen(m.chaddr, sizeof(m.chaddr)) == sizeof(m.chaddr)))
		__builtin_trap();
	return 0;
}

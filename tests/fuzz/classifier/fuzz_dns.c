/* Fuzz target: DNS / mDNS / LLMNR messages through dns_parse (UDP) and dns_parse_tcp. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_message m;
	/* both framings over the same bytes; a successful parse must leave NUL-terminated names */
	if (dns_parse(data, size, &m) == 0) {
		if (m.n_answers > DNS_MAX_ANSWERS || strnlen(m.qname, DNS_NAME_MAX) == DNS_NAME_MAX)
			__builtin_trap();
		(void)dns_name_is_tailscale(m.qname);
		for (size_t i = 0; i < m.n_answers; i++) {
			if (strnlen(m.answers[i].name, DNS_NAME_MAX) == DNS_NAME_MAX ||
			    strnlen(m.answers[i].target, DNS_NAME_MAX) == DNS_NAME_MAX)
				__builtin_trap();
			(void)dns_name_is_tailscale(m.answers[i].target);
		}
	}
	if (dns_parse_tcp(data, size, &m) == 0)
		(void)dns_name_is_tailscale(m.qname);
	return 0;
}

/* Fuzz target: text input lines (kv, JSON, tcpdump) through lines_detect and lines_parse. The
 * first byte picks the format (% 4: auto, json, kv, nflog-tcpdump), the rest is the line. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lentry e;
	enum lines_format f;
	char err[128];
	char *s;
	int rv;

	if (size < 1)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';

	rv = lines_detect(s, &f);
	if (rv == 0 && f != LINES_JSON && f != LINES_KV && f != LINES_TCPDUMP)
		__builtin_trap();
	if (rv != 0 && rv != -EINVAL && rv != -ENODATA)
		__builtin_trap();
	(void)lines_tcpdump_needs_continuation(s);

	rv = lines_parse((enum lines_format)(data[0] % 4), s, 1, &e, err, sizeof(err));
	if (rv == 0) {
		if (e.pkt || e.v || e.candidate || e.payload_len)
			__builtin_trap();
		if ((e.l3 == 4 || e.l3 == 6) != e.has_key)
			__builtin_trap();
		if (!e.has_ports && (e.sport || e.dport))
			__builtin_trap();
		if (!e.tag[0] || !e.pfx.rule_name[0] || !hint_action_name(e.pfx.action))
			__builtin_trap();
		if (strnlen(e.in_iface, sizeof(e.in_iface)) == sizeof(e.in_iface) ||
		    strnlen(e.out_iface, sizeof(e.out_iface)) == sizeof(e.out_iface))
			__builtin_trap();
	} else if (rv == -EINVAL) {
		if (!err[0] || strnlen(err, sizeof(err)) == sizeof(err) || e.l3 || e.has_key)
			__builtin_trap();
	} else if (rv != -ENODATA && rv != -ENOMEM) {
		__builtin_trap();
	}
	free(s);
	return 0;
}

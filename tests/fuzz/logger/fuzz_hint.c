/* Fuzz target: firewall_logs.hint strings and log prefixes through hint_parse and
 * hint_parse_prefix; whatever parses must survive hint_build and parse back identically. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct hint_fields *a = calloc(2, sizeof(*a));
	char *buf = malloc(HINT_LEN_MAX);
	struct hint_prefix p;

	if (!s || !a || !buf)
		goto out;
	memcpy(s, data, size);
	s[size] = '\0';
	if (hint_parse_prefix(s, &p) == 0 &&
	    (!hint_action_name(p.action) || !p.rule_name[0] ||
	     strnlen(p.zone_from, sizeof(p.zone_from)) == sizeof(p.zone_from)))
		__builtin_trap();
	if (hint_parse(s, &a[0]) != 0)
		goto out;
	if (hint_build(&a[0], buf, HINT_LEN_MAX) != 0)
		__builtin_trap();
	if (hint_parse(buf, &a[1]) != 0 || memcmp(&a[0], &a[1], sizeof(*a)) != 0)
		__builtin_trap();
out:
	free(buf);
	free(a);
	free(s);
	return 0;
}

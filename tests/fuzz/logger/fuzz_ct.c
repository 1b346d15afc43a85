/* Fuzz target: ctnetlink datagrams (events or dump replies) through ct_parse_msgs, which
 * validates each message before libnetfilter_conntrack decodes it; every event must render. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	uint64_t events;
};

static void check(int cond)
{
	if (!cond)
		abort();
}

static void on_event(void *arg, const struct ct_event *e)
{
	struct seen *s = arg;
	char line[CT_FORMAT_MAX];

	s->events++;
	check(e->l3 == 4 || e->l3 == 6);
	check(e->type <= CT_DUMP);
	check(ct_event_format(e, line, sizeof(line)) == 0);
	check(strlen(line) < sizeof(line));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ct_parse_result res;

	/* both modes: event types from the netlink header, or every entry a dump entry */
	for (int dump = 0; dump < 2; dump++) {
		struct seen s = {0};
		check(ct_parse_msgs(data, size, 1, dump, on_event, &s, &res) == 0);
		check(res.events == s.events);
		/* every message is at least a netlink header */
		check((res.events + res.ignored + res.nl_errors) * 16 <= size);
	}
	return 0;
}

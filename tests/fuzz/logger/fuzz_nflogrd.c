/* Fuzz target: nfnetlink_log datagrams through nflogrd_parse_datagram, as the logger's NFLOG
 * reader sees them from the kernel; checks every delivered slice stays inside the input. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nflogrd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct bounds {
	const uint8_t *base;
	size_t size;
	uint64_t packets;
	struct nflogrd_seq seq;
};

static void check(int cond)
{
	if (!cond)
		abort();
}

static void on_packet(void *arg, const struct nflogrd_packet *p)
{
	struct bounds *b = arg;
	const uint8_t *pre = (const uint8_t *)p->prefix;

	b->packets++;
	check(p->prefix != NULL);
	if (*p->prefix) {
		check(pre >= b->base && pre < b->base + b->size);
		size_t n = strlen(p->prefix); /* must find the NUL inside the input */
		check(n < b->size - (size_t)(pre - b->base));
	}
	if (p->l3_len) {
		check(p->l3 >= b->base && p->l3_len <= b->size &&
		      (size_t)(p->l3 - b->base) <= b->size - p->l3_len);
		volatile uint8_t sum = 0;
		for (size_t i = 0; i < p->l3_len; i++)
			sum ^= p->l3[i];
		(void)sum;
	}
	if (p->has_seq)
		(void)nflogrd_seq_account(&b->seq, p->seq, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bounds b = {.base = data, .size = size};
	struct nflogrd_parse_result res;

	nflogrd_seq_init(&b.seq, true);
	check(nflogrd_parse_datagram(data, size, 1, on_packet, &b, &res) == 0);
	check(res.packets == b.packets);
	/* every message is at least a netlink header */
	check((res.packets + res.ignored + res.nl_errors) * 16 <= size);
	return 0;
}

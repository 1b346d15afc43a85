/* Per-flow DPI budget in a bounded flow table (TTL + LRU), one mutex: the NFLOG reader admits,
 * DPI workers mark flows final. */
#include "budget.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/flowtab.h"
#include "entry.h"

struct bflow {
	uint16_t payload_packets;
	uint8_t client_dir;
	bool final;
	bool client_from_syn;
};

struct budget {
	pthread_mutex_t mu;
	struct rdpi_flowtab *t;
	unsigned first;
	uint64_t clock; /* max ts seen: packet times may step back a little */
	struct budget_stats st;
};

int budget_new(const struct budget_opts *opts, struct budget **ret)
{
	struct budget *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->first = opts->first_payload_packets ? opts->first_payload_packets : 10;
	struct rdpi_flowtab_opts to = {.limit = opts->flow_limit ? opts->flow_limit : 100000,
				       .ttl_ns = opts->flow_ttl_ns ? opts->flow_ttl_ns
								   : 3600ull * 1000000000ull,
				       .value_size = sizeof(struct bflow)};
	int rv = rdpi_flowtab_new(&to, &b->t);
	if (rv < 0) {
		free(b);
		return rv;
	}
	pthread_mutex_init(&b->mu, NULL);
	*ret = b;
	return 0;
}

void budget_set_first(struct budget *b, unsigned first_payload_packets)
{
	if (!first_payload_packets)
		return;
	pthread_mutex_lock(&b->mu);
	b->first = first_payload_packets;
	pthread_mutex_unlock(&b->mu);
}

void budget_free(struct budget *b)
{
	if (!b)
		return;
	rdpi_flowtab_free(b->t);
	pthread_mutex_destroy(&b->mu);
	free(b);
}

static bool server_port(uint16_t p)
{
	switch (p) {
	case 1883:
	case 3478:
	case 5349:
	case 5353:
	case 5355:
	case 8080:
	case 8443:
	case 8883:
	case 41641:
		return true;
	default:
		return p > 0 && p < 1024;
	}
}

int budget_client_dir(const struct lentry *e)
{
	int fwd = e->dir, rev = e->dir ^ 1;
	if (e->l4proto == 6 && e->has_tcp_flags && (e->tcp_flags & 0x02))
		return (e->tcp_flags & 0x10) ? rev : fwd;
	if (e->has_ports) {
		bool s = server_port(e->sport), d = server_port(e->dport);
		if (d && !s)
			return fwd;
		if (s && !d)
			return rev;
		if (s && d && e->sport != e->dport)
			return e->dport < e->sport ? fwd : rev;
	}
	return fwd;
}

bool budget_admit(struct budget *b, const struct lentry *e, int *ret_client_dir)
{
	if (!e->has_key) {
		if (ret_client_dir)
			*ret_client_dir = e->dir;
		return false;
	}
	bool cand = false;
	pthread_mutex_lock(&b->mu);
	if (e->ts_ns > b->clock)
		b->clock = e->ts_ns;
	struct bflow *f = NULL;
	bool created = false;
	if (rdpi_flowtab_upsert(b->t, &e->key, b->clock, (void **)&f, &created) < 0) {
		pthread_mutex_unlock(&b->mu);
		if (ret_client_dir)
			*ret_client_dir = budget_client_dir(e);
		return false;
	}
	bool syn = e->l4proto == 6 && e->has_tcp_flags && (e->tcp_flags & 0x02);
	if (created) {
		b->st.flows++;
		f->client_dir = (uint8_t)budget_client_dir(e);
		f->client_from_syn = syn;
	} else if (syn && !f->client_from_syn) {
		/* a SYN seen late (reordered by the DPI queue or a mid-flow start) is still the
		 * best evidence of who opened the connection */
		f->client_dir = (uint8_t)budget_client_dir(e);
		f->client_from_syn = true;
	}
	if (e->payload_len == 0)
		b->st.no_payload++;
	else if (f->final)
		b->st.final_skips++;
	else if (f->payload_packets >= b->first)
		b->st.over_budget++;
	else {
		f->payload_packets++;
		b->st.candidates++;
		cand = true;
	}
	if (ret_client_dir)
		*ret_client_dir = f->client_dir;
	pthread_mutex_unlock(&b->mu);
	return cand;
}

void budget_mark_final(struct budget *b, const struct rdpi_flowkey *k)
{
	pthread_mutex_lock(&b->mu);
	struct bflow *f = rdpi_flowtab_peek(b->t, k);
	if (f)
		f->final = true;
	pthread_mutex_unlock(&b->mu);
}

void budget_expire(struct budget *b, uint64_t now_ns)
{
	pthread_mutex_lock(&b->mu);
	if (now_ns > b->clock)
		b->clock = now_ns;
	rdpi_flowtab_expire(b->t, b->clock, 4096);
	pthread_mutex_unlock(&b->mu);
}

void budget_stats(struct budget *b, struct budget_stats *ret)
{
	pthread_mutex_lock(&b->mu);
	struct rdpi_flowtab_stats ts;
	rdpi_flowtab_stats(b->t, &ts);
	*ret = b->st;
	ret->limit_hits = ts.limit_hits;
	ret->bytes = ts.bytes;
	ret->flows = ts.size;
	pthread_mutex_unlock(&b->mu);
}

/* Which packets are worth classifying (issue 5): per bidirectional flow, only payload packets,
 * only the first N of them in either direction, only while the classifier has not called the
 * flow final. Also decides the flow's client side from the packets in arrival order. */
#ifndef RDPI_SERVICES_LOGGER_BUDGET_H
#define RDPI_SERVICES_LOGGER_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/flowkey.h"

struct lentry;
struct budget;

struct budget_opts {
	unsigned first_payload_packets; /* 0 -> 10 */
	size_t flow_limit;		/* 0 -> 100000 */
	uint64_t flow_ttl_ns;		/* 0 -> 1 h */
};

struct budget_stats {
	uint64_t flows, candidates, over_budget, final_skips, no_payload, limit_hits;
	size_t bytes;
};

int budget_new(const struct budget_opts *opts, struct budget **ret);
void budget_free(struct budget *b);

/* Accounts e (its ts_ns is the clock) and returns whether it is a DPI candidate; the flow's
 * client side goes to *ret_client_dir (RDPI_FLOWKEY_DIR_* of client->server packets; may be
 * NULL). Entries without a key are never candidates. Thread-safe. */
bool budget_admit(struct budget *b, const struct lentry *e, int *ret_client_dir);

/* The classifier said the flow is final: no more candidates from it. Thread-safe. */
void budget_mark_final(struct budget *b, const struct rdpi_flowkey *k);

/* Drops idle flows (bounded work). now_ns 0 uses the newest packet time seen (offline input,
 * where wall time means nothing). Thread-safe. */
void budget_expire(struct budget *b, uint64_t now_ns);

void budget_stats(struct budget *b, struct budget_stats *ret);

/* Live reload: payload packets per flow from now on (0 keeps the value). Thread-safe. */
void budget_set_first(struct budget *b, unsigned first_payload_packets);

/* Client side guess for a flow whose first packet is e: TCP SYN (no ACK) -> sender, SYN+ACK ->
 * receiver; else the endpoint on a well-known/server port is the server; else the sender. */
int budget_client_dir(const struct lentry *e);

#endif

/* The agent's flow engine: one bounded, bidirectional flow table whose
 * entries hold nDPI state while a flow is inspected and a compact verdict once
 * it is final. Thread-safe (one mutex around the table and every nDPI call). */
#ifndef RDPI_AGENT_FLOWS_H
#define RDPI_AGENT_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/synth.h"
#include "ndpi_adapter.h"

struct flows;
struct rdpi_flowkey;

struct flows_opts {
	size_t limit;		 /* flows kept, >= 1 */
	uint64_t ttl_ns;	 /* idle expiry on the caller's clock, > 0 */
	uint32_t budget_tcp;	 /* payload packets inspected per TCP flow, >= 1 */
	uint32_t budget_udp;	 /* ... per UDP or other flow */
	size_t verdict_meta_max; /* metadata bytes kept with a final verdict */
};

enum flows_state {
	FLOWS_STATE_NONE,	/* no flow (bad input, unavailable backend) */
	FLOWS_STATE_NEW,	/* seen, no payload yet: no nDPI state */
	FLOWS_STATE_INSPECTING, /* nDPI state allocated */
	FLOWS_STATE_FINAL,	/* verdict kept, nDPI state freed */
};

enum flows_reason {
	FLOWS_REASON_UNAVAILABLE,
	FLOWS_REASON_DETECTED,
	FLOWS_REASON_INSPECTING,
	FLOWS_REASON_NO_PAYLOAD,
	FLOWS_REASON_LIMIT,
	FLOWS_REASON_TUPLE,
	FLOWS_REASON_BAD_PACKET,
	FLOWS_REASON_BACKEND_ERROR,
	FLOWS_REASON_COUNT,
};

/* "flow_packet_limit_reached", ... */
const char *flows_reason_name(enum flows_reason r);

/* One answer, copied out of the table (caller storage, ~1.5 KiB). */
struct flows_result {
	uint8_t state;	/* enum flows_state */
	uint8_t reason; /* enum flows_reason */
	bool detected;	/* nDPI named an application protocol */
	bool guessed;	/* give-up answer by port/IP, not DPI */
	bool cached;	/* served from a final verdict without nDPI */
	struct ndpi_adapter_proto proto;
	uint64_t risk;
	uint16_t risk_score;
	uint8_t host_kind; /* enum ndpi_adapter_host_kind */
	char host[81];
	const char *meta[NDPI_ADAPTER_META_COUNT]; /* into buf, NULL when absent */
	char buf[1024];
	/* the packet's tuple */
	uint8_t l3, l4proto;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	char flow_id[33];
};

struct flows_stats {
	uint64_t observed, backend, classified, unknown, skipped, errors;
	uint64_t active, inspecting, final, guessed_final;
	uint64_t giveups, detections, ndpi_allocs, ndpi_frees, ndpi_alloc_failures;
	uint64_t evictions, expiries, limit_hits, resets;
	uint64_t table_bytes;	    /* whole table, bucket array included */
	uint64_t table_fixed_bytes; /* the empty table (bucket array): not per flow */
	uint64_t verdict_bytes, ndpi_bytes, ndpi_flow_bytes;
};

/* ad may be NULL: the engine then answers FLOWS_REASON_UNAVAILABLE without a
 * table. The adapter must outlive the engine. -EINVAL, -ENOMEM. */
int flows_new(const struct flows_opts *opts, struct ndpi_adapter *ad, struct flows **ret);
void flows_free(struct flows *fl); /* NULL ok */

/* New budgets apply at once; a new limit or ttl rebuilds the table (flows
 * are dropped). -ENOMEM keeps the old table. */
int flows_configure(struct flows *fl, const struct flows_opts *opts);

/* Observe one L3 packet (IP header first). ts_ns is the capture time that
 * drives nDPI (0: use now_ns); now_ns is the table's clock. Always fills
 * *ret; returns 0, or -EINVAL for an unparsable packet (ret->reason says). */
int flows_observe_packet(struct flows *fl, const uint8_t *l3, size_t len, uint64_t ts_ns,
			 uint64_t now_ns, struct flows_result *ret);

/* Same for a tuple + L4 payload: the packet is synthesized (right family, TCP
 * sequence numbers continued per direction). t NULL: the request had no
 * usable tuple (counted as skipped, reason flow_tuple_unavailable). */
int flows_observe_payload(struct flows *fl, const struct rdpi_synth_tuple *t,
			  const uint8_t *payload, size_t plen, uint64_t ts_ns, uint64_t now_ns,
			  struct flows_result *ret);

/* Forget one flow by key or by 32-hex flow id. -ENOENT when absent. The id
 * form walks the table (admin use, not per packet). */
int flows_reset_key(struct flows *fl, const struct rdpi_flowkey *k);
int flows_reset_id(struct flows *fl, const char *flow_id, struct rdpi_flowkey *ret_key);

/* Drop idle flows (at most max_work); returns how many. For a periodic tick. */
size_t flows_expire(struct flows *fl, uint64_t now_ns, size_t max_work);

/* Give up on every flow still inspecting (end of a capture), then call fn for
 * every flow with its final answer. */
typedef void (*flows_each_fn)(void *arg, const struct rdpi_flowkey *k,
			      const struct flows_result *r);
void flows_finish_all(struct flows *fl, uint64_t ts_ns, flows_each_fn fn, void *arg);

void flows_stats(struct flows *fl, struct flows_stats *ret);

/* Bytes of one flow entry in the table (entry header + value). */
size_t flows_entry_bytes(void);

#endif

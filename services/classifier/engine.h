/* The classifier's engine: per-packet policy (copyRange, firstPayloadPackets),
 * the bidirectional verdict cache, the builtin parsers, the agent (auto /
 * ndpi-agent), dns-cache / sni-cache and the "only improves" merge. */
#ifndef RDPI_CLASSIFIER_ENGINE_H
#define RDPI_CLASSIFIER_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostcache.h"
#include "routerd/dpi/v1/common.pb-c.h"
#include "verdict.h"

struct agentlink;
struct engine;

enum engine_kind { ENGINE_BUILTIN, ENGINE_AUTO, ENGINE_NDPI_AGENT };

/* "builtin" | "auto" | "ndpi-agent" (trimmed, case-insensitive); -EINVAL otherwise. */
int engine_kind_parse(const char *s, enum engine_kind *ret);
const char *engine_kind_name(enum engine_kind k);

struct engine_opts {
	enum engine_kind kind;
	unsigned first_payload_packets; /* payload packets per flow worth inspecting, default 10 */
	uint32_t copy_range;		/* bytes of each packet considered, default 2048 */
	uint64_t flow_ttl_ns;		/* default 1 h */
	size_t flow_limit;		/* default 100000 */
	struct agentlink *agent;	/* NULL for builtin; owned by the caller */
	struct hostcache_opts hostcache;
};

/* One classified packet. */
struct engine_item {
	struct verdict v;
	char l3[8];  /* "ipv4" / "ipv6" */
	char l4[12]; /* "tcp" / "udp" / "icmp" / "proto-N" */
	char src[48], dst[48];
	uint16_t sport, dport;
	char flow_id[33];
	char fallback_reason[200];
	bool cache_hit;
	bool used_agent; /* the agent's answer is part of the verdict */
	bool invalid;	 /* the request could not be parsed; error in fallback_reason */
};

struct engine_stats {
	uint64_t requests, batches, builtin_packets, agent_packets, agent_classified,
	    builtin_classified, fallbacks, unknown, timeout_errors, agent_errors, cache_hits,
	    invalid, budget_final, active_flows, flow_evictions, flow_expiries, flow_bytes;
	uint64_t by_source[VERDICT_SOURCE__COUNT];
	struct hostcache_stats hostcache;
};

int engine_new(const struct engine_opts *opts, struct engine **ret);
void engine_free(struct engine *e);

/* Classify n requests (one ObserveBatch to the agent for those that need it).
 * items[i] answers reqs[i]. timeout_ms bounds the agent call. Thread-safe. */
void engine_classify(struct engine *e, Routerd__Dpi__V1__ClassifyRequest *const *reqs, size_t n,
		     uint32_t timeout_ms, struct engine_item *items);

/* Live reload: per-packet policy for the next packets (existing flows keep their
 * verdicts; a flow past the new budget is finished at its next packet). 0 keeps a value. */
void engine_set_policy(struct engine *e, unsigned first_payload_packets, uint32_t copy_range);

void engine_stats(struct engine *e, struct engine_stats *ret);
/* Drop idle flows (bounded work); call from a timer. */
void engine_expire(struct engine *e, uint64_t now_ns);

#endif

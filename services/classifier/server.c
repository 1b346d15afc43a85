/* The classifier's RPC methods over the engine (see server.h). */
#include "server.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentlink.h"
#include "common/counters.h"
#include "latency.h"
#include "result.h"
#include "routerd/dpi/v1/classifier.pb-c.h"

#define NOTE_NDPI_READER "deprecated; ndpiReader is not used for classification"

struct server {
	struct server_info info;
	char *name, *agent_socket, *ndpi_reader;
	struct engine *engine;
	struct agentlink *agent;
	_Atomic uint32_t timeout_ms;
	struct latency lat;
	struct metric_ref {
		struct engine *engine;
		size_t off;
	} metric_refs[24], source_refs[VERDICT_SOURCE__COUNT];
	struct latency_ref {
		struct server *s;
		size_t which;
	} latency_refs[3];
};

int server_new(const struct server_info *info, struct engine *engine, struct agentlink *agent,
	       struct server **ret)
{
	struct server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->info = *info;
	s->name = strdup(info->name ? info->name : "default");
	s->agent_socket = strdup(info->agent_socket ? info->agent_socket : "");
	s->ndpi_reader = strdup(info->ndpi_reader ? info->ndpi_reader : "");
	if (!s->name || !s->agent_socket || !s->ndpi_reader) {
		server_free(s);
		return -ENOMEM;
	}
	s->engine = engine;
	s->agent = agent;
	atomic_init(&s->timeout_ms, info->timeout_ms ? info->timeout_ms : 200);
	latency_init(&s->lat);
	*ret = s;
	return 0;
}

void server_free(struct server *s)
{
	if (!s)
		return;
	latency_fini(&s->lat);
	free(s->name);
	free(s->agent_socket);
	free(s->ndpi_reader);
	free(s);
}

void server_set_timeout(struct server *s, uint32_t timeout_ms)
{
	atomic_store(&s->timeout_ms, timeout_ms);
}

static uint32_t budget(struct server *s, struct rdpi_call *call)
{
	uint32_t t = atomic_load(&s->timeout_ms), rem = rdpi_call_remaining_ms(call);
	return rem && rem < t ? rem : t;
}

static enum rdpi_status h_classify(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				   ProtobufCMessage *reply)
{
	struct server *s = arg;
	uint64_t t0 = rdpi_monotonic_ns();
	Routerd__Dpi__V1__ClassifyRequest *r = (void *)req;
	struct engine_item it;
	engine_classify(s->engine, &r, 1, budget(s, call), &it);
	latency_add(&s->lat, rdpi_monotonic_ns() - t0);
	if (it.invalid) {
		rdpi_call_set_error(call, "%s", it.fallback_reason);
		return RDPI_STATUS_INVALID_ARGUMENT;
	}
	if (result_fill(call, &it, (void *)reply) < 0)
		return RDPI_STATUS_INTERNAL;
	return RDPI_STATUS_OK;
}

static enum rdpi_status h_batch(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				ProtobufCMessage *reply)
{
	struct server *s = arg;
	uint64_t t0 = rdpi_monotonic_ns();
	const Routerd__Dpi__V1__ClassifyBatchRequest *b = (const void *)req;
	Routerd__Dpi__V1__ClassifyBatchReply *rep = (void *)reply;
	size_t n = b->n_requests;
	struct engine_item *items = calloc(n ? n : 1, sizeof(*items));
	rep->results = rdpi_call_alloc(call, (n ? n : 1) * sizeof(*rep->results));
	Routerd__Dpi__V1__ClassifyResult *res = rdpi_call_alloc(call, (n ? n : 1) * sizeof(*res));
	if (!items || !rep->results || !res) {
		free(items);
		return RDPI_STATUS_INTERNAL;
	}
	engine_classify(s->engine, b->requests, n, budget(s, call), items);
	for (size_t i = 0; i < n; i++) {
		routerd__dpi__v1__classify_result__init(&res[i]);
		/* a bad packet in a batch gets an unknown result with the reason,
		 * the rest of the batch is answered normally */
		if (result_fill(call, &items[i], &res[i]) < 0) {
			free(items);
			return RDPI_STATUS_INTERNAL;
		}
		rep->results[i] = &res[i];
	}
	rep->n_results = n;
	free(items);
	latency_add(&s->lat, rdpi_monotonic_ns() - t0);
	return RDPI_STATUS_OK;
}

static bool agent_wanted(const struct server *s)
{
	return s->info.kind != ENGINE_BUILTIN && s->agent;
}

static enum rdpi_status h_status(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				 ProtobufCMessage *reply)
{
	struct server *s = arg;
	Routerd__Dpi__V1__ClassifierStatus *st = (void *)reply;
	struct engine_stats es;
	struct latency_summary ls;
	struct agentlink_state as = {0};
	engine_stats(s->engine, &es);
	latency_summary(&s->lat, &ls);
	if (agent_wanted(s))
		agentlink_state(s->agent, &as);
	bool agent_up =
	    agent_wanted(s) && as.available && as.libndpi_loaded && as.breaker != AGENTLINK_OPEN;

	st->ok = s->info.kind == ENGINE_NDPI_AGENT ? agent_up : 1;
	st->name = s->name;
	st->version = RDPI_VERSION;
	st->engine = (char *)engine_kind_name(s->info.kind);
	st->activeengine = agent_up ? "ndpi-agent" : "builtin";
	st->mode = s->info.kind == ENGINE_BUILTIN ? "builtin"
		   : agent_up			  ? "ndpi-agent-with-builtin-fallback"
						  : "builtin-fallback";

	Routerd__Dpi__V1__ClassifierAgent *ag = rdpi_call_alloc(call, sizeof(*ag));
	Routerd__Dpi__V1__ClassifierStats *sx = rdpi_call_alloc(call, sizeof(*sx));
	Routerd__Dpi__V1__Resources *rs = rdpi_call_alloc(call, sizeof(*rs));
	if (!ag || !sx || !rs)
		return RDPI_STATUS_INTERNAL;
	routerd__dpi__v1__classifier_agent__init(ag);
	routerd__dpi__v1__classifier_stats__init(sx);
	routerd__dpi__v1__resources__init(rs);
	ag->socket = s->agent_socket;
	ag->available = agent_wanted(s) && as.available;
	/* only what a reachable agent said: while it is down (breaker open, no probes) the last
	 * answer would claim a libndpi nobody can use */
	ag->libndpiloaded = ag->available && as.libndpi_loaded;
	if (s->info.kind == ENGINE_BUILTIN)
		ag->error = "agent not used by the builtin engine";
	else if (as.error[0])
		ag->error = rdpi_call_strdup(call, as.error);
	static const char *const breaker_names[] = {"closed", "open", "half-open"};
	ag->breaker = agent_wanted(s) ? (char *)breaker_names[as.breaker] : "";
	ag->breakeropens = as.breaker_opens;
	st->agent = ag;

	sx->requests = es.requests;
	sx->builtinpackets = es.builtin_packets;
	sx->agentpackets = es.agent_packets;
	sx->agentclassified = es.agent_classified;
	sx->builtinclassified = es.builtin_classified;
	sx->fallbacks = es.fallbacks;
	sx->unknown = es.unknown;
	sx->timeouterrors = es.timeout_errors;
	sx->agenterrors = es.agent_errors;
	sx->latencysamples = ls.samples;
	sx->averagelatencyms = ls.avg_ms;
	sx->maxlatencyms = ls.max_ms;
	sx->p50latencyms = ls.p50_ms;
	sx->p99latencyms = ls.p99_ms;
	sx->cachehits = es.cache_hits;
	sx->batches = es.batches;
	sx->averagebatchsize = es.batches ? (double)es.requests / (double)es.batches : 0;
	static const enum verdict_source shown[] = {
	    VERDICT_SOURCE_NDPI,      VERDICT_SOURCE_BUILTIN_PAYLOAD, VERDICT_SOURCE_DNS_CACHE,
	    VERDICT_SOURCE_SNI_CACHE, VERDICT_SOURCE_PORT_FALLBACK,   VERDICT_SOURCE_UNKNOWN,
	};
	size_t ns = sizeof(shown) / sizeof(shown[0]);
	sx->bysource = rdpi_call_alloc(call, ns * sizeof(*sx->bysource));
	if (!sx->bysource)
		return RDPI_STATUS_INTERNAL;
	for (size_t i = 0; i < ns; i++) {
		Routerd__Dpi__V1__ClassifierStats__BySourceEntry *e =
		    rdpi_call_alloc(call, sizeof(*e));
		if (!e)
			return RDPI_STATUS_INTERNAL;
		routerd__dpi__v1__classifier_stats__by_source_entry__init(e);
		e->key = (char *)verdict_source_name(shown[i]);
		e->value = es.by_source[shown[i]];
		/* ndpi-agent counts both DPI and guesses; unknown counts "builtin" too */
		if (shown[i] == VERDICT_SOURCE_NDPI)
			e->value += es.by_source[VERDICT_SOURCE_NDPI_GUESS];
		if (shown[i] == VERDICT_SOURCE_UNKNOWN)
			e->value += es.by_source[VERDICT_SOURCE_BUILTIN];
		sx->bysource[sx->n_bysource++] = e;
	}
	st->stats = sx;
	if (s->ndpi_reader[0]) {
		st->ndpitool = s->ndpi_reader;
		st->ndpitoolnote = NOTE_NDPI_READER;
	}
	rs->rssbytes = rdpi_process_rss_bytes();
	rs->flowtablebytes = es.flow_bytes;
	rs->activeflows = es.active_flows;
	rs->perflowbytes = es.active_flows ? es.flow_bytes / es.active_flows : 0;
	st->resources = rs;
	return RDPI_STATUS_OK;
}

static enum rdpi_status h_healthz(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				  ProtobufCMessage *reply)
{
	struct server *s = arg;
	Routerd__Dpi__V1__HealthzReply *h = (void *)reply;
	h->name = s->name;
	h->ok = 1;
	h->status = "ok";
	if (s->info.kind == ENGINE_NDPI_AGENT) {
		struct agentlink_state as;
		agentlink_state(s->agent, &as);
		if (!as.available || !as.libndpi_loaded || as.breaker == AGENTLINK_OPEN) {
			h->ok = 0;
			h->status = rdpi_call_printf(call, "degraded: ndpi-agent unavailable%s%s",
						     as.error[0] ? ": " : "", as.error);
		}
	}
	return RDPI_STATUS_OK;
}

static const rdpi_method_fn handlers[] = {h_classify, h_batch, h_status, h_healthz};

const rdpi_method_fn *server_handlers(void)
{
	return handlers;
}

/* /metrics: engine counters by offset into struct engine_stats. */
static const struct {
	const char *name;
	enum rdpi_counter_kind kind;
	const char *help;
	size_t off;
} metric_table[] = {
    {"requests_total", RDPI_COUNTER, "packets classified", offsetof(struct engine_stats, requests)},
    {"batches_total", RDPI_COUNTER, "classify calls (batches)",
     offsetof(struct engine_stats, batches)},
    {"builtin_packets_total", RDPI_COUNTER, "packets run through the builtin parsers",
     offsetof(struct engine_stats, builtin_packets)},
    {"builtin_classified_total", RDPI_COUNTER, "packets with builtin payload evidence",
     offsetof(struct engine_stats, builtin_classified)},
    {"agent_packets_total", RDPI_COUNTER, "packets sent to the agent",
     offsetof(struct engine_stats, agent_packets)},
    {"agent_classified_total", RDPI_COUNTER, "packets the agent classified",
     offsetof(struct engine_stats, agent_classified)},
    {"agent_errors_total", RDPI_COUNTER, "failed agent calls",
     offsetof(struct engine_stats, agent_errors)},
    {"agent_timeouts_total", RDPI_COUNTER, "agent calls past their deadline",
     offsetof(struct engine_stats, timeout_errors)},
    {"fallbacks_total", RDPI_COUNTER, "packets answered without the agent",
     offsetof(struct engine_stats, fallbacks)},
    {"cache_hits_total", RDPI_COUNTER, "packets answered from the verdict cache",
     offsetof(struct engine_stats, cache_hits)},
    {"invalid_requests_total", RDPI_COUNTER, "requests that could not be parsed",
     offsetof(struct engine_stats, invalid)},
    {"unknown_total", RDPI_COUNTER, "results without an application",
     offsetof(struct engine_stats, unknown)},
    {"active_flows", RDPI_GAUGE, "flows in the verdict cache",
     offsetof(struct engine_stats, active_flows)},
    {"flow_evictions_total", RDPI_COUNTER, "flows evicted at flowLimit",
     offsetof(struct engine_stats, flow_evictions)},
    {"flow_expiries_total", RDPI_COUNTER, "flows expired after flowTTL",
     offsetof(struct engine_stats, flow_expiries)},
    {"flow_table_bytes", RDPI_GAUGE, "bytes held by the verdict cache",
     offsetof(struct engine_stats, flow_bytes)},
    {"dns_cache_entries", RDPI_GAUGE, "names in the dns-cache",
     offsetof(struct engine_stats, hostcache.dns_entries)},
    {"dns_cache_hits_total", RDPI_COUNTER, "dns-cache lookups that found a name",
     offsetof(struct engine_stats, hostcache.dns_hits)},
    {"dns_cache_evictions_total", RDPI_COUNTER, "dns-cache entries evicted at the limit",
     offsetof(struct engine_stats, hostcache.dns_evictions)},
    {"sni_cache_entries", RDPI_GAUGE, "servers in the sni-cache",
     offsetof(struct engine_stats, hostcache.sni_entries)},
    {"sni_cache_hits_total", RDPI_COUNTER, "sni-cache lookups that found a name",
     offsetof(struct engine_stats, hostcache.sni_hits)},
    {"sni_cache_evictions_total", RDPI_COUNTER, "sni-cache entries evicted at the limit",
     offsetof(struct engine_stats, hostcache.sni_evictions)},
};

#define N_METRICS (sizeof(metric_table) / sizeof(metric_table[0]))

_Static_assert(N_METRICS <= sizeof(((struct server *)0)->metric_refs) /
				sizeof(((struct server *)0)->metric_refs[0]),
	       "metric_refs too small");

static uint64_t metric_value(void *arg)
{
	struct metric_ref *r = arg;
	struct engine_stats es;
	engine_stats(r->engine, &es);
	return *(const uint64_t *)((const char *)&es + r->off);
}

static uint64_t source_value(void *arg)
{
	struct metric_ref *r = arg;
	struct engine_stats es;
	engine_stats(r->engine, &es);
	return es.by_source[r->off];
}

static uint64_t latency_value(void *arg)
{
	struct latency_ref *r = arg;
	struct latency_summary ls;
	latency_summary(&r->s->lat, &ls);
	double ms = r->which == 0 ? ls.p50_ms : r->which == 1 ? ls.p99_ms : ls.max_ms;
	return (uint64_t)(ms * 1000.0);
}

static uint64_t breaker_opens_value(void *arg)
{
	struct server *s = arg;
	struct agentlink_state as;
	agentlink_peek(s->agent, &as);
	return as.breaker_opens;
}

static uint64_t breaker_open_value(void *arg)
{
	struct server *s = arg;
	struct agentlink_state as;
	agentlink_peek(s->agent, &as);
	return as.breaker == AGENTLINK_OPEN;
}

int server_register_metrics(struct server *s, struct rdpi_counters *reg)
{
	int rv = 0;
	for (size_t i = 0; i < N_METRICS && rv == 0; i++) {
		s->metric_refs[i] = (struct metric_ref){s->engine, metric_table[i].off};
		rv = rdpi_counters_register_fn(reg, metric_table[i].name, NULL,
					       metric_table[i].kind, metric_table[i].help,
					       metric_value, &s->metric_refs[i]);
	}
	struct metric_ref *src = s->source_refs;
	for (int i = 0; i < VERDICT_SOURCE__COUNT && rv == 0; i++) {
		char label[64];
		snprintf(label, sizeof(label), "source=\"%s%s\"", verdict_source_name(i),
			 i == VERDICT_SOURCE_NDPI_GUESS ? "-guess" : "");
		src[i] = (struct metric_ref){s->engine, (size_t)i};
		rv = rdpi_counters_register_fn(reg, "results_total", label, RDPI_COUNTER,
					       "results by source", source_value, &src[i]);
	}
	static const struct {
		const char *name;
		const char *help;
	} lat[] = {
	    {"latency_p50_microseconds", "median classify call latency"},
	    {"latency_p99_microseconds", "99th percentile classify call latency"},
	    {"latency_max_microseconds", "slowest classify call"},
	};
	for (size_t i = 0; i < 3 && rv == 0; i++) {
		s->latency_refs[i] = (struct latency_ref){s, i};
		rv = rdpi_counters_register_fn(reg, lat[i].name, NULL, RDPI_GAUGE, lat[i].help,
					       latency_value, &s->latency_refs[i]);
	}
	if (rv == 0 && s->agent)
		rv = rdpi_counters_register_fn(reg, "agent_breaker_opens_total", NULL, RDPI_COUNTER,
					       "times the agent circuit breaker opened",
					       breaker_opens_value, s);
	if (rv == 0 && s->agent)
		rv = rdpi_counters_register_fn(reg, "agent_breaker_open", NULL, RDPI_GAUGE,
					       "1 while the agent circuit breaker is open",
					       breaker_open_value, s);
	if (rv == 0)
		rv = rdpi_counters_register_process(reg);
	return rv;
}

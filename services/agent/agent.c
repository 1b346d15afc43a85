/* Agent RPC handlers over the flow engine: request decoding (full packet or
 * tuple + payload), per-request deadlines, status with legacy keys plus
 * resource usage, healthz, reset-flow and /metrics gauges. */
#include "agent.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agentcfg.h"
#include "common/counters.h"
#include "common/duration.h"
#include "common/flowkey.h"
#include "common/log.h"
#include "common/packet.h"
#include "common/service.h"
#include "common/wire.h"
#include "flows.h"
#include "ndpi_adapter.h"

#define EXPIRE_WORK 4096

enum gauge {
	G_ACTIVE,
	G_INSPECTING,
	G_FINAL,
	G_GUESSED,
	G_OBSERVED,
	G_BACKEND,
	G_CLASSIFIED,
	G_UNKNOWN,
	G_SKIPPED,
	G_ERRORS,
	G_GIVEUPS,
	G_DETECTIONS,
	G_EVICTIONS,
	G_EXPIRIES,
	G_LIMIT_HITS,
	G_RESETS,
	G_NDPI_ALLOCS,
	G_NDPI_FREES,
	G_NDPI_ALLOC_FAILURES,
	G_NDPI_BYTES,
	G_NDPI_FLOW_BYTES,
	G_NDPI_BYTES_PER_FLOW,
	G_TABLE_BYTES,
	G_VERDICT_BYTES,
	G_COUNT,
};

struct gauge_arg {
	struct agent *a;
	enum gauge g;
};

struct agent {
	char name[64];
	int64_t flow_ttl_ns, flow_limit, first_payload_packets;
	uint32_t timeout_ms;
	unsigned workers;
	struct ndpi_adapter *ad; /* NULL when unavailable */
	const char *reason;	 /* "" when the backend works */
	struct flows *fl;
	struct rdpi_counter batches, batch_packets, rejected_batches, deadline_hits, bad_requests;
	struct gauge_arg gauge_args[G_COUNT];
};

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void flows_opts_from(const struct agentcfg *c, struct flows_opts *o)
{
	int64_t fp = c->first_payload_packets;
	*o = (struct flows_opts){
	    .limit = (size_t)c->flow_limit,
	    .ttl_ns = (uint64_t)c->flow_ttl_ns,
	    .budget_tcp = (uint32_t)(c->tcp_payload_packets > 0 ? c->tcp_payload_packets : fp),
	    .budget_udp = (uint32_t)(c->udp_payload_packets > 0 ? c->udp_payload_packets : fp),
	    .verdict_meta_max = (size_t)c->verdict_meta_bytes,
	};
}

static void settings_from(struct agent *a, const struct agentcfg *c)
{
	snprintf(a->name, sizeof(a->name), "%s", c->name ? c->name : "default");
	a->flow_ttl_ns = c->flow_ttl_ns;
	a->flow_limit = c->flow_limit;
	a->first_payload_packets = c->first_payload_packets;
	a->timeout_ms = (uint32_t)(c->timeout_ns / 1000000);
	a->workers = (unsigned)(c->workers > 0 ? c->workers : 2);
}

int agent_new(const struct agentcfg *cfg, struct agent **ret)
{
	struct agent *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	settings_from(a, cfg);
	a->reason = "";
	if (!ndpi_adapter_built()) {
		a->reason = AGENT_REASON_NOT_BUILT;
	} else if (ndpi_adapter_new(&a->ad) < 0) {
		a->ad = NULL;
		a->reason = AGENT_REASON_INIT_FAILED;
	}
	struct flows_opts fo;
	flows_opts_from(cfg, &fo);
	int rc = flows_new(&fo, a->ad, &a->fl);
	if (rc < 0) {
		ndpi_adapter_free(a->ad);
		free(a);
		return rc;
	}
	*ret = a;
	return 0;
}

void agent_free(struct agent *a)
{
	if (!a)
		return;
	flows_free(a->fl);
	ndpi_adapter_free(a->ad);
	free(a);
}

int agent_configure(struct agent *a, const struct agentcfg *cfg)
{
	struct flows_opts fo;
	flows_opts_from(cfg, &fo);
	int rc = flows_configure(a->fl, &fo);
	if (rc == 0)
		settings_from(a, cfg);
	return rc;
}

int agent_backend_ok(const struct agent *a)
{
	return a->ad != NULL;
}

void agent_tick(struct agent *a)
{
	flows_expire(a->fl, rdpi_monotonic_ns(), EXPIRE_WORK);
}

/* ---- observe ------------------------------------------------------------- */

static int parse_l4(const char *s, uint8_t *ret)
{
	static const struct {
		const char *name;
		uint8_t proto;
	} names[] = {
	    {"tcp", IPPROTO_TCP},	{"udp", IPPROTO_UDP},	       {"icmp", IPPROTO_ICMP},
	    {"icmpv6", IPPROTO_ICMPV6}, {"ipv6-icmp", IPPROTO_ICMPV6}, {"igmp", IPPROTO_IGMP},
	    {"sctp", IPPROTO_SCTP},	{"gre", IPPROTO_GRE},	       {"esp", IPPROTO_ESP}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*ret = names[i].proto;
			return 0;
		}
	}
	char *end;
	long v = strtol(s, &end, 10);
	if (*s && !*end && v >= 0 && v <= 255) {
		*ret = (uint8_t)v;
		return 0;
	}
	return -EINVAL;
}

/* Tuple of a legacy request: both addresses of one family, a protocol. */
static int req_tuple(const char *l3proto, const char *l4, const char *src, uint32_t sport,
		     const char *dst, uint32_t dport, struct rdpi_synth_tuple *t)
{
	int f1, f2;
	memset(t, 0, sizeof(*t));
	if (!src || !*src || !dst || !*dst || !l4 || !*l4)
		return -EINVAL;
	if (rdpi_addr_parse(src, t->src, &f1) < 0 || rdpi_addr_parse(dst, t->dst, &f2) < 0 ||
	    f1 != f2 || parse_l4(l4, &t->l4proto) < 0 || sport > 65535 || dport > 65535)
		return -EINVAL;
	if (l3proto && *l3proto) {
		int want = strstr(l3proto, "6") ? 6 : strstr(l3proto, "4") ? 4 : 0;
		if (want && want != f1)
			return -EINVAL;
	}
	t->l3 = (uint8_t)f1;
	t->sport = (uint16_t)sport;
	t->dport = (uint16_t)dport;
	return 0;
}

int agent_observe(struct agent *a, const Routerd__Dpi__V1__ClassifyRequest *rq,
		  result_alloc_fn alloc_fn, void *arg, Routerd__Dpi__V1__ClassifyResult *out)
{
	struct flows_result res, *r = &res;
	uint64_t now = rdpi_monotonic_ns();
	uint64_t ts = rq->timestampns ? rq->timestampns : realtime_ns();
	if (rq->packet.len > 0) {
		flows_observe_packet(a->fl, rq->packet.data, rq->packet.len, ts, now, r);
	} else {
		const ProtobufCBinaryData *pl = rq->l4payload.len ? &rq->l4payload : &rq->payload;
		struct rdpi_synth_tuple t;
		int ok = req_tuple(rq->l3proto, rq->transportprotocol, rq->srcaddress, rq->srcport,
				   rq->dstaddress, rq->dstport, &t) == 0;
		flows_observe_payload(a->fl, ok ? &t : NULL, pl->data, pl->len, ts, now, r);
	}
	return result_fill(a->ad, r, alloc_fn, arg, out);
}

static void *call_alloc(void *arg, size_t size)
{
	return rdpi_call_alloc(arg, size);
}

static enum rdpi_status h_observe(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				  ProtobufCMessage *reply)
{
	struct agent *a = arg;
	if (agent_observe(a, (const void *)req, call_alloc, call, (void *)reply) < 0) {
		rdpi_call_set_error(call, "out of memory");
		return RDPI_STATUS_INTERNAL;
	}
	return RDPI_STATUS_OK;
}

static enum rdpi_status h_batch(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				ProtobufCMessage *reply)
{
	struct agent *a = arg;
	const Routerd__Dpi__V1__ObserveBatchRequest *rq = (const void *)req;
	Routerd__Dpi__V1__ObserveBatchReply *rp = (void *)reply;
	if (rq->n_requests > AGENT_MAX_BATCH) {
		rdpi_counter_inc(&a->rejected_batches);
		rdpi_call_set_error(call, "batch of %zu packets exceeds the limit of %d",
				    rq->n_requests, AGENT_MAX_BATCH);
		return RDPI_STATUS_RESOURCE_EXHAUSTED;
	}
	rdpi_counter_inc(&a->batches);
	rdpi_counter_add(&a->batch_packets, rq->n_requests);
	if (!rq->n_requests)
		return RDPI_STATUS_OK;
	rp->results = rdpi_call_alloc(call, rq->n_requests * sizeof(*rp->results));
	if (!rp->results)
		goto oom;
	uint64_t deadline = rdpi_call_deadline_ns(call);
	for (size_t i = 0; i < rq->n_requests; i++) {
		/* the caller's budget is per request: stop rather than answer late */
		if (deadline && rdpi_monotonic_ns() > deadline) {
			rdpi_counter_inc(&a->deadline_hits);
			rdpi_call_set_error(call, "deadline exceeded after %zu of %zu packets", i,
					    rq->n_requests);
			return RDPI_STATUS_DEADLINE_EXCEEDED;
		}
		Routerd__Dpi__V1__ClassifyResult *res = rdpi_call_alloc(call, sizeof(*res));
		if (!res)
			goto oom;
		routerd__dpi__v1__classify_result__init(res);
		if (agent_observe(a, rq->requests[i], call_alloc, call, res) < 0)
			goto oom;
		rp->results[rp->n_results++] = res;
	}
	return RDPI_STATUS_OK;
oom:
	rdpi_call_set_error(call, "out of memory");
	return RDPI_STATUS_INTERNAL;
}

static int is_hex32(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return n == 32;
}

static enum rdpi_status h_reset(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				ProtobufCMessage *reply)
{
	struct agent *a = arg;
	const Routerd__Dpi__V1__ResetFlowRequest *rq = (const void *)req;
	Routerd__Dpi__V1__ResetFlowReply *rp = (void *)reply;
	struct rdpi_flowkey k;
	char hex[33];
	int rc;
	if (rq->flowid && *rq->flowid) {
		if (!is_hex32(rq->flowid)) {
			rdpi_counter_inc(&a->bad_requests);
			rdpi_call_set_error(call, "flowId must be 32 lowercase hex digits");
			return RDPI_STATUS_INVALID_ARGUMENT;
		}
		rc = flows_reset_id(a->fl, rq->flowid, &k);
		snprintf(hex, sizeof(hex), "%s", rq->flowid);
	} else {
		struct rdpi_synth_tuple t;
		if (req_tuple(rq->l3proto, rq->transportprotocol, rq->srcaddress, rq->srcport,
			      rq->dstaddress, rq->dstport, &t) < 0) {
			rdpi_counter_inc(&a->bad_requests);
			rdpi_call_set_error(call, "reset-flow needs flowId or transportProtocol, "
						  "srcAddress, srcPort, dstAddress, dstPort");
			return RDPI_STATUS_INVALID_ARGUMENT;
		}
		rdpi_flowkey_make(t.l3, t.l4proto, t.src, t.sport, t.dst, t.dport, &k, NULL);
		rdpi_flowkey_hex(&k, hex);
		rc = flows_reset_key(a->fl, &k);
	}
	rp->found = rc == 0;
	rp->flowid = rdpi_call_strdup(call, hex);
	return RDPI_STATUS_OK;
}

int agent_status(struct agent *a, result_alloc_fn alloc_fn, void *arg,
		 Routerd__Dpi__V1__AgentStatus *st)
{
	struct flows_stats fs;
	flows_stats(a->fl, &fs);
	Routerd__Dpi__V1__AgentStats *s = alloc_fn(arg, sizeof(*s));
	Routerd__Dpi__V1__Resources *res = alloc_fn(arg, sizeof(*res));
	if (!s || !res)
		return -ENOMEM;
	routerd__dpi__v1__agent_stats__init(s);
	routerd__dpi__v1__resources__init(res);
	char ttl[RDPI_DURATION_STRLEN];
	rdpi_duration_format(a->flow_ttl_ns, ttl, sizeof(ttl));
	st->ok = a->ad != NULL;
	st->libndpiloaded = a->ad != NULL;
	if (!(st->name = result_strdup(alloc_fn, arg, a->name)) ||
	    !(st->version = result_strdup(alloc_fn, arg, RDPI_VERSION)) ||
	    !(st->engine = result_strdup(alloc_fn, arg, "ndpi-agent")) ||
	    !(st->libndpiversion = result_strdup(alloc_fn, arg, ndpi_adapter_version())) ||
	    !(st->mode = result_strdup(alloc_fn, arg, "nng+unix-http-json")) ||
	    !(st->reason = result_strdup(alloc_fn, arg, a->reason)) ||
	    !(st->flowttl = result_strdup(alloc_fn, arg, ttl)))
		return -ENOMEM;
	st->flowlimit = a->flow_limit;
	st->firstpayloadpackets = a->first_payload_packets;
	s->activeflows = fs.active;
	s->observedpackets = fs.observed;
	s->backendpackets = fs.backend;
	s->classifiedpackets = fs.classified;
	s->unknownpackets = fs.unknown;
	s->skippedpackets = fs.skipped;
	s->errorpackets = fs.errors;
	s->prunedflows = fs.evictions + fs.expiries;
	s->finalflows = fs.final;
	s->evictedflows = fs.evictions;
	s->expiredflows = fs.expiries;
	s->limithits = fs.limit_hits;
	s->inspectingflows = fs.inspecting;
	s->guessedflows = fs.guessed_final;
	s->giveups = fs.giveups;
	s->ndpibytes = fs.ndpi_bytes;
	s->backenderrors = fs.ndpi_alloc_failures;
	s->resets = fs.resets;
	st->stats = s;
	res->rssbytes = rdpi_process_rss_bytes();
	res->flowtablebytes = fs.table_bytes + fs.verdict_bytes + fs.ndpi_flow_bytes;
	res->activeflows = fs.active;
	/* per flow: entries, verdict strings and nDPI state; the bucket array is fixed */
	uint64_t marginal = res->flowtablebytes - fs.table_fixed_bytes;
	res->perflowbytes = fs.active ? marginal / fs.active : 0;
	st->resources = res;
	return 0;
}

static enum rdpi_status h_status(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				 ProtobufCMessage *reply)
{
	if (agent_status(arg, call_alloc, call, (void *)reply) < 0) {
		rdpi_call_set_error(call, "out of memory");
		return RDPI_STATUS_INTERNAL;
	}
	return RDPI_STATUS_OK;
}

static enum rdpi_status h_healthz(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				  ProtobufCMessage *reply)
{
	struct agent *a = arg;
	Routerd__Dpi__V1__HealthzReply *h = (void *)reply;
	h->ok = a->ad != NULL;
	h->name = rdpi_call_strdup(call, a->name);
	h->status = rdpi_call_strdup(call, a->ad ? "ok" : a->reason);
	return RDPI_STATUS_OK;
}

/* Indexed like routerd__dpi__v1__agent__descriptor.methods (declaration order). */
static const rdpi_method_fn handlers[] = {h_observe, h_batch, h_reset, h_status, h_healthz};

void agent_service_opts(struct agent *a, struct rdpi_service_opts *o)
{
	*o = (struct rdpi_service_opts){
	    .desc = &routerd__dpi__v1__agent__descriptor,
	    .handlers = handlers,
	    .arg = a,
	    .workers = a->workers,
	    /* handlers only take the flow-table lock and run nDPI: no I/O, so
	     * they run on the NNG/HTTP thread and skip two thread hand-offs */
	    .run_inline = true,
	    /* --timeout is the processing budget of every request: callers may
	     * ask for less, never for more */
	    .default_timeout_ms = a->timeout_ms,
	    .max_timeout_ms = a->timeout_ms,
	    .json_opts = rdpi_wire_json_opts(),
	};
}

/* ---- metrics --------------------------------------------------------------- */

static const struct {
	const char *name;
	enum rdpi_counter_kind kind;
	const char *help;
} gauges[G_COUNT] = {
    [G_ACTIVE] = {"flows", RDPI_GAUGE, "flows in the table"},
    [G_INSPECTING] = {"flows_inspecting", RDPI_GAUGE, "flows holding nDPI state"},
    [G_FINAL] = {"flows_final", RDPI_GAUGE, "flows with a kept verdict"},
    [G_GUESSED] = {"flows_guessed", RDPI_GAUGE, "final flows whose verdict is a guess"},
    [G_OBSERVED] = {"observed_packets_total", RDPI_COUNTER, "packets observed"},
    [G_BACKEND] = {"backend_packets_total", RDPI_COUNTER, "packets given to nDPI"},
    [G_CLASSIFIED] = {"classified_packets_total", RDPI_COUNTER, "answers with a protocol"},
    [G_UNKNOWN] = {"unknown_packets_total", RDPI_COUNTER, "answers without a protocol"},
    [G_SKIPPED] = {"skipped_packets_total", RDPI_COUNTER, "packets not given to nDPI"},
    [G_ERRORS] = {"error_packets_total", RDPI_COUNTER, "bad packets and backend errors"},
    [G_GIVEUPS] = {"giveups_total", RDPI_COUNTER, "flows given up at the packet budget"},
    [G_DETECTIONS] = {"detections_total", RDPI_COUNTER, "flows nDPI detected"},
    [G_EVICTIONS] = {"evicted_flows_total", RDPI_COUNTER, "flows evicted at the limit"},
    [G_EXPIRIES] = {"expired_flows_total", RDPI_COUNTER, "idle flows expired"},
    [G_LIMIT_HITS] = {"flow_limit_hits_total", RDPI_COUNTER, "inserts into a full table"},
    [G_RESETS] = {"reset_flows_total", RDPI_COUNTER, "flows forgotten by ResetFlow"},
    [G_NDPI_ALLOCS] = {"ndpi_flow_allocs_total", RDPI_COUNTER, "nDPI flow states allocated"},
    [G_NDPI_FREES] = {"ndpi_flow_frees_total", RDPI_COUNTER, "nDPI flow states freed"},
    [G_NDPI_ALLOC_FAILURES] = {"ndpi_alloc_failures_total", RDPI_COUNTER,
			       "nDPI flow allocations that failed (backend errors)"},
    [G_NDPI_BYTES] = {"ndpi_bytes", RDPI_GAUGE, "bytes held by libndpi"},
    [G_NDPI_FLOW_BYTES] = {"ndpi_flow_bytes", RDPI_GAUGE, "libndpi bytes held for flows"},
    [G_NDPI_BYTES_PER_FLOW] = {"ndpi_bytes_per_inspecting_flow", RDPI_GAUGE,
			       "libndpi flow bytes / inspecting flows"},
    [G_TABLE_BYTES] = {"flow_table_bytes", RDPI_GAUGE, "flow table bytes"},
    [G_VERDICT_BYTES] = {"verdict_bytes", RDPI_GAUGE, "bytes of kept verdict strings"},
};

static uint64_t gauge_read(void *arg)
{
	struct gauge_arg *ga = arg;
	struct flows_stats s;
	flows_stats(ga->a->fl, &s);
	switch (ga->g) {
	case G_ACTIVE:
		return s.active;
	case G_INSPECTING:
		return s.inspecting;
	case G_FINAL:
		return s.final;
	case G_GUESSED:
		return s.guessed_final;
	case G_OBSERVED:
		return s.observed;
	case G_BACKEND:
		return s.backend;
	case G_CLASSIFIED:
		return s.classified;
	case G_UNKNOWN:
		return s.unknown;
	case G_SKIPPED:
		return s.skipped;
	case G_ERRORS:
		return s.errors;
	case G_GIVEUPS:
		return s.giveups;
	case G_DETECTIONS:
		return s.detections;
	case G_EVICTIONS:
		return s.evictions;
	case G_EXPIRIES:
		return s.expiries;
	case G_LIMIT_HITS:
		return s.limit_hits;
	case G_RESETS:
		return s.resets;
	case G_NDPI_ALLOCS:
		return s.ndpi_allocs;
	case G_NDPI_FREES:
		return s.ndpi_frees;
	case G_NDPI_ALLOC_FAILURES:
		return s.ndpi_alloc_failures;
	case G_NDPI_BYTES:
		return s.ndpi_bytes;
	case G_NDPI_FLOW_BYTES:
		return s.ndpi_flow_bytes;
	case G_NDPI_BYTES_PER_FLOW:
		return s.inspecting ? s.ndpi_flow_bytes / s.inspecting : 0;
	case G_TABLE_BYTES:
		return s.table_bytes;
	case G_VERDICT_BYTES:
		return s.verdict_bytes;
	case G_COUNT:
		break;
	}
	return 0;
}

int agent_register_metrics(struct agent *a, struct rdpi_counters *reg)
{
	int rc;
	for (int g = 0; g < G_COUNT; g++) {
		a->gauge_args[g] = (struct gauge_arg){a, (enum gauge)g};
		rc = rdpi_counters_register_fn(reg, gauges[g].name, NULL, gauges[g].kind,
					       gauges[g].help, gauge_read, &a->gauge_args[g]);
		if (rc < 0)
			return rc;
	}
	if ((rc = rdpi_counters_register(reg, "batches_total", NULL, RDPI_COUNTER,
					 "ObserveBatch calls", &a->batches)) < 0 ||
	    (rc = rdpi_counters_register(reg, "batch_packets_total", NULL, RDPI_COUNTER,
					 "packets in ObserveBatch calls", &a->batch_packets)) < 0 ||
	    (rc = rdpi_counters_register(reg, "rejected_batches_total", NULL, RDPI_COUNTER,
					 "batches over the size limit", &a->rejected_batches)) <
		0 ||
	    (rc = rdpi_counters_register(reg, "deadline_exceeded_total", NULL, RDPI_COUNTER,
					 "batches cut at the request deadline",
					 &a->deadline_hits)) < 0 ||
	    (rc = rdpi_counters_register(reg, "bad_requests_total", NULL, RDPI_COUNTER,
					 "requests rejected as invalid", &a->bad_requests)) < 0)
		return rc;
	return rdpi_counters_register_process(reg);
}

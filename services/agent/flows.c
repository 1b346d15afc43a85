/* Agent flow engine: canonical bidirectional flows in a bounded TTL/LRU table;
 * nDPI state is allocated on a flow's first payload packet, fed both
 * directions in order, and freed the moment the flow is final (detected with
 * nothing more to dissect, or the payload budget spent -> give-up). */
#include "flows.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/flowkey.h"
#include "common/flowtab.h"
#include "common/packet.h"

static const char *const reason_names[FLOWS_REASON_COUNT] = {
    [FLOWS_REASON_UNAVAILABLE] = "libndpi_backend_unavailable",
    [FLOWS_REASON_DETECTED] = "ndpi_detected",
    [FLOWS_REASON_INSPECTING] = "ndpi_inspecting",
    [FLOWS_REASON_NO_PAYLOAD] = "no_payload_yet",
    [FLOWS_REASON_LIMIT] = "flow_packet_limit_reached",
    [FLOWS_REASON_TUPLE] = "flow_tuple_unavailable",
    [FLOWS_REASON_BAD_PACKET] = "packet_parse_error",
    [FLOWS_REASON_BACKEND_ERROR] = "backend_error",
};
_Static_assert(sizeof(reason_names) / sizeof(reason_names[0]) == FLOWS_REASON_COUNT,
	       "reason_names");

const char *flows_reason_name(enum flows_reason r)
{
	return (unsigned)r < FLOWS_REASON_COUNT ? reason_names[r] : "unknown";
}

/* Live nDPI state, only while a flow is inspected. */
struct inspect {
	struct ndpi_adapter_flow *nf;
	uint32_t seq[2]; /* synthesized TCP: next sequence number per key direction */
	struct ndpi_adapter_proto proto;
	uint8_t detected;
};

/* Table value: kept until TTL/LRU; small on purpose (a final flow costs this
 * plus the table entry plus its verdict blob). */
struct flow {
	struct inspect *insp;
	char *blob; /* host "\0" then (meta index byte, value "\0")*; NULL when none */
	uint64_t risk;
	uint16_t master, app, category, risk_score;
	uint16_t blob_len;
	uint8_t confidence, state, reason, host_kind;
	uint8_t payload_pkts;
	uint8_t guessed : 1, detected : 1;
};

struct flows {
	pthread_mutex_t mu;
	struct flows_opts opts;
	struct ndpi_adapter *ad;
	struct rdpi_flowtab *tab;
	struct flows_stats st; /* counters; gauges are filled on read */
	uint64_t evictions_base, expiries_base, limit_hits_base; /* from replaced tables */
	uint64_t table_fixed;					 /* bytes of the empty table */
	uint8_t pkt[RDPI_SYNTH_MAX_PACKET];
};

static void flow_fini(void *value, void *arg)
{
	struct flows *fl = arg;
	struct flow *f = value;
	if (f->insp) {
		ndpi_adapter_flow_free(f->insp->nf);
		free(f->insp);
		fl->st.inspecting--;
		fl->st.ndpi_frees++;
	}
	if (f->state == FLOWS_STATE_FINAL) {
		fl->st.final--;
		if (f->guessed)
			fl->st.guessed_final--;
	}
	if (f->blob) {
		fl->st.verdict_bytes -= f->blob_len;
		free(f->blob);
	}
}

static int table_new(struct flows *fl, const struct flows_opts *o, struct rdpi_flowtab **ret)
{
	struct rdpi_flowtab_opts to = {
	    .limit = o->limit,
	    .ttl_ns = o->ttl_ns,
	    .value_size = sizeof(struct flow),
	    .value_fini_fn = flow_fini,
	    .arg = fl,
	};
	int rc = rdpi_flowtab_new(&to, ret);
	if (rc == 0) {
		struct rdpi_flowtab_stats ts;
		rdpi_flowtab_stats(*ret, &ts);
		fl->table_fixed = ts.bytes;
	}
	return rc;
}

static int opts_valid(const struct flows_opts *o)
{
	return o && o->limit >= 1 && o->limit <= RDPI_FLOWTAB_MAX_LIMIT && o->ttl_ns > 0 &&
	       o->budget_tcp >= 1 && o->budget_udp >= 1;
}

int flows_new(const struct flows_opts *opts, struct ndpi_adapter *ad, struct flows **ret)
{
	if (!opts_valid(opts))
		return -EINVAL;
	struct flows *fl = calloc(1, sizeof(*fl));
	if (!fl)
		return -ENOMEM;
	fl->opts = *opts;
	fl->ad = ad;
	if (ad) {
		int rc = table_new(fl, opts, &fl->tab);
		if (rc < 0) {
			free(fl);
			return rc;
		}
	}
	pthread_mutex_init(&fl->mu, NULL);
	*ret = fl;
	return 0;
}

void flows_free(struct flows *fl)
{
	if (!fl)
		return;
	rdpi_flowtab_free(fl->tab);
	pthread_mutex_destroy(&fl->mu);
	free(fl);
}

static void table_stats_fold(struct flows *fl)
{
	struct rdpi_flowtab_stats ts;
	rdpi_flowtab_stats(fl->tab, &ts);
	fl->evictions_base += ts.evictions;
	fl->expiries_base += ts.expiries;
	fl->limit_hits_base += ts.limit_hits;
}

int flows_configure(struct flows *fl, const struct flows_opts *opts)
{
	if (!opts_valid(opts))
		return -EINVAL;
	int rc = 0;
	pthread_mutex_lock(&fl->mu);
	if (fl->tab && (opts->limit != fl->opts.limit || opts->ttl_ns != fl->opts.ttl_ns)) {
		struct rdpi_flowtab *t;
		rc = table_new(fl, opts, &t);
		if (rc == 0) {
			table_stats_fold(fl);
			rdpi_flowtab_free(fl->tab);
			fl->tab = t;
		}
	}
	if (rc == 0)
		fl->opts = *opts;
	pthread_mutex_unlock(&fl->mu);
	return rc;
}

/* ---- results ------------------------------------------------------------- */

static void result_init(struct flows_result *r, const struct rdpi_flowkey *k, uint8_t l3,
			uint8_t l4proto, const uint8_t src[16], const uint8_t dst[16],
			uint16_t sport, uint16_t dport)
{
	memset(r, 0, offsetof(struct flows_result, buf));
	r->buf[0] = '\0';
	r->l3 = l3;
	r->l4proto = l4proto;
	memcpy(r->src, src, 16);
	memcpy(r->dst, dst, 16);
	r->sport = sport;
	r->dport = dport;
	if (k)
		rdpi_flowkey_hex(k, r->flow_id);
	else
		r->flow_id[0] = '\0';
}

/* Copy live nDPI info into the result (full metadata). */
static void result_from_info(struct flows_result *r, const struct ndpi_adapter_info *in)
{
	r->proto = in->proto;
	r->risk = in->risk;
	r->risk_score = in->risk_score;
	r->host_kind = in->host_kind;
	if (in->host)
		snprintf(r->host, sizeof(r->host), "%s", in->host);
	size_t used = 0;
	for (int m = 0; m < NDPI_ADAPTER_META_COUNT; m++) {
		const char *v = in->meta[m];
		if (!v)
			continue;
		size_t n = strlen(v) + 1;
		if (used + n > sizeof(r->buf))
			continue;
		memcpy(r->buf + used, v, n);
		r->meta[m] = r->buf + used;
		used += n;
	}
}

/* Rebuild a result from a final flow's compact verdict. */
static void result_from_verdict(struct flows_result *r, const struct flow *f)
{
	r->proto.master = f->master;
	r->proto.app = f->app;
	r->proto.category = f->category;
	r->proto.confidence = f->confidence;
	r->risk = f->risk;
	r->risk_score = f->risk_score;
	r->host_kind = f->host_kind;
	r->detected = f->detected;
	r->guessed = f->guessed;
	r->reason = f->reason;
	r->state = FLOWS_STATE_FINAL;
	if (!f->blob)
		return;
	const char *p = f->blob, *end = f->blob + f->blob_len;
	snprintf(r->host, sizeof(r->host), "%s", p);
	p += strlen(p) + 1;
	size_t used = 0;
	while (p < end) {
		unsigned m = (uint8_t)*p++;
		size_t n = strlen(p) + 1;
		if (m < NDPI_ADAPTER_META_COUNT && used + n <= sizeof(r->buf)) {
			memcpy(r->buf + used, p, n);
			r->meta[m] = r->buf + used;
			used += n;
		}
		p += n;
	}
}

/* Keep host + as much metadata as fits verdict_meta_max, in priority order. */
static void verdict_store(struct flows *fl, struct flow *f, const struct ndpi_adapter_info *in)
{
	f->master = in->proto.master;
	f->app = in->proto.app;
	f->category = in->proto.category;
	f->confidence = in->proto.confidence;
	f->risk = in->risk;
	f->risk_score = in->risk_score;
	f->host_kind = in->host_kind;
	size_t hl = in->host ? strlen(in->host) : 0;
	size_t total = hl + 1, budget = fl->opts.verdict_meta_max;
	size_t take[NDPI_ADAPTER_META_COUNT] = {0};
	for (int m = 0; m < NDPI_ADAPTER_META_COUNT; m++) {
		if (!in->meta[m] || m == NDPI_ADAPTER_META_HOST)
			continue;
		size_t n = strlen(in->meta[m]) + 2;
		if (total - hl - 1 + n > budget)
			continue;
		take[m] = n;
		total += n;
	}
	if (total == 1 || total > UINT16_MAX)
		return;
	char *b = malloc(total);
	if (!b)
		return; /* the verdict stays valid without its strings */
	char *p = b;
	memcpy(p, in->host ? in->host : "", hl + 1);
	p += hl + 1;
	for (int m = 0; m < NDPI_ADAPTER_META_COUNT; m++) {
		if (!take[m])
			continue;
		*p++ = (char)m;
		memcpy(p, in->meta[m], take[m] - 1);
		p += take[m] - 1;
	}
	f->blob = b;
	f->blob_len = (uint16_t)total;
	fl->st.verdict_bytes += total;
}

/* Make f final: answer from the live state, keep the verdict, free nDPI. */
static void finalize(struct flows *fl, struct flow *f, const struct ndpi_adapter_proto *proto,
		     enum flows_reason reason, int guessed, struct flows_result *r)
{
	struct ndpi_adapter_info in;
	ndpi_adapter_info(fl->ad, f->insp->nf, proto, &in);
	f->detected = f->insp->detected;
	f->guessed = guessed != 0;
	f->reason = (uint8_t)reason;
	verdict_store(fl, f, &in);
	if (r) {
		result_from_info(r, &in);
		r->detected = f->detected;
		r->guessed = f->guessed;
		r->reason = (uint8_t)reason;
		r->state = FLOWS_STATE_FINAL;
	}
	ndpi_adapter_flow_free(f->insp->nf);
	free(f->insp);
	f->insp = NULL;
	fl->st.inspecting--;
	fl->st.ndpi_frees++;
	f->state = FLOWS_STATE_FINAL;
	fl->st.final++;
	if (f->guessed)
		fl->st.guessed_final++;
}

static void giveup(struct flows *fl, struct flow *f, struct flows_result *r)
{
	struct ndpi_adapter_proto p;
	int guessed;
	ndpi_adapter_giveup(fl->ad, f->insp->nf, &p, &guessed);
	fl->st.giveups++;
	finalize(fl, f, &p, FLOWS_REASON_LIMIT, guessed, r);
}

/* ---- observe ------------------------------------------------------------- */

struct obs {
	const uint8_t *l3; /* real packet, or NULL to synthesize */
	size_t len;
	const struct rdpi_synth_tuple *synth;
	const uint8_t *payload;
	size_t plen;
	uint8_t l4proto;
	int dir;
	uint64_t ts_ns, now_ns;
};

static int observe_locked(struct flows *fl, const struct rdpi_flowkey *k, const struct obs *o,
			  struct flows_result *r)
{
	void *v;
	bool created;
	if (rdpi_flowtab_upsert(fl->tab, k, o->now_ns, &v, &created) < 0) {
		fl->st.errors++;
		r->reason = FLOWS_REASON_BACKEND_ERROR;
		return 0;
	}
	struct flow *f = v;
	if (created)
		f->state = FLOWS_STATE_NEW;
	if (f->state == FLOWS_STATE_FINAL) {
		fl->st.skipped++;
		result_from_verdict(r, f);
		r->cached = true;
		return 0;
	}
	/* port-less protocols (ICMP, IGMP, ...) are named from any packet */
	int wants = o->plen > 0 || (o->l4proto != IPPROTO_TCP && o->l4proto != IPPROTO_UDP);
	if (f->state == FLOWS_STATE_NEW && !wants) {
		fl->st.skipped++;
		r->state = FLOWS_STATE_NEW;
		r->reason = FLOWS_REASON_NO_PAYLOAD;
		return 0;
	}
	if (f->state == FLOWS_STATE_NEW) {
		struct inspect *in = calloc(1, sizeof(*in));
		if (!in || ndpi_adapter_flow_new(fl->ad, &in->nf) < 0) {
			free(in);
			fl->st.errors++;
			fl->st.ndpi_alloc_failures++;
			r->reason = FLOWS_REASON_BACKEND_ERROR;
			return 0;
		}
		in->seq[0] = 0x10000000u;
		in->seq[1] = 0x60000000u;
		f->insp = in;
		f->state = FLOWS_STATE_INSPECTING;
		fl->st.inspecting++;
		fl->st.ndpi_allocs++;
	}
	struct inspect *in = f->insp;
	const uint8_t *pkt = o->l3;
	size_t len = o->len;
	if (!pkt) {
		struct rdpi_synth_tcp tcp = {
		    .seq = in->seq[o->dir], .ack = in->seq[!o->dir], .flags = 0x18};
		if (rdpi_synth_packet(o->synth, &tcp, o->payload, o->plen, fl->pkt, sizeof(fl->pkt),
				      &len) < 0) {
			fl->st.errors++;
			r->reason = FLOWS_REASON_BAD_PACKET;
			return -EINVAL;
		}
		in->seq[o->dir] += (uint32_t)o->plen;
		pkt = fl->pkt;
	}
	if (o->plen > 0 && f->payload_pkts < UINT8_MAX)
		f->payload_pkts++;
	fl->st.backend++;
	struct ndpi_adapter_proto p;
	if (ndpi_adapter_process(fl->ad, in->nf, pkt, len, o->ts_ns / 1000000u, &p)) {
		if (!in->detected)
			fl->st.detections++;
		in->proto = p;
		in->detected = 1;
	}
	uint32_t budget = o->l4proto == IPPROTO_TCP ? fl->opts.budget_tcp : fl->opts.budget_udp;
	int spent = f->payload_pkts >= budget;
	if (in->detected) {
		fl->st.classified++;
		if (spent || !ndpi_adapter_extra_possible(fl->ad, in->nf))
			finalize(fl, f, &in->proto, FLOWS_REASON_DETECTED, 0, r);
		else {
			struct ndpi_adapter_info info;
			ndpi_adapter_info(fl->ad, in->nf, &in->proto, &info);
			result_from_info(r, &info);
			r->detected = true;
			r->state = FLOWS_STATE_INSPECTING;
			r->reason = FLOWS_REASON_DETECTED;
		}
		return 0;
	}
	if (spent) {
		giveup(fl, f, r);
		if (r->proto.app || r->proto.master)
			fl->st.classified++;
		else
			fl->st.unknown++;
		return 0;
	}
	fl->st.unknown++;
	r->state = FLOWS_STATE_INSPECTING;
	r->reason = FLOWS_REASON_INSPECTING;
	return 0;
}

static uint64_t ts_or_now(uint64_t ts_ns, uint64_t now_ns)
{
	return ts_ns ? ts_ns : now_ns;
}

/* Count the packet and observe it under the table lock. */
static int observe_counted(struct flows *fl, const struct rdpi_flowkey *k, const struct obs *o,
			   struct flows_result *ret)
{
	int rc = 0;
	pthread_mutex_lock(&fl->mu);
	fl->st.observed++;
	if (!fl->tab) {
		fl->st.unknown++;
		ret->reason = FLOWS_REASON_UNAVAILABLE;
	} else {
		rc = observe_locked(fl, k, o, ret);
	}
	pthread_mutex_unlock(&fl->mu);
	return rc;
}

int flows_observe_packet(struct flows *fl, const uint8_t *l3, size_t len, uint64_t ts_ns,
			 uint64_t now_ns, struct flows_result *ret)
{
	struct rdpi_packet pk;
	static const uint8_t zero[16];
	int rc = rdpi_packet_parse(l3, len, &pk);
	if (rc < 0) {
		result_init(ret, NULL, 0, 0, zero, zero, 0, 0);
		pthread_mutex_lock(&fl->mu);
		fl->st.observed++;
		fl->st.errors++;
		pthread_mutex_unlock(&fl->mu);
		ret->reason = FLOWS_REASON_BAD_PACKET;
		return -EINVAL;
	}
	struct rdpi_flowkey k;
	int dir;
	rdpi_flowkey_from_packet(&pk, &k, &dir);
	result_init(ret, &k, pk.l3, pk.l4proto, pk.src, pk.dst, pk.sport, pk.dport);
	struct obs o = {
	    .l3 = l3,
	    .len = len,
	    .payload = pk.payload,
	    .plen = pk.payload_len,
	    .l4proto = pk.l4proto,
	    .dir = dir,
	    .ts_ns = ts_or_now(ts_ns, now_ns),
	    .now_ns = now_ns,
	};
	return observe_counted(fl, &k, &o, ret);
}

int flows_observe_payload(struct flows *fl, const struct rdpi_synth_tuple *t,
			  const uint8_t *payload, size_t plen, uint64_t ts_ns, uint64_t now_ns,
			  struct flows_result *ret)
{
	struct rdpi_flowkey k;
	int dir;
	if (!t) {
		static const uint8_t zero[16];
		result_init(ret, NULL, 0, 0, zero, zero, 0, 0);
		pthread_mutex_lock(&fl->mu);
		fl->st.observed++;
		if (fl->tab) {
			fl->st.skipped++;
			ret->reason = FLOWS_REASON_TUPLE;
		} else {
			fl->st.unknown++;
			ret->reason = FLOWS_REASON_UNAVAILABLE;
		}
		pthread_mutex_unlock(&fl->mu);
		return 0;
	}
	rdpi_flowkey_make(t->l3, t->l4proto, t->src, t->sport, t->dst, t->dport, &k, &dir);
	result_init(ret, &k, t->l3, t->l4proto, t->src, t->dst, t->sport, t->dport);
	struct obs o = {
	    .synth = t,
	    .payload = payload,
	    .plen = plen,
	    .l4proto = t->l4proto,
	    .dir = dir,
	    .ts_ns = ts_or_now(ts_ns, now_ns),
	    .now_ns = now_ns,
	};
	return observe_counted(fl, &k, &o, ret);
}

/* ---- maintenance ----------------------------------------------------------- */

int flows_reset_key(struct flows *fl, const struct rdpi_flowkey *k)
{
	int rc = -ENOENT;
	pthread_mutex_lock(&fl->mu);
	if (fl->tab)
		rc = rdpi_flowtab_remove(fl->tab, k);
	if (rc == 0)
		fl->st.resets++;
	pthread_mutex_unlock(&fl->mu);
	return rc;
}

struct find_id {
	const char *id;
	struct rdpi_flowkey key;
};

static int find_id_fn(const struct rdpi_flowkey *k, void *value, void *arg)
{
	struct find_id *f = arg;
	char hex[33];
	rdpi_flowkey_hex(k, hex);
	if (strcmp(hex, f->id) != 0)
		return 0;
	f->key = *k;
	return 1;
}

int flows_reset_id(struct flows *fl, const char *flow_id, struct rdpi_flowkey *ret_key)
{
	struct find_id f = {.id = flow_id};
	int rc = -ENOENT;
	pthread_mutex_lock(&fl->mu);
	if (fl->tab && rdpi_flowtab_foreach(fl->tab, find_id_fn, &f) == 1)
		rc = rdpi_flowtab_remove(fl->tab, &f.key);
	if (rc == 0)
		fl->st.resets++;
	pthread_mutex_unlock(&fl->mu);
	if (rc == 0 && ret_key)
		*ret_key = f.key;
	return rc;
}

size_t flows_expire(struct flows *fl, uint64_t now_ns, size_t max_work)
{
	size_t n = 0;
	pthread_mutex_lock(&fl->mu);
	if (fl->tab)
		n = rdpi_flowtab_expire(fl->tab, now_ns, max_work);
	pthread_mutex_unlock(&fl->mu);
	return n;
}

struct finish {
	struct flows *fl;
	flows_each_fn fn;
	void *arg;
	struct flows_result r;
};

static int finish_fn(const struct rdpi_flowkey *k, void *value, void *arg)
{
	struct finish *fa = arg;
	struct flow *f = value;
	struct flows_result *r = &fa->r;
	result_init(r, k, k->l3, k->l4proto, k->lo_addr, k->hi_addr, k->lo_port, k->hi_port);
	if (f->state == FLOWS_STATE_INSPECTING) {
		if (f->insp->detected)
			finalize(fa->fl, f, &f->insp->proto, FLOWS_REASON_DETECTED, 0, NULL);
		else
			giveup(fa->fl, f, NULL);
	}
	if (f->state == FLOWS_STATE_FINAL)
		result_from_verdict(r, f);
	else {
		r->state = FLOWS_STATE_NEW;
		r->reason = FLOWS_REASON_NO_PAYLOAD;
	}
	fa->fn(fa->arg, k, r);
	return 0;
}

void flows_finish_all(struct flows *fl, uint64_t ts_ns, flows_each_fn fn, void *arg)
{
	struct finish *fa = calloc(1, sizeof(*fa));
	if (!fa)
		return;
	fa->fl = fl;
	fa->fn = fn;
	fa->arg = arg;
	pthread_mutex_lock(&fl->mu);
	if (fl->tab)
		rdpi_flowtab_foreach(fl->tab, finish_fn, fa);
	pthread_mutex_unlock(&fl->mu);
	free(fa);
}

void flows_stats(struct flows *fl, struct flows_stats *ret)
{
	pthread_mutex_lock(&fl->mu);
	*ret = fl->st;
	ret->evictions = fl->evictions_base;
	ret->expiries = fl->expiries_base;
	ret->limit_hits = fl->limit_hits_base;
	if (fl->tab) {
		struct rdpi_flowtab_stats ts;
		rdpi_flowtab_stats(fl->tab, &ts);
		ret->active = ts.size;
		ret->evictions += ts.evictions;
		ret->expiries += ts.expiries;
		ret->limit_hits += ts.limit_hits;
		ret->table_bytes = ts.bytes;
		ret->table_fixed_bytes = fl->table_fixed;
	}
	pthread_mutex_unlock(&fl->mu);
	ret->ndpi_bytes = ndpi_adapter_bytes();
	ret->ndpi_flow_bytes = ndpi_adapter_flow_bytes(fl->ad);
}

size_t flows_entry_bytes(void)
{
	return sizeof(struct flow);
}

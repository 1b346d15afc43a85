/* SQLite writer thread: entry -> dpi_flow upsert (coalesced) or enriched firewall_logs row. */
#include "writer.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/duration.h"
#include "common/flowtab.h"
#include "common/log.h"
#include "common/packet.h"
#include "common/ports.h"
#include "common/service.h"
#include "ct.h"
#include "entry.h"
#include "expired.h"
#include "flowsdb.h"
#include "hint.h"
#include "lqueue.h"
#include "lverdict.h"
#include "store.h"

#define TAG	     "writer"
#define POP_MAX	     256
#define EXPIRE_EVERY (1000ull * 1000 * 1000)
#define PRUNE_WORK   2000
/* orphan-return window (design: the newest expired flow within 1 h) */
#define EXPIRED_WINDOW (3600ll * 1000000000ll)

/* One bidirectional flow in memory: its best verdict, and accept packets not yet upserted. */
struct wflow {
	struct rdpi_flowkey key;
	struct lverdict *v;
	int64_t classified_ts; /* unix ns when v was learnt */
	uint8_t client_dir;
	bool db_checked; /* SQLite fallback already consulted */
	bool dirty;
	bool improved; /* v got better since the last upsert */
	uint32_t pending_packets;
	int64_t pending_first, pending_last;
	/* capture_flows only: counters by direction (client -> server = out) */
	uint64_t cap_bytes_out, cap_bytes_in, cap_packets_out, cap_packets_in;
	int64_t cap_first, cap_last;
	int64_t cap_seen; /* time of the first packet seen: the row's key (captures can be out of order) */
	/* conntrack side: the newest event of the connection on this key (malloc'd), so a verdict
	 * that arrives after the conntrack NEW event relabels its traffic-flows.db row at once */
	struct ct_event *ct;
	struct wflow *dprev, *dnext; /* dirty list */
};

struct writer {
	struct writer_opts o;
	struct store *st;
	struct rdpi_flowtab *mem;
	struct expiredtab *exp; /* with correlate */
	struct lqueue *q;
	pthread_t thread;
	bool running;
	struct wflow *dirty_head;
	size_t ndirty;
	uint64_t dirty_since; /* monotonic ns of the oldest dirty flow */
	int64_t clock;	      /* newest packet time (unix ns) */
	int64_t started;      /* unix ns at writer_new() */
	uint64_t last_expire, last_prune;
	struct rdpi_ratelimit drop_rl;
	struct writer_stats stats;
	/* retention, replaceable while running (writer_set_retention) */
	_Atomic int64_t expired_ttl_ns, traffic_ttl_ns;
	_Atomic size_t traffic_limit;
};

static void dirty_unlink(struct writer *w, struct wflow *f)
{
	if (!f->dirty)
		return;
	if (f->dprev)
		f->dprev->dnext = f->dnext;
	else
		w->dirty_head = f->dnext;
	if (f->dnext)
		f->dnext->dprev = f->dprev;
	f->dprev = f->dnext = NULL;
	f->dirty = false;
	w->ndirty--;
}

static void dirty_link(struct writer *w, struct wflow *f)
{
	if (f->dirty)
		return;
	if (w->ndirty == 0)
		w->dirty_since = rdpi_monotonic_ns();
	f->dirty = true;
	f->dprev = NULL;
	f->dnext = w->dirty_head;
	if (w->dirty_head)
		w->dirty_head->dprev = f;
	w->dirty_head = f;
	w->ndirty++;
}

static const char *l3_name(uint8_t l3)
{
	return l3 == 6 ? "ipv6" : "ipv4";
}

static void capture_upsert(struct writer *w, const struct wflow *f, bool ended);
static void traffic_upsert(struct writer *w, const struct ct_event *c, const char *proto);

/* Writes a flow's pending packets (and its best verdict) as one improve-only upsert. */
static void upsert_flow(struct writer *w, struct wflow *f)
{
	const struct rdpi_flowkey *k = &f->key;
	char id[33], lo[RDPI_ADDR_STRLEN], hi[RDPI_ADDR_STRLEN], pbuf[16];
	rdpi_flowkey_hex(k, id);
	rdpi_addr_format(k->lo_addr, lo, sizeof(lo));
	rdpi_addr_format(k->hi_addr, hi, sizeof(hi));
	bool lo_client = f->client_dir == RDPI_FLOWKEY_DIR_LO_TO_HI;
	bool ports = k->lo_port || k->hi_port;
	const struct lverdict *v = f->v;
	struct store_flow sf = {
	    .flow_id = id,
	    .ts = f->pending_last,
	    .ts_first = f->pending_first,
	    .l3_proto = l3_name(k->l3),
	    .protocol = rdpi_l4proto_name(k->l4proto, pbuf, sizeof(pbuf)),
	    .src_address = lo_client ? lo : hi,
	    .src_port = ports ? (lo_client ? k->lo_port : k->hi_port) : -1,
	    .dst_address = lo_client ? hi : lo,
	    .dst_port = ports ? (lo_client ? k->hi_port : k->lo_port) : -1,
	    .app_confidence = -1,
	    .risk_score = -1,
	    .packets = f->pending_packets,
	};
	if (v) {
		if (lverdict_known(v) && f->classified_ts > sf.ts)
			sf.ts = f->classified_ts;
		sf.app_name = v->app_name;
		sf.app_category = v->app_category;
		sf.app_confidence = v->app_confidence;
		sf.detected_protocol = v->detected_protocol;
		sf.master_protocol = v->master_protocol;
		sf.application_protocol = v->application_protocol;
		sf.category = v->category;
		sf.risk = v->risk_json;
		sf.confidence = v->confidence;
		sf.metadata_json = v->metadata_json;
		sf.engine = v->engine;
		sf.source = v->source;
		sf.guessed = v->guessed;
		sf.risk_score = v->risk_score;
		sf.tls_sni = v->tls_sni;
		sf.http_host = v->http_host;
		sf.dns_query = v->dns_query;
	}
	if (store_upsert_flow(w->st, &sf) < 0)
		rdpi_counter_inc(&w->stats.write_errors);
	if (w->o.capture_flows && w->o.flows)
		capture_upsert(w, f, false);
	else if (f->improved && f->ct && w->o.flows)
		traffic_upsert(w, f->ct, sf.protocol);
	f->pending_packets = 0;
	f->pending_first = f->pending_last = 0;
	f->improved = false;
}

static void publish(struct writer *w)
{
	const struct store_stats *ss = store_stats(w->st);
	struct writer_stats *s = &w->stats;
	rdpi_counter_set(&s->rows_firewall_logs, ss->logs_written);
	rdpi_counter_set(&s->rows_dpi_flow, ss->flows_written);
	rdpi_counter_set(&s->rows_expired_flows, ss->expired_written);
	rdpi_counter_set(&s->commits, ss->commits);
	rdpi_counter_set(&s->commit_errors, ss->commit_errors);
	rdpi_counter_set(&s->rows_lost, ss->rows_lost);
	rdpi_counter_set(&s->commit_us_last, ss->commit_ns_last / 1000);
	rdpi_counter_set(&s->commit_us_max, ss->commit_ns_max / 1000);
	rdpi_counter_set(&s->batch_last, ss->batch_last);
	rdpi_counter_set(&s->batch_max, ss->batch_max);
	rdpi_counter_set(&s->pruned_flows, ss->pruned_flows);
	rdpi_counter_set(&s->pruned_expired, ss->pruned_expired);
	struct rdpi_flowtab_stats ts;
	rdpi_flowtab_stats(w->mem, &ts);
	rdpi_counter_set(&s->mem_flows, ts.size);
	rdpi_counter_set(&s->mem_flows_bytes, ts.bytes);
	if (w->q)
		rdpi_counter_set(&s->queue_depth, lqueue_depth(w->q));
	if (w->o.flows) {
		const struct flowsdb_stats *fs = flowsdb_stats(w->o.flows);
		rdpi_counter_set(&s->rows_traffic, fs->flows_written);
		rdpi_counter_set(&s->traffic_commit_errors, fs->commit_errors);
		rdpi_counter_set(&s->pruned_traffic, fs->pruned);
	}
}

int writer_flush(struct writer *w)
{
	while (w->dirty_head) {
		struct wflow *f = w->dirty_head;
		dirty_unlink(w, f);
		upsert_flow(w, f);
	}
	int rv = store_flush(w->st);
	if (w->o.flows && flowsdb_flush(w->o.flows) < 0)
		rv = -EIO;
	publish(w);
	return rv;
}

static void wflow_fini(void *value, void *arg)
{
	struct writer *w = arg;
	struct wflow *f = value;
	if (f->dirty) {
		dirty_unlink(w, f);
		upsert_flow(w, f);
	}
	/* a capture flow leaving the table (idle past the TTL, or the input ended) is over */
	if (w->o.capture_flows && w->o.flows && f->cap_first)
		capture_upsert(w, f, true);
	lverdict_free(f->v);
	f->v = NULL;
	free(f->ct);
	f->ct = NULL;
}

int writer_new(const struct writer_opts *opts, struct writer **ret)
{
	struct writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->o = *opts;
	w->st = opts->store;
	w->started = (int64_t)time(NULL) * 1000000000ll;
	atomic_init(&w->expired_ttl_ns, opts->expired_ttl_ns);
	atomic_init(&w->traffic_ttl_ns, opts->traffic_ttl_ns);
	atomic_init(&w->traffic_limit, opts->traffic_limit);
	w->drop_rl.interval_ms = 10000;
	w->drop_rl.burst = 1;
	if (!w->o.flow_limit)
		w->o.flow_limit = 100000;
	if (!w->o.flow_ttl_ns)
		w->o.flow_ttl_ns = 3600ll * 1000000000ll;
	if (!w->o.queue_limit)
		w->o.queue_limit = 16384;
	if (!w->o.batch_max)
		w->o.batch_max = STORE_BATCH_MAX_DEFAULT;
	if (!w->o.batch_age_ns)
		w->o.batch_age_ns = STORE_BATCH_AGE_NS_DEFAULT;
	if (!w->o.prune_every_ns)
		w->o.prune_every_ns = 10ull * 1000 * 1000 * 1000;
	struct rdpi_flowtab_opts to = {.limit = w->o.flow_limit,
				       .ttl_ns = (uint64_t)w->o.flow_ttl_ns,
				       .value_size = sizeof(struct wflow),
				       .value_fini_fn = wflow_fini,
				       .arg = w};
	int rv = rdpi_flowtab_new(&to, &w->mem);
	if (rv == 0)
		rv = lqueue_new(w->o.queue_limit, &w->q);
	if (rv == 0 && w->o.correlate)
		rv = expiredtab_new(w->o.expired_limit ? w->o.expired_limit : 100000,
				    EXPIRED_WINDOW, &w->exp);
	if (rv < 0) {
		lqueue_free(w->q);
		rdpi_flowtab_free(w->mem);
		free(w);
		return rv;
	}
	*ret = w;
	return 0;
}

/* Learns a verdict for the flow when it is better than what the table holds. */
static void learn(struct writer *w, struct wflow *f, const struct lverdict *v, int64_t ts)
{
	/* an unknown answer is kept only while nothing better is known (so the row says
	 * "unknown" with its source instead of nothing); a known one must outrank */
	if (!v || (f->v && lverdict_rank(v) <= lverdict_rank(f->v)))
		return;
	struct lverdict *c = lverdict_dup(v);
	if (!c)
		return;
	lverdict_free(f->v);
	f->v = c;
	f->classified_ts = ts;
	f->improved = true;
}

static void on_accept(struct writer *w, struct lentry *e)
{
	rdpi_counter_inc(&w->stats.accept_packets);
	if (!e->has_key) {
		rdpi_counter_inc(&w->stats.unkeyed);
		return;
	}
	struct wflow *f = NULL;
	bool created = false;
	if (rdpi_flowtab_upsert(w->mem, &e->key, (uint64_t)w->clock, (void **)&f, &created) < 0) {
		rdpi_counter_inc(&w->stats.write_errors);
		return;
	}
	if (created)
		f->key = e->key;
	f->client_dir = (uint8_t)e->client_dir;
	learn(w, f, e->v, (int64_t)e->ts_ns);
	int64_t ts = (int64_t)e->ts_ns;
	if (f->pending_packets == 0 || ts < f->pending_first)
		f->pending_first = ts;
	if (ts > f->pending_last)
		f->pending_last = ts;
	f->pending_packets++;
	if (w->o.capture_flows) {
		if (!f->cap_seen)
			f->cap_seen = ts;
		if (!f->cap_first || ts < f->cap_first)
			f->cap_first = ts;
		if (ts > f->cap_last)
			f->cap_last = ts;
		if (e->dir == f->client_dir) {
			f->cap_bytes_out += e->packet_bytes;
			f->cap_packets_out++;
		} else {
			f->cap_bytes_in += e->packet_bytes;
			f->cap_packets_in++;
		}
	}
	dirty_link(w, f);
}

struct found {
	struct lverdict *v;
	int64_t classified_at;
};

static void on_found(void *arg, const struct store_flow *sf, int64_t classified_at)
{
	struct found *fd = arg;
	struct lverdict in = {
	    .app_name = sf->app_name,
	    .app_category = sf->app_category,
	    .detected_protocol = sf->detected_protocol,
	    .master_protocol = sf->master_protocol,
	    .application_protocol = sf->application_protocol,
	    .category = sf->category,
	    .risk_json = sf->risk,
	    .confidence = sf->confidence,
	    .metadata_json = sf->metadata_json,
	    .engine = sf->engine,
	    .source = sf->source,
	    .tls_sni = sf->tls_sni,
	    .http_host = sf->http_host,
	    .dns_query = sf->dns_query,
	    .reason = "",
	    .app_confidence = sf->app_confidence,
	    .risk_score = sf->risk_score,
	    .guessed = sf->guessed,
	};
	fd->v = lverdict_make(&in);
	fd->classified_at = classified_at;
}

/* "a,b" from the stored JSON array text. */
static void risk_list(const char *json, char *buf, size_t len)
{
	buf[0] = '\0';
	if (!json || !json[0])
		return;
	json_t *a = json_loads(json, 0, NULL);
	size_t off = 0, i;
	json_t *it;
	if (json_is_array(a))
		json_array_foreach(a, i, it)
		{
			const char *s = json_string_value(it);
			if (!s)
				continue;
			int n = snprintf(buf + off, len - off, "%s%s", off ? "," : "", s);
			if (n < 0 || (size_t)n >= len - off)
				break;
			off += (size_t)n;
		}
	json_decref(a);
}

#define SET(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

static void fill_hint(struct hint_fields *h, const struct lverdict *v)
{
	SET(h->app, v->app_name);
	SET(h->engine, v->engine);
	SET(h->source, v->source);
	SET(h->category, v->app_category);
	SET(h->detected_protocol, v->detected_protocol);
	SET(h->master_protocol, v->master_protocol);
	SET(h->application_protocol, v->application_protocol);
	SET(h->classification_category, v->category);
	SET(h->classification_confidence, v->confidence);
	risk_list(v->risk_json, h->risk, sizeof(h->risk));
	SET(h->reason, v->reason);
	SET(h->tls_sni, v->tls_sni);
	SET(h->http_host, v->http_host);
	SET(h->dns_query, v->dns_query);
	if (v->app_confidence >= 0)
		snprintf(h->confidence, sizeof(h->confidence), "%d", v->app_confidence);
}

void writer_format_age(int64_t ns, char *buf, size_t len)
{
	if (ns < 0)
		ns = 0;
	int64_t s = (ns + 500000000) / 1000000000;
	rdpi_duration_format(s * 1000000000, buf, len);
}

/* The verdict a deny row gets: its own, else the flow's from memory, else from SQLite. */
static const struct lverdict *deny_verdict(struct writer *w, struct lentry *e, int64_t *ret_age,
					   struct lverdict **ret_owned)
{
	*ret_owned = NULL;
	*ret_age = -1;
	if (!e->has_key)
		return lverdict_known(e->v) ? e->v : NULL;
	int64_t ts = (int64_t)e->ts_ns;
	struct wflow *f = rdpi_flowtab_lookup(w->mem, &e->key, (uint64_t)w->clock);
	if (lverdict_known(e->v)) {
		rdpi_counter_inc(&w->stats.deny_classified);
		bool created = false;
		if (!f &&
		    rdpi_flowtab_upsert(w->mem, &e->key, (uint64_t)w->clock, (void **)&f,
					&created) == 0 &&
		    created) {
			f->key = e->key;
			f->client_dir = (uint8_t)e->client_dir;
		}
		if (f)
			learn(w, f, e->v, ts);
		return e->v;
	}
	if (f && lverdict_known(f->v) && ts - f->classified_ts <= w->o.flow_ttl_ns) {
		rdpi_counter_inc(&w->stats.deny_enriched);
		*ret_age = ts - f->classified_ts;
		return f->v;
	}
	if (f && f->db_checked)
		return NULL;
	/* SQLite only as the fallback after a restart: once the writer has run for a TTL, every
	 * verdict still in scope was learnt by this process and sits in memory */
	if (ts > w->started + w->o.flow_ttl_ns)
		return NULL;
	char id[33];
	rdpi_flowkey_hex(&e->key, id);
	struct found fd = {0};
	int rv = store_find_flow(w->st, id, ts - w->o.flow_ttl_ns, on_found, &fd);
	bool created = false;
	if (!f &&
	    rdpi_flowtab_upsert(w->mem, &e->key, (uint64_t)w->clock, (void **)&f, &created) == 0 &&
	    created) {
		f->key = e->key;
		f->client_dir = (uint8_t)e->client_dir;
	}
	if (f)
		f->db_checked = true;
	if (rv < 0 || !lverdict_known(fd.v)) {
		lverdict_free(fd.v);
		return NULL;
	}
	rdpi_counter_inc(&w->stats.deny_enriched_db);
	*ret_age = ts - fd.classified_at;
	if (f && !f->v) {
		f->v = fd.v;
		f->classified_ts = fd.classified_at;
		return f->v;
	}
	*ret_owned = fd.v;
	return fd.v;
}

/* ---- conntrack side ------------------------------------------------------------------- */

/* The verdict this process holds for a conntrack connection: the logger's flow key is the
 * forward-hook view, i.e. the orig tuple (SNAT happens after forward), or for a DNAT'd
 * connection the orig source towards the reply source (the real server). */
static struct wflow *ct_flow(struct writer *w, const struct ct_event *c)
{
	struct rdpi_flowkey k;
	uint16_t sp = rdpi_l4proto_has_ports(c->l4proto) ? c->orig_sport : 0;
	uint16_t dp = rdpi_l4proto_has_ports(c->l4proto) ? c->orig_dport : 0;
	rdpi_flowkey_make(c->l3, c->l4proto, c->orig_src, sp, c->orig_dst, dp, &k, NULL);
	struct wflow *f = rdpi_flowtab_peek(w->mem, &k);
	if (f && f->v)
		return f;
	if (memcmp(c->reply_src, c->orig_dst, 16) != 0 || c->reply_sport != c->orig_dport) {
		uint16_t rp = rdpi_l4proto_has_ports(c->l4proto) ? c->reply_sport : 0;
		rdpi_flowkey_make(c->l3, c->l4proto, c->orig_src, sp, c->reply_src, rp, &k, NULL);
		struct wflow *g = rdpi_flowtab_peek(w->mem, &k);
		if (g && g->v)
			return g;
	}
	return f;
}

static void traffic_label(struct writer *w, struct flowsdb_flow *x, const struct wflow *f,
			  uint8_t l4proto, uint16_t sport, uint16_t dport);

static void traffic_upsert(struct writer *w, const struct ct_event *c, const char *proto)
{
	char osrc[RDPI_ADDR_STRLEN], odst[RDPI_ADDR_STRLEN], nat[RDPI_ADDR_STRLEN] = "";
	char id[33], key[64];
	rdpi_addr_format(c->orig_src, osrc, sizeof(osrc));
	rdpi_addr_format(c->orig_dst, odst, sizeof(odst));
	/* masquerade/SNAT: the client's public address is the reply destination; DNAT (port
	 * forward): the real server is the reply source */
	if (memcmp(c->reply_dst, c->orig_src, 16) != 0)
		rdpi_addr_format(c->reply_dst, nat, sizeof(nat));
	else if (memcmp(c->reply_src, c->orig_dst, 16) != 0)
		rdpi_addr_format(c->reply_src, nat, sizeof(nat));
	bool ports = rdpi_l4proto_has_ports(c->l4proto);
	struct rdpi_flowkey k;
	rdpi_flowkey_make(c->l3, c->l4proto, c->orig_src, ports ? c->orig_sport : 0, c->orig_dst,
			  ports ? c->orig_dport : 0, &k, NULL);
	rdpi_flowkey_hex(&k, id);
	/* one row per connection instance: a reused 5-tuple is another conntrack entry with
	 * another id (and start time) */
	if (c->id)
		snprintf(key, sizeof(key), "%s-%08x", id, c->id);
	else
		snprintf(key, sizeof(key), "%s-t%llx", id,
			 (unsigned long long)(c->start_ns ? c->start_ns : c->ts_ns));
	int64_t ts = (int64_t)c->ts_ns;
	struct flowsdb_flow x = {
	    .flow_key = key,
	    .flow_id = id,
	    .conntrack_id = c->id ? (int64_t)c->id : -1,
	    .ts_started = c->start_ns ? (int64_t)c->start_ns : ts,
	    .ts_ended = c->type == CT_DESTROY ? (c->stop_ns ? (int64_t)c->stop_ns : ts) : 0,
	    .client_address = osrc,
	    .client_port = ports ? c->orig_sport : -1,
	    .peer_address = odst,
	    .peer_port = ports ? c->orig_dport : -1,
	    .protocol = proto,
	    .l3_proto = l3_name(c->l3),
	    .nat_translated_address = nat,
	    /* NEW/UPDATE events carry no counters even with accounting on: only DESTROY and
	     * dumps say whether it is on */
	    .accounting = c->has_counters	  ? "conntrack"
			  : c->type == CT_DESTROY ? "conntrack-acct-off"
						  : NULL,
	    .bytes_out = c->has_counters ? (int64_t)c->orig_bytes : -1,
	    .bytes_in = c->has_counters ? (int64_t)c->reply_bytes : -1,
	    .packets_out = c->has_counters ? (int64_t)c->orig_packets : -1,
	    .packets_in = c->has_counters ? (int64_t)c->reply_packets : -1,
	    .app_confidence = -1,
	    .risk_score = -1,
	    .now = ts,
	};
	traffic_label(w, &x, ct_flow(w, c), c->l4proto, ports ? c->orig_sport : 0,
		      ports ? c->orig_dport : 0);
	if (flowsdb_upsert(w->o.flows, &x) < 0)
		rdpi_counter_inc(&w->stats.write_errors);
	else
		rdpi_counter_inc(&w->stats.traffic_upserts);
}

/* The labels of a traffic-flows.db row: the flow's known verdict, else the project's one port
 * table, labelled as the guess it is (any later DPI label outranks it). */
static void traffic_label(struct writer *w, struct flowsdb_flow *x, const struct wflow *f,
			  uint8_t l4proto, uint16_t sport, uint16_t dport)
{
	const struct lverdict *v = f && lverdict_known(f->v) ? f->v : NULL;
	if (v) {
		x->app_name = v->app_name;
		x->app_category = v->app_category;
		x->app_confidence = v->app_confidence;
		x->detected_protocol = v->detected_protocol;
		x->master_protocol = v->master_protocol;
		x->application_protocol = v->application_protocol;
		x->category = v->category;
		x->risk = v->risk_json;
		x->confidence = v->confidence;
		x->metadata_json = v->metadata_json;
		x->engine = v->engine;
		x->source = v->source;
		x->guessed = v->guessed;
		x->risk_score = v->risk_score;
		x->tls_sni = v->tls_sni;
		x->http_host = v->http_host;
		x->dns_query = v->dns_query;
		x->resolved_hostname = v->tls_sni[0]			    ? v->tls_sni
				      : v->http_host[0]			    ? v->http_host
				      : strcmp(v->source, "dns-cache") == 0 ? v->dns_query
									    : NULL;
		x->classified_at = f->classified_ts;
		rdpi_counter_inc(&w->stats.traffic_enriched);
	} else {
		/* nothing better: the project's one port table, labelled as the guess it is
		 * (any later DPI label outranks it) */
		const struct rdpi_ports_entry *pe =
		    rdpi_l4proto_has_ports(l4proto) ? rdpi_ports_lookup(l4proto, sport, dport)
						     : NULL;
		if (pe) {
			x->app_name = pe->app;
			x->app_category = pe->category;
			x->app_confidence = pe->confidence;
			x->application_protocol = pe->app;
			x->category = pe->category;
			x->engine = "builtin";
			x->source = "port-fallback";
			x->confidence = "port";
			rdpi_counter_inc(&w->stats.traffic_port_fallback);
		}
	}
}

/* One traffic-flows.db row from a capture flow's own counters. The row's key is the flow id
 * and its first packet time, like a conntrack entry without an id. */
static void capture_upsert(struct writer *w, const struct wflow *f, bool ended)
{
	const struct rdpi_flowkey *k = &f->key;
	char id[33], key[64], lo[RDPI_ADDR_STRLEN], hi[RDPI_ADDR_STRLEN], pbuf[16];
	rdpi_flowkey_hex(k, id);
	snprintf(key, sizeof(key), "%s-t%llx", id, (unsigned long long)f->cap_seen);
	rdpi_addr_format(k->lo_addr, lo, sizeof(lo));
	rdpi_addr_format(k->hi_addr, hi, sizeof(hi));
	bool lo_client = f->client_dir == RDPI_FLOWKEY_DIR_LO_TO_HI;
	bool ports = rdpi_l4proto_has_ports(k->l4proto);
	uint16_t cport = lo_client ? k->lo_port : k->hi_port;
	uint16_t sport = lo_client ? k->hi_port : k->lo_port;
	struct flowsdb_flow x = {
	    .flow_key = key,
	    .flow_id = id,
	    .conntrack_id = -1,
	    .ts_started = f->cap_first,
	    .ts_ended = ended ? f->cap_last : 0,
	    .client_address = lo_client ? lo : hi,
	    .client_port = ports ? cport : -1,
	    .peer_address = lo_client ? hi : lo,
	    .peer_port = ports ? sport : -1,
	    .protocol = rdpi_l4proto_name(k->l4proto, pbuf, sizeof(pbuf)),
	    .l3_proto = l3_name(k->l3),
	    .accounting = "capture",
	    .bytes_out = (int64_t)f->cap_bytes_out,
	    .bytes_in = (int64_t)f->cap_bytes_in,
	    .packets_out = (int64_t)f->cap_packets_out,
	    .packets_in = (int64_t)f->cap_packets_in,
	    .app_confidence = -1,
	    .risk_score = -1,
	    .now = f->cap_last,
	};
	traffic_label(w, &x, f, k->l4proto, cport, sport);
	if (flowsdb_upsert(w->o.flows, &x) < 0)
		rdpi_counter_inc(&w->stats.write_errors);
	else
		rdpi_counter_inc(&w->stats.traffic_upserts);
}

/* Keeps the connection's newest event on its forward-view key: conntrack's NEW event usually
 * reaches us before the NFLOG batch with the packets, so the row is first written unlabelled;
 * once the verdict arrives, upsert_flow() writes the row again from this event. */
static void remember_ct(struct writer *w, const struct ct_event *c)
{
	struct rdpi_flowkey k;
	int dir;
	bool ports = rdpi_l4proto_has_ports(c->l4proto);
	rdpi_flowkey_make(c->l3, c->l4proto, c->orig_src, ports ? c->orig_sport : 0, c->orig_dst,
			  ports ? c->orig_dport : 0, &k, &dir);
	struct wflow *f = NULL;
	bool created = false;
	if (rdpi_flowtab_upsert(w->mem, &k, (uint64_t)w->clock, (void **)&f, &created) < 0)
		return;
	if (created) {
		f->key = k;
		f->client_dir = (uint8_t)dir;
	}
	if (!f->ct && !(f->ct = malloc(sizeof(*f->ct))))
		return;
	*f->ct = *c;
}

static void on_ct(struct writer *w, const struct ct_event *c)
{
	char pbuf[16];
	const char *proto = rdpi_l4proto_name(c->l4proto, pbuf, sizeof(pbuf));
	rdpi_counter_inc(&w->stats.ct_events);
	if (c->type == CT_DESTROY) {
		char osrc[RDPI_ADDR_STRLEN], odst[RDPI_ADDR_STRLEN], rsrc[RDPI_ADDR_STRLEN],
		    rdst[RDPI_ADDR_STRLEN], raw[CT_FORMAT_MAX];
		rdpi_addr_format(c->orig_src, osrc, sizeof(osrc));
		rdpi_addr_format(c->orig_dst, odst, sizeof(odst));
		rdpi_addr_format(c->reply_src, rsrc, sizeof(rsrc));
		rdpi_addr_format(c->reply_dst, rdst, sizeof(rdst));
		if (ct_event_format(c, raw, sizeof(raw)) < 0)
			raw[0] = '\0';
		bool ports = rdpi_l4proto_has_ports(c->l4proto);
		int64_t pk = c->has_counters ? (int64_t)(c->orig_packets + c->reply_packets) : -1;
		int64_t by = c->has_counters ? (int64_t)(c->orig_bytes + c->reply_bytes) : -1;
		struct store_expired x = {.ts = (int64_t)c->ts_ns,
					  .l3_proto = l3_name(c->l3),
					  .protocol = proto,
					  .orig_src = osrc,
					  .orig_src_port = ports ? c->orig_sport : -1,
					  .orig_dst = odst,
					  .orig_dst_port = ports ? c->orig_dport : -1,
					  .reply_src = rsrc,
					  .reply_src_port = ports ? c->reply_sport : -1,
					  .reply_dst = rdst,
					  .reply_dst_port = ports ? c->reply_dport : -1,
					  .packets = pk,
					  .bytes = by,
					  .raw = raw};
		if (store_add_expired(w->st, &x) < 0)
			rdpi_counter_inc(&w->stats.write_errors);
		if (w->exp) {
			struct expired_rec r = {.ts = (int64_t)c->ts_ns,
						.l3 = c->l3,
						.l4proto = c->l4proto,
						.orig_sport = ports ? c->orig_sport : 0,
						.orig_dport = ports ? c->orig_dport : 0,
						.reply_sport = ports ? c->reply_sport : 0,
						.reply_dport = ports ? c->reply_dport : 0,
						.packets = pk,
						.bytes = by};
			memcpy(r.orig_src, c->orig_src, 16);
			memcpy(r.orig_dst, c->orig_dst, 16);
			memcpy(r.reply_src, c->reply_src, 16);
			memcpy(r.reply_dst, c->reply_dst, 16);
			expiredtab_add(w->exp, &r);
		}
	}
	if (w->o.flows) {
		remember_ct(w, c);
		traffic_upsert(w, c, proto);
	}
}

struct found_expired {
	bool found;
	struct expired_rec r;
};

static void on_found_expired(void *arg, const struct store_expired *x)
{
	struct found_expired *fe = arg;
	struct expired_rec *r = &fe->r;
	int l3 = 4;
	if (rdpi_addr_parse(x->orig_src, r->orig_src, &l3) < 0 ||
	    rdpi_addr_parse(x->orig_dst, r->orig_dst, NULL) < 0)
		return;
	r->l3 = (uint8_t)l3;
	r->ts = x->ts;
	r->orig_sport = x->orig_src_port > 0 ? (uint16_t)x->orig_src_port : 0;
	r->orig_dport = x->orig_dst_port > 0 ? (uint16_t)x->orig_dst_port : 0;
	r->packets = x->packets;
	r->bytes = x->bytes;
	fe->found = true;
}

/* Orphan-return correlation of a deny row: the newest connection that expired within the
 * window and whose reply tuple is this packet's tuple. Fills l->correlation*, and returns
 * the original flow's verdict (may be NULL). */
static const struct lverdict *correlate(struct writer *w, const struct lentry *e,
					struct store_log *l, char *detail, size_t dlen)
{
	int64_t ts = (int64_t)e->ts_ns;
	uint16_t sp = e->has_ports ? e->sport : 0, dp = e->has_ports ? e->dport : 0;
	const struct expired_rec *m =
	    expiredtab_match(w->exp, e->l3, e->l4proto, e->src, sp, e->dst, dp, ts);
	struct found_expired fe = {0};
	if (!m && ts <= w->started + EXPIRED_WINDOW) {
		/* after a restart the table starts empty: the window may reach back into
		 * rows written by the previous process */
		char src[RDPI_ADDR_STRLEN], dst[RDPI_ADDR_STRLEN], pbuf[16];
		rdpi_addr_format(e->src, src, sizeof(src));
		rdpi_addr_format(e->dst, dst, sizeof(dst));
		if (store_find_expired(w->st, rdpi_l4proto_name(e->l4proto, pbuf, sizeof(pbuf)),
				       src, e->has_ports ? sp : -1, dst, e->has_ports ? dp : -1,
				       ts - EXPIRED_WINDOW, on_found_expired, &fe) == 0 &&
		    fe.found) {
			m = &fe.r;
			rdpi_counter_inc(&w->stats.orphan_returns_db);
		}
	}
	if (!m) {
		l->correlation = "true_suspicious";
		l->correlation_detail = "no expired reverse flow match";
		rdpi_counter_inc(&w->stats.true_suspicious);
		return NULL;
	}
	rdpi_counter_inc(&w->stats.orphan_returns);
	struct rdpi_flowkey k;
	rdpi_flowkey_make(m->l3, e->l4proto, m->orig_src, m->orig_sport, m->orig_dst, m->orig_dport,
			  &k, NULL);
	struct wflow *f = rdpi_flowtab_peek(w->mem, &k);
	const struct lverdict *v = f && lverdict_known(f->v) ? f->v : NULL;
	char label[320], pbuf[16];
	if (v)
		lverdict_label(v, label, sizeof(label));
	else
		snprintf(label, sizeof(label), "%s",
			 rdpi_l4proto_name(e->l4proto, pbuf, sizeof(pbuf)));
	expired_detail(m, label, ts, detail, dlen);
	l->correlation = "orphan_return";
	l->correlation_detail = detail;
	l->expired_age_seconds = (ts - m->ts) / 1000000000ll;
	l->expired_bytes = m->bytes;
	return v;
}

/* The hint of a deny row: the tag, the verdict's dpi.* tokens, and the "matched prior" sentence
 * when the verdict came from an earlier packet of the flow (age >= 0). -ENOMEM. */
static int build_hint(const char *tag, const struct lverdict *v, int64_t age, char *hint,
		      size_t len)
{
	/* most rows of a deny flood carry no DPI: their hint is the bare tag (tags are our own
	 * constants and need no escaping), without building a 4 KiB hint_fields */
	if (!v) {
		snprintf(hint, len, "%s", tag);
		return 0;
	}
	struct hint_fields *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	SET(h->tag, tag);
	fill_hint(h, v);
	if (age >= 0) {
		char label[320], a[48];
		lverdict_label(v, label, sizeof(label));
		writer_format_age(age, a, sizeof(a));
		snprintf(h->text, sizeof(h->text),
			 "denied packet matched prior %s flow classified %s ago", label, a);
	}
	if (hint_build(h, hint, len) < 0)
		hint[0] = '\0';
	free(h);
	return 0;
}

static void on_deny(struct writer *w, struct lentry *e)
{
	char src[RDPI_ADDR_STRLEN] = "", dst[RDPI_ADDR_STRLEN] = "", pbuf[16], flags[40];
	char hint[HINT_LEN_MAX];
	struct lverdict *owned = NULL;
	int64_t age = -1;
	const struct lverdict *v = deny_verdict(w, e, &age, &owned);

	const char *tag = e->tag[0] ? e->tag : LENTRY_TAG_NETLINK;
	if (build_hint(tag, v, age, hint, sizeof(hint)) < 0) {
		lverdict_free(owned);
		rdpi_counter_inc(&w->stats.write_errors);
		return;
	}

	if (e->l3) {
		rdpi_addr_format(e->src, src, sizeof(src));
		rdpi_addr_format(e->dst, dst, sizeof(dst));
	}
	struct store_log l = {
	    .ts = (int64_t)e->ts_ns,
	    .zone_from = e->pfx.zone_from,
	    .zone_to = e->pfx.zone_to,
	    .rule_name = e->pfx.rule_name,
	    .action = hint_action_name(e->pfx.action),
	    .src_address = src,
	    .src_port = e->has_ports ? e->sport : -1,
	    .dst_address = dst,
	    .dst_port = e->has_ports ? e->dport : -1,
	    .protocol = e->l3 ? rdpi_l4proto_name(e->l4proto, pbuf, sizeof(pbuf)) : NULL,
	    .tcp_flags =
		e->has_tcp_flags ? lentry_tcp_flags(e->tcp_flags, flags, sizeof(flags)) : NULL,
	    .l3_proto = e->l3 ? l3_name(e->l3) : NULL,
	    .in_iface = e->in_iface,
	    .out_iface = e->out_iface,
	    .packet_bytes = e->packet_bytes,
	    .hint = hint,
	    .dpi_confidence = -1,
	    .expired_age_seconds = -1,
	    .expired_bytes = -1,
	    .dpi_risk_score = -1,
	};
	char detail[600];
	if (w->exp && e->l3) {
		const struct lverdict *ov = correlate(w, e, &l, detail, sizeof(detail));
		if (!v && ov) {
			/* the original flow's DPI applies to its late reply */
			v = ov;
			if (build_hint(tag, v, -1, hint, sizeof(hint)) < 0)
				hint[0] = '\0';
		}
	}
	if (v) {
		l.dpi_app = v->app_name;
		l.dpi_category = v->app_category;
		l.dpi_tls_sni = v->tls_sni;
		l.dpi_http_host = v->http_host;
		l.dpi_dns_query = v->dns_query;
		l.dpi_confidence = v->app_confidence;
		l.dpi_source = v->source;
		l.dpi_risk_score = v->risk_score;
	}
	if (store_add_log(w->st, &l) < 0)
		rdpi_counter_inc(&w->stats.write_errors);
	else
		rdpi_counter_inc(&w->stats.deny_rows);
	lverdict_free(owned);
}

static void housekeeping(struct writer *w, bool force)
{
	uint64_t mono = rdpi_monotonic_ns();
	if (w->o.flows)
		flowsdb_maybe_flush(w->o.flows, mono);
	if (force || w->ndirty + store_pending(w->st) >= w->o.batch_max ||
	    (w->ndirty && mono - w->dirty_since >= w->o.batch_age_ns) ||
	    store_maybe_flush(w->st, mono) != 0)
		writer_flush(w);
	else if (store_pending(w->st))
		store_maybe_flush(w->st, mono);
	if (mono - w->last_expire >= EXPIRE_EVERY) {
		w->last_expire = mono;
		rdpi_flowtab_expire(w->mem, (uint64_t)w->clock, 4096);
		publish(w);
	}
	if (mono - w->last_prune >= w->o.prune_every_ns) {
		w->last_prune = mono;
		int64_t now = w->o.offline ? w->clock : (int64_t)(time(NULL)) * 1000000000ll;
		writer_flush(w);
		if (store_prune(w->st, now, w->o.flow_ttl_ns, PRUNE_WORK, w->o.dpi_flow_limit,
				NULL) < 0 ||
		    store_prune_expired(w->st, now, atomic_load(&w->expired_ttl_ns), PRUNE_WORK,
					w->o.expired_limit, NULL) < 0)
			rdpi_log(LOG_WARNING, TAG, "retention failed: %s", store_errmsg(w->st));
		if (w->o.flows &&
		    flowsdb_prune(w->o.flows, now, atomic_load(&w->traffic_ttl_ns), PRUNE_WORK,
				  atomic_load(&w->traffic_limit), NULL) < 0)
			rdpi_log(LOG_WARNING, TAG, "traffic-flows.db retention failed: %s",
				 flowsdb_errmsg(w->o.flows));
		/* bursts (a deny flood, thousands of new connections) leave freed entries in
		 * the allocator: give the pages back once the queue has drained */
		if (lqueue_depth(w->q) == 0)
			malloc_trim(0);
		publish(w);
	}
}

void writer_set_retention(struct writer *w, int64_t expired_ttl_ns, int64_t traffic_ttl_ns,
			  size_t traffic_limit)
{
	atomic_store(&w->expired_ttl_ns, expired_ttl_ns);
	atomic_store(&w->traffic_ttl_ns, traffic_ttl_ns);
	atomic_store(&w->traffic_limit, traffic_limit);
}

void writer_process(struct writer *w, struct lentry *e)
{
	rdpi_counter_inc(&w->stats.entries);
	if ((int64_t)e->ts_ns > w->clock)
		w->clock = (int64_t)e->ts_ns;
	if (e->ct)
		on_ct(w, e->ct);
	else if (e->pfx.action == HINT_ACTION_ACCEPT)
		on_accept(w, e);
	else
		on_deny(w, e);
	lentry_free(e);
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct lentry *batch[POP_MAX];
	for (;;) {
		/* read before popping: once stopping, producers are done and the queue is
		 * closed, so an empty pop means drained */
		bool stopping = !__atomic_load_n(&w->running, __ATOMIC_ACQUIRE);
		size_t n = lqueue_pop_timed(w->q, batch, POP_MAX, 50000);
		for (size_t i = 0; i < n; i++)
			writer_process(w, batch[i]);
		housekeeping(w, false);
		if (n == 0 && stopping)
			break;
	}
	housekeeping(w, true);
	return NULL;
}

int writer_start(struct writer *w)
{
	w->running = true;
	w->last_expire = w->last_prune = rdpi_monotonic_ns();
	int rv = pthread_create(&w->thread, NULL, writer_main, w);
	if (rv) {
		w->running = false;
		return -rv;
	}
	return 0;
}

void writer_stop(struct writer *w)
{
	if (!w)
		return;
	if (w->thread) {
		__atomic_store_n(&w->running, false, __ATOMIC_RELEASE);
		lqueue_close(w->q);
		pthread_join(w->thread, NULL);
		w->thread = 0;
	} else {
		writer_flush(w);
	}
}

size_t writer_queue_depth(struct writer *w)
{
	return lqueue_depth(w->q);
}

int writer_submit(struct writer *w, struct lentry *e, bool wait)
{
	int rv = wait ? lqueue_push_wait(w->q, e) : lqueue_push(w->q, e);
	if (rv < 0) {
		rdpi_counter_inc(&w->stats.queue_drops);
		rdpi_log_rl(
		    &w->drop_rl, LOG_WARNING, TAG,
		    "writer queue full (%zu entries): records dropped (writer_queue_drops); "
		    "SQLite cannot keep up with this burst",
		    lqueue_capacity(w->q));
		lentry_free(e);
		return -ENOSPC;
	}
	return 0;
}

void writer_free(struct writer *w)
{
	if (!w)
		return;
	writer_stop(w);
	/* the table's fini callback writes any flow still dirty, then commit */
	rdpi_flowtab_free(w->mem);
	w->mem = NULL;
	store_flush(w->st);
	if (w->o.flows)
		flowsdb_flush(w->o.flows);
	expiredtab_free(w->exp);
	lqueue_free(w->q);
	free(w);
}

int writer_register(struct writer *w, struct rdpi_counters *reg)
{
	struct writer_stats *s = &w->stats;
	const struct {
		const char *name;
		struct rdpi_counter *c;
		enum rdpi_counter_kind kind;
		const char *help;
	} t[] = {
	    {"writer_entries", &s->entries, RDPI_COUNTER, "entries processed by the writer"},
	    {"writer_queue_drops", &s->queue_drops, RDPI_COUNTER,
	     "records dropped because the writer queue was full"},
	    {"writer_queue_depth", &s->queue_depth, RDPI_GAUGE, "entries waiting for the writer"},
	    {"accept_packets", &s->accept_packets, RDPI_COUNTER,
	     "accept packets folded into dpi_flow"},
	    {"accept_unkeyed", &s->unkeyed, RDPI_COUNTER, "accept packets without a flow key"},
	    {"deny_rows", &s->deny_rows, RDPI_COUNTER, "firewall_logs rows queued"},
	    {"deny_enriched", &s->deny_enriched, RDPI_COUNTER,
	     "deny rows enriched from the in-memory flow table"},
	    {"deny_enriched_db", &s->deny_enriched_db, RDPI_COUNTER,
	     "deny rows enriched from dpi_flow in SQLite"},
	    {"deny_classified", &s->deny_classified, RDPI_COUNTER,
	     "deny rows with their own verdict"},
	    {"write_errors", &s->write_errors, RDPI_COUNTER, "failed store calls"},
	    {"rows_firewall_logs", &s->rows_firewall_logs, RDPI_COUNTER,
	     "firewall_logs rows committed"},
	    {"rows_dpi_flow", &s->rows_dpi_flow, RDPI_COUNTER, "dpi_flow upserts committed"},
	    {"rows_expired_flows", &s->rows_expired_flows, RDPI_COUNTER,
	     "expired_flows rows committed"},
	    {"commits", &s->commits, RDPI_COUNTER, "transactions committed"},
	    {"commit_errors", &s->commit_errors, RDPI_COUNTER, "failed commits"},
	    {"rows_lost", &s->rows_lost, RDPI_COUNTER, "rows rolled back by failed commits"},
	    {"commit_us_last", &s->commit_us_last, RDPI_GAUGE, "last commit latency"},
	    {"commit_us_max", &s->commit_us_max, RDPI_GAUGE, "max commit latency"},
	    {"batch_last", &s->batch_last, RDPI_GAUGE, "rows in the last transaction"},
	    {"batch_max", &s->batch_max, RDPI_GAUGE, "most rows in one transaction"},
	    {"pruned_dpi_flow", &s->pruned_flows, RDPI_COUNTER, "dpi_flow rows pruned"},
	    {"pruned_expired_flows", &s->pruned_expired, RDPI_COUNTER, "expired_flows rows pruned"},
	    {"writer_flows", &s->mem_flows, RDPI_GAUGE, "flows in the in-memory verdict table"},
	    {"writer_flows_bytes", &s->mem_flows_bytes, RDPI_GAUGE,
	     "bytes of the in-memory verdict table"},
	    {"ct_entries", &s->ct_events, RDPI_COUNTER, "conntrack entries written"},
	    {"orphan_returns", &s->orphan_returns, RDPI_COUNTER,
	     "deny rows correlated with an expired connection"},
	    {"orphan_returns_db", &s->orphan_returns_db, RDPI_COUNTER,
	     "... whose expired connection came from SQLite"},
	    {"true_suspicious", &s->true_suspicious, RDPI_COUNTER,
	     "deny rows without an expired reverse flow"},
	    {"traffic_upserts", &s->traffic_upserts, RDPI_COUNTER, "traffic-flows.db upserts"},
	    {"traffic_enriched", &s->traffic_enriched, RDPI_COUNTER,
	     "traffic-flows.db upserts with a DPI label"},
	    {"traffic_port_fallback", &s->traffic_port_fallback, RDPI_COUNTER,
	     "traffic-flows.db upserts labelled by the port table only"},
	    {"rows_traffic_flows", &s->rows_traffic, RDPI_COUNTER, "flows rows committed"},
	    {"traffic_commit_errors", &s->traffic_commit_errors, RDPI_COUNTER,
	     "failed traffic-flows.db commits"},
	    {"pruned_traffic_flows", &s->pruned_traffic, RDPI_COUNTER, "flows rows pruned"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rv = rdpi_counters_register(reg, t[i].name, NULL, t[i].kind, t[i].help, t[i].c);
		if (rv < 0)
			return rv;
	}
	return 0;
}

const struct writer_stats *writer_stats(const struct writer *w)
{
	return &w->stats;
}

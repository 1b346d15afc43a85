/* The classifier's engine: policy limits, verdict cache, builtin parsers,
 * agent calls, name caches and the merge, per packet or per batch. */
#include "engine.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agentlink.h"
#include "builtin.h"
#include "common/flowkey.h"
#include "common/flowtab.h"
#include "common/packet.h"
#include "common/service.h"
#include "dns.h"
#include "hostapps.h"
#include "tls_reasm.h"

struct flow {
	uint8_t *packed; /* best verdict so far (verdict_pack) */
	size_t packed_len;
	uint16_t payload_packets;
	bool final;
	struct tls_reasm *reasm[2]; /* per direction, only while a ClientHello is incomplete */
};

struct engine {
	struct engine_opts opts;
	pthread_mutex_t lock;
	struct rdpi_flowtab *flows;
	struct hostcache *hc;
	struct engine_stats st; /* under lock */
};

static const char *const kind_names[] = {
    [ENGINE_BUILTIN] = "builtin",
    [ENGINE_AUTO] = "auto",
    [ENGINE_NDPI_AGENT] = "ndpi-agent",
};

int engine_kind_parse(const char *s, enum engine_kind *ret)
{
	char buf[32];
	size_t n = 0;
	while (s && isspace((unsigned char)*s))
		s++;
	for (; s && *s && n + 1 < sizeof(buf); s++)
		buf[n++] = (char)tolower((unsigned char)*s);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (strcmp(buf, kind_names[i]) == 0) {
			*ret = (enum engine_kind)i;
			return 0;
		}
	return -EINVAL;
}

const char *engine_kind_name(enum engine_kind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

static void flow_fini(void *value, void *arg)
{
	struct flow *f = value;
	free(f->packed);
	free(f->reasm[0]);
	free(f->reasm[1]);
	memset(f, 0, sizeof(*f));
}

int engine_new(const struct engine_opts *opts, struct engine **ret)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->opts = *opts;
	if (!e->opts.first_payload_packets)
		e->opts.first_payload_packets = 10;
	if (!e->opts.copy_range)
		e->opts.copy_range = 2048;
	if (!e->opts.flow_ttl_ns)
		e->opts.flow_ttl_ns = 3600ull * 1000000000ull;
	if (!e->opts.flow_limit)
		e->opts.flow_limit = 100000;
	pthread_mutex_init(&e->lock, NULL);
	struct rdpi_flowtab_opts fo = {.limit = e->opts.flow_limit,
				       .ttl_ns = e->opts.flow_ttl_ns,
				       .value_size = sizeof(struct flow),
				       .value_fini_fn = flow_fini};
	int rv = rdpi_flowtab_new(&fo, &e->flows);
	if (rv == 0)
		rv = hostcache_new(&e->opts.hostcache, &e->hc);
	if (rv < 0) {
		engine_free(e);
		return rv;
	}
	*ret = e;
	return 0;
}

void engine_set_policy(struct engine *e, unsigned first_payload_packets, uint32_t copy_range)
{
	pthread_mutex_lock(&e->lock);
	if (first_payload_packets)
		e->opts.first_payload_packets = first_payload_packets;
	if (copy_range)
		e->opts.copy_range = copy_range;
	pthread_mutex_unlock(&e->lock);
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	rdpi_flowtab_free(e->flows);
	hostcache_free(e->hc);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

/* ---- request decoding ------------------------------------------------------ */

struct pkt {
	uint8_t l3; /* 4 / 6 */
	uint8_t l4proto;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t tcp_seq;
	bool has_seq;
	const uint8_t *payload;
	size_t len;
};

static int decode(const struct engine *e, const Routerd__Dpi__V1__ClassifyRequest *r, struct pkt *p,
		  char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	if (r->packet.len > 0) {
		struct rdpi_packet rp;
		size_t n = r->packet.len < e->opts.copy_range ? r->packet.len : e->opts.copy_range;
		int rv = rdpi_packet_parse(r->packet.data, n, &rp);
		if (rv < 0) {
			snprintf(err, errlen, "packet: cannot parse IP packet (%s)", strerror(-rv));
			return rv;
		}
		p->l3 = rp.l3;
		p->l4proto = rp.l4proto;
		memcpy(p->src, rp.src, 16);
		memcpy(p->dst, rp.dst, 16);
		p->sport = rp.sport;
		p->dport = rp.dport;
		p->payload = rp.payload;
		p->len = rp.payload_len;
		p->tcp_seq = rp.tcp_seq;
		p->has_seq = rp.l4proto == IPPROTO_TCP;
		return 0;
	}
	int l3a = 0, l3b = 0;
	if (!r->srcaddress || rdpi_addr_parse(r->srcaddress, p->src, &l3a) < 0 || !r->dstaddress ||
	    rdpi_addr_parse(r->dstaddress, p->dst, &l3b) < 0 || l3a != l3b) {
		snprintf(err, errlen,
			 "request needs packet, or srcAddress and dstAddress of one "
			 "family");
		return -EINVAL;
	}
	if (rdpi_l4proto_parse(r->transportprotocol, &p->l4proto) < 0) {
		snprintf(err, errlen, "transportProtocol \"%s\" is not tcp, udp or a number",
			 r->transportprotocol ? r->transportprotocol : "");
		return -EINVAL;
	}
	if (r->srcport > 65535 || r->dstport > 65535) {
		snprintf(err, errlen, "port out of range");
		return -EINVAL;
	}
	p->l3 = (uint8_t)l3a;
	p->sport = (uint16_t)r->srcport;
	p->dport = (uint16_t)r->dstport;
	const ProtobufCBinaryData *pl = r->l4payload.len ? &r->l4payload : &r->payload;
	p->payload = pl->data;
	p->len = pl->len < e->opts.copy_range ? pl->len : e->opts.copy_range;
	return 0;
}

/* ---- per-packet work under the engine lock ------------------------------------ */

static void learn_dns(struct engine *e, const struct pkt *p, uint64_t now)
{
	if (p->len == 0 || (p->sport != 53 && p->sport != 5353))
		return;
	struct dns_message m;
	int rv = p->l4proto == IPPROTO_TCP ? dns_parse_tcp(p->payload, p->len, &m)
					   : dns_parse(p->payload, p->len, &m);
	if (rv != 0 || !m.qr || !m.has_question)
		return;
	for (size_t i = 0; i < m.n_answers; i++) {
		const struct dns_answer *a = &m.answers[i];
		if (a->type == DNS_TYPE_A || a->type == DNS_TYPE_AAAA)
			hostcache_dns_put(e->hc, p->dst, a->addr, m.qname, a->ttl, now);
	}
}

/* Evidence from the name caches for a flow without payload evidence. */
static void name_cache_verdict(struct engine *e, const struct pkt *p, uint64_t now,
			       struct verdict *ret)
{
	char name[VERDICT_HOST_MAX];
	verdict_init(ret);
	/* the server is whichever side a cache knows; try both directions */
	const uint8_t *cl[2] = {p->src, p->dst}, *sv[2] = {p->dst, p->src};
	uint16_t svport[2] = {p->dport, p->sport};
	for (int d = 0; d < 2; d++) {
		if (hostcache_sni_get(e->hc, sv[d], svport[d], now, name, sizeof(name)) == 0) {
			const struct hostapps_entry *h = hostapps_lookup(name);
			bool udp = p->l4proto == IPPROTO_UDP;
			ret->source = VERDICT_SOURCE_SNI_CACHE;
			ret->confidence = 60;
			verdict_copy_name(ret->app, sizeof(ret->app),
					  h	? h->app
					  : udp ? "quic"
						: "tls");
			verdict_copy_name(ret->category, sizeof(ret->category),
					  h ? h->category : "web");
			verdict_copy_name(ret->master, sizeof(ret->master), udp ? "quic" : "tls");
			verdict_copy_name(ret->tls_sni, sizeof(ret->tls_sni), name);
			snprintf(ret->reason, sizeof(ret->reason), "sni_cache");
			return;
		}
	}
	for (int d = 0; d < 2; d++) {
		if (hostcache_dns_get(e->hc, cl[d], sv[d], now, name, sizeof(name)) != 0)
			continue;
		verdict_copy_name(ret->resolved_host, sizeof(ret->resolved_host), name);
		const struct hostapps_entry *h = hostapps_lookup(name);
		if (h) {
			ret->source = VERDICT_SOURCE_DNS_CACHE;
			ret->confidence = 55;
			verdict_copy_name(ret->app, sizeof(ret->app), h->app);
			verdict_copy_name(ret->category, sizeof(ret->category), h->category);
			snprintf(ret->reason, sizeof(ret->reason), "dns_cache");
		}
		return;
	}
}

static void load_flow_verdict(const struct flow *f, struct verdict *v)
{
	if (!f->packed || verdict_unpack(f->packed, f->packed_len, v) < 0)
		verdict_init(v);
}

static void store_flow_verdict(struct flow *f, const struct verdict *v)
{
	uint8_t *buf;
	size_t n;
	if (verdict_pack(v, &buf, &n) == 0) {
		free(f->packed);
		f->packed = buf;
		f->packed_len = n;
	}
}

/* Run the builtin parsers on this packet, reassembling a split ClientHello. */
static enum builtin_outcome run_builtin(struct flow *f, int dir, const struct pkt *p,
					struct verdict *out)
{
	struct builtin_input in = {.l4proto = p->l4proto,
				   .sport = p->sport,
				   .dport = p->dport,
				   .payload = p->payload,
				   .len = p->len};
	struct tls_reasm *r = f->reasm[dir];
	if (r && p->len > 0) {
		if (tls_reasm_add(r, p->tcp_seq, p->payload, p->len) == 0) {
			size_t n = 0;
			in.payload = tls_reasm_data(r, &n);
			in.len = n;
		} else {
			free(r); /* gap or overflow: give up on this hello */
			f->reasm[dir] = r = NULL;
		}
	}
	enum builtin_outcome o = builtin_classify(&in, out);
	if (o == BUILTIN_NEED_MORE && !r && p->has_seq && p->len > 0) {
		r = malloc(sizeof(*r));
		if (r) {
			tls_reasm_init(r);
			if (tls_reasm_add(r, p->tcp_seq, p->payload, p->len) == 0)
				f->reasm[dir] = r;
			else
				free(r);
		}
	} else if (o != BUILTIN_NEED_MORE && r) {
		free(r);
		f->reasm[dir] = NULL;
	}
	return o;
}

/* A TLS flow stays open for the ServerHello (version, cipher) until the
 * packet budget runs out. */
static bool awaits_server_hello(const struct verdict *v, const struct pkt *p)
{
	return p->l4proto == IPPROTO_TCP && strcmp(v->app, "tls") == 0 &&
	       !verdict_meta_get(v, "tls.cipher");
}

struct work {
	struct pkt p;
	struct rdpi_flowkey key;
	int dir;
	bool need_agent;
	bool builtin_match;
	Routerd__Dpi__V1__ClassifyRequest agent_req;
};

static void count_result(struct engine *e, const struct engine_item *it)
{
	e->st.by_source[it->v.source]++;
	if (!verdict_known(&it->v))
		e->st.unknown++;
}

/* Phase 1: decode, cache, builtin, name caches. Returns whether the agent is wanted. */
static void phase1(struct engine *e, const Routerd__Dpi__V1__ClassifyRequest *r, struct work *w,
		   struct engine_item *it, uint64_t now)
{
	char err[160];
	/* field by field: the item embeds a multi-KiB verdict */
	verdict_init(&it->v);
	it->l3[0] = it->l4[0] = it->src[0] = it->dst[0] = it->flow_id[0] = '\0';
	it->fallback_reason[0] = '\0';
	it->sport = it->dport = 0;
	it->cache_hit = it->used_agent = it->invalid = false;
	if (decode(e, r, &w->p, err, sizeof(err)) < 0) {
		it->invalid = true;
		snprintf(it->fallback_reason, sizeof(it->fallback_reason), "%s", err);
		snprintf(it->v.reason, sizeof(it->v.reason), "invalid_request");
		e->st.invalid++;
		return;
	}
	const struct pkt *p = &w->p;
	char l4buf[16];
	snprintf(it->l3, sizeof(it->l3), "%s", p->l3 == 6 ? "ipv6" : "ipv4");
	snprintf(it->l4, sizeof(it->l4), "%s", rdpi_l4proto_name(p->l4proto, l4buf, sizeof(l4buf)));
	rdpi_addr_format(p->src, it->src, sizeof(it->src));
	rdpi_addr_format(p->dst, it->dst, sizeof(it->dst));
	it->sport = p->sport;
	it->dport = p->dport;
	rdpi_flowkey_make(p->l3, p->l4proto, p->src, p->sport, p->dst, p->dport, &w->key, &w->dir);
	rdpi_flowkey_hex(&w->key, it->flow_id);

	learn_dns(e, p, now);

	void *val = NULL;
	bool created = false;
	if (rdpi_flowtab_upsert(e->flows, &w->key, now, &val, &created) < 0) {
		/* no memory for state: classify this packet alone */
		builtin_classify(
		    &(struct builtin_input){p->l4proto, p->sport, p->dport, p->payload, p->len},
		    &it->v);
		return;
	}
	struct flow *f = val;
	if (f->final) {
		load_flow_verdict(f, &it->v);
		verdict_meta_set(&it->v, "cache", "hit");
		it->cache_hit = true;
		e->st.cache_hits++;
		return;
	}
	struct verdict cur, b;
	load_flow_verdict(f, &cur);
	if (p->len > 0)
		f->payload_packets++;
	e->st.builtin_packets++;
	enum builtin_outcome o = run_builtin(f, w->dir, p, &b);
	w->builtin_match = o == BUILTIN_MATCH;
	if (o == BUILTIN_MATCH) {
		e->st.builtin_classified++;
		if (b.tls_sni[0]) /* remember who serves this name */
			hostcache_sni_put(e->hc, p->dst, p->dport, b.tls_sni, now);
	}
	verdict_merge(&cur, &b);
	if (!w->builtin_match) {
		struct verdict nc;
		name_cache_verdict(e, p, now, &nc);
		verdict_merge(&cur, &nc);
	}
	bool budget_spent = f->payload_packets >= e->opts.first_payload_packets;
	bool agent_mode = e->opts.kind != ENGINE_BUILTIN && e->opts.agent;
	if (!agent_mode && ((w->builtin_match && !awaits_server_hello(&cur, p)) || budget_spent))
		cur.final = true;
	if (budget_spent && !cur.final) {
		cur.final = true;
		e->st.budget_final++;
	}
	w->need_agent = agent_mode; /* a final flow returned above */
	if (w->need_agent) {
		w->agent_req = *r;
		if (w->agent_req.packet.len > e->opts.copy_range)
			w->agent_req.packet.len = e->opts.copy_range;
		if (w->agent_req.l4payload.len > e->opts.copy_range)
			w->agent_req.l4payload.len = e->opts.copy_range;
		if (w->agent_req.payload.len > e->opts.copy_range)
			w->agent_req.payload.len = e->opts.copy_range;
		w->agent_req.flowid = it->flow_id;
	}
	f->final = cur.final && !w->need_agent;
	store_flow_verdict(f, &cur);
	it->v = cur;
}

/* An agent result as a verdict. */
static void agent_verdict(const Routerd__Dpi__V1__ClassifyResult *a, struct verdict *v)
{
	verdict_init(v);
	v->source = a->guessed ? VERDICT_SOURCE_NDPI_GUESS : VERDICT_SOURCE_NDPI;
	v->guessed = a->guessed;
	v->final = a->final;
	v->confidence = (uint8_t)(a->appconfidence > 100 ? 100
				  : a->appconfidence < 0 ? 0
							 : a->appconfidence);
	verdict_copy_name(v->app, sizeof(v->app), a->appname);
	verdict_copy_name(v->category, sizeof(v->category),
			  a->appcategory && *a->appcategory ? a->appcategory : a->category);
	verdict_copy_name(v->master, sizeof(v->master), a->masterprotocol);
	verdict_copy_name(v->detected, sizeof(v->detected), a->detectedprotocol);
	verdict_copy_name(v->application, sizeof(v->application), a->applicationprotocol);
	snprintf(v->ndpi_confidence, sizeof(v->ndpi_confidence), "%s",
		 a->confidence ? a->confidence : "");
	snprintf(v->reason, sizeof(v->reason), "%s", a->reason ? a->reason : "");
	verdict_copy_name(v->tls_sni, sizeof(v->tls_sni), a->tlssni);
	verdict_copy_name(v->http_host, sizeof(v->http_host), a->httphost);
	verdict_copy_name(v->dns_query, sizeof(v->dns_query), a->dnsquery);
	size_t at = 0;
	for (size_t i = 0; i < a->n_risk && at + 1 < sizeof(v->risk); i++)
		at += (size_t)snprintf(v->risk + at, sizeof(v->risk) - at, "%s%s", i ? "," : "",
				       a->risk[i]);
	v->risk_score = a->riskscore;
	for (size_t i = 0; i < a->n_metadata; i++)
		verdict_meta_set(v, a->metadata[i]->key, a->metadata[i]->value);
}

void engine_classify(struct engine *e, Routerd__Dpi__V1__ClassifyRequest *const *reqs, size_t n,
		     uint32_t timeout_ms, struct engine_item *items)
{
	struct work *w = calloc(n ? n : 1, sizeof(*w));
	Routerd__Dpi__V1__ClassifyRequest **areq = calloc(n ? n : 1, sizeof(*areq));
	size_t *aidx = calloc(n ? n : 1, sizeof(*aidx));
	uint64_t now = rdpi_monotonic_ns();
	size_t na = 0;

	pthread_mutex_lock(&e->lock);
	e->st.batches++;
	e->st.requests += n;
	for (size_t i = 0; i < n; i++) {
		if (!w || !areq || !aidx) { /* out of memory: answer unknown */
			memset(&items[i], 0, sizeof(items[i]));
			verdict_init(&items[i].v);
			items[i].invalid = true;
			snprintf(items[i].fallback_reason, sizeof(items[i].fallback_reason),
				 "out of memory");
			continue;
		}
		phase1(e, reqs[i], &w[i], &items[i], now);
		if (w[i].need_agent) {
			areq[na] = &w[i].agent_req;
			aidx[na++] = i;
		}
	}
	pthread_mutex_unlock(&e->lock);

	Routerd__Dpi__V1__ObserveBatchReply *rep = NULL;
	char err[160] = "";
	enum rdpi_status st = RDPI_STATUS_OK;
	if (na > 0)
		st = agentlink_observe(e->opts.agent, areq, na, timeout_ms, &rep, err, sizeof(err));

	pthread_mutex_lock(&e->lock);
	if (na > 0) {
		e->st.agent_packets += na;
		if (st != RDPI_STATUS_OK) {
			e->st.agent_errors++;
			if (st == RDPI_STATUS_DEADLINE_EXCEEDED)
				e->st.timeout_errors++;
		}
	}
	for (size_t k = 0; k < na; k++) {
		size_t i = aidx[k];
		struct engine_item *it = &items[i];
		void *val = rdpi_flowtab_peek(e->flows, &w[i].key);
		struct flow *f = val;
		struct verdict cur;
		if (f)
			load_flow_verdict(f, &cur);
		else
			cur = it->v;
		if (st == RDPI_STATUS_OK) {
			struct verdict av;
			agent_verdict(rep->results[k], &av);
			if (verdict_known(&av)) {
				e->st.agent_classified++;
				it->used_agent = true;
			} else {
				snprintf(it->fallback_reason, sizeof(it->fallback_reason),
					 "agent_unknown");
			}
			verdict_merge(&cur, &av);
			if (av.final)
				cur.final = true;
		} else {
			snprintf(it->fallback_reason, sizeof(it->fallback_reason), "agent_%s: %s",
				 st == RDPI_STATUS_DEADLINE_EXCEEDED ? "timeout" : "unavailable",
				 err);
			/* without the agent the builtin verdict stands on its own */
			if (w[i].builtin_match)
				cur.final = true;
		}
		if (!it->used_agent)
			e->st.fallbacks++;
		if (f) {
			if (f->payload_packets >= e->opts.first_payload_packets)
				cur.final = true;
			f->final = cur.final;
			store_flow_verdict(f, &cur);
		}
		it->v = cur;
	}
	for (size_t i = 0; i < n; i++)
		count_result(e, &items[i]);
	pthread_mutex_unlock(&e->lock);
	if (rep)
		protobuf_c_message_free_unpacked(&rep->base, NULL);
	free(w);
	free(areq);
	free(aidx);
}

void engine_stats(struct engine *e, struct engine_stats *ret)
{
	struct rdpi_flowtab_stats fs;
	pthread_mutex_lock(&e->lock);
	*ret = e->st;
	rdpi_flowtab_stats(e->flows, &fs);
	pthread_mutex_unlock(&e->lock);
	ret->active_flows = fs.size;
	ret->flow_evictions = fs.evictions;
	ret->flow_expiries = fs.expiries;
	ret->flow_bytes = fs.bytes;
	hostcache_stats(e->hc, &ret->hostcache);
}

void engine_expire(struct engine *e, uint64_t now_ns)
{
	pthread_mutex_lock(&e->lock);
	rdpi_flowtab_expire(e->flows, now_ns, 4096);
	pthread_mutex_unlock(&e->lock);
}

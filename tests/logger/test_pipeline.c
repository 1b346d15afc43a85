/* Tests for the logger pipeline stages on real SQLite files: packet -> entry, the per-flow DPI
 * budget (bidirectional, final flows), the writer (coalesced improve-only dpi_flow upserts,
 * deny enrichment from memory in the reverse direction and from SQLite after a restart), the
 * bounded queue, and the whole pipeline with the classifier missing (records still written). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "budget.h"
#include "common/packet.h"
#include "common/synth.h"
#include "ct.h"
#include "entry.h"
#include "flowsdb.h"
#include "logger.h"
#include "lqueue.h"
#include "lverdict.h"
#include "store.h"
#include "writer.h"
#include "testutil.h"

#define CLI "192.0.2.10"
#define SRV "198.51.100.20"
#define SEC 1000000000ull
#define T0  (1795000000ull * SEC)

struct fx {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	if (tu_tmpdir(fx->dir, sizeof(fx->dir), "rdpi-pipe") < 0)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/firewall-logs.db", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	if (tu_rmrf(fx->dir) < 0)
		return -1;
	free(fx);
	return 0;
}

static int64_t q_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void q_text(const char *path, const char *sql, char *buf, size_t len)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	snprintf(buf, len, "(none)");
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(buf, len, "%s", t ? (const char *)t : "(null)");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* A TCP packet src->dst with flags and payload, as an entry. */
static struct lentry *tcp(uint64_t ts, const char *prefix, const char *src, uint16_t sp,
			  const char *dst, uint16_t dp, uint8_t flags, const char *payload)
{
	struct rdpi_synth_tuple t = {.l3 = 4, .l4proto = 6, .sport = sp, .dport = dp};
	assert_int_equal(rdpi_addr_parse(src, t.src, NULL), 0);
	assert_int_equal(rdpi_addr_parse(dst, t.dst, NULL), 0);
	struct rdpi_synth_tcp th = {.seq = 1, .flags = flags};
	uint8_t pkt[2048];
	size_t len = 0;
	size_t pl = payload ? strlen(payload) : 0;
	assert_int_equal(
	    rdpi_synth_packet(&t, &th, (const uint8_t *)payload, pl, pkt, sizeof(pkt), &len), 0);
	struct lentry *e = malloc(sizeof(*e));
	assert_non_null(e);
	assert_int_equal(
	    lentry_from_l3(e, ts, LENTRY_TAG_NETLINK, prefix, "eth1", "eth0", pkt, len), 0);
	return e;
}

static struct lverdict *verdict(const char *app, const char *source, const char *sni)
{
	struct lverdict f = {.app_name = app,
			     .app_category = "web",
			     .engine = "builtin",
			     .source = source,
			     .tls_sni = sni,
			     .app_confidence = 90,
			     .risk_score = 0};
	struct lverdict *v = lverdict_make(&f);
	assert_non_null(v);
	return v;
}

#define ACCEPT "routerd firewall forward accept "
#define DENY   "routerd firewall forward deny "

/* ---- entry ------------------------------------------------------------------------------ */

static void test_pipeline_entry_from_packet(void **state)
{
	struct lentry *e =
	    tcp(T0, "routerd firewall lan-to-wan drop ", CLI, 40000, SRV, 443, 0x02, NULL);
	assert_int_equal(e->l3, 4);
	assert_int_equal(e->l4proto, 6);
	assert_true(e->has_ports);
	assert_int_equal(e->sport, 40000);
	assert_int_equal(e->dport, 443);
	assert_int_equal(e->packet_bytes, 40);
	assert_int_equal(e->payload_len, 0);
	assert_true(e->has_tcp_flags);
	assert_string_equal(e->pfx.zone_from, "lan");
	assert_string_equal(e->pfx.zone_to, "wan");
	assert_int_equal(e->pfx.action, HINT_ACTION_DROP);
	assert_string_equal(e->in_iface, "eth1");
	assert_true(e->has_key);
	char buf[32];
	assert_string_equal(lentry_tcp_flags(0x12, buf, sizeof(buf)), "SYN,ACK");
	assert_string_equal(lentry_tcp_flags(0x19, buf, sizeof(buf)), "ACK,FIN,PSH");
	assert_string_equal(lentry_tcp_flags(0, buf, sizeof(buf)), "");
	lentry_free(e);
}

static void test_pipeline_entry_foreign_prefix(void **state)
{
	struct lentry e;
	memset(&e, 0, sizeof(e));
	lentry_set_prefix(&e, "  my-accept-rule ");
	assert_string_equal(e.pfx.rule_name, "my-accept-rule");
	assert_int_equal(e.pfx.action, HINT_ACTION_ACCEPT);
	lentry_set_prefix(&e, "");
	assert_string_equal(e.pfx.rule_name, "nflog");
	assert_int_equal(e.pfx.action, HINT_ACTION_DROP);
	lentry_set_prefix(&e, "routerd firewall forward accept ");
	assert_int_equal(e.pfx.action, HINT_ACTION_ACCEPT);
}

static void test_pipeline_entry_bad_packet(void **state)
{
	static const uint8_t junk[] = {0x45, 0x00, 0x00};
	struct lentry e;
	assert_true(lentry_from_l3(&e, T0, "t", DENY, "", "", junk, sizeof(junk)) < 0);
	assert_int_equal(e.l3, 0);
	assert_false(e.has_key);
	assert_int_equal(e.pfx.action, HINT_ACTION_DENY); /* the row keeps its rule */
}

/* ---- budget ----------------------------------------------------------------------------- */

static void test_pipeline_budget_bidirectional(void **state)
{
	struct budget *b;
	struct budget_opts o = {.first_payload_packets = 3};
	assert_int_equal(budget_new(&o, &b), 0);
	int cdir = -1, admitted = 0;
	/* SYN: no payload, never a candidate, but decides the client */
	struct lentry *syn = tcp(T0, ACCEPT, CLI, 40000, SRV, 443, 0x02, NULL);
	assert_false(budget_admit(b, syn, &cdir));
	assert_int_equal(cdir, syn->dir);
	/* 5 payload packets alternating directions: only 3 are candidates in total */
	for (int i = 0; i < 5; i++) {
		struct lentry *e = (i % 2 == 0)
				       ? tcp(T0 + i, ACCEPT, CLI, 40000, SRV, 443, 0x18, "hello")
				       : tcp(T0 + i, ACCEPT, SRV, 443, CLI, 40000, 0x18, "world");
		int d;
		admitted += budget_admit(b, e, &d);
		assert_int_equal(d, syn->dir); /* same client whichever way the packet goes */
		lentry_free(e);
	}
	assert_int_equal(admitted, 3);
	/* a final flow stops at once */
	struct lentry *other = tcp(T0, ACCEPT, CLI, 40001, SRV, 443, 0x18, "x");
	assert_true(budget_admit(b, other, NULL));
	budget_mark_final(b, &other->key);
	assert_false(budget_admit(b, other, NULL));
	struct budget_stats st;
	budget_stats(b, &st);
	assert_int_equal(st.candidates, 4);
	assert_int_equal(st.over_budget, 2);
	assert_int_equal(st.final_skips, 1);
	assert_int_equal(st.flows, 2);
	lentry_free(other);
	lentry_free(syn);
	budget_free(b);
}

static void test_pipeline_budget_client_side(void **state)
{
	/* SYN+ACK from the server: the client is the receiver */
	struct lentry *sa = tcp(T0, ACCEPT, SRV, 443, CLI, 40000, 0x12, NULL);
	assert_int_equal(budget_client_dir(sa), sa->dir ^ 1);
	/* no SYN: the well-known port is the server */
	struct lentry *d = tcp(T0, ACCEPT, SRV, 443, CLI, 40000, 0x18, "x");
	assert_int_equal(budget_client_dir(d), d->dir ^ 1);
	lentry_free(sa);
	lentry_free(d);
}

/* ---- writer ----------------------------------------------------------------------------- */

static struct store *open_store(struct fx *fx)
{
	struct store_opts so = {.path = fx->path};
	struct store *st = NULL;
	char err[256];
	assert_int_equal(store_open(&so, err, sizeof(err), &st), 0);
	return st;
}

static void test_pipeline_writer_coalesces_and_improves(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_store(fx);
	struct writer *w;
	struct writer_opts wo = {.store = st};
	assert_int_equal(writer_new(&wo, &w), 0);
	int cdir;
	struct budget *b;
	struct budget_opts bo = {0};
	assert_int_equal(budget_new(&bo, &b), 0);

	struct lentry *e = tcp(T0, ACCEPT, CLI, 40000, SRV, 443, 0x02, NULL);
	budget_admit(b, e, &e->client_dir);
	cdir = e->client_dir;
	writer_process(w, e);
	e = tcp(T0 + SEC, ACCEPT, SRV, 443, CLI, 40000, 0x18, "y");
	e->client_dir = cdir;
	e->v = verdict("unknown", "builtin", "");
	writer_process(w, e);
	e = tcp(T0 + 2 * SEC, ACCEPT, CLI, 40000, SRV, 443, 0x18, "z");
	e->client_dir = cdir;
	e->v = verdict("tls", "sni-cache", "a.example");
	writer_process(w, e);
	assert_int_equal(writer_flush(w), 0);
	/* one row; client side first; three packets; the known label won */
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM dpi_flow"), 1);
	char t[128];
	q_text(fx->path, "SELECT src_address||':'||src_port||'>'||dst_port FROM dpi_flow", t,
	       sizeof(t));
	assert_string_equal(t, CLI ":40000>443");
	assert_int_equal(q_int(fx->path, "SELECT packet_count FROM dpi_flow"), 3);
	q_text(fx->path, "SELECT app_name||'/'||source||'/'||tls_sni FROM dpi_flow", t, sizeof(t));
	assert_string_equal(t, "tls/sni-cache/a.example");
	assert_int_equal(q_int(fx->path, "SELECT ts_last - ts_first FROM dpi_flow"),
			 (int64_t)(2 * SEC));

	/* a later unknown and a weaker port guess change nothing but the count */
	e = tcp(T0 + 3 * SEC, ACCEPT, CLI, 40000, SRV, 443, 0x18, "w");
	e->client_dir = cdir;
	e->v = verdict("https", "port-fallback", "");
	writer_process(w, e);
	e = tcp(T0 + 4 * SEC, ACCEPT, CLI, 40000, SRV, 443, 0x18, "w");
	e->client_dir = cdir;
	e->v = verdict("unknown", "builtin", "");
	writer_process(w, e);
	/* a stronger source replaces it */
	e = tcp(T0 + 5 * SEC, ACCEPT, CLI, 40000, SRV, 443, 0x18, "w");
	e->client_dir = cdir;
	e->v = verdict("tls", "builtin-payload", "b.example");
	writer_process(w, e);
	assert_int_equal(writer_flush(w), 0);
	q_text(fx->path, "SELECT app_name||'/'||source||'/'||tls_sni FROM dpi_flow", t, sizeof(t));
	assert_string_equal(t, "tls/builtin-payload/b.example");
	assert_int_equal(q_int(fx->path, "SELECT packet_count FROM dpi_flow"), 6);
	/* coalesced: fewer upserts than packets */
	assert_true(rdpi_counter_get(&writer_stats(w)->rows_dpi_flow) < 6);
	writer_free(w);
	store_free(st);
	budget_free(b);
}

static void test_pipeline_writer_deny_enriched_reverse(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_store(fx);
	struct writer *w;
	struct writer_opts wo = {.store = st};
	assert_int_equal(writer_new(&wo, &w), 0);
	struct lentry *e = tcp(T0, ACCEPT, CLI, 40000, SRV, 443, 0x18, "hello");
	e->client_dir = e->dir;
	e->v = verdict("tls", "builtin-payload", "enrich.example");
	writer_process(w, e);
	/* the server's late packet is denied: reverse direction of the same flow, 3 min later */
	e = tcp(T0 + 180 * SEC, DENY, SRV, 443, CLI, 40000, 0x11, NULL);
	writer_process(w, e);
	/* an unrelated deny stays plain */
	e = tcp(T0 + 181 * SEC, DENY, SRV, 443, CLI, 40009, 0x11, NULL);
	writer_process(w, e);
	assert_int_equal(writer_flush(w), 0);
	char t[512];
	q_text(fx->path,
	       "SELECT dpi_app||'/'||dpi_tls_sni||'/'||dpi_source FROM firewall_logs "
	       "WHERE dst_port = 40000",
	       t, sizeof(t));
	assert_string_equal(t, "tls/enrich.example/builtin-payload");
	q_text(fx->path, "SELECT hint FROM firewall_logs WHERE dst_port = 40000", t, sizeof(t));
	assert_non_null(strstr(t, "dpi.tls_sni=enrich.example"));
	assert_non_null(strstr(
	    t, "denied packet matched prior TLS-SNI=enrich.example flow classified 3m0s ago"));
	struct hint_fields *h = calloc(1, sizeof(*h));
	assert_int_equal(hint_parse(t, h), 0);
	assert_string_equal(h->tls_sni, "enrich.example");
	assert_string_equal(h->text,
			    "denied packet matched prior TLS-SNI=enrich.example flow classified "
			    "3m0s ago");
	free(h);
	q_text(fx->path,
	       "SELECT coalesce(dpi_app, 'none') FROM firewall_logs WHERE dst_port = 40009", t,
	       sizeof(t));
	assert_string_equal(t, "none");
	assert_int_equal(rdpi_counter_get(&writer_stats(w)->deny_enriched), 1);
	/* past the TTL (1 h default) the match is gone */
	e = tcp(T0 + 3601 * SEC, DENY, SRV, 443, CLI, 40000, 0x11, NULL);
	writer_process(w, e);
	assert_int_equal(writer_flush(w), 0);
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM firewall_logs WHERE dpi_app IS NULL "
					 "AND dst_port = 40000"),
			 1);
	writer_free(w);
	store_free(st);
}

static void test_pipeline_writer_deny_enriched_after_restart(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_store(fx);
	struct writer *w;
	struct writer_opts wo = {.store = st};
	assert_int_equal(writer_new(&wo, &w), 0);
	struct lentry *e = tcp(T0, ACCEPT, CLI, 40000, SRV, 80, 0x18, "GET");
	e->client_dir = e->dir;
	struct lverdict f = {.app_name = "http",
			     .source = "builtin-payload",
			     .http_host = "restart.example",
			     .app_confidence = 80};
	e->v = lverdict_make(&f);
	writer_process(w, e);
	writer_free(w);
	store_free(st);

	/* a new process: empty memory, the flow comes from SQLite */
	st = open_store(fx);
	wo.store = st;
	assert_int_equal(writer_new(&wo, &w), 0);
	e = tcp(T0 + 60 * SEC, DENY, SRV, 80, CLI, 40000, 0x04, NULL);
	writer_process(w, e);
	e = tcp(T0 + 61 * SEC, DENY, SRV, 80, CLI, 40000, 0x04, NULL);
	writer_process(w, e); /* second one served from memory */
	assert_int_equal(writer_flush(w), 0);
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM firewall_logs WHERE "
					 "dpi_http_host = 'restart.example'"),
			 2);
	assert_int_equal(rdpi_counter_get(&writer_stats(w)->deny_enriched_db), 1);
	assert_int_equal(rdpi_counter_get(&writer_stats(w)->deny_enriched), 1);
	char t[512];
	q_text(fx->path, "SELECT hint FROM firewall_logs ORDER BY id LIMIT 1", t, sizeof(t));
	assert_non_null(
	    strstr(t, "matched prior HTTP-Host=restart.example flow classified 1m0s ago"));
	writer_free(w);
	store_free(st);
}

static void test_pipeline_format_age(void **state)
{
	char b[32];
	writer_format_age(45 * (int64_t)SEC + 400000000, b, sizeof(b));
	assert_string_equal(b, "45s");
	writer_format_age(192 * (int64_t)SEC, b, sizeof(b));
	assert_string_equal(b, "3m12s");
	writer_format_age(0, b, sizeof(b));
	assert_string_equal(b, "0s");
}

/* ---- queue ------------------------------------------------------------------------------ */

static void test_pipeline_queue_bounded(void **state)
{
	struct lqueue *q;
	assert_int_equal(lqueue_new(2, &q), 0);
	struct lentry *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)),
		      *c = calloc(1, sizeof(*c));
	assert_int_equal(lqueue_push(q, a), 0);
	assert_int_equal(lqueue_push(q, b), 0);
	assert_int_equal(lqueue_push(q, c), -ENOSPC);
	struct lentry *out[4];
	assert_int_equal(lqueue_pop_timed(q, out, 4, 1000), 2);
	assert_ptr_equal(out[0], a);
	assert_ptr_equal(out[1], b);
	assert_int_equal(lqueue_pop_timed(q, out, 4, 1000), 0);
	assert_int_equal(lqueue_push(q, c), 0);
	lqueue_close(q);
	assert_int_equal(lqueue_push(q, a), -EPIPE);
	assert_int_equal(lqueue_pop(q, out, 4, 0), 1); /* closed: drains what is left */
	assert_int_equal(lqueue_pop(q, out, 4, 0), 0);
	assert_int_equal(lqueue_high_water(q), 2);
	lentry_free(a);
	lentry_free(b);
	lentry_free(c);
	lqueue_free(q);
}

/* ---- whole pipeline, classifier missing ------------------------------------------------- */

static void test_pipeline_classifier_missing(void **state)
{
	struct fx *fx = *state;
	char url[160], err[256];
	snprintf(url, sizeof(url), "ipc://%s/nobody.ipc", fx->dir);
	struct logger_opts lo = {.path = fx->path, .dpi_url = url, .dpi_timeout_ms = 100};
	struct logger *lg;
	assert_int_equal(logger_open(&lo, err, sizeof(err), &lg), 0);
	assert_int_equal(logger_start(lg), 0);
	uint8_t pkt[256];
	for (int i = 0; i < 4; i++) {
		size_t len = rdpi_synth_tcp_packet(CLI, (uint16_t)(40000 + i), SRV, 443, 1,
						   (const uint8_t *)"hello", 5, pkt, sizeof(pkt));
		struct lentry *e = malloc(sizeof(*e));
		assert_int_equal(lentry_from_l3(e, T0 + (uint64_t)i, LENTRY_TAG_NETLINK,
						i < 2 ? ACCEPT : DENY, "", "", pkt, len),
				 0);
		logger_submit(lg, e, pkt, len);
	}
	logger_stop(lg);
	const struct logger_stats *ls = logger_stats(lg);
	assert_int_equal(rdpi_counter_get(&ls->candidates), 4);
	logger_free(lg);
	/* every record written, none with DPI */
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM dpi_flow"), 2);
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM firewall_logs"), 2);
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM firewall_logs WHERE dpi_app IS NOT "
					 "NULL"),
			 0);
}

/* ---- conntrack side --------------------------------------------------------------------- */

static struct lentry *ct_entry(enum ct_type type, uint64_t ts, uint32_t id, const char *cli,
			       uint16_t cport, const char *srv, uint16_t sport, int64_t bytes)
{
	struct lentry *e = calloc(1, sizeof(*e));
	struct ct_event *c = calloc(1, sizeof(*c));
	assert_non_null(e);
	assert_non_null(c);
	c->type = type;
	c->ts_ns = ts;
	c->id = id;
	c->l3 = 4;
	c->l4proto = 6;
	assert_int_equal(rdpi_addr_parse(cli, c->orig_src, NULL), 0);
	assert_int_equal(rdpi_addr_parse(srv, c->orig_dst, NULL), 0);
	memcpy(c->reply_src, c->orig_dst, 16);
	memcpy(c->reply_dst, c->orig_src, 16);
	c->orig_sport = cport;
	c->orig_dport = sport;
	c->reply_sport = sport;
	c->reply_dport = cport;
	c->has_reply = true;
	c->has_counters = bytes >= 0; /* < 0: nf_conntrack_acct off */
	if (bytes >= 0) {
		c->orig_bytes = (uint64_t)(bytes / 4);
		c->reply_bytes = (uint64_t)(bytes - bytes / 4);
	}
	c->orig_packets = 3;
	c->reply_packets = 4;
	e->ct = c;
	e->ts_ns = ts;
	return e;
}

static void test_pipeline_writer_orphan_return(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_store(fx);
	struct writer *w;
	struct writer_opts wo = {.store = st, .correlate = true};
	assert_int_equal(writer_new(&wo, &w), 0);
	/* a classified TLS connection, then conntrack expires it */
	struct lentry *e = tcp(T0, ACCEPT, CLI, 40000, SRV, 443, 0x18, "hello");
	e->client_dir = e->dir;
	e->v = verdict("tls", "builtin-payload", "orphan.example");
	writer_process(w, e);
	writer_process(w, ct_entry(CT_DESTROY, T0 + 10 * SEC, 7, CLI, 40000, SRV, 443, 4096));
	/* 90 s later the server's late FIN arrives and is denied */
	writer_process(w, tcp(T0 + 100 * SEC, DENY, SRV, 443, CLI, 40000, 0x11, NULL));
	/* a packet nobody expected */
	writer_process(w, tcp(T0 + 101 * SEC, DENY, SRV, 443, CLI, 40999, 0x02, NULL));
	assert_int_equal(writer_flush(w), 0);
	char t[600];
	q_text(
	    fx->path,
	    "SELECT correlation||'|'||expired_age_seconds||'|'||expired_bytes||'|'||dpi_app||'|'||"
	    "correlation_detail FROM firewall_logs WHERE dst_port = 40000",
	    t, sizeof(t));
	assert_string_equal(t, "orphan_return|90|4096|tls|likely orphan return from expired "
			       "TLS-SNI=orphan.example conn (orig: 192.0.2.10:40000 -> "
			       "198.51.100.20:443, expired 1m30s ago, 4096 bytes transferred)");
	q_text(
	    fx->path,
	    "SELECT correlation||'|'||correlation_detail FROM firewall_logs WHERE dst_port = 40999",
	    t, sizeof(t));
	assert_string_equal(t, "true_suspicious|no expired reverse flow match");
	q_text(fx->path, "SELECT raw FROM expired_flows", t, sizeof(t));
	assert_non_null(strstr(t, "[DESTROY] tcp 6"));
	assert_int_equal(q_int(fx->path,
			       "SELECT count(*) FROM expired_flows WHERE reply_src = '" SRV
			       "' AND reply_dst_port = 40000 AND bytes = 4096"),
			 1);
	writer_free(w);
	store_free(st);

	/* after a restart the expired connection comes from SQLite */
	st = open_store(fx);
	wo.store = st;
	assert_int_equal(writer_new(&wo, &w), 0);
	writer_process(w, tcp(T0 + 200 * SEC, DENY, SRV, 443, CLI, 40000, 0x04, NULL));
	assert_int_equal(writer_flush(w), 0);
	assert_int_equal(q_int(fx->path,
			       "SELECT count(*) FROM firewall_logs WHERE dst_port = 40000 "
			       "AND correlation = 'orphan_return'"),
			 2);
	assert_int_equal(rdpi_counter_get(&writer_stats(w)->orphan_returns_db), 1);
	writer_free(w);
	store_free(st);
}

/* A writer with both databases (conntrack side on), for the traffic-flows.db tests. */
struct traffic_fx {
	struct store *st;
	struct flowsdb *fdb;
	struct writer *w;
	char tpath[160];
};

static void traffic_open(struct fx *fx, const char *name, struct traffic_fx *t)
{
	char err[256];
	t->st = open_store(fx);
	snprintf(t->tpath, sizeof(t->tpath), "%s/%s", fx->dir, name);
	struct flowsdb_opts fo = {.path = t->tpath};
	assert_int_equal(flowsdb_open(&fo, err, sizeof(err), &t->fdb), 0);
	struct writer_opts wo = {.store = t->st, .flows = t->fdb, .correlate = true};
	assert_int_equal(writer_new(&wo, &t->w), 0);
}

static void traffic_close(struct traffic_fx *t)
{
	writer_free(t->w);
	flowsdb_free(t->fdb);
	store_free(t->st);
}

static void test_pipeline_writer_traffic_flows(void **state)
{
	struct traffic_fx tf;
	traffic_open(*state, "traffic-flows.db", &tf);
	struct writer *w = tf.w;
	const char *tpath = tf.tpath;
	writer_process(w, ct_entry(CT_NEW, T0, 9, CLI, 40000, SRV, 443, 0));
	struct lentry *e = tcp(T0 + SEC, ACCEPT, CLI, 40000, SRV, 443, 0x18, "hello");
	e->client_dir = e->dir;
	e->v = verdict("tls", "builtin-payload", "traffic.example");
	writer_process(w, e);
	writer_process(w, ct_entry(CT_UPDATE, T0 + 2 * SEC, 9, CLI, 40000, SRV, 443, 800));
	writer_process(w, ct_entry(CT_DESTROY, T0 + 5 * SEC, 9, CLI, 40000, SRV, 443, 2000));
	/* the same 5-tuple reused by a new connection: a new row, not the old one */
	writer_process(w, ct_entry(CT_NEW, T0 + 6 * SEC, 10, CLI, 40000, SRV, 443, 0));
	assert_int_equal(writer_flush(w), 0);
	char t[600];
	q_text(tpath,
	       "SELECT client_address||':'||client_port||'>'||peer_address||':'||peer_port||'|'||"
	       "app_name||'|'||source||'|'||tls_sni||'|'||resolved_hostname||'|'||bytes_out||'/'||"
	       "bytes_in||'|'||(ts_ended - ts_started)||'|'||accounting FROM flows WHERE "
	       "conntrack_id = 9",
	       t, sizeof(t));
	assert_string_equal(t, CLI ":40000>" SRV ":443|tls|builtin-payload|traffic.example|"
				   "traffic.example|500/1500|5000000000|conntrack");
	assert_int_equal(q_int(tpath, "SELECT count(*) FROM flows"), 2);
	assert_int_equal(q_int(tpath, "SELECT ts_ended IS NULL FROM flows WHERE conntrack_id = 10"),
			 1);
	traffic_close(&tf);
}

/* conntrack's NEW event comes first (NFLOG batches packets), the verdict later: the open
 * connection's row is relabelled as soon as the verdict is written, without waiting for an
 * UPDATE, a dump or the DESTROY; a weaker later verdict changes nothing. */
static void test_pipeline_writer_traffic_relabel_open(void **state)
{
	struct traffic_fx tf;
	traffic_open(*state, "traffic-relabel.db", &tf);
	struct writer *w = tf.w;
	const char *tpath = tf.tpath;
	writer_process(w, ct_entry(CT_NEW, T0, 21, CLI, 41000, SRV, 443, -1));
	assert_int_equal(writer_flush(w), 0);
	char t[300];
	q_text(tpath, "SELECT source FROM flows WHERE conntrack_id = 21", t, sizeof(t));
	assert_string_equal(t, "port-fallback");

	struct lentry *e = tcp(T0 + SEC, ACCEPT, CLI, 41000, SRV, 443, 0x18, "hello");
	e->client_dir = e->dir;
	e->v = verdict("tls", "builtin-payload", "open.example");
	writer_process(w, e);
	assert_int_equal(writer_flush(w), 0);
	q_text(tpath,
	       "SELECT app_name||'|'||source||'|'||tls_sni||'|'||resolved_hostname||'|'||"
	       "(ts_ended IS NULL) FROM flows WHERE conntrack_id = 21",
	       t, sizeof(t));
	assert_string_equal(t, "tls|builtin-payload|open.example|open.example|1");

	e = tcp(T0 + 2 * SEC, ACCEPT, CLI, 41000, SRV, 443, 0x18, "more");
	e->client_dir = e->dir;
	e->v = verdict("https", "port-fallback", "");
	writer_process(w, e);
	assert_int_equal(writer_flush(w), 0);
	q_text(tpath, "SELECT app_name||'|'||source FROM flows WHERE conntrack_id = 21", t,
	       sizeof(t));
	assert_string_equal(t, "tls|builtin-payload");
	assert_int_equal(q_int(tpath, "SELECT count(*) FROM flows"), 1);
	traffic_close(&tf);
}

static void test_pipeline_writer_queue_full_drops_counted(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_store(fx);
	struct writer *w;
	struct writer_opts wo = {.store = st, .queue_limit = 16};
	assert_int_equal(writer_new(&wo, &w), 0);
	/* no thread yet: nothing drains, the 17th entry finds the queue full */
	for (int i = 0; i < 16; i++)
		assert_int_equal(
		    writer_submit(w, tcp(T0 + (uint64_t)i, DENY, CLI, 40000, SRV, 22, 0x02, NULL),
				  false),
		    0);
	assert_int_equal(writer_queue_depth(w), 16);
	assert_int_equal(
	    writer_submit(w, tcp(T0 + 99, DENY, CLI, 40000, SRV, 22, 0x02, NULL), false), -ENOSPC);
	assert_int_equal(rdpi_counter_get(&writer_stats(w)->queue_drops), 1);
	/* the thread drains what was queued; nothing else is lost */
	assert_int_equal(writer_start(w), 0);
	writer_stop(w);
	assert_int_equal(q_int(fx->path, "SELECT count(*) FROM firewall_logs"), 16);
	writer_free(w);
	store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pipeline_entry_from_packet),
	    cmocka_unit_test(test_pipeline_entry_foreign_prefix),
	    cmocka_unit_test(test_pipeline_entry_bad_packet),
	    cmocka_unit_test(test_pipeline_budget_bidirectional),
	    cmocka_unit_test(test_pipeline_budget_client_side),
	    cmocka_unit_test_setup_teardown(test_pipeline_writer_coalesces_and_improves, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_pipeline_writer_deny_enriched_reverse, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_pipeline_writer_deny_enriched_after_restart, setup,
					    teardown),
	    cmocka_unit_test(test_pipeline_format_age),
	    cmocka_unit_test(test_pipeline_queue_bounded),
	    cmocka_unit_test_setup_teardown(test_pipeline_classifier_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pipeline_writer_orphan_return, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pipeline_writer_traffic_flows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pipeline_writer_traffic_relabel_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pipeline_writer_queue_full_drops_counted, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

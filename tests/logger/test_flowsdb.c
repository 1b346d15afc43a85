/* Unit tests for traffic-flows.db (flowsdb.c) on real SQLite files under mkdtemp. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "common/service.h"
#include "flowsdb.h"
#include "testutil.h"

struct fx {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	if (tu_tmpdir(fx->dir, sizeof(fx->dir), "rdpi-flowsdb") < 0)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/traffic-flows.db", fx->dir);
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

static struct flowsdb *open_db(struct fx *fx, size_t batch_max)
{
	struct flowsdb_opts o = {.path = fx->path, .batch_max = batch_max};
	struct flowsdb *f = NULL;
	char err[FLOWSDB_ERRMSG_MAX] = "";
	int rc = flowsdb_open(&o, err, sizeof(err), &f);
	if (rc != 0)
		print_message("flowsdb_open: %d %s\n", rc, err);
	assert_int_equal(rc, 0);
	return f;
}

static sqlite3 *ro(struct fx *fx)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open_v2(fx->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	return db;
}

/* First column of the first row; -2 for NULL, -1 for no row. */
/* Text of the first column of the first row, "(null)" for NULL. */
/* expr of the row with flow_key key, as text. */
static void row(struct fx *fx, const char *key, const char *expr, char *buf, size_t len)
{
	char sql[512];
	sqlite3 *db = ro(fx);
	snprintf(sql, sizeof(sql), "SELECT %s FROM flows WHERE flow_key = '%s'", expr, key);
	tu_q_text(db, sql, buf, len);
	sqlite3_close(db);
}

#define KEY  "tcp|192.0.2.10|53168|198.51.100.10|443|ct=1001"
#define KEY2 "tcp|192.0.2.10|53168|198.51.100.10|443|ct=1002"
#define FID  "0123456789abcdef0123456789abcdef"

/* A conntrack observation of KEY with nothing known beyond the tuple. */
static struct flowsdb_flow obs(const char *key, int64_t now)
{
	struct flowsdb_flow x = {.flow_key = key,
				 .flow_id = FID,
				 .conntrack_id = 1001,
				 .ts_started = 1000,
				 .client_address = "192.0.2.10",
				 .client_port = 53168,
				 .peer_address = "198.51.100.10",
				 .peer_port = 443,
				 .protocol = "tcp",
				 .l3_proto = "ipv4",
				 .nat_translated_address = "203.0.113.1",
				 .accounting = "conntrack",
				 .bytes_out = -1,
				 .bytes_in = -1,
				 .packets_out = -1,
				 .packets_in = -1,
				 .app_confidence = -1,
				 .risk_score = -1,
				 .now = now};
	return x;
}

static void put(struct flowsdb *f, const struct flowsdb_flow *x)
{
	assert_int_equal(flowsdb_upsert(f, x), 0);
	assert_int_equal(flowsdb_flush(f), 0);
}

/* An observation of KEY carrying a verdict. */
static void label(struct flowsdb *f, int64_t now, const char *app, const char *source, bool guessed,
		  const char *sni)
{
	struct flowsdb_flow x = obs(KEY, now);
	x.app_name = app;
	x.app_category = app && strcmp(app, "unknown") != 0 ? "web" : NULL;
	x.app_confidence = 50;
	x.source = source;
	x.engine = source && strcmp(source, "ndpi-agent") == 0 ? "ndpi-agent" : "builtin";
	x.guessed = guessed;
	x.tls_sni = sni;
	x.resolved_hostname = sni;
	put(f, &x);
}

static const char legacy_columns[] =
    "id,flow_key,ts_started,ts_ended,client_address,client_port,peer_address,peer_port,"
    "protocol,nat_translated_address,accounting,bytes_out,bytes_in,packets_out,packets_in,"
    "app_name,app_category,app_confidence,detected_protocol,master_protocol,"
    "application_protocol,category,risk,confidence,metadata_json,engine,source,tls_sni,"
    "http_host,dns_query,resolved_hostname";

static void test_flowsdb_schema_names(void **state)
{
	struct fx *fx = *state;
	flowsdb_free(open_db(fx, 0));
	sqlite3 *db = ro(fx);
	char buf[1024], want[1024];
	/* Every legacy column literally and in order, then the v1 ones. */
	tu_q_text(db,
	       "SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_table_info('flows') "
	       "ORDER BY cid)",
	       buf, sizeof(buf));
	snprintf(want, sizeof(want), "%s,%s", legacy_columns,
		 "flow_id,conntrack_id,l3_proto,risk_score,guessed,classified_at,updated_at");
	assert_string_equal(buf, want);
	assert_int_equal(tu_q_int(db, "SELECT pk FROM pragma_table_info('flows') WHERE name = 'id'"),
			 1);
	assert_int_equal(tu_q_int(db, "SELECT \"notnull\" FROM pragma_table_info('flows') WHERE "
				   "name = 'guessed'"),
			 1);
	/* Index names and their columns. */
	tu_q_text(db,
	       "SELECT group_concat(x, ';') FROM (SELECT il.name || '(' || (SELECT "
	       "group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(il.name) ORDER BY "
	       "seqno)) || ')' AS x FROM pragma_index_list('flows') AS il WHERE il.origin = 'c' "
	       "ORDER BY il.name)",
	       buf, sizeof(buf));
	assert_string_equal(buf,
			    "flows_client_ts(client_address,ts_started);flows_flow_id(flow_id);"
			    "flows_peer_ts(peer_address,ts_started);"
			    "flows_source(source,ts_started);flows_ts_ended(ts_ended);"
			    "flows_ts_started(ts_started)");
	/* flow_key UNIQUE (the upsert's conflict target). */
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM pragma_index_list('flows') AS il WHERE "
				   "il.\"unique\" AND il.origin = 'u' AND (SELECT name FROM "
				   "pragma_index_info(il.name)) = 'flow_key'"),
			 1);
	assert_int_equal(tu_q_int(db, "PRAGMA user_version"), FLOWSDB_SCHEMA_VERSION);
	tu_q_text(db, "PRAGMA journal_mode", buf, sizeof(buf));
	assert_string_equal(buf, "wal");
	sqlite3_close(db);
}

/* The Go logger's traffic-flows.db (user_version 0), as its files exist on routers. */
static const char legacy_fixture[] =
    "CREATE TABLE flows (id INTEGER PRIMARY KEY AUTOINCREMENT, flow_key TEXT UNIQUE, "
    "ts_started INTEGER, ts_ended INTEGER, client_address TEXT, client_port INTEGER, "
    "peer_address TEXT, peer_port INTEGER, protocol TEXT, nat_translated_address TEXT, "
    "accounting TEXT, bytes_out INTEGER, bytes_in INTEGER, packets_out INTEGER, "
    "packets_in INTEGER, app_name TEXT, app_category TEXT, app_confidence INTEGER, "
    "detected_protocol TEXT, master_protocol TEXT, application_protocol TEXT, category TEXT, "
    "risk TEXT, confidence TEXT, metadata_json TEXT, engine TEXT, source TEXT, tls_sni TEXT, "
    "http_host TEXT, dns_query TEXT, resolved_hostname TEXT);"
    "CREATE INDEX flows_client_ts ON flows(client_address, ts_started);"
    "CREATE INDEX flows_peer_ts ON flows(peer_address, ts_started);"
    "INSERT INTO flows (flow_key, ts_started, client_address, client_port, peer_address, "
    "peer_port, protocol, accounting, bytes_out, bytes_in, packets_out, packets_in, app_name, "
    "app_category, source, engine, tls_sni, resolved_hostname) VALUES ('" KEY "', 500, "
    "'192.0.2.10', 53168, '198.51.100.10', 443, 'tcp', 'conntrack', 10, 20, 1, 2, 'youtube', "
    "'media', 'ndpi-agent', 'ndpi-agent', 'yt.example', 'yt.example');";

static void test_flowsdb_legacy_migration(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db;
	char buf[256];
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, legacy_fixture, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	struct flowsdb *f = open_db(fx, 0);
	db = ro(fx);
	assert_int_equal(tu_q_int(db, "PRAGMA user_version"), 1);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM flows"), 1);
	tu_q_text(db,
	       "SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_table_info('flows') "
	       "WHERE cid > 30 ORDER BY cid)",
	       buf, sizeof(buf));
	assert_string_equal(
	    buf, "flow_id,conntrack_id,l3_proto,risk_score,guessed,classified_at,updated_at");
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND "
				   "name IN ('flows_ts_started', 'flows_ts_ended', 'flows_source', "
				   "'flows_flow_id', 'flows_client_ts', 'flows_peer_ts')"),
			 6);
	assert_int_equal(tu_q_int(db, "SELECT guessed FROM flows"), 0);
	assert_int_equal(tu_q_int(db, "SELECT classified_at FROM flows"), -2);
	sqlite3_close(db);

	/* The legacy row is the same connection: counters grow, its label (no classified_at in
	 * the Go schema) is not replaced by a weaker guess. */
	struct flowsdb_flow x = obs(KEY, 900);
	x.bytes_out = 100;
	x.bytes_in = 200;
	x.app_name = "https";
	x.source = "port-fallback";
	put(f, &x);
	flowsdb_free(f);
	row(fx, KEY,
	    "ts_started || '/' || bytes_out || '/' || bytes_in || '/' || app_name || '/' || source "
	    "|| '/' || tls_sni || '/' || flow_id || '/' || updated_at",
	    buf, sizeof(buf));
	assert_string_equal(buf, "500/100/200/youtube/ndpi-agent/yt.example/" FID "/900");

	/* Reopening a current file changes nothing. */
	flowsdb_free(open_db(fx, 0));
	db = ro(fx);
	assert_int_equal(tu_q_int(db, "PRAGMA user_version"), 1);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM flows"), 1);
	sqlite3_close(db);
}

static void test_flowsdb_newer_schema_refused(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 7", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	struct flowsdb_opts o = {.path = fx->path};
	struct flowsdb *f = NULL;
	char err[FLOWSDB_ERRMSG_MAX] = "";
	assert_int_equal(flowsdb_open(&o, err, sizeof(err), &f), -EPROTONOSUPPORT);
	assert_null(f);
	assert_non_null(strstr(err, "7"));
	/* Untouched: no flows table was created. */
	db = ro(fx);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'flows'"), 0);
	sqlite3_close(db);
}

static void test_flowsdb_invalid_args(void **state)
{
	struct fx *fx = *state;
	struct flowsdb *f = NULL;
	struct flowsdb_opts o = {.path = ""};
	assert_int_equal(flowsdb_open(&o, NULL, 0, &f), -EINVAL);
	assert_null(f);
	f = open_db(fx, 0);
	struct flowsdb_flow x = obs(NULL, 1);
	assert_int_equal(flowsdb_upsert(f, &x), -EINVAL);
	x.flow_key = "";
	assert_int_equal(flowsdb_upsert(f, &x), -EINVAL);
	assert_int_equal(flowsdb_pending(f), 0);
	flowsdb_free(f);
	flowsdb_free(NULL);
}

static void test_flowsdb_upsert_counters_keep_dpi(void **state)
{
	struct fx *fx = *state;
	struct flowsdb *f = open_db(fx, 0);
	char buf[256];
	label(f, 100, "youtube", "ndpi-agent", false, "yt.example");
	/* Dump / UPDATE events carry counters and no verdict. */
	for (int i = 1; i <= 3; i++) {
		struct flowsdb_flow x = obs(KEY, 100 + i);
		x.bytes_out = 1000 * i;
		x.bytes_in = 5000 * i;
		x.packets_out = 10 * i;
		x.packets_in = 20 * i;
		put(f, &x);
	}
	row(fx, KEY,
	    "app_name || '/' || app_category || '/' || source || '/' || engine || '/' || tls_sni "
	    "|| "
	    "'/' || resolved_hostname || '/' || classified_at || '/' || app_confidence",
	    buf, sizeof(buf));
	assert_string_equal(buf, "youtube/web/ndpi-agent/ndpi-agent/yt.example/yt.example/100/50");
	row(fx, KEY,
	    "bytes_out || '/' || bytes_in || '/' || packets_out || '/' || packets_in || '/' || "
	    "updated_at || '/' || client_address || ':' || client_port || '>' || peer_address || "
	    "':' "
	    "|| peer_port || '/' || nat_translated_address || '/' || accounting || '/' || "
	    "conntrack_id || '/' || l3_proto",
	    buf, sizeof(buf));
	assert_string_equal(buf, "3000/15000/30/60/103/192.0.2.10:53168>198.51.100.10:443/"
				 "203.0.113.1/conntrack/1001/ipv4");
	flowsdb_free(f);
}

static void test_flowsdb_upsert_unknown_never_overwrites(void **state)
{
	struct fx *fx = *state;
	struct flowsdb *f = open_db(fx, 0);
	char buf[256];
	/* An unknown answer fills an empty row, without classified_at. */
	label(f, 100, "unknown", "builtin", false, NULL);
	row(fx, KEY, "app_name || '/' || source || '/' || quote(classified_at)", buf, sizeof(buf));
	assert_string_equal(buf, "unknown/builtin/NULL");
	/* A second unknown from another source does not replace the first. */
	label(f, 110, "unknown", "unknown", false, NULL);
	row(fx, KEY, "app_name || '/' || source || '/' || quote(classified_at)", buf, sizeof(buf));
	assert_string_equal(buf, "unknown/builtin/NULL");

	label(f, 200, "tls", "builtin-payload", false, "a.example");
	label(f, 300, "unknown", "unknown", false, NULL);
	label(f, 400, "", "builtin", false, NULL);
	label(f, 500, "unknown", "ndpi-agent", false, NULL); /* strongest source, no answer */
	row(fx, KEY,
	    "app_name || '/' || app_category || '/' || source || '/' || engine || '/' || tls_sni "
	    "|| "
	    "'/' || classified_at",
	    buf, sizeof(buf));
	assert_string_equal(buf, "tls/web/builtin-payload/builtin/a.example/200");
	assert_int_equal(flowsdb_stats(f)->flows_written, 6);
	flowsdb_free(f);
}

static void test_flowsdb_upsert_stronger_replaces(void **state)
{
	struct fx *fx = *state;
	struct flowsdb *f = open_db(fx, 0);
	char buf[256];
	label(f, 100, "https", "port-fallback", false, NULL);
	label(f, 200, "google", "dns-cache", false, "www.google.com");
	row(fx, KEY, "app_name || '/' || source || '/' || classified_at || '/' || tls_sni", buf,
	    sizeof(buf));
	assert_string_equal(buf, "google/dns-cache/200/www.google.com");
	/* An nDPI guess ranks below the dns cache. */
	label(f, 300, "quic", "ndpi-agent", true, "q.example");
	row(fx, KEY, "app_name || '/' || source || '/' || guessed || '/' || tls_sni", buf,
	    sizeof(buf));
	assert_string_equal(buf, "google/dns-cache/0/www.google.com");
	/* A real nDPI detection replaces labels and hostnames. */
	label(f, 400, "youtube", "ndpi-agent", false, "yt.example");
	row(fx, KEY,
	    "app_name || '/' || source || '/' || engine || '/' || tls_sni || '/' || "
	    "resolved_hostname || '/' || classified_at",
	    buf, sizeof(buf));
	assert_string_equal(buf, "youtube/ndpi-agent/ndpi-agent/yt.example/yt.example/400");
	/* ... and nothing weaker comes back over it. */
	label(f, 500, "tls", "builtin-payload", false, "other.example");
	row(fx, KEY, "app_name || '/' || source || '/' || tls_sni", buf, sizeof(buf));
	assert_string_equal(buf, "youtube/ndpi-agent/yt.example");
	flowsdb_free(f);
}

static void test_flowsdb_upsert_weaker_fills_empty_hostnames(void **state)
{
	struct fx *fx = *state;
	struct flowsdb *f = open_db(fx, 0);
	char buf[256];
	label(f, 100, "youtube", "ndpi-agent", false, NULL);
	struct flowsdb_flow x = obs(KEY, 200);
	x.app_name = "tls";
	x.source = "builtin-payload";
	x.tls_sni = "v.example";
	x.http_host = "h.example";
	x.dns_query = "q.example";
	x.resolved_hostname = "v.example";
	put(f, &x);
	row(fx, KEY,
	    "app_name || '/' || source || '/' || tls_sni || '/' || http_host || '/' || dns_query "
	    "|| "
	    "'/' || resolved_hostname",
	    buf, sizeof(buf));
	assert_string_equal(buf, "youtube/ndpi-agent/v.example/h.example/q.example/v.example");
	/* Filled once, then kept against weaker evidence. */
	x.tls_sni = x.resolved_hostname = "w.example";
	put(f, &x);
	row(fx, KEY, "tls_sni || '/' || resolved_hostname", buf, sizeof(buf));
	assert_string_equal(buf, "v.example/v.example");
	flowsdb_free(f);
}

static void test_flowsdb_upsert_port_fallback_only_where_nothing_better(void **state)
{
	struct fx *fx = *state;
	struct flowsdb *f = open_db(fx, 0);
	char buf[256];
	/* Conntrack NEW: no verdict at all. */
	struct flowsdb_flow x = obs(KEY, 50);
	put(f, &x);
	row(fx, KEY, "quote(app_name) || '/' || quote(source) || '/' || quote(classified_at)", buf,
	    sizeof(buf));
	assert_string_equal(buf, "NULL/NULL/NULL");
	/* Nothing better: the port guess is taken and labelled. */
	label(f, 100, "https", "port-fallback", false, NULL);
	row(fx, KEY, "app_name || '/' || source || '/' || classified_at", buf, sizeof(buf));
	assert_string_equal(buf, "https/port-fallback/100");
	/* A later unknown answer does not undo it. */
	label(f, 150, "unknown", "builtin", false, NULL);
	row(fx, KEY, "app_name || '/' || source", buf, sizeof(buf));
	assert_string_equal(buf, "https/port-fallback");

	/* Something better first: the port guess never lands. */
	struct flowsdb_flow y = obs(KEY2, 100);
	y.app_name = "tls";
	y.source = "sni-cache";
	y.tls_sni = "s.example";
	put(f, &y);
	y.app_name = "https";
	y.source = "port-fallback";
	y.tls_sni = NULL;
	y.now = 200;
	put(f, &y);
	row(fx, KEY2, "app_name || '/' || source || '/' || classified_at || '/' || tls_sni", buf,
	    sizeof(buf));
	assert_string_equal(buf, "tls/sni-cache/100/s.example");

	/* An unknown row (filled by an unknown answer) still takes the port guess. */
	struct flowsdb_flow z = obs("udp|k3", 10);
	z.app_name = "unknown";
	z.source = "builtin";
	put(f, &z);
	z.app_name = "dns";
	z.source = "port-fallback";
	z.now = 20;
	put(f, &z);
	row(fx, "udp|k3", "app_name || '/' || source || '/' || classified_at", buf, sizeof(buf));
	assert_string_equal(buf, "dns/port-fallback/20");
	flowsdb_free(f);
}

static void test_flowsdb_tuple_reuse_new_row(void **state)
{
	struct fx *fx = *state;
	struct flowsdb *f = open_db(fx, 0);
	char buf[256];
	struct flowsdb_flow a = obs(KEY, 100);
	a.bytes_out = 5000;
	a.ts_ended = 150;
	a.app_name = "youtube";
	a.source = "ndpi-agent";
	put(f, &a);
	/* Same 5-tuple, new conntrack entry after the first one ended. */
	struct flowsdb_flow b = obs(KEY2, 200);
	b.conntrack_id = 1002;
	b.ts_started = 200;
	b.bytes_out = 10;
	put(f, &b);
	sqlite3 *db = ro(fx);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM flows WHERE client_address = '192.0.2.10' "
				   "AND client_port = 53168 AND peer_address = '198.51.100.10' "
				   "AND peer_port = 443 AND protocol = 'tcp'"),
			 2);
	sqlite3_close(db);
	row(fx, KEY,
	    "ts_started || '/' || ts_ended || '/' || bytes_out || '/' || app_name || '/' || "
	    "conntrack_id",
	    buf, sizeof(buf));
	assert_string_equal(buf, "1000/150/5000/youtube/1001");
	row(fx, KEY2,
	    "ts_started || '/' || quote(ts_ended) || '/' || bytes_out || '/' || quote(app_name) || "
	    "'/' || conntrack_id",
	    buf, sizeof(buf));
	assert_string_equal(buf, "200/NULL/10/NULL/1002");
	flowsdb_free(f);
}

static void test_flowsdb_ts_ended_set_once(void **state)
{
	struct fx *fx = *state;
	struct flowsdb *f = open_db(fx, 0);
	char buf[128];
	struct flowsdb_flow x = obs(KEY, 100);
	put(f, &x);
	row(fx, KEY, "quote(ts_ended)", buf, sizeof(buf));
	assert_string_equal(buf, "NULL");
	x.ts_ended = 5000; /* DESTROY */
	x.now = 5000;
	put(f, &x);
	x.ts_ended = 0; /* a late dump entry or UPDATE */
	x.now = 5100;
	put(f, &x);
	x.ts_ended = 9000; /* a duplicate DESTROY */
	put(f, &x);
	/* ts_started keeps the earliest, an unknown one changes nothing. */
	x.ts_started = 900;
	put(f, &x);
	x.ts_started = 2000;
	put(f, &x);
	x.ts_started = 0;
	put(f, &x);
	row(fx, KEY, "ts_started || '/' || ts_ended || '/' || updated_at", buf, sizeof(buf));
	assert_string_equal(buf, "900/5000/5100");
	flowsdb_free(f);
}

static void test_flowsdb_counters_never_go_backwards(void **state)
{
	struct fx *fx = *state;
	struct flowsdb *f = open_db(fx, 0);
	char buf[128];
	struct flowsdb_flow x = obs(KEY, 100);
	x.accounting = "conntrack-acct-off";
	put(f, &x); /* accounting off: counters unknown */
	row(fx, KEY, "quote(bytes_out) || '/' || quote(packets_in) || '/' || accounting", buf,
	    sizeof(buf));
	assert_string_equal(buf, "NULL/NULL/conntrack-acct-off");
	static const struct {
		int64_t out, in;
		const char *want;
	} steps[] = {
	    {100, 0, "100/0"},	 {50, 10, "100/10"}, {-1, -1, "100/10"},
	    {100, 10, "100/10"}, {250, 5, "250/10"}, {0, 300, "250/300"},
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		x.bytes_out = x.packets_out = steps[i].out;
		x.bytes_in = x.packets_in = steps[i].in;
		put(f, &x);
		row(fx, KEY, "bytes_out || '/' || bytes_in", buf, sizeof(buf));
		assert_string_equal(buf, steps[i].want);
		row(fx, KEY, "packets_out || '/' || packets_in", buf, sizeof(buf));
		assert_string_equal(buf, steps[i].want);
	}
	flowsdb_free(f);
}

static void add_flows(struct flowsdb *f, int n, int64_t ts0, bool ended)
{
	for (int i = 0; i < n; i++) {
		char key[64];
		snprintf(key, sizeof(key), "tcp|%lld|%d", (long long)ts0, i);
		struct flowsdb_flow x = obs(key, ts0 + i);
		x.ts_started = ts0 + i;
		x.ts_ended = ended ? ts0 + i : 0;
		x.conntrack_id = i;
		x.client_port = 1024 + i % 60000;
		x.bytes_out = x.bytes_in = 1000;
		x.packets_out = x.packets_in = 10;
		x.app_name = "tls";
		x.source = "builtin-payload";
		assert_int_equal(flowsdb_upsert(f, &x), 0);
	}
}

static void test_flowsdb_batch_one_transaction(void **state)
{
	struct fx *fx = *state;
	struct flowsdb *f = open_db(fx, 0);
	sqlite3 *db = ro(fx);
	add_flows(f, 100, 1, false);
	assert_int_equal(flowsdb_pending(f), 100);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM flows"), 0);
	/* Neither full nor old yet. */
	assert_int_equal(flowsdb_maybe_flush(f, rdpi_monotonic_ns()), 0);
	assert_int_equal(flowsdb_pending(f), 100);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM flows"), 0);
	assert_int_equal(flowsdb_flush(f), 0);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM flows"), 100);
	const struct flowsdb_stats *st = flowsdb_stats(f);
	assert_int_equal(st->commits, 1);
	assert_int_equal(st->batch_last, 100);
	assert_int_equal(st->flows_written, 100);
	/* By age. */
	add_flows(f, 3, 1000, false);
	assert_int_equal(flowsdb_maybe_flush(f, UINT64_MAX / 2), 0);
	assert_int_equal(flowsdb_pending(f), 0);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM flows"), 103);
	sqlite3_close(db);
	flowsdb_free(f);
}

static void test_flowsdb_batch_by_count(void **state)
{
	struct fx *fx = *state;
	struct flowsdb *f = open_db(fx, 10);
	add_flows(f, 25, 1, false);
	/* Two full batches committed on the way, five rows pending. */
	assert_int_equal(flowsdb_pending(f), 5);
	assert_int_equal(flowsdb_stats(f)->commits, 2);
	assert_int_equal(flowsdb_stats(f)->batch_max, 10);
	flowsdb_free(f); /* flushes the rest */
	sqlite3 *db = ro(fx);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM flows"), 25);
	sqlite3_close(db);
}

static void test_flowsdb_prune_bounded(void **state)
{
	struct fx *fx = *state;
	struct flowsdb *f = open_db(fx, 0);
	size_t n = 99;
	add_flows(f, 50, 1000, true);  /* ended, ts 1000..1049 */
	add_flows(f, 20, 2000, false); /* open, never updated since: missed DESTROY */
	add_flows(f, 10, 3000, false); /* open, started long ago but updated recently */
	for (int i = 0; i < 10; i++) {
		char key[64];
		snprintf(key, sizeof(key), "tcp|3000|%d", i);
		struct flowsdb_flow x = obs(key, 9500);
		x.ts_started = 3000 + i;
		assert_int_equal(flowsdb_upsert(f, &x), 0);
	}
	add_flows(f, 30, 9000, true); /* recent, ended */
	assert_int_equal(flowsdb_prune(f, 10000, 5000, 0, 0, &n), 0);
	assert_int_equal(n, 0);
	/* TTL 5000 at 10000: cutoff 5000. Ended rows first, at most 20 per call. */
	assert_int_equal(flowsdb_prune(f, 10000, 5000, 20, 0, &n), 0);
	assert_int_equal(n, 20);
	sqlite3 *db = ro(fx);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM flows WHERE ts_ended IS NULL"), 30);
	assert_int_equal(tu_q_int(db, "SELECT MIN(ts_started) FROM flows WHERE ts_ended < 2000"),
			 1020);
	assert_int_equal(flowsdb_prune(f, 10000, 5000, 20, 0, &n), 0);
	assert_int_equal(n, 20);
	assert_int_equal(flowsdb_prune(f, 10000, 5000, 20, 0, &n), 0);
	assert_int_equal(n, 20); /* 10 ended, then 10 stale open ones */
	assert_int_equal(flowsdb_prune(f, 10000, 5000, 20, 0, &n), 0);
	assert_int_equal(n, 10);
	assert_int_equal(flowsdb_prune(f, 10000, 5000, 20, 0, &n), 0);
	assert_int_equal(n, 0);
	/* Live long-running flows and recent ones stay. */
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM flows"), 40);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM flows WHERE ts_started BETWEEN 3000 AND "
				   "3009 AND ts_ended IS NULL"),
			 10);
	/* Row limit: keep the newest 25, by ts_started, open or not. */
	assert_int_equal(flowsdb_prune(f, 10000, 0, 1000, 25, &n), 0);
	assert_int_equal(n, 15);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM flows"), 25);
	assert_int_equal(tu_q_int(db, "SELECT MIN(ts_started) FROM flows"), 9005);
	sqlite3_close(db);
	assert_int_equal(flowsdb_stats(f)->pruned, 85);
	flowsdb_free(f);
}

/* Plans of the statements flowsdb_prune() runs (same text as flowsdb.c). */
static void test_flowsdb_prune_uses_index(void **state)
{
	struct fx *fx = *state;
	struct flowsdb *f = open_db(fx, 0);
	add_flows(f, 200, 1, true);
	flowsdb_free(f);
	static const struct {
		const char *sql, *index;
	} plans[] = {
	    {"SELECT rowid FROM flows INDEXED BY flows_ts_ended WHERE ts_ended < ?1 ORDER BY "
	     "ts_ended LIMIT ?2",
	     "flows_ts_ended"},
	    {"SELECT rowid FROM flows INDEXED BY flows_ts_started WHERE ts_started < ?1 AND "
	     "ts_ended IS NULL AND COALESCE(updated_at, ts_started) < ?1 ORDER BY ts_started "
	     "LIMIT ?2",
	     "flows_ts_started"},
	    {"SELECT rowid FROM flows INDEXED BY flows_ts_started WHERE ts_started < ?1 ORDER BY "
	     "ts_started LIMIT ?2",
	     "flows_ts_started"},
	    {"SELECT ts_started FROM flows INDEXED BY flows_ts_started WHERE ts_started IS NOT "
	     "NULL ORDER BY ts_started DESC LIMIT 1 OFFSET ?1",
	     "flows_ts_started"},
	    /* The planner's own choice for the ended pass, without the hint. */
	    {"SELECT rowid FROM flows WHERE ts_ended < ?1 ORDER BY ts_ended LIMIT ?2",
	     "flows_ts_ended"},
	};
	sqlite3 *db = ro(fx);
	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		char sql[512], plan[512] = "";
		sqlite3_stmt *st;
		snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", plans[i].sql);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const unsigned char *d = sqlite3_column_text(st, 3);
			strncat(plan, d ? (const char *)d : "", sizeof(plan) - strlen(plan) - 2);
			strcat(plan, ";");
		}
		sqlite3_finalize(st);
		print_message("plan: %s\n", plan);
		assert_non_null(strstr(plan, plans[i].index));
		assert_null(strstr(plan, "TEMP B-TREE"));
		assert_null(strstr(plan, "SCAN flows;"));
	}
	sqlite3_close(db);
}

static double since(const struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

static void test_flowsdb_throughput_100k(void **state)
{
	struct fx *fx = *state;
	struct flowsdb *f = open_db(fx, 0);
	struct timespec a;
	enum { N = 100000 };
	clock_gettime(CLOCK_MONOTONIC, &a);
	add_flows(f, N, 1, false);
	assert_int_equal(flowsdb_flush(f), 0);
	double dt_ins = since(&a);
	/* The same flows again (counter updates on conflict), as a periodic dump does. */
	clock_gettime(CLOCK_MONOTONIC, &a);
	add_flows(f, N, 1, false);
	assert_int_equal(flowsdb_flush(f), 0);
	double dt_upd = since(&a);
	const struct flowsdb_stats *st = flowsdb_stats(f);
	print_message("%d new flows rows in %.3f s (%.0f rows/s); %d updates in %.3f s (%.0f "
		      "rows/s); %llu commits, max batch %llu, max commit %.3f ms\n",
		      N, dt_ins, N / dt_ins, N, dt_upd, N / dt_upd, (unsigned long long)st->commits,
		      (unsigned long long)st->batch_max, (double)st->commit_ns_max / 1e6);
	assert_int_equal(st->flows_written, 2 * N);
	flowsdb_free(f);
	sqlite3 *db = ro(fx);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM flows"), N);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_flowsdb_schema_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flowsdb_legacy_migration, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flowsdb_newer_schema_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flowsdb_invalid_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flowsdb_upsert_counters_keep_dpi, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flowsdb_upsert_unknown_never_overwrites, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_flowsdb_upsert_stronger_replaces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flowsdb_upsert_weaker_fills_empty_hostnames, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_flowsdb_upsert_port_fallback_only_where_nothing_better, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flowsdb_tuple_reuse_new_row, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flowsdb_ts_ended_set_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flowsdb_counters_never_go_backwards, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_flowsdb_batch_one_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flowsdb_batch_by_count, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flowsdb_prune_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flowsdb_prune_uses_index, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flowsdb_throughput_100k, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

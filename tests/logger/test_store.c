/* Unit tests for firewall-logs.db (store.c) on real SQLite files under mkdtemp. */
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
#include "store.h"
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
	if (tu_tmpdir(fx->dir, sizeof(fx->dir), "rdpi-store") < 0)
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

static struct store *open_store(struct fx *fx, size_t batch_max)
{
	struct store_opts o = {.path = fx->path, .batch_max = batch_max};
	struct store *s = NULL;
	char err[STORE_ERRMSG_MAX] = "";
	int rc = store_open(&o, err, sizeof(err), &s);
	if (rc != 0)
		print_message("store_open: %d %s\n", rc, err);
	assert_int_equal(rc, 0);
	return s;
}

static sqlite3 *ro(struct fx *fx)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open_v2(fx->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	return db;
}

/* Text of the first column of the first row, "(null)" for NULL. */
static void test_store_schema_names(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_store(fx, 0);
	store_free(s);
	sqlite3 *db = ro(fx);
	static const char *const objs[] = {
	    "table firewall_logs",	 "table dpi_flow",
	    "table expired_flows",	 "index expired_flows_ts",
	    "index expired_flows_reply", "index dpi_flow_ts_last",
	    "index firewall_logs_ts",
	};
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		char sql[200];
		snprintf(sql, sizeof(sql),
			 "SELECT COUNT(*) FROM sqlite_master WHERE type || ' ' || name = '%s'",
			 objs[i]);
		assert_int_equal(tu_q_int(db, sql), 1);
	}
	char buf[512];
	tu_q_text(db, "SELECT sql FROM sqlite_master WHERE name = 'expired_flows_reply'", buf,
	       sizeof(buf));
	assert_string_equal(buf, "CREATE INDEX expired_flows_reply ON expired_flows(protocol, "
				 "reply_src, reply_dst, reply_src_port, reply_dst_port, ts)");
	tu_q_text(db, "SELECT sql FROM sqlite_master WHERE name = 'dpi_flow_ts_last'", buf,
	       sizeof(buf));
	assert_string_equal(buf, "CREATE INDEX dpi_flow_ts_last ON dpi_flow(ts_last)");
	/* Every legacy and new column, literally. */
	tu_q_text(
	    db,
	    "SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_table_info('dpi_flow') "
	    "ORDER BY cid)",
	    buf, sizeof(buf));
	assert_string_equal(buf, "flow_id,ts_first,ts_last,l3_proto,protocol,src_address,src_port,"
				 "dst_address,dst_port,app_name,app_category,app_confidence,"
				 "detected_protocol,master_protocol,application_protocol,category,"
				 "risk,confidence,metadata_json,engine,source,tls_sni,http_host,"
				 "dns_query,classified_at,packet_count,risk_score,guessed");
	tu_q_text(db,
	       "SELECT group_concat(name, ',') FROM (SELECT name FROM "
	       "pragma_table_info('expired_flows') ORDER BY cid)",
	       buf, sizeof(buf));
	assert_string_equal(buf, "id,ts,l3_proto,protocol,orig_src,orig_src_port,orig_dst,"
				 "orig_dst_port,reply_src,reply_src_port,reply_dst,reply_dst_port,"
				 "packets,bytes,raw");
	tu_q_text(db,
	       "SELECT group_concat(name, ',') FROM (SELECT name FROM "
	       "pragma_table_info('firewall_logs') ORDER BY cid)",
	       buf, sizeof(buf));
	assert_string_equal(buf, "id,ts,zone_from,zone_to,rule_name,action,src_address,src_port,"
				 "dst_address,dst_port,protocol,tcp_flags,l3_proto,in_iface,"
				 "out_iface,packet_bytes,hint,dpi_app,dpi_category,dpi_tls_sni,"
				 "dpi_http_host,dpi_dns_query,dpi_confidence,correlation,"
				 "correlation_detail,expired_age_seconds,expired_bytes,dpi_source,"
				 "dpi_risk_score");
	assert_int_equal(tu_q_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	tu_q_text(db, "PRAGMA journal_mode", buf, sizeof(buf));
	assert_string_equal(buf, "wal");
	sqlite3_close(db);
}

/* The Go logger's schema (user_version 0), as its files exist on routers. */
static const char legacy_fixture[] =
    "CREATE TABLE firewall_logs (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, "
    "zone_from TEXT, zone_to TEXT, rule_name TEXT, action TEXT, src_address TEXT, "
    "src_port INTEGER, dst_address TEXT, dst_port INTEGER, protocol TEXT, tcp_flags TEXT, "
    "l3_proto TEXT, in_iface TEXT, out_iface TEXT, packet_bytes INTEGER, hint TEXT, "
    "dpi_app TEXT, dpi_category TEXT, dpi_tls_sni TEXT, dpi_http_host TEXT, "
    "dpi_dns_query TEXT, dpi_confidence INTEGER, correlation TEXT, correlation_detail TEXT, "
    "expired_age_seconds INTEGER, expired_bytes INTEGER);"
    "CREATE TABLE dpi_flow (flow_id TEXT PRIMARY KEY, ts_first INTEGER, ts_last INTEGER, "
    "l3_proto TEXT, protocol TEXT, src_address TEXT, src_port INTEGER, dst_address TEXT, "
    "dst_port INTEGER, app_name TEXT, app_category TEXT, app_confidence INTEGER, "
    "detected_protocol TEXT, master_protocol TEXT, application_protocol TEXT, category TEXT, "
    "risk TEXT, confidence TEXT, metadata_json TEXT, engine TEXT, source TEXT, tls_sni TEXT, "
    "http_host TEXT, dns_query TEXT, classified_at INTEGER, packet_count INTEGER);"
    "CREATE TABLE expired_flows (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, "
    "l3_proto TEXT, protocol TEXT, orig_src TEXT, orig_src_port INTEGER, orig_dst TEXT, "
    "orig_dst_port INTEGER, reply_src TEXT, reply_src_port INTEGER, reply_dst TEXT, "
    "reply_dst_port INTEGER, packets INTEGER, bytes INTEGER, raw TEXT);"
    "CREATE INDEX expired_flows_ts ON expired_flows(ts);"
    "CREATE INDEX expired_flows_reply ON expired_flows(protocol, reply_src, reply_dst, "
    "reply_src_port, reply_dst_port, ts);"
    "INSERT INTO firewall_logs (ts, action, hint) VALUES (1, 'deny', 'nflog-netlink');"
    "INSERT INTO dpi_flow (flow_id, ts_first, ts_last, app_name, source, tls_sni, "
    "classified_at, packet_count) VALUES ('00112233445566778899aabbccddeeff', 1, 2, 'tls', "
    "'builtin-payload', 'old.example', 2, 5);"
    "INSERT INTO expired_flows (ts, protocol, raw) VALUES (3, 'tcp', 'x');";

static void test_store_legacy_migration(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, legacy_fixture, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	struct store *s = open_store(fx, 0);
	struct store_flow f = {.flow_id = "00112233445566778899aabbccddeeff",
			       .ts = 10,
			       .app_name = "unknown",
			       .source = "unknown",
			       .packets = 1};
	assert_int_equal(store_upsert_flow(s, &f), 0);
	assert_int_equal(store_flush(s), 0);
	store_free(s);

	db = ro(fx);
	assert_int_equal(tu_q_int(db, "PRAGMA user_version"), 1);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM firewall_logs"), 1);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM expired_flows"), 1);
	assert_int_equal(tu_q_int(db, "SELECT packet_count FROM dpi_flow"), 6);
	assert_int_equal(tu_q_int(db, "SELECT guessed FROM dpi_flow"), 0);
	assert_int_equal(tu_q_int(db, "SELECT risk_score FROM dpi_flow"), -2);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM pragma_table_info('firewall_logs') "
				   "WHERE name IN ('dpi_source', 'dpi_risk_score')"),
			 2);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = "
				   "'dpi_flow_ts_last'"),
			 1);
	char buf[64];
	tu_q_text(db, "SELECT tls_sni FROM dpi_flow", buf, sizeof(buf));
	assert_string_equal(buf, "old.example");
	sqlite3_close(db);

	/* Reopening a current file changes nothing. */
	s = open_store(fx, 0);
	store_free(s);
}

static void test_store_newer_schema_refused(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	struct store_opts o = {.path = fx->path};
	struct store *s = NULL;
	char err[STORE_ERRMSG_MAX] = "";
	assert_int_equal(store_open(&o, err, sizeof(err), &s), -EPROTONOSUPPORT);
	assert_null(s);
	assert_non_null(strstr(err, "99"));
}

static void test_store_open_not_a_database(void **state)
{
	struct fx *fx = *state;
	FILE *fp = fopen(fx->path, "w");
	assert_non_null(fp);
	for (int i = 0; i < 64; i++)
		fputs("this is not an SQLite database file ", fp);
	fclose(fp);
	struct store_opts o = {.path = fx->path};
	struct store *s = NULL;
	char err[STORE_ERRMSG_MAX] = "";
	assert_int_equal(store_open(&o, err, sizeof(err), &s), -EBADMSG);
	assert_null(s);
	assert_true(err[0] != '\0');
	print_message("errmsg: %s\n", err);
}

#define FID "0123456789abcdef0123456789abcdef"

static void upsert(struct store *s, int64_t ts, const char *app, const char *source, bool guessed,
		   const char *sni, uint32_t packets)
{
	struct store_flow f = {.flow_id = FID,
			       .ts = ts,
			       .l3_proto = "ipv4",
			       .protocol = "tcp",
			       .src_address = "192.0.2.10",
			       .src_port = 53168,
			       .dst_address = "198.51.100.10",
			       .dst_port = 443,
			       .app_name = app,
			       .source = source,
			       .guessed = guessed,
			       .tls_sni = sni,
			       .risk_score = -1,
			       .app_confidence = -1,
			       .packets = packets};
	assert_int_equal(store_upsert_flow(s, &f), 0);
	assert_int_equal(store_flush(s), 0);
}

static void flow_col(struct fx *fx, const char *col, char *buf, size_t len)
{
	char sql[128];
	sqlite3 *db = ro(fx);
	snprintf(sql, sizeof(sql), "SELECT %s FROM dpi_flow WHERE flow_id = '" FID "'", col);
	tu_q_text(db, sql, buf, len);
	sqlite3_close(db);
}

static void test_store_upsert_unknown_keeps_known(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_store(fx, 0);
	char buf[64];
	upsert(s, 100, "tls", "builtin-payload", false, "a.example", 1);
	upsert(s, 200, "unknown", "unknown", false, NULL, 2);
	upsert(s, 300, "", "builtin", false, NULL, 3);
	flow_col(fx, "app_name", buf, sizeof(buf));
	assert_string_equal(buf, "tls");
	flow_col(fx, "tls_sni", buf, sizeof(buf));
	assert_string_equal(buf, "a.example");
	flow_col(fx, "source", buf, sizeof(buf));
	assert_string_equal(buf, "builtin-payload");
	flow_col(fx, "classified_at", buf, sizeof(buf));
	assert_string_equal(buf, "100");
	flow_col(fx, "packet_count", buf, sizeof(buf));
	assert_string_equal(buf, "6");
	flow_col(fx, "ts_first || '-' || ts_last", buf, sizeof(buf));
	assert_string_equal(buf, "100-300");
	store_free(s);
}

static void test_store_upsert_stronger_replaces(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_store(fx, 0);
	char buf[64];
	upsert(s, 100, "https", "port-fallback", false, NULL, 1);
	upsert(s, 200, "google", "dns-cache", false, NULL, 1);
	flow_col(fx, "app_name || '/' || source || '/' || classified_at", buf, sizeof(buf));
	assert_string_equal(buf, "google/dns-cache/200");
	/* An nDPI guess ranks below the dns cache. */
	upsert(s, 300, "quic", "ndpi-agent", true, NULL, 1);
	flow_col(fx, "app_name || '/' || source", buf, sizeof(buf));
	assert_string_equal(buf, "google/dns-cache");
	upsert(s, 400, "youtube", "ndpi-agent", false, "yt.example", 1);
	flow_col(fx, "app_name || '/' || source || '/' || tls_sni", buf, sizeof(buf));
	assert_string_equal(buf, "youtube/ndpi-agent/yt.example");
	store_free(s);
}

static void test_store_upsert_weaker_does_not_replace(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_store(fx, 0);
	char buf[64];
	upsert(s, 100, "youtube", "ndpi-agent", false, NULL, 1);
	upsert(s, 200, "tls", "builtin-payload", false, "v.example", 1);
	flow_col(fx, "app_name || '/' || source || '/' || classified_at", buf, sizeof(buf));
	assert_string_equal(buf, "youtube/ndpi-agent/100");
	/* ... but an empty hostname is filled by weaker evidence. */
	flow_col(fx, "tls_sni", buf, sizeof(buf));
	assert_string_equal(buf, "v.example");
	store_free(s);
}

static void test_store_upsert_unknown_classified_at_null(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_store(fx, 0);
	char buf[64];
	upsert(s, 100, "unknown", "builtin", false, NULL, 4);
	upsert(s, 200, "unknown", "unknown", false, NULL, 5);
	flow_col(fx, "classified_at", buf, sizeof(buf));
	assert_string_equal(buf, "(null)");
	flow_col(fx, "packet_count", buf, sizeof(buf));
	assert_string_equal(buf, "9");
	assert_int_equal(store_stats(s)->flows_written, 2);
	store_free(s);
}

static void add_logs(struct store *s, int n, int64_t ts0)
{
	for (int i = 0; i < n; i++) {
		struct store_log l = {.ts = ts0 + i,
				      .action = "deny",
				      .zone_from = "wan",
				      .src_address = "203.0.113.7",
				      .src_port = 40000 + i % 1000,
				      .dst_address = "192.0.2.1",
				      .dst_port = 22,
				      .protocol = "tcp",
				      .hint = "nflog-netlink",
				      .packet_bytes = 60,
				      .dpi_confidence = -1,
				      .expired_age_seconds = -1,
				      .expired_bytes = -1,
				      .dpi_risk_score = -1};
		assert_int_equal(store_add_log(s, &l), 0);
	}
}

static void test_store_batch_one_transaction(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_store(fx, 0);
	sqlite3 *db = ro(fx);
	add_logs(s, 100, 1);
	assert_int_equal(store_pending(s), 100);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM firewall_logs"), 0);
	/* Neither full nor old yet. */
	assert_int_equal(store_maybe_flush(s, rdpi_monotonic_ns()), 0);
	assert_int_equal(store_pending(s), 100);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM firewall_logs"), 0);
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM firewall_logs"), 100);
	const struct store_stats *st = store_stats(s);
	assert_int_equal(st->commits, 1);
	assert_int_equal(st->batch_last, 100);
	assert_int_equal(st->logs_written, 100);

	/* By age. */
	add_logs(s, 3, 1000);
	assert_int_equal(store_maybe_flush(s, UINT64_MAX / 2), 0);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM firewall_logs"), 103);
	sqlite3_close(db);
	store_free(s);
}

static void test_store_batch_by_count(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_store(fx, 10);
	add_logs(s, 25, 1);
	/* Two full batches committed on the way, five rows pending. */
	assert_int_equal(store_pending(s), 5);
	assert_int_equal(store_stats(s)->commits, 2);
	assert_int_equal(store_stats(s)->batch_max, 10);
	store_free(s); /* flushes the rest */
	sqlite3 *db = ro(fx);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM firewall_logs"), 25);
	sqlite3_close(db);
}

static void add_flows(struct store *s, int n, int64_t ts0)
{
	for (int i = 0; i < n; i++) {
		char id[33];
		snprintf(id, sizeof(id), "%032x", i);
		struct store_flow f = {.flow_id = id,
				       .ts = ts0 + i,
				       .app_name = "dns",
				       .source = "builtin-payload",
				       .packets = 1,
				       .src_port = -1,
				       .dst_port = -1,
				       .app_confidence = -1,
				       .risk_score = -1};
		assert_int_equal(store_upsert_flow(s, &f), 0);
	}
	assert_int_equal(store_flush(s), 0);
}

static void test_store_prune_ttl_and_limit(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_store(fx, 0);
	size_t n = 0;
	add_flows(s, 100, 1000); /* ts_last 1000..1099 */
	/* TTL: rows older than 1050, bounded to 20 per call. */
	assert_int_equal(store_prune(s, 1100, 50, 20, 0, &n), 0);
	assert_int_equal(n, 20);
	assert_int_equal(store_prune(s, 1100, 50, 20, 0, &n), 0);
	assert_int_equal(n, 20);
	assert_int_equal(store_prune(s, 1100, 50, 20, 0, &n), 0);
	assert_int_equal(n, 10);
	assert_int_equal(store_prune(s, 1100, 50, 20, 0, &n), 0);
	assert_int_equal(n, 0);
	/* Row limit: keep the newest 30. */
	assert_int_equal(store_prune(s, 1100, 0, 1000, 30, &n), 0);
	assert_int_equal(n, 20);
	sqlite3 *db = ro(fx);
	assert_int_equal(tu_q_int(db, "SELECT COUNT(*) FROM dpi_flow"), 30);
	assert_int_equal(tu_q_int(db, "SELECT MIN(ts_last) FROM dpi_flow"), 1070);
	sqlite3_close(db);
	assert_int_equal(store_stats(s)->pruned_flows, 70);
	store_free(s);
}

static void test_store_prune_uses_index(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_store(fx, 0);
	store_free(s);
	sqlite3 *db = ro(fx);
	sqlite3_stmt *st;
	char plan[512] = "";
	assert_int_equal(sqlite3_prepare_v2(db,
					    "EXPLAIN QUERY PLAN SELECT rowid FROM dpi_flow WHERE "
					    "ts_last < 5 ORDER BY ts_last LIMIT 10",
					    -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *d = sqlite3_column_text(st, 3);
		strncat(plan, d ? (const char *)d : "", sizeof(plan) - strlen(plan) - 2);
		strcat(plan, ";");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	print_message("plan: %s\n", plan);
	assert_non_null(strstr(plan, "dpi_flow_ts_last"));
	assert_null(strstr(plan, "TEMP B-TREE"));
}

static void test_store_expired_rows(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_store(fx, 0);
	struct store_expired e = {.ts = 5,
				  .l3_proto = "ipv4",
				  .protocol = "tcp",
				  .orig_src = "192.0.2.10",
				  .orig_src_port = 1234,
				  .orig_dst = "198.51.100.1",
				  .orig_dst_port = 443,
				  .reply_src = "198.51.100.1",
				  .reply_src_port = 443,
				  .reply_dst = "203.0.113.1",
				  .reply_dst_port = 1234,
				  .packets = 10,
				  .bytes = 1000,
				  .raw = "[DESTROY] tcp ..."};
	assert_int_equal(store_add_expired(s, &e), 0);
	assert_int_equal(store_flush(s), 0);
	size_t n = 0;
	assert_int_equal(store_prune_expired(s, 100, 10, 100, 0, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_stats(s)->expired_written, 1);
	store_free(s);
}

static void test_store_source_rank(void **state)
{
	assert_true(store_source_rank("ndpi-agent", false) >
		    store_source_rank("builtin-payload", false));
	assert_true(store_source_rank("builtin-payload", false) >
		    store_source_rank("dns-cache", false));
	assert_int_equal(store_source_rank("dns-cache", false),
			 store_source_rank("sni-cache", false));
	assert_true(store_source_rank("sni-cache", false) > store_source_rank("ndpi-agent", true));
	assert_true(store_source_rank("ndpi-agent", true) >
		    store_source_rank("port-fallback", false));
	assert_true(store_source_rank("port-fallback", false) >
		    store_source_rank("builtin", false));
	assert_int_equal(store_source_rank("builtin", false), store_source_rank("unknown", false));
	assert_int_equal(store_source_rank(NULL, false), 0);
}

static void test_store_throughput_10k(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_store(fx, 0);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	add_logs(s, 10000, 1);
	assert_int_equal(store_flush(s), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double dt = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	const struct store_stats *st = store_stats(s);
	print_message("10000 firewall_logs rows in %.3f s (%.0f rows/s), %llu commits, max batch "
		      "%llu, max commit %.3f ms\n",
		      dt, 10000 / dt, (unsigned long long)st->commits,
		      (unsigned long long)st->batch_max, (double)st->commit_ns_max / 1e6);
	assert_int_equal(st->logs_written, 10000);
	store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_store_schema_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_legacy_migration, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_newer_schema_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_open_not_a_database, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_upsert_unknown_keeps_known, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_upsert_stronger_replaces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_upsert_weaker_does_not_replace, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_store_upsert_unknown_classified_at_null, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_store_batch_one_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_batch_by_count, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_prune_ttl_and_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_prune_uses_index, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_expired_rows, setup, teardown),
	    cmocka_unit_test(test_store_source_rank),
	    cmocka_unit_test_setup_teardown(test_store_throughput_10k, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

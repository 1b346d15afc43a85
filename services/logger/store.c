/* firewall-logs.db writer (design section 6): legacy schema plus v1 columns, in-place migration,
 * prepared statements, batched transactions, improve-only flow upserts and bounded retention. */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "sqlutil.h"

#include "common/service.h"

/* The Go logger's tables (user_version 0); never change these strings. */
static const char legacy_schema[] =
    "CREATE TABLE IF NOT EXISTS firewall_logs (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "ts INTEGER NOT NULL, zone_from TEXT, zone_to TEXT, rule_name TEXT, action TEXT, "
    "src_address TEXT, src_port INTEGER, dst_address TEXT, dst_port INTEGER, protocol TEXT, "
    "tcp_flags TEXT, l3_proto TEXT, in_iface TEXT, out_iface TEXT, packet_bytes INTEGER, "
    "hint TEXT, dpi_app TEXT, dpi_category TEXT, dpi_tls_sni TEXT, dpi_http_host TEXT, "
    "dpi_dns_query TEXT, dpi_confidence INTEGER, correlation TEXT, correlation_detail TEXT, "
    "expired_age_seconds INTEGER, expired_bytes INTEGER);"
    "CREATE TABLE IF NOT EXISTS dpi_flow (flow_id TEXT PRIMARY KEY, ts_first INTEGER, "
    "ts_last INTEGER, l3_proto TEXT, protocol TEXT, src_address TEXT, src_port INTEGER, "
    "dst_address TEXT, dst_port INTEGER, app_name TEXT, app_category TEXT, "
    "app_confidence INTEGER, detected_protocol TEXT, master_protocol TEXT, "
    "application_protocol TEXT, category TEXT, risk TEXT, confidence TEXT, metadata_json TEXT, "
    "engine TEXT, source TEXT, tls_sni TEXT, http_host TEXT, dns_query TEXT, "
    "classified_at INTEGER, packet_count INTEGER);"
    "CREATE TABLE IF NOT EXISTS expired_flows (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "ts INTEGER NOT NULL, l3_proto TEXT, protocol TEXT, orig_src TEXT, orig_src_port INTEGER, "
    "orig_dst TEXT, orig_dst_port INTEGER, reply_src TEXT, reply_src_port INTEGER, "
    "reply_dst TEXT, reply_dst_port INTEGER, packets INTEGER, bytes INTEGER, raw TEXT);"
    "CREATE INDEX IF NOT EXISTS expired_flows_ts ON expired_flows(ts);"
    "CREATE INDEX IF NOT EXISTS expired_flows_reply ON expired_flows(protocol, reply_src, "
    "reply_dst, reply_src_port, reply_dst_port, ts);";

/* v0 -> v1: columns added with ALTER TABLE when missing, then new indexes. */
static const struct sqlutil_column v1_columns[] = {
    {"firewall_logs", "dpi_source", "TEXT"},
    {"firewall_logs", "dpi_risk_score", "INTEGER"},
    {"dpi_flow", "risk_score", "INTEGER"},
    {"dpi_flow", "guessed", "INTEGER NOT NULL DEFAULT 0"},
};
static const char v1_indexes[] =
    "CREATE INDEX IF NOT EXISTS firewall_logs_ts ON firewall_logs(ts);"
    "CREATE INDEX IF NOT EXISTS dpi_flow_ts_last ON dpi_flow(ts_last);";

static const char sql_insert_log[] =
    "INSERT INTO firewall_logs (ts, zone_from, zone_to, rule_name, action, src_address, "
    "src_port, dst_address, dst_port, protocol, tcp_flags, l3_proto, in_iface, out_iface, "
    "packet_bytes, hint, dpi_app, dpi_category, dpi_tls_sni, dpi_http_host, dpi_dns_query, "
    "dpi_confidence, correlation, correlation_detail, expired_age_seconds, expired_bytes, "
    "dpi_source, dpi_risk_score) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
    "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)";

static const char sql_insert_expired[] =
    "INSERT INTO expired_flows (ts, l3_proto, protocol, orig_src, orig_src_port, orig_dst, "
    "orig_dst_port, reply_src, reply_src_port, reply_dst, reply_dst_port, packets, bytes, raw) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

/* ?40: observation is known; ?41: its source rank. R: it replaces the stored labels. */
#define OLD_RANK                                                                                   \
	"(CASE dpi_flow.source WHEN 'ndpi-agent' THEN (CASE WHEN dpi_flow.guessed THEN 3 ELSE 6 "  \
	"END) WHEN 'builtin-payload' THEN 5 WHEN 'dns-cache' THEN 4 WHEN 'sni-cache' THEN 4 "      \
	"WHEN 'port-fallback' THEN 2 ELSE 0 END)"
/* ... or: an unknown answer fills a row that has no answer at all (so it reads "unknown" with
 * its source instead of nothing), and never anything else */
#define R                                                                                          \
	"((?40 AND (dpi_flow.classified_at IS NULL OR ?41 > " OLD_RANK ")) OR "                    \
	"(dpi_flow.app_name IS NULL AND dpi_flow.classified_at IS NULL AND "                       \
	"excluded.app_name IS NOT NULL))"
#define LABEL(c) c " = CASE WHEN " R " THEN excluded." c " ELSE dpi_flow." c " END, "
#define HOST(c)                                                                                    \
	c " = COALESCE(CASE WHEN " R " THEN excluded." c " END, dpi_flow." c ", excluded." c "), "

static const char sql_upsert_flow[] =
    "INSERT INTO dpi_flow (flow_id, ts_first, ts_last, l3_proto, protocol, src_address, "
    "src_port, dst_address, dst_port, app_name, app_category, app_confidence, "
    "detected_protocol, master_protocol, application_protocol, category, risk, confidence, "
    "metadata_json, engine, source, tls_sni, http_host, dns_query, classified_at, "
    "packet_count, risk_score, guessed) VALUES (?1, ?28, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
    "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27) "
    "ON CONFLICT(flow_id) DO UPDATE SET "
    "ts_first = MIN(COALESCE(dpi_flow.ts_first, excluded.ts_first), excluded.ts_first), "
    "ts_last = MAX(COALESCE(dpi_flow.ts_last, excluded.ts_last), excluded.ts_last), "
    "l3_proto = COALESCE(dpi_flow.l3_proto, excluded.l3_proto), "
    "protocol = COALESCE(dpi_flow.protocol, excluded.protocol), "
    "src_address = COALESCE(dpi_flow.src_address, excluded.src_address), "
    "src_port = COALESCE(dpi_flow.src_port, excluded.src_port), "
    "dst_address = COALESCE(dpi_flow.dst_address, excluded.dst_address), "
    "dst_port = COALESCE(dpi_flow.dst_port, excluded.dst_port), " LABEL("app_name")
	LABEL("app_category") LABEL("app_confidence") LABEL("detected_protocol")
	    LABEL("master_protocol") LABEL("application_protocol") LABEL("category") LABEL("risk")
		LABEL("confidence") LABEL("metadata_json") LABEL("engine") LABEL("risk_score")
		    LABEL("guessed") LABEL("classified_at") HOST("tls_sni") HOST("http_host")
			HOST("dns_query")
    /* source last: R reads the stored source */
    "source = CASE WHEN " R " THEN excluded.source ELSE dpi_flow.source END, "
    "packet_count = COALESCE(dpi_flow.packet_count, 0) + excluded.packet_count";

static const char sql_find_flow[] =
    "SELECT flow_id, ts_first, ts_last, l3_proto, protocol, src_address, src_port, dst_address, "
    "dst_port, app_name, app_category, app_confidence, detected_protocol, master_protocol, "
    "application_protocol, category, risk, confidence, metadata_json, engine, source, tls_sni, "
    "http_host, dns_query, classified_at, packet_count, risk_score, guessed FROM dpi_flow "
    "WHERE flow_id = ?1 AND classified_at >= ?2";

static const char sql_find_expired[] =
    "SELECT ts, l3_proto, orig_src, orig_src_port, orig_dst, orig_dst_port, reply_src, "
    "reply_src_port, reply_dst, reply_dst_port, packets, bytes FROM expired_flows "
    "WHERE protocol = ?1 AND reply_src = ?2 AND reply_dst = ?3 AND reply_src_port = ?4 AND "
    "reply_dst_port = ?5 AND ts >= ?6 ORDER BY ts DESC LIMIT 1";

struct store {
	sqlite3 *db;
	sqlite3_stmt *ins_log, *ins_expired, *upsert_flow, *find_flow, *find_expired;
	size_t batch_max;
	uint64_t batch_age_ns;
	bool in_txn;
	uint64_t batch_start;
	size_t pending, pending_logs, pending_flows, pending_expired;
	struct store_stats stats;
	char errmsg[STORE_ERRMSG_MAX];
};

static int sql_err(struct store *s, sqlite3 *db, int rc)
{
	return sqlutil_err(db, rc, s ? s->errmsg : NULL, s ? sizeof(s->errmsg) : 0);
}

static int exec(struct store *s, const char *sql)
{
	return sqlutil_exec(s->db, sql, s->errmsg, sizeof(s->errmsg));
}

static int migrate(struct store *s)
{
	static const struct sqlutil_schema schema = {
	    .version = STORE_SCHEMA_VERSION,
	    .legacy = legacy_schema,
	    .columns = v1_columns,
	    .ncolumns = sizeof(v1_columns) / sizeof(v1_columns[0]),
	    .indexes = v1_indexes,
	};
	return sqlutil_migrate(s->db, &schema, s->errmsg, sizeof(s->errmsg));
}

static int prepare(struct store *s, const char *sql, sqlite3_stmt **ret)
{
	return sqlutil_prepare(s->db, sql, ret, s->errmsg, sizeof(s->errmsg));
}

void store_free(struct store *s)
{
	if (!s)
		return;
	if (s->db)
		store_flush(s);
	sqlite3_finalize(s->ins_log);
	sqlite3_finalize(s->ins_expired);
	sqlite3_finalize(s->upsert_flow);
	sqlite3_finalize(s->find_flow);
	sqlite3_finalize(s->find_expired);
	sqlite3_close(s->db);
	free(s);
}

int store_open(const struct store_opts *opts, char *errbuf, size_t errlen, struct store **ret)
{
	struct store *s;
	int rc;

	if (!opts || !opts->path || !opts->path[0])
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->batch_max = opts->batch_max ? opts->batch_max : STORE_BATCH_MAX_DEFAULT;
	s->batch_age_ns = opts->batch_age_ns ? opts->batch_age_ns : STORE_BATCH_AGE_NS_DEFAULT;
	rc =
	    sqlite3_open_v2(opts->path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = sql_err(s, s->db, rc);
		goto out;
	}
	sqlite3_busy_timeout(s->db, 2000);
	if ((rc = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")) < 0 ||
	    (rc = migrate(s)) < 0 || (rc = prepare(s, sql_insert_log, &s->ins_log)) < 0 ||
	    (rc = prepare(s, sql_insert_expired, &s->ins_expired)) < 0 ||
	    (rc = prepare(s, sql_upsert_flow, &s->upsert_flow)) < 0 ||
	    (rc = prepare(s, sql_find_flow, &s->find_flow)) < 0 ||
	    (rc = prepare(s, sql_find_expired, &s->find_expired)) < 0)
		goto out;
	*ret = s;
	return 0;
out:
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", s->errmsg);
	store_free(s);
	return rc;
}

/* Makes room in and opens the batch transaction. */
static int batch_begin(struct store *s)
{
	int rc;
	if (s->in_txn && s->pending >= s->batch_max && (rc = store_flush(s)) < 0)
		return rc;
	if (s->in_txn)
		return 0;
	if ((rc = exec(s, "BEGIN IMMEDIATE")) < 0)
		return rc;
	s->in_txn = true;
	s->batch_start = rdpi_monotonic_ns();
	return 0;
}

static int run(struct store *s, sqlite3_stmt *st, size_t *counter)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return sql_err(s, s->db, rc);
	s->pending++;
	(*counter)++;
	return 0;
}

int store_add_log(struct store *s, const struct store_log *l)
{
	sqlite3_stmt *st = s->ins_log;
	int rc;
	if ((rc = batch_begin(s)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, l->ts);
	sqlutil_bind_text(st, 2, l->zone_from);
	sqlutil_bind_text(st, 3, l->zone_to);
	sqlutil_bind_text(st, 4, l->rule_name);
	sqlutil_bind_text(st, 5, l->action);
	sqlutil_bind_text(st, 6, l->src_address);
	sqlutil_bind_int(st, 7, l->src_port);
	sqlutil_bind_text(st, 8, l->dst_address);
	sqlutil_bind_int(st, 9, l->dst_port);
	sqlutil_bind_text(st, 10, l->protocol);
	sqlutil_bind_text(st, 11, l->tcp_flags);
	sqlutil_bind_text(st, 12, l->l3_proto);
	sqlutil_bind_text(st, 13, l->in_iface);
	sqlutil_bind_text(st, 14, l->out_iface);
	sqlutil_bind_int(st, 15, l->packet_bytes);
	sqlutil_bind_text(st, 16, l->hint);
	sqlutil_bind_text(st, 17, l->dpi_app);
	sqlutil_bind_text(st, 18, l->dpi_category);
	sqlutil_bind_text(st, 19, l->dpi_tls_sni);
	sqlutil_bind_text(st, 20, l->dpi_http_host);
	sqlutil_bind_text(st, 21, l->dpi_dns_query);
	sqlutil_bind_int(st, 22, l->dpi_confidence);
	sqlutil_bind_text(st, 23, l->correlation);
	sqlutil_bind_text(st, 24, l->correlation_detail);
	sqlutil_bind_int(st, 25, l->expired_age_seconds);
	sqlutil_bind_int(st, 26, l->expired_bytes);
	sqlutil_bind_text(st, 27, l->dpi_source);
	sqlutil_bind_int(st, 28, l->dpi_risk_score);
	return run(s, st, &s->pending_logs);
}

int store_add_expired(struct store *s, const struct store_expired *e)
{
	sqlite3_stmt *st = s->ins_expired;
	int rc;
	if ((rc = batch_begin(s)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, e->ts);
	sqlutil_bind_text(st, 2, e->l3_proto);
	sqlutil_bind_text(st, 3, e->protocol);
	sqlutil_bind_text(st, 4, e->orig_src);
	sqlutil_bind_int(st, 5, e->orig_src_port);
	sqlutil_bind_text(st, 6, e->orig_dst);
	sqlutil_bind_int(st, 7, e->orig_dst_port);
	sqlutil_bind_text(st, 8, e->reply_src);
	sqlutil_bind_int(st, 9, e->reply_src_port);
	sqlutil_bind_text(st, 10, e->reply_dst);
	sqlutil_bind_int(st, 11, e->reply_dst_port);
	sqlutil_bind_int(st, 12, e->packets);
	sqlutil_bind_int(st, 13, e->bytes);
	sqlutil_bind_text(st, 14, e->raw);
	return run(s, st, &s->pending_expired);
}

struct rank {
	const char *name;
	int rank;
};
static const struct rank ranks[] = {
    {"builtin-payload", 5}, {"dns-cache", 4}, {"sni-cache", 4},
    {"port-fallback", 2},   {"builtin", 0},   {"unknown", 0},
};

int store_source_rank(const char *source, bool guessed)
{
	if (!source)
		return 0;
	if (strcmp(source, "ndpi-agent") == 0)
		return guessed ? 3 : 6;
	for (size_t i = 0; i < sizeof(ranks) / sizeof(ranks[0]); i++)
		if (strcmp(source, ranks[i].name) == 0)
			return ranks[i].rank;
	return 0;
}

int store_upsert_flow(struct store *s, const struct store_flow *f)
{
	sqlite3_stmt *st = s->upsert_flow;
	int rc;
	if (!f->flow_id || !f->flow_id[0])
		return -EINVAL;
	bool known = f->app_name && f->app_name[0] && strcmp(f->app_name, "unknown") != 0;
	if ((rc = batch_begin(s)) < 0)
		return rc;
	sqlutil_bind_text(st, 1, f->flow_id);
	sqlite3_bind_int64(st, 2, f->ts);
	sqlutil_bind_text(st, 3, f->l3_proto);
	sqlutil_bind_text(st, 4, f->protocol);
	sqlutil_bind_text(st, 5, f->src_address);
	sqlutil_bind_int(st, 6, f->src_port);
	sqlutil_bind_text(st, 7, f->dst_address);
	sqlutil_bind_int(st, 8, f->dst_port);
	sqlutil_bind_text(st, 9, f->app_name);
	sqlutil_bind_text(st, 10, f->app_category);
	sqlutil_bind_int(st, 11, f->app_confidence);
	sqlutil_bind_text(st, 12, f->detected_protocol);
	sqlutil_bind_text(st, 13, f->master_protocol);
	sqlutil_bind_text(st, 14, f->application_protocol);
	sqlutil_bind_text(st, 15, f->category);
	sqlutil_bind_text(st, 16, f->risk);
	sqlutil_bind_text(st, 17, f->confidence);
	sqlutil_bind_text(st, 18, f->metadata_json);
	sqlutil_bind_text(st, 19, f->engine);
	sqlutil_bind_text(st, 20, f->source);
	sqlutil_bind_text(st, 21, f->tls_sni);
	sqlutil_bind_text(st, 22, f->http_host);
	sqlutil_bind_text(st, 23, f->dns_query);
	if (known)
		sqlite3_bind_int64(st, 24, f->ts);
	else
		sqlite3_bind_null(st, 24);
	sqlite3_bind_int64(st, 25, f->packets);
	sqlutil_bind_int(st, 26, f->risk_score);
	sqlite3_bind_int(st, 27, f->guessed);
	sqlite3_bind_int64(st, 28, f->ts_first && f->ts_first < f->ts ? f->ts_first : f->ts);
	sqlite3_bind_int(st, 40, known);
	sqlite3_bind_int(st, 41, store_source_rank(f->source, f->guessed));
	return run(s, st, &s->pending_flows);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

static int col_int(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int(st, i);
}

/* Steps a single-row lookup: 0 with the row current, -ENOENT when there is none, or the
 * error; the statement is reset on every path but success. */
static int step_one(struct store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 0;
	int rv = rc == SQLITE_DONE ? -ENOENT : sql_err(s, s->db, rc);
	sqlite3_reset(st);
	return rv;
}

int store_find_flow(struct store *s, const char *flow_id, int64_t min_classified_at,
		    store_flow_fn fn, void *arg)
{
	sqlite3_stmt *st = s->find_flow;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, flow_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, min_classified_at);
	int rv = step_one(s, st);
	if (rv < 0)
		return rv;
	struct store_flow f = {
	    .flow_id = col_text(st, 0),
	    .ts_first = sqlite3_column_int64(st, 1),
	    .ts = sqlite3_column_int64(st, 2),
	    .l3_proto = col_text(st, 3),
	    .protocol = col_text(st, 4),
	    .src_address = col_text(st, 5),
	    .src_port = col_int(st, 6),
	    .dst_address = col_text(st, 7),
	    .dst_port = col_int(st, 8),
	    .app_name = col_text(st, 9),
	    .app_category = col_text(st, 10),
	    .app_confidence = col_int(st, 11),
	    .detected_protocol = col_text(st, 12),
	    .master_protocol = col_text(st, 13),
	    .application_protocol = col_text(st, 14),
	    .category = col_text(st, 15),
	    .risk = col_text(st, 16),
	    .confidence = col_text(st, 17),
	    .metadata_json = col_text(st, 18),
	    .engine = col_text(st, 19),
	    .source = col_text(st, 20),
	    .tls_sni = col_text(st, 21),
	    .http_host = col_text(st, 22),
	    .dns_query = col_text(st, 23),
	    .packets = (uint32_t)sqlite3_column_int64(st, 25),
	    .risk_score = col_int(st, 26),
	    .guessed = sqlite3_column_int(st, 27) != 0,
	};
	fn(arg, &f, sqlite3_column_int64(st, 24));
	sqlite3_reset(st);
	return 0;
}

int store_find_expired(struct store *s, const char *protocol, const char *reply_src,
		       int reply_src_port, const char *reply_dst, int reply_dst_port,
		       int64_t min_ts, store_expired_fn fn, void *arg)
{
	sqlite3_stmt *st = s->find_expired;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, protocol, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, reply_src, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, reply_dst, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, reply_src_port);
	sqlite3_bind_int(st, 5, reply_dst_port);
	sqlite3_bind_int64(st, 6, min_ts);
	int rv = step_one(s, st);
	if (rv < 0)
		return rv;
	struct store_expired e = {
	    .ts = sqlite3_column_int64(st, 0),
	    .l3_proto = col_text(st, 1),
	    .protocol = protocol,
	    .orig_src = col_text(st, 2),
	    .orig_src_port = col_int(st, 3),
	    .orig_dst = col_text(st, 4),
	    .orig_dst_port = col_int(st, 5),
	    .reply_src = col_text(st, 6),
	    .reply_src_port = col_int(st, 7),
	    .reply_dst = col_text(st, 8),
	    .reply_dst_port = col_int(st, 9),
	    .packets =
		sqlite3_column_type(st, 10) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 10),
	    .bytes = sqlite3_column_type(st, 11) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 11),
	};
	fn(arg, &e);
	sqlite3_reset(st);
	return 0;
}

int store_flush(struct store *s)
{
	if (!s->in_txn)
		return 0;
	uint64_t t0 = rdpi_monotonic_ns();
	int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		rc = sql_err(s, s->db, rc);
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		s->stats.commit_errors++;
		s->stats.rows_lost += s->pending;
	} else {
		uint64_t dt = rdpi_monotonic_ns() - t0;
		s->stats.commits++;
		s->stats.commit_ns_last = dt;
		s->stats.commit_ns_total += dt;
		if (dt > s->stats.commit_ns_max)
			s->stats.commit_ns_max = dt;
		s->stats.batch_last = s->pending;
		if (s->pending > s->stats.batch_max)
			s->stats.batch_max = s->pending;
		s->stats.logs_written += s->pending_logs;
		s->stats.flows_written += s->pending_flows;
		s->stats.expired_written += s->pending_expired;
	}
	s->in_txn = false;
	s->pending = s->pending_logs = s->pending_flows = s->pending_expired = 0;
	return rc;
}

int store_maybe_flush(struct store *s, uint64_t now)
{
	if (!s->in_txn)
		return 0;
	if (s->pending >= s->batch_max ||
	    (now > s->batch_start && now - s->batch_start >= s->batch_age_ns))
		return store_flush(s);
	return 0;
}

size_t store_pending(const struct store *s)
{
	return s->pending;
}

/* Deletes at most limit rows of table, oldest first by col (indexed), with col < cutoff. */
static int delete_oldest(struct store *s, const char *table, const char *col, int64_t cutoff,
			 size_t limit, size_t *ret)
{
	char sql[256];
	sqlite3_stmt *st;
	snprintf(sql, sizeof(sql),
		 "DELETE FROM %s WHERE rowid IN (SELECT rowid FROM %s WHERE %s < ?1 "
		 "ORDER BY %s LIMIT ?2)",
		 table, table, col, col);
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_err(s, s->db, rc);
	sqlite3_bind_int64(st, 1, cutoff);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sql_err(s, s->db, rc);
	*ret += (size_t)sqlite3_changes(s->db);
	return 0;
}

/* Value of col of the max_rows-th newest row (walks the index, at most max_rows entries). */
static int nth_newest(struct store *s, const char *table, const char *col, size_t max_rows,
		      bool *ret_found, int64_t *ret)
{
	char sql[192];
	sqlite3_stmt *st;
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s ORDER BY %s DESC LIMIT 1 OFFSET ?1", col,
		 table, col);
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_err(s, s->db, rc);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)max_rows);
	rc = sqlite3_step(st);
	*ret_found = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sql_err(s, s->db, rc);
	return 0;
}

static int prune(struct store *s, const char *table, const char *col, int64_t now, int64_t ttl,
		 size_t limit, size_t max_rows, size_t *ret_deleted)
{
	size_t n = 0;
	int rc;
	if ((rc = store_flush(s)) < 0)
		return rc;
	if (limit == 0)
		goto done;
	if ((rc = exec(s, "BEGIN IMMEDIATE")) < 0)
		return rc;
	if (ttl > 0 && (rc = delete_oldest(s, table, col, now - ttl, limit, &n)) < 0)
		goto out;
	if (max_rows > 0 && n < limit) {
		bool found = false;
		int64_t v = 0;
		/* Row max_rows (0-based) and older are over the limit: delete up to and
		 * including its ts; ties at that ts may leave a few extra rows for next time. */
		if ((rc = nth_newest(s, table, col, max_rows, &found, &v)) < 0)
			goto out;
		if (found && (rc = delete_oldest(s, table, col, v + 1, limit - n, &n)) < 0)
			goto out;
	}
	rc = exec(s, "COMMIT");
out:
	if (rc < 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
done:
	if (ret_deleted)
		*ret_deleted = n;
	return 0;
}

int store_prune(struct store *s, int64_t now, int64_t ttl, size_t limit, size_t max_rows,
		size_t *ret_deleted)
{
	size_t n = 0;
	int rc = prune(s, "dpi_flow", "ts_last", now, ttl, limit, max_rows, &n);
	if (rc == 0) {
		s->stats.pruned_flows += n;
		if (ret_deleted)
			*ret_deleted = n;
	}
	return rc;
}

int store_prune_expired(struct store *s, int64_t now, int64_t ttl, size_t limit, size_t max_rows,
			size_t *ret_deleted)
{
	size_t n = 0;
	int rc = prune(s, "expired_flows", "ts", now, ttl, limit, max_rows, &n);
	if (rc == 0) {
		s->stats.pruned_expired += n;
		if (ret_deleted)
			*ret_deleted = n;
	}
	return rc;
}

const struct store_stats *store_stats(const struct store *s)
{
	return &s->stats;
}

const char *store_errmsg(const struct store *s)
{
	return s->errmsg;
}

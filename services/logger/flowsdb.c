/* traffic-flows.db writer (design section 6): legacy `flows` schema plus v1 columns, in-place
 * migration, prepared statements, batched transactions, improve-only upserts, bounded retention.
 * Follows store.c (firewall-logs.db) pattern for pattern, and its source ranking. */
#include "flowsdb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "sqlutil.h"

#include "common/service.h"
#include "store.h"

/* The Go logger's traffic-flows.db (user_version 0); never change these strings. */
static const char legacy_schema[] =
    "CREATE TABLE IF NOT EXISTS flows (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "flow_key TEXT UNIQUE, ts_started INTEGER, ts_ended INTEGER, client_address TEXT, "
    "client_port INTEGER, peer_address TEXT, peer_port INTEGER, protocol TEXT, "
    "nat_translated_address TEXT, accounting TEXT, bytes_out INTEGER, bytes_in INTEGER, "
    "packets_out INTEGER, packets_in INTEGER, app_name TEXT, app_category TEXT, "
    "app_confidence INTEGER, detected_protocol TEXT, master_protocol TEXT, "
    "application_protocol TEXT, category TEXT, risk TEXT, confidence TEXT, metadata_json TEXT, "
    "engine TEXT, source TEXT, tls_sni TEXT, http_host TEXT, dns_query TEXT, "
    "resolved_hostname TEXT);"
    "CREATE INDEX IF NOT EXISTS flows_client_ts ON flows(client_address, ts_started);"
    "CREATE INDEX IF NOT EXISTS flows_peer_ts ON flows(peer_address, ts_started);";

/* v0 -> v1: columns added with ALTER TABLE when missing, then new indexes. */
static const struct sqlutil_column v1_columns[] = {
    {"flows", "flow_id", "TEXT"},
    {"flows", "conntrack_id", "INTEGER"},
    {"flows", "l3_proto", "TEXT"},
    {"flows", "risk_score", "INTEGER"},
    {"flows", "guessed", "INTEGER NOT NULL DEFAULT 0"},
    {"flows", "classified_at", "INTEGER"},
    {"flows", "updated_at", "INTEGER"},
};
static const char v1_indexes[] =
    "CREATE INDEX IF NOT EXISTS flows_ts_started ON flows(ts_started);"
    "CREATE INDEX IF NOT EXISTS flows_ts_ended ON flows(ts_ended);"
    "CREATE INDEX IF NOT EXISTS flows_source ON flows(source, ts_started);"
    "CREATE INDEX IF NOT EXISTS flows_flow_id ON flows(flow_id);";

/* Parameter numbers of the upsert, in column order. */
enum {
	P_FLOW_KEY = 1,
	P_TS_STARTED,
	P_TS_ENDED,
	P_CLIENT_ADDRESS,
	P_CLIENT_PORT,
	P_PEER_ADDRESS,
	P_PEER_PORT,
	P_PROTOCOL,
	P_NAT,
	P_ACCOUNTING,
	P_BYTES_OUT,
	P_BYTES_IN,
	P_PACKETS_OUT,
	P_PACKETS_IN,
	P_APP_NAME,
	P_APP_CATEGORY,
	P_APP_CONFIDENCE,
	P_DETECTED_PROTOCOL,
	P_MASTER_PROTOCOL,
	P_APPLICATION_PROTOCOL,
	P_CATEGORY,
	P_RISK,
	P_CONFIDENCE,
	P_METADATA_JSON,
	P_ENGINE,
	P_SOURCE,
	P_TLS_SNI,
	P_HTTP_HOST,
	P_DNS_QUERY,
	P_RESOLVED_HOSTNAME,
	P_FLOW_ID,
	P_CONNTRACK_ID,
	P_L3_PROTO,
	P_RISK_SCORE,
	P_GUESSED,
	P_CLASSIFIED_AT,
	P_UPDATED_AT,
	P_COUNT = P_UPDATED_AT,
	P_KNOWN = 40, /* the observation is known */
	P_RANK = 41,  /* its store_source_rank() */
};
_Static_assert(P_COUNT == 37, "upsert column list and parameters out of step");

/* Rank of the stored row, through the same C table as store.c (SQL function registered on our
 * connection only). */
#define OLD_RANK "rdpi_source_rank(flows.source, flows.guessed)"
/* Not classified: no classified_at and no real label (a migrated Go row with a label but
 * without classified_at counts as classified, at its source's rank). */
#define UNCLASSIFIED                                                                               \
	"(flows.classified_at IS NULL AND (flows.app_name IS NULL OR flows.app_name = 'unknown'))"
/* R: the observation replaces the stored labels; or: an unknown answer fills a row that has no
 * answer at all (so it reads "unknown" with its source instead of nothing), and never anything
 * else. Same rule as store.c. */
#define R                                                                                          \
	"((?40 AND (" UNCLASSIFIED " OR ?41 > " OLD_RANK ")) OR "                                  \
	"(flows.app_name IS NULL AND flows.classified_at IS NULL AND "                             \
	"excluded.app_name IS NOT NULL))"
#define LABEL(c) c " = CASE WHEN " R " THEN excluded." c " ELSE flows." c " END, "
#define HOST(c)                                                                                    \
	c " = COALESCE(CASE WHEN " R " THEN excluded." c " END, flows." c ", excluded." c "), "
#define FILL(c) c " = COALESCE(flows." c ", excluded." c "), "
/* Counters: max of the known values (multi-argument MAX is NULL when one side is). */
#define GROW(c) c " = COALESCE(MAX(flows." c ", excluded." c "), flows." c ", excluded." c "), "

static const char sql_upsert[] =
    "INSERT INTO flows (flow_key, ts_started, ts_ended, client_address, client_port, "
    "peer_address, peer_port, protocol, nat_translated_address, accounting, bytes_out, bytes_in, "
    "packets_out, packets_in, app_name, app_category, app_confidence, detected_protocol, "
    "master_protocol, application_protocol, category, risk, confidence, metadata_json, engine, "
    "source, tls_sni, http_host, dns_query, resolved_hostname, flow_id, conntrack_id, l3_proto, "
    "risk_score, guessed, classified_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
    "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, "
    "?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37) "
    "ON CONFLICT(flow_key) DO UPDATE SET "
    "ts_started = COALESCE(MIN(flows.ts_started, excluded.ts_started), flows.ts_started, "
    "excluded.ts_started), " FILL("ts_ended") FILL("client_address") FILL("client_port")
	FILL("peer_address") FILL("peer_port") FILL("protocol") FILL("nat_translated_address")
	    FILL("accounting") FILL("flow_id") FILL("conntrack_id") FILL("l3_proto")
		GROW("bytes_out") GROW("bytes_in") GROW("packets_out") GROW("packets_in")
		    GROW("updated_at") LABEL("app_name") LABEL("app_category")
			LABEL("app_confidence") LABEL("detected_protocol") LABEL("master_protocol")
			    LABEL("application_protocol") LABEL("category") LABEL("risk")
				LABEL("confidence") LABEL("metadata_json") LABEL("engine")
				    LABEL("risk_score") LABEL("guessed") LABEL("classified_at")
					HOST("tls_sni") HOST("http_host") HOST("dns_query")
					    HOST("resolved_hostname")
    /* SET expressions all read the old row, so R sees the stored source throughout */
    "source = CASE WHEN " R " THEN excluded.source ELSE flows.source END";

/* Retention, each through one index (INDEXED BY: the planner would otherwise take the
 * flows_ts_ended index for "ts_ended IS NULL" and sort). */
static const char sql_prune_ended[] =
    "DELETE FROM flows WHERE rowid IN (SELECT rowid FROM flows INDEXED BY flows_ts_ended "
    "WHERE ts_ended < ?1 ORDER BY ts_ended LIMIT ?2)";
/* Skips rows started before the cutoff that are still live or ended after it: flows alive at
 * some point since the cutoff, so bounded by the active flow table, not by the database. */
static const char sql_prune_stale[] =
    "DELETE FROM flows WHERE rowid IN (SELECT rowid FROM flows INDEXED BY flows_ts_started "
    "WHERE ts_started < ?1 AND ts_ended IS NULL AND COALESCE(updated_at, ts_started) < ?1 "
    "ORDER BY ts_started LIMIT ?2)";
static const char sql_prune_oldest[] =
    "DELETE FROM flows WHERE rowid IN (SELECT rowid FROM flows INDEXED BY flows_ts_started "
    "WHERE ts_started < ?1 ORDER BY ts_started LIMIT ?2)";
/* ts_started of the max_rows-th newest row (walks the index, at most max_rows entries). */
static const char sql_nth_newest[] =
    "SELECT ts_started FROM flows INDEXED BY flows_ts_started WHERE ts_started IS NOT NULL "
    "ORDER BY ts_started DESC LIMIT 1 OFFSET ?1";

struct flowsdb {
	sqlite3 *db;
	sqlite3_stmt *upsert;
	size_t batch_max;
	uint64_t batch_age_ns;
	bool in_txn;
	uint64_t batch_start;
	size_t pending;
	struct flowsdb_stats stats;
	char errmsg[FLOWSDB_ERRMSG_MAX];
};

static int sql_err(struct flowsdb *f, sqlite3 *db, int rc)
{
	return sqlutil_err(db, rc, f ? f->errmsg : NULL, f ? sizeof(f->errmsg) : 0);
}

static int exec(struct flowsdb *f, const char *sql)
{
	return sqlutil_exec(f->db, sql, f->errmsg, sizeof(f->errmsg));
}

static int migrate(struct flowsdb *f)
{
	static const struct sqlutil_schema schema = {
	    .version = FLOWSDB_SCHEMA_VERSION,
	    .legacy = legacy_schema,
	    .columns = v1_columns,
	    .ncolumns = sizeof(v1_columns) / sizeof(v1_columns[0]),
	    .indexes = v1_indexes,
	};
	return sqlutil_migrate(f->db, &schema, f->errmsg, sizeof(f->errmsg));
}

/* rdpi_source_rank(source, guessed) for the upsert's view of the stored row. */
static void sql_source_rank(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const unsigned char *src = sqlite3_value_text(argv[0]);
	sqlite3_result_int(ctx, store_source_rank((const char *)src, sqlite3_value_int(argv[1])));
}

static int prepare(struct flowsdb *f, const char *sql, sqlite3_stmt **ret)
{
	return sqlutil_prepare(f->db, sql, ret, f->errmsg, sizeof(f->errmsg));
}

void flowsdb_free(struct flowsdb *f)
{
	if (!f)
		return;
	if (f->db)
		flowsdb_flush(f);
	sqlite3_finalize(f->upsert);
	sqlite3_close(f->db);
	free(f);
}

int flowsdb_open(const struct flowsdb_opts *opts, char *errbuf, size_t errlen, struct flowsdb **ret)
{
	struct flowsdb *f;
	int rc;

	if (!opts || !opts->path || !opts->path[0])
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->batch_max = opts->batch_max ? opts->batch_max : FLOWSDB_BATCH_MAX_DEFAULT;
	f->batch_age_ns = opts->batch_age_ns ? opts->batch_age_ns : FLOWSDB_BATCH_AGE_NS_DEFAULT;
	rc =
	    sqlite3_open_v2(opts->path, &f->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = sql_err(f, f->db, rc);
		goto out;
	}
	sqlite3_busy_timeout(f->db, 2000);
	rc = sqlite3_create_function(f->db, "rdpi_source_rank", 2,
				     SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
				     sql_source_rank, NULL, NULL);
	if (rc != SQLITE_OK) {
		rc = sql_err(f, f->db, rc);
		goto out;
	}
	if ((rc = exec(f, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")) < 0 ||
	    (rc = migrate(f)) < 0 || (rc = prepare(f, sql_upsert, &f->upsert)) < 0)
		goto out;
	*ret = f;
	return 0;
out:
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", f->errmsg);
	flowsdb_free(f);
	return rc;
}

/* <= 0: NULL (timestamps) */
static void bind_ts(sqlite3_stmt *st, int i, int64_t v)
{
	if (v <= 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

/* Makes room in and opens the batch transaction. */
static int batch_begin(struct flowsdb *f)
{
	int rc;
	if (f->in_txn && f->pending >= f->batch_max && (rc = flowsdb_flush(f)) < 0)
		return rc;
	if (f->in_txn)
		return 0;
	if ((rc = exec(f, "BEGIN IMMEDIATE")) < 0)
		return rc;
	f->in_txn = true;
	f->batch_start = rdpi_monotonic_ns();
	return 0;
}

int flowsdb_upsert(struct flowsdb *f, const struct flowsdb_flow *x)
{
	sqlite3_stmt *st = f->upsert;
	int rc;
	if (!x->flow_key || !x->flow_key[0])
		return -EINVAL;
	bool known = x->app_name && x->app_name[0] && strcmp(x->app_name, "unknown") != 0;
	if ((rc = batch_begin(f)) < 0)
		return rc;
	sqlutil_bind_text(st, P_FLOW_KEY, x->flow_key);
	bind_ts(st, P_TS_STARTED, x->ts_started);
	bind_ts(st, P_TS_ENDED, x->ts_ended);
	sqlutil_bind_text(st, P_CLIENT_ADDRESS, x->client_address);
	sqlutil_bind_int(st, P_CLIENT_PORT, x->client_port);
	sqlutil_bind_text(st, P_PEER_ADDRESS, x->peer_address);
	sqlutil_bind_int(st, P_PEER_PORT, x->peer_port);
	sqlutil_bind_text(st, P_PROTOCOL, x->protocol);
	sqlutil_bind_text(st, P_NAT, x->nat_translated_address);
	sqlutil_bind_text(st, P_ACCOUNTING, x->accounting);
	sqlutil_bind_int(st, P_BYTES_OUT, x->bytes_out);
	sqlutil_bind_int(st, P_BYTES_IN, x->bytes_in);
	sqlutil_bind_int(st, P_PACKETS_OUT, x->packets_out);
	sqlutil_bind_int(st, P_PACKETS_IN, x->packets_in);
	sqlutil_bind_text(st, P_APP_NAME, x->app_name);
	sqlutil_bind_text(st, P_APP_CATEGORY, x->app_category);
	sqlutil_bind_int(st, P_APP_CONFIDENCE, x->app_confidence);
	sqlutil_bind_text(st, P_DETECTED_PROTOCOL, x->detected_protocol);
	sqlutil_bind_text(st, P_MASTER_PROTOCOL, x->master_protocol);
	sqlutil_bind_text(st, P_APPLICATION_PROTOCOL, x->application_protocol);
	sqlutil_bind_text(st, P_CATEGORY, x->category);
	sqlutil_bind_text(st, P_RISK, x->risk);
	sqlutil_bind_text(st, P_CONFIDENCE, x->confidence);
	sqlutil_bind_text(st, P_METADATA_JSON, x->metadata_json);
	sqlutil_bind_text(st, P_ENGINE, x->engine);
	sqlutil_bind_text(st, P_SOURCE, x->source);
	sqlutil_bind_text(st, P_TLS_SNI, x->tls_sni);
	sqlutil_bind_text(st, P_HTTP_HOST, x->http_host);
	sqlutil_bind_text(st, P_DNS_QUERY, x->dns_query);
	sqlutil_bind_text(st, P_RESOLVED_HOSTNAME, x->resolved_hostname);
	sqlutil_bind_text(st, P_FLOW_ID, x->flow_id);
	sqlutil_bind_int(st, P_CONNTRACK_ID, x->conntrack_id);
	sqlutil_bind_text(st, P_L3_PROTO, x->l3_proto);
	sqlutil_bind_int(st, P_RISK_SCORE, x->risk_score);
	sqlite3_bind_int(st, P_GUESSED, x->guessed);
	/* classified_at marks a classified row (the upsert rule reads it): never NULL when known */
	if (known)
		sqlite3_bind_int64(st, P_CLASSIFIED_AT,
				   x->classified_at > 0 ? x->classified_at
				   : x->now > 0		? x->now
							: 1);
	else
		sqlite3_bind_null(st, P_CLASSIFIED_AT);
	bind_ts(st, P_UPDATED_AT, x->now);
	sqlite3_bind_int(st, P_KNOWN, known);
	sqlite3_bind_int(st, P_RANK, store_source_rank(x->source, x->guessed));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return sql_err(f, f->db, rc);
	f->pending++;
	return 0;
}

int flowsdb_flush(struct flowsdb *f)
{
	if (!f->in_txn)
		return 0;
	uint64_t t0 = rdpi_monotonic_ns();
	int rc = sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		rc = sql_err(f, f->db, rc);
		sqlite3_exec(f->db, "ROLLBACK", NULL, NULL, NULL);
		f->stats.commit_errors++;
		f->stats.rows_lost += f->pending;
	} else {
		uint64_t dt = rdpi_monotonic_ns() - t0;
		f->stats.commits++;
		f->stats.commit_ns_last = dt;
		f->stats.commit_ns_total += dt;
		if (dt > f->stats.commit_ns_max)
			f->stats.commit_ns_max = dt;
		f->stats.batch_last = f->pending;
		if (f->pending > f->stats.batch_max)
			f->stats.batch_max = f->pending;
		f->stats.flows_written += f->pending;
	}
	f->in_txn = false;
	f->pending = 0;
	return rc;
}

int flowsdb_maybe_flush(struct flowsdb *f, uint64_t now_mono)
{
	if (!f->in_txn)
		return 0;
	if (f->pending >= f->batch_max ||
	    (now_mono > f->batch_start && now_mono - f->batch_start >= f->batch_age_ns))
		return flowsdb_flush(f);
	return 0;
}

size_t flowsdb_pending(const struct flowsdb *f)
{
	return f->pending;
}

/* Runs one bounded DELETE (?1 cutoff, ?2 limit), adding the rows deleted to *n. */
static int delete_some(struct flowsdb *f, const char *sql, int64_t cutoff, size_t limit, size_t *n)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(f->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_err(f, f->db, rc);
	sqlite3_bind_int64(st, 1, cutoff);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sql_err(f, f->db, rc);
	*n += (size_t)sqlite3_changes(f->db);
	return 0;
}

static int nth_newest(struct flowsdb *f, size_t max_rows, bool *ret_found, int64_t *ret)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(f->db, sql_nth_newest, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_err(f, f->db, rc);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)max_rows);
	rc = sqlite3_step(st);
	*ret_found = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sql_err(f, f->db, rc);
	return 0;
}

int flowsdb_prune(struct flowsdb *f, int64_t now, int64_t ttl, size_t limit, size_t max_rows,
		  size_t *ret_deleted)
{
	size_t n = 0;
	int rc;
	if ((rc = flowsdb_flush(f)) < 0)
		return rc;
	if (limit == 0)
		goto done;
	if ((rc = exec(f, "BEGIN IMMEDIATE")) < 0)
		return rc;
	if (ttl > 0) {
		if ((rc = delete_some(f, sql_prune_ended, now - ttl, limit, &n)) < 0)
			goto out;
		if (n < limit &&
		    (rc = delete_some(f, sql_prune_stale, now - ttl, limit - n, &n)) < 0)
			goto out;
	}
	if (max_rows > 0 && n < limit) {
		bool found = false;
		int64_t v = 0;
		/* Row max_rows (0-based) and older are over the limit: delete up to and
		 * including its ts_started; ties may leave a few extra rows for next time. Rows
		 * without ts_started are not counted here (the writer always sets it). */
		if ((rc = nth_newest(f, max_rows, &found, &v)) < 0)
			goto out;
		if (found && (rc = delete_some(f, sql_prune_oldest, v + 1, limit - n, &n)) < 0)
			goto out;
	}
	rc = exec(f, "COMMIT");
out:
	if (rc < 0) {
		sqlite3_exec(f->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	f->stats.pruned += n;
done:
	if (ret_deleted)
		*ret_deleted = n;
	return 0;
}

const struct flowsdb_stats *flowsdb_stats(const struct flowsdb *f)
{
	return &f->stats;
}

const char *flowsdb_errmsg(const struct flowsdb *f)
{
	return f->errmsg;
}

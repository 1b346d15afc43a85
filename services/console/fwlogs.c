/* /api/v1/firewall-logs: newest-first page of firewall_logs over a window (index
 * firewall_logs_ts), optional action and source address filters, plus the total. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "db.h"

#define SQL_MAX 4096

static const char *const actions[] = {"drop", "reject", "accept", "deny", "log", NULL};

static const char *col_text(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL
							 : (const char *)sqlite3_column_text(st, i);
}

static json_t *col_int(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL
		   ? json_null()
		   : json_integer(sqlite3_column_int64(st, i));
}

enum {
	F_ID,
	F_TS,
	F_ZONE_FROM,
	F_ZONE_TO,
	F_RULE,
	F_ACTION,
	F_SRC,
	F_SRC_PORT,
	F_DST,
	F_DST_PORT,
	F_PROTOCOL,
	F_TCP_FLAGS,
	F_L3,
	F_IN,
	F_OUT,
	F_BYTES,
	F_HINT,
	F_APP,
	F_CAT,
	F_SNI,
	F_HOST,
	F_QUERY,
	F_CONF,
	F_CORR,
	F_CORR_DETAIL,
	F_AGE,
	F_EXP_BYTES,
	F_DPI_SOURCE,
	F_RISK_SCORE,
};

static json_t *log_json(struct db *d, sqlite3_stmt *st)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	static const struct {
		const char *key;
		int col;
	} texts[] =
	    {
		{"zoneFrom", F_ZONE_FROM},
		{"zoneTo", F_ZONE_TO},
		{"ruleName", F_RULE},
		{"action", F_ACTION},
		{"srcAddress", F_SRC},
		{"dstAddress", F_DST},
		{"protocol", F_PROTOCOL},
		{"tcpFlags", F_TCP_FLAGS},
		{"l3Proto", F_L3},
		{"inIface", F_IN},
		{"outIface", F_OUT},
		{"hint", F_HINT},
		{"dpiApp", F_APP},
		{"dpiCategory", F_CAT},
		{"dpiTlsSni", F_SNI},
		{"dpiHttpHost", F_HOST},
		{"dpiDnsQuery", F_QUERY},
		{"correlation", F_CORR},
		{"correlationDetail", F_CORR_DETAIL},
		{"dpiSource", F_DPI_SOURCE},
	    },
	  ints[] = {
	      {"id", F_ID},
	      {"srcPort", F_SRC_PORT},
	      {"dstPort", F_DST_PORT},
	      {"packetBytes", F_BYTES},
	      {"dpiConfidence", F_CONF},
	      {"expiredAgeSeconds", F_AGE},
	      {"expiredBytes", F_EXP_BYTES},
	      {"dpiRiskScore", F_RISK_SCORE},
	  };
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		api_set(o, texts[i].key, api_str(col_text(st, texts[i].col)));
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		api_set(o, ints[i].key, col_int(st, ints[i].col));
	api_set(o, "ts", api_ts(db_to_ns(d, sqlite3_column_int64(st, F_TS))));
	const char *hint = col_text(st, F_HINT);
	api_set(o, "cacheHit", json_boolean(hint && strstr(hint, "denied packet matched prior")));
	return o;
}

int fwlogs_list(struct api_req *r, json_t **ret)
{
	int64_t since, until, limit, offset;
	const char *action = NULL, *src = NULL;
	int rv;
	if ((rv = api_window(r, API_DAY_NS, &since, &until)) < 0 ||
	    (rv = api_text(r, "action", &action)) < 0 || (rv = api_text(r, "src", &src)) < 0 ||
	    (rv = api_count(r, "limit", 100, 1, r->max_limit, &limit)) < 0 ||
	    (rv = api_count(r, "offset", 0, 0, 100000000, &offset)) < 0)
		return rv;
	if (action) {
		int i;
		for (i = 0; actions[i]; i++)
			if (strcmp(action, actions[i]) == 0)
				break;
		if (!actions[i]) {
			snprintf(r->bad, sizeof(r->bad),
				 "bad parameter action: one of drop, reject, accept, deny, log");
			return -EINVAL;
		}
	}
	json_t *o = json_object(), *list = json_array();
	if (!o || !list) {
		json_decref(o);
		json_decref(list);
		return -ENOMEM;
	}
	api_set(o, "logs", list);
	api_set(o, "limit", json_integer(limit));
	api_set(o, "offset", json_integer(offset));
	api_set(o, "since", api_ts(since));
	api_set(o, "until", api_ts(until));
	int64_t total = 0;
	char err[512], where[1024], sql[SQL_MAX];
	struct db *d = r->fw;
	if (db_lock(d, err, sizeof(err)) < 0) {
		api_error(r, "%s", err);
		api_set(o, "total", json_integer(0));
		*ret = o;
		return 0;
	}
	/* "deny" is every non-accept action. With such a filter over a window that covers most
	 * of the file, reading the table in order beats an index lookup per row (the count
	 * visits every row of the window either way). */
	bool scan = (action || src) && db_window_is_wide(d, since, until);
	snprintf(where, sizeof(where), " WHERE ts >= :since AND ts <= :until%s%s",
		 !action		       ? ""
		 : strcmp(action, "deny") == 0 ? " AND COALESCE(action,'drop') <> 'accept'"
					       : " AND action = :action",
		 src ? " AND src_address = :src" : "");
	/* the page walks the ts index newest first and stops at the limit; only the count
	 * reads the whole window */
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM firewall_logs%s%s", scan ? " NOT INDEXED" : "",
		 where);
	sqlite3_stmt *st = db_stmt(d, sql, err, sizeof(err));
	int pass;
	for (pass = 0; pass < 2 && st; pass++) {
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":since"),
				   db_to_file(d, since));
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":until"),
				   db_to_file(d, until));
		if (action && strcmp(action, "deny") != 0)
			sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":action"), action,
					  -1, SQLITE_TRANSIENT);
		if (src)
			sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":src"), src, -1,
					  SQLITE_TRANSIENT);
		int rc;
		if (pass == 0) {
			rc = sqlite3_step(st);
			if (rc != SQLITE_ROW)
				break;
			total = sqlite3_column_int64(st, 0);
			sqlite3_reset(st);
			snprintf(
			    sql, sizeof(sql),
			    "SELECT id, ts, zone_from, zone_to, rule_name, action, src_address, "
			    "src_port, dst_address, dst_port, protocol, tcp_flags, l3_proto, "
			    "in_iface, out_iface, packet_bytes, hint, dpi_app, dpi_category, "
			    "dpi_tls_sni, dpi_http_host, dpi_dns_query, dpi_confidence, "
			    "correlation, correlation_detail, expired_age_seconds, expired_bytes, "
			    "%s, %s FROM firewall_logs%s ORDER BY ts DESC, id DESC "
			    "LIMIT :limit OFFSET :offset",
			    db_col(d, "dpi_source"), db_col(d, "dpi_risk_score"), where);
			st = db_stmt(d, sql, err, sizeof(err));
			continue;
		}
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":limit"), limit);
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":offset"), offset);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			json_t *row = log_json(d, st);
			if (!row || json_array_append_new(list, row) < 0) {
				sqlite3_reset(st);
				db_unlock(d);
				json_decref(o);
				return -ENOMEM;
			}
		}
		if (rc != SQLITE_DONE)
			break;
		sqlite3_reset(st);
	}
	if (!st) {
		api_error(r, "%s", err);
	} else if (pass < 2) {
		api_error(r, "firewall-logs.db: %s", sqlite3_errmsg(db_handle(d)));
		db_fail(d);
	}
	db_unlock(d);
	api_set(o, "total", json_integer(total));
	*ret = o;
	return 0;
}

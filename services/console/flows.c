/* /api/v1/traffic-flows and /aggregate: filters turned into one WHERE clause of fixed
 * fragments with bound values (index friendly: client -> flows_client_ts, source ->
 * flows_source, else flows_ts_started), the paged list + COUNT, and one-pass scans that the
 * summary and clients endpoints aggregate in C. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "api.h"
#include "db.h"
#include "labels.h"
#include "provider.h"

#define SQL_MAX	     6144
#define AGG_TOP	     20
#define AGG_MAX_KEYS 65536
#define HOST_EXPR                                                                                  \
	"COALESCE(NULLIF(resolved_hostname,''),NULLIF(tls_sni,''),NULLIF(http_host,''),"           \
	"NULLIF(dns_query,''))"

int flows_filter_parse(struct api_req *r, int64_t def_ns, struct flows_filter *f)
{
	*f = (struct flows_filter){.source = -1, .asym = -1};
	int rv;
	const char *src = NULL;
	bool has_asym = false, asym = false;
	if ((rv = api_window(r, def_ns, &f->since, &f->until)) < 0 ||
	    (rv = api_text(r, "client", &f->client)) < 0 ||
	    (rv = api_text(r, "peer", &f->peer)) < 0 ||
	    (rv = api_text(r, "peer-suffix", &f->suffix)) < 0 ||
	    (rv = api_text(r, "protocol", &f->protocol)) < 0 ||
	    (rv = api_text(r, "app", &f->app)) < 0 || (rv = api_text(r, "q", &f->q)) < 0 ||
	    (rv = api_text(r, "source", &src)) < 0 ||
	    (rv = api_bool(r, "asymmetric", &has_asym, &asym)) < 0)
		return rv;
	if (src) {
		f->source = labels_source_parse(src);
		if (f->source < 0) {
			snprintf(r->bad, sizeof(r->bad),
				 "bad parameter source: one of ndpi-agent, builtin-payload, "
				 "dns-cache, sni-cache, port-fallback, unknown");
			return -EINVAL;
		}
	}
	if (has_asym)
		f->asym = asym;
	return 0;
}

#define ASYM_EXPR                                                                                  \
	"(COALESCE(bytes_in,0)+COALESCE(bytes_out,0) > 0 AND "                                     \
	"(COALESCE(bytes_in,0) = 0 OR COALESCE(bytes_out,0) = 0))"

/* " WHERE ..." of fixed fragments; values are bound by name in flows_bind(). */
/* scan: the statement reads every matching row (aggregates, counts that need row columns);
 * then a wide window without an indexed filter is cheaper as a table scan ("+ts_started"
 * keeps the timestamp index out) than as index + rowid lookups. A paged list keeps the
 * index: it gives the order and stops after LIMIT rows. */
static void flows_where(const struct db *d, const struct flows_filter *f, bool scan, char *buf,
			size_t len)
{
	size_t o = 0;
#define ADD(s) o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s", s)
	if (scan && !f->client && !f->peer &&
	    (f->source < 0 || f->source == LABELS_SRC_UNIDENTIFIED) &&
	    db_window_is_wide(d, f->since, f->until))
		ADD(" WHERE +ts_started >= :since AND +ts_started <= :until");
	else
		ADD(" WHERE ts_started >= :since AND ts_started <= :until");
	if (f->client)
		ADD(" AND client_address = :client");
	if (f->peer)
		ADD(" AND peer_address = :peer");
	if (f->suffix)
		ADD(" AND rdpi_suffix(:suffix, resolved_hostname, tls_sni, http_host, dns_query)");
	if (f->protocol)
		ADD(" AND (lower(protocol) = :proto OR "
		    "rdpi_dproto(protocol, peer_port, app_name, tls_sni, http_host) = :proto)");
	if (f->app)
		ADD(" AND lower(app_name) = :app");
	if (f->source == LABELS_SRC_UNIDENTIFIED)
		ADD(" AND rdpi_src(source, app_name) = 'unidentified'");
	else if (f->source >= 0)
		ADD(" AND source = :source AND rdpi_src(source, app_name) = :source");
	if (f->asym == 1)
		ADD(" AND " ASYM_EXPR);
	else if (f->asym == 0)
		ADD(" AND NOT " ASYM_EXPR);
	if (f->q)
		ADD(" AND (instr(lower(COALESCE(client_address,'')), :q) OR "
		    "instr(lower(COALESCE(peer_address,'')), :q) OR "
		    "instr(lower(COALESCE(app_name,'')), :q) OR "
		    "instr(lower(COALESCE(resolved_hostname,'')), :q) OR "
		    "instr(lower(COALESCE(tls_sni,'')), :q) OR "
		    "instr(lower(COALESCE(http_host,'')), :q) OR "
		    "instr(lower(COALESCE(dns_query,'')), :q))");
#undef ADD
}

static void bind_text(sqlite3_stmt *st, const char *name, const char *v, bool lower)
{
	int i = sqlite3_bind_parameter_index(st, name);
	if (!i || !v)
		return;
	if (!lower) {
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
		return;
	}
	char *c = strdup(v);
	if (!c)
		return;
	for (char *p = c; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	sqlite3_bind_text(st, i, c, -1, free);
}

static void flows_bind(const struct db *d, sqlite3_stmt *st, const struct flows_filter *f)
{
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":since"), db_to_file(d, f->since));
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":until"), db_to_file(d, f->until));
	bind_text(st, ":client", f->client, false);
	bind_text(st, ":peer", f->peer, false);
	bind_text(st, ":suffix", f->suffix, false);
	bind_text(st, ":proto", f->protocol, true);
	bind_text(st, ":app", f->app, true);
	bind_text(st, ":q", f->q, true);
	if (f->source >= 0 && f->source != LABELS_SRC_UNIDENTIFIED)
		bind_text(st, ":source", labels_source_names[f->source], false);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL
							 : (const char *)sqlite3_column_text(st, i);
}

static int col_int(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int(st, i);
}

static json_t *col_json_int(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL
		   ? json_null()
		   : json_integer(sqlite3_column_int64(st, i));
}

static int query_failed(struct api_req *r, struct db *d, const char *what)
{
	api_error(r, "traffic-flows.db: %s: %s", what, sqlite3_errmsg(db_handle(d)));
	db_fail(d);
	return -EIO;
}

/* ---- scan ---------------------------------------------------------------------------------- */

int flows_scan(struct api_req *r, const struct flows_filter *f, unsigned need, flows_row_fn fn,
	       void *arg)
{
	bool peer = need & FLOWS_NEED_PEER, ts = need & FLOWS_NEED_TS;
	char err[512], sql[SQL_MAX], where[SQL_MAX - 1024];
	if (db_lock(r->flows, err, sizeof(err)) < 0) {
		api_error(r, "%s", err);
		return -EIO;
	}
	flows_where(r->flows, f, true, where, sizeof(where));
	snprintf(sql, sizeof(sql),
		 "SELECT client_address, %s, app_name, source, bytes_in, bytes_out, %s, " HOST_EXPR
		 ", %s FROM flows%s",
		 peer ? "peer_address, peer_port, protocol" : "NULL, NULL, NULL",
		 ts ? "ts_started" : "NULL", peer ? "tls_sni, http_host" : "NULL, NULL", where);
	sqlite3_stmt *st = db_stmt(r->flows, sql, err, sizeof(err));
	if (!st) {
		api_error(r, "%s", err);
		db_unlock(r->flows);
		return -EIO;
	}
	flows_bind(r->flows, st, f);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct flows_row row = {
		    .client = col_text(st, 0),
		    .peer = col_text(st, 1),
		    .peer_port = col_int(st, 2),
		    .protocol = col_text(st, 3),
		    .app = col_text(st, 4),
		    .source = col_text(st, 5),
		    .bytes_in = sqlite3_column_int64(st, 6),
		    .bytes_out = sqlite3_column_int64(st, 7),
		    .ts_ns = db_to_ns(r->flows, sqlite3_column_int64(st, 8)),
		    .hostname = col_text(st, 9),
		    .tls_sni = col_text(st, 10),
		    .http_host = col_text(st, 11),
		};
		if (row.bytes_in < 0)
			row.bytes_in = 0;
		if (row.bytes_out < 0)
			row.bytes_out = 0;
		fn(arg, &row);
	}
	int rv = 0;
	if (rc != SQLITE_DONE)
		rv = query_failed(r, r->flows, "scan");
	else
		sqlite3_reset(st);
	db_unlock(r->flows);
	return rv;
}

/* ---- list ------------------------------------------------------------------------------------ */

static json_t *parse_json_text(const char *s, bool object)
{
	if (!s || !*s)
		return object ? json_object() : json_null();
	json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
	if (j && (!object || json_is_object(j)))
		return j;
	json_decref(j);
	return object ? json_object() : api_str(s);
}

enum {
	C_KEY,
	C_TS_STARTED,
	C_TS_ENDED,
	C_CLIENT,
	C_CLIENT_PORT,
	C_PEER,
	C_PEER_PORT,
	C_PROTOCOL,
	C_NAT,
	C_ACCOUNTING,
	C_BYTES_OUT,
	C_BYTES_IN,
	C_PKTS_OUT,
	C_PKTS_IN,
	C_APP,
	C_APP_CAT,
	C_APP_CONF,
	C_DETECTED,
	C_MASTER,
	C_APPLICATION,
	C_CATEGORY,
	C_RISK,
	C_CONFIDENCE,
	C_METADATA,
	C_ENGINE,
	C_SOURCE,
	C_SNI,
	C_HTTP_HOST,
	C_DNS_QUERY,
	C_RESOLVED,
	C_GUESSED,
	C_FLOW_ID,
	C_RISK_SCORE,
	C_L3,
	C_CLASSIFIED_AT,
	C_UPDATED_AT,
	C_CONNTRACK_ID,
};

static json_t *flow_json(struct db *d, sqlite3_stmt *st)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	static const struct {
		const char *key;
		int col;
	} texts[] =
	    {
		{"flowKey", C_KEY},
		{"clientAddress", C_CLIENT},
		{"peerAddress", C_PEER},
		{"protocol", C_PROTOCOL},
		{"natTranslatedAddress", C_NAT},
		{"accounting", C_ACCOUNTING},
		{"appName", C_APP},
		{"appCategory", C_APP_CAT},
		{"detectedProtocol", C_DETECTED},
		{"masterProtocol", C_MASTER},
		{"applicationProtocol", C_APPLICATION},
		{"category", C_CATEGORY},
		{"confidence", C_CONFIDENCE},
		{"engine", C_ENGINE},
		{"source", C_SOURCE},
		{"tlsSNI", C_SNI},
		{"httpHost", C_HTTP_HOST},
		{"dnsQuery", C_DNS_QUERY},
		{"resolvedHostname", C_RESOLVED},
		{"flowId", C_FLOW_ID},
		{"l3Proto", C_L3},
	    },
	  ints[] = {
	      {"clientPort", C_CLIENT_PORT},   {"peerPort", C_PEER_PORT},
	      {"bytesOut", C_BYTES_OUT},       {"bytesIn", C_BYTES_IN},
	      {"packetsOut", C_PKTS_OUT},      {"packetsIn", C_PKTS_IN},
	      {"appConfidence", C_APP_CONF},   {"riskScore", C_RISK_SCORE},
	      {"conntrackId", C_CONNTRACK_ID},
	  };
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		api_set(o, texts[i].key, api_str(col_text(st, texts[i].col)));
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		api_set(o, ints[i].key, col_json_int(st, ints[i].col));
	static const struct {
		const char *key;
		int col;
	} tss[] = {{"tsStarted", C_TS_STARTED},
		   {"tsEnded", C_TS_ENDED},
		   {"classifiedAt", C_CLASSIFIED_AT},
		   {"updatedAt", C_UPDATED_AT}};
	for (size_t i = 0; i < sizeof(tss) / sizeof(tss[0]); i++) {
		int c = tss[i].col;
		/* classified_at/updated_at are written in ns by our logger only */
		int64_t v = sqlite3_column_int64(st, c);
		int64_t ns = c == C_TS_STARTED || c == C_TS_ENDED ? db_to_ns(d, v) : v;
		api_set(o, tss[i].key,
			sqlite3_column_type(st, c) == SQLITE_NULL ? json_null() : api_ts(ns));
	}
	api_set(o, "risk", parse_json_text(col_text(st, C_RISK), false));
	api_set(o, "metadata", parse_json_text(col_text(st, C_METADATA), true));

	const char *app = col_text(st, C_APP), *source = col_text(st, C_SOURCE);
	const char *hosts[] = {col_text(st, C_RESOLVED), col_text(st, C_SNI),
			       col_text(st, C_HTTP_HOST), col_text(st, C_DNS_QUERY)};
	const char *prov = provider_label(hosts, 4, app);
	api_set(o, "provider", api_str(prov));
	api_set(o, "displayProtocol",
		api_str(labels_display_protocol(col_text(st, C_PROTOCOL), col_int(st, C_PEER_PORT),
						app, hosts[1], hosts[2])));
	bool guessed = (source && strcmp(source, "port-fallback") == 0) ||
		       (sqlite3_column_type(st, C_GUESSED) != SQLITE_NULL &&
			sqlite3_column_int(st, C_GUESSED) != 0);
	api_set(o, "guessed", json_boolean(guessed));
	return o;
}

int flows_list(struct api_req *r, json_t **ret)
{
	struct flows_filter f;
	int64_t limit, offset;
	int rv;
	if ((rv = flows_filter_parse(r, API_DAY_NS, &f)) < 0 ||
	    (rv = api_count(r, "limit", 100, 1, r->max_limit, &limit)) < 0 ||
	    (rv = api_count(r, "offset", 0, 0, 100000000, &offset)) < 0)
		return rv;
	json_t *o = json_object(), *list = json_array();
	if (!o || !list) {
		json_decref(o);
		json_decref(list);
		return -ENOMEM;
	}
	api_set(o, "flows", list);
	api_set(o, "limit", json_integer(limit));
	api_set(o, "offset", json_integer(offset));
	api_set(o, "since", api_ts(f.since));
	api_set(o, "until", api_ts(f.until));
	int64_t total = 0;
	char err[512], sql[SQL_MAX], where[SQL_MAX - 2048];
	if (db_lock(r->flows, err, sizeof(err)) < 0) {
		api_error(r, "%s", err);
		api_set(o, "total", json_integer(0));
		*ret = o;
		return 0;
	}
	struct db *d = r->flows;
	/* COUNT(*) on the time range alone is answered from the index; other filters read rows */
	bool row_filters = f.suffix || f.protocol || f.app || f.q || f.asym >= 0 ||
			   f.source == LABELS_SRC_UNIDENTIFIED;
	flows_where(d, &f, row_filters, where, sizeof(where));
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM flows%s", where);
	sqlite3_stmt *st = db_stmt(d, sql, err, sizeof(err));
	if (!st)
		goto fail_stmt;
	flows_bind(d, st, &f);
	if (sqlite3_step(st) != SQLITE_ROW) {
		query_failed(r, d, "count");
		goto done;
	}
	total = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	flows_where(d, &f, false, where, sizeof(where));

	snprintf(
	    sql, sizeof(sql),
	    "SELECT flow_key, ts_started, ts_ended, client_address, client_port, peer_address, "
	    "peer_port, protocol, nat_translated_address, accounting, bytes_out, bytes_in, "
	    "packets_out, packets_in, app_name, app_category, app_confidence, "
	    "detected_protocol, master_protocol, application_protocol, category, risk, "
	    "confidence, metadata_json, engine, source, tls_sni, http_host, dns_query, "
	    "resolved_hostname, %s, %s, %s, %s, %s, %s, %s FROM flows%s "
	    "ORDER BY ts_started DESC, id DESC LIMIT :limit OFFSET :offset",
	    db_col(d, "guessed"), db_col(d, "flow_id"), db_col(d, "risk_score"),
	    db_col(d, "l3_proto"), db_col(d, "classified_at"), db_col(d, "updated_at"),
	    db_col(d, "conntrack_id"), where);
	st = db_stmt(d, sql, err, sizeof(err));
	if (!st)
		goto fail_stmt;
	flows_bind(d, st, &f);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":limit"), limit);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":offset"), offset);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = flow_json(d, st);
		if (!row || json_array_append_new(list, row) < 0) {
			sqlite3_reset(st);
			db_unlock(d);
			json_decref(o);
			return -ENOMEM;
		}
	}
	if (rc != SQLITE_DONE)
		query_failed(r, d, "list");
	else
		sqlite3_reset(st);
	goto done;
fail_stmt:
	api_error(r, "%s", err);
done:
	db_unlock(d);
	api_set(o, "total", json_integer(total));
	*ret = o;
	return 0;
}

/* ---- aggregate ------------------------------------------------------------------------------ */

struct kv {
	int64_t flows, bytes_in, bytes_out;
};

struct agg_ctx {
	struct agg *by[4]; /* client, peer, protocol, source */
	int64_t total, bytes_in, bytes_out;
};

static void kv_add(struct agg *a, const char *key, const struct flows_row *row)
{
	if (!key)
		key = "";
	struct kv *v = agg_get(a, key, strlen(key));
	if (!v)
		return;
	v->flows++;
	v->bytes_in += row->bytes_in;
	v->bytes_out += row->bytes_out;
}

static void agg_row(void *arg, const struct flows_row *row)
{
	struct agg_ctx *c = arg;
	c->total++;
	c->bytes_in += row->bytes_in;
	c->bytes_out += row->bytes_out;
	kv_add(c->by[0], row->client, row);
	kv_add(c->by[1], row->peer, row);
	kv_add(c->by[2],
	       labels_display_protocol(row->protocol, row->peer_port, row->app, row->tls_sni,
				       row->http_host),
	       row);
	kv_add(c->by[3], labels_source_names[labels_source_of(row->source, row->app)], row);
}

static int kv_cmp(const void *x, const void *y)
{
	const struct kv *a = x, *b = y;
	int64_t ba = a->bytes_in + a->bytes_out, bb = b->bytes_in + b->bytes_out;
	if (ba != bb)
		return ba > bb ? -1 : 1;
	return a->flows > b->flows ? -1 : a->flows < b->flows;
}

static json_t *kv_list(struct agg *a, size_t top)
{
	json_t *list = json_array();
	agg_sort(a, kv_cmp);
	for (size_t i = 0; list && i < agg_len(a) && i < top; i++) {
		const struct kv *v = agg_val(a, i);
		json_array_append_new(list, json_pack("{s:s,s:I,s:I,s:I,s:I}", "key", agg_key(a, i),
						      "flows", (json_int_t)v->flows, "bytesIn",
						      (json_int_t)v->bytes_in, "bytesOut",
						      (json_int_t)v->bytes_out, "bytes",
						      (json_int_t)(v->bytes_in + v->bytes_out)));
	}
	return list;
}

int flows_aggregate(struct api_req *r, json_t **ret)
{
	struct flows_filter f;
	int rv = flows_filter_parse(r, API_DAY_NS, &f);
	if (rv < 0)
		return rv;
	struct agg_ctx c = {0};
	for (int i = 0; i < 4; i++)
		if (agg_new(sizeof(struct kv), AGG_MAX_KEYS, &c.by[i]) < 0) {
			rv = -ENOMEM;
			goto out;
		}
	flows_scan(r, &f, FLOWS_NEED_PEER, agg_row, &c);
	json_t *o = json_object();
	if (!o) {
		rv = -ENOMEM;
		goto out;
	}
	api_set(o, "total", json_integer(c.total));
	api_set(o, "since", api_ts(f.since));
	api_set(o, "until", api_ts(f.until));
	api_set(o, "totalBytesIn", json_integer(c.bytes_in));
	api_set(o, "totalBytesOut", json_integer(c.bytes_out));
	static const char *const names[4] = {"byClient", "byPeer", "byProtocol", "bySource"};
	for (int i = 0; i < 4; i++)
		api_set(o, names[i], kv_list(c.by[i], AGG_TOP));
	*ret = o;
	rv = 0;
out:
	for (int i = 0; i < 4; i++)
		agg_free(c.by[i]);
	return rv;
}

/* /api/v1/summary: one pass over traffic-flows.db for the source ratios and top lists
 * (aggregated in C), one aggregate over firewall-logs.db; DPI health from the probe cache and
 * NFLOG counters from the logger's status in summary_health (live, never cached). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "api.h"
#include "db.h"
#include "labels.h"
#include "provider.h"

#define TOP	    10
#define MAX_KEYS    65536
#define TALKERS_TOP 10

struct tot {
	int64_t flows, bytes_in, bytes_out;
};

/* tot first: the top list compares it */
struct dom {
	struct tot t;
	const char *prov; /* static provider name or NULL */
	bool prov_known;
};

struct sum_ctx {
	int64_t flows, bytes;
	int64_t src_flows[LABELS_SRC__N], src_bytes[LABELS_SRC__N];
	struct agg *apps, *domains, *providers, *talkers;
};

static void tot_add(struct agg *a, const char *key, const struct flows_row *row)
{
	if (!key || !*key)
		return;
	struct tot *t = agg_get(a, key, strlen(key));
	if (!t)
		return;
	t->flows++;
	t->bytes_in += row->bytes_in;
	t->bytes_out += row->bytes_out;
}

static void sum_row(void *arg, const struct flows_row *row)
{
	struct sum_ctx *c = arg;
	int64_t b = row->bytes_in + row->bytes_out;
	enum labels_source s = labels_source_of(row->source, row->app);
	c->flows++;
	c->bytes += b;
	c->src_flows[s]++;
	c->src_bytes[s] += b;
	if (row->app && *row->app && strcmp(row->app, "unknown") != 0)
		tot_add(c->apps, row->app, row);
	const char *prov = NULL;
	if (row->hostname && *row->hostname) {
		/* the provider of a hostname is computed once per distinct name */
		struct dom *d = agg_get(c->domains, row->hostname, strlen(row->hostname));
		if (d) {
			d->t.flows++;
			d->t.bytes_in += row->bytes_in;
			d->t.bytes_out += row->bytes_out;
			if (!d->prov_known) {
				d->prov = provider_from_host(row->hostname);
				d->prov_known = true;
			}
			prov = d->prov;
		} else {
			prov = provider_from_host(row->hostname);
		}
	}
	if (!prov)
		prov = provider_from_app(row->app);
	tot_add(c->providers, prov, row);
	tot_add(c->talkers, row->client, row);
}

static int tot_cmp(const void *x, const void *y)
{
	const struct tot *a = x, *b = y;
	int64_t ba = a->bytes_in + a->bytes_out, bb = b->bytes_in + b->bytes_out;
	if (ba != bb)
		return ba > bb ? -1 : 1;
	return a->flows > b->flows ? -1 : a->flows < b->flows;
}

static json_t *top_list(struct agg *a, const char *keyname, bool talkers)
{
	json_t *list = json_array();
	agg_sort(a, tot_cmp);
	for (size_t i = 0; list && i < agg_len(a) && i < TOP; i++) {
		const struct tot *t = agg_val(a, i);
		json_t *e =
		    talkers ? json_pack("{s:s,s:I,s:I,s:I,s:I}", keyname, agg_key(a, i), "flows",
					(json_int_t)t->flows, "bytesIn", (json_int_t)t->bytes_in,
					"bytesOut", (json_int_t)t->bytes_out, "bytes",
					(json_int_t)(t->bytes_in + t->bytes_out))
			    : json_pack("{s:s,s:I,s:I}", keyname, agg_key(a, i), "flows",
					(json_int_t)t->flows, "bytes",
					(json_int_t)(t->bytes_in + t->bytes_out));
		json_array_append_new(list, e);
	}
	return list;
}

static json_t *ratios(const int64_t *v, int64_t total, bool fraction)
{
	json_t *o = json_object();
	for (int i = 0; o && i < LABELS_SRC__N; i++)
		api_set(o, labels_source_names[i],
			fraction ? json_real(total > 0 ? (double)v[i] / (double)total : 0.0)
				 : json_integer(v[i]));
	return o;
}

/* ---- DPI health ---------------------------------------------------------------------------- */

/* uint64 fields come as numbers or (proto3 JSON) strings */
static json_int_t num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (json_int_t)json_real_value(v);
	if (json_is_string(v))
		return (json_int_t)strtoll(json_string_value(v), NULL, 10);
	return 0;
}

static json_t *nonempty(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? json_string(s) : json_null();
}

static json_t *health(struct api_req *r, enum probe_target t, const char *name,
		      struct probe_result *res)
{
	probe_get(r->probe, t, res);
	json_t *o = json_object();
	if (!o)
		return NULL;
	api_set(o, "reachable", json_boolean(res->reachable));
	api_set(o, "checkedAt", api_ts(res->checked_at_ns));
	api_set(o, "error", res->reachable ? json_null() : json_string(res->error));
	if (!res->reachable)
		api_error(r, "%s: %s", name, res->error);
	json_t *s = res->status;
	if (t == PROBE_CLASSIFIER) {
		json_t *agent = json_object_get(s, "agent"), *st = json_object_get(s, "stats");
		api_set(o, "engine", nonempty(s, "engine"));
		api_set(o, "activeEngine", nonempty(s, "activeEngine"));
		api_set(o, "breaker", nonempty(agent, "breaker"));
		api_set(o, "reason", nonempty(agent, "error"));
		json_int_t req = num(st, "requests"), to = num(st, "timeoutErrors");
		api_set(o, "requests", json_integer(req));
		api_set(o, "errors", json_integer(num(st, "agentErrors")));
		api_set(o, "timeouts", json_integer(to));
		api_set(o, "timeoutRate", json_real(req > 0 ? (double)to / (double)req : 0.0));
	} else if (t == PROBE_AGENT) {
		json_t *st = json_object_get(s, "stats");
		api_set(o, "libndpiLoaded",
			json_boolean(json_is_true(json_object_get(s, "libndpiLoaded"))));
		api_set(o, "libndpiVersion", nonempty(s, "libndpiVersion"));
		api_set(o, "reason", nonempty(s, "reason"));
		api_set(o, "flows", json_integer(num(st, "activeFlows")));
		api_set(o, "errors",
			json_integer(num(st, "errorPackets") + num(st, "backendErrors")));
	}
	return o;
}

/* ---- firewall ------------------------------------------------------------------------------- */

#define FW_SQL(where)                                                                              \
	"SELECT COALESCE(SUM(COALESCE(action,'drop') <> 'accept'),0), "                            \
	"COALESCE(SUM(correlation = 'orphan_return'),0), "                                         \
	"COALESCE(SUM(correlation = 'true_suspicious'),0), "                                       \
	"COALESCE(SUM(instr(hint, 'denied packet matched prior') > 0),0) "                         \
	"FROM firewall_logs WHERE " where

static json_t *firewall(struct api_req *r, int64_t since, int64_t until)
{
	json_int_t v[4] = {0};
	char err[512];
	struct db *d = r->fw;
	if (db_lock(d, err, sizeof(err)) < 0) {
		api_error(r, "%s", err);
	} else {
		/* a wide window scans the table rather than index + rowid lookups */
		bool wide = db_window_is_wide(d, since, until);
		sqlite3_stmt *st = db_stmt(d,
					   wide ? FW_SQL("+ts >= :since AND +ts <= :until")
						: FW_SQL("ts >= :since AND ts <= :until"),
					   err, sizeof(err));
		if (!st) {
			api_error(r, "%s", err);
		} else {
			sqlite3_bind_int64(st, 1, db_to_file(d, since));
			sqlite3_bind_int64(st, 2, db_to_file(d, until));
			if (sqlite3_step(st) == SQLITE_ROW) {
				for (int i = 0; i < 4; i++)
					v[i] = sqlite3_column_int64(st, i);
				sqlite3_reset(st);
			} else {
				api_error(r, "firewall-logs.db: %s", sqlite3_errmsg(db_handle(d)));
				db_fail(d);
			}
		}
		db_unlock(d);
	}
	return json_pack("{s:I,s:I,s:I,s:I}", "denies", v[0], "orphanReturns", v[1],
			 "trueSuspicious", v[2], "cacheHits", v[3]);
}

int summary_health(struct api_req *r, json_t *o)
{
	struct probe_result res[PROBE__N];
	json_t *dpi = json_object();
	api_set(dpi, "classifier", health(r, PROBE_CLASSIFIER, "classifier", &res[0]));
	api_set(dpi, "agent", health(r, PROBE_AGENT, "agent", &res[1]));
	api_set(dpi, "logger", health(r, PROBE_LOGGER, "logger", &res[2]));
	api_set(o, "dpi", dpi);
	json_t *ls = json_object_get(res[2].status, "stats");
	api_set(o, "nflog",
		json_pack("{s:I,s:I,s:I,s:I,s:I}", "packets", num(ls, "nflog_packets"), "lost",
			  num(ls, "nflog_lost"), "seqGaps", num(ls, "nflog_seq_gaps"), "enobufs",
			  num(ls, "nflog_enobufs"), "truncated", num(ls, "nflog_truncated")));
	for (int i = 0; i < PROBE__N; i++)
		json_decref(res[i].status);
	return dpi ? 0 : -ENOMEM;
}

int summary_get(struct api_req *r, json_t **ret)
{
	struct flows_filter f = {.source = -1, .asym = -1};
	int64_t dur;
	int rv = api_duration(r, "since", API_DAY_NS, 366 * API_DAY_NS, &dur);
	if (rv < 0)
		return rv;
	f.until = r->now_ns;
	f.since = r->now_ns - dur;

	struct sum_ctx c = {0};
	json_t *o = NULL;
	if (agg_new(sizeof(struct tot), MAX_KEYS, &c.apps) < 0 ||
	    agg_new(sizeof(struct dom), MAX_KEYS, &c.domains) < 0 ||
	    agg_new(sizeof(struct tot), MAX_KEYS, &c.providers) < 0 ||
	    agg_new(sizeof(struct tot), MAX_KEYS, &c.talkers) < 0 || !(o = json_object())) {
		rv = -ENOMEM;
		goto out;
	}
	api_set(o, "generatedAt", api_ts(r->now_ns));
	api_set(o, "since", api_ts(f.since));
	api_set(o, "until", api_ts(f.until));

	flows_scan(r, &f, 0, sum_row, &c);
	api_set(o, "flows", json_integer(c.flows));
	api_set(o, "bytes", json_integer(c.bytes));
	api_set(o, "sourceRatios",
		json_pack("{s:o,s:o,s:o,s:o}", "byFlows", ratios(c.src_flows, c.flows, true),
			  "byBytes", ratios(c.src_bytes, c.bytes, true), "flows",
			  ratios(c.src_flows, c.flows, false), "bytes",
			  ratios(c.src_bytes, c.bytes, false)));
	api_set(o, "topApps", top_list(c.apps, "app", false));
	api_set(o, "topDomains", top_list(c.domains, "domain", false));
	api_set(o, "topProviders", top_list(c.providers, "provider", false));
	api_set(o, "topTalkers", top_list(c.talkers, "client", true));
	api_set(o, "firewall", firewall(r, f.since, f.until));
	*ret = o;
	o = NULL;
	rv = 0;
out:
	json_decref(o);
	agg_free(c.apps);
	agg_free(c.domains);
	agg_free(c.providers);
	agg_free(c.talkers);
	return rv;
}

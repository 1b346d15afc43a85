/* Console core: routes every request of the HTTP shim's raw handler (assets, /healthz,
 * /metrics, /api/v1/...), enforces read-only methods, measures each endpoint. */
#include "console.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "assets.h"
#include "cache.h"
#include "common/counters.h"
#include "common/httpshim.h"
#include "db.h"
#include "params.h"
#include "probe.h"

#define CT_JSON	   "application/json"
#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"

enum endpoint {
	EP_SUMMARY,
	EP_CLIENTS,
	EP_FLOWS,
	EP_FLOWS_AGG,
	EP_FWLOGS,
	EP__N,
};

struct route {
	const char *path;
	const char *label;
	api_fn fn;
	bool cached; /* answers go through the result cache */
};

/* firewall-logs is not cached: a cheap index range, and operators watch the newest denies */
static const struct route routes[EP__N] = {
    [EP_SUMMARY] = {"/api/v1/summary", "summary", summary_get, true},
    [EP_CLIENTS] = {"/api/v1/clients", "clients", clients_get, true},
    [EP_FLOWS] = {"/api/v1/traffic-flows", "traffic_flows", flows_list, true},
    [EP_FLOWS_AGG] = {"/api/v1/traffic-flows/aggregate", "traffic_flows_aggregate", flows_aggregate,
		      true},
    [EP_FWLOGS] = {"/api/v1/firewall-logs", "firewall_logs", fwlogs_list, false},
};

/* Every query parameter an endpoint reads, sorted, with the normalisation of its value in the
 * cache key (equal parsed values share an entry). A parameter read but missing here makes
 * the answer uncacheable (param()). */
enum key_type { KEY_TEXT, KEY_DURATION, KEY_TIME, KEY_COUNT, KEY_BOOL };

static const struct {
	const char *name;
	enum key_type type;
} key_params[] = {
    {"action", KEY_TEXT},   {"app", KEY_TEXT},	{"asymmetric", KEY_BOOL},
    {"client", KEY_TEXT},   {"from", KEY_TIME}, {"limit", KEY_COUNT},
    {"offset", KEY_COUNT},  {"peer", KEY_TEXT}, {"peer-suffix", KEY_TEXT},
    {"protocol", KEY_TEXT}, {"q", KEY_TEXT},	{"since", KEY_DURATION},
    {"source", KEY_TEXT},   {"src", KEY_TEXT},	{"until", KEY_TIME},
    {"window", KEY_TEXT}, /* echoed as given by /api/v1/clients */
};
#define N_KEY_PARAMS (sizeof(key_params) / sizeof(key_params[0]))

struct console {
	struct db *flows, *fw;
	struct probe *probe;
	struct cache *cache;
	struct rdpi_counters *reg;
	int64_t max_limit;
	struct rdpi_counter requests, errors, bad_requests, db_open_errors;
	struct rdpi_counter lat_sum_us[EP__N], lat_count[EP__N], ep_errors[EP__N];
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* ---- helpers for the endpoint files -------------------------------------------------- */

static int bad(struct api_req *r, const char *name, const char *msg)
{
	snprintf(r->bad, sizeof(r->bad), "bad parameter %s: %s", name, msg ? msg : "invalid");
	return -EINVAL;
}

static const char *param(struct api_req *r, const char *name)
{
	size_t i = 0;
	while (i < N_KEY_PARAMS && strcmp(key_params[i].name, name) != 0)
		i++;
	if (i == N_KEY_PARAMS)
		r->uncacheable = true;
	const char *v = rdpi_http_request_query(r->http, name);
	return v && *v ? v : NULL;
}

int api_duration(struct api_req *r, const char *name, int64_t def_ns, int64_t max_ns,
		 int64_t *ret_ns)
{
	const char *v = param(r, name), *msg = NULL;
	if (!v) {
		*ret_ns = def_ns;
		return 0;
	}
	return params_duration(v, max_ns, ret_ns, &msg) < 0 ? bad(r, name, msg) : 0;
}

int api_time(struct api_req *r, const char *name, bool *ret_present, int64_t *ret_ns)
{
	const char *v = param(r, name), *msg = NULL;
	*ret_present = v != NULL;
	if (!v)
		return 0;
	return params_time(v, ret_ns, &msg) < 0 ? bad(r, name, msg) : 0;
}

int api_count(struct api_req *r, const char *name, int64_t def, int64_t min, int64_t max,
	      int64_t *ret)
{
	const char *v = param(r, name), *msg = NULL;
	if (!v) {
		*ret = def;
		return 0;
	}
	return params_count(v, min, max, ret, &msg) < 0 ? bad(r, name, msg) : 0;
}

int api_bool(struct api_req *r, const char *name, bool *ret_present, bool *ret)
{
	const char *v = param(r, name), *msg = NULL;
	*ret_present = v != NULL;
	if (!v)
		return 0;
	return params_bool(v, ret, &msg) < 0 ? bad(r, name, msg) : 0;
}

int api_text(struct api_req *r, const char *name, const char **ret)
{
	const char *v = param(r, name), *msg = NULL;
	*ret = NULL;
	if (!v)
		return 0;
	if (params_text(v, &msg) < 0)
		return bad(r, name, msg);
	*ret = v;
	return 0;
}

int api_window(struct api_req *r, int64_t def_ns, int64_t *ret_since, int64_t *ret_until)
{
	bool has_from, has_until;
	int64_t from = 0, until = 0, dur = 0;
	int rv;
	if ((rv = api_duration(r, "since", def_ns, 366 * API_DAY_NS, &dur)) < 0 ||
	    (rv = api_time(r, "from", &has_from, &from)) < 0 ||
	    (rv = api_time(r, "until", &has_until, &until)) < 0)
		return rv;
	if (!has_until)
		until = r->now_ns;
	if (!has_from)
		from = until - dur;
	if (from > until)
		return bad(r, "from", "after until");
	*ret_since = from;
	*ret_until = until;
	return 0;
}

void api_error(struct api_req *r, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* the same message once */
	size_t i;
	json_t *v;
	json_array_foreach(r->errors, i, v) if (strcmp(json_string_value(v), buf) == 0) return;
	json_array_append_new(r->errors, json_string(buf));
}

json_t *api_ts(int64_t ns)
{
	if (ns <= 0)
		return json_null();
	time_t s = (time_t)(ns / 1000000000LL);
	struct tm tm;
	if (!gmtime_r(&s, &tm))
		return json_null();
	char buf[64];
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)((ns % 1000000000LL) / 1000000));
	return json_string(buf);
}

json_t *api_str(const char *s)
{
	if (!s)
		return json_null();
	json_t *v = json_string(s);
	/* not UTF-8 (bytes from the wire): keep what is printable ASCII */
	if (!v) {
		size_t n = strlen(s);
		char *c = malloc(n + 1);
		if (!c)
			return json_null();
		for (size_t i = 0; i <= n; i++)
			c[i] = s[i] && ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
				   ? '?'
				   : s[i];
		v = json_string(c);
		free(c);
	}
	return v ? v : json_null();
}

void api_set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v ? v : json_null());
}

/* ---- responses ------------------------------------------------------------------------- */

static int reply_json(json_t *o, int status, int *ret_status, const char **ret_ct, char **ret_body,
		      size_t *ret_len)
{
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	*ret_status = status;
	*ret_ct = CT_JSON;
	*ret_body = text;
	*ret_len = strlen(text);
	return 0;
}

static int reply_error(int status, const char *msg, int *ret_status, const char **ret_ct,
		       char **ret_body, size_t *ret_len)
{
	json_t *o = json_pack("{s:s}", "error", msg);
	if (!o)
		return -ENOMEM;
	return reply_json(o, status, ret_status, ret_ct, ret_body, ret_len);
}

/* ---- result cache ---------------------------------------------------------------------- */

/* cache_version_fn: data_version of both files, read under their locks. */
static int db_versions(void *arg, uint64_t ret[CACHE_NVERSIONS])
{
	struct console *c = arg;
	struct db *dbs[CACHE_NVERSIONS] = {c->flows, c->fw};
	char err[512];
	for (int i = 0; i < CACHE_NVERSIONS; i++) {
		if (db_lock(dbs[i], err, sizeof(err)) < 0)
			return -EIO;
		int rv = db_version(dbs[i], &ret[i]);
		db_unlock(dbs[i]);
		if (rv < 0)
			return rv;
	}
	return 0;
}

/* "<path>?name=<len>:<value>&..." over key_params, values normalised by type; -EINVAL when a
 * value does not parse (the endpoint answers 400, never cached). */
static int cache_key(struct api_req *r, enum endpoint ep, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	int rv = 0;
	fprintf(f, "%s?", routes[ep].path);
	for (size_t i = 0; rv == 0 && i < N_KEY_PARAMS; i++) {
		const char *v = rdpi_http_request_query(r->http, key_params[i].name), *msg;
		if (!v || !*v)
			continue; /* absent and empty mean the default */
		int64_t n = 0;
		bool b = false;
		switch (key_params[i].type) {
		case KEY_DURATION:
			rv = params_duration(v, INT64_MAX, &n, &msg);
			break;
		case KEY_TIME:
			rv = params_time(v, &n, &msg);
			break;
		case KEY_COUNT:
			rv = params_count(v, 0, INT64_MAX, &n, &msg);
			break;
		case KEY_BOOL:
			rv = params_bool(v, &b, &msg);
			n = b;
			break;
		case KEY_TEXT:
			break;
		}
		if (rv < 0)
			break;
		if (key_params[i].type == KEY_TEXT)
			fprintf(f, "%s=%zu:%s&", key_params[i].name, strlen(v), v);
		else
			fprintf(f, "%s=%lld&", key_params[i].name, (long long)n);
	}
	if (fclose(f) != 0 && rv == 0)
		rv = -ENOMEM;
	if (rv < 0) {
		free(buf);
		return -EINVAL;
	}
	*ret = buf;
	return 0;
}

/* data: a serialized object (no "errors"); the answer is data + tail's members. */
static int splice(const char *data, size_t len, json_t *tail, char **ret_body, size_t *ret_len)
{
	char *t = json_dumps(tail, JSON_COMPACT);
	if (!t)
		return -ENOMEM;
	size_t tl = strlen(t);
	/* both end in '}'; data "{}" has no member to separate */
	bool empty = len <= 2;
	char *out = malloc(len + tl + 1);
	if (!out || len < 2 || tl < 2) {
		free(out);
		free(t);
		return -ENOMEM;
	}
	size_t o = len - 1;
	memcpy(out, data, o);
	if (!empty)
		out[o++] = ',';
	memcpy(out + o, t + 1, tl - 1);
	o += tl - 1;
	out[o] = '\0';
	free(t);
	*ret_body = out;
	*ret_len = o;
	return 0;
}

/* Cached endpoints: the body from the cache or computed (single flight), then the live part
 * (summary health) and "errors" spliced in. */
static int serve_cached(struct console *c, enum endpoint ep, struct api_req *r, int *ret_status,
			const char **ret_ct, char **ret_body, size_t *ret_len, bool *ret_hit)
{
	char *key = NULL, *data = NULL;
	size_t len = 0;
	struct cache_entry *ticket = NULL;
	json_t *body = NULL, *tail = NULL;
	int rv = 0, hit = 0;
	*ret_hit = false;
	/* disabled or a bad parameter (400 follows): key NULL, counted as a miss */
	if (cache_enabled(c->cache) && cache_key(r, ep, &key) < 0)
		key = NULL;
	hit = cache_begin(c->cache, key, &data, &len, &ticket);
	if (hit < 0)
		hit = 0;
	if (!hit) {
		rv = routes[ep].fn(r, &body);
		if (rv < 0 || !body) {
			cache_end(c->cache, ticket, NULL, 0, false);
			json_decref(body);
			goto out;
		}
		data = json_dumps(body, JSON_COMPACT);
		len = data ? strlen(data) : 0;
		/* an answer with an errors[] entry (missing file, failed query) is not kept */
		cache_end(c->cache, ticket, data, len,
			  data && json_array_size(r->errors) == 0 && !r->uncacheable);
		json_decref(body);
		if (!data) {
			rv = -ENOMEM;
			goto out;
		}
	}
	*ret_hit = hit > 0;
	tail = json_object();
	if (!tail || (ep == EP_SUMMARY && summary_health(r, tail) < 0)) {
		rv = -ENOMEM;
		goto out;
	}
	json_object_set(tail, "errors", r->errors);
	if ((rv = splice(data, len, tail, ret_body, ret_len)) < 0)
		goto out;
	*ret_status = 200;
	*ret_ct = CT_JSON;
out:
	json_decref(tail);
	free(data);
	free(key);
	return rv;
}

static int serve_api(struct console *c, enum endpoint ep, const struct rdpi_http_request *req,
		     int *ret_status, const char **ret_ct, char **ret_body, size_t *ret_len)
{
	int64_t t0 = mono_us();
	struct api_req r = {
	    .http = req,
	    .flows = c->flows,
	    .fw = c->fw,
	    .probe = c->probe,
	    .now_ns = now_ns(),
	    .max_limit = c->max_limit,
	    .errors = json_array(),
	};
	if (!r.errors)
		return -ENOMEM;
	json_t *body = NULL;
	int rv, out;
	bool hit = false;
	if (routes[ep].cached) {
		rv = serve_cached(c, ep, &r, ret_status, ret_ct, ret_body, ret_len, &hit);
		rdpi_http_request_reply_header(req, "X-Routerd-Cache", hit ? "hit" : "miss");
	} else {
		rv = routes[ep].fn(&r, &body);
	}
	if (routes[ep].cached && rv == 0) {
		if (json_array_size(r.errors))
			rdpi_counter_inc(&c->ep_errors[ep]);
		out = 0;
	} else if (rv == -EINVAL) {
		rdpi_counter_inc(&c->bad_requests);
		out = reply_error(400, r.bad, ret_status, ret_ct, ret_body, ret_len);
	} else if (rv < 0 || !body) {
		rdpi_counter_inc(&c->errors);
		rdpi_counter_inc(&c->ep_errors[ep]);
		json_decref(body);
		out = reply_error(500, "internal error", ret_status, ret_ct, ret_body, ret_len);
	} else {
		if (json_array_size(r.errors))
			rdpi_counter_inc(&c->ep_errors[ep]);
		json_object_set(body, "errors", r.errors);
		out = reply_json(body, 200, ret_status, ret_ct, ret_body, ret_len);
	}
	json_decref(r.errors);
	rdpi_counter_add(&c->lat_sum_us[ep], (uint64_t)(mono_us() - t0));
	rdpi_counter_inc(&c->lat_count[ep]);
	return out;
}

int console_http(void *arg, const struct rdpi_http_request *req, int *ret_status,
		 const char **ret_content_type, char **ret_body, size_t *ret_len)
{
	struct console *c = arg;
	const char *method = rdpi_http_request_method(req);
	const char *path = rdpi_http_request_path(req);
	rdpi_counter_inc(&c->requests);

	if (!method || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)) {
		rdpi_counter_inc(&c->bad_requests);
		return reply_error(405, "read-only console", ret_status, ret_content_type, ret_body,
				   ret_len);
	}
	for (int ep = 0; ep < EP__N; ep++)
		if (strcmp(path, routes[ep].path) == 0)
			return serve_api(c, (enum endpoint)ep, req, ret_status, ret_content_type,
					 ret_body, ret_len);
	if (strcmp(path, "/healthz") == 0) {
		json_t *o = json_pack("{s:b,s:s}", "ok", 1, "name", "routerd-dpi-console");
		if (!o)
			return -ENOMEM;
		return reply_json(o, 200, ret_status, ret_content_type, ret_body, ret_len);
	}
	if (strcmp(path, "/metrics") == 0) {
		char *text = NULL;
		size_t len = 0;
		int rv = rdpi_counters_prometheus(c->reg, &text, &len);
		if (rv < 0)
			return rv;
		*ret_status = 200;
		*ret_content_type = CT_METRICS;
		*ret_body = text;
		*ret_len = len;
		return 0;
	}
	const struct console_asset *a = console_asset_find(path);
	if (a) {
		char *copy = malloc(a->len ? a->len : 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, a->data, a->len);
		*ret_status = 200;
		*ret_content_type = a->content_type;
		*ret_body = copy;
		*ret_len = a->len;
		return 0;
	}
	rdpi_counter_inc(&c->bad_requests);
	return reply_error(404, "not found", ret_status, ret_content_type, ret_body, ret_len);
}

/* ---- lifetime ---------------------------------------------------------------------------- */

static int register_counters(struct console *c, struct rdpi_counters *reg)
{
	int rv;
	if ((rv = rdpi_counters_register(reg, "requests_total", NULL, RDPI_COUNTER, "HTTP requests",
					 &c->requests)) < 0 ||
	    (rv = rdpi_counters_register(reg, "errors_total", NULL, RDPI_COUNTER,
					 "requests answered 5xx", &c->errors)) < 0 ||
	    (rv = rdpi_counters_register(reg, "bad_requests_total", NULL, RDPI_COUNTER,
					 "requests answered 4xx", &c->bad_requests)) < 0 ||
	    (rv = rdpi_counters_register(reg, "db_open_errors_total", NULL, RDPI_COUNTER,
					 "failed read-only database opens", &c->db_open_errors)) <
		0)
		return rv;
	for (int ep = 0; ep < EP__N; ep++) {
		char label[64];
		snprintf(label, sizeof(label), "endpoint=\"%s\"", routes[ep].label);
		if ((rv = rdpi_counters_register(reg, "request_duration_us_sum", label,
						 RDPI_COUNTER, "endpoint latency sum (us)",
						 &c->lat_sum_us[ep])) < 0 ||
		    (rv = rdpi_counters_register(reg, "request_duration_requests", label,
						 RDPI_COUNTER, "endpoint requests timed",
						 &c->lat_count[ep])) < 0 ||
		    (rv = rdpi_counters_register(reg, "endpoint_errors_total", label, RDPI_COUNTER,
						 "answers with an errors[] entry or a 5xx",
						 &c->ep_errors[ep])) < 0)
			return rv;
	}
	return 0;
}

int console_new(const struct console_opts *opts, struct rdpi_counters *reg, struct console **ret)
{
	struct console *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->reg = reg;
	c->max_limit = opts->max_limit > 0 ? opts->max_limit : 1000;
	int rv;
	if ((rv = register_counters(c, reg)) < 0 ||
	    (rv = db_new(DB_FLOWS, "traffic-flows.db", opts->traffic_db, &c->db_open_errors,
			 &c->flows)) < 0 ||
	    (rv = db_new(DB_FIREWALL, "firewall-logs.db", opts->firewall_db, &c->db_open_errors,
			 &c->fw)) < 0)
		goto out;
	struct probe_opts po = {
	    .sockets = {opts->classifier_socket, opts->agent_socket, opts->logger_socket},
	    .interval_ns = opts->health_interval_ns,
	    .timeout_ns = opts->probe_timeout_ns,
	    .reg = reg,
	};
	if ((rv = probe_new(&po, &c->probe)) < 0)
		goto out;
	struct cache_opts cop = {
	    .ttl_ns = opts->cache_ttl_ns,
	    .max_age_ns = opts->cache_max_age_ns,
	    .version_fn = db_versions,
	    .version_arg = c,
	    .reg = reg,
	};
	if ((rv = cache_new(&cop, &c->cache)) < 0)
		goto out;
	*ret = c;
	return 0;
out:
	console_free(c);
	return rv;
}

void console_free(struct console *c)
{
	if (!c)
		return;
	cache_free(c->cache);
	probe_free(c->probe);
	db_free(c->flows);
	db_free(c->fw);
	free(c);
}

void console_set_timing(struct console *c, int64_t health_interval_ns, int64_t probe_timeout_ns)
{
	probe_set_timing(c->probe, health_interval_ns, probe_timeout_ns);
}

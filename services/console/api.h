/* Internals shared by the console's endpoint files (summary.c, clients.c, flows.c,
 * fwlogs.c): request context, parameter helpers that produce the 400 message, JSON helpers. */
#ifndef RDPI_SERVICES_CONSOLE_API_H
#define RDPI_SERVICES_CONSOLE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "probe.h"

struct db;
struct rdpi_http_request;

#define API_HOUR_NS (3600LL * 1000000000LL)
#define API_DAY_NS  (24 * API_HOUR_NS)

struct api_req {
	const struct rdpi_http_request *http;
	struct db *flows, *fw;
	struct probe *probe;
	int64_t now_ns;
	int64_t max_limit;
	json_t *errors;	  /* the answer's "errors" array */
	bool uncacheable; /* read a parameter the cache key does not cover */
	char bad[256];	  /* 400 message when a handler returns -EINVAL */
};

/* Endpoint: 0 with *ret (an object; "errors" is added by the caller) or -EINVAL with bad set
 * (400), other negative errno: 500. */
typedef int (*api_fn)(struct api_req *r, json_t **ret);

/* The window-dependent part of the summary (cacheable) ... */
int summary_get(struct api_req *r, json_t **ret);
/* ... and the live part: "dpi" and "nflog" set in o from the probe cache, errors of
 * unreachable services added to r->errors. */
int summary_health(struct api_req *r, json_t *o);
int clients_get(struct api_req *r, json_t **ret);
int flows_list(struct api_req *r, json_t **ret);
int flows_aggregate(struct api_req *r, json_t **ret);
int fwlogs_list(struct api_req *r, json_t **ret);

/* Parameters: absent (or empty) -> default / *present false. Invalid -> -EINVAL with
 * r->bad = "bad parameter <name>: <reason>". */
int api_duration(struct api_req *r, const char *name, int64_t def_ns, int64_t max_ns,
		 int64_t *ret_ns);
int api_time(struct api_req *r, const char *name, bool *ret_present, int64_t *ret_ns);
int api_count(struct api_req *r, const char *name, int64_t def, int64_t min, int64_t max,
	      int64_t *ret);
int api_bool(struct api_req *r, const char *name, bool *ret_present, bool *ret);
/* Text filter, NULL when absent/empty. */
int api_text(struct api_req *r, const char *name, const char **ret);
/* since=<duration> (default def_ns) or from=/until= -> [since, until] in unix ns. */
int api_window(struct api_req *r, int64_t def_ns, int64_t *ret_since, int64_t *ret_until);

/* Add an entry to r->errors (printf). */
void api_error(struct api_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON values: RFC3339 UTC with ms or null (ns <= 0); string or null (NULL); */
json_t *api_ts(int64_t ns);
json_t *api_str(const char *s);
/* set helpers that ignore allocation failures of single keys (the document stays valid) */
void api_set(json_t *o, const char *key, json_t *v);

#endif

/* ---- one-pass scans over traffic-flows.db (flows.c) ---------------------------------------- */

struct flows_filter {
	int64_t since, until; /* unix ns, inclusive */
	const char *client, *peer, *suffix, *protocol, *app, *q;
	int source; /* enum labels_source, -1: any */
	int asym;   /* -1 any, 0 symmetric only, 1 asymmetric only */
};

/* The filter parameters of /api/v1/traffic-flows (window default def_ns). */
int flows_filter_parse(struct api_req *r, int64_t def_ns, struct flows_filter *f);

/* Borrowed for the callback only; NULL for SQL NULL; ports -1 when NULL. */
struct flows_row {
	const char *client, *peer, *protocol, *app, *source;
	const char *hostname; /* first of resolved_hostname, tls_sni, http_host, dns_query */
	const char *tls_sni, *http_host;
	int peer_port;
	int64_t bytes_in, bytes_out;
	int64_t ts_ns;
};
typedef void (*flows_row_fn)(void *arg, const struct flows_row *row);

/* Columns a scan needs besides client, app, source, bytes and hostname (fewer columns, less
 * record decoding): */
enum {
	FLOWS_NEED_PEER = 1u << 0, /* peer, peer_port, protocol, tls_sni, http_host */
	FLOWS_NEED_TS = 1u << 1,   /* ts_ns */
};

/* Stream every matching row through fn (one statement). 0, or -EIO with an r->errors entry
 * (missing database: no rows). */
int flows_scan(struct api_req *r, const struct flows_filter *f, unsigned need, flows_row_fn fn,
	       void *arg);

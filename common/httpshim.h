/* HTTP/1.1 + JSON shim (libmicrohttpd) on a Unix socket, optionally TCP:
 * maps GET|POST /v1/<path> to RPC methods of a service, serves /metrics from a
 * counter registry, and hands other paths to an optional raw handler. */
#ifndef RDPI_COMMON_HTTPSHIM_H
#define RDPI_COMMON_HTTPSHIM_H

#include <stddef.h>
#include <stdint.h>

struct rdpi_service;
struct rdpi_counters;
struct rdpi_httpshim;
struct rdpi_http_request;

enum {
	/* the reply's bool field "ok" false -> HTTP 503 (healthz of a degraded daemon) */
	RDPI_HTTPSHIM_NOT_OK_503 = 1u << 0,
};

struct rdpi_httpshim_route {
	const char *http_method;  /* "GET" or "POST" */
	const char *path;         /* exact path, e.g. "/v1/status" */
	const char *rpc_method;   /* method name in the service, e.g. "Status" */
	unsigned flags;
};

/* Raw handler for paths no route matches (the console API). Set *ret_status,
 * *ret_content_type (static string) and *ret_body (malloc'd, shim frees).
 * Return 0 when handled, -ENOENT to fall through to 404. */
typedef int (*rdpi_httpshim_raw_fn)(void *arg, const struct rdpi_http_request *req,
				    int *ret_status, const char **ret_content_type,
				    char **ret_body, size_t *ret_len);

/* Accessors for raw handlers. */
const char *rdpi_http_request_method(const struct rdpi_http_request *req);
const char *rdpi_http_request_path(const struct rdpi_http_request *req);
/* Query argument by name, NULL when absent. */
const char *rdpi_http_request_query(const struct rdpi_http_request *req, const char *name);
/* Request header by name (case-insensitive), NULL when absent. */
const char *rdpi_http_request_header(const struct rdpi_http_request *req, const char *name);
/* Add one header to the raw handler's response (name and value static strings; a later call
 * replaces it). */
void rdpi_http_request_reply_header(const struct rdpi_http_request *req, const char *name,
				   const char *value);
/* Request body (NUL-terminated, "" when none, at most max_body bytes); valid
 * during the raw handler call. *ret_len may be NULL. */
const char *rdpi_http_request_body(const struct rdpi_http_request *req, size_t *ret_len);

struct rdpi_httpshim_opts {
	const char *unix_path;          /* Unix socket path (mode 0660), NULL for none */
	const char *tcp_listen;         /* "127.0.0.1:9780" / "[::1]:9780", NULL for none */
	struct rdpi_service *svc;       /* service for routes, NULL when only raw/metrics */
	const struct rdpi_httpshim_route *routes;
	size_t nroutes;
	struct rdpi_counters *metrics;  /* GET /metrics when non-NULL */
	rdpi_httpshim_raw_fn raw_fn;
	void *raw_arg;
	unsigned max_connections;       /* default 64 */
	unsigned connection_timeout_s;  /* idle timeout, default 10 */
	size_t max_body;                /* default 1 MiB; larger -> 413 */
	uint32_t call_timeout_ms;       /* RPC deadline, 0 = service default */
	const char *raw_allow;          /* Allow header on a 405 from raw_fn ("GET, HEAD"), static */
};

/* Bind and serve on libmicrohttpd's own threads. A stale socket at unix_path
 * is removed; a non-socket file there is refused with -EEXIST and left intact. */
int rdpi_httpshim_start(const struct rdpi_httpshim_opts *opts, struct rdpi_httpshim **ret);
/* Stop serving and unlink the socket; NULL ok. */
void rdpi_httpshim_stop(struct rdpi_httpshim *shim);

/* Bound TCP port (useful with tcp_listen "127.0.0.1:0"); -ENOENT without TCP. */
int rdpi_httpshim_tcp_port(const struct rdpi_httpshim *shim, uint16_t *ret_port);

struct rdpi_httpshim_stats {
	uint64_t requests, errors_4xx, errors_5xx;
};
void rdpi_httpshim_stats(const struct rdpi_httpshim *shim, struct rdpi_httpshim_stats *ret);

#endif

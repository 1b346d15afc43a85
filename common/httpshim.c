/* HTTP/1.1 + JSON shim over libmicrohttpd: the /v1/ compatibility API on a
 * Unix socket (and optional TCP), turning requests into rdpi_call RPCs of a
 * service, plus /metrics and a raw handler for the console API. */
#include "common/httpshim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/counters.h"
#include "common/pbjson.h"
#include "common/service.h"

#define DEFAULT_MAX_CONNECTIONS 64
#define DEFAULT_TIMEOUT_S	10
#define DEFAULT_MAX_BODY	(1024 * 1024)
#define CONN_MEMORY_LIMIT	(64 * 1024)
#define LISTEN_BACKLOG		64
#define ALLOW_MAX		64

#define CT_JSON	   "application/json"
#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"

struct rdpi_httpshim {
	struct rdpi_httpshim_opts opts;
	struct MHD_Daemon *unix_d;
	struct MHD_Daemon *tcp_d;
	char *unix_path;
	dev_t unix_dev;
	ino_t unix_ino;
	uint16_t tcp_port;
	_Atomic uint64_t requests, errors_4xx, errors_5xx;
};

/* One extra response header a raw handler may set (static strings). */
struct reply_header {
	const char *name, *value;
};

struct rdpi_http_request {
	struct MHD_Connection *conn;
	const char *method;
	const char *path;
	const char *body;
	size_t body_len;
	struct reply_header *reply_header;
};

enum target {
	TARGET_ROUTE,
	TARGET_METRICS,
	TARGET_RAW,
};

/* Per-request state (MHD's con_cls), freed by the completion callback. */
struct req_state {
	enum target target;
	const struct rdpi_httpshim_route *route;
	bool too_large;
	size_t discarded;
	char *body;
	size_t len, cap;
};

/* A connection thread blocks here until the call's done callback fires. */
struct call_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

/* ---- request accessors ------------------------------------------------------ */

const char *rdpi_http_request_method(const struct rdpi_http_request *req)
{
	return req->method;
}

const char *rdpi_http_request_path(const struct rdpi_http_request *req)
{
	return req->path;
}

const char *rdpi_http_request_query(const struct rdpi_http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *rdpi_http_request_header(const struct rdpi_http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void rdpi_http_request_reply_header(const struct rdpi_http_request *req, const char *name,
				    const char *value)
{
	if (req->reply_header) {
		req->reply_header->name = name;
		req->reply_header->value = value;
	}
}

const char *rdpi_http_request_body(const struct rdpi_http_request *req, size_t *ret_len)
{
	if (ret_len)
		*ret_len = req->body_len;
	return req->body;
}

/* ---- responses ---------------------------------------------------------------- */

/* Queue a response; body is malloc'd (taken, even on failure) or NULL; extra (may be NULL)
 * adds one header. */
static enum MHD_Result respond_hdr(struct rdpi_httpshim *shim, struct MHD_Connection *conn,
				   unsigned status, const char *ctype, char *body, size_t len,
				   const char *allow, const struct reply_header *extra)
{
	if (status >= 500)
		atomic_fetch_add(&shim->errors_5xx, 1);
	else if (status >= 400)
		atomic_fetch_add(&shim->errors_4xx, 1);

	struct MHD_Response *r =
	    MHD_create_response_from_buffer(body ? len : 0, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	if (ctype)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if (extra && extra->name && extra->value)
		MHD_add_response_header(r, extra->name, extra->value);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result respond(struct rdpi_httpshim *shim, struct MHD_Connection *conn,
			       unsigned status, const char *ctype, char *body, size_t len,
			       const char *allow)
{
	return respond_hdr(shim, conn, status, ctype, body, len, allow, NULL);
}

/* {"error": msg[, "status": name]} */
static enum MHD_Result respond_error(struct rdpi_httpshim *shim, struct MHD_Connection *conn,
				     unsigned status, const char *msg, const char *status_name,
				     const char *allow)
{
	json_t *o = json_object();
	char *text = NULL;
	if (o && json_object_set_new(o, "error", json_string(msg ? msg : "")) == 0 &&
	    (!status_name || json_object_set_new(o, "status", json_string(status_name)) == 0))
		text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text)
		return respond(shim, conn, 500, NULL, NULL, 0, NULL);
	return respond(shim, conn, status, CT_JSON, text, strlen(text), allow);
}

/* ---- RPC routes ---------------------------------------------------------------- */

static void call_done(void *arg, struct rdpi_call *call)
{
	struct call_wait *w = arg;
	(void)call;
	pthread_mutex_lock(&w->lock);
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* The reply's bool field "ok", when it has one and it is false. */
static bool reply_not_ok(const ProtobufCMessage *msg)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, "ok");
	if (!f || f->type != PROTOBUF_C_TYPE_BOOL || f->label == PROTOBUF_C_LABEL_REPEATED)
		return false;
	const char *base = (const char *)msg;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
	    !*(const protobuf_c_boolean *)(base + f->quantifier_offset))
		return true; /* absent proto2 optional: false */
	return !*(const protobuf_c_boolean *)(base + f->offset);
}

static enum MHD_Result serve_route(struct rdpi_httpshim *shim, struct MHD_Connection *conn,
				   const struct rdpi_httpshim_route *route, bool use_body,
				   const char *body, size_t len)
{
	struct rdpi_call *call = NULL;
	int rv = rdpi_call_new(shim->opts.svc, route->rpc_method, &call);
	if (rv == -ENOENT)
		return respond_error(shim, conn, 404, "no such method",
				     rdpi_status_name(RDPI_STATUS_NOT_FOUND), NULL);
	if (rv < 0)
		return respond_error(shim, conn, 500, "out of memory",
				     rdpi_status_name(RDPI_STATUS_INTERNAL), NULL);

	enum MHD_Result ret;
	rv = rdpi_call_decode_json(call, use_body ? body : NULL, use_body ? len : 0);
	if (rv < 0) {
		if (rv == -EINVAL)
			ret = respond_error(shim, conn, 400, rdpi_call_error(call), NULL, NULL);
		else
			ret = respond_error(shim, conn, 500, "out of memory",
					    rdpi_status_name(RDPI_STATUS_INTERNAL), NULL);
		rdpi_call_free(call);
		return ret;
	}

	struct call_wait w = {.done = false};
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	rdpi_call_start(call, shim->opts.call_timeout_ms, call_done, &w);
	/* the service settles every call (handler, deadline or rejection) */
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);

	enum rdpi_status st = rdpi_call_status(call);
	const ProtobufCMessage *reply = rdpi_call_reply(call);
	if (st == RDPI_STATUS_OK && reply) {
		char *text = NULL;
		rv = rdpi_pbjson_dumps(reply, rdpi_service_json_opts(shim->opts.svc), &text);
		if (rv < 0) {
			ret = respond_error(shim, conn, 500, "cannot encode reply as JSON",
					    rdpi_status_name(RDPI_STATUS_INTERNAL), NULL);
		} else {
			unsigned code = 200;
			if ((route->flags & RDPI_HTTPSHIM_NOT_OK_503) && reply_not_ok(reply))
				code = 503;
			ret = respond(shim, conn, code, CT_JSON, text, strlen(text), NULL);
		}
	} else {
		if (st == RDPI_STATUS_OK)
			st = RDPI_STATUS_INTERNAL;
		const char *err = rdpi_call_error(call);
		ret = respond_error(shim, conn, (unsigned)rdpi_status_http_code(st),
				    err && *err ? err : rdpi_status_name(st), rdpi_status_name(st),
				    NULL);
	}
	rdpi_call_free(call);
	return ret;
}

/* ---- other targets -------------------------------------------------------------- */

static enum MHD_Result serve_metrics(struct rdpi_httpshim *shim, struct MHD_Connection *conn)
{
	char *text = NULL;
	size_t len = 0;
	if (rdpi_counters_prometheus(shim->opts.metrics, &text, &len) < 0)
		return respond_error(shim, conn, 500, "cannot render metrics", NULL, NULL);
	return respond(shim, conn, 200, CT_METRICS, text, len, NULL);
}

static enum MHD_Result serve_raw(struct rdpi_httpshim *shim, struct MHD_Connection *conn,
				 const char *method, const char *url, const struct req_state *rs)
{
	struct reply_header extra = {NULL, NULL};
	struct rdpi_http_request req = {
	    .conn = conn,
	    .method = method,
	    .path = url,
	    .body = rs->body ? rs->body : "",
	    .body_len = rs->len,
	    .reply_header = &extra,
	};
	int status = 0;
	const char *ctype = NULL;
	char *body = NULL;
	size_t len = 0;
	int rv = shim->opts.raw_fn(shim->opts.raw_arg, &req, &status, &ctype, &body, &len);
	if (rv == -ENOENT)
		return respond_error(shim, conn, 404, "not found", NULL, NULL);
	if (rv < 0)
		return respond_error(shim, conn, 500, "internal error", NULL, NULL);
	if (status < 100 || status > 599)
		status = 500;
	return respond_hdr(shim, conn, (unsigned)status, ctype, body, body ? len : 0,
			   status == 405 ? shim->opts.raw_allow : NULL, &extra);
}

/* ---- dispatch -------------------------------------------------------------------- */

static bool method_is(const char *method, const char *want)
{
	return method && want && strcmp(method, want) == 0;
}

/* GET routes also answer HEAD (MHD sends headers only). */
static bool route_accepts(const struct rdpi_httpshim_route *r, const char *method)
{
	return method_is(method, r->http_method) ||
	       (method_is(method, "HEAD") && method_is(r->http_method, "GET"));
}

static void allow_add(char *allow, const char *m)
{
	size_t n = strlen(allow), mlen = strlen(m);
	/* skip duplicates */
	for (const char *p = allow; (p = strstr(p, m)) != NULL; p += mlen) {
		if ((p == allow || p[-1] == ' ') && (p[mlen] == ',' || p[mlen] == '\0'))
			return;
	}
	if (n + mlen + 3 >= ALLOW_MAX)
		return;
	if (n)
		strcat(allow, ", ");
	strcat(allow, m);
}

/* Decide where a request goes on its first callback. Returns true when a
 * response was queued already (404, 405) through *ret. */
static bool dispatch(struct rdpi_httpshim *shim, struct MHD_Connection *conn, const char *url,
		     const char *method, struct req_state *rs, enum MHD_Result *ret)
{
	const struct rdpi_httpshim_opts *o = &shim->opts;
	char allow[ALLOW_MAX] = "";
	bool path_known = false;

	for (size_t i = 0; o->svc && i < o->nroutes; i++) {
		const struct rdpi_httpshim_route *r = &o->routes[i];
		if (!r->path || strcmp(r->path, url) != 0)
			continue;
		path_known = true;
		if (route_accepts(r, method)) {
			rs->target = TARGET_ROUTE;
			rs->route = r;
			return false;
		}
		if (r->http_method) {
			allow_add(allow, r->http_method);
			if (method_is(r->http_method, "GET"))
				allow_add(allow, "HEAD");
		}
	}
	if (!path_known && o->metrics && strcmp(url, "/metrics") == 0) {
		if (method_is(method, "GET") || method_is(method, "HEAD")) {
			rs->target = TARGET_METRICS;
			return false;
		}
		path_known = true;
		allow_add(allow, "GET");
		allow_add(allow, "HEAD");
	}
	if (path_known) {
		*ret = respond_error(shim, conn, 405, "method not allowed", NULL, allow);
		return true;
	}
	if (o->raw_fn) {
		rs->target = TARGET_RAW;
		return false;
	}
	*ret = respond_error(shim, conn, 404, "not found", NULL, NULL);
	return true;
}

/* Content-Length announced above the limit: answer before reading the body. */
static bool content_length_too_large(struct MHD_Connection *conn, size_t max_body)
{
	const char *cl =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!cl)
		return false;
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(cl, &end, 10);
	if (errno == ERANGE)
		return true;
	return end != cl && v > max_body;
}

/* false: out of memory, or a client streaming far past the limit (another
 * max_body discarded after the 413 decision): drop the connection. */
static bool body_append(struct req_state *rs, const char *data, size_t n, size_t max_body)
{
	if (rs->too_large) {
		rs->discarded += n;
		return rs->discarded <= max_body;
	}
	if (n > max_body - rs->len) {
		/* drop what came so far; the rest is read and discarded */
		rs->too_large = true;
		free(rs->body);
		rs->body = NULL;
		rs->len = rs->cap = 0;
		return true;
	}
	if (rs->len + n + 1 > rs->cap) {
		size_t ncap = rs->cap ? rs->cap : 1024;
		while (ncap < rs->len + n + 1)
			ncap *= 2;
		char *nb = realloc(rs->body, ncap);
		if (!nb)
			return false;
		rs->body = nb;
		rs->cap = ncap;
	}
	memcpy(rs->body + rs->len, data, n);
	rs->len += n;
	rs->body[rs->len] = '\0';
	return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct rdpi_httpshim *shim = cls;
	struct req_state *rs = *con_cls;
	(void)version;

	if (!rs) {
		atomic_fetch_add(&shim->requests, 1);
		rs = calloc(1, sizeof(*rs));
		if (!rs)
			return MHD_NO;
		*con_cls = rs;
		enum MHD_Result ret;
		if (dispatch(shim, conn, url, method, rs, &ret))
			return ret;
		if (content_length_too_large(conn, shim->opts.max_body))
			return respond_error(shim, conn, 413, "request body too large", NULL, NULL);
		return MHD_YES;
	}

	if (*upload_data_size) {
		if (!body_append(rs, upload_data, *upload_data_size, shim->opts.max_body))
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (rs->too_large)
		return respond_error(shim, conn, 413, "request body too large", NULL, NULL);
	switch (rs->target) {
	case TARGET_ROUTE: {
		bool get = method_is(method, "GET") || method_is(method, "HEAD");
		return serve_route(shim, conn, rs->route, !get, rs->body, rs->len);
	}
	case TARGET_METRICS:
		return serve_metrics(shim, conn);
	case TARGET_RAW:
		return serve_raw(shim, conn, method, url, rs);
	}
	return MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req_state *rs = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (rs) {
		free(rs->body);
		free(rs);
		*con_cls = NULL;
	}
}

/* ---- listeners ------------------------------------------------------------------ */

static int sock_is_live(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rv = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return rv;
}

static int unix_listen(const char *path, int *ret_fd, dev_t *ret_dev, ino_t *ret_ino)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (!*path || strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);

	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		int live = sock_is_live(path);
		if (live < 0)
			return live;
		if (live)
			return -EADDRINUSE;
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
	} else if (errno != ENOENT) {
		return -errno;
	}

	/* bind under a temporary name, set the mode, then rename into place: the socket never
	 * appears at path with the umask's mode (a client racing the start sees 0660 or nothing) */
	struct sockaddr_un tmp = {.sun_family = AF_UNIX};
	int n = snprintf(tmp.sun_path, sizeof(tmp.sun_path), "%s.%d.new", path, (int)getpid());
	bool staged = n > 0 && (size_t)n < sizeof(tmp.sun_path);
	const struct sockaddr_un *bsa = staged ? &tmp : &sa;
	unlink(tmp.sun_path);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rv = 0;
	bool bound = false;
	if (bind(fd, (const struct sockaddr *)bsa, sizeof(*bsa)) < 0) {
		rv = -errno;
		goto out;
	}
	bound = true;
	if (chmod(bsa->sun_path, 0660) < 0 || listen(fd, LISTEN_BACKLOG) < 0 ||
	    (staged && rename(tmp.sun_path, path) < 0)) {
		rv = -errno;
		goto out;
	}
	bsa = &sa;
	if (lstat(path, &st) < 0) {
		rv = -errno;
		goto out;
	}
	*ret_fd = fd;
	*ret_dev = st.st_dev;
	*ret_ino = st.st_ino;
	return 0;
out:
	if (bound)
		unlink(bsa->sun_path);
	close(fd);
	return rv;
}

/* "host:port", "[v6]:port", ":port" / "*:port" (any address). */
static int parse_hostport(const char *s, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon, *h = s;
	size_t hl;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL; /* bare IPv6 needs brackets */
		hl = (size_t)(colon - s);
	}
	const char *p = colon + 1;
	size_t pl = strlen(p);
	if (pl == 0 || pl >= portlen || hl >= hostlen || strspn(p, "0123456789") != pl)
		return -EINVAL;
	unsigned long pv = strtoul(p, NULL, 10);
	if (pv > 65535)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (strcmp(host, "*") == 0)
		host[0] = '\0';
	memcpy(port, p, pl + 1);
	return 0;
}

static int tcp_listen(const char *spec, int *ret_fd, uint16_t *ret_port)
{
	char host[256], port[8];
	int rv = parse_hostport(spec, host, sizeof(host), port, sizeof(port));
	if (rv < 0)
		return rv;

	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	struct addrinfo *res = NULL;
	int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (gai != 0)
		return gai == EAI_MEMORY ? -ENOMEM : gai == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;

	rv = -EADDRNOTAVAIL;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			rv = -errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0 ||
		    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
			rv = -errno;
			close(fd);
			continue;
		}
		uint16_t bound = ss.ss_family == AF_INET6
				     ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
				     : ntohs(((struct sockaddr_in *)&ss)->sin_port);
		freeaddrinfo(res);
		*ret_fd = fd;
		*ret_port = bound;
		return 0;
	}
	freeaddrinfo(res);
	return rv;
}

static struct MHD_Daemon *daemon_start(struct rdpi_httpshim *shim, int fd)
{
	const struct rdpi_httpshim_opts *o = &shim->opts;
	/* a thread per connection: a request may block on its RPC without
	 * holding up other connections; poll() keeps fds above FD_SETSIZE fine */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_POLL | MHD_USE_ITC;
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, shim, MHD_OPTION_LISTEN_SOCKET,
				(MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT,
				(unsigned)o->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned)o->connection_timeout_s,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_LIMIT,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, shim, MHD_OPTION_END);
}

int rdpi_httpshim_start(const struct rdpi_httpshim_opts *opts, struct rdpi_httpshim **ret)
{
	if (!opts || (!opts->unix_path && !opts->tcp_listen) || (opts->nroutes && !opts->routes))
		return -EINVAL;
	struct rdpi_httpshim *shim = calloc(1, sizeof(*shim));
	if (!shim)
		return -ENOMEM;
	shim->opts = *opts;
	if (!shim->opts.max_connections)
		shim->opts.max_connections = DEFAULT_MAX_CONNECTIONS;
	if (!shim->opts.connection_timeout_s)
		shim->opts.connection_timeout_s = DEFAULT_TIMEOUT_S;
	if (!shim->opts.max_body)
		shim->opts.max_body = DEFAULT_MAX_BODY;
	/* the caller's strings need not outlive this call */
	shim->opts.unix_path = NULL;
	shim->opts.tcp_listen = NULL;

	int rv = 0, fd = -1;
	if (opts->unix_path) {
		shim->unix_path = strdup(opts->unix_path);
		if (!shim->unix_path) {
			rv = -ENOMEM;
			goto out;
		}
		rv = unix_listen(shim->unix_path, &fd, &shim->unix_dev, &shim->unix_ino);
		if (rv < 0) {
			free(shim->unix_path);
			shim->unix_path = NULL;
			goto out;
		}
		shim->unix_d = daemon_start(shim, fd);
		if (!shim->unix_d) {
			/* MHD leaves a passed socket open when it fails to start */
			close(fd);
			rv = -ENOMEM;
			goto out;
		}
	}
	if (opts->tcp_listen) {
		rv = tcp_listen(opts->tcp_listen, &fd, &shim->tcp_port);
		if (rv < 0)
			goto out;
		shim->tcp_d = daemon_start(shim, fd);
		if (!shim->tcp_d) {
			close(fd);
			rv = -ENOMEM;
			goto out;
		}
	}
	*ret = shim;
	return 0;
out:
	rdpi_httpshim_stop(shim);
	return rv;
}

void rdpi_httpshim_stop(struct rdpi_httpshim *shim)
{
	if (!shim)
		return;
	/* MHD closes the listen sockets and joins connection threads, each of
	 * which finishes its RPC first (bounded by the call deadline) */
	if (shim->tcp_d)
		MHD_stop_daemon(shim->tcp_d);
	if (shim->unix_d)
		MHD_stop_daemon(shim->unix_d);
	if (shim->unix_path) {
		struct stat st;
		/* only our own socket: another instance may have replaced it */
		if (lstat(shim->unix_path, &st) == 0 && st.st_dev == shim->unix_dev &&
		    st.st_ino == shim->unix_ino)
			unlink(shim->unix_path);
		free(shim->unix_path);
	}
	free(shim);
}

int rdpi_httpshim_tcp_port(const struct rdpi_httpshim *shim, uint16_t *ret_port)
{
	if (!shim || !shim->tcp_d)
		return -ENOENT;
	*ret_port = shim->tcp_port;
	return 0;
}

void rdpi_httpshim_stats(const struct rdpi_httpshim *shim, struct rdpi_httpshim_stats *ret)
{
	struct rdpi_httpshim *s = (struct rdpi_httpshim *)shim;
	*ret = (struct rdpi_httpshim_stats){
	    .requests = atomic_load(&s->requests),
	    .errors_4xx = atomic_load(&s->errors_4xx),
	    .errors_5xx = atomic_load(&s->errors_5xx),
	};
}

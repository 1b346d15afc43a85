/* Integration tests for common/httpshim: a real rdpi_service over the
 * routerd.dpi.v1.Classifier descriptor behind the shim on scratch Unix (and
 * TCP) sockets, driven by a small HTTP/1.1 client and by curl. */
#include "common/httpshim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/counters.h"
#include "common/pbjson.h"
#include "common/service.h"
#include "routerd/dpi/v1/classifier.pb-c.h"
#include "routerd/dpi/v1/common.pb-c.h"

#define MIB (1024 * 1024)

/* ---- service under test ----------------------------------------------------------- */

static enum rdpi_status h_classify(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				   ProtobufCMessage *reply)
{
	const Routerd__Dpi__V1__ClassifyRequest *in = (const void *)req;
	Routerd__Dpi__V1__ClassifyResult *out = (void *)reply;
	(void)arg;
	/* ClassifyRequest has no tlsSNI: echo dstAddress into the result's tlsSNI */
	out->tlssni = rdpi_call_strdup(call, in->dstaddress);
	out->dstaddress = rdpi_call_strdup(call, in->dstaddress);
	out->appname = rdpi_call_strdup(call, "TLS");
	out->source = rdpi_call_strdup(call, "builtin");
	out->dstport = in->dstport;
	out->engine = rdpi_call_strdup(call, "builtin");
	return RDPI_STATUS_OK;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ClassifyBatch handlers entered / running now, and whether a Status ran while one was
 * running (the concurrency test checks overlap by these, not by the clock). */
static atomic_int batch_started, batch_running, status_during_batch;

/* Slow on purpose: 100 ms per request, for deadline and concurrency tests. */
static enum rdpi_status h_classify_batch(void *arg, struct rdpi_call *call,
					 const ProtobufCMessage *req, ProtobufCMessage *reply)
{
	const Routerd__Dpi__V1__ClassifyBatchRequest *in = (const void *)req;
	(void)arg;
	(void)call;
	(void)reply;
	atomic_fetch_add(&batch_started, 1);
	atomic_fetch_add(&batch_running, 1);
	sleep_ms(100 * (unsigned)in->n_requests);
	atomic_fetch_sub(&batch_running, 1);
	return RDPI_STATUS_OK;
}

static enum rdpi_status h_status(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				 ProtobufCMessage *reply)
{
	Routerd__Dpi__V1__ClassifierStatus *out = (void *)reply;
	(void)arg;
	(void)req;
	if (atomic_load(&batch_running) > 0)
		atomic_store(&status_during_batch, 1);
	out->ok = 1;
	out->name = rdpi_call_strdup(call, "test-classifier");
	out->version = rdpi_call_strdup(call, "0.0.1");
	out->engine = rdpi_call_strdup(call, "builtin");
	return RDPI_STATUS_OK;
}

static enum rdpi_status h_healthz(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				  ProtobufCMessage *reply)
{
	Routerd__Dpi__V1__HealthzReply *out = (void *)reply;
	(void)arg;
	(void)req;
	out->ok = 0;
	out->name = rdpi_call_strdup(call, "test-classifier");
	out->status = rdpi_call_strdup(call, "degraded");
	return RDPI_STATUS_OK;
}

static const char *const always_present[] = {
    "routerd.dpi.v1.ClassifyResult.engine",
    "routerd.dpi.v1.HealthzReply.ok",
    NULL,
};
static const struct rdpi_pbjson_opts json_opts = {.always_present = always_present};

static const struct rdpi_httpshim_route routes[] = {
    {"GET", "/v1/status", "Status", 0},
    {"GET", "/v1/healthz", "Healthz", RDPI_HTTPSHIM_NOT_OK_503},
    {"POST", "/v1/classify", "Classify", 0},
    {"POST", "/v1/classify-batch", "ClassifyBatch", 0},
};

static struct {
	char dir[64];
	rdpi_method_fn handlers[8];
	struct rdpi_service *svc;
} g;

static int group_setup(void **state)
{
	(void)state;
	snprintf(g.dir, sizeof(g.dir), "/tmp/rdpi-httpshim-XXXXXX");
	if (!mkdtemp(g.dir))
		return -1;
	const ProtobufCServiceDescriptor *d = &routerd__dpi__v1__classifier__descriptor;
	static const struct {
		const char *name;
		rdpi_method_fn fn;
	} h[] = {
	    {"Classify", h_classify},
	    {"ClassifyBatch", h_classify_batch},
	    {"Status", h_status},
	    {"Healthz", h_healthz},
	};
	if (d->n_methods > sizeof(g.handlers) / sizeof(g.handlers[0]))
		return -1;
	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		const ProtobufCMethodDescriptor *m =
		    protobuf_c_service_descriptor_get_method_by_name(d, h[i].name);
		if (!m)
			return -1;
		g.handlers[m - d->methods] = h[i].fn;
	}
	struct rdpi_service_opts so = {
	    .desc = d,
	    .handlers = g.handlers,
	    .workers = 4,
	    .json_opts = &json_opts,
	};
	return rdpi_service_new(&so, &g.svc) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	rdpi_service_free(g.svc);
	DIR *dir = opendir(g.dir);
	if (dir) {
		struct dirent *de;
		while ((de = readdir(dir)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			char p[512];
			snprintf(p, sizeof(p), "%s/%s", g.dir, de->d_name);
			unlink(p);
		}
		closedir(dir);
	}
	rmdir(g.dir);
	return 0;
}

static void sock_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s.sock", g.dir, name);
}

static struct rdpi_httpshim_opts base_opts(const char *path)
{
	return (struct rdpi_httpshim_opts){
	    .unix_path = path,
	    .svc = g.svc,
	    .routes = routes,
	    .nroutes = sizeof(routes) / sizeof(routes[0]),
	};
}

static struct rdpi_httpshim *start_shim(const char *path)
{
	struct rdpi_httpshim_opts o = base_opts(path);
	struct rdpi_httpshim *shim = NULL;
	assert_int_equal(rdpi_httpshim_start(&o, &shim), 0);
	assert_non_null(shim);
	return shim;
}

/* ---- a tiny HTTP/1.1 client ---------------------------------------------------------- */

struct resp {
	int status;
	char *head; /* status line + headers, NUL-terminated */
	char *body;
	size_t body_len;
};

static void resp_free(struct resp *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_tcp(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send req (the server may answer early and close: stop sending then), read
 * until EOF, parse. Returns 0 or -1. */
static int roundtrip(int fd, const char *req, size_t len, struct resp *r)
{
	memset(r, 0, sizeof(*r));
	size_t off = 0;
	while (off < len) {
		ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break; /* EPIPE / ECONNRESET: read what the server said */
		off += (size_t)n;
	}
	size_t cap = 4096, got = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 10000) <= 0)
			break;
		if (got + 2048 > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		ssize_t n = recv(fd, buf + got, cap - got - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	char *end = strstr(buf, "\r\n\r\n");
	if (!end || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) {
		free(buf);
		return -1;
	}
	size_t hl = (size_t)(end - buf) + 2;
	r->head = strndup(buf, hl);
	r->body_len = got - hl - 2;
	r->body = malloc(r->body_len + 1);
	assert_non_null(r->head);
	assert_non_null(r->body);
	memcpy(r->body, end + 4, r->body_len);
	r->body[r->body_len] = '\0';
	free(buf);
	return 0;
}

static char *build_request(const char *method, const char *url, const char *body, size_t body_len,
			   const char *extra, size_t *ret_len)
{
	char *req = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&req, &len);
	assert_non_null(f);
	fprintf(f, "%s %s HTTP/1.1\r\nHost: unix\r\nConnection: close\r\n%s", method, url,
		extra ? extra : "");
	if (body)
		fprintf(f, "Content-Type: application/json\r\nContent-Length: %zu\r\n", body_len);
	fputs("\r\n", f);
	if (body)
		fwrite(body, 1, body_len, f);
	fclose(f);
	*ret_len = len;
	return req;
}

static void http_unix(const char *path, const char *method, const char *url, const char *body,
		      struct resp *r)
{
	size_t len;
	char *req = build_request(method, url, body, body ? strlen(body) : 0, NULL, &len);
	int fd = connect_unix(path);
	assert_true(fd >= 0);
	assert_int_equal(roundtrip(fd, req, len, r), 0);
	free(req);
}

/* Header value (case-insensitive name) copied into buf; NULL when absent. */
static const char *resp_header(const struct resp *r, const char *name, char *buf, size_t len)
{
	size_t nl = strlen(name);
	for (const char *p = strstr(r->head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
		const char *h = p + 2;
		if (strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
			const char *v = h + nl + 1;
			while (*v == ' ')
				v++;
			size_t vl = strcspn(v, "\r");
			if (vl >= len)
				vl = len - 1;
			memcpy(buf, v, vl);
			buf[vl] = '\0';
			return buf;
		}
	}
	return NULL;
}

static json_t *resp_json(const struct resp *r)
{
	char ct[128];
	assert_non_null(resp_header(r, "Content-Type", ct, sizeof(ct)));
	assert_string_equal(ct, "application/json");
	json_error_t err;
	json_t *j = json_loads(r->body, 0, &err);
	if (!j)
		fail_msg("bad JSON body: %s (%s)", r->body, err.text);
	return j;
}

static void assert_no_store(const struct resp *r)
{
	char cc[64];
	assert_non_null(resp_header(r, "Cache-Control", cc, sizeof(cc)));
	assert_string_equal(cc, "no-store");
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_httpshim_get_status_200(void **state)
{
	(void)state;
	char path[128];
	sock_path(path, sizeof(path), "status");
	struct rdpi_httpshim *shim = start_shim(path);
	struct resp r;
	http_unix(path, "GET", "/v1/status", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_no_store(&r);
	json_t *j = resp_json(&r);
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_string_equal(json_string_value(json_object_get(j, "name")), "test-classifier");
	assert_string_equal(json_string_value(json_object_get(j, "version")), "0.0.1");
	json_decref(j);
	resp_free(&r);
	rdpi_httpshim_stop(shim);
	struct stat st;
	assert_int_equal(lstat(path, &st), -1); /* unlinked on stop */
}

static void test_httpshim_post_classify_200(void **state)
{
	(void)state;
	char path[128];
	sock_path(path, sizeof(path), "classify");
	struct rdpi_httpshim *shim = start_shim(path);
	struct resp r;
	http_unix(path, "POST", "/v1/classify",
		  "{\"dstAddress\":\"example.com\",\"dstPort\":443,\"transportProtocol\":\"tcp\","
		  "\"unknownKey\":1}",
		  &r);
	assert_int_equal(r.status, 200);
	assert_no_store(&r);
	/* legacy keys, literally */
	assert_non_null(strstr(r.body, "\"tlsSNI\""));
	assert_non_null(strstr(r.body, "\"appName\""));
	assert_non_null(strstr(r.body, "\"dstPort\""));
	assert_non_null(strstr(r.body, "\"engine\""));
	json_t *j = resp_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "tlsSNI")), "example.com");
	assert_string_equal(json_string_value(json_object_get(j, "appName")), "TLS");
	assert_int_equal(json_integer_value(json_object_get(j, "dstPort")), 443);
	json_decref(j);
	resp_free(&r);
	rdpi_httpshim_stop(shim);
}

static void test_httpshim_bad_json_400(void **state)
{
	(void)state;
	char path[128];
	sock_path(path, sizeof(path), "badjson");
	struct rdpi_httpshim *shim = start_shim(path);
	struct resp r;
	http_unix(path, "POST", "/v1/classify", "{\"dstAddress\":", &r);
	assert_int_equal(r.status, 400);
	assert_no_store(&r);
	json_t *j = resp_json(&r);
	const char *msg = json_string_value(json_object_get(j, "error"));
	assert_non_null(msg);
	assert_true(strlen(msg) > 0);
	json_decref(j);
	resp_free(&r);

	http_unix(path, "POST", "/v1/classify", "{\"dstPort\":\"not a number\"}", &r);
	assert_int_equal(r.status, 400);
	j = resp_json(&r);
	msg = json_string_value(json_object_get(j, "error"));
	assert_non_null(msg);
	assert_non_null(strstr(msg, "dstPort"));
	json_decref(j);
	resp_free(&r);
	rdpi_httpshim_stop(shim);
}

static void test_httpshim_unknown_path_404(void **state)
{
	(void)state;
	char path[128];
	sock_path(path, sizeof(path), "notfound");
	struct rdpi_httpshim *shim = start_shim(path);
	struct resp r;
	http_unix(path, "GET", "/v1/nope", NULL, &r);
	assert_int_equal(r.status, 404);
	assert_no_store(&r);
	json_t *j = resp_json(&r);
	assert_non_null(json_string_value(json_object_get(j, "error")));
	json_decref(j);
	resp_free(&r);
	/* no /metrics without a registry */
	http_unix(path, "GET", "/metrics", NULL, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	/* exact match only */
	http_unix(path, "GET", "/v1/status/extra", NULL, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	rdpi_httpshim_stop(shim);
}

static void test_httpshim_wrong_method_405(void **state)
{
	(void)state;
	char path[128], allow[64];
	sock_path(path, sizeof(path), "method");
	struct rdpi_httpshim *shim = start_shim(path);
	struct resp r;
	http_unix(path, "POST", "/v1/status", "{}", &r);
	assert_int_equal(r.status, 405);
	assert_non_null(resp_header(&r, "Allow", allow, sizeof(allow)));
	assert_string_equal(allow, "GET, HEAD");
	json_t *j = resp_json(&r);
	json_decref(j);
	resp_free(&r);

	http_unix(path, "GET", "/v1/classify", NULL, &r);
	assert_int_equal(r.status, 405);
	assert_non_null(resp_header(&r, "Allow", allow, sizeof(allow)));
	assert_string_equal(allow, "POST");
	resp_free(&r);
	rdpi_httpshim_stop(shim);
}

static void test_httpshim_head_like_get(void **state)
{
	(void)state;
	char path[128], cl[32];
	sock_path(path, sizeof(path), "head");
	struct rdpi_httpshim *shim = start_shim(path);
	struct resp r;
	http_unix(path, "HEAD", "/v1/status", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_no_store(&r);
	assert_non_null(resp_header(&r, "Content-Length", cl, sizeof(cl)));
	assert_true(atoi(cl) > 0);
	assert_int_equal(r.body_len, 0);
	resp_free(&r);
	rdpi_httpshim_stop(shim);
}

static void test_httpshim_body_too_large_413(void **state)
{
	(void)state;
	char path[128];
	sock_path(path, sizeof(path), "large");
	struct rdpi_httpshim *shim = start_shim(path);

	/* announced by Content-Length: refused before the body is read */
	size_t n = MIB + 1;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	struct resp r;
	http_unix(path, "POST", "/v1/classify", big, &r);
	assert_int_equal(r.status, 413);
	assert_no_store(&r);
	resp_free(&r);

	/* chunked: caught while accumulating */
	char *req = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&req, &len);
	assert_non_null(f);
	fputs("POST /v1/classify HTTP/1.1\r\nHost: unix\r\nConnection: close\r\n"
	      "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n",
	      f);
	size_t chunk = 64 * 1024;
	for (size_t sent = 0; sent < MIB + chunk; sent += chunk) {
		fprintf(f, "%zx\r\n", chunk);
		fwrite(big, 1, chunk, f);
		fputs("\r\n", f);
	}
	fputs("0\r\n\r\n", f);
	fclose(f);
	int fd = connect_unix(path);
	assert_true(fd >= 0);
	assert_int_equal(roundtrip(fd, req, len, &r), 0);
	assert_int_equal(r.status, 413);
	resp_free(&r);
	free(req);

	/* exactly max_body bytes is accepted */
	big[MIB - 1] = '}';
	big[MIB] = '\0';
	http_unix(path, "POST", "/v1/classify", big, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	free(big);
	rdpi_httpshim_stop(shim);
}

static void test_httpshim_healthz_not_ok_503(void **state)
{
	(void)state;
	char path[128];
	sock_path(path, sizeof(path), "healthz");
	struct rdpi_httpshim *shim = start_shim(path);
	struct resp r;
	http_unix(path, "GET", "/v1/healthz", NULL, &r);
	assert_int_equal(r.status, 503);
	assert_no_store(&r);
	json_t *j = resp_json(&r);
	assert_true(json_is_false(json_object_get(j, "ok")));
	assert_string_equal(json_string_value(json_object_get(j, "status")), "degraded");
	json_decref(j);
	resp_free(&r);
	rdpi_httpshim_stop(shim);
}

static void test_httpshim_deadline_504(void **state)
{
	(void)state;
	char path[128];
	sock_path(path, sizeof(path), "deadline");
	struct rdpi_httpshim_opts o = base_opts(path);
	o.call_timeout_ms = 150;
	struct rdpi_httpshim *shim = NULL;
	assert_int_equal(rdpi_httpshim_start(&o, &shim), 0);
	struct resp r;
	http_unix(path, "POST", "/v1/classify-batch", "{\"requests\":[{},{},{},{}]}", &r);
	assert_int_equal(r.status, rdpi_status_http_code(RDPI_STATUS_DEADLINE_EXCEEDED));
	json_t *j = resp_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "DEADLINE_EXCEEDED");
	assert_non_null(json_string_value(json_object_get(j, "error")));
	json_decref(j);
	resp_free(&r);
	rdpi_httpshim_stop(shim);
}

struct slow_arg {
	const char *path;
	int status;
};

static void *slow_request(void *arg)
{
	struct slow_arg *a = arg;
	struct resp r;
	http_unix(a->path, "POST", "/v1/classify-batch", "{\"requests\":[{},{},{},{},{}]}", &r);
	a->status = r.status;
	resp_free(&r);
	return NULL;
}

static void test_httpshim_slow_call_does_not_block(void **state)
{
	(void)state;
	char path[128];
	sock_path(path, sizeof(path), "slow");
	struct rdpi_httpshim *shim = start_shim(path);
	struct slow_arg a = {.path = path};
	pthread_t th;
	int started = atomic_load(&batch_started);
	assert_int_equal(pthread_create(&th, NULL, slow_request, &a), 0);
	for (int i = 0; i < 500 && atomic_load(&batch_started) == started; i++)
		sleep_ms(10);
	atomic_store(&status_during_batch, 0);
	uint64_t t0 = rdpi_monotonic_ns();
	struct resp r;
	http_unix(path, "GET", "/v1/status", NULL, &r);
	uint64_t took_ms = (rdpi_monotonic_ns() - t0) / 1000000;
	assert_int_equal(r.status, 200);
	resp_free(&r);
	pthread_join(th, NULL);
	assert_int_equal(a.status, 200);
	print_message("status during a 500 ms call took %llu ms\n", (unsigned long long)took_ms);
	/* the 500 ms call did not hold up the status request: it ran while the call did (an
	 * ordering check, not a timing one, so a loaded machine cannot fail it) */
	assert_true(atomic_load(&status_during_batch));
	rdpi_httpshim_stop(shim);
}

static void test_httpshim_socket_mode_0660(void **state)
{
	(void)state;
	char path[128];
	sock_path(path, sizeof(path), "mode");
	mode_t old = umask(0077); /* the shim must not depend on the umask */
	struct rdpi_httpshim *shim = start_shim(path);
	umask(old);
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	rdpi_httpshim_stop(shim);
}

static void test_httpshim_stale_socket_replaced(void **state)
{
	(void)state;
	char path[128];
	sock_path(path, sizeof(path), "stale");
	/* a socket file nobody listens on, as left by a crashed daemon */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));

	struct rdpi_httpshim *shim = start_shim(path);
	struct resp r;
	http_unix(path, "GET", "/v1/status", NULL, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	rdpi_httpshim_stop(shim);
}

static void test_httpshim_live_socket_refused(void **state)
{
	(void)state;
	char path[128];
	sock_path(path, sizeof(path), "live");
	struct rdpi_httpshim *a = start_shim(path);
	struct rdpi_httpshim_opts o = base_opts(path);
	struct rdpi_httpshim *b = (void *)0x1;
	assert_int_equal(rdpi_httpshim_start(&o, &b), -EADDRINUSE);
	assert_ptr_equal(b, (void *)0x1); /* untouched on failure */
	struct resp r;
	http_unix(path, "GET", "/v1/status", NULL, &r); /* the first one still serves */
	assert_int_equal(r.status, 200);
	resp_free(&r);
	rdpi_httpshim_stop(a);
}

static void test_httpshim_non_socket_refused(void **state)
{
	(void)state;
	char path[128];
	sock_path(path, sizeof(path), "regular");
	static const char content[] = "not a socket, keep me\n";
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	assert_int_equal(chmod(path, 0644), 0);

	struct rdpi_httpshim_opts o = base_opts(path);
	struct rdpi_httpshim *shim = NULL;
	assert_int_equal(rdpi_httpshim_start(&o, &shim), -EEXIST);
	assert_null(shim);

	char buf[128] = "";
	f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_string_equal(buf, content);
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	unlink(path);
}

static void test_httpshim_metrics(void **state)
{
	(void)state;
	char path[128], ct[128];
	sock_path(path, sizeof(path), "metrics");
	struct rdpi_counters *reg = NULL;
	assert_int_equal(rdpi_counters_new("rdpi_test_", &reg), 0);
	struct rdpi_counter hits = {0};
	assert_int_equal(
	    rdpi_counters_register(reg, "hits_total", NULL, RDPI_COUNTER, "Hits seen.", &hits), 0);
	rdpi_counter_add(&hits, 42);
	struct rdpi_httpshim_opts o = base_opts(path);
	o.metrics = reg;
	struct rdpi_httpshim *shim = NULL;
	assert_int_equal(rdpi_httpshim_start(&o, &shim), 0);

	struct resp r;
	http_unix(path, "GET", "/metrics", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_no_store(&r);
	assert_non_null(resp_header(&r, "Content-Type", ct, sizeof(ct)));
	assert_int_equal(strncmp(ct, "text/plain; version=0.0.4", 25), 0);
	assert_non_null(strstr(r.body, "# HELP rdpi_test_hits_total Hits seen.\n"));
	assert_non_null(strstr(r.body, "# TYPE rdpi_test_hits_total counter\n"));
	assert_non_null(strstr(r.body, "\nrdpi_test_hits_total 42\n"));
	resp_free(&r);

	http_unix(path, "POST", "/metrics", "{}", &r);
	assert_int_equal(r.status, 405);
	resp_free(&r);
	rdpi_httpshim_stop(shim);
	rdpi_counters_free(reg);
}

static int raw_handler(void *arg, const struct rdpi_http_request *req, int *ret_status,
		       const char **ret_content_type, char **ret_body, size_t *ret_len)
{
	int *calls = arg;
	(*calls)++;
	if (strcmp(rdpi_http_request_path(req), "/api/v1/echo") != 0)
		return -ENOENT;
	const char *limit = rdpi_http_request_query(req, "limit");
	const char *q = rdpi_http_request_query(req, "q");
	const char *missing = rdpi_http_request_query(req, "missing");
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:b}", "method", rdpi_http_request_method(req), "limit",
		      limit ? limit : "", "q", q ? q : "", "missing", missing != NULL);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	*ret_status = 200;
	*ret_content_type = "application/json";
	*ret_body = text;
	*ret_len = strlen(text);
	return 0;
}

static void test_httpshim_raw_handler_query(void **state)
{
	(void)state;
	char path[128];
	sock_path(path, sizeof(path), "raw");
	int calls = 0;
	struct rdpi_httpshim_opts o = base_opts(path);
	o.raw_fn = raw_handler;
	o.raw_arg = &calls;
	struct rdpi_httpshim *shim = NULL;
	assert_int_equal(rdpi_httpshim_start(&o, &shim), 0);

	struct resp r;
	http_unix(path, "GET", "/api/v1/echo?limit=5&q=a%20b", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_no_store(&r);
	json_t *j = resp_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "method")), "GET");
	assert_string_equal(json_string_value(json_object_get(j, "limit")), "5");
	assert_string_equal(json_string_value(json_object_get(j, "q")), "a b");
	assert_true(json_is_false(json_object_get(j, "missing")));
	json_decref(j);
	resp_free(&r);

	http_unix(path, "GET", "/api/v1/other", NULL, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);

	/* routes win over the raw handler */
	http_unix(path, "GET", "/v1/status", NULL, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	assert_int_equal(calls, 2);
	rdpi_httpshim_stop(shim);
}

static void test_httpshim_tcp_listener(void **state)
{
	(void)state;
	struct rdpi_httpshim_opts o = base_opts(NULL);
	o.tcp_listen = "127.0.0.1:0";
	struct rdpi_httpshim *shim = NULL;
	assert_int_equal(rdpi_httpshim_start(&o, &shim), 0);
	uint16_t port = 0;
	assert_int_equal(rdpi_httpshim_tcp_port(shim, &port), 0);
	assert_true(port > 0);

	size_t len;
	char *req = build_request("GET", "/v1/status", NULL, 0, NULL, &len);
	int fd = connect_tcp(port);
	assert_true(fd >= 0);
	struct resp r;
	assert_int_equal(roundtrip(fd, req, len, &r), 0);
	free(req);
	assert_int_equal(r.status, 200);
	json_t *j = resp_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "test-classifier");
	json_decref(j);
	resp_free(&r);
	rdpi_httpshim_stop(shim);

	/* both listeners at once */
	char path[128];
	sock_path(path, sizeof(path), "both");
	o = base_opts(path);
	o.tcp_listen = "[::1]:0";
	int rv = rdpi_httpshim_start(&o, &shim);
	if (rv == -EADDRNOTAVAIL || rv == -EAFNOSUPPORT) {
		print_message("no IPv6 loopback here, trying 127.0.0.1 for the dual test\n");
		o.tcp_listen = "127.0.0.1:0";
		rv = rdpi_httpshim_start(&o, &shim);
	}
	assert_int_equal(rv, 0);
	http_unix(path, "GET", "/v1/status", NULL, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	rdpi_httpshim_stop(shim);

	static const char *const bad[] = {"nonsense", "1.2.3.4", "[::1",    "[::1]80",
					  "::1:80",   "h:",	 "h:99999", "h:8x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = base_opts(NULL);
		o.tcp_listen = bad[i];
		shim = NULL;
		assert_int_equal(rdpi_httpshim_start(&o, &shim), -EINVAL);
		assert_null(shim);
	}
	o = base_opts(NULL);
	assert_int_equal(rdpi_httpshim_start(&o, &shim), -EINVAL); /* no listener at all */
}

static void test_httpshim_stats_count_errors(void **state)
{
	(void)state;
	char path[128];
	sock_path(path, sizeof(path), "stats");
	struct rdpi_httpshim *shim = start_shim(path);
	struct resp r;
	http_unix(path, "GET", "/v1/status", NULL, &r);
	resp_free(&r);
	http_unix(path, "GET", "/nope", NULL, &r);
	resp_free(&r);
	http_unix(path, "POST", "/v1/classify", "[", &r);
	resp_free(&r);
	http_unix(path, "GET", "/v1/healthz", NULL, &r);
	resp_free(&r);
	struct rdpi_httpshim_stats st;
	rdpi_httpshim_stats(shim, &st);
	assert_int_equal(st.requests, 4);
	assert_int_equal(st.errors_4xx, 2);
	assert_int_equal(st.errors_5xx, 1);
	rdpi_httpshim_stop(shim);
}

static bool have_curl(void)
{
	return system("curl --version >/dev/null 2>&1") == 0;
}

/* Runs curl and returns its stdout (caller frees). */
static char *run_curl(const char *args)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "curl -sS --max-time 10 %s 2>&1", args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	assert_non_null(m);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		fwrite(buf, 1, n, m);
	fclose(m);
	assert_int_equal(pclose(p), 0);
	return out;
}

static void test_httpshim_curl_unix_socket(void **state)
{
	(void)state;
	if (!have_curl()) {
		print_message("curl is not installed: skipping the curl --unix-socket case\n");
		skip();
	}
	char path[128], args[512];
	sock_path(path, sizeof(path), "curl");
	struct rdpi_httpshim *shim = start_shim(path);

	snprintf(args, sizeof(args),
		 "--unix-socket '%s' -w '\\n%%{http_code} %%{content_type}' http://unix/v1/status",
		 path);
	char *out = run_curl(args);
	assert_non_null(strstr(out, "\"name\":\"test-classifier\""));
	assert_non_null(strstr(out, "\n200 application/json"));
	free(out);

	snprintf(args, sizeof(args),
		 "--unix-socket '%s' -w '\\n%%{http_code}' -H 'Content-Type: application/json' "
		 "--data-binary '{\"dstAddress\":\"curl.example\"}' http://unix/v1/classify",
		 path);
	out = run_curl(args);
	assert_non_null(strstr(out, "\"tlsSNI\":\"curl.example\""));
	assert_non_null(strstr(out, "\n200"));
	free(out);
	rdpi_httpshim_stop(shim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_httpshim_get_status_200),
	    cmocka_unit_test(test_httpshim_post_classify_200),
	    cmocka_unit_test(test_httpshim_bad_json_400),
	    cmocka_unit_test(test_httpshim_unknown_path_404),
	    cmocka_unit_test(test_httpshim_wrong_method_405),
	    cmocka_unit_test(test_httpshim_head_like_get),
	    cmocka_unit_test(test_httpshim_body_too_large_413),
	    cmocka_unit_test(test_httpshim_healthz_not_ok_503),
	    cmocka_unit_test(test_httpshim_deadline_504),
	    cmocka_unit_test(test_httpshim_slow_call_does_not_block),
	    cmocka_unit_test(test_httpshim_socket_mode_0660),
	    cmocka_unit_test(test_httpshim_stale_socket_replaced),
	    cmocka_unit_test(test_httpshim_live_socket_refused),
	    cmocka_unit_test(test_httpshim_non_socket_refused),
	    cmocka_unit_test(test_httpshim_metrics),
	    cmocka_unit_test(test_httpshim_raw_handler_query),
	    cmocka_unit_test(test_httpshim_tcp_listener),
	    cmocka_unit_test(test_httpshim_stats_count_errors),
	    cmocka_unit_test(test_httpshim_curl_unix_socket),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

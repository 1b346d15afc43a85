/* Tests for common/service + common/rpc: real NNG sockets over ipc:// in a
 * scratch directory, a real forked server process for the kill case, and the
 * real nngcat binary for the JSON text mode. */
#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/rpc.h"
#include "common/service.h"
#include "common/wire.h"
#include "routerd/dpi/v1/classifier.pb-c.h"

static char tmpdir[64];
static char url[128];
static unsigned url_seq;

/* ---- test service: Classify echoes, Status can sleep, ClassifyBatch async ---- */

static int status_sleep_ms;
static atomic_int classify_calls;
/* Status handlers entered / running now, and whether a Classify ran while one was running:
 * the tests wait for a handler and check overlap by these, not by the clock. */
static atomic_int status_started, status_running, classify_during_status;
/* how long the async ClassifyBatch takes */
static int batch_delay_ms = 100;

static enum rdpi_status h_classify(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				   ProtobufCMessage *reply)
{
	const Routerd__Dpi__V1__ClassifyRequest *r = (const void *)req;
	Routerd__Dpi__V1__ClassifyResult *res = (void *)reply;
	atomic_fetch_add(&classify_calls, 1);
	if (atomic_load(&status_running) > 0)
		atomic_store(&classify_during_status, 1);
	if (r->srcport == 666) {
		rdpi_call_set_error(call, "port 666 is refused");
		return RDPI_STATUS_INVALID_ARGUMENT;
	}
	res->appname = rdpi_call_strdup(call, "tls");
	res->engine = rdpi_call_strdup(call, "builtin");
	res->srcaddress = rdpi_call_strdup(call, r->srcaddress);
	res->srcport = r->srcport;
	res->tlssni = rdpi_call_printf(call, "echo-%u.example", r->srcport);
	return RDPI_STATUS_OK;
}

static enum rdpi_status h_status(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				 ProtobufCMessage *reply)
{
	Routerd__Dpi__V1__ClassifierStatus *st = (void *)reply;
	atomic_fetch_add(&status_started, 1);
	atomic_fetch_add(&status_running, 1);
	if (status_sleep_ms)
		usleep((useconds_t)status_sleep_ms * 1000);
	atomic_fetch_sub(&status_running, 1);
	st->ok = 1;
	st->name = rdpi_call_strdup(call, "test");
	return RDPI_STATUS_OK;
}

static enum rdpi_status h_healthz(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				  ProtobufCMessage *reply)
{
	Routerd__Dpi__V1__HealthzReply *h = (void *)reply;
	h->ok = 1;
	return RDPI_STATUS_OK;
}

/* Async handler: completes from a finisher thread after batch_delay_ms (100 ms). */
struct pending {
	struct rdpi_call *call;
	uint64_t due;
	struct pending *next;
};
static pthread_mutex_t pend_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pend_cond = PTHREAD_COND_INITIALIZER;
static struct pending *pend_head;
static int pend_stop;
static pthread_t finisher;

static void *finisher_main(void *arg)
{
	pthread_mutex_lock(&pend_lock);
	while (!pend_stop || pend_head) {
		if (!pend_head) {
			pthread_cond_wait(&pend_cond, &pend_lock);
			continue;
		}
		struct pending *p = pend_head;
		uint64_t now = rdpi_monotonic_ns();
		if (now < p->due) {
			pthread_mutex_unlock(&pend_lock);
			usleep((useconds_t)((p->due - now) / 1000));
			pthread_mutex_lock(&pend_lock);
			continue;
		}
		pend_head = p->next;
		pthread_mutex_unlock(&pend_lock);
		rdpi_call_finish(p->call, RDPI_STATUS_OK);
		free(p);
		pthread_mutex_lock(&pend_lock);
	}
	pthread_mutex_unlock(&pend_lock);
	return NULL;
}

static enum rdpi_status h_batch(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				ProtobufCMessage *reply)
{
	const Routerd__Dpi__V1__ClassifyBatchRequest *r = (const void *)req;
	Routerd__Dpi__V1__ClassifyBatchReply *rep = (void *)reply;
	rep->n_results = r->n_requests;
	rep->results = rdpi_call_alloc(call, sizeof(*rep->results) * (r->n_requests + 1));
	for (size_t i = 0; i < r->n_requests; i++) {
		Routerd__Dpi__V1__ClassifyResult *res = rdpi_call_alloc(call, sizeof(*res));
		routerd__dpi__v1__classify_result__init(res);
		res->srcport = r->requests[i]->srcport;
		res->engine = rdpi_call_strdup(call, "builtin");
		rep->results[i] = res;
	}
	struct pending *p = calloc(1, sizeof(*p));
	p->call = call;
	p->due = rdpi_monotonic_ns() + (uint64_t)batch_delay_ms * 1000000ull;
	pthread_mutex_lock(&pend_lock);
	struct pending **pp = &pend_head;
	while (*pp)
		pp = &(*pp)->next;
	*pp = p;
	pthread_cond_signal(&pend_cond);
	pthread_mutex_unlock(&pend_lock);
	return RDPI_STATUS_PENDING;
}

static const rdpi_method_fn handlers[] = {h_classify, h_batch, h_status, h_healthz};

struct fixture {
	struct rdpi_service *svc;
	struct rdpi_rpc_server *srv;
	struct rdpi_rpc_client *cl;
};

static void next_url(void)
{
	snprintf(url, sizeof(url), "ipc://%s/rpc-%u.ipc", tmpdir, url_seq++);
}

static int start_server(struct fixture *f, size_t max_msg)
{
	struct rdpi_service_opts so = {
	    .desc = &routerd__dpi__v1__classifier__descriptor,
	    .handlers = handlers,
	    .workers = 4,
	    .json_opts = rdpi_wire_json_opts(),
	};
	int rv = rdpi_service_new(&so, &f->svc);
	if (rv < 0)
		return rv;
	struct rdpi_rpc_server_opts ro = {.url = url, .svc = f->svc, .max_msg = max_msg};
	return rdpi_rpc_server_start(&ro, &f->srv);
}

static void stop_server(struct fixture *f)
{
	rdpi_rpc_server_stop(f->srv);
	f->srv = NULL;
	rdpi_service_free(f->svc);
	f->svc = NULL;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	next_url();
	status_sleep_ms = 0;
	if (start_server(f, 0) < 0)
		return -1;
	if (rdpi_rpc_client_new(url, NULL, &f->cl) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rdpi_rpc_client_free(f->cl);
	stop_server(f);
	free(f);
	return 0;
}

static uint64_t ms_since(uint64_t t0)
{
	return (rdpi_monotonic_ns() - t0) / 1000000u;
}

static enum rdpi_status call_classify(struct rdpi_rpc_client *cl, uint32_t port, uint32_t timeout,
				      Routerd__Dpi__V1__ClassifyResult **ret, char *err,
				      size_t errlen)
{
	Routerd__Dpi__V1__ClassifyRequest req = ROUTERD__DPI__V1__CLASSIFY_REQUEST__INIT;
	req.srcaddress = "192.0.2.10";
	req.srcport = port;
	req.transportprotocol = "tcp";
	ProtobufCMessage *m = NULL;
	enum rdpi_status st = rdpi_rpc_client_call(cl, "Classify", &req.base,
						   &routerd__dpi__v1__classify_result__descriptor,
						   timeout, &m, err, errlen);
	*ret = (void *)m;
	return st;
}

static void test_rpc_roundtrip(void **state)
{
	struct fixture *f = *state;
	Routerd__Dpi__V1__ClassifyResult *res = NULL;
	char err[256];
	assert_int_equal(call_classify(f->cl, 53168, 1000, &res, err, sizeof(err)), RDPI_STATUS_OK);
	assert_non_null(res);
	assert_string_equal(res->appname, "tls");
	assert_string_equal(res->srcaddress, "192.0.2.10");
	assert_int_equal(res->srcport, 53168);
	assert_string_equal(res->tlssni, "echo-53168.example");
	protobuf_c_message_free_unpacked(&res->base, NULL);
	assert_true(rdpi_rpc_client_connected(f->cl));
}

static void test_rpc_handler_error_status(void **state)
{
	struct fixture *f = *state;
	Routerd__Dpi__V1__ClassifyResult *res = NULL;
	char err[256];
	assert_int_equal(call_classify(f->cl, 666, 1000, &res, err, sizeof(err)),
			 RDPI_STATUS_INVALID_ARGUMENT);
	assert_null(res);
	assert_string_equal(err, "port 666 is refused");
}

static void test_rpc_unknown_method(void **state)
{
	struct fixture *f = *state;
	char err[256];
	Routerd__Dpi__V1__Empty e = ROUTERD__DPI__V1__EMPTY__INIT;
	assert_int_equal(
	    rdpi_rpc_client_call(f->cl, "ResetFlow", &e.base, NULL, 1000, NULL, err, sizeof(err)),
	    RDPI_STATUS_NOT_FOUND);
	assert_non_null(strstr(err, "unknown method \"ResetFlow\""));
}

static void test_rpc_bad_body(void **state)
{
	struct fixture *f = *state;
	char err[256];
	/* a Healthz reply is not a valid ClassifyRequest: field 1 is a bool there */
	Routerd__Dpi__V1__ClassifierStats junk = ROUTERD__DPI__V1__CLASSIFIER_STATS__INIT;
	junk.requests = 5; /* field 1 varint, but ClassifyRequest.packet is bytes */
	assert_int_equal(
	    rdpi_rpc_client_call(f->cl, "Classify", &junk.base, NULL, 1000, NULL, err, sizeof(err)),
	    RDPI_STATUS_INVALID_ARGUMENT);
	assert_non_null(strstr(err, "cannot decode Classify request"));
}

struct par_arg {
	struct rdpi_rpc_client *cl;
	int ok;
	uint32_t port;
};

static void *par_batch(void *arg)
{
	struct par_arg *a = arg;
	Routerd__Dpi__V1__ClassifyRequest r = ROUTERD__DPI__V1__CLASSIFY_REQUEST__INIT;
	r.srcport = a->port;
	Routerd__Dpi__V1__ClassifyRequest *rs[1] = {&r};
	Routerd__Dpi__V1__ClassifyBatchRequest b = ROUTERD__DPI__V1__CLASSIFY_BATCH_REQUEST__INIT;
	b.requests = rs;
	b.n_requests = 1;
	ProtobufCMessage *m = NULL;
	char err[256];
	if (rdpi_rpc_client_call(a->cl, "ClassifyBatch", &b.base,
				 &routerd__dpi__v1__classify_batch_reply__descriptor, 5000, &m, err,
				 sizeof(err)) == RDPI_STATUS_OK) {
		Routerd__Dpi__V1__ClassifyBatchReply *rep = (void *)m;
		a->ok = rep->n_results == 1 && rep->results[0]->srcport == a->port;
		protobuf_c_message_free_unpacked(m, NULL);
	}
	return NULL;
}

/* 24 async calls that each take 100 ms finish together, not one after another. */
static void test_rpc_many_in_flight(void **state)
{
	struct fixture *f = *state;
	enum { N = 24 };
	pthread_t th[N];
	struct par_arg a[N];
	uint64_t t0 = rdpi_monotonic_ns();
	for (int i = 0; i < N; i++) {
		a[i] = (struct par_arg){.cl = f->cl, .port = 1000 + (uint32_t)i};
		pthread_create(&th[i], NULL, par_batch, &a[i]);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	uint64_t el = ms_since(t0);
	for (int i = 0; i < N; i++)
		assert_true(a[i].ok);
	print_message("24 concurrent 100 ms calls took %llu ms\n", (unsigned long long)el);
	assert_true(el < 1200); /* sequential would be 2400 ms */
}

struct slow_arg {
	struct rdpi_rpc_client *cl;
	enum rdpi_status st;
};

static void *slow_status(void *arg)
{
	struct slow_arg *a = arg;
	Routerd__Dpi__V1__Empty e = ROUTERD__DPI__V1__EMPTY__INIT;
	ProtobufCMessage *m = NULL;
	a->st = rdpi_rpc_client_call(a->cl, "Status", &e.base,
				     &routerd__dpi__v1__classifier_status__descriptor, 5000, &m,
				     NULL, 0);
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
	return NULL;
}

/* A handler that blocks does not hold up other requests: a Classify sent while the slow
 * Status handler sleeps runs meanwhile (an ordering check, not a timing one, so a loaded
 * machine cannot fail it). */
static void test_rpc_slow_handler_does_not_block(void **state)
{
	struct fixture *f = *state;
	status_sleep_ms = 800;
	struct slow_arg a = {.cl = f->cl};
	pthread_t th;
	int started = atomic_load(&status_started);
	pthread_create(&th, NULL, slow_status, &a);
	for (int i = 0; i < 500 && atomic_load(&status_started) == started; i++)
		usleep(10000);
	atomic_store(&classify_during_status, 0);
	uint64_t t0 = rdpi_monotonic_ns();
	Routerd__Dpi__V1__ClassifyResult *res = NULL;
	assert_int_equal(call_classify(f->cl, 1, 1000, &res, NULL, 0), RDPI_STATUS_OK);
	uint64_t el = ms_since(t0);
	protobuf_c_message_free_unpacked(&res->base, NULL);
	print_message("classify during an 800 ms handler took %llu ms\n", (unsigned long long)el);
	assert_true(atomic_load(&classify_during_status));
	pthread_join(th, NULL);
	assert_int_equal(a.st, RDPI_STATUS_OK);
	status_sleep_ms = 0;
}

static void test_rpc_client_deadline(void **state)
{
	struct fixture *f = *state;
	status_sleep_ms = 600;
	Routerd__Dpi__V1__Empty e = ROUTERD__DPI__V1__EMPTY__INIT;
	char err[256];
	uint64_t t0 = rdpi_monotonic_ns();
	enum rdpi_status st = rdpi_rpc_client_call(f->cl, "Status", &e.base,
						   &routerd__dpi__v1__classifier_status__descriptor,
						   100, NULL, err, sizeof(err));
	uint64_t el = ms_since(t0);
	assert_int_equal(st, RDPI_STATUS_DEADLINE_EXCEEDED);
	assert_true(el >= 90 && el < 400);
	usleep(700000); /* let the slow handler drain before teardown */
	status_sleep_ms = 0;
	struct rdpi_service_stats ss;
	rdpi_service_stats(f->svc, &ss);
	assert_true(ss.deadline_exceeded >= 1);
}

/* Raw NNG request helper: send bytes, return the reply bytes (malloc'd). */
static int raw_request(const void *data, size_t len, int timeout_ms, char **ret, size_t *ret_len)
{
	nng_socket s;
	int rv = nng_req0_open(&s);
	if (rv)
		return rv;
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, timeout_ms);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, timeout_ms);
	if ((rv = nng_dial(s, url, NULL, 0)) == 0 &&
	    (rv = nng_send(s, (void *)data, len, 0)) == 0) {
		char *buf = NULL;
		size_t n = 0;
		if ((rv = nng_recv(s, &buf, &n, NNG_FLAG_ALLOC)) == 0) {
			*ret = malloc(n + 1);
			memcpy(*ret, buf, n);
			(*ret)[n] = '\0';
			*ret_len = n;
			nng_free(buf, n);
		}
	}
	nng_close(s);
	return rv;
}

static void test_rpc_server_deadline(void **state)
{
	status_sleep_ms = 400;
	const char *q = "{\"method\":\"Status\",\"timeoutMs\":50}";
	char *rep = NULL;
	size_t n = 0;
	uint64_t t0 = rdpi_monotonic_ns();
	assert_int_equal(raw_request(q, strlen(q), 2000, &rep, &n), 0);
	assert_true(ms_since(t0) < 300);
	assert_non_null(strstr(rep, "\"status\":\"DEADLINE_EXCEEDED\""));
	free(rep);
	usleep(450000);
	status_sleep_ms = 0;
}

static void test_rpc_json_mode(void **state)
{
	const char *q = "{\"method\":\"Classify\",\"body\":{\"srcAddress\":\"192.0.2.10\","
			"\"srcPort\":53168,\"unknownKey\":1}}";
	char *rep = NULL;
	size_t n = 0;
	assert_int_equal(raw_request(q, strlen(q), 2000, &rep, &n), 0);
	assert_non_null(strstr(rep, "\"status\":\"OK\""));
	assert_non_null(strstr(rep, "\"tlsSNI\":\"echo-53168.example\""));
	assert_non_null(strstr(rep, "\"srcAddress\":\"192.0.2.10\""));
	assert_non_null(strstr(rep, "\"engine\":\"builtin\""));
	free(rep);

	q = "{\"method\":\"Classify\",\"body\":{\"srcPort\":\"x\"}}";
	assert_int_equal(raw_request(q, strlen(q), 2000, &rep, &n), 0);
	assert_non_null(strstr(rep, "\"status\":\"INVALID_ARGUMENT\""));
	assert_non_null(strstr(rep, "srcPort"));
	free(rep);

	q = "{\"method\":";
	assert_int_equal(raw_request(q, strlen(q), 2000, &rep, &n), 0);
	assert_non_null(strstr(rep, "\"status\":\"INVALID_ARGUMENT\""));
	assert_non_null(strstr(rep, "bad JSON envelope"));
	free(rep);

	q = "{\"method\":\"Nope\"}";
	assert_int_equal(raw_request(q, strlen(q), 2000, &rep, &n), 0);
	assert_non_null(strstr(rep, "\"status\":\"NOT_FOUND\""));
	free(rep);
}

static void test_rpc_nngcat(void **state)
{
	if (access("/usr/bin/nngcat", X_OK) != 0) {
		print_message("SKIP: nngcat not installed (package nng-utils)\n");
		skip();
	}
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "nngcat --req --dial '%s' --data '{\"method\":\"Status\"}' --ascii "
		 "--recv-timeout 5 2>&1",
		 url);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char out[4096] = {0};
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	int rc = pclose(p);
	print_message("nngcat: %s", out);
	assert_int_equal(WEXITSTATUS(rc), 0);
	assert_non_null(strstr(out, "\"status\":\"OK\""));
	assert_non_null(strstr(out, "\"ok\":true"));
	assert_non_null(strstr(out, "\"name\":\"test\""));
	/* legacy status keys are always present, even when zero */
	assert_non_null(strstr(out, "\"activeEngine\":\"\""));
}

static void test_rpc_ipc_socket_mode(void **state)
{
	struct stat st;
	assert_int_equal(stat(url + strlen("ipc://"), &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
}

static void test_rpc_unavailable_without_server(void **state)
{
	char u[160];
	snprintf(u, sizeof(u), "ipc://%s/nobody.ipc", tmpdir);
	struct rdpi_rpc_client *cl = NULL;
	assert_int_equal(rdpi_rpc_client_new(u, NULL, &cl), 0);
	char err[256];
	uint64_t t0 = rdpi_monotonic_ns();
	Routerd__Dpi__V1__Empty e = ROUTERD__DPI__V1__EMPTY__INIT;
	assert_int_equal(
	    rdpi_rpc_client_call(cl, "Status", &e.base, NULL, 2000, NULL, err, sizeof(err)),
	    RDPI_STATUS_UNAVAILABLE);
	assert_true(ms_since(t0) < 100);
	assert_non_null(strstr(err, "not connected"));
	rdpi_rpc_client_free(cl);
}

/* The server goes away and comes back: calls fail fast, then work again. */
static void test_rpc_redial(void **state)
{
	struct fixture *f = *state;
	Routerd__Dpi__V1__ClassifyResult *res = NULL;
	assert_int_equal(call_classify(f->cl, 7, 1000, &res, NULL, 0), RDPI_STATUS_OK);
	protobuf_c_message_free_unpacked(&res->base, NULL);
	stop_server(f);
	/* until nng has told the client its pipe is gone (not a fixed 50 ms: load delays it) */
	for (int i = 0; i < 500 && rdpi_rpc_client_connected(f->cl); i++)
		usleep(10000);
	assert_false(rdpi_rpc_client_connected(f->cl));
	uint64_t t0 = rdpi_monotonic_ns();
	assert_int_equal(call_classify(f->cl, 7, 1000, &res, NULL, 0), RDPI_STATUS_UNAVAILABLE);
	assert_true(ms_since(t0) < 100);
	assert_int_equal(start_server(f, 0), 0);
	enum rdpi_status st = RDPI_STATUS_UNAVAILABLE;
	for (int i = 0; i < 100 && st != RDPI_STATUS_OK; i++) {
		usleep(20000);
		st = call_classify(f->cl, 8, 1000, &res, NULL, 0);
	}
	assert_int_equal(st, RDPI_STATUS_OK);
	protobuf_c_message_free_unpacked(&res->base, NULL);
}

static void test_rpc_oversized_rejected(void **state)
{
	struct fixture *f = *state;
	/* client side: refused before sending */
	struct rdpi_rpc_client *small = NULL;
	struct rdpi_rpc_client_opts o = {.max_msg = 1024};
	assert_int_equal(rdpi_rpc_client_new(url, &o, &small), 0);
	static uint8_t big[8192];
	Routerd__Dpi__V1__ClassifyRequest req = ROUTERD__DPI__V1__CLASSIFY_REQUEST__INIT;
	req.packet.data = big;
	req.packet.len = sizeof(big);
	char err[256];
	assert_int_equal(
	    rdpi_rpc_client_call(small, "Classify", &req.base, NULL, 1000, NULL, err, sizeof(err)),
	    RDPI_STATUS_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(err, "exceeds"));
	rdpi_rpc_client_free(small);

	/* server side: a server with a 1 KiB limit drops the oversized request
	 * and keeps serving */
	stop_server(f);
	next_url();
	assert_int_equal(start_server(f, 1024), 0);
	struct rdpi_rpc_client *cl = NULL;
	assert_int_equal(rdpi_rpc_client_new(url, NULL, &cl), 0);
	uint64_t t0 = rdpi_monotonic_ns();
	enum rdpi_status st =
	    rdpi_rpc_client_call(cl, "Classify", &req.base, NULL, 500, NULL, err, sizeof(err));
	assert_true(st == RDPI_STATUS_UNAVAILABLE || st == RDPI_STATUS_DEADLINE_EXCEEDED);
	assert_true(ms_since(t0) < 800);
	Routerd__Dpi__V1__ClassifyResult *res = NULL;
	st = RDPI_STATUS_UNAVAILABLE;
	for (int i = 0; i < 100 && st != RDPI_STATUS_OK; i++) {
		st = call_classify(cl, 9, 1000, &res, NULL, 0);
		if (st != RDPI_STATUS_OK)
			usleep(20000);
	}
	assert_int_equal(st, RDPI_STATUS_OK);
	protobuf_c_message_free_unpacked(&res->base, NULL);
	rdpi_rpc_client_free(cl);
}

/* A real server process is SIGKILLed mid-call: the caller gets UNAVAILABLE
 * well before its deadline. */
static void test_rpc_server_killed_mid_call(void **state)
{
	char u[160];
	snprintf(u, sizeof(u), "ipc://%s/killed.ipc", tmpdir);
	/* nng is not fork-safe: the server is this binary re-executed */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/proc/self/exe", "test_rpc", "--serve-slow", u, (char *)NULL);
		_exit(127);
	}
	struct rdpi_rpc_client *cl = NULL;
	assert_int_equal(rdpi_rpc_client_new(u, NULL, &cl), 0);
	for (int i = 0; i < 200 && !rdpi_rpc_client_connected(cl); i++)
		usleep(10000);
	assert_true(rdpi_rpc_client_connected(cl));
	struct slow_arg a = {.cl = cl};
	pthread_t th;
	uint64_t t0 = rdpi_monotonic_ns();
	pthread_create(&th, NULL, slow_status, &a); /* 5 s deadline, handler sleeps 10 s */
	usleep(200000);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	pthread_join(th, NULL);
	uint64_t el = ms_since(t0);
	print_message("call to killed server ended after %llu ms\n", (unsigned long long)el);
	assert_int_equal(a.st, RDPI_STATUS_UNAVAILABLE);
	assert_true(el < 1500);
	rdpi_rpc_client_free(cl);
}

static void test_rpc_envelope_parse(void **state)
{
	struct rdpi_rpc_envelope env;
	char err[256];
	const char *j = "{\"method\":\"Status\",\"timeoutMs\":25,\"body\":{\"a\":1}}";
	assert_int_equal(
	    rdpi_rpc_envelope_parse((const uint8_t *)j, strlen(j), &env, err, sizeof(err)), 0);
	assert_true(env.json);
	assert_string_equal(env.method, "Status");
	assert_int_equal(env.timeout_ms, 25);
	assert_string_equal(env.json_body, "{\"a\":1}");
	rdpi_rpc_envelope_fini(&env);

	const char *bad[] = {"{}",
			     "{\"method\":1}",
			     "{\"method\":\"\"}",
			     "[1]",
			     "{\"method\":\"S\",\"body\":[]}",
			     "{\"method\":\"S\",\"timeoutMs\":-1}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rdpi_rpc_envelope_parse((const uint8_t *)bad[i], strlen(bad[i]),
							 &env, err, sizeof(err)),
				 -EINVAL);

	Routerd__Dpi__V1__Request r = ROUTERD__DPI__V1__REQUEST__INIT;
	r.method = "ClassifyBatch";
	r.timeoutms = 200;
	uint8_t body[3] = {1, 2, 3};
	r.body.data = body;
	r.body.len = 3;
	uint8_t buf[64];
	size_t n = routerd__dpi__v1__request__pack(&r, buf);
	assert_int_not_equal(buf[0], '{');
	assert_int_equal(rdpi_rpc_envelope_parse(buf, n, &env, err, sizeof(err)), 0);
	assert_false(env.json);
	assert_string_equal(env.method, "ClassifyBatch");
	assert_int_equal(env.timeout_ms, 200);
	assert_int_equal(env.body_len, 3);
	assert_memory_equal(env.body, body, 3);
	rdpi_rpc_envelope_fini(&env);

	assert_int_equal(rdpi_rpc_envelope_parse(buf, 0, &env, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no method"));
	uint8_t junk[] = {0xff, 0xff, 0xff};
	assert_int_equal(rdpi_rpc_envelope_parse(junk, sizeof(junk), &env, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "malformed"));
}

/* Service level: a full queue answers RESOURCE_EXHAUSTED instead of waiting. */
static void test_rpc_queue_full(void **state)
{
	struct fixture *f = *state;
	struct rdpi_service *svc = NULL;
	struct rdpi_service_opts so = {.desc = &routerd__dpi__v1__classifier__descriptor,
				       .handlers = handlers,
				       .workers = 1,
				       .queue_limit = 1};
	assert_int_equal(rdpi_service_new(&so, &svc), 0);
	status_sleep_ms = 300;
	struct rdpi_call *c[3];
	static atomic_int done;
	atomic_store(&done, 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rdpi_call_new(svc, "Status", &c[i]), 0);
		assert_int_equal(rdpi_call_decode_json(c[i], "{}", 2), 0);
	}
	/* first runs, second waits in the queue, third is refused at once */
	int started = atomic_load(&status_started);
	rdpi_call_start(c[0], 2000, NULL, NULL);
	/* until the worker has taken the first one off the queue (not a fixed 50 ms: load
	 * delays the worker) */
	for (int i = 0; i < 500 && atomic_load(&status_started) == started; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&status_started), started + 1);
	rdpi_call_start(c[1], 2000, NULL, NULL);
	rdpi_call_start(c[2], 2000, NULL, NULL);
	assert_int_equal(rdpi_call_status(c[2]), RDPI_STATUS_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(rdpi_call_error(c[2]), "queue is full"));
	rdpi_service_free(svc); /* drains the queue */
	assert_int_equal(rdpi_call_status(c[0]), RDPI_STATUS_OK);
	assert_int_equal(rdpi_call_status(c[1]), RDPI_STATUS_OK);
	for (int i = 0; i < 3; i++)
		rdpi_call_free(c[i]);
	status_sleep_ms = 0;
	assert_int_equal(rdpi_call_new(f->svc, "NoSuch", &c[0]), -ENOENT);
}

static int group_setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/rdpi-rpc-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	pthread_create(&finisher, NULL, finisher_main, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	pthread_mutex_lock(&pend_lock);
	pend_stop = 1;
	pthread_cond_signal(&pend_cond);
	pthread_mutex_unlock(&pend_lock);
	pthread_join(finisher, NULL);
	rdpi_rpc_fini();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* run_inline: handlers run on the transport's thread; deadlines still hold. */
static void test_rpc_inline_handlers(void **state)
{
	struct fixture f = {0};
	next_url();
	struct rdpi_service_opts so = {.desc = &routerd__dpi__v1__classifier__descriptor,
				       .handlers = handlers,
				       .run_inline = true,
				       .json_opts = rdpi_wire_json_opts()};
	assert_int_equal(rdpi_service_new(&so, &f.svc), 0);
	struct rdpi_rpc_server_opts ro = {.url = url, .svc = f.svc};
	assert_int_equal(rdpi_rpc_server_start(&ro, &f.srv), 0);
	assert_int_equal(rdpi_rpc_client_new(url, NULL, &f.cl), 0);
	Routerd__Dpi__V1__ClassifyResult *res = NULL;
	assert_int_equal(call_classify(f.cl, 4242, 1000, &res, NULL, 0), RDPI_STATUS_OK);
	assert_string_equal(res->tlssni, "echo-4242.example");
	protobuf_c_message_free_unpacked(&res->base, NULL);
	/* the async batch handler finishes after 2 s: a 30 ms budget expires long before (2 s,
	 * not 100 ms, so that a loaded machine cannot make the budget look ignored) */
	batch_delay_ms = 2000;
	Routerd__Dpi__V1__ClassifyBatchRequest b = ROUTERD__DPI__V1__CLASSIFY_BATCH_REQUEST__INIT;
	uint64_t t0 = rdpi_monotonic_ns();
	assert_int_equal(
	    rdpi_rpc_client_call(f.cl, "ClassifyBatch", &b.base, NULL, 30, NULL, NULL, 0),
	    RDPI_STATUS_DEADLINE_EXCEEDED);
	uint64_t el = ms_since(t0);
	batch_delay_ms = 100;
	print_message("30 ms budget on a 2 s handler: %llu ms\n", (unsigned long long)el);
	assert_true(el < 1000);
	/* the server side settles the call at its deadline too, and answers it (late) */
	struct rdpi_service_stats ss;
	struct rdpi_rpc_server_stats rs;
	for (int i = 0; i < 500; i++) {
		rdpi_service_stats(f.svc, &ss);
		rdpi_rpc_server_stats(f.srv, &rs);
		if (ss.in_flight == 0 && rs.replies >= 2)
			break;
		usleep(10000);
	}
	assert_int_equal(ss.in_flight, 0);
	/* let that late answer reach the client before it closes: libnng 1.5's nng_close can
	 * hang for good on a reply still in transit (nanomsg/nng#1543) */
	usleep(150000);
	rdpi_rpc_client_free(f.cl);
	stop_server(&f);
}

/* Child mode for the kill test: serve with a Status handler that sleeps 10 s. */
static int serve_slow(const char *u)
{
	status_sleep_ms = 10000;
	struct rdpi_service *svc = NULL;
	struct rdpi_service_opts so = {.desc = &routerd__dpi__v1__classifier__descriptor,
				       .handlers = handlers,
				       .max_timeout_ms = 60000};
	struct rdpi_rpc_server *srv = NULL;
	struct rdpi_rpc_server_opts ro = {.url = u};
	if (rdpi_service_new(&so, &svc) < 0)
		return 1;
	ro.svc = svc;
	if (rdpi_rpc_server_start(&ro, &srv) < 0)
		return 1;
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && strcmp(argv[1], "--serve-slow") == 0)
		return serve_slow(argv[2]);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rpc_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rpc_handler_error_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rpc_unknown_method, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rpc_bad_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rpc_many_in_flight, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rpc_slow_handler_does_not_block, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rpc_client_deadline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rpc_server_deadline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rpc_json_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rpc_nngcat, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rpc_ipc_socket_mode, setup, teardown),
	    cmocka_unit_test(test_rpc_unavailable_without_server),
	    cmocka_unit_test_setup_teardown(test_rpc_redial, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rpc_oversized_rejected, setup, teardown),
	    cmocka_unit_test(test_rpc_server_killed_mid_call),
	    cmocka_unit_test(test_rpc_envelope_parse),
	    cmocka_unit_test(test_rpc_inline_handlers),
	    cmocka_unit_test_setup_teardown(test_rpc_queue_full, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

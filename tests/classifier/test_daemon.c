/* Integration tests of the shipped routerd-dpi-classifier binary: real
 * daemon processes on scratch sockets, curl --unix-socket, nngcat, and a fake
 * agent (a real NNG Agent service in this process) for the fallback,
 * timeout, merge and circuit-breaker cases. */
#include <errno.h>
#include <fcntl.h>
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

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "common/rpc.h"
#include "common/service.h"
#include "common/synth.h"
#include "common/wire.h"
#include "routerd/dpi/v1/agent.pb-c.h"
#include "routerd/dpi/v1/classifier.pb-c.h"
#include "testutil.h"

static char bin[512];
static char dir[64];
static unsigned seq;

/* ---- process helpers ------------------------------------------------------ */

/* Run a shell command, capture stdout (and stderr when merge), return exit code. */
struct daemon {
	pid_t pid;
	char sock[160];
	char ipc[200];
};

/* Start the daemon with extra flags (NULL-terminated). */
static int daemon_start(struct daemon *d, const char *const *extra)
{
	unsigned n = seq++;
	snprintf(d->sock, sizeof(d->sock), "%s/c%u.sock", dir, n);
	snprintf(d->ipc, sizeof(d->ipc), "ipc://%s/c%u.ipc", dir, n);
	/* no --config: defaults (CI machines have no /etc/routerd/dpi.conf) */
	const char *argv[32] = {bin, "daemon", "--socket", d->sock, "--ipc", d->ipc};
	int a = 6;
	for (int i = 0; extra && extra[i] && a < 30; i++)
		argv[a++] = extra[i];
	argv[a] = NULL;
	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (d->pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 2);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	return tu_wait_for_socket(d->sock, 0, 20000); /* ASan on a loaded machine: seconds */
}

static void daemon_stop(struct daemon *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		waitpid(d->pid, NULL, 0);
	}
	d->pid = 0;
}

static int curl(const struct daemon *d, const char *method, const char *path, const char *body,
		char *out, size_t outlen, int *ret_code)
{
	char tmp[8192];
	int rc =
	    tu_run(tmp, sizeof(tmp),
		"curl -s -X %s --unix-socket '%s' -w '\\n%%{http_code}' %s%s%s "
		"'http://unix%s'",
		method, d->sock, body ? "-H 'Content-Type: application/json' --data-binary '" : "",
		body ? body : "", body ? "'" : "", path);
	char *nl = strrchr(tmp, '\n');
	if (rc != 0 || !nl)
		return -1;
	*ret_code = atoi(nl + 1);
	*nl = '\0';
	snprintf(out, outlen, "%s", tmp);
	return 0;
}

/* GET /v1/status until it contains want (20 s and more; fails the test otherwise), its last
 * answer in out: the agent's libndpi state there comes from a Status probe, which a loaded
 * machine can make miss its deadline (it is repeated after 1 s). */
static void status_until(const struct daemon *d, const char *want, char *out, size_t outlen)
{
	int code = 0;
	for (int i = 0; i < 200; i++) {
		assert_int_equal(curl(d, "GET", "/v1/status", NULL, out, outlen, &code), 0);
		assert_int_equal(code, 200);
		if (strstr(out, want))
			return;
		usleep(100000);
	}
	fail_msg("/v1/status never contained %s; last answer: %s", want, out);
}

static char *b64(const uint8_t *p, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = malloc(n / 3 * 4 + 8), *q = o;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		*q++ = t[v >> 18 & 63];
		*q++ = t[v >> 12 & 63];
		*q++ = i + 1 < n ? t[v >> 6 & 63] : '=';
		*q++ = i + 2 < n ? t[v & 63] : '=';
	}
	*q = '\0';
	return o;
}

/* A ClassifyRequest JSON for a TLS ClientHello from a client port. */
static char *tls_request(const char *sni, uint16_t sport)
{
	uint8_t hello[1024], pkt[1500];
	size_t hl = rdpi_synth_client_hello(sni, NULL, hello, sizeof(hello));
	size_t pl = rdpi_synth_tcp_packet("192.0.2.10", sport, "198.51.100.10", 443, 1, hello, hl,
					  pkt, sizeof(pkt));
	char *enc = b64(pkt, pl);
	char *json = malloc(strlen(enc) + 64);
	sprintf(json, "{\"packet\":\"%s\"}", enc);
	free(enc);
	return json;
}

/* ---- fake agent ----------------------------------------------------------------- */

enum fake_mode { FAKE_RESULT, FAKE_UNKNOWN, FAKE_SLOW, FAKE_ERROR };
static _Atomic int fake_mode;
static atomic_int fake_calls;
static _Atomic int fake_libndpi = 1;

static enum rdpi_status fa_observe(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				   ProtobufCMessage *reply)
{
	return RDPI_STATUS_INTERNAL;
}

static enum rdpi_status fa_batch(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				 ProtobufCMessage *reply)
{
	const Routerd__Dpi__V1__ObserveBatchRequest *b = (const void *)req;
	Routerd__Dpi__V1__ObserveBatchReply *rep = (void *)reply;
	atomic_fetch_add(&fake_calls, 1);
	int mode = atomic_load(&fake_mode);
	if (mode == FAKE_SLOW) {
		usleep(600000);
	}
	if (mode == FAKE_ERROR) {
		rdpi_call_set_error(call, "fake agent failure");
		return RDPI_STATUS_INTERNAL;
	}
	rep->results = rdpi_call_alloc(call, (b->n_requests + 1) * sizeof(*rep->results));
	for (size_t i = 0; i < b->n_requests; i++) {
		Routerd__Dpi__V1__ClassifyResult *r = rdpi_call_alloc(call, sizeof(*r));
		routerd__dpi__v1__classify_result__init(r);
		r->engine = "ndpi-agent";
		r->source = "ndpi-agent";
		if (mode == FAKE_UNKNOWN) {
			r->appname = "unknown";
		} else {
			r->appname = "YouTube";
			r->appcategory = "Media";
			r->masterprotocol = "TLS";
			r->applicationprotocol = "YouTube";
			r->detectedprotocol = "TLS.YouTube";
			r->appconfidence = 95;
			r->confidence = "DPI";
			r->final = 1;
		}
		rep->results[i] = r;
	}
	rep->n_results = b->n_requests;
	return RDPI_STATUS_OK;
}

static enum rdpi_status fa_reset(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				 ProtobufCMessage *reply)
{
	return RDPI_STATUS_OK;
}

/* Status calls the fake agent has answered, when (monotonic ns) the first two came, and how
 * many of the first ones it answers late (after the classifier's probe deadline). */
static atomic_int fake_status_calls;
static _Atomic uint64_t fake_status_at[2];
static atomic_int fake_status_slow;

static enum rdpi_status fa_status(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				  ProtobufCMessage *reply)
{
	Routerd__Dpi__V1__AgentStatus *s = (void *)reply;
	int n = atomic_fetch_add(&fake_status_calls, 1);
	if (n < 2)
		atomic_store(&fake_status_at[n], rdpi_monotonic_ns());
	if (n < atomic_load(&fake_status_slow))
		usleep(800000);
	s->ok = atomic_load(&fake_libndpi);
	s->libndpiloaded = atomic_load(&fake_libndpi);
	s->reason = s->libndpiloaded ? "" : "libndpi backend is not enabled in this build";
	return RDPI_STATUS_OK;
}

static enum rdpi_status fa_healthz(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				   ProtobufCMessage *reply)
{
	((Routerd__Dpi__V1__HealthzReply *)reply)->ok = 1;
	return RDPI_STATUS_OK;
}

static const rdpi_method_fn fa_handlers[] = {fa_observe, fa_batch, fa_reset, fa_status, fa_healthz};

struct fake_agent {
	struct rdpi_service *svc;
	struct rdpi_rpc_server *srv;
	char sock[160]; /* the .sock path the classifier is given; .ipc is served */
};

static void fake_start(struct fake_agent *f)
{
	unsigned n = seq++;
	snprintf(f->sock, sizeof(f->sock), "%s/agent%u.sock", dir, n);
	char url[200];
	snprintf(url, sizeof(url), "ipc://%s/agent%u.ipc", dir, n);
	struct rdpi_service_opts so = {
	    .desc = &routerd__dpi__v1__agent__descriptor, .handlers = fa_handlers, .workers = 4};
	assert_int_equal(rdpi_service_new(&so, &f->svc), 0);
	struct rdpi_rpc_server_opts ro = {.url = url, .svc = f->svc};
	assert_int_equal(rdpi_rpc_server_start(&ro, &f->srv), 0);
	atomic_store(&fake_calls, 0);
	atomic_store(&fake_mode, FAKE_RESULT);
	atomic_store(&fake_libndpi, 1);
	atomic_store(&fake_status_calls, 0);
	atomic_store(&fake_status_slow, 0);
}

static void fake_stop(struct fake_agent *f)
{
	rdpi_rpc_server_stop(f->srv);
	rdpi_service_free(f->svc);
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_daemon_selftest(void **state)
{
	char out[8192];
	assert_int_equal(tu_run(out, sizeof(out), "'%s' selftest", bin), 0);
	print_message("%s", out);
	assert_non_null(strstr(out, "\"appName\":\"tls\""));
	assert_non_null(strstr(out, "\"tlsSNI\":\"routerd-dpi-selftest.example\""));
	assert_non_null(strstr(out, "\"source\":\"builtin-payload\""));
	assert_non_null(strstr(out, "\"reason\":\"tls_client_hello_sni\""));
	assert_non_null(strstr(out, "\"engine\":\"builtin\""));
	assert_non_null(strstr(out, "\"srcAddress\":\"192.0.2.10\""));
	assert_non_null(strstr(out, "\"srcPort\":53168"));
	assert_non_null(strstr(out, "\"dstAddress\":\"198.51.100.10\""));
	assert_non_null(strstr(out, "\"dstPort\":443"));
	assert_non_null(strstr(out, "\"tls.sni\":\"routerd-dpi-selftest.example\""));
}

static void test_daemon_ndpi_reader_has_no_effect(void **state)
{
	char a[8192], b[8192];
	assert_int_equal(tu_run(a, sizeof(a), "'%s' selftest", bin), 0);
	assert_int_equal(tu_run(b, sizeof(b), "'%s' selftest --ndpi-reader /usr/bin/ndpiReader", bin),
			 0);
	assert_string_equal(a, b);
}

static void test_daemon_classify_reads_json(void **state)
{
	const char *http = "GET /x HTTP/1.1\r\nHost: Example.ORG:8080\r\nUser-Agent: t\r\n\r\n";
	char *enc = b64((const uint8_t *)http, strlen(http));
	char out[8192];
	assert_int_equal(tu_run(out, sizeof(out),
			     "echo '{\"transportProtocol\":\"tcp\",\"srcAddress\":\"192.0.2.1\","
			     "\"srcPort\":40000,\"dstAddress\":\"198.51.100.2\",\"dstPort\":8080,"
			     "\"l4Payload\":\"%s\"}' | '%s' classify",
			     enc, bin),
			 0);
	free(enc);
	assert_non_null(strstr(out, "\"appName\":\"http\""));
	assert_non_null(strstr(out, "\"httpHost\":\"example.org\""));
	assert_non_null(strstr(out, "\"reason\":\"http_host\""));

	/* bad JSON is an error naming the problem, exit 1 */
	assert_int_equal(
	    tu_run(out, sizeof(out), "echo '{\"srcPort\":\"x\"}' | '%s' classify 2>&1", bin), 1);
	assert_non_null(strstr(out, "srcPort"));
}

static void test_daemon_unsupported_engine(void **state)
{
	char out[2048];
	assert_int_equal(tu_run(out, sizeof(out), "'%s' --engine foo --check-config 2>&1", bin), 1);
	assert_non_null(strstr(out, "unsupported engine \"foo\""));
	assert_int_equal(tu_run(out, sizeof(out), "'%s' --engine ' AUTO ' --check-config 2>&1", bin),
			 0);
	assert_int_equal(tu_run(out, sizeof(out), "'%s' help", bin), 0);
	assert_non_null(strstr(out, "--ndpi-agent-socket"));
}

static void test_daemon_serves_socket_and_counts(void **state)
{
	struct daemon d = {0};
	assert_int_equal(daemon_start(&d, NULL), 0);
	struct stat st;
	assert_int_equal(stat(d.sock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	char out[8192];
	int code = 0;
	assert_int_equal(curl(&d, "GET", "/v1/healthz", NULL, out, sizeof(out), &code), 0);
	assert_int_equal(code, 200);
	assert_non_null(strstr(out, "\"ok\":true"));

	char *req = tls_request("www.example.com", 40001);
	assert_int_equal(curl(&d, "POST", "/v1/classify", req, out, sizeof(out), &code), 0);
	free(req);
	assert_int_equal(code, 200);
	assert_non_null(strstr(out, "\"tlsSNI\":\"www.example.com\""));

	assert_int_equal(curl(&d, "GET", "/v1/status", NULL, out, sizeof(out), &code), 0);
	assert_int_equal(code, 200);
	print_message("%s\n", out);
	const char *keys[] = {"\"ok\":true",
			      "\"name\":\"default\"",
			      "\"version\":",
			      "\"engine\":\"builtin\"",
			      "\"activeEngine\":\"builtin\"",
			      "\"mode\":",
			      "\"agent\":{",
			      "\"socket\":",
			      "\"available\":false",
			      "\"libndpiLoaded\":false",
			      "\"stats\":{",
			      "\"requests\":1",
			      "\"builtinPackets\":1",
			      "\"agentPackets\":0",
			      "\"agentClassified\":0",
			      "\"builtinClassified\":1",
			      "\"fallbacks\":0",
			      "\"unknown\":0",
			      "\"timeoutErrors\":0",
			      "\"agentErrors\":0",
			      "\"latencySamples\":1",
			      "\"averageLatencyMs\":",
			      "\"maxLatencyMs\":"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!strstr(out, keys[i]))
			fail_msg("status lacks %s", keys[i]);
	}
	assert_null(strstr(out, "ndpiTool"));

	assert_int_equal(curl(&d, "POST", "/v1/classify", "{\"srcPort\":", out, sizeof(out), &code),
			 0);
	assert_int_equal(code, 400);
	assert_int_equal(curl(&d, "GET", "/v1/classify", NULL, out, sizeof(out), &code), 0);
	assert_int_equal(code, 405);
	assert_int_equal(curl(&d, "GET", "/v1/nothing", NULL, out, sizeof(out), &code), 0);
	assert_int_equal(code, 404);
	assert_int_equal(curl(&d, "GET", "/metrics", NULL, out, sizeof(out), &code), 0);
	assert_int_equal(code, 200);
	assert_non_null(strstr(out, "routerd_dpi_classifier_requests_total 1\n"));
	assert_non_null(
	    strstr(out, "routerd_dpi_classifier_results_total{source=\"builtin-payload\"} 1\n"));
	assert_non_null(strstr(out, "# TYPE routerd_dpi_classifier_active_flows gauge"));
	assert_non_null(strstr(out, "routerd_dpi_classifier_sni_cache_entries 1\n"));
	assert_non_null(strstr(out, "routerd_dpi_classifier_dns_cache_entries 0\n"));

	if (access("/usr/bin/nngcat", X_OK) == 0) {
		assert_int_equal(tu_run(out, sizeof(out),
				     "nngcat --req --dial '%s' --data '{\"method\":\"Status\"}' "
				     "--ascii --recv-timeout 5",
				     d.ipc),
				 0);
		assert_non_null(strstr(out, "\"status\":\"OK\""));
		assert_non_null(strstr(out, "\"activeEngine\":\"builtin\""));
	} else {
		print_message("SKIP nngcat part: nngcat not installed (package nng-utils)\n");
	}
	daemon_stop(&d);
}

/* ClassifyBatch over the real NNG endpoint: results in order, a bad packet
 * answered alone without failing the batch. */
static void test_daemon_batch_over_nng(void **state)
{
	struct daemon d = {0};
	assert_int_equal(daemon_start(&d, NULL), 0);
	struct rdpi_rpc_client *cl = NULL;
	assert_int_equal(rdpi_rpc_client_new(d.ipc, NULL, &cl), 0);
	uint8_t hello[1024], pkt[3][1500];
	size_t hl = rdpi_synth_client_hello("batch.example", NULL, hello, sizeof(hello));
	Routerd__Dpi__V1__ClassifyRequest r[3], *rp[3];
	for (int i = 0; i < 3; i++) {
		routerd__dpi__v1__classify_request__init(&r[i]);
		rp[i] = &r[i];
	}
	r[0].packet.len = rdpi_synth_tcp_packet("192.0.2.10", 42000, "198.51.100.10", 443, 1, hello,
						hl, pkt[0], sizeof(pkt[0]));
	r[0].packet.data = pkt[0];
	static const uint8_t garbage[] = {0x45, 0x00};
	r[1].packet.data = (uint8_t *)garbage;
	r[1].packet.len = sizeof(garbage);
	r[2].transportprotocol = "udp";
	r[2].srcaddress = "192.0.2.11";
	r[2].srcport = 42001;
	r[2].dstaddress = "198.51.100.11";
	r[2].dstport = 3478;
	Routerd__Dpi__V1__ClassifyBatchRequest b = ROUTERD__DPI__V1__CLASSIFY_BATCH_REQUEST__INIT;
	b.requests = rp;
	b.n_requests = 3;
	ProtobufCMessage *m = NULL;
	char err[256];
	enum rdpi_status st = RDPI_STATUS_UNAVAILABLE;
	for (int i = 0; i < 100 && st == RDPI_STATUS_UNAVAILABLE; i++) {
		st = rdpi_rpc_client_call(cl, "ClassifyBatch", &b.base,
					  &routerd__dpi__v1__classify_batch_reply__descriptor, 2000,
					  &m, err, sizeof(err));
		if (st == RDPI_STATUS_UNAVAILABLE)
			usleep(20000);
	}
	assert_int_equal(st, RDPI_STATUS_OK);
	Routerd__Dpi__V1__ClassifyBatchReply *rep = (void *)m;
	assert_int_equal(rep->n_results, 3);
	assert_string_equal(rep->results[0]->tlssni, "batch.example");
	assert_string_equal(rep->results[1]->appname, "unknown");
	assert_string_equal(rep->results[1]->reason, "invalid_request");
	assert_non_null(strstr(rep->results[1]->fallbackreason, "packet"));
	assert_string_equal(rep->results[2]->appname, "stun");
	assert_string_equal(rep->results[2]->source, "port-fallback");
	assert_true(rep->results[2]->appconfidence <= 40);
	protobuf_c_message_free_unpacked(m, NULL);
	rdpi_rpc_client_free(cl);
	daemon_stop(&d);
}

static void test_daemon_refuses_non_socket_path(void **state)
{
	char path[160], out[512];
	snprintf(path, sizeof(path), "%s/regular-file", dir);
	FILE *f = fopen(path, "w");
	fputs("keep me", f);
	fclose(f);
	int rc =
	    tu_run(out, sizeof(out), "timeout 5 '%s' daemon --socket '%s' --ipc 'ipc://%s/x.ipc' 2>&1",
		bin, path, dir);
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(out, "not a socket"));
	f = fopen(path, "r");
	char buf[32] = {0};
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "keep me");
}

static void test_daemon_auto_falls_back_when_agent_unavailable(void **state)
{
	char agent[200];
	snprintf(agent, sizeof(agent), "%s/no-agent.sock", dir);
	const char *extra[] = {"--engine", "auto", "--ndpi-agent-socket", agent, NULL};
	struct daemon d = {0};
	assert_int_equal(daemon_start(&d, extra), 0);
	char out[8192];
	int code;
	char *req = tls_request("fallback.example", 40002);
	assert_int_equal(curl(&d, "POST", "/v1/classify", req, out, sizeof(out), &code), 0);
	free(req);
	assert_int_equal(code, 200);
	assert_non_null(strstr(out, "\"tlsSNI\":\"fallback.example\""));
	assert_non_null(strstr(out, "\"engine\":\"builtin\""));
	assert_non_null(strstr(out, "\"fallbackReason\":\"agent_unavailable"));
	assert_int_equal(curl(&d, "GET", "/v1/status", NULL, out, sizeof(out), &code), 0);
	assert_non_null(strstr(out, "\"ok\":true"));
	assert_non_null(strstr(out, "\"activeEngine\":\"builtin\""));
	assert_non_null(strstr(out, "\"fallbacks\":1"));
	assert_int_equal(curl(&d, "GET", "/v1/healthz", NULL, out, sizeof(out), &code), 0);
	assert_int_equal(code, 200);
	daemon_stop(&d);
}

static void test_daemon_ndpi_agent_mode_reports_degraded(void **state)
{
	char agent[200];
	snprintf(agent, sizeof(agent), "%s/no-agent2.sock", dir);
	const char *extra[] = {"--engine", "ndpi-agent", "--ndpi-agent-socket", agent, NULL};
	struct daemon d = {0};
	assert_int_equal(daemon_start(&d, extra), 0);
	char out[8192];
	int code;
	assert_int_equal(curl(&d, "GET", "/v1/healthz", NULL, out, sizeof(out), &code), 0);
	assert_int_equal(code, 503);
	assert_non_null(strstr(out, "\"ok\":false"));
	assert_int_equal(curl(&d, "GET", "/v1/status", NULL, out, sizeof(out), &code), 0);
	assert_non_null(strstr(out, "\"ok\":false"));
	/* classification still works through the builtin engine */
	char *req = tls_request("degraded.example", 40003);
	assert_int_equal(curl(&d, "POST", "/v1/classify", req, out, sizeof(out), &code), 0);
	free(req);
	assert_int_equal(code, 200);
	assert_non_null(strstr(out, "\"tlsSNI\":\"degraded.example\""));
	daemon_stop(&d);
}

static void test_daemon_agent_result_merged_with_builtin(void **state)
{
	struct fake_agent fa;
	fake_start(&fa);
	const char *extra[] = {"--engine", "auto", "--ndpi-agent-socket", fa.sock, NULL};
	struct daemon d = {0};
	assert_int_equal(daemon_start(&d, extra), 0);
	char out[8192];
	int code;
	char *req = tls_request("www.youtube.com", 40004);
	assert_int_equal(curl(&d, "POST", "/v1/classify", req, out, sizeof(out), &code), 0);
	free(req);
	print_message("%s\n", out);
	assert_int_equal(code, 200);
	assert_non_null(strstr(out, "\"appName\":\"youtube\""));
	assert_non_null(strstr(out, "\"masterProtocol\":\"tls\""));
	assert_non_null(strstr(out, "\"source\":\"ndpi-agent\""));
	assert_non_null(strstr(out, "\"engine\":\"ndpi-agent\""));
	/* the agent gave no SNI: the builtin parser's is merged in */
	assert_non_null(strstr(out, "\"tlsSNI\":\"www.youtube.com\""));
	assert_int_equal(atomic_load(&fake_calls), 1);
	/* the flow is final: the next packet is answered from the cache */
	req = tls_request("www.youtube.com", 40004);
	assert_int_equal(curl(&d, "POST", "/v1/classify", req, out, sizeof(out), &code), 0);
	free(req);
	assert_non_null(strstr(out, "\"cache\":\"hit\""));
	assert_non_null(strstr(out, "\"appName\":\"youtube\""));
	assert_int_equal(atomic_load(&fake_calls), 1);
	status_until(&d, "\"activeEngine\":\"ndpi-agent\"", out, sizeof(out));
	assert_non_null(strstr(out, "\"agentClassified\":1"));
	assert_non_null(strstr(out, "\"cacheHits\":1"));
	daemon_stop(&d);
	fake_stop(&fa);
}

static void test_daemon_agent_unknown_falls_back(void **state)
{
	struct fake_agent fa;
	fake_start(&fa);
	atomic_store(&fake_mode, FAKE_UNKNOWN);
	const char *extra[] = {"--engine", "auto", "--ndpi-agent-socket", fa.sock, NULL};
	struct daemon d = {0};
	assert_int_equal(daemon_start(&d, extra), 0);
	char out[8192];
	int code;
	char *req = tls_request("unknown-agent.example", 40005);
	assert_int_equal(curl(&d, "POST", "/v1/classify", req, out, sizeof(out), &code), 0);
	free(req);
	assert_non_null(strstr(out, "\"appName\":\"tls\""));
	assert_non_null(strstr(out, "\"source\":\"builtin-payload\""));
	assert_non_null(strstr(out, "\"fallbackReason\":\"agent_unknown\""));
	daemon_stop(&d);
	fake_stop(&fa);
}

static void test_daemon_agent_timeout_counts_and_breaker(void **state)
{
	struct fake_agent fa;
	fake_start(&fa);
	atomic_store(&fake_mode, FAKE_SLOW);
	const char *extra[] = {"--engine", "auto", "--ndpi-agent-socket", fa.sock, "--timeout",
			       "100ms",	   NULL};
	struct daemon d = {0};
	assert_int_equal(daemon_start(&d, extra), 0);
	char out[8192];
	int code;
	for (int i = 0; i < 6; i++) {
		char *req = tls_request("slow.example", (uint16_t)(41000 + i));
		assert_int_equal(curl(&d, "POST", "/v1/classify", req, out, sizeof(out), &code), 0);
		free(req);
		assert_int_equal(code, 200);
		assert_non_null(strstr(out, "\"tlsSNI\":\"slow.example\""));
		if (i == 0)
			assert_non_null(strstr(out, "\"fallbackReason\":\"agent_timeout"));
	}
	/* three timeouts open the breaker: later packets never reach the agent */
	int calls = atomic_load(&fake_calls);
	print_message("agent calls for 6 packets: %d\n", calls);
	assert_true(calls <= 3);
	assert_int_equal(curl(&d, "GET", "/v1/status", NULL, out, sizeof(out), &code), 0);
	assert_non_null(strstr(out, "\"timeoutErrors\":3"));
	assert_non_null(strstr(out, "\"breaker\":\"open\""));
	assert_non_null(strstr(out, "\"breakerOpens\":1"));
	assert_int_equal(curl(&d, "GET", "/metrics", NULL, out, sizeof(out), &code), 0);
	assert_non_null(strstr(out, "routerd_dpi_classifier_agent_breaker_open 1\n"));
	assert_non_null(strstr(out, "routerd_dpi_classifier_agent_breaker_opens_total 1\n"));
	assert_non_null(strstr(out, "routerd_dpi_classifier_agent_timeouts_total 3\n"));
	assert_non_null(strstr(out, "# TYPE routerd_dpi_classifier_latency_p99_seconds gauge\n"));
	assert_null(strstr(out, "microseconds"));
	daemon_stop(&d);
	fake_stop(&fa);
}

struct bg_curl {
	const struct daemon *d;
	char *req;
	char out[8192];
	int code;
	bool done;
};

static void *bg_classify(void *arg)
{
	struct bg_curl *b = arg;
	curl(b->d, "POST", "/v1/classify", b->req, b->out, sizeof(b->out), &b->code);
	__atomic_store_n(&b->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* A hung agent (accepts connections, never answers): classification still
 * answers within the timeout, and other requests are not held up meanwhile: healthz
 * answers while the classify call is still waiting for the agent (an ordering check, not a
 * timing one, so a loaded machine cannot fail it). */
static void test_daemon_hung_agent_does_not_block(void **state)
{
	char sock[200], url[220];
	snprintf(sock, sizeof(sock), "%s/hung%u.sock", dir, seq++);
	snprintf(url, sizeof(url), "ipc://%.*s.ipc", (int)(strlen(sock) - 5), sock);
	nng_socket hung;
	assert_int_equal(nng_rep0_open(&hung), 0);
	assert_int_equal(nng_listen(hung, url, NULL, 0), 0);
	const char *extra[] = {"--engine", "auto", "--ndpi-agent-socket", sock, "--timeout",
			       "3s",	   NULL};
	struct daemon d = {0};
	assert_int_equal(daemon_start(&d, extra), 0);
	struct bg_curl b = {.d = &d, .req = tls_request("hung.example", 43000)};
	pthread_t th;
	uint64_t t0 = rdpi_monotonic_ns();
	pthread_create(&th, NULL, bg_classify, &b);
	usleep(50000);
	char out[8192];
	int code;
	uint64_t t1 = rdpi_monotonic_ns();
	assert_int_equal(curl(&d, "GET", "/v1/healthz", NULL, out, sizeof(out), &code), 0);
	uint64_t healthz_ms = (rdpi_monotonic_ns() - t1) / 1000000;
	bool classify_pending = !__atomic_load_n(&b.done, __ATOMIC_ACQUIRE);
	pthread_join(th, NULL);
	uint64_t classify_ms = (rdpi_monotonic_ns() - t0) / 1000000;
	print_message("healthz during a hung agent call: %llu ms; classify: %llu ms\n",
		      (unsigned long long)healthz_ms, (unsigned long long)classify_ms);
	assert_int_equal(code, 200);
	assert_true(classify_pending);
	assert_int_equal(b.code, 200);
	assert_non_null(strstr(b.out, "\"tlsSNI\":\"hung.example\""));
	assert_non_null(strstr(b.out, "\"fallbackReason\":\"agent_timeout"));
	assert_true(classify_ms >= 2500 && classify_ms < 15000); /* the 3 s budget, not a hang */
	free(b.req);
	daemon_stop(&d);
	nng_close(hung);
}

static void test_daemon_agent_without_libndpi_keeps_builtin_active(void **state)
{
	struct fake_agent fa;
	fake_start(&fa);
	atomic_store(&fake_libndpi, 0);
	const char *extra[] = {"--engine", "auto", "--ndpi-agent-socket", fa.sock, NULL};
	struct daemon d = {0};
	assert_int_equal(daemon_start(&d, extra), 0);
	char out[8192];
	status_until(&d, "libndpi backend is not enabled", out, sizeof(out));
	assert_non_null(strstr(out, "\"activeEngine\":\"builtin\""));
	assert_non_null(strstr(out, "\"libndpiLoaded\":false"));
	daemon_stop(&d);
	fake_stop(&fa);
}

/* A Status probe that misses its deadline is repeated after about 1 s, not after the 5 s probe
 * interval: /v1/status shows the agent's libndpi state again soon after one slow answer. */
static void test_daemon_slow_agent_probe_retried_soon(void **state)
{
	struct fake_agent fa;
	fake_start(&fa);
	atomic_store(&fake_status_slow, 1);
	const char *extra[] = {"--engine", "auto", "--ndpi-agent-socket", fa.sock, NULL};
	struct daemon d = {0};
	assert_int_equal(daemon_start(&d, extra), 0);
	char out[8192];
	int code;
	/* the first status request probes; the fake answers after 800 ms, past the deadline */
	assert_int_equal(curl(&d, "GET", "/v1/status", NULL, out, sizeof(out), &code), 0);
	assert_int_equal(code, 200);
	assert_non_null(strstr(out, "\"libndpiLoaded\":false"));
	status_until(&d, "\"libndpiLoaded\":true", out, sizeof(out));
	assert_non_null(strstr(out, "\"activeEngine\":\"ndpi-agent\""));
	assert_true(atomic_load(&fake_status_calls) >= 2);
	uint64_t gap_ms = (atomic_load(&fake_status_at[1]) - atomic_load(&fake_status_at[0])) / 1000000;
	print_message("second Status probe %llu ms after the slow first one\n",
		      (unsigned long long)gap_ms);
	/* about 1 s; the interval is 5 s: 4 s leaves room for a loaded machine */
	assert_true(gap_ms >= 900 && gap_ms < 4000);
	daemon_stop(&d);
	fake_stop(&fa);
}

static int group_setup(void **state)
{
	const char *b = getenv("RDPI_BINARY_DIR");
	snprintf(bin, sizeof(bin), "%s/services/classifier/routerd-dpi-classifier", b ? b : ".");
	if (access(bin, X_OK) != 0) {
		fprintf(stderr, "classifier binary not found at %s\n", bin);
		return -1;
	}
	snprintf(dir, sizeof(dir), "/tmp/rdpi-cls-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_daemon_selftest),
	    cmocka_unit_test(test_daemon_ndpi_reader_has_no_effect),
	    cmocka_unit_test(test_daemon_classify_reads_json),
	    cmocka_unit_test(test_daemon_unsupported_engine),
	    cmocka_unit_test(test_daemon_serves_socket_and_counts),
	    cmocka_unit_test(test_daemon_batch_over_nng),
	    cmocka_unit_test(test_daemon_refuses_non_socket_path),
	    cmocka_unit_test(test_daemon_auto_falls_back_when_agent_unavailable),
	    cmocka_unit_test(test_daemon_ndpi_agent_mode_reports_degraded),
	    cmocka_unit_test(test_daemon_agent_result_merged_with_builtin),
	    cmocka_unit_test(test_daemon_agent_unknown_falls_back),
	    cmocka_unit_test(test_daemon_agent_timeout_counts_and_breaker),
	    cmocka_unit_test(test_daemon_hung_agent_does_not_block),
	    cmocka_unit_test(test_daemon_agent_without_libndpi_keeps_builtin_active),
	    cmocka_unit_test(test_daemon_slow_agent_probe_retried_soon),
	};
	int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
	rdpi_rpc_fini();
	return rc;
}

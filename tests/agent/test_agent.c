/* Integration tests for routerd-ndpi-agent: the real binary (selftest, flag
 * and config errors, non-socket refusal) and the real daemon on scratch
 * sockets, talked to over the HTTP+JSON shim (AF_UNIX client) and over NNG
 * (rdpi_rpc_client). Assertions follow the build: with libndpi real answers,
 * without it the honest unavailable ones. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/base64.h"
#include "common/packet.h"
#include "common/rpc.h"
#include "common/synth.h"
#include "ndpi_adapter.h"
#include "routerd/dpi/v1/agent.pb-c.h"
#include "selftest.h"
#include "testutil.h"

static char tmpdir[64];
static char bin[1024];
static int have_ndpi;

/* ---- process helpers -------------------------------------------------------- */

static char *slurp_fd(int fd)
{
	size_t len = 0, cap = 4096;
	char *b = malloc(cap);
	for (;;) {
		if (len + 1 >= cap)
			b = realloc(b, cap *= 2);
		ssize_t n = read(fd, b + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	b[len] = '\0';
	return b;
}

/* Run bin with args; returns the exit status, stdout and stderr in out and err. */
static int run(char **out, char **err, const char *const *args)
{
	char *argv[32];
	int n = 0;
	argv[n++] = bin;
	for (; args[n - 1] && n < 31; n++)
		argv[n] = (char *)args[n - 1];
	argv[n] = NULL;
	int po[2], pe[2];
	assert_int_equal(pipe(po), 0);
	assert_int_equal(pipe(pe), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		execv(bin, argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	*out = slurp_fd(po[0]);
	*err = slurp_fd(pe[0]);
	close(po[0]);
	close(pe[0]);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

struct daemon {
	pid_t pid;
	char sock[128], url[160], conf[128], err[128]; /* err: the daemon's stderr */
};

static void daemon_start(struct daemon *d, const char *tag, const char *conf_text)
{
	snprintf(d->sock, sizeof(d->sock), "%s/%s/agent.sock", tmpdir, tag);
	snprintf(d->url, sizeof(d->url), "ipc://%s/%s/agent.ipc", tmpdir, tag);
	snprintf(d->conf, sizeof(d->conf), "%s/%s.conf", tmpdir, tag);
	snprintf(d->err, sizeof(d->err), "%s/%s.err", tmpdir, tag);
	tu_write_file(d->conf, conf_text);
	d->pid = fork();
	assert_true(d->pid >= 0);
	if (d->pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		int err = open(d->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (err >= 0)
			dup2(err, 2);
		execl(bin, bin, "daemon", "--config", d->conf, "--socket", d->sock, "--ipc", d->url,
		      (char *)NULL);
		_exit(127);
	}
	if (tu_wait_for_socket(d->sock, d->pid, 20000) != 0) { /* ASan on a loaded machine */
		tu_print_file(d->err);
		fail_msg("daemon did not create %s", d->sock);
	}
}

static int daemon_stop(struct daemon *d)
{
	kill(d->pid, SIGTERM);
	int st;
	waitpid(d->pid, &st, 0);
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	if (rc != 0)
		tu_print_file(d->err); /* e.g. a sanitizer report */
	return rc;
}

/* Polls the daemon's stderr (5 s and more) until it contains text. */
static bool daemon_logged(const struct daemon *d, const char *text)
{
	for (int i = 0; i < 500; i++) {
		int fd = open(d->err, O_RDONLY);
		char *log = fd >= 0 ? slurp_fd(fd) : NULL;
		if (fd >= 0)
			close(fd);
		bool found = log && strstr(log, text);
		free(log);
		if (found)
			return true;
		usleep(10000);
	}
	return false;
}

/* ---- HTTP over AF_UNIX ------------------------------------------------------- */

static int http(const char *sock, const char *method, const char *path, const char *body,
		char **ret_body)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	char hdr[512];
	size_t bl = body ? strlen(body) : 0;
	int hl = snprintf(hdr, sizeof(hdr),
			  "%s %s HTTP/1.1\r\nHost: unix\r\nConnection: close\r\n"
			  "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			  method, path, bl);
	assert_int_equal(write(fd, hdr, (size_t)hl), hl);
	if (bl)
		assert_int_equal(write(fd, body, bl), (ssize_t)bl);
	char *resp = slurp_fd(fd);
	close(fd);
	int code = 0;
	sscanf(resp, "HTTP/1.%*d %d", &code);
	char *b = strstr(resp, "\r\n\r\n");
	*ret_body = strdup(b ? b + 4 : "");
	free(resp);
	return code;
}

static json_t *http_json(const char *sock, const char *method, const char *path, const char *body,
			 int *ret_code)
{
	char *text;
	*ret_code = http(sock, method, path, body, &text);
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fail_msg("not JSON (%s): %s", je.text, text);
	free(text);
	return j;
}

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : "";
}

/* ---- fixtures ------------------------------------------------------------------- */

static int setup(void **state)
{
	strcpy(tmpdir, "/tmp/rdpi-agent-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	const char *b = getenv("RDPI_AGENT_BIN");
	const char *bd = getenv("RDPI_BINARY_DIR");
	if (b && *b)
		snprintf(bin, sizeof(bin), "%s", b);
	else
		snprintf(bin, sizeof(bin), "%s/services/agent/routerd-ndpi-agent", bd ? bd : ".");
	have_ndpi = ndpi_adapter_built();
	signal(SIGPIPE, SIG_IGN);
	return access(bin, X_OK) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *conf_ok = "agent = {\n  name = \"test\";\n  flowLimit = 500;\n"
			     "  firstPayloadPackets = 10;\n  flowTTL = \"2h\";\n};\n"
			     "classifier = { };\n";

/* ---- cases ------------------------------------------------------------------------ */

static void test_agent_selftest_reports_backend(void **state)
{
	char *out, *err;
	int rc =
	    run(&out, &err, (const char *const[]){"selftest", "--config", "/nonexistent/x", NULL});
	assert_int_equal(rc, 1); /* a named config that is missing is an error */
	free(out);
	free(err);
	rc = run(&out, &err, (const char *const[]){"selftest", NULL});
	assert_int_equal(rc, 0);
	/* installers grep for this exact text */
	assert_int_equal(strstr(out, "\"libndpiLoaded\":true") != NULL, have_ndpi);
	json_t *j = json_loads(out, 0, NULL);
	assert_non_null(j);
	assert_string_equal(jstr(j, "engine"), "ndpi-agent");
	assert_string_equal(jstr(j, "flowTTL"), "1h0m0s");
	json_t *st = json_object_get(j, "selftest");
	assert_non_null(st);
	assert_string_equal(jstr(st, "engine"), "ndpi-agent");
	assert_string_equal(jstr(st, "source"), "ndpi-agent");
	if (have_ndpi) {
		assert_true(json_is_true(json_object_get(j, "ok")));
		assert_string_equal(jstr(st, "appName"), "tls");
		assert_string_equal(jstr(st, "tlsSNI"), SELFTEST_SNI);
	} else {
		assert_true(json_is_false(json_object_get(j, "ok")));
		assert_string_equal(jstr(j, "reason"),
				    "libndpi backend is not enabled in this build");
		assert_string_equal(jstr(st, "appName"), "unknown");
		assert_string_equal(jstr(st, "reason"), "libndpi_backend_unavailable");
	}
	json_decref(j);
	free(out);
	free(err);
}

static void test_agent_flags(void **state)
{
	char *out, *err;
	int rc = run(&out, &err, (const char *const[]){"selftest", "--flow-limit", "-1", NULL});
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "--flow-limit must be non-negative"));
	free(out);
	free(err);
	rc = run(&out, &err, (const char *const[]){"selftest", "-first-payload-packets=-2", NULL});
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "--first-payload-packets must be non-negative"));
	free(out);
	free(err);
	rc = run(&out, &err, (const char *const[]){"selftest", "--bogus", NULL});
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "flag provided but not defined"));
	free(out);
	free(err);
	/* legacy fix-ups: 0 limit -> 100000, ttl <= 0 -> 1h, 0 packets -> 10 */
	rc = run(&out, &err,
		 (const char *const[]){"selftest", "--flow-limit", "0", "--flow-ttl", "0",
				       "--first-payload-packets", "0", NULL});
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "\"flowLimit\":100000"));
	assert_non_null(strstr(out, "\"flowTTL\":\"1h0m0s\""));
	assert_non_null(strstr(out, "\"firstPayloadPackets\":10"));
	free(out);
	free(err);
	rc = run(&out, &err,
		 (const char *const[]){"selftest", "--flow-ttl=90m", "--flow-limit=7", NULL});
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "\"flowTTL\":\"1h30m0s\""));
	assert_non_null(strstr(out, "\"flowLimit\":7"));
	free(out);
	free(err);
	rc = run(&out, &err, (const char *const[]){"help", NULL});
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "--first-payload-packets"));
	free(out);
	free(err);
}

static void test_agent_check_config(void **state)
{
	char good[128], bad[128], *out, *err;
	snprintf(good, sizeof(good), "%s/good.conf", tmpdir);
	snprintf(bad, sizeof(bad), "%s/bad.conf", tmpdir);
	tu_write_file(good, conf_ok);
	tu_write_file(bad, "agent = {\n  name = \"x\";\n  flowLimt = 5;\n};\n");
	int rc = run(&out, &err, (const char *const[]){"--check-config", "--config", good, NULL});
	assert_int_equal(rc, 0);
	free(out);
	free(err);
	rc = run(&out, &err, (const char *const[]){"--check-config", "--config", bad, NULL});
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "bad.conf:3"));
	assert_non_null(strstr(err, "flowLimt"));
	free(out);
	free(err);
}

static void test_agent_refuses_non_socket_path(void **state)
{
	char path[128], url[160], *out, *err;
	snprintf(path, sizeof(path), "%s/not-a-socket", tmpdir);
	snprintf(url, sizeof(url), "ipc://%s/ns.ipc", tmpdir);
	tu_write_file(path, "do not remove");
	int rc =
	    run(&out, &err, (const char *const[]){"daemon", "--socket", path, "--ipc", url, NULL});
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(err, "refusing to remove non-socket"));
	free(out);
	free(err);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 13);
}

static char *b64(const uint8_t *d, size_t n)
{
	char *s = malloc(n * 2 + 8);
	assert_non_null(s);
	size_t i = 0, o = 0;
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
		s[o++] = al[v >> 18];
		s[o++] = al[(v >> 12) & 63];
		s[o++] = al[(v >> 6) & 63];
		s[o++] = al[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0);
		s[o++] = al[v >> 18];
		s[o++] = al[(v >> 12) & 63];
		s[o++] = i + 1 < n ? al[(v >> 6) & 63] : '=';
		s[o++] = '=';
	}
	s[o] = '\0';
	return s;
}

static void test_agent_daemon_http(void **state)
{
	struct daemon d;
	daemon_start(&d, "http", conf_ok);
	struct stat sst;
	assert_int_equal(stat(d.sock, &sst), 0);
	assert_int_equal(sst.st_mode & 0777, 0660);
	int code;
	json_t *j = http_json(d.sock, "GET", "/v1/status", NULL, &code);
	assert_int_equal(code, 200);
	static const char *const keys[] = {"ok",      "name",	       "version",
					   "engine",  "libndpiLoaded", "mode",
					   "flowTTL", "flowLimit",     "firstPayloadPackets",
					   "stats"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_non_null(json_object_get(j, keys[i]));
	static const char *const skeys[] = {
	    "activeFlows",     "observedPackets", "backendPackets", "classifiedPackets",
	    "unknownPackets",  "skippedPackets",  "errorPackets",   "prunedFlows",
	    "inspectingFlows", "guessedFlows",	  "giveups",	    "ndpiBytes",
	    "backendErrors",   "resets"};
	json_t *stats = json_object_get(j, "stats");
	for (size_t i = 0; i < sizeof(skeys) / sizeof(skeys[0]); i++)
		assert_non_null(json_object_get(stats, skeys[i]));
	assert_string_equal(jstr(j, "name"), "test");
	assert_string_equal(jstr(j, "engine"), "ndpi-agent");
	assert_string_equal(jstr(j, "flowTTL"), "2h0m0s");
	assert_int_equal(json_integer_value(json_object_get(j, "flowLimit")), 500);
	json_decref(j);

	j = http_json(d.sock, "GET", "/v1/healthz", NULL, &code);
	assert_int_equal(code, have_ndpi ? 200 : 503);
	assert_int_equal(json_is_true(json_object_get(j, "ok")), have_ndpi);
	json_decref(j);

	/* legacy request: tuple + l4Payload, packet synthesized by the agent */
	uint8_t hello[512];
	size_t hl =
	    rdpi_synth_client_hello("http.routerd.example", "h2,http/1.1", hello, sizeof(hello));
	char *p64 = b64(hello, hl);
	char body[2048];
	snprintf(body, sizeof(body),
		 "{\"l4Payload\":\"%s\",\"transportProtocol\":\"tcp\",\"srcAddress\":"
		 "\"192.0.2.10\",\"srcPort\":53168,\"dstAddress\":\"198.51.100.10\","
		 "\"dstPort\":443}",
		 p64);
	j = http_json(d.sock, "POST", "/v1/observe-packet", body, &code);
	assert_int_equal(code, 200);
	assert_string_equal(jstr(j, "engine"), "ndpi-agent");
	assert_string_equal(jstr(j, "source"), "ndpi-agent");
	if (have_ndpi) {
		assert_string_equal(jstr(j, "appName"), "tls");
		assert_string_equal(jstr(j, "tlsSNI"), "http.routerd.example");
	} else {
		assert_string_equal(jstr(j, "appName"), "unknown");
		assert_string_equal(jstr(j, "reason"), "libndpi_backend_unavailable");
	}
	char flow_id[64];
	snprintf(flow_id, sizeof(flow_id), "%s", jstr(j, "flowId"));
	json_decref(j);

	/* the Go test's request without addresses: unknown, engine/source ndpi-agent */
	snprintf(body, sizeof(body),
		 "{\"l4Payload\":\"%s\",\"transportProtocol\":\"tcp\",\"dstPort\":443}", p64);
	j = http_json(d.sock, "POST", "/v1/observe-packet", body, &code);
	assert_int_equal(code, 200);
	assert_string_equal(jstr(j, "appName"), "unknown");
	assert_string_equal(jstr(j, "engine"), "ndpi-agent");
	assert_string_equal(jstr(j, "source"), "ndpi-agent");
	assert_string_equal(jstr(j, "reason"),
			    have_ndpi ? "flow_tuple_unavailable" : "libndpi_backend_unavailable");
	json_decref(j);
	free(p64);

	if (have_ndpi) {
		snprintf(body, sizeof(body), "{\"flowId\":\"%s\"}", flow_id);
		j = http_json(d.sock, "POST", "/v1/reset-flow", body, &code);
		assert_int_equal(code, 200);
		assert_true(json_is_true(json_object_get(j, "found")));
		json_decref(j);
		j = http_json(d.sock, "POST", "/v1/reset-flow", body, &code);
		assert_true(json_is_false(json_object_get(j, "found")));
		json_decref(j);
	}
	j = http_json(d.sock, "POST", "/v1/reset-flow", "{\"flowId\":\"xyz\"}", &code);
	assert_int_equal(code, 400);
	json_decref(j);

	char *metrics;
	assert_int_equal(http(d.sock, "GET", "/metrics", NULL, &metrics), 200);
	assert_non_null(strstr(metrics, "# TYPE routerd_dpi_agent_flows_inspecting gauge\n"));
	assert_non_null(strstr(metrics, "# TYPE routerd_dpi_agent_ndpi_bytes gauge\n"));
	assert_non_null(
	    strstr(metrics, "# TYPE routerd_dpi_agent_observed_packets_total counter\n"));
	assert_non_null(strstr(metrics, "\nrouterd_dpi_agent_process_resident_memory_bytes "));
	assert_null(strstr(metrics, "routerd_ndpi_agent_"));
	free(metrics);

	/* SIGHUP: a bad file keeps the old config, a good one is applied */
	tu_write_file(d.conf, "agent = { flowLimit = \"x\"; };\n");
	kill(d.pid, SIGHUP);
	assert_true(daemon_logged(&d, "reload failed, keeping the running configuration"));
	j = http_json(d.sock, "GET", "/v1/status", NULL, &code);
	assert_int_equal(json_integer_value(json_object_get(j, "flowLimit")), 500);
	json_decref(j);
	tu_write_file(d.conf, "agent = { name = \"reloaded\"; flowLimit = 600; };\n");
	kill(d.pid, SIGHUP);
	int done = 0;
	for (int i = 0; i < 500 && !done; i++) {
		usleep(20000);
		j = http_json(d.sock, "GET", "/v1/status", NULL, &code);
		done = strcmp(jstr(j, "name"), "reloaded") == 0;
		if (done)
			assert_int_equal(json_integer_value(json_object_get(j, "flowLimit")), 600);
		json_decref(j);
	}
	assert_true(done);
	assert_int_equal(daemon_stop(&d), 0);
}

static void fill_req(Routerd__Dpi__V1__ClassifyRequest *rq, uint8_t *buf, size_t cap,
		     const char *src, uint16_t sp, const char *dst, uint16_t dp, uint8_t l4,
		     const uint8_t *payload, size_t plen, uint64_t ts)
{
	struct rdpi_synth_tuple t = {.l4proto = l4, .sport = sp, .dport = dp};
	int f;
	assert_int_equal(rdpi_addr_parse(src, t.src, &f), 0);
	assert_int_equal(rdpi_addr_parse(dst, t.dst, &f), 0);
	t.l3 = (uint8_t)f;
	size_t len;
	struct rdpi_synth_tcp tcp = {.seq = 100, .ack = 200, .flags = 0x18};
	assert_int_equal(rdpi_synth_packet(&t, &tcp, payload, plen, buf, cap, &len), 0);
	routerd__dpi__v1__classify_request__init(rq);
	rq->packet.data = buf;
	rq->packet.len = len;
	rq->timestampns = ts;
}

static void test_agent_daemon_nng_batch(void **state)
{
	struct daemon d;
	daemon_start(&d, "nng", conf_ok);
	struct rdpi_rpc_client *cl;
	assert_int_equal(rdpi_rpc_client_new(d.url, NULL, &cl), 0);
	/* the agent listens on its ipc after its HTTP socket exists: the client redials */
	for (int i = 0; i < 2000 && !rdpi_rpc_client_connected(cl); i++)
		usleep(10000);

	/* DNS query + answer (both directions) and an IPv6 TLS ClientHello */
	static const uint8_t q[] = {0x12, 0x34, 0x01, 0x00, 0,	 1,   0,   0,	0,   0,
				    0,	  0,	3,    'w',  'w', 'w', 7,   'r', 'o', 'u',
				    't',  'e',	'r',  'd',  7,	 'e', 'x', 'a', 'm', 'p',
				    'l',  'e',	0,    0,    1,	 0,   1};
	uint8_t a[sizeof(q) + 16];
	memcpy(a, q, sizeof(q));
	a[2] = 0x81;
	a[3] = 0x80;
	a[7] = 1;
	static const uint8_t an[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 53};
	memcpy(a + sizeof(q), an, sizeof(an));
	uint8_t hello[512];
	size_t hl =
	    rdpi_synth_client_hello("v6.routerd.example", "h2,http/1.1", hello, sizeof(hello));
	uint8_t b0[256], b1[256], b2[1024];
	Routerd__Dpi__V1__ClassifyRequest r[3];
	fill_req(&r[0], b0, sizeof(b0), "192.0.2.10", 40001, "198.51.100.53", 53, IPPROTO_UDP, q,
		 sizeof(q), 1700000000000000000ull);
	fill_req(&r[1], b1, sizeof(b1), "198.51.100.53", 53, "192.0.2.10", 40001, IPPROTO_UDP, a,
		 sizeof(a), 1700000000001000000ull);
	fill_req(&r[2], b2, sizeof(b2), "2001:db8::10", 53168, "2001:db8:1::443", 443, IPPROTO_TCP,
		 hello, hl, 1700000000002000000ull);
	Routerd__Dpi__V1__ClassifyRequest *rp[3] = {&r[0], &r[1], &r[2]};
	Routerd__Dpi__V1__ObserveBatchRequest br = ROUTERD__DPI__V1__OBSERVE_BATCH_REQUEST__INIT;
	br.n_requests = 3;
	br.requests = rp;
	ProtobufCMessage *reply = NULL;
	char err[256];
	enum rdpi_status st = rdpi_rpc_client_call(
	    cl, "ObserveBatch", &br.base, &routerd__dpi__v1__observe_batch_reply__descriptor, 2000,
	    &reply, err, sizeof(err));
	assert_int_equal(st, RDPI_STATUS_OK);
	Routerd__Dpi__V1__ObserveBatchReply *rep = (void *)reply;
	assert_int_equal(rep->n_results, 3);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(rep->results[i]->engine, "ndpi-agent");
		if (!have_ndpi) {
			assert_string_equal(rep->results[i]->appname, "unknown");
			assert_string_equal(rep->results[i]->reason, "libndpi_backend_unavailable");
		}
	}
	if (have_ndpi) {
		assert_string_equal(rep->results[0]->flowid, rep->results[1]->flowid);
		assert_string_equal(rep->results[0]->appname, "dns");
		assert_false(rep->results[0]->final);
		assert_true(rep->results[1]->final);
		assert_string_equal(rep->results[1]->dnsquery, "www.routerd.example");
		int found = 0;
		for (size_t i = 0; i < rep->results[1]->n_metadata; i++)
			found |= strcmp(rep->results[1]->metadata[i]->key, "dns.answer") == 0 &&
				 strcmp(rep->results[1]->metadata[i]->value, "192.0.2.53") == 0;
		assert_true(found);
		assert_string_equal(rep->results[2]->l3proto, "ipv6");
		assert_string_equal(rep->results[2]->appname, "tls");
		assert_string_equal(rep->results[2]->tlssni, "v6.routerd.example");
	}
	protobuf_c_message_free_unpacked(reply, NULL);

	Routerd__Dpi__V1__Empty e = ROUTERD__DPI__V1__EMPTY__INIT;
	st =
	    rdpi_rpc_client_call(cl, "Status", &e.base, &routerd__dpi__v1__agent_status__descriptor,
				 2000, &reply, err, sizeof(err));
	assert_int_equal(st, RDPI_STATUS_OK);
	Routerd__Dpi__V1__AgentStatus *as = (void *)reply;
	assert_int_equal(as->libndpiloaded, have_ndpi);
	assert_int_equal(as->stats->observedpackets, 3);
	if (have_ndpi) {
		assert_int_equal(as->stats->activeflows, 2);
		assert_int_equal(as->stats->finalflows, 1);
		assert_true(as->resources->rssbytes > 0);
		assert_true(as->resources->perflowbytes > 0);
	}
	protobuf_c_message_free_unpacked(reply, NULL);

	Routerd__Dpi__V1__ResetFlowRequest rr = ROUTERD__DPI__V1__RESET_FLOW_REQUEST__INIT;
	rr.transportprotocol = "udp";
	rr.srcaddress = "198.51.100.53";
	rr.srcport = 53;
	rr.dstaddress = "192.0.2.10";
	rr.dstport = 40001;
	st = rdpi_rpc_client_call(cl, "ResetFlow", &rr.base,
				  &routerd__dpi__v1__reset_flow_reply__descriptor, 2000, &reply,
				  err, sizeof(err));
	assert_int_equal(st, RDPI_STATUS_OK);
	assert_int_equal(((Routerd__Dpi__V1__ResetFlowReply *)reply)->found, have_ndpi);
	protobuf_c_message_free_unpacked(reply, NULL);

	rdpi_rpc_client_free(cl);
	assert_int_equal(daemon_stop(&d), 0);
	struct stat sst;
	assert_int_not_equal(stat(d.sock, &sst), 0); /* socket removed on exit */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_agent_selftest_reports_backend),
	    cmocka_unit_test(test_agent_flags),
	    cmocka_unit_test(test_agent_check_config),
	    cmocka_unit_test(test_agent_refuses_non_socket_path),
	    cmocka_unit_test(test_agent_daemon_http),
	    cmocka_unit_test(test_agent_daemon_nng_batch),
	};
	int rc = cmocka_run_group_tests(tests, setup, teardown);
	rdpi_rpc_fini();
	return rc;
}

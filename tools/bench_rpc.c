/* Micro-benchmark (prints figures, asserts nothing): RPC round trips over NNG
 * ipc for Classify-sized messages, single and batched (64 per message), the
 * HTTP+JSON shim, and two references measured in the same run: a bare Unix
 * socketpair ping-pong and plain NNG req/rep. Usage: bench_rpc [--quick] */
#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/httpshim.h"
#include "common/rpc.h"
#include "common/service.h"
#include "common/wire.h"
#include "routerd/dpi/v1/classifier.pb-c.h"

#define RUNS  5
#define BATCH 64

static unsigned iters = 5000;
static char dir[64];
static uint8_t payload[300];

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static double secs(uint64_t t0)
{
	return (double)(rdpi_monotonic_ns() - t0) / 1e9;
}

/* ---- references ---------------------------------------------------------- */

static void *echo_fd(void *arg)
{
	int fd = *(int *)arg;
	char buf[4096];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return NULL;
		if (write(fd, buf, (size_t)n) != n)
			return NULL;
	}
}

static double bench_socketpair(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return 0;
	pthread_t th;
	pthread_create(&th, NULL, echo_fd, &sv[1]);
	char buf[4096];
	uint64_t t0 = rdpi_monotonic_ns();
	for (unsigned i = 0; i < iters; i++) {
		if (write(sv[0], payload, sizeof(payload)) < 0 ||
		    read(sv[0], buf, sizeof(buf)) <= 0)
			break;
	}
	double r = iters / secs(t0);
	close(sv[0]);
	pthread_join(th, NULL);
	close(sv[1]);
	return r;
}

static void *nng_echo(void *arg)
{
	nng_socket s = *(nng_socket *)arg;
	for (;;) {
		nng_msg *m;
		if (nng_recvmsg(s, &m, 0) != 0)
			return NULL;
		if (nng_sendmsg(s, m, 0) != 0) {
			nng_msg_free(m);
			return NULL;
		}
	}
}

static double bench_plain_nng(void)
{
	char url[128];
	snprintf(url, sizeof(url), "ipc://%s/plain.ipc", dir);
	nng_socket rep, req;
	nng_rep0_open(&rep);
	nng_listen(rep, url, NULL, 0);
	pthread_t th;
	pthread_create(&th, NULL, nng_echo, &rep);
	nng_req0_open(&req);
	nng_dial(req, url, NULL, 0);
	uint64_t t0 = rdpi_monotonic_ns();
	for (unsigned i = 0; i < iters; i++) {
		char *buf;
		size_t n;
		if (nng_send(req, payload, sizeof(payload), 0) != 0 ||
		    nng_recv(req, &buf, &n, NNG_FLAG_ALLOC) != 0)
			break;
		nng_free(buf, n);
	}
	double r = iters / secs(t0);
	nng_close(req);
	nng_close(rep);
	pthread_join(th, NULL);
	return r;
}

/* ---- our stack --------------------------------------------------------------- */

static void fill_result(struct rdpi_call *call, const Routerd__Dpi__V1__ClassifyRequest *r,
			Routerd__Dpi__V1__ClassifyResult *res)
{
	res->appname = "tls";
	res->appcategory = "web";
	res->appconfidence = 90;
	res->detectedprotocol = "tls";
	res->applicationprotocol = "tls";
	res->source = "builtin-payload";
	res->engine = "builtin";
	res->reason = "tls_client_hello_sni";
	res->tlssni = "www.example.com";
	res->srcaddress = r->srcaddress;
	res->srcport = r->srcport;
	res->dstaddress = r->dstaddress;
	res->dstport = r->dstport;
}

static enum rdpi_status h_classify(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				   ProtobufCMessage *reply)
{
	fill_result(call, (const void *)req, (void *)reply);
	return RDPI_STATUS_OK;
}

static enum rdpi_status h_batch(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				ProtobufCMessage *reply)
{
	const Routerd__Dpi__V1__ClassifyBatchRequest *b = (const void *)req;
	Routerd__Dpi__V1__ClassifyBatchReply *rep = (void *)reply;
	rep->results = rdpi_call_alloc(call, sizeof(*rep->results) * (b->n_requests + 1));
	Routerd__Dpi__V1__ClassifyResult *res =
	    rdpi_call_alloc(call, sizeof(*res) * (b->n_requests + 1));
	if (!rep->results || !res)
		return RDPI_STATUS_INTERNAL;
	for (size_t i = 0; i < b->n_requests; i++) {
		routerd__dpi__v1__classify_result__init(&res[i]);
		fill_result(call, b->requests[i], &res[i]);
		rep->results[i] = &res[i];
	}
	rep->n_results = b->n_requests;
	return RDPI_STATUS_OK;
}

static enum rdpi_status h_status(void *arg, struct rdpi_call *call, const ProtobufCMessage *req,
				 ProtobufCMessage *reply)
{
	Routerd__Dpi__V1__ClassifierStatus *s = (void *)reply;
	s->ok = 1;
	s->name = "bench";
	return RDPI_STATUS_OK;
}

static const rdpi_method_fn handlers[] = {h_classify, h_batch, h_status, NULL};

static void make_request(Routerd__Dpi__V1__ClassifyRequest *r, uint32_t port)
{
	routerd__dpi__v1__classify_request__init(r);
	r->l4payload.data = payload;
	r->l4payload.len = sizeof(payload);
	r->l3proto = "ipv4";
	r->transportprotocol = "tcp";
	r->srcaddress = "192.0.2.10";
	r->srcport = port;
	r->dstaddress = "198.51.100.10";
	r->dstport = 443;
	r->timestampns = 1700000000000000000ull;
}

static double bench_single(struct rdpi_rpc_client *cl)
{
	Routerd__Dpi__V1__ClassifyRequest r;
	make_request(&r, 53168);
	uint64_t t0 = rdpi_monotonic_ns();
	for (unsigned i = 0; i < iters; i++) {
		ProtobufCMessage *m = NULL;
		if (rdpi_rpc_client_call(cl, "Classify", &r.base,
					 &routerd__dpi__v1__classify_result__descriptor, 1000, &m,
					 NULL, 0) != RDPI_STATUS_OK)
			return 0;
		protobuf_c_message_free_unpacked(m, NULL);
	}
	return iters / secs(t0);
}

static double bench_batch(struct rdpi_rpc_client *cl)
{
	Routerd__Dpi__V1__ClassifyRequest r[BATCH], *rp[BATCH];
	for (int i = 0; i < BATCH; i++) {
		make_request(&r[i], 40000 + (uint32_t)i);
		rp[i] = &r[i];
	}
	Routerd__Dpi__V1__ClassifyBatchRequest b = ROUTERD__DPI__V1__CLASSIFY_BATCH_REQUEST__INIT;
	b.requests = rp;
	b.n_requests = BATCH;
	unsigned n = iters / 4 ? iters / 4 : 1;
	uint64_t t0 = rdpi_monotonic_ns();
	for (unsigned i = 0; i < n; i++) {
		ProtobufCMessage *m = NULL;
		if (rdpi_rpc_client_call(cl, "ClassifyBatch", &b.base,
					 &routerd__dpi__v1__classify_batch_reply__descriptor, 1000,
					 &m, NULL, 0) != RDPI_STATUS_OK)
			return 0;
		protobuf_c_message_free_unpacked(m, NULL);
	}
	return n / secs(t0);
}

static int http_once(const char *path, const char *req, size_t len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	if (write(fd, req, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	char buf[8192];
	ssize_t n, total = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	close(fd);
	return total > 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0 ? 0 : -1;
}

static double bench_http(const char *path, const char *req)
{
	unsigned n = iters / 2 ? iters / 2 : 1;
	size_t len = strlen(req);
	uint64_t t0 = rdpi_monotonic_ns();
	for (unsigned i = 0; i < n; i++)
		if (http_once(path, req, len) < 0)
			return 0;
	return n / secs(t0);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--quick") == 0)
		iters = 1000;
	memset(payload, 0x16, sizeof(payload));
	snprintf(dir, sizeof(dir), "/tmp/rdpi-bench-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	char url[128], sock[128];
	snprintf(url, sizeof(url), "ipc://%s/bench.ipc", dir);
	snprintf(sock, sizeof(sock), "%s/bench.sock", dir);

	struct rdpi_service *svc = NULL;
	struct rdpi_service_opts so = {.desc = &routerd__dpi__v1__classifier__descriptor,
				       .handlers = handlers,
				       .json_opts = rdpi_wire_json_opts()};
	struct rdpi_rpc_server *srv = NULL;
	struct rdpi_rpc_client *cl = NULL;
	struct rdpi_httpshim *shim = NULL;
	static const struct rdpi_httpshim_route routes[] = {
	    {"GET", "/v1/status", "Status", 0},
	    {"POST", "/v1/classify", "Classify", 0},
	};
	if (rdpi_service_new(&so, &svc) < 0)
		return 1;
	struct rdpi_rpc_server_opts ro = {.url = url, .svc = svc};
	struct rdpi_httpshim_opts ho = {
	    .unix_path = sock, .svc = svc, .routes = routes, .nroutes = 2};
	if (rdpi_rpc_server_start(&ro, &srv) < 0 || rdpi_rpc_client_new(url, NULL, &cl) < 0 ||
	    rdpi_httpshim_start(&ho, &shim) < 0) {
		fprintf(stderr, "bench_rpc: cannot start the stack\n");
		return 1;
	}

	const char *classify_body = "{\"l3Proto\":\"ipv4\",\"transportProtocol\":\"tcp\","
				    "\"srcAddress\":\"192.0.2.10\",\"srcPort\":53168,"
				    "\"dstAddress\":\"198.51.100.10\",\"dstPort\":443,"
				    "\"l4Payload\":\"FgMBAAEAAAA=\"}";
	char http_classify[1024];
	snprintf(http_classify, sizeof(http_classify),
		 "POST /v1/classify HTTP/1.1\r\nHost: unix\r\nConnection: close\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(classify_body), classify_body);
	const char *http_status =
	    "GET /v1/status HTTP/1.1\r\nHost: unix\r\nConnection: close\r\n\r\n";

	double sp[RUNS], pn[RUNS], one[RUNS], bat[RUNS], hs[RUNS], hc[RUNS];
	for (int r = 0; r < RUNS; r++) {
		sp[r] = bench_socketpair();
		pn[r] = bench_plain_nng();
		one[r] = bench_single(cl);
		bat[r] = bench_batch(cl);
		hs[r] = bench_http(sock, http_status);
		hc[r] = bench_http(sock, http_classify);
	}
	double msp = median(sp, RUNS), mpn = median(pn, RUNS), mone = median(one, RUNS),
	       mbat = median(bat, RUNS), mhs = median(hs, RUNS), mhc = median(hc, RUNS);
	printf("bench_rpc: medians of %d runs, %u iterations each (machine: %ld cores)\n", RUNS,
	       iters, sysconf(_SC_NPROCESSORS_ONLN));
	printf("  reference socketpair ping-pong (300 B)   %10.0f round trips/s\n", msp);
	printf("  reference plain NNG req/rep ipc (300 B)  %10.0f round trips/s\n", mpn);
	printf("  rdpi rpc Classify (1 packet)             %10.0f calls/s   %8.0f packets/s  "
	       "(%.2fx plain NNG)\n",
	       mone, mone, mone / mpn);
	printf("  rdpi rpc ClassifyBatch (%d packets)      %10.0f calls/s   %8.0f packets/s  "
	       "(%.1fx single)\n",
	       BATCH, mbat, mbat * BATCH, mbat * BATCH / mone);
	printf("  HTTP shim GET /v1/status (new conn each) %10.0f requests/s\n", mhs);
	printf("  HTTP shim POST /v1/classify (new conn)   %10.0f requests/s\n", mhc);

	rdpi_httpshim_stop(shim);
	rdpi_rpc_client_free(cl);
	rdpi_rpc_server_stop(srv);
	rdpi_service_free(svc);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}

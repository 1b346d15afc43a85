/* Benchmark and corpus report for the builtin engine (prints figures, asserts
 * nothing): per capture, the share of flows whose final source is
 * builtin-payload / port-fallback / other / unknown; then packets/s on one
 * capture in-process and over NNG ipc with ClassifyBatch of 64.
 * Usage: classifier_bench [--runs N] <pcap dir or files...> [--throughput FILE] */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/pcapsrc.h"
#include "common/rpc.h"
#include "common/service.h"
#include "common/wire.h"
#include "engine.h"
#include "routerd/dpi/v1/classifier.pb-c.h"
#include "server.h"

#define BATCH 64

struct capture {
	size_t n;
	uint8_t **data;
	size_t *len;
	uint64_t *ts;
};

static int load(const char *path, struct capture *c)
{
	char err[256];
	struct rdpi_pcapsrc *src = NULL;
	if (rdpi_pcapsrc_open(path, err, sizeof(err), &src) < 0) {
		fprintf(stderr, "%s: %s\n", path, err);
		return -1;
	}
	size_t cap = 1024;
	memset(c, 0, sizeof(*c));
	c->data = malloc(cap * sizeof(*c->data));
	c->len = malloc(cap * sizeof(*c->len));
	c->ts = malloc(cap * sizeof(*c->ts));
	struct rdpi_pcapsrc_pkt p;
	while (rdpi_pcapsrc_next(src, &p) > 0) {
		if (c->n == cap) {
			cap *= 2;
			c->data = realloc(c->data, cap * sizeof(*c->data));
			c->len = realloc(c->len, cap * sizeof(*c->len));
			c->ts = realloc(c->ts, cap * sizeof(*c->ts));
		}
		c->data[c->n] = malloc(p.caplen ? p.caplen : 1);
		memcpy(c->data[c->n], p.l3, p.caplen);
		c->len[c->n] = p.caplen;
		c->ts[c->n] = p.ts_ns;
		c->n++;
	}
	rdpi_pcapsrc_free(src);
	return 0;
}

static void unload(struct capture *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->data[i]);
	free(c->data);
	free(c->len);
	free(c->ts);
}

/* ---- per-flow final source ---------------------------------------------------- */

struct flowrec {
	char id[33];
	enum verdict_source source;
};

struct flowmap {
	struct flowrec *slots;
	size_t cap, n;
};

static struct flowrec *flowmap_get(struct flowmap *m, const char *id)
{
	if (m->n * 2 >= m->cap) {
		struct flowmap nm = {.cap = m->cap ? m->cap * 2 : 1024};
		nm.slots = calloc(nm.cap, sizeof(*nm.slots));
		for (size_t i = 0; i < m->cap; i++)
			if (m->slots[i].id[0]) {
				struct flowrec *r = flowmap_get(&nm, m->slots[i].id);
				r->source = m->slots[i].source;
			}
		free(m->slots);
		*m = nm;
	}
	size_t h = strtoull((char[17]){id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7],
				       id[8], id[9], id[10], id[11], id[12], 0},
			    NULL, 16) &
		   (m->cap - 1);
	while (m->slots[h].id[0] && strcmp(m->slots[h].id, id) != 0)
		h = (h + 1) & (m->cap - 1);
	if (!m->slots[h].id[0]) {
		memcpy(m->slots[h].id, id, 33);
		m->n++;
	}
	return &m->slots[h];
}

static void make_req(Routerd__Dpi__V1__ClassifyRequest *r, const struct capture *c, size_t i)
{
	routerd__dpi__v1__classify_request__init(r);
	r->packet.data = c->data[i];
	r->packet.len = c->len[i];
	r->timestampns = c->ts[i];
}

enum bucket { B_PAYLOAD, B_CACHE, B_PORT, B_UNKNOWN, B__N };
static const char *const bucket_names[] = {"builtin-payload", "dns/sni-cache", "port-fallback",
					   "unknown"};

static enum bucket bucket_of(enum verdict_source s)
{
	switch (s) {
	case VERDICT_SOURCE_BUILTIN_PAYLOAD:
	case VERDICT_SOURCE_NDPI:
		return B_PAYLOAD;
	case VERDICT_SOURCE_DNS_CACHE:
	case VERDICT_SOURCE_SNI_CACHE:
		return B_CACHE;
	case VERDICT_SOURCE_PORT_FALLBACK:
	case VERDICT_SOURCE_NDPI_GUESS:
		return B_PORT;
	default:
		return B_UNKNOWN;
	}
}

/* Feed the whole capture through a fresh builtin engine in batches; when m
 * is given, record each flow's last source. Returns the elapsed seconds. */
static double run_engine(const struct capture *c, struct flowmap *m)
{
	struct engine *e;
	struct engine_opts o = {.kind = ENGINE_BUILTIN};
	if (engine_new(&o, &e) < 0)
		return 0;
	Routerd__Dpi__V1__ClassifyRequest reqs[BATCH], *rp[BATCH];
	struct engine_item items[BATCH];
	uint64_t t0 = rdpi_monotonic_ns();
	for (size_t i = 0; i < c->n; i += BATCH) {
		size_t k = c->n - i < BATCH ? c->n - i : BATCH;
		for (size_t j = 0; j < k; j++) {
			make_req(&reqs[j], c, i + j);
			rp[j] = &reqs[j];
		}
		engine_classify(e, rp, k, 100, items);
		for (size_t j = 0; m && j < k; j++)
			if (!items[j].invalid)
				flowmap_get(m, items[j].flow_id)->source = items[j].v.source;
	}
	double s = (double)(rdpi_monotonic_ns() - t0) / 1e9;
	engine_free(e);
	return s;
}

static void shares(const char *name, const struct capture *c, uint64_t total[B__N])
{
	struct flowmap m = {0};
	run_engine(c, &m);
	uint64_t cnt[B__N] = {0};
	for (size_t i = 0; i < m.cap; i++)
		if (m.slots[i].id[0])
			cnt[bucket_of(m.slots[i].source)]++;
	printf("%-44s %6zu flows", name, m.n);
	for (int b = 0; b < B__N; b++) {
		printf("  %5.1f%%", m.n ? 100.0 * (double)cnt[b] / (double)m.n : 0);
		total[b] += cnt[b];
	}
	printf("\n");
	free(m.slots);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double inprocess_rate(const struct capture *c)
{
	double s = run_engine(c, NULL);
	return s > 0 ? (double)c->n / s : 0;
}

struct ipc_worker {
	const struct capture *c;
	struct rdpi_rpc_client *cl;
	size_t first, step; /* batch indexes first, first+step, ... */
	int ok;
};

static void *ipc_worker_main(void *arg)
{
	struct ipc_worker *w = arg;
	const struct capture *c = w->c;
	Routerd__Dpi__V1__ClassifyRequest reqs[BATCH], *rp[BATCH];
	Routerd__Dpi__V1__ClassifyBatchRequest b = ROUTERD__DPI__V1__CLASSIFY_BATCH_REQUEST__INIT;
	w->ok = 1;
	for (size_t i = w->first * BATCH; i < c->n; i += w->step * BATCH) {
		size_t k = c->n - i < BATCH ? c->n - i : BATCH;
		for (size_t j = 0; j < k; j++) {
			make_req(&reqs[j], c, i + j);
			rp[j] = &reqs[j];
		}
		b.requests = rp;
		b.n_requests = k;
		ProtobufCMessage *m = NULL;
		if (rdpi_rpc_client_call(w->cl, "ClassifyBatch", &b.base,
					 &routerd__dpi__v1__classify_batch_reply__descriptor, 2000,
					 &m, NULL, 0) != RDPI_STATUS_OK) {
			w->ok = 0;
			return NULL;
		}
		protobuf_c_message_free_unpacked(m, NULL);
	}
	return NULL;
}

/* clients: batches in flight at once (one calling thread each). */
static double ipc_rate(const struct capture *c, const char *url, unsigned clients)
{
	struct engine *e;
	struct engine_opts o = {.kind = ENGINE_BUILTIN};
	struct server *srv = NULL;
	struct rdpi_service *svc = NULL;
	struct rdpi_rpc_server *rpc = NULL;
	struct rdpi_rpc_client *cl = NULL;
	double rate = 0;
	if (engine_new(&o, &e) < 0)
		return 0;
	struct server_info si = {.name = "bench", .kind = ENGINE_BUILTIN};
	server_new(&si, e, NULL, &srv);
	struct rdpi_service_opts so = {.desc = &routerd__dpi__v1__classifier__descriptor,
				       .handlers = server_handlers(),
				       .arg = srv,
				       .workers = 2,
				       .run_inline = true,
				       .json_opts = rdpi_wire_json_opts()};
	struct rdpi_rpc_server_opts ro = {.url = url};
	if (rdpi_service_new(&so, &svc) < 0)
		goto out;
	ro.svc = svc;
	if (rdpi_rpc_server_start(&ro, &rpc) < 0 || rdpi_rpc_client_new(url, NULL, &cl) < 0)
		goto out;
	pthread_t th[8];
	struct ipc_worker w[8];
	if (clients > 8)
		clients = 8;
	uint64_t t0 = rdpi_monotonic_ns();
	for (unsigned i = 0; i < clients; i++) {
		w[i] = (struct ipc_worker){.c = c, .cl = cl, .first = i, .step = clients};
		pthread_create(&th[i], NULL, ipc_worker_main, &w[i]);
	}
	int ok = 1;
	for (unsigned i = 0; i < clients; i++) {
		pthread_join(th[i], NULL);
		ok &= w[i].ok;
	}
	if (ok)
		rate = (double)c->n / ((double)(rdpi_monotonic_ns() - t0) / 1e9);
out:
	rdpi_rpc_client_free(cl);
	rdpi_rpc_server_stop(rpc);
	rdpi_service_free(svc);
	server_free(srv);
	engine_free(e);
	return rate;
}

static int is_capture(const char *name)
{
	size_t n = strlen(name);
	return (n > 5 && strcmp(name + n - 5, ".pcap") == 0) ||
	       (n > 7 && strcmp(name + n - 7, ".pcapng") == 0);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	const char *through = NULL;
	int runs = 5;
	char *files[512];
	size_t nf = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--throughput") == 0 && i + 1 < argc) {
			through = argv[++i];
			continue;
		}
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			runs = atoi(argv[++i]);
			continue;
		}
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *de;
			while (d && (de = readdir(d)) && nf < 512) {
				if (!is_capture(de->d_name))
					continue;
				char *p = malloc(strlen(argv[i]) + strlen(de->d_name) + 2);
				sprintf(p, "%s/%s", argv[i], de->d_name);
				files[nf++] = p;
			}
			if (d)
				closedir(d);
		} else if (nf < 512) {
			files[nf++] = strdup(argv[i]);
		}
	}
	qsort(files, nf, sizeof(files[0]), cmp_str);
	if (nf) {
		printf("%-44s %12s", "capture (engine=builtin)", "");
		for (int b = 0; b < B__N; b++)
			printf("  %s", bucket_names[b]);
		printf("\n");
	}
	uint64_t total[B__N] = {0};
	for (size_t i = 0; i < nf; i++) {
		struct capture c;
		if (load(files[i], &c) == 0) {
			const char *base = strrchr(files[i], '/');
			shares(base ? base + 1 : files[i], &c, total);
			unload(&c);
		}
		free(files[i]);
	}
	uint64_t all = 0;
	for (int b = 0; b < B__N; b++)
		all += total[b];
	if (nf) {
		printf("%-44s %6llu flows", "TOTAL", (unsigned long long)all);
		for (int b = 0; b < B__N; b++)
			printf("  %5.1f%%", all ? 100.0 * (double)total[b] / (double)all : 0);
		printf("\n");
	}
	if (through) {
		struct capture c;
		if (load(through, &c) < 0)
			return 1;
		char dir[] = "/tmp/rdpi-cbench-XXXXXX", url[96];
		if (!mkdtemp(dir))
			return 1;
		snprintf(url, sizeof(url), "ipc://%s/bench.ipc", dir);
		double in[64], ipc1[64], ipc2[64], ipc4[64];
		if (runs > 64)
			runs = 64;
		for (int r = 0; r < runs; r++) {
			in[r] = inprocess_rate(&c);
			ipc1[r] = ipc_rate(&c, url, 1);
			ipc2[r] = ipc_rate(&c, url, 2);
			ipc4[r] = ipc_rate(&c, url, 4);
		}
		qsort(in, (size_t)runs, sizeof(double), cmp_double);
		qsort(ipc1, (size_t)runs, sizeof(double), cmp_double);
		qsort(ipc2, (size_t)runs, sizeof(double), cmp_double);
		qsort(ipc4, (size_t)runs, sizeof(double), cmp_double);
		printf("throughput on %s (%zu packets), median of %d runs:\n", through, c.n, runs);
		printf("  builtin in-process (batches of %d)             %10.0f packets/s\n", BATCH,
		       in[runs / 2]);
		printf("  NNG ipc ClassifyBatch of %d, 1 in flight       %10.0f packets/s\n", BATCH,
		       ipc1[runs / 2]);
		printf("  NNG ipc ClassifyBatch of %d, 2 in flight       %10.0f packets/s\n", BATCH,
		       ipc2[runs / 2]);
		printf("  NNG ipc ClassifyBatch of %d, 4 in flight       %10.0f packets/s\n", BATCH,
		       ipc4[runs / 2]);
		unload(&c);
		rmdir(dir);
	}
	return 0;
}

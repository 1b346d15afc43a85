/* dpi-replay: feeds capture files (rdpi_pcapsrc) to the agent's flow engine
 * in-process, or over NNG ObserveBatch to a running agent, and compares the
 * per-flow application protocol with the nDPI ground truth (<file>.ndpi.tsv).
 * Prints agreement, packets/s, peak RSS and bytes per flow. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include "common/flowkey.h"
#include "common/packet.h"
#include "common/pcapsrc.h"
#include "common/rpc.h"
#include "common/service.h"
#include "flows.h"
#include "ndpi_adapter.h"
#include "routerd/dpi/v1/agent.pb-c.h"

struct opts {
	const char *ipc;
	const char *tsv;
	unsigned batch;
	unsigned budget;
	unsigned repeat;
	unsigned inflight;
	bool mismatches;
	bool all_flows;
};

/* ---- ground truth and per-flow answers: one string-keyed table ------------ */

struct row {
	char *key;
	char proto[64], app[48], conf[24];
	bool seen;
	char got_app[48], got_label[96];
};

struct table {
	struct row *rows;
	size_t n, cap;
	size_t *slots; /* open addressing, index + 1 */
	size_t mask;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static struct row *table_find(struct table *t, const char *key)
{
	if (!t->slots)
		return NULL;
	for (size_t i = str_hash(key) & t->mask;; i = (i + 1) & t->mask) {
		size_t s = t->slots[i];
		if (!s)
			return NULL;
		if (strcmp(t->rows[s - 1].key, key) == 0)
			return &t->rows[s - 1];
	}
}

static struct row *table_add(struct table *t, const char *key)
{
	if ((t->n + 1) * 2 > t->mask + 1 || !t->slots) {
		size_t nm = t->slots ? (t->mask + 1) * 2 - 1 : 4095;
		size_t *ns = calloc(nm + 1, sizeof(*ns));
		if (!ns)
			return NULL;
		for (size_t r = 0; r < t->n; r++) {
			size_t i = str_hash(t->rows[r].key) & nm;
			while (ns[i])
				i = (i + 1) & nm;
			ns[i] = r + 1;
		}
		free(t->slots);
		t->slots = ns;
		t->mask = nm;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct row *nr = realloc(t->rows, cap * sizeof(*nr));
		if (!nr)
			return NULL;
		t->rows = nr;
		t->cap = cap;
	}
	struct row *r = &t->rows[t->n];
	memset(r, 0, sizeof(*r));
	r->key = strdup(key);
	size_t i = str_hash(key) & t->mask;
	while (t->slots[i])
		i = (i + 1) & t->mask;
	t->slots[i] = ++t->n;
	return r;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->rows[i].key);
	free(t->rows);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static int load_truth(const char *path, struct table *t)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	char line[4096];
	int ln = 0;
	while (fgets(line, sizeof(line), f)) {
		if (ln++ == 0)
			continue;
		char *col[16] = {0};
		int n = 0;
		for (char *p = line, *tok; n < 16 && (tok = strsep(&p, "\t\n"));)
			col[n++] = tok;
		if (n < 14)
			continue;
		struct row *r = table_add(t, col[7]);
		if (!r)
			break;
		snprintf(r->proto, sizeof(r->proto), "%s", col[8]);
		snprintf(r->app, sizeof(r->app), "%s", col[10]);
		snprintf(r->conf, sizeof(r->conf), "%s", col[13]);
	}
	fclose(f);
	return 0;
}

/* IPv6 text as ndpiReader prints it: the longest run of zero groups is
 * folded into "::" even when it is a single group (RFC 5952 would not). */
static void ip6_text(const uint8_t a[16], char *buf, size_t len)
{
	unsigned g[8];
	int best = -1, bestlen = 0;
	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	size_t o = 0;
	buf[0] = '\0';
	for (int i = 0; i < 8 && o < len; i++) {
		if (i == best) {
			o += (size_t)snprintf(buf + o, len - o, "%s", i == 0 ? "::" : ":");
			i += bestlen - 1;
			continue;
		}
		o += (size_t)snprintf(buf + o, len - o, "%x%s", g[i], i < 7 ? ":" : "");
	}
}

/* ndpiReader's canonical key: "TCP A:pa B:pb", IPv6 in brackets. */
static void key_string(const struct rdpi_flowkey *k, char *buf, size_t len)
{
	char a[RDPI_ADDR_STRLEN], b[RDPI_ADDR_STRLEN], p[16];
	const char *l4;
	switch (k->l4proto) {
	case 6:
		l4 = "TCP";
		break;
	case 17:
		l4 = "UDP";
		break;
	case 1:
		l4 = "ICMP";
		break;
	case 58:
		l4 = "ICMPV6";
		break;
	case 2:
		l4 = "IGMP";
		break;
	default:
		snprintf(p, sizeof(p), "%u", k->l4proto);
		l4 = p;
	}
	if (k->l3 == 6) {
		ip6_text(k->lo_addr, a, sizeof(a));
		ip6_text(k->hi_addr, b, sizeof(b));
	} else {
		rdpi_addr_format(k->lo_addr, a, sizeof(a));
		rdpi_addr_format(k->hi_addr, b, sizeof(b));
	}
	if (k->l3 == 6)
		snprintf(buf, len, "%s [%s]:%u [%s]:%u", l4, a, k->lo_port, b, k->hi_port);
	else
		snprintf(buf, len, "%s %s:%u %s:%u", l4, a, k->lo_port, b, k->hi_port);
}

/* ---- comparison --------------------------------------------------------------- */

struct score {
	uint64_t flows_truth, dpi, agree_app, agree_label, missing, nonunknown, agree_nonunknown;
	uint64_t packets;
	double secs;
};

static void compare(struct table *t, const char *file, const struct opts *o, struct score *s)
{
	for (size_t i = 0; i < t->n; i++) {
		struct row *r = &t->rows[i];
		if (!r->proto[0])
			continue; /* an answer for a flow without ground truth */
		s->flows_truth++;
		bool dpi = strncmp(r->conf, "DPI", 3) == 0;
		bool app_ok = r->seen && strcasecmp(r->app, r->got_app) == 0;
		bool label_ok = r->seen && strcasecmp(r->proto, r->got_label) == 0;
		if (strcmp(r->conf, "Unknown") != 0) {
			s->nonunknown++;
			s->agree_nonunknown += app_ok;
		}
		if (!dpi)
			continue;
		s->dpi++;
		s->agree_app += app_ok;
		s->agree_label += label_ok;
		s->missing += !r->seen;
		if (o->mismatches && !app_ok)
			printf("  mismatch %s: %s | truth %s (%s) got %s\n", file, r->key, r->proto,
			       r->conf, r->seen ? r->got_label : "(no flow)");
	}
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 100.0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void label_of(struct ndpi_adapter *ad, uint16_t master, uint16_t app, char *label,
		     size_t llen, char *appname, size_t alen)
{
	if (master == app)
		master = 0;
	const char *an = ndpi_adapter_proto_name(ad, app ? app : master);
	if (master && app)
		snprintf(label, llen, "%s.%s", ndpi_adapter_proto_name(ad, master), an);
	else
		snprintf(label, llen, "%s", an);
	snprintf(appname, alen, "%s", an);
}

/* ---- in-process ----------------------------------------------------------------- */

struct finish_ctx {
	struct table *t;
	struct ndpi_adapter *ad;
};

static void on_final(void *arg, const struct rdpi_flowkey *k, const struct flows_result *r)
{
	struct finish_ctx *c = arg;
	char key[160];
	key_string(k, key, sizeof(key));
	struct row *row = table_find(c->t, key);
	if (!row && !(row = table_add(c->t, key)))
		return;
	row->seen = true;
	label_of(c->ad, r->proto.master, r->proto.app, row->got_label, sizeof(row->got_label),
		 row->got_app, sizeof(row->got_app));
}

static int run_inproc(const char *file, const struct opts *o, struct table *t, struct score *s,
		      uint64_t *ret_bytes_live, uint64_t *ret_bytes_final, uint64_t *ret_flows)
{
	struct ndpi_adapter *ad = NULL;
	struct flows *fl = NULL;
	struct rdpi_pcapsrc *src = NULL;
	char err[512];
	int rc = ndpi_adapter_new(&ad);
	if (rc < 0) {
		fprintf(stderr, "libndpi: %s\n", strerror(-rc));
		return rc;
	}
	struct flows_opts fo = {
	    .limit = 1u << 20,
	    .ttl_ns = 3600ull * 1000000000ull,
	    .budget_tcp = o->budget,
	    .budget_udp = o->budget,
	    .verdict_meta_max = 96,
	};
	if ((rc = flows_new(&fo, ad, &fl)) < 0)
		goto out;
	if ((rc = rdpi_pcapsrc_open(file, err, sizeof(err), &src)) < 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	struct flows_result *r = malloc(sizeof(*r));
	if (!r) {
		rc = -ENOMEM;
		goto out;
	}
	struct rdpi_pcapsrc_pkt p;
	uint64_t last_ts = 0;
	double t0 = now_s();
	while ((rc = rdpi_pcapsrc_next(src, &p)) == 1) {
		/* the capture clock drives both nDPI and the table's TTL */
		flows_observe_packet(fl, p.l3, p.caplen, p.ts_ns, p.ts_ns, r);
		s->packets++;
		last_ts = p.ts_ns;
	}
	s->secs += now_s() - t0;
	free(r);
	if (rc < 0)
		fprintf(stderr, "%s: read error, using the packets before it\n", file);
	struct flows_stats st;
	flows_stats(fl, &st);
	*ret_flows = st.active;
	*ret_bytes_live =
	    st.table_bytes - st.table_fixed_bytes + st.verdict_bytes + st.ndpi_flow_bytes;
	struct finish_ctx fc = {t, ad};
	flows_finish_all(fl, last_ts, on_final, &fc);
	flows_stats(fl, &st);
	/* every flow is final now: no nDPI flow state is left (what remains in
	 * ndpi_flow_bytes is nDPI's own lazily grown caches) */
	*ret_bytes_final = st.table_bytes - st.table_fixed_bytes + st.verdict_bytes;
	fprintf(stderr, "%s: nDPI bytes after finish %llu (module caches), inspecting %llu\n", file,
		(unsigned long long)st.ndpi_flow_bytes, (unsigned long long)st.inspecting);
	rc = 0;
out:
	rdpi_pcapsrc_free(src);
	flows_free(fl);
	ndpi_adapter_free(ad);
	return rc;
}

/* ---- over NNG ------------------------------------------------------------------- */

/* Packets are sharded by flow onto `inflight` sender threads, each with two
 * batch buffers (one filling, one in flight), so several ObserveBatch calls
 * overlap while every flow's packets still arrive in order. */
#define NNG_PKT_MAX 65536
#define SHARDS_MAX  8

enum { BUF_FREE, BUF_FULL };

struct nbuf {
	int state;
	unsigned n;
	Routerd__Dpi__V1__ClassifyRequest *reqs;
	Routerd__Dpi__V1__ClassifyRequest **preqs;
	uint8_t *data; /* packet bytes, back to back */
	size_t used;
	char (*keys)[160];
};

struct shard {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct nbuf buf[2];
	int fill, quit;
	struct nng_ctx *c;
};

struct nng_ctx {
	struct rdpi_rpc_client *cl;
	unsigned batch, nshards;
	struct shard sh[SHARDS_MAX];
	struct table *t;
	pthread_mutex_t tmu; /* the table, shared by the senders */
	uint64_t calls, errors;
};

static void send_buf(struct nng_ctx *c, struct nbuf *b)
{
	if (!b->n)
		return;
	Routerd__Dpi__V1__ObserveBatchRequest rq = ROUTERD__DPI__V1__OBSERVE_BATCH_REQUEST__INIT;
	rq.n_requests = b->n;
	rq.requests = b->preqs;
	ProtobufCMessage *reply = NULL;
	char err[256];
	enum rdpi_status st = rdpi_rpc_client_call(
	    c->cl, "ObserveBatch", &rq.base, &routerd__dpi__v1__observe_batch_reply__descriptor,
	    5000, &reply, err, sizeof(err));
	pthread_mutex_lock(&c->tmu);
	c->calls++;
	if (st != RDPI_STATUS_OK) {
		c->errors++;
		pthread_mutex_unlock(&c->tmu);
		fprintf(stderr, "ObserveBatch: %s: %s\n", rdpi_status_name(st), err);
		return;
	}
	Routerd__Dpi__V1__ObserveBatchReply *rp = (void *)reply;
	for (size_t i = 0; i < rp->n_results && i < b->n; i++) {
		const Routerd__Dpi__V1__ClassifyResult *res = rp->results[i];
		struct row *row = table_find(c->t, b->keys[i]);
		if (!row && !(row = table_add(c->t, b->keys[i])))
			continue;
		row->seen = true;
		/* the last answer wins; a known answer is never downgraded */
		const char *app = res->applicationprotocol && *res->applicationprotocol
				      ? res->applicationprotocol
				      : "unknown";
		if (strcmp(app, "unknown") == 0 && row->got_app[0])
			continue;
		snprintf(row->got_app, sizeof(row->got_app), "%s", app);
		snprintf(row->got_label, sizeof(row->got_label), "%s",
			 res->detectedprotocol && *res->detectedprotocol ? res->detectedprotocol
									 : "unknown");
	}
	pthread_mutex_unlock(&c->tmu);
	protobuf_c_message_free_unpacked(reply, NULL);
}

static void *sender(void *arg)
{
	struct shard *sh = arg;
	int w = 0;
	for (;;) {
		pthread_mutex_lock(&sh->mu);
		while (sh->buf[w].state != BUF_FULL && !sh->quit)
			pthread_cond_wait(&sh->cv, &sh->mu);
		if (sh->buf[w].state != BUF_FULL) {
			pthread_mutex_unlock(&sh->mu);
			return NULL;
		}
		pthread_mutex_unlock(&sh->mu);
		send_buf(sh->c, &sh->buf[w]);
		pthread_mutex_lock(&sh->mu);
		sh->buf[w].state = BUF_FREE;
		sh->buf[w].n = 0;
		sh->buf[w].used = 0;
		pthread_cond_broadcast(&sh->cv);
		pthread_mutex_unlock(&sh->mu);
		w ^= 1;
	}
}

static int nng_setup(struct nng_ctx *c, const struct opts *o)
{
	c->batch = o->batch;
	c->nshards = o->inflight;
	pthread_mutex_init(&c->tmu, NULL);
	for (unsigned i = 0; i < c->nshards; i++) {
		struct shard *sh = &c->sh[i];
		sh->c = c;
		pthread_mutex_init(&sh->mu, NULL);
		pthread_cond_init(&sh->cv, NULL);
		for (int k = 0; k < 2; k++) {
			struct nbuf *b = &sh->buf[k];
			b->reqs = calloc(o->batch, sizeof(*b->reqs));
			b->preqs = calloc(o->batch, sizeof(*b->preqs));
			b->data = malloc((size_t)o->batch * NNG_PKT_MAX);
			b->keys = calloc(o->batch, sizeof(*b->keys));
			if (!b->reqs || !b->preqs || !b->data || !b->keys)
				return -ENOMEM;
		}
	}
	return 0;
}

static void nng_teardown(struct nng_ctx *c)
{
	for (unsigned i = 0; i < c->nshards; i++) {
		for (int k = 0; k < 2; k++) {
			free(c->sh[i].buf[k].reqs);
			free(c->sh[i].buf[k].preqs);
			free(c->sh[i].buf[k].data);
			free(c->sh[i].buf[k].keys);
		}
	}
}

/* Hand the filling buffer to the sender and wait for the other one. */
static void shard_flush(struct shard *sh)
{
	pthread_mutex_lock(&sh->mu);
	sh->buf[sh->fill].state = BUF_FULL;
	pthread_cond_broadcast(&sh->cv);
	sh->fill ^= 1;
	while (sh->buf[sh->fill].state != BUF_FREE)
		pthread_cond_wait(&sh->cv, &sh->mu);
	pthread_mutex_unlock(&sh->mu);
}

static int run_nng(const char *file, const struct opts *o, struct nng_ctx *c, struct table *t,
		   struct score *s)
{
	struct rdpi_pcapsrc *src = NULL;
	char err[512];
	int rc = rdpi_pcapsrc_open(file, err, sizeof(err), &src);
	if (rc < 0) {
		fprintf(stderr, "%s\n", err);
		return rc;
	}
	c->t = t;
	for (unsigned i = 0; i < c->nshards; i++) {
		struct shard *sh = &c->sh[i];
		sh->quit = 0;
		sh->fill = 0;
		for (int k = 0; k < 2; k++)
			sh->buf[k] = (struct nbuf){.reqs = sh->buf[k].reqs,
						   .preqs = sh->buf[k].preqs,
						   .data = sh->buf[k].data,
						   .keys = sh->buf[k].keys};
		pthread_create(&sh->th, NULL, sender, sh);
	}
	struct rdpi_pcapsrc_pkt p;
	double t0 = now_s();
	while ((rc = rdpi_pcapsrc_next(src, &p)) == 1) {
		struct rdpi_packet pk;
		char key[160] = "";
		uint64_t h = 0;
		if (rdpi_packet_parse(p.l3, p.caplen, &pk) == 0) {
			struct rdpi_flowkey k;
			rdpi_flowkey_from_packet(&pk, &k, NULL);
			key_string(&k, key, sizeof(key));
			h = rdpi_flowkey_hash(&k);
		}
		struct shard *sh = &c->sh[h % c->nshards];
		struct nbuf *b = &sh->buf[sh->fill];
		size_t len = p.caplen < NNG_PKT_MAX ? p.caplen : NNG_PKT_MAX;
		if (b->used + len > (size_t)c->batch * NNG_PKT_MAX) {
			shard_flush(sh);
			b = &sh->buf[sh->fill];
		}
		Routerd__Dpi__V1__ClassifyRequest *rq = &b->reqs[b->n];
		routerd__dpi__v1__classify_request__init(rq);
		memcpy(b->data + b->used, p.l3, len);
		rq->packet.data = b->data + b->used;
		rq->packet.len = len;
		rq->timestampns = p.ts_ns;
		b->used += len;
		memcpy(b->keys[b->n], key, sizeof(key));
		b->preqs[b->n] = rq;
		s->packets++;
		if (++b->n == c->batch)
			shard_flush(sh);
	}
	for (unsigned i = 0; i < c->nshards; i++) {
		struct shard *sh = &c->sh[i];
		pthread_mutex_lock(&sh->mu);
		if (sh->buf[sh->fill].n)
			sh->buf[sh->fill].state = BUF_FULL;
		sh->quit = 1;
		pthread_cond_broadcast(&sh->cv);
		pthread_mutex_unlock(&sh->mu);
		pthread_join(sh->th, NULL);
	}
	s->secs += now_s() - t0;
	rdpi_pcapsrc_free(src);
	return 0;
}

/* ---- main ------------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out, "usage: dpi-replay [--ipc URL] [--batch N] [--first-payload-packets N]\n"
		     "                  [--inflight N] [--repeat N] [--tsv FILE] [--mismatches]\n"
		     "                  capture...\n"
		     "Replays captures through the agent flow engine (in-process, or over NNG\n"
		     "ObserveBatch with --ipc) and compares per-flow application protocols with\n"
		     "<capture>.ndpi.tsv (nDPI ground truth).\n");
}

int main(int argc, char **argv)
{
	struct opts o = {.batch = 64, .budget = 10, .repeat = 1, .inflight = 1};
	static const struct option lo[] = {
	    {"ipc", required_argument, NULL, 'i'},
	    {"batch", required_argument, NULL, 'b'},
	    {"first-payload-packets", required_argument, NULL, 'f'},
	    {"repeat", required_argument, NULL, 'r'},
	    {"tsv", required_argument, NULL, 't'},
	    {"inflight", required_argument, NULL, 'n'},
	    {"mismatches", no_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "i:b:f:r:t:n:mh", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			o.ipc = optarg;
			break;
		case 'b':
			o.batch = (unsigned)atoi(optarg);
			break;
		case 'f':
			o.budget = (unsigned)atoi(optarg);
			break;
		case 'r':
			o.repeat = (unsigned)atoi(optarg);
			break;
		case 't':
			o.tsv = optarg;
			break;
		case 'n':
			o.inflight = (unsigned)atoi(optarg);
			break;
		case 'm':
			o.mismatches = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc || o.batch < 1 || o.batch > 4096 || o.budget < 1 || o.repeat < 1 ||
	    o.inflight < 1 || o.inflight > SHARDS_MAX) {
		usage(stderr);
		return 2;
	}
	if (!o.ipc && !ndpi_adapter_built()) {
		fprintf(stderr, "dpi-replay: built without libndpi; use --ipc to test a running "
				"agent\n");
		return 1;
	}
	struct nng_ctx nc = {0};
	if (o.ipc) {
		if (nng_setup(&nc, &o) < 0 || rdpi_rpc_client_new(o.ipc, NULL, &nc.cl) < 0) {
			fprintf(stderr, "dpi-replay: cannot set up %s\n", o.ipc);
			return 1;
		}
		for (int i = 0; i < 200 && !rdpi_rpc_client_connected(nc.cl); i++)
			nanosleep(&(struct timespec){0, 10000000}, NULL);
	}
	struct score total = {0};
	uint64_t tot_flows = 0, tot_live = 0, tot_final = 0;
	printf("%-40s %6s %6s %8s %8s %9s %11s %9s %9s\n", "capture", "flows", "dpi", "app%",
	       "label%", "packets", "pkts/s", "B/flow", "B/final");
	for (int i = optind; i < argc; i++) {
		const char *file = argv[i];
		char tsv[4096];
		snprintf(tsv, sizeof(tsv), "%s.ndpi.tsv", file);
		for (unsigned rep = 0; rep < o.repeat; rep++) {
			struct table t = {0};
			struct score s = {0};
			uint64_t live = 0, fin = 0, flows = 0;
			int rc = load_truth(o.tsv ? o.tsv : tsv, &t);
			if (rc < 0)
				fprintf(stderr, "%s: no ground truth (%s)\n", file, strerror(-rc));
			if (o.ipc)
				rc = run_nng(file, &o, &nc, &t, &s);
			else
				rc = run_inproc(file, &o, &t, &s, &live, &fin, &flows);
			if (rc < 0) {
				table_free(&t);
				continue;
			}
			compare(&t, file, &o, &s);
			const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
			printf("%-40s %6llu %6llu %7.1f%% %7.1f%% %9llu %11.0f %9llu %9llu\n", base,
			       (unsigned long long)s.flows_truth, (unsigned long long)s.dpi,
			       pct(s.agree_app, s.dpi), pct(s.agree_label, s.dpi),
			       (unsigned long long)s.packets, s.secs > 0 ? s.packets / s.secs : 0,
			       (unsigned long long)(flows ? live / flows : 0),
			       (unsigned long long)(flows ? fin / flows : 0));
			if (rep == 0) {
				total.flows_truth += s.flows_truth;
				total.dpi += s.dpi;
				total.agree_app += s.agree_app;
				total.agree_label += s.agree_label;
				total.missing += s.missing;
				total.nonunknown += s.nonunknown;
				total.agree_nonunknown += s.agree_nonunknown;
				tot_flows += flows;
				tot_live += live;
				tot_final += fin;
			}
			total.packets += s.packets;
			total.secs += s.secs;
			table_free(&t);
		}
	}
	printf("TOTAL flows=%llu dpi_flows=%llu app_agree=%llu (%.2f%%) label_agree=%llu "
	       "(%.2f%%) missing=%llu nonunknown_app_agree=%.2f%% packets=%llu secs=%.3f "
	       "pkts_per_s=%.0f peak_rss_kb=%ld bytes_per_flow_live=%llu "
	       "bytes_per_flow_final=%llu mode=%s\n",
	       (unsigned long long)total.flows_truth, (unsigned long long)total.dpi,
	       (unsigned long long)total.agree_app, pct(total.agree_app, total.dpi),
	       (unsigned long long)total.agree_label, pct(total.agree_label, total.dpi),
	       (unsigned long long)total.missing, pct(total.agree_nonunknown, total.nonunknown),
	       (unsigned long long)total.packets, total.secs,
	       total.secs > 0 ? total.packets / total.secs : 0, peak_rss_kb(),
	       (unsigned long long)(tot_flows ? tot_live / tot_flows : 0),
	       (unsigned long long)(tot_flows ? tot_final / tot_flows : 0),
	       o.ipc ? "nng" : "in-process");
	if (o.ipc) {
		rdpi_rpc_client_free(nc.cl);
		nng_teardown(&nc);
	}
	return 0;
}

/* Micro-benchmark for the per-packet path: flowtab upsert/lookup/churn at a
 * full table, and rdpi_packet_parse + flow key. Prints medians of 5 runs.
 * Rates use thread CPU time so a busy shared host skews them less.
 * Usage: bench_flowtab [entries (100000)] [value_size (64)] */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/counters.h"
#include "common/flowkey.h"
#include "common/flowtab.h"
#include "common/packet.h"

#define RUNS 5

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void make_key(uint32_t i, struct rdpi_flowkey *k)
{
	uint8_t a[16] = {0}, b[16] = {0};
	a[10] = a[11] = b[10] = b[11] = 0xff;
	a[12] = 10;
	a[13] = (uint8_t)(i >> 16);
	a[14] = (uint8_t)(i >> 8);
	a[15] = (uint8_t)i;
	b[12] = 198;
	b[13] = 51;
	b[14] = 100;
	b[15] = (uint8_t)(i % 7);
	rdpi_flowkey_make(4, IPPROTO_TCP, a, (uint16_t)(1024 + i % 60000), b, 443, k, NULL);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof(*v), cmp_double);
	return v[RUNS / 2];
}

static double rate(uint64_t ops, uint64_t t0, uint64_t t1)
{
	return (double)ops / ((double)(t1 - t0) / 1e9);
}

/* xorshift: a fixed shuffle so lookups do not walk memory in insert order */
static void shuffle(uint32_t *v, size_t n)
{
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	for (size_t i = n - 1; i > 0; i--) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		size_t j = (size_t)(s % (i + 1));
		uint32_t t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

static size_t build_v4_tcp(uint8_t *b)
{
	static const char pl[] = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
	size_t n = 20 + 20 + sizeof(pl) - 1;
	memset(b, 0, 40);
	b[0] = 0x45;
	b[2] = (uint8_t)(n >> 8);
	b[3] = (uint8_t)n;
	b[8] = 64;
	b[9] = IPPROTO_TCP;
	memcpy(b + 12, (const uint8_t[]){192, 0, 2, 10}, 4);
	memcpy(b + 16, (const uint8_t[]){198, 51, 100, 10}, 4);
	b[20] = 0xcf;
	b[21] = 0xb0;
	b[23] = 80;
	b[32] = 5 << 4;
	b[33] = 0x18;
	memcpy(b + 40, pl, sizeof(pl) - 1);
	return n;
}

static size_t build_v6_ext_udp(uint8_t *b)
{
	size_t n = 40 + 8 + 8 + 8 + 20;
	memset(b, 0, n);
	b[0] = 0x60;
	b[5] = (uint8_t)(n - 40);
	b[6] = IPPROTO_HOPOPTS;
	b[7] = 64;
	b[8] = 0x20;
	b[9] = 0x01;
	b[23] = 1;
	b[24] = 0x20;
	b[25] = 0x01;
	b[39] = 2;
	b[40] = IPPROTO_FRAGMENT; /* hop-by-hop, 8 bytes */
	b[48] = IPPROTO_DSTOPTS;  /* fragment, atomic */
	b[56] = IPPROTO_UDP;	  /* destination options, 8 bytes */
	b[64] = 0xc3;		  /* UDP 50000 -> 443 */
	b[65] = 0x50;
	b[67] = 0xbb;
	b[69] = 28;
	return n;
}

static double bench_parse(const uint8_t *pkt, size_t len, uint64_t iters)
{
	struct rdpi_packet p;
	struct rdpi_flowkey k;
	uint64_t acc = 0;
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < iters; i++) {
		if (rdpi_packet_parse(pkt, len, &p) != 0)
			abort();
		int dir;
		rdpi_flowkey_from_packet(&p, &k, &dir);
		acc += k.lo_port + (unsigned)dir;
	}
	uint64_t t1 = now_ns();
	if (acc == 42)
		puts("");
	return rate(iters, t0, t1);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	size_t vsize = argc > 2 ? strtoul(argv[2], NULL, 10) : 64;
	const uint32_t churn = 1000000, passes = 10;
	if (n < 2 || n > RDPI_FLOWTAB_MAX_LIMIT) {
		fprintf(stderr, "bench_flowtab: entries must be 2..%u\n", RDPI_FLOWTAB_MAX_LIMIT);
		return 2;
	}

	struct rdpi_flowkey *keys = malloc((2 * n + churn) * sizeof(*keys));
	uint32_t *order = malloc(n * sizeof(*order));
	if (!keys || !order) {
		fprintf(stderr, "bench_flowtab: out of memory\n");
		return 1;
	}
	for (uint32_t i = 0; i < 2 * n + churn; i++)
		make_key(i, &keys[i]);
	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	shuffle(order, n);

	double ins[RUNS], hit[RUNS], miss[RUNS], chr[RUNS], p4[RUNS], p6[RUNS], idr[RUNS];
	double acct_per = 0, rss_per = 0;
	for (int run = 0; run < RUNS; run++) {
		struct rdpi_flowtab_opts o = {
		    .limit = n, .ttl_ns = 300ULL * 1000000000ULL, .value_size = vsize};
		struct rdpi_flowtab *t = NULL;
		uint64_t rss0 = rdpi_process_rss_bytes();
		int r = rdpi_flowtab_new(&o, &t);
		if (r != 0) {
			fprintf(stderr, "bench_flowtab: new: %s\n", strerror(-r));
			return 1;
		}
		uint64_t clock = 1, t0, t1;
		void *v;

		t0 = now_ns();
		for (size_t i = 0; i < n; i++)
			if (rdpi_flowtab_upsert(t, &keys[i], clock++, &v, NULL) != 0)
				abort();
		t1 = now_ns();
		ins[run] = rate(n, t0, t1);
		struct rdpi_flowtab_stats st;
		rdpi_flowtab_stats(t, &st);
		uint64_t rss1 = rdpi_process_rss_bytes();
		acct_per = (double)st.bytes / (double)n;
		if (run == 0 && rss1 > rss0)
			rss_per = (double)(rss1 - rss0) / (double)n;

		t0 = now_ns();
		for (uint32_t pass = 0; pass < passes; pass++)
			for (size_t i = 0; i < n; i++)
				if (!rdpi_flowtab_lookup(t, &keys[order[i]], clock++))
					abort();
		t1 = now_ns();
		hit[run] = rate((uint64_t)passes * n, t0, t1);

		t0 = now_ns();
		for (uint32_t pass = 0; pass < passes; pass++)
			for (size_t i = 0; i < n; i++)
				if (rdpi_flowtab_lookup(t, &keys[n + order[i]], clock++))
					abort();
		t1 = now_ns();
		miss[run] = rate((uint64_t)passes * n, t0, t1);

		/* steady state at the limit: every new key evicts the LRU entry */
		t0 = now_ns();
		for (uint32_t i = 0; i < churn; i++)
			if (rdpi_flowtab_upsert(t, &keys[2 * n + i], clock++, &v, NULL) != 0)
				abort();
		t1 = now_ns();
		chr[run] = rate(churn, t0, t1);
		rdpi_flowtab_stats(t, &st);
		if (st.evictions != churn || st.size != n)
			abort();
		rdpi_flowtab_free(t);

		uint8_t pkt4[128], pkt6[128];
		size_t l4 = build_v4_tcp(pkt4), l6 = build_v6_ext_udp(pkt6);
		p4[run] = bench_parse(pkt4, l4, 5000000);
		p6[run] = bench_parse(pkt6, l6, 5000000);

		uint8_t id[16], acc = 0;
		t0 = now_ns();
		for (uint32_t i = 0; i < 1000000; i++) {
			rdpi_flowkey_id(&keys[i % n], id);
			acc ^= id[0];
		}
		t1 = now_ns();
		idr[run] = rate(1000000, t0, t1);
		if (acc == 0x5a)
			puts("");
	}

	printf("bench_flowtab: %zu entries, value_size %zu, median of %d runs\n", n, vsize, RUNS);
	printf("  upsert, %zu new keys        %8.2f Mops/s\n", n, median(ins) / 1e6);
	printf("  lookup hit (shuffled)        %8.2f Mops/s\n", median(hit) / 1e6);
	printf("  lookup miss                  %8.2f Mops/s\n", median(miss) / 1e6);
	printf("  upsert churn, evicting LRU   %8.2f Mops/s\n", median(chr) / 1e6);
	printf("  parse + flowkey, v4 tcp      %8.2f Mops/s\n", median(p4) / 1e6);
	printf("  parse + flowkey, v6 3-ext udp%8.2f Mops/s\n", median(p6) / 1e6);
	printf("  flowkey_id (SipHash-128)     %8.2f Mops/s\n", median(idr) / 1e6);
	printf("  bytes/entry: accounted %.1f, RSS growth %.1f (first run)\n", acct_per, rss_per);
	free(keys);
	free(order);
	return 0;
}

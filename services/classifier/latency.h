/* Latency statistics for /v1/status: count, mean, max and p50/p99 from a
 * fixed log-scale histogram (no per-sample storage). Thread-safe. */
#ifndef RDPI_CLASSIFIER_LATENCY_H
#define RDPI_CLASSIFIER_LATENCY_H

#include <pthread.h>
#include <stdint.h>

#define LATENCY_BUCKETS 64

struct latency {
	pthread_mutex_t lock;
	uint64_t samples;
	uint64_t sum_ns, max_ns;
	uint64_t buckets[LATENCY_BUCKETS]; /* bucket i: < 1us * 2^(i/2) */
};

void latency_init(struct latency *l);
void latency_fini(struct latency *l);
void latency_add(struct latency *l, uint64_t ns);

struct latency_summary {
	uint64_t samples;
	double avg_ms, max_ms, p50_ms, p99_ms;
};
void latency_summary(struct latency *l, struct latency_summary *ret);

#endif

/* Latency statistics from a log-scale histogram (see latency.h). */
#include "latency.h"

#include <math.h>
#include <string.h>

void latency_init(struct latency *l)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
}

void latency_fini(struct latency *l)
{
	pthread_mutex_destroy(&l->lock);
}

/* Upper bound of bucket i in ns: 1000 * 2^(i/2), so two buckets per doubling. */
static double bucket_upper_ns(int i)
{
	return 1000.0 * pow(2.0, (i + 1) / 2.0);
}

static int bucket_of(uint64_t ns)
{
	for (int i = 0; i < LATENCY_BUCKETS - 1; i++)
		if ((double)ns < bucket_upper_ns(i))
			return i;
	return LATENCY_BUCKETS - 1;
}

void latency_add(struct latency *l, uint64_t ns)
{
	int b = bucket_of(ns);
	pthread_mutex_lock(&l->lock);
	l->samples++;
	l->sum_ns += ns;
	if (ns > l->max_ns)
		l->max_ns = ns;
	l->buckets[b]++;
	pthread_mutex_unlock(&l->lock);
}

static double quantile_ms(const struct latency *l, double q)
{
	uint64_t want = (uint64_t)ceil(q * (double)l->samples), seen = 0;
	for (int i = 0; i < LATENCY_BUCKETS; i++) {
		seen += l->buckets[i];
		if (seen >= want && seen > 0) {
			double up = bucket_upper_ns(i) / 1e6, max = (double)l->max_ns / 1e6;
			return up < max ? up : max;
		}
	}
	return 0;
}

void latency_summary(struct latency *l, struct latency_summary *ret)
{
	pthread_mutex_lock(&l->lock);
	ret->samples = l->samples;
	ret->avg_ms = l->samples ? (double)l->sum_ns / (double)l->samples / 1e6 : 0;
	ret->max_ms = (double)l->max_ns / 1e6;
	ret->p50_ms = l->samples ? quantile_ms(l, 0.50) : 0;
	ret->p99_ms = l->samples ? quantile_ms(l, 0.99) : 0;
	pthread_mutex_unlock(&l->lock);
}

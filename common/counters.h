/* Counter registry: named atomic counters and gauges that back /v1/status
 * fields and the Prometheus text at /metrics. */
#ifndef RDPI_COMMON_COUNTERS_H
#define RDPI_COMMON_COUNTERS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum rdpi_counter_kind { RDPI_COUNTER, RDPI_GAUGE };

/* Embedded handle: daemons update it directly, lock-free. */
struct rdpi_counter {
	_Atomic uint64_t v;
};

static inline void rdpi_counter_add(struct rdpi_counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(&c->v, n, memory_order_relaxed);
}
static inline void rdpi_counter_inc(struct rdpi_counter *c)
{
	rdpi_counter_add(c, 1);
}
static inline void rdpi_counter_set(struct rdpi_counter *c, uint64_t n)
{
	atomic_store_explicit(&c->v, n, memory_order_relaxed);
}
static inline uint64_t rdpi_counter_get(const struct rdpi_counter *c)
{
	return atomic_load_explicit(&((struct rdpi_counter *)c)->v, memory_order_relaxed);
}

/* Gauge computed on read (RSS, table sizes). */
typedef uint64_t (*rdpi_gauge_fn)(void *arg);

struct rdpi_counters;

/* prefix is prepended to every metric name ("routerd_dpi_classifier_"). */
int rdpi_counters_new(const char *prefix, struct rdpi_counters **ret);
void rdpi_counters_free(struct rdpi_counters *reg);

/* Register a counter the caller owns (it must outlive the registry). name is
 * [a-z_][a-z0-9_]*; label may be NULL or `key="value"`; -EEXIST on a repeat,
 * -EINVAL on a bad name. A name registered again with another kind is -EINVAL;
 * past 4096 entries -ENOSPC. Gauge fns run under the registry lock and must
 * not call back into it.
 *
 * name is also the key of get/foreach (the /v1/status field); /metrics shows
 * it under Prometheus naming rules: a sub-second unit word (`_ms`, `_us`,
 * `_ns`, `_milliseconds`, `_microseconds`, `_nanoseconds`) is dropped and the
 * exposed name ends in `_seconds` with the value scaled to seconds, and a
 * RDPI_COUNTER always ends in `_total`: "commit_us_last" -> "commit_last_seconds",
 * "dpi_latency_us_total" -> "dpi_latency_seconds_total", "packets_in" ->
 * "packets_in_total"; a name ending in `_count` (before `_total`) only loses
 * the unit word and is not scaled ("x_us_count" -> "x_count_total"). Two
 * names exposed alike with one label are -EEXIST. */
int rdpi_counters_register(struct rdpi_counters *reg, const char *name, const char *label,
			   enum rdpi_counter_kind kind, const char *help, struct rdpi_counter *c);
int rdpi_counters_register_fn(struct rdpi_counters *reg, const char *name, const char *label,
			      enum rdpi_counter_kind kind, const char *help, rdpi_gauge_fn fn,
			      void *arg);

/* Register the gauge process_resident_memory_bytes (rdpi_process_rss_bytes). */
int rdpi_counters_register_process(struct rdpi_counters *reg);

/* Current value by name (+label); -ENOENT. */
int rdpi_counters_get(struct rdpi_counters *reg, const char *name, const char *label,
		      uint64_t *ret);

/* Visits every entry; names come without the prefix, values are sampled under
 * the registry lock and fn runs after it is released. */
typedef void (*rdpi_counters_each_fn)(void *arg, const char *name, const char *label,
				      enum rdpi_counter_kind kind, uint64_t value);
void rdpi_counters_foreach(struct rdpi_counters *reg, rdpi_counters_each_fn fn, void *arg);

/* Prometheus text exposition format 0.0.4 (one HELP/TYPE per exposed name,
 * labelled series grouped under it, names as described at register); caller
 * frees *ret_text; ret_len may be NULL. */
int rdpi_counters_prometheus(struct rdpi_counters *reg, char **ret_text, size_t *ret_len);

/* Resident set size of this process in bytes (from /proc/self/statm), 0 if unknown. */
uint64_t rdpi_process_rss_bytes(void);

#endif

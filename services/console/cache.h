/* Result cache of the console's heavy endpoints: serialized JSON bodies keyed by path +
 * canonical query, exact while both databases are unchanged (data_version), bounded-stale
 * (ttl) while the logger writes, single-flight computation, LRU-bounded. */
#ifndef RDPI_SERVICES_CONSOLE_CACHE_H
#define RDPI_SERVICES_CONSOLE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CACHE_NVERSIONS 2

struct cache;
struct cache_entry;
struct rdpi_counters;

/* Current versions of the data sources (db_version of both files): 0, or negative when a
 * version is unknown (missing database): the entry is then neither served past the ttl nor
 * stored. Called without the cache lock held (it may block on a database lock). */
typedef int (*cache_version_fn)(void *arg, uint64_t ret[CACHE_NVERSIONS]);

struct cache_opts {
	int64_t ttl_ns;	    /* 0: disabled, every lookup a miss */
	int64_t max_age_ns; /* an entry is never served older than this (window edges) */
	size_t max_entries; /* LRU beyond; 0: 64 */
	size_t max_body;    /* larger bodies are not stored; 0: 8 MiB */
	cache_version_fn version_fn;
	void *version_arg;
	struct rdpi_counters *reg; /* cache_hits_total, cache_misses_total, cache_entries... */
};

int cache_new(const struct cache_opts *opts, struct cache **ret);
/* Frees every entry; no lookup may be in flight. NULL ok. */
void cache_free(struct cache *c);
bool cache_enabled(const struct cache *c);

/* Look up key (NULL: not cacheable, counted as a miss). Hit: 1 with a malloc'd copy of the body in
 * *ret_body / *ret_len. Miss: 0; *ret_entry is the caller's ticket (NULL: compute without storing)
 * and must be handed back to cache_end: concurrent lookups of the same key wait for it instead of
 * computing too. Negative errno on allocation failure (compute without storing). */
int cache_begin(struct cache *c, const char *key, char **ret_body, size_t *ret_len,
		struct cache_entry **ret_entry);
/* End the computation of a miss: store (a copy of) body when store is true, otherwise drop
 * the entry; wakes the waiters. e NULL: no-op. */
void cache_end(struct cache *c, struct cache_entry *e, const char *body, size_t len, bool store);

#endif

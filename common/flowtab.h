/* Bounded flow table keyed by struct rdpi_flowkey with fixed-size values: O(1)
 * lookup/insert, idle-TTL expiry and LRU eviction at the limit (design section
 * 4). Used by the logger budget table, the classifier cache and the agent. */
#ifndef RDPI_COMMON_FLOWTAB_H
#define RDPI_COMMON_FLOWTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rdpi_flowkey;
struct rdpi_flowtab;

#define RDPI_FLOWTAB_MAX_LIMIT	    (1u << 24) /* entries */
#define RDPI_FLOWTAB_MAX_VALUE_SIZE (1u << 20) /* bytes */

struct rdpi_flowtab_opts {
	size_t limit;	   /* max entries, 1..RDPI_FLOWTAB_MAX_LIMIT */
	uint64_t ttl_ns;   /* idle time after which an entry expires; 0 = never */
	size_t value_size; /* bytes per value, 0..RDPI_FLOWTAB_MAX_VALUE_SIZE */
	/* Called once for every entry that leaves the table (remove, expiry,
	 * eviction, rdpi_flowtab_free), just before its memory is reused or
	 * freed; may be NULL. It must not call back into the table. */
	void (*value_fini_fn)(void *value, void *arg);
	void *arg;
};

struct rdpi_flowtab_stats {
	uint64_t size;
	uint64_t inserts;    /* entries created by upsert */
	uint64_t lookups;    /* rdpi_flowtab_lookup() calls */
	uint64_t hits;	     /* ... that found a live entry */
	uint64_t evictions;  /* live LRU entries pushed out at the limit */
	uint64_t expiries;   /* entries dropped for being idle > ttl (lookup, upsert, expire) */
	uint64_t limit_hits; /* inserts that found the table full (evicting a live or idle tail) */
	uint64_t removals;   /* rdpi_flowtab_remove() successes */
	size_t bytes;	     /* table + bucket array + entries (allocator overhead excluded) */
};

/* Values are zeroed on creation, aligned for any type (max_align_t) and stay
 * at the same address until the entry leaves the table. The bucket array
 * (8 bytes per slot, a power of two >= limit) is allocated here; entries are
 * allocated on insert. Not thread-safe: one owner thread per table. Times are
 * the caller's monotonic clock in ns. -EINVAL on bad opts, -ENOMEM. */
int rdpi_flowtab_new(const struct rdpi_flowtab_opts *opts, struct rdpi_flowtab **ret);

/* Calls value_fini_fn for every entry, then frees everything. NULL is a no-op. */
void rdpi_flowtab_free(struct rdpi_flowtab *t);

/* Value of k, or NULL. A hit marks the entry most recently used at now_ns; an
 * entry idle longer than ttl is expired (value_fini_fn, counted) and misses.
 * The pointer is valid until the entry leaves the table. */
void *rdpi_flowtab_lookup(struct rdpi_flowtab *t, const struct rdpi_flowkey *k, uint64_t now_ns);

/* Value of k or NULL, without touching the LRU, checking ttl or counting. */
void *rdpi_flowtab_peek(struct rdpi_flowtab *t, const struct rdpi_flowkey *k);

/* Get or create the entry of k and mark it most recently used. A new entry's
 * value is zeroed and *ret_created (may be NULL) set true. An existing entry
 * idle past ttl is expired first and replaced by a fresh one. At the limit the
 * least recently used entry is dropped (counted in limit_hits, and in
 * evictions or expiries). -ENOMEM leaves the table as it was. */
int rdpi_flowtab_upsert(struct rdpi_flowtab *t, const struct rdpi_flowkey *k, uint64_t now_ns,
			void **ret_value, bool *ret_created);

/* Drops the entry of k (value_fini_fn runs); -ENOENT if absent. */
int rdpi_flowtab_remove(struct rdpi_flowtab *t, const struct rdpi_flowkey *k);

/* Drops idle entries from the LRU tail, at most max_work of them, stopping at
 * the first live one; returns how many went. Meant for a periodic timer. */
size_t rdpi_flowtab_expire(struct rdpi_flowtab *t, uint64_t now_ns, size_t max_work);

void rdpi_flowtab_stats(const struct rdpi_flowtab *t, struct rdpi_flowtab_stats *ret);

/* Visits every entry, most recently used first. fn must not modify the table;
 * a nonzero return from fn stops the walk and is returned. */
int rdpi_flowtab_foreach(struct rdpi_flowtab *t,
			 int (*fn)(const struct rdpi_flowkey *k, void *value, void *arg),
			 void *arg);

size_t rdpi_flowtab_size(const struct rdpi_flowtab *t);

#endif

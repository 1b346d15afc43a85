/* Console result cache (see cache.h): a fixed array of entries under one mutex, a condition
 * variable for the single-flight waiters, LRU by a use tick. */
#include "cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/counters.h"

#define DEFAULT_ENTRIES	 64
#define DEFAULT_MAX_BODY (8u << 20)

struct cache_entry {
	char *key; /* NULL: free slot */
	char *body;
	size_t len;
	int64_t computed_ns; /* monotonic, when the computation started */
	uint64_t ver[CACHE_NVERSIONS];
	bool ver_ok;
	bool computing;
	uint64_t last_use;
	uint64_t gen; /* bumped on every change: a lookup that dropped the lock re-checks */
};

struct cache {
	pthread_mutex_t lock;
	pthread_cond_t done;
	int64_t ttl_ns, max_age_ns;
	size_t max_body;
	cache_version_fn version_fn;
	void *version_arg;
	struct cache_entry *e;
	size_t n;
	uint64_t tick;
	size_t bytes;
	struct rdpi_counter hits, misses, waits, too_large, entries, bytes_gauge;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int register_counters(struct cache *c, struct rdpi_counters *reg)
{
	int rv;
	if (!reg)
		return 0;
	if ((rv = rdpi_counters_register(reg, "cache_hits_total", NULL, RDPI_COUNTER,
					 "API answers served from the result cache", &c->hits)) <
		0 ||
	    (rv = rdpi_counters_register(reg, "cache_misses_total", NULL, RDPI_COUNTER,
					 "API answers computed (cache miss, stale or disabled)",
					 &c->misses)) < 0 ||
	    (rv = rdpi_counters_register(reg, "cache_waits_total", NULL, RDPI_COUNTER,
					 "lookups that waited for an identical computation",
					 &c->waits)) < 0 ||
	    (rv = rdpi_counters_register(reg, "cache_too_large_total", NULL, RDPI_COUNTER,
					 "answers not stored: body above the size bound",
					 &c->too_large)) < 0 ||
	    (rv = rdpi_counters_register(reg, "cache_entries", NULL, RDPI_GAUGE,
					 "answers held in the result cache", &c->entries)) < 0 ||
	    (rv = rdpi_counters_register(reg, "cache_bytes", NULL, RDPI_GAUGE,
					 "bytes of the bodies held in the result cache",
					 &c->bytes_gauge)) < 0)
		return rv;
	return 0;
}

int cache_new(const struct cache_opts *opts, struct cache **ret)
{
	struct cache *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ttl_ns = opts->ttl_ns > 0 ? opts->ttl_ns : 0;
	c->max_age_ns = opts->max_age_ns;
	c->max_body = opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
	c->version_fn = opts->version_fn;
	c->version_arg = opts->version_arg;
	c->n = opts->max_entries ? opts->max_entries : DEFAULT_ENTRIES;
	c->e = calloc(c->n, sizeof(*c->e));
	int rv = c->e ? register_counters(c, opts->reg) : -ENOMEM;
	if (rv < 0) {
		free(c->e);
		free(c);
		return rv;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->done, NULL);
	*ret = c;
	return 0;
}

static void entry_clear(struct cache *c, struct cache_entry *e)
{
	c->bytes -= e->body ? e->len : 0;
	free(e->key);
	free(e->body);
	e->key = e->body = NULL;
	e->len = 0;
	e->ver_ok = false;
	e->gen++;
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		entry_clear(c, &c->e[i]);
	free(c->e);
	pthread_cond_destroy(&c->done);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

bool cache_enabled(const struct cache *c)
{
	return c && c->ttl_ns > 0;
}

static void update_gauges(struct cache *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++)
		n += c->e[i].key && !c->e[i].computing;
	rdpi_counter_set(&c->entries, n);
	rdpi_counter_set(&c->bytes_gauge, c->bytes);
}

static struct cache_entry *find(struct cache *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].key && strcmp(c->e[i].key, key) == 0)
			return &c->e[i];
	return NULL;
}

/* A free slot, else the least recently used entry that nobody computes. */
static struct cache_entry *victim(struct cache *c)
{
	struct cache_entry *v = NULL;
	for (size_t i = 0; i < c->n; i++) {
		struct cache_entry *e = &c->e[i];
		if (!e->key)
			return e;
		if (!e->computing && (!v || e->last_use < v->last_use))
			v = e;
	}
	return v;
}

/* Locked; 1 when e may be served now. May drop the lock to read the versions: then 0 with
 * *ret_retry when the entry changed meanwhile. */
static int fresh(struct cache *c, struct cache_entry *e, bool *ret_retry)
{
	int64_t age = mono_ns() - e->computed_ns;
	*ret_retry = false;
	if (!e->body || age < 0 || age >= c->max_age_ns)
		return 0;
	if (age < c->ttl_ns)
		return 1; /* bounded staleness: the data may have changed */
	if (!e->ver_ok || !c->version_fn)
		return 0;
	uint64_t gen = e->gen, want[CACHE_NVERSIONS], cur[CACHE_NVERSIONS];
	memcpy(want, e->ver, sizeof(want));
	pthread_mutex_unlock(&c->lock);
	int rv = c->version_fn(c->version_arg, cur);
	pthread_mutex_lock(&c->lock);
	if (e->gen != gen) {
		*ret_retry = true;
		return 0;
	}
	/* unchanged data: exactly what a recomputation would answer */
	return rv == 0 && memcmp(want, cur, sizeof(want)) == 0;
}

int cache_begin(struct cache *c, const char *key, char **ret_body, size_t *ret_len,
		struct cache_entry **ret_entry)
{
	*ret_entry = NULL;
	if (!cache_enabled(c) || !key) {
		rdpi_counter_inc(&c->misses);
		return 0;
	}
	pthread_mutex_lock(&c->lock);
	struct cache_entry *e;
	for (;;) {
		e = find(c, key);
		if (e && e->computing) {
			rdpi_counter_inc(&c->waits);
			pthread_cond_wait(&c->done, &c->lock);
			continue;
		}
		if (e) {
			bool retry;
			int ok = fresh(c, e, &retry);
			if (retry)
				continue;
			if (ok) {
				char *copy = malloc(e->len + 1);
				if (!copy) {
					pthread_mutex_unlock(&c->lock);
					return -ENOMEM;
				}
				memcpy(copy, e->body, e->len);
				copy[e->len] = '\0';
				e->last_use = ++c->tick;
				pthread_mutex_unlock(&c->lock);
				rdpi_counter_inc(&c->hits);
				*ret_body = copy;
				*ret_len = e->len;
				return 1;
			}
			/* stale: recompute in place */
			c->bytes -= e->body ? e->len : 0;
			free(e->body);
			e->body = NULL;
			e->len = 0;
			break;
		}
		e = victim(c);
		if (!e)
			break; /* every slot is being computed: compute without storing */
		entry_clear(c, e);
		e->key = strdup(key);
		if (!e->key) {
			e = NULL;
			break;
		}
		break;
	}
	if (e) {
		e->computing = true;
		e->ver_ok = false;
		e->gen++;
		e->last_use = ++c->tick;
		e->computed_ns = mono_ns();
	}
	update_gauges(c);
	pthread_mutex_unlock(&c->lock);
	rdpi_counter_inc(&c->misses);
	if (!e)
		return 0;
	/* versions before the computation: a commit during it leaves the entry older than the
	 * data, so the next check recomputes rather than serving it as exact */
	uint64_t v[CACHE_NVERSIONS];
	bool ok = c->version_fn && c->version_fn(c->version_arg, v) == 0;
	pthread_mutex_lock(&c->lock);
	if (ok)
		memcpy(e->ver, v, sizeof(v));
	e->ver_ok = ok;
	pthread_mutex_unlock(&c->lock);
	*ret_entry = e;
	return 0;
}

void cache_end(struct cache *c, struct cache_entry *e, const char *body, size_t len, bool store)
{
	if (!e)
		return;
	pthread_mutex_lock(&c->lock);
	e->computing = false;
	if (store && len > c->max_body) {
		rdpi_counter_inc(&c->too_large);
		store = false;
	}
	if (store && e->ver_ok && (e->body = malloc(len + 1))) {
		memcpy(e->body, body, len);
		e->body[len] = '\0';
		e->len = len;
		c->bytes += len;
		e->gen++;
	} else {
		entry_clear(c, e);
	}
	update_gauges(c);
	pthread_cond_broadcast(&c->done);
	pthread_mutex_unlock(&c->lock);
}

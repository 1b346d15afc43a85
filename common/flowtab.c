/* Bounded flow table: power-of-two bucket array with intrusive chains plus an
 * intrusive LRU list (head = most recent) so expiry and eviction pop the tail. */
#include "common/flowtab.h"

#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/flowkey.h"

struct link {
	struct link *prev, *next;
};

struct entry {
	struct link lru; /* first: a link pointer converts back to its entry */
	struct entry *hnext;
	struct entry **hpprev;
	uint64_t hash;
	uint64_t last_ns;
	struct rdpi_flowkey key;
	max_align_t value[]; /* value_size bytes */
};

struct rdpi_flowtab {
	struct rdpi_flowtab_opts opts;
	struct entry **buckets;
	size_t mask;
	size_t entry_size;
	struct link lru; /* sentinel */
	uint8_t seed[16];
	struct rdpi_flowtab_stats st;
};

static struct entry *link_entry(struct link *l)
{
	return (struct entry *)(void *)l;
}

static void lru_unlink(struct link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
}

static void lru_push_head(struct rdpi_flowtab *t, struct link *l)
{
	l->prev = &t->lru;
	l->next = t->lru.next;
	t->lru.next->prev = l;
	t->lru.next = l;
}

static void seed_init(uint8_t seed[16])
{
	/* a secret seed keeps remote peers from steering keys into one chain;
	 * without entropy fall back to something that at least varies */
	if (getrandom(seed, 16, GRND_NONBLOCK) == 16)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t a = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30);
	uint64_t b = (uint64_t)(uintptr_t)seed ^ (uint64_t)(uintptr_t)&ts;
	memcpy(seed, &a, 8);
	memcpy(seed + 8, &b, 8);
}

int rdpi_flowtab_new(const struct rdpi_flowtab_opts *opts, struct rdpi_flowtab **ret)
{
	if (!opts || !ret || opts->limit == 0 || opts->limit > RDPI_FLOWTAB_MAX_LIMIT ||
	    opts->value_size > RDPI_FLOWTAB_MAX_VALUE_SIZE)
		return -EINVAL;

	struct rdpi_flowtab *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	size_t nb = 16;
	while (nb < opts->limit)
		nb <<= 1;
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return -ENOMEM;
	}
	t->opts = *opts;
	t->mask = nb - 1;
	size_t a = alignof(max_align_t);
	t->entry_size = (sizeof(struct entry) + opts->value_size + a - 1) / a * a;
	t->lru.prev = t->lru.next = &t->lru;
	seed_init(t->seed);
	*ret = t;
	return 0;
}

static void fini_value(struct rdpi_flowtab *t, struct entry *e)
{
	if (t->opts.value_fini_fn)
		t->opts.value_fini_fn(e->value, t->opts.arg);
}

void rdpi_flowtab_free(struct rdpi_flowtab *t)
{
	if (!t)
		return;
	struct link *l = t->lru.next;
	while (l != &t->lru) {
		struct link *next = l->next;
		struct entry *e = link_entry(l);
		fini_value(t, e);
		free(e);
		l = next;
	}
	free(t->buckets);
	free(t);
}

static struct entry *find(struct rdpi_flowtab *t, const struct rdpi_flowkey *k, uint64_t h)
{
	for (struct entry *e = t->buckets[h & t->mask]; e; e = e->hnext)
		if (e->hash == h && rdpi_flowkey_equal(&e->key, k))
			return e;
	return NULL;
}

static bool is_idle(const struct rdpi_flowtab *t, const struct entry *e, uint64_t now_ns)
{
	return t->opts.ttl_ns != 0 && now_ns > e->last_ns && now_ns - e->last_ns > t->opts.ttl_ns;
}

static void touch(struct rdpi_flowtab *t, struct entry *e, uint64_t now_ns)
{
	/* a caller clock that steps back must not make an entry look older */
	if (now_ns > e->last_ns)
		e->last_ns = now_ns;
	if (t->lru.next != &e->lru) {
		lru_unlink(&e->lru);
		lru_push_head(t, &e->lru);
	}
}

/* Takes e out of both structures and runs value_fini; memory stays with the
 * caller to free or reuse. */
static void detach(struct rdpi_flowtab *t, struct entry *e)
{
	*e->hpprev = e->hnext;
	if (e->hnext)
		e->hnext->hpprev = e->hpprev;
	lru_unlink(&e->lru);
	t->st.size--;
	fini_value(t, e);
}

void *rdpi_flowtab_lookup(struct rdpi_flowtab *t, const struct rdpi_flowkey *k, uint64_t now_ns)
{
	t->st.lookups++;
	struct entry *e = find(t, k, rdpi_flowkey_hash_seeded(k, t->seed));
	if (!e)
		return NULL;
	if (is_idle(t, e, now_ns)) {
		detach(t, e);
		free(e);
		t->st.expiries++;
		return NULL;
	}
	touch(t, e, now_ns);
	t->st.hits++;
	return e->value;
}

void *rdpi_flowtab_peek(struct rdpi_flowtab *t, const struct rdpi_flowkey *k)
{
	struct entry *e = find(t, k, rdpi_flowkey_hash_seeded(k, t->seed));
	return e ? e->value : NULL;
}

int rdpi_flowtab_upsert(struct rdpi_flowtab *t, const struct rdpi_flowkey *k, uint64_t now_ns,
			void **ret_value, bool *ret_created)
{
	uint64_t h = rdpi_flowkey_hash_seeded(k, t->seed);
	struct entry *e = find(t, k, h);

	if (e && is_idle(t, e, now_ns)) {
		detach(t, e);
		free(e);
		t->st.expiries++;
		e = NULL;
	}
	if (e) {
		touch(t, e, now_ns);
		*ret_value = e->value;
		if (ret_created)
			*ret_created = false;
		return 0;
	}

	if (t->st.size >= t->opts.limit) {
		/* reuse the victim's memory: steady churn at the limit never
		 * goes back to the allocator */
		e = link_entry(t->lru.prev);
		bool idle = is_idle(t, e, now_ns);
		detach(t, e);
		t->st.limit_hits++;
		if (idle)
			t->st.expiries++;
		else
			t->st.evictions++;
	} else {
		e = malloc(t->entry_size);
		if (!e)
			return -ENOMEM;
	}
	memset(e, 0, t->entry_size);
	e->key = *k;
	e->hash = h;
	e->last_ns = now_ns;
	struct entry **b = &t->buckets[h & t->mask];
	e->hnext = *b;
	e->hpprev = b;
	if (*b)
		(*b)->hpprev = &e->hnext;
	*b = e;
	lru_push_head(t, &e->lru);
	t->st.size++;
	t->st.inserts++;
	*ret_value = e->value;
	if (ret_created)
		*ret_created = true;
	return 0;
}

int rdpi_flowtab_remove(struct rdpi_flowtab *t, const struct rdpi_flowkey *k)
{
	struct entry *e = find(t, k, rdpi_flowkey_hash_seeded(k, t->seed));
	if (!e)
		return -ENOENT;
	detach(t, e);
	free(e);
	t->st.removals++;
	return 0;
}

size_t rdpi_flowtab_expire(struct rdpi_flowtab *t, uint64_t now_ns, size_t max_work)
{
	size_t n = 0;
	while (n < max_work && t->lru.prev != &t->lru) {
		struct entry *e = link_entry(t->lru.prev);
		if (!is_idle(t, e, now_ns))
			break;
		detach(t, e);
		free(e);
		t->st.expiries++;
		n++;
	}
	return n;
}

void rdpi_flowtab_stats(const struct rdpi_flowtab *t, struct rdpi_flowtab_stats *ret)
{
	*ret = t->st;
	ret->bytes =
	    sizeof(*t) + (t->mask + 1) * sizeof(*t->buckets) + (size_t)t->st.size * t->entry_size;
}

int rdpi_flowtab_foreach(struct rdpi_flowtab *t,
			 int (*fn)(const struct rdpi_flowkey *k, void *value, void *arg), void *arg)
{
	for (struct link *l = t->lru.next; l != &t->lru; l = l->next) {
		struct entry *e = link_entry(l);
		int r = fn(&e->key, e->value, arg);
		if (r != 0)
			return r;
	}
	return 0;
}

size_t rdpi_flowtab_size(const struct rdpi_flowtab *t)
{
	return (size_t)t->st.size;
}

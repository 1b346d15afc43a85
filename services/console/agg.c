/* String-keyed aggregation table (see agg.h): open addressing over a slot array that grows
 * with the keys (a table sized for the bound up front made every request clear megabytes and
 * miss the cache); each entry is one block, the value followed by its key. */
#include "agg.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SLOTS 64

struct entry {
	uint64_t hash;
	size_t len;
	char *block; /* value (valsize bytes, zeroed), then the key and a NUL */
};

struct slot {
	uint32_t idx;  /* index+1 into e, 0 = empty */
	uint32_t hash; /* low bits of the entry's hash: most mismatches never touch the entry */
};

struct agg {
	size_t valsize, keyoff, max, n, dropped;
	struct entry *e;
	size_t ecap;
	struct slot *slots;
	size_t nslots, max_slots;
};

static uint64_t hash(const char *k, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

int agg_new(size_t valsize, size_t max_keys, struct agg **ret)
{
	struct agg *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->valsize = valsize;
	a->keyoff = (valsize + 15) & ~(size_t)15;
	a->max = max_keys ? max_keys : 1;
	a->max_slots = MIN_SLOTS;
	while (a->max_slots < a->max * 2)
		a->max_slots *= 2;
	a->nslots = MIN_SLOTS;
	a->slots = calloc(a->nslots, sizeof(*a->slots));
	if (!a->slots) {
		free(a);
		return -ENOMEM;
	}
	*ret = a;
	return 0;
}

void agg_free(struct agg *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->e[i].block);
	free(a->e);
	free(a->slots);
	free(a);
}

static void place(struct slot *slots, size_t nslots, uint64_t h, uint32_t idx)
{
	size_t mask = nslots - 1, i = (size_t)h & mask;
	while (slots[i].idx)
		i = (i + 1) & mask;
	slots[i].idx = idx;
	slots[i].hash = (uint32_t)h;
}

/* Double the slots while the load would pass 1/2; false when that fails (allocation). */
static bool grow(struct agg *a)
{
	if ((a->n + 1) * 2 <= a->nslots || a->nslots >= a->max_slots)
		return true;
	size_t ns = a->nslots * 2;
	struct slot *s = calloc(ns, sizeof(*s));
	if (!s)
		return false;
	for (size_t k = 0; k < a->n; k++)
		place(s, ns, a->e[k].hash, (uint32_t)(k + 1));
	free(a->slots);
	a->slots = s;
	a->nslots = ns;
	return true;
}

void *agg_get(struct agg *a, const char *key, size_t len)
{
	uint64_t h = hash(key, len);
	size_t mask = a->nslots - 1, i = (size_t)h & mask;
	for (;; i = (i + 1) & mask) {
		const struct slot *s = &a->slots[i];
		if (!s->idx)
			break;
		if (s->hash != (uint32_t)h)
			continue;
		struct entry *e = &a->e[s->idx - 1];
		if (e->hash == h && e->len == len && memcmp(e->block + a->keyoff, key, len) == 0)
			return e->block;
	}
	if (a->n >= a->max) {
		a->dropped++;
		return NULL;
	}
	if (a->n == a->ecap) {
		size_t ncap = a->ecap ? a->ecap * 2 : 64;
		if (ncap > a->max)
			ncap = a->max;
		struct entry *ne = realloc(a->e, ncap * sizeof(*ne));
		if (!ne) {
			a->dropped++;
			return NULL;
		}
		a->e = ne;
		a->ecap = ncap;
	}
	char *block = calloc(1, a->keyoff + len + 1);
	if (!block || !grow(a)) {
		free(block);
		a->dropped++;
		return NULL;
	}
	memcpy(block + a->keyoff, key, len);
	struct entry *e = &a->e[a->n];
	e->hash = h;
	e->len = len;
	e->block = block;
	place(a->slots, a->nslots, h, (uint32_t)(++a->n));
	return block;
}

size_t agg_len(const struct agg *a)
{
	return a->n;
}

size_t agg_dropped(const struct agg *a)
{
	return a->dropped;
}

const char *agg_key(const struct agg *a, size_t i)
{
	return a->e[i].block + a->keyoff;
}

void *agg_val(const struct agg *a, size_t i)
{
	return a->e[i].block;
}

static _Thread_local int (*sort_cmp)(const void *, const void *);

static int entry_cmp(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	return sort_cmp(a->block, b->block);
}

void agg_sort(struct agg *a, int (*cmp)(const void *va, const void *vb))
{
	if (a->n < 2)
		return;
	sort_cmp = cmp;
	qsort(a->e, a->n, sizeof(*a->e), entry_cmp);
	memset(a->slots, 0, a->nslots * sizeof(*a->slots));
	for (size_t k = 0; k < a->n; k++)
		place(a->slots, a->nslots, a->e[k].hash, (uint32_t)(k + 1));
}

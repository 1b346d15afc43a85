/* String-keyed aggregation table (see agg.h). */
#include "agg.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char *key;
	size_t len;
	uint64_t hash;
	void *val;
};

struct agg {
	size_t valsize, max, n, dropped;
	struct entry *e; /* n used, max capacity (allocated as needed) */
	size_t ecap;
	uint32_t *slots; /* index+1 into e, 0 = empty */
	size_t nslots;
	int (*cmp)(const void *, const void *);
};

static uint64_t hash(const char *k, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 1099511628211ull;
	}
	return h;
}

int agg_new(size_t valsize, size_t max_keys, struct agg **ret)
{
	struct agg *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->valsize = valsize;
	a->max = max_keys ? max_keys : 1;
	a->nslots = 64;
	while (a->nslots < a->max * 2)
		a->nslots *= 2;
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
	for (size_t i = 0; i < a->n; i++) {
		free(a->e[i].key);
		free(a->e[i].val);
	}
	free(a->e);
	free(a->slots);
	free(a);
}

void *agg_get(struct agg *a, const char *key, size_t len)
{
	uint64_t h = hash(key, len);
	size_t mask = a->nslots - 1, i = (size_t)h & mask;
	for (;; i = (i + 1) & mask) {
		uint32_t s = a->slots[i];
		if (!s)
			break;
		struct entry *e = &a->e[s - 1];
		if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0)
			return e->val;
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
	struct entry *e = &a->e[a->n];
	e->key = malloc(len + 1);
	e->val = calloc(1, a->valsize ? a->valsize : 1);
	if (!e->key || !e->val) {
		free(e->key);
		free(e->val);
		a->dropped++;
		return NULL;
	}
	memcpy(e->key, key, len);
	e->key[len] = '\0';
	e->len = len;
	e->hash = h;
	a->slots[i] = (uint32_t)(++a->n);
	return e->val;
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
	return a->e[i].key;
}

void *agg_val(const struct agg *a, size_t i)
{
	return a->e[i].val;
}

static _Thread_local int (*sort_cmp)(const void *, const void *);

static int entry_cmp(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	return sort_cmp(a->val, b->val);
}

void agg_sort(struct agg *a, int (*cmp)(const void *va, const void *vb))
{
	if (a->n < 2)
		return;
	sort_cmp = cmp;
	qsort(a->e, a->n, sizeof(*a->e), entry_cmp);
	/* rebuild the slots */
	memset(a->slots, 0, a->nslots * sizeof(*a->slots));
	size_t mask = a->nslots - 1;
	for (size_t k = 0; k < a->n; k++) {
		size_t i = (size_t)a->e[k].hash & mask;
		while (a->slots[i])
			i = (i + 1) & mask;
		a->slots[i] = (uint32_t)(k + 1);
	}
}

/* Bounded string-keyed aggregation table for the console's one-pass queries (top lists,
 * per-client stats): open addressing, values are caller-defined fixed-size structs. */
#ifndef RDPI_SERVICES_CONSOLE_AGG_H
#define RDPI_SERVICES_CONSOLE_AGG_H

#include <stddef.h>

struct agg;

/* valsize: bytes per value (zeroed when created); max_keys: bound on distinct keys. */
int agg_new(size_t valsize, size_t max_keys, struct agg **ret);
void agg_free(struct agg *a);

/* Value for key (created zeroed), or NULL when the table is full or out of memory (counted
 * in agg_dropped). len: bytes of key. */
void *agg_get(struct agg *a, const char *key, size_t len);
size_t agg_len(const struct agg *a);
size_t agg_dropped(const struct agg *a);
/* Entry i (0 .. agg_len-1), in insertion order until agg_sort. Keys are NUL-terminated. */
const char *agg_key(const struct agg *a, size_t i);
void *agg_val(const struct agg *a, size_t i);
/* Sort the entries by value (qsort comparator over value pointers); lookups stay valid. */
void agg_sort(struct agg *a, int (*cmp)(const void *va, const void *vb));

#endif

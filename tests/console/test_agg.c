/* The console's aggregation table (services/console/agg.c): growth from a small slot array up
 * to the key bound, stable value pointers, the bound itself, and lookups after sorting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agg.h"

struct val {
	int64_t n;
	int64_t id;
};

static void test_agg_grows_and_keeps_values(void **state)
{
	(void)state;
	struct agg *a;
	assert_int_equal(agg_new(sizeof(struct val), 100000, &a), 0);
	enum { N = 20000 };
	static struct val *first[N];
	char key[32];
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++) {
			int len = snprintf(key, sizeof(key), "10.0.%d.%d|%d", i / 256, i % 256, i);
			struct val *v = agg_get(a, key, (size_t)len);
			assert_non_null(v);
			if (round == 0) {
				assert_int_equal(v->n, 0); /* created zeroed */
				v->id = i;
				first[i] = v;
			}
			/* the same value block for the same key, across every growth of the slots
			 */
			assert_ptr_equal(v, first[i]);
			v->n++;
		}
	}
	assert_int_equal(agg_len(a), N);
	assert_int_equal(agg_dropped(a), 0);
	for (size_t i = 0; i < agg_len(a); i++) {
		const struct val *v = agg_val(a, i);
		assert_int_equal(v->n, 3);
		int len = snprintf(key, sizeof(key), "10.0.%d.%d|%d", (int)v->id / 256,
				   (int)v->id % 256, (int)v->id);
		assert_int_equal(strlen(agg_key(a, i)), len); /* NUL-terminated copy */
		assert_string_equal(agg_key(a, i), key);
	}
	agg_free(a);
}

static void test_agg_keys_with_nul_and_prefixes(void **state)
{
	(void)state;
	struct agg *a;
	assert_int_equal(agg_new(sizeof(int64_t), 16, &a), 0);
	int64_t *x = agg_get(a, "ab\0c", 4), *y = agg_get(a, "ab", 2), *z = agg_get(a, "abc", 3);
	assert_non_null(x);
	assert_non_null(y);
	assert_non_null(z);
	assert_ptr_not_equal(x, y);
	assert_ptr_not_equal(y, z);
	assert_ptr_equal(agg_get(a, "ab\0c", 4), x);
	assert_int_equal(agg_len(a), 3);
	agg_free(a);
}

static void test_agg_bound(void **state)
{
	(void)state;
	struct agg *a;
	assert_int_equal(agg_new(sizeof(int64_t), 100, &a), 0);
	char key[16];
	for (int i = 0; i < 150; i++) {
		int len = snprintf(key, sizeof(key), "k%d", i);
		int64_t *v = agg_get(a, key, (size_t)len);
		if (i < 100)
			assert_non_null(v);
		else
			assert_null(v);
	}
	assert_int_equal(agg_len(a), 100);
	assert_int_equal(agg_dropped(a), 50);
	/* keys already in still answer at the bound */
	assert_non_null(agg_get(a, "k7", 2));
	assert_int_equal(agg_dropped(a), 50);
	agg_free(a);
}

static int by_n_desc(const void *x, const void *y)
{
	const struct val *a = x, *b = y;
	return a->n > b->n ? -1 : a->n < b->n;
}

static void test_agg_sort_then_lookup(void **state)
{
	(void)state;
	struct agg *a;
	assert_int_equal(agg_new(sizeof(struct val), 1000, &a), 0);
	char key[16];
	for (int i = 0; i < 500; i++) {
		int len = snprintf(key, sizeof(key), "app%d", i);
		struct val *v = agg_get(a, key, (size_t)len);
		v->n = (i * 7919) % 500;
		v->id = i;
	}
	agg_sort(a, by_n_desc);
	for (size_t i = 1; i < agg_len(a); i++)
		assert_true(((struct val *)agg_val(a, i - 1))->n >=
			    ((struct val *)agg_val(a, i))->n);
	for (int i = 0; i < 500; i++) {
		int len = snprintf(key, sizeof(key), "app%d", i);
		struct val *v = agg_get(a, key, (size_t)len);
		assert_int_equal(v->id, i);
	}
	assert_int_equal(agg_len(a), 500);
	agg_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_agg_grows_and_keeps_values),
	    cmocka_unit_test(test_agg_keys_with_nul_and_prefixes),
	    cmocka_unit_test(test_agg_bound),
	    cmocka_unit_test(test_agg_sort_then_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for common/flowtab: bidirectional lookup, TTL expiry, LRU eviction at
 * the limit, exact counters, value_fini accounting and a 100k-entry run. */
#include "common/flowtab.h"

#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/flowkey.h"

#define SEC 1000000000ULL

struct val {
	uint32_t id;
	uint32_t packets;
};

struct fini_log {
	size_t calls;
	uint8_t *seen; /* per id: times finalised */
	size_t nseen;
};

static void val_fini(void *value, void *arg)
{
	struct fini_log *log = arg;
	struct val *v = value;
	log->calls++;
	if (log->seen) {
		assert_true(v->id < log->nseen);
		log->seen[v->id]++;
	}
}

/* Key number i: 10.x.y.z:(1024+i%50000) <-> 192.0.2.1:443 over TCP. */
static void key_n(uint32_t i, struct rdpi_flowkey *k, bool reverse)
{
	uint8_t a[16] = {0}, b[16] = {0};
	a[10] = a[11] = b[10] = b[11] = 0xff;
	a[12] = 10;
	a[13] = (uint8_t)(i >> 16);
	a[14] = (uint8_t)(i >> 8);
	a[15] = (uint8_t)i;
	b[12] = 192;
	b[14] = 2;
	b[15] = 1;
	uint16_t port = (uint16_t)(1024 + i % 50000);
	if (reverse)
		rdpi_flowkey_make(4, IPPROTO_TCP, b, 443, a, port, k, NULL);
	else
		rdpi_flowkey_make(4, IPPROTO_TCP, a, port, b, 443, k, NULL);
}

static struct rdpi_flowtab *new_tab(size_t limit, uint64_t ttl, struct fini_log *log)
{
	struct rdpi_flowtab_opts o = {
	    .limit = limit,
	    .ttl_ns = ttl,
	    .value_size = sizeof(struct val),
	    .value_fini_fn = log ? val_fini : NULL,
	    .arg = log,
	};
	struct rdpi_flowtab *t = NULL;
	assert_int_equal(rdpi_flowtab_new(&o, &t), 0);
	assert_non_null(t);
	return t;
}

static struct val *put(struct rdpi_flowtab *t, uint32_t i, uint64_t now, bool *created)
{
	struct rdpi_flowkey k;
	void *v = NULL;
	key_n(i, &k, false);
	assert_int_equal(rdpi_flowtab_upsert(t, &k, now, &v, created), 0);
	struct val *val = v;
	val->id = i;
	return val;
}

static struct val *get(struct rdpi_flowtab *t, uint32_t i, uint64_t now)
{
	struct rdpi_flowkey k;
	key_n(i, &k, false);
	return rdpi_flowtab_lookup(t, &k, now);
}

static void test_flowtab_bad_opts(void **state)
{
	(void)state;
	struct rdpi_flowtab *t = (struct rdpi_flowtab *)0x1;
	struct rdpi_flowtab_opts o = {.limit = 0, .value_size = 8};
	assert_int_equal(rdpi_flowtab_new(&o, &t), -EINVAL);
	o.limit = RDPI_FLOWTAB_MAX_LIMIT + 1;
	assert_int_equal(rdpi_flowtab_new(&o, &t), -EINVAL);
	o.limit = 10;
	o.value_size = RDPI_FLOWTAB_MAX_VALUE_SIZE + 1;
	assert_int_equal(rdpi_flowtab_new(&o, &t), -EINVAL);
	assert_ptr_equal(t, (struct rdpi_flowtab *)0x1);
	rdpi_flowtab_free(NULL);
}

static void test_flowtab_both_directions_one_entry(void **state)
{
	(void)state;
	struct fini_log log = {0};
	struct rdpi_flowtab *t = new_tab(16, 0, &log);
	struct rdpi_flowkey fwd, rev;
	key_n(7, &fwd, false);
	key_n(7, &rev, true);
	void *v1 = NULL, *v2 = NULL;
	bool created = false;
	assert_int_equal(rdpi_flowtab_upsert(t, &fwd, 1, &v1, &created), 0);
	assert_true(created);
	((struct val *)v1)->packets = 1;
	assert_int_equal(rdpi_flowtab_upsert(t, &rev, 2, &v2, &created), 0);
	assert_false(created);
	assert_ptr_equal(v1, v2);
	assert_int_equal(((struct val *)v2)->packets, 1);
	assert_ptr_equal(rdpi_flowtab_lookup(t, &rev, 3), v1);
	assert_ptr_equal(rdpi_flowtab_peek(t, &fwd), v1);
	assert_int_equal(rdpi_flowtab_size(t), 1);
	rdpi_flowtab_free(t);
	assert_int_equal(log.calls, 1);
}

static void test_flowtab_values_zeroed_and_aligned(void **state)
{
	(void)state;
	struct rdpi_flowtab_opts o = {.limit = 4, .value_size = 100};
	struct rdpi_flowtab *t = NULL;
	assert_int_equal(rdpi_flowtab_new(&o, &t), 0);
	for (uint32_t i = 0; i < 10; i++) {
		struct rdpi_flowkey k;
		key_n(i, &k, false);
		void *v = NULL;
		assert_int_equal(rdpi_flowtab_upsert(t, &k, i, &v, NULL), 0);
		assert_int_equal((uintptr_t)v % _Alignof(max_align_t), 0);
		uint8_t zero[100] = {0};
		assert_memory_equal(v, zero, 100);
		memset(v, 0xab, 100); /* dirty it: reuse after eviction must re-zero */
	}
	rdpi_flowtab_free(t);
}

static void test_flowtab_ttl_expiry_on_lookup(void **state)
{
	(void)state;
	struct fini_log log = {0};
	struct rdpi_flowtab *t = new_tab(16, 10 * SEC, &log);
	put(t, 1, 100 * SEC, NULL);
	assert_non_null(get(t, 1, 105 * SEC));
	/* idle is measured from the last touch (105), not the insert */
	assert_non_null(get(t, 1, 115 * SEC));
	assert_null(get(t, 1, 125 * SEC + 1));
	assert_int_equal(rdpi_flowtab_size(t), 0);
	assert_int_equal(log.calls, 1);
	struct rdpi_flowtab_stats st;
	rdpi_flowtab_stats(t, &st);
	assert_int_equal(st.expiries, 1);
	assert_int_equal(st.lookups, 3);
	assert_int_equal(st.hits, 2);

	/* an idle entry met by upsert is replaced by a fresh, zeroed one */
	struct val *v = put(t, 2, 200 * SEC, NULL);
	v->packets = 9;
	bool created = false;
	v = put(t, 2, 211 * SEC, &created);
	assert_true(created);
	assert_int_equal(v->packets, 0);
	rdpi_flowtab_stats(t, &st);
	assert_int_equal(st.expiries, 2);
	assert_int_equal(st.inserts, 3);
	/* a clock that steps back does not expire anything */
	assert_non_null(get(t, 2, 5 * SEC));
	rdpi_flowtab_free(t);
	assert_int_equal(log.calls, 3);
}

static void test_flowtab_expire_pops_idle_tail_bounded(void **state)
{
	(void)state;
	struct fini_log log = {0};
	struct rdpi_flowtab *t = new_tab(64, 100, &log);
	for (uint32_t i = 0; i < 10; i++)
		put(t, i, i, NULL);
	/* at 105 entries touched at 0..4 are idle > 100 */
	assert_int_equal(rdpi_flowtab_expire(t, 105, 3), 3);
	assert_int_equal(rdpi_flowtab_size(t), 7);
	assert_null(rdpi_flowtab_peek(t, &(struct rdpi_flowkey){0}));
	assert_int_equal(rdpi_flowtab_expire(t, 105, 100), 2);
	assert_int_equal(rdpi_flowtab_expire(t, 105, 100), 0);
	assert_int_equal(rdpi_flowtab_size(t), 5);
	for (uint32_t i = 0; i < 10; i++) {
		struct rdpi_flowkey k;
		key_n(i, &k, false);
		if (i < 5)
			assert_null(rdpi_flowtab_peek(t, &k));
		else
			assert_non_null(rdpi_flowtab_peek(t, &k));
	}
	/* a touched entry moves off the tail and survives */
	assert_non_null(get(t, 5, 104));
	assert_int_equal(rdpi_flowtab_expire(t, 200, 0), 0);
	assert_int_equal(rdpi_flowtab_expire(t, 200, 100), 4);
	assert_int_equal(rdpi_flowtab_size(t), 1);
	assert_non_null(get(t, 5, 200));
	struct rdpi_flowtab_stats st;
	rdpi_flowtab_stats(t, &st);
	assert_int_equal(st.expiries, 9);
	assert_int_equal(st.evictions, 0);
	rdpi_flowtab_free(t);
	assert_int_equal(log.calls, 10);

	/* ttl 0: nothing ever expires */
	t = new_tab(4, 0, NULL);
	put(t, 1, 0, NULL);
	assert_int_equal(rdpi_flowtab_expire(t, UINT64_MAX, 10), 0);
	assert_non_null(get(t, 1, UINT64_MAX));
	rdpi_flowtab_free(t);
}

static void test_flowtab_lru_evicts_least_recently_touched(void **state)
{
	(void)state;
	struct fini_log log = {0};
	uint8_t seen[8] = {0};
	log.seen = seen;
	log.nseen = sizeof(seen);
	struct rdpi_flowtab *t = new_tab(3, 1000, &log);
	put(t, 0, 1, NULL);
	put(t, 1, 2, NULL);
	put(t, 2, 3, NULL);
	assert_non_null(get(t, 0, 4)); /* oldest insert, but touched */
	put(t, 3, 5, NULL);	       /* evicts 1 */
	assert_int_equal(seen[1], 1);
	assert_int_equal(seen[0], 0);
	assert_non_null(get(t, 0, 6));
	assert_null(get(t, 1, 6));
	assert_non_null(get(t, 2, 6));
	assert_non_null(get(t, 3, 6));
	/* peek does not touch: 0 stays least recent after 2 and 3 are touched */
	struct rdpi_flowkey k0;
	key_n(0, &k0, false);
	assert_non_null(get(t, 2, 7));
	assert_non_null(get(t, 3, 7));
	assert_non_null(rdpi_flowtab_peek(t, &k0));
	put(t, 4, 8, NULL); /* evicts 0 */
	assert_int_equal(seen[0], 1);
	assert_null(rdpi_flowtab_peek(t, &k0));

	struct rdpi_flowtab_stats st;
	rdpi_flowtab_stats(t, &st);
	assert_int_equal(st.size, 3);
	assert_int_equal(st.inserts, 5);
	assert_int_equal(st.evictions, 2);
	assert_int_equal(st.limit_hits, 2);
	assert_int_equal(st.expiries, 0);
	assert_int_equal(st.lookups, 7);
	assert_int_equal(st.hits, 6);

	/* at the limit an idle tail goes as an expiry, still a limit hit */
	put(t, 5, 5000, NULL);
	rdpi_flowtab_stats(t, &st);
	assert_int_equal(st.evictions, 2);
	assert_int_equal(st.expiries, 1);
	assert_int_equal(st.limit_hits, 3);
	rdpi_flowtab_free(t);
	for (int i = 0; i < 6; i++)
		assert_int_equal(seen[i], 1);
}

static void test_flowtab_remove(void **state)
{
	(void)state;
	struct fini_log log = {0};
	struct rdpi_flowtab *t = new_tab(8, 0, &log);
	put(t, 1, 0, NULL);
	put(t, 2, 0, NULL);
	struct rdpi_flowkey k;
	key_n(1, &k, true);
	assert_int_equal(rdpi_flowtab_remove(t, &k), 0);
	assert_int_equal(log.calls, 1);
	assert_int_equal(rdpi_flowtab_remove(t, &k), -ENOENT);
	assert_null(rdpi_flowtab_peek(t, &k));
	assert_non_null(get(t, 2, 0));
	struct rdpi_flowtab_stats st;
	rdpi_flowtab_stats(t, &st);
	assert_int_equal(st.removals, 1);
	assert_int_equal(st.size, 1);
	rdpi_flowtab_free(t);
	assert_int_equal(log.calls, 2);
}

static int collect(const struct rdpi_flowkey *k, void *value, void *arg)
{
	(void)k;
	uint32_t **out = arg;
	**out = ((struct val *)value)->id;
	(*out)++;
	return ((struct val *)value)->id == 99 ? 42 : 0;
}

static void test_flowtab_foreach_order_and_stop(void **state)
{
	(void)state;
	struct rdpi_flowtab *t = new_tab(8, 0, NULL);
	put(t, 1, 1, NULL);
	put(t, 2, 2, NULL);
	put(t, 3, 3, NULL);
	assert_non_null(get(t, 1, 4));
	uint32_t ids[8], *p = ids;
	assert_int_equal(rdpi_flowtab_foreach(t, collect, &p), 0);
	assert_int_equal(p - ids, 3);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 3);
	assert_int_equal(ids[2], 2);
	put(t, 99, 5, NULL);
	p = ids;
	assert_int_equal(rdpi_flowtab_foreach(t, collect, &p), 42);
	assert_int_equal(p - ids, 1);
	rdpi_flowtab_free(t);
}

static void test_flowtab_value_fini_once_per_entry(void **state)
{
	(void)state;
	enum { N = 2000 };
	struct fini_log log = {0};
	log.seen = calloc(N, 1);
	log.nseen = N;
	struct rdpi_flowtab *t = new_tab(500, 1000, &log);
	uint64_t now = 0;
	for (uint32_t i = 0; i < N; i++) {
		/* slow arrivals first (entries go idle), then fast (pushed out live) */
		now += i < N / 2 ? 3 : 1;
		put(t, i, now, NULL);
		if (i % 7 == 0) {
			struct rdpi_flowkey k;
			key_n(i, &k, false);
			assert_int_equal(rdpi_flowtab_remove(t, &k), 0);
		}
		if (i % 50 == 0)
			rdpi_flowtab_expire(t, now, 10);
	}
	struct rdpi_flowtab_stats st;
	rdpi_flowtab_stats(t, &st);
	assert_int_equal(st.inserts, N);
	assert_int_equal(st.removals + st.expiries + st.evictions + st.size, N);
	assert_true(st.expiries > 0);
	assert_true(st.evictions > 0);
	assert_int_equal(log.calls, N - st.size);
	rdpi_flowtab_free(t);
	assert_int_equal(log.calls, N);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(log.seen[i], 1);
	free(log.seen);
}

static void test_flowtab_100k_entries(void **state)
{
	(void)state;
	enum { N = 100000 };
	struct fini_log log = {0};
	struct rdpi_flowtab *t = new_tab(N, 0, &log);
	for (uint32_t i = 0; i < N; i++) {
		bool created = false;
		struct val *v = put(t, i, i, &created);
		assert_true(created);
		v->packets = i * 3;
	}
	assert_int_equal(rdpi_flowtab_size(t), N);
	for (uint32_t i = 0; i < N; i++) {
		struct val *v = get(t, i, N + i);
		assert_non_null(v);
		assert_int_equal(v->id, i);
		assert_int_equal(v->packets, i * 3);
	}
	for (uint32_t i = N; i < N + 1000; i++)
		assert_null(get(t, i, 2 * N));
	/* full: the next insert pushes out key 0, touched longest ago */
	put(t, N, 2 * N, NULL);
	struct rdpi_flowkey k0;
	key_n(0, &k0, false);
	assert_null(rdpi_flowtab_peek(t, &k0));
	struct rdpi_flowtab_stats st;
	rdpi_flowtab_stats(t, &st);
	assert_int_equal(st.size, N);
	assert_int_equal(st.inserts, N + 1);
	assert_int_equal(st.lookups, N + 1000);
	assert_int_equal(st.hits, N);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.limit_hits, 1);
	assert_true(st.bytes > (size_t)N * (sizeof(struct rdpi_flowkey) + sizeof(struct val)));
	rdpi_flowtab_free(t);
	assert_int_equal(log.calls, N + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flowtab_bad_opts),
	    cmocka_unit_test(test_flowtab_both_directions_one_entry),
	    cmocka_unit_test(test_flowtab_values_zeroed_and_aligned),
	    cmocka_unit_test(test_flowtab_ttl_expiry_on_lookup),
	    cmocka_unit_test(test_flowtab_expire_pops_idle_tail_bounded),
	    cmocka_unit_test(test_flowtab_lru_evicts_least_recently_touched),
	    cmocka_unit_test(test_flowtab_remove),
	    cmocka_unit_test(test_flowtab_foreach_order_and_stop),
	    cmocka_unit_test(test_flowtab_value_fini_once_per_entry),
	    cmocka_unit_test(test_flowtab_100k_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for common/counters: registration rules, lookup, iteration and the
 * Prometheus text exposition served at /metrics. */
#include "common/counters.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static size_t count_substr(const char *s, const char *sub)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, sub)) != NULL; p += strlen(sub))
		n++;
	return n;
}

static uint64_t fixed_gauge(void *arg)
{
	return *(uint64_t *)arg;
}

static void test_counters_register_and_get(void **state)
{
	(void)state;
	struct rdpi_counters *reg = NULL;
	assert_int_equal(rdpi_counters_new("rdpi_test_", &reg), 0);
	struct rdpi_counter c = {0};
	assert_int_equal(
	    rdpi_counters_register(reg, "requests_total", NULL, RDPI_COUNTER, "Requests.", &c), 0);
	rdpi_counter_add(&c, 41);
	rdpi_counter_inc(&c);
	uint64_t v = 0;
	assert_int_equal(rdpi_counters_get(reg, "requests_total", NULL, &v), 0);
	assert_int_equal(v, 42);
	v = 7;
	assert_int_equal(rdpi_counters_get(reg, "nope", NULL, &v), -ENOENT);
	assert_int_equal(v, 7); /* untouched on failure */
	assert_int_equal(rdpi_counters_get(reg, "requests_total", "a=\"b\"", &v), -ENOENT);
	rdpi_counters_free(reg);
}

static void test_counters_rejects_bad_and_duplicate(void **state)
{
	(void)state;
	struct rdpi_counters *reg = NULL;
	assert_int_equal(rdpi_counters_new("p_", &reg), 0);
	struct rdpi_counter c = {0}, d = {0};
	assert_int_equal(rdpi_counters_register(reg, "Bad", NULL, RDPI_COUNTER, "", &c), -EINVAL);
	assert_int_equal(rdpi_counters_register(reg, "9x", NULL, RDPI_COUNTER, "", &c), -EINVAL);
	assert_int_equal(rdpi_counters_register(reg, "a-b", NULL, RDPI_COUNTER, "", &c), -EINVAL);
	assert_int_equal(rdpi_counters_register(reg, "", NULL, RDPI_COUNTER, "", &c), -EINVAL);
	assert_int_equal(rdpi_counters_register(reg, "x", "noquotes=1", RDPI_COUNTER, "", &c),
			 -EINVAL);
	assert_int_equal(rdpi_counters_register(reg, "x", "k=\"v", RDPI_COUNTER, "", &c), -EINVAL);
	assert_int_equal(rdpi_counters_register(reg, "x", NULL, RDPI_COUNTER, "", NULL), -EINVAL);

	assert_int_equal(rdpi_counters_register(reg, "x", NULL, RDPI_COUNTER, "", &c), 0);
	assert_int_equal(rdpi_counters_register(reg, "x", NULL, RDPI_COUNTER, "", &d), -EEXIST);
	assert_int_equal(rdpi_counters_register(reg, "x", "k=\"v\"", RDPI_COUNTER, "", &d), 0);
	assert_int_equal(rdpi_counters_register(reg, "x", "k=\"v\"", RDPI_COUNTER, "", &d),
			 -EEXIST);
	/* one name keeps one TYPE */
	assert_int_equal(rdpi_counters_register(reg, "x", "k=\"w\"", RDPI_GAUGE, "", &d), -EINVAL);
	assert_int_equal(
	    rdpi_counters_register(reg, "y", "a=\"1\",b=\"x\\\"y\"", RDPI_GAUGE, "", &d), 0);
	rdpi_counters_free(reg);

	assert_int_equal(rdpi_counters_new("bad prefix", &reg), -EINVAL);
}

static void test_counters_prometheus_format(void **state)
{
	(void)state;
	struct rdpi_counters *reg = NULL;
	assert_int_equal(rdpi_counters_new("routerd_dpi_test_", &reg), 0);
	struct rdpi_counter a = {0}, b = {0}, c = {0}, q = {0};
	uint64_t g = 12345;
	assert_int_equal(rdpi_counters_register(reg, "packets_total", "source=\"ndpi\"",
						RDPI_COUNTER, "Packets by source.", &a),
			 0);
	assert_int_equal(rdpi_counters_register(reg, "queue_depth", NULL, RDPI_GAUGE,
						"Queue depth\nnow \\ here.", &q),
			 0);
	/* registered later but must be grouped with its name */
	assert_int_equal(rdpi_counters_register(reg, "packets_total", "source=\"builtin\"",
						RDPI_COUNTER, "Packets by source.", &b),
			 0);
	assert_int_equal(
	    rdpi_counters_register(reg, "errors_total", NULL, RDPI_COUNTER, "Errors.", &c), 0);
	assert_int_equal(rdpi_counters_register_fn(reg, "table_bytes", NULL, RDPI_GAUGE,
						   "Table bytes.", fixed_gauge, &g),
			 0);
	rdpi_counter_add(&a, 3);
	rdpi_counter_add(&b, 5);
	rdpi_counter_set(&q, 9);

	char *text = NULL;
	size_t len = 0;
	assert_int_equal(rdpi_counters_prometheus(reg, &text, &len), 0);
	assert_non_null(text);
	assert_int_equal(len, strlen(text));

	const char *expect = "# HELP routerd_dpi_test_packets_total Packets by source.\n"
			     "# TYPE routerd_dpi_test_packets_total counter\n"
			     "routerd_dpi_test_packets_total{source=\"ndpi\"} 3\n"
			     "routerd_dpi_test_packets_total{source=\"builtin\"} 5\n"
			     "# HELP routerd_dpi_test_queue_depth Queue depth\\nnow \\\\ here.\n"
			     "# TYPE routerd_dpi_test_queue_depth gauge\n"
			     "routerd_dpi_test_queue_depth 9\n"
			     "# HELP routerd_dpi_test_errors_total Errors.\n"
			     "# TYPE routerd_dpi_test_errors_total counter\n"
			     "routerd_dpi_test_errors_total 0\n"
			     "# HELP routerd_dpi_test_table_bytes Table bytes.\n"
			     "# TYPE routerd_dpi_test_table_bytes gauge\n"
			     "routerd_dpi_test_table_bytes 12345\n";
	assert_string_equal(text, expect);
	assert_int_equal(count_substr(text, "# TYPE routerd_dpi_test_packets_total"), 1);
	free(text);
	rdpi_counters_free(reg);
}

/* Registered names stay the lookup keys (/v1/status); the exposition follows
 * Prometheus naming: counters end in _total, sub-second units become seconds. */
static void test_counters_prometheus_names(void **state)
{
	(void)state;
	struct rdpi_counters *reg = NULL;
	assert_int_equal(rdpi_counters_new("p_", &reg), 0);
	struct rdpi_counter in = {0}, lat = {0}, last = {0}, ms = {0}, p99 = {0}, x = {0}, n = {0};
	assert_int_equal(rdpi_counters_register(reg, "packets_in", NULL, RDPI_COUNTER, "In.", &in),
			 0);
	assert_int_equal(rdpi_counters_register(reg, "dpi_latency_us_total", NULL, RDPI_COUNTER,
						"Sum of round trips.", &lat),
			 0);
	assert_int_equal(
	    rdpi_counters_register(reg, "commit_us_last", NULL, RDPI_GAUGE, "Last commit.", &last),
	    0);
	assert_int_equal(
	    rdpi_counters_register(reg, "wait_ms_max", NULL, RDPI_GAUGE, "Longest wait.", &ms), 0);
	assert_int_equal(
	    rdpi_counters_register(reg, "latency_p99_microseconds", NULL, RDPI_GAUGE, "p99.", &p99),
	    0);
	assert_int_equal(rdpi_counters_register(reg, "request_duration_us_count", NULL,
						RDPI_COUNTER, "Timed requests.", &n),
			 0);
	/* exposed as packets_in_total too: a collision, not a second family */
	assert_int_equal(
	    rdpi_counters_register(reg, "packets_in_total", NULL, RDPI_COUNTER, "Dup.", &x),
	    -EEXIST);
	/* same exposed name, other kind */
	assert_int_equal(
	    rdpi_counters_register(reg, "packets_in_total", "k=\"v\"", RDPI_GAUGE, "Dup.", &x),
	    -EINVAL);
	/* same exposed name, another label: grouped under the one family */
	assert_int_equal(
	    rdpi_counters_register(reg, "packets_in_total", "k=\"v\"", RDPI_COUNTER, "In.", &x), 0);
	rdpi_counter_set(&in, 7);
	rdpi_counter_set(&lat, 1234567);
	rdpi_counter_set(&last, 250);
	rdpi_counter_set(&ms, 1500);
	rdpi_counter_set(&p99, 3000000);
	rdpi_counter_set(&x, 1);
	rdpi_counter_set(&n, 12);

	uint64_t v = 0;
	assert_int_equal(rdpi_counters_get(reg, "commit_us_last", NULL, &v), 0);
	assert_int_equal(v, 250); /* raw value under the registered name */
	assert_int_equal(rdpi_counters_get(reg, "commit_last_seconds", NULL, &v), -ENOENT);

	char *text = NULL;
	assert_int_equal(rdpi_counters_prometheus(reg, &text, NULL), 0);
	const char *expect = "# HELP p_packets_in_total In.\n"
			     "# TYPE p_packets_in_total counter\n"
			     "p_packets_in_total 7\n"
			     "p_packets_in_total{k=\"v\"} 1\n"
			     "# HELP p_dpi_latency_seconds_total Sum of round trips.\n"
			     "# TYPE p_dpi_latency_seconds_total counter\n"
			     "p_dpi_latency_seconds_total 1.234567\n"
			     "# HELP p_commit_last_seconds Last commit.\n"
			     "# TYPE p_commit_last_seconds gauge\n"
			     "p_commit_last_seconds 0.00025\n"
			     "# HELP p_wait_max_seconds Longest wait.\n"
			     "# TYPE p_wait_max_seconds gauge\n"
			     "p_wait_max_seconds 1.5\n"
			     "# HELP p_latency_p99_seconds p99.\n"
			     "# TYPE p_latency_p99_seconds gauge\n"
			     "p_latency_p99_seconds 3\n"
			     "# HELP p_request_duration_count_total Timed requests.\n"
			     "# TYPE p_request_duration_count_total counter\n"
			     "p_request_duration_count_total 12\n";
	assert_string_equal(text, expect);
	free(text);
	rdpi_counters_free(reg);
}

struct seen {
	int n;
	uint64_t sum;
	int labelled;
};

static void each(void *arg, const char *name, const char *label, enum rdpi_counter_kind kind,
		 uint64_t value)
{
	struct seen *s = arg;
	(void)kind;
	assert_null(strstr(name, "pre_")); /* reported without the prefix */
	s->n++;
	s->sum += value;
	if (label)
		s->labelled++;
}

static void test_counters_foreach_visits_all(void **state)
{
	(void)state;
	struct rdpi_counters *reg = NULL;
	assert_int_equal(rdpi_counters_new("pre_", &reg), 0);
	struct rdpi_counter a = {0}, b = {0};
	uint64_t g = 100;
	rdpi_counter_set(&a, 1);
	rdpi_counter_set(&b, 2);
	assert_int_equal(rdpi_counters_register(reg, "a", NULL, RDPI_COUNTER, "A", &a), 0);
	assert_int_equal(rdpi_counters_register(reg, "a", "x=\"1\"", RDPI_COUNTER, "A", &b), 0);
	assert_int_equal(
	    rdpi_counters_register_fn(reg, "g", NULL, RDPI_GAUGE, "G", fixed_gauge, &g), 0);
	struct seen s = {0};
	rdpi_counters_foreach(reg, each, &s);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.sum, 103);
	assert_int_equal(s.labelled, 1);
	rdpi_counters_free(reg);
	rdpi_counters_free(NULL);
}

static void test_counters_bounded_growth(void **state)
{
	(void)state;
	struct rdpi_counters *reg = NULL;
	assert_int_equal(rdpi_counters_new(NULL, &reg), 0);
	static struct rdpi_counter many[5000];
	int rv = 0, i;
	for (i = 0; i < 5000; i++) {
		char name[32];
		snprintf(name, sizeof(name), "c_%d", i);
		rv = rdpi_counters_register(reg, name, NULL, RDPI_COUNTER, "", &many[i]);
		if (rv < 0)
			break;
	}
	assert_int_equal(rv, -ENOSPC);
	assert_true(i >= 1024);
	rdpi_counters_free(reg);
}

static void test_counters_process_rss(void **state)
{
	(void)state;
	uint64_t rss = rdpi_process_rss_bytes();
	assert_true(rss > 0);
	struct rdpi_counters *reg = NULL;
	assert_int_equal(rdpi_counters_new("x_", &reg), 0);
	assert_int_equal(rdpi_counters_register_process(reg), 0);
	uint64_t v = 0;
	assert_int_equal(rdpi_counters_get(reg, "process_resident_memory_bytes", NULL, &v), 0);
	assert_true(v > 0);
	char *text = NULL;
	assert_int_equal(rdpi_counters_prometheus(reg, &text, NULL), 0);
	assert_non_null(strstr(text, "# TYPE x_process_resident_memory_bytes gauge\n"));
	free(text);
	rdpi_counters_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counters_register_and_get),
	    cmocka_unit_test(test_counters_rejects_bad_and_duplicate),
	    cmocka_unit_test(test_counters_prometheus_format),
	    cmocka_unit_test(test_counters_prometheus_names),
	    cmocka_unit_test(test_counters_foreach_visits_all),
	    cmocka_unit_test(test_counters_bounded_growth),
	    cmocka_unit_test(test_counters_process_rss),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for common/duration: Go ParseDuration / Duration.String compatibility
 * (tables taken from Go's time package tests) and byte sizes. */
#include "common/duration.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define NS  INT64_C(1)
#define US  (1000 * NS)
#define MS  (1000 * US)
#define SEC (1000 * MS)
#define MIN (60 * SEC)
#define HR  (60 * MIN)

struct dcase {
	const char *s;
	int64_t ns;
};

static void test_duration_parse_go_forms(void **state)
{
	(void)state;
	static const struct dcase cases[] = {
	    {"0", 0},
	    {"-0", 0},
	    {"+0", 0},
	    {"0s", 0},
	    {"5s", 5 * SEC},
	    {"30s", 30 * SEC},
	    {"1478s", 1478 * SEC},
	    {"-5s", -5 * SEC},
	    {"+5s", 5 * SEC},
	    {"5.0s", 5 * SEC},
	    {"5.6s", 5 * SEC + 600 * MS},
	    {"5.s", 5 * SEC},
	    {".5s", 500 * MS},
	    {"1.004s", 1 * SEC + 4 * MS},
	    {"1.0040s", 1 * SEC + 4 * MS},
	    {"100.00100s", 100 * SEC + 1 * MS},
	    {"10ns", 10 * NS},
	    {"11us", 11 * US},
	    {"12\xc2\xb5s", 12 * US},
	    {"12\xce\xbcs", 12 * US},
	    {"13ms", 13 * MS},
	    {"14s", 14 * SEC},
	    {"15m", 15 * MIN},
	    {"16h", 16 * HR},
	    {"200ms", 200 * MS},
	    {"1h", HR},
	    {"1h0m0s", HR},
	    {"1.5s", 1500 * MS},
	    {"2h45m", 2 * HR + 45 * MIN},
	    {"3h30m", 3 * HR + 30 * MIN},
	    {"10.5s4m", 4 * MIN + 10 * SEC + 500 * MS},
	    {"-2m3.4s", -(2 * MIN + 3 * SEC + 400 * MS)},
	    {"1h2m3s4ms5us6ns", 1 * HR + 2 * MIN + 3 * SEC + 4 * MS + 5 * US + 6 * NS},
	    {"39h9m14.425s", 39 * HR + 9 * MIN + 14 * SEC + 425 * MS},
	    {"52763797000ns", 52763797000 * NS},
	    {"0.3333333333333333333h", 20 * MIN},
	    {"9007199254740993ns", (INT64_C(1) << 53) + 1},
	    {"9223372036854775807ns", INT64_MAX},
	    {"9223372036854775.807us", INT64_MAX},
	    {"9223372036s854ms775us807ns", INT64_MAX},
	    {"-9223372036854775808ns", INT64_MIN},
	    {"-9223372036854775.808us", INT64_MIN},
	    {"-2562047h47m16.854775808s", INT64_MIN},
	    {"0.100000000000000000000h", 6 * MIN},
	    {"0.830103483285477580700h", 49 * MIN + 48 * SEC + 372539827 * NS},
	    {"7d", 7 * 24 * HR},
	    {"1d12h", 36 * HR},
	    {"-1.5d", -36 * HR},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -12345;
		int r = rdpi_duration_parse(cases[i].s, &v);
		if (r != 0 || v != cases[i].ns)
			fail_msg("%s: r=%d got %lld want %lld", cases[i].s, r, (long long)v,
				 (long long)cases[i].ns);
	}
}

static void test_duration_parse_rejects(void **state)
{
	(void)state;
	static const char *const invalid[] = {
	    "",	   "3",	       "-",    "s",    ".",   "-.",    ".s",	 "+.s",
	    "1x",  "\x85\x85", "\xff", "1h ",  " 1h", "1h-5m", "1.2.3s", "--1s",
	    "1 h", "1H",       "1sec", "0x1s", "5",   "100",   "1e3s",
	};
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		int64_t v = 42;
		int r = rdpi_duration_parse(invalid[i], &v);
		if (r != -EINVAL || v != 42)
			fail_msg("\"%s\": r=%d v=%lld, want -EINVAL and untouched", invalid[i], r,
				 (long long)v);
	}
	static const char *const range[] = {
	    "9223372036854775808ns",
	    "9223372036854775.808us",
	    "9223372036854ms775us808ns",
	    "-9223372036854775809ns",
	    "2562048h",
	    "106752d",
	    "99999999999999999999999999s",
	    "9223372036854775807ns1ns",
	};
	for (size_t i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
		int64_t v = 42;
		int r = rdpi_duration_parse(range[i], &v);
		if (r != -ERANGE || v != 42)
			fail_msg("\"%s\": r=%d v=%lld, want -ERANGE", range[i], r, (long long)v);
	}
	int64_t v;
	assert_int_equal(rdpi_duration_parse(NULL, &v), -EINVAL);
	assert_int_equal(rdpi_duration_parse("1s", NULL), -EINVAL);
}

static void test_duration_format_go_table(void **state)
{
	(void)state;
	static const struct dcase cases[] = {
	    {"0s", 0},
	    {"1ns", 1 * NS},
	    {"500ns", 500 * NS},
	    {"1.1\xc2\xb5s", 1100 * NS},
	    {"1\xc2\xb5s", 1 * US},
	    {"2.2ms", 2200 * US},
	    {"200ms", 200 * MS},
	    {"3.3s", 3300 * MS},
	    {"1.5s", 1500 * MS},
	    {"-2s", -2 * SEC},
	    {"1m30s", 90 * SEC},
	    {"4m5s", 4 * MIN + 5 * SEC},
	    {"4m5.001s", 4 * MIN + 5001 * MS},
	    {"5h6m7.001s", 5 * HR + 6 * MIN + 7001 * MS},
	    {"8m0.000000001s", 8 * MIN + 1 * NS},
	    {"1h0m0s", HR},
	    {"2h45m0s", 2 * HR + 45 * MIN},
	    {"168h0m0s", 7 * 24 * HR},
	    {"-1ns", -1},
	    {"-1.5ms", -1500 * US},
	    {"2562047h47m16.854775807s", INT64_MAX},
	    {"-2562047h47m16.854775808s", INT64_MIN},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[RDPI_DURATION_STRLEN];
		rdpi_duration_format(cases[i].ns, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].s);
		int64_t back;
		assert_int_equal(rdpi_duration_parse(buf, &back), 0);
		assert_true(back == cases[i].ns);
	}
}

static void test_duration_format_truncates(void **state)
{
	(void)state;
	char buf[4] = "xyz";
	rdpi_duration_format(HR, buf, sizeof(buf));
	assert_string_equal(buf, "1h0");
	rdpi_duration_format(HR, buf, 0);
	assert_string_equal(buf, "1h0");
	rdpi_duration_format(0, buf, 1);
	assert_string_equal(buf, "");
}

static void test_duration_round_trip(void **state)
{
	(void)state;
	int64_t v = 1;
	for (int i = 0; i < 59; i++, v = v * 2 + 7) {
		int64_t vals[] = {v, -v, v / 2 * 3};
		for (size_t j = 0; j < 3; j++) {
			char buf[RDPI_DURATION_STRLEN];
			int64_t back = 0;
			rdpi_duration_format(vals[j], buf, sizeof(buf));
			assert_int_equal(rdpi_duration_parse(buf, &back), 0);
			assert_true(back == vals[j]);
		}
	}
}

struct scase {
	const char *s;
	int64_t bytes;
};

static void test_size_parse_units(void **state)
{
	(void)state;
	static const struct scase cases[] = {
	    {"0", 0},
	    {"2048", 2048},
	    {"2048b", 2048},
	    {"64k", 64 << 10},
	    {"64K", 64 << 10},
	    {"64KiB", 64 << 10},
	    {"64kib", 64 << 10},
	    {"64KB", 64 << 10},
	    {"1M", 1 << 20},
	    {"1MiB", 1 << 20},
	    {"1mb", 1 << 20},
	    {"1G", INT64_C(1) << 30},
	    {"1GiB", INT64_C(1) << 30},
	    {"3gb", INT64_C(3) << 30},
	    {"2T", INT64_C(2) << 40},
	    {"9223372036854775807", INT64_MAX},
	    {"8388607T", INT64_C(8388607) << 40},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -1;
		int r = rdpi_size_parse(cases[i].s, &v);
		if (r != 0 || v != cases[i].bytes)
			fail_msg("%s: r=%d got %lld", cases[i].s, r, (long long)v);
	}
}

static void test_size_parse_rejects(void **state)
{
	(void)state;
	static const char *const invalid[] = {"",     "k",  "-1",    "+1",   " 1",   "1 ",
					      "1.5M", "1x", "1kibb", "0x10", "1K B", "1e3"};
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		int64_t v = 42;
		int r = rdpi_size_parse(invalid[i], &v);
		if (r != -EINVAL || v != 42)
			fail_msg("\"%s\": r=%d", invalid[i], r);
	}
	static const char *const range[] = {"9223372036854775808", "8388608T", "9007199254740992k",
					    "99999999999999999999999"};
	for (size_t i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
		int64_t v = 42;
		int r = rdpi_size_parse(range[i], &v);
		if (r != -ERANGE || v != 42)
			fail_msg("\"%s\": r=%d", range[i], r);
	}
}

static void test_size_format(void **state)
{
	(void)state;
	static const struct scase cases[] = {
	    {"0", 0},
	    {"1000", 1000},
	    {"2KiB", 2048},
	    {"64KiB", 64 << 10},
	    {"1536KiB", 1536 << 10},
	    {"1MiB", 1 << 20},
	    {"1GiB", INT64_C(1) << 30},
	    {"1024TiB", INT64_C(1) << 50},
	    {"9223372036854775807", INT64_MAX},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[RDPI_DURATION_STRLEN];
		int64_t back = -1;
		rdpi_size_format(cases[i].bytes, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].s);
		assert_int_equal(rdpi_size_parse(buf, &back), 0);
		assert_true(back == cases[i].bytes);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration_parse_go_forms),
	    cmocka_unit_test(test_duration_parse_rejects),
	    cmocka_unit_test(test_duration_format_go_table),
	    cmocka_unit_test(test_duration_format_truncates),
	    cmocka_unit_test(test_duration_round_trip),
	    cmocka_unit_test(test_size_parse_units),
	    cmocka_unit_test(test_size_parse_rejects),
	    cmocka_unit_test(test_size_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

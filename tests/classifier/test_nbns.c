/* Tests for services/classifier/nbns: NetBIOS name queries/responses built byte by byte and
 * first-level name decoding. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nbns.h"

/* Header + encoded name (16 bytes: name padded with spaces, then suffix) + type + class. */
static size_t build(uint8_t *b, uint16_t flags, int response, const uint8_t raw[16], uint16_t type)
{
	size_t n = 0;
	b[n++] = 0x81;
	b[n++] = 0x2a;
	b[n++] = (uint8_t)(flags >> 8);
	b[n++] = (uint8_t)flags;
	static const uint8_t q[8] = {0, 1, 0, 0, 0, 0, 0, 0};
	static const uint8_t a[8] = {0, 0, 0, 1, 0, 0, 0, 0};
	memcpy(b + n, response ? a : q, 8);
	n += 8;
	b[n++] = 32;
	for (int i = 0; i < 16; i++) {
		b[n++] = (uint8_t)('A' + (raw[i] >> 4));
		b[n++] = (uint8_t)('A' + (raw[i] & 0xf));
	}
	b[n++] = 0;
	b[n++] = (uint8_t)(type >> 8);
	b[n++] = (uint8_t)type;
	b[n++] = 0;
	b[n++] = 1;
	return n;
}

static void raw_name(uint8_t raw[16], const char *name, uint8_t suffix)
{
	memset(raw, ' ', 15);
	memcpy(raw, name, strlen(name));
	raw[15] = suffix;
}

static void test_nbns_query_decoded(void **state)
{
	uint8_t b[128], raw[16];
	struct nbns_query q;
	raw_name(raw, "DESKTOP-AB12", 0x00);
	size_t n = build(b, 0x0110, 0, raw, NBNS_TYPE_NB);
	assert_int_equal(n, 50);
	/* the classic encoding: "FAC" -> 'F'=0x46 -> "EG" */
	assert_memory_equal(b + 13, "EEEFFDEL", 8);
	assert_int_equal(nbns_parse(b, n, &q), 0);
	assert_int_equal(q.id, 0x812a);
	assert_false(q.response);
	assert_true(q.broadcast);
	assert_int_equal(q.opcode, 0);
	assert_string_equal(q.name, "desktop-ab12");
	assert_int_equal(q.suffix, 0x00);
	assert_int_equal(q.type, NBNS_TYPE_NB);
}

static void test_nbns_suffix_kept(void **state)
{
	uint8_t b[128], raw[16];
	struct nbns_query q;
	raw_name(raw, "WORKGROUP", 0x1d);
	size_t n = build(b, 0x0110, 0, raw, NBNS_TYPE_NB);
	assert_int_equal(nbns_parse(b, n, &q), 0);
	assert_string_equal(q.name, "workgroup");
	assert_int_equal(q.suffix, 0x1d);
}

static void test_nbns_wildcard_nbstat(void **state)
{
	uint8_t b[128], raw[16] = {'*'};
	struct nbns_query q;
	size_t n = build(b, 0x0000, 0, raw, NBNS_TYPE_NBSTAT);
	assert_int_equal(nbns_parse(b, n, &q), 0);
	assert_string_equal(q.name, "*");
	assert_int_equal(q.type, NBNS_TYPE_NBSTAT);
}

static void test_nbns_response(void **state)
{
	uint8_t b[128], raw[16];
	struct nbns_query q;
	raw_name(raw, "NAS", 0x20);
	size_t n = build(b, 0x8500, 1, raw, NBNS_TYPE_NB);
	assert_int_equal(nbns_parse(b, n, &q), 0);
	assert_true(q.response);
	assert_string_equal(q.name, "nas");
	assert_int_equal(q.suffix, 0x20);
}

static void test_nbns_registration(void **state)
{
	uint8_t b[128], raw[16];
	struct nbns_query q;
	raw_name(raw, "PRINTER", 0x00);
	size_t n = build(b, 0x2910, 0, raw, NBNS_TYPE_NB);
	b[11] = 1; /* arcount 1 */
	assert_int_equal(nbns_parse(b, n, &q), 0);
	assert_int_equal(q.opcode, 5);
}

static void test_nbns_scope(void **state)
{
	uint8_t b[128], raw[16];
	struct nbns_query q;
	raw_name(raw, "HOST", 0x00);
	size_t n = build(b, 0x0100, 0, raw, NBNS_TYPE_NB);
	/* insert scope "lan" before the root byte at 45 */
	memmove(b + 49, b + 45, n - 45);
	memcpy(b + 45, "\x03lan", 4);
	n += 4;
	assert_int_equal(nbns_parse(b, n, &q), 0);
	assert_string_equal(q.name, "host");
	b[45] = 0x40;
	assert_int_equal(nbns_parse(b, n, &q), -EINVAL);
}

static void test_nbns_not_nbns(void **state)
{
	uint8_t b[128], raw[16];
	struct nbns_query q;
	raw_name(raw, "HOST", 0x00);
	size_t n = build(b, 0x0100, 0, raw, NBNS_TYPE_NB);
	assert_int_equal(nbns_parse(b, 11, &q), -ENOMSG);
	b[14] = 'Q'; /* outside 'A'..'P' */
	assert_int_equal(nbns_parse(b, n, &q), -ENOMSG);
	n = build(b, 0x0100, 0, raw, NBNS_TYPE_NB);
	b[12] = 7; /* a DNS-style label, not the 32-byte encoding */
	assert_int_equal(nbns_parse(b, n, &q), -ENOMSG);
	n = build(b, 0x1100, 0, raw, NBNS_TYPE_NB); /* opcode 2 */
	assert_int_equal(nbns_parse(b, n, &q), -ENOMSG);
	n = build(b, 0x0100, 0, raw, 0x0001); /* type A */
	assert_int_equal(nbns_parse(b, n, &q), -ENOMSG);
	n = build(b, 0x0100, 0, raw, NBNS_TYPE_NB);
	b[5] = 3; /* three questions */
	assert_int_equal(nbns_parse(b, n, &q), -ENOMSG);
}

static void test_nbns_cut_is_invalid(void **state)
{
	uint8_t b[128], raw[16];
	struct nbns_query q;
	memset(&q, 0x5a, sizeof(q));
	raw_name(raw, "HOST", 0x00);
	size_t n = build(b, 0x0100, 0, raw, NBNS_TYPE_NB);
	assert_int_equal(nbns_parse(b, 30, &q), -EINVAL);
	assert_int_equal(nbns_parse(b, n - 1, &q), -EINVAL);
	assert_int_equal(q.id, 0x5a5a); /* untouched on error */
}

static void test_nbns_truncations(void **state)
{
	uint8_t b[128], raw[16];
	struct nbns_query q;
	raw_name(raw, "DESKTOP-AB12", 0x00);
	size_t n = build(b, 0x0110, 0, raw, NBNS_TYPE_NB);
	for (size_t i = 0; i <= n; i++) {
		uint8_t *c = malloc(i ? i : 1);
		assert_non_null(c);
		memcpy(c, b, i);
		int r = nbns_parse(c, i, &q);
		assert_true(i == n ? r == 0 : (r == -EINVAL || r == -ENOMSG));
		free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nbns_query_decoded),	 cmocka_unit_test(test_nbns_suffix_kept),
	    cmocka_unit_test(test_nbns_wildcard_nbstat), cmocka_unit_test(test_nbns_response),
	    cmocka_unit_test(test_nbns_registration),	 cmocka_unit_test(test_nbns_scope),
	    cmocka_unit_test(test_nbns_not_nbns),	 cmocka_unit_test(test_nbns_cut_is_invalid),
	    cmocka_unit_test(test_nbns_truncations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

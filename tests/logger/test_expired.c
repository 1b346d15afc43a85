/* Tests for the recent-expired table (orphan-return correlation): exact reply-tuple match in
 * the right direction, newest wins, the time window, bound, and the detail sentence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/packet.h"
#include "expired.h"

#define SEC 1000000000ll
#define T0  (1795000000ll * SEC)

static struct expired_rec rec(const char *cli, uint16_t cport, const char *srv, uint16_t sport,
			      int64_t ts, int64_t bytes)
{
	struct expired_rec r = {.ts = ts, .l4proto = 6, .packets = 10, .bytes = bytes};
	int l3 = 0;
	assert_int_equal(rdpi_addr_parse(cli, r.orig_src, &l3), 0);
	assert_int_equal(rdpi_addr_parse(srv, r.orig_dst, NULL), 0);
	r.l3 = (uint8_t)l3;
	memcpy(r.reply_src, r.orig_dst, 16);
	memcpy(r.reply_dst, r.orig_src, 16);
	r.orig_sport = cport;
	r.orig_dport = sport;
	r.reply_sport = sport;
	r.reply_dport = cport;
	return r;
}

static void test_expired_match_reply_direction_only(void **state)
{
	struct expiredtab *t;
	assert_int_equal(expiredtab_new(16, 3600 * SEC, &t), 0);
	struct expired_rec r = rec("192.0.2.10", 40000, "198.51.100.20", 443, T0, 4096);
	assert_int_equal(expiredtab_add(t, &r), 0);
	/* the late reply: server -> client */
	const struct expired_rec *m =
	    expiredtab_match(t, 4, 6, r.reply_src, 443, r.reply_dst, 40000, T0 + 90 * SEC);
	assert_non_null(m);
	assert_int_equal(m->bytes, 4096);
	/* the client's own direction is not a reply */
	assert_null(expiredtab_match(t, 4, 6, r.orig_src, 40000, r.orig_dst, 443, T0 + SEC));
	/* other port, other protocol */
	assert_null(expiredtab_match(t, 4, 6, r.reply_src, 443, r.reply_dst, 40001, T0 + SEC));
	assert_null(expiredtab_match(t, 4, 17, r.reply_src, 443, r.reply_dst, 40000, T0 + SEC));
	/* outside the window */
	assert_null(
	    expiredtab_match(t, 4, 6, r.reply_src, 443, r.reply_dst, 40000, T0 + 3601 * SEC));
	expiredtab_free(t);
}

static void test_expired_newest_wins(void **state)
{
	struct expiredtab *t;
	assert_int_equal(expiredtab_new(16, 3600 * SEC, &t), 0);
	struct expired_rec a = rec("192.0.2.10", 40000, "198.51.100.20", 443, T0, 100);
	struct expired_rec b = rec("192.0.2.10", 40000, "198.51.100.20", 443, T0 + 60 * SEC, 200);
	assert_int_equal(expiredtab_add(t, &b), 0);
	assert_int_equal(expiredtab_add(t, &a), 0); /* older, arriving late */
	const struct expired_rec *m =
	    expiredtab_match(t, 4, 6, b.reply_src, 443, b.reply_dst, 40000, T0 + 61 * SEC);
	assert_non_null(m);
	assert_int_equal(m->bytes, 200);
	assert_int_equal(expiredtab_size(t), 1);
	expiredtab_free(t);
}

static void test_expired_bounded(void **state)
{
	struct expiredtab *t;
	assert_int_equal(expiredtab_new(4, 3600 * SEC, &t), 0);
	for (uint16_t p = 1; p <= 10; p++) {
		struct expired_rec r =
		    rec("192.0.2.10", (uint16_t)(40000 + p), "198.51.100.20", 443, T0 + p, 1);
		assert_int_equal(expiredtab_add(t, &r), 0);
	}
	assert_int_equal(expiredtab_size(t), 4);
	struct expired_rec last = rec("192.0.2.10", 40010, "198.51.100.20", 443, T0 + 10, 1);
	assert_non_null(
	    expiredtab_match(t, 4, 6, last.reply_src, 443, last.reply_dst, 40010, T0 + 20));
	struct expired_rec first = rec("192.0.2.10", 40001, "198.51.100.20", 443, T0 + 1, 1);
	assert_null(
	    expiredtab_match(t, 4, 6, first.reply_src, 443, first.reply_dst, 40001, T0 + 20));
	expiredtab_free(t);
}

static void test_expired_detail(void **state)
{
	char buf[512];
	struct expired_rec r = rec("192.0.2.10", 40000, "198.51.100.20", 443, T0, 4096);
	expired_detail(&r, "TLS-SNI=a.example", T0 + 90 * SEC, buf, sizeof(buf));
	assert_string_equal(buf, "likely orphan return from expired TLS-SNI=a.example conn (orig: "
				 "192.0.2.10:40000 -> 198.51.100.20:443, expired 1m30s ago, 4096 "
				 "bytes transferred)");
	struct expired_rec v6 = rec("2001:db8::1", 5000, "2001:db8::2", 53, T0, -1);
	v6.l4proto = 17;
	expired_detail(&v6, "udp", T0 + 5 * SEC, buf, sizeof(buf));
	assert_string_equal(buf, "likely orphan return from expired udp conn (orig: "
				 "[2001:db8::1]:5000 -> [2001:db8::2]:53, expired 5s ago, unknown "
				 "bytes transferred)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_expired_match_reply_direction_only),
	    cmocka_unit_test(test_expired_newest_wins),
	    cmocka_unit_test(test_expired_bounded),
	    cmocka_unit_test(test_expired_detail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for services/classifier/dhcp: DISCOVER and REQUEST built byte by byte, options walk,
 * BOOTP, rejects. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dhcp.h"

static uint8_t pkt[600];

static size_t bootp(uint8_t op)
{
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = op;
	pkt[1] = 1; /* ethernet */
	pkt[2] = 6;
	memcpy(pkt + 4, "\x3d\x1d\x2f\x0a", 4);
	memcpy(pkt + 28, "\x00\x1A\x2b\x3c\x4d\x5e", 6);
	memcpy(pkt + 236, "\x63\x82\x53\x63", 4);
	return 240;
}

static size_t opt(size_t n, uint8_t code, const void *v, uint8_t len)
{
	pkt[n++] = code;
	pkt[n++] = len;
	memcpy(pkt + n, v, len);
	return n + len;
}

static size_t build_discover(void)
{
	size_t n = bootp(1);
	n = opt(n, 53, "\x01", 1);
	n = opt(n, 61, "\x01\x00\x1a\x2b\x3c\x4d\x5e", 7);
	n = opt(n, 12, "Living-Room-TV", 14);
	n = opt(n, 60, "MSFT 5.0", 8);
	n = opt(n, 55, "\x01\x03\x06\x0f\x1f\x21", 6);
	pkt[n++] = 255;
	pkt[n++] = 0; /* padding after end */
	return n;
}

static void test_dhcp_discover(void **state)
{
	struct dhcp_message m;
	size_t n = build_discover();
	assert_int_equal(dhcp_parse(pkt, n, &m), 0);
	assert_int_equal(m.op, 1);
	assert_int_equal(m.htype, 1);
	assert_int_equal(m.hlen, 6);
	assert_int_equal(m.xid, 0x3d1d2f0a);
	assert_string_equal(m.chaddr, "00:1a:2b:3c:4d:5e");
	assert_int_equal(m.msg_type, DHCP_DISCOVER);
	assert_string_equal(m.msg_type_name, "discover");
	assert_string_equal(m.hostname, "living-room-tv");
	assert_string_equal(m.vendor_class, "MSFT 5.0");
	assert_int_equal(m.param_request_len, 6);
	assert_false(m.has_requested_ip);
	assert_false(m.truncated);
}

static void test_dhcp_request(void **state)
{
	struct dhcp_message m;
	size_t n = bootp(1);
	pkt[n++] = 0; /* pads are skipped */
	pkt[n++] = 0;
	n = opt(n, 53, "\x03", 1);
	n = opt(n, 50, "\xc0\xa8\x01\x64", 4);
	n = opt(n, 12, "phone\0", 6);
	pkt[n++] = 255;
	assert_int_equal(dhcp_parse(pkt, n, &m), 0);
	assert_int_equal(m.msg_type, DHCP_REQUEST);
	assert_string_equal(m.msg_type_name, "request");
	assert_true(m.has_requested_ip);
	static const uint8_t want[16] = {0, 0, 0,    0,	   0,	0,   0, 0,
					 0, 0, 0xff, 0xff, 192, 168, 1, 100};
	assert_memory_equal(m.requested_ip, want, 16);
	assert_string_equal(m.hostname, "phone");
}

static void test_dhcp_reply(void **state)
{
	struct dhcp_message m;
	size_t n = bootp(2);
	memcpy(pkt + 16, "\x0a\x00\x00\x05", 4);
	n = opt(n, 53, "\x05", 1);
	pkt[n++] = 255;
	assert_int_equal(dhcp_parse(pkt, n, &m), 0);
	assert_string_equal(m.msg_type_name, "ack");
	assert_int_equal(m.yiaddr[15], 5);
	assert_int_equal(m.yiaddr[10], 0xff);
	static const char *names[] = {"bootp", "discover", "offer",   "request", "decline",
				      "ack",   "nak",	   "release", "inform"};
	for (int i = 0; i <= 8; i++)
		assert_string_equal(dhcp_msg_type_name((enum dhcp_msg_type)i), names[i]);
	assert_string_equal(dhcp_msg_type_name((enum dhcp_msg_type)9), "bootp");
}

static void test_dhcp_plain_bootp(void **state)
{
	struct dhcp_message m;
	size_t n = bootp(1);
	pkt[n++] = 255;
	assert_int_equal(dhcp_parse(pkt, n, &m), 0);
	assert_int_equal(m.msg_type, DHCP_NONE);
	assert_string_equal(m.msg_type_name, "bootp");
	n = bootp(1);
	n = opt(n, 53, "\x09", 1); /* out of range */
	assert_int_equal(dhcp_parse(pkt, n, &m), 0);
	assert_int_equal(m.msg_type, DHCP_NONE);
	/* no end option: the walk stops at the end of the payload */
	assert_int_equal(dhcp_parse(pkt, 240, &m), 0);
}

static void test_dhcp_option_overrun(void **state)
{
	struct dhcp_message m;
	size_t n = bootp(1);
	n = opt(n, 53, "\x01", 1);
	pkt[n++] = 12;
	pkt[n++] = 40; /* hostname claims 40 bytes, 3 present */
	memcpy(pkt + n, "abc", 3);
	n += 3;
	assert_int_equal(dhcp_parse(pkt, n, &m), 0);
	assert_true(m.truncated);
	assert_int_equal(m.msg_type, DHCP_DISCOVER);
	assert_string_equal(m.hostname, "");
}

static void test_dhcp_long_hostname(void **state)
{
	struct dhcp_message m;
	uint8_t name[200];
	memset(name, 'H', sizeof(name));
	name[3] = 0x01;
	size_t n = bootp(1);
	n = opt(n, 12, name, 200);
	pkt[n++] = 255;
	assert_int_equal(dhcp_parse(pkt, n, &m), 0);
	assert_int_equal(strlen(m.hostname), DHCP_HOSTNAME_MAX - 1);
	assert_int_equal(m.hostname[0], 'h');
	assert_int_equal(m.hostname[3], '?');
}

static void test_dhcp_not_dhcp(void **state)
{
	struct dhcp_message m;
	size_t n = build_discover();
	assert_int_equal(dhcp_parse(pkt, 239, &m), -ENOMSG);
	pkt[0] = 3;
	assert_int_equal(dhcp_parse(pkt, n, &m), -ENOMSG);
	n = build_discover();
	pkt[239] = 0x64;
	assert_int_equal(dhcp_parse(pkt, n, &m), -ENOMSG);
	n = build_discover();
	pkt[2] = 17;
	assert_int_equal(dhcp_parse(pkt, n, &m), -ENOMSG);
	assert_int_equal(dhcp_parse(NULL, 0, &m), -ENOMSG);
}

static void test_dhcp_truncations(void **state)
{
	struct dhcp_message m;
	size_t n = build_discover();
	for (size_t i = 0; i <= n; i++) {
		uint8_t *c = malloc(i ? i : 1);
		assert_non_null(c);
		memcpy(c, pkt, i);
		int r = dhcp_parse(c, i, &m);
		assert_int_equal(r, i < 240 ? -ENOMSG : 0);
		free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dhcp_discover),	cmocka_unit_test(test_dhcp_request),
	    cmocka_unit_test(test_dhcp_reply),		cmocka_unit_test(test_dhcp_plain_bootp),
	    cmocka_unit_test(test_dhcp_option_overrun), cmocka_unit_test(test_dhcp_long_hostname),
	    cmocka_unit_test(test_dhcp_not_dhcp),	cmocka_unit_test(test_dhcp_truncations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

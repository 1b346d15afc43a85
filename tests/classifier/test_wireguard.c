/* Tests for services/classifier/wireguard: each message type at its exact size, wrong sizes,
 * reserved bytes, Tailscale port. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wireguard.h"

static uint8_t pkt[256];

static void fill(uint8_t type)
{
	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 7 + 3);
	pkt[0] = type;
	pkt[1] = pkt[2] = pkt[3] = 0;
	/* indexes little-endian: 0x11223344 at 4, 0x55667788 at 8 */
	memcpy(pkt + 4, "\x44\x33\x22\x11\x88\x77\x66\x55", 8);
}

static void test_wireguard_initiation(void **state)
{
	struct wireguard_message m;
	fill(1);
	assert_int_equal(wireguard_parse(pkt, 148, &m), 0);
	assert_int_equal(m.type, WIREGUARD_HANDSHAKE_INITIATION);
	assert_int_equal(m.sender_index, 0x11223344);
	assert_int_equal(m.receiver_index, 0);
	assert_string_equal(wireguard_type_name(m.type), "handshake-initiation");
}

static void test_wireguard_response(void **state)
{
	struct wireguard_message m;
	fill(2);
	assert_int_equal(wireguard_parse(pkt, 92, &m), 0);
	assert_int_equal(m.type, WIREGUARD_HANDSHAKE_RESPONSE);
	assert_int_equal(m.sender_index, 0x11223344);
	assert_int_equal(m.receiver_index, 0x55667788);
}

static void test_wireguard_cookie_reply(void **state)
{
	struct wireguard_message m;
	fill(3);
	assert_int_equal(wireguard_parse(pkt, 64, &m), 0);
	assert_int_equal(m.type, WIREGUARD_COOKIE_REPLY);
	assert_int_equal(m.receiver_index, 0x11223344);
	assert_string_equal(wireguard_type_name(m.type), "cookie-reply");
}

static void test_wireguard_data(void **state)
{
	struct wireguard_message m;
	fill(4);
	memcpy(pkt + 8, "\x05\x00\x00\x00\x00\x00\x00\x01", 8);
	assert_int_equal(wireguard_parse(pkt, 32, &m), 0); /* keepalive */
	assert_int_equal(m.type, WIREGUARD_TRANSPORT_DATA);
	assert_int_equal(m.receiver_index, 0x11223344);
	assert_true(m.counter == 0x0100000000000005ull);
	assert_int_equal(wireguard_parse(pkt, 16 + 16 * 10, &m), 0);
}

static void test_wireguard_wrong_sizes(void **state)
{
	struct wireguard_message m;
	fill(1);
	assert_int_equal(wireguard_parse(pkt, 147, &m), -ENOMSG);
	assert_int_equal(wireguard_parse(pkt, 149, &m), -ENOMSG);
	fill(2);
	assert_int_equal(wireguard_parse(pkt, 91, &m), -ENOMSG);
	assert_int_equal(wireguard_parse(pkt, 148, &m), -ENOMSG);
	fill(3);
	assert_int_equal(wireguard_parse(pkt, 65, &m), -ENOMSG);
	fill(4);
	assert_int_equal(wireguard_parse(pkt, 16, &m), -ENOMSG);
	assert_int_equal(wireguard_parse(pkt, 33, &m), -ENOMSG);
	assert_int_equal(wireguard_parse(pkt, 40, &m), -ENOMSG);
}

static void test_wireguard_not_wireguard(void **state)
{
	struct wireguard_message m;
	fill(1);
	pkt[2] = 1; /* reserved must be zero */
	assert_int_equal(wireguard_parse(pkt, 148, &m), -ENOMSG);
	fill(5);
	assert_int_equal(wireguard_parse(pkt, 148, &m), -ENOMSG);
	fill(0);
	assert_int_equal(wireguard_parse(pkt, 32, &m), -ENOMSG);
	assert_int_equal(wireguard_parse(pkt, 3, &m), -ENOMSG);
	assert_int_equal(wireguard_parse(NULL, 0, &m), -ENOMSG);
	assert_string_equal(wireguard_type_name(9), "unknown");
}

static void test_wireguard_tailscale_port(void **state)
{
	assert_true(wireguard_is_tailscale_port(41641, 51000));
	assert_true(wireguard_is_tailscale_port(51000, 41641));
	assert_false(wireguard_is_tailscale_port(51820, 51820));
}

static void test_wireguard_truncations(void **state)
{
	struct wireguard_message m;
	for (uint8_t t = 1; t <= 4; t++) {
		fill(t);
		for (size_t i = 0; i <= 200; i++) {
			uint8_t *c = malloc(i ? i : 1);
			assert_non_null(c);
			memcpy(c, pkt, i);
			int r = wireguard_parse(c, i, &m);
			assert_true(r == 0 || r == -ENOMSG);
			free(c);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wireguard_initiation),
	    cmocka_unit_test(test_wireguard_response),
	    cmocka_unit_test(test_wireguard_cookie_reply),
	    cmocka_unit_test(test_wireguard_data),
	    cmocka_unit_test(test_wireguard_wrong_sizes),
	    cmocka_unit_test(test_wireguard_not_wireguard),
	    cmocka_unit_test(test_wireguard_tailscale_port),
	    cmocka_unit_test(test_wireguard_truncations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

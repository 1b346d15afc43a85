/* Tests for services/classifier/ntp: client and server packets, mode/version/stratum rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ntp.h"

static uint8_t pkt[96];

static void build(uint8_t li_vn_mode, uint8_t stratum, const char *refid)
{
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = li_vn_mode;
	pkt[1] = stratum;
	pkt[2] = 6;    /* poll 64 s */
	pkt[3] = 0xe9; /* precision -23 */
	memcpy(pkt + 12, refid, 4);
	memcpy(pkt + 40, "\xe9\x4b\x1f\x22\x00\x00\x00\x00", 8); /* transmit timestamp */
}

static void test_ntp_client(void **state)
{
	struct ntp_message m;
	build(0x23, 0, "\0\0\0\0"); /* LI 0, v4, client */
	assert_int_equal(ntp_parse(pkt, 48, &m), 0);
	assert_int_equal(m.version, 4);
	assert_int_equal(m.mode, NTP_MODE_CLIENT);
	assert_string_equal(ntp_mode_name(m.mode), "client");
	assert_int_equal(m.stratum, 0);
	assert_int_equal(m.poll, 6);
	assert_int_equal(m.precision, -23);
	assert_string_equal(m.reference_text, "");
	assert_int_equal(m.extension_len, 0);
	build(0xe3, 0, "\0\0\0\0"); /* LI 3 (unsynchronised), v4, client: ntpdate/chrony */
	assert_int_equal(ntp_parse(pkt, 48, &m), 0);
	assert_int_equal(m.leap, 3);
	build(0x1b, 0, "\0\0\0\0"); /* v3 client (SNTP) */
	assert_int_equal(ntp_parse(pkt, 48, &m), 0);
	assert_int_equal(m.version, 3);
}

static void test_ntp_server(void **state)
{
	struct ntp_message m;
	build(0x24, 1, "GPS\0");
	assert_int_equal(ntp_parse(pkt, 48, &m), 0);
	assert_int_equal(m.mode, NTP_MODE_SERVER);
	assert_string_equal(ntp_mode_name(m.mode), "server");
	assert_int_equal(m.stratum, 1);
	assert_string_equal(m.reference_text, "GPS");
	build(0x24, 2, "\xc0\xa8\x01\x01");
	assert_int_equal(ntp_parse(pkt, 68, &m), 0); /* 48 + 20-byte MAC */
	assert_int_equal(m.reference_id, 0xc0a80101);
	assert_string_equal(m.reference_text, "");
	assert_int_equal(m.extension_len, 20);
	build(0x24, 0, "RATE"); /* kiss-o'-death */
	assert_int_equal(ntp_parse(pkt, 48, &m), 0);
	assert_string_equal(m.reference_text, "RATE");
	build(0x24, 1, "G\x01S\0");
	assert_int_equal(ntp_parse(pkt, 48, &m), 0);
	assert_string_equal(m.reference_text, "");
}

static void test_ntp_modes(void **state)
{
	struct ntp_message m;
	static const char *names[] = {"unknown", "symmetric-active", "symmetric-passive",
				      "client",	 "server",	     "broadcast"};
	for (uint8_t mode = 1; mode <= 5; mode++) {
		build((uint8_t)(0x20 | mode), 2, "abcd");
		assert_int_equal(ntp_parse(pkt, 48, &m), 0);
		assert_string_equal(ntp_mode_name(m.mode), names[mode]);
	}
	assert_string_equal(ntp_mode_name((enum ntp_mode)7), "unknown");
}

static void test_ntp_not_ntp(void **state)
{
	struct ntp_message m;
	memset(&m, 0x33, sizeof(m));
	build(0x23, 0, "\0\0\0\0");
	assert_int_equal(ntp_parse(pkt, 47, &m), -ENOMSG);
	build(0x26, 0, "\0\0\0\0"); /* mode 6 control */
	assert_int_equal(ntp_parse(pkt, 48, &m), -ENOMSG);
	build(0x27, 0, "\0\0\0\0"); /* mode 7 private (monlist) */
	assert_int_equal(ntp_parse(pkt, 48, &m), -ENOMSG);
	build(0x20, 0, "\0\0\0\0"); /* mode 0 */
	assert_int_equal(ntp_parse(pkt, 48, &m), -ENOMSG);
	build(0x03, 0, "\0\0\0\0"); /* version 0 */
	assert_int_equal(ntp_parse(pkt, 48, &m), -ENOMSG);
	build(0x2b, 0, "\0\0\0\0"); /* version 5 */
	assert_int_equal(ntp_parse(pkt, 48, &m), -ENOMSG);
	build(0x24, 17, "\0\0\0\0");
	assert_int_equal(ntp_parse(pkt, 48, &m), -ENOMSG);
	assert_int_equal(ntp_parse(NULL, 0, &m), -ENOMSG);
	assert_int_equal(m.stratum, 0x33);
}

static void test_ntp_truncations(void **state)
{
	struct ntp_message m;
	build(0x24, 1, "GPS\0");
	for (size_t i = 0; i <= 48; i++) {
		uint8_t *c = malloc(i ? i : 1);
		assert_non_null(c);
		memcpy(c, pkt, i);
		assert_int_equal(ntp_parse(c, i, &m), i < 48 ? -ENOMSG : 0);
		free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ntp_client),	    cmocka_unit_test(test_ntp_server),
	    cmocka_unit_test(test_ntp_modes),	    cmocka_unit_test(test_ntp_not_ntp),
	    cmocka_unit_test(test_ntp_truncations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

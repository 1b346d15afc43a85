/* Tests for common/synth: the packets carry valid checksums (IPv4 header, TCP and UDP over
 * IPv4 and IPv6), verified here by summing independently of the implementation. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/synth.h"

/* One's-complement sum folded to 16 bits: 0xffff over data that includes a valid checksum. */
static uint32_t sum16(uint32_t sum, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum += i % 2 ? d[i] : (uint32_t)d[i] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void check(uint8_t l3, uint8_t proto, const char *payload)
{
	struct rdpi_synth_tuple t = {.l3 = l3, .l4proto = proto, .sport = 40001, .dport = 443};
	if (l3 == 4) {
		uint8_t a[16] = {[10] = 0xff, [11] = 0xff, 192, 0, 2, 1};
		uint8_t b[16] = {[10] = 0xff, [11] = 0xff, 198, 51, 100, 7};
		memcpy(t.src, a, 16);
		memcpy(t.dst, b, 16);
	} else {
		uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
		uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = 0xab, [15] = 0xcd};
		memcpy(t.src, a, 16);
		memcpy(t.dst, b, 16);
	}
	struct rdpi_synth_tcp tcp = {.seq = 7, .ack = 9, .flags = 0x18};
	uint8_t pkt[512];
	size_t len = 0, plen = strlen(payload);
	assert_int_equal(rdpi_synth_packet(&t, &tcp, (const uint8_t *)payload, plen, pkt,
					   sizeof(pkt), &len),
			 0);
	size_t hl = l3 == 4 ? 20 : 40;
	if (l3 == 4)
		assert_int_equal(fold(sum16(0, pkt, 20)), 0xffff);
	uint32_t s = l3 == 4 ? sum16(0, pkt + 12, 8) : sum16(0, pkt + 8, 32);
	s += proto + (uint32_t)(len - hl);
	assert_int_equal(fold(sum16(s, pkt + hl, len - hl)), 0xffff);
	size_t off = hl + (proto == IPPROTO_TCP ? 16 : 6);
	assert_true(pkt[off] || pkt[off + 1]); /* present, not "no checksum" */
}

static void test_synth_checksums_v4(void **state)
{
	check(4, IPPROTO_TCP, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
	check(4, IPPROTO_UDP, "odd-length payload");
	check(4, IPPROTO_TCP, "");
}

static void test_synth_checksums_v6(void **state)
{
	check(6, IPPROTO_TCP, "hello");
	check(6, IPPROTO_UDP, "x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_synth_checksums_v4),
	    cmocka_unit_test(test_synth_checksums_v6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

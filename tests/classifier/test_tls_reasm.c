/* Tests for services/classifier/tls_reasm: a ClientHello split over 2 and 3 TCP segments, fed in
 * order with retransmits, and the gap / overflow give-ups. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tls.h"
#include "tls_reasm.h"

/* A TLS 1.3 ClientHello record with SNI, ALPN h2 and pad bytes of padding extension. */
static size_t build_hello(uint8_t *out, const char *sni, size_t pad)
{
	uint8_t b[3000];
	size_t n = 0, sl = strlen(sni);
	b[n++] = 0x03; /* legacy_version */
	b[n++] = 0x03;
	for (int i = 0; i < 32; i++)
		b[n++] = (uint8_t)i;
	b[n++] = 0; /* session id */
	b[n++] = 0; /* cipher suites */
	b[n++] = 4;
	b[n++] = 0x13;
	b[n++] = 0x01;
	b[n++] = 0x13;
	b[n++] = 0x02;
	b[n++] = 1; /* compression */
	b[n++] = 0;
	size_t ext_len = (4 + 5 + sl) + (4 + 5) + (4 + 3) + (4 + pad);
	b[n++] = (uint8_t)(ext_len >> 8);
	b[n++] = (uint8_t)ext_len;
	/* server_name */
	const uint8_t sni_hdr[] = {0,
				   0,
				   (uint8_t)((sl + 5) >> 8),
				   (uint8_t)(sl + 5),
				   (uint8_t)((sl + 3) >> 8),
				   (uint8_t)(sl + 3),
				   0,
				   (uint8_t)(sl >> 8),
				   (uint8_t)sl};
	memcpy(b + n, sni_hdr, sizeof(sni_hdr));
	n += sizeof(sni_hdr);
	memcpy(b + n, sni, sl);
	n += sl;
	/* ALPN h2 */
	const uint8_t alpn[] = {0, 16, 0, 5, 0, 3, 2, 'h', '2'};
	memcpy(b + n, alpn, sizeof(alpn));
	n += sizeof(alpn);
	/* supported_versions: TLS 1.3 */
	const uint8_t sv[] = {0, 43, 0, 3, 2, 3, 4};
	memcpy(b + n, sv, sizeof(sv));
	n += sizeof(sv);
	/* padding */
	b[n++] = 0;
	b[n++] = 21;
	b[n++] = (uint8_t)(pad >> 8);
	b[n++] = (uint8_t)pad;
	memset(b + n, 0, pad);
	n += pad;

	size_t hs = n + 4, o = 0;
	out[o++] = 22;
	out[o++] = 3;
	out[o++] = 1;
	out[o++] = (uint8_t)(hs >> 8);
	out[o++] = (uint8_t)hs;
	out[o++] = 1;
	out[o++] = 0;
	out[o++] = (uint8_t)(n >> 8);
	out[o++] = (uint8_t)n;
	memcpy(out + o, b, n);
	return o + n;
}

/* feeds segments cut at cuts[], checking parse results after each */
static void feed(const uint8_t *rec, size_t n, const size_t *cuts, size_t ncuts, uint32_t isn)
{
	struct tls_reasm r;
	struct tls_client_hello h;
	size_t len, prev = 0;
	tls_reasm_init(&r);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : n;
		assert_int_equal(tls_reasm_add(&r, isn + (uint32_t)prev, rec + prev, end - prev),
				 0);
		const uint8_t *d = tls_reasm_data(&r, &len);
		assert_int_equal(len, end);
		int rc = tls_parse_client_hello(d, len, &h);
		assert_int_equal(rc, i < ncuts ? -EAGAIN : 0);
		prev = end;
	}
	assert_string_equal(h.sni, "split.example.com");
	assert_string_equal(h.alpn, "h2");
	assert_string_equal(h.version_name, "tls1.3");
}

static void test_tls_reasm_two_segments(void **state)
{
	uint8_t rec[3000];
	size_t n = build_hello(rec, "split.example.com", 1500);
	assert_true(n > 1460);
	const size_t cuts[] = {1460};
	feed(rec, n, cuts, 1, 1000);
	/* split inside the record header and inside the SNI */
	const size_t early[] = {3};
	feed(rec, n, early, 1, 7);
	const size_t sni[] = {60};
	feed(rec, n, sni, 1, 7);
}

static void test_tls_reasm_three_segments(void **state)
{
	uint8_t rec[3000];
	size_t n = build_hello(rec, "split.example.com", 1500);
	const size_t cuts[] = {500, 1200};
	feed(rec, n, cuts, 2, 0x12345678);
	/* sequence numbers wrapping through zero */
	feed(rec, n, cuts, 2, 0xffffff00u);
}

static void test_tls_reasm_retransmits(void **state)
{
	uint8_t rec[3000];
	struct tls_reasm r;
	struct tls_client_hello h;
	size_t len;
	size_t n = build_hello(rec, "split.example.com", 1500);
	tls_reasm_init(&r);
	assert_int_equal(tls_reasm_add(&r, 100, rec, 600), 0);
	/* exact retransmit, an older part, a pure ACK (no payload) */
	assert_int_equal(tls_reasm_add(&r, 100, rec, 600), 0);
	assert_int_equal(tls_reasm_add(&r, 200, rec + 100, 50), 0);
	assert_int_equal(tls_reasm_add(&r, 9999, NULL, 0), 0);
	tls_reasm_data(&r, &len);
	assert_int_equal(len, 600);
	/* a retransmit that also carries new bytes: the new tail is kept */
	assert_int_equal(tls_reasm_add(&r, 500, rec + 400, 400), 0);
	assert_int_equal(tls_reasm_add(&r, 900, rec + 800, n - 800), 0);
	const uint8_t *d = tls_reasm_data(&r, &len);
	assert_int_equal(len, n);
	assert_memory_equal(d, rec, n);
	assert_int_equal(tls_parse_client_hello(d, len, &h), 0);
	assert_string_equal(h.sni, "split.example.com");
}

static void test_tls_reasm_gap(void **state)
{
	uint8_t rec[3000];
	struct tls_reasm r;
	size_t len;
	build_hello(rec, "split.example.com", 1500);
	tls_reasm_init(&r);
	assert_int_equal(tls_reasm_add(&r, 100, rec, 500), 0);
	assert_int_equal(tls_reasm_add(&r, 700, rec + 600, 100), -EPROTO);
	/* sticky: even the missing segment is refused now */
	assert_int_equal(tls_reasm_add(&r, 600, rec + 500, 100), -EPROTO);
	tls_reasm_data(&r, &len);
	assert_int_equal(len, 500);
	/* init starts over */
	tls_reasm_init(&r);
	assert_int_equal(tls_reasm_add(&r, 700, rec, 10), 0);
}

static void test_tls_reasm_overflow(void **state)
{
	static uint8_t big[TLS_REASM_MAX + 10];
	struct tls_reasm r;
	size_t len;
	tls_reasm_init(&r);
	assert_int_equal(tls_reasm_add(&r, 1, big, TLS_REASM_MAX - 10), 0);
	assert_int_equal(tls_reasm_add(&r, 1 + TLS_REASM_MAX - 10, big, 10), 0);
	assert_int_equal(tls_reasm_add(&r, 1 + TLS_REASM_MAX, big, 1), -ENOSPC);
	assert_int_equal(tls_reasm_add(&r, 1 + TLS_REASM_MAX, big, 1), -ENOSPC);
	tls_reasm_data(&r, &len);
	assert_int_equal(len, TLS_REASM_MAX);
	tls_reasm_init(&r);
	assert_int_equal(tls_reasm_add(&r, 1, big, sizeof(big)), -ENOSPC);
	tls_reasm_data(&r, &len);
	assert_int_equal(len, 0);
}

static void test_tls_reasm_not_tls(void **state)
{
	static const uint8_t http[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	struct tls_reasm r;
	struct tls_client_hello h;
	size_t len;
	tls_reasm_init(&r);
	assert_int_equal(tls_reasm_add(&r, 5, http, sizeof(http) - 1), 0);
	const uint8_t *d = tls_reasm_data(&r, &len);
	assert_int_equal(tls_parse_client_hello(d, len, &h), -ENOMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tls_reasm_two_segments),
	    cmocka_unit_test(test_tls_reasm_three_segments),
	    cmocka_unit_test(test_tls_reasm_retransmits),
	    cmocka_unit_test(test_tls_reasm_gap),
	    cmocka_unit_test(test_tls_reasm_overflow),
	    cmocka_unit_test(test_tls_reasm_not_tls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

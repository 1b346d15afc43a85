/* Tests for services/classifier/stun: an ICE binding request and its response built byte by
 * byte, TURN, Tailscale's SOFTWARE, header and length checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stun.h"

struct buf {
	uint8_t d[512];
	size_t n;
};

static void put16(struct buf *b, unsigned v)
{
	b->d[b->n++] = (uint8_t)(v >> 8);
	b->d[b->n++] = (uint8_t)v;
}

static void attr(struct buf *b, unsigned type, const void *v, size_t len)
{
	put16(b, type);
	put16(b, (unsigned)len);
	memcpy(b->d + b->n, v, len);
	b->n += len;
	while (b->n % 4)
		b->d[b->n++] = 0;
}

static void header(struct buf *b, unsigned type)
{
	b->n = 0;
	put16(b, type);
	put16(b, 0);
	memcpy(b->d + 4, "\x21\x12\xa4\x42\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae", 16);
	b->n = 20;
}

static void finish(struct buf *b)
{
	b->d[2] = (uint8_t)((b->n - 20) >> 8);
	b->d[3] = (uint8_t)(b->n - 20);
}

/* RFC 5769 2.1-style ICE connectivity check */
static void build_request(struct buf *b)
{
	uint8_t zero[20] = {0};
	header(b, 0x0001);
	attr(b, 0x8022, "STUN test client", 16);
	attr(b, 0x0024, "\x6e\x00\x01\xff", 4);
	attr(b, 0x8029, "\x93\x2f\xf9\xb1\x51\x26\x3b\x36", 8);
	attr(b, 0x0006, "evtj:h6vY", 9);
	attr(b, 0x0008, zero, 20);
	attr(b, 0x8028, "\xe5\x7a\x3b\xcf", 4);
	finish(b);
}

static void build_response(struct buf *b)
{
	header(b, 0x0101);
	attr(b, 0x8022, "test vector", 11);
	attr(b, 0x0020, "\x00\x01\xa1\x47\xe1\x12\xa6\x43", 8);
	attr(b, 0x8028, "\xc0\x7d\x4c\x96", 4);
	finish(b);
}

static void test_stun_binding_request(void **state)
{
	struct buf b;
	struct stun_message m;
	build_request(&b);
	assert_int_equal(b.n, 108);
	assert_int_equal(stun_parse(b.d, b.n, &m), 0);
	assert_int_equal(m.msg_class, STUN_CLASS_REQUEST);
	assert_int_equal(m.method, STUN_METHOD_BINDING);
	assert_int_equal(m.length, 88);
	assert_int_equal(m.n_attrs, 6);
	assert_true(m.has_software);
	assert_string_equal(m.software, "STUN test client");
	assert_true(m.has_username);
	assert_true(m.has_message_integrity);
	assert_true(m.has_fingerprint);
	assert_true(m.ice);
	assert_false(m.turn);
	assert_false(m.has_xor_mapped_address);
	assert_false(m.truncated);
	assert_int_equal(m.transaction_id[0], 0xb7);
	assert_string_equal(stun_class_name(m.msg_class), "request");
	assert_string_equal(stun_method_name(m.method), "binding");
}

static void test_stun_binding_response(void **state)
{
	struct buf b;
	struct stun_message m;
	build_response(&b);
	assert_int_equal(stun_parse(b.d, b.n, &m), 0);
	assert_int_equal(m.msg_class, STUN_CLASS_SUCCESS);
	assert_int_equal(m.method, STUN_METHOD_BINDING);
	assert_true(m.has_xor_mapped_address);
	assert_false(m.has_username);
	assert_false(m.ice);
	assert_string_equal(m.software, "test vector");
	assert_string_equal(stun_class_name(m.msg_class), "success");
}

static void test_stun_bare_binding(void **state)
{
	struct buf b;
	struct stun_message m;
	header(&b, 0x0001);
	finish(&b);
	assert_int_equal(stun_parse(b.d, b.n, &m), 0);
	assert_int_equal(m.n_attrs, 0);
	assert_false(m.has_software);
	assert_string_equal(m.software, "");
}

static void test_stun_tailscale_software(void **state)
{
	struct buf b;
	struct stun_message m;
	header(&b, 0x0001);
	attr(&b, 0x8022, "tailnode", 8);
	attr(&b, 0x8028, "\x01\x02\x03\x04", 4);
	finish(&b);
	assert_int_equal(stun_parse(b.d, b.n, &m), 0);
	assert_string_equal(m.software, "tailnode");
}

static void test_stun_turn_and_error(void **state)
{
	struct buf b;
	struct stun_message m;
	header(&b, 0x0003); /* allocate request */
	attr(&b, 0x0019, "\x11\x00\x00\x00", 4);
	finish(&b);
	assert_int_equal(stun_parse(b.d, b.n, &m), 0);
	assert_int_equal(m.method, STUN_METHOD_ALLOCATE);
	assert_true(m.turn);
	assert_string_equal(stun_method_name(m.method), "allocate");
	header(&b, 0x0113); /* allocate error response */
	attr(&b, 0x0009, "\x00\x00\x04\x01Unauthorized", 16);
	attr(&b, 0x0014, "example.org", 11);
	finish(&b);
	assert_int_equal(stun_parse(b.d, b.n, &m), 0);
	assert_int_equal(m.msg_class, STUN_CLASS_ERROR);
	assert_int_equal(m.method, STUN_METHOD_ALLOCATE);
	header(&b, 0x0017); /* data indication */
	finish(&b);
	assert_int_equal(stun_parse(b.d, b.n, &m), 0);
	assert_int_equal(m.msg_class, STUN_CLASS_INDICATION);
	assert_int_equal(m.method, STUN_METHOD_DATA);
	assert_string_equal(stun_method_name(0x0ff), "unknown");
}

static void test_stun_not_stun(void **state)
{
	struct buf b;
	struct stun_message m;
	build_request(&b);
	assert_int_equal(stun_parse(b.d, 19, &m), -ENOMSG);
	b.d[4] = 0x22; /* cookie */
	assert_int_equal(stun_parse(b.d, b.n, &m), -ENOMSG);
	build_request(&b);
	b.d[0] |= 0x40; /* TURN ChannelData / not STUN */
	assert_int_equal(stun_parse(b.d, b.n, &m), -ENOMSG);
	build_request(&b);
	b.d[3] += 2; /* length not a multiple of 4 */
	assert_int_equal(stun_parse(b.d, b.n, &m), -ENOMSG);
	assert_int_equal(stun_parse(NULL, 0, &m), -ENOMSG);
}

static void test_stun_attribute_overrun(void **state)
{
	struct buf b;
	struct stun_message m;
	memset(&m, 0x77, sizeof(m));
	build_response(&b);
	b.d[22] = 0;
	b.d[23] = 200; /* SOFTWARE claims 200 bytes inside an 80-byte message */
	assert_int_equal(stun_parse(b.d, b.n, &m), -EINVAL);
	assert_int_equal(m.length, 0x7777); /* untouched */
}

static void test_stun_length_mismatch(void **state)
{
	struct buf b;
	struct stun_message m;
	build_request(&b);
	/* capture cut inside the attributes: what is there is used */
	assert_int_equal(stun_parse(b.d, 50, &m), 0);
	assert_true(m.truncated);
	assert_true(m.has_software);
	assert_false(m.has_fingerprint);
	/* trailing bytes after the declared length (TCP framing) are ignored */
	b.d[b.n++] = 0xff;
	assert_int_equal(stun_parse(b.d, b.n, &m), 0);
	assert_false(m.truncated);
	assert_int_equal(m.n_attrs, 6);
}

static void test_stun_truncations(void **state)
{
	struct buf b;
	struct stun_message m;
	build_request(&b);
	for (size_t i = 0; i <= b.n; i++) {
		uint8_t *c = malloc(i ? i : 1);
		assert_non_null(c);
		memcpy(c, b.d, i);
		int r = stun_parse(c, i, &m);
		assert_int_equal(r, i < 20 ? -ENOMSG : 0);
		free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stun_binding_request),
	    cmocka_unit_test(test_stun_binding_response),
	    cmocka_unit_test(test_stun_bare_binding),
	    cmocka_unit_test(test_stun_tailscale_software),
	    cmocka_unit_test(test_stun_turn_and_error),
	    cmocka_unit_test(test_stun_not_stun),
	    cmocka_unit_test(test_stun_attribute_overrun),
	    cmocka_unit_test(test_stun_length_mismatch),
	    cmocka_unit_test(test_stun_truncations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

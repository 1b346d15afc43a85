/* Tests for common/base64: RFC 4648 vectors both ways, unpadded input,
 * rejection of anything outside the standard alphabet and padding rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/base64.h"

struct vector {
	const char *plain;
	const char *encoded;
};

/* RFC 4648 section 10 */
static const struct vector rfc_vectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static int decode_str(const char *in, uint8_t *out, size_t *ret_n)
{
	return rdpi_base64_decode(in, strlen(in), out, ret_n);
}

static void test_base64_rfc4648_encode(void **state)
{
	for (size_t i = 0; i < sizeof(rfc_vectors) / sizeof(rfc_vectors[0]); i++) {
		const struct vector *v = &rfc_vectors[i];
		size_t n = strlen(v->plain);
		assert_int_equal(rdpi_base64_encoded_len(n), strlen(v->encoded));
		char out[16];
		memset(out, 'X', sizeof(out));
		rdpi_base64_encode((const uint8_t *)v->plain, n, out);
		assert_string_equal(out, v->encoded);
	}
}

static void test_base64_rfc4648_decode(void **state)
{
	for (size_t i = 0; i < sizeof(rfc_vectors) / sizeof(rfc_vectors[0]); i++) {
		const struct vector *v = &rfc_vectors[i];
		uint8_t out[16];
		size_t n = 99;
		assert_int_equal(decode_str(v->encoded, out, &n), 0);
		assert_int_equal(n, strlen(v->plain));
		assert_memory_equal(out, v->plain, n);
	}
}

static void test_base64_unpadded_accepted(void **state)
{
	static const struct vector unpadded[] = {
	    {"f", "Zg"}, {"fo", "Zm8"}, {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}};
	for (size_t i = 0; i < sizeof(unpadded) / sizeof(unpadded[0]); i++) {
		uint8_t out[16];
		size_t n = 0;
		assert_int_equal(decode_str(unpadded[i].encoded, out, &n), 0);
		assert_int_equal(n, strlen(unpadded[i].plain));
		assert_memory_equal(out, unpadded[i].plain, n);
	}
}

static void test_base64_invalid_rejected(void **state)
{
	static const char *const bad[] = {
	    "Z",	/* a lone sextet is not a byte */
	    "Zm9vY",	/* same after a full quantum */
	    "Zg=",	/* half the padding */
	    "Zm9=v",	/* padding in the middle */
	    "Zg==Zg==", /* padding, then more data */
	    "Zm9vYg===",  "=",	      "==",	     "Z===",   "Zm9v Yg==", /* whitespace */
	    "Zm9v\nYg==", "Zm9v\r\n", " Zm9v",	     "Zm9v\t", "Zm-_",	    /* URL-safe alphabet */
	    "Zm9.",	  "Zm9v!",    "\xc3\xa9Zm9",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t out[32];
		size_t n = 12345;
		if (decode_str(bad[i], out, &n) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_int_equal(n, 12345); /* ret_n untouched on error */
	}
	/* an embedded NUL is just another invalid character */
	uint8_t out[8];
	size_t n;
	assert_int_equal(rdpi_base64_decode("Zm\0v", 4, out, &n), -EINVAL);
	/* len is honoured: the part after len is never read */
	assert_int_equal(rdpi_base64_decode("Zm9v!!!!", 4, out, &n), 0);
	assert_int_equal(n, 3);
}

static void test_base64_binary_roundtrip(void **state)
{
	uint8_t in[256];
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(255 - i);
	for (size_t len = 0; len <= sizeof(in); len++) {
		char enc[400];
		size_t el = rdpi_base64_encoded_len(len);
		enc[el + 1] = '#';
		rdpi_base64_encode(in, len, enc);
		assert_int_equal(strlen(enc), el);
		assert_int_equal(enc[el + 1], '#'); /* wrote exactly el + 1 bytes */

		/* decode into an exact-size buffer with a canary after the bound */
		size_t bound = el / 4 * 3 + 3;
		uint8_t out[400];
		memset(out, 0xa5, sizeof(out));
		size_t n = 0;
		assert_int_equal(rdpi_base64_decode(enc, el, out, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(out, in, len);
		assert_int_equal(out[bound], 0xa5);

		/* and without its padding */
		size_t stripped = el;
		while (stripped && enc[stripped - 1] == '=')
			stripped--;
		assert_int_equal(rdpi_base64_decode(enc, stripped, out, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(out, in, len);
	}
}

static void test_base64_nonzero_trailing_bits_accepted(void **state)
{
	/* "Zh==" has low bits set in the last sextet; like Go's decoder the
	 * bits are dropped rather than the input refused */
	uint8_t out[4];
	size_t n;
	assert_int_equal(decode_str("Zh==", out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 'f');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64_rfc4648_encode),
	    cmocka_unit_test(test_base64_rfc4648_decode),
	    cmocka_unit_test(test_base64_unpadded_accepted),
	    cmocka_unit_test(test_base64_invalid_rejected),
	    cmocka_unit_test(test_base64_binary_roundtrip),
	    cmocka_unit_test(test_base64_nonzero_trailing_bits_accepted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

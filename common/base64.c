/* Standard base64 (RFC 4648 section 4) used for protobuf bytes fields in the
 * JSON mapping (common/pbjson). Decoding is strict about the alphabet and
 * padding but accepts unpadded input and non-zero trailing bits (like Go). */
#include "common/base64.h"

#include <errno.h>

static const char b64_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t rdpi_base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

void rdpi_base64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = b64_alphabet[v >> 18 & 0x3f];
		*out++ = b64_alphabet[v >> 12 & 0x3f];
		*out++ = b64_alphabet[v >> 6 & 0x3f];
		*out++ = b64_alphabet[v & 0x3f];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		*out++ = b64_alphabet[v >> 18 & 0x3f];
		*out++ = b64_alphabet[v >> 12 & 0x3f];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*out++ = b64_alphabet[v >> 18 & 0x3f];
		*out++ = b64_alphabet[v >> 12 & 0x3f];
		*out++ = b64_alphabet[v >> 6 & 0x3f];
		*out++ = '=';
	}
	*out = '\0';
}

int rdpi_base64_decode(const char *in, size_t len, uint8_t *out, size_t *ret_n)
{
	size_t pad = 0;
	while (pad < len && pad < 2 && in[len - 1 - pad] == '=')
		pad++;
	/* padding, when present, must complete the last quantum exactly */
	if (pad && len % 4 != 0)
		return -EINVAL;
	size_t body = len - pad;
	if (body % 4 == 1)
		return -EINVAL;
	if (pad && (4 - body % 4) % 4 != pad)
		return -EINVAL;

	size_t n = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < body; i++) {
		int v = b64_value((unsigned char)in[i]);
		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*ret_n = n;
	return 0;
}

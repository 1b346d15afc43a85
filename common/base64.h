/* Standard base64 (RFC 4648, '+' '/' with '=' padding) for JSON bytes fields. */
#ifndef RDPI_COMMON_BASE64_H
#define RDPI_COMMON_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Encoded length including padding, excluding the NUL. */
size_t rdpi_base64_encoded_len(size_t n);

/* Encode n bytes into out (at least rdpi_base64_encoded_len(n) + 1 bytes). */
void rdpi_base64_encode(const uint8_t *in, size_t n, char *out);

/* Decode len characters; padding optional, whitespace rejected. out must hold
 * len / 4 * 3 + 3 bytes. Returns 0 and the decoded size, or -EINVAL. */
int rdpi_base64_decode(const char *in, size_t len, uint8_t *out, size_t *ret_n);

#endif

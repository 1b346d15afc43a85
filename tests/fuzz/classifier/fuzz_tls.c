/* Fuzz target: TLS records through tls_parse_client_hello / tls_parse_server_hello, the bare
 * handshake entry point, and the same bytes fed to tls_reasm in segments of varying size. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tls.h"
#include "tls_reasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_hello(const struct tls_client_hello *h)
{
	if (strnlen(h->sni, TLS_SNI_MAX) == TLS_SNI_MAX ||
	    strnlen(h->alpn, TLS_ALPN_MAX) == TLS_ALPN_MAX ||
	    strnlen(h->ja3, TLS_JA3_MAX) == TLS_JA3_MAX || strlen(h->ja3_md5) != 32 ||
	    strnlen(h->version_name, TLS_VERSION_NAME_MAX) == TLS_VERSION_NAME_MAX)
		__builtin_trap();
	for (const char *c = h->sni; *c; c++) {
		if ((*c >= 'A' && *c <= 'Z') || *c <= 0x20 || *c >= 0x7f)
			__builtin_trap();
	}
}

static int parse_checked(const uint8_t *p, size_t n)
{
	struct tls_client_hello h;
	int rc = tls_parse_client_hello(p, n, &h);
	if (rc == 0)
		check_hello(&h);
	else if (rc != -ENOMSG && rc != -EAGAIN && rc != -EINVAL)
		__builtin_trap();
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_client_hello h;
	struct tls_server_hello s;
	int whole = parse_checked(data, size);
	if (tls_parse_client_hello_handshake(data, size, &h) == 0)
		check_hello(&h);
	if (tls_parse_server_hello(data, size, &s) == 0 &&
	    (strnlen(s.cipher_name, TLS_CIPHER_NAME_MAX) == TLS_CIPHER_NAME_MAX ||
	     strnlen(s.alpn, TLS_ALPN_MAX) == TLS_ALPN_MAX))
		__builtin_trap();

	/* segments of 1..64 bytes with an occasional retransmit; the accumulated bytes must end
	 * with the same verdict as the whole buffer once everything is in */
	static struct tls_reasm r;
	tls_reasm_init(&r);
	size_t off = 0, step = size % 64 + 1;
	uint32_t seq = size > 4 ? (uint32_t)data[size - 1] << 24 | data[size - 2] : 0;
	int rc = -EAGAIN;
	while (off < size) {
		size_t k = size - off < step ? size - off : step;
		if (tls_reasm_add(&r, seq + (uint32_t)off, data + off, k) != 0)
			return 0; /* overflow past TLS_REASM_MAX */
		if (off > 0 && off % 3 == 0 && tls_reasm_add(&r, seq, data, off) != 0)
			__builtin_trap(); /* a retransmit is never an error */
		off += k;
		size_t len;
		const uint8_t *d = tls_reasm_data(&r, &len);
		if (len != off)
			__builtin_trap();
		rc = parse_checked(d, len);
		if (rc != -EAGAIN)
			break;
		step = step % 64 + 1;
	}
	if (size > 0 && off == size && rc != whole)
		__builtin_trap();
	return 0;
}

/* TLS ClientHello / ServerHello parser for the classifier's builtin engine: SNI, ALPN, version,
 * JA3 and the negotiated cipher suite from the first handshake bytes of a TCP flow (or of QUIC
 * CRYPTO data, through tls_parse_client_hello_handshake). */
#ifndef RDPI_CLASSIFIER_TLS_H
#define RDPI_CLASSIFIER_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_SNI_MAX	     256 /* 255 characters + NUL */
#define TLS_ALPN_MAX	     64	 /* joined list, e.g. "h2,http/1.1" */
#define TLS_ALPN_KEEP	     4	 /* protocols kept in the joined list */
#define TLS_VERSION_NAME_MAX 8	 /* "tls1.3" */
#define TLS_JA3_MAX	     1024
#define TLS_JA3_MD5_MAX	     33 /* 32 hex digits + NUL */
#define TLS_CIPHER_NAME_MAX  48
/* Largest handshake message reassembled from several records; bigger ones are -EINVAL. */
#define TLS_HANDSHAKE_MAX 16384

struct tls_client_hello {
	uint16_t legacy_version;		 /* ClientHello.legacy_version, e.g. 0x0303 */
	uint16_t version;			 /* highest offered: supported_versions or legacy */
	char version_name[TLS_VERSION_NAME_MAX]; /* tls_version_name(version) */
	char sni[TLS_SNI_MAX];			 /* host_name, lowercased; "" when absent */
	char alpn[TLS_ALPN_MAX];		 /* first TLS_ALPN_KEEP protocols joined by ',' */
	char ja3[TLS_JA3_MAX];			 /* JA3 string, cut at a '-'/',' if too long */
	char ja3_md5[TLS_JA3_MD5_MAX];		 /* MD5 of the full JA3 string, lowercase hex */
	bool ja3_truncated;	  /* ja3 was cut (ja3_md5 is still of the full string) */
	uint16_t n_cipher_suites; /* offered, GREASE included */
	uint16_t n_extensions;	  /* present, GREASE included */
};

struct tls_server_hello {
	uint16_t legacy_version;		 /* ServerHello.legacy_version */
	uint16_t version;			 /* supported_versions selection, else legacy */
	char version_name[TLS_VERSION_NAME_MAX]; /* tls_version_name(version) */
	uint16_t cipher_suite;
	char cipher_name[TLS_CIPHER_NAME_MAX]; /* IANA name for common suites, else "0x1301" */
	char alpn[TLS_ALPN_MAX];	       /* selected protocol; "" when absent */
	bool hello_retry;		       /* a HelloRetryRequest (RFC 8446 section 4.1.3) */
};

/* Parses a ClientHello starting at a TLS record header (content type 22, record version
 * 0x0301..0x0304, handshake type 1). The handshake may span several records inside p[0..n).
 * Returns 0 and fills *ret; -ENOMSG if p is not a TLS handshake record carrying a ClientHello;
 * -EAGAIN if the bytes so far are a valid prefix and a record header promises more;
 * -EINVAL on inconsistent lengths, oversize records or a malformed extension; -ENOMEM if
 * OpenSSL cannot compute the JA3 digest. Never reads beyond p[n - 1]; allocates nothing itself
 * (OpenSSL's digest context aside). */
int tls_parse_client_hello(const uint8_t *p, size_t n, struct tls_client_hello *ret);

/* Same, for a bare handshake message (type 1, 24-bit length, body) without the record layer, as
 * carried in QUIC CRYPTO frames. -EAGAIN when the message is longer than n. */
int tls_parse_client_hello_handshake(const uint8_t *p, size_t n, struct tls_client_hello *ret);

/* Parses a ServerHello (handshake type 2) starting at a TLS record header; return codes as for
 * tls_parse_client_hello. */
int tls_parse_server_hello(const uint8_t *p, size_t n, struct tls_server_hello *ret);

/* "tls1.3", "tls1.2", "tls1.1", "tls1.0", "ssl3.0" or "unknown"; TLS 1.3 drafts (0x7fxx) map to
 * "tls1.3". Static storage. */
const char *tls_version_name(uint16_t v);

/* IANA name of a common TLS 1.2 / 1.3 cipher suite, or NULL. Static storage. */
const char *tls_cipher_suite_name(uint16_t suite);

/* True for the RFC 8701 GREASE values 0x0a0a, 0x1a1a, ..., 0xfafa. */
bool tls_is_grease(uint16_t v);

#endif

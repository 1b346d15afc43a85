/* QUIC client Initial parser (RFC 9000 / 9001, draft-29) for the classifier's builtin engine:
 * removes Initial packet protection and reads the TLS ClientHello from the CRYPTO frames. */
#ifndef RDPI_CLASSIFIER_QUIC_H
#define RDPI_CLASSIFIER_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls.h"

#define QUIC_VERSION_1	     0x00000001u
#define QUIC_VERSION_DRAFT29 0xff00001du
#define QUIC_CID_MAX	     20
#define QUIC_CRYPTO_MAX	     4096 /* CRYPTO stream bytes reassembled from one packet */
#define QUIC_PAYLOAD_MAX     8192 /* protected payload bytes decrypted at most */

struct quic_initial {
	uint32_t version; /* QUIC_VERSION_1 or QUIC_VERSION_DRAFT29 */
	uint8_t dcid_len;
	uint8_t dcid[QUIC_CID_MAX];
	uint8_t scid_len;
	uint32_t packet_number;	       /* truncated packet number as sent */
	bool has_client_hello;	       /* false: an Initial without CRYPTO data (e.g. ACK only) */
	struct tls_client_hello hello; /* valid when has_client_hello: sni, alpn, version, ja3 */
};

/* Parses the first (long header) packet of the UDP payload p[0..n) as a client Initial: derives
 * the client Initial keys from the DCID, removes header protection, authenticates and decrypts
 * the payload with AES-128-GCM, walks PADDING / PING / ACK / CRYPTO / CONNECTION_CLOSE frames
 * and parses the ClientHello at CRYPTO offset 0. Coalesced packets after the first are ignored.
 * Returns 0 and fills *ret; -ENOMSG for short headers, non-Initial packets and versions other
 * than 1 and draft-29; -EINVAL for bad lengths, a payload over QUIC_PAYLOAD_MAX, failed
 * authentication (including server Initials, which use other keys), forbidden frames or a
 * malformed ClientHello; -EAGAIN if the ClientHello continues in a later Initial (only CRYPTO
 * data beyond offset 0, or a ClientHello longer than the data present); -ENOMEM if OpenSSL
 * fails. Never reads beyond p[n - 1]; uses fixed stack buffers (about 16 KiB). */
int quic_parse_initial(const uint8_t *p, size_t n, struct quic_initial *ret);

#endif

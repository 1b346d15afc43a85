/* Bounded per-direction TCP reassembly for the first bytes of a TLS flow, so a ClientHello split
 * over several segments can be handed whole to tls_parse_client_hello. Caller storage, no heap. */
#ifndef RDPI_CLASSIFIER_TLS_REASM_H
#define RDPI_CLASSIFIER_TLS_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_REASM_MAX 4096

/* Embedded in the caller's per-flow state; fields are private to tls_reasm.c. */
struct tls_reasm {
	uint8_t buf[TLS_REASM_MAX];
	size_t len;	   /* bytes held, starting at the first segment's sequence number */
	uint32_t next_seq; /* sequence number expected next */
	bool started;	   /* a non-empty segment was added */
	int error;	   /* sticky: 0, -EPROTO or -ENOSPC */
};

/* Empties r; no resources are held, so there is no _fini. */
void tls_reasm_init(struct tls_reasm *r);

/* Adds one TCP segment payload (n may be 0: ignored). The first non-empty segment sets the
 * start. In-order data is appended; a retransmit of bytes already held is ignored (its new tail,
 * if any, is appended). Returns 0; -EPROTO when the segment leaves a gap (data missing);
 * -ENOSPC when the data would exceed TLS_REASM_MAX. Errors are sticky: once one is returned
 * every later call returns it and the held bytes stay as they were. */
int tls_reasm_add(struct tls_reasm *r, uint32_t tcp_seq, const uint8_t *payload, size_t n);

/* The contiguous bytes held so far and their count in *ret_len; valid until the next
 * tls_reasm_add / tls_reasm_init on r. */
const uint8_t *tls_reasm_data(const struct tls_reasm *r, size_t *ret_len);

#endif

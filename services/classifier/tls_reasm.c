/* Bounded in-order TCP segment accumulator for TLS ClientHello reassembly in the classifier:
 * appends contiguous payloads, drops retransmits, gives up on gaps or overflow. */
#include "tls_reasm.h"

#include <errno.h>
#include <string.h>

void tls_reasm_init(struct tls_reasm *r)
{
	memset(r, 0, sizeof(*r));
}

int tls_reasm_add(struct tls_reasm *r, uint32_t tcp_seq, const uint8_t *payload, size_t n)
{
	if (r->error)
		return r->error;
	if (n == 0)
		return 0;
	if (!r->started) {
		r->started = true;
		r->next_seq = tcp_seq;
	}
	/* signed distance in sequence space handles wrap-around */
	int32_t ahead = (int32_t)(tcp_seq - r->next_seq);
	if (ahead > 0) {
		r->error = -EPROTO;
		return r->error;
	}
	size_t old = (size_t) - (int64_t)ahead;
	if (old >= n)
		return 0; /* retransmit of bytes already held (or older) */
	payload += old;
	n -= old;
	if (n > TLS_REASM_MAX - r->len) {
		r->error = -ENOSPC;
		return r->error;
	}
	memcpy(r->buf + r->len, payload, n);
	r->len += n;
	r->next_seq += (uint32_t)n;
	return 0;
}

const uint8_t *tls_reasm_data(const struct tls_reasm *r, size_t *ret_len)
{
	*ret_len = r->len;
	return r->buf;
}

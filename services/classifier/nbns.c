/* NetBIOS Name Service parser (RFC 1002): header checks and first-level name decoding for the
 * classifier's builtin engine. */
#include "nbns.h"

#include <errno.h>

#define NBNS_HEADER_LEN	 12
#define NBNS_ENCODED_LEN 32
#define NBNS_WIRE_MAX	 255

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool opcode_known(uint8_t op)
{
	return op == 0 || (op >= 5 && op <= 8);
}

int nbns_parse(const uint8_t *p, size_t n, struct nbns_query *ret)
{
	struct nbns_query q = {0};
	if (!p || n < NBNS_HEADER_LEN)
		return -ENOMSG;
	uint16_t flags = be16(p + 2);
	uint16_t qd = be16(p + 4), an = be16(p + 6), ns = be16(p + 8), ar = be16(p + 10);
	q.id = be16(p);
	q.response = flags & 0x8000;
	q.opcode = (flags >> 11) & 0xf;
	q.broadcast = flags & 0x0010;
	q.rcode = flags & 0xf;
	if (!opcode_known(q.opcode))
		return -ENOMSG;
	/* RFC 1002 packets carry one question or one answer (plus at most one more record) */
	if (qd > 1 || an > 1 || ns > 1 || ar > 1 || qd + an != 1)
		return -ENOMSG;
	if (n < NBNS_HEADER_LEN + 1)
		return -EINVAL;
	if (p[NBNS_HEADER_LEN] != NBNS_ENCODED_LEN)
		return -ENOMSG;
	size_t off = NBNS_HEADER_LEN + 1;
	if (n - off < NBNS_ENCODED_LEN)
		return -EINVAL;
	uint8_t raw[16];
	for (size_t i = 0; i < 16; i++) {
		uint8_t hi = p[off + 2 * i], lo = p[off + 2 * i + 1];
		if (hi < 'A' || hi > 'P' || lo < 'A' || lo > 'P')
			return -ENOMSG;
		raw[i] = (uint8_t)((hi - 'A') << 4 | (lo - 'A'));
	}
	off += NBNS_ENCODED_LEN;
	/* scope labels (normally none) up to the root byte */
	size_t wire = 1 + NBNS_ENCODED_LEN;
	for (;;) {
		if (off >= n)
			return -EINVAL;
		uint8_t len = p[off++];
		if (len == 0)
			break;
		if (len > 63)
			return -EINVAL;
		wire += 1 + (size_t)len;
		if (wire + 1 > NBNS_WIRE_MAX || n - off < len)
			return -EINVAL;
		off += len;
	}
	if (n - off < 4)
		return -EINVAL;
	q.type = be16(p + off);
	if ((q.type != NBNS_TYPE_NB && q.type != NBNS_TYPE_NBSTAT) || be16(p + off + 2) != 1)
		return -ENOMSG;

	q.suffix = raw[15];
	size_t len = 15;
	while (len > 0 && (raw[len - 1] == ' ' || raw[len - 1] == '\0'))
		len--;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = raw[i];
		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		else if (c < 0x20 || c > 0x7e)
			c = '?';
		q.name[i] = (char)c;
	}
	q.name[len] = '\0';
	*ret = q;
	return 0;
}

/* Packet synthesis for tuple + payload requests: minimal, valid IPv4/IPv6
 * headers (IPv4 checksum filled) and TCP/UDP headers with correct lengths. */
#include "synth.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

static uint16_t ip4_checksum(const uint8_t *h)
{
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int synth_build(const struct synth_tuple *t, const struct synth_tcp *tcp, const uint8_t *payload,
		size_t plen, uint8_t *buf, size_t cap, size_t *ret_len)
{
	size_t l3len = t->l3 == 4 ? 20 : t->l3 == 6 ? 40 : 0;
	if (!l3len)
		return -EINVAL;
	size_t l4len = t->l4proto == IPPROTO_TCP ? 20 : t->l4proto == IPPROTO_UDP ? 8 : 0;
	size_t total = l3len + l4len + plen;
	if (total > SYNTH_MAX_PACKET || total > cap)
		return -EMSGSIZE;
	memset(buf, 0, l3len + l4len);
	uint8_t *l4 = buf + l3len;
	if (t->l3 == 4) {
		buf[0] = 0x45;
		wr16(buf + 2, (uint16_t)total);
		buf[8] = 64;
		buf[9] = t->l4proto;
		memcpy(buf + 12, t->src + 12, 4);
		memcpy(buf + 16, t->dst + 12, 4);
		wr16(buf + 10, ip4_checksum(buf));
	} else {
		buf[0] = 0x60;
		wr16(buf + 4, (uint16_t)(total - 40));
		buf[6] = t->l4proto;
		buf[7] = 64;
		memcpy(buf + 8, t->src, 16);
		memcpy(buf + 24, t->dst, 16);
	}
	if (t->l4proto == IPPROTO_TCP) {
		wr16(l4, t->sport);
		wr16(l4 + 2, t->dport);
		wr32(l4 + 4, tcp ? tcp->seq : 0);
		wr32(l4 + 8, tcp ? tcp->ack : 0);
		l4[12] = 5 << 4;
		l4[13] = tcp ? tcp->flags : 0x18;
		wr16(l4 + 14, 65535);
	} else if (t->l4proto == IPPROTO_UDP) {
		wr16(l4, t->sport);
		wr16(l4 + 2, t->dport);
		wr16(l4 + 4, (uint16_t)(8 + plen));
	}
	if (plen)
		memcpy(buf + l3len + l4len, payload, plen);
	*ret_len = total;
	return 0;
}

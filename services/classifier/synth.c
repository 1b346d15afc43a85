/* Synthetic packets for selftests and tests (see synth.h). */
#include "synth.h"

#include <arpa/inet.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

size_t synth_client_hello(const char *sni, const char *alpn, uint8_t *buf, size_t len)
{
	uint8_t ext[1024];
	size_t e = 0, sl = strlen(sni), al = alpn ? strlen(alpn) : 0;
	if (sl > 255 || al > 255)
		return 0;
	/* server_name */
	put16(ext + e, 0);
	put16(ext + e + 2, (uint16_t)(sl + 5));
	put16(ext + e + 4, (uint16_t)(sl + 3));
	ext[e + 6] = 0;
	put16(ext + e + 7, (uint16_t)sl);
	memcpy(ext + e + 9, sni, sl);
	e += 9 + sl;
	/* supported_groups x25519, secp256r1 */
	static const uint8_t groups[] = {0x00, 0x0a, 0x00, 0x06, 0x00,
					 0x04, 0x00, 0x1d, 0x00, 0x17};
	memcpy(ext + e, groups, sizeof(groups));
	e += sizeof(groups);
	/* ec_point_formats uncompressed */
	static const uint8_t pf[] = {0x00, 0x0b, 0x00, 0x02, 0x01, 0x00};
	memcpy(ext + e, pf, sizeof(pf));
	e += sizeof(pf);
	if (al) {
		put16(ext + e, 16);
		put16(ext + e + 2, (uint16_t)(al + 3));
		put16(ext + e + 4, (uint16_t)(al + 1));
		ext[e + 6] = (uint8_t)al;
		memcpy(ext + e + 7, alpn, al);
		e += 7 + al;
	}
	static const uint8_t ciphers[] = {0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f, 0xc0, 0x2b};
	size_t body = 2 + 32 + 1 + 2 + sizeof(ciphers) + 2 + 2 + e;
	size_t total = 5 + 4 + body;
	if (total > len)
		return 0;
	uint8_t *p = buf;
	p[0] = 0x16;
	put16(p + 1, 0x0301);
	put16(p + 3, (uint16_t)(4 + body));
	p[5] = 1;
	p[6] = 0;
	put16(p + 7, (uint16_t)body);
	p += 9;
	put16(p, 0x0303);
	p += 2;
	for (int i = 0; i < 32; i++)
		*p++ = (uint8_t)(0x40 + i);
	*p++ = 0; /* session id */
	put16(p, sizeof(ciphers));
	memcpy(p + 2, ciphers, sizeof(ciphers));
	p += 2 + sizeof(ciphers);
	*p++ = 1;
	*p++ = 0; /* null compression */
	put16(p, (uint16_t)e);
	memcpy(p + 2, ext, e);
	return total;
}

static size_t ip_header(const char *src, const char *dst, uint8_t proto, size_t l4len, uint8_t *buf,
			size_t len)
{
	uint8_t a[16], b[16];
	if (inet_pton(AF_INET, src, a) == 1 && inet_pton(AF_INET, dst, b) == 1) {
		if (len < 20 + l4len || 20 + l4len > 65535)
			return 0;
		memset(buf, 0, 20);
		buf[0] = 0x45;
		put16(buf + 2, (uint16_t)(20 + l4len));
		buf[8] = 64;
		buf[9] = proto;
		memcpy(buf + 12, a, 4);
		memcpy(buf + 16, b, 4);
		uint32_t sum = 0;
		for (int i = 0; i < 20; i += 2)
			sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		put16(buf + 10, (uint16_t)~sum);
		return 20;
	}
	if (inet_pton(AF_INET6, src, a) == 1 && inet_pton(AF_INET6, dst, b) == 1) {
		if (len < 40 + l4len || l4len > 65535)
			return 0;
		memset(buf, 0, 40);
		buf[0] = 0x60;
		put16(buf + 4, (uint16_t)l4len);
		buf[6] = proto;
		buf[7] = 64;
		memcpy(buf + 8, a, 16);
		memcpy(buf + 24, b, 16);
		return 40;
	}
	return 0;
}

size_t synth_tcp_packet(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			uint32_t seq, const uint8_t *payload, size_t plen, uint8_t *buf, size_t len)
{
	size_t h = ip_header(src, dst, 6, 20 + plen, buf, len);
	if (!h)
		return 0;
	uint8_t *t = buf + h;
	memset(t, 0, 20);
	put16(t, sport);
	put16(t + 2, dport);
	t[4] = (uint8_t)(seq >> 24);
	t[5] = (uint8_t)(seq >> 16);
	t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	t[12] = 5 << 4;
	t[13] = 0x18; /* PSH|ACK */
	put16(t + 14, 65535);
	if (plen)
		memcpy(t + 20, payload, plen);
	return h + 20 + plen;
}

size_t synth_udp_packet(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			const uint8_t *payload, size_t plen, uint8_t *buf, size_t len)
{
	size_t h = ip_header(src, dst, 17, 8 + plen, buf, len);
	if (!h)
		return 0;
	uint8_t *u = buf + h;
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + plen));
	put16(u + 6, 0);
	if (plen)
		memcpy(u + 8, payload, plen);
	return h + 8 + plen;
}

/* Synthetic packets: IPv4/IPv6 + TCP/UDP around a payload, and a TLS
 * ClientHello for selftests and tests (see synth.h). */
#include "common/synth.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "common/packet.h"

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

static uint32_t csum_add(uint32_t sum, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(d[i] << 8 | d[i + 1]);
	if (n & 1)
		sum += (uint32_t)(d[n - 1] << 8);
	return sum;
}

/* TCP/UDP checksum over the pseudo header and the segment (RFC 793/768/8200), so the packets
 * read clean in tcpdump or wireshark when they end up in a capture. */
static uint16_t l4_checksum(const uint8_t *pkt, uint8_t l3, uint8_t proto, const uint8_t *l4,
			    size_t l4len)
{
	uint32_t sum = l3 == 6 ? csum_add(0, pkt + 8, 32) : csum_add(0, pkt + 12, 8);
	sum += proto + (uint32_t)l4len;
	sum = csum_add(sum, l4, l4len);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t c = (uint16_t)~sum;
	return c == 0 && proto == IPPROTO_UDP ? 0xffff : c; /* UDP: 0 means "none" */
}

int rdpi_synth_packet(const struct rdpi_synth_tuple *t, const struct rdpi_synth_tcp *tcp,
		      const uint8_t *payload, size_t plen, uint8_t *buf, size_t cap,
		      size_t *ret_len)
{
	size_t l3len = t->l3 == 4 ? 20 : t->l3 == 6 ? 40 : 0;
	if (!l3len)
		return -EINVAL;
	size_t l4len = t->l4proto == IPPROTO_TCP ? 20 : t->l4proto == IPPROTO_UDP ? 8 : 0;
	size_t total = l3len + l4len + plen;
	if (total > RDPI_SYNTH_MAX_PACKET || total > cap)
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
	if (l4len)
		wr16(l4 + (t->l4proto == IPPROTO_TCP ? 16 : 6),
		     l4_checksum(buf, t->l3, t->l4proto, l4, l4len + plen));
	*ret_len = total;
	return 0;
}

static size_t text_packet(uint8_t l4proto, const char *src, uint16_t sport, const char *dst,
			  uint16_t dport, uint32_t seq, const uint8_t *payload, size_t plen,
			  uint8_t *buf, size_t cap)
{
	struct rdpi_synth_tuple t = {.l4proto = l4proto, .sport = sport, .dport = dport};
	int l3a = 0, l3b = 0;
	if (rdpi_addr_parse(src, t.src, &l3a) < 0 || rdpi_addr_parse(dst, t.dst, &l3b) < 0 ||
	    l3a != l3b)
		return 0;
	t.l3 = (uint8_t)l3a;
	struct rdpi_synth_tcp tcp = {.seq = seq, .ack = 1, .flags = 0x18};
	size_t len = 0;
	if (rdpi_synth_packet(&t, &tcp, payload, plen, buf, cap, &len) < 0)
		return 0;
	return len;
}

size_t rdpi_synth_tcp_packet(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			     uint32_t seq, const uint8_t *payload, size_t plen, uint8_t *buf,
			     size_t cap)
{
	return text_packet(IPPROTO_TCP, src, sport, dst, dport, seq, payload, plen, buf, cap);
}

size_t rdpi_synth_udp_packet(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			     const uint8_t *payload, size_t plen, uint8_t *buf, size_t cap)
{
	return text_packet(IPPROTO_UDP, src, sport, dst, dport, 0, payload, plen, buf, cap);
}

/* ---- TLS ClientHello --------------------------------------------------- */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int bad;
};

static void put(struct wbuf *w, const void *d, size_t n)
{
	if (w->bad || w->len + n > w->cap) {
		w->bad = 1;
		return;
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void put8(struct wbuf *w, unsigned v)
{
	uint8_t b = (uint8_t)v;
	put(w, &b, 1);
}

static void put16(struct wbuf *w, unsigned v)
{
	put8(w, v >> 8);
	put8(w, v);
}

static void patch16(struct wbuf *w, size_t at, size_t v)
{
	if (!w->bad) {
		w->p[at] = (uint8_t)(v >> 8);
		w->p[at + 1] = (uint8_t)v;
	}
}

size_t rdpi_synth_client_hello(const char *sni, const char *alpn, uint8_t *buf, size_t cap)
{
	size_t sl = strlen(sni);
	if (sl > 200)
		return 0;
	struct wbuf w = {buf, 0, cap, 0};
	static const uint8_t random[32] = {0x52, 0x44, 0x50, 0x49, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	static const uint8_t ciphers[] = {0x13, 0x01, 0x13, 0x02, 0xc0, 0x2b, 0xc0, 0x2f,
					  0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9c, 0x00, 0x2f};
	/* ALPN protocol_name_list: each name with a length byte */
	uint8_t alpn_list[256];
	size_t alpn_len = 0;
	for (const char *p = alpn; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == 0 || n > 255 || alpn_len + 1 + n > sizeof(alpn_list))
			return 0;
		alpn_list[alpn_len++] = (uint8_t)n;
		memcpy(alpn_list + alpn_len, p, n);
		alpn_len += n;
		p += n + (comma ? 1 : 0);
	}
	put8(&w, 0x16); /* handshake record, TLS 1.0 framing as browsers send */
	put16(&w, 0x0301);
	size_t rec_len = w.len;
	put16(&w, 0);
	put8(&w, 0x01); /* ClientHello */
	size_t hs_len = w.len;
	put8(&w, 0);
	put16(&w, 0);
	put16(&w, 0x0303);
	put(&w, random, sizeof(random));
	put8(&w, 0); /* session id */
	put16(&w, sizeof(ciphers));
	put(&w, ciphers, sizeof(ciphers));
	put8(&w, 1); /* compression: null */
	put8(&w, 0);
	size_t ext_len = w.len;
	put16(&w, 0);
	put16(&w, 0x0000); /* server_name */
	put16(&w, (unsigned)(sl + 5));
	put16(&w, (unsigned)(sl + 3));
	put8(&w, 0);
	put16(&w, (unsigned)sl);
	put(&w, sni, sl);
	put16(&w, 0x000a); /* supported_groups: x25519, secp256r1 */
	put16(&w, 6);
	put16(&w, 4);
	put16(&w, 0x001d);
	put16(&w, 0x0017);
	put16(&w, 0x000b); /* ec_point_formats */
	put16(&w, 2);
	put8(&w, 1);
	put8(&w, 0);
	put16(&w, 0x000d); /* signature_algorithms */
	put16(&w, 6);
	put16(&w, 4);
	put16(&w, 0x0403);
	put16(&w, 0x0804);
	if (alpn_len) {
		put16(&w, 0x0010); /* ALPN */
		put16(&w, (unsigned)alpn_len + 2);
		put16(&w, (unsigned)alpn_len);
		put(&w, alpn_list, alpn_len);
	}
	if (w.bad)
		return 0;
	patch16(&w, ext_len, w.len - ext_len - 2);
	size_t hl = w.len - hs_len - 3;
	w.p[hs_len] = (uint8_t)(hl >> 16);
	patch16(&w, hs_len + 1, hl);
	patch16(&w, rec_len, w.len - rec_len - 2);
	return w.len;
}

/* IPv4/IPv6 packet parser: NFLOG L3 bytes in, struct rdpi_packet out. Every read
 * is checked against the captured length; header sanity against the IP length. */
#include "common/packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The cursor keeps two ends apart: ip_end from the IP length fields (a header
 * past it is malformed, -EINVAL) and cap_end from the capture (a header past
 * it is a truncated capture, -EMSGSIZE). cap_end <= ip_end always. */
struct cursor {
	const uint8_t *data;
	size_t ip_end;
	size_t cap_end;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int need(const struct cursor *c, size_t off, size_t n)
{
	if (off > c->ip_end || n > c->ip_end - off)
		return -EINVAL;
	if (off > c->cap_end || n > c->cap_end - off)
		return -EMSGSIZE;
	return 0;
}

static void map_v4(const uint8_t *a4, uint8_t ret[16])
{
	memset(ret, 0, 10);
	ret[10] = 0xff;
	ret[11] = 0xff;
	memcpy(ret + 12, a4, 4);
}

static bool is_v4_mapped(const uint8_t a[16])
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

static void set_payload(const struct cursor *c, size_t start, size_t end, struct rdpi_packet *p)
{
	if (end > c->cap_end)
		end = c->cap_end;
	if (start > end)
		start = end;
	p->payload = c->data + start;
	p->payload_len = end - start;
}

/* L4 header at off: ports, flags and the payload slice after it. */
static int parse_l4(const struct cursor *c, size_t off, struct rdpi_packet *p)
{
	const uint8_t *d = c->data;
	size_t hdr = 0, end = c->ip_end;
	int r;

	p->l4_offset = off;
	switch (p->l4proto) {
	case IPPROTO_TCP:
		if ((r = need(c, off, 20)) != 0)
			return r;
		hdr = (size_t)(d[off + 12] >> 4) * 4;
		if (hdr < 20 || hdr > c->ip_end - off)
			return -EINVAL;
		p->sport = rd16(d + off);
		p->dport = rd16(d + off + 2);
		p->tcp_seq = rd32(d + off + 4);
		p->tcp_ack = rd32(d + off + 8);
		p->tcp_flags = d[off + 13];
		/* options cut off by the capture still leave the ports usable */
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		if ((r = need(c, off, 8)) != 0)
			return r;
		hdr = 8;
		p->sport = rd16(d + off);
		p->dport = rd16(d + off + 2);
		if (p->l4proto == IPPROTO_UDP) {
			/* UDP length bounds the datagram inside the IP payload
			 * (UDP-Lite's field is checksum coverage instead) */
			size_t ulen = rd16(d + off + 4);
			if (ulen >= 8 && ulen < c->ip_end - off)
				end = off + ulen;
		}
		break;
	case IPPROTO_SCTP:
		if ((r = need(c, off, 12)) != 0)
			return r;
		hdr = 12;
		p->sport = rd16(d + off);
		p->dport = rd16(d + off + 2);
		break;
	case IPPROTO_DCCP:
		if ((r = need(c, off, 12)) != 0)
			return r;
		hdr = (size_t)d[off + 4] * 4;
		if (hdr < 12 || hdr > c->ip_end - off)
			return -EINVAL;
		p->sport = rd16(d + off);
		p->dport = rd16(d + off + 2);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((r = need(c, off, 8)) != 0)
			return r;
		hdr = 8;
		p->icmp_type = d[off];
		p->icmp_code = d[off + 1];
		break;
	case IPPROTO_NONE:
		/* anything after No Next Header is to be ignored (RFC 8200 4.7) */
		hdr = c->ip_end - off;
		break;
	default:
		break;
	}
	set_payload(c, off + hdr, end, p);
	return 0;
}

static int parse_v4(const uint8_t *data, size_t len, struct rdpi_packet *p)
{
	size_t ihl = (size_t)(data[0] & 0x0f) * 4;
	if (ihl < 20)
		return -EINVAL;
	if (len < 20)
		return -EMSGSIZE;
	size_t tot = rd16(data + 2);
	if (tot < ihl)
		return -EINVAL;
	if (len < ihl)
		return -EMSGSIZE;

	struct cursor c = {.data = data, .ip_end = tot, .cap_end = len < tot ? len : tot};
	uint16_t frag = rd16(data + 6);
	bool mf = frag & 0x2000;

	p->l3 = 4;
	p->ip_len = (uint32_t)tot;
	p->truncated = len < tot;
	p->ttl = data[8];
	p->l4proto = data[9];
	map_v4(data + 12, p->src);
	map_v4(data + 16, p->dst);
	p->frag_offset = (uint16_t)((frag & 0x1fff) * 8);
	p->frag_id = rd16(data + 4);
	p->is_fragment = mf || p->frag_offset != 0;
	p->is_first_fragment = mf && p->frag_offset == 0;
	if (p->frag_offset != 0) {
		/* no L4 header in a later fragment */
		p->l4_offset = ihl;
		set_payload(&c, ihl, ihl, p);
		return 0;
	}
	return parse_l4(&c, ihl, p);
}

/* Extension headers walked to reach the upper layer; ESP is not one of them
 * since everything after it is encrypted. */
static bool is_ext_header(uint8_t nh)
{
	switch (nh) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
		return true;
	default:
		return false;
	}
}

static int parse_v6(const uint8_t *data, size_t len, struct rdpi_packet *p)
{
	if (len < 40)
		return -EMSGSIZE;
	size_t plen = rd16(data + 4);
	uint8_t nh = data[6];
	size_t tot = 40 + plen;
	/* a jumbogram (RFC 2675) says 0 here and carries its length in a
	 * hop-by-hop option; trust the capture for it */
	if (plen == 0 && nh == IPPROTO_HOPOPTS)
		tot = len;

	struct cursor c = {.data = data, .ip_end = tot, .cap_end = len < tot ? len : tot};
	p->l3 = 6;
	p->ip_len = (uint32_t)tot;
	p->truncated = len < tot;
	p->ttl = data[7];
	memcpy(p->src, data + 8, 16);
	memcpy(p->dst, data + 24, 16);

	size_t off = 40;
	int r;
	for (unsigned n = 0; is_ext_header(nh); n++) {
		if (n >= RDPI_PACKET_MAX_EXT_HEADERS)
			return -EPROTO;
		if (nh == IPPROTO_FRAGMENT) {
			if ((r = need(&c, off, 8)) != 0)
				return r;
			uint16_t fo = rd16(data + off + 2);
			p->frag_offset = fo & 0xfff8;
			p->frag_id = rd32(data + off + 4);
			/* offset 0 without M is an atomic fragment: a whole packet */
			p->is_fragment = (fo & 1) || p->frag_offset != 0;
			p->is_first_fragment = (fo & 1) && p->frag_offset == 0;
			nh = data[off];
			off += 8;
			if (p->frag_offset != 0) {
				p->l4proto = nh;
				p->l4_offset = off;
				set_payload(&c, off, off, p);
				return 0;
			}
			continue;
		}
		if ((r = need(&c, off, 2)) != 0)
			return r;
		size_t hl;
		if (nh == IPPROTO_AH)
			hl = ((size_t)data[off + 1] + 2) * 4;
		else
			hl = ((size_t)data[off + 1] + 1) * 8;
		/* whole header captured, so l4_offset never passes the capture */
		if ((r = need(&c, off, hl)) != 0)
			return r;
		nh = data[off];
		off += hl;
	}
	/* upper layer, ESP (opaque from here on) or No Next Header */
	p->l4proto = nh;
	return parse_l4(&c, off, p);
}

int rdpi_packet_parse(const uint8_t *data, size_t len, struct rdpi_packet *ret)
{
	struct rdpi_packet p;
	int r;

	if (!data || !ret)
		return -EINVAL;
	if (len < 1)
		return -EMSGSIZE;
	memset(&p, 0, sizeof(p));
	switch (data[0] >> 4) {
	case 4:
		r = parse_v4(data, len, &p);
		break;
	case 6:
		r = parse_v6(data, len, &p);
		break;
	default:
		return -EINVAL;
	}
	if (r != 0)
		return r;
	*ret = p;
	return 0;
}

int rdpi_addr_format(const uint8_t addr[16], char *buf, size_t len)
{
	char tmp[RDPI_ADDR_STRLEN];
	const char *s;

	if (!addr || !buf)
		return -EINVAL;
	if (is_v4_mapped(addr))
		s = inet_ntop(AF_INET, addr + 12, tmp, sizeof(tmp));
	else
		s = inet_ntop(AF_INET6, addr, tmp, sizeof(tmp));
	if (!s)
		return -EINVAL;
	size_t n = strlen(tmp);
	if (n >= len)
		return -ENOSPC;
	memcpy(buf, tmp, n + 1);
	return 0;
}

int rdpi_addr_parse(const char *s, uint8_t ret[16], int *ret_l3)
{
	uint8_t a[16], a4[4];
	int l3;

	if (!s || !ret)
		return -EINVAL;
	if (inet_pton(AF_INET, s, a4) == 1) {
		map_v4(a4, a);
		l3 = 4;
	} else if (inet_pton(AF_INET6, s, a) == 1) {
		l3 = is_v4_mapped(a) ? 4 : 6;
	} else {
		return -EINVAL;
	}
	memcpy(ret, a, 16);
	if (ret_l3)
		*ret_l3 = l3;
	return 0;
}

static const char *const l4_names[256] = {
    [IPPROTO_ICMP] = "icmp",	 [IPPROTO_IGMP] = "igmp", [IPPROTO_TCP] = "tcp",
    [IPPROTO_UDP] = "udp",	 [IPPROTO_GRE] = "gre",	  [IPPROTO_ESP] = "esp",
    [IPPROTO_ICMPV6] = "icmpv6", [IPPROTO_SCTP] = "sctp",
};

const char *rdpi_l4proto_name(uint8_t l4proto, char *buf, size_t len)
{
	if (l4_names[l4proto])
		return l4_names[l4proto];
	snprintf(buf, len, "proto-%u", l4proto);
	return buf;
}

int rdpi_l4proto_parse(const char *s, uint8_t *ret)
{
	if (!s || !*s)
		return -EINVAL;
	for (unsigned i = 0; i < 256; i++) {
		if (l4_names[i] && strcasecmp(s, l4_names[i]) == 0) {
			*ret = (uint8_t)i;
			return 0;
		}
	}
	if (strcasecmp(s, "ipv6-icmp") == 0) {
		*ret = IPPROTO_ICMPV6;
		return 0;
	}
	const char *num = strncasecmp(s, "proto-", 6) == 0 ? s + 6 : s;
	if (*num < '0' || *num > '9')
		return -EINVAL;
	char *end;
	unsigned long v = strtoul(num, &end, 10);
	if (*end || v > 255)
		return -EINVAL;
	*ret = (uint8_t)v;
	return 0;
}

bool rdpi_l4proto_has_ports(uint8_t l4proto)
{
	switch (l4proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		return true;
	default:
		return false;
	}
}

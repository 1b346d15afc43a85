/* Tests for common/packet: IPv4/IPv6 parsing from hand-built packets, error
 * classes, truncation at every offset, extension header chains, addr text. */
#include "common/packet.h"

#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const uint8_t SRC4[4] = {192, 0, 2, 10};
static const uint8_t DST4[4] = {198, 51, 100, 10};
static const uint8_t SRC6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
static const uint8_t DST6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static size_t build_tcp(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags,
			const char *payload)
{
	memset(b, 0, 20);
	put16(b, sport);
	put16(b + 2, dport);
	put32(b + 4, seq);
	put32(b + 8, 0x01020304);
	b[12] = 5 << 4;
	b[13] = flags;
	put16(b + 14, 65535);
	size_t n = strlen(payload);
	memcpy(b + 20, payload, n);
	return 20 + n;
}

static size_t build_udp(uint8_t *b, uint16_t sport, uint16_t dport, const char *payload)
{
	size_t n = strlen(payload);
	put16(b, sport);
	put16(b + 2, dport);
	put16(b + 4, (uint16_t)(8 + n));
	put16(b + 6, 0);
	memcpy(b + 8, payload, n);
	return 8 + n;
}

/* IPv4 header with optlen bytes of NOP options, then l4. */
static size_t build_v4(uint8_t *b, uint8_t proto, uint16_t frag, size_t optlen, const uint8_t *l4,
		       size_t l4len)
{
	size_t ihl = 20 + optlen;
	memset(b, 0, ihl);
	b[0] = (uint8_t)(0x40 | (ihl / 4));
	put16(b + 2, (uint16_t)(ihl + l4len));
	put16(b + 4, 0x1234);
	put16(b + 6, frag);
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, SRC4, 4);
	memcpy(b + 16, DST4, 4);
	memset(b + 20, 1, optlen);
	memcpy(b + ihl, l4, l4len);
	return ihl + l4len;
}

static size_t build_v6(uint8_t *b, uint8_t nh, const uint8_t *rest, size_t restlen)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	put16(b + 4, (uint16_t)restlen);
	b[6] = nh;
	b[7] = 55;
	memcpy(b + 8, SRC6, 16);
	memcpy(b + 24, DST6, 16);
	memcpy(b + 40, rest, restlen);
	return 40 + restlen;
}

/* Generic options-style extension header (HBH, routing, dst opts) of len
 * bytes (a multiple of 8). */
static size_t build_ext(uint8_t *b, uint8_t nh, size_t len)
{
	memset(b, 0, len);
	b[0] = nh;
	b[1] = (uint8_t)(len / 8 - 1);
	if (len > 2)
		b[2] = 1; /* PadN */
	if (len > 3)
		b[3] = (uint8_t)(len - 4);
	return len;
}

static size_t build_frag6(uint8_t *b, uint8_t nh, uint16_t offset, bool more, uint32_t id)
{
	memset(b, 0, 8);
	b[0] = nh;
	put16(b + 2, (uint16_t)(offset | (more ? 1 : 0)));
	put32(b + 4, id);
	return 8;
}

/* Parses from an exact-size heap copy so ASan sees any over-read. */
static int parse_copy(const uint8_t *data, size_t len, struct rdpi_packet *ret)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, data, len);
	struct rdpi_packet p;
	int r = rdpi_packet_parse(copy, len, &p);
	if (r == 0) {
		assert_true(p.payload >= copy && p.payload + p.payload_len <= copy + len);
		/* rebase the slice on the caller's buffer before freeing */
		p.payload = data + (p.payload - copy);
		*ret = p;
	}
	free(copy);
	return r;
}

static void assert_mapped(const uint8_t a[16], const uint8_t v4[4])
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	assert_memory_equal(a, prefix, 12);
	assert_memory_equal(a + 12, v4, 4);
}

static void test_packet_ipv4_tcp(void **state)
{
	(void)state;
	uint8_t l4[64], pkt[128];
	size_t l4len = build_tcp(l4, 53168, 443, 1000, 0x02, "hello");
	size_t n = build_v4(pkt, IPPROTO_TCP, 0x4000 /* DF */, 0, l4, l4len);
	struct rdpi_packet p;
	assert_int_equal(parse_copy(pkt, n, &p), 0);
	assert_int_equal(p.l3, 4);
	assert_int_equal(p.l4proto, IPPROTO_TCP);
	assert_mapped(p.src, SRC4);
	assert_mapped(p.dst, DST4);
	assert_int_equal(p.sport, 53168);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.tcp_seq, 1000);
	assert_int_equal(p.tcp_ack, 0x01020304);
	assert_int_equal(p.tcp_flags, 0x02);
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.ip_len, n);
	assert_int_equal(p.l4_offset, 20);
	assert_false(p.is_fragment);
	assert_false(p.truncated);
	assert_int_equal(p.payload_len, 5);
	assert_memory_equal(p.payload, "hello", 5);
}

static void test_packet_ipv4_udp(void **state)
{
	(void)state;
	uint8_t l4[64], pkt[128];
	size_t l4len = build_udp(l4, 5353, 53, "query");
	size_t n = build_v4(pkt, IPPROTO_UDP, 0, 0, l4, l4len);
	struct rdpi_packet p;
	assert_int_equal(parse_copy(pkt, n, &p), 0);
	assert_int_equal(p.l4proto, IPPROTO_UDP);
	assert_int_equal(p.sport, 5353);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.payload_len, 5);
	assert_memory_equal(p.payload, "query", 5);
}

static void test_packet_ipv4_icmp(void **state)
{
	(void)state;
	uint8_t l4[16] = {8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'}, pkt[64];
	size_t n = build_v4(pkt, IPPROTO_ICMP, 0, 0, l4, 12);
	struct rdpi_packet p;
	assert_int_equal(parse_copy(pkt, n, &p), 0);
	assert_int_equal(p.l4proto, IPPROTO_ICMP);
	assert_int_equal(p.icmp_type, 8);
	assert_int_equal(p.icmp_code, 0);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.dport, 0);
	assert_int_equal(p.payload_len, 4);
	assert_memory_equal(p.payload, "ping", 4);
}

static void test_packet_ipv4_options_skipped(void **state)
{
	(void)state;
	uint8_t l4[64], pkt[128];
	size_t l4len = build_udp(l4, 1000, 2000, "x");
	size_t n = build_v4(pkt, IPPROTO_UDP, 0, 8, l4, l4len);
	struct rdpi_packet p;
	assert_int_equal(parse_copy(pkt, n, &p), 0);
	assert_int_equal(p.l4_offset, 28);
	assert_int_equal(p.sport, 1000);
	assert_int_equal(p.dport, 2000);
	assert_int_equal(p.payload_len, 1);
}

static void test_packet_ipv4_bad_header_length(void **state)
{
	(void)state;
	uint8_t l4[64], pkt[128];
	size_t l4len = build_udp(l4, 1, 2, "x");
	size_t n = build_v4(pkt, IPPROTO_UDP, 0, 0, l4, l4len);
	struct rdpi_packet p, before;
	memset(&p, 0xaa, sizeof(p));
	before = p;

	pkt[0] = 0x44; /* IHL 4 */
	assert_int_equal(rdpi_packet_parse(pkt, n, &p), -EINVAL);
	assert_memory_equal(&p, &before, sizeof(p)); /* untouched on failure */
	pkt[0] = 0x40;
	assert_int_equal(rdpi_packet_parse(pkt, n, &p), -EINVAL);

	pkt[0] = 0x45;
	put16(pkt + 2, 19); /* total length below the header */
	assert_int_equal(rdpi_packet_parse(pkt, n, &p), -EINVAL);
	put16(pkt + 2, 24); /* UDP header past the total length */
	assert_int_equal(rdpi_packet_parse(pkt, n, &p), -EINVAL);
	assert_memory_equal(&p, &before, sizeof(p));

	pkt[0] = 0x4f; /* IHL 15 = 60 bytes > total length */
	put16(pkt + 2, (uint16_t)n);
	assert_int_equal(rdpi_packet_parse(pkt, n, &p), -EINVAL);
}

static void test_packet_tcp_bad_data_offset(void **state)
{
	(void)state;
	uint8_t l4[64], pkt[128];
	size_t l4len = build_tcp(l4, 1, 2, 3, 0x10, "abc");
	size_t n = build_v4(pkt, IPPROTO_TCP, 0, 0, l4, l4len);
	struct rdpi_packet p;
	pkt[20 + 12] = 4 << 4;
	assert_int_equal(parse_copy(pkt, n, &p), -EINVAL);
	pkt[20 + 12] = 15 << 4; /* 60 bytes of TCP header > 23 available */
	assert_int_equal(parse_copy(pkt, n, &p), -EINVAL);
}

static void test_packet_trailing_padding_ignored(void **state)
{
	(void)state;
	uint8_t l4[64], pkt[128];
	size_t l4len = build_tcp(l4, 1, 2, 3, 0x10, "");
	size_t n = build_v4(pkt, IPPROTO_TCP, 0, 0, l4, l4len);
	memset(pkt + n, 0xee, 6); /* Ethernet minimum-frame padding */
	struct rdpi_packet p;
	assert_int_equal(parse_copy(pkt, n + 6, &p), 0);
	assert_false(p.truncated);
	assert_int_equal(p.payload_len, 0);
}

/* Every prefix of a valid packet parses without over-reading: prefixes
 * shorter than the headers fail with -EMSGSIZE, longer ones succeed flagged
 * truncated with the payload cut to what was captured. */
static void check_every_prefix(const uint8_t *pkt, size_t n, size_t hdr_len)
{
	for (size_t len = 0; len <= n; len++) {
		struct rdpi_packet p;
		int r = parse_copy(pkt, len, &p);
		if (len < hdr_len) {
			assert_int_equal(r, -EMSGSIZE);
			continue;
		}
		assert_int_equal(r, 0);
		assert_int_equal(p.truncated, len < n);
		assert_int_equal(p.payload_len, len - hdr_len);
		assert_int_equal(p.ip_len, n);
	}
}

static void test_packet_truncated_every_offset(void **state)
{
	(void)state;
	uint8_t l4[64], pkt[128], rest[128];
	size_t l4len = build_tcp(l4, 40000, 80, 7, 0x18, "GET / HTTP/1.1");
	size_t n = build_v4(pkt, IPPROTO_TCP, 0, 4, l4, l4len);
	check_every_prefix(pkt, n, 24 + 20);

	size_t off = build_ext(rest, IPPROTO_FRAGMENT, 8);
	off += build_frag6(rest + off, IPPROTO_DSTOPTS, 0, true, 99);
	off += build_ext(rest + off, IPPROTO_UDP, 16);
	off += build_udp(rest + off, 5000, 443, "quic-initial");
	n = build_v6(pkt, IPPROTO_HOPOPTS, rest, off);
	check_every_prefix(pkt, n, 40 + 8 + 8 + 16 + 8);
}

static void test_packet_ipv4_fragments(void **state)
{
	(void)state;
	uint8_t l4[64], pkt[128];
	size_t l4len = build_udp(l4, 4500, 4500, "first-part");
	size_t n = build_v4(pkt, IPPROTO_UDP, 0x2000 /* MF */, 0, l4, l4len);
	struct rdpi_packet p;
	assert_int_equal(parse_copy(pkt, n, &p), 0);
	assert_true(p.is_fragment);
	assert_true(p.is_first_fragment);
	assert_int_equal(p.sport, 4500);
	assert_int_equal(p.frag_offset, 0);
	assert_int_equal(p.frag_id, 0x1234);

	/* middle fragment: offset 185*8, MF; bytes are not an L4 header */
	n = build_v4(pkt, IPPROTO_UDP, 0x2000 | 185, 0, (const uint8_t *)"continuation", 12);
	assert_int_equal(parse_copy(pkt, n, &p), 0);
	assert_true(p.is_fragment);
	assert_false(p.is_first_fragment);
	assert_int_equal(p.frag_offset, 1480);
	assert_int_equal(p.l4proto, IPPROTO_UDP);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.dport, 0);
	assert_int_equal(p.payload_len, 0);

	/* last fragment: offset set, no MF; even 1 byte of data is fine */
	n = build_v4(pkt, IPPROTO_TCP, 370, 0, (const uint8_t *)"z", 1);
	assert_int_equal(parse_copy(pkt, n, &p), 0);
	assert_true(p.is_fragment);
	assert_false(p.is_first_fragment);
	assert_int_equal(p.payload_len, 0);

	/* a first fragment too short for its L4 header is malformed */
	n = build_v4(pkt, IPPROTO_TCP, 0x2000, 0, (const uint8_t *)"12345678", 8);
	assert_int_equal(parse_copy(pkt, n, &p), -EINVAL);
}

static void test_packet_ipv6_tcp(void **state)
{
	(void)state;
	uint8_t l4[64], pkt[128];
	size_t l4len = build_tcp(l4, 443, 50000, 42, 0x12, "srv");
	size_t n = build_v6(pkt, IPPROTO_TCP, l4, l4len);
	struct rdpi_packet p;
	assert_int_equal(parse_copy(pkt, n, &p), 0);
	assert_int_equal(p.l3, 6);
	assert_int_equal(p.l4proto, IPPROTO_TCP);
	assert_memory_equal(p.src, SRC6, 16);
	assert_memory_equal(p.dst, DST6, 16);
	assert_int_equal(p.sport, 443);
	assert_int_equal(p.dport, 50000);
	assert_int_equal(p.tcp_flags, 0x12);
	assert_int_equal(p.ttl, 55);
	assert_int_equal(p.ip_len, n);
	assert_int_equal(p.l4_offset, 40);
	assert_int_equal(p.payload_len, 3);
	assert_memory_equal(p.payload, "srv", 3);
}

static void test_packet_ipv6_ext_chain(void **state)
{
	(void)state;
	uint8_t rest[128], pkt[192];
	size_t off = build_ext(rest, IPPROTO_FRAGMENT, 8);
	off += build_frag6(rest + off, IPPROTO_DSTOPTS, 0, true, 0xdeadbeef);
	off += build_ext(rest + off, IPPROTO_UDP, 16);
	off += build_udp(rest + off, 5000, 443, "quic");
	size_t n = build_v6(pkt, IPPROTO_HOPOPTS, rest, off);
	struct rdpi_packet p;
	assert_int_equal(parse_copy(pkt, n, &p), 0);
	assert_int_equal(p.l4proto, IPPROTO_UDP);
	assert_int_equal(p.l4_offset, 40 + 8 + 8 + 16);
	assert_int_equal(p.sport, 5000);
	assert_int_equal(p.dport, 443);
	assert_true(p.is_fragment);
	assert_true(p.is_first_fragment);
	assert_int_equal(p.frag_id, 0xdeadbeef);
	assert_int_equal(p.payload_len, 4);
	assert_memory_equal(p.payload, "quic", 4);

	/* a routing header is walked the same way */
	off = build_ext(rest, IPPROTO_TCP, 24);
	off += build_tcp(rest + off, 1, 2, 3, 0x10, "");
	n = build_v6(pkt, IPPROTO_ROUTING, rest, off);
	assert_int_equal(parse_copy(pkt, n, &p), 0);
	assert_int_equal(p.l4proto, IPPROTO_TCP);
	assert_int_equal(p.l4_offset, 64);
}

static void test_packet_ipv6_fragments(void **state)
{
	(void)state;
	uint8_t rest[64], pkt[128];
	size_t off = build_frag6(rest, IPPROTO_TCP, 1232, true, 7);
	memcpy(rest + off, "not-a-tcp-header", 16);
	size_t n = build_v6(pkt, IPPROTO_FRAGMENT, rest, off + 16);
	struct rdpi_packet p;
	assert_int_equal(parse_copy(pkt, n, &p), 0);
	assert_true(p.is_fragment);
	assert_false(p.is_first_fragment);
	assert_int_equal(p.frag_offset, 1232);
	assert_int_equal(p.l4proto, IPPROTO_TCP);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.payload_len, 0);

	/* atomic fragment (offset 0, no M): a whole packet */
	off = build_frag6(rest, IPPROTO_UDP, 0, false, 8);
	off += build_udp(rest + off, 53, 53, "dns");
	n = build_v6(pkt, IPPROTO_FRAGMENT, rest, off);
	assert_int_equal(parse_copy(pkt, n, &p), 0);
	assert_false(p.is_fragment);
	assert_int_equal(p.sport, 53);
	assert_int_equal(p.payload_len, 3);
}

static size_t build_dst_chain(uint8_t *pkt, unsigned count)
{
	uint8_t rest[1024];
	size_t off = 0;
	for (unsigned i = 0; i < count; i++)
		off += build_ext(rest + off, i + 1 < count ? IPPROTO_DSTOPTS : IPPROTO_UDP, 8);
	off += build_udp(rest + off, 1, 2, "");
	return build_v6(pkt, IPPROTO_DSTOPTS, rest, off);
}

static void test_packet_ipv6_chain_too_long(void **state)
{
	(void)state;
	uint8_t pkt[1200];
	struct rdpi_packet p;
	size_t n = build_dst_chain(pkt, RDPI_PACKET_MAX_EXT_HEADERS);
	assert_int_equal(parse_copy(pkt, n, &p), 0);
	assert_int_equal(p.l4proto, IPPROTO_UDP);
	n = build_dst_chain(pkt, RDPI_PACKET_MAX_EXT_HEADERS + 1);
	assert_int_equal(parse_copy(pkt, n, &p), -EPROTO);
	n = build_dst_chain(pkt, 100);
	assert_int_equal(parse_copy(pkt, n, &p), -EPROTO);
}

static void test_packet_ipv6_ext_past_ip_len(void **state)
{
	(void)state;
	uint8_t rest[64], pkt[128];
	size_t off = build_ext(rest, IPPROTO_UDP, 8);
	off += build_udp(rest + off, 1, 2, "");
	size_t n = build_v6(pkt, IPPROTO_HOPOPTS, rest, off);
	struct rdpi_packet p;
	pkt[41] = 200; /* claims 1608 bytes */
	assert_int_equal(parse_copy(pkt, n, &p), -EINVAL);
}

static void test_packet_ipv6_esp_stops(void **state)
{
	(void)state;
	uint8_t rest[64], pkt[128];
	size_t off = build_ext(rest, IPPROTO_ESP, 8);
	memcpy(rest + off,
	       "\x00\x00\x10\x01\x00\x00\x00\x05"
	       "encrypted",
	       17);
	size_t n = build_v6(pkt, IPPROTO_HOPOPTS, rest, off + 17);
	struct rdpi_packet p;
	assert_int_equal(parse_copy(pkt, n, &p), 0);
	assert_int_equal(p.l4proto, IPPROTO_ESP);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.dport, 0);
	assert_int_equal(p.l4_offset, 48);
	assert_int_equal(p.payload_len, 17);
}

static void test_packet_ipv6_ah_walked(void **state)
{
	(void)state;
	uint8_t rest[64], pkt[128];
	/* AH: length in 4-byte units minus 2; 24 bytes = 12-byte ICV */
	memset(rest, 0, 24);
	rest[0] = IPPROTO_TCP;
	rest[1] = 24 / 4 - 2;
	size_t off = 24 + build_tcp(rest + 24, 22, 60000, 1, 0x10, "SSH-");
	size_t n = build_v6(pkt, IPPROTO_AH, rest, off);
	struct rdpi_packet p;
	assert_int_equal(parse_copy(pkt, n, &p), 0);
	assert_int_equal(p.l4proto, IPPROTO_TCP);
	assert_int_equal(p.l4_offset, 64);
	assert_int_equal(p.sport, 22);
	assert_int_equal(p.payload_len, 4);
}

static void test_packet_ipv6_no_next_header(void **state)
{
	(void)state;
	uint8_t rest[16] = "ignored bytes", pkt[64];
	size_t n = build_v6(pkt, IPPROTO_NONE, rest, 13);
	struct rdpi_packet p;
	assert_int_equal(parse_copy(pkt, n, &p), 0);
	assert_int_equal(p.l4proto, IPPROTO_NONE);
	assert_int_equal(p.payload_len, 0);
}

static void test_packet_bad_version(void **state)
{
	(void)state;
	uint8_t pkt[64] = {0};
	struct rdpi_packet p;
	for (int v = 0; v < 16; v++) {
		if (v == 4 || v == 6)
			continue;
		pkt[0] = (uint8_t)(v << 4 | 5);
		assert_int_equal(parse_copy(pkt, sizeof(pkt), &p), -EINVAL);
	}
	assert_int_equal(parse_copy(pkt, 0, &p), -EMSGSIZE);
	assert_int_equal(rdpi_packet_parse(NULL, 10, &p), -EINVAL);
}

static void test_packet_addr_format_parse(void **state)
{
	(void)state;
	uint8_t a[16];
	char buf[RDPI_ADDR_STRLEN];
	int l3 = 0;

	assert_int_equal(rdpi_addr_parse("192.0.2.10", a, &l3), 0);
	assert_int_equal(l3, 4);
	assert_mapped(a, SRC4);
	assert_int_equal(rdpi_addr_format(a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "192.0.2.10");

	assert_int_equal(rdpi_addr_parse("2001:db8::1", a, &l3), 0);
	assert_int_equal(l3, 6);
	assert_memory_equal(a, SRC6, 16);
	assert_int_equal(rdpi_addr_format(a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2001:db8::1");

	assert_int_equal(rdpi_addr_parse("::ffff:198.51.100.10", a, &l3), 0);
	assert_int_equal(l3, 4);
	assert_int_equal(rdpi_addr_format(a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "198.51.100.10");

	assert_int_equal(rdpi_addr_parse("::", a, NULL), 0);
	assert_int_equal(rdpi_addr_format(a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "::");

	uint8_t keep[16];
	memcpy(keep, a, 16);
	l3 = 99;
	assert_int_equal(rdpi_addr_parse("1.2.3", a, &l3), -EINVAL);
	assert_int_equal(rdpi_addr_parse("1.2.3.256", a, &l3), -EINVAL);
	assert_int_equal(rdpi_addr_parse("2001:db8::1::2", a, &l3), -EINVAL);
	assert_int_equal(rdpi_addr_parse("", a, &l3), -EINVAL);
	assert_memory_equal(a, keep, 16);
	assert_int_equal(l3, 99);

	char small[10] = "untouched";
	assert_int_equal(rdpi_addr_parse("2001:db8::1", a, NULL), 0);
	assert_int_equal(rdpi_addr_format(a, small, sizeof(small)), -ENOSPC);
	assert_string_equal(small, "untouched");
	assert_int_equal(rdpi_addr_parse("10.0.0.1", a, NULL), 0);
	assert_int_equal(rdpi_addr_format(a, small, 9), 0); /* exactly fits */
	assert_string_equal(small, "10.0.0.1");
}

static void test_packet_l4proto_names(void **state)
{
	char buf[16];
	uint8_t p = 0;
	assert_string_equal(rdpi_l4proto_name(6, buf, sizeof(buf)), "tcp");
	assert_string_equal(rdpi_l4proto_name(58, buf, sizeof(buf)), "icmpv6");
	assert_string_equal(rdpi_l4proto_name(200, buf, sizeof(buf)), "proto-200");
	assert_int_equal(rdpi_l4proto_parse("UDP", &p), 0);
	assert_int_equal(p, 17);
	assert_int_equal(rdpi_l4proto_parse("ipv6-icmp", &p), 0);
	assert_int_equal(p, 58);
	assert_int_equal(rdpi_l4proto_parse("proto-200", &p), 0);
	assert_int_equal(p, 200);
	assert_int_equal(rdpi_l4proto_parse("47", &p), 0);
	assert_int_equal(p, 47);
	const char *bad[] = {"", "tcpx", "256", "-1", "proto-", "proto-x", "6 "};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rdpi_l4proto_parse(bad[i], &p), -EINVAL);
	assert_int_equal(rdpi_l4proto_parse(NULL, &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_packet_ipv4_tcp),
	    cmocka_unit_test(test_packet_ipv4_udp),
	    cmocka_unit_test(test_packet_ipv4_icmp),
	    cmocka_unit_test(test_packet_ipv4_options_skipped),
	    cmocka_unit_test(test_packet_ipv4_bad_header_length),
	    cmocka_unit_test(test_packet_tcp_bad_data_offset),
	    cmocka_unit_test(test_packet_trailing_padding_ignored),
	    cmocka_unit_test(test_packet_truncated_every_offset),
	    cmocka_unit_test(test_packet_ipv4_fragments),
	    cmocka_unit_test(test_packet_ipv6_tcp),
	    cmocka_unit_test(test_packet_ipv6_ext_chain),
	    cmocka_unit_test(test_packet_ipv6_fragments),
	    cmocka_unit_test(test_packet_ipv6_chain_too_long),
	    cmocka_unit_test(test_packet_ipv6_ext_past_ip_len),
	    cmocka_unit_test(test_packet_ipv6_esp_stops),
	    cmocka_unit_test(test_packet_ipv6_ah_walked),
	    cmocka_unit_test(test_packet_ipv6_no_next_header),
	    cmocka_unit_test(test_packet_bad_version),
	    cmocka_unit_test(test_packet_addr_format_parse),
	    cmocka_unit_test(test_packet_l4proto_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

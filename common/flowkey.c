/* Canonical bidirectional flow key, its stable SipHash-2-4-128 id and its text
 * form; the reference SipHash (Aumasson/Bernstein) is implemented here. */
#include "common/flowkey.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/packet.h"

_Static_assert(sizeof(struct rdpi_flowkey) == 38, "flow key must have no padding");
_Static_assert(offsetof(struct rdpi_flowkey, lo_addr) == 6, "flow key layout");
_Static_assert(offsetof(struct rdpi_flowkey, hi_addr) == 22, "flow key layout");
_Static_assert(sizeof(RDPI_FLOWKEY_ID_KEY) == 17, "id key is 16 bytes");

#define KEY_WIRE_LEN 38

struct proto_info {
	const char *name;
	bool has_ports;
};

static const struct proto_info protos[256] = {
    [IPPROTO_ICMP] = {"icmp", false},	   [IPPROTO_TCP] = {"tcp", true},
    [IPPROTO_UDP] = {"udp", true},	   [IPPROTO_DCCP] = {"dccp", true},
    [IPPROTO_GRE] = {"gre", false},	   [IPPROTO_ESP] = {"esp", false},
    [IPPROTO_AH] = {"ah", false},	   [IPPROTO_ICMPV6] = {"icmpv6", false},
    [IPPROTO_NONE] = {"none", false},	   [IPPROTO_SCTP] = {"sctp", true},
    [IPPROTO_UDPLITE] = {"udplite", true},
};
_Static_assert(sizeof(protos) / sizeof(protos[0]) == 256, "one entry per protocol number");

/* ---- SipHash-2-4 ------------------------------------------------------- */

static uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, 8);
}

struct sip {
	uint64_t v0, v1, v2, v3;
};

static void sipround(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl(s->v2, 32);
}

static void siphash24(const uint8_t key[16], const uint8_t *in, size_t inlen, uint8_t *out,
		      bool wide)
{
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	struct sip s = {
	    .v0 = k0 ^ 0x736f6d6570736575ULL,
	    .v1 = k1 ^ 0x646f72616e646f6dULL,
	    .v2 = k0 ^ 0x6c7967656e657261ULL,
	    .v3 = k1 ^ 0x7465646279746573ULL,
	};
	if (wide)
		s.v1 ^= 0xee;

	size_t full = inlen - inlen % 8;
	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = le64(in + i);
		s.v3 ^= m;
		sipround(&s);
		sipround(&s);
		s.v0 ^= m;
	}
	uint64_t b = (uint64_t)inlen << 56;
	for (size_t i = 0; i < inlen % 8; i++)
		b |= (uint64_t)in[full + i] << (8 * i);
	s.v3 ^= b;
	sipround(&s);
	sipround(&s);
	s.v0 ^= b;

	s.v2 ^= wide ? 0xee : 0xff;
	for (int i = 0; i < 4; i++)
		sipround(&s);
	put_le64(out, s.v0 ^ s.v1 ^ s.v2 ^ s.v3);
	if (!wide)
		return;
	s.v1 ^= 0xdd;
	for (int i = 0; i < 4; i++)
		sipround(&s);
	put_le64(out + 8, s.v0 ^ s.v1 ^ s.v2 ^ s.v3);
}

int rdpi_flowkey_siphash(const uint8_t key[16], const void *in, size_t inlen, uint8_t *ret,
			 size_t retlen)
{
	if (!key || (!in && inlen) || !ret || (retlen != 8 && retlen != 16))
		return -EINVAL;
	siphash24(key, in, inlen, ret, retlen == 16);
	return 0;
}

/* ---- key ---------------------------------------------------------------- */

static int endpoint_cmp(const uint8_t a[16], uint16_t ap, const uint8_t b[16], uint16_t bp)
{
	int c = memcmp(a, b, 16);
	if (c != 0)
		return c;
	return (ap > bp) - (ap < bp);
}

void rdpi_flowkey_make(uint8_t l3, uint8_t l4proto, const uint8_t src[16], uint16_t sport,
		       const uint8_t dst[16], uint16_t dport, struct rdpi_flowkey *ret,
		       int *ret_dir)
{
	struct rdpi_flowkey k;
	int dir;

	memset(&k, 0, sizeof(k));
	k.l3 = l3;
	k.l4proto = l4proto;
	if (endpoint_cmp(src, sport, dst, dport) <= 0) {
		dir = RDPI_FLOWKEY_DIR_LO_TO_HI;
		memcpy(k.lo_addr, src, 16);
		memcpy(k.hi_addr, dst, 16);
		k.lo_port = sport;
		k.hi_port = dport;
	} else {
		dir = RDPI_FLOWKEY_DIR_HI_TO_LO;
		memcpy(k.lo_addr, dst, 16);
		memcpy(k.hi_addr, src, 16);
		k.lo_port = dport;
		k.hi_port = sport;
	}
	*ret = k;
	if (ret_dir)
		*ret_dir = dir;
}

void rdpi_flowkey_from_packet(const struct rdpi_packet *p, struct rdpi_flowkey *ret, int *ret_dir)
{
	bool ports = protos[p->l4proto].has_ports;
	rdpi_flowkey_make(p->l3, p->l4proto, p->src, ports ? p->sport : 0, p->dst,
			  ports ? p->dport : 0, ret, ret_dir);
}

static void serialise(const struct rdpi_flowkey *k, uint8_t out[KEY_WIRE_LEN])
{
	out[0] = k->l3;
	out[1] = k->l4proto;
	out[2] = (uint8_t)(k->lo_port >> 8);
	out[3] = (uint8_t)k->lo_port;
	out[4] = (uint8_t)(k->hi_port >> 8);
	out[5] = (uint8_t)k->hi_port;
	memcpy(out + 6, k->lo_addr, 16);
	memcpy(out + 22, k->hi_addr, 16);
}

static const uint8_t *id_key(void)
{
	return (const uint8_t *)RDPI_FLOWKEY_ID_KEY;
}

void rdpi_flowkey_id(const struct rdpi_flowkey *k, uint8_t ret[16])
{
	uint8_t buf[KEY_WIRE_LEN];
	serialise(k, buf);
	siphash24(id_key(), buf, sizeof(buf), ret, true);
}

void rdpi_flowkey_hex(const struct rdpi_flowkey *k, char ret[33])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t id[16];
	rdpi_flowkey_id(k, id);
	for (int i = 0; i < 16; i++) {
		ret[2 * i] = digits[id[i] >> 4];
		ret[2 * i + 1] = digits[id[i] & 0x0f];
	}
	ret[32] = '\0';
}

uint64_t rdpi_flowkey_hash_seeded(const struct rdpi_flowkey *k, const uint8_t seed[16])
{
	uint8_t buf[KEY_WIRE_LEN], out[8];
	serialise(k, buf);
	siphash24(seed, buf, sizeof(buf), out, false);
	return le64(out);
}

uint64_t rdpi_flowkey_hash(const struct rdpi_flowkey *k)
{
	return rdpi_flowkey_hash_seeded(k, id_key());
}

bool rdpi_flowkey_equal(const struct rdpi_flowkey *a, const struct rdpi_flowkey *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static int format_endpoint(const uint8_t addr[16], uint16_t port, bool ports, char *buf, size_t len)
{
	char a[RDPI_ADDR_STRLEN];
	int r = rdpi_addr_format(addr, a, sizeof(a));
	if (r != 0)
		return r;
	bool v6 = strchr(a, ':') != NULL;
	int n;
	if (!ports)
		n = snprintf(buf, len, "%s", a);
	else if (v6)
		n = snprintf(buf, len, "[%s]:%u", a, (unsigned)port);
	else
		n = snprintf(buf, len, "%s:%u", a, (unsigned)port);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int rdpi_flowkey_format(const struct rdpi_flowkey *k, char *buf, size_t len)
{
	char lo[RDPI_ADDR_STRLEN + 8], hi[RDPI_ADDR_STRLEN + 8], proto[16];
	char out[sizeof(lo) + sizeof(hi) + sizeof(proto) + 8];
	const struct proto_info *pi = &protos[k->l4proto];
	int r;

	if (!buf)
		return -EINVAL;
	if (pi->name)
		snprintf(proto, sizeof(proto), "%s", pi->name);
	else
		snprintf(proto, sizeof(proto), "proto-%u", (unsigned)k->l4proto);
	if ((r = format_endpoint(k->lo_addr, k->lo_port, pi->has_ports, lo, sizeof(lo))) != 0 ||
	    (r = format_endpoint(k->hi_addr, k->hi_port, pi->has_ports, hi, sizeof(hi))) != 0)
		return r;
	int n = snprintf(out, sizeof(out), "%s %s <-> %s", proto, lo, hi);
	if (n < 0 || (size_t)n >= sizeof(out) || (size_t)n >= len)
		return -ENOSPC;
	memcpy(buf, out, (size_t)n + 1);
	return 0;
}

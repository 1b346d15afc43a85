/* Canonical bidirectional flow key (design section 4): both directions of a
 * flow map to one key plus a direction bit; the key's stable 128-bit id is the
 * flow_id shared by logger, classifier, agent and storage. */
#ifndef RDPI_COMMON_FLOWKEY_H
#define RDPI_COMMON_FLOWKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rdpi_packet;

#define RDPI_FLOWKEY_DIR_LO_TO_HI 0 /* the packet's source is the lower endpoint */
#define RDPI_FLOWKEY_DIR_HI_TO_LO 1

/* Room for any rdpi_flowkey_format() output, NUL included. */
#define RDPI_FLOWKEY_STRLEN 128

/* Caller storage, no padding (sizeof == 38, asserted), so keys can be hashed
 * and compared bytewise. Addresses are 16 bytes, IPv4 stored IPv4-mapped.
 * Ports are host order (the id serialises them big-endian, so it does not
 * depend on the machine). The lower endpoint is the smaller (addr, port):
 * addresses compared bytewise, then ports numerically. Protocols without ports
 * (ICMP, ICMPv6, ESP, ...) have both ports 0. */
struct rdpi_flowkey {
	uint8_t l3;	 /* 4 or 6 */
	uint8_t l4proto; /* IPPROTO_* */
	uint16_t lo_port;
	uint16_t hi_port;
	uint8_t lo_addr[16];
	uint8_t hi_addr[16];
};

/* Builds the key of a packet from src:sport to dst:dport. *ret is fully
 * written (every byte); ret_dir (may be NULL) gets RDPI_FLOWKEY_DIR_*. Equal
 * endpoints give RDPI_FLOWKEY_DIR_LO_TO_HI. */
void rdpi_flowkey_make(uint8_t l3, uint8_t l4proto, const uint8_t src[16], uint16_t sport,
		       const uint8_t dst[16], uint16_t dport, struct rdpi_flowkey *ret,
		       int *ret_dir);

/* Same from a parsed packet. Non-first fragments carry no ports and key as
 * port 0; ICMP keys as ports 0. */
void rdpi_flowkey_from_packet(const struct rdpi_packet *p, struct rdpi_flowkey *ret, int *ret_dir);

/* Stable flow id: SipHash-2-4 with 128-bit output (the reference "SipHash128"
 * of Aumasson/Bernstein, output bytes in the reference order) under the fixed
 * key RDPI_FLOWKEY_ID_KEY, over the 38-byte serialisation
 *   l3 | l4proto | lo_port (BE16) | hi_port (BE16) | lo_addr | hi_addr.
 * Identical across processes, machines, endianness and restarts. */
#define RDPI_FLOWKEY_ID_KEY "routerd-dpi/flow" /* 16 ASCII bytes, no NUL */
void rdpi_flowkey_id(const struct rdpi_flowkey *k, uint8_t ret[16]);

/* Lowercase hex of rdpi_flowkey_id(): 32 digits + NUL. */
void rdpi_flowkey_hex(const struct rdpi_flowkey *k, char ret[33]);

/* 64-bit SipHash-2-4 of the same serialisation under RDPI_FLOWKEY_ID_KEY:
 * stable, but public, so tables fed from the network should prefer
 * rdpi_flowkey_hash_seeded() with a secret per-process seed. */
uint64_t rdpi_flowkey_hash(const struct rdpi_flowkey *k);
uint64_t rdpi_flowkey_hash_seeded(const struct rdpi_flowkey *k, const uint8_t seed[16]);

bool rdpi_flowkey_equal(const struct rdpi_flowkey *a, const struct rdpi_flowkey *b);

/* "tcp 192.0.2.10:53168 <-> 198.51.100.10:443", lower endpoint first; IPv6 as
 * "[2001:db8::1]:443"; no ports for port-less protocols ("icmp 192.0.2.1 <->
 * 192.0.2.2"); unknown protocols as "proto-N". -ENOSPC if len is too small
 * (buf written only on success); RDPI_FLOWKEY_STRLEN always suffices. */
int rdpi_flowkey_format(const struct rdpi_flowkey *k, char *buf, size_t len);

/* SipHash-2-4 of in[0..inlen) under a 16-byte key, reference output bytes:
 * retlen 8 (SipHash-2-4-64) or 16 (SipHash-2-4-128), otherwise -EINVAL. */
int rdpi_flowkey_siphash(const uint8_t key[16], const void *in, size_t inlen, uint8_t *ret,
			 size_t retlen);

#endif

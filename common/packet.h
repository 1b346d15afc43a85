/* IPv4/IPv6 packet parser: takes an L3 packet as NFLOG delivers it and fills a
 * caller-owned summary (addresses, ports, flags, L4 payload slice) that feeds the
 * flow key, the flow tables and the payload classifiers. */
#ifndef RDPI_COMMON_PACKET_H
#define RDPI_COMMON_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An IPv6 packet with more extension headers than this is rejected (-EPROTO). */
#define RDPI_PACKET_MAX_EXT_HEADERS 16

/* Room for any rdpi_addr_format() output, NUL included (INET6_ADDRSTRLEN). */
#define RDPI_ADDR_STRLEN 46

/* Parsed packet summary, caller storage. Addresses are 16 bytes for both
 * families: IPv4 is stored IPv4-mapped (::ffff:a.b.c.d). Ports are host order.
 * payload points into the buffer given to rdpi_packet_parse() and is valid as
 * long as that buffer is. */
struct rdpi_packet {
	uint8_t l3;	   /* 4 or 6 */
	uint8_t l4proto;   /* IPPROTO_* of the final header (ESP, NONE (59) included) */
	uint8_t ttl;	   /* IPv4 TTL or IPv6 hop limit */
	uint8_t tcp_flags; /* TCP only: FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 ... */
	uint8_t icmp_type; /* ICMP / ICMPv6 only */
	uint8_t icmp_code;
	bool is_fragment;	/* IPv4 MF or offset != 0; IPv6 fragment header */
	bool is_first_fragment; /* fragment at offset 0 with more to follow */
	bool truncated;		/* captured fewer bytes than the IP length says */
	uint16_t sport;		/* TCP/UDP/UDP-Lite/SCTP/DCCP; 0 otherwise */
	uint16_t dport;
	uint16_t frag_offset; /* in bytes; 0 unless is_fragment */
	uint32_t frag_id;     /* IPv4 identification or IPv6 fragment id */
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint32_t ip_len; /* IP total length as declared (IPv6: 40 + payload length) */
	uint8_t src[16];
	uint8_t dst[16];
	size_t l4_offset; /* offset of the L4 header in the buffer, <= len */
	const uint8_t *payload;
	size_t payload_len;
};

/* Parses data[0..len), which starts at the IP header. Never reads past len.
 * Bytes beyond the IP length (link padding) are ignored; a capture shorter than
 * the IP length sets truncated and parses what is there. The payload slice is
 * clamped to both the capture and the IP length; it is empty for non-first
 * fragments (no L4 header there: ports are 0) and for IPPROTO_NONE. For
 * protocols without a parsed L4 header (ESP, GRE, ...) the payload is
 * everything after the IP headers.
 *
 * Errors (ret untouched):
 *   -EINVAL   not IPv4/IPv6, IHL < 5, a header that does not fit inside the IP
 *             length it declares (IPv4 total length < IHL, extension header or
 *             L4 header past the IP length, TCP data offset < 5): malformed.
 *   -EMSGSIZE the capture ends inside the IP header, an extension header or the
 *             L4 header that the IP length says is there: truncated capture
 *             (TCP needs its fixed 20 bytes; options cut off are tolerated).
 *   -EPROTO   more than RDPI_PACKET_MAX_EXT_HEADERS IPv6 extension headers. */
int rdpi_packet_parse(const uint8_t *data, size_t len, struct rdpi_packet *ret);

/* Text form of a 16-byte address: IPv4-mapped as a dotted quad, otherwise
 * RFC 5952 IPv6. -ENOSPC when buf (len bytes) is too small; buf is written
 * only on success. RDPI_ADDR_STRLEN always suffices. */
int rdpi_addr_format(const uint8_t addr[16], char *buf, size_t len);

/* Parses a dotted quad (stored IPv4-mapped, *ret_l3 = 4) or an IPv6 address
 * (*ret_l3 = 6, except an IPv4-mapped one which reads back as 4 since the
 * representation is the same). ret_l3 may be NULL. -EINVAL on bad text. */
int rdpi_addr_parse(const char *s, uint8_t ret[16], int *ret_l3);

/* Transport protocol names used on the wire ("tcp", "udp", "icmp", "icmpv6",
 * "igmp", "sctp", "gre", "esp"); other numbers read "proto-N". Returns a
 * static string, or buf (len >= 12) for "proto-N". */
const char *rdpi_l4proto_name(uint8_t l4proto, char *buf, size_t len);

/* Whether the transport carries 16-bit ports right after its header start (TCP, UDP,
 * UDP-Lite, SCTP, DCCP): the ones rdpi_packet_parse() reads ports from. */
bool rdpi_l4proto_has_ports(uint8_t l4proto);

/* Inverse of rdpi_l4proto_name, case-insensitive; also plain decimal numbers
 * ("6") and "ipv6-icmp". -EINVAL for anything else. */
int rdpi_l4proto_parse(const char *s, uint8_t *ret);

#endif

/* Synthetic packets: IPv4/IPv6 + TCP/UDP around a payload (the agent feeds
 * nDPI real L3 for tuple-only requests), and a TLS ClientHello for the
 * daemons' selftests and the tests. */
#ifndef RDPI_COMMON_SYNTH_H
#define RDPI_COMMON_SYNTH_H

#include <stddef.h>
#include <stdint.h>

/* Largest packet rdpi_synth_packet() writes: IPv6 + TCP header + payload. */
#define RDPI_SYNTH_MAX_PACKET 65535u

struct rdpi_synth_tuple {
	uint8_t l3;	 /* 4 or 6 */
	uint8_t l4proto; /* IPPROTO_TCP, IPPROTO_UDP or any other (no L4 header) */
	uint8_t src[16]; /* IPv4 stored IPv4-mapped, like rdpi_packet */
	uint8_t dst[16];
	uint16_t sport, dport;
};

/* TCP fields of the synthesized segment (ignored for other protocols). */
struct rdpi_synth_tcp {
	uint32_t seq, ack;
	uint8_t flags; /* 0x18 PSH|ACK for data */
};

/* Write the packet into buf (cap bytes), with the IPv4 header and TCP/UDP checksums
 * filled in: 0 with *ret_len set, -EMSGSIZE when the payload does not fit an IP packet
 * or buf, -EINVAL for a bad l3. */
int rdpi_synth_packet(const struct rdpi_synth_tuple *t, const struct rdpi_synth_tcp *tcp,
		      const uint8_t *payload, size_t plen, uint8_t *buf, size_t cap,
		      size_t *ret_len);

/* Same from address text (family from the text); TCP as PSH|ACK with seq.
 * Returns the length written, 0 on a bad address or a small buffer. */
size_t rdpi_synth_tcp_packet(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			     uint32_t seq, const uint8_t *payload, size_t plen, uint8_t *buf,
			     size_t cap);
size_t rdpi_synth_udp_packet(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			     const uint8_t *payload, size_t plen, uint8_t *buf, size_t cap);

/* A TLS 1.2-framed ClientHello record (the shape browsers send) for sni, with
 * ALPN from a comma-separated list ("h2,http/1.1"; NULL or "" for none).
 * Returns the length written, 0 when buf is too small or a name too long. */
size_t rdpi_synth_client_hello(const char *sni, const char *alpn, uint8_t *buf, size_t cap);

#endif

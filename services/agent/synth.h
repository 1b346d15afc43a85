/* Builds an IPv4 or IPv6 packet around an L4 payload for requests that carry
 * only a tuple and l4Payload (the legacy API), so nDPI always sees real L3. */
#ifndef RDPI_AGENT_SYNTH_H
#define RDPI_AGENT_SYNTH_H

#include <stddef.h>
#include <stdint.h>

/* Largest packet synth_build() writes: IPv6 + TCP header + 65535-60 payload. */
#define SYNTH_MAX_PACKET 65535u

struct synth_tuple {
	uint8_t l3;	 /* 4 or 6 */
	uint8_t l4proto; /* IPPROTO_TCP, IPPROTO_UDP or any other (no L4 header) */
	uint8_t src[16]; /* IPv4 stored IPv4-mapped, like rdpi_packet */
	uint8_t dst[16];
	uint16_t sport, dport;
};

/* TCP fields of the synthesized segment (ignored for other protocols). */
struct synth_tcp {
	uint32_t seq, ack;
	uint8_t flags; /* 0x18 PSH|ACK for data */
};

/* Write the packet into buf (cap bytes). 0 with *ret_len set, -EMSGSIZE when
 * payload does not fit an IP packet or buf, -EINVAL for a bad l3. */
int synth_build(const struct synth_tuple *t, const struct synth_tcp *tcp, const uint8_t *payload,
		size_t plen, uint8_t *buf, size_t cap, size_t *ret_len);

#endif

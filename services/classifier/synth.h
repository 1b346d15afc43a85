/* Synthetic packets for selftests and tests: a TLS ClientHello with SNI and
 * ALPN, wrapped in IPv4 or IPv6 + TCP. */
#ifndef RDPI_CLASSIFIER_SYNTH_H
#define RDPI_CLASSIFIER_SYNTH_H

#include <stddef.h>
#include <stdint.h>

/* TLS 1.2 record holding a ClientHello for sni (alpn may be NULL). Returns
 * the length written, or 0 when buf is too small. */
size_t synth_client_hello(const char *sni, const char *alpn, uint8_t *buf, size_t len);

/* IP (family from the address text) + TCP (PSH|ACK, seq) + payload. Returns
 * the length written, or 0 on a bad address / small buffer. */
size_t synth_tcp_packet(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			uint32_t seq, const uint8_t *payload, size_t plen, uint8_t *buf,
			size_t len);

/* Same with a UDP header. */
size_t synth_udp_packet(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			const uint8_t *payload, size_t plen, uint8_t *buf, size_t len);

#endif

/* Synthetic traffic for `routerd-ndpi-agent selftest` and the tests: the
 * IPv4/TCP packet carrying a ClientHello (common/synth) with SNI and ALPN. */
#ifndef RDPI_AGENT_SELFTEST_H
#define RDPI_AGENT_SELFTEST_H

#include <stddef.h>
#include <stdint.h>

#define SELFTEST_SNI "routerd-ndpi-selftest.example"

/* IPv4 192.0.2.10:53168 -> 198.51.100.10:443 TCP PSH|ACK carrying the
 * ClientHello; returns its length or 0. */
size_t selftest_packet(const char *sni, uint8_t *buf, size_t cap);

#endif

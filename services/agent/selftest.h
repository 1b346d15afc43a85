/* Synthetic traffic for `routerd-ndpi-agent selftest` and the tests: a
 * minimal but well-formed TLS 1.2 ClientHello with SNI and ALPN, and the
 * IPv4/TCP packet that carries it. */
#ifndef RDPI_AGENT_SELFTEST_H
#define RDPI_AGENT_SELFTEST_H

#include <stddef.h>
#include <stdint.h>

#define SELFTEST_SNI "routerd-ndpi-selftest.example"

/* TLS record with a ClientHello for sni into buf; returns its length, 0 when
 * cap is too small or sni longer than 200 bytes. */
size_t selftest_client_hello(const char *sni, uint8_t *buf, size_t cap);

/* IPv4 192.0.2.10:53168 -> 198.51.100.10:443 TCP PSH|ACK carrying the
 * ClientHello; returns its length or 0. */
size_t selftest_packet(const char *sni, uint8_t *buf, size_t cap);

#endif

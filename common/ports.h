/* The project's single port-fallback table: the weakest guess, used by the classifier's
 * builtin engine after every payload parser, by the logger for traffic-flows.db rows that got
 * no better label, and by the console. */
#ifndef RDPI_COMMON_PORTS_H
#define RDPI_COMMON_PORTS_H

#include <stddef.h>
#include <stdint.h>

#define RDPI_PORTS_CONFIDENCE_MAX 40

/* One guess. app is the protocol/application label ("dns", "tls", "tailscale"); category is
 * that app's category ("web", "network", "remote-access", "mail", "file-sharing", "database",
 * "vpn", "iot", "monitoring"). The caller records source "port-fallback" itself. Entries and
 * their strings are static: valid for the life of the process. */
struct rdpi_ports_entry {
	uint16_t port;
	uint8_t l4proto; /* IPPROTO_TCP or IPPROTO_UDP */
	const char *app;
	const char *category;
	uint8_t confidence; /* <= RDPI_PORTS_CONFIDENCE_MAX: tailscale 40, stun 38, quic 35, others
			       30 */
};

/* Guess for a flow. Rule: look up (l4proto, sport) and (l4proto, dport); if only one is listed,
 * that one; if both are, the side below 1024 when exactly one is (the well-known server side),
 * else dport (the side the originator addressed). NULL if neither is listed or l4proto is not
 * TCP/UDP. */
const struct rdpi_ports_entry *rdpi_ports_lookup(uint8_t l4proto, uint16_t sport, uint16_t dport);

/* Entry for one (l4proto, port), or NULL. O(log n). */
const struct rdpi_ports_entry *rdpi_ports_find(uint8_t l4proto, uint16_t port);

/* The whole table, sorted by (l4proto, port) with no duplicates; *ret_n gets its length. */
const struct rdpi_ports_entry *rdpi_ports_table(size_t *ret_n);

#endif

/* WireGuard message recogniser: type byte, zero reserved bytes and the exact size of each
 * message type, with the session indexes. Used by the builtin engine on UDP payloads. */
#ifndef RDPI_CLASSIFIER_WIREGUARD_H
#define RDPI_CLASSIFIER_WIREGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIREGUARD_TAILSCALE_PORT 41641

enum wireguard_type {
	WIREGUARD_HANDSHAKE_INITIATION = 1, /* exactly 148 bytes */
	WIREGUARD_HANDSHAKE_RESPONSE = 2,   /* exactly 92 bytes */
	WIREGUARD_COOKIE_REPLY = 3,	    /* exactly 64 bytes */
	WIREGUARD_TRANSPORT_DATA = 4,	    /* >= 32 bytes, (n - 16) % 16 == 0 */
};

struct wireguard_message {
	enum wireguard_type type;
	uint32_t sender_index;	 /* initiation, response; else 0 */
	uint32_t receiver_index; /* response, cookie reply, data; else 0 */
	uint64_t counter;	 /* data: nonce counter; else 0 */
};

/* Returns 0 and fills *ret if p is a WireGuard message; -ENOMSG otherwise (unknown type,
 * non-zero reserved bytes, wrong size). Indexes and counter are decoded little-endian as sent.
 * Never reads beyond p[n - 1]. */
int wireguard_parse(const uint8_t *p, size_t n, struct wireguard_message *ret);

/* "handshake-initiation", "handshake-response", "cookie-reply", "transport-data". */
const char *wireguard_type_name(enum wireguard_type type);

/* True if either port is Tailscale's WireGuard port (41641): the engine labels WireGuard seen
 * there as tailscale. */
bool wireguard_is_tailscale_port(uint16_t sport, uint16_t dport);

#endif

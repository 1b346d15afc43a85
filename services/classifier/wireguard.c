/* WireGuard message recogniser for the classifier's builtin engine (type, reserved bytes, exact
 * sizes, session indexes). */
#include "wireguard.h"

#include <errno.h>

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p + 4) << 32 | le32(p);
}

int wireguard_parse(const uint8_t *p, size_t n, struct wireguard_message *ret)
{
	struct wireguard_message m = {0};
	if (!p || n < 4 || p[1] || p[2] || p[3])
		return -ENOMSG;
	switch (p[0]) {
	case WIREGUARD_HANDSHAKE_INITIATION:
		if (n != 148)
			return -ENOMSG;
		m.sender_index = le32(p + 4);
		break;
	case WIREGUARD_HANDSHAKE_RESPONSE:
		if (n != 92)
			return -ENOMSG;
		m.sender_index = le32(p + 4);
		m.receiver_index = le32(p + 8);
		break;
	case WIREGUARD_COOKIE_REPLY:
		if (n != 64)
			return -ENOMSG;
		m.receiver_index = le32(p + 4);
		break;
	case WIREGUARD_TRANSPORT_DATA:
		if (n < 32 || (n - 16) % 16 != 0)
			return -ENOMSG;
		m.receiver_index = le32(p + 4);
		m.counter = le64(p + 8);
		break;
	default:
		return -ENOMSG;
	}
	m.type = (enum wireguard_type)p[0];
	*ret = m;
	return 0;
}

const char *wireguard_type_name(enum wireguard_type type)
{
	static const char *const names[] = {
	    [WIREGUARD_HANDSHAKE_INITIATION] = "handshake-initiation",
	    [WIREGUARD_HANDSHAKE_RESPONSE] = "handshake-response",
	    [WIREGUARD_COOKIE_REPLY] = "cookie-reply",
	    [WIREGUARD_TRANSPORT_DATA] = "transport-data",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == WIREGUARD_TRANSPORT_DATA + 1,
		       "one name per WireGuard message type");
	if ((unsigned)type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "unknown";
}

bool wireguard_is_tailscale_port(uint16_t sport, uint16_t dport)
{
	return sport == WIREGUARD_TAILSCALE_PORT || dport == WIREGUARD_TAILSCALE_PORT;
}

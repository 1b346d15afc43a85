/* STUN message parser for the classifier's builtin engine: header validation and a bounded
 * attribute walk. */
#include "stun.h"

#include <errno.h>

#define ATTR_MAPPED_ADDRESS	 0x0001
#define ATTR_USERNAME		 0x0006
#define ATTR_MESSAGE_INTEGRITY	 0x0008
#define ATTR_LIFETIME		 0x000d
#define ATTR_REALM		 0x0014
#define ATTR_NONCE		 0x0015
#define ATTR_REQUESTED_TRANSPORT 0x0019
#define ATTR_XOR_MAPPED_ADDRESS	 0x0020
#define ATTR_PRIORITY		 0x0024
#define ATTR_USE_CANDIDATE	 0x0025
#define ATTR_SOFTWARE		 0x8022
#define ATTR_FINGERPRINT	 0x8028
#define ATTR_ICE_CONTROLLED	 0x8029
#define ATTR_ICE_CONTROLLING	 0x802a

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void note_attr(struct stun_message *m, uint16_t type, const uint8_t *v, size_t len)
{
	switch (type) {
	case ATTR_MAPPED_ADDRESS:
		m->has_mapped_address = true;
		break;
	case ATTR_USERNAME:
		m->has_username = true;
		break;
	case ATTR_MESSAGE_INTEGRITY:
		m->has_message_integrity = true;
		break;
	case ATTR_XOR_MAPPED_ADDRESS:
		m->has_xor_mapped_address = true;
		break;
	case ATTR_FINGERPRINT:
		m->has_fingerprint = true;
		break;
	case ATTR_PRIORITY:
	case ATTR_USE_CANDIDATE:
	case ATTR_ICE_CONTROLLED:
	case ATTR_ICE_CONTROLLING:
		m->ice = true;
		break;
	case ATTR_LIFETIME:
	case ATTR_REALM:
	case ATTR_NONCE:
	case ATTR_REQUESTED_TRANSPORT:
		m->turn = true;
		break;
	case ATTR_SOFTWARE: {
		size_t k = len < STUN_SOFTWARE_MAX - 1 ? len : STUN_SOFTWARE_MAX - 1;
		for (size_t i = 0; i < k; i++)
			m->software[i] = v[i] >= 0x20 && v[i] < 0x7f ? (char)v[i] : '?';
		m->software[k] = '\0';
		m->has_software = true;
		break;
	}
	default:
		break;
	}
}

int stun_parse(const uint8_t *p, size_t n, struct stun_message *ret)
{
	struct stun_message m = {0};
	if (!p || n < STUN_HEADER_LEN)
		return -ENOMSG;
	m.type = be16(p);
	m.length = be16(p + 2);
	if ((m.type & 0xc000) || be32(p + 4) != STUN_MAGIC_COOKIE || (m.length & 3))
		return -ENOMSG;
	m.msg_class = (enum stun_class)((m.type >> 7 & 2) | (m.type >> 4 & 1));
	m.method = (uint16_t)((m.type & 0x000f) | (m.type >> 1 & 0x0070) | (m.type >> 2 & 0x0f80));
	for (int i = 0; i < 12; i++)
		m.transaction_id[i] = p[8 + i];
	size_t end = STUN_HEADER_LEN + (size_t)m.length;
	if (end > n) {
		m.truncated = true;
		end = n;
	}
	size_t off = STUN_HEADER_LEN;
	while (end - off >= 4 && m.n_attrs < STUN_MAX_ATTRS) {
		uint16_t type = be16(p + off);
		size_t len = be16(p + off + 2);
		size_t padded = (len + 3) & ~(size_t)3;
		off += 4;
		if (end - off < padded) {
			if (!m.truncated)
				return -EINVAL;
			/* cut by the capture: a value that is present is still usable */
			if (end - off >= len)
				note_attr(&m, type, p + off, len);
			off = end;
			break;
		}
		note_attr(&m, type, p + off, len);
		m.n_attrs++;
		off += padded;
	}
	if (m.method == STUN_METHOD_ALLOCATE || m.method == STUN_METHOD_REFRESH ||
	    (m.method >= STUN_METHOD_SEND && m.method <= STUN_METHOD_CHANNELBIND))
		m.turn = true;
	*ret = m;
	return 0;
}

const char *stun_class_name(enum stun_class c)
{
	static const char *const names[] = {
	    [STUN_CLASS_REQUEST] = "request",
	    [STUN_CLASS_INDICATION] = "indication",
	    [STUN_CLASS_SUCCESS] = "success",
	    [STUN_CLASS_ERROR] = "error",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == 4, "one name per STUN class");
	return (unsigned)c < 4 ? names[c] : "unknown";
}

const char *stun_method_name(uint16_t method)
{
	static const char *const names[] = {
	    [0x001] = "binding",	[0x003] = "allocate",
	    [0x004] = "refresh",	[0x006] = "send",
	    [0x007] = "data",		[0x008] = "createpermission",
	    [0x009] = "channelbind",	[0x00a] = "connect",
	    [0x00b] = "connectionbind", [0x00c] = "connectionattempt",
	};
	if (method < sizeof(names) / sizeof(names[0]) && names[method])
		return names[method];
	return "unknown";
}

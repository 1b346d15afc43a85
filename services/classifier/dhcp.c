/* DHCPv4 (RFC 2131/2132) message parser for the classifier's builtin engine. */
#include "dhcp.h"

#include <errno.h>
#include <string.h>

#define DHCP_COOKIE_OFF	 236
#define DHCP_OPTIONS_OFF 240
#define DHCP_MAX_OPTIONS 255

#define OPT_PAD	      0
#define OPT_HOSTNAME  12
#define OPT_REQ_IP    50
#define OPT_MSG_TYPE  53
#define OPT_PARAM_REQ 55
#define OPT_VENDOR    60
#define OPT_END	      255

static void mapped4(uint8_t out[16], const uint8_t *v4)
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, v4, 4);
}

static void copy_text(char *dst, size_t dstsz, const uint8_t *s, size_t len, bool lower)
{
	size_t k = len < dstsz - 1 ? len : dstsz - 1;
	for (size_t i = 0; i < k; i++) {
		uint8_t c = s[i];
		if (c < 0x20 || c >= 0x7f)
			c = '?';
		else if (lower && c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		dst[i] = (char)c;
	}
	dst[k] = '\0';
}

static void note_option(struct dhcp_message *m, uint8_t code, const uint8_t *v, size_t len)
{
	switch (code) {
	case OPT_MSG_TYPE:
		if (len == 1 && v[0] >= DHCP_DISCOVER && v[0] <= DHCP_INFORM)
			m->msg_type = (enum dhcp_msg_type)v[0];
		break;
	case OPT_HOSTNAME:
		/* some clients NUL-terminate the value */
		while (len > 0 && v[len - 1] == '\0')
			len--;
		copy_text(m->hostname, sizeof(m->hostname), v, len, true);
		break;
	case OPT_VENDOR:
		copy_text(m->vendor_class, sizeof(m->vendor_class), v, len, false);
		break;
	case OPT_REQ_IP:
		if (len == 4) {
			mapped4(m->requested_ip, v);
			m->has_requested_ip = true;
		}
		break;
	case OPT_PARAM_REQ:
		m->param_request_len = (uint8_t)len;
		break;
	default:
		break;
	}
}

int dhcp_parse(const uint8_t *p, size_t n, struct dhcp_message *ret)
{
	static const uint8_t cookie[4] = {0x63, 0x82, 0x53, 0x63};
	static const char hex[] = "0123456789abcdef";
	struct dhcp_message m = {0};
	if (!p || n < DHCP_OPTIONS_OFF)
		return -ENOMSG;
	m.op = p[0];
	m.htype = p[1];
	m.hlen = p[2];
	if ((m.op != 1 && m.op != 2) || m.hlen > 16 ||
	    memcmp(p + DHCP_COOKIE_OFF, cookie, sizeof(cookie)) != 0)
		return -ENOMSG;
	m.xid = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	mapped4(m.ciaddr, p + 12);
	mapped4(m.yiaddr, p + 16);
	for (size_t i = 0; i < m.hlen; i++) {
		m.chaddr[3 * i] = hex[p[28 + i] >> 4];
		m.chaddr[3 * i + 1] = hex[p[28 + i] & 0xf];
		m.chaddr[3 * i + 2] = i + 1 < m.hlen ? ':' : '\0';
	}

	size_t off = DHCP_OPTIONS_OFF;
	/* every step consumes a byte; the option count bounds the work on top */
	for (unsigned count = 0; off < n && count < DHCP_MAX_OPTIONS;) {
		uint8_t code = p[off++];
		if (code == OPT_PAD)
			continue;
		if (code == OPT_END)
			break;
		count++;
		if (off >= n || n - off - 1 < p[off]) {
			m.truncated = true;
			break;
		}
		size_t len = p[off++];
		note_option(&m, code, p + off, len);
		off += len;
	}
	m.msg_type_name = dhcp_msg_type_name(m.msg_type);
	*ret = m;
	return 0;
}

const char *dhcp_msg_type_name(enum dhcp_msg_type type)
{
	static const char *const names[] = {
	    [DHCP_NONE] = "bootp",	[DHCP_DISCOVER] = "discover", [DHCP_OFFER] = "offer",
	    [DHCP_REQUEST] = "request", [DHCP_DECLINE] = "decline",   [DHCP_ACK] = "ack",
	    [DHCP_NAK] = "nak",		[DHCP_RELEASE] = "release",   [DHCP_INFORM] = "inform",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == DHCP_INFORM + 1,
		       "one name per DHCP message type");
	if ((unsigned)type < sizeof(names) / sizeof(names[0]))
		return names[type];
	return names[DHCP_NONE];
}

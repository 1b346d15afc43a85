/* MQTT control-packet parser (3.1, 3.1.1, 5.0) for the classifier's builtin engine. */
#include "mqtt.h"

#include <errno.h>
#include <string.h>

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Variable byte integer of at most 4 bytes at p[*off] (bounded by end). */
static int read_varint(const uint8_t *p, size_t end, size_t *off, uint32_t *ret_v)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < 4; i++) {
		if (*off >= end)
			return -EINVAL;
		uint8_t b = p[(*off)++];
		v |= (uint32_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*ret_v = v;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_connect(const uint8_t *p, size_t end, size_t off, struct mqtt_packet *m)
{
	if (end - off < 2)
		return -EINVAL;
	size_t nl = be16(p + off);
	off += 2;
	if (end - off < nl)
		return -EINVAL;
	uint8_t want_level;
	if (nl == 4 && memcmp(p + off, "MQTT", 4) == 0)
		want_level = 4;
	else if (nl == 6 && memcmp(p + off, "MQIsdp", 6) == 0)
		want_level = 3;
	else
		return -ENOMSG;
	memcpy(m->protocol_name, p + off, nl);
	m->protocol_name[nl] = '\0';
	off += nl;
	if (end - off < 4)
		return -EINVAL;
	m->protocol_level = p[off];
	if (want_level == 3 ? m->protocol_level != 3
			    : (m->protocol_level != 4 && m->protocol_level != 5))
		return -ENOMSG;
	m->connect_flags = p[off + 1];
	if (m->connect_flags & 0x01)
		return -EINVAL;
	m->clean_session = m->connect_flags & 0x02;
	m->has_will = m->connect_flags & 0x04;
	m->has_password = m->connect_flags & 0x40;
	m->has_username = m->connect_flags & 0x80;
	m->keepalive = be16(p + off + 2);
	off += 4;
	if (m->protocol_level == 5) {
		uint32_t plen;
		if (read_varint(p, end, &off, &plen) < 0 || end - off < plen)
			return -EINVAL;
		off += plen;
	}
	if (end - off < 2)
		return -EINVAL;
	size_t cl = be16(p + off);
	off += 2;
	if (end - off < cl)
		return -EINVAL;
	size_t k = cl < MQTT_CLIENT_ID_MAX - 1 ? cl : MQTT_CLIENT_ID_MAX - 1;
	for (size_t i = 0; i < k; i++) {
		uint8_t c = p[off + i];
		m->client_id[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	m->client_id[k] = '\0';
	return 0;
}

int mqtt_parse(const uint8_t *p, size_t n, struct mqtt_packet *ret)
{
	struct mqtt_packet m = {0};
	if (!p || n < 2)
		return -ENOMSG;
	uint8_t type = p[0] >> 4;
	m.flags = p[0] & 0x0f;
	if (type < MQTT_CONNECT || type > MQTT_DISCONNECT)
		return -ENOMSG;
	switch (type) {
	case MQTT_PUBLISH:
		if ((m.flags & 0x06) == 0x06) /* QoS 3 */
			return -ENOMSG;
		break;
	case MQTT_PUBREL:
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
		if (m.flags != 0x02)
			return -ENOMSG;
		break;
	default:
		if (m.flags != 0)
			return -ENOMSG;
	}
	m.type = (enum mqtt_type)type;
	size_t off = 1;
	int r = read_varint(p, n, &off, &m.remaining_length);
	if (r < 0)
		return r;
	m.header_len = off;
	if (n - off < m.remaining_length)
		return -EINVAL;
	size_t end = off + m.remaining_length;
	if (m.type == MQTT_CONNECT) {
		r = parse_connect(p, end, off, &m);
		if (r < 0)
			return r;
	} else if (m.type == MQTT_CONNACK) {
		if (m.remaining_length < 2)
			return -EINVAL;
		if (p[off] & 0xfe)
			return -EINVAL;
		m.session_present = p[off] & 1;
		m.return_code = p[off + 1];
	} else if ((m.type == MQTT_PINGREQ || m.type == MQTT_PINGRESP) && m.remaining_length) {
		return -EINVAL;
	}
	*ret = m;
	return 0;
}

const char *mqtt_type_name(enum mqtt_type type)
{
	static const char *const names[] = {
	    [MQTT_CONNECT] = "connect",	  [MQTT_CONNACK] = "connack",
	    [MQTT_PUBLISH] = "publish",	  [MQTT_PUBACK] = "puback",
	    [MQTT_PUBREC] = "pubrec",	  [MQTT_PUBREL] = "pubrel",
	    [MQTT_PUBCOMP] = "pubcomp",	  [MQTT_SUBSCRIBE] = "subscribe",
	    [MQTT_SUBACK] = "suback",	  [MQTT_UNSUBSCRIBE] = "unsubscribe",
	    [MQTT_UNSUBACK] = "unsuback", [MQTT_PINGREQ] = "pingreq",
	    [MQTT_PINGRESP] = "pingresp", [MQTT_DISCONNECT] = "disconnect",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == MQTT_DISCONNECT + 1,
		       "one name per MQTT packet type");
	if ((unsigned)type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "unknown";
}

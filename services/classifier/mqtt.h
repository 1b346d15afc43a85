/* MQTT control-packet parser: fixed header with the remaining-length varint, and the CONNECT
 * variable header and client id. Used by the builtin engine on TCP 1883/8883. */
#ifndef RDPI_CLASSIFIER_MQTT_H
#define RDPI_CLASSIFIER_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MQTT_CLIENT_ID_MAX  64
#define MQTT_PROTO_NAME_MAX 8

enum mqtt_type {
	MQTT_CONNECT = 1,
	MQTT_CONNACK = 2,
	MQTT_PUBLISH = 3,
	MQTT_PUBACK = 4,
	MQTT_PUBREC = 5,
	MQTT_PUBREL = 6,
	MQTT_PUBCOMP = 7,
	MQTT_SUBSCRIBE = 8,
	MQTT_SUBACK = 9,
	MQTT_UNSUBSCRIBE = 10,
	MQTT_UNSUBACK = 11,
	MQTT_PINGREQ = 12,
	MQTT_PINGRESP = 13,
	MQTT_DISCONNECT = 14,
};

struct mqtt_packet {
	enum mqtt_type type;
	uint8_t flags;		   /* low nibble of the first byte */
	uint32_t remaining_length; /* <= 268435455 */
	size_t header_len;	   /* 2..5 */
	/* CONNECT only */
	char protocol_name[MQTT_PROTO_NAME_MAX]; /* "MQTT" or "MQIsdp" */
	uint8_t protocol_level;			 /* 3 (3.1), 4 (3.1.1), 5 (5.0) */
	uint8_t connect_flags;
	bool clean_session;
	bool has_will, has_username, has_password; /* the values are never copied */
	uint16_t keepalive;
	char client_id[MQTT_CLIENT_ID_MAX]; /* truncated; non-printable ASCII -> '?'; may be "" */
	/* CONNACK only */
	bool session_present;
	uint8_t return_code; /* v3 return code / v5 reason code */
};

/* Parses the MQTT control packet at the start of p. Returns 0 and fills *ret; -ENOMSG if it
 * is not MQTT (type 0 or 15, flags that the type forbids, CONNECT with another protocol name
 * or a level that does not match it); -EINVAL if malformed (remaining length longer than 4
 * bytes or cut, packet not fitting in n, CONNECT fields overrunning the packet, reserved
 * connect flag set). Never reads beyond p[n - 1]. */
int mqtt_parse(const uint8_t *p, size_t n, struct mqtt_packet *ret);

/* "connect", "connack", "publish", ... or "unknown". */
const char *mqtt_type_name(enum mqtt_type type);

#endif

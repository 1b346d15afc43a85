/* Tests for services/classifier/mqtt: CONNECT for 3.1, 3.1.1 and 5.0 built byte by byte,
 * other packet types, remaining-length varints. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mqtt.h"

/* 3.1.1 CONNECT, clean session + username + password, keepalive 60, client id "sensor-42" */
static const uint8_t connect311[] = {
    0x10, 0x24, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xc2, 0x00, 0x3c, 0x00,
    0x09, 's',	'e',  'n',  's', 'o', 'r', '-', '4',  '2',  0x00, 0x03, 'b',
    'o',  'b',	0x00, 0x08, 's', 'e', 'c', 'r', 'e',  't',  '!',  '!',
};

/* 3.1 CONNECT, client id "mosq/abc" */
static const uint8_t connect31[] = {
    0x10, 0x16, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0x02,
    0x00, 0x0a, 0x00, 0x08, 'm', 'o', 's', 'q', '/', 'a', 'b',	'c',
};

/* 5.0 CONNECT with a session-expiry property, client id "dev5" */
static const uint8_t connect5[] = {
    0x10, 0x16, 0x00, 0x04, 'M',  'Q',	'T',  'T',  0x05, 0x02, 0x00, 0x1e,
    0x05, 0x11, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x04, 'd',  'e',	'v',  '5',
};

static void test_mqtt_connect_311(void **state)
{
	struct mqtt_packet m;
	assert_int_equal(mqtt_parse(connect311, sizeof(connect311), &m), 0);
	assert_int_equal(m.type, MQTT_CONNECT);
	assert_int_equal(m.remaining_length, 0x24);
	assert_int_equal(m.header_len, 2);
	assert_string_equal(m.protocol_name, "MQTT");
	assert_int_equal(m.protocol_level, 4);
	assert_true(m.clean_session);
	assert_true(m.has_username);
	assert_true(m.has_password);
	assert_false(m.has_will);
	assert_int_equal(m.keepalive, 60);
	assert_string_equal(m.client_id, "sensor-42");
	assert_null(memmem(&m, sizeof(m), "secret", 6));
	assert_string_equal(mqtt_type_name(m.type), "connect");
}

static void test_mqtt_connect_31(void **state)
{
	struct mqtt_packet m;
	assert_int_equal(mqtt_parse(connect31, sizeof(connect31), &m), 0);
	assert_string_equal(m.protocol_name, "MQIsdp");
	assert_int_equal(m.protocol_level, 3);
	assert_string_equal(m.client_id, "mosq/abc");
}

static void test_mqtt_connect_5(void **state)
{
	struct mqtt_packet m;
	assert_int_equal(mqtt_parse(connect5, sizeof(connect5), &m), 0);
	assert_int_equal(m.protocol_level, 5);
	assert_int_equal(m.keepalive, 30);
	assert_string_equal(m.client_id, "dev5");
}

static void test_mqtt_connect_level_mismatch(void **state)
{
	struct mqtt_packet m;
	uint8_t b[sizeof(connect31)];
	memcpy(b, connect31, sizeof(b));
	b[10] = 4; /* MQIsdp must be level 3 */
	assert_int_equal(mqtt_parse(b, sizeof(b), &m), -ENOMSG);
	uint8_t c[sizeof(connect311)];
	memcpy(c, connect311, sizeof(c));
	c[8] = 3;
	assert_int_equal(mqtt_parse(c, sizeof(c), &m), -ENOMSG);
	c[8] = 4;
	c[4] = 'X'; /* "MXTT" */
	assert_int_equal(mqtt_parse(c, sizeof(c), &m), -ENOMSG);
	memcpy(c, connect311, sizeof(c));
	c[9] |= 1; /* reserved connect flag */
	assert_int_equal(mqtt_parse(c, sizeof(c), &m), -EINVAL);
	memcpy(c, connect311, sizeof(c));
	c[13] = 0x40; /* client id longer than the packet */
	assert_int_equal(mqtt_parse(c, sizeof(c), &m), -EINVAL);
}

static void test_mqtt_client_id_truncated(void **state)
{
	uint8_t b[128] = {0x10, 0,    0x00, 0x04, 'M',	'Q',  'T',
			  'T',	0x04, 0x02, 0x00, 0x3c, 0x00, 100};
	struct mqtt_packet m;
	memset(b + 14, 'c', 100);
	b[20] = '\n';
	b[1] = 12 + 100;
	assert_int_equal(mqtt_parse(b, 114, &m), 0);
	assert_int_equal(strlen(m.client_id), MQTT_CLIENT_ID_MAX - 1);
	assert_int_equal(m.client_id[6], '?');
}

static void test_mqtt_other_types(void **state)
{
	struct mqtt_packet m;
	static const uint8_t connack[] = {0x20, 0x02, 0x01, 0x00};
	static const uint8_t ping[] = {0xc0, 0x00};
	static const uint8_t publish[] = {0x32, 0x07, 0x00, 0x01, 't', 0x00, 0x05, 'h', 'i'};
	static const uint8_t subscribe[] = {0x82, 0x06, 0x00, 0x01, 0x00, 0x01, '#', 0x00};
	assert_int_equal(mqtt_parse(connack, sizeof(connack), &m), 0);
	assert_int_equal(m.type, MQTT_CONNACK);
	assert_true(m.session_present);
	assert_int_equal(m.return_code, 0);
	assert_int_equal(mqtt_parse(ping, sizeof(ping), &m), 0);
	assert_int_equal(m.type, MQTT_PINGREQ);
	assert_int_equal(mqtt_parse(publish, sizeof(publish), &m), 0);
	assert_int_equal(m.type, MQTT_PUBLISH);
	assert_int_equal(m.flags, 2);
	assert_int_equal(mqtt_parse(subscribe, sizeof(subscribe), &m), 0);
	assert_string_equal(mqtt_type_name(m.type), "subscribe");
}

static void test_mqtt_bad_flags_and_types(void **state)
{
	struct mqtt_packet m;
	static const uint8_t t0[] = {0x00, 0x00};
	static const uint8_t t15[] = {0xf0, 0x00};
	static const uint8_t conn_flags[] = {0x11, 0x00};
	static const uint8_t sub_flags[] = {0x80, 0x00};
	static const uint8_t qos3[] = {0x36, 0x00};
	static const uint8_t ping_body[] = {0xc0, 0x01, 0x00};
	assert_int_equal(mqtt_parse(t0, 2, &m), -ENOMSG);
	assert_int_equal(mqtt_parse(t15, 2, &m), -ENOMSG);
	assert_int_equal(mqtt_parse(conn_flags, 2, &m), -ENOMSG);
	assert_int_equal(mqtt_parse(sub_flags, 2, &m), -ENOMSG);
	assert_int_equal(mqtt_parse(qos3, 2, &m), -ENOMSG);
	assert_int_equal(mqtt_parse(ping_body, 3, &m), -EINVAL);
	assert_int_equal(mqtt_parse(t0, 1, &m), -ENOMSG);
	assert_int_equal(mqtt_parse(NULL, 0, &m), -ENOMSG);
}

static void test_mqtt_varints(void **state)
{
	struct mqtt_packet m;
	static const uint8_t five[] = {0x30, 0xff, 0xff, 0xff, 0xff, 0x01};
	static const uint8_t cut[] = {0x30, 0x80};
	static const uint8_t too_long[] = {0x30, 0x05, 0x00, 0x01, 't'};
	uint8_t big[300] = {0x30, 0xac, 0x02}; /* 300 */
	assert_int_equal(mqtt_parse(five, sizeof(five), &m), -EINVAL);
	assert_int_equal(mqtt_parse(cut, sizeof(cut), &m), -EINVAL);
	assert_int_equal(mqtt_parse(too_long, sizeof(too_long), &m), -EINVAL);
	assert_int_equal(mqtt_parse(big, 300, &m), -EINVAL);
	assert_int_equal(mqtt_parse(big, 3, &m), -EINVAL);
	uint8_t fits[303] = {0x30, 0xac, 0x02};
	assert_int_equal(mqtt_parse(fits, sizeof(fits), &m), 0);
	assert_int_equal(m.remaining_length, 300);
	assert_int_equal(m.header_len, 3);
}

static void test_mqtt_truncations(void **state)
{
	const uint8_t *samples[] = {connect311, connect31, connect5};
	size_t sizes[] = {sizeof(connect311), sizeof(connect31), sizeof(connect5)};
	struct mqtt_packet m;
	for (size_t s = 0; s < 3; s++) {
		for (size_t i = 0; i <= sizes[s]; i++) {
			uint8_t *c = malloc(i ? i : 1);
			assert_non_null(c);
			memcpy(c, samples[s], i);
			int r = mqtt_parse(c, i, &m);
			assert_int_equal(r, i == sizes[s] ? 0 : (i < 2 ? -ENOMSG : -EINVAL));
			free(c);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mqtt_connect_311),
	    cmocka_unit_test(test_mqtt_connect_31),
	    cmocka_unit_test(test_mqtt_connect_5),
	    cmocka_unit_test(test_mqtt_connect_level_mismatch),
	    cmocka_unit_test(test_mqtt_client_id_truncated),
	    cmocka_unit_test(test_mqtt_other_types),
	    cmocka_unit_test(test_mqtt_bad_flags_and_types),
	    cmocka_unit_test(test_mqtt_varints),
	    cmocka_unit_test(test_mqtt_truncations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for services/classifier/ssdp: M-SEARCH, NOTIFY and search responses as sent by real
 * UPnP stacks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ssdp.h"

static const char msearch[] = "M-SEARCH * HTTP/1.1\r\n"
			      "HOST: 239.255.255.250:1900\r\n"
			      "MAN: \"ssdp:discover\"\r\n"
			      "MX: 1\r\n"
			      "ST: urn:dial-multiscreen-org:service:dial:1\r\n"
			      "USER-AGENT: Google Chrome/120.0 Linux\r\n"
			      "\r\n";

static const char notify[] =
    "NOTIFY * HTTP/1.1\r\n"
    "HOST: 239.255.255.250:1900\r\n"
    "CACHE-CONTROL: max-age=1800\r\n"
    "LOCATION: http://192.168.1.1:5000/rootDesc.xml\r\n"
    "SERVER: OpenWRT/OpenWrt UPnP/1.1 MiniUPnPd/2.3.3\r\n"
    "NT: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
    "USN: uuid:1234::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
    "NTS: ssdp:alive\r\n"
    "\r\n";

static const char response[] = "HTTP/1.1 200 OK\r\n"
			       "CACHE-CONTROL: max-age=120\r\n"
			       "ST: upnp:rootdevice\r\n"
			       "USN: uuid:abcd::upnp:rootdevice\r\n"
			       "EXT:\r\n"
			       "SERVER: Linux/5.10 UPnP/1.0 Sonos/76.2\r\n"
			       "LOCATION: http://192.168.1.20:1400/xml/device_description.xml\r\n"
			       "\r\n";

static int parse(const char *s, struct ssdp_message *m)
{
	return ssdp_parse((const uint8_t *)s, strlen(s), m);
}

static void test_ssdp_msearch(void **state)
{
	struct ssdp_message m;
	assert_int_equal(parse(msearch, &m), 0);
	assert_int_equal(m.kind, SSDP_MSEARCH);
	assert_string_equal(ssdp_kind_name(m.kind), "m-search");
	assert_string_equal(m.target, "urn:dial-multiscreen-org:service:dial:1");
	assert_string_equal(m.server, "Google Chrome/120.0 Linux");
	assert_string_equal(m.usn, "");
}

static void test_ssdp_notify(void **state)
{
	struct ssdp_message m;
	assert_int_equal(parse(notify, &m), 0);
	assert_int_equal(m.kind, SSDP_NOTIFY);
	assert_string_equal(m.target, "urn:schemas-upnp-org:device:InternetGatewayDevice:1");
	assert_string_equal(m.nts, "ssdp:alive");
	assert_string_equal(m.usn,
			    "uuid:1234::urn:schemas-upnp-org:device:InternetGatewayDevice:1");
	assert_string_equal(m.server, "OpenWRT/OpenWrt UPnP/1.1 MiniUPnPd/2.3.3");
	assert_string_equal(m.location, "http://192.168.1.1:5000/rootDesc.xml");
}

static void test_ssdp_response(void **state)
{
	struct ssdp_message m;
	assert_int_equal(parse(response, &m), 0);
	assert_int_equal(m.kind, SSDP_RESPONSE);
	assert_string_equal(m.target, "upnp:rootdevice");
	assert_string_equal(m.server, "Linux/5.10 UPnP/1.0 Sonos/76.2");
	assert_string_equal(ssdp_kind_name(m.kind), "response");
}

static void test_ssdp_lenient_headers(void **state)
{
	struct ssdp_message m;
	assert_int_equal(parse("NOTIFY * HTTP/1.1\nnt:   upnp:rootdevice  \nUsn :uuid:x\n"
			       "Server: a\x01"
			       "b\nnts: ssdp:byebye",
			       &m),
			 0);
	assert_string_equal(m.target, "upnp:rootdevice");
	assert_string_equal(m.usn, "uuid:x");
	assert_string_equal(m.server, "a?b");
	assert_string_equal(m.nts, "ssdp:byebye");
}

static void test_ssdp_long_server_truncated(void **state)
{
	struct ssdp_message m;
	char buf[600];
	int k = snprintf(buf, sizeof(buf), "NOTIFY * HTTP/1.1\r\nSERVER: ");
	memset(buf + k, 'S', 300);
	strcpy(buf + k + 300, "\r\nNT: x\r\n\r\n");
	assert_int_equal(parse(buf, &m), 0);
	assert_int_equal(strlen(m.server), SSDP_VALUE_MAX - 1);
	assert_string_equal(m.target, "x");
}

static void test_ssdp_not_ssdp(void **state)
{
	struct ssdp_message m;
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n", &m), -ENOMSG);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &m), -ENOMSG);
	assert_int_equal(parse("HTTP/1.1 404 Not Found\r\nST: x\r\n\r\n", &m), -ENOMSG);
	assert_int_equal(parse("m-search * HTTP/1.1\r\n", &m), -ENOMSG);
	assert_int_equal(parse("", &m), -ENOMSG);
	assert_int_equal(ssdp_parse(NULL, 0, &m), -ENOMSG);
	assert_string_equal(ssdp_kind_name((enum ssdp_kind)0), "unknown");
}

static void test_ssdp_truncations(void **state)
{
	const char *samples[] = {msearch, notify, response};
	struct ssdp_message m;
	for (size_t s = 0; s < 3; s++) {
		size_t n = strlen(samples[s]);
		for (size_t i = 0; i <= n; i++) {
			uint8_t *c = malloc(i ? i : 1);
			assert_non_null(c);
			memcpy(c, samples[s], i);
			int r = ssdp_parse(c, i, &m);
			assert_true(r == 0 || r == -ENOMSG);
			free(c);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ssdp_msearch),
	    cmocka_unit_test(test_ssdp_notify),
	    cmocka_unit_test(test_ssdp_response),
	    cmocka_unit_test(test_ssdp_lenient_headers),
	    cmocka_unit_test(test_ssdp_long_server_truncated),
	    cmocka_unit_test(test_ssdp_not_ssdp),
	    cmocka_unit_test(test_ssdp_truncations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

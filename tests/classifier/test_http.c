/* Tests for services/classifier/http: request lines and headers as browsers, curl and devices
 * send them, cut first packets, Host variants, status lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

static int req(const char *s, struct http_request *r)
{
	/* exact-size heap copy so ASan sees any over-read */
	size_t n = strlen(s);
	uint8_t *p = calloc(1, n ? n : 1);
	memcpy(p, s, n);
	int rc = http_parse_request(p, n, r);
	free(p);
	return rc;
}

static int resp(const char *s, struct http_response *r)
{
	size_t n = strlen(s);
	uint8_t *p = calloc(1, n ? n : 1);
	memcpy(p, s, n);
	int rc = http_parse_response(p, n, r);
	free(p);
	return rc;
}

static void test_http_curl_get(void **state)
{
	struct http_request r;
	assert_int_equal(req("GET /index.html HTTP/1.1\r\nHost: WWW.Example.com\r\n"
			     "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
			     &r),
			 0);
	assert_string_equal(r.method, "GET");
	assert_int_equal(r.version_minor, 1);
	assert_string_equal(r.host, "www.example.com");
	assert_string_equal(r.user_agent, "curl/7.88.1");
	assert_true(r.headers_complete);
}

static void test_http_all_methods(void **state)
{
	static const char *const methods[] = {"GET",	 "POST",  "HEAD",    "PUT",  "DELETE",
					      "OPTIONS", "PATCH", "CONNECT", "TRACE"};
	struct http_request r;
	char buf[128];
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		snprintf(buf, sizeof(buf), "%s /x HTTP/1.0\r\nhost: h%zu\r\n\r\n", methods[i], i);
		assert_int_equal(req(buf, &r), 0);
		assert_string_equal(r.method, methods[i]);
		assert_int_equal(r.version_minor, 0);
	}
	assert_int_equal(
	    req("CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n", &r),
	    0);
	assert_string_equal(r.host, "api.example.com");
}

static void test_http_host_variants(void **state)
{
	struct http_request r;
	assert_int_equal(req("GET / HTTP/1.1\r\nHOST:example.org:8080\r\n\r\n", &r), 0);
	assert_string_equal(r.host, "example.org");
	assert_int_equal(req("GET / HTTP/1.1\r\nhOsT: \t 192.0.2.7 \t\r\n\r\n", &r), 0);
	assert_string_equal(r.host, "192.0.2.7");
	assert_int_equal(req("GET / HTTP/1.1\r\nHost: [2001:DB8::1]:8443\r\n\r\n", &r), 0);
	assert_string_equal(r.host, "2001:db8::1");
	assert_int_equal(req("GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n", &r), 0);
	assert_string_equal(r.host, "::1");
	/* broken bracket, empty value, bare IPv6: nothing or the whole address */
	assert_int_equal(req("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", &r), 0);
	assert_string_equal(r.host, "");
	assert_int_equal(req("GET / HTTP/1.1\r\nHost:\r\n\r\n", &r), 0);
	assert_string_equal(r.host, "");
	assert_int_equal(req("GET / HTTP/1.1\r\nHost: fe80::1\r\n\r\n", &r), 0);
	assert_string_equal(r.host, "fe80::1");
	/* first Host wins; a Host-like header name does not count */
	assert_int_equal(
	    req("GET / HTTP/1.1\r\nX-Host: no\r\nHost: a.example\r\nHost: b.example\r\n\r\n", &r),
	    0);
	assert_string_equal(r.host, "a.example");
	/* bare LF line endings (some embedded clients) */
	assert_int_equal(req("GET / HTTP/1.0\nHost: lf.example\nUser-Agent: x\n\n", &r), 0);
	assert_string_equal(r.host, "lf.example");
	assert_true(r.headers_complete);
	/* very long host is truncated, not overrun */
	char buf[700];
	strcpy(buf, "GET / HTTP/1.1\r\nHost: ");
	memset(buf + strlen(buf), 'H', 400);
	strcpy(buf + 22 + 400, "\r\n\r\n");
	assert_int_equal(req(buf, &r), 0);
	assert_int_equal(strlen(r.host), HTTP_HOST_MAX - 1);
	assert_int_equal(r.host[0], 'h');
}

static void test_http_missing_host(void **state)
{
	struct http_request r;
	assert_int_equal(req("GET / HTTP/1.0\r\n\r\n", &r), 0);
	assert_string_equal(r.host, "");
	assert_string_equal(r.user_agent, "");
	assert_true(r.headers_complete);
}

static void test_http_user_agent(void **state)
{
	struct http_request r;
	char buf[600] = {0};
	strcpy(buf, "POST /api HTTP/1.1\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) ");
	memset(buf + strlen(buf), 'z', 300);
	strcpy(buf + strlen(buf), "\r\nHost: ua.example\r\n\r\n");
	assert_int_equal(req(buf, &r), 0);
	assert_int_equal(strlen(r.user_agent), HTTP_USER_AGENT_MAX - 1);
	assert_memory_equal(r.user_agent, "Mozilla/5.0 (X11; Linux x86_64) z", 33);
	assert_string_equal(r.host, "ua.example");
	/* non-ASCII bytes do not leak into the record */
	assert_int_equal(req("GET / HTTP/1.1\r\nUser-Agent: caf\xc3\xa9\r\n\r\n", &r), 0);
	assert_string_equal(r.user_agent, "caf??");
}

static void test_http_first_packet_cut(void **state)
{
	struct http_request r;
	/* the packet ends inside the headers: what is complete is used */
	assert_int_equal(req("GET / HTTP/1.1\r\nHost: cut.example\r\nUser-Agent: Moz", &r), 0);
	assert_string_equal(r.host, "cut.example");
	assert_string_equal(r.user_agent, "");
	assert_false(r.headers_complete);
	/* a Host line cut before its end is not trusted */
	assert_int_equal(req("GET / HTTP/1.1\r\nHost: cut.exa", &r), 0);
	assert_string_equal(r.host, "");
	/* request line not finished */
	assert_int_equal(req("GET /very/long/path?with=query", &r), -EAGAIN);
	assert_int_equal(req("GE", &r), -EAGAIN);
	assert_int_equal(req("OPTIONS", &r), -EAGAIN);

	/* every prefix of a full request: no crash, only these codes */
	const char *full = "PATCH /a/b HTTP/1.1\r\nHost: p.example:80\r\nUser-Agent: t\r\n\r\n";
	char buf[128];
	for (size_t k = 1; k <= strlen(full); k++) {
		memcpy(buf, full, k);
		buf[k] = '\0';
		int rc = req(buf, &r);
		assert_true(rc == 0 || rc == -EAGAIN);
		if (k >= strlen("PATCH /a/b HTTP/1.1\r\nHost: p.example:80\r\n"))
			assert_string_equal(r.host, "p.example");
	}
}

static void test_http_not_http(void **state)
{
	struct http_request r;
	assert_int_equal(req("", &r), -ENOMSG);
	assert_int_equal(req("get / HTTP/1.1\r\n\r\n", &r), -ENOMSG);
	assert_int_equal(req("GETX / HTTP/1.1\r\n\r\n", &r), -ENOMSG);
	assert_int_equal(req("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", &r), -ENOMSG);
	assert_int_equal(req("GET / HTTP/2.0\r\n\r\n", &r), -ENOMSG);
	assert_int_equal(req("GET /\r\n", &r), -ENOMSG); /* HTTP/0.9 */
	assert_int_equal(req("SSH-2.0-OpenSSH_9.2\r\n", &r), -ENOMSG);
	assert_int_equal(req("\x16\x03\x01\x00\x10", &r), -ENOMSG);
	assert_int_equal(http_parse_request(NULL, 0, &r), -ENOMSG);
}

static void test_http_malformed(void **state)
{
	struct http_request r, before;
	assert_int_equal(req("GET /a b HTTP/1.1\r\n\r\n", &r), -EINVAL);
	assert_int_equal(req("GET  HTTP/1.1\r\n\r\n", &r), -ENOMSG);
	assert_int_equal(req("GET /\x01 HTTP/1.1\r\n\r\n", &r), -EINVAL);
	assert_int_equal(req("GET /\x01", &r), -EINVAL);
	assert_int_equal(req("GET / HTTP/1.1\r\nNoColonHere\r\n\r\n", &r), -EINVAL);
	assert_int_equal(req("GET / HTTP/1.1\r\nHost : a\r\n\r\n", &r), -EINVAL);
	assert_int_equal(req("GET / HTTP/1.1\r\n: a\r\n\r\n", &r), -EINVAL);
	/* obs-fold continuation lines are skipped, not an error */
	assert_int_equal(req("GET / HTTP/1.1\r\nX-A: 1\r\n  more\r\nHost: f.example\r\n\r\n", &r),
			 0);
	assert_string_equal(r.host, "f.example");
	memset(&r, 0x33, sizeof(r));
	before = r;
	assert_int_equal(req("GET / HTTP/1.1\r\nbad header\r\n\r\n", &r), -EINVAL);
	assert_memory_equal(&r, &before, sizeof(r));
}

static void test_http_response(void **state)
{
	struct http_response s;
	assert_int_equal(
	    resp("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Length: 3\r\n\r\nabc", &s), 0);
	assert_int_equal(s.status, 200);
	assert_int_equal(s.version_minor, 1);
	assert_string_equal(s.server, "nginx/1.22.1");
	assert_true(s.headers_complete);
	assert_int_equal(resp("HTTP/1.0 404\r\n\r\n", &s), 0);
	assert_int_equal(s.status, 404);
	assert_string_equal(s.server, "");
	assert_int_equal(resp("HTTP/1.1 301 Moved", &s), 0);
	assert_int_equal(s.status, 301);
	assert_false(s.headers_complete);
	assert_int_equal(resp("HTTP/1.1 204", &s), 0);
	assert_int_equal(resp("HTTP/1.1 20", &s), -EAGAIN);
	assert_int_equal(resp("HTTP/", &s), -EAGAIN);
	assert_int_equal(resp("HTTP/1.1 2x0 OK\r\n", &s), -EINVAL);
	assert_int_equal(resp("HTTP/1.1 099 OK\r\n", &s), -EINVAL);
	assert_int_equal(resp("HTTP/1.1 2000 OK\r\n", &s), -EINVAL);
	assert_int_equal(resp("HTTP/1.1 200 OK\r\nbroken\r\n\r\n", &s), -EINVAL);
	assert_int_equal(resp("HTTP/2 200\r\n", &s), -ENOMSG);
	assert_int_equal(resp("GET / HTTP/1.1\r\n", &s), -ENOMSG);
	assert_int_equal(resp("", &s), -ENOMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_curl_get),      cmocka_unit_test(test_http_all_methods),
	    cmocka_unit_test(test_http_host_variants), cmocka_unit_test(test_http_missing_host),
	    cmocka_unit_test(test_http_user_agent),    cmocka_unit_test(test_http_first_packet_cut),
	    cmocka_unit_test(test_http_not_http),      cmocka_unit_test(test_http_malformed),
	    cmocka_unit_test(test_http_response),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

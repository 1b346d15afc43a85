/* Tests for services/classifier/ssh: identification lines of real servers and clients. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ssh.h"

static int parse(const char *s, struct ssh_banner *b)
{
	return ssh_parse_banner((const uint8_t *)s, strlen(s), b);
}

static void test_ssh_openssh(void **state)
{
	struct ssh_banner b;
	assert_int_equal(parse("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u2\r\n", &b), 0);
	assert_string_equal(b.proto_version, "2.0");
	assert_string_equal(b.software, "OpenSSH_9.2p1");
	assert_string_equal(b.comments, "Debian-2+deb12u2");
	assert_true(b.complete);
}

static void test_ssh_compat_199(void **state)
{
	struct ssh_banner b;
	assert_int_equal(parse("SSH-1.99-Cisco-1.25\r\n", &b), 0);
	assert_string_equal(b.proto_version, "1.99");
	assert_string_equal(b.software, "Cisco-1.25");
	assert_string_equal(b.comments, "");
}

static void test_ssh_key_exchange_follows(void **state)
{
	struct ssh_banner b;
	static const uint8_t p[] = "SSH-2.0-dropbear_2022.83\r\n\x00\x00\x01\x14\x0a\x14";
	assert_int_equal(ssh_parse_banner(p, sizeof(p) - 1, &b), 0);
	assert_string_equal(b.software, "dropbear_2022.83");
	assert_true(b.complete);
	assert_int_equal(parse("SSH-2.0-Go\n", &b), 0);
	assert_true(b.complete);
}

static void test_ssh_missing_crlf(void **state)
{
	struct ssh_banner b;
	assert_int_equal(parse("SSH-2.0-PuTTY_Release_0.78", &b), 0);
	assert_string_equal(b.software, "PuTTY_Release_0.78");
	assert_false(b.complete);
	assert_int_equal(parse("SSH-2.0-libssh_0.10.4\r", &b), 0);
	assert_false(b.complete);
}

static void test_ssh_long_software_truncated(void **state)
{
	struct ssh_banner b;
	char line[200];
	strcpy(line, "SSH-2.0-");
	memset(line + 8, 'x', 100);
	strcpy(line + 108, "\r\n");
	assert_int_equal(parse(line, &b), 0);
	assert_int_equal(strlen(b.software), SSH_SOFTWARE_MAX - 1);
}

static void test_ssh_not_ssh(void **state)
{
	struct ssh_banner b;
	assert_int_equal(parse("GET / HTTP/1.1\r\n", &b), -ENOMSG);
	assert_int_equal(parse("SSH-3.0-x\r\n", &b), -ENOMSG);
	assert_int_equal(parse("SSH-2.0", &b), -ENOMSG);
	assert_int_equal(parse("SSH", &b), -ENOMSG);
	assert_int_equal(ssh_parse_banner(NULL, 0, &b), -ENOMSG);
}

static void test_ssh_malformed(void **state)
{
	struct ssh_banner b;
	char line[400];
	assert_int_equal(parse("SSH-2.0-\r\n", &b), -EINVAL);
	assert_int_equal(parse("SSH-2.0- comment\r\n", &b), -EINVAL);
	assert_int_equal(parse("SSH-2.0-a\tb\r\n", &b), -EINVAL);
	assert_int_equal(parse("SSH-2.0-abc\rX", &b), -EINVAL);
	strcpy(line, "SSH-2.0-");
	memset(line + 8, 'y', 300);
	line[308] = '\0';
	assert_int_equal(parse(line, &b), -EINVAL);
}

static void test_ssh_truncations(void **state)
{
	static const char s[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u2\r\n";
	struct ssh_banner b;
	for (size_t i = 0; i <= sizeof(s) - 1; i++) {
		uint8_t *c = malloc(i ? i : 1);
		assert_non_null(c);
		memcpy(c, s, i);
		int r = ssh_parse_banner(c, i, &b);
		assert_true(r == 0 || r == -ENOMSG || r == -EINVAL);
		if (i > 9)
			assert_int_equal(r, 0);
		free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ssh_openssh),
	    cmocka_unit_test(test_ssh_compat_199),
	    cmocka_unit_test(test_ssh_key_exchange_follows),
	    cmocka_unit_test(test_ssh_missing_crlf),
	    cmocka_unit_test(test_ssh_long_software_truncated),
	    cmocka_unit_test(test_ssh_not_ssh),
	    cmocka_unit_test(test_ssh_malformed),
	    cmocka_unit_test(test_ssh_truncations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

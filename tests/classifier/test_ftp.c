/* Tests for services/classifier/ftp: server greetings and replies, client commands, port and
 * text rules, passwords never copied. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ftp.h"

static int parse(const char *s, uint16_t sport, uint16_t dport, struct ftp_control *c)
{
	return ftp_parse_control((const uint8_t *)s, strlen(s), sport, dport, c);
}

static void test_ftp_greeting_on_port(void **state)
{
	struct ftp_control c;
	assert_int_equal(parse("220 (vsFTPd 3.0.3)\r\n", 21, 50000, &c), 0);
	assert_int_equal(c.kind, FTP_SERVER_REPLY);
	assert_int_equal(c.reply_code, 220);
	assert_true(c.greeting);
	assert_false(c.multiline);
	assert_string_equal(c.text, "(vsFTPd 3.0.3)");
	assert_int_equal(
	    parse("220-Welcome to Pure-FTPd.\r\n220-You are user 1.\r\n", 21, 50000, &c), 0);
	assert_true(c.multiline);
	assert_string_equal(c.text, "Welcome to Pure-FTPd.");
	assert_int_equal(parse("331 Please specify the password.\r\n", 21, 50000, &c), 0);
	assert_int_equal(c.reply_code, 331);
	assert_false(c.greeting);
}

static void test_ftp_greeting_off_port(void **state)
{
	struct ftp_control c;
	assert_int_equal(
	    parse("220 ProFTPD Server (Debian) [::ffff:10.0.0.2]\r\n", 2121, 50000, &c), 0);
	assert_true(c.greeting);
	/* SMTP and other 220s are not FTP away from port 21 */
	assert_int_equal(parse("220 mail.example.com ESMTP Postfix\r\n", 25, 50000, &c), -ENOMSG);
	assert_int_equal(parse("220 ftp.example.com ESMTP ready\r\n", 25, 50000, &c), -ENOMSG);
	assert_int_equal(parse("331 FTP password\r\n", 2121, 50000, &c), -ENOMSG);
}

static void test_ftp_commands(void **state)
{
	struct ftp_control c;
	assert_int_equal(parse("USER anonymous\r\n", 50000, 21, &c), 0);
	assert_int_equal(c.kind, FTP_CLIENT_COMMAND);
	assert_string_equal(c.command, "USER");
	assert_string_equal(c.argument, "anonymous");
	assert_true(c.has_argument);
	assert_int_equal(parse("feat\r\n", 50000, 21, &c), 0);
	assert_string_equal(c.command, "FEAT");
	assert_false(c.has_argument);
	assert_int_equal(parse("SYST\r\n", 50000, 21, &c), 0);
	assert_int_equal(parse("EPSV\r\n", 50000, 21, &c), 0);
	assert_int_equal(parse("PASV", 50000, 21, &c), 0);
	assert_string_equal(c.command, "PASV");
	assert_int_equal(parse("CWD /pub\r\n", 50000, 21, &c), 0);
	assert_string_equal(c.command, "CWD");
	assert_string_equal(c.argument, "/pub");
}

static void test_ftp_password_not_copied(void **state)
{
	struct ftp_control c;
	assert_int_equal(parse("PASS hunter2\r\n", 50000, 21, &c), 0);
	assert_string_equal(c.command, "PASS");
	assert_true(c.has_argument);
	assert_string_equal(c.argument, "");
	assert_null(memmem(&c, sizeof(c), "hunter2", 7));
	assert_int_equal(parse("ACCT secret\r\n", 50000, 21, &c), 0);
	assert_string_equal(c.argument, "");
}

static void test_ftp_auth_tls(void **state)
{
	struct ftp_control c;
	assert_int_equal(parse("AUTH TLS\r\n", 50000, 21, &c), 0);
	assert_true(c.auth_tls);
	assert_int_equal(parse("auth ssl\r\n", 50000, 21, &c), 0);
	assert_true(c.auth_tls);
	assert_int_equal(parse("AUTH GSSAPI\r\n", 50000, 21, &c), 0);
	assert_false(c.auth_tls);
}

static void test_ftp_commands_need_port(void **state)
{
	struct ftp_control c;
	/* POP3 and SMTP share these verbs */
	assert_int_equal(parse("USER bob\r\n", 50000, 110, &c), -ENOMSG);
	assert_int_equal(parse("QUIT\r\n", 50000, 25, &c), -ENOMSG);
}

static void test_ftp_not_ftp(void **state)
{
	struct ftp_control c;
	assert_int_equal(parse("GET / HTTP/1.1\r\n", 50000, 21, &c), -ENOMSG);
	assert_int_equal(parse("USERS x\r\n", 50000, 21, &c), -ENOMSG);
	assert_int_equal(parse("USER\tx\r\n", 50000, 21, &c), -ENOMSG);
	assert_int_equal(parse("999 nope\r\n", 21, 50000, &c), -ENOMSG);
	assert_int_equal(parse("220x\r\n", 21, 50000, &c), -ENOMSG);
	assert_int_equal(parse("SSH-2.0-x\r\n", 21, 50000, &c), -ENOMSG);
	assert_int_equal(parse("", 21, 50000, &c), -ENOMSG);
	assert_int_equal(ftp_parse_control(NULL, 0, 21, 21, &c), -ENOMSG);
}

static void test_ftp_truncations(void **state)
{
	static const char *samples[] = {"220 (vsFTPd 3.0.3)\r\n", "USER anonymous\r\n",
					"220 ProFTPD ready\r\n"};
	struct ftp_control c;
	for (size_t s = 0; s < 3; s++) {
		size_t n = strlen(samples[s]);
		for (size_t i = 0; i <= n; i++) {
			uint8_t *b = malloc(i ? i : 1);
			assert_non_null(b);
			memcpy(b, samples[s], i);
			int r = ftp_parse_control(b, i, s == 2 ? 2121 : 21, 50000, &c);
			assert_true(r == 0 || r == -ENOMSG);
			free(b);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ftp_greeting_on_port),
	    cmocka_unit_test(test_ftp_greeting_off_port),
	    cmocka_unit_test(test_ftp_commands),
	    cmocka_unit_test(test_ftp_password_not_copied),
	    cmocka_unit_test(test_ftp_auth_tls),
	    cmocka_unit_test(test_ftp_commands_need_port),
	    cmocka_unit_test(test_ftp_not_ftp),
	    cmocka_unit_test(test_ftp_truncations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

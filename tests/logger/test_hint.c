/* Unit tests for the logger's prefix rules and hint strings (hint.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hint.h"

static void check_prefix(const char *prefix, const char *from, const char *to, const char *rule,
			 enum hint_action action)
{
	struct hint_prefix p;
	assert_int_equal(hint_parse_prefix(prefix, &p), 0);
	assert_string_equal(p.zone_from, from);
	assert_string_equal(p.zone_to, to);
	assert_string_equal(p.rule_name, rule);
	assert_string_equal(hint_action_name(p.action), hint_action_name(action));
}

static void test_hint_prefix_chains(void **state)
{
	check_prefix("routerd firewall input deny ", "", "local", "input", HINT_ACTION_DENY);
	check_prefix("routerd firewall forward accept ", "", "", "forward", HINT_ACTION_ACCEPT);
	check_prefix("routerd firewall forward deny ", "", "", "forward", HINT_ACTION_DENY);
	check_prefix("routerd firewall forward deny", "", "", "forward", HINT_ACTION_DENY);
}

static void test_hint_prefix_zones(void **state)
{
	check_prefix("routerd firewall lan-to-wan accept ", "lan", "wan", "lan-to-wan",
		     HINT_ACTION_ACCEPT);
	check_prefix("routerd firewall wan-to-lan deny ", "wan", "lan", "wan-to-lan",
		     HINT_ACTION_DENY);
	check_prefix("routerd firewall guest-to-iot reject ", "guest", "iot", "guest-to-iot",
		     HINT_ACTION_REJECT);
}

static void test_hint_prefix_rule_word(void **state)
{
	check_prefix("routerd firewall block-ssh ", "", "", "block-ssh", HINT_ACTION_DROP);
	check_prefix("routerd firewall ssh-reject ", "", "", "ssh-reject", HINT_ACTION_REJECT);
	check_prefix("routerd firewall allow_accept ", "", "", "allow_accept", HINT_ACTION_ACCEPT);
	check_prefix("routerd firewall deny ", "", "", "deny", HINT_ACTION_DENY);
	check_prefix("routerd firewall lan-to-wan ", "lan", "wan", "lan-to-wan", HINT_ACTION_DROP);
}

static void test_hint_prefix_unknown(void **state)
{
	struct hint_prefix p;
	assert_int_equal(hint_parse_prefix("", &p), -ENOMSG);
	assert_int_equal(hint_parse_prefix("routerd firewall ", &p), -ENOMSG);
	assert_int_equal(hint_parse_prefix("routerd firewall", &p), -ENOMSG);
	assert_int_equal(hint_parse_prefix("routerd firewallx deny", &p), -ENOMSG);
	assert_int_equal(hint_parse_prefix("other prefix deny ", &p), -ENOMSG);
	assert_int_equal(hint_parse_prefix(NULL, &p), -ENOMSG);
}

static void test_hint_build_go_format(void **state)
{
	struct hint_fields f = {0};
	char buf[HINT_LEN_MAX];
	strcpy(f.tag, "nflog-netlink");
	strcpy(f.app, "tls");
	strcpy(f.engine, "builtin");
	strcpy(f.source, "builtin-payload");
	strcpy(f.category, "web");
	strcpy(f.risk, "a,b");
	strcpy(f.reason, "tls_client_hello_sni");
	strcpy(f.tls_sni, "example.com");
	strcpy(f.confidence, "90");
	strcpy(f.text, "denied packet matched prior TLS-SNI=example.com flow classified 3m ago");
	assert_int_equal(hint_build(&f, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "nflog-netlink dpi.app=tls dpi.engine=builtin "
				 "dpi.source=builtin-payload dpi.category=web dpi.risk=a,b "
				 "dpi.reason=tls_client_hello_sni dpi.tls_sni=example.com "
				 "dpi.confidence=90 denied packet matched prior "
				 "TLS-SNI=example.com flow classified 3m ago");
}

static void roundtrip(const struct hint_fields *f)
{
	char buf[HINT_LEN_MAX];
	struct hint_fields g;
	assert_int_equal(hint_build(f, buf, sizeof(buf)), 0);
	assert_int_equal(hint_parse(buf, &g), 0);
	assert_memory_equal(f, &g, sizeof(g));
}

static void test_hint_roundtrip_escapes(void **state)
{
	struct hint_fields f = {0};
	strcpy(f.tag, "kv=line x");
	strcpy(f.app, "a b=c%d");
	strcpy(f.http_host, "host\twith\x01"
			    "ctl\x7f");
	strcpy(f.dns_query, "caf\xc3\xa9.example");
	strcpy(f.text, "dpi.app=fake  two spaces %25 \n end ");
	roundtrip(&f);

	char buf[HINT_LEN_MAX];
	assert_int_equal(hint_build(&f, buf, sizeof(buf)), 0);
	assert_null(strchr(buf, '\n'));
	assert_non_null(strstr(buf, "dpi.app=a%20b%3Dc%25d"));

	memset(&f, 0, sizeof(f));
	strcpy(f.tag, "t");
	roundtrip(&f);
	strcpy(f.text, " leading space");
	roundtrip(&f);
}

static void test_hint_build_errors(void **state)
{
	struct hint_fields f = {0};
	char buf[8] = "keep";
	assert_int_equal(hint_build(&f, buf, sizeof(buf)), -EINVAL);
	strcpy(f.tag, "nflog-netlink");
	assert_int_equal(hint_build(&f, buf, sizeof(buf)), -ENOSPC);
	assert_string_equal(buf, "keep");
	assert_int_equal(hint_build(&f, buf, 0), -ENOSPC);
}

static void test_hint_parse_go_hint(void **state)
{
	struct hint_fields f;
	assert_int_equal(hint_parse("nflog-netlink dpi.app=dns dpi.foo=bar dpi.dns_query=x.example "
				    "dpi.app=dns2 free text=here",
				    &f),
			 0);
	assert_string_equal(f.tag, "nflog-netlink");
	assert_string_equal(f.app, "dns2");
	assert_string_equal(f.dns_query, "x.example");
	assert_string_equal(f.text, "free text=here");
	assert_int_equal(hint_parse("nflog-netlink", &f), 0);
	assert_string_equal(f.text, "");
}

static void test_hint_parse_errors(void **state)
{
	struct hint_fields f;
	char big[HINT_VALUE_MAX + 32];
	assert_int_equal(hint_parse("", &f), -EINVAL);
	assert_int_equal(hint_parse(" lead", &f), -EINVAL);
	assert_int_equal(hint_parse("t dpi.app=%z1", &f), -EINVAL);
	assert_int_equal(hint_parse("t dpi.app=%2", &f), -EINVAL);
	assert_int_equal(hint_parse("t dpi.app=%00", &f), -EINVAL);
	strcpy(big, "t dpi.app=");
	memset(big + 10, 'a', HINT_VALUE_MAX);
	big[10 + HINT_VALUE_MAX] = '\0';
	assert_int_equal(hint_parse(big, &f), -EMSGSIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hint_prefix_chains),
	    cmocka_unit_test(test_hint_prefix_zones),
	    cmocka_unit_test(test_hint_prefix_rule_word),
	    cmocka_unit_test(test_hint_prefix_unknown),
	    cmocka_unit_test(test_hint_build_go_format),
	    cmocka_unit_test(test_hint_roundtrip_escapes),
	    cmocka_unit_test(test_hint_build_errors),
	    cmocka_unit_test(test_hint_parse_go_hint),
	    cmocka_unit_test(test_hint_parse_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

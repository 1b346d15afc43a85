/* Tests for common/ports: the one port-fallback table is sorted, unique and weak,
 * and lookups pick the well-known side. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/ports.h"

static void test_ports_table_sorted_unique(void **state)
{
	size_t n = 0;
	const struct rdpi_ports_entry *t = rdpi_ports_table(&n);
	assert_non_null(t);
	assert_true(n > 30);
	for (size_t i = 1; i < n; i++) {
		assert_true(t[i - 1].l4proto < t[i].l4proto ||
			    (t[i - 1].l4proto == t[i].l4proto && t[i - 1].port < t[i].port));
	}
	for (size_t i = 0; i < n; i++) {
		assert_true(t[i].l4proto == IPPROTO_TCP || t[i].l4proto == IPPROTO_UDP);
		assert_non_null(t[i].app);
		assert_non_null(t[i].category);
		assert_string_not_equal(t[i].category, "port-fallback");
		assert_true(t[i].confidence > 0 && t[i].confidence <= RDPI_PORTS_CONFIDENCE_MAX);
		assert_ptr_equal(rdpi_ports_find(t[i].l4proto, t[i].port), &t[i]);
	}
	assert_ptr_equal(rdpi_ports_table(NULL), t);
}

static void check(uint8_t proto, uint16_t port, const char *app, const char *category,
		  uint8_t confidence)
{
	const struct rdpi_ports_entry *e = rdpi_ports_find(proto, port);
	assert_non_null(e);
	assert_string_equal(e->app, app);
	assert_string_equal(e->category, category);
	assert_int_equal(e->confidence, confidence);
}

static void test_ports_entries(void **state)
{
	const uint8_t T = IPPROTO_TCP, U = IPPROTO_UDP;
	check(U, 41641, "tailscale", "vpn", 40);
	check(U, 3478, "stun", "network", 38);
	check(T, 5349, "stun", "network", 38);
	check(U, 443, "quic", "web", 35);
	check(U, 8443, "quic", "web", 35);
	check(T, 443, "tls", "web", 30);
	check(T, 21, "ftp", "file-sharing", 30);
	check(T, 22, "ssh", "remote-access", 30);
	check(T, 587, "smtp", "mail", 30);
	check(T, 53, "dns", "network", 30);
	check(U, 53, "dns", "network", 30);
	check(U, 67, "dhcp", "network", 30);
	check(U, 123, "ntp", "network", 30);
	check(U, 137, "netbios", "network", 30);
	check(T, 445, "smb", "file-sharing", 30);
	check(U, 4500, "ipsec", "vpn", 30);
	check(U, 1900, "ssdp", "network", 30);
	check(T, 3306, "mysql", "database", 30);
	check(T, 5432, "postgresql", "database", 30);
	check(T, 3389, "rdp", "remote-access", 30);
	check(T, 4317, "otlp", "monitoring", 30);
	check(U, 5353, "mdns", "network", 30);
	check(U, 5355, "llmnr", "network", 30);
	check(U, 51820, "wireguard", "vpn", 30);
	check(T, 1883, "mqtt", "iot", 30);
	assert_null(rdpi_ports_find(T, 123));
	assert_null(rdpi_ports_find(U, 22));
	assert_null(rdpi_ports_find(T, 41641));
}

static void test_ports_lookup_rules(void **state)
{
	const uint8_t T = IPPROTO_TCP, U = IPPROTO_UDP;
	/* one side listed: that side, whichever it is */
	assert_string_equal(rdpi_ports_lookup(U, 51000, 53)->app, "dns");
	assert_string_equal(rdpi_ports_lookup(U, 53, 51000)->app, "dns");
	assert_string_equal(rdpi_ports_lookup(T, 443, 40000)->app, "tls");
	/* both listed, one below 1024: the well-known side */
	assert_string_equal(rdpi_ports_lookup(U, 5353, 53)->app, "dns");
	assert_string_equal(rdpi_ports_lookup(U, 53, 5353)->app, "dns");
	assert_string_equal(rdpi_ports_lookup(T, 443, 8080)->app, "tls");
	/* both listed, both below or both above 1024: dport */
	assert_string_equal(rdpi_ports_lookup(U, 41641, 3478)->app, "stun");
	assert_string_equal(rdpi_ports_lookup(U, 3478, 41641)->app, "tailscale");
	assert_string_equal(rdpi_ports_lookup(U, 67, 68)->app, "dhcp");
	assert_string_equal(rdpi_ports_lookup(T, 25, 22)->app, "ssh");
	assert_string_equal(rdpi_ports_lookup(U, 41641, 41641)->app, "tailscale");
	/* nothing listed, or not TCP/UDP */
	assert_null(rdpi_ports_lookup(U, 40000, 50000));
	assert_null(rdpi_ports_lookup(T, 41641, 50000));
	assert_null(rdpi_ports_lookup(IPPROTO_ICMP, 0, 53));
	assert_null(rdpi_ports_lookup(IPPROTO_SCTP, 443, 443));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ports_table_sorted_unique),
	    cmocka_unit_test(test_ports_entries),
	    cmocka_unit_test(test_ports_lookup_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

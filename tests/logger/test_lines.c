/* Unit tests for the logger's text line inputs (lines.c): kernel log kv lines, JSON (ours and
 * ulogd2's keys), tcpdump -tt lines on nflog (plain, -v with its continuation, -e), detection. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/flowkey.h"
#include "common/packet.h"
#include "entry.h"
#include "lines.h"

#define FALLBACK 42000000000ull
#define TS_2024	 1732615200000000000ull /* 2024-11-26T10:00:00Z */

#define KV_FWD                                                                                     \
	"Nov 26 10:00:00 router kernel: [12345.678] routerd firewall forward deny IN=eth1 "        \
	"OUT=eth0 MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=192.0.2.10 DST=198.51.100.7 "  \
	"LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=1 DF PROTO=TCP SPT=40000 DPT=443 WINDOW=64240 "       \
	"RES=0x00 SYN URGP=0"

static struct lentry e;
static char err[256];

static int parse(enum lines_format f, const char *line)
{
	memset(&e, 0xa5, sizeof(e)); /* lines_parse must zero it */
	return lines_parse(f, line, FALLBACK, &e, err, sizeof(err));
}

static void parse_ok(enum lines_format f, const char *line)
{
	int rv = parse(f, line);
	if (rv != 0)
		print_error("unexpected error %d: %s\nline: %s\n", rv, err, line);
	assert_int_equal(rv, 0);
	assert_null(e.pkt);
	assert_null(e.v);
	assert_false(e.candidate);
	assert_int_equal(e.payload_len, 0);
}

static void parse_err(enum lines_format f, const char *line, const char *msg)
{
	assert_int_equal(parse(f, line), -EINVAL);
	assert_string_equal(err, msg);
	assert_int_equal(e.l3, 0);
	assert_false(e.has_key);
}

static void assert_addr(const uint8_t a[16], const char *want)
{
	char buf[RDPI_ADDR_STRLEN];
	assert_int_equal(rdpi_addr_format(a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void assert_rule(const char *from, const char *to, const char *rule, enum hint_action a)
{
	assert_string_equal(e.pfx.zone_from, from);
	assert_string_equal(e.pfx.zone_to, to);
	assert_string_equal(e.pfx.rule_name, rule);
	assert_string_equal(hint_action_name(e.pfx.action), hint_action_name(a));
}

static void assert_tuple(int l3, uint8_t proto, const char *src, unsigned sport, const char *dst,
			 unsigned dport)
{
	assert_int_equal(e.l3, l3);
	assert_int_equal(e.l4proto, proto);
	assert_addr(e.src, src);
	assert_addr(e.dst, dst);
	assert_int_equal(e.has_ports, sport || dport);
	assert_int_equal(e.sport, sport);
	assert_int_equal(e.dport, dport);
	assert_true(e.has_key);
	assert_int_equal(e.key.l3, l3);
	assert_int_equal(e.key.l4proto, proto);
}

/* ---- names and detection ------------------------------------------------------------------ */

static void test_lines_format_names(void **state)
{
	static const char *const names[] = {"auto", "json", "kv", "nflog-tcpdump"};
	enum lines_format f;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(lines_format_parse(names[i], &f), 0);
		assert_int_equal(f, i);
		assert_string_equal(lines_format_name(f), names[i]);
	}
	f = LINES_JSON;
	assert_int_equal(lines_format_parse("tcpdump", &f), -EINVAL);
	assert_int_equal(lines_format_parse("JSON", &f), -EINVAL);
	assert_int_equal(lines_format_parse("", &f), -EINVAL);
	assert_int_equal(lines_format_parse(NULL, &f), -EINVAL);
	assert_int_equal(f, LINES_JSON);
	assert_null(lines_format_name((enum lines_format)99));
}

static void test_lines_detect(void **state)
{
	enum lines_format f;
	assert_int_equal(lines_detect("  {\"src_ip\":\"192.0.2.1\"}", &f), 0);
	assert_int_equal(f, LINES_JSON);
	assert_int_equal(lines_detect(KV_FWD, &f), 0);
	assert_int_equal(f, LINES_KV);
	assert_int_equal(lines_detect("IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 PROTO=UDP", &f), 0);
	assert_int_equal(f, LINES_KV);
	assert_int_equal(lines_detect("1732615200.123456 IP 192.0.2.10.40000 > 198.51.100.7.443: "
				      "Flags [S], seq 1, win 64240, length 0",
				      &f),
			 0);
	assert_int_equal(f, LINES_TCPDUMP);
	assert_int_equal(lines_detect("1732615200.2 IP6 2001:db8::1.5353 > ff02::fb.5353: UDP, "
				      "length 32",
				      &f),
			 0);
	assert_int_equal(f, LINES_TCPDUMP);
	assert_int_equal(lines_detect("1732615200.2 IP (tos 0x0, ttl 64, id 1, offset 0, flags "
				      "[DF], proto TCP (6), length 60)",
				      &f),
			 0);
	assert_int_equal(f, LINES_TCPDUMP);
	assert_int_equal(lines_detect("1732615200.2 version 0, resource ID 5, family IPv4, length "
				      "80: IP 192.0.2.1 > 192.0.2.2: ICMP echo request",
				      &f),
			 0);
	assert_int_equal(f, LINES_TCPDUMP);

	f = LINES_AUTO;
	assert_int_equal(lines_detect("hello world", &f), -EINVAL);
	assert_int_equal(lines_detect("1732615200 ARP, Request who-has 192.0.2.1", &f), -EINVAL);
	assert_int_equal(lines_detect("SRC=192.0.2.1 only", &f), -EINVAL);
	assert_int_equal(lines_detect("", &f), -ENODATA);
	assert_int_equal(lines_detect("   \t\r\n", &f), -ENODATA);
	assert_int_equal(lines_detect("# SRC=1.2.3.4 DST=1.2.3.4", &f), -ENODATA);
	assert_int_equal(f, LINES_AUTO);
}

static void test_lines_auto_parses_each_format(void **state)
{
	parse_ok(LINES_AUTO, KV_FWD);
	assert_string_equal(e.tag, LENTRY_TAG_KV);
	parse_ok(LINES_AUTO, "{\"src_address\":\"192.0.2.10\",\"dst_address\":\"198.51.100.7\","
			     "\"protocol\":\"udp\",\"src_port\":5000,\"dst_port\":53}");
	assert_string_equal(e.tag, LENTRY_TAG_JSON);
	parse_ok(LINES_AUTO, "1732615200.3 IP 192.0.2.10 > 198.51.100.7: ICMP echo request, id 1, "
			     "seq 1, length 64");
	assert_string_equal(e.tag, LENTRY_TAG_TCPDUMP);
	parse_err(LINES_AUTO, "garbage line", "auto: not JSON, kv or tcpdump: garbage line");
}

static void test_lines_blank_and_comment(void **state)
{
	static const char *const lines[] = {
	    "", " ", "\t  ", "\n", "\r\n", "# comment", "   # indented {\"a\":1}"};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		for (int f = LINES_AUTO; f <= LINES_TCPDUMP; f++) {
			assert_int_equal(parse((enum lines_format)f, lines[i]), -ENODATA);
			assert_string_equal(err, "");
		}
	}
	assert_int_equal(lines_parse(LINES_KV, NULL, 0, &e, NULL, 0), -ENODATA);
}

/* ---- kv ------------------------------------------------------------------------------------ */

static void test_lines_kv_syslog_v4(void **state)
{
	parse_ok(LINES_KV, KV_FWD);
	assert_string_equal(e.tag, LENTRY_TAG_KV);
	assert_int_equal(e.ts_ns, FALLBACK);
	assert_rule("", "", "forward", HINT_ACTION_DENY);
	assert_string_equal(e.in_iface, "eth1");
	assert_string_equal(e.out_iface, "eth0");
	assert_tuple(4, IPPROTO_TCP, "192.0.2.10", 40000, "198.51.100.7", 443);
	assert_int_equal(e.packet_bytes, 60);
	assert_true(e.has_tcp_flags);
	assert_int_equal(e.tcp_flags, 0x02);
	/* 192.0.2.10 < 198.51.100.7: this packet goes lower -> higher */
	assert_int_equal(e.dir, RDPI_FLOWKEY_DIR_LO_TO_HI);
	assert_int_equal(e.key.lo_port, 40000);
	assert_int_equal(e.key.hi_port, 443);

	/* trailing CR LF ignored, flags ACK+PSH+FIN, input chain: zone_to local */
	parse_ok(LINES_KV, "kernel: routerd firewall input accept IN=eth1 OUT= SRC=192.0.2.10 "
			   "DST=192.0.2.1 LEN=52 PROTO=TCP SPT=40000 DPT=22 WINDOW=501 RES=0x00 "
			   "ACK PSH FIN URGP=0\r\n");
	assert_rule("", "local", "input", HINT_ACTION_ACCEPT);
	assert_string_equal(e.out_iface, "");
	assert_int_equal(e.tcp_flags, 0x10 | 0x08 | 0x01);
	assert_int_equal(e.packet_bytes, 52);
}

static void test_lines_kv_v6_and_timestamps(void **state)
{
	parse_ok(LINES_KV, "1732615200.25 routerd firewall lan-to-wan accept IN=br-lan OUT=wan "
			   "SRC=2001:db8::10 DST=2001:db8:1::53 LEN=72 TC=0 HOPLIMIT=64 FLOWLBL=0 "
			   "PROTO=UDP SPT=5353 DPT=53 LEN=32");
	assert_int_equal(e.ts_ns, TS_2024 + 250000000ull);
	assert_rule("lan", "wan", "lan-to-wan", HINT_ACTION_ACCEPT);
	assert_tuple(6, IPPROTO_UDP, "2001:db8::10", 5353, "2001:db8:1::53", 53);
	/* the IP LEN, not the UDP header's LEN printed after the ports */
	assert_int_equal(e.packet_bytes, 72);
	assert_false(e.has_tcp_flags);

	parse_ok(LINES_KV, "routerd firewall wan-to-lan deny IN=wan OUT=br-lan SRC=2001:db8::2 "
			   "DST=2001:db8::1 LEN=80 PROTO=ICMPv6 TYPE=128 CODE=0 ID=1 SEQ=1 "
			   "TS=1732615200.000001");
	assert_int_equal(e.ts_ns, TS_2024 + 1000);
	assert_rule("wan", "lan", "wan-to-lan", HINT_ACTION_DENY);
	assert_tuple(6, IPPROTO_ICMPV6, "2001:db8::2", 0, "2001:db8::1", 0);
	assert_int_equal(e.packet_bytes, 80);

	/* journalctl -o short-iso */
	parse_ok(LINES_KV, "2024-11-26T11:00:00+0100 router kernel: routerd firewall forward "
			   "accept IN=a OUT=b SRC=10.0.0.1 DST=10.0.0.2 LEN=84 PROTO=ICMP TYPE=8 "
			   "CODE=0 ID=7 SEQ=1");
	assert_int_equal(e.ts_ns, TS_2024);
	assert_tuple(4, IPPROTO_ICMP, "10.0.0.1", 0, "10.0.0.2", 0);
}

static void test_lines_kv_foreign_prefix(void **state)
{
	/* iptables LOG with its own prefix after the syslog part */
	parse_ok(LINES_KV,
		 "Nov 26 10:00:00 gw kernel: [ 99.100000] DROPPED: IN=eth0 OUT= "
		 "SRC=203.0.113.5 DST=192.0.2.1 LEN=40 PROTO=TCP SPT=1 DPT=23 RST URGP=0");
	assert_rule("", "", "DROPPED:", HINT_ACTION_DROP);
	assert_int_equal(e.tcp_flags, 0x04);

	/* no prefix at all */
	parse_ok(LINES_KV, "kernel: [ 99.100000] IN=eth0 OUT= SRC=203.0.113.5 DST=192.0.2.1 "
			   "LEN=40 PROTO=UDP SPT=1 DPT=2");
	assert_rule("", "", "nflog", HINT_ACTION_DROP);

	/* ICMP error quoting the offending packet: the bracketed SRC/DST/PROTO are not ours */
	parse_ok(LINES_KV, "routerd firewall input deny IN=eth0 OUT= SRC=198.51.100.7 "
			   "DST=192.0.2.10 LEN=88 PROTO=ICMP TYPE=3 CODE=3 [SRC=192.0.2.10 "
			   "DST=198.51.100.7 LEN=60 PROTO=UDP SPT=40000 DPT=53 LEN=40 ]");
	assert_tuple(4, IPPROTO_ICMP, "198.51.100.7", 0, "192.0.2.10", 0);
	assert_int_equal(e.packet_bytes, 88);

	/* a later fragment has no ports and no flags */
	parse_ok(LINES_KV, "routerd firewall forward drop IN=a OUT=b SRC=10.0.0.1 DST=10.0.0.2 "
			   "LEN=1500 ID=5 MF FRAG:185 PROTO=TCP");
	assert_tuple(4, IPPROTO_TCP, "10.0.0.1", 0, "10.0.0.2", 0);
	assert_false(e.has_tcp_flags);
	assert_rule("", "", "forward", HINT_ACTION_DROP);

	/* numeric protocol */
	parse_ok(LINES_KV, "IN=a OUT=b SRC=10.0.0.1 DST=10.0.0.2 LEN=100 PROTO=47");
	assert_int_equal(e.l4proto, 47);
}

static void test_lines_kv_errors(void **state)
{
	parse_err(LINES_KV,
		  "routerd firewall forward deny IN=eth1 OUT=eth0 SRC=300.1.1.1 "
		  "DST=198.51.100.7 LEN=60 PROTO=TCP SPT=1 DPT=2",
		  "kv: SRC=300.1.1.1: bad address");
	parse_err(LINES_KV,
		  "IN=eth1 OUT=eth0 SRC=192.0.2.1 DST=198.51.100.7 LEN=60 PROTO=TCP "
		  "SPT=1 DPT=65536",
		  "kv: DPT=65536: port > 65535");
	parse_err(LINES_KV, "IN=eth1 SRC=192.0.2.1 DST=198.51.100.7 PROTO=FOO",
		  "kv: PROTO=FOO: unknown protocol");
	parse_err(LINES_KV, "IN=eth1 SRC=192.0.2.1 DST=198.51.100.7 LEN=60 PROTO=TCP SPT=40000",
		  "kv: SPT= without DPT= (truncated line?)");
	parse_err(LINES_KV, "IN=eth1 SRC=192.0.2.1 DST=198.51.100.7 LEN=60 TOS=0x00",
		  "kv: missing PROTO= (truncated line?)");
	parse_err(LINES_KV, "routerd firewall forward deny IN=eth1 OUT=eth0 SRC=192.0.2.1",
		  "kv: missing DST= (truncated line?)");
	parse_err(LINES_KV, "IN=eth1 SRC=192.0.2.1 DST=198.51.", "kv: DST=198.51.: bad address");
	parse_err(LINES_KV, "IN=eth1 SRC=192.0.2.1 DST=2001:db8::1 PROTO=UDP",
		  "kv: SRC=192.0.2.1 and DST=2001:db8::1 are different families");
	parse_err(LINES_KV, "IN=averyveryverylongname SRC=192.0.2.1 DST=192.0.2.2 PROTO=UDP",
		  "kv: IN=averyveryverylongname: interface name too long");
	parse_err(LINES_KV, "IN=a SRC=192.0.2.1 DST=192.0.2.2 PROTO=UDP TS=12x",
		  "kv: TS=12x: bad timestamp");
	parse_err(LINES_KV, "no fields here", "kv: no IN= or SRC= field");
	parse_err(LINES_KV, "{\"src_ip\":\"192.0.2.1\"}", "kv: no IN= or SRC= field");
}

/* ---- json ---------------------------------------------------------------------------------- */

static void test_lines_json_columns(void **state)
{
	parse_ok(LINES_JSON,
		 "{\"ts\":1732615200123456789,\"prefix\":\"routerd firewall lan-to-wan accept \","
		 "\"in_iface\":\"br-lan\",\"out_iface\":\"wan\",\"l3_proto\":\"ipv4\","
		 "\"src_address\":\"192.0.2.10\",\"dst_address\":\"198.51.100.7\","
		 "\"protocol\":\"tcp\",\"src_port\":40000,\"dst_port\":443,"
		 "\"tcp_flags\":\"SYN,ACK\",\"packet_bytes\":60}");
	assert_string_equal(e.tag, LENTRY_TAG_JSON);
	assert_int_equal(e.ts_ns, 1732615200123456789ull);
	assert_rule("lan", "wan", "lan-to-wan", HINT_ACTION_ACCEPT);
	assert_string_equal(e.in_iface, "br-lan");
	assert_string_equal(e.out_iface, "wan");
	assert_tuple(4, IPPROTO_TCP, "192.0.2.10", 40000, "198.51.100.7", 443);
	assert_true(e.has_tcp_flags);
	assert_int_equal(e.tcp_flags, 0x12);
	assert_int_equal(e.packet_bytes, 60);

	/* explicit columns override the prefix; RFC 3339 ts; IPv6; no flags for UDP */
	parse_ok(LINES_JSON,
		 "{\"ts\":\"2024-11-26T10:00:00.5Z\",\"prefix\":\"routerd firewall "
		 "forward accept\",\"action\":\"reject\",\"zone_from\":\"iot\","
		 "\"zone_to\":\"wan\",\"rule_name\":\"iot-out\",\"l3_proto\":\"ipv6\","
		 "\"src_address\":\"2001:db8::1\",\"dst_address\":\"2001:db8::2\","
		 "\"protocol\":17,\"src_port\":1,\"dst_port\":2,\"tcp_flags\":\"SYN\"}");
	assert_int_equal(e.ts_ns, TS_2024 + 500000000ull);
	assert_rule("iot", "wan", "iot-out", HINT_ACTION_REJECT);
	assert_tuple(6, IPPROTO_UDP, "2001:db8::1", 1, "2001:db8::2", 2);
	assert_false(e.has_tcp_flags);
	assert_int_equal(e.tcp_flags, 0);

	/* no ts: fallback; no prefix: "nflog"/drop */
	parse_ok(LINES_JSON, "{\"saddr\":\"10.0.0.1\",\"daddr\":\"10.0.0.2\",\"protocol\":"
			     "\"icmp\",\"ts\":null}");
	assert_int_equal(e.ts_ns, FALLBACK);
	assert_rule("", "", "nflog", HINT_ACTION_DROP);
	assert_tuple(4, IPPROTO_ICMP, "10.0.0.1", 0, "10.0.0.2", 0);
}

static void test_lines_json_ulogd_keys(void **state)
{
	parse_ok(
	    LINES_JSON,
	    "{\"timestamp\": \"2024-11-26T10:00:00.123456+0000\", \"dvc\": \"Netfilter\", "
	    "\"raw.pktlen\": 60, \"raw.pktcount\": 1, \"oob.prefix\": \"routerd firewall "
	    "forward deny \", \"oob.time.sec\": 1, \"oob.time.usec\": 2, \"oob.mark\": 0, "
	    "\"oob.hook\": 2, \"oob.family\": 2, \"oob.protocol\": 2048, \"oob.in\": \"eth1\", "
	    "\"oob.out\": \"eth0\", \"src_ip\": \"192.0.2.10\", \"dest_ip\": \"198.51.100.7\", "
	    "\"ip.protocol\": 6, \"ip.tos\": 0, \"ip.ttl\": 63, \"ip.totlen\": 60, "
	    "\"src_port\": 40000, \"dest_port\": 443, \"tcp.seq\": 1, \"tcp.syn\": true, "
	    "\"tcp.ack\": false, \"tcp.fin\": 0, \"tcp.rst\": 0, \"tcp.psh\": 1, "
	    "\"raw.pkt\": \"4500003c0001\", \"payload\": \"R0VUIC8gSFRUUA==\"}");
	assert_int_equal(e.ts_ns, TS_2024 + 123456000ull); /* timestamp wins over oob.time */
	assert_rule("", "", "forward", HINT_ACTION_DENY);
	assert_string_equal(e.in_iface, "eth1");
	assert_string_equal(e.out_iface, "eth0");
	assert_tuple(4, IPPROTO_TCP, "192.0.2.10", 40000, "198.51.100.7", 443);
	assert_int_equal(e.packet_bytes, 60);
	assert_true(e.has_tcp_flags);
	assert_int_equal(e.tcp_flags, 0x02 | 0x08);

	/* oob.time.sec/usec, IPv6 family 10, sport/dport, raw.pktlen */
	parse_ok(LINES_JSON, "{\"oob.time.sec\":1732615200,\"oob.time.usec\":7,\"oob.family\":10,"
			     "\"src_ip\":\"2001:db8::1\",\"dest_ip\":\"2001:db8::2\","
			     "\"ip.protocol\":17,\"sport\":5353,\"dport\":53,\"raw.pktlen\":80}");
	assert_int_equal(e.ts_ns, TS_2024 + 7000);
	assert_tuple(6, IPPROTO_UDP, "2001:db8::1", 5353, "2001:db8::2", 53);
	assert_int_equal(e.packet_bytes, 80);
	assert_false(e.has_tcp_flags);
}

static void test_lines_json_payload_ignored(void **state)
{
	/* a payload key, even a malformed one, neither fails the line nor lands anywhere */
	parse_ok(LINES_JSON, "{\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"192.0.2.2\",\"protocol\":"
			     "\"udp\",\"sport\":1,\"dport\":2,\"payload\":{\"x\":[1,2]},"
			     "\"raw.pkt\":12345}");
	assert_null(e.pkt);
	assert_int_equal(e.pkt_len, 0);
	assert_int_equal(e.payload_len, 0);
	assert_tuple(4, IPPROTO_UDP, "192.0.2.1", 1, "192.0.2.2", 2);
}

static void test_lines_json_errors(void **state)
{
	parse_err(LINES_JSON, "[{\"src_ip\":\"192.0.2.1\"}]",
		  "json: expected an object, got an array");
	/* truncated: jansson's reason and the column */
	assert_int_equal(parse(LINES_JSON, "{\"src_ip\":\"192.0.2.1\",\"dest_ip\":"), -EINVAL);
	assert_int_equal(strncmp(err, "json: ", 6), 0);
	assert_non_null(strstr(err, "(column "));
	parse_err(LINES_JSON, "{\"src_ip\":\"300.1.1.1\",\"dest_ip\":\"192.0.2.2\"}",
		  "json: src_ip=300.1.1.1: bad address");
	parse_err(LINES_JSON, "{\"src_ip\":1,\"dest_ip\":\"192.0.2.2\"}",
		  "json: src_ip: expected a string");
	parse_err(LINES_JSON,
		  "{\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"192.0.2.2\",\"protocol\":"
		  "\"tcp\",\"src_port\":\"443\"}",
		  "json: src_port: expected an integer");
	parse_err(LINES_JSON,
		  "{\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"192.0.2.2\",\"protocol\":"
		  "\"tcp\",\"dest_port\":70000}",
		  "json: dest_port: port > 65535");
	parse_err(LINES_JSON,
		  "{\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"192.0.2.2\",\"protocol\":"
		  "\"bogus\"}",
		  "json: protocol=bogus: unknown protocol");
	parse_err(LINES_JSON, "{\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"192.0.2.2\"}",
		  "json: missing protocol");
	parse_err(LINES_JSON, "{\"dest_ip\":\"192.0.2.2\",\"protocol\":6}",
		  "json: missing src_address");
	parse_err(LINES_JSON,
		  "{\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"192.0.2.2\",\"protocol\":6,"
		  "\"action\":\"maybe\"}",
		  "json: action=maybe: expected accept, deny, drop or reject");
	parse_err(LINES_JSON,
		  "{\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"192.0.2.2\",\"protocol\":6,"
		  "\"tcp.syn\":\"yes\"}",
		  "json: tcp.syn: expected a boolean");
	parse_err(LINES_JSON,
		  "{\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"192.0.2.2\",\"protocol\":6,"
		  "\"l3_proto\":\"ipv6\"}",
		  "json: address family IPv4 contradicts l3_proto IPv6");
	parse_err(LINES_JSON,
		  "{\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"192.0.2.2\",\"protocol\":6,"
		  "\"ts\":\"yesterday\"}",
		  "json: ts=yesterday: bad timestamp");
	parse_err(LINES_JSON,
		  "{\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"192.0.2.2\",\"protocol\":6,"
		  "\"ts\":1.5}",
		  "json: ts: expected unix ns or an RFC 3339 string");
	parse_err(LINES_JSON,
		  "{\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"192.0.2.2\",\"protocol\":6,"
		  "\"tcp_flags\":\"SYN,BOGUS\"}",
		  "json: tcp_flags: unknown flag BOGUS");
	parse_err(LINES_JSON,
		  "{\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"192.0.2.2\",\"protocol\":6,"
		  "\"packet_bytes\":-1}",
		  "json: packet_bytes: -1 out of range 0..4294967295");
}

/* ---- tcpdump ------------------------------------------------------------------------------- */

static void test_lines_tcpdump_v4(void **state)
{
	parse_ok(LINES_TCPDUMP, "1732615200.123456 IP 192.0.2.10.40000 > 198.51.100.7.443: Flags "
				"[S], seq 1, win 64240, length 0");
	assert_string_equal(e.tag, LENTRY_TAG_TCPDUMP);
	assert_int_equal(e.ts_ns, TS_2024 + 123456000ull);
	assert_rule("", "", "nflog", HINT_ACTION_DROP);
	assert_tuple(4, IPPROTO_TCP, "192.0.2.10", 40000, "198.51.100.7", 443);
	assert_true(e.has_tcp_flags);
	assert_int_equal(e.tcp_flags, 0x02);
	assert_int_equal(e.packet_bytes, 0); /* not known without -v */

	parse_ok(LINES_TCPDUMP, "1732615200.3 IP 192.0.2.10 > 198.51.100.7: ICMP echo request, id "
				"1, seq 1, length 64");
	assert_int_equal(e.ts_ns, TS_2024 + 300000000ull);
	assert_tuple(4, IPPROTO_ICMP, "192.0.2.10", 0, "198.51.100.7", 0);
	assert_false(e.has_tcp_flags);

	/* DNS decoded by tcpdump: no "UDP" word, ports present */
	parse_ok(LINES_TCPDUMP, "1732615200 IP 192.0.2.10.40000 > 198.51.100.7.53: 1234+ A? "
				"example.com. (29)");
	assert_int_equal(e.ts_ns, TS_2024);
	assert_tuple(4, IPPROTO_UDP, "192.0.2.10", 40000, "198.51.100.7", 53);

	/* no timestamp: fallback; a prefix shown on the line is used */
	parse_ok(LINES_TCPDUMP, "IP 10.0.0.1.1 > 10.0.0.2.2: UDP, length 4 prefix \"routerd "
				"firewall wan-to-lan deny \"");
	assert_int_equal(e.ts_ns, FALLBACK);
	assert_rule("wan", "lan", "wan-to-lan", HINT_ACTION_DENY);

	/* -e link header */
	parse_ok(LINES_TCPDUMP, "1732615200.5 version 0, resource ID 5, family IPv4, length 80: IP "
				"10.0.0.1.1 > 10.0.0.2.2: UDP, length 52");
	assert_tuple(4, IPPROTO_UDP, "10.0.0.1", 1, "10.0.0.2", 2);
}

static void test_lines_tcpdump_v6(void **state)
{
	parse_ok(LINES_TCPDUMP, "1732615200.223456 IP6 2001:db8::1.5353 > ff02::fb.5353: UDP, "
				"length 32\n");
	assert_int_equal(e.ts_ns, TS_2024 + 223456000ull);
	assert_tuple(6, IPPROTO_UDP, "2001:db8::1", 5353, "ff02::fb", 5353);

	parse_ok(LINES_TCPDUMP, "1732615200.2 IP6 2001:db8::1 > 2001:db8::2: ICMP6, echo request, "
				"id 1, seq 1, length 64");
	assert_tuple(6, IPPROTO_ICMPV6, "2001:db8::1", 0, "2001:db8::2", 0);

	/* -v IPv6 is one line; the IP length is 40 + payload length */
	parse_ok(LINES_TCPDUMP, "1732615200.2 IP6 (flowlabel 0x12345, hlim 64, next-header TCP (6) "
				"payload length: 40) 2001:db8::1.40000 > 2001:db8::2.443: Flags "
				"[S], cksum 0x1234 (correct), seq 1, win 64800, length 0");
	assert_tuple(6, IPPROTO_TCP, "2001:db8::1", 40000, "2001:db8::2", 443);
	assert_int_equal(e.packet_bytes, 80);
	assert_int_equal(e.tcp_flags, 0x02);
}

static void test_lines_tcpdump_flags(void **state)
{
	static const struct {
		const char *flags;
		uint8_t want;
	} cases[] = {
	    {"S", 0x02},  {"S.", 0x12},	 {"P.", 0x18}, {"F.", 0x11}, {"R", 0x04},
	    {"R.", 0x14}, {"SEW", 0xc2}, {"U.", 0x30}, {"none", 0},  {".", 0x10},
	};
	char line[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(line, sizeof(line),
			 "1.0 IP 10.0.0.1.1000 > 10.0.0.2.80: Flags [%s], seq 1, length 0",
			 cases[i].flags);
		parse_ok(LINES_TCPDUMP, line);
		assert_true(e.has_tcp_flags);
		assert_int_equal(e.tcp_flags, cases[i].want);
	}
}

static void test_lines_tcpdump_verbose_continuation(void **state)
{
	const char *hdr = "1732615200.123456 IP (tos 0x0, ttl 64, id 1, offset 0, flags [DF], "
			  "proto TCP (6), length 60)";
	const char *cont = "    192.0.2.10.40000 > 198.51.100.7.443: Flags [S], cksum 0x1c46 "
			   "(correct), seq 1, win 64240, options [mss 1460], length 0";
	char joined[512];

	assert_int_equal(lines_tcpdump_needs_continuation(hdr), 1);
	assert_int_equal(lines_tcpdump_needs_continuation("1.0 IP (tos 0x0, length 60)  \r\n"), 1);
	assert_int_equal(lines_tcpdump_needs_continuation(cont), 0);
	assert_int_equal(lines_tcpdump_needs_continuation("1.0 IP 10.0.0.1 > 10.0.0.2: ICMP"), 0);
	assert_int_equal(lines_tcpdump_needs_continuation(KV_FWD), 0);
	assert_int_equal(lines_tcpdump_needs_continuation("1.0 IP (tos 0x0, "), 0);
	assert_int_equal(lines_tcpdump_needs_continuation(""), 0);
	assert_int_equal(lines_tcpdump_needs_continuation(NULL), 0);

	/* the header alone is an error that says what to do */
	parse_err(LINES_TCPDUMP, hdr,
		  "tcpdump: -v header without addresses (join it with the continuation line)");

	snprintf(joined, sizeof(joined), "%s %s", hdr, cont);
	parse_ok(LINES_AUTO, joined);
	assert_string_equal(e.tag, LENTRY_TAG_TCPDUMP);
	assert_int_equal(e.ts_ns, TS_2024 + 123456000ull);
	assert_tuple(4, IPPROTO_TCP, "192.0.2.10", 40000, "198.51.100.7", 443);
	assert_int_equal(e.packet_bytes, 60);
	assert_int_equal(e.tcp_flags, 0x02);

	/* -v UDP: the header's protocol wins over "[udp sum ok]" text */
	snprintf(
	    joined, sizeof(joined), "%s %s",
	    "1.5 IP (tos 0x0, ttl 64, id 2, offset 0, flags [none], proto UDP (17), length 61)",
	    "    10.0.0.1.40000 > 10.0.0.2.53: [udp sum ok] 1234+ A? example.com. (33)");
	parse_ok(LINES_TCPDUMP, joined);
	assert_tuple(4, IPPROTO_UDP, "10.0.0.1", 40000, "10.0.0.2", 53);
	assert_int_equal(e.packet_bytes, 61);
	assert_int_equal(e.ts_ns, 1500000000ull);
}

static void test_lines_tcpdump_errors(void **state)
{
	parse_err(LINES_TCPDUMP, "1.0 IP 192.0.2.10.70000 > 198.51.100.7.443: Flags [S]",
		  "tcpdump: 192.0.2.10.70000: port > 65535");
	parse_err(LINES_TCPDUMP, "1.0 IP 192.0.2.10.1 > 198.51.300.7.443: Flags [S]",
		  "tcpdump: 198.51.300.7.443: bad address");
	parse_err(LINES_TCPDUMP, "1.0 IP 192.0.2.10.40000 >",
		  "tcpdump: expected \"<src> > <dst>:\" (truncated line?)");
	parse_err(LINES_TCPDUMP, "1.0 IP 192.0.2.10.40000 > 198.51.100.7.443",
		  "tcpdump: 198.51.100.7.443: expected ':' after the destination");
	parse_err(LINES_TCPDUMP, "1.0 IP (tos 0x0, ttl 64",
		  "tcpdump: unterminated '(' header (truncated line?)");
	parse_err(LINES_TCPDUMP, "1.0 ARP, Request who-has 10.0.0.1",
		  "tcpdump: expected \"<unix time> IP|IP6 ...\", got 1.0 ARP, Request who-has "
		  "10.0.0.1");
	parse_err(LINES_TCPDUMP, "1.0 IP 10.0.0.1 > 10.0.0.2: wibble",
		  "tcpdump: unknown protocol in \"wibble\"");
	parse_err(LINES_TCPDUMP, "1.0 IP6 10.0.0.1.1 > 10.0.0.2.2: UDP, length 1",
		  "tcpdump: IP6 line with 10.0.0.1.1 > 10.0.0.2.2");
}

/* ---- flow keys ----------------------------------------------------------------------------- */

static void test_lines_flow_key_both_directions(void **state)
{
	struct rdpi_flowkey k1, k2;
	int d1;

	parse_ok(LINES_KV, KV_FWD);
	k1 = e.key;
	d1 = e.dir;
	parse_ok(LINES_KV, "routerd firewall forward accept IN=eth0 OUT=eth1 SRC=198.51.100.7 "
			   "DST=192.0.2.10 LEN=60 PROTO=TCP SPT=443 DPT=40000 SYN ACK URGP=0");
	k2 = e.key;
	assert_true(rdpi_flowkey_equal(&k1, &k2));
	assert_int_not_equal(d1, e.dir);

	/* the same flow seen by tcpdump and as JSON keys identically */
	parse_ok(LINES_TCPDUMP, "1.0 IP 198.51.100.7.443 > 192.0.2.10.40000: Flags [S.], seq 1");
	assert_true(rdpi_flowkey_equal(&k1, &e.key));
	assert_int_equal(e.dir, RDPI_FLOWKEY_DIR_HI_TO_LO);
	parse_ok(LINES_JSON, "{\"src_ip\":\"192.0.2.10\",\"dest_ip\":\"198.51.100.7\","
			     "\"ip.protocol\":6,\"src_port\":40000,\"dest_port\":443}");
	assert_true(rdpi_flowkey_equal(&k1, &e.key));
	assert_int_equal(e.dir, RDPI_FLOWKEY_DIR_LO_TO_HI);

	/* another port is another flow */
	parse_ok(LINES_TCPDUMP, "1.0 IP 198.51.100.7.443 > 192.0.2.10.40001: Flags [S.], seq 1");
	assert_false(rdpi_flowkey_equal(&k1, &e.key));

	/* v6 both directions */
	parse_ok(LINES_TCPDUMP, "1.0 IP6 2001:db8::1.5353 > 2001:db8::2.53: UDP, length 3");
	k1 = e.key;
	parse_ok(LINES_TCPDUMP, "1.0 IP6 2001:db8::2.53 > 2001:db8::1.5353: UDP, length 30");
	assert_true(rdpi_flowkey_equal(&k1, &e.key));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines_format_names),
	    cmocka_unit_test(test_lines_detect),
	    cmocka_unit_test(test_lines_auto_parses_each_format),
	    cmocka_unit_test(test_lines_blank_and_comment),
	    cmocka_unit_test(test_lines_kv_syslog_v4),
	    cmocka_unit_test(test_lines_kv_v6_and_timestamps),
	    cmocka_unit_test(test_lines_kv_foreign_prefix),
	    cmocka_unit_test(test_lines_kv_errors),
	    cmocka_unit_test(test_lines_json_columns),
	    cmocka_unit_test(test_lines_json_ulogd_keys),
	    cmocka_unit_test(test_lines_json_payload_ignored),
	    cmocka_unit_test(test_lines_json_errors),
	    cmocka_unit_test(test_lines_tcpdump_v4),
	    cmocka_unit_test(test_lines_tcpdump_v6),
	    cmocka_unit_test(test_lines_tcpdump_flags),
	    cmocka_unit_test(test_lines_tcpdump_verbose_continuation),
	    cmocka_unit_test(test_lines_tcpdump_errors),
	    cmocka_unit_test(test_lines_flow_key_both_directions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

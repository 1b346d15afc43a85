/* Tests for the conntrack observer: nf_conntrack objects built here through the pure
 * conversion and text rendering, kernel-like ctnetlink datagrams through the message walk,
 * ENOBUFS/resync and dumps through the ops seam, and, as root, real conntrack in a scratch
 * network namespace (nftables ct rules, UDP and TCP over lo, NEW/DESTROY events, a dump). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/service.h"
#include "ct.h"

static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void assert_v4(const uint8_t a[16], const char *dotted)
{
	struct in_addr in;
	assert_int_equal(inet_pton(AF_INET, dotted, &in), 1);
	assert_memory_equal(a, mapped_prefix, 12);
	assert_memory_equal(a + 12, &in, 4);
}

static void set_v4(struct nf_conntrack *ct, enum nf_conntrack_attr a, const char *dotted)
{
	struct in_addr in;
	assert_int_equal(inet_pton(AF_INET, dotted, &in), 1);
	nfct_set_attr_u32(ct, a, in.s_addr);
}

static void set_v6(struct nf_conntrack *ct, enum nf_conntrack_attr a, const char *text)
{
	struct in6_addr in6;
	assert_int_equal(inet_pton(AF_INET6, text, &in6), 1);
	nfct_set_attr(ct, a, &in6);
}

/* IPv4 TCP 192.0.2.1:40000 -> 198.51.100.2:443, id 123. */
static struct nf_conntrack *make_tcp4(void)
{
	struct nf_conntrack *ct = nfct_new();
	assert_non_null(ct);
	nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, AF_INET);
	nfct_set_attr_u8(ct, ATTR_REPL_L3PROTO, AF_INET);
	nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, IPPROTO_TCP);
	nfct_set_attr_u8(ct, ATTR_REPL_L4PROTO, IPPROTO_TCP);
	set_v4(ct, ATTR_ORIG_IPV4_SRC, "192.0.2.1");
	set_v4(ct, ATTR_ORIG_IPV4_DST, "198.51.100.2");
	set_v4(ct, ATTR_REPL_IPV4_SRC, "198.51.100.2");
	set_v4(ct, ATTR_REPL_IPV4_DST, "192.0.2.1");
	nfct_set_attr_u16(ct, ATTR_ORIG_PORT_SRC, htons(40000));
	nfct_set_attr_u16(ct, ATTR_ORIG_PORT_DST, htons(443));
	nfct_set_attr_u16(ct, ATTR_REPL_PORT_SRC, htons(443));
	nfct_set_attr_u16(ct, ATTR_REPL_PORT_DST, htons(40000));
	nfct_set_attr_u32(ct, ATTR_ID, 123);
	return ct;
}

static struct nf_conntrack *make_udp6(void)
{
	struct nf_conntrack *ct = nfct_new();
	assert_non_null(ct);
	nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, AF_INET6);
	nfct_set_attr_u8(ct, ATTR_REPL_L3PROTO, AF_INET6);
	nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, IPPROTO_UDP);
	nfct_set_attr_u8(ct, ATTR_REPL_L4PROTO, IPPROTO_UDP);
	set_v6(ct, ATTR_ORIG_IPV6_SRC, "2001:db8::1");
	set_v6(ct, ATTR_ORIG_IPV6_DST, "2001:db8:0:1::53");
	set_v6(ct, ATTR_REPL_IPV6_SRC, "2001:db8:0:1::53");
	set_v6(ct, ATTR_REPL_IPV6_DST, "2001:db8::1");
	nfct_set_attr_u16(ct, ATTR_ORIG_PORT_SRC, htons(5353));
	nfct_set_attr_u16(ct, ATTR_ORIG_PORT_DST, htons(53));
	nfct_set_attr_u16(ct, ATTR_REPL_PORT_SRC, htons(53));
	nfct_set_attr_u16(ct, ATTR_REPL_PORT_DST, htons(5353));
	nfct_set_attr_u32(ct, ATTR_STATUS, IPS_CONFIRMED);
	nfct_set_attr_u32(ct, ATTR_MARK, 0x2a);
	nfct_set_attr_u32(ct, ATTR_ID, 77);
	return ct;
}

static struct nf_conntrack *make_icmp4(void)
{
	struct nf_conntrack *ct = nfct_new();
	assert_non_null(ct);
	nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, AF_INET);
	nfct_set_attr_u8(ct, ATTR_REPL_L3PROTO, AF_INET);
	nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, IPPROTO_ICMP);
	nfct_set_attr_u8(ct, ATTR_REPL_L4PROTO, IPPROTO_ICMP);
	set_v4(ct, ATTR_ORIG_IPV4_SRC, "10.0.0.1");
	set_v4(ct, ATTR_ORIG_IPV4_DST, "10.0.0.2");
	set_v4(ct, ATTR_REPL_IPV4_SRC, "10.0.0.2");
	set_v4(ct, ATTR_REPL_IPV4_DST, "10.0.0.1");
	nfct_set_attr_u8(ct, ATTR_ICMP_TYPE, 8);
	nfct_set_attr_u8(ct, ATTR_ICMP_CODE, 0);
	nfct_set_attr_u16(ct, ATTR_ICMP_ID, htons(0x1234));
	return ct;
}

/* libnetfilter_conntrack has no setters for counters and timestamps (they set the bit and
 * drop the value): objects carrying them are built the way the kernel's would be, by parsing a
 * ctnetlink message made from ct plus counters 5/600 (orig), 4/900 (reply) and timestamps
 * 1000/2000. Frees ct. */
static struct nf_conntrack *with_kernel_attrs(struct nf_conntrack *ct, bool counters, bool tstamp);

/* ---- conversion and rendering ------------------------------------------------------------ */

static void test_ct_from_nfct_ipv4_tcp_counters(void **state)
{
	struct nf_conntrack *ct = with_kernel_attrs(make_tcp4(), true, false);
	struct ct_event e;
	char line[CT_FORMAT_MAX];

	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_DESTROY, 42, &e), 0);
	assert_int_equal(e.type, CT_DESTROY);
	assert_int_equal(e.ts_ns, 42);
	assert_int_equal(e.id, 123);
	assert_int_equal(e.l3, 4);
	assert_int_equal(e.l4proto, IPPROTO_TCP);
	assert_v4(e.orig_src, "192.0.2.1");
	assert_v4(e.orig_dst, "198.51.100.2");
	assert_v4(e.reply_src, "198.51.100.2");
	assert_v4(e.reply_dst, "192.0.2.1");
	assert_int_equal(e.orig_sport, 40000);
	assert_int_equal(e.orig_dport, 443);
	assert_int_equal(e.reply_sport, 443);
	assert_int_equal(e.reply_dport, 40000);
	assert_true(e.has_reply);
	assert_true(e.has_counters);
	assert_int_equal(e.orig_packets, 5);
	assert_int_equal(e.orig_bytes, 600);
	assert_int_equal(e.reply_packets, 4);
	assert_int_equal(e.reply_bytes, 900);
	assert_int_equal(e.start_ns, 0);
	assert_int_equal(e.stop_ns, 0);
	assert_int_equal(e.mark, 0);
	assert_int_equal(e.status, 0);
	assert_int_equal(e.tcp_state, 0);
	assert_int_equal(ct_event_format(&e, line, sizeof(line)), 0);
	assert_string_equal(line, "[DESTROY] tcp 6 src=192.0.2.1 dst=198.51.100.2 sport=40000 "
				  "dport=443 packets=5 bytes=600 src=198.51.100.2 dst=192.0.2.1 "
				  "sport=443 dport=40000 packets=4 bytes=900 id=123");

	/* an update with state and flags (timestamps: libnetfilter_conntrack has no setter for
	 * them, so they are covered through parsed messages in test_ct_parse_msgs_events) */
	nfct_set_attr_u8(ct, ATTR_TCP_STATE, TCP_CONNTRACK_ESTABLISHED);
	nfct_set_attr_u32(ct, ATTR_STATUS, IPS_CONFIRMED | IPS_SEEN_REPLY | IPS_ASSURED);
	nfct_set_attr_u32(ct, ATTR_MARK, 7);
	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_UPDATE, 43, &e), 0);
	assert_int_equal(e.type, CT_UPDATE);
	assert_int_equal(e.tcp_state, TCP_CONNTRACK_ESTABLISHED);
	assert_int_equal(e.status, IPS_CONFIRMED | IPS_SEEN_REPLY | IPS_ASSURED);
	assert_int_equal(e.mark, 7);
	assert_int_equal(ct_event_format(&e, line, sizeof(line)), 0);
	assert_string_equal(line, "[UPDATE] tcp 6 ESTABLISHED src=192.0.2.1 dst=198.51.100.2 "
				  "sport=40000 dport=443 packets=5 bytes=600 src=198.51.100.2 "
				  "dst=192.0.2.1 sport=443 dport=40000 packets=4 bytes=900 "
				  "[ASSURED] mark=7 id=123");
	nfct_destroy(ct);
}

static void test_ct_from_nfct_ipv4_tcp_no_counters(void **state)
{
	struct nf_conntrack *ct = make_tcp4();
	struct ct_event e;
	char line[CT_FORMAT_MAX];

	nfct_set_attr_u8(ct, ATTR_TCP_STATE, TCP_CONNTRACK_SYN_SENT);
	nfct_set_attr_u32(ct, ATTR_STATUS, IPS_CONFIRMED);
	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_NEW, 1, &e), 0);
	assert_int_equal(e.type, CT_NEW);
	assert_false(e.has_counters);
	assert_int_equal(e.orig_packets + e.orig_bytes + e.reply_packets + e.reply_bytes, 0);
	assert_int_equal(ct_event_format(&e, line, sizeof(line)), 0);
	assert_string_equal(line, "[NEW] tcp 6 SYN_SENT src=192.0.2.1 dst=198.51.100.2 "
				  "sport=40000 dport=443 [UNREPLIED] src=198.51.100.2 "
				  "dst=192.0.2.1 sport=443 dport=40000 id=123");
	/* a dump entry */
	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_UNKNOWN, 1, &e), 0);
	assert_int_equal(e.type, CT_DUMP);
	nfct_destroy(ct);
}

static void test_ct_from_nfct_ipv6_udp(void **state)
{
	struct nf_conntrack *ct = make_udp6();
	struct ct_event e;
	char line[CT_FORMAT_MAX];
	struct in6_addr a;

	/* a TCP state on a UDP entry is ignored */
	nfct_set_attr_u8(ct, ATTR_TCP_STATE, TCP_CONNTRACK_ESTABLISHED);
	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_NEW, 9, &e), 0);
	assert_int_equal(e.l3, 6);
	assert_int_equal(e.l4proto, IPPROTO_UDP);
	inet_pton(AF_INET6, "2001:db8::1", &a);
	assert_memory_equal(e.orig_src, &a, 16);
	assert_memory_equal(e.reply_dst, &a, 16);
	inet_pton(AF_INET6, "2001:db8:0:1::53", &a);
	assert_memory_equal(e.orig_dst, &a, 16);
	assert_memory_equal(e.reply_src, &a, 16);
	assert_int_equal(e.orig_sport, 5353);
	assert_int_equal(e.orig_dport, 53);
	assert_int_equal(e.reply_sport, 53);
	assert_int_equal(e.reply_dport, 5353);
	assert_int_equal(e.tcp_state, 0);
	assert_int_equal(e.mark, 0x2a);
	assert_int_equal(e.id, 77);
	assert_int_equal(ct_event_format(&e, line, sizeof(line)), 0);
	assert_string_equal(line, "[NEW] udp 17 src=2001:db8::1 dst=2001:db8:0:1::53 sport=5353 "
				  "dport=53 [UNREPLIED] src=2001:db8:0:1::53 dst=2001:db8::1 "
				  "sport=53 dport=5353 mark=42 id=77");

	/* with counters and timestamps, no reply tuple */
	nfct_set_attr_u32(ct, ATTR_STATUS, IPS_CONFIRMED | IPS_SEEN_REPLY);
	ct = with_kernel_attrs(ct, true, true);
	nfct_attr_unset(ct, ATTR_REPL_IPV6_SRC);
	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_DESTROY, 9, &e), 0);
	assert_false(e.has_reply);
	assert_true(e.has_counters);
	assert_int_equal(e.start_ns, 1000);
	assert_int_equal(e.stop_ns, 2000);
	assert_int_equal(ct_event_format(&e, line, sizeof(line)), 0);
	assert_string_equal(line, "[DESTROY] udp 17 src=2001:db8::1 dst=2001:db8:0:1::53 "
				  "sport=5353 dport=53 packets=5 bytes=600 mark=42 id=77");
	nfct_destroy(ct);
}

static void test_ct_from_nfct_icmp(void **state)
{
	struct nf_conntrack *ct = make_icmp4();
	struct ct_event e;
	char line[CT_FORMAT_MAX];

	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_UPDATE, 3, &e), 0);
	assert_int_equal(e.l4proto, IPPROTO_ICMP);
	assert_int_equal(e.orig_sport + e.orig_dport + e.reply_sport + e.reply_dport, 0);
	assert_int_equal(e.icmp_type, 8);
	assert_int_equal(e.icmp_code, 0);
	assert_int_equal(e.icmp_id, 0x1234);
	assert_int_equal(ct_event_format(&e, line, sizeof(line)), 0);
	assert_string_equal(line, "[UPDATE] icmp 1 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 "
				  "id=4660 src=10.0.0.2 dst=10.0.0.1");
	nfct_destroy(ct);

	/* ICMPv6, another portless protocol (GRE) */
	ct = nfct_new();
	assert_non_null(ct);
	nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, AF_INET6);
	nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, IPPROTO_ICMPV6);
	set_v6(ct, ATTR_ORIG_IPV6_SRC, "fe80::1");
	set_v6(ct, ATTR_ORIG_IPV6_DST, "ff02::1");
	nfct_set_attr_u8(ct, ATTR_ICMP_TYPE, 128);
	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_NEW, 3, &e), 0);
	assert_int_equal(e.icmp_type, 128);
	assert_int_equal(ct_event_format(&e, line, sizeof(line)), 0);
	assert_string_equal(line, "[NEW] icmpv6 58 src=fe80::1 dst=ff02::1 type=128 code=0 id=0");
	nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, IPPROTO_GRE);
	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_NEW, 3, &e), 0);
	assert_int_equal(e.icmp_type, 0);
	assert_int_equal(ct_event_format(&e, line, sizeof(line)), 0);
	assert_string_equal(line, "[NEW] gre 47 src=fe80::1 dst=ff02::1");
	nfct_destroy(ct);
}

static void test_ct_from_nfct_missing_tuple(void **state)
{
	struct nf_conntrack *ct = nfct_new();
	struct ct_event e, keep;

	memset(&keep, 0x5a, sizeof(keep));
	e = keep;
	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_NEW, 1, &e), -EINVAL); /* empty */
	nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, AF_INET);
	nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, IPPROTO_UDP);
	set_v4(ct, ATTR_ORIG_IPV4_SRC, "10.0.0.1");
	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_NEW, 1, &e), -EINVAL); /* no dst */
	set_v4(ct, ATTR_ORIG_IPV4_DST, "10.0.0.2");
	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_ERROR, 1, &e), -EINVAL); /* bad type */
	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_ALL, 1, &e), -EINVAL);
	assert_int_equal(ct_event_from_nfct(NULL, NFCT_T_NEW, 1, &e), -EINVAL);
	nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, AF_INET6); /* v6 without v6 addresses */
	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_NEW, 1, &e), -EINVAL);
	nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, 7); /* AF_BRIDGE: unsupported l3 */
	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_NEW, 1, &e), -EINVAL);
	nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, AF_INET);
	nfct_attr_unset(ct, ATTR_ORIG_L4PROTO);
	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_NEW, 1, &e), -EINVAL);
	assert_memory_equal(&e, &keep, sizeof(e)); /* untouched on error */
	nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, IPPROTO_UDP);
	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_NEW, 1, &e), 0);
	assert_false(e.has_reply);
	assert_int_equal(e.orig_sport, 0); /* port attributes absent */
	nfct_destroy(ct);
}

static void test_ct_format_nospc(void **state)
{
	struct nf_conntrack *ct = make_tcp4();
	struct ct_event e;
	char full[CT_FORMAT_MAX], buf[CT_FORMAT_MAX];

	nfct_set_attr_u32(ct, ATTR_STATUS, IPS_CONFIRMED | IPS_ASSURED);
	nfct_set_attr_u32(ct, ATTR_MARK, 0xffffffffu);
	ct = with_kernel_attrs(ct, true, false);
	assert_int_equal(ct_event_from_nfct(ct, NFCT_T_DESTROY, 1, &e), 0);
	e.orig_bytes = UINT64_MAX;
	assert_int_equal(ct_event_format(&e, full, sizeof(full)), 0);
	size_t n = strlen(full);
	for (size_t len = 0; len <= n; len++)
		assert_int_equal(ct_event_format(&e, buf, len), -ENOSPC);
	assert_int_equal(ct_event_format(&e, buf, n + 1), 0);
	assert_string_equal(buf, full);

	/* the longest line fits CT_FORMAT_MAX */
	struct ct_event big = e;
	big.l3 = 6;
	big.l4proto = IPPROTO_TCP;
	big.tcp_state = TCP_CONNTRACK_ESTABLISHED;
	memset(big.orig_src, 0xff, 16);
	memset(big.orig_dst, 0xfe, 16);
	memset(big.reply_src, 0xfd, 16);
	memset(big.reply_dst, 0xfc, 16);
	big.orig_packets = big.orig_bytes = big.reply_packets = big.reply_bytes = UINT64_MAX;
	big.id = UINT32_MAX;
	big.type = CT_UPDATE;
	assert_int_equal(ct_event_format(&big, buf, sizeof(buf)), 0);
	assert_true(strlen(buf) < CT_FORMAT_MAX);
	nfct_destroy(ct);
}

/* ---- datagram walk ---------------------------------------------------------------------- */

struct dgram {
	_Alignas(8) uint8_t buf[65536];
	size_t len;
};

static void *tail(struct dgram *d)
{
	return d->buf + d->len;
}

static struct nlattr *nest_begin(struct nlmsghdr *nlh, uint16_t type)
{
	struct nlattr *a = (struct nlattr *)((uint8_t *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));
	a->nla_type = type | NLA_F_NESTED;
	a->nla_len = NLA_HDRLEN;
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_HDRLEN;
	return a;
}

static void nest_end(struct nlmsghdr *nlh, struct nlattr *a)
{
	a->nla_len = (uint16_t)((uint8_t *)nlh + nlh->nlmsg_len - (uint8_t *)a);
}

static void put_attr(struct nlmsghdr *nlh, uint16_t type, const void *v, size_t n)
{
	struct nlattr *a = (struct nlattr *)((uint8_t *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + n);
	memcpy((uint8_t *)a + NLA_HDRLEN, v, n);
	memset((uint8_t *)a + NLA_HDRLEN + n, 0, NLA_ALIGN(n) - n);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void put_be64(struct nlmsghdr *nlh, uint16_t type, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	put_attr(nlh, type, b, 8);
}

static void put_counters(struct nlmsghdr *nlh, uint16_t type, uint64_t pkts, uint64_t bytes)
{
	struct nlattr *n = nest_begin(nlh, type);
	put_be64(nlh, CTA_COUNTERS_PACKETS, pkts);
	put_be64(nlh, CTA_COUNTERS_BYTES, bytes);
	nest_end(nlh, n);
}

/* Appends one ctnetlink message as the kernel writes it: tuples, status, mark (through
 * nfct_nlmsg_build), then counters, timestamps and id by hand. */
static void add_ct_msg(struct dgram *d, uint8_t msg, uint16_t flags, struct nf_conntrack *ct,
		       bool counters, bool tstamp)
{
	struct nlmsghdr *nlh;

	d->len = NLMSG_ALIGN(d->len);
	nlh = tail(d);
	memset(nlh, 0, 4096);
	nlh->nlmsg_len = NLMSG_HDRLEN + sizeof(struct nfgenmsg);
	nlh->nlmsg_type = (uint16_t)(NFNL_SUBSYS_CTNETLINK << 8 | msg);
	nlh->nlmsg_flags = flags;
	struct nfgenmsg *nfg = (struct nfgenmsg *)((uint8_t *)nlh + NLMSG_HDRLEN);
	nfg->nfgen_family = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
	nfg->version = NFNETLINK_V0;
	assert_int_equal(nfct_nlmsg_build(nlh, ct), 0);
	if (counters) {
		put_counters(nlh, CTA_COUNTERS_ORIG, 5, 600);
		put_counters(nlh, CTA_COUNTERS_REPLY, 4, 900);
	}
	if (tstamp) {
		struct nlattr *n = nest_begin(nlh, CTA_TIMESTAMP);
		put_be64(nlh, CTA_TIMESTAMP_START, 1000);
		put_be64(nlh, CTA_TIMESTAMP_STOP, 2000);
		nest_end(nlh, n);
	}
	uint32_t id = htonl(nfct_get_attr_u32(ct, ATTR_ID));
	put_attr(nlh, CTA_ID, &id, 4);
	d->len += nlh->nlmsg_len;
	assert_true(d->len < sizeof(d->buf) - 4096);
}

static void add_ctl(struct dgram *d, uint16_t type, int32_t err)
{
	struct nlmsghdr *nlh;

	d->len = NLMSG_ALIGN(d->len);
	nlh = tail(d);
	memset(nlh, 0, 64);
	nlh->nlmsg_type = type;
	nlh->nlmsg_len = NLMSG_HDRLEN;
	if (type == NLMSG_ERROR) {
		memcpy((uint8_t *)nlh + NLMSG_HDRLEN, &err, 4);
		nlh->nlmsg_len += 4 + NLMSG_HDRLEN; /* the echoed request header */
	}
	d->len += nlh->nlmsg_len;
}

static struct nf_conntrack *with_kernel_attrs(struct nf_conntrack *ct, bool counters, bool tstamp)
{
	static struct dgram d;
	struct nf_conntrack *out = nfct_new();

	assert_non_null(out);
	memset(&d, 0, sizeof(d));
	add_ct_msg(&d, IPCTNL_MSG_CT_NEW, 0, ct, counters, tstamp);
	assert_int_equal(nfct_nlmsg_parse((const struct nlmsghdr *)(const void *)d.buf, out), 0);
	nfct_destroy(ct);
	return out;
}

struct seen {
	size_t n;
	struct ct_event ev[64];
};

static void collect(void *arg, const struct ct_event *e)
{
	struct seen *s = arg;
	assert_true(s->n < 64);
	s->ev[s->n++] = *e;
}

static void build_sample(struct dgram *d)
{
	struct nf_conntrack *tcp = make_tcp4(), *udp = make_udp6(), *icmp = make_icmp4();

	nfct_set_attr_u8(tcp, ATTR_TCP_STATE, TCP_CONNTRACK_SYN_SENT);
	nfct_set_attr_u32(icmp, ATTR_ID, 9);
	memset(d, 0, sizeof(*d));
	add_ct_msg(d, IPCTNL_MSG_CT_NEW, NLM_F_CREATE | NLM_F_EXCL, tcp, false, false);
	add_ct_msg(d, IPCTNL_MSG_CT_NEW, 0, udp, true, false);
	add_ct_msg(d, IPCTNL_MSG_CT_DELETE, 0, tcp, true, true);
	add_ct_msg(d, IPCTNL_MSG_CT_NEW, NLM_F_CREATE, icmp, false, false);
	nfct_destroy(tcp);
	nfct_destroy(udp);
	nfct_destroy(icmp);
}

static void test_ct_parse_msgs_events(void **state)
{
	static struct dgram d;
	static struct seen s;
	struct ct_parse_result res;
	char line[CT_FORMAT_MAX];

	memset(&s, 0, sizeof(s));
	build_sample(&d);
	add_ctl(&d, NLMSG_NOOP, 0);
	assert_int_equal(ct_parse_msgs(d.buf, d.len, 77, false, collect, &s, &res), 0);
	assert_int_equal(res.events, 4);
	assert_int_equal(res.parse_errors, 0);
	assert_int_equal(res.ignored, 1);
	assert_false(res.done);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.ev[0].type, CT_NEW);
	assert_int_equal(s.ev[0].tcp_state, TCP_CONNTRACK_SYN_SENT);
	assert_false(s.ev[0].has_counters);
	assert_int_equal(s.ev[0].ts_ns, 77);
	assert_int_equal(s.ev[1].type, CT_UPDATE);
	assert_int_equal(s.ev[1].l3, 6);
	assert_true(s.ev[1].has_counters);
	assert_int_equal(s.ev[1].reply_bytes, 900);
	assert_int_equal(s.ev[1].mark, 0x2a);
	assert_int_equal(s.ev[2].type, CT_DESTROY);
	assert_int_equal(s.ev[2].start_ns, 1000);
	assert_int_equal(s.ev[2].stop_ns, 2000);
	assert_int_equal(s.ev[2].id, 123);
	assert_int_equal(ct_event_format(&s.ev[2], line, sizeof(line)), 0);
	assert_string_equal(line, "[DESTROY] tcp 6 SYN_SENT src=192.0.2.1 dst=198.51.100.2 "
				  "sport=40000 dport=443 packets=5 bytes=600 src=198.51.100.2 "
				  "dst=192.0.2.1 sport=443 dport=40000 packets=4 bytes=900 id=123");
	assert_int_equal(s.ev[3].type, CT_NEW);
	assert_int_equal(s.ev[3].icmp_id, 0x1234);
	assert_int_equal(s.ev[3].icmp_type, 8);

	/* dump mode: every entry is CT_DUMP; NLMSG_DONE ends it */
	add_ctl(&d, NLMSG_DONE, 0);
	s.n = 0;
	assert_int_equal(ct_parse_msgs(d.buf, d.len, 1, true, collect, &s, &res), 0);
	assert_int_equal(res.events, 4);
	assert_true(res.done);
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(s.ev[i].type, CT_DUMP);

	/* unaligned and unpadded copies parse the same */
	static uint8_t odd[sizeof(d.buf) + 1];
	memcpy(odd + 1, d.buf, d.len);
	s.n = 0;
	assert_int_equal(ct_parse_msgs(odd + 1, d.len, 1, false, collect, &s, &res), 0);
	assert_int_equal(res.events, 4);
	assert_int_equal(ct_parse_msgs(NULL, 0, 0, false, collect, &s, &res), 0);
	assert_int_equal(ct_parse_msgs(NULL, 1, 0, false, collect, &s, &res), -EINVAL);
}

static void test_ct_parse_msgs_errors_and_garbage(void **state)
{
	static struct dgram d;
	static struct seen s;
	struct ct_parse_result res;

	memset(&s, 0, sizeof(s));
	memset(&d, 0, sizeof(d));
	add_ctl(&d, NLMSG_ERROR, -EPERM);
	add_ctl(&d, NLMSG_ERROR, 0); /* ack */
	add_ctl(&d, NLMSG_OVERRUN, 0);
	/* a conntrack message without room for nfgenmsg */
	struct nlmsghdr *nlh = tail(&d);
	nlh->nlmsg_len = NLMSG_HDRLEN;
	nlh->nlmsg_type = NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW;
	d.len += NLMSG_HDRLEN;
	/* an expectation message and an entry without tuples: ignored / parse error */
	nlh = tail(&d);
	memset(nlh, 0, 32);
	nlh->nlmsg_len = NLMSG_HDRLEN + 4;
	nlh->nlmsg_type = NFNL_SUBSYS_CTNETLINK_EXP << 8 | IPCTNL_MSG_EXP_NEW;
	d.len += nlh->nlmsg_len;
	nlh = tail(&d);
	memset(nlh, 0, 32);
	nlh->nlmsg_len = NLMSG_HDRLEN + 4;
	nlh->nlmsg_type = NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE;
	d.len += nlh->nlmsg_len;
	assert_int_equal(ct_parse_msgs(d.buf, d.len, 0, false, collect, &s, &res), 0);
	assert_int_equal(res.nl_errors, 2);
	assert_int_equal(res.error, -EPERM);
	assert_int_equal(res.ignored, 2);
	assert_int_equal(res.parse_errors, 2);
	assert_int_equal(res.events, 0);
	/* a header cut short, a length past the end */
	assert_int_equal(ct_parse_msgs(d.buf, 10, 0, false, collect, &s, &res), 0);
	assert_int_equal(res.parse_errors, 1);
	build_sample(&d);
	assert_int_equal(ct_parse_msgs(d.buf, d.len - 5, 0, false, collect, &s, &res), 0);
	assert_int_equal(res.events, 3);
	assert_int_equal(res.parse_errors, 1);

	/* random mutations of a valid datagram never crash and never report more events than
	 * messages; exact-size heap copies so ASan sees over-reads in our code */
	uint32_t x = 2463534242u;
	for (int iter = 0; iter < 3000; iter++) {
		build_sample(&d);
		for (int k = 0; k < 1 + iter % 8; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			d.buf[x % d.len] = (uint8_t)(x >> 8);
		}
		if (iter % 7 == 0)
			for (size_t i = 0; i < d.len; i++) {
				x ^= x << 13;
				x ^= x >> 17;
				x ^= x << 5;
				d.buf[i] = (uint8_t)x;
			}
		size_t len = d.len - (iter % 5 == 0 ? x % d.len : 0);
		uint8_t *copy = malloc(len ? len : 1);
		assert_non_null(copy);
		memcpy(copy, d.buf, len);
		s.n = 0;
		assert_int_equal(ct_parse_msgs(copy, len, 0, iter & 1, collect, &s, &res), 0);
		assert_true(res.events <= 4);
		assert_int_equal(s.n, res.events);
		for (size_t i = 0; i < s.n; i++) {
			char line[CT_FORMAT_MAX];
			assert_int_equal(ct_event_format(&s.ev[i], line, sizeof(line)), 0);
		}
		free(copy);
	}
}

/* ---- observer through the ops seam ------------------------------------------------------- */

enum fake_step { FAKE_DATA, FAKE_ENOBUFS, FAKE_EBADF };

struct fake {
	int ev[2], dump[2];
	enum fake_step script[16];
	size_t nscript, pos;
	int opens[2], closes[2], sends;
	int open_rc;
	uint8_t req[64];
	size_t req_len;
};

static int fake_open(void *arg, const struct ct_opts *o, enum ct_sock_kind kind, void **ret_handle,
		     int *ret_fd)
{
	struct fake *f = arg;
	if (f->open_rc)
		return f->open_rc;
	f->opens[kind]++;
	*ret_handle = f;
	*ret_fd = kind == CT_SOCK_EVENTS ? f->ev[0] : f->dump[0];
	return 0;
}

static int fake_send(void *arg, void *handle, int fd, const void *buf, size_t len)
{
	struct fake *f = arg;
	assert_int_equal(fd, f->dump[0]);
	f->sends++;
	f->req_len = len < sizeof(f->req) ? len : sizeof(f->req);
	memcpy(f->req, buf, f->req_len);
	return 0;
}

static ssize_t fake_recv(void *arg, void *handle, int fd, void *buf, size_t len, int *ret_flags)
{
	struct fake *f = arg;
	if (fd == f->ev[0] && f->pos < f->nscript && f->script[f->pos] != FAKE_DATA) {
		return f->script[f->pos++] == FAKE_ENOBUFS ? -ENOBUFS : -EBADF;
	}
	ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (fd == f->ev[0])
		f->pos++;
	*ret_flags = 0;
	return n;
}

static void fake_close(void *arg, void *handle, int fd)
{
	struct fake *f = arg;
	f->closes[fd == f->ev[0] ? CT_SOCK_EVENTS : CT_SOCK_DUMP]++;
}

static const struct ct_ops fake_ops = {
    .open = fake_open, .send = fake_send, .recv = fake_recv, .close = fake_close};

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, f->ev), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, f->dump), 0);
}

static void fake_fini(struct fake *f)
{
	close(f->ev[0]);
	close(f->ev[1]);
	close(f->dump[0]);
	close(f->dump[1]);
}

static void test_ct_read_enobufs_resync(void **state)
{
	static struct fake f;
	static struct seen s;
	static struct dgram d;
	struct ct *c = NULL;
	bool more = false, resync = true;

	fake_init(&f);
	memset(&s, 0, sizeof(s));
	build_sample(&d); /* NEW, UPDATE, DESTROY, NEW */
	assert_int_equal(send(f.ev[1], d.buf, d.len, 0), (ssize_t)d.len);
	assert_int_equal(send(f.ev[1], d.buf, d.len, 0), (ssize_t)d.len);

	struct ct_opts o = {.events = true, .ops = &fake_ops, .ops_arg = &f, .budget = 2};
	assert_int_equal(ct_open(&o, &c), 0);
	assert_int_equal(f.opens[CT_SOCK_EVENTS], 1);
	assert_int_equal(ct_fd(c), f.ev[0]);

	/* data, no loss */
	assert_int_equal(ct_read(c, collect, &s, &more, &resync), 0);
	assert_false(resync);
	assert_true(more); /* budget 2 used by two datagrams */
	assert_int_equal(s.n, 8);
	/* ENOBUFS: counted, resync asked for, and it sticks */
	f.script[0] = FAKE_ENOBUFS;
	f.nscript = 1;
	f.pos = 0;
	assert_int_equal(ct_read(c, collect, &s, &more, &resync), 0);
	assert_true(resync);
	assert_false(more);
	assert_int_equal(ct_read(c, collect, &s, &more, &resync), 0);
	assert_true(resync);

	const struct ct_stats *st = ct_stats(c);
	assert_int_equal(rdpi_counter_get(&st->enobufs), 1);
	assert_int_equal(rdpi_counter_get(&st->events), 8);
	assert_int_equal(rdpi_counter_get(&st->new_events), 4);
	assert_int_equal(rdpi_counter_get(&st->update_events), 2);
	assert_int_equal(rdpi_counter_get(&st->destroy_events), 2);
	assert_int_equal(rdpi_counter_get(&st->resyncs), 0);

	/* the dump: two datagrams, the second ending in NLMSG_DONE */
	build_sample(&d);
	assert_int_equal(send(f.dump[1], d.buf, d.len, 0), (ssize_t)d.len);
	add_ctl(&d, NLMSG_DONE, 0);
	assert_int_equal(send(f.dump[1], d.buf, d.len, 0), (ssize_t)d.len);
	s.n = 0;
	assert_int_equal(ct_dump(c, collect, &s), 0);
	assert_int_equal(f.sends, 1);
	struct nlmsghdr req;
	memcpy(&req, f.req, sizeof(req));
	assert_int_equal(f.req_len, NLMSG_HDRLEN + sizeof(struct nfgenmsg));
	assert_int_equal(req.nlmsg_type, NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET);
	assert_int_equal(req.nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	assert_int_equal(f.req[NLMSG_HDRLEN], AF_UNSPEC);
	assert_int_equal(f.opens[CT_SOCK_DUMP], 1);
	assert_int_equal(f.closes[CT_SOCK_DUMP], 1);
	assert_int_equal(s.n, 8);
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(s.ev[i].type, CT_DUMP);
	assert_int_equal(rdpi_counter_get(&st->dump_entries), 8);
	assert_int_equal(rdpi_counter_get(&st->dumps), 1);
	assert_int_equal(rdpi_counter_get(&st->resyncs), 1);
	assert_int_equal(rdpi_counter_get(&st->events), 8); /* dump entries are not events */
	assert_int_equal(ct_read(c, collect, &s, &more, &resync), 0);
	assert_false(resync);

	/* a dump refused by the kernel returns its error and keeps nothing pending */
	memset(&d, 0, sizeof(d));
	add_ctl(&d, NLMSG_ERROR, -EPERM);
	assert_int_equal(send(f.dump[1], d.buf, d.len, 0), (ssize_t)d.len);
	assert_int_equal(ct_dump(c, collect, &s), -EPERM);
	assert_int_equal(f.closes[CT_SOCK_DUMP], 2);
	/* a silent kernel: -ETIMEDOUT (the fake's empty socket reads as the SO_RCVTIMEO) */
	assert_int_equal(ct_dump(c, collect, &s), -ETIMEDOUT);
	assert_int_equal(rdpi_counter_get(&st->dumps), 1);

	/* a fatal socket error is returned, not counted */
	f.script[0] = FAKE_EBADF;
	f.nscript = 1;
	f.pos = 0;
	assert_int_equal(ct_read(c, collect, &s, NULL, NULL), -EBADF);

	ct_close(c);
	assert_int_equal(f.closes[CT_SOCK_EVENTS], 1);
	ct_close(NULL);
	fake_fini(&f);
}

static void test_ct_open_error(void **state)
{
	static struct fake f;
	fake_init(&f);
	f.open_rc = -EPERM;
	struct ct *c = (struct ct *)&f; /* must stay untouched */
	struct ct_opts o = {.events = true, .ops = &fake_ops, .ops_arg = &f};

	assert_int_equal(ct_open(&o, &c), -EPERM);
	assert_ptr_equal(c, (struct ct *)&f);
	assert_int_equal(f.closes[0] + f.closes[1], 0);

	/* without events: no socket until a dump, and ct_read refuses */
	f.open_rc = 0;
	o.events = false;
	assert_int_equal(ct_open(&o, &c), 0);
	assert_int_equal(ct_fd(c), -1);
	assert_int_equal(f.opens[CT_SOCK_EVENTS], 0);
	assert_int_equal(ct_read(c, NULL, NULL, NULL, NULL), -EINVAL);
	ct_close(c);
	fake_fini(&f);
}

/* Real sockets without CAP_NET_ADMIN over this network namespace: a child in a fresh user
 * namespace (capabilities only there) must get -EPERM from ct_open and ct_dump. */
static void test_ct_open_unprivileged(void **state)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWUSER) != 0)
			_exit(77);
		struct ct *c = NULL;
		struct ct_opts o = {.events = true};
		int rc = ct_open(&o, &c);
		if (rc == -EPROTONOSUPPORT)
			_exit(77);
		if (rc != -EPERM)
			_exit(1);
		o.events = false;
		if (ct_open(&o, &c) != 0)
			_exit(2);
		rc = ct_dump(c, NULL, NULL);
		ct_close(c);
		_exit(rc == -EPERM ? 0 : 3);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		print_message("skip: no user namespaces or no ctnetlink\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_ct_sysctls(void **state)
{
	int a = ct_acct_enabled(), t = ct_timestamp_enabled();

	if (access("/proc/sys/net/netfilter/nf_conntrack_acct", F_OK) != 0) {
		assert_int_equal(a, -ENOENT);
		return;
	}
	assert_true(a == 0 || a == 1);
	assert_true(t == 0 || t == 1);
}

/* ---- the real kernel (root): conntrack in a scratch namespace --------------------------- */

#define K_UDP_PORT 40124
#define K_TCP_PORT 40125

struct kfix {
	char ns[64];
	bool created;
	int orig_ns;
};

static int kernel_teardown(void **state)
{
	struct kfix *k = *state;
	char cmd[160];

	if (!k)
		return 0;
	if (k->orig_ns >= 0) {
		if (setns(k->orig_ns, CLONE_NEWNET) != 0)
			perror("setns back");
		close(k->orig_ns);
	}
	if (k->created) {
		snprintf(cmd, sizeof(cmd), "ip netns del %s", k->ns);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup failed: %s\n", cmd);
	}
	free(k);
	*state = NULL;
	return 0;
}

static int kernel_setup(void **state)
{
	struct kfix *k = calloc(1, sizeof(*k));
	if (!k)
		return -1;
	k->orig_ns = -1;
	snprintf(k->ns, sizeof(k->ns), "rdpi-ct-%ld", (long)getpid());
	*state = k;
	return 0;
}

static int write_sysctl(const char *name, const char *v)
{
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/netfilter/%s", name);
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	int rc = fputs(v, f) < 0 ? -EIO : 0;
	if (fclose(f) != 0)
		rc = -errno;
	return rc;
}

static int read_sysctl_int(const char *name)
{
	char path[128];
	int v = -1;
	snprintf(path, sizeof(path), "/proc/sys/net/netfilter/%s", name);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

struct kseen {
	int udp_new, tcp_new, udp_destroy, tcp_destroy, udp_dump, foreign;
	struct ct_event udp_d, tcp_d, udp_dumped;
	char tcp_line[CT_FORMAT_MAX];
};

static bool is_loopback_v4(const uint8_t a[16])
{
	static const uint8_t lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
	return memcmp(a, lo, 16) == 0;
}

static void kernel_event(void *arg, const struct ct_event *e)
{
	struct kseen *k = arg;
	char line[CT_FORMAT_MAX];

	assert_int_equal(ct_event_format(e, line, sizeof(line)), 0);
	print_message("  %s\n", line);
	if (e->l3 != 4 || !is_loopback_v4(e->orig_src) || !is_loopback_v4(e->orig_dst)) {
		k->foreign++;
		return;
	}
	bool udp = e->l4proto == IPPROTO_UDP && e->orig_dport == K_UDP_PORT;
	bool tcp = e->l4proto == IPPROTO_TCP && e->orig_dport == K_TCP_PORT;
	if (!udp && !tcp) {
		k->foreign++;
		return;
	}
	switch (e->type) {
	case CT_NEW:
		udp ? k->udp_new++ : k->tcp_new++;
		break;
	case CT_DESTROY:
		if (udp) {
			k->udp_destroy++;
			k->udp_d = *e;
		} else {
			k->tcp_destroy++;
			k->tcp_d = *e;
			memcpy(k->tcp_line, line, sizeof(line));
		}
		break;
	case CT_DUMP:
		if (udp) {
			k->udp_dump++;
			k->udp_dumped = *e;
		}
		break;
	case CT_UPDATE:
		break;
	}
}

static void pump(struct ct *c, struct kseen *ks, const int *cond, int want, int ms)
{
	uint64_t deadline = rdpi_monotonic_ns() + (uint64_t)ms * 1000000u;
	while (*cond < want && rdpi_monotonic_ns() < deadline) {
		struct pollfd pfd = {.fd = ct_fd(c), .events = POLLIN};
		if (poll(&pfd, 1, 100) > 0) {
			bool more = true, resync = false;
			while (more)
				assert_int_equal(ct_read(c, kernel_event, ks, &more, &resync), 0);
			assert_false(resync);
		}
	}
}

static void udp_exchange(void)
{
	int srv = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int cli = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(K_UDP_PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	char buf[256];
	struct sockaddr_in from;
	socklen_t fl;

	assert_true(srv >= 0 && cli >= 0);
	assert_int_equal(bind(srv, (struct sockaddr *)&sa, sizeof(sa)), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sendto(cli, "ping-rdpi", 9, 0, (struct sockaddr *)&sa, sizeof(sa)),
				 9);
		struct pollfd p = {.fd = srv, .events = POLLIN};
		assert_int_equal(poll(&p, 1, 2000), 1);
		fl = sizeof(from);
		assert_int_equal(recvfrom(srv, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl),
				 9);
		assert_int_equal(
		    sendto(srv, "pong-rdpi-reply", 15, 0, (struct sockaddr *)&from, fl), 15);
		p.fd = cli;
		assert_int_equal(poll(&p, 1, 2000), 1);
		assert_int_equal(recv(cli, buf, sizeof(buf), 0), 15);
	}
	close(srv);
	close(cli);
}

static void tcp_exchange(void)
{
	int lst = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(K_TCP_PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;
	char buf[256];

	assert_true(lst >= 0 && cli >= 0);
	(void)setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(lst, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lst, 4), 0);
	assert_int_equal(connect(cli, (struct sockaddr *)&sa, sizeof(sa)), 0);
	struct pollfd p = {.fd = lst, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 2000), 1);
	int srv = accept4(lst, NULL, NULL, SOCK_CLOEXEC);
	assert_true(srv >= 0);
	assert_int_equal(send(cli, "GET / HTTP/1.0\r\n\r\n", 18, 0), 18);
	p.fd = srv;
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(recv(srv, buf, sizeof(buf), 0), 18);
	assert_int_equal(send(srv, "HTTP/1.0 200 OK\r\n\r\nhello", 24, 0), 24);
	p.fd = cli;
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(recv(cli, buf, sizeof(buf), 0), 24);
	close(cli);
	p.fd = srv; /* wait for the FIN so the close is seen both ways */
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(recv(srv, buf, sizeof(buf), 0), 0);
	close(srv);
	close(lst);
}

static void test_ct_kernel_netns(void **state)
{
	struct kfix *k = *state;
	char path[128], rules[1024];

	if (geteuid() != 0) {
		print_message("skip: needs root (network namespace, nftables, ctnetlink)\n");
		skip();
	}
	if (system("command -v ip >/dev/null 2>&1 && command -v nft >/dev/null 2>&1") != 0) {
		print_message("skip: ip or nft not installed\n");
		skip();
	}
	if (system("ip netns add rdpi-ct-probe-$$ 2>/dev/null && ip netns del rdpi-ct-probe-$$") !=
	    0) {
		print_message("skip: ip netns add failed (no netns support?)\n");
		skip();
	}
	snprintf(rules, sizeof(rules), "ip netns add %s", k->ns);
	assert_int_equal(system(rules), 0);
	k->created = true;
	snprintf(rules, sizeof(rules), "ip netns exec %s ip link set lo up", k->ns);
	assert_int_equal(system(rules), 0);
	snprintf(rules, sizeof(rules),
		 "ip netns exec %s nft -f - <<'EOF'\n"
		 "table inet rdpi_ct_test {\n"
		 " chain out {\n"
		 "  type filter hook output priority 0; policy accept;\n"
		 "  ct state new,established counter accept\n"
		 " }\n"
		 " chain in {\n"
		 "  type filter hook input priority 0; policy accept;\n"
		 "  ct state new,established counter accept\n"
		 " }\n"
		 "}\n"
		 "EOF\n",
		 k->ns);
	if (system(rules) != 0) {
		print_message("skip: nft could not load the ct ruleset (nftables unavailable)\n");
		skip();
	}

	k->orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(k->orig_ns >= 0);
	snprintf(path, sizeof(path), "/var/run/netns/%s", k->ns);
	int nsfd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(nsfd >= 0);
	assert_int_equal(setns(nsfd, CLONE_NEWNET), 0);
	close(nsfd);

	print_message("ct kernel: fresh netns defaults: nf_conntrack_acct=%d "
		      "nf_conntrack_timestamp=%d nf_conntrack_events=%d\n",
		      read_sysctl_int("nf_conntrack_acct"),
		      read_sysctl_int("nf_conntrack_timestamp"),
		      read_sysctl_int("nf_conntrack_events"));
	if (write_sysctl("nf_conntrack_acct", "1") != 0 ||
	    write_sysctl("nf_conntrack_timestamp", "1") != 0) {
		print_message("skip: cannot enable conntrack accounting in the namespace\n");
		skip();
	}
	assert_int_equal(ct_acct_enabled(), 1);
	assert_int_equal(ct_timestamp_enabled(), 1);

	struct ct *c = NULL;
	struct ct_opts o = {.events = true, .reliable = true};
	int rc = ct_open(&o, &c);
	if (rc < 0) {
		print_message("skip: ctnetlink unavailable: %s\n", strerror(-rc));
		skip();
	}

	static struct kseen ks;
	memset(&ks, 0, sizeof(ks));
	/* events only go to listeners that exist when the entry is created (events=2) */
	udp_exchange();
	tcp_exchange();
	pump(c, &ks, &ks.tcp_new, 1, 3000);
	pump(c, &ks, &ks.udp_new, 1, 3000);
	assert_int_equal(ks.udp_new, 1);
	assert_int_equal(ks.tcp_new, 1);

	/* the live UDP entry (30 s timeout) shows in a dump */
	assert_int_equal(ct_dump(c, kernel_event, &ks), 0);
	assert_int_equal(ks.udp_dump, 1);
	assert_true(ks.udp_dumped.has_counters);
	assert_int_equal(ks.udp_dumped.orig_packets, 3);
	assert_int_equal(ks.udp_dumped.reply_packets, 3);
	assert_true(ks.udp_dumped.start_ns > 0);
	assert_true(ks.udp_dumped.id != 0);

	/* TCP lingers in TIME_WAIT and UDP for its timeout: flush to force DESTROY events */
	struct nfct_handle *h = nfct_open(CONNTRACK, 0);
	assert_non_null(h);
	uint8_t family = AF_INET;
	assert_int_equal(nfct_query(h, NFCT_Q_FLUSH, &family), 0);
	nfct_close(h);
	pump(c, &ks, &ks.tcp_destroy, 1, 3000);
	pump(c, &ks, &ks.udp_destroy, 1, 3000);
	assert_int_equal(ks.tcp_destroy, 1);
	assert_int_equal(ks.udp_destroy, 1);

	const struct ct_event *t = &ks.tcp_d, *u = &ks.udp_d;
	assert_true(t->has_counters);
	assert_true(t->orig_packets > 0 && t->orig_bytes > 0);
	assert_true(t->reply_packets > 0 && t->reply_bytes > 0);
	assert_true(t->has_reply);
	assert_int_equal(t->reply_sport, K_TCP_PORT);
	assert_int_equal(t->reply_dport, t->orig_sport);
	assert_true(t->status & IPS_SEEN_REPLY);
	assert_true(t->start_ns > 0 && t->stop_ns >= t->start_ns);
	assert_true(t->id != 0);
	assert_int_equal(u->orig_packets, 3);
	assert_int_equal(u->reply_packets, 3);
	assert_int_equal(u->orig_bytes, 3 * (20 + 8 + 9));
	assert_int_equal(u->reply_bytes, 3 * (20 + 8 + 15));
	assert_int_equal(u->id, ks.udp_dumped.id);
	assert_int_equal(strncmp(ks.tcp_line, "[DESTROY] tcp 6 ", 16), 0);
	assert_non_null(strstr(ks.tcp_line, " src=127.0.0.1 dst=127.0.0.1 sport="));
	assert_non_null(strstr(ks.tcp_line, " dport=40125 packets="));

	const struct ct_stats *st = ct_stats(c);
	print_message("ct kernel: events %llu (new %llu update %llu destroy %llu), dump entries "
		      "%llu, enobufs %llu, parse errors %llu, foreign %d\n",
		      (unsigned long long)rdpi_counter_get(&st->events),
		      (unsigned long long)rdpi_counter_get(&st->new_events),
		      (unsigned long long)rdpi_counter_get(&st->update_events),
		      (unsigned long long)rdpi_counter_get(&st->destroy_events),
		      (unsigned long long)rdpi_counter_get(&st->dump_entries),
		      (unsigned long long)rdpi_counter_get(&st->enobufs),
		      (unsigned long long)rdpi_counter_get(&st->parse_errors), ks.foreign);
	assert_int_equal(rdpi_counter_get(&st->enobufs), 0);
	assert_int_equal(rdpi_counter_get(&st->parse_errors), 0);
	assert_int_equal(rdpi_counter_get(&st->nl_errors), 0);
	assert_int_equal(rdpi_counter_get(&st->dumps), 1);
	ct_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ct_from_nfct_ipv4_tcp_counters),
	    cmocka_unit_test(test_ct_from_nfct_ipv4_tcp_no_counters),
	    cmocka_unit_test(test_ct_from_nfct_ipv6_udp),
	    cmocka_unit_test(test_ct_from_nfct_icmp),
	    cmocka_unit_test(test_ct_from_nfct_missing_tuple),
	    cmocka_unit_test(test_ct_format_nospc),
	    cmocka_unit_test(test_ct_parse_msgs_events),
	    cmocka_unit_test(test_ct_parse_msgs_errors_and_garbage),
	    cmocka_unit_test(test_ct_read_enobufs_resync),
	    cmocka_unit_test(test_ct_open_error),
	    cmocka_unit_test(test_ct_open_unprivileged),
	    cmocka_unit_test(test_ct_sysctls),
	    cmocka_unit_test_setup_teardown(test_ct_kernel_netns, kernel_setup, kernel_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

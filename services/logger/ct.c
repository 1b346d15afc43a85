/* Conntrack observer: raw NETLINK_NETFILTER sockets for ctnetlink events and dumps, message
 * decoding through libnetfilter_conntrack (nfct_nlmsg_parse) into flat ct_events, exact loss
 * counters. The datagram walk and the object conversion are pure (fuzzed and unit-tested). */
#include "ct.h"

#include <errno.h>
#include <fcntl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>
#include <linux/netlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/packet.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define NL_HDRLEN  16 /* struct nlmsghdr */
#define NFG_HDRLEN 4  /* struct nfgenmsg */

/* ---- nf_conntrack -> ct_event ------------------------------------------------------------ */

static void put_v4(uint8_t dst[16], const void *be32)
{
	memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	memcpy(dst + 12, be32, 4);
}

static uint16_t get_port(const struct nf_conntrack *ct, enum nf_conntrack_attr a)
{
	return nfct_attr_is_set(ct, a) > 0 ? ntohs(nfct_get_attr_u16(ct, a)) : 0;
}

static uint64_t get_u64(const struct nf_conntrack *ct, enum nf_conntrack_attr a)
{
	return nfct_attr_is_set(ct, a) > 0 ? nfct_get_attr_u64(ct, a) : 0;
}

static uint32_t get_u32(const struct nf_conntrack *ct, enum nf_conntrack_attr a)
{
	return nfct_attr_is_set(ct, a) > 0 ? nfct_get_attr_u32(ct, a) : 0;
}

/* Copies both addresses of one direction; false when one is missing. */
static bool get_addrs(const struct nf_conntrack *ct, int family, bool reply, uint8_t src[16],
		      uint8_t dst[16])
{
	enum nf_conntrack_attr s, d;

	if (family == AF_INET) {
		s = reply ? ATTR_REPL_IPV4_SRC : ATTR_ORIG_IPV4_SRC;
		d = reply ? ATTR_REPL_IPV4_DST : ATTR_ORIG_IPV4_DST;
	} else {
		s = reply ? ATTR_REPL_IPV6_SRC : ATTR_ORIG_IPV6_SRC;
		d = reply ? ATTR_REPL_IPV6_DST : ATTR_ORIG_IPV6_DST;
	}
	if (nfct_attr_is_set(ct, s) <= 0 || nfct_attr_is_set(ct, d) <= 0)
		return false;
	if (family == AF_INET) {
		put_v4(src, nfct_get_attr(ct, s));
		put_v4(dst, nfct_get_attr(ct, d));
	} else {
		memcpy(src, nfct_get_attr(ct, s), 16);
		memcpy(dst, nfct_get_attr(ct, d), 16);
	}
	return true;
}

int ct_event_from_nfct(const struct nf_conntrack *ct, int type, uint64_t ts_ns,
		       struct ct_event *ret)
{
	struct ct_event e = {.ts_ns = ts_ns};

	switch (type) {
	case NFCT_T_NEW:
		e.type = CT_NEW;
		break;
	case NFCT_T_UPDATE:
		e.type = CT_UPDATE;
		break;
	case NFCT_T_DESTROY:
		e.type = CT_DESTROY;
		break;
	case NFCT_T_UNKNOWN:
		e.type = CT_DUMP;
		break;
	default:
		return -EINVAL;
	}
	if (!ct || nfct_attr_is_set(ct, ATTR_ORIG_L3PROTO) <= 0 ||
	    nfct_attr_is_set(ct, ATTR_ORIG_L4PROTO) <= 0)
		return -EINVAL;
	int family = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	e.l3 = family == AF_INET ? 4 : 6;
	e.l4proto = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
	if (!get_addrs(ct, family, false, e.orig_src, e.orig_dst))
		return -EINVAL;
	e.has_reply = get_addrs(ct, family, true, e.reply_src, e.reply_dst);

	if (rdpi_l4proto_has_ports(e.l4proto)) {
		e.orig_sport = get_port(ct, ATTR_ORIG_PORT_SRC);
		e.orig_dport = get_port(ct, ATTR_ORIG_PORT_DST);
		e.reply_sport = get_port(ct, ATTR_REPL_PORT_SRC);
		e.reply_dport = get_port(ct, ATTR_REPL_PORT_DST);
	} else if (e.l4proto == IPPROTO_ICMP || e.l4proto == IPPROTO_ICMPV6) {
		if (nfct_attr_is_set(ct, ATTR_ICMP_TYPE) > 0)
			e.icmp_type = nfct_get_attr_u8(ct, ATTR_ICMP_TYPE);
		if (nfct_attr_is_set(ct, ATTR_ICMP_CODE) > 0)
			e.icmp_code = nfct_get_attr_u8(ct, ATTR_ICMP_CODE);
		e.icmp_id = get_port(ct, ATTR_ICMP_ID); /* network order like a port */
	}
	e.has_counters = nfct_attr_is_set(ct, ATTR_ORIG_COUNTER_PACKETS) > 0 ||
			 nfct_attr_is_set(ct, ATTR_ORIG_COUNTER_BYTES) > 0 ||
			 nfct_attr_is_set(ct, ATTR_REPL_COUNTER_PACKETS) > 0 ||
			 nfct_attr_is_set(ct, ATTR_REPL_COUNTER_BYTES) > 0;
	e.orig_packets = get_u64(ct, ATTR_ORIG_COUNTER_PACKETS);
	e.orig_bytes = get_u64(ct, ATTR_ORIG_COUNTER_BYTES);
	e.reply_packets = get_u64(ct, ATTR_REPL_COUNTER_PACKETS);
	e.reply_bytes = get_u64(ct, ATTR_REPL_COUNTER_BYTES);
	e.start_ns = get_u64(ct, ATTR_TIMESTAMP_START);
	e.stop_ns = get_u64(ct, ATTR_TIMESTAMP_STOP);
	e.id = get_u32(ct, ATTR_ID);
	e.mark = get_u32(ct, ATTR_MARK);
	e.status = get_u32(ct, ATTR_STATUS);
	if (e.l4proto == IPPROTO_TCP && nfct_attr_is_set(ct, ATTR_TCP_STATE) > 0)
		e.tcp_state = nfct_get_attr_u8(ct, ATTR_TCP_STATE);
	*ret = e;
	return 0;
}

/* ---- text rendering ----------------------------------------------------------------------- */

static const char *const type_tags[] = {
    [CT_NEW] = "[NEW]",
    [CT_UPDATE] = "[UPDATE]",
    [CT_DESTROY] = "[DESTROY]",
    [CT_DUMP] = "[DUMP]",
};
_Static_assert(sizeof(type_tags) / sizeof(type_tags[0]) == CT_DUMP + 1, "one tag per ct_type");

/* Names as conntrack(8) prints them. */
static const char *const tcp_state_names[] = {
    [TCP_CONNTRACK_NONE] = "NONE",	   [TCP_CONNTRACK_SYN_SENT] = "SYN_SENT",
    [TCP_CONNTRACK_SYN_RECV] = "SYN_RECV", [TCP_CONNTRACK_ESTABLISHED] = "ESTABLISHED",
    [TCP_CONNTRACK_FIN_WAIT] = "FIN_WAIT", [TCP_CONNTRACK_CLOSE_WAIT] = "CLOSE_WAIT",
    [TCP_CONNTRACK_LAST_ACK] = "LAST_ACK", [TCP_CONNTRACK_TIME_WAIT] = "TIME_WAIT",
    [TCP_CONNTRACK_CLOSE] = "CLOSE",	   [TCP_CONNTRACK_SYN_SENT2] = "SYN_SENT2",
};
_Static_assert(sizeof(tcp_state_names) / sizeof(tcp_state_names[0]) == TCP_CONNTRACK_MAX,
	       "one name per TCP conntrack state");

struct out {
	char *buf;
	size_t len, pos;
	bool full;
};

__attribute__((format(printf, 2, 3))) static void outf(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->full)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->pos) {
		o->full = true;
		return;
	}
	o->pos += (size_t)n;
}

static void out_tuple(struct out *o, const struct ct_event *e, const uint8_t src[16],
		      const uint8_t dst[16], uint16_t sport, uint16_t dport, bool reply)
{
	char s[RDPI_ADDR_STRLEN], d[RDPI_ADDR_STRLEN];

	if (rdpi_addr_format(src, s, sizeof(s)) != 0 || rdpi_addr_format(dst, d, sizeof(d)) != 0) {
		o->full = true; /* cannot happen: RDPI_ADDR_STRLEN always suffices */
		return;
	}
	outf(o, " src=%s dst=%s", s, d);
	if (rdpi_l4proto_has_ports(e->l4proto))
		outf(o, " sport=%u dport=%u", sport, dport);
	else if (e->l4proto == IPPROTO_ICMP || e->l4proto == IPPROTO_ICMPV6) {
		if (!reply)
			outf(o, " type=%u code=%u id=%u", e->icmp_type, e->icmp_code, e->icmp_id);
	}
	if (e->has_counters)
		outf(o, " packets=%llu bytes=%llu",
		     (unsigned long long)(reply ? e->reply_packets : e->orig_packets),
		     (unsigned long long)(reply ? e->reply_bytes : e->orig_bytes));
}

int ct_event_format(const struct ct_event *e, char *buf, size_t len)
{
	struct out o = {.buf = buf, .len = len};
	char pbuf[16];

	if (!buf || len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	if ((unsigned)e->type > CT_DUMP)
		return -EINVAL;
	outf(&o, "%s %s %u", type_tags[e->type], rdpi_l4proto_name(e->l4proto, pbuf, sizeof(pbuf)),
	     e->l4proto);
	if (e->l4proto == IPPROTO_TCP && e->tcp_state && e->tcp_state < TCP_CONNTRACK_MAX)
		outf(&o, " %s", tcp_state_names[e->tcp_state]);
	out_tuple(&o, e, e->orig_src, e->orig_dst, e->orig_sport, e->orig_dport, false);
	if ((e->status & IPS_CONFIRMED) && !(e->status & IPS_SEEN_REPLY))
		outf(&o, " [UNREPLIED]");
	if (e->has_reply)
		out_tuple(&o, e, e->reply_src, e->reply_dst, e->reply_sport, e->reply_dport, true);
	if (e->status & IPS_ASSURED)
		outf(&o, " [ASSURED]");
	if (e->mark)
		outf(&o, " mark=%u", e->mark);
	if (e->id)
		outf(&o, " id=%u", e->id);
	if (o.full) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}

/* ---- datagram walk (pure) ----------------------------------------------------------------- */

static uint16_t host16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t host32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* libnetfilter_conntrack trusts the kernel: an attribute of the wrong size makes it call
 * exit() ("ctnetlink kernel ABI is broken"), an unterminated helper or secctx name is read past
 * its end, and a CTA_PROTOINFO member above CTA_PROTOINFO_MAX is written past a stack table.
 * So every message is checked against this policy first, stricter than the library: every
 * attribute must fit its parent, known members have their exact size, strings their NUL. */
enum vkind { V_ANY, V_U8, V_U16, V_U32, V_U64, V_BIN2, V_BIN16, V_STR, V_NEST };

struct vpolicy;
struct vrule {
	enum vkind kind;
	const struct vpolicy *nest; /* V_NEST: the members' policy */
};
struct vpolicy {
	uint16_t max;	       /* highest type the library knows at this level */
	bool reject_above_max; /* the library would index past its table */
	const struct vrule *rules;
};

#define POLICY(name, maxv, reject, ...)                                                            \
	static const struct vrule name##_rules[(maxv) + 1] = {__VA_ARGS__};                        \
	static const struct vpolicy name = {                                                       \
	    .max = (maxv), .reject_above_max = (reject), .rules = name##_rules}

POLICY(pol_ip, CTA_IP_MAX, false, [CTA_IP_V4_SRC] = {V_U32}, [CTA_IP_V4_DST] = {V_U32},
       [CTA_IP_V6_SRC] = {V_BIN16}, [CTA_IP_V6_DST] = {V_BIN16});
POLICY(
    pol_proto, CTA_PROTO_MAX, false, [CTA_PROTO_NUM] = {V_U8}, [CTA_PROTO_SRC_PORT] = {V_U16},
    [CTA_PROTO_DST_PORT] = {V_U16}, [CTA_PROTO_ICMP_ID] = {V_U16}, [CTA_PROTO_ICMP_TYPE] = {V_U8},
    [CTA_PROTO_ICMP_CODE] = {V_U8}, [CTA_PROTO_ICMPV6_ID] = {V_U16},
    [CTA_PROTO_ICMPV6_TYPE] = {V_U8}, [CTA_PROTO_ICMPV6_CODE] = {V_U8});
POLICY(pol_tuple, CTA_TUPLE_MAX, false, [CTA_TUPLE_IP] = {V_NEST, &pol_ip},
       [CTA_TUPLE_PROTO] = {V_NEST, &pol_proto}, [CTA_TUPLE_ZONE] = {V_U16});
POLICY(pol_tcp, CTA_PROTOINFO_TCP_MAX, false, [CTA_PROTOINFO_TCP_STATE] = {V_U8},
       [CTA_PROTOINFO_TCP_WSCALE_ORIGINAL] = {V_U8}, [CTA_PROTOINFO_TCP_WSCALE_REPLY] = {V_U8},
       [CTA_PROTOINFO_TCP_FLAGS_ORIGINAL] = {V_BIN2}, [CTA_PROTOINFO_TCP_FLAGS_REPLY] = {V_BIN2});
POLICY(pol_sctp, CTA_PROTOINFO_SCTP_MAX, false, [CTA_PROTOINFO_SCTP_STATE] = {V_U8},
       [CTA_PROTOINFO_SCTP_VTAG_ORIGINAL] = {V_U32}, [CTA_PROTOINFO_SCTP_VTAG_REPLY] = {V_U32});
POLICY(pol_dccp, CTA_PROTOINFO_DCCP_MAX, false, [CTA_PROTOINFO_DCCP_STATE] = {V_U8},
       [CTA_PROTOINFO_DCCP_ROLE] = {V_U8}, [CTA_PROTOINFO_DCCP_HANDSHAKE_SEQ] = {V_U64});
POLICY(pol_protoinfo, CTA_PROTOINFO_MAX, true, [CTA_PROTOINFO_TCP] = {V_NEST, &pol_tcp},
       [CTA_PROTOINFO_SCTP] = {V_NEST, &pol_sctp}, [CTA_PROTOINFO_DCCP] = {V_NEST, &pol_dccp});
POLICY(pol_counters, CTA_COUNTERS_MAX,
       false, [CTA_COUNTERS_PACKETS] = {V_U64}, [CTA_COUNTERS_BYTES] = {V_U64},
       [CTA_COUNTERS32_PACKETS] = {V_U32}, [CTA_COUNTERS32_BYTES] = {V_U32});
POLICY(pol_natseq, CTA_NAT_SEQ_MAX, false, [CTA_NAT_SEQ_CORRECTION_POS] = {V_U32},
       [CTA_NAT_SEQ_OFFSET_BEFORE] = {V_U32}, [CTA_NAT_SEQ_OFFSET_AFTER] = {V_U32});
POLICY(pol_help, CTA_HELP_MAX, false, [CTA_HELP_NAME] = {V_STR});
POLICY(pol_secctx, CTA_SECCTX_MAX, false, [CTA_SECCTX_NAME] = {V_STR});
POLICY(pol_tstamp, CTA_TIMESTAMP_MAX,
       false, [CTA_TIMESTAMP_START] = {V_U64}, [CTA_TIMESTAMP_STOP] = {V_U64});
POLICY(pol_synproxy, CTA_SYNPROXY_MAX, false, [CTA_SYNPROXY_ISN] = {V_U32},
       [CTA_SYNPROXY_ITS] = {V_U32}, [CTA_SYNPROXY_TSOFF] = {V_U32});
POLICY(
    pol_ct, CTA_MAX,
    false, [CTA_TUPLE_ORIG] = {V_NEST, &pol_tuple}, [CTA_TUPLE_REPLY] = {V_NEST, &pol_tuple},
    [CTA_TUPLE_MASTER] = {V_NEST, &pol_tuple}, [CTA_NAT_SEQ_ADJ_ORIG] = {V_NEST, &pol_natseq},
    [CTA_NAT_SEQ_ADJ_REPLY] = {V_NEST, &pol_natseq}, [CTA_PROTOINFO] = {V_NEST, &pol_protoinfo},
    [CTA_COUNTERS_ORIG] = {V_NEST, &pol_counters}, [CTA_COUNTERS_REPLY] = {V_NEST, &pol_counters},
    [CTA_HELP] = {V_NEST, &pol_help}, [CTA_SECCTX] = {V_NEST, &pol_secctx},
    [CTA_TIMESTAMP] = {V_NEST, &pol_tstamp}, [CTA_SYNPROXY] = {V_NEST, &pol_synproxy},
    [CTA_STATUS] = {V_U32}, [CTA_TIMEOUT] = {V_U32}, [CTA_MARK] = {V_U32}, [CTA_SECMARK] = {V_U32},
    [CTA_USE] = {V_U32}, [CTA_ID] = {V_U32}, [CTA_ZONE] = {V_U16});

static const uint16_t vkind_len[] = {
    [V_ANY] = 0,  [V_U8] = 1,	  [V_U16] = 2, [V_U32] = 4,  [V_U64] = 8,
    [V_BIN2] = 2, [V_BIN16] = 16, [V_STR] = 0, [V_NEST] = 0,
};
_Static_assert(sizeof(vkind_len) / sizeof(vkind_len[0]) == V_NEST + 1, "one size per kind");

/* Checks the attributes in a[0..len) against pol; 0 or -EINVAL. */
static int validate_attrs(const uint8_t *a, size_t len, const struct vpolicy *pol)
{
	while (len > 0) {
		if (len < NLA_HDRLEN)
			return -EINVAL;
		uint16_t alen = host16(a);
		uint16_t type = host16(a + 2) & NLA_TYPE_MASK;
		if (alen < NLA_HDRLEN || alen > len)
			return -EINVAL;
		const uint8_t *v = a + NLA_HDRLEN;
		size_t vlen = alen - NLA_HDRLEN;
		if (type > pol->max) {
			if (pol->reject_above_max)
				return -EINVAL;
		} else {
			const struct vrule *r = &pol->rules[type];
			switch (r->kind) {
			case V_ANY:
				break;
			case V_STR:
				if (vlen == 0 || memchr(v, '\0', vlen) == NULL)
					return -EINVAL;
				break;
			case V_NEST:
				if (vlen > 0 && validate_attrs(v, vlen, r->nest) != 0)
					return -EINVAL;
				break;
			default:
				if (vlen != vkind_len[r->kind])
					return -EINVAL;
				break;
			}
		}
		size_t step = NLA_ALIGN(alen);
		if (step >= len)
			break;
		a += step;
		len -= step;
	}
	return 0;
}

/* Decodes one conntrack message msg[0..mlen), mlen >= header sizes, into *ret. */
static int decode_msg(const uint8_t *msg, uint32_t mlen, size_t avail, int type, uint64_t ts_ns,
		      struct ct_event *ret)
{
	/* nfct_nlmsg_parse walks attributes up to NLMSG_ALIGN(nlmsg_len) through aligned
	 * pointers: give it an aligned, padded copy unless the message already is one. */
	_Alignas(8) uint8_t scratch[CT_MSG_MAX];
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)(const void *)msg;

	if (((uintptr_t)msg & (NLMSG_ALIGNTO - 1)) || NLMSG_ALIGN(mlen) > avail) {
		if (NLMSG_ALIGN(mlen) > sizeof(scratch))
			return -EMSGSIZE;
		memcpy(scratch, msg, mlen);
		memset(scratch + mlen, 0, NLMSG_ALIGN(mlen) - mlen);
		nlh = (const struct nlmsghdr *)(const void *)scratch;
	}
	if (validate_attrs(msg + NL_HDRLEN + NFG_HDRLEN, mlen - NL_HDRLEN - NFG_HDRLEN, &pol_ct) !=
	    0)
		return -EINVAL;
	struct nf_conntrack *ct = nfct_new();
	if (!ct)
		return -ENOMEM;
	int rc = nfct_nlmsg_parse(nlh, ct) < 0 ? -EINVAL : 0;
	if (rc == 0)
		rc = ct_event_from_nfct(ct, type, ts_ns, ret);
	nfct_destroy(ct);
	return rc;
}

int ct_parse_msgs(const uint8_t *buf, size_t len, uint64_t ts_ns, bool dump, ct_event_fn cb,
		  void *arg, struct ct_parse_result *ret)
{
	struct ct_parse_result res = {0};
	int rc = 0;

	if (!buf && len > 0)
		return -EINVAL;
	while (len > 0) {
		if (len < NL_HDRLEN) {
			res.parse_errors++;
			break;
		}
		uint32_t mlen = host32(buf);
		uint16_t type = host16(buf + 4);
		uint16_t flags = host16(buf + 6);
		if (mlen < NL_HDRLEN || mlen > len) {
			res.parse_errors++;
			break;
		}
		uint8_t subsys = (uint8_t)(type >> 8), msg = (uint8_t)(type & 0xff);
		if (type == NLMSG_ERROR) {
			int32_t err = 0;
			if (mlen < NL_HDRLEN + 4) {
				res.parse_errors++;
			} else {
				memcpy(&err, buf + NL_HDRLEN, sizeof(err));
				if (err != 0) {
					res.nl_errors++;
					res.error = err < 0 && err > -4096 ? err : -EPROTO;
				} else {
					res.ignored++;
				}
			}
		} else if (type == NLMSG_DONE) {
			res.done = true;
		} else if (type == NLMSG_OVERRUN) {
			res.nl_errors++;
		} else if (subsys == NFNL_SUBSYS_CTNETLINK &&
			   (msg == IPCTNL_MSG_CT_NEW || msg == IPCTNL_MSG_CT_DELETE)) {
			int t = dump			      ? NFCT_T_UNKNOWN
				: msg == IPCTNL_MSG_CT_DELETE ? NFCT_T_DESTROY
				: (flags & NLM_F_CREATE)      ? NFCT_T_NEW
							      : NFCT_T_UPDATE;
			struct ct_event e;
			int drc = mlen < NL_HDRLEN + NFG_HDRLEN
				      ? -EINVAL
				      : decode_msg(buf, mlen, len, t, ts_ns, &e);
			if (drc == -ENOMEM) {
				rc = -ENOMEM;
				break;
			}
			if (drc < 0) {
				res.parse_errors++;
			} else {
				res.events++;
				if (cb)
					cb(arg, &e);
			}
		} else {
			res.ignored++; /* NLMSG_NOOP, expectations, other subsystems */
		}
		size_t step = NLMSG_ALIGN(mlen);
		if (step >= len)
			break;
		buf += step;
		len -= step;
	}
	if (ret)
		*ret = res;
	return rc;
}

/* ---- raw netlink sockets ------------------------------------------------------------------ */

static int nl_open(void *arg, const struct ct_opts *o, enum ct_sock_kind kind, void **ret_handle,
		   int *ret_fd)
{
	int type = SOCK_RAW | SOCK_CLOEXEC | (kind == CT_SOCK_EVENTS ? SOCK_NONBLOCK : 0);
	int fd = socket(AF_NETLINK, type, NETLINK_NETFILTER);
	int rc = 0;

	if (fd < 0)
		return -errno;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto out;
	}
	int sz = (int)(o->sock_buf > 0x7fffffffu ? 0x7fffffffu : o->sock_buf);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz,
				 sizeof(sz)); /* capped by rmem_max */
	if (kind == CT_SOCK_DUMP) {
		struct timeval tv = {.tv_sec = CT_DUMP_TIMEOUT_MS / 1000,
				     .tv_usec = (CT_DUMP_TIMEOUT_MS % 1000) * 1000};
		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
			rc = -errno;
		goto out;
	}
	if (o->reliable) {
		int one = 1, zero = 0;
		/* failed deliveries are reported back to the kernel's event code, which keeps
		 * undelivered DESTROY events for redelivery; ENOBUFS must stay visible to us */
		if (setsockopt(fd, SOL_NETLINK, NETLINK_BROADCAST_ERROR, &one, sizeof(one)) < 0 ||
		    setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &zero, sizeof(zero)) < 0) {
			rc = -errno;
			goto out;
		}
	}
	static const unsigned groups[] = {NFNLGRP_CONNTRACK_NEW, NFNLGRP_CONNTRACK_UPDATE,
					  NFNLGRP_CONNTRACK_DESTROY};
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (o->destroy_only && groups[i] != NFNLGRP_CONNTRACK_DESTROY)
			continue;
		if (o->no_updates && groups[i] == NFNLGRP_CONNTRACK_UPDATE)
			continue;
		/* -EPERM without CAP_NET_ADMIN in the socket's network namespace */
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i],
			       sizeof(groups[i])) < 0) {
			rc = -errno;
			goto out;
		}
	}
out:
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*ret_handle = NULL;
	*ret_fd = fd;
	return 0;
}

static int nl_send(void *arg, void *handle, int fd, const void *buf, size_t len)
{
	struct sockaddr_nl to = {.nl_family = AF_NETLINK};
	ssize_t n;

	do
		n = sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static ssize_t nl_recv(void *arg, void *handle, int fd, void *buf, size_t len, int *ret_flags)
{
	struct sockaddr_nl from;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr msg = {
	    .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1};

	/* MSG_TRUNC: netlink returns the real datagram length, so truncation is measurable */
	ssize_t n = recvmsg(fd, &msg, MSG_TRUNC);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (msg.msg_namelen != sizeof(from) || from.nl_pid != 0)
		return -EPERM; /* not from the kernel */
	*ret_flags = msg.msg_flags;
	return n;
}

static void nl_close(void *arg, void *handle, int fd)
{
	if (fd >= 0)
		close(fd);
}

static const struct ct_ops nl_ops = {
    .open = nl_open, .send = nl_send, .recv = nl_recv, .close = nl_close};

/* ---- observer ---------------------------------------------------------------------------- */

struct ct {
	struct ct_opts opts;
	const struct ct_ops *ops;
	void *handle;
	int fd;
	bool resync; /* events lost since the last complete dump */
	uint32_t seq;
	uint8_t *buf; /* CT_RECV_BUF */
	struct ct_stats stats;
};

void ct_close(struct ct *c)
{
	if (!c)
		return;
	if (c->handle || c->fd >= 0)
		c->ops->close(c->opts.ops_arg, c->handle, c->fd);
	free(c->buf);
	free(c);
}

int ct_open(const struct ct_opts *opts, struct ct **ret)
{
	struct ct *c = calloc(1, sizeof(*c));
	int rc = 0;

	if (!c)
		return -ENOMEM;
	c->fd = -1;
	c->opts = *opts;
	c->ops = opts->ops ? opts->ops : &nl_ops;
	if (!c->opts.sock_buf)
		c->opts.sock_buf = CT_SOCK_BUF_DEFAULT;
	if (!c->opts.budget)
		c->opts.budget = CT_BUDGET_DEFAULT;
	c->seq = (uint32_t)time(NULL);
	c->buf = malloc(CT_RECV_BUF);
	if (!c->buf) {
		rc = -ENOMEM;
		goto out;
	}
	if (c->opts.events) {
		rc = c->ops->open(c->opts.ops_arg, &c->opts, CT_SOCK_EVENTS, &c->handle, &c->fd);
		if (rc < 0) {
			c->handle = NULL;
			c->fd = -1;
			goto out;
		}
	}
	*ret = c;
	c = NULL;
out:
	ct_close(c);
	return rc;
}

int ct_fd(const struct ct *c)
{
	return c->fd;
}

const struct ct_stats *ct_stats(const struct ct *c)
{
	return &c->stats;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct deliver_ctx {
	struct ct *c;
	ct_event_fn cb;
	void *arg;
};

static void deliver(void *arg, const struct ct_event *e)
{
	struct deliver_ctx *d = arg;
	struct ct_stats *st = &d->c->stats;

	switch (e->type) {
	case CT_NEW:
		rdpi_counter_inc(&st->new_events);
		break;
	case CT_UPDATE:
		rdpi_counter_inc(&st->update_events);
		break;
	case CT_DESTROY:
		rdpi_counter_inc(&st->destroy_events);
		break;
	case CT_DUMP:
		rdpi_counter_inc(&st->dump_entries);
		break;
	}
	if (e->type != CT_DUMP)
		rdpi_counter_inc(&st->events);
	if (d->cb)
		d->cb(d->arg, e);
}

int ct_read(struct ct *c, ct_event_fn cb, void *arg, bool *ret_more, bool *ret_resync)
{
	struct deliver_ctx d = {.c = c, .cb = cb, .arg = arg};
	bool more = true;
	int rc = 0;

	if (c->fd < 0 && !c->handle)
		return -EINVAL;
	for (uint32_t i = 0; i < c->opts.budget; i++) {
		int flags = 0;
		ssize_t n =
		    c->ops->recv(c->opts.ops_arg, c->handle, c->fd, c->buf, CT_RECV_BUF, &flags);
		if (n == -EAGAIN) {
			more = false;
			break;
		}
		if (n == -EINTR)
			continue;
		if (n == -ENOBUFS) {
			/* the kernel dropped events for us: only a dump tells the current state */
			rdpi_counter_inc(&c->stats.enobufs);
			c->resync = true;
			continue;
		}
		if (n == -EPERM) {
			rdpi_counter_inc(&c->stats.parse_errors);
			continue;
		}
		if (n < 0) {
			rc = (int)n;
			break;
		}
		size_t len = (size_t)n;
		if ((flags & MSG_TRUNC) || len > CT_RECV_BUF) {
			/* cannot happen with a 64 KiB buffer; treat the lost tail as lost events */
			rdpi_counter_inc(&c->stats.parse_errors);
			c->resync = true;
			len = len > CT_RECV_BUF ? CT_RECV_BUF : len;
		}
		struct ct_parse_result res = {0};
		int prc = ct_parse_msgs(c->buf, len, now_ns(), false, deliver, &d, &res);
		rdpi_counter_add(&c->stats.parse_errors, res.parse_errors);
		rdpi_counter_add(&c->stats.nl_errors, res.nl_errors);
		if (prc < 0) {
			c->resync = true;
			rc = prc;
			break;
		}
	}
	if (rc < 0)
		return rc;
	if (ret_more)
		*ret_more = more;
	if (ret_resync)
		*ret_resync = c->resync;
	return 0;
}

int ct_dump(struct ct *c, ct_event_fn cb, void *arg)
{
	struct deliver_ctx d = {.c = c, .cb = cb, .arg = arg};
	void *h = NULL;
	int fd = -1;
	bool resync = c->resync;
	int rc = c->ops->open(c->opts.ops_arg, &c->opts, CT_SOCK_DUMP, &h, &fd);

	if (rc < 0)
		return rc;
	struct {
		struct nlmsghdr nlh;
		struct nfgenmsg nfg;
	} req = {
	    .nlh = {.nlmsg_len = sizeof(req),
		    .nlmsg_type = NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET,
		    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		    .nlmsg_seq = ++c->seq},
	    .nfg = {.nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0}, /* both families */
	};
	rc = c->ops->send(c->opts.ops_arg, h, fd, &req, sizeof(req));
	while (rc == 0) {
		int flags = 0;
		ssize_t n = c->ops->recv(c->opts.ops_arg, h, fd, c->buf, CT_RECV_BUF, &flags);
		if (n == -EINTR)
			continue;
		if (n == -EPERM) {
			rdpi_counter_inc(&c->stats.parse_errors);
			continue;
		}
		if (n < 0) {
			/* EAGAIN: SO_RCVTIMEO ran out; ENOBUFS: the dump overran our buffer */
			rc = n == -EAGAIN ? -ETIMEDOUT : n == -ENOBUFS ? -EAGAIN : (int)n;
			break;
		}
		size_t len = (size_t)n;
		if ((flags & MSG_TRUNC) || len > CT_RECV_BUF) {
			rdpi_counter_inc(&c->stats.parse_errors);
			rc = -EMSGSIZE;
			break;
		}
		struct ct_parse_result res = {0};
		rc = ct_parse_msgs(c->buf, len, now_ns(), true, deliver, &d, &res);
		rdpi_counter_add(&c->stats.parse_errors, res.parse_errors);
		rdpi_counter_add(&c->stats.nl_errors, res.nl_errors);
		if (rc < 0)
			break;
		if (res.error) {
			rc = res.error; /* -EPERM without CAP_NET_ADMIN, ... */
			break;
		}
		if (res.done)
			break;
	}
	c->ops->close(c->opts.ops_arg, h, fd);
	if (rc < 0)
		return rc;
	rdpi_counter_inc(&c->stats.dumps);
	if (resync) {
		rdpi_counter_inc(&c->stats.resyncs);
		c->resync = false;
	}
	return 0;
}

/* ---- sysctls ------------------------------------------------------------------------------ */

static int read_sysctl(const char *name)
{
	char path[128], buf[32];
	snprintf(path, sizeof(path), "/proc/sys/net/netfilter/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	char *end;
	long v = strtol(buf, &end, 10);
	if (end == buf)
		return -EINVAL;
	return v != 0;
}

int ct_acct_enabled(void)
{
	return read_sysctl("nf_conntrack_acct");
}

int ct_timestamp_enabled(void)
{
	return read_sysctl("nf_conntrack_timestamp");
}

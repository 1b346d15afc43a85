/* Tests for the NFLOG reader: hand-built nfnetlink_log datagrams through the pure parser and
 * the gap accounting, fault injection (ENOBUFS, MSG_TRUNC) through the ops seam, and, as root,
 * the real kernel: nftables log rule in a network namespace, UDP over lo, zero loss. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/packet.h"
#include "common/service.h"
#include "nflogrd.h"

#define PREFIX "routerd firewall forward accept "

/* ---- datagram builder ------------------------------------------------------------------ */

struct dgram {
	uint8_t buf[131072];
	size_t len;
	size_t msg;
};

static void put(struct dgram *d, const void *p, size_t n)
{
	assert_true(d->len + n <= sizeof(d->buf));
	memcpy(d->buf + d->len, p, n);
	d->len += n;
}

static void pad4(struct dgram *d)
{
	static const uint8_t z[4];
	put(d, z, NLMSG_ALIGN(d->len) - d->len);
}

static void msg_begin(struct dgram *d, uint16_t type, uint8_t family, uint16_t group)
{
	struct nlmsghdr h = {.nlmsg_type = type, .nlmsg_flags = NLM_F_MULTI};
	struct nfgenmsg g = {
	    .nfgen_family = family, .version = NFNETLINK_V0, .res_id = htons(group)};
	pad4(d);
	d->msg = d->len;
	put(d, &h, sizeof(h));
	put(d, &g, sizeof(g));
}

static void msg_end(struct dgram *d)
{
	pad4(d);
	uint32_t len = (uint32_t)(d->len - d->msg);
	memcpy(d->buf + d->msg, &len, sizeof(len));
}

static void attr(struct dgram *d, uint16_t type, const void *v, size_t n)
{
	struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + n), .nla_type = type};
	put(d, &a, sizeof(a));
	put(d, v, n);
	pad4(d);
}

static void attr_be32(struct dgram *d, uint16_t type, uint32_t v)
{
	v = htonl(v);
	attr(d, type, &v, 4);
}

/* An IPv4/UDP packet 10.0.0.1:5000 -> 10.0.0.2:53 with n payload bytes of value seed+i. */
static size_t make_udp4(uint8_t *p, size_t n, uint8_t seed)
{
	size_t tot = 28 + n;
	memset(p, 0, 28);
	p[0] = 0x45;
	p[2] = (uint8_t)(tot >> 8);
	p[3] = (uint8_t)tot;
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, (uint8_t[]){10, 0, 0, 1, 10, 0, 0, 2}, 8);
	p[20] = 5000 >> 8;
	p[21] = 5000 & 0xff;
	p[23] = 53;
	p[24] = (uint8_t)((8 + n) >> 8);
	p[25] = (uint8_t)(8 + n);
	for (size_t i = 0; i < n; i++)
		p[28 + i] = (uint8_t)(seed + i);
	return tot;
}

/* Appends one packet message (attribute order as the kernel writes them). */
static void add_packet(struct dgram *d, uint32_t seq, const char *prefix, const uint8_t *l3,
		       size_t len)
{
	struct nfulnl_msg_packet_hdr ph = {.hw_protocol = htons(0x0800), .hook = 3};
	msg_begin(d, NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET, AF_INET, 7);
	attr(d, NFULA_PACKET_HDR, &ph, sizeof(ph));
	attr_be32(d, NFULA_MARK, 0x42);
	attr_be32(d, NFULA_IFINDEX_INDEV, 2);
	attr_be32(d, NFULA_IFINDEX_OUTDEV, 3);
	if (prefix)
		attr(d, NFULA_PREFIX, prefix, strlen(prefix) + 1);
	attr(d, NFULA_PAYLOAD, l3, len);
	attr_be32(d, NFULA_SEQ, seq);
	msg_end(d);
}

static void add_done(struct dgram *d)
{
	struct nlmsghdr h = {.nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = NLMSG_DONE};
	pad4(d);
	put(d, &h, sizeof(h));
}

/* Collects delivered packets (copies, since pointers die after the callback). */
struct seen {
	size_t n;
	uint32_t seq[64];
	bool has_seq[64];
	char prefix[64][NFLOGRD_PREFIX_MAX];
	uint8_t l3[64][256];
	size_t l3_len[64];
	struct nflogrd_packet last;
};

static void collect(void *arg, const struct nflogrd_packet *p)
{
	struct seen *s = arg;
	assert_true(s->n < 64);
	s->seq[s->n] = p->seq;
	s->has_seq[s->n] = p->has_seq;
	snprintf(s->prefix[s->n], NFLOGRD_PREFIX_MAX, "%s", p->prefix);
	s->l3_len[s->n] = p->l3_len;
	if (p->l3_len)
		memcpy(s->l3[s->n], p->l3, p->l3_len < 256 ? p->l3_len : 256);
	s->last = *p;
	s->last.l3 = NULL;
	s->last.prefix = NULL;
	s->n++;
}

/* ---- parser ---------------------------------------------------------------------------- */

static void test_nflogrd_parse_one_packet(void **state)
{
	static struct dgram d;
	static struct seen s;
	uint8_t l3[128];
	size_t n = make_udp4(l3, 37, 9);
	struct nflogrd_parse_result res;

	memset(&d, 0, sizeof(d));
	memset(&s, 0, sizeof(s));
	struct nfulnl_msg_packet_hdr ph = {.hw_protocol = htons(0x0800), .hook = 1};
	uint64_t tsv[2] = {0, 0};
	uint8_t *t = (uint8_t *)tsv;
	uint64_t sec = 1700000000, usec = 123456;
	for (int i = 0; i < 8; i++) {
		t[i] = (uint8_t)(sec >> (56 - 8 * i));
		t[8 + i] = (uint8_t)(usec >> (56 - 8 * i));
	}
	msg_begin(&d, NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET, AF_INET, 7);
	attr(&d, NFULA_PACKET_HDR, &ph, sizeof(ph));
	attr(&d, NFULA_TIMESTAMP, tsv, 16);
	attr_be32(&d, NFULA_IFINDEX_INDEV, 4);
	attr(&d, NFULA_PREFIX, PREFIX, sizeof(PREFIX));
	attr(&d, NFULA_PAYLOAD, l3, n);
	attr_be32(&d, NFULA_SEQ, 77);
	attr_be32(&d, NFULA_UID, 1000); /* ignored attribute */
	msg_end(&d);

	assert_int_equal(nflogrd_parse_datagram(d.buf, d.len, 5, collect, &s, &res), 0);
	assert_int_equal(res.packets, 1);
	assert_int_equal(res.parse_errors, 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.prefix[0], PREFIX);
	assert_int_equal(s.l3_len[0], n);
	assert_memory_equal(s.l3[0], l3, n);
	assert_true(s.has_seq[0]);
	assert_int_equal(s.seq[0], 77);
	assert_int_equal(s.last.ts_ns, sec * 1000000000u + usec * 1000u);
	assert_int_equal(s.last.indev, 4);
	assert_int_equal(s.last.outdev, 0);
	assert_int_equal(s.last.hw_protocol, 0x0800);
	assert_int_equal(s.last.hook, 1);
	assert_int_equal(s.last.family, AF_INET);
	assert_int_equal(s.last.group, 7);
	assert_int_equal(s.last.orig_len, n);
}

static void test_nflogrd_parse_multiple_packets(void **state)
{
	static struct dgram d;
	static struct seen s;
	uint8_t l3[3][256];
	size_t n[3];
	struct nflogrd_parse_result res;

	memset(&d, 0, sizeof(d));
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 3; i++) {
		n[i] = make_udp4(l3[i], (size_t)(1 + 50 * i), (uint8_t)i);
		add_packet(&d, (uint32_t)(10 + i), i == 1 ? NULL : PREFIX, l3[i], n[i]);
	}
	/* IPv6 header claiming 100 payload bytes, captured short (snaplen) */
	uint8_t v6[60] = {0x60};
	v6[5] = 100;
	v6[6] = 17;
	msg_begin(&d, NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET, AF_INET6, 7);
	attr(&d, NFULA_PAYLOAD, v6, sizeof(v6));
	msg_end(&d);
	add_done(&d);

	assert_int_equal(nflogrd_parse_datagram(d.buf, d.len, 99, collect, &s, &res), 0);
	assert_int_equal(res.packets, 4);
	assert_int_equal(res.parse_errors, 0);
	assert_int_equal(res.ignored, 1);
	assert_int_equal(s.n, 4);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(s.seq[i], 10 + i);
		assert_int_equal(s.l3_len[i], n[i]);
		assert_memory_equal(s.l3[i], l3[i], n[i]);
		assert_string_equal(s.prefix[i], i == 1 ? "" : PREFIX);
	}
	assert_false(s.has_seq[3]);
	assert_int_equal(s.l3_len[3], 60);
	assert_int_equal(s.last.orig_len, 140);
	assert_int_equal(s.last.family, AF_INET6);
	assert_int_equal(s.last.ts_ns, 99); /* no timestamp attribute: fallback */
}

static void test_nflogrd_parse_truncated_attributes(void **state)
{
	static struct dgram d;
	static struct seen s;
	uint8_t l3[64];
	size_t n = make_udp4(l3, 10, 0);
	struct nflogrd_parse_result res;

	memset(&d, 0, sizeof(d));
	memset(&s, 0, sizeof(s));
	add_packet(&d, 1, PREFIX, l3, n);
	/* 2: attribute longer than its message */
	msg_begin(&d, NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET, AF_INET, 7);
	attr_be32(&d, NFULA_SEQ, 2);
	struct nlattr bad = {.nla_len = 200, .nla_type = NFULA_PAYLOAD};
	put(&d, &bad, sizeof(bad));
	put(&d, l3, 8);
	msg_end(&d);
	/* 3: prefix without NUL */
	msg_begin(&d, NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET, AF_INET, 7);
	attr(&d, NFULA_PREFIX, "abcd", 4);
	msg_end(&d);
	/* 4: short fixed-size attributes */
	msg_begin(&d, NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET, AF_INET, 7);
	attr(&d, NFULA_SEQ, "ab", 2);
	msg_end(&d);
	msg_begin(&d, NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET, AF_INET, 7);
	attr(&d, NFULA_TIMESTAMP, "0123456789", 10);
	msg_end(&d);
	/* 5: attribute length below its header */
	msg_begin(&d, NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET, AF_INET, 7);
	struct nlattr tiny = {.nla_len = 2, .nla_type = NFULA_MARK};
	put(&d, &tiny, sizeof(tiny));
	msg_end(&d);
	/* 6: no room for nfgenmsg */
	struct nlmsghdr h = {.nlmsg_len = NLMSG_HDRLEN,
			     .nlmsg_type = NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET};
	put(&d, &h, sizeof(h));
	add_packet(&d, 3, PREFIX, l3, n); /* still parsed: the nlmsg lengths are sound */

	assert_int_equal(nflogrd_parse_datagram(d.buf, d.len, 0, collect, &s, &res), 0);
	assert_int_equal(res.packets, 2);
	assert_int_equal(res.parse_errors, 6);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.seq[0], 1);
	assert_int_equal(s.seq[1], 3);

	/* the same datagram cut in its last message: earlier packets survive, one error */
	memset(&s, 0, sizeof(s));
	assert_int_equal(nflogrd_parse_datagram(d.buf, d.len - 5, 0, collect, &s, &res), 0);
	assert_int_equal(res.packets, 1);
	assert_int_equal(res.parse_errors, 7);
	/* a header cut short */
	assert_int_equal(nflogrd_parse_datagram(d.buf, 10, 0, collect, &s, &res), 0);
	assert_int_equal(res.packets, 0);
	assert_int_equal(res.parse_errors, 1);
	assert_int_equal(nflogrd_parse_datagram(NULL, 0, 0, collect, &s, &res), 0);
	assert_int_equal(res.packets, 0);
	assert_int_equal(nflogrd_parse_datagram(NULL, 1, 0, collect, &s, &res), -EINVAL);
}

static void test_nflogrd_parse_control_and_garbage(void **state)
{
	static struct dgram d;
	static struct seen s;
	struct nflogrd_parse_result res;

	memset(&d, 0, sizeof(d));
	memset(&s, 0, sizeof(s));
	struct {
		struct nlmsghdr h;
		int32_t err;
		struct nlmsghdr orig;
	} e = {.h = {.nlmsg_len = sizeof(e), .nlmsg_type = NLMSG_ERROR}, .err = -ENOBUFS};
	put(&d, &e, sizeof(e));
	e.err = 0; /* an ack */
	put(&d, &e, sizeof(e));
	msg_begin(&d, NFNL_SUBSYS_QUEUE << 8, AF_INET, 0); /* another subsystem */
	msg_end(&d);
	assert_int_equal(nflogrd_parse_datagram(d.buf, d.len, 0, collect, &s, &res), 0);
	assert_int_equal(res.nl_errors, 1);
	assert_int_equal(res.ignored, 2);
	assert_int_equal(res.packets, 0);
	assert_int_equal(res.parse_errors, 0);

	/* random bytes and random mutations of a valid datagram never crash and never report
	 * more packets than messages */
	uint8_t l3[64];
	size_t n = make_udp4(l3, 20, 1);
	uint32_t x = 2463534242u;
	for (int iter = 0; iter < 2000; iter++) {
		memset(&d, 0, sizeof(d));
		add_packet(&d, (uint32_t)iter, PREFIX, l3, n);
		add_packet(&d, (uint32_t)iter + 1, PREFIX, l3, n);
		for (int k = 0; k < 1 + iter % 8; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			d.buf[x % d.len] = (uint8_t)(x >> 8);
		}
		if (iter % 3 == 0)
			for (size_t i = 0; i < d.len; i++) {
				x ^= x << 13;
				x ^= x >> 17;
				x ^= x << 5;
				d.buf[i] = (uint8_t)x;
			}
		size_t len = d.len - (iter % 5 == 0 ? x % d.len : 0);
		/* exact-size copy so ASan catches over-reads */
		uint8_t *copy = malloc(len ? len : 1);
		assert_non_null(copy);
		memcpy(copy, d.buf, len);
		s.n = 0;
		assert_int_equal(nflogrd_parse_datagram(copy, len, 0, collect, &s, &res), 0);
		assert_true(res.packets <= 2);
		assert_int_equal(s.n, res.packets);
		free(copy);
	}
}

/* ---- sequence accounting -------------------------------------------------------------- */

static void test_nflogrd_seq_gaps(void **state)
{
	struct nflogrd_seq s;
	uint32_t seqs[] = {0, 1, 2, 5, 6, 10, 11};
	uint64_t lost = 0;
	bool back = true;

	nflogrd_seq_init(&s, true);
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		lost += nflogrd_seq_account(&s, seqs[i], &back);
		assert_false(back);
	}
	assert_int_equal(lost, 2 + 3);
}

static void test_nflogrd_seq_first(void **state)
{
	struct nflogrd_seq s;

	/* a fresh instance starts at 0: a first seq of 3 means 0..2 were lost */
	nflogrd_seq_init(&s, true);
	assert_int_equal(nflogrd_seq_account(&s, 3, NULL), 3);
	assert_int_equal(nflogrd_seq_account(&s, 4, NULL), 0);
	/* joining a running instance: the first seq is the baseline */
	nflogrd_seq_init(&s, false);
	assert_int_equal(nflogrd_seq_account(&s, 100000, NULL), 0);
	assert_int_equal(nflogrd_seq_account(&s, 100002, NULL), 1);
	/* zeroed storage behaves like a non-fresh start */
	struct nflogrd_seq z = {0};
	assert_int_equal(nflogrd_seq_account(&z, 0xfffffff0u, NULL), 0);
}

static void test_nflogrd_seq_wraparound(void **state)
{
	struct nflogrd_seq s;

	nflogrd_seq_init(&s, false);
	assert_int_equal(nflogrd_seq_account(&s, 0xfffffffeu, NULL), 0);
	assert_int_equal(nflogrd_seq_account(&s, 0xffffffffu, NULL), 0);
	assert_int_equal(nflogrd_seq_account(&s, 0, NULL), 0);
	assert_int_equal(nflogrd_seq_account(&s, 1, NULL), 0);
	nflogrd_seq_init(&s, false);
	assert_int_equal(nflogrd_seq_account(&s, 0xfffffffeu, NULL), 0);
	assert_int_equal(nflogrd_seq_account(&s, 2, NULL), 3); /* ffffffff, 0, 1 */
	/* the largest gap still read as loss */
	assert_int_equal(nflogrd_seq_account(&s, 3 + 0x7fffffffu, NULL), 0x7fffffffu);
}

static void test_nflogrd_seq_backwards(void **state)
{
	struct nflogrd_seq s;
	bool back = false;

	nflogrd_seq_init(&s, true);
	assert_int_equal(nflogrd_seq_account(&s, 0, &back), 0);
	assert_int_equal(nflogrd_seq_account(&s, 1, &back), 0);
	assert_int_equal(nflogrd_seq_account(&s, 1, &back), 0); /* duplicate */
	assert_true(back);
	assert_int_equal(nflogrd_seq_account(&s, 2, &back), 0); /* resynchronised */
	assert_false(back);
}

/* ---- reader through the ops seam: a socketpair plus scripted faults ------------------------ */

enum fake_step { FAKE_DATA, FAKE_ENOBUFS, FAKE_EBADF };

struct fake {
	int sv[2];
	enum fake_step script[16];
	size_t nscript, pos;
	int opens, closes;
	int open_rc;
};

static int fake_open(void *arg, const struct nflogrd_opts *o, void **ret_handle, int *ret_fd)
{
	struct fake *f = arg;
	if (f->open_rc)
		return f->open_rc;
	f->opens++;
	*ret_handle = f;
	*ret_fd = f->sv[0];
	return 0;
}

static ssize_t fake_recv(void *arg, void *handle, int fd, void *buf, size_t len, int *ret_flags)
{
	struct fake *f = arg;
	static uint8_t scratch[262144];
	enum fake_step st = f->pos < f->nscript ? f->script[f->pos] : FAKE_DATA;

	if (st == FAKE_ENOBUFS || st == FAKE_EBADF) {
		f->pos++;
		return st == FAKE_ENOBUFS ? -ENOBUFS : -EBADF;
	}
	ssize_t n = recv(fd, scratch, sizeof(scratch), 0);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	f->pos++;
	size_t keep = (size_t)n < len ? (size_t)n : len;
	*ret_flags = (size_t)n > len ? MSG_TRUNC : 0;
	memcpy(buf, scratch, keep);
	return n;
}

static void fake_close(void *arg, void *handle, int fd)
{
	struct fake *f = arg;
	f->closes++;
}

static const struct nflogrd_ops fake_ops = {
    .open = fake_open, .recv = fake_recv, .close = fake_close};

static void send_dgram(struct fake *f, const uint32_t *seqs, size_t n)
{
	static struct dgram d;
	uint8_t l3[128];
	size_t len = make_udp4(l3, 50, 3);

	memset(&d, 0, sizeof(d));
	for (size_t i = 0; i < n; i++)
		add_packet(&d, seqs[i], PREFIX, l3, len);
	assert_int_equal(send(f->sv[1], d.buf, d.len, 0), (ssize_t)d.len);
}

static void count_packet(void *arg, const struct nflogrd_packet *p)
{
	struct seen *s = arg;
	assert_true(s->n < 64);
	s->seq[s->n++] = p->seq;
}

static void test_nflogrd_read_enobufs_and_trunc(void **state)
{
	struct fake f = {0};
	static struct seen s;
	static struct dgram big;
	static uint8_t l3[65000];
	struct nflogrd *r = NULL;

	memset(&s, 0, sizeof(s));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, f.sv), 0);
	int sz = 1 << 20;
	assert_int_equal(setsockopt(f.sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
	/* A: 0 1 2, ENOBUFS, B: 7 8 (4 lost), C: 9 and a huge 10 that does not fit the 64 KiB
	 * receive buffer (MSG_TRUNC), D: 11 (10 lost) */
	enum fake_step script[] = {FAKE_DATA, FAKE_ENOBUFS, FAKE_DATA, FAKE_DATA, FAKE_DATA};
	memcpy(f.script, script, sizeof(script));
	f.nscript = 5;
	send_dgram(&f, (uint32_t[]){0, 1, 2}, 3);
	send_dgram(&f, (uint32_t[]){7, 8}, 2);
	memset(&big, 0, sizeof(big));
	add_packet(&big, 9, PREFIX, l3, make_udp4(l3, 1500, 0));
	add_packet(&big, 10, PREFIX, l3, make_udp4(l3, 64000, 0));
	assert_true(big.len > NFLOGRD_RECV_BUF_MIN);
	assert_int_equal(send(f.sv[1], big.buf, big.len, 0), (ssize_t)big.len);
	send_dgram(&f, (uint32_t[]){11}, 1);

	struct nflogrd_opts o = {.group = 7,
				 .ops = &fake_ops,
				 .ops_arg = &f,
				 .budget = 3,
				 .recv_buf = 1024 /* raised to the 64 KiB minimum */};
	assert_int_equal(nflogrd_open(&o, &r), 0);
	assert_int_equal(f.opens, 1);
	assert_int_equal(nflogrd_fd(r), f.sv[0]);
	assert_int_equal(nflogrd_recv_buf_size(r), NFLOGRD_RECV_BUF_MIN);

	bool more = false;
	assert_int_equal(nflogrd_read(r, count_packet, &s, &more), 0);
	assert_true(more); /* budget of 3 used up: A, ENOBUFS, B */
	assert_int_equal(s.n, 5);
	assert_int_equal(nflogrd_read(r, count_packet, &s, &more), 0);
	assert_false(more);

	const struct nflogrd_stats *st = nflogrd_stats(r);
	uint32_t want[] = {0, 1, 2, 7, 8, 9, 11};
	assert_int_equal(s.n, 7);
	assert_memory_equal(s.seq, want, sizeof(want));
	assert_int_equal(rdpi_counter_get(&st->datagrams), 4);
	assert_int_equal(rdpi_counter_get(&st->packets), 7);
	assert_int_equal(rdpi_counter_get(&st->enobufs), 1);
	assert_int_equal(rdpi_counter_get(&st->truncated), 1);
	assert_int_equal(rdpi_counter_get(&st->lost), 4 + 1);
	assert_int_equal(rdpi_counter_get(&st->seq_gaps), 2);
	assert_int_equal(rdpi_counter_get(&st->parse_errors), 0);
	assert_int_equal(rdpi_counter_get(&st->no_seq), 0);

	/* a fatal socket error is returned, not counted */
	f.script[f.nscript++] = FAKE_EBADF;
	assert_int_equal(nflogrd_read(r, count_packet, &s, NULL), -EBADF);

	nflogrd_close(r);
	assert_int_equal(f.closes, 1);
	nflogrd_close(NULL);
	close(f.sv[0]);
	close(f.sv[1]);
}

static void test_nflogrd_open_error(void **state)
{
	struct fake f = {.open_rc = -EPERM};
	struct nflogrd *r = (struct nflogrd *)&f; /* must stay untouched */
	struct nflogrd_opts o = {.group = 7, .ops = &fake_ops, .ops_arg = &f};

	assert_int_equal(nflogrd_open(&o, &r), -EPERM);
	assert_ptr_equal(r, (struct nflogrd *)&f);
	assert_int_equal(f.closes, 0);
}

/* ---- the real kernel (root): nftables log rule in a scratch namespace ------------------ */

#define K_PACKETS 200
#define K_PORT	  40123
#define K_GROUP	  7

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
	snprintf(k->ns, sizeof(k->ns), "rdpi-nflog-%ld", (long)getpid());
	*state = k;
	return 0;
}

struct kseen {
	int count[K_PACKETS];
	int bad_prefix, bad_payload, foreign, bad_family, last_family;
	uint64_t no_ts;
};

static void payload_for(int i, uint8_t *buf, size_t *len)
{
	*len = 16 + (size_t)(i * 37) % 1500;
	memset(buf, 0, 16);
	snprintf((char *)buf, 16, "rdpi%05d", i);
	for (size_t j = 16; j < *len; j++)
		buf[j] = (uint8_t)(i + j);
}

static void kernel_packet(void *arg, const struct nflogrd_packet *p)
{
	struct kseen *ks = arg;
	struct rdpi_packet pk;
	uint8_t want[2048];
	size_t wlen;
	int i;

	if (p->ts_ns == 0)
		ks->no_ts++;
	if (p->family != AF_INET) {
		ks->bad_family++;
		ks->last_family = p->family;
	}
	if (rdpi_packet_parse(p->l3, p->l3_len, &pk) != 0 || pk.l4proto != 17 ||
	    pk.dport != K_PORT || pk.payload_len < 16 ||
	    sscanf((const char *)pk.payload, "rdpi%05d", &i) != 1 || i < 0 || i >= K_PACKETS) {
		ks->foreign++;
		return;
	}
	ks->count[i]++;
	if (strcmp(p->prefix, PREFIX) != 0)
		ks->bad_prefix++;
	payload_for(i, want, &wlen);
	if (pk.payload_len != wlen || memcmp(pk.payload, want, wlen) != 0 || pk.truncated ||
	    p->orig_len != p->l3_len)
		ks->bad_payload++;
}

/* Runs "ip netns <verb> <ns> [rest]" through the shell. */
static int run_ns(const char *verb, const char *ns, const char *rest)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "ip netns %s %s %s", verb, ns, rest ? rest : "");
	return system(cmd);
}

static void test_nflogrd_kernel_netns(void **state)
{
	struct kfix *k = *state;
	char path[128];

	if (geteuid() != 0) {
		print_message("skip: needs root (network namespace, nftables, nfnetlink_log)\n");
		skip();
	}
	if (system("command -v ip >/dev/null 2>&1 && command -v nft >/dev/null 2>&1") != 0) {
		print_message("skip: ip or nft not installed\n");
		skip();
	}
	if (run_ns("add", k->ns, NULL) != 0) {
		print_message("skip: ip netns add failed (no netns support?)\n");
		skip();
	}
	k->created = true;
	assert_int_equal(run_ns("exec", k->ns, "ip link set lo up"), 0);
	char rules[512];
	snprintf(rules, sizeof(rules),
		 "ip netns exec %s nft -f - <<'EOF'\n"
		 "table inet rdpi_nflog_test {\n"
		 " chain out {\n"
		 "  type filter hook output priority 0; policy accept;\n"
		 "  oifname \"lo\" udp dport %d log prefix \"%s\" group %d snaplen 2048\n"
		 " }\n"
		 "}\n"
		 "EOF\n",
		 k->ns, K_PORT, PREFIX, K_GROUP);
	if (system(rules) != 0) {
		print_message("skip: nft could not load the log ruleset (nftables unavailable)\n");
		skip();
	}

	k->orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(k->orig_ns >= 0);
	snprintf(path, sizeof(path), "/var/run/netns/%s", k->ns);
	int nsfd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(nsfd >= 0);
	assert_int_equal(setns(nsfd, CLONE_NEWNET), 0);
	close(nsfd);

	struct nflogrd *r = NULL;
	struct nflogrd_opts o = {.group = K_GROUP};
	int rc = nflogrd_open(&o, &r);
	if (rc < 0) {
		print_message("skip: nfnetlink_log unavailable: %s\n", strerror(-rc));
		skip();
	}

	int rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(rx >= 0 && tx >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(K_PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int big = 4 << 20;
	(void)setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	assert_int_equal(bind(rx, (struct sockaddr *)&sa, sizeof(sa)), 0);

	uint64_t t0 = rdpi_monotonic_ns();
	for (int i = 0; i < K_PACKETS; i++) {
		uint8_t buf[2048];
		size_t len;
		payload_for(i, buf, &len);
		assert_int_equal(sendto(tx, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)),
				 (ssize_t)len);
	}

	static struct kseen ks;
	memset(&ks, 0, sizeof(ks));
	const struct nflogrd_stats *st = nflogrd_stats(r);
	uint64_t deadline = rdpi_monotonic_ns() + 5000000000ull;
	while (rdpi_counter_get(&st->packets) < K_PACKETS && rdpi_monotonic_ns() < deadline) {
		struct pollfd pfd = {.fd = nflogrd_fd(r), .events = POLLIN};
		if (poll(&pfd, 1, 200) > 0) {
			bool more = true;
			while (more)
				assert_int_equal(nflogrd_read(r, kernel_packet, &ks, &more), 0);
		}
	}
	uint64_t t1 = rdpi_monotonic_ns();

	print_message(
	    "nflogrd kernel: %llu packets in %llu datagrams (%.1f per datagram), "
	    "%.1f ms, lost %llu, enobufs %llu, truncated %llu\n",
	    (unsigned long long)rdpi_counter_get(&st->packets),
	    (unsigned long long)rdpi_counter_get(&st->datagrams),
	    (double)rdpi_counter_get(&st->packets) /
		(double)(rdpi_counter_get(&st->datagrams) ? rdpi_counter_get(&st->datagrams) : 1),
	    (double)(t1 - t0) / 1e6, (unsigned long long)rdpi_counter_get(&st->lost),
	    (unsigned long long)rdpi_counter_get(&st->enobufs),
	    (unsigned long long)rdpi_counter_get(&st->truncated));

	for (int i = 0; i < K_PACKETS; i++)
		if (ks.count[i] != 1)
			fail_msg("packet %d seen %d times", i, ks.count[i]);
	assert_int_equal(ks.foreign, 0);
	assert_int_equal(ks.bad_prefix, 0);
	assert_int_equal(ks.bad_payload, 0);
	if (ks.bad_family)
		fail_msg("%d packets with nfgenmsg family %d", ks.bad_family, ks.last_family);
	assert_int_equal(ks.no_ts, 0);
	assert_int_equal(rdpi_counter_get(&st->packets), K_PACKETS);
	assert_int_equal(rdpi_counter_get(&st->lost), 0);
	assert_int_equal(rdpi_counter_get(&st->seq_gaps), 0);
	assert_int_equal(rdpi_counter_get(&st->seq_backwards), 0);
	assert_int_equal(rdpi_counter_get(&st->no_seq), 0);
	assert_int_equal(rdpi_counter_get(&st->enobufs), 0);
	assert_int_equal(rdpi_counter_get(&st->truncated), 0);
	assert_int_equal(rdpi_counter_get(&st->parse_errors), 0);
	assert_int_equal(rdpi_counter_get(&st->nl_errors), 0);

	close(rx);
	close(tx);
	nflogrd_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nflogrd_parse_one_packet),
	    cmocka_unit_test(test_nflogrd_parse_multiple_packets),
	    cmocka_unit_test(test_nflogrd_parse_truncated_attributes),
	    cmocka_unit_test(test_nflogrd_parse_control_and_garbage),
	    cmocka_unit_test(test_nflogrd_seq_gaps),
	    cmocka_unit_test(test_nflogrd_seq_first),
	    cmocka_unit_test(test_nflogrd_seq_wraparound),
	    cmocka_unit_test(test_nflogrd_seq_backwards),
	    cmocka_unit_test(test_nflogrd_read_enobufs_and_trunc),
	    cmocka_unit_test(test_nflogrd_open_error),
	    cmocka_unit_test_setup_teardown(test_nflogrd_kernel_netns, kernel_setup,
					    kernel_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* NFLOG reader: binds one nfnetlink_log group through libnetfilter_log, receives batched
 * datagrams into a large buffer, parses them itself (pure, fuzzed) and counts every loss. */
#include "nflogrd.h"

#include <errno.h>
#include <fcntl.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NL_HDRLEN   16 /* struct nlmsghdr */
#define NFG_HDRLEN  4  /* struct nfgenmsg */
#define ATTR_HDRLEN 4

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

/* Netlink headers are host order; attributes of nfnetlink_log are big-endian. */
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

void nflogrd_seq_init(struct nflogrd_seq *s, bool fresh)
{
	s->started = fresh;
	s->next = 0;
}

uint64_t nflogrd_seq_account(struct nflogrd_seq *s, uint32_t seq, bool *ret_backwards)
{
	bool backwards = false;
	uint64_t lost = 0;

	if (s->started) {
		uint32_t d = seq - s->next; /* modulo 2^32: wrap-around is a plain difference */
		if (d < 0x80000000u)
			lost = d;
		else
			backwards = true;
	}
	s->started = true;
	s->next = seq + 1;
	if (ret_backwards)
		*ret_backwards = backwards;
	return lost;
}

static size_t l3_orig_len(const uint8_t *l3, size_t len)
{
	if (len < 1)
		return 0;
	if ((l3[0] >> 4) == 4 && len >= 4)
		return rd16(l3 + 2);
	if ((l3[0] >> 4) == 6 && len >= 6)
		return 40 + (size_t)rd16(l3 + 4); /* jumbograms (payload length 0) read 40 */
	return 0;
}

/* Fills pkt from the attributes in a[0..len); -EINVAL on a malformed one. */
static int parse_packet_attrs(const uint8_t *a, size_t len, uint64_t fallback_ts_ns,
			      struct nflogrd_packet *pkt)
{
	pkt->ts_ns = fallback_ts_ns;
	pkt->prefix = "";
	while (len >= ATTR_HDRLEN) {
		uint16_t alen = host16(a);
		uint16_t type = host16(a + 2) & NLA_TYPE_MASK;
		if (alen < ATTR_HDRLEN || alen > len)
			return -EINVAL;
		const uint8_t *v = a + ATTR_HDRLEN;
		size_t vlen = alen - ATTR_HDRLEN;

		switch (type) {
		case NFULA_PACKET_HDR:
			if (vlen < 4)
				return -EINVAL;
			pkt->hw_protocol = rd16(v);
			pkt->hook = v[2];
			break;
		case NFULA_MARK:
		case NFULA_IFINDEX_INDEV:
		case NFULA_IFINDEX_OUTDEV:
		case NFULA_SEQ:
			if (vlen < 4)
				return -EINVAL;
			if (type == NFULA_MARK)
				pkt->mark = rd32(v);
			else if (type == NFULA_IFINDEX_INDEV)
				pkt->indev = rd32(v);
			else if (type == NFULA_IFINDEX_OUTDEV)
				pkt->outdev = rd32(v);
			else {
				pkt->seq = rd32(v);
				pkt->has_seq = true;
			}
			break;
		case NFULA_TIMESTAMP:
			if (vlen < 16)
				return -EINVAL;
			/* unsigned arithmetic: absurd values wrap instead of trapping */
			if (rd64(v) || rd64(v + 8)) /* some kernels send zeros: keep the fallback */
				pkt->ts_ns = rd64(v) * 1000000000u + rd64(v + 8) * 1000u;
			break;
		case NFULA_PREFIX:
			if (vlen == 0 || memchr(v, '\0', vlen) == NULL)
				return -EINVAL;
			pkt->prefix = (const char *)v;
			break;
		case NFULA_PAYLOAD:
			pkt->l3 = v;
			pkt->l3_len = vlen;
			break;
		default:
			break; /* uid, gid, hw header, conntrack, ...: not needed */
		}
		size_t step = NLA_ALIGN(alen);
		if (step >= len)
			break;
		a += step;
		len -= step;
	}
	pkt->orig_len = l3_orig_len(pkt->l3, pkt->l3_len);
	return 0;
}

int nflogrd_parse_datagram(const uint8_t *buf, size_t len, uint64_t fallback_ts_ns,
			   nflogrd_packet_fn cb, void *arg, struct nflogrd_parse_result *ret)
{
	struct nflogrd_parse_result res = {0};

	if (!buf && len > 0)
		return -EINVAL;
	while (len > 0) {
		if (len < NL_HDRLEN) {
			res.parse_errors++;
			break;
		}
		uint32_t mlen = host32(buf);
		uint16_t type = host16(buf + 4);
		if (mlen < NL_HDRLEN || mlen > len) {
			res.parse_errors++;
			break;
		}
		if (type == NLMSG_ERROR) {
			int32_t err = 0;
			if (mlen >= NL_HDRLEN + 4)
				memcpy(&err, buf + NL_HDRLEN, sizeof(err));
			if (mlen < NL_HDRLEN + 4)
				res.parse_errors++;
			else if (err != 0)
				res.nl_errors++;
			else
				res.ignored++;
		} else if (type == NLMSG_OVERRUN) {
			res.nl_errors++;
		} else if ((type >> 8) == NFNL_SUBSYS_ULOG && (type & 0xff) == NFULNL_MSG_PACKET) {
			struct nflogrd_packet pkt = {0};
			if (mlen < NL_HDRLEN + NFG_HDRLEN) {
				res.parse_errors++;
			} else {
				pkt.family = buf[NL_HDRLEN];
				pkt.group = rd16(buf + NL_HDRLEN + 2);
				if (parse_packet_attrs(buf + NL_HDRLEN + NFG_HDRLEN,
						       mlen - NL_HDRLEN - NFG_HDRLEN,
						       fallback_ts_ns, &pkt) != 0) {
					res.parse_errors++;
				} else {
					res.packets++;
					if (cb)
						cb(arg, &pkt);
				}
			}
		} else {
			res.ignored++; /* NLMSG_NOOP, NLMSG_DONE, other subsystems */
		}
		size_t step = NLMSG_ALIGN(mlen);
		if (step >= len)
			break;
		buf += step;
		len -= step;
	}
	if (ret)
		*ret = res;
	return 0;
}

/* ---- libnetfilter_log source ------------------------------------------------------------ */

struct nfl_source {
	struct nflog_handle *h;
	struct nflog_g_handle *gh;
};

static int errno_or(int fallback)
{
	return errno > 0 ? -errno : -fallback;
}

static void nfl_close(void *arg, void *handle, int fd)
{
	struct nfl_source *s = handle;
	if (!s)
		return;
	if (s->gh)
		nflog_unbind_group(s->gh);
	if (s->h)
		nflog_close(s->h);
	free(s);
}

static int nfl_open(void *arg, const struct nflogrd_opts *o, void **ret_handle, int *ret_fd)
{
	struct nfl_source *s = calloc(1, sizeof(*s));
	int rc = 0;

	if (!s)
		return -ENOMEM;
	errno = 0;
	s->h = nflog_open();
	if (!s->h) {
		rc = errno_or(EPROTONOSUPPORT);
		goto out;
	}
	/* No-ops on current kernels, needed on old ones; both families share the group. */
	(void)nflog_unbind_pf(s->h, AF_INET);
	(void)nflog_unbind_pf(s->h, AF_INET6);
	errno = 0;
	if (nflog_bind_pf(s->h, AF_INET) < 0 || nflog_bind_pf(s->h, AF_INET6) < 0) {
		rc = errno_or(EIO);
		goto out;
	}
	errno = 0;
	s->gh = nflog_bind_group(s->h, o->group);
	if (!s->gh) {
		rc = errno_or(EBUSY);
		goto out;
	}
	errno = 0;
	if (nflog_set_mode(s->gh, NFULNL_COPY_PACKET, o->copy_range) < 0 ||
	    nflog_set_flags(s->gh, NFULNL_CFG_F_SEQ) < 0 ||
	    nflog_set_timeout(s->gh, o->timeout) < 0 ||
	    (o->qthresh && nflog_set_qthresh(s->gh, o->qthresh) < 0) ||
	    (o->nlbufsiz && nflog_set_nlbufsiz(s->gh, o->nlbufsiz) < 0)) {
		rc = errno_or(EIO);
		goto out;
	}
	int fd = nflog_fd(s->h);
	int sz = (int)(o->sock_buf > 0x7fffffffu ? 0x7fffffffu : o->sock_buf);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz,
				 sizeof(sz)); /* capped by rmem_max */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		rc = errno_or(EIO);
		goto out;
	}
	*ret_handle = s;
	*ret_fd = fd;
	s = NULL;
out:
	nfl_close(arg, s, -1);
	return rc;
}

static ssize_t nfl_recv(void *arg, void *handle, int fd, void *buf, size_t len, int *ret_flags)
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

static const struct nflogrd_ops nfl_ops = {.open = nfl_open, .recv = nfl_recv, .close = nfl_close};

/* ---- reader ---------------------------------------------------------------------------- */

struct nflogrd {
	struct nflogrd_opts opts;
	const struct nflogrd_ops *ops;
	void *handle;
	int fd;
	uint8_t *buf;
	size_t buf_len;
	struct nflogrd_seq seq;
	struct nflogrd_stats stats;
};

void nflogrd_close(struct nflogrd *r)
{
	if (!r)
		return;
	if (r->handle || r->fd >= 0)
		r->ops->close(r->opts.ops_arg, r->handle, r->fd);
	free(r->buf);
	free(r);
}

int nflogrd_open(const struct nflogrd_opts *opts, struct nflogrd **ret)
{
	struct nflogrd *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	r->fd = -1;
	r->opts = *opts;
	r->ops = opts->ops ? opts->ops : &nfl_ops;
	if (!r->opts.copy_range)
		r->opts.copy_range = NFLOGRD_COPY_RANGE_DEFAULT;
	if (!r->opts.sock_buf)
		r->opts.sock_buf = NFLOGRD_SOCK_BUF_DEFAULT;
	if (!r->opts.recv_buf)
		r->opts.recv_buf = NFLOGRD_RECV_BUF_DEFAULT;
	if (r->opts.recv_buf < NFLOGRD_RECV_BUF_MIN)
		r->opts.recv_buf = NFLOGRD_RECV_BUF_MIN;
	if (r->opts.recv_buf < r->opts.nlbufsiz)
		r->opts.recv_buf = r->opts.nlbufsiz;
	if (!r->opts.timeout)
		r->opts.timeout = NFLOGRD_TIMEOUT_DEFAULT;
	if (!r->opts.budget)
		r->opts.budget = NFLOGRD_BUDGET_DEFAULT;
	r->buf_len = r->opts.recv_buf;
	r->buf = malloc(r->buf_len);
	if (!r->buf) {
		rc = -ENOMEM;
		goto out;
	}
	/* We bind the group, so the kernel instance is fresh: its first seq is 0. */
	nflogrd_seq_init(&r->seq, true);
	rc = r->ops->open(r->opts.ops_arg, &r->opts, &r->handle, &r->fd);
	if (rc < 0) {
		r->handle = NULL;
		r->fd = -1;
		goto out;
	}
	*ret = r;
	r = NULL;
out:
	nflogrd_close(r);
	return rc;
}

int nflogrd_fd(const struct nflogrd *r)
{
	return r->fd;
}

const struct nflogrd_stats *nflogrd_stats(const struct nflogrd *r)
{
	return &r->stats;
}

size_t nflogrd_recv_buf_size(const struct nflogrd *r)
{
	return r->buf_len;
}

struct deliver_ctx {
	struct nflogrd *r;
	nflogrd_packet_fn cb;
	void *arg;
};

static void deliver(void *arg, const struct nflogrd_packet *pkt)
{
	struct deliver_ctx *c = arg;
	struct nflogrd_stats *st = &c->r->stats;

	if (pkt->has_seq) {
		bool back = false;
		uint64_t lost = nflogrd_seq_account(&c->r->seq, pkt->seq, &back);
		if (lost) {
			rdpi_counter_add(&st->lost, lost);
			rdpi_counter_inc(&st->seq_gaps);
		}
		if (back)
			rdpi_counter_inc(&st->seq_backwards);
	} else {
		rdpi_counter_inc(&st->no_seq);
	}
	rdpi_counter_inc(&st->packets);
	if (c->cb)
		c->cb(c->arg, pkt);
}

int nflogrd_read(struct nflogrd *r, nflogrd_packet_fn cb, void *arg, bool *ret_more)
{
	struct deliver_ctx ctx = {.r = r, .cb = cb, .arg = arg};
	bool more = true;

	for (uint32_t i = 0; i < r->opts.budget; i++) {
		int flags = 0;
		ssize_t n =
		    r->ops->recv(r->opts.ops_arg, r->handle, r->fd, r->buf, r->buf_len, &flags);
		if (n == -EAGAIN) {
			more = false;
			break;
		}
		if (n == -EINTR)
			continue;
		if (n == -ENOBUFS) {
			/* the kernel dropped messages; the next seq tells how many */
			rdpi_counter_inc(&r->stats.enobufs);
			continue;
		}
		if (n == -EPERM) {
			rdpi_counter_inc(&r->stats.parse_errors);
			continue;
		}
		if (n < 0)
			return (int)n;
		rdpi_counter_inc(&r->stats.datagrams);
		size_t len = (size_t)n;
		bool trunc = (flags & MSG_TRUNC) || len > r->buf_len;
		if (trunc) {
			rdpi_counter_inc(&r->stats.truncated);
			len = r->buf_len < len ? r->buf_len : len;
		}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		struct nflogrd_parse_result res;
		nflogrd_parse_datagram(r->buf, len, now, deliver, &ctx, &res);
		/* the message cut by truncation is counted as truncated, its packets by the seq gap
		 */
		if (!trunc)
			rdpi_counter_add(&r->stats.parse_errors, res.parse_errors);
		rdpi_counter_add(&r->stats.nl_errors, res.nl_errors);
	}
	if (ret_more)
		*ret_more = more;
	return 0;
}

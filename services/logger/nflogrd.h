/* NFLOG reader: one nfnetlink_log group in copy-packet mode with sequence numbers, drained
 * non-blocking from the logger's epoll loop; first stage of the logger pipeline (packets go on to
 * the hint/candidate/store modules). The datagram parser and the loss accounting are pure. */
#ifndef RDPI_SERVICES_LOGGER_NFLOGRD_H
#define RDPI_SERVICES_LOGGER_NFLOGRD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/counters.h"

#define NFLOGRD_COPY_RANGE_DEFAULT 2048
/* The kernel batches many packets per datagram: a smaller buffer truncates silently. */
#define NFLOGRD_RECV_BUF_MIN	 65536
#define NFLOGRD_RECV_BUF_DEFAULT 262144
#define NFLOGRD_SOCK_BUF_DEFAULT (8 * 1024 * 1024)
#define NFLOGRD_TIMEOUT_DEFAULT	 10 /* 1/100 s: flush a partial batch after 100 ms */
#define NFLOGRD_BUDGET_DEFAULT	 64 /* datagrams per nflogrd_read() call */
/* Room for any kernel prefix, NUL included (nft allows 127 characters); the parser passes
 * what the kernel sent without cutting it. */
#define NFLOGRD_PREFIX_MAX 128

/* One logged packet. Pointers point into the reader's receive buffer (or the buffer given to
 * nflogrd_parse_datagram()) and are valid only during the callback. */
struct nflogrd_packet {
	uint64_t ts_ns;	      /* kernel timestamp (unix ns) if sent, else receive time */
	const char *prefix;   /* NUL-terminated, "" when absent */
	uint32_t indev;	      /* ifindex, 0 when absent */
	uint32_t outdev;      /* ifindex, 0 when absent */
	uint32_t mark;	      /* nfmark, 0 when absent */
	uint16_t hw_protocol; /* ethertype, host order (0x0800 IPv4, 0x86dd IPv6), 0 when absent */
	uint8_t hook;	      /* netfilter hook number */
	uint8_t family;	      /* nfgenmsg family: AF_INET, AF_INET6, NFPROTO_BRIDGE, ... */
	uint16_t group;	      /* NFLOG group (nfgenmsg res_id) */
	bool has_seq;
	uint32_t seq; /* instance-local sequence number (NFULNL_CFG_F_SEQ) */
	const uint8_t *l3;
	size_t l3_len;	 /* captured bytes, <= copy range */
	size_t orig_len; /* length from the IPv4/IPv6 header, 0 when unknown */
};

typedef void (*nflogrd_packet_fn)(void *arg, const struct nflogrd_packet *pkt);

/* Sequence gap accounting for one group. Caller storage; zero it or use nflogrd_seq_init(). */
struct nflogrd_seq {
	bool started;
	uint32_t next; /* expected next seq once started */
};

/* fresh: the group instance was created by us, so the first seq must be 0 and anything before
 * the first observed seq counts as lost; otherwise the first observed seq is the baseline. */
void nflogrd_seq_init(struct nflogrd_seq *s, bool fresh);

/* Accounts one observed seq: returns how many packets were lost just before it (handles u32
 * wrap-around). A seq behind the expected one (more than 2^31 back modulo 2^32) is not loss:
 * it resynchronises, returns 0 and sets *ret_backwards (may be NULL) to true. */
uint64_t nflogrd_seq_account(struct nflogrd_seq *s, uint32_t seq, bool *ret_backwards);

/* Result of parsing one datagram. */
struct nflogrd_parse_result {
	uint64_t packets;      /* callbacks made */
	uint64_t parse_errors; /* malformed netlink/nfnetlink messages skipped or stopped at */
	uint64_t nl_errors;    /* NLMSG_ERROR messages with a non-zero error */
	uint64_t ignored; /* well-formed non-packet messages (acks, NLMSG_DONE, other subsys) */
};

/* Parses one nfnetlink datagram buf[0..len) that may hold several netlink messages and calls
 * cb for every NFULNL_MSG_PACKET message. Never reads past len. fallback_ts_ns is used when the
 * kernel sent no timestamp. A malformed attribute makes that message a parse error (skipped when
 * its nlmsg length is sound); a malformed netlink header stops the walk (the rest is counted as
 * one parse error). Packets without a payload attribute are delivered with l3_len 0. Returns 0;
 * -EINVAL when buf is NULL with len > 0. */
int nflogrd_parse_datagram(const uint8_t *buf, size_t len, uint64_t fallback_ts_ns,
			   nflogrd_packet_fn cb, void *arg, struct nflogrd_parse_result *ret);

/* Socket seam (ops table). The default uses libnetfilter_log; tests inject faults. */
struct nflogrd_opts;
struct nflogrd_ops {
	/* Opens and configures the source; returns 0 and a non-blocking fd plus an opaque
	 * handle, or a negative errno. */
	int (*open)(void *arg, const struct nflogrd_opts *opts, void **ret_handle, int *ret_fd);
	/* recvmsg(2)-like: bytes received (the full datagram length when it did not fit: then
	 * *ret_flags has MSG_TRUNC), or a negative errno (-EAGAIN when empty, -ENOBUFS when the
	 * kernel dropped messages). */
	ssize_t (*recv)(void *arg, void *handle, int fd, void *buf, size_t len, int *ret_flags);
	void (*close)(void *arg, void *handle, int fd);
};

struct nflogrd_opts {
	uint16_t group;	     /* NFLOG group, 0..65535 (the daemon rejects 0 earlier) */
	uint32_t copy_range; /* 0 -> NFLOGRD_COPY_RANGE_DEFAULT */
	uint32_t sock_buf;   /* SO_RCVBUFFORCE (fallback SO_RCVBUF); 0 -> default */
	uint32_t recv_buf;   /* userspace buffer; 0 -> default; raised to NFLOGRD_RECV_BUF_MIN
			      * and to nlbufsiz */
	uint32_t nlbufsiz;   /* kernel batch size; 0 keeps the kernel default */
	uint32_t timeout;    /* 1/100 s; 0 -> NFLOGRD_TIMEOUT_DEFAULT */
	uint32_t qthresh;    /* packets per batch; 0 keeps the kernel default */
	uint32_t budget;     /* datagrams per nflogrd_read(); 0 -> NFLOGRD_BUDGET_DEFAULT */
	const struct nflogrd_ops *ops; /* NULL: libnetfilter_log */
	void *ops_arg;
};

/* Exact counters, updated lock-free by the reader thread; register them with rdpi_counters. */
struct nflogrd_stats {
	struct rdpi_counter datagrams;	   /* datagrams received */
	struct rdpi_counter packets;	   /* packets delivered to the callback */
	struct rdpi_counter lost;	   /* packets lost, from sequence gaps */
	struct rdpi_counter seq_gaps;	   /* gap events */
	struct rdpi_counter seq_backwards; /* seq went backwards (resync) */
	struct rdpi_counter enobufs;	   /* ENOBUFS from recv: the kernel dropped messages */
	struct rdpi_counter truncated; /* MSG_TRUNC datagrams: recv buffer too small (an error) */
	struct rdpi_counter parse_errors; /* malformed messages */
	struct rdpi_counter nl_errors;	  /* NLMSG_ERROR from the kernel */
	struct rdpi_counter no_seq;	  /* packets without a seq attribute */
};

struct nflogrd;

/* Opens and binds the group (AF_INET and AF_INET6, copy packet, NFULNL_CFG_F_SEQ, timeout,
 * qthresh, socket buffer). opts is copied. Negative errno on failure (-EPERM without
 * CAP_NET_ADMIN, -EBUSY when another listener holds the group). */
int nflogrd_open(const struct nflogrd_opts *opts, struct nflogrd **ret);
/* Unbinds and frees; NULL is a no-op. */
void nflogrd_close(struct nflogrd *r);

/* Non-blocking fd to watch for EPOLLIN; owned by the reader. */
int nflogrd_fd(const struct nflogrd *r);

/* Reads up to the budget of datagrams (stops at EAGAIN), calls cb once per packet and updates
 * the counters. ENOBUFS and MSG_TRUNC are counted and reading goes on. Returns 0, or a negative
 * errno for a fatal socket error. Call it again while *ret_more (may be NULL) is true. */
int nflogrd_read(struct nflogrd *r, nflogrd_packet_fn cb, void *arg, bool *ret_more);

/* Counters of this reader, valid until nflogrd_close(). */
const struct nflogrd_stats *nflogrd_stats(const struct nflogrd *r);

/* Size in bytes of the userspace receive buffer actually used. */
size_t nflogrd_recv_buf_size(const struct nflogrd *r);

#endif

/* Conntrack observer: ctnetlink NEW/UPDATE/DESTROY events and table dumps decoded through
 * libnetfilter_conntrack into flat ct_events; feeds expired_flows and traffic-flows.db in the
 * logger. Decoding (message bytes -> nf_conntrack -> ct_event) is pure and separate from the
 * sockets, which sit behind an ops seam for fault injection. */
#ifndef RDPI_SERVICES_LOGGER_CT_H
#define RDPI_SERVICES_LOGGER_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/counters.h"

struct nf_conntrack;

#define CT_SOCK_BUF_DEFAULT (8 * 1024 * 1024)
#define CT_RECV_BUF	    65536 /* one netlink datagram; the kernel never sends more */
#define CT_BUDGET_DEFAULT   64	  /* datagrams per ct_read() call */
#define CT_DUMP_TIMEOUT_MS  5000  /* bound on a silent kernel during ct_dump() */
/* Longest single message the pure parser copies for alignment (conntrack messages are
 * ~200-600 bytes; anything above this is counted as a parse error). */
#define CT_MSG_MAX 16384
/* Room for any ct_event_format() output, NUL included. */
#define CT_FORMAT_MAX 512

enum ct_type { CT_NEW, CT_UPDATE, CT_DESTROY, CT_DUMP };

/* One conntrack entry as seen in an event or a dump. Addresses are 16 bytes, IPv4 stored
 * IPv4-mapped (common/packet.h). Plain data: copy it freely. */
struct ct_event {
	enum ct_type type;
	uint64_t ts_ns; /* unix ns: when we received it */
	uint32_t id;	/* conntrack id (ATTR_ID), 0 if absent */
	uint64_t start_ns,
	    stop_ns; /* ATTR_TIMESTAMP_START/STOP (nf_conntrack_timestamp=1), else 0 */
	uint8_t l3;  /* 4 or 6 */
	uint8_t l4proto;
	uint8_t orig_src[16], orig_dst[16], reply_src[16], reply_dst[16];
	uint16_t orig_sport, orig_dport, reply_sport, reply_dport; /* host order; 0 if portless */
	bool has_reply;	   /* reply tuple present (always, from the kernel) */
	uint8_t icmp_type; /* ICMP/ICMPv6 orig tuple (type, code, id host order), else 0 */
	uint8_t icmp_code;
	uint16_t icmp_id;
	bool has_counters; /* accounting attrs present (nf_conntrack_acct=1 when created) */
	uint64_t orig_packets, orig_bytes, reply_packets, reply_bytes;
	uint32_t mark;
	uint8_t tcp_state; /* TCP_CONNTRACK_* when the kernel sent protoinfo, else 0 */
	uint32_t status;   /* IPS_* bits */
};

typedef void (*ct_event_fn)(void *arg, const struct ct_event *e);

/* Pure: fills *ret from a libnetfilter_conntrack object. type is an enum
 * nf_conntrack_msg_type (an int here: C cannot forward-declare enums, and this header does not
 * pull in the library): NFCT_T_NEW, NFCT_T_UPDATE, NFCT_T_DESTROY, or NFCT_T_UNKNOWN for a
 * dump entry (-> CT_DUMP). -EINVAL for another type, an object without an orig tuple (l3
 * protocol, both addresses, l4 protocol) or an l3 other than IPv4/IPv6; *ret untouched then. */
int ct_event_from_nfct(const struct nf_conntrack *ct, int type, uint64_t ts_ns,
		       struct ct_event *ret);

/* One-line text like `conntrack -E` prints, for expired_flows.raw:
 *   [DESTROY] tcp 6 src=192.0.2.1 dst=198.51.100.2 sport=40000 dport=443 packets=5 bytes=600
 *   src=198.51.100.2 dst=192.0.2.1 sport=443 dport=40000 packets=4 bytes=900 id=123
 * (one line). Type tags are NEW, UPDATE, DESTROY, DUMP. Details in order, each only when
 * there is something to say: the TCP state name after the protocol number; ICMP
 * type=/code=/id= instead of ports; packets=/bytes= when has_counters; [UNREPLIED] after the
 * orig tuple when status has IPS_CONFIRMED but not IPS_SEEN_REPLY; the reply tuple when
 * has_reply; [ASSURED]; mark=N when non-zero; id=N when non-zero. No payload exists here.
 * Returns 0, or -ENOSPC when len is too small (buf then holds nothing useful);
 * CT_FORMAT_MAX always suffices. */
int ct_event_format(const struct ct_event *e, char *buf, size_t len);

/* Result of ct_parse_msgs(). */
struct ct_parse_result {
	uint64_t events;       /* callbacks made */
	uint64_t parse_errors; /* malformed messages skipped or stopped at, unusable entries */
	uint64_t nl_errors;    /* NLMSG_ERROR with a non-zero error, NLMSG_OVERRUN */
	uint64_t ignored;      /* acks, other subsystems, expectation messages */
	bool done;	       /* NLMSG_DONE seen (end of a dump) */
	int error;	       /* last non-zero NLMSG_ERROR code (negative errno), else 0 */
};

/* Pure: walks one ctnetlink datagram buf[0..len) (several netlink messages), decodes every
 * conntrack message with nfct_nlmsg_parse() and calls cb with the ct_event. Message types:
 * IPCTNL_MSG_CT_NEW with NLM_F_CREATE -> CT_NEW, without -> CT_UPDATE, IPCTNL_MSG_CT_DELETE ->
 * CT_DESTROY; dump true makes every entry CT_DUMP. Never reads past len (each message is
 * copied into aligned scratch first when it is unaligned or unpadded). Returns 0; -EINVAL
 * when buf is NULL with len > 0; -ENOMEM when no nf_conntrack could be allocated. */
int ct_parse_msgs(const uint8_t *buf, size_t len, uint64_t ts_ns, bool dump, ct_event_fn cb,
		  void *arg, struct ct_parse_result *ret);

/* Socket seam (ops table). The default uses raw NETLINK_NETFILTER sockets; tests inject
 * faults. One handle per socket: CT_SOCK_EVENTS is the subscribed event socket (opened once
 * by ct_open), CT_SOCK_DUMP a request socket opened and closed by every ct_dump(). */
enum ct_sock_kind { CT_SOCK_EVENTS, CT_SOCK_DUMP };
struct ct_opts;
struct ct_ops {
	/* Opens a socket; returns 0 with an fd (events: non-blocking) and an opaque handle, or a
	 * negative errno (-EPERM without CAP_NET_ADMIN). */
	int (*open)(void *arg, const struct ct_opts *opts, enum ct_sock_kind kind,
		    void **ret_handle, int *ret_fd);
	/* Sends one netlink request to the kernel; 0 or a negative errno. */
	int (*send)(void *arg, void *handle, int fd, const void *buf, size_t len);
	/* recvmsg(2)-like: bytes received (the full length with MSG_TRUNC in *ret_flags when it
	 * did not fit), or a negative errno: -EAGAIN when empty (dump socket: after
	 * CT_DUMP_TIMEOUT_MS), -ENOBUFS when the kernel dropped messages. */
	ssize_t (*recv)(void *arg, void *handle, int fd, void *buf, size_t len, int *ret_flags);
	void (*close)(void *arg, void *handle, int fd);
};

struct ct_opts {
	bool events;	   /* subscribe to NEW, UPDATE and DESTROY (else only ct_dump() works) */
	bool destroy_only; /* with events: subscribe to DESTROY only */
	bool no_updates;   /* with events: NEW and DESTROY, not UPDATE (state changes; counters
			    * of open connections then come from dumps) */
	uint32_t sock_buf; /* SO_RCVBUFFORCE (fallback SO_RCVBUF); 0 -> CT_SOCK_BUF_DEFAULT */
	/* Set NETLINK_BROADCAST_ERROR on the event socket (NETLINK_NO_ENOBUFS stays off): when
	 * our socket is full the kernel sees the failed DESTROY delivery, parks the entry on its
	 * per-netns ecache dying list and redelivers the event from a work queue until it gets
	 * through (measured on 6.18: 5000 flushed entries into a 64 KiB socket, all 5000 DESTROY
	 * events arrived within ~25 s, 35 ENOBUFS on the way; without it 102 arrived). NEW and
	 * UPDATE events are still dropped on overrun, so ENOBUFS still asks for a resync. Costs
	 * kernel memory while we lag: entries stay until delivered or the socket is closed. */
	bool reliable;
	uint32_t budget;	  /* datagrams per ct_read(); 0 -> CT_BUDGET_DEFAULT */
	const struct ct_ops *ops; /* NULL: raw netlink sockets */
	void *ops_arg;
};

/* Exact counters, updated lock-free by the reader thread; register them with rdpi_counters. */
struct ct_stats {
	struct rdpi_counter events; /* NEW + UPDATE + DESTROY delivered */
	struct rdpi_counter new_events;
	struct rdpi_counter update_events;
	struct rdpi_counter destroy_events;
	struct rdpi_counter dump_entries; /* CT_DUMP delivered */
	struct rdpi_counter enobufs;	  /* ENOBUFS on the event socket: events were lost */
	struct rdpi_counter resyncs;	  /* dumps completed after an overrun */
	struct rdpi_counter parse_errors; /* malformed messages, MSG_TRUNC, foreign senders */
	struct rdpi_counter dumps;	  /* dumps completed */
	struct rdpi_counter nl_errors;	  /* NLMSG_ERROR / NLMSG_OVERRUN from the kernel */
};

struct ct;

/* Opens the observer (opts copied). With opts->events the event socket is bound to the
 * conntrack groups right away. Negative errno on failure: -EPERM without CAP_NET_ADMIN,
 * -EPROTONOSUPPORT without ctnetlink. */
int ct_open(const struct ct_opts *opts, struct ct **ret);
/* Closes the sockets and frees; NULL is a no-op. */
void ct_close(struct ct *c);

/* Non-blocking event fd to watch for EPOLLIN, owned by c; -1 without opts.events. */
int ct_fd(const struct ct *c);

/* Reads up to the budget of datagrams (stops at EAGAIN) and calls cb (may be NULL) per event.
 * ENOBUFS is counted and reading goes on; *ret_resync (may be NULL) is then true, and stays
 * true on later calls until a ct_dump() completes: the caller runs ct_dump() (the module never
 * dumps on its own, so the caller decides when the loop can afford it). *ret_more (may be
 * NULL): the budget ran out, call again. Returns 0, -EINVAL without an event socket, or a
 * negative errno for a fatal socket error. */
int ct_read(struct ct *c, ct_event_fn cb, void *arg, bool *ret_more, bool *ret_resync);

/* Dumps the whole table (IPv4 and IPv6) as CT_DUMP events through cb, on a socket of its own
 * opened for this call so it never interleaves with events. Blocks until the kernel's
 * NLMSG_DONE; a kernel silent for CT_DUMP_TIMEOUT_MS gives -ETIMEDOUT, ENOBUFS on the dump
 * socket -EAGAIN (entries may have been delivered: the caller may retry). Clears the pending
 * resync on success. Returns 0 or a negative errno. */
int ct_dump(struct ct *c, ct_event_fn cb, void *arg);

/* Counters of this observer, valid until ct_close(). */
const struct ct_stats *ct_stats(const struct ct *c);

/* Whether /proc/sys/net/netfilter/nf_conntrack_acct (resp. nf_conntrack_timestamp) is on in
 * the caller's network namespace: 1, 0, or a negative errno (-ENOENT without conntrack). */
int ct_acct_enabled(void);
int ct_timestamp_enabled(void);

#endif

/* Input threads: NFLOG reader, capture reader, text line reader. */
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/pcapsrc.h"
#include "entry.h"
#include "logger.h"

#define TAG	       "input"
#define IFCACHE	       64
#define LINE_MAX_BYTES 65536

struct ifname_cache {
	struct {
		uint32_t index;
		char name[IF_NAMESIZE];
	} e[IFCACHE];
};

struct input {
	struct input_opts o;
	struct nflogrd *nflog;
	struct rdpi_pcapsrc *pcap;
	int lines_fd; /* -1 when not a line input */
	bool lines_close;
	char rbuf[65536];
	size_t rpos, rlen;
	bool eof;
	int stopfd;
	volatile int stopping;
	pthread_t th;
	bool started;
	struct ifname_cache ifc;
	struct rdpi_ratelimit rl;
	char desc[256];
	struct input_stats stats;
};

static const char *ifname(struct ifname_cache *c, uint32_t index, char *buf)
{
	buf[0] = '\0';
	if (index == 0)
		return buf;
	unsigned slot = index % IFCACHE;
	if (c->e[slot].index == index) {
		memcpy(buf, c->e[slot].name, IF_NAMESIZE);
		return buf;
	}
	if (!if_indextoname(index, buf))
		snprintf(buf, IF_NAMESIZE, "if%u", index);
	c->e[slot].index = index;
	memcpy(c->e[slot].name, buf, IF_NAMESIZE);
	return buf;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- NFLOG ------------------------------------------------------------------------------ */

static void on_nflog(void *arg, const struct nflogrd_packet *p)
{
	struct input *in = arg;
	struct lentry *e = malloc(sizeof(*e));
	if (!e)
		return;
	char ib[IF_NAMESIZE], ob[IF_NAMESIZE];
	if (lentry_from_l3(e, p->ts_ns, LENTRY_TAG_NETLINK, p->prefix,
			   ifname(&in->ifc, p->indev, ib), ifname(&in->ifc, p->outdev, ob), p->l3,
			   p->l3_len) < 0)
		logger_packet_error(in->o.lg);
	logger_submit(in->o.lg, e, p->l3, p->l3_len);
}

static void *nflog_main(void *arg)
{
	struct input *in = arg;
	struct pollfd pfd[2] = {{.fd = nflogrd_fd(in->nflog), .events = POLLIN},
				{.fd = in->stopfd, .events = POLLIN}};
	while (!in->stopping) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			rdpi_log(LOG_ERR, TAG, "poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		bool more = true;
		while (more && !in->stopping) {
			int rv = nflogrd_read(in->nflog, on_nflog, in, &more);
			if (rv < 0) {
				rdpi_log_rl(&in->rl, LOG_ERR, TAG, "NFLOG read: %s", strerror(-rv));
				break;
			}
		}
	}
	return NULL;
}

/* ---- capture file ----------------------------------------------------------------------- */

static void *pcap_main(void *arg)
{
	struct input *in = arg;
	struct rdpi_pcapsrc_pkt p;
	int rv;
	while (!in->stopping && (rv = rdpi_pcapsrc_next(in->pcap, &p)) == 1) {
		struct lentry *e = malloc(sizeof(*e));
		if (!e) {
			rv = -ENOMEM;
			break;
		}
		rdpi_counter_inc(&in->stats.pcap_packets);
		if (lentry_from_l3(e, p.ts_ns, LENTRY_TAG_PCAP, in->o.pcap_prefix, "", "", p.l3,
				   p.caplen) < 0)
			logger_packet_error(in->o.lg);
		logger_submit(in->o.lg, e, p.l3, p.caplen);
	}
	if (rv < 0)
		rdpi_log(LOG_ERR, TAG, "%s: read error: %s", in->o.pcap_path, strerror(-rv));
	if (!in->stopping && in->o.done_fn)
		in->o.done_fn(in->o.done_arg, rv < 0 ? rv : 0);
	return NULL;
}

/* ---- text lines ------------------------------------------------------------------------- */

static void feed_line(struct input *in, const char *line, unsigned long lineno)
{
	enum lines_format f = in->o.lines_format;
	char err[256] = "";
	rdpi_counter_inc(&in->stats.lines);
	if (f == LINES_AUTO && lines_detect(line, &f) < 0) {
		const char *p = line;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0' || *p == '#') {
			rdpi_counter_inc(&in->stats.lines_skipped);
			return;
		}
		rdpi_counter_inc(&in->stats.line_errors);
		rdpi_log_rl(&in->rl, LOG_WARNING, TAG, "line %lu: unrecognised format", lineno);
		return;
	}
	struct lentry *e = malloc(sizeof(*e));
	if (!e)
		return;
	int rv = lines_parse(f, line, wall_ns(), e, err, sizeof(err));
	if (rv == -ENODATA) {
		rdpi_counter_inc(&in->stats.lines_skipped);
		free(e);
		return;
	}
	if (rv < 0) {
		rdpi_counter_inc(&in->stats.line_errors);
		rdpi_log_rl(&in->rl, LOG_WARNING, TAG, "line %lu: %s", lineno, err);
		free(e);
		return;
	}
	logger_submit(in->o.lg, e, NULL, 0);
}

/* Reads the next line from in->lines_fd into *buf (NUL-terminated, newline stripped);
 * waits with poll() so input_stop() can interrupt a quiet stdin. 1: a line, 0: EOF or
 * stopping, <0: read error. Lines longer than the buffer cap are cut (rest discarded). */
static int next_line(struct input *in, char **buf, size_t *cap, size_t *ret_len)
{
	size_t len = 0;
	bool cut = false;
	for (;;) {
		/* a complete line already buffered? */
		char *nl = memchr(in->rbuf + in->rpos, '\n', in->rlen - in->rpos);
		size_t avail = nl ? (size_t)(nl - (in->rbuf + in->rpos)) : in->rlen - in->rpos;
		if (!cut) {
			size_t take = avail;
			if (len + take + 1 > LINE_MAX_BYTES) {
				take = LINE_MAX_BYTES - 1 - len;
				cut = true;
			}
			if (len + take + 1 > *cap) {
				size_t nc = len + take + 1 < 256 ? 256 : (len + take + 1) * 2;
				char *nb = realloc(*buf, nc);
				if (!nb)
					return -ENOMEM;
				*buf = nb;
				*cap = nc;
			}
			memcpy(*buf + len, in->rbuf + in->rpos, take);
			len += take;
			(*buf)[len] = '\0';
		}
		in->rpos += avail;
		if (nl) {
			in->rpos++; /* the newline */
			*ret_len = len;
			return 1;
		}
		in->rpos = in->rlen = 0;
		if (in->eof) {
			*ret_len = len;
			return len > 0 ? 1 : 0;
		}
		struct pollfd pfd[2] = {{.fd = in->lines_fd, .events = POLLIN},
					{.fd = in->stopfd, .events = POLLIN}};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (in->stopping || pfd[1].revents)
			return 0;
		ssize_t n = read(in->lines_fd, in->rbuf, sizeof(in->rbuf));
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (n == 0)
			in->eof = true;
		in->rlen = (size_t)n;
	}
}

static void *lines_main(void *arg)
{
	struct input *in = arg;
	char *line = NULL, *held = NULL;
	size_t cap = 0, n = 0;
	unsigned long lineno = 0;
	int rv;
	while (!in->stopping && (rv = next_line(in, &line, &cap, &n)) == 1) {
		lineno++;
		while (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (held) {
			/* tcpdump -v: the header line continues on this one */
			size_t hl = strlen(held);
			char *j = malloc(hl + 1 + n + 1);
			if (j) {
				memcpy(j, held, hl);
				j[hl] = ' ';
				memcpy(j + hl + 1, line, n + 1);
				feed_line(in, j, lineno);
				free(j);
			}
			free(held);
			held = NULL;
			continue;
		}
		if ((in->o.lines_format == LINES_TCPDUMP || in->o.lines_format == LINES_AUTO) &&
		    lines_tcpdump_needs_continuation(line) == 1) {
			held = strdup(line);
			continue;
		}
		feed_line(in, line, lineno);
	}
	if (held) {
		feed_line(in, held, lineno);
		free(held);
	}
	free(line);
	if (rv < 0)
		rdpi_log(LOG_ERR, TAG, "%s: %s", in->o.lines_path, strerror(-rv));
	if (!in->stopping && in->o.done_fn)
		in->o.done_fn(in->o.done_arg, rv < 0 ? rv : 0);
	return NULL;
}

/* ---- lifecycle -------------------------------------------------------------------------- */

int input_open(const struct input_opts *opts, char *errbuf, size_t errlen, struct input **ret)
{
	struct input *in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	in->o = *opts;
	in->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	in->lines_fd = -1;
	in->rl.interval_ms = 10000;
	in->rl.burst = 5;
	int rv = 0;
	if (in->stopfd < 0) {
		rv = -errno;
		snprintf(errbuf, errlen, "eventfd: %s", strerror(errno));
	} else if (opts->nflog) {
		rv = nflogrd_open(opts->nflog, &in->nflog);
		if (rv < 0)
			snprintf(errbuf, errlen, "cannot bind NFLOG group %u: %s%s",
				 opts->nflog->group, strerror(-rv),
				 rv == -EPERM	? " (needs CAP_NET_ADMIN)"
				 : rv == -EBUSY ? " (another listener holds the group)"
						: "");
		snprintf(in->desc, sizeof(in->desc), "NFLOG group %u", opts->nflog->group);
	} else if (opts->pcap_path) {
		rv = rdpi_pcapsrc_open(opts->pcap_path, errbuf, errlen, &in->pcap);
		snprintf(in->desc, sizeof(in->desc), "capture %s", opts->pcap_path);
	} else if (opts->lines_path) {
		bool std = strcmp(opts->lines_path, "-") == 0;
		in->lines_fd = std ? STDIN_FILENO : open(opts->lines_path, O_RDONLY | O_CLOEXEC);
		in->lines_close = !std;
		if (in->lines_fd < 0) {
			rv = -errno;
			snprintf(errbuf, errlen, "%s: %s", opts->lines_path, strerror(errno));
		}
		snprintf(in->desc, sizeof(in->desc), "%s lines from %s",
			 lines_format_name(opts->lines_format), std ? "stdin" : opts->lines_path);
	} else {
		rv = -EINVAL;
		snprintf(errbuf, errlen, "no input");
	}
	if (rv < 0) {
		input_free(in);
		return rv;
	}
	*ret = in;
	return 0;
}

int input_start(struct input *in)
{
	void *(*fn)(void *) = in->nflog ? nflog_main : in->pcap ? pcap_main : lines_main;
	int rv = pthread_create(&in->th, NULL, fn, in);
	if (rv)
		return -rv;
	in->started = true;
	return 0;
}

void input_stop(struct input *in)
{
	if (!in || !in->started)
		return;
	in->stopping = 1;
	uint64_t one = 1;
	if (write(in->stopfd, &one, sizeof(one)) < 0) {
		/* the flag alone stops it at the next packet */
	}
	pthread_join(in->th, NULL);
	in->started = false;
}

void input_free(struct input *in)
{
	if (!in)
		return;
	input_stop(in);
	nflogrd_close(in->nflog);
	rdpi_pcapsrc_free(in->pcap);
	if (in->lines_close && in->lines_fd >= 0)
		close(in->lines_fd);
	if (in->stopfd >= 0)
		close(in->stopfd);
	rdpi_log_rl_flush(&in->rl, LOG_WARNING, TAG);
	free(in);
}

int input_register(struct input *in, struct rdpi_counters *reg)
{
	static struct nflogrd_stats zero; /* reported as 0 when NFLOG is not the input */
	static struct input_stats zero_in;
	const struct nflogrd_stats *ns = in && in->nflog ? nflogrd_stats(in->nflog) : &zero;
	struct input_stats *is = in ? &in->stats : &zero_in;
	const struct {
		const char *name;
		const struct rdpi_counter *c;
		const char *help;
	} t[] = {
	    {"nflog_datagrams", &ns->datagrams, "NFLOG netlink datagrams received"},
	    {"nflog_packets", &ns->packets, "packets received from NFLOG"},
	    {"nflog_lost", &ns->lost, "packets lost before us (NFLOG sequence gaps)"},
	    {"nflog_seq_gaps", &ns->seq_gaps, "sequence gap events"},
	    {"nflog_seq_backwards", &ns->seq_backwards, "sequence resyncs"},
	    {"nflog_enobufs", &ns->enobufs, "ENOBUFS: the kernel dropped messages (socket full)"},
	    {"nflog_truncated", &ns->truncated, "datagrams truncated by a small receive buffer"},
	    {"nflog_parse_errors", &ns->parse_errors, "malformed NFLOG messages"},
	    {"nflog_nl_errors", &ns->nl_errors, "netlink error messages"},
	    {"nflog_no_seq", &ns->no_seq, "packets without a sequence number"},
	    {"input_lines", &is->lines, "text lines read"},
	    {"input_line_errors", &is->line_errors, "text lines that did not parse"},
	    {"input_lines_skipped", &is->lines_skipped, "blank or comment lines"},
	    {"input_pcap_packets", &is->pcap_packets, "packets read from --pcap"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rv = rdpi_counters_register(reg, t[i].name, NULL, RDPI_COUNTER, t[i].help,
						(struct rdpi_counter *)t[i].c);
		if (rv < 0)
			return rv;
	}
	return 0;
}

const char *input_describe(const struct input *in)
{
	return in ? in->desc : "none (--nflog-group 0 without --input-file or --pcap)";
}

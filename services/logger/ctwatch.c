/* Conntrack reader thread: events and periodic dumps into the writer queue. */
#include "ctwatch.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/service.h"
#include "ct.h"
#include "entry.h"
#include "writer.h"

#define TAG "conntrack"

struct ctwatch {
	struct ctwatch_opts o;
	struct ct *ct;
	int stopfd;
	volatile int stopping;
	bool resync; /* entries were dropped at the writer queue: dump once it has room */
	pthread_t th;
	bool started;
	struct rdpi_ratelimit rl;
	struct ctwatch_stats stats;
};

int ctwatch_open(const struct ctwatch_opts *o, char *errbuf, size_t errlen, struct ctwatch **ret)
{
	struct ctwatch *cw = calloc(1, sizeof(*cw));
	if (!cw)
		return -ENOMEM;
	cw->o = *o;
	cw->rl.interval_ms = 10000;
	cw->rl.burst = 1;
	cw->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct ct_opts co = {
	    .events = true, .destroy_only = !o->updates, .sock_buf = o->sock_buf, .reliable = true};
	int rv = cw->stopfd < 0 ? -errno : ct_open(&co, &cw->ct);
	if (rv < 0) {
		snprintf(errbuf, errlen, "cannot open conntrack events: %s%s", strerror(-rv),
			 rv == -EPERM ? " (needs CAP_NET_ADMIN)" : "");
		ctwatch_free(cw);
		return rv;
	}
	if (ct_acct_enabled() != 1) {
		rdpi_counter_set(&cw->stats.acct_off, 1);
		rdpi_log(LOG_WARNING, TAG,
			 "net.netfilter.nf_conntrack_acct is off: traffic-flows.db gets no byte or "
			 "packet counters (sysctl -w net.netfilter.nf_conntrack_acct=1)");
	}
	*ret = cw;
	return 0;
}

static void submit_entry(struct ctwatch *cw, const struct ct_event *ev, bool wait)
{
	struct lentry *e = calloc(1, sizeof(*e));
	struct ct_event *c = malloc(sizeof(*c));
	if (!e || !c) {
		free(e);
		free(c);
		return;
	}
	*c = *ev;
	e->ct = c;
	e->ts_ns = ev->ts_ns;
	rdpi_counter_inc(&cw->stats.submitted);
	if (writer_submit(cw->o.writer, e, wait) < 0) {
		rdpi_counter_inc(&cw->stats.writer_drops);
		cw->resync = true;
	}
}

/* Events: never wait on SQLite; an entry dropped at a full writer queue is recovered by a dump
 * once the queue has room (a dropped DESTROY of a connection that is gone cannot be: counted). */
static void submit(void *arg, const struct ct_event *ev)
{
	submit_entry(arg, ev, false);
}

/* Dump entries wait for room instead: a dump already blocks this thread until the kernel's
 * NLMSG_DONE (events queue up in the 8 MiB socket meanwhile), and dropping dump entries would
 * only call for another dump. */
static void submit_dumped(void *arg, const struct ct_event *ev)
{
	submit_entry(arg, ev, true);
}

static void dump(struct ctwatch *cw)
{
	int rv = ct_dump(cw->ct, submit_dumped, cw);
	if (rv < 0) {
		rdpi_counter_inc(&cw->stats.dump_errors);
		rdpi_log_rl(&cw->rl, LOG_WARNING, TAG, "conntrack dump failed: %s", strerror(-rv));
	}
}

static void *ctwatch_main(void *arg)
{
	struct ctwatch *cw = arg;
	struct pollfd pfd[2] = {{.fd = ct_fd(cw->ct), .events = POLLIN},
				{.fd = cw->stopfd, .events = POLLIN}};
	uint64_t next_dump = cw->o.dump_interval_ns ? rdpi_monotonic_ns() : UINT64_MAX;
	while (!cw->stopping) {
		uint64_t now = rdpi_monotonic_ns();
		if (now >= next_dump) {
			dump(cw);
			next_dump = now + cw->o.dump_interval_ns;
		}
		if (cw->resync && writer_queue_depth(cw->o.writer) < 1024) {
			/* entries were dropped at a full writer queue: now that it drained, the
			 * table is the truth for the connections still alive */
			cw->resync = false;
			rdpi_counter_inc(&cw->stats.writer_resyncs);
			dump(cw);
		}
		int timeout = next_dump == UINT64_MAX ? -1 : (int)((next_dump - now) / 1000000 + 1);
		if (cw->resync && (timeout < 0 || timeout > 100))
			timeout = 100; /* look at the queue again soon */
		if (poll(pfd, 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			rdpi_log(LOG_ERR, TAG, "poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		if (!pfd[0].revents)
			continue;
		bool more = true, resync = false;
		while (more && !cw->stopping) {
			int rv = ct_read(cw->ct, submit, cw, &more, &resync);
			if (rv < 0) {
				rdpi_log_rl(&cw->rl, LOG_ERR, TAG, "conntrack read: %s",
					    strerror(-rv));
				break;
			}
		}
		if (resync)
			dump(cw); /* events were lost: the table is the truth */
	}
	return NULL;
}

int ctwatch_start(struct ctwatch *cw)
{
	int rv = pthread_create(&cw->th, NULL, ctwatch_main, cw);
	if (rv)
		return -rv;
	cw->started = true;
	return 0;
}

void ctwatch_stop(struct ctwatch *cw)
{
	if (!cw || !cw->started)
		return;
	cw->stopping = 1;
	uint64_t one = 1;
	if (write(cw->stopfd, &one, sizeof(one)) < 0) {
		/* the flag stops it at the next wake-up */
	}
	pthread_join(cw->th, NULL);
	cw->started = false;
}

void ctwatch_free(struct ctwatch *cw)
{
	if (!cw)
		return;
	ctwatch_stop(cw);
	ct_close(cw->ct);
	if (cw->stopfd >= 0)
		close(cw->stopfd);
	free(cw);
}

int ctwatch_register(struct ctwatch *cw, struct rdpi_counters *reg)
{
	const struct ct_stats *cs = ct_stats(cw->ct);
	const struct {
		const char *name;
		const struct rdpi_counter *c;
		enum rdpi_counter_kind kind;
		const char *help;
	} t[] = {
	    {"ct_events", &cs->events, RDPI_COUNTER, "conntrack events received"},
	    {"ct_destroy_events", &cs->destroy_events, RDPI_COUNTER, "conntrack DESTROY events"},
	    {"ct_dump_entries", &cs->dump_entries, RDPI_COUNTER, "entries read by dumps"},
	    {"ct_enobufs", &cs->enobufs, RDPI_COUNTER, "conntrack event overruns (ENOBUFS)"},
	    {"ct_resyncs", &cs->resyncs, RDPI_COUNTER, "dumps after an overrun"},
	    {"ct_dumps", &cs->dumps, RDPI_COUNTER, "table dumps completed"},
	    {"ct_parse_errors", &cs->parse_errors, RDPI_COUNTER, "malformed conntrack messages"},
	    {"ct_submitted", &cw->stats.submitted, RDPI_COUNTER, "entries handed to the writer"},
	    {"ct_dump_errors", &cw->stats.dump_errors, RDPI_COUNTER, "failed dumps"},
	    {"ct_writer_drops", &cw->stats.writer_drops, RDPI_COUNTER,
	     "conntrack entries dropped at a full writer queue"},
	    {"ct_writer_resyncs", &cw->stats.writer_resyncs, RDPI_COUNTER,
	     "dumps after writer-queue drops"},
	    {"ct_acct_off", &cw->stats.acct_off, RDPI_GAUGE,
	     "1 when nf_conntrack_acct is off (no byte counters)"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rv = rdpi_counters_register(reg, t[i].name, NULL, t[i].kind, t[i].help,
						(struct rdpi_counter *)t[i].c);
		if (rv < 0)
			return rv;
	}
	return 0;
}

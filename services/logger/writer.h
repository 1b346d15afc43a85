/* The logger's one SQLite writer thread: accept packets become improve-only dpi_flow upserts
 * (coalesced per flow per batch), other packets become firewall_logs rows enriched with the
 * verdict of their flow (in-memory table first, SQLite after a restart), retention. */
#ifndef RDPI_SERVICES_LOGGER_WRITER_H
#define RDPI_SERVICES_LOGGER_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/counters.h"

struct flowsdb;
struct flowsdb;
struct lentry;
struct store;
struct writer;

struct writer_opts {
	struct store *store;	 /* used only from the writer thread; owned by the caller */
	size_t flow_limit;	 /* in-memory verdict table; 0 -> 100000 */
	int64_t flow_ttl_ns;	 /* verdict age for deny enrichment and dpi_flow retention */
	size_t dpi_flow_limit;	 /* dpi_flow rows kept (0: no limit) */
	int64_t expired_ttl_ns;	 /* expired_flows retention (0: none) */
	size_t expired_limit;	 /* expired_flows rows kept (0: no limit) */
	size_t queue_limit;	 /* entries waiting for the writer; 0 -> 16384 */
	size_t batch_max;	 /* rows per transaction; 0 -> 512 */
	uint64_t batch_age_ns;	 /* 0 -> 250 ms */
	uint64_t prune_every_ns; /* 0 -> 10 s */
	bool offline;		 /* file input: retention clock is the newest packet time */
	/* conntrack side: with correlate, deny rows get orphan-return correlation from expired
	 * connections (recent-expired table of expired_limit entries, SQLite after a restart) */
	bool correlate;
	struct flowsdb *flows;	/* traffic-flows.db, NULL: none; used only by the writer */
	/* offline capture without conntrack: traffic-flows.db rows come from the packets
	 * themselves (bytes/packets per direction, accounting "capture"), ended at the flow's
	 * last packet when it leaves the table or the input ends */
	bool capture_flows;
	int64_t traffic_ttl_ns; /* flows retention (0: none) */
	size_t traffic_limit;	/* flows rows kept (0: no limit) */
};

struct writer_stats {
	struct rdpi_counter entries;	      /* entries processed */
	struct rdpi_counter queue_drops;      /* entries dropped: writer queue full */
	struct rdpi_counter accept_packets;   /* accept packets folded into dpi_flow */
	struct rdpi_counter unkeyed;	      /* accept packets without a flow key (not IP) */
	struct rdpi_counter deny_rows;	      /* firewall_logs rows queued */
	struct rdpi_counter deny_enriched;    /* deny rows enriched from the in-memory table */
	struct rdpi_counter deny_enriched_db; /* ... from SQLite (after a restart) */
	struct rdpi_counter deny_classified;  /* deny rows with their own verdict */
	struct rdpi_counter write_errors;     /* store calls that failed */
	/* published from the store after every commit */
	struct rdpi_counter rows_firewall_logs, rows_dpi_flow, rows_expired_flows, commits,
	    commit_errors, rows_lost, commit_us_last, commit_us_max, batch_last, batch_max,
	    pruned_flows, pruned_expired, mem_flows, mem_flows_bytes, queue_depth;
	/* conntrack side */
	struct rdpi_counter ct_events;	       /* conntrack entries processed */
	struct rdpi_counter orphan_returns;    /* deny rows correlated with an expired connection */
	struct rdpi_counter orphan_returns_db; /* ... found in SQLite (after a restart) */
	struct rdpi_counter true_suspicious;   /* deny rows without an expired reverse flow */
	struct rdpi_counter traffic_upserts;   /* traffic-flows.db upserts queued */
	struct rdpi_counter traffic_enriched;  /* ... carrying a DPI label */
	struct rdpi_counter traffic_port_fallback; /* ... labelled by the port table only */
	struct rdpi_counter rows_traffic, traffic_commit_errors, pruned_traffic;
};

int writer_new(const struct writer_opts *opts, struct writer **ret);
/* Stops the thread if running (draining the queue), flushes, frees; NULL ok. */
void writer_free(struct writer *w);

/* Starts the writer thread. Without it, writer_process()/writer_flush() run synchronously
 * (selftest, tests). */
int writer_start(struct writer *w);
/* Closes the queue, lets the thread drain it, writes pending flows and commits. */
void writer_stop(struct writer *w);

/* Hands e to the writer thread (ownership passes in every case). wait: block while the queue is
 * full (offline input); otherwise a full queue drops e and counts it. Returns 0 or -ENOSPC. */
int writer_submit(struct writer *w, struct lentry *e, bool wait);

/* Entries waiting for the writer thread right now. */
size_t writer_queue_depth(struct writer *w);

/* Live reload: retention used from the next prune on (thread-safe). */
void writer_set_retention(struct writer *w, int64_t expired_ttl_ns, int64_t traffic_ttl_ns,
			  size_t traffic_limit);

/* Synchronous path (no thread): processes e (takes ownership). */
void writer_process(struct writer *w, struct lentry *e);
/* Writes coalesced flows and commits. */
int writer_flush(struct writer *w);

/* Registers every writer counter under its name (see writer_stats) in reg. */
int writer_register(struct writer *w, struct rdpi_counters *reg);
const struct writer_stats *writer_stats(const struct writer *w);

/* "45s", "3m12s", "2h5m0s": Go's Duration.String() of d rounded to seconds. */
void writer_format_age(int64_t ns, char *buf, size_t len);

#endif

/* traffic-flows.db writer: one `flows` row per conntrack connection, counters from conntrack,
 * labels from the logger's flow verdicts. Sibling of store.c (firewall-logs.db); last stage of
 * the logger's conntrack side. Payload-free by construction: no field carries packet bytes. */
#ifndef RDPI_SERVICES_LOGGER_FLOWSDB_H
#define RDPI_SERVICES_LOGGER_FLOWSDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* PRAGMA user_version written by this code. 0 = the Go logger's schema (no version). */
#define FLOWSDB_SCHEMA_VERSION	     1
#define FLOWSDB_BATCH_MAX_DEFAULT    512
#define FLOWSDB_BATCH_AGE_NS_DEFAULT (250ull * 1000 * 1000)
#define FLOWSDB_ERRMSG_MAX	     256

struct flowsdb_opts {
	const char *path;      /* database file, created when missing */
	size_t batch_max;      /* rows per transaction; 0 -> FLOWSDB_BATCH_MAX_DEFAULT */
	uint64_t batch_age_ns; /* oldest pending row age; 0 -> FLOWSDB_BATCH_AGE_NS_DEFAULT */
};

/* One observation of a conntrack connection (NEW, UPDATE, DESTROY or a dump entry), possibly
 * enriched with the logger's verdict for the same canonical flow. Client = original source,
 * peer = original destination, NAT address from the reply tuple. Strings are borrowed for the
 * call only; NULL or "" is stored as NULL. Integers documented "< 0" are stored as NULL. */
struct flowsdb_flow {
	/* Required. Unique per connection instance: the caller builds it from the 5-tuple plus
	 * the conntrack id / start time, so a reused 5-tuple gets a new row. */
	const char *flow_key;
	const char *flow_id;  /* canonical 32-hex DPI flow id shared with dpi_flow, or NULL */
	int64_t conntrack_id; /* < 0: NULL */
	int64_t ts_started;   /* unix ns; <= 0: unknown. The row keeps the earliest. */
	int64_t ts_ended;     /* unix ns; <= 0: still open. Set once, never cleared. */
	const char *client_address;
	int client_port; /* < 0: NULL (portless protocols) */
	const char *peer_address;
	int peer_port; /* < 0: NULL */
	const char *protocol, *l3_proto, *nat_translated_address;
	const char *accounting; /* "conntrack", or "conntrack-acct-off" (counters unknown) */
	/* Cumulative conntrack counters; < 0: unknown (the stored value stays). A row's counters
	 * never go backwards. */
	int64_t bytes_out, bytes_in, packets_out, packets_in;
	/* DPI, same fields and semantics as struct store_flow. A flow is "known" when app_name is
	 * non-empty and not "unknown". */
	const char *app_name, *app_category;
	int app_confidence; /* < 0: NULL */
	const char *detected_protocol, *master_protocol, *application_protocol, *category;
	const char *risk; /* JSON array text */
	const char *confidence, *metadata_json, *engine;
	const char
	    *source;	/* ndpi-agent, builtin-payload, dns-cache, sni-cache, port-fallback... */
	bool guessed;	/* ndpi-agent guess (weaker than dns/sni cache) */
	int risk_score; /* < 0: NULL */
	const char *tls_sni, *http_host, *dns_query;
	const char *resolved_hostname; /* SNI, HTTP host or the dns-cache name for (client, peer) */
	int64_t classified_at;	       /* unix ns of the verdict; 0: not known (now is used) */
	int64_t now;		       /* unix ns of this observation: updated_at */
};

/* Counters, updated by the writer; rows count when their transaction committed. */
struct flowsdb_stats {
	uint64_t flows_written;
	uint64_t commits, commit_errors, rows_lost; /* rows rolled back by a failed commit */
	uint64_t commit_ns_last, commit_ns_max, commit_ns_total;
	uint64_t batch_last, batch_max;
	uint64_t pruned;
};

struct flowsdb;

/* Opens or creates the database (WAL, synchronous=NORMAL), creates the schema, migrates a
 * legacy (user_version 0) file in place, prepares the statements. A file with a newer
 * user_version is refused with -EPROTONOSUPPORT. On failure errbuf (may be NULL) gets SQLite's
 * text. *ret is owned by the caller: flowsdb_free(). */
int flowsdb_open(const struct flowsdb_opts *opts, char *errbuf, size_t errlen,
		 struct flowsdb **ret);
/* Flushes the pending batch (errors counted) and closes; NULL is a no-op. */
void flowsdb_free(struct flowsdb *f);

/* Upsert by flow_key inside the open batch transaction (invisible to other connections until
 * flowsdb_flush()); when batch_max rows are pending, the batch is committed first. Only
 * improves a row: counters take the new value when known and not smaller; ts_started keeps
 * the earliest, ts_ended is set once; flow_id, conntrack_id, addresses, ports, protocols and
 * accounting fill when empty; updated_at takes the newest. DPI labels (app, category,
 * confidences, protocols, risk, metadata, engine, source, guessed, risk_score, classified_at)
 * follow store_upsert_flow(): replaced only by a known observation whose source ranks higher
 * (store_source_rank()) than the stored one, or when the row is not classified yet; an unknown
 * observation only fills a row with no label at all. tls_sni, http_host, dns_query and
 * resolved_hostname are replaced along with the labels, otherwise only filled when empty.
 * classified_at stays NULL for unknown flows. -EINVAL without flow_key. */
int flowsdb_upsert(struct flowsdb *f, const struct flowsdb_flow *x);

/* Commits the pending batch in one transaction (no-op when empty). On a failed commit the
 * batch is rolled back and counted in rows_lost. */
int flowsdb_flush(struct flowsdb *f);
/* Flushes when batch_max rows are pending or the oldest is batch_age_ns old (now_mono:
 * monotonic ns, e.g. rdpi_monotonic_ns()). Call from the loop's before-sleep hook / timer. */
int flowsdb_maybe_flush(struct flowsdb *f, uint64_t now_mono);
/* Pending rows in the open batch. */
size_t flowsdb_pending(const struct flowsdb *f);

/* Retention, bounded work per call, oldest first, through indexes only. With ttl > 0: at most
 * limit rows that ended before now - ttl (index flows_ts_ended), then, within what is left of
 * limit, open rows started and last updated before now - ttl (flows whose DESTROY was missed;
 * index flows_ts_started). Then, with max_rows > 0, at most limit of the oldest rows by
 * ts_started above max_rows, open or not. Flushes first; runs in its own transaction.
 * *ret_deleted (may be NULL) gets the row count. now and ttl in unix ns. */
int flowsdb_prune(struct flowsdb *f, int64_t now, int64_t ttl, size_t limit, size_t max_rows,
		  size_t *ret_deleted);

const struct flowsdb_stats *flowsdb_stats(const struct flowsdb *f);
/* SQLite's text for the last error of f ("" when none); valid until the next call on f. */
const char *flowsdb_errmsg(const struct flowsdb *f);

#endif

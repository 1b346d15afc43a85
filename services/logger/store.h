/* firewall-logs.db writer: schema and migrations, one writer with prepared statements, rows
 * batched into one transaction per flush, upserts that only improve a flow, retention. Last stage
 * of the logger pipeline. */
#ifndef RDPI_SERVICES_LOGGER_STORE_H
#define RDPI_SERVICES_LOGGER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* PRAGMA user_version written by this code. 0 = the Go logger's schema (no version). */
#define STORE_SCHEMA_VERSION	   1
#define STORE_BATCH_MAX_DEFAULT	   512
#define STORE_BATCH_AGE_NS_DEFAULT (250ull * 1000 * 1000)
#define STORE_ERRMSG_MAX	   256

struct store_opts {
	const char *path;      /* database file, created when missing */
	size_t batch_max;      /* rows per transaction; 0 -> STORE_BATCH_MAX_DEFAULT */
	uint64_t batch_age_ns; /* oldest pending row age; 0 -> STORE_BATCH_AGE_NS_DEFAULT */
};

/* A firewall_logs row (non-accept packet). Strings are borrowed for the call only; NULL or ""
 * is stored as NULL. Never carries payload bytes. */
struct store_log {
	int64_t ts; /* unix ns */
	const char *zone_from, *zone_to, *rule_name, *action;
	const char *src_address;
	int src_port; /* < 0: NULL */
	const char *dst_address;
	int dst_port; /* < 0: NULL */
	const char *protocol, *tcp_flags, *l3_proto, *in_iface, *out_iface;
	int64_t packet_bytes;
	const char *hint;
	const char *dpi_app, *dpi_category, *dpi_tls_sni, *dpi_http_host, *dpi_dns_query;
	int dpi_confidence; /* < 0: NULL */
	const char *correlation, *correlation_detail;
	int64_t expired_age_seconds; /* < 0: NULL */
	int64_t expired_bytes;	     /* < 0: NULL */
	const char *dpi_source;	     /* new in v1 */
	int dpi_risk_score;	     /* new in v1; < 0: NULL */
};

/* A dpi_flow observation (accept packets of one bidirectional flow). src is the flow's client
 * side. A flow is "known" when app_name is non-empty and not "unknown"; only known observations
 * set classified_at (to ts). Strings borrowed for the call only; NULL or "" stored as NULL. */
struct store_flow {
	const char *flow_id; /* 32 hex digits (rdpi_flowkey_hex), required */
	int64_t ts;	     /* unix ns of the observation */
	const char *l3_proto, *protocol, *src_address;
	int src_port;
	const char *dst_address;
	int dst_port;
	const char *app_name, *app_category;
	int app_confidence;
	const char *detected_protocol, *master_protocol, *application_protocol, *category;
	const char *risk; /* JSON array text */
	const char *confidence, *metadata_json, *engine;
	const char *source; /* ndpi-agent, builtin-payload, dns-cache, sni-cache, ... */
	bool guessed;	    /* ndpi-agent guess (weaker than dns/sni cache) */
	int risk_score;
	const char *tls_sni, *http_host, *dns_query;
	uint32_t packets; /* added to packet_count */
	int64_t ts_first; /* first packet of a coalesced observation; 0 (or > ts): ts */
};

/* An expired_flows row (conntrack DESTROY); raw is a one-line text rendering. */
struct store_expired {
	int64_t ts;
	const char *l3_proto, *protocol;
	const char *orig_src;
	int orig_src_port;
	const char *orig_dst;
	int orig_dst_port;
	const char *reply_src;
	int reply_src_port;
	const char *reply_dst;
	int reply_dst_port;
	int64_t packets, bytes;
	const char *raw;
};

/* Counters, updated by the writer; rows count when their transaction committed. */
struct store_stats {
	uint64_t logs_written, flows_written, expired_written;
	uint64_t commits, commit_errors, rows_lost; /* rows rolled back by a failed commit */
	uint64_t commit_ns_last, commit_ns_max, commit_ns_total;
	uint64_t batch_last, batch_max;
	uint64_t pruned_flows, pruned_expired;
};

struct store;

/* Source strength used by store_upsert_flow(): ndpi-agent (not guessed) 6 > builtin-payload 5 >
 * dns-cache = sni-cache 4 > ndpi-agent guessed 3 > port-fallback 2 > builtin/unknown/other 0. */
int store_source_rank(const char *source, bool guessed);

/* Opens or creates the database (WAL, synchronous=NORMAL), creates the schema, migrates a
 * legacy (user_version 0) file in place, prepares the statements. A file with a newer
 * user_version is refused with -EPROTONOSUPPORT. On failure errbuf (may be NULL) gets SQLite's
 * text. *ret is owned by the caller: store_free(). */
int store_open(const struct store_opts *opts, char *errbuf, size_t errlen, struct store **ret);
/* Flushes the pending batch (errors counted) and closes; NULL is a no-op. */
void store_free(struct store *s);

/* Queue a row. Rows are executed inside the store's open transaction (begun by the first row
 * of a batch), so they stay invisible to other connections until store_flush() commits them
 * all at once. When batch_max rows are pending, the batch is committed first. */
int store_add_log(struct store *s, const struct store_log *l);
int store_add_expired(struct store *s, const struct store_expired *e);
/* Upsert that only improves: packet_count adds, ts_first/ts_last widen; the labels (app,
 * category, confidences, protocols, risk, metadata, engine, source, guessed, classified_at) are
 * replaced only by a known observation whose source ranks higher than the stored one (or when
 * the stored flow is not classified); tls_sni/http_host/dns_query are otherwise only filled
 * when empty. A later unknown never overwrites; classified_at stays NULL for unknown flows. */
int store_upsert_flow(struct store *s, const struct store_flow *f);

/* Looks up a classified flow (classified_at >= min_classified_at, unix ns), pending rows of
 * the open batch included, and calls fn with borrowed strings ("" for NULL, -1 for NULL
 * integers) and classified_at. -ENOENT when there is none. Used for deny enrichment after a
 * restart, when the in-memory flow table is empty. */
typedef void (*store_flow_fn)(void *arg, const struct store_flow *f, int64_t classified_at);
int store_find_flow(struct store *s, const char *flow_id, int64_t min_classified_at,
		    store_flow_fn fn, void *arg);

/* The newest expired_flows row (ts >= min_ts) whose reply tuple is exactly the given one
 * (index expired_flows_reply); fn gets it with borrowed strings (NULL integers as -1).
 * -ENOENT when there is none. Orphan-return correlation after a restart. */
typedef void (*store_expired_fn)(void *arg, const struct store_expired *e);
int store_find_expired(struct store *s, const char *protocol, const char *reply_src,
		       int reply_src_port, const char *reply_dst, int reply_dst_port,
		       int64_t min_ts, store_expired_fn fn, void *arg);

/* Commits the pending batch in one transaction (no-op when empty). On a failed commit the
 * batch is rolled back and counted in rows_lost. */
int store_flush(struct store *s);
/* Flushes when batch_max rows are pending or the oldest is batch_age_ns old (now: monotonic
 * ns, e.g. rdpi_monotonic_ns()). Call from the loop's before-sleep hook / timer. */
int store_maybe_flush(struct store *s, uint64_t now);
/* Pending rows in the open batch. */
size_t store_pending(const struct store *s);

/* Retention for dpi_flow, bounded work per call via the dpi_flow_ts_last index: deletes at most
 * limit rows with ts_last < now - ttl (ttl 0: no TTL), then at most limit of the oldest rows
 * above max_rows (0: no row limit). now and ttl in unix ns. Flushes first; runs in its own
 * transaction. *ret_deleted (may be NULL) gets the row count. */
int store_prune(struct store *s, int64_t now, int64_t ttl, size_t limit, size_t max_rows,
		size_t *ret_deleted);
/* Same for expired_flows (by ts, index expired_flows_ts). */
int store_prune_expired(struct store *s, int64_t now, int64_t ttl, size_t limit, size_t max_rows,
			size_t *ret_deleted);

const struct store_stats *store_stats(const struct store *s);
/* SQLite's text for the last error of s ("" when none); valid until the next call on s. */
const char *store_errmsg(const struct store *s);

#endif

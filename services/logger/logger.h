/* The logger pipeline behind every input (NFLOG, --pcap, text lines): budget decides the DPI
 * candidates, the DPI client batches them to the classifier, the writer keeps
 * firewall-logs.db. Inputs hand over parsed entries; nothing here waits on DPI or SQLite
 * unless the input is offline (a file), where waiting loses nothing. */
#ifndef RDPI_SERVICES_LOGGER_LOGGER_H
#define RDPI_SERVICES_LOGGER_LOGGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/counters.h"

struct lentry;
struct logger;

struct logger_opts {
	const char *path;		/* firewall-logs.db */
	unsigned first_payload_packets; /* 10 */
	uint32_t copy_range;		/* bytes of a candidate sent to the classifier; 2048 */
	size_t dpi_flow_limit;		/* 100000 */
	int64_t dpi_flow_ttl_ns;	/* 1 h */
	size_t expired_flow_limit;	/* 100000 */
	int64_t expired_flow_ttl_ns;	/* 1 h */
	const char *dpi_url;		/* NULL or "": no DPI */
	uint32_t dpi_timeout_ms;	/* 500 */
	unsigned dpi_inflight;		/* 4 */
	size_t dpi_queue_limit;		/* 4096 */
	size_t writer_queue_limit;	/* 16384 */
	size_t batch_max;		/* rows per transaction, 512 */
	uint64_t batch_age_ns;		/* 250 ms */
	bool offline;			/* file input: hand-offs wait instead of dropping */
	/* conntrack side: DESTROY events -> expired_flows + orphan-return correlation; with a
	 * traffic_path also NEW/UPDATE + periodic dumps -> traffic-flows.db */
	bool conntrack;
	const char *traffic_path;     /* NULL or "": no traffic-flows.db */
	/* --pcap without conntrack: traffic-flows.db rows from the capture's own packets */
	bool capture_flows;
	int64_t traffic_ttl_ns;	      /* flows retention */
	size_t traffic_limit;	      /* flows rows kept */
	uint64_t ct_dump_interval_ns; /* periodic dump for counters */
};

struct logger_stats {
	struct rdpi_counter packets_in;	   /* entries submitted */
	struct rdpi_counter packet_errors; /* L3 that did not parse (row written without tuple) */
	struct rdpi_counter candidates;	   /* entries chosen for DPI */
	struct rdpi_counter no_dpi;	   /* candidates while DPI is disabled */
};

/* Opens the store (creating/migrating it) and builds the stages. errbuf gets the reason. */
int logger_open(const struct logger_opts *opts, char *errbuf, size_t errlen, struct logger **ret);
/* Starts the DPI workers and the writer thread. */
int logger_start(struct logger *lg);
/* Submits e (ownership passes). l3/len: the packet the entry was parsed from (NULL for text
 * input); a candidate gets a copy clipped to copy_range. Thread-safe for one input thread. */
void logger_submit(struct logger *lg, struct lentry *e, const uint8_t *l3, size_t len);
/* Stops in pipeline order: DPI queue drained, then the writer drained and committed. */
void logger_stop(struct logger *lg);
void logger_free(struct logger *lg);

/* Periodic (1 s) housekeeping from the main loop: budget expiry. */
void logger_tick(struct logger *lg, uint64_t wall_ns);

/* Live reload (SIGHUP): the DPI budget per flow and the retention of expired_flows and
 * traffic-flows.db, from the next packet / prune on. Thread-safe. */
void logger_set_limits(struct logger *lg, unsigned first_payload_packets,
		       int64_t expired_flow_ttl_ns, int64_t traffic_ttl_ns, size_t traffic_limit);

int logger_register(struct logger *lg, struct rdpi_counters *reg);
const struct logger_stats *logger_stats(const struct logger *lg);
/* Counts an input packet whose IP header did not parse (its row is still written). */
void logger_packet_error(struct logger *lg);

#endif

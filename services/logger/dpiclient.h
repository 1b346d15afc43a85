/* The logger's classifier client: DPI candidates wait in a bounded queue, a few worker threads
 * send them as ClassifyBatch calls (up to 64 packets or a short linger) with several batches in
 * flight, attach the verdicts and hand the entries to the writer. Failures only cost the DPI
 * fields: the records are still written. */
#ifndef RDPI_SERVICES_LOGGER_DPICLIENT_H
#define RDPI_SERVICES_LOGGER_DPICLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/counters.h"

struct budget;
struct lentry;
struct writer;
struct dpiclient;

struct dpiclient_opts {
	const char *url;       /* NNG URL of the classifier (see dpiclient_url()) */
	uint32_t timeout_ms;   /* per batch; 0 -> 500 */
	unsigned inflight;     /* worker threads = batches in flight; 0 -> 4 */
	unsigned batch_max;    /* packets per batch; 0 -> 64 */
	uint32_t linger_us;    /* wait for a batch to fill; 0 -> 2000 */
	size_t queue_limit;    /* candidates waiting; 0 -> 4096 */
	bool wait;	       /* offline input: hand-off to the writer waits instead of dropping */
	struct budget *budget; /* flows the classifier calls final stop being candidates */
	struct writer *writer;
};

struct dpiclient_stats {
	struct rdpi_counter queue_drops; /* candidates sent on without DPI: queue full */
	struct rdpi_counter batches;	 /* ClassifyBatch calls */
	struct rdpi_counter packets;	 /* packets sent */
	struct rdpi_counter classified;	 /* results with an application label */
	struct rdpi_counter finals;	 /* results that closed a flow's budget */
	struct rdpi_counter errors;	 /* failed calls (any status) */
	struct rdpi_counter timeouts;	 /* ... DEADLINE_EXCEEDED */
	struct rdpi_counter unavailable; /* ... UNAVAILABLE: classifier down */
	struct rdpi_counter undelivered; /* packets whose call failed (written without DPI) */
	struct rdpi_counter latency_us_total, latency_us_max, latency_us_last;
	struct rdpi_counter connected;
};

/* "ipc:///x.ipc", "tcp://h:p" as given; "/run/x/default.sock" -> "ipc:///run/x/default.ipc"
 * (the classifier's NNG endpoint beside its HTTP socket); "/x.ipc" -> "ipc:///x.ipc".
 * Returns buf, or NULL when s is empty (DPI disabled) or does not fit. */
const char *dpiclient_url(const char *s, char *buf, size_t len);

int dpiclient_new(const struct dpiclient_opts *opts, struct dpiclient **ret);
/* Stops (draining the queue) and frees; NULL ok. */
void dpiclient_free(struct dpiclient *dc);
int dpiclient_start(struct dpiclient *dc);
/* Closes the queue, lets the workers finish what is queued, joins them. */
void dpiclient_stop(struct dpiclient *dc);

/* Queues a candidate (it must carry e->pkt). 0: the client owns e now. -ENOSPC (counted in
 * queue_drops): e is still the caller's, who sends it on without DPI. wait blocks instead. */
int dpiclient_submit(struct dpiclient *dc, struct lentry *e, bool wait);

int dpiclient_register(struct dpiclient *dc, struct rdpi_counters *reg);
/* The same names as zeros, for a logger running without DPI. */
int dpiclient_register_disabled(struct rdpi_counters *reg);
const struct dpiclient_stats *dpiclient_stats(const struct dpiclient *dc);

#endif

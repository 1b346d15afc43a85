/* The classifier's link to routerd-ndpi-agent: batched ObserveBatch calls
 * over NNG with a deadline and a circuit breaker, so a dead or slow agent
 * costs at most one timeout per back-off period instead of one per packet. */
#ifndef RDPI_CLASSIFIER_AGENTLINK_H
#define RDPI_CLASSIFIER_AGENTLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/service.h"
#include "routerd/dpi/v1/agent.pb-c.h"

struct agentlink;

struct agentlink_opts {
	const char *endpoint;	    /* ipc:// URL, or the agent's .sock path (mapped to .ipc) */
	unsigned failure_threshold; /* consecutive failures that open the breaker, default 3 */
	uint64_t backoff_ns;	    /* open period before a probe, default 5 s */
	uint64_t probe_interval_ns; /* agent Status refresh for /v1/status, default 5 s */
};

enum agentlink_breaker { AGENTLINK_CLOSED, AGENTLINK_OPEN, AGENTLINK_HALF_OPEN };

struct agentlink_state {
	bool available; /* last call or probe reached the agent */
	bool libndpi_loaded;
	enum agentlink_breaker breaker;
	uint64_t breaker_opens;
	uint64_t calls, failures, timeouts, skipped_open;
	char error[160]; /* last error, "" when none */
};

/* Map an agent socket setting to its NNG URL: "ipc://..." stays, "/x/y.sock"
 * becomes "ipc:///x/y.ipc", other paths get "ipc://" prepended. */
void agentlink_endpoint_url(const char *endpoint, char *buf, size_t len);

int agentlink_new(const struct agentlink_opts *opts, struct agentlink **ret);
void agentlink_free(struct agentlink *a);

/* One ObserveBatch. UNAVAILABLE without a call while the breaker is open.
 * On OK *ret_reply is the agent's reply (protobuf_c_message_free_unpacked). */
enum rdpi_status agentlink_observe(struct agentlink *a, Routerd__Dpi__V1__ClassifyRequest **reqs,
				   size_t n, uint32_t timeout_ms,
				   Routerd__Dpi__V1__ObserveBatchReply **ret_reply, char *err,
				   size_t errlen);

/* Current state; refreshes libndpiLoaded from the agent's Status at most
 * every probe_interval (a short call, never while the breaker is open). */
void agentlink_state(struct agentlink *a, struct agentlink_state *ret);
/* Same without ever probing the agent (for /metrics). */
void agentlink_peek(struct agentlink *a, struct agentlink_state *ret);

#endif

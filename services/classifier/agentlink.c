/* The classifier's link to routerd-ndpi-agent with a circuit breaker. */
#include "agentlink.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/rpc.h"

/* The agent's Status probe: its deadline, and how soon a failed one is repeated. */
#define AGENTLINK_PROBE_BUDGET_MS 250
#define AGENTLINK_PROBE_RETRY_NS 1000000000ull

struct agentlink {
	struct agentlink_opts opts;
	char url[512];
	struct rdpi_rpc_client *client;
	pthread_mutex_t lock;
	enum agentlink_breaker breaker;
	unsigned consecutive_failures;
	uint64_t open_until_ns;
	bool probe_in_flight;
	uint64_t last_probe_ns;
	struct agentlink_state st;
};

void agentlink_endpoint_url(const char *endpoint, char *buf, size_t len)
{
	size_t n = endpoint ? strlen(endpoint) : 0;
	if (n == 0)
		snprintf(buf, len, "%s", "");
	else if (strstr(endpoint, "://"))
		snprintf(buf, len, "%s", endpoint);
	else if (n > 5 && strcmp(endpoint + n - 5, ".sock") == 0)
		snprintf(buf, len, "ipc://%.*s.ipc", (int)(n - 5), endpoint);
	else
		snprintf(buf, len, "ipc://%s", endpoint);
}

int agentlink_new(const struct agentlink_opts *opts, struct agentlink **ret)
{
	struct agentlink *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->opts = *opts;
	if (!a->opts.failure_threshold)
		a->opts.failure_threshold = 3;
	if (!a->opts.backoff_ns)
		a->opts.backoff_ns = 5000000000ull;
	if (!a->opts.probe_interval_ns)
		a->opts.probe_interval_ns = 5000000000ull;
	agentlink_endpoint_url(opts->endpoint, a->url, sizeof(a->url));
	pthread_mutex_init(&a->lock, NULL);
	int rv = rdpi_rpc_client_new(a->url, NULL, &a->client);
	if (rv < 0) {
		agentlink_free(a);
		return rv;
	}
	*ret = a;
	return 0;
}

void agentlink_free(struct agentlink *a)
{
	if (!a)
		return;
	rdpi_rpc_client_free(a->client);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* May a call go out now? Moves OPEN -> HALF_OPEN after the back-off and lets
 * exactly one probe through. */
static bool admit(struct agentlink *a, uint64_t now)
{
	bool ok = false;
	pthread_mutex_lock(&a->lock);
	switch (a->breaker) {
	case AGENTLINK_CLOSED:
		ok = true;
		break;
	case AGENTLINK_OPEN:
		if (now >= a->open_until_ns && !a->probe_in_flight) {
			a->breaker = AGENTLINK_HALF_OPEN;
			a->probe_in_flight = true;
			ok = true;
		}
		break;
	case AGENTLINK_HALF_OPEN:
		if (!a->probe_in_flight) {
			a->probe_in_flight = true;
			ok = true;
		}
		break;
	}
	if (!ok)
		a->st.skipped_open++;
	pthread_mutex_unlock(&a->lock);
	return ok;
}

static void record(struct agentlink *a, enum rdpi_status st, const char *err, uint64_t now)
{
	/* one log line per transition (closed -> open, back to closed); re-opens after a failed
	 * half-open probe are only counted, so a dead agent cannot flood the log */
	bool opened = false, recovered = false;
	char why[sizeof(a->st.error)];
	pthread_mutex_lock(&a->lock);
	a->st.calls++;
	bool half = a->breaker == AGENTLINK_HALF_OPEN;
	recovered = st == RDPI_STATUS_OK && a->st.breaker_opens > 0 && a->breaker != AGENTLINK_CLOSED;
	a->probe_in_flight = false;
	if (st == RDPI_STATUS_OK) {
		a->consecutive_failures = 0;
		a->breaker = AGENTLINK_CLOSED;
		a->st.available = true;
		a->st.error[0] = '\0';
	} else {
		a->st.failures++;
		if (st == RDPI_STATUS_DEADLINE_EXCEEDED)
			a->st.timeouts++;
		a->st.available = st != RDPI_STATUS_UNAVAILABLE;
		snprintf(a->st.error, sizeof(a->st.error), "%s", err);
		a->consecutive_failures++;
		if (half || a->consecutive_failures >= a->opts.failure_threshold) {
			if (a->breaker == AGENTLINK_CLOSED)
				opened = true;
			if (a->breaker != AGENTLINK_OPEN)
				a->st.breaker_opens++;
			a->breaker = AGENTLINK_OPEN;
			a->open_until_ns = now + a->opts.backoff_ns;
			a->st.available = false;
		}
	}
	snprintf(why, sizeof(why), "%s", a->st.error);
	pthread_mutex_unlock(&a->lock);
	if (opened)
		rdpi_log(LOG_WARNING, "agentlink",
			 "ndpi agent %s failing (%s): circuit breaker open, classifying with the "
			 "builtin engine until it answers again",
			 a->url, why);
	else if (recovered)
		rdpi_log(LOG_NOTICE, "agentlink", "ndpi agent %s answers again: circuit breaker closed",
			 a->url);
}

enum rdpi_status agentlink_observe(struct agentlink *a, Routerd__Dpi__V1__ClassifyRequest **reqs,
				   size_t n, uint32_t timeout_ms,
				   Routerd__Dpi__V1__ObserveBatchReply **ret_reply, char *err,
				   size_t errlen)
{
	uint64_t now = rdpi_monotonic_ns();
	if (!admit(a, now)) {
		snprintf(err, errlen, "agent circuit breaker open after repeated failures");
		return RDPI_STATUS_UNAVAILABLE;
	}
	Routerd__Dpi__V1__ObserveBatchRequest req = ROUTERD__DPI__V1__OBSERVE_BATCH_REQUEST__INIT;
	req.requests = reqs;
	req.n_requests = n;
	ProtobufCMessage *m = NULL;
	enum rdpi_status st = rdpi_rpc_client_call(
	    a->client, "ObserveBatch", &req.base,
	    &routerd__dpi__v1__observe_batch_reply__descriptor, timeout_ms, &m, err, errlen);
	if (st == RDPI_STATUS_OK) {
		Routerd__Dpi__V1__ObserveBatchReply *rep = (void *)m;
		if (rep->n_results != n) {
			snprintf(err, errlen, "agent answered %zu results for %zu packets",
				 rep->n_results, n);
			protobuf_c_message_free_unpacked(m, NULL);
			st = RDPI_STATUS_INTERNAL;
		} else {
			*ret_reply = rep;
		}
	}
	record(a, st, err, rdpi_monotonic_ns());
	return st;
}

void agentlink_state(struct agentlink *a, struct agentlink_state *ret)
{
	uint64_t now = rdpi_monotonic_ns();
	bool probe = false;
	pthread_mutex_lock(&a->lock);
	if (a->breaker != AGENTLINK_OPEN && now - a->last_probe_ns >= a->opts.probe_interval_ns) {
		a->last_probe_ns = now;
		probe = true;
	}
	pthread_mutex_unlock(&a->lock);
	if (probe) {
		Routerd__Dpi__V1__Empty e = ROUTERD__DPI__V1__EMPTY__INIT;
		ProtobufCMessage *m = NULL;
		char err[160];
		enum rdpi_status st = rdpi_rpc_client_call(
		    a->client, "Status", &e.base, &routerd__dpi__v1__agent_status__descriptor,
		    AGENTLINK_PROBE_BUDGET_MS, &m, err, sizeof(err));
		pthread_mutex_lock(&a->lock);
		/* a failed probe is retried after 1 s, not a whole interval: one slow answer
		 * would otherwise hide the agent's state from /v1/status for 5 s */
		if (st != RDPI_STATUS_OK && a->opts.probe_interval_ns > AGENTLINK_PROBE_RETRY_NS)
			a->last_probe_ns = now - a->opts.probe_interval_ns + AGENTLINK_PROBE_RETRY_NS;
		if (st == RDPI_STATUS_OK) {
			Routerd__Dpi__V1__AgentStatus *s = (void *)m;
			a->st.libndpi_loaded = s->libndpiloaded;
			a->st.available = true;
			if (!s->libndpiloaded)
				snprintf(a->st.error, sizeof(a->st.error), "%s",
					 s->reason && *s->reason ? s->reason
								 : "agent has no libndpi");
		} else {
			a->st.available = false;
			a->st.libndpi_loaded = false;
			snprintf(a->st.error, sizeof(a->st.error), "%s", err);
		}
		pthread_mutex_unlock(&a->lock);
		if (m)
			protobuf_c_message_free_unpacked(m, NULL);
	}
	pthread_mutex_lock(&a->lock);
	*ret = a->st;
	ret->breaker = a->breaker;
	pthread_mutex_unlock(&a->lock);
}

void agentlink_peek(struct agentlink *a, struct agentlink_state *ret)
{
	pthread_mutex_lock(&a->lock);
	*ret = a->st;
	ret->breaker = a->breaker;
	pthread_mutex_unlock(&a->lock);
}

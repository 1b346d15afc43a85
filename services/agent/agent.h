/* routerd-ndpi-agent service: the Agent RPC handlers (ObservePacket,
 * ObserveBatch, ResetFlow, Status, Healthz) over the flow engine, status and
 * resource reporting, and the counters behind /metrics. */
#ifndef RDPI_AGENT_AGENT_H
#define RDPI_AGENT_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"
#include "routerd/dpi/v1/agent.pb-c.h"

struct agent;
struct agentcfg;
struct rdpi_counters;
struct rdpi_service_opts;

#define AGENT_MAX_BATCH		 4096
#define AGENT_REASON_NOT_BUILT	 "libndpi backend is not enabled in this build"
#define AGENT_REASON_INIT_FAILED "libndpi failed to initialise"

/* Build the engine from cfg (copied; normalised values expected). Without
 * libndpi (or when it fails to initialise) the agent still runs and answers
 * honestly. -ENOMEM, -EINVAL. */
int agent_new(const struct agentcfg *cfg, struct agent **ret);
void agent_free(struct agent *a); /* NULL ok; stop transports first */

/* Apply a reloaded config (name, budgets; a new limit/ttl rebuilds the flow
 * table). 0 or -errno, the old settings stay on failure. */
int agent_configure(struct agent *a, const struct agentcfg *cfg);

/* Service options for rdpi_service_new (handlers, descriptor, timeout,
 * workers, JSON options); valid while a lives. */
void agent_service_opts(struct agent *a, struct rdpi_service_opts *ret);

/* Register counters and gauges (prefix of the registry applies). */
int agent_register_metrics(struct agent *a, struct rdpi_counters *reg);

/* Periodic maintenance: idle expiry, bounded work. */
void agent_tick(struct agent *a);

/* 1 when libndpi is loaded and working. */
int agent_backend_ok(const struct agent *a);

/* Direct calls (selftest, tests): same code paths as the RPC handlers. */
int agent_observe(struct agent *a, const Routerd__Dpi__V1__ClassifyRequest *rq,
		  result_alloc_fn alloc_fn, void *arg, Routerd__Dpi__V1__ClassifyResult *out);
int agent_status(struct agent *a, result_alloc_fn alloc_fn, void *arg,
		 Routerd__Dpi__V1__AgentStatus *out);

#endif

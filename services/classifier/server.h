/* The classifier's RPC methods (Classify, ClassifyBatch, Status, Healthz)
 * over the engine, shared by the NNG endpoint, the HTTP shim and the
 * in-process `classify` / `selftest` subcommands. */
#ifndef RDPI_CLASSIFIER_SERVER_H
#define RDPI_CLASSIFIER_SERVER_H

#include <stdint.h>

#include "common/service.h"
#include "engine.h"

struct agentlink;
struct rdpi_counters;
struct server;

struct server_info {
	const char *name;
	enum engine_kind kind;
	const char *agent_socket; /* as configured, for status */
	const char *ndpi_reader;  /* deprecated flag value, "" when unset */
	uint32_t timeout_ms;	  /* agent budget per call */
};

/* engine and agent (may be NULL) are borrowed and must outlive the server. */
int server_new(const struct server_info *info, struct engine *engine, struct agentlink *agent,
	       struct server **ret);
void server_free(struct server *s);

/* Handlers indexed like routerd__dpi__v1__classifier__descriptor.methods;
 * the service's arg must be the struct server. */
const rdpi_method_fn *server_handlers(void);

void server_set_timeout(struct server *s, uint32_t timeout_ms);

/* Register the status counters and gauges on a /metrics registry. */
int server_register_metrics(struct server *s, struct rdpi_counters *reg);

#endif

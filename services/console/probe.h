/* DPI health probe: a background thread GETs /v1/status from the classifier, agent and logger
 * Unix sockets every interval (HTTP/1.0, poll deadline), parses the JSON and caches the
 * result; API requests only read the cache, never probe. */
#ifndef RDPI_SERVICES_CONSOLE_PROBE_H
#define RDPI_SERVICES_CONSOLE_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

enum probe_target { PROBE_CLASSIFIER, PROBE_AGENT, PROBE_LOGGER, PROBE__N };

struct probe;
struct rdpi_counters;

struct probe_opts {
	const char *sockets[PROBE__N]; /* "" or NULL: not probed (reported unreachable) */
	int64_t interval_ns, timeout_ns;
	struct rdpi_counters *reg; /* probe_ok/probe_errors{target=...}; may be NULL */
};

/* Starts the thread; the first round runs immediately. */
int probe_new(const struct probe_opts *opts, struct probe **ret);
void probe_free(struct probe *p);
/* Live update (SIGHUP). */
void probe_set_timing(struct probe *p, int64_t interval_ns, int64_t timeout_ns);

/* The cached state of a target, rendered for the summary: a new object with reachable,
 * checkedAt (unix ns, 0 = never), error and the status document (borrowed copy) through
 * *ret_status (json_decref by the caller; NULL when unreachable). */
struct probe_result {
	bool reachable;
	int64_t checked_at_ns;
	char error[256];
	json_t *status;
};
void probe_get(struct probe *p, enum probe_target t, struct probe_result *ret);

/* One synchronous GET (used by the thread; exposed for tests). Body parsed as JSON. */
int probe_once(const char *socket_path, const char *path, int timeout_ms, json_t **ret, char *err,
	       size_t errlen);

#endif

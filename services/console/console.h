/* routerd-dpi-console core: the read-only /api/v1/... handlers, embedded assets, /healthz and
 * /metrics behind common/httpshim's raw handler; owns the two databases and the probe. */
#ifndef RDPI_SERVICES_CONSOLE_CONSOLE_H
#define RDPI_SERVICES_CONSOLE_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

struct console;
struct rdpi_counters;
struct rdpi_http_request;

struct console_opts {
	const char *firewall_db, *traffic_db;
	const char *classifier_socket, *agent_socket, *logger_socket;
	int64_t health_interval_ns, probe_timeout_ns;
	int64_t max_limit; /* cap of limit= on the list endpoints */
	/* result cache: answers younger than ttl are served even when the data changed, older
	 * ones only while both files are unchanged and younger than max_age; ttl 0: off */
	int64_t cache_ttl_ns, cache_max_age_ns;
};

/* reg: the daemon's registry (prefix routerd_dpi_console_), served at /metrics. */
int console_new(const struct console_opts *opts, struct rdpi_counters *reg, struct console **ret);
void console_free(struct console *c);
void console_set_timing(struct console *c, int64_t health_interval_ns, int64_t probe_timeout_ns);

/* rdpi_httpshim_raw_fn: every path; GET/HEAD only (405 {"error":"read-only console"}). */
int console_http(void *arg, const struct rdpi_http_request *req, int *ret_status,
		 const char **ret_content_type, char **ret_body, size_t *ret_len);

#endif

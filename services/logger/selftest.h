/* `routerd-firewall-logger selftest`: the Go logger's four synthetic records, written through
 * the real writer and store (and the real classifier when one answers). */
#ifndef RDPI_SERVICES_LOGGER_SELFTEST_H
#define RDPI_SERVICES_LOGGER_SELFTEST_H

#include <stdint.h>
#include <stdio.h>

struct selftest_opts {
	const char *path;    /* firewall-logs.db */
	const char *dpi_url; /* NULL: no classifier */
	uint32_t dpi_timeout_ms;
};

/* Writes: a drop with SYN; a drop of a TLS ClientHello, classified when the classifier
 * answers; a forward-accept flow classified as routerd-flow-cache.example (dpi_flow); an
 * orphan return (expired_flows row + correlated drop). Prints {"ok":true,"path":...} to out on
 * success, {"ok":false,"path":...,"error":...} otherwise (returns < 0). */
int selftest_run(const struct selftest_opts *o, FILE *out);

#endif

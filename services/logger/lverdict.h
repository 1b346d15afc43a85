/* A classifier verdict as the logger keeps it: one allocation holding the typed fields of a
 * ClassifyResult (risk and metadata already rendered as JSON text), small enough to sit in the
 * in-memory flow table for deny enrichment. */
#ifndef RDPI_SERVICES_LOGGER_LVERDICT_H
#define RDPI_SERVICES_LOGGER_LVERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "routerd/dpi/v1/common.pb-c.h"

struct lverdict {
	/* never NULL: "" when absent */
	const char *app_name, *app_category, *detected_protocol, *master_protocol,
	    *application_protocol, *category, *risk_json, *confidence, *metadata_json, *engine,
	    *source, *tls_sni, *http_host, *dns_query, *reason;
	int app_confidence;
	int risk_score;
	bool guessed;
	bool final;
	/* string bytes follow */
};

/* Copies r into one malloc'd block; NULL on OOM. */
struct lverdict *lverdict_from_result(const Routerd__Dpi__V1__ClassifyResult *r);

/* Builds a verdict from plain fields (tests, selftest, SQLite fallback); NULL strings read "". */
struct lverdict *lverdict_make(const struct lverdict *fields);

struct lverdict *lverdict_dup(const struct lverdict *v);
void lverdict_free(struct lverdict *v);

/* Has an application label: app_name set and not "unknown". */
bool lverdict_known(const struct lverdict *v);

/* store_source_rank() of the verdict; -1 for NULL or not known. */
int lverdict_rank(const struct lverdict *v);

/* Short evidence label for hint sentences: "TLS-SNI=x", "HTTP-Host=x", "DNS=x", else the
 * app name ("app=x"). buf >= 300. */
const char *lverdict_label(const struct lverdict *v, char *buf, size_t len);

#endif

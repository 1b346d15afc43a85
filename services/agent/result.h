/* Maps a flow engine answer to the wire ClassifyResult: lowercased nDPI
 * names, confidence scale, risks, host fields by protocol, metadata keys. */
#ifndef RDPI_AGENT_RESULT_H
#define RDPI_AGENT_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "routerd/dpi/v1/common.pb-c.h"

struct flows_result;
struct ndpi_adapter;

/* Zeroed memory that lives as long as the message (call arena, selftest arena). */
typedef void *(*result_alloc_fn)(void *arg, size_t size);

/* Confidence 0..100 for an nDPI confidence (DPI 95, cache 85, IP 65, port 45). */
int result_confidence_score(unsigned ndpi_confidence);

/* Fill out (initialised by the caller) from r. ad may be NULL (unavailable
 * build). Strings are allocated with alloc_fn; -ENOMEM when it fails. */
int result_fill(struct ndpi_adapter *ad, const struct flows_result *r, result_alloc_fn alloc_fn,
		void *arg, Routerd__Dpi__V1__ClassifyResult *out);

/* Copy of s in alloc_fn memory, NULL on failure. */
char *result_strdup(result_alloc_fn alloc_fn, void *arg, const char *s);

#endif

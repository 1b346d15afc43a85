/* Finalization: an engine item becomes a legacy ClassifyResult (lowercase
 * names, applicationProtocol/detectedProtocol/category/confidence filled,
 * metadata reason, tls.sni, http.host, dns.query). */
#ifndef RDPI_CLASSIFIER_RESULT_H
#define RDPI_CLASSIFIER_RESULT_H

#include "engine.h"
#include "routerd/dpi/v1/common.pb-c.h"

struct rdpi_call;

/* Fill res (initialised) with memory from call's arena. */
int result_fill(struct rdpi_call *call, const struct engine_item *it,
		Routerd__Dpi__V1__ClassifyResult *res);

/* Confidence name for a verdict without an nDPI one ("DPI", "Match by port" ...). */
const char *result_confidence_name(const struct verdict *v);

#endif

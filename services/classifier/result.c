/* Finalization of classifier results (see result.h). */
#include "result.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/service.h"

static const char *const confidence_names[] = {
    [VERDICT_SOURCE_UNKNOWN] = "Unknown",
    [VERDICT_SOURCE_BUILTIN] = "Unknown",
    [VERDICT_SOURCE_PORT_FALLBACK] = "Match by port",
    [VERDICT_SOURCE_NDPI_GUESS] = "Match by port",
    [VERDICT_SOURCE_DNS_CACHE] = "DNS cache",
    [VERDICT_SOURCE_SNI_CACHE] = "SNI cache",
    [VERDICT_SOURCE_BUILTIN_PAYLOAD] = "DPI",
    [VERDICT_SOURCE_NDPI] = "DPI",
};
_Static_assert(sizeof(confidence_names) / sizeof(confidence_names[0]) == VERDICT_SOURCE__COUNT,
	       "confidence_names must cover every source");

const char *result_confidence_name(const struct verdict *v)
{
	if (v->ndpi_confidence[0])
		return v->ndpi_confidence;
	return (unsigned)v->source < VERDICT_SOURCE__COUNT ? confidence_names[v->source]
							   : "Unknown";
}

static char *dup_or_null(struct rdpi_call *call, const char *s)
{
	return s && *s ? rdpi_call_strdup(call, s) : NULL;
}

#define STR(field, value)                                                                          \
	do {                                                                                       \
		char *s_ = dup_or_null(call, value);                                               \
		if (s_)                                                                            \
			res->field = s_;                                                           \
	} while (0)

static int add_meta(struct rdpi_call *call, Routerd__Dpi__V1__ClassifyResult *res, size_t *cap,
		    const char *key, const char *value)
{
	if (!value || !*value)
		return 0;
	for (size_t i = 0; i < res->n_metadata; i++)
		if (strcmp(res->metadata[i]->key, key) == 0)
			return 0;
	if (res->n_metadata == *cap)
		return -ENOSPC;
	Routerd__Dpi__V1__ClassifyResult__MetadataEntry *m = rdpi_call_alloc(call, sizeof(*m));
	if (!m)
		return -ENOMEM;
	routerd__dpi__v1__classify_result__metadata_entry__init(m);
	m->key = rdpi_call_strdup(call, key);
	m->value = rdpi_call_strdup(call, value);
	res->metadata[res->n_metadata++] = m;
	return 0;
}

int result_fill(struct rdpi_call *call, const struct engine_item *it,
		Routerd__Dpi__V1__ClassifyResult *res)
{
	const struct verdict *v = &it->v;
	bool known = verdict_known(v);
	const char *app = known ? v->app : "unknown";
	char detected[2 * VERDICT_NAME_MAX + 2];
	if (v->detected[0])
		snprintf(detected, sizeof(detected), "%s", v->detected);
	else if (known && v->master[0] && strcmp(v->master, v->app) != 0)
		snprintf(detected, sizeof(detected), "%s.%s", v->master, v->app);
	else
		snprintf(detected, sizeof(detected), "%s", app);

	STR(appname, app);
	STR(appcategory, known ? v->category : "unknown");
	res->appconfidence = known ? v->confidence : 0;
	STR(detectedprotocol, detected);
	STR(masterprotocol, v->master);
	STR(applicationprotocol, v->application[0] ? v->application : app);
	STR(category, known ? v->category : "unknown");
	STR(confidence, result_confidence_name(v));
	STR(source, verdict_source_name(v->source));
	STR(tlssni, v->tls_sni);
	STR(httphost, v->http_host);
	STR(dnsquery, v->dns_query);
	STR(l3proto, it->l3);
	STR(transportprotocol, it->l4);
	STR(srcaddress, it->src);
	STR(dstaddress, it->dst);
	res->srcport = it->sport;
	res->dstport = it->dport;
	res->engine = rdpi_call_strdup(call, it->used_agent ? "ndpi-agent" : "builtin");
	STR(reason, v->reason);
	STR(fallbackreason, it->fallback_reason);
	res->riskscore = v->risk_score;
	res->guessed = v->guessed;
	res->final = v->final;
	STR(flowid, it->flow_id);

	if (v->risk[0]) {
		size_t n = 1;
		for (const char *c = v->risk; *c; c++)
			n += *c == ',';
		res->risk = rdpi_call_alloc(call, n * sizeof(char *));
		char *copy = rdpi_call_strdup(call, v->risk);
		if (!res->risk || !copy)
			return -ENOMEM;
		char *save = NULL;
		for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			res->risk[res->n_risk++] = tok;
	}

	size_t cap = v->n_meta + 6;
	res->metadata = rdpi_call_alloc(call, cap * sizeof(*res->metadata));
	if (!res->metadata)
		return -ENOMEM;
	add_meta(call, res, &cap, "reason", v->reason);
	add_meta(call, res, &cap, "tls.sni", v->tls_sni);
	add_meta(call, res, &cap, "http.host", v->http_host);
	add_meta(call, res, &cap, "dns.query", v->dns_query);
	add_meta(call, res, &cap, "resolvedHostname", v->resolved_host);
	for (size_t i = 0; i < v->n_meta; i++)
		add_meta(call, res, &cap, v->meta[i].key, v->meta[i].value);
	return 0;
}

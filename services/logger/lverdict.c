/* Logger verdicts: one block per ClassifyResult, with risk and metadata as JSON text. */
#include "lverdict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store.h"

enum {
	F_APP,
	F_APPCAT,
	F_DET,
	F_MASTER,
	F_APPPROTO,
	F_CAT,
	F_RISK,
	F_CONF,
	F_META,
	F_ENGINE,
	F_SOURCE,
	F_SNI,
	F_HOST,
	F_QUERY,
	F_REASON,
	F__N
};

static const char **field(struct lverdict *v, int i)
{
	const char **f[F__N] = {&v->app_name,
				&v->app_category,
				&v->detected_protocol,
				&v->master_protocol,
				&v->application_protocol,
				&v->category,
				&v->risk_json,
				&v->confidence,
				&v->metadata_json,
				&v->engine,
				&v->source,
				&v->tls_sni,
				&v->http_host,
				&v->dns_query,
				&v->reason};
	return f[i];
}

/* One block: the struct, then every string NUL-terminated. */
static struct lverdict *pack(const char *const s[F__N], const struct lverdict *nums)
{
	size_t len[F__N], total = sizeof(struct lverdict);
	for (int i = 0; i < F__N; i++) {
		len[i] = s[i] ? strlen(s[i]) : 0;
		total += len[i] + 1;
	}
	struct lverdict *v = malloc(total);
	if (!v)
		return NULL;
	v->app_confidence = nums->app_confidence;
	v->risk_score = nums->risk_score;
	v->guessed = nums->guessed;
	v->final = nums->final;
	char *p = (char *)(v + 1);
	for (int i = 0; i < F__N; i++) {
		if (len[i])
			memcpy(p, s[i], len[i]);
		p[len[i]] = '\0';
		*field(v, i) = p;
		p += len[i] + 1;
	}
	return v;
}

struct lverdict *lverdict_make(const struct lverdict *fields)
{
	const char *s[F__N];
	for (int i = 0; i < F__N; i++)
		s[i] = *field((struct lverdict *)fields, i);
	return pack(s, fields);
}

struct lverdict *lverdict_dup(const struct lverdict *v)
{
	return v ? lverdict_make(v) : NULL;
}

void lverdict_free(struct lverdict *v)
{
	free(v);
}

static char *dump_compact(json_t *j)
{
	char *t = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	return t;
}

struct lverdict *lverdict_from_result(const Routerd__Dpi__V1__ClassifyResult *r)
{
	char *risk = NULL, *meta = NULL;
	if (r->n_risk) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < r->n_risk; i++)
			json_array_append_new(a, json_string(r->risk[i] ? r->risk[i] : ""));
		risk = dump_compact(a);
	}
	if (r->n_metadata) {
		json_t *o = json_object();
		for (size_t i = 0; o && i < r->n_metadata; i++)
			if (r->metadata[i]->key)
				json_object_set_new(o, r->metadata[i]->key,
						    json_string(r->metadata[i]->value
								    ? r->metadata[i]->value
								    : ""));
		meta = dump_compact(o);
	}
	const char *s[F__N] = {r->appname,
			       r->appcategory,
			       r->detectedprotocol,
			       r->masterprotocol,
			       r->applicationprotocol,
			       r->category,
			       risk ? risk : "",
			       r->confidence,
			       meta ? meta : "",
			       r->engine,
			       r->source,
			       r->tlssni,
			       r->httphost,
			       r->dnsquery,
			       r->reason};
	struct lverdict nums = {.app_confidence = r->appconfidence,
				.risk_score = r->riskscore,
				.guessed = r->guessed,
				.final = r->final};
	struct lverdict *v = pack(s, &nums);
	free(risk);
	free(meta);
	return v;
}

bool lverdict_known(const struct lverdict *v)
{
	return v && v->app_name[0] && strcmp(v->app_name, "unknown") != 0;
}

int lverdict_rank(const struct lverdict *v)
{
	if (!lverdict_known(v))
		return -1;
	return store_source_rank(v->source, v->guessed);
}

const char *lverdict_label(const struct lverdict *v, char *buf, size_t len)
{
	if (v->tls_sni[0])
		snprintf(buf, len, "TLS-SNI=%s", v->tls_sni);
	else if (v->http_host[0])
		snprintf(buf, len, "HTTP-Host=%s", v->http_host);
	else if (v->dns_query[0])
		snprintf(buf, len, "DNS=%s", v->dns_query);
	else
		snprintf(buf, len, "app=%s", v->app_name);
	return buf;
}

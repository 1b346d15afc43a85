/* Verdict merging: the "classification only improves" rule in one place. */
#include "verdict.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const source_names[] = {
    [VERDICT_SOURCE_UNKNOWN] = "unknown",
    [VERDICT_SOURCE_BUILTIN] = "builtin",
    [VERDICT_SOURCE_PORT_FALLBACK] = "port-fallback",
    [VERDICT_SOURCE_NDPI_GUESS] = "ndpi-agent",
    [VERDICT_SOURCE_DNS_CACHE] = "dns-cache",
    [VERDICT_SOURCE_SNI_CACHE] = "sni-cache",
    [VERDICT_SOURCE_BUILTIN_PAYLOAD] = "builtin-payload",
    [VERDICT_SOURCE_NDPI] = "ndpi-agent",
};
_Static_assert(sizeof(source_names) / sizeof(source_names[0]) == VERDICT_SOURCE__COUNT,
	       "source_names must cover every source");

static const int source_ranks[] = {
    [VERDICT_SOURCE_UNKNOWN] = 0,	  [VERDICT_SOURCE_BUILTIN] = 0,
    [VERDICT_SOURCE_PORT_FALLBACK] = 1,	  [VERDICT_SOURCE_NDPI_GUESS] = 2,
    [VERDICT_SOURCE_DNS_CACHE] = 3,	  [VERDICT_SOURCE_SNI_CACHE] = 3,
    [VERDICT_SOURCE_BUILTIN_PAYLOAD] = 4, [VERDICT_SOURCE_NDPI] = 5,
};
_Static_assert(sizeof(source_ranks) / sizeof(source_ranks[0]) == VERDICT_SOURCE__COUNT,
	       "source_ranks must cover every source");

const char *verdict_source_name(enum verdict_source s)
{
	if ((unsigned)s >= VERDICT_SOURCE__COUNT)
		return "unknown";
	return source_names[s];
}

int verdict_source_rank(enum verdict_source s)
{
	if ((unsigned)s >= VERDICT_SOURCE__COUNT)
		return 0;
	return source_ranks[s];
}

/* Cheap on purpose (the struct is a few KiB and this runs several times per
 * packet): every string is read only up to its NUL, so only [0] is cleared. */
void verdict_init(struct verdict *v)
{
	v->source = VERDICT_SOURCE_UNKNOWN;
	v->confidence = 0;
	v->guessed = false;
	v->final = false;
	v->app[0] = v->category[0] = v->master[0] = v->detected[0] = v->application[0] = '\0';
	v->ndpi_confidence[0] = v->reason[0] = '\0';
	v->tls_sni[0] = v->http_host[0] = v->dns_query[0] = v->resolved_host[0] = '\0';
	v->risk[0] = '\0';
	v->risk_score = 0;
	v->n_meta = 0;
}

/* strlcpy: copy with truncation, always NUL-terminated. */
static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

bool verdict_known(const struct verdict *v)
{
	return v->app[0] != '\0' && strcmp(v->app, "unknown") != 0;
}

void verdict_copy_name(char *dst, size_t len, const char *src)
{
	size_t i = 0;
	if (len == 0)
		return;
	for (; src && src[i] && i + 1 < len; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

int verdict_meta_set(struct verdict *v, const char *key, const char *value)
{
	if (!value || !*value)
		return 0;
	struct verdict_meta *m = NULL;
	for (size_t i = 0; i < v->n_meta; i++)
		if (strcmp(v->meta[i].key, key) == 0)
			m = &v->meta[i];
	if (!m) {
		if (v->n_meta >= VERDICT_META_MAX)
			return -ENOSPC;
		m = &v->meta[v->n_meta++];
		copy_str(m->key, sizeof(m->key), key);
	}
	copy_str(m->value, sizeof(m->value), value);
	return 0;
}

const char *verdict_meta_get(const struct verdict *v, const char *key)
{
	for (size_t i = 0; i < v->n_meta; i++)
		if (strcmp(v->meta[i].key, key) == 0)
			return v->meta[i].value;
	return NULL;
}

#define FILL(field)                                                                                \
	do {                                                                                       \
		if (!dst->field[0] && src->field[0])                                               \
			copy_str(dst->field, sizeof(dst->field), src->field);                      \
	} while (0)

void verdict_merge(struct verdict *dst, const struct verdict *src)
{
	bool stronger = verdict_known(src) &&
			(!verdict_known(dst) ||
			 verdict_source_rank(src->source) > verdict_source_rank(dst->source));
	if (stronger) {
		dst->source = src->source;
		dst->confidence = src->confidence;
		dst->guessed = src->guessed;
		copy_str(dst->app, sizeof(dst->app), src->app);
		copy_str(dst->category, sizeof(dst->category), src->category);
		copy_str(dst->master, sizeof(dst->master), src->master);
		copy_str(dst->detected, sizeof(dst->detected), src->detected);
		copy_str(dst->application, sizeof(dst->application), src->application);
		copy_str(dst->ndpi_confidence, sizeof(dst->ndpi_confidence), src->ndpi_confidence);
		copy_str(dst->reason, sizeof(dst->reason), src->reason);
		if (src->risk[0]) {
			copy_str(dst->risk, sizeof(dst->risk), src->risk);
			dst->risk_score = src->risk_score;
		}
	} else if (!verdict_known(dst) && src->source != VERDICT_SOURCE_UNKNOWN &&
		   (dst->source == VERDICT_SOURCE_UNKNOWN ||
		    verdict_source_rank(src->source) > verdict_source_rank(dst->source))) {
		/* neither knows the app: keep the more informative "no signal" record */
		dst->source = src->source;
		FILL(reason);
	}
	FILL(tls_sni);
	FILL(http_host);
	FILL(dns_query);
	FILL(resolved_host);
	FILL(risk);
	for (size_t i = 0; i < src->n_meta; i++)
		if (!verdict_meta_get(dst, src->meta[i].key))
			verdict_meta_set(dst, src->meta[i].key, src->meta[i].value);
	if (src->final)
		dst->final = true;
}

/* ---- compact form: header bytes then [tag][len][bytes] per non-empty string ---- */

enum pack_tag {
	TAG_APP = 1,
	TAG_CATEGORY,
	TAG_MASTER,
	TAG_DETECTED,
	TAG_APPLICATION,
	TAG_NDPI_CONF,
	TAG_REASON,
	TAG_SNI,
	TAG_HOST,
	TAG_QUERY,
	TAG_RESOLVED,
	TAG_RISK,
	TAG_META_KEY,
	TAG_META_VALUE,
};

struct pack_field {
	enum pack_tag tag;
	size_t offset, size;
};

#define PF(t, f)                                                                                   \
	{                                                                                          \
		t, offsetof(struct verdict, f), sizeof(((struct verdict *)0)->f)                   \
	}
static const struct pack_field pack_fields[] = {
    PF(TAG_APP, app),
    PF(TAG_CATEGORY, category),
    PF(TAG_MASTER, master),
    PF(TAG_DETECTED, detected),
    PF(TAG_APPLICATION, application),
    PF(TAG_NDPI_CONF, ndpi_confidence),
    PF(TAG_REASON, reason),
    PF(TAG_SNI, tls_sni),
    PF(TAG_HOST, http_host),
    PF(TAG_QUERY, dns_query),
    PF(TAG_RESOLVED, resolved_host),
    PF(TAG_RISK, risk),
};
#undef PF

#define PACK_HEADER 8

static size_t put(uint8_t *out, size_t at, uint8_t tag, const char *s)
{
	size_t n = strlen(s);
	if (n > 255)
		n = 255;
	if (out) {
		out[at] = tag;
		out[at + 1] = (uint8_t)n;
		memcpy(out + at + 2, s, n);
	}
	return at + 2 + n;
}

static size_t pack_into(const struct verdict *v, uint8_t *out)
{
	size_t at = PACK_HEADER;
	if (out) {
		out[0] = (uint8_t)v->source;
		out[1] = v->confidence;
		out[2] = (uint8_t)((v->guessed ? 1 : 0) | (v->final ? 2 : 0));
		out[3] = (uint8_t)v->n_meta;
		memcpy(out + 4, &v->risk_score, 4);
	}
	for (size_t i = 0; i < sizeof(pack_fields) / sizeof(pack_fields[0]); i++) {
		const char *s = (const char *)v + pack_fields[i].offset;
		if (*s)
			at = put(out, at, (uint8_t)pack_fields[i].tag, s);
	}
	for (size_t i = 0; i < v->n_meta; i++) {
		at = put(out, at, TAG_META_KEY, v->meta[i].key);
		at = put(out, at, TAG_META_VALUE, v->meta[i].value);
	}
	return at;
}

int verdict_pack(const struct verdict *v, uint8_t **ret, size_t *ret_len)
{
	size_t n = pack_into(v, NULL);
	uint8_t *buf = malloc(n);
	if (!buf)
		return -ENOMEM;
	pack_into(v, buf);
	*ret = buf;
	*ret_len = n;
	return 0;
}

static void copy_n(char *dst, size_t size, const char *src, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int verdict_unpack(const uint8_t *p, size_t n, struct verdict *ret)
{
	struct verdict v;
	verdict_init(&v);
	if (n < PACK_HEADER || p[0] >= VERDICT_SOURCE__COUNT)
		return -EINVAL;
	v.source = (enum verdict_source)p[0];
	v.confidence = p[1];
	v.guessed = p[2] & 1;
	v.final = (p[2] & 2) != 0;
	memcpy(&v.risk_score, p + 4, 4);
	size_t at = PACK_HEADER;
	char key[sizeof(v.meta[0].key)] = "";
	while (at < n) {
		if (n - at < 2 || n - at - 2 < p[at + 1])
			return -EINVAL;
		uint8_t tag = p[at], len = p[at + 1];
		const char *s = (const char *)p + at + 2;
		at += 2u + len;
		if (tag == TAG_META_KEY) {
			copy_n(key, sizeof(key), s, len);
			continue;
		}
		if (tag == TAG_META_VALUE) {
			char val[sizeof(v.meta[0].value)];
			copy_n(val, sizeof(val), s, len);
			verdict_meta_set(&v, key, val);
			continue;
		}
		size_t i = 0;
		while (i < sizeof(pack_fields) / sizeof(pack_fields[0]) &&
		       pack_fields[i].tag != tag)
			i++;
		if (i == sizeof(pack_fields) / sizeof(pack_fields[0]))
			return -EINVAL;
		copy_n((char *)&v + pack_fields[i].offset, pack_fields[i].size, s, len);
	}
	*ret = v;
	return 0;
}

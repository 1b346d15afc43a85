/* One flow's classification while it is being worked on: the builtin engine,
 * the agent and the caches each produce one, and verdict_merge keeps the
 * strongest evidence (a classification only improves). */
#ifndef RDPI_CLASSIFIER_VERDICT_H
#define RDPI_CLASSIFIER_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ordered weakest to strongest; see verdict_source_rank(). */
enum verdict_source {
	VERDICT_SOURCE_UNKNOWN,		/* "unknown": nothing ran */
	VERDICT_SOURCE_BUILTIN,		/* "builtin": builtin saw no application signal */
	VERDICT_SOURCE_PORT_FALLBACK,	/* "port-fallback" */
	VERDICT_SOURCE_NDPI_GUESS,	/* "ndpi-agent" with guessed = true */
	VERDICT_SOURCE_DNS_CACHE,	/* "dns-cache" */
	VERDICT_SOURCE_SNI_CACHE,	/* "sni-cache" */
	VERDICT_SOURCE_BUILTIN_PAYLOAD, /* "builtin-payload" */
	VERDICT_SOURCE_NDPI,		/* "ndpi-agent" by DPI */
	VERDICT_SOURCE__COUNT,
};

#define VERDICT_NAME_MAX 48
#define VERDICT_HOST_MAX 256
#define VERDICT_META_MAX 8

struct verdict_meta {
	char key[24];
	char value[160];
};

struct verdict {
	enum verdict_source source;
	uint8_t confidence; /* appConfidence 0..100 */
	bool guessed;
	bool final;			 /* no further packet can improve it */
	char app[VERDICT_NAME_MAX];	 /* appName, lowercase */
	char category[VERDICT_NAME_MAX]; /* appCategory */
	char master[VERDICT_NAME_MAX];	 /* masterProtocol (transport-level app: tls, quic, dns) */
	char detected[VERDICT_NAME_MAX]; /* detectedProtocol */
	char application[VERDICT_NAME_MAX]; /* applicationProtocol */
	char ndpi_confidence[24];	    /* confidence: nDPI's name, "" for builtin */
	char reason[48];
	char tls_sni[VERDICT_HOST_MAX];
	char http_host[VERDICT_HOST_MAX];
	char dns_query[VERDICT_HOST_MAX];
	char resolved_host[VERDICT_HOST_MAX]; /* dns-cache name for the peer */
	char risk[160];			      /* comma separated risk names */
	int32_t risk_score;
	size_t n_meta;
	struct verdict_meta meta[VERDICT_META_MAX];
};

/* Static names used on the wire ("builtin-payload", ...). */
const char *verdict_source_name(enum verdict_source s);
/* Strength used by merge: ndpi > builtin-payload > dns/sni-cache > ndpi guess >
 * port-fallback > builtin/unknown. */
int verdict_source_rank(enum verdict_source s);

void verdict_init(struct verdict *v);
/* True when v carries an application (not unknown / no signal). */
bool verdict_known(const struct verdict *v);

/* Add or replace one metadata key (truncated to fit); -ENOSPC when full. */
int verdict_meta_set(struct verdict *v, const char *key, const char *value);
const char *verdict_meta_get(const struct verdict *v, const char *key);

/* Fold src into dst: a stronger source replaces the labels; a weaker or equal
 * one never replaces a known app, and only fills empty hostnames and metadata
 * (a later unknown never erases what is known). final is sticky. */
void verdict_merge(struct verdict *dst, const struct verdict *src);

/* Copy with truncation and lowercasing (ASCII). */
void verdict_copy_name(char *dst, size_t len, const char *src);

/* Compact form for caches: only non-empty fields, ~100 bytes for a typical
 * flow instead of sizeof(struct verdict). *ret is malloc'd; free() it. */
int verdict_pack(const struct verdict *v, uint8_t **ret, size_t *ret_len);
/* -EINVAL on a corrupt buffer. */
int verdict_unpack(const uint8_t *p, size_t n, struct verdict *ret);

#endif

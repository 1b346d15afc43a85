/* The agent's only door to libndpi: module setup, per-flow state, packet
 * processing, give-up and verdict extraction behind small functions, so API
 * changes between nDPI 4.2 and 4.6+/5.x stay in ndpi_adapter.c. Built without
 * libndpi every call answers "unavailable" (-ENOTSUP). */
#ifndef RDPI_AGENT_NDPI_ADAPTER_H
#define RDPI_AGENT_NDPI_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

struct ndpi_adapter;
struct ndpi_adapter_flow;

/* nDPI confidence, mirrored so callers need not include ndpi headers. */
enum ndpi_adapter_confidence {
	NDPI_ADAPTER_CONF_UNKNOWN = 0,
	NDPI_ADAPTER_CONF_PORT,
	NDPI_ADAPTER_CONF_IP,
	NDPI_ADAPTER_CONF_DPI_CACHE,
	NDPI_ADAPTER_CONF_DPI,
	NDPI_ADAPTER_CONF_COUNT,
};

/* Protocol pair + category ids as nDPI reports them. */
struct ndpi_adapter_proto {
	uint16_t master;
	uint16_t app;
	uint16_t category;
	uint8_t confidence; /* enum ndpi_adapter_confidence */
};

/* Where host_server_name goes in a result. */
enum ndpi_adapter_host_kind {
	NDPI_ADAPTER_HOST_NONE = 0,
	NDPI_ADAPTER_HOST_TLS,
	NDPI_ADAPTER_HOST_HTTP,
	NDPI_ADAPTER_HOST_DNS,
	NDPI_ADAPTER_HOST_OTHER,
};

/* Metadata keys, in the order they are kept when space is short. */
enum ndpi_adapter_meta {
	NDPI_ADAPTER_META_TLS_VERSION,
	NDPI_ADAPTER_META_TLS_ALPN,
	NDPI_ADAPTER_META_TLS_JA3C,
	NDPI_ADAPTER_META_TLS_JA3S,
	NDPI_ADAPTER_META_HTTP_URL,
	NDPI_ADAPTER_META_HTTP_USER_AGENT,
	NDPI_ADAPTER_META_SSH_CLIENT,
	NDPI_ADAPTER_META_SSH_SERVER,
	NDPI_ADAPTER_META_DNS_ANSWER,
	NDPI_ADAPTER_META_TLS_ISSUER,
	NDPI_ADAPTER_META_TLS_SUBJECT,
	NDPI_ADAPTER_META_HOST, /* host name of a protocol without a result field */
	NDPI_ADAPTER_META_COUNT,
};

/* Legacy metadata key names ("tls.ja3c", ...), indexed by enum ndpi_adapter_meta. */
const char *ndpi_adapter_meta_key(enum ndpi_adapter_meta m);

/* Everything a result needs, copied out of a flow. Strings point into the
 * flow (valid until the next call on it or its free); NULL when absent. */
struct ndpi_adapter_info {
	struct ndpi_adapter_proto proto;
	uint64_t risk; /* bitmask of nDPI risks (bit n = risk n) */
	uint16_t risk_score;
	uint8_t host_kind; /* enum ndpi_adapter_host_kind */
	const char *host;
	const char *meta[NDPI_ADAPTER_META_COUNT];
	char tls_version[32];
	char dns_answer[48];
};

/* 1 when built with libndpi, 0 otherwise. */
int ndpi_adapter_built(void);

/* Initialise the detection module (all protocols). -ENOTSUP without libndpi,
 * -ENOMEM when nDPI fails to initialise. One adapter per process: the
 * allocation hooks that count nDPI bytes are process-wide. */
int ndpi_adapter_new(struct ndpi_adapter **ret);
void ndpi_adapter_free(struct ndpi_adapter *ad); /* NULL ok */

/* nDPI's revision string ("4.2.0-..."), "" without libndpi. */
const char *ndpi_adapter_version(void);

/* sizeof(struct ndpi_flow_struct), 0 without libndpi. */
size_t ndpi_adapter_flow_size(void);

/* Bytes nDPI holds right now through its allocator (module + flows), and the
 * part of it allocated after the module was ready (flows and their data). */
uint64_t ndpi_adapter_bytes(void);
uint64_t ndpi_adapter_flow_bytes(const struct ndpi_adapter *ad);

/* Flow state, zeroed nDPI flow. -ENOMEM. */
int ndpi_adapter_flow_new(struct ndpi_adapter *ad, struct ndpi_adapter_flow **ret);
void ndpi_adapter_flow_free(struct ndpi_adapter_flow *f); /* NULL ok */

/* Feed one L3 packet (IP header first, len < 65536) at ts_ms. Returns 1 when
 * nDPI has a protocol (ret filled), 0 while unknown. */
int ndpi_adapter_process(struct ndpi_adapter *ad, struct ndpi_adapter_flow *f, const uint8_t *l3,
			 size_t len, uint64_t ts_ms, struct ndpi_adapter_proto *ret);

/* Whether nDPI wants more packets of a detected flow (certificate, answer). */
int ndpi_adapter_extra_possible(struct ndpi_adapter *ad, struct ndpi_adapter_flow *f);

/* Stop inspecting: nDPI's last word, guessing allowed. *ret_guessed is 1
 * when the answer is a guess (port/IP) rather than DPI. */
void ndpi_adapter_giveup(struct ndpi_adapter *ad, struct ndpi_adapter_flow *f,
			 struct ndpi_adapter_proto *ret, int *ret_guessed);

/* Copy out names, risks, host and metadata for proto. */
void ndpi_adapter_info(struct ndpi_adapter *ad, struct ndpi_adapter_flow *f,
		       const struct ndpi_adapter_proto *proto, struct ndpi_adapter_info *ret);

/* Names for ids; "Unknown" for 0 and for anything nDPI does not know. The
 * strings live as long as the adapter. */
const char *ndpi_adapter_proto_name(struct ndpi_adapter *ad, uint16_t id);
const char *ndpi_adapter_category_name(struct ndpi_adapter *ad, uint16_t category);
const char *ndpi_adapter_confidence_name(enum ndpi_adapter_confidence c);
/* Lowercased protocol / category names, precomputed ("tls", "web"). */
const char *ndpi_adapter_proto_lname(struct ndpi_adapter *ad, uint16_t id);
const char *ndpi_adapter_category_lname(struct ndpi_adapter *ad, uint16_t category);
/* Name of risk bit n ("Known Protocol on Non Standard Port"), NULL past the last. */
const char *ndpi_adapter_risk_name(unsigned bit);
/* Number of risk bits nDPI defines. */
unsigned ndpi_adapter_risk_count(void);

#endif

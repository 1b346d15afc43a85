/* libndpi adapter: the only file that includes ndpi_api.h. nDPI 4.2 calls,
 * with a compile-time switch for the 4.6+/5.x signatures, and a stub that
 * answers "unavailable" when the build has no libndpi. */
#include "ndpi_adapter.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const meta_keys[NDPI_ADAPTER_META_COUNT] = {
    [NDPI_ADAPTER_META_TLS_VERSION] = "tls.version",
    [NDPI_ADAPTER_META_TLS_ALPN] = "tls.alpn",
    [NDPI_ADAPTER_META_TLS_JA3C] = "tls.ja3c",
    [NDPI_ADAPTER_META_TLS_JA3S] = "tls.ja3s",
    [NDPI_ADAPTER_META_HTTP_URL] = "http.url",
    [NDPI_ADAPTER_META_HTTP_USER_AGENT] = "http.user_agent",
    [NDPI_ADAPTER_META_SSH_CLIENT] = "ssh.client",
    [NDPI_ADAPTER_META_SSH_SERVER] = "ssh.server",
    [NDPI_ADAPTER_META_DNS_ANSWER] = "dns.answer",
    [NDPI_ADAPTER_META_TLS_ISSUER] = "tls.issuer",
    [NDPI_ADAPTER_META_TLS_SUBJECT] = "tls.subject",
    [NDPI_ADAPTER_META_HOST] = "ndpi.host",
};
_Static_assert(sizeof(meta_keys) / sizeof(meta_keys[0]) == NDPI_ADAPTER_META_COUNT, "meta_keys");

static const char *const confidence_names[NDPI_ADAPTER_CONF_COUNT] = {
    [NDPI_ADAPTER_CONF_UNKNOWN] = "Unknown", [NDPI_ADAPTER_CONF_PORT] = "Match by port",
    [NDPI_ADAPTER_CONF_IP] = "Match by IP",  [NDPI_ADAPTER_CONF_DPI_CACHE] = "DPI (cache)",
    [NDPI_ADAPTER_CONF_DPI] = "DPI",
};
_Static_assert(sizeof(confidence_names) / sizeof(confidence_names[0]) == NDPI_ADAPTER_CONF_COUNT,
	       "confidence_names");

const char *ndpi_adapter_meta_key(enum ndpi_adapter_meta m)
{
	return (unsigned)m < NDPI_ADAPTER_META_COUNT ? meta_keys[m] : "";
}

const char *ndpi_adapter_confidence_name(enum ndpi_adapter_confidence c)
{
	return (unsigned)c < NDPI_ADAPTER_CONF_COUNT ? confidence_names[c] : "Unknown";
}

#ifdef RDPI_HAVE_NDPI

#include <arpa/inet.h>
#include <ctype.h>
#include <ndpi_api.h>

/* RDPI_NDPI_VERSION_NUM = major * 100 + minor, from pkg-config (CMake). */
#ifndef RDPI_NDPI_VERSION_NUM
#define RDPI_NDPI_VERSION_NUM 402
#endif
#if RDPI_NDPI_VERSION_NUM >= 500
#define PROTO_MASTER(p) ((p).proto.master_protocol)
#define PROTO_APP(p)	((p).proto.app_protocol)
#else
#define PROTO_MASTER(p) ((p).master_protocol)
#define PROTO_APP(p)	((p).app_protocol)
#endif

struct ndpi_adapter {
	struct ndpi_detection_module_struct *mod;
	uint64_t baseline; /* nDPI bytes once the module was ready */
	/* lowercased names, built once: results are made on many threads */
	char **lproto;
	unsigned nproto;
	char *lcat[NDPI_PROTOCOL_NUM_CATEGORIES];
};

static char *lower_dup(const char *s)
{
	char *p = strdup(s ? s : "Unknown");
	for (char *q = p; q && *q; q++)
		*q = (char)tolower((unsigned char)*q);
	return p;
}

static int names_init(struct ndpi_adapter *ad)
{
	ad->nproto = ndpi_get_num_supported_protocols(ad->mod);
	ad->lproto = calloc(ad->nproto ? ad->nproto : 1, sizeof(*ad->lproto));
	if (!ad->lproto)
		return -ENOMEM;
	for (unsigned i = 0; i < ad->nproto; i++)
		if (!(ad->lproto[i] = lower_dup(ndpi_adapter_proto_name(ad, (uint16_t)i))))
			return -ENOMEM;
	for (unsigned c = 0; c < NDPI_PROTOCOL_NUM_CATEGORIES; c++)
		if (!(ad->lcat[c] = lower_dup(ndpi_adapter_category_name(ad, (uint16_t)c))))
			return -ENOMEM;
	return 0;
}

static void names_fini(struct ndpi_adapter *ad)
{
	for (unsigned i = 0; ad->lproto && i < ad->nproto; i++)
		free(ad->lproto[i]);
	free(ad->lproto);
	for (unsigned c = 0; c < NDPI_PROTOCOL_NUM_CATEGORIES; c++)
		free(ad->lcat[c]);
}

const char *ndpi_adapter_proto_lname(struct ndpi_adapter *ad, uint16_t id)
{
	return id < ad->nproto ? ad->lproto[id] : "unknown";
}

const char *ndpi_adapter_category_lname(struct ndpi_adapter *ad, uint16_t category)
{
	return category < NDPI_PROTOCOL_NUM_CATEGORIES ? ad->lcat[category] : "unknown";
}

/* Every nDPI allocation carries its size in front so frees can be counted. */
#define HDR 16
static _Atomic uint64_t ndpi_bytes;

static void *count_malloc(size_t size)
{
	uint8_t *p = malloc(size + HDR);
	if (!p)
		return NULL;
	memcpy(p, &size, sizeof(size));
	atomic_fetch_add_explicit(&ndpi_bytes, size, memory_order_relaxed);
	return p + HDR;
}

static void count_free(void *ptr)
{
	if (!ptr)
		return;
	uint8_t *p = (uint8_t *)ptr - HDR;
	size_t size;
	memcpy(&size, p, sizeof(size));
	atomic_fetch_sub_explicit(&ndpi_bytes, size, memory_order_relaxed);
	free(p);
}

int ndpi_adapter_built(void)
{
	return 1;
}

const char *ndpi_adapter_version(void)
{
	return ndpi_revision();
}

size_t ndpi_adapter_flow_size(void)
{
	return SIZEOF_FLOW_STRUCT;
}

uint64_t ndpi_adapter_bytes(void)
{
	return atomic_load_explicit(&ndpi_bytes, memory_order_relaxed);
}

uint64_t ndpi_adapter_flow_bytes(const struct ndpi_adapter *ad)
{
	uint64_t b = ndpi_adapter_bytes();
	return ad && b > ad->baseline ? b - ad->baseline : 0;
}

int ndpi_adapter_new(struct ndpi_adapter **ret)
{
	struct ndpi_adapter *ad = calloc(1, sizeof(*ad));
	if (!ad)
		return -ENOMEM;
	set_ndpi_malloc(count_malloc);
	set_ndpi_free(count_free);
	set_ndpi_flow_malloc(count_malloc);
	set_ndpi_flow_free(count_free);
#if RDPI_NDPI_VERSION_NUM >= 408
	ad->mod = ndpi_init_detection_module(NULL);
#else
	ad->mod = ndpi_init_detection_module(ndpi_no_prefs);
#endif
	if (!ad->mod) {
		free(ad);
		return -ENOMEM;
	}
#if RDPI_NDPI_VERSION_NUM < 500
	NDPI_PROTOCOL_BITMASK all;
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(ad->mod, &all);
#endif
	ndpi_finalize_initialization(ad->mod);
	if (names_init(ad) < 0) {
		names_fini(ad);
		ndpi_exit_detection_module(ad->mod);
		free(ad);
		return -ENOMEM;
	}
	ad->baseline = ndpi_adapter_bytes();
	*ret = ad;
	return 0;
}

void ndpi_adapter_free(struct ndpi_adapter *ad)
{
	if (!ad)
		return;
	names_fini(ad);
	ndpi_exit_detection_module(ad->mod);
	free(ad);
}

int ndpi_adapter_flow_new(struct ndpi_adapter *ad, struct ndpi_adapter_flow **ret)
{
	struct ndpi_flow_struct *f = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT);
	if (!f)
		return -ENOMEM;
	memset(f, 0, SIZEOF_FLOW_STRUCT);
	*ret = (struct ndpi_adapter_flow *)f;
	return 0;
}

void ndpi_adapter_flow_free(struct ndpi_adapter_flow *f)
{
	if (f)
		ndpi_free_flow((struct ndpi_flow_struct *)f);
}

static void proto_out(const struct ndpi_flow_struct *flow, ndpi_protocol p,
		      struct ndpi_adapter_proto *ret)
{
	ret->master = PROTO_MASTER(p);
	ret->app = PROTO_APP(p);
	ret->category = (uint16_t)p.category;
	ret->confidence = (unsigned)flow->confidence < NDPI_ADAPTER_CONF_COUNT
			      ? (uint8_t)flow->confidence
			      : NDPI_ADAPTER_CONF_UNKNOWN;
}

int ndpi_adapter_process(struct ndpi_adapter *ad, struct ndpi_adapter_flow *f, const uint8_t *l3,
			 size_t len, uint64_t ts_ms, struct ndpi_adapter_proto *ret)
{
	struct ndpi_flow_struct *flow = (struct ndpi_flow_struct *)f;
	if (len > 0xffff)
		len = 0xffff;
#if RDPI_NDPI_VERSION_NUM >= 406
	ndpi_protocol p =
	    ndpi_detection_process_packet(ad->mod, flow, l3, (unsigned short)len, ts_ms, NULL);
#else
	ndpi_protocol p =
	    ndpi_detection_process_packet(ad->mod, flow, l3, (unsigned short)len, ts_ms);
#endif
	if (PROTO_MASTER(p) == NDPI_PROTOCOL_UNKNOWN && PROTO_APP(p) == NDPI_PROTOCOL_UNKNOWN)
		return 0;
	proto_out(flow, p, ret);
	return 1;
}

int ndpi_adapter_extra_possible(struct ndpi_adapter *ad, struct ndpi_adapter_flow *f)
{
	return ndpi_extra_dissection_possible(ad->mod, (struct ndpi_flow_struct *)f) != 0;
}

void ndpi_adapter_giveup(struct ndpi_adapter *ad, struct ndpi_adapter_flow *f,
			 struct ndpi_adapter_proto *ret, int *ret_guessed)
{
	struct ndpi_flow_struct *flow = (struct ndpi_flow_struct *)f;
	u_int8_t guessed = 0;
#if RDPI_NDPI_VERSION_NUM >= 406
	ndpi_protocol p = ndpi_detection_giveup(ad->mod, flow, &guessed);
#else
	ndpi_protocol p = ndpi_detection_giveup(ad->mod, flow, 1, &guessed);
#endif
	proto_out(flow, p, ret);
	*ret_guessed = guessed || (ret->confidence != NDPI_ADAPTER_CONF_DPI &&
				   ret->confidence != NDPI_ADAPTER_CONF_DPI_CACHE &&
				   (ret->master || ret->app));
}

static int is_proto(const struct ndpi_adapter_proto *p, uint16_t id)
{
	return p->master == id || p->app == id;
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

void ndpi_adapter_info(struct ndpi_adapter *ad, struct ndpi_adapter_flow *f,
		       const struct ndpi_adapter_proto *proto, struct ndpi_adapter_info *ret)
{
	struct ndpi_flow_struct *flow = (struct ndpi_flow_struct *)f;
	memset(ret, 0, sizeof(*ret));
	ret->proto = *proto;
	ret->risk = (uint64_t)flow->risk;
	u_int16_t cs = 0, ss = 0;
	ret->risk_score = flow->risk ? ndpi_risk2score(flow->risk, &cs, &ss) : 0;

	int tls = is_proto(proto, NDPI_PROTOCOL_TLS) || is_proto(proto, NDPI_PROTOCOL_QUIC) ||
		  is_proto(proto, NDPI_PROTOCOL_DTLS);
	int dns = is_proto(proto, NDPI_PROTOCOL_DNS) || is_proto(proto, NDPI_PROTOCOL_MDNS) ||
		  is_proto(proto, NDPI_PROTOCOL_LLMNR) || is_proto(proto, NDPI_PROTOCOL_NETBIOS);
	int http = is_proto(proto, NDPI_PROTOCOL_HTTP) ||
		   is_proto(proto, NDPI_PROTOCOL_HTTP_CONNECT) ||
		   is_proto(proto, NDPI_PROTOCOL_HTTP_PROXY);
	int ssh = is_proto(proto, NDPI_PROTOCOL_SSH);

	/* the protos union is only meaningful for the dissector that filled it:
	 * look at it only for the matching master protocol */
	uint16_t m = proto->master ? proto->master : proto->app;
	ret->host = nonempty(flow->host_server_name);
	if (ret->host) {
		if (dns)
			ret->host_kind = NDPI_ADAPTER_HOST_DNS;
		else if (tls)
			ret->host_kind = NDPI_ADAPTER_HOST_TLS;
		else if (http)
			ret->host_kind = NDPI_ADAPTER_HOST_HTTP;
		else {
			ret->host_kind = NDPI_ADAPTER_HOST_OTHER;
			ret->meta[NDPI_ADAPTER_META_HOST] = ret->host;
		}
	}
	if (m == NDPI_PROTOCOL_TLS || m == NDPI_PROTOCOL_QUIC || m == NDPI_PROTOCOL_DTLS) {
		if (flow->protos.tls_quic.ssl_version) {
			u_int8_t unknown = 0;
			ndpi_ssl_version2str(ret->tls_version, sizeof(ret->tls_version),
					     flow->protos.tls_quic.ssl_version, &unknown);
			ret->meta[NDPI_ADAPTER_META_TLS_VERSION] = nonempty(ret->tls_version);
		}
		ret->meta[NDPI_ADAPTER_META_TLS_ALPN] = nonempty(flow->protos.tls_quic.alpn);
		ret->meta[NDPI_ADAPTER_META_TLS_JA3C] = nonempty(flow->protos.tls_quic.ja3_client);
		ret->meta[NDPI_ADAPTER_META_TLS_JA3S] = nonempty(flow->protos.tls_quic.ja3_server);
		ret->meta[NDPI_ADAPTER_META_TLS_ISSUER] = nonempty(flow->protos.tls_quic.issuerDN);
		ret->meta[NDPI_ADAPTER_META_TLS_SUBJECT] =
		    nonempty(flow->protos.tls_quic.subjectDN);
	} else if (m == NDPI_PROTOCOL_SSH) {
		ret->meta[NDPI_ADAPTER_META_SSH_CLIENT] =
		    nonempty(flow->protos.ssh.client_signature);
		ret->meta[NDPI_ADAPTER_META_SSH_SERVER] =
		    nonempty(flow->protos.ssh.server_signature);
	} else if (m == NDPI_PROTOCOL_DNS && flow->protos.dns.num_answers > 0) {
		const void *a = &flow->protos.dns.rsp_addr;
		if (flow->protos.dns.rsp_type == 0x1c)
			inet_ntop(AF_INET6, a, ret->dns_answer, sizeof(ret->dns_answer));
		else if (flow->protos.dns.rsp_type == 0x01)
			inet_ntop(AF_INET, a, ret->dns_answer, sizeof(ret->dns_answer));
		ret->meta[NDPI_ADAPTER_META_DNS_ANSWER] = nonempty(ret->dns_answer);
	}
	(void)ssh;
	if (http || flow->http.url || flow->http.user_agent) {
		/* nDPI 4.2 stores host + path; keep the path only (no query) */
		const char *u = flow->http.url;
		if (u) {
			const char *slash = strchr(u, '/');
			ret->meta[NDPI_ADAPTER_META_HTTP_URL] = nonempty(slash);
		}
		ret->meta[NDPI_ADAPTER_META_HTTP_USER_AGENT] = nonempty(flow->http.user_agent);
	}
}

const char *ndpi_adapter_proto_name(struct ndpi_adapter *ad, uint16_t id)
{
	const char *n = id ? ndpi_get_proto_name(ad->mod, id) : NULL;
	return n ? n : "Unknown";
}

const char *ndpi_adapter_category_name(struct ndpi_adapter *ad, uint16_t category)
{
	const char *n = ndpi_category_get_name(ad->mod, (ndpi_protocol_category_t)category);
	return n ? n : "Unknown";
}

const char *ndpi_adapter_risk_name(unsigned bit)
{
	if (bit == 0 || bit >= NDPI_MAX_RISK)
		return NULL;
	return ndpi_risk2str((ndpi_risk_enum)bit);
}

unsigned ndpi_adapter_risk_count(void)
{
	return NDPI_MAX_RISK;
}

#else /* !RDPI_HAVE_NDPI */

int ndpi_adapter_built(void)
{
	return 0;
}

const char *ndpi_adapter_version(void)
{
	return "";
}

size_t ndpi_adapter_flow_size(void)
{
	return 0;
}

uint64_t ndpi_adapter_bytes(void)
{
	return 0;
}

uint64_t ndpi_adapter_flow_bytes(const struct ndpi_adapter *ad)
{
	return 0;
}

int ndpi_adapter_new(struct ndpi_adapter **ret)
{
	return -ENOTSUP;
}

void ndpi_adapter_free(struct ndpi_adapter *ad)
{
}

int ndpi_adapter_flow_new(struct ndpi_adapter *ad, struct ndpi_adapter_flow **ret)
{
	return -ENOTSUP;
}

void ndpi_adapter_flow_free(struct ndpi_adapter_flow *f)
{
}

int ndpi_adapter_process(struct ndpi_adapter *ad, struct ndpi_adapter_flow *f, const uint8_t *l3,
			 size_t len, uint64_t ts_ms, struct ndpi_adapter_proto *ret)
{
	return 0;
}

int ndpi_adapter_extra_possible(struct ndpi_adapter *ad, struct ndpi_adapter_flow *f)
{
	return 0;
}

void ndpi_adapter_giveup(struct ndpi_adapter *ad, struct ndpi_adapter_flow *f,
			 struct ndpi_adapter_proto *ret, int *ret_guessed)
{
	memset(ret, 0, sizeof(*ret));
	*ret_guessed = 0;
}

void ndpi_adapter_info(struct ndpi_adapter *ad, struct ndpi_adapter_flow *f,
		       const struct ndpi_adapter_proto *proto, struct ndpi_adapter_info *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->proto = *proto;
}

const char *ndpi_adapter_proto_name(struct ndpi_adapter *ad, uint16_t id)
{
	return "Unknown";
}

const char *ndpi_adapter_category_name(struct ndpi_adapter *ad, uint16_t category)
{
	return "Unknown";
}

const char *ndpi_adapter_risk_name(unsigned bit)
{
	return NULL;
}

const char *ndpi_adapter_proto_lname(struct ndpi_adapter *ad, uint16_t id)
{
	return "unknown";
}

const char *ndpi_adapter_category_lname(struct ndpi_adapter *ad, uint16_t category)
{
	return "unknown";
}

unsigned ndpi_adapter_risk_count(void)
{
	return 0;
}

#endif

/* ClassifyResult mapping for the agent (see result.h). */
#include "result.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/packet.h"
#include "flows.h"
#include "ndpi_adapter.h"

static const int confidence_scores[NDPI_ADAPTER_CONF_COUNT] = {
    [NDPI_ADAPTER_CONF_UNKNOWN] = 0,	[NDPI_ADAPTER_CONF_PORT] = 45, [NDPI_ADAPTER_CONF_IP] = 65,
    [NDPI_ADAPTER_CONF_DPI_CACHE] = 85, [NDPI_ADAPTER_CONF_DPI] = 95,
};
_Static_assert(sizeof(confidence_scores) / sizeof(confidence_scores[0]) == NDPI_ADAPTER_CONF_COUNT,
	       "confidence_scores");

int result_confidence_score(unsigned c)
{
	return c < NDPI_ADAPTER_CONF_COUNT ? confidence_scores[c] : 0;
}

char *result_strdup(result_alloc_fn alloc_fn, void *arg, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = alloc_fn(arg, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

static const char *l4_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_IGMP:
		return "igmp";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_GRE:
		return "gre";
	case IPPROTO_ESP:
		return "esp";
	default:
		snprintf(buf, len, "proto-%u", p);
		return buf;
	}
}

#define DUP(s)                                                                                     \
	do {                                                                                       \
		if (!(s))                                                                          \
			return -ENOMEM;                                                            \
	} while (0)

/* Constant strings go into the reply as they are: the reply lives in the
 * call arena and is never freed field by field. */
#define CONST_STR(s) ((char *)(s))

static int fill_tuple(const struct flows_result *r, result_alloc_fn alloc_fn, void *arg,
		      Routerd__Dpi__V1__ClassifyResult *out)
{
	char buf[RDPI_ADDR_STRLEN], pb[16];
	if (!r->l3)
		return 0;
	out->l3proto = CONST_STR(r->l3 == 6 ? "ipv6" : "ipv4");
	const char *l4 = l4_name(r->l4proto, pb, sizeof(pb));
	if (l4 == pb)
		DUP(out->transportprotocol = result_strdup(alloc_fn, arg, pb));
	else
		out->transportprotocol = CONST_STR(l4);
	if (rdpi_addr_format(r->src, buf, sizeof(buf)) == 0)
		DUP(out->srcaddress = result_strdup(alloc_fn, arg, buf));
	if (rdpi_addr_format(r->dst, buf, sizeof(buf)) == 0)
		DUP(out->dstaddress = result_strdup(alloc_fn, arg, buf));
	out->srcport = r->sport;
	out->dstport = r->dport;
	if (r->flow_id[0])
		DUP(out->flowid = result_strdup(alloc_fn, arg, r->flow_id));
	return 0;
}

static int fill_names(struct ndpi_adapter *ad, const struct flows_result *r,
		      result_alloc_fn alloc_fn, void *arg, Routerd__Dpi__V1__ClassifyResult *out)
{
	uint16_t master = r->proto.master, app = r->proto.app;
	if (master == app)
		master = 0;
	uint16_t m = master ? master : app, a = app ? app : master;
	out->masterprotocol = CONST_STR(ndpi_adapter_proto_lname(ad, m));
	out->applicationprotocol = CONST_STR(ndpi_adapter_proto_lname(ad, a));
	out->appname = out->applicationprotocol;
	if (master && app) {
		size_t ml = strlen(out->masterprotocol), al = strlen(out->applicationprotocol);
		char *label = alloc_fn(arg, ml + al + 2);
		DUP(label);
		memcpy(label, out->masterprotocol, ml);
		label[ml] = '.';
		memcpy(label + ml + 1, out->applicationprotocol, al + 1);
		out->detectedprotocol = label;
	} else
		out->detectedprotocol = out->applicationprotocol;
	out->category = CONST_STR(ndpi_adapter_category_name(ad, r->proto.category));
	out->appcategory = CONST_STR(ndpi_adapter_category_lname(ad, r->proto.category));
	out->confidence = CONST_STR(ndpi_adapter_confidence_name(r->proto.confidence));
	out->appconfidence = result_confidence_score(r->proto.confidence);
	return 0;
}

static int fill_risks(const struct flows_result *r, result_alloc_fn alloc_fn, void *arg,
		      Routerd__Dpi__V1__ClassifyResult *out)
{
	unsigned n = 0, max = ndpi_adapter_risk_count();
	for (unsigned b = 1; b < max && b < 64; b++)
		n += (r->risk >> b) & 1;
	out->riskscore = r->risk_score;
	if (!n)
		return 0;
	DUP(out->risk = alloc_fn(arg, n * sizeof(char *)));
	for (unsigned b = 1; b < max && b < 64; b++) {
		if (!((r->risk >> b) & 1))
			continue;
		const char *name = ndpi_adapter_risk_name(b);
		out->risk[out->n_risk++] = CONST_STR(name ? name : "?");
	}
	return 0;
}

static int fill_meta(const struct flows_result *r, result_alloc_fn alloc_fn, void *arg,
		     Routerd__Dpi__V1__ClassifyResult *out)
{
	size_t n = 0;
	for (int m = 0; m < NDPI_ADAPTER_META_COUNT; m++)
		n += r->meta[m] != NULL;
	if (!n)
		return 0;
	DUP(out->metadata = alloc_fn(arg, n * sizeof(*out->metadata)));
	for (int m = 0; m < NDPI_ADAPTER_META_COUNT; m++) {
		if (!r->meta[m])
			continue;
		Routerd__Dpi__V1__ClassifyResult__MetadataEntry *e = alloc_fn(arg, sizeof(*e));
		DUP(e);
		routerd__dpi__v1__classify_result__metadata_entry__init(e);
		e->key = CONST_STR(ndpi_adapter_meta_key(m));
		DUP(e->value = result_strdup(alloc_fn, arg, r->meta[m]));
		out->metadata[out->n_metadata++] = e;
	}
	return 0;
}

int result_fill(struct ndpi_adapter *ad, const struct flows_result *r, result_alloc_fn alloc_fn,
		void *arg, Routerd__Dpi__V1__ClassifyResult *out)
{
	out->engine = CONST_STR("ndpi-agent");
	out->source = CONST_STR("ndpi-agent");
	out->reason = CONST_STR(flows_reason_name(r->reason));
	int rc = fill_tuple(r, alloc_fn, arg, out);
	if (rc < 0)
		return rc;
	out->final = r->state == FLOWS_STATE_FINAL;
	out->guessed = r->guessed;
	int known = ad && (r->proto.master || r->proto.app);
	if (!known) {
		out->appname = CONST_STR("unknown");
		return 0;
	}
	if ((rc = fill_names(ad, r, alloc_fn, arg, out)) < 0 ||
	    (rc = fill_risks(r, alloc_fn, arg, out)) < 0 ||
	    (rc = fill_meta(r, alloc_fn, arg, out)) < 0)
		return rc;
	if (r->host[0]) {
		char **dst = r->host_kind == NDPI_ADAPTER_HOST_TLS    ? &out->tlssni
			     : r->host_kind == NDPI_ADAPTER_HOST_HTTP ? &out->httphost
			     : r->host_kind == NDPI_ADAPTER_HOST_DNS  ? &out->dnsquery
								      : NULL;
		if (dst)
			DUP(*dst = result_strdup(alloc_fn, arg, r->host));
	}
	return 0;
}

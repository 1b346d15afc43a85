/* Tests for the agent flow engine (services/agent/flows.c) with the real
 * libndpi adapter: bidirectional flows, stop rule, give-up, verdict cache,
 * memory release at final, bounded memory under floods, IPv6, reset. Cases
 * needing libndpi skip with a message in a build without it; the unavailable
 * behaviour is asserted in every build. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/flowkey.h"
#include "common/packet.h"
#include "common/synth.h"
#include "flows.h"
#include "ndpi_adapter.h"
#include "result.h"
#include "selftest.h"
#include "testdata.h"

#define S (1000000000ull)

static struct ndpi_adapter *ad;
static struct flows_result res;

static int group_setup(void **state)
{
	if (ndpi_adapter_built() && ndpi_adapter_new(&ad) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	ndpi_adapter_free(ad);
	return 0;
}

#define NEED_NDPI()                                                                                \
	do {                                                                                       \
		if (!ad) {                                                                         \
			print_message(                                                             \
			    "SKIP: built without libndpi (RDPI_NDPI=OFF or not found)\n");         \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

static struct flows *engine(size_t limit, uint32_t budget, struct ndpi_adapter *a)
{
	struct flows_opts o = {
	    .limit = limit,
	    .ttl_ns = 3600 * S,
	    .budget_tcp = budget,
	    .budget_udp = budget,
	    .verdict_meta_max = 96,
	};
	struct flows *fl;
	assert_int_equal(flows_new(&o, a, &fl), 0);
	return fl;
}

static void tuple(struct rdpi_synth_tuple *t, uint8_t l4, const char *src, uint16_t sp,
		  const char *dst, uint16_t dp)
{
	int f1, f2;
	memset(t, 0, sizeof(*t));
	assert_int_equal(rdpi_addr_parse(src, t->src, &f1), 0);
	assert_int_equal(rdpi_addr_parse(dst, t->dst, &f2), 0);
	assert_int_equal(f1, f2);
	t->l3 = (uint8_t)f1;
	t->l4proto = l4;
	t->sport = sp;
	t->dport = dp;
}

static void reverse(const struct rdpi_synth_tuple *t, struct rdpi_synth_tuple *r)
{
	*r = *t;
	memcpy(r->src, t->dst, 16);
	memcpy(r->dst, t->src, 16);
	r->sport = t->dport;
	r->dport = t->sport;
}

static size_t hello(const char *sni, uint8_t *buf)
{
	size_t n = rdpi_synth_client_hello(sni, "h2,http/1.1", buf, 512);
	assert_true(n > 0);
	return n;
}

/* ServerHello + Certificate + ServerHelloDone, three records in one segment. */
static size_t server_flight(uint8_t *b)
{
	size_t n = 0;
	static const uint8_t sh[] = {0x16, 0x03, 0x03, 0x00, 0x2a, 0x02, 0x00, 0x00, 0x26, 0x03,
				     0x03, 1,	 2,    3,    4,	   5,	 6,    7,    8,	   9,
				     10,   11,	 12,   13,   14,   15,	 16,   17,   18,   19,
				     20,   21,	 22,   23,   24,   25,	 26,   27,   28,   29,
				     30,   31,	 32,   0x00, 0xc0, 0x2f, 0x00};
	memcpy(b, sh, sizeof(sh));
	n = sizeof(sh);
	size_t cl = TEST_CERT_DER_LEN;
	size_t hs = 3 + 3 + cl; /* certificate_list length + one cert length + cert */
	uint8_t hdr[] = {0x16,
			 0x03,
			 0x03,
			 (uint8_t)((hs + 4) >> 8),
			 (uint8_t)(hs + 4),
			 0x0b,
			 0,
			 (uint8_t)(hs >> 8),
			 (uint8_t)hs,
			 0,
			 (uint8_t)((cl + 3) >> 8),
			 (uint8_t)(cl + 3),
			 0,
			 (uint8_t)(cl >> 8),
			 (uint8_t)cl};
	memcpy(b + n, hdr, sizeof(hdr));
	n += sizeof(hdr);
	memcpy(b + n, test_cert_der, cl);
	n += cl;
	static const uint8_t done[] = {0x16, 0x03, 0x03, 0x00, 0x04, 0x0e, 0x00, 0x00, 0x00};
	memcpy(b + n, done, sizeof(done));
	return n + sizeof(done);
}

/* DNS query (or response with one A record) for name. */
static size_t dns_msg(const char *name, int response, uint8_t *b)
{
	size_t n = 0;
	uint8_t hdr[12] = {0x12, 0x34, response ? 0x81 : 0x01,	   response ? 0x80 : 0x00, 0,
			   1,	 0,    (uint8_t)(response ? 1 : 0)};
	memcpy(b, hdr, 12);
	n = 12;
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		b[n++] = (uint8_t)l;
		memcpy(b + n, p, l);
		n += l;
		p += l + (dot ? 1 : 0);
	}
	b[n++] = 0;
	static const uint8_t q[] = {0, 1, 0, 1};
	memcpy(b + n, q, 4);
	n += 4;
	if (response) {
		static const uint8_t an[] = {0xc0, 0x0c, 0, 1, 0,   1, 0, 0,
					     0x0e, 0x10, 0, 4, 192, 0, 2, 53};
		memcpy(b + n, an, sizeof(an));
		n += sizeof(an);
	}
	return n;
}

/* ---- arena for result_fill ---------------------------------------------------- */

struct arena {
	void *blocks[512];
	size_t n;
};

static void *arena_alloc(void *arg, size_t size)
{
	struct arena *a = arg;
	if (a->n == 512)
		return NULL;
	return a->blocks[a->n++] = calloc(1, size ? size : 1);
}

static void arena_fini(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->blocks[i]);
	a->n = 0;
}

/* ---- cases ---------------------------------------------------------------------- */

static void test_flows_unavailable(void **state)
{
	/* no adapter: what a build without libndpi does, in every build */
	struct flows *fl = engine(100, 10, NULL);
	struct rdpi_synth_tuple t;
	uint8_t buf[512];
	tuple(&t, IPPROTO_TCP, "192.0.2.10", 53168, "198.51.100.10", 443);
	size_t n = hello("routerd.example", buf);
	assert_int_equal(flows_observe_payload(fl, &t, buf, n, 0, 1, &res), 0);
	assert_int_equal(res.reason, FLOWS_REASON_UNAVAILABLE);
	assert_false(res.detected);
	/* even without a tuple the answer is "unavailable", not a tuple error */
	assert_int_equal(flows_observe_payload(fl, NULL, buf, n, 0, 2, &res), 0);
	assert_int_equal(res.reason, FLOWS_REASON_UNAVAILABLE);

	struct arena ar = {0};
	Routerd__Dpi__V1__ClassifyResult out = ROUTERD__DPI__V1__CLASSIFY_RESULT__INIT;
	assert_int_equal(result_fill(NULL, &res, arena_alloc, &ar, &out), 0);
	assert_string_equal(out.appname, "unknown");
	assert_string_equal(out.engine, "ndpi-agent");
	assert_string_equal(out.source, "ndpi-agent");
	assert_string_equal(out.reason, "libndpi_backend_unavailable");
	arena_fini(&ar);

	struct flows_stats st;
	flows_stats(fl, &st);
	assert_int_equal(st.observed, 2);
	assert_int_equal(st.unknown, 2);
	assert_int_equal(st.backend, 0);
	assert_int_equal(st.active, 0);
	flows_free(fl);
}

static void test_flows_tls_classified(void **state)
{
	NEED_NDPI();
	struct flows *fl = engine(100, 10, ad);
	uint8_t pkt[1024];
	size_t n = selftest_packet(SELFTEST_SNI, pkt, sizeof(pkt));
	assert_int_equal(flows_observe_packet(fl, pkt, n, 1700000000 * S, 1, &res), 0);
	assert_true(res.detected);
	assert_false(res.guessed);
	assert_string_equal(
	    ndpi_adapter_proto_name(ad, res.proto.app ? res.proto.app : res.proto.master), "TLS");
	assert_int_equal(res.proto.confidence, NDPI_ADAPTER_CONF_DPI);
	assert_int_equal(res.host_kind, NDPI_ADAPTER_HOST_TLS);
	assert_string_equal(res.host, SELFTEST_SNI);
	assert_non_null(res.meta[NDPI_ADAPTER_META_TLS_JA3C]);
	assert_int_equal(strlen(res.meta[NDPI_ADAPTER_META_TLS_JA3C]), 32);
	assert_string_equal(res.meta[NDPI_ADAPTER_META_TLS_ALPN], "h2,http/1.1");

	struct arena ar = {0};
	Routerd__Dpi__V1__ClassifyResult out = ROUTERD__DPI__V1__CLASSIFY_RESULT__INIT;
	assert_int_equal(result_fill(ad, &res, arena_alloc, &ar, &out), 0);
	assert_string_equal(out.appname, "tls");
	assert_string_equal(out.masterprotocol, "tls");
	assert_string_equal(out.tlssni, SELFTEST_SNI);
	assert_string_equal(out.httphost, "");
	assert_int_equal(out.appconfidence, 95);
	assert_string_equal(out.confidence, "DPI");
	assert_string_equal(out.source, "ndpi-agent");
	assert_string_equal(out.srcaddress, "192.0.2.10");
	assert_int_equal(out.dstport, 443);
	assert_int_equal(strlen(out.flowid), 32);
	arena_fini(&ar);
	flows_free(fl);
}

static void test_flows_cached_after_final(void **state)
{
	NEED_NDPI();
	struct flows *fl = engine(100, 1, ad);
	struct rdpi_synth_tuple t;
	uint8_t buf[512];
	tuple(&t, IPPROTO_TCP, "192.0.2.10", 53168, "198.51.100.10", 443);
	size_t n = hello("agent.example", buf);
	assert_int_equal(flows_observe_payload(fl, &t, buf, n, 100 * S, 1, &res), 0);
	assert_int_equal(res.state, FLOWS_STATE_FINAL);
	assert_false(res.cached);
	assert_string_equal(res.host, "agent.example");
	assert_int_equal(flows_observe_payload(fl, &t, buf, n, 101 * S, 2, &res), 0);
	assert_true(res.cached);
	assert_int_equal(res.state, FLOWS_STATE_FINAL);
	assert_true(res.detected);
	assert_string_equal(res.host, "agent.example");
	assert_int_equal(res.reason, FLOWS_REASON_DETECTED);
	struct flows_stats st;
	flows_stats(fl, &st);
	assert_int_equal(st.backend, 1);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.classified, 1);
	assert_int_equal(st.final, 1);
	flows_free(fl);
}

static void test_flows_packet_limit(void **state)
{
	NEED_NDPI();
	struct flows *fl = engine(100, 1, ad);
	struct rdpi_synth_tuple t;
	static const uint8_t junk[] = {1, 2, 3};
	tuple(&t, IPPROTO_UDP, "192.0.2.10", 50000, "198.51.100.10", 50001);
	flows_observe_payload(fl, &t, junk, sizeof(junk), 100 * S, 1, &res);
	assert_int_equal(res.state, FLOWS_STATE_FINAL);
	assert_int_equal(res.reason, FLOWS_REASON_LIMIT);
	flows_observe_payload(fl, &t, junk, sizeof(junk), 101 * S, 2, &res);
	assert_int_equal(res.reason, FLOWS_REASON_LIMIT);
	assert_true(res.cached);
	struct flows_stats st;
	flows_stats(fl, &st);
	assert_int_equal(st.backend, 1);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.giveups, 1);
	assert_string_equal(flows_reason_name(res.reason), "flow_packet_limit_reached");
	flows_free(fl);
}

static void test_flows_giveup_guessed(void **state)
{
	NEED_NDPI();
	struct flows *fl = engine(100, 2, ad);
	struct rdpi_synth_tuple t;
	static const uint8_t junk[] = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};
	tuple(&t, IPPROTO_TCP, "192.0.2.10", 40000, "198.51.100.10", 443);
	flows_observe_payload(fl, &t, junk, sizeof(junk), 100 * S, 1, &res);
	assert_int_equal(res.state, FLOWS_STATE_INSPECTING);
	assert_int_equal(res.reason, FLOWS_REASON_INSPECTING);
	flows_observe_payload(fl, &t, junk, sizeof(junk), 101 * S, 2, &res);
	assert_int_equal(res.state, FLOWS_STATE_FINAL);
	assert_int_equal(res.reason, FLOWS_REASON_LIMIT);
	assert_false(res.detected);
	if (res.proto.app || res.proto.master) {
		/* nDPI guessed from the port: flagged, lower confidence */
		assert_true(res.guessed);
		assert_true(res.proto.confidence < NDPI_ADAPTER_CONF_DPI_CACHE);
		assert_true(result_confidence_score(res.proto.confidence) < 90);
		struct flows_stats st;
		flows_stats(fl, &st);
		assert_int_equal(st.guessed_final, 1);
	}
	flows_free(fl);
}

static void test_flows_both_directions_share_flow(void **state)
{
	NEED_NDPI();
	struct flows *fl = engine(100, 10, ad);
	struct rdpi_synth_tuple q, r;
	uint8_t buf[512];
	tuple(&q, IPPROTO_UDP, "192.0.2.10", 40001, "198.51.100.53", 53);
	reverse(&q, &r);
	size_t n = dns_msg("www.routerd.example", 0, buf);
	flows_observe_payload(fl, &q, buf, n, 100 * S, 1, &res);
	char id[33];
	strcpy(id, res.flow_id);
	assert_true(res.detected);
	assert_int_equal(res.host_kind, NDPI_ADAPTER_HOST_DNS);
	assert_string_equal(res.host, "www.routerd.example");
	/* the query alone is not final: nDPI wants the answer */
	assert_int_equal(res.state, FLOWS_STATE_INSPECTING);
	n = dns_msg("www.routerd.example", 1, buf);
	flows_observe_payload(fl, &r, buf, n, 100 * S + 1000, 2, &res);
	assert_string_equal(res.flow_id, id);
	assert_int_equal(res.state, FLOWS_STATE_FINAL);
	assert_non_null(res.meta[NDPI_ADAPTER_META_DNS_ANSWER]);
	assert_string_equal(res.meta[NDPI_ADAPTER_META_DNS_ANSWER], "192.0.2.53");

	struct arena ar = {0};
	Routerd__Dpi__V1__ClassifyResult out = ROUTERD__DPI__V1__CLASSIFY_RESULT__INIT;
	assert_int_equal(result_fill(ad, &res, arena_alloc, &ar, &out), 0);
	assert_string_equal(out.dnsquery, "www.routerd.example");
	assert_string_equal(out.tlssni, "");
	assert_string_equal(out.appname, "dns");
	assert_true(out.final);
	arena_fini(&ar);

	struct flows_stats st;
	flows_stats(fl, &st);
	assert_int_equal(st.active, 1);
	assert_int_equal(st.ndpi_allocs, 1);
	flows_free(fl);
}

static void test_flows_extra_dissection_certificate(void **state)
{
	NEED_NDPI();
	struct flows *fl = engine(100, 10, ad);
	struct rdpi_synth_tuple c, s;
	uint8_t buf[2048];
	tuple(&c, IPPROTO_TCP, "192.0.2.10", 53170, "198.51.100.10", 443);
	reverse(&c, &s);
	size_t n = hello("cert.routerd.example", buf);
	flows_observe_payload(fl, &c, buf, n, 100 * S, 1, &res);
	assert_true(res.detected);
	assert_int_equal(res.state, FLOWS_STATE_INSPECTING);
	struct flows_stats st;
	flows_stats(fl, &st);
	uint64_t live = st.ndpi_flow_bytes;
	assert_int_equal(st.inspecting, 1);
	assert_true(live >= ndpi_adapter_flow_size());

	n = server_flight(buf);
	flows_observe_payload(fl, &s, buf, n, 100 * S + 20000000, 2, &res);
	assert_int_equal(res.state, FLOWS_STATE_FINAL);
	assert_non_null(res.meta[NDPI_ADAPTER_META_TLS_SUBJECT]);
	assert_non_null(strstr(res.meta[NDPI_ADAPTER_META_TLS_SUBJECT], "routerd-cert.example"));
	assert_non_null(res.meta[NDPI_ADAPTER_META_TLS_ISSUER]);
	assert_non_null(res.meta[NDPI_ADAPTER_META_TLS_JA3S]);
	assert_string_equal(res.host, "cert.routerd.example");

	/* memory freed at final: the nDPI flow is gone, the counter dropped */
	flows_stats(fl, &st);
	assert_int_equal(st.inspecting, 0);
	assert_int_equal(st.ndpi_frees, 1);
	assert_true(st.ndpi_flow_bytes + ndpi_adapter_flow_size() <= live);
	assert_int_equal(st.final, 1);
	flows_free(fl);
}

static void test_flows_syn_flood_bounded(void **state)
{
	NEED_NDPI();
	const size_t limit = 1000;
	struct flows *fl = engine(limit, 10, ad);
	struct flows_stats st0, st;
	flows_stats(fl, &st0);
	struct rdpi_synth_tuple t;
	tuple(&t, IPPROTO_TCP, "10.0.0.1", 1, "198.51.100.10", 443);
	for (uint32_t i = 0; i < 100000; i++) {
		t.src[13] = (uint8_t)(i >> 16);
		t.src[14] = (uint8_t)(i >> 8);
		t.src[15] = (uint8_t)i;
		t.sport = (uint16_t)(1024 + i % 50000);
		flows_observe_payload(fl, &t, NULL, 0, (uint64_t)i * 1000, (uint64_t)i, &res);
		assert_int_equal(res.reason, FLOWS_REASON_NO_PAYLOAD);
	}
	flows_stats(fl, &st);
	assert_int_equal(st.active, limit);
	assert_int_equal(st.ndpi_allocs, 0); /* SYN-only flows cost no nDPI state */
	assert_int_equal(st.inspecting, 0);
	assert_int_equal(st.evictions, 100000 - limit);
	assert_int_equal(st.limit_hits, 100000 - limit);
	assert_true(st.table_bytes - st.table_fixed_bytes <= limit * 256);
	assert_true(st.ndpi_flow_bytes <= st0.ndpi_flow_bytes + 65536);

	/* a flood of unique payload flows: nDPI state is bounded by the limit */
	static const uint8_t junk[] = {9, 9, 9, 9};
	for (uint32_t i = 0; i < 20000; i++) {
		t.l4proto = IPPROTO_UDP;
		t.src[14] = (uint8_t)(i >> 8);
		t.src[15] = (uint8_t)i;
		flows_observe_payload(fl, &t, junk, sizeof(junk), 1000000000 + (uint64_t)i,
				      200000 + (uint64_t)i, &res);
	}
	flows_stats(fl, &st);
	assert_int_equal(st.active, limit);
	assert_true(st.inspecting <= limit);
	assert_int_equal(st.ndpi_allocs - st.ndpi_frees, st.inspecting);
	assert_true(st.ndpi_flow_bytes <= limit * (ndpi_adapter_flow_size() + 4096) + 1048576);
	flows_free(fl);
}

static void test_flows_ipv6(void **state)
{
	NEED_NDPI();
	struct flows *fl = engine(100, 10, ad);
	struct rdpi_synth_tuple t;
	uint8_t buf[512], pkt[1024];
	tuple(&t, IPPROTO_TCP, "2001:db8::10", 53168, "2001:db8:1::443", 443);
	size_t n = hello("v6.routerd.example", buf);
	flows_observe_payload(fl, &t, buf, n, 100 * S, 1, &res);
	assert_true(res.detected);
	assert_int_equal(res.l3, 6);
	assert_string_equal(res.host, "v6.routerd.example");

	/* a real IPv6 packet of another flow takes the same path */
	t.sport = 53169;
	size_t len;
	struct rdpi_synth_tcp tcp = {.seq = 1000, .ack = 2000, .flags = 0x18};
	assert_int_equal(rdpi_synth_packet(&t, &tcp, buf, n, pkt, sizeof(pkt), &len), 0);
	struct rdpi_packet pk;
	assert_int_equal(rdpi_packet_parse(pkt, len, &pk), 0);
	assert_int_equal(pk.payload_len, n);
	flows_observe_packet(fl, pkt, len, 100 * S, 2, &res);
	assert_true(res.detected);
	assert_int_equal(res.l3, 6);
	assert_int_equal(res.sport, 53169);

	struct arena ar = {0};
	Routerd__Dpi__V1__ClassifyResult out = ROUTERD__DPI__V1__CLASSIFY_RESULT__INIT;
	assert_int_equal(result_fill(ad, &res, arena_alloc, &ar, &out), 0);
	assert_string_equal(out.l3proto, "ipv6");
	assert_string_equal(out.srcaddress, "2001:db8::10");
	arena_fini(&ar);
	flows_free(fl);
}

static void test_flows_reset(void **state)
{
	NEED_NDPI();
	struct flows *fl = engine(100, 10, ad);
	struct rdpi_synth_tuple t;
	uint8_t buf[512];
	tuple(&t, IPPROTO_TCP, "192.0.2.10", 53171, "198.51.100.10", 443);
	size_t n = hello("reset.example", buf);
	flows_observe_payload(fl, &t, buf, n, 100 * S, 1, &res);
	struct rdpi_flowkey k;
	rdpi_flowkey_make(t.l3, t.l4proto, t.dst, t.dport, t.src, t.sport, &k, NULL);
	assert_int_equal(flows_reset_key(fl, &k), 0);
	assert_int_equal(flows_reset_key(fl, &k), -ENOENT);
	struct flows_stats st;
	flows_stats(fl, &st);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.inspecting, 0);
	assert_int_equal(st.ndpi_frees, 1);

	flows_observe_payload(fl, &t, buf, n, 100 * S, 2, &res);
	char id[33];
	strcpy(id, res.flow_id);
	struct rdpi_flowkey got;
	assert_int_equal(flows_reset_id(fl, id, &got), 0);
	assert_true(rdpi_flowkey_equal(&got, &k));
	assert_int_equal(flows_reset_id(fl, id, NULL), -ENOENT);
	flows_stats(fl, &st);
	assert_int_equal(st.resets, 2);
	flows_free(fl);
}

static void test_flows_idle_expiry(void **state)
{
	NEED_NDPI();
	struct flows_opts o = {.limit = 100,
			       .ttl_ns = 10 * S,
			       .budget_tcp = 10,
			       .budget_udp = 10,
			       .verdict_meta_max = 96};
	struct flows *fl;
	assert_int_equal(flows_new(&o, ad, &fl), 0);
	struct rdpi_synth_tuple t;
	uint8_t buf[512];
	tuple(&t, IPPROTO_TCP, "192.0.2.10", 53172, "198.51.100.10", 443);
	size_t n = hello("idle.example", buf);
	flows_observe_payload(fl, &t, buf, n, 100 * S, 1 * S, &res);
	t.sport++;
	flows_observe_payload(fl, &t, buf, n, 100 * S, 8 * S, &res);
	/* the first flow is idle past the TTL at 12 s, the second is not */
	assert_int_equal(flows_expire(fl, 12 * S, 1000), 1);
	struct flows_stats st;
	flows_stats(fl, &st);
	assert_int_equal(st.active, 1);
	assert_int_equal(st.expiries, 1);
	assert_int_equal(st.inspecting, 1);
	assert_int_equal(st.ndpi_frees, 1);
	assert_int_equal(flows_expire(fl, 30 * S, 1000), 1);
	flows_stats(fl, &st);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.inspecting, 0);
	flows_free(fl);
}

static void test_flows_bad_packet(void **state)
{
	struct flows *fl = engine(100, 10, ad);
	static const uint8_t junk[] = {0x45, 0, 0, 10, 1, 2};
	assert_int_equal(flows_observe_packet(fl, junk, sizeof(junk), 0, 1, &res), -EINVAL);
	assert_int_equal(res.reason, FLOWS_REASON_BAD_PACKET);
	struct flows_stats st;
	flows_stats(fl, &st);
	assert_int_equal(st.errors, 1);
	flows_free(fl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flows_unavailable),
	    cmocka_unit_test(test_flows_tls_classified),
	    cmocka_unit_test(test_flows_cached_after_final),
	    cmocka_unit_test(test_flows_packet_limit),
	    cmocka_unit_test(test_flows_giveup_guessed),
	    cmocka_unit_test(test_flows_both_directions_share_flow),
	    cmocka_unit_test(test_flows_extra_dissection_certificate),
	    cmocka_unit_test(test_flows_syn_flood_bounded),
	    cmocka_unit_test(test_flows_ipv6),
	    cmocka_unit_test(test_flows_reset),
	    cmocka_unit_test(test_flows_idle_expiry),
	    cmocka_unit_test(test_flows_bad_packet),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

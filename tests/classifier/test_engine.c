/* Unit tests of the classifier engine in builtin mode: the verdict cache in
 * both directions, first-payload-packets budget, copyRange, a ClientHello
 * split over TCP segments, dns-cache and sni-cache sources, port fallback,
 * the "only improves" merge and bad requests. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/synth.h"
#include "engine.h"
#include "verdict.h"

struct fx {
	struct engine *e;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct engine_opts o = {
	    .kind = ENGINE_BUILTIN, .first_payload_packets = 4, .flow_limit = 1000};
	if (engine_new(&o, &f->e) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	engine_free(f->e);
	free(f);
	return 0;
}

static void classify_pkt(struct engine *e, const uint8_t *pkt, size_t len, struct engine_item *it)
{
	Routerd__Dpi__V1__ClassifyRequest r = ROUTERD__DPI__V1__CLASSIFY_REQUEST__INIT;
	r.packet.data = (uint8_t *)pkt;
	r.packet.len = len;
	Routerd__Dpi__V1__ClassifyRequest *rp = &r;
	engine_classify(e, &rp, 1, 100, it);
}

static void classify_tuple(struct engine *e, const char *l4, const char *src, uint16_t sport,
			   const char *dst, uint16_t dport, const void *payload, size_t plen,
			   struct engine_item *it)
{
	Routerd__Dpi__V1__ClassifyRequest r = ROUTERD__DPI__V1__CLASSIFY_REQUEST__INIT;
	r.transportprotocol = (char *)l4;
	r.srcaddress = (char *)src;
	r.srcport = sport;
	r.dstaddress = (char *)dst;
	r.dstport = dport;
	r.l4payload.data = (uint8_t *)payload;
	r.l4payload.len = plen;
	Routerd__Dpi__V1__ClassifyRequest *rp = &r;
	engine_classify(e, &rp, 1, 100, it);
}

static void test_engine_tls_then_cache_hit_from_other_direction(void **state)
{
	struct fx *f = *state;
	uint8_t hello[1024], pkt[1600];
	size_t hl = rdpi_synth_client_hello("cache.example", "h2", hello, sizeof(hello));
	size_t pl = rdpi_synth_tcp_packet("192.0.2.10", 50000, "198.51.100.10", 443, 1, hello, hl,
					  pkt, sizeof(pkt));
	struct engine_item it;
	classify_pkt(f->e, pkt, pl, &it);
	assert_string_equal(it.v.app, "tls");
	assert_int_equal(it.v.source, VERDICT_SOURCE_BUILTIN_PAYLOAD);
	assert_string_equal(it.v.tls_sni, "cache.example");
	assert_string_equal(it.v.reason, "tls_client_hello_sni");
	assert_false(it.v.final); /* waits for the ServerHello */
	assert_false(it.cache_hit);
	assert_string_equal(verdict_meta_get(&it.v, "tls.alpn"), "h2");
	char id[33];
	memcpy(id, it.flow_id, sizeof(id));

	/* the server's answer: other direction, same flow; version and cipher join in */
	static const uint8_t sh[] = {
	    0x16, 0x03, 0x03, 0x00, 0x32, 0x02, 0x00, 0x00, 0x2e, 0x03, 0x03, 1,    2,	 3,
	    4,	  5,	6,    7,    8,	  9,	10,   11,   12,	  13,	14,   15,   16,	 17,
	    18,	  19,	20,   21,   22,	  23,	24,   25,   26,	  27,	28,   29,   30,	 31,
	    32,	  0x00, 0x13, 0x01, 0x00, 0x00, 0x06, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04};
	size_t rl = rdpi_synth_tcp_packet("198.51.100.10", 443, "192.0.2.10", 50000, 9, sh,
					  sizeof(sh), pkt, sizeof(pkt));
	classify_pkt(f->e, pkt, rl, &it);
	assert_false(it.cache_hit);
	assert_string_equal(it.flow_id, id);
	assert_true(it.v.final);
	assert_string_equal(it.v.tls_sni, "cache.example");
	assert_string_equal(it.v.reason, "tls_client_hello_sni");
	assert_string_equal(verdict_meta_get(&it.v, "tls.server_version"), "tls1.3");
	assert_non_null(verdict_meta_get(&it.v, "tls.cipher"));

	/* application data either way is answered from the cache */
	const uint8_t junk[] = {0x17, 0x03, 0x03, 0x00, 0x01, 0x00};
	rl = rdpi_synth_tcp_packet("192.0.2.10", 50000, "198.51.100.10", 443, 9, junk, sizeof(junk),
				   pkt, sizeof(pkt));
	classify_pkt(f->e, pkt, rl, &it);
	assert_true(it.cache_hit);
	assert_string_equal(it.flow_id, id);
	assert_string_equal(it.v.app, "tls");
	assert_string_equal(it.v.tls_sni, "cache.example");
	assert_string_equal(it.v.reason, "tls_client_hello_sni");
	assert_string_equal(verdict_meta_get(&it.v, "cache"), "hit");
	struct engine_stats st;
	engine_stats(f->e, &st);
	assert_int_equal(st.cache_hits, 1);
	assert_int_equal(st.active_flows, 1);
}

static void test_engine_split_client_hello(void **state)
{
	struct fx *f = *state;
	uint8_t hello[1024], pkt[1600];
	size_t hl = rdpi_synth_client_hello("split.example.net", NULL, hello, sizeof(hello));
	size_t cut = hl / 3;
	struct engine_item it;
	size_t pl = rdpi_synth_tcp_packet("192.0.2.20", 50001, "198.51.100.20", 443, 100, hello,
					  cut, pkt, sizeof(pkt));
	classify_pkt(f->e, pkt, pl, &it);
	assert_false(verdict_known(&it.v) && strcmp(it.v.app, "tls") == 0 && it.v.tls_sni[0]);
	pl = rdpi_synth_tcp_packet("192.0.2.20", 50001, "198.51.100.20", 443, 100 + (uint32_t)cut,
				   hello + cut, cut, pkt, sizeof(pkt));
	classify_pkt(f->e, pkt, pl, &it);
	pl = rdpi_synth_tcp_packet("192.0.2.20", 50001, "198.51.100.20", 443,
				   100 + 2 * (uint32_t)cut, hello + 2 * cut, hl - 2 * cut, pkt,
				   sizeof(pkt));
	classify_pkt(f->e, pkt, pl, &it);
	assert_string_equal(it.v.app, "tls");
	assert_string_equal(it.v.tls_sni, "split.example.net");
}

static void test_engine_budget_makes_flow_final(void **state)
{
	struct fx *f = *state;
	const char junk[] = "\x01\x02\x03 nothing recognisable here";
	struct engine_item it;
	for (int i = 0; i < 4; i++) {
		classify_tuple(f->e, "tcp", "192.0.2.30", 50002, "198.51.100.30", 7777, junk,
			       sizeof(junk), &it);
		assert_false(it.cache_hit);
	}
	assert_true(it.v.final);
	assert_int_equal(it.v.source, VERDICT_SOURCE_BUILTIN);
	assert_string_equal(it.v.reason, "no_application_signal");
	classify_tuple(f->e, "tcp", "192.0.2.30", 50002, "198.51.100.30", 7777, junk, sizeof(junk),
		       &it);
	assert_true(it.cache_hit);
}

static void test_engine_copy_range_applies(void **state)
{
	struct engine *e;
	struct engine_opts o = {.kind = ENGINE_BUILTIN, .copy_range = 64};
	assert_int_equal(engine_new(&o, &e), 0);
	uint8_t hello[1024], pkt[1600];
	size_t hl = rdpi_synth_client_hello("a-rather-long-name-beyond-the-copy-range.example",
					    NULL, hello, sizeof(hello));
	size_t pl = rdpi_synth_tcp_packet("192.0.2.40", 50003, "198.51.100.40", 443, 1, hello, hl,
					  pkt, sizeof(pkt));
	struct engine_item it;
	classify_pkt(e, pkt, pl, &it);
	/* only 64 bytes of the packet are considered: no SNI can be seen */
	assert_string_equal(it.v.tls_sni, "");
	engine_free(e);
}

static void test_engine_port_fallback_and_unknown(void **state)
{
	struct fx *f = *state;
	struct engine_item it;
	classify_tuple(f->e, "udp", "192.0.2.50", 50004, "198.51.100.50", 443, NULL, 0, &it);
	assert_int_equal(it.v.source, VERDICT_SOURCE_PORT_FALLBACK);
	assert_string_equal(it.v.app, "quic");
	assert_true(it.v.confidence <= 40);
	classify_tuple(f->e, "udp", "192.0.2.50", 50005, "198.51.100.50", 40000, NULL, 0, &it);
	assert_int_equal(it.v.source, VERDICT_SOURCE_BUILTIN);
	assert_string_equal(it.v.reason, "no_application_signal");
	assert_false(verdict_known(&it.v));
}

/* DNS response for name with one A record addr (4 bytes) and ttl. */
static size_t dns_response(const char *name, const uint8_t addr[4], uint32_t ttl, uint8_t *out)
{
	size_t n = 0;
	const uint8_t hdr[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0};
	memcpy(out, hdr, sizeof(hdr));
	n = sizeof(hdr);
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		out[n++] = (uint8_t)l;
		memcpy(out + n, p, l);
		n += l;
		p += l + (dot ? 1 : 0);
	}
	out[n++] = 0;
	const uint8_t q[] = {0, 1, 0, 1};
	memcpy(out + n, q, 4);
	n += 4;
	const uint8_t a[] = {0xc0, 0x0c, 0, 1, 0, 1};
	memcpy(out + n, a, sizeof(a));
	n += sizeof(a);
	out[n++] = (uint8_t)(ttl >> 24);
	out[n++] = (uint8_t)(ttl >> 16);
	out[n++] = (uint8_t)(ttl >> 8);
	out[n++] = (uint8_t)ttl;
	out[n++] = 0;
	out[n++] = 4;
	memcpy(out + n, addr, 4);
	return n + 4;
}

static void test_engine_dns_cache_source(void **state)
{
	struct fx *f = *state;
	uint8_t msg[512];
	const uint8_t addr[4] = {203, 0, 113, 7};
	size_t n = dns_response("www.netflix.com", addr, 300, msg);
	struct engine_item it;
	/* resolver -> client */
	classify_tuple(f->e, "udp", "192.0.2.1", 53, "192.0.2.60", 50006, msg, n, &it);
	/* later the client opens a flow to that address with no payload yet */
	classify_tuple(f->e, "tcp", "192.0.2.60", 50007, "203.0.113.7", 443, NULL, 0, &it);
	assert_int_equal(it.v.source, VERDICT_SOURCE_DNS_CACHE);
	assert_string_equal(it.v.app, "netflix");
	assert_string_equal(it.v.resolved_host, "www.netflix.com");
	/* another client did not resolve it: no dns-cache for them */
	classify_tuple(f->e, "tcp", "192.0.2.61", 50008, "203.0.113.7", 443, NULL, 0, &it);
	assert_int_not_equal(it.v.source, VERDICT_SOURCE_DNS_CACHE);
	assert_string_equal(it.v.resolved_host, "");
}

static void test_engine_sni_cache_source(void **state)
{
	struct fx *f = *state;
	uint8_t hello[1024], pkt[1600];
	size_t hl = rdpi_synth_client_hello("api.example.com", NULL, hello, sizeof(hello));
	size_t pl = rdpi_synth_tcp_packet("192.0.2.70", 50009, "198.51.100.70", 443, 1, hello, hl,
					  pkt, sizeof(pkt));
	struct engine_item it;
	classify_pkt(f->e, pkt, pl, &it);
	assert_string_equal(it.v.tls_sni, "api.example.com");
	/* a new connection to the same server whose ClientHello we never see */
	classify_tuple(f->e, "tcp", "192.0.2.71", 50010, "198.51.100.70", 443, NULL, 0, &it);
	assert_int_equal(it.v.source, VERDICT_SOURCE_SNI_CACHE);
	assert_string_equal(it.v.tls_sni, "api.example.com");
	assert_string_equal(it.v.app, "tls");
}

static void test_engine_only_improves(void **state)
{
	struct verdict a, b;
	verdict_init(&a);
	a.source = VERDICT_SOURCE_BUILTIN_PAYLOAD;
	snprintf(a.app, sizeof(a.app), "tls");
	snprintf(a.tls_sni, sizeof(a.tls_sni), "x.example");
	verdict_init(&b);
	b.source = VERDICT_SOURCE_BUILTIN;
	snprintf(b.reason, sizeof(b.reason), "no_application_signal");
	verdict_merge(&a, &b);
	assert_string_equal(a.app, "tls");
	assert_string_equal(a.tls_sni, "x.example");
	verdict_init(&b);
	b.source = VERDICT_SOURCE_PORT_FALLBACK;
	snprintf(b.app, sizeof(b.app), "https");
	verdict_merge(&a, &b);
	assert_string_equal(a.app, "tls");
	verdict_init(&b);
	b.source = VERDICT_SOURCE_NDPI;
	snprintf(b.app, sizeof(b.app), "youtube");
	verdict_merge(&a, &b);
	assert_string_equal(a.app, "youtube");
	assert_int_equal(a.source, VERDICT_SOURCE_NDPI);
	assert_string_equal(a.tls_sni, "x.example");

	/* pack/unpack keeps everything */
	verdict_meta_set(&a, "tls.alpn", "h2");
	uint8_t *buf;
	size_t n;
	assert_int_equal(verdict_pack(&a, &buf, &n), 0);
	assert_true(n < 100);
	verdict_init(&b);
	assert_int_equal(verdict_unpack(buf, n, &b), 0);
	uint8_t *buf2;
	size_t n2;
	assert_int_equal(verdict_pack(&b, &buf2, &n2), 0);
	assert_int_equal(n, n2);
	assert_memory_equal(buf, buf2, n);
	free(buf2);
	assert_string_equal(b.app, "youtube");
	assert_string_equal(b.tls_sni, "x.example");
	assert_string_equal(verdict_meta_get(&b, "tls.alpn"), "h2");
	assert_int_equal(b.source, VERDICT_SOURCE_NDPI);
	assert_int_equal(verdict_unpack(buf, n - 1, &b), -EINVAL);
	free(buf);
}

static void test_engine_bad_request(void **state)
{
	struct fx *f = *state;
	struct engine_item it;
	classify_tuple(f->e, "tcp", "not-an-address", 1, "198.51.100.1", 2, NULL, 0, &it);
	assert_true(it.invalid);
	assert_non_null(strstr(it.fallback_reason, "srcAddress"));
	classify_tuple(f->e, "sctp?", "192.0.2.1", 1, "198.51.100.1", 2, NULL, 0, &it);
	assert_true(it.invalid);
	const uint8_t garbage[] = {0x99, 0x00, 0x01};
	classify_pkt(f->e, garbage, sizeof(garbage), &it);
	assert_true(it.invalid);
	assert_non_null(strstr(it.fallback_reason, "packet"));
}

static void test_engine_ipv6(void **state)
{
	struct fx *f = *state;
	uint8_t hello[1024], pkt[1600];
	size_t hl = rdpi_synth_client_hello("v6.example", NULL, hello, sizeof(hello));
	size_t pl = rdpi_synth_tcp_packet("2001:db8::10", 50011, "2001:db8::443", 443, 1, hello, hl,
					  pkt, sizeof(pkt));
	struct engine_item it;
	classify_pkt(f->e, pkt, pl, &it);
	assert_string_equal(it.l3, "ipv6");
	assert_string_equal(it.src, "2001:db8::10");
	assert_string_equal(it.v.tls_sni, "v6.example");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_engine_tls_then_cache_hit_from_other_direction,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_engine_split_client_hello, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_engine_budget_makes_flow_final, setup, teardown),
	    cmocka_unit_test(test_engine_copy_range_applies),
	    cmocka_unit_test_setup_teardown(test_engine_port_fallback_and_unknown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_engine_dns_cache_source, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_engine_sni_cache_source, setup, teardown),
	    cmocka_unit_test(test_engine_only_improves),
	    cmocka_unit_test_setup_teardown(test_engine_bad_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_engine_ipv6, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for services/classifier/dns: queries and responses built byte by byte, compression
 * pointers (backwards, forward, loops), label/name limits, TCP framing, Tailscale names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns.h"

struct buf {
	uint8_t d[2048];
	size_t n;
};

static void put8(struct buf *b, unsigned v)
{
	b->d[b->n++] = (uint8_t)v;
}

static void put16(struct buf *b, unsigned v)
{
	put8(b, v >> 8);
	put8(b, v & 0xff);
}

static void put32(struct buf *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b, v & 0xffff);
}

static void put_bytes(struct buf *b, const void *p, size_t n)
{
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

/* Uncompressed name ("" is the root). */
static void put_name(struct buf *b, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		put8(b, (unsigned)l);
		put_bytes(b, name, l);
		name += l + (dot ? 1 : 0);
	}
	put8(b, 0);
}

static void put_header(struct buf *b, unsigned id, unsigned flags, unsigned qd, unsigned an,
		       unsigned ns, unsigned ar)
{
	put16(b, id);
	put16(b, flags);
	put16(b, qd);
	put16(b, an);
	put16(b, ns);
	put16(b, ar);
}

static void build_query(struct buf *b, const char *name)
{
	b->n = 0;
	put_header(b, 0x1234, 0x0100, 1, 0, 0, 0);
	put_name(b, name);
	put16(b, DNS_TYPE_A);
	put16(b, 1);
}

/* www.example.com -> CNAME cdn.example.com (compressed) -> A + AAAA */
static void build_response(struct buf *b)
{
	static const uint8_t v6[16] = {0x26, 0x06, 0x28, 0x00, 0x02, 0x20, 0x00, 0x01,
				       0x02, 0x48, 0x18, 0x93, 0x25, 0xc8, 0x19, 0x46};
	b->n = 0;
	put_header(b, 0x1234, 0x8180, 1, 3, 0, 0);
	put_name(b, "www.example.com"); /* offset 12; "example" at 16 */
	put16(b, DNS_TYPE_A);
	put16(b, 1);
	/* answer 1 at 33: CNAME, rdata at 45 */
	put16(b, 0xc00c);
	put16(b, DNS_TYPE_CNAME);
	put16(b, 1);
	put32(b, 300);
	put16(b, 6);
	put8(b, 3);
	put_bytes(b, "cdn", 3);
	put16(b, 0xc010);
	/* answer 2: A for cdn.example.com */
	put16(b, 0xc02d);
	put16(b, DNS_TYPE_A);
	put16(b, 1);
	put32(b, 60);
	put16(b, 4);
	put_bytes(b, "\x5d\xb8\xd8\x22", 4);
	/* answer 3: AAAA */
	put16(b, 0xc02d);
	put16(b, DNS_TYPE_AAAA);
	put16(b, 1);
	put32(b, 120);
	put16(b, 16);
	put_bytes(b, v6, 16);
}

/* Runs fn over every prefix in an exact-size heap copy, so ASan sees any over-read. */
static void every_prefix(const uint8_t *p, size_t n,
			 int (*fn)(const uint8_t *, size_t, struct dns_message *))
{
	struct dns_message *m = malloc(sizeof(*m));
	assert_non_null(m);
	for (size_t i = 0; i <= n; i++) {
		uint8_t *c = malloc(i ? i : 1);
		assert_non_null(c);
		memcpy(c, p, i);
		int r = fn(c, i, m);
		assert_true(r == 0 || r == -ENOMSG || r == -EINVAL);
		free(c);
	}
	free(m);
}

static struct dns_message msg;

static void test_dns_query(void **state)
{
	struct buf b;
	build_query(&b, "www.example.com");
	assert_int_equal(dns_parse(b.d, b.n, &msg), 0);
	assert_int_equal(msg.id, 0x1234);
	assert_false(msg.qr);
	assert_true(msg.rd);
	assert_int_equal(msg.opcode, 0);
	assert_int_equal(msg.qdcount, 1);
	assert_true(msg.has_question);
	assert_string_equal(msg.qname, "www.example.com");
	assert_int_equal(msg.qtype, DNS_TYPE_A);
	assert_int_equal(msg.qclass, 1);
	assert_int_equal(msg.n_answers, 0);
	assert_false(msg.truncated);
}

static void test_dns_name_lowercased(void **state)
{
	struct buf b;
	build_query(&b, "WWW.Example.COM");
	assert_int_equal(dns_parse(b.d, b.n, &msg), 0);
	assert_string_equal(msg.qname, "www.example.com");
}

static void test_dns_odd_bytes_replaced(void **state)
{
	struct buf b;
	b.n = 0;
	put_header(&b, 1, 0, 1, 0, 0, 0);
	put8(&b, 5);
	put_bytes(&b, "a.b\x01\xff", 5);
	put8(&b, 6);
	put_bytes(&b, "J\xc3\xbcrgen", 7 - 1); /* "Jürgen" is 7 bytes; label of 6 cuts it */
	put8(&b, 0);
	put16(&b, DNS_TYPE_A);
	put16(&b, 1);
	assert_int_equal(dns_parse(b.d, b.n, &msg), 0);
	assert_string_equal(msg.qname, "a?b??.j\xc3\xbcrge");

	b.n = 0;
	put_header(&b, 1, 0, 1, 0, 0, 0);
	put8(&b, 2);
	put_bytes(&b, "\xc3\xbc", 2);
	put8(&b, 0);
	put16(&b, DNS_TYPE_A);
	put16(&b, 1);
	assert_int_equal(dns_parse(b.d, b.n, &msg), 0);
	assert_string_equal(msg.qname, "\xc3\xbc");
}

static void test_dns_response_records(void **state)
{
	struct buf b;
	build_response(&b);
	assert_int_equal(dns_parse(b.d, b.n, &msg), 0);
	assert_true(msg.qr);
	assert_true(msg.ra);
	assert_int_equal(msg.rcode, 0);
	assert_string_equal(msg.qname, "www.example.com");
	assert_int_equal(msg.n_answers, 3);
	assert_false(msg.truncated);
	assert_false(msg.answers_dropped);

	assert_string_equal(msg.answers[0].name, "www.example.com");
	assert_int_equal(msg.answers[0].type, DNS_TYPE_CNAME);
	assert_int_equal(msg.answers[0].ttl, 300);
	assert_string_equal(msg.answers[0].target, "cdn.example.com");

	static const uint8_t v4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 93, 184, 216, 34};
	assert_string_equal(msg.answers[1].name, "cdn.example.com");
	assert_int_equal(msg.answers[1].type, DNS_TYPE_A);
	assert_int_equal(msg.answers[1].ttl, 60);
	assert_memory_equal(msg.answers[1].addr, v4, 16);
	assert_string_equal(msg.answers[1].target, "");

	assert_string_equal(msg.answers[2].name, "cdn.example.com");
	assert_int_equal(msg.answers[2].type, DNS_TYPE_AAAA);
	assert_int_equal(msg.answers[2].ttl, 120);
	assert_int_equal(msg.answers[2].addr[0], 0x26);
	assert_int_equal(msg.answers[2].addr[15], 0x46);
}

static void test_dns_other_types_skipped(void **state)
{
	struct buf b;
	b.n = 0;
	put_header(&b, 7, 0x8400, 1, 2, 0, 0);
	put_name(&b, "example.com");
	put16(&b, 16);
	put16(&b, 1);
	put16(&b, 0xc00c);
	put16(&b, 16); /* TXT */
	put16(&b, 1);
	put32(&b, 10);
	put16(&b, 4);
	put_bytes(&b,
		  "\x03"
		  "abc",
		  4);
	put16(&b, 0xc00c);
	put16(&b, DNS_TYPE_A);
	put16(&b, 1);
	put32(&b, 20);
	put16(&b, 4);
	put_bytes(&b, "\x0a\x00\x00\x01", 4);
	assert_int_equal(dns_parse(b.d, b.n, &msg), 0);
	assert_true(msg.aa);
	assert_int_equal(msg.n_answers, 1);
	assert_int_equal(msg.answers[0].addr[12], 10);
}

static void test_dns_bad_rdlength(void **state)
{
	struct buf b;
	build_response(&b);
	b.d[62] = 5; /* A record rdlength low byte: 4 -> 5 */
	assert_int_equal(dns_parse(b.d, b.n, &msg), -EINVAL);
}

static void test_dns_cname_overruns_rdata(void **state)
{
	struct buf b;
	build_response(&b);
	b.d[44] = 5; /* CNAME rdlength 6 -> 5: the name no longer ends on the rdata boundary */
	assert_int_equal(dns_parse(b.d, b.n, &msg), -EINVAL);
}

static void test_dns_pointer_loop(void **state)
{
	struct buf b;
	/* question name is a pointer to itself */
	b.n = 0;
	put_header(&b, 1, 0, 1, 0, 0, 0);
	put16(&b, 0xc00c);
	put16(&b, 1);
	put16(&b, 1);
	assert_int_equal(dns_parse(b.d, b.n, &msg), -EINVAL);

	/* two answers pointing at each other: 33 -> 45 is forward, 45 -> 33 would loop */
	b.n = 0;
	put_header(&b, 1, 0x8000, 1, 1, 0, 0);
	put_name(&b, "www.example.com");
	put16(&b, 1);
	put16(&b, 1);
	put8(&b, 1); /* answer name at 33: "a" then pointer back to 33 */
	put8(&b, 'a');
	put16(&b, 0xc021);
	put16(&b, DNS_TYPE_A);
	put16(&b, 1);
	put32(&b, 1);
	put16(&b, 4);
	put32(&b, 0);
	assert_int_equal(dns_parse(b.d, b.n, &msg), -EINVAL);

	/* a chain that bounces: label at 12 points to 29, which points to 12 */
	b.n = 0;
	put_header(&b, 1, 0x8000, 1, 1, 0, 0);
	put_name(&b, "www.example.com");
	put16(&b, 1);
	put16(&b, 1);
	put16(&b, 0xc025); /* answer name at 33 -> 37 (forward) */
	put16(&b, 0xc021); /* 37 -> 33 */
	put16(&b, 1);
	put16(&b, 1);
	put32(&b, 1);
	put16(&b, 4);
	put32(&b, 0);
	assert_int_equal(dns_parse(b.d, b.n, &msg), -EINVAL);
}

static void test_dns_forward_pointer(void **state)
{
	struct buf b;
	b.n = 0;
	put_header(&b, 1, 0, 1, 0, 0, 0);
	put16(&b, 0xc012); /* -> 18, after the question's own start */
	put16(&b, 1);
	put16(&b, 1);
	put_name(&b, "example.com");
	assert_int_equal(dns_parse(b.d, b.n, &msg), -EINVAL);

	/* pointer into the header */
	b.n = 0;
	put_header(&b, 1, 0, 1, 0, 0, 0);
	put16(&b, 0xc002);
	put16(&b, 1);
	put16(&b, 1);
	assert_int_equal(dns_parse(b.d, b.n, &msg), -EINVAL);
}

static void test_dns_label_too_long(void **state)
{
	struct buf b;
	char label[70];
	memset(label, 'a', sizeof(label));
	b.n = 0;
	put_header(&b, 1, 0, 1, 0, 0, 0);
	put8(&b, 64);
	put_bytes(&b, label, 64);
	put8(&b, 0);
	put16(&b, 1);
	put16(&b, 1);
	assert_int_equal(dns_parse(b.d, b.n, &msg), -EINVAL);
	b.d[12] = 0x80; /* reserved label type */
	assert_int_equal(dns_parse(b.d, b.n, &msg), -EINVAL);
}

static void test_dns_name_too_long(void **state)
{
	char name[300], l63[64];
	struct buf b;
	memset(l63, 'a', 63);
	l63[63] = '\0';
	/* 3 x 63 + 61: 255 wire bytes with the root, the maximum */
	snprintf(name, sizeof(name), "%s.%s.%s.%.61s", l63, l63, l63, l63);
	build_query(&b, name);
	assert_int_equal(dns_parse(b.d, b.n, &msg), 0);
	assert_int_equal(strlen(msg.qname), 253);
	assert_string_equal(msg.qname, name);
	/* one byte more */
	snprintf(name, sizeof(name), "%s.%s.%s.%.62s", l63, l63, l63, l63);
	build_query(&b, name);
	assert_int_equal(dns_parse(b.d, b.n, &msg), -EINVAL);
	/* too long only through a pointer */
	b.n = 0;
	put_header(&b, 1, 0x8000, 1, 1, 0, 0);
	snprintf(name, sizeof(name), "%s.%s.%s", l63, l63, l63);
	put_name(&b, name); /* 12 .. 204 */
	put16(&b, 1);
	put16(&b, 1);
	put8(&b, 63);
	put_bytes(&b, l63, 63);
	put16(&b, 0xc00c);
	put16(&b, 1);
	put16(&b, 1);
	put32(&b, 1);
	put16(&b, 4);
	put32(&b, 0);
	assert_int_equal(dns_parse(b.d, b.n, &msg), -EINVAL);
}

static void test_dns_not_dns(void **state)
{
	struct buf b;
	build_query(&b, "example.com");
	assert_int_equal(dns_parse(b.d, 11, &msg), -ENOMSG);
	b.d[2] = 0x10; /* opcode 2 (status) */
	assert_int_equal(dns_parse(b.d, b.n, &msg), -ENOMSG);
	build_query(&b, "example.com");
	b.d[5] = 0; /* query without a question */
	assert_int_equal(dns_parse(b.d, b.n, &msg), -ENOMSG);
	build_query(&b, "example.com");
	b.d[6] = 0x10; /* 4096 answers cannot fit */
	assert_int_equal(dns_parse(b.d, b.n, &msg), -ENOMSG);
	build_query(&b, "example.com");
	b.d[2] = 0x80; /* response with neither question nor answer */
	b.d[5] = 0;
	assert_int_equal(dns_parse(b.d, b.n, &msg), -ENOMSG);
	assert_int_equal(dns_parse(NULL, 0, &msg), -ENOMSG);
}

static void test_dns_question_cut_is_invalid(void **state)
{
	struct buf b;
	build_query(&b, "www.example.com");
	assert_int_equal(dns_parse(b.d, b.n - 1, &msg), -EINVAL);
	assert_int_equal(dns_parse(b.d, 20, &msg), -EINVAL);
}

static void test_dns_answers_cut_keeps_question(void **state)
{
	struct buf b;
	build_response(&b);
	assert_int_equal(dns_parse(b.d, b.n - 3, &msg), 0);
	assert_true(msg.truncated);
	assert_int_equal(msg.n_answers, 2);
	assert_string_equal(msg.qname, "www.example.com");
}

static void test_dns_answer_limit(void **state)
{
	struct buf b;
	b.n = 0;
	put_header(&b, 1, 0x8000, 1, 20, 0, 0);
	put_name(&b, "many.example");
	put16(&b, 1);
	put16(&b, 1);
	for (unsigned i = 0; i < 20; i++) {
		put16(&b, 0xc00c);
		put16(&b, DNS_TYPE_A);
		put16(&b, 1);
		put32(&b, i);
		put16(&b, 4);
		put32(&b, 0x0a000000 + i);
	}
	assert_int_equal(dns_parse(b.d, b.n, &msg), 0);
	assert_int_equal(msg.n_answers, DNS_MAX_ANSWERS);
	assert_true(msg.answers_dropped);
	assert_int_equal(msg.answers[15].addr[15], 15);
}

static void test_dns_mdns_announcement(void **state)
{
	struct buf b;
	b.n = 0;
	put_header(&b, 0, 0x8400, 0, 1, 0, 0);
	put_name(&b, "MyHost.local");
	put16(&b, DNS_TYPE_A);
	put16(&b, 0x8001); /* cache flush */
	put32(&b, 120);
	put16(&b, 4);
	put_bytes(&b, "\xc0\xa8\x01\x0a", 4);
	assert_int_equal(dns_parse(b.d, b.n, &msg), 0);
	assert_false(msg.has_question);
	assert_int_equal(msg.n_answers, 1);
	assert_string_equal(msg.answers[0].name, "myhost.local");
	assert_int_equal(msg.answers[0].rclass, 0x8001);
}

static void test_dns_tcp(void **state)
{
	struct buf q, b;
	build_response(&q);
	b.n = 0;
	put16(&b, (unsigned)q.n);
	put_bytes(&b, q.d, q.n);
	put_bytes(&b, "\x00\x0c garbage", 10); /* a second, pipelined message is ignored */
	assert_int_equal(dns_parse_tcp(b.d, b.n, &msg), 0);
	assert_int_equal(msg.n_answers, 3);
	assert_false(msg.truncated);
	/* first segment holding only part of the message */
	assert_int_equal(dns_parse_tcp(b.d, 2 + 40, &msg), 0);
	assert_true(msg.truncated);
	assert_string_equal(msg.qname, "www.example.com");
	assert_int_equal(dns_parse_tcp(b.d, 1, &msg), -ENOMSG);
	b.d[0] = 0;
	b.d[1] = 5;
	assert_int_equal(dns_parse_tcp(b.d, b.n, &msg), -ENOMSG);
}

static void test_dns_error_leaves_output(void **state)
{
	struct buf b;
	struct dns_message *m = malloc(sizeof(*m)), *copy = malloc(sizeof(*m));
	assert_non_null(m);
	assert_non_null(copy);
	memset(m, 0xa5, sizeof(*m));
	memcpy(copy, m, sizeof(*m));
	build_query(&b, "example.com");
	assert_int_equal(dns_parse(b.d, b.n - 1, m), -EINVAL);
	assert_memory_equal(m, copy, sizeof(*m));
	free(m);
	free(copy);
}

static void test_dns_truncations(void **state)
{
	struct buf b;
	build_query(&b, "www.example.com");
	every_prefix(b.d, b.n, dns_parse);
	build_response(&b);
	every_prefix(b.d, b.n, dns_parse);
	struct buf t;
	t.n = 0;
	put16(&t, (unsigned)b.n);
	put_bytes(&t, b.d, b.n);
	every_prefix(t.d, t.n, dns_parse_tcp);
}

static void test_dns_tailscale_names(void **state)
{
	assert_true(dns_name_is_tailscale("ts.net"));
	assert_true(dns_name_is_tailscale("host.tail1234.ts.net"));
	assert_true(dns_name_is_tailscale("controlplane.tailscale.com"));
	assert_true(dns_name_is_tailscale("derp12.tailscale.com."));
	assert_true(dns_name_is_tailscale("LOG.Tailscale.IO"));
	assert_true(dns_name_is_tailscale("tailscale.com"));
	assert_false(dns_name_is_tailscale("nottailscale.com"));
	assert_false(dns_name_is_tailscale("tailscale.com.evil.net"));
	assert_false(dns_name_is_tailscale("bts.net"));
	assert_false(dns_name_is_tailscale(""));
	assert_false(dns_name_is_tailscale(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dns_query),
	    cmocka_unit_test(test_dns_name_lowercased),
	    cmocka_unit_test(test_dns_odd_bytes_replaced),
	    cmocka_unit_test(test_dns_response_records),
	    cmocka_unit_test(test_dns_other_types_skipped),
	    cmocka_unit_test(test_dns_bad_rdlength),
	    cmocka_unit_test(test_dns_cname_overruns_rdata),
	    cmocka_unit_test(test_dns_pointer_loop),
	    cmocka_unit_test(test_dns_forward_pointer),
	    cmocka_unit_test(test_dns_label_too_long),
	    cmocka_unit_test(test_dns_name_too_long),
	    cmocka_unit_test(test_dns_not_dns),
	    cmocka_unit_test(test_dns_question_cut_is_invalid),
	    cmocka_unit_test(test_dns_answers_cut_keeps_question),
	    cmocka_unit_test(test_dns_answer_limit),
	    cmocka_unit_test(test_dns_mdns_announcement),
	    cmocka_unit_test(test_dns_tcp),
	    cmocka_unit_test(test_dns_error_leaves_output),
	    cmocka_unit_test(test_dns_truncations),
	    cmocka_unit_test(test_dns_tailscale_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

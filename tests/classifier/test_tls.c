/* Tests for services/classifier/tls: ClientHellos from a configurable generator (SNI, ALPN,
 * ciphers, extensions, GREASE, record fragmentation), JA3 against hand-computed values, lying
 * lengths, truncations and ServerHellos. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tls.h"

/* ---- ClientHello generator ------------------------------------------------------------- */

#define GEN_MAX	   20000
#define FIELDS_MAX 64

struct field {
	size_t pos;   /* offset in the handshake message */
	size_t width; /* 1, 2 or 3 bytes */
};

struct wbuf {
	uint8_t p[GEN_MAX];
	size_t n;
	struct field fields[FIELDS_MAX]; /* every length field written */
	size_t n_fields;
	bool opaque; /* inside an extension the parser does not interpret: fields not recorded */
};

static void put8(struct wbuf *w, unsigned v)
{
	assert_true(w->n < GEN_MAX);
	w->p[w->n++] = (uint8_t)v;
}

static void put16(struct wbuf *w, unsigned v)
{
	put8(w, v >> 8);
	put8(w, v);
}

static void putmem(struct wbuf *w, const void *s, size_t len)
{
	assert_true(w->n + len <= GEN_MAX);
	memcpy(w->p + w->n, s, len);
	w->n += len;
}

/* length placeholder; close_len fills in the bytes written since */
static size_t open_len(struct wbuf *w, size_t width)
{
	size_t pos = w->n;
	for (size_t i = 0; i < width; i++)
		put8(w, 0);
	return pos;
}

static void close_len(struct wbuf *w, size_t pos, size_t width)
{
	size_t len = w->n - pos - width;
	for (size_t i = 0; i < width; i++)
		w->p[pos + i] = (uint8_t)(len >> (8 * (width - 1 - i)));
	if (w->opaque)
		return;
	assert_true(w->n_fields < FIELDS_MAX);
	w->fields[w->n_fields++] = (struct field){pos, width};
}

struct hello_opts {
	uint16_t legacy_version;
	const char *sni; /* NULL: no server_name */
	const char *alpn[8];
	size_t n_alpn;
	const uint16_t *ciphers;
	size_t n_ciphers;
	const uint16_t *groups;
	size_t n_groups;
	const uint8_t *formats;
	size_t n_formats;
	const uint16_t *versions; /* supported_versions */
	size_t n_versions;
	bool grease;	/* GREASE cipher, extensions, group and version as Chrome sends */
	bool browser;	/* the other extensions of a browser hello (EMS, tickets, key_share, ...) */
	size_t padding; /* bytes of padding extension (21) */
	bool session_id;
};

static void ext_begin(struct wbuf *w, unsigned type, size_t *pos)
{
	put16(w, type);
	*pos = open_len(w, 2);
}

/* Builds a full handshake message (type 1, 24-bit length, body) into w. */
static void gen_hello(const struct hello_opts *o, struct wbuf *w)
{
	size_t hs, l, e, x, y;
	memset(w, 0, sizeof(*w));
	put8(w, 1);
	hs = open_len(w, 3);
	put16(w, o->legacy_version ? o->legacy_version : 0x0303);
	for (int i = 0; i < 32; i++)
		put8(w, 0x40 + i);
	l = open_len(w, 1);
	if (o->session_id) {
		for (int i = 0; i < 32; i++)
			put8(w, 0xe0 ^ i);
	}
	close_len(w, l, 1);
	l = open_len(w, 2);
	if (o->grease)
		put16(w, 0x7a7a);
	for (size_t i = 0; i < o->n_ciphers; i++)
		put16(w, o->ciphers[i]);
	close_len(w, l, 2);
	put8(w, 1); /* compression methods: null */
	put8(w, 0);

	e = open_len(w, 2);
	if (o->grease) {
		ext_begin(w, 0x1a1a, &x);
		close_len(w, x, 2);
	}
	if (o->sni) {
		ext_begin(w, 0, &x);
		y = open_len(w, 2);
		put8(w, 0);
		l = open_len(w, 2);
		putmem(w, o->sni, strlen(o->sni));
		close_len(w, l, 2);
		close_len(w, y, 2);
		close_len(w, x, 2);
	}
	if (o->browser) {
		ext_begin(w, 23, &x); /* extended_master_secret */
		close_len(w, x, 2);
		ext_begin(w, 65281, &x); /* renegotiation_info */
		put8(w, 0);
		close_len(w, x, 2);
	}
	if (o->n_groups) {
		ext_begin(w, 10, &x);
		y = open_len(w, 2);
		if (o->grease)
			put16(w, 0x3a3a);
		for (size_t i = 0; i < o->n_groups; i++)
			put16(w, o->groups[i]);
		close_len(w, y, 2);
		close_len(w, x, 2);
	}
	if (o->n_formats) {
		ext_begin(w, 11, &x);
		y = open_len(w, 1);
		putmem(w, o->formats, o->n_formats);
		close_len(w, y, 1);
		close_len(w, x, 2);
	}
	if (o->browser) {
		ext_begin(w, 35, &x); /* session_ticket */
		close_len(w, x, 2);
	}
	if (o->n_alpn) {
		ext_begin(w, 16, &x);
		y = open_len(w, 2);
		for (size_t i = 0; i < o->n_alpn; i++) {
			l = open_len(w, 1);
			putmem(w, o->alpn[i], strlen(o->alpn[i]));
			close_len(w, l, 1);
		}
		close_len(w, y, 2);
		close_len(w, x, 2);
	}
	if (o->browser) {
		ext_begin(w, 5, &x); /* status_request */
		put8(w, 1);
		put16(w, 0);
		put16(w, 0);
		close_len(w, x, 2);
		ext_begin(w, 13, &x); /* signature_algorithms */
		w->opaque = true;
		y = open_len(w, 2);
		put16(w, 0x0403);
		put16(w, 0x0804);
		put16(w, 0x0401);
		close_len(w, y, 2);
		w->opaque = false;
		close_len(w, x, 2);
		ext_begin(w, 18, &x); /* signed_certificate_timestamp */
		close_len(w, x, 2);
		ext_begin(w, 51, &x); /* key_share: x25519 */
		w->opaque = true;
		y = open_len(w, 2);
		put16(w, 29);
		l = open_len(w, 2);
		for (int i = 0; i < 32; i++)
			put8(w, 0x11 * i);
		close_len(w, l, 2);
		close_len(w, y, 2);
		w->opaque = false;
		close_len(w, x, 2);
		ext_begin(w, 45, &x); /* psk_key_exchange_modes */
		w->opaque = true;
		y = open_len(w, 1);
		put8(w, 1);
		close_len(w, y, 1);
		w->opaque = false;
		close_len(w, x, 2);
	}
	if (o->n_versions) {
		ext_begin(w, 43, &x);
		y = open_len(w, 1);
		if (o->grease)
			put16(w, 0x5a5a);
		for (size_t i = 0; i < o->n_versions; i++)
			put16(w, o->versions[i]);
		close_len(w, y, 1);
		close_len(w, x, 2);
	}
	if (o->browser) {
		ext_begin(w, 27, &x); /* compress_certificate: brotli */
		w->opaque = true;
		y = open_len(w, 1);
		put16(w, 2);
		close_len(w, y, 1);
		w->opaque = false;
		close_len(w, x, 2);
	}
	if (o->grease) {
		ext_begin(w, 0x2a2a, &x);
		put8(w, 0);
		close_len(w, x, 2);
	}
	if (o->padding) {
		ext_begin(w, 21, &x);
		for (size_t i = 0; i < o->padding; i++)
			put8(w, 0);
		close_len(w, x, 2);
	}
	close_len(w, e, 2);
	close_len(w, hs, 3);
}

/* Wraps a handshake message in records of at most frag bytes each; returns the length. */
static size_t wrap(const uint8_t *hs, size_t len, size_t frag, uint8_t *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i += frag) {
		size_t k = len - i < frag ? len - i : frag;
		assert_true(o + 5 + k <= cap);
		out[o++] = 22;
		out[o++] = 3;
		out[o++] = 1;
		out[o++] = (uint8_t)(k >> 8);
		out[o++] = (uint8_t)k;
		memcpy(out + o, hs + i, k);
		o += k;
	}
	return o;
}

static const uint16_t chrome_ciphers[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f};
static const uint16_t chrome_groups[] = {29, 23, 24};
static const uint8_t point_uncompressed[] = {0};
static const uint16_t v13_12[] = {0x0304, 0x0303};

static struct hello_opts chrome_like(const char *sni)
{
	return (struct hello_opts){
	    .sni = sni,
	    .alpn = {"h2", "http/1.1"},
	    .n_alpn = 2,
	    .ciphers = chrome_ciphers,
	    .n_ciphers = 5,
	    .groups = chrome_groups,
	    .n_groups = 3,
	    .formats = point_uncompressed,
	    .n_formats = 1,
	    .versions = v13_12,
	    .n_versions = 2,
	    .grease = true,
	    .browser = true,
	    .padding = 200,
	    .session_id = true,
	};
}

static int parse_records(const struct wbuf *w, size_t frag, struct tls_client_hello *h)
{
	static uint8_t rec[GEN_MAX + 1024];
	size_t n = wrap(w->p, w->n, frag, rec, sizeof(rec));
	return tls_parse_client_hello(rec, n, h);
}

/* ---- ClientHello ----------------------------------------------------------------------- */

static void test_tls_chrome_like_hello(void **state)
{
	static struct wbuf w;
	struct tls_client_hello h;
	struct hello_opts o = chrome_like("WWW.Example.COM");
	gen_hello(&o, &w);
	assert_int_equal(parse_records(&w, 16384, &h), 0);
	assert_string_equal(h.sni, "www.example.com");
	assert_string_equal(h.alpn, "h2,http/1.1");
	assert_int_equal(h.legacy_version, 0x0303);
	assert_int_equal(h.version, 0x0304);
	assert_string_equal(h.version_name, "tls1.3");
	assert_int_equal(h.n_cipher_suites, 6);
	assert_int_equal(h.n_extensions, 17);
	/* GREASE cipher, extensions, group and version all left out */
	assert_string_equal(h.ja3, "771,4865-4866-4867-49195-49199,"
				   "0-23-65281-10-11-35-16-5-13-18-51-45-43-27-21,29-23-24,0");
	/* printf '771,4865-...-27-21,29-23-24,0' | md5sum */
	assert_string_equal(h.ja3_md5, "b1cb4a6146beffbe7413e873833ff9b1");
	assert_false(h.ja3_truncated);
}

/* The example of the Salesforce JA3 README: 769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,
 * 0-10-11,23-24-25,0 -> ada70206e40642a3e4461f35503241d5 (also what md5sum prints). */
static void test_tls_ja3_published_example(void **state)
{
	static const uint16_t ciphers[] = {47,	  53,	 5,  10, 49161, 49162,
					   49171, 49172, 50, 56, 19,	4};
	static const uint16_t groups[] = {23, 24, 25};
	static struct wbuf w;
	struct tls_client_hello h;
	struct hello_opts o = {
	    .legacy_version = 0x0301,
	    .sni = "example.org",
	    .ciphers = ciphers,
	    .n_ciphers = 12,
	    .groups = groups,
	    .n_groups = 3,
	    .formats = point_uncompressed,
	    .n_formats = 1,
	};
	gen_hello(&o, &w);
	assert_int_equal(parse_records(&w, 16384, &h), 0);
	assert_string_equal(h.ja3,
			    "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0");
	assert_string_equal(h.ja3_md5, "ada70206e40642a3e4461f35503241d5");
	assert_int_equal(h.version, 0x0301);
	assert_string_equal(h.version_name, "tls1.0");
	assert_string_equal(h.alpn, "");
}

static void test_tls_no_extensions(void **state)
{
	static const uint16_t ciphers[] = {47, 53};
	static struct wbuf w;
	struct tls_client_hello h;
	struct hello_opts o = {.legacy_version = 0x0301, .ciphers = ciphers, .n_ciphers = 2};
	gen_hello(&o, &w);
	/* drop the (empty) extensions block entirely: legal before TLS 1.2 */
	w.n -= 2;
	w.p[3] = (uint8_t)(w.n - 4);
	assert_int_equal(tls_parse_client_hello_handshake(w.p, w.n, &h), 0);
	assert_string_equal(h.sni, "");
	assert_string_equal(h.ja3, "769,47-53,,,");
	/* printf '769,47-53,,,' | md5sum */
	assert_string_equal(h.ja3_md5, "dac4920d4335e769327dbf4e1b759e15");
	assert_int_equal(h.n_extensions, 0);
}

static void test_tls_alpn_keeps_first_few(void **state)
{
	static struct wbuf w;
	struct tls_client_hello h;
	struct hello_opts o = chrome_like("a.example");
	o.n_alpn = 6;
	o.alpn[0] = "h2";
	o.alpn[1] = "bad,comma";
	o.alpn[2] = "http/1.1";
	o.alpn[3] = "spdy/3";
	o.alpn[4] = "h3";
	o.alpn[5] = "hq";
	gen_hello(&o, &w);
	assert_int_equal(parse_records(&w, 16384, &h), 0);
	assert_string_equal(h.alpn, "h2,http/1.1,spdy/3,h3");

	/* a protocol that does not fit the joined buffer is skipped, not cut */
	static char big[200];
	memset(big, 'x', sizeof(big) - 1);
	o.n_alpn = 2;
	o.alpn[0] = big;
	o.alpn[1] = "h2";
	gen_hello(&o, &w);
	assert_int_equal(parse_records(&w, 16384, &h), 0);
	assert_string_equal(h.alpn, "h2");
}

static void test_tls_sni_limits(void **state)
{
	static struct wbuf w;
	static char name[400];
	struct tls_client_hello h;
	struct hello_opts o = chrome_like(name);
	memset(name, 'A', 255);
	name[255] = '\0';
	gen_hello(&o, &w);
	assert_int_equal(parse_records(&w, 16384, &h), 0);
	assert_int_equal(strlen(h.sni), 255);
	assert_int_equal(h.sni[0], 'a');
	memset(name, 'b', 399);
	name[399] = '\0';
	gen_hello(&o, &w);
	assert_int_equal(parse_records(&w, 16384, &h), 0);
	assert_int_equal(strlen(h.sni), 255);

	/* control bytes and spaces are not host names */
	strcpy(name, "evil host");
	gen_hello(&o, &w);
	assert_int_equal(parse_records(&w, 16384, &h), -EINVAL);
	strcpy(name, "a\nb");
	gen_hello(&o, &w);
	assert_int_equal(parse_records(&w, 16384, &h), -EINVAL);
}

static void test_tls_versions(void **state)
{
	static const uint16_t drafts[] = {0x7f1c, 0x0304, 0x0302};
	static const uint16_t only_unknown[] = {0xfefd};
	static struct wbuf w;
	struct tls_client_hello h;
	struct hello_opts o = chrome_like("v.example");
	o.versions = drafts;
	o.n_versions = 3;
	gen_hello(&o, &w);
	assert_int_equal(parse_records(&w, 16384, &h), 0);
	assert_int_equal(h.version, 0x0304);
	o.versions = only_unknown;
	o.n_versions = 1;
	gen_hello(&o, &w);
	assert_int_equal(parse_records(&w, 16384, &h), 0);
	assert_int_equal(h.version, 0x0303);
	assert_string_equal(h.version_name, "tls1.2");
	o.n_versions = 0;
	o.legacy_version = 0x0302;
	gen_hello(&o, &w);
	assert_int_equal(parse_records(&w, 16384, &h), 0);
	assert_string_equal(h.version_name, "tls1.1");

	assert_string_equal(tls_version_name(0x0304), "tls1.3");
	assert_string_equal(tls_version_name(0x0303), "tls1.2");
	assert_string_equal(tls_version_name(0x0302), "tls1.1");
	assert_string_equal(tls_version_name(0x0301), "tls1.0");
	assert_string_equal(tls_version_name(0x0300), "ssl3.0");
	assert_string_equal(tls_version_name(0x7f17), "tls1.3");
	assert_string_equal(tls_version_name(0x0a0a), "unknown");
	assert_true(tls_is_grease(0x0a0a));
	assert_true(tls_is_grease(0xfafa));
	assert_false(tls_is_grease(0x0a1a));
	assert_false(tls_is_grease(0x1301));
}

static void test_tls_fragmented_records(void **state)
{
	static struct wbuf w;
	struct tls_client_hello h;
	struct hello_opts o = chrome_like("frag.example.net");
	o.padding = 1000;
	gen_hello(&o, &w);
	/* 2 and 3 records, a record holding only part of the handshake header, 1-byte records */
	const size_t frags[] = {w.n / 2 + 1, w.n / 3 + 1, 2, 1, 4};
	for (size_t i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		memset(&h, 0, sizeof(h));
		assert_int_equal(parse_records(&w, frags[i], &h), 0);
		assert_string_equal(h.sni, "frag.example.net");
		assert_string_equal(h.ja3_md5, "b1cb4a6146beffbe7413e873833ff9b1");
	}
}

static void test_tls_trailing_records_ignored(void **state)
{
	static struct wbuf w;
	static uint8_t rec[GEN_MAX + 64];
	struct tls_client_hello h;
	struct hello_opts o = chrome_like("early.example");
	gen_hello(&o, &w);
	size_t n = wrap(w.p, w.n, 16384, rec, sizeof(rec));
	static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 2, 0xaa};
	memcpy(rec + n, ccs, sizeof(ccs));
	assert_int_equal(tls_parse_client_hello(rec, n + sizeof(ccs), &h), 0);
	assert_string_equal(h.sni, "early.example");
}

static void test_tls_every_truncation(void **state)
{
	static struct wbuf w;
	static uint8_t rec[GEN_MAX + 1024];
	struct tls_client_hello h;
	struct hello_opts o = chrome_like("trunc.example");
	gen_hello(&o, &w);
	static const size_t frags[] = {16384, 300, 7};
	for (size_t f = 0; f < sizeof(frags) / sizeof(frags[0]); f++) {
		size_t n = wrap(w.p, w.n, frags[f], rec, sizeof(rec));
		assert_int_equal(tls_parse_client_hello(rec, 0, &h), -ENOMSG);
		for (size_t k = 1; k < n; k++) {
			/* exact-size heap copy so ASan sees any over-read */
			uint8_t *cut = malloc(k);
			memcpy(cut, rec, k);
			int rc = tls_parse_client_hello(cut, k, &h);
			free(cut);
			if (rc != -EAGAIN)
				fail_msg("frag %zu prefix %zu: rc %d", frags[f], k, rc);
		}
		assert_int_equal(tls_parse_client_hello(rec, n, &h), 0);
	}
	/* bare handshake (QUIC CRYPTO): every prefix needs more */
	for (size_t k = 1; k < w.n; k++) {
		uint8_t *cut = malloc(k);
		memcpy(cut, w.p, k);
		assert_int_equal(tls_parse_client_hello_handshake(cut, k, &h), -EAGAIN);
		free(cut);
	}
}

/* Every length field of the handshake, one more and one less than the truth: the bare parser
 * must call it malformed, except the outer handshake length growing (more bytes expected). */
static void test_tls_lying_lengths(void **state)
{
	static struct wbuf w, m;
	struct tls_client_hello h;
	struct hello_opts o = chrome_like("lie.example");
	gen_hello(&o, &w);
	assert_true(w.n_fields > 20);
	for (size_t i = 0; i < w.n_fields; i++) {
		const struct field *f = &w.fields[i];
		size_t v = 0;
		for (size_t b = 0; b < f->width; b++)
			v = v << 8 | w.p[f->pos + b];
		static const int deltas[] = {1, -1, 0x7fff};
		for (size_t d = 0; d < sizeof(deltas) / sizeof(deltas[0]); d++) {
			size_t lie = (v + (size_t)deltas[d]) & ((1u << (8 * f->width)) - 1);
			if (lie == v)
				continue;
			m = w;
			for (size_t b = 0; b < f->width; b++)
				m.p[f->pos + b] = (uint8_t)(lie >> (8 * (f->width - 1 - b)));
			bool outer = f->pos == 1;
			int want = outer && lie > v ? -EAGAIN : -EINVAL;
			int rc = tls_parse_client_hello_handshake(m.p, m.n, &h);
			if (rc != want)
				fail_msg("field at %zu (width %zu) %zu -> %zu: rc %d", f->pos,
					 f->width, v, lie, rc);
			/* the same inside a record must never be accepted either */
			rc = parse_records(&m, 16384, &h);
			if (rc != -EINVAL && rc != -EAGAIN)
				fail_msg("record: field at %zu: rc %d", f->pos, rc);
		}
	}
}

static void test_tls_record_layer_lies(void **state)
{
	static struct wbuf w;
	static uint8_t rec[GEN_MAX + 64];
	struct tls_client_hello h;
	struct hello_opts o = chrome_like("rec.example");
	gen_hello(&o, &w);
	size_t n = wrap(w.p, w.n, 100, rec, sizeof(rec));
	/* second record one byte shorter: the third header lands mid-data */
	rec[105 + 4]--;
	assert_int_equal(tls_parse_client_hello(rec, n, &h), -EINVAL);
	rec[105 + 4]++;
	/* record of another content type in the middle of the handshake */
	rec[105] = 23;
	assert_int_equal(tls_parse_client_hello(rec, n, &h), -EINVAL);
	rec[105] = 22;
	/* zero-length and oversize records */
	rec[3] = 0;
	rec[4] = 0;
	assert_int_equal(tls_parse_client_hello(rec, n, &h), -EINVAL);
	rec[3] = 0x40;
	rec[4] = 0x01;
	assert_int_equal(tls_parse_client_hello(rec, n, &h), -EINVAL);
	/* handshake longer than we reassemble */
	n = wrap(w.p, w.n, 16384, rec, sizeof(rec));
	rec[6] = 0x01;
	assert_int_equal(tls_parse_client_hello(rec, n, &h), -EINVAL);
}

static void test_tls_not_a_client_hello(void **state)
{
	struct tls_client_hello h;
	static const uint8_t http[] = "GET / HTTP/1.1\r\n";
	static const uint8_t appdata[] = {23, 3, 3, 0, 4, 1, 2, 3, 4};
	static const uint8_t sslv2[] = {0x80, 0x2e, 0x01, 0x00, 0x02};
	static const uint8_t badver[] = {22, 2, 0, 0, 4, 1, 0, 0, 0};
	static const uint8_t server_hello[] = {22, 3, 3, 0, 4, 2, 0, 0, 0};
	assert_int_equal(tls_parse_client_hello(http, sizeof(http) - 1, &h), -ENOMSG);
	assert_int_equal(tls_parse_client_hello(appdata, sizeof(appdata), &h), -ENOMSG);
	assert_int_equal(tls_parse_client_hello(sslv2, sizeof(sslv2), &h), -ENOMSG);
	assert_int_equal(tls_parse_client_hello(badver, sizeof(badver), &h), -ENOMSG);
	assert_int_equal(tls_parse_client_hello(server_hello, sizeof(server_hello), &h), -ENOMSG);
	assert_int_equal(tls_parse_client_hello(NULL, 0, &h), -ENOMSG);
	assert_int_equal(tls_parse_client_hello_handshake(server_hello + 5, 4, &h), -ENOMSG);
	/* valid prefix of a hello record: more needed */
	assert_int_equal(tls_parse_client_hello(server_hello, 3, &h), -EAGAIN);
}

static void test_tls_output_untouched_on_error(void **state)
{
	static struct wbuf w;
	struct tls_client_hello h, before;
	struct hello_opts o = chrome_like("x.example");
	gen_hello(&o, &w);
	memset(&h, 0x5a, sizeof(h));
	before = h;
	w.p[w.fields[w.n_fields - 2].pos + 1] ^= 0x01; /* extensions length */
	assert_int_not_equal(tls_parse_client_hello_handshake(w.p, w.n, &h), 0);
	assert_memory_equal(&h, &before, sizeof(h));
}

static void test_tls_ja3_truncated_keeps_digest(void **state)
{
	static uint16_t many[400];
	static struct wbuf w;
	struct tls_client_hello h;
	for (size_t i = 0; i < 400; i++)
		many[i] = (uint16_t)(0xc000 + i);
	struct hello_opts o = chrome_like("ja3.example");
	o.ciphers = many;
	o.n_ciphers = 400;
	gen_hello(&o, &w);
	assert_int_equal(tls_parse_client_hello_handshake(w.p, w.n, &h), 0);
	assert_true(h.ja3_truncated);
	assert_true(strlen(h.ja3) < TLS_JA3_MAX);
	assert_int_equal(strlen(h.ja3_md5), 32);
	/* cut between whole numbers */
	char last = h.ja3[strlen(h.ja3) - 1];
	assert_true(last >= '0' && last <= '9');
}

/* ---- ServerHello ----------------------------------------------------------------------- */

static size_t gen_server_hello(uint8_t *out, uint16_t suite, int sv, const char *alpn, bool hrr)
{
	static const uint8_t hrr_random[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
					       0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
					       0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
					       0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
	static struct wbuf w;
	size_t hs, e, x, y, l;
	memset(&w, 0, sizeof(w));
	put8(&w, 2);
	hs = open_len(&w, 3);
	put16(&w, 0x0303);
	if (hrr)
		putmem(&w, hrr_random, 32);
	else
		for (int i = 0; i < 32; i++)
			put8(&w, i);
	put8(&w, 0);
	put16(&w, suite);
	put8(&w, 0);
	e = open_len(&w, 2);
	if (sv) {
		ext_begin(&w, 43, &x);
		put16(&w, (unsigned)sv);
		close_len(&w, x, 2);
	}
	if (alpn) {
		ext_begin(&w, 16, &x);
		y = open_len(&w, 2);
		l = open_len(&w, 1);
		putmem(&w, alpn, strlen(alpn));
		close_len(&w, l, 1);
		close_len(&w, y, 2);
		close_len(&w, x, 2);
	}
	close_len(&w, e, 2);
	close_len(&w, hs, 3);
	size_t n = wrap(w.p, w.n, 16384, out, 1024);
	/* TLS 1.2 servers continue with Certificate in the same flight */
	static const uint8_t cert[] = {22, 3, 3, 0, 4, 11, 0, 0, 0};
	memcpy(out + n, cert, sizeof(cert));
	return n + sizeof(cert);
}

static void test_tls_server_hello_tls13(void **state)
{
	uint8_t buf[1024];
	struct tls_server_hello s;
	size_t n = gen_server_hello(buf, 0x1301, 0x0304, NULL, false);
	assert_int_equal(tls_parse_server_hello(buf, n, &s), 0);
	assert_int_equal(s.legacy_version, 0x0303);
	assert_int_equal(s.version, 0x0304);
	assert_string_equal(s.version_name, "tls1.3");
	assert_int_equal(s.cipher_suite, 0x1301);
	assert_string_equal(s.cipher_name, "TLS_AES_128_GCM_SHA256");
	assert_false(s.hello_retry);
	n = gen_server_hello(buf, 0x1302, 0x0304, NULL, true);
	assert_int_equal(tls_parse_server_hello(buf, n, &s), 0);
	assert_true(s.hello_retry);
	assert_string_equal(s.cipher_name, "TLS_AES_256_GCM_SHA384");
}

static void test_tls_server_hello_tls12(void **state)
{
	uint8_t buf[1024];
	struct tls_server_hello s;
	size_t n = gen_server_hello(buf, 0xc02f, 0, "h2", false);
	assert_int_equal(tls_parse_server_hello(buf, n, &s), 0);
	assert_int_equal(s.version, 0x0303);
	assert_string_equal(s.version_name, "tls1.2");
	assert_string_equal(s.cipher_name, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	assert_string_equal(s.alpn, "h2");
	n = gen_server_hello(buf, 0x00ff, 0, NULL, false);
	assert_int_equal(tls_parse_server_hello(buf, n, &s), 0);
	assert_string_equal(s.cipher_name, "0x00ff");
	assert_null(tls_cipher_suite_name(0x00ff));
}

static void test_tls_server_hello_errors(void **state)
{
	uint8_t buf[1024];
	struct tls_server_hello s;
	size_t n = gen_server_hello(buf, 0x1301, 0x0304, NULL, false);
	for (size_t k = 1; k < n - 9; k++)
		assert_int_equal(tls_parse_server_hello(buf, k, &s), -EAGAIN);
	/* a ClientHello is not a ServerHello */
	buf[5] = 1;
	assert_int_equal(tls_parse_server_hello(buf, n, &s), -ENOMSG);
	buf[5] = 2;
	/* supported_versions claiming one byte more than the extensions block holds */
	n = gen_server_hello(buf, 0x1301, 0x0304, NULL, false);
	size_t ext = 5 + 4 + 2 + 32 + 1 + 2 + 1 + 2;
	assert_int_equal(buf[ext + 1], 43);
	buf[ext + 3] = 3;
	assert_int_equal(tls_parse_server_hello(buf, n, &s), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tls_chrome_like_hello),
	    cmocka_unit_test(test_tls_ja3_published_example),
	    cmocka_unit_test(test_tls_no_extensions),
	    cmocka_unit_test(test_tls_alpn_keeps_first_few),
	    cmocka_unit_test(test_tls_sni_limits),
	    cmocka_unit_test(test_tls_versions),
	    cmocka_unit_test(test_tls_fragmented_records),
	    cmocka_unit_test(test_tls_trailing_records_ignored),
	    cmocka_unit_test(test_tls_every_truncation),
	    cmocka_unit_test(test_tls_lying_lengths),
	    cmocka_unit_test(test_tls_record_layer_lies),
	    cmocka_unit_test(test_tls_not_a_client_hello),
	    cmocka_unit_test(test_tls_output_untouched_on_error),
	    cmocka_unit_test(test_tls_ja3_truncated_keeps_digest),
	    cmocka_unit_test(test_tls_server_hello_tls13),
	    cmocka_unit_test(test_tls_server_hello_tls12),
	    cmocka_unit_test(test_tls_server_hello_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for services/classifier/quic: the RFC 9001 appendix A.2 client Initial, packets built
 * here with an independent encrypt helper (v1, draft-29, split and reordered CRYPTO frames),
 * tampering, wrong versions and every truncation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "quic.h"

/* RFC 9001 appendix A.2: the complete 1200-byte protected client Initial (DCID 8394c8f03e515708,
 * packet number 2), reproduced from the RFC text. */
static const char rfc9001_a2_packet[] =
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
    "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
    "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
    "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
    "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
    "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
    "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
    "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
    "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
    "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
    "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
    "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
    "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
    "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
    "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
    "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
    "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
    "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
    "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
    "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
    "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
    "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
    "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
    "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934";

/* RFC 9001 appendix A.2: the unprotected CRYPTO frame (a ClientHello for example.com); the
 * payload is this followed by 917 zero bytes of PADDING. */
static const char rfc9001_a2_crypto[] =
    "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806048000ffff";

static const uint8_t v1_salt[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
				    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
static const uint8_t d29_salt[20] = {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
				     0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99};

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s) / 2;
	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

/* ---- encrypt helper: HKDF written out with HMAC so it does not share code with quic.c ---- */

static void hkdf_expand_label(const uint8_t *secret, const char *label, uint8_t *out, size_t len)
{
	uint8_t info[64], t[32];
	unsigned tlen = 0;
	size_t l = strlen(label), k = 0;
	info[k++] = 0;
	info[k++] = (uint8_t)len;
	info[k++] = (uint8_t)(6 + l);
	memcpy(info + k, "tls13 ", 6);
	k += 6;
	memcpy(info + k, label, l);
	k += l;
	info[k++] = 0;
	info[k++] = 1; /* T(1) = HMAC(PRK, info | 0x01); every output here fits one block */
	assert_non_null(HMAC(EVP_sha256(), secret, 32, info, k, t, &tlen));
	memcpy(out, t, len);
}

struct test_keys {
	uint8_t key[16], iv[12], hp[16];
};

static void client_keys(const uint8_t *salt, const uint8_t *dcid, size_t dcid_len,
			struct test_keys *k)
{
	uint8_t initial[32], client[32];
	unsigned len = 0;
	assert_non_null(HMAC(EVP_sha256(), salt, 20, dcid, dcid_len, initial, &len));
	hkdf_expand_label(initial, "client in", client, 32);
	hkdf_expand_label(client, "quic key", k->key, 16);
	hkdf_expand_label(client, "quic iv", k->iv, 12);
	hkdf_expand_label(client, "quic hp", k->hp, 16);
}

struct pkt_opts {
	uint32_t version;
	const uint8_t *dcid;
	size_t dcid_len;
	size_t scid_len;
	size_t token_len;
	uint32_t pn;
	size_t pn_len; /* 1..4 */
	size_t pad_to; /* pad the payload with PADDING so the packet reaches this size */
	const uint8_t *salt;
};

/* Protects header + frames as RFC 9001 section 5 describes; returns the packet length. */
static size_t protect(const struct pkt_opts *o, const uint8_t *frames, size_t flen, uint8_t *out)
{
	static uint8_t plain[8192];
	struct test_keys k;
	size_t n = 0;
	client_keys(o->salt, o->dcid, o->dcid_len, &k);
	memcpy(plain, frames, flen);
	size_t tvl = o->token_len < 64 ? 1 : 2; /* varint size of the token length */
	size_t hdr = 1 + 4 + 1 + o->dcid_len + 1 + o->scid_len + tvl + o->token_len + 2 + o->pn_len;
	if (o->pad_to > hdr + flen + 16) {
		memset(plain + flen, 0, o->pad_to - hdr - flen - 16);
		flen = o->pad_to - hdr - 16;
	}
	out[n++] = (uint8_t)(0xc0 | (o->pn_len - 1));
	for (int i = 3; i >= 0; i--)
		out[n++] = (uint8_t)(o->version >> (8 * i));
	out[n++] = (uint8_t)o->dcid_len;
	memcpy(out + n, o->dcid, o->dcid_len);
	n += o->dcid_len;
	out[n++] = (uint8_t)o->scid_len;
	for (size_t i = 0; i < o->scid_len; i++)
		out[n++] = (uint8_t)(0xa0 + i);
	if (tvl == 2)
		out[n++] = (uint8_t)(0x40 | o->token_len >> 8);
	out[n++] = (uint8_t)o->token_len;
	for (size_t i = 0; i < o->token_len; i++)
		out[n++] = (uint8_t)(0x70 ^ i);
	size_t length = o->pn_len + flen + 16;
	out[n++] = (uint8_t)(0x40 | length >> 8); /* 2-byte varint */
	out[n++] = (uint8_t)length;
	size_t pn_off = n;
	for (size_t i = 0; i < o->pn_len; i++)
		out[n++] = (uint8_t)(o->pn >> (8 * (o->pn_len - 1 - i)));

	uint8_t nonce[12];
	memcpy(nonce, k.iv, 12);
	for (int i = 0; i < 4; i++)
		nonce[11 - i] ^= (uint8_t)(o->pn >> (8 * i));
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl;
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, k.key, nonce), 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &outl, out, (int)n), 1);
	assert_int_equal(EVP_EncryptUpdate(c, out + n, &outl, plain, (int)flen), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, out + n + outl, &outl), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + n + flen), 1);
	n += flen + 16;

	uint8_t mask[16];
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, k.hp, NULL), 1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	assert_int_equal(EVP_EncryptUpdate(c, mask, &outl, out + pn_off + 4, 16), 1);
	EVP_CIPHER_CTX_free(c);
	out[0] ^= mask[0] & 0x0f;
	for (size_t i = 0; i < o->pn_len; i++)
		out[pn_off + i] ^= mask[1 + i];
	return n;
}

static const uint8_t test_dcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};

static struct pkt_opts v1_opts(void)
{
	return (struct pkt_opts){
	    .version = QUIC_VERSION_1,
	    .dcid = test_dcid,
	    .dcid_len = 8,
	    .scid_len = 4,
	    .pn = 0,
	    .pn_len = 1,
	    .pad_to = 1200,
	    .salt = v1_salt,
	};
}

/* A bare ClientHello handshake message with SNI, ALPN h3 and TLS 1.3. */
static size_t build_hello(uint8_t *out, const char *sni)
{
	size_t sl = strlen(sni), n = 0;
	uint8_t *b = out + 4;
	b[n++] = 3;
	b[n++] = 3;
	memset(b + n, 0x42, 32);
	n += 32;
	b[n++] = 0;
	const uint8_t suites[] = {0, 6, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 1, 0};
	memcpy(b + n, suites, sizeof(suites));
	n += sizeof(suites);
	size_t ext = (4 + 5 + sl) + (4 + 5) + (4 + 3) + (4 + 4);
	b[n++] = (uint8_t)(ext >> 8);
	b[n++] = (uint8_t)ext;
	const uint8_t sni_hdr[] = {0, 0, 0,	     (uint8_t)(sl + 5), 0, (uint8_t)(sl + 3),
				   0, 0, (uint8_t)sl};
	memcpy(b + n, sni_hdr, sizeof(sni_hdr));
	n += sizeof(sni_hdr);
	memcpy(b + n, sni, sl);
	n += sl;
	const uint8_t rest[] = {0, 16, 0, 5, 0, 3, 2, 'h', '3', /* ALPN */
				0, 43, 0, 3, 2, 3, 4,		/* supported_versions */
				0, 10, 0, 4, 0, 2, 0, 29};	/* supported_groups */
	memcpy(b + n, rest, sizeof(rest));
	n += sizeof(rest);
	out[0] = 1;
	out[1] = 0;
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	return n + 4;
}

/* a CRYPTO frame with 2-byte varint offset and length */
static size_t crypto_frame(uint8_t *out, size_t off, const uint8_t *d, size_t len)
{
	out[0] = 0x06;
	out[1] = (uint8_t)(0x40 | off >> 8);
	out[2] = (uint8_t)off;
	out[3] = (uint8_t)(0x40 | len >> 8);
	out[4] = (uint8_t)len;
	memcpy(out + 5, d, len);
	return 5 + len;
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_quic_rfc9001_client_initial(void **state)
{
	static uint8_t pkt[1200];
	struct quic_initial q;
	assert_int_equal(unhex(rfc9001_a2_packet, pkt, sizeof(pkt)), 1200);
	assert_int_equal(quic_parse_initial(pkt, 1200, &q), 0);
	assert_int_equal(q.version, QUIC_VERSION_1);
	assert_int_equal(q.dcid_len, 8);
	assert_memory_equal(q.dcid, test_dcid, 8);
	assert_int_equal(q.scid_len, 0);
	assert_int_equal(q.packet_number, 2);
	assert_true(q.has_client_hello);
	assert_string_equal(q.hello.sni, "example.com");
	assert_string_equal(q.hello.alpn, "alpn");
	assert_string_equal(q.hello.version_name, "tls1.3");
	assert_string_equal(q.hello.ja3,
			    "771,4865-4866,0-65281-10-16-5-51-43-13-45-28-57,29-23-24,");
	/* printf '771,4865-4866,0-65281-10-16-5-51-43-13-45-28-57,29-23-24,' | md5sum */
	assert_string_equal(q.hello.ja3_md5, "41bc9ae914d6cb3bd0bd0a5453ab7d7f");
}

/* The helper must reproduce the RFC's protected bytes from its plaintext: checks the helper
 * (and the transcription of the vector) independently of the parser. */
static void test_quic_encrypt_helper_matches_rfc(void **state)
{
	static uint8_t want[1200], frames[1200], got[1300];
	unhex(rfc9001_a2_packet, want, sizeof(want));
	size_t flen = unhex(rfc9001_a2_crypto, frames, sizeof(frames));
	struct pkt_opts o = v1_opts();
	o.scid_len = 0;
	o.pn = 2;
	o.pn_len = 4;
	o.pad_to = 1200;
	assert_int_equal(protect(&o, frames, flen, got), 1200);
	assert_memory_equal(got, want, 1200);
}

static void test_quic_self_built_v1(void **state)
{
	static uint8_t hello[600], frames[1200], pkt[1300];
	struct quic_initial q;
	size_t hl = build_hello(hello, "Quic.Example.ORG");
	size_t fl = crypto_frame(frames, 0, hello, hl);
	struct pkt_opts o = v1_opts();
	size_t n = protect(&o, frames, fl, pkt);
	assert_int_equal(n, 1200);
	assert_int_equal(quic_parse_initial(pkt, n, &q), 0);
	assert_int_equal(q.version, QUIC_VERSION_1);
	assert_int_equal(q.scid_len, 4);
	assert_string_equal(q.hello.sni, "quic.example.org");
	assert_string_equal(q.hello.alpn, "h3");
	assert_string_equal(q.hello.version_name, "tls1.3");
	assert_string_equal(q.hello.ja3, "771,4865-4866-4867,0-16-43-10,29,");

	/* 4-byte packet number, a retry token, no padding, 20-byte DCID */
	static const uint8_t long_dcid[20] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
					      11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
	o.dcid = long_dcid;
	o.dcid_len = 20;
	o.pn = 0x01020304;
	o.pn_len = 4;
	o.token_len = 40;
	o.pad_to = 0;
	n = protect(&o, frames, fl, pkt);
	assert_int_equal(quic_parse_initial(pkt, n, &q), 0);
	assert_int_equal(q.packet_number, 0x01020304);
	assert_int_equal(q.dcid_len, 20);
	assert_string_equal(q.hello.sni, "quic.example.org");
}

static void test_quic_self_built_draft29(void **state)
{
	static uint8_t hello[600], frames[1200], pkt[1300];
	struct quic_initial q;
	size_t hl = build_hello(hello, "draft29.example");
	size_t fl = crypto_frame(frames, 0, hello, hl);
	struct pkt_opts o = v1_opts();
	o.version = QUIC_VERSION_DRAFT29;
	o.salt = d29_salt;
	o.pn_len = 2;
	o.pn = 7;
	size_t n = protect(&o, frames, fl, pkt);
	assert_int_equal(quic_parse_initial(pkt, n, &q), 0);
	assert_int_equal(q.version, QUIC_VERSION_DRAFT29);
	assert_int_equal(q.packet_number, 7);
	assert_string_equal(q.hello.sni, "draft29.example");

	/* the same packet protected with the v1 salt does not authenticate as draft-29 */
	o.salt = v1_salt;
	n = protect(&o, frames, fl, pkt);
	assert_int_equal(quic_parse_initial(pkt, n, &q), -EINVAL);
}

/* Chrome-style: the ClientHello in several CRYPTO frames, out of order, with PING, PADDING and
 * an ACK between them. */
static void test_quic_reordered_crypto_frames(void **state)
{
	static uint8_t hello[600], frames[1200], pkt[1300];
	struct quic_initial q;
	size_t hl = build_hello(hello, "chrome.example");
	size_t fl = 0, a = 20, b = 45;
	static const uint8_t ack[] = {0x02, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00};
	frames[fl++] = 0x01;
	fl += crypto_frame(frames + fl, b, hello + b, hl - b);
	frames[fl++] = 0x00;
	frames[fl++] = 0x00;
	memcpy(frames + fl, ack, sizeof(ack));
	fl += sizeof(ack);
	fl += crypto_frame(frames + fl, a, hello + a, b - a);
	frames[fl++] = 0x01;
	fl += crypto_frame(frames + fl, 0, hello, a + 5); /* overlaps the next piece */
	struct pkt_opts o = v1_opts();
	size_t n = protect(&o, frames, fl, pkt);
	assert_int_equal(quic_parse_initial(pkt, n, &q), 0);
	assert_string_equal(q.hello.sni, "chrome.example");
}

static void test_quic_split_hello_needs_more(void **state)
{
	static uint8_t hello[600], frames[1200], pkt[1300];
	struct quic_initial q;
	size_t hl = build_hello(hello, "split.example");
	struct pkt_opts o = v1_opts();
	/* second Initial of a split hello: CRYPTO only beyond offset 0 */
	size_t fl = crypto_frame(frames, 30, hello + 30, hl - 30);
	size_t n = protect(&o, frames, fl, pkt);
	assert_int_equal(quic_parse_initial(pkt, n, &q), -EAGAIN);
	/* first Initial: the start of the hello only */
	fl = crypto_frame(frames, 0, hello, 30);
	n = protect(&o, frames, fl, pkt);
	assert_int_equal(quic_parse_initial(pkt, n, &q), -EAGAIN);
}

static void test_quic_ack_only_initial(void **state)
{
	static uint8_t frames[64], pkt[1300];
	struct quic_initial q;
	static const uint8_t ack_ecn[] = {0x03, 0x01, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03};
	memcpy(frames, ack_ecn, sizeof(ack_ecn));
	struct pkt_opts o = v1_opts();
	size_t n = protect(&o, frames, sizeof(ack_ecn), pkt);
	assert_int_equal(quic_parse_initial(pkt, n, &q), 0);
	assert_false(q.has_client_hello);
	assert_string_equal(q.hello.sni, "");
}

static void test_quic_forbidden_frame(void **state)
{
	static uint8_t frames[64], pkt[1300];
	struct quic_initial q;
	static const uint8_t stream[] = {0x08, 0x00, 'h', 'i'};
	memcpy(frames, stream, sizeof(stream));
	struct pkt_opts o = v1_opts();
	size_t n = protect(&o, frames, sizeof(stream), pkt);
	assert_int_equal(quic_parse_initial(pkt, n, &q), -EINVAL);
	/* CRYPTO frame longer than the (unpadded) payload */
	static const uint8_t lying[] = {0x06, 0x00, 0x44, 0x00, 1, 2, 3};
	o.pad_to = 0;
	n = protect(&o, lying, sizeof(lying), pkt);
	assert_int_equal(quic_parse_initial(pkt, n, &q), -EINVAL);
	/* CRYPTO offset 0 that is not a ClientHello */
	static const uint8_t not_hello[] = {0x06, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00};
	n = protect(&o, not_hello, sizeof(not_hello), pkt);
	assert_int_equal(quic_parse_initial(pkt, n, &q), -EINVAL);
}

static void test_quic_tampered(void **state)
{
	static uint8_t pkt[1200];
	struct quic_initial q;
	unhex(rfc9001_a2_packet, pkt, sizeof(pkt));
	static const size_t spots[] = {1199, 1190, 600, 30, 22, 6, 0};
	for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
		pkt[spots[i]] ^= 0x04;
		int rc = quic_parse_initial(pkt, sizeof(pkt), &q);
		if (rc != -EINVAL)
			fail_msg("flip at %zu: rc %d", spots[i], rc);
		pkt[spots[i]] ^= 0x04;
	}
	assert_int_equal(quic_parse_initial(pkt, sizeof(pkt), &q), 0);
}

static void test_quic_not_initial(void **state)
{
	static uint8_t pkt[1200];
	struct quic_initial q;
	unhex(rfc9001_a2_packet, pkt, sizeof(pkt));
	/* QUIC v2, an unknown version, version negotiation */
	static const uint32_t versions[] = {0x6b3343cf, 0x00000002, 0xff00001c, 0};
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		uint8_t v[4] = {(uint8_t)(versions[i] >> 24), (uint8_t)(versions[i] >> 16),
				(uint8_t)(versions[i] >> 8), (uint8_t)versions[i]};
		memcpy(pkt + 1, v, 4);
		assert_int_equal(quic_parse_initial(pkt, sizeof(pkt), &q), -ENOMSG);
	}
	unhex(rfc9001_a2_packet, pkt, sizeof(pkt));
	pkt[0] = 0xe0; /* Handshake packet */
	assert_int_equal(quic_parse_initial(pkt, sizeof(pkt), &q), -ENOMSG);
	pkt[0] = 0x40; /* short header */
	assert_int_equal(quic_parse_initial(pkt, sizeof(pkt), &q), -ENOMSG);
	pkt[0] = 0x80; /* fixed bit clear */
	assert_int_equal(quic_parse_initial(pkt, sizeof(pkt), &q), -ENOMSG);
	static const uint8_t dns[] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01};
	assert_int_equal(quic_parse_initial(dns, sizeof(dns), &q), -ENOMSG);
	assert_int_equal(quic_parse_initial(NULL, 0, &q), -ENOMSG);
}

static void test_quic_bad_lengths(void **state)
{
	static uint8_t pkt[1200];
	struct quic_initial q;
	unhex(rfc9001_a2_packet, pkt, sizeof(pkt));
	pkt[5] = 21; /* DCID longer than 20 */
	assert_int_equal(quic_parse_initial(pkt, sizeof(pkt), &q), -EINVAL);
	unhex(rfc9001_a2_packet, pkt, sizeof(pkt));
	pkt[14] = 0x21; /* SCID length runs over */
	assert_int_equal(quic_parse_initial(pkt, sizeof(pkt), &q), -EINVAL);
	unhex(rfc9001_a2_packet, pkt, sizeof(pkt));
	pkt[16] = 0x44; /* Length 0x449e -> 0x4c9e, beyond the datagram */
	pkt[16] = 0x4c;
	assert_int_equal(quic_parse_initial(pkt, sizeof(pkt), &q), -EINVAL);
	pkt[16] = 0x40; /* Length 0x009e: shorter, authentication fails */
	assert_int_equal(quic_parse_initial(pkt, sizeof(pkt), &q), -EINVAL);
	pkt[16] = 0x40;
	pkt[17] = 0x10; /* Length 16: no room for the sample */
	assert_int_equal(quic_parse_initial(pkt, sizeof(pkt), &q), -EINVAL);
	/* coalesced bytes after the Initial are ignored */
	static uint8_t big[1300];
	unhex(rfc9001_a2_packet, big, sizeof(big));
	memset(big + 1200, 0x5a, 100);
	assert_int_equal(quic_parse_initial(big, sizeof(big), &q), 0);
}

static void test_quic_every_truncation(void **state)
{
	static uint8_t pkt[1200];
	struct quic_initial q;
	unhex(rfc9001_a2_packet, pkt, sizeof(pkt));
	for (size_t k = 0; k < sizeof(pkt); k++) {
		uint8_t *cut = malloc(k ? k : 1);
		memcpy(cut, pkt, k);
		int rc = quic_parse_initial(cut, k, &q);
		free(cut);
		if (rc != (k < 6 ? -ENOMSG : -EINVAL))
			fail_msg("prefix %zu: rc %d", k, rc);
	}
}

static void test_quic_output_untouched_on_error(void **state)
{
	static uint8_t pkt[1200];
	struct quic_initial q, before;
	unhex(rfc9001_a2_packet, pkt, sizeof(pkt));
	pkt[700] ^= 1;
	memset(&q, 0x77, sizeof(q));
	before = q;
	assert_int_equal(quic_parse_initial(pkt, sizeof(pkt), &q), -EINVAL);
	assert_memory_equal(&q, &before, sizeof(q));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quic_rfc9001_client_initial),
	    cmocka_unit_test(test_quic_encrypt_helper_matches_rfc),
	    cmocka_unit_test(test_quic_self_built_v1),
	    cmocka_unit_test(test_quic_self_built_draft29),
	    cmocka_unit_test(test_quic_reordered_crypto_frames),
	    cmocka_unit_test(test_quic_split_hello_needs_more),
	    cmocka_unit_test(test_quic_ack_only_initial),
	    cmocka_unit_test(test_quic_forbidden_frame),
	    cmocka_unit_test(test_quic_tampered),
	    cmocka_unit_test(test_quic_not_initial),
	    cmocka_unit_test(test_quic_bad_lengths),
	    cmocka_unit_test(test_quic_every_truncation),
	    cmocka_unit_test(test_quic_output_untouched_on_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

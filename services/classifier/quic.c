/* QUIC Initial packet unprotection (RFC 9001 section 5) and CRYPTO frame reassembly for the
 * classifier's builtin engine; the ClientHello itself is parsed by tls.c. */
#include "quic.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <string.h>

#define QUIC_SALT_LEN	20
#define QUIC_SECRET_LEN 32 /* SHA-256 */
#define QUIC_KEY_LEN	16
#define QUIC_IV_LEN	12
#define QUIC_HP_LEN	16
#define QUIC_TAG_LEN	16
#define QUIC_SAMPLE_LEN 16
#define QUIC_PN_MAX_LEN 4

enum quic_frame {
	QUIC_FRAME_PADDING = 0x00,
	QUIC_FRAME_PING = 0x01,
	QUIC_FRAME_ACK = 0x02,
	QUIC_FRAME_ACK_ECN = 0x03,
	QUIC_FRAME_CRYPTO = 0x06,
	QUIC_FRAME_CONNECTION_CLOSE = 0x1c,
};

static const struct {
	uint32_t version;
	uint8_t salt[QUIC_SALT_LEN];
} quic_versions[] = {
    {QUIC_VERSION_1, {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
		      0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}},
    {QUIC_VERSION_DRAFT29, {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
			    0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99}},
};

struct keys {
	uint8_t key[QUIC_KEY_LEN];
	uint8_t iv[QUIC_IV_LEN];
	uint8_t hp[QUIC_HP_LEN];
};

/* RFC 9000 section 16 variable-length integer at p[*off], bounded by n */
static bool varint(const uint8_t *p, size_t n, size_t *off, uint64_t *v)
{
	if (*off >= n)
		return false;
	size_t len = (size_t)1 << (p[*off] >> 6);
	if (n - *off < len)
		return false;
	uint64_t x = p[*off] & 0x3f;
	for (size_t i = 1; i < len; i++)
		x = x << 8 | p[*off + i];
	*off += len;
	*v = x;
	return true;
}

static int hkdf(EVP_KDF_CTX *kctx, int mode, const uint8_t *salt, const uint8_t *key, size_t keylen,
		const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
{
	OSSL_PARAM params[6], *pp = params;
	*pp++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*pp++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*pp++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, keylen);
	if (salt)
		*pp++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
							  QUIC_SALT_LEN);
	if (info)
		*pp++ =
		    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, infolen);
	*pp = OSSL_PARAM_construct_end();
	return EVP_KDF_derive(kctx, out, outlen, params) == 1 ? 0 : -ENOMEM;
}

/* HKDF-Expand-Label (RFC 8446 section 7.1) with an empty context */
static int expand_label(EVP_KDF_CTX *kctx, const uint8_t *secret, const char *label, uint8_t *out,
			size_t outlen)
{
	uint8_t info[2 + 1 + 6 + 32 + 1];
	size_t llen = strlen(label), k = 0;
	info[k++] = (uint8_t)(outlen >> 8);
	info[k++] = (uint8_t)outlen;
	info[k++] = (uint8_t)(6 + llen);
	memcpy(info + k, "tls13 ", 6);
	k += 6;
	memcpy(info + k, label, llen);
	k += llen;
	info[k++] = 0;
	return hkdf(kctx, EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, secret, QUIC_SECRET_LEN, info, k,
		    out, outlen);
}

static int derive_client_keys(const uint8_t *salt, const uint8_t *dcid, size_t dcid_len,
			      struct keys *k)
{
	uint8_t initial[QUIC_SECRET_LEN], client[QUIC_SECRET_LEN];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	int err = -ENOMEM;
	if (!kctx)
		goto out;
	/* an empty DCID is legal; HKDF wants a non-NULL key pointer */
	err = hkdf(kctx, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, salt, dcid_len ? dcid : salt, dcid_len,
		   NULL, 0, initial, sizeof(initial));
	if (!err)
		err = expand_label(kctx, initial, "client in", client, sizeof(client));
	if (!err)
		err = expand_label(kctx, client, "quic key", k->key, sizeof(k->key));
	if (!err)
		err = expand_label(kctx, client, "quic iv", k->iv, sizeof(k->iv));
	if (!err)
		err = expand_label(kctx, client, "quic hp", k->hp, sizeof(k->hp));
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return err;
}

static int hp_mask(EVP_CIPHER_CTX *c, const uint8_t *hp, const uint8_t *sample, uint8_t *mask)
{
	int outl = 0;
	if (EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, hp, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(c, 0) != 1 ||
	    EVP_EncryptUpdate(c, mask, &outl, sample, QUIC_SAMPLE_LEN) != 1 ||
	    outl != QUIC_SAMPLE_LEN)
		return -ENOMEM;
	return 0;
}

/* AES-128-GCM open; the AAD is the unprotected header, given as three pieces */
static int aead_open(EVP_CIPHER_CTX *c, const struct keys *k, const uint8_t *nonce,
		     const uint8_t *aad[3], const size_t aadlen[3], const uint8_t *ct, size_t ctlen,
		     const uint8_t *tag, uint8_t *out)
{
	int outl = 0;
	if (EVP_CIPHER_CTX_reset(c) != 1 ||
	    EVP_DecryptInit_ex(c, EVP_aes_128_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, QUIC_IV_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(c, NULL, NULL, k->key, nonce) != 1)
		return -ENOMEM;
	for (int i = 0; i < 3; i++) {
		if (aadlen[i] && EVP_DecryptUpdate(c, NULL, &outl, aad[i], (int)aadlen[i]) != 1)
			return -ENOMEM;
	}
	if (ctlen && EVP_DecryptUpdate(c, out, &outl, ct, (int)ctlen) != 1)
		return -ENOMEM;
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, QUIC_TAG_LEN, (void *)tag) != 1)
		return -ENOMEM;
	if (EVP_DecryptFinal_ex(c, out + outl, &outl) != 1)
		return -EINVAL; /* authentication failed */
	return 0;
}

/* CRYPTO stream assembly: bytes below QUIC_CRYPTO_MAX kept, with a bitmap of those present */
struct crypto_buf {
	uint8_t data[QUIC_CRYPTO_MAX];
	uint8_t have[QUIC_CRYPTO_MAX / 8];
	bool any;
};

static void crypto_add(struct crypto_buf *cb, uint64_t off, const uint8_t *d, size_t len)
{
	cb->any = true;
	for (size_t i = 0; i < len && off + i < QUIC_CRYPTO_MAX; i++) {
		size_t at = (size_t)off + i;
		cb->data[at] = d[i];
		cb->have[at / 8] |= (uint8_t)(1u << (at % 8));
	}
}

static size_t crypto_contiguous(const struct crypto_buf *cb)
{
	size_t i = 0;
	while (i < QUIC_CRYPTO_MAX && (cb->have[i / 8] & (1u << (i % 8))))
		i++;
	return i;
}

/* walks the frames of a decrypted Initial payload (RFC 9000 sections 12.4 and 19) */
static int walk_frames(const uint8_t *p, size_t n, struct crypto_buf *cb)
{
	size_t off = 0;
	while (off < n) {
		uint64_t type, a, b, c, count;
		if (!varint(p, n, &off, &type))
			return -EINVAL;
		switch (type) {
		case QUIC_FRAME_PADDING:
		case QUIC_FRAME_PING:
			break;
		case QUIC_FRAME_ACK:
		case QUIC_FRAME_ACK_ECN:
			if (!varint(p, n, &off, &a) || !varint(p, n, &off, &b) ||
			    !varint(p, n, &off, &count) || !varint(p, n, &off, &c))
				return -EINVAL;
			for (uint64_t i = 0; i < count; i++) {
				if (!varint(p, n, &off, &a) || !varint(p, n, &off, &b))
					return -EINVAL;
			}
			if (type == QUIC_FRAME_ACK_ECN &&
			    (!varint(p, n, &off, &a) || !varint(p, n, &off, &b) ||
			     !varint(p, n, &off, &c)))
				return -EINVAL;
			break;
		case QUIC_FRAME_CRYPTO:
			if (!varint(p, n, &off, &a) || !varint(p, n, &off, &b) || b > n - off)
				return -EINVAL;
			/* RFC 9000 section 19.6: the stream end must stay below 2^62 */
			if (a + b >= (uint64_t)1 << 62)
				return -EINVAL;
			crypto_add(cb, a, p + off, (size_t)b);
			off += (size_t)b;
			break;
		case QUIC_FRAME_CONNECTION_CLOSE:
			if (!varint(p, n, &off, &a) || !varint(p, n, &off, &b) ||
			    !varint(p, n, &off, &c) || c > n - off)
				return -EINVAL;
			off += (size_t)c;
			break;
		default:
			return -EINVAL; /* not allowed in an Initial packet */
		}
	}
	return 0;
}

int quic_parse_initial(const uint8_t *p, size_t n, struct quic_initial *ret)
{
	struct quic_initial q = {0};
	const uint8_t *salt = NULL;
	size_t off;
	uint64_t token_len, length;

	if (!p || n < 6 || !(p[0] & 0x80))
		return -ENOMSG;
	q.version = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
	for (size_t i = 0; i < sizeof(quic_versions) / sizeof(quic_versions[0]); i++) {
		if (quic_versions[i].version == q.version)
			salt = quic_versions[i].salt;
	}
	/* fixed bit set and long packet type 0 (Initial) in both versions */
	if (!salt || !(p[0] & 0x40) || (p[0] & 0x30) != 0)
		return -ENOMSG;

	q.dcid_len = p[5];
	off = 6;
	if (q.dcid_len > QUIC_CID_MAX || n - off < q.dcid_len + 1u)
		return -EINVAL;
	memcpy(q.dcid, p + off, q.dcid_len);
	off += q.dcid_len;
	q.scid_len = p[off++];
	if (q.scid_len > QUIC_CID_MAX || n - off < q.scid_len)
		return -EINVAL;
	off += q.scid_len;
	if (!varint(p, n, &off, &token_len) || token_len > n - off)
		return -EINVAL;
	off += (size_t)token_len;
	if (!varint(p, n, &off, &length) || length > n - off)
		return -EINVAL;
	if (length < QUIC_PN_MAX_LEN + QUIC_SAMPLE_LEN ||
	    length > QUIC_PAYLOAD_MAX + QUIC_PN_MAX_LEN + QUIC_TAG_LEN)
		return -EINVAL;
	size_t pn_off = off;

	struct keys k;
	uint8_t mask[QUIC_SAMPLE_LEN], first, pn[QUIC_PN_MAX_LEN], nonce[QUIC_IV_LEN];
	uint8_t plain[QUIC_PAYLOAD_MAX];
	struct crypto_buf cb;
	EVP_CIPHER_CTX *c = NULL;
	int err = derive_client_keys(salt, q.dcid, q.dcid_len, &k);
	if (err)
		goto out;
	c = EVP_CIPHER_CTX_new();
	err = c ? hp_mask(c, k.hp, p + pn_off + QUIC_PN_MAX_LEN, mask) : -ENOMEM;
	if (err)
		goto out;

	/* RFC 9001 section 5.4.1: long headers protect the low 4 bits of byte 0 */
	first = p[0] ^ (mask[0] & 0x0f);
	size_t pn_len = (size_t)(first & 0x03) + 1;
	for (size_t i = 0; i < pn_len; i++) {
		pn[i] = p[pn_off + i] ^ mask[1 + i];
		q.packet_number = q.packet_number << 8 | pn[i];
	}
	memcpy(nonce, k.iv, sizeof(nonce));
	for (size_t i = 0; i < 4; i++)
		nonce[QUIC_IV_LEN - 1 - i] ^= (uint8_t)(q.packet_number >> (8 * i));

	const uint8_t *aad[3] = {&first, p + 1, pn};
	const size_t aadlen[3] = {1, pn_off - 1, pn_len};
	size_t ctlen = (size_t)length - pn_len - QUIC_TAG_LEN;
	err = aead_open(c, &k, nonce, aad, aadlen, p + pn_off + pn_len, ctlen,
			p + pn_off + (size_t)length - QUIC_TAG_LEN, plain);
	if (err)
		goto out;
	/* reserved bits must be zero once protection is removed; an empty payload is invalid */
	if ((first & 0x0c) != 0 || ctlen == 0) {
		err = -EINVAL;
		goto out;
	}

	memset(&cb, 0, sizeof(cb));
	err = walk_frames(plain, ctlen, &cb);
	if (err || !cb.any)
		goto out;
	size_t have = crypto_contiguous(&cb);
	if (have == 0) {
		err = -EAGAIN;
		goto out;
	}
	err = tls_parse_client_hello_handshake(cb.data, have, &q.hello);
	if (err == -ENOMSG)
		err = -EINVAL; /* CRYPTO offset 0 of a client Initial must be a ClientHello */
	if (err)
		goto out;
	q.has_client_hello = true;
out:
	EVP_CIPHER_CTX_free(c);
	if (!err)
		*ret = q;
	return err;
}

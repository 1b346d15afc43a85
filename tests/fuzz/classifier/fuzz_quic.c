/* Fuzz target: QUIC client Initials through quic_parse_initial. Input with the header-form bit
 * set is a raw UDP payload; otherwise byte 0 picks a packet number length and the rest is
 * plaintext frames, protected here with the client Initial keys so the frame walker, CRYPTO
 * reassembly and ClientHello parser are reached past the AEAD. */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "quic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t v1_salt[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
				    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
static const uint8_t dcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};

static void expand_label(const uint8_t *secret, const char *label, uint8_t *out, size_t len)
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
	info[k++] = 1;
	HMAC(EVP_sha256(), secret, 32, info, k, t, &tlen);
	memcpy(out, t, len);
}

/* v1 Initial around the frames; 0 if they do not fit */
static size_t protect(uint8_t pn_len, const uint8_t *frames, size_t flen, uint8_t *out, size_t cap)
{
	uint8_t initial[32], client[32], key[16], iv[16], hp[16], mask[16];
	unsigned len = 0;
	size_t n = 0;
	if (flen < 20 || 1 + 4 + 1 + 8 + 1 + 1 + 2 + 4 + flen + 16 > cap || flen > 4000)
		return 0;
	HMAC(EVP_sha256(), v1_salt, 20, dcid, 8, initial, &len);
	expand_label(initial, "client in", client, 32);
	expand_label(client, "quic key", key, 16);
	expand_label(client, "quic iv", iv, 12);
	expand_label(client, "quic hp", hp, 16);
	out[n++] = (uint8_t)(0xc0 | (pn_len - 1));
	out[n++] = 0;
	out[n++] = 0;
	out[n++] = 0;
	out[n++] = 1;
	out[n++] = 8;
	memcpy(out + n, dcid, 8);
	n += 8;
	out[n++] = 0; /* SCID */
	out[n++] = 0; /* token */
	size_t length = pn_len + flen + 16;
	out[n++] = (uint8_t)(0x40 | length >> 8);
	out[n++] = (uint8_t)length;
	size_t pn_off = n;
	for (size_t i = 0; i < pn_len; i++)
		out[n++] = (uint8_t)i;
	uint32_t pn = 0;
	for (size_t i = 0; i < pn_len; i++)
		pn = pn << 8 | (uint32_t)i;
	for (int i = 0; i < 4; i++)
		iv[11 - i] ^= (uint8_t)(pn >> (8 * i));
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl;
	if (!c || EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, key, iv) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &outl, out, (int)n) != 1 ||
	    EVP_EncryptUpdate(c, out + n, &outl, frames, (int)flen) != 1 ||
	    EVP_EncryptFinal_ex(c, out + n + outl, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + n + flen) != 1 ||
	    EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, hp, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(c, 0) != 1 ||
	    EVP_EncryptUpdate(c, mask, &outl, out + pn_off + 4, 16) != 1) {
		EVP_CIPHER_CTX_free(c);
		return 0;
	}
	EVP_CIPHER_CTX_free(c);
	n += flen + 16;
	out[0] ^= mask[0] & 0x0f;
	for (size_t i = 0; i < pn_len; i++)
		out[pn_off + i] ^= mask[1 + i];
	return n;
}

static void check(const uint8_t *p, size_t n)
{
	struct quic_initial q;
	int rc = quic_parse_initial(p, n, &q);
	if (rc == 0) {
		if (q.dcid_len > QUIC_CID_MAX || q.scid_len > QUIC_CID_MAX)
			__builtin_trap();
		if (q.has_client_hello && (strnlen(q.hello.sni, TLS_SNI_MAX) == TLS_SNI_MAX ||
					   strlen(q.hello.ja3_md5) != 32))
			__builtin_trap();
	} else if (rc != -ENOMSG && rc != -EINVAL && rc != -EAGAIN) {
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[4200];
	if (size == 0)
		return 0;
	if (data[0] & 0x80) {
		check(data, size);
		return 0;
	}
	size_t n = protect((uint8_t)(data[0] % 4 + 1), data + 1, size - 1, pkt, sizeof(pkt));
	if (n)
		check(pkt, n);
	return 0;
}

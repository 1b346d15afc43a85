/* TLS handshake parser (RFC 8446 / 5246 / 6066 / 7301) for the classifier's builtin engine:
 * reassembles a handshake message from the records in one buffer, then extracts SNI, ALPN,
 * versions and JA3 (Salesforce spec) from a ClientHello, or version and suite from a ServerHello.
 */
#include "tls.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define TLS_CT_HANDSHAKE    22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_HS_SERVER_HELLO 2
#define TLS_RECORD_MAX	    16384 /* RFC 8446 section 5.1: 2^14 plaintext bytes */
#define TLS_RANDOM_LEN	    32
#define TLS_SESSION_ID_MAX  32
#define TLS_HOST_NAME_MAX   (TLS_SNI_MAX - 1)

enum tls_ext {
	TLS_EXT_SERVER_NAME = 0,
	TLS_EXT_SUPPORTED_GROUPS = 10,
	TLS_EXT_EC_POINT_FORMATS = 11,
	TLS_EXT_ALPN = 16,
	TLS_EXT_SUPPORTED_VERSIONS = 43,
};

static const struct {
	uint16_t id;
	const char *name;
} cipher_names[] = {
    {0x1301, "TLS_AES_128_GCM_SHA256"},
    {0x1302, "TLS_AES_256_GCM_SHA384"},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
    {0x1304, "TLS_AES_128_CCM_SHA256"},
    {0x1305, "TLS_AES_128_CCM_8_SHA256"},
    {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
    {0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
    {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
    {0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
    {0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
    {0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
    {0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
    {0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
    {0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
    {0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
    {0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"},
    {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"},
    {0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"},
    {0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"},
    {0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
};

/* RFC 8446 section 4.1.3: a ServerHello with this random is a HelloRetryRequest */
static const uint8_t hrr_random[TLS_RANDOM_LEN] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* bounded cursor: every read checks the remaining length first */
struct cur {
	const uint8_t *p;
	size_t n;
};

static bool cur_u8(struct cur *c, uint8_t *v)
{
	if (c->n < 1)
		return false;
	*v = c->p[0];
	c->p++;
	c->n--;
	return true;
}

static bool cur_u16(struct cur *c, uint16_t *v)
{
	if (c->n < 2)
		return false;
	*v = (uint16_t)(c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->n -= 2;
	return true;
}

/* takes len bytes off c into sub */
static bool cur_take(struct cur *c, size_t len, struct cur *sub)
{
	if (c->n < len)
		return false;
	sub->p = c->p;
	sub->n = len;
	c->p += len;
	c->n -= len;
	return true;
}

/* an 8- or 16-bit length prefix followed by exactly that many bytes */
static bool cur_vec8(struct cur *c, struct cur *sub)
{
	uint8_t l;
	return cur_u8(c, &l) && cur_take(c, l, sub);
}

static bool cur_vec16(struct cur *c, struct cur *sub)
{
	uint16_t l;
	return cur_u16(c, &l) && cur_take(c, l, sub);
}

static uint32_t get24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

bool tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

const char *tls_version_name(uint16_t v)
{
	switch (v) {
	case 0x0304:
		return "tls1.3";
	case 0x0303:
		return "tls1.2";
	case 0x0302:
		return "tls1.1";
	case 0x0301:
		return "tls1.0";
	case 0x0300:
		return "ssl3.0";
	default:
		return (v >> 8) == 0x7f ? "tls1.3" : "unknown";
	}
}

const char *tls_cipher_suite_name(uint16_t suite)
{
	for (size_t i = 0; i < sizeof(cipher_names) / sizeof(cipher_names[0]); i++) {
		if (cipher_names[i].id == suite)
			return cipher_names[i].name;
	}
	return NULL;
}

/* orders known versions; a final TLS 1.3 beats its drafts; 0 = unknown or GREASE */
static int version_rank(uint16_t v)
{
	if (v >= 0x0300 && v <= 0x0304)
		return (v - 0x0300 + 1) * 2;
	if ((v >> 8) == 0x7f)
		return 9;
	return 0;
}

/*
 * Record layer: finds the handshake message of type hs_type at the start of the record stream
 * p[0..n). A message inside the first record is returned in place; one spanning records is
 * copied into buf (TLS_HANDSHAKE_MAX bytes).
 */
static int handshake_from_records(const uint8_t *p, size_t n, uint8_t hs_type, uint8_t *buf,
				  const uint8_t **ret_msg, size_t *ret_len)
{
	if (n == 0 || p[0] != TLS_CT_HANDSHAKE)
		return -ENOMSG;
	if (n >= 2 && p[1] != 3)
		return -ENOMSG;
	if (n >= 3 && (p[2] < 1 || p[2] > 4))
		return -ENOMSG;
	if (n >= 6 && p[5] != hs_type)
		return -ENOMSG;
	if (n < 5)
		return -EAGAIN;

	size_t off = 0, have = 0, total = 0;
	for (;;) {
		if (n - off < 5)
			return -EAGAIN;
		if (p[off] != TLS_CT_HANDSHAKE || p[off + 1] != 3 || p[off + 2] != p[2])
			return -EINVAL;
		size_t rlen = (size_t)p[off + 3] << 8 | p[off + 4];
		if (rlen == 0 || rlen > TLS_RECORD_MAX)
			return -EINVAL;
		const uint8_t *body = p + off + 5;
		size_t avail = n - off - 5 < rlen ? n - off - 5 : rlen;

		if (off == 0 && avail >= 4) {
			total = 4 + (size_t)get24(body + 1);
			if (total > TLS_HANDSHAKE_MAX)
				return -EINVAL;
			if (total <= avail) {
				*ret_msg = body;
				*ret_len = total;
				return 0;
			}
		}
		for (size_t i = 0; i < avail;) {
			size_t want = (have < 4 ? 4 : total) - have;
			size_t k = avail - i < want ? avail - i : want;
			memcpy(buf + have, body + i, k);
			have += k;
			i += k;
			if (have == 4 && total == 0) {
				if (buf[0] != hs_type)
					return -ENOMSG;
				total = 4 + (size_t)get24(buf + 1);
				if (total > TLS_HANDSHAKE_MAX)
					return -EINVAL;
			}
			if (have >= 4 && have == total) {
				*ret_msg = buf;
				*ret_len = total;
				return 0;
			}
		}
		if (avail < rlen)
			return -EAGAIN;
		off += 5 + rlen;
	}
}

static void copy_lower(char *dst, size_t dstsz, const uint8_t *s, size_t len)
{
	size_t k = len < dstsz - 1 ? len : dstsz - 1;
	for (size_t i = 0; i < k; i++) {
		uint8_t c = s[i];
		dst[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	dst[k] = '\0';
}

/* server_name (RFC 6066 section 3): first host_name entry, printable ASCII only */
static int parse_sni(struct cur d, char *out)
{
	struct cur list;
	if (d.n == 0)
		return 0;
	if (!cur_vec16(&d, &list) || d.n != 0)
		return -EINVAL;
	while (list.n > 0) {
		uint8_t type;
		struct cur name;
		if (!cur_u8(&list, &type) || !cur_vec16(&list, &name))
			return -EINVAL;
		if (type != 0 || out[0] != '\0')
			continue;
		if (name.n == 0)
			return -EINVAL;
		for (size_t i = 0; i < name.n; i++) {
			if (name.p[i] < 0x21 || name.p[i] > 0x7e)
				return -EINVAL;
		}
		copy_lower(out, TLS_SNI_MAX, name.p, name.n);
	}
	return 0;
}

/* ALPN (RFC 7301): keeps the first TLS_ALPN_KEEP printable protocols that fit, joined by ',' */
static int parse_alpn(struct cur d, char *out)
{
	struct cur list;
	size_t len = 0, kept = 0;
	if (!cur_vec16(&d, &list) || d.n != 0 || list.n == 0)
		return -EINVAL;
	while (list.n > 0) {
		struct cur proto;
		if (!cur_vec8(&list, &proto) || proto.n == 0)
			return -EINVAL;
		if (kept == TLS_ALPN_KEEP)
			continue;
		bool ok = len + (len > 0) + proto.n < TLS_ALPN_MAX;
		for (size_t i = 0; ok && i < proto.n; i++)
			ok = proto.p[i] > 0x20 && proto.p[i] < 0x7f && proto.p[i] != ',';
		if (!ok)
			continue;
		if (len > 0)
			out[len++] = ',';
		memcpy(out + len, proto.p, proto.n);
		len += proto.n;
		out[len] = '\0';
		kept++;
	}
	return 0;
}

/* JA3 text and its MD5, built together so the digest covers the full string even when the
 * stored copy is cut */
struct ja3 {
	char *dst;
	size_t len;
	bool truncated;
	bool ok;
	EVP_MD_CTX *md;
};

static void ja3_put(struct ja3 *j, const char *s, size_t k)
{
	if (!j->truncated) {
		if (j->len + k < TLS_JA3_MAX) {
			memcpy(j->dst + j->len, s, k);
			j->len += k;
			j->dst[j->len] = '\0';
		} else {
			j->truncated = true;
		}
	}
	if (EVP_DigestUpdate(j->md, s, k) != 1)
		j->ok = false;
}

static void ja3_num(struct ja3 *j, const char *sep, uint16_t v)
{
	char tok[16];
	int k = snprintf(tok, sizeof(tok), "%s%u", sep, (unsigned)v);
	ja3_put(j, tok, (size_t)k);
}

/* a list of 8- or 16-bit values without GREASE, '-'-separated */
static void ja3_list(struct ja3 *j, struct cur c, size_t width)
{
	bool first = true;
	while (c.n >= width) {
		uint16_t v = width == 2 ? (uint16_t)(c.p[0] << 8 | c.p[1]) : c.p[0];
		c.p += width;
		c.n -= width;
		if (width == 2 && tls_is_grease(v))
			continue;
		ja3_num(j, first ? "" : "-", v);
		first = false;
	}
}

static int client_hello_body(struct cur b, struct tls_client_hello *h)
{
	uint16_t legacy, sv_best = 0;
	struct cur random, sid, suites, comp, exts = {0}, groups = {0}, formats = {0};
	int sv_rank = 0, err = 0;

	if (!cur_u16(&b, &legacy) || !cur_take(&b, TLS_RANDOM_LEN, &random) ||
	    !cur_vec8(&b, &sid) || !cur_vec16(&b, &suites) || !cur_vec8(&b, &comp))
		return -EINVAL;
	if ((legacy >> 8) != 3 || sid.n > TLS_SESSION_ID_MAX || suites.n == 0 ||
	    suites.n % 2 != 0 || comp.n == 0)
		return -EINVAL;
	if (b.n > 0 && (!cur_vec16(&b, &exts) || b.n != 0))
		return -EINVAL;

	struct ja3 j = {.dst = h->ja3, .ok = true, .md = EVP_MD_CTX_new()};
	if (!j.md || EVP_DigestInit_ex(j.md, EVP_md5(), NULL) != 1) {
		EVP_MD_CTX_free(j.md);
		return -ENOMEM;
	}
	h->legacy_version = legacy;
	h->n_cipher_suites = (uint16_t)(suites.n / 2);
	ja3_num(&j, "", legacy);
	ja3_put(&j, ",", 1);
	ja3_list(&j, suites, 2);
	ja3_put(&j, ",", 1);

	bool first = true;
	while (exts.n > 0) {
		uint16_t type;
		struct cur d;
		if (!cur_u16(&exts, &type) || !cur_vec16(&exts, &d)) {
			err = -EINVAL;
			goto out;
		}
		h->n_extensions++;
		if (!tls_is_grease(type)) {
			ja3_num(&j, first ? "" : "-", type);
			first = false;
		}
		switch (type) {
		case TLS_EXT_SERVER_NAME:
			err = parse_sni(d, h->sni);
			break;
		case TLS_EXT_ALPN:
			if (h->alpn[0] == '\0')
				err = parse_alpn(d, h->alpn);
			break;
		case TLS_EXT_SUPPORTED_GROUPS:
			if (!cur_vec16(&d, &groups) || d.n != 0 || groups.n % 2 != 0)
				err = -EINVAL;
			break;
		case TLS_EXT_EC_POINT_FORMATS:
			if (!cur_vec8(&d, &formats) || d.n != 0)
				err = -EINVAL;
			break;
		case TLS_EXT_SUPPORTED_VERSIONS: {
			struct cur list;
			uint16_t v;
			if (!cur_vec8(&d, &list) || d.n != 0 || list.n == 0 || list.n % 2 != 0) {
				err = -EINVAL;
				break;
			}
			while (cur_u16(&list, &v)) {
				if (version_rank(v) > sv_rank) {
					sv_rank = version_rank(v);
					sv_best = v;
				}
			}
			break;
		}
		default:
			break;
		}
		if (err)
			goto out;
	}
	ja3_put(&j, ",", 1);
	ja3_list(&j, groups, 2);
	ja3_put(&j, ",", 1);
	ja3_list(&j, formats, 1);

	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!j.ok || EVP_DigestFinal_ex(j.md, md, &mdlen) != 1 || mdlen != 16) {
		err = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(h->ja3_md5 + 2 * i, 3, "%02x", md[i]);
	h->ja3_truncated = j.truncated;
	h->version = sv_rank > 0 ? sv_best : legacy;
	snprintf(h->version_name, sizeof(h->version_name), "%s", tls_version_name(h->version));
out:
	EVP_MD_CTX_free(j.md);
	return err;
}

int tls_parse_client_hello_handshake(const uint8_t *p, size_t n, struct tls_client_hello *ret)
{
	struct tls_client_hello h = {0};
	if (!p || n == 0 || p[0] != TLS_HS_CLIENT_HELLO)
		return -ENOMSG;
	if (n < 4)
		return -EAGAIN;
	size_t len = get24(p + 1);
	if (len > n - 4)
		return -EAGAIN;
	int err = client_hello_body((struct cur){p + 4, len}, &h);
	if (err)
		return err;
	*ret = h;
	return 0;
}

int tls_parse_client_hello(const uint8_t *p, size_t n, struct tls_client_hello *ret)
{
	uint8_t buf[TLS_HANDSHAKE_MAX];
	const uint8_t *msg;
	size_t len;
	if (!p)
		return -ENOMSG;
	int err = handshake_from_records(p, n, TLS_HS_CLIENT_HELLO, buf, &msg, &len);
	if (err)
		return err;
	return tls_parse_client_hello_handshake(msg, len, ret);
}

static int server_hello_body(struct cur b, struct tls_server_hello *h)
{
	uint8_t comp;
	struct cur random, sid, exts = {0};
	if (!cur_u16(&b, &h->legacy_version) || !cur_take(&b, TLS_RANDOM_LEN, &random) ||
	    !cur_vec8(&b, &sid) || !cur_u16(&b, &h->cipher_suite) || !cur_u8(&b, &comp))
		return -EINVAL;
	if ((h->legacy_version >> 8) != 3 || sid.n > TLS_SESSION_ID_MAX)
		return -EINVAL;
	if (b.n > 0 && (!cur_vec16(&b, &exts) || b.n != 0))
		return -EINVAL;
	h->hello_retry = memcmp(random.p, hrr_random, TLS_RANDOM_LEN) == 0;
	h->version = h->legacy_version;
	while (exts.n > 0) {
		uint16_t type;
		struct cur d;
		if (!cur_u16(&exts, &type) || !cur_vec16(&exts, &d))
			return -EINVAL;
		if (type == TLS_EXT_SUPPORTED_VERSIONS) {
			if (!cur_u16(&d, &h->version) || d.n != 0)
				return -EINVAL;
		} else if (type == TLS_EXT_ALPN && h->alpn[0] == '\0') {
			int err = parse_alpn(d, h->alpn);
			if (err)
				return err;
		}
	}
	snprintf(h->version_name, sizeof(h->version_name), "%s", tls_version_name(h->version));
	const char *name = tls_cipher_suite_name(h->cipher_suite);
	if (name)
		snprintf(h->cipher_name, sizeof(h->cipher_name), "%s", name);
	else
		snprintf(h->cipher_name, sizeof(h->cipher_name), "0x%04x", h->cipher_suite);
	return 0;
}

int tls_parse_server_hello(const uint8_t *p, size_t n, struct tls_server_hello *ret)
{
	uint8_t buf[TLS_HANDSHAKE_MAX];
	struct tls_server_hello h = {0};
	const uint8_t *msg;
	size_t len;
	if (!p)
		return -ENOMSG;
	int err = handshake_from_records(p, n, TLS_HS_SERVER_HELLO, buf, &msg, &len);
	if (err)
		return err;
	err = server_hello_body((struct cur){msg + 4, len - 4}, &h);
	if (err)
		return err;
	*ret = h;
	return 0;
}

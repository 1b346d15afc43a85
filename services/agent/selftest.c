/* Synthetic TLS ClientHello and its packet (see selftest.h). */
#include "selftest.h"

#include <netinet/in.h>
#include <string.h>

#include "synth.h"

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int bad;
};

static void put(struct wbuf *w, const void *d, size_t n)
{
	if (w->bad || w->len + n > w->cap) {
		w->bad = 1;
		return;
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void put8(struct wbuf *w, unsigned v)
{
	uint8_t b = (uint8_t)v;
	put(w, &b, 1);
}

static void put16(struct wbuf *w, unsigned v)
{
	put8(w, v >> 8);
	put8(w, v);
}

static void patch16(struct wbuf *w, size_t at, size_t v)
{
	if (!w->bad) {
		w->p[at] = (uint8_t)(v >> 8);
		w->p[at + 1] = (uint8_t)v;
	}
}

size_t selftest_client_hello(const char *sni, uint8_t *buf, size_t cap)
{
	size_t sl = strlen(sni);
	if (sl > 200)
		return 0;
	struct wbuf w = {buf, 0, cap, 0};
	static const uint8_t random[32] = {0x52, 0x44, 0x50, 0x49, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	static const uint8_t ciphers[] = {0x13, 0x01, 0x13, 0x02, 0xc0, 0x2b, 0xc0, 0x2f,
					  0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9c, 0x00, 0x2f};
	static const uint8_t alpn[] = {0x02, 'h', '2', 0x08, 'h', 't',
				       't',  'p', '/', '1',  '.', '1'};
	put8(&w, 0x16); /* handshake record, TLS 1.0 framing as browsers send */
	put16(&w, 0x0301);
	size_t rec_len = w.len;
	put16(&w, 0);
	put8(&w, 0x01); /* ClientHello */
	size_t hs_len = w.len;
	put8(&w, 0);
	put16(&w, 0);
	put16(&w, 0x0303);
	put(&w, random, sizeof(random));
	put8(&w, 0); /* session id */
	put16(&w, sizeof(ciphers));
	put(&w, ciphers, sizeof(ciphers));
	put8(&w, 1); /* compression: null */
	put8(&w, 0);
	size_t ext_len = w.len;
	put16(&w, 0);
	put16(&w, 0x0000); /* server_name */
	put16(&w, (unsigned)(sl + 5));
	put16(&w, (unsigned)(sl + 3));
	put8(&w, 0);
	put16(&w, (unsigned)sl);
	put(&w, sni, sl);
	put16(&w, 0x000a); /* supported_groups: x25519, secp256r1 */
	put16(&w, 6);
	put16(&w, 4);
	put16(&w, 0x001d);
	put16(&w, 0x0017);
	put16(&w, 0x000b); /* ec_point_formats */
	put16(&w, 2);
	put8(&w, 1);
	put8(&w, 0);
	put16(&w, 0x000d); /* signature_algorithms */
	put16(&w, 6);
	put16(&w, 4);
	put16(&w, 0x0403);
	put16(&w, 0x0804);
	put16(&w, 0x0010); /* ALPN */
	put16(&w, sizeof(alpn) + 2);
	put16(&w, sizeof(alpn));
	put(&w, alpn, sizeof(alpn));
	if (w.bad)
		return 0;
	patch16(&w, ext_len, w.len - ext_len - 2);
	size_t hl = w.len - hs_len - 3;
	w.p[hs_len] = (uint8_t)(hl >> 16);
	patch16(&w, hs_len + 1, hl);
	patch16(&w, rec_len, w.len - rec_len - 2);
	return w.len;
}

size_t selftest_packet(const char *sni, uint8_t *buf, size_t cap)
{
	uint8_t hello[512];
	size_t hl = selftest_client_hello(sni, hello, sizeof(hello));
	if (!hl)
		return 0;
	struct synth_tuple t = {.l3 = 4, .l4proto = IPPROTO_TCP, .sport = 53168, .dport = 443};
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	memcpy(t.src, mapped, 12);
	memcpy(t.dst, mapped, 12);
	memcpy(t.src + 12, (uint8_t[]){192, 0, 2, 10}, 4);
	memcpy(t.dst + 12, (uint8_t[]){198, 51, 100, 10}, 4);
	struct synth_tcp tcp = {.seq = 1, .ack = 1, .flags = 0x18};
	size_t len;
	if (synth_build(&t, &tcp, hello, hl, buf, cap, &len) < 0)
		return 0;
	return len;
}

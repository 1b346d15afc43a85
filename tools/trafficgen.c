/* trafficgen: the demo's and the tests' traffic. Live servers and clients (HTTP, TLS, DNS, QUIC,
 * NTP, MQTT) between addresses given on the command line, or a pcap of the same mix as complete
 * bidirectional flows for routerd-firewall-logger --pcap. Sends only to the addresses given. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/synth.h"

#define PROG "trafficgen"

#define MAX_ADDRS    16
#define MAX_CONNS    64
#define MAX_ROUNDS   100000
#define MAX_FLOWS    1000000
#define MAX_CLIENTS  250
#define IO_TIMEOUT   2000 /* ms, per client exchange */
#define QUIC_MIN_LEN 1200

/* ---- names: real application hostnames the classifier recognises ------------------------ */

static const char *const http_hosts[] = {
    "www.example.com",	       "detectportal.firefox.com", "connectivitycheck.gstatic.com",
    "www.msftconnecttest.com", "captive.apple.com",	   "neverssl.com",
};
static const char *const tls_names[] = {
    "www.youtube.com",	  "api.github.com",   "www.netflix.com",  "s3.amazonaws.com",
    "gateway.icloud.com", "www.facebook.com", "open.spotify.com", "discord.com",
};
static const char *const quic_names[] = {
    "www.google.com",
    "rr1.googlevideo.com",
    "www.youtube.com",
    "i.instagram.com",
};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- small helpers ------------------------------------------------------------------------ */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool overflow;
};

static void put(struct wbuf *w, const void *d, size_t n)
{
	if (w->len + n > w->cap) {
		w->overflow = true;
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

static void put32(struct wbuf *w, uint32_t v)
{
	put16(w, v >> 16);
	put16(w, v & 0xffff);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -EINVAL;
	*ret = v;
	return 0;
}

/* ---- payload builders (shared by the live client and the pcap writer) ------------------ */

static size_t http_request(const char *host, uint8_t *buf, size_t cap)
{
	int n = snprintf((char *)buf, cap,
			 "GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: Mozilla/5.0 (X11; Linux "
			 "x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\nAccept: */*\r\n"
			 "Connection: close\r\n\r\n",
			 host);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static const char http_body[] = "<html><body>routerd-dpi trafficgen</body></html>\n";

static size_t http_response(uint8_t *buf, size_t cap)
{
	int n = snprintf((char *)buf, cap,
			 "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s",
			 strlen(http_body), http_body);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* A ServerHello record (the start of a server's answer; not a usable handshake). */
static size_t tls_server_hello(uint8_t *buf, size_t cap)
{
	struct wbuf w = {buf, 0, cap, false};
	uint8_t rnd[32];
	for (size_t i = 0; i < sizeof(rnd); i++)
		rnd[i] = (uint8_t)(0x5a ^ i);
	put8(&w, 0x16);
	put16(&w, 0x0303);
	put16(&w, 4 + 2 + 32 + 1 + 2 + 1 + 2 + 6);
	put8(&w, 0x02);
	put8(&w, 0);
	put16(&w, 2 + 32 + 1 + 2 + 1 + 2 + 6);
	put16(&w, 0x0303);
	put(&w, rnd, sizeof(rnd));
	put8(&w, 0);	   /* session id */
	put16(&w, 0x1301); /* TLS_AES_128_GCM_SHA256 */
	put8(&w, 0);
	put16(&w, 6); /* extensions: supported_versions = TLS 1.3 */
	put16(&w, 43);
	put16(&w, 2);
	put16(&w, 0x0304);
	return w.overflow ? 0 : w.len;
}

static size_t dns_query(const char *name, uint16_t id, uint16_t qtype, uint8_t *buf, size_t cap)
{
	struct wbuf w = {buf, 0, cap, false};
	put16(&w, id);
	put16(&w, 0x0100); /* RD */
	put16(&w, 1);
	put16(&w, 0);
	put16(&w, 0);
	put16(&w, 0);
	for (const char *p = name; *p;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n == 0 || n > 63)
			return 0;
		put8(&w, (unsigned)n);
		put(&w, p, n);
		p += n + (dot ? 1 : 0);
	}
	put8(&w, 0);
	put16(&w, qtype);
	put16(&w, 1);
	return w.overflow ? 0 : w.len;
}

/* The answer to a one-question query q: the question echoed plus one A or AAAA record with
 * addr (4 or 16 bytes, by qtype); other types get an empty NOERROR answer. */
static size_t dns_answer(const uint8_t *q, size_t qlen, const uint8_t *a4, const uint8_t *a6,
			 uint8_t *buf, size_t cap)
{
	if (qlen < 17 || qlen > cap || (q[2] & 0x80) || q[4] != 0 || q[5] != 1)
		return 0;
	size_t o = 12;
	while (o < qlen && q[o] != 0) {
		if (q[o] > 63)
			return 0;
		o += 1 + q[o];
	}
	if (o + 5 > qlen)
		return 0;
	size_t qend = o + 5;
	uint16_t qtype = (uint16_t)(q[o + 1] << 8 | q[o + 2]);
	struct wbuf w = {buf, 0, cap, false};
	put(&w, q, qend);
	buf[2] = 0x81; /* QR, RD */
	buf[3] = 0x80; /* RA */
	buf[6] = 0;
	buf[7] = 0;
	buf[8] = buf[9] = buf[10] = buf[11] = 0;
	const uint8_t *addr = qtype == 1 ? a4 : qtype == 28 ? a6 : NULL;
	if (addr) {
		buf[7] = 1;
		put16(&w, 0xc00c); /* name: pointer to the question */
		put16(&w, qtype);
		put16(&w, 1);
		put32(&w, 300);
		put16(&w, qtype == 1 ? 4 : 16);
		put(&w, addr, qtype == 1 ? 4 : 16);
	}
	return w.overflow ? 0 : w.len;
}

/* NTPv4 client request (mode 3) with a transmit timestamp. */
static size_t ntp_request(uint8_t *buf, size_t cap, uint32_t secs)
{
	if (cap < 48)
		return 0;
	memset(buf, 0, 48);
	buf[0] = 0x23; /* LI 0, VN 4, mode 3 */
	uint32_t ntp = secs + 2208988800u;
	buf[40] = (uint8_t)(ntp >> 24);
	buf[41] = (uint8_t)(ntp >> 16);
	buf[42] = (uint8_t)(ntp >> 8);
	buf[43] = (uint8_t)ntp;
	return 48;
}

/* Server reply (mode 4, stratum 2) to a request: origin = the request's transmit time. */
static size_t ntp_reply(const uint8_t *req, size_t rlen, uint8_t *buf, size_t cap, uint32_t secs)
{
	if (rlen < 48 || cap < 48 || (req[0] & 7) != 3)
		return 0;
	memset(buf, 0, 48);
	buf[0] = 0x24; /* LI 0, VN 4, mode 4 */
	buf[1] = 2;
	buf[2] = req[2];
	buf[3] = 0xe9;
	memcpy(buf + 12, "GPS\0", 4);
	uint32_t ntp = secs + 2208988800u;
	for (int off = 16; off <= 40; off += 8) {
		if (off == 24)
			continue;
		buf[off] = (uint8_t)(ntp >> 24);
		buf[off + 1] = (uint8_t)(ntp >> 16);
		buf[off + 2] = (uint8_t)(ntp >> 8);
		buf[off + 3] = (uint8_t)ntp;
	}
	memcpy(buf + 24, req + 40, 8);
	return 48;
}

/* MQTT 3.1.1 CONNECT, clean session, keepalive 60. */
static size_t mqtt_connect(const char *client_id, uint8_t *buf, size_t cap)
{
	size_t idl = strlen(client_id);
	size_t rem = 10 + 2 + idl;
	if (rem > 127 || rem + 2 > cap)
		return 0;
	struct wbuf w = {buf, 0, cap, false};
	put8(&w, 0x10);
	put8(&w, (unsigned)rem);
	put16(&w, 4);
	put(&w, "MQTT", 4);
	put8(&w, 4);	/* protocol level 3.1.1 */
	put8(&w, 0x02); /* clean session */
	put16(&w, 60);
	put16(&w, (unsigned)idl);
	put(&w, client_id, idl);
	return w.overflow ? 0 : w.len;
}

static const uint8_t mqtt_connack[4] = {0x20, 0x02, 0x00, 0x00};

/* ---- QUIC v1 client Initial (RFC 9000 17.2.2, protected as RFC 9001 section 5) ---------- */

static const uint8_t quic_v1_salt[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34,
					 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8,
					 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};

/* HKDF-Expand-Label with a single HMAC block (every output here is <= 32 bytes). */
static int hkdf_label(const uint8_t secret[32], const char *label, uint8_t *out, size_t len)
{
	uint8_t info[64], t[32];
	unsigned tlen = 0;
	size_t l = strlen(label), k = 0;
	if (len > 32 || l > 40)
		return -EINVAL;
	info[k++] = 0;
	info[k++] = (uint8_t)len;
	info[k++] = (uint8_t)(6 + l);
	memcpy(info + k, "tls13 ", 6);
	k += 6;
	memcpy(info + k, label, l);
	k += l;
	info[k++] = 0; /* empty context */
	info[k++] = 1;
	if (!HMAC(EVP_sha256(), secret, 32, info, k, t, &tlen))
		return -EIO;
	memcpy(out, t, len);
	return 0;
}

/* Protects one client Initial carrying frames (padded with PADDING to QUIC_MIN_LEN); the
 * packet length, or 0 on failure. */
static size_t quic_protect(const uint8_t *dcid, size_t dcid_len, const uint8_t *scid,
			   size_t scid_len, uint32_t pn, const uint8_t *frames, size_t flen,
			   uint8_t *out, size_t cap)
{
	uint8_t initial[32], client[32], key[16], iv[12], hp[16], plain[QUIC_MIN_LEN];
	unsigned len = 0;
	const size_t pn_len = 2;
	if (!HMAC(EVP_sha256(), quic_v1_salt, sizeof(quic_v1_salt), dcid, dcid_len, initial,
		  &len) ||
	    hkdf_label(initial, "client in", client, 32) < 0 ||
	    hkdf_label(client, "quic key", key, 16) < 0 ||
	    hkdf_label(client, "quic iv", iv, 12) < 0 || hkdf_label(client, "quic hp", hp, 16) < 0)
		return 0;
	size_t hdr = 1 + 4 + 1 + dcid_len + 1 + scid_len + 1 + 2 + pn_len;
	if (hdr + flen + 16 > QUIC_MIN_LEN || cap < QUIC_MIN_LEN)
		return 0;
	memcpy(plain, frames, flen);
	size_t plen = QUIC_MIN_LEN - hdr - 16;
	memset(plain + flen, 0, plen - flen); /* PADDING frames */

	struct wbuf w = {out, 0, cap, false};
	put8(&w, 0xc0 | (pn_len - 1));
	put32(&w, 1);
	put8(&w, (unsigned)dcid_len);
	put(&w, dcid, dcid_len);
	put8(&w, (unsigned)scid_len);
	put(&w, scid, scid_len);
	put8(&w, 0);				  /* no token */
	put16(&w, 0x4000 | (pn_len + plen + 16)); /* Length, 2-byte varint */
	size_t pn_off = w.len;
	put16(&w, pn & 0xffff);
	if (w.overflow)
		return 0;

	uint8_t nonce[12];
	memcpy(nonce, iv, 12);
	for (int i = 0; i < 4; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl = 0;
	size_t n = 0;
	uint8_t mask[16];
	if (!c)
		return 0;
	if (EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, key, nonce) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &outl, out, (int)w.len) != 1 ||
	    EVP_EncryptUpdate(c, out + w.len, &outl, plain, (int)plen) != 1 ||
	    EVP_EncryptFinal_ex(c, out + w.len + outl, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + w.len + plen) != 1)
		goto out;
	n = w.len + plen + 16;
	/* header protection: the sample starts 4 bytes after the packet number's start */
	if (EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, hp, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(c, 0) != 1 ||
	    EVP_EncryptUpdate(c, mask, &outl, out + pn_off + 4, 16) != 1) {
		n = 0;
		goto out;
	}
	out[0] ^= mask[0] & 0x0f;
	for (size_t i = 0; i < pn_len; i++)
		out[pn_off + i] ^= mask[1 + i];
out:
	EVP_CIPHER_CTX_free(c);
	return n;
}

/* A client Initial with a ClientHello for sni (ALPN h3) in one CRYPTO frame. */
static size_t quic_initial(const char *sni, uint8_t *out, size_t cap)
{
	uint8_t rec[1024], frames[1100], dcid[8], scid[8];
	size_t rl = rdpi_synth_client_hello(sni, "h3", rec, sizeof(rec));
	if (rl <= 5 || RAND_bytes(dcid, sizeof(dcid)) != 1 || RAND_bytes(scid, sizeof(scid)) != 1)
		return 0;
	/* CRYPTO frame: the handshake message without its TLS record header */
	size_t hl = rl - 5;
	struct wbuf w = {frames, 0, sizeof(frames), false};
	put8(&w, 0x06);
	put8(&w, 0); /* offset 0 */
	put16(&w, 0x4000 | (unsigned)hl);
	put(&w, rec + 5, hl);
	if (w.overflow)
		return 0;
	return quic_protect(dcid, sizeof(dcid), scid, sizeof(scid), 0, frames, w.len, out, cap);
}

/* A server long-header packet in answer (random bytes behind a v1 Initial header). */
static size_t quic_server_reply(uint8_t *out, size_t cap)
{
	if (cap < 1200 || RAND_bytes(out, 1200) != 1)
		return 0;
	out[0] = 0xc1;
	out[1] = out[2] = out[3] = 0;
	out[4] = 1;
	out[5] = 8; /* DCID length; the rest stays opaque */
	return 1200;
}

/* ---- the mix ------------------------------------------------------------------------------- */

enum kind { K_DNS, K_TLS, K_HTTP, K_QUIC, K_NTP, K_MQTT, K__COUNT };

struct kind_info {
	const char *name;
	int l4; /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;
};

static const struct kind_info kinds[K__COUNT] = {
    [K_DNS] = {"dns", IPPROTO_UDP, 53},	  [K_TLS] = {"tls", IPPROTO_TCP, 443},
    [K_HTTP] = {"http", IPPROTO_TCP, 80}, [K_QUIC] = {"quic", IPPROTO_UDP, 443},
    [K_NTP] = {"ntp", IPPROTO_UDP, 123},  [K_MQTT] = {"mqtt", IPPROTO_TCP, 1883},
};
_Static_assert(sizeof(kinds) / sizeof(kinds[0]) == K__COUNT, "kinds");

/* The client's first payload for kind (name picked by seq). */
static size_t client_payload(enum kind k, unsigned seq, uint8_t *buf, size_t cap)
{
	char id[32];
	switch (k) {
	case K_DNS:
		return dns_query(tls_names[seq % N_OF(tls_names)], (uint16_t)(0x1000 + seq),
				 seq % 3 == 2 ? 28 : 1, buf, cap);
	case K_TLS:
		return rdpi_synth_client_hello(tls_names[seq % N_OF(tls_names)], "h2,http/1.1", buf,
					       cap);
	case K_HTTP:
		return http_request(http_hosts[seq % N_OF(http_hosts)], buf, cap);
	case K_QUIC:
		return quic_initial(quic_names[seq % N_OF(quic_names)], buf, cap);
	case K_NTP:
		return ntp_request(buf, cap, (uint32_t)time(NULL));
	case K_MQTT:
		snprintf(id, sizeof(id), "sensor-%u", seq % 100);
		return mqtt_connect(id, buf, cap);
	default:
		return 0;
	}
}

/* ---- live client -------------------------------------------------------------------------- */

struct client_stats {
	unsigned long tcp, udp, errors;
};

static int sockaddr_of(const char *ip, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return 0;
	}
	return -EINVAL;
}

static void set_timeout(int fd, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* A socket of the server's family bound to src (NULL: any), connected to server:port. */
static int client_socket(const char *src, const char *server, uint16_t port, int type)
{
	struct sockaddr_storage dst, me;
	socklen_t dlen, mlen;
	if (sockaddr_of(server, port, &dst, &dlen) < 0)
		return -EINVAL;
	int fd = socket(dst.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	set_timeout(fd, IO_TIMEOUT);
	if (src) {
		if (sockaddr_of(src, 0, &me, &mlen) < 0 || me.ss_family != dst.ss_family ||
		    bind(fd, (struct sockaddr *)&me, mlen) < 0) {
			int e = errno ? -errno : -EINVAL;
			close(fd);
			return e;
		}
	}
	if (connect(fd, (struct sockaddr *)&dst, dlen) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* One exchange: send the payload; want_reply: wait for an answer (TCP: read until the peer
 * closes or a reply arrives). 0 when the request left (and the answer came, if wanted). */
static int client_exchange(const char *src, const char *server, enum kind k, unsigned seq,
			   bool want_reply)
{
	static uint8_t buf[4096], in[4096];
	size_t n = client_payload(k, seq, buf, sizeof(buf));
	if (n == 0)
		return -EINVAL;
	int type = kinds[k].l4 == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int fd = client_socket(src, server, kinds[k].port, type);
	if (fd < 0)
		return fd;
	int rv = 0;
	ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
	if (w != (ssize_t)n) {
		rv = w < 0 ? -errno : -EIO;
		goto out;
	}
	if (want_reply) {
		ssize_t r = recv(fd, in, sizeof(in), 0);
		if (r <= 0)
			rv = r < 0 ? -errno : -ECONNRESET;
	}
out:
	close(fd);
	return rv;
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: " PROG " serve --addr IP [--addr IP ...]\n"
	       "       " PROG " client --server IP [--source IP ...] [--rounds N] "
	       "[--interval-ms M]\n"
	       "       " PROG " pcap --out FILE [--flows N] [--clients K] [--start EPOCH]\n"
	       "  serve   HTTP (tcp/80), TLS ClientHello sink (tcp/443), DNS (udp/53), QUIC sink\n"
	       "          (udp/443), NTP (udp/123) and MQTT (tcp/1883) on each address until\n"
	       "          SIGTERM; prints {\"http\":n,...} on exit\n"
	       "  client  per round and source address: HTTP GET, TLS ClientHello, DNS A/AAAA,\n"
	       "          QUIC v1 Initial, NTP, MQTT CONNECT to --server; prints a line per round\n"
	       "          and {\"rounds\":N,\"tcp\":n,\"udp\":n,\"errors\":n}\n"
	       "  pcap    the same mix as complete bidirectional flows from 192.168.7.x clients\n"
	       "          to documentation-range servers, for routerd-firewall-logger --pcap\n");
}

static int cmd_client(int argc, char **argv)
{
	const char *server = NULL, *sources[MAX_ADDRS];
	size_t nsrc = 0;
	unsigned long rounds = 1, interval = 200;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			fprintf(stderr, PROG ": %s needs a value\n", a);
			return 2;
		}
		i++;
		if (strcmp(a, "--server") == 0) {
			server = v;
		} else if (strcmp(a, "--source") == 0) {
			if (nsrc == MAX_ADDRS) {
				fprintf(stderr, PROG ": at most %d sources\n", MAX_ADDRS);
				return 2;
			}
			sources[nsrc++] = v;
		} else if (strcmp(a, "--rounds") == 0) {
			if (parse_uint(v, MAX_ROUNDS, &rounds) < 0 || rounds == 0) {
				fprintf(stderr, PROG ": bad --rounds %s\n", v);
				return 2;
			}
		} else if (strcmp(a, "--interval-ms") == 0) {
			if (parse_uint(v, 3600000, &interval) < 0) {
				fprintf(stderr, PROG ": bad --interval-ms %s\n", v);
				return 2;
			}
		} else {
			fprintf(stderr, PROG ": unknown option %s\n", a);
			return 2;
		}
	}
	struct sockaddr_storage ss;
	socklen_t sl;
	if (!server || sockaddr_of(server, 0, &ss, &sl) < 0) {
		fprintf(stderr, PROG ": client needs --server IP\n");
		return 2;
	}
	if (nsrc == 0)
		sources[nsrc++] = NULL;

	struct client_stats st = {0};
	unsigned seq = 0;
	for (unsigned long r = 0; r < rounds; r++) {
		struct client_stats rs = {0};
		for (size_t s = 0; s < nsrc; s++) {
			for (int k = 0; k < K__COUNT; k++) {
				/* two DNS queries (A and AAAA for different names) per round */
				int reps = k == K_DNS ? 2 : 1;
				for (int j = 0; j < reps; j++) {
					bool reply = k != K_QUIC;
					int rv = client_exchange(sources[s], server, (enum kind)k,
								 seq++, reply);
					if (rv < 0) {
						rs.errors++;
						fprintf(stderr, PROG ": %s %s -> %s:%u: %s\n",
							kinds[k].name,
							sources[s] ? sources[s] : "*", server,
							kinds[k].port, strerror(-rv));
					} else if (kinds[k].l4 == IPPROTO_TCP) {
						rs.tcp++;
					} else {
						rs.udp++;
					}
				}
			}
		}
		printf("round %lu/%lu: tcp=%lu udp=%lu errors=%lu\n", r + 1, rounds, rs.tcp, rs.udp,
		       rs.errors);
		fflush(stdout);
		st.tcp += rs.tcp;
		st.udp += rs.udp;
		st.errors += rs.errors;
		if (r + 1 < rounds && interval > 0) {
			struct timespec ts = {.tv_sec = (time_t)(interval / 1000),
					      .tv_nsec = (long)(interval % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	printf("{\"rounds\":%lu,\"tcp\":%lu,\"udp\":%lu,\"errors\":%lu}\n", rounds, st.tcp, st.udp,
	       st.errors);
	return st.tcp + st.udp > 0 ? 0 : 1;
}

/* ---- live server -------------------------------------------------------------------------- */

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	stop_flag = 1;
}

struct slot {
	int fd;
	enum kind kind;
	bool listener; /* TCP listener (else: UDP socket, or an accepted connection) */
	bool conn;
	uint64_t deadline_ms;
};

struct server {
	struct slot slots[MAX_ADDRS * 6 + MAX_CONNS];
	size_t n;
	unsigned long seen[K__COUNT];
	unsigned long dropped; /* connections refused at MAX_CONNS */
	size_t conns;
	uint8_t a4[4], a6[16];
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int server_listen(struct server *s, const char *ip, enum kind k)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1;
	if (sockaddr_of(ip, kinds[k].port, &ss, &sl) < 0)
		return -EINVAL;
	bool tcp = kinds[k].l4 == IPPROTO_TCP;
	int fd = socket(ss.ss_family,
			(tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || (tcp && listen(fd, 64) < 0)) {
		int e = -errno;
		close(fd);
		return e;
	}
	s->slots[s->n++] = (struct slot){.fd = fd, .kind = k, .listener = tcp};
	return 0;
}

/* A connection's first read: count it when it looks like its protocol, answer, close. */
static void server_conn(struct server *s, struct slot *c, bool timed_out)
{
	static uint8_t in[4096], out[1024];
	ssize_t r = recv(c->fd, in, sizeof(in), 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR) && !timed_out)
		return;
	size_t n = 0;
	if (r > 0) {
		switch (c->kind) {
		case K_HTTP:
			if (r >= 4 && memcmp(in, "GET ", 4) == 0) {
				s->seen[K_HTTP]++;
				n = http_response(out, sizeof(out));
			}
			break;
		case K_TLS:
			/* a handshake record with a ClientHello: answer a ServerHello, then
			 * close (no usable handshake follows) */
			if (r >= 6 && in[0] == 0x16 && in[5] == 0x01) {
				s->seen[K_TLS]++;
				n = tls_server_hello(out, sizeof(out));
			}
			break;
		case K_MQTT:
			if (in[0] == 0x10) {
				s->seen[K_MQTT]++;
				memcpy(out, mqtt_connack, sizeof(mqtt_connack));
				n = sizeof(mqtt_connack);
			}
			break;
		default:
			break;
		}
	}
	if (n > 0 && send(c->fd, out, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		fprintf(stderr, PROG ": %s reply: %s\n", kinds[c->kind].name, strerror(errno));
	close(c->fd);
	c->fd = -1;
	s->conns--;
}

static void server_dgram(struct server *s, struct slot *u)
{
	static uint8_t in[2048], out[2048];
	struct sockaddr_storage from;
	/* bounded: at most 64 datagrams per wakeup */
	for (int i = 0; i < 64; i++) {
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(u->fd, in, sizeof(in), 0, (struct sockaddr *)&from, &fl);
		if (r < 0)
			return;
		size_t n = 0;
		switch (u->kind) {
		case K_DNS:
			n = dns_answer(in, (size_t)r, s->a4, s->a6, out, sizeof(out));
			if (n > 0)
				s->seen[K_DNS]++;
			break;
		case K_NTP:
			n = ntp_reply(in, (size_t)r, out, sizeof(out), (uint32_t)time(NULL));
			if (n > 0)
				s->seen[K_NTP]++;
			break;
		case K_QUIC:
			/* long header, fixed bit, v1, at least the minimum datagram size */
			if (r >= QUIC_MIN_LEN && (in[0] & 0xc0) == 0xc0 && in[1] == 0 &&
			    in[2] == 0 && in[3] == 0 && in[4] == 1)
				s->seen[K_QUIC]++;
			break;
		default:
			break;
		}
		if (n > 0 && sendto(u->fd, out, n, 0, (struct sockaddr *)&from, fl) < 0)
			fprintf(stderr, PROG ": %s reply: %s\n", kinds[u->kind].name,
				strerror(errno));
	}
}

static void server_accept(struct server *s, struct slot *l)
{
	for (int i = 0; i < 16; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		if (s->conns == MAX_CONNS) {
			s->dropped++;
			close(fd);
			continue;
		}
		size_t j = 0;
		while (j < s->n && !(s->slots[j].conn && s->slots[j].fd < 0))
			j++;
		if (j == s->n)
			s->n++;
		s->slots[j] = (struct slot){
		    .fd = fd, .kind = l->kind, .conn = true, .deadline_ms = now_ms() + IO_TIMEOUT};
		s->conns++;
	}
}

static int cmd_serve(int argc, char **argv)
{
	static struct server s;
	const char *addrs[MAX_ADDRS];
	size_t na = 0;
	int rc = 1;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--addr") == 0 && i + 1 < argc && na < MAX_ADDRS) {
			addrs[na++] = argv[++i];
		} else {
			fprintf(stderr, PROG ": serve: bad argument %s\n", argv[i]);
			return 2;
		}
	}
	if (na == 0) {
		fprintf(stderr, PROG ": serve needs --addr IP\n");
		return 2;
	}
	/* DNS answers: fixed documentation addresses */
	inet_pton(AF_INET, "203.0.113.10", s.a4);
	inet_pton(AF_INET6, "2001:db8::10", s.a6);
	for (size_t i = 0; i < na; i++) {
		for (int k = 0; k < K__COUNT; k++) {
			int rv = server_listen(&s, addrs[i], (enum kind)k);
			if (rv < 0) {
				fprintf(stderr, PROG ": %s %s:%u: %s\n", kinds[k].name, addrs[i],
					kinds[k].port, strerror(-rv));
				goto out;
			}
		}
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	printf("serving on %zu address(es)\n", na);
	fflush(stdout);

	struct pollfd pfd[sizeof(s.slots) / sizeof(s.slots[0])];
	while (!stop_flag) {
		for (size_t i = 0; i < s.n; i++)
			pfd[i] = (struct pollfd){.fd = s.slots[i].fd, .events = POLLIN};
		int r = poll(pfd, s.n, 200);
		if (r < 0 && errno != EINTR) {
			perror(PROG ": poll");
			goto out;
		}
		uint64_t now = now_ms();
		size_t n = s.n; /* accepted connections join the next pass */
		for (size_t i = 0; i < n; i++) {
			struct slot *sl = &s.slots[i];
			if (sl->fd < 0)
				continue;
			bool ready = r > 0 && (pfd[i].revents & (POLLIN | POLLERR | POLLHUP));
			if (sl->listener) {
				if (ready)
					server_accept(&s, sl);
			} else if (sl->conn) {
				if (ready || now >= sl->deadline_ms)
					server_conn(&s, sl, now >= sl->deadline_ms);
			} else if (ready) {
				server_dgram(&s, sl);
			}
		}
	}
	rc = 0;
out:
	printf("{");
	for (int k = 0; k < K__COUNT; k++)
		printf("\"%s\":%lu,", kinds[k].name, s.seen[k]);
	printf("\"dropped\":%lu}\n", s.dropped);
	fflush(stdout);
	for (size_t i = 0; i < s.n; i++)
		if (s.slots[i].fd >= 0)
			close(s.slots[i].fd);
	return rc;
}

/* ---- pcap --------------------------------------------------------------------------------- */

struct pcapw {
	FILE *f;
	uint64_t ts_us;
	unsigned long packets;
	int err;
};

static void pcap_frame(struct pcapw *p, int l3, const uint8_t *pkt, size_t len)
{
	static const uint8_t macs[12] = {0x02, 0x52, 0x44, 0x50, 0x49, 0x01,
					 0x02, 0x52, 0x44, 0x50, 0x49, 0x02};
	uint8_t hdr[16 + 14];
	uint32_t sec = (uint32_t)(p->ts_us / 1000000), usec = (uint32_t)(p->ts_us % 1000000);
	uint32_t cl = (uint32_t)(len + 14);
	memcpy(hdr, &sec, 4); /* classic pcap, host byte order (magic tells readers) */
	memcpy(hdr + 4, &usec, 4);
	memcpy(hdr + 8, &cl, 4);
	memcpy(hdr + 12, &cl, 4);
	memcpy(hdr + 16, macs, 12);
	hdr[28] = l3 == 6 ? 0x86 : 0x08;
	hdr[29] = l3 == 6 ? 0xdd : 0x00;
	if (fwrite(hdr, sizeof(hdr), 1, p->f) != 1 || fwrite(pkt, len, 1, p->f) != 1)
		p->err = -EIO;
	p->packets++;
}

struct pflow {
	struct rdpi_synth_tuple c2s, s2c;
	uint32_t cseq, sseq;
};

/* One packet of the flow; dir 0 client -> server. step_us: time to the next packet. */
static void pcap_pkt(struct pcapw *p, struct pflow *f, int dir, uint8_t flags, const uint8_t *pl,
		     size_t plen, uint64_t step_us)
{
	static uint8_t pkt[RDPI_SYNTH_MAX_PACKET];
	size_t len = 0;
	uint32_t *seq = dir ? &f->sseq : &f->cseq, *ack = dir ? &f->cseq : &f->sseq;
	struct rdpi_synth_tcp t = {.seq = *seq, .ack = flags & 0x10 ? *ack : 0, .flags = flags};
	const struct rdpi_synth_tuple *tu = dir ? &f->s2c : &f->c2s;
	if (rdpi_synth_packet(tu, &t, pl, plen, pkt, sizeof(pkt), &len) < 0) {
		p->err = -EMSGSIZE;
		return;
	}
	pcap_frame(p, tu->l3, pkt, len);
	*seq += (uint32_t)plen + ((flags & 0x03) ? 1 : 0); /* SYN and FIN take a number */
	p->ts_us += step_us;
}

static void addr_of(const char *ip, uint8_t out[16])
{
	uint8_t a4[4];
	memset(out, 0, 16);
	if (inet_pton(AF_INET, ip, a4) == 1) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, a4, 4);
	} else {
		inet_pton(AF_INET6, ip, out);
	}
}

/* Flow i of the capture: kind, client, server, payloads both ways. */
static int pcap_flow(struct pcapw *p, unsigned i, unsigned clients, uint64_t step_us)
{
	static uint8_t req[4096], resp[4096];
	enum kind k = (enum kind)(i % K__COUNT);
	unsigned seq = i / K__COUNT;
	bool v6 = i % 7 == 6;
	unsigned c = i % clients;
	char cli[64], srv[64];
	if (v6) {
		snprintf(cli, sizeof(cli), "fd00:7::%x", 10 + c);
		snprintf(srv, sizeof(srv), "2001:db8::%x", 0x10 + (unsigned)k * 16 + seq % 8);
	} else {
		snprintf(cli, sizeof(cli), "192.168.7.%u", 10 + c);
		/* web-ish services in 203.0.113.x, the rest in 198.51.100.x */
		snprintf(srv, sizeof(srv), "%s.%u",
			 k == K_TLS || k == K_QUIC || k == K_HTTP ? "203.0.113" : "198.51.100",
			 10 + (unsigned)k * 16 + seq % 8);
	}
	struct pflow f = {.cseq = 1000000u * (i + 1), .sseq = 7000000u + 13u * i};
	f.c2s.l3 = v6 ? 6 : 4;
	f.c2s.l4proto = (uint8_t)kinds[k].l4;
	addr_of(cli, f.c2s.src);
	addr_of(srv, f.c2s.dst);
	f.c2s.sport = (uint16_t)(32768 + (i * 37) % 28000);
	f.c2s.dport = kinds[k].port;
	f.s2c = f.c2s;
	memcpy(f.s2c.src, f.c2s.dst, 16);
	memcpy(f.s2c.dst, f.c2s.src, 16);
	f.s2c.sport = f.c2s.dport;
	f.s2c.dport = f.c2s.sport;

	size_t ql = client_payload(k, seq, req, sizeof(req));
	size_t rl = 0;
	uint8_t a4[4] = {203, 0, 113, 10}, a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10};
	switch (k) {
	case K_DNS:
		rl = dns_answer(req, ql, a4, a6, resp, sizeof(resp));
		break;
	case K_TLS:
		rl = tls_server_hello(resp, sizeof(resp));
		break;
	case K_HTTP:
		rl = http_response(resp, sizeof(resp));
		break;
	case K_QUIC:
		rl = quic_server_reply(resp, sizeof(resp));
		break;
	case K_NTP:
		rl = ntp_reply(req, ql, resp, sizeof(resp), (uint32_t)(p->ts_us / 1000000));
		break;
	case K_MQTT:
		memcpy(resp, mqtt_connack, sizeof(mqtt_connack));
		rl = sizeof(mqtt_connack);
		break;
	default:
		break;
	}
	if (ql == 0 || rl == 0)
		return -EINVAL;
	if (kinds[k].l4 == IPPROTO_UDP) {
		pcap_pkt(p, &f, 0, 0, req, ql, step_us * 2);
		pcap_pkt(p, &f, 1, 0, resp, rl, step_us);
		return p->err;
	}
	pcap_pkt(p, &f, 0, 0x02, NULL, 0, step_us);	/* SYN */
	pcap_pkt(p, &f, 1, 0x12, NULL, 0, step_us);	/* SYN/ACK */
	pcap_pkt(p, &f, 0, 0x10, NULL, 0, step_us / 4); /* ACK */
	pcap_pkt(p, &f, 0, 0x18, req, ql, step_us);	/* request */
	pcap_pkt(p, &f, 1, 0x10, NULL, 0, step_us / 4); /* ACK */
	pcap_pkt(p, &f, 1, 0x18, resp, rl, step_us);	/* response */
	pcap_pkt(p, &f, 0, 0x10, NULL, 0, step_us);	/* ACK */
	pcap_pkt(p, &f, 0, 0x11, NULL, 0, step_us);	/* FIN */
	pcap_pkt(p, &f, 1, 0x11, NULL, 0, step_us / 4); /* FIN */
	pcap_pkt(p, &f, 0, 0x10, NULL, 0, step_us);	/* ACK */
	return p->err;
}

static int cmd_pcap(int argc, char **argv)
{
	const char *out = NULL;
	unsigned long flows = 120, clients = 4, start = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;
		if (!v) {
			fprintf(stderr, PROG ": %s needs a value\n", a);
			return 2;
		}
		i++;
		if (strcmp(a, "--out") == 0)
			out = v;
		else if (strcmp(a, "--flows") == 0)
			bad = parse_uint(v, MAX_FLOWS, &flows) < 0 || flows == 0;
		else if (strcmp(a, "--clients") == 0)
			bad = parse_uint(v, MAX_CLIENTS, &clients) < 0 || clients == 0;
		else if (strcmp(a, "--start") == 0)
			bad = parse_uint(v, UINT32_MAX - 86400, &start) < 0;
		else
			bad = 1;
		if (bad) {
			fprintf(stderr, PROG ": bad option %s %s\n", a, v);
			return 2;
		}
	}
	if (!out) {
		fprintf(stderr, PROG ": pcap needs --out FILE\n");
		return 2;
	}
	/* flows spread over five minutes ending now (or from --start) */
	const uint64_t span_us = 300ull * 1000000;
	if (start == 0)
		start = (unsigned long)time(NULL) - 300;
	uint64_t gap = span_us / flows;
	uint64_t step = gap / 12 < 20000 ? gap / 12 : 20000;
	if (step < 4)
		step = 4;

	struct pcapw p = {.ts_us = (uint64_t)start * 1000000};
	p.f = fopen(out, "wb");
	if (!p.f) {
		fprintf(stderr, PROG ": %s: %s\n", out, strerror(errno));
		return 1;
	}
	/* classic pcap header: microseconds, v2.4, snaplen 65535, Ethernet */
	uint32_t magic = 0xa1b2c3d4, snap = 65535, link = 1, zero = 0;
	uint16_t vmaj = 2, vmin = 4;
	fwrite(&magic, 4, 1, p.f);
	fwrite(&vmaj, 2, 1, p.f);
	fwrite(&vmin, 2, 1, p.f);
	fwrite(&zero, 4, 1, p.f);
	fwrite(&zero, 4, 1, p.f);
	fwrite(&snap, 4, 1, p.f);
	fwrite(&link, 4, 1, p.f);
	unsigned long per[K__COUNT] = {0};
	int rv = 0;
	for (unsigned long i = 0; i < flows && rv == 0; i++) {
		uint64_t begin = (uint64_t)start * 1000000 + i * gap;
		if (p.ts_us < begin)
			p.ts_us = begin;
		rv = pcap_flow(&p, (unsigned)i, (unsigned)clients, step);
		per[i % K__COUNT]++;
	}
	if (fclose(p.f) != 0 && rv == 0)
		rv = -EIO;
	if (rv < 0) {
		fprintf(stderr, PROG ": %s: %s\n", out, strerror(-rv));
		return 1;
	}
	printf("{\"flows\":%lu,\"packets\":%lu,\"clients\":%lu", flows, p.packets, clients);
	for (int k = 0; k < K__COUNT; k++)
		printf(",\"%s\":%lu", kinds[k].name, per[k]);
	printf("}\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	if (strcmp(argv[1], "client") == 0)
		return cmd_client(argc - 2, argv + 2);
	if (strcmp(argv[1], "pcap") == 0)
		return cmd_pcap(argc - 2, argv + 2);
	fprintf(stderr, PROG ": unknown command %s\n", argv[1]);
	usage(stderr);
	return 2;
}

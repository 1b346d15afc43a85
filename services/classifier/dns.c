/* Bounded DNS wire-format parser for the classifier's builtin engine: header, first question,
 * A/AAAA/CNAME answers; compression pointers must point strictly backwards. */
#include "dns.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#define DNS_WIRE_NAME_MAX 255
#define DNS_MAX_HOPS	  64 /* strictly backwards pointers already end loops; belt and braces */
#define DNS_MIN_QUESTION  5  /* root name + type + class */
#define DNS_MIN_RR	  11 /* root name + type + class + ttl + rdlength */

/* Internal code: the data ends before the item does (capture cut or TCP segment). */
#define DNS_ESHORT (-ENODATA)

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;
	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0) {
		len = 2;
	} else if (c < 0xf0) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	}
	if (len > n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* Appends one label as text; the 255-byte wire limit keeps o below DNS_NAME_MAX. */
static size_t put_label(char *out, size_t o, const uint8_t *s, size_t len)
{
	if (o > 0)
		out[o++] = '.';
	for (size_t i = 0; i < len;) {
		uint8_t c = s[i];
		if (c >= 0x80) {
			size_t u = utf8_len(s + i, len - i);
			if (u) {
				memcpy(out + o, s + i, u);
				o += u;
				i += u;
				continue;
			}
			out[o++] = '?';
		} else if (c < 0x20 || c == 0x7f || c == '.') {
			out[o++] = '?';
		} else if (c >= 'A' && c <= 'Z') {
			out[o++] = (char)(c - 'A' + 'a');
		} else {
			out[o++] = (char)c;
		}
		i++;
	}
	return o;
}

/* Reads the (possibly compressed) name at *off into out (DNS_NAME_MAX bytes) and moves *off past
 * it. Every pointer must point below the start of the label run it ends, so the walk visits
 * strictly decreasing offsets and cannot loop. */
static int read_name(const uint8_t *m, size_t n, size_t *off, char *out)
{
	size_t pos = *off, limit = *off, end = 0, wire = 0, o = 0;
	unsigned hops = 0;
	for (;;) {
		if (pos >= n)
			return DNS_ESHORT;
		uint8_t len = m[pos];
		if ((len & 0xc0) == 0xc0) {
			if (pos + 1 >= n)
				return DNS_ESHORT;
			size_t target = (size_t)(len & 0x3f) << 8 | m[pos + 1];
			if (target < DNS_HEADER_LEN || target >= limit || ++hops > DNS_MAX_HOPS)
				return -EINVAL;
			if (end == 0)
				end = pos + 2;
			limit = pos = target;
			continue;
		}
		if (len & 0xc0) /* 0x40 extended and 0x80 reserved label types, i.e. > 63 */
			return -EINVAL;
		if (len == 0) {
			if (end == 0)
				end = pos + 1;
			break;
		}
		wire += (size_t)len + 1;
		if (wire + 1 > DNS_WIRE_NAME_MAX)
			return -EINVAL;
		if (pos + 1 + len > n)
			return DNS_ESHORT;
		o = put_label(out, o, m + pos + 1, len);
		pos += 1 + (size_t)len;
	}
	out[o] = '\0';
	*off = end;
	return 0;
}

/* Reads one answer record at *off; stores A/AAAA/CNAME ones. */
static int read_answer(const uint8_t *m, size_t n, size_t *off, struct dns_message *msg)
{
	struct dns_answer a;
	size_t pos = *off;
	int r = read_name(m, n, &pos, a.name);
	if (r < 0)
		return r;
	if (n - pos < 10)
		return DNS_ESHORT;
	a.type = be16(m + pos);
	a.rclass = be16(m + pos + 2);
	a.ttl = be32(m + pos + 4);
	size_t rdlen = be16(m + pos + 8);
	pos += 10;
	if (n - pos < rdlen)
		return DNS_ESHORT;
	memset(a.addr, 0, sizeof(a.addr));
	a.target[0] = '\0';
	bool keep = true;
	switch (a.type) {
	case DNS_TYPE_A:
		if (rdlen != 4)
			return -EINVAL;
		a.addr[10] = a.addr[11] = 0xff;
		memcpy(a.addr + 12, m + pos, 4);
		break;
	case DNS_TYPE_AAAA:
		if (rdlen != 16)
			return -EINVAL;
		memcpy(a.addr, m + pos, 16);
		break;
	case DNS_TYPE_CNAME: {
		size_t t = pos;
		/* the name may point outside the rdata, but its own bytes must end exactly there */
		r = read_name(m, pos + rdlen, &t, a.target);
		if (r < 0 || t != pos + rdlen)
			return -EINVAL;
		break;
	}
	default:
		keep = false;
	}
	*off = pos + rdlen;
	if (!keep)
		return 0;
	if (msg->n_answers == DNS_MAX_ANSWERS) {
		msg->answers_dropped = true;
		return 0;
	}
	msg->answers[msg->n_answers++] = a;
	return 0;
}

/* avail bytes are present; declared is the message size the sender claims (>= avail). */
static int parse(const uint8_t *m, size_t avail, size_t declared, struct dns_message *ret)
{
	static struct dns_message zero;
	struct dns_message msg = zero;
	if (avail < DNS_HEADER_LEN)
		return -ENOMSG;
	msg.id = be16(m);
	msg.flags = be16(m + 2);
	msg.qr = msg.flags & 0x8000;
	msg.opcode = (msg.flags >> 11) & 0xf;
	msg.aa = msg.flags & 0x0400;
	msg.tc = msg.flags & 0x0200;
	msg.rd = msg.flags & 0x0100;
	msg.ra = msg.flags & 0x0080;
	msg.rcode = msg.flags & 0xf;
	msg.qdcount = be16(m + 4);
	msg.ancount = be16(m + 6);
	msg.nscount = be16(m + 8);
	msg.arcount = be16(m + 10);
	if (msg.opcode != 0)
		return -ENOMSG;
	if (msg.qdcount == 0 && (!msg.qr || msg.ancount == 0))
		return -ENOMSG;
	size_t min = (size_t)msg.qdcount * DNS_MIN_QUESTION +
		     ((size_t)msg.ancount + msg.nscount + msg.arcount) * DNS_MIN_RR;
	if (min > declared - DNS_HEADER_LEN)
		return -ENOMSG;

	size_t off = DNS_HEADER_LEN;
	for (unsigned i = 0; i < msg.qdcount; i++) {
		char name[DNS_NAME_MAX];
		int r = read_name(m, avail, &off, i == 0 ? msg.qname : name);
		if (r < 0)
			return -EINVAL;
		if (avail - off < 4)
			return -EINVAL;
		if (i == 0) {
			msg.has_question = true;
			msg.qtype = be16(m + off);
			msg.qclass = be16(m + off + 2);
		}
		off += 4;
	}
	for (unsigned i = 0; msg.qr && i < msg.ancount; i++) {
		int r = read_answer(m, avail, &off, &msg);
		if (r == DNS_ESHORT) {
			msg.truncated = true;
			break;
		}
		if (r < 0)
			return r;
	}
	*ret = msg;
	return 0;
}

int dns_parse(const uint8_t *p, size_t n, struct dns_message *ret)
{
	if (!p)
		return -ENOMSG;
	return parse(p, n, n, ret);
}

int dns_parse_tcp(const uint8_t *p, size_t n, struct dns_message *ret)
{
	if (!p || n < 2)
		return -ENOMSG;
	size_t declared = be16(p);
	if (declared < DNS_HEADER_LEN)
		return -ENOMSG;
	size_t avail = n - 2 < declared ? n - 2 : declared;
	return parse(p + 2, avail, declared, ret);
}

static bool ends_with_domain(const char *name, size_t len, const char *dom)
{
	size_t dl = strlen(dom);
	if (len < dl || strncasecmp(name + len - dl, dom, dl) != 0)
		return false;
	return len == dl || name[len - dl - 1] == '.';
}

bool dns_name_is_tailscale(const char *name)
{
	static const char *const domains[] = {"ts.net", "tailscale.com", "tailscale.io"};
	if (!name)
		return false;
	size_t len = strnlen(name, DNS_NAME_MAX);
	if (len > 0 && name[len - 1] == '.')
		len--;
	for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++)
		if (ends_with_domain(name, len, domains[i]))
			return true;
	return false;
}

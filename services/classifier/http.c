/* HTTP/1.x request / status line and header parser (RFC 9112) for the classifier's builtin
 * engine; looks only at the bytes of one packet. */
#include "http.h"

#include <errno.h>
#include <string.h>

static const char *const http_methods[] = {
    "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
};

struct header {
	const uint8_t *name;
	size_t name_len;
	const uint8_t *value;
	size_t value_len;
};

enum header_next {
	HEADER_FOUND,
	HEADER_END, /* blank line */
	HEADER_CUT, /* the packet ends inside the header block */
};

static bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

static bool name_is(const struct header *h, const char *name)
{
	size_t len = strlen(name);
	if (h->name_len != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (lower(h->name[i]) != (uint8_t)name[i])
			return false;
	}
	return true;
}

/* the line at *off without its CR LF / LF; false if no LF before n */
static bool next_line(const uint8_t *p, size_t n, size_t *off, size_t *ret_start, size_t *ret_len)
{
	const uint8_t *lf = memchr(p + *off, '\n', n - *off);
	if (!lf)
		return false;
	size_t start = *off, end = (size_t)(lf - p);
	*off = end + 1;
	if (end > start && p[end - 1] == '\r')
		end--;
	*ret_start = start;
	*ret_len = end - start;
	return true;
}

/* Reads the header line at *off into *h; obsolete folded lines are skipped. Returns an
 * enum header_next value or -EINVAL for a line without a colon or with whitespace in the name. */
static int next_header(const uint8_t *p, size_t n, size_t *off, struct header *h)
{
	for (;;) {
		size_t start, len;
		if (!next_line(p, n, off, &start, &len))
			return HEADER_CUT;
		if (len == 0)
			return HEADER_END;
		const uint8_t *line = p + start;
		if (is_ows(line[0]))
			continue; /* obs-fold continuation */
		const uint8_t *colon = memchr(line, ':', len);
		if (!colon || colon == line)
			return -EINVAL;
		h->name = line;
		h->name_len = (size_t)(colon - line);
		for (size_t i = 0; i < h->name_len; i++) {
			if (line[i] <= 0x20 || line[i] >= 0x7f)
				return -EINVAL;
		}
		size_t v = h->name_len + 1, e = len;
		while (v < e && is_ows(line[v]))
			v++;
		while (e > v && is_ows(line[e - 1]))
			e--;
		h->value = line + v;
		h->value_len = e - v;
		return HEADER_FOUND;
	}
}

/* copies printable text, other bytes as '?', truncated and NUL-terminated */
static void copy_text(char *dst, size_t dstsz, const uint8_t *s, size_t len)
{
	size_t k = len < dstsz - 1 ? len : dstsz - 1;
	for (size_t i = 0; i < k; i++)
		dst[i] = (char)(s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
	dst[k] = '\0';
}

/* Host (RFC 9110 section 7.2): uri-host [":" port]; "[v6]" loses its brackets. An unusable
 * value leaves host empty. */
static void set_host(char *dst, const uint8_t *v, size_t len)
{
	if (len > 0 && v[0] == '[') {
		const uint8_t *rb = memchr(v, ']', len);
		if (!rb)
			return;
		len = (size_t)(rb - v) - 1;
		v++;
	} else {
		const uint8_t *colon = memchr(v, ':', len);
		/* more than one colon: a bare IPv6 address, keep it whole */
		if (colon && !memchr(colon + 1, ':', len - (size_t)(colon - v) - 1))
			len = (size_t)(colon - v);
	}
	if (len == 0)
		return;
	for (size_t i = 0; i < len; i++) {
		if (v[i] <= 0x20 || v[i] >= 0x7f)
			return;
	}
	size_t k = len < HTTP_HOST_MAX - 1 ? len : HTTP_HOST_MAX - 1;
	for (size_t i = 0; i < k; i++)
		dst[i] = (char)lower(v[i]);
	dst[k] = '\0';
}

/* "HTTP/1.<digit>" at p; false otherwise */
static bool http_version(const uint8_t *p, size_t n, uint8_t *minor)
{
	if (n < 8 || memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9')
		return false;
	*minor = (uint8_t)(p[7] - '0');
	return true;
}

int http_parse_request(const uint8_t *p, size_t n, struct http_request *ret)
{
	struct http_request r = {0};
	size_t mlen = 0;
	if (!p || n == 0)
		return -ENOMSG;
	for (size_t i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++) {
		size_t l = strlen(http_methods[i]);
		if (n <= l && memcmp(p, http_methods[i], n) == 0)
			return -EAGAIN;
		if (n > l && memcmp(p, http_methods[i], l) == 0 && p[l] == ' ') {
			mlen = l;
			memcpy(r.method, p, l);
			break;
		}
	}
	if (mlen == 0)
		return -ENOMSG;

	size_t off = 0, start, len;
	if (!next_line(p, n, &off, &start, &len)) {
		for (size_t i = mlen; i < n; i++) {
			if (p[i] < 0x20 && p[i] != '\r')
				return -EINVAL;
		}
		return -EAGAIN;
	}
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return -EINVAL;
	}
	/* "<METHOD> <target> HTTP/1.x": the version is the last 8 bytes after a space */
	if (len < mlen + 1 + 1 + 1 + 8 || p[len - 9] != ' ' ||
	    !http_version(p + len - 8, 8, &r.version_minor))
		return -ENOMSG;
	if (memchr(p + mlen + 1, ' ', len - 9 - mlen - 1))
		return -EINVAL; /* space inside the target */

	for (;;) {
		struct header h;
		int rc = next_header(p, n, &off, &h);
		if (rc < 0)
			return rc;
		if (rc != HEADER_FOUND) {
			r.headers_complete = rc == HEADER_END;
			break;
		}
		if (name_is(&h, "host") && r.host[0] == '\0')
			set_host(r.host, h.value, h.value_len);
		else if (name_is(&h, "user-agent") && r.user_agent[0] == '\0')
			copy_text(r.user_agent, sizeof(r.user_agent), h.value, h.value_len);
	}
	*ret = r;
	return 0;
}

int http_parse_response(const uint8_t *p, size_t n, struct http_response *ret)
{
	static const char prefix[] = "HTTP/1.";
	struct http_response r = {0};
	if (!p || n == 0)
		return -ENOMSG;
	size_t cmp = n < sizeof(prefix) - 1 ? n : sizeof(prefix) - 1;
	if (memcmp(p, prefix, cmp) != 0)
		return -ENOMSG;
	if (n < 12)
		return -EAGAIN;
	if (!http_version(p, n, &r.version_minor) || p[8] != ' ')
		return -EINVAL;
	for (size_t i = 9; i < 12; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		r.status = (uint16_t)(r.status * 10 + (p[i] - '0'));
	}
	if (r.status < 100 || (n > 12 && p[12] != ' ' && p[12] != '\r' && p[12] != '\n'))
		return -EINVAL;

	size_t off = 0, start, len;
	if (next_line(p, n, &off, &start, &len)) {
		for (;;) {
			struct header h;
			int rc = next_header(p, n, &off, &h);
			if (rc < 0)
				return rc;
			if (rc != HEADER_FOUND) {
				r.headers_complete = rc == HEADER_END;
				break;
			}
			if (name_is(&h, "server") && r.server[0] == '\0')
				copy_text(r.server, sizeof(r.server), h.value, h.value_len);
		}
	}
	*ret = r;
	return 0;
}

/* SSDP (UPnP discovery over HTTPU) parser for the classifier's builtin engine. */
#include "ssdp.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#define SSDP_MAX_LINES 64

static bool starts_with(const uint8_t *s, size_t len, const char *prefix, bool nocase)
{
	size_t pl = strlen(prefix);
	if (len < pl)
		return false;
	return nocase ? strncasecmp((const char *)s, prefix, pl) == 0 : memcmp(s, prefix, pl) == 0;
}

static void copy_value(char *dst, size_t dstsz, const uint8_t *s, size_t len)
{
	while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	size_t k = len < dstsz - 1 ? len : dstsz - 1;
	for (size_t i = 0; i < k; i++)
		dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	dst[k] = '\0';
}

/* Length of the line at p (without CR/LF) and, in *next, where the following one starts. */
static size_t line(const uint8_t *p, size_t n, size_t *next)
{
	size_t e = 0;
	while (e < n && p[e] != '\n')
		e++;
	*next = e < n ? e + 1 : n;
	if (e > 0 && p[e - 1] == '\r')
		e--;
	return e;
}

static void header(struct ssdp_message *m, const uint8_t *s, size_t len)
{
	static const struct {
		const char *name;
		size_t off;
		size_t size;
	} keys[] = {
	    {"st", offsetof(struct ssdp_message, target), SSDP_VALUE_MAX},
	    {"nt", offsetof(struct ssdp_message, target), SSDP_VALUE_MAX},
	    {"nts", offsetof(struct ssdp_message, nts), sizeof(m->nts)},
	    {"usn", offsetof(struct ssdp_message, usn), SSDP_VALUE_MAX},
	    {"server", offsetof(struct ssdp_message, server), SSDP_VALUE_MAX},
	    {"user-agent", offsetof(struct ssdp_message, server), SSDP_VALUE_MAX},
	    {"location", offsetof(struct ssdp_message, location), SSDP_VALUE_MAX},
	};
	const uint8_t *colon = memchr(s, ':', len);
	if (!colon)
		return;
	size_t nl = (size_t)(colon - s);
	while (nl > 0 && (s[nl - 1] == ' ' || s[nl - 1] == '\t'))
		nl--;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strlen(keys[i].name) != nl ||
		    strncasecmp((const char *)s, keys[i].name, nl) != 0)
			continue;
		char *dst = (char *)m + keys[i].off;
		/* SERVER wins over a USER-AGENT seen earlier; the first of anything else stays */
		if (dst[0] && strcmp(keys[i].name, "server") != 0)
			return;
		size_t v = (size_t)(colon - s) + 1;
		copy_value(dst, keys[i].size, s + v, len - v);
		return;
	}
}

int ssdp_parse(const uint8_t *p, size_t n, struct ssdp_message *ret)
{
	struct ssdp_message m = {0};
	if (!p)
		return -ENOMSG;
	size_t next;
	size_t len = line(p, n, &next);
	if (starts_with(p, len, "M-SEARCH * HTTP/1.", false))
		m.kind = SSDP_MSEARCH;
	else if (starts_with(p, len, "NOTIFY * HTTP/1.", false))
		m.kind = SSDP_NOTIFY;
	else if (starts_with(p, len, "HTTP/1.1 200", false) ||
		 starts_with(p, len, "HTTP/1.0 200", false))
		m.kind = SSDP_RESPONSE;
	else
		return -ENOMSG;
	size_t off = next;
	for (unsigned i = 0; i < SSDP_MAX_LINES && off < n; i++) {
		len = line(p + off, n - off, &next);
		if (len == 0)
			break;
		header(&m, p + off, len);
		off += next;
	}
	if (m.kind == SSDP_RESPONSE && !m.target[0] && !m.usn[0])
		return -ENOMSG;
	*ret = m;
	return 0;
}

const char *ssdp_kind_name(enum ssdp_kind kind)
{
	static const char *const names[] = {
	    [SSDP_MSEARCH] = "m-search",
	    [SSDP_NOTIFY] = "notify",
	    [SSDP_RESPONSE] = "response",
	};
	if ((unsigned)kind < sizeof(names) / sizeof(names[0]) && names[kind])
		return names[kind];
	return "unknown";
}

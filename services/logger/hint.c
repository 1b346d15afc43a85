/* nftables log prefix rules and the firewall_logs.hint string: render DPI evidence as
 * space-separated key=value tokens and read it back losslessly (percent-escaping). */
#include "hint.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX_HEAD "routerd firewall"

static const char *const action_names[] = {
    [HINT_ACTION_ACCEPT] = "accept",
    [HINT_ACTION_DENY] = "deny",
    [HINT_ACTION_DROP] = "drop",
    [HINT_ACTION_REJECT] = "reject",
};
_Static_assert(sizeof(action_names) / sizeof(action_names[0]) == HINT_ACTION__COUNT,
	       "action_names");

const char *hint_action_name(enum hint_action a)
{
	if ((unsigned)a >= HINT_ACTION__COUNT)
		return NULL;
	return action_names[a];
}

static int action_from_word(const char *w, size_t n)
{
	for (int a = 0; a < HINT_ACTION__COUNT; a++)
		if (strlen(action_names[a]) == n && memcmp(action_names[a], w, n) == 0)
			return a;
	return -1;
}

/* Action hidden inside a rule word ("block-ssh-deny", "allow_accept"); drop otherwise. */
static enum hint_action action_in_word(const char *w, size_t n)
{
	char tmp[HINT_PREFIX_RULE_MAX];
	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	memcpy(tmp, w, n);
	tmp[n] = '\0';
	/* reject before deny/drop: the more specific answer wins when several appear */
	static const enum hint_action order[] = {HINT_ACTION_REJECT, HINT_ACTION_ACCEPT,
						 HINT_ACTION_DENY, HINT_ACTION_DROP};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (strstr(tmp, action_names[order[i]]))
			return order[i];
	return HINT_ACTION_DROP;
}

static int copy_name(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

int hint_parse_prefix(const char *prefix, struct hint_prefix *ret)
{
	struct hint_prefix p;
	size_t hl = strlen(PREFIX_HEAD);
	int rc;

	if (!prefix || strncmp(prefix, PREFIX_HEAD, hl) != 0 || prefix[hl] != ' ')
		return -ENOMSG;
	memset(&p, 0, sizeof(p));
	const char *s = prefix + hl;
	while (*s == ' ')
		s++;
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n == 0)
		return -ENOMSG;

	/* Split off a trailing action word. */
	const char *rule = s;
	size_t rule_len = n;
	const char *sp = NULL;
	for (size_t i = n; i > 0; i--)
		if (s[i - 1] == ' ') {
			sp = s + i - 1;
			break;
		}
	if (sp) {
		const char *w = sp + 1;
		int a = action_from_word(w, (size_t)(s + n - w));
		if (a >= 0) {
			p.action = (enum hint_action)a;
			rule_len = (size_t)(sp - s);
			while (rule_len > 0 && s[rule_len - 1] == ' ')
				rule_len--;
		} else {
			p.action = action_in_word(w, (size_t)(s + n - w));
		}
	} else {
		p.action = action_in_word(s, n);
	}
	if (rule_len == 0)
		return -ENOMSG;
	if ((rc = copy_name(p.rule_name, sizeof(p.rule_name), rule, rule_len)) < 0)
		return rc;

	/* "<from>-to-<to>" names the zone pair. */
	const char *to = NULL;
	for (size_t i = 1; i + 4 < rule_len; i++)
		if (memcmp(rule + i, "-to-", 4) == 0) {
			to = rule + i;
			break;
		}
	if (to && !memchr(rule, ' ', rule_len)) {
		if ((rc = copy_name(p.zone_from, sizeof(p.zone_from), rule, (size_t)(to - rule))) <
			0 ||
		    (rc = copy_name(p.zone_to, sizeof(p.zone_to), to + 4,
				    (size_t)(rule + rule_len - to - 4))) < 0)
			return rc;
	} else if (rule_len == 5 && memcmp(rule, "input", 5) == 0) {
		strcpy(p.zone_to, "local");
	}
	*ret = p;
	return 0;
}

struct hint_key {
	const char *name;
	size_t off;
};

#define K(f)                                                                                       \
	{                                                                                          \
		"dpi." #f, offsetof(struct hint_fields, f)                                         \
	}
static const struct hint_key keys[] = {
    K(app),
    K(engine),
    K(source),
    K(category),
    K(detected_protocol),
    K(master_protocol),
    K(application_protocol),
    K(classification_category),
    K(classification_confidence),
    K(risk),
    K(reason),
    K(tls_sni),
    K(http_host),
    K(dns_query),
    K(confidence),
};
#undef K
_Static_assert(sizeof(keys) / sizeof(keys[0]) == 15, "hint keys");

/* Counting writer: writes only while pos < cap, so a first pass with cap 0 measures. */
struct wr {
	char *buf;
	size_t cap;
	size_t pos;
};

static void wr_c(struct wr *w, char c)
{
	if (w->pos < w->cap)
		w->buf[w->pos] = c;
	w->pos++;
}

static void wr_s(struct wr *w, const char *s)
{
	while (*s)
		wr_c(w, *s++);
}

static void wr_esc(struct wr *w, const char *s, bool text)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		bool esc = c == '%' || c < 0x20 || c == 0x7f;
		if (!text)
			esc = esc || c == ' ' || c == '=';
		else if (i == 0 && strncmp(s, "dpi.", 4) == 0)
			esc = true;
		if (esc) {
			wr_c(w, '%');
			wr_c(w, hex[c >> 4]);
			wr_c(w, hex[c & 15]);
		} else {
			wr_c(w, (char)c);
		}
	}
}

static void build(const struct hint_fields *f, struct wr *w)
{
	wr_esc(w, f->tag, false);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = (const char *)f + keys[i].off;
		if (!v[0])
			continue;
		wr_c(w, ' ');
		wr_s(w, keys[i].name);
		wr_c(w, '=');
		wr_esc(w, v, false);
	}
	if (f->text[0]) {
		wr_c(w, ' ');
		wr_esc(w, f->text, true);
	}
	wr_c(w, '\0');
}

int hint_build(const struct hint_fields *f, char *buf, size_t len)
{
	struct wr w = {NULL, 0, 0};
	if (!f || !f->tag[0] || strnlen(f->tag, sizeof(f->tag)) == sizeof(f->tag))
		return -EINVAL;
	build(f, &w);
	if (w.pos > len)
		return -ENOSPC;
	w = (struct wr){buf, len, 0};
	build(f, &w);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..n) into dst (cap bytes with NUL). */
static int unescape(char *dst, size_t cap, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= n)
				return -EINVAL;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 >= cap)
			return -EMSGSIZE;
		dst[o++] = c;
	}
	dst[o] = '\0';
	return 0;
}

int hint_parse(const char *hint, struct hint_fields *ret)
{
	struct hint_fields *f;
	int rc;

	if (!hint || !hint[0])
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	const char *p = hint;
	size_t n = strcspn(p, " ");
	if (n == 0) {
		rc = -EINVAL;
		goto out;
	}
	if ((rc = unescape(f->tag, sizeof(f->tag), p, n)) < 0)
		goto out;
	p += n;
	while (*p == ' ') {
		const char *t = p + 1;
		n = strcspn(t, " ");
		if (n < 5 || strncmp(t, "dpi.", 4) != 0 || !memchr(t, '=', n))
			break;
		size_t kl = (size_t)((const char *)memchr(t, '=', n) - t);
		p = t + n;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (strlen(keys[i].name) != kl || memcmp(keys[i].name, t, kl) != 0)
				continue;
			/* a repeated key: clear the old value so equal hints compare equal */
			memset((char *)f + keys[i].off, 0, HINT_VALUE_MAX);
			if ((rc = unescape((char *)f + keys[i].off, HINT_VALUE_MAX, t + kl + 1,
					   n - kl - 1)) < 0)
				goto out;
			break;
		}
	}
	if (*p == ' ') {
		p++;
		if ((rc = unescape(f->text, sizeof(f->text), p, strlen(p))) < 0)
			goto out;
	}
	*ret = *f;
	rc = 0;
out:
	free(f);
	return rc;
}

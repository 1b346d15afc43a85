/* Text line inputs: kernel log kv lines, JSON objects (ours and ulogd2's) and tcpdump -tt
 * lines on an nflog interface, each parsed into one struct lentry. Every scan is bounded by
 * the line's length; the line itself is never modified. */
#include "lines.h"

#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/packet.h"
#include "entry.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

#define NS_PER_SEC 1000000000ull
#define ERR_TEXT   64 /* bytes of input quoted in an error message */

static const char *const format_names[] = {
    [LINES_AUTO] = "auto",
    [LINES_JSON] = "json",
    [LINES_KV] = "kv",
    [LINES_TCPDUMP] = "nflog-tcpdump",
};
_Static_assert(sizeof(format_names) / sizeof(format_names[0]) == LINES__COUNT,
	       "format_names out of sync with enum lines_format");

static const struct {
	const char *name;
	uint8_t bit;
} tcp_flag_words[] = {
    {"FIN", TCP_FIN}, {"SYN", TCP_SYN}, {"RST", TCP_RST}, {"PSH", TCP_PSH},
    {"ACK", TCP_ACK}, {"URG", TCP_URG}, {"ECE", TCP_ECE}, {"CWR", TCP_CWR},
};

/* A slice of the input line: never NUL-terminated. */
struct span {
	const char *p;
	size_t n;
};

#define SPAN_ARG(s) (int)((s).n > ERR_TEXT ? ERR_TEXT : (s).n), (s).p

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
						      ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---- spans and numbers ------------------------------------------------------------------ */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static struct span span_trim(struct span s)
{
	while (s.n && is_blank(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && is_blank(s.p[s.n - 1]))
		s.n--;
	return s;
}

static bool span_eq(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n == n && memcmp(s.p, lit, n) == 0;
}

static bool span_starts(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n >= n && memcmp(s.p, lit, n) == 0;
}

/* First occurrence of lit in s, or NULL. */
static const char *span_find(struct span s, const char *lit)
{
	return memmem(s.p, s.n, lit, strlen(lit));
}

/* Last occurrence of lit in s, or NULL. */
static const char *span_rfind(struct span s, const char *lit)
{
	const char *last = NULL, *p;
	struct span t = s;
	while ((p = span_find(t, lit)) != NULL) {
		last = p;
		t.n -= (size_t)(p + 1 - t.p);
		t.p = p + 1;
	}
	return last;
}

/* Next blank-separated token from *cur (< end); false at the end of the line. */
static bool next_token(const char **cur, const char *end, struct span *tok)
{
	const char *p = *cur;
	while (p < end && is_blank(*p))
		p++;
	if (p == end) {
		*cur = p;
		return false;
	}
	tok->p = p;
	while (p < end && !is_blank(*p))
		p++;
	tok->n = (size_t)(p - tok->p);
	*cur = p;
	return true;
}

/* Copies s into buf as a C string; false when it does not fit. */
static bool span_cstr(struct span s, char *buf, size_t len)
{
	if (s.n >= len)
		return false;
	memcpy(buf, s.p, s.n);
	buf[s.n] = '\0';
	return true;
}

/* Decimal digits only, value <= max. */
static int parse_uint(struct span s, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	if (s.n == 0)
		return -EINVAL;
	for (size_t i = 0; i < s.n; i++) {
		if (!is_digit(s.p[i]))
			return -EINVAL;
		unsigned d = (unsigned)(s.p[i] - '0');
		if (v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

/* Fraction digits after a '.' as nanoseconds (digits beyond the ninth are dropped). */
static int parse_frac_ns(struct span s, uint64_t *ret)
{
	uint64_t v = 0, scale = NS_PER_SEC;
	if (s.n == 0)
		return -EINVAL;
	for (size_t i = 0; i < s.n; i++) {
		if (!is_digit(s.p[i]))
			return -EINVAL;
		if (scale > 1) {
			scale /= 10;
			v += (uint64_t)(s.p[i] - '0') * scale;
		}
	}
	*ret = v;
	return 0;
}

/* "1732615200", "1732615200.123456": unix seconds with an optional fraction -> ns. */
static int parse_unix_ts(struct span s, uint64_t *ret)
{
	const char *dot = memchr(s.p, '.', s.n);
	struct span sec = {s.p, dot ? (size_t)(dot - s.p) : s.n};
	uint64_t secs, frac = 0;
	if (parse_uint(sec, UINT64_MAX / NS_PER_SEC - 1, &secs) < 0)
		return -EINVAL;
	if (dot && parse_frac_ns((struct span){dot + 1, s.n - sec.n - 1}, &frac) < 0)
		return -EINVAL;
	*ret = secs * NS_PER_SEC + frac;
	return 0;
}

static bool take_digits(const char **p, const char *end, int n, int *ret)
{
	int v = 0;
	if (end - *p < n)
		return false;
	for (int i = 0; i < n; i++) {
		if (!is_digit((*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

static bool take_char(const char **p, const char *end, char c)
{
	if (*p < end && **p == c) {
		(*p)++;
		return true;
	}
	return false;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dim[m - 1];
}

/* RFC 3339 and ulogd's variant: "2026-11-26T10:00:00[.frac](Z|+HH:MM|+HHMM)", 'T' or ' ';
 * no zone means UTC. */
static int parse_rfc3339(struct span s, uint64_t *ret)
{
	const char *p = s.p, *end = s.p + s.n;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	uint64_t frac = 0;

	if (!take_digits(&p, end, 4, &y) || !take_char(&p, end, '-') ||
	    !take_digits(&p, end, 2, &mo) || !take_char(&p, end, '-') ||
	    !take_digits(&p, end, 2, &d) ||
	    !(take_char(&p, end, 'T') || take_char(&p, end, 't') || take_char(&p, end, ' ')) ||
	    !take_digits(&p, end, 2, &h) || !take_char(&p, end, ':') ||
	    !take_digits(&p, end, 2, &mi) || !take_char(&p, end, ':') ||
	    !take_digits(&p, end, 2, &sec))
		return -EINVAL;
	if (y < 1970 || y > 2500 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	if (take_char(&p, end, '.')) {
		const char *f = p;
		while (p < end && is_digit(*p))
			p++;
		if (parse_frac_ns((struct span){f, (size_t)(p - f)}, &frac) < 0)
			return -EINVAL;
	}
	if (take_char(&p, end, 'Z') || take_char(&p, end, 'z')) {
		sign = 0;
	} else if (p < end && (*p == '+' || *p == '-')) {
		sign = *p++ == '-' ? -1 : 1;
		if (!take_digits(&p, end, 2, &oh))
			return -EINVAL;
		take_char(&p, end, ':');
		if (!take_digits(&p, end, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
	}
	if (p != end)
		return -EINVAL;
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
		    sign * (oh * 3600 + om * 60);
	if (t < 0)
		return -EINVAL;
	*ret = (uint64_t)t * NS_PER_SEC + frac;
	return 0;
}

/* ---- shared field parsers ----------------------------------------------------------------- */

static int parse_addr(struct span s, uint8_t addr[16], int *l3)
{
	char buf[RDPI_ADDR_STRLEN + 16];
	if (!span_cstr(s, buf, sizeof(buf)))
		return -EINVAL;
	return rdpi_addr_parse(buf, addr, l3);
}

/* Names rdpi_l4proto_parse() knows plus the ones the kernel log and tcpdump print. */
static int parse_proto(struct span s, uint8_t *ret)
{
	static const struct {
		const char *name;
		uint8_t proto;
	} extra[] = {
	    {"udplite", IPPROTO_UDPLITE}, {"dccp", IPPROTO_DCCP}, {"icmp6", IPPROTO_ICMPV6}};
	char buf[32];
	if (!span_cstr(s, buf, sizeof(buf)))
		return -EINVAL;
	if (rdpi_l4proto_parse(buf, ret) == 0)
		return 0;
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		if (strcasecmp(buf, extra[i].name) == 0) {
			*ret = extra[i].proto;
			return 0;
		}
	}
	return -EINVAL;
}

/* Upper-case flag word -> bit; 0 for anything else. */
static uint8_t tcp_flag_word(struct span w)
{
	for (size_t i = 0; i < sizeof(tcp_flag_words) / sizeof(tcp_flag_words[0]); i++)
		if (w.n == 3 && strncasecmp(w.p, tcp_flag_words[i].name, 3) == 0)
			return tcp_flag_words[i].bit;
	return 0;
}

static void finish(struct lentry *e)
{
	if (!e->has_ports) {
		e->sport = 0;
		e->dport = 0;
	}
	if (!e->has_tcp_flags)
		e->tcp_flags = 0;
	lentry_make_key(e);
}

/* ---- kv: kernel log lines ----------------------------------------------------------------- */

static bool kv_is_field(struct span tok)
{
	return span_starts(tok, "IN=") || span_starts(tok, "OUT=") || span_starts(tok, "MAC=") ||
	       span_starts(tok, "SRC=");
}

/* The nft/iptables prefix inside the text before the first field: from "routerd firewall",
 * else after the syslog/journal part ("...kernel: [uptime] "), else the whole head minus a
 * leading timestamp. */
static struct span kv_prefix(struct span head, bool head_ts)
{
	const char *p = span_find(head, "routerd firewall");
	if (!p)
		p = span_rfind(head, "] ");
	if (p && *p == ']')
		p += 2;
	if (!p) {
		p = span_rfind(head, "kernel: ");
		if (p)
			p += strlen("kernel: ");
	}
	if (!p && head_ts) {
		struct span tok;
		const char *cur = head.p;
		next_token(&cur, head.p + head.n, &tok);
		p = cur;
	}
	if (!p)
		p = head.p;
	return (struct span){p, (size_t)(head.p + head.n - p)};
}

static int parse_kv(struct span s, uint64_t ts, struct lentry *e, char *err, size_t errlen)
{
	const char *cur = s.p, *end = s.p + s.n, *fields = NULL;
	struct span tok, srcv = {0}, dstv = {0};
	bool head_ts = false, have_src = false, have_dst = false, have_proto = false;
	bool have_spt = false, have_dpt = false;
	uint8_t dst[16], flags = 0;
	int l3s = 0, l3d = 0;
	uint64_t v;

	snprintf(e->tag, sizeof(e->tag), "%s", LENTRY_TAG_KV);
	while (next_token(&cur, end, &tok)) {
		if (kv_is_field(tok)) {
			fields = tok.p;
			break;
		}
	}
	if (!fields)
		return fail(err, errlen, "kv: no IN= or SRC= field");

	struct span head = {s.p, (size_t)(fields - s.p)};
	cur = head.p;
	if (next_token(&cur, head.p + head.n, &tok) &&
	    (parse_unix_ts(tok, &v) == 0 || parse_rfc3339(tok, &v) == 0)) {
		ts = v;
		head_ts = true;
	}
	char prefix[HINT_PREFIX_RULE_MAX * 2];
	struct span pfx = kv_prefix(head, head_ts);
	if (pfx.n >= sizeof(prefix))
		pfx.n = sizeof(prefix) - 1;
	span_cstr(pfx, prefix, sizeof(prefix));
	lentry_set_prefix(e, prefix);

	cur = fields;
	while (next_token(&cur, end, &tok)) {
		/* ICMP errors quote the offending packet in brackets: not ours */
		if (tok.p[0] == '[')
			break;
		const char *eq = memchr(tok.p, '=', tok.n);
		if (!eq) {
			flags |= tcp_flag_word(tok);
			continue;
		}
		struct span key = {tok.p, (size_t)(eq - tok.p)};
		struct span val = {eq + 1, tok.n - key.n - 1};
		if (span_eq(key, "IN") || span_eq(key, "OUT")) {
			char *dstbuf = key.n == 2 ? e->in_iface : e->out_iface;
			if (!span_cstr(val, dstbuf, IF_NAMESIZE))
				return fail(err, errlen, "kv: %.*s: interface name too long",
					    SPAN_ARG(tok));
		} else if (span_eq(key, "SRC")) {
			if (parse_addr(val, e->src, &l3s) < 0)
				return fail(err, errlen, "kv: %.*s: bad address", SPAN_ARG(tok));
			have_src = true;
			srcv = val;
		} else if (span_eq(key, "DST")) {
			if (parse_addr(val, dst, &l3d) < 0)
				return fail(err, errlen, "kv: %.*s: bad address", SPAN_ARG(tok));
			memcpy(e->dst, dst, 16);
			have_dst = true;
			dstv = val;
		} else if (span_eq(key, "LEN") && !have_proto) {
			/* the IP length; UDP prints its own LEN= after the ports */
			if (parse_uint(val, UINT32_MAX, &v) < 0)
				return fail(err, errlen, "kv: %.*s: bad length", SPAN_ARG(tok));
			e->packet_bytes = (uint32_t)v;
		} else if (span_eq(key, "PROTO")) {
			if (parse_proto(val, &e->l4proto) < 0)
				return fail(err, errlen, "kv: %.*s: unknown protocol",
					    SPAN_ARG(tok));
			have_proto = true;
		} else if (span_eq(key, "SPT") || span_eq(key, "DPT")) {
			int rv = parse_uint(val, 65535, &v);
			if (rv < 0)
				return fail(err, errlen, "kv: %.*s: %s", SPAN_ARG(tok),
					    rv == -ERANGE ? "port > 65535" : "bad port");
			if (key.p[0] == 'S') {
				e->sport = (uint16_t)v;
				have_spt = true;
			} else {
				e->dport = (uint16_t)v;
				have_dpt = true;
			}
		} else if (span_eq(key, "TS")) {
			if (parse_unix_ts(val, &ts) < 0 && parse_rfc3339(val, &ts) < 0)
				return fail(err, errlen, "kv: %.*s: bad timestamp", SPAN_ARG(tok));
		}
	}
	if (!have_src || !have_dst)
		return fail(err, errlen, "kv: missing %s= (truncated line?)",
			    have_src ? "DST" : "SRC");
	if (!have_proto)
		return fail(err, errlen, "kv: missing PROTO= (truncated line?)");
	if (l3s != l3d)
		return fail(err, errlen, "kv: SRC=%.*s and DST=%.*s are different families",
			    SPAN_ARG(srcv), SPAN_ARG(dstv));
	if (rdpi_l4proto_has_ports(e->l4proto) && have_spt != have_dpt)
		return fail(err, errlen, "kv: %s= without %s= (truncated line?)",
			    have_spt ? "SPT" : "DPT", have_spt ? "DPT" : "SPT");
	e->ts_ns = ts;
	e->l3 = (uint8_t)l3s;
	e->has_ports = rdpi_l4proto_has_ports(e->l4proto) && have_spt && have_dpt;
	/* the kernel prints the flag words only with the TCP header (not for later fragments) */
	e->has_tcp_flags = e->l4proto == IPPROTO_TCP && have_spt;
	e->tcp_flags = flags;
	finish(e);
	return 0;
}

/* ---- json: our columns and ulogd2's JSON output ------------------------------------------ */

struct jfield {
	const char *key; /* the key found, for messages */
	json_t *v;	 /* NULL when absent (JSON null counts as absent) */
};

static struct jfield jget(json_t *o, const char *const *keys)
{
	for (; *keys; keys++) {
		json_t *v = json_object_get(o, *keys);
		if (v && !json_is_null(v))
			return (struct jfield){*keys, v};
	}
	return (struct jfield){NULL, NULL};
}

#define JKEYS(...) ((const char *const[]){__VA_ARGS__, NULL})

static int jstring(struct jfield f, const char **ret, char *err, size_t errlen)
{
	if (!json_is_string(f.v))
		return fail(err, errlen, "json: %s: expected a string", f.key);
	*ret = json_string_value(f.v);
	return 0;
}

static int jint(struct jfield f, json_int_t min, json_int_t max, json_int_t *ret, char *err,
		size_t errlen)
{
	if (!json_is_integer(f.v))
		return fail(err, errlen, "json: %s: expected an integer", f.key);
	json_int_t v = json_integer_value(f.v);
	if (v < min || v > max)
		return fail(err, errlen, "json: %s: %lld out of range %lld..%lld", f.key,
			    (long long)v, (long long)min, (long long)max);
	*ret = v;
	return 0;
}

/* A name that must fit a fixed field (interfaces, zones, rule). */
static int jname(json_t *o, const char *const *keys, char *buf, size_t len, char *err,
		 size_t errlen)
{
	struct jfield f = jget(o, keys);
	const char *s = NULL;
	if (!f.v)
		return 0;
	if (jstring(f, &s, err, errlen) < 0)
		return -EINVAL;
	if (strlen(s) >= len)
		return fail(err, errlen, "json: %s: longer than %zu bytes", f.key, len - 1);
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

static int json_addr(json_t *o, const char *const *keys, const char *what, uint8_t addr[16],
		     int *l3, char *err, size_t errlen)
{
	struct jfield f = jget(o, keys);
	const char *s = NULL;
	if (!f.v)
		return fail(err, errlen, "json: missing %s", what);
	if (jstring(f, &s, err, errlen) < 0)
		return -EINVAL;
	if (rdpi_addr_parse(s, addr, l3) < 0)
		return fail(err, errlen, "json: %s=%.*s: bad address", f.key, ERR_TEXT, s);
	return 0;
}

static int json_port(json_t *o, const char *const *keys, uint16_t *port, bool *has, char *err,
		     size_t errlen)
{
	struct jfield f = jget(o, keys);
	json_int_t v;
	if (!f.v)
		return 0;
	if (json_is_integer(f.v) && json_integer_value(f.v) > 65535)
		return fail(err, errlen, "json: %s: port > 65535", f.key);
	if (jint(f, 0, 65535, &v, err, errlen) < 0)
		return -EINVAL;
	*port = (uint16_t)v;
	*has = true;
	return 0;
}

static int json_proto(json_t *o, uint8_t *ret, char *err, size_t errlen)
{
	struct jfield f = jget(o, JKEYS("protocol", "ip.protocol"));
	json_int_t v;
	if (!f.v)
		return fail(err, errlen, "json: missing protocol");
	if (json_is_string(f.v)) {
		const char *s = json_string_value(f.v);
		if (parse_proto((struct span){s, strlen(s)}, ret) < 0)
			return fail(err, errlen, "json: %s=%.*s: unknown protocol", f.key, ERR_TEXT,
				    s);
		return 0;
	}
	if (jint(f, 0, 255, &v, err, errlen) < 0)
		return -EINVAL;
	*ret = (uint8_t)v;
	return 0;
}

/* l3_proto "ipv4"/"ipv6" or oob.family 2/10, checked against the addresses: 0 or 4/6. */
static int json_family(json_t *o, int *ret, char *err, size_t errlen)
{
	struct jfield f = jget(o, JKEYS("l3_proto"));
	const char *s = NULL;
	json_int_t v;
	*ret = 0;
	if (f.v) {
		if (jstring(f, &s, err, errlen) < 0)
			return -EINVAL;
		if (strcasecmp(s, "ipv4") == 0)
			*ret = 4;
		else if (strcasecmp(s, "ipv6") == 0)
			*ret = 6;
		else
			return fail(err, errlen, "json: l3_proto=%.*s: expected ipv4 or ipv6",
				    ERR_TEXT, s);
		return 0;
	}
	f = jget(o, JKEYS("oob.family"));
	if (!f.v)
		return 0;
	if (jint(f, 0, 255, &v, err, errlen) < 0)
		return -EINVAL;
	if (v != 2 && v != 10)
		return fail(err, errlen, "json: oob.family=%lld: expected 2 or 10", (long long)v);
	*ret = v == 2 ? 4 : 6;
	return 0;
}

static int json_tcp_flags(json_t *o, struct lentry *e, char *err, size_t errlen)
{
	static const struct {
		const char *key;
		uint8_t bit;
	} bools[] = {{"tcp.fin", TCP_FIN}, {"tcp.syn", TCP_SYN}, {"tcp.rst", TCP_RST},
		     {"tcp.psh", TCP_PSH}, {"tcp.ack", TCP_ACK}, {"tcp.urg", TCP_URG},
		     {"tcp.ece", TCP_ECE}, {"tcp.cwr", TCP_CWR}};
	struct jfield f = jget(o, JKEYS("tcp_flags"));
	json_int_t v;

	if (f.v && json_is_integer(f.v)) {
		if (jint(f, 0, 255, &v, err, errlen) < 0)
			return -EINVAL;
		e->tcp_flags = (uint8_t)v;
		e->has_tcp_flags = true;
		return 0;
	}
	if (f.v) {
		const char *s = NULL;
		if (jstring(f, &s, err, errlen) < 0)
			return -EINVAL;
		struct span w = {s, 0};
		for (const char *p = s;; p++) {
			if (*p && *p != ',' && *p != ' ' && *p != '|') {
				w.n++;
				continue;
			}
			if (w.n) {
				uint8_t bit = tcp_flag_word(w);
				if (!bit)
					return fail(err, errlen,
						    "json: tcp_flags: unknown flag %.*s",
						    SPAN_ARG(w));
				e->tcp_flags |= bit;
			}
			if (!*p)
				break;
			w = (struct span){p + 1, 0};
		}
		e->has_tcp_flags = true;
		return 0;
	}
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		json_t *b = json_object_get(o, bools[i].key);
		if (!b || json_is_null(b))
			continue;
		if (json_is_boolean(b)) {
			if (json_is_true(b))
				e->tcp_flags |= bools[i].bit;
		} else if (json_is_integer(b) &&
			   (json_integer_value(b) == 0 || json_integer_value(b) == 1)) {
			if (json_integer_value(b))
				e->tcp_flags |= bools[i].bit;
		} else {
			return fail(err, errlen, "json: %s: expected a boolean", bools[i].key);
		}
		e->has_tcp_flags = true;
	}
	return 0;
}

static int json_ts(json_t *o, uint64_t *ts, char *err, size_t errlen)
{
	struct jfield f = jget(o, JKEYS("ts", "timestamp"));
	json_int_t sec, usec = 0;

	if (f.v) {
		if (json_is_integer(f.v) && strcmp(f.key, "ts") == 0) {
			if (json_integer_value(f.v) < 0)
				return fail(err, errlen, "json: ts: negative");
			*ts = (uint64_t)json_integer_value(f.v);
			return 0;
		}
		if (!json_is_string(f.v))
			return fail(err, errlen, "json: %s: expected %sRFC 3339 string", f.key,
				    strcmp(f.key, "ts") == 0 ? "unix ns or an " : "an ");
		const char *s = json_string_value(f.v);
		if (parse_rfc3339((struct span){s, strlen(s)}, ts) < 0)
			return fail(err, errlen, "json: %s=%.*s: bad timestamp", f.key, ERR_TEXT,
				    s);
		return 0;
	}
	f = jget(o, JKEYS("oob.time.sec"));
	if (!f.v)
		return 0;
	if (jint(f, 0, (json_int_t)(UINT64_MAX / NS_PER_SEC - 1), &sec, err, errlen) < 0)
		return -EINVAL;
	f = jget(o, JKEYS("oob.time.usec"));
	if (f.v && jint(f, 0, 999999, &usec, err, errlen) < 0)
		return -EINVAL;
	*ts = (uint64_t)sec * NS_PER_SEC + (uint64_t)usec * 1000;
	return 0;
}

/* Prefix, then the explicit columns over what the prefix said. */
static int json_rule(json_t *o, struct lentry *e, char *err, size_t errlen)
{
	struct jfield f = jget(o, JKEYS("prefix", "oob.prefix"));
	const char *s = "";
	char rule[sizeof(e->pfx.rule_name)] = "";
	if (f.v && jstring(f, &s, err, errlen) < 0)
		return -EINVAL;
	lentry_set_prefix(e, s);
	if (jname(o, JKEYS("zone_from"), e->pfx.zone_from, sizeof(e->pfx.zone_from), err, errlen) <
		0 ||
	    jname(o, JKEYS("zone_to"), e->pfx.zone_to, sizeof(e->pfx.zone_to), err, errlen) < 0 ||
	    jname(o, JKEYS("rule_name"), rule, sizeof(rule), err, errlen) < 0)
		return -EINVAL;
	/* an empty rule_name keeps the prefix's (rows always name a rule) */
	if (rule[0])
		memcpy(e->pfx.rule_name, rule, sizeof(rule));
	f = jget(o, JKEYS("action"));
	if (!f.v)
		return 0;
	if (jstring(f, &s, err, errlen) < 0)
		return -EINVAL;
	for (int a = 0; a < HINT_ACTION__COUNT; a++) {
		if (strcasecmp(s, hint_action_name((enum hint_action)a)) == 0) {
			e->pfx.action = (enum hint_action)a;
			return 0;
		}
	}
	return fail(err, errlen, "json: action=%.*s: expected accept, deny, drop or reject",
		    ERR_TEXT, s);
}

static int json_fields(json_t *o, uint64_t ts, struct lentry *e, char *err, size_t errlen)
{
	bool has_sport = false, has_dport = false;
	int l3s, l3d, fam;
	json_int_t v;

	if (json_rule(o, e, err, errlen) < 0 ||
	    json_addr(o, JKEYS("src_address", "src_ip", "saddr"), "src_address", e->src, &l3s, err,
		      errlen) < 0 ||
	    json_addr(o, JKEYS("dst_address", "dest_ip", "daddr"), "dst_address", e->dst, &l3d, err,
		      errlen) < 0 ||
	    json_family(o, &fam, err, errlen) < 0 || json_proto(o, &e->l4proto, err, errlen) < 0 ||
	    json_port(o, JKEYS("src_port", "sport"), &e->sport, &has_sport, err, errlen) < 0 ||
	    json_port(o, JKEYS("dst_port", "dport", "dest_port"), &e->dport, &has_dport, err,
		      errlen) < 0 ||
	    jname(o, JKEYS("in_iface", "oob.in"), e->in_iface, sizeof(e->in_iface), err, errlen) <
		0 ||
	    jname(o, JKEYS("out_iface", "oob.out"), e->out_iface, sizeof(e->out_iface), err,
		  errlen) < 0 ||
	    json_tcp_flags(o, e, err, errlen) < 0 || json_ts(o, &ts, err, errlen) < 0)
		return -EINVAL;
	if (l3s != l3d)
		return fail(err, errlen, "json: source and destination are different families");
	if (fam && fam != l3s)
		return fail(err, errlen, "json: address family IPv%d contradicts l3_proto IPv%d",
			    l3s, fam);
	struct jfield f = jget(o, JKEYS("packet_bytes", "ip.totlen", "raw.pktlen"));
	if (f.v) {
		if (jint(f, 0, UINT32_MAX, &v, err, errlen) < 0)
			return -EINVAL;
		e->packet_bytes = (uint32_t)v;
	}
	e->ts_ns = ts;
	e->l3 = (uint8_t)l3s;
	e->has_ports = rdpi_l4proto_has_ports(e->l4proto) && has_sport && has_dport;
	if (e->l4proto != IPPROTO_TCP)
		e->has_tcp_flags = false;
	finish(e);
	return 0;
}

static int parse_json(struct span s, uint64_t ts, struct lentry *e, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o;
	int rv;

	snprintf(e->tag, sizeof(e->tag), "%s", LENTRY_TAG_JSON);
	/* a NUL inside the object would end the C string; the span never contains one */
	o = json_loadb(s.p, s.n, 0, &jerr);
	if (!o)
		return fail(err, errlen, "json: %s (column %d)", jerr.text, jerr.column);
	if (!json_is_object(o))
		rv = fail(err, errlen, "json: expected an object, got %s",
			  json_is_array(o) ? "an array" : "a scalar");
	else
		rv = json_fields(o, ts, e, err, errlen);
	json_decref(o);
	return rv;
}

/* ---- nflog-tcpdump: tcpdump -n -tt [-v] [-e] -i nflog:N ------------------------------------ */

struct td_head {
	bool has_ts;
	uint64_t ts;
	int l3;
	bool has_hdr;	  /* -v "(tos ..., length N)" block */
	struct span hdr;  /* inside the parentheses */
	const char *rest; /* after the IP word and header */
};

static bool td_ip_word(struct span t, int *l3)
{
	if (span_eq(t, "IP")) {
		*l3 = 4;
		return true;
	}
	if (span_eq(t, "IP6")) {
		*l3 = 6;
		return true;
	}
	return false;
}

/* Timestamp, IP word (after an -e link header when allow_e) and the -v header block.
 * -EINVAL when the line is not tcpdump-shaped, -EBADMSG for an unterminated header. */
static int td_split(struct span s, bool allow_e, struct td_head *h)
{
	const char *cur = s.p, *end = s.p + s.n;
	struct span tok;

	memset(h, 0, sizeof(*h));
	if (!next_token(&cur, end, &tok))
		return -EINVAL;
	if (!td_ip_word(tok, &h->l3)) {
		if (parse_unix_ts(tok, &h->ts) < 0)
			return -EINVAL;
		h->has_ts = true;
		const char *after_ts = cur;
		if (!next_token(&cur, end, &tok) || !td_ip_word(tok, &h->l3)) {
			/* -e: "<ts> version 0, resource ID 1, family IPv4, length 80: IP ..." */
			struct span r = {after_ts, (size_t)(end - after_ts)};
			const char *ip = span_find(r, ": IP ");
			const char *ip6 = span_find(r, ": IP6 ");
			if (!allow_e || (!ip && !ip6))
				return -EINVAL;
			if (!ip || (ip6 && ip6 < ip))
				ip = ip6;
			cur = ip + 2;
			next_token(&cur, end, &tok);
			td_ip_word(tok, &h->l3);
		}
	}
	while (cur < end && is_blank(*cur))
		cur++;
	if (cur < end && *cur == '(') {
		int depth = 0;
		const char *p = cur;
		for (; p < end; p++) {
			if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0)
				break;
		}
		if (p == end)
			return -EBADMSG;
		h->has_hdr = true;
		h->hdr = (struct span){cur + 1, (size_t)(p - cur - 1)};
		cur = p + 1;
	}
	while (cur < end && is_blank(*cur))
		cur++;
	h->rest = cur;
	return 0;
}

/* "proto TCP (6)" (IPv4) or "next-header UDP (17)" (IPv6) inside the -v header. */
static bool td_hdr_proto(struct span hdr, uint8_t *ret)
{
	const char *p = span_find(hdr, "proto ");
	if (!p)
		p = span_find(hdr, "next-header ");
	if (!p)
		return false;
	struct span r = {p, (size_t)(hdr.p + hdr.n - p)};
	const char *open = span_find(r, " (");
	if (!open)
		return false;
	r = (struct span){open + 2, (size_t)(hdr.p + hdr.n - open - 2)};
	const char *close = memchr(r.p, ')', r.n);
	uint64_t v;
	if (!close || parse_uint((struct span){r.p, (size_t)(close - r.p)}, 255, &v) < 0)
		return false;
	*ret = (uint8_t)v;
	return true;
}

/* IP length from the -v header: IPv4 ", length 60", IPv6 "payload length: 40" (+ 40). */
static bool td_hdr_len(struct span hdr, uint32_t *ret)
{
	const char *p = span_find(hdr, "payload length: ");
	uint32_t add = 40;
	uint64_t v;
	if (p) {
		p += strlen("payload length: ");
	} else if (span_starts(hdr, "length ")) {
		p = hdr.p + strlen("length ");
		add = 0;
	} else if ((p = span_find(hdr, ", length ")) != NULL) {
		p += strlen(", length ");
		add = 0;
	} else {
		return false;
	}
	const char *q = p, *end = hdr.p + hdr.n;
	while (q < end && is_digit(*q))
		q++;
	if (parse_uint((struct span){p, (size_t)(q - p)}, UINT32_MAX - add, &v) < 0)
		return false;
	*ret = (uint32_t)v + add;
	return true;
}

/* "192.0.2.10.40000", "2001:db8::1.5353" or a bare address: split at the last '.'. */
static int td_endpoint(struct span t, uint8_t addr[16], int *l3, uint16_t *port, bool *has_port)
{
	const char *dot = memrchr(t.p, '.', t.n);
	uint64_t v;
	*has_port = false;
	if (dot) {
		struct span a = {t.p, (size_t)(dot - t.p)};
		struct span p = {dot + 1, t.n - a.n - 1};
		bool digits = p.n > 0;
		for (size_t i = 0; i < p.n; i++)
			digits = digits && is_digit(p.p[i]);
		if (digits && parse_addr(a, addr, l3) == 0) {
			if (parse_uint(p, 65535, &v) < 0)
				return -ERANGE;
			*port = (uint16_t)v;
			*has_port = true;
			return 0;
		}
	}
	return parse_addr(t, addr, l3);
}

/* Protocol from what tcpdump prints after "src > dst: ". */
static bool td_rest_proto(struct span r, uint8_t *ret)
{
	static const struct {
		const char *word;
		uint8_t proto;
	} words[] = {
	    {"Flags [", IPPROTO_TCP},
	    {"UDP", IPPROTO_UDP},
	    {"ICMP6", IPPROTO_ICMPV6},
	    {"ICMP", IPPROTO_ICMP},
	    {"sctp", IPPROTO_SCTP},
	    {"ESP", IPPROTO_ESP},
	    {"GRE", IPPROTO_GRE},
	    {"igmp", IPPROTO_IGMP},
	    {"IGMP", IPPROTO_IGMP},
	    {"tcp", IPPROTO_TCP},
	    {"udp", IPPROTO_UDP},
	    {"VRRP", 112},
	    {"OSPF", 89},
	    {"PIM", 103},
	};
	uint64_t v;
	if (span_starts(r, "ip-proto-")) {
		const char *p = r.p + 9, *q = p, *end = r.p + r.n;
		while (q < end && is_digit(*q))
			q++;
		if (parse_uint((struct span){p, (size_t)(q - p)}, 255, &v) == 0) {
			*ret = (uint8_t)v;
			return true;
		}
		return false;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (span_starts(r, words[i].word)) {
			*ret = words[i].proto;
			return true;
		}
	}
	return false;
}

/* "Flags [S.]": S SYN, . ACK, F FIN, R RST, P PSH, U URG, E ECE, W CWR; "[none]" is 0. */
static bool td_flags(struct span r, uint8_t *ret)
{
	static const char letters[] = "FSRP.UEW";
	const char *p = span_find(r, "Flags [");
	uint8_t f = 0;
	if (!p)
		return false;
	p += strlen("Flags [");
	const char *end = r.p + r.n, *close = memchr(p, ']', (size_t)(end - p));
	if (!close)
		return false;
	if (!((size_t)(close - p) == 4 && memcmp(p, "none", 4) == 0)) {
		for (; p < close; p++) {
			const char *l = memchr(letters, *p, sizeof(letters) - 1);
			if (l)
				f |= (uint8_t)(1u << (l - letters));
		}
	}
	*ret = f;
	return true;
}

static int parse_tcpdump(struct span s, uint64_t ts, struct lentry *e, char *err, size_t errlen)
{
	struct td_head h;
	struct span src, arrow, dst, rest;
	int l3s, l3d, rv;
	bool sp, dp;
	uint8_t flags = 0;

	snprintf(e->tag, sizeof(e->tag), "%s", LENTRY_TAG_TCPDUMP);
	rv = td_split(s, true, &h);
	if (rv == -EBADMSG)
		return fail(err, errlen, "tcpdump: unterminated '(' header (truncated line?)");
	if (rv < 0)
		return fail(err, errlen, "tcpdump: expected \"<unix time> IP|IP6 ...\", got %.*s",
			    SPAN_ARG(s));
	const char *cur = h.rest, *end = s.p + s.n;
	if (cur == end)
		return fail(err, errlen,
			    "tcpdump: -v header without addresses (join it with the "
			    "continuation line)");
	if (!next_token(&cur, end, &src) || !next_token(&cur, end, &arrow) ||
	    !span_eq(arrow, ">") || !next_token(&cur, end, &dst))
		return fail(err, errlen, "tcpdump: expected \"<src> > <dst>:\" (truncated line?)");
	if (dst.p[dst.n - 1] != ':')
		return fail(err, errlen, "tcpdump: %.*s: expected ':' after the destination",
			    SPAN_ARG(dst));
	dst.n--;
	rest = span_trim((struct span){cur, (size_t)(end - cur)});

	struct span bad = src;
	rv = td_endpoint(src, e->src, &l3s, &e->sport, &sp);
	if (rv == 0) {
		bad = dst;
		rv = td_endpoint(dst, e->dst, &l3d, &e->dport, &dp);
	}
	if (rv < 0)
		return fail(err, errlen, "tcpdump: %.*s: %s", SPAN_ARG(bad),
			    rv == -ERANGE ? "port > 65535" : "bad address");
	if (l3s != l3d || l3s != h.l3)
		return fail(err, errlen, "tcpdump: %s line with %.*s > %.*s",
			    h.l3 == 6 ? "IP6" : "IP", SPAN_ARG(src), SPAN_ARG(dst));

	if (!(h.has_hdr && td_hdr_proto(h.hdr, &e->l4proto)) && !td_rest_proto(rest, &e->l4proto)) {
		/* TCP always prints "Flags [", ICMP says so: ports without a word are UDP
		 * decoded as its application (DNS, NTP, ...) */
		if (!sp || !dp)
			return fail(err, errlen, "tcpdump: unknown protocol in \"%.*s\"",
				    SPAN_ARG(rest));
		e->l4proto = IPPROTO_UDP;
	}
	if (h.has_hdr)
		td_hdr_len(h.hdr, &e->packet_bytes);

	char prefix[HINT_PREFIX_RULE_MAX] = "";
	const char *q = span_find(s, "prefix \"");
	if (q) {
		q += strlen("prefix \"");
		const char *qe = memchr(q, '"', (size_t)(end - q));
		if (qe && (size_t)(qe - q) < sizeof(prefix)) {
			memcpy(prefix, q, (size_t)(qe - q));
			prefix[qe - q] = '\0';
		}
	}
	lentry_set_prefix(e, prefix);

	e->ts_ns = h.has_ts ? h.ts : ts;
	e->l3 = (uint8_t)l3s;
	e->has_ports = rdpi_l4proto_has_ports(e->l4proto) && sp && dp;
	if (e->l4proto == IPPROTO_TCP && td_flags(rest, &flags)) {
		e->has_tcp_flags = true;
		e->tcp_flags = flags;
	}
	finish(e);
	return 0;
}

int lines_tcpdump_needs_continuation(const char *line)
{
	struct td_head h;
	if (!line)
		return 0;
	struct span s = span_trim((struct span){line, strlen(line)});
	if (td_split(s, true, &h) < 0)
		return 0;
	return h.has_hdr && h.rest == s.p + s.n;
}

/* ---- entry points ------------------------------------------------------------------------- */

int lines_format_parse(const char *name, enum lines_format *ret)
{
	if (!name)
		return -EINVAL;
	for (int f = 0; f < LINES__COUNT; f++) {
		if (strcmp(name, format_names[f]) == 0) {
			*ret = (enum lines_format)f;
			return 0;
		}
	}
	return -EINVAL;
}

const char *lines_format_name(enum lines_format f)
{
	if ((unsigned)f >= LINES__COUNT)
		return NULL;
	return format_names[f];
}

/* Blank or comment: -ENODATA; otherwise the trimmed line. */
static int line_span(const char *line, struct span *ret)
{
	if (!line)
		return -ENODATA;
	struct span s = span_trim((struct span){line, strlen(line)});
	if (s.n == 0 || s.p[0] == '#')
		return -ENODATA;
	*ret = s;
	return 0;
}

static bool kv_has_token(struct span s, const char *key)
{
	const char *cur = s.p, *end = s.p + s.n;
	struct span tok;
	while (next_token(&cur, end, &tok))
		if (span_starts(tok, key))
			return true;
	return false;
}

static int detect_span(struct span s, enum lines_format *ret)
{
	struct td_head h;
	if (s.p[0] == '{')
		*ret = LINES_JSON;
	else if (td_split(s, false, &h) != -EINVAL)
		*ret = LINES_TCPDUMP;
	else if (kv_has_token(s, "SRC=") && kv_has_token(s, "DST="))
		*ret = LINES_KV;
	else if (td_split(s, true, &h) != -EINVAL)
		*ret = LINES_TCPDUMP;
	else
		return -EINVAL;
	return 0;
}

int lines_detect(const char *line, enum lines_format *ret)
{
	struct span s;
	int rv = line_span(line, &s);
	if (rv < 0)
		return rv;
	return detect_span(s, ret);
}

int lines_parse(enum lines_format f, const char *line, uint64_t fallback_ts_ns, struct lentry *e,
		char *err, size_t errlen)
{
	struct span s;
	int rv;

	memset(e, 0, sizeof(*e));
	if (err && errlen)
		err[0] = '\0';
	rv = line_span(line, &s);
	if (rv < 0)
		return rv;
	if (f == LINES_AUTO && detect_span(s, &f) < 0)
		return fail(err, errlen, "auto: not JSON, kv or tcpdump: %.*s", SPAN_ARG(s));
	switch (f) {
	case LINES_JSON:
		rv = parse_json(s, fallback_ts_ns, e, err, errlen);
		break;
	case LINES_KV:
		rv = parse_kv(s, fallback_ts_ns, e, err, errlen);
		break;
	case LINES_TCPDUMP:
		rv = parse_tcpdump(s, fallback_ts_ns, e, err, errlen);
		break;
	default:
		rv = fail(err, errlen, "unknown input format %d", (int)f);
		break;
	}
	if (rv < 0)
		memset(e, 0, sizeof(*e));
	return rv;
}

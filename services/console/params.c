/* Parsers for the console's query parameters: strict, bounded, no locale. */
#include "params.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "common/duration.h"

#define TEXT_MAX 256

static int fail(const char **msg, const char *m, int rv)
{
	if (msg)
		*msg = m;
	return rv;
}

int params_duration(const char *s, int64_t max_ns, int64_t *ret_ns, const char **msg)
{
	int64_t ns;
	if (!s || !*s || strlen(s) > 64)
		return fail(msg, "not a duration (e.g. 15m, 24h, 7d)", -EINVAL);
	int rv = rdpi_duration_parse(s, &ns);
	if (rv < 0)
		return fail(msg, "not a duration (e.g. 15m, 24h, 7d)", rv);
	if (ns <= 0)
		return fail(msg, "must be positive", -ERANGE);
	if (ns > max_ns)
		return fail(msg, "too long", -ERANGE);
	*ret_ns = ns;
	return 0;
}

/* n digits exactly */
static int digits(const char **p, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -EINVAL;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*ret = v;
	return 0;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int parse_rfc3339(const char *s, int64_t *ret_ns)
{
	const char *p = s;
	int Y, M, D, h, m, sec;
	if (digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) || *p++ != '-' ||
	    digits(&p, 2, &D))
		return -EINVAL;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -EINVAL;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &m) || *p++ != ':' ||
	    digits(&p, 2, &sec))
		return -EINVAL;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || m > 59 ||
	    sec > 60)
		return -ERANGE;
	bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
	if (M == 2 && D == 29 && !leap)
		return -ERANGE;
	int64_t frac = 0;
	if (*p == '.') {
		p++;
		int n = 0;
		int64_t scale = 100000000;
		while (*p >= '0' && *p <= '9') {
			if (n < 9) {
				frac += (*p - '0') * scale;
				scale /= 10;
			}
			n++;
			p++;
		}
		if (n == 0 || n > 18)
			return -EINVAL;
	}
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	int64_t secs =
	    days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + m * 60 + sec - off;
	/* 1970 .. 2262 fits int64 ns */
	if (secs < 0 || secs > 9000000000LL)
		return -ERANGE;
	*ret_ns = secs * 1000000000LL + frac;
	return 0;
}

int params_time(const char *s, int64_t *ret_ns, const char **msg)
{
	const char *m = "not an RFC3339 time or unix seconds";
	if (!s || !*s || strlen(s) > 64)
		return fail(msg, m, -EINVAL);
	size_t nd = strspn(s, "0123456789");
	if (nd > 0 && (s[nd] == '\0' || s[nd] == '.')) {
		if (nd > 10)
			return fail(msg, "out of range", -ERANGE);
		int64_t secs = 0, frac = 0, scale = 100000000;
		for (size_t i = 0; i < nd; i++)
			secs = secs * 10 + (s[i] - '0');
		if (s[nd] == '.') {
			const char *p = s + nd + 1;
			size_t nf = strspn(p, "0123456789");
			if (nf == 0 || p[nf] != '\0')
				return fail(msg, m, -EINVAL);
			for (size_t i = 0; i < nf && i < 9; i++, scale /= 10)
				frac += (p[i] - '0') * scale;
		}
		if (secs > 9000000000LL)
			return fail(msg, "out of range", -ERANGE);
		*ret_ns = secs * 1000000000LL + frac;
		return 0;
	}
	int64_t ns;
	int rv = parse_rfc3339(s, &ns);
	if (rv < 0)
		return fail(msg, rv == -ERANGE ? "out of range" : m, rv);
	*ret_ns = ns;
	return 0;
}

int params_count(const char *s, int64_t min, int64_t max, int64_t *ret, const char **msg)
{
	if (!s || !*s)
		return fail(msg, "not a number", -EINVAL);
	size_t n = strspn(s, "0123456789");
	if (s[n] != '\0')
		return fail(msg, s[0] == '-' ? "must not be negative" : "not a number", -EINVAL);
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (v > (INT64_MAX - 9) / 10) {
			v = INT64_MAX; /* saturate: capped below */
			break;
		}
		v = v * 10 + (s[i] - '0');
	}
	if (v < min)
		return fail(msg, min == 1 ? "must be at least 1" : "too small", -ERANGE);
	*ret = v > max ? max : v;
	return 0;
}

int params_bool(const char *s, bool *ret, const char **msg)
{
	static const char *const yes[] = {"true", "1", "yes", "on"};
	static const char *const no[] = {"false", "0", "no", "off"};
	if (!s)
		return fail(msg, "must be true or false", -EINVAL);
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return fail(msg, "must be true or false", -EINVAL);
}

int params_text(const char *s, const char **msg)
{
	if (!s)
		return fail(msg, "missing", -EINVAL);
	size_t n = strlen(s);
	if (n > TEXT_MAX)
		return fail(msg, "too long", -ERANGE);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return fail(msg, "control characters", -EINVAL);
	return 0;
}

/* Go-compatible duration parsing/formatting and 1024-based byte sizes, shared
 * by the config loader, command-line flags and the console. */
#include "common/duration.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define NS_US  UINT64_C(1000)
#define NS_MS  UINT64_C(1000000)
#define NS_S   UINT64_C(1000000000)
#define NS_MIN (60 * NS_S)
#define NS_H   (60 * NS_MIN)
#define NS_DAY (24 * NS_H)
#define U63    (UINT64_C(1) << 63)

struct unit {
	const char *name;
	uint64_t mult;
};

/* Go's unitMap plus "d"; both micro signs as UTF-8. */
static const struct unit duration_units[] = {
    {"ns", 1},	 {"us", NS_US}, {"\xc2\xb5s", NS_US}, {"\xce\xbcs", NS_US}, {"ms", NS_MS},
    {"s", NS_S}, {"m", NS_MIN}, {"h", NS_H},	      {"d", NS_DAY},
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Go's leadingInt: consume [0-9]*, -ERANGE past 1<<63. */
static int leading_int(const char **s, uint64_t *ret)
{
	uint64_t x = 0;
	const char *p = *s;
	for (; is_digit(*p); p++) {
		if (x > U63 / 10)
			return -ERANGE;
		x = x * 10 + (uint64_t)(*p - '0');
		if (x > U63)
			return -ERANGE;
	}
	*s = p;
	*ret = x;
	return 0;
}

/* Go's leadingFraction: digits past 63 bits of precision are dropped. */
static void leading_fraction(const char **s, uint64_t *ret_x, double *ret_scale)
{
	uint64_t x = 0;
	double scale = 1;
	bool overflow = false;
	const char *p = *s;
	for (; is_digit(*p); p++) {
		if (overflow)
			continue;
		if (x > (U63 - 1) / 10) {
			overflow = true;
			continue;
		}
		uint64_t y = x * 10 + (uint64_t)(*p - '0');
		if (y > U63) {
			overflow = true;
			continue;
		}
		x = y;
		scale *= 10;
	}
	*s = p;
	*ret_x = x;
	*ret_scale = scale;
}

int rdpi_duration_parse(const char *s, int64_t *ret_ns)
{
	if (!s || !ret_ns)
		return -EINVAL;
	uint64_t d = 0;
	bool neg = false;
	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	if (strcmp(s, "0") == 0) {
		*ret_ns = 0;
		return 0;
	}
	if (*s == '\0')
		return -EINVAL;
	while (*s) {
		uint64_t v = 0, f = 0;
		double scale = 1;
		if (!(*s == '.' || is_digit(*s)))
			return -EINVAL;
		const char *start = s;
		if (leading_int(&s, &v) < 0)
			return -ERANGE;
		bool pre = s != start;
		bool post = false;
		if (*s == '.') {
			s++;
			start = s;
			leading_fraction(&s, &f, &scale);
			post = s != start;
		}
		if (!pre && !post)
			return -EINVAL;
		size_t ulen = 0;
		while (s[ulen] && s[ulen] != '.' && !is_digit(s[ulen]))
			ulen++;
		if (ulen == 0)
			return -EINVAL;
		const struct unit *u = NULL;
		for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
			if (strlen(duration_units[i].name) == ulen &&
			    memcmp(duration_units[i].name, s, ulen) == 0) {
				u = &duration_units[i];
				break;
			}
		}
		if (!u)
			return -EINVAL;
		s += ulen;
		if (v > U63 / u->mult)
			return -ERANGE;
		v *= u->mult;
		if (f > 0) {
			/* float64 exactly as Go does, so fractions of hours round the same */
			v += (uint64_t)((double)f * ((double)u->mult / scale));
			if (v > U63)
				return -ERANGE;
		}
		d += v;
		if (d > U63)
			return -ERANGE;
	}
	if (neg) {
		*ret_ns = d == U63 ? INT64_MIN : -(int64_t)d;
		return 0;
	}
	if (d > U63 - 1)
		return -ERANGE;
	*ret_ns = (int64_t)d;
	return 0;
}

/* Go's fmtFrac: write v's prec fractional digits backwards, dropping trailing
 * zeros and the point when all are zero. */
static size_t fmt_frac(char *buf, size_t w, uint64_t *v, int prec)
{
	bool print = false;
	for (int i = 0; i < prec; i++) {
		char digit = (char)(*v % 10);
		print = print || digit != 0;
		if (print)
			buf[--w] = (char)('0' + digit);
		*v /= 10;
	}
	if (print)
		buf[--w] = '.';
	return w;
}

static size_t fmt_int(char *buf, size_t w, uint64_t v)
{
	if (v == 0)
		buf[--w] = '0';
	while (v > 0) {
		buf[--w] = (char)('0' + v % 10);
		v /= 10;
	}
	return w;
}

void rdpi_duration_format(int64_t ns, char *buf, size_t len)
{
	char tmp[RDPI_DURATION_STRLEN];
	size_t w = sizeof(tmp);
	bool neg = ns < 0;
	uint64_t u = neg ? 0 - (uint64_t)ns : (uint64_t)ns;

	if (!buf || len == 0)
		return;
	tmp[--w] = '\0';
	if (u < NS_S) {
		int prec = 0;
		tmp[--w] = 's';
		if (u == 0) {
			snprintf(buf, len, "0s");
			return;
		} else if (u < NS_US) {
			tmp[--w] = 'n';
		} else if (u < NS_MS) {
			prec = 3;
			tmp[--w] = '\xb5'; /* U+00B5 MICRO SIGN, as Go prints it */
			tmp[--w] = '\xc2';
		} else {
			prec = 6;
			tmp[--w] = 'm';
		}
		w = fmt_frac(tmp, w, &u, prec);
		w = fmt_int(tmp, w, u);
	} else {
		tmp[--w] = 's';
		w = fmt_frac(tmp, w, &u, 9);
		w = fmt_int(tmp, w, u % 60);
		u /= 60;
		if (u > 0) {
			tmp[--w] = 'm';
			w = fmt_int(tmp, w, u % 60);
			u /= 60;
			if (u > 0) {
				tmp[--w] = 'h';
				w = fmt_int(tmp, w, u);
			}
		}
	}
	if (neg)
		tmp[--w] = '-';
	snprintf(buf, len, "%s", tmp + w);
}

static const struct unit size_units[] = {
    {"", 1},
    {"b", 1},
    {"k", UINT64_C(1) << 10},
    {"kb", UINT64_C(1) << 10},
    {"kib", UINT64_C(1) << 10},
    {"m", UINT64_C(1) << 20},
    {"mb", UINT64_C(1) << 20},
    {"mib", UINT64_C(1) << 20},
    {"g", UINT64_C(1) << 30},
    {"gb", UINT64_C(1) << 30},
    {"gib", UINT64_C(1) << 30},
    {"t", UINT64_C(1) << 40},
    {"tb", UINT64_C(1) << 40},
    {"tib", UINT64_C(1) << 40},
};

int rdpi_size_parse(const char *s, int64_t *ret_bytes)
{
	if (!s || !ret_bytes || !is_digit(*s))
		return -EINVAL;
	uint64_t v = 0;
	for (; is_digit(*s); s++) {
		if (v > (U63 - 1) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > U63 - 1)
			return -ERANGE;
	}
	for (size_t i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
		if (strcasecmp(s, size_units[i].name) != 0)
			continue;
		if (v > (U63 - 1) / size_units[i].mult)
			return -ERANGE;
		*ret_bytes = (int64_t)(v * size_units[i].mult);
		return 0;
	}
	return -EINVAL;
}

void rdpi_size_format(int64_t bytes, char *buf, size_t len)
{
	static const char *const names[] = {"", "KiB", "MiB", "GiB", "TiB"};
	size_t i = 0;
	if (!buf || len == 0)
		return;
	while (bytes != 0 && i + 1 < sizeof(names) / sizeof(names[0]) && bytes % 1024 == 0) {
		bytes /= 1024;
		i++;
	}
	snprintf(buf, len, "%lld%s", (long long)bytes, names[i]);
}

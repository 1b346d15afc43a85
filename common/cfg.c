/* Table-driven libconfig loader: validates one daemon section against its key
 * table (types, bounds, unknown keys, file:line) and swaps it in atomically. */
#include "common/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/duration.h"
#include "common/log.h"

#define CFG_MAX_FILE (4u << 20)
#define CFG_MSGLEN   512

const char *const rdpi_cfg_sections[] = {"classifier", "agent",	  "firewallLog",
					 "flows",      "console", NULL};

union cfg_val {
	int64_t i;
	bool b;
	char *s;
};

static const struct {
	const char *what; /* for "expected ..." */
	size_t size;
	bool owned; /* heap string in the target */
} cfg_types[] = {
    [RDPI_CFG_BOOL] = {"boolean (true or false)", sizeof(bool), false},
    [RDPI_CFG_INT] = {"integer", sizeof(int64_t), false},
    [RDPI_CFG_STRING] = {"string", sizeof(char *), true},
    [RDPI_CFG_DURATION] = {"duration string such as \"1h30m\"", sizeof(int64_t), false},
    [RDPI_CFG_SIZE] = {"size (integer bytes or a string such as \"64k\")", sizeof(int64_t), false},
    [RDPI_CFG_ENUM] = {"string", sizeof(char *), true},
};
_Static_assert(sizeof(cfg_types) / sizeof(cfg_types[0]) == RDPI_CFG_ENUM + 1,
	       "cfg_types must cover enum rdpi_cfg_type");

__attribute__((format(printf, 3, 4))) static void seterr(char *err, size_t errlen, const char *fmt,
							 ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool key_owned(const struct rdpi_cfg_key *k)
{
	return cfg_types[k->type].owned;
}

static void val_get(const struct rdpi_cfg_key *k, const void *base, union cfg_val *v)
{
	memset(v, 0, sizeof(*v));
	const char *p = (const char *)base + k->offset;
	if (k->type == RDPI_CFG_BOOL)
		memcpy(&v->b, p, sizeof(v->b));
	else if (key_owned(k))
		memcpy(&v->s, p, sizeof(v->s));
	else
		memcpy(&v->i, p, sizeof(v->i));
}

static void val_put(const struct rdpi_cfg_key *k, void *base, const union cfg_val *v)
{
	char *p = (char *)base + k->offset;
	if (k->type == RDPI_CFG_BOOL)
		memcpy(p, &v->b, sizeof(v->b));
	else if (key_owned(k))
		memcpy(p, &v->s, sizeof(v->s));
	else
		memcpy(p, &v->i, sizeof(v->i));
}

/* Replace a target field, freeing the string it owned. */
static void val_replace(const struct rdpi_cfg_key *k, void *base, const union cfg_val *v)
{
	if (key_owned(k)) {
		union cfg_val old;
		val_get(k, base, &old);
		free(old.s);
	}
	val_put(k, base, v);
}

static void vals_free(const struct rdpi_cfg_section *sec, union cfg_val *vals)
{
	if (!vals)
		return;
	for (size_t i = 0; i < sec->nkeys; i++)
		if (key_owned(&sec->keys[i]))
			free(vals[i].s);
	free(vals);
}

/* Write validated values into the target; takes ownership of their strings. */
static void vals_commit(const struct rdpi_cfg_section *sec, void *target, union cfg_val *vals)
{
	for (size_t i = 0; i < sec->nkeys; i++)
		val_replace(&sec->keys[i], target, &vals[i]);
	free(vals);
}

static int check_table(const struct rdpi_cfg_section *sec, char *err, size_t errlen)
{
	if (!sec || !sec->name || (sec->nkeys && !sec->keys)) {
		seterr(err, errlen, "invalid config section table");
		return -EINVAL;
	}
	for (size_t i = 0; i < sec->nkeys; i++) {
		const struct rdpi_cfg_key *k = &sec->keys[i];
		if (!k->name || (unsigned)k->type > RDPI_CFG_ENUM ||
		    (k->type == RDPI_CFG_ENUM && !k->choices) || k->min > k->max) {
			seterr(err, errlen, "%s: invalid key table entry %zu", sec->name, i);
			return -EINVAL;
		}
	}
	return 0;
}

static void fmt_number(const struct rdpi_cfg_key *k, int64_t v, char *buf, size_t len)
{
	if (k->type == RDPI_CFG_DURATION)
		rdpi_duration_format(v, buf, len);
	else if (k->type == RDPI_CFG_SIZE && v >= 0)
		rdpi_size_format(v, buf, len);
	else
		snprintf(buf, len, "%" PRId64, v);
}

const char *rdpi_cfg_format(const struct rdpi_cfg_key *k, const void *target, char *buf, size_t len)
{
	union cfg_val v;
	if (!len)
		return buf;
	val_get(k, target, &v);
	if (k->type == RDPI_CFG_BOOL)
		snprintf(buf, len, "%s", v.b ? "true" : "false");
	else if (key_owned(k))
		snprintf(buf, len, "%s", v.s ? v.s : "");
	else
		fmt_number(k, v.i, buf, len);
	return buf;
}

static void append_name(char *buf, size_t len, const char *prefix, const char *name)
{
	size_t n = strlen(buf);
	if (n + 1 < len)
		snprintf(buf + n, len - n, "%s%s%s", n ? ", " : "", prefix ? prefix : "", name);
}

size_t rdpi_cfg_changes(const struct rdpi_cfg_section *sec, const void *old, const void *new,
			const char *const *live, const char *prefix, char *live_buf,
			size_t live_len, char *restart_buf, size_t restart_len)
{
	size_t changed = 0;
	for (size_t i = 0; i < sec->nkeys; i++) {
		const struct rdpi_cfg_key *k = &sec->keys[i];
		union cfg_val a, b;
		val_get(k, old, &a);
		val_get(k, new, &b);
		bool same;
		if (k->type == RDPI_CFG_BOOL)
			same = a.b == b.b;
		else if (key_owned(k))
			same = strcmp(a.s ? a.s : "", b.s ? b.s : "") == 0;
		else
			same = a.i == b.i;
		if (same)
			continue;
		changed++;
		bool is_live = false;
		for (size_t j = 0; live && live[j]; j++)
			is_live = is_live || strcmp(live[j], k->name) == 0;
		if (is_live)
			append_name(live_buf, live_len, prefix, k->name);
		else
			append_name(restart_buf, restart_len, prefix, k->name);
	}
	return changed;
}

static int check_range(const struct rdpi_cfg_section *sec, const struct rdpi_cfg_key *k, int64_t v,
		       char *msg, size_t msglen)
{
	if ((k->min == 0 && k->max == 0) || (v >= k->min && v <= k->max))
		return 0;
	char a[RDPI_DURATION_STRLEN], lo[RDPI_DURATION_STRLEN], hi[RDPI_DURATION_STRLEN];
	fmt_number(k, v, a, sizeof(a));
	fmt_number(k, k->min, lo, sizeof(lo));
	fmt_number(k, k->max, hi, sizeof(hi));
	seterr(msg, msglen, "%s.%s: %s out of range [%s, %s]", sec->name, k->name, a, lo, hi);
	return -ERANGE;
}

static int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_int(const char *s, int64_t *ret)
{
	if (!(isdigit((unsigned char)s[0]) ||
	      ((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1]))))
		return -EINVAL;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*ret = v;
	return 0;
}

/* Trim, lowercase and match against the choices; returns a heap copy. */
static int parse_enum(const struct rdpi_cfg_section *sec, const struct rdpi_cfg_key *k,
		      const char *s, char **ret, char *msg, size_t msglen)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	for (const char *const *c = k->choices; *c; c++) {
		if (strlen(*c) != n || strncasecmp(*c, s, n) != 0)
			continue;
		char *dup = strdup(*c);
		if (!dup)
			return -ENOMEM;
		*ret = dup;
		return 0;
	}
	char list[256] = "";
	size_t used = 0;
	for (const char *const *c = k->choices; *c && used < sizeof(list); c++) {
		int w = snprintf(list + used, sizeof(list) - used, "%s%s",
				 c == k->choices ? "" : ", ", *c);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	seterr(msg, msglen, "%s.%s: \"%s\" is not one of %s", sec->name, k->name, s, list);
	return -EINVAL;
}

/* Text form (defaults, command-line overrides, duration/size strings). */
static int parse_text(const struct rdpi_cfg_section *sec, const struct rdpi_cfg_key *k,
		      const char *s, union cfg_val *ret, char *msg, size_t msglen)
{
	union cfg_val v = {0};
	int r = 0;
	const char *what = NULL;

	switch (k->type) {
	case RDPI_CFG_BOOL:
		r = parse_bool(s, &v.b);
		what = "a boolean (true or false)";
		break;
	case RDPI_CFG_INT:
		r = parse_int(s, &v.i);
		what = "an integer";
		break;
	case RDPI_CFG_DURATION:
		r = rdpi_duration_parse(s, &v.i);
		what = "a duration (e.g. \"200ms\", \"1h30m\", \"7d\")";
		break;
	case RDPI_CFG_SIZE:
		r = rdpi_size_parse(s, &v.i);
		what = "a size (e.g. \"2048\", \"64k\", \"1MiB\")";
		break;
	case RDPI_CFG_STRING:
		v.s = strdup(s);
		if (!v.s)
			return -ENOMEM;
		*ret = v;
		return 0;
	case RDPI_CFG_ENUM:
		r = parse_enum(sec, k, s, &v.s, msg, msglen);
		if (r < 0)
			return r;
		*ret = v;
		return 0;
	}
	if (r == -ERANGE) {
		seterr(msg, msglen, "%s.%s: \"%s\" does not fit in 64 bits", sec->name, k->name, s);
		return r;
	}
	if (r < 0) {
		seterr(msg, msglen, "%s.%s: \"%s\" is not %s", sec->name, k->name, s, what);
		return r;
	}
	if (k->type != RDPI_CFG_BOOL) {
		r = check_range(sec, k, v.i, msg, msglen);
		if (r < 0)
			return r;
	}
	*ret = v;
	return 0;
}

static bool setting_is_int(const config_setting_t *s)
{
	int t = config_setting_type(s);
	return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
}

/* Typed libconfig value; strings for durations, sizes and enums go through
 * the text rules so the file and the command line agree. */
static int parse_setting(const struct rdpi_cfg_section *sec, const struct rdpi_cfg_key *k,
			 const config_setting_t *s, union cfg_val *ret, char *msg, size_t msglen)
{
	int t = config_setting_type(s);
	union cfg_val v = {0};

	switch (k->type) {
	case RDPI_CFG_BOOL:
		if (t != CONFIG_TYPE_BOOL)
			break;
		v.b = config_setting_get_bool(s) != 0;
		*ret = v;
		return 0;
	case RDPI_CFG_INT:
		if (!setting_is_int(s))
			break;
		v.i = config_setting_get_int64(s);
		if (check_range(sec, k, v.i, msg, msglen) < 0)
			return -ERANGE;
		*ret = v;
		return 0;
	case RDPI_CFG_DURATION:
		if (setting_is_int(s)) {
			long long n = config_setting_get_int64(s);
			if (n != 0) {
				/* seconds or milliseconds? refuse to guess */
				seterr(msg, msglen,
				       "%s.%s: integer %lld is ambiguous, write a duration string "
				       "such as \"%llds\"",
				       sec->name, k->name, n, n);
				return -EINVAL;
			}
			return parse_text(sec, k, "0", ret, msg, msglen);
		}
		if (t != CONFIG_TYPE_STRING)
			break;
		return parse_text(sec, k, config_setting_get_string(s), ret, msg, msglen);
	case RDPI_CFG_SIZE:
		if (setting_is_int(s)) {
			v.i = config_setting_get_int64(s);
			if (v.i < 0) {
				seterr(msg, msglen, "%s.%s: %" PRId64 " is not a size", sec->name,
				       k->name, v.i);
				return -EINVAL;
			}
			if (check_range(sec, k, v.i, msg, msglen) < 0)
				return -ERANGE;
			*ret = v;
			return 0;
		}
		if (t != CONFIG_TYPE_STRING)
			break;
		return parse_text(sec, k, config_setting_get_string(s), ret, msg, msglen);
	case RDPI_CFG_STRING:
	case RDPI_CFG_ENUM:
		if (t != CONFIG_TYPE_STRING)
			break;
		return parse_text(sec, k, config_setting_get_string(s), ret, msg, msglen);
	}
	seterr(msg, msglen, "%s.%s: expected %s", sec->name, k->name, cfg_types[k->type].what);
	return -EINVAL;
}

/* Defaults into a fresh value array the caller frees with vals_free. */
static int defaults_vals(const struct rdpi_cfg_section *sec, union cfg_val **ret, char *err,
			 size_t errlen)
{
	int r = check_table(sec, err, errlen);
	if (r < 0)
		return r;
	union cfg_val *vals = calloc(sec->nkeys ? sec->nkeys : 1, sizeof(*vals));
	if (!vals) {
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < sec->nkeys; i++) {
		const struct rdpi_cfg_key *k = &sec->keys[i];
		char msg[CFG_MSGLEN];
		if (!k->def)
			continue;
		r = parse_text(sec, k, k->def, &vals[i], msg, sizeof(msg));
		if (r < 0) {
			seterr(err, errlen, "bad default: %s", msg);
			vals_free(sec, vals);
			return r == -ENOMEM ? r : -EINVAL;
		}
	}
	*ret = vals;
	return 0;
}

int rdpi_cfg_defaults(const struct rdpi_cfg_section *sec, void *target, char *err, size_t errlen)
{
	union cfg_val *vals = NULL;
	if (!target) {
		seterr(err, errlen, "no target");
		return -EINVAL;
	}
	int r = defaults_vals(sec, &vals, err, errlen);
	if (r < 0)
		return r;
	vals_commit(sec, target, vals);
	return 0;
}

const struct rdpi_cfg_key *rdpi_cfg_find(const struct rdpi_cfg_section *sec, const char *name)
{
	if (!sec || !name)
		return NULL;
	for (size_t i = 0; i < sec->nkeys; i++)
		if (sec->keys[i].name && strcmp(sec->keys[i].name, name) == 0)
			return &sec->keys[i];
	return NULL;
}

static bool in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

static const char *setting_file(const config_setting_t *s, const char *fallback)
{
	const char *f = config_setting_source_file(s);
	return f ? f : fallback;
}

/* Validate the parsed tree into vals (already holding defaults). */
static int apply_tree(const config_t *cfg, const char *fname, const struct rdpi_cfg_section *sec,
		      const char *const *known, union cfg_val *vals, char *err, size_t errlen)
{
	config_setting_t *root = config_root_setting(cfg);
	char msg[CFG_MSGLEN];

	for (int i = 0; known && i < config_setting_length(root); i++) {
		config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(s);
		if (name && strcmp(name, sec->name) != 0 && !in_list(known, name)) {
			seterr(err, errlen, "%s:%u: unknown section \"%s\"", setting_file(s, fname),
			       config_setting_source_line(s), name);
			return -EINVAL;
		}
	}

	config_setting_t *grp = config_setting_get_member(root, sec->name);
	if (!grp)
		return 0;
	if (!config_setting_is_group(grp)) {
		seterr(err, errlen, "%s:%u: %s: expected a group { ... }", setting_file(grp, fname),
		       config_setting_source_line(grp), sec->name);
		return -EINVAL;
	}
	for (int i = 0; i < config_setting_length(grp); i++) {
		config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct rdpi_cfg_key *k = rdpi_cfg_find(sec, name);
		if (!k) {
			seterr(err, errlen, "%s:%u: unknown key \"%s\" in section \"%s\"",
			       setting_file(s, fname), config_setting_source_line(s),
			       name ? name : "", sec->name);
			return -EINVAL;
		}
		size_t idx = (size_t)(k - sec->keys);
		union cfg_val v;
		int r = parse_setting(sec, k, s, &v, msg, sizeof(msg));
		if (r == -ENOMEM) {
			seterr(err, errlen, "out of memory");
			return r;
		}
		if (r < 0) {
			seterr(err, errlen, "%s:%u: %s", setting_file(s, fname),
			       config_setting_source_line(s), msg);
			return r;
		}
		if (key_owned(k))
			free(vals[idx].s);
		vals[idx] = v;
	}
	return 0;
}

/* Parse a numeric literal's magnitude; false when beyond uint64. */
static bool lit_value(const char *p, size_t n, int base, uint64_t *ret)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		char c = (char)tolower((unsigned char)p[i]);
		unsigned d =
		    isdigit((unsigned char)c) ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
		if (v > (UINT64_MAX - d) / (unsigned)base)
			return false;
		v = v * (unsigned)base + d;
	}
	*ret = v;
	return true;
}

/*
 * libconfig 1.5 reads plain integer literals with atoi(), so 5000000000
 * silently becomes 705032704. Give every literal beyond int32 the int64 suffix
 * L so libconfig keeps its value, and reject literals beyond int64. Strings
 * and comments are copied untouched; the line structure is kept.
 */
static int widen_ints(const char *in, const char *fname, char **ret, char *err, size_t errlen)
{
	size_t n = strlen(in);
	char *out = malloc(2 * n + 1);
	size_t o = 0;
	unsigned line = 1;
	const char *p = in;

	if (!out) {
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	while (*p) {
		const char *start = p;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				else if (*p == '\n')
					line++;
			}
			if (*p)
				p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
				if (*p == '\n')
					line++;
			p += *p ? 2 : 0;
		} else if (isalpha((unsigned char)*p) || *p == '*' || *p == '_') {
			while (isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '*')
				p++;
		} else if (isdigit((unsigned char)*p) ||
			   ((*p == '-' || *p == '+') && isdigit((unsigned char)p[1]))) {
			bool neg = *p == '-';
			const char *digits = (*p == '-' || *p == '+') ? p + 1 : p;
			int base = 10;
			p = digits;
			if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
			    isxdigit((unsigned char)p[2]) && start == digits) {
				base = 16;
				digits = p += 2;
				while (isxdigit((unsigned char)*p))
					p++;
			} else {
				while (isdigit((unsigned char)*p))
					p++;
			}
			size_t ndig = (size_t)(p - digits);
			if (base == 10 && (*p == '.' || *p == 'e' || *p == 'E')) {
				/* float: copy as is */
				while (isdigit((unsigned char)*p) || *p == '.' || *p == 'e' ||
				       *p == 'E' ||
				       ((*p == '-' || *p == '+') && (p[-1] == 'e' || p[-1] == 'E')))
					p++;
				memcpy(out + o, start, (size_t)(p - start));
				o += (size_t)(p - start);
				continue;
			}
			bool has_l = *p == 'L';
			while (*p == 'L')
				p++;
			uint64_t mag = 0;
			uint64_t limit = neg ? UINT64_C(1) << 63 : (UINT64_C(1) << 63) - 1;
			if (!lit_value(digits, ndig, base, &mag) || mag > limit) {
				seterr(err, errlen, "%s:%u: integer %.*s does not fit in 64 bits",
				       fname, line, (int)(p - start), start);
				free(out);
				return -ERANGE;
			}
			uint64_t lim32 = neg ? UINT64_C(1) << 31 : (UINT64_C(1) << 31) - 1;
			memcpy(out + o, start, (size_t)(p - start));
			o += (size_t)(p - start);
			if (!has_l && mag > lim32)
				out[o++] = 'L';
			continue;
		} else {
			if (*p == '\n')
				line++;
			p++;
		}
		memcpy(out + o, start, (size_t)(p - start));
		o += (size_t)(p - start);
	}
	out[o] = '\0';
	*ret = out;
	return 0;
}

static int load_text(const char *text, const char *fname, const char *include_dir,
		     const struct rdpi_cfg_section *sec, const char *const *known, void *target,
		     char *err, size_t errlen)
{
	union cfg_val *vals = NULL;
	char *wide = NULL;
	config_t cfg;
	int r;

	config_init(&cfg);
	config_set_auto_convert(&cfg, CONFIG_FALSE);
	if (include_dir)
		config_set_include_dir(&cfg, include_dir);
	r = defaults_vals(sec, &vals, err, errlen);
	if (r < 0)
		goto out;
	r = widen_ints(text, fname, &wide, err, errlen);
	if (r < 0)
		goto out;
	if (config_read_string(&cfg, wide) != CONFIG_TRUE) {
		const char *f = config_error_file(&cfg);
		seterr(err, errlen, "%s:%d: %s", f ? f : fname, config_error_line(&cfg),
		       config_error_text(&cfg) ? config_error_text(&cfg) : "parse error");
		r = config_error_type(&cfg) == CONFIG_ERR_FILE_IO ? -EIO : -EINVAL;
		goto out;
	}
	r = apply_tree(&cfg, fname, sec, known, vals, err, errlen);
	if (r < 0)
		goto out;
	vals_commit(sec, target, vals);
	vals = NULL;
out:
	vals_free(sec, vals);
	free(wide);
	config_destroy(&cfg);
	return r;
}

int rdpi_cfg_load_string(const char *text, const char *name_for_errors,
			 const struct rdpi_cfg_section *sec, const char *const *known_sections,
			 void *target, char *err, size_t errlen)
{
	if (!text || !target) {
		seterr(err, errlen, "no config text or target");
		return -EINVAL;
	}
	return load_text(text, name_for_errors ? name_for_errors : "<string>", NULL, sec,
			 known_sections, target, err, errlen);
}

static int read_file(const char *path, char **ret, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	int r = 0;

	if (!f) {
		r = -errno;
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	buf = malloc(CFG_MAX_FILE + 1);
	if (!buf) {
		seterr(err, errlen, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	size_t n = fread(buf, 1, CFG_MAX_FILE + 1, f);
	if (ferror(f)) {
		seterr(err, errlen, "%s: read error", path);
		r = -EIO;
		goto out;
	}
	if (n > CFG_MAX_FILE) {
		seterr(err, errlen, "%s: larger than %u bytes", path, CFG_MAX_FILE);
		r = -EFBIG;
		goto out;
	}
	if (memchr(buf, '\0', n)) {
		seterr(err, errlen, "%s: contains a NUL byte", path);
		r = -EINVAL;
		goto out;
	}
	buf[n] = '\0';
	*ret = buf;
	buf = NULL;
out:
	free(buf);
	fclose(f);
	return r;
}

int rdpi_cfg_load_file(const char *path, const struct rdpi_cfg_section *sec,
		       const char *const *known_sections, void *target, char *err, size_t errlen)
{
	char *text = NULL, *dir = NULL;
	int r;

	if (!path || !target) {
		seterr(err, errlen, "no config path or target");
		return -EINVAL;
	}
	r = read_file(path, &text, err, errlen);
	if (r < 0)
		goto out;
	/* @include paths resolve next to the file, as config_read_file does */
	dir = strdup(path);
	if (!dir) {
		seterr(err, errlen, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	char *slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	r = load_text(text, path, slash ? dir : NULL, sec, known_sections, target, err, errlen);
out:
	free(dir);
	free(text);
	return r;
}

int rdpi_cfg_set(const struct rdpi_cfg_section *sec, void *target, const char *name,
		 const char *value, char *err, size_t errlen)
{
	char msg[CFG_MSGLEN];
	int r = check_table(sec, err, errlen);
	if (r < 0)
		return r;
	if (!target || !name || !value) {
		seterr(err, errlen, "no target, name or value");
		return -EINVAL;
	}
	const struct rdpi_cfg_key *k = rdpi_cfg_find(sec, name);
	if (!k) {
		seterr(err, errlen, "unknown key \"%s\" in section \"%s\"", name, sec->name);
		return -ENOENT;
	}
	union cfg_val v;
	r = parse_text(sec, k, value, &v, msg, sizeof(msg));
	if (r == -ENOMEM) {
		seterr(err, errlen, "out of memory");
		return r;
	}
	if (r < 0) {
		seterr(err, errlen, "%s", msg);
		return r;
	}
	val_replace(k, target, &v);
	return 0;
}

void rdpi_cfg_free(const struct rdpi_cfg_section *sec, void *target)
{
	if (!sec || !target)
		return;
	for (size_t i = 0; i < sec->nkeys; i++) {
		const struct rdpi_cfg_key *k = &sec->keys[i];
		if (!key_owned(k))
			continue;
		union cfg_val v = {.s = NULL};
		val_replace(k, target, &v);
	}
}

int rdpi_cfg_copy(const struct rdpi_cfg_section *sec, void *dst, const void *src)
{
	if (!sec || !dst || !src)
		return -EINVAL;
	if (dst == src)
		return 0;
	union cfg_val *vals = calloc(sec->nkeys ? sec->nkeys : 1, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (size_t i = 0; i < sec->nkeys; i++) {
		const struct rdpi_cfg_key *k = &sec->keys[i];
		val_get(k, src, &vals[i]);
		if (key_owned(k) && vals[i].s) {
			vals[i].s = strdup(vals[i].s);
			if (!vals[i].s) {
				vals_free(sec, vals);
				return -ENOMEM;
			}
		}
	}
	vals_commit(sec, dst, vals);
	return 0;
}

/* libconfig string literal: escapes it understands, \xNN for other controls. */
static void dump_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(out, "\\x%02x", c);
			else
				fputc(c, out);
		}
	}
	fputc('"', out);
}

static void dump_comment(FILE *out, const struct rdpi_cfg_key *k)
{
	if (!k->help && k->type != RDPI_CFG_ENUM)
		return;
	fputs("\t#", out);
	if (k->help) {
		fputc(' ', out);
		for (const char *h = k->help; *h; h++)
			fputc(*h == '\n' || *h == '\r' ? ' ' : *h, out);
	}
	if (k->type == RDPI_CFG_ENUM) {
		fputs(" (", out);
		for (const char *const *c = k->choices; *c; c++)
			fprintf(out, "%s%s", c == k->choices ? "" : " | ", *c);
		fputc(')', out);
	}
	fputc('\n', out);
}

int rdpi_cfg_dump(const struct rdpi_cfg_section *sec, const void *target, FILE *out)
{
	if (!out || !target || check_table(sec, NULL, 0) < 0)
		return -EINVAL;
	fprintf(out, "%s = {\n", sec->name);
	for (size_t i = 0; i < sec->nkeys; i++) {
		const struct rdpi_cfg_key *k = &sec->keys[i];
		char buf[RDPI_DURATION_STRLEN];
		union cfg_val v;
		val_get(k, target, &v);
		dump_comment(out, k);
		if (key_owned(k) && !v.s) {
			fprintf(out, "\t# %s is unset\n", k->name);
			continue;
		}
		fprintf(out, "\t%s = ", k->name);
		switch (k->type) {
		case RDPI_CFG_BOOL:
			fputs(v.b ? "true" : "false", out);
			break;
		case RDPI_CFG_INT:
			/* libconfig needs the L suffix beyond int32 */
			fprintf(out, "%" PRId64 "%s", v.i,
				v.i < INT32_MIN || v.i > INT32_MAX ? "L" : "");
			break;
		case RDPI_CFG_DURATION:
			rdpi_duration_format(v.i, buf, sizeof(buf));
			dump_string(out, buf);
			break;
		case RDPI_CFG_SIZE:
			if (v.i < 0) {
				fprintf(out, "%" PRId64, v.i);
				break;
			}
			rdpi_size_format(v.i, buf, sizeof(buf));
			dump_string(out, buf);
			break;
		case RDPI_CFG_STRING:
		case RDPI_CFG_ENUM:
			dump_string(out, v.s);
			break;
		}
		fputs(";\n", out);
	}
	fputs("};\n", out);
	return ferror(out) ? -EIO : 0;
}

void rdpi_cfg_log_reload(const char *tag, const char *path, const char *live, const char *restart)
{
	rdpi_log(LOG_NOTICE, tag,
		 "configuration reloaded from %s: applied live: %s; changed but need a restart "
		 "(running values kept): %s",
		 path ? path : "defaults", live[0] ? live : "none", restart[0] ? restart : "none");
}

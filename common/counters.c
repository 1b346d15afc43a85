/* Counter registry behind /v1/status and /metrics: a bounded, mutex-protected
 * array of caller-owned counters and computed gauges, rendered as Prometheus
 * text under Prometheus naming rules (counters _total, units in seconds). */
#include "common/counters.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Registration is a startup activity; a registry that grows past this is a bug. */
#define COUNTERS_MAX 4096
#define PREFIX_MAX   128

struct entry {
	char *name;   /* prefix + name, as registered (lookup, foreach) */
	char *expo;   /* name in the exposition, see expo_name() */
	uint64_t div; /* value is divided by this in the exposition (1, 1000, ...) */
	char *label;
	char *help;
	enum rdpi_counter_kind kind;
	struct rdpi_counter *c;
	rdpi_gauge_fn fn;
	void *arg;
};

struct rdpi_counters {
	pthread_mutex_t lock;
	char *prefix;
	/* entries of one name are kept adjacent, in registration order */
	struct entry *v;
	size_t n, cap;
};

static const char *const kind_names[] = {
    [RDPI_COUNTER] = "counter",
    [RDPI_GAUGE] = "gauge",
};
_Static_assert(sizeof(kind_names) / sizeof(kind_names[0]) == RDPI_GAUGE + 1, "kind table");

static bool valid_prefix(const char *s)
{
	for (size_t i = 0; s[i]; i++) {
		char ch = s[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
			  ch == ':' || (i > 0 && ch >= '0' && ch <= '9');
		if (!ok || i >= PREFIX_MAX)
			return false;
	}
	return true;
}

static bool valid_name(const char *s)
{
	if (!s || !*s)
		return false;
	for (size_t i = 0; s[i]; i++) {
		char ch = s[i];
		bool ok =
		    (ch >= 'a' && ch <= 'z') || ch == '_' || (i > 0 && ch >= '0' && ch <= '9');
		if (!ok)
			return false;
	}
	return true;
}

/* key="value"[,key="value"...]; values may use the \\ \" \n escapes. */
static bool valid_label(const char *s)
{
	const char *p = s;
	for (;;) {
		if (!(isalpha((unsigned char)*p) || *p == '_'))
			return false;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		if (*p++ != '=' || *p++ != '"')
			return false;
		while (*p != '"') {
			if (*p == '\0' || *p == '\n')
				return false;
			if (*p == '\\') {
				p++;
				if (*p != '\\' && *p != '"' && *p != 'n')
					return false;
			}
			p++;
		}
		p++;
		if (*p == '\0')
			return true;
		if (*p++ != ',')
			return false;
	}
}

/* Sub-second unit words and their divisor to seconds. */
static const struct {
	const char *word;
	uint64_t div;
} sub_second_units[] = {
    {"ms", 1000},	{"milliseconds", 1000},	     {"us", 1000000}, {"microseconds", 1000000},
    {"ns", 1000000000}, {"nanoseconds", 1000000000},
};

static bool has_suffix(const char *s, size_t n, const char *suf)
{
	size_t l = strlen(suf);
	return n >= l && memcmp(s + n - l, suf, l) == 0;
}

/* The registered name is also the /v1/status key, so Prometheus conventions
 * are applied only to the exposed name: a sub-second unit word (`_us`,
 * `_ms`, `_microseconds`, ...) is dropped and the name ends in `_seconds`
 * (before `_total`) with the value scaled, and a counter always ends in
 * `_total`: commit_us_last -> commit_last_seconds, dpi_latency_us_total ->
 * dpi_latency_seconds_total, packets_in -> packets_in_total. A name ending in
 * `_count` counts events: request_duration_us_count -> request_duration_count_total,
 * not scaled. */
static char *expo_name(const char *name, enum rdpi_counter_kind kind, uint64_t *ret_div)
{
	size_t n = strlen(name);
	char *out = malloc(n + sizeof("_seconds_total"));
	if (!out)
		return NULL;
	memcpy(out, name, n + 1);
	uint64_t div = 1;
	/* the first unit word after an underscore; the name's first word stays */
	for (char *p = strchr(out, '_'); p; p = strchr(p + 1, '_')) {
		size_t w = strcspn(p + 1, "_");
		for (size_t i = 0; i < sizeof(sub_second_units) / sizeof(sub_second_units[0]);
		     i++) {
			if (strlen(sub_second_units[i].word) == w &&
			    memcmp(p + 1, sub_second_units[i].word, w) == 0) {
				div = sub_second_units[i].div;
				memmove(p, p + 1 + w, strlen(p + 1 + w) + 1);
				break;
			}
		}
		if (div > 1)
			break;
	}
	size_t o = strlen(out);
	bool total = has_suffix(out, o, "_total");
	if (total)
		o -= strlen("_total");
	/* "x_us_count" counts timed events: the unit word goes, the value stays */
	if (has_suffix(out, o, "_count"))
		div = 1;
	if (div > 1) {
		strcpy(out + o, "_seconds");
		o += strlen("_seconds");
	}
	strcpy(out + o, total || kind == RDPI_COUNTER ? "_total" : "");
	*ret_div = div;
	return out;
}

static bool label_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static char *dup_or_null(const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

int rdpi_counters_new(const char *prefix, struct rdpi_counters **ret)
{
	if (!prefix)
		prefix = "";
	if (!valid_prefix(prefix))
		return -EINVAL;
	struct rdpi_counters *reg = calloc(1, sizeof(*reg));
	if (!reg)
		return -ENOMEM;
	reg->prefix = strdup(prefix);
	if (!reg->prefix) {
		free(reg);
		return -ENOMEM;
	}
	pthread_mutex_init(&reg->lock, NULL);
	*ret = reg;
	return 0;
}

void rdpi_counters_free(struct rdpi_counters *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n; i++) {
		free(reg->v[i].name);
		free(reg->v[i].expo);
		free(reg->v[i].label);
		free(reg->v[i].help);
	}
	free(reg->v);
	free(reg->prefix);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

/* Entries are never removed, so a metric name keeps one kind: a second
 * registration of the same name (or exposed name) with another kind is
 * -EINVAL, and two names exposed alike with one label set are -EEXIST. */
static int add_entry(struct rdpi_counters *reg, const char *name, const char *label,
		     enum rdpi_counter_kind kind, const char *help, struct rdpi_counter *c,
		     rdpi_gauge_fn fn, void *arg)
{
	if (!reg || !valid_name(name) || (label && !valid_label(label)) ||
	    (kind != RDPI_COUNTER && kind != RDPI_GAUGE) || (!c && !fn))
		return -EINVAL;

	size_t plen = strlen(reg->prefix), nlen = strlen(name);
	struct entry e = {.kind = kind, .c = c, .fn = fn, .arg = arg};
	bool oom = false;
	e.name = malloc(plen + nlen + 1);
	if (e.name) {
		memcpy(e.name, reg->prefix, plen);
		memcpy(e.name + plen, name, nlen + 1);
	} else {
		oom = true;
	}
	if (e.name) {
		e.expo = expo_name(e.name, kind, &e.div);
		if (!e.expo)
			oom = true;
	}
	e.label = dup_or_null(label, &oom);
	e.help = dup_or_null(help ? help : "", &oom);
	int rv = 0;
	if (oom) {
		rv = -ENOMEM;
		goto out;
	}

	pthread_mutex_lock(&reg->lock);
	size_t pos = reg->n; /* after the last entry of the same exposed name */
	for (size_t i = 0; i < reg->n; i++) {
		bool same_name = strcmp(reg->v[i].name, e.name) == 0;
		if (!same_name && strcmp(reg->v[i].expo, e.expo) != 0)
			continue;
		if (label_eq(reg->v[i].label, e.label)) {
			rv = -EEXIST;
			goto unlock;
		}
		if (reg->v[i].kind != kind) {
			rv = -EINVAL;
			goto unlock;
		}
		if (strcmp(reg->v[i].expo, e.expo) == 0)
			pos = i + 1;
	}
	if (reg->n == reg->cap) {
		if (reg->cap >= COUNTERS_MAX) {
			rv = -ENOSPC;
			goto unlock;
		}
		size_t ncap = reg->cap ? reg->cap * 2 : 32;
		struct entry *nv = realloc(reg->v, ncap * sizeof(*nv));
		if (!nv) {
			rv = -ENOMEM;
			goto unlock;
		}
		reg->v = nv;
		reg->cap = ncap;
	}
	memmove(&reg->v[pos + 1], &reg->v[pos], (reg->n - pos) * sizeof(*reg->v));
	reg->v[pos] = e;
	reg->n++;
	e = (struct entry){0}; /* owned by the registry now */
unlock:
	pthread_mutex_unlock(&reg->lock);
out:
	free(e.name);
	free(e.expo);
	free(e.label);
	free(e.help);
	return rv;
}

int rdpi_counters_register(struct rdpi_counters *reg, const char *name, const char *label,
			   enum rdpi_counter_kind kind, const char *help, struct rdpi_counter *c)
{
	if (!c)
		return -EINVAL;
	return add_entry(reg, name, label, kind, help, c, NULL, NULL);
}

int rdpi_counters_register_fn(struct rdpi_counters *reg, const char *name, const char *label,
			      enum rdpi_counter_kind kind, const char *help, rdpi_gauge_fn fn,
			      void *arg)
{
	if (!fn)
		return -EINVAL;
	return add_entry(reg, name, label, kind, help, NULL, fn, arg);
}

static uint64_t rss_gauge(void *arg)
{
	(void)arg;
	return rdpi_process_rss_bytes();
}

int rdpi_counters_register_process(struct rdpi_counters *reg)
{
	return rdpi_counters_register_fn(reg, "process_resident_memory_bytes", NULL, RDPI_GAUGE,
					 "Resident set size of the process in bytes.", rss_gauge,
					 NULL);
}

static uint64_t entry_value(const struct entry *e)
{
	return e->c ? rdpi_counter_get(e->c) : e->fn(e->arg);
}

int rdpi_counters_get(struct rdpi_counters *reg, const char *name, const char *label, uint64_t *ret)
{
	if (!reg || !name)
		return -EINVAL;
	size_t plen = strlen(reg->prefix);
	int rv = -ENOENT;
	uint64_t v = 0;
	pthread_mutex_lock(&reg->lock);
	for (size_t i = 0; i < reg->n; i++) {
		const struct entry *e = &reg->v[i];
		if (strcmp(e->name + plen, name) == 0 && label_eq(e->label, label)) {
			v = entry_value(e);
			rv = 0;
			break;
		}
	}
	pthread_mutex_unlock(&reg->lock);
	if (rv == 0)
		*ret = v;
	return rv;
}

/* Values are sampled under the lock, callbacks run without it (they may call
 * back into the registry). Names are reported without the prefix. */
void rdpi_counters_foreach(struct rdpi_counters *reg, rdpi_counters_each_fn fn, void *arg)
{
	if (!reg || !fn)
		return;
	size_t plen = strlen(reg->prefix);
	pthread_mutex_lock(&reg->lock);
	size_t n = reg->n;
	struct entry *snap = n ? malloc(n * sizeof(*snap)) : NULL;
	uint64_t *vals = n ? malloc(n * sizeof(*vals)) : NULL;
	if (n && (!snap || !vals)) {
		pthread_mutex_unlock(&reg->lock);
		free(snap);
		free(vals);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		snap[i] = reg->v[i];
		vals[i] = entry_value(&reg->v[i]);
	}
	pthread_mutex_unlock(&reg->lock);
	/* strings stay valid: entries are only freed with the registry */
	for (size_t i = 0; i < n; i++)
		fn(arg, snap[i].name + plen, snap[i].label, snap[i].kind, vals[i]);
	free(snap);
	free(vals);
}

static void put_help(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* v / div as an exact decimal (div is a power of ten): 1234 / 10^6 -> 0.001234. */
static void put_value(FILE *f, uint64_t v, uint64_t div)
{
	fprintf(f, "%" PRIu64, v / div);
	uint64_t frac = v % div;
	if (frac) {
		int digits = 0;
		for (uint64_t d = div; d > 1; d /= 10)
			digits++;
		while (frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
		fprintf(f, ".%0*" PRIu64, digits, frac);
	}
	fputc('\n', f);
}

int rdpi_counters_prometheus(struct rdpi_counters *reg, char **ret_text, size_t *ret_len)
{
	if (!reg)
		return -EINVAL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	pthread_mutex_lock(&reg->lock);
	for (size_t i = 0; i < reg->n; i++) {
		const struct entry *e = &reg->v[i];
		if (i == 0 || strcmp(reg->v[i - 1].expo, e->expo) != 0) {
			fprintf(f, "# HELP %s ", e->expo);
			put_help(f, e->help);
			fprintf(f, "\n# TYPE %s %s\n", e->expo, kind_names[e->kind]);
		}
		if (e->label)
			fprintf(f, "%s{%s} ", e->expo, e->label);
		else
			fprintf(f, "%s ", e->expo);
		put_value(f, entry_value(e), e->div);
	}
	pthread_mutex_unlock(&reg->lock);
	bool err = ferror(f) != 0;
	if (fclose(f) != 0 || err || !buf) {
		free(buf);
		return -ENOMEM;
	}
	*ret_text = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

uint64_t rdpi_process_rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	if (!f)
		return 0;
	unsigned long long size = 0, resident = 0;
	int n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	long page = sysconf(_SC_PAGESIZE);
	if (n != 2 || page <= 0)
		return 0;
	return (uint64_t)resident * (uint64_t)page;
}

/* Read-only SQLite handles of the console (see db.h). */
#include "db.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/counters.h"
#include "labels.h"
#include "provider.h"

#define BUSY_TIMEOUT_MS 200
#define MAX_OPT_COLS	8
#define DB_MMAP_SIZE	"268435456"
#define DB_CACHE_KIB	"-65536"

/* Columns added by the v1 migration: a legacy file lacks them. */
static const char *const flows_opt[] = {"flow_id", "conntrack_id",  "l3_proto",	  "risk_score",
					"guessed", "classified_at", "updated_at", NULL};
static const char *const fw_opt[] = {"dpi_source", "dpi_risk_score", NULL};

struct db {
	pthread_mutex_t lock;
	enum db_kind kind;
	char *name, *path;
	struct rdpi_counter *open_errors;
	sqlite3 *h;
	int64_t scale;
	int64_t ts_min, ts_max; /* file units, at open */
	bool has[MAX_OPT_COLS];
	sqlite3_stmt *stmts[DB_STMT_CACHE];
	unsigned next_victim;
	uint32_t opens; /* successful opens: data_version restarts with each connection */
	/* opened with immutable=1 (see db_open); reopened when the file or its WAL changes */
	bool immutable;
	struct timespec mtime;
	off_t size;
};

static const char *const *opt_cols(const struct db *d)
{
	return d->kind == DB_FLOWS ? flows_opt : fw_opt;
}

int db_new(enum db_kind kind, const char *name, const char *path, struct rdpi_counter *open_errors,
	   struct db **ret)
{
	struct db *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->kind = kind;
	d->name = strdup(name);
	d->path = strdup(path);
	d->open_errors = open_errors;
	if (!d->name || !d->path) {
		free(d->name);
		free(d->path);
		free(d);
		return -ENOMEM;
	}
	pthread_mutex_init(&d->lock, NULL);
	*ret = d;
	return 0;
}

static void db_close(struct db *d)
{
	for (size_t i = 0; i < DB_STMT_CACHE; i++) {
		sqlite3_finalize(d->stmts[i]);
		d->stmts[i] = NULL;
	}
	sqlite3_close_v2(d->h);
	d->h = NULL;
}

void db_free(struct db *d)
{
	if (!d)
		return;
	db_close(d);
	pthread_mutex_destroy(&d->lock);
	free(d->name);
	free(d->path);
	free(d);
}

/* ---- SQL functions ------------------------------------------------------------------ */

static const char *text_arg(sqlite3_value *v)
{
	return sqlite3_value_type(v) == SQLITE_NULL ? NULL : (const char *)sqlite3_value_text(v);
}

/* rdpi_dproto(protocol, peer_port, app_name, tls_sni, http_host) */
static void fn_dproto(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int port = sqlite3_value_type(argv[1]) == SQLITE_NULL ? -1 : sqlite3_value_int(argv[1]);
	const char *p = labels_display_protocol(text_arg(argv[0]), port, text_arg(argv[2]),
						text_arg(argv[3]), text_arg(argv[4]));
	sqlite3_result_text(ctx, p, -1, SQLITE_TRANSIENT);
}

/* rdpi_suffix(suffix, host...) : 1 when any host equals or ends with "."suffix */
static void fn_suffix(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *suffix = text_arg(argv[0]);
	int hit = 0;
	for (int i = 1; i < argc && !hit; i++)
		hit = provider_host_has_suffix(text_arg(argv[i]), suffix);
	sqlite3_result_int(ctx, hit);
}

/* rdpi_src(source, app_name) -> normalised source name */
static void fn_src(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	enum labels_source s = labels_source_of(text_arg(argv[0]), text_arg(argv[1]));
	sqlite3_result_text(ctx, labels_source_names[s], -1, SQLITE_STATIC);
}

/* ---- open ------------------------------------------------------------------------------ */

/* "file:" URI with the characters that mean something in a URI escaped. */
static int make_uri(const char *path, bool immutable, char *buf, size_t len)
{
	size_t o = 0;
	int n = snprintf(buf, len, "file:");
	o = (size_t)n;
	for (const char *p = path; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (o + 4 >= len)
			return -ENAMETOOLONG;
		if (c == '?' || c == '#' || c == '%' || c < 0x21 || c >= 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "%%%02X", c);
		else
			buf[o++] = (char)c;
	}
	n = snprintf(buf + o, len - o, immutable ? "?mode=ro&immutable=1" : "?mode=ro");
	return (size_t)n < len - o ? 0 : -ENAMETOOLONG;
}

static int scalar(sqlite3 *h, const char *sql, int64_t *ret)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*ret = sqlite3_column_type(st, 0) == SQLITE_NULL
				   ? 0
				   : sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : -EIO;
}

/* Unit of the stored timestamps from the newest one: ns in our files, s/ms/us in legacy. */
static int64_t scale_of(int64_t v)
{
	if (v <= 0 || v >= 100000000000000000LL) /* >= 1e17: ns (year 1973+) */
		return 1;
	if (v >= 100000000000000LL) /* 1e14: us */
		return 1000;
	if (v >= 100000000000LL) /* 1e11: ms */
		return 1000000;
	return 1000000000;
}

static bool wal_exists(const struct db *d)
{
	char wal[4200];
	snprintf(wal, sizeof(wal), "%s-wal", d->path);
	return access(wal, F_OK) == 0;
}

static int db_open_as(struct db *d, bool immutable, const struct stat *st, char *err,
		      size_t errlen);

/* Opens the file read-only. A WAL file is normally read through its -shm, which the writer
 * (the logger) creates and keeps while it runs. When the logger is stopped there is no -shm,
 * and a reader without write access to the directory (the console runs as another user)
 * cannot create one: then, and only while no -wal exists (no writer has uncheckpointed
 * data), the file is opened immutable=1; db_lock() reopens it normally as soon as the file
 * or its WAL changes. */
static int db_open(struct db *d, char *err, size_t errlen)
{
	struct stat st;
	if (stat(d->path, &st) < 0) {
		snprintf(err, errlen, "%s: %s: %s", d->name, d->path,
			 errno == ENOENT ? "no such file" : strerror(errno));
		return errno == ENOENT ? -ENOENT : -EIO;
	}
	int rv = db_open_as(d, false, &st, err, errlen);
	if (rv < 0 && !wal_exists(d)) {
		char err2[512];
		if (db_open_as(d, true, &st, err2, sizeof(err2)) == 0)
			return 0;
	}
	return rv;
}

static int db_open_as(struct db *d, bool immutable, const struct stat *fst, char *err,
		      size_t errlen)
{
	char uri[4200];
	if (make_uri(d->path, immutable, uri, sizeof(uri)) < 0) {
		snprintf(err, errlen, "%s: %s: path too long", d->name, d->path);
		return -EIO;
	}
	sqlite3 *h = NULL;
	int rc = sqlite3_open_v2(
	    uri, &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s: %s", d->name, d->path,
			 h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
		sqlite3_close_v2(h);
		return -EIO;
	}
	sqlite3_busy_timeout(h, BUSY_TIMEOUT_MS);
	/* scans read every page of the window: map the file and keep pages across requests
	 * (the cache is dropped by SQLite itself when the writer changes the file) */
	sqlite3_exec(h, "PRAGMA mmap_size=" DB_MMAP_SIZE "; PRAGMA cache_size=" DB_CACHE_KIB ";",
		     NULL, NULL, NULL);
	const char *table = d->kind == DB_FLOWS ? "flows" : "firewall_logs";
	const char *tscol = d->kind == DB_FLOWS ? "ts_started" : "ts";
	char sql[256];
	/* columns present */
	bool has[MAX_OPT_COLS] = {false};
	bool any = false;
	snprintf(sql, sizeof(sql), "SELECT name FROM pragma_table_info('%s')", table);
	sqlite3_stmt *stq = NULL;
	rc = sqlite3_prepare_v2(h, sql, -1, &stq, NULL);
	while (rc == SQLITE_OK && sqlite3_step(stq) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(stq, 0);
		any = true;
		for (int i = 0; c && opt_cols(d)[i]; i++)
			if (strcmp(c, opt_cols(d)[i]) == 0)
				has[i] = true;
	}
	sqlite3_finalize(stq);
	int64_t newest = 0, oldest = 0;
	snprintf(sql, sizeof(sql), "SELECT MAX(%s) FROM %s", tscol, table);
	if (rc == SQLITE_OK && any && scalar(h, sql, &newest) == 0) {
		snprintf(sql, sizeof(sql), "SELECT MIN(%s) FROM %s", tscol, table);
		if (scalar(h, sql, &oldest) < 0)
			rc = SQLITE_ERROR;
	} else if (rc == SQLITE_OK) {
		rc = SQLITE_ERROR;
	}
	if (rc != SQLITE_OK || !any) {
		snprintf(err, errlen, "%s: %s: %s", d->name, d->path,
			 !any && rc == SQLITE_OK ? "no table " : sqlite3_errmsg(h));
		if (!any && rc == SQLITE_OK)
			snprintf(err, errlen, "%s: %s: no table %s", d->name, d->path, table);
		sqlite3_close_v2(h);
		return -EIO;
	}
	sqlite3_create_function(h, "rdpi_dproto", 5, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				fn_dproto, NULL, NULL);
	sqlite3_create_function(h, "rdpi_suffix", 5, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				fn_suffix, NULL, NULL);
	sqlite3_create_function(h, "rdpi_src", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, fn_src,
				NULL, NULL);
	d->h = h;
	d->opens++;
	d->immutable = immutable;
	d->mtime = fst->st_mtim;
	d->size = fst->st_size;
	d->scale = scale_of(newest);
	d->ts_min = oldest;
	d->ts_max = newest;
	memcpy(d->has, has, sizeof(has));
	return 0;
}

int db_lock(struct db *d, char *err, size_t errlen)
{
	pthread_mutex_lock(&d->lock);
	if (d->h && d->immutable) {
		struct stat st;
		if (wal_exists(d) || stat(d->path, &st) < 0 || st.st_size != d->size ||
		    st.st_mtim.tv_sec != d->mtime.tv_sec || st.st_mtim.tv_nsec != d->mtime.tv_nsec)
			db_close(d);
	}
	if (d->h)
		return 0;
	int rv = db_open(d, err, errlen);
	if (rv < 0) {
		if (d->open_errors)
			rdpi_counter_inc(d->open_errors);
		pthread_mutex_unlock(&d->lock);
	}
	return rv;
}

void db_unlock(struct db *d)
{
	pthread_mutex_unlock(&d->lock);
}

sqlite3 *db_handle(struct db *d)
{
	return d->h;
}

int64_t db_scale(const struct db *d)
{
	return d->scale;
}

const char *db_col(const struct db *d, const char *col)
{
	const char *const *c = opt_cols(d);
	for (int i = 0; c[i]; i++)
		if (strcmp(c[i], col) == 0)
			return d->has[i] ? col : "NULL";
	return col;
}

sqlite3_stmt *db_stmt(struct db *d, const char *sql, char *err, size_t errlen)
{
	if (!d->h) {
		snprintf(err, errlen, "%s: not open", d->name);
		return NULL;
	}
	for (size_t i = 0; i < DB_STMT_CACHE; i++) {
		sqlite3_stmt *st = d->stmts[i];
		if (st && strcmp(sqlite3_sql(st), sql) == 0) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(d->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s: %s", d->name, d->path, sqlite3_errmsg(d->h));
		sqlite3_finalize(st);
		return NULL;
	}
	unsigned slot = d->next_victim++ % DB_STMT_CACHE;
	sqlite3_finalize(d->stmts[slot]);
	d->stmts[slot] = st;
	return st;
}

bool db_window_is_wide(const struct db *d, int64_t since_ns, int64_t until_ns)
{
	int64_t lo = db_to_file(d, since_ns), hi = db_to_file(d, until_ns);
	if (d->ts_max <= d->ts_min)
		return true;
	if (lo < d->ts_min)
		lo = d->ts_min;
	if (hi > d->ts_max)
		hi = d->ts_max;
	/* a quarter of the file or more: a sequential scan beats index + rowid lookups */
	return hi > lo && (double)(hi - lo) >= 0.25 * (double)(d->ts_max - d->ts_min);
}

int db_version(struct db *d, uint64_t *ret)
{
	char err[64];
	sqlite3_stmt *st = db_stmt(d, "PRAGMA data_version", err, sizeof(err));
	if (!st)
		return -EIO;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return -EIO;
	}
	uint64_t v = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	*ret = (uint64_t)d->opens << 32 | (v & 0xffffffffu);
	return 0;
}

void db_fail(struct db *d)
{
	db_close(d);
}

int64_t db_to_file(const struct db *d, int64_t ns)
{
	return ns / (d->scale ? d->scale : 1);
}

int64_t db_to_ns(const struct db *d, int64_t v)
{
	int64_t s = d->scale ? d->scale : 1;
	if (v > INT64_MAX / s || v < INT64_MIN / s)
		return v > 0 ? INT64_MAX : INT64_MIN;
	return v * s;
}

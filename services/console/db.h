/* Read-only access to firewall-logs.db / traffic-flows.db: one connection per file opened
 * "mode=ro" (never created, migrated or written), reopened on a later request when missing,
 * optional columns detected at open, timestamp unit detected at open, statement cache.
 * Callers hold the lock (db_lock/db_unlock) while using the handle: libmicrohttpd runs one
 * thread per connection. */
#ifndef RDPI_SERVICES_CONSOLE_DB_H
#define RDPI_SERVICES_CONSOLE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define DB_STMT_CACHE 64

enum db_kind { DB_FLOWS, DB_FIREWALL };

struct db;
struct rdpi_counter;

/* name: "traffic-flows.db" (for messages); path copied. open_errors (may be NULL) counts
 * failed opens. */
int db_new(enum db_kind kind, const char *name, const char *path, struct rdpi_counter *open_errors,
	   struct db **ret);
void db_free(struct db *d);

/* Lock and open when needed. On failure the lock is released and err gets
 * "<name>: <path>: <reason>" ("no such file" for a missing file); -ENOENT / -EIO. */
int db_lock(struct db *d, char *err, size_t errlen);
void db_unlock(struct db *d);

/* While locked: the handle, ns per stored timestamp unit (1 for ns files, 1000000000 for
 * seconds...), the column name or "NULL" when the file lacks it (legacy), and a cached
 * statement for the SQL text (prepared on first use, looked up by text, reset and unbound on
 * every call; NULL with err filled on failure). Valid until the next db_stmt/db_unlock. */
sqlite3 *db_handle(struct db *d);
int64_t db_scale(const struct db *d);
const char *db_col(const struct db *d, const char *col);
sqlite3_stmt *db_stmt(struct db *d, const char *sql, char *err, size_t errlen);
/* The window [since, until] covers a large part of the file's timestamps (as of the open):
 * scanning the table beats the timestamp index then. */
bool db_window_is_wide(const struct db *d, int64_t since_ns, int64_t until_ns);

/* While locked: a value that changes whenever another connection (the logger) commits to the
 * file or the handle is reopened: PRAGMA data_version of this connection combined with the
 * open count. Equal values mean identical data. 0 or -EIO. */
int db_version(struct db *d, uint64_t *ret);

/* A query failed: close, so the next request reopens (file replaced, I/O error). */
void db_fail(struct db *d);

/* Converting: unix ns <-> the file's unit. */
int64_t db_to_file(const struct db *d, int64_t ns);
int64_t db_to_ns(const struct db *d, int64_t v);

#endif

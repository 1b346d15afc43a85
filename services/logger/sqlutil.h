/* SQLite plumbing shared by the logger's two databases (store.c: firewall-logs.db, flowsdb.c:
 * traffic-flows.db): result codes to errnos, schema migration by PRAGMA user_version with
 * added columns, NULL-aware binds. */
#ifndef RDPI_SERVICES_LOGGER_SQLUTIL_H
#define RDPI_SERVICES_LOGGER_SQLUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* A column added by a migration when missing. */
struct sqlutil_column {
	const char *table;
	const char *name;
	const char *decl; /* "TEXT", "INTEGER NOT NULL DEFAULT 0" */
};

/* user_version 0 is the legacy (Go-era) schema; version is what this code writes. */
struct sqlutil_schema {
	int version;
	const char *legacy; /* CREATE ... IF NOT EXISTS statements of the legacy schema */
	const struct sqlutil_column *columns;
	size_t ncolumns;
	const char *indexes; /* CREATE INDEX IF NOT EXISTS ... of this version */
};

/* The one place SQLite result codes become errnos; db's (or rc's) text goes to errmsg. */
int sqlutil_err(sqlite3 *db, int rc, char *errmsg, size_t len);
int sqlutil_exec(sqlite3 *db, const char *sql, char *errmsg, size_t len);
/* sqlite3_prepare_v3 with SQLITE_PREPARE_PERSISTENT. */
int sqlutil_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret, char *errmsg, size_t len);

/* Brings the file to schema->version in one IMMEDIATE transaction: a fresh file gets the
 * legacy tables and then the same migration as a legacy file (missing columns added, indexes
 * created). A newer user_version is refused with -EPROTONOSUPPORT. */
int sqlutil_migrate(sqlite3 *db, const struct sqlutil_schema *schema, char *errmsg, size_t len);

/* NULL or "" binds NULL. */
void sqlutil_bind_text(sqlite3_stmt *st, int i, const char *v);
/* v < 0 binds NULL. */
void sqlutil_bind_int(sqlite3_stmt *st, int i, int64_t v);

#endif

/* SQLite helpers shared by store.c and flowsdb.c. */
#include "sqlutil.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int sqlutil_err(sqlite3 *db, int rc, char *errmsg, size_t len)
{
	if (errmsg && len)
		snprintf(errmsg, len, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_TOOBIG:
		return -EMSGSIZE;
	case SQLITE_RANGE:
	case SQLITE_MISUSE:
		return -EINVAL;
	default:
		return -EIO;
	}
}

int sqlutil_exec(sqlite3 *db, const char *sql, char *errmsg, size_t len)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : sqlutil_err(db, rc, errmsg, len);
}

int sqlutil_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret, char *errmsg, size_t len)
{
	int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL);
	return rc == SQLITE_OK ? 0 : sqlutil_err(db, rc, errmsg, len);
}

static int user_version(sqlite3 *db, int *ret, char *errmsg, size_t len)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlutil_err(db, rc, errmsg, len);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : sqlutil_err(db, rc, errmsg, len);
}

static int has_column(sqlite3 *db, const char *table, const char *col, bool *ret, char *errmsg,
		      size_t len)
{
	char sql[128];
	sqlite3_stmt *st;
	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlutil_err(db, rc, errmsg, len);
	*ret = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *n = sqlite3_column_text(st, 1);
		if (n && strcmp((const char *)n, col) == 0)
			*ret = true;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sqlutil_err(db, rc, errmsg, len);
}

int sqlutil_migrate(sqlite3 *db, const struct sqlutil_schema *schema, char *errmsg, size_t len)
{
	int v = 0, rc;
	char sql[256];

	if ((rc = user_version(db, &v, errmsg, len)) < 0)
		return rc;
	if (v > schema->version) {
		snprintf(errmsg, len, "schema version %d is newer than %d", v, schema->version);
		return -EPROTONOSUPPORT;
	}
	if (v == schema->version)
		return 0;
	if ((rc = sqlutil_exec(db, "BEGIN IMMEDIATE", errmsg, len)) < 0)
		return rc;
	if ((rc = sqlutil_exec(db, schema->legacy, errmsg, len)) < 0)
		goto out;
	for (size_t i = 0; i < schema->ncolumns; i++) {
		bool has = false;
		const struct sqlutil_column *c = &schema->columns[i];
		if ((rc = has_column(db, c->table, c->name, &has, errmsg, len)) < 0)
			goto out;
		if (has)
			continue;
		snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s", c->table, c->name,
			 c->decl);
		if ((rc = sqlutil_exec(db, sql, errmsg, len)) < 0)
			goto out;
	}
	if ((rc = sqlutil_exec(db, schema->indexes, errmsg, len)) < 0)
		goto out;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", schema->version);
	if ((rc = sqlutil_exec(db, sql, errmsg, len)) < 0)
		goto out;
	rc = sqlutil_exec(db, "COMMIT", errmsg, len);
out:
	if (rc < 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

void sqlutil_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v && v[0])
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

void sqlutil_bind_int(sqlite3_stmt *st, int i, int64_t v)
{
	if (v < 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

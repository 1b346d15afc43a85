/* Helpers shared by the C test programs: child processes, files, SQLite probes and daemon
 * status values. Failures are reported through cmocka's print_message. */
#ifndef RDPI_TESTS_UTIL_TESTUTIL_H
#define RDPI_TESTS_UTIL_TESTUTIL_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* popen(fmt...): stdout (truncated to outlen-1) into out; the exit status, -1 when the shell
 * could not run or was killed. */
int tu_run(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Fork and exec argv[0] (a path); the child dies with the test (PR_SET_PDEATHSIG), stdin and
 * stdout go to /dev/null, stderr is appended to errpath (NULL: /dev/null). */
pid_t tu_spawn(const char *const *argv, const char *errpath);

/* waitpid with a deadline: the exit status, 128+signal when killed by one, -1 when it did not
 * exit in time (it is then SIGKILLed and reaped). */
int tu_wait_exit(pid_t pid, int timeout_ms);

/* Wait until path is a Unix socket: 0, -ECHILD when pid (> 0) exited first, -ETIMEDOUT. */
int tu_wait_for_socket(const char *path, pid_t pid, int timeout_ms);

/* The build tree into buf: $RDPI_BINARY_DIR (set by ctest), else three levels above this
 * program (<build>/services/<svc>/<test>). */
void tu_build_dir(char *buf, size_t len);

/* Each line of path as "  | line" (daemon logs after a failure). */
void tu_print_file(const char *path);

/* Writes text to path; any error fails the test. */
void tu_write_file(const char *path, const char *text);

/* mkdtemp("/tmp/<prefix>-XXXXXX") into buf; 0 or -1. tu_rmrf removes the tree; 0 or -1. */
int tu_tmpdir(char *buf, size_t len, const char *prefix);
int tu_rmrf(const char *dir);

/* The integer in the first column of the first row of a query on the file db, opened
 * read-only: -1 when it cannot be read (the SQLite error is printed). tu_last_sql() is the
 * last query it ran, for failure messages. */
long long tu_db_int(const char *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *tu_last_sql(void);

/* On an open handle: first column of the first row, -2 for NULL, -1 for no row. */
int64_t tu_q_int(sqlite3 *db, const char *sql);
/* ... as text, "(null)" for NULL; a query without a row fails the test. */
void tu_q_text(sqlite3 *db, const char *sql, char *buf, size_t len);

/* A "stats" value of a daemon status (uint64 rendered as a number or a string). */
bool tu_stat_get(json_t *root, const char *key, unsigned long long *ret);

#endif

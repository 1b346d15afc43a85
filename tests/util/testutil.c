/* Shared test helpers (see testutil.h). */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h> /* after setjmp.h, stdarg.h, stddef.h */

int tu_run(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	int rc = pclose(p);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

pid_t tu_spawn(const char *const *argv, const char *errpath)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* a failed assertion longjmps past the stop calls: never leave a daemon behind */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int fd = open(errpath ? errpath : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		close(null);
	}
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

int tu_wait_exit(pid_t pid, int timeout_ms)
{
	int st;
	for (int i = 0; i < timeout_ms / 10; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (r < 0)
			return -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

int tu_wait_for_socket(const char *path, pid_t pid, int timeout_ms)
{
	for (int i = 0; i < timeout_ms / 10; i++) {
		struct stat st;
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		if (pid > 0 && waitpid(pid, NULL, WNOHANG) == pid)
			return -ECHILD;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

void tu_build_dir(char *buf, size_t len)
{
	const char *b = getenv("RDPI_BINARY_DIR");
	if (b && *b) {
		snprintf(buf, len, "%s", b);
		return;
	}
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	for (int up = 0; up < 3; up++) {
		char *s = strrchr(buf, '/');
		if (s)
			*s = '\0';
	}
}

void tu_print_file(const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		print_message("  | %s", line);
	fclose(f);
}

void tu_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

int tu_tmpdir(char *buf, size_t len, const char *prefix)
{
	int n = snprintf(buf, len, "/tmp/%s-XXXXXX", prefix);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return mkdtemp(buf) ? 0 : -1;
}

int tu_rmrf(const char *dir)
{
	char cmd[4200];
	if (!dir || !*dir || strchr(dir, '\''))
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char last_sql[4096];

const char *tu_last_sql(void)
{
	return last_sql;
}

long long tu_db_int(const char *db, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_sql, sizeof(last_sql), fmt, ap);
	va_end(ap);
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -1;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		print_message("sqlite open %s: %s\n", db, h ? sqlite3_errmsg(h) : "?");
		goto out;
	}
	sqlite3_busy_timeout(h, 2000);
	if (sqlite3_prepare_v2(h, last_sql, -1, &st, NULL) != SQLITE_OK) {
		print_message("sqlite prepare \"%s\": %s\n", last_sql, sqlite3_errmsg(h));
		goto out;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
out:
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

int64_t tu_q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

void tu_q_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	const unsigned char *t = sqlite3_column_text(st, 0);
	snprintf(buf, len, "%s", t ? (const char *)t : "(null)");
	sqlite3_finalize(st);
}

bool tu_stat_get(json_t *root, const char *key, unsigned long long *ret)
{
	json_t *v = json_object_get(json_object_get(root, "stats"), key);
	if (json_is_integer(v)) {
		*ret = (unsigned long long)json_integer_value(v);
		return true;
	}
	if (json_is_string(v)) {
		char *end;
		errno = 0;
		unsigned long long x = strtoull(json_string_value(v), &end, 10);
		if (errno || *end)
			return false;
		*ret = x;
		return true;
	}
	return false;
}

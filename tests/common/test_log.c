/* Tests for common/log: line format, level filtering and parsing, and the
 * rate limiter (burst printed, rest suppressed, one summary line after). */
#include "common/log.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* Captured output of the log through the stream hook. */
struct capture {
	FILE *f;
};

static void capture_begin(struct capture *c)
{
	c->f = tmpfile();
	assert_non_null(c->f);
	rdpi_log_set_stream(c->f);
}

/* Returns the text written so far (caller frees) and ends the capture. */
static char *capture_end(struct capture *c)
{
	rdpi_log_set_stream(NULL);
	fflush(c->f);
	long n = ftell(c->f);
	assert_true(n >= 0);
	char *buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	rewind(c->f);
	assert_int_equal(fread(buf, 1, (size_t)n, c->f), (size_t)n);
	fclose(c->f);
	return buf;
}

static size_t count_substr(const char *s, const char *sub)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, sub)) != NULL; p += strlen(sub))
		n++;
	return n;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int setup(void **state)
{
	(void)state;
	rdpi_log_init("test-log", RDPI_LOG_STDERR, LOG_DEBUG);
	return 0;
}

static void test_log_line_format(void **state)
{
	(void)state;
	struct capture c;
	capture_begin(&c);
	rdpi_log(LOG_WARNING, "nflog", "lost %d messages\n", 3);
	rdpi_log(LOG_ERR, "db", "cannot open %s", "x.db");
	rdpi_log(LOG_INFO, NULL, "no tag");
	char *out = capture_end(&c);
	assert_string_equal(out, "warning nflog: lost 3 messages\n"
				 "err db: cannot open x.db\n"
				 "info test-log: no tag\n");
	free(out);
}

static void test_log_level_filter(void **state)
{
	(void)state;
	struct capture c;
	rdpi_log_set_level(LOG_NOTICE);
	capture_begin(&c);
	rdpi_log(LOG_DEBUG, "t", "hidden debug");
	rdpi_log(LOG_INFO, "t", "hidden info");
	rdpi_log(LOG_NOTICE, "t", "shown notice");
	rdpi_log(LOG_CRIT, "t", "shown crit");
	char *out = capture_end(&c);
	rdpi_log_set_level(LOG_DEBUG);
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, "notice t: shown notice\n"));
	assert_non_null(strstr(out, "crit t: shown crit\n"));
	free(out);
}

static void test_log_level_parse(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int level;
	} ok[] = {
	    {"emerg", LOG_EMERG},  {"alert", LOG_ALERT},   {"crit", LOG_CRIT},
	    {"err", LOG_ERR},	   {"error", LOG_ERR},	   {"warning", LOG_WARNING},
	    {"warn", LOG_WARNING}, {"notice", LOG_NOTICE}, {"info", LOG_INFO},
	    {"debug", LOG_DEBUG},  {"DEBUG", LOG_DEBUG},   {"6", LOG_INFO},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int lvl = -1;
		assert_int_equal(rdpi_log_level_parse(ok[i].name, &lvl), 0);
		assert_int_equal(lvl, ok[i].level);
	}
	int lvl = 42;
	assert_int_equal(rdpi_log_level_parse("verbose", &lvl), -EINVAL);
	assert_int_equal(rdpi_log_level_parse("", &lvl), -EINVAL);
	assert_int_equal(rdpi_log_level_parse("8", &lvl), -EINVAL);
	assert_int_equal(rdpi_log_level_parse(NULL, &lvl), -EINVAL);
	assert_int_equal(lvl, 42);
}

static void test_log_ratelimit_burst_then_summary(void **state)
{
	(void)state;
	struct rdpi_ratelimit rl = {.interval_ms = 200, .burst = 3};
	struct capture c;
	capture_begin(&c);
	for (int i = 0; i < 10; i++)
		rdpi_log_rl(&rl, LOG_WARNING, "queue", "drop %d", i);
	char *out = capture_end(&c);
	assert_string_equal(out, "warning queue: drop 0\n"
				 "warning queue: drop 1\n"
				 "warning queue: drop 2\n");
	free(out);
	assert_int_equal(rl.suppressed, 7);

	sleep_ms(250); /* window rolls over */
	capture_begin(&c);
	rdpi_log_rl(&rl, LOG_WARNING, "queue", "drop %d", 10);
	rdpi_log_rl(&rl, LOG_WARNING, "queue", "drop %d", 11);
	out = capture_end(&c);
	assert_string_equal(out, "warning queue: 7 similar messages suppressed\n"
				 "warning queue: drop 10\n"
				 "warning queue: drop 11\n");
	free(out);

	/* a quiet window reports nothing */
	sleep_ms(250);
	capture_begin(&c);
	rdpi_log_rl(&rl, LOG_WARNING, "queue", "drop %d", 12);
	out = capture_end(&c);
	assert_string_equal(out, "warning queue: drop 12\n");
	free(out);
}

static void test_log_ratelimit_flush(void **state)
{
	(void)state;
	struct rdpi_ratelimit rl = {.interval_ms = 100, .burst = 1};
	struct capture c;
	capture_begin(&c);
	rdpi_log_rl(&rl, LOG_WARNING, "nflog", "enobufs");
	rdpi_log_rl(&rl, LOG_WARNING, "nflog", "enobufs");
	rdpi_log_rl(&rl, LOG_WARNING, "nflog", "enobufs");
	rdpi_log_rl_flush(&rl, LOG_WARNING, "nflog"); /* window still open: nothing */
	sleep_ms(150);
	rdpi_log_rl_flush(&rl, LOG_WARNING, "nflog");
	rdpi_log_rl_flush(&rl, LOG_WARNING, "nflog"); /* reported once */
	char *out = capture_end(&c);
	assert_string_equal(out, "warning nflog: enobufs\n"
				 "warning nflog: 2 similar messages suppressed\n");
	free(out);
}

static void test_log_ratelimit_defaults(void **state)
{
	(void)state;
	struct rdpi_ratelimit rl = {0}; /* 10 s / 5 */
	struct capture c;
	capture_begin(&c);
	for (int i = 0; i < 20; i++)
		rdpi_log_rl(&rl, LOG_ERR, "x", "e%d", i);
	char *out = capture_end(&c);
	assert_int_equal(count_substr(out, "err x: e"), 5);
	assert_int_equal(rl.suppressed, 15);
	free(out);
}

struct rl_thread {
	struct rdpi_ratelimit *rl;
};

static void *rl_worker(void *arg)
{
	struct rl_thread *t = arg;
	for (int i = 0; i < 1000; i++)
		rdpi_log_rl(t->rl, LOG_NOTICE, "mt", "hit");
	return NULL;
}

static void test_log_ratelimit_threads(void **state)
{
	(void)state;
	struct rdpi_ratelimit rl = {.interval_ms = 60000, .burst = 10};
	struct rl_thread t = {.rl = &rl};
	pthread_t th[4];
	struct capture c;
	capture_begin(&c);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, rl_worker, &t), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	char *out = capture_end(&c);
	assert_int_equal(count_substr(out, "notice mt: hit\n"), 10);
	assert_int_equal(rl.printed, 10);
	assert_int_equal(rl.suppressed, 3990);
	free(out);
}

/* Without the hook the line goes to the real stderr (fd 2). */
static void test_log_stderr_fd(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(p[1], STDERR_FILENO) >= 0);
	rdpi_log(LOG_NOTICE, "pipe", "hello %s", "stderr");
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	close(p[1]);
	char buf[256] = "";
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	assert_true(n > 0);
	buf[n] = '\0';
	/* journald "<N>" prefix only when JOURNAL_STREAM is set */
	const char *line = buf[0] == '<' ? strchr(buf, '>') + 1 : buf;
	assert_string_equal(line, "notice pipe: hello stderr\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log_line_format),
	    cmocka_unit_test(test_log_level_filter),
	    cmocka_unit_test(test_log_level_parse),
	    cmocka_unit_test(test_log_ratelimit_burst_then_summary),
	    cmocka_unit_test(test_log_ratelimit_flush),
	    cmocka_unit_test(test_log_ratelimit_defaults),
	    cmocka_unit_test(test_log_ratelimit_threads),
	    cmocka_unit_test(test_log_stderr_fd),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

/* Daemon logging: "<level> <tag>: message" lines on stderr (with a "<N>"
 * priority prefix when stderr goes to journald) or syslog, plus rate limiting. */
#include "common/log.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 2048
#define IDENT_MAX    64

static const char *const level_names[] = {
    [LOG_EMERG] = "emerg",     [LOG_ALERT] = "alert",	[LOG_CRIT] = "crit", [LOG_ERR] = "err",
    [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};
_Static_assert(sizeof(level_names) / sizeof(level_names[0]) == LOG_DEBUG + 1, "level table");

static const struct {
	const char *name;
	int level;
} level_aliases[] = {
    {"emergency", LOG_EMERG}, {"panic", LOG_EMERG},  {"critical", LOG_CRIT},
    {"error", LOG_ERR},	      {"warn", LOG_WARNING},
};

/* openlog() keeps the ident pointer, so it lives here. */
static char log_ident[IDENT_MAX] = "routerd-dpi";
static _Atomic int log_target = RDPI_LOG_STDERR;
static _Atomic int log_max_level = LOG_INFO;
static _Atomic int log_prefix_prio = -1; /* -1: not decided yet */
static FILE *_Atomic log_stream;

void rdpi_log_init(const char *ident, enum rdpi_log_target target, int max_level)
{
	if (ident && *ident)
		snprintf(log_ident, sizeof(log_ident), "%s", ident);
	rdpi_log_set_level(max_level);
	/* journald strips "<N>" and uses it as the priority (JOURNAL_STREAM is
	 * set by systemd when stderr is connected to the journal) */
	atomic_store(&log_prefix_prio, !isatty(STDERR_FILENO) && getenv("JOURNAL_STREAM") != NULL);
	if (target == RDPI_LOG_SYSLOG)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&log_target, target == RDPI_LOG_SYSLOG ? RDPI_LOG_SYSLOG : RDPI_LOG_STDERR);
}

void rdpi_log_set_level(int max_level)
{
	if (max_level < LOG_EMERG)
		max_level = LOG_EMERG;
	if (max_level > LOG_DEBUG)
		max_level = LOG_DEBUG;
	atomic_store(&log_max_level, max_level);
}

void rdpi_log_set_stream(FILE *f)
{
	atomic_store(&log_stream, f);
}

int rdpi_log_level_parse(const char *name, int *ret_level)
{
	if (!name)
		return -EINVAL;
	for (int i = 0; i <= LOG_DEBUG; i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*ret_level = i;
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(level_aliases) / sizeof(level_aliases[0]); i++) {
		if (strcasecmp(name, level_aliases[i].name) == 0) {
			*ret_level = level_aliases[i].level;
			return 0;
		}
	}
	if (name[0] >= '0' && name[0] <= '7' && name[1] == '\0') {
		*ret_level = name[0] - '0';
		return 0;
	}
	return -EINVAL;
}

static bool level_enabled(int level)
{
	return level >= LOG_EMERG && level <= atomic_load(&log_max_level);
}

static void vlog(int level, const char *tag, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void vlog(int level, const char *tag, const char *fmt, va_list ap)
{
	char msg[LINE_MAX_LEN];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (!tag || !*tag)
		tag = log_ident;
	level &= LOG_PRIMASK;

	if (atomic_load(&log_target) == RDPI_LOG_SYSLOG) {
		syslog(level, "%s: %s", tag, msg);
		return;
	}
	FILE *f = atomic_load(&log_stream);
	if (!f)
		f = stderr;
	int prefix = atomic_load(&log_prefix_prio);
	if (prefix < 0) {
		prefix = !isatty(STDERR_FILENO) && getenv("JOURNAL_STREAM") != NULL;
		atomic_store(&log_prefix_prio, prefix);
	}
	/* one locked write per line so threads do not interleave */
	flockfile(f);
	if (prefix && f == stderr)
		fprintf(f, "<%d>", level);
	fprintf(f, "%s %s: %s\n", level_names[level], tag, msg);
	fflush(f);
	funlockfile(f);
}

void rdpi_log(int level, const char *tag, const char *fmt, ...)
{
	if (!level_enabled(level & LOG_PRIMASK))
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(level, tag, fmt, ap);
	va_end(ap);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + 1;
}

/* rl->lock is a spin flag around a few loads and stores; formatting and
 * output happen outside it. */
static void rl_lock(struct rdpi_ratelimit *rl)
{
	while (__atomic_exchange_n(&rl->lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void rl_unlock(struct rdpi_ratelimit *rl)
{
	__atomic_store_n(&rl->lock, 0, __ATOMIC_RELEASE);
}

void rdpi_log_rl_flush(struct rdpi_ratelimit *rl, int level, const char *tag)
{
	if (!level_enabled(level & LOG_PRIMASK))
		return;
	uint64_t now = now_ns();
	uint64_t interval = (uint64_t)(rl->interval_ms ? rl->interval_ms : 10000) * 1000000ull;
	uint64_t report = 0;
	rl_lock(rl);
	if (rl->suppressed && now - rl->window_start_ns >= interval) {
		report = rl->suppressed;
		rl->suppressed = 0;
		rl->printed = 0;
		rl->window_start_ns = now;
	}
	rl_unlock(rl);
	if (report)
		rdpi_log(level, tag, "%" PRIu64 " similar messages suppressed", report);
}

void rdpi_log_rl(struct rdpi_ratelimit *rl, int level, const char *tag, const char *fmt, ...)
{
	if (!level_enabled(level & LOG_PRIMASK))
		return;
	uint64_t now = now_ns();
	uint64_t interval = (uint64_t)(rl->interval_ms ? rl->interval_ms : 10000) * 1000000ull;
	uint32_t burst = rl->burst ? rl->burst : 5;
	uint64_t report = 0;
	bool emit;

	rl_lock(rl);
	if (rl->window_start_ns == 0 || now - rl->window_start_ns >= interval) {
		report = rl->suppressed;
		rl->suppressed = 0;
		rl->printed = 0;
		rl->window_start_ns = now;
	}
	emit = rl->printed < burst;
	if (emit)
		rl->printed++;
	else
		rl->suppressed++;
	rl_unlock(rl);

	if (report)
		rdpi_log(level, tag, "%" PRIu64 " similar messages suppressed", report);
	if (emit) {
		va_list ap;
		va_start(ap, fmt);
		vlog(level, tag, fmt, ap);
		va_end(ap);
	}
}

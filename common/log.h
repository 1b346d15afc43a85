/* Daemon logging: syslog levels to stderr (journald) or syslog, stable short
 * tags, rate limiting of repeated conditions. common/ itself logs only debug. */
#ifndef RDPI_COMMON_LOG_H
#define RDPI_COMMON_LOG_H

#include <stdint.h>
#include <stdio.h>
#include <syslog.h>

enum rdpi_log_target { RDPI_LOG_STDERR, RDPI_LOG_SYSLOG };

/* ident: program name; messages above max_level (e.g. LOG_INFO) are dropped. */
void rdpi_log_init(const char *ident, enum rdpi_log_target target, int max_level);
void rdpi_log_set_level(int max_level);
int rdpi_log_level_parse(const char *name, int *ret_level);  /* "debug".."err" */
/* Write stderr-target lines to f instead of stderr (tests); NULL restores
 * stderr. The caller keeps f open while it is set. */
void rdpi_log_set_stream(FILE *f);

void rdpi_log(int level, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A repeating condition: at most burst lines per interval; when the window
 * rolls over, one line reports how many were suppressed. Zero-initialise;
 * interval_ms/burst of 0 mean 10000 ms / 5. Thread-safe. */
struct rdpi_ratelimit {
	uint32_t interval_ms;
	uint32_t burst;
	uint64_t window_start_ns;
	uint32_t printed;
	uint64_t suppressed;
	int lock;
};

void rdpi_log_rl(struct rdpi_ratelimit *rl, int level, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Print the pending "N similar messages suppressed" line once the window has
 * rolled over, without a new message (call from a timer so a condition that
 * stopped still gets its summary). */
void rdpi_log_rl_flush(struct rdpi_ratelimit *rl, int level, const char *tag);

#endif

/* Query parameter parsers of the console API (fuzzed: tests/fuzz/console/fuzz_params.c).
 * All return 0 or -EINVAL/-ERANGE and write the output only on success; msg (may be NULL)
 * gets a short reason for the 400 answer. */
#ifndef RDPI_SERVICES_CONSOLE_PARAMS_H
#define RDPI_SERVICES_CONSOLE_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Positive Go duration ("90s", "1h30m") or "Nd" days, at most max_ns. */
int params_duration(const char *s, int64_t max_ns, int64_t *ret_ns, const char **msg);

/* RFC3339 ("2026-11-27T03:30:00Z", fraction and +hh:mm offsets allowed) or unix seconds
 * (digits, optional fraction) -> unix ns. */
int params_time(const char *s, int64_t *ret_ns, const char **msg);

/* Decimal count >= min; values above max are capped to max (not an error). */
int params_count(const char *s, int64_t min, int64_t max, int64_t *ret, const char **msg);

/* true/false/1/0/yes/no */
int params_bool(const char *s, bool *ret, const char **msg);

/* Free text filters: at most 256 bytes, no control characters. */
int params_text(const char *s, const char **msg);

#endif

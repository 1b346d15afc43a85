/* Go-compatible durations ("1h30m", "200ms") and 1024-based byte sizes ("64k",
 * "1MiB") as written in dpi.conf, on command lines and shown by the console. */
#ifndef RDPI_COMMON_DURATION_H
#define RDPI_COMMON_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Big enough for any rdpi_duration_format / rdpi_size_format output plus NUL. */
#define RDPI_DURATION_STRLEN 32

/* Parse Go time.ParseDuration syntax: [-+]?([0-9]*(\.[0-9]*)?unit)+ with units
 * ns, us, µs (U+00B5 or U+03BC), ms, s, m, h, plus d (24h). A bare "0" (signed
 * or not) needs no unit. Returns 0, -EINVAL on bad syntax, missing or unknown
 * unit, -ERANGE when the total does not fit int64 nanoseconds. *ret_ns is
 * written only on success. */
int rdpi_duration_parse(const char *s, int64_t *ret_ns);

/* Write exactly what Go's time.Duration.String() prints ("1h0m0s", "1.5s",
 * "1µs", "0s"). Output is truncated (and NUL-terminated) to fit len; len 0
 * writes nothing. RDPI_DURATION_STRLEN always fits. */
void rdpi_duration_format(int64_t ns, char *buf, size_t len);

/* Parse a byte count: decimal digits with an optional case-insensitive suffix
 * b, k/kb/kib, m/mb/mib, g/gb/gib, t/tb/tib, all 1024-based. No sign, no
 * fraction, no spaces. Returns 0, -EINVAL, -ERANGE (beyond INT64_MAX). */
int rdpi_size_parse(const char *s, int64_t *ret_bytes);

/* Format bytes with the largest exact binary unit (2048 -> "2KiB", 1<<30 ->
 * "1GiB") or as a plain number (1000 -> "1000", 0 -> "0"). Non-negative
 * values parse back with rdpi_size_parse. Truncates like rdpi_duration_format. */
void rdpi_size_format(int64_t bytes, char *buf, size_t len);

#endif

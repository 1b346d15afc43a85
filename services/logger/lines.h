/* Text line inputs of the logger (--input-format auto|json|kv|nflog-tcpdump): one line of
 * kernel log (nftables/iptables LOG), JSON (ours or ulogd2) or `tcpdump -n -tt -i nflog:N`
 * output becomes one struct lentry, ready for the flow table and the writer. */
#ifndef RDPI_SERVICES_LOGGER_LINES_H
#define RDPI_SERVICES_LOGGER_LINES_H

#include <stddef.h>
#include <stdint.h>

struct lentry;

enum lines_format {
	LINES_AUTO,
	LINES_JSON,
	LINES_KV,
	LINES_TCPDUMP,
	LINES__COUNT,
};

/* "auto", "json", "kv", "nflog-tcpdump" -> *ret. -EINVAL for anything else (ret untouched). */
int lines_format_parse(const char *name, enum lines_format *ret);

/* Inverse of lines_format_parse(); NULL out of range. */
const char *lines_format_name(enum lines_format f);

/* Detects the format of one line: a leading '{' is JSON; a timestamp (unix seconds) followed
 * by "IP"/"IP6" (or by a -e link header ending in ": IP ") is tcpdump; SRC= and DST= tokens
 * are kv. Returns 0 (*ret = LINES_JSON/KV/TCPDUMP), -ENODATA for a blank or comment (#)
 * line, -EINVAL when the line matches none. */
int lines_detect(const char *line, enum lines_format *ret);

/* Returns 1 when line is a tcpdump -v IPv4 header without addresses
 * ("<ts> IP (tos 0x0, ttl 64, ..., length 60)"): tcpdump prints the addresses on the next,
 * indented line. The caller then joins the two (this line, one space, the next line) and
 * parses the result. Returns 0 otherwise. */
int lines_tcpdump_needs_continuation(const char *line);

/* Parses one line (NUL-terminated; a trailing "\r\n" or "\n" is ignored) into *e, which is
 * zeroed first: tag LENTRY_TAG_JSON/KV/TCPDUMP, prefix rules applied (lentry_set_prefix),
 * tuple, flags, packet_bytes (IP length, 0 when the line does not say), flow key. pkt and v
 * stay NULL, candidate false: text inputs never carry packet bytes, and payload fields of a
 * JSON line are ignored. fallback_ts_ns is used when the line has no timestamp. LINES_AUTO
 * detects per line.
 * Returns 0; -ENODATA for a blank or comment line (skip it silently); -EINVAL for bad input,
 * with a one-line human message in err (e.g. "kv: SRC=300.1.1.1: bad address").
 * On error *e is left zeroed. err may be NULL / errlen 0. Never reads past the string. */
int lines_parse(enum lines_format f, const char *line, uint64_t fallback_ts_ns, struct lentry *e,
		char *err, size_t errlen);

#endif

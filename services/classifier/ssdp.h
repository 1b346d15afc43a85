/* SSDP (UPnP discovery, udp/1900) parser: M-SEARCH / NOTIFY requests and HTTPU 200 responses
 * with their ST/NT, NTS, USN and SERVER headers. Used by the builtin engine. */
#ifndef RDPI_CLASSIFIER_SSDP_H
#define RDPI_CLASSIFIER_SSDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSDP_VALUE_MAX 128

enum ssdp_kind {
	SSDP_MSEARCH = 1,  /* "M-SEARCH * HTTP/1.1" */
	SSDP_NOTIFY = 2,   /* "NOTIFY * HTTP/1.1" */
	SSDP_RESPONSE = 3, /* "HTTP/1.1 200 OK" answering an M-SEARCH */
};

/* Values are trimmed, printable ASCII (others -> '?'), case kept, truncated; "" if absent. */
struct ssdp_message {
	enum ssdp_kind kind;
	char target[SSDP_VALUE_MAX]; /* ST (search / response) or NT (notify) */
	char nts[32];		     /* "ssdp:alive", "ssdp:byebye", "ssdp:update" */
	char usn[SSDP_VALUE_MAX];
	char server[SSDP_VALUE_MAX]; /* SERVER, or USER-AGENT of a search */
	char location[SSDP_VALUE_MAX];
};

/* Parses an SSDP datagram. Returns 0 and fills *ret; -ENOMSG if the start line is none of the
 * three, or a 200 response has neither ST nor USN (a plain HTTP response). Header names match
 * case-insensitively; lines end in CRLF or LF; at most 64 header lines are read and a datagram
 * cut short keeps what was read. Never reads beyond p[n - 1]. */
int ssdp_parse(const uint8_t *p, size_t n, struct ssdp_message *ret);

/* "m-search", "notify", "response" or "unknown". */
const char *ssdp_kind_name(enum ssdp_kind kind);

#endif

/* NTP (v1..v4) header parser: version, mode, stratum and reference id. Used by the builtin
 * engine on udp/123 only. */
#ifndef RDPI_CLASSIFIER_NTP_H
#define RDPI_CLASSIFIER_NTP_H

#include <stddef.h>
#include <stdint.h>

#define NTP_HEADER_LEN 48

enum ntp_mode {
	NTP_MODE_SYMMETRIC_ACTIVE = 1,
	NTP_MODE_SYMMETRIC_PASSIVE = 2,
	NTP_MODE_CLIENT = 3,
	NTP_MODE_SERVER = 4,
	NTP_MODE_BROADCAST = 5,
};

struct ntp_message {
	uint8_t leap;	 /* 0..3 */
	uint8_t version; /* 1..4 */
	enum ntp_mode mode;
	uint8_t stratum; /* 0 (unspecified / kiss-o'-death) .. 16 (unsynchronised) */
	int8_t poll;
	int8_t precision;
	uint32_t reference_id;
	/* stratum 0/1: the 4-character kiss code or reference source ("GPS", "PPS", "RATE"),
	 * printable ASCII only, else ""; other strata carry an address hash: "" */
	char reference_text[5];
	size_t extension_len; /* bytes after the 48-byte header (extension fields, NTS, MAC) */
};

/* Parses an NTP packet. Returns 0 and fills *ret; -ENOMSG if it is not NTP mode 1..5
 * (shorter than 48 bytes, version not 1..4, mode 0/6/7, stratum > 16). Never reads beyond
 * p[n - 1]. */
int ntp_parse(const uint8_t *p, size_t n, struct ntp_message *ret);

/* "symmetric-active", "symmetric-passive", "client", "server", "broadcast" or "unknown". */
const char *ntp_mode_name(enum ntp_mode mode);

#endif

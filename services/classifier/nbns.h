/* NetBIOS Name Service (udp/137) parser: header and the first-level-decoded NetBIOS name of the
 * question (or of the first answer in a response). Used by the classifier's builtin engine. */
#ifndef RDPI_CLASSIFIER_NBNS_H
#define RDPI_CLASSIFIER_NBNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NBNS_NAME_MAX 16 /* 15 name bytes + NUL */

#define NBNS_TYPE_NB	 0x0020
#define NBNS_TYPE_NBSTAT 0x0021

struct nbns_query {
	uint16_t id;
	bool response;
	uint8_t opcode; /* 0 query, 5 registration, 6 release, 7 WACK, 8 refresh */
	uint8_t rcode;
	bool broadcast;
	/* First 15 decoded bytes, trailing spaces and NULs trimmed, lowercased; other bytes that
	 * are not printable ASCII become '?'. The wildcard "*" stays "*". */
	char name[NBNS_NAME_MAX];
	uint8_t suffix; /* 16th byte: 0x00 workstation, 0x20 file server, 0x1b/0x1c domain ... */
	uint16_t type;	/* NBNS_TYPE_NB or NBNS_TYPE_NBSTAT */
};

/* Parses an NBNS packet. Returns 0 and fills *ret; -ENOMSG if it is not NBNS (short header,
 * unknown opcode, implausible counts, name not a 32-byte 'A'..'P' encoding, type not NB/NBSTAT,
 * class not IN); -EINVAL if it looks like NBNS but the name or scope is malformed or cut short.
 * Never reads beyond p[n - 1]. */
int nbns_parse(const uint8_t *p, size_t n, struct nbns_query *ret);

#endif

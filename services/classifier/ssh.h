/* SSH identification-line parser ("SSH-2.0-OpenSSH_9.2p1 Debian-2"), tolerant of a first packet
 * cut before CRLF. Used by the builtin engine on TCP payloads. */
#ifndef RDPI_CLASSIFIER_SSH_H
#define RDPI_CLASSIFIER_SSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSH_VERSION_MAX	 8
#define SSH_SOFTWARE_MAX 64
#define SSH_COMMENT_MAX	 64

struct ssh_banner {
	char proto_version[SSH_VERSION_MAX]; /* "2.0", "1.99" or "1.5" */
	char software[SSH_SOFTWARE_MAX];     /* case kept, truncated */
	char comments[SSH_COMMENT_MAX];	     /* text after the first space, truncated; may be "" */
	bool complete;			     /* the line ended with LF (CRLF or bare LF) */
};

/* Parses the identification line at the start of p. Returns 0 and fills *ret; -ENOMSG if p
 * does not start with "SSH-<version>-" for version 2.0, 1.99 or 1.5; -EINVAL if the software
 * version is empty, the line holds a control byte or is longer than 255 bytes. A line without
 * CR/LF (cut first packet) is accepted with complete false. Never reads beyond p[n - 1]. */
int ssh_parse_banner(const uint8_t *p, size_t n, struct ssh_banner *ret);

#endif

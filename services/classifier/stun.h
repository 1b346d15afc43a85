/* STUN (RFC 5389/8489) message parser: header with magic cookie, class/method and a bounded
 * attribute walk for labelling hints (ICE, TURN, SOFTWARE). Used by the builtin engine on UDP. */
#ifndef RDPI_CLASSIFIER_STUN_H
#define RDPI_CLASSIFIER_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STUN_HEADER_LEN	  20
#define STUN_MAGIC_COOKIE 0x2112A442u
#define STUN_SOFTWARE_MAX 64 /* 63 bytes + NUL */
#define STUN_MAX_ATTRS	  64

enum stun_class {
	STUN_CLASS_REQUEST = 0,
	STUN_CLASS_INDICATION = 1,
	STUN_CLASS_SUCCESS = 2,
	STUN_CLASS_ERROR = 3,
};

#define STUN_METHOD_BINDING	0x001
#define STUN_METHOD_ALLOCATE	0x003
#define STUN_METHOD_REFRESH	0x004
#define STUN_METHOD_SEND	0x006
#define STUN_METHOD_DATA	0x007
#define STUN_METHOD_CREATEPERM	0x008
#define STUN_METHOD_CHANNELBIND 0x009

struct stun_message {
	uint16_t type; /* raw message type */
	enum stun_class msg_class;
	uint16_t method;
	uint16_t length; /* declared attribute bytes */
	uint8_t transaction_id[12];
	bool truncated; /* length runs past the payload: attributes walked as far as present */
	unsigned n_attrs;
	bool has_username;
	bool has_xor_mapped_address;
	bool has_mapped_address;
	bool has_message_integrity;
	bool has_fingerprint;
	bool has_software;
	bool ice;  /* PRIORITY, USE-CANDIDATE or ICE-CONTROLLED/-CONTROLLING: WebRTC/ICE check */
	bool turn; /* TURN method or REALM/NONCE/LIFETIME/REQUESTED-TRANSPORT attribute */
	/* SOFTWARE value, truncated, non-printable ASCII -> '?' (case kept). "tailnode" is
	 * Tailscale's magicsock. */
	char software[STUN_SOFTWARE_MAX];
};

/* Parses a STUN message. Returns 0 and fills *ret; -ENOMSG if it is not STUN (shorter than the
 * header, top two bits set, no magic cookie, length not a multiple of 4); -EINVAL if an
 * attribute overruns the declared length. Bytes after the declared length (TCP framing) are
 * ignored; a declared length past n sets truncated. Never reads beyond p[n - 1]. */
int stun_parse(const uint8_t *p, size_t n, struct stun_message *ret);

/* "request", "indication", "success", "error". */
const char *stun_class_name(enum stun_class c);

/* "binding", "allocate", ... or "unknown". */
const char *stun_method_name(uint16_t method);

#endif

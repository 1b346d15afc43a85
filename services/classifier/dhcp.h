/* DHCPv4 message parser: BOOTP header, magic cookie and a bounded options walk (message type,
 * hostname, vendor class, requested address). Used by the builtin engine on UDP 67/68. */
#ifndef RDPI_CLASSIFIER_DHCP_H
#define RDPI_CLASSIFIER_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_HOSTNAME_MAX 64
#define DHCP_VENDOR_MAX	  64
#define DHCP_CHADDR_MAX	  48 /* 16 bytes as "xx:" ... + NUL */

enum dhcp_msg_type {
	DHCP_NONE = 0, /* plain BOOTP: no option 53 */
	DHCP_DISCOVER = 1,
	DHCP_OFFER = 2,
	DHCP_REQUEST = 3,
	DHCP_DECLINE = 4,
	DHCP_ACK = 5,
	DHCP_NAK = 6,
	DHCP_RELEASE = 7,
	DHCP_INFORM = 8,
};

struct dhcp_message {
	uint8_t op; /* 1 request, 2 reply */
	uint8_t htype;
	uint8_t hlen;
	uint32_t xid;
	uint8_t ciaddr[16];		    /* IPv4-mapped ::ffff:a.b.c.d */
	uint8_t yiaddr[16];		    /* IPv4-mapped */
	char chaddr[DHCP_CHADDR_MAX];	    /* "aa:bb:cc:dd:ee:ff" (hlen bytes, lowercase hex) */
	enum dhcp_msg_type msg_type;	    /* option 53; DHCP_NONE if absent or out of range */
	const char *msg_type_name;	    /* "discover" ... "inform", or "bootp" */
	char hostname[DHCP_HOSTNAME_MAX];   /* option 12, lowercased, truncated; "" if absent */
	char vendor_class[DHCP_VENDOR_MAX]; /* option 60, case kept, truncated; "" if absent */
	bool has_requested_ip;
	uint8_t requested_ip[16];  /* option 50, IPv4-mapped */
	uint8_t param_request_len; /* option 55 length; the list itself is not kept */
	bool truncated;		   /* an option ran past the payload: walk stopped there */
};

/* Parses a DHCPv4/BOOTP message. Returns 0 and fills *ret; -ENOMSG if it is not one (shorter
 * than 240 bytes, op not 1/2, hlen > 16, no magic cookie 0x63825363). Text is printable ASCII
 * (others -> '?'). Never reads beyond p[n - 1]. */
int dhcp_parse(const uint8_t *p, size_t n, struct dhcp_message *ret);

/* "discover", "offer", "request", "decline", "ack", "nak", "release", "inform"; "bootp" for
 * DHCP_NONE and anything else. */
const char *dhcp_msg_type_name(enum dhcp_msg_type type);

#endif

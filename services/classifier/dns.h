/* Bounded DNS wire-format parser (DNS, mDNS and LLMNR share it): header, first question and
 * the A/AAAA/CNAME answers of a response. Used by the builtin engine and the DNS name cache. */
#ifndef RDPI_CLASSIFIER_DNS_H
#define RDPI_CLASSIFIER_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_LEN	12
#define DNS_NAME_MAX	256 /* 253 text bytes + NUL always fit: no name is ever cut */
#define DNS_MAX_ANSWERS 16

#define DNS_TYPE_A     1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_PTR   12
#define DNS_TYPE_AAAA  28
#define DNS_TYPE_SRV   33

/* One stored answer record (answer section only, types A, AAAA and CNAME). */
struct dns_answer {
	char name[DNS_NAME_MAX]; /* owner name */
	uint16_t type;
	uint16_t rclass; /* raw: the mDNS cache-flush bit (0x8000) is kept */
	uint32_t ttl;
	uint8_t addr[16];	   /* A: IPv4-mapped ::ffff:a.b.c.d; AAAA: as is; else zero */
	char target[DNS_NAME_MAX]; /* CNAME target; else "" */
};

/* Names are dotted, lowercase (ASCII), without the trailing dot; the root is "". Bytes that
 * cannot be shown (control bytes, a '.' inside a label, invalid UTF-8) become '?'; valid UTF-8
 * (mDNS instance names) is kept. */
struct dns_message {
	uint16_t id;
	uint16_t flags; /* raw header flags */
	bool qr;	/* response */
	uint8_t opcode;
	uint8_t rcode;
	bool aa, tc, rd, ra;
	uint16_t qdcount, ancount, nscount, arcount;
	bool has_question;
	char qname[DNS_NAME_MAX];
	uint16_t qtype;
	uint16_t qclass; /* raw: the mDNS unicast-response bit (0x8000) is kept */
	size_t n_answers;
	struct dns_answer answers[DNS_MAX_ANSWERS];
	bool answers_dropped; /* more A/AAAA/CNAME answers than DNS_MAX_ANSWERS */
	bool truncated;	      /* the payload ends inside the answer section (capture cut) */
};

/* Parses one DNS message (a UDP payload). Returns 0 and fills *ret; -ENOMSG if this is not a
 * standard query/response (shorter than a header, opcode != QUERY, a query without question,
 * a response with neither question nor answer, record counts that cannot fit in n); -EINVAL if
 * malformed (bad label type, label or name too long, compression pointer that is not strictly
 * backwards or loops, question cut short, A/AAAA with a wrong rdlength, CNAME overrunning its
 * rdata). A payload that ends inside the answer section is accepted with truncated set.
 * Answers are read only for responses. Never reads beyond p[n - 1]; no allocation. */
int dns_parse(const uint8_t *p, size_t n, struct dns_message *ret);

/* Same for DNS over TCP: p starts with the 2-byte length prefix. Only the first message is
 * parsed; a segment holding only part of it is parsed as far as it goes. */
int dns_parse_tcp(const uint8_t *p, size_t n, struct dns_message *ret);

/* True if name (any case, trailing dot allowed) is a Tailscale name: *.ts.net, tailscale.com
 * and tailscale.io and their subdomains (controlplane, derpN, log ...). NULL -> false. */
bool dns_name_is_tailscale(const char *name);

#endif

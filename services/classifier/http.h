/* HTTP/1.x first-packet parser for the classifier's builtin engine: request line, Host and
 * User-Agent from a client payload; status line and Server from a server payload. */
#ifndef RDPI_CLASSIFIER_HTTP_H
#define RDPI_CLASSIFIER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_METHOD_MAX	    8	/* "OPTIONS" */
#define HTTP_HOST_MAX	    256 /* 255 characters + NUL */
#define HTTP_USER_AGENT_MAX 128
#define HTTP_SERVER_MAX	    64

struct http_request {
	char method[HTTP_METHOD_MAX];	      /* "GET", "POST", ... */
	uint8_t version_minor;		      /* HTTP/1.<version_minor>: 0 or 1 */
	char host[HTTP_HOST_MAX];	      /* lowercased, port and IPv6 brackets removed; "" */
	char user_agent[HTTP_USER_AGENT_MAX]; /* case kept, truncated, non-printables as '?' */
	bool headers_complete;		      /* the blank line ending the headers was seen */
};

struct http_response {
	uint8_t version_minor;
	uint16_t status;	      /* 100..999 */
	char server[HTTP_SERVER_MAX]; /* Server header, case kept, truncated; "" */
	bool headers_complete;
};

/* Parses the start of a client payload: "<METHOD> <target> HTTP/1.<d>" with METHOD one of GET,
 * POST, HEAD, PUT, DELETE, OPTIONS, PATCH, CONNECT, TRACE, then the header lines present (a
 * header line cut by the end of the packet is ignored). A request without Host is still
 * recognised (host ""). Returns 0 and fills *ret; -ENOMSG if p does not start with a known
 * method and space, or the request line ends without " HTTP/1.x"; -EAGAIN if the request line
 * is not finished within n bytes; -EINVAL for control bytes in the request line or a header line
 * without a colon or with whitespace in the name. Never reads beyond p[n - 1]. */
int http_parse_request(const uint8_t *p, size_t n, struct http_request *ret);

/* Parses "HTTP/1.<d> <3-digit status>[ reason]" and the headers present. Returns 0 and fills
 * *ret; -ENOMSG if p does not start with "HTTP/1."; -EAGAIN if the status line is cut before
 * the status code; -EINVAL for a bad status code or header line. */
int http_parse_response(const uint8_t *p, size_t n, struct http_response *ret);

#endif

/* FTP control-channel recogniser: server replies (the "220" greeting) and client commands.
 * Used by the builtin engine on TCP payloads; passwords are never copied. */
#ifndef RDPI_CLASSIFIER_FTP_H
#define RDPI_CLASSIFIER_FTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FTP_CONTROL_PORT 21
#define FTP_COMMAND_MAX	 8
#define FTP_ARG_MAX	 64
#define FTP_TEXT_MAX	 96

enum ftp_kind {
	FTP_SERVER_REPLY = 1,
	FTP_CLIENT_COMMAND = 2,
};

struct ftp_control {
	enum ftp_kind kind;
	/* FTP_SERVER_REPLY */
	uint16_t reply_code;	 /* 100..599 */
	bool multiline;		 /* "220-" */
	bool greeting;		 /* reply_code 220 */
	char text[FTP_TEXT_MAX]; /* first line's text, truncated, case kept */
	/* FTP_CLIENT_COMMAND */
	char command[FTP_COMMAND_MAX]; /* uppercase: "USER", "AUTH", "EPSV" ... */
	char argument[FTP_ARG_MAX]; /* first line's argument, truncated; always "" for PASS/ACCT */
	bool has_argument;	    /* an argument was present (also for PASS/ACCT) */
	bool auth_tls;		    /* "AUTH TLS" / "AUTH SSL": the session goes encrypted */
};

/* Recognises the first line of p as FTP control traffic. Returns 0 and fills *ret; -ENOMSG
 * otherwise. A reply ("ddd " / "ddd-") counts when either port is 21, or anywhere when it is a
 * 220 greeting whose text mentions "FTP" but not "SMTP". A client command (known FTP verb,
 * any case, then space or end of line) counts only when either port is 21, since USER/PASS/QUIT
 * also open POP3 and SMTP. Text is printable ASCII (others -> '?'). Never reads beyond
 * p[n - 1]. */
int ftp_parse_control(const uint8_t *p, size_t n, uint16_t sport, uint16_t dport,
		      struct ftp_control *ret);

#endif

/* FTP control-channel recogniser (RFC 959 replies and commands) for the classifier's builtin
 * engine. */
#include "ftp.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#define FTP_LINE_MAX 512

static const char *const commands[] = {
    "ABOR", "ACCT", "ALLO", "APPE", "AUTH", "CCC",  "CDUP", "CWD",  "DELE", "EPRT", "EPSV",
    "FEAT", "HELP", "HOST", "LANG", "LIST", "MDTM", "MKD",  "MLSD", "MLST", "MODE", "NLST",
    "NOOP", "OPTS", "PASS", "PASV", "PBSZ", "PORT", "PROT", "PWD",  "QUIT", "REIN", "REST",
    "RETR", "RMD",  "RNFR", "RNTO", "SITE", "SIZE", "SMNT", "STAT", "STOR", "STOU", "STRU",
    "SYST", "TYPE", "USER", "XCUP", "XCWD", "XMKD", "XPWD", "XRMD",
};

static size_t line_end(const uint8_t *p, size_t n)
{
	size_t e = 0;
	size_t max = n < FTP_LINE_MAX ? n : FTP_LINE_MAX;
	while (e < max && p[e] != '\r' && p[e] != '\n')
		e++;
	return e;
}

static void copy_text(char *dst, size_t dstsz, const uint8_t *s, size_t len)
{
	size_t k = len < dstsz - 1 ? len : dstsz - 1;
	for (size_t i = 0; i < k; i++)
		dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	dst[k] = '\0';
}

/* Case-insensitive search of needle in s[0..len). */
static bool contains(const uint8_t *s, size_t len, const char *needle)
{
	size_t nl = strlen(needle);
	for (size_t i = 0; i + nl <= len; i++)
		if (strncasecmp((const char *)s + i, needle, nl) == 0)
			return true;
	return false;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int parse_reply(const uint8_t *p, size_t eol, bool on_port, struct ftp_control *c)
{
	if (eol < 3 || p[0] < '1' || p[0] > '5' || p[1] > '5' || !is_digit(p[1]) || !is_digit(p[2]))
		return -ENOMSG;
	if (eol > 3 && p[3] != ' ' && p[3] != '-')
		return -ENOMSG;
	c->reply_code = (uint16_t)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
	c->multiline = eol > 3 && p[3] == '-';
	c->greeting = c->reply_code == 220;
	const uint8_t *text = p + (eol > 3 ? 4 : 3);
	size_t tlen = eol > 3 ? eol - 4 : 0;
	if (!on_port &&
	    !(c->greeting && contains(text, tlen, "ftp") && !contains(text, tlen, "smtp")))
		return -ENOMSG;
	c->kind = FTP_SERVER_REPLY;
	copy_text(c->text, sizeof(c->text), text, tlen);
	return 0;
}

static int parse_command(const uint8_t *p, size_t eol, struct ftp_control *c)
{
	size_t vl = 0;
	while (vl < eol && vl < 5 && p[vl] != ' ')
		vl++;
	if (vl < 3 || vl > 4 || (vl < eol && p[vl] != ' '))
		return -ENOMSG;
	const char *verb = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strlen(commands[i]) == vl &&
		    strncasecmp((const char *)p, commands[i], vl) == 0) {
			verb = commands[i];
			break;
		}
	}
	if (!verb)
		return -ENOMSG;
	c->kind = FTP_CLIENT_COMMAND;
	memcpy(c->command, verb, vl + 1);
	const uint8_t *arg = vl < eol ? p + vl + 1 : p + eol;
	size_t alen = vl < eol ? eol - vl - 1 : 0;
	c->has_argument = alen > 0;
	if (strcmp(verb, "PASS") != 0 && strcmp(verb, "ACCT") != 0)
		copy_text(c->argument, sizeof(c->argument), arg, alen);
	if (strcmp(verb, "AUTH") == 0 && alen >= 3 &&
	    (strncasecmp((const char *)arg, "TLS", 3) == 0 ||
	     strncasecmp((const char *)arg, "SSL", 3) == 0))
		c->auth_tls = true;
	return 0;
}

int ftp_parse_control(const uint8_t *p, size_t n, uint16_t sport, uint16_t dport,
		      struct ftp_control *ret)
{
	struct ftp_control c = {0};
	if (!p || n < 3)
		return -ENOMSG;
	bool on_port = sport == FTP_CONTROL_PORT || dport == FTP_CONTROL_PORT;
	size_t eol = line_end(p, n);
	int r;
	if (is_digit(p[0]))
		r = parse_reply(p, eol, on_port, &c);
	else if (on_port)
		r = parse_command(p, eol, &c);
	else
		r = -ENOMSG;
	if (r < 0)
		return r;
	*ret = c;
	return 0;
}

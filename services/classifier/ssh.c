/* SSH identification-line parser (RFC 4253 section 4.2) for the classifier's builtin engine. */
#include "ssh.h"

#include <errno.h>
#include <string.h>

#define SSH_LINE_MAX 255

static void copy_text(char *dst, size_t dstsz, const uint8_t *s, size_t len)
{
	size_t k = len < dstsz - 1 ? len : dstsz - 1;
	memcpy(dst, s, k);
	dst[k] = '\0';
}

int ssh_parse_banner(const uint8_t *p, size_t n, struct ssh_banner *ret)
{
	static const char *const versions[] = {"2.0-", "1.99-", "1.5-"};
	struct ssh_banner b = {0};
	if (!p || n < 4 || memcmp(p, "SSH-", 4) != 0)
		return -ENOMSG;
	size_t off = 4, vlen = 0;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		size_t l = strlen(versions[i]);
		if (n - off >= l && memcmp(p + off, versions[i], l) == 0) {
			vlen = l;
			break;
		}
	}
	if (vlen == 0)
		return -ENOMSG;
	copy_text(b.proto_version, sizeof(b.proto_version), p + off, vlen - 1);
	off += vlen;

	/* the line: up to CR LF / LF or the end of the packet */
	size_t eol = off;
	while (eol < n && p[eol] != '\r' && p[eol] != '\n')
		eol++;
	if (eol < n) {
		if (p[eol] == '\n')
			b.complete = true;
		else if (eol + 1 < n && p[eol + 1] == '\n')
			b.complete = true;
		else if (eol + 1 < n)
			return -EINVAL; /* CR not followed by LF */
	}
	if (eol > SSH_LINE_MAX)
		return -EINVAL;
	size_t sp = off;
	for (size_t i = off; i < eol; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e)
			return -EINVAL;
	}
	while (sp < eol && p[sp] != ' ')
		sp++;
	if (sp == off)
		return -EINVAL;
	copy_text(b.software, sizeof(b.software), p + off, sp - off);
	if (sp < eol)
		copy_text(b.comments, sizeof(b.comments), p + sp + 1, eol - sp - 1);
	*ret = b;
	return 0;
}

/* NTP header parser (RFC 5905) for the classifier's builtin engine. */
#include "ntp.h"

#include <errno.h>
#include <stdbool.h>

int ntp_parse(const uint8_t *p, size_t n, struct ntp_message *ret)
{
	struct ntp_message m = {0};
	if (!p || n < NTP_HEADER_LEN)
		return -ENOMSG;
	m.leap = p[0] >> 6;
	m.version = (p[0] >> 3) & 7;
	uint8_t mode = p[0] & 7;
	m.stratum = p[1];
	if (m.version < 1 || m.version > 4 || mode < NTP_MODE_SYMMETRIC_ACTIVE ||
	    mode > NTP_MODE_BROADCAST || m.stratum > 16)
		return -ENOMSG;
	m.mode = (enum ntp_mode)mode;
	m.poll = (int8_t)p[2];
	m.precision = (int8_t)p[3];
	m.reference_id =
	    (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 | (uint32_t)p[14] << 8 | p[15];
	if (m.stratum <= 1) {
		size_t k = 0;
		while (k < 4 && p[12 + k] >= 0x20 && p[12 + k] < 0x7f)
			k++;
		/* the code is NUL padded; anything else non-printable means no text */
		bool text = k > 0;
		for (size_t i = k; i < 4; i++)
			if (p[12 + i] != 0)
				text = false;
		for (size_t i = 0; text && i < k; i++)
			m.reference_text[i] = (char)p[12 + i];
	}
	m.extension_len = n - NTP_HEADER_LEN;
	*ret = m;
	return 0;
}

const char *ntp_mode_name(enum ntp_mode mode)
{
	static const char *const names[] = {
	    [NTP_MODE_SYMMETRIC_ACTIVE] = "symmetric-active",
	    [NTP_MODE_SYMMETRIC_PASSIVE] = "symmetric-passive",
	    [NTP_MODE_CLIENT] = "client",
	    [NTP_MODE_SERVER] = "server",
	    [NTP_MODE_BROADCAST] = "broadcast",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == NTP_MODE_BROADCAST + 1,
		       "one name per NTP mode");
	if ((unsigned)mode < sizeof(names) / sizeof(names[0]) && names[mode])
		return names[mode];
	return "unknown";
}

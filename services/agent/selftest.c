/* Synthetic TLS ClientHello and its packet (see selftest.h). */
#include "selftest.h"

#include <netinet/in.h>
#include <string.h>

#include "common/synth.h"

size_t selftest_packet(const char *sni, uint8_t *buf, size_t cap)
{
	uint8_t hello[512];
	size_t hl = rdpi_synth_client_hello(sni, "h2,http/1.1", hello, sizeof(hello));
	if (!hl)
		return 0;
	struct rdpi_synth_tuple t = {.l3 = 4, .l4proto = IPPROTO_TCP, .sport = 53168, .dport = 443};
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	memcpy(t.src, mapped, 12);
	memcpy(t.dst, mapped, 12);
	memcpy(t.src + 12, (uint8_t[]){192, 0, 2, 10}, 4);
	memcpy(t.dst + 12, (uint8_t[]){198, 51, 100, 10}, 4);
	struct rdpi_synth_tcp tcp = {.seq = 1, .ack = 1, .flags = 0x18};
	size_t len;
	if (rdpi_synth_packet(&t, &tcp, hello, hl, buf, cap, &len) < 0)
		return 0;
	return len;
}

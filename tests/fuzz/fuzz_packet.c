/* Fuzz target: IPv4/IPv6 packets through rdpi_packet_parse, then the flow key,
 * its id and text forms, as the logger and agent do for every NFLOG packet. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/flowkey.h"
#include "common/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

/* The input read as text: an address that parses must format and parse back
 * to the same bytes. */
static void fuzz_addr_text(const uint8_t *data, size_t size)
{
	char s[64];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	memcpy(s, data, n);
	s[n] = '\0';
	uint8_t a[16], b[16];
	int l3 = 0, l3b = 0;
	if (rdpi_addr_parse(s, a, &l3) != 0)
		return;
	check(l3 == 4 || l3 == 6);
	char text[RDPI_ADDR_STRLEN];
	check(rdpi_addr_format(a, text, sizeof(text)) == 0);
	check(rdpi_addr_parse(text, b, &l3b) == 0);
	check(memcmp(a, b, 16) == 0 && l3 == l3b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rdpi_packet p;

	fuzz_addr_text(data, size);
	if (rdpi_packet_parse(data, size, &p) != 0)
		return 0;

	check(p.l3 == 4 || p.l3 == 6);
	check(p.payload != NULL);
	check(p.payload >= data && p.payload_len <= size &&
	      (size_t)(p.payload - data) <= size - p.payload_len);
	check(p.l4_offset <= size);
	check(!p.is_first_fragment || p.is_fragment);
	check(!p.truncated || size < p.ip_len);
	if (p.is_fragment && !p.is_first_fragment && p.frag_offset != 0)
		check(p.payload_len == 0 && p.sport == 0 && p.dport == 0);

	/* touch every payload byte so ASan checks the slice */
	volatile uint8_t sum = 0;
	for (size_t i = 0; i < p.payload_len; i++)
		sum ^= p.payload[i];
	(void)sum;

	struct rdpi_flowkey k, r;
	int dir = -1, rdir = -1;
	rdpi_flowkey_from_packet(&p, &k, &dir);
	check(dir == RDPI_FLOWKEY_DIR_LO_TO_HI || dir == RDPI_FLOWKEY_DIR_HI_TO_LO);
	/* the reply direction lands on the same key with the other dir bit
	 * (ports are 0 for port-less protocols, so the packet's are usable) */
	rdpi_flowkey_make(p.l3, p.l4proto, p.dst, p.dport, p.src, p.sport, &r, &rdir);
	check(rdpi_flowkey_equal(&k, &r));
	bool same = memcmp(p.src, p.dst, 16) == 0 && p.sport == p.dport;
	check(same ? rdir == dir : rdir != dir);

	char text[RDPI_FLOWKEY_STRLEN], hex[33], a[RDPI_ADDR_STRLEN];
	check(rdpi_flowkey_format(&k, text, sizeof(text)) == 0);
	check(strlen(text) < sizeof(text));
	rdpi_flowkey_hex(&k, hex);
	check(strlen(hex) == 32);
	check(rdpi_addr_format(p.src, a, sizeof(a)) == 0);
	check(rdpi_addr_format(p.dst, a, sizeof(a)) == 0);
	(void)rdpi_flowkey_hash(&k);
	return 0;
}

/* Fuzz target for the agent flow engine: the input is a sequence of L3
 * packets (2-byte big-endian length + bytes) fed to one engine with the real
 * libndpi adapter (or the unavailable one), so parsing, flow state, nDPI calls
 * and verdict storage all see hostile packets in both directions. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flows.h"
#include "ndpi_adapter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ndpi_adapter *ad;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		if (ndpi_adapter_built() && ndpi_adapter_new(&ad) < 0)
			ad = NULL;
		ready = 1;
	}
	struct flows_opts o = {.limit = 64,
			       .ttl_ns = 1000000000ull,
			       .budget_tcp = 4,
			       .budget_udp = 3,
			       .verdict_meta_max = 96};
	struct flows *fl;
	if (flows_new(&o, ad, &fl) < 0)
		return 0;
	struct flows_result *r = malloc(sizeof(*r));
	if (!r) {
		flows_free(fl);
		return 0;
	}
	uint64_t t = 1;
	while (size >= 2) {
		size_t len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		uint8_t *pkt = malloc(len ? len : 1);
		if (!pkt)
			break;
		memcpy(pkt, data, len);
		flows_observe_packet(fl, pkt, len, t * 1000000, t, r);
		free(pkt);
		data += len;
		size -= len;
		t += 7;
	}
	flows_expire(fl, t + 2000000000ull, 16);
	free(r);
	flows_free(fl);
	return 0;
}

/* Fuzz target: whole packets through the classifier engine (packet parsing,
 * every builtin parser, TLS reassembly, name caches, verdict cache). The
 * first byte picks how the bytes are offered: as an IP packet, or as the L4
 * payload of a TCP/UDP tuple on a port the byte chooses. */
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct engine *engine;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t ports[] = {53,   67,   80, 123, 137,  443,   1883,  1900,
					 5353, 5355, 21, 22,  3478, 41641, 51820, 8080};
	if (!engine) {
		struct engine_opts o = {.kind = ENGINE_BUILTIN, .flow_limit = 64};
		if (engine_new(&o, &engine) < 0)
			return 0;
	}
	if (size < 1)
		return 0;
	Routerd__Dpi__V1__ClassifyRequest r = ROUTERD__DPI__V1__CLASSIFY_REQUEST__INIT;
	uint8_t mode = data[0];
	if (mode & 0x80) {
		r.packet.data = (uint8_t *)data + 1;
		r.packet.len = size - 1;
	} else {
		r.transportprotocol = mode & 0x40 ? "udp" : "tcp";
		r.srcaddress = "192.0.2.1";
		r.srcport = 40000 + (mode & 0x3);
		r.dstaddress = mode & 0x20 ? "2001:db8::1" : "198.51.100.1";
		if (mode & 0x20)
			r.srcaddress = "2001:db8::2";
		r.dstport = ports[(mode >> 2) & 0xf];
		r.l4payload.data = (uint8_t *)data + 1;
		r.l4payload.len = size - 1;
	}
	Routerd__Dpi__V1__ClassifyRequest *rp = &r;
	struct engine_item it;
	engine_classify(engine, &rp, 1, 10, &it);
	return 0;
}

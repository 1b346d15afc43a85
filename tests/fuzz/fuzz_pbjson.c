/* Fuzz target: JSON text -> protobuf (common/pbjson) as the classifier's batch
 * request and status, then back to JSON, which must parse to the same text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/pbjson.h"
#include "routerd/dpi/v1/classifier.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct counting {
	size_t live;
};

static void *counting_alloc(void *arg, size_t size)
{
	void *p = malloc(size);
	if (p)
		((struct counting *)arg)->live++;
	return p;
}

static void counting_free(void *arg, void *p)
{
	((struct counting *)arg)->live--;
	free(p);
}

static const char *const always_present[] = {
    "routerd.dpi.v1.ClassifyResult.engine",  "routerd.dpi.v1.ClassifierStatus.agent",
    "routerd.dpi.v1.ClassifierStatus.stats", "routerd.dpi.v1.ClassifierAgent.*",
    "routerd.dpi.v1.ClassifierStats.*",	     NULL,
};

static void check(const uint8_t *data, size_t size, const ProtobufCMessageDescriptor *desc,
		  const struct rdpi_pbjson_opts *opts)
{
	struct counting c = {0};
	ProtobufCAllocator alloc = {counting_alloc, counting_free, &c};
	char err[256];
	ProtobufCMessage *m = NULL;
	if (rdpi_pbjson_loads((const char *)data, size, desc, &alloc, &m, err, sizeof(err)) != 0) {
		if (c.live != 0)
			abort(); /* a failed parse must free what it allocated */
		return;
	}

	/* JSON -> protobuf -> JSON -> protobuf -> JSON is a fixed point */
	char *text = NULL, *text2 = NULL, *text3 = NULL;
	if (rdpi_pbjson_dumps(m, opts, &text) != 0)
		abort();
	ProtobufCMessage *m2 = NULL;
	if (rdpi_pbjson_loads(text, strlen(text), desc, NULL, &m2, err, sizeof(err)) != 0)
		abort();
	if (rdpi_pbjson_dumps(m2, opts, &text2) != 0 || strcmp(text, text2) != 0)
		abort();

	/* and survives the wire; compared without always-present keys because
	 * protobuf-c's packer drops -0.0 in proto3 */
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf || protobuf_c_message_pack(m, buf) != len)
		abort();
	ProtobufCMessage *m3 = protobuf_c_message_unpack(desc, NULL, len, buf);
	char *text4 = NULL;
	if (!m3 || rdpi_pbjson_dumps(m3, NULL, &text3) != 0 ||
	    rdpi_pbjson_dumps(m, NULL, &text4) != 0 || strcmp(text3, text4) != 0)
		abort();

	protobuf_c_message_free_unpacked(m3, NULL);
	free(buf);
	free(text4);
	free(text3);
	free(text2);
	free(text);
	protobuf_c_message_free_unpacked(m2, NULL);
	protobuf_c_message_free_unpacked(m, &alloc);
	if (c.live != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct rdpi_pbjson_opts opts = {.always_present = always_present};
	check(data, size, &routerd__dpi__v1__classify_batch_request__descriptor, NULL);
	check(data, size, &routerd__dpi__v1__classifier_status__descriptor, NULL);
	check(data, size, &routerd__dpi__v1__classifier_status__descriptor, &opts);
	return 0;
}

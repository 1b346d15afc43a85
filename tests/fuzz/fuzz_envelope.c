/* Fuzz target: RPC request envelopes (protobuf and JSON) and the request
 * bodies they carry, decoded as the server would. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/pbjson.h"
#include "common/rpc.h"
#include "routerd/dpi/v1/classifier.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rdpi_rpc_envelope env;
	char err[256];
	if (rdpi_rpc_envelope_parse(data, size, &env, err, sizeof(err)) != 0)
		return 0;
	const ProtobufCMessageDescriptor *d = &routerd__dpi__v1__classify_batch_request__descriptor;
	ProtobufCMessage *m = NULL;
	if (env.json) {
		if (env.json_body && rdpi_pbjson_loads(env.json_body, strlen(env.json_body), d,
						       NULL, &m, err, sizeof(err)) != 0)
			m = NULL;
	} else {
		m = protobuf_c_message_unpack(d, NULL, env.body_len, env.body);
	}
	if (m) {
		char *text = NULL;
		if (rdpi_pbjson_dumps(m, NULL, &text) == 0)
			free(text);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	rdpi_rpc_envelope_fini(&env);
	return 0;
}

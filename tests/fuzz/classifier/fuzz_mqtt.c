/* Fuzz target: MQTT control packets through mqtt_parse. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mqtt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mqtt_packet m;
	if (mqtt_parse(data, size, &m) == 0) {
		(void)mqtt_type_name(m.type);
		if (m.header_len + m.remaining_length > size ||
		    strnlen(m.client_id, sizeof(m.client_id)) == sizeof(m.client_id))
			__builtin_trap();
	}
	return 0;
}

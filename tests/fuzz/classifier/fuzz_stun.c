/* Fuzz target: STUN messages through stun_parse. */
#include <stddef.h>
#include <stdint.h>

#include "stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_message m;
	if (stun_parse(data, size, &m) == 0) {
		(void)stun_class_name(m.msg_class);
		(void)stun_method_name(m.method);
	}
	return 0;
}

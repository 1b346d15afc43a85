/* Fuzz target: NetBIOS name service packets through nbns_parse. */
#include <stddef.h>
#include <stdint.h>

#include "nbns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nbns_query q;
	(void)nbns_parse(data, size, &q);
	return 0;
}

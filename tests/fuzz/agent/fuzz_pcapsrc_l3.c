/* Fuzz target for rdpi_pcapsrc_l3 (link-layer decoding of capture frames):
 * the first input byte picks the link type, the rest is the frame. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/pcapsrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int linktypes[] = {0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 105};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int lt = linktypes[data[0] % (sizeof(linktypes) / sizeof(linktypes[0]))];
	size_t len = size - 1;
	/* an exact-size copy so reads past the frame are caught */
	uint8_t *frame = calloc(1, len ? len : 1);
	if (!frame)
		return 0;
	if (len)
		memcpy(frame, data + 1, len);
	size_t off;
	uint16_t vlan;
	uint8_t ver;
	if (rdpi_pcapsrc_l3(lt, frame, len, &off, &vlan, &ver) == 0) {
		if (off >= len || (ver != 4 && ver != 6) || (frame[off] >> 4) != ver)
			abort();
	}
	free(frame);
	return 0;
}

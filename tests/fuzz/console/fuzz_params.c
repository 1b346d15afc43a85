/* Fuzz target: the console's query parameter parsers (durations, timestamps, counts, booleans,
 * text filters) on arbitrary bytes; checks their output contracts (bounds, output written only
 * on success, a message on every failure). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_NS (366LL * 24 * 3600 * 1000000000LL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	const char *msg = NULL;
	int64_t v = -42;
	bool b = false;

	if (params_duration(s, MAX_NS, &v, &msg) == 0) {
		if (v <= 0 || v > MAX_NS)
			__builtin_trap();
	} else if (v != -42 || !msg) {
		__builtin_trap();
	}
	v = -42;
	msg = NULL;
	if (params_time(s, &v, &msg) == 0) {
		if (v < 0)
			__builtin_trap();
	} else if (v != -42 || !msg) {
		__builtin_trap();
	}
	v = -42;
	msg = NULL;
	if (params_count(s, 1, 1000, &v, &msg) == 0) {
		if (v < 1 || v > 1000)
			__builtin_trap();
	} else if (v != -42 || !msg) {
		__builtin_trap();
	}
	msg = NULL;
	if (params_bool(s, &b, &msg) != 0 && !msg)
		__builtin_trap();
	msg = NULL;
	if (params_text(s, &msg) != 0 && !msg)
		__builtin_trap();
	free(s);
	return 0;
}

/* Fuzz target: HTTP/1.x first packets through http_parse_request and http_parse_response. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request r;
	struct http_response s;
	if (http_parse_request(data, size, &r) == 0) {
		if (strnlen(r.method, HTTP_METHOD_MAX) == HTTP_METHOD_MAX ||
		    strnlen(r.host, HTTP_HOST_MAX) == HTTP_HOST_MAX ||
		    strnlen(r.user_agent, HTTP_USER_AGENT_MAX) == HTTP_USER_AGENT_MAX)
			__builtin_trap();
		for (const char *c = r.host; *c; c++) {
			if ((*c >= 'A' && *c <= 'Z') || *c <= 0x20 || *c >= 0x7f)
				__builtin_trap();
		}
	}
	if (http_parse_response(data, size, &s) == 0 &&
	    (s.status < 100 || s.status > 999 ||
	     strnlen(s.server, HTTP_SERVER_MAX) == HTTP_SERVER_MAX))
		__builtin_trap();
	return 0;
}

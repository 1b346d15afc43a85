/* Generic protobuf-c <-> JSON (jansson) mapping driven by message descriptors.
 * Keys are the .proto field names (the legacy JSON names), bytes are standard
 * base64, enums are value names, maps are objects, zero values are omitted. */
#ifndef RDPI_COMMON_PBJSON_H
#define RDPI_COMMON_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* Messages nested deeper than this (top level = 0, map entries not counted)
 * are rejected in both directions with -EINVAL. */
#define RDPI_PBJSON_MAX_DEPTH 32

struct rdpi_pbjson_opts {
	/* NULL-terminated list of fields written even when zero/empty:
	 * "routerd.dpi.v1.ClassifyResult.engine" names one field,
	 * "routerd.dpi.v1.AgentStats.*" every field of a message. NULL: none. */
	const char *const *always_present;
};

/* Convert msg to a new JSON object (caller owns *ret_json, json_decref).
 * A field is written when protobuf-c's packer would write it (proto3 scalar
 * non-zero, proto2 optional with has_/non-NULL, selected oneof member,
 * required, non-empty repeated/map, non-NULL message) or when always_present
 * names it; an always-present NULL message is written as its default
 * instance. Map members keep entry order. Doubles use jansson's %.17g form
 * (0.1 -> 0.10000000000000001); NaN and infinities become the proto3 JSON
 * strings "NaN", "Infinity", "-Infinity"; uint64 above INT64_MAX becomes a
 * decimal string; enum numbers without a name stay numbers; invalid UTF-8 in
 * strings and map keys is replaced by U+FFFD. Returns 0, -ENOMEM, or -EINVAL
 * for a message that cannot be represented (nesting over the limit). */
int rdpi_pbjson_to_json(const ProtobufCMessage *msg, const struct rdpi_pbjson_opts *opts,
			json_t **ret_json);

/* Same, serialised compactly; caller frees *ret_text with free(). */
int rdpi_pbjson_dumps(const ProtobufCMessage *msg, const struct rdpi_pbjson_opts *opts,
		      char **ret_text);

/* Build a message of type desc from a JSON object. Every allocation goes
 * through alloc (NULL = system allocator) in the layout protobuf-c's unpacker
 * uses, so protobuf_c_message_free_unpacked(msg, alloc) frees it. Unknown keys
 * are ignored; JSON null is treated as absent; a wrong type, out-of-range
 * number, bad base64 or unknown enum name returns -EINVAL and writes a message
 * naming the field path ("requests[2].srcPort: expected integer") to err.
 * 64-bit integers are accepted as JSON numbers or decimal strings, 32-bit
 * ones as JSON numbers only; integral reals (1e3) count as integers. Enums
 * take a value name or any int32 number; floats also take the strings above.
 * Two members of one oneof or a missing proto2 required field is -EINVAL;
 * a failed allocation is -ENOMEM. On error nothing stays allocated. */
int rdpi_pbjson_from_json(const json_t *json, const ProtobufCMessageDescriptor *desc,
			  ProtobufCAllocator *alloc, ProtobufCMessage **ret_msg, char *err,
			  size_t errlen);

/* Parse text (len bytes, need not be NUL-terminated) then rdpi_pbjson_from_json.
 * A JSON syntax error is -EINVAL with jansson's text and position in err. */
int rdpi_pbjson_loads(const char *text, size_t len, const ProtobufCMessageDescriptor *desc,
		      ProtobufCAllocator *alloc, ProtobufCMessage **ret_msg, char *err,
		      size_t errlen);

#endif

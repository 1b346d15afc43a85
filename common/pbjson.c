/* Generic protobuf-c <-> JSON mapping driven by message descriptors; used by
 * the RPC JSON envelope and the HTTP shim to speak the legacy JSON API. */
#include "common/pbjson.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"

#define PBJSON_PATH_MAX 384

#define MEMBER_PTR(msg, off)   ((void *)((uint8_t *)(msg) + (off)))
#define MEMBER(type, msg, off) (*(type *)MEMBER_PTR(msg, off))

/* ---- shared helpers --------------------------------------------------------- */

/* What the mapping needs to know about each protobuf-c scalar type. */
enum pbj_kind {
	PBJ_INT,
	PBJ_UINT,
	PBJ_FLOAT,
	PBJ_BOOL,
	PBJ_ENUM,
	PBJ_STRING,
	PBJ_BYTES,
	PBJ_MESSAGE,
};

struct pbj_type {
	const char *name; /* in range errors */
	uint8_t kind;	  /* enum pbj_kind */
	uint8_t size;	  /* in memory, also as a repeated element */
	bool map_key;	  /* allowed as a map key */
};

static const struct pbj_type pbj_types[] = {
    [PROTOBUF_C_TYPE_INT32] = {"int32", PBJ_INT, 4, true},
    [PROTOBUF_C_TYPE_SINT32] = {"int32", PBJ_INT, 4, true},
    [PROTOBUF_C_TYPE_SFIXED32] = {"int32", PBJ_INT, 4, true},
    [PROTOBUF_C_TYPE_INT64] = {"int64", PBJ_INT, 8, true},
    [PROTOBUF_C_TYPE_SINT64] = {"int64", PBJ_INT, 8, true},
    [PROTOBUF_C_TYPE_SFIXED64] = {"int64", PBJ_INT, 8, true},
    [PROTOBUF_C_TYPE_UINT32] = {"uint32", PBJ_UINT, 4, true},
    [PROTOBUF_C_TYPE_FIXED32] = {"uint32", PBJ_UINT, 4, true},
    [PROTOBUF_C_TYPE_UINT64] = {"uint64", PBJ_UINT, 8, true},
    [PROTOBUF_C_TYPE_FIXED64] = {"uint64", PBJ_UINT, 8, true},
    [PROTOBUF_C_TYPE_FLOAT] = {"float", PBJ_FLOAT, sizeof(float), false},
    [PROTOBUF_C_TYPE_DOUBLE] = {"double", PBJ_FLOAT, sizeof(double), false},
    [PROTOBUF_C_TYPE_BOOL] = {"boolean", PBJ_BOOL, sizeof(protobuf_c_boolean), true},
    [PROTOBUF_C_TYPE_ENUM] = {"int32", PBJ_ENUM, sizeof(int32_t), false},
    [PROTOBUF_C_TYPE_STRING] = {"string", PBJ_STRING, sizeof(char *), true},
    [PROTOBUF_C_TYPE_BYTES] = {"base64 string", PBJ_BYTES, sizeof(ProtobufCBinaryData), false},
    [PROTOBUF_C_TYPE_MESSAGE] = {"object", PBJ_MESSAGE, sizeof(ProtobufCMessage *), false},
};
_Static_assert(sizeof(pbj_types) / sizeof(pbj_types[0]) == PROTOBUF_C_TYPE_MESSAGE + 1,
	       "pbj_types covers every ProtobufCType");

/* Descriptors are trusted (generated code), but an out-of-table type must not
 * index past the table. */
static const struct pbj_type *pbj_type(ProtobufCType type)
{
	static const struct pbj_type bad = {"?", PBJ_MESSAGE + 1, 0, false};
	return (unsigned)type <= PROTOBUF_C_TYPE_MESSAGE ? &pbj_types[type] : &bad;
}

/* protoc-c does not flag map entries: recognise the synthesized
 * "<Field>Entry" message with key = 1 and value = 2. */
static bool is_map(const ProtobufCFieldDescriptor *f)
{
	if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
		return false;
	const ProtobufCMessageDescriptor *sd = f->descriptor;
	size_t nl = strlen(sd->name);
	if (sd->n_fields != 2 || nl < 5 || strcmp(sd->name + nl - 5, "Entry") != 0)
		return false;
	const ProtobufCFieldDescriptor *k = &sd->fields[0], *v = &sd->fields[1];
	return k->id == 1 && v->id == 2 && strcmp(k->name, "key") == 0 &&
	       strcmp(v->name, "value") == 0 && k->label != PROTOBUF_C_LABEL_REPEATED &&
	       v->label != PROTOBUF_C_LABEL_REPEATED && pbj_type(k->type)->map_key;
}

/* Length of the valid UTF-8 sequence at s (same rules as jansson), 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		return 0;
	if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
		return 0;
	return len;
}

/* Strings may come from packet data: replace invalid UTF-8 bytes with U+FFFD
 * (as Go's encoding/json does) instead of failing the whole message.
 * *ret_buf is NULL when s is already valid, else a malloc'd copy. */
static int utf8_sanitize(const char *s, size_t len, char **ret_buf, size_t *ret_len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t l = utf8_seq_len(u + i, len - i);
		if (!l)
			break;
		i += l;
	}
	if (i == len) {
		*ret_buf = NULL;
		*ret_len = len;
		return 0;
	}
	char *buf = malloc(len * 3 + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, s, i);
	size_t o = i;
	while (i < len) {
		size_t l = utf8_seq_len(u + i, len - i);
		if (l) {
			memcpy(buf + o, s + i, l);
			o += l;
			i += l;
		} else {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	buf[o] = '\0';
	*ret_buf = buf;
	*ret_len = o;
	return 0;
}

/* ---- protobuf -> JSON ------------------------------------------------------- */

struct enc {
	const char *const *always_present;
};

static int enc_message(const struct enc *e, const ProtobufCMessageDescriptor *desc,
		       const ProtobufCMessage *msg, unsigned depth, bool synthetic,
		       json_t **ret_json);

static bool enc_always_present(const struct enc *e, const ProtobufCMessageDescriptor *desc,
			       const ProtobufCFieldDescriptor *f)
{
	if (!e->always_present)
		return false;
	size_t nl = strlen(desc->name);
	for (const char *const *p = e->always_present; *p; p++) {
		const char *s = *p;
		if (strncmp(s, desc->name, nl) != 0 || s[nl] != '.')
			continue;
		s += nl + 1;
		if (strcmp(s, "*") == 0 || strcmp(s, f->name) == 0)
			return true;
	}
	return false;
}

static int enc_string(const char *s, json_t **ret_json)
{
	size_t len = s ? strlen(s) : 0;
	char *fixed;
	size_t flen;
	if (utf8_sanitize(s ? s : "", len, &fixed, &flen) < 0)
		return -ENOMEM;
	json_t *j = json_stringn_nocheck(fixed ? fixed : (s ? s : ""), flen);
	free(fixed);
	if (!j)
		return -ENOMEM;
	*ret_json = j;
	return 0;
}

static int enc_bytes(const ProtobufCBinaryData *bd, json_t **ret_json)
{
	size_t n = bd->data ? bd->len : 0;
	size_t el = rdpi_base64_encoded_len(n);
	char *buf = malloc(el + 1);
	if (!buf)
		return -ENOMEM;
	rdpi_base64_encode(bd->data, n, buf);
	json_t *j = json_stringn_nocheck(buf, el);
	free(buf);
	if (!j)
		return -ENOMEM;
	*ret_json = j;
	return 0;
}

/* NaN and infinities have no JSON number form: use proto3 JSON's strings. */
static json_t *enc_double(double v)
{
	if (isnan(v))
		return json_string("NaN");
	if (isinf(v))
		return json_string(v > 0 ? "Infinity" : "-Infinity");
	return json_real(v);
}

/* uint64 above INT64_MAX does not fit json_int_t: emit a decimal string. */
static json_t *enc_uint64(uint64_t v)
{
	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return json_string(buf);
}

/* Encode one value of field f's type stored at p. */
static int enc_value(const struct enc *e, const ProtobufCFieldDescriptor *f, const void *p,
		     unsigned depth, bool synthetic, json_t **ret_json)
{
	const struct pbj_type *t = pbj_type(f->type);
	json_t *j = NULL;
	switch (t->kind) {
	case PBJ_INT:
		j = json_integer(t->size == 4 ? *(const int32_t *)p : *(const int64_t *)p);
		break;
	case PBJ_UINT:
		j = enc_uint64(t->size == 4 ? *(const uint32_t *)p : *(const uint64_t *)p);
		break;
	case PBJ_FLOAT:
		j = enc_double(t->size == sizeof(float) ? *(const float *)p : *(const double *)p);
		break;
	case PBJ_BOOL:
		j = json_boolean(*(const protobuf_c_boolean *)p);
		break;
	case PBJ_ENUM: {
		int32_t v = *(const int32_t *)p;
		const ProtobufCEnumValue *ev =
		    protobuf_c_enum_descriptor_get_value(f->descriptor, v);
		/* open enums: a number without a name stays a number */
		j = ev ? json_string(ev->name) : json_integer(v);
		break;
	}
	case PBJ_STRING:
		return enc_string(*(char *const *)p, ret_json);
	case PBJ_BYTES:
		return enc_bytes(p, ret_json);
	case PBJ_MESSAGE:
		return enc_message(e, f->descriptor, *(ProtobufCMessage *const *)p, depth + 1,
				   synthetic, ret_json);
	default:
		return -EINVAL;
	}
	if (!j)
		return -ENOMEM;
	*ret_json = j;
	return 0;
}

static int enc_map_key(const ProtobufCFieldDescriptor *kf, const void *p, char *buf, size_t size,
		       const char **ret_key)
{
	const struct pbj_type *t = pbj_type(kf->type);
	switch (t->kind) {
	case PBJ_STRING: {
		const char *s = *(char *const *)p;
		*ret_key = s ? s : "";
		return 0;
	}
	case PBJ_BOOL:
		*ret_key = *(const protobuf_c_boolean *)p ? "true" : "false";
		return 0;
	case PBJ_INT:
		snprintf(buf, size, "%" PRId64,
			 t->size == 4 ? *(const int32_t *)p : *(const int64_t *)p);
		break;
	case PBJ_UINT:
		snprintf(buf, size, "%" PRIu64,
			 t->size == 4 ? *(const uint32_t *)p : *(const uint64_t *)p);
		break;
	default:
		return -EINVAL;
	}
	*ret_key = buf;
	return 0;
}

/* Map entries become object members, in entry order; a repeated key keeps
 * the last value, as protobuf's own merge does. */
static int enc_map(const struct enc *e, const ProtobufCFieldDescriptor *f, const void *arr,
		   size_t n, unsigned depth, bool synthetic, json_t **ret_json)
{
	const ProtobufCMessageDescriptor *sd = f->descriptor;
	const ProtobufCFieldDescriptor *kf = &sd->fields[0], *vf = &sd->fields[1];
	json_t *obj = json_object();
	if (!obj)
		return -ENOMEM;
	int rv = 0;
	for (size_t i = 0; i < n; i++) {
		const ProtobufCMessage *entry = ((ProtobufCMessage *const *)arr)[i];
		if (!entry)
			continue;
		char kbuf[24];
		const char *key;
		rv = enc_map_key(kf, MEMBER_PTR(entry, kf->offset), kbuf, sizeof(kbuf), &key);
		if (rv < 0)
			goto out;
		json_t *jv;
		rv = enc_value(e, vf, MEMBER_PTR(entry, vf->offset), depth, synthetic, &jv);
		if (rv < 0)
			goto out;
		char *fixed;
		size_t klen;
		rv = utf8_sanitize(key, strlen(key), &fixed, &klen);
		if (rv < 0) {
			json_decref(jv);
			goto out;
		}
		/* steals jv even on failure */
		if (json_object_setn_new_nocheck(obj, fixed ? fixed : key, klen, jv) != 0)
			rv = -ENOMEM;
		free(fixed);
		if (rv < 0)
			goto out;
	}
out:
	if (rv < 0) {
		json_decref(obj);
		return rv;
	}
	*ret_json = obj;
	return 0;
}

static int enc_repeated(const struct enc *e, const ProtobufCFieldDescriptor *f, const void *arr,
			size_t n, unsigned depth, bool synthetic, json_t **ret_json)
{
	if (is_map(f))
		return enc_map(e, f, arr, n, depth, synthetic, ret_json);
	json_t *a = json_array();
	if (!a)
		return -ENOMEM;
	size_t esz = pbj_type(f->type)->size;
	for (size_t i = 0; i < n; i++) {
		json_t *jv;
		int rv = enc_value(e, f, (const uint8_t *)arr + i * esz, depth, synthetic, &jv);
		if (rv == 0 && json_array_append_new(a, jv) != 0)
			rv = -ENOMEM;
		if (rv < 0) {
			json_decref(a);
			return rv;
		}
	}
	*ret_json = a;
	return 0;
}

static bool is_zero(const ProtobufCFieldDescriptor *f, const void *p)
{
	const struct pbj_type *t = pbj_type(f->type);
	switch (t->kind) {
	case PBJ_INT:
	case PBJ_UINT:
	case PBJ_ENUM:
		return t->size == 4 ? *(const uint32_t *)p == 0 : *(const uint64_t *)p == 0;
	case PBJ_FLOAT:
		return t->size == sizeof(float) ? *(const float *)p == 0 : *(const double *)p == 0;
	case PBJ_BOOL:
		return !*(const protobuf_c_boolean *)p;
	case PBJ_STRING: {
		const char *s = *(char *const *)p;
		return !s || !*s;
	}
	case PBJ_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PBJ_MESSAGE:
	default:
		return *(ProtobufCMessage *const *)p == NULL;
	}
}

/* Presence as protobuf-c's packer sees it. */
static bool enc_is_present(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *msg)
{
	const void *p = MEMBER_PTR(msg, f->offset);
	bool ptr_type = f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		if (MEMBER(uint32_t, msg, f->quantifier_offset) != f->id)
			return false;
		if (ptr_type) {
			const void *ptr = *(const void *const *)p;
			return ptr && ptr != f->default_value;
		}
		return true;
	}
	switch (f->label) {
	case PROTOBUF_C_LABEL_REQUIRED:
		return true;
	case PROTOBUF_C_LABEL_OPTIONAL:
		if (ptr_type) {
			const void *ptr = *(const void *const *)p;
			return ptr && ptr != f->default_value;
		}
		return MEMBER(protobuf_c_boolean, msg, f->quantifier_offset);
	case PROTOBUF_C_LABEL_REPEATED:
		return MEMBER(size_t, msg, f->quantifier_offset) != 0;
	case PROTOBUF_C_LABEL_NONE:
	default:
		return !is_zero(f, p);
	}
}

static int enc_field(const struct enc *e, const ProtobufCMessageDescriptor *desc,
		     const ProtobufCFieldDescriptor *f, const ProtobufCMessage *msg, unsigned depth,
		     bool synthetic, json_t *obj)
{
	bool oneof = f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF;
	if (!enc_is_present(f, msg)) {
		/* an unselected oneof member is not a zero value but absent */
		if (oneof || !enc_always_present(e, desc, f))
			return 0;
		/* a message inside a synthesized default stays {} so recursive
		 * types with "Msg.*" terminate */
		if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED &&
		    synthetic) {
			json_t *empty = json_object();
			if (!empty || json_object_set_new_nocheck(obj, f->name, empty) != 0)
				return -ENOMEM;
			return 0;
		}
	}
	const void *p = MEMBER_PTR(msg, f->offset);
	json_t *jv;
	int rv;
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		rv = enc_repeated(e, f, *(void *const *)p,
				  MEMBER(size_t, msg, f->quantifier_offset), depth, synthetic, &jv);
	else
		rv = enc_value(e, f, p, depth, synthetic, &jv);
	if (rv < 0)
		return rv;
	if (json_object_set_new_nocheck(obj, f->name, jv) != 0)
		return -ENOMEM;
	return 0;
}

/* msg NULL encodes the default instance of desc (a "synthetic" message). */
static int enc_message(const struct enc *e, const ProtobufCMessageDescriptor *desc,
		       const ProtobufCMessage *msg, unsigned depth, bool synthetic,
		       json_t **ret_json)
{
	if (depth >= RDPI_PBJSON_MAX_DEPTH)
		return -EINVAL;
	void *tmp = NULL;
	if (!msg) {
		tmp = malloc(desc->sizeof_message);
		if (!tmp)
			return -ENOMEM;
		desc->message_init(tmp);
		msg = tmp;
		synthetic = true;
	}
	int rv = 0;
	json_t *obj = json_object();
	if (!obj) {
		rv = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < desc->n_fields; i++) {
		rv = enc_field(e, desc, &desc->fields[i], msg, depth, synthetic, obj);
		if (rv < 0)
			goto out;
	}
out:
	free(tmp);
	if (rv < 0) {
		json_decref(obj);
		return rv;
	}
	*ret_json = obj;
	return 0;
}

int rdpi_pbjson_to_json(const ProtobufCMessage *msg, const struct rdpi_pbjson_opts *opts,
			json_t **ret_json)
{
	if (!msg || !msg->descriptor)
		return -EINVAL;
	struct enc e = {.always_present = opts ? opts->always_present : NULL};
	return enc_message(&e, msg->descriptor, msg, 0, false, ret_json);
}

int rdpi_pbjson_dumps(const ProtobufCMessage *msg, const struct rdpi_pbjson_opts *opts,
		      char **ret_text)
{
	json_t *j;
	int rv = rdpi_pbjson_to_json(msg, opts, &j);
	if (rv < 0)
		return rv;
	/* dump into our own malloc'd buffer so the caller's free() always matches */
	size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT);
	char *text = n ? malloc(n + 1) : NULL;
	if (!text || json_dumpb(j, text, n, JSON_COMPACT) != n) {
		free(text);
		json_decref(j);
		return -ENOMEM;
	}
	text[n] = '\0';
	json_decref(j);
	*ret_text = text;
	return 0;
}

/* ---- JSON -> protobuf ------------------------------------------------------- */

struct dec {
	ProtobufCAllocator *alloc;	/* resolved, never NULL */
	ProtobufCAllocator *user_alloc; /* as given, for free_unpacked */
	char *err;
	size_t errlen;
	size_t pathlen;
	char path[PBJSON_PATH_MAX];
};

static void *sys_alloc(void *data, size_t size)
{
	return malloc(size);
}

static void sys_free(void *data, void *ptr)
{
	free(ptr);
}

static ProtobufCAllocator sys_allocator = {
    .alloc = sys_alloc,
    .free = sys_free,
};

static void *dec_alloc(struct dec *d, size_t size)
{
	return d->alloc->alloc(d->alloc->allocator_data, size ? size : 1);
}

static void dec_free(struct dec *d, void *ptr)
{
	if (ptr)
		d->alloc->free(d->alloc->allocator_data, ptr);
}

__attribute__((format(printf, 3, 4))) static int dec_fail(struct dec *d, int rv, const char *fmt,
							  ...)
{
	if (!d->err || !d->errlen)
		return rv;
	size_t off = 0;
	if (d->pathlen) {
		int n = snprintf(d->err, d->errlen, "%s: ", d->path);
		off = n < 0 ? 0 : (size_t)n;
	}
	if (off < d->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(d->err + off, d->errlen - off, fmt, ap);
		va_end(ap);
	}
	return rv;
}

__attribute__((format(printf, 2, 3))) static size_t path_push(struct dec *d, const char *fmt, ...)
{
	size_t old = d->pathlen;
	if (old + 1 >= sizeof(d->path))
		return old;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(d->path + old, sizeof(d->path) - old, fmt, ap);
	va_end(ap);
	if (n > 0)
		d->pathlen =
		    old + (size_t)n < sizeof(d->path) ? old + (size_t)n : sizeof(d->path) - 1;
	return old;
}

static void path_pop(struct dec *d, size_t old)
{
	d->pathlen = old;
	d->path[old] = '\0';
}

static size_t path_push_field(struct dec *d, const char *name)
{
	return path_push(d, d->pathlen ? ".%s" : "%s", name);
}

static const char *const json_type_names[] = {
    [JSON_OBJECT] = "object",	[JSON_ARRAY] = "array", [JSON_STRING] = "string",
    [JSON_INTEGER] = "integer", [JSON_REAL] = "number", [JSON_TRUE] = "boolean",
    [JSON_FALSE] = "boolean",	[JSON_NULL] = "null",
};
_Static_assert(sizeof(json_type_names) / sizeof(json_type_names[0]) == JSON_NULL + 1,
	       "json_type_names covers every json_type");

static const char *json_type_name(const json_t *j)
{
	return json_type_names[json_typeof(j)];
}

/* Shortest %g form that reads back as x, for error messages. */
static const char *fmt_double(char *buf, size_t size, double x)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, x);
		if (strtod(buf, NULL) == x)
			break;
	}
	return buf;
}

/* Parse an optionally negative decimal string, no sign '+', no spaces. */
static int parse_decimal(const char *s, size_t len, bool *ret_neg, uint64_t *ret_mag)
{
	size_t i = 0;
	bool neg = false;
	if (i < len && s[i] == '-') {
		neg = true;
		i++;
	}
	if (i == len || len - i > 20)
		return -EINVAL;
	uint64_t mag = 0;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		unsigned dgt = (unsigned)(s[i] - '0');
		if (mag > (UINT64_MAX - dgt) / 10)
			return -ERANGE;
		mag = mag * 10 + dgt;
	}
	*ret_neg = neg;
	*ret_mag = mag;
	return 0;
}

/* Decode an integer of the given width/signedness into *ret (sign-extended
 * int64 or uint64 bit pattern). Strings are accepted only when
 * allow_string (64-bit types and map keys). */
static int dec_integer(struct dec *d, const json_t *v, ProtobufCType type, bool allow_string,
		       uint64_t *ret)
{
	const struct pbj_type *t = pbj_type(type);
	bool is_signed = t->kind != PBJ_UINT;
	const char *tname = t->name;
	bool neg = false;
	uint64_t mag = 0;
	if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);
		neg = x < 0;
		mag = neg ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
	} else if (json_is_real(v)) {
		double x = json_real_value(v);
		char num[32];
		if (x != trunc(x))
			return dec_fail(d, -EINVAL, "%s is not an integer",
					fmt_double(num, sizeof(num), x));
		/* 2^64 and beyond cannot be represented in any integer type */
		if (fabs(x) >= 18446744073709551616.0)
			return dec_fail(d, -EINVAL, "%s out of range for %s",
					fmt_double(num, sizeof(num), x), tname);
		neg = x < 0;
		mag = (uint64_t)fabs(x);
	} else if (json_is_string(v) && allow_string) {
		const char *s = json_string_value(v);
		int rv = parse_decimal(s, json_string_length(v), &neg, &mag);
		if (rv == -ERANGE)
			return dec_fail(d, -EINVAL, "%.40s out of range for %s", s, tname);
		if (rv < 0)
			return dec_fail(d, -EINVAL, "invalid integer string \"%.40s\"", s);
	} else {
		return dec_fail(d, -EINVAL, "expected integer, got %s", json_type_name(v));
	}
	uint64_t max = t->size == 8 ? (is_signed ? (uint64_t)INT64_MAX : UINT64_MAX)
				    : (is_signed ? (uint64_t)INT32_MAX : UINT32_MAX);
	bool ok;
	if (neg && mag != 0)
		ok = is_signed && mag <= max + 1;
	else
		ok = mag <= max;
	if (!ok)
		return dec_fail(d, -EINVAL, "%s%" PRIu64 " out of range for %s", neg ? "-" : "",
				mag, tname);
	*ret = neg ? (uint64_t)0 - mag : mag;
	return 0;
}

static int dec_double(struct dec *d, const json_t *v, ProtobufCType type, double *ret)
{
	double x;
	if (json_is_number(v)) {
		x = json_number_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (strcmp(s, "NaN") == 0)
			x = NAN;
		else if (strcmp(s, "Infinity") == 0)
			x = INFINITY;
		else if (strcmp(s, "-Infinity") == 0)
			x = -INFINITY;
		else
			return dec_fail(d, -EINVAL, "expected number, got string");
	} else {
		return dec_fail(d, -EINVAL, "expected number, got %s", json_type_name(v));
	}
	char num[32];
	if (type == PROTOBUF_C_TYPE_FLOAT && isfinite(x) && fabs(x) > FLT_MAX)
		return dec_fail(d, -EINVAL, "%s out of range for float",
				fmt_double(num, sizeof(num), x));
	*ret = x;
	return 0;
}

static int dec_message(struct dec *d, const json_t *json, const ProtobufCMessageDescriptor *desc,
		       unsigned depth, ProtobufCMessage **ret_msg);

/* Decode one value of f's type into p (an element or a singular member).
 * p is written only on success, so a failure leaves nothing to free. */
static int dec_enum(struct dec *d, const ProtobufCFieldDescriptor *f, const json_t *v, int32_t *ret)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(ed, s);
		if (!ev || strlen(s) != json_string_length(v))
			return dec_fail(d, -EINVAL, "unknown %s value \"%.64s\"", ed->name, s);
		*ret = ev->value;
		return 0;
	}
	if (!json_is_number(v))
		return dec_fail(d, -EINVAL, "expected enum name or number, got %s",
				json_type_name(v));
	/* open enums (proto3): any int32 is kept, and written back as a number */
	uint64_t u;
	int rv = dec_integer(d, v, f->type, false, &u);
	if (rv == 0)
		*ret = (int32_t)(uint32_t)u;
	return rv;
}

static int dec_string(struct dec *d, const json_t *v, char **ret)
{
	if (!json_is_string(v))
		return dec_fail(d, -EINVAL, "expected string, got %s", json_type_name(v));
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (memchr(s, '\0', len))
		return dec_fail(d, -EINVAL, "string contains NUL");
	char *copy = dec_alloc(d, len + 1);
	if (!copy)
		return dec_fail(d, -ENOMEM, "out of memory");
	memcpy(copy, s, len + 1);
	*ret = copy;
	return 0;
}

static int dec_bytes(struct dec *d, const json_t *v, ProtobufCBinaryData *ret)
{
	if (!json_is_string(v))
		return dec_fail(d, -EINVAL, "expected base64 string, got %s", json_type_name(v));
	size_t len = json_string_length(v);
	ProtobufCBinaryData bd = {0, NULL};
	if (len) {
		uint8_t *buf = dec_alloc(d, len / 4 * 3 + 3);
		if (!buf)
			return dec_fail(d, -ENOMEM, "out of memory");
		if (rdpi_base64_decode(json_string_value(v), len, buf, &bd.len) < 0) {
			dec_free(d, buf);
			return dec_fail(d, -EINVAL, "invalid base64");
		}
		/* like the unpacker: empty bytes have no data */
		if (bd.len)
			bd.data = buf;
		else
			dec_free(d, buf);
	}
	*ret = bd;
	return 0;
}

/* Decode one value of f's type into p (an element or a singular member).
 * p is written only on success, so a failure leaves nothing to free. */
static int dec_value(struct dec *d, const ProtobufCFieldDescriptor *f, const json_t *v,
		     unsigned depth, void *p)
{
	const struct pbj_type *t = pbj_type(f->type);
	uint64_t u = 0;
	double x = 0;
	int rv;
	switch (t->kind) {
	case PBJ_INT:
	case PBJ_UINT:
		rv = dec_integer(d, v, f->type, t->size == 8, &u);
		if (rv == 0 && t->size == 4)
			*(uint32_t *)p = (uint32_t)u;
		else if (rv == 0)
			*(uint64_t *)p = u;
		return rv;
	case PBJ_FLOAT:
		rv = dec_double(d, v, f->type, &x);
		if (rv == 0 && t->size == sizeof(float))
			*(float *)p = (float)x;
		else if (rv == 0)
			*(double *)p = x;
		return rv;
	case PBJ_BOOL:
		if (!json_is_boolean(v))
			return dec_fail(d, -EINVAL, "expected boolean, got %s", json_type_name(v));
		*(protobuf_c_boolean *)p = json_is_true(v);
		return 0;
	case PBJ_ENUM:
		return dec_enum(d, f, v, p);
	case PBJ_STRING:
		return dec_string(d, v, p);
	case PBJ_BYTES:
		return dec_bytes(d, v, p);
	case PBJ_MESSAGE:
		return dec_message(d, v, f->descriptor, depth + 1, p);
	default:
		return dec_fail(d, -EINVAL, "unsupported field type %d", (int)f->type);
	}
}

static int dec_map_key(struct dec *d, const ProtobufCFieldDescriptor *kf, const char *key,
		       size_t klen, void *p)
{
	const struct pbj_type *t = pbj_type(kf->type);
	if (t->kind == PBJ_STRING) {
		if (memchr(key, '\0', klen))
			return dec_fail(d, -EINVAL, "key contains NUL");
		char *copy = dec_alloc(d, klen + 1);
		if (!copy)
			return dec_fail(d, -ENOMEM, "out of memory");
		memcpy(copy, key, klen);
		copy[klen] = '\0';
		*(char **)p = copy;
		return 0;
	}
	if (t->kind == PBJ_BOOL) {
		if (klen == 4 && memcmp(key, "true", 4) == 0)
			*(protobuf_c_boolean *)p = 1;
		else if (klen == 5 && memcmp(key, "false", 5) == 0)
			*(protobuf_c_boolean *)p = 0;
		else
			return dec_fail(d, -EINVAL, "expected key true or false");
		return 0;
	}
	/* integer keys: the object key is the decimal string */
	json_t *ks = json_stringn_nocheck(key, klen);
	if (!ks)
		return dec_fail(d, -ENOMEM, "out of memory");
	uint64_t u;
	int rv = dec_integer(d, ks, kf->type, true, &u);
	json_decref(ks);
	if (rv < 0)
		return rv;
	if (t->size == 4)
		*(uint32_t *)p = (uint32_t)u;
	else
		*(uint64_t *)p = u;
	return 0;
}

/* Entries are linked into the parent's array (and counted) before they are
 * filled, so free_unpacked on the parent releases a half-built map. */
static int dec_map(struct dec *d, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		   const json_t *v, unsigned depth)
{
	if (!json_is_object(v))
		return dec_fail(d, -EINVAL, "expected object, got %s", json_type_name(v));
	size_t n = json_object_size(v);
	if (n == 0)
		return 0;
	const ProtobufCMessageDescriptor *sd = f->descriptor;
	const ProtobufCFieldDescriptor *kf = &sd->fields[0], *vf = &sd->fields[1];
	ProtobufCMessage **arr = dec_alloc(d, n * sizeof(*arr));
	if (!arr)
		return dec_fail(d, -ENOMEM, "out of memory");
	MEMBER(ProtobufCMessage **, m, f->offset) = arr;
	size_t *count = MEMBER_PTR(m, f->quantifier_offset);
	*count = 0;
	for (void *it = json_object_iter((json_t *)v); it && *count < n;
	     it = json_object_iter_next((json_t *)v, it)) {
		const char *key = json_object_iter_key(it);
		size_t klen = json_object_iter_key_len(it);
		const json_t *val = json_object_iter_value(it);
		size_t old = path_push(d, "[\"%.*s\"]", klen > 64 ? 64 : (int)klen, key);
		ProtobufCMessage *entry = dec_alloc(d, sd->sizeof_message);
		if (!entry)
			return dec_fail(d, -ENOMEM, "out of memory");
		sd->message_init(entry);
		arr[(*count)++] = entry;
		int rv = dec_map_key(d, kf, key, klen, MEMBER_PTR(entry, kf->offset));
		if (rv < 0)
			return rv;
		rv = dec_value(d, vf, val, depth, MEMBER_PTR(entry, vf->offset));
		if (rv < 0)
			return rv;
		if (vf->label == PROTOBUF_C_LABEL_OPTIONAL && vf->type != PROTOBUF_C_TYPE_STRING &&
		    vf->type != PROTOBUF_C_TYPE_MESSAGE)
			MEMBER(protobuf_c_boolean, entry, vf->quantifier_offset) = 1;
		if (kf->label == PROTOBUF_C_LABEL_OPTIONAL && kf->type != PROTOBUF_C_TYPE_STRING)
			MEMBER(protobuf_c_boolean, entry, kf->quantifier_offset) = 1;
		path_pop(d, old);
	}
	return 0;
}

static int dec_repeated(struct dec *d, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			const json_t *v, unsigned depth)
{
	if (is_map(f))
		return dec_map(d, m, f, v, depth);
	if (!json_is_array(v))
		return dec_fail(d, -EINVAL, "expected array, got %s", json_type_name(v));
	size_t n = json_array_size(v);
	if (n == 0)
		return 0;
	size_t esz = pbj_type(f->type)->size;
	uint8_t *arr = dec_alloc(d, n * esz);
	if (!arr)
		return dec_fail(d, -ENOMEM, "out of memory");
	memset(arr, 0, n * esz);
	MEMBER(void *, m, f->offset) = arr;
	/* only decoded elements are counted, so free_unpacked sees no garbage */
	size_t *count = MEMBER_PTR(m, f->quantifier_offset);
	*count = 0;
	for (size_t i = 0; i < n; i++) {
		size_t old = path_push(d, "[%zu]", i);
		const json_t *elem = json_array_get(v, i);
		int rv = dec_value(d, f, elem, depth, arr + i * esz);
		if (rv < 0)
			return rv;
		(*count)++;
		path_pop(d, old);
	}
	return 0;
}

static int dec_field(struct dec *d, ProtobufCMessage *m, const ProtobufCMessageDescriptor *desc,
		     const ProtobufCFieldDescriptor *f, const json_t *v, unsigned depth)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return dec_repeated(d, m, f, v, depth);
	uint32_t *oneof_case = NULL;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		oneof_case = MEMBER_PTR(m, f->quantifier_offset);
		if (*oneof_case != 0 && *oneof_case != f->id) {
			const ProtobufCFieldDescriptor *other =
			    protobuf_c_message_descriptor_get_field(desc, *oneof_case);
			return dec_fail(d, -EINVAL, "conflicts with %s (same oneof)",
					other ? other->name : "another field");
		}
	}
	int rv = dec_value(d, f, v, depth, MEMBER_PTR(m, f->offset));
	if (rv < 0)
		return rv;
	if (oneof_case)
		*oneof_case = f->id;
	else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
		 f->type != PROTOBUF_C_TYPE_MESSAGE)
		MEMBER(protobuf_c_boolean, m, f->quantifier_offset) = 1;
	return 0;
}

static int dec_message(struct dec *d, const json_t *json, const ProtobufCMessageDescriptor *desc,
		       unsigned depth, ProtobufCMessage **ret_msg)
{
	if (!json_is_object(json))
		return dec_fail(d, -EINVAL, "expected object, got %s",
				json ? json_type_name(json) : "nothing");
	if (depth >= RDPI_PBJSON_MAX_DEPTH)
		return dec_fail(d, -EINVAL, "nesting deeper than %d levels", RDPI_PBJSON_MAX_DEPTH);
	ProtobufCMessage *m = dec_alloc(d, desc->sizeof_message);
	if (!m)
		return dec_fail(d, -ENOMEM, "out of memory");
	desc->message_init(m);
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		const json_t *v = json_object_get(json, f->name);
		size_t old = path_push_field(d, f->name);
		int rv = 0;
		if (v && !json_is_null(v))
			rv = dec_field(d, m, desc, f, v, depth);
		else if (f->label == PROTOBUF_C_LABEL_REQUIRED)
			rv = dec_fail(d, -EINVAL, "missing required field");
		if (rv < 0) {
			protobuf_c_message_free_unpacked(m, d->user_alloc);
			return rv;
		}
		path_pop(d, old);
	}
	*ret_msg = m;
	return 0;
}

int rdpi_pbjson_from_json(const json_t *json, const ProtobufCMessageDescriptor *desc,
			  ProtobufCAllocator *alloc, ProtobufCMessage **ret_msg, char *err,
			  size_t errlen)
{
	if (!desc || desc->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC)
		return -EINVAL;
	struct dec d = {
	    .alloc = alloc ? alloc : &sys_allocator,
	    .user_alloc = alloc,
	    .err = err,
	    .errlen = errlen,
	};
	ProtobufCMessage *m;
	int rv = dec_message(&d, json, desc, 0, &m);
	if (rv < 0)
		return rv;
	*ret_msg = m;
	return 0;
}

int rdpi_pbjson_loads(const char *text, size_t len, const ProtobufCMessageDescriptor *desc,
		      ProtobufCAllocator *alloc, ProtobufCMessage **ret_msg, char *err,
		      size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb(text ? text : "", text ? len : 0, JSON_DECODE_ANY, &je);
	if (!j) {
		if (json_error_code(&je) == json_error_out_of_memory)
			return -ENOMEM;
		if (err && errlen)
			snprintf(err, errlen, "invalid JSON at line %d column %d (position %d): %s",
				 je.line, je.column, je.position, je.text);
		return -EINVAL;
	}
	ProtobufCMessage *m;
	int rv = rdpi_pbjson_from_json(j, desc, alloc, &m, err, errlen);
	json_decref(j);
	if (rv < 0)
		return rv;
	*ret_msg = m;
	return 0;
}

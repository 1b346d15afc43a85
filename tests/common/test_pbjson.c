/* Tests for common/pbjson: round trips of every wire message through JSON,
 * legacy key names, presence rules, error paths and allocation balance, plus
 * proto2 features (optional, required, oneof, all scalar types) on a fixture. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/pbjson.h"
#include "routerd/dpi/v1/agent.pb-c.h"
#include "routerd/dpi/v1/classifier.pb-c.h"
#include "routerd/dpi/v1/common.pb-c.h"
#include "routerd/dpi/v1/logger.pb-c.h"

/* ---- fixture: protoc-c 1.4.1 output for this proto2 file, made static -------
 *
 * syntax = "proto2"; package pbjt;
 * enum Color { RED = 0; GREEN = 1; BLUE = 2; }
 * message All {
 *   optional int32 i32 = 1; optional sint32 s32 = 2; optional sfixed32 sf32 = 3;
 *   optional int64 i64 = 4; optional sint64 s64 = 5; optional sfixed64 sf64 = 6;
 *   optional uint32 u32 = 7; optional fixed32 f32 = 8; optional uint64 u64 = 9;
 *   optional fixed64 f64 = 10; optional float fl = 11; optional double db = 12;
 *   optional bool b = 13; optional Color color = 14; optional string str = 15;
 *   optional bytes by = 16; required int32 req = 17; optional All child = 18;
 *   repeated sint64 rs64 = 19; repeated float rfl = 20; repeated bool rb = 21;
 *   repeated Color rcolor = 22; repeated bytes rby = 23; repeated All rchild = 24;
 *   oneof pick { string ostr = 25; uint32 ou32 = 26; All omsg = 27; }
 *   map<int32, string> imap = 28; map<bool, double> bmap = 29;
 *   map<string, All> mmap = 30;
 *   optional string dstr = 31 [default = "dflt"]; optional int32 di32 = 32 [default = 7];
 * }
 */
/* clang-format off */
static const ProtobufCEnumDescriptor pbjt__color__descriptor;
static const ProtobufCMessageDescriptor pbjt__all__descriptor;
static const ProtobufCMessageDescriptor pbjt__all__imap_entry__descriptor;
static const ProtobufCMessageDescriptor pbjt__all__bmap_entry__descriptor;
static const ProtobufCMessageDescriptor pbjt__all__mmap_entry__descriptor;
typedef struct Pbjt__All Pbjt__All;
typedef struct Pbjt__All__ImapEntry Pbjt__All__ImapEntry;
typedef struct Pbjt__All__BmapEntry Pbjt__All__BmapEntry;
typedef struct Pbjt__All__MmapEntry Pbjt__All__MmapEntry;


/* --- enums --- */

typedef enum _Pbjt__Color {
  PBJT__COLOR__RED = 0,
  PBJT__COLOR__GREEN = 1,
  PBJT__COLOR__BLUE = 2
    PROTOBUF_C__FORCE_ENUM_TO_BE_INT_SIZE(PBJT__COLOR)
} Pbjt__Color;

/* --- messages --- */

struct  Pbjt__All__ImapEntry
{
  ProtobufCMessage base;
  protobuf_c_boolean has_key;
  int32_t key;
  char *value;
};
#define PBJT__ALL__IMAP_ENTRY__INIT \
 { PROTOBUF_C_MESSAGE_INIT (&pbjt__all__imap_entry__descriptor) \
    , 0, 0, NULL }


struct  Pbjt__All__BmapEntry
{
  ProtobufCMessage base;
  protobuf_c_boolean has_key;
  protobuf_c_boolean key;
  protobuf_c_boolean has_value;
  double value;
};
#define PBJT__ALL__BMAP_ENTRY__INIT \
 { PROTOBUF_C_MESSAGE_INIT (&pbjt__all__bmap_entry__descriptor) \
    , 0, 0, 0, 0 }


struct  Pbjt__All__MmapEntry
{
  ProtobufCMessage base;
  char *key;
  Pbjt__All *value;
};
#define PBJT__ALL__MMAP_ENTRY__INIT \
 { PROTOBUF_C_MESSAGE_INIT (&pbjt__all__mmap_entry__descriptor) \
    , NULL, NULL }


typedef enum {
  PBJT__ALL__PICK__NOT_SET = 0,
  PBJT__ALL__PICK_OSTR = 25,
  PBJT__ALL__PICK_OU32 = 26,
  PBJT__ALL__PICK_OMSG = 27
    PROTOBUF_C__FORCE_ENUM_TO_BE_INT_SIZE(PBJT__ALL__PICK__CASE)
} Pbjt__All__PickCase;

struct  Pbjt__All
{
  ProtobufCMessage base;
  protobuf_c_boolean has_i32;
  int32_t i32;
  protobuf_c_boolean has_s32;
  int32_t s32;
  protobuf_c_boolean has_sf32;
  int32_t sf32;
  protobuf_c_boolean has_i64;
  int64_t i64;
  protobuf_c_boolean has_s64;
  int64_t s64;
  protobuf_c_boolean has_sf64;
  int64_t sf64;
  protobuf_c_boolean has_u32;
  uint32_t u32;
  protobuf_c_boolean has_f32;
  uint32_t f32;
  protobuf_c_boolean has_u64;
  uint64_t u64;
  protobuf_c_boolean has_f64;
  uint64_t f64;
  protobuf_c_boolean has_fl;
  float fl;
  protobuf_c_boolean has_db;
  double db;
  protobuf_c_boolean has_b;
  protobuf_c_boolean b;
  protobuf_c_boolean has_color;
  Pbjt__Color color;
  char *str;
  protobuf_c_boolean has_by;
  ProtobufCBinaryData by;
  int32_t req;
  Pbjt__All *child;
  size_t n_rs64;
  int64_t *rs64;
  size_t n_rfl;
  float *rfl;
  size_t n_rb;
  protobuf_c_boolean *rb;
  size_t n_rcolor;
  Pbjt__Color *rcolor;
  size_t n_rby;
  ProtobufCBinaryData *rby;
  size_t n_rchild;
  Pbjt__All **rchild;
  size_t n_imap;
  Pbjt__All__ImapEntry **imap;
  size_t n_bmap;
  Pbjt__All__BmapEntry **bmap;
  size_t n_mmap;
  Pbjt__All__MmapEntry **mmap;
  char *dstr;
  protobuf_c_boolean has_di32;
  int32_t di32;
  Pbjt__All__PickCase pick_case;
  union {
    char *ostr;
    uint32_t ou32;
    Pbjt__All *omsg;
  };
};
#define PBJT__ALL__INIT \
 { PROTOBUF_C_MESSAGE_INIT (&pbjt__all__descriptor) \
    , 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, PBJT__COLOR__RED, NULL, 0, {0,NULL}, 0, NULL, 0,NULL, 0,NULL, 0,NULL, 0,NULL, 0,NULL, 0,NULL, 0,NULL, 0,NULL, 0,NULL, pbjt__all__dstr__default_value, 0, 7, PBJT__ALL__PICK__NOT_SET, {0} }


static char pbjt__all__dstr__default_value[] = "dflt";
static void pbjt__all__imap_entry__init
                     (Pbjt__All__ImapEntry         *message)
{
  static const Pbjt__All__ImapEntry init_value = PBJT__ALL__IMAP_ENTRY__INIT;
  *message = init_value;
}
static void pbjt__all__bmap_entry__init
                     (Pbjt__All__BmapEntry         *message)
{
  static const Pbjt__All__BmapEntry init_value = PBJT__ALL__BMAP_ENTRY__INIT;
  *message = init_value;
}
static void pbjt__all__mmap_entry__init
                     (Pbjt__All__MmapEntry         *message)
{
  static const Pbjt__All__MmapEntry init_value = PBJT__ALL__MMAP_ENTRY__INIT;
  *message = init_value;
}
static void pbjt__all__init
                     (Pbjt__All         *message)
{
  static const Pbjt__All init_value = PBJT__ALL__INIT;
  *message = init_value;
}
static const ProtobufCFieldDescriptor pbjt__all__imap_entry__field_descriptors[2] =
{
  {
    "key",
    1,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_INT32,
    offsetof(Pbjt__All__ImapEntry, has_key),
    offsetof(Pbjt__All__ImapEntry, key),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "value",
    2,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_STRING,
    0,   /* quantifier_offset */
    offsetof(Pbjt__All__ImapEntry, value),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
};
static const unsigned pbjt__all__imap_entry__field_indices_by_name[] = {
  0,   /* field[0] = key */
  1,   /* field[1] = value */
};
static const ProtobufCIntRange pbjt__all__imap_entry__number_ranges[1 + 1] =
{
  { 1, 0 },
  { 0, 2 }
};
static const ProtobufCMessageDescriptor pbjt__all__imap_entry__descriptor =
{
  PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
  "pbjt.All.ImapEntry",
  "ImapEntry",
  "Pbjt__All__ImapEntry",
  "pbjt",
  sizeof(Pbjt__All__ImapEntry),
  2,
  pbjt__all__imap_entry__field_descriptors,
  pbjt__all__imap_entry__field_indices_by_name,
  1,  pbjt__all__imap_entry__number_ranges,
  (ProtobufCMessageInit) pbjt__all__imap_entry__init,
  NULL,NULL,NULL    /* reserved[123] */
};
static const ProtobufCFieldDescriptor pbjt__all__bmap_entry__field_descriptors[2] =
{
  {
    "key",
    1,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_BOOL,
    offsetof(Pbjt__All__BmapEntry, has_key),
    offsetof(Pbjt__All__BmapEntry, key),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "value",
    2,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_DOUBLE,
    offsetof(Pbjt__All__BmapEntry, has_value),
    offsetof(Pbjt__All__BmapEntry, value),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
};
static const unsigned pbjt__all__bmap_entry__field_indices_by_name[] = {
  0,   /* field[0] = key */
  1,   /* field[1] = value */
};
static const ProtobufCIntRange pbjt__all__bmap_entry__number_ranges[1 + 1] =
{
  { 1, 0 },
  { 0, 2 }
};
static const ProtobufCMessageDescriptor pbjt__all__bmap_entry__descriptor =
{
  PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
  "pbjt.All.BmapEntry",
  "BmapEntry",
  "Pbjt__All__BmapEntry",
  "pbjt",
  sizeof(Pbjt__All__BmapEntry),
  2,
  pbjt__all__bmap_entry__field_descriptors,
  pbjt__all__bmap_entry__field_indices_by_name,
  1,  pbjt__all__bmap_entry__number_ranges,
  (ProtobufCMessageInit) pbjt__all__bmap_entry__init,
  NULL,NULL,NULL    /* reserved[123] */
};
static const ProtobufCFieldDescriptor pbjt__all__mmap_entry__field_descriptors[2] =
{
  {
    "key",
    1,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_STRING,
    0,   /* quantifier_offset */
    offsetof(Pbjt__All__MmapEntry, key),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "value",
    2,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_MESSAGE,
    0,   /* quantifier_offset */
    offsetof(Pbjt__All__MmapEntry, value),
    &pbjt__all__descriptor,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
};
static const unsigned pbjt__all__mmap_entry__field_indices_by_name[] = {
  0,   /* field[0] = key */
  1,   /* field[1] = value */
};
static const ProtobufCIntRange pbjt__all__mmap_entry__number_ranges[1 + 1] =
{
  { 1, 0 },
  { 0, 2 }
};
static const ProtobufCMessageDescriptor pbjt__all__mmap_entry__descriptor =
{
  PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
  "pbjt.All.MmapEntry",
  "MmapEntry",
  "Pbjt__All__MmapEntry",
  "pbjt",
  sizeof(Pbjt__All__MmapEntry),
  2,
  pbjt__all__mmap_entry__field_descriptors,
  pbjt__all__mmap_entry__field_indices_by_name,
  1,  pbjt__all__mmap_entry__number_ranges,
  (ProtobufCMessageInit) pbjt__all__mmap_entry__init,
  NULL,NULL,NULL    /* reserved[123] */
};
static const int32_t pbjt__all__di32__default_value = 7;
static const ProtobufCFieldDescriptor pbjt__all__field_descriptors[32] =
{
  {
    "i32",
    1,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_INT32,
    offsetof(Pbjt__All, has_i32),
    offsetof(Pbjt__All, i32),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "s32",
    2,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_SINT32,
    offsetof(Pbjt__All, has_s32),
    offsetof(Pbjt__All, s32),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "sf32",
    3,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_SFIXED32,
    offsetof(Pbjt__All, has_sf32),
    offsetof(Pbjt__All, sf32),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "i64",
    4,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_INT64,
    offsetof(Pbjt__All, has_i64),
    offsetof(Pbjt__All, i64),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "s64",
    5,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_SINT64,
    offsetof(Pbjt__All, has_s64),
    offsetof(Pbjt__All, s64),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "sf64",
    6,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_SFIXED64,
    offsetof(Pbjt__All, has_sf64),
    offsetof(Pbjt__All, sf64),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "u32",
    7,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_UINT32,
    offsetof(Pbjt__All, has_u32),
    offsetof(Pbjt__All, u32),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "f32",
    8,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_FIXED32,
    offsetof(Pbjt__All, has_f32),
    offsetof(Pbjt__All, f32),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "u64",
    9,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_UINT64,
    offsetof(Pbjt__All, has_u64),
    offsetof(Pbjt__All, u64),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "f64",
    10,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_FIXED64,
    offsetof(Pbjt__All, has_f64),
    offsetof(Pbjt__All, f64),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "fl",
    11,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_FLOAT,
    offsetof(Pbjt__All, has_fl),
    offsetof(Pbjt__All, fl),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "db",
    12,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_DOUBLE,
    offsetof(Pbjt__All, has_db),
    offsetof(Pbjt__All, db),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "b",
    13,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_BOOL,
    offsetof(Pbjt__All, has_b),
    offsetof(Pbjt__All, b),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "color",
    14,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_ENUM,
    offsetof(Pbjt__All, has_color),
    offsetof(Pbjt__All, color),
    &pbjt__color__descriptor,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "str",
    15,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_STRING,
    0,   /* quantifier_offset */
    offsetof(Pbjt__All, str),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "by",
    16,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_BYTES,
    offsetof(Pbjt__All, has_by),
    offsetof(Pbjt__All, by),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "req",
    17,
    PROTOBUF_C_LABEL_REQUIRED,
    PROTOBUF_C_TYPE_INT32,
    0,   /* quantifier_offset */
    offsetof(Pbjt__All, req),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "child",
    18,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_MESSAGE,
    0,   /* quantifier_offset */
    offsetof(Pbjt__All, child),
    &pbjt__all__descriptor,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "rs64",
    19,
    PROTOBUF_C_LABEL_REPEATED,
    PROTOBUF_C_TYPE_SINT64,
    offsetof(Pbjt__All, n_rs64),
    offsetof(Pbjt__All, rs64),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "rfl",
    20,
    PROTOBUF_C_LABEL_REPEATED,
    PROTOBUF_C_TYPE_FLOAT,
    offsetof(Pbjt__All, n_rfl),
    offsetof(Pbjt__All, rfl),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "rb",
    21,
    PROTOBUF_C_LABEL_REPEATED,
    PROTOBUF_C_TYPE_BOOL,
    offsetof(Pbjt__All, n_rb),
    offsetof(Pbjt__All, rb),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "rcolor",
    22,
    PROTOBUF_C_LABEL_REPEATED,
    PROTOBUF_C_TYPE_ENUM,
    offsetof(Pbjt__All, n_rcolor),
    offsetof(Pbjt__All, rcolor),
    &pbjt__color__descriptor,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "rby",
    23,
    PROTOBUF_C_LABEL_REPEATED,
    PROTOBUF_C_TYPE_BYTES,
    offsetof(Pbjt__All, n_rby),
    offsetof(Pbjt__All, rby),
    NULL,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "rchild",
    24,
    PROTOBUF_C_LABEL_REPEATED,
    PROTOBUF_C_TYPE_MESSAGE,
    offsetof(Pbjt__All, n_rchild),
    offsetof(Pbjt__All, rchild),
    &pbjt__all__descriptor,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "ostr",
    25,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_STRING,
    offsetof(Pbjt__All, pick_case),
    offsetof(Pbjt__All, ostr),
    NULL,
    NULL,
    0 | PROTOBUF_C_FIELD_FLAG_ONEOF,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "ou32",
    26,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_UINT32,
    offsetof(Pbjt__All, pick_case),
    offsetof(Pbjt__All, ou32),
    NULL,
    NULL,
    0 | PROTOBUF_C_FIELD_FLAG_ONEOF,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "omsg",
    27,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_MESSAGE,
    offsetof(Pbjt__All, pick_case),
    offsetof(Pbjt__All, omsg),
    &pbjt__all__descriptor,
    NULL,
    0 | PROTOBUF_C_FIELD_FLAG_ONEOF,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "imap",
    28,
    PROTOBUF_C_LABEL_REPEATED,
    PROTOBUF_C_TYPE_MESSAGE,
    offsetof(Pbjt__All, n_imap),
    offsetof(Pbjt__All, imap),
    &pbjt__all__imap_entry__descriptor,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "bmap",
    29,
    PROTOBUF_C_LABEL_REPEATED,
    PROTOBUF_C_TYPE_MESSAGE,
    offsetof(Pbjt__All, n_bmap),
    offsetof(Pbjt__All, bmap),
    &pbjt__all__bmap_entry__descriptor,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "mmap",
    30,
    PROTOBUF_C_LABEL_REPEATED,
    PROTOBUF_C_TYPE_MESSAGE,
    offsetof(Pbjt__All, n_mmap),
    offsetof(Pbjt__All, mmap),
    &pbjt__all__mmap_entry__descriptor,
    NULL,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "dstr",
    31,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_STRING,
    0,   /* quantifier_offset */
    offsetof(Pbjt__All, dstr),
    NULL,
    &pbjt__all__dstr__default_value,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
  {
    "di32",
    32,
    PROTOBUF_C_LABEL_OPTIONAL,
    PROTOBUF_C_TYPE_INT32,
    offsetof(Pbjt__All, has_di32),
    offsetof(Pbjt__All, di32),
    NULL,
    &pbjt__all__di32__default_value,
    0,             /* flags */
    0,NULL,NULL    /* reserved1,reserved2, etc */
  },
};
static const unsigned pbjt__all__field_indices_by_name[] = {
  12,   /* field[12] = b */
  28,   /* field[28] = bmap */
  15,   /* field[15] = by */
  17,   /* field[17] = child */
  13,   /* field[13] = color */
  11,   /* field[11] = db */
  31,   /* field[31] = di32 */
  30,   /* field[30] = dstr */
  7,   /* field[7] = f32 */
  9,   /* field[9] = f64 */
  10,   /* field[10] = fl */
  0,   /* field[0] = i32 */
  3,   /* field[3] = i64 */
  27,   /* field[27] = imap */
  29,   /* field[29] = mmap */
  26,   /* field[26] = omsg */
  24,   /* field[24] = ostr */
  25,   /* field[25] = ou32 */
  20,   /* field[20] = rb */
  22,   /* field[22] = rby */
  23,   /* field[23] = rchild */
  21,   /* field[21] = rcolor */
  16,   /* field[16] = req */
  19,   /* field[19] = rfl */
  18,   /* field[18] = rs64 */
  1,   /* field[1] = s32 */
  4,   /* field[4] = s64 */
  2,   /* field[2] = sf32 */
  5,   /* field[5] = sf64 */
  14,   /* field[14] = str */
  6,   /* field[6] = u32 */
  8,   /* field[8] = u64 */
};
static const ProtobufCIntRange pbjt__all__number_ranges[1 + 1] =
{
  { 1, 0 },
  { 0, 32 }
};
static const ProtobufCMessageDescriptor pbjt__all__descriptor =
{
  PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
  "pbjt.All",
  "All",
  "Pbjt__All",
  "pbjt",
  sizeof(Pbjt__All),
  32,
  pbjt__all__field_descriptors,
  pbjt__all__field_indices_by_name,
  1,  pbjt__all__number_ranges,
  (ProtobufCMessageInit) pbjt__all__init,
  NULL,NULL,NULL    /* reserved[123] */
};
static const ProtobufCEnumValue pbjt__color__enum_values_by_number[3] =
{
  { "RED", "PBJT__COLOR__RED", 0 },
  { "GREEN", "PBJT__COLOR__GREEN", 1 },
  { "BLUE", "PBJT__COLOR__BLUE", 2 },
};
static const ProtobufCIntRange pbjt__color__value_ranges[] = {
{0, 0},{0, 3}
};
static const ProtobufCEnumValueIndex pbjt__color__enum_values_by_name[3] =
{
  { "BLUE", 2 },
  { "GREEN", 1 },
  { "RED", 0 },
};
static const ProtobufCEnumDescriptor pbjt__color__descriptor =
{
  PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC,
  "pbjt.Color",
  "Color",
  "Pbjt__Color",
  "pbjt",
  3,
  pbjt__color__enum_values_by_number,
  3,
  pbjt__color__enum_values_by_name,
  1,
  pbjt__color__value_ranges,
  NULL,NULL,NULL,NULL   /* reserved[1234] */
};
/* clang-format on */

/* ---- helpers ------------------------------------------------------------------ */

/* Counts allocations so every test proves from_json + free_unpacked balance,
 * and can fail the Nth allocation to walk the ENOMEM paths. */
struct counting {
	size_t allocs;
	size_t frees;
	size_t fail_at; /* 0: never, else fail the fail_at-th allocation */
};

static void *counting_alloc(void *data, size_t size)
{
	struct counting *c = data;
	if (c->fail_at && c->allocs + 1 >= c->fail_at)
		return NULL;
	void *p = malloc(size);
	if (p)
		c->allocs++;
	return p;
}

static void counting_free(void *data, void *p)
{
	struct counting *c = data;
	c->frees++;
	free(p);
}

static ProtobufCAllocator counting_allocator(struct counting *c)
{
	return (ProtobufCAllocator){
	    .alloc = counting_alloc, .free = counting_free, .allocator_data = c};
}

static char *dump(const ProtobufCMessage *msg, const struct rdpi_pbjson_opts *opts)
{
	char *text = NULL;
	assert_int_equal(rdpi_pbjson_dumps(msg, opts, &text), 0);
	assert_non_null(text);
	return text;
}

static void assert_contains(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("%s\n  does not contain %s", text, needle);
}

static void assert_lacks(const char *text, const char *needle)
{
	if (strstr(text, needle))
		fail_msg("%s\n  unexpectedly contains %s", text, needle);
}

/* Parse text as desc; fail the test on error. Caller frees with
 * protobuf_c_message_free_unpacked(msg, NULL). */
static ProtobufCMessage *load_ok(const char *text, const ProtobufCMessageDescriptor *desc)
{
	char err[256] = "";
	ProtobufCMessage *m = NULL;
	int rv = rdpi_pbjson_loads(text, strlen(text), desc, NULL, &m, err, sizeof(err));
	if (rv != 0)
		fail_msg("loads(%s) = %d: %s", text, rv, err);
	assert_non_null(m);
	return m;
}

/* Parse text as desc expecting -EINVAL with exactly want as the message; the
 * counting allocator proves the partial message was freed. */
static void load_fails(const char *text, const ProtobufCMessageDescriptor *desc, const char *want)
{
	struct counting c = {0};
	ProtobufCAllocator a = counting_allocator(&c);
	char err[256] = "";
	ProtobufCMessage *sentinel = (ProtobufCMessage *)(uintptr_t)0x1234;
	ProtobufCMessage *m = sentinel;
	int rv = rdpi_pbjson_loads(text, strlen(text), desc, &a, &m, err, sizeof(err));
	if (rv != -EINVAL)
		fail_msg("loads(%s) = %d, want -EINVAL", text, rv);
	assert_ptr_equal(m, sentinel);
	if (want && strcmp(err, want) != 0)
		fail_msg("loads(%s)\n  error \"%s\"\n  want  \"%s\"", text, err, want);
	assert_int_equal(c.allocs, c.frees);
}

/* protobuf -> JSON -> protobuf: both messages must pack to the same bytes, and
 * the packed bytes unpacked again must dump to the same text. Returns the
 * JSON text (caller frees). */
static char *roundtrip(const ProtobufCMessage *msg)
{
	char *text = dump(msg, NULL);
	struct counting c = {0};
	ProtobufCAllocator a = counting_allocator(&c);
	char err[256] = "";
	ProtobufCMessage *back = NULL;
	int rv =
	    rdpi_pbjson_loads(text, strlen(text), msg->descriptor, &a, &back, err, sizeof(err));
	if (rv != 0)
		fail_msg("loads(%s) = %d: %s", text, rv, err);
	size_t n1 = protobuf_c_message_get_packed_size(msg);
	size_t n2 = protobuf_c_message_get_packed_size(back);
	assert_int_equal(n1, n2);
	uint8_t *b1 = malloc(n1 + 1), *b2 = malloc(n2 + 1);
	assert_non_null(b1);
	assert_non_null(b2);
	assert_int_equal(protobuf_c_message_pack(msg, b1), n1);
	assert_int_equal(protobuf_c_message_pack(back, b2), n2);
	assert_memory_equal(b1, b2, n1);

	ProtobufCMessage *un = protobuf_c_message_unpack(msg->descriptor, NULL, n1, b1);
	assert_non_null(un);
	char *text2 = dump(un, NULL);
	assert_string_equal(text, text2);
	free(text2);
	protobuf_c_message_free_unpacked(un, NULL);
	free(b1);
	free(b2);

	protobuf_c_message_free_unpacked(back, &a);
	assert_true(c.allocs > 0 || n1 == 0);
	assert_int_equal(c.allocs, c.frees);
	return text;
}

/* ---- round trips for every message in proto/ ---------------------------------- */

static uint8_t pkt_bytes[] = {0x45, 0x00, 0x00, 0x1c};
static uint8_t hello_bytes[] = {'h', 'e', 'l', 'l', 'o'};

static void fill_request(Routerd__Dpi__V1__ClassifyRequest *r, uint32_t sport)
{
	r->packet = (ProtobufCBinaryData){sizeof(pkt_bytes), pkt_bytes};
	r->l4payload = (ProtobufCBinaryData){sizeof(hello_bytes), hello_bytes};
	r->l3proto = "ipv4";
	r->transportprotocol = "tcp";
	r->srcaddress = "192.0.2.1";
	r->srcport = sport;
	r->dstaddress = "198.51.100.7";
	r->dstport = 51000;
	r->direction = ROUTERD__DPI__V1__DIRECTION__DIRECTION_ORIGINAL;
	r->timestampns = 1700000000123456789ull;
	r->flowid = "00112233445566778899aabbccddeeff";
}

static Routerd__Dpi__V1__ClassifyResult__MetadataEntry md_ja3 = {
    PROTOBUF_C_MESSAGE_INIT(&routerd__dpi__v1__classify_result__metadata_entry__descriptor), "ja3",
    "771,4865"};
static Routerd__Dpi__V1__ClassifyResult__MetadataEntry md_alpn = {
    PROTOBUF_C_MESSAGE_INIT(&routerd__dpi__v1__classify_result__metadata_entry__descriptor), "alpn",
    "h2"};
static Routerd__Dpi__V1__ClassifyResult__MetadataEntry *md_entries[] = {&md_ja3, &md_alpn};
static char *risks[] = {"Known Proto on Non Std Port", "Self-signed Cert"};

static void fill_result(Routerd__Dpi__V1__ClassifyResult *r)
{
	r->appname = "TLS";
	r->appcategory = "Web";
	r->appconfidence = 90;
	r->detectedprotocol = "TLS";
	r->masterprotocol = "TLS";
	r->applicationprotocol = "Google";
	r->category = "Web";
	r->n_risk = 2;
	r->risk = risks;
	r->confidence = "DPI";
	r->n_metadata = 2;
	r->metadata = md_entries;
	r->source = "ndpi-agent";
	r->tlssni = "example.com";
	r->httphost = "www.example.com";
	r->dnsquery = "example.com";
	r->l3proto = "ipv6";
	r->transportprotocol = "udp";
	r->srcaddress = "2001:db8::1";
	r->srcport = 443;
	r->dstaddress = "2001:db8::2";
	r->dstport = 50000;
	r->engine = "ndpi";
	r->reason = "sni";
	r->fallbackreason = "agent timeout";
	r->riskscore = 60;
	r->guessed = 1;
	r->flowid = "ffeeddccbbaa99887766554433221100";
	r->final = 1;
}

static void test_pbjson_classify_request_roundtrip(void **state)
{
	Routerd__Dpi__V1__ClassifyRequest r = ROUTERD__DPI__V1__CLASSIFY_REQUEST__INIT;
	fill_request(&r, 443);
	char *text = roundtrip(&r.base);
	assert_contains(text, "\"packet\":\"RQAAHA==\"");
	assert_contains(text, "\"l4Payload\":\"aGVsbG8=\"");
	assert_contains(text, "\"l3Proto\":\"ipv4\"");
	assert_contains(text, "\"transportProtocol\":\"tcp\"");
	assert_contains(text, "\"srcAddress\":\"192.0.2.1\"");
	assert_contains(text, "\"srcPort\":443");
	assert_contains(text, "\"dstAddress\":\"198.51.100.7\"");
	assert_contains(text, "\"dstPort\":51000");
	assert_contains(text, "\"direction\":\"DIRECTION_ORIGINAL\"");
	assert_contains(text, "\"timestampNs\":1700000000123456789");
	assert_contains(text, "\"flowId\":\"00112233445566778899aabbccddeeff\"");
	assert_lacks(text, "\"payload\""); /* empty bytes omitted */
	free(text);

	/* the legacy alias is a field of its own */
	Routerd__Dpi__V1__ClassifyRequest p = ROUTERD__DPI__V1__CLASSIFY_REQUEST__INIT;
	p.payload = (ProtobufCBinaryData){sizeof(hello_bytes), hello_bytes};
	text = roundtrip(&p.base);
	assert_string_equal(text, "{\"payload\":\"aGVsbG8=\"}");
	free(text);
}

static void test_pbjson_classify_result_roundtrip(void **state)
{
	Routerd__Dpi__V1__ClassifyResult r = ROUTERD__DPI__V1__CLASSIFY_RESULT__INIT;
	fill_result(&r);
	char *text = roundtrip(&r.base);
	assert_contains(text, "{\"appName\":\"TLS\",\"appCategory\":\"Web\",\"appConfidence\":90,");
	assert_contains(text, "\"detectedProtocol\":\"TLS\"");
	assert_contains(text, "\"masterProtocol\":\"TLS\"");
	assert_contains(text, "\"applicationProtocol\":\"Google\"");
	assert_contains(text, "\"category\":\"Web\"");
	assert_contains(text, "\"risk\":[\"Known Proto on Non Std Port\",\"Self-signed Cert\"]");
	assert_contains(text, "\"confidence\":\"DPI\"");
	assert_contains(text, "\"metadata\":{\"ja3\":\"771,4865\",\"alpn\":\"h2\"}");
	assert_contains(text, "\"source\":\"ndpi-agent\"");
	assert_contains(text, "\"tlsSNI\":\"example.com\"");
	assert_contains(text, "\"httpHost\":\"www.example.com\"");
	assert_contains(text, "\"dnsQuery\":\"example.com\"");
	assert_contains(text, "\"srcPort\":443");
	assert_contains(text, "\"engine\":\"ndpi\"");
	assert_contains(text, "\"reason\":\"sni\"");
	assert_contains(text, "\"fallbackReason\":\"agent timeout\"");
	assert_contains(text, "\"riskScore\":60");
	assert_contains(text, "\"guessed\":true");
	assert_contains(text, "\"final\":true}");
	free(text);

	/* the parsed map and list are laid out as the unpacker would */
	ProtobufCMessage *m = load_ok("{\"risk\":[\"a\",\"b\",\"c\"],\"metadata\":{\"k\":\"v\"}}",
				      &routerd__dpi__v1__classify_result__descriptor);
	Routerd__Dpi__V1__ClassifyResult *res = (void *)m;
	assert_int_equal(res->n_risk, 3);
	assert_string_equal(res->risk[2], "c");
	assert_int_equal(res->n_metadata, 1);
	assert_string_equal(res->metadata[0]->key, "k");
	assert_string_equal(res->metadata[0]->value, "v");
	assert_string_equal(res->appname, "");
	protobuf_c_message_free_unpacked(m, NULL);
}

static void test_pbjson_batch_roundtrip(void **state)
{
	Routerd__Dpi__V1__ClassifyRequest r[3] = {ROUTERD__DPI__V1__CLASSIFY_REQUEST__INIT,
						  ROUTERD__DPI__V1__CLASSIFY_REQUEST__INIT,
						  ROUTERD__DPI__V1__CLASSIFY_REQUEST__INIT};
	Routerd__Dpi__V1__ClassifyRequest *rp[3] = {&r[0], &r[1], &r[2]};
	fill_request(&r[0], 1000);
	fill_request(&r[2], 1002); /* r[1] stays empty: {} in the array */
	Routerd__Dpi__V1__ClassifyBatchRequest br = ROUTERD__DPI__V1__CLASSIFY_BATCH_REQUEST__INIT;
	br.n_requests = 3;
	br.requests = rp;
	char *text = roundtrip(&br.base);
	assert_contains(text, "{\"requests\":[{\"packet\":");
	assert_contains(text, "\"srcPort\":1000");
	assert_contains(text, "},{},{");
	free(text);

	Routerd__Dpi__V1__ObserveBatchRequest ob = ROUTERD__DPI__V1__OBSERVE_BATCH_REQUEST__INIT;
	ob.n_requests = 3;
	ob.requests = rp;
	free(roundtrip(&ob.base));

	Routerd__Dpi__V1__ClassifyResult res[2] = {ROUTERD__DPI__V1__CLASSIFY_RESULT__INIT,
						   ROUTERD__DPI__V1__CLASSIFY_RESULT__INIT};
	Routerd__Dpi__V1__ClassifyResult *resp[2] = {&res[0], &res[1]};
	fill_result(&res[0]);
	res[1].appname = "DNS";
	res[1].srcport = 53;
	Routerd__Dpi__V1__ClassifyBatchReply bp = ROUTERD__DPI__V1__CLASSIFY_BATCH_REPLY__INIT;
	bp.n_results = 2;
	bp.results = resp;
	text = roundtrip(&bp.base);
	assert_contains(text, "},{\"appName\":\"DNS\",\"srcPort\":53}]}");
	free(text);

	Routerd__Dpi__V1__ObserveBatchReply obr = ROUTERD__DPI__V1__OBSERVE_BATCH_REPLY__INIT;
	obr.n_results = 2;
	obr.results = resp;
	free(roundtrip(&obr.base));
}

static void test_pbjson_envelope_roundtrip(void **state)
{
	Routerd__Dpi__V1__Request rq = ROUTERD__DPI__V1__REQUEST__INIT;
	rq.method = "ClassifyBatch";
	rq.body = (ProtobufCBinaryData){sizeof(hello_bytes), hello_bytes};
	rq.timeoutms = 250;
	char *text = roundtrip(&rq.base);
	assert_string_equal(
	    text, "{\"method\":\"ClassifyBatch\",\"body\":\"aGVsbG8=\",\"timeoutMs\":250}");
	free(text);

	Routerd__Dpi__V1__Reply rp = ROUTERD__DPI__V1__REPLY__INIT;
	rp.status = ROUTERD__DPI__V1__STATUS__RESOURCE_EXHAUSTED;
	rp.error = "queue full";
	text = roundtrip(&rp.base);
	assert_string_equal(text, "{\"status\":\"RESOURCE_EXHAUSTED\",\"error\":\"queue full\"}");
	free(text);

	Routerd__Dpi__V1__Empty e = ROUTERD__DPI__V1__EMPTY__INIT;
	text = roundtrip(&e.base);
	assert_string_equal(text, "{}");
	free(text);
}

static void test_pbjson_classifier_status_roundtrip(void **state)
{
	Routerd__Dpi__V1__ClassifierAgent agent = ROUTERD__DPI__V1__CLASSIFIER_AGENT__INIT;
	agent.socket = "ipc:///run/routerd/dpi-agent/default.ipc";
	agent.available = 1;
	agent.libndpiloaded = 1;
	agent.error = "last: timeout";
	agent.breaker = "half-open";
	agent.breakeropens = 4;
	Routerd__Dpi__V1__ClassifierStats__BySourceEntry src[2] = {
	    ROUTERD__DPI__V1__CLASSIFIER_STATS__BY_SOURCE_ENTRY__INIT,
	    ROUTERD__DPI__V1__CLASSIFIER_STATS__BY_SOURCE_ENTRY__INIT};
	Routerd__Dpi__V1__ClassifierStats__BySourceEntry *srcp[2] = {&src[0], &src[1]};
	src[0].key = "ndpi-agent";
	src[0].value = 10;
	src[1].key = "dns-cache";
	src[1].value = 3;
	Routerd__Dpi__V1__ClassifierStats stats = ROUTERD__DPI__V1__CLASSIFIER_STATS__INIT;
	stats.requests = 100;
	stats.builtinpackets = 20;
	stats.agentpackets = 80;
	stats.agentclassified = 70;
	stats.builtinclassified = 15;
	stats.fallbacks = 5;
	stats.unknown = 2;
	stats.timeouterrors = 1;
	stats.agenterrors = 1;
	stats.latencysamples = 100;
	stats.averagelatencyms = 0.25;
	stats.maxlatencyms = 1.5;
	stats.cachehits = 9;
	stats.batches = 3;
	stats.averagebatchsize = 33.5;
	stats.n_bysource = 2;
	stats.bysource = srcp;
	stats.p50latencyms = 0.1;
	stats.p99latencyms = 2.75;
	Routerd__Dpi__V1__Resources resources = ROUTERD__DPI__V1__RESOURCES__INIT;
	resources.rssbytes = 12345678;
	resources.flowtablebytes = 65536;
	resources.perflowbytes = 512;
	resources.activeflows = 128;
	Routerd__Dpi__V1__ClassifierStatus st = ROUTERD__DPI__V1__CLASSIFIER_STATUS__INIT;
	st.ok = 1;
	st.name = "routerd-dpi-classifier";
	st.version = "0.1.0";
	st.engine = "hybrid";
	st.activeengine = "ndpi-agent";
	st.mode = "agent";
	st.agent = &agent;
	st.stats = &stats;
	st.ndpitool = "ndpiReader";
	st.ndpitoolnote = "deprecated";
	st.resources = &resources;
	char *text = roundtrip(&st.base);
	assert_contains(text, "{\"ok\":true,\"name\":\"routerd-dpi-classifier\"");
	assert_contains(text, "\"activeEngine\":\"ndpi-agent\"");
	assert_contains(text,
			"\"agent\":{\"socket\":\"ipc:///run/routerd/dpi-agent/default.ipc\","
			"\"available\":true,\"libndpiLoaded\":true,\"error\":\"last: timeout\","
			"\"breaker\":\"half-open\",\"breakerOpens\":4}");
	assert_contains(text, "\"stats\":{\"requests\":100,\"builtinPackets\":20");
	assert_contains(text, "\"timeoutErrors\":1,\"agentErrors\":1,\"latencySamples\":100");
	assert_contains(text, "\"averageLatencyMs\":0.25,\"maxLatencyMs\":1.5");
	assert_contains(text, "\"averageBatchSize\":33.5");
	assert_contains(text, "\"bySource\":{\"ndpi-agent\":10,\"dns-cache\":3}");
	assert_contains(text, "\"p99LatencyMs\":2.75");
	assert_contains(text, "\"ndpiTool\":\"ndpiReader\"");
	assert_contains(text, "\"resources\":{\"rssBytes\":12345678,\"flowTableBytes\":65536,"
			      "\"perFlowBytes\":512,\"activeFlows\":128}");
	free(text);

	ProtobufCMessage *m = load_ok("{\"stats\":{\"averageLatencyMs\":2,\"p50LatencyMs\":0.1,"
				      "\"bySource\":{\"builtin\":\"7\"}}}",
				      &routerd__dpi__v1__classifier_status__descriptor);
	Routerd__Dpi__V1__ClassifierStatus *s = (void *)m;
	assert_non_null(s->stats);
	assert_null(s->agent);
	assert_true(s->stats->averagelatencyms == 2.0);
	assert_true(s->stats->p50latencyms == 0.1);
	assert_int_equal(s->stats->n_bysource, 1);
	assert_int_equal(s->stats->bysource[0]->value, 7);
	protobuf_c_message_free_unpacked(m, NULL);
}

static void test_pbjson_agent_status_roundtrip(void **state)
{
	Routerd__Dpi__V1__AgentStats stats = ROUTERD__DPI__V1__AGENT_STATS__INIT;
	stats.activeflows = 1;
	stats.observedpackets = 2;
	stats.backendpackets = 3;
	stats.classifiedpackets = 4;
	stats.unknownpackets = 5;
	stats.skippedpackets = 6;
	stats.errorpackets = 7;
	stats.prunedflows = 8;
	stats.finalflows = 9;
	stats.evictedflows = 10;
	stats.expiredflows = 11;
	stats.limithits = 12;
	Routerd__Dpi__V1__Resources resources = ROUTERD__DPI__V1__RESOURCES__INIT;
	resources.rssbytes = 1;
	Routerd__Dpi__V1__AgentStatus st = ROUTERD__DPI__V1__AGENT_STATUS__INIT;
	st.ok = 1;
	st.name = "routerd-ndpi-agent";
	st.version = "0.1.0";
	st.engine = "ndpi";
	st.libndpiloaded = 1;
	st.libndpiversion = "4.6.0";
	st.mode = "library";
	st.reason = "loaded";
	st.flowttl = "1h0m0s";
	st.flowlimit = 200000;
	st.firstpayloadpackets = -8; /* signed on the wire: keep the sign */
	st.stats = &stats;
	st.resources = &resources;
	char *text = roundtrip(&st.base);
	assert_contains(text, "\"libndpiLoaded\":true,\"libndpiVersion\":\"4.6.0\"");
	assert_contains(text, "\"flowTTL\":\"1h0m0s\",\"flowLimit\":200000,"
			      "\"firstPayloadPackets\":-8");
	assert_contains(text, "\"stats\":{\"activeFlows\":1,\"observedPackets\":2,"
			      "\"backendPackets\":3,\"classifiedPackets\":4,\"unknownPackets\":5,"
			      "\"skippedPackets\":6,\"errorPackets\":7,\"prunedFlows\":8,"
			      "\"finalFlows\":9,\"evictedFlows\":10,\"expiredFlows\":11,"
			      "\"limitHits\":12}");
	assert_contains(text, "\"resources\":{\"rssBytes\":1}");
	free(text);
}

static void test_pbjson_reset_flow_roundtrip(void **state)
{
	Routerd__Dpi__V1__ResetFlowRequest rq = ROUTERD__DPI__V1__RESET_FLOW_REQUEST__INIT;
	rq.flowid = "abc";
	rq.l3proto = "ipv4";
	rq.transportprotocol = "udp";
	rq.srcaddress = "10.0.0.1";
	rq.srcport = 53;
	rq.dstaddress = "10.0.0.2";
	rq.dstport = 5353;
	char *text = roundtrip(&rq.base);
	assert_string_equal(text, "{\"flowId\":\"abc\",\"l3Proto\":\"ipv4\","
				  "\"transportProtocol\":\"udp\",\"srcAddress\":\"10.0.0.1\","
				  "\"srcPort\":53,\"dstAddress\":\"10.0.0.2\",\"dstPort\":5353}");
	free(text);

	Routerd__Dpi__V1__ResetFlowReply rp = ROUTERD__DPI__V1__RESET_FLOW_REPLY__INIT;
	rp.found = 1;
	rp.flowid = "abc";
	text = roundtrip(&rp.base);
	assert_string_equal(text, "{\"found\":true,\"flowId\":\"abc\"}");
	free(text);
}

static void test_pbjson_logger_status_roundtrip(void **state)
{
	Routerd__Dpi__V1__LoggerStatus__StatsEntry e[2] = {
	    ROUTERD__DPI__V1__LOGGER_STATUS__STATS_ENTRY__INIT,
	    ROUTERD__DPI__V1__LOGGER_STATUS__STATS_ENTRY__INIT};
	Routerd__Dpi__V1__LoggerStatus__StatsEntry *ep[2] = {&e[0], &e[1]};
	e[0].key = "rows_written";
	e[0].value = 42;
	e[1].key = "wrapped";
	e[1].value = UINT64_MAX; /* beyond json_int_t: written as a string */
	Routerd__Dpi__V1__Resources resources = ROUTERD__DPI__V1__RESOURCES__INIT;
	resources.activeflows = 3;
	Routerd__Dpi__V1__LoggerStatus st = ROUTERD__DPI__V1__LOGGER_STATUS__INIT;
	st.ok = 1;
	st.name = "routerd-firewall-logger";
	st.version = "0.1.0";
	st.path = "/var/lib/routerd/firewall.db";
	st.nfloggroup = 100;
	st.dpisocket = "ipc:///run/routerd/dpi-classifier/default.ipc";
	st.n_stats = 2;
	st.stats = ep;
	st.resources = &resources;
	st.trafficpath = "/var/lib/routerd/traffic.db";
	char *text = roundtrip(&st.base);
	assert_contains(text, "\"nflogGroup\":100,\"dpiSocket\":");
	assert_contains(text,
			"\"stats\":{\"rows_written\":42,\"wrapped\":\"18446744073709551615\"}");
	assert_contains(text, "\"trafficPath\":\"/var/lib/routerd/traffic.db\"}");
	free(text);
}

static void test_pbjson_small_messages_roundtrip(void **state)
{
	Routerd__Dpi__V1__HealthzReply h = ROUTERD__DPI__V1__HEALTHZ_REPLY__INIT;
	h.ok = 1;
	h.name = "routerd-dpi-classifier";
	h.status = "degraded";
	char *text = roundtrip(&h.base);
	assert_string_equal(
	    text, "{\"ok\":true,\"name\":\"routerd-dpi-classifier\",\"status\":\"degraded\"}");
	free(text);

	Routerd__Dpi__V1__FlowKey k = ROUTERD__DPI__V1__FLOW_KEY__INIT;
	k.l3proto = "ipv4";
	k.transportprotocol = "tcp";
	k.lowaddress = "10.0.0.1";
	k.lowport = 1234;
	k.highaddress = "10.0.0.2";
	k.highport = 443;
	k.flowid = "0f";
	text = roundtrip(&k.base);
	assert_string_equal(text,
			    "{\"l3Proto\":\"ipv4\",\"transportProtocol\":\"tcp\","
			    "\"lowAddress\":\"10.0.0.1\",\"lowPort\":1234,"
			    "\"highAddress\":\"10.0.0.2\",\"highPort\":443,\"flowId\":\"0f\"}");
	free(text);

	Routerd__Dpi__V1__Resources r = ROUTERD__DPI__V1__RESOURCES__INIT;
	r.rssbytes = (uint64_t)INT64_MAX;
	r.perflowbytes = 1;
	text = roundtrip(&r.base);
	assert_string_equal(text, "{\"rssBytes\":9223372036854775807,\"perFlowBytes\":1}");
	free(text);
}

/* Every descriptor: the default instance is {} and back; with "Msg.*" every
 * key is written, and the result still parses. */
static const ProtobufCMessageDescriptor *const all_descs[] = {
    &routerd__dpi__v1__request__descriptor,
    &routerd__dpi__v1__reply__descriptor,
    &routerd__dpi__v1__empty__descriptor,
    &routerd__dpi__v1__flow_key__descriptor,
    &routerd__dpi__v1__classify_request__descriptor,
    &routerd__dpi__v1__classify_result__descriptor,
    &routerd__dpi__v1__classify_result__metadata_entry__descriptor,
    &routerd__dpi__v1__healthz_reply__descriptor,
    &routerd__dpi__v1__resources__descriptor,
    &routerd__dpi__v1__classify_batch_request__descriptor,
    &routerd__dpi__v1__classify_batch_reply__descriptor,
    &routerd__dpi__v1__classifier_agent__descriptor,
    &routerd__dpi__v1__classifier_stats__descriptor,
    &routerd__dpi__v1__classifier_stats__by_source_entry__descriptor,
    &routerd__dpi__v1__classifier_status__descriptor,
    &routerd__dpi__v1__observe_batch_request__descriptor,
    &routerd__dpi__v1__observe_batch_reply__descriptor,
    &routerd__dpi__v1__reset_flow_request__descriptor,
    &routerd__dpi__v1__reset_flow_reply__descriptor,
    &routerd__dpi__v1__agent_stats__descriptor,
    &routerd__dpi__v1__agent_status__descriptor,
    &routerd__dpi__v1__logger_status__descriptor,
    &routerd__dpi__v1__logger_status__stats_entry__descriptor,
};

static void test_pbjson_every_message_default(void **state)
{
	for (size_t i = 0; i < sizeof(all_descs) / sizeof(all_descs[0]); i++) {
		const ProtobufCMessageDescriptor *d = all_descs[i];
		ProtobufCMessage *m = malloc(d->sizeof_message);
		assert_non_null(m);
		d->message_init(m);
		char *text = roundtrip(m);
		assert_string_equal(text, "{}");
		free(text);

		char star[128];
		snprintf(star, sizeof(star), "%s.*", d->name);
		const char *const list[] = {star, NULL};
		const struct rdpi_pbjson_opts opts = {.always_present = list};
		text = dump(m, &opts);
		for (unsigned f = 0; f < d->n_fields; f++) {
			char key[80];
			snprintf(key, sizeof(key), "\"%s\":", d->fields[f].name);
			assert_contains(text, key);
		}
		ProtobufCMessage *back = load_ok(text, d);
		protobuf_c_message_free_unpacked(back, NULL);
		free(text);
		free(m);
	}
}

/* ---- presence ------------------------------------------------------------------ */

static void test_pbjson_zero_values_omitted(void **state)
{
	Routerd__Dpi__V1__ClassifyResult r = ROUTERD__DPI__V1__CLASSIFY_RESULT__INIT;
	char *empty_risk[1] = {NULL};
	r.risk = empty_risk; /* n_risk == 0: the array is ignored */
	r.appname = "";
	r.engine = NULL; /* NULL string counts as "" */
	char *text = dump(&r.base, NULL);
	assert_string_equal(text, "{}");
	free(text);

	Routerd__Dpi__V1__ClassifyRequest q = ROUTERD__DPI__V1__CLASSIFY_REQUEST__INIT;
	q.packet = (ProtobufCBinaryData){0, pkt_bytes}; /* empty bytes */
	q.direction = ROUTERD__DPI__V1__DIRECTION__DIRECTION_UNSPECIFIED;
	text = dump(&q.base, NULL);
	assert_string_equal(text, "{}");
	free(text);

	/* a present but empty submessage is {} */
	Routerd__Dpi__V1__AgentStats stats = ROUTERD__DPI__V1__AGENT_STATS__INIT;
	Routerd__Dpi__V1__AgentStatus st = ROUTERD__DPI__V1__AGENT_STATUS__INIT;
	st.stats = &stats;
	text = roundtrip(&st.base);
	assert_string_equal(text, "{\"stats\":{}}");
	free(text);
}

static void test_pbjson_always_present(void **state)
{
	static const char *const one[] = {"routerd.dpi.v1.ClassifyResult.engine", NULL};
	const struct rdpi_pbjson_opts o1 = {.always_present = one};
	Routerd__Dpi__V1__ClassifyResult r = ROUTERD__DPI__V1__CLASSIFY_RESULT__INIT;
	char *text = dump(&r.base, &o1);
	assert_string_equal(text, "{\"engine\":\"\"}");
	free(text);
	r.appname = "TLS";
	r.engine = "builtin";
	text = dump(&r.base, &o1);
	assert_string_equal(text, "{\"appName\":\"TLS\",\"engine\":\"builtin\"}");
	free(text);

	/* the rule names one message: ClassifyResult.engine is not ClassifyRequest's */
	static const char *const other[] = {"routerd.dpi.v1.ClassifyRequest.srcPort",
					    "routerd.dpi.v1.ClassifyResul.*",
					    "routerd.dpi.v1.ClassifyResult.engin", NULL};
	const struct rdpi_pbjson_opts o2 = {.always_present = other};
	Routerd__Dpi__V1__ClassifyResult z = ROUTERD__DPI__V1__CLASSIFY_RESULT__INIT;
	text = dump(&z.base, &o2);
	assert_string_equal(text, "{}");
	free(text);

	/* "Msg.*" and a NULL submessage written as its default instance */
	static const char *const status[] = {
	    "routerd.dpi.v1.ClassifierStatus.ok", "routerd.dpi.v1.ClassifierStatus.agent",
	    "routerd.dpi.v1.ClassifierStatus.stats", "routerd.dpi.v1.ClassifierAgent.*", NULL};
	const struct rdpi_pbjson_opts o3 = {.always_present = status};
	Routerd__Dpi__V1__ClassifierStatus st = ROUTERD__DPI__V1__CLASSIFIER_STATUS__INIT;
	text = dump(&st.base, &o3);
	assert_string_equal(text, "{\"ok\":false,\"agent\":{\"socket\":\"\",\"available\":false,"
				  "\"libndpiLoaded\":false,\"error\":\"\",\"breaker\":\"\","
				  "\"breakerOpens\":0},\"stats\":{}}");
	free(text);

	/* every zero form: repeated [], map {}, bytes "", enum name of 0 */
	static const char *const star[] = {"routerd.dpi.v1.ClassifyResult.*",
					   "routerd.dpi.v1.ClassifyRequest.*",
					   "routerd.dpi.v1.Reply.status", NULL};
	const struct rdpi_pbjson_opts o4 = {.always_present = star};
	text = dump(&z.base, &o4);
	assert_contains(text, "\"risk\":[]");
	assert_contains(text, "\"metadata\":{}");
	assert_contains(text, "\"appConfidence\":0");
	assert_contains(text, "\"guessed\":false");
	free(text);
	Routerd__Dpi__V1__ClassifyRequest q = ROUTERD__DPI__V1__CLASSIFY_REQUEST__INIT;
	text = dump(&q.base, &o4);
	assert_contains(text, "{\"packet\":\"\",\"payload\":\"\",\"l4Payload\":\"\"");
	assert_contains(text, "\"direction\":\"DIRECTION_UNSPECIFIED\"");
	assert_contains(text, "\"timestampNs\":0");
	free(text);
	Routerd__Dpi__V1__Reply rp = ROUTERD__DPI__V1__REPLY__INIT;
	text = dump(&rp.base, &o4);
	assert_string_equal(text, "{\"status\":\"OK\"}");
	free(text);
}

/* ---- from_json behaviour -------------------------------------------------------- */

static void test_pbjson_unknown_keys_ignored(void **state)
{
	ProtobufCMessage *m = load_ok(
	    "{\"bogus\":1,\"srcPort\":8080,\"nested\":{\"x\":[1,{\"y\":null}]},\"SRCPORT\":\"x\","
	    "\"tlsSni\":7}",
	    &routerd__dpi__v1__classify_request__descriptor);
	Routerd__Dpi__V1__ClassifyRequest *r = (void *)m;
	assert_int_equal(r->srcport, 8080);
	protobuf_c_message_free_unpacked(m, NULL);
}

static void test_pbjson_null_is_absent(void **state)
{
	ProtobufCMessage *m = load_ok("{\"srcPort\":null,\"packet\":null,\"srcAddress\":null,"
				      "\"direction\":null}",
				      &routerd__dpi__v1__classify_request__descriptor);
	char *text = dump(m, NULL);
	assert_string_equal(text, "{}");
	free(text);
	protobuf_c_message_free_unpacked(m, NULL);
}

struct err_case {
	const ProtobufCMessageDescriptor *desc;
	const char *json;
	const char *err;
};

static void test_pbjson_wrong_type_errors(void **state)
{
	const ProtobufCMessageDescriptor *req = &routerd__dpi__v1__classify_request__descriptor;
	const ProtobufCMessageDescriptor *res = &routerd__dpi__v1__classify_result__descriptor;
	const ProtobufCMessageDescriptor *batch =
	    &routerd__dpi__v1__classify_batch_request__descriptor;
	const ProtobufCMessageDescriptor *cst = &routerd__dpi__v1__classifier_status__descriptor;
	const ProtobufCMessageDescriptor *ast = &routerd__dpi__v1__agent_status__descriptor;
	const struct err_case cases[] = {
	    {batch, "{\"requests\":[{},{},{\"srcPort\":\"443\"}]}",
	     "requests[2].srcPort: expected integer, got string"},
	    {batch, "{\"requests\":{}}", "requests: expected array, got object"},
	    {batch, "{\"requests\":[{},5]}", "requests[1]: expected object, got integer"},
	    {batch, "{\"requests\":[null]}", "requests[0]: expected object, got null"},
	    {req, "{\"srcPort\":4294967296}", "srcPort: 4294967296 out of range for uint32"},
	    {req, "{\"srcPort\":-1}", "srcPort: -1 out of range for uint32"},
	    {req, "{\"srcPort\":1.5}", "srcPort: 1.5 is not an integer"},
	    {req, "{\"srcPort\":true}", "srcPort: expected integer, got boolean"},
	    {req, "{\"srcPort\":[443]}", "srcPort: expected integer, got array"},
	    {req, "{\"srcAddress\":5}", "srcAddress: expected string, got integer"},
	    {req, "{\"srcAddress\":{}}", "srcAddress: expected string, got object"},
	    {req, "{\"packet\":5}", "packet: expected base64 string, got integer"},
	    {req, "{\"packet\":\"@@@@\"}", "packet: invalid base64"},
	    {req, "{\"direction\":\"SIDEWAYS\"}",
	     "direction: unknown routerd.dpi.v1.Direction value \"SIDEWAYS\""},
	    {req, "{\"direction\":true}", "direction: expected enum name or number, got boolean"},
	    {req, "{\"direction\":4294967296}", "direction: 4294967296 out of range for int32"},
	    {req, "{\"timestampNs\":-5}", "timestampNs: -5 out of range for uint64"},
	    {req, "{\"timestampNs\":\"18446744073709551616\"}",
	     "timestampNs: 18446744073709551616 out of range for uint64"},
	    {req, "{\"timestampNs\":\"12x\"}", "timestampNs: invalid integer string \"12x\""},
	    {req, "{\"timestampNs\":\" 12\"}", "timestampNs: invalid integer string \" 12\""},
	    {req, "{\"timestampNs\":\"\"}", "timestampNs: invalid integer string \"\""},
	    {req, "{\"timestampNs\":1e30}", "timestampNs: 1e+30 out of range for uint64"},
	    {res, "{\"metadata\":[]}", "metadata: expected object, got array"},
	    {res, "{\"metadata\":{\"k\":1}}", "metadata[\"k\"]: expected string, got integer"},
	    {res, "{\"metadata\":{\"a\":\"x\",\"k\":null}}",
	     "metadata[\"k\"]: expected string, got null"},
	    {res, "{\"risk\":\"x\"}", "risk: expected array, got string"},
	    {res, "{\"risk\":[\"a\",null]}", "risk[1]: expected string, got null"},
	    {res, "{\"guessed\":1}", "guessed: expected boolean, got integer"},
	    {res, "{\"guessed\":\"true\"}", "guessed: expected boolean, got string"},
	    {res, "{\"appConfidence\":2147483648}",
	     "appConfidence: 2147483648 out of range for int32"},
	    {res, "{\"appConfidence\":-2147483649}",
	     "appConfidence: -2147483649 out of range for int32"},
	    {res, "{\"appConfidence\":\"90\"}", "appConfidence: expected integer, got string"},
	    {cst, "{\"agent\":[]}", "agent: expected object, got array"},
	    {cst, "{\"agent\":\"up\"}", "agent: expected object, got string"},
	    {cst, "{\"stats\":{\"averageLatencyMs\":\"fast\"}}",
	     "stats.averageLatencyMs: expected number, got string"},
	    {cst, "{\"stats\":{\"averageLatencyMs\":false}}",
	     "stats.averageLatencyMs: expected number, got boolean"},
	    {cst, "{\"stats\":{\"bySource\":{\"dns\":-1}}}",
	     "stats.bySource[\"dns\"]: -1 out of range for uint64"},
	    {cst, "{\"stats\":{\"bySource\":[]}}", "stats.bySource: expected object, got array"},
	    {cst, "{\"stats\":{\"requests\":0.5}}", "stats.requests: 0.5 is not an integer"},
	    {ast, "{\"flowLimit\":\"9223372036854775808\"}",
	     "flowLimit: 9223372036854775808 out of range for int64"},
	    {ast, "{\"stats\":{\"limitHits\":{}}}",
	     "stats.limitHits: expected integer, got object"},
	    {req, "[]", "expected object, got array"},
	    {req, "\"x\"", "expected object, got string"},
	    {req, "null", "expected object, got null"},
	    {req, "42", "expected object, got integer"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		load_fails(cases[i].json, cases[i].desc, cases[i].err);

	/* from_json reports the same, and a tiny err buffer is truncated safely */
	json_t *j = json_pack("{s:s}", "srcPort", "443");
	assert_non_null(j);
	ProtobufCMessage *m = NULL;
	char err[8];
	assert_int_equal(rdpi_pbjson_from_json(j, req, NULL, &m, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "srcPort");
	assert_int_equal(rdpi_pbjson_from_json(j, req, NULL, &m, NULL, 0), -EINVAL);
	assert_null(m);
	json_decref(j);
	assert_int_equal(rdpi_pbjson_from_json(NULL, req, NULL, &m, NULL, 0), -EINVAL);

	/* a string with an embedded NUL (only a json_t built in C can carry one) */
	j = json_object();
	json_object_set_new(j, "srcAddress", json_stringn("a\0b", 3));
	char err2[128];
	assert_int_equal(rdpi_pbjson_from_json(j, req, NULL, &m, err2, sizeof(err2)), -EINVAL);
	assert_string_equal(err2, "srcAddress: string contains NUL");
	json_decref(j);
}

static void test_pbjson_bad_base64(void **state)
{
	const ProtobufCMessageDescriptor *req = &routerd__dpi__v1__classify_request__descriptor;
	const char *bad[] = {
	    "{\"packet\":\"A\"}",	 "{\"packet\":\"AAA=A\"}",	"{\"packet\":\"AA=\"}",
	    "{\"packet\":\"AA==AA==\"}", "{\"packet\":\"AA AA\"}",	"{\"packet\":\"AA\\nAA\"}",
	    "{\"packet\":\"-_-_\"}",	 "{\"packet\":\"AAAA===\"}",	"{\"packet\":\"=\"}",
	    "{\"packet\":\"A===\"}",	 "{\"packet\":\"\\u00e9AAA\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		load_fails(bad[i], req, "packet: invalid base64");
	load_fails("{\"l4Payload\":\"!\"}", req, "l4Payload: invalid base64");
	load_fails("{\"requests\":[{\"payload\":\"?\"}]}",
		   &routerd__dpi__v1__classify_batch_request__descriptor,
		   "requests[0].payload: invalid base64");

	/* unpadded and empty are fine */
	ProtobufCMessage *m =
	    load_ok("{\"packet\":\"aGVsbG8\",\"payload\":\"\",\"l4Payload\":\"Zg\"}", req);
	Routerd__Dpi__V1__ClassifyRequest *r = (void *)m;
	assert_int_equal(r->packet.len, 5);
	assert_memory_equal(r->packet.data, "hello", 5);
	assert_int_equal(r->payload.len, 0);
	assert_null(r->payload.data);
	assert_int_equal(r->l4payload.len, 1);
	assert_int_equal(r->l4payload.data[0], 'f');
	protobuf_c_message_free_unpacked(m, NULL);
}

static void test_pbjson_enum_by_name_and_number(void **state)
{
	const ProtobufCMessageDescriptor *req = &routerd__dpi__v1__classify_request__descriptor;
	ProtobufCMessage *m = load_ok("{\"direction\":\"DIRECTION_REPLY\"}", req);
	assert_int_equal(((Routerd__Dpi__V1__ClassifyRequest *)m)->direction,
			 ROUTERD__DPI__V1__DIRECTION__DIRECTION_REPLY);
	protobuf_c_message_free_unpacked(m, NULL);

	m = load_ok("{\"direction\":1}", req);
	assert_int_equal(((Routerd__Dpi__V1__ClassifyRequest *)m)->direction,
			 ROUTERD__DPI__V1__DIRECTION__DIRECTION_ORIGINAL);
	char *text = dump(m, NULL);
	assert_string_equal(text, "{\"direction\":\"DIRECTION_ORIGINAL\"}");
	free(text);
	protobuf_c_message_free_unpacked(m, NULL);

	/* proto3 enums are open: an unnamed number survives as a number */
	m = load_ok("{\"direction\":7}", req);
	text = dump(m, NULL);
	assert_string_equal(text, "{\"direction\":7}");
	free(text);
	protobuf_c_message_free_unpacked(m, NULL);

	m = load_ok("{\"status\":\"NOT_FOUND\"}", &routerd__dpi__v1__reply__descriptor);
	assert_int_equal(((Routerd__Dpi__V1__Reply *)m)->status,
			 ROUTERD__DPI__V1__STATUS__NOT_FOUND);
	protobuf_c_message_free_unpacked(m, NULL);
	m = load_ok("{\"status\":14}", &routerd__dpi__v1__reply__descriptor);
	text = dump(m, NULL);
	assert_string_equal(text, "{\"status\":\"UNAVAILABLE\"}");
	free(text);
	protobuf_c_message_free_unpacked(m, NULL);

	load_fails("{\"status\":\"not_found\"}", &routerd__dpi__v1__reply__descriptor,
		   "status: unknown routerd.dpi.v1.Status value \"not_found\"");
	load_fails("{\"status\":\"\"}", &routerd__dpi__v1__reply__descriptor,
		   "status: unknown routerd.dpi.v1.Status value \"\"");
	load_fails("{\"status\":\"5\"}", &routerd__dpi__v1__reply__descriptor,
		   "status: unknown routerd.dpi.v1.Status value \"5\"");
}

static void test_pbjson_int64_from_string(void **state)
{
	ProtobufCMessage *m = load_ok("{\"timestampNs\":\"1700000000123456789\"}",
				      &routerd__dpi__v1__classify_request__descriptor);
	assert_int_equal(((Routerd__Dpi__V1__ClassifyRequest *)m)->timestampns,
			 1700000000123456789ull);
	protobuf_c_message_free_unpacked(m, NULL);

	m = load_ok("{\"timestampNs\":\"18446744073709551615\"}",
		    &routerd__dpi__v1__classify_request__descriptor);
	assert_true(((Routerd__Dpi__V1__ClassifyRequest *)m)->timestampns == UINT64_MAX);
	char *text = dump(m, NULL);
	assert_string_equal(text, "{\"timestampNs\":\"18446744073709551615\"}");
	free(text);
	protobuf_c_message_free_unpacked(m, NULL);

	m = load_ok("{\"flowLimit\":\"-9223372036854775808\",\"firstPayloadPackets\":\"-0\"}",
		    &routerd__dpi__v1__agent_status__descriptor);
	Routerd__Dpi__V1__AgentStatus *a = (void *)m;
	assert_true(a->flowlimit == INT64_MIN);
	assert_int_equal(a->firstpayloadpackets, 0);
	text = dump(m, NULL);
	assert_string_equal(text, "{\"flowLimit\":-9223372036854775808}");
	free(text);
	protobuf_c_message_free_unpacked(m, NULL);

	/* integral reals are integers */
	m = load_ok("{\"flowLimit\":1e3,\"firstPayloadPackets\":-2.0}",
		    &routerd__dpi__v1__agent_status__descriptor);
	a = (void *)m;
	assert_int_equal(a->flowlimit, 1000);
	assert_int_equal(a->firstpayloadpackets, -2);
	protobuf_c_message_free_unpacked(m, NULL);

	/* 32-bit fields take JSON numbers only, as the legacy API did */
	load_fails("{\"srcPort\":\"443\"}", &routerd__dpi__v1__classify_request__descriptor,
		   "srcPort: expected integer, got string");
	load_fails("{\"flowLimit\":\"+5\"}", &routerd__dpi__v1__agent_status__descriptor,
		   "flowLimit: invalid integer string \"+5\"");
	load_fails("{\"flowLimit\":\"5.0\"}", &routerd__dpi__v1__agent_status__descriptor,
		   "flowLimit: invalid integer string \"5.0\"");
}

static void test_pbjson_double_special_values(void **state)
{
	Routerd__Dpi__V1__ClassifierStats s = ROUTERD__DPI__V1__CLASSIFIER_STATS__INIT;
	s.averagelatencyms = NAN;
	s.maxlatencyms = INFINITY;
	s.p50latencyms = -INFINITY;
	s.p99latencyms = -0.0; /* zero: omitted */
	s.averagebatchsize = 1e300;
	char *text = dump(&s.base, NULL);
	assert_string_equal(text, "{\"averageLatencyMs\":\"NaN\",\"maxLatencyMs\":\"Infinity\","
				  "\"averageBatchSize\":1.0000000000000001e300,"
				  "\"p50LatencyMs\":\"-Infinity\"}");
	ProtobufCMessage *m = load_ok(text, &routerd__dpi__v1__classifier_stats__descriptor);
	Routerd__Dpi__V1__ClassifierStats *b = (void *)m;
	assert_true(isnan(b->averagelatencyms));
	assert_true(isinf(b->maxlatencyms) && b->maxlatencyms > 0);
	assert_true(isinf(b->p50latencyms) && b->p50latencyms < 0);
	assert_true(b->averagebatchsize == 1e300);
	protobuf_c_message_free_unpacked(m, NULL);
	free(text);

	load_fails("{\"averageLatencyMs\":\"nan\"}",
		   &routerd__dpi__v1__classifier_stats__descriptor,
		   "averageLatencyMs: expected number, got string");
}

static void test_pbjson_invalid_utf8_replaced(void **state)
{
	Routerd__Dpi__V1__ClassifyResult r = ROUTERD__DPI__V1__CLASSIFY_RESULT__INIT;
	Routerd__Dpi__V1__ClassifyResult__MetadataEntry e =
	    ROUTERD__DPI__V1__CLASSIFY_RESULT__METADATA_ENTRY__INIT;
	Routerd__Dpi__V1__ClassifyResult__MetadataEntry *ep = &e;
	char *risk[] = {"\xc3("};
	r.tlssni = "a\xff"
		   "b\xe2\x82\xac";  /* bad byte, then a valid euro sign */
	r.httphost = "\xed\xa0\x80"; /* encoded surrogate */
	e.key = "k\x80";
	e.value = "\xf4\x90\x80\x80"; /* above U+10FFFF */
	r.n_metadata = 1;
	r.metadata = &ep;
	r.n_risk = 1;
	r.risk = risk;
	char *text = dump(&r.base, NULL);
	assert_contains(text, "\"tlsSNI\":\"a\xef\xbf\xbd"
			      "b\xe2\x82\xac\"");
	assert_contains(text, "\"httpHost\":\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	assert_contains(text, "\"risk\":[\"\xef\xbf\xbd(\"]");
	assert_contains(text,
			"\"metadata\":{\"k\xef\xbf\xbd\":\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			"\xef\xbf\xbd\"}");
	ProtobufCMessage *m = load_ok(text, &routerd__dpi__v1__classify_result__descriptor);
	protobuf_c_message_free_unpacked(m, NULL);
	free(text);
}

static void test_pbjson_loads_malformed(void **state)
{
	const ProtobufCMessageDescriptor *req = &routerd__dpi__v1__classify_request__descriptor;
	const char *bad[] = {"",
			     "   ",
			     "{",
			     "{\"srcPort\":",
			     "{\"srcPort\":443,}",
			     "{} x",
			     "{'a':1}",
			     "{\"a\":\"\\u0000\"}",
			     "{\"a\":01}",
			     "\xff"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";
		ProtobufCMessage *m = NULL;
		assert_int_equal(
		    rdpi_pbjson_loads(bad[i], strlen(bad[i]), req, NULL, &m, err, sizeof(err)),
		    -EINVAL);
		assert_null(m);
		if (strncmp(err, "invalid JSON at line ", 21) != 0 || !strstr(err, "(position "))
			fail_msg("loads(%s): error \"%s\" lacks a position", bad[i], err);
	}
	char err[256];
	ProtobufCMessage *m = NULL;
	assert_int_equal(
	    rdpi_pbjson_loads("{\n \"srcPort\": 443,\n x}", 21, req, NULL, &m, err, sizeof(err)),
	    -EINVAL);
	assert_string_equal(err, "invalid JSON at line 3 column 2 (position 21): "
				 "string or '}' expected near 'x'");
	assert_int_equal(rdpi_pbjson_loads(NULL, 0, req, NULL, &m, NULL, 0), -EINVAL);

	/* text need not be NUL-terminated: only len bytes are read */
	const char buf[] = "{\"srcPort\":443}garbage";
	assert_int_equal(rdpi_pbjson_loads(buf, 15, req, NULL, &m, err, sizeof(err)), 0);
	assert_int_equal(((Routerd__Dpi__V1__ClassifyRequest *)m)->srcport, 443);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* Fail each allocation in turn: every failure is -ENOMEM and frees all. */
static void test_pbjson_alloc_failure_frees_all(void **state)
{
	const char *text =
	    "{\"requests\":[{\"packet\":\"RQAAHA==\",\"srcAddress\":\"10.0.0.1\",\"srcPort\":1},"
	    "{\"l4Payload\":\"aGVsbG8=\",\"flowId\":\"x\"}]}";
	const ProtobufCMessageDescriptor *d = &routerd__dpi__v1__classify_batch_request__descriptor;
	for (size_t n = 1;; n++) {
		struct counting c = {.fail_at = n};
		ProtobufCAllocator a = counting_allocator(&c);
		ProtobufCMessage *m = NULL;
		char err[128];
		int rv = rdpi_pbjson_loads(text, strlen(text), d, &a, &m, err, sizeof(err));
		if (rv == 0) {
			assert_true(n > 5);
			protobuf_c_message_free_unpacked(m, &a);
			assert_int_equal(c.allocs, c.frees);
			break;
		}
		assert_int_equal(rv, -ENOMEM);
		assert_null(m);
		assert_int_equal(c.allocs, c.frees);
		assert_true(n < 100);
	}

	const char *map =
	    "{\"metadata\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"},\"risk\":[\"x\",\"y\"]}";
	for (size_t n = 1;; n++) {
		struct counting c = {.fail_at = n};
		ProtobufCAllocator a = counting_allocator(&c);
		ProtobufCMessage *m = NULL;
		int rv = rdpi_pbjson_loads(map, strlen(map),
					   &routerd__dpi__v1__classify_result__descriptor, &a, &m,
					   NULL, 0);
		if (rv == 0) {
			protobuf_c_message_free_unpacked(m, &a);
			assert_int_equal(c.allocs, c.frees);
			break;
		}
		assert_int_equal(rv, -ENOMEM);
		assert_int_equal(c.allocs, c.frees);
		assert_true(n < 100);
	}
}

/* ---- proto2 features, every scalar type, oneof, maps, depth (fixture) ---------- */

static void test_pbjson_proto2_all_types(void **state)
{
	static uint8_t by[] = {0, 1, 2, 0xfe, 0xff};
	Pbjt__All child = PBJT__ALL__INIT;
	child.req = 2;
	Pbjt__All rc1 = PBJT__ALL__INIT, rc2 = PBJT__ALL__INIT;
	rc1.req = 3;
	rc2.req = 4;
	rc2.has_i32 = 1;
	rc2.i32 = 0; /* present zero: written */
	Pbjt__All *rchild[] = {&rc1, &rc2};
	int64_t rs64[] = {INT64_MIN, -1, 0, INT64_MAX};
	float rfl[] = {1.5f, -0.25f, 0.1f};
	protobuf_c_boolean rb[] = {1, 0, 1};
	Pbjt__Color rcolor[] = {PBJT__COLOR__BLUE, PBJT__COLOR__RED};
	ProtobufCBinaryData rby[] = {{3, by}, {0, NULL}};
	Pbjt__All__ImapEntry ie = PBJT__ALL__IMAP_ENTRY__INIT;
	ie.has_key = 1;
	ie.key = -3;
	ie.value = "minus three";
	Pbjt__All__ImapEntry *iep = &ie;
	Pbjt__All__BmapEntry be = PBJT__ALL__BMAP_ENTRY__INIT;
	be.has_key = 1;
	be.key = 1;
	be.has_value = 1;
	be.value = 2.5;
	Pbjt__All__BmapEntry *bep = &be;
	Pbjt__All mval = PBJT__ALL__INIT;
	mval.req = 5;
	mval.str = "in map";
	Pbjt__All__MmapEntry me = PBJT__ALL__MMAP_ENTRY__INIT;
	me.key = "m";
	me.value = &mval;
	Pbjt__All__MmapEntry *mep = &me;

	Pbjt__All a = PBJT__ALL__INIT;
	a.has_i32 = 1, a.i32 = INT32_MIN;
	a.has_s32 = 1, a.s32 = -7;
	a.has_sf32 = 1, a.sf32 = INT32_MAX;
	a.has_i64 = 1, a.i64 = INT64_MIN;
	a.has_s64 = 1, a.s64 = -9;
	a.has_sf64 = 1, a.sf64 = INT64_MAX;
	a.has_u32 = 1, a.u32 = UINT32_MAX;
	a.has_f32 = 1, a.f32 = 7;
	a.has_u64 = 1, a.u64 = UINT64_MAX;
	a.has_f64 = 1, a.f64 = 1ull << 63;
	a.has_fl = 1, a.fl = 0.1f;
	a.has_db = 1, a.db = -1e-300;
	a.has_b = 1, a.b = 0; /* present false: written */
	a.has_color = 1, a.color = PBJT__COLOR__GREEN;
	a.str = ""; /* optional string present: written */
	a.has_by = 1, a.by = (ProtobufCBinaryData){sizeof(by), by};
	a.req = 0; /* required: always written */
	a.child = &child;
	a.n_rs64 = 4, a.rs64 = rs64;
	a.n_rfl = 3, a.rfl = rfl;
	a.n_rb = 3, a.rb = rb;
	a.n_rcolor = 2, a.rcolor = rcolor;
	a.n_rby = 2, a.rby = rby;
	a.n_rchild = 2, a.rchild = rchild;
	a.n_imap = 1, a.imap = &iep;
	a.n_bmap = 1, a.bmap = &bep;
	a.n_mmap = 1, a.mmap = &mep;
	a.pick_case = PBJT__ALL__PICK_OU32;
	a.ou32 = 0; /* oneof member set to zero: written */
	char *text = roundtrip(&a.base);
	assert_string_equal(
	    text,
	    "{\"i32\":-2147483648,\"s32\":-7,\"sf32\":2147483647,\"i64\":-9223372036854775808,"
	    "\"s64\":-9,\"sf64\":9223372036854775807,\"u32\":4294967295,\"f32\":7,"
	    "\"u64\":\"18446744073709551615\",\"f64\":\"9223372036854775808\","
	    "\"fl\":0.10000000149011612,\"db\":-1e-300,\"b\":false,"
	    "\"color\":\"GREEN\",\"str\":\"\",\"by\":\"AAEC/v8=\",\"req\":0,\"child\":{\"req\":2},"
	    "\"rs64\":[-9223372036854775808,-1,0,9223372036854775807],"
	    "\"rfl\":[1.5,-0.25,0.10000000149011612],\"rb\":[true,false,true],"
	    "\"rcolor\":[\"BLUE\",\"RED\"],\"rby\":[\"AAEC\",\"\"],"
	    "\"rchild\":[{\"req\":3},{\"i32\":0,\"req\":4}],\"ou32\":0,"
	    "\"imap\":{\"-3\":\"minus three\"},\"bmap\":{\"true\":2.5},"
	    "\"mmap\":{\"m\":{\"str\":\"in map\",\"req\":5}}}");
	free(text);

	/* defaults: dstr/di32 not present unless set, parsed ones keep has_ */
	ProtobufCMessage *m = load_ok("{\"req\":1,\"di32\":7,\"b\":true}", &pbjt__all__descriptor);
	Pbjt__All *p = (void *)m;
	assert_string_equal(p->dstr, "dflt");
	assert_true(p->has_di32);
	assert_true(p->has_b && p->b);
	assert_false(p->has_i32);
	text = dump(m, NULL);
	assert_string_equal(text, "{\"b\":true,\"req\":1,\"di32\":7}");
	free(text);
	protobuf_c_message_free_unpacked(m, NULL);

	load_fails("{}", &pbjt__all__descriptor, "req: missing required field");
	load_fails("{\"req\":1,\"child\":{}}", &pbjt__all__descriptor,
		   "child.req: missing required field");
	load_fails("{\"req\":null}", &pbjt__all__descriptor, "req: missing required field");
	load_fails("{\"req\":1,\"fl\":1e39}", &pbjt__all__descriptor,
		   "fl: 1e+39 out of range for float");
	load_fails("{\"req\":1,\"rfl\":[1,\"x\"]}", &pbjt__all__descriptor,
		   "rfl[1]: expected number, got string");
	load_fails("{\"req\":1,\"rcolor\":[\"RED\",\"PINK\"]}", &pbjt__all__descriptor,
		   "rcolor[1]: unknown pbjt.Color value \"PINK\"");
	load_fails("{\"req\":1,\"rby\":[\"AA==\",\"A\"]}", &pbjt__all__descriptor,
		   "rby[1]: invalid base64");
	load_fails("{\"req\":1,\"rchild\":[{\"req\":1},{\"req\":\"x\"}]}", &pbjt__all__descriptor,
		   "rchild[1].req: expected integer, got string");
	load_fails("{\"req\":1,\"s32\":2147483648}", &pbjt__all__descriptor,
		   "s32: 2147483648 out of range for int32");
	load_fails("{\"req\":1,\"f32\":-1}", &pbjt__all__descriptor,
		   "f32: -1 out of range for uint32");
	load_fails("{\"req\":1,\"sf64\":\"9223372036854775808\"}", &pbjt__all__descriptor,
		   "sf64: 9223372036854775808 out of range for int64");
}

static void test_pbjson_oneof(void **state)
{
	ProtobufCMessage *m = load_ok("{\"req\":1,\"ostr\":\"hi\"}", &pbjt__all__descriptor);
	Pbjt__All *p = (void *)m;
	assert_int_equal(p->pick_case, PBJT__ALL__PICK_OSTR);
	assert_string_equal(p->ostr, "hi");
	free(roundtrip(m));
	protobuf_c_message_free_unpacked(m, NULL);

	m = load_ok("{\"req\":1,\"omsg\":{\"req\":2,\"ostr\":\"deep\"},\"ou32\":null}",
		    &pbjt__all__descriptor);
	p = (void *)m;
	assert_int_equal(p->pick_case, PBJT__ALL__PICK_OMSG);
	assert_int_equal(p->omsg->req, 2);
	char *text = roundtrip(m);
	assert_string_equal(text, "{\"req\":1,\"omsg\":{\"req\":2,\"ostr\":\"deep\"}}");
	free(text);
	protobuf_c_message_free_unpacked(m, NULL);

	load_fails("{\"req\":1,\"ostr\":\"a\",\"ou32\":5}", &pbjt__all__descriptor,
		   "ou32: conflicts with ostr (same oneof)");
	load_fails("{\"req\":1,\"ostr\":\"a\",\"omsg\":{\"req\":1}}", &pbjt__all__descriptor,
		   "omsg: conflicts with ostr (same oneof)");
	load_fails("{\"req\":1,\"omsg\":{\"req\":\"x\"}}", &pbjt__all__descriptor,
		   "omsg.req: expected integer, got string");
	load_fails("{\"req\":1,\"ou32\":\"5\"}", &pbjt__all__descriptor,
		   "ou32: expected integer, got string");

	/* an unselected member is absent, even if always present */
	static const char *const star[] = {"pbjt.All.*", NULL};
	const struct rdpi_pbjson_opts opts = {.always_present = star};
	Pbjt__All a = PBJT__ALL__INIT;
	text = dump(&a.base, &opts);
	assert_lacks(text, "ostr");
	assert_lacks(text, "ou32");
	assert_lacks(text, "omsg");
	/* a NULL recursive submessage inside a synthesized default stays {} */
	assert_contains(text, "\"child\":{");
	free(text);
}

static void test_pbjson_map_key_types(void **state)
{
	ProtobufCMessage *m = load_ok(
	    "{\"req\":1,\"imap\":{\"5\":\"five\",\"-3\":\"minus\"},"
	    "\"bmap\":{\"true\":1.5,\"false\":-2},\"mmap\":{\"k\":{\"req\":2,\"str\":\"x\"},"
	    "\"\":{\"req\":3}}}",
	    &pbjt__all__descriptor);
	Pbjt__All *p = (void *)m;
	assert_int_equal(p->n_imap, 2);
	assert_int_equal(p->imap[0]->key, 5);
	assert_true(p->imap[0]->has_key);
	assert_string_equal(p->imap[0]->value, "five");
	assert_int_equal(p->imap[1]->key, -3);
	assert_int_equal(p->n_bmap, 2);
	assert_true(p->bmap[0]->key && p->bmap[0]->has_value && p->bmap[0]->value == 1.5);
	assert_true(!p->bmap[1]->key && p->bmap[1]->value == -2);
	assert_int_equal(p->n_mmap, 2);
	assert_string_equal(p->mmap[0]->key, "k");
	assert_int_equal(p->mmap[0]->value->req, 2);
	assert_string_equal(p->mmap[1]->key, "");
	char *text = roundtrip(m);
	assert_contains(text, "\"imap\":{\"5\":\"five\",\"-3\":\"minus\"}");
	assert_contains(text, "\"bmap\":{\"true\":1.5,\"false\":-2.0}");
	assert_contains(text, "\"mmap\":{\"k\":{\"str\":\"x\",\"req\":2},\"\":{\"req\":3}}");
	free(text);
	protobuf_c_message_free_unpacked(m, NULL);

	load_fails("{\"req\":1,\"imap\":{\"x\":\"a\"}}", &pbjt__all__descriptor,
		   "imap[\"x\"]: invalid integer string \"x\"");
	load_fails("{\"req\":1,\"imap\":{\"1\":\"a\",\"2147483648\":\"b\"}}",
		   &pbjt__all__descriptor,
		   "imap[\"2147483648\"]: 2147483648 out of range for int32");
	load_fails("{\"req\":1,\"bmap\":{\"yes\":1}}", &pbjt__all__descriptor,
		   "bmap[\"yes\"]: expected key true or false");
	load_fails("{\"req\":1,\"bmap\":{\"true\":\"1\"}}", &pbjt__all__descriptor,
		   "bmap[\"true\"]: expected number, got string");
	load_fails("{\"req\":1,\"mmap\":{\"a\":{\"req\":1},\"b\":{}}}", &pbjt__all__descriptor,
		   "mmap[\"b\"].req: missing required field");
	load_fails("{\"req\":1,\"mmap\":{\"a\":[]}}", &pbjt__all__descriptor,
		   "mmap[\"a\"]: expected object, got array");
}

static char *nested_json(unsigned levels)
{
	/* {"req":1,"child":{ ... {"req":1} ... }} with levels children */
	size_t cap = (levels + 1) * 32;
	char *s = malloc(cap);
	assert_non_null(s);
	size_t o = 0;
	for (unsigned i = 0; i < levels; i++)
		o += (size_t)snprintf(s + o, cap - o, "{\"req\":1,\"child\":");
	o += (size_t)snprintf(s + o, cap - o, "{\"req\":1}");
	for (unsigned i = 0; i < levels; i++)
		s[o++] = '}';
	s[o] = '\0';
	return s;
}

static void test_pbjson_depth_limit(void **state)
{
	char *ok = nested_json(RDPI_PBJSON_MAX_DEPTH - 1);
	ProtobufCMessage *m = load_ok(ok, &pbjt__all__descriptor);
	char *text = dump(m, NULL);
	assert_string_equal(text, ok);
	free(text);
	protobuf_c_message_free_unpacked(m, NULL);
	free(ok);

	char *deep = nested_json(RDPI_PBJSON_MAX_DEPTH);
	char want[512] = "";
	for (unsigned i = 0; i < RDPI_PBJSON_MAX_DEPTH; i++)
		strcat(want, i ? ".child" : "child");
	strcat(want, ": nesting deeper than 32 levels");
	load_fails(deep, &pbjt__all__descriptor, want);
	free(deep);

	char *huge = nested_json(1000);
	load_fails(huge, &pbjt__all__descriptor, NULL);
	free(huge);

	/* to_json refuses a chain built in memory that is too deep */
	Pbjt__All chain[RDPI_PBJSON_MAX_DEPTH + 1];
	for (unsigned i = 0; i <= RDPI_PBJSON_MAX_DEPTH; i++) {
		pbjt__all__init(&chain[i]);
		chain[i].child = i < RDPI_PBJSON_MAX_DEPTH ? &chain[i + 1] : NULL;
	}
	json_t *j = NULL;
	assert_int_equal(rdpi_pbjson_to_json(&chain[0].base, NULL, &j), -EINVAL);
	assert_null(j);
	assert_int_equal(rdpi_pbjson_to_json(&chain[1].base, NULL, &j), 0);
	json_decref(j);
	char *t = NULL;
	assert_int_equal(rdpi_pbjson_dumps(&chain[0].base, NULL, &t), -EINVAL);
	assert_null(t);
	assert_int_equal(rdpi_pbjson_to_json(NULL, NULL, &j), -EINVAL);
}

static void test_pbjson_to_json_object(void **state)
{
	Routerd__Dpi__V1__ClassifyResult r = ROUTERD__DPI__V1__CLASSIFY_RESULT__INIT;
	fill_result(&r);
	json_t *j = NULL;
	assert_int_equal(rdpi_pbjson_to_json(&r.base, NULL, &j), 0);
	assert_true(json_is_object(j));
	assert_string_equal(json_string_value(json_object_get(j, "tlsSNI")), "example.com");
	assert_int_equal(json_integer_value(json_object_get(j, "srcPort")), 443);
	ProtobufCMessage *m = NULL;
	char err[64];
	assert_int_equal(rdpi_pbjson_from_json(j, &routerd__dpi__v1__classify_result__descriptor,
					       NULL, &m, err, sizeof(err)),
			 0);
	assert_string_equal(((Routerd__Dpi__V1__ClassifyResult *)m)->metadata[1]->value, "h2");
	protobuf_c_message_free_unpacked(m, NULL);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pbjson_classify_request_roundtrip),
	    cmocka_unit_test(test_pbjson_classify_result_roundtrip),
	    cmocka_unit_test(test_pbjson_batch_roundtrip),
	    cmocka_unit_test(test_pbjson_envelope_roundtrip),
	    cmocka_unit_test(test_pbjson_classifier_status_roundtrip),
	    cmocka_unit_test(test_pbjson_agent_status_roundtrip),
	    cmocka_unit_test(test_pbjson_reset_flow_roundtrip),
	    cmocka_unit_test(test_pbjson_logger_status_roundtrip),
	    cmocka_unit_test(test_pbjson_small_messages_roundtrip),
	    cmocka_unit_test(test_pbjson_every_message_default),
	    cmocka_unit_test(test_pbjson_zero_values_omitted),
	    cmocka_unit_test(test_pbjson_always_present),
	    cmocka_unit_test(test_pbjson_unknown_keys_ignored),
	    cmocka_unit_test(test_pbjson_null_is_absent),
	    cmocka_unit_test(test_pbjson_wrong_type_errors),
	    cmocka_unit_test(test_pbjson_bad_base64),
	    cmocka_unit_test(test_pbjson_enum_by_name_and_number),
	    cmocka_unit_test(test_pbjson_int64_from_string),
	    cmocka_unit_test(test_pbjson_double_special_values),
	    cmocka_unit_test(test_pbjson_invalid_utf8_replaced),
	    cmocka_unit_test(test_pbjson_loads_malformed),
	    cmocka_unit_test(test_pbjson_alloc_failure_frees_all),
	    cmocka_unit_test(test_pbjson_proto2_all_types),
	    cmocka_unit_test(test_pbjson_oneof),
	    cmocka_unit_test(test_pbjson_map_key_types),
	    cmocka_unit_test(test_pbjson_depth_limit),
	    cmocka_unit_test(test_pbjson_to_json_object),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

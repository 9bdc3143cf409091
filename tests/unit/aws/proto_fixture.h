/* proto_fixture.h: a small hand-written model with every kind of member
 * (scalars, enum, pattern, blob, timestamp, list of structs, map), shared by
 * the codec tests and the codec fuzz targets. Include from one file only. */
#ifndef MOAT_PROTO_FIXTURE_H
#define MOAT_PROTO_FIXTURE_H

#include "aws/shape.h"

static const struct moat_shape s_str = {.name = "Str", .type = MOAT_SHAPE_STRING,
                                        .flags = MOAT_SHAPE_HAS_MIN | MOAT_SHAPE_HAS_MAX,
                                        .min = 1, .max = 8};
static const struct moat_shape s_name = {.name = "Name", .type = MOAT_SHAPE_STRING,
                                         .pattern = "[\\w+=,.@-]+"};
static const char *const colours[] = {"RED", "GREEN"};
static const struct moat_shape s_enum = {.name = "Colour", .type = MOAT_SHAPE_STRING, .count = 2,
                                         .enums = colours};
static const struct moat_shape s_int = {.name = "Int", .type = MOAT_SHAPE_INTEGER,
                                        .flags = MOAT_SHAPE_HAS_MIN | MOAT_SHAPE_HAS_MAX,
                                        .min = 1, .max = 10};
static const struct moat_shape s_bool = {.name = "Bool", .type = MOAT_SHAPE_BOOLEAN};
static const struct moat_shape s_blob = {.name = "Blob", .type = MOAT_SHAPE_BLOB,
                                         .flags = MOAT_SHAPE_SENSITIVE};
static const struct moat_shape s_ts = {.name = "Ts", .type = MOAT_SHAPE_TIMESTAMP};
static const struct moat_member tag_members[] = {
    {"Key", "Key", &s_str, MOAT_LOC_BODY, MOAT_MEMBER_REQUIRED},
    {"Value", "Value", &s_str, MOAT_LOC_BODY, 0},
};
static const struct moat_shape s_tag = {.name = "Tag", .type = MOAT_SHAPE_STRUCTURE, .count = 2,
                                        .members = tag_members};
static const struct moat_shape s_tags = {.name = "Tags", .type = MOAT_SHAPE_LIST,
                                         .flags = MOAT_SHAPE_HAS_MAX, .max = 3, .item = &s_tag,
                                         .item_name = "member"};
static const struct moat_shape s_ctx = {.name = "Ctx", .type = MOAT_SHAPE_MAP, .key = &s_str,
                                        .item = &s_str, .item_name = "key", .value_name = "value"};
enum { IN_NAME, IN_COLOUR, IN_COUNT, IN_FLAG, IN_SECRET, IN_WHEN, IN_TAGS, IN_CTX };
static const struct moat_member in_members[] = {
    {"Name", "Name", &s_name, MOAT_LOC_BODY, MOAT_MEMBER_REQUIRED},
    {"Colour", "Colour", &s_enum, MOAT_LOC_BODY, 0},
    {"Count", "Count", &s_int, MOAT_LOC_BODY, 0},
    {"Flag", "Flag", &s_bool, MOAT_LOC_BODY, 0},
    {"Secret", "Secret", &s_blob, MOAT_LOC_BODY, 0},
    {"When", "When", &s_ts, MOAT_LOC_BODY, 0},
    {"Tags", "Tags", &s_tags, MOAT_LOC_BODY, 0},
    {"Context", "Context", &s_ctx, MOAT_LOC_BODY, 0},
};
static const struct moat_shape s_in = {.name = "Input", .type = MOAT_SHAPE_STRUCTURE, .count = 8,
                                       .members = in_members};

#endif

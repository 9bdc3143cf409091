/* proto_json.c: AWS JSON 1.0/1.1 bodies to typed values and back, and the
 * JSON error body. Conversion is driven by the generated shapes. */
#include "aws/proto.h"

#include "core/clock.h"
#include "core/encoding.h"
#include "core/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const struct moat_error_kind proto_serialization_exception = {"SerializationException", 400, true};

static const char *json_type_name(const struct moat_value *v)
{
    switch (v->type) {
    case MOAT_V_MAP: return "Start of structure or map";
    case MOAT_V_LIST: return "Start of list";
    case MOAT_V_STRING: return "STRING_VALUE";
    case MOAT_V_NUMBER: return "NUMBER_VALUE";
    case MOAT_V_BOOL: return v->u.b ? "TRUE_VALUE" : "FALSE_VALUE";
    default: return "Value";
    }
}

static struct moat_error *mismatch(struct moat_arena *a, const struct moat_shape *shape,
                                   const struct moat_value *v)
{
    static const char *const expected[] = {
        [MOAT_SHAPE_STRUCTURE] = "a structure", [MOAT_SHAPE_LIST] = "a list",
        [MOAT_SHAPE_MAP] = "a map",             [MOAT_SHAPE_STRING] = "a String",
        [MOAT_SHAPE_BLOB] = "a base64 blob",    [MOAT_SHAPE_BOOLEAN] = "a Boolean",
        [MOAT_SHAPE_INTEGER] = "an Integer",    [MOAT_SHAPE_LONG] = "a Long",
        [MOAT_SHAPE_DOUBLE] = "a Double",       [MOAT_SHAPE_TIMESTAMP] = "a timestamp",
    };
    return moat_error_new(a, &proto_serialization_exception,
                          "%s found where %s (%s) was expected", json_type_name(v),
                          expected[shape->type], shape->name);
}

static bool number_to_double(struct moat_slice s, double *out)
{
    char tmp[64];
    if (s.len == 0 || s.len >= sizeof(tmp))
        return false;
    memcpy(tmp, s.ptr, s.len);
    tmp[s.len] = 0;
    char *end;
    *out = strtod(tmp, &end);
    return *end == 0 && isfinite(*out);
}

struct moat_error *proto_json_convert(struct moat_arena *a, const struct moat_shape *shape,
                                      const struct moat_value *j, struct moat_value **out)
{
    struct moat_error *err;
    if (!j || j->type == MOAT_V_NULL) {
        *out = NULL;
        return NULL;
    }
    switch (shape->type) {
    case MOAT_SHAPE_STRUCTURE: {
        if (j->type != MOAT_V_MAP)
            return mismatch(a, shape, j);
        struct moat_value *st = moat_struct_new(a, shape);
        for (uint32_t i = 0; i < j->count; i++) {
            unsigned idx;
            const struct moat_member *m = moat_shape_member(shape, j->u.entries[i].key, &idx);
            if (!m)
                continue; /* unknown members are ignored, as AWS does */
            struct moat_value *mv;
            err = proto_json_convert(a, m->shape, j->u.entries[i].value, &mv);
            if (err)
                return err;
            st->u.members[idx] = mv;
        }
        *out = st;
        return NULL;
    }
    case MOAT_SHAPE_LIST: {
        if (j->type != MOAT_V_LIST)
            return mismatch(a, shape, j);
        struct moat_value *list = moat_value_list(a);
        list->shape = shape;
        for (uint32_t i = 0; i < j->count; i++) {
            struct moat_value *item;
            err = proto_json_convert(a, shape->item, j->u.items[i], &item);
            if (err)
                return err;
            if (!item)
                item = moat_value_null(a);
            moat_list_push(a, list, item);
        }
        *out = list;
        return NULL;
    }
    case MOAT_SHAPE_MAP: {
        if (j->type != MOAT_V_MAP)
            return mismatch(a, shape, j);
        struct moat_value *map = moat_value_map(a);
        map->shape = shape;
        for (uint32_t i = 0; i < j->count; i++) {
            struct moat_value *val;
            err = proto_json_convert(a, shape->item, j->u.entries[i].value, &val);
            if (err)
                return err;
            if (!val)
                val = moat_value_null(a);
            moat_map_push(a, map, j->u.entries[i].key, val);
        }
        *out = map;
        return NULL;
    }
    case MOAT_SHAPE_STRING:
        if (j->type != MOAT_V_STRING)
            return mismatch(a, shape, j);
        *out = moat_value_string(a, j->u.s);
        break;
    case MOAT_SHAPE_BLOB: {
        if (j->type != MOAT_V_STRING)
            return mismatch(a, shape, j);
        struct moat_slice raw;
        if (!moat_base64_decode(a, j->u.s, &raw))
            return moat_error_new(a, &proto_serialization_exception,
                                  "Base64 encoded value of %s is not valid", shape->name);
        *out = moat_value_blob(a, raw);
        break;
    }
    case MOAT_SHAPE_BOOLEAN:
        if (j->type != MOAT_V_BOOL)
            return mismatch(a, shape, j);
        *out = moat_value_bool(a, j->u.b);
        break;
    case MOAT_SHAPE_INTEGER:
    case MOAT_SHAPE_LONG: {
        int64_t n;
        if (j->type != MOAT_V_NUMBER || !moat_slice_to_i64(j->u.s, &n))
            return mismatch(a, shape, j);
        if (shape->type == MOAT_SHAPE_INTEGER && (n > INT32_MAX || n < INT32_MIN))
            return mismatch(a, shape, j);
        *out = moat_value_int(a, n);
        break;
    }
    case MOAT_SHAPE_DOUBLE: {
        double d;
        if (j->type != MOAT_V_NUMBER || !number_to_double(j->u.s, &d))
            return mismatch(a, shape, j);
        *out = moat_value_double(a, d);
        break;
    }
    case MOAT_SHAPE_TIMESTAMP: {
        double d;
        int64_t ms;
        if (j->type == MOAT_V_NUMBER && number_to_double(j->u.s, &d) &&
            fabs(d) < (double)PROTO_EPOCH_SECONDS_LIMIT) {
            *out = moat_value_timestamp(a, (int64_t)llround(d * 1000.0));
        } else if (j->type == MOAT_V_STRING && moat_time_parse_iso8601(j->u.s, &ms)) {
            *out = moat_value_timestamp(a, ms);
        } else {
            return mismatch(a, shape, j);
        }
        break;
    }
    default:
        return mismatch(a, shape, j);
    }
    (*out)->shape = shape;
    return NULL;
}

struct moat_error *proto_json_decode(struct moat_arena *a, const struct moat_shape *shape,
                                     struct moat_slice body, struct moat_value **out)
{
    struct moat_value *doc;
    struct moat_json_error jerr;
    if (!moat_json_parse(a, body, MOAT_JSON_ALLOW_EMPTY, &doc, &jerr))
        return moat_error_new(a, &proto_serialization_exception,
                              "Could not parse request body as JSON: %s at offset %zu", jerr.what,
                              jerr.offset);
    if (doc->type == MOAT_V_NULL) {
        *out = moat_struct_new(a, shape);
        return NULL;
    }
    if (!shape) {
        *out = moat_struct_new(a, NULL);
        return NULL;
    }
    struct moat_error *err = proto_json_convert(a, shape, doc, out);
    if (!err && !*out)
        *out = moat_struct_new(a, shape);
    return err;
}

static void encode_value(struct moat_buf *out, const struct moat_shape *shape,
                         const struct moat_value *v);

static void encode_struct(struct moat_buf *out, const struct moat_shape *shape,
                          const struct moat_value *v)
{
    moat_buf_append_u8(out, '{');
    bool first = true;
    if (v && v->type == MOAT_V_STRUCT) {
        for (unsigned i = 0; i < v->count && shape && i < shape->count; i++) {
            const struct moat_value *mv = v->u.members[i];
            if (!mv || mv->type == MOAT_V_NULL)
                continue;
            if (shape->members[i].location != MOAT_LOC_BODY)
                continue;
            if (!first)
                moat_buf_append_u8(out, ',');
            first = false;
            moat_json_write_string(out, moat_slice_cstr(shape->members[i].name));
            moat_buf_append_u8(out, ':');
            encode_value(out, shape->members[i].shape, mv);
        }
    }
    moat_buf_append_u8(out, '}');
}

static void encode_value(struct moat_buf *out, const struct moat_shape *shape,
                         const struct moat_value *v)
{
    if (!v || v->type == MOAT_V_NULL) {
        moat_buf_append_cstr(out, "null");
        return;
    }
    switch (v->type) {
    case MOAT_V_STRUCT:
        encode_struct(out, shape, v);
        return;
    case MOAT_V_LIST:
        moat_buf_append_u8(out, '[');
        for (uint32_t i = 0; i < v->count; i++) {
            if (i)
                moat_buf_append_u8(out, ',');
            encode_value(out, shape ? shape->item : NULL, v->u.items[i]);
        }
        moat_buf_append_u8(out, ']');
        return;
    case MOAT_V_MAP:
        moat_buf_append_u8(out, '{');
        for (uint32_t i = 0; i < v->count; i++) {
            if (i)
                moat_buf_append_u8(out, ',');
            moat_json_write_string(out, v->u.entries[i].key);
            moat_buf_append_u8(out, ':');
            encode_value(out, shape && shape->type == MOAT_SHAPE_MAP ? shape->item : NULL,
                         v->u.entries[i].value);
        }
        moat_buf_append_u8(out, '}');
        return;
    case MOAT_V_TIMESTAMP:
        if (shape && shape->ts_format == MOAT_TS_ISO8601) {
            char ts[32];
            moat_time_format_iso8601_ms(v->u.ts_ms, ts);
            moat_json_write_string(out, moat_slice_cstr(ts));
        } else {
            moat_json_write_double(out, (double)v->u.ts_ms / 1000.0);
        }
        return;
    default:
        moat_json_write(out, v);
    }
}

void proto_json_encode(struct moat_buf *out, const struct moat_shape *shape,
                       const struct moat_value *v)
{
    if (!v) {
        moat_buf_append_cstr(out, "{}");
        return;
    }
    encode_value(out, shape, v);
}

void proto_json_encode_error(struct moat_buf *out, const struct moat_error *e)
{
    moat_buf_append_cstr(out, "{\"__type\":");
    moat_json_write_string(out, moat_slice_cstr(e->kind->code));
    moat_buf_append_cstr(out, ",\"message\":");
    moat_json_write_string(out, e->message);
    for (size_t i = 0; i < e->extra_count; i++) {
        moat_buf_append_u8(out, ',');
        moat_json_write_string(out, moat_slice_cstr(e->extra_names[i]));
        moat_buf_append_u8(out, ':');
        moat_json_write_string(out, e->extra_values[i]);
    }
    moat_buf_append_u8(out, '}');
}

/* proto_query.c: the Query protocol (IAM, STS): flattened form parameters
 * such as Tags.member.1.Key to typed values, and XML responses and errors. */
#include "aws/proto.h"

#include "core/clock.h"
#include "core/encoding.h"
#include "core/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct moat_error_kind proto_malformed_query = {"MalformedQueryString", 400, true};

bool proto_form_parse(struct moat_arena *a, struct moat_slice text, struct proto_form *form)
{
    struct moat_slice rest = text, item;
    size_t n = form->count;
    for (size_t i = 0; i < text.len; i++)
        if (text.ptr[i] == '&')
            n++;
    struct moat_header *params = moat_arena_alloc(a, (n + 2) * sizeof(*params));
    if (form->count)
        memcpy(params, form->params, form->count * sizeof(*params));
    size_t count = form->count;
    while (rest.len && moat_slice_split(&rest, '&', &item)) {
        if (!item.len)
            continue;
        struct moat_slice name = item, value = MOAT_LIT("");
        long eq = moat_slice_index(item, '=');
        if (eq >= 0) {
            name = moat_slice(item.ptr, (size_t)eq);
            value = moat_slice(item.ptr + eq + 1, item.len - (size_t)eq - 1);
        }
        struct moat_header *p = &params[count];
        if (!moat_url_decode(a, name, true, &p->name) ||
            !moat_url_decode(a, value, true, &p->value))
            return false;
        count++;
    }
    form->params = params;
    form->count = count;
    return true;
}

bool proto_form_get(const struct proto_form *form, const char *name, struct moat_slice *value)
{
    for (size_t i = 0; i < form->count; i++) {
        if (moat_slice_eq_cstr(form->params[i].name, name)) {
            *value = form->params[i].value;
            return true;
        }
    }
    return false;
}

static bool find(const struct proto_form *form, struct moat_slice name, struct moat_slice *value)
{
    for (size_t i = 0; i < form->count; i++) {
        if (moat_slice_eq(form->params[i].name, name)) {
            *value = form->params[i].value;
            return true;
        }
    }
    return false;
}

/* True if some parameter name starts with prefix (a nested struct/list/map is present). */
static bool any_with_prefix(const struct proto_form *form, struct moat_slice prefix)
{
    for (size_t i = 0; i < form->count; i++)
        if (moat_slice_starts_with(form->params[i].name, prefix))
            return true;
    return false;
}

struct qdecoder {
    struct moat_arena *a;
    const struct proto_form *form;
    const struct moat_error_kind *invalid;
};

static struct moat_slice key_join(struct moat_arena *a, struct moat_slice prefix, const char *part)
{
    struct moat_buf b;
    moat_buf_init(&b, a, prefix.len + strlen(part) + 2);
    if (prefix.len) {
        moat_buf_append(&b, prefix);
        moat_buf_append_u8(&b, '.');
    }
    moat_buf_append_cstr(&b, part);
    return moat_buf_slice(&b);
}

static struct moat_slice key_index(struct moat_arena *a, struct moat_slice prefix, size_t i)
{
    char num[24];
    snprintf(num, sizeof(num), "%zu", i);
    return key_join(a, prefix, num);
}

static struct moat_error *decode_at(struct qdecoder *d, const struct moat_shape *shape,
                                    struct moat_slice key, bool flattened,
                                    struct moat_value **out);

static struct moat_error *decode_scalar(struct qdecoder *d, const struct moat_shape *shape,
                                        struct moat_slice key, struct moat_slice text,
                                        struct moat_value **out)
{
    struct moat_arena *a = d->a;
    switch (shape->type) {
    case MOAT_SHAPE_STRING:
        if (!moat_utf8_valid(text))
            return moat_error_new(a, d->invalid, "Value for %.*s is not valid UTF-8",
                                  MOAT_FMT(key));
        *out = moat_value_string(a, text);
        break;
    case MOAT_SHAPE_BLOB: {
        struct moat_slice raw;
        if (!moat_base64_decode(a, text, &raw))
            return moat_error_new(a, d->invalid, "Invalid base64 value for %.*s", MOAT_FMT(key));
        *out = moat_value_blob(a, raw);
        break;
    }
    case MOAT_SHAPE_BOOLEAN:
        if (moat_slice_eq_cstr(text, "true"))
            *out = moat_value_bool(a, true);
        else if (moat_slice_eq_cstr(text, "false"))
            *out = moat_value_bool(a, false);
        else
            return moat_error_new(a, d->invalid, "Invalid boolean value '%.*s' for %.*s",
                                  MOAT_FMT(text), MOAT_FMT(key));
        break;
    case MOAT_SHAPE_INTEGER:
    case MOAT_SHAPE_LONG: {
        int64_t n;
        if (!moat_slice_to_i64(text, &n) ||
            (shape->type == MOAT_SHAPE_INTEGER && (n > INT32_MAX || n < INT32_MIN)))
            return moat_error_new(a, d->invalid, "Invalid integer value '%.*s' for %.*s",
                                  MOAT_FMT(text), MOAT_FMT(key));
        *out = moat_value_int(a, n);
        break;
    }
    case MOAT_SHAPE_DOUBLE: {
        char *s = moat_arena_cstr(a, text), *end;
        double v = strtod(s, &end);
        if (!text.len || *end || !isfinite(v))
            return moat_error_new(a, d->invalid, "Invalid number value '%.*s' for %.*s",
                                  MOAT_FMT(text), MOAT_FMT(key));
        *out = moat_value_double(a, v);
        break;
    }
    case MOAT_SHAPE_TIMESTAMP: {
        int64_t ms;
        if (!moat_time_parse_iso8601(text, &ms)) {
            int64_t secs;
            if (!moat_slice_to_i64(text, &secs) || secs >= PROTO_EPOCH_SECONDS_LIMIT ||
                secs <= -PROTO_EPOCH_SECONDS_LIMIT)
                return moat_error_new(a, d->invalid, "Invalid timestamp value '%.*s' for %.*s",
                                      MOAT_FMT(text), MOAT_FMT(key));
            ms = secs * 1000;
        }
        *out = moat_value_timestamp(a, ms);
        break;
    }
    default:
        return moat_error_new(a, d->invalid, "Unexpected value for %.*s", MOAT_FMT(key));
    }
    (*out)->shape = shape;
    return NULL;
}

static struct moat_error *decode_struct(struct qdecoder *d, const struct moat_shape *shape,
                                        struct moat_slice prefix, struct moat_value **out)
{
    struct moat_value *st = moat_struct_new(d->a, shape);
    for (unsigned i = 0; i < shape->count; i++) {
        const struct moat_member *m = &shape->members[i];
        struct moat_slice key = key_join(d->a, prefix, m->wire_name);
        struct moat_error *err =
            decode_at(d, m->shape, key, (m->flags & MOAT_MEMBER_FLATTENED) != 0, &st->u.members[i]);
        if (err)
            return err;
    }
    *out = st;
    return NULL;
}

static struct moat_error *decode_at(struct qdecoder *d, const struct moat_shape *shape,
                                    struct moat_slice key, bool flattened,
                                    struct moat_value **out)
{
    struct moat_slice text;
    *out = NULL;
    flattened = flattened || (shape->flags & MOAT_SHAPE_FLATTENED);
    switch (shape->type) {
    case MOAT_SHAPE_STRUCTURE:
        if (!any_with_prefix(d->form, key_join(d->a, key, "")))
            return NULL;
        return decode_struct(d, shape, key, out);
    case MOAT_SHAPE_LIST: {
        struct moat_slice base = flattened ? key : key_join(d->a, key, shape->item_name);
        struct moat_value *list = NULL;
        /* "Name=" with nothing else is botocore's encoding of an empty list. */
        if (find(d->form, key, &text) && !text.len) {
            list = moat_value_list(d->a);
            list->shape = shape;
        }
        for (size_t i = 1;; i++) {
            struct moat_slice ik = key_index(d->a, base, i);
            struct moat_value *item;
            struct moat_error *err = decode_at(d, shape->item, ik, false, &item);
            if (err)
                return err;
            if (!item)
                break;
            if (!list) {
                list = moat_value_list(d->a);
                list->shape = shape;
            }
            moat_list_push(d->a, list, item);
        }
        *out = list;
        return NULL;
    }
    case MOAT_SHAPE_MAP: {
        struct moat_slice base = flattened ? key : key_join(d->a, key, "entry");
        struct moat_value *map = NULL;
        for (size_t i = 1;; i++) {
            struct moat_slice ek = key_index(d->a, base, i);
            struct moat_slice kk = key_join(d->a, ek, shape->item_name ? shape->item_name : "key");
            struct moat_slice name;
            if (!find(d->form, kk, &name))
                break;
            if (!moat_utf8_valid(name))
                return moat_error_new(d->a, d->invalid, "Map key for %.*s is not valid UTF-8",
                                      MOAT_FMT(key));
            struct moat_value *val;
            struct moat_error *err = decode_at(
                d, shape->item, key_join(d->a, ek, shape->value_name ? shape->value_name : "value"),
                false, &val);
            if (err)
                return err;
            if (!map) {
                map = moat_value_map(d->a);
                map->shape = shape;
            }
            moat_map_push(d->a, map, name, val ? val : moat_value_string(d->a, MOAT_LIT("")));
        }
        *out = map;
        return NULL;
    }
    default:
        if (!find(d->form, key, &text))
            return NULL;
        return decode_scalar(d, shape, key, text, out);
    }
}

struct moat_error *proto_query_decode(struct moat_arena *a, const struct moat_shape *shape,
                                      const struct proto_form *form,
                                      const struct moat_error_kind *invalid_kind,
                                      struct moat_value **out)
{
    if (!shape) {
        *out = moat_struct_new(a, NULL);
        return NULL;
    }
    struct qdecoder d = {a, form, invalid_kind ? invalid_kind : &proto_malformed_query};
    return decode_struct(&d, shape, MOAT_NULL_SLICE, out);
}

/* ---- XML output ------------------------------------------------------------- */

static void xml_value(struct moat_buf *out, const struct moat_shape *shape, const char *name,
                      const struct moat_value *v, bool flattened);

static void xml_scalar_text(struct moat_buf *out, const struct moat_shape *shape,
                            const struct moat_value *v)
{
    switch (v->type) {
    case MOAT_V_STRING:
    case MOAT_V_NUMBER:
        moat_buf_append_xml_escaped(out, v->u.s);
        break;
    case MOAT_V_BLOB:
        moat_base64_encode(out, v->u.s);
        break;
    case MOAT_V_BOOL:
        moat_buf_append_cstr(out, v->u.b ? "true" : "false");
        break;
    case MOAT_V_INT:
        moat_buf_append_i64(out, v->u.i);
        break;
    case MOAT_V_DOUBLE:
        moat_json_write_double(out, v->u.d);
        break;
    case MOAT_V_TIMESTAMP: {
        char ts[32];
        if (v->u.ts_ms % 1000)
            moat_time_format_iso8601_ms(v->u.ts_ms, ts);
        else
            moat_time_format_iso8601(v->u.ts_ms / 1000, ts);
        moat_buf_append_cstr(out, ts);
        break;
    }
    default:
        break;
    }
}

static void open_tag(struct moat_buf *out, const char *name)
{
    moat_buf_append_u8(out, '<');
    moat_buf_append_cstr(out, name);
    moat_buf_append_u8(out, '>');
}

static void close_tag(struct moat_buf *out, const char *name)
{
    moat_buf_append_cstr(out, "</");
    moat_buf_append_cstr(out, name);
    moat_buf_append_u8(out, '>');
}

void proto_xml_write_members(struct moat_buf *out, const struct moat_shape *shape,
                             const struct moat_value *v)
{
    if (!shape || !v || v->type != MOAT_V_STRUCT)
        return;
    for (unsigned i = 0; i < shape->count && i < v->count; i++) {
        const struct moat_member *m = &shape->members[i];
        const struct moat_value *mv = v->u.members[i];
        if (!mv || mv->type == MOAT_V_NULL || m->location != MOAT_LOC_BODY)
            continue;
        if (m->flags & MOAT_MEMBER_XML_ATTRIBUTE)
            continue;
        xml_value(out, m->shape, m->wire_name, mv, (m->flags & MOAT_MEMBER_FLATTENED) != 0);
    }
}

static void xml_value(struct moat_buf *out, const struct moat_shape *shape, const char *name,
                      const struct moat_value *v, bool flattened)
{
    flattened = flattened || (shape->flags & MOAT_SHAPE_FLATTENED);
    switch (shape->type) {
    case MOAT_SHAPE_STRUCTURE:
        open_tag(out, name);
        proto_xml_write_members(out, shape, v);
        close_tag(out, name);
        break;
    case MOAT_SHAPE_LIST:
        if (v->type != MOAT_V_LIST)
            break;
        if (!flattened)
            open_tag(out, name);
        for (uint32_t i = 0; i < v->count; i++)
            xml_value(out, shape->item, flattened ? name : shape->item_name, v->u.items[i],
                      false);
        if (!flattened)
            close_tag(out, name);
        break;
    case MOAT_SHAPE_MAP:
        if (v->type != MOAT_V_MAP)
            break;
        if (!flattened)
            open_tag(out, name);
        for (uint32_t i = 0; i < v->count; i++) {
            open_tag(out, flattened ? name : "entry");
            const char *kn = shape->item_name ? shape->item_name : "key";
            open_tag(out, kn);
            moat_buf_append_xml_escaped(out, v->u.entries[i].key);
            close_tag(out, kn);
            xml_value(out, shape->item, shape->value_name ? shape->value_name : "value",
                      v->u.entries[i].value, false);
            close_tag(out, flattened ? name : "entry");
        }
        if (!flattened)
            close_tag(out, name);
        break;
    default:
        if (!v || v->type == MOAT_V_NULL)
            break;
        open_tag(out, name);
        xml_scalar_text(out, shape, v);
        close_tag(out, name);
    }
}

void proto_query_encode(struct moat_buf *out, const struct moat_op_shape *op, const char *xmlns,
                        const struct moat_value *v, const char *request_id)
{
    moat_buf_printf(out, "<%sResponse xmlns=\"%s\">", op->name, xmlns ? xmlns : "");
    if (op->output) {
        const char *wrapper = op->result_wrapper;
        char fallback[128];
        if (!wrapper) {
            snprintf(fallback, sizeof(fallback), "%sResult", op->name);
            wrapper = fallback;
        }
        open_tag(out, wrapper);
        proto_xml_write_members(out, op->output, v);
        close_tag(out, wrapper);
    }
    moat_buf_printf(out, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>",
                    request_id, op->name);
}

void proto_query_encode_error(struct moat_buf *out, const struct moat_error *e, const char *xmlns,
                              const char *request_id)
{
    moat_buf_printf(out, "<ErrorResponse xmlns=\"%s\"><Error><Type>%s</Type><Code>",
                    xmlns ? xmlns : "", e->kind->sender_fault ? "Sender" : "Receiver");
    moat_buf_append_xml_escaped(out, moat_slice_cstr(e->kind->code));
    moat_buf_append_cstr(out, "</Code><Message>");
    moat_buf_append_xml_escaped(out, e->message);
    moat_buf_append_cstr(out, "</Message>");
    for (size_t i = 0; i < e->extra_count; i++) {
        open_tag(out, e->extra_names[i]);
        moat_buf_append_xml_escaped(out, e->extra_values[i]);
        close_tag(out, e->extra_names[i]);
    }
    moat_buf_printf(out, "</Error><RequestId>%s</RequestId></ErrorResponse>", request_id);
}

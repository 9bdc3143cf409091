/* json.c: a strict recursive-descent JSON parser that builds the value tree
 * directly in the caller's arena, and the generic compact writer. */
#include "core/json.h"

#include "core/encoding.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    struct moat_arena *a;
    const uint8_t *p, *start, *end;
    unsigned flags;
    int depth;
    struct moat_json_error *err;
};

static bool fail(struct parser *ps, const char *what)
{
    if (ps->err && !ps->err->what) {
        ps->err->offset = (size_t)(ps->p - ps->start);
        ps->err->what = what;
    }
    return false;
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool read_hex4(struct parser *ps, uint32_t *out)
{
    if (ps->end - ps->p < 4)
        return fail(ps, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(ps->p[i]);
        if (h < 0)
            return fail(ps, "bad \\u escape");
        v = v << 4 | (uint32_t)h;
    }
    ps->p += 4;
    *out = v;
    return true;
}

static size_t put_utf8(uint8_t *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | cp >> 18);
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* At the opening quote. */
static bool parse_string(struct parser *ps, struct moat_slice *out)
{
    ps->p++;
    const uint8_t *s = ps->p;
    bool escapes = false;
    while (ps->p < ps->end && *ps->p != '"') {
        if (*ps->p < 0x20)
            return fail(ps, "control character in string");
        if (*ps->p == '\\') {
            escapes = true;
            ps->p++;
            if (ps->p >= ps->end)
                break;
        }
        ps->p++;
    }
    if (ps->p >= ps->end)
        return fail(ps, "unterminated string");
    struct moat_slice raw = moat_slice(s, (size_t)(ps->p - s));
    ps->p++;
    if (!escapes) {
        if (!moat_utf8_valid(raw))
            return fail(ps, "invalid UTF-8 in string");
        *out = raw;
        return true;
    }
    uint8_t *o = moat_arena_alloc(ps->a, raw.len + 1);
    size_t n = 0;
    const uint8_t *q = raw.ptr, *qe = raw.ptr + raw.len;
    while (q < qe) {
        if (*q != '\\') {
            o[n++] = *q++;
            continue;
        }
        q++;
        switch (*q++) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            const uint8_t *save = ps->p;
            ps->p = q;
            uint32_t cp;
            if (!read_hex4(ps, &cp))
                return false;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (qe - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u')
                    return fail(ps, "unpaired surrogate");
                ps->p += 2;
                if (!read_hex4(ps, &lo))
                    return false;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return fail(ps, "unpaired surrogate");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return fail(ps, "unpaired surrogate");
            }
            q = ps->p;
            ps->p = save;
            /* a \u escape takes >= 6 input bytes and yields <= 4 */
            n += put_utf8(o + n, cp);
            break;
        }
        default:
            return fail(ps, "bad escape");
        }
    }
    o[n] = 0;
    struct moat_slice dec = moat_slice(o, n);
    if (!moat_utf8_valid(dec))
        return fail(ps, "invalid UTF-8 in string");
    *out = dec;
    return true;
}

static bool parse_number(struct parser *ps, struct moat_slice *out)
{
    const uint8_t *s = ps->p;
    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    if (ps->p >= ps->end)
        return fail(ps, "bad number");
    if (*ps->p == '0') {
        ps->p++;
    } else if (*ps->p >= '1' && *ps->p <= '9') {
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    } else {
        return fail(ps, "bad number");
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
            return fail(ps, "bad number");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
            return fail(ps, "bad number");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    *out = moat_slice(s, (size_t)(ps->p - s));
    return true;
}

static bool literal(struct parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return fail(ps, "unexpected token");
    ps->p += n;
    return true;
}

static bool parse_value(struct parser *ps, struct moat_value **out);

static bool parse_object(struct parser *ps, struct moat_value **out)
{
    struct moat_value *map = moat_value_map(ps->a);
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        *out = map;
        return true;
    }
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != '"')
            return fail(ps, "expected object key");
        struct moat_slice key;
        if (!parse_string(ps, &key))
            return false;
        if ((ps->flags & MOAT_JSON_REJECT_DUPLICATES) && moat_map_get_slice(map, key))
            return fail(ps, "duplicate object key");
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':')
            return fail(ps, "expected ':'");
        ps->p++;
        struct moat_value *v;
        if (!parse_value(ps, &v))
            return false;
        moat_map_push(ps->a, map, key, v);
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            *out = map;
            return true;
        }
        return fail(ps, "expected ',' or '}'");
    }
}

static bool parse_array(struct parser *ps, struct moat_value **out)
{
    struct moat_value *list = moat_value_list(ps->a);
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        *out = list;
        return true;
    }
    for (;;) {
        struct moat_value *v;
        if (!parse_value(ps, &v))
            return false;
        moat_list_push(ps->a, list, v);
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            *out = list;
            return true;
        }
        return fail(ps, "expected ',' or ']'");
    }
}

static bool parse_value(struct parser *ps, struct moat_value **out)
{
    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail(ps, "unexpected end of input");
    bool ok;
    switch (*ps->p) {
    case '{':
    case '[':
        if (++ps->depth > MOAT_JSON_MAX_DEPTH)
            return fail(ps, "nesting too deep");
        ok = *ps->p == '{' ? parse_object(ps, out) : parse_array(ps, out);
        ps->depth--;
        return ok;
    case '"': {
        struct moat_slice s;
        if (!parse_string(ps, &s))
            return false;
        *out = moat_value_string(ps->a, s);
        return true;
    }
    case 't':
        if (!literal(ps, "true"))
            return false;
        *out = moat_value_bool(ps->a, true);
        return true;
    case 'f':
        if (!literal(ps, "false"))
            return false;
        *out = moat_value_bool(ps->a, false);
        return true;
    case 'n':
        if (!literal(ps, "null"))
            return false;
        *out = moat_value_null(ps->a);
        return true;
    default: {
        struct moat_slice num;
        if (!parse_number(ps, &num))
            return false;
        struct moat_value *v = moat_value_string(ps->a, num);
        v->type = MOAT_V_NUMBER;
        *out = v;
        return true;
    }
    }
}

bool moat_json_parse(struct moat_arena *a, struct moat_slice in, unsigned flags,
                     struct moat_value **out, struct moat_json_error *err)
{
    struct parser ps = {a, in.ptr, in.ptr, in.ptr + in.len, flags, 0, err};
    if (err) {
        err->what = NULL;
        err->offset = 0;
    }
    if (!in.ptr) {
        ps.p = ps.start = ps.end = (const uint8_t *)"";
    }
    skip_ws(&ps);
    if (ps.p == ps.end && (flags & MOAT_JSON_ALLOW_EMPTY)) {
        *out = moat_value_null(a);
        return true;
    }
    if (!parse_value(&ps, out))
        return false;
    skip_ws(&ps);
    if (ps.p != ps.end)
        return fail(&ps, "trailing characters after JSON value");
    return true;
}

void moat_json_write_string(struct moat_buf *out, struct moat_slice s)
{
    moat_buf_append_u8(out, '"');
    moat_buf_append_json_escaped(out, s);
    moat_buf_append_u8(out, '"');
}

void moat_json_write_double(struct moat_buf *out, double d)
{
    if (!isfinite(d)) {
        moat_buf_append_cstr(out, "null");
        return;
    }
    if (d == floor(d) && fabs(d) < 1e15) {
        moat_buf_append_i64(out, (int64_t)d);
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (prec == 17 || strtod(tmp, NULL) == d)
            break;
    }
    moat_buf_append_cstr(out, tmp);
}

void moat_json_write(struct moat_buf *out, const struct moat_value *v)
{
    if (!v) {
        moat_buf_append_cstr(out, "null");
        return;
    }
    switch (v->type) {
    case MOAT_V_NULL:
        moat_buf_append_cstr(out, "null");
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
    case MOAT_V_NUMBER:
        moat_buf_append(out, v->u.s);
        break;
    case MOAT_V_STRING:
        moat_json_write_string(out, v->u.s);
        break;
    case MOAT_V_BLOB:
        moat_buf_append_u8(out, '"');
        moat_base64_encode(out, v->u.s);
        moat_buf_append_u8(out, '"');
        break;
    case MOAT_V_TIMESTAMP:
        moat_json_write_double(out, (double)v->u.ts_ms / 1000.0);
        break;
    case MOAT_V_LIST:
        moat_buf_append_u8(out, '[');
        for (uint32_t i = 0; i < v->count; i++) {
            if (i)
                moat_buf_append_u8(out, ',');
            moat_json_write(out, v->u.items[i]);
        }
        moat_buf_append_u8(out, ']');
        break;
    case MOAT_V_MAP:
        moat_buf_append_u8(out, '{');
        for (uint32_t i = 0; i < v->count; i++) {
            if (i)
                moat_buf_append_u8(out, ',');
            moat_json_write_string(out, v->u.entries[i].key);
            moat_buf_append_u8(out, ':');
            moat_json_write(out, v->u.entries[i].value);
        }
        moat_buf_append_u8(out, '}');
        break;
    case MOAT_V_STRUCT:
        /* Structs need their shape for member names: aws/proto_json.c. */
        moat_buf_append_cstr(out, "null");
        break;
    }
}

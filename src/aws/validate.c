/* validate.c: walks a decoded input with its shape and collects constraint
 * violations; pattern checks use PCRE2 with patterns compiled once. */
#include "aws/validate.h"

#include "core/buf.h"
#include "core/encoding.h"
#include "core/log.h"
#include "core/thread.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define MAX_REPORTED 10

struct checker {
    struct moat_arena *a;
    struct moat_buf msgs;
    int count;
};

void aws_lower_camel(struct moat_buf *out, const char *name)
{
    if (!*name)
        return;
    /* AWS lower-cases the leading run of capitals: "KeyId" -> "keyId", "ARN" -> "aRN"
     * is not what Coral does; it lower-cases only the first character. */
    char first = name[0];
    if (first >= 'A' && first <= 'Z')
        first = (char)(first + 32);
    moat_buf_append_u8(out, (uint8_t)first);
    moat_buf_append_cstr(out, name + 1);
}

static void violation(struct checker *c, const struct moat_shape *shape, const struct moat_value *v,
                      struct moat_slice path, const char *constraint)
{
    c->count++;
    if (c->count > MAX_REPORTED)
        return;
    if (c->count > 1)
        moat_buf_append_cstr(&c->msgs, "; ");
    if (!v) {
        moat_buf_append_cstr(&c->msgs, "Value null");
    } else if (shape->flags & MOAT_SHAPE_SENSITIVE) {
        moat_buf_append_cstr(&c->msgs, "Value '***'");
    } else {
        moat_buf_append_cstr(&c->msgs, "Value '");
        switch (v->type) {
        case MOAT_V_STRING:
            moat_buf_append(&c->msgs, moat_slice_sub(v->u.s, 0, 256));
            break;
        case MOAT_V_INT:
            moat_buf_append_i64(&c->msgs, v->u.i);
            break;
        case MOAT_V_DOUBLE:
            moat_buf_printf(&c->msgs, "%g", v->u.d);
            break;
        case MOAT_V_BOOL:
            moat_buf_append_cstr(&c->msgs, v->u.b ? "true" : "false");
            break;
        case MOAT_V_LIST:
        case MOAT_V_MAP:
            moat_buf_printf(&c->msgs, "[%u elements]", v->count);
            break;
        default:
            moat_buf_append_cstr(&c->msgs, "...");
        }
        moat_buf_append_u8(&c->msgs, '\'');
    }
    moat_buf_printf(&c->msgs, " at '%.*s' failed to satisfy constraint: %s", MOAT_FMT(path),
                    constraint);
}

static void check_value(struct checker *c, const struct moat_shape *shape,
                        const struct moat_value *v, struct moat_slice path);

static struct moat_slice join_path(struct checker *c, struct moat_slice path, const char *member)
{
    struct moat_buf b;
    moat_buf_init(&b, c->a, path.len + strlen(member) + 2);
    if (path.len) {
        moat_buf_append(&b, path);
        moat_buf_append_u8(&b, '.');
    }
    aws_lower_camel(&b, member);
    return moat_buf_slice(&b);
}

static void check_struct(struct checker *c, const struct moat_shape *shape,
                         const struct moat_value *v, struct moat_slice path)
{
    for (unsigned i = 0; i < shape->count; i++) {
        const struct moat_member *m = &shape->members[i];
        const struct moat_value *mv = v->type == MOAT_V_STRUCT ? v->u.members[i] : NULL;
        if (mv && mv->type == MOAT_V_NULL)
            mv = NULL;
        if (!mv) {
            if (m->flags & MOAT_MEMBER_REQUIRED)
                violation(c, m->shape, NULL, join_path(c, path, m->name),
                          "Member must not be null");
            continue;
        }
        check_value(c, m->shape, mv, join_path(c, path, m->name));
    }
}

static void check_length(struct checker *c, const struct moat_shape *shape,
                         const struct moat_value *v, struct moat_slice path, int64_t len)
{
    char msg[96];
    if ((shape->flags & MOAT_SHAPE_HAS_MAX) && len > shape->max) {
        snprintf(msg, sizeof(msg), "Member must have length less than or equal to %lld",
                 (long long)shape->max);
        violation(c, shape, v, path, msg);
    }
    if ((shape->flags & MOAT_SHAPE_HAS_MIN) && len < shape->min) {
        snprintf(msg, sizeof(msg), "Member must have length greater than or equal to %lld",
                 (long long)shape->min);
        violation(c, shape, v, path, msg);
    }
}

static void check_value(struct checker *c, const struct moat_shape *shape,
                        const struct moat_value *v, struct moat_slice path)
{
    char msg[96];
    switch (shape->type) {
    case MOAT_SHAPE_STRUCTURE:
        check_struct(c, shape, v, path);
        break;
    case MOAT_SHAPE_LIST:
        check_length(c, shape, v, path, v->count);
        for (uint32_t i = 0; i < v->count && v->type == MOAT_V_LIST; i++) {
            char idx[32];
            snprintf(idx, sizeof(idx), ".%u.member", i + 1);
            struct moat_buf b;
            moat_buf_init(&b, c->a, path.len + 16);
            moat_buf_append(&b, path);
            moat_buf_append_cstr(&b, idx);
            if (v->u.items[i] && v->u.items[i]->type != MOAT_V_NULL)
                check_value(c, shape->item, v->u.items[i], moat_buf_slice(&b));
        }
        break;
    case MOAT_SHAPE_MAP:
        check_length(c, shape, v, path, v->count);
        for (uint32_t i = 0; i < v->count && v->type == MOAT_V_MAP; i++) {
            struct moat_value key = {.type = MOAT_V_STRING, .u.s = v->u.entries[i].key};
            check_value(c, shape->key, &key, path);
            if (v->u.entries[i].value && v->u.entries[i].value->type != MOAT_V_NULL)
                check_value(c, shape->item, v->u.entries[i].value, path);
        }
        break;
    case MOAT_SHAPE_STRING: {
        if (v->type != MOAT_V_STRING)
            break;
        check_length(c, shape, v, path, (int64_t)moat_utf8_count(v->u.s));
        if (shape->enums && shape->count) {
            bool found = false;
            for (unsigned i = 0; i < shape->count && !found; i++)
                found = moat_slice_eq_cstr(v->u.s, shape->enums[i]);
            if (!found) {
                struct moat_buf b;
                moat_buf_init(&b, c->a, 128);
                moat_buf_append_cstr(&b, "Member must satisfy enum value set: [");
                for (unsigned i = 0; i < shape->count; i++) {
                    if (i)
                        moat_buf_append_cstr(&b, ", ");
                    moat_buf_append_cstr(&b, shape->enums[i]);
                }
                moat_buf_append_u8(&b, ']');
                violation(c, shape, v, path, moat_buf_cstr(&b));
            }
        }
        if (shape->pattern && !aws_pattern_match(shape->pattern, v->u.s)) {
            char *m = moat_arena_printf(c->a, "Member must satisfy regular expression pattern: %s",
                                        shape->pattern);
            violation(c, shape, v, path, m);
        }
        break;
    }
    case MOAT_SHAPE_BLOB:
        if (v->type == MOAT_V_BLOB || v->type == MOAT_V_STRING)
            check_length(c, shape, v, path, (int64_t)v->u.s.len);
        break;
    case MOAT_SHAPE_INTEGER:
    case MOAT_SHAPE_LONG: {
        int64_t n;
        if (!moat_value_as_int(v, &n))
            break;
        if ((shape->flags & MOAT_SHAPE_HAS_MAX) && n > shape->max) {
            snprintf(msg, sizeof(msg), "Member must have value less than or equal to %lld",
                     (long long)shape->max);
            violation(c, shape, v, path, msg);
        }
        if ((shape->flags & MOAT_SHAPE_HAS_MIN) && n < shape->min) {
            snprintf(msg, sizeof(msg), "Member must have value greater than or equal to %lld",
                     (long long)shape->min);
            violation(c, shape, v, path, msg);
        }
        break;
    }
    default:
        break;
    }
}

struct moat_error *aws_validate(struct moat_arena *a, const struct moat_shape *shape,
                                const struct moat_value *input,
                                const struct moat_error_kind *kind)
{
    if (!shape)
        return NULL;
    struct checker c = {.a = a};
    moat_buf_init(&c.msgs, a, 256);
    struct moat_value empty = {.type = MOAT_V_STRUCT};
    check_struct(&c, shape, input ? input : &empty, MOAT_NULL_SLICE);
    if (!c.count)
        return NULL;
    return moat_error_new(a, kind, "%d validation error%s detected: %.*s", c.count,
                          c.count == 1 ? "" : "s", MOAT_FMT(moat_buf_slice(&c.msgs)));
}

/* ---- patterns ------------------------------------------------------------ */

struct compiled_pattern {
    const char *_Atomic pattern; /* the generated table's pointer identifies it; set last */
    pcre2_code *code;            /* NULL: could not compile, not enforced */
};

#define PATTERN_SLOTS 2048
static struct compiled_pattern patterns[PATTERN_SLOTS];
static pthread_mutex_t patterns_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread pcre2_match_data *match_data;

/* Slots are filled once and never change, so lookups need no lock: a reader
 * sees `pattern` only after `code` was stored (release/acquire). */
static pcre2_code *pattern_code(const char *pattern)
{
    size_t h = ((uintptr_t)pattern >> 3) % PATTERN_SLOTS;
    for (size_t i = 0; i < PATTERN_SLOTS; i++) {
        struct compiled_pattern *p = &patterns[(h + i) % PATTERN_SLOTS];
        const char *cur = atomic_load_explicit(&p->pattern, memory_order_acquire);
        if (cur == pattern)
            return p->code;
        if (cur)
            continue;
        pthread_mutex_lock(&patterns_lock);
        cur = atomic_load_explicit(&p->pattern, memory_order_acquire);
        if (!cur) {
            int err;
            PCRE2_SIZE off;
            pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
            pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_ALT_BSUX);
            p->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                    PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_DOTALL,
                                    &err, &off, cc);
            pcre2_compile_context_free(cc);
            if (!p->code)
                moat_log_debug("pattern not enforced (does not compile): %s", pattern);
            else
                pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE);
            atomic_store_explicit(&p->pattern, pattern, memory_order_release);
            cur = pattern;
        }
        pthread_mutex_unlock(&patterns_lock);
        if (cur == pattern)
            return p->code;
    }
    return NULL;
}

static void free_match_data(void *unused)
{
    pcre2_match_data_free(match_data);
    match_data = NULL;
}

bool aws_pattern_match(const char *pattern, struct moat_slice s)
{
    pcre2_code *code = pattern_code(pattern);
    if (!code)
        return true;
    if (!match_data) {
        match_data = pcre2_match_data_create(4, NULL);
        moat_thread_on_exit(free_match_data, NULL);
    }
    int rc = pcre2_match(code, s.ptr ? s.ptr : (const uint8_t *)"", s.len, 0, 0, match_data, NULL);
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT)
        return true;
    return rc >= 0;
}

/* shape.c: struct accessors over generated shapes, and lookups in a
 * service's generated tables. */
#include "aws/shape.h"

#include <string.h>

struct moat_value *moat_struct_new(struct moat_arena *a, const struct moat_shape *shape)
{
    struct moat_value *v = moat_arena_calloc(a, sizeof(*v));
    v->type = MOAT_V_STRUCT;
    v->shape = shape;
    v->count = shape ? shape->count : 0;
    v->u.members = moat_arena_calloc(a, (v->count ? v->count : 1) * sizeof(*v->u.members));
    return v;
}

const struct moat_member *moat_member_of(const struct moat_value *st, unsigned member)
{
    if (!st || st->type != MOAT_V_STRUCT || !st->shape || member >= st->shape->count)
        return NULL;
    return &st->shape->members[member];
}

struct moat_slice moat_get_str(const struct moat_value *st, unsigned member)
{
    struct moat_value *v = moat_get(st, member);
    return v && v->type == MOAT_V_STRING ? v->u.s : MOAT_NULL_SLICE;
}

struct moat_slice moat_get_blob(const struct moat_value *st, unsigned member)
{
    struct moat_value *v = moat_get(st, member);
    return v && (v->type == MOAT_V_BLOB || v->type == MOAT_V_STRING) ? v->u.s : MOAT_NULL_SLICE;
}

int64_t moat_get_int(const struct moat_value *st, unsigned member, int64_t dflt)
{
    int64_t out;
    struct moat_value *v = moat_get(st, member);
    return v && moat_value_as_int(v, &out) ? out : dflt;
}

bool moat_get_bool(const struct moat_value *st, unsigned member, bool dflt)
{
    struct moat_value *v = moat_get(st, member);
    return v && v->type == MOAT_V_BOOL ? v->u.b : dflt;
}

double moat_get_double(const struct moat_value *st, unsigned member, double dflt)
{
    struct moat_value *v = moat_get(st, member);
    if (!v)
        return dflt;
    if (v->type == MOAT_V_DOUBLE)
        return v->u.d;
    if (v->type == MOAT_V_INT)
        return (double)v->u.i;
    return dflt;
}

int64_t moat_get_ts(const struct moat_value *st, unsigned member, int64_t dflt)
{
    struct moat_value *v = moat_get(st, member);
    return v && v->type == MOAT_V_TIMESTAMP ? v->u.ts_ms : dflt;
}

const char *moat_get_cstr(struct moat_arena *a, const struct moat_value *st, unsigned member)
{
    struct moat_value *v = moat_get(st, member);
    if (!v || v->type != MOAT_V_STRING)
        return NULL;
    return moat_arena_cstr(a, v->u.s);
}

void moat_set(struct moat_value *st, unsigned member, struct moat_value *v)
{
    if (!st || st->type != MOAT_V_STRUCT || member >= st->count)
        return;
    if (v && !v->shape && st->shape)
        v->shape = st->shape->members[member].shape;
    st->u.members[member] = v;
}

void moat_set_str(struct moat_arena *a, struct moat_value *st, unsigned member,
                  struct moat_slice s)
{
    moat_set(st, member, moat_value_string(a, s));
}

void moat_set_cstr(struct moat_arena *a, struct moat_value *st, unsigned member, const char *s)
{
    if (s)
        moat_set(st, member, moat_value_cstring(a, s));
}

void moat_set_blob(struct moat_arena *a, struct moat_value *st, unsigned member,
                   struct moat_slice s)
{
    moat_set(st, member, moat_value_blob(a, s));
}

void moat_set_int(struct moat_arena *a, struct moat_value *st, unsigned member, int64_t v)
{
    moat_set(st, member, moat_value_int(a, v));
}

void moat_set_bool(struct moat_arena *a, struct moat_value *st, unsigned member, bool v)
{
    moat_set(st, member, moat_value_bool(a, v));
}

void moat_set_double(struct moat_arena *a, struct moat_value *st, unsigned member, double v)
{
    moat_set(st, member, moat_value_double(a, v));
}

void moat_set_ts(struct moat_arena *a, struct moat_value *st, unsigned member, int64_t ms)
{
    moat_set(st, member, moat_value_timestamp(a, ms));
}

struct moat_value *moat_set_struct(struct moat_arena *a, struct moat_value *st, unsigned member)
{
    const struct moat_member *m = moat_member_of(st, member);
    if (!m)
        return moat_struct_new(a, NULL);
    struct moat_value *child = moat_struct_new(a, m->shape);
    moat_set(st, member, child);
    return child;
}

struct moat_value *moat_set_list(struct moat_arena *a, struct moat_value *st, unsigned member)
{
    struct moat_value *list = moat_value_list(a);
    moat_set(st, member, list);
    return list;
}

struct moat_value *moat_set_map(struct moat_arena *a, struct moat_value *st, unsigned member)
{
    struct moat_value *map = moat_value_map(a);
    moat_set(st, member, map);
    return map;
}

struct moat_value *moat_list_add_struct(struct moat_arena *a, struct moat_value *list)
{
    const struct moat_shape *item = list->shape ? list->shape->item : NULL;
    struct moat_value *v = moat_struct_new(a, item);
    moat_list_push(a, list, v);
    return v;
}

void moat_list_add_str(struct moat_arena *a, struct moat_value *list, struct moat_slice s)
{
    struct moat_value *v = moat_value_string(a, s);
    v->shape = list->shape ? list->shape->item : NULL;
    moat_list_push(a, list, v);
}

const struct moat_member *moat_shape_member(const struct moat_shape *shape,
                                            struct moat_slice name, unsigned *index)
{
    if (!shape || shape->type != MOAT_SHAPE_STRUCTURE)
        return NULL;
    for (unsigned i = 0; i < shape->count; i++) {
        if (moat_slice_eq_cstr(name, shape->members[i].name)) {
            if (index)
                *index = i;
            return &shape->members[i];
        }
    }
    return NULL;
}

const struct moat_op_shape *moat_shapes_find_op(const struct moat_service_shapes *svc,
                                                struct moat_slice name)
{
    for (size_t i = 0; i < svc->op_count; i++)
        if (moat_slice_eq_cstr(name, svc->ops[i].name))
            return &svc->ops[i];
    return NULL;
}

bool moat_shapes_has_op(const struct moat_service_shapes *svc, struct moat_slice name)
{
    for (size_t i = 0; i < svc->all_op_count; i++)
        if (moat_slice_eq_cstr(name, svc->all_ops[i]))
            return true;
    return false;
}

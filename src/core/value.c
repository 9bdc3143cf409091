/* value.c: constructors and generic accessors of the neutral value tree.
 * Struct members are handled in aws/shape.c, which knows the shapes. */
#include "core/value.h"

#include <math.h>
#include <string.h>

static struct moat_value *node(struct moat_arena *a, enum moat_vtype t)
{
    struct moat_value *v = moat_arena_calloc(a, sizeof(*v));
    v->type = t;
    return v;
}

struct moat_value *moat_value_null(struct moat_arena *a)
{
    return node(a, MOAT_V_NULL);
}

struct moat_value *moat_value_bool(struct moat_arena *a, bool b)
{
    struct moat_value *v = node(a, MOAT_V_BOOL);
    v->u.b = b;
    return v;
}

struct moat_value *moat_value_int(struct moat_arena *a, int64_t i)
{
    struct moat_value *v = node(a, MOAT_V_INT);
    v->u.i = i;
    return v;
}

struct moat_value *moat_value_double(struct moat_arena *a, double d)
{
    struct moat_value *v = node(a, MOAT_V_DOUBLE);
    v->u.d = d;
    return v;
}

struct moat_value *moat_value_string(struct moat_arena *a, struct moat_slice s)
{
    struct moat_value *v = node(a, MOAT_V_STRING);
    v->u.s = s.ptr ? s : MOAT_LIT("");
    return v;
}

struct moat_value *moat_value_cstring(struct moat_arena *a, const char *s)
{
    return moat_value_string(a, moat_arena_dup(a, moat_slice_cstr(s)));
}

struct moat_value *moat_value_blob(struct moat_arena *a, struct moat_slice s)
{
    struct moat_value *v = node(a, MOAT_V_BLOB);
    v->u.s = s.ptr ? s : MOAT_LIT("");
    return v;
}

struct moat_value *moat_value_timestamp(struct moat_arena *a, int64_t ms)
{
    struct moat_value *v = node(a, MOAT_V_TIMESTAMP);
    v->u.ts_ms = ms;
    return v;
}

struct moat_value *moat_value_list(struct moat_arena *a)
{
    return node(a, MOAT_V_LIST);
}

struct moat_value *moat_value_map(struct moat_arena *a)
{
    return node(a, MOAT_V_MAP);
}

static void *grow(struct moat_arena *a, void *old, uint32_t count, uint32_t *cap, size_t elem)
{
    if (count < *cap)
        return old;
    uint32_t ncap = *cap ? *cap * 2 : 4;
    void *p = moat_arena_alloc(a, ncap * elem);
    if (count)
        memcpy(p, old, count * elem);
    *cap = ncap;
    return p;
}

void moat_list_push(struct moat_arena *a, struct moat_value *list, struct moat_value *item)
{
    list->u.items = grow(a, list->u.items, list->count, &list->cap, sizeof(*list->u.items));
    list->u.items[list->count++] = item;
}

void moat_map_push(struct moat_arena *a, struct moat_value *map, struct moat_slice key,
                   struct moat_value *value)
{
    map->u.entries = grow(a, map->u.entries, map->count, &map->cap, sizeof(*map->u.entries));
    map->u.entries[map->count].key = key;
    map->u.entries[map->count].value = value;
    map->count++;
}

void moat_map_set(struct moat_arena *a, struct moat_value *map, struct moat_slice key,
                  struct moat_value *value)
{
    for (uint32_t i = 0; i < map->count; i++) {
        if (moat_slice_eq(map->u.entries[i].key, key)) {
            map->u.entries[i].value = value;
            return;
        }
    }
    moat_map_push(a, map, key, value);
}

void moat_map_set_str(struct moat_arena *a, struct moat_value *map, const char *key,
                      struct moat_slice value)
{
    moat_map_set(a, map, moat_slice_cstr(key), moat_value_string(a, value));
}

void moat_map_set_cstr(struct moat_arena *a, struct moat_value *map, const char *key,
                       const char *value)
{
    moat_map_set(a, map, moat_slice_cstr(key), moat_value_cstring(a, value));
}

void moat_map_set_int(struct moat_arena *a, struct moat_value *map, const char *key, int64_t v)
{
    moat_map_set(a, map, moat_slice_cstr(key), moat_value_int(a, v));
}

void moat_map_set_bool(struct moat_arena *a, struct moat_value *map, const char *key, bool v)
{
    moat_map_set(a, map, moat_slice_cstr(key), moat_value_bool(a, v));
}

bool moat_map_remove(struct moat_value *map, struct moat_slice key)
{
    if (!map || map->type != MOAT_V_MAP)
        return false;
    for (uint32_t i = 0; i < map->count; i++) {
        if (moat_slice_eq(map->u.entries[i].key, key)) {
            memmove(&map->u.entries[i], &map->u.entries[i + 1],
                    (map->count - i - 1) * sizeof(*map->u.entries));
            map->count--;
            return true;
        }
    }
    return false;
}

struct moat_value *moat_map_get_slice(const struct moat_value *map, struct moat_slice key)
{
    if (!map || map->type != MOAT_V_MAP)
        return NULL;
    for (uint32_t i = 0; i < map->count; i++)
        if (moat_slice_eq(map->u.entries[i].key, key))
            return map->u.entries[i].value;
    return NULL;
}

struct moat_value *moat_map_get(const struct moat_value *map, const char *key)
{
    return moat_map_get_slice(map, moat_slice_cstr(key));
}

struct moat_value *moat_map_get_nocase(const struct moat_value *map, struct moat_slice key)
{
    if (!map || map->type != MOAT_V_MAP)
        return NULL;
    for (uint32_t i = 0; i < map->count; i++)
        if (moat_slice_eq_nocase(map->u.entries[i].key, key))
            return map->u.entries[i].value;
    return NULL;
}

struct moat_slice moat_map_str(const struct moat_value *map, const char *key)
{
    struct moat_value *v = moat_map_get(map, key);
    return v && v->type == MOAT_V_STRING ? v->u.s : MOAT_NULL_SLICE;
}

int64_t moat_map_int(const struct moat_value *map, const char *key, int64_t dflt)
{
    int64_t out;
    struct moat_value *v = moat_map_get(map, key);
    return v && moat_value_as_int(v, &out) ? out : dflt;
}

bool moat_map_bool(const struct moat_value *map, const char *key, bool dflt)
{
    struct moat_value *v = moat_map_get(map, key);
    return v && v->type == MOAT_V_BOOL ? v->u.b : dflt;
}

bool moat_value_as_int(const struct moat_value *v, int64_t *out)
{
    if (!v)
        return false;
    switch (v->type) {
    case MOAT_V_INT:
        *out = v->u.i;
        return true;
    case MOAT_V_TIMESTAMP:
        *out = v->u.ts_ms;
        return true;
    case MOAT_V_DOUBLE:
        if (v->u.d != floor(v->u.d) || fabs(v->u.d) > 9.0e18)
            return false;
        *out = (int64_t)v->u.d;
        return true;
    case MOAT_V_NUMBER:
    case MOAT_V_STRING:
        return moat_slice_to_i64(v->u.s, out);
    default:
        return false;
    }
}

bool moat_value_is_string(const struct moat_value *v)
{
    return v && v->type == MOAT_V_STRING;
}

struct moat_value *moat_value_clone(struct moat_arena *a, const struct moat_value *v)
{
    if (!v)
        return NULL;
    struct moat_value *c = moat_arena_alloc(a, sizeof(*c));
    *c = *v;
    switch (v->type) {
    case MOAT_V_STRING:
    case MOAT_V_BLOB:
    case MOAT_V_NUMBER:
        c->u.s = moat_arena_dup(a, v->u.s);
        break;
    case MOAT_V_LIST:
        c->cap = v->count;
        c->u.items = moat_arena_alloc(a, (v->count ? v->count : 1) * sizeof(*c->u.items));
        for (uint32_t i = 0; i < v->count; i++)
            c->u.items[i] = moat_value_clone(a, v->u.items[i]);
        break;
    case MOAT_V_MAP:
        c->cap = v->count;
        c->u.entries = moat_arena_alloc(a, (v->count ? v->count : 1) * sizeof(*c->u.entries));
        for (uint32_t i = 0; i < v->count; i++) {
            c->u.entries[i].key = moat_arena_dup(a, v->u.entries[i].key);
            c->u.entries[i].value = moat_value_clone(a, v->u.entries[i].value);
        }
        break;
    case MOAT_V_STRUCT:
        c->u.members = moat_arena_calloc(a, (v->count ? v->count : 1) * sizeof(void *));
        for (uint32_t i = 0; i < v->count; i++)
            c->u.members[i] = moat_value_clone(a, v->u.members[i]);
        break;
    default:
        break;
    }
    return c;
}

/* value.h: the neutral value tree. Protocol decoders produce it, handlers
 * read and fill it, encoders turn it back into wire bytes. All nodes live in
 * an arena. Generic documents (policies, stored records) use maps; modelled
 * input and output use structs whose members are indexed by generated ids. */
#ifndef MOAT_VALUE_H
#define MOAT_VALUE_H

#include "core/arena.h"

struct moat_shape; /* aws/shape.h */

enum moat_vtype {
    MOAT_V_NULL = 0,
    MOAT_V_BOOL,
    MOAT_V_INT,
    MOAT_V_DOUBLE,
    MOAT_V_NUMBER, /* JSON number kept as its text (generic documents) */
    MOAT_V_STRING,
    MOAT_V_BLOB,
    MOAT_V_TIMESTAMP, /* milliseconds since the epoch */
    MOAT_V_LIST,
    MOAT_V_MAP,
    MOAT_V_STRUCT,
};

struct moat_value;

struct moat_map_entry {
    struct moat_slice key;
    struct moat_value *value;
};

struct moat_value {
    enum moat_vtype type;
    uint32_t count, cap;            /* list items, map entries, struct members */
    const struct moat_shape *shape; /* modelled values only; NULL in generic documents */
    union {
        bool b;
        int64_t i;
        double d;
        int64_t ts_ms;
        struct moat_slice s; /* string, blob, number text */
        struct moat_value **items;
        struct moat_map_entry *entries;
        struct moat_value **members; /* struct: count slots, NULL = absent */
    } u;
};

struct moat_value *moat_value_null(struct moat_arena *a);
struct moat_value *moat_value_bool(struct moat_arena *a, bool b);
struct moat_value *moat_value_int(struct moat_arena *a, int64_t i);
struct moat_value *moat_value_double(struct moat_arena *a, double d);
struct moat_value *moat_value_string(struct moat_arena *a, struct moat_slice s); /* borrows s */
struct moat_value *moat_value_cstring(struct moat_arena *a, const char *s);     /* copies s */
struct moat_value *moat_value_blob(struct moat_arena *a, struct moat_slice s);   /* borrows s */
struct moat_value *moat_value_timestamp(struct moat_arena *a, int64_t ms);
struct moat_value *moat_value_list(struct moat_arena *a);
struct moat_value *moat_value_map(struct moat_arena *a);

void moat_list_push(struct moat_arena *a, struct moat_value *list, struct moat_value *item);
/* Appends key (borrowed) without checking for an existing entry. */
void moat_map_push(struct moat_arena *a, struct moat_value *map, struct moat_slice key,
                   struct moat_value *value);
/* Replaces an existing entry with the same key, or appends. */
void moat_map_set(struct moat_arena *a, struct moat_value *map, struct moat_slice key,
                  struct moat_value *value);
void moat_map_set_str(struct moat_arena *a, struct moat_value *map, const char *key,
                      struct moat_slice value);
void moat_map_set_cstr(struct moat_arena *a, struct moat_value *map, const char *key,
                       const char *value);
void moat_map_set_int(struct moat_arena *a, struct moat_value *map, const char *key, int64_t v);
void moat_map_set_bool(struct moat_arena *a, struct moat_value *map, const char *key, bool v);
bool moat_map_remove(struct moat_value *map, struct moat_slice key);

/* Lookups on generic maps; NULL when absent or not a map. */
struct moat_value *moat_map_get(const struct moat_value *map, const char *key);
struct moat_value *moat_map_get_slice(const struct moat_value *map, struct moat_slice key);
struct moat_value *moat_map_get_nocase(const struct moat_value *map, struct moat_slice key);
/* String member or the empty/NULL slice. */
struct moat_slice moat_map_str(const struct moat_value *map, const char *key);
int64_t moat_map_int(const struct moat_value *map, const char *key, int64_t dflt);
bool moat_map_bool(const struct moat_value *map, const char *key, bool dflt);

/* Integer value of an INT, a DOUBLE with no fraction, or an integral NUMBER/STRING. */
bool moat_value_as_int(const struct moat_value *v, int64_t *out);
bool moat_value_is_string(const struct moat_value *v);

/* Deep copy into another arena (strings copied too). */
struct moat_value *moat_value_clone(struct moat_arena *a, const struct moat_value *v);

#endif

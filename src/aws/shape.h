/* shape.h: the tables generated from botocore service models (src/aws/shapes/)
 * and the accessors handlers use to read input and fill output structs by
 * generated member id. */
#ifndef MOAT_SHAPE_H
#define MOAT_SHAPE_H

#include "aws/protocol.h"
#include "core/value.h"

enum moat_shape_type {
    MOAT_SHAPE_STRUCTURE = 0,
    MOAT_SHAPE_LIST,
    MOAT_SHAPE_MAP,
    MOAT_SHAPE_STRING,
    MOAT_SHAPE_BLOB,
    MOAT_SHAPE_BOOLEAN,
    MOAT_SHAPE_INTEGER,
    MOAT_SHAPE_LONG,
    MOAT_SHAPE_DOUBLE, /* double and float */
    MOAT_SHAPE_TIMESTAMP,
};

enum moat_shape_flag {
    MOAT_SHAPE_SENSITIVE = 1 << 0,
    MOAT_SHAPE_HAS_MIN = 1 << 1,
    MOAT_SHAPE_HAS_MAX = 1 << 2,
    MOAT_SHAPE_FLATTENED = 1 << 3, /* list/map serialised without a wrapper (Query/XML) */
    MOAT_SHAPE_UNION = 1 << 4,
    MOAT_SHAPE_STREAMING = 1 << 5,
};

enum moat_ts_format { MOAT_TS_DEFAULT = 0, MOAT_TS_ISO8601, MOAT_TS_EPOCH, MOAT_TS_RFC822 };

enum moat_location {
    MOAT_LOC_BODY = 0,
    MOAT_LOC_HEADER,
    MOAT_LOC_HEADERS, /* prefix map of headers (x-amz-meta-) */
    MOAT_LOC_URI,
    MOAT_LOC_QUERY,
    MOAT_LOC_STATUS,
};

enum moat_member_flag {
    MOAT_MEMBER_REQUIRED = 1 << 0,
    MOAT_MEMBER_IDEMPOTENCY_TOKEN = 1 << 1,
    MOAT_MEMBER_XML_ATTRIBUTE = 1 << 2,
    MOAT_MEMBER_FLATTENED = 1 << 3,
    MOAT_MEMBER_HOST_LABEL = 1 << 4,
    MOAT_MEMBER_PAYLOAD = 1 << 5, /* this member is the whole HTTP payload */
};

struct moat_member;

struct moat_shape {
    const char *name;
    uint8_t type;        /* enum moat_shape_type */
    uint8_t flags;       /* enum moat_shape_flag */
    uint8_t ts_format;   /* enum moat_ts_format */
    uint16_t count;      /* structure: members; string: enum values */
    int64_t min, max;    /* lengths (string, blob, list, map) or value range (numbers) */
    const char *pattern; /* botocore (Java) regex, NULL if none */
    const struct moat_member *members;
    const char *const *enums;
    const struct moat_shape *item;  /* list member or map value */
    const struct moat_shape *key;   /* map key */
    const char *item_name;          /* list member / map key locationName (XML, Query) */
    const char *value_name;         /* map value locationName */
};

struct moat_member {
    const char *name;      /* member name: the JSON key */
    const char *wire_name; /* locationName (header, query key, XML element), or name */
    const struct moat_shape *shape;
    uint8_t location;      /* enum moat_location */
    uint8_t flags;         /* enum moat_member_flag */
};

struct moat_op_shape {
    const char *name;
    const char *http_method;
    const char *request_uri;
    const struct moat_shape *input;  /* may be NULL */
    const struct moat_shape *output; /* may be NULL */
    const char *result_wrapper;      /* Query: <NameResult> */
    uint16_t http_status;            /* success status (200 unless the model says otherwise) */
};

/* One service's generated tables. */
struct moat_service_shapes {
    const char *service;        /* botocore name: "kms" */
    const char *api_version;
    enum moat_protocol protocol;
    const char *json_version;   /* "1.1" */
    const char *target_prefix;  /* "TrentService" */
    const char *signing_name;   /* "kms" */
    const char *xml_namespace;  /* Query/XML responses */
    const char *botocore_version;
    const struct moat_op_shape *ops; /* the operations moat implements */
    size_t op_count;
    const char *const *all_ops;      /* every operation AWS offers */
    size_t all_op_count;
};

/* ---- struct accessors (member ids are generated enums) ---------------- */

/* A new struct of the given shape with every member absent. */
struct moat_value *moat_struct_new(struct moat_arena *a, const struct moat_shape *shape);

static inline struct moat_value *moat_get(const struct moat_value *st, unsigned member)
{
    if (!st || st->type != MOAT_V_STRUCT || member >= st->count)
        return NULL;
    struct moat_value *v = st->u.members[member];
    return v && v->type != MOAT_V_NULL ? v : NULL;
}

static inline bool moat_has(const struct moat_value *st, unsigned member)
{
    return moat_get(st, member) != NULL;
}

/* Scalar reads; absent members give the empty slice / the default. */
struct moat_slice moat_get_str(const struct moat_value *st, unsigned member);
struct moat_slice moat_get_blob(const struct moat_value *st, unsigned member);
int64_t moat_get_int(const struct moat_value *st, unsigned member, int64_t dflt);
bool moat_get_bool(const struct moat_value *st, unsigned member, bool dflt);
double moat_get_double(const struct moat_value *st, unsigned member, double dflt);
int64_t moat_get_ts(const struct moat_value *st, unsigned member, int64_t dflt);
/* A string member copied as a NUL-terminated C string (NULL when absent). */
const char *moat_get_cstr(struct moat_arena *a, const struct moat_value *st, unsigned member);

/* Writes. Strings and blobs are borrowed: they must live in the call's arena
 * (or longer). The set_struct/list/map forms create and return the child. */
void moat_set(struct moat_value *st, unsigned member, struct moat_value *v);
void moat_set_str(struct moat_arena *a, struct moat_value *st, unsigned member,
                  struct moat_slice s);
void moat_set_cstr(struct moat_arena *a, struct moat_value *st, unsigned member, const char *s);
void moat_set_blob(struct moat_arena *a, struct moat_value *st, unsigned member,
                   struct moat_slice s);
void moat_set_int(struct moat_arena *a, struct moat_value *st, unsigned member, int64_t v);
void moat_set_bool(struct moat_arena *a, struct moat_value *st, unsigned member, bool v);
void moat_set_double(struct moat_arena *a, struct moat_value *st, unsigned member, double v);
void moat_set_ts(struct moat_arena *a, struct moat_value *st, unsigned member, int64_t ms);
struct moat_value *moat_set_struct(struct moat_arena *a, struct moat_value *st, unsigned member);
struct moat_value *moat_set_list(struct moat_arena *a, struct moat_value *st, unsigned member);
struct moat_value *moat_set_map(struct moat_arena *a, struct moat_value *st, unsigned member);
/* Appends a new struct item to a list created by moat_set_list (of its item shape). */
struct moat_value *moat_list_add_struct(struct moat_arena *a, struct moat_value *list);
void moat_list_add_str(struct moat_arena *a, struct moat_value *list, struct moat_slice s);

/* The shape of a struct member. */
const struct moat_member *moat_member_of(const struct moat_value *st, unsigned member);

/* Finds a member of a structure shape by name (NULL if none). */
const struct moat_member *moat_shape_member(const struct moat_shape *shape,
                                            struct moat_slice name, unsigned *index);
const struct moat_op_shape *moat_shapes_find_op(const struct moat_service_shapes *svc,
                                                struct moat_slice name);
bool moat_shapes_has_op(const struct moat_service_shapes *svc, struct moat_slice name);

#endif

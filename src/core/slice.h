/* slice.h: borrowed byte views (pointer + length) and the cursor readers
 * that consume them. A slice never owns its bytes. */
#ifndef MOAT_SLICE_H
#define MOAT_SLICE_H

#include "core/base.h"

struct moat_slice {
    const uint8_t *ptr;
    size_t len;
};

#define MOAT_LIT(s) ((struct moat_slice){(const uint8_t *)"" s, sizeof(s) - 1})
#define MOAT_FMT(s) (int)(s).len, (const char *)(s).ptr
#define MOAT_NULL_SLICE ((struct moat_slice){NULL, 0})

static inline struct moat_slice moat_slice(const void *p, size_t n)
{
    return (struct moat_slice){(const uint8_t *)p, n};
}

struct moat_slice moat_slice_cstr(const char *s);
bool moat_slice_eq(struct moat_slice a, struct moat_slice b);
bool moat_slice_eq_cstr(struct moat_slice a, const char *s);
/* ASCII case-insensitive equality. */
bool moat_slice_eq_nocase(struct moat_slice a, struct moat_slice b);
bool moat_slice_starts_with(struct moat_slice s, struct moat_slice prefix);
bool moat_slice_ends_with(struct moat_slice s, struct moat_slice suffix);
int moat_slice_cmp(struct moat_slice a, struct moat_slice b);
/* Index of the first `c` in s, or -1. */
long moat_slice_index(struct moat_slice s, uint8_t c);
struct moat_slice moat_slice_sub(struct moat_slice s, size_t from, size_t to);
struct moat_slice moat_slice_trim(struct moat_slice s);

/* Split *rest at the first sep: *head gets what precedes it and *rest what
 * follows. Returns false (and head = all of rest, rest empty) when sep is absent
 * and rest was empty already; a last piece without sep is returned with true. */
bool moat_slice_split(struct moat_slice *rest, uint8_t sep, struct moat_slice *head);

/* Decimal parsing of the whole slice; false on any non-digit, sign rules or overflow. */
bool moat_slice_to_u64(struct moat_slice s, uint64_t *out);
bool moat_slice_to_i64(struct moat_slice s, int64_t *out);

/* Cursor readers: consume from the front; false when the input is short. */
bool moat_slice_read_u8(struct moat_slice *cur, uint8_t *out);
bool moat_slice_read_u32be(struct moat_slice *cur, uint32_t *out);
bool moat_slice_read_u16be(struct moat_slice *cur, uint16_t *out);
bool moat_slice_read_bytes(struct moat_slice *cur, size_t n, struct moat_slice *out);

/* A name/value pair as received on the wire (HTTP headers, trailers). */
struct moat_header {
    struct moat_slice name;
    struct moat_slice value;
};

static inline bool moat_slice_is_empty(struct moat_slice s)
{
    return s.len == 0;
}

#endif

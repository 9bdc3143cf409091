/* buf.h: the one byte builder. Appends never fail loudly: exceeding the
 * optional limit sets a sticky `failed` flag that the owner checks once. */
#ifndef MOAT_BUF_H
#define MOAT_BUF_H

#include "core/arena.h"

struct moat_buf {
    uint8_t *ptr;
    size_t len, cap;
    size_t limit;              /* 0 = unlimited */
    struct moat_arena *arena;  /* NULL = heap (moat_buf_release frees) */
    bool failed;
};

void moat_buf_init(struct moat_buf *b, struct moat_arena *arena, size_t initial_cap);
void moat_buf_release(struct moat_buf *b); /* heap buffers only; no-op for arena ones */
void moat_buf_reserve(struct moat_buf *b, size_t extra);
void moat_buf_append(struct moat_buf *b, struct moat_slice s);
void moat_buf_append_bytes(struct moat_buf *b, const void *p, size_t n);
void moat_buf_append_cstr(struct moat_buf *b, const char *s);
void moat_buf_append_u8(struct moat_buf *b, uint8_t c);
void moat_buf_append_u64(struct moat_buf *b, uint64_t v);
void moat_buf_append_i64(struct moat_buf *b, int64_t v);
void moat_buf_printf(struct moat_buf *b, const char *fmt, ...) MOAT_PRINTF(2, 3);
/* Lowercase hex of the bytes. */
void moat_buf_append_hex(struct moat_buf *b, const uint8_t *p, size_t n);
/* Escapes for JSON string content (no surrounding quotes). */
void moat_buf_append_json_escaped(struct moat_buf *b, struct moat_slice s);
/* Escapes for XML text and attribute content. */
void moat_buf_append_xml_escaped(struct moat_buf *b, struct moat_slice s);

static inline struct moat_slice moat_buf_slice(const struct moat_buf *b)
{
    return moat_slice(b->ptr, b->len);
}

/* NUL-terminates without counting the terminator; returns the C string. */
char *moat_buf_cstr(struct moat_buf *b);

#endif

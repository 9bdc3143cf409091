/* buf.c: growable byte builder in an arena or on the heap, with the escaping
 * helpers every encoder shares. */
#include "core/buf.h"

#include "core/encoding.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void moat_buf_init(struct moat_buf *b, struct moat_arena *arena, size_t initial_cap)
{
    memset(b, 0, sizeof(*b));
    b->arena = arena;
    if (initial_cap)
        moat_buf_reserve(b, initial_cap);
}

void moat_buf_release(struct moat_buf *b)
{
    if (!b->arena)
        free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

void moat_buf_reserve(struct moat_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra + 1)
        return;
    size_t need = b->len + extra + 1;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    if (b->arena) {
        uint8_t *p = moat_arena_alloc(b->arena, cap);
        if (b->len)
            memcpy(p, b->ptr, b->len);
        b->ptr = p;
    } else {
        b->ptr = moat_xrealloc(b->ptr, cap);
    }
    b->cap = cap;
}

static bool room(struct moat_buf *b, size_t n)
{
    if (b->failed)
        return false;
    if (b->limit && b->len + n > b->limit) {
        b->failed = true;
        return false;
    }
    moat_buf_reserve(b, n);
    return true;
}

void moat_buf_append_bytes(struct moat_buf *b, const void *p, size_t n)
{
    if (!n || !room(b, n))
        return;
    memcpy(b->ptr + b->len, p, n);
    b->len += n;
}

void moat_buf_append(struct moat_buf *b, struct moat_slice s)
{
    moat_buf_append_bytes(b, s.ptr, s.len);
}

void moat_buf_append_cstr(struct moat_buf *b, const char *s)
{
    moat_buf_append_bytes(b, s, strlen(s));
}

void moat_buf_append_u8(struct moat_buf *b, uint8_t c)
{
    if (!room(b, 1))
        return;
    b->ptr[b->len++] = c;
}

void moat_buf_append_u64(struct moat_buf *b, uint64_t v)
{
    char tmp[24];
    int i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    moat_buf_append_bytes(b, tmp + i, sizeof(tmp) - (size_t)i);
}

void moat_buf_append_i64(struct moat_buf *b, int64_t v)
{
    if (v < 0) {
        moat_buf_append_u8(b, '-');
        moat_buf_append_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        moat_buf_append_u64(b, (uint64_t)v);
    }
}

void moat_buf_printf(struct moat_buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    if ((size_t)n < sizeof(tmp)) {
        moat_buf_append_bytes(b, tmp, (size_t)n);
        return;
    }
    if (!room(b, (size_t)n + 1))
        return;
    va_start(ap, fmt);
    vsnprintf((char *)b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void moat_buf_append_hex(struct moat_buf *b, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    if (!room(b, n * 2))
        return;
    for (size_t i = 0; i < n; i++) {
        b->ptr[b->len++] = (uint8_t)digits[p[i] >> 4];
        b->ptr[b->len++] = (uint8_t)digits[p[i] & 15];
    }
}

/* Escapes for JSON and keeps the output valid UTF-8: an invalid byte becomes
 * \ufffd, so that text from the wire (user agents, names) cannot make a
 * record that a strict reader or PostgreSQL would refuse. */
void moat_buf_append_json_escaped(struct moat_buf *b, struct moat_slice s)
{
    static const char digits[] = "0123456789abcdef";
    size_t start = 0;
    for (size_t i = 0; i < s.len;) {
        uint8_t c = s.ptr[i];
        if (c >= 0x80) {
            size_t n = moat_utf8_seq_len(s, i);
            if (n) {
                i += n;
                continue;
            }
            moat_buf_append_bytes(b, s.ptr + start, i - start);
            moat_buf_append_bytes(b, "\\ufffd", 6);
            start = ++i;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        moat_buf_append_bytes(b, s.ptr + start, i - start);
        start = ++i;
        switch (c) {
        case '"': moat_buf_append_bytes(b, "\\\"", 2); break;
        case '\\': moat_buf_append_bytes(b, "\\\\", 2); break;
        case '\n': moat_buf_append_bytes(b, "\\n", 2); break;
        case '\r': moat_buf_append_bytes(b, "\\r", 2); break;
        case '\t': moat_buf_append_bytes(b, "\\t", 2); break;
        case '\b': moat_buf_append_bytes(b, "\\b", 2); break;
        case '\f': moat_buf_append_bytes(b, "\\f", 2); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', digits[c >> 4], digits[c & 15]};
            moat_buf_append_bytes(b, u, 6);
        }
        }
    }
    moat_buf_append_bytes(b, s.ptr + start, s.len - start);
}

void moat_buf_append_xml_escaped(struct moat_buf *b, struct moat_slice s)
{
    size_t start = 0;
    for (size_t i = 0; i < s.len; i++) {
        const char *rep = NULL;
        switch (s.ptr[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        case '\r': rep = "&#xD;"; break;
        case '\n': rep = "&#xA;"; break;
        default: continue;
        }
        moat_buf_append_bytes(b, s.ptr + start, i - start);
        moat_buf_append_cstr(b, rep);
        start = i + 1;
    }
    moat_buf_append_bytes(b, s.ptr + start, s.len - start);
}

char *moat_buf_cstr(struct moat_buf *b)
{
    moat_buf_reserve(b, 1);
    b->ptr[b->len] = 0;
    return (char *)b->ptr;
}

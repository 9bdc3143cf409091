/* slice.c: comparisons, splitting and cursor reads over borrowed byte views.
 * Nothing here allocates. */
#include "core/slice.h"

#include <string.h>

struct moat_slice moat_slice_cstr(const char *s)
{
    return s ? moat_slice(s, strlen(s)) : MOAT_NULL_SLICE;
}

bool moat_slice_eq(struct moat_slice a, struct moat_slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool moat_slice_eq_cstr(struct moat_slice a, const char *s)
{
    return moat_slice_eq(a, moat_slice_cstr(s));
}

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

bool moat_slice_eq_nocase(struct moat_slice a, struct moat_slice b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (lower(a.ptr[i]) != lower(b.ptr[i]))
            return false;
    return true;
}

bool moat_slice_starts_with(struct moat_slice s, struct moat_slice prefix)
{
    return s.len >= prefix.len && (prefix.len == 0 || memcmp(s.ptr, prefix.ptr, prefix.len) == 0);
}

bool moat_slice_ends_with(struct moat_slice s, struct moat_slice suffix)
{
    return s.len >= suffix.len &&
           (suffix.len == 0 || memcmp(s.ptr + s.len - suffix.len, suffix.ptr, suffix.len) == 0);
}

int moat_slice_cmp(struct moat_slice a, struct moat_slice b)
{
    size_t n = MOAT_MIN(a.len, b.len);
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (c)
        return c;
    return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}

long moat_slice_index(struct moat_slice s, uint8_t c)
{
    if (!s.len)
        return -1;
    const uint8_t *p = memchr(s.ptr, c, s.len);
    return p ? (long)(p - s.ptr) : -1;
}

struct moat_slice moat_slice_sub(struct moat_slice s, size_t from, size_t to)
{
    if (to > s.len)
        to = s.len;
    if (from > to)
        from = to;
    return moat_slice(s.ptr + from, to - from);
}

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct moat_slice moat_slice_trim(struct moat_slice s)
{
    while (s.len && is_space(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len && is_space(s.ptr[s.len - 1]))
        s.len--;
    return s;
}

bool moat_slice_split(struct moat_slice *rest, uint8_t sep, struct moat_slice *head)
{
    if (!rest->ptr) {
        *head = MOAT_NULL_SLICE;
        return false;
    }
    long i = moat_slice_index(*rest, sep);
    if (i < 0) {
        *head = *rest;
        *rest = MOAT_NULL_SLICE;
        return true;
    }
    *head = moat_slice(rest->ptr, (size_t)i);
    *rest = moat_slice(rest->ptr + i + 1, rest->len - (size_t)i - 1);
    return true;
}

bool moat_slice_to_u64(struct moat_slice s, uint64_t *out)
{
    if (!s.len || s.len > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (c < '0' || c > '9')
            return false;
        if (v > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(c - '0');
    }
    *out = v;
    return true;
}

bool moat_slice_to_i64(struct moat_slice s, int64_t *out)
{
    bool neg = false;
    if (s.len && (s.ptr[0] == '-' || s.ptr[0] == '+')) {
        neg = s.ptr[0] == '-';
        s.ptr++;
        s.len--;
    }
    uint64_t u;
    if (!moat_slice_to_u64(s, &u))
        return false;
    if (neg) {
        if (u > (uint64_t)INT64_MAX + 1)
            return false;
        *out = (int64_t)(0 - u);
    } else {
        if (u > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)u;
    }
    return true;
}

bool moat_slice_read_u8(struct moat_slice *cur, uint8_t *out)
{
    if (cur->len < 1)
        return false;
    *out = cur->ptr[0];
    cur->ptr++;
    cur->len--;
    return true;
}

bool moat_slice_read_u16be(struct moat_slice *cur, uint16_t *out)
{
    if (cur->len < 2)
        return false;
    *out = (uint16_t)((cur->ptr[0] << 8) | cur->ptr[1]);
    cur->ptr += 2;
    cur->len -= 2;
    return true;
}

bool moat_slice_read_u32be(struct moat_slice *cur, uint32_t *out)
{
    if (cur->len < 4)
        return false;
    *out = ((uint32_t)cur->ptr[0] << 24) | ((uint32_t)cur->ptr[1] << 16) |
           ((uint32_t)cur->ptr[2] << 8) | cur->ptr[3];
    cur->ptr += 4;
    cur->len -= 4;
    return true;
}

bool moat_slice_read_bytes(struct moat_slice *cur, size_t n, struct moat_slice *out)
{
    if (cur->len < n)
        return false;
    *out = moat_slice(cur->ptr, n);
    cur->ptr += n;
    cur->len -= n;
    return true;
}

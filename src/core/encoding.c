/* encoding.c: base64 / hex / percent codecs and UTF-8 checks used by every
 * protocol codec and by SigV4 canonicalisation. */
#include "core/encoding.h"

#include <string.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void encode(struct moat_buf *out, struct moat_slice in, const char *alpha, bool pad)
{
    moat_buf_reserve(out, (in.len + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= in.len; i += 3) {
        uint32_t v = ((uint32_t)in.ptr[i] << 16) | ((uint32_t)in.ptr[i + 1] << 8) | in.ptr[i + 2];
        char q[4] = {alpha[v >> 18], alpha[(v >> 12) & 63], alpha[(v >> 6) & 63], alpha[v & 63]};
        moat_buf_append_bytes(out, q, 4);
    }
    size_t rest = in.len - i;
    if (rest == 1) {
        uint32_t v = (uint32_t)in.ptr[i] << 16;
        char q[4] = {alpha[v >> 18], alpha[(v >> 12) & 63], '=', '='};
        moat_buf_append_bytes(out, q, pad ? 4 : 2);
    } else if (rest == 2) {
        uint32_t v = ((uint32_t)in.ptr[i] << 16) | ((uint32_t)in.ptr[i + 1] << 8);
        char q[4] = {alpha[v >> 18], alpha[(v >> 12) & 63], alpha[(v >> 6) & 63], '='};
        moat_buf_append_bytes(out, q, pad ? 4 : 3);
    }
}

void moat_base64_encode(struct moat_buf *out, struct moat_slice in)
{
    encode(out, in, b64, true);
}

void moat_base64url_encode(struct moat_buf *out, struct moat_slice in)
{
    encode(out, in, b64url, false);
}

static int b64_val(uint8_t c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

static bool decode(struct moat_arena *a, struct moat_slice in, bool url, struct moat_slice *out)
{
    size_t n = in.len;
    if (!url) {
        if (n % 4)
            return false;
        if (n && in.ptr[n - 1] == '=')
            n--;
        if (n && in.ptr[n - 1] == '=')
            n--;
    } else {
        while (n && in.ptr[n - 1] == '=')
            n--;
        if (n % 4 == 1)
            return false;
    }
    uint8_t *p = moat_arena_alloc(a, n / 4 * 3 + 3);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_val(in.ptr[i], url);
        if (v < 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            p[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero (canonical encoding). */
    if (bits && (acc & ((1u << bits) - 1)))
        return false;
    *out = moat_slice(p, o);
    return true;
}

bool moat_base64_decode(struct moat_arena *a, struct moat_slice in, struct moat_slice *out)
{
    return decode(a, in, false, out);
}

bool moat_base64url_decode(struct moat_arena *a, struct moat_slice in, struct moat_slice *out)
{
    return decode(a, in, true, out);
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

bool moat_hex_decode(struct moat_arena *a, struct moat_slice in, struct moat_slice *out)
{
    if (in.len % 2)
        return false;
    uint8_t *p = moat_arena_alloc(a, in.len / 2 + 1);
    for (size_t i = 0; i < in.len; i += 2) {
        int h = hexval(in.ptr[i]), l = hexval(in.ptr[i + 1]);
        if (h < 0 || l < 0)
            return false;
        p[i / 2] = (uint8_t)(h << 4 | l);
    }
    *out = moat_slice(p, in.len / 2);
    return true;
}

bool moat_url_decode(struct moat_arena *a, struct moat_slice in, bool plus_is_space,
                     struct moat_slice *out)
{
    if (moat_slice_index(in, '%') < 0 && (!plus_is_space || moat_slice_index(in, '+') < 0)) {
        *out = in;
        return true;
    }
    uint8_t *p = moat_arena_alloc(a, in.len + 1);
    size_t o = 0;
    for (size_t i = 0; i < in.len; i++) {
        uint8_t c = in.ptr[i];
        if (c == '%') {
            if (in.len - i < 3)
                return false;
            int h = hexval(in.ptr[i + 1]), l = hexval(in.ptr[i + 2]);
            if (h < 0 || l < 0)
                return false;
            p[o++] = (uint8_t)(h << 4 | l);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            p[o++] = ' ';
        } else {
            p[o++] = c;
        }
    }
    p[o] = 0;
    *out = moat_slice(p, o);
    return true;
}

void moat_url_encode(struct moat_buf *out, struct moat_slice in, bool keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < in.len; i++) {
        uint8_t c = in.ptr[i];
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/');
        if (plain) {
            moat_buf_append_u8(out, c);
        } else {
            char e[3] = {'%', digits[c >> 4], digits[c & 15]};
            moat_buf_append_bytes(out, e, 3);
        }
    }
}

size_t moat_utf8_seq_len(struct moat_slice s, size_t i)
{
    uint8_t c = s.ptr[i];
    if (c < 0x80)
        return 1;
    size_t n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
        n = 2;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + n > s.len)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s.ptr[i + k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s.ptr[i + k] & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
        return 0;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

bool moat_utf8_valid(struct moat_slice s)
{
    size_t i = 0;
    while (i < s.len) {
        /* ASCII runs (most of what moat checks: records, names) eight bytes at a time */
        uint64_t w;
        while (i + 8 <= s.len && (memcpy(&w, s.ptr + i, 8), !(w & 0x8080808080808080ull)))
            i += 8;
        if (i == s.len)
            break;
        size_t n = s.ptr[i] < 0x80 ? 1 : moat_utf8_seq_len(s, i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

struct moat_slice moat_utf8_sanitize(struct moat_arena *a, struct moat_slice s)
{
    bool clean = moat_utf8_valid(s) && (!s.len || !memchr(s.ptr, 0, s.len));
    if (clean)
        return s;
    struct moat_buf b;
    moat_buf_init(&b, a, s.len + 16);
    for (size_t i = 0; i < s.len;) {
        size_t n = s.ptr[i] ? moat_utf8_seq_len(s, i) : 0;
        if (n) {
            moat_buf_append_bytes(&b, s.ptr + i, n);
            i += n;
        } else {
            moat_buf_append_bytes(&b, "\xef\xbf\xbd", 3);
            i++;
        }
    }
    return moat_buf_slice(&b);
}

size_t moat_utf8_count(struct moat_slice s)
{
    size_t count = 0;
    for (size_t i = 0; i < s.len; i++)
        if ((s.ptr[i] & 0xC0) != 0x80)
            count++;
    return count;
}

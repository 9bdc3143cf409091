/* sigv4_chunked.c: S3 aws-chunked bodies (spec section 7): chunk framing,
 * the chained chunk signatures, and the signed or unsigned trailer. */
#include "aws/sigv4.h"

#include "core/buf.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_TRAILERS 64

enum chunk_mode { MODE_SIGNED = 0, MODE_SIGNED_TRAILER, MODE_UNSIGNED_TRAILER };

struct chunk_ctx {
    const struct sigv4_auth *auth;
    struct moat_slice secret;
    char prev[65]; /* the previous signature in the chain, starting with the seed */
};

static bool is_lower_hex64(struct moat_slice s)
{
    if (s.len != 64)
        return false;
    for (size_t i = 0; i < 64; i++) {
        uint8_t c = s.ptr[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

/* Consumes "\r\n" from the front of *cur. */
static bool take_crlf(struct moat_slice *cur)
{
    if (cur->len < 2 || cur->ptr[0] != '\r' || cur->ptr[1] != '\n')
        return false;
    cur->ptr += 2;
    cur->len -= 2;
    return true;
}

/* Consumes one CRLF-terminated line (without the CRLF). A bare CR or LF inside is refused. */
static bool take_line(struct moat_slice *cur, struct moat_slice *line)
{
    for (size_t i = 0; i + 1 < cur->len; i++) {
        if (cur->ptr[i] == '\n')
            return false;
        if (cur->ptr[i] == '\r') {
            if (cur->ptr[i + 1] != '\n')
                return false;
            *line = moat_slice(cur->ptr, i);
            cur->ptr += i + 2;
            cur->len -= i + 2;
            return true;
        }
    }
    return false;
}

/* Hex chunk size (at most 16 digits, so no overflow) at the front of line. */
static bool parse_size(struct moat_slice *line, uint64_t *size)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < line->len && i < 17; i++) {
        uint8_t c = line->ptr[i];
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0)
            break;
        v = v << 4 | (uint64_t)d;
    }
    if (i == 0 || i > 16)
        return false;
    *size = v;
    line->ptr += i;
    line->len -= i;
    return true;
}

static uint8_t *put(uint8_t *o, struct moat_slice s)
{
    if (s.len)
        memcpy(o, s.ptr, s.len);
    return o + s.len;
}

/* Signs `kind` (PAYLOAD or TRAILER) over the previous signature and the hex
 * hash, compares with `given` in constant time and moves the chain on. */
static enum sigv4_status check_link(struct chunk_ctx *c, struct moat_slice kind,
                                    bool empty_hash_line, const char hash_hex[65],
                                    struct moat_slice given)
{
    const struct sigv4_auth *auth = c->auth;
    uint8_t sts[640];
    if (auth->scope_date.len + auth->region.len + auth->service.len > 256)
        return SIGV4_MISMATCH; /* sigv4_verify never accepts such a scope */
    uint8_t *o = put(sts, kind);
    *o++ = '\n';
    o = put(o, auth->amz_date);
    *o++ = '\n';
    o = put(o, auth->scope_date);
    *o++ = '/';
    o = put(o, auth->region);
    *o++ = '/';
    o = put(o, auth->service);
    o = put(o, MOAT_LIT("/aws4_request\n"));
    o = put(o, moat_slice(c->prev, 64));
    *o++ = '\n';
    if (empty_hash_line)
        o = put(o, MOAT_LIT(EMPTY_SHA256 "\n"));
    o = put(o, moat_slice(hash_hex, 64));
    char mine[65];
    if (!sigv4_sign_hex(c->secret, auth->scope_date, auth->region, auth->service,
                        moat_slice(sts, (size_t)(o - sts)), mine))
        return SIGV4_INTERNAL_ERROR;
    bool ok = given.len == 64 && CRYPTO_memcmp(mine, given.ptr, 64) == 0;
    if (!ok)
        return SIGV4_MISMATCH;
    memcpy(c->prev, mine, 65);
    return SIGV4_OK;
}

static int trailer_cmp(const void *x, const void *y)
{
    const struct moat_slice *p = x, *q = y;
    return moat_slice_cmp(*p, *q);
}

/* Parses the trailer block after the final chunk, up to and including the empty
 * line that ends the body; in signed mode the last line must be the trailer
 * signature, verified over the sorted canonical trailers. */
static enum sigv4_status parse_trailers(struct moat_arena *a, struct chunk_ctx *c, bool signed_mode,
                                        struct moat_slice *cur, struct sigv4_chunked_result *out,
                                        const char **detail)
{
    struct moat_header *list = moat_arena_alloc(a, MAX_TRAILERS * sizeof(*list));
    size_t n = 0;
    struct moat_slice signature = MOAT_NULL_SLICE, line;
    bool have_signature = false;
    for (;;) {
        if (!take_line(cur, &line)) {
            *detail = "The aws-chunked trailer is truncated or not CRLF-terminated.";
            return SIGV4_MALFORMED;
        }
        if (line.len == 0)
            break;
        if (have_signature) {
            *detail = "The x-amz-trailer-signature must be the last trailer.";
            return SIGV4_MALFORMED;
        }
        long colon = moat_slice_index(line, ':');
        struct moat_slice name = colon > 0 ? moat_slice(line.ptr, (size_t)colon) : MOAT_NULL_SLICE;
        if (!name.len || moat_slice_trim(name).len != name.len) {
            *detail = "Malformed aws-chunked trailer line.";
            return SIGV4_MALFORMED;
        }
        struct moat_slice value =
            moat_slice_trim(moat_slice_sub(line, (size_t)colon + 1, line.len));
        if (moat_slice_eq_nocase(name, MOAT_LIT("x-amz-trailer-signature"))) {
            if (!signed_mode) {
                *detail = "An unsigned aws-chunked trailer cannot carry x-amz-trailer-signature.";
                return SIGV4_MALFORMED;
            }
            signature = value;
            have_signature = true;
            continue;
        }
        if (n == MAX_TRAILERS) {
            *detail = "Too many aws-chunked trailers.";
            return SIGV4_MALFORMED;
        }
        list[n++] = (struct moat_header){name, value};
    }
    if (signed_mode) {
        if (!have_signature) {
            *detail = "The aws-chunked trailer has no x-amz-trailer-signature.";
            return SIGV4_MALFORMED;
        }
        /* Canonical trailers: "lowercase(name):value\n", sorted. */
        struct moat_slice *lines = moat_arena_alloc(a, (n ? n : 1) * sizeof(*lines));
        size_t total = 0;
        for (size_t i = 0; i < n; i++) {
            struct moat_buf b;
            moat_buf_init(&b, a, list[i].name.len + list[i].value.len + 2);
            for (size_t k = 0; k < list[i].name.len; k++) {
                uint8_t ch = list[i].name.ptr[k];
                moat_buf_append_u8(&b, (ch >= 'A' && ch <= 'Z') ? (uint8_t)(ch + 32) : ch);
            }
            moat_buf_append_u8(&b, ':');
            moat_buf_append(&b, list[i].value);
            moat_buf_append_u8(&b, '\n');
            lines[i] = moat_buf_slice(&b);
            total += lines[i].len;
        }
        qsort(lines, n, sizeof(*lines), trailer_cmp);
        struct moat_buf block;
        moat_buf_init(&block, a, total + 1);
        for (size_t i = 0; i < n; i++)
            moat_buf_append(&block, lines[i]);
        char hash[65];
        if (!sigv4_sha256_hex(moat_buf_slice(&block), hash))
            return SIGV4_INTERNAL_ERROR;
        enum sigv4_status st =
            check_link(c, MOAT_LIT("AWS4-HMAC-SHA256-TRAILER"), false, hash, signature);
        if (st == SIGV4_MISMATCH)
            *detail = "The trailer signature does not match.";
        if (st != SIGV4_OK)
            return st;
    }
    out->trailers = list;
    out->trailer_count = n;
    return SIGV4_OK;
}

enum sigv4_status sigv4_decode_chunked(struct moat_arena *a, const struct sigv4_auth *auth,
                                       struct moat_slice secret, struct moat_slice wire,
                                       struct sigv4_chunked_result *out, const char **detail)
{
    memset(out, 0, sizeof(*out));
    *detail = NULL;
    enum chunk_mode mode;
    if (moat_slice_eq(auth->content_sha256, MOAT_LIT("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")))
        mode = MODE_SIGNED;
    else if (moat_slice_eq(auth->content_sha256,
                           MOAT_LIT("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")))
        mode = MODE_SIGNED_TRAILER;
    else if (moat_slice_eq(auth->content_sha256, MOAT_LIT("STREAMING-UNSIGNED-PAYLOAD-TRAILER")))
        mode = MODE_UNSIGNED_TRAILER;
    else {
        *detail = "x-amz-content-sha256 does not announce an aws-chunked body.";
        return SIGV4_BAD_CONTENT_SHA256;
    }
    bool signed_mode = mode != MODE_UNSIGNED_TRAILER;
    struct chunk_ctx c = {.auth = auth, .secret = secret};
    if (signed_mode) {
        if (!is_lower_hex64(auth->signature) || auth->amz_date.len != 16) {
            *detail = "The seed signature is not a valid SigV4 signature.";
            return SIGV4_MALFORMED;
        }
        memcpy(c.prev, auth->signature.ptr, 64);
        c.prev[64] = 0;
    }

    uint8_t *payload = moat_arena_alloc(a, wire.len + 1);
    size_t payload_len = 0;
    struct moat_slice cur = wire, line;
    for (;;) {
        size_t at = (size_t)(cur.ptr - wire.ptr);
        uint64_t size;
        if (!take_line(&cur, &line) || !parse_size(&line, &size)) {
            *detail = moat_arena_printf(a, "Malformed aws-chunked chunk header at byte %zu.", at);
            return SIGV4_MALFORMED;
        }
        struct moat_slice given = MOAT_NULL_SLICE;
        if (signed_mode) {
            static const char ext[] = ";chunk-signature=";
            if (line.len != sizeof(ext) - 1 + 64 || memcmp(line.ptr, ext, sizeof(ext) - 1) != 0) {
                *detail =
                    moat_arena_printf(a, "Missing or malformed chunk-signature at byte %zu.", at);
                return SIGV4_MALFORMED;
            }
            given = moat_slice(line.ptr + sizeof(ext) - 1, 64);
        } else if (line.len && line.ptr[0] != ';') {
            *detail = moat_arena_printf(a, "Malformed aws-chunked chunk header at byte %zu.", at);
            return SIGV4_MALFORMED;
        }
        if (size > cur.len) {
            *detail = moat_arena_printf(a, "The aws-chunked body is truncated at byte %zu.", at);
            return SIGV4_MALFORMED;
        }
        struct moat_slice data = moat_slice(cur.ptr, (size_t)size);
        cur.ptr += size;
        cur.len -= size;
        if (size && !take_crlf(&cur)) {
            *detail =
                moat_arena_printf(a, "Chunk data is not followed by CRLF (chunk at byte %zu).", at);
            return SIGV4_MALFORMED;
        }
        if (signed_mode) {
            char hash[65];
            if (size == 0)
                memcpy(hash, EMPTY_SHA256, 65);
            else if (!sigv4_sha256_hex(data, hash))
                return SIGV4_INTERNAL_ERROR;
            enum sigv4_status st =
                check_link(&c, MOAT_LIT("AWS4-HMAC-SHA256-PAYLOAD"), true, hash, given);
            if (st == SIGV4_MISMATCH)
                *detail =
                    moat_arena_printf(a, "The chunk signature at byte %zu does not match.", at);
            if (st != SIGV4_OK)
                return st;
        }
        if (size == 0)
            break;
        memcpy(payload + payload_len, data.ptr, data.len);
        payload_len += data.len;
    }
    if (mode == MODE_SIGNED) {
        if (!take_crlf(&cur)) {
            *detail = "The final aws-chunked chunk is not followed by CRLF.";
            return SIGV4_MALFORMED;
        }
    } else {
        enum sigv4_status st = parse_trailers(a, &c, signed_mode, &cur, out, detail);
        if (st != SIGV4_OK) {
            out->trailers = NULL;
            out->trailer_count = 0;
            return st;
        }
    }
    if (cur.len) {
        *detail = "Unexpected bytes after the end of the aws-chunked body.";
        out->trailers = NULL;
        out->trailer_count = 0;
        return SIGV4_MALFORMED;
    }
    out->payload = moat_slice(payload, payload_len);
    return SIGV4_OK;
}

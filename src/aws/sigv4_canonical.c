/* sigv4_canonical.c: the canonical request (URI, query, headers, payload hash),
 * the string to sign and the verification of a parsed signature (spec sections 4, 5 and 8). */
#include "aws/sigv4.h"

#include "core/buf.h"
#include "core/log.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char hex_upper[] = "0123456789ABCDEF";

static inline bool unreserved(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static inline int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Header whitespace: SP, HT, CR, LF (obs-fold), VT, FF. */
static const bool ws_table[256] = {
    [' '] = true, ['\t'] = true, ['\r'] = true, ['\n'] = true, ['\v'] = true, ['\f'] = true};

static inline uint8_t ascii_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* The canonical request is built on the verification hot path, so these
 * append without moat_buf_append's per-call limit checks (the buffer has none). */
static inline uint8_t *room(struct moat_buf *b, size_t n)
{
    if (moat_unlikely(b->cap - b->len < n + 1))
        moat_buf_reserve(b, n);
    return b->ptr + b->len;
}

static inline void put_u8(struct moat_buf *b, uint8_t c)
{
    *room(b, 1) = c;
    b->len++;
}

static inline void put(struct moat_buf *b, struct moat_slice s)
{
    uint8_t *o = room(b, s.len);
    if (s.len)
        memcpy(o, s.ptr, s.len);
    b->len += s.len;
}

static inline bool name_eq_nocase(struct moat_slice a, struct moat_slice b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (ascii_lower(a.ptr[i]) != ascii_lower(b.ptr[i]))
            return false;
    return true;
}

/* UriEncode of in into out (3 * in.len bytes suffice). decode_first: percent-
 * decode each valid %XX first (an invalid escape stays a literal '%'). */
static size_t uri_encode(uint8_t *out, struct moat_slice in, bool keep_slash, bool decode_first)
{
    uint8_t *o = out;
    for (size_t i = 0; i < in.len; i++) {
        uint8_t c = in.ptr[i];
        if (decode_first && c == '%' && in.len - i >= 3) {
            int h = hex_value(in.ptr[i + 1]), l = hex_value(in.ptr[i + 2]);
            if (h >= 0 && l >= 0) {
                c = (uint8_t)(h << 4 | l);
                i += 2;
            }
        }
        if (unreserved(c) || (keep_slash && c == '/')) {
            *o++ = c;
        } else {
            o[0] = '%';
            o[1] = (uint8_t)hex_upper[c >> 4];
            o[2] = (uint8_t)hex_upper[c & 15];
            o += 3;
        }
    }
    return (size_t)(o - out);
}

/* RFC 3986 section 5.2.4 dot-segment removal plus collapsing of empty
 * segments, the non-S3 rule (botocore's remove_dot_segments): the result starts
 * with '/' and ends with '/' when the input did and something remains. */
static struct moat_slice normalize_path(struct moat_arena *a, struct moat_slice path)
{
    /* Most paths ("/", "/2015-03-31/functions") are already normal. */
    bool normal = path.ptr[0] == '/';
    for (size_t i = 1; normal && i < path.len; i++)
        normal = !(path.ptr[i - 1] == '/' && (path.ptr[i] == '/' || path.ptr[i] == '.'));
    if (normal)
        return path;
    size_t max_segments = 1;
    for (size_t i = 0; i < path.len; i++)
        max_segments += path.ptr[i] == '/';
    struct moat_slice *segs = moat_arena_alloc(a, max_segments * sizeof(*segs));
    size_t n = 0;
    struct moat_slice rest = path, seg;
    while (moat_slice_split(&rest, '/', &seg)) {
        if (seg.len == 0 || (seg.len == 1 && seg.ptr[0] == '.'))
            continue;
        if (seg.len == 2 && seg.ptr[0] == '.' && seg.ptr[1] == '.') {
            if (n)
                n--;
            continue;
        }
        segs[n++] = seg;
    }
    uint8_t *out = moat_arena_alloc(a, path.len + 2);
    size_t o = 0;
    out[o++] = '/';
    for (size_t i = 0; i < n; i++) {
        if (i)
            out[o++] = '/';
        memcpy(out + o, segs[i].ptr, segs[i].len);
        o += segs[i].len;
    }
    if (n && path.ptr[path.len - 1] == '/')
        out[o++] = '/';
    return moat_slice(out, o);
}

static void append_canonical_uri(struct moat_arena *a, struct moat_buf *b,
                                 const struct sigv4_request *req)
{
    struct moat_slice path = req->path;
    if (path.len == 0) {
        put_u8(b, '/');
        return;
    }
    if (req->s3) {
        /* Single encoding, no normalisation: '.', '..' and '//' belong to keys. */
        uint8_t *p = room(b, 3 * path.len);
        b->len += uri_encode(p, path, true, true);
        return;
    }
    if (!req->unnormalized)
        path = normalize_path(a, path);
    /* Double encoding: the wire form is encoded again, so '%' becomes %25. */
    uint8_t *p = room(b, 3 * path.len);
    b->len += uri_encode(p, path, true, false);
}

struct query_pair {
    struct moat_slice name, value;
};

static int pair_cmp(const void *x, const void *y)
{
    const struct query_pair *p = x, *q = y;
    int c = moat_slice_cmp(p->name, q->name);
    return c ? c : moat_slice_cmp(p->value, q->value);
}

static void sort_pairs(struct query_pair *pairs, size_t n)
{
    if (n > 16) {
        qsort(pairs, n, sizeof(*pairs), pair_cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        struct query_pair v = pairs[i];
        size_t j = i;
        while (j && pair_cmp(&pairs[j - 1], &v) > 0) {
            pairs[j] = pairs[j - 1];
            j--;
        }
        pairs[j] = v;
    }
}

/* Decoded then strictly encoded ('/' too) pairs, sorted by name then value.
 * Presigned requests leave out X-Amz-Signature, and X-Amz-Security-Token too
 * when omit_token. '+' is a literal plus, not a space. */
static void append_canonical_query(struct moat_arena *a, struct moat_buf *b,
                                   const struct sigv4_request *req, bool presigned, bool omit_token)
{
    struct moat_slice q = req->query;
    if (q.len == 0)
        return;
    size_t max_pairs = 1;
    for (size_t i = 0; i < q.len; i++)
        max_pairs += q.ptr[i] == '&';
    struct query_pair *pairs = moat_arena_alloc(a, max_pairs * sizeof(*pairs));
    uint8_t *scratch = moat_arena_alloc(a, 3 * q.len);
    size_t n = 0, used = 0;
    struct moat_slice rest = q, item;
    while (moat_slice_split(&rest, '&', &item)) {
        if (item.len == 0)
            continue;
        struct moat_slice name = item, value = MOAT_NULL_SLICE;
        long eq = moat_slice_index(item, '=');
        if (eq >= 0) {
            name = moat_slice(item.ptr, (size_t)eq);
            value = moat_slice(item.ptr + eq + 1, item.len - (size_t)eq - 1);
        }
        struct query_pair *p = &pairs[n];
        p->name = moat_slice(scratch + used, uri_encode(scratch + used, name, false, true));
        used += p->name.len;
        if (presigned &&
            (moat_slice_eq(p->name, MOAT_LIT("X-Amz-Signature")) ||
             (omit_token && moat_slice_eq(p->name, MOAT_LIT("X-Amz-Security-Token"))))) {
            used -= p->name.len;
            continue;
        }
        p->value = moat_slice(scratch + used, uri_encode(scratch + used, value, false, true));
        used += p->value.len;
        n++;
    }
    sort_pairs(pairs, n);
    size_t total = n;
    for (size_t i = 0; i < n; i++)
        total += pairs[i].name.len + pairs[i].value.len;
    uint8_t *o = room(b, total);
    for (size_t i = 0; i < n; i++) {
        if (i)
            *o++ = '&';
        memcpy(o, pairs[i].name.ptr, pairs[i].name.len);
        o += pairs[i].name.len;
        *o++ = '=';
        if (pairs[i].value.len)
            memcpy(o, pairs[i].value.ptr, pairs[i].value.len);
        o += pairs[i].value.len;
    }
    b->len = (size_t)(o - b->ptr);
}

/* Trimmed value with every whitespace run (obs-fold line breaks included)
 * collapsed to one space; writes at most v.len bytes. */
static size_t canonical_value(uint8_t *out, struct moat_slice v)
{
    const uint8_t *p = v.ptr, *e = v.ptr + v.len;
    while (p < e && ws_table[*p])
        p++;
    while (e > p && ws_table[e[-1]])
        e--;
    uint8_t *o = out;
    while (p < e) {
        uint8_t c = *p++;
        if (!ws_table[c]) {
            *o++ = c;
            continue;
        }
        *o++ = ' ';
        while (ws_table[*p]) /* stops before e: e[-1] is not whitespace */
            p++;
    }
    return (size_t)(o - out);
}

/* "name:v1,v2\n" for every name of SignedHeaders, values of repeated headers
 * joined in arrival order. False when a signed name has no header. */
static bool append_canonical_headers(struct moat_buf *b, const struct sigv4_request *req,
                                     struct moat_slice signed_headers)
{
    struct moat_slice rest = signed_headers, name;
    bool all_present = true;
    while (moat_slice_split(&rest, ';', &name)) {
        uint8_t *o = room(b, name.len + 1);
        for (size_t i = 0; i < name.len; i++)
            o[i] = ascii_lower(name.ptr[i]);
        o[name.len] = ':';
        b->len += name.len + 1;
        bool found = false;
        for (size_t i = 0; i < req->header_count; i++) {
            const struct moat_header *h = &req->headers[i];
            if (!name_eq_nocase(h->name, name))
                continue;
            o = room(b, h->value.len + 1);
            if (found)
                *o++ = ',';
            b->len = (size_t)(o - b->ptr) + canonical_value(o, h->value);
            found = true;
        }
        if (!found)
            all_present = false;
        put_u8(b, '\n');
    }
    return all_present;
}

static bool is_hex64(struct moat_slice s)
{
    if (s.len != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (hex_value(s.ptr[i]) < 0)
            return false;
    return true;
}

/* The body hash, computed once per verification. */
struct body_hash {
    char hex[65];
    bool done, ok;
};

static struct moat_slice body_hash(const struct sigv4_request *req, struct body_hash *h)
{
    if (!h->done) {
        h->done = true;
        if (req->payload_hash.len == 64) {
            memcpy(h->hex, req->payload_hash.ptr, 64);
            h->hex[64] = 0;
            h->ok = true;
        } else if (req->body.len == 0) {
            memcpy(h->hex, EMPTY_SHA256, 65);
            h->ok = true;
        } else {
            h->ok = sigv4_sha256_hex(req->body, h->hex);
        }
    }
    return h->ok ? moat_slice(h->hex, 64) : MOAT_NULL_SLICE;
}

static enum sigv4_status build_canonical(struct moat_arena *a, const struct sigv4_request *req,
                                         const struct sigv4_auth *auth, bool omit_token,
                                         struct body_hash *bh, struct moat_slice *out)
{
    size_t estimate = req->method.len + 3 * req->path.len + 3 * req->query.len +
                      2 * auth->signed_headers.len + auth->content_sha256.len + 96;
    for (size_t i = 0; i < req->header_count; i++)
        estimate += req->headers[i].value.len + 1;
    struct moat_buf b;
    moat_buf_init(&b, a, estimate);

    put(&b, req->method);
    put_u8(&b, '\n');
    append_canonical_uri(a, &b, req);
    put_u8(&b, '\n');
    append_canonical_query(a, &b, req, auth->form == SIGV4_FORM_QUERY, omit_token);
    put_u8(&b, '\n');
    bool present = append_canonical_headers(&b, req, auth->signed_headers);
    put_u8(&b, '\n');
    put(&b, auth->signed_headers);
    put_u8(&b, '\n');

    enum sigv4_status st = present ? SIGV4_OK : SIGV4_SIGNED_HEADER_ABSENT;
    if (req->s3 && auth->form == SIGV4_FORM_QUERY) {
        put(&b, MOAT_LIT("UNSIGNED-PAYLOAD"));
    } else if (req->s3 && auth->content_sha256.len) {
        put(&b, auth->content_sha256);
    } else {
        struct moat_slice h = body_hash(req, bh);
        if (!h.len)
            st = SIGV4_INTERNAL_ERROR;
        put(&b, h);
    }
    *out = moat_buf_slice(&b);
    return st;
}

bool sigv4_canonical_request(struct moat_arena *a, const struct sigv4_request *req,
                             const struct sigv4_auth *auth, struct moat_slice *out)
{
    struct body_hash bh = {.done = false};
    return build_canonical(a, req, auth, auth->token_unsigned, &bh, out) == SIGV4_OK;
}

struct moat_slice sigv4_string_to_sign(struct moat_arena *a, const struct sigv4_auth *auth,
                                       struct moat_slice canonical_request)
{
    char digest[65];
    if (!sigv4_sha256_hex(canonical_request, digest))
        return MOAT_NULL_SLICE;
    struct moat_buf b;
    moat_buf_init(&b, a,
                  17 + auth->amz_date.len + auth->scope_date.len + auth->region.len +
                      auth->service.len + 16 + 66);
    put(&b, MOAT_LIT("AWS4-HMAC-SHA256\n"));
    put(&b, auth->amz_date);
    put_u8(&b, '\n');
    put(&b, auth->scope_date);
    put_u8(&b, '/');
    put(&b, auth->region);
    put_u8(&b, '/');
    put(&b, auth->service);
    put(&b, MOAT_LIT("/aws4_request\n"));
    put(&b, moat_slice(digest, 64));
    return moat_buf_slice(&b);
}

/* Computes the signature over one canonical form and compares it in constant
 * time. *sts receives the string to sign. */
static enum sigv4_status sign_and_compare(struct moat_arena *a, const struct sigv4_auth *auth,
                                          struct moat_slice secret, struct moat_slice creq,
                                          struct moat_slice *sts)
{
    *sts = sigv4_string_to_sign(a, auth, creq);
    char mine[65];
    if (!sts->len ||
        !sigv4_sign_hex(secret, auth->scope_date, auth->region, auth->service, *sts, mine)) {
        moat_log_error("sigv4: OpenSSL failed while computing a signature");
        return SIGV4_INTERNAL_ERROR;
    }
    bool match = auth->signature.len == 64 && CRYPTO_memcmp(mine, auth->signature.ptr, 64) == 0;
    OPENSSL_cleanse(mine, sizeof(mine));
    return match ? SIGV4_OK : SIGV4_MISMATCH;
}

enum sigv4_status sigv4_verify(struct moat_arena *a, const struct sigv4_request *req,
                               const struct sigv4_auth *auth, struct moat_slice secret,
                               struct moat_slice *canonical, struct moat_slice *string_to_sign)
{
    struct moat_slice creq = MOAT_NULL_SLICE, sts = MOAT_NULL_SLICE;
    struct body_hash bh = {.done = false};
    enum sigv4_status st;
    if (auth->form == SIGV4_FORM_NONE) {
        st = SIGV4_MISSING;
        goto out;
    }
    st = build_canonical(a, req, auth, auth->token_unsigned, &bh, &creq);
    if (st != SIGV4_OK)
        goto out;
    st = sign_and_compare(a, auth, secret, creq, &sts);
    if (st == SIGV4_MISMATCH && auth->form == SIGV4_FORM_QUERY && auth->security_token.len &&
        !auth->token_unsigned) {
        /* Some signers append X-Amz-Security-Token after signing (spec section 6:
         * accept both); the first attempt's forms are what a mismatch reports. */
        struct moat_slice creq2, sts2;
        if (build_canonical(a, req, auth, true, &bh, &creq2) == SIGV4_OK)
            st = sign_and_compare(a, auth, secret, creq2, &sts2);
    }
    if (st != SIGV4_OK)
        goto out;

    struct moat_slice claimed = auth->content_sha256;
    if (req->s3 && is_hex64(claimed)) {
        /* The signature covers the claimed hash; now hold the body to it. */
        struct moat_slice h = body_hash(req, &bh);
        if (!h.len)
            st = SIGV4_INTERNAL_ERROR;
        else if (!moat_slice_eq_nocase(h, claimed))
            st = SIGV4_BODY_HASH_MISMATCH;
    } else if (!req->s3 && claimed.len) {
        /* Non-S3 signs the real body hash; a different claim is refused. */
        struct moat_slice h = body_hash(req, &bh);
        if (!h.len)
            st = SIGV4_INTERNAL_ERROR;
        else if (!moat_slice_eq_nocase(h, claimed))
            st = SIGV4_MISMATCH;
    }
out:
    if (canonical)
        *canonical = creq;
    if (string_to_sign)
        *string_to_sign = sts;
    return st;
}

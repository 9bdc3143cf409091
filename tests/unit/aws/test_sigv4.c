/* test_sigv4.c: SigV4 verification against every shared vector (v4 suite,
 * botocore captures, S3 streaming), then tampering, malformed input and the error table. */
#include "harness.h"

#include "aws/sigv4.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "core/json.h"

#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define MAX_HEADERS 128

/* ---- helpers ------------------------------------------------------------ */

struct treq {
    struct sigv4_request req;
    struct moat_header *headers; /* MAX_HEADERS slots */
};

static void treq_init(struct moat_arena *a, struct treq *t)
{
    memset(t, 0, sizeof(*t));
    t->headers = moat_arena_calloc(a, MAX_HEADERS * sizeof(*t->headers));
    t->req.headers = t->headers;
}

static void add_header(struct treq *t, struct moat_slice name, struct moat_slice value)
{
    if (t->req.header_count < MAX_HEADERS)
        t->headers[t->req.header_count++] = (struct moat_header){name, value};
}

static void add_header_c(struct treq *t, const char *name, const char *value)
{
    add_header(t, moat_slice_cstr(name), moat_slice_cstr(value));
}

static struct moat_header *get_header(struct treq *t, const char *name)
{
    for (size_t i = 0; i < t->req.header_count; i++)
        if (moat_slice_eq_nocase(t->headers[i].name, moat_slice_cstr(name)))
            return &t->headers[i];
    return NULL;
}

static void remove_header(struct treq *t, const char *name)
{
    size_t o = 0;
    for (size_t i = 0; i < t->req.header_count; i++)
        if (!moat_slice_eq_nocase(t->headers[i].name, moat_slice_cstr(name)))
            t->headers[o++] = t->headers[i];
    t->req.header_count = o;
}

static void set_target(struct treq *t, struct moat_slice target)
{
    long q = moat_slice_index(target, '?');
    if (q < 0) {
        t->req.path = target;
        t->req.query = MOAT_NULL_SLICE;
    } else {
        t->req.path = moat_slice(target.ptr, (size_t)q);
        t->req.query = moat_slice_sub(target, (size_t)q + 1, target.len);
    }
}

/* A request in the v4 suite's text form: request line split on the first and
 * last space, header lines (a leading space or tab continues the previous
 * one, kept raw so the canonicaliser sees the fold), a blank line, the body. */
static bool parse_request_text(struct moat_arena *a, struct moat_slice text, struct treq *t)
{
    treq_init(a, t);
    struct moat_slice head = text, body = MOAT_LIT("");
    for (size_t i = 0; i + 1 < text.len; i++) {
        if (text.ptr[i] == '\n' && text.ptr[i + 1] == '\n') {
            head = moat_slice(text.ptr, i);
            body = moat_slice_sub(text, i + 2, text.len);
            break;
        }
    }
    struct moat_slice rest = head, line;
    if (!moat_slice_split(&rest, '\n', &line))
        return false;
    long first = moat_slice_index(line, ' ');
    long last = -1;
    for (size_t i = line.len; i > 0; i--)
        if (line.ptr[i - 1] == ' ') {
            last = (long)i - 1;
            break;
        }
    if (first < 0 || last <= first)
        return false;
    t->req.method = moat_slice(line.ptr, (size_t)first);
    set_target(t, moat_slice_sub(line, (size_t)first + 1, (size_t)last));
    while (moat_slice_split(&rest, '\n', &line)) {
        if (line.len == 0)
            continue;
        if ((line.ptr[0] == ' ' || line.ptr[0] == '\t') && t->req.header_count) {
            struct moat_header *h = &t->headers[t->req.header_count - 1];
            h->value.len = (size_t)(line.ptr + line.len - h->value.ptr);
            continue;
        }
        long colon = moat_slice_index(line, ':');
        if (colon < 0)
            return false;
        add_header(t, moat_slice(line.ptr, (size_t)colon),
                   moat_slice_sub(line, (size_t)colon + 1, line.len));
    }
    t->req.body = body;
    return true;
}

static struct moat_value *load_json(struct moat_arena *a, const char *path)
{
    struct moat_slice text = moat_test_read_file(a, path);
    struct moat_value *v = NULL;
    struct moat_json_error err;
    if (!text.ptr || !moat_json_parse(a, text, 0, &v, &err))
        return NULL;
    return v;
}

static int cmp_names(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Sorted subdirectory names of a shared directory; count 0 if it cannot be read. */
static char **list_dir(struct moat_arena *a, const char *rel, size_t *count)
{
    *count = 0;
    DIR *d = opendir(moat_test_shared_path(rel));
    if (!d)
        return NULL;
    char **names = moat_arena_alloc(a, 256 * sizeof(*names));
    struct dirent *e;
    while ((e = readdir(d)) && *count < 256) {
        if (e->d_name[0] == '.')
            continue;
        names[(*count)++] = moat_arena_strdup(a, e->d_name);
    }
    closedir(d);
    qsort(names, *count, sizeof(*names), cmp_names);
    return names;
}

/* vectors/sigv4/<group>/<name>/<file>; NULL slice if missing. */
static struct moat_slice read_vector(struct moat_arena *a, const char *group, const char *name,
                                     const char *file)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "vectors/sigv4/%s/%s/%s", group, name, file);
    return moat_test_read_file(a, moat_test_shared_path(rel));
}

static int64_t basic_time(const char *s)
{
    int64_t t = 0;
    if (!moat_time_parse_basic(moat_slice_cstr(s), &t))
        return -1;
    return t;
}

#define VECTOR_NOW basic_time("20150830T123600Z")

static bool slice_eq_report(struct moat_slice got, struct moat_slice want, const char *what,
                            const char *name)
{
    if (moat_slice_eq(got, want))
        return true;
    fprintf(stderr, "  %s: %s differs\n--- got\n%.*s\n--- expected\n%.*s\n", name, what,
            MOAT_FMT(got), MOAT_FMT(want));
    return false;
}

/* Signs a request with the library's own pieces (for cases no vector covers):
 * sets X-Amz-Date and Authorization over `signed_headers`. */
static void self_sign(struct moat_arena *a, struct treq *t, const char *scope_region,
                      const char *service, const char *amz_date, const char *signed_headers,
                      const char *secret)
{
    if (amz_date && !get_header(t, "x-amz-date"))
        add_header_c(t, "X-Amz-Date", amz_date);
    struct sigv4_auth auth = {
        .form = SIGV4_FORM_HEADER,
        .access_key_id = MOAT_LIT("AKIDEXAMPLE"),
        .scope_date = moat_slice(amz_date, 8),
        .region = moat_slice_cstr(scope_region),
        .service = moat_slice_cstr(service),
        .signed_headers = moat_slice_cstr(signed_headers),
        .amz_date = moat_slice_cstr(amz_date),
    };
    struct moat_slice v;
    if (sigv4_find_header(&t->req, "x-amz-content-sha256", &v))
        auth.content_sha256 = v;
    struct moat_slice creq;
    sigv4_canonical_request(a, &t->req, &auth, &creq);
    struct moat_slice sts = sigv4_string_to_sign(a, &auth, creq);
    char sig[65];
    CHECK(sigv4_sign_hex(moat_slice_cstr(secret), auth.scope_date, auth.region, auth.service, sts,
                         sig));
    add_header(t, MOAT_LIT("Authorization"),
               moat_slice_cstr(moat_arena_printf(
                   a,
                   "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/%.8s/%s/%s/aws4_request, "
                   "SignedHeaders=%s, Signature=%s",
                   amz_date, scope_region, service, signed_headers, sig)));
}

/* ---- the v4 suite -------------------------------------------------------- */

static void run_v4_case(struct moat_arena *a, const char *name, const char *variant, int *ok)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "vectors/sigv4/v4/%s/context.json", name);
    struct moat_value *ctx = load_json(a, moat_test_shared_path(rel));
    CHECK(ctx != NULL);
    if (!ctx)
        return;
    struct moat_value *creds = moat_map_get(ctx, "credentials");
    struct moat_slice secret = moat_map_str(creds, "secret_access_key");
    bool normalize = moat_map_bool(ctx, "normalize", true);
    bool omit_token = moat_map_bool(ctx, "omit_session_token", false);
    int64_t ts_ms = 0;
    CHECK(moat_time_parse_iso8601(moat_map_str(ctx, "timestamp"), &ts_ms));

    char file[128];
    snprintf(file, sizeof(file), "%s-signed-request.txt", variant);
    struct moat_slice text = read_vector(a, "v4", name, file);
    snprintf(file, sizeof(file), "%s-canonical-request.txt", variant);
    struct moat_slice want_creq = read_vector(a, "v4", name, file);
    snprintf(file, sizeof(file), "%s-string-to-sign.txt", variant);
    struct moat_slice want_sts = read_vector(a, "v4", name, file);
    snprintf(file, sizeof(file), "%s-signature.txt", variant);
    struct moat_slice want_sig = moat_slice_trim(read_vector(a, "v4", name, file));
    CHECK(text.ptr && want_creq.ptr && want_sts.ptr && want_sig.len == 64);

    struct treq t;
    CHECK(parse_request_text(a, text, &t));
    t.req.unnormalized = !normalize;

    struct sigv4_auth auth;
    const char *detail = NULL;
    const char *region = moat_arena_cstr(a, moat_map_str(ctx, "region"));
    const char *service = moat_arena_cstr(a, moat_map_str(ctx, "service"));
    enum sigv4_status st = sigv4_parse(a, &t.req, region, service, ts_ms / 1000, &auth, &detail);
    if (st != SIGV4_OK) {
        fprintf(stderr, "  %s/%s: parse %s (%s)\n", name, variant, sigv4_status_name(st),
                detail ? detail : "");
        CHECK_EQ_INT(st, SIGV4_OK);
        return;
    }
    CHECK(moat_slice_eq(auth.signature, want_sig));
    CHECK_EQ_INT(auth.form, strcmp(variant, "query") == 0 ? SIGV4_FORM_QUERY : SIGV4_FORM_HEADER);
    if (auth.form == SIGV4_FORM_QUERY) {
        CHECK_EQ_INT(auth.expires, 3600);
        auth.token_unsigned = omit_token;
    }

    struct moat_slice creq;
    CHECK(sigv4_canonical_request(a, &t.req, &auth, &creq));
    bool good = slice_eq_report(creq, want_creq, "canonical request", name);
    struct moat_slice sts = sigv4_string_to_sign(a, &auth, creq);
    good &= slice_eq_report(sts, want_sts, "string to sign", name);
    char sig[65];
    CHECK(sigv4_sign_hex(secret, auth.scope_date, auth.region, auth.service, want_sts, sig));
    good &= slice_eq_report(moat_slice(sig, 64), want_sig, "signature", name);

    /* verify must find the right form by itself (the query token retry included). */
    auth.token_unsigned = false;
    struct moat_slice vc, vs;
    st = sigv4_verify(a, &t.req, &auth, secret, &vc, &vs);
    if (st != SIGV4_OK)
        fprintf(stderr, "  %s/%s: verify %s\n", name, variant, sigv4_status_name(st));
    good &= st == SIGV4_OK;
    CHECK(good);
    if (good)
        (*ok)++;
}

static void run_v4_suite(struct moat_arena *a, const char *variant)
{
    size_t n;
    char **names = list_dir(a, "vectors/sigv4/v4", &n);
    CHECK_EQ_INT(n, 38);
    int ok = 0;
    for (size_t i = 0; i < n; i++)
        run_v4_case(a, names[i], variant, &ok);
    CHECK_EQ_INT(ok, (long long)n);
}

MOAT_TEST(v4_suite_header)
{
    run_v4_suite(a, "header");
}

MOAT_TEST(v4_suite_query)
{
    run_v4_suite(a, "query");
}

/* ---- botocore captures --------------------------------------------------- */

struct captured {
    struct treq t;
    struct moat_value *c;
    struct moat_slice secret, canonical, string_to_sign, signature;
    const char *region, *service;
    int64_t now;
};

/* The request from case.json: url (or presigned_url), headers, body; Host comes from the URL. */
static bool load_captured(struct moat_arena *a, const char *name, struct captured *cap)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "vectors/sigv4/sdk-captured/%s/case.json", name);
    cap->c = load_json(a, moat_test_shared_path(rel));
    if (!cap->c)
        return false;
    struct moat_value *c = cap->c, *r = moat_map_get(c, "request");
    cap->secret = moat_map_str(moat_map_get(c, "credentials"), "secret_access_key");
    cap->canonical = moat_map_str(c, "canonical_request");
    cap->string_to_sign = moat_map_str(c, "string_to_sign");
    cap->signature = moat_map_str(c, "signature");
    cap->region = moat_arena_cstr(a, moat_map_str(c, "region"));
    cap->service = moat_arena_cstr(a, moat_map_str(c, "service"));
    cap->now = basic_time(moat_arena_cstr(a, moat_map_str(c, "timestamp")));

    struct moat_slice url = moat_map_str(c, "presigned_url");
    if (!url.len)
        url = moat_map_str(r, "url");
    long scheme = moat_slice_index(url, ':');
    if (scheme < 0 || url.len < (size_t)scheme + 3)
        return false;
    struct moat_slice after = moat_slice_sub(url, (size_t)scheme + 3, url.len);
    long slash = moat_slice_index(after, '/');
    struct moat_slice host = slash < 0 ? after : moat_slice(after.ptr, (size_t)slash);
    treq_init(a, &cap->t);
    cap->t.req.s3 = moat_map_bool(c, "s3_rules", false);
    set_target(&cap->t,
               slash < 0 ? MOAT_LIT("/") : moat_slice_sub(after, (size_t)slash, after.len));
    add_header(&cap->t, MOAT_LIT("Host"), host);
    if (moat_map_str(c, "presigned_url").len) {
        cap->t.req.method = MOAT_LIT("GET");
        cap->t.req.body = MOAT_LIT("");
        return true;
    }
    cap->t.req.method = moat_map_str(r, "method");
    struct moat_value *hs = moat_map_get(r, "headers");
    for (uint32_t i = 0; hs && i < hs->count; i++) {
        struct moat_value *pair = hs->u.items[i];
        if (pair->type != MOAT_V_LIST || pair->count != 2)
            return false;
        add_header(&cap->t, pair->u.items[0]->u.s, pair->u.items[1]->u.s);
    }
    return moat_base64_decode(a, moat_map_str(r, "body_base64"), &cap->t.req.body);
}

MOAT_TEST(sdk_captured)
{
    size_t n;
    char **names = list_dir(a, "vectors/sigv4/sdk-captured", &n);
    CHECK_EQ_INT(n, 12);
    for (size_t i = 0; i < n; i++) {
        struct captured cap;
        if (!load_captured(a, names[i], &cap)) {
            fprintf(stderr, "  %s: cannot load\n", names[i]);
            CHECK(false);
            continue;
        }
        struct sigv4_auth auth;
        const char *detail;
        enum sigv4_status st =
            sigv4_parse(a, &cap.t.req, cap.region, cap.service, cap.now, &auth, &detail);
        if (st != SIGV4_OK) {
            fprintf(stderr, "  %s: parse %s (%s)\n", names[i], sigv4_status_name(st),
                    detail ? detail : "");
            CHECK(false);
            continue;
        }
        struct moat_slice creq, sts;
        CHECK(sigv4_canonical_request(a, &cap.t.req, &auth, &creq));
        CHECK(slice_eq_report(creq, cap.canonical, "canonical request", names[i]));
        sts = sigv4_string_to_sign(a, &auth, creq);
        CHECK(slice_eq_report(sts, cap.string_to_sign, "string to sign", names[i]));
        CHECK(moat_slice_eq(auth.signature, cap.signature));
        st = sigv4_verify(a, &cap.t.req, &auth, cap.secret, NULL, NULL);
        if (st != SIGV4_OK)
            fprintf(stderr, "  %s: verify %s\n", names[i], sigv4_status_name(st));
        CHECK_EQ_INT(st, SIGV4_OK);
    }
}

MOAT_TEST(sdk_captured_session_tokens)
{
    struct captured cap;
    CHECK(load_captured(a, "s3-presign-get-session-token", &cap));
    struct sigv4_auth auth;
    const char *detail;
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-west-2", "s3", cap.now, &auth, &detail), SIGV4_OK);
    CHECK_SLICE(auth.security_token,
                "IQoJb3JpZ2luX2VjEXAMPLETOKEN//////////wEaCXVzLWVhc3QtMSJHMEUCIQExample==");
    CHECK_EQ_INT(auth.expires, 604800);
    /* Presigned for a week: valid on its last second, expired one second later. */
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-west-2", "s3", cap.now + 604800, &auth, &detail),
                 SIGV4_OK);
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-west-2", "s3", cap.now + 604801, &auth, &detail),
                 SIGV4_EXPIRED);

    CHECK(load_captured(a, "iam-create-user-query-token", &cap));
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "iam", cap.now, &auth, &detail), SIGV4_OK);
    CHECK_SLICE(auth.security_token,
                "IQoJb3JpZ2luX2VjEXAMPLETOKEN//////////wEaCXVzLWVhc3QtMSJHMEUCIQExample==");
    /* A token changed after signing breaks the signature (it is signed here). */
    get_header(&cap.t, "x-amz-security-token")->value = MOAT_LIT("forged");
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "iam", cap.now, &auth, &detail), SIGV4_OK);
    CHECK_EQ_INT(sigv4_verify(a, &cap.t.req, &auth, cap.secret, NULL, NULL), SIGV4_MISMATCH);
}

MOAT_TEST(sdk_captured_unsigned_trailer)
{
    struct captured cap;
    CHECK(load_captured(a, "s3-put-object-unsigned-trailer", &cap));
    struct sigv4_auth auth;
    const char *detail;
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "s3", cap.now, &auth, &detail), SIGV4_OK);
    CHECK_EQ_INT(sigv4_verify(a, &cap.t.req, &auth, cap.secret, NULL, NULL), SIGV4_OK);
    struct sigv4_chunked_result out;
    CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, cap.secret, cap.t.req.body, &out, &detail),
                 SIGV4_OK);
    CHECK_SLICE(out.payload, "Hello, moat! This is the object body.\n");
    CHECK_EQ_INT(out.payload.len, 38); /* x-amz-decoded-content-length */
    CHECK_EQ_INT(out.trailer_count, 1);
    if (out.trailer_count == 1) {
        CHECK_SLICE(out.trailers[0].name, "x-amz-checksum-crc32");
        CHECK_SLICE(out.trailers[0].value, "o4bMaw==");
    }
    /* Every truncation of the body is refused, never read past. */
    for (size_t cut = 0; cut < cap.t.req.body.len; cut++) {
        struct moat_slice w = moat_slice(cap.t.req.body.ptr, cut);
        CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, cap.secret, w, &out, &detail), SIGV4_MALFORMED);
    }
    /* A chunk size larger than the data, a bad size, garbage after the end. */
    CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, cap.secret, MOAT_LIT("27\r\nabc\r\n0\r\n\r\n"),
                                      &out, &detail),
                 SIGV4_MALFORMED);
    CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, cap.secret, MOAT_LIT("zz\r\nabc\r\n0\r\n\r\n"),
                                      &out, &detail),
                 SIGV4_MALFORMED);
    CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, cap.secret, MOAT_LIT("3\r\nabc\r\n0\r\n\r\nX"),
                                      &out, &detail),
                 SIGV4_MALFORMED);
    CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, cap.secret, MOAT_LIT("3\r\nabcd\r\n0\r\n\r\n"),
                                      &out, &detail),
                 SIGV4_MALFORMED);
    CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, cap.secret,
                                      MOAT_LIT("11111111111111111\r\nabc\r\n0\r\n\r\n"), &out,
                                      &detail),
                 SIGV4_MALFORMED);
    /* An unsigned trailer may not pretend to be signed. */
    CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, cap.secret,
                                      MOAT_LIT("0\r\nx-amz-trailer-signature:00\r\n\r\n"), &out,
                                      &detail),
                 SIGV4_MALFORMED);
    /* Chunk extensions are tolerated; no trailers at all is fine. */
    CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, cap.secret, MOAT_LIT("3;x=y\r\nabc\r\n0\r\n\r\n"),
                                      &out, &detail),
                 SIGV4_OK);
    CHECK_SLICE(out.payload, "abc");
    CHECK_EQ_INT(out.trailer_count, 0);
}

/* ---- S3 streaming vectors ------------------------------------------------ */

struct streaming {
    struct treq t;
    struct moat_value *c;
    struct moat_slice secret, body;
    int64_t now;
};

static bool load_streaming(struct moat_arena *a, const char *name, struct streaming *s)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "vectors/sigv4/s3-streaming/%s/case.json", name);
    s->c = load_json(a, moat_test_shared_path(rel));
    s->body = read_vector(a, "s3-streaming", name, "body.bin");
    if (!s->c || !s->body.ptr)
        return false;
    s->secret = moat_map_str(moat_map_get(s->c, "credentials"), "secret_access_key");
    s->now = basic_time(moat_arena_cstr(a, moat_map_str(s->c, "timestamp")));
    struct moat_slice line = moat_map_str(s->c, "request_line");
    long sp1 = moat_slice_index(line, ' ');
    struct moat_slice rest = moat_slice_sub(line, (size_t)sp1 + 1, line.len);
    long sp2 = moat_slice_index(rest, ' ');
    treq_init(a, &s->t);
    s->t.req.s3 = true;
    s->t.req.method = moat_slice(line.ptr, (size_t)sp1);
    set_target(&s->t, moat_slice(rest.ptr, (size_t)sp2));
    struct moat_value *seed = moat_map_get(s->c, "seed"), *hs = moat_map_get(seed, "headers");
    for (uint32_t i = 0; hs && i < hs->count; i++)
        add_header(&s->t, hs->u.entries[i].key, hs->u.entries[i].value->u.s);
    add_header(&s->t, MOAT_LIT("Authorization"), moat_map_str(seed, "authorization"));
    s->t.req.body = s->body;
    return true;
}

/* The position of the n-th "chunk-signature=" value in the body. */
static size_t chunk_sig_offset(struct moat_slice body, int n)
{
    static const char key[] = "chunk-signature=";
    for (size_t i = 0; i + sizeof(key) - 1 < body.len; i++) {
        if (memcmp(body.ptr + i, key, sizeof(key) - 1) == 0 && n-- == 0)
            return i + sizeof(key) - 1;
    }
    return 0;
}

static void run_streaming(struct moat_arena *a, const char *name, bool trailer)
{
    struct streaming s;
    CHECK(load_streaming(a, name, &s));
    if (!s.c)
        return;
    struct moat_value *seed = moat_map_get(s.c, "seed");
    struct sigv4_auth auth;
    const char *detail;
    CHECK_EQ_INT(sigv4_parse(a, &s.t.req, "us-east-1", "s3", s.now, &auth, &detail), SIGV4_OK);
    struct moat_slice creq;
    CHECK(sigv4_canonical_request(a, &s.t.req, &auth, &creq));
    CHECK(slice_eq_report(creq, moat_map_str(seed, "canonical_request"), "seed canonical", name));
    CHECK(slice_eq_report(sigv4_string_to_sign(a, &auth, creq),
                          moat_map_str(seed, "string_to_sign"), "seed string to sign", name));
    CHECK_EQ_INT(sigv4_verify(a, &s.t.req, &auth, s.secret, NULL, NULL), SIGV4_OK);

    /* Each chunk's signature in the body is the one case.json derives. */
    struct moat_value *chunks = moat_map_get(s.c, "chunks");
    CHECK(chunks && chunks->count == 3);
    for (uint32_t i = 0; chunks && i < chunks->count; i++) {
        size_t off = chunk_sig_offset(s.body, (int)i);
        struct moat_slice want = moat_map_str(chunks->u.items[i], "signature");
        CHECK(off && moat_slice_eq(moat_slice(s.body.ptr + off, 64), want));
        char mine[65];
        CHECK(sigv4_sign_hex(s.secret, auth.scope_date, auth.region, auth.service,
                             moat_map_str(chunks->u.items[i], "string_to_sign"), mine));
        CHECK(moat_slice_eq(moat_slice(mine, 64), want));
    }

    struct sigv4_chunked_result out;
    CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, s.secret, s.body, &out, &detail), SIGV4_OK);
    CHECK_EQ_INT(out.payload.len, 66560);
    bool all_a = out.payload.len == 66560;
    for (size_t i = 0; all_a && i < out.payload.len; i++)
        all_a = out.payload.ptr[i] == 'a';
    CHECK(all_a);
    if (trailer) {
        CHECK_EQ_INT(out.trailer_count, 1);
        if (out.trailer_count) {
            CHECK_SLICE(out.trailers[0].name, "x-amz-checksum-crc32c");
            CHECK_SLICE(out.trailers[0].value, "sOO8/Q==");
        }
    } else {
        CHECK_EQ_INT(out.trailer_count, 0);
    }

    /* Tampering: each chunk signature, a data byte, the trailer. */
    uint8_t *copy = moat_arena_alloc(a, s.body.len);
    struct moat_slice w = moat_slice(copy, s.body.len);
    for (int i = 0; i < 3; i++) {
        memcpy(copy, s.body.ptr, s.body.len);
        size_t off = chunk_sig_offset(s.body, i);
        copy[off + 10] = copy[off + 10] == '0' ? '1' : '0';
        CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, s.secret, w, &out, &detail), SIGV4_MISMATCH);
        CHECK(out.payload.len == 0);
    }
    memcpy(copy, s.body.ptr, s.body.len);
    copy[1000] = 'b'; /* a data byte of the first chunk */
    CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, s.secret, w, &out, &detail), SIGV4_MISMATCH);
    if (trailer) {
        memcpy(copy, s.body.ptr, s.body.len);
        uint8_t *crc = memmem(copy, s.body.len, "sOO8/Q==", 8);
        CHECK(crc != NULL);
        if (crc) {
            crc[0] = 't';
            CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, s.secret, w, &out, &detail),
                         SIGV4_MISMATCH);
        }
        /* Without the trailer signature line. */
        uint8_t *sigline = memmem(s.body.ptr, s.body.len, "x-amz-trailer-signature:", 24);
        CHECK(sigline != NULL);
        if (sigline) {
            size_t head = (size_t)(sigline - s.body.ptr);
            memcpy(copy, s.body.ptr, head);
            memcpy(copy + head, "\r\n", 2);
            CHECK_EQ_INT(
                sigv4_decode_chunked(a, &auth, s.secret, moat_slice(copy, head + 2), &out, &detail),
                SIGV4_MALFORMED);
        }
    }
    /* Wrong secret: the first chunk already fails. */
    CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, MOAT_LIT("not-the-secret"), s.body, &out, &detail),
                 SIGV4_MISMATCH);
    /* Truncations at interesting places: in a size line, in data, before the final CRLF. */
    size_t cuts[] = {0, 3, 20, 90, 5000, 65536 + 86, 66000, s.body.len - 1, s.body.len - 2};
    for (size_t i = 0; i < MOAT_COUNT(cuts); i++) {
        CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, s.secret, moat_slice(s.body.ptr, cuts[i]), &out,
                                          &detail),
                     SIGV4_MALFORMED);
    }
    /* A body whose header announces something else. */
    struct sigv4_auth other = auth;
    other.content_sha256 = MOAT_LIT("UNSIGNED-PAYLOAD");
    CHECK_EQ_INT(sigv4_decode_chunked(a, &other, s.secret, s.body, &out, &detail),
                 SIGV4_BAD_CONTENT_SHA256);
}

MOAT_TEST(s3_streaming_signed)
{
    run_streaming(a, "streaming-signed", false);
}

MOAT_TEST(s3_streaming_signed_trailer)
{
    run_streaming(a, "streaming-signed-trailer", true);
}

/* A small signed aws-chunked body built here, so every prefix can be tried. */
MOAT_TEST(chunked_every_truncation)
{
    struct sigv4_auth auth = {
        .form = SIGV4_FORM_HEADER,
        .scope_date = MOAT_LIT("20130524"),
        .region = MOAT_LIT("us-east-1"),
        .service = MOAT_LIT("s3"),
        .amz_date = MOAT_LIT("20130524T000000Z"),
        .content_sha256 = MOAT_LIT("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        .signature = MOAT_LIT("4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"),
    };
    struct moat_slice secret = MOAT_LIT("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    const char *datas[] = {"hello", "abc", ""};
    char prev[65];
    memcpy(prev, auth.signature.ptr, 64);
    prev[64] = 0;
    struct moat_buf body;
    moat_buf_init(&body, a, 512);
    for (size_t i = 0; i < MOAT_COUNT(datas); i++) {
        char hash[65], sig[65];
        CHECK(sigv4_sha256_hex(moat_slice_cstr(datas[i]), hash));
        const char *sts = moat_arena_printf(
            a,
            "AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n%s\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n%s",
            prev, hash);
        CHECK(sigv4_sign_hex(secret, auth.scope_date, auth.region, auth.service,
                             moat_slice_cstr(sts), sig));
        moat_buf_printf(&body, "%zx;chunk-signature=%s\r\n%s%s", strlen(datas[i]), sig, datas[i],
                        *datas[i] ? "\r\n" : "");
        memcpy(prev, sig, 65);
    }
    moat_buf_append(&body, MOAT_LIT("\r\n"));
    struct sigv4_chunked_result out;
    const char *detail;
    CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, secret, moat_buf_slice(&body), &out, &detail),
                 SIGV4_OK);
    CHECK_SLICE(out.payload, "helloabc");
    for (size_t cut = 0; cut < body.len; cut++) {
        enum sigv4_status st =
            sigv4_decode_chunked(a, &auth, secret, moat_slice(body.ptr, cut), &out, &detail);
        CHECK(st == SIGV4_MALFORMED);
        CHECK(detail != NULL);
    }
    /* Every single-byte corruption is caught, by framing or by signature. */
    uint8_t *copy = moat_arena_alloc(a, body.len);
    for (size_t i = 0; i < body.len; i++) {
        memcpy(copy, body.ptr, body.len);
        copy[i] ^= 0x01;
        enum sigv4_status st =
            sigv4_decode_chunked(a, &auth, secret, moat_slice(copy, body.len), &out, &detail);
        CHECK(st == SIGV4_MALFORMED || st == SIGV4_MISMATCH);
    }
    /* A wrong seed signature (not what the headers were verified with). */
    auth.signature = MOAT_LIT("5f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, secret, moat_buf_slice(&body), &out, &detail),
                 SIGV4_MISMATCH);
    auth.signature = MOAT_LIT("short");
    CHECK_EQ_INT(sigv4_decode_chunked(a, &auth, secret, moat_buf_slice(&body), &out, &detail),
                 SIGV4_MALFORMED);
}

/* ---- negative cases on a JSON (KMS) request ------------------------------ */

static void load_kms(struct moat_arena *a, struct captured *cap)
{
    CHECK(load_captured(a, "kms-list-keys-json", cap));
}

static enum sigv4_status parse_and_verify(struct moat_arena *a, struct captured *cap,
                                          const char *region, const char *service, int64_t now,
                                          struct moat_slice secret, const char **detail)
{
    struct sigv4_auth auth;
    enum sigv4_status st = sigv4_parse(a, &cap->t.req, region, service, now, &auth, detail);
    if (st != SIGV4_OK)
        return st;
    return sigv4_verify(a, &cap->t.req, &auth, secret, NULL, NULL);
}

MOAT_TEST(tampering)
{
    struct captured cap;
    const char *detail;
    load_kms(a, &cap);
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "kms", cap.now, cap.secret, &detail),
                 SIGV4_OK);
    /* Body. */
    struct moat_slice body = cap.t.req.body;
    cap.t.req.body = MOAT_LIT("{\"Limit\": 11}");
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "kms", cap.now, cap.secret, &detail),
                 SIGV4_MISMATCH);
    cap.t.req.body = body;
    /* A signed header. */
    struct moat_header *target = get_header(&cap.t, "x-amz-target");
    target->value = MOAT_LIT("TrentService.CreateKey");
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "kms", cap.now, cap.secret, &detail),
                 SIGV4_MISMATCH);
    target->value = MOAT_LIT("TrentService.ListKeys");
    /* Whitespace a proxy might add is canonicalised away. */
    target->value = MOAT_LIT("  TrentService.ListKeys\t ");
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "kms", cap.now, cap.secret, &detail),
                 SIGV4_OK);
    /* An unsigned header changes nothing. */
    add_header_c(&cap.t, "X-Forwarded-For", "10.0.0.1");
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "kms", cap.now, cap.secret, &detail),
                 SIGV4_OK);
    /* A second copy of a signed header joins the canonical value. */
    add_header_c(&cap.t, "x-amz-target", "TrentService.CreateKey");
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "kms", cap.now, cap.secret, &detail),
                 SIGV4_MISMATCH);
    remove_header(&cap.t, "x-amz-target");
    /* A signed header missing altogether. */
    struct sigv4_auth auth;
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail), SIGV4_OK);
    struct moat_slice creq, sts;
    CHECK_EQ_INT(sigv4_verify(a, &cap.t.req, &auth, cap.secret, &creq, &sts),
                 SIGV4_SIGNED_HEADER_ABSENT);
    CHECK(!sigv4_canonical_request(a, &cap.t.req, &auth, &creq));
    /* Method and path. */
    load_kms(a, &cap);
    cap.t.req.method = MOAT_LIT("PUT");
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "kms", cap.now, cap.secret, &detail),
                 SIGV4_MISMATCH);
    load_kms(a, &cap);
    cap.t.req.path = MOAT_LIT("/x");
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "kms", cap.now, cap.secret, &detail),
                 SIGV4_MISMATCH);
    load_kms(a, &cap);
    cap.t.req.query = MOAT_LIT("a=b");
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "kms", cap.now, cap.secret, &detail),
                 SIGV4_MISMATCH);
    /* Wrong secret, and a mismatch reports what the server computed. */
    load_kms(a, &cap);
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail), SIGV4_OK);
    CHECK_EQ_INT(sigv4_verify(a, &cap.t.req, &auth, MOAT_LIT(SECRET "x"), &creq, &sts),
                 SIGV4_MISMATCH);
    CHECK(moat_slice_eq(creq, cap.canonical));
    CHECK(moat_slice_eq(sts, cap.string_to_sign));
    CHECK_EQ_INT(sigv4_verify(a, &cap.t.req, &auth, MOAT_LIT(""), NULL, NULL), SIGV4_MISMATCH);
    /* A body hash supplied by the caller replaces hashing the body. */
    cap.t.req.payload_hash =
        MOAT_LIT("27261e95e84c95770ce9744c8eed1c616d328daf7f839696d078583648979046");
    cap.t.req.body = MOAT_LIT("ignored");
    CHECK_EQ_INT(sigv4_verify(a, &cap.t.req, &auth, cap.secret, NULL, NULL), SIGV4_OK);
    cap.t.req.payload_hash =
        MOAT_LIT("37261e95e84c95770ce9744c8eed1c616d328daf7f839696d078583648979046");
    CHECK_EQ_INT(sigv4_verify(a, &cap.t.req, &auth, cap.secret, NULL, NULL), SIGV4_MISMATCH);
}

MOAT_TEST(bad_signature_values)
{
    struct captured cap;
    const char *detail;
    struct sigv4_auth auth;
    load_kms(a, &cap);
    struct moat_header *h = get_header(&cap.t, "authorization");
    const char *base = moat_arena_cstr(a, h->value);
    const char *sig = strstr(base, "Signature=") + 10;
    size_t prefix = (size_t)(sig - base);
    const char *variants[] = {
        "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
        "F9E0359780C2E22942D0771CBFE5430BF7232A6234F750E0E8A9BE888D5CDD42",  /* uppercase */
        "f9e0359780c2e22942d0771cbfe5430bf7232a6234f750e0e8a9be888d5cdd4",   /* 63 */
        "f9e0359780c2e22942d0771cbfe5430bf7232a6234f750e0e8a9be888d5cdd420", /* 65 */
        "f9e0359780c2e22942d0771cbfe5430bf7232a6234f750e0e8a9be888d5cdd43",
    };
    for (size_t i = 0; i < MOAT_COUNT(variants); i++) {
        h->value = moat_slice_cstr(moat_arena_printf(a, "%.*s%s", (int)prefix, base, variants[i]));
        CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail),
                     SIGV4_OK);
        CHECK_EQ_INT(sigv4_verify(a, &cap.t.req, &auth, cap.secret, NULL, NULL), SIGV4_MISMATCH);
    }
    /* Every truncation of the Authorization header: refused, or parsed and then not matching. */
    size_t full = strlen(base);
    for (size_t cut = 0; cut < full; cut++) {
        h->value = moat_slice(base, cut);
        enum sigv4_status st =
            sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail);
        if (st == SIGV4_OK)
            st = sigv4_verify(a, &cap.t.req, &auth, cap.secret, NULL, NULL);
        CHECK(st != SIGV4_OK);
    }
}

MOAT_TEST(scope_errors)
{
    struct captured cap;
    const char *detail;
    load_kms(a, &cap);
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-west-2", "kms", cap.now, cap.secret, &detail),
                 SIGV4_WRONG_REGION);
    CHECK_EQ_STR(detail, "Credential should be scoped to a valid region.");
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "sts", cap.now, cap.secret, &detail),
                 SIGV4_WRONG_SERVICE);
    CHECK_EQ_STR(detail, "Credential should be scoped to correct service: 'sts'.");
    CHECK_EQ_INT(parse_and_verify(a, &cap, NULL, NULL, cap.now, cap.secret, &detail), SIGV4_OK);

    /* The scope date is checked before the region. */
    struct moat_header *h = get_header(&cap.t, "authorization");
    const char *orig = moat_arena_cstr(a, h->value);
    char *v = moat_arena_strdup(a, orig);
    memcpy(strstr(v, "/20150830/"), "/20150831/", 10);
    h->value = moat_slice_cstr(v);
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-west-2", "kms", cap.now, cap.secret, &detail),
                 SIGV4_SCOPE_DATE);
    CHECK_EQ_STR(detail, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                         "of date from HTTP: '20150831' != '20150830', from '20150830T123600Z'.");

    v = moat_arena_strdup(a, orig);
    memcpy(strstr(v, "aws4_request"), "aws5_request", 12);
    h->value = moat_slice_cstr(v);
    struct sigv4_auth auth;
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail),
                 SIGV4_BAD_TERMINATOR);
    /* The parse is complete even though a scope check failed (key lookup may come first). */
    CHECK_EQ_INT(auth.form, SIGV4_FORM_HEADER);
    CHECK_SLICE(auth.access_key_id, "AKIDEXAMPLE");
    CHECK_SLICE(auth.terminator, "aws5_request");
    CHECK_EQ_STR(detail, "Credential should be scoped with a valid terminator: 'aws4_request', "
                         "not 'aws5_request'.");

    /* Credential with the wrong number of parts. */
    v = moat_arena_strdup(a, orig);
    char *slash = strstr(v, "/aws4_request");
    memmove(slash, slash + 13, strlen(slash + 13) + 1);
    h->value = moat_slice_cstr(v);
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail),
                 SIGV4_MALFORMED);
    CHECK_EQ_STR(detail, "Credential must have exactly 5 slash-delimited elements, e.g. "
                         "keyid/date/region/service/term, got "
                         "'AKIDEXAMPLE/20150830/us-east-1/kms'");
    CHECK_EQ_INT(auth.form, SIGV4_FORM_NONE);
}

MOAT_TEST(clock_skew)
{
    struct captured cap;
    const char *detail;
    load_kms(a, &cap);
    int64_t t = cap.now;
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "kms", t + 900, cap.secret, &detail),
                 SIGV4_OK);
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "kms", t - 900, cap.secret, &detail),
                 SIGV4_OK);
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "kms", t + 1200, cap.secret, &detail),
                 SIGV4_TOO_OLD);
    CHECK_EQ_STR(detail, "Signature expired: 20150830T123600Z is now earlier than 20150830T124100Z "
                         "(20150830T125600Z - 15 min.)");
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "kms", t + 901, cap.secret, &detail),
                 SIGV4_TOO_OLD);
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "kms", t - 1200, cap.secret, &detail),
                 SIGV4_TOO_NEW);
    CHECK_EQ_STR(detail, "Signature not yet current: 20150830T123600Z is still later than "
                         "20150830T123100Z (20150830T121600Z + 15 min.)");
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "kms", t - 901, cap.secret, &detail),
                 SIGV4_TOO_NEW);
}

MOAT_TEST(malformed_authorization)
{
    struct captured cap;
    const char *detail;
    struct sigv4_auth auth;
    load_kms(a, &cap);
    struct moat_header *h = get_header(&cap.t, "authorization");
    const char *cred = "Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request";
    const char *signed_h = "SignedHeaders=content-type;host;x-amz-date;x-amz-target";
    const char *sig = "Signature=f9e0359780c2e22942d0771cbfe5430bf7232a6234f750e0e8a9be888d5cdd42";
    struct {
        const char *value;
        const char *want;
    } cases[] = {
        {moat_arena_printf(a, "AWS4-HMAC-SHA256 %s, %s", signed_h, sig),
         "Authorization header requires 'Credential' parameter. "},
        {moat_arena_printf(a, "AWS4-HMAC-SHA256 %s, %s", cred, sig),
         "Authorization header requires 'SignedHeaders' parameter. "},
        {moat_arena_printf(a, "AWS4-HMAC-SHA256 %s, %s", cred, signed_h),
         "Authorization header requires 'Signature' parameter. "},
        {moat_arena_printf(a, "AWS4-HMAC-SHA256 %s, %s, Signature=", cred, signed_h),
         "Authorization header requires 'Signature' parameter. "},
        {"AWS4-HMAC-SHA256", "Authorization header requires 'Credential' parameter. "
                             "Authorization header requires 'Signature' parameter. "
                             "Authorization header requires 'SignedHeaders' parameter. "
                             "Authorization=AWS4-HMAC-SHA256"},
    };
    for (size_t i = 0; i < MOAT_COUNT(cases); i++) {
        h->value = moat_slice_cstr(cases[i].value);
        CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail),
                     SIGV4_MALFORMED);
        CHECK(detail && strncmp(detail, cases[i].want, strlen(cases[i].want)) == 0);
    }
    /* Missing Signature and missing date are reported together. */
    h->value = moat_slice_cstr(moat_arena_printf(a, "AWS4-HMAC-SHA256 %s, %s", cred, signed_h));
    remove_header(&cap.t, "x-amz-date");
    h = get_header(&cap.t, "authorization");
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail),
                 SIGV4_MALFORMED);
    CHECK(detail && strncmp(detail,
                            "Authorization header requires 'Signature' parameter. Authorization "
                            "header requires existence of either a 'X-Amz-Date' or a 'Date' "
                            "header. Authorization=AWS4-HMAC-SHA256 Credential=",
                            150) == 0);
    /* Only the date missing. */
    h->value =
        moat_slice_cstr(moat_arena_printf(a, "AWS4-HMAC-SHA256 %s, %s, %s", cred, signed_h, sig));
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail),
                 SIGV4_BAD_DATE);
    CHECK(detail && strncmp(detail,
                            "Authorization header requires existence of either a 'X-Amz-Date' or "
                            "a 'Date' header.",
                            80) == 0);
    /* A malformed X-Amz-Date. */
    add_header_c(&cap.t, "X-Amz-Date", "2015-08-30T12:36:00Z");
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail),
                 SIGV4_BAD_DATE);
    CHECK_EQ_STR(detail, "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See "
                         "http://en.wikipedia.org/wiki/ISO_8601");
    get_header(&cap.t, "x-amz-date")->value = MOAT_LIT("20151330T123600Z");
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail),
                 SIGV4_BAD_DATE);
    get_header(&cap.t, "x-amz-date")->value = MOAT_LIT("20150830T1236");
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail),
                 SIGV4_BAD_DATE);
    /* A part without '='. */
    get_header(&cap.t, "x-amz-date")->value = MOAT_LIT("20150830T123600Z");
    h = get_header(&cap.t, "authorization");
    h->value =
        moat_slice_cstr(moat_arena_printf(a, "AWS4-HMAC-SHA256 %s, %s, garbage", cred, signed_h));
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail),
                 SIGV4_MALFORMED);
    CHECK(detail && strncmp(detail,
                            "Invalid key=value pair (missing equal-sign) in Authorization header "
                            "(hashed with SHA-256 and encoded with Base64): '",
                            112) == 0);
    /* Other algorithms. */
    h->value = MOAT_LIT("AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=");
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail),
                 SIGV4_UNSUPPORTED_ALGORITHM);
    h->value = moat_slice_cstr(
        moat_arena_printf(a, "AWS4-ECDSA-P256-SHA256 %s, %s, %s", cred, signed_h, sig));
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail),
                 SIGV4_UNSUPPORTED_ALGORITHM);
    h->value = MOAT_LIT("");
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail),
                 SIGV4_UNSUPPORTED_ALGORITHM);
    /* Commas without spaces, and reordered parts, are fine. */
    h->value =
        moat_slice_cstr(moat_arena_printf(a, "AWS4-HMAC-SHA256 %s,%s,%s", sig, cred, signed_h));
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "kms", cap.now, cap.secret, &detail),
                 SIGV4_OK);
    /* host must be signed. */
    h->value = moat_slice_cstr(moat_arena_printf(
        a, "AWS4-HMAC-SHA256 %s, SignedHeaders=content-type;x-amz-date;x-amz-target, %s", cred,
        sig));
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail),
                 SIGV4_HOST_NOT_SIGNED);
    /* No auth at all, and both forms at once. */
    remove_header(&cap.t, "authorization");
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail),
                 SIGV4_MISSING);
    cap.t.req.query = MOAT_LIT("X-Amz-Algorithm=AWS4-HMAC-SHA256");
    add_header_c(&cap.t, "Authorization", "AWS4-HMAC-SHA256 x=y");
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "kms", cap.now, &auth, &detail),
                 SIGV4_MALFORMED);
}

MOAT_TEST(date_header_instead_of_x_amz_date)
{
    struct treq t;
    treq_init(a, &t);
    t.req.method = MOAT_LIT("POST");
    t.req.path = MOAT_LIT("/");
    t.req.body = MOAT_LIT("Action=GetCallerIdentity&Version=2011-06-15");
    add_header_c(&t, "Host", "sts.amazonaws.com");
    add_header_c(&t, "Date", "Sun, 30 Aug 2015 12:36:00 GMT");
    add_header_c(&t, "Content-Type", "application/x-www-form-urlencoded");
    /* The string to sign still carries the basic-format time. */
    struct sigv4_auth tmpl = {
        .form = SIGV4_FORM_HEADER,
        .scope_date = MOAT_LIT("20150830"),
        .region = MOAT_LIT("us-east-1"),
        .service = MOAT_LIT("sts"),
        .signed_headers = MOAT_LIT("content-type;date;host"),
        .amz_date = MOAT_LIT("20150830T123600Z"),
    };
    struct moat_slice creq;
    CHECK(sigv4_canonical_request(a, &t.req, &tmpl, &creq));
    char sig[65];
    CHECK(sigv4_sign_hex(MOAT_LIT(SECRET), tmpl.scope_date, tmpl.region, tmpl.service,
                         sigv4_string_to_sign(a, &tmpl, creq), sig));
    add_header(&t, MOAT_LIT("Authorization"),
               moat_slice_cstr(moat_arena_printf(
                   a,
                   "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, "
                   "SignedHeaders=content-type;date;host, Signature=%s",
                   sig)));
    struct sigv4_auth auth;
    const char *detail;
    CHECK_EQ_INT(sigv4_parse(a, &t.req, "us-east-1", "sts", VECTOR_NOW, &auth, &detail), SIGV4_OK);
    CHECK_SLICE(auth.amz_date, "20150830T123600Z");
    CHECK_EQ_INT(auth.request_time, VECTOR_NOW);
    CHECK_EQ_INT(sigv4_verify(a, &t.req, &auth, MOAT_LIT(SECRET), NULL, NULL), SIGV4_OK);
    get_header(&t, "date")->value = MOAT_LIT("Sun, 30 Aug 2015 12:36:01 GMT");
    CHECK_EQ_INT(sigv4_parse(a, &t.req, "us-east-1", "sts", VECTOR_NOW, &auth, &detail), SIGV4_OK);
    CHECK_EQ_INT(sigv4_verify(a, &t.req, &auth, MOAT_LIT(SECRET), NULL, NULL), SIGV4_MISMATCH);
    get_header(&t, "date")->value = MOAT_LIT("yesterday");
    CHECK_EQ_INT(sigv4_parse(a, &t.req, "us-east-1", "sts", VECTOR_NOW, &auth, &detail),
                 SIGV4_BAD_DATE);
}

MOAT_TEST(non_s3_content_sha256_must_match_body)
{
    struct treq t;
    treq_init(a, &t);
    t.req.method = MOAT_LIT("POST");
    t.req.path = MOAT_LIT("/");
    t.req.body = MOAT_LIT("{}");
    add_header_c(&t, "Host", "kms.us-east-1.amazonaws.com");
    add_header_c(&t, "X-Amz-Content-Sha256",
                 "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"); /* "{}" */
    self_sign(a, &t, "us-east-1", "kms", "20150830T123600Z", "host;x-amz-content-sha256;x-amz-date",
              SECRET);
    struct sigv4_auth auth;
    const char *detail;
    CHECK_EQ_INT(sigv4_parse(a, &t.req, "us-east-1", "kms", VECTOR_NOW, &auth, &detail), SIGV4_OK);
    CHECK_EQ_INT(sigv4_verify(a, &t.req, &auth, MOAT_LIT(SECRET), NULL, NULL), SIGV4_OK);
    /* An unsigned claim that differs from the body: the signature still matches
     * (it covers the real body hash) but the claim is refused. */
    treq_init(a, &t);
    t.req.method = MOAT_LIT("POST");
    t.req.path = MOAT_LIT("/");
    t.req.body = MOAT_LIT("{}");
    add_header_c(&t, "Host", "kms.us-east-1.amazonaws.com");
    add_header_c(&t, "X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD");
    self_sign(a, &t, "us-east-1", "kms", "20150830T123600Z", "host;x-amz-date", SECRET);
    CHECK_EQ_INT(sigv4_parse(a, &t.req, "us-east-1", "kms", VECTOR_NOW, &auth, &detail), SIGV4_OK);
    CHECK_EQ_INT(sigv4_verify(a, &t.req, &auth, MOAT_LIT(SECRET), NULL, NULL), SIGV4_MISMATCH);
}

/* ---- presigned ---------------------------------------------------------- */

MOAT_TEST(presigned_expiry_and_expires_bounds)
{
    struct captured cap;
    const char *detail;
    struct sigv4_auth auth;
    CHECK(load_captured(a, "s3-presign-get", &cap));
    int64_t t = cap.now;
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "s3", t + 86400, cap.secret, &detail),
                 SIGV4_OK);
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "s3", t + 86401, cap.secret, &detail),
                 SIGV4_EXPIRED);
    CHECK_EQ_STR(detail, "Request has expired");
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "s3", t - 900, cap.secret, &detail),
                 SIGV4_OK);
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "s3", t - 901, cap.secret, &detail),
                 SIGV4_TOO_NEW);
    /* Any change to the URL, the Host or the method breaks it. */
    struct moat_slice query = cap.t.req.query;
    const char *q = moat_arena_cstr(a, query);
    char *changed = moat_arena_strdup(a, q);
    memcpy(strstr(changed, "X-Amz-Expires=86400"), "X-Amz-Expires=86401", 19);
    cap.t.req.query = moat_slice_cstr(changed);
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "s3", t, cap.secret, &detail),
                 SIGV4_MISMATCH);
    cap.t.req.query = query;
    get_header(&cap.t, "host")->value = MOAT_LIT("evil.example.com");
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "s3", t, cap.secret, &detail),
                 SIGV4_MISMATCH);
    get_header(&cap.t, "host")->value = MOAT_LIT("s3.amazonaws.com");
    cap.t.req.method = MOAT_LIT("PUT");
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "s3", t, cap.secret, &detail),
                 SIGV4_MISMATCH);
    cap.t.req.method = MOAT_LIT("GET");

    struct {
        const char *expires;
        const char *want;
    } bounds[] = {
        {"X-Amz-Expires=604801", "X-Amz-Expires must be less than a week (in seconds); that is, "
                                 "the given X-Amz-Expires must be less than 604800 seconds"},
        {"X-Amz-Expires=999999999999999999999", "X-Amz-Expires should be a number"},
        {"X-Amz-Expires=0", "X-Amz-Expires must be at least 1 second"},
        {"X-Amz-Expires=-5", "X-Amz-Expires must be non-negative"},
        {"X-Amz-Expires=abc", "X-Amz-Expires should be a number"},
        {"X-Amz-Expires=", NULL},
        {"X-Amz-Nothing=1", NULL},
    };
    for (size_t i = 0; i < MOAT_COUNT(bounds); i++) {
        char *v = moat_arena_strdup(a, q);
        char *e = strstr(v, "X-Amz-Expires=86400");
        cap.t.req.query = moat_slice_cstr(
            moat_arena_printf(a, "%.*s%s%s", (int)(e - v), v, bounds[i].expires, e + 19));
        CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "s3", t, &auth, &detail),
                     SIGV4_BAD_EXPIRES);
        if (bounds[i].want)
            CHECK_EQ_STR(detail, bounds[i].want);
    }
    cap.t.req.query = query;
    /* Missing and repeated parameters. */
    const char *params[] = {
        "X-Amz-Credential=", "X-Amz-Date=", "X-Amz-SignedHeaders=", "X-Amz-Signature="};
    for (size_t i = 0; i < MOAT_COUNT(params); i++) {
        char *v = moat_arena_strdup(a, q);
        char *p = strstr(v, params[i]);
        CHECK(p != NULL);
        p[2] = 'Y'; /* "X-Ymz-…" is no longer the parameter */
        cap.t.req.query = moat_slice_cstr(v);
        CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "s3", t, &auth, &detail),
                     SIGV4_MALFORMED);
        CHECK_EQ_STR(detail, "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                             "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
                             "and X-Amz-Expires parameters.");
    }
    cap.t.req.query = moat_slice_cstr(moat_arena_printf(a, "%s&X-Amz-Signature=00", q));
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "s3", t, &auth, &detail), SIGV4_MALFORMED);
    cap.t.req.query = moat_slice_cstr(moat_arena_printf(a, "%s&X-Amz-Date=20150830T123600Z", q));
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "s3", t, &auth, &detail), SIGV4_MALFORMED);
    /* Other algorithm, bad date, wrong region in the query form. */
    char *v = moat_arena_strdup(a, q);
    memcpy(strstr(v, "AWS4-HMAC-SHA256"), "AWS4-HMAC-SHA512", 16);
    cap.t.req.query = moat_slice_cstr(v);
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "s3", t, &auth, &detail),
                 SIGV4_UNSUPPORTED_ALGORITHM);
    v = moat_arena_strdup(a, q);
    memcpy(strstr(v, "20150830T123600Z"), "20150830X123600Z", 16);
    cap.t.req.query = moat_slice_cstr(v);
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "s3", t, &auth, &detail), SIGV4_BAD_DATE);
    cap.t.req.query = query;
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "eu-west-1", "s3", t, &auth, &detail),
                 SIGV4_WRONG_REGION);
    CHECK_EQ_STR(detail, "Error parsing the X-Amz-Credential parameter; the region 'us-east-1' is "
                         "wrong; expecting 'eu-west-1'");
    /* SigV2 presigned URLs are named, not treated as anonymous. */
    cap.t.req.query = MOAT_LIT("AWSAccessKeyId=AKIDEXAMPLE&Expires=1440939360&Signature=abc%3D");
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "s3", t, &auth, &detail),
                 SIGV4_UNSUPPORTED_ALGORITHM);
    cap.t.req.query = MOAT_LIT("");
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "s3", t, &auth, &detail), SIGV4_MISSING);
    /* Every truncation of the query: refused, or parsed and then not matching. */
    for (size_t cut = 0; cut < query.len; cut++) {
        cap.t.req.query = moat_slice(query.ptr, cut);
        enum sigv4_status st = sigv4_parse(a, &cap.t.req, "us-east-1", "s3", t, &auth, &detail);
        if (st == SIGV4_OK)
            st = sigv4_verify(a, &cap.t.req, &auth, cap.secret, NULL, NULL);
        CHECK(st != SIGV4_OK);
    }
}

/* ---- S3 header rules ------------------------------------------------------ */

MOAT_TEST(s3_header_rules)
{
    struct captured cap;
    const char *detail;
    struct sigv4_auth auth;
    CHECK(load_captured(a, "s3-put-object-http-signed-payload", &cap));
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "s3", cap.now, cap.secret, &detail),
                 SIGV4_OK);
    /* The body must hash to the signed x-amz-content-sha256. */
    cap.t.req.body = MOAT_LIT("Hello, moat?");
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "s3", cap.now, cap.secret, &detail),
                 SIGV4_BODY_HASH_MISMATCH);
    cap.t.req.body = MOAT_LIT("Hello, moat!");
    /* An unsigned x-amz-* header is refused, and named. */
    add_header_c(&cap.t, "X-Amz-Meta-Owner", "mallory");
    add_header_c(&cap.t, "x-amz-acl", "public-read");
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "s3", cap.now, &auth, &detail),
                 SIGV4_HEADERS_NOT_SIGNED);
    CHECK_EQ_STR(detail, "x-amz-meta-owner, x-amz-acl");
    remove_header(&cap.t, "x-amz-meta-owner");
    remove_header(&cap.t, "x-amz-acl");
    /* An unsigned session token is tolerated (signers that add it after signing). */
    add_header_c(&cap.t, "X-Amz-Security-Token", "token");
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "s3", cap.now, cap.secret, &detail),
                 SIGV4_OK);
    remove_header(&cap.t, "x-amz-security-token");
    /* x-amz-content-sha256: missing, not allowed, or the SigV4a streaming form. */
    struct moat_header *h = get_header(&cap.t, "x-amz-content-sha256");
    const char *bad[] = {"", "6795a051c0d5ce7d89471e93edaeee5aefb55ef456e6026b904c22ff2575",
                         "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "unsigned-payload",
                         "6795a051c0d5ce7d89471e93edaeee5aefb55ef456e6026b904c22ff25750c2g"};
    for (size_t i = 0; i < MOAT_COUNT(bad); i++) {
        h->value = moat_slice_cstr(bad[i]);
        CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "s3", cap.now, &auth, &detail),
                     SIGV4_BAD_CONTENT_SHA256);
    }
    remove_header(&cap.t, "x-amz-content-sha256");
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "s3", cap.now, &auth, &detail),
                 SIGV4_BAD_CONTENT_SHA256);
    CHECK_EQ_STR(detail, "Missing required header for this request: x-amz-content-sha256");
    /* S3 wording for scope errors. */
    CHECK(load_captured(a, "s3-get-object-special-key", &cap));
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "eu-west-1", "s3", cap.now, &auth, &detail),
                 SIGV4_WRONG_REGION);
    CHECK_EQ_STR(detail, "The authorization header is malformed; the region 'us-east-1' is wrong; "
                         "expecting 'eu-west-1'");
    /* S3 keeps dot segments: the same key normalised would not verify. */
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "s3", cap.now, cap.secret, &detail),
                 SIGV4_OK);
    cap.t.req.s3 = false;
    CHECK_EQ_INT(parse_and_verify(a, &cap, "us-east-1", "s3", cap.now, cap.secret, &detail),
                 SIGV4_MISMATCH);
}

/* ---- canonical forms ----------------------------------------------------- */

static const char *canonical_uri_of(struct moat_arena *a, const char *path, bool s3,
                                    bool unnormalized)
{
    struct sigv4_request req = {.method = MOAT_LIT("GET"),
                                .path = moat_slice_cstr(path),
                                .s3 = s3,
                                .unnormalized = unnormalized};
    struct sigv4_auth auth = {.form = SIGV4_FORM_HEADER, .content_sha256 = MOAT_LIT("x")};
    struct moat_slice creq;
    sigv4_canonical_request(a, &req, &auth, &creq);
    struct moat_slice rest = creq, line;
    moat_slice_split(&rest, '\n', &line);
    moat_slice_split(&rest, '\n', &line);
    return moat_arena_cstr(a, line);
}

static const char *canonical_query_of(struct moat_arena *a, const char *query, bool presigned)
{
    struct sigv4_request req = {
        .method = MOAT_LIT("GET"), .path = MOAT_LIT("/"), .query = moat_slice_cstr(query)};
    struct sigv4_auth auth = {.form = presigned ? SIGV4_FORM_QUERY : SIGV4_FORM_HEADER};
    struct moat_slice creq;
    sigv4_canonical_request(a, &req, &auth, &creq);
    struct moat_slice rest = creq, line;
    for (int i = 0; i < 3; i++)
        moat_slice_split(&rest, '\n', &line);
    return moat_arena_cstr(a, line);
}

MOAT_TEST(canonical_uri_rules)
{
    CHECK_EQ_STR(canonical_uri_of(a, "", false, false), "/");
    CHECK_EQ_STR(canonical_uri_of(a, "", true, false), "/");
    CHECK_EQ_STR(canonical_uri_of(a, "/a%20b", false, false), "/a%2520b");
    CHECK_EQ_STR(canonical_uri_of(a, "/a%20b", true, false), "/a%20b");
    CHECK_EQ_STR(canonical_uri_of(a, "/a/./b/../c//d/", false, false), "/a/c/d/");
    CHECK_EQ_STR(canonical_uri_of(a, "/a/./b/../c//d/", false, true), "/a/./b/../c//d/");
    CHECK_EQ_STR(canonical_uri_of(a, "/a/./b/../c//d/", true, false), "/a/./b/../c//d/");
    CHECK_EQ_STR(canonical_uri_of(a, "/../../x", false, false), "/x");
    CHECK_EQ_STR(canonical_uri_of(a, "/..", false, false), "/");
    CHECK_EQ_STR(canonical_uri_of(a, "//", false, false), "/");
    CHECK_EQ_STR(canonical_uri_of(a, "/a/b/..", false, false), "/a");
    CHECK_EQ_STR(canonical_uri_of(a, "relative/x", false, false), "/relative/x");
    /* S3: decode once then encode (an escaped slash becomes a separator, as the
     * key S3 stores has it); a broken escape is a literal percent. */
    CHECK_EQ_STR(canonical_uri_of(a, "/k%2Fx+y%zz%4", true, false), "/k/x%2By%25zz%254");
    CHECK_EQ_STR(canonical_uri_of(a, "/\xe1\x88\xb4", true, false), "/%E1%88%B4");
}

MOAT_TEST(canonical_query_rules)
{
    CHECK_EQ_STR(canonical_query_of(a, "", false), "");
    CHECK_EQ_STR(canonical_query_of(a, "b=2&a=1&a=0", false), "a=0&a=1&b=2");
    CHECK_EQ_STR(canonical_query_of(a, "a-b=1&a=2", false), "a=2&a-b=1");
    CHECK_EQ_STR(canonical_query_of(a, "k", false), "k=");
    CHECK_EQ_STR(canonical_query_of(a, "k=&&j", false), "j=&k=");
    CHECK_EQ_STR(canonical_query_of(a, "p=a/b c+d%2Fe%7E", false), "p=a%2Fb%20c%2Bd%2Fe~");
    CHECK_EQ_STR(canonical_query_of(a, "=v&x=%", false), "=v&x=%25");
    CHECK_EQ_STR(canonical_query_of(a, "X-Amz-Signature=abc&b=1", false),
                 "X-Amz-Signature=abc&b=1");
    CHECK_EQ_STR(canonical_query_of(a, "X-Amz-Signature=abc&b=1", true), "b=1");
    /* Many parameters take the qsort path. */
    struct moat_buf q;
    moat_buf_init(&q, a, 0);
    for (int i = 40; i > 0; i--)
        moat_buf_printf(&q, "%sp%02d=%d", i == 40 ? "" : "&", i, i);
    const char *sorted = canonical_query_of(a, moat_buf_cstr(&q), false);
    CHECK(strncmp(sorted, "p01=1&p02=2&p03=3", 17) == 0);
    CHECK(strlen(sorted) > 17 && strcmp(sorted + strlen(sorted) - 6, "p40=40") == 0);
}

MOAT_TEST(oversized_inputs)
{
    /* A large signed header value and a few thousand query parameters still verify. */
    struct treq t;
    treq_init(a, &t);
    t.req.method = MOAT_LIT("GET");
    t.req.path = MOAT_LIT("/");
    struct moat_buf big, q;
    moat_buf_init(&big, a, 0);
    moat_buf_init(&q, a, 0);
    for (int i = 0; i < 20000; i++)
        moat_buf_append(&big, MOAT_LIT("ab  \t"));
    for (int i = 3000; i > 0; i--)
        moat_buf_printf(&q, "k%d=v%%2F%d&", i, i);
    t.req.query = moat_buf_slice(&q);
    add_header_c(&t, "Host", "example.com");
    add_header(&t, MOAT_LIT("X-Big"), moat_buf_slice(&big));
    self_sign(a, &t, "us-east-1", "service", "20150830T123600Z", "host;x-amz-date;x-big", SECRET);
    struct sigv4_auth auth;
    const char *detail;
    CHECK_EQ_INT(sigv4_parse(a, &t.req, "us-east-1", "service", VECTOR_NOW, &auth, &detail),
                 SIGV4_OK);
    CHECK_EQ_INT(sigv4_verify(a, &t.req, &auth, MOAT_LIT(SECRET), NULL, NULL), SIGV4_OK);
    /* Error messages echo client text only up to a bound. */
    struct moat_header *h = get_header(&t, "authorization");
    h->value = moat_buf_slice(&big);
    CHECK_EQ_INT(sigv4_parse(a, &t.req, "us-east-1", "service", VECTOR_NOW, &auth, &detail),
                 SIGV4_UNSUPPORTED_ALGORITHM);
    CHECK(detail && strlen(detail) < 1024);
    /* A secret too long for the key cache is derived each time, correctly. */
    struct moat_buf secret;
    moat_buf_init(&secret, a, 0);
    for (int i = 0; i < 100; i++)
        moat_buf_append(&secret, MOAT_LIT("longsecret"));
    treq_init(a, &t);
    t.req.method = MOAT_LIT("GET");
    t.req.path = MOAT_LIT("/");
    add_header_c(&t, "Host", "example.com");
    self_sign(a, &t, "us-east-1", "service", "20150830T123600Z", "host;x-amz-date",
              moat_buf_cstr(&secret));
    CHECK_EQ_INT(sigv4_parse(a, &t.req, "us-east-1", "service", VECTOR_NOW, &auth, &detail),
                 SIGV4_OK);
    CHECK_EQ_INT(sigv4_verify(a, &t.req, &auth, moat_buf_slice(&secret), NULL, NULL), SIGV4_OK);
    CHECK_EQ_INT(sigv4_verify(a, &t.req, &auth, MOAT_LIT(SECRET), NULL, NULL), SIGV4_MISMATCH);
}

/* ---- keys and the cache --------------------------------------------------- */

MOAT_TEST(signing_key)
{
    /* The derivation example of the IAM User Guide. */
    uint8_t key[32];
    CHECK(sigv4_signing_key(MOAT_LIT(SECRET), MOAT_LIT("20150830"), MOAT_LIT("us-east-1"),
                            MOAT_LIT("iam"), key));
    struct moat_buf hex;
    moat_buf_init(&hex, a, 65);
    moat_buf_append_hex(&hex, key, 32);
    CHECK_EQ_STR(moat_buf_cstr(&hex),
                 "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
    /* More distinct scopes than cache slots: every answer stays right. */
    char first[20][65];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 20; i++) {
            char region[16], sig[65], manual[65];
            snprintf(region, sizeof(region), "region-%d", i);
            CHECK(sigv4_sign_hex(MOAT_LIT(SECRET), MOAT_LIT("20150830"), moat_slice_cstr(region),
                                 MOAT_LIT("svc"), MOAT_LIT("message"), sig));
            CHECK(sigv4_signing_key(MOAT_LIT(SECRET), MOAT_LIT("20150830"), moat_slice_cstr(region),
                                    MOAT_LIT("svc"), key));
            CHECK(sigv4_hmac_hex(key, MOAT_LIT("message"), manual));
            CHECK_EQ_STR(sig, manual);
            if (round == 0)
                memcpy(first[i], sig, 65);
            else
                CHECK_EQ_STR(sig, first[i]);
        }
    }
    /* Same scope, another secret: not served from the cache. */
    char s1[65], s2[65];
    CHECK(sigv4_sign_hex(MOAT_LIT(SECRET), MOAT_LIT("20150830"), MOAT_LIT("us-east-1"),
                         MOAT_LIT("iam"), MOAT_LIT("m"), s1));
    CHECK(sigv4_sign_hex(MOAT_LIT(SECRET "2"), MOAT_LIT("20150830"), MOAT_LIT("us-east-1"),
                         MOAT_LIT("iam"), MOAT_LIT("m"), s2));
    CHECK(strcmp(s1, s2) != 0);
    char h[65];
    CHECK(sigv4_sha256_hex(MOAT_LIT(""), h));
    CHECK_EQ_STR(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void *verify_in_thread(void *arg)
{
    struct moat_arena *a = moat_arena_new(4096);
    struct captured cap;
    int *ok = arg;
    *ok = 0;
    if (load_captured(a, "sts-get-caller-identity-query", &cap)) {
        for (int i = 0; i < 200; i++) {
            const char *detail;
            if (parse_and_verify(a, &cap, "us-east-1", "sts", cap.now, cap.secret, &detail) ==
                SIGV4_OK)
                (*ok)++;
        }
    }
    moat_arena_free(a);
    return NULL;
}

MOAT_TEST(threads_have_their_own_state)
{
    pthread_t th[3];
    int ok[3];
    for (int i = 0; i < 3; i++)
        CHECK(pthread_create(&th[i], NULL, verify_in_thread, &ok[i]) == 0);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(ok[i], 200);
    }
}

/* ---- the error table ------------------------------------------------------ */

static void check_error(struct moat_arena *a, enum moat_protocol p, enum sigv4_status s,
                        const char *detail, const char *code, int http, const char *message)
{
    struct moat_error *e = sigv4_error(a, p, s, detail);
    CHECK(e != NULL);
    if (!e)
        return;
    CHECK_EQ_STR(e->kind->code, code);
    CHECK_EQ_INT(e->kind->http_status, http);
    if (message)
        CHECK_SLICE(e->message, message);
}

MOAT_TEST(error_table)
{
    const char *mismatch = "The request signature we calculated does not match the signature you "
                           "provided. Check your AWS Secret Access Key and signing method. "
                           "Consult the service documentation for details.";
    const char *skew = "Signature expired: 20150830T123600Z is now earlier than 20150830T124100Z "
                       "(20150830T125600Z - 15 min.)";
    CHECK(sigv4_error(a, MOAT_PROTO_JSON, SIGV4_OK, NULL) == NULL);
    check_error(a, MOAT_PROTO_JSON, SIGV4_UNKNOWN_KEY, NULL, "UnrecognizedClientException", 400,
                "The security token included in the request is invalid.");
    check_error(a, MOAT_PROTO_JSON, SIGV4_MISMATCH, "ignored", "InvalidSignatureException", 400,
                mismatch);
    check_error(a, MOAT_PROTO_JSON, SIGV4_MISSING, NULL, "MissingAuthenticationTokenException", 400,
                "Missing Authentication Token");
    check_error(a, MOAT_PROTO_JSON, SIGV4_TOO_OLD, skew, "InvalidSignatureException", 400, skew);
    check_error(a, MOAT_PROTO_JSON, SIGV4_EXPIRED_TOKEN, NULL, "ExpiredTokenException", 400,
                "The security token included in the request is expired");
    check_error(a, MOAT_PROTO_JSON, SIGV4_MALFORMED,
                "Authorization header requires 'Signature' "
                "parameter.",
                "IncompleteSignatureException", 400,
                "Authorization header requires 'Signature' parameter.");
    check_error(a, MOAT_PROTO_JSON, SIGV4_WRONG_SERVICE,
                "Credential should be scoped to correct service: 'kms'.",
                "InvalidSignatureException", 400,
                "Credential should be scoped to correct service: 'kms'.");
    check_error(a, MOAT_PROTO_REST_JSON, SIGV4_MISMATCH, NULL, "InvalidSignatureException", 400,
                mismatch);
    check_error(a, MOAT_PROTO_CBOR, SIGV4_UNKNOWN_KEY, NULL, "UnrecognizedClientException", 400,
                NULL);

    check_error(a, MOAT_PROTO_QUERY, SIGV4_MISMATCH, NULL, "SignatureDoesNotMatch", 403, mismatch);
    check_error(a, MOAT_PROTO_QUERY, SIGV4_MISSING, NULL, "MissingAuthenticationToken", 403,
                "Request is missing Authentication Token");
    check_error(a, MOAT_PROTO_QUERY, SIGV4_UNKNOWN_KEY, NULL, "InvalidClientTokenId", 403,
                "The security token included in the request is invalid.");
    check_error(a, MOAT_PROTO_QUERY, SIGV4_TOO_OLD, skew, "SignatureDoesNotMatch", 403, skew);
    check_error(a, MOAT_PROTO_QUERY, SIGV4_EXPIRED_TOKEN, NULL, "ExpiredToken", 403, NULL);
    check_error(a, MOAT_PROTO_QUERY, SIGV4_MALFORMED, NULL, "IncompleteSignature", 400, NULL);
    check_error(a, MOAT_PROTO_QUERY, SIGV4_EXPIRED, NULL, "RequestExpired", 400, NULL);
    check_error(a, MOAT_PROTO_QUERY, SIGV4_WRONG_REGION,
                "Credential should be scoped to a valid region.", "SignatureDoesNotMatch", 403,
                "Credential should be scoped to a valid region.");

    check_error(a, MOAT_PROTO_REST_XML, SIGV4_UNKNOWN_KEY, NULL, "InvalidAccessKeyId", 403,
                "The AWS Access Key Id you provided does not exist in our records.");
    check_error(a, MOAT_PROTO_REST_XML, SIGV4_MISMATCH, NULL, "SignatureDoesNotMatch", 403,
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.");
    check_error(a, MOAT_PROTO_REST_XML, SIGV4_EXPIRED_TOKEN, NULL, "ExpiredToken", 400,
                "The provided token has expired.");
    check_error(a, MOAT_PROTO_REST_XML, SIGV4_EXPIRED, "x", "AccessDenied", 403,
                "Request has expired");
    check_error(a, MOAT_PROTO_REST_XML, SIGV4_TOO_OLD, skew, "RequestTimeTooSkewed", 403,
                "The difference between the request time and the current time is too large.");
    check_error(a, MOAT_PROTO_REST_XML, SIGV4_BODY_HASH_MISMATCH, NULL, "XAmzContentSHA256Mismatch",
                400, NULL);
    check_error(a, MOAT_PROTO_REST_XML, SIGV4_BAD_TOKEN, NULL, "InvalidToken", 400, NULL);
    check_error(a, MOAT_PROTO_REST_XML, SIGV4_HEADERS_NOT_SIGNED, "x-amz-acl", "AccessDenied", 403,
                "There were headers present in the request which were not signed");
    check_error(a, MOAT_PROTO_REST_XML, SIGV4_MALFORMED, NULL, "AuthorizationHeaderMalformed", 400,
                NULL);
    check_error(a, MOAT_PROTO_REST_XML, SIGV4_INTERNAL_ERROR, NULL, "InternalError", 500, NULL);

    /* Every status has a row in every protocol; nothing out of range crashes. */
    for (int p = 0; p <= MOAT_PROTO_COUNT; p++) {
        for (int s = 1; s < SIGV4_STATUS_COUNT; s++) {
            struct moat_error *e =
                sigv4_error(a, (enum moat_protocol)p, (enum sigv4_status)s, NULL);
            CHECK(e && e->kind && e->kind->code && e->message.len > 0);
            CHECK(e && (e->kind->http_status == 400 || e->kind->http_status == 403 ||
                        e->kind->http_status == 500));
            CHECK(strcmp(sigv4_status_name((enum sigv4_status)s), "invalid") != 0);
        }
    }
    struct moat_error *e = sigv4_error(a, MOAT_PROTO_JSON, (enum sigv4_status)999, NULL);
    CHECK(e && e->kind->http_status == 500);
    CHECK_EQ_STR(sigv4_status_name((enum sigv4_status)999), "invalid");
    CHECK_EQ_STR(sigv4_status_name(SIGV4_MISMATCH), "mismatch");
}

MOAT_TEST(error_s3_extras)
{
    struct captured cap;
    const char *detail;
    struct sigv4_auth auth;
    CHECK(load_captured(a, "s3-presign-get", &cap));
    /* Presigned S3 failures use the query-parameter code. */
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "eu-west-1", "s3", cap.now, &auth, &detail),
                 SIGV4_WRONG_REGION);
    struct sigv4_error_info info = {.auth = &auth, .now = cap.now, .expected_region = "eu-west-1"};
    struct moat_error *e =
        sigv4_error_ex(a, MOAT_PROTO_REST_XML, SIGV4_WRONG_REGION, detail, &info);
    CHECK_EQ_STR(e->kind->code, "AuthorizationQueryParametersError");
    CHECK_EQ_INT(e->kind->http_status, 400);
    CHECK_EQ_INT(e->extra_count, 1);
    if (e->extra_count == 1) {
        CHECK_EQ_STR(e->extra_names[0], "Region");
        CHECK_SLICE(e->extra_values[0], "eu-west-1");
    }
    e = sigv4_error_ex(a, MOAT_PROTO_REST_XML, SIGV4_TOO_NEW, NULL, &info);
    CHECK_EQ_STR(e->kind->code, "AccessDenied");
    CHECK_SLICE(e->message, "Request is not valid yet");
    /* The same failure in header form. */
    e = sigv4_error(a, MOAT_PROTO_REST_XML, SIGV4_WRONG_REGION, "msg");
    CHECK_EQ_STR(e->kind->code, "AuthorizationHeaderMalformed");
    CHECK_SLICE(e->message, "msg");

    /* Expired presign: the expiry and the server time. */
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "s3", cap.now + 90000, &auth, &detail),
                 SIGV4_EXPIRED);
    info.now = cap.now + 90000;
    e = sigv4_error_ex(a, MOAT_PROTO_REST_XML, SIGV4_EXPIRED, detail, &info);
    CHECK_EQ_INT(e->extra_count, 3);
    if (e->extra_count == 3) {
        CHECK_SLICE(e->extra_values[0], "86400");
        CHECK_SLICE(e->extra_values[1], "2015-08-31T12:36:00Z");
        CHECK_SLICE(e->extra_values[2], "2015-08-31T13:36:00Z");
    }

    /* A header-auth mismatch echoes what the server computed. */
    CHECK(load_captured(a, "s3-get-object-virtual-host", &cap));
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "s3", cap.now, &auth, &detail), SIGV4_OK);
    struct moat_slice creq, sts;
    CHECK_EQ_INT(sigv4_verify(a, &cap.t.req, &auth, MOAT_LIT("wrong"), &creq, &sts),
                 SIGV4_MISMATCH);
    info = (struct sigv4_error_info){
        .auth = &auth, .now = cap.now, .canonical_request = creq, .string_to_sign = sts};
    e = sigv4_error_ex(a, MOAT_PROTO_REST_XML, SIGV4_MISMATCH, NULL, &info);
    CHECK_EQ_INT(e->extra_count, 6);
    if (e->extra_count == 6) {
        CHECK_EQ_STR(e->extra_names[0], "AWSAccessKeyId");
        CHECK_SLICE(e->extra_values[0], "AKIDEXAMPLE");
        CHECK_EQ_STR(e->extra_names[2], "StringToSign");
        CHECK(moat_slice_eq(e->extra_values[2], cap.string_to_sign));
        CHECK_EQ_STR(e->extra_names[3], "StringToSignBytes");
        CHECK(moat_slice_starts_with(e->extra_values[3], MOAT_LIT("41 57 53 34 2d")));
        CHECK_EQ_STR(e->extra_names[4], "CanonicalRequest");
        CHECK(moat_slice_eq(e->extra_values[4], cap.canonical));
    }
    /* JSON errors carry no S3 extras. */
    e = sigv4_error_ex(a, MOAT_PROTO_JSON, SIGV4_MISMATCH, NULL, &info);
    CHECK_EQ_INT(e->extra_count, 0);
    /* Clock skew in S3. */
    CHECK_EQ_INT(sigv4_parse(a, &cap.t.req, "us-east-1", "s3", cap.now + 3600, &auth, &detail),
                 SIGV4_TOO_OLD);
    info = (struct sigv4_error_info){.auth = &auth, .now = cap.now + 3600};
    e = sigv4_error_ex(a, MOAT_PROTO_REST_XML, SIGV4_TOO_OLD, detail, &info);
    CHECK_EQ_INT(e->extra_count, 3);
    if (e->extra_count == 3) {
        CHECK_SLICE(e->extra_values[0], "20150830T123600Z");
        CHECK_SLICE(e->extra_values[1], "2015-08-30T13:36:00Z");
        CHECK_SLICE(e->extra_values[2], "900000");
    }
}

MOAT_TEST_MAIN(MOAT_CASE(v4_suite_header), MOAT_CASE(v4_suite_query), MOAT_CASE(sdk_captured),
               MOAT_CASE(sdk_captured_session_tokens), MOAT_CASE(sdk_captured_unsigned_trailer),
               MOAT_CASE(s3_streaming_signed), MOAT_CASE(s3_streaming_signed_trailer),
               MOAT_CASE(chunked_every_truncation), MOAT_CASE(tampering),
               MOAT_CASE(bad_signature_values), MOAT_CASE(scope_errors), MOAT_CASE(clock_skew),
               MOAT_CASE(malformed_authorization), MOAT_CASE(date_header_instead_of_x_amz_date),
               MOAT_CASE(non_s3_content_sha256_must_match_body),
               MOAT_CASE(presigned_expiry_and_expires_bounds), MOAT_CASE(s3_header_rules),
               MOAT_CASE(canonical_uri_rules), MOAT_CASE(canonical_query_rules),
               MOAT_CASE(oversized_inputs), MOAT_CASE(signing_key),
               MOAT_CASE(threads_have_their_own_state), MOAT_CASE(error_table),
               MOAT_CASE(error_s3_extras))

/* sigv4_parse.c: finds the signature of a request (Authorization header or
 * presigned X-Amz-* query) and checks everything that needs no key (spec sections 1-4). */
#include "aws/sigv4.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/encoding.h"

#include <string.h>

#define MAX_SKEW_S (15 * 60)
#define MAX_PRESIGN_EXPIRES_S 604800

static const char *const status_names[SIGV4_STATUS_COUNT] = {
    [SIGV4_OK] = "ok",
    [SIGV4_MISSING] = "missing",
    [SIGV4_MALFORMED] = "malformed",
    [SIGV4_BAD_DATE] = "bad_date",
    [SIGV4_BAD_EXPIRES] = "bad_expires",
    [SIGV4_SCOPE_DATE] = "scope_date",
    [SIGV4_WRONG_REGION] = "wrong_region",
    [SIGV4_WRONG_SERVICE] = "wrong_service",
    [SIGV4_BAD_TERMINATOR] = "bad_terminator",
    [SIGV4_TOO_OLD] = "too_old",
    [SIGV4_TOO_NEW] = "too_new",
    [SIGV4_EXPIRED] = "expired",
    [SIGV4_UNKNOWN_KEY] = "unknown_key",
    [SIGV4_BAD_TOKEN] = "bad_token",
    [SIGV4_EXPIRED_TOKEN] = "expired_token",
    [SIGV4_HOST_NOT_SIGNED] = "host_not_signed",
    [SIGV4_SIGNED_HEADER_ABSENT] = "signed_header_absent",
    [SIGV4_HEADERS_NOT_SIGNED] = "headers_not_signed",
    [SIGV4_BAD_CONTENT_SHA256] = "bad_content_sha256",
    [SIGV4_MISMATCH] = "mismatch",
    [SIGV4_BODY_HASH_MISMATCH] = "body_hash_mismatch",
    [SIGV4_UNSUPPORTED_ALGORITHM] = "unsupported_algorithm",
    [SIGV4_INTERNAL_ERROR] = "internal_error",
};

const char *sigv4_status_name(enum sigv4_status status)
{
    if ((unsigned)status >= SIGV4_STATUS_COUNT)
        return "invalid";
    return status_names[status];
}

bool sigv4_find_header(const struct sigv4_request *req, const char *lower_name,
                       struct moat_slice *value)
{
    struct moat_slice want = moat_slice_cstr(lower_name);
    for (size_t i = 0; i < req->header_count; i++) {
        if (moat_slice_eq_nocase(req->headers[i].name, want)) {
            *value = req->headers[i].value;
            return true;
        }
    }
    return false;
}

/* The headers SigV4 reads, found in one pass (first occurrence of each). */
struct auth_headers {
    struct moat_slice authorization, x_amz_date, date, security_token, content_sha256;
    bool has_authorization, has_x_amz_date, has_date, has_security_token, has_content_sha256;
};

static void take(struct moat_slice value, struct moat_slice *slot, bool *has)
{
    if (!*has) {
        *slot = value;
        *has = true;
    }
}

static void collect_headers(const struct sigv4_request *req, struct auth_headers *h)
{
    memset(h, 0, sizeof(*h));
    for (size_t i = 0; i < req->header_count; i++) {
        struct moat_slice n = req->headers[i].name, v = req->headers[i].value;
        switch (n.len) {
        case 4:
            if (moat_slice_eq_nocase(n, MOAT_LIT("date")))
                take(v, &h->date, &h->has_date);
            break;
        case 10:
            if (moat_slice_eq_nocase(n, MOAT_LIT("x-amz-date")))
                take(v, &h->x_amz_date, &h->has_x_amz_date);
            break;
        case 13:
            if (moat_slice_eq_nocase(n, MOAT_LIT("authorization")))
                take(v, &h->authorization, &h->has_authorization);
            break;
        case 20:
            if (moat_slice_eq_nocase(n, MOAT_LIT("x-amz-security-token")))
                take(v, &h->security_token, &h->has_security_token);
            else if (moat_slice_eq_nocase(n, MOAT_LIT("x-amz-content-sha256")))
                take(v, &h->content_sha256, &h->has_content_sha256);
            break;
        default:
            break;
        }
    }
}

/* Client text echoed in a message: bounded, so a huge header cannot make a huge error. */
static struct moat_slice clip(struct moat_slice s)
{
    return moat_slice(s.ptr, MOAT_MIN(s.len, (size_t)512));
}

static bool signed_list_has(struct moat_slice signed_headers, struct moat_slice name)
{
    struct moat_slice rest = signed_headers, item;
    while (moat_slice_split(&rest, ';', &item))
        if (moat_slice_eq_nocase(item, name))
            return true;
    return false;
}

/* ---- header form ------------------------------------------------------- */

static const char *missing_equal_sign(struct moat_arena *a, struct moat_slice authz)
{
    /* AWS does not echo the pair itself, only a digest of the whole header. */
    char digest[65];
    struct moat_slice raw;
    if (!sigv4_sha256_hex(authz, digest) || !moat_hex_decode(a, moat_slice(digest, 64), &raw))
        return "Invalid key=value pair (missing equal-sign) in Authorization header.";
    struct moat_buf b;
    moat_buf_init(&b, a, 160);
    moat_buf_append_cstr(&b, "Invalid key=value pair (missing equal-sign) in Authorization header "
                             "(hashed with SHA-256 and encoded with Base64): '");
    moat_base64_encode(&b, raw);
    moat_buf_append_cstr(&b, "'.");
    return moat_buf_cstr(&b);
}

/* Splits "AK/date/region/service/term" into the auth fields. */
static bool split_credential(struct moat_slice cred, struct sigv4_auth *auth)
{
    struct moat_slice parts[5], rest = cred, item;
    size_t n = 0;
    while (moat_slice_split(&rest, '/', &item)) {
        if (n == 5)
            return false;
        parts[n++] = item;
    }
    if (n != 5)
        return false;
    auth->access_key_id = parts[0];
    auth->scope_date = parts[1];
    auth->region = parts[2];
    auth->service = parts[3];
    auth->terminator = parts[4];
    return true;
}

static const char *bad_credential(struct moat_arena *a, bool s3, struct moat_slice cred, bool query)
{
    if (s3 && query)
        return "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
               "expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".";
    if (s3)
        return "The authorization header is malformed; the Credential is mal-formed; expecting "
               "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".";
    return moat_arena_printf(a,
                             "Credential must have exactly 5 slash-delimited elements, e.g. "
                             "keyid/date/region/service/term, got '%.*s'",
                             MOAT_FMT(clip(cred)));
}

/* The request time from X-Amz-Date, or from Date (RFC 1123) when there is no
 * X-Amz-Date; auth->amz_date is always the basic format that gets signed. */
static enum sigv4_status header_date(struct moat_arena *a, const struct sigv4_request *req,
                                     const struct auth_headers *h, struct sigv4_auth *auth,
                                     const char **detail)
{
    struct moat_slice v;
    if (h->has_x_amz_date) {
        v = moat_slice_trim(h->x_amz_date);
        if (!moat_time_parse_basic(v, &auth->request_time)) {
            *detail = req->s3
                          ? "AWS authentication requires a valid Date or x-amz-date header"
                          : moat_arena_printf(a,
                                              "Date must be in ISO-8601 'basic format'. Got "
                                              "'%.*s'. See http://en.wikipedia.org/wiki/ISO_8601",
                                              MOAT_FMT(clip(v)));
            return SIGV4_BAD_DATE;
        }
        auth->amz_date = v;
        return SIGV4_OK;
    }
    if (h->has_date) {
        v = moat_slice_trim(h->date);
        if (!moat_time_parse_http(v, &auth->request_time)) {
            *detail = req->s3 ? "AWS authentication requires a valid Date or x-amz-date header"
                              : moat_arena_printf(a, "Unable to parse the 'Date' header: '%.*s'.",
                                                  MOAT_FMT(clip(v)));
            return SIGV4_BAD_DATE;
        }
        char *basic = moat_arena_alloc(a, 17);
        moat_time_format_basic(auth->request_time, basic);
        auth->amz_date = moat_slice(basic, 16);
        return SIGV4_OK;
    }
    return SIGV4_MISSING; /* reported by the caller together with missing parts */
}

static enum sigv4_status parse_header_form(struct moat_arena *a, const struct sigv4_request *req,
                                           const struct auth_headers *h, struct sigv4_auth *auth,
                                           const char **detail)
{
    struct moat_slice authz = h->authorization;
    struct moat_slice v = moat_slice_trim(authz), algorithm = v, rest = MOAT_NULL_SLICE;
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] == ' ' || v.ptr[i] == '\t') {
            algorithm = moat_slice(v.ptr, i);
            rest = moat_slice(v.ptr + i + 1, v.len - i - 1);
            break;
        }
    }
    if (!moat_slice_eq(algorithm, MOAT_LIT("AWS4-HMAC-SHA256"))) {
        *detail = req->s3 ? "The authorization mechanism you have provided is not supported. "
                            "Please use AWS4-HMAC-SHA256."
                          : moat_arena_printf(a, "Unsupported AWS 'algorithm': '%.*s'",
                                              MOAT_FMT(clip(algorithm)));
        return SIGV4_UNSUPPORTED_ALGORITHM;
    }

    struct moat_slice credential = MOAT_NULL_SLICE, signed_headers = MOAT_NULL_SLICE,
                      signature = MOAT_NULL_SLICE, part;
    bool have_cred = false, have_signed = false, have_sig = false;
    while (moat_slice_split(&rest, ',', &part)) {
        part = moat_slice_trim(part);
        if (part.len == 0)
            continue;
        long eq = moat_slice_index(part, '=');
        if (eq < 0) {
            *detail = req->s3 ? "The authorization header is malformed; the authorization header "
                                "requires three components: Credential, SignedHeaders, and "
                                "Signature."
                              : missing_equal_sign(a, authz);
            return SIGV4_MALFORMED;
        }
        struct moat_slice key = moat_slice_trim(moat_slice(part.ptr, (size_t)eq));
        struct moat_slice val = moat_slice_trim(moat_slice_sub(part, (size_t)eq + 1, part.len));
        if (moat_slice_eq(key, MOAT_LIT("Credential")) && !have_cred) {
            credential = val;
            have_cred = true;
        } else if (moat_slice_eq(key, MOAT_LIT("SignedHeaders")) && !have_signed) {
            signed_headers = val;
            have_signed = true;
        } else if (moat_slice_eq(key, MOAT_LIT("Signature")) && !have_sig) {
            signature = val;
            have_sig = true;
        }
    }
    have_cred = have_cred && credential.len;
    have_signed = have_signed && signed_headers.len;
    have_sig = have_sig && signature.len;

    bool parts = have_cred && have_signed && have_sig;
    enum sigv4_status date_st = header_date(a, req, h, auth, detail);
    if (parts && date_st == SIGV4_BAD_DATE)
        return SIGV4_BAD_DATE;
    if (!parts || date_st == SIGV4_MISSING) {
        if (req->s3) {
            *detail = parts ? "AWS authentication requires a valid Date or x-amz-date header"
                            : "The authorization header is malformed; the authorization header "
                              "requires three components: Credential, SignedHeaders, and "
                              "Signature.";
            return parts ? SIGV4_BAD_DATE : SIGV4_MALFORMED;
        }
        /* AWS lists every missing piece, then echoes the header. */
        struct moat_buf b;
        moat_buf_init(&b, a, 256);
        if (!have_cred)
            moat_buf_append_cstr(&b, "Authorization header requires 'Credential' parameter. ");
        if (!have_sig)
            moat_buf_append_cstr(&b, "Authorization header requires 'Signature' parameter. ");
        if (!have_signed)
            moat_buf_append_cstr(&b, "Authorization header requires 'SignedHeaders' parameter. ");
        if (date_st == SIGV4_MISSING)
            moat_buf_append_cstr(&b, "Authorization header requires existence of either a "
                                     "'X-Amz-Date' or a 'Date' header. ");
        moat_buf_printf(&b, "Authorization=%.*s", MOAT_FMT(clip(authz)));
        *detail = moat_buf_cstr(&b);
        return parts ? SIGV4_BAD_DATE : SIGV4_MALFORMED;
    }
    if (!split_credential(credential, auth)) {
        *detail = bad_credential(a, req->s3, credential, false);
        return SIGV4_MALFORMED;
    }
    auth->signed_headers = signed_headers;
    auth->signature = signature;
    auth->security_token = moat_slice_trim(h->security_token);
    return SIGV4_OK;
}

/* ---- query form -------------------------------------------------------- */

enum qparam {
    QP_ALGORITHM = 0,
    QP_CREDENTIAL,
    QP_DATE,
    QP_EXPIRES,
    QP_SIGNED_HEADERS,
    QP_SIGNATURE,
    QP_TOKEN,
    QP_COUNT,
};

static const char *const qparam_names[QP_COUNT] = {
    "X-Amz-Algorithm",     "X-Amz-Credential", "X-Amz-Date",           "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Signature",  "X-Amz-Security-Token",
};

static void url_decode_lenient(struct moat_arena *a, struct moat_slice in, struct moat_slice *out)
{
    if (!moat_url_decode(a, in, false, out))
        *out = in; /* an invalid escape is kept literally; the signature decides */
}

/* Finds the X-Amz-* parameters (decoded). False on a repeated one. */
static bool collect_query(struct moat_arena *a, struct moat_slice query,
                          struct moat_slice vals[QP_COUNT], bool seen[QP_COUNT])
{
    struct moat_slice rest = query, item;
    while (moat_slice_split(&rest, '&', &item)) {
        long eq = moat_slice_index(item, '=');
        struct moat_slice name = eq < 0 ? item : moat_slice(item.ptr, (size_t)eq);
        if (name.len < 6 || memcmp(name.ptr, "X-Amz-", 6) != 0)
            continue;
        for (int k = 0; k < QP_COUNT; k++) {
            if (!moat_slice_eq_cstr(name, qparam_names[k]))
                continue;
            if (seen[k])
                return false;
            seen[k] = true;
            if (eq >= 0)
                url_decode_lenient(a, moat_slice_sub(item, (size_t)eq + 1, item.len), &vals[k]);
            else
                vals[k] = moat_slice(item.ptr + item.len, 0);
        }
    }
    return true;
}

static bool query_has(struct moat_slice query, const char *name)
{
    struct moat_slice rest = query, item;
    size_t n = strlen(name);
    while (moat_slice_split(&rest, '&', &item))
        if (item.len >= n && memcmp(item.ptr, name, n) == 0 &&
            (item.len == n || item.ptr[n] == '='))
            return true;
    return false;
}

static enum sigv4_status parse_query_form(struct moat_arena *a, const struct sigv4_request *req,
                                          struct sigv4_auth *auth, const char **detail)
{
    struct moat_slice v[QP_COUNT] = {{0}};
    bool seen[QP_COUNT] = {false};
    if (!collect_query(a, req->query, v, seen)) {
        *detail = "AWS query-string parameters must not repeat an X-Amz-* authentication "
                  "parameter.";
        return SIGV4_MALFORMED;
    }
    if (!moat_slice_eq(v[QP_ALGORITHM], MOAT_LIT("AWS4-HMAC-SHA256"))) {
        *detail = req->s3 ? "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""
                          : moat_arena_printf(a, "Unsupported AWS 'algorithm': '%.*s'",
                                              MOAT_FMT(clip(v[QP_ALGORITHM])));
        return SIGV4_UNSUPPORTED_ALGORITHM;
    }
    static const enum qparam required[] = {QP_CREDENTIAL, QP_SIGNATURE, QP_DATE, QP_SIGNED_HEADERS};
    for (size_t i = 0; i < MOAT_COUNT(required); i++) {
        if (v[required[i]].len)
            continue;
        *detail = req->s3 ? "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
                            "and X-Amz-Expires parameters."
                          : moat_arena_printf(a,
                                              "AWS query-string parameters must include '%s'. "
                                              "Re-examine the query-string parameters.",
                                              qparam_names[required[i]]);
        return SIGV4_MALFORMED;
    }
    if (!split_credential(v[QP_CREDENTIAL], auth)) {
        *detail = bad_credential(a, req->s3, v[QP_CREDENTIAL], true);
        return SIGV4_MALFORMED;
    }
    auth->signed_headers = v[QP_SIGNED_HEADERS];
    auth->signature = v[QP_SIGNATURE];
    auth->security_token = v[QP_TOKEN];
    auth->amz_date = v[QP_DATE];
    if (!moat_time_parse_basic(auth->amz_date, &auth->request_time)) {
        *detail = req->s3 ? "X-Amz-Date must be in the ISO8601 Long Format "
                            "\"yyyyMMdd'T'HHmmss'Z'\""
                          : moat_arena_printf(a,
                                              "Date must be in ISO-8601 'basic format'. Got "
                                              "'%.*s'. See http://en.wikipedia.org/wiki/ISO_8601",
                                              MOAT_FMT(clip(auth->amz_date)));
        return SIGV4_BAD_DATE;
    }
    struct moat_slice e = v[QP_EXPIRES];
    int64_t expires;
    if (!seen[QP_EXPIRES] || e.len == 0) {
        *detail = req->s3 ? "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
                            "and X-Amz-Expires parameters."
                          : "AWS query-string parameters must include 'X-Amz-Expires'. "
                            "Re-examine the query-string parameters.";
        return SIGV4_BAD_EXPIRES;
    }
    if (!moat_slice_to_i64(e, &expires)) {
        *detail = "X-Amz-Expires should be a number";
        return SIGV4_BAD_EXPIRES;
    }
    if (expires < 0) {
        *detail = "X-Amz-Expires must be non-negative";
        return SIGV4_BAD_EXPIRES;
    }
    if (expires < 1) {
        *detail = "X-Amz-Expires must be at least 1 second";
        return SIGV4_BAD_EXPIRES;
    }
    if (expires > MAX_PRESIGN_EXPIRES_S) {
        *detail = "X-Amz-Expires must be less than a week (in seconds); that is, the given "
                  "X-Amz-Expires must be less than 604800 seconds";
        return SIGV4_BAD_EXPIRES;
    }
    auth->expires = expires;
    return SIGV4_OK;
}

/* ---- checks common to both forms --------------------------------------- */

/* Date, region, service, terminator: the spec's order (section 3). */
static enum sigv4_status check_scope(struct moat_arena *a, const struct sigv4_request *req,
                                     const struct sigv4_auth *auth, const char *expected_region,
                                     const char *expected_service, const char **detail)
{
    bool q = auth->form == SIGV4_FORM_QUERY;
    const char *s3_prefix = q ? "Error parsing the X-Amz-Credential parameter; "
                              : "The authorization header is malformed; ";
    struct moat_slice day = moat_slice(auth->amz_date.ptr, 8);
    if (!moat_slice_eq(auth->scope_date, day)) {
        if (req->s3)
            *detail = moat_arena_printf(a,
                                        "%sInvalid credential date \"%.*s\". This date is not the "
                                        "same as X-Amz-Date: \"%.*s\".",
                                        s3_prefix, MOAT_FMT(clip(auth->scope_date)), MOAT_FMT(day));
        else
            *detail = moat_arena_printf(a,
                                        "Date in Credential scope does not match YYYYMMDD from "
                                        "ISO-8601 version of date from HTTP: '%.*s' != '%.*s', "
                                        "from '%.*s'.",
                                        MOAT_FMT(clip(auth->scope_date)), MOAT_FMT(day),
                                        MOAT_FMT(auth->amz_date));
        return SIGV4_SCOPE_DATE;
    }
    if (expected_region && !moat_slice_eq_cstr(auth->region, expected_region)) {
        if (req->s3)
            *detail = moat_arena_printf(a, "%sthe region '%.*s' is wrong; expecting '%s'",
                                        s3_prefix, MOAT_FMT(clip(auth->region)), expected_region);
        else
            *detail = "Credential should be scoped to a valid region.";
        return SIGV4_WRONG_REGION;
    }
    if (expected_service && !moat_slice_eq_cstr(auth->service, expected_service)) {
        if (req->s3)
            *detail = moat_arena_printf(a,
                                        "%sincorrect service \"%.*s\". This endpoint belongs to "
                                        "\"%s\".",
                                        s3_prefix, MOAT_FMT(clip(auth->service)), expected_service);
        else
            *detail = moat_arena_printf(a, "Credential should be scoped to correct service: '%s'.",
                                        expected_service);
        return SIGV4_WRONG_SERVICE;
    }
    if (!moat_slice_eq(auth->terminator, MOAT_LIT("aws4_request"))) {
        if (req->s3)
            *detail = moat_arena_printf(a,
                                        "%sincorrect terminal \"%.*s\". This endpoint uses "
                                        "\"aws4_request\".",
                                        s3_prefix, MOAT_FMT(clip(auth->terminator)));
        else
            *detail = moat_arena_printf(a,
                                        "Credential should be scoped with a valid terminator: "
                                        "'aws4_request', not '%.*s'.",
                                        MOAT_FMT(clip(auth->terminator)));
        return SIGV4_BAD_TERMINATOR;
    }
    return SIGV4_OK;
}

static enum sigv4_status check_time(struct moat_arena *a, const struct sigv4_auth *auth,
                                    int64_t now, const char **detail)
{
    char now_s[17], edge[17];
    int64_t t = auth->request_time;
    if (auth->form == SIGV4_FORM_QUERY) {
        if (now > t + auth->expires) {
            *detail = "Request has expired";
            return SIGV4_EXPIRED;
        }
        if (t - now > MAX_SKEW_S) {
            *detail = "Request is not valid yet";
            return SIGV4_TOO_NEW;
        }
        return SIGV4_OK;
    }
    if (now - t > MAX_SKEW_S) {
        moat_time_format_basic(now, now_s);
        moat_time_format_basic(now - MAX_SKEW_S, edge);
        *detail =
            moat_arena_printf(a, "Signature expired: %.*s is now earlier than %s (%s - 15 min.)",
                              MOAT_FMT(auth->amz_date), edge, now_s);
        return SIGV4_TOO_OLD;
    }
    if (t - now > MAX_SKEW_S) {
        moat_time_format_basic(now, now_s);
        moat_time_format_basic(now + MAX_SKEW_S, edge);
        *detail = moat_arena_printf(a,
                                    "Signature not yet current: %.*s is still later than %s (%s "
                                    "+ 15 min.)",
                                    MOAT_FMT(auth->amz_date), edge, now_s);
        return SIGV4_TOO_NEW;
    }
    return SIGV4_OK;
}

static bool is_hex64(struct moat_slice s)
{
    if (s.len != 64)
        return false;
    for (size_t i = 0; i < 64; i++) {
        uint8_t c = s.ptr[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* The x-amz-content-sha256 values S3 accepts with AWS4-HMAC-SHA256 (the ECDSA
 * streaming forms belong to SigV4a, which moat does not verify). */
static bool s3_content_sha256_allowed(struct moat_slice v)
{
    return is_hex64(v) || moat_slice_eq(v, MOAT_LIT("UNSIGNED-PAYLOAD")) ||
           moat_slice_eq(v, MOAT_LIT("STREAMING-UNSIGNED-PAYLOAD-TRAILER")) ||
           moat_slice_eq(v, MOAT_LIT("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")) ||
           moat_slice_eq(v, MOAT_LIT("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"));
}

/* host signed; for S3 x-amz-content-sha256 valid and every x-amz-* header signed. */
static enum sigv4_status check_signed_headers(struct moat_arena *a, const struct sigv4_request *req,
                                              const struct sigv4_auth *auth, const char **detail)
{
    if (!signed_list_has(auth->signed_headers, MOAT_LIT("host"))) {
        *detail = "host";
        return SIGV4_HOST_NOT_SIGNED;
    }
    if (!req->s3)
        return SIGV4_OK;
    if (auth->form == SIGV4_FORM_HEADER) {
        if (!auth->content_sha256.len) {
            *detail = "Missing required header for this request: x-amz-content-sha256";
            return SIGV4_BAD_CONTENT_SHA256;
        }
        if (!s3_content_sha256_allowed(auth->content_sha256)) {
            *detail = "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                      "STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
                      "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.";
            return SIGV4_BAD_CONTENT_SHA256;
        }
    }
    /* An unsigned x-amz-* header could change the meaning of a signed request.
     * X-Amz-Security-Token is exempt: some signers add it after signing (section 6). */
    struct moat_buf names;
    moat_buf_init(&names, a, 0);
    for (size_t i = 0; i < req->header_count; i++) {
        struct moat_slice n = req->headers[i].name;
        if (n.len < 6 || !moat_slice_eq_nocase(moat_slice(n.ptr, 6), MOAT_LIT("x-amz-")))
            continue;
        if (moat_slice_eq_nocase(n, MOAT_LIT("x-amz-security-token")) ||
            signed_list_has(auth->signed_headers, n))
            continue;
        if (names.len)
            moat_buf_append(&names, MOAT_LIT(", "));
        for (size_t k = 0; k < n.len && names.len < 1024; k++) {
            uint8_t c = n.ptr[k];
            moat_buf_append_u8(&names, (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c);
        }
    }
    if (names.len) {
        *detail = moat_buf_cstr(&names);
        return SIGV4_HEADERS_NOT_SIGNED;
    }
    return SIGV4_OK;
}

enum sigv4_status sigv4_parse(struct moat_arena *a, const struct sigv4_request *req,
                              const char *expected_region, const char *expected_service,
                              int64_t now, struct sigv4_auth *auth, const char **detail)
{
    memset(auth, 0, sizeof(*auth));
    *detail = NULL;
    struct auth_headers h;
    collect_headers(req, &h);
    bool header = h.has_authorization;
    bool query = query_has(req->query, "X-Amz-Algorithm");
    enum sigv4_status st;
    if (header && query) {
        *detail = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                  "Signature query string parameter or the Authorization header should be "
                  "specified";
        return SIGV4_MALFORMED;
    }
    if (header) {
        st = parse_header_form(a, req, &h, auth, detail);
        auth->form = SIGV4_FORM_HEADER;
    } else if (query) {
        st = parse_query_form(a, req, auth, detail);
        auth->form = SIGV4_FORM_QUERY;
    } else if (req->s3 && query_has(req->query, "AWSAccessKeyId") &&
               query_has(req->query, "Signature")) {
        /* A SigV2 presigned URL (`aws s3 presign` in CLI v1): name it rather
         * than treat the request as anonymous. */
        *detail = "The authorization mechanism you have provided is not supported. Please use "
                  "AWS4-HMAC-SHA256.";
        return SIGV4_UNSUPPORTED_ALGORITHM;
    } else {
        return SIGV4_MISSING;
    }
    if (st != SIGV4_OK) {
        memset(auth, 0, sizeof(*auth));
        return st;
    }
    auth->content_sha256 = moat_slice_trim(h.content_sha256);

    st = check_scope(a, req, auth, expected_region, expected_service, detail);
    if (st == SIGV4_OK)
        st = check_time(a, auth, now, detail);
    if (st == SIGV4_OK)
        st = check_signed_headers(a, req, auth, detail);
    return st;
}

/* sigv4_error.c: the AWS error for each SigV4 failure, per protocol (spec
 * section 9): one table keyed by (status, protocol column), plus S3's extra elements. */
#include "aws/sigv4.h"

#include "core/buf.h"
#include "core/clock.h"

#include <string.h>

/* AWS JSON 1.0/1.1, REST-JSON and CBOR services share one set of codes. */
static const struct moat_error_kind json_missing_token = {"MissingAuthenticationTokenException",
                                                          400, true};
static const struct moat_error_kind json_incomplete = {"IncompleteSignatureException", 400, true};
static const struct moat_error_kind json_invalid_signature = {"InvalidSignatureException", 400,
                                                              true};
static const struct moat_error_kind json_unrecognized_client = {"UnrecognizedClientException", 400,
                                                                true};
static const struct moat_error_kind json_expired_token = {"ExpiredTokenException", 400, true};
static const struct moat_error_kind json_request_expired = {"RequestExpired", 400, true};

/* AWS Query (IAM, STS). */
static const struct moat_error_kind query_missing_token = {"MissingAuthenticationToken", 403, true};
static const struct moat_error_kind query_incomplete = {"IncompleteSignature", 400, true};
static const struct moat_error_kind query_signature_mismatch = {"SignatureDoesNotMatch", 403, true};
static const struct moat_error_kind query_invalid_client = {"InvalidClientTokenId", 403, true};
static const struct moat_error_kind query_expired_token = {"ExpiredToken", 403, true};
static const struct moat_error_kind query_request_expired = {"RequestExpired", 400, true};

/* S3 (REST-XML). */
static const struct moat_error_kind s3_access_denied = {"AccessDenied", 403, true};
static const struct moat_error_kind s3_header_malformed = {"AuthorizationHeaderMalformed", 400,
                                                           true};
static const struct moat_error_kind s3_query_params = {"AuthorizationQueryParametersError", 400,
                                                       true};
static const struct moat_error_kind s3_invalid_argument = {"InvalidArgument", 400, true};
static const struct moat_error_kind s3_invalid_request = {"InvalidRequest", 400, true};
static const struct moat_error_kind s3_time_skewed = {"RequestTimeTooSkewed", 403, true};
static const struct moat_error_kind s3_invalid_access_key = {"InvalidAccessKeyId", 403, true};
static const struct moat_error_kind s3_invalid_token = {"InvalidToken", 400, true};
static const struct moat_error_kind s3_expired_token = {"ExpiredToken", 400, true};
static const struct moat_error_kind s3_signature_mismatch = {"SignatureDoesNotMatch", 403, true};
static const struct moat_error_kind s3_sha256_mismatch = {"XAmzContentSHA256Mismatch", 400, true};
static const struct moat_error_kind s3_internal = {"InternalError", 500, false};

#define MSG_MISMATCH                                                                               \
    "The request signature we calculated does not match the signature you provided. Check your "   \
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
#define MSG_S3_MISMATCH                                                                            \
    "The request signature we calculated does not match the signature you provided. Check your "   \
    "key and signing method."
#define MSG_INVALID_TOKEN "The security token included in the request is invalid."
#define MSG_EXPIRED_TOKEN "The security token included in the request is expired"
#define MSG_HOST_NOT_SIGNED                                                                        \
    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
#define MSG_NOT_SIGNED "There were headers present in the request which were not signed"
#define MSG_INTERNAL "We encountered an internal error. Please try again."

enum column { COL_QUERY = 0, COL_JSON, COL_S3, COL_S3_PRESIGNED, COL_COUNT };

struct cell {
    const struct moat_error_kind *kind; /* NULL in COL_S3_PRESIGNED: same as COL_S3 */
    const char *message;                /* used when there is no detail, or always if fixed */
    bool fixed;                         /* the message never carries the detail */
};

static const struct cell error_table[SIGV4_STATUS_COUNT][COL_COUNT] = {
    [SIGV4_MISSING] =
        {
            [COL_QUERY] = {&query_missing_token, "Request is missing Authentication Token", true},
            [COL_JSON] = {&json_missing_token, "Missing Authentication Token", true},
            [COL_S3] = {&s3_access_denied, "Access Denied", true},
        },
    [SIGV4_MALFORMED] =
        {
            [COL_QUERY] = {&query_incomplete, "The request signature is incomplete.", false},
            [COL_JSON] = {&json_incomplete, "The request signature is incomplete.", false},
            [COL_S3] = {&s3_header_malformed, "The authorization header is malformed.", false},
            [COL_S3_PRESIGNED] = {&s3_query_params,
                                  "The query-string authentication parameters "
                                  "are malformed.",
                                  false},
        },
    [SIGV4_BAD_DATE] =
        {
            [COL_QUERY] = {&query_incomplete,
                           "Authorization header requires existence of either "
                           "a 'X-Amz-Date' or a 'Date' header.",
                           false},
            [COL_JSON] = {&json_incomplete,
                          "Authorization header requires existence of either a "
                          "'X-Amz-Date' or a 'Date' header.",
                          false},
            [COL_S3] = {&s3_access_denied,
                        "AWS authentication requires a valid Date or "
                        "x-amz-date header",
                        false},
            [COL_S3_PRESIGNED] = {&s3_query_params,
                                  "X-Amz-Date must be in the ISO8601 Long "
                                  "Format \"yyyyMMdd'T'HHmmss'Z'\"",
                                  false},
        },
    [SIGV4_BAD_EXPIRES] =
        {
            [COL_QUERY] = {&query_incomplete, "X-Amz-Expires must be between 1 and 604800.", false},
            [COL_JSON] = {&json_incomplete, "X-Amz-Expires must be between 1 and 604800.", false},
            [COL_S3] = {&s3_query_params, "X-Amz-Expires must be between 1 and 604800.", false},
        },
    [SIGV4_SCOPE_DATE] =
        {
            [COL_QUERY] = {&query_signature_mismatch,
                           "Date in Credential scope does not match "
                           "YYYYMMDD from ISO-8601 version of date "
                           "from HTTP.",
                           false},
            [COL_JSON] = {&json_invalid_signature,
                          "Date in Credential scope does not match "
                          "YYYYMMDD from ISO-8601 version of date from "
                          "HTTP.",
                          false},
            [COL_S3] = {&s3_header_malformed,
                        "The authorization header is malformed; Invalid "
                        "credential date.",
                        false},
            [COL_S3_PRESIGNED] = {&s3_query_params,
                                  "Error parsing the X-Amz-Credential "
                                  "parameter; Invalid credential date.",
                                  false},
        },
    [SIGV4_WRONG_REGION] =
        {
            [COL_QUERY] = {&query_signature_mismatch,
                           "Credential should be scoped to a valid region.", false},
            [COL_JSON] = {&json_invalid_signature, "Credential should be scoped to a valid region.",
                          false},
            [COL_S3] = {&s3_header_malformed,
                        "The authorization header is malformed; the region "
                        "is wrong.",
                        false},
            [COL_S3_PRESIGNED] = {&s3_query_params,
                                  "Error parsing the X-Amz-Credential "
                                  "parameter; the region is wrong.",
                                  false},
        },
    [SIGV4_WRONG_SERVICE] =
        {
            [COL_QUERY] = {&query_signature_mismatch,
                           "Credential should be scoped to correct service.", false},
            [COL_JSON] = {&json_invalid_signature,
                          "Credential should be scoped to correct "
                          "service.",
                          false},
            [COL_S3] = {&s3_header_malformed,
                        "The authorization header is malformed; incorrect "
                        "service.",
                        false},
            [COL_S3_PRESIGNED] = {&s3_query_params,
                                  "Error parsing the X-Amz-Credential "
                                  "parameter; incorrect service.",
                                  false},
        },
    [SIGV4_BAD_TERMINATOR] =
        {
            [COL_QUERY] = {&query_signature_mismatch,
                           "Credential should be scoped with a valid "
                           "terminator: 'aws4_request'.",
                           false},
            [COL_JSON] = {&json_invalid_signature,
                          "Credential should be scoped with a valid "
                          "terminator: 'aws4_request'.",
                          false},
            [COL_S3] = {&s3_header_malformed,
                        "The authorization header is malformed; incorrect "
                        "terminal. This endpoint uses \"aws4_request\".",
                        false},
            [COL_S3_PRESIGNED] = {&s3_query_params,
                                  "Error parsing the X-Amz-Credential "
                                  "parameter; incorrect terminal. This endpoint "
                                  "uses \"aws4_request\".",
                                  false},
        },
    [SIGV4_TOO_OLD] =
        {
            [COL_QUERY] = {&query_signature_mismatch, "Signature expired.", false},
            [COL_JSON] = {&json_invalid_signature, "Signature expired.", false},
            [COL_S3] = {&s3_time_skewed,
                        "The difference between the request time and the "
                        "current time is too large.",
                        true},
        },
    [SIGV4_TOO_NEW] =
        {
            [COL_QUERY] = {&query_signature_mismatch, "Signature not yet current.", false},
            [COL_JSON] = {&json_invalid_signature, "Signature not yet current.", false},
            [COL_S3] = {&s3_time_skewed,
                        "The difference between the request time and the "
                        "current time is too large.",
                        true},
            [COL_S3_PRESIGNED] = {&s3_access_denied, "Request is not valid yet", true},
        },
    [SIGV4_EXPIRED] =
        {
            [COL_QUERY] = {&query_request_expired, "Request has expired", true},
            [COL_JSON] = {&json_request_expired, "Request has expired", true},
            [COL_S3] = {&s3_access_denied, "Request has expired", true},
        },
    [SIGV4_UNKNOWN_KEY] =
        {
            [COL_QUERY] = {&query_invalid_client, MSG_INVALID_TOKEN, true},
            [COL_JSON] = {&json_unrecognized_client, MSG_INVALID_TOKEN, true},
            [COL_S3] = {&s3_invalid_access_key,
                        "The AWS Access Key Id you provided does not "
                        "exist in our records.",
                        true},
        },
    [SIGV4_BAD_TOKEN] =
        {
            [COL_QUERY] = {&query_invalid_client, MSG_INVALID_TOKEN, true},
            [COL_JSON] = {&json_unrecognized_client, MSG_INVALID_TOKEN, true},
            [COL_S3] = {&s3_invalid_token,
                        "The provided token is malformed or otherwise "
                        "invalid.",
                        true},
        },
    [SIGV4_EXPIRED_TOKEN] =
        {
            [COL_QUERY] = {&query_expired_token, MSG_EXPIRED_TOKEN, true},
            [COL_JSON] = {&json_expired_token, MSG_EXPIRED_TOKEN, true},
            [COL_S3] = {&s3_expired_token, "The provided token has expired.", true},
        },
    [SIGV4_HOST_NOT_SIGNED] =
        {
            [COL_QUERY] = {&query_incomplete, MSG_HOST_NOT_SIGNED, true},
            [COL_JSON] = {&json_incomplete, MSG_HOST_NOT_SIGNED, true},
            [COL_S3] = {&s3_access_denied, MSG_NOT_SIGNED, true},
        },
    [SIGV4_SIGNED_HEADER_ABSENT] =
        {
            [COL_QUERY] = {&query_signature_mismatch, MSG_MISMATCH, true},
            [COL_JSON] = {&json_invalid_signature, MSG_MISMATCH, true},
            [COL_S3] = {&s3_signature_mismatch, MSG_S3_MISMATCH, true},
        },
    [SIGV4_HEADERS_NOT_SIGNED] =
        {
            [COL_QUERY] = {&query_signature_mismatch, MSG_MISMATCH, true},
            [COL_JSON] = {&json_invalid_signature, MSG_MISMATCH, true},
            [COL_S3] = {&s3_access_denied, MSG_NOT_SIGNED, true},
        },
    [SIGV4_BAD_CONTENT_SHA256] =
        {
            [COL_QUERY] = {&query_signature_mismatch, MSG_MISMATCH, true},
            [COL_JSON] = {&json_invalid_signature, MSG_MISMATCH, true},
            [COL_S3] = {&s3_invalid_argument,
                        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                        "STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
                        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
                        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a "
                        "valid sha256 value.",
                        false},
        },
    [SIGV4_MISMATCH] =
        {
            [COL_QUERY] = {&query_signature_mismatch, MSG_MISMATCH, true},
            [COL_JSON] = {&json_invalid_signature, MSG_MISMATCH, true},
            [COL_S3] = {&s3_signature_mismatch, MSG_S3_MISMATCH, true},
        },
    [SIGV4_BODY_HASH_MISMATCH] =
        {
            [COL_QUERY] = {&query_signature_mismatch, MSG_MISMATCH, true},
            [COL_JSON] = {&json_invalid_signature, MSG_MISMATCH, true},
            [COL_S3] = {&s3_sha256_mismatch,
                        "The provided 'x-amz-content-sha256' header does "
                        "not match what was computed.",
                        true},
        },
    [SIGV4_UNSUPPORTED_ALGORITHM] =
        {
            [COL_QUERY] = {&query_incomplete, "Unsupported AWS 'algorithm'.", false},
            [COL_JSON] = {&json_incomplete, "Unsupported AWS 'algorithm'.", false},
            [COL_S3] = {&s3_invalid_request,
                        "The authorization mechanism you have provided is "
                        "not supported. Please use AWS4-HMAC-SHA256.",
                        false},
            [COL_S3_PRESIGNED] = {&s3_query_params,
                                  "X-Amz-Algorithm only supports "
                                  "\"AWS4-HMAC-SHA256\"",
                                  false},
        },
    [SIGV4_INTERNAL_ERROR] =
        {
            [COL_QUERY] = {&moat_internal_failure, MSG_INTERNAL, true},
            [COL_JSON] = {&moat_internal_failure, MSG_INTERNAL, true},
            [COL_S3] = {&s3_internal, MSG_INTERNAL, true},
        },
};

static enum column column_for(enum moat_protocol proto, const struct sigv4_auth *auth)
{
    switch (proto) {
    case MOAT_PROTO_QUERY:
        return COL_QUERY;
    case MOAT_PROTO_REST_XML:
        return auth && auth->form == SIGV4_FORM_QUERY ? COL_S3_PRESIGNED : COL_S3;
    case MOAT_PROTO_JSON:
    case MOAT_PROTO_REST_JSON:
    case MOAT_PROTO_CBOR:
    case MOAT_PROTO_COUNT:
        break;
    }
    return COL_JSON;
}

/* "41 57 53 34": how S3 shows StringToSignBytes and CanonicalRequestBytes. */
static struct moat_slice spaced_hex(struct moat_arena *a, struct moat_slice s)
{
    static const char digits[] = "0123456789abcdef";
    if (!s.len)
        return MOAT_LIT("");
    uint8_t *p = moat_arena_alloc(a, 3 * s.len);
    for (size_t i = 0; i < s.len; i++) {
        p[3 * i] = (uint8_t)digits[s.ptr[i] >> 4];
        p[3 * i + 1] = (uint8_t)digits[s.ptr[i] & 15];
        p[3 * i + 2] = ' ';
    }
    return moat_slice(p, 3 * s.len - 1);
}

static struct moat_slice iso_time(struct moat_arena *a, int64_t t)
{
    char *p = moat_arena_alloc(a, 21);
    moat_time_format_iso8601(t, p);
    return moat_slice_cstr(p);
}

static void add_s3_extras(struct moat_arena *a, struct moat_error *e, enum sigv4_status status,
                          const char *detail, const struct sigv4_error_info *info)
{
    const struct sigv4_auth *auth = info ? info->auth : NULL;
    switch (status) {
    case SIGV4_MISMATCH:
    case SIGV4_SIGNED_HEADER_ABSENT:
        if (auth) {
            moat_error_add_extra(a, e, "AWSAccessKeyId", auth->access_key_id);
            moat_error_add_extra(a, e, "SignatureProvided", auth->signature);
        }
        if (info && info->string_to_sign.len) {
            moat_error_add_extra(a, e, "StringToSign", info->string_to_sign);
            moat_error_add_extra(a, e, "StringToSignBytes", spaced_hex(a, info->string_to_sign));
        }
        if (info && info->canonical_request.len) {
            moat_error_add_extra(a, e, "CanonicalRequest", info->canonical_request);
            moat_error_add_extra(a, e, "CanonicalRequestBytes",
                                 spaced_hex(a, info->canonical_request));
        }
        break;
    case SIGV4_UNKNOWN_KEY:
        if (auth)
            moat_error_add_extra(a, e, "AWSAccessKeyId", auth->access_key_id);
        break;
    case SIGV4_TOO_OLD:
    case SIGV4_TOO_NEW:
        if (auth && auth->form == SIGV4_FORM_HEADER) {
            moat_error_add_extra(a, e, "RequestTime", auth->amz_date);
            moat_error_add_extra(a, e, "ServerTime", iso_time(a, info->now));
            moat_error_add_extra(a, e, "MaxAllowedSkewMilliseconds", MOAT_LIT("900000"));
        }
        break;
    case SIGV4_EXPIRED:
        if (auth) {
            moat_error_add_extra(
                a, e, "X-Amz-Expires",
                moat_slice_cstr(moat_arena_printf(a, "%lld", (long long)auth->expires)));
            moat_error_add_extra(a, e, "Expires", iso_time(a, auth->request_time + auth->expires));
            moat_error_add_extra(a, e, "ServerTime", iso_time(a, info->now));
        }
        break;
    case SIGV4_WRONG_REGION:
        if (info && info->expected_region)
            moat_error_add_extra(a, e, "Region", moat_slice_cstr(info->expected_region));
        break;
    case SIGV4_HOST_NOT_SIGNED:
    case SIGV4_HEADERS_NOT_SIGNED:
        if (detail)
            moat_error_add_extra(a, e, "HeadersNotSigned", moat_slice_cstr(detail));
        break;
    case SIGV4_BODY_HASH_MISMATCH:
        if (auth)
            moat_error_add_extra(a, e, "ClientComputedContentSHA256", auth->content_sha256);
        break;
    default:
        break;
    }
}

struct moat_error *sigv4_error_ex(struct moat_arena *a, enum moat_protocol proto,
                                  enum sigv4_status status, const char *detail,
                                  const struct sigv4_error_info *info)
{
    if (status == SIGV4_OK)
        return NULL;
    if ((unsigned)status >= SIGV4_STATUS_COUNT)
        status = SIGV4_INTERNAL_ERROR;
    enum column col = column_for(proto, info ? info->auth : NULL);
    const struct cell *c = &error_table[status][col];
    if (!c->kind)
        c = &error_table[status][COL_S3];
    const char *msg = c->fixed || !detail || !*detail ? c->message : detail;
    struct moat_error *e = moat_error_new(a, c->kind, "%s", msg);
    if (proto == MOAT_PROTO_REST_XML)
        add_s3_extras(a, e, status, detail, info);
    return e;
}

struct moat_error *sigv4_error(struct moat_arena *a, enum moat_protocol proto,
                               enum sigv4_status status, const char *detail)
{
    return sigv4_error_ex(a, proto, status, detail, NULL);
}

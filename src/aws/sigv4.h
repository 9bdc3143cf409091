/* sigv4.h: AWS Signature Version 4 verification (header and presigned query
 * forms, S3 streaming chunks). The algorithm is ../shared/specs/sigv4-spec.md;
 * the mapping of each failure to a protocol's AWS error is sigv4_error(). */
#ifndef MOAT_SIGV4_H
#define MOAT_SIGV4_H

#include "aws/protocol.h"
#include "core/error.h"

/* The parts of an HTTP request that SigV4 covers, all borrowed. A zeroed
 * struct with method, path, headers and body set describes a non-S3 request. */
struct sigv4_request {
    struct moat_slice method;
    struct moat_slice path;            /* raw wire path, without '?' and query */
    struct moat_slice query;           /* raw wire query after '?', may be empty */
    const struct moat_header *headers; /* names as received (any case) */
    size_t header_count;
    struct moat_slice body; /* the complete body (ignored when payload_hash is set) */
    /* Lowercase hex SHA-256 of the body when the caller already has it (e.g. it
     * hashed the body while spooling it to disk); empty: the body is hashed here. */
    struct moat_slice payload_hash;
    bool s3; /* S3 rules: no path normalisation, single encoding, x-amz-content-sha256 */
    /* Non-S3 only: double-encode the path but skip dot-segment removal and
     * empty-segment collapsing (the v4 suite's `normalize: false` cases). */
    bool unnormalized;
};

enum sigv4_form { SIGV4_FORM_NONE = 0, SIGV4_FORM_HEADER, SIGV4_FORM_QUERY };

/* What the Authorization header or the X-Amz-* query parameters say. Slices
 * borrow from the request or live in the arena given to sigv4_parse. */
struct sigv4_auth {
    enum sigv4_form form;
    struct moat_slice access_key_id;
    struct moat_slice scope_date; /* yyyymmdd */
    struct moat_slice region;
    struct moat_slice service;
    struct moat_slice terminator;     /* "aws4_request" once parsed successfully */
    struct moat_slice signed_headers; /* "host;x-amz-date" */
    struct moat_slice signature;      /* as provided; anything but 64 lowercase hex never matches */
    struct moat_slice amz_date;       /* yyyymmddThhmmssZ as signed (from Date if no X-Amz-Date) */
    struct moat_slice security_token; /* X-Amz-Security-Token, header or query; may be empty */
    struct moat_slice content_sha256; /* x-amz-content-sha256 header, may be empty */
    int64_t request_time;             /* epoch seconds of amz_date */
    int64_t expires;                  /* presigned: X-Amz-Expires seconds, else 0 */
    /* Presigned only: build the canonical query without X-Amz-Security-Token
     * (some signers append the token after signing). sigv4_verify tries both
     * ways by itself; this is for sigv4_canonical_request. */
    bool token_unsigned;
};

enum sigv4_status {
    SIGV4_OK = 0,
    SIGV4_MISSING,     /* no Authorization header and no X-Amz-Algorithm */
    SIGV4_MALFORMED,   /* incomplete or unparsable auth (missing parts, bad framing) */
    SIGV4_BAD_DATE,    /* no X-Amz-Date/Date or a malformed one */
    SIGV4_BAD_EXPIRES, /* presigned X-Amz-Expires missing, non-numeric, < 1 or > 604800 */
    SIGV4_SCOPE_DATE,  /* scope date differs from the request date */
    SIGV4_WRONG_REGION,
    SIGV4_WRONG_SERVICE,
    SIGV4_BAD_TERMINATOR,        /* scope does not end in aws4_request */
    SIGV4_TOO_OLD,               /* header form: request time more than 15 minutes in the past */
    SIGV4_TOO_NEW,               /* request time more than 15 minutes in the future */
    SIGV4_EXPIRED,               /* presigned URL past X-Amz-Date + X-Amz-Expires */
    SIGV4_UNKNOWN_KEY,           /* access key id not known */
    SIGV4_BAD_TOKEN,             /* session token unknown or not for this key */
    SIGV4_EXPIRED_TOKEN,         /* session token expired */
    SIGV4_HOST_NOT_SIGNED,       /* host missing from SignedHeaders */
    SIGV4_SIGNED_HEADER_ABSENT,  /* a header listed in SignedHeaders is not in the request */
    SIGV4_HEADERS_NOT_SIGNED,    /* S3: an x-amz-* header present but not signed */
    SIGV4_BAD_CONTENT_SHA256,    /* S3: x-amz-content-sha256 missing or not an allowed value */
    SIGV4_MISMATCH,              /* the signature does not match */
    SIGV4_BODY_HASH_MISMATCH,    /* S3: body hash differs from x-amz-content-sha256 */
    SIGV4_UNSUPPORTED_ALGORITHM, /* not AWS4-HMAC-SHA256 (SigV2, SigV4a, anything else) */
    SIGV4_INTERNAL_ERROR,        /* OpenSSL failed (logged); InternalFailure */
    SIGV4_STATUS_COUNT,
};

/* "SIGV4_MISMATCH" -> "mismatch": a stable name for logs and audit records. */
const char *sigv4_status_name(enum sigv4_status status);

/* Step 1: find and parse the signature. Checks syntax, the date, the presign
 * expiry bounds, the scope (date, region, service, terminator, in that order),
 * the time window, that host is signed and, for S3, x-amz-content-sha256 and
 * unsigned x-amz-* headers; does not look up keys. `expected_region` and
 * `expected_service` are what this endpoint serves (NULL: accept any).
 * now: epoch seconds of service time. On failure *detail is a message for the
 * client (in S3's wording when req->s3; allocated in `a` or static), or NULL.
 * Once the syntax is valid auth->form is set and every field is filled, even if
 * a later check fails: a caller that wants the spec's order (unknown key before
 * scope and time errors) looks the key up before answering with that status. */
enum sigv4_status sigv4_parse(struct moat_arena *a, const struct sigv4_request *req,
                              const char *expected_region, const char *expected_service,
                              int64_t now, struct sigv4_auth *auth, const char **detail);

/* Step 2, once the caller has found the secret for auth->access_key_id (and
 * resolved the session token): rebuild the canonical request, compute the
 * signature (signing key from the per-thread cache) and compare in constant
 * time. S3 with a hex x-amz-content-sha256: the body hash is compared after
 * the signature (SIGV4_BODY_HASH_MISMATCH). On SIGV4_MISMATCH, *canonical and
 * *string_to_sign (if non-NULL) hold what the server computed, for S3's error body. */
enum sigv4_status sigv4_verify(struct moat_arena *a, const struct sigv4_request *req,
                               const struct sigv4_auth *auth, struct moat_slice secret,
                               struct moat_slice *canonical, struct moat_slice *string_to_sign);

/* The pieces, exposed for the test vectors. sigv4_canonical_request returns
 * false when a signed header is absent from the request. */
bool sigv4_canonical_request(struct moat_arena *a, const struct sigv4_request *req,
                             const struct sigv4_auth *auth, struct moat_slice *out);
struct moat_slice sigv4_string_to_sign(struct moat_arena *a, const struct sigv4_auth *auth,
                                       struct moat_slice canonical_request);
/* kSigning for (secret, date, region, service), cached per thread. False (and
 * out zeroed) only if OpenSSL fails. */
MOAT_MUST_CHECK bool sigv4_signing_key(struct moat_slice secret, struct moat_slice date,
                                       struct moat_slice region, struct moat_slice service,
                                       uint8_t out[32]);
/* Lowercase hex HMAC-SHA256(key, msg) into out (65 bytes with NUL). */
MOAT_MUST_CHECK bool sigv4_hmac_hex(const uint8_t key[32], struct moat_slice msg, char out[65]);
/* Lowercase hex HMAC-SHA256(kSigning, msg) with the cached signing key: the
 * hot path of verification (the key stays loaded in a per-thread MAC context). */
MOAT_MUST_CHECK bool sigv4_sign_hex(struct moat_slice secret, struct moat_slice date,
                                    struct moat_slice region, struct moat_slice service,
                                    struct moat_slice msg, char out[65]);
/* Lowercase hex SHA-256 of msg into out (65 bytes with NUL). */
MOAT_MUST_CHECK bool sigv4_sha256_hex(struct moat_slice msg, char out[65]);

/* S3 aws-chunked streaming bodies (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER],
 * STREAMING-UNSIGNED-PAYLOAD-TRAILER, chosen by auth->content_sha256): decodes
 * `wire` (already free of any HTTP Transfer-Encoding) into the payload, verifying
 * every chunk signature against the seed (auth->signature, which sigv4_verify
 * must have accepted) and the trailer signature when present. Trailer lines are
 * returned as headers (values trimmed, x-amz-trailer-signature left out).
 * Comparing the payload length with x-amz-decoded-content-length and the
 * trailer checksum with the payload is the caller's job. */
struct sigv4_chunked_result {
    struct moat_slice payload;
    struct moat_header *trailers;
    size_t trailer_count;
};
enum sigv4_status sigv4_decode_chunked(struct moat_arena *a, const struct sigv4_auth *auth,
                                       struct moat_slice secret, struct moat_slice wire,
                                       struct sigv4_chunked_result *out, const char **detail);

/* The AWS error for a failure, in the protocol's own code and HTTP status
 * (the table in sigv4-spec.md section 9). detail goes into the message where AWS puts one.
 * NULL for SIGV4_OK. */
struct moat_error *sigv4_error(struct moat_arena *a, enum moat_protocol proto,
                               enum sigv4_status status, const char *detail);

/* What S3 echoes in its error body, all optional. With auth->form ==
 * SIGV4_FORM_QUERY, S3 errors use the presigned codes (AuthorizationQueryParametersError). */
struct sigv4_error_info {
    const struct sigv4_auth *auth;
    int64_t now;                         /* epoch seconds (ServerTime) */
    const char *expected_region;         /* <Region> for a wrong-region error */
    struct moat_slice canonical_request; /* from sigv4_verify on a mismatch */
    struct moat_slice string_to_sign;
};
/* sigv4_error plus, for REST_XML, the extra elements S3 adds (AWSAccessKeyId,
 * StringToSign(Bytes), CanonicalRequest(Bytes), SignatureProvided, RequestTime,
 * ServerTime, MaxAllowedSkewMilliseconds, X-Amz-Expires, Expires, Region,
 * HeadersNotSigned, ClientComputedContentSHA256). For HOST_NOT_SIGNED and
 * HEADERS_NOT_SIGNED, detail is the list of unsigned header names. */
struct moat_error *sigv4_error_ex(struct moat_arena *a, enum moat_protocol proto,
                                  enum sigv4_status status, const char *detail,
                                  const struct sigv4_error_info *info);

/* Header lookup helper shared by the HTTP layer: case-insensitive, first match. */
bool sigv4_find_header(const struct sigv4_request *req, const char *lower_name,
                       struct moat_slice *value);

#endif

/* fuzz_sigv4.c: SigV4 parsing, canonicalisation, verification, aws-chunked
 * decoding and error mapping on arbitrary requests, with a fixed secret and clock. */
#include "aws/sigv4.h"
#include "core/clock.h"

#include <stdlib.h>
#include <string.h>

/* Input: one flags byte, then a request in the text form of the shared v4
 * vectors ("METHOD target HTTP/1.1", header lines, a blank line, the body).
 * Flags: bit 0 S3 rules, bit 1 unnormalized, bit 2 no expected region/service,
 * bits 3-4 the chunked mode tried on the body, bits 5-7 the protocol. */
enum {
    FLAG_S3 = 1 << 0,
    FLAG_UNNORMALIZED = 1 << 1,
    FLAG_ANY_SCOPE = 1 << 2,
};

#define MAX_HEADERS 64
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static const char *const chunk_modes[4] = {
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "UNSIGNED-PAYLOAD",
};

static bool next_line(struct moat_slice *rest, struct moat_slice *line)
{
    if (!rest->len)
        return false;
    long nl = moat_slice_index(*rest, '\n');
    if (nl < 0) {
        *line = *rest;
        *rest = moat_slice(rest->ptr + rest->len, 0);
        return true;
    }
    *line = moat_slice(rest->ptr, (size_t)nl);
    *rest = moat_slice(rest->ptr + nl + 1, rest->len - (size_t)nl - 1);
    return true;
}

static void parse_input(struct moat_slice in, struct sigv4_request *req, struct moat_header *hdrs)
{
    struct moat_slice rest = in, line;
    if (next_line(&rest, &line)) {
        long first = moat_slice_index(line, ' ');
        size_t last = line.len;
        while (last > 0 && line.ptr[last - 1] != ' ')
            last--;
        if (first >= 0 && last > (size_t)first + 1) {
            req->method = moat_slice(line.ptr, (size_t)first);
            struct moat_slice target = moat_slice_sub(line, (size_t)first + 1, last - 1);
            long q = moat_slice_index(target, '?');
            if (q < 0) {
                req->path = target;
            } else {
                req->path = moat_slice(target.ptr, (size_t)q);
                req->query = moat_slice_sub(target, (size_t)q + 1, target.len);
            }
        } else {
            req->method = line;
        }
    }
    while (next_line(&rest, &line) && line.len) {
        if ((line.ptr[0] == ' ' || line.ptr[0] == '\t') && req->header_count) {
            struct moat_header *h = &hdrs[req->header_count - 1];
            h->value.len = (size_t)(line.ptr + line.len - h->value.ptr); /* obs-fold, kept raw */
            continue;
        }
        if (req->header_count == MAX_HEADERS)
            continue;
        long colon = moat_slice_index(line, ':');
        struct moat_header *h = &hdrs[req->header_count++];
        if (colon < 0) {
            *h = (struct moat_header){line, moat_slice(line.ptr + line.len, 0)};
        } else {
            h->name = moat_slice(line.ptr, (size_t)colon);
            h->value = moat_slice_sub(line, (size_t)colon + 1, line.len);
        }
    }
    req->body = rest;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    struct moat_slice in = moat_slice(data + 1, size - 1);
    struct moat_arena *a = moat_arena_new(8192);
    struct moat_header hdrs[MAX_HEADERS];
    struct sigv4_request req = {.s3 = flags & FLAG_S3, .unnormalized = flags & FLAG_UNNORMALIZED};
    req.headers = hdrs;
    parse_input(in, &req, hdrs);

    int64_t now = 0;
    moat_time_parse_basic(MOAT_LIT("20150830T123600Z"), &now);
    bool any = flags & FLAG_ANY_SCOPE;
    const char *region = any ? NULL : "us-east-1";
    const char *service = any ? NULL : (req.s3 ? "s3" : "service");
    struct sigv4_auth auth;
    const char *detail = NULL;
    enum sigv4_status st = sigv4_parse(a, &req, region, service, now, &auth, &detail);
    if ((unsigned)st >= SIGV4_STATUS_COUNT)
        abort();
    if (st == SIGV4_OK && auth.form == SIGV4_FORM_NONE)
        abort();
    if (detail)
        (void)strlen(detail); /* must be a terminated string */

    struct moat_slice creq = MOAT_NULL_SLICE, sts = MOAT_NULL_SLICE;
    if (auth.form != SIGV4_FORM_NONE) {
        /* Canonicalisation is deterministic (catches reads of uninitialised bytes). */
        struct moat_slice c1, c2;
        bool ok1 = sigv4_canonical_request(a, &req, &auth, &c1);
        bool ok2 = sigv4_canonical_request(a, &req, &auth, &c2);
        if (ok1 != ok2 || !moat_slice_eq(c1, c2))
            abort();
        enum sigv4_status vs = sigv4_verify(a, &req, &auth, MOAT_LIT(SECRET), &creq, &sts);
        if ((unsigned)vs >= SIGV4_STATUS_COUNT)
            abort();
        if (st == SIGV4_OK)
            st = vs;
    }

    /* The body as an aws-chunked stream, whatever the headers said. */
    struct sigv4_auth chunk_auth = auth;
    if (chunk_auth.form == SIGV4_FORM_NONE) {
        chunk_auth.scope_date = MOAT_LIT("20150830");
        chunk_auth.region = MOAT_LIT("us-east-1");
        chunk_auth.service = MOAT_LIT("s3");
        chunk_auth.amz_date = MOAT_LIT("20150830T123600Z");
        chunk_auth.signature =
            MOAT_LIT("4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    }
    chunk_auth.content_sha256 = moat_slice_cstr(chunk_modes[(flags >> 3) & 3]);
    struct sigv4_chunked_result out;
    const char *cdetail = NULL;
    enum sigv4_status cs =
        sigv4_decode_chunked(a, &chunk_auth, MOAT_LIT(SECRET), req.body, &out, &cdetail);
    if (cs == SIGV4_OK && out.payload.len > req.body.len)
        abort();
    if (cs != SIGV4_OK && out.trailer_count)
        abort();

    struct sigv4_error_info info = {.auth = auth.form != SIGV4_FORM_NONE ? &auth : NULL,
                                    .now = now,
                                    .expected_region = region,
                                    .canonical_request = creq,
                                    .string_to_sign = sts};
    struct moat_error *e =
        sigv4_error_ex(a, (enum moat_protocol)((flags >> 5) % MOAT_PROTO_COUNT), st, detail, &info);
    if ((st == SIGV4_OK) != (e == NULL))
        abort();
    moat_arena_free(a);
    return 0;
}

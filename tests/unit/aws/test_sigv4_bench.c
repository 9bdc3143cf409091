/* test_sigv4_bench.c: SigV4 verification throughput on one core, with the
 * request shape of measured-limits.md section 1 (JSON call, ~300-byte body). */
#include "harness.h"

#include "aws/sigv4.h"
#include "core/buf.h"
#include "core/clock.h"

#include <stdlib.h>
#include <time.h>

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define AMZ_DATE "20150830T123600Z"

static double bench_seconds(void)
{
    const char *s = getenv("MOAT_BENCH_SECONDS");
    double v = s ? atof(s) : 0.5;
    return v > 0 ? v : 0.5;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: other jobs share the box */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct fixture {
    struct moat_header headers[8];
    struct sigv4_request req;
    int64_t now;
};

/* A KMS Encrypt-like request, signed with the library's own pieces. */
static void make_request(struct moat_arena *a, struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    struct moat_buf body;
    moat_buf_init(&body, a, 320);
    moat_buf_append_cstr(&body, "{\"KeyId\":\"arn:aws:kms:us-east-1:111122223333:key/"
                                "1234abcd-12ab-34cd-56ef-1234567890ab\",\"Plaintext\":\"");
    while (body.len < 290)
        moat_buf_append_cstr(&body, "QUJD");
    moat_buf_append_cstr(&body, "\"}");
    f->headers[0] = (struct moat_header){MOAT_LIT("Host"), MOAT_LIT("kms.us-east-1.amazonaws.com")};
    f->headers[1] =
        (struct moat_header){MOAT_LIT("X-Amz-Target"), MOAT_LIT("TrentService.Encrypt")};
    f->headers[2] =
        (struct moat_header){MOAT_LIT("Content-Type"), MOAT_LIT("application/x-amz-json-1.1")};
    f->headers[3] = (struct moat_header){MOAT_LIT("User-Agent"),
                                         MOAT_LIT("Botocore/1.43.11 ua/2.1 os/linux lang/python")};
    f->headers[4] = (struct moat_header){MOAT_LIT("X-Amz-Date"), MOAT_LIT(AMZ_DATE)};
    f->headers[5] = (struct moat_header){MOAT_LIT("Content-Length"), MOAT_LIT("300")};
    f->req = (struct sigv4_request){.method = MOAT_LIT("POST"),
                                    .path = MOAT_LIT("/"),
                                    .headers = f->headers,
                                    .header_count = 6,
                                    .body = moat_buf_slice(&body)};
    struct sigv4_auth auth = {
        .form = SIGV4_FORM_HEADER,
        .scope_date = MOAT_LIT("20150830"),
        .region = MOAT_LIT("us-east-1"),
        .service = MOAT_LIT("kms"),
        .signed_headers = MOAT_LIT("content-length;content-type;host;x-amz-date;x-amz-target"),
        .amz_date = MOAT_LIT(AMZ_DATE),
    };
    struct moat_slice creq;
    CHECK(sigv4_canonical_request(a, &f->req, &auth, &creq));
    char sig[65];
    CHECK(sigv4_sign_hex(MOAT_LIT(SECRET), auth.scope_date, auth.region, auth.service,
                         sigv4_string_to_sign(a, &auth, creq), sig));
    f->headers[6] = (struct moat_header){
        MOAT_LIT("Authorization"),
        moat_slice_cstr(moat_arena_printf(
            a,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, "
            "SignedHeaders=%.*s, Signature=%s",
            MOAT_FMT(auth.signed_headers), sig))};
    f->req.header_count = 7;
    CHECK(moat_time_parse_basic(MOAT_LIT(AMZ_DATE), &f->now));
}

MOAT_TEST(verify_throughput)
{
    struct fixture f;
    make_request(a, &f);
    struct sigv4_auth auth;
    const char *detail;
    CHECK_EQ_INT(sigv4_parse(a, &f.req, "us-east-1", "kms", f.now, &auth, &detail), SIGV4_OK);
    CHECK_EQ_INT(sigv4_verify(a, &f.req, &auth, MOAT_LIT(SECRET), NULL, NULL), SIGV4_OK);

    struct moat_arena *scratch = moat_arena_new(16 * 1024);
    double limit = bench_seconds();
    long n = 0, bad = 0;
    double t0 = now_s(), t1;
    do {
        for (int i = 0; i < 1000; i++) {
            moat_arena_reset(scratch);
            bad += sigv4_verify(scratch, &f.req, &auth, MOAT_LIT(SECRET), NULL, NULL) != SIGV4_OK;
        }
        n += 1000;
        t1 = now_s();
    } while (t1 - t0 < limit);
    printf("sigv4 verify, cached key: %.0f verifies/s, %.2f us each\n", n / (t1 - t0),
           (t1 - t0) * 1e6 / n);
    CHECK_EQ_INT(bad, 0);

    n = 0;
    t0 = now_s();
    do {
        for (int i = 0; i < 1000; i++) {
            moat_arena_reset(scratch);
            struct sigv4_auth pa;
            bad +=
                sigv4_parse(scratch, &f.req, "us-east-1", "kms", f.now, &pa, &detail) != SIGV4_OK;
        }
        n += 1000;
        t1 = now_s();
    } while (t1 - t0 < limit);
    printf("sigv4 parse: %.0f parses/s, %.2f us each\n", n / (t1 - t0), (t1 - t0) * 1e6 / n);
    CHECK_EQ_INT(bad, 0);

    n = 0;
    t0 = now_s();
    do {
        for (int i = 0; i < 1000; i++) {
            moat_arena_reset(scratch);
            struct sigv4_auth pa;
            bad +=
                sigv4_parse(scratch, &f.req, "us-east-1", "kms", f.now, &pa, &detail) != SIGV4_OK;
            bad += sigv4_verify(scratch, &f.req, &pa, MOAT_LIT(SECRET), NULL, NULL) != SIGV4_OK;
        }
        n += 1000;
        t1 = now_s();
    } while (t1 - t0 < limit);
    printf("sigv4 parse + verify, cached key: %.0f requests/s, %.2f us each\n", n / (t1 - t0),
           (t1 - t0) * 1e6 / n);
    CHECK_EQ_INT(bad, 0);
    /* The measured path does reject: a body one byte shorter no longer verifies. */
    f.req.body.len--;
    CHECK_EQ_INT(sigv4_verify(scratch, &f.req, &auth, MOAT_LIT(SECRET), NULL, NULL),
                 SIGV4_MISMATCH);
    moat_arena_free(scratch);
}

MOAT_TEST(key_derivation_throughput)
{
    /* 16 scopes cycle through the 8-slot cache: every call derives. */
    char regions[16][16];
    for (int i = 0; i < 16; i++)
        snprintf(regions[i], sizeof(regions[i]), "region-%d", i);
    double limit = bench_seconds();
    long n = 0, bad = 0;
    double t0 = now_s(), t1;
    do {
        for (int i = 0; i < 1000; i++) {
            uint8_t key[32];
            bad += !sigv4_signing_key(MOAT_LIT(SECRET), MOAT_LIT("20150830"),
                                      moat_slice_cstr(regions[i & 15]), MOAT_LIT("kms"), key);
        }
        n += 1000;
        t1 = now_s();
    } while (t1 - t0 < limit);
    printf("sigv4 signing key derivation (cache miss): %.0f keys/s, %.2f us each\n", n / (t1 - t0),
           (t1 - t0) * 1e6 / n);
    CHECK_EQ_INT(bad, 0);
    /* Garbage in, no crash: an empty scope still derives a key. */
    uint8_t key[32];
    CHECK(sigv4_signing_key(MOAT_LIT(""), MOAT_LIT(""), MOAT_LIT(""), MOAT_LIT(""), key));
    (void)a;
}

MOAT_TEST_MAIN(MOAT_CASE(verify_throughput), MOAT_CASE(key_derivation_throughput))

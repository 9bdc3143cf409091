/* test_iam_totp.c: TOTP codes of virtual MFA devices against RFC 6238's test vectors
 * (SHA-1, the last six of its eight digits), base32 seeds against RFC 4648's, code
 * parsing, the QR code's error correction and PNG framing, and the ARN parsers of IAM
 * and STS (their corpus replays here too). */
#include "harness.h"
#include "services/iam/iam.h"
#include "services/sts/sts.h"

#include <dirent.h>
#include <zlib.h>
#include <stdio.h>
#include <stdlib.h>

MOAT_TEST(rfc6238_sha1_vectors)
{
    /* RFC 6238 appendix B: seed "12345678901234567890", T0 = 0, X = 30. */
    static const struct {
        int64_t time;
        uint32_t code;
    } v[] = {{59, 287082},       {1111111109, 81804},  {1111111111, 50471},
             {1234567890, 5924}, {2000000000, 279037}, {20000000000LL, 353130}};
    struct moat_slice seed = MOAT_LIT("12345678901234567890");
    for (size_t i = 0; i < MOAT_COUNT(v); i++)
        CHECK_EQ_INT(iam_totp(seed, v[i].time / 30), v[i].code);
    CHECK(iam_totp(seed, 2) != iam_totp(seed, 3));
}

MOAT_TEST(rfc4648_base32_vectors)
{
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"",        "MY",       "MZXQ",      "MZXW6",
                                      "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI"};
    for (size_t i = 0; i < MOAT_COUNT(in); i++) {
        struct moat_buf b;
        moat_buf_init(&b, a, 16);
        iam_base32_encode(&b, moat_slice_cstr(in[i]));
        CHECK_EQ_STR(moat_buf_cstr(&b), out[i]);
    }
}

MOAT_TEST(qr_reed_solomon_iso_example)
{
    /* ISO/IEC 18004 annex I: "01234567", version 1-M. */
    static const uint8_t data[16] = {0x10, 0x20, 0x0C, 0x56, 0x61, 0x80, 0xEC, 0x11,
                                     0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11};
    static const uint8_t want[10] = {0xA5, 0x24, 0xD4, 0xC1, 0xED, 0x36, 0xC7, 0x87, 0x2C, 0x55};
    uint8_t ecc[10];
    iam_qr_reed_solomon(data, sizeof(data), ecc, sizeof(ecc));
    CHECK(memcmp(ecc, want, sizeof(want)) == 0);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

MOAT_TEST(qr_png_framing)
{
    struct moat_slice png;
    CHECK(iam_qr_png(a, MOAT_LIT("otpauth://totp/dev@123456789012?secret=JBSWY3DPEHPK3PXP"), &png));
    CHECK(png.len > 8 + 25 + 12 + 12 && memcmp(png.ptr, "\x89PNG\r\n\x1a\n", 8) == 0);
    /* Every chunk's CRC holds; IHDR says a square 1-bit grayscale picture. */
    size_t at = 8, chunks = 0;
    uint32_t width = 0;
    uint8_t *pixels = NULL;
    uLongf pixels_len = 0;
    while (at + 12 <= png.len) {
        uint32_t n = be32(png.ptr + at);
        const uint8_t *type = png.ptr + at + 4, *body = type + 4;
        CHECK(at + 12 + n <= png.len);
        CHECK_EQ_INT(be32(body + n), crc32(0L, type, n + 4));
        if (!memcmp(type, "IHDR", 4)) {
            width = be32(body);
            CHECK_EQ_INT(be32(body + 4), width);
            CHECK_EQ_INT(body[8], 1);
            CHECK_EQ_INT(body[9], 0);
        } else if (!memcmp(type, "IDAT", 4)) {
            pixels_len = (width + 7) / 8 * width + width + 16;
            pixels = moat_arena_alloc(a, pixels_len);
            CHECK(uncompress(pixels, &pixels_len, body, n) == Z_OK);
        }
        at += 12 + n;
        chunks++;
    }
    CHECK_EQ_INT(chunks, 3);
    CHECK_EQ_INT(at, png.len);
    /* 55 bytes: version 4 (33 modules), a 4-module border, 4 pixels per module */
    CHECK_EQ_INT(width, (33 + 8) * 4);
    size_t row = (width + 7) / 8 + 1;
    CHECK_EQ_INT(pixels_len, row * width);
    if (pixels && pixels_len == row * width) {
        /* the border is white, the finder's corner module black */
        CHECK_EQ_INT(pixels[1], 0xFF);
        CHECK_EQ_INT(pixels[16 * row + 1 + 2] & 0x80, 0);
    }
    /* 666 bytes fill version 20; one more does not fit */
    uint8_t *big = memset(moat_arena_alloc(a, 667), 'x', 667);
    CHECK(iam_qr_png(a, moat_slice(big, 666), &png));
    CHECK(!iam_qr_png(a, moat_slice(big, 667), &png));
}

MOAT_TEST(code_parsing)
{
    uint32_t v = 7;
    CHECK(iam_totp_parse(MOAT_LIT("000042"), &v) && v == 42);
    CHECK(iam_totp_parse(MOAT_LIT("999999"), &v) && v == 999999);
    CHECK(!iam_totp_parse(MOAT_LIT("12345"), &v));
    CHECK(!iam_totp_parse(MOAT_LIT("1234567"), &v));
    CHECK(!iam_totp_parse(MOAT_LIT("12a456"), &v));
    CHECK(!iam_totp_parse(MOAT_LIT("-12345"), &v));
    CHECK(!iam_totp_parse(MOAT_NULL_SLICE, &v));
}

MOAT_TEST(policy_arns)
{
    struct moat_slice acct, path, name;
    CHECK(iam_parse_policy_arn(MOAT_LIT("arn:aws:iam::aws:policy/AdministratorAccess"), &acct,
                               &path, &name));
    CHECK_SLICE(acct, "aws");
    CHECK_SLICE(path, "/");
    CHECK_SLICE(name, "AdministratorAccess");
    CHECK(iam_parse_policy_arn(MOAT_LIT("arn:aws:iam::123456789012:policy/a/b/p1"), &acct, &path,
                               &name));
    CHECK_SLICE(acct, "123456789012");
    CHECK_SLICE(path, "/a/b/");
    CHECK_SLICE(name, "p1");
    static const char *const bad[] = {
        "",
        "arn:aws:iam::123456789012:policy/",
        "arn:aws:iam::12345678901:policy/x",
        "arn:aws:iam::123456789012:role/x",
        "arn:aws:s3:::bucket",
        "arn:aws:iam::123456789012",
        "arn:aws:iam::abcdefghijkl:policy/x",
    };
    for (size_t i = 0; i < MOAT_COUNT(bad); i++)
        CHECK(!iam_parse_policy_arn(moat_slice_cstr(bad[i]), &acct, &path, &name));
}

MOAT_TEST(role_arns)
{
    struct moat_slice acct, name;
    CHECK(sts_parse_role_arn(MOAT_LIT("arn:aws:iam::123456789012:role/ops/admin"), &acct, &name));
    CHECK_SLICE(acct, "123456789012");
    CHECK_SLICE(name, "admin");
    static const char *const bad[] = {
        "arn:aws:iam::123456789012:role/",   "arn:aws:iam::123456789012:user/x",
        "arn:aws:iam::1234567890123:role/x", "arn:aws:iam::12345678901x:role/x",
        "arn:aws:sts::123456789012:role/x",  "arn:aws:iam::",
    };
    for (size_t i = 0; i < MOAT_COUNT(bad); i++)
        CHECK(!sts_parse_role_arn(moat_slice_cstr(bad[i]), &acct, &name));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fuzz target's seed corpus replays as a test (fuzz/iam_inputs). */
MOAT_TEST(fuzz_corpus_replay)
{
    CHECK(moat_test_replay_corpus(a, "fuzz/iam_inputs/corpus", LLVMFuzzerTestOneInput) >= 5);
}

MOAT_TEST_MAIN(MOAT_CASE(rfc6238_sha1_vectors), MOAT_CASE(rfc4648_base32_vectors),
               MOAT_CASE(qr_reed_solomon_iso_example), MOAT_CASE(qr_png_framing),
               MOAT_CASE(code_parsing), MOAT_CASE(policy_arns), MOAT_CASE(role_arns),
               MOAT_CASE(fuzz_corpus_replay))

#include "../../../fuzz/iam_inputs/fuzz_iam_inputs.c"

/* test_iam_totp.c: TOTP codes of virtual MFA devices against RFC 6238's test vectors
 * (SHA-1, the last six of its eight digits), base32 seeds against RFC 4648's, code
 * parsing, and the ARN parsers of IAM and STS (their corpus replays here too). */
#include "harness.h"
#include "services/iam/iam.h"
#include "services/sts/sts.h"

#include <dirent.h>
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
    DIR *d = opendir("fuzz/iam_inputs/corpus");
    CHECK(d != NULL);
    if (!d)
        return;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof(path), "fuzz/iam_inputs/corpus/%s", e->d_name);
        struct moat_slice s = moat_test_read_file(a, path);
        LLVMFuzzerTestOneInput(s.ptr, s.len);
        n++;
    }
    closedir(d);
    CHECK(n >= 5);
}

MOAT_TEST_MAIN(MOAT_CASE(rfc6238_sha1_vectors), MOAT_CASE(rfc4648_base32_vectors),
               MOAT_CASE(code_parsing), MOAT_CASE(policy_arns), MOAT_CASE(role_arns),
               MOAT_CASE(fuzz_corpus_replay))

#include "../../../fuzz/iam_inputs/fuzz_iam_inputs.c"

/* test_sm_password.c: GetRandomPassword's generator: lengths, character classes,
 * exclusions, the one-of-each rule and the refusals. */
#include "harness.h"
#include "services/secretsmanager/sm.h"

#include <ctype.h>
#include <string.h>

static const char punct[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

static struct moat_slice gen(struct moat_arena *a, const struct sm_password_rules *r)
{
    struct moat_slice pw = MOAT_NULL_SLICE;
    const char *why = sm_password_generate(a, r, &pw);
    CHECK(why == NULL);
    return pw;
}

MOAT_TEST(default_has_every_type)
{
    struct sm_password_rules r;
    sm_password_rules_default(&r);
    for (int i = 0; i < 200; i++) {
        struct moat_slice pw = gen(a, &r);
        CHECK_EQ_INT(pw.len, 32);
        bool lo = false, up = false, dig = false, pu = false;
        for (size_t k = 0; k < pw.len; k++) {
            int c = pw.ptr[k];
            lo |= islower(c) != 0;
            up |= isupper(c) != 0;
            dig |= isdigit(c) != 0;
            pu |= strchr(punct, c) != NULL;
            CHECK(c != ' ');
        }
        CHECK(lo && up && dig && pu);
    }
}

MOAT_TEST(short_passwords_still_have_each_type)
{
    struct sm_password_rules r;
    sm_password_rules_default(&r);
    r.length = 4;
    for (int i = 0; i < 500; i++) {
        struct moat_slice pw = gen(a, &r);
        int types = 0;
        bool seen[4] = {false, false, false, false};
        for (size_t k = 0; k < pw.len; k++) {
            int c = pw.ptr[k];
            int t = islower(c) ? 0 : isupper(c) ? 1 : isdigit(c) ? 2 : 3;
            if (!seen[t])
                types++;
            seen[t] = true;
        }
        CHECK_EQ_INT(types, 4);
    }
    r.length = 3;
    struct moat_slice pw;
    CHECK(sm_password_generate(a, &r, &pw) != NULL);
    r.require_each = false;
    CHECK(sm_password_generate(a, &r, &pw) == NULL && pw.len == 3);
}

MOAT_TEST(exclusions)
{
    struct sm_password_rules r;
    sm_password_rules_default(&r);
    r.length = 64;
    r.no_punctuation = true;
    r.no_upper = true;
    r.exclude = MOAT_LIT("abcdefghijklm0123");
    for (int i = 0; i < 100; i++) {
        struct moat_slice pw = gen(a, &r);
        for (size_t k = 0; k < pw.len; k++) {
            int c = pw.ptr[k];
            CHECK((c >= 'n' && c <= 'z') || (c >= '4' && c <= '9'));
        }
    }
    /* a class whose characters are all excluded is not required */
    sm_password_rules_default(&r);
    r.exclude = MOAT_LIT("0123456789");
    struct moat_slice pw = gen(a, &r);
    for (size_t k = 0; k < pw.len; k++)
        CHECK(!isdigit(pw.ptr[k]));
    /* everything excluded */
    sm_password_rules_default(&r);
    r.no_lower = r.no_upper = r.no_numbers = r.no_punctuation = true;
    CHECK(sm_password_generate(a, &r, &pw) != NULL);
    r.space = true;
    pw = gen(a, &r);
    CHECK(pw.len == 32 && pw.ptr[0] == ' ' && pw.ptr[31] == ' ');
}

MOAT_TEST(long_and_uniform_enough)
{
    struct sm_password_rules r;
    sm_password_rules_default(&r);
    r.length = 4096;
    r.no_punctuation = r.no_upper = r.no_lower = true; /* digits only */
    struct moat_slice pw = gen(a, &r);
    CHECK_EQ_INT(pw.len, 4096);
    int counts[10] = {0};
    for (size_t k = 0; k < pw.len; k++)
        counts[pw.ptr[k] - '0']++;
    for (int d = 0; d < 10; d++)
        CHECK(counts[d] > 300 && counts[d] < 520); /* ~410 each; a fixed bias would show */
}

MOAT_TEST_MAIN(MOAT_CASE(default_has_every_type), MOAT_CASE(short_passwords_still_have_each_type),
               MOAT_CASE(exclusions), MOAT_CASE(long_and_uniform_enough))

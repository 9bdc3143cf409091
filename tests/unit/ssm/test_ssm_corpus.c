/* test_ssm_corpus.c: the seed corpora of the SSM fuzz targets (parameter policies, names
 * and references) replayed through the targets' own checks, so that every seed stays
 * accepted or refused as its invariants require in ordinary test runs too. */
#include "harness.h"

#include <dirent.h>
#include <stdio.h>

#define LLVMFuzzerTestOneInput fuzz_ssm_policy_one
#include "../../../fuzz/ssm_policy/fuzz_ssm_policy.c"
#undef LLVMFuzzerTestOneInput
#undef EXPIRATION
#define LLVMFuzzerTestOneInput fuzz_ssm_name_one
#include "../../../fuzz/ssm_name/fuzz_ssm_name.c"
#undef LLVMFuzzerTestOneInput

/* Runs every file of dir through fn; returns how many ran. */
static int replay(struct moat_arena *a, const char *dir,
                  int (*fn)(const uint8_t *data, size_t size))
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct moat_slice s = moat_test_read_file(a, path);
        fn(s.ptr, s.len);
        n++;
    }
    closedir(d);
    return n;
}

MOAT_TEST(policy_corpus)
{
    CHECK(replay(a, "fuzz/ssm_policy/corpus", fuzz_ssm_policy_one) >= 10);
}

MOAT_TEST(name_corpus)
{
    CHECK(replay(a, "fuzz/ssm_name/corpus", fuzz_ssm_name_one) >= 10);
}

MOAT_TEST_MAIN(MOAT_CASE(policy_corpus), MOAT_CASE(name_corpus))

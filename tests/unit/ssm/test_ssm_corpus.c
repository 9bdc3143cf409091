/* test_ssm_corpus.c: the seed corpora of the SSM fuzz targets (parameter policies, names
 * and references) replayed through the targets' own checks, so that every seed stays
 * accepted or refused as its invariants require in ordinary test runs too. */
#include "harness.h"

#define LLVMFuzzerTestOneInput fuzz_ssm_policy_one
#include "../../../fuzz/ssm_policy/fuzz_ssm_policy.c"
#undef LLVMFuzzerTestOneInput
#undef EXPIRATION
#define LLVMFuzzerTestOneInput fuzz_ssm_name_one
#include "../../../fuzz/ssm_name/fuzz_ssm_name.c"
#undef LLVMFuzzerTestOneInput

MOAT_TEST(policy_corpus)
{
    CHECK(moat_test_replay_corpus(a, "fuzz/ssm_policy/corpus", fuzz_ssm_policy_one) >= 10);
}

MOAT_TEST(name_corpus)
{
    CHECK(moat_test_replay_corpus(a, "fuzz/ssm_name/corpus", fuzz_ssm_name_one) >= 10);
}

MOAT_TEST_MAIN(MOAT_CASE(policy_corpus), MOAT_CASE(name_corpus))

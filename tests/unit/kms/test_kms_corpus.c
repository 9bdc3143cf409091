/* test_kms_corpus.c: the seed corpora of the KMS fuzz targets (ciphertext blobs and
 * request bodies) replayed through the targets' own checks in ordinary test runs. */
#include "harness.h"

#define LLVMFuzzerTestOneInput fuzz_kms_blob_one
#include "../../../fuzz/kms_blob/fuzz_kms_blob.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_kms_request_one
#define walk request_walk
#define invalid request_invalid
#include "../../../fuzz/kms_request/fuzz_kms_request.c"
#undef LLVMFuzzerTestOneInput

MOAT_TEST(blob_corpus)
{
    CHECK(moat_test_replay_corpus(a, "fuzz/kms_blob/corpus", fuzz_kms_blob_one) >= 5);
}

MOAT_TEST(request_corpus)
{
    CHECK(moat_test_replay_corpus(a, "fuzz/kms_request/corpus", fuzz_kms_request_one) >= 10);
}

MOAT_TEST_MAIN(MOAT_CASE(blob_corpus), MOAT_CASE(request_corpus))

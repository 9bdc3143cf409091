/* test_kms_corpus.c: the seed corpora of the KMS fuzz targets (ciphertext blobs and
 * request bodies) replayed through the targets' own checks in ordinary test runs. */
#include "harness.h"

#include <dirent.h>
#include <stdio.h>

#define LLVMFuzzerTestOneInput fuzz_kms_blob_one
#include "../../../fuzz/kms_blob/fuzz_kms_blob.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_kms_request_one
#define walk request_walk
#define invalid request_invalid
#include "../../../fuzz/kms_request/fuzz_kms_request.c"
#undef LLVMFuzzerTestOneInput

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

MOAT_TEST(blob_corpus)
{
    CHECK(replay(a, "fuzz/kms_blob/corpus", fuzz_kms_blob_one) >= 5);
}

MOAT_TEST(request_corpus)
{
    CHECK(replay(a, "fuzz/kms_request/corpus", fuzz_kms_request_one) >= 10);
}

MOAT_TEST_MAIN(MOAT_CASE(blob_corpus), MOAT_CASE(request_corpus))

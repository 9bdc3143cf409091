/* fuzz_cloudtrail_token.c: arbitrary bytes as a LookupEvents NextToken, decoded
 * against two queries; a token sealed for one query must decode to its position
 * for that query and be refused for the other.
 * Build: make build-fuzz/cloudtrail_token/fuzz_cloudtrail_token. */
#include "crypto/rootkey.h"
#include "services/cloudtrail/cloudtrail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rootkey *rk;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char path[] = "/tmp/moat-fuzz-token-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    close(fd);
    unlink(path); /* rootkey_open creates it */
    char err[256];
    rk = rootkey_open(path, true, err, sizeof(err));
    unlink(path);
    if (!rk) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct moat_arena *a = moat_arena_new(1024);
    static const struct moat_slice queries[] = {
        MOAT_LIT("111122223333|us-east-1|EventName\0CreateTrail\0||"),
        MOAT_LIT("111122223333|us-east-1|Username\0root\0|1700000000000|"),
    };
    int64_t seq;
    for (int q = 0; q < 2; q++)
        (void)cloudtrail_token_decode(rk, a, queries[q], moat_slice(data, size), &seq);
    /* round trip of a position taken from the input */
    int64_t want = 1;
    for (size_t i = 0; i < size && i < 8; i++)
        want = (want << 8) ^ data[i];
    if (want <= 0)
        want = -want + 1;
    if (want <= 0)
        want = 1;
    struct moat_buf tok;
    moat_buf_init(&tok, a, 64);
    cloudtrail_token_encode(rk, a, queries[0], want, &tok);
    if (!cloudtrail_token_decode(rk, a, queries[0], moat_buf_slice(&tok), &seq) || seq != want)
        abort();
    if (cloudtrail_token_decode(rk, a, queries[1], moat_buf_slice(&tok), &seq))
        abort();
    moat_arena_free(a);
    return 0;
}

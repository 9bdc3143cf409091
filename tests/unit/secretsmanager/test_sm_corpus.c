/* test_sm_corpus.c: the seed corpus of the rotation schedule fuzz target replayed through
 * the target's own checks (it aborts on a broken invariant), and what each seed must give:
 * the refused seeds are refused, the others accepted. */
#include "harness.h"

#include <stdio.h>

#define LLVMFuzzerTestOneInput fuzz_sm_schedule_one
#include "../../../fuzz/sm_schedule/fuzz_sm_schedule.c"
#undef LLVMFuzzerTestOneInput

/* Parses a seed the way the target does; true when the schedule is accepted. */
static bool accepted(struct moat_slice in)
{
    int64_t days = 0;
    if (in.len >= 3 && in.ptr[0] == 0x01) {
        days = (int64_t)in.ptr[1] << 8 | in.ptr[2];
        in = moat_slice_sub(in, 3, in.len);
    }
    long nl = moat_slice_index(in, '\n');
    struct moat_slice expr = nl >= 0 ? moat_slice_sub(in, 0, (size_t)nl) : in;
    struct moat_slice dur = nl >= 0 ? moat_slice_sub(in, (size_t)nl + 1, in.len) : MOAT_NULL_SLICE;
    struct sm_schedule s;
    char errbuf[256];
    return sm_schedule_parse(days, days ? MOAT_NULL_SLICE : expr, dur, &s, errbuf,
                             sizeof(errbuf)) == NULL;
}

static void check_seed(const char *name, struct moat_slice s, void *arg)
{
    (void)arg;
    fuzz_sm_schedule_one(s.ptr, s.len);
    bool refused = strstr(name, "refused") != NULL;
    if (accepted(s) == refused)
        fprintf(stderr, "  seed %s\n", name);
    CHECK(accepted(s) != refused);
}

MOAT_TEST(schedule_corpus)
{
    CHECK(moat_test_each_file(a, "fuzz/sm_schedule/corpus", check_seed, NULL) >= 10);
}

MOAT_TEST_MAIN(MOAT_CASE(schedule_corpus))

/* harness.c: runs the named cases of one test file, each in its own arena,
 * and reports a one-line summary. An argument selects cases by substring. */
#include "harness.h"

#include <stdlib.h>

int moat_test_failures;

const char *moat_test_shared_path(const char *rel)
{
    static char path[4096];
    const char *root = getenv("MOAT_SHARED");
    snprintf(path, sizeof(path), "%s/%s", root && *root ? root : "../shared", rel);
    return path;
}

struct moat_slice moat_test_read_file(struct moat_arena *a, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return MOAT_NULL_SLICE;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = moat_arena_alloc(a, (size_t)n + 1);
    size_t got = fread(p, 1, (size_t)n, f);
    fclose(f);
    p[got] = 0;
    return moat_slice(p, got);
}

int moat_test_run(const char *file, const struct moat_test *tests, size_t count, int argc,
                  char **argv)
{
    int failed_cases = 0, ran = 0;
    for (size_t i = 0; i < count; i++) {
        if (argc > 1 && !strstr(tests[i].name, argv[1]))
            continue;
        int before = moat_test_failures;
        struct moat_arena *a = moat_arena_new(4096);
        tests[i].fn(a);
        moat_arena_free(a);
        ran++;
        if (moat_test_failures != before) {
            fprintf(stderr, "FAIL %s: %s\n", file, tests[i].name);
            failed_cases++;
        }
    }
    printf("%s: %d/%d cases passed\n", file, ran - failed_cases, ran);
    return failed_cases ? 1 : 0;
}

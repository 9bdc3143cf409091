/* harness.c: runs the named cases of one test file, each in its own arena,
 * and reports a one-line summary. An argument selects cases by substring. */
#include "harness.h"

#include <dirent.h>
#include <stdio.h>
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

int moat_test_each_file(struct moat_arena *a, const char *dir,
                        void (*fn)(const char *name, struct moat_slice data, void *arg), void *arg)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "  cannot open %s\n", dir);
        moat_test_failures++;
        return 0;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        fn(e->d_name, moat_test_read_file(a, path), arg);
        n++;
    }
    closedir(d);
    return n;
}

struct replay {
    int (*target)(const uint8_t *data, size_t size);
};

static void replay_one(const char *name, struct moat_slice data, void *arg)
{
    (void)name;
    ((struct replay *)arg)->target(data.ptr, data.len);
}

int moat_test_replay_corpus(struct moat_arena *a, const char *dir,
                            int (*target)(const uint8_t *data, size_t size))
{
    struct replay r = {target};
    return moat_test_each_file(a, dir, replay_one, &r);
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

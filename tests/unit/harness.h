/* harness.h: a tiny unit-test harness. A test file defines cases with
 * MOAT_TEST(name) and lists them in MOAT_TEST_MAIN(...). Each case gets a
 * fresh arena; a failed check prints file:line and marks the case failed. */
#ifndef MOAT_TEST_HARNESS_H
#define MOAT_TEST_HARNESS_H

#include "core/arena.h"

#include <stdio.h>
#include <string.h>

struct moat_test {
    const char *name;
    void (*fn)(struct moat_arena *a);
};

extern int moat_test_failures;

#define MOAT_TEST(name) static void test_##name(struct moat_arena *a)
#define MOAT_CASE(name) {#name, test_##name}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);            \
            moat_test_failures++;                                                                  \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        if (_a != _b) {                                                                            \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, _a,    \
                    _b);                                                                           \
            moat_test_failures++;                                                                  \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *_a = (a), *_b = (b);                                                           \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                                                   \
            fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,    \
                    _a ? _a : "(null)", _b ? _b : "(null)");                                       \
            moat_test_failures++;                                                                  \
        }                                                                                          \
    } while (0)

#define CHECK_SLICE(s, lit) CHECK_EQ_STR(moat_arena_cstr(a, (s)), (lit))

int moat_test_run(const char *file, const struct moat_test *tests, size_t count, int argc,
                  char **argv);

#define MOAT_TEST_MAIN(...)                                                                        \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        static const struct moat_test tests[] = {__VA_ARGS__};                                     \
        return moat_test_run(__FILE__, tests, sizeof(tests) / sizeof(tests[0]), argc, argv);       \
    }

/* Path of a file under ../shared (MOAT_SHARED overrides), in a static buffer. */
const char *moat_test_shared_path(const char *rel);
/* Reads a whole file into the arena; NULL slice if it cannot be read. */
struct moat_slice moat_test_read_file(struct moat_arena *a, const char *path);
/* Reads every file of dir (dot files aside) and hands it to fn; returns how many
 * there were, 0 (and a failure) when dir cannot be opened. */
int moat_test_each_file(struct moat_arena *a, const char *dir,
                        void (*fn)(const char *name, struct moat_slice data, void *arg),
                        void *arg);
/* Replays a fuzz corpus directory through a target's entry point. */
int moat_test_replay_corpus(struct moat_arena *a, const char *dir,
                            int (*target)(const uint8_t *data, size_t size));

#endif

/* arena.h: region allocation. A request owns one arena; everything it
 * touches lives there and dies with it, including cleanups and secret wipes. */
#ifndef MOAT_ARENA_H
#define MOAT_ARENA_H

#include "core/slice.h"

#include <stdarg.h>

struct moat_arena;

/* first_block is the size of the first block; later blocks grow. */
struct moat_arena *moat_arena_new(size_t first_block);
/* Runs cleanups (last registered first), wipes registered secrets, frees. */
void moat_arena_free(struct moat_arena *a);
/* Frees everything but keeps the first block for reuse (a connection's next request). */
void moat_arena_reset(struct moat_arena *a);

void *moat_arena_alloc(struct moat_arena *a, size_t n);   /* 16-byte aligned, uninitialised */
void *moat_arena_calloc(struct moat_arena *a, size_t n);  /* zeroed */
char *moat_arena_strdup(struct moat_arena *a, const char *s);
/* Copies s and NUL-terminates the copy (the terminator is not counted in len). */
struct moat_slice moat_arena_dup(struct moat_arena *a, struct moat_slice s);
char *moat_arena_cstr(struct moat_arena *a, struct moat_slice s);
char *moat_arena_printf(struct moat_arena *a, const char *fmt, ...) MOAT_PRINTF(2, 3);
/* vprintf into the arena; the result is NUL-terminated (not counted in len). */
struct moat_slice moat_arena_vformat(struct moat_arena *a, const char *fmt, va_list ap)
    MOAT_PRINTF(2, 0);

typedef void (*moat_cleanup_fn)(void *arg);
void moat_arena_on_free(struct moat_arena *a, moat_cleanup_fn fn, void *arg);
/* The bytes are overwritten with OPENSSL_cleanse when the arena is freed or reset. */
void moat_arena_wipe_on_free(struct moat_arena *a, const void *p, size_t n);

/* Bytes allocated so far (for limits and tests). */
size_t moat_arena_used(const struct moat_arena *a);

#endif

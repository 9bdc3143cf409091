/* base.h: the few macros and includes every moat file may use.
 * Kept tiny so that every header can include it and still compile on its own. */
#ifndef MOAT_BASE_H
#define MOAT_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MOAT_COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MOAT_MUST_CHECK __attribute__((warn_unused_result))
#define MOAT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define MOAT_NORETURN __attribute__((noreturn))
#define MOAT_UNUSED(x) ((void)(x))
#define MOAT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MOAT_MAX(a, b) ((a) > (b) ? (a) : (b))
#define moat_likely(x) __builtin_expect(!!(x), 1)
#define moat_unlikely(x) __builtin_expect(!!(x), 0)

/* Allocation failure is not recoverable in moat: HTTP limits bound what one
 * request may allocate, so running out means the process is broken. */
MOAT_NORETURN void moat_oom(void);
void *moat_xmalloc(size_t n);
void *moat_xcalloc(size_t n, size_t size);
void *moat_xrealloc(void *p, size_t n);
char *moat_xstrdup(const char *s);

#endif

/* arena.c: a bump allocator over a chain of blocks, with cleanup and wipe
 * lists run when the arena is freed or reset. */
#include "core/arena.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct block {
    struct block *next;
    size_t cap, used;
    _Alignas(16) uint8_t data[];
};

struct cleanup {
    struct cleanup *next;
    moat_cleanup_fn fn;
    void *arg;
    const void *wipe_ptr; /* when fn is NULL: bytes to cleanse */
    size_t wipe_len;
};

struct moat_arena {
    struct block *head;  /* current block */
    struct block *first; /* kept by reset */
    struct cleanup *cleanups;
    size_t total;
};

void moat_oom(void)
{
    static const char msg[] = "{\"level\":\"fatal\",\"msg\":\"out of memory\"}\n";
    (void)!fwrite(msg, 1, sizeof(msg) - 1, stderr);
    abort();
}

void *moat_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        moat_oom();
    return p;
}

void *moat_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        moat_oom();
    return p;
}

void *moat_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        moat_oom();
    return p;
}

char *moat_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = moat_xmalloc(n);
    memcpy(p, s, n);
    return p;
}

static struct block *block_new(size_t cap)
{
    struct block *b = moat_xmalloc(sizeof(*b) + cap);
    b->next = NULL;
    b->cap = cap;
    b->used = 0;
    return b;
}

struct moat_arena *moat_arena_new(size_t first_block)
{
    struct moat_arena *a = moat_xcalloc(1, sizeof(*a));
    if (first_block < 256)
        first_block = 256;
    a->first = a->head = block_new(first_block);
    return a;
}

static void run_cleanups(struct moat_arena *a)
{
    struct cleanup *c = a->cleanups;
    a->cleanups = NULL;
    while (c) {
        struct cleanup *next = c->next;
        if (c->fn)
            c->fn(c->arg);
        else
            OPENSSL_cleanse((void *)c->wipe_ptr, c->wipe_len);
        c = next;
    }
}

static void free_blocks_after_first(struct moat_arena *a)
{
    struct block *b = a->head;
    while (b && b != a->first) {
        struct block *next = b->next;
        free(b);
        b = next;
    }
    a->head = a->first;
    a->first->used = 0;
    a->first->next = NULL;
}

void moat_arena_free(struct moat_arena *a)
{
    if (!a)
        return;
    run_cleanups(a);
    free_blocks_after_first(a);
    free(a->first);
    free(a);
}

void moat_arena_reset(struct moat_arena *a)
{
    run_cleanups(a);
    free_blocks_after_first(a);
    a->total = 0;
}

void *moat_arena_alloc(struct moat_arena *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n)
        moat_oom();
    struct block *b = a->head;
    if (b->cap - b->used < need) {
        size_t cap = b->cap * 2;
        if (cap < need)
            cap = need;
        if (cap > 4 << 20 && need <= 4 << 20)
            cap = 4 << 20;
        struct block *nb = block_new(cap);
        nb->next = b;
        a->head = b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->total += need;
    return p;
}

void *moat_arena_calloc(struct moat_arena *a, size_t n)
{
    void *p = moat_arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *moat_arena_strdup(struct moat_arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = moat_arena_alloc(a, n);
    memcpy(p, s, n);
    return p;
}

struct moat_slice moat_arena_dup(struct moat_arena *a, struct moat_slice s)
{
    uint8_t *p = moat_arena_alloc(a, s.len + 1);
    if (s.len)
        memcpy(p, s.ptr, s.len);
    p[s.len] = 0;
    return moat_slice(p, s.len);
}

char *moat_arena_cstr(struct moat_arena *a, struct moat_slice s)
{
    return (char *)moat_arena_dup(a, s).ptr;
}

struct moat_slice moat_arena_vformat(struct moat_arena *a, const char *fmt, va_list ap)
{
    char tmp[256];
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, copy);
    va_end(copy);
    if (n < 0)
        n = 0;
    char *p = moat_arena_alloc(a, (size_t)n + 1);
    if ((size_t)n < sizeof(tmp))
        memcpy(p, tmp, (size_t)n + 1);
    else
        vsnprintf(p, (size_t)n + 1, fmt, ap);
    return moat_slice(p, (size_t)n);
}

char *moat_arena_printf(struct moat_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct moat_slice s = moat_arena_vformat(a, fmt, ap);
    va_end(ap);
    return (char *)s.ptr;
}

void moat_arena_on_free(struct moat_arena *a, moat_cleanup_fn fn, void *arg)
{
    struct cleanup *c = moat_arena_alloc(a, sizeof(*c));
    c->fn = fn;
    c->arg = arg;
    c->wipe_ptr = NULL;
    c->wipe_len = 0;
    c->next = a->cleanups;
    a->cleanups = c;
}

void moat_arena_wipe_on_free(struct moat_arena *a, const void *p, size_t n)
{
    if (!p || !n)
        return;
    struct cleanup *c = moat_arena_alloc(a, sizeof(*c));
    c->fn = NULL;
    c->arg = NULL;
    c->wipe_ptr = p;
    c->wipe_len = n;
    c->next = a->cleanups;
    a->cleanups = c;
}

size_t moat_arena_used(const struct moat_arena *a)
{
    return a->total;
}

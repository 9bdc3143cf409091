/* iam_glob.h: the wildcard matcher for actions, resources and StringLike/ArnLike values:
 * '*' any run, '?' one character, '\' escapes the next byte (for ${*}, ${?} and values
 * substituted from variables). Linear two-pointer matching; no regex from policy text. */
#ifndef MOAT_IAM_GLOB_H
#define MOAT_IAM_GLOB_H

#include "core/slice.h"

enum iam_glob_kind {
    IAM_GLOB_GENERAL = 0, /* wildcards or escapes somewhere */
    IAM_GLOB_ANY,         /* exactly "*" */
    IAM_GLOB_LITERAL,     /* no wildcard, no escape */
    IAM_GLOB_PREFIX,      /* a literal followed by one trailing '*' */
};

/* A pattern in escaped form (borrowed). For IAM_GLOB_PREFIX, len excludes the '*'. */
struct iam_glob {
    const uint8_t *ptr;
    uint32_t len;
    uint8_t kind;
};

/* Classifies an escaped pattern. */
void iam_glob_init(struct iam_glob *g, struct moat_slice escaped);
/* Matches an escaped pattern without classifying it first. */
bool iam_glob_match_raw(struct moat_slice escaped, struct moat_slice subject, bool nocase);

static inline uint8_t iam_ascii_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Compares n bytes of a pattern with a subject, folding the subject when nocase. Patterns
 * are short: a loop beats a call to memcmp. */
static inline bool iam_glob_eq(const uint8_t *pat, const uint8_t *s, size_t n, bool nocase)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        __builtin_memcpy(&x, pat + i, 8);
        __builtin_memcpy(&y, s + i, 8);
        if (x == y)
            continue;
        if (!nocase)
            return false;
        for (size_t k = i; k < i + 8; k++)
            if (pat[k] != iam_ascii_lower(s[k]))
                return false;
    }
    for (; i < n; i++)
        if (pat[i] != s[i] && (!nocase || pat[i] != iam_ascii_lower(s[i])))
            return false;
    return true;
}

/* Does subject match? With nocase the pattern must already be lowercase and the subject
 * is folded (ASCII) as it is read. Inline for the common shapes. */
__attribute__((always_inline)) static inline bool iam_glob_match(const struct iam_glob *g,
                                                                 struct moat_slice s, bool nocase)
{
    switch (g->kind) {
    case IAM_GLOB_ANY:
        return true;
    case IAM_GLOB_LITERAL:
        return s.len == g->len && iam_glob_eq(g->ptr, s.ptr, s.len, nocase);
    case IAM_GLOB_PREFIX:
        return s.len >= g->len && iam_glob_eq(g->ptr, s.ptr, g->len, nocase);
    default:
        return iam_glob_match_raw(moat_slice(g->ptr, g->len), s, nocase);
    }
}
/* True when the escaped pattern has an unescaped '*' or '?'. */
bool iam_glob_has_wildcard(struct moat_slice escaped);

#endif

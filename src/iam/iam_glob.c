/* iam_glob.c: wildcard matching with one backtrack point (the last '*'), which is linear
 * in practice and never worse than pattern x subject; '?' consumes one UTF-8 character. */
#include "iam/iam_glob.h"

/* Bytes in the UTF-8 character that starts with c (1 for stray continuation bytes). */
static inline size_t char_len(uint8_t c)
{
    return c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

bool iam_glob_has_wildcard(struct moat_slice p)
{
    for (size_t i = 0; i < p.len; i++) {
        if (p.ptr[i] == '\\')
            i++;
        else if (p.ptr[i] == '*' || p.ptr[i] == '?')
            return true;
    }
    return false;
}

void iam_glob_init(struct iam_glob *g, struct moat_slice p)
{
    g->ptr = p.ptr;
    g->len = (uint32_t)p.len;
    g->kind = IAM_GLOB_GENERAL;
    if (p.len == 1 && p.ptr[0] == '*') {
        g->kind = IAM_GLOB_ANY;
        return;
    }
    size_t specials = 0, last_special = 0;
    for (size_t i = 0; i < p.len; i++) {
        uint8_t c = p.ptr[i];
        if (c == '*' || c == '?' || c == '\\') {
            specials++;
            last_special = i;
            if (c != '*')
                return; /* '?' or an escape: general */
        }
    }
    if (specials == 0) {
        g->kind = IAM_GLOB_LITERAL;
    } else if (specials == 1 && last_special == p.len - 1) {
        g->kind = IAM_GLOB_PREFIX;
        g->len--;
    }
}

bool iam_glob_match_raw(struct moat_slice pat, struct moat_slice subj, bool nocase)
{
    const uint8_t *p = pat.ptr, *s = subj.ptr;
    size_t pn = pat.len, sn = subj.len, pi = 0, si = 0;
    size_t star_p = SIZE_MAX, star_s = 0;
    while (si < sn) {
        if (pi < pn) {
            uint8_t c = p[pi];
            if (c == '*') {
                star_p = ++pi;
                star_s = si;
                continue;
            }
            if (c == '?') {
                pi++;
                si += char_len(s[si]);
                if (si > sn)
                    si = sn;
                continue;
            }
            size_t adv = 1;
            if (c == '\\' && pi + 1 < pn) {
                c = p[pi + 1];
                adv = 2;
            }
            uint8_t sc = nocase ? iam_ascii_lower(s[si]) : s[si];
            if (c == sc) {
                pi += adv;
                si++;
                continue;
            }
        }
        if (star_p == SIZE_MAX)
            return false;
        /* Let the last '*' swallow one more byte and retry from just after it. */
        pi = star_p;
        si = ++star_s;
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

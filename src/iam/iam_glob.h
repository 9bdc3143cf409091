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
/* Does subject match? With nocase the pattern must already be lowercase and the subject
 * is folded (ASCII) as it is read. */
bool iam_glob_match(const struct iam_glob *g, struct moat_slice subject, bool nocase);
/* Matches an escaped pattern without classifying it first. */
bool iam_glob_match_raw(struct moat_slice escaped, struct moat_slice subject, bool nocase);
/* True when the escaped pattern has an unescaped '*' or '?'. */
bool iam_glob_has_wildcard(struct moat_slice escaped);

#endif

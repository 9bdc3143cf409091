/* validate.h: input validation from the generated shape tables, once, for
 * every protocol: required members, lengths, ranges, enums and patterns,
 * reported in AWS's "N validation error(s) detected: ..." wording. */
#ifndef MOAT_VALIDATE_H
#define MOAT_VALIDATE_H

#include "aws/shape.h"
#include "core/buf.h"
#include "core/error.h"

/* Checks a decoded input struct against its shape. Returns NULL when valid,
 * or an error of `kind` listing every violation (as AWS does). */
struct moat_error *aws_validate(struct moat_arena *a, const struct moat_shape *shape,
                                const struct moat_value *input,
                                const struct moat_error_kind *kind);

/* Full-string match of a botocore (Java-style) pattern; true when the pattern
 * cannot be compiled here (it is then not enforced). */
bool aws_pattern_match(const char *pattern, struct moat_slice s);

/* "keyId" from "KeyId": AWS's member path spelling in validation messages. */
void aws_lower_camel(struct moat_buf *out, const char *name);

#endif

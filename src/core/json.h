/* json.h: RFC 8259 JSON to and from the neutral value tree, in an arena.
 * The parser is strict (UTF-8 checked, no trailing garbage, bounded depth)
 * because it faces the network and policy documents. */
#ifndef MOAT_JSON_H
#define MOAT_JSON_H

#include "core/value.h"
#include "core/buf.h"

enum {
    MOAT_JSON_REJECT_DUPLICATES = 1 << 0, /* duplicate object keys are an error */
    MOAT_JSON_ALLOW_EMPTY = 1 << 1,       /* empty or all-whitespace input parses as NULL */
};

#define MOAT_JSON_MAX_DEPTH 64

struct moat_json_error {
    size_t offset;
    const char *what; /* static text */
};

/* Objects become MOAT_V_MAP (keys in document order), numbers MOAT_V_NUMBER.
 * Strings borrow from `in` when they have no escapes, so `in` must outlive the tree. */
bool moat_json_parse(struct moat_arena *a, struct moat_slice in, unsigned flags,
                     struct moat_value **out, struct moat_json_error *err);

/* Compact serialisation of a generic tree. Blobs become base64 strings,
 * timestamps epoch seconds. Struct nodes are not handled here (see aws/proto_json.c). */
void moat_json_write(struct moat_buf *out, const struct moat_value *v);
/* Appends a JSON string literal with quotes. */
void moat_json_write_string(struct moat_buf *out, struct moat_slice s);
/* Formats a double the way AWS JSON does (shortest round-trip, integers without ".0"). */
void moat_json_write_double(struct moat_buf *out, double d);

#endif

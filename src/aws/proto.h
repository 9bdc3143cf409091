/* proto.h: one decoder and one encoder per wire protocol, between request
 * bytes and the neutral value tree (typed by the generated shapes). Handlers
 * never see any of this. */
#ifndef MOAT_PROTO_H
#define MOAT_PROTO_H

#include "aws/shape.h"
#include "core/buf.h"
#include "core/error.h"

/* Epoch-seconds timestamps on the wire are accepted below this magnitude (past
 * year 300 000), in every protocol alike, so that milliseconds never overflow. */
#define PROTO_EPOCH_SECONDS_LIMIT 10000000000000LL

extern const struct moat_error_kind proto_serialization_exception; /* JSON, 400 */
extern const struct moat_error_kind proto_malformed_query;         /* Query, 400 */

/* ---- AWS JSON 1.0 / 1.1 ---------------------------------------------------- */

/* Body to input struct. An empty body is an empty struct. Type mismatches
 * and malformed JSON are SerializationException. */
struct moat_error *proto_json_decode(struct moat_arena *a, const struct moat_shape *shape,
                                     struct moat_slice body, struct moat_value **out);
/* Converts a generic JSON tree to a typed value of `shape` (also used by
 * REST-JSON bodies and by services that keep modelled values in records). */
struct moat_error *proto_json_convert(struct moat_arena *a, const struct moat_shape *shape,
                                      const struct moat_value *json, struct moat_value **out);
/* Output struct to body ("{}" when v is NULL). */
void proto_json_encode(struct moat_buf *out, const struct moat_shape *shape,
                       const struct moat_value *v);
/* {"__type":"Code","message":"..."} plus any extra members. */
void proto_json_encode_error(struct moat_buf *out, const struct moat_error *e);

/* ---- Query (form-encoded in, XML out) ---------------------------------------- */

struct proto_form {
    struct moat_header *params; /* decoded names and values */
    size_t count;
};

/* Parses application/x-www-form-urlencoded text (body or query string) and
 * appends to form. False on a malformed percent escape. */
bool proto_form_parse(struct moat_arena *a, struct moat_slice text, struct proto_form *form);
bool proto_form_get(const struct proto_form *form, const char *name, struct moat_slice *value);

struct moat_error *proto_query_decode(struct moat_arena *a, const struct moat_shape *shape,
                                      const struct proto_form *form,
                                      const struct moat_error_kind *invalid_kind,
                                      struct moat_value **out);
/* <OpResponse xmlns=...><OpResult>...</OpResult><ResponseMetadata>... */
void proto_query_encode(struct moat_buf *out, const struct moat_op_shape *op, const char *xmlns,
                        const struct moat_value *v, const char *request_id);
void proto_query_encode_error(struct moat_buf *out, const struct moat_error *e, const char *xmlns,
                              const char *request_id);

/* ---- XML helpers shared by Query and REST-XML ------------------------------ */

/* Writes the members of struct v as XML elements (shape-directed). */
void proto_xml_write_members(struct moat_buf *out, const struct moat_shape *shape,
                             const struct moat_value *v);

#endif

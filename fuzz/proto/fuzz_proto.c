/* fuzz_proto.c: the protocol decoders (AWS JSON body, Query form) against a
 * model with every kind of member, then validation and both encoders.
 * The first byte picks the decoder. */
#include "aws/proto.h"
#include "aws/validate.h"

#include "../../tests/unit/aws/proto_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct moat_error_kind invalid = {"ValidationException", 400, true};
static const struct moat_op_shape op = {"Op", "POST", "/", &s_in, &s_in, NULL, 200};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    struct moat_arena *a = moat_arena_new(4096);
    struct moat_slice body = moat_slice(data + 1, size - 1);
    struct moat_value *in = NULL;
    struct moat_error *err;
    if (data[0] & 1) {
        struct proto_form form = {0};
        err = proto_form_parse(a, body, &form) ? proto_query_decode(a, &s_in, &form, &invalid, &in)
                                               : NULL;
    } else {
        err = proto_json_decode(a, &s_in, body, &in);
    }
    if (!err && in) {
        (void)aws_validate(a, &s_in, in, &invalid);
        struct moat_buf b;
        moat_buf_init(&b, a, 256);
        proto_json_encode(&b, &s_in, in);
        struct moat_value *again;
        /* JSON we wrote must decode with the same model. */
        if (proto_json_decode(a, &s_in, moat_buf_slice(&b), &again))
            __builtin_trap();
        moat_buf_init(&b, a, 256);
        proto_query_encode(&b, &op, "ns", in, "rid");
    }
    moat_arena_free(a);
    return 0;
}

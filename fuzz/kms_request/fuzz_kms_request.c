/* fuzz_kms_request.c: KMS request decoding: the first byte picks one of the KMS
 * operations moat implements, the rest is its AWS JSON body, decoded and validated
 * against the generated shapes; then the KMS-specific parsers a request reaches
 * (key ids and ARNs, grant tokens, ciphertext blobs, encryption contexts). */
#include "aws/proto.h"
#include "aws/shapes/shapes_kms.h"
#include "aws/validate.h"
#include "services/kms/kms.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct moat_error_kind invalid = {"ValidationException", 400, true};

/* Runs the KMS parsers over every string and blob member of a decoded struct. */
static void walk(struct moat_arena *a, const struct moat_value *v)
{
    if (!v)
        return;
    switch (v->type) {
    case MOAT_V_STRING: {
        struct kms_id_parts p;
        if (kms_key_id_parse(v->u.s, &p) &&
            (!p.id.len || p.id.ptr < v->u.s.ptr || p.id.ptr + p.id.len > v->u.s.ptr + v->u.s.len))
            __builtin_trap();
        struct moat_slice arn, id;
        (void)kms_grant_token_parse(a, v->u.s, &arn, &id);
        (void)kms_spec_find(v->u.s);
        break;
    }
    case MOAT_V_BLOB: {
        struct kms_blob b;
        (void)kms_blob_parse(v->u.s, &b);
        break;
    }
    case MOAT_V_MAP:
        (void)kms_context_canonical(a, v);
        for (uint32_t i = 0; i < v->count; i++)
            walk(a, v->u.entries[i].value);
        break;
    case MOAT_V_LIST:
        for (uint32_t i = 0; i < v->count; i++)
            walk(a, v->u.items[i]);
        break;
    case MOAT_V_STRUCT:
        for (uint32_t i = 0; i < v->count; i++)
            walk(a, v->u.members[i]);
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    const struct moat_op_shape *op = &kms_shapes.ops[data[0] % kms_shapes.op_count];
    struct moat_arena *a = moat_arena_new(4096);
    struct moat_value *in = NULL;
    struct moat_error *err = proto_json_decode(a, op->input, moat_slice(data + 1, size - 1), &in);
    if (!err && in) {
        err = aws_validate(a, op->input, in, &invalid);
        walk(a, in);
        struct moat_buf b;
        moat_buf_init(&b, a, 256);
        proto_json_encode(&b, op->input, in);
        struct moat_value *again;
        if (proto_json_decode(a, op->input, moat_buf_slice(&b), &again))
            __builtin_trap();
    }
    moat_arena_free(a);
    return 0;
}

/* kms_audit.c: what CloudTrail records for KMS calls where the generic rule differs:
 * cryptographic calls log the algorithm and message type even when the request left
 * them to their defaults, and never their plaintexts or responses.
 * https://docs.aws.amazon.com/kms/latest/developerguide/logging-using-cloudtrail.html */
#include "aws/shapes/shapes_kms.h"
#include "services/kms/kms.h"

#include <string.h>

/* A shallow copy of the input struct with a default filled in for absent members. */
static struct moat_value *with_default(struct moat_call *call, struct moat_value *v,
                                       unsigned member, const char *dflt)
{
    if (!v || v->type != MOAT_V_STRUCT || member >= v->count || moat_has(v, member))
        return v;
    struct moat_value *c = moat_arena_alloc(call->arena, sizeof(*c));
    *c = *v;
    c->u.members = moat_arena_alloc(call->arena, v->count * sizeof(*c->u.members));
    memcpy(c->u.members, v->u.members, v->count * sizeof(*c->u.members));
    moat_set_cstr(call->arena, c, member, dflt);
    return c;
}

void kms_audit_crypto(struct moat_call *call, struct moat_value **req, struct moat_value **resp)
{
    struct moat_value *in = call->input;
    *resp = NULL;
    if (!in || !call->op) {
        *req = NULL;
        return;
    }
    switch (call->op->shape) {
    case KMS_OP_ENCRYPT:
        in = with_default(call, in, KMS_ENCRYPT_REQUEST_ENCRYPTION_ALGORITHM, "SYMMETRIC_DEFAULT");
        break;
    case KMS_OP_DECRYPT:
        in = with_default(call, in, KMS_DECRYPT_REQUEST_ENCRYPTION_ALGORITHM, "SYMMETRIC_DEFAULT");
        break;
    case KMS_OP_RE_ENCRYPT:
        in = with_default(call, in, KMS_RE_ENCRYPT_REQUEST_SOURCE_ENCRYPTION_ALGORITHM,
                          "SYMMETRIC_DEFAULT");
        in = with_default(call, in, KMS_RE_ENCRYPT_REQUEST_DESTINATION_ENCRYPTION_ALGORITHM,
                          "SYMMETRIC_DEFAULT");
        break;
    case KMS_OP_SIGN:
        in = with_default(call, in, KMS_SIGN_REQUEST_MESSAGE_TYPE, "RAW");
        break;
    case KMS_OP_VERIFY:
        in = with_default(call, in, KMS_VERIFY_REQUEST_MESSAGE_TYPE, "RAW");
        break;
    default:
        break;
    }
    *req = in->count ? in : NULL;
}

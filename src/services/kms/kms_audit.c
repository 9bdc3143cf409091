/* kms_audit.c: what CloudTrail records for KMS calls where the generic rule differs:
 * cryptographic calls log the algorithm and message type even when the request left
 * them to their defaults, and never their plaintexts or responses.
 * https://docs.aws.amazon.com/kms/latest/developerguide/logging-using-cloudtrail.html */
#include "aws/shapes/shapes_kms.h"
#include "services/kms/kms.h"

#include <string.h>

/* A shallow copy of a struct (members shared). */
static struct moat_value *copy_struct(struct moat_call *call, const struct moat_value *v)
{
    struct moat_value *c = moat_arena_alloc(call->arena, sizeof(*c));
    *c = *v;
    c->u.members = moat_arena_alloc(call->arena, (v->count ? v->count : 1) * sizeof(*c->u.members));
    memcpy(c->u.members, v->u.members, v->count * sizeof(*c->u.members));
    return c;
}

/* A shallow copy of the input struct with a default filled in for an absent member. */
static struct moat_value *with_default(struct moat_call *call, struct moat_value *v,
                                       unsigned member, const char *dflt)
{
    if (!v || v->type != MOAT_V_STRUCT || member >= v->count || moat_has(v, member))
        return v;
    struct moat_value *c = copy_struct(call, v);
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

/* CreateKey logs the parameters it applied, defaults included; CreateGrant logs the
 * grant id but not the grant token. */
void kms_audit_create(struct moat_call *call, struct moat_value **req, struct moat_value **resp)
{
    struct moat_value *in = call->input;
    *resp = call->error ? NULL : call->output;
    if (!in || !call->op) {
        *req = NULL;
        return;
    }
    if (call->op->shape == KMS_OP_CREATE_KEY) {
        bool cmk = moat_has(in, KMS_CREATE_KEY_REQUEST_CUSTOMER_MASTER_KEY_SPEC);
        const char *spec = "SYMMETRIC_DEFAULT";
        if (moat_has(in, KMS_CREATE_KEY_REQUEST_KEY_SPEC) || cmk)
            spec = moat_arena_cstr(
                call->arena, moat_get_str(in, cmk ? KMS_CREATE_KEY_REQUEST_CUSTOMER_MASTER_KEY_SPEC
                                                  : KMS_CREATE_KEY_REQUEST_KEY_SPEC));
        in = with_default(call, in, KMS_CREATE_KEY_REQUEST_KEY_SPEC, spec);
        in = with_default(call, in, KMS_CREATE_KEY_REQUEST_CUSTOMER_MASTER_KEY_SPEC, spec);
        in = with_default(call, in, KMS_CREATE_KEY_REQUEST_ORIGIN, "AWS_KMS");
        in = with_default(call, in, KMS_CREATE_KEY_REQUEST_DESCRIPTION, "");
        if (!moat_has(in, KMS_CREATE_KEY_REQUEST_KEY_USAGE) && *resp) {
            const struct moat_value *md = moat_get(*resp, KMS_CREATE_KEY_RESPONSE_KEY_METADATA);
            in = with_default(
                call, in, KMS_CREATE_KEY_REQUEST_KEY_USAGE,
                moat_arena_cstr(call->arena, moat_get_str(md, KMS_KEY_METADATA_KEY_USAGE)));
        }
        if (!moat_has(in, KMS_CREATE_KEY_REQUEST_BYPASS_POLICY_LOCKOUT_SAFETY_CHECK)) {
            in = copy_struct(call, in);
            moat_set_bool(call->arena, in,
                          KMS_CREATE_KEY_REQUEST_BYPASS_POLICY_LOCKOUT_SAFETY_CHECK, false);
        }
        if (!moat_has(in, KMS_CREATE_KEY_REQUEST_MULTI_REGION)) {
            in = copy_struct(call, in);
            moat_set_bool(call->arena, in, KMS_CREATE_KEY_REQUEST_MULTI_REGION, false);
        }
    } else if (call->op->shape == KMS_OP_CREATE_GRANT && *resp) {
        struct moat_value *r = copy_struct(call, *resp);
        moat_set(r, KMS_CREATE_GRANT_RESPONSE_GRANT_TOKEN, NULL);
        *resp = r;
    }
    *req = in->count ? in : NULL;
}

/* sts_service.c: the Security Token Service's operation table and its identity
 * operation. Session-issuing operations live in sts_sessions.c, GetAccessKeyInfo and
 * authorization messages in sts_info.c. */
#include "aws/shapes/shapes_sts.h"
#include "iam/iam_principal.h"
#include "services/sts/sts.h"

const struct moat_error_kind sts_validation_error = {"ValidationError", 400, true};
const struct moat_error_kind sts_access_denied = {"AccessDenied", 403, true};
const struct moat_error_kind sts_malformed_policy = {"MalformedPolicyDocument", 400, true};
const struct moat_error_kind sts_packed_policy_too_large = {"PackedPolicyTooLarge", 400, true};
const struct moat_error_kind sts_invalid_authorization_message = {
    "InvalidAuthorizationMessageException", 400, true};

/* GetCallerIdentity: who signed this request. AWS authorises nothing here: an
 * explicit deny of sts:GetCallerIdentity is ignored.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html */
static struct moat_error *
sts_get_caller_identity(struct moat_call *call, const struct moat_value *in, struct moat_value *out)
{
    const struct iam_principal *p = call->principal;
    moat_set_str(call->arena, out, STS_GET_CALLER_IDENTITY_RESPONSE_USER_ID, p->principal_id);
    moat_set_str(call->arena, out, STS_GET_CALLER_IDENTITY_RESPONSE_ACCOUNT, p->account_id);
    moat_set_str(call->arena, out, STS_GET_CALLER_IDENTITY_RESPONSE_ARN, p->arn);
    return NULL;
}

static const struct moat_operation sts_operations[] = {
    {.shape = STS_OP_GET_CALLER_IDENTITY,
     .handler = sts_get_caller_identity,
     .action = "sts:GetCallerIdentity",
     .flags = MOAT_OP_READ_ONLY | MOAT_OP_NO_AUTHZ},
    {.shape = STS_OP_ASSUME_ROLE,
     .handler = sts_assume_role,
     .action = "sts:AssumeRole",
     .authz = sts_authz_assume_role,
     .flags = MOAT_OP_MUTATES | MOAT_OP_READ_ONLY_EVENT,
     .audit = sts_audit_credentials},
    /* An authentication operation: policies do not control it. The three operations that
     * issue credentials write a session record and are read-only events, as on AWS. */
    {.shape = STS_OP_GET_SESSION_TOKEN,
     .handler = sts_get_session_token,
     .action = "sts:GetSessionToken",
     .flags = MOAT_OP_MUTATES | MOAT_OP_NO_AUTHZ | MOAT_OP_READ_ONLY_EVENT,
     .audit = sts_audit_credentials},
    {.shape = STS_OP_GET_FEDERATION_TOKEN,
     .handler = sts_get_federation_token,
     .action = "sts:GetFederationToken",
     .authz = sts_authz_federation_token,
     .flags = MOAT_OP_MUTATES | MOAT_OP_READ_ONLY_EVENT,
     .audit = sts_audit_credentials},
    {.shape = STS_OP_GET_ACCESS_KEY_INFO,
     .handler = sts_get_access_key_info,
     .action = "sts:GetAccessKeyInfo",
     .flags = MOAT_OP_READ_ONLY},
    {.shape = STS_OP_DECODE_AUTHORIZATION_MESSAGE,
     .handler = sts_decode_authorization_message,
     .action = "sts:DecodeAuthorizationMessage",
     .flags = MOAT_OP_READ_ONLY},
};

const struct moat_service sts_service = {
    .name = "sts",
    .event_source = "sts.amazonaws.com",
    .shapes = &sts_shapes,
    .operations = sts_operations,
    .operation_count = MOAT_COUNT(sts_operations),
    .validation_error = &sts_validation_error,
    .access_denied = &sts_access_denied,
};

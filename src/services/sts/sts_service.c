/* sts_service.c: the Security Token Service's operation table and its
 * identity operation. Session-issuing operations live in sts_sessions.c. */
#include "aws/shapes/shapes_sts.h"
#include "iam/iam_principal.h"
#include "services/service.h"

static const struct moat_error_kind sts_validation_error = {"ValidationError", 400, true};
static const struct moat_error_kind sts_access_denied = {"AccessDenied", 403, true};

/* GetCallerIdentity: who signed this request. AWS authorises nothing here: an
 * explicit deny of sts:GetCallerIdentity is ignored.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html */
static struct moat_error *sts_get_caller_identity(struct moat_call *call,
                                                  const struct moat_value *in,
                                                  struct moat_value *out)
{
    const struct iam_principal *p = call->principal;
    moat_set_str(call->arena, out, STS_GET_CALLER_IDENTITY_RESPONSE_USER_ID, p->principal_id);
    moat_set_str(call->arena, out, STS_GET_CALLER_IDENTITY_RESPONSE_ACCOUNT, p->account_id);
    moat_set_str(call->arena, out, STS_GET_CALLER_IDENTITY_RESPONSE_ARN, p->arn);
    return NULL;
}

static const struct moat_operation sts_operations[] = {
    {.shape = STS_OP_GET_CALLER_IDENTITY, .handler = sts_get_caller_identity,
     .action = "sts:GetCallerIdentity", .flags = MOAT_OP_READ_ONLY | MOAT_OP_NO_AUTHZ},
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

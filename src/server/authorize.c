/* authorize.c: builds what the evaluator needs from the operation row and
 * the call, and turns a denial into the service's AccessDenied error. */
#include "server/authorize.h"

#include "iam/iam_principal.h"

#include <string.h>

struct moat_error *authorize_call(struct moat_call *call)
{
    if (call->op->flags & MOAT_OP_NO_AUTHZ)
        return NULL;
    struct moat_authz *authz = &call->authz;
    authz->action = call->op->action;
    if (call->op->authz) {
        struct moat_error *err = call->op->authz(call, call->input, authz);
        if (err)
            return err;
    }
    const struct iam_principal *p = call->principal;
    bool own = !authz->resource_account || strcmp(authz->resource_account, call->account_id) == 0;
    if (p->type == IAM_PRINCIPAL_ROOT && own)
        return NULL;
    call->error_is_denial = true;
    const char *resource = authz->resource_count ? authz->resources[0] : "*";
    return moat_fail(call, call->service->access_denied,
                     "User: %.*s is not authorized to perform: %s on resource: %s because no "
                     "identity-based policy allows the %s action",
                     MOAT_FMT(p->arn), authz->action, resource, authz->action);
}

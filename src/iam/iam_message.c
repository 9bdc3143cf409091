/* iam_message.c: the wording of AWS's access-denied messages, from the IAM User Guide's
 * "Troubleshoot access denied error messages" (one policy type is named per message). */
#include "iam/iam_message.h"

const char *iam_message_policy_type(enum iam_policy_type t)
{
    switch (t) {
    case IAM_PTYPE_IDENTITY:
        return "identity-based policy";
    case IAM_PTYPE_RESOURCE:
        return "resource-based policy";
    case IAM_PTYPE_BOUNDARY:
        return "permissions boundary";
    case IAM_PTYPE_SESSION:
        return "session policy";
    case IAM_PTYPE_SCP:
        return "service control policy";
    case IAM_PTYPE_RCP:
        return "resource control policy";
    case IAM_PTYPE_NONE:
        break;
    }
    return "";
}

void iam_message_denied(struct moat_buf *out, const struct iam_principal *p,
                        struct moat_slice action, struct moat_slice resource,
                        const struct iam_eval_result *r)
{
    if (r->decision == IAM_DECISION_ALLOW)
        return;
    moat_buf_append_cstr(out, "User: ");
    if (p->type == IAM_PRINCIPAL_ANONYMOUS)
        moat_buf_append_cstr(out, "anonymous");
    else
        moat_buf_append(out, p->arn);
    moat_buf_append_cstr(out, " is not authorized to perform: ");
    moat_buf_append(out, action);
    if (resource.len && !moat_slice_eq_cstr(resource, "*")) {
        moat_buf_append_cstr(out, " on resource: ");
        moat_buf_append(out, resource);
    }
    const char *type = iam_message_policy_type(r->cause);
    if (!*type)
        return;
    if (r->decision == IAM_DECISION_EXPLICIT_DENY) {
        moat_buf_append_cstr(out, r->cause == IAM_PTYPE_IDENTITY ? " with an explicit deny in an "
                                                                 : " with an explicit deny in a ");
        moat_buf_append_cstr(out, type);
        return;
    }
    moat_buf_append_cstr(out, " because no ");
    moat_buf_append_cstr(out, type);
    moat_buf_append_cstr(out, " allows the ");
    moat_buf_append(out, action);
    moat_buf_append_cstr(out, " action");
}

/* iam_message.h: AWS's access-denied message text for an evaluation result, which each
 * service wraps in its own error code (AccessDeniedException, AccessDenied...). */
#ifndef MOAT_IAM_MESSAGE_H
#define MOAT_IAM_MESSAGE_H

#include "core/buf.h"
#include "iam/iam_eval.h"

/* Appends, for a denied request (IAM User Guide, "Troubleshoot access denied error
 * messages"):
 *   User: <arn> is not authorized to perform: <action>[ on resource: <resource>] <reason>
 * where <reason> is "with an explicit deny in a(n) <policy type>" or "because no <policy
 * type> allows the <action> action". The resource part is left out when the resource is
 * empty or "*"; the reason is left out for a trust-policy implicit deny, as STS does. An
 * anonymous caller is shown as "anonymous". Appends nothing for an allow. */
void iam_message_denied(struct moat_buf *out, const struct iam_principal *p,
                        struct moat_slice action, struct moat_slice resource,
                        const struct iam_eval_result *r);

/* "identity-based policy", "service control policy"... (no article); "" for NONE. */
const char *iam_message_policy_type(enum iam_policy_type t);

#endif

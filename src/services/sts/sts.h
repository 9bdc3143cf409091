/* sts.h: what the Security Token Service files share: error kinds, the handlers and
 * authz functions of its table, and the encoded authorization messages. */
#ifndef MOAT_STS_H
#define MOAT_STS_H

#include "iam/iam_eval.h"
#include "services/service.h"

extern const struct moat_error_kind sts_validation_error;        /* ValidationError 400 */
extern const struct moat_error_kind sts_access_denied;           /* AccessDenied 403 */
extern const struct moat_error_kind sts_malformed_policy;        /* MalformedPolicyDocument 400 */
extern const struct moat_error_kind sts_packed_policy_too_large; /* PackedPolicyTooLarge 400 */
extern const struct moat_error_kind sts_invalid_authorization_message; /* 400 */

#define STS_HANDLER(name)                                                                          \
    struct moat_error *name(struct moat_call *call, const struct moat_value *in,                   \
                            struct moat_value *out)
#define STS_AUTHZ(name)                                                                            \
    struct moat_error *name(struct moat_call *call, const struct moat_value *in,                   \
                            struct moat_authz *authz)

STS_HANDLER(sts_assume_role);
STS_HANDLER(sts_get_session_token);
STS_HANDLER(sts_get_federation_token);
STS_HANDLER(sts_get_access_key_info);
STS_HANDLER(sts_decode_authorization_message);
STS_AUTHZ(sts_authz_assume_role);
STS_AUTHZ(sts_authz_federation_token);
void sts_audit_credentials(struct moat_call *call, struct moat_value **request_parameters,
                           struct moat_value **response_elements);

#undef STS_HANDLER
#undef STS_AUTHZ

/* Splits arn:aws:iam::<12 digits>:role/<path><name>; false for anything else. The
 * slices point into `arn`. */
bool sts_parse_role_arn(struct moat_slice arn, struct moat_slice *account, struct moat_slice *name);

/* An encoded authorization message (what AWS returns with some denials and
 * DecodeAuthorizationMessage decodes): the denial's details as JSON, sealed under the
 * root key for the principal's account, base64. In the call's arena. */
struct moat_slice sts_encode_authorization_message(struct moat_call *call, const char *action,
                                                   const char *resource,
                                                   const struct iam_eval_result *result,
                                                   const struct iam_eval_trace *trace);

#endif

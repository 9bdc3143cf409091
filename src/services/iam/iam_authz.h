/* iam_authz.h: the authz functions of IAM's operation rows (iam_authz.c): which
 * resource ARNs each operation is authorised on and which condition keys it adds. */
#ifndef MOAT_IAM_AUTHZ_H
#define MOAT_IAM_AUTHZ_H

#include "services/service.h"

#define IAM_AUTHZ_FN(name)                                                                         \
    struct moat_error *name(struct moat_call *call, const struct moat_value *in,                   \
                            struct moat_authz *authz)

IAM_AUTHZ_FN(iam_authz_user);  /* member 0 names a user (absent: the caller) */
IAM_AUTHZ_FN(iam_authz_group); /* member 0 names a group */
IAM_AUTHZ_FN(iam_authz_role);  /* member 0 names a role */
IAM_AUTHZ_FN(iam_authz_tag_user);
IAM_AUTHZ_FN(iam_authz_tag_role);
IAM_AUTHZ_FN(iam_authz_untag_user);
IAM_AUTHZ_FN(iam_authz_untag_role);
IAM_AUTHZ_FN(iam_authz_user_boundary);
IAM_AUTHZ_FN(iam_authz_role_boundary);
IAM_AUTHZ_FN(iam_authz_user_boundary_current);
IAM_AUTHZ_FN(iam_authz_role_boundary_current);
IAM_AUTHZ_FN(iam_authz_attach_user);
IAM_AUTHZ_FN(iam_authz_attach_group);
IAM_AUTHZ_FN(iam_authz_attach_role);
IAM_AUTHZ_FN(iam_authz_create_user);
IAM_AUTHZ_FN(iam_authz_create_group);
IAM_AUTHZ_FN(iam_authz_create_role);
IAM_AUTHZ_FN(iam_authz_create_policy);
IAM_AUTHZ_FN(iam_authz_policy); /* member 0 is a policy ARN */
IAM_AUTHZ_FN(iam_authz_tag_policy);
IAM_AUTHZ_FN(iam_authz_untag_policy);
IAM_AUTHZ_FN(iam_authz_list_users);
IAM_AUTHZ_FN(iam_authz_list_groups);
IAM_AUTHZ_FN(iam_authz_list_roles);
IAM_AUTHZ_FN(iam_authz_list_policies);
IAM_AUTHZ_FN(iam_authz_create_mfa);
IAM_AUTHZ_FN(iam_authz_mfa_serial);
IAM_AUTHZ_FN(iam_authz_list_mfa);
IAM_AUTHZ_FN(iam_authz_get_mfa);
IAM_AUTHZ_FN(iam_authz_key_owner);
IAM_AUTHZ_FN(iam_authz_policy_source);

#undef IAM_AUTHZ_FN

#endif

/* iam_principal.h: who is making a request, as authentication establishes it and as
 * the evaluator, the context builder and CloudTrail's userIdentity read it. */
#ifndef MOAT_IAM_PRINCIPAL_H
#define MOAT_IAM_PRINCIPAL_H

#include "core/arena.h"

enum iam_principal_type {
    IAM_PRINCIPAL_ANONYMOUS = 0,
    IAM_PRINCIPAL_ROOT,           /* the account's root user */
    IAM_PRINCIPAL_USER,           /* an IAM user (long-term keys or its own session token) */
    IAM_PRINCIPAL_ASSUMED_ROLE,   /* a role session: arn:aws:sts::A:assumed-role/R/S */
    IAM_PRINCIPAL_FEDERATED_USER, /* a GetFederationToken session: arn:aws:sts::A:federated-user/N
                                   */
    IAM_PRINCIPAL_SERVICE,        /* an AWS service principal, e.g. cloudtrail.amazonaws.com */
};

struct iam_tag {
    struct moat_slice key;
    struct moat_slice value;
};

/* Plain data: every slice and array is borrowed from whoever built the principal
 * (authentication builds it in the request arena). Empty slices mean "not set". */
struct iam_principal {
    enum iam_principal_type type;
    struct moat_slice account_id; /* 12 digits; empty for anonymous and services */
    /* User ARN, root ARN, session ARN (assumed-role or federated-user) or, for a
     * service principal, the service name ("cloudtrail.amazonaws.com"). */
    struct moat_slice arn;
    /* Root: the account id. User: AIDA... Assumed role: AROA...:session.
     * Federated user: account:name. Anonymous: empty (aws:userid is "anonymous"). */
    struct moat_slice principal_id;
    struct moat_slice name; /* user name, role session name or federated user name */

    /* Assumed-role sessions: the role (its ARN includes the path). */
    struct moat_slice role_arn;
    struct moat_slice role_name;
    struct moat_slice role_id; /* AROA... */
    /* Federated-user sessions: the IAM user who called GetFederationToken. */
    struct moat_slice parent_user_arn;
    struct moat_slice parent_user_id; /* AIDA... */

    struct moat_slice access_key_id; /* AKIA... or ASIA... the request was signed with */
    bool temporary;                  /* signed with a session token (ASIA...) */

    /* Principal tags: a user's tags; for a session the role's tags overridden by
     * the session tags (the builder merges them). */
    const struct iam_tag *tags;
    size_t tag_count;

    /* Session facts (temporary credentials only). */
    int64_t issued_at_ms; /* aws:TokenIssueTime */
    int64_t expires_at_ms;
    bool mfa_authenticated;
    int64_t mfa_auth_time_ms; /* when the MFA code was checked */
    struct moat_slice source_identity;
    const struct moat_slice *transitive_tag_keys;
    size_t transitive_tag_key_count;
    struct moat_slice federated_provider; /* aws:FederatedProvider (web identity, SAML) */
    struct moat_slice canonical_user_id;  /* S3 canonical id, matched by CanonicalUser */

    /* The principal's account in AWS Organizations (empty when none). */
    struct moat_slice org_id;
    const struct moat_slice *org_paths; /* "o-xxx/r-xxx/ou-xxx/" entries */
    size_t org_path_count;

    bool has_permissions_boundary; /* the user or role has one set */
    bool service_linked_role;      /* SCPs and RCPs do not apply */
};

/* The value of aws:PrincipalType ("Account", "User", "AssumedRole", "FederatedUser",
 * "Anonymous"), or NULL for a service principal. */
const char *iam_principal_type_name(enum iam_principal_type type);

/* The ARN that aws:PrincipalArn reports: the role ARN for an assumed-role session,
 * otherwise the principal's own ARN; empty for anonymous and service principals. */
struct moat_slice iam_principal_arn_for_policy(const struct iam_principal *p);

/* Builds a principal from an ARN, for the policy simulator and tests:
 * arn:<partition>:iam::A:root, arn:<partition>:iam::A:user/[path/]name,
 * arn:<partition>:sts::A:assumed-role/role/session (role ARN without a path),
 * arn:<partition>:sts::A:federated-user/name, "anonymous" and "service:<name>".
 * Unique ids are not in an ARN and stay empty, except root's (the account id) and a
 * federated user's (account:name). Slices borrow from `arn` or from static text, except
 * role_arn and a federated user's principal_id, which `a` holds. False when `arn`
 * names none of these. */
bool iam_principal_from_arn(struct moat_arena *a, struct moat_slice arn, struct iam_principal *out);

#endif

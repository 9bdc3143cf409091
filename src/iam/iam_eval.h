/* iam_eval.h: the one authorization decision every request goes through, following AWS's
 * policy evaluation logic (explicit deny, RCPs, SCPs, resource, identity, boundary, session). */
#ifndef MOAT_IAM_EVAL_H
#define MOAT_IAM_EVAL_H

#include "iam/iam_context.h"
#include "iam/iam_policy.h"

enum iam_decision {
    IAM_DECISION_IMPLICIT_DENY = 0,
    IAM_DECISION_ALLOW,
    IAM_DECISION_EXPLICIT_DENY,
};

/* The policy types AWS names in its access-denied messages. */
enum iam_policy_type {
    IAM_PTYPE_NONE = 0,
    IAM_PTYPE_IDENTITY,
    IAM_PTYPE_RESOURCE, /* bucket/key/secret policy, or the trust policy of a role */
    IAM_PTYPE_BOUNDARY,
    IAM_PTYPE_SESSION,
    IAM_PTYPE_SCP,
    IAM_PTYPE_RCP,
};

/* A borrowed array of compiled policies. */
struct iam_policy_set {
    const struct iam_policy *const *policies;
    size_t count;
};

enum {
    /* The resource is a KMS key and resource_policies holds its key policy: the key policy
     * must allow the principal or its account before identity policies count. */
    IAM_EVAL_KMS_KEY = 1 << 0,
    /* An sts:AssumeRole* check: resource_policies holds the role's trust policy, which must
     * allow the caller explicitly. */
    IAM_EVAL_TRUST_POLICY = 1 << 1,
};

struct iam_eval_input {
    const struct iam_principal *principal;
    struct moat_slice action;           /* "kms:Decrypt" (any case) */
    struct moat_slice resource;         /* the resource ARN, or "*" */
    struct moat_slice resource_account; /* owner of the resource; empty = the principal's */
    const struct iam_context *context;

    struct iam_policy_set identity;          /* the principal's identity-based policies */
    const struct iam_policy_set *boundary;   /* NULL: no permissions boundary */
    const struct iam_policy_set *session;    /* NULL: no session policy was passed */
    struct iam_policy_set resource_policies; /* the resource's policy (usually 0 or 1) */
    /* SCPs of the principal's account, one set per level (root, each OU, the account);
     * every level must allow. 0 levels: SCPs do not apply (no organization, management
     * account). They never apply to service-linked roles or service principals. */
    const struct iam_policy_set *scp_levels;
    size_t scp_level_count;
    /* RCPs of the resource's account, per level likewise. */
    const struct iam_policy_set *rcp_levels;
    size_t rcp_level_count;
    unsigned flags; /* IAM_EVAL_* */
};

struct iam_eval_result {
    enum iam_decision decision;
    /* For a denial, the policy type the message names (IAM_PTYPE_NONE for an allow, and
     * for a trust-policy implicit deny, which AWS reports without a reason). */
    enum iam_policy_type cause;
    bool trust_policy; /* copied from the input flags, for the message */
    /* The explicit deny found first (NULL otherwise). */
    const struct iam_policy *deny_policy;
    uint32_t deny_statement;
};

/* For the policy simulator: every statement that matched and every condition key that a
 * matching statement needed but the context lacked. Caller-provided storage; entries past
 * the capacity are counted but not stored. */
struct iam_matched_statement {
    const struct iam_policy *policy;
    enum iam_policy_type type;
    uint32_t level;        /* SCP/RCP level, else 0 */
    uint32_t policy_index; /* index in its set */
    uint32_t statement_index;
    bool allow;
};

struct iam_eval_trace {
    struct iam_matched_statement *matched;
    size_t matched_cap, matched_count;
    struct moat_slice *missing_keys; /* as written in the policy */
    size_t missing_cap, missing_count;
};

/* Decides one request. Allocates nothing; thread-safe over shared compiled policies.
 * With a trace every policy is evaluated in full; without one the first explicit deny
 * ends the evaluation. Returns out->decision. */
enum iam_decision iam_evaluate(const struct iam_eval_input *in, struct iam_eval_result *out,
                               struct iam_eval_trace *trace);

const char *iam_decision_name(enum iam_decision d); /* "Allow", "ExplicitDeny", "ImplicitDeny" */
/* The simulator's names: "IAM Policy", "Resource Policy", "Permissions Boundary Policy",
 * "Session Policy", "Service Control Policy", "Resource Control Policy". */
const char *iam_policy_type_name(enum iam_policy_type t);

#endif

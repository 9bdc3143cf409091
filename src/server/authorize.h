/* authorize.h: the one place that decides whether a call may proceed. It
 * reads the operation row (action, resources, condition keys), gathers the
 * policies that apply (from the sources IAM, STS and Organizations register)
 * and asks the IAM evaluator; no service checks permissions itself. */
#ifndef MOAT_AUTHORIZE_H
#define MOAT_AUTHORIZE_H

#include "iam/iam_eval.h"
#include "services/service.h"

/* The policies that apply to the calling principal. Filled by the registered
 * principal source; arrays live in the call's arena, policies are compiled
 * (and may be shared from a cache: the source keeps them alive). */
struct authz_principal_policies {
    struct iam_policy_set identity;
    struct iam_policy_set boundary; /* .count 0 and has_boundary false: none */
    bool has_boundary;
    struct iam_policy_set session; /* session policies of a temporary credential */
    bool has_session;
    const struct iam_policy_set *scp_levels; /* root, OUs, account */
    size_t scp_level_count;
};

/* Fills the principal's policies (and may complete the principal: tags,
 * organization id and paths). Returns an error only for store failures. */
typedef struct moat_error *(*authz_principal_source_fn)(struct moat_call *call,
                                                        struct iam_principal *principal,
                                                        struct authz_principal_policies *out);
/* Fills the SCP levels of an account (RCP levels likewise, for resources). */
typedef struct moat_error *(*authz_org_source_fn)(struct moat_call *call,
                                                  struct moat_slice account_id,
                                                  struct iam_principal *principal,
                                                  const struct iam_policy_set **levels,
                                                  size_t *level_count);

/* The organization an account belongs to: its id and OU path ("o-.../r-.../ou-.../"), both
 * empty when it is in none. Slices live at least as long as the call. */
typedef struct moat_error *(*authz_org_info_fn)(struct moat_call *call,
                                                struct moat_slice account_id,
                                                struct moat_slice *org_id,
                                                struct moat_slice *org_path);

/* Registered once at start-up by the IAM/STS and Organizations modules. */
void authorize_set_principal_source(authz_principal_source_fn fn);
void authorize_set_org_source(authz_org_source_fn fn);
void authorize_set_org_info_source(authz_org_info_fn fn);

/* The SCP levels of an account for a principal (what authorize_call evaluates), for
 * callers that evaluate policies of another principal (the policy simulator). */
struct moat_error *authorize_org_levels(struct moat_call *call, struct moat_slice account_id,
                                        struct iam_principal *principal,
                                        const struct iam_policy_set **levels, size_t *count);

/* The request context every evaluation starts from (global keys filled). */
struct iam_context *authorize_context(struct moat_call *call);

/* NULL when allowed; otherwise the service's access-denied error with AWS's
 * message (and call->error_is_denial set). */
struct moat_error *authorize_call(struct moat_call *call);

/* Evaluates one action on one resource for the call's principal with an
 * explicit resource policy and flags (for handlers that must check a second
 * action, e.g. iam:PassRole, or the simulator). `result` may be NULL. */
enum iam_decision authorize_check(struct moat_call *call, const char *action, const char *resource,
                                  const char *resource_account,
                                  const struct iam_policy *resource_policy, unsigned flags,
                                  struct iam_context *ctx, struct iam_eval_result *result,
                                  struct iam_eval_trace *trace);

#endif

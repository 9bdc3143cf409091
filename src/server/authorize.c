/* authorize.c: builds what the evaluator needs from the operation row and
 * the call (principal policies from the registered sources, the request
 * context, the resources and resource policy from the row's authz function)
 * and turns a denial into the service's access-denied error. */
#include "server/authorize.h"

#include "core/buf.h"
#include "iam/iam_message.h"
#include "services/registry.h"

#include <string.h>

static authz_principal_source_fn principal_source;
static authz_org_source_fn org_source;
static authz_org_info_fn org_info_source;

void authorize_set_principal_source(authz_principal_source_fn fn)
{
    principal_source = fn;
}

void authorize_set_org_source(authz_org_source_fn fn)
{
    org_source = fn;
}

void authorize_set_org_info_source(authz_org_info_fn fn)
{
    org_info_source = fn;
}

struct moat_error *authorize_org_levels(struct moat_call *call, struct moat_slice account_id,
                                        struct iam_principal *principal,
                                        const struct iam_policy_set **levels, size_t *count)
{
    *levels = NULL;
    *count = 0;
    return org_source ? org_source(call, account_id, principal, levels, count) : NULL;
}

/* aws:ResourceAccount, aws:ResourceOrgID and aws:ResourceOrgPaths of the resources' owner,
 * unless the service set them. */
static struct moat_error *resource_owner_keys(struct moat_call *call)
{
    struct moat_authz *authz = &call->authz;
    struct moat_slice owner = authz->resource_account ? moat_slice_cstr(authz->resource_account)
                                                      : call->principal->account_id;
    if (!owner.len)
        return NULL;
    struct iam_context *ctx = authz->context;
    if (!iam_context_get(ctx, MOAT_LIT("aws:ResourceAccount")) &&
        !iam_context_set(ctx, MOAT_LIT("aws:ResourceAccount"), owner))
        return moat_internal(call, "request context is full");
    if (!org_info_source || iam_context_get(ctx, MOAT_LIT("aws:ResourceOrgID")))
        return NULL;
    struct moat_slice org_id = MOAT_NULL_SLICE, path = MOAT_NULL_SLICE;
    struct moat_error *err = org_info_source(call, owner, &org_id, &path);
    if (err || !org_id.len)
        return err;
    struct moat_slice *paths = moat_arena_alloc(call->arena, sizeof(*paths));
    paths[0] = path;
    if (!iam_context_set(ctx, MOAT_LIT("aws:ResourceOrgID"), org_id) ||
        !iam_context_set_multi(ctx, MOAT_LIT("aws:ResourceOrgPaths"), paths, 1))
        return moat_internal(call, "request context is full");
    return NULL;
}

/* The principal's policies, loaded once per call (internal calls share the parent's). */
static struct moat_error *principal_policies(struct moat_call *call,
                                             struct authz_principal_policies **out)
{
    if (!call->principal_policies && call->parent)
        call->principal_policies = call->parent->principal_policies;
    if (!call->principal_policies) {
        struct authz_principal_policies *pp = moat_arena_calloc(call->arena, sizeof(*pp));
        if (principal_source) {
            struct moat_error *err = principal_source(call, call->principal, pp);
            if (err)
                return err;
        }
        if (org_source && !pp->scp_level_count && call->principal->account_id.len) {
            struct moat_error *err = org_source(call, call->principal->account_id, call->principal,
                                                &pp->scp_levels, &pp->scp_level_count);
            if (err)
                return err;
        }
        call->principal_policies = pp;
    }
    *out = call->principal_policies;
    return NULL;
}

struct iam_context *authorize_context(struct moat_call *call)
{
    if (call->authz.context)
        return call->authz.context;
    struct iam_context *ctx = moat_arena_alloc(call->arena, sizeof(*ctx));
    iam_context_init(ctx, call->arena);
    struct iam_request_facts f;
    memset(&f, 0, sizeof(f));
    f.now_ms = call->now_ms;
    f.source_ip = call->via_service ? MOAT_NULL_SLICE : call->source_ip;
    f.secure_transport = call->secure_transport;
    f.requested_region = moat_slice_cstr(call->region);
    f.user_agent = call->user_agent;
    if (call->via_service) {
        /* aws:CalledVia lists the calling services' principals, first to last. */
        size_t n = 0;
        for (struct moat_call *c = call->parent; c; c = c->parent)
            n++;
        struct moat_slice *via = moat_arena_alloc(call->arena, (n ? n : 1) * sizeof(*via));
        size_t i = n;
        for (struct moat_call *c = call->parent; c; c = c->parent)
            via[--i] = moat_slice_cstr(c->service->event_source);
        f.via_aws_service = true;
        f.called_via = via;
        f.called_via_count = n;
    }
    if (!iam_context_fill_global(ctx, call->principal, &f))
        return ctx; /* an arena-backed context cannot fill up */
    call->authz.context = ctx;
    return ctx;
}

enum iam_decision authorize_check(struct moat_call *call, const char *action, const char *resource,
                                  const char *resource_account,
                                  const struct iam_policy *resource_policy, unsigned flags,
                                  struct iam_context *ctx, struct iam_eval_result *result,
                                  struct iam_eval_trace *trace)
{
    struct authz_principal_policies *pp;
    struct iam_eval_result local;
    if (!result)
        result = &local;
    if (principal_policies(call, &pp)) {
        result->decision = IAM_DECISION_IMPLICIT_DENY;
        result->cause = IAM_PTYPE_IDENTITY;
        return result->decision;
    }
    const struct iam_policy *rp[1] = {resource_policy};
    struct iam_eval_input in = {
        .principal = call->principal,
        .action = moat_slice_cstr(action),
        .resource = moat_slice_cstr(resource && *resource ? resource : "*"),
        .resource_account = moat_slice_cstr(resource_account),
        .context = ctx ? ctx : authorize_context(call),
        .identity = pp->identity,
        .boundary = pp->has_boundary ? &pp->boundary : NULL,
        .session = pp->has_session ? &pp->session : NULL,
        .resource_policies = {rp, resource_policy ? 1 : 0},
        .scp_levels = pp->scp_levels,
        .scp_level_count = pp->scp_level_count,
        .flags = flags,
    };
    return iam_evaluate(&in, result, trace);
}

struct moat_error *authorize_call(struct moat_call *call)
{
    if (call->op->flags & MOAT_OP_NO_AUTHZ)
        return NULL;
    struct moat_authz *authz = &call->authz;
    authz->action = call->op->action;
    struct authz_principal_policies *pp;
    struct moat_error *err = principal_policies(call, &pp);
    if (err)
        return err;
    authorize_context(call);
    if (call->op->authz) {
        err = call->op->authz(call, call->input, authz);
        if (err)
            return err;
    }
    if (authz->context && (err = resource_owner_keys(call)))
        return err;
    unsigned flags =
        (authz->kms_key ? IAM_EVAL_KMS_KEY : 0) | (authz->trust ? IAM_EVAL_TRUST_POLICY : 0);
    size_t n = authz->resource_count ? authz->resource_count : 1;
    for (size_t i = 0; i < n; i++) {
        const char *resource = authz->resource_count ? authz->resources[i] : "*";
        struct iam_eval_result r;
        if (authorize_check(call, authz->action, resource, authz->resource_account,
                            authz->resource_policy, flags, authz->context, &r,
                            NULL) == IAM_DECISION_ALLOW)
            continue;
        if (r.decision == IAM_DECISION_IMPLICIT_DENY && authz->grant_check &&
            authz->grant_check(call, i))
            continue;
        call->error_is_denial = true;
        struct moat_buf b;
        moat_buf_init(&b, call->arena, 256);
        iam_message_denied(&b, call->principal, moat_slice_cstr(authz->action),
                           moat_slice_cstr(resource), &r);
        return moat_fail(call, call->service->access_denied, "%.*s", MOAT_FMT(moat_buf_slice(&b)));
    }
    return NULL;
}

/* iam_simulate.c: the policy simulator (SimulatePrincipalPolicy, SimulateCustomPolicy)
 * and the context keys a set of policies uses. It runs the same evaluator as every
 * request, over the same policies the principal source loads (identity, boundary, the
 * organization's SCPs), plus the policies and context entries the request supplies.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html */
#include "aws/shapes/shapes_iam.h"
#include "core/encoding.h"
#include "core/json.h"
#include "iam/iam_context.h"
#include "server/authorize.h"
#include "services/iam/iam.h"
#include "services/iam/iam_handlers.h"

#include <stdio.h>
#include <string.h>

#define SIM_MATCHED_CAP 64
#define SIM_MISSING_CAP 32

struct sim {
    struct iam_principal principal;
    struct iam_source_policy *identity;
    size_t identity_count;
    struct iam_source_policy *boundary;
    size_t boundary_count;
    bool has_boundary;
    const struct iam_policy *resource_policy;
    struct moat_slice resource_owner;
    const struct iam_policy_set *scp_levels;
    size_t scp_level_count;
    struct iam_context *ctx;
};

static void unref_policy(void *p)
{
    iam_policy_unref(p);
}

/* Compiles PolicyInputList-style lists ("PolicyInputList.1"...). */
static struct moat_error *compile_list(struct moat_call *call, const struct moat_value *list,
                                       const char *list_name, enum iam_policy_kind kind,
                                       struct iam_source_policy **out, size_t *count)
{
    size_t n = list ? list->count : 0;
    struct iam_source_policy *items = moat_arena_alloc(call->arena, (n + 1) * sizeof(*items));
    for (size_t i = 0; i < n; i++) {
        struct moat_slice text =
            moat_value_is_string(list->u.items[i]) ? list->u.items[i]->u.s : MOAT_NULL_SLICE;
        struct iam_policy *p;
        struct iam_policy_diag diag;
        if (iam_policy_compile(kind, text, 64 * 1024, &p, &diag) != IAM_POLICY_OK)
            return moat_fail(call, &iam_invalid_input, "%s.%zu: %s", list_name, i + 1,
                             diag.message);
        moat_arena_on_free(call->arena, unref_policy, p);
        items[i] = (struct iam_source_policy){
            p, moat_arena_printf(call->arena, "%s.%zu", list_name, i + 1), "none"};
    }
    *out = items;
    *count = n;
    return NULL;
}

static struct iam_source_policy *concat(struct moat_arena *a, const struct iam_source_policy *x,
                                        size_t nx, const struct iam_source_policy *y, size_t ny)
{
    struct iam_source_policy *r = moat_arena_alloc(a, (nx + ny + 1) * sizeof(*r));
    if (nx)
        memcpy(r, x, nx * sizeof(*r));
    if (ny)
        memcpy(r + nx, y, ny * sizeof(*r));
    return r;
}

/* ContextEntries: key, values and type (a *List type is a multivalued key). */
static struct moat_error *context_entries(struct moat_call *call, const struct moat_value *list,
                                          struct iam_context *ctx)
{
    for (uint32_t i = 0; list && i < list->count; i++) {
        const struct moat_value *e = list->u.items[i];
        struct moat_slice key = moat_get_str(e, IAM_CONTEXT_ENTRY_CONTEXT_KEY_NAME);
        struct moat_slice type = moat_get_str(e, IAM_CONTEXT_ENTRY_CONTEXT_KEY_TYPE);
        const struct moat_value *vals = moat_get(e, IAM_CONTEXT_ENTRY_CONTEXT_KEY_VALUES);
        size_t n = vals ? vals->count : 0;
        struct moat_slice *v = moat_arena_alloc(call->arena, (n + 1) * sizeof(*v));
        for (size_t j = 0; j < n; j++)
            v[j] = moat_value_is_string(vals->u.items[j]) ? vals->u.items[j]->u.s : MOAT_LIT("");
        bool ok = moat_slice_ends_with(type, MOAT_LIT("List"))
                      ? iam_context_set_multi(ctx, key, v, n)
                  : n ? iam_context_set(ctx, key, v[0])
                      : iam_context_set_multi(ctx, key, v, 0);
        if (!ok)
            return moat_internal(call, "request context is full");
    }
    return NULL;
}

static const char *decision_name(enum iam_decision d)
{
    return d == IAM_DECISION_ALLOW           ? "allowed"
           : d == IAM_DECISION_EXPLICIT_DENY ? "explicitDeny"
                                             : "implicitDeny";
}

static void position(struct moat_call *call, struct moat_value *st, unsigned member,
                     struct iam_position p)
{
    struct moat_value *o = moat_set_struct(call->arena, st, member);
    moat_set_int(call->arena, o, IAM_POSITION_LINE, p.line);
    moat_set_int(call->arena, o, IAM_POSITION_COLUMN, p.column);
}

/* Where a matched policy came from, for MatchedStatements. */
static bool source_of(const struct sim *s, const struct iam_policy *p, const char **id,
                      const char **type)
{
    for (size_t i = 0; i < s->identity_count; i++)
        if (s->identity[i].policy == p) {
            *id = s->identity[i].source_id;
            *type = s->identity[i].source_type;
            return true;
        }
    for (size_t i = 0; i < s->boundary_count; i++)
        if (s->boundary[i].policy == p) {
            *id = s->boundary[i].source_id;
            *type = s->boundary[i].source_type;
            return true;
        }
    if (p == s->resource_policy) {
        *id = "ResourcePolicy";
        *type = "resource";
        return true;
    }
    return false;
}

static void evaluate_one(struct moat_call *call, const struct sim *s, struct moat_slice action,
                         struct moat_slice resource, struct moat_value *out)
{
    struct moat_arena *a = call->arena;
    const struct iam_policy **ident = moat_arena_alloc(a, (s->identity_count + 1) * sizeof(*ident));
    for (size_t i = 0; i < s->identity_count; i++)
        ident[i] = s->identity[i].policy;
    const struct iam_policy **bound = moat_arena_alloc(a, (s->boundary_count + 1) * sizeof(*bound));
    for (size_t i = 0; i < s->boundary_count; i++)
        bound[i] = s->boundary[i].policy;
    struct iam_policy_set boundary_set = {bound, s->boundary_count};
    const struct iam_policy *rp[1] = {s->resource_policy};
    struct iam_eval_input in = {
        .principal = &s->principal,
        .action = action,
        .resource = resource,
        .resource_account = s->resource_owner,
        .context = s->ctx,
        .identity = {ident, s->identity_count},
        .boundary = s->has_boundary ? &boundary_set : NULL,
        .resource_policies = {rp, s->resource_policy ? 1 : 0},
        .scp_levels = s->scp_levels,
        .scp_level_count = s->scp_level_count,
    };
    struct iam_matched_statement *matched = moat_arena_alloc(a, SIM_MATCHED_CAP * sizeof(*matched));
    struct moat_slice *missing = moat_arena_alloc(a, SIM_MISSING_CAP * sizeof(*missing));
    struct iam_eval_trace trace = {matched, SIM_MATCHED_CAP, 0, missing, SIM_MISSING_CAP, 0};
    struct iam_eval_result r;
    iam_evaluate(&in, &r, &trace);

    moat_set_str(a, out, IAM_EVALUATION_RESULT_EVAL_ACTION_NAME, action);
    moat_set_str(a, out, IAM_EVALUATION_RESULT_EVAL_RESOURCE_NAME, resource);
    moat_set_cstr(a, out, IAM_EVALUATION_RESULT_EVAL_DECISION, decision_name(r.decision));
    struct moat_value *ms = moat_set_list(a, out, IAM_EVALUATION_RESULT_MATCHED_STATEMENTS);
    for (size_t i = 0; i < MOAT_MIN(trace.matched_count, trace.matched_cap); i++) {
        const char *id, *type;
        struct iam_statement_info info;
        /* The statements that decide: the denies of an explicit deny, the allows of an
         * allow; an implicit deny has none. */
        if (r.decision == IAM_DECISION_IMPLICIT_DENY ||
            matched[i].allow != (r.decision == IAM_DECISION_ALLOW))
            continue;
        if (!source_of(s, matched[i].policy, &id, &type) ||
            !iam_policy_statement_info(matched[i].policy, matched[i].statement_index, &info))
            continue; /* SCPs are reported through OrganizationsDecisionDetail */
        struct moat_value *m = moat_list_add_struct(a, ms);
        moat_set_cstr(a, m, IAM_STATEMENT_SOURCE_POLICY_ID, id);
        moat_set_cstr(a, m, IAM_STATEMENT_SOURCE_POLICY_TYPE, type);
        position(call, m, IAM_STATEMENT_START_POSITION, info.start);
        position(call, m, IAM_STATEMENT_END_POSITION, info.end);
    }
    struct moat_value *mv = moat_set_list(a, out, IAM_EVALUATION_RESULT_MISSING_CONTEXT_VALUES);
    for (size_t i = 0; i < MOAT_MIN(trace.missing_count, trace.missing_cap); i++)
        moat_list_add_str(a, mv, missing[i]);
    if (s->scp_level_count) {
        struct moat_value *o =
            moat_set_struct(a, out, IAM_EVALUATION_RESULT_ORGANIZATIONS_DECISION_DETAIL);
        moat_set_bool(a, o, IAM_ORGANIZATIONS_DECISION_DETAIL_ALLOWED_BY_ORGANIZATIONS,
                      !(r.decision != IAM_DECISION_ALLOW && r.cause == IAM_PTYPE_SCP));
    }
    if (s->has_boundary) {
        struct moat_value *o =
            moat_set_struct(a, out, IAM_EVALUATION_RESULT_PERMISSIONS_BOUNDARY_DECISION_DETAIL);
        moat_set_bool(a, o,
                      IAM_PERMISSIONS_BOUNDARY_DECISION_DETAIL_ALLOWED_BY_PERMISSIONS_BOUNDARY,
                      !(r.decision != IAM_DECISION_ALLOW && r.cause == IAM_PTYPE_BOUNDARY));
    }
}

/* The shared tail of both operations: resource policy, context, and one result per
 * action and resource, paginated by position. */
struct sim_request {
    unsigned input_list, boundary_list, actions, resources, resource_policy, resource_owner,
        caller_arn, context, max_items, marker;
};

static struct moat_error *simulate(struct moat_call *call, const struct moat_value *in,
                                   struct moat_value *out, struct sim *s,
                                   const struct sim_request *rq)
{
    struct moat_arena *a = call->arena;
    struct iam_source_policy *extra;
    size_t extra_count;
    struct moat_error *err = compile_list(call, moat_get(in, rq->input_list), "PolicyInputList",
                                          IAM_POLICY_IDENTITY, &extra, &extra_count);
    if (err)
        return err;
    s->identity = concat(a, s->identity, s->identity_count, extra, extra_count);
    s->identity_count += extra_count;
    const struct moat_value *bl = moat_get(in, rq->boundary_list);
    if (bl && bl->count) {
        /* A boundary given here replaces the entity's. */
        if ((err = compile_list(call, bl, "PermissionsBoundaryPolicyInputList", IAM_POLICY_IDENTITY,
                                &s->boundary, &s->boundary_count)))
            return err;
        s->has_boundary = true;
    }
    struct moat_slice rp = moat_get_str(in, rq->resource_policy);
    if (rp.len) {
        struct iam_policy *p;
        struct iam_policy_diag diag;
        if (iam_policy_compile(IAM_POLICY_RESOURCE, rp, 0, &p, &diag) != IAM_POLICY_OK)
            return moat_fail(call, &iam_invalid_input, "ResourcePolicy: %s", diag.message);
        moat_arena_on_free(a, unref_policy, p);
        s->resource_policy = p;
    }
    struct moat_slice caller = moat_get_str(in, rq->caller_arn);
    if (caller.len) {
        struct iam_principal cp;
        if (!iam_principal_from_arn(a, caller, &cp) || cp.type != IAM_PRINCIPAL_USER)
            return moat_fail(call, &iam_invalid_input,
                             "CallerArn %.*s must be the ARN of an IAM user.", MOAT_FMT(caller));
        s->principal.arn = cp.arn;
        s->principal.name = cp.name;
        s->principal.account_id = cp.account_id;
    }
    s->resource_owner = moat_get_str(in, rq->resource_owner);
    if (s->resource_owner.len) {
        /* ResourceOwner is an account ARN or id. */
        long colon = -1;
        for (size_t i = 0; i < s->resource_owner.len; i++)
            if (s->resource_owner.ptr[i] == ':')
                colon = (long)i;
        if (colon >= 0 && moat_slice_ends_with(s->resource_owner, MOAT_LIT(":root")))
            s->resource_owner = moat_slice_sub(s->resource_owner, 0, s->resource_owner.len - 5);
        for (size_t i = s->resource_owner.len; i > 0; i--)
            if (s->resource_owner.ptr[i - 1] == ':') {
                s->resource_owner = moat_slice_sub(s->resource_owner, i, s->resource_owner.len);
                break;
            }
    }

    s->ctx = moat_arena_alloc(a, sizeof(*s->ctx));
    iam_context_init(s->ctx, a);
    if (!iam_context_add_principal(s->ctx, &s->principal, call->now_ms))
        return moat_internal(call, "request context is full");
    if ((err = context_entries(call, moat_get(in, rq->context), s->ctx)))
        return err;

    struct iam_page page;
    if ((err = iam_page_begin(call, in, rq->marker, rq->max_items, &page)))
        return err;
    size_t start = 0;
    if (page.after.len) {
        uint64_t v;
        if (!moat_slice_to_u64(page.after, &v))
            return moat_fail(call, &iam_invalid_input, "Invalid Marker.");
        start = (size_t)v;
    }
    const struct moat_value *actions = moat_get(in, rq->actions);
    const struct moat_value *resources = moat_get(in, rq->resources);
    size_t nr = resources && resources->count ? resources->count : 1;
    size_t total = (actions ? actions->count : 0) * nr, shown = 0, i = start;
    struct moat_value *list =
        moat_set_list(a, out, IAM_SIMULATE_POLICY_RESPONSE_EVALUATION_RESULTS);
    for (; i < total && shown < page.max_items; i++, shown++) {
        const struct moat_value *act = actions->u.items[i / nr];
        struct moat_slice res =
            resources && resources->count && moat_value_is_string(resources->u.items[i % nr])
                ? resources->u.items[i % nr]->u.s
                : MOAT_LIT("*");
        evaluate_one(call, s, moat_value_is_string(act) ? act->u.s : MOAT_LIT(""), res,
                     moat_list_add_struct(a, list));
    }
    bool truncated = i < total;
    char next[24];
    snprintf(next, sizeof(next), "%zu", i);
    iam_page_end(call, out, IAM_SIMULATE_POLICY_RESPONSE_IS_TRUNCATED,
                 IAM_SIMULATE_POLICY_RESPONSE_MARKER, truncated,
                 moat_arena_dup(a, moat_slice_cstr(next)));
    return NULL;
}

/* The policy source named by an ARN: a user, group or role of the caller's account. */
static struct moat_error *load_source(struct moat_call *call, struct moat_slice arn,
                                      struct iam_entity *e)
{
    struct moat_slice prefix =
        moat_slice_cstr(moat_arena_printf(call->arena, "arn:aws:iam::%s:", call->account_id));
    enum iam_entity_kind kind;
    struct moat_slice rest = moat_slice_sub(arn, prefix.len, arn.len);
    if (!moat_slice_starts_with(arn, prefix))
        return moat_fail(call, &iam_invalid_input, "Invalid ARN: %.*s", MOAT_FMT(arn));
    if (moat_slice_starts_with(rest, MOAT_LIT("user/")))
        kind = IAM_ENTITY_USER;
    else if (moat_slice_starts_with(rest, MOAT_LIT("group/")))
        kind = IAM_ENTITY_GROUP;
    else if (moat_slice_starts_with(rest, MOAT_LIT("role/")))
        kind = IAM_ENTITY_ROLE;
    else
        return moat_fail(call, &iam_invalid_input,
                         "PolicySourceArn must be the ARN of a user, group or role: %.*s",
                         MOAT_FMT(arn));
    struct moat_slice name = rest;
    for (size_t i = rest.len; i > 0; i--)
        if (rest.ptr[i - 1] == '/') {
            name = moat_slice_sub(rest, i, rest.len);
            break;
        }
    struct moat_error *err = iam_entity_load(call, kind, iam_account(call), name, e);
    if (!err && !moat_slice_eq(e->arn, arn))
        return moat_fail(call, &iam_no_such_entity, "The %s with name %.*s cannot be found.",
                         iam_entity_noun(kind), MOAT_FMT(name));
    return err;
}

/* The simulated principal of an entity and its policies. */
static struct moat_error *entity_sim(struct moat_call *call, const struct iam_entity *e,
                                     struct sim *s)
{
    memset(s, 0, sizeof(*s));
    struct iam_entity_policies ep;
    struct moat_error *err = iam_entity_policies(call, e, &ep);
    if (err)
        return err;
    struct iam_principal *p = &s->principal;
    p->account_id = iam_account(call);
    p->tags = ep.tags;
    p->tag_count = ep.tag_count;
    if (e->kind == IAM_ENTITY_ROLE) {
        p->type = IAM_PRINCIPAL_ASSUMED_ROLE;
        p->arn = e->arn;
        p->role_arn = e->arn;
        p->role_name = e->name;
        p->role_id = e->id;
        p->principal_id = e->id;
    } else {
        p->type = IAM_PRINCIPAL_USER;
        p->arn = e->arn;
        p->name = e->name;
        p->principal_id = e->id;
    }
    s->identity = ep.identity;
    s->identity_count = ep.identity_count;
    s->boundary = ep.boundary;
    s->boundary_count = ep.boundary_count;
    s->has_boundary = moat_map_str(e->rec, "PermissionsBoundary").len > 0;
    p->has_permissions_boundary = s->has_boundary;
    /* The account's SCPs apply as they do to real requests. */
    return authorize_org_levels(call, p->account_id, p, &s->scp_levels, &s->scp_level_count);
}

struct moat_error *iam_simulate_principal_policy(struct moat_call *call,
                                                 const struct moat_value *in,
                                                 struct moat_value *out)
{
    struct iam_entity e;
    struct sim s;
    struct moat_error *err = load_source(
        call, moat_get_str(in, IAM_SIMULATE_PRINCIPAL_POLICY_REQUEST_POLICY_SOURCE_ARN), &e);
    if (!err)
        err = entity_sim(call, &e, &s);
    if (err)
        return err;
    static const struct sim_request rq = {
        IAM_SIMULATE_PRINCIPAL_POLICY_REQUEST_POLICY_INPUT_LIST,
        IAM_SIMULATE_PRINCIPAL_POLICY_REQUEST_PERMISSIONS_BOUNDARY_POLICY_INPUT_LIST,
        IAM_SIMULATE_PRINCIPAL_POLICY_REQUEST_ACTION_NAMES,
        IAM_SIMULATE_PRINCIPAL_POLICY_REQUEST_RESOURCE_ARNS,
        IAM_SIMULATE_PRINCIPAL_POLICY_REQUEST_RESOURCE_POLICY,
        IAM_SIMULATE_PRINCIPAL_POLICY_REQUEST_RESOURCE_OWNER,
        IAM_SIMULATE_PRINCIPAL_POLICY_REQUEST_CALLER_ARN,
        IAM_SIMULATE_PRINCIPAL_POLICY_REQUEST_CONTEXT_ENTRIES,
        IAM_SIMULATE_PRINCIPAL_POLICY_REQUEST_MAX_ITEMS,
        IAM_SIMULATE_PRINCIPAL_POLICY_REQUEST_MARKER,
    };
    return simulate(call, in, out, &s, &rq);
}

struct moat_error *iam_simulate_custom_policy(struct moat_call *call, const struct moat_value *in,
                                              struct moat_value *out)
{
    /* Only the given policies, for a principal of the caller's account. */
    struct sim s;
    memset(&s, 0, sizeof(s));
    s.principal.type = IAM_PRINCIPAL_USER;
    s.principal.account_id = iam_account(call);
    s.principal.arn = call->principal->arn;
    s.principal.name =
        call->principal->type == IAM_PRINCIPAL_USER ? call->principal->name : MOAT_NULL_SLICE;
    static const struct sim_request rq = {
        IAM_SIMULATE_CUSTOM_POLICY_REQUEST_POLICY_INPUT_LIST,
        IAM_SIMULATE_CUSTOM_POLICY_REQUEST_PERMISSIONS_BOUNDARY_POLICY_INPUT_LIST,
        IAM_SIMULATE_CUSTOM_POLICY_REQUEST_ACTION_NAMES,
        IAM_SIMULATE_CUSTOM_POLICY_REQUEST_RESOURCE_ARNS,
        IAM_SIMULATE_CUSTOM_POLICY_REQUEST_RESOURCE_POLICY,
        IAM_SIMULATE_CUSTOM_POLICY_REQUEST_RESOURCE_OWNER,
        IAM_SIMULATE_CUSTOM_POLICY_REQUEST_CALLER_ARN,
        IAM_SIMULATE_CUSTOM_POLICY_REQUEST_CONTEXT_ENTRIES,
        IAM_SIMULATE_CUSTOM_POLICY_REQUEST_MAX_ITEMS,
        IAM_SIMULATE_CUSTOM_POLICY_REQUEST_MARKER,
    };
    return simulate(call, in, out, &s, &rq);
}

/* ---- context keys -------------------------------------------------------------------------- */

/* Adds the condition keys of a policy document (each once, as first written). */
static void keys_of(struct moat_call *call, struct moat_slice text, struct moat_value *list)
{
    struct moat_value *doc;
    if (!moat_json_parse(call->arena, text, 0, &doc, NULL))
        return;
    struct moat_value *st = moat_map_get(doc, "Statement");
    size_t n = st && st->type == MOAT_V_LIST ? st->count : st ? 1 : 0;
    for (size_t i = 0; i < n; i++) {
        struct moat_value *s = st->type == MOAT_V_LIST ? st->u.items[i] : st;
        struct moat_value *cond = moat_map_get(s, "Condition");
        for (uint32_t o = 0; cond && cond->type == MOAT_V_MAP && o < cond->count; o++) {
            struct moat_value *block = cond->u.entries[o].value;
            for (uint32_t k = 0; block && block->type == MOAT_V_MAP && k < block->count; k++) {
                struct moat_slice key = block->u.entries[k].key;
                if (!iam_list_has(list, key, true))
                    moat_list_add_str(call->arena, list, key);
            }
        }
    }
}

static void keys_of_list(struct moat_call *call, const struct moat_value *docs,
                         struct moat_value *list)
{
    for (uint32_t i = 0; docs && i < docs->count; i++)
        if (moat_value_is_string(docs->u.items[i]))
            keys_of(call, docs->u.items[i]->u.s, list);
}

struct moat_error *iam_get_context_keys_for_principal_policy(struct moat_call *call,
                                                             const struct moat_value *in,
                                                             struct moat_value *out)
{
    struct iam_entity e;
    struct moat_error *err = load_source(
        call, moat_get_str(in, IAM_GET_CONTEXT_KEYS_FOR_PRINCIPAL_POLICY_REQUEST_POLICY_SOURCE_ARN),
        &e);
    if (err)
        return err;
    struct iam_entity_policies ep;
    if ((err = iam_entity_policies(call, &e, &ep)))
        return err;
    struct moat_value *list =
        moat_set_list(call->arena, out, IAM_GET_CONTEXT_KEYS_FOR_POLICY_RESPONSE_CONTEXT_KEY_NAMES);
    for (size_t i = 0; i < ep.identity_count; i++)
        keys_of(call, iam_policy_text(ep.identity[i].policy), list);
    keys_of_list(call,
                 moat_get(in, IAM_GET_CONTEXT_KEYS_FOR_PRINCIPAL_POLICY_REQUEST_POLICY_INPUT_LIST),
                 list);
    return NULL;
}

struct moat_error *iam_get_context_keys_for_custom_policy(struct moat_call *call,
                                                          const struct moat_value *in,
                                                          struct moat_value *out)
{
    const struct moat_value *docs =
        moat_get(in, IAM_GET_CONTEXT_KEYS_FOR_CUSTOM_POLICY_REQUEST_POLICY_INPUT_LIST);
    for (uint32_t i = 0; docs && i < docs->count; i++) {
        struct iam_policy *p;
        struct iam_policy_diag diag;
        struct moat_slice text =
            moat_value_is_string(docs->u.items[i]) ? docs->u.items[i]->u.s : MOAT_NULL_SLICE;
        if (iam_policy_compile(IAM_POLICY_IDENTITY, text, 64 * 1024, &p, &diag) != IAM_POLICY_OK)
            return moat_fail(call, &iam_invalid_input, "PolicyInputList.%u: %s", i + 1,
                             diag.message);
        iam_policy_unref(p);
    }
    keys_of_list(call, docs,
                 moat_set_list(call->arena, out,
                               IAM_GET_CONTEXT_KEYS_FOR_POLICY_RESPONSE_CONTEXT_KEY_NAMES));
    return NULL;
}

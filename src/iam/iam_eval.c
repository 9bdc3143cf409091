/* iam_eval.c: the evaluator: statement matching (actions, resources, principals,
 * conditions, variables) and AWS's combination of policy types into one decision. */
#include "iam/iam_eval.h"

#include "iam/iam_compiled.h"

#include <string.h>

/* Longest string a variable expansion may produce; a longer one does not match. */
#define IAM_EXPAND_MAX 4096

/* How a resource-based policy names the caller (IAM User Guide, "Policy evaluation
 * logic", "Permissions boundaries for IAM entities"):
 * ACCOUNT  the caller's account: a delegation, identity policies must still allow;
 * ISSUER   the role of a role session, or the IAM user behind a federated-user session:
 *          no identity policy needed, but the boundary and session policies still apply;
 * DIRECT   the caller itself (user, session ARN, root, "*", service): enough alone. */
enum pmatch { PM_NONE = 0, PM_ACCOUNT, PM_ISSUER, PM_DIRECT };

struct eval {
    const struct iam_eval_input *in;
    const struct iam_principal *p;
    const struct iam_context *ctx;
    struct iam_eval_trace *trace;
    struct moat_slice act_service, act_name;
    uint64_t service_bit;
    struct moat_slice res;
    size_t res_colons[IAM_ARN_PARTS - 1];
    uint8_t res_ncolons;
    uint8_t buf[IAM_EXPAND_MAX];
};

static void find_colons(struct moat_slice s, size_t *colons, uint8_t *n)
{
    *n = 0;
    for (size_t i = 0; i < s.len && *n < IAM_ARN_PARTS - 1; i++)
        if (s.ptr[i] == ':')
            colons[(*n)++] = i;
}

/* Matches an ARN split at known colons against a pattern part by part; the last part
 * of the pattern takes the rest of the subject, colons included. The service part is
 * tried first: it is where most patterns differ from the request. */
static bool arn_match(const struct iam_arn_pattern *pat, struct moat_slice s, const size_t *colons,
                      uint8_t ncolons)
{
    uint8_t parts = pat->count;
    if (pat->flat)
        return iam_glob_match(&pat->whole, s, false);
    if (ncolons < parts - 1)
        return false;
    if (parts > 3 &&
        !iam_glob_match(&pat->part[2], moat_slice(s.ptr + colons[1] + 1, colons[2] - colons[1] - 1),
                        false))
        return false;
    size_t from = 0;
    for (uint8_t i = 0; i + 1 < parts; i++) {
        if ((i != 2 || parts <= 3) &&
            !iam_glob_match(&pat->part[i], moat_slice(s.ptr + from, colons[i] - from), false))
            return false;
        from = colons[i] + 1;
    }
    return iam_glob_match(&pat->part[parts - 1], moat_slice(s.ptr + from, s.len - from), false);
}

static void note_missing(struct eval *e, struct moat_slice key)
{
    struct iam_eval_trace *t = e->trace;
    if (!t)
        return;
    size_t stored = MOAT_MIN(t->missing_count, t->missing_cap);
    for (size_t i = 0; i < stored; i++)
        if (moat_slice_eq_nocase(t->missing_keys[i], key))
            return;
    if (t->missing_count < t->missing_cap)
        t->missing_keys[t->missing_count] = key;
    t->missing_count++;
}

static bool append(struct eval *e, size_t *n, uint8_t c)
{
    if (*n >= sizeof(e->buf))
        return false;
    e->buf[(*n)++] = c;
    return true;
}

/* Expands a string with variables into e->buf. In glob form, characters that come from
 * variables or ${*}-style escapes are escaped so that they match only themselves. False
 * when a variable has no value and no default (the element then matches nothing). */
static bool expand(struct eval *e, const struct iam_template *t, bool glob, struct moat_slice *out)
{
    size_t n = 0;
    for (uint32_t i = 0; i < t->count; i++) {
        const struct iam_piece *pc = &t->pieces[i];
        struct moat_slice v = pc->text;
        bool literal = pc->kind != IAM_PIECE_TEXT;
        if (pc->kind == IAM_PIECE_VAR) {
            const struct iam_context_entry *ent =
                iam_context_get_hashed(e->ctx, pc->text, pc->hash);
            if (ent && ent->count == 1) {
                v = iam_context_entry_values(ent)[0];
            } else if (pc->has_default) {
                v = pc->dflt;
            } else {
                if (!ent)
                    note_missing(e, pc->text);
                return false;
            }
        }
        for (size_t j = 0; j < v.len; j++) {
            uint8_t c = v.ptr[j];
            bool esc = glob && (c == '\\' || (literal && (c == '*' || c == '?')));
            if ((esc && !append(e, &n, '\\')) || !append(e, &n, c))
                return false;
        }
    }
    *out = moat_slice(e->buf, n);
    return true;
}

/* ---- conditions ----------------------------------------------------------------------- */

/* A request value, parsed once for the family of the operator. */
struct rvalue {
    struct moat_slice s;
    struct iam_number num;
    int64_t ms;
    struct iam_cidr ip;
    size_t colons[IAM_ARN_PARTS - 1];
    uint8_t ncolons;
};

static bool is_like(enum iam_cond_op op)
{
    return op == IAM_OP_STRING_LIKE || op == IAM_OP_STRING_NOT_LIKE;
}

/* The positive comparison of one request value with one policy value. */
static bool value_match(struct eval *e, const struct iam_condition *c,
                        const struct iam_cond_value *v, const struct rvalue *r)
{
    enum iam_cond_family fam = iam_op_table[c->op].family;
    if (v->tmpl.count) {
        struct moat_slice x;
        switch (fam) {
        case IAM_FAM_STRING:
            if (!expand(e, &v->tmpl, is_like(c->op), &x))
                return false;
            if (is_like(c->op))
                return iam_glob_match_raw(x, r->s, false);
            if (c->op == IAM_OP_STRING_EQUALS_IGNORE_CASE ||
                c->op == IAM_OP_STRING_NOT_EQUALS_IGNORE_CASE)
                return moat_slice_eq_nocase(x, r->s);
            return moat_slice_eq(x, r->s);
        case IAM_FAM_ARN: {
            if (!expand(e, &v->tmpl, true, &x))
                return false;
            struct iam_arn_pattern pat;
            iam_arn_pattern_init(&pat, x);
            return arn_match(&pat, r->s, r->colons, r->ncolons);
        }
        case IAM_FAM_BOOL:
            return expand(e, &v->tmpl, false, &x) && moat_slice_eq_nocase(x, r->s);
        default:
            return false;
        }
    }
    if (!v->valid)
        return false;
    int cmp;
    switch (c->op) {
    case IAM_OP_STRING_EQUALS:
    case IAM_OP_STRING_NOT_EQUALS:
        return moat_slice_eq(v->text, r->s);
    case IAM_OP_STRING_EQUALS_IGNORE_CASE:
    case IAM_OP_STRING_NOT_EQUALS_IGNORE_CASE:
        return moat_slice_eq_nocase(v->text, r->s);
    case IAM_OP_STRING_LIKE:
    case IAM_OP_STRING_NOT_LIKE:
        return iam_glob_match(&v->u.glob, r->s, false);
    case IAM_OP_NUMERIC_EQUALS:
    case IAM_OP_NUMERIC_NOT_EQUALS:
        return iam_number_cmp(&r->num, &v->u.num) == 0;
    case IAM_OP_NUMERIC_LESS_THAN:
        return iam_number_cmp(&r->num, &v->u.num) < 0;
    case IAM_OP_NUMERIC_LESS_THAN_EQUALS:
        return iam_number_cmp(&r->num, &v->u.num) <= 0;
    case IAM_OP_NUMERIC_GREATER_THAN:
        return iam_number_cmp(&r->num, &v->u.num) > 0;
    case IAM_OP_NUMERIC_GREATER_THAN_EQUALS:
        return iam_number_cmp(&r->num, &v->u.num) >= 0;
    case IAM_OP_DATE_EQUALS:
    case IAM_OP_DATE_NOT_EQUALS:
        return r->ms == v->u.date_ms;
    case IAM_OP_DATE_LESS_THAN:
        return r->ms < v->u.date_ms;
    case IAM_OP_DATE_LESS_THAN_EQUALS:
        return r->ms <= v->u.date_ms;
    case IAM_OP_DATE_GREATER_THAN:
        return r->ms > v->u.date_ms;
    case IAM_OP_DATE_GREATER_THAN_EQUALS:
        return r->ms >= v->u.date_ms;
    case IAM_OP_BOOL:
        cmp = v->u.b ? moat_slice_eq_nocase(r->s, MOAT_LIT("true"))
                     : moat_slice_eq_nocase(r->s, MOAT_LIT("false"));
        return cmp;
    case IAM_OP_BINARY_EQUALS:
        return moat_slice_eq(v->u.bytes, r->s);
    case IAM_OP_IP_ADDRESS:
    case IAM_OP_NOT_IP_ADDRESS:
        return iam_cidr_contains(&v->u.cidr, &r->ip);
    case IAM_OP_ARN_EQUALS:
    case IAM_OP_ARN_LIKE:
    case IAM_OP_ARN_NOT_EQUALS:
    case IAM_OP_ARN_NOT_LIKE:
        return arn_match(&v->u.arn, r->s, r->colons, r->ncolons);
    case IAM_OP_NULL:
    case IAM_OP_COUNT:
        break;
    }
    return false;
}

/* Does one request value match any of the policy values (values are ORed)? A request
 * value that cannot be read for the operator's type matches nothing. */
static bool match_any(struct eval *e, const struct iam_condition *c, struct moat_slice s)
{
    struct rvalue r;
    r.s = s;
    switch (iam_op_table[c->op].family) {
    case IAM_FAM_NUMERIC:
        if (!iam_parse_number(moat_slice_trim(s), &r.num))
            return false;
        break;
    case IAM_FAM_DATE:
        if (!iam_parse_date(moat_slice_trim(s), &r.ms))
            return false;
        break;
    case IAM_FAM_IP:
        if (!iam_parse_cidr(s, &r.ip))
            return false;
        break;
    case IAM_FAM_ARN:
        find_colons(s, r.colons, &r.ncolons);
        break;
    default:
        break;
    }
    for (uint32_t i = 0; i < c->value_count; i++)
        if (value_match(e, c, &c->values[i], &r))
            return true;
    return false;
}

/* IAM User Guide, "Condition operators" and "Set operators for multivalued context keys":
 * an absent key makes a positive operator false, a negated one true, IfExists true,
 * ForAllValues true and ForAnyValue false; an empty set counts as absent. A negated
 * operator holds when the value matches none of the policy values. */
static bool condition_holds(struct eval *e, const struct iam_condition *c)
{
    const struct iam_context_entry *ent = iam_context_get_hashed(e->ctx, c->key, c->key_hash);
    if (!ent)
        note_missing(e, c->key);
    if (c->op == IAM_OP_NULL) {
        bool is_null = !ent || ent->count == 0;
        for (uint32_t i = 0; i < c->value_count; i++)
            if (c->values[i].valid && c->values[i].u.b == is_null)
                return true;
        return false;
    }
    if (!ent || ent->count == 0) {
        if (c->if_exists || c->set == IAM_SET_FOR_ALL)
            return true;
        if (c->set == IAM_SET_FOR_ANY)
            return false;
        return c->negated;
    }
    const struct moat_slice *vals = iam_context_entry_values(ent);
    switch (c->set) {
    case IAM_SET_NONE: {
        for (uint32_t i = 0; i < ent->count; i++)
            if (match_any(e, c, vals[i]))
                return !c->negated;
        return c->negated;
    }
    case IAM_SET_FOR_ANY:
        for (uint32_t i = 0; i < ent->count; i++)
            if (match_any(e, c, vals[i]) != c->negated)
                return true;
        return false;
    case IAM_SET_FOR_ALL:
        for (uint32_t i = 0; i < ent->count; i++)
            if (match_any(e, c, vals[i]) == c->negated)
                return false;
        return true;
    }
    return false;
}

/* ---- actions, resources, principals --------------------------------------------------- */

static bool action_matches(const struct eval *e, const struct iam_statement *st)
{
    bool m = false;
    for (uint32_t i = 0; i < st->action_count && !m; i++) {
        const struct iam_action_pattern *a = &st->actions[i];
        m = a->any || (iam_glob_match(&a->service, e->act_service, true) &&
                       iam_glob_match(&a->name, e->act_name, true));
    }
    return m != st->not_action;
}

/* A pattern whose first five parts are compiled and whose resource part has variables. */
static bool arn_match_split(struct eval *e, const struct iam_resource_pattern *r)
{
    if (e->res_ncolons < IAM_ARN_PARTS - 1)
        return false;
    size_t from = e->res_colons[IAM_ARN_PARTS - 2] + 1;
    if (r->arn.flat) {
        /* the five literal parts, colons included, are one literal prefix */
        if (r->arn.whole.len != from || !iam_glob_eq(r->arn.whole.ptr, e->res.ptr, from, false))
            return false;
    } else {
        from = 0;
        for (int i = 0; i < IAM_ARN_PARTS - 1; i++) {
            if (!iam_glob_match(&r->arn.part[i],
                                moat_slice(e->res.ptr + from, e->res_colons[i] - from), false))
                return false;
            from = e->res_colons[i] + 1;
        }
    }
    struct moat_slice x;
    return expand(e, &r->tmpl, true, &x) &&
           iam_glob_match_raw(x, moat_slice(e->res.ptr + from, e->res.len - from), false);
}

static bool resource_matches(struct eval *e, const struct iam_statement *st)
{
    if (!st->has_resource)
        return true;
    bool m = false;
    for (uint32_t i = 0; i < st->resource_count && !m; i++) {
        const struct iam_resource_pattern *r = &st->resources[i];
        if (r->any) {
            m = true;
        } else if (r->split) {
            m = arn_match_split(e, r);
        } else if (r->tmpl.count) {
            struct moat_slice x;
            if (expand(e, &r->tmpl, true, &x)) {
                struct iam_arn_pattern pat;
                iam_arn_pattern_init(&pat, x);
                m = arn_match(&pat, e->res, e->res_colons, e->res_ncolons);
            }
        } else {
            m = arn_match(&r->arn, e->res, e->res_colons, e->res_ncolons);
        }
    }
    return m != st->not_resource;
}

static bool listed(const struct moat_slice *list, uint32_t n, struct moat_slice s)
{
    if (!s.len)
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (moat_slice_eq_nocase(list[i], s))
            return true;
    return false;
}

static enum pmatch principal_match(const struct iam_principal_set *set,
                                   const struct iam_principal *p)
{
    if (set->any)
        return PM_DIRECT;
    if (p->type == IAM_PRINCIPAL_SERVICE)
        return listed(set->services, set->service_count, p->arn) ? PM_DIRECT : PM_NONE;
    if (listed(set->federated, set->federated_count, p->federated_provider) ||
        listed(set->canonical, set->canonical_count, p->canonical_user_id))
        return PM_DIRECT;
    if (p->type == IAM_PRINCIPAL_ANONYMOUS)
        return PM_NONE;
    enum pmatch best = PM_NONE;
    for (uint32_t i = 0; i < set->aws_count; i++) {
        const struct iam_aws_entry *a = &set->aws[i];
        enum pmatch m = PM_NONE;
        switch (a->kind) {
        case IAM_AWS_ACCOUNT:
            if (moat_slice_eq(a->account, p->account_id))
                m = p->type == IAM_PRINCIPAL_ROOT ? PM_DIRECT : PM_ACCOUNT;
            break;
        case IAM_AWS_ARN:
            if (moat_slice_eq(a->value, p->arn))
                m = PM_DIRECT;
            else if (p->type == IAM_PRINCIPAL_ASSUMED_ROLE && moat_slice_eq(a->value, p->role_arn))
                m = PM_ISSUER;
            else if (p->type == IAM_PRINCIPAL_FEDERATED_USER &&
                     moat_slice_eq(a->value, p->parent_user_arn))
                m = PM_ISSUER;
            break;
        case IAM_AWS_UNIQUE_ID:
            if (p->type == IAM_PRINCIPAL_USER && moat_slice_eq(a->value, p->principal_id))
                m = PM_DIRECT;
            else if (p->type == IAM_PRINCIPAL_ASSUMED_ROLE && p->role_id.len &&
                     moat_slice_eq(a->value, p->role_id))
                m = PM_ISSUER;
            else if (p->type == IAM_PRINCIPAL_FEDERATED_USER && p->parent_user_id.len &&
                     moat_slice_eq(a->value, p->parent_user_id))
                m = PM_ISSUER;
            break;
        }
        if (m > best)
            best = m;
        if (best == PM_DIRECT)
            break;
    }
    return best;
}

static bool aws_listed(const struct iam_principal_set *set, enum iam_aws_entry_kind kind,
                       struct moat_slice v)
{
    if (!v.len)
        return false;
    for (uint32_t i = 0; i < set->aws_count; i++)
        if (set->aws[i].kind == kind &&
            moat_slice_eq(kind == IAM_AWS_ACCOUNT ? set->aws[i].account : set->aws[i].value, v))
            return true;
    return false;
}

/* Is the caller exempt from a Deny with NotPrincipal? AWS may check each identity in the
 * caller's chain (account, role, session), so every one of them must be listed; and a
 * caller with a permissions boundary is never exempt (IAM User Guide, "AWS JSON policy
 * elements: NotPrincipal"). */
static bool not_principal_spares(const struct iam_principal_set *set, const struct iam_principal *p)
{
    if (p->has_permissions_boundary)
        return false;
    if (set->any)
        return true;
    bool account = aws_listed(set, IAM_AWS_ACCOUNT, p->account_id);
    switch (p->type) {
    case IAM_PRINCIPAL_SERVICE:
        return listed(set->services, set->service_count, p->arn);
    case IAM_PRINCIPAL_ANONYMOUS:
        return listed(set->federated, set->federated_count, p->federated_provider) ||
               listed(set->canonical, set->canonical_count, p->canonical_user_id);
    case IAM_PRINCIPAL_ROOT:
        return account;
    case IAM_PRINCIPAL_USER:
        return account && (aws_listed(set, IAM_AWS_ARN, p->arn) ||
                           aws_listed(set, IAM_AWS_UNIQUE_ID, p->principal_id));
    case IAM_PRINCIPAL_ASSUMED_ROLE:
        return account && aws_listed(set, IAM_AWS_ARN, p->arn) &&
               (aws_listed(set, IAM_AWS_ARN, p->role_arn) ||
                aws_listed(set, IAM_AWS_UNIQUE_ID, p->role_id));
    case IAM_PRINCIPAL_FEDERATED_USER:
        return account && aws_listed(set, IAM_AWS_ARN, p->arn);
    }
    return false;
}

/* ---- policies and policy types -------------------------------------------------------- */

struct type_result {
    bool allow, deny;
    enum pmatch strength; /* best principal match among matching Allow statements */
    const struct iam_policy *deny_policy;
    uint32_t deny_statement;
};

static void trace_match(struct eval *e, const struct iam_policy *pol, enum iam_policy_type type,
                        uint32_t level, uint32_t index, uint32_t st, bool allow)
{
    struct iam_eval_trace *t = e->trace;
    if (t->matched_count < t->matched_cap)
        t->matched[t->matched_count] =
            (struct iam_matched_statement){pol, type, level, index, st, allow};
    t->matched_count++;
}

/* Evaluates one policy into r. True when an explicit deny ends the evaluation. */
static bool eval_policy(struct eval *e, const struct iam_policy *pol, enum iam_policy_type type,
                        uint32_t level, uint32_t index, struct type_result *r)
{
    for (uint32_t s = 0; s < pol->statement_count; s++) {
        const struct iam_statement *st = &pol->statements[s];
        if (!(st->service_bloom & e->service_bit))
            continue;
        if (!action_matches(e, st) || !resource_matches(e, st))
            continue;
        enum pmatch pm = PM_DIRECT;
        if (st->has_principal) {
            if (st->not_principal) {
                if (not_principal_spares(&st->principals, e->p))
                    continue;
            } else if ((pm = principal_match(&st->principals, e->p)) == PM_NONE) {
                continue;
            }
        }
        /* Another Allow that cannot improve the outcome is not worth its conditions. */
        if (st->allow && !e->trace && r->allow && pm <= r->strength)
            continue;
        bool holds = true;
        for (uint32_t i = 0; i < st->condition_count && holds; i++)
            holds = condition_holds(e, &st->conditions[i]);
        if (!holds)
            continue;
        if (e->trace)
            trace_match(e, pol, type, level, index, s, st->allow);
        if (!st->allow) {
            if (!r->deny) {
                r->deny = true;
                r->deny_policy = pol;
                r->deny_statement = s;
            }
            if (!e->trace)
                return true;
        } else {
            r->allow = true;
            if (pm > r->strength)
                r->strength = pm;
        }
    }
    return false;
}

static bool eval_set(struct eval *e, const struct iam_policy_set *set, enum iam_policy_type type,
                     uint32_t level, struct type_result *r)
{
    for (size_t i = 0; i < set->count; i++)
        if (eval_policy(e, set->policies[i], type, level, (uint32_t)i, r))
            return true;
    return false;
}

/* SCP or RCP levels: every level must allow. True when an explicit deny ends it. */
static bool eval_levels(struct eval *e, const struct iam_policy_set *levels, size_t count,
                        enum iam_policy_type type, struct type_result *r, bool *all_allow)
{
    *all_allow = true;
    for (size_t l = 0; l < count; l++) {
        struct type_result lr = {0};
        bool stop = eval_set(e, &levels[l], type, (uint32_t)l, &lr);
        if (lr.deny && !r->deny) {
            r->deny = true;
            r->deny_policy = lr.deny_policy;
            r->deny_statement = lr.deny_statement;
        }
        if (!lr.allow)
            *all_allow = false;
        if (stop)
            return true;
    }
    return false;
}

static enum iam_decision finish(struct iam_eval_result *out, enum iam_decision d,
                                enum iam_policy_type cause)
{
    out->decision = d;
    out->cause = d == IAM_DECISION_ALLOW ? IAM_PTYPE_NONE : cause;
    return d;
}

enum iam_decision iam_evaluate(const struct iam_eval_input *in, struct iam_eval_result *out,
                               struct iam_eval_trace *trace)
{
    struct eval e;
    e.in = in;
    e.p = in->principal;
    e.ctx = in->context;
    e.trace = trace;
    long colon = moat_slice_index(in->action, ':');
    if (colon < 0) {
        e.act_service = in->action;
        e.act_name = MOAT_NULL_SLICE;
    } else {
        e.act_service = moat_slice_sub(in->action, 0, (size_t)colon);
        e.act_name = moat_slice_sub(in->action, (size_t)colon + 1, in->action.len);
    }
    e.service_bit = iam_service_bit(iam_key_hash(e.act_service, MOAT_NULL_SLICE));
    e.res = in->resource;
    find_colons(e.res, e.res_colons, &e.res_ncolons);
    memset(out, 0, sizeof(*out));
    out->trust_policy = (in->flags & IAM_EVAL_TRUST_POLICY) != 0;

    const struct iam_principal *p = in->principal;
    bool is_service = p->type == IAM_PRINCIPAL_SERVICE;
    bool is_anonymous = p->type == IAM_PRINCIPAL_ANONYMOUS;
    bool scp_applies =
        in->scp_level_count && !is_service && !is_anonymous && !p->service_linked_role;
    bool rcp_applies = in->rcp_level_count && !p->service_linked_role;

    /* Step 1: explicit denies anywhere, in the order the message prefers. */
    struct type_result scp = {0}, rcp = {0}, res = {0}, ident = {0}, bound = {0}, sess = {0};
    bool scp_ok = true, rcp_ok = true, stop = false;
    if (scp_applies)
        stop = eval_levels(&e, in->scp_levels, in->scp_level_count, IAM_PTYPE_SCP, &scp, &scp_ok);
    if (!stop && rcp_applies)
        stop = eval_levels(&e, in->rcp_levels, in->rcp_level_count, IAM_PTYPE_RCP, &rcp, &rcp_ok);
    if (!stop)
        stop = eval_set(&e, &in->resource_policies, IAM_PTYPE_RESOURCE, 0, &res);
    if (!stop)
        stop = eval_set(&e, &in->identity, IAM_PTYPE_IDENTITY, 0, &ident);
    if (!stop && in->boundary)
        stop = eval_set(&e, in->boundary, IAM_PTYPE_BOUNDARY, 0, &bound);
    if (!stop && in->session)
        stop = eval_set(&e, in->session, IAM_PTYPE_SESSION, 0, &sess);

    const struct type_result *denied[] = {&scp, &rcp, &res, &ident, &bound, &sess};
    static const enum iam_policy_type deny_types[] = {IAM_PTYPE_SCP,      IAM_PTYPE_RCP,
                                                      IAM_PTYPE_RESOURCE, IAM_PTYPE_IDENTITY,
                                                      IAM_PTYPE_BOUNDARY, IAM_PTYPE_SESSION};
    for (size_t i = 0; i < MOAT_COUNT(denied); i++) {
        if (denied[i]->deny) {
            out->deny_policy = denied[i]->deny_policy;
            out->deny_statement = denied[i]->deny_statement;
            return finish(out, IAM_DECISION_EXPLICIT_DENY, deny_types[i]);
        }
    }

    /* Steps 2-3: RCPs of the resource's account, SCPs of the principal's account. */
    if (rcp_applies && !rcp_ok)
        return finish(out, IAM_DECISION_IMPLICIT_DENY, IAM_PTYPE_RCP);
    if (scp_applies && !scp_ok)
        return finish(out, IAM_DECISION_IMPLICIT_DENY, IAM_PTYPE_SCP);

    enum iam_policy_type resource_cause = out->trust_policy ? IAM_PTYPE_NONE : IAM_PTYPE_RESOURCE;
    /* Anonymous callers and service principals have no identity policies: only the
     * resource-based policy can allow them. */
    if (is_anonymous || is_service)
        return finish(out,
                      res.strength == PM_DIRECT ? IAM_DECISION_ALLOW : IAM_DECISION_IMPLICIT_DENY,
                      resource_cause);

    bool identity_ok = p->type == IAM_PRINCIPAL_ROOT || ident.allow;
    bool boundary_ok = !in->boundary || bound.allow;
    /* A role session without a session policy goes on; a federated-user session without
     * one has no permissions (GetFederationToken). */
    bool session_ok = in->session ? sess.allow : p->type != IAM_PRINCIPAL_FEDERATED_USER;
    enum iam_policy_type chain_cause = !identity_ok   ? IAM_PTYPE_IDENTITY
                                       : !boundary_ok ? IAM_PTYPE_BOUNDARY
                                                      : IAM_PTYPE_SESSION;
    bool chain_ok = identity_ok && boundary_ok && session_ok;
    bool same_account =
        !in->resource_account.len || moat_slice_eq(in->resource_account, p->account_id);
    bool needs_resource = (in->flags & (IAM_EVAL_KMS_KEY | IAM_EVAL_TRUST_POLICY)) != 0;

    /* Cross account: the resource policy and the principal's own policies must both
     * allow (IAM User Guide, "Cross-account policy evaluation logic"). */
    if (!same_account) {
        if (res.strength == PM_NONE)
            return finish(out, IAM_DECISION_IMPLICIT_DENY, resource_cause);
        return finish(out, chain_ok ? IAM_DECISION_ALLOW : IAM_DECISION_IMPLICIT_DENY, chain_cause);
    }

    /* Same account. Key policies and trust policies must allow explicitly; a grant that
     * names the account only turns the identity policies on. */
    if (needs_resource && res.strength == PM_NONE)
        return finish(out, IAM_DECISION_IMPLICIT_DENY, resource_cause);
    if (res.strength == PM_DIRECT)
        return finish(out, IAM_DECISION_ALLOW, IAM_PTYPE_NONE);
    if (res.strength == PM_ISSUER) {
        if (boundary_ok && session_ok)
            return finish(out, IAM_DECISION_ALLOW, IAM_PTYPE_NONE);
        return finish(out, IAM_DECISION_IMPLICIT_DENY,
                      !boundary_ok ? IAM_PTYPE_BOUNDARY : IAM_PTYPE_SESSION);
    }
    return finish(out, chain_ok ? IAM_DECISION_ALLOW : IAM_DECISION_IMPLICIT_DENY, chain_cause);
}

const char *iam_decision_name(enum iam_decision d)
{
    switch (d) {
    case IAM_DECISION_ALLOW:
        return "Allow";
    case IAM_DECISION_EXPLICIT_DENY:
        return "ExplicitDeny";
    case IAM_DECISION_IMPLICIT_DENY:
        return "ImplicitDeny";
    }
    return "ImplicitDeny";
}

const char *iam_policy_type_name(enum iam_policy_type t)
{
    switch (t) {
    case IAM_PTYPE_IDENTITY:
        return "IAM Policy";
    case IAM_PTYPE_RESOURCE:
        return "Resource Policy";
    case IAM_PTYPE_BOUNDARY:
        return "Permissions Boundary Policy";
    case IAM_PTYPE_SESSION:
        return "Session Policy";
    case IAM_PTYPE_SCP:
        return "Service Control Policy";
    case IAM_PTYPE_RCP:
        return "Resource Control Policy";
    case IAM_PTYPE_NONE:
        break;
    }
    return "";
}

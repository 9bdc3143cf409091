/* sm_policy.c: a secret's resource-based policy: Put/Get/Delete/ValidateResourcePolicy,
 * with the grammar check of the IAM compiler and the broad-access check that
 * BlockPublicPolicy applies. */
#include "aws/shapes/shapes_secretsmanager.h"
#include "core/json.h"
#include "iam/iam_policy.h"
#include "services/secretsmanager/sm.h"

#include <string.h>

#define SM_POLICY_MAX 20480

/* Condition keys that tie a statement with a wildcard principal to known callers, so that
 * it does not grant broad access (the keys IAM Access Analyzer treats as restricting). */
static bool restricting_key(struct moat_slice k)
{
    static const char *const keys[] = {
        "aws:SourceAccount",     "aws:SourceArn",
        "aws:SourceOwner",       "aws:PrincipalAccount",
        "aws:PrincipalArn",      "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths", "aws:userid",
        "aws:username",          "aws:SourceVpc",
        "aws:SourceVpce",        "aws:SourceIp",
        "aws:ResourceAccount",   "aws:SourceOrgID",
        "aws:SourceOrgPaths",    "aws:PrincipalServiceName",
        "kms:CallerAccount",
    };
    for (size_t i = 0; i < MOAT_COUNT(keys); i++)
        if (moat_slice_eq_nocase(k, moat_slice_cstr(keys[i])))
            return true;
    return false;
}

static bool is_star(const struct moat_value *v)
{
    if (!v)
        return false;
    if (v->type == MOAT_V_STRING)
        return moat_slice_eq_cstr(v->u.s, "*");
    if (v->type == MOAT_V_LIST)
        for (uint32_t i = 0; i < v->count; i++)
            if (is_star(v->u.items[i]))
                return true;
    return false;
}

static bool wildcard_principal(const struct moat_value *principal)
{
    if (!principal)
        return false;
    if (principal->type == MOAT_V_STRING)
        return moat_slice_eq_cstr(principal->u.s, "*");
    if (principal->type == MOAT_V_MAP)
        return is_star(moat_map_get(principal, "AWS")) ||
               is_star(moat_map_get(principal, "CanonicalUser"));
    return false;
}

static bool restricted(const struct moat_value *cond)
{
    if (!cond || cond->type != MOAT_V_MAP)
        return false;
    for (uint32_t i = 0; i < cond->count; i++) {
        const struct moat_value *op = cond->u.entries[i].value;
        struct moat_slice name = cond->u.entries[i].key;
        /* IfExists operators and negations do not restrict who may call. */
        if (moat_slice_ends_with(name, MOAT_LIT("IfExists")) ||
            moat_slice_starts_with(name, MOAT_LIT("StringNot")) ||
            moat_slice_starts_with(name, MOAT_LIT("ArnNot")) || moat_slice_eq_cstr(name, "Null") ||
            op->type != MOAT_V_MAP)
            continue;
        for (uint32_t k = 0; k < op->count; k++)
            if (restricting_key(op->u.entries[k].key) && !is_star(op->u.entries[k].value))
                return true;
    }
    return false;
}

/* True when an Allow statement grants access to any principal without a condition that
 * narrows it to known accounts, organizations or networks. */
static bool grants_broad_access(struct moat_arena *a, struct moat_slice text)
{
    struct moat_value *doc;
    if (!moat_json_parse(a, text, 0, &doc, NULL) || doc->type != MOAT_V_MAP)
        return false;
    const struct moat_value *st = moat_map_get(doc, "Statement");
    if (!st)
        return false;
    uint32_t n = st->type == MOAT_V_LIST ? st->count : 1;
    for (uint32_t i = 0; i < n; i++) {
        const struct moat_value *s = st->type == MOAT_V_LIST ? st->u.items[i] : st;
        if (s->type != MOAT_V_MAP || !moat_slice_eq_cstr(moat_map_str(s, "Effect"), "Allow"))
            continue;
        if (moat_map_get(s, "NotPrincipal") || (wildcard_principal(moat_map_get(s, "Principal")) &&
                                                !restricted(moat_map_get(s, "Condition"))))
            return true;
    }
    return false;
}

static struct moat_error *compile_check(struct moat_call *call, struct moat_slice text)
{
    struct iam_policy *p;
    struct iam_policy_diag diag;
    if (iam_policy_compile(IAM_POLICY_RESOURCE, text, SM_POLICY_MAX, &p, &diag) != IAM_POLICY_OK)
        return moat_fail(call, &sm_malformed_policy, "%s", diag.message);
    iam_policy_unref(p);
    return NULL;
}

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutResourcePolicy.html */
SM_HANDLER(sm_put_resource_policy)
{
    struct sm_secret *s;
    struct moat_error *err = sm_secret_for_call(
        call, moat_get_str(in, SECRETSMANAGER_PUT_RESOURCE_POLICY_REQUEST_SECRET_ID), 0, &s);
    if (err)
        return err;
    struct moat_slice text =
        moat_get_str(in, SECRETSMANAGER_PUT_RESOURCE_POLICY_REQUEST_RESOURCE_POLICY);
    err = compile_check(call, text);
    if (err)
        return err;
    if (moat_get_bool(in, SECRETSMANAGER_PUT_RESOURCE_POLICY_REQUEST_BLOCK_PUBLIC_POLICY, false) &&
        grants_broad_access(call->arena, text))
        return moat_fail(call, &sm_public_policy,
                         "The BlockPublicPolicy parameter is set to true, and the resource policy "
                         "did not prevent broad access to the secret.");
    s->policy = text;
    err = sm_secret_save(call, s);
    if (err)
        return err;
    moat_set_cstr(call->arena, out, SECRETSMANAGER_PUT_RESOURCE_POLICY_RESPONSE_ARN, s->arn);
    moat_set_str(call->arena, out, SECRETSMANAGER_PUT_RESOURCE_POLICY_RESPONSE_NAME, s->name);
    return NULL;
}

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetResourcePolicy.html */
SM_HANDLER(sm_get_resource_policy)
{
    struct sm_secret *s;
    struct moat_error *err = sm_secret_for_call(
        call, moat_get_str(in, SECRETSMANAGER_GET_RESOURCE_POLICY_REQUEST_SECRET_ID),
        SM_ALLOW_DELETED | SM_ALLOW_REPLICA, &s);
    if (err)
        return err;
    moat_set_cstr(call->arena, out, SECRETSMANAGER_GET_RESOURCE_POLICY_RESPONSE_ARN, s->arn);
    moat_set_str(call->arena, out, SECRETSMANAGER_GET_RESOURCE_POLICY_RESPONSE_NAME, s->name);
    if (s->policy.len)
        moat_set_str(call->arena, out, SECRETSMANAGER_GET_RESOURCE_POLICY_RESPONSE_RESOURCE_POLICY,
                     s->policy);
    return NULL;
}

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteResourcePolicy.html */
SM_HANDLER(sm_delete_resource_policy)
{
    struct sm_secret *s;
    struct moat_error *err = sm_secret_for_call(
        call, moat_get_str(in, SECRETSMANAGER_DELETE_RESOURCE_POLICY_REQUEST_SECRET_ID), 0, &s);
    if (err)
        return err;
    if (s->policy.len) {
        s->policy = MOAT_NULL_SLICE;
        err = sm_secret_save(call, s);
        if (err)
            return err;
    }
    moat_set_cstr(call->arena, out, SECRETSMANAGER_DELETE_RESOURCE_POLICY_RESPONSE_ARN, s->arn);
    moat_set_str(call->arena, out, SECRETSMANAGER_DELETE_RESOURCE_POLICY_RESPONSE_NAME, s->name);
    return NULL;
}

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ValidateResourcePolicy.html
 * Malformed documents fail the call; a document that grants broad access passes the
 * grammar but not validation. */
SM_HANDLER(sm_validate_resource_policy)
{
    struct moat_arena *a = call->arena;
    if (moat_has(in, SECRETSMANAGER_VALIDATE_RESOURCE_POLICY_REQUEST_SECRET_ID)) {
        struct sm_secret *s;
        struct moat_error *err = sm_secret_for_call(
            call, moat_get_str(in, SECRETSMANAGER_VALIDATE_RESOURCE_POLICY_REQUEST_SECRET_ID),
            SM_ALLOW_DELETED | SM_ALLOW_REPLICA, &s);
        if (err)
            return err;
    }
    struct moat_slice text =
        moat_get_str(in, SECRETSMANAGER_VALIDATE_RESOURCE_POLICY_REQUEST_RESOURCE_POLICY);
    struct moat_error *err = compile_check(call, text);
    if (err)
        return err;
    bool broad = grants_broad_access(a, text);
    moat_set_bool(a, out, SECRETSMANAGER_VALIDATE_RESOURCE_POLICY_RESPONSE_POLICY_VALIDATION_PASSED,
                  !broad);
    struct moat_value *errors =
        moat_set_list(a, out, SECRETSMANAGER_VALIDATE_RESOURCE_POLICY_RESPONSE_VALIDATION_ERRORS);
    if (broad) {
        struct moat_value *e = moat_list_add_struct(a, errors);
        moat_set_cstr(a, e, SECRETSMANAGER_VALIDATION_ERRORS_ENTRY_CHECK_NAME,
                      "BLOCK_PUBLIC_POLICY");
        moat_set_cstr(a, e, SECRETSMANAGER_VALIDATION_ERRORS_ENTRY_ERROR_MESSAGE,
                      "The resource policy grants broad access to the secret: an Allow statement "
                      "names any principal without a condition that limits it to known "
                      "accounts, organizations or networks.");
    }
    return NULL;
}

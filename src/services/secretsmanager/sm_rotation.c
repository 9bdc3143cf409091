/* sm_rotation.c: RotateSecret and CancelRotateSecret, the rotation schedule of a secret,
 * and which built-in rotation function a RotationLambdaARN names. The steps themselves
 * run in the background (sm_jobs.c) with the strategies of sm_strategy.c. */
#include "aws/shapes/shapes_secretsmanager.h"
#include "server/scheduler.h"
#include "services/secretsmanager/sm.h"
#include "services/secretsmanager/sm_schedule.h"
#include "services/secretsmanager/sm_strategy.h"

#include <string.h>

/* ---- which rotation function ---------------------------------------------------------
 * moat runs no Lambda functions. A RotationLambdaARN in the secret's account and region
 * whose function name is one of these reserved names selects a built-in rotation that
 * does what AWS's rotation template of that kind does (docs/secretsmanager.md). */
static const struct {
    const char *function;
    enum sm_strategy strategy;
} builtins[] = {
    {"moat-rotation-postgresql-single-user", SM_STRATEGY_PG_SINGLE},
    {"moat-rotation-postgresql-multi-user", SM_STRATEGY_PG_MULTI},
    {"moat-rotation-password", SM_STRATEGY_PASSWORD},
};

enum sm_strategy sm_strategy_of(const struct sm_secret *s, struct moat_slice lambda_arn)
{
    /* arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>] */
    struct moat_slice rest = lambda_arn, part[6];
    for (int i = 0; i < 6; i++)
        if (!moat_slice_split(&rest, ':', &part[i]))
            return SM_STRATEGY_NONE;
    if (!moat_slice_eq_cstr(part[0], "arn") || !moat_slice_eq_cstr(part[2], "lambda") ||
        !moat_slice_eq_cstr(part[3], s->region) || !moat_slice_eq_cstr(part[4], s->account) ||
        !moat_slice_eq_cstr(part[5], "function"))
        return SM_STRATEGY_NONE;
    struct moat_slice name;
    moat_slice_split(&rest, ':', &name); /* drop a qualifier ($LATEST, an alias) */
    for (size_t i = 0; i < MOAT_COUNT(builtins); i++)
        if (moat_slice_eq_cstr(name, builtins[i].function))
            return builtins[i].strategy;
    return SM_STRATEGY_NONE;
}

/* ---- schedule ----------------------------------------------------------------------- */

static const char *parse_rules(const struct sm_secret *s, struct sm_schedule *sch, char *errbuf,
                               size_t errlen)
{
    return sm_schedule_parse(s->rotation_days, s->schedule, s->duration, sch, errbuf, errlen);
}

struct moat_error *sm_rotation_schedule_next(struct moat_call *call, struct sm_secret *s,
                                             int64_t from_ms)
{
    s->next_rotation_ms = 0;
    if (!s->rotation_enabled || (!s->rotation_days && !s->schedule.len))
        return NULL;
    struct sm_schedule sch;
    char errbuf[256];
    const char *why = parse_rules(s, &sch, errbuf, sizeof(errbuf));
    if (why)
        return moat_fail(call, &sm_invalid_parameter, "%s", why);
    /* "Manually updating the secret value by calling PutSecretValue or UpdateSecret is
     * considered a valid rotation." */
    int64_t base = MOAT_MAX(s->last_rotated_ms, s->value_changed_ms);
    if (!base)
        base = from_ms;
    s->next_rotation_ms = sm_schedule_next(&sch, base, from_ms);
    return NULL;
}

struct moat_error *sm_rotation_abandon(struct moat_call *call, struct sm_secret *s)
{
    struct sm_version *pending = sm_label_holder(s, "AWSPENDING");
    struct sm_version *current = sm_label_holder(s, "AWSCURRENT");
    if (pending && pending != current)
        sm_label_remove(pending, MOAT_LIT("AWSPENDING"));
    s->rot_token = MOAT_NULL_SLICE;
    s->rot_due_ms = 0;
    s->rot_attempts = 0;
    s->rot_test = false;
    struct moat_error *err = sm_outbox_add(call, "RotationAbandoned", s);
    if (!err)
        err = sm_rotation_schedule_next(call, s, call->now_ms);
    return err;
}

/* ---- RotateSecret ------------------------------------------------------------------- */

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html */
SM_HANDLER(sm_rotate_secret)
{
    struct moat_arena *a = call->arena;
    struct sm_secret *s;
    struct moat_error *err = sm_secret_for_call(
        call, moat_get_str(in, SECRETSMANAGER_ROTATE_SECRET_REQUEST_SECRET_ID), 0, &s);
    if (err)
        return err;
    if (moat_has(in, SECRETSMANAGER_ROTATE_SECRET_REQUEST_EXTERNAL_SECRET_ROTATION_METADATA) ||
        moat_has(in, SECRETSMANAGER_ROTATE_SECRET_REQUEST_EXTERNAL_SECRET_ROTATION_ROLE_ARN))
        return moat_fail(call, &sm_invalid_request,
                         "Managed external secrets are not supported by this endpoint: it has no "
                         "partner integrations.");
    struct moat_slice lambda =
        moat_has(in, SECRETSMANAGER_ROTATE_SECRET_REQUEST_ROTATION_LAMBDA_ARN)
            ? moat_get_str(in, SECRETSMANAGER_ROTATE_SECRET_REQUEST_ROTATION_LAMBDA_ARN)
            : s->rotation_lambda;
    if (!lambda.len)
        return moat_fail(call, &sm_invalid_request,
                         "No Lambda rotation function ARN is associated with this secret.");
    if (sm_strategy_of(s, lambda) == SM_STRATEGY_NONE)
        return moat_fail(call, &sm_access_denied,
                         "Secrets Manager cannot invoke the specified Lambda function. Ensure "
                         "that the function policy grants access to the principal "
                         "secretsmanager.amazonaws.com.");
    /* "If the AWSPENDING staging label is present but not attached to the same version as
     * AWSCURRENT, then any later invocation of RotateSecret assumes that a previous
     * rotation request is still in progress and returns an error." */
    struct sm_version *pending = sm_label_holder(s, "AWSPENDING");
    if ((pending && pending != sm_label_holder(s, "AWSCURRENT")) ||
        (s->rot_token.len && !s->rot_test && s->rot_attempts == 0))
        return moat_fail(call, &sm_invalid_request,
                         "A previous rotation isn't complete. That rotation will be reattempted.");
    const struct moat_value *rules =
        moat_get(in, SECRETSMANAGER_ROTATE_SECRET_REQUEST_ROTATION_RULES);
    if (rules) {
        s->rotation_days =
            moat_get_int(rules, SECRETSMANAGER_ROTATION_RULES_TYPE_AUTOMATICALLY_AFTER_DAYS, 0);
        s->schedule = moat_get_str(rules, SECRETSMANAGER_ROTATION_RULES_TYPE_SCHEDULE_EXPRESSION);
        s->duration = moat_get_str(rules, SECRETSMANAGER_ROTATION_RULES_TYPE_DURATION);
        struct sm_schedule sch;
        char errbuf[256];
        const char *why = parse_rules(s, &sch, errbuf, sizeof(errbuf));
        if (why)
            return moat_fail(call, &sm_invalid_parameter, "%s", why);
    }
    struct moat_slice token =
        moat_get_str(in, SECRETSMANAGER_ROTATE_SECRET_REQUEST_CLIENT_REQUEST_TOKEN);
    if (!token.len)
        token = sm_uuid(a);
    if (token.len < 32 || token.len > 64)
        return moat_fail(call, &sm_invalid_parameter,
                         "ClientRequestToken must be 32-64 characters long.");
    if (sm_version_find(s, token))
        return moat_fail(call, &sm_exists,
                         "You can't use ClientRequestToken %.*s because that value is already in "
                         "use for a version of secret %s.",
                         MOAT_FMT(token), s->arn);
    bool immediately =
        moat_get_bool(in, SECRETSMANAGER_ROTATE_SECRET_REQUEST_ROTATE_IMMEDIATELY, true);
    s->rotation_enabled = true;
    s->rotation_lambda = lambda;
    s->rot_token = moat_arena_dup(a, token);
    s->rot_test = !immediately;
    s->rot_due_ms = call->now_ms;
    s->rot_attempts = 0;
    s->rot_error = MOAT_NULL_SLICE;
    s->changed_ms = call->now_ms;
    /* Rotating now counts as the rotation the schedule starts from. */
    err = sm_rotation_schedule_next(call, s, call->now_ms);
    if (immediately && !err && s->next_rotation_ms && (s->rotation_days || s->schedule.len)) {
        int64_t saved = s->last_rotated_ms;
        s->last_rotated_ms = call->now_ms;
        err = sm_rotation_schedule_next(call, s, call->now_ms + 1);
        s->last_rotated_ms = saved;
    }
    if (!err)
        err = sm_secret_save(call, s);
    if (err)
        return err;
    scheduler_kick();
    moat_set_cstr(a, out, SECRETSMANAGER_ROTATE_SECRET_RESPONSE_ARN, s->arn);
    moat_set_str(a, out, SECRETSMANAGER_ROTATE_SECRET_RESPONSE_NAME, s->name);
    moat_set_str(a, out, SECRETSMANAGER_ROTATE_SECRET_RESPONSE_VERSION_ID, s->rot_token);
    return NULL;
}

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CancelRotateSecret.html */
SM_HANDLER(sm_cancel_rotate_secret)
{
    struct moat_arena *a = call->arena;
    struct sm_secret *s;
    struct moat_error *err = sm_secret_for_call(
        call, moat_get_str(in, SECRETSMANAGER_CANCEL_ROTATE_SECRET_REQUEST_SECRET_ID), 0, &s);
    if (err)
        return err;
    if (!s->rotation_lambda.len)
        return moat_fail(call, &sm_invalid_request,
                         "You tried to enable rotation on a secret that doesn't already have a "
                         "Lambda function ARN configured and you didn't include such an ARN as a "
                         "parameter in this call.");
    struct moat_slice token = s->rot_test ? MOAT_NULL_SLICE : s->rot_token;
    s->rotation_enabled = false;
    s->next_rotation_ms = 0;
    s->rot_token = MOAT_NULL_SLICE;
    s->rot_due_ms = 0;
    s->rot_attempts = 0;
    s->rot_test = false;
    s->changed_ms = call->now_ms;
    err = sm_secret_save(call, s);
    if (err)
        return err;
    moat_set_cstr(a, out, SECRETSMANAGER_CANCEL_ROTATE_SECRET_RESPONSE_ARN, s->arn);
    moat_set_str(a, out, SECRETSMANAGER_CANCEL_ROTATE_SECRET_RESPONSE_NAME, s->name);
    if (token.len)
        moat_set_str(a, out, SECRETSMANAGER_CANCEL_ROTATE_SECRET_RESPONSE_VERSION_ID, token);
    return NULL;
}

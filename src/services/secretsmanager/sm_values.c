/* sm_values.c: secret values and their staging labels: GetSecretValue,
 * BatchGetSecretValue, PutSecretValue, UpdateSecretVersionStage and ListSecretVersionIds. */
#include "aws/shapes/shapes_secretsmanager.h"
#include "core/buf.h"
#include "core/encoding.h"
#include "iam/iam_message.h"
#include "server/authorize.h"
#include "services/secretsmanager/sm.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

/* ---- adding a version -------------------------------------------------------------- */

struct moat_error *sm_version_same_value(struct moat_call *call, const struct sm_secret *s,
                                         const struct sm_version *v, struct moat_slice plain,
                                         bool binary, bool *same)
{
    struct moat_slice old;
    bool old_binary;
    struct moat_error *err = sm_value_get(call, s, v, &old, &old_binary);
    if (err)
        return err;
    *same = old_binary == binary && old.len == plain.len &&
            CRYPTO_memcmp(old.ptr, plain.ptr, plain.len) == 0;
    return NULL;
}

static bool is_uuid_like(struct moat_slice s)
{
    return s.len >= 32 && s.len <= 64;
}

struct moat_error *sm_version_put(struct moat_call *call, struct sm_secret *s,
                                  struct moat_slice token, struct moat_slice plain, bool binary,
                                  const struct moat_slice *stages, size_t stage_count,
                                  bool rotation, struct sm_version **out, bool *created)
{
    struct moat_arena *a = call->arena;
    *created = false;
    struct moat_slice vid = token.len ? token : sm_uuid(a);
    if (!is_uuid_like(vid))
        return moat_fail(call, &sm_invalid_parameter,
                         "ClientRequestToken must be 32-64 characters long.");
    struct sm_version *existing = sm_version_find(s, vid);
    if (existing) {
        bool same;
        struct moat_error *err = sm_version_same_value(call, s, existing, plain, binary, &same);
        if (err)
            return err;
        if (!same)
            return moat_fail(call, &sm_exists,
                             "You can't use ClientRequestToken %.*s because that value is already "
                             "in use for a version of secret %s.",
                             MOAT_FMT(vid), s->arn);
        *out = existing;
        return NULL;
    }
    bool moves_current = false;
    for (size_t i = 0; i < stage_count; i++)
        moves_current = moves_current || moat_slice_eq_cstr(stages[i], "AWSCURRENT");
    /* Labels moved from other versions keep the total; new ones add to it. */
    size_t added = 0;
    for (size_t i = 0; i < stage_count; i++) {
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup = dup || moat_slice_eq(stages[i], stages[j]);
        if (!dup && !sm_label_holder(s, moat_arena_cstr(a, stages[i])))
            added++;
    }
    if (moves_current && sm_label_holder(s, "AWSCURRENT") && !sm_label_holder(s, "AWSPREVIOUS"))
        added++; /* the old AWSCURRENT version becomes AWSPREVIOUS */
    if (sm_label_total(s) + added > SM_MAX_LABELS)
        return moat_fail(call, &sm_limit_exceeded,
                         "A secret can have at most %d staging labels attached across all of "
                         "its versions.",
                         SM_MAX_LABELS);
    struct sm_version *v = sm_version_add(a, s, vid, call->now_ms);
    struct moat_error *err = sm_value_put(call, s, v, plain, binary);
    if (err) {
        s->version_count--; /* a caller that keeps the secret must not keep this version */
        return err;
    }
    for (size_t i = 0; i < stage_count; i++)
        sm_label_move(a, s, v, moat_arena_dup(a, stages[i]));
    if (moves_current) {
        s->value_changed_ms = call->now_ms;
        /* A new AWSCURRENT written by hand while a rotation is pending abandons it:
         * https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-cloudtrail.html */
        struct sm_version *pending = sm_label_holder(s, "AWSPENDING");
        if (!rotation && pending && pending != v) {
            err = sm_rotation_abandon(call, s);
            if (err)
                return err;
        }
    }
    err = sm_versions_trim(call, s);
    if (err)
        return err;
    s->changed_ms = call->now_ms;
    *out = sm_version_find(s, vid);
    *created = true;
    return NULL;
}

/* ---- GetSecretValue -------------------------------------------------------------------- */

/* Picks the version a request names by VersionId and/or VersionStage (AWSCURRENT by
 * default). */
static struct moat_error *pick_version(struct moat_call *call, const struct sm_secret *s,
                                       struct moat_slice vid, struct moat_slice stage,
                                       struct sm_version **out)
{
    struct sm_version *v = NULL;
    if (vid.len) {
        v = sm_version_find(s, vid);
        if (!v)
            return moat_fail(call, &sm_not_found,
                             "Secrets Manager can't find the specified secret value for "
                             "VersionId: %.*s",
                             MOAT_FMT(vid));
        if (stage.len && !sm_version_has(v, stage))
            return moat_fail(call, &sm_invalid_request,
                             "You provided a VersionStage that is not associated to the provided "
                             "VersionId.");
    } else {
        if (!stage.len)
            stage = MOAT_LIT("AWSCURRENT");
        v = sm_label_holder(s, moat_arena_cstr(call->arena, stage));
        if (!v)
            return moat_fail(call, &sm_not_found,
                             "Secrets Manager can't find the specified secret value for staging "
                             "label: %.*s",
                             MOAT_FMT(stage));
    }
    *out = v;
    return NULL;
}

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html */
SM_HANDLER(sm_get_secret_value)
{
    struct moat_arena *a = call->arena;
    struct sm_secret *s;
    struct moat_error *err = sm_secret_for_call(
        call, moat_get_str(in, SECRETSMANAGER_GET_SECRET_VALUE_REQUEST_SECRET_ID), SM_ALLOW_REPLICA,
        &s);
    if (err)
        return err;
    struct sm_version *v = NULL;
    err =
        pick_version(call, s, moat_get_str(in, SECRETSMANAGER_GET_SECRET_VALUE_REQUEST_VERSION_ID),
                     moat_get_str(in, SECRETSMANAGER_GET_SECRET_VALUE_REQUEST_VERSION_STAGE), &v);
    if (err)
        return err;
    struct moat_slice plain;
    bool binary;
    err = sm_value_get(call, s, v, &plain, &binary);
    if (err)
        return err;
    moat_set_cstr(a, out, SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_ARN, s->arn);
    moat_set_str(a, out, SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_NAME, s->name);
    moat_set_str(a, out, SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_VERSION_ID, v->id);
    if (binary)
        moat_set_blob(a, out, SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_SECRET_BINARY, plain);
    else
        moat_set_str(a, out, SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_SECRET_STRING, plain);
    struct moat_value *stages =
        moat_set_list(a, out, SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_VERSION_STAGES);
    for (size_t i = 0; i < v->stage_count; i++)
        moat_list_add_str(a, stages, v->stages[i]);
    moat_set_ts(a, out, SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_CREATED_DATE, v->created_ms);
    sm_access_note(s, v, call->now_ms);
    return NULL;
}

/* ---- BatchGetSecretValue -------------------------------------------------------------- */

static void batch_error(struct moat_call *call, struct moat_value *errors, struct moat_slice id,
                        const struct moat_error *e)
{
    struct moat_value *item = moat_list_add_struct(call->arena, errors);
    moat_set_str(call->arena, item, SECRETSMANAGER_API_ERROR_TYPE_SECRET_ID, id);
    moat_set_cstr(call->arena, item, SECRETSMANAGER_API_ERROR_TYPE_ERROR_CODE, e->kind->code);
    moat_set_str(call->arena, item, SECRETSMANAGER_API_ERROR_TYPE_MESSAGE, e->message);
}

/* Retrieves one secret as GetSecretValue does, with its own authorization and CloudTrail
 * record ("Secrets Manager generates a CloudTrail GetSecretValue log entry for each
 * secret you request"). */
static void batch_one(struct moat_call *call, struct moat_slice id, struct moat_value *values,
                      struct moat_value *errors)
{
    struct moat_value *gin = moat_call_internal_input(call, "secretsmanager", "GetSecretValue");
    moat_set_str(call->arena, gin, SECRETSMANAGER_GET_SECRET_VALUE_REQUEST_SECRET_ID, id);
    struct moat_call *child = moat_call_internal(call, "secretsmanager", "GetSecretValue", gin);
    if (child->error) {
        batch_error(call, errors, id, child->error);
        return;
    }
    static const unsigned map[][2] = {
        {SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_ARN, SECRETSMANAGER_SECRET_VALUE_ENTRY_ARN},
        {SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_NAME, SECRETSMANAGER_SECRET_VALUE_ENTRY_NAME},
        {SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_VERSION_ID,
         SECRETSMANAGER_SECRET_VALUE_ENTRY_VERSION_ID},
        {SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_SECRET_BINARY,
         SECRETSMANAGER_SECRET_VALUE_ENTRY_SECRET_BINARY},
        {SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_SECRET_STRING,
         SECRETSMANAGER_SECRET_VALUE_ENTRY_SECRET_STRING},
        {SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_VERSION_STAGES,
         SECRETSMANAGER_SECRET_VALUE_ENTRY_VERSION_STAGES},
        {SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_CREATED_DATE,
         SECRETSMANAGER_SECRET_VALUE_ENTRY_CREATED_DATE},
    };
    struct moat_value *entry = moat_list_add_struct(call->arena, values);
    for (size_t i = 0; i < MOAT_COUNT(map); i++) {
        struct moat_value *v = moat_get(child->output, map[i][0]);
        if (v)
            moat_set(entry, map[i][1], v);
    }
}

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_BatchGetSecretValue.html */
SM_HANDLER(sm_batch_get_secret_value)
{
    struct moat_arena *a = call->arena;
    const struct moat_value *ids =
        moat_get(in, SECRETSMANAGER_BATCH_GET_SECRET_VALUE_REQUEST_SECRET_ID_LIST);
    const struct moat_value *filters =
        moat_get(in, SECRETSMANAGER_BATCH_GET_SECRET_VALUE_REQUEST_FILTERS);
    if (ids && filters)
        return moat_fail(call, &sm_invalid_parameter,
                         "Either 'SecretIdList' or 'Filters' must be provided, but not both.");
    if (!ids && !filters)
        return moat_fail(call, &sm_invalid_parameter,
                         "Either 'SecretIdList' or 'Filters' must be provided.");
    if (!filters && moat_has(in, SECRETSMANAGER_BATCH_GET_SECRET_VALUE_REQUEST_MAX_RESULTS))
        return moat_fail(call, &sm_invalid_parameter,
                         "'Filters' not specified. 'Filters' must also be specified when "
                         "'MaxResults' is provided.");
    struct moat_value *values =
        moat_set_list(a, out, SECRETSMANAGER_BATCH_GET_SECRET_VALUE_RESPONSE_SECRET_VALUES);
    struct moat_value *errors =
        moat_set_list(a, out, SECRETSMANAGER_BATCH_GET_SECRET_VALUE_RESPONSE_ERRORS);
    if (ids) {
        for (uint32_t i = 0; i < ids->count; i++)
            batch_one(call, ids->u.items[i]->u.s, values, errors);
        return NULL;
    }
    /* With filters the caller lists secrets too: "you must also have
     * secretsmanager:ListSecrets". */
    struct moat_error *err = sm_filters_check(call, filters);
    if (err)
        return err;
    struct iam_eval_result r;
    if (authorize_check(call, "secretsmanager:ListSecrets", "*", NULL, NULL, 0, NULL, &r, NULL) !=
        IAM_DECISION_ALLOW) {
        struct moat_buf b;
        moat_buf_init(&b, a, 256);
        iam_message_denied(&b, call->principal, MOAT_LIT("secretsmanager:ListSecrets"),
                           MOAT_LIT("*"), &r);
        call->error_is_denial = true;
        return moat_fail(call, &sm_access_denied, "%.*s", MOAT_FMT(moat_buf_slice(&b)));
    }
    int64_t max = moat_get_int(in, SECRETSMANAGER_BATCH_GET_SECRET_VALUE_REQUEST_MAX_RESULTS, 20);
    struct sm_secret **page;
    size_t n;
    struct moat_slice next;
    err = sm_list_page(call, filters, false, MOAT_LIT("asc"), MOAT_LIT("name"),
                       moat_get_str(in, SECRETSMANAGER_BATCH_GET_SECRET_VALUE_REQUEST_NEXT_TOKEN),
                       (size_t)max, &page, &n, &next);
    if (err)
        return err;
    for (size_t i = 0; i < n; i++)
        batch_one(call, moat_slice_cstr(page[i]->arn), values, errors);
    if (next.len)
        moat_set_str(a, out, SECRETSMANAGER_BATCH_GET_SECRET_VALUE_RESPONSE_NEXT_TOKEN, next);
    return NULL;
}

/* ---- PutSecretValue ------------------------------------------------------------------- */

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html */
SM_HANDLER(sm_put_secret_value)
{
    struct moat_arena *a = call->arena;
    struct sm_secret *s;
    struct moat_error *err = sm_secret_for_call(
        call, moat_get_str(in, SECRETSMANAGER_PUT_SECRET_VALUE_REQUEST_SECRET_ID), 0, &s);
    if (err)
        return err;
    bool has_string = moat_has(in, SECRETSMANAGER_PUT_SECRET_VALUE_REQUEST_SECRET_STRING);
    bool has_binary = moat_has(in, SECRETSMANAGER_PUT_SECRET_VALUE_REQUEST_SECRET_BINARY);
    if (has_string && has_binary)
        return moat_fail(call, &sm_invalid_parameter,
                         "You can't specify both a binary secret value and a string secret value "
                         "in the same secret.");
    if (!has_string && !has_binary)
        return moat_fail(call, &sm_invalid_parameter,
                         "You must provide either SecretString or SecretBinary.");
    struct moat_slice current = MOAT_LIT("AWSCURRENT");
    const struct moat_slice *stages = &current;
    size_t stage_count = 1;
    const struct moat_value *list =
        moat_get(in, SECRETSMANAGER_PUT_SECRET_VALUE_REQUEST_VERSION_STAGES);
    if (list && list->count) {
        struct moat_slice *st = moat_arena_alloc(a, list->count * sizeof(*st));
        for (uint32_t i = 0; i < list->count; i++)
            st[i] = list->u.items[i]->u.s;
        stages = st;
        stage_count = list->count;
    }
    struct sm_version *v = NULL;
    bool created;
    err = sm_version_put(
        call, s, moat_get_str(in, SECRETSMANAGER_PUT_SECRET_VALUE_REQUEST_CLIENT_REQUEST_TOKEN),
        has_string ? moat_get_str(in, SECRETSMANAGER_PUT_SECRET_VALUE_REQUEST_SECRET_STRING)
                   : moat_get_blob(in, SECRETSMANAGER_PUT_SECRET_VALUE_REQUEST_SECRET_BINARY),
        has_binary, stages, stage_count,
        moat_has(in, SECRETSMANAGER_PUT_SECRET_VALUE_REQUEST_ROTATION_TOKEN), &v, &created);
    if (err)
        return err;
    if (created) {
        err = sm_replicas_sync(call, s);
        if (!err)
            err = sm_secret_save(call, s);
        if (err)
            return err;
    }
    moat_set_cstr(a, out, SECRETSMANAGER_PUT_SECRET_VALUE_RESPONSE_ARN, s->arn);
    moat_set_str(a, out, SECRETSMANAGER_PUT_SECRET_VALUE_RESPONSE_NAME, s->name);
    moat_set_str(a, out, SECRETSMANAGER_PUT_SECRET_VALUE_RESPONSE_VERSION_ID, v->id);
    struct moat_value *out_stages =
        moat_set_list(a, out, SECRETSMANAGER_PUT_SECRET_VALUE_RESPONSE_VERSION_STAGES);
    for (size_t i = 0; i < v->stage_count; i++)
        moat_list_add_str(a, out_stages, v->stages[i]);
    return NULL;
}

/* ---- UpdateSecretVersionStage --------------------------------------------------------- */

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html
 */
SM_HANDLER(sm_update_secret_version_stage)
{
    struct moat_arena *a = call->arena;
    struct sm_secret *s;
    struct moat_error *err = sm_secret_for_call(
        call, moat_get_str(in, SECRETSMANAGER_UPDATE_SECRET_VERSION_STAGE_REQUEST_SECRET_ID), 0,
        &s);
    if (err)
        return err;
    struct moat_slice label =
        moat_get_str(in, SECRETSMANAGER_UPDATE_SECRET_VERSION_STAGE_REQUEST_VERSION_STAGE);
    struct moat_slice from_id =
        moat_get_str(in, SECRETSMANAGER_UPDATE_SECRET_VERSION_STAGE_REQUEST_REMOVE_FROM_VERSION_ID);
    struct moat_slice to_id =
        moat_get_str(in, SECRETSMANAGER_UPDATE_SECRET_VERSION_STAGE_REQUEST_MOVE_TO_VERSION_ID);
    struct sm_version *holder = sm_label_holder(s, moat_arena_cstr(a, label));
    struct sm_version *from = NULL, *to = NULL;
    if (from_id.len) {
        from = sm_version_find(s, from_id);
        if (!from)
            return moat_fail(call, &sm_invalid_parameter,
                             "The version %.*s in RemoveFromVersionId doesn't exist for secret %s.",
                             MOAT_FMT(from_id), s->arn);
        if (from != holder)
            return moat_fail(call, &sm_invalid_parameter,
                             "The staging label %.*s isn't attached to version %.*s, so it can't "
                             "be removed from it.",
                             MOAT_FMT(label), MOAT_FMT(from_id));
    }
    if (to_id.len) {
        to = sm_version_find(s, to_id);
        if (!to)
            return moat_fail(call, &sm_invalid_parameter,
                             "The version %.*s in MoveToVersionId doesn't exist for secret %s.",
                             MOAT_FMT(to_id), s->arn);
    }
    if (to && holder && holder != to && !from)
        return moat_fail(call, &sm_invalid_parameter,
                         "The staging label %.*s is currently attached to version %.*s, so you "
                         "must explicitly reference that version in RemoveFromVersionId.",
                         MOAT_FMT(label), MOAT_FMT(holder->id));
    if (!to && moat_slice_eq_cstr(label, "AWSCURRENT"))
        return moat_fail(call, &sm_invalid_parameter,
                         "You can't remove the staging label AWSCURRENT without moving it to "
                         "another version with MoveToVersionId.");
    if (to && !holder && sm_label_total(s) + 1 > SM_MAX_LABELS)
        return moat_fail(call, &sm_limit_exceeded,
                         "A secret can have at most %d staging labels attached across all of "
                         "its versions.",
                         SM_MAX_LABELS);
    if (to) {
        label = moat_arena_dup(a, label);
        sm_label_move(a, s, to, label);
        if (moat_slice_eq_cstr(label, "AWSCURRENT"))
            s->value_changed_ms = call->now_ms;
    } else if (from) {
        sm_label_remove(from, label);
    }
    s->changed_ms = call->now_ms;
    err = sm_versions_trim(call, s);
    if (!err)
        err = sm_replicas_sync(call, s);
    if (!err)
        err = sm_secret_save(call, s);
    if (err)
        return err;
    moat_set_cstr(a, out, SECRETSMANAGER_UPDATE_SECRET_VERSION_STAGE_RESPONSE_ARN, s->arn);
    moat_set_str(a, out, SECRETSMANAGER_UPDATE_SECRET_VERSION_STAGE_RESPONSE_NAME, s->name);
    return NULL;
}

/* ---- ListSecretVersionIds ------------------------------------------------------------- */

/* Pagination tokens of moat's lists: "<offset>" in base64, bound to nothing else; a token
 * that does not decode is InvalidNextTokenException. */
struct moat_slice sm_token_encode(struct moat_arena *a, size_t offset)
{
    char raw[32];
    int n = snprintf(raw, sizeof(raw), "moat:%zu", offset);
    struct moat_buf b;
    moat_buf_init(&b, a, 48);
    moat_base64_encode(&b, moat_slice(raw, (size_t)n));
    return moat_buf_slice(&b);
}

struct moat_error *sm_token_decode(struct moat_call *call, struct moat_slice token, size_t *offset)
{
    *offset = 0;
    if (!token.len)
        return NULL;
    struct moat_slice raw;
    uint64_t v;
    if (!moat_base64_decode(call->arena, token, &raw) ||
        !moat_slice_starts_with(raw, MOAT_LIT("moat:")) ||
        !moat_slice_to_u64(moat_slice_sub(raw, 5, raw.len), &v))
        return moat_fail(call, &sm_invalid_next_token, "You provided an invalid NextToken value.");
    *offset = (size_t)v;
    return NULL;
}

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecretVersionIds.html */
SM_HANDLER(sm_list_secret_version_ids)
{
    struct moat_arena *a = call->arena;
    struct sm_secret *s;
    struct moat_error *err = sm_secret_for_call(
        call, moat_get_str(in, SECRETSMANAGER_LIST_SECRET_VERSION_IDS_REQUEST_SECRET_ID),
        SM_ALLOW_DELETED | SM_ALLOW_REPLICA, &s);
    if (err)
        return err;
    bool deprecated =
        moat_get_bool(in, SECRETSMANAGER_LIST_SECRET_VERSION_IDS_REQUEST_INCLUDE_DEPRECATED, false);
    size_t offset;
    err = sm_token_decode(
        call, moat_get_str(in, SECRETSMANAGER_LIST_SECRET_VERSION_IDS_REQUEST_NEXT_TOKEN), &offset);
    if (err)
        return err;
    size_t max =
        (size_t)moat_get_int(in, SECRETSMANAGER_LIST_SECRET_VERSION_IDS_REQUEST_MAX_RESULTS, 100);
    struct moat_value *list =
        moat_set_list(a, out, SECRETSMANAGER_LIST_SECRET_VERSION_IDS_RESPONSE_VERSIONS);
    size_t seen = 0, shown = 0;
    /* Newest first. */
    for (size_t k = s->version_count; k-- > 0;) {
        const struct sm_version *v = &s->versions[k];
        if (!v->stage_count && !deprecated)
            continue;
        if (seen++ < offset)
            continue;
        if (shown == max) {
            moat_set_str(a, out, SECRETSMANAGER_LIST_SECRET_VERSION_IDS_RESPONSE_NEXT_TOKEN,
                         sm_token_encode(a, offset + shown));
            break;
        }
        struct moat_value *e = moat_list_add_struct(a, list);
        moat_set_str(a, e, SECRETSMANAGER_SECRET_VERSIONS_LIST_ENTRY_VERSION_ID, v->id);
        if (v->stage_count) {
            struct moat_value *st =
                moat_set_list(a, e, SECRETSMANAGER_SECRET_VERSIONS_LIST_ENTRY_VERSION_STAGES);
            for (size_t i = 0; i < v->stage_count; i++)
                moat_list_add_str(a, st, v->stages[i]);
        }
        int64_t accessed = sm_access_day(call, s, v);
        if (accessed)
            moat_set_ts(a, e, SECRETSMANAGER_SECRET_VERSIONS_LIST_ENTRY_LAST_ACCESSED_DATE,
                        accessed);
        moat_set_ts(a, e, SECRETSMANAGER_SECRET_VERSIONS_LIST_ENTRY_CREATED_DATE, v->created_ms);
        if (v->key_arn.len)
            moat_list_add_str(
                a, moat_set_list(a, e, SECRETSMANAGER_SECRET_VERSIONS_LIST_ENTRY_KMS_KEY_IDS),
                v->key_arn);
        shown++;
    }
    moat_set_cstr(a, out, SECRETSMANAGER_LIST_SECRET_VERSION_IDS_RESPONSE_ARN, s->arn);
    moat_set_str(a, out, SECRETSMANAGER_LIST_SECRET_VERSION_IDS_RESPONSE_NAME, s->name);
    return NULL;
}

/* sm_secrets.c: the life of a secret: CreateSecret, DescribeSecret, UpdateSecret,
 * DeleteSecret, RestoreSecret and its tags. Values and labels live in sm_values.c. */
#include "aws/shapes/shapes_secretsmanager.h"
#include "services/secretsmanager/sm.h"

#include <string.h>

/* ---- validation ------------------------------------------------------------------- */

/* CreateSecret: "The secret name can contain ASCII letters, numbers, and the following
 * characters: /_+=.@-".
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html */
static bool valid_name(struct moat_slice name)
{
    if (!name.len)
        return false;
    for (size_t i = 0; i < name.len; i++) {
        uint8_t c = name.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("/_+=.@-", c)))
            return false;
    }
    return true;
}

/* Tag rules:
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/managing-secrets_tagging.html */
static bool valid_tag_text(struct moat_slice s)
{
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || strchr(" +-=._:/@", c)))
            return false;
    }
    return true;
}

struct moat_error *sm_tags_check(struct moat_call *call, const struct moat_value *tags,
                                 size_t total_after)
{
    if (!tags || tags->type != MOAT_V_LIST)
        return NULL;
    for (uint32_t i = 0; i < tags->count; i++) {
        struct moat_slice k = moat_get_str(tags->u.items[i], SECRETSMANAGER_TAG_KEY);
        struct moat_slice v = moat_get_str(tags->u.items[i], SECRETSMANAGER_TAG_VALUE);
        if (!moat_has(tags->u.items[i], SECRETSMANAGER_TAG_KEY))
            return moat_fail(call, &sm_invalid_parameter, "A tag must have a Key.");
        if (moat_slice_starts_with(k, MOAT_LIT("aws:")))
            return moat_fail(call, &sm_invalid_parameter,
                             "Tag keys can't start with aws: (the prefix is reserved for AWS "
                             "use): %.*s",
                             MOAT_FMT(k));
        if (!valid_tag_text(k) || !valid_tag_text(v))
            return moat_fail(call, &sm_invalid_parameter,
                             "Tag keys and values can contain only letters, numbers, spaces and "
                             "+ - = . _ : / @ (tag key %.*s).",
                             MOAT_FMT(k));
        for (uint32_t j = 0; j < i; j++)
            if (moat_slice_eq(k, moat_get_str(tags->u.items[j], SECRETSMANAGER_TAG_KEY)))
                return moat_fail(call, &sm_invalid_parameter,
                                 "The tag key %.*s appears more than once in the request.",
                                 MOAT_FMT(k));
    }
    if (total_after > SM_MAX_TAGS)
        return moat_fail(call, &sm_invalid_parameter,
                         "A secret can have at most %d tags; this request would give it %zu.",
                         SM_MAX_TAGS, total_after);
    return NULL;
}

static void tags_merge(struct moat_arena *a, struct sm_secret *s, const struct moat_value *tags)
{
    if (!tags || tags->type != MOAT_V_LIST)
        return;
    struct sm_tag *n = moat_arena_calloc(a, (s->tag_count + tags->count + 1) * sizeof(*n));
    if (s->tag_count)
        memcpy(n, s->tags, s->tag_count * sizeof(*n));
    size_t count = s->tag_count;
    for (uint32_t i = 0; i < tags->count; i++) {
        struct moat_slice k = moat_get_str(tags->u.items[i], SECRETSMANAGER_TAG_KEY);
        struct moat_slice v = moat_get_str(tags->u.items[i], SECRETSMANAGER_TAG_VALUE);
        size_t j = 0;
        while (j < count && !moat_slice_eq(n[j].key, k))
            j++;
        n[j].key = k;
        n[j].value = v;
        if (j == count)
            count++;
    }
    s->tags = n;
    s->tag_count = count;
}

static struct moat_error *unsupported_type(struct moat_call *call)
{
    return moat_fail(call, &sm_invalid_request,
                     "Managed external secrets (Type) are not supported by this endpoint: it "
                     "has no partner integrations. Create the secret without Type.");
}

/* ---- CreateSecret ------------------------------------------------------------------ */

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html */
SM_HANDLER(sm_create_secret)
{
    struct moat_arena *a = call->arena;
    struct moat_slice name = moat_get_str(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_NAME);
    if (!valid_name(name))
        return moat_fail(call, &sm_validation_exception,
                         "Invalid name. Must be a valid name containing alphanumeric characters, "
                         "or any of the following: -/_+=.@!");
    if (moat_has(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_TYPE))
        return unsupported_type(call);
    bool has_string = moat_has(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_SECRET_STRING);
    bool has_binary = moat_has(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_SECRET_BINARY);
    if (has_string && has_binary)
        return moat_fail(call, &sm_invalid_parameter,
                         "You can't specify both a binary secret value and a string secret value "
                         "in the same secret.");
    struct moat_slice token =
        moat_get_str(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_CLIENT_REQUEST_TOKEN);
    struct moat_slice plain =
        has_string ? moat_get_str(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_SECRET_STRING)
                   : moat_get_blob(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_SECRET_BINARY);

    struct sm_secret *s;
    struct moat_error *err = sm_secret_load(call, call->account_id, call->region, name, &s);
    if (err)
        return err;
    if (s) {
        if (s->deleted_ms)
            return moat_fail(call, &sm_invalid_request,
                             "You can't create this secret because a secret with this name is "
                             "already scheduled for deletion.");
        /* A retried CreateSecret (same token and value) succeeds without a change. */
        struct sm_version *v = token.len ? sm_version_find(s, token) : NULL;
        bool same = false;
        if (v && (has_string || has_binary)) {
            err = sm_version_same_value(call, s, v, plain, has_binary, &same);
            if (err)
                return err;
        }
        if (!same)
            return moat_fail(call, &sm_exists,
                             "The operation failed because the secret %.*s already exists.",
                             MOAT_FMT(name));
        moat_set_cstr(a, out, SECRETSMANAGER_CREATE_SECRET_RESPONSE_ARN, s->arn);
        moat_set_str(a, out, SECRETSMANAGER_CREATE_SECRET_RESPONSE_NAME, s->name);
        moat_set_str(a, out, SECRETSMANAGER_CREATE_SECRET_RESPONSE_VERSION_ID, v->id);
        return NULL;
    }
    const struct moat_value *tags = moat_get(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_TAGS);
    err = sm_tags_check(call, tags, tags ? tags->count : 0);
    if (err)
        return err;

    /* authz chose the ARN (with its random suffix) that policies were evaluated against. */
    const char *arn = call->authz.resource_count ? call->authz.resources[0] : NULL;
    if (!arn)
        return moat_internal(call, "secretsmanager: CreateSecret without an ARN");
    s = sm_secret_new(call, call->account_id, call->region, name, arn);
    if (moat_has(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_DESCRIPTION)) {
        s->description = moat_get_str(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_DESCRIPTION);
        s->has_description = true;
    }
    s->kms_key_id = moat_get_str(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_KMS_KEY_ID);
    tags_merge(a, s, tags);

    struct sm_version *v = NULL;
    if (has_string || has_binary) {
        static const struct moat_slice current[] = {MOAT_LIT("AWSCURRENT")};
        bool created;
        err = sm_version_put(call, s, token, plain, has_binary, current, 1, false, &v, &created);
        if (err)
            return err;
    }
    const struct moat_value *regions =
        moat_get(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_ADD_REPLICA_REGIONS);
    if (regions) {
        err = sm_replicas_add(
            call, s, regions,
            moat_get_bool(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_FORCE_OVERWRITE_REPLICA_SECRET,
                          false));
        if (err)
            return err;
    }
    err = sm_secret_save(call, s);
    if (err)
        return err;
    moat_set_cstr(a, out, SECRETSMANAGER_CREATE_SECRET_RESPONSE_ARN, s->arn);
    moat_set_str(a, out, SECRETSMANAGER_CREATE_SECRET_RESPONSE_NAME, s->name);
    if (v)
        moat_set_str(a, out, SECRETSMANAGER_CREATE_SECRET_RESPONSE_VERSION_ID, v->id);
    if (s->replica_count)
        sm_replication_status_out(
            call, s,
            moat_set_list(a, out, SECRETSMANAGER_CREATE_SECRET_RESPONSE_REPLICATION_STATUS));
    return NULL;
}

/* ---- DescribeSecret ------------------------------------------------------------------- */

void sm_rotation_rules_out(struct moat_call *call, const struct sm_secret *s,
                           struct moat_value *rules)
{
    struct moat_arena *a = call->arena;
    if (s->rotation_days)
        moat_set_int(a, rules, SECRETSMANAGER_ROTATION_RULES_TYPE_AUTOMATICALLY_AFTER_DAYS,
                     s->rotation_days);
    if (s->schedule.len)
        moat_set_str(a, rules, SECRETSMANAGER_ROTATION_RULES_TYPE_SCHEDULE_EXPRESSION, s->schedule);
    if (s->duration.len)
        moat_set_str(a, rules, SECRETSMANAGER_ROTATION_RULES_TYPE_DURATION, s->duration);
}

void sm_tags_out(struct moat_call *call, const struct sm_secret *s, struct moat_value *list)
{
    for (size_t i = 0; i < s->tag_count; i++) {
        struct moat_value *t = moat_list_add_struct(call->arena, list);
        moat_set_str(call->arena, t, SECRETSMANAGER_TAG_KEY, s->tags[i].key);
        moat_set_str(call->arena, t, SECRETSMANAGER_TAG_VALUE, s->tags[i].value);
    }
}

void sm_stages_map_out(struct moat_call *call, const struct sm_secret *s, struct moat_value *map)
{
    struct moat_arena *a = call->arena;
    for (size_t i = 0; i < s->version_count; i++) {
        const struct sm_version *v = &s->versions[i];
        if (!v->stage_count)
            continue;
        struct moat_value *l = moat_value_list(a);
        for (size_t k = 0; k < v->stage_count; k++)
            moat_list_push(a, l, moat_value_string(a, v->stages[k]));
        moat_map_push(a, map, v->id, l);
    }
}

/* Fills the members DescribeSecret and a ListSecrets entry share. `ids` gives the member
 * indexes of the output shape, in the order of struct sm_describe_ids. */
void sm_describe_out(struct moat_call *call, const struct sm_secret *s,
                     const struct sm_describe_ids *ids, struct moat_value *out)
{
    struct moat_arena *a = call->arena;
    moat_set_cstr(a, out, ids->arn, s->arn);
    moat_set_str(a, out, ids->name, s->name);
    if (s->has_description)
        moat_set_str(a, out, ids->description, s->description);
    if (s->kms_key_id.len)
        moat_set_str(a, out, ids->kms_key_id, s->kms_key_id);
    if (s->rotation_lambda.len || s->rotation_enabled)
        moat_set_bool(a, out, ids->rotation_enabled, s->rotation_enabled);
    if (s->rotation_lambda.len)
        moat_set_str(a, out, ids->rotation_lambda_arn, s->rotation_lambda);
    if (s->rotation_days || s->schedule.len)
        sm_rotation_rules_out(call, s, moat_set_struct(a, out, ids->rotation_rules));
    if (s->last_rotated_ms)
        moat_set_ts(a, out, ids->last_rotated_date, s->last_rotated_ms);
    moat_set_ts(a, out, ids->last_changed_date, s->changed_ms);
    int64_t accessed = sm_access_day(call, s, NULL);
    if (accessed)
        moat_set_ts(a, out, ids->last_accessed_date, accessed);
    if (s->deleted_ms)
        moat_set_ts(a, out, ids->deleted_date, s->deleted_ms);
    if (s->rotation_enabled && s->next_rotation_ms)
        moat_set_ts(a, out, ids->next_rotation_date, s->next_rotation_ms);
    if (s->tag_count)
        sm_tags_out(call, s, moat_set_list(a, out, ids->tags));
    sm_stages_map_out(call, s, moat_set_map(a, out, ids->versions_to_stages));
    if (s->owning_service.len)
        moat_set_str(a, out, ids->owning_service, s->owning_service);
    moat_set_ts(a, out, ids->created_date, s->created_ms);
    if (s->primary_region.len || s->replica_count)
        moat_set_str(a, out, ids->primary_region,
                     s->primary_region.len ? s->primary_region : moat_slice_cstr(s->region));
}

const struct sm_describe_ids sm_describe_response_ids = {
    .arn = SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_ARN,
    .name = SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_NAME,
    .description = SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_DESCRIPTION,
    .kms_key_id = SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_KMS_KEY_ID,
    .rotation_enabled = SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_ROTATION_ENABLED,
    .rotation_lambda_arn = SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_ROTATION_LAMBDA_ARN,
    .rotation_rules = SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_ROTATION_RULES,
    .last_rotated_date = SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_LAST_ROTATED_DATE,
    .last_changed_date = SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_LAST_CHANGED_DATE,
    .last_accessed_date = SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_LAST_ACCESSED_DATE,
    .deleted_date = SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_DELETED_DATE,
    .next_rotation_date = SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_NEXT_ROTATION_DATE,
    .tags = SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_TAGS,
    .versions_to_stages = SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_VERSION_IDS_TO_STAGES,
    .owning_service = SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_OWNING_SERVICE,
    .created_date = SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_CREATED_DATE,
    .primary_region = SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_PRIMARY_REGION,
};

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html */
SM_HANDLER(sm_describe_secret)
{
    struct sm_secret *s;
    struct moat_error *err =
        sm_secret_for_call(call, moat_get_str(in, SECRETSMANAGER_DESCRIBE_SECRET_REQUEST_SECRET_ID),
                           SM_ALLOW_DELETED | SM_ALLOW_REPLICA, &s);
    if (err)
        return err;
    sm_describe_out(call, s, &sm_describe_response_ids, out);
    if (s->replica_count)
        sm_replication_status_out(
            call, s,
            moat_set_list(call->arena, out,
                          SECRETSMANAGER_DESCRIBE_SECRET_RESPONSE_REPLICATION_STATUS));
    return NULL;
}

/* ---- UpdateSecret ---------------------------------------------------------------------- */

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecret.html */
SM_HANDLER(sm_update_secret)
{
    struct moat_arena *a = call->arena;
    struct sm_secret *s;
    struct moat_error *err = sm_secret_for_call(
        call, moat_get_str(in, SECRETSMANAGER_UPDATE_SECRET_REQUEST_SECRET_ID), 0, &s);
    if (err)
        return err;
    if (moat_has(in, SECRETSMANAGER_UPDATE_SECRET_REQUEST_TYPE))
        return unsupported_type(call);
    bool has_string = moat_has(in, SECRETSMANAGER_UPDATE_SECRET_REQUEST_SECRET_STRING);
    bool has_binary = moat_has(in, SECRETSMANAGER_UPDATE_SECRET_REQUEST_SECRET_BINARY);
    if (has_string && has_binary)
        return moat_fail(call, &sm_invalid_parameter,
                         "You can't specify both a binary secret value and a string secret value "
                         "in the same secret.");
    if (moat_has(in, SECRETSMANAGER_UPDATE_SECRET_REQUEST_DESCRIPTION)) {
        s->description = moat_get_str(in, SECRETSMANAGER_UPDATE_SECRET_REQUEST_DESCRIPTION);
        s->has_description = true;
    }
    if (moat_has(in, SECRETSMANAGER_UPDATE_SECRET_REQUEST_KMS_KEY_ID)) {
        struct moat_slice key = moat_get_str(in, SECRETSMANAGER_UPDATE_SECRET_REQUEST_KMS_KEY_ID);
        if (!moat_slice_eq(key, s->kms_key_id)) {
            s->kms_key_id = key;
            /* The labelled versions move to the new key; others keep theirs. */
            static const char *const labels[] = {"AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"};
            for (size_t i = 0; i < MOAT_COUNT(labels); i++) {
                struct sm_version *v = sm_label_holder(s, labels[i]);
                if (!v)
                    continue;
                err = sm_value_rewrap(call, s, v, key);
                if (err)
                    return err;
            }
        }
    }
    struct sm_version *v = NULL;
    if (has_string || has_binary) {
        static const struct moat_slice current[] = {MOAT_LIT("AWSCURRENT")};
        bool created;
        err = sm_version_put(
            call, s, moat_get_str(in, SECRETSMANAGER_UPDATE_SECRET_REQUEST_CLIENT_REQUEST_TOKEN),
            has_string ? moat_get_str(in, SECRETSMANAGER_UPDATE_SECRET_REQUEST_SECRET_STRING)
                       : moat_get_blob(in, SECRETSMANAGER_UPDATE_SECRET_REQUEST_SECRET_BINARY),
            has_binary, current, 1, false, &v, &created);
        if (err)
            return err;
    }
    s->changed_ms = call->now_ms;
    err = sm_replicas_sync(call, s);
    if (!err)
        err = sm_secret_save(call, s);
    if (err)
        return err;
    moat_set_cstr(a, out, SECRETSMANAGER_UPDATE_SECRET_RESPONSE_ARN, s->arn);
    moat_set_str(a, out, SECRETSMANAGER_UPDATE_SECRET_RESPONSE_NAME, s->name);
    if (v)
        moat_set_str(a, out, SECRETSMANAGER_UPDATE_SECRET_RESPONSE_VERSION_ID, v->id);
    return NULL;
}

/* ---- DeleteSecret and RestoreSecret ------------------------------------------------------ */

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html */
SM_HANDLER(sm_delete_secret)
{
    struct moat_arena *a = call->arena;
    bool force = moat_get_bool(
        in, SECRETSMANAGER_DELETE_SECRET_REQUEST_FORCE_DELETE_WITHOUT_RECOVERY, false);
    bool has_window = moat_has(in, SECRETSMANAGER_DELETE_SECRET_REQUEST_RECOVERY_WINDOW_IN_DAYS);
    int64_t days =
        moat_get_int(in, SECRETSMANAGER_DELETE_SECRET_REQUEST_RECOVERY_WINDOW_IN_DAYS, 30);
    if (force && has_window)
        return moat_fail(call, &sm_invalid_parameter,
                         "You can't use ForceDeleteWithoutRecovery in conjunction with "
                         "RecoveryWindowInDays.");
    if (has_window && (days < 7 || days > 30))
        return moat_fail(call, &sm_invalid_parameter,
                         "The RecoveryWindowInDays value must be between 7 and 30 days "
                         "(inclusive).");
    struct moat_slice id = moat_get_str(in, SECRETSMANAGER_DELETE_SECRET_REQUEST_SECRET_ID);
    struct sm_secret *s;
    struct moat_error *err = sm_secret_find(call, id, &s, NULL);
    if (err)
        return err;
    if (!s) {
        /* "If you forcibly delete an already deleted or nonexistent secret, the operation
         * does not return ResourceNotFoundException." */
        if (!force)
            return moat_fail(call, &sm_not_found,
                             "Secrets Manager can't find the specified secret.");
        moat_set_cstr(a, out, SECRETSMANAGER_DELETE_SECRET_RESPONSE_ARN,
                      call->authz.resource_count ? call->authz.resources[0] : "");
        moat_set_str(a, out, SECRETSMANAGER_DELETE_SECRET_RESPONSE_NAME, id);
        moat_set_ts(a, out, SECRETSMANAGER_DELETE_SECRET_RESPONSE_DELETION_DATE, call->now_ms);
        return NULL;
    }
    if (sm_is_replica(s))
        return moat_fail(call, &sm_invalid_request,
                         "Operation not permitted on a replica secret. Call must be made in "
                         "primary secret's region.");
    if (s->replica_count)
        return moat_fail(call, &sm_invalid_request,
                         "You can't delete secret %s because it's replicated to other Regions. "
                         "Call RemoveRegionsFromReplication first.",
                         s->arn);
    moat_set_cstr(a, out, SECRETSMANAGER_DELETE_SECRET_RESPONSE_ARN, s->arn);
    moat_set_str(a, out, SECRETSMANAGER_DELETE_SECRET_RESPONSE_NAME, s->name);
    if (force) {
        err = sm_secret_purge(call, s);
        if (err)
            return err;
        moat_set_ts(a, out, SECRETSMANAGER_DELETE_SECRET_RESPONSE_DELETION_DATE, call->now_ms);
        return NULL;
    }
    if (s->deleted_ms)
        return moat_fail(call, &sm_invalid_request,
                         "You tried to perform the operation on a secret that's currently marked "
                         "deleted.");
    s->deleted_ms = call->now_ms;
    s->delete_at_ms = call->now_ms + days * 86400000;
    err = sm_secret_save(call, s);
    if (err)
        return err;
    moat_set_ts(a, out, SECRETSMANAGER_DELETE_SECRET_RESPONSE_DELETION_DATE, s->delete_at_ms);
    return NULL;
}

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RestoreSecret.html */
SM_HANDLER(sm_restore_secret)
{
    struct sm_secret *s;
    struct moat_error *err =
        sm_secret_for_call(call, moat_get_str(in, SECRETSMANAGER_RESTORE_SECRET_REQUEST_SECRET_ID),
                           SM_ALLOW_DELETED, &s);
    if (err)
        return err;
    if (s->deleted_ms) {
        s->deleted_ms = 0;
        s->delete_at_ms = 0;
        err = sm_secret_save(call, s);
        if (err)
            return err;
    }
    moat_set_cstr(call->arena, out, SECRETSMANAGER_RESTORE_SECRET_RESPONSE_ARN, s->arn);
    moat_set_str(call->arena, out, SECRETSMANAGER_RESTORE_SECRET_RESPONSE_NAME, s->name);
    return NULL;
}

/* ---- tags -------------------------------------------------------------------------------- */

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_TagResource.html */
SM_HANDLER(sm_tag_resource)
{
    MOAT_UNUSED(out);
    struct sm_secret *s;
    struct moat_error *err = sm_secret_for_call(
        call, moat_get_str(in, SECRETSMANAGER_TAG_RESOURCE_REQUEST_SECRET_ID), 0, &s);
    if (err)
        return err;
    const struct moat_value *tags = moat_get(in, SECRETSMANAGER_TAG_RESOURCE_REQUEST_TAGS);
    size_t fresh = 0;
    for (uint32_t i = 0; tags && i < tags->count; i++) {
        bool found;
        sm_tag_get(s, moat_get_str(tags->u.items[i], SECRETSMANAGER_TAG_KEY), &found);
        fresh += !found;
    }
    /* Keys that already exist are replaced, not added. */
    err = sm_tags_check(call, tags, s->tag_count + fresh);
    if (err)
        return err;
    tags_merge(call->arena, s, tags);
    err = sm_replicas_sync(call, s);
    if (!err)
        err = sm_secret_save(call, s);
    return err;
}

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UntagResource.html */
SM_HANDLER(sm_untag_resource)
{
    MOAT_UNUSED(out);
    struct sm_secret *s;
    struct moat_error *err = sm_secret_for_call(
        call, moat_get_str(in, SECRETSMANAGER_UNTAG_RESOURCE_REQUEST_SECRET_ID), 0, &s);
    if (err)
        return err;
    const struct moat_value *keys = moat_get(in, SECRETSMANAGER_UNTAG_RESOURCE_REQUEST_TAG_KEYS);
    size_t j = 0;
    for (size_t i = 0; i < s->tag_count; i++) {
        bool drop = false;
        for (uint32_t k = 0; keys && k < keys->count && !drop; k++)
            drop = moat_slice_eq(s->tags[i].key, keys->u.items[k]->u.s);
        if (!drop)
            s->tags[j++] = s->tags[i];
    }
    s->tag_count = j;
    err = sm_replicas_sync(call, s);
    if (!err)
        err = sm_secret_save(call, s);
    return err;
}

/* sm_service.c: Secrets Manager's operation table, error kinds, and the authz functions
 * that name each operation's secret, its resource policy and its condition keys. */
#include "aws/shapes/shapes_secretsmanager.h"
#include "core/log.h"
#include "crypto/rootkey.h"
#include "iam/iam_context.h"
#include "iam/iam_policy.h"
#include "server/authorize.h"
#include "services/secretsmanager/sm.h"

#include <string.h>

const struct moat_error_kind sm_validation_exception = {"ValidationException", 400, true};
const struct moat_error_kind sm_access_denied = {"AccessDeniedException", 400, true};
const struct moat_error_kind sm_not_found = {"ResourceNotFoundException", 400, true};
const struct moat_error_kind sm_invalid_parameter = {"InvalidParameterException", 400, true};
const struct moat_error_kind sm_invalid_request = {"InvalidRequestException", 400, true};
const struct moat_error_kind sm_exists = {"ResourceExistsException", 400, true};
const struct moat_error_kind sm_limit_exceeded = {"LimitExceededException", 400, true};
const struct moat_error_kind sm_malformed_policy = {"MalformedPolicyDocumentException", 400, true};
const struct moat_error_kind sm_public_policy = {"PublicPolicyException", 400, true};
const struct moat_error_kind sm_encryption_failure = {"EncryptionFailure", 400, true};
const struct moat_error_kind sm_decryption_failure = {"DecryptionFailure", 400, true};
const struct moat_error_kind sm_invalid_next_token = {"InvalidNextTokenException", 400, true};
const struct moat_error_kind sm_internal_error = {"InternalServiceError", 500, false};

#define SM_RESOURCE_TYPE "AWS::SecretsManager::Secret"

/* ---- the secret the authz step found, handed to a read-only handler ---------------- */

/* authz and a read-only handler run one after the other on the same call: the handler
 * reuses the secret (call->service_data) instead of reading it again. Mutating handlers
 * run on the writer thread and always read it again inside the transaction. */
struct authz_found {
    struct sm_secret *secret; /* NULL: no such secret */
};

void sm_authz_stash(struct moat_call *call, struct sm_secret *s)
{
    struct authz_found *f = moat_arena_alloc(call->arena, sizeof(*f));
    f->secret = s;
    call->service_data = f;
}

struct moat_error *sm_secret_for_call(struct moat_call *call, struct moat_slice secret_id,
                                      unsigned flags, struct sm_secret **out)
{
    struct sm_secret *s = NULL;
    const struct authz_found *f = call->service_data;
    if (!call->writable && f) {
        s = f->secret;
    } else {
        struct moat_error *err = sm_secret_find(call, secret_id, &s, NULL);
        if (err)
            return err;
    }
    if (!s)
        return moat_fail(call, &sm_not_found, "Secrets Manager can't find the specified secret.");
    if (s->deleted_ms && !(flags & SM_ALLOW_DELETED))
        return moat_fail(call, &sm_invalid_request,
                         "You tried to perform the operation on a secret that's currently marked "
                         "deleted.");
    if (sm_is_replica(s) && !(flags & SM_ALLOW_REPLICA))
        return moat_fail(call, &sm_invalid_request,
                         "Operation not permitted on a replica secret. Call must be made in "
                         "primary secret's region.");
    *out = s;
    return NULL;
}

/* ---- authorization ------------------------------------------------------------------- */

static void unref_policy(void *p)
{
    iam_policy_unref(p);
}

static void set_key(struct moat_call *call, struct iam_context *ctx, const char *key,
                    struct moat_slice value)
{
    if (!iam_context_set(ctx, moat_slice_cstr(key), value))
        moat_log_warn("secretsmanager: condition key %s not set", key);
}

static void set_bool(struct iam_context *ctx, const char *key, bool value)
{
    if (!iam_context_set_bool(ctx, moat_slice_cstr(key), value))
        moat_log_warn("secretsmanager: condition key %s not set", key);
}

static const char *account_of_arn(struct moat_arena *a, const char *arn)
{
    /* arn:partition:service:region:account:... */
    struct moat_slice rest = moat_slice_cstr(arn), part;
    for (int i = 0; i < 4; i++)
        if (!moat_slice_split(&rest, ':', &part))
            return NULL;
    if (!moat_slice_split(&rest, ':', &part) || part.len != 12)
        return NULL;
    return moat_arena_cstr(a, part);
}

/* Tags of the request (CreateSecret, TagResource): aws:RequestTag/<key> and aws:TagKeys. */
static void request_tags(struct moat_call *call, struct iam_context *ctx,
                         const struct moat_value *tags)
{
    if (!tags || tags->type != MOAT_V_LIST)
        return;
    struct moat_slice *keys = moat_arena_calloc(call->arena, (tags->count + 1) * sizeof(*keys));
    for (uint32_t i = 0; i < tags->count; i++) {
        keys[i] = moat_get_str(tags->u.items[i], SECRETSMANAGER_TAG_KEY);
        if (!iam_context_set_split(ctx, MOAT_LIT("aws:RequestTag/"), keys[i],
                                   moat_get_str(tags->u.items[i], SECRETSMANAGER_TAG_VALUE)))
            moat_log_warn("secretsmanager: aws:RequestTag not set");
    }
    if (!iam_context_set_multi(ctx, MOAT_LIT("aws:TagKeys"), keys, tags->count))
        moat_log_warn("secretsmanager: aws:TagKeys not set");
}

/* Names the secret as the resource, with its policy, tags and keys. `s` may be NULL (no
 * such secret): the resource is then the ARN the request implies, so that a caller who
 * may not see the secret gets AccessDenied rather than a hint that it does not exist. */
static struct moat_error *authz_secret_found(struct moat_call *call, struct moat_authz *authz,
                                             struct sm_secret *s, const char *arn)
{
    struct iam_context *ctx = authorize_context(call);
    authz->resources[0] = s ? s->arn : arn;
    authz->resource_types[0] = SM_RESOURCE_TYPE;
    authz->resource_count = 1;
    authz->resource_account = s ? s->account : account_of_arn(call->arena, arn);
    if (!authz->resource_account)
        authz->resource_account = call->account_id;
    moat_call_add_resource(call, SM_RESOURCE_TYPE, authz->resources[0]);
    set_key(call, ctx, "secretsmanager:SecretId", moat_slice_cstr(authz->resources[0]));
    if (s) {
        for (size_t i = 0; i < s->tag_count; i++) {
            if (!iam_context_set_split(ctx, MOAT_LIT("secretsmanager:ResourceTag/"), s->tags[i].key,
                                       s->tags[i].value) ||
                !iam_context_set_split(ctx, MOAT_LIT("aws:ResourceTag/"), s->tags[i].key,
                                       s->tags[i].value))
                moat_log_warn("secretsmanager: resource tag keys not set");
        }
        set_key(call, ctx, "secretsmanager:SecretPrimaryRegion",
                s->primary_region.len ? s->primary_region : moat_slice_cstr(s->region));
        if (s->policy.len) {
            struct iam_policy *p;
            struct iam_policy_diag diag;
            if (iam_policy_compile(IAM_POLICY_RESOURCE, s->policy, 20480, &p, &diag) ==
                IAM_POLICY_OK) {
                moat_arena_on_free(call->arena, unref_policy, p);
                authz->resource_policy = p;
            } else {
                moat_log_warn("secretsmanager: stored policy of %s no longer compiles: %s", s->arn,
                              diag.message);
            }
        }
    }
    sm_authz_stash(call, s);
    return NULL;
}

static struct moat_error *authz_secret(struct moat_call *call, const struct moat_value *in,
                                       struct moat_authz *authz)
{
    /* Every operation with a secret has SecretId as its first member. */
    struct moat_slice id = moat_get_str(in, 0);
    struct sm_secret *s;
    const char *guess = NULL;
    struct moat_error *err = sm_secret_find(call, id, &s, &guess);
    if (err)
        return err;
    return authz_secret_found(call, authz, s, guess);
}

static struct moat_error *authz_get_value(struct moat_call *call, const struct moat_value *in,
                                          struct moat_authz *authz)
{
    struct moat_error *err = authz_secret(call, in, authz);
    if (err)
        return err;
    struct iam_context *ctx = authorize_context(call);
    if (moat_has(in, SECRETSMANAGER_GET_SECRET_VALUE_REQUEST_VERSION_ID))
        set_key(call, ctx, "secretsmanager:VersionId",
                moat_get_str(in, SECRETSMANAGER_GET_SECRET_VALUE_REQUEST_VERSION_ID));
    if (moat_has(in, SECRETSMANAGER_GET_SECRET_VALUE_REQUEST_VERSION_STAGE))
        set_key(call, ctx, "secretsmanager:VersionStage",
                moat_get_str(in, SECRETSMANAGER_GET_SECRET_VALUE_REQUEST_VERSION_STAGE));
    return NULL;
}

static void replica_regions_key(struct moat_call *call, const struct moat_value *regions)
{
    if (!regions || regions->type != MOAT_V_LIST)
        return;
    struct moat_slice *names =
        moat_arena_calloc(call->arena, (regions->count + 1) * sizeof(*names));
    for (uint32_t i = 0; i < regions->count; i++)
        names[i] = moat_get_str(regions->u.items[i], SECRETSMANAGER_REPLICA_REGION_TYPE_REGION);
    if (!iam_context_set_multi(authorize_context(call),
                               MOAT_LIT("secretsmanager:AddReplicaRegions"), names, regions->count))
        moat_log_warn("secretsmanager: AddReplicaRegions not set");
}

static struct moat_error *authz_create(struct moat_call *call, const struct moat_value *in,
                                       struct moat_authz *authz)
{
    struct moat_slice name = moat_get_str(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_NAME);
    struct sm_secret *s;
    struct moat_error *err = sm_secret_load(call, call->account_id, call->region, name, &s);
    if (err)
        return err;
    const char *arn = NULL;
    if (!s) {
        /* The new secret's ARN, with the random suffix AWS adds, is what policies see. */
        static const char alnum[] =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        uint8_t r[6];
        char suffix[7];
        crypto_random(r, sizeof(r));
        for (int i = 0; i < 6; i++)
            suffix[i] = alnum[r[i] % 62];
        suffix[6] = 0;
        arn = moat_arena_printf(call->arena, "arn:aws:secretsmanager:%s:%s:secret:%.*s-%s",
                                call->region, call->account_id, MOAT_FMT(name), suffix);
    }
    err = authz_secret_found(call, authz, s, arn);
    if (err)
        return err;
    struct iam_context *ctx = authorize_context(call);
    set_key(call, ctx, "secretsmanager:Name", name);
    if (moat_has(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_DESCRIPTION))
        set_key(call, ctx, "secretsmanager:Description",
                moat_get_str(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_DESCRIPTION));
    if (moat_has(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_KMS_KEY_ID))
        set_key(call, ctx, "secretsmanager:KmsKeyId",
                moat_get_str(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_KMS_KEY_ID));
    request_tags(call, ctx, moat_get(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_TAGS));
    replica_regions_key(call,
                        moat_get(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_ADD_REPLICA_REGIONS));
    if (moat_has(in, SECRETSMANAGER_CREATE_SECRET_REQUEST_FORCE_OVERWRITE_REPLICA_SECRET))
        set_bool(ctx, "secretsmanager:ForceOverwriteReplicaSecret",
                 moat_get_bool(in,
                               SECRETSMANAGER_CREATE_SECRET_REQUEST_FORCE_OVERWRITE_REPLICA_SECRET,
                               false));
    return NULL;
}

static struct moat_error *authz_update(struct moat_call *call, const struct moat_value *in,
                                       struct moat_authz *authz)
{
    struct moat_error *err = authz_secret(call, in, authz);
    if (err)
        return err;
    struct iam_context *ctx = authorize_context(call);
    if (moat_has(in, SECRETSMANAGER_UPDATE_SECRET_REQUEST_DESCRIPTION))
        set_key(call, ctx, "secretsmanager:Description",
                moat_get_str(in, SECRETSMANAGER_UPDATE_SECRET_REQUEST_DESCRIPTION));
    if (moat_has(in, SECRETSMANAGER_UPDATE_SECRET_REQUEST_KMS_KEY_ID))
        set_key(call, ctx, "secretsmanager:KmsKeyId",
                moat_get_str(in, SECRETSMANAGER_UPDATE_SECRET_REQUEST_KMS_KEY_ID));
    return NULL;
}

static struct moat_error *authz_delete(struct moat_call *call, const struct moat_value *in,
                                       struct moat_authz *authz)
{
    struct moat_error *err = authz_secret(call, in, authz);
    if (err)
        return err;
    struct iam_context *ctx = authorize_context(call);
    if (moat_has(in, SECRETSMANAGER_DELETE_SECRET_REQUEST_FORCE_DELETE_WITHOUT_RECOVERY))
        set_bool(ctx, "secretsmanager:ForceDeleteWithoutRecovery",
                 moat_get_bool(in,
                               SECRETSMANAGER_DELETE_SECRET_REQUEST_FORCE_DELETE_WITHOUT_RECOVERY,
                               false));
    if (moat_has(in, SECRETSMANAGER_DELETE_SECRET_REQUEST_RECOVERY_WINDOW_IN_DAYS))
        set_key(call, ctx, "secretsmanager:RecoveryWindowInDays",
                moat_slice_cstr(moat_arena_printf(
                    call->arena, "%lld",
                    (long long)moat_get_int(
                        in, SECRETSMANAGER_DELETE_SECRET_REQUEST_RECOVERY_WINDOW_IN_DAYS, 0))));
    return NULL;
}

static struct moat_error *authz_put_policy(struct moat_call *call, const struct moat_value *in,
                                           struct moat_authz *authz)
{
    struct moat_error *err = authz_secret(call, in, authz);
    if (err)
        return err;
    if (moat_has(in, SECRETSMANAGER_PUT_RESOURCE_POLICY_REQUEST_BLOCK_PUBLIC_POLICY))
        set_bool(authorize_context(call), "secretsmanager:BlockPublicPolicy",
                 moat_get_bool(in, SECRETSMANAGER_PUT_RESOURCE_POLICY_REQUEST_BLOCK_PUBLIC_POLICY,
                               false));
    return NULL;
}

static struct moat_error *authz_validate_policy(struct moat_call *call, const struct moat_value *in,
                                                struct moat_authz *authz)
{
    if (!moat_has(in, SECRETSMANAGER_VALIDATE_RESOURCE_POLICY_REQUEST_SECRET_ID))
        return NULL; /* resource "*" */
    return authz_secret(call, in, authz);
}

static struct moat_error *authz_rotate(struct moat_call *call, const struct moat_value *in,
                                       struct moat_authz *authz)
{
    struct moat_error *err = authz_secret(call, in, authz);
    if (err)
        return err;
    struct iam_context *ctx = authorize_context(call);
    if (moat_has(in, SECRETSMANAGER_ROTATE_SECRET_REQUEST_ROTATION_LAMBDA_ARN))
        set_key(call, ctx, "secretsmanager:RotationLambdaARN",
                moat_get_str(in, SECRETSMANAGER_ROTATE_SECRET_REQUEST_ROTATION_LAMBDA_ARN));
    set_bool(ctx, "secretsmanager:ModifyRotationRules",
             moat_has(in, SECRETSMANAGER_ROTATE_SECRET_REQUEST_ROTATION_RULES));
    return NULL;
}

static struct moat_error *authz_tag(struct moat_call *call, const struct moat_value *in,
                                    struct moat_authz *authz)
{
    struct moat_error *err = authz_secret(call, in, authz);
    if (err)
        return err;
    request_tags(call, authorize_context(call),
                 moat_get(in, SECRETSMANAGER_TAG_RESOURCE_REQUEST_TAGS));
    return NULL;
}

static struct moat_error *authz_untag(struct moat_call *call, const struct moat_value *in,
                                      struct moat_authz *authz)
{
    struct moat_error *err = authz_secret(call, in, authz);
    if (err)
        return err;
    const struct moat_value *keys = moat_get(in, SECRETSMANAGER_UNTAG_RESOURCE_REQUEST_TAG_KEYS);
    if (keys && keys->type == MOAT_V_LIST) {
        struct moat_slice *k = moat_arena_calloc(call->arena, (keys->count + 1) * sizeof(*k));
        for (uint32_t i = 0; i < keys->count; i++)
            k[i] = keys->u.items[i]->u.s;
        if (!iam_context_set_multi(authorize_context(call), MOAT_LIT("aws:TagKeys"), k,
                                   keys->count))
            moat_log_warn("secretsmanager: aws:TagKeys not set");
    }
    return NULL;
}

static struct moat_error *authz_replicate(struct moat_call *call, const struct moat_value *in,
                                          struct moat_authz *authz)
{
    struct moat_error *err = authz_secret(call, in, authz);
    if (err)
        return err;
    replica_regions_key(
        call, moat_get(in, SECRETSMANAGER_REPLICATE_SECRET_TO_REGIONS_REQUEST_ADD_REPLICA_REGIONS));
    if (moat_has(in,
                 SECRETSMANAGER_REPLICATE_SECRET_TO_REGIONS_REQUEST_FORCE_OVERWRITE_REPLICA_SECRET))
        set_bool(
            authorize_context(call), "secretsmanager:ForceOverwriteReplicaSecret",
            moat_get_bool(
                in,
                SECRETSMANAGER_REPLICATE_SECRET_TO_REGIONS_REQUEST_FORCE_OVERWRITE_REPLICA_SECRET,
                false));
    return NULL;
}

/* ---- the table ----------------------------------------------------------------------- */

/* Mutating operations log their response with "arn" (sm_audit.c). */
#define OP(op, fn, act, az, fl)                                                                    \
    {                                                                                              \
        .shape = SECRETSMANAGER_OP_##op, .handler = fn, .action = "secretsmanager:" act,           \
        .authz = az, .flags = fl, .audit = (fl)&MOAT_OP_MUTATES ? sm_audit : NULL                  \
    }

static const struct moat_operation sm_operations[] = {
    OP(CREATE_SECRET, sm_create_secret, "CreateSecret", authz_create, MOAT_OP_MUTATES),
    OP(DESCRIBE_SECRET, sm_describe_secret, "DescribeSecret", authz_secret, MOAT_OP_READ_ONLY),
    OP(UPDATE_SECRET, sm_update_secret, "UpdateSecret", authz_update, MOAT_OP_MUTATES),
    OP(DELETE_SECRET, sm_delete_secret, "DeleteSecret", authz_delete, MOAT_OP_MUTATES),
    OP(RESTORE_SECRET, sm_restore_secret, "RestoreSecret", authz_secret, MOAT_OP_MUTATES),
    OP(TAG_RESOURCE, sm_tag_resource, "TagResource", authz_tag, MOAT_OP_MUTATES),
    OP(UNTAG_RESOURCE, sm_untag_resource, "UntagResource", authz_untag, MOAT_OP_MUTATES),
    OP(LIST_SECRETS, sm_list_secrets, "ListSecrets", NULL, MOAT_OP_READ_ONLY),
    OP(GET_SECRET_VALUE, sm_get_secret_value, "GetSecretValue", authz_get_value, MOAT_OP_READ_ONLY),
    OP(BATCH_GET_SECRET_VALUE, sm_batch_get_secret_value, "BatchGetSecretValue", NULL,
       MOAT_OP_READ_ONLY),
    OP(PUT_SECRET_VALUE, sm_put_secret_value, "PutSecretValue", authz_secret, MOAT_OP_MUTATES),
    OP(UPDATE_SECRET_VERSION_STAGE, sm_update_secret_version_stage, "UpdateSecretVersionStage",
       authz_secret, MOAT_OP_MUTATES),
    OP(LIST_SECRET_VERSION_IDS, sm_list_secret_version_ids, "ListSecretVersionIds", authz_secret,
       MOAT_OP_READ_ONLY),
    OP(GET_RANDOM_PASSWORD, sm_get_random_password, "GetRandomPassword", NULL, MOAT_OP_READ_ONLY),
    OP(PUT_RESOURCE_POLICY, sm_put_resource_policy, "PutResourcePolicy", authz_put_policy,
       MOAT_OP_MUTATES),
    OP(GET_RESOURCE_POLICY, sm_get_resource_policy, "GetResourcePolicy", authz_secret,
       MOAT_OP_READ_ONLY),
    OP(DELETE_RESOURCE_POLICY, sm_delete_resource_policy, "DeleteResourcePolicy", authz_secret,
       MOAT_OP_MUTATES),
    OP(VALIDATE_RESOURCE_POLICY, sm_validate_resource_policy, "ValidateResourcePolicy",
       authz_validate_policy, MOAT_OP_READ_ONLY),
    OP(ROTATE_SECRET, sm_rotate_secret, "RotateSecret", authz_rotate, MOAT_OP_MUTATES),
    OP(CANCEL_ROTATE_SECRET, sm_cancel_rotate_secret, "CancelRotateSecret", authz_secret,
       MOAT_OP_MUTATES),
    OP(REPLICATE_SECRET_TO_REGIONS, sm_replicate_secret_to_regions, "ReplicateSecretToRegions",
       authz_replicate, MOAT_OP_MUTATES),
    OP(REMOVE_REGIONS_FROM_REPLICATION, sm_remove_regions_from_replication,
       "RemoveRegionsFromReplication", authz_secret, MOAT_OP_MUTATES),
    OP(STOP_REPLICATION_TO_REPLICA, sm_stop_replication_to_replica, "StopReplicationToReplica",
       authz_secret, MOAT_OP_MUTATES),
};

static bool sm_init(struct moat_server *srv)
{
    MOAT_UNUSED(srv);
    sm_jobs_register();
    return true;
}

const struct moat_service secretsmanager_service = {
    .name = "secretsmanager",
    .event_source = "secretsmanager.amazonaws.com",
    .shapes = &secretsmanager_shapes,
    .operations = sm_operations,
    .operation_count = MOAT_COUNT(sm_operations),
    .validation_error = &sm_validation_exception,
    .access_denied = &sm_access_denied,
    .init = sm_init,
};

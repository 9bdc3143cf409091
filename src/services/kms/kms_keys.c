/* kms_keys.c: the life of a key: CreateKey, DescribeKey, ListKeys, Enable/DisableKey,
 * Schedule/CancelKeyDeletion, UpdateKeyDescription, tags, GetKeyLastUsage and the
 * (empty) list of custom key stores. */
#include "aws/shapes/shapes_kms.h"
#include "core/json.h"
#include "iam/iam_policy.h"
#include "server/server.h"
#include "services/kms/kms.h"
#include "store/store.h"

#include <string.h>

#define DAY_MS (24LL * 3600 * 1000)

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_KeyMetadata.html */
void kms_key_metadata(struct moat_call *call, const struct kms_key *key, struct moat_value *md)
{
    struct moat_arena *a = call->arena;
    moat_set_cstr(a, md, KMS_KEY_METADATA_AWS_ACCOUNT_ID, key->account);
    moat_set_cstr(a, md, KMS_KEY_METADATA_KEY_ID, key->key_id);
    moat_set_cstr(a, md, KMS_KEY_METADATA_ARN, key->arn);
    moat_set_ts(a, md, KMS_KEY_METADATA_CREATION_DATE, key->created_ms);
    moat_set_bool(a, md, KMS_KEY_METADATA_ENABLED, key->state == KMS_STATE_ENABLED);
    moat_set_str(a, md, KMS_KEY_METADATA_DESCRIPTION, key->description);
    moat_set_cstr(a, md, KMS_KEY_METADATA_KEY_USAGE, kms_usage_name(key->usage));
    moat_set_cstr(a, md, KMS_KEY_METADATA_KEY_STATE, kms_state_name(key->state));
    if (key->state == KMS_STATE_PENDING_DELETION && key->deletion_ms)
        moat_set_ts(a, md, KMS_KEY_METADATA_DELETION_DATE, key->deletion_ms);
    bool external = strcmp(key->origin, "EXTERNAL") == 0;
    if (external && key->current && key->expires)
        moat_set_ts(a, md, KMS_KEY_METADATA_VALID_TO, key->valid_to_ms);
    moat_set_cstr(a, md, KMS_KEY_METADATA_ORIGIN, key->origin);
    if (external && key->current)
        moat_set_cstr(a, md, KMS_KEY_METADATA_EXPIRATION_MODEL,
                      key->expires ? "KEY_MATERIAL_EXPIRES" : "KEY_MATERIAL_DOES_NOT_EXPIRE");
    moat_set_cstr(a, md, KMS_KEY_METADATA_KEY_MANAGER, key->aws_managed ? "AWS" : "CUSTOMER");
    moat_set_cstr(a, md, KMS_KEY_METADATA_CUSTOMER_MASTER_KEY_SPEC, key->spec->name);
    moat_set_cstr(a, md, KMS_KEY_METADATA_KEY_SPEC, key->spec->name);
    const char *const *algs = NULL;
    unsigned member = 0;
    switch (key->usage) {
    case KMS_USAGE_ENCRYPT_DECRYPT:
        algs = key->spec->encryption_algorithms;
        member = KMS_KEY_METADATA_ENCRYPTION_ALGORITHMS;
        break;
    case KMS_USAGE_SIGN_VERIFY:
        algs = key->spec->signing_algorithms;
        member = KMS_KEY_METADATA_SIGNING_ALGORITHMS;
        break;
    case KMS_USAGE_GENERATE_VERIFY_MAC:
        algs = key->spec->mac_algorithms;
        member = KMS_KEY_METADATA_MAC_ALGORITHMS;
        break;
    case KMS_USAGE_KEY_AGREEMENT:
        algs = key->spec->key_agreement_algorithms;
        member = KMS_KEY_METADATA_KEY_AGREEMENT_ALGORITHMS;
        break;
    }
    if (algs) {
        struct moat_value *l = moat_set_list(a, md, member);
        for (size_t i = 0; algs[i]; i++)
            moat_list_add_str(a, l, moat_slice_cstr(algs[i]));
    }
    moat_set_bool(a, md, KMS_KEY_METADATA_MULTI_REGION, key->multi_region);
    if (key->multi_region) {
        struct moat_value *mr = moat_set_struct(a, md, KMS_KEY_METADATA_MULTI_REGION_CONFIGURATION);
        moat_set_cstr(a, mr, KMS_MULTI_REGION_CONFIGURATION_MULTI_REGION_KEY_TYPE,
                      key->primary ? "PRIMARY" : "REPLICA");
        struct moat_value *p = moat_set_struct(a, mr, KMS_MULTI_REGION_CONFIGURATION_PRIMARY_KEY);
        moat_set_cstr(a, p, KMS_MULTI_REGION_KEY_ARN,
                      kms_key_arn(a, key->primary_region, key->account, key->key_id));
        moat_set_cstr(a, p, KMS_MULTI_REGION_KEY_REGION, key->primary_region);
        struct moat_value *reps = moat_set_list(a, mr, KMS_MULTI_REGION_CONFIGURATION_REPLICA_KEYS);
        for (size_t i = 0; i < key->replica_count; i++) {
            struct moat_value *r = moat_list_add_struct(a, reps);
            moat_set_cstr(a, r, KMS_MULTI_REGION_KEY_ARN,
                          kms_key_arn(a, key->replicas[i], key->account, key->key_id));
            moat_set_cstr(a, r, KMS_MULTI_REGION_KEY_REGION, key->replicas[i]);
        }
    }
    if (key->state == KMS_STATE_PENDING_REPLICA_DELETION && key->pending_days)
        moat_set_int(a, md, KMS_KEY_METADATA_PENDING_DELETION_WINDOW_IN_DAYS, key->pending_days);
    if (key->usage == KMS_USAGE_ENCRYPT_DECRYPT && key->spec->family == KMS_FAMILY_AES &&
        key->current && !(key->multi_region && external))
        moat_set_cstr(a, md, KMS_KEY_METADATA_CURRENT_KEY_MATERIAL_ID, key->current->id);
}

/* ---- CreateKey -------------------------------------------------------------------- */

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html */
KMS_HANDLER(kms_create_key)
{
    struct moat_arena *a = call->arena;
    if (moat_has(in, KMS_CREATE_KEY_REQUEST_CUSTOM_KEY_STORE_ID))
        return moat_fail(call, &kms_custom_key_store_not_found,
                         "Custom key store ID %.*s does not exist in this account and Region",
                         MOAT_FMT(moat_get_str(in, KMS_CREATE_KEY_REQUEST_CUSTOM_KEY_STORE_ID)));
    struct moat_slice origin = moat_has(in, KMS_CREATE_KEY_REQUEST_ORIGIN)
                                   ? moat_get_str(in, KMS_CREATE_KEY_REQUEST_ORIGIN)
                                   : MOAT_LIT("AWS_KMS");
    if (moat_slice_eq_cstr(origin, "AWS_CLOUDHSM") ||
        moat_slice_eq_cstr(origin, "EXTERNAL_KEY_STORE"))
        return moat_fail(call, &kms_validation_exception,
                         "A KMS key with Origin %.*s needs a CustomKeyStoreId, and this account "
                         "and Region have no custom key stores.",
                         MOAT_FMT(origin));
    if (moat_has(in, KMS_CREATE_KEY_REQUEST_XKS_KEY_ID))
        return moat_fail(call, &kms_validation_exception,
                         "XksKeyId is valid only with Origin EXTERNAL_KEY_STORE.");
    if (moat_has(in, KMS_CREATE_KEY_REQUEST_KEY_SPEC) &&
        moat_has(in, KMS_CREATE_KEY_REQUEST_CUSTOMER_MASTER_KEY_SPEC))
        return moat_fail(
            call, &kms_validation_exception,
            "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. "
            "CustomerMasterKeySpec parameter is deprecated. Use KeySpec instead.");
    struct moat_slice spec_name =
        moat_has(in, KMS_CREATE_KEY_REQUEST_KEY_SPEC)
            ? moat_get_str(in, KMS_CREATE_KEY_REQUEST_KEY_SPEC)
        : moat_has(in, KMS_CREATE_KEY_REQUEST_CUSTOMER_MASTER_KEY_SPEC)
            ? moat_get_str(in, KMS_CREATE_KEY_REQUEST_CUSTOMER_MASTER_KEY_SPEC)
            : MOAT_LIT("SYMMETRIC_DEFAULT");
    const struct kms_spec *spec = kms_spec_find(spec_name);
    if (!spec)
        return moat_internal(call, "validated key spec is unknown");
    if (!spec->supported)
        return moat_fail(call, &kms_unsupported_operation,
                         "KeySpec %s is not supported by this KMS endpoint%s.", spec->name,
                         strcmp(spec->name, "SM2") == 0 ? " (SM2 is offered only in China Regions)"
                                                        : " (its OpenSSL has no ML-DSA)");
    enum kms_usage usage = KMS_USAGE_ENCRYPT_DECRYPT;
    if (moat_has(in, KMS_CREATE_KEY_REQUEST_KEY_USAGE)) {
        (void)kms_usage_parse(moat_get_str(in, KMS_CREATE_KEY_REQUEST_KEY_USAGE), &usage);
    } else if (spec->family != KMS_FAMILY_AES) {
        if (spec->family == KMS_FAMILY_HMAC)
            usage = KMS_USAGE_GENERATE_VERIFY_MAC;
        else
            return moat_fail(call, &kms_validation_exception,
                             "You must specify a KeyUsage value for an asymmetric KMS key with "
                             "KeySpec %s.",
                             spec->name);
    }
    if (!(spec->usages & (1u << usage)))
        return moat_fail(call, &kms_validation_exception,
                         "KeyUsage %s is not compatible with KeySpec %s", kms_usage_name(usage),
                         spec->name);
    bool external = moat_slice_eq_cstr(origin, "EXTERNAL");
    bool mr = moat_get_bool(in, KMS_CREATE_KEY_REQUEST_MULTI_REGION, false);
    char key_id[40];
    kms_new_key_id(key_id, mr);
    const char *arn = kms_key_arn(a, call->region, call->account_id, key_id);

    struct moat_slice policy = moat_has(in, KMS_CREATE_KEY_REQUEST_POLICY)
                                   ? moat_get_str(in, KMS_CREATE_KEY_REQUEST_POLICY)
                                   : kms_default_policy(a, call->account_id);
    struct iam_policy *compiled = NULL;
    struct moat_error *err = kms_policy_compile(call, policy, &compiled);
    if (err)
        return err;
    /* The check applies to a policy the caller wrote, not to the default one. */
    if (moat_has(in, KMS_CREATE_KEY_REQUEST_POLICY) &&
        !moat_get_bool(in, KMS_CREATE_KEY_REQUEST_BYPASS_POLICY_LOCKOUT_SAFETY_CHECK, false))
        err = kms_policy_lockout_check(call, compiled, arn, call->account_id);
    iam_policy_unref(compiled);
    if (err)
        return err;

    struct kms_key key;
    memset(&key, 0, sizeof(key));
    key.doc = kms_doc_new(call, key_id, call->account_id, call->region, spec, usage,
                          external ? "EXTERNAL" : "AWS_KMS", false,
                          moat_get_str(in, KMS_CREATE_KEY_REQUEST_DESCRIPTION), policy, mr);
    key.account = call->account_id;
    key.region = call->region;
    key.key_id = key_id;
    err = kms_doc_put_tags(call, key.doc, moat_get(in, KMS_CREATE_KEY_REQUEST_TAGS));
    if (err)
        return err;
    if (!external) {
        struct moat_slice secret;
        if (!kms_crypto_generate(a, spec, &secret))
            return moat_internal(call, "key generation failed");
        kms_material_add(call, &key, secret, NULL, false, 0, true);
    }
    err = kms_key_save(call, &key);
    if (err)
        return err;
    moat_call_add_resource(call, "AWS::KMS::Key", key.arn);
    kms_key_metadata(call, &key, moat_set_struct(a, out, KMS_CREATE_KEY_RESPONSE_KEY_METADATA));
    return NULL;
}

/* ---- reading keys ----------------------------------------------------------------- */

KMS_HANDLER(kms_describe_key)
{
    struct kms_call *st = kms_call_state(call);
    kms_key_metadata(call, st->key,
                     moat_set_struct(call->arena, out, KMS_DESCRIBE_KEY_RESPONSE_KEY_METADATA));
    return NULL;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeys.html */
KMS_HANDLER(kms_list_keys)
{
    struct moat_arena *a = call->arena;
    int64_t limit = moat_get_int(in, KMS_LIST_KEYS_REQUEST_LIMIT, 100);
    struct moat_slice after;
    struct moat_error *err = kms_marker_decode(call, in, KMS_LIST_KEYS_REQUEST_MARKER, &after);
    if (err)
        return err;
    struct moat_slice prefix =
        moat_slice_cstr(moat_arena_printf(a, "%s/%s/", call->account_id, call->region));
    struct store_record *recs;
    size_t n;
    bool more;
    if (store_scan(call->db, a, KMS_NS_KEY, prefix, after, (size_t)limit, &recs, &n, &more) !=
        STORE_OK)
        return moat_internal(call, "store scan of KMS keys failed");
    struct moat_value *list = moat_set_list(a, out, KMS_LIST_KEYS_RESPONSE_KEYS);
    for (size_t i = 0; i < n; i++) {
        struct moat_slice id = moat_slice_sub(recs[i].key, prefix.len, recs[i].key.len);
        struct moat_value *e = moat_list_add_struct(a, list);
        moat_set_str(a, e, KMS_KEY_LIST_ENTRY_KEY_ID, id);
        moat_set_cstr(a, e, KMS_KEY_LIST_ENTRY_KEY_ARN,
                      kms_key_arn(a, call->region, call->account_id, moat_arena_cstr(a, id)));
    }
    moat_set_bool(a, out, KMS_LIST_KEYS_RESPONSE_TRUNCATED, more);
    if (more && n)
        moat_set_str(a, out, KMS_LIST_KEYS_RESPONSE_NEXT_MARKER,
                     kms_marker_encode(a, recs[n - 1].key));
    return NULL;
}

/* ---- state changes ------------------------------------------------------------------ */

/* Reads the call's key for an update (inside the writer's transaction). */
static struct moat_error *read_key(struct moat_call *call, struct kms_key *key)
{
    struct kms_call *st = kms_call_state(call);
    return kms_key_read(call, st->ref.account, st->ref.region, st->ref.key_id, key);
}

static struct moat_error *set_state(struct moat_call *call, struct kms_key *key,
                                    enum kms_state state)
{
    moat_map_set_cstr(call->arena, key->doc, "State", kms_state_name(state));
    return kms_key_save(call, key);
}

static struct moat_error *refuse_import_pending(struct moat_call *call, const struct kms_key *key)
{
    if (key->state == KMS_STATE_PENDING_IMPORT)
        return kms_state_error(call, key);
    return kms_require_not_pending(call, key, false);
}

KMS_HANDLER(kms_enable_key)
{
    struct kms_key key;
    struct moat_error *err = read_key(call, &key);
    if (!err)
        err = refuse_import_pending(call, &key);
    if (err)
        return err;
    return key.state == KMS_STATE_ENABLED ? NULL : set_state(call, &key, KMS_STATE_ENABLED);
}

KMS_HANDLER(kms_disable_key)
{
    struct kms_key key;
    struct moat_error *err = read_key(call, &key);
    if (!err)
        err = refuse_import_pending(call, &key);
    if (err)
        return err;
    return key.state == KMS_STATE_DISABLED ? NULL : set_state(call, &key, KMS_STATE_DISABLED);
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html */
KMS_HANDLER(kms_schedule_key_deletion)
{
    struct moat_arena *a = call->arena;
    int64_t days = moat_get_int(in, KMS_SCHEDULE_KEY_DELETION_REQUEST_PENDING_WINDOW_IN_DAYS, 30);
    if (days < 7 || days > 30)
        return moat_fail(call, &kms_validation_exception,
                         "1 validation error detected: Value '%lld' at 'pendingWindowInDays' "
                         "failed to satisfy constraint: Member must have value %s",
                         (long long)days,
                         days < 7 ? "greater than or equal to 7" : "less than or equal to 30");
    struct kms_key key;
    struct moat_error *err = read_key(call, &key);
    if (!err)
        err = kms_require_not_pending(call, &key, false);
    if (err)
        return err;
    int64_t when = call->now_ms + days * DAY_MS;
    bool replicas_first = key.multi_region && key.primary && key.replica_count > 0;
    moat_map_set_cstr(a, key.doc, "State",
                      kms_state_name(replicas_first ? KMS_STATE_PENDING_REPLICA_DELETION
                                                    : KMS_STATE_PENDING_DELETION));
    moat_map_set_cstr(a, key.doc, "StateBeforeDeletion", kms_state_name(key.state));
    kms_doc_set_int(a, key.doc, "PendingWindowDays", days);
    if (!replicas_first)
        kms_doc_set_int(a, key.doc, "DeletionDate", when);
    err = kms_key_save(call, &key);
    if (err)
        return err;
    moat_set_cstr(a, out, KMS_SCHEDULE_KEY_DELETION_RESPONSE_KEY_ID, key.arn);
    if (!replicas_first)
        moat_set_ts(a, out, KMS_SCHEDULE_KEY_DELETION_RESPONSE_DELETION_DATE, when);
    moat_set_cstr(a, out, KMS_SCHEDULE_KEY_DELETION_RESPONSE_KEY_STATE, kms_state_name(key.state));
    moat_set_int(a, out, KMS_SCHEDULE_KEY_DELETION_RESPONSE_PENDING_WINDOW_IN_DAYS, days);
    return NULL;
}

/* CancelKeyDeletion leaves the key Disabled, as AWS does. */
KMS_HANDLER(kms_cancel_key_deletion)
{
    struct kms_key key;
    struct moat_error *err = read_key(call, &key);
    if (err)
        return err;
    if (key.state != KMS_STATE_PENDING_DELETION && key.state != KMS_STATE_PENDING_REPLICA_DELETION)
        return moat_fail(call, &kms_invalid_state, "%s is not pending deletion.", key.arn);
    kms_doc_remove(key.doc, "DeletionDate");
    kms_doc_remove(key.doc, "PendingWindowDays");
    bool imported_missing = strcmp(key.origin, "EXTERNAL") == 0 && !key.current;
    kms_doc_remove(key.doc, "StateBeforeDeletion");
    err = set_state(call, &key, imported_missing ? KMS_STATE_PENDING_IMPORT : KMS_STATE_DISABLED);
    if (err)
        return err;
    moat_set_cstr(call->arena, out, KMS_CANCEL_KEY_DELETION_RESPONSE_KEY_ID, key.arn);
    return NULL;
}

KMS_HANDLER(kms_update_key_description)
{
    struct kms_key key;
    struct moat_error *err = read_key(call, &key);
    if (!err)
        err = kms_require_not_pending(call, &key, false);
    if (err)
        return err;
    kms_doc_set_str(call->arena, key.doc, "Description",
                    moat_get_str(in, KMS_UPDATE_KEY_DESCRIPTION_REQUEST_DESCRIPTION));
    return kms_key_save(call, &key);
}

/* ---- tags -------------------------------------------------------------------------------- */

KMS_HANDLER(kms_tag_resource)
{
    struct kms_key key;
    struct moat_error *err = read_key(call, &key);
    if (!err)
        err = kms_require_not_pending(call, &key, false);
    if (!err)
        err = kms_doc_put_tags(call, key.doc, moat_get(in, KMS_TAG_RESOURCE_REQUEST_TAGS));
    if (err)
        return err;
    return kms_key_save(call, &key);
}

KMS_HANDLER(kms_untag_resource)
{
    struct kms_key key;
    struct moat_error *err = read_key(call, &key);
    if (!err)
        err = kms_require_not_pending(call, &key, false);
    if (err)
        return err;
    const struct moat_value *keys = moat_get(in, KMS_UNTAG_RESOURCE_REQUEST_TAG_KEYS);
    struct moat_value *tags = moat_map_get(key.doc, "Tags");
    for (uint32_t i = 0; keys && tags && i < keys->count; i++) {
        for (uint32_t j = 0; j < tags->count; j++) {
            if (moat_slice_eq(moat_map_str(tags->u.items[j], "K"), keys->u.items[i]->u.s)) {
                memmove(&tags->u.items[j], &tags->u.items[j + 1],
                        (tags->count - j - 1) * sizeof(*tags->u.items));
                tags->count--;
                break;
            }
        }
    }
    return kms_key_save(call, &key);
}

KMS_HANDLER(kms_list_resource_tags)
{
    struct moat_arena *a = call->arena;
    const struct kms_key *key = kms_call_state(call)->key;
    int64_t limit = moat_get_int(in, KMS_LIST_RESOURCE_TAGS_REQUEST_LIMIT, 50);
    if (limit > 50)
        limit = 50;
    struct moat_slice after;
    struct moat_error *err =
        kms_marker_decode(call, in, KMS_LIST_RESOURCE_TAGS_REQUEST_MARKER, &after);
    if (err)
        return err;
    uint64_t start = 0;
    if (after.len && !moat_slice_to_u64(after, &start))
        return moat_fail(call, &kms_invalid_marker, "Invalid marker");
    struct moat_value *list = moat_set_list(a, out, KMS_LIST_RESOURCE_TAGS_RESPONSE_TAGS);
    size_t i = (size_t)start;
    for (; i < key->tag_count && (int64_t)list->count < limit; i++) {
        struct moat_value *t = moat_list_add_struct(a, list);
        moat_set_str(a, t, KMS_TAG_TAG_KEY, key->tags[i].key);
        moat_set_str(a, t, KMS_TAG_TAG_VALUE, key->tags[i].value);
    }
    bool more = i < key->tag_count;
    moat_set_bool(a, out, KMS_LIST_RESOURCE_TAGS_RESPONSE_TRUNCATED, more);
    if (more)
        moat_set_str(a, out, KMS_LIST_RESOURCE_TAGS_RESPONSE_NEXT_MARKER,
                     kms_marker_encode(a, moat_slice_cstr(moat_arena_printf(a, "%zu", i))));
    return NULL;
}

/* ---- custom key stores and usage ------------------------------------------------------ */

/* moat has no CloudHSM or external key stores: the list is empty and any named store
 * does not exist. */
KMS_HANDLER(kms_describe_custom_key_stores)
{
    if (moat_has(in, KMS_DESCRIBE_CUSTOM_KEY_STORES_REQUEST_CUSTOM_KEY_STORE_ID))
        return moat_fail(
            call, &kms_custom_key_store_not_found,
            "Custom key store ID %.*s does not exist in this account and Region",
            MOAT_FMT(moat_get_str(in, KMS_DESCRIBE_CUSTOM_KEY_STORES_REQUEST_CUSTOM_KEY_STORE_ID)));
    if (moat_has(in, KMS_DESCRIBE_CUSTOM_KEY_STORES_REQUEST_CUSTOM_KEY_STORE_NAME))
        return moat_fail(call, &kms_custom_key_store_not_found,
                         "Custom key store name %.*s does not exist in this account and Region",
                         MOAT_FMT(moat_get_str(
                             in, KMS_DESCRIBE_CUSTOM_KEY_STORES_REQUEST_CUSTOM_KEY_STORE_NAME)));
    struct moat_slice after;
    struct moat_error *err =
        kms_marker_decode(call, in, KMS_DESCRIBE_CUSTOM_KEY_STORES_REQUEST_MARKER, &after);
    if (err)
        return err;
    moat_set_list(call->arena, out, KMS_DESCRIBE_CUSTOM_KEY_STORES_RESPONSE_CUSTOM_KEY_STORES);
    moat_set_bool(call->arena, out, KMS_DESCRIBE_CUSTOM_KEY_STORES_RESPONSE_TRUNCATED, false);
    return NULL;
}

/* GetKeyLastUsage: the newest successful cryptographic call on the key, read from the
 * CloudTrail log moat keeps.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyLastUsage.html */
KMS_HANDLER(kms_get_key_last_usage)
{
    static const char *const tracked[] = {"Decrypt",
                                          "DeriveSharedSecret",
                                          "Encrypt",
                                          "GenerateDataKey",
                                          "GenerateDataKeyPair",
                                          "GenerateDataKeyPairWithoutPlaintext",
                                          "GenerateDataKeyWithoutPlaintext",
                                          "GenerateMac",
                                          "ReEncrypt",
                                          "Sign",
                                          "Verify",
                                          "VerifyMac",
                                          NULL};
    struct moat_arena *a = call->arena;
    const struct kms_key *key = kms_call_state(call)->key;
    moat_set_cstr(a, out, KMS_GET_KEY_LAST_USAGE_RESPONSE_KEY_ID, key->key_id);
    moat_set_ts(a, out, KMS_GET_KEY_LAST_USAGE_RESPONSE_TRACKING_START_DATE, key->created_ms);
    moat_set_ts(a, out, KMS_GET_KEY_LAST_USAGE_RESPONSE_KEY_CREATION_DATE, key->created_ms);
    struct store_audit_query q;
    memset(&q, 0, sizeof(q));
    q.account_id = moat_slice_cstr(key->account);
    q.start_ms = key->created_ms - 1000;
    q.end_ms = INT64_MAX;
    q.attr = STORE_AUDIT_RESOURCE_NAME;
    q.value = moat_slice_cstr(key->arn);
    q.limit = 50;
    for (int page = 0; page < 20; page++) {
        struct store_audit_row *rows;
        size_t n;
        if (store_audit_lookup(call->db, a, &q, &rows, &n) != STORE_OK)
            return moat_internal(call, "audit lookup failed");
        for (size_t i = 0; i < n; i++) {
            struct moat_value *rec;
            if (!moat_json_parse(a, rows[i].record, 0, &rec, NULL))
                continue;
            struct moat_slice name = moat_map_str(rec, "eventName");
            if (moat_map_get(rec, "errorCode") || !kms_alg_in(tracked, name))
                continue;
            struct moat_value *u =
                moat_set_struct(a, out, KMS_GET_KEY_LAST_USAGE_RESPONSE_KEY_LAST_USAGE);
            moat_set_str(a, u, KMS_KEY_LAST_USAGE_DATA_OPERATION, name);
            moat_set_ts(a, u, KMS_KEY_LAST_USAGE_DATA_TIMESTAMP, rows[i].event_time_ms);
            moat_set_str(a, u, KMS_KEY_LAST_USAGE_DATA_CLOUD_TRAIL_EVENT_ID,
                         moat_map_str(rec, "eventID"));
            moat_set_str(a, u, KMS_KEY_LAST_USAGE_DATA_KMS_REQUEST_ID,
                         moat_map_str(rec, "requestID"));
            return NULL;
        }
        if (n < q.limit)
            break;
        q.before_seq = rows[n - 1].seq;
    }
    return NULL;
}

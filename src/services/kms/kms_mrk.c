/* kms_mrk.c: multi-Region keys: ReplicateKey and UpdatePrimaryRegion. Every copy has
 * the same key id and key material, so a ciphertext made in one Region decrypts in the
 * others; each copy has its own policy, tags, aliases and state.
 * https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html */
#include "aws/shapes/shapes_kms.h"
#include "iam/iam_policy.h"
#include "server/server.h"
#include "services/kms/kms.h"
#include "store/store.h"

#include <string.h>

static struct moat_value *region_list(struct moat_call *call, const char *const *regions, size_t n,
                                      const char *skip, const char *add)
{
    struct moat_value *l = moat_value_list(call->arena);
    for (size_t i = 0; i < n; i++)
        if (!skip || strcmp(regions[i], skip) != 0)
            moat_list_push(call->arena, l, moat_value_cstring(call->arena, regions[i]));
    if (add)
        moat_list_push(call->arena, l, moat_value_cstring(call->arena, add));
    return l;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_ReplicateKey.html */
KMS_HANDLER(kms_replicate_key)
{
    struct moat_arena *a = call->arena;
    struct kms_call *st = kms_call_state(call);
    struct kms_key key;
    struct moat_error *err =
        kms_key_read(call, st->ref.account, st->ref.region, st->ref.key_id, &key);
    if (!err)
        err = kms_require_not_pending(call, &key, false);
    if (err)
        return err;
    if (!key.multi_region)
        return moat_fail(call, &kms_unsupported_operation,
                         "%s is not a multi-Region key; only multi-Region keys can be "
                         "replicated.",
                         key.arn);
    if (!key.primary)
        return moat_fail(call, &kms_unsupported_operation,
                         "%s is a replica key; replicate the primary key in %s.", key.arn,
                         key.primary_region);
    const char *region = moat_get_cstr(a, in, KMS_REPLICATE_KEY_REQUEST_REPLICA_REGION);
    if (strcmp(region, key.region) == 0)
        return moat_fail(call, &kms_validation_exception,
                         "The replica Region %s is the Region of the primary key.", region);
    for (size_t i = 0; i < key.replica_count; i++)
        if (strcmp(key.replicas[i], region) == 0)
            return moat_fail(call, &kms_already_exists,
                             "Multi-Region key %s already has a replica in %s.", key.key_id,
                             region);
    const char *replica_arn = kms_key_arn(a, region, key.account, key.key_id);
    struct moat_slice policy = moat_has(in, KMS_REPLICATE_KEY_REQUEST_POLICY)
                                   ? moat_get_str(in, KMS_REPLICATE_KEY_REQUEST_POLICY)
                                   : kms_default_policy(a, key.account);
    struct iam_policy *compiled = NULL;
    err = kms_policy_compile(call, policy, &compiled);
    if (err)
        return err;
    if (moat_has(in, KMS_REPLICATE_KEY_REQUEST_POLICY) &&
        !moat_get_bool(in, KMS_REPLICATE_KEY_REQUEST_BYPASS_POLICY_LOCKOUT_SAFETY_CHECK, false))
        err = kms_policy_lockout_check(call, compiled, replica_arn, key.account);
    iam_policy_unref(compiled);
    if (err)
        return err;

    struct kms_key rep;
    memset(&rep, 0, sizeof(rep));
    rep.account = key.account;
    rep.region = region;
    rep.key_id = key.key_id;
    rep.doc =
        kms_doc_new(call, key.key_id, key.account, region, key.spec, key.usage, key.origin, false,
                    moat_get_str(in, KMS_REPLICATE_KEY_REQUEST_DESCRIPTION), policy, true);
    moat_map_set_cstr(a, rep.doc, "PrimaryRegion", key.region);
    moat_map_set(a, rep.doc, MOAT_LIT("Replicas"),
                 region_list(call, key.replicas, key.replica_count, NULL, region));
    struct moat_value *mats = moat_map_get(key.doc, "Materials");
    if (mats)
        moat_map_set(a, rep.doc, MOAT_LIT("Materials"), mats);
    if (moat_map_get(key.doc, "Current"))
        moat_map_set(a, rep.doc, MOAT_LIT("Current"), moat_map_get(key.doc, "Current"));
    if (moat_map_get(key.doc, "Rotation"))
        moat_map_set(a, rep.doc, MOAT_LIT("Rotation"), moat_map_get(key.doc, "Rotation"));
    /* A replica starts in the primary's state; imported material is imported per copy. */
    const char *state = strcmp(key.origin, "EXTERNAL") == 0 ? "PendingImport"
                        : key.state == KMS_STATE_DISABLED   ? "Disabled"
                                                            : "Enabled";
    if (strcmp(key.origin, "EXTERNAL") == 0) {
        moat_map_set(a, rep.doc, MOAT_LIT("Materials"), moat_value_list(a));
        kms_doc_remove(rep.doc, "Current");
    }
    moat_map_set_cstr(a, rep.doc, "State", state);
    err = kms_doc_put_tags(call, rep.doc, moat_get(in, KMS_REPLICATE_KEY_REQUEST_TAGS));
    if (!err)
        err = kms_key_save(call, &rep);
    if (err)
        return err;
    /* every other copy learns of the new replica */
    moat_map_set(a, key.doc, MOAT_LIT("Replicas"),
                 region_list(call, key.replicas, key.replica_count, NULL, region));
    for (size_t i = 0; i < key.replica_count; i++) {
        struct kms_key other;
        err = kms_key_read(call, key.account, key.replicas[i], key.key_id, &other);
        if (err)
            return err;
        moat_map_set(a, other.doc, MOAT_LIT("Replicas"),
                     region_list(call, key.replicas, key.replica_count, NULL, region));
        err = kms_key_save(call, &other);
        if (err)
            return err;
    }
    err = kms_key_save(call, &key);
    if (err)
        return err;
    moat_call_add_resource(call, "AWS::KMS::Key", rep.arn);
    kms_key_metadata(call, &rep,
                     moat_set_struct(a, out, KMS_REPLICATE_KEY_RESPONSE_REPLICA_KEY_METADATA));
    moat_set_str(a, out, KMS_REPLICATE_KEY_RESPONSE_REPLICA_POLICY, policy);
    struct moat_value *tags = moat_set_list(a, out, KMS_REPLICATE_KEY_RESPONSE_REPLICA_TAGS);
    for (size_t i = 0; i < rep.tag_count; i++) {
        struct moat_value *t = moat_list_add_struct(a, tags);
        moat_set_str(a, t, KMS_TAG_TAG_KEY, rep.tags[i].key);
        moat_set_str(a, t, KMS_TAG_TAG_VALUE, rep.tags[i].value);
    }
    return NULL;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdatePrimaryRegion.html */
KMS_HANDLER(kms_update_primary_region)
{
    struct moat_arena *a = call->arena;
    struct kms_call *st = kms_call_state(call);
    struct kms_key key;
    struct moat_error *err =
        kms_key_read(call, st->ref.account, st->ref.region, st->ref.key_id, &key);
    if (!err)
        err = kms_require_not_pending(call, &key, false);
    if (err)
        return err;
    if (!key.multi_region)
        return moat_fail(call, &kms_unsupported_operation, "%s is not a multi-Region key.",
                         key.arn);
    if (!key.primary)
        return moat_fail(call, &kms_unsupported_operation,
                         "%s is not the primary key; call UpdatePrimaryRegion in %s.", key.arn,
                         key.primary_region);
    const char *region = moat_get_cstr(a, in, KMS_UPDATE_PRIMARY_REGION_REQUEST_PRIMARY_REGION);
    if (strcmp(region, key.region) == 0)
        return NULL;
    bool found = false;
    for (size_t i = 0; i < key.replica_count; i++)
        if (strcmp(key.replicas[i], region) == 0)
            found = true;
    if (!found)
        return moat_fail(call, &kms_not_found, "Key '%s' does not exist",
                         kms_key_arn(a, region, key.account, key.key_id));
    /* the old primary becomes a replica; the replica in `region` the primary */
    const char **all = moat_arena_alloc(a, (key.replica_count + 1) * sizeof(*all));
    size_t n = 0;
    all[n++] = key.region;
    for (size_t i = 0; i < key.replica_count; i++)
        all[n++] = key.replicas[i];
    for (size_t i = 0; i < n; i++) {
        struct kms_key copy;
        err = i == 0 ? NULL : kms_key_read(call, key.account, all[i], key.key_id, &copy);
        if (err)
            return err;
        struct kms_key *k = i == 0 ? &key : &copy;
        moat_map_set_cstr(a, k->doc, "PrimaryRegion", region);
        moat_map_set(a, k->doc, MOAT_LIT("Replicas"), region_list(call, all, n, region, NULL));
        err = kms_key_save(call, k);
        if (err)
            return err;
    }
    return NULL;
}

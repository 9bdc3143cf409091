/* kms_rotation.c: rotation of symmetric key material: Enable/DisableKeyRotation,
 * GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations and the rotation step the
 * scheduler also uses. Old material stays, so old ciphertexts keep decrypting.
 * https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html */
#include "aws/shapes/shapes_kms.h"
#include "server/server.h"
#include "services/kms/kms.h"

#include <string.h>

#define DAY_MS (24LL * 3600 * 1000)
#define ON_DEMAND_LIMIT 10

/* Rotation is for symmetric encryption keys with KMS-made material, managed from the
 * primary of a multi-Region key. */
static struct moat_error *rotatable(struct moat_call *call, const struct kms_key *key)
{
    if (key->spec->family != KMS_FAMILY_AES || strcmp(key->origin, "AWS_KMS") != 0)
        return moat_fail(call, &kms_unsupported_operation,
                         "%s does not support automatic key rotation: only symmetric encryption "
                         "KMS keys with key material that KMS generated can rotate.",
                         key->arn);
    if (key->multi_region && !key->primary)
        return moat_fail(call, &kms_unsupported_operation,
                         "%s is a multi-Region replica key; rotate its primary key in %s.",
                         key->arn, key->primary_region);
    return NULL;
}

static struct moat_value *rotation_doc(struct moat_call *call, struct kms_key *key)
{
    struct moat_value *rot = moat_map_get(key->doc, "Rotation");
    if (!rot || rot->type != MOAT_V_MAP) {
        rot = moat_value_map(call->arena);
        moat_map_set(call->arena, key->doc, MOAT_LIT("Rotation"), rot);
    }
    return rot;
}

/* Writes a change of the rotation settings to every copy of a multi-Region key. */
static struct moat_error *sync_replicas(struct moat_call *call, struct kms_key *key,
                                        const char *material_id)
{
    for (size_t i = 0; key->multi_region && i < key->replica_count; i++) {
        struct kms_key rep;
        struct moat_error *err =
            kms_key_read(call, key->account, key->replicas[i], key->key_id, &rep);
        if (err)
            return err;
        moat_map_set(call->arena, rep.doc, MOAT_LIT("Rotation"),
                     moat_map_get(key->doc, "Rotation"));
        if (material_id) {
            struct moat_value *mats = moat_map_get(key->doc, "Materials");
            struct moat_value *rmats = moat_map_get(rep.doc, "Materials");
            if (mats && rmats && mats->count)
                moat_list_push(call->arena, rmats, mats->u.items[mats->count - 1]);
            moat_map_set_cstr(call->arena, rep.doc, "Current", material_id);
        }
        err = kms_key_save(call, &rep);
        if (err)
            return err;
    }
    return NULL;
}

struct moat_error *kms_key_rotate(struct moat_call *call, struct kms_key *key,
                                  const char *rotation_type)
{
    struct moat_slice secret;
    if (!kms_crypto_generate(call->arena, key->spec, &secret))
        return moat_internal(call, "key generation failed");
    const char *id = kms_material_add(call, key, secret, rotation_type, false, 0, true);
    struct moat_value *rot = rotation_doc(call, key);
    if (key->rotation_enabled && strcmp(rotation_type, "AUTOMATIC") == 0)
        kms_doc_set_int(call->arena, rot, "Next",
                        call->now_ms + (int64_t)key->rotation_days * DAY_MS);
    kms_doc_set_int(call->arena, rot, "Last", call->now_ms);
    struct moat_error *err = sync_replicas(call, key, id);
    if (err)
        return err;
    return kms_key_save(call, key);
}

static struct moat_error *read_for_rotation(struct moat_call *call, struct kms_key *key)
{
    struct kms_call *st = kms_call_state(call);
    struct moat_error *err =
        kms_key_read(call, st->ref.account, st->ref.region, st->ref.key_id, key);
    if (!err)
        err = rotatable(call, key);
    if (!err && key->state != KMS_STATE_ENABLED)
        err = kms_state_error(call, key);
    return err;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html */
KMS_HANDLER(kms_enable_key_rotation)
{
    struct kms_key key;
    struct moat_error *err = read_for_rotation(call, &key);
    if (err)
        return err;
    int64_t days = moat_get_int(in, KMS_ENABLE_KEY_ROTATION_REQUEST_ROTATION_PERIOD_IN_DAYS, 365);
    struct moat_value *rot = rotation_doc(call, &key);
    int64_t next;
    if (key.rotation_enabled) {
        int64_t base = moat_map_int(rot, "Last", key.created_ms);
        next = base + days * DAY_MS;
        if (next < call->now_ms)
            next = call->now_ms;
    } else {
        next = call->now_ms + days * DAY_MS;
    }
    moat_map_set_bool(call->arena, rot, "Enabled", true);
    kms_doc_set_int(call->arena, rot, "PeriodDays", days);
    kms_doc_set_int(call->arena, rot, "Next", next);
    err = sync_replicas(call, &key, NULL);
    if (err)
        return err;
    return kms_key_save(call, &key);
}

KMS_HANDLER(kms_disable_key_rotation)
{
    struct kms_key key;
    struct moat_error *err = read_for_rotation(call, &key);
    if (err)
        return err;
    struct moat_value *rot = rotation_doc(call, &key);
    moat_map_set_bool(call->arena, rot, "Enabled", false);
    kms_doc_remove(rot, "Next");
    err = sync_replicas(call, &key, NULL);
    if (err)
        return err;
    return kms_key_save(call, &key);
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyRotationStatus.html */
KMS_HANDLER(kms_get_key_rotation_status)
{
    struct moat_arena *a = call->arena;
    const struct kms_key *key = kms_call_state(call)->key;
    if (key->spec->family != KMS_FAMILY_AES)
        return moat_fail(call, &kms_unsupported_operation,
                         "%s does not support automatic key rotation.", key->arn);
    struct moat_error *err = kms_require_not_pending(call, key, false);
    if (err)
        return err;
    moat_set_bool(a, out, KMS_GET_KEY_ROTATION_STATUS_RESPONSE_KEY_ROTATION_ENABLED,
                  key->rotation_enabled);
    moat_set_cstr(a, out, KMS_GET_KEY_ROTATION_STATUS_RESPONSE_KEY_ID, key->arn);
    if (key->rotation_enabled) {
        moat_set_int(a, out, KMS_GET_KEY_ROTATION_STATUS_RESPONSE_ROTATION_PERIOD_IN_DAYS,
                     key->rotation_days);
        moat_set_ts(a, out, KMS_GET_KEY_ROTATION_STATUS_RESPONSE_NEXT_ROTATION_DATE,
                    key->next_rotation_ms);
    }
    return NULL;
}

/* On-demand rotation completes at once here (AWS finishes it in the background). */
KMS_HANDLER(kms_rotate_key_on_demand)
{
    struct kms_key key;
    struct moat_error *err = read_for_rotation(call, &key);
    if (err)
        return err;
    size_t on_demand = 0;
    for (size_t i = 0; i < key.material_count; i++)
        if (moat_slice_eq_cstr(key.materials[i].rotation_type, "ON_DEMAND"))
            on_demand++;
    if (on_demand >= ON_DEMAND_LIMIT)
        return moat_fail(call, &kms_limit_exceeded,
                         "%s has reached the limit of %d on-demand rotations.", key.arn,
                         ON_DEMAND_LIMIT);
    err = kms_key_rotate(call, &key, "ON_DEMAND");
    if (err)
        return err;
    moat_set_cstr(call->arena, out, KMS_ROTATE_KEY_ON_DEMAND_RESPONSE_KEY_ID, key.key_id);
    return NULL;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeyRotations.html */
KMS_HANDLER(kms_list_key_rotations)
{
    struct moat_arena *a = call->arena;
    const struct kms_key *key = kms_call_state(call)->key;
    if (key->spec->family != KMS_FAMILY_AES)
        return moat_fail(call, &kms_unsupported_operation, "%s does not support key rotation.",
                         key->arn);
    bool all = moat_slice_eq_cstr(
        moat_get_str(in, KMS_LIST_KEY_ROTATIONS_REQUEST_INCLUDE_KEY_MATERIAL), "ALL_KEY_MATERIAL");
    int64_t limit = moat_get_int(in, KMS_LIST_KEY_ROTATIONS_REQUEST_LIMIT, 100);
    struct moat_slice after;
    struct moat_error *err =
        kms_marker_decode(call, in, KMS_LIST_KEY_ROTATIONS_REQUEST_MARKER, &after);
    if (err)
        return err;
    uint64_t start = 0;
    if (after.len && !moat_slice_to_u64(after, &start))
        return moat_fail(call, &kms_invalid_marker, "Invalid marker");
    struct moat_value *list = moat_set_list(a, out, KMS_LIST_KEY_ROTATIONS_RESPONSE_ROTATIONS);
    size_t i = (size_t)start;
    for (; i < key->material_count && (int64_t)list->count < limit; i++) {
        const struct kms_material *m = &key->materials[i];
        if (!m->rotation_type.len && !all)
            continue;
        struct moat_value *e = moat_list_add_struct(a, list);
        moat_set_cstr(a, e, KMS_ROTATIONS_LIST_ENTRY_KEY_ID, key->key_id);
        moat_set_cstr(a, e, KMS_ROTATIONS_LIST_ENTRY_KEY_MATERIAL_ID, m->id);
        moat_set_cstr(a, e, KMS_ROTATIONS_LIST_ENTRY_KEY_MATERIAL_STATE,
                      m == key->current ? "CURRENT" : "NON_CURRENT");
        if (m->imported) {
            moat_set_cstr(a, e, KMS_ROTATIONS_LIST_ENTRY_IMPORT_STATE,
                          m->present ? "IMPORTED" : "PENDING_IMPORT");
            moat_set_cstr(a, e, KMS_ROTATIONS_LIST_ENTRY_EXPIRATION_MODEL,
                          m->valid_to_ms ? "KEY_MATERIAL_EXPIRES" : "KEY_MATERIAL_DOES_NOT_EXPIRE");
            if (m->valid_to_ms)
                moat_set_ts(a, e, KMS_ROTATIONS_LIST_ENTRY_VALID_TO, m->valid_to_ms);
        }
        if (m->rotation_type.len) {
            moat_set_ts(a, e, KMS_ROTATIONS_LIST_ENTRY_ROTATION_DATE, m->created_ms);
            moat_set_str(a, e, KMS_ROTATIONS_LIST_ENTRY_ROTATION_TYPE, m->rotation_type);
        }
    }
    bool more = false;
    for (size_t j = i; j < key->material_count; j++)
        if (key->materials[j].rotation_type.len || all)
            more = true;
    moat_set_bool(a, out, KMS_LIST_KEY_ROTATIONS_RESPONSE_TRUNCATED, more);
    if (more)
        moat_set_str(a, out, KMS_LIST_KEY_ROTATIONS_RESPONSE_NEXT_MARKER,
                     kms_marker_encode(a, moat_slice_cstr(moat_arena_printf(a, "%zu", i))));
    return NULL;
}

/* sm_replica.c: multi-Region secrets: read-only replicas in other Regions, each with its
 * values encrypted under its own Region's KMS key, kept in step with the primary in the
 * same transaction as every change of the primary.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/create-manage-multi-region-secrets.html
 */
#include "aws/shapes/shapes_secretsmanager.h"
#include "core/log.h"
#include "services/secretsmanager/sm.h"
#include "store/store.h"

#include <string.h>

static const char *replica_arn(struct moat_arena *a, const struct sm_secret *primary,
                               struct moat_slice region)
{
    /* Same name and random suffix as the primary, in the replica's Region. */
    const char *suffix = primary->arn + strlen(primary->arn) - 7;
    return moat_arena_printf(a, "arn:aws:secretsmanager:%.*s:%s:secret:%.*s%s", MOAT_FMT(region),
                             primary->account, MOAT_FMT(primary->name), suffix);
}

void sm_replication_status_out(struct moat_call *call, const struct sm_secret *s,
                               struct moat_value *list)
{
    struct moat_arena *a = call->arena;
    for (size_t i = 0; i < s->replica_count; i++) {
        const struct sm_replica *r = &s->replicas[i];
        struct moat_value *e = moat_list_add_struct(a, list);
        moat_set_str(a, e, SECRETSMANAGER_REPLICATION_STATUS_TYPE_REGION, r->region);
        moat_set_str(a, e, SECRETSMANAGER_REPLICATION_STATUS_TYPE_KMS_KEY_ID,
                     r->kms_key_id.len ? r->kms_key_id : MOAT_LIT(SM_DEFAULT_KEY));
        moat_set_str(a, e, SECRETSMANAGER_REPLICATION_STATUS_TYPE_STATUS, r->status);
        if (r->message.len)
            moat_set_str(a, e, SECRETSMANAGER_REPLICATION_STATUS_TYPE_STATUS_MESSAGE, r->message);
    }
}

/* Makes the replica's versions, labels and metadata those of the primary. KMS calls for
 * the replica run in its Region. */
static struct moat_error *sync_one(struct moat_call *call, struct sm_secret *primary,
                                   struct sm_replica *rep, struct sm_secret *replica)
{
    struct moat_arena *a = call->arena;
    replica->description = primary->description;
    replica->has_description = primary->has_description;
    replica->tags = primary->tags;
    replica->tag_count = primary->tag_count;
    replica->policy = primary->policy;
    replica->kms_key_id = rep->kms_key_id;
    replica->rotation_enabled = primary->rotation_enabled;
    replica->rotation_lambda = primary->rotation_lambda;
    replica->rotation_days = primary->rotation_days;
    replica->schedule = primary->schedule;
    replica->duration = primary->duration;
    replica->last_rotated_ms = primary->last_rotated_ms;
    replica->next_rotation_ms = primary->next_rotation_ms;
    replica->primary_region = moat_slice_cstr(primary->region);
    replica->changed_ms = call->now_ms;
    const char *saved_region = call->region;
    call->region = replica->region;
    struct moat_error *err = NULL;
    for (size_t i = 0; i < primary->version_count && !err; i++) {
        const struct sm_version *pv = &primary->versions[i];
        struct sm_version *rv = sm_version_find(replica, pv->id);
        if (!rv) {
            rv = sm_version_add(a, replica, pv->id, pv->created_ms);
            err = sm_value_copy(call, primary, pv, replica, rv);
        }
        if (!err) {
            rv->stages = pv->stages;
            rv->stage_count = pv->stage_count;
        }
    }
    call->region = saved_region;
    if (err)
        return err;
    /* Versions the primary no longer keeps. */
    size_t j = 0;
    for (size_t i = 0; i < replica->version_count; i++) {
        if (sm_version_find(primary, replica->versions[i].id)) {
            replica->versions[j++] = replica->versions[i];
            continue;
        }
        int st = sm_record_delete(
            call, SM_NS_VALUE, moat_slice_cstr(sm_value_key(a, replica, replica->versions[i].id)));
        if (st != STORE_OK && st != STORE_NOT_FOUND)
            return moat_internal(call, "secretsmanager: removing a replica version failed");
    }
    replica->version_count = j;
    return NULL;
}

/* KMS refused the replica's key: the replica is marked Failed, the primary's change stands. */
static bool kms_refusal(const struct moat_error *e)
{
    return e->kind == &sm_encryption_failure || e->kind == &sm_decryption_failure ||
           e->kind == &sm_access_denied;
}

struct moat_error *sm_replicas_sync(struct moat_call *call, struct sm_secret *primary)
{
    for (size_t i = 0; i < primary->replica_count; i++) {
        struct sm_replica *rep = &primary->replicas[i];
        if (!moat_slice_eq_cstr(rep->status, "InSync"))
            continue;
        struct sm_secret *replica;
        struct moat_error *err =
            sm_secret_load(call, primary->account, moat_arena_cstr(call->arena, rep->region),
                           primary->name, &replica);
        if (err)
            return err;
        if (!replica || !moat_slice_eq_cstr(replica->primary_region, primary->region)) {
            rep->status = MOAT_LIT("Failed");
            rep->message = MOAT_LIT("Replication failed: the replica secret no longer exists.");
            continue;
        }
        err = sync_one(call, primary, rep, replica);
        if (err && kms_refusal(err)) {
            rep->status = MOAT_LIT("Failed");
            rep->message = moat_slice_cstr(
                moat_arena_printf(call->arena, "Replication failed: %.*s", MOAT_FMT(err->message)));
            continue;
        }
        if (!err)
            err = sm_secret_save(call, replica);
        if (err)
            return err;
    }
    return NULL;
}

struct moat_error *sm_replicas_add(struct moat_call *call, struct sm_secret *primary,
                                   const struct moat_value *regions, bool force)
{
    struct moat_arena *a = call->arena;
    if (sm_is_replica(primary))
        return moat_fail(call, &sm_invalid_request,
                         "Operation not permitted on a replica secret. Call must be made in "
                         "primary secret's region.");
    struct sm_replica *reps =
        moat_arena_calloc(a, (primary->replica_count + regions->count + 1) * sizeof(*reps));
    if (primary->replica_count)
        memcpy(reps, primary->replicas, primary->replica_count * sizeof(*reps));
    size_t count = primary->replica_count;
    for (uint32_t i = 0; i < regions->count; i++) {
        struct moat_slice region =
            moat_get_str(regions->u.items[i], SECRETSMANAGER_REPLICA_REGION_TYPE_REGION);
        struct moat_slice key =
            moat_get_str(regions->u.items[i], SECRETSMANAGER_REPLICA_REGION_TYPE_KMS_KEY_ID);
        if (!region.len || moat_slice_eq_cstr(region, primary->region))
            return moat_fail(call, &sm_invalid_parameter, "Invalid replica region.");
        for (size_t k = 0; k < count; k++)
            if (moat_slice_eq(reps[k].region, region))
                return moat_fail(call, &sm_invalid_parameter,
                                 "The secret is already replicated to %.*s.", MOAT_FMT(region));
        struct sm_replica *rep = &reps[count++];
        rep->region = region;
        rep->kms_key_id = key;
        const char *rregion = moat_arena_cstr(a, region);
        struct sm_secret *existing;
        struct moat_error *err =
            sm_secret_load(call, primary->account, rregion, primary->name, &existing);
        if (err)
            return err;
        if (existing && !force) {
            rep->status = MOAT_LIT("Failed");
            rep->message = MOAT_LIT("Replication failed: Secret name already exists in "
                                    "destination Region.");
            continue;
        }
        if (existing) {
            err = sm_secret_purge(call, existing);
            if (err)
                return err;
        }
        struct sm_secret *replica = sm_secret_new(call, primary->account, rregion, primary->name,
                                                  replica_arn(a, primary, region));
        replica->created_ms = call->now_ms;
        rep->status = MOAT_LIT("InSync");
        err = sync_one(call, primary, rep, replica);
        if (err && kms_refusal(err)) {
            rep->status = MOAT_LIT("Failed");
            rep->message = moat_slice_cstr(
                moat_arena_printf(a, "Replication failed: %.*s", MOAT_FMT(err->message)));
            /* values written before the refusal go with the unsaved replica */
            for (size_t k = 0; k < replica->version_count; k++)
                (void)sm_record_delete(
                    call, SM_NS_VALUE,
                    moat_slice_cstr(sm_value_key(a, replica, replica->versions[k].id)));
            continue;
        }
        if (!err)
            err = sm_secret_save(call, replica);
        if (err)
            return err;
    }
    primary->replicas = reps;
    primary->replica_count = count;
    primary->primary_region = moat_slice_cstr(primary->region);
    return NULL;
}

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ReplicateSecretToRegions.html
 */
SM_HANDLER(sm_replicate_secret_to_regions)
{
    struct sm_secret *s;
    struct moat_error *err = sm_secret_for_call(
        call, moat_get_str(in, SECRETSMANAGER_REPLICATE_SECRET_TO_REGIONS_REQUEST_SECRET_ID), 0,
        &s);
    if (err)
        return err;
    err = sm_replicas_add(
        call, s,
        moat_get(in, SECRETSMANAGER_REPLICATE_SECRET_TO_REGIONS_REQUEST_ADD_REPLICA_REGIONS),
        moat_get_bool(
            in, SECRETSMANAGER_REPLICATE_SECRET_TO_REGIONS_REQUEST_FORCE_OVERWRITE_REPLICA_SECRET,
            false));
    if (!err)
        err = sm_secret_save(call, s);
    if (err)
        return err;
    moat_set_cstr(call->arena, out, SECRETSMANAGER_REPLICATE_SECRET_TO_REGIONS_RESPONSE_ARN,
                  s->arn);
    sm_replication_status_out(
        call, s,
        moat_set_list(call->arena, out,
                      SECRETSMANAGER_REPLICATE_SECRET_TO_REGIONS_RESPONSE_REPLICATION_STATUS));
    return NULL;
}

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RemoveRegionsFromReplication.html
 */
SM_HANDLER(sm_remove_regions_from_replication)
{
    struct moat_arena *a = call->arena;
    struct sm_secret *s;
    struct moat_error *err = sm_secret_for_call(
        call, moat_get_str(in, SECRETSMANAGER_REMOVE_REGIONS_FROM_REPLICATION_REQUEST_SECRET_ID), 0,
        &s);
    if (err)
        return err;
    const struct moat_value *regions =
        moat_get(in, SECRETSMANAGER_REMOVE_REGIONS_FROM_REPLICATION_REQUEST_REMOVE_REPLICA_REGIONS);
    for (uint32_t i = 0; regions && i < regions->count; i++) {
        struct moat_slice region = regions->u.items[i]->u.s;
        size_t k = 0;
        while (k < s->replica_count && !moat_slice_eq(s->replicas[k].region, region))
            k++;
        if (k == s->replica_count)
            return moat_fail(call, &sm_invalid_parameter, "The secret %s isn't replicated to %.*s.",
                             s->arn, MOAT_FMT(region));
        struct sm_secret *replica;
        err = sm_secret_load(call, s->account, moat_arena_cstr(a, region), s->name, &replica);
        if (!err && replica && moat_slice_eq_cstr(replica->primary_region, s->region))
            err = sm_secret_purge(call, replica);
        if (err)
            return err;
        memmove(&s->replicas[k], &s->replicas[k + 1],
                (s->replica_count - k - 1) * sizeof(*s->replicas));
        s->replica_count--;
    }
    if (!s->replica_count)
        s->primary_region = MOAT_NULL_SLICE;
    err = sm_secret_save(call, s);
    if (err)
        return err;
    moat_set_cstr(a, out, SECRETSMANAGER_REMOVE_REGIONS_FROM_REPLICATION_RESPONSE_ARN, s->arn);
    sm_replication_status_out(
        call, s,
        moat_set_list(a, out,
                      SECRETSMANAGER_REMOVE_REGIONS_FROM_REPLICATION_RESPONSE_REPLICATION_STATUS));
    return NULL;
}

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_StopReplicationToReplica.html
 */
SM_HANDLER(sm_stop_replication_to_replica)
{
    struct moat_arena *a = call->arena;
    struct sm_secret *s;
    struct moat_error *err = sm_secret_for_call(
        call, moat_get_str(in, SECRETSMANAGER_STOP_REPLICATION_TO_REPLICA_REQUEST_SECRET_ID),
        SM_ALLOW_REPLICA, &s);
    if (err)
        return err;
    if (!sm_is_replica(s))
        return moat_fail(call, &sm_invalid_request,
                         "The secret %s is not a replica: StopReplicationToReplica promotes a "
                         "replica, called in the replica's Region.",
                         s->arn);
    struct sm_secret *primary;
    err =
        sm_secret_load(call, s->account, moat_arena_cstr(a, s->primary_region), s->name, &primary);
    if (err)
        return err;
    if (primary) {
        size_t j = 0;
        for (size_t k = 0; k < primary->replica_count; k++)
            if (!moat_slice_eq_cstr(primary->replicas[k].region, s->region))
                primary->replicas[j++] = primary->replicas[k];
        primary->replica_count = j;
        if (!j)
            primary->primary_region = MOAT_NULL_SLICE;
        err = sm_secret_save(call, primary);
        if (err)
            return err;
    }
    s->primary_region = MOAT_NULL_SLICE;
    s->changed_ms = call->now_ms;
    err = sm_rotation_schedule_next(call, s, call->now_ms);
    if (!err)
        err = sm_secret_save(call, s);
    if (err)
        return err;
    moat_set_cstr(a, out, SECRETSMANAGER_STOP_REPLICATION_TO_REPLICA_RESPONSE_ARN, s->arn);
    return NULL;
}

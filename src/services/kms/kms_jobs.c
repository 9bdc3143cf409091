/* kms_jobs.c: the work KMS does on its own schedule, each piece committed as a
 * CloudTrail AwsServiceEvent: deleting keys whose waiting period is over (DeleteKey),
 * automatic rotation (RotateKey) and expiry of imported material
 * (DeleteExpiredKeyMaterial). State lives in the store, so it survives restarts. */
#include "core/log.h"
#include "server/scheduler.h"
#include "server/server.h"
#include "services/kms/kms.h"
#include "store/store.h"

#include <string.h>

enum due { DUE_NONE = 0, DUE_DELETE, DUE_ROTATE, DUE_EXPIRE, DUE_REPLICAS_GONE };

static enum due due_work(const struct kms_key *k, int64_t now)
{
    if (k->state == KMS_STATE_PENDING_DELETION && k->deletion_ms && k->deletion_ms <= now)
        return DUE_DELETE;
    if (k->state == KMS_STATE_PENDING_REPLICA_DELETION && k->replica_count == 0)
        return DUE_REPLICAS_GONE;
    if (strcmp(k->origin, "EXTERNAL") == 0 && k->current && k->current->present &&
        k->current->valid_to_ms && k->current->valid_to_ms <= now)
        return DUE_EXPIRE;
    if (k->rotation_enabled && k->state == KMS_STATE_ENABLED && k->next_rotation_ms &&
        k->next_rotation_ms <= now && (!k->multi_region || k->primary))
        return DUE_ROTATE;
    return DUE_NONE;
}

struct work {
    const char *account, *region, *key_id;
    enum due kind;
};

/* Drops a deleted copy from the Replicas lists of the other copies of its key. */
static struct moat_error *forget_replica(struct moat_call *call, const struct kms_key *key)
{
    const char **others = key->replicas;
    size_t n = key->replica_count;
    const char *primary = key->primary_region;
    for (size_t i = 0; i <= n; i++) {
        const char *region = i < n ? others[i] : primary;
        if (!region || strcmp(region, key->region) == 0)
            continue;
        struct kms_key k;
        struct moat_error *err = kms_key_read(call, key->account, region, key->key_id, &k);
        if (err && err->kind == &kms_not_found)
            continue;
        if (err)
            return err;
        struct moat_value *l = moat_value_list(call->arena);
        for (size_t j = 0; j < k.replica_count; j++)
            if (strcmp(k.replicas[j], key->region) != 0)
                moat_list_push(call->arena, l, moat_value_cstring(call->arena, k.replicas[j]));
        moat_map_set(call->arena, k.doc, MOAT_LIT("Replicas"), l);
        if (k.state == KMS_STATE_PENDING_REPLICA_DELETION && l->count == 0) {
            /* the primary's own waiting period starts when its last replica is gone */
            moat_map_set_cstr(call->arena, k.doc, "State", "PendingDeletion");
            kms_doc_set_int(call->arena, k.doc, "DeletionDate",
                            call->now_ms + (int64_t)k.pending_days * 24 * 3600 * 1000);
        }
        err = kms_key_save(call, &k);
        if (err)
            return err;
    }
    return NULL;
}

struct moat_error *kms_key_destroy(struct moat_call *call, struct kms_key *key)
{
    for (size_t i = 0; i < key->alias_count; i++) {
        struct moat_error *err = kms_alias_delete(call, key->aliases[i], NULL, STORE_ANY_VERSION);
        if (err && err->kind != &kms_not_found)
            return err;
    }
    struct moat_error *err = kms_grants_delete_all(call, key);
    if (err)
        return err;
    struct moat_slice rk = kms_record_key(call->arena, key->account, key->region, key->key_id);
    if (store_delete(call->db, KMS_NS_KEY, rk, key->version) != STORE_OK)
        return moat_internal(call, "store delete of a KMS key failed");
    kms_cache_forget(KMS_NS_KEY, rk, INT64_MAX);
    if (key->multi_region)
        return forget_replica(call, key);
    return NULL;
}

static void exec(struct moat_call *call, void *arg)
{
    struct work *w = arg;
    struct kms_key key;
    struct moat_error *err = kms_key_read(call, w->account, w->region, w->key_id, &key);
    if (!err && due_work(&key, call->now_ms) != w->kind)
        return; /* someone else handled it meanwhile */
    if (!err)
        moat_call_add_resource(call, "AWS::KMS::Key", key.arn);
    if (!err) {
        switch (w->kind) {
        case DUE_DELETE:
            err = kms_key_destroy(call, &key);
            break;
        case DUE_ROTATE:
            err = kms_key_rotate(call, &key, "AUTOMATIC");
            break;
        case DUE_EXPIRE:
            err = kms_import_remove(call, &key);
            break;
        case DUE_REPLICAS_GONE:
            moat_map_set_cstr(call->arena, key.doc, "State", "PendingDeletion");
            kms_doc_set_int(call->arena, key.doc, "DeletionDate",
                            call->now_ms + (int64_t)key.pending_days * 24 * 3600 * 1000);
            err = kms_key_save(call, &key);
            break;
        case DUE_NONE:
            break;
        }
    }
    if (err)
        call->error = err;
}

static const char *event_name(enum due d)
{
    switch (d) {
    case DUE_DELETE:
        return "DeleteKey";
    case DUE_ROTATE:
        return "RotateKey";
    case DUE_EXPIRE:
        return "DeleteExpiredKeyMaterial";
    case DUE_REPLICAS_GONE:
        return "ScheduleKeyDeletion";
    case DUE_NONE:
        break;
    }
    return "";
}

static void run(struct moat_server *srv, struct moat_arena *a, int64_t now_ms)
{
    struct store_conn *db = moat_server_db(srv);
    if (!db)
        return;
    char after[512] = "";
    size_t after_len = 0;
    for (;;) {
        struct moat_arena *page = moat_arena_new(65536);
        struct store_record *recs;
        size_t n;
        bool more;
        if (store_scan(db, page, KMS_NS_KEY, MOAT_NULL_SLICE, moat_slice(after, after_len), 100,
                       &recs, &n, &more) != STORE_OK) {
            moat_arena_free(page);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            struct kms_key k;
            if (!kms_key_parse(page, recs[i].value, recs[i].version, &k))
                continue;
            enum due d = due_work(&k, now_ms);
            if (d == DUE_NONE)
                continue;
            struct work w = {k.account, k.region, k.key_id, d};
            if (!moat_service_event(srv, "kms", event_name(d), k.account, k.region, false, exec,
                                    &w))
                moat_log_warn("KMS %s of %s did not complete", event_name(d), k.arn);
        }
        if (n && recs[n - 1].key.len < sizeof(after)) {
            memcpy(after, recs[n - 1].key.ptr, recs[n - 1].key.len);
            after_len = recs[n - 1].key.len;
        }
        moat_arena_free(page);
        if (!more || !n)
            return;
    }
    MOAT_UNUSED(a);
}

static const struct moat_job kms_job = {
    .name = "kms-keys",
    .interval_ms = 60000,
    .run = run,
};

bool kms_init(struct moat_server *srv)
{
    MOAT_UNUSED(srv);
    scheduler_register(&kms_job);
    return true;
}

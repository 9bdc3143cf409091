/* kms_store.c: KMS key and alias records in the store, the process-wide cache of
 * parsed keys with their unsealed material and compiled policy, and key resolution
 * (key ids, key ARNs, alias names and alias ARNs). */
#include "core/buf.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "core/json.h"
#include "core/log.h"
#include "crypto/rootkey.h"
#include "aws/shapes/shapes_kms.h"
#include "iam/iam_policy.h"
#include "server/server.h"
#include "services/kms/kms.h"
#include "store/store.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ---------------------------------------------------------------------- */

const char *kms_key_arn(struct moat_arena *a, const char *region, const char *account,
                        const char *key_id)
{
    return moat_arena_printf(a, "arn:aws:kms:%s:%s:key/%s", region, account, key_id);
}

const char *kms_alias_arn(struct moat_arena *a, const char *region, const char *account,
                          const char *alias)
{
    return moat_arena_printf(a, "arn:aws:kms:%s:%s:%s", region, account, alias);
}

struct moat_slice kms_record_key(struct moat_arena *a, const char *account, const char *region,
                                 const char *id)
{
    return moat_slice_cstr(moat_arena_printf(a, "%s/%s/%s", account, region, id));
}

void kms_new_key_id(char out[40], bool multi_region)
{
    uint8_t r[16];
    crypto_random(r, sizeof(r));
    if (multi_region) {
        strcpy(out, "mrk-");
        for (int i = 0; i < 16; i++)
            snprintf(out + 4 + 2 * i, 3, "%02x", r[i]);
        return;
    }
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
}

static bool is_hex(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A UUID (8-4-4-4-12 hex) or "mrk-" + 32 hex. */
static bool valid_key_id(struct moat_slice s)
{
    if (s.len == 36 && moat_slice_starts_with(s, MOAT_LIT("mrk-"))) {
        for (size_t i = 4; i < 36; i++)
            if (!is_hex(s.ptr[i]))
                return false;
        return true;
    }
    if (s.len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s.ptr[i] != '-' : !is_hex(s.ptr[i]))
            return false;
    }
    return true;
}

static bool valid_account(struct moat_slice s)
{
    if (s.len != 12)
        return false;
    for (size_t i = 0; i < 12; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    return true;
}

/* ---- the cache ----------------------------------------------------------------------- */

#define CACHE_BUCKETS 1024
#define CACHE_MAX 8192
#define CACHE_TTL_MS 2000  /* other nodes' changes are seen within this time */
#define TOMBSTONE_MS 10000 /* how long a write keeps older versions out */

struct entry {
    struct entry *next;
    atomic_int refs;
    uint64_t hash;
    char *name;     /* "k<record key>" or "a<record key>" */
    bool tombstone; /* only min_version and until_ms mean something */
    int64_t min_version, until_ms;
    int64_t loaded_ms;
    uint64_t generation;
    int64_t version;
    struct moat_arena *arena; /* owns the key, its secrets (wiped) and its pkeys */
    struct kms_key key;
    struct iam_policy *policy;
    const char *target; /* aliases: the target key id */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *buckets[CACHE_BUCKETS];
static size_t cache_count;

static uint64_t hash_name(struct moat_slice s)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < s.len; i++)
        h = (h ^ s.ptr[i]) * 1099511628211ull;
    return h;
}

static void entry_unref(void *p)
{
    struct entry *e = p;
    if (atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    iam_policy_unref(e->policy);
    if (e->arena)
        moat_arena_free(e->arena);
    free(e->name);
    free(e);
}

static struct entry **find_slot(struct moat_slice name, uint64_t h)
{
    struct entry **pp = &buckets[h % CACHE_BUCKETS];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && moat_slice_eq_cstr(name, (*pp)->name))
            return pp;
    return pp;
}

static void clear_all_locked(void)
{
    for (size_t i = 0; i < CACHE_BUCKETS; i++) {
        struct entry *e = buckets[i];
        while (e) {
            struct entry *next = e->next;
            entry_unref(e);
            e = next;
        }
        buckets[i] = NULL;
    }
    cache_count = 0;
}

/* A fresh entry by name, with a reference for the caller; NULL on a miss. */
static struct entry *cache_lookup(struct moat_slice name)
{
    uint64_t h = hash_name(name);
    int64_t mono = moat_clock_monotonic_ms();
    uint64_t gen = moat_state_generation();
    struct entry *hit = NULL;
    pthread_mutex_lock(&cache_lock);
    struct entry *e = *find_slot(name, h);
    if (e && !e->tombstone && e->generation == gen && mono - e->loaded_ms < CACHE_TTL_MS) {
        atomic_fetch_add(&e->refs, 1);
        hit = e;
    }
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

/* Publishes a loaded entry (which holds the caller's reference) unless a newer write
 * has been seen for its name. */
static void cache_insert(struct entry *e)
{
    struct moat_slice name = moat_slice_cstr(e->name);
    int64_t mono = moat_clock_monotonic_ms();
    pthread_mutex_lock(&cache_lock);
    struct entry **pp = find_slot(name, e->hash);
    struct entry *old = *pp;
    if (old && old->tombstone && mono < old->until_ms && e->version < old->min_version) {
        pthread_mutex_unlock(&cache_lock);
        return;
    }
    if (!old && cache_count >= CACHE_MAX) {
        clear_all_locked();
        pp = find_slot(name, e->hash);
    }
    atomic_fetch_add(&e->refs, 1);
    e->next = old ? old->next : NULL;
    *pp = e;
    if (old)
        entry_unref(old);
    else
        cache_count++;
    pthread_mutex_unlock(&cache_lock);
}

void kms_cache_forget(const char *ns, struct moat_slice record_key, int64_t new_version)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "%c%.*s", strcmp(ns, KMS_NS_ALIAS) == 0 ? 'a' : 'k',
                     MOAT_FMT(record_key));
    if (n <= 0 || (size_t)n >= sizeof(buf))
        return;
    struct moat_slice name = moat_slice(buf, (size_t)n);
    uint64_t h = hash_name(name);
    struct entry *t = moat_xcalloc(1, sizeof(*t));
    atomic_init(&t->refs, 1);
    t->hash = h;
    t->name = moat_xstrdup(buf);
    t->tombstone = true;
    t->min_version = new_version;
    t->until_ms = moat_clock_monotonic_ms() + TOMBSTONE_MS;
    pthread_mutex_lock(&cache_lock);
    struct entry **pp = find_slot(name, h);
    struct entry *old = *pp;
    if (old && old->tombstone && old->min_version > t->min_version)
        t->min_version = old->min_version;
    t->next = old ? old->next : NULL;
    *pp = t;
    if (old)
        entry_unref(old);
    else
        cache_count++;
    pthread_mutex_unlock(&cache_lock);
}

/* ---- records ------------------------------------------------------------------------ */

void kms_doc_set_str(struct moat_arena *a, struct moat_value *doc, const char *k,
                     struct moat_slice v)
{
    moat_map_set(a, doc, moat_slice_cstr(k), moat_value_string(a, moat_arena_dup(a, v)));
}

void kms_doc_set_int(struct moat_arena *a, struct moat_value *doc, const char *k, int64_t v)
{
    moat_map_set(a, doc, moat_slice_cstr(k), moat_value_int(a, v));
}

void kms_doc_remove(struct moat_value *doc, const char *k)
{
    moat_map_remove(doc, moat_slice_cstr(k));
}

static const char *cstr_of(struct moat_arena *a, const struct moat_value *doc, const char *k)
{
    return moat_arena_cstr(a, moat_map_str(doc, k));
}

static bool hex_to_raw(struct moat_slice hex, uint8_t *raw, size_t n)
{
    if (hex.len != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int v = 0;
        for (int j = 0; j < 2; j++) {
            uint8_t c = hex.ptr[2 * i + (size_t)j];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0)
                return false;
            v = v * 16 + d;
        }
        raw[i] = (uint8_t)v;
    }
    return true;
}

bool kms_key_parse(struct moat_arena *a, struct moat_slice record, int64_t version,
                   struct kms_key *k)
{
    memset(k, 0, sizeof(*k));
    struct moat_value *doc;
    if (!moat_json_parse(a, record, 0, &doc, NULL) || doc->type != MOAT_V_MAP)
        return false;
    k->doc = doc;
    k->version = version;
    k->account = cstr_of(a, doc, "Account");
    k->region = cstr_of(a, doc, "Region");
    k->key_id = cstr_of(a, doc, "KeyId");
    k->arn = kms_key_arn(a, k->region, k->account, k->key_id);
    k->created_ms = moat_map_int(doc, "Created", 0);
    k->spec = kms_spec_find(moat_map_str(doc, "KeySpec"));
    if (!k->spec || !kms_usage_parse(moat_map_str(doc, "KeyUsage"), &k->usage))
        return false;
    k->origin = cstr_of(a, doc, "Origin");
    k->aws_managed = moat_slice_eq_cstr(moat_map_str(doc, "KeyManager"), "AWS");
    k->state = kms_state_parse(moat_map_str(doc, "State"));
    k->deletion_ms = moat_map_int(doc, "DeletionDate", 0);
    k->pending_days = (int)moat_map_int(doc, "PendingWindowDays", 0);
    k->description = moat_map_str(doc, "Description");
    k->multi_region = moat_map_bool(doc, "MultiRegion", false);
    if (k->multi_region) {
        k->primary_region = cstr_of(a, doc, "PrimaryRegion");
        k->primary = strcmp(k->primary_region, k->region) == 0;
        struct moat_value *reps = moat_map_get(doc, "Replicas");
        if (reps && reps->type == MOAT_V_LIST && reps->count) {
            k->replicas = moat_arena_alloc(a, reps->count * sizeof(*k->replicas));
            for (uint32_t i = 0; i < reps->count; i++)
                if (moat_value_is_string(reps->u.items[i]))
                    k->replicas[k->replica_count++] = moat_arena_cstr(a, reps->u.items[i]->u.s);
        }
    }
    struct moat_value *rot = moat_map_get(doc, "Rotation");
    k->rotation_enabled = moat_map_bool(rot, "Enabled", false);
    k->rotation_days = (int)moat_map_int(rot, "PeriodDays", 0);
    k->next_rotation_ms = moat_map_int(rot, "Next", 0);
    k->on_demand_rotation_ms = moat_map_int(rot, "OnDemandStart", 0);
    k->policy = moat_map_str(doc, "Policy");
    struct moat_value *tags = moat_map_get(doc, "Tags");
    if (tags && tags->type == MOAT_V_LIST && tags->count) {
        k->tags = moat_arena_alloc(a, tags->count * sizeof(*k->tags));
        for (uint32_t i = 0; i < tags->count; i++) {
            k->tags[i].key = moat_map_str(tags->u.items[i], "K");
            k->tags[i].value = moat_map_str(tags->u.items[i], "V");
        }
        k->tag_count = tags->count;
    }
    struct moat_value *aliases = moat_map_get(doc, "Aliases");
    if (aliases && aliases->type == MOAT_V_LIST && aliases->count) {
        k->aliases = moat_arena_alloc(a, aliases->count * sizeof(*k->aliases));
        for (uint32_t i = 0; i < aliases->count; i++)
            if (moat_value_is_string(aliases->u.items[i]))
                k->aliases[k->alias_count++] = aliases->u.items[i]->u.s;
    }
    struct moat_slice current = moat_map_str(doc, "Current");
    struct moat_value *mats = moat_map_get(doc, "Materials");
    if (mats && mats->type == MOAT_V_LIST && mats->count) {
        k->materials = moat_arena_calloc(a, mats->count * sizeof(*k->materials));
        for (uint32_t i = 0; i < mats->count; i++) {
            struct moat_value *mv = mats->u.items[i];
            struct kms_material *m = &k->materials[k->material_count];
            struct moat_slice id = moat_map_str(mv, "Id");
            if (id.len != sizeof(m->id) - 1 || !hex_to_raw(id, m->raw_id, KMS_MATERIAL_ID_LEN))
                return false;
            memcpy(m->id, id.ptr, id.len);
            m->created_ms = moat_map_int(mv, "Created", 0);
            m->rotation_type = moat_map_str(mv, "Rotation");
            m->imported = moat_map_bool(mv, "Imported", false);
            m->present = moat_map_bool(mv, "Present", true);
            m->valid_to_ms = moat_map_int(mv, "ValidTo", 0);
            m->description = moat_map_str(mv, "Description");
            if (m->present && !moat_base64_decode(a, moat_map_str(mv, "Sealed"), &m->sealed))
                return false;
            if (moat_slice_eq(id, current))
                k->current = m;
            k->material_count++;
        }
    }
    if (k->current && k->current->imported) {
        k->valid_to_ms = k->current->valid_to_ms;
        k->expires = k->current->valid_to_ms != 0;
    }
    return true;
}

static struct moat_slice material_aad(struct moat_arena *a, const char *account, const char *key_id,
                                      const char *material_id)
{
    return moat_slice_cstr(
        moat_arena_printf(a, "kms/material/%s/%s/%s", account, key_id, material_id));
}

static void free_pkey(void *p)
{
    EVP_PKEY_free(p);
}

bool kms_key_unseal(struct moat_server *srv, struct moat_arena *a, struct kms_key *key)
{
    for (size_t i = 0; i < key->material_count; i++) {
        struct kms_material *m = &key->materials[i];
        if (!m->present)
            continue;
        if (!rootkey_unseal(srv->rootkey, a, material_aad(a, key->account, key->key_id, m->id),
                            m->sealed, &m->secret)) {
            moat_log_error("KMS key material of %s does not unseal", key->arn);
            return false;
        }
        if (key->spec->family != KMS_FAMILY_AES && key->spec->family != KMS_FAMILY_HMAC) {
            m->pkey = kms_crypto_load_private(m->secret);
            if (!m->pkey) {
                moat_log_error("KMS private key of %s does not load", key->arn);
                return false;
            }
            moat_arena_on_free(a, free_pkey, m->pkey);
        }
    }
    return true;
}

const struct kms_material *kms_key_material(const struct kms_key *key, const uint8_t *raw_id)
{
    for (size_t i = 0; i < key->material_count; i++)
        if (memcmp(key->materials[i].raw_id, raw_id, KMS_MATERIAL_ID_LEN) == 0)
            return &key->materials[i];
    return NULL;
}

struct moat_slice kms_material_seal(struct moat_call *call, const struct kms_key *key,
                                    const char *material_id, struct moat_slice secret)
{
    struct moat_arena *a = call->arena;
    struct moat_slice sealed = rootkey_seal(
        call->server->rootkey, a, material_aad(a, key->account, key->key_id, material_id), secret);
    struct moat_buf b64;
    moat_buf_init(&b64, a, sealed.len * 4 / 3 + 8);
    moat_base64_encode(&b64, sealed);
    return moat_buf_slice(&b64);
}

const char *kms_material_add(struct moat_call *call, struct kms_key *key, struct moat_slice secret,
                             const char *rotation_type, bool imported, int64_t valid_to_ms,
                             bool current)
{
    struct moat_arena *a = call->arena;
    uint8_t raw[KMS_MATERIAL_ID_LEN];
    crypto_random(raw, sizeof(raw));
    char *id = moat_arena_alloc(a, 2 * KMS_MATERIAL_ID_LEN + 1);
    for (size_t i = 0; i < KMS_MATERIAL_ID_LEN; i++)
        snprintf(id + 2 * i, 3, "%02x", raw[i]);
    struct moat_value *m = moat_value_map(a);
    moat_map_set_cstr(a, m, "Id", id);
    moat_map_set_int(a, m, "Created", call->now_ms);
    if (rotation_type)
        moat_map_set_cstr(a, m, "Rotation", rotation_type);
    if (imported) {
        moat_map_set_bool(a, m, "Imported", true);
        if (valid_to_ms)
            moat_map_set_int(a, m, "ValidTo", valid_to_ms);
    }
    moat_map_set_str(a, m, "Sealed", kms_material_seal(call, key, id, secret));
    struct moat_value *mats = moat_map_get(key->doc, "Materials");
    if (!mats || mats->type != MOAT_V_LIST) {
        mats = moat_value_list(a);
        moat_map_set(a, key->doc, MOAT_LIT("Materials"), mats);
    }
    moat_list_push(a, mats, m);
    if (current)
        moat_map_set_cstr(a, key->doc, "Current", id);
    return id;
}

/* ---- reading keys ------------------------------------------------------------------- */

static struct moat_error *not_found(struct moat_call *call, const char *account, const char *region,
                                    const char *key_id)
{
    return moat_fail(call, &kms_not_found, "Key '%s' does not exist",
                     kms_key_arn(call->arena, region, account, key_id));
}

struct moat_error *kms_key_read(struct moat_call *call, const char *account, const char *region,
                                const char *key_id, struct kms_key *out)
{
    struct store_record r;
    enum store_status st = store_get(call->db, call->arena, KMS_NS_KEY,
                                     kms_record_key(call->arena, account, region, key_id), &r);
    if (st == STORE_NOT_FOUND)
        return not_found(call, account, region, key_id);
    if (st != STORE_OK)
        return moat_internal(call, "store read of a KMS key failed");
    if (!kms_key_parse(call->arena, r.value, r.version, out))
        return moat_internal(call, "KMS key record does not parse");
    return NULL;
}

struct moat_error *kms_key_save(struct moat_call *call, struct kms_key *key)
{
    struct moat_buf b;
    moat_buf_init(&b, call->arena, 2048);
    moat_json_write(&b, key->doc);
    struct moat_slice rk = kms_record_key(call->arena, key->account, key->region, key->key_id);
    int64_t nv = 0;
    enum store_status st = store_put(call->db, KMS_NS_KEY, rk, moat_buf_slice(&b),
                                     key->version ? key->version : STORE_MUST_NOT_EXIST, &nv);
    if (st == STORE_CONFLICT)
        return moat_fail(call, &kms_conflict,
                         "The KMS key was changed by another request at the same time; retry.");
    if (st != STORE_OK)
        return moat_internal(call, "store write of a KMS key failed");
    kms_cache_forget(KMS_NS_KEY, rk, nv);
    if (!kms_key_parse(call->arena, moat_buf_slice(&b), nv, key))
        return moat_internal(call, "KMS key record does not parse after a write");
    return NULL;
}

static void release_entry(void *p)
{
    entry_unref(p);
}

/* Loads a key into a new cache entry (unsealed, policy compiled). */
static struct moat_error *load_entry(struct moat_call *call, struct moat_slice name,
                                     const char *account, const char *region, const char *key_id,
                                     struct entry **out)
{
    struct moat_arena *ea = moat_arena_new(4096);
    struct store_record r;
    enum store_status st =
        store_get(call->db, ea, KMS_NS_KEY, kms_record_key(ea, account, region, key_id), &r);
    if (st != STORE_OK) {
        moat_arena_free(ea);
        return st == STORE_NOT_FOUND ? not_found(call, account, region, key_id)
                                     : moat_internal(call, "store read of a KMS key failed");
    }
    struct entry *e = moat_xcalloc(1, sizeof(*e));
    atomic_init(&e->refs, 1);
    e->arena = ea;
    e->name = moat_xstrdup(moat_arena_cstr(ea, name));
    e->hash = hash_name(name);
    e->loaded_ms = moat_clock_monotonic_ms();
    e->generation = moat_state_generation();
    e->version = r.version;
    struct iam_policy_diag diag;
    if (!kms_key_parse(ea, r.value, r.version, &e->key) ||
        !kms_key_unseal(call->server, ea, &e->key) ||
        (e->key.policy.len && iam_policy_compile(IAM_POLICY_RESOURCE, e->key.policy, 32768,
                                                 &e->policy, &diag) != IAM_POLICY_OK)) {
        entry_unref(e);
        return moat_internal(call, "KMS key record does not load");
    }
    *out = e;
    return NULL;
}

struct moat_error *kms_key_get(struct moat_call *call, const struct kms_ref *ref,
                               const struct kms_key **out, const struct iam_policy **policy)
{
    char buf[256];
    int n = snprintf(buf, sizeof(buf), "k%s/%s/%s", ref->account, ref->region, ref->key_id);
    if (n <= 0 || (size_t)n >= sizeof(buf))
        return not_found(call, ref->account, ref->region, ref->key_id);
    struct moat_slice name = moat_slice(buf, (size_t)n);
    /* Inside a write transaction the store may hold changes that are not committed yet
     * (and may roll back): read it, but neither trust nor feed the cache. */
    struct entry *e = call->writable ? NULL : cache_lookup(name);
    if (!e) {
        struct moat_error *err = load_entry(call, name, ref->account, ref->region, ref->key_id, &e);
        if (err)
            return err;
        if (!call->writable)
            cache_insert(e);
    }
    moat_arena_on_free(call->arena, release_entry, e);
    *out = &e->key;
    if (policy)
        *policy = e->policy;
    return NULL;
}

/* The key id an alias points at (cached like keys). */
static struct moat_error *alias_target(struct moat_call *call, const char *account,
                                       const char *region, const char *alias, const char **out)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "a%s/%s/%s", account, region, alias);
    if (n <= 0 || (size_t)n >= sizeof(buf))
        return moat_fail(call, &kms_not_found, "Alias %s is not found.",
                         kms_alias_arn(call->arena, region, account, alias));
    struct moat_slice name = moat_slice(buf, (size_t)n);
    struct entry *e = call->writable ? NULL : cache_lookup(name);
    if (!e) {
        struct moat_arena *ea = moat_arena_new(512);
        struct store_record r;
        struct moat_value *doc;
        enum store_status st =
            store_get(call->db, ea, KMS_NS_ALIAS, moat_slice(buf + 1, (size_t)n - 1), &r);
        if (st != STORE_OK || !moat_json_parse(ea, r.value, 0, &doc, NULL)) {
            moat_arena_free(ea);
            if (st == STORE_NOT_FOUND)
                return moat_fail(call, &kms_not_found, "Alias %s is not found.",
                                 kms_alias_arn(call->arena, region, account, alias));
            return moat_internal(call, "store read of a KMS alias failed");
        }
        e = moat_xcalloc(1, sizeof(*e));
        atomic_init(&e->refs, 1);
        e->arena = ea;
        e->name = moat_xstrdup(buf);
        e->hash = hash_name(name);
        e->loaded_ms = moat_clock_monotonic_ms();
        e->generation = moat_state_generation();
        e->version = r.version;
        e->target = moat_arena_cstr(ea, moat_map_str(doc, "TargetKeyId"));
        if (!call->writable)
            cache_insert(e);
    }
    *out = moat_arena_strdup(call->arena, e->target);
    entry_unref(e);
    return NULL;
}

bool kms_key_id_parse(struct moat_slice in, struct kms_id_parts *out)
{
    memset(out, 0, sizeof(*out));
    out->id = in;
    if (moat_slice_starts_with(in, MOAT_LIT("arn:"))) {
        /* arn:<partition>:kms:<region>:<account>:key/<id> | alias/<name> */
        struct moat_slice rest = in, parts[6];
        size_t np = 0;
        while (np < 5 && moat_slice_split(&rest, ':', &parts[np]))
            np++;
        parts[5] = rest;
        out->arn = true;
        out->kind = KMS_ID_BAD_ARN;
        if (np != 5 || !moat_slice_eq_cstr(parts[2], "kms") || !valid_account(parts[4]) ||
            !parts[3].len)
            return false;
        out->region = parts[3];
        out->account = parts[4];
        if (moat_slice_starts_with(parts[5], MOAT_LIT("key/"))) {
            out->id = moat_slice_sub(parts[5], 4, parts[5].len);
            out->kind = valid_key_id(out->id) ? KMS_ID_KEY : KMS_ID_BAD_KEY;
        } else if (moat_slice_starts_with(parts[5], MOAT_LIT("alias/")) && parts[5].len > 6) {
            out->id = parts[5];
            out->kind = KMS_ID_ALIAS;
        }
        return out->kind == KMS_ID_KEY || out->kind == KMS_ID_ALIAS;
    }
    if (moat_slice_starts_with(in, MOAT_LIT("alias/"))) {
        out->kind = in.len > 6 ? KMS_ID_ALIAS : KMS_ID_BAD_KEY;
        return out->kind == KMS_ID_ALIAS;
    }
    out->kind = valid_key_id(in) ? KMS_ID_KEY : KMS_ID_BAD_KEY;
    return out->kind == KMS_ID_KEY;
}

struct moat_error *kms_resolve(struct moat_call *call, struct moat_slice key_id, bool allow_alias,
                               struct kms_ref *out)
{
    struct moat_arena *a = call->arena;
    memset(out, 0, sizeof(*out));
    out->account = call->account_id;
    out->region = call->region;
    struct kms_id_parts p;
    kms_key_id_parse(key_id, &p);
    if (p.kind == KMS_ID_BAD_ARN)
        return moat_fail(call, &kms_not_found, "Invalid arn %.*s", MOAT_FMT(key_id));
    if (p.arn) {
        if (!moat_slice_eq_cstr(p.region, call->region))
            return moat_fail(call, &kms_not_found, "Invalid arn %.*s", MOAT_FMT(p.region));
        out->account = moat_arena_cstr(a, p.account);
    }
    if (p.kind == KMS_ID_BAD_KEY || (p.kind == KMS_ID_ALIAS && !allow_alias))
        return moat_fail(call, &kms_not_found, "Invalid keyId %.*s", MOAT_FMT(key_id));
    if (p.kind == KMS_ID_ALIAS) {
        struct moat_slice id = p.id;
        out->alias = moat_arena_cstr(a, id);
        out->alias_arn = kms_alias_arn(a, out->region, out->account, out->alias);
        struct moat_error *err =
            alias_target(call, out->account, out->region, out->alias, &out->key_id);
        if (err && err->kind == &kms_not_found && call->via_service && call->writable &&
            strcmp(out->account, call->account_id) == 0 && kms_alias_is_aws(id) &&
            moat_slice_eq_cstr(moat_slice_sub(id, 10, id.len), call->via_service)) {
            /* An AWS managed key is created the first time its service uses it. */
            err = kms_managed_key_create(call, id);
            if (!err)
                err = alias_target(call, out->account, out->region, out->alias, &out->key_id);
        } else if (err && err->kind == &kms_not_found && call->op &&
                   call->op->shape == KMS_OP_DESCRIBE_KEY &&
                   strcmp(out->account, call->account_id) == 0 && kms_alias_is_predefined(id)) {
            /* DescribeKey on a predefined AWS alias creates its AWS managed key.
             * https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html */
            err =
                call->writable ? kms_managed_key_create(call, id) : kms_managed_key_event(call, id);
            if (!err)
                err = alias_target(call, out->account, out->region, out->alias, &out->key_id);
        }
        return err;
    }
    char *kid = moat_arena_cstr(a, p.id);
    for (char *c = kid; *c; c++)
        if (*c >= 'A' && *c <= 'F')
            *c = (char)(*c - 'A' + 'a');
    out->key_id = kid;
    return NULL;
}

/* ---- new keys ----------------------------------------------------------------------- */

struct moat_value *kms_doc_new(struct moat_call *call, const char *key_id, const char *account,
                               const char *region, const struct kms_spec *spec,
                               enum kms_usage usage, const char *origin, bool aws_managed,
                               struct moat_slice description, struct moat_slice policy,
                               bool multi_region)
{
    struct moat_arena *a = call->arena;
    struct moat_value *doc = moat_value_map(a);
    moat_map_set_cstr(a, doc, "KeyId", key_id);
    moat_map_set_cstr(a, doc, "Account", account);
    moat_map_set_cstr(a, doc, "Region", region);
    moat_map_set_int(a, doc, "Created", call->now_ms);
    kms_doc_set_str(a, doc, "Description", description);
    moat_map_set_cstr(a, doc, "KeySpec", spec->name);
    moat_map_set_cstr(a, doc, "KeyUsage", kms_usage_name(usage));
    moat_map_set_cstr(a, doc, "Origin", origin);
    moat_map_set_cstr(a, doc, "KeyManager", aws_managed ? "AWS" : "CUSTOMER");
    moat_map_set_cstr(a, doc, "State",
                      strcmp(origin, "EXTERNAL") == 0 ? "PendingImport" : "Enabled");
    moat_map_set_bool(a, doc, "MultiRegion", multi_region);
    if (multi_region) {
        moat_map_set_cstr(a, doc, "PrimaryRegion", region);
        moat_map_set(a, doc, MOAT_LIT("Replicas"), moat_value_list(a));
    }
    kms_doc_set_str(a, doc, "Policy", policy);
    moat_map_set(a, doc, MOAT_LIT("Tags"), moat_value_list(a));
    moat_map_set(a, doc, MOAT_LIT("Aliases"), moat_value_list(a));
    moat_map_set(a, doc, MOAT_LIT("Materials"), moat_value_list(a));
    return doc;
}

/* Adds or replaces tags (TagResource semantics). Keys beginning with "aws:" are
 * reserved; one request may not name a key twice; a key holds at most 50 tags.
 * https://docs.aws.amazon.com/kms/latest/developerguide/tagging-keys.html */
struct moat_error *kms_doc_put_tags(struct moat_call *call, struct moat_value *doc,
                                    const struct moat_value *tags)
{
    struct moat_arena *a = call->arena;
    struct moat_value *list = moat_map_get(doc, "Tags");
    if (!list || list->type != MOAT_V_LIST) {
        list = moat_value_list(a);
        moat_map_set(a, doc, MOAT_LIT("Tags"), list);
    }
    for (uint32_t i = 0; tags && i < tags->count; i++) {
        struct moat_slice k = moat_get_str(tags->u.items[i], KMS_TAG_TAG_KEY);
        struct moat_slice v = moat_get_str(tags->u.items[i], KMS_TAG_TAG_VALUE);
        if (k.len >= 4 && moat_slice_eq_nocase(moat_slice_sub(k, 0, 4), MOAT_LIT("aws:")))
            return moat_fail(call, &kms_tag_exception,
                             "Tag keys beginning with 'aws:' are reserved for AWS use.");
        for (uint32_t j = 0; j < i; j++)
            if (moat_slice_eq(k, moat_get_str(tags->u.items[j], KMS_TAG_TAG_KEY)))
                return moat_fail(call, &kms_tag_exception, "Duplicate tag key '%.*s'.",
                                 MOAT_FMT(k));
        bool replaced = false;
        for (uint32_t j = 0; j < list->count; j++) {
            if (moat_slice_eq(moat_map_str(list->u.items[j], "K"), k)) {
                kms_doc_set_str(a, list->u.items[j], "V", v);
                replaced = true;
            }
        }
        if (!replaced) {
            struct moat_value *t = moat_value_map(a);
            kms_doc_set_str(a, t, "K", k);
            kms_doc_set_str(a, t, "V", v);
            moat_list_push(a, list, t);
        }
    }
    if (list->count > 50)
        return moat_fail(call, &kms_limit_exceeded,
                         "A KMS key can have at most 50 tags; this request would give it %u.",
                         list->count);
    return NULL;
}

/* ---- pagination markers -------------------------------------------------------------- */

struct moat_slice kms_marker_encode(struct moat_arena *a, struct moat_slice after)
{
    struct moat_buf b;
    moat_buf_init(&b, a, after.len * 2 + 8);
    moat_buf_append_cstr(&b, "m1.");
    moat_base64url_encode(&b, after);
    return moat_buf_slice(&b);
}

struct moat_error *kms_marker_decode(struct moat_call *call, const struct moat_value *in,
                                     unsigned member, struct moat_slice *after)
{
    *after = MOAT_NULL_SLICE;
    if (!moat_has(in, member))
        return NULL;
    struct moat_slice m = moat_get_str(in, member);
    if (!moat_slice_starts_with(m, MOAT_LIT("m1.")) ||
        !moat_base64url_decode(call->arena, moat_slice_sub(m, 3, m.len), after) || !after->len)
        return moat_fail(call, &kms_invalid_marker, "Invalid marker: %.*s", MOAT_FMT(m));
    return NULL;
}

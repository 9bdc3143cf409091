/* sm_cache.c: a process-wide cache of secret and value records (their stored bytes, still
 * encrypted) for reads outside the writer, so that GetSecretValue does not read the store
 * twice. A write on this node invalidates at once (a tombstone keeps older versions out);
 * other nodes' writes are seen within CACHE_TTL_MS, as for KMS keys and credentials. */
#include "core/clock.h"
#include "server/server.h"
#include "services/secretsmanager/sm.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_BUCKETS 1024
#define CACHE_MAX 8192
#define CACHE_TTL_MS 2000
#define TOMBSTONE_MS 10000
#define CACHE_VALUE_MAX (128 * 1024)

struct entry {
    struct entry *next;
    uint64_t hash;
    char *name; /* tag byte + record key */
    size_t name_len;
    bool tombstone;
    int64_t min_version, until_ms; /* tombstones: versions below min_version are stale */
    int64_t loaded_ms;
    uint64_t generation;
    int64_t version;
    uint8_t *value;
    size_t value_len;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *buckets[CACHE_BUCKETS];
static size_t count;

static uint64_t hash_of(char tag, struct moat_slice key)
{
    uint64_t h = (1469598103934665603ull ^ (uint8_t)tag) * 1099511628211ull;
    for (size_t i = 0; i < key.len; i++)
        h = (h ^ key.ptr[i]) * 1099511628211ull;
    return h;
}

static struct entry **slot(char tag, struct moat_slice key, uint64_t h)
{
    struct entry **pp = &buckets[h % CACHE_BUCKETS];
    for (; *pp; pp = &(*pp)->next) {
        struct entry *e = *pp;
        if (e->hash == h && e->name_len == key.len + 1 && e->name[0] == tag &&
            memcmp(e->name + 1, key.ptr, key.len) == 0)
            return pp;
    }
    return pp;
}

static void entry_free(struct entry *e)
{
    free(e->value);
    free(e->name);
    free(e);
}

static void clear_locked(void)
{
    for (size_t i = 0; i < CACHE_BUCKETS; i++) {
        while (buckets[i]) {
            struct entry *e = buckets[i];
            buckets[i] = e->next;
            entry_free(e);
        }
    }
    count = 0;
}

static struct entry *entry_new(char tag, struct moat_slice key, uint64_t h)
{
    struct entry *e = moat_xcalloc(1, sizeof(*e));
    e->hash = h;
    e->name_len = key.len + 1;
    e->name = moat_xmalloc(e->name_len);
    e->name[0] = tag;
    memcpy(e->name + 1, key.ptr, key.len);
    return e;
}

/* Replaces (or inserts) the entry in its slot. */
static void place_locked(struct entry **pp, struct entry *e)
{
    struct entry *old = *pp;
    e->next = old ? old->next : NULL;
    *pp = e;
    if (old)
        entry_free(old);
    else
        count++;
}

bool sm_cache_get(char tag, struct moat_slice key, struct moat_arena *a, struct moat_slice *value,
                  int64_t *version)
{
    uint64_t h = hash_of(tag, key);
    int64_t mono = moat_clock_monotonic_ms();
    uint64_t gen = moat_state_generation();
    bool hit = false;
    pthread_mutex_lock(&lock);
    struct entry *e = *slot(tag, key, h);
    if (e && !e->tombstone && e->generation == gen && mono - e->loaded_ms < CACHE_TTL_MS) {
        *value = moat_arena_dup(a, moat_slice(e->value, e->value_len));
        *version = e->version;
        hit = true;
    }
    pthread_mutex_unlock(&lock);
    return hit;
}

void sm_cache_put(char tag, struct moat_slice key, struct moat_slice value, int64_t version)
{
    if (value.len > CACHE_VALUE_MAX)
        return;
    uint64_t h = hash_of(tag, key);
    int64_t mono = moat_clock_monotonic_ms();
    uint64_t gen = moat_state_generation();
    pthread_mutex_lock(&lock);
    struct entry **pp = slot(tag, key, h);
    struct entry *old = *pp;
    if (old && old->tombstone && mono < old->until_ms && version < old->min_version) {
        pthread_mutex_unlock(&lock);
        return; /* a newer write was seen: this read may be older than it */
    }
    if (!old && count >= CACHE_MAX) {
        clear_locked();
        pp = slot(tag, key, h);
    }
    struct entry *e = entry_new(tag, key, h);
    e->loaded_ms = mono;
    e->generation = gen;
    e->version = version;
    e->value = moat_xmalloc(value.len ? value.len : 1);
    memcpy(e->value, value.ptr, value.len);
    e->value_len = value.len;
    place_locked(pp, e);
    pthread_mutex_unlock(&lock);
}

void sm_cache_invalidate(char tag, struct moat_slice key, int64_t min_version)
{
    uint64_t h = hash_of(tag, key);
    pthread_mutex_lock(&lock);
    int64_t mono = moat_clock_monotonic_ms();
    struct entry **pp = slot(tag, key, h);
    struct entry *old = *pp;
    /* A record deleted and created again starts its versions anew: keep the highest bar. */
    if (old && old->tombstone && mono < old->until_ms && old->min_version > min_version)
        min_version = old->min_version;
    if (!old && count >= CACHE_MAX) {
        clear_locked();
        pp = slot(tag, key, h);
    }
    struct entry *e = entry_new(tag, key, h);
    e->tombstone = true;
    e->min_version = min_version;
    e->until_ms = mono + TOMBSTONE_MS;
    place_locked(pp, e);
    pthread_mutex_unlock(&lock);
}

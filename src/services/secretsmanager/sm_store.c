/* sm_store.c: the secret record (JSON in SM_NS_SECRET), its versions and staging labels,
 * the due index the background jobs scan, and finding a secret from a SecretId. */
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "crypto/rootkey.h"
#include "services/secretsmanager/sm.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

const char *sm_secret_key(struct moat_arena *a, const char *account, const char *region,
                          struct moat_slice name)
{
    return moat_arena_printf(a, "%s/%s/%.*s", account, region, MOAT_FMT(name));
}

const char *sm_value_key(struct moat_arena *a, const struct sm_secret *s, struct moat_slice vid)
{
    /* '#' never appears in a secret name, so a secret's records share an exact prefix. */
    return moat_arena_printf(a, "%s#%.*s", s->key, MOAT_FMT(vid));
}

struct moat_slice sm_uuid(struct moat_arena *a)
{
    uint8_t r[16];
    crypto_random(r, sizeof(r));
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    char *out = moat_arena_alloc(a, 37);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
    return moat_slice(out, 36);
}

int64_t sm_day_ms(int64_t ms)
{
    int64_t day = 86400000;
    return ms - ((ms % day) + day) % day;
}

bool sm_is_replica(const struct sm_secret *s)
{
    return s->primary_region.len && !moat_slice_eq_cstr(s->primary_region, s->region);
}

/* ---- versions and labels ------------------------------------------------------- */

struct sm_version *sm_version_find(const struct sm_secret *s, struct moat_slice id)
{
    for (size_t i = 0; i < s->version_count; i++)
        if (moat_slice_eq(s->versions[i].id, id))
            return &s->versions[i];
    return NULL;
}

bool sm_version_has(const struct sm_version *v, struct moat_slice label)
{
    for (size_t i = 0; i < v->stage_count; i++)
        if (moat_slice_eq(v->stages[i], label))
            return true;
    return false;
}

struct sm_version *sm_label_holder(const struct sm_secret *s, const char *label)
{
    struct moat_slice l = moat_slice_cstr(label);
    for (size_t i = 0; i < s->version_count; i++)
        if (sm_version_has(&s->versions[i], l))
            return &s->versions[i];
    return NULL;
}

void sm_label_remove(struct sm_version *v, struct moat_slice label)
{
    size_t j = 0;
    for (size_t i = 0; i < v->stage_count; i++)
        if (!moat_slice_eq(v->stages[i], label))
            v->stages[j++] = v->stages[i];
    v->stage_count = j;
}

void sm_label_add(struct moat_arena *a, struct sm_version *v, struct moat_slice label)
{
    if (sm_version_has(v, label))
        return;
    struct moat_slice *n = moat_arena_alloc(a, (v->stage_count + 1) * sizeof(*n));
    if (v->stage_count)
        memcpy(n, v->stages, v->stage_count * sizeof(*n));
    n[v->stage_count++] = label;
    v->stages = n;
}

size_t sm_label_total(const struct sm_secret *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->version_count; i++)
        n += s->versions[i].stage_count;
    return n;
}

struct sm_version *sm_version_add(struct moat_arena *a, struct sm_secret *s, struct moat_slice id,
                                  int64_t now_ms)
{
    if (s->version_count == s->version_cap) {
        size_t cap = s->version_cap ? s->version_cap * 2 : 4;
        struct sm_version *n = moat_arena_calloc(a, cap * sizeof(*n));
        if (s->version_count)
            memcpy(n, s->versions, s->version_count * sizeof(*n));
        s->versions = n;
        s->version_cap = cap;
    }
    struct sm_version *v = &s->versions[s->version_count++];
    memset(v, 0, sizeof(*v));
    v->id = moat_arena_dup(a, id);
    v->created_ms = now_ms;
    return v;
}

void sm_label_move(struct moat_arena *a, struct sm_secret *s, struct sm_version *to,
                   struct moat_slice label)
{
    struct sm_version *from = sm_label_holder(s, moat_arena_cstr(a, label));
    if (from == to)
        return;
    if (from)
        sm_label_remove(from, label);
    sm_label_add(a, to, label);
    /* AWS keeps the version AWSCURRENT left as AWSPREVIOUS.
     * https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html */
    if (from && moat_slice_eq_cstr(label, "AWSCURRENT")) {
        struct moat_slice prev = MOAT_LIT("AWSPREVIOUS");
        struct sm_version *old = sm_label_holder(s, "AWSPREVIOUS");
        if (old)
            sm_label_remove(old, prev);
        sm_label_add(a, from, prev);
    }
}

struct moat_error *sm_versions_trim(struct moat_call *call, struct sm_secret *s)
{
    /* PutSecretValue: "Secrets Manager removes outdated versions when there are more than 100,
     * but it does not remove versions created less than 24 hours ago."
     * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html */
    while (s->version_count > SM_MAX_VERSIONS) {
        size_t victim = s->version_count;
        for (size_t i = 0; i < s->version_count; i++) {
            const struct sm_version *v = &s->versions[i];
            if (!v->stage_count && call->now_ms - v->created_ms >= 86400000) {
                victim = i;
                break;
            }
        }
        if (victim == s->version_count)
            return moat_fail(call, &sm_limit_exceeded,
                             "You have exceeded the maximum number of versions (%d) for secret %s. "
                             "Secrets Manager removes versions without staging labels once they "
                             "are older than 24 hours.",
                             SM_MAX_VERSIONS, s->arn);
        int st =
            sm_record_delete(call, SM_NS_VALUE,
                             moat_slice_cstr(sm_value_key(call->arena, s, s->versions[victim].id)));
        if (st != STORE_OK && st != STORE_NOT_FOUND)
            return moat_internal(call, "secretsmanager: deleting an old version failed");
        memmove(&s->versions[victim], &s->versions[victim + 1],
                (s->version_count - victim - 1) * sizeof(*s->versions));
        s->version_count--;
    }
    return NULL;
}

struct moat_slice sm_tag_get(const struct sm_secret *s, struct moat_slice key, bool *found)
{
    for (size_t i = 0; i < s->tag_count; i++)
        if (moat_slice_eq(s->tags[i].key, key)) {
            *found = true;
            return s->tags[i].value;
        }
    *found = false;
    return MOAT_NULL_SLICE;
}

/* ---- JSON ------------------------------------------------------------------------ */

static struct moat_slice str_of(const struct moat_value *v)
{
    return v && v->type == MOAT_V_STRING ? v->u.s : MOAT_NULL_SLICE;
}

struct sm_secret *sm_secret_parse(struct moat_arena *a, struct moat_slice key,
                                  struct moat_slice json, int64_t store_version)
{
    struct moat_value *doc;
    if (!moat_json_parse(a, json, 0, &doc, NULL) || doc->type != MOAT_V_MAP)
        return NULL;
    struct sm_secret *s = moat_arena_calloc(a, sizeof(*s));
    s->key = moat_arena_cstr(a, key);
    s->store_version = store_version;
    s->account = moat_arena_cstr(a, moat_map_str(doc, "Account"));
    s->region = moat_arena_cstr(a, moat_map_str(doc, "Region"));
    s->name = moat_map_str(doc, "Name");
    s->arn = moat_arena_cstr(a, moat_map_str(doc, "ARN"));
    struct moat_value *d = moat_map_get(doc, "Description");
    if (d && d->type == MOAT_V_STRING) {
        s->description = d->u.s;
        s->has_description = true;
    }
    s->kms_key_id = moat_map_str(doc, "KmsKeyId");
    s->created_ms = moat_map_int(doc, "Created", 0);
    s->changed_ms = moat_map_int(doc, "Changed", 0);
    s->deleted_ms = moat_map_int(doc, "Deleted", 0);
    s->delete_at_ms = moat_map_int(doc, "DeleteAt", 0);
    s->policy = moat_map_str(doc, "Policy");
    s->owning_service = moat_map_str(doc, "OwningService");
    s->primary_region = moat_map_str(doc, "PrimaryRegion");
    s->due_key = moat_map_str(doc, "Due");
    s->value_changed_ms = moat_map_int(doc, "ValueChanged", 0);

    struct moat_value *tags = moat_map_get(doc, "Tags");
    if (tags && tags->type == MOAT_V_LIST && tags->count) {
        s->tags = moat_arena_calloc(a, tags->count * sizeof(*s->tags));
        for (uint32_t i = 0; i < tags->count; i++) {
            s->tags[i].key = moat_map_str(tags->u.items[i], "Key");
            s->tags[i].value = moat_map_str(tags->u.items[i], "Value");
        }
        s->tag_count = tags->count;
    }

    struct moat_value *rot = moat_map_get(doc, "Rotation");
    if (rot && rot->type == MOAT_V_MAP) {
        s->rotation_enabled = moat_map_bool(rot, "Enabled", false);
        s->rotation_lambda = moat_map_str(rot, "Lambda");
        s->rotation_days = moat_map_int(rot, "Days", 0);
        s->schedule = moat_map_str(rot, "Schedule");
        s->duration = moat_map_str(rot, "Duration");
        s->last_rotated_ms = moat_map_int(rot, "LastRotated", 0);
        s->next_rotation_ms = moat_map_int(rot, "Next", 0);
        s->rot_token = moat_map_str(rot, "Token");
        s->rot_test = moat_map_bool(rot, "Test", false);
        s->rot_due_ms = moat_map_int(rot, "Due", 0);
        s->rot_attempts = moat_map_int(rot, "Attempts", 0);
        s->rot_error = moat_map_str(rot, "Error");
    }

    struct moat_value *vers = moat_map_get(doc, "Versions");
    if (vers && vers->type == MOAT_V_LIST) {
        s->version_cap = vers->count ? vers->count : 1;
        s->versions = moat_arena_calloc(a, s->version_cap * sizeof(*s->versions));
        for (uint32_t i = 0; i < vers->count; i++) {
            const struct moat_value *vv = vers->u.items[i];
            struct sm_version *v = &s->versions[s->version_count++];
            v->id = moat_map_str(vv, "Id");
            v->created_ms = moat_map_int(vv, "Created", 0);
            v->key_arn = moat_map_str(vv, "Key");
            struct moat_value *st = moat_map_get(vv, "Stages");
            if (st && st->type == MOAT_V_LIST && st->count) {
                v->stages = moat_arena_alloc(a, st->count * sizeof(*v->stages));
                for (uint32_t k = 0; k < st->count; k++)
                    v->stages[v->stage_count++] = str_of(st->u.items[k]);
            }
        }
    }

    struct moat_value *reps = moat_map_get(doc, "Replicas");
    if (reps && reps->type == MOAT_V_LIST && reps->count) {
        s->replicas = moat_arena_calloc(a, reps->count * sizeof(*s->replicas));
        for (uint32_t i = 0; i < reps->count; i++) {
            struct sm_replica *r = &s->replicas[s->replica_count++];
            r->region = moat_map_str(reps->u.items[i], "Region");
            r->kms_key_id = moat_map_str(reps->u.items[i], "KmsKeyId");
            r->status = moat_map_str(reps->u.items[i], "Status");
            r->message = moat_map_str(reps->u.items[i], "Message");
        }
    }
    return s;
}

static struct moat_slice secret_json(struct moat_arena *a, const struct sm_secret *s)
{
    struct moat_value *doc = moat_value_map(a);
    moat_map_set_cstr(a, doc, "Account", s->account);
    moat_map_set_cstr(a, doc, "Region", s->region);
    moat_map_set_str(a, doc, "Name", s->name);
    moat_map_set_cstr(a, doc, "ARN", s->arn);
    if (s->has_description)
        moat_map_set_str(a, doc, "Description", s->description);
    if (s->kms_key_id.len)
        moat_map_set_str(a, doc, "KmsKeyId", s->kms_key_id);
    moat_map_set_int(a, doc, "Created", s->created_ms);
    moat_map_set_int(a, doc, "Changed", s->changed_ms);
    if (s->value_changed_ms)
        moat_map_set_int(a, doc, "ValueChanged", s->value_changed_ms);
    if (s->deleted_ms) {
        moat_map_set_int(a, doc, "Deleted", s->deleted_ms);
        moat_map_set_int(a, doc, "DeleteAt", s->delete_at_ms);
    }
    if (s->policy.len)
        moat_map_set_str(a, doc, "Policy", s->policy);
    if (s->owning_service.len)
        moat_map_set_str(a, doc, "OwningService", s->owning_service);
    if (s->primary_region.len)
        moat_map_set_str(a, doc, "PrimaryRegion", s->primary_region);
    if (s->due_key.len)
        moat_map_set_str(a, doc, "Due", s->due_key);
    if (s->tag_count) {
        struct moat_value *tags = moat_value_list(a);
        for (size_t i = 0; i < s->tag_count; i++) {
            struct moat_value *t = moat_value_map(a);
            moat_map_set_str(a, t, "Key", s->tags[i].key);
            moat_map_set_str(a, t, "Value", s->tags[i].value);
            moat_list_push(a, tags, t);
        }
        moat_map_set(a, doc, MOAT_LIT("Tags"), tags);
    }
    if (s->rotation_enabled || s->rotation_lambda.len || s->rotation_days || s->schedule.len ||
        s->rot_token.len || s->last_rotated_ms) {
        struct moat_value *rot = moat_value_map(a);
        moat_map_set_bool(a, rot, "Enabled", s->rotation_enabled);
        if (s->rotation_lambda.len)
            moat_map_set_str(a, rot, "Lambda", s->rotation_lambda);
        if (s->rotation_days)
            moat_map_set_int(a, rot, "Days", s->rotation_days);
        if (s->schedule.len)
            moat_map_set_str(a, rot, "Schedule", s->schedule);
        if (s->duration.len)
            moat_map_set_str(a, rot, "Duration", s->duration);
        if (s->last_rotated_ms)
            moat_map_set_int(a, rot, "LastRotated", s->last_rotated_ms);
        if (s->next_rotation_ms)
            moat_map_set_int(a, rot, "Next", s->next_rotation_ms);
        if (s->rot_token.len) {
            moat_map_set_str(a, rot, "Token", s->rot_token);
            moat_map_set_bool(a, rot, "Test", s->rot_test);
            moat_map_set_int(a, rot, "Due", s->rot_due_ms);
            moat_map_set_int(a, rot, "Attempts", s->rot_attempts);
        }
        if (s->rot_error.len)
            moat_map_set_str(a, rot, "Error", s->rot_error);
        moat_map_set(a, doc, MOAT_LIT("Rotation"), rot);
    }
    struct moat_value *vers = moat_value_list(a);
    for (size_t i = 0; i < s->version_count; i++) {
        const struct sm_version *v = &s->versions[i];
        struct moat_value *vv = moat_value_map(a);
        moat_map_set_str(a, vv, "Id", v->id);
        moat_map_set_int(a, vv, "Created", v->created_ms);
        if (v->key_arn.len)
            moat_map_set_str(a, vv, "Key", v->key_arn);
        struct moat_value *st = moat_value_list(a);
        for (size_t k = 0; k < v->stage_count; k++)
            moat_list_push(a, st, moat_value_string(a, v->stages[k]));
        moat_map_set(a, vv, MOAT_LIT("Stages"), st);
        moat_list_push(a, vers, vv);
    }
    moat_map_set(a, doc, MOAT_LIT("Versions"), vers);
    if (s->replica_count) {
        struct moat_value *reps = moat_value_list(a);
        for (size_t i = 0; i < s->replica_count; i++) {
            const struct sm_replica *r = &s->replicas[i];
            struct moat_value *rv = moat_value_map(a);
            moat_map_set_str(a, rv, "Region", r->region);
            if (r->kms_key_id.len)
                moat_map_set_str(a, rv, "KmsKeyId", r->kms_key_id);
            moat_map_set_str(a, rv, "Status", r->status);
            if (r->message.len)
                moat_map_set_str(a, rv, "Message", r->message);
            moat_list_push(a, reps, rv);
        }
        moat_map_set(a, doc, MOAT_LIT("Replicas"), reps);
    }
    struct moat_buf b;
    moat_buf_init(&b, a, 512);
    moat_json_write(&b, doc);
    return moat_buf_slice(&b);
}

struct sm_secret *sm_secret_new(struct moat_call *call, const char *account, const char *region,
                                struct moat_slice name, const char *arn)
{
    struct moat_arena *a = call->arena;
    struct sm_secret *s = moat_arena_calloc(a, sizeof(*s));
    s->account = account;
    s->region = region;
    s->name = moat_arena_dup(a, name);
    s->arn = arn;
    s->key = sm_secret_key(a, account, region, name);
    s->created_ms = call->now_ms;
    s->changed_ms = call->now_ms;
    return s;
}

/* ---- record access ---------------------------------------------------------------- */

static char tag_of(const char *ns)
{
    return strcmp(ns, SM_NS_SECRET) == 0 ? SM_TAG_SECRET : SM_TAG_VALUE;
}

int sm_record_get(struct moat_call *call, const char *ns, struct moat_slice key,
                  struct moat_slice *value, int64_t *version)
{
    /* Inside the writer's transaction the store is the truth (and may hold uncommitted
     * changes, which must not be cached). */
    if (!call->writable && sm_cache_get(tag_of(ns), key, call->arena, value, version))
        return STORE_OK;
    struct store_record r;
    enum store_status st = store_get(call->db, call->arena, ns, key, &r);
    if (st != STORE_OK)
        return st;
    *value = r.value;
    *version = r.version;
    if (!call->writable)
        sm_cache_put(tag_of(ns), key, r.value, r.version);
    return STORE_OK;
}

int sm_record_put(struct moat_call *call, const char *ns, struct moat_slice key,
                  struct moat_slice value, int64_t expect_version, int64_t *new_version)
{
    int64_t nv = 0;
    enum store_status st = store_put(call->db, ns, key, value, expect_version, &nv);
    if (st == STORE_OK)
        sm_cache_invalidate(tag_of(ns), key, nv);
    if (new_version)
        *new_version = nv;
    return st;
}

int sm_record_delete(struct moat_call *call, const char *ns, struct moat_slice key)
{
    sm_cache_invalidate(tag_of(ns), key, INT64_MAX);
    return store_delete(call->db, ns, key, STORE_ANY_VERSION);
}

/* ---- load and save ---------------------------------------------------------------- */

struct moat_error *sm_secret_load(struct moat_call *call, const char *account, const char *region,
                                  struct moat_slice name, struct sm_secret **out)
{
    *out = NULL;
    const char *key = sm_secret_key(call->arena, account, region, name);
    struct moat_slice value;
    int64_t version;
    int st = sm_record_get(call, SM_NS_SECRET, moat_slice_cstr(key), &value, &version);
    if (st == STORE_NOT_FOUND)
        return NULL;
    if (st != STORE_OK)
        return moat_internal(call, "secretsmanager: reading a secret failed");
    *out = sm_secret_parse(call->arena, moat_slice_cstr(key), value, version);
    if (!*out)
        return moat_internal(call, "secretsmanager: a secret record does not parse");
    return NULL;
}

static bool is_account(struct moat_slice s)
{
    if (s.len != 12)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    return true;
}

/* The random part AWS appends to a secret's name in its ARN: '-' and six characters. */
static bool has_arn_suffix(struct moat_slice rest)
{
    if (rest.len < 8 || rest.ptr[rest.len - 7] != '-')
        return false;
    for (size_t i = rest.len - 6; i < rest.len; i++) {
        uint8_t c = rest.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

struct moat_error *sm_secret_find(struct moat_call *call, struct moat_slice id,
                                  struct sm_secret **out, const char **arn_guess)
{
    *out = NULL;
    const char *account = call->account_id;
    const char *region = call->region;
    struct moat_slice name = id;
    struct moat_slice full_arn = MOAT_NULL_SLICE;
    if (moat_slice_starts_with(id, MOAT_LIT("arn:"))) {
        /* arn:<partition>:secretsmanager:<region>:<account>:secret:<name>[-XXXXXX] */
        struct moat_slice rest = id, part[6];
        for (int i = 0; i < 6; i++)
            if (!moat_slice_split(&rest, ':', &part[i])) {
                rest = MOAT_NULL_SLICE;
                break;
            }
        if (!rest.len || !moat_slice_eq_cstr(part[2], "secretsmanager") ||
            !moat_slice_eq_cstr(part[5], "secret") || !is_account(part[4]) ||
            !moat_slice_eq_cstr(part[3], call->region)) {
            if (arn_guess)
                *arn_guess = moat_arena_cstr(call->arena, id);
            return NULL;
        }
        account = moat_arena_cstr(call->arena, part[4]);
        full_arn = id;
        name = rest;
        if (has_arn_suffix(rest)) {
            struct sm_secret *s;
            struct moat_error *err =
                sm_secret_load(call, account, region, moat_slice_sub(rest, 0, rest.len - 7), &s);
            if (err)
                return err;
            if (s && moat_slice_eq_cstr(full_arn, s->arn)) {
                *out = s;
                return NULL;
            }
        }
    }
    struct sm_secret *s;
    struct moat_error *err = sm_secret_load(call, account, region, name, &s);
    if (err)
        return err;
    /* A partial ARN (no random suffix) finds the secret by name; a full ARN of a secret
     * that was deleted and created again names no secret (its name has the old suffix). */
    *out = s;
    if (!s && arn_guess)
        *arn_guess = full_arn.len ? moat_arena_cstr(call->arena, full_arn)
                                  : moat_arena_printf(call->arena,
                                                      "arn:aws:secretsmanager:%s:%s:secret:%.*s",
                                                      region, account, MOAT_FMT(name));
    return NULL;
}

static const char *due_key_of(struct moat_arena *a, const struct sm_secret *s)
{
    int64_t due = 0;
    if (s->deleted_ms)
        due = s->delete_at_ms;
    else if (s->rot_token.len)
        due = s->rot_due_ms;
    else if (s->rotation_enabled && s->next_rotation_ms && !sm_is_replica(s))
        due = s->next_rotation_ms;
    if (!due)
        return "";
    if (due < 0)
        due = 0;
    return moat_arena_printf(a, "%016lld/%s", (long long)due, s->key);
}

struct moat_error *sm_secret_save(struct moat_call *call, struct sm_secret *s)
{
    struct moat_arena *a = call->arena;
    const char *due = due_key_of(a, s);
    if (!moat_slice_eq_cstr(s->due_key, due)) {
        if (s->due_key.len) {
            enum store_status st = store_delete(call->db, SM_NS_DUE, s->due_key, STORE_ANY_VERSION);
            if (st != STORE_OK && st != STORE_NOT_FOUND)
                return moat_internal(call, "secretsmanager: updating the due index failed");
        }
        if (*due && store_put(call->db, SM_NS_DUE, moat_slice_cstr(due), MOAT_LIT("{}"),
                              STORE_ANY_VERSION, NULL) != STORE_OK)
            return moat_internal(call, "secretsmanager: updating the due index failed");
        s->due_key = moat_slice_cstr(due);
    }
    int64_t nv;
    int st = sm_record_put(call, SM_NS_SECRET, moat_slice_cstr(s->key), secret_json(a, s),
                           s->store_version ? s->store_version : STORE_MUST_NOT_EXIST, &nv);
    if (st == STORE_CONFLICT)
        return moat_fail(call, &sm_invalid_request,
                         "The secret %s was changed by another request at the same time. Try "
                         "again.",
                         s->arn);
    if (st != STORE_OK)
        return moat_internal(call, "secretsmanager: writing a secret failed");
    s->store_version = nv;
    return NULL;
}

struct moat_error *sm_secret_purge(struct moat_call *call, struct sm_secret *s)
{
    for (size_t i = 0; i < s->version_count; i++) {
        int st = sm_record_delete(call, SM_NS_VALUE,
                                  moat_slice_cstr(sm_value_key(call->arena, s, s->versions[i].id)));
        if (st != STORE_OK && st != STORE_NOT_FOUND)
            return moat_internal(call, "secretsmanager: deleting a value failed");
    }
    if (s->due_key.len) {
        enum store_status st = store_delete(call->db, SM_NS_DUE, s->due_key, STORE_ANY_VERSION);
        if (st != STORE_OK && st != STORE_NOT_FOUND)
            return moat_internal(call, "secretsmanager: deleting a due entry failed");
    }
    /* Access notes: the secret's own and its versions' (same keys as the values). */
    for (size_t i = 0; i <= s->version_count; i++) {
        const char *k =
            i < s->version_count ? sm_value_key(call->arena, s, s->versions[i].id) : s->key;
        enum store_status st =
            store_delete(call->db, SM_NS_ACCESS, moat_slice_cstr(k), STORE_ANY_VERSION);
        if (st != STORE_OK && st != STORE_NOT_FOUND)
            return moat_internal(call, "secretsmanager: deleting an access note failed");
    }
    int st = sm_record_delete(call, SM_NS_SECRET, moat_slice_cstr(s->key));
    if (st != STORE_OK && st != STORE_NOT_FOUND)
        return moat_internal(call, "secretsmanager: deleting a secret failed");
    return NULL;
}

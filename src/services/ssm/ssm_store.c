/* ssm_store.c: Parameter Store's records. The current version of a parameter lives in
 * ssm/param under "<account>/<region>/<key>" (so that paths are ordered prefix scans),
 * every kept version in ssm/history under "<...>/<key>#<version>", advanced parameters
 * are indexed in ssm/advanced (for the per-tier quotas) and due policies in ssm/due
 * under "<due ms>/<...>" for the scheduler. Values are compact JSON. */
#include "services/ssm/ssm.h"

#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

const char *ssm_type_name(enum ssm_type t)
{
    switch (t) {
    case SSM_STRING:
        return "String";
    case SSM_STRING_LIST:
        return "StringList";
    default:
        return "SecureString";
    }
}

bool ssm_type_parse(struct moat_slice s, enum ssm_type *out)
{
    if (moat_slice_eq_cstr(s, "String"))
        *out = SSM_STRING;
    else if (moat_slice_eq_cstr(s, "StringList"))
        *out = SSM_STRING_LIST;
    else if (moat_slice_eq_cstr(s, "SecureString"))
        *out = SSM_SECURE_STRING;
    else
        return false;
    return true;
}

const char *ssm_tier_name(enum ssm_tier t)
{
    return t == SSM_TIER_ADVANCED ? "Advanced" : "Standard";
}

struct moat_slice ssm_scope_prefix(struct moat_arena *a, const char *account, const char *region)
{
    char *s = moat_arena_printf(a, "%s/%s/", account, region);
    return moat_slice_cstr(s);
}

struct moat_slice ssm_param_key(struct moat_arena *a, const char *account, const char *region,
                                struct moat_slice key)
{
    char *s = moat_arena_printf(a, "%s/%s/%.*s", account, region, MOAT_FMT(key));
    return moat_slice_cstr(s);
}

static struct moat_slice history_key(struct moat_arena *a, const char *account, const char *region,
                                     struct moat_slice key, int64_t version)
{
    /* '#' is not a name character: "/a#..." never collides with "/a/b#...". */
    char *s = moat_arena_printf(a, "%s/%s/%.*s#%020lld", account, region, MOAT_FMT(key),
                                (long long)version);
    return moat_slice_cstr(s);
}

static struct moat_error *store_failed(struct moat_call *call, enum store_status st,
                                       const char *what)
{
    if (st == STORE_CONFLICT)
        return moat_fail(call, &ssm_too_many_updates,
                         "There are concurrent updates for a resource that supports one update at "
                         "a time.");
    return moat_internal(call, what);
}

/* ---- encoding ---------------------------------------------------------------- */

static void put_key(struct moat_buf *b, bool *first, const char *k)
{
    if (!*first)
        moat_buf_append_u8(b, ',');
    *first = false;
    moat_json_write_string(b, moat_slice_cstr(k));
    moat_buf_append_u8(b, ':');
}

static void put_str(struct moat_buf *b, bool *first, const char *k, struct moat_slice v)
{
    put_key(b, first, k);
    moat_json_write_string(b, v);
}

static void put_int(struct moat_buf *b, bool *first, const char *k, int64_t v)
{
    put_key(b, first, k);
    moat_buf_append_i64(b, v);
}

static struct moat_slice encode(struct moat_arena *a, const struct ssm_param *p, bool current)
{
    struct moat_buf b;
    moat_buf_init(&b, a, 512 + p->value.len);
    bool first = true;
    moat_buf_append_u8(&b, '{');
    put_str(&b, &first, "N", p->name);
    put_str(&b, &first, "K", p->key);
    put_int(&b, &first, "T", p->type);
    put_int(&b, &first, "V", p->version);
    put_int(&b, &first, "Tier", p->tier);
    put_str(&b, &first, "DT", p->data_type);
    if (p->has_description)
        put_str(&b, &first, "D", p->description);
    if (p->has_allowed_pattern)
        put_str(&b, &first, "AP", p->allowed_pattern);
    if (p->type == SSM_SECURE_STRING)
        put_str(&b, &first, "KId", p->key_id);
    put_str(&b, &first, "Val", p->value);
    put_int(&b, &first, "S", p->seal);
    put_int(&b, &first, "M", p->modified_ms);
    put_str(&b, &first, "U", p->modified_user);
    if (p->policy_count) {
        put_key(&b, &first, "P");
        moat_buf_append_u8(&b, '[');
        for (size_t i = 0; i < p->policy_count; i++) {
            moat_buf_append_cstr(&b, i ? ",[" : "[");
            moat_json_write_string(&b, p->policies[i].text);
            moat_buf_append_u8(&b, ',');
            moat_json_write_string(&b, p->policies[i].type);
            moat_buf_append_u8(&b, ',');
            moat_json_write_string(&b, p->policies[i].status);
            moat_buf_printf(&b, ",%lld,%lld]", (long long)p->policies[i].at_ms,
                            (long long)p->policies[i].period_ms);
        }
        moat_buf_append_u8(&b, ']');
        put_int(&b, &first, "PC", p->policies_created_ms);
    }
    if (current) {
        if (p->label_count) {
            put_key(&b, &first, "L");
            moat_buf_append_u8(&b, '[');
            for (size_t i = 0; i < p->label_count; i++) {
                moat_buf_append_cstr(&b, i ? ",[" : "[");
                moat_json_write_string(&b, p->label_names[i]);
                moat_buf_append_u8(&b, ',');
                moat_buf_append_i64(&b, p->label_versions[i]);
                moat_buf_append_u8(&b, ']');
            }
            moat_buf_append_u8(&b, ']');
        }
        if (p->tag_count) {
            put_key(&b, &first, "Tags");
            moat_buf_append_u8(&b, '[');
            for (size_t i = 0; i < p->tag_count; i++) {
                moat_buf_append_cstr(&b, i ? ",[" : "[");
                moat_json_write_string(&b, p->tags[i].key);
                moat_buf_append_u8(&b, ',');
                moat_json_write_string(&b, p->tags[i].value);
                moat_buf_append_u8(&b, ']');
            }
            moat_buf_append_u8(&b, ']');
        }
        put_int(&b, &first, "Old", p->oldest_version);
        if (p->due_count) {
            put_key(&b, &first, "Due");
            moat_buf_append_u8(&b, '[');
            for (size_t i = 0; i < p->due_count; i++) {
                if (i)
                    moat_buf_append_u8(&b, ',');
                moat_json_write_string(&b, p->due_keys[i]);
            }
            moat_buf_append_u8(&b, ']');
        }
    }
    moat_buf_append_u8(&b, '}');
    return moat_buf_slice(&b);
}

/* ---- decoding ------------------------------------------------------------------ */

static bool get_str(const struct moat_value *m, const char *k, struct moat_slice *out)
{
    struct moat_value *v = moat_map_get(m, k);
    if (!v || v->type != MOAT_V_STRING)
        return false;
    *out = v->u.s;
    return true;
}

/* A list of n-string tuples ([["a","b"], ...]); false when malformed. */
static bool tuple_at(const struct moat_value *list, uint32_t i, uint32_t n)
{
    const struct moat_value *t = list->u.items[i];
    if (t->type != MOAT_V_LIST || t->count != n)
        return false;
    return true;
}

bool ssm_record_decode(struct moat_arena *a, struct moat_slice json, struct ssm_param *out)
{
    memset(out, 0, sizeof(*out));
    struct moat_value *m;
    if (!moat_json_parse(a, json, 0, &m, NULL) || m->type != MOAT_V_MAP)
        return false;
    int64_t type = moat_map_int(m, "T", -1), tier = moat_map_int(m, "Tier", -1),
            seal = moat_map_int(m, "S", -1);
    if (type < 0 || type > SSM_SECURE_STRING || tier < 0 || tier > SSM_TIER_ADVANCED || seal < 0 ||
        seal > SSM_SEAL_KMS_ENVELOPE)
        return false;
    out->type = (enum ssm_type)type;
    out->tier = (enum ssm_tier)tier;
    out->seal = (enum ssm_seal)seal;
    if (!get_str(m, "N", &out->name) || !get_str(m, "K", &out->key) ||
        !get_str(m, "DT", &out->data_type) || !get_str(m, "Val", &out->value) ||
        !get_str(m, "U", &out->modified_user))
        return false;
    out->version = moat_map_int(m, "V", 0);
    out->modified_ms = moat_map_int(m, "M", 0);
    out->has_description = get_str(m, "D", &out->description);
    out->has_allowed_pattern = get_str(m, "AP", &out->allowed_pattern);
    if (out->type == SSM_SECURE_STRING && !get_str(m, "KId", &out->key_id))
        return false;
    out->policies_created_ms = moat_map_int(m, "PC", 0);
    out->oldest_version = moat_map_int(m, "Old", 1);
    struct moat_value *pl = moat_map_get(m, "P");
    if (pl && pl->type == MOAT_V_LIST) {
        out->policies = moat_arena_calloc(a, (pl->count ? pl->count : 1) * sizeof(*out->policies));
        for (uint32_t i = 0; i < pl->count; i++) {
            if (!tuple_at(pl, i, 5))
                return false;
            struct moat_value **t = pl->u.items[i]->u.items;
            if (t[0]->type != MOAT_V_STRING || t[1]->type != MOAT_V_STRING ||
                t[2]->type != MOAT_V_STRING || !moat_value_as_int(t[3], &out->policies[i].at_ms) ||
                !moat_value_as_int(t[4], &out->policies[i].period_ms))
                return false;
            out->policies[i].text = t[0]->u.s;
            out->policies[i].type = t[1]->u.s;
            out->policies[i].status = t[2]->u.s;
        }
        out->policy_count = pl->count;
    }
    struct moat_value *ll = moat_map_get(m, "L");
    if (ll && ll->type == MOAT_V_LIST && ll->count) {
        out->label_names = moat_arena_alloc(a, ll->count * sizeof(*out->label_names));
        out->label_versions = moat_arena_alloc(a, ll->count * sizeof(*out->label_versions));
        for (uint32_t i = 0; i < ll->count; i++) {
            if (!tuple_at(ll, i, 2))
                return false;
            struct moat_value **t = ll->u.items[i]->u.items;
            if (t[0]->type != MOAT_V_STRING || !moat_value_as_int(t[1], &out->label_versions[i]))
                return false;
            out->label_names[i] = t[0]->u.s;
        }
        out->label_count = ll->count;
    }
    struct moat_value *tl = moat_map_get(m, "Tags");
    if (tl && tl->type == MOAT_V_LIST && tl->count) {
        out->tags = moat_arena_alloc(a, tl->count * sizeof(*out->tags));
        for (uint32_t i = 0; i < tl->count; i++) {
            if (!tuple_at(tl, i, 2))
                return false;
            struct moat_value **t = tl->u.items[i]->u.items;
            if (t[0]->type != MOAT_V_STRING || t[1]->type != MOAT_V_STRING)
                return false;
            out->tags[i].key = t[0]->u.s;
            out->tags[i].value = t[1]->u.s;
        }
        out->tag_count = tl->count;
    }
    struct moat_value *dl = moat_map_get(m, "Due");
    if (dl && dl->type == MOAT_V_LIST && dl->count) {
        out->due_keys = moat_arena_alloc(a, dl->count * sizeof(*out->due_keys));
        for (uint32_t i = 0; i < dl->count; i++) {
            if (dl->u.items[i]->type != MOAT_V_STRING)
                return false;
            out->due_keys[i] = dl->u.items[i]->u.s;
        }
        out->due_count = dl->count;
    }
    return true;
}

int64_t ssm_label_version(const struct ssm_param *p, struct moat_slice label)
{
    for (size_t i = 0; i < p->label_count; i++)
        if (moat_slice_eq(p->label_names[i], label))
            return p->label_versions[i];
    return 0;
}

/* ---- loads ------------------------------------------------------------------------ */

/* The first parameter a read-only call loads, kept for its handler: authorization loads
 * it for the resource tags, the handler then needs it again. Mutating calls reload inside
 * the writer's transaction. */
struct loaded {
    struct moat_slice key;
    struct ssm_param p;
    bool found;
};

struct moat_error *ssm_load(struct moat_call *call, struct moat_slice key, struct ssm_param *out,
                            bool *found)
{
    struct store_record r;
    *found = false;
    struct loaded *memo = call->service_data;
    if (memo && !call->writable && moat_slice_eq(memo->key, key)) {
        *out = memo->p;
        *found = memo->found;
        return NULL;
    }
    struct moat_slice k = ssm_param_key(call->arena, call->account_id, call->region, key);
    enum store_status st = store_get(call->db, call->arena, SSM_NS_PARAM, k, &r);
    if (st != STORE_OK && st != STORE_NOT_FOUND)
        return moat_internal(call, "ssm: parameter read failed");
    if (st == STORE_NOT_FOUND)
        memset(out, 0, sizeof(*out));
    if (st == STORE_OK) {
        if (!ssm_record_decode(call->arena, r.value, out))
            return moat_internal(call, "ssm: corrupt parameter record");
        out->store_version = r.version;
        *found = true;
    }
    if (!memo && !call->writable) {
        memo = moat_arena_alloc(call->arena, sizeof(*memo));
        memo->key = key;
        memo->p = *out;
        memo->found = *found;
        call->service_data = memo;
    }
    return NULL;
}

struct moat_error *ssm_load_version(struct moat_call *call, struct moat_slice key, int64_t version,
                                    struct ssm_param *out, bool *found)
{
    struct store_record r;
    *found = false;
    struct moat_slice k = history_key(call->arena, call->account_id, call->region, key, version);
    enum store_status st = store_get(call->db, call->arena, SSM_NS_HISTORY, k, &r);
    if (st == STORE_NOT_FOUND)
        return NULL;
    if (st != STORE_OK)
        return moat_internal(call, "ssm: history read failed");
    if (!ssm_record_decode(call->arena, r.value, out))
        return moat_internal(call, "ssm: corrupt history record");
    *found = true;
    return NULL;
}

/* ---- writes ---------------------------------------------------------------------- */

struct moat_error *ssm_store_current(struct moat_call *call, const struct ssm_param *p,
                                     bool new_version)
{
    struct moat_arena *a = call->arena;
    struct moat_slice k = ssm_param_key(a, call->account_id, call->region, p->key);
    enum store_status st =
        store_put(call->db, SSM_NS_PARAM, k, encode(a, p, true),
                  p->store_version ? p->store_version : STORE_MUST_NOT_EXIST, NULL);
    if (st != STORE_OK)
        return store_failed(call, st, "ssm: parameter write failed");
    if (new_version) {
        struct moat_slice hk = history_key(a, call->account_id, call->region, p->key, p->version);
        st = store_put(call->db, SSM_NS_HISTORY, hk, encode(a, p, false), STORE_ANY_VERSION, NULL);
        if (st != STORE_OK)
            return store_failed(call, st, "ssm: history write failed");
    }
    if (p->tier == SSM_TIER_ADVANCED) {
        st = store_put(call->db, SSM_NS_ADVANCED, k, MOAT_LIT("1"), STORE_ANY_VERSION, NULL);
        if (st != STORE_OK)
            return store_failed(call, st, "ssm: tier index write failed");
    }
    return NULL;
}

/* Removes every kept version of a parameter. */
static struct moat_error *delete_history(struct moat_call *call, const char *account,
                                         const char *region, struct moat_slice key)
{
    struct moat_arena *a = call->arena;
    char *prefix = moat_arena_printf(a, "%s/%s/%.*s#", account, region, MOAT_FMT(key));
    struct moat_slice after = MOAT_NULL_SLICE;
    for (;;) {
        struct store_record *recs;
        size_t n;
        bool more;
        if (store_scan(call->db, a, SSM_NS_HISTORY, moat_slice_cstr(prefix), after, 64, &recs, &n,
                       &more) != STORE_OK)
            return moat_internal(call, "ssm: history scan failed");
        for (size_t i = 0; i < n; i++) {
            enum store_status st =
                store_delete(call->db, SSM_NS_HISTORY, recs[i].key, STORE_ANY_VERSION);
            if (st != STORE_OK && st != STORE_NOT_FOUND)
                return moat_internal(call, "ssm: history delete failed");
        }
        if (!more || !n)
            return NULL;
        after = recs[n - 1].key;
    }
}

static struct moat_error *delete_due(struct moat_call *call, const struct ssm_param *p)
{
    for (size_t i = 0; i < p->due_count; i++) {
        enum store_status st =
            store_delete(call->db, SSM_NS_DUE, p->due_keys[i], STORE_ANY_VERSION);
        if (st != STORE_OK && st != STORE_NOT_FOUND)
            return moat_internal(call, "ssm: policy schedule delete failed");
    }
    return NULL;
}

struct moat_error *ssm_store_delete(struct moat_call *call, const char *account, const char *region,
                                    const struct ssm_param *p)
{
    struct moat_arena *a = call->arena;
    struct moat_slice k = ssm_param_key(a, account, region, p->key);
    enum store_status st = store_delete(call->db, SSM_NS_PARAM, k, p->store_version);
    if (st != STORE_OK)
        return store_failed(call, st, "ssm: parameter delete failed");
    struct moat_error *err = delete_history(call, account, region, p->key);
    if (err)
        return err;
    st = store_delete(call->db, SSM_NS_ADVANCED, k, STORE_ANY_VERSION);
    if (st != STORE_OK && st != STORE_NOT_FOUND)
        return moat_internal(call, "ssm: tier index delete failed");
    return delete_due(call, p);
}

struct moat_error *ssm_drop_version(struct moat_call *call, struct moat_slice key, int64_t version)
{
    struct moat_slice hk = history_key(call->arena, call->account_id, call->region, key, version);
    enum store_status st = store_delete(call->db, SSM_NS_HISTORY, hk, STORE_ANY_VERSION);
    if (st != STORE_OK && st != STORE_NOT_FOUND)
        return moat_internal(call, "ssm: history delete failed");
    return NULL;
}

struct moat_error *ssm_count(struct moat_call *call, int64_t *all, int64_t *advanced)
{
    struct moat_slice prefix = ssm_scope_prefix(call->arena, call->account_id, call->region);
    if (store_count(call->db, SSM_NS_PARAM, prefix, all) != STORE_OK ||
        store_count(call->db, SSM_NS_ADVANCED, prefix, advanced) != STORE_OK)
        return moat_internal(call, "ssm: count failed");
    return NULL;
}

/* ---- the policy schedule ------------------------------------------------------------ */

/* When a pending policy is due, or -1 when it has nothing left to do. */
static int64_t policy_due(const struct ssm_param *p, size_t i, int64_t expiration_ms)
{
    const struct ssm_stored_policy *sp = &p->policies[i];
    if (!moat_slice_eq_cstr(sp->status, "Pending"))
        return -1;
    int64_t due;
    if (moat_slice_eq_cstr(sp->type, "Expiration"))
        due = sp->at_ms;
    else if (moat_slice_eq_cstr(sp->type, "ExpirationNotification")) {
        if (expiration_ms == INT64_MIN)
            return -1;
        due = expiration_ms - sp->period_ms;
    } else
        due = p->modified_ms + sp->period_ms;
    return due < 0 ? 0 : due; /* the schedule key has no sign */
}

int64_t ssm_expiration_ms(const struct ssm_param *p)
{
    for (size_t i = 0; i < p->policy_count; i++)
        if (moat_slice_eq_cstr(p->policies[i].type, "Expiration"))
            return p->policies[i].at_ms;
    return INT64_MIN;
}

struct moat_error *ssm_schedule(struct moat_call *call, const char *account, const char *region,
                                struct ssm_param *p)
{
    struct moat_error *err = delete_due(call, p);
    if (err)
        return err;
    p->due_keys = NULL;
    p->due_count = 0;
    if (!p->policy_count)
        return NULL;
    struct moat_arena *a = call->arena;
    p->due_keys = moat_arena_alloc(a, p->policy_count * sizeof(*p->due_keys));
    int64_t expiration = ssm_expiration_ms(p);
    for (size_t i = 0; i < p->policy_count; i++) {
        int64_t due = policy_due(p, i, expiration);
        if (due < 0)
            continue;
        char *key = moat_arena_printf(a, "%016lld/%s/%s/%.*s#%zu", (long long)due, account, region,
                                      MOAT_FMT(p->key), i);
        struct moat_buf v;
        moat_buf_init(&v, a, 128);
        moat_buf_append_cstr(&v, "{\"A\":");
        moat_json_write_string(&v, moat_slice_cstr(account));
        moat_buf_append_cstr(&v, ",\"R\":");
        moat_json_write_string(&v, moat_slice_cstr(region));
        moat_buf_append_cstr(&v, ",\"K\":");
        moat_json_write_string(&v, p->key);
        moat_buf_printf(&v, ",\"I\":%zu}", i);
        enum store_status st = store_put(call->db, SSM_NS_DUE, moat_slice_cstr(key),
                                         moat_buf_slice(&v), STORE_ANY_VERSION, NULL);
        if (st != STORE_OK)
            return moat_internal(call, "ssm: policy schedule write failed");
        p->due_keys[p->due_count++] = moat_slice_cstr(key);
    }
    return NULL;
}

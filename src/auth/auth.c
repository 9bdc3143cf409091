/* auth.c: access-key and session records, the per-thread credential cache,
 * and the authenticate step of the request path. */
#include "auth/auth.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "core/json.h"
#include "core/log.h"
#include "core/thread.h"
#include "crypto/digest.h"
#include "crypto/rootkey.h"
#include "server/server.h"
#include "services/service.h"
#include "store/store.h"

#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const char base32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void auth_new_access_key_id(char out[21], bool temporary)
{
    uint8_t r[16];
    crypto_random(r, sizeof(r));
    memcpy(out, temporary ? "ASIA" : "AKIA", 4);
    for (int i = 0; i < 16; i++)
        out[4 + i] = base32[r[i] & 31];
    out[20] = 0;
}

void auth_new_secret(char out[41])
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t r[40];
    crypto_random(r, sizeof(r));
    for (int i = 0; i < 40; i++)
        out[i] = alpha[r[i] & 63];
    out[40] = 0;
    OPENSSL_cleanse(r, sizeof(r));
}

void auth_new_unique_id(char out[22], const char *prefix)
{
    uint8_t r[17];
    crypto_random(r, sizeof(r));
    memcpy(out, prefix, 4);
    for (int i = 0; i < 17; i++)
        out[4 + i] = base32[r[i] & 31];
    out[21] = 0;
}

bool auth_is_account_id(struct moat_slice s)
{
    if (s.len != 12)
        return false;
    for (size_t i = 0; i < 12; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    return true;
}

static struct moat_slice seal_aad(struct moat_arena *a, const char *ns, struct moat_slice id)
{
    return moat_slice_cstr(moat_arena_printf(a, "%s/%.*s", ns, MOAT_FMT(id)));
}

bool auth_put_access_key(struct moat_server *srv, struct store_conn *db, struct moat_arena *a,
                         const char *account_id, const char *access_key_id, const char *secret,
                         const char *user_name, const char *user_id, const char *user_arn,
                         const char *status, int64_t created_ms)
{
    struct moat_value *rec = moat_value_map(a);
    moat_map_set_cstr(a, rec, "AccountId", account_id);
    moat_map_set_cstr(a, rec, "Type", user_name ? "user" : "root");
    if (user_name) {
        moat_map_set_cstr(a, rec, "UserName", user_name);
        moat_map_set_cstr(a, rec, "UserId", user_id);
        moat_map_set_cstr(a, rec, "UserArn", user_arn);
    }
    moat_map_set_cstr(a, rec, "Status", status);
    moat_map_set_int(a, rec, "CreateDate", created_ms);
    struct moat_slice akid = moat_slice_cstr(access_key_id);
    struct moat_slice sealed = rootkey_seal(srv->rootkey, a, seal_aad(a, AUTH_NS_ACCESS_KEY, akid),
                                            moat_slice_cstr(secret));
    struct moat_buf b64;
    moat_buf_init(&b64, a, sealed.len * 2);
    moat_base64_encode(&b64, sealed);
    moat_map_set_str(a, rec, "Secret", moat_buf_slice(&b64));
    struct moat_buf json;
    moat_buf_init(&json, a, 256);
    moat_json_write(&json, rec);
    enum store_status st =
        store_put(db, AUTH_NS_ACCESS_KEY, akid, moat_buf_slice(&json), STORE_ANY_VERSION, NULL);
    auth_invalidate();
    return st == STORE_OK;
}

bool auth_put_session(struct moat_server *srv, struct store_conn *db, struct moat_arena *a,
                      const char *access_key_id, struct moat_slice secret,
                      struct moat_slice session_token, struct moat_value *rec)
{
    struct moat_slice akid = moat_slice_cstr(access_key_id);
    struct moat_slice sealed =
        rootkey_seal(srv->rootkey, a, seal_aad(a, AUTH_NS_SESSION, akid), secret);
    struct moat_buf b64;
    moat_buf_init(&b64, a, sealed.len * 2);
    moat_base64_encode(&b64, sealed);
    moat_map_set_str(a, rec, "Secret", moat_buf_slice(&b64));
    uint8_t h[32];
    crypto_sha256_one(session_token, h);
    struct moat_buf hex;
    moat_buf_init(&hex, a, 65);
    moat_buf_append_hex(&hex, h, 32);
    moat_map_set_str(a, rec, "TokenHash", moat_buf_slice(&hex));
    struct moat_buf json;
    moat_buf_init(&json, a, 512);
    moat_json_write(&json, rec);
    return store_put(db, AUTH_NS_SESSION, akid, moat_buf_slice(&json), STORE_MUST_NOT_EXIST,
                     NULL) == STORE_OK;
}

enum store_status auth_access_key_record(struct store_conn *db, struct moat_arena *a,
                                         struct moat_slice access_key_id,
                                         struct moat_value **record)
{
    struct store_record r;
    enum store_status st = store_get(db, a, AUTH_NS_ACCESS_KEY, access_key_id, &r);
    if (st != STORE_OK)
        return st;
    if (!moat_json_parse(a, r.value, 0, record, NULL) || (*record)->type != MOAT_V_MAP)
        return STORE_ERROR;
    return STORE_OK;
}

static enum store_status edit_access_key(struct store_conn *db, struct moat_arena *a,
                                         struct moat_slice access_key_id, const char *status,
                                         struct moat_slice user_name, struct moat_slice user_arn)
{
    struct store_record r;
    enum store_status st = store_get(db, a, AUTH_NS_ACCESS_KEY, access_key_id, &r);
    if (st != STORE_OK)
        return st;
    struct moat_value *rec;
    if (!moat_json_parse(a, r.value, 0, &rec, NULL) || rec->type != MOAT_V_MAP)
        return STORE_ERROR;
    if (status)
        moat_map_set_cstr(a, rec, "Status", status);
    if (user_name.len) {
        moat_map_set_str(a, rec, "UserName", user_name);
        moat_map_set_str(a, rec, "UserArn", user_arn);
    }
    struct moat_buf json;
    moat_buf_init(&json, a, r.value.len + 64);
    moat_json_write(&json, rec);
    st = store_put(db, AUTH_NS_ACCESS_KEY, access_key_id, moat_buf_slice(&json), r.version, NULL);
    auth_invalidate();
    return st;
}

enum store_status auth_access_key_set_status(struct store_conn *db, struct moat_arena *a,
                                             struct moat_slice access_key_id, const char *status)
{
    return edit_access_key(db, a, access_key_id, status, MOAT_NULL_SLICE, MOAT_NULL_SLICE);
}

enum store_status auth_access_key_set_owner(struct store_conn *db, struct moat_arena *a,
                                            struct moat_slice access_key_id,
                                            struct moat_slice user_name, struct moat_slice user_arn)
{
    return edit_access_key(db, a, access_key_id, NULL, user_name, user_arn);
}

enum store_status auth_access_key_delete(struct store_conn *db, struct moat_slice access_key_id)
{
    enum store_status st = store_delete(db, AUTH_NS_ACCESS_KEY, access_key_id, STORE_ANY_VERSION);
    auth_invalidate();
    return st;
}

bool auth_ensure_account(struct store_conn *db, struct moat_arena *a, const char *account_id,
                         const char *name, const char *email, int64_t now_ms)
{
    struct store_record r;
    struct moat_slice id = moat_slice_cstr(account_id);
    enum store_status st = store_get(db, a, AUTH_NS_ACCOUNT, id, &r);
    if (st == STORE_OK)
        return true;
    if (st != STORE_NOT_FOUND)
        return false;
    struct moat_value *rec = moat_value_map(a);
    moat_map_set_cstr(a, rec, "Id", account_id);
    moat_map_set_cstr(a, rec, "Name", name);
    moat_map_set_cstr(a, rec, "Email", email);
    moat_map_set_int(a, rec, "CreateDate", now_ms);
    struct moat_buf json;
    moat_buf_init(&json, a, 128);
    moat_json_write(&json, rec);
    st = store_put(db, AUTH_NS_ACCOUNT, id, moat_buf_slice(&json), STORE_MUST_NOT_EXIST, NULL);
    return st == STORE_OK || st == STORE_CONFLICT;
}

bool auth_account_exists(struct store_conn *db, struct moat_arena *a, struct moat_slice account_id)
{
    struct store_record r;
    return store_get(db, a, AUTH_NS_ACCOUNT, account_id, &r) == STORE_OK;
}

/* ---- per-thread credential cache ------------------------------------------ */

#define CACHE_SLOTS 64
#define CACHE_TTL_MS 2000 /* other nodes' changes are seen within this time */

struct cache_entry {
    char akid[32];
    uint8_t token_hash[32];
    bool has_token;
    uint8_t *secret;
    size_t secret_len;
    char *record; /* JSON text */
    int64_t loaded_ms;
    uint64_t generation;
};

static _Atomic uint64_t cache_generation = 1;
static _Atomic int64_t changes_in_flight;
static __thread struct cache_entry *cache;

static void entry_clear(struct cache_entry *e)
{
    if (e->secret) {
        OPENSSL_cleanse(e->secret, e->secret_len);
        free(e->secret);
    }
    free(e->record);
    memset(e, 0, sizeof(*e));
}

static void cache_free(void *unused)
{
    if (!cache)
        return;
    for (int i = 0; i < CACHE_SLOTS; i++)
        entry_clear(&cache[i]);
    free(cache);
    cache = NULL;
}

void auth_invalidate(void)
{
    atomic_fetch_add(&cache_generation, 1);
}

static void state_changed(void *unused)
{
    atomic_fetch_add(&cache_generation, 1);
    atomic_fetch_sub(&changes_in_flight, 1);
}

void auth_state_changing(struct moat_call *call)
{
    /* Calling it twice for one call is harmless: each call is undone by its cleanup. */
    atomic_fetch_add(&changes_in_flight, 1);
    atomic_fetch_add(&cache_generation, 1);
    moat_arena_on_free(call->arena, state_changed, NULL);
}

uint64_t auth_state_generation(void)
{
    return atomic_load(&cache_generation) ^ (moat_state_generation() << 40);
}

bool auth_state_settled(void)
{
    return atomic_load(&changes_in_flight) == 0;
}

static size_t slot_of(struct moat_slice akid)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < akid.len; i++)
        h = (h ^ akid.ptr[i]) * 1099511628211ull;
    return h % CACHE_SLOTS;
}

static void principal_from_record(struct moat_arena *a, struct moat_slice akid,
                                  struct moat_value *rec, bool session, struct iam_principal *p)
{
    memset(p, 0, sizeof(*p));
    p->account_id = moat_map_str(rec, "AccountId");
    p->access_key_id = akid;
    if (session) {
        struct moat_value *pr = moat_map_get(rec, "Principal");
        struct moat_slice type = moat_map_str(pr, "Type");
        p->temporary = true;
        if (moat_slice_eq_cstr(type, "AssumedRole"))
            p->type = IAM_PRINCIPAL_ASSUMED_ROLE;
        else if (moat_slice_eq_cstr(type, "FederatedUser"))
            p->type = IAM_PRINCIPAL_FEDERATED_USER;
        else if (moat_slice_eq_cstr(type, "Root"))
            p->type = IAM_PRINCIPAL_ROOT;
        else
            p->type = IAM_PRINCIPAL_USER;
        p->arn = moat_map_str(pr, "Arn");
        p->principal_id = moat_map_str(pr, "PrincipalId");
        p->name = moat_map_str(pr, "Name");
        p->role_arn = moat_map_str(pr, "RoleArn");
        p->role_name = moat_map_str(pr, "RoleName");
        p->role_id = moat_map_str(pr, "RoleId");
        p->parent_user_arn = moat_map_str(pr, "ParentUserArn");
        p->parent_user_id = moat_map_str(pr, "ParentUserId");
        p->issued_at_ms = moat_map_int(rec, "IssuedAt", 0);
        p->expires_at_ms = moat_map_int(rec, "Expiration", 0);
        p->mfa_authenticated = moat_map_bool(rec, "MfaAuthenticated", false);
        p->mfa_auth_time_ms = moat_map_int(rec, "MfaAuthTime", 0);
        p->source_identity = moat_map_str(rec, "SourceIdentity");
        struct moat_value *tags = moat_map_get(rec, "Tags");
        if (tags && tags->type == MOAT_V_MAP && tags->count) {
            struct iam_tag *t = moat_arena_alloc(a, tags->count * sizeof(*t));
            for (uint32_t i = 0; i < tags->count; i++) {
                t[i].key = tags->u.entries[i].key;
                t[i].value = moat_value_is_string(tags->u.entries[i].value)
                                 ? tags->u.entries[i].value->u.s
                                 : MOAT_LIT("");
            }
            p->tags = t;
            p->tag_count = tags->count;
        }
        struct moat_value *tk = moat_map_get(rec, "TransitiveTagKeys");
        if (tk && tk->type == MOAT_V_LIST && tk->count) {
            struct moat_slice *keys = moat_arena_alloc(a, tk->count * sizeof(*keys));
            for (uint32_t i = 0; i < tk->count; i++)
                keys[i] = moat_value_is_string(tk->u.items[i]) ? tk->u.items[i]->u.s : MOAT_LIT("");
            p->transitive_tag_keys = keys;
            p->transitive_tag_key_count = tk->count;
        }
        return;
    }
    if (moat_slice_eq_cstr(moat_map_str(rec, "Type"), "user")) {
        p->type = IAM_PRINCIPAL_USER;
        p->arn = moat_map_str(rec, "UserArn");
        p->principal_id = moat_map_str(rec, "UserId");
        p->name = moat_map_str(rec, "UserName");
    } else {
        p->type = IAM_PRINCIPAL_ROOT;
        p->arn = moat_slice_cstr(
            moat_arena_printf(a, "arn:aws:iam::%.*s:root", MOAT_FMT(p->account_id)));
        p->principal_id = p->account_id;
    }
}

enum sigv4_status auth_lookup(struct moat_server *srv, struct store_conn *db, struct moat_arena *a,
                              struct moat_slice akid, struct moat_slice token, int64_t now_ms,
                              struct auth_credential *out)
{
    memset(out, 0, sizeof(*out));
    if (akid.len < 16 || akid.len >= 32)
        return SIGV4_UNKNOWN_KEY;
    bool session = moat_slice_starts_with(akid, MOAT_LIT("ASIA"));
    const char *ns = session ? AUTH_NS_SESSION : AUTH_NS_ACCESS_KEY;
    if (!cache) {
        cache = moat_xcalloc(CACHE_SLOTS, sizeof(*cache));
        moat_thread_on_exit(cache_free, NULL);
    }
    struct cache_entry *e = &cache[slot_of(akid)];
    uint64_t gen = auth_state_generation();
    bool settled = auth_state_settled();
    int64_t mono = moat_clock_monotonic_ms();
    bool hit = e->record && e->generation == gen && mono - e->loaded_ms < CACHE_TTL_MS &&
               strlen(e->akid) == akid.len && memcmp(e->akid, akid.ptr, akid.len) == 0;
    struct moat_slice record_text, secret;
    uint8_t token_hash[32];
    bool has_token = false;
    if (hit) {
        record_text = moat_arena_dup(a, moat_slice_cstr(e->record));
        uint8_t *s = moat_arena_alloc(a, e->secret_len + 1);
        memcpy(s, e->secret, e->secret_len);
        s[e->secret_len] = 0;
        moat_arena_wipe_on_free(a, s, e->secret_len);
        secret = moat_slice(s, e->secret_len);
        memcpy(token_hash, e->token_hash, 32);
        has_token = e->has_token;
    } else {
        struct store_record r;
        enum store_status st = store_get(db, a, ns, akid, &r);
        if (st != STORE_OK)
            return SIGV4_UNKNOWN_KEY;
        record_text = r.value;
        struct moat_value *rec;
        if (!moat_json_parse(a, r.value, 0, &rec, NULL))
            return SIGV4_UNKNOWN_KEY;
        struct moat_slice sealed;
        if (!moat_base64_decode(a, moat_map_str(rec, "Secret"), &sealed) ||
            !rootkey_unseal(srv->rootkey, a, seal_aad(a, ns, akid), sealed, &secret)) {
            moat_log_error("credential record for an access key does not unseal");
            return SIGV4_UNKNOWN_KEY;
        }
        struct moat_slice th;
        if (session && moat_hex_decode(a, moat_map_str(rec, "TokenHash"), &th) && th.len == 32) {
            memcpy(token_hash, th.ptr, 32);
            has_token = true;
        }
        /* Cached only when no change was in flight while it was read (auth.h). */
        if (settled && auth_state_generation() == gen) {
            entry_clear(e);
            memcpy(e->akid, akid.ptr, akid.len);
            e->secret = moat_xmalloc(secret.len);
            memcpy(e->secret, secret.ptr, secret.len);
            e->secret_len = secret.len;
            e->record = moat_xmalloc(r.value.len + 1);
            memcpy(e->record, r.value.ptr, r.value.len);
            e->record[r.value.len] = 0;
            e->loaded_ms = mono;
            e->generation = gen;
            memcpy(e->token_hash, token_hash, 32);
            e->has_token = has_token;
        }
    }
    struct moat_value *rec;
    if (!moat_json_parse(a, record_text, 0, &rec, NULL))
        return SIGV4_UNKNOWN_KEY;
    if (session) {
        if (!token.len || !has_token)
            return SIGV4_BAD_TOKEN;
        uint8_t h[32];
        crypto_sha256_one(token, h);
        if (CRYPTO_memcmp(h, token_hash, 32) != 0)
            return SIGV4_BAD_TOKEN;
        if (moat_map_int(rec, "Expiration", 0) <= now_ms)
            return SIGV4_EXPIRED_TOKEN;
    }
    out->record = rec;
    out->secret = secret;
    out->active = moat_slice_eq_cstr(moat_map_str(rec, "Status"), "Active") || session;
    principal_from_record(a, akid, rec, session, &out->principal);
    return SIGV4_OK;
}

bool auth_root_credentials(struct moat_server *srv, struct store_conn *db, struct moat_arena *a,
                           const char *account_id, const char **access_key_id, const char **secret)
{
    struct store_record r;
    struct moat_value *acct;
    if (store_get(db, a, AUTH_NS_ACCOUNT, moat_slice_cstr(account_id), &r) != STORE_OK ||
        !moat_json_parse(a, r.value, 0, &acct, NULL))
        return false;
    struct moat_slice akid = moat_map_str(acct, "RootAccessKeyId");
    if (!akid.len)
        return false;
    struct auth_credential cred;
    if (auth_lookup(srv, db, a, akid, MOAT_NULL_SLICE, moat_clock_now_ms(), &cred) != SIGV4_OK)
        return false;
    *access_key_id = moat_arena_cstr(a, akid);
    *secret = moat_arena_cstr(a, cred.secret);
    return true;
}

/* ---- the authenticate step ------------------------------------------------- */

struct moat_error *auth_authenticate(struct moat_call *call, const struct sigv4_request *req,
                                     const struct sigv4_auth *parsed)
{
    struct moat_arena *a = call->arena;
    struct moat_server *srv = call->server;
    call->access_key_id = parsed->access_key_id;
    call->region = moat_arena_cstr(a, parsed->region);
    struct iam_principal *p = moat_arena_calloc(a, sizeof(*p));
    call->principal = p;

    if (srv->config.auth == MOAT_AUTH_PERMISSIVE) {
        /* Drop-in mode: any well-formed signature is the root user of the account
         * the access key id names (12 digits), or of the default account. */
        struct moat_slice acct = auth_is_account_id(parsed->access_key_id)
                                     ? parsed->access_key_id
                                     : moat_slice_cstr(srv->config.account_id);
        p->type = IAM_PRINCIPAL_ROOT;
        p->account_id = moat_arena_dup(a, acct);
        p->principal_id = p->account_id;
        p->arn = moat_slice_cstr(moat_arena_printf(a, "arn:aws:iam::%.*s:root", MOAT_FMT(acct)));
        p->access_key_id = parsed->access_key_id;
        call->account_id = moat_arena_cstr(a, acct);
        return NULL;
    }

    struct auth_credential cred;
    enum sigv4_status st = auth_lookup(srv, call->db, a, parsed->access_key_id,
                                       parsed->security_token, call->now_ms, &cred);
    if (st == SIGV4_OK && !cred.active)
        st = SIGV4_UNKNOWN_KEY;
    if (st != SIGV4_OK)
        return sigv4_error(a, call->protocol, st, NULL);
    *p = cred.principal;
    call->account_id = moat_arena_cstr(a, p->account_id);
    struct moat_slice canonical, sts;
    st = sigv4_verify(a, req, parsed, cred.secret, &canonical, &sts);
    if (st != SIGV4_OK) {
        struct moat_error *e = sigv4_error(a, call->protocol, st, NULL);
        if (call->protocol == MOAT_PROTO_REST_XML && st == SIGV4_MISMATCH) {
            moat_error_add_extra(a, e, "AWSAccessKeyId", parsed->access_key_id);
            moat_error_add_extra(a, e, "StringToSign", sts);
            moat_error_add_extra(a, e, "SignatureProvided", parsed->signature);
            moat_error_add_extra(a, e, "CanonicalRequest", canonical);
        }
        return e;
    }
    return NULL;
}

/* auth.h: credentials and authentication. Access keys (long-term AKIA… and
 * session ASIA…) live in the store with their secrets sealed under the root
 * key; authenticate() turns a signed request into a principal. */
#ifndef MOAT_AUTH_H
#define MOAT_AUTH_H

#include "aws/sigv4.h"
#include "iam/iam_principal.h"
#include "store/store.h"

struct moat_server;
struct store_conn;
struct moat_call;

/* Store namespaces (values are JSON documents). */
#define AUTH_NS_ACCESS_KEY "auth/akid" /* AKIA… -> owner, sealed secret, status */
#define AUTH_NS_SESSION "auth/session" /* ASIA… -> session principal, sealed secret, token hash */
#define AUTH_NS_ACCOUNT "auth/account" /* 12-digit id -> account facts */

struct auth_credential {
    struct iam_principal principal;
    struct moat_slice secret;  /* plaintext in the arena, wiped with it */
    bool active;               /* Status Active (inactive keys fail like unknown ones) */
    struct moat_value *record; /* the stored record (sessions: policies, tags...) */
};

/* Looks up an access key id (and, for ASIA… keys, checks the session token).
 * SIGV4_OK, SIGV4_UNKNOWN_KEY, SIGV4_BAD_TOKEN or SIGV4_EXPIRED_TOKEN. Uses a
 * per-thread cache that auth_invalidate() flushes on every thread. */
enum sigv4_status auth_lookup(struct moat_server *srv, struct store_conn *db, struct moat_arena *a,
                              struct moat_slice access_key_id, struct moat_slice session_token,
                              int64_t now_ms, struct auth_credential *out);
/* Drops every thread's cached credentials (after a key or session change). */
void auth_invalidate(void);

/* Caches of state that IAM, STS and Organizations write (credentials, principals'
 * policies, SCPs) follow one protocol. A mutating handler calls auth_state_changing
 * before it writes: the generation moves at once and again when the call's arena is
 * freed (after its commit and response), and until then loads are not cached. A loader
 * reads auth_state_generation() and auth_state_settled() before loading and caches its
 * result (tagged with that generation) only if the state was settled and the generation
 * has not moved when it is done; an entry is valid while the generation is unchanged
 * (plus a short TTL for other nodes' writes). */
void auth_state_changing(struct moat_call *call);
uint64_t auth_state_generation(void);
bool auth_state_settled(void);

/* The authenticate step of the request path: SigV4 parse, credential lookup
 * and verification (or, in permissive mode, parse only and the root user of
 * the account named by a 12-digit access key id). Fills call->principal,
 * call->account_id, call->region and call->access_key_id. */
struct moat_error *auth_authenticate(struct moat_call *call, const struct sigv4_request *req,
                                     const struct sigv4_auth *parsed);

/* ---- records ----------------------------------------------------------- */

/* A new access key id ("AKIA"/"ASIA" + 16 base32 characters) and a 40-character secret. */
void auth_new_access_key_id(char out[21], bool temporary);
void auth_new_secret(char out[41]);
/* A unique id with the given 4-letter prefix (AIDA, AROA, ANPA...) + 17 characters. */
void auth_new_unique_id(char out[22], const char *prefix);

/* Writes an access key record for the root user or an IAM user (user_name NULL = root).
 * Secret sealed under the root key. expect: STORE_MUST_NOT_EXIST or a version. */
bool auth_put_access_key(struct moat_server *srv, struct store_conn *db, struct moat_arena *a,
                         const char *account_id, const char *access_key_id, const char *secret,
                         const char *user_name, const char *user_id, const char *user_arn,
                         const char *status, int64_t created_ms);

/* Writes a temporary credential: `rec` is the session record (auth.c reads AccountId,
 * Expiration, IssuedAt, MfaAuthenticated, MfaAuthTime, SourceIdentity, Tags,
 * TransitiveTagKeys and Principal; IAM reads Policy and PolicyArns); this adds the
 * secret sealed under the root key and the SHA-256 of the session token. */
bool auth_put_session(struct moat_server *srv, struct store_conn *db, struct moat_arena *a,
                      const char *access_key_id, struct moat_slice secret,
                      struct moat_slice session_token, struct moat_value *rec);

/* Edits an access key record (IAM UpdateAccessKey, UpdateUser, DeleteAccessKey). Each
 * returns a store status; NOT_FOUND when the key does not exist. */
enum store_status auth_access_key_set_status(struct store_conn *db, struct moat_arena *a,
                                             struct moat_slice access_key_id, const char *status);
enum store_status auth_access_key_set_owner(struct store_conn *db, struct moat_arena *a,
                                            struct moat_slice access_key_id,
                                            struct moat_slice user_name,
                                            struct moat_slice user_arn);
enum store_status auth_access_key_delete(struct store_conn *db, struct moat_slice access_key_id);
/* The stored record of an access key (no secret), parsed into the arena. */
enum store_status auth_access_key_record(struct store_conn *db, struct moat_arena *a,
                                         struct moat_slice access_key_id,
                                         struct moat_value **record);

/* Creates the account record if absent. */
bool auth_ensure_account(struct store_conn *db, struct moat_arena *a, const char *account_id,
                         const char *name, const char *email, int64_t now_ms);
bool auth_account_exists(struct store_conn *db, struct moat_arena *a, struct moat_slice account_id);

/* The root access key of an account recorded at bootstrap (for `moat env`). */
bool auth_root_credentials(struct moat_server *srv, struct store_conn *db, struct moat_arena *a,
                           const char *account_id, const char **access_key_id, const char **secret);

/* True for a 12-digit account id. */
bool auth_is_account_id(struct moat_slice s);

#endif

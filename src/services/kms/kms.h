/* kms.h: what the KMS files share: key specs and states, the key record and
 * its cached, unsealed form, key resolution, the blob format and handlers. */
#ifndef MOAT_KMS_H
#define MOAT_KMS_H

#include "iam/iam_principal.h"
#include "services/service.h"

#include <openssl/evp.h>

struct iam_policy;
struct moat_server;

/* ---- error kinds (kms_errors.c) ------------------------------------------ */

extern const struct moat_error_kind kms_validation_exception;
extern const struct moat_error_kind kms_access_denied;
extern const struct moat_error_kind kms_custom_key_store_not_found;
extern const struct moat_error_kind kms_unsupported_operation;
extern const struct moat_error_kind kms_not_found;
extern const struct moat_error_kind kms_disabled;
extern const struct moat_error_kind kms_invalid_state;
extern const struct moat_error_kind kms_key_unavailable;
extern const struct moat_error_kind kms_invalid_ciphertext;
extern const struct moat_error_kind kms_incorrect_key;
extern const struct moat_error_kind kms_invalid_key_usage;
extern const struct moat_error_kind kms_invalid_grant_token;
extern const struct moat_error_kind kms_invalid_grant_id;
extern const struct moat_error_kind kms_already_exists;
extern const struct moat_error_kind kms_limit_exceeded;
extern const struct moat_error_kind kms_malformed_policy;
extern const struct moat_error_kind kms_invalid_signature;
extern const struct moat_error_kind kms_invalid_mac;
extern const struct moat_error_kind kms_invalid_alias_name;
extern const struct moat_error_kind kms_not_authorized;
extern const struct moat_error_kind kms_tag_exception;
extern const struct moat_error_kind kms_invalid_marker;
extern const struct moat_error_kind kms_invalid_arn;
extern const struct moat_error_kind kms_incorrect_key_material;
extern const struct moat_error_kind kms_expired_import_token;
extern const struct moat_error_kind kms_invalid_import_token;
extern const struct moat_error_kind kms_dry_run_operation;
extern const struct moat_error_kind kms_conflict;

/* ---- key specs (kms_spec.c) ----------------------------------------------- */

enum kms_usage {
    KMS_USAGE_ENCRYPT_DECRYPT = 0,
    KMS_USAGE_SIGN_VERIFY,
    KMS_USAGE_GENERATE_VERIFY_MAC,
    KMS_USAGE_KEY_AGREEMENT,
};

enum kms_family {
    KMS_FAMILY_AES = 0,
    KMS_FAMILY_RSA,
    KMS_FAMILY_EC,
    KMS_FAMILY_ED,
    KMS_FAMILY_HMAC
};

/* One key spec AWS offers. `supported` is false for specs this build cannot
 * implement (ML-DSA and SM2 with OpenSSL 3.0): CreateKey answers honestly. */
struct kms_spec {
    const char *name; /* "RSA_2048" */
    enum kms_family family;
    int bits;          /* RSA modulus, EC field, HMAC key bits, AES key bits */
    const char *curve; /* OpenSSL group name for EC specs */
    unsigned usages;   /* 1 << enum kms_usage */
    bool supported;
    const char *const *encryption_algorithms;
    const char *const *signing_algorithms;
    const char *const *mac_algorithms;
    const char *const *key_agreement_algorithms;
};

const struct kms_spec *kms_spec_find(struct moat_slice name);
const struct kms_spec *kms_spec_symmetric(void);
const char *kms_usage_name(enum kms_usage u);
bool kms_usage_parse(struct moat_slice s, enum kms_usage *out);
/* True when `alg` is in the NULL-terminated list. */
bool kms_alg_in(const char *const *list, struct moat_slice alg);

/* ---- key states ---------------------------------------------------------- */

enum kms_state {
    KMS_STATE_ENABLED = 0,
    KMS_STATE_DISABLED,
    KMS_STATE_PENDING_DELETION,
    KMS_STATE_PENDING_IMPORT,
    KMS_STATE_PENDING_REPLICA_DELETION,
    KMS_STATE_UNAVAILABLE,
    KMS_STATE_CREATING,
    KMS_STATE_UPDATING,
};

const char *kms_state_name(enum kms_state s);
enum kms_state kms_state_parse(struct moat_slice s);

/* ---- keys ---------------------------------------------------------------- */

#define KMS_MATERIAL_ID_LEN 32 /* raw bytes; shown as 64 hex characters */

/* One version of a key's material (rotation keeps the old ones for decryption). */
struct kms_material {
    char id[2 * KMS_MATERIAL_ID_LEN + 1];
    uint8_t raw_id[KMS_MATERIAL_ID_LEN];
    int64_t created_ms;
    struct moat_slice rotation_type; /* "", "AUTOMATIC", "ON_DEMAND" */
    bool imported;
    bool present;                  /* imported material may be deleted or expire */
    int64_t valid_to_ms;           /* imported material: 0 = does not expire */
    struct moat_slice description; /* imported: KeyMaterialDescription */
    struct moat_slice sealed;      /* under the root key */
    /* Filled by kms_key_unseal only: */
    struct moat_slice secret; /* AES/HMAC key bytes, or a private key in PKCS#8 DER */
    EVP_PKEY *pkey;           /* asymmetric keys */
};

struct kms_tag {
    struct moat_slice key, value;
};

/* A key as its record says (all strings NUL-terminated, in the arena that parsed it). */
struct kms_key {
    const char *account, *region, *key_id, *arn;
    int64_t created_ms;
    const struct kms_spec *spec;
    enum kms_usage usage;
    const char *origin; /* AWS_KMS, EXTERNAL */
    bool aws_managed;
    enum kms_state state;
    int64_t deletion_ms;
    int pending_days;
    struct moat_slice description;
    bool multi_region;
    bool primary; /* multi-region: this copy is the primary */
    const char *primary_region;
    const char **replicas;
    size_t replica_count;
    bool rotation_enabled;
    int rotation_days;
    int64_t next_rotation_ms;
    int64_t on_demand_rotation_ms;
    struct moat_slice policy;
    struct kms_tag *tags;
    size_t tag_count;
    struct moat_slice *aliases; /* alias names pointing at the key */
    size_t alias_count;
    struct kms_material *materials;
    size_t material_count;
    struct kms_material *current; /* NULL until material is imported */
    int64_t valid_to_ms;          /* imported current material */
    bool expires;                 /* ExpirationModel KEY_MATERIAL_EXPIRES */
    struct moat_value *doc;       /* the parsed record (a map) */
    int64_t version;              /* store version of the record */
};

/* What a KeyId parameter names. */
struct kms_ref {
    const char *account, *region, *key_id;
    const char *alias; /* "alias/x" when named by an alias */
    const char *alias_arn;
};

#define KMS_NS_KEY "kms/key"
#define KMS_NS_ALIAS "kms/alias"
#define KMS_NS_GRANT "kms/grant"

/* "arn:aws:kms:<region>:<account>:key/<id>" in the arena. */
const char *kms_key_arn(struct moat_arena *a, const char *region, const char *account,
                        const char *key_id);
const char *kms_alias_arn(struct moat_arena *a, const char *region, const char *account,
                          const char *alias);
/* The store key "<account>/<region>/<id>". */
struct moat_slice kms_record_key(struct moat_arena *a, const char *account, const char *region,
                                 const char *id);

/* The pieces of a KeyId parameter, without looking anything up. */
enum kms_id_kind { KMS_ID_BAD_KEY = 0, KMS_ID_BAD_ARN, KMS_ID_KEY, KMS_ID_ALIAS };
struct kms_id_parts {
    enum kms_id_kind kind;
    bool arn; /* written as an ARN (region and account set) */
    struct moat_slice region, account;
    struct moat_slice id; /* the key id, or "alias/<name>" */
};
/* True for a well-formed key id, key ARN, alias name or alias ARN. */
bool kms_key_id_parse(struct moat_slice in, struct kms_id_parts *out);

/* Resolves a KeyId parameter (key id, key ARN, alias name or alias ARN) against the
 * caller's account and region. allow_alias false: aliases are refused as AWS does for
 * management operations. Aliases are followed to their key. */
MOAT_MUST_CHECK struct moat_error *kms_resolve(struct moat_call *call, struct moat_slice key_id,
                                               bool allow_alias, struct kms_ref *out);

/* The cached, unsealed key (read-only operations and authorization). The reference
 * lives as long as the call's arena. NotFoundException when absent. */
MOAT_MUST_CHECK struct moat_error *kms_key_get(struct moat_call *call, const struct kms_ref *ref,
                                               const struct kms_key **out,
                                               const struct iam_policy **policy);
/* The record read inside a write (for update): parsed into the call's arena, sealed. */
MOAT_MUST_CHECK struct moat_error *kms_key_read(struct moat_call *call, const char *account,
                                                const char *region, const char *key_id,
                                                struct kms_key *out);
/* Writes key->doc back with the version it was read at (STORE_MUST_NOT_EXIST when
 * version is 0) and drops cached copies. Re-parses the saved record into *key. */
MOAT_MUST_CHECK struct moat_error *kms_key_save(struct moat_call *call, struct kms_key *key);
/* Parses a record; false if it is not a key record. */
bool kms_key_parse(struct moat_arena *a, struct moat_slice record, int64_t version,
                   struct kms_key *out);
/* Unseals every present material into the arena (pkeys freed with it). */
bool kms_key_unseal(struct moat_server *srv, struct moat_arena *a, struct kms_key *key);
/* Drops the cached copy of a key or alias (after a write). */
void kms_cache_forget(const char *ns, struct moat_slice record_key, int64_t new_version);
/* The key's material with this raw id, or NULL. */
const struct kms_material *kms_key_material(const struct kms_key *key, const uint8_t *raw_id);

/* Fails with AWS's state error when the key cannot be used for cryptography
 * (Disabled, PendingDeletion, PendingImport, Unavailable). */
MOAT_MUST_CHECK struct moat_error *kms_require_usable(struct moat_call *call,
                                                      const struct kms_key *key);
/* Fails with KMSInvalidStateException when the key is pending deletion (or replica
 * deletion); `disabled_too` also refuses Disabled with DisabledException. */
MOAT_MUST_CHECK struct moat_error *
kms_require_not_pending(struct moat_call *call, const struct kms_key *key, bool disabled_too);
struct moat_error *kms_state_error(struct moat_call *call, const struct kms_key *key);

/* Seals new material under the root key and appends it to the doc's Materials.
 * Makes it current when `current`. Returns the new material id (hex). */
const char *kms_material_add(struct moat_call *call, struct kms_key *key, struct moat_slice secret,
                             const char *rotation_type, bool imported, int64_t valid_to_ms,
                             bool current);

/* The base64 of a material sealed under the root key, bound to key and material id. */
struct moat_slice kms_material_seal(struct moat_call *call, const struct kms_key *key,
                                    const char *material_id, struct moat_slice secret);
/* Takes imported material away: the key becomes PendingImport. */
MOAT_MUST_CHECK struct moat_error *kms_import_remove(struct moat_call *call, struct kms_key *key);

/* ---- key records: doc helpers (kms_store.c) -------------------------------- */

void kms_doc_set_str(struct moat_arena *a, struct moat_value *doc, const char *k,
                     struct moat_slice v);
void kms_doc_set_int(struct moat_arena *a, struct moat_value *doc, const char *k, int64_t v);
void kms_doc_remove(struct moat_value *doc, const char *k);

/* ---- output -------------------------------------------------------------- */

/* Fills a KeyMetadata struct. */
void kms_key_metadata(struct moat_call *call, const struct kms_key *key, struct moat_value *md);

/* ---- cryptography (kms_crypto.c) ------------------------------------------- */

/* AES-256-GCM with a per-thread context. False only when authentication fails. */
void kms_aes_gcm_seal(const uint8_t key[32], const uint8_t iv[12], struct moat_slice aad1,
                      struct moat_slice aad2, struct moat_slice plain, uint8_t *out,
                      uint8_t tag[16]);
bool kms_aes_gcm_open(const uint8_t key[32], const uint8_t iv[12], struct moat_slice aad1,
                      struct moat_slice aad2, struct moat_slice ct, const uint8_t tag[16],
                      uint8_t *out);
/* New material for a spec: AES/HMAC key bytes or a PKCS#8 private key (wiped with `a`). */
bool kms_crypto_generate(struct moat_arena *a, const struct kms_spec *spec,
                         struct moat_slice *secret);
/* The EVP_PKEY of a PKCS#8 DER private key (caller frees), NULL if malformed. */
EVP_PKEY *kms_crypto_load_private(struct moat_slice der);
/* SubjectPublicKeyInfo DER of a key, in the arena. */
struct moat_slice kms_crypto_public_der(struct moat_arena *a, EVP_PKEY *pkey);
/* Digest name and length of a signing algorithm ("SHA256", 32), NULL if unknown. */
const char *kms_sign_digest(struct moat_slice alg, size_t *len);
/* Signs or verifies; message is the raw message or, for digest=true, its digest. */
bool kms_crypto_sign(struct moat_arena *a, EVP_PKEY *pkey, struct moat_slice alg, bool digest,
                     struct moat_slice msg, struct moat_slice *sig);
bool kms_crypto_verify(EVP_PKEY *pkey, struct moat_slice alg, bool digest, struct moat_slice msg,
                       struct moat_slice sig);
/* RSAES-OAEP with SHA-1 or SHA-256. decrypt returns false on a bad ciphertext. */
bool kms_crypto_rsa_encrypt(struct moat_arena *a, EVP_PKEY *pkey, struct moat_slice alg,
                            struct moat_slice plain, struct moat_slice *out);
bool kms_crypto_rsa_decrypt(struct moat_arena *a, EVP_PKEY *pkey, struct moat_slice alg,
                            struct moat_slice ct, struct moat_slice *out);
/* HMAC with the algorithm's digest. */
bool kms_crypto_hmac(struct moat_slice key, struct moat_slice alg, struct moat_slice msg,
                     uint8_t *out, size_t *out_len);
/* ECDH of our private key with a peer's SubjectPublicKeyInfo DER; false if the peer key
 * is malformed or on another curve. */
bool kms_crypto_ecdh(struct moat_arena *a, EVP_PKEY *pkey, struct moat_slice peer_der,
                     struct moat_slice *secret);
/* Largest plaintext for RSAES_OAEP under a key (bytes). */
size_t kms_crypto_oaep_max(EVP_PKEY *pkey, struct moat_slice alg);
/* RSA_AES_KEY_WRAP: RSA-OAEP-wrapped AES key followed by RFC 5649 wrapped material. */
bool kms_crypto_unwrap_import(struct moat_arena *a, EVP_PKEY *wrapping, struct moat_slice alg,
                              struct moat_slice blob, struct moat_slice *material);

/* ---- symmetric ciphertext blobs (kms_blob.c) -------------------------------- */

/* version(1)=1 | kind(1)=0 | account(12) | key id length(1) | key id | material id(32)
 *   | iv(12) | ciphertext | tag(16)
 * The header (everything before the iv) and the canonical encryption context are the
 * AES-GCM additional data, so a blob names its key and cannot be moved to another. */
struct kms_blob {
    struct moat_slice header;
    struct moat_slice account;
    struct moat_slice key_id;
    const uint8_t *material_id;
    const uint8_t *iv;
    struct moat_slice ciphertext;
    const uint8_t *tag;
};

#define KMS_BLOB_OVERHEAD(key_id_len) (1 + 1 + 12 + 1 + (key_id_len) + 32 + 12 + 16)

/* False when the bytes are not a blob this format can hold (never reads past in). */
bool kms_blob_parse(struct moat_slice in, struct kms_blob *out);
/* The canonical encryption context (pairs sorted by key, length-prefixed) in the arena.
 * ctx may be NULL (empty). */
struct moat_slice kms_context_canonical(struct moat_arena *a, const struct moat_value *ctx);
/* Encrypts under the key's current material. */
MOAT_MUST_CHECK struct moat_error *kms_seal(struct moat_call *call, const struct kms_key *key,
                                            const struct moat_value *ctx, struct moat_slice plain,
                                            struct moat_slice *blob);
/* Decrypts a parsed blob with a key (which the blob must name). */
MOAT_MUST_CHECK struct moat_error *kms_open(struct moat_call *call, const struct kms_key *key,
                                            const struct kms_blob *blob,
                                            const struct moat_value *ctx, struct moat_slice *plain,
                                            const struct kms_material **material);

/* ---- authorization (kms_authz.c) --------------------------------------------- */

/* Per-call state an authz function hands to its handler (call->service_data). */
struct kms_call {
    struct kms_ref ref;
    const struct kms_key *key; /* cached key (NULL for key-less operations) */
    const struct iam_policy *policy;
    struct kms_ref dest_ref; /* ReEncrypt destination, UpdateAlias new target */
    const struct kms_key *dest_key;
    bool blob_parsed; /* Decrypt/ReEncrypt: the blob header */
    struct kms_blob blob;
};

struct kms_call *kms_call_state(struct moat_call *call);
/* The authz functions of the operation rows. */
struct moat_error *kms_authz(struct moat_call *call, const struct moat_value *in,
                             struct moat_authz *authz);
struct moat_error *kms_authz_alias(struct moat_call *call, const struct moat_value *in,
                                   struct moat_authz *authz);
struct moat_error *kms_authz_create_key(struct moat_call *call, const struct moat_value *in,
                                        struct moat_authz *authz);
struct moat_error *kms_authz_retire_grant(struct moat_call *call, const struct moat_value *in,
                                          struct moat_authz *authz);
/* Reads the key ARN and grant id out of a grant token (false if it is not one). */
bool kms_grant_token_parse(struct moat_arena *a, struct moat_slice token, struct moat_slice *arn,
                           struct moat_slice *grant_id);
/* Refuses malformed grant tokens (InvalidGrantTokenException). */
MOAT_MUST_CHECK struct moat_error *kms_check_grant_tokens(struct moat_call *call,
                                                          const struct moat_value *tokens);
/* A grant token for a grant (opaque to clients). */
const char *kms_grant_token(struct moat_arena *a, const char *grant_id, const char *key_arn);

/* Does a grant on the key allow this operation for the caller (with these constraints)?
 * `operation` is the grant operation name ("Decrypt", "ReEncryptFrom"...). */
bool kms_grants_allow(struct moat_call *call, const struct kms_key *key, const char *operation,
                      const struct moat_value *ctx);
/* Deletes every grant of a key (the key is being deleted). */
MOAT_MUST_CHECK struct moat_error *kms_grants_delete_all(struct moat_call *call,
                                                         const struct kms_key *key);
/* Principal matching used by grants: grantee/retiring principal strings. */
bool kms_principal_matches(const struct iam_principal *p, struct moat_slice principal);

/* The key policy AWS writes when CreateKey has none. */
struct moat_slice kms_default_policy(struct moat_arena *a, const char *account);
/* Compiles a key policy text; MalformedPolicyDocumentException / LimitExceededException. */
MOAT_MUST_CHECK struct moat_error *
kms_policy_compile(struct moat_call *call, struct moat_slice text, struct iam_policy **out);
/* BypassPolicyLockoutSafetyCheck: the policy must let the caller call PutKeyPolicy. */
MOAT_MUST_CHECK struct moat_error *kms_policy_lockout_check(struct moat_call *call,
                                                            const struct iam_policy *policy,
                                                            const char *key_arn,
                                                            const char *account);

/* Writes an alias record (version 0: it must not exist yet, else AlreadyExistsException). */
MOAT_MUST_CHECK struct moat_error *kms_alias_put(struct moat_call *call, struct moat_slice name,
                                                 const char *key_id, int64_t created_ms,
                                                 int64_t version);
/* Removes an alias record and, when key_id is set, its entry in that key's list. */
MOAT_MUST_CHECK struct moat_error *kms_alias_delete(struct moat_call *call, struct moat_slice name,
                                                    const char *key_id, int64_t version);

/* ---- AWS managed keys (kms_managed.c) ---------------------------------------- */

/* True when `name` is "alias/aws/<service>". */
bool kms_alias_is_aws(struct moat_slice name);
/* True for an alias AWS predefines for a managed key (alias/aws/s3, alias/aws/ssm...). */
bool kms_alias_is_predefined(struct moat_slice name);
/* Creates the AWS managed key of a predefined alias from outside the writer (a read-only
 * call): commits it as KMS's own service event and waits until it is durable. */
MOAT_MUST_CHECK struct moat_error *kms_managed_key_event(struct moat_call *call,
                                                         struct moat_slice alias);
/* Creates the AWS managed key alias/aws/<service> for the caller's account and region
 * inside the writer's transaction (internal calls only). */
MOAT_MUST_CHECK struct moat_error *kms_managed_key_create(struct moat_call *call,
                                                          struct moat_slice alias);

/* ---- creation shared by CreateKey, ReplicateKey and managed keys ------------- */

/* Generates a new key id ("mrk-" + 32 hex for multi-region keys, else a UUID). */
void kms_new_key_id(char out[40], bool multi_region);
/* A fresh key doc with the given basics (state Enabled unless EXTERNAL). */
struct moat_value *kms_doc_new(struct moat_call *call, const char *key_id, const char *account,
                               const char *region, const struct kms_spec *spec,
                               enum kms_usage usage, const char *origin, bool aws_managed,
                               struct moat_slice description, struct moat_slice policy,
                               bool multi_region);
/* Tags from a Tags input list into the doc (TagException for bad or duplicate keys). */
MOAT_MUST_CHECK struct moat_error *kms_doc_put_tags(struct moat_call *call, struct moat_value *doc,
                                                    const struct moat_value *tags);

/* ---- scheduled work (kms_jobs.c) ---------------------------------------------- */

bool kms_init(struct moat_server *srv);
/* Deletes a key record and everything that belongs to it (aliases, grants). */
MOAT_MUST_CHECK struct moat_error *kms_key_destroy(struct moat_call *call, struct kms_key *key);
/* Rotates a key: new current material; copies to the replicas of a multi-region key. */
MOAT_MUST_CHECK struct moat_error *kms_key_rotate(struct moat_call *call, struct kms_key *key,
                                                  const char *rotation_type);

/* The audit function of the cryptographic operations. */
void kms_audit_crypto(struct moat_call *call, struct moat_value **req, struct moat_value **resp);
/* CreateKey (parameters with their defaults) and CreateGrant (no grant token). */
void kms_audit_create(struct moat_call *call, struct moat_value **req, struct moat_value **resp);

/* ---- misc ----------------------------------------------------------------------- */

/* Pagination markers: opaque, validated (InvalidMarkerException). */
struct moat_slice kms_marker_encode(struct moat_arena *a, struct moat_slice after);
MOAT_MUST_CHECK struct moat_error *kms_marker_decode(struct moat_call *call,
                                                     const struct moat_value *in, unsigned member,
                                                     struct moat_slice *after);
/* DryRun: DryRunOperationException once everything else passed. */
struct moat_error *kms_dry_run(struct moat_call *call);

/* ---- handlers ---------------------------------------------------------------- */

#define KMS_HANDLER(name)                                                                          \
    struct moat_error *name(struct moat_call *call, const struct moat_value *in,                   \
                            struct moat_value *out)

KMS_HANDLER(kms_generate_random);
KMS_HANDLER(kms_create_key);
KMS_HANDLER(kms_describe_key);
KMS_HANDLER(kms_list_keys);
KMS_HANDLER(kms_enable_key);
KMS_HANDLER(kms_disable_key);
KMS_HANDLER(kms_schedule_key_deletion);
KMS_HANDLER(kms_cancel_key_deletion);
KMS_HANDLER(kms_update_key_description);
KMS_HANDLER(kms_tag_resource);
KMS_HANDLER(kms_untag_resource);
KMS_HANDLER(kms_list_resource_tags);
KMS_HANDLER(kms_describe_custom_key_stores);
KMS_HANDLER(kms_get_key_last_usage);
KMS_HANDLER(kms_encrypt);
KMS_HANDLER(kms_decrypt);
KMS_HANDLER(kms_re_encrypt);
KMS_HANDLER(kms_generate_data_key);
KMS_HANDLER(kms_generate_data_key_without_plaintext);
KMS_HANDLER(kms_generate_data_key_pair);
KMS_HANDLER(kms_generate_data_key_pair_without_plaintext);
KMS_HANDLER(kms_sign);
KMS_HANDLER(kms_verify);
KMS_HANDLER(kms_get_public_key);
KMS_HANDLER(kms_generate_mac);
KMS_HANDLER(kms_verify_mac);
KMS_HANDLER(kms_derive_shared_secret);
KMS_HANDLER(kms_create_alias);
KMS_HANDLER(kms_update_alias);
KMS_HANDLER(kms_delete_alias);
KMS_HANDLER(kms_list_aliases);
KMS_HANDLER(kms_get_key_policy);
KMS_HANDLER(kms_put_key_policy);
KMS_HANDLER(kms_list_key_policies);
KMS_HANDLER(kms_create_grant);
KMS_HANDLER(kms_list_grants);
KMS_HANDLER(kms_list_retirable_grants);
KMS_HANDLER(kms_retire_grant);
KMS_HANDLER(kms_revoke_grant);
KMS_HANDLER(kms_enable_key_rotation);
KMS_HANDLER(kms_disable_key_rotation);
KMS_HANDLER(kms_get_key_rotation_status);
KMS_HANDLER(kms_rotate_key_on_demand);
KMS_HANDLER(kms_list_key_rotations);
KMS_HANDLER(kms_replicate_key);
KMS_HANDLER(kms_update_primary_region);
KMS_HANDLER(kms_get_parameters_for_import);
KMS_HANDLER(kms_import_key_material);
KMS_HANDLER(kms_delete_imported_key_material);

#endif

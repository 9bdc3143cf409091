/* sm.h: what the Secrets Manager files share: the secret record and its versions,
 * error kinds, the handlers, encryption of values and the background jobs. */
#ifndef MOAT_SM_H
#define MOAT_SM_H

#include "services/service.h"

/* ---- error kinds (JSON 1.1: every client error is HTTP 400) ------------------ */

extern const struct moat_error_kind sm_validation_exception;
extern const struct moat_error_kind sm_access_denied;
extern const struct moat_error_kind sm_not_found;         /* ResourceNotFoundException */
extern const struct moat_error_kind sm_invalid_parameter; /* InvalidParameterException */
extern const struct moat_error_kind sm_invalid_request;   /* InvalidRequestException */
extern const struct moat_error_kind sm_exists;            /* ResourceExistsException */
extern const struct moat_error_kind sm_limit_exceeded;    /* LimitExceededException */
extern const struct moat_error_kind sm_malformed_policy;  /* MalformedPolicyDocumentException */
extern const struct moat_error_kind sm_public_policy;     /* PublicPolicyException */
extern const struct moat_error_kind sm_encryption_failure;
extern const struct moat_error_kind sm_decryption_failure;
extern const struct moat_error_kind sm_invalid_next_token;
extern const struct moat_error_kind sm_internal_error; /* InternalServiceError, 500 */

/* ---- the secret record ------------------------------------------------------- */

#define SM_NS_SECRET "secretsmanager/secret" /* <account>/<region>/<name> -> JSON */
#define SM_NS_VALUE "secretsmanager/value"   /* <account>/<region>/<name>/<version> -> JSON */
#define SM_NS_DUE "secretsmanager/due"       /* <due ms, 16 digits>/<secret key> -> "" */
#define SM_NS_OUTBOX "secretsmanager/outbox" /* <ms>/<id> -> service event to record */
#define SM_NS_ACCESS "secretsmanager/access" /* <secret key>[/<version>] -> day (ms) */

#define SM_MAX_LABELS 20    /* staging labels across all versions of a secret */
#define SM_MAX_VERSIONS 100 /* versions kept before deprecated ones are removed */
#define SM_MAX_TAGS 50
#define SM_DEFAULT_KEY "alias/aws/secretsmanager"

struct sm_version {
    struct moat_slice id;
    struct moat_slice *stages;
    size_t stage_count;
    int64_t created_ms;
    struct moat_slice key_arn; /* the KMS key its value is encrypted under */
};

struct sm_tag {
    struct moat_slice key;
    struct moat_slice value;
};

struct sm_replica {
    struct moat_slice region;
    struct moat_slice kms_key_id; /* as requested; empty: the region's aws/secretsmanager */
    struct moat_slice status;     /* InSync, Failed */
    struct moat_slice message;
};

struct sm_secret {
    /* identity */
    const char *account;
    const char *region;
    struct moat_slice name;
    const char *arn;
    const char *key;       /* store key: <account>/<region>/<name> */
    int64_t store_version; /* for the optimistic write; 0 = new */

    struct moat_slice description;
    bool has_description;
    struct moat_slice kms_key_id; /* as the user set it; empty: aws/secretsmanager */
    int64_t created_ms, changed_ms;
    int64_t deleted_ms;   /* 0: not scheduled for deletion */
    int64_t delete_at_ms; /* end of the recovery window */
    struct sm_tag *tags;
    size_t tag_count;
    struct moat_slice policy; /* resource policy text; empty: none */
    struct moat_slice owning_service;

    /* rotation configuration */
    bool rotation_enabled;
    struct moat_slice rotation_lambda;
    int64_t rotation_days;      /* AutomaticallyAfterDays; 0: none */
    struct moat_slice schedule; /* ScheduleExpression */
    struct moat_slice duration; /* Duration */
    int64_t last_rotated_ms;
    int64_t next_rotation_ms; /* start of the next rotation window; 0: none */
    int64_t value_changed_ms; /* last time AWSCURRENT moved (counts as a rotation) */

    /* rotation in progress */
    struct moat_slice rot_token; /* version id being rotated in; empty: none */
    bool rot_test;               /* RotateImmediately=false: only testSecret */
    int64_t rot_due_ms;          /* when the job should (re)attempt it */
    int64_t rot_attempts;
    struct moat_slice rot_error; /* last failure, for the log */

    /* versions, oldest first */
    struct sm_version *versions;
    size_t version_count, version_cap;

    /* replication: a primary lists its replicas; a replica names its primary region */
    struct moat_slice primary_region; /* empty: this secret is a primary (or not replicated) */
    struct sm_replica *replicas;
    size_t replica_count;

    struct moat_slice due_key; /* the SM_NS_DUE entry currently stored for it */
};

/* ---- sm_store.c: records ------------------------------------------------------ */

/* Parses a SecretId (name, full ARN or partial ARN) and loads the secret it names, as
 * seen from the call (its account and region unless an ARN says otherwise). NOT_FOUND
 * gives *out NULL and no error; *arn_guess then holds the ARN a policy would see. */
struct moat_error *sm_secret_find(struct moat_call *call, struct moat_slice secret_id,
                                  struct sm_secret **out, const char **arn_guess);
/* Loads by account, region and name; NULL when absent. Errors only for store failures. */
struct moat_error *sm_secret_load(struct moat_call *call, const char *account, const char *region,
                                  struct moat_slice name, struct sm_secret **out);
/* Writes the record (with the version read) and keeps the due index in step. */
struct moat_error *sm_secret_save(struct moat_call *call, struct sm_secret *s);
/* Removes the secret, every value record and its due entry. */
struct moat_error *sm_secret_purge(struct moat_call *call, struct sm_secret *s);
struct sm_secret *sm_secret_new(struct moat_call *call, const char *account, const char *region,
                                struct moat_slice name, const char *arn);
struct sm_secret *sm_secret_parse(struct moat_arena *a, struct moat_slice key,
                                  struct moat_slice json, int64_t store_version);
const char *sm_secret_key(struct moat_arena *a, const char *account, const char *region,
                          struct moat_slice name);
const char *sm_value_key(struct moat_arena *a, const struct sm_secret *s, struct moat_slice vid);

/* Versions and labels. */
struct sm_version *sm_version_find(const struct sm_secret *s, struct moat_slice id);
struct sm_version *sm_label_holder(const struct sm_secret *s, const char *label);
bool sm_version_has(const struct sm_version *v, struct moat_slice label);
void sm_label_remove(struct sm_version *v, struct moat_slice label);
void sm_label_add(struct moat_arena *a, struct sm_version *v, struct moat_slice label);
size_t sm_label_total(const struct sm_secret *s);
struct sm_version *sm_version_add(struct moat_arena *a, struct sm_secret *s, struct moat_slice id,
                                  int64_t now_ms);
/* Moves `label` to version `to` (removing it elsewhere). Moving AWSCURRENT hands
 * AWSPREVIOUS to the version that held AWSCURRENT. */
void sm_label_move(struct moat_arena *a, struct sm_secret *s, struct sm_version *to,
                   struct moat_slice label);
/* Removes deprecated versions beyond SM_MAX_VERSIONS (oldest first, never ones younger than
 * a day); LimitExceededException when that is not enough. */
struct moat_error *sm_versions_trim(struct moat_call *call, struct sm_secret *s);

struct moat_slice sm_tag_get(const struct sm_secret *s, struct moat_slice key, bool *found);
bool sm_is_replica(const struct sm_secret *s);
/* A fresh version id (UUID v4). */
struct moat_slice sm_uuid(struct moat_arena *a);
/* The calendar day (UTC midnight, ms) of a time. */
int64_t sm_day_ms(int64_t ms);

/* ---- sm_cache.c / sm_store.c: record access ------------------------------------------- */

/* Tags of cached records. */
#define SM_TAG_SECRET 's'
#define SM_TAG_VALUE 'v'
bool sm_cache_get(char tag, struct moat_slice key, struct moat_arena *a, struct moat_slice *value,
                  int64_t *version);
void sm_cache_put(char tag, struct moat_slice key, struct moat_slice value, int64_t version);
void sm_cache_invalidate(char tag, struct moat_slice key, int64_t min_version);

/* Reads a record (through the cache outside the writer's transaction); NOT_FOUND and
 * STORE_ERROR as store_get. */
int sm_record_get(struct moat_call *call, const char *ns, struct moat_slice key,
                  struct moat_slice *value, int64_t *version);
/* Writes / deletes a record and invalidates its cached copy. */
int sm_record_put(struct moat_call *call, const char *ns, struct moat_slice key,
                  struct moat_slice value, int64_t expect_version, int64_t *new_version);
int sm_record_delete(struct moat_call *call, const char *ns, struct moat_slice key);

/* ---- sm_crypto.c: secret values at rest (KMS envelope encryption) ------------- */

/* Encrypts a value for version `vid` and stores its record. key_arn receives the KMS key
 * that protects it. The plaintext is never copied outside the call's arena. */
struct moat_error *sm_value_put(struct moat_call *call, struct sm_secret *s, struct sm_version *v,
                                struct moat_slice plaintext, bool binary);
/* Reads and decrypts a version's value (wiped with the arena). */
struct moat_error *sm_value_get(struct moat_call *call, const struct sm_secret *s,
                                const struct sm_version *v, struct moat_slice *plaintext,
                                bool *binary);
/* Re-encrypts the data key of a version under another KMS key (UpdateSecret KmsKeyId).
 * False (and no change) when the caller may not use the new key. */
struct moat_error *sm_value_rewrap(struct moat_call *call, struct sm_secret *s,
                                   struct sm_version *v, struct moat_slice new_key);
/* Copies a version's value into a replica secret, encrypted under the replica's key. */
struct moat_error *sm_value_copy(struct moat_call *call, const struct sm_secret *from,
                                 const struct sm_version *v, struct sm_secret *to,
                                 struct sm_version *to_v);

/* ---- handlers ------------------------------------------------------------------ */

#define SM_HANDLER(name)                                                                           \
    struct moat_error *name(struct moat_call *call, const struct moat_value *in,                   \
                            struct moat_value *out)

SM_HANDLER(sm_create_secret);
SM_HANDLER(sm_describe_secret);
SM_HANDLER(sm_update_secret);
SM_HANDLER(sm_delete_secret);
SM_HANDLER(sm_restore_secret);
SM_HANDLER(sm_tag_resource);
SM_HANDLER(sm_untag_resource);
SM_HANDLER(sm_list_secrets);
SM_HANDLER(sm_get_secret_value);
SM_HANDLER(sm_batch_get_secret_value);
SM_HANDLER(sm_put_secret_value);
SM_HANDLER(sm_update_secret_version_stage);
SM_HANDLER(sm_list_secret_version_ids);
SM_HANDLER(sm_get_random_password);
SM_HANDLER(sm_put_resource_policy);
SM_HANDLER(sm_get_resource_policy);
SM_HANDLER(sm_delete_resource_policy);
SM_HANDLER(sm_validate_resource_policy);
SM_HANDLER(sm_rotate_secret);
SM_HANDLER(sm_cancel_rotate_secret);
SM_HANDLER(sm_replicate_secret_to_regions);
SM_HANDLER(sm_remove_regions_from_replication);
SM_HANDLER(sm_stop_replication_to_replica);

/* CloudTrail requestParameters/responseElements of mutating operations (sm_audit.c). */
void sm_audit(struct moat_call *call, struct moat_value **request_parameters,
              struct moat_value **response_elements);

/* ---- shared helpers ------------------------------------------------------------- */

/* Adds a version holding `plain` with the given labels (sm_values.c). A token that names
 * an existing version with the same value is a retry: *out is that version and *created
 * false. The same token with another value is ResourceExistsException. `rotation` says the
 * rotation itself writes it (no RotationAbandoned). */
struct moat_error *sm_version_put(struct moat_call *call, struct sm_secret *s,
                                  struct moat_slice token, struct moat_slice plain, bool binary,
                                  const struct moat_slice *stages, size_t stage_count,
                                  bool rotation, struct sm_version **out, bool *created);
struct moat_error *sm_version_same_value(struct moat_call *call, const struct sm_secret *s,
                                         const struct sm_version *v, struct moat_slice plain,
                                         bool binary, bool *same);
struct moat_error *sm_tags_check(struct moat_call *call, const struct moat_value *tags,
                                 size_t total_after);

/* Output members shared by DescribeSecret and ListSecrets entries. */
struct sm_describe_ids {
    unsigned arn, name, description, kms_key_id, rotation_enabled, rotation_lambda_arn,
        rotation_rules, last_rotated_date, last_changed_date, last_accessed_date, deleted_date,
        next_rotation_date, tags, versions_to_stages, owning_service, created_date, primary_region;
};
extern const struct sm_describe_ids sm_describe_response_ids;
void sm_describe_out(struct moat_call *call, const struct sm_secret *s,
                     const struct sm_describe_ids *ids, struct moat_value *out);
void sm_rotation_rules_out(struct moat_call *call, const struct sm_secret *s,
                           struct moat_value *rules);
void sm_tags_out(struct moat_call *call, const struct sm_secret *s, struct moat_value *list);
void sm_stages_map_out(struct moat_call *call, const struct sm_secret *s, struct moat_value *map);

/* The secret the authz step loaded for this call (same thread), or a fresh load. For
 * mutating calls it always reloads through the writer's connection. NotFound,
 * marked-for-deletion and replica refusals as AWS words them, per `flags`. */
enum {
    SM_ALLOW_DELETED = 1 << 0, /* a secret scheduled for deletion is fine */
    SM_ALLOW_REPLICA = 1 << 1, /* a replica is fine (reads) */
};
struct moat_error *sm_secret_for_call(struct moat_call *call, struct moat_slice secret_id,
                                      unsigned flags, struct sm_secret **out);
void sm_authz_stash(struct moat_call *call, struct sm_secret *s);

/* Filters of ListSecrets and BatchGetSecretValue (sm_list.c). */
struct moat_error *sm_filters_check(struct moat_call *call, const struct moat_value *filters);
bool sm_filters_match(const struct sm_secret *s, const struct moat_value *filters);
/* One page of the secrets of the call's account and region that pass `filters`, sorted. */
struct moat_error *sm_list_page(struct moat_call *call, const struct moat_value *filters,
                                bool include_deleted, struct moat_slice sort_order,
                                struct moat_slice sort_by, struct moat_slice next_token, size_t max,
                                struct sm_secret ***page, size_t *count, struct moat_slice *next);
/* Pagination tokens (an offset, base64). */
struct moat_slice sm_token_encode(struct moat_arena *a, size_t offset);
struct moat_error *sm_token_decode(struct moat_call *call, struct moat_slice token, size_t *offset);

/* Random passwords (sm_password.c). */
struct sm_password_rules {
    int64_t length;
    struct moat_slice exclude;
    bool no_numbers, no_punctuation, no_upper, no_lower, space, require_each;
};
void sm_password_rules_default(struct sm_password_rules *r);
/* NULL with the password in *out (arena, wiped), or a message for InvalidParameterException. */
const char *sm_password_generate(struct moat_arena *a, const struct sm_password_rules *r,
                                 struct moat_slice *out);

/* Replication (sm_replica.c): pushes the primary's current state to every replica. */
struct moat_error *sm_replicas_sync(struct moat_call *call, struct sm_secret *primary);
/* Adds replicas (AddReplicaRegions of CreateSecret / ReplicateSecretToRegions). */
struct moat_error *sm_replicas_add(struct moat_call *call, struct sm_secret *primary,
                                   const struct moat_value *regions, bool force);
void sm_replication_status_out(struct moat_call *call, const struct sm_secret *s,
                               struct moat_value *list);
/* Outbox of service events to record later (RotationAbandoned...): committed with the
 * change that causes them, recorded by a job. */
struct moat_error *sm_outbox_add(struct moat_call *call, const char *event_name,
                                 const struct sm_secret *s);

/* Rotation (sm_rotation.c). */
struct moat_error *sm_rotation_schedule_next(struct moat_call *call, struct sm_secret *s,
                                             int64_t from_ms);
/* Abandons an in-progress rotation (PutSecretValue moved AWSCURRENT by hand). */
struct moat_error *sm_rotation_abandon(struct moat_call *call, struct sm_secret *s);

/* Jobs, registered at start-up (sm_jobs.c). */
void sm_jobs_register(void);
/* Notes that a secret was read today, for LastAccessedDate (written by a job). */
void sm_access_note(const struct sm_secret *s, const struct sm_version *v, int64_t now_ms);
int64_t sm_access_day(struct moat_call *call, const struct sm_secret *s,
                      const struct sm_version *v);

#endif

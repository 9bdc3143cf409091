/* ssm.h: what the Parameter Store files share: error kinds, the parameter record,
 * name and selector parsing, parameter policies, storage and SecureString sealing. */
#ifndef MOAT_SSM_H
#define MOAT_SSM_H

#include "services/service.h"

/* ---- error kinds (JSON 1.1, all 400 but InternalServerError) ------------- */

extern const struct moat_error_kind ssm_validation;
extern const struct moat_error_kind ssm_access_denied;
extern const struct moat_error_kind ssm_internal_error;
extern const struct moat_error_kind ssm_too_many_updates;
extern const struct moat_error_kind ssm_parameter_not_found;
extern const struct moat_error_kind ssm_parameter_version_not_found;
extern const struct moat_error_kind ssm_parameter_already_exists;
extern const struct moat_error_kind ssm_parameter_limit_exceeded;
extern const struct moat_error_kind ssm_parameter_max_version_limit_exceeded;
extern const struct moat_error_kind ssm_parameter_pattern_mismatch;
extern const struct moat_error_kind ssm_invalid_allowed_pattern;
extern const struct moat_error_kind ssm_hierarchy_level_limit_exceeded;
extern const struct moat_error_kind ssm_hierarchy_type_mismatch;
extern const struct moat_error_kind ssm_unsupported_parameter_type;
extern const struct moat_error_kind ssm_invalid_key_id;
extern const struct moat_error_kind ssm_policies_limit_exceeded;
extern const struct moat_error_kind ssm_invalid_policy_type;
extern const struct moat_error_kind ssm_invalid_policy_attribute;
extern const struct moat_error_kind ssm_incompatible_policy;
extern const struct moat_error_kind ssm_label_limit_exceeded;
extern const struct moat_error_kind ssm_invalid_filter_key;
extern const struct moat_error_kind ssm_invalid_filter_option;
extern const struct moat_error_kind ssm_invalid_filter_value;
extern const struct moat_error_kind ssm_invalid_next_token;
extern const struct moat_error_kind ssm_invalid_resource_type;
extern const struct moat_error_kind ssm_invalid_resource_id;
extern const struct moat_error_kind ssm_too_many_tags;

/* ---- limits (https://docs.aws.amazon.com/general/latest/gr/ssm.html) ---- */

#define SSM_NAME_ARN_MAX 1011       /* name including the ARN text before it */
#define SSM_MAX_DEPTH 15            /* hierarchy levels */
#define SSM_STANDARD_VALUE_MAX 4096 /* bytes */
#define SSM_ADVANCED_VALUE_MAX 8192
#define SSM_STANDARD_COUNT_MAX 10000 /* per account and Region */
#define SSM_ADVANCED_COUNT_MAX 100000
#define SSM_VERSIONS_KEPT 100
#define SSM_LABELS_PER_VERSION 10
#define SSM_MAX_POLICIES 10
#define SSM_MAX_TAGS 50

/* ---- names ---------------------------------------------------------------- */

/* What is wrong with a parameter name, if anything (ssm_name_parse). */
enum ssm_name_problem {
    SSM_NAME_OK = 0,
    SSM_NAME_EMPTY,
    SSM_NAME_BAD_CHARS,     /* a character outside a-zA-Z0-9_.-/ or an empty level */
    SSM_NAME_INNER_SPACE,   /* spaces between characters */
    SSM_NAME_NOT_QUALIFIED, /* a hierarchy without the leading slash */
    SSM_NAME_TOO_DEEP,      /* more than 15 levels */
};

/* A parameter name, trimmed and normalised. "/a" and "a" name the same parameter
 * (one level), so the key of a one-level name has no slash; a hierarchy keeps its
 * leading slash. Slices borrow from the input. */
struct ssm_name {
    struct moat_slice given; /* trimmed, as the caller spelled it */
    struct moat_slice key;   /* normalised: the store key's suffix and the ARN's tail */
    bool hierarchical;       /* key starts with '/' */
    size_t depth;            /* levels (1 for "a" and "/a") */
};

/* Syntax only (characters, levels, leading slash); reserved prefixes and the length
 * with the ARN are checked by ssm_name_check_new. */
enum ssm_name_problem ssm_name_parse(struct moat_slice raw, struct ssm_name *out);

/* How a reserved name is refused (PutParameter and the mutating operations). */
enum ssm_reserved {
    SSM_RESERVED_NONE = 0,
    SSM_RESERVED_NAME,     /* "aws..." / "ssm...": ValidationException (short wording) */
    SSM_RESERVED_PATH,     /* "/ssm/...": ValidationException (path wording) */
    SSM_RESERVED_AWS_PATH, /* "/aws/...": AccessDeniedException */
};
enum ssm_reserved ssm_name_reserved(const struct ssm_name *n);

/* "arn:aws:ssm:us-east-1:111122223333:parameter/a/b" (in the arena). */
const char *ssm_arn(struct moat_arena *a, const char *region, const char *account,
                    struct moat_slice key);
const char *ssm_partition(const char *region);

/* A reference to a parameter in a read: a name or ARN, optionally with ":version" or
 * ":label". */
enum ssm_selector { SSM_SEL_NONE = 0, SSM_SEL_VERSION, SSM_SEL_LABEL };

struct ssm_ref {
    struct moat_slice raw;     /* as requested, trimmed */
    struct moat_slice display; /* raw without the selector (what responses call Name) */
    struct ssm_name name;
    enum ssm_name_problem problem;
    enum ssm_selector sel;
    struct moat_slice selector; /* ":3" / ":prod" as written */
    int64_t version;            /* SSM_SEL_VERSION; 0 when out of range */
    struct moat_slice label;    /* SSM_SEL_LABEL */
    bool arn;                   /* given as an ARN */
    struct moat_slice arn_region, arn_account;
};

/* False when the reference cannot name a parameter at all (bad ARN, two selectors,
 * empty selector); out->problem tells a bad name. */
bool ssm_ref_parse(struct moat_slice raw, struct ssm_ref *out);

/* Labels: letters, digits, '.', '-', '_'; not starting with a digit, "aws" or "ssm". */
bool ssm_label_valid(struct moat_slice label);

/* ---- parameter policies ----------------------------------------------------- */

enum ssm_policy_type {
    SSM_POLICY_EXPIRATION = 0,
    SSM_POLICY_EXPIRATION_NOTIFICATION,
    SSM_POLICY_NO_CHANGE_NOTIFICATION,
};

struct ssm_policy {
    enum ssm_policy_type type;
    struct moat_slice text; /* the policy object as compact JSON (PolicyText) */
    int64_t timestamp_ms;   /* Expiration */
    int64_t period_ms;      /* notifications: Before / After in milliseconds */
};

struct ssm_policies {
    struct ssm_policy items[SSM_MAX_POLICIES];
    size_t count;
};

/* Parses the Policies member of PutParameter: a JSON array of
 * {"Type", "Version": "1.0", "Attributes"} objects.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-policies.html
 * On failure returns false with *kind and *message (in the arena) set. */
bool ssm_policies_parse(struct moat_arena *a, struct moat_slice json, struct ssm_policies *out,
                        const struct moat_error_kind **kind, struct moat_slice *message);
const char *ssm_policy_type_name(enum ssm_policy_type t);
/* ISO_INSTANT or ISO_OFFSET_DATE_TIME, as Java prints them. */
bool ssm_policy_parse_time(struct moat_slice s, int64_t *ms);

/* ---- the stored parameter ---------------------------------------------------- */

enum ssm_type { SSM_STRING = 0, SSM_STRING_LIST, SSM_SECURE_STRING };
enum ssm_tier { SSM_TIER_STANDARD = 0, SSM_TIER_ADVANCED };

struct ssm_stored_policy {
    struct moat_slice text, type, status; /* PolicyText, PolicyType, PolicyStatus */
    int64_t at_ms;                        /* Expiration: when */
    int64_t period_ms;                    /* notifications: Before / After */
};

struct ssm_tag {
    struct moat_slice key, value;
};

/* How a SecureString value is sealed. */
enum ssm_seal {
    SSM_SEAL_NONE = 0,     /* String / StringList: stored as is */
    SSM_SEAL_KMS,          /* KMS Encrypt under the parameter's key (standard tier) */
    SSM_SEAL_KMS_ENVELOPE, /* KMS data key + AES-256-GCM (advanced tier) */
};

/* One version of a parameter. The current one also carries the parameter-wide
 * state (labels, tags, policy bookkeeping). */
struct ssm_param {
    struct moat_slice name; /* as first created */
    struct moat_slice key;  /* normalised */
    enum ssm_type type;
    int64_t version;
    enum ssm_tier tier;
    struct moat_slice data_type;
    struct moat_slice description; /* may be empty (absent) */
    bool has_description;
    struct moat_slice allowed_pattern;
    bool has_allowed_pattern;
    struct moat_slice key_id; /* SecureString */
    struct moat_slice value;  /* plain types: the value; SecureString: base64 ciphertext */
    enum ssm_seal seal;
    int64_t modified_ms;
    struct moat_slice modified_user;
    struct ssm_stored_policy *policies;
    size_t policy_count;
    int64_t policies_created_ms;

    /* the current record only */
    struct moat_slice *label_names; /* label -> version */
    int64_t *label_versions;
    size_t label_count;
    struct ssm_tag *tags;
    size_t tag_count;
    int64_t oldest_version;      /* oldest version kept in history */
    struct moat_slice *due_keys; /* this parameter's entries in SSM_NS_DUE */
    size_t due_count;
    int64_t store_version; /* of the record, for the optimistic write */
};

#define SSM_NS_PARAM "ssm/param"
#define SSM_NS_HISTORY "ssm/history"
#define SSM_NS_ADVANCED "ssm/advanced"
#define SSM_NS_DUE "ssm/due"
/* Events for an event bus to drain (EventBridge), in AWS's envelope, keyed by time. */
#define SSM_NS_EVENTS "events/pending"

const char *ssm_type_name(enum ssm_type t);
bool ssm_type_parse(struct moat_slice s, enum ssm_type *out);
const char *ssm_tier_name(enum ssm_tier t);

/* "<account>/<region>/" and "<account>/<region>/<key>". */
struct moat_slice ssm_scope_prefix(struct moat_arena *a, const char *account, const char *region);
struct moat_slice ssm_param_key(struct moat_arena *a, const char *account, const char *region,
                                struct moat_slice key);

/* Loads the current record; NULL error and *found false when absent. */
MOAT_MUST_CHECK struct moat_error *ssm_load(struct moat_call *call, struct moat_slice key,
                                            struct ssm_param *out, bool *found);
/* Loads one version from history; *found false when it is not kept. */
MOAT_MUST_CHECK struct moat_error *ssm_load_version(struct moat_call *call, struct moat_slice key,
                                                    int64_t version, struct ssm_param *out,
                                                    bool *found);
/* Parses a stored record (current or history). False when it is corrupt. */
bool ssm_record_decode(struct moat_arena *a, struct moat_slice json, struct ssm_param *out);
/* The version a label names, or 0. */
int64_t ssm_label_version(const struct ssm_param *p, struct moat_slice label);

/* Writes the current record (with p->store_version as the expected version) and the
 * version's history entry. */
MOAT_MUST_CHECK struct moat_error *ssm_store_current(struct moat_call *call,
                                                     const struct ssm_param *p, bool new_version);
/* Removes a parameter with its history, tier index and policy schedule. */
MOAT_MUST_CHECK struct moat_error *ssm_store_delete(struct moat_call *call, const char *account,
                                                    const char *region, const struct ssm_param *p);
/* Removes one version from history (the oldest, past 100 versions). */
MOAT_MUST_CHECK struct moat_error *ssm_drop_version(struct moat_call *call, struct moat_slice key,
                                                    int64_t version);
/* The Expiration policy's time, or INT64_MIN when the parameter has none. */
int64_t ssm_expiration_ms(const struct ssm_param *p);
/* Counts of the account-region's parameters: all and advanced. */
MOAT_MUST_CHECK struct moat_error *ssm_count(struct moat_call *call, int64_t *all,
                                             int64_t *advanced);
/* Rewrites the policy schedule of p (after a put, or a policy that finished). */
MOAT_MUST_CHECK struct moat_error *ssm_schedule(struct moat_call *call, const char *account,
                                                const char *region, struct ssm_param *p);

/* ---- SecureString sealing through KMS ------------------------------------------------ */

/* Encrypts value for parameter `arn` under key_id (tier decides direct or envelope);
 * sets p->value (base64) and p->seal. KMS errors become AWS's SSM errors. */
MOAT_MUST_CHECK struct moat_error *ssm_seal_value(struct moat_call *call, const char *arn,
                                                  struct ssm_param *p, struct moat_slice value);
/* Decrypts p's value (plaintext in the arena, wiped with it). */
MOAT_MUST_CHECK struct moat_error *ssm_unseal_value(struct moat_call *call, const char *arn,
                                                    const struct ssm_param *p,
                                                    struct moat_slice *plain);

/* ---- events (EventBridge envelopes in SSM_NS_EVENTS) ------------------------------ */

/* "Parameter Store Change": operation Create, Update, Delete or LabelParameterVersion. */
MOAT_MUST_CHECK struct moat_error *ssm_event_change(struct moat_call *call, const char *account,
                                                    const char *region, const struct ssm_param *p,
                                                    const char *operation);
/* "Parameter Store Policy Action". */
MOAT_MUST_CHECK struct moat_error *ssm_event_policy(struct moat_call *call, const char *account,
                                                    const char *region, const struct ssm_param *p,
                                                    const struct ssm_stored_policy *policy,
                                                    const char *status, const char *reason);

/* ---- public parameters (/aws/service/...) -------------------------------------------- */

/* A public parameter compiled into moat (global infrastructure data). */
struct ssm_public {
    struct moat_slice name;
    struct moat_slice value;
};
bool ssm_public_is(struct moat_slice name);
bool ssm_public_get(struct moat_arena *a, struct moat_slice name, struct ssm_public *out);
/* Public parameters under path (recursive or one level) after `after` in name order, at
 * most `limit`; *more when others follow. */
size_t ssm_public_list(struct moat_arena *a, struct moat_slice path, bool recursive,
                       struct moat_slice after, size_t limit, struct ssm_public *out, bool *more);
/* LastModifiedDate of the compiled public parameters. */
int64_t ssm_public_modified_ms(void);
/* The public parameters' ARN: arn:aws:ssm:<region>::parameter/aws/service/... */
const char *ssm_public_arn(struct moat_arena *a, const char *region, struct moat_slice name);

/* ---- pagination --------------------------------------------------------------------------- */

/* NextTokens: base64url of an operation letter and the store key to continue after. */
const char *ssm_token_make(struct moat_arena *a, char op, struct moat_slice after);
/* False unless the token is op's and continues inside prefix. */
bool ssm_token_read(struct moat_arena *a, struct moat_slice token, char op,
                    struct moat_slice prefix, struct moat_slice *after);

/* ---- handlers ------------------------------------------------------------------------------ */

#define SSM_HANDLER(fn)                                                                            \
    struct moat_error *fn(struct moat_call *call, const struct moat_value *in,                     \
                          struct moat_value *out)

SSM_HANDLER(ssm_put_parameter);
SSM_HANDLER(ssm_get_parameter);
SSM_HANDLER(ssm_get_parameters);
SSM_HANDLER(ssm_delete_parameter);
SSM_HANDLER(ssm_delete_parameters);
SSM_HANDLER(ssm_get_parameters_by_path);
SSM_HANDLER(ssm_describe_parameters);
SSM_HANDLER(ssm_get_parameter_history);
SSM_HANDLER(ssm_label_parameter_version);
SSM_HANDLER(ssm_unlabel_parameter_version);
SSM_HANDLER(ssm_add_tags_to_resource);
SSM_HANDLER(ssm_remove_tags_from_resource);
SSM_HANDLER(ssm_list_tags_for_resource);

/* Name errors in AWS's wording (syntax, then reserved prefixes and length for new names). */
MOAT_MUST_CHECK struct moat_error *ssm_name_error(struct moat_call *call, const struct ssm_name *n,
                                                  enum ssm_name_problem problem);
MOAT_MUST_CHECK struct moat_error *ssm_name_check_new(struct moat_call *call, struct moat_slice raw,
                                                      struct ssm_name *n);

/* Fills a Parameter struct (GetParameter(s), GetParametersByPath), decrypting when asked. */
MOAT_MUST_CHECK struct moat_error *ssm_fill_parameter(struct moat_call *call, struct moat_value *st,
                                                      const struct ssm_param *p,
                                                      struct moat_slice display,
                                                      struct moat_slice selector, bool decrypt);
/* A parameter's policies as a ParameterPolicyList. */
void ssm_fill_policies(struct moat_call *call, struct moat_value *st, unsigned member,
                       const struct ssm_param *p);

/* /aws/reference/secretsmanager/<id>[:selector] through Secrets Manager. */
bool ssm_is_secret_reference(struct moat_slice name);
MOAT_MUST_CHECK struct moat_error *
ssm_get_secret_reference(struct moat_call *call, struct moat_slice name, struct moat_value *param);

/* The scheduler job that enforces parameter policies. */
void ssm_policy_job_register(void);

#endif

/* iam.h: what the IAM service files share: error kinds, the stored records of
 * users, groups, roles and managed policies, and the handlers of the table. */
#ifndef MOAT_IAM_SVC_H
#define MOAT_IAM_SVC_H

#include "core/buf.h"
#include "iam/iam_eval.h"
#include "services/service.h"
#include "store/store.h"

struct moat_value;

extern const struct moat_error_kind iam_no_such_entity;          /* NoSuchEntity 404 */
extern const struct moat_error_kind iam_entity_already_exists;   /* EntityAlreadyExists 409 */
extern const struct moat_error_kind iam_malformed_policy;        /* MalformedPolicyDocument 400 */
extern const struct moat_error_kind iam_limit_exceeded;          /* LimitExceeded 409 */
extern const struct moat_error_kind iam_delete_conflict;         /* DeleteConflict 409 */
extern const struct moat_error_kind iam_invalid_input;           /* InvalidInput 400 */
extern const struct moat_error_kind iam_validation_error;        /* ValidationError 400 */
extern const struct moat_error_kind iam_access_denied;           /* AccessDenied 403 */
extern const struct moat_error_kind iam_concurrent_modification; /* ConcurrentModification 409 */
extern const struct moat_error_kind iam_unmodifiable_entity;     /* UnmodifiableEntity 400 */
extern const struct moat_error_kind iam_invalid_authentication_code; /* 403 */
extern const struct moat_error_kind iam_policy_not_attachable;       /* PolicyNotAttachable 400 */
extern const struct moat_error_kind iam_policy_evaluation;           /* PolicyEvaluation 500 */

/* Store namespaces. Keys are "<account>/<lower-case name>" (IAM names are unique
 * regardless of case) unless said otherwise. Values are JSON maps. */
#define IAM_NS_USER "iam/user"
#define IAM_NS_GROUP "iam/group"
#define IAM_NS_ROLE "iam/role"
#define IAM_NS_POLICY "iam/policy"     /* customer managed policies, with their versions */
#define IAM_NS_ATTACH "iam/attachment" /* "<acct>|<policy arn>|<P|B>|<u|g|r>|<lower name>" */
#define IAM_NS_MEMBER "iam/member"     /* "<acct>|<lower group>|<lower user>" -> {} */
#define IAM_NS_MFA "iam/mfa"           /* "<acct>/<serial number>" */
#define IAM_NS_ALIAS "iam/alias"       /* "<acct>" -> {"Alias": ...} */

/* ---- entities: users, groups and roles share inline and attached policies --- */

enum iam_entity_kind { IAM_ENTITY_USER = 0, IAM_ENTITY_GROUP, IAM_ENTITY_ROLE };

struct iam_entity {
    enum iam_entity_kind kind;
    struct moat_value *rec; /* the stored map */
    int64_t version;        /* STORE_MUST_NOT_EXIST for a new one */
    struct moat_slice key;
    struct moat_slice name, arn, path, id;
};

const char *iam_entity_noun(enum iam_entity_kind kind); /* "user", "group", "role" */
const char *iam_entity_ns(enum iam_entity_kind kind);
char iam_entity_letter(enum iam_entity_kind kind); /* 'u', 'g', 'r' (attachment keys) */
/* Aggregate size of an entity's inline policies (non-white-space characters). */
size_t iam_entity_inline_limit(enum iam_entity_kind kind);

/* Loads a user, group or role of `account` by name (any case). NoSuchEntity with AWS's
 * wording when absent. */
MOAT_MUST_CHECK struct moat_error *iam_entity_load(struct moat_call *call,
                                                   enum iam_entity_kind kind,
                                                   struct moat_slice account,
                                                   struct moat_slice name, struct iam_entity *out);
/* Same, but `*found` false instead of an error. */
MOAT_MUST_CHECK struct moat_error *
iam_entity_find(struct moat_call *call, enum iam_entity_kind kind, struct moat_slice account,
                struct moat_slice name, struct iam_entity *out, bool *found);
/* Writes the entity back with the version it was read at. */
MOAT_MUST_CHECK struct moat_error *iam_entity_save(struct moat_call *call, struct iam_entity *e);
MOAT_MUST_CHECK struct moat_error *iam_entity_delete(struct moat_call *call, struct iam_entity *e);
/* A new entity record with name, path, id, ARN and create date. */
void iam_entity_new(struct moat_call *call, enum iam_entity_kind kind, struct moat_slice account,
                    struct moat_slice name, struct moat_slice path, struct iam_entity *out);

/* ---- records and helpers (iam_records.c) ----------------------------------- */

struct moat_slice iam_lower(struct moat_arena *a, struct moat_slice s);
/* "<account>/<lower name>" */
struct moat_slice iam_name_key(struct moat_arena *a, struct moat_slice account,
                               struct moat_slice name);
/* The caller's account as a slice. */
struct moat_slice iam_account(const struct moat_call *call);

MOAT_MUST_CHECK struct moat_error *iam_record_get(struct moat_call *call, const char *ns,
                                                  struct moat_slice key, struct moat_value **rec,
                                                  int64_t *version, bool *found);
MOAT_MUST_CHECK struct moat_error *iam_record_put(struct moat_call *call, const char *ns,
                                                  struct moat_slice key,
                                                  const struct moat_value *rec, int64_t version);
MOAT_MUST_CHECK struct moat_error *iam_record_delete(struct moat_call *call, const char *ns,
                                                     struct moat_slice key);
/* Number of records under a prefix. */
MOAT_MUST_CHECK struct moat_error *iam_record_count(struct moat_call *call, const char *ns,
                                                    struct moat_slice prefix, int64_t *count);

/* Lists of strings inside records. */
bool iam_list_has(const struct moat_value *list, struct moat_slice s, bool nocase);
void iam_list_add(struct moat_arena *a, struct moat_value *list, struct moat_slice s);
bool iam_list_remove(struct moat_value *list, struct moat_slice s, bool nocase);
/* The list member `key` of a record map, created when absent. */
struct moat_value *iam_rec_list(struct moat_arena *a, struct moat_value *rec, const char *key);
struct moat_value *iam_rec_map(struct moat_arena *a, struct moat_value *rec, const char *key);

/* IAM returns policy documents URL-encoded (RFC 3986) in Query responses. */
struct moat_slice iam_url_encode(struct moat_arena *a, struct moat_slice doc);

/* Compiles a document for a write: MalformedPolicyDocument / LimitExceeded with AWS's
 * wording. *out (may be NULL) receives a reference the caller releases. */
MOAT_MUST_CHECK struct moat_error *iam_check_policy(struct moat_call *call,
                                                    enum iam_policy_kind kind,
                                                    struct moat_slice doc, size_t limit,
                                                    const char *limit_name);

/* Pagination (Marker / MaxItems / IsTruncated). */
struct iam_page {
    size_t max_items;
    struct moat_slice after; /* store key to continue after */
};
MOAT_MUST_CHECK struct moat_error *iam_page_begin(struct moat_call *call,
                                                  const struct moat_value *in,
                                                  unsigned marker_member, unsigned max_member,
                                                  struct iam_page *page);
/* Sets IsTruncated and Marker (the key of the last item returned). */
void iam_page_end(struct moat_call *call, struct moat_value *out, unsigned truncated_member,
                  unsigned marker_member, bool truncated, struct moat_slice last_key);

/* Calls fn for the records of ns under prefix (after page->after) until fn has accepted
 * page->max_items of them; *truncated tells whether more accepted records follow.
 * fn returns true when the record is listed, and adds it to the output when `add`
 * (without `add` it is only asked whether it would be listed). */
typedef bool (*iam_scan_fn)(struct moat_call *call, const struct store_record *r,
                            struct moat_value *rec, void *arg, bool add);
MOAT_MUST_CHECK struct moat_error *iam_scan(struct moat_call *call, const char *ns,
                                            struct moat_slice prefix, const struct iam_page *page,
                                            iam_scan_fn fn, void *arg, bool *truncated,
                                            struct moat_slice *last);

/* Tags: [{"Key":..,"Value":..}] in the record, keys unique regardless of case. */
MOAT_MUST_CHECK struct moat_error *iam_tags_apply(struct moat_call *call, struct moat_value *rec,
                                                  const struct moat_value *tag_list,
                                                  const char *quota_name);
void iam_tags_remove(struct moat_value *rec, const struct moat_value *keys);
/* Fills a Tags output list (shape item Tag) from the record. */
void iam_tags_output(struct moat_call *call, struct moat_value *out_struct, unsigned member,
                     const struct moat_value *rec);
/* The "Tags" input (list of Tag structs) as a record list, checking duplicates. */
MOAT_MUST_CHECK struct moat_error *iam_tags_check(struct moat_call *call,
                                                  const struct moat_value *tag_list);

/* Path and ARN of a new entity. */
struct moat_slice iam_arn(struct moat_arena *a, struct moat_slice account, const char *type,
                          struct moat_slice path, struct moat_slice name);

/* Marks IAM/STS/Organizations state as changing (caches of principals and SCPs drop
 * their entries before and after the commit). Every mutating handler calls it first. */
void iam_begin_change(struct moat_call *call);

/* ---- users (iam_users.c), shared with the other entity files ----------------------- */

/* The user an operation names, or the caller when the name is absent (IAM users; *root
 * for the root user; ValidationError for other callers, as IAM answers). */
MOAT_MUST_CHECK struct moat_error *iam_caller_user_name(struct moat_call *call,
                                                        struct moat_slice given,
                                                        struct moat_slice *name, bool *root);
void iam_fill_user(struct moat_call *call, struct moat_value *o, const struct moat_value *rec,
                   bool details);
/* Checks a permissions boundary ARN and sets it on the entity (with its usage record). */
MOAT_MUST_CHECK struct moat_error *iam_set_boundary(struct moat_call *call, struct iam_entity *e,
                                                    struct moat_slice arn);
/* ListUsers / ListGroups / ListRoles: by path prefix, paginated. */
typedef void (*iam_fill_fn)(struct moat_call *call, struct moat_value *o,
                            const struct moat_value *rec, bool details);
MOAT_MUST_CHECK struct moat_error *iam_list_entities(struct moat_call *call,
                                                     const struct moat_value *in,
                                                     struct moat_value *out,
                                                     enum iam_entity_kind kind, iam_fill_fn fill);
/* UpdateUser / UpdateGroup: new name and/or path, moving every record that names it. */
MOAT_MUST_CHECK struct moat_error *iam_rename_entity(struct moat_call *call, struct iam_entity *e,
                                                     struct moat_slice new_name,
                                                     struct moat_slice new_path);

/* ---- managed policies (iam_managed.c) ---------------------------------------- */

struct iam_managed {
    struct moat_value *rec; /* customer policy record, or a built map for AWS policies */
    int64_t version;
    struct moat_slice key;
    bool aws; /* an AWS managed policy (arn:aws:iam::aws:policy/...) */
};

/* Splits arn:aws:iam::<account|aws>:policy<path><name> (path with its slashes); false
 * when the text is not such an ARN. The slices point into `arn`. */
bool iam_parse_policy_arn(struct moat_slice arn, struct moat_slice *account,
                          struct moat_slice *path, struct moat_slice *name);
/* Looks a policy up by ARN: customer policies of `account` and AWS managed policies.
 * *found false when there is none (the caller picks AWS's wording). InvalidInput when
 * the ARN is malformed. */
MOAT_MUST_CHECK struct moat_error *iam_managed_find(struct moat_call *call,
                                                    struct moat_slice account,
                                                    struct moat_slice arn, struct iam_managed *out,
                                                    bool *found);
/* The default version's document (decoded text). */
struct moat_slice iam_managed_document(const struct iam_managed *m);
/* AWS managed policies moat ships: name, path, document, description. */
struct iam_aws_policy {
    const char *name;
    const char *path;
    const char *description;
    const char *document;
    const char *id;
};
const struct iam_aws_policy *iam_aws_policies(size_t *count);

/* Attachment records (for counts, ListEntitiesForPolicy and DeletePolicy). */
MOAT_MUST_CHECK struct moat_error *
iam_attachment_put(struct moat_call *call, struct moat_slice account, struct moat_slice policy_arn,
                   bool boundary, enum iam_entity_kind kind, struct moat_slice name, bool add);
MOAT_MUST_CHECK struct moat_error *iam_attachment_count(struct moat_call *call,
                                                        struct moat_slice account,
                                                        struct moat_slice policy_arn,
                                                        const char *usage, int64_t *count);

/* Attaches a managed policy to an entity (and records the attachment); used by
 * AttachUser/Group/RolePolicy and by Organizations for OrganizationAccountAccessRole. */
MOAT_MUST_CHECK struct moat_error *iam_entity_attach(struct moat_call *call, struct iam_entity *e,
                                                     struct moat_slice account,
                                                     struct moat_slice policy_arn);

/* Creates a role in any account (Organizations: OrganizationAccountAccessRole). */
MOAT_MUST_CHECK struct moat_error *
iam_role_create_in(struct moat_call *call, struct moat_slice account, struct moat_slice name,
                   struct moat_slice trust_policy, struct moat_slice description,
                   struct iam_entity *out);

/* ---- principal policies (iam_source.c) --------------------------------------- */

/* One identity-side policy and where it came from (the simulator reports it). */
struct iam_source_policy {
    const struct iam_policy *policy;
    const char *source_id;   /* inline policy name, or managed policy ARN */
    const char *source_type; /* "user", "group", "role", "aws-managed", "user-managed" */
};

/* The policies of a user, group or role (users: with their groups'), compiled, in the
 * call's arena and holding references released with it. boundary: NULL when none. */
struct iam_entity_policies {
    struct iam_source_policy *identity;
    size_t identity_count;
    struct iam_source_policy *boundary; /* 0 or 1 */
    size_t boundary_count;
    const struct iam_tag *tags;
    size_t tag_count;
    struct moat_slice id; /* unique id (AIDA/AGPA/AROA) */
};
MOAT_MUST_CHECK struct moat_error *iam_entity_policies(struct moat_call *call,
                                                       const struct iam_entity *e,
                                                       struct iam_entity_policies *out);

/* Compiles a stored document through the shared cache; NULL (logged) if it does not
 * compile. The reference is released when the arena is freed. */
const struct iam_policy *iam_compile_cached(struct moat_arena *a, enum iam_policy_kind kind,
                                            struct moat_slice text);

/* Registers the principal source with authorization (service init). */
void iam_source_init(void);

/* ---- MFA (iam_mfa.c, iam_totp.c) ------------------------------------------------- */

/* RFC 6238 TOTP (HMAC-SHA1, 30 s steps, 6 digits) of the seed at time step `step`. */
uint32_t iam_totp(struct moat_slice seed, int64_t step);
/* A six-digit code; false for anything else. */
bool iam_totp_parse(struct moat_slice code, uint32_t *out);
/* QRCodePNG: `text` as a QR code (byte mode, level M, up to version 20) in a 1-bit PNG,
 * in the arena. False when the text does not fit. */
bool iam_qr_png(struct moat_arena *a, struct moat_slice text, struct moat_slice *png);
/* The error correction codewords of a QR block (Reed-Solomon over GF(256), degree <= 30). */
void iam_qr_reed_solomon(const uint8_t *data, size_t n, uint8_t *ecc, size_t degree);
/* RFC 4648 base32 without padding. */
void iam_base32_encode(struct moat_buf *out, struct moat_slice in);

/* Checks the code of MFA device `serial`, which must be enabled for user `user_name` of
 * `account`, against the current 30-second step and its neighbours, refusing a step at
 * or before the last one used. *ok false (no error) when the code does not match; on a
 * match *step holds the step, which a mutating caller records with iam_mfa_mark_used. */
MOAT_MUST_CHECK struct moat_error *iam_mfa_check(struct moat_call *call, struct moat_slice account,
                                                 struct moat_slice user_name,
                                                 struct moat_slice serial, struct moat_slice code,
                                                 int64_t *step, bool *ok);
/* Records that a step was used so that its code cannot be replayed. */
MOAT_MUST_CHECK struct moat_error *iam_mfa_mark_used(struct moat_call *call,
                                                     struct moat_slice account,
                                                     struct moat_slice serial, int64_t step);

#endif

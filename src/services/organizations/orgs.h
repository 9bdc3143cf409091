/* orgs.h: what the Organizations files share: error kinds, the stored records of an
 * organization (its root, OUs, member accounts, policies and their attachments) and
 * the handlers of its table. */
#ifndef MOAT_ORGS_H
#define MOAT_ORGS_H

#include "services/service.h"
#include "store/store.h"

extern const struct moat_error_kind orgs_validation;     /* ValidationException */
extern const struct moat_error_kind orgs_access_denied;  /* AccessDeniedException */
extern const struct moat_error_kind orgs_not_in_use;     /* AWSOrganizationsNotInUseException */
extern const struct moat_error_kind orgs_already_in_org; /* AlreadyInOrganizationException */
extern const struct moat_error_kind orgs_constraint_violation; /* ConstraintViolationException */
extern const struct moat_error_kind orgs_invalid_input;        /* InvalidInputException */
extern const struct moat_error_kind orgs_account_not_found;
extern const struct moat_error_kind orgs_create_status_not_found;
extern const struct moat_error_kind orgs_parent_not_found;
extern const struct moat_error_kind orgs_child_not_found;
extern const struct moat_error_kind orgs_ou_not_found;
extern const struct moat_error_kind orgs_ou_not_empty;
extern const struct moat_error_kind orgs_duplicate_ou;
extern const struct moat_error_kind orgs_source_parent_not_found;
extern const struct moat_error_kind orgs_destination_parent_not_found;
extern const struct moat_error_kind orgs_duplicate_account;
extern const struct moat_error_kind orgs_policy_not_found;
extern const struct moat_error_kind orgs_duplicate_policy;
extern const struct moat_error_kind orgs_duplicate_attachment;
extern const struct moat_error_kind orgs_policy_not_attached;
extern const struct moat_error_kind orgs_policy_in_use;
extern const struct moat_error_kind orgs_target_not_found;
extern const struct moat_error_kind orgs_malformed_policy;
extern const struct moat_error_kind orgs_policy_type_not_enabled;
extern const struct moat_error_kind orgs_policy_type_already_enabled;
extern const struct moat_error_kind orgs_policy_type_not_available;
extern const struct moat_error_kind orgs_root_not_found;
extern const struct moat_error_kind orgs_not_empty;
extern const struct moat_error_kind orgs_account_already_registered;
extern const struct moat_error_kind orgs_account_not_registered;
extern const struct moat_error_kind orgs_concurrent_modification;

/* Store namespaces (JSON values). */
#define ORGS_NS_ORG "org/org"             /* o-... -> the organization and its root */
#define ORGS_NS_MEMBER "org/member"       /* account id -> membership (OrgId, ParentId...) */
#define ORGS_NS_OU "org/ou"               /* ou-... */
#define ORGS_NS_CHILD "org/child"         /* "<parent>|<A|O>|<child>" -> {} */
#define ORGS_NS_POLICY "org/policy"       /* p-... (customer policies) */
#define ORGS_NS_ATTACH "org/attach"       /* "<target>|<policy>" -> {"Type": ...} */
#define ORGS_NS_TARGET "org/target"       /* "<policy>|<target>" -> {} */
#define ORGS_NS_CAR "org/car"             /* car-... -> CreateAccountStatus */
#define ORGS_NS_DELEGATED "org/delegated" /* "<org>|<account>|<service principal>" */

#define ORGS_SCP "SERVICE_CONTROL_POLICY"
#define ORGS_FULL_ACCESS_ID "p-FullAWSAccess"

/* The organization a call works on, and who the caller is in it. */
struct orgs_org {
    struct moat_value *rec; /* ORGS_NS_ORG record */
    int64_t version;
    struct moat_slice id, mgmt, root_id;
    bool caller_is_mgmt;
};

enum orgs_caller {
    ORGS_ANY_MEMBER = 0,    /* every account of the organization */
    ORGS_MGMT_OR_DELEGATED, /* the management account or a delegated administrator */
    ORGS_MGMT_ONLY,         /* the management account */
};

/* The caller's organization: AWSOrganizationsNotInUseException when the account is in
 * none, AccessDeniedException when the caller may not run the operation. */
MOAT_MUST_CHECK struct moat_error *orgs_load(struct moat_call *call, enum orgs_caller who,
                                             struct orgs_org *org);
MOAT_MUST_CHECK struct moat_error *orgs_save(struct moat_call *call, struct orgs_org *org);
/* Whether the organization's root has a policy type enabled. */
bool orgs_type_enabled(const struct orgs_org *org, const char *type);

MOAT_MUST_CHECK struct moat_error *orgs_get(struct moat_call *call, const char *ns,
                                            struct moat_slice key, struct moat_value **rec,
                                            int64_t *version, bool *found);
MOAT_MUST_CHECK struct moat_error *orgs_put(struct moat_call *call, const char *ns,
                                            struct moat_slice key, const struct moat_value *rec,
                                            int64_t version);
MOAT_MUST_CHECK struct moat_error *orgs_delete(struct moat_call *call, const char *ns,
                                               struct moat_slice key);

/* A new identifier: "o-" + 10, "r-" + 4, "ou-<root>-" + 8, "p-" + 8, "car-" + 32
 * lower-case letters and digits (the models' patterns). */
struct moat_slice orgs_new_id(struct moat_arena *a, const char *prefix, size_t n);
/* A new 12-digit account id no account uses yet. */
MOAT_MUST_CHECK struct moat_error *orgs_new_account_id(struct moat_call *call,
                                                       struct moat_slice *out);

/* ARNs: arn:aws:organizations::<mgmt>:<kind>/<org>/<id>. */
struct moat_slice orgs_arn(struct moat_arena *a, const struct orgs_org *org, const char *kind,
                           struct moat_slice id);
struct moat_slice orgs_policy_arn(struct moat_arena *a, const struct orgs_org *org,
                                  struct moat_slice policy_id, struct moat_slice type,
                                  bool aws_managed);

/* Kinds of organization entities, by id. */
enum orgs_kind { ORGS_ROOT = 0, ORGS_OU, ORGS_ACCOUNT, ORGS_UNKNOWN };
enum orgs_kind orgs_kind_of(struct moat_slice id);
/* Loads a member account of the organization (found false if it is not one). */
MOAT_MUST_CHECK struct moat_error *orgs_member(struct moat_call *call, const struct orgs_org *org,
                                               struct moat_slice account, struct moat_value **rec,
                                               int64_t *version, bool *found);
/* Whether a root or OU id names one of the organization's parents. */
MOAT_MUST_CHECK struct moat_error *orgs_parent_exists(struct moat_call *call,
                                                      const struct orgs_org *org,
                                                      struct moat_slice id, bool *found);
/* Index of children by parent. */
MOAT_MUST_CHECK struct moat_error *orgs_child_link(struct moat_call *call, struct moat_slice parent,
                                                   char type, struct moat_slice child, bool add);
/* Attaches a policy to a target (both indexes). */
MOAT_MUST_CHECK struct moat_error *orgs_attach(struct moat_call *call, struct moat_slice policy,
                                               struct moat_slice target, const char *type,
                                               bool add);

/* Pagination (NextToken / MaxResults; default 20 as Organizations). */
struct orgs_page {
    size_t max;
    struct moat_slice after;
};
MOAT_MUST_CHECK struct moat_error *orgs_page_begin(struct moat_call *call,
                                                   const struct moat_value *in,
                                                   unsigned token_member, unsigned max_member,
                                                   struct orgs_page *page);
void orgs_page_end(struct moat_call *call, struct moat_value *out, unsigned token_member,
                   bool truncated, struct moat_slice last);
/* Scans ns under prefix; fn returns true when the record is listed (adding it when
 * `add`). */
typedef bool (*orgs_scan_fn)(struct moat_call *call, const struct store_record *r, void *arg,
                             bool add);
MOAT_MUST_CHECK struct moat_error *orgs_scan(struct moat_call *call, const char *ns,
                                             struct moat_slice prefix, const struct orgs_page *page,
                                             orgs_scan_fn fn, void *arg, bool *truncated,
                                             struct moat_slice *last);

/* Output structs. */
void orgs_fill_account(struct moat_call *call, struct moat_value *o, const struct moat_value *rec);
void orgs_fill_organization(struct moat_call *call, struct moat_value *o,
                            const struct orgs_org *org);
void orgs_fill_root(struct moat_call *call, struct moat_value *o, const struct orgs_org *org);

/* Tags on accounts, OUs, roots and policies (records' "Tags" list). */
MOAT_MUST_CHECK struct moat_error *orgs_tags_apply(struct moat_call *call, struct moat_value *rec,
                                                   const struct moat_value *tags);

/* The content of a policy (FullAWSAccess or a stored one); empty when there is none. */
struct moat_slice orgs_policy_content(struct moat_call *call, struct moat_slice id);

/* The SCP source of authorization (orgs_source.c). */
void orgs_source_init(void);

/* Handlers. */
#define ORGS_HANDLER(name)                                                                         \
    struct moat_error *name(struct moat_call *call, const struct moat_value *in,                   \
                            struct moat_value *out)
ORGS_HANDLER(orgs_create_organization);
ORGS_HANDLER(orgs_describe_organization);
ORGS_HANDLER(orgs_delete_organization);
ORGS_HANDLER(orgs_list_roots);
ORGS_HANDLER(orgs_create_account);
ORGS_HANDLER(orgs_describe_create_account_status);
ORGS_HANDLER(orgs_list_create_account_status);
ORGS_HANDLER(orgs_describe_account);
ORGS_HANDLER(orgs_list_accounts);
ORGS_HANDLER(orgs_list_accounts_for_parent);
ORGS_HANDLER(orgs_move_account);
ORGS_HANDLER(orgs_create_organizational_unit);
ORGS_HANDLER(orgs_describe_organizational_unit);
ORGS_HANDLER(orgs_update_organizational_unit);
ORGS_HANDLER(orgs_delete_organizational_unit);
ORGS_HANDLER(orgs_list_organizational_units_for_parent);
ORGS_HANDLER(orgs_list_parents);
ORGS_HANDLER(orgs_list_children);
ORGS_HANDLER(orgs_create_policy);
ORGS_HANDLER(orgs_describe_policy);
ORGS_HANDLER(orgs_update_policy);
ORGS_HANDLER(orgs_delete_policy);
ORGS_HANDLER(orgs_list_policies);
ORGS_HANDLER(orgs_attach_policy);
ORGS_HANDLER(orgs_detach_policy);
ORGS_HANDLER(orgs_list_policies_for_target);
ORGS_HANDLER(orgs_list_targets_for_policy);
ORGS_HANDLER(orgs_enable_policy_type);
ORGS_HANDLER(orgs_disable_policy_type);
ORGS_HANDLER(orgs_register_delegated_administrator);
ORGS_HANDLER(orgs_deregister_delegated_administrator);
ORGS_HANDLER(orgs_list_delegated_administrators);
ORGS_HANDLER(orgs_list_delegated_services_for_account);
ORGS_HANDLER(orgs_enable_aws_service_access);
ORGS_HANDLER(orgs_disable_aws_service_access);
ORGS_HANDLER(orgs_list_aws_service_access_for_organization);
ORGS_HANDLER(orgs_tag_resource);
ORGS_HANDLER(orgs_untag_resource);
ORGS_HANDLER(orgs_list_tags_for_resource);
#undef ORGS_HANDLER

#endif

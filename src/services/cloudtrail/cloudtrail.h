/* cloudtrail.h: what the CloudTrail files share: error kinds, the trail record,
 * event selectors and their evaluation, and the LookupEvents pagination token. */
#ifndef MOAT_CLOUDTRAIL_H
#define MOAT_CLOUDTRAIL_H

#include "core/buf.h"
#include "services/service.h"

struct rootkey;

/* ---- errors (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/CommonErrors.html) */

extern const struct moat_error_kind cloudtrail_invalid_parameter;
extern const struct moat_error_kind cloudtrail_access_denied;
extern const struct moat_error_kind cloudtrail_trail_not_found;
extern const struct moat_error_kind cloudtrail_trail_already_exists;
extern const struct moat_error_kind cloudtrail_invalid_trail_name;
extern const struct moat_error_kind cloudtrail_arn_invalid;
extern const struct moat_error_kind cloudtrail_max_trails;
extern const struct moat_error_kind cloudtrail_invalid_s3_bucket_name;
extern const struct moat_error_kind cloudtrail_invalid_s3_prefix;
extern const struct moat_error_kind cloudtrail_invalid_sns_topic_name;
extern const struct moat_error_kind cloudtrail_invalid_kms_key_id;
extern const struct moat_error_kind cloudtrail_invalid_cwl_group_arn;
extern const struct moat_error_kind cloudtrail_invalid_cwl_role_arn;
extern const struct moat_error_kind cloudtrail_invalid_combination;
extern const struct moat_error_kind cloudtrail_invalid_home_region;
extern const struct moat_error_kind cloudtrail_invalid_event_selectors;
extern const struct moat_error_kind cloudtrail_resource_not_found;
extern const struct moat_error_kind cloudtrail_tags_limit;
extern const struct moat_error_kind cloudtrail_invalid_tag;
extern const struct moat_error_kind cloudtrail_eds_not_found;
extern const struct moat_error_kind cloudtrail_channel_not_found;
extern const struct moat_error_kind cloudtrail_resource_type_not_supported;
extern const struct moat_error_kind cloudtrail_invalid_lookup_attributes;
extern const struct moat_error_kind cloudtrail_invalid_time_range;
extern const struct moat_error_kind cloudtrail_invalid_next_token;
extern const struct moat_error_kind cloudtrail_throttling;
extern const struct moat_error_kind cloudtrail_orgs_not_in_use;
extern const struct moat_error_kind cloudtrail_not_org_management;
extern const struct moat_error_kind cloudtrail_org_not_all_features;
extern const struct moat_error_kind cloudtrail_access_not_enabled;
extern const struct moat_error_kind cloudtrail_conflict;
extern const struct moat_error_kind cloudtrail_insufficient_dependency;

/* ---- event selectors ---------------------------------------------------------------- */

enum cloudtrail_rw { CLOUDTRAIL_RW_ALL = 0, CLOUDTRAIL_RW_READ_ONLY, CLOUDTRAIL_RW_WRITE_ONLY };

enum cloudtrail_category {
    CLOUDTRAIL_CAT_MANAGEMENT = 0,
    CLOUDTRAIL_CAT_DATA,
    CLOUDTRAIL_CAT_NETWORK_ACTIVITY,
};

/* Fields an advanced event selector can test. */
enum cloudtrail_field {
    CLOUDTRAIL_FIELD_EVENT_CATEGORY = 0,
    CLOUDTRAIL_FIELD_EVENT_SOURCE,
    CLOUDTRAIL_FIELD_EVENT_NAME,
    CLOUDTRAIL_FIELD_EVENT_TYPE,
    CLOUDTRAIL_FIELD_READ_ONLY,
    CLOUDTRAIL_FIELD_RESOURCES_TYPE,
    CLOUDTRAIL_FIELD_RESOURCES_ARN,
    CLOUDTRAIL_FIELD_ERROR_CODE,
    CLOUDTRAIL_FIELD_SESSION_FROM_CONSOLE,
    CLOUDTRAIL_FIELD_USER_IDENTITY_ARN,
    CLOUDTRAIL_FIELD_VPC_ENDPOINT_ID,
    CLOUDTRAIL_FIELD_COUNT,
};

/* The operators of an advanced field selector, in the API's member order. */
enum cloudtrail_match {
    CLOUDTRAIL_MATCH_EQUALS = 0,
    CLOUDTRAIL_MATCH_STARTS_WITH,
    CLOUDTRAIL_MATCH_ENDS_WITH,
    CLOUDTRAIL_MATCH_NOT_EQUALS,
    CLOUDTRAIL_MATCH_NOT_STARTS_WITH,
    CLOUDTRAIL_MATCH_NOT_ENDS_WITH,
    CLOUDTRAIL_MATCH_COUNT,
};

struct cloudtrail_values {
    const struct moat_slice *items;
    size_t count;
};

struct cloudtrail_data_resource {
    struct moat_slice type; /* AWS::S3::Object, AWS::Lambda::Function, AWS::DynamoDB::Table */
    struct cloudtrail_values values;
};

/* A basic event selector. */
struct cloudtrail_event_selector {
    enum cloudtrail_rw rw;
    bool include_management;
    const struct cloudtrail_data_resource *data;
    size_t data_count;
    struct cloudtrail_values exclude_sources;
};

struct cloudtrail_field_selector {
    enum cloudtrail_field field;
    struct cloudtrail_values ops[CLOUDTRAIL_MATCH_COUNT];
};

struct cloudtrail_advanced_selector {
    struct moat_slice name;
    enum cloudtrail_category category;
    const struct cloudtrail_field_selector *fields;
    size_t field_count;
};

/* A trail's selectors: basic or advanced, never both. */
struct cloudtrail_selectors {
    bool advanced;
    const struct cloudtrail_event_selector *basic;
    size_t basic_count;
    const struct cloudtrail_advanced_selector *adv;
    size_t adv_count;
};

/* Limits AWS documents for trails. */
#define CLOUDTRAIL_MAX_EVENT_SELECTORS 5
#define CLOUDTRAIL_MAX_DATA_RESOURCE_VALUES 250
#define CLOUDTRAIL_MAX_ADVANCED_VALUES 500

/* Parses and validates a selectors document: a generic JSON map holding
 * "EventSelectors" or "AdvancedEventSelectors" (the API's member names and
 * shapes). Returns NULL and fills `out` (borrowing from `doc` and `a`), or the
 * message of an InvalidEventSelectorsException. Never trusts `doc`'s types. */
const char *cloudtrail_selectors_parse(struct moat_arena *a, const struct moat_value *doc,
                                       struct cloudtrail_selectors *out);
/* The selectors a new trail has: all management events, read and write. */
void cloudtrail_selectors_default(struct cloudtrail_selectors *out);
/* Canonical JSON of the selectors ({"EventSelectors":[...]} with defaults filled
 * in, or {"AdvancedEventSelectors":[...]}), which cloudtrail_selectors_parse reads back. */
void cloudtrail_selectors_write(struct moat_buf *b, const struct cloudtrail_selectors *s);

/* What event selection needs to know of a trail. */
struct cloudtrail_trail {
    struct moat_slice account_id;
    struct moat_slice home_region;
    struct moat_slice organization_id; /* organization trails only */
    bool organization_trail;
    bool multi_region;
    bool include_global_service_events;
    bool logging;
    struct cloudtrail_selectors selectors;
};

/* What event selection needs to know of an event. */
struct cloudtrail_event_facts {
    struct moat_slice recipient_account_id;
    struct moat_slice organization_id; /* of the recipient account; empty when none */
    struct moat_slice aws_region;
    bool global_service; /* IAM, Organizations...: recorded in us-east-1, delivered by the
                            trails that include global service events */
    enum cloudtrail_category category;
    struct moat_slice event_source, event_name, event_type, error_code, user_identity_arn,
        vpc_endpoint_id;
    bool read_only;
    bool session_credential_from_console;
    size_t resource_count;
    const struct moat_slice *resource_types;
    const struct moat_slice *resource_arns;
};

/* Whether `trail` logs the event: the trail is logging, the event belongs to its
 * account (or organization), to its region (or it is multi-region, or the event is
 * a global service event and the trail includes those), and its basic or advanced
 * selectors select it. The one place that decides what a trail delivers. */
bool cloudtrail_selectors_match(const struct cloudtrail_trail *trail,
                                const struct cloudtrail_event_facts *e);
/* The facts of a stored CloudTrail record (a parsed JSON map). False when the
 * record lacks the fields every record has. Slices borrow from `record`. */
bool cloudtrail_event_facts_from_record(struct moat_arena *a, const struct moat_value *record,
                                        struct cloudtrail_event_facts *out);

/* ---- trail records (cloudtrail_store.c) --------------------------------------------- */

#define CLOUDTRAIL_NS_TRAIL "cloudtrail/trail" /* "<account>/<home region>/<name>" -> JSON */
/* Organization trails by organization: "<org id>/<trail key>" -> the trail key. */
#define CLOUDTRAIL_NS_ORG_TRAIL "cloudtrail/orgtrail"
#define CLOUDTRAIL_MAX_TRAILS_PER_REGION 5
#define CLOUDTRAIL_MAX_TAGS 50

/* A stored trail: its JSON document (generic map) and where it lives. */
struct cloudtrail_record {
    struct moat_value *doc;
    struct moat_slice key;
    int64_t version;
    const char *name, *home_region, *arn;
    struct moat_slice indexed_org; /* the organization it was listed under when read */
    bool foreign; /* another account's organization trail, seen by a member account */
};

/* Checks a trail name against AWS's rules; NULL or an InvalidTrailNameException. */
struct moat_error *cloudtrail_check_name(struct moat_call *call, struct moat_slice name);
/* The trail ARN for a name in the caller's account and a region (arena string). */
const char *cloudtrail_trail_arn(struct moat_call *call, const char *region,
                                 struct moat_slice name);
/* Parses arn:<partition>:cloudtrail:<region>:<account>:trail/<name>. */
bool cloudtrail_parse_trail_arn(struct moat_slice arn, struct moat_slice *region,
                                struct moat_slice *account, struct moat_slice *name);

/* Finds the trail a Name parameter (name or ARN) designates for the caller: a
 * trail of this region, or a multi-region trail of another region (a shadow:
 * *shadow is set), or by ARN an organization trail of the caller's organization
 * (a shadow too, with out->foreign set). TrailNotFoundException, InvalidTrailNameException or
 * CloudTrailARNInvalidException otherwise. `not_found` overrides the kind used
 * when nothing is found (ResourceNotFoundException for the tagging operations). */
struct moat_error *cloudtrail_find(struct moat_call *call, struct moat_slice name_or_arn,
                                   const struct moat_error_kind *not_found,
                                   struct cloudtrail_record *out, bool *shadow);
/* Every trail of the caller's account, any region, in key order; with
 * `with_org`, then the organization trails of the caller's organization that
 * other accounts own (marked foreign). */
struct moat_error *cloudtrail_list_all(struct moat_call *call, bool with_org,
                                       struct cloudtrail_record **out, size_t *count);
/* Removes a trail and its organization listing. */
struct moat_error *cloudtrail_remove(struct moat_call *call, const struct cloudtrail_record *r);
/* Writes the trail back (expecting the version read) or creates it (version 0). */
struct moat_error *cloudtrail_save(struct moat_call *call, struct cloudtrail_record *r);
/* The selection view of a stored trail. */
void cloudtrail_trail_view(struct moat_arena *a, const struct cloudtrail_record *r,
                           struct cloudtrail_trail *out);
/* Fills an output Trail struct (shape Trail / CreateTrailResponse layout by name). */
void cloudtrail_fill_trail(struct moat_call *call, const struct cloudtrail_record *r,
                           struct moat_value *out);

/* ---- LookupEvents pagination tokens (cloudtrail_token.c) ---------------------------- */

/* A token is the position of the last event returned (its seq in the audit
 * log), sealed under the root key with the query it belongs to as associated
 * data: it cannot be forged, read or replayed against another query.
 * `query` is a canonical description of the request's filters. */
void cloudtrail_token_encode(struct rootkey *rk, struct moat_arena *a, struct moat_slice query,
                             int64_t seq, struct moat_buf *out);
/* Strict: false for anything that is not a token this server sealed for `query`. */
bool cloudtrail_token_decode(struct rootkey *rk, struct moat_arena *a, struct moat_slice query,
                             struct moat_slice token, int64_t *seq);

/* ---- handlers ------------------------------------------------------------------------ */

struct moat_error *cloudtrail_create_trail(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out);
struct moat_error *cloudtrail_update_trail(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out);
struct moat_error *cloudtrail_delete_trail(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out);
struct moat_error *cloudtrail_get_trail(struct moat_call *call, const struct moat_value *in,
                                        struct moat_value *out);
struct moat_error *cloudtrail_describe_trails(struct moat_call *call, const struct moat_value *in,
                                              struct moat_value *out);
struct moat_error *cloudtrail_list_trails(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out);
struct moat_error *cloudtrail_get_trail_status(struct moat_call *call, const struct moat_value *in,
                                               struct moat_value *out);
struct moat_error *cloudtrail_start_logging(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out);
struct moat_error *cloudtrail_stop_logging(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out);
struct moat_error *cloudtrail_put_event_selectors(struct moat_call *call,
                                                  const struct moat_value *in,
                                                  struct moat_value *out);
struct moat_error *cloudtrail_get_event_selectors(struct moat_call *call,
                                                  const struct moat_value *in,
                                                  struct moat_value *out);
struct moat_error *cloudtrail_add_tags(struct moat_call *call, const struct moat_value *in,
                                       struct moat_value *out);
struct moat_error *cloudtrail_remove_tags(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out);
struct moat_error *cloudtrail_list_tags(struct moat_call *call, const struct moat_value *in,
                                        struct moat_value *out);
struct moat_error *cloudtrail_lookup_events(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out);

/* LookupEvents requests per second per account and region (AWS: 2); <= 0: no limit. */
void cloudtrail_lookup_set_rate(double per_second);

#endif

/* cloudtrail_trails.c: trail configuration: CreateTrail, UpdateTrail,
 * DeleteTrail, GetTrail, DescribeTrails, ListTrails, GetTrailStatus,
 * StartLogging, StopLogging, PutEventSelectors and GetEventSelectors.
 * Delivery (S3, SNS, CloudWatch Logs) does not exist yet: trails keep their
 * destinations and GetTrailStatus says why nothing was delivered
 * (docs/cloudtrail.md). */
#include "services/cloudtrail/cloudtrail.h"

#include "aws/proto.h"
#include "aws/shapes/shapes_cloudtrail.h"
#include "core/clock.h"
#include "core/json.h"
#include "services/registry.h"
#include "store/store.h"

#include <string.h>

static struct moat_error *own_trail(struct moat_call *call, const struct cloudtrail_record *r);

/* ---- parameter checks ----------------------------------------------------------------- */

static bool is_lower_alnum(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* S3 bucket naming rules.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html */
static struct moat_error *check_bucket(struct moat_call *call, struct moat_slice b)
{
    bool ok = b.len >= 3 && b.len <= 63 && is_lower_alnum(b.ptr[0]) &&
              is_lower_alnum(b.ptr[b.len - 1]) && !moat_slice_starts_with(b, MOAT_LIT("xn--")) &&
              !moat_slice_ends_with(b, MOAT_LIT("-s3alias"));
    int dots = 0;
    bool numeric = true;
    for (size_t i = 0; ok && i < b.len; i++) {
        uint8_t c = b.ptr[i];
        if (!is_lower_alnum(c) && c != '.' && c != '-')
            ok = false;
        if (c == '.' && i > 0 && (b.ptr[i - 1] == '.' || b.ptr[i - 1] == '-'))
            ok = false;
        if (c == '-' && i > 0 && b.ptr[i - 1] == '.')
            ok = false;
        if (c == '.')
            dots++;
        else if (c < '0' || c > '9')
            numeric = false;
    }
    if (ok && numeric && dots == 3)
        ok = false;
    if (ok)
        return NULL;
    return moat_fail(call, &cloudtrail_invalid_s3_bucket_name,
                     "Bucket name %.*s is not valid: bucket names have 3 to 63 lowercase letters, "
                     "numbers, periods and hyphens, and begin and end with a letter or number.",
                     MOAT_FMT(moat_slice_sub(b, 0, 128)));
}

static bool all_chars(struct moat_slice s, const char *extra)
{
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            continue;
        if (!c || !strchr(extra, c))
            return false;
    }
    return true;
}

/* arn:aws:<service>:<region>:<account>:<rest>; region may be empty (IAM). */
static bool arn_parts(struct moat_slice arn, const char *service, bool need_region,
                      struct moat_slice *region, struct moat_slice *account,
                      struct moat_slice *rest)
{
    struct moat_slice r = arn, p;
    if (!moat_slice_split(&r, ':', &p) || !moat_slice_eq_cstr(p, "arn"))
        return false;
    if (!moat_slice_split(&r, ':', &p) ||
        !(moat_slice_eq_cstr(p, "aws") || moat_slice_eq_cstr(p, "aws-cn") ||
          moat_slice_eq_cstr(p, "aws-us-gov")))
        return false;
    if (!moat_slice_split(&r, ':', &p) || !moat_slice_eq_cstr(p, service))
        return false;
    if (!moat_slice_split(&r, ':', region) || (need_region && region->len < 4))
        return false;
    if (!moat_slice_split(&r, ':', account) || account->len != 12 || !all_chars(*account, "") ||
        r.len == 0)
        return false;
    *rest = r;
    return true;
}

/* An SNS topic name or ARN; sets the topic's name and ARN. */
static struct moat_error *check_topic(struct moat_call *call, struct moat_slice t,
                                      const char **name, const char **arn)
{
    struct moat_slice region, account, rest;
    if (moat_slice_starts_with(t, MOAT_LIT("arn:"))) {
        if (arn_parts(t, "sns", true, &region, &account, &rest) && rest.len <= 256 &&
            all_chars(rest, "-_")) {
            *name = moat_arena_cstr(call->arena, rest);
            *arn = moat_arena_cstr(call->arena, t);
            return NULL;
        }
    } else if (t.len >= 1 && t.len <= 256 && all_chars(t, "-_")) {
        *name = moat_arena_cstr(call->arena, t);
        *arn = moat_arena_printf(call->arena, "arn:aws:sns:%s:%s:%.*s", call->region,
                                 call->account_id, MOAT_FMT(t));
        return NULL;
    }
    return moat_fail(call, &cloudtrail_invalid_sns_topic_name,
                     "SNS topic name %.*s is not valid: use 1 to 256 letters, numbers, hyphens "
                     "and underscores, or a topic ARN.",
                     MOAT_FMT(moat_slice_sub(t, 0, 300)));
}

static bool is_key_id(struct moat_slice s)
{
    /* 8-4-4-4-12 hex, optionally behind "mrk-" (multi-Region keys: 32 hex) */
    if (moat_slice_starts_with(s, MOAT_LIT("mrk-"))) {
        struct moat_slice h = moat_slice_sub(s, 4, s.len);
        return h.len == 32 && all_chars(h, "");
    }
    if (s.len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        uint8_t c = s.ptr[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-'
                 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* A KMS key id, key ARN, alias name or alias ARN, stored as an ARN (AWS
 * returns KmsKeyId as the key's ARN). */
static struct moat_error *check_kms_key(struct moat_call *call, struct moat_slice k,
                                        const char **arn)
{
    struct moat_slice region, account, rest;
    if (moat_slice_starts_with(k, MOAT_LIT("arn:"))) {
        if (arn_parts(k, "kms", true, &region, &account, &rest) &&
            ((moat_slice_starts_with(rest, MOAT_LIT("key/")) &&
              is_key_id(moat_slice_sub(rest, 4, rest.len))) ||
             (moat_slice_starts_with(rest, MOAT_LIT("alias/")) && rest.len > 6 &&
              all_chars(moat_slice_sub(rest, 6, rest.len), "/_-")))) {
            *arn = moat_arena_cstr(call->arena, k);
            return NULL;
        }
    } else if (is_key_id(k)) {
        *arn = moat_arena_printf(call->arena, "arn:aws:kms:%s:%s:key/%.*s", call->region,
                                 call->account_id, MOAT_FMT(k));
        return NULL;
    } else if (moat_slice_starts_with(k, MOAT_LIT("alias/")) && k.len > 6 && k.len <= 256 &&
               all_chars(moat_slice_sub(k, 6, k.len), "/_-")) {
        *arn = moat_arena_printf(call->arena, "arn:aws:kms:%s:%s:%.*s", call->region,
                                 call->account_id, MOAT_FMT(k));
        return NULL;
    }
    return moat_fail(call, &cloudtrail_invalid_kms_key_id,
                     "KMS key %.*s is not valid: use a key ID, key ARN, alias name or alias ARN.",
                     MOAT_FMT(moat_slice_sub(k, 0, 300)));
}

static struct moat_error *check_log_group(struct moat_call *call, struct moat_slice g)
{
    struct moat_slice region, account, rest;
    if (arn_parts(g, "logs", true, &region, &account, &rest) &&
        moat_slice_starts_with(rest, MOAT_LIT("log-group:")) && rest.len > 10)
        return NULL;
    return moat_fail(call, &cloudtrail_invalid_cwl_group_arn,
                     "CloudWatch Logs log group ARN %.*s is not valid: the format is "
                     "arn:aws:logs:region:account-id:log-group:name:*.",
                     MOAT_FMT(moat_slice_sub(g, 0, 300)));
}

static struct moat_error *check_role(struct moat_call *call, struct moat_slice r)
{
    struct moat_slice region, account, rest;
    if (arn_parts(r, "iam", false, &region, &account, &rest) && region.len == 0 &&
        moat_slice_starts_with(rest, MOAT_LIT("role/")) && rest.len > 5)
        return NULL;
    return moat_fail(call, &cloudtrail_invalid_cwl_role_arn,
                     "CloudWatch Logs role ARN %.*s is not valid: the format is "
                     "arn:aws:iam::account-id:role/name.",
                     MOAT_FMT(moat_slice_sub(r, 0, 300)));
}

/* ---- organization trails ---------------------------------------------------------------- */

static const struct moat_value *member_named(const struct moat_value *st, const char *name)
{
    unsigned idx;
    if (!st || st->type != MOAT_V_STRUCT ||
        !moat_shape_member(st->shape, moat_slice_cstr(name), &idx))
        return NULL;
    return moat_get(st, idx);
}

static struct moat_slice string_named(const struct moat_value *st, const char *name)
{
    const struct moat_value *v = member_named(st, name);
    return v && v->type == MOAT_V_STRING ? v->u.s : MOAT_NULL_SLICE;
}

/* Whether the caller may create or keep an organization trail: the account is
 * the management account of an organization with all features, and trusted
 * access for CloudTrail is enabled. Asks Organizations on the caller's behalf,
 * as CloudTrail does. Sets *org_id. */
static struct moat_error *check_organization(struct moat_call *call, const char **org_id)
{
    const struct moat_service *orgs = registry_by_signing_name(MOAT_LIT("organizations"));
    if (!orgs || !registry_find_op(orgs, MOAT_LIT("DescribeOrganization")))
        return moat_fail(call, &cloudtrail_orgs_not_in_use,
                         "This account is not a member of an organization: AWS Organizations is "
                         "not available on this endpoint yet, so organization trails cannot be "
                         "created.");
    struct moat_call *c = moat_call_internal(call, "organizations", "DescribeOrganization", NULL);
    if (c->error) {
        if (!strcmp(c->error->kind->code, "AWSOrganizationsNotInUseException"))
            return moat_fail(call, &cloudtrail_orgs_not_in_use,
                             "This account is not a member of an organization.");
        if (c->error_is_denial)
            return moat_fail(call, &cloudtrail_insufficient_dependency,
                             "Creating an organization trail needs "
                             "organizations:DescribeOrganization: %.*s",
                             MOAT_FMT(c->error->message));
        return c->error;
    }
    const struct moat_value *org = member_named(c->output, "Organization");
    if (!moat_slice_eq_cstr(string_named(org, "FeatureSet"), "ALL"))
        return moat_fail(call, &cloudtrail_org_not_all_features,
                         "The organization does not have all features enabled; organization "
                         "trails need all features.");
    if (!moat_slice_eq_cstr(string_named(org, "MasterAccountId"), call->account_id))
        return moat_fail(call, &cloudtrail_not_org_management,
                         "Account %s is not the management account of its organization; only "
                         "the management account can create or update organization trails.",
                         call->account_id);
    *org_id = moat_arena_cstr(call->arena, string_named(org, "Id"));
    if (!registry_find_op(orgs, MOAT_LIT("ListAWSServiceAccessForOrganization")))
        return moat_fail(call, &cloudtrail_access_not_enabled,
                         "Trusted access for CloudTrail cannot be checked: AWS Organizations on "
                         "this endpoint does not offer ListAWSServiceAccessForOrganization yet.");
    c = moat_call_internal(call, "organizations", "ListAWSServiceAccessForOrganization", NULL);
    if (c->error)
        return c->error->kind->http_status >= 500 || !c->error_is_denial
                   ? c->error
                   : moat_fail(call, &cloudtrail_insufficient_dependency, "%.*s",
                               MOAT_FMT(c->error->message));
    const struct moat_value *list = member_named(c->output, "EnabledServicePrincipals");
    for (uint32_t i = 0; list && list->type == MOAT_V_LIST && i < list->count; i++)
        if (moat_slice_eq_cstr(string_named(list->u.items[i], "ServicePrincipal"),
                               "cloudtrail.amazonaws.com"))
            return NULL;
    return moat_fail(call, &cloudtrail_access_not_enabled,
                     "Trusted access for CloudTrail is not enabled in the organization: call "
                     "organizations:EnableAWSServiceAccess for cloudtrail.amazonaws.com first.");
}

/* ---- tags ---------------------------------------------------------------------------- */

/* Checks a TagsList input and merges it into doc.Tags (adding or replacing). */
static struct moat_error *merge_tags(struct moat_call *call, struct moat_value *doc,
                                     const struct moat_value *tags)
{
    struct moat_arena *a = call->arena;
    struct moat_value *list = moat_map_get(doc, "Tags");
    if (!list || list->type != MOAT_V_LIST) {
        list = moat_value_list(a);
        moat_map_set(a, doc, MOAT_LIT("Tags"), list);
    }
    for (uint32_t i = 0; tags && i < tags->count; i++) {
        struct moat_slice k = moat_get_str(tags->u.items[i], CLOUDTRAIL_TAG_KEY);
        struct moat_value *v = moat_get(tags->u.items[i], CLOUDTRAIL_TAG_VALUE);
        if (moat_slice_starts_with(k, MOAT_LIT("aws:")))
            return moat_fail(call, &cloudtrail_invalid_tag,
                             "Tag keys cannot begin with aws: (reserved for AWS use).");
        for (uint32_t j = 0; j < i; j++)
            if (moat_slice_eq(k, moat_get_str(tags->u.items[j], CLOUDTRAIL_TAG_KEY)))
                return moat_fail(call, &cloudtrail_invalid_tag,
                                 "Tag key %.*s appears more than once in the request.",
                                 MOAT_FMT(k));
        struct moat_value *entry = NULL;
        for (uint32_t j = 0; j < list->count && !entry; j++)
            if (moat_slice_eq(moat_map_str(list->u.items[j], "Key"), k))
                entry = list->u.items[j];
        if (!entry) {
            entry = moat_value_map(a);
            moat_map_set_str(a, entry, "Key", k);
            moat_list_push(a, list, entry);
        }
        if (v)
            moat_map_set_str(a, entry, "Value", v->u.s);
        else
            moat_map_remove(entry, MOAT_LIT("Value"));
    }
    if (list->count > CLOUDTRAIL_MAX_TAGS)
        return moat_fail(call, &cloudtrail_tags_limit,
                         "The number of tags per trail, event data store, or channel has exceeded "
                         "the permitted amount. Currently, the limit is %d.",
                         CLOUDTRAIL_MAX_TAGS);
    return NULL;
}

/* ---- CreateTrail / UpdateTrail ----------------------------------------------------------- */

/* The settings both operations take, by member id of each request shape. */
struct trail_members {
    unsigned s3_bucket, s3_prefix, sns, include_global, multi_region, validation, cwl_group,
        cwl_role, kms, org;
};

static const struct trail_members create_members = {
    CLOUDTRAIL_CREATE_TRAIL_REQUEST_S3_BUCKET_NAME,
    CLOUDTRAIL_CREATE_TRAIL_REQUEST_S3_KEY_PREFIX,
    CLOUDTRAIL_CREATE_TRAIL_REQUEST_SNS_TOPIC_NAME,
    CLOUDTRAIL_CREATE_TRAIL_REQUEST_INCLUDE_GLOBAL_SERVICE_EVENTS,
    CLOUDTRAIL_CREATE_TRAIL_REQUEST_IS_MULTI_REGION_TRAIL,
    CLOUDTRAIL_CREATE_TRAIL_REQUEST_ENABLE_LOG_FILE_VALIDATION,
    CLOUDTRAIL_CREATE_TRAIL_REQUEST_CLOUD_WATCH_LOGS_LOG_GROUP_ARN,
    CLOUDTRAIL_CREATE_TRAIL_REQUEST_CLOUD_WATCH_LOGS_ROLE_ARN,
    CLOUDTRAIL_CREATE_TRAIL_REQUEST_KMS_KEY_ID,
    CLOUDTRAIL_CREATE_TRAIL_REQUEST_IS_ORGANIZATION_TRAIL,
};

static const struct trail_members update_members = {
    CLOUDTRAIL_UPDATE_TRAIL_REQUEST_S3_BUCKET_NAME,
    CLOUDTRAIL_UPDATE_TRAIL_REQUEST_S3_KEY_PREFIX,
    CLOUDTRAIL_UPDATE_TRAIL_REQUEST_SNS_TOPIC_NAME,
    CLOUDTRAIL_UPDATE_TRAIL_REQUEST_INCLUDE_GLOBAL_SERVICE_EVENTS,
    CLOUDTRAIL_UPDATE_TRAIL_REQUEST_IS_MULTI_REGION_TRAIL,
    CLOUDTRAIL_UPDATE_TRAIL_REQUEST_ENABLE_LOG_FILE_VALIDATION,
    CLOUDTRAIL_UPDATE_TRAIL_REQUEST_CLOUD_WATCH_LOGS_LOG_GROUP_ARN,
    CLOUDTRAIL_UPDATE_TRAIL_REQUEST_CLOUD_WATCH_LOGS_ROLE_ARN,
    CLOUDTRAIL_UPDATE_TRAIL_REQUEST_KMS_KEY_ID,
    CLOUDTRAIL_UPDATE_TRAIL_REQUEST_IS_ORGANIZATION_TRAIL,
};

/* Applies the given settings to doc (a new trail's or an existing one's). An
 * empty string removes an optional destination, as UpdateTrail documents. */
static struct moat_error *apply_settings(struct moat_call *call, const struct moat_value *in,
                                         const struct trail_members *m, struct moat_value *doc)
{
    struct moat_arena *a = call->arena;
    struct moat_error *err;
    if (moat_has(in, m->s3_bucket)) {
        struct moat_slice b = moat_get_str(in, m->s3_bucket);
        if ((err = check_bucket(call, b)))
            return err;
        moat_map_set_str(a, doc, "S3BucketName", b);
    }
    if (moat_has(in, m->s3_prefix)) {
        struct moat_slice p = moat_get_str(in, m->s3_prefix);
        if (p.len > 200)
            return moat_fail(call, &cloudtrail_invalid_s3_prefix,
                             "The S3 key prefix is too long: at most 200 characters.");
        if (p.len && (p.ptr[0] == '/' || p.ptr[p.len - 1] == '/'))
            return moat_fail(call, &cloudtrail_invalid_s3_prefix,
                             "The S3 key prefix cannot begin or end with a slash.");
        if (p.len)
            moat_map_set_str(a, doc, "S3KeyPrefix", p);
        else
            moat_map_remove(doc, MOAT_LIT("S3KeyPrefix"));
    }
    if (moat_has(in, m->sns)) {
        struct moat_slice t = moat_get_str(in, m->sns);
        if (t.len) {
            const char *name = NULL, *arn = NULL;
            if ((err = check_topic(call, t, &name, &arn)))
                return err;
            moat_map_set_cstr(a, doc, "SnsTopicName", name);
            moat_map_set_cstr(a, doc, "SnsTopicARN", arn);
        } else {
            moat_map_remove(doc, MOAT_LIT("SnsTopicName"));
            moat_map_remove(doc, MOAT_LIT("SnsTopicARN"));
        }
    }
    if (moat_has(in, m->include_global))
        moat_map_set_bool(a, doc, "IncludeGlobalServiceEvents",
                          moat_get_bool(in, m->include_global, true));
    if (moat_has(in, m->multi_region))
        moat_map_set_bool(a, doc, "IsMultiRegionTrail", moat_get_bool(in, m->multi_region, false));
    if (moat_has(in, m->validation))
        moat_map_set_bool(a, doc, "LogFileValidationEnabled",
                          moat_get_bool(in, m->validation, false));
    if (moat_has(in, m->cwl_group)) {
        struct moat_slice g = moat_get_str(in, m->cwl_group);
        if (g.len && (err = check_log_group(call, g)))
            return err;
        if (g.len)
            moat_map_set_str(a, doc, "CloudWatchLogsLogGroupArn", g);
        else
            moat_map_remove(doc, MOAT_LIT("CloudWatchLogsLogGroupArn"));
    }
    if (moat_has(in, m->cwl_role)) {
        struct moat_slice r = moat_get_str(in, m->cwl_role);
        if (r.len && (err = check_role(call, r)))
            return err;
        if (r.len)
            moat_map_set_str(a, doc, "CloudWatchLogsRoleArn", r);
        else
            moat_map_remove(doc, MOAT_LIT("CloudWatchLogsRoleArn"));
    }
    bool has_group = moat_map_str(doc, "CloudWatchLogsLogGroupArn").len > 0;
    bool has_role = moat_map_str(doc, "CloudWatchLogsRoleArn").len > 0;
    if (has_group && !has_role)
        return moat_fail(call, &cloudtrail_invalid_cwl_role_arn,
                         "A CloudWatch Logs log group needs a role ARN "
                         "(CloudWatchLogsRoleArn) that CloudTrail assumes to write to it.");
    if (has_role && !has_group)
        return moat_fail(call, &cloudtrail_invalid_cwl_group_arn,
                         "A CloudWatch Logs role ARN needs a log group ARN "
                         "(CloudWatchLogsLogGroupArn).");
    if (moat_has(in, m->kms)) {
        struct moat_slice k = moat_get_str(in, m->kms);
        if (k.len) {
            const char *arn = NULL;
            if ((err = check_kms_key(call, k, &arn)))
                return err;
            moat_map_set_cstr(a, doc, "KmsKeyId", arn);
        } else {
            moat_map_remove(doc, MOAT_LIT("KmsKeyId"));
        }
    }
    if (moat_map_bool(doc, "IsMultiRegionTrail", false) &&
        !moat_map_bool(doc, "IncludeGlobalServiceEvents", true))
        return moat_fail(call, &cloudtrail_invalid_combination,
                         "Multi-Region trail must include global service events.");
    if (moat_has(in, m->org)) {
        bool org = moat_get_bool(in, m->org, false);
        if (org && !moat_map_bool(doc, "IsOrganizationTrail", false)) {
            const char *org_id = NULL;
            if ((err = check_organization(call, &org_id)))
                return err;
            moat_map_set_cstr(a, doc, "OrganizationId", org_id);
        }
        if (!org)
            moat_map_remove(doc, MOAT_LIT("OrganizationId"));
        moat_map_set_bool(a, doc, "IsOrganizationTrail", org);
    }
    return NULL;
}

/* Name uniqueness and the five-trails-per-region quota for `doc` (a trail being
 * created, or updated: `self` is its own key, skipped). */
static struct moat_error *check_room(struct moat_call *call, const struct moat_value *doc,
                                     struct moat_slice self)
{
    struct cloudtrail_record *all;
    size_t n;
    struct moat_error *err = cloudtrail_list_all(call, false, &all, &n);
    if (err)
        return err;
    struct moat_slice name = moat_map_str(doc, "Name"), home = moat_map_str(doc, "HomeRegion");
    bool multi = moat_map_bool(doc, "IsMultiRegionTrail", false);
    size_t multi_count = 0;
    for (size_t i = 0; i < n; i++) {
        if (moat_slice_eq(all[i].key, self))
            continue;
        bool other_multi = moat_map_bool(all[i].doc, "IsMultiRegionTrail", false);
        multi_count += other_multi;
        if (moat_slice_eq_cstr(name, all[i].name) &&
            (moat_slice_eq_cstr(home, all[i].home_region) || other_multi || multi))
            return moat_fail(call, &cloudtrail_trail_already_exists,
                             "Trail %.*s already exists for customer: %s", MOAT_FMT(name),
                             call->account_id);
    }
    /* Trails visible in a region: its own plus every multi-region trail. */
    for (size_t i = 0; i <= n; i++) {
        struct moat_slice region = i < n ? moat_slice_cstr(all[i].home_region) : home;
        if (!multi && !moat_slice_eq(region, home))
            continue;
        size_t count = multi_count + 1;
        for (size_t j = 0; j < n; j++)
            if (!moat_slice_eq(all[j].key, self) &&
                !moat_map_bool(all[j].doc, "IsMultiRegionTrail", false) &&
                moat_slice_eq_cstr(region, all[j].home_region))
                count++;
        if (count > CLOUDTRAIL_MAX_TRAILS_PER_REGION)
            return moat_fail(call, &cloudtrail_max_trails,
                             "User: %s already has %d trails in %.*s.", call->account_id,
                             CLOUDTRAIL_MAX_TRAILS_PER_REGION, MOAT_FMT(region));
    }
    return NULL;
}

static const char *const trail_resource = "AWS::CloudTrail::Trail";

struct moat_error *cloudtrail_create_trail(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out)
{
    struct moat_arena *a = call->arena;
    struct moat_slice name = moat_get_str(in, CLOUDTRAIL_CREATE_TRAIL_REQUEST_NAME);
    struct moat_error *err = cloudtrail_check_name(call, name);
    if (err)
        return err;
    struct moat_value *doc = moat_value_map(a);
    const char *arn = cloudtrail_trail_arn(call, call->region, name);
    moat_map_set_str(a, doc, "Name", name);
    moat_map_set_cstr(a, doc, "HomeRegion", call->region);
    moat_map_set_cstr(a, doc, "TrailARN", arn);
    moat_map_set_cstr(a, doc, "AccountId", call->account_id);
    moat_map_set_bool(a, doc, "IncludeGlobalServiceEvents", true);
    moat_map_set_bool(a, doc, "IsMultiRegionTrail", false);
    moat_map_set_bool(a, doc, "LogFileValidationEnabled", false);
    moat_map_set_bool(a, doc, "IsOrganizationTrail", false);
    moat_map_set_bool(a, doc, "HasCustomEventSelectors", false);
    moat_map_set_bool(a, doc, "HasInsightSelectors", false);
    moat_map_set_bool(a, doc, "IsLogging", false);
    moat_map_set_int(a, doc, "CreatedTime", call->now_ms);
    if ((err = apply_settings(call, in, &create_members, doc)))
        return err;
    if ((err = merge_tags(call, doc, moat_get(in, CLOUDTRAIL_CREATE_TRAIL_REQUEST_TAGS_LIST))))
        return err;
    if ((err = check_room(call, doc, MOAT_NULL_SLICE)))
        return err;
    struct cloudtrail_record r = {
        .doc = doc, .name = moat_arena_cstr(a, name), .home_region = call->region, .arn = arn};
    if ((err = cloudtrail_save(call, &r)))
        return err;
    moat_call_add_resource(call, trail_resource, arn);
    cloudtrail_fill_trail(call, &r, out);
    return NULL;
}

/* Finds the trail for an operation that changes it: shadows (multi-region
 * trails seen from another region) are read-only. */
static struct moat_error *find_home(struct moat_call *call, struct moat_slice name,
                                    struct cloudtrail_record *r)
{
    bool shadow;
    struct moat_error *err = cloudtrail_find(call, name, NULL, r, &shadow);
    if (err)
        return err;
    moat_call_add_resource(call, trail_resource, r->arn);
    if ((err = own_trail(call, r)))
        return err;
    if (shadow)
        return moat_fail(call, &cloudtrail_invalid_home_region,
                         "Trail %s was created in %s: change it from its home Region.", r->arn,
                         r->home_region);
    return NULL;
}

static struct moat_error *find_any(struct moat_call *call, struct moat_slice name,
                                   struct cloudtrail_record *r)
{
    bool shadow;
    struct moat_error *err = cloudtrail_find(call, name, NULL, r, &shadow);
    if (!err)
        moat_call_add_resource(call, trail_resource, r->arn);
    return err;
}

struct moat_error *cloudtrail_update_trail(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out)
{
    struct cloudtrail_record r;
    struct moat_error *err =
        find_home(call, moat_get_str(in, CLOUDTRAIL_UPDATE_TRAIL_REQUEST_NAME), &r);
    if (err)
        return err;
    bool was_multi = moat_map_bool(r.doc, "IsMultiRegionTrail", false);
    if ((err = apply_settings(call, in, &update_members, r.doc)))
        return err;
    if (!was_multi && moat_map_bool(r.doc, "IsMultiRegionTrail", false) &&
        (err = check_room(call, r.doc, r.key)))
        return err;
    if ((err = cloudtrail_save(call, &r)))
        return err;
    cloudtrail_fill_trail(call, &r, out);
    return NULL;
}

struct moat_error *cloudtrail_delete_trail(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out)
{
    struct cloudtrail_record r;
    struct moat_error *err =
        find_home(call, moat_get_str(in, CLOUDTRAIL_DELETE_TRAIL_REQUEST_NAME), &r);
    if (err)
        return err;
    return cloudtrail_remove(call, &r);
}

struct moat_error *cloudtrail_get_trail(struct moat_call *call, const struct moat_value *in,
                                        struct moat_value *out)
{
    struct cloudtrail_record r;
    struct moat_error *err =
        find_any(call, moat_get_str(in, CLOUDTRAIL_GET_TRAIL_REQUEST_NAME), &r);
    if (err)
        return err;
    cloudtrail_fill_trail(call, &r,
                          moat_set_struct(call->arena, out, CLOUDTRAIL_GET_TRAIL_RESPONSE_TRAIL));
    return NULL;
}

/* https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DescribeTrails.html */
struct moat_error *cloudtrail_describe_trails(struct moat_call *call, const struct moat_value *in,
                                              struct moat_value *out)
{
    struct moat_arena *a = call->arena;
    bool shadows =
        moat_get_bool(in, CLOUDTRAIL_DESCRIBE_TRAILS_REQUEST_INCLUDE_SHADOW_TRAILS, true);
    const struct moat_value *names =
        moat_get(in, CLOUDTRAIL_DESCRIBE_TRAILS_REQUEST_TRAIL_NAME_LIST);
    struct moat_value *list = moat_set_list(a, out, CLOUDTRAIL_DESCRIBE_TRAILS_RESPONSE_TRAIL_LIST);
    struct moat_error *err;
    if (names && names->count) {
        for (uint32_t i = 0; i < names->count; i++) {
            struct moat_slice name = names->u.items[i]->u.s;
            struct cloudtrail_record r;
            bool shadow;
            err = cloudtrail_find(call, name, NULL, &r, &shadow);
            if (err && err->kind == &cloudtrail_trail_not_found)
                continue; /* names that match nothing are left out */
            if (err)
                return err;
            if (shadow && !shadows)
                continue;
            bool dup = false;
            for (uint32_t j = 0; j < list->count; j++)
                if (moat_slice_eq_cstr(moat_get_str(list->u.items[j], CLOUDTRAIL_TRAIL_TRAIL_ARN),
                                       r.arn))
                    dup = true;
            if (!dup)
                cloudtrail_fill_trail(call, &r, moat_list_add_struct(a, list));
        }
        return NULL;
    }
    struct cloudtrail_record *all;
    size_t n;
    if ((err = cloudtrail_list_all(call, shadows, &all, &n)))
        return err;
    for (size_t i = 0; i < n; i++) {
        bool here = !strcmp(all[i].home_region, call->region);
        if (all[i].foreign && !shadows)
            continue; /* another account's organization trail is a shadow here */
        if ((here && !all[i].foreign) ||
            (shadows && (here || moat_map_bool(all[i].doc, "IsMultiRegionTrail", false))))
            cloudtrail_fill_trail(call, &all[i], moat_list_add_struct(a, list));
    }
    return NULL;
}

struct moat_error *cloudtrail_list_trails(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out)
{
    struct moat_arena *a = call->arena;
    /* moat answers with every trail in one page, so it never hands out a token. */
    if (moat_has(in, CLOUDTRAIL_LIST_TRAILS_REQUEST_NEXT_TOKEN))
        return moat_fail(call, &cloudtrail_invalid_next_token,
                         "The NextToken is not valid: this endpoint did not issue it.");
    struct cloudtrail_record *all;
    size_t n;
    struct moat_error *err = cloudtrail_list_all(call, true, &all, &n);
    if (err)
        return err;
    struct moat_value *list = moat_set_list(a, out, CLOUDTRAIL_LIST_TRAILS_RESPONSE_TRAILS);
    for (size_t i = 0; i < n; i++) {
        struct moat_value *t = moat_list_add_struct(a, list);
        moat_set_cstr(a, t, CLOUDTRAIL_TRAIL_INFO_TRAIL_ARN, all[i].arn);
        moat_set_cstr(a, t, CLOUDTRAIL_TRAIL_INFO_NAME, all[i].name);
        moat_set_cstr(a, t, CLOUDTRAIL_TRAIL_INFO_HOME_REGION, all[i].home_region);
    }
    return NULL;
}

/* https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetTrailStatus.html */
struct moat_error *cloudtrail_get_trail_status(struct moat_call *call, const struct moat_value *in,
                                               struct moat_value *out)
{
    struct moat_arena *a = call->arena;
    struct cloudtrail_record r;
    struct moat_error *err =
        find_any(call, moat_get_str(in, CLOUDTRAIL_GET_TRAIL_STATUS_REQUEST_NAME), &r);
    if (err)
        return err;
    bool logging = moat_map_bool(r.doc, "IsLogging", false);
    int64_t started = moat_map_int(r.doc, "StartLoggingTime", 0);
    int64_t stopped = moat_map_int(r.doc, "StopLoggingTime", 0);
    moat_set_bool(a, out, CLOUDTRAIL_GET_TRAIL_STATUS_RESPONSE_IS_LOGGING, logging);
    if (started)
        moat_set_ts(a, out, CLOUDTRAIL_GET_TRAIL_STATUS_RESPONSE_START_LOGGING_TIME, started);
    if (stopped)
        moat_set_ts(a, out, CLOUDTRAIL_GET_TRAIL_STATUS_RESPONSE_STOP_LOGGING_TIME, stopped);
    if (!started)
        return NULL; /* no delivery was ever due */
    /* Delivery would have been attempted since logging started; say why it was not. */
    struct moat_slice bucket = moat_map_str(r.doc, "S3BucketName");
    moat_set_cstr(a, out, CLOUDTRAIL_GET_TRAIL_STATUS_RESPONSE_LATEST_DELIVERY_ERROR,
                  moat_arena_printf(a,
                                    "Log files cannot be delivered to S3 bucket %.*s: S3 is not "
                                    "available on this moat endpoint yet. Events are recorded; "
                                    "read them with LookupEvents.",
                                    MOAT_FMT(bucket)));
    if (moat_map_bool(r.doc, "LogFileValidationEnabled", false))
        moat_set_cstr(a, out, CLOUDTRAIL_GET_TRAIL_STATUS_RESPONSE_LATEST_DIGEST_DELIVERY_ERROR,
                      moat_arena_printf(a,
                                        "Digest files cannot be delivered to S3 bucket %.*s: S3 "
                                        "is not available on this moat endpoint yet.",
                                        MOAT_FMT(bucket)));
    if (moat_map_str(r.doc, "SnsTopicARN").len)
        moat_set_cstr(a, out, CLOUDTRAIL_GET_TRAIL_STATUS_RESPONSE_LATEST_NOTIFICATION_ERROR,
                      "Notifications cannot be sent: SNS is not available on this moat endpoint "
                      "yet.");
    if (moat_map_str(r.doc, "CloudWatchLogsLogGroupArn").len)
        moat_set_cstr(a, out,
                      CLOUDTRAIL_GET_TRAIL_STATUS_RESPONSE_LATEST_CLOUD_WATCH_LOGS_DELIVERY_ERROR,
                      "Events cannot be delivered to CloudWatch Logs: CloudWatch Logs is not "
                      "available on this moat endpoint yet.");
    return NULL;
}

static struct moat_error *set_logging(struct moat_call *call, struct moat_slice name, bool on)
{
    struct cloudtrail_record r;
    struct moat_error *err = find_home(call, name, &r);
    if (err)
        return err;
    if (moat_map_bool(r.doc, "IsLogging", false) == on)
        return NULL; /* already so: nothing changes */
    moat_map_set_bool(call->arena, r.doc, "IsLogging", on);
    moat_map_set_int(call->arena, r.doc, on ? "StartLoggingTime" : "StopLoggingTime", call->now_ms);
    return cloudtrail_save(call, &r);
}

struct moat_error *cloudtrail_start_logging(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out)
{
    return set_logging(call, moat_get_str(in, CLOUDTRAIL_START_LOGGING_REQUEST_NAME), true);
}

struct moat_error *cloudtrail_stop_logging(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out)
{
    return set_logging(call, moat_get_str(in, CLOUDTRAIL_STOP_LOGGING_REQUEST_NAME), false);
}

/* ---- event selectors ----------------------------------------------------------------- */

/* The trail's selectors document in canonical form (defaults for a new trail). */
static struct moat_value *selectors_doc(struct moat_call *call, const struct cloudtrail_record *r)
{
    struct moat_value *sel = moat_map_get(r->doc, "Selectors");
    if (sel)
        return sel;
    struct cloudtrail_selectors s;
    cloudtrail_selectors_default(&s);
    struct moat_buf b;
    moat_buf_init(&b, call->arena, 256);
    cloudtrail_selectors_write(&b, &s);
    struct moat_value *doc = NULL;
    (void)moat_json_parse(call->arena, moat_buf_slice(&b), 0, &doc, NULL);
    return doc;
}

/* Fills TrailARN, EventSelectors and AdvancedEventSelectors of a response. */
static struct moat_error *fill_selectors(struct moat_call *call, const struct cloudtrail_record *r,
                                         struct moat_value *out, unsigned arn_member)
{
    struct moat_value *typed;
    struct moat_error *err =
        proto_json_convert(call->arena, out->shape, selectors_doc(call, r), &typed);
    if (err || !typed)
        return moat_internal(call, "cloudtrail: stored selectors do not convert");
    for (unsigned i = 0; i < out->count; i++)
        if (typed->u.members[i])
            moat_set(out, i, typed->u.members[i]);
    moat_set_cstr(call->arena, out, arn_member, r->arn);
    return NULL;
}

struct moat_error *cloudtrail_put_event_selectors(struct moat_call *call,
                                                  const struct moat_value *in,
                                                  struct moat_value *out)
{
    struct moat_arena *a = call->arena;
    struct cloudtrail_record r;
    struct moat_error *err =
        find_home(call, moat_get_str(in, CLOUDTRAIL_PUT_EVENT_SELECTORS_REQUEST_TRAIL_NAME), &r);
    if (err)
        return err;
    /* The request's selectors as the API's JSON, then parsed and checked once. */
    struct moat_buf b;
    moat_buf_init(&b, a, 512);
    proto_json_encode(&b, call->op_shape->input, in);
    struct moat_value *req = NULL, *canon = NULL;
    if (!moat_json_parse(a, moat_buf_slice(&b), 0, &req, NULL))
        return moat_internal(call, "cloudtrail: request does not re-encode");
    moat_map_remove(req, MOAT_LIT("TrailName"));
    struct cloudtrail_selectors s;
    const char *why = cloudtrail_selectors_parse(a, req, &s);
    if (why)
        return moat_fail(call, &cloudtrail_invalid_event_selectors, "%s", why);
    moat_buf_init(&b, a, 512);
    cloudtrail_selectors_write(&b, &s);
    if (!moat_json_parse(a, moat_buf_slice(&b), 0, &canon, NULL))
        return moat_internal(call, "cloudtrail: selectors do not serialise");
    moat_map_set(a, r.doc, MOAT_LIT("Selectors"), canon);
    moat_map_set_bool(a, r.doc, "HasCustomEventSelectors", true);
    if ((err = cloudtrail_save(call, &r)))
        return err;
    return fill_selectors(call, &r, out, CLOUDTRAIL_PUT_EVENT_SELECTORS_RESPONSE_TRAIL_ARN);
}

struct moat_error *cloudtrail_get_event_selectors(struct moat_call *call,
                                                  const struct moat_value *in,
                                                  struct moat_value *out)
{
    struct cloudtrail_record r;
    struct moat_error *err =
        find_any(call, moat_get_str(in, CLOUDTRAIL_GET_EVENT_SELECTORS_REQUEST_TRAIL_NAME), &r);
    if (err)
        return err;
    return fill_selectors(call, &r, out, CLOUDTRAIL_GET_EVENT_SELECTORS_RESPONSE_TRAIL_ARN);
}

/* ---- tags ------------------------------------------------------------------------------ */

/* Finds the trail a tagging operation's ResourceId names (an ARN). Event data
 * stores and channels can carry tags in AWS; moat has none of them yet, so
 * their ARNs name nothing that exists. */
static struct moat_error *find_tagged(struct moat_call *call, struct moat_slice id,
                                      struct cloudtrail_record *r)
{
    struct moat_slice rest = id, part;
    bool cloudtrail_arn = true;
    for (int i = 0; i < 5 && cloudtrail_arn; i++) {
        if (!moat_slice_split(&rest, ':', &part))
            cloudtrail_arn = false;
        else if (i == 0)
            cloudtrail_arn = moat_slice_eq_cstr(part, "arn");
        else if (i == 2)
            cloudtrail_arn = moat_slice_eq_cstr(part, "cloudtrail");
    }
    struct moat_slice shown = moat_slice_sub(id, 0, 512);
    if (!cloudtrail_arn || !rest.len)
        return moat_fail(call, &cloudtrail_arn_invalid,
                         "%.*s is not a valid trail ARN: the format is "
                         "arn:aws:cloudtrail:region:account-id:trail/trail-name.",
                         MOAT_FMT(shown));
    if (moat_slice_starts_with(rest, MOAT_LIT("eventdatastore/")))
        return moat_fail(call, &cloudtrail_eds_not_found,
                         "The specified event data store ARN %.*s does not exist.",
                         MOAT_FMT(shown));
    if (moat_slice_starts_with(rest, MOAT_LIT("channel/")))
        return moat_fail(call, &cloudtrail_channel_not_found,
                         "The specified channel ARN %.*s does not exist.", MOAT_FMT(shown));
    if (!moat_slice_starts_with(rest, MOAT_LIT("trail/")))
        return moat_fail(call, &cloudtrail_resource_type_not_supported,
                         "The resource type of %.*s does not support tags.", MOAT_FMT(shown));
    bool shadow;
    struct moat_error *err = cloudtrail_find(call, id, &cloudtrail_resource_not_found, r, &shadow);
    if (!err)
        moat_call_add_resource(call, trail_resource, r->arn);
    return err;
}

/* Tags of another account's organization trail are its management account's to change. */
static struct moat_error *own_trail(struct moat_call *call, const struct cloudtrail_record *r)
{
    if (!r->foreign)
        return NULL;
    return moat_fail(call, &cloudtrail_not_org_management,
                     "Trail %s is an organization trail: only the management account of the "
                     "organization can change it.",
                     r->arn);
}

struct moat_error *cloudtrail_add_tags(struct moat_call *call, const struct moat_value *in,
                                       struct moat_value *out)
{
    struct cloudtrail_record r;
    struct moat_error *err =
        find_tagged(call, moat_get_str(in, CLOUDTRAIL_ADD_TAGS_REQUEST_RESOURCE_ID), &r);
    if (!err)
        err = own_trail(call, &r);
    if (err)
        return err;
    if ((err = merge_tags(call, r.doc, moat_get(in, CLOUDTRAIL_ADD_TAGS_REQUEST_TAGS_LIST))))
        return err;
    return cloudtrail_save(call, &r);
}

struct moat_error *cloudtrail_remove_tags(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out)
{
    struct cloudtrail_record r;
    struct moat_error *err =
        find_tagged(call, moat_get_str(in, CLOUDTRAIL_REMOVE_TAGS_REQUEST_RESOURCE_ID), &r);
    if (!err)
        err = own_trail(call, &r);
    if (err)
        return err;
    const struct moat_value *tags = moat_get(in, CLOUDTRAIL_REMOVE_TAGS_REQUEST_TAGS_LIST);
    struct moat_value *list = moat_map_get(r.doc, "Tags");
    for (uint32_t i = 0; tags && list && list->type == MOAT_V_LIST && i < tags->count; i++) {
        struct moat_slice k = moat_get_str(tags->u.items[i], CLOUDTRAIL_TAG_KEY);
        for (uint32_t j = 0; j < list->count; j++) {
            if (!moat_slice_eq(moat_map_str(list->u.items[j], "Key"), k))
                continue;
            memmove(&list->u.items[j], &list->u.items[j + 1],
                    (list->count - j - 1) * sizeof(list->u.items[0]));
            list->count--;
            break;
        }
    }
    return cloudtrail_save(call, &r);
}

#define LIST_TAGS_MAX_IDS 20

struct moat_error *cloudtrail_list_tags(struct moat_call *call, const struct moat_value *in,
                                        struct moat_value *out)
{
    struct moat_arena *a = call->arena;
    const struct moat_value *ids = moat_get(in, CLOUDTRAIL_LIST_TAGS_REQUEST_RESOURCE_ID_LIST);
    if (!ids || !ids->count)
        return moat_fail(call, &cloudtrail_invalid_parameter,
                         "ResourceIdList must name at least one resource.");
    if (ids->count > LIST_TAGS_MAX_IDS)
        return moat_fail(call, &cloudtrail_invalid_parameter,
                         "ResourceIdList can name at most %d resources.", LIST_TAGS_MAX_IDS);
    struct moat_value *list =
        moat_set_list(a, out, CLOUDTRAIL_LIST_TAGS_RESPONSE_RESOURCE_TAG_LIST);
    for (uint32_t i = 0; i < ids->count; i++) {
        struct cloudtrail_record r;
        struct moat_error *err = find_tagged(call, ids->u.items[i]->u.s, &r);
        if (err)
            return err;
        struct moat_value *rt = moat_list_add_struct(a, list);
        moat_set_cstr(a, rt, CLOUDTRAIL_RESOURCE_TAG_RESOURCE_ID, r.arn);
        struct moat_value *tl = moat_set_list(a, rt, CLOUDTRAIL_RESOURCE_TAG_TAGS_LIST);
        struct moat_value *tags = moat_map_get(r.doc, "Tags");
        for (uint32_t j = 0; tags && tags->type == MOAT_V_LIST && j < tags->count; j++) {
            struct moat_value *t = moat_list_add_struct(a, tl);
            moat_set_str(a, t, CLOUDTRAIL_TAG_KEY, moat_map_str(tags->u.items[j], "Key"));
            struct moat_value *v = moat_map_get(tags->u.items[j], "Value");
            if (v && v->type == MOAT_V_STRING)
                moat_set_str(a, t, CLOUDTRAIL_TAG_VALUE, v->u.s);
        }
    }
    return NULL;
}

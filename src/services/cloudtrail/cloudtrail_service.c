/* cloudtrail_service.c: CloudTrail's operation table, error kinds and the
 * resources its operations are authorised on. Handlers live in
 * cloudtrail_trails.c and cloudtrail_lookup.c. */
#include "aws/shapes/shapes_cloudtrail.h"
#include "core/buf.h"
#include "core/log.h"
#include "iam/iam_message.h"
#include "server/authorize.h"
#include "server/server.h"
#include "services/cloudtrail/cloudtrail.h"

#include <stdlib.h>
#include <string.h>

/* CloudTrail answers every client error with HTTP 400, throttling included.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/CommonErrors.html */
#define CT_ERROR(var, code) const struct moat_error_kind var = {code, 400, true}

CT_ERROR(cloudtrail_invalid_parameter, "InvalidParameterException");
CT_ERROR(cloudtrail_access_denied, "AccessDeniedException");
CT_ERROR(cloudtrail_trail_not_found, "TrailNotFoundException");
CT_ERROR(cloudtrail_trail_already_exists, "TrailAlreadyExistsException");
CT_ERROR(cloudtrail_invalid_trail_name, "InvalidTrailNameException");
CT_ERROR(cloudtrail_arn_invalid, "CloudTrailARNInvalidException");
CT_ERROR(cloudtrail_max_trails, "MaximumNumberOfTrailsExceededException");
CT_ERROR(cloudtrail_invalid_s3_bucket_name, "InvalidS3BucketNameException");
CT_ERROR(cloudtrail_invalid_s3_prefix, "InvalidS3PrefixException");
CT_ERROR(cloudtrail_invalid_sns_topic_name, "InvalidSnsTopicNameException");
CT_ERROR(cloudtrail_invalid_kms_key_id, "InvalidKmsKeyIdException");
CT_ERROR(cloudtrail_invalid_cwl_group_arn, "InvalidCloudWatchLogsLogGroupArnException");
CT_ERROR(cloudtrail_invalid_cwl_role_arn, "InvalidCloudWatchLogsRoleArnException");
CT_ERROR(cloudtrail_invalid_combination, "InvalidParameterCombinationException");
CT_ERROR(cloudtrail_invalid_home_region, "InvalidHomeRegionException");
CT_ERROR(cloudtrail_invalid_event_selectors, "InvalidEventSelectorsException");
CT_ERROR(cloudtrail_resource_not_found, "ResourceNotFoundException");
CT_ERROR(cloudtrail_tags_limit, "TagsLimitExceededException");
CT_ERROR(cloudtrail_invalid_tag, "InvalidTagParameterException");
CT_ERROR(cloudtrail_eds_not_found, "EventDataStoreNotFoundException");
CT_ERROR(cloudtrail_channel_not_found, "ChannelNotFoundException");
CT_ERROR(cloudtrail_resource_type_not_supported, "ResourceTypeNotSupportedException");
CT_ERROR(cloudtrail_invalid_lookup_attributes, "InvalidLookupAttributesException");
CT_ERROR(cloudtrail_invalid_time_range, "InvalidTimeRangeException");
CT_ERROR(cloudtrail_invalid_next_token, "InvalidNextTokenException");
CT_ERROR(cloudtrail_throttling, "ThrottlingException");
CT_ERROR(cloudtrail_orgs_not_in_use, "OrganizationsNotInUseException");
CT_ERROR(cloudtrail_not_org_management, "NotOrganizationMasterAccountException");
CT_ERROR(cloudtrail_org_not_all_features, "OrganizationNotInAllFeaturesModeException");
CT_ERROR(cloudtrail_access_not_enabled, "CloudTrailAccessNotEnabledException");
CT_ERROR(cloudtrail_conflict, "ConflictException");
CT_ERROR(cloudtrail_insufficient_dependency,
         "InsufficientDependencyServiceAccessPermissionException");

static const char *const trail_type = "AWS::CloudTrail::Trail";

/* The ARN a trail name or ARN parameter designates (the caller's account and
 * region for a bare name). */
static const char *trail_resource(struct moat_call *call, struct moat_slice name)
{
    if (moat_slice_starts_with(name, MOAT_LIT("arn:")))
        return moat_arena_cstr(call->arena, name);
    return cloudtrail_trail_arn(call, call->region, name);
}

/* Operations on one trail, named by the request's Name, TrailName or
 * ResourceId member. Trails have no resource policies: the caller's own
 * account owns every trail it can reach. */
static struct moat_error *trail_authz(struct moat_call *call, const struct moat_value *in,
                                      struct moat_authz *authz)
{
    static const char *const members[] = {"Name", "TrailName", "ResourceId"};
    for (size_t i = 0; i < MOAT_COUNT(members); i++) {
        unsigned idx;
        if (!moat_shape_member(in->shape, moat_slice_cstr(members[i]), &idx))
            continue;
        authz->resources[0] = trail_resource(call, moat_get_str(in, idx));
        authz->resource_types[0] = trail_type;
        authz->resource_count = 1;
        break;
    }
    authz->resource_account = call->account_id;
    return NULL;
}

/* ListTags names up to 20 trails; authorization evaluates each. */
static struct moat_error *list_tags_authz(struct moat_call *call, const struct moat_value *in,
                                          struct moat_authz *authz)
{
    const struct moat_value *ids = moat_get(in, CLOUDTRAIL_LIST_TAGS_REQUEST_RESOURCE_ID_LIST);
    authz->resource_account = call->account_id;
    for (uint32_t i = 0; ids && i < ids->count; i++) {
        const char *arn = trail_resource(call, ids->u.items[i]->u.s);
        if (i < MOAT_AUTHZ_MAX_RESOURCES) {
            authz->resources[i] = arn;
            authz->resource_types[i] = trail_type;
            authz->resource_count = i + 1;
            continue;
        }
        /* Beyond what one authorization holds: the same evaluator, resource by resource. */
        struct iam_eval_result r;
        if (authorize_check(call, authz->action, arn, call->account_id, NULL, 0, NULL, &r, NULL) ==
            IAM_DECISION_ALLOW)
            continue;
        call->error_is_denial = true;
        struct moat_buf b;
        moat_buf_init(&b, call->arena, 256);
        iam_message_denied(&b, call->principal, moat_slice_cstr(authz->action),
                           moat_slice_cstr(arn), &r);
        return moat_fail(call, &cloudtrail_access_denied, "%.*s", MOAT_FMT(moat_buf_slice(&b)));
    }
    return NULL;
}

#define TRAIL_OP(op, fn, act, fl)                                                                  \
    {                                                                                              \
        .shape = CLOUDTRAIL_OP_##op, .handler = fn, .action = "cloudtrail:" act,                   \
        .authz = trail_authz, .flags = fl                                                          \
    }

static const struct moat_operation cloudtrail_operations[] = {
    TRAIL_OP(CREATE_TRAIL, cloudtrail_create_trail, "CreateTrail", MOAT_OP_MUTATES),
    TRAIL_OP(UPDATE_TRAIL, cloudtrail_update_trail, "UpdateTrail", MOAT_OP_MUTATES),
    TRAIL_OP(DELETE_TRAIL, cloudtrail_delete_trail, "DeleteTrail", MOAT_OP_MUTATES),
    TRAIL_OP(GET_TRAIL, cloudtrail_get_trail, "GetTrail", MOAT_OP_READ_ONLY),
    TRAIL_OP(GET_TRAIL_STATUS, cloudtrail_get_trail_status, "GetTrailStatus", MOAT_OP_READ_ONLY),
    TRAIL_OP(START_LOGGING, cloudtrail_start_logging, "StartLogging", MOAT_OP_MUTATES),
    TRAIL_OP(STOP_LOGGING, cloudtrail_stop_logging, "StopLogging", MOAT_OP_MUTATES),
    TRAIL_OP(PUT_EVENT_SELECTORS, cloudtrail_put_event_selectors, "PutEventSelectors",
             MOAT_OP_MUTATES),
    TRAIL_OP(GET_EVENT_SELECTORS, cloudtrail_get_event_selectors, "GetEventSelectors",
             MOAT_OP_READ_ONLY),
    TRAIL_OP(ADD_TAGS, cloudtrail_add_tags, "AddTags", MOAT_OP_MUTATES),
    TRAIL_OP(REMOVE_TAGS, cloudtrail_remove_tags, "RemoveTags", MOAT_OP_MUTATES),
    {.shape = CLOUDTRAIL_OP_LIST_TAGS,
     .handler = cloudtrail_list_tags,
     .action = "cloudtrail:ListTags",
     .authz = list_tags_authz,
     .flags = MOAT_OP_READ_ONLY},
    {.shape = CLOUDTRAIL_OP_DESCRIBE_TRAILS,
     .handler = cloudtrail_describe_trails,
     .action = "cloudtrail:DescribeTrails",
     .flags = MOAT_OP_READ_ONLY},
    {.shape = CLOUDTRAIL_OP_LIST_TRAILS,
     .handler = cloudtrail_list_trails,
     .action = "cloudtrail:ListTrails",
     .flags = MOAT_OP_READ_ONLY},
    {.shape = CLOUDTRAIL_OP_LOOKUP_EVENTS,
     .handler = cloudtrail_lookup_events,
     .action = "cloudtrail:LookupEvents",
     .flags = MOAT_OP_READ_ONLY},
};

/* LookupEvents' rate: `serve --lookup-events-rate` (MOAT_LOOKUP_EVENTS_RATE)
 * requests per second per account and region; AWS's documented 2 by default,
 * 0 lifts the limit. */
static bool cloudtrail_init(struct moat_server *srv)
{
    const char *v = srv->config.lookup_events_rate;
    double rate = 2.0;
    if (v && *v) {
        char *end;
        rate = strtod(v, &end);
        if (*end || !(rate >= 0) || rate > 1e9) {
            moat_log_error("--lookup-events-rate must be a number of requests per second");
            return false;
        }
    }
    cloudtrail_lookup_set_rate(rate);
    return true;
}

const struct moat_service cloudtrail_service = {
    .name = "cloudtrail",
    .event_source = "cloudtrail.amazonaws.com",
    .shapes = &cloudtrail_shapes,
    .operations = cloudtrail_operations,
    .operation_count = MOAT_COUNT(cloudtrail_operations),
    .validation_error = &cloudtrail_invalid_parameter,
    .access_denied = &cloudtrail_access_denied,
    .init = cloudtrail_init,
};

/* ssm_service.c: what Systems Manager offers here (Parameter Store and the tagging of
 * parameters): the operation table, the error kinds and the authz functions that name
 * each operation's resources and ssm: / aws: condition keys.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html */
#include "services/ssm/ssm.h"

#include "aws/shapes/shapes_ssm.h"
#include "iam/iam_context.h"

#include <string.h>

const struct moat_error_kind ssm_validation = {"ValidationException", 400, true};
const struct moat_error_kind ssm_access_denied = {"AccessDeniedException", 400, true};
const struct moat_error_kind ssm_internal_error = {"InternalServerError", 500, false};
const struct moat_error_kind ssm_too_many_updates = {"TooManyUpdates", 400, true};
const struct moat_error_kind ssm_parameter_not_found = {"ParameterNotFound", 400, true};
const struct moat_error_kind ssm_parameter_version_not_found = {"ParameterVersionNotFound", 400,
                                                                true};
const struct moat_error_kind ssm_parameter_already_exists = {"ParameterAlreadyExists", 400, true};
const struct moat_error_kind ssm_parameter_limit_exceeded = {"ParameterLimitExceeded", 400, true};
const struct moat_error_kind ssm_parameter_max_version_limit_exceeded = {
    "ParameterMaxVersionLimitExceeded", 400, true};
const struct moat_error_kind ssm_parameter_pattern_mismatch = {"ParameterPatternMismatchException",
                                                               400, true};
const struct moat_error_kind ssm_invalid_allowed_pattern = {"InvalidAllowedPatternException", 400,
                                                            true};
const struct moat_error_kind ssm_hierarchy_level_limit_exceeded = {
    "HierarchyLevelLimitExceededException", 400, true};
const struct moat_error_kind ssm_hierarchy_type_mismatch = {"HierarchyTypeMismatchException", 400,
                                                            true};
const struct moat_error_kind ssm_unsupported_parameter_type = {"UnsupportedParameterType", 400,
                                                               true};
const struct moat_error_kind ssm_invalid_key_id = {"InvalidKeyId", 400, true};
const struct moat_error_kind ssm_policies_limit_exceeded = {"PoliciesLimitExceededException", 400,
                                                            true};
const struct moat_error_kind ssm_invalid_policy_type = {"InvalidPolicyTypeException", 400, true};
const struct moat_error_kind ssm_invalid_policy_attribute = {"InvalidPolicyAttributeException", 400,
                                                             true};
const struct moat_error_kind ssm_incompatible_policy = {"IncompatiblePolicyException", 400, true};
const struct moat_error_kind ssm_label_limit_exceeded = {"ParameterVersionLabelLimitExceeded", 400,
                                                         true};
const struct moat_error_kind ssm_invalid_filter_key = {"InvalidFilterKey", 400, true};
const struct moat_error_kind ssm_invalid_filter_option = {"InvalidFilterOption", 400, true};
const struct moat_error_kind ssm_invalid_filter_value = {"InvalidFilterValue", 400, true};
const struct moat_error_kind ssm_invalid_next_token = {"InvalidNextToken", 400, true};
const struct moat_error_kind ssm_invalid_resource_type = {"InvalidResourceType", 400, true};
const struct moat_error_kind ssm_invalid_resource_id = {"InvalidResourceId", 400, true};
const struct moat_error_kind ssm_too_many_tags = {"TooManyTagsError", 400, true};

/* ---- resources and condition keys --------------------------------------------- */

/* The ARN a request's name (or ARN, with or without a selector) stands for. */
static const char *ref_arn(struct moat_call *call, struct moat_slice raw)
{
    struct ssm_ref ref;
    struct moat_arena *a = call->arena;
    if (!ssm_ref_parse(raw, &ref))
        return ssm_arn(a, call->region, call->account_id, moat_slice_trim(raw));
    if (ref.arn)
        return moat_arena_cstr(a, ref.display);
    if (ssm_public_is(ref.name.given))
        return ssm_public_arn(a, call->region, ref.name.given);
    return ssm_arn(a, call->region, call->account_id,
                   ref.problem == SSM_NAME_OK ? ref.name.key : ref.name.given);
}

static struct moat_error *add_resource(struct moat_call *call, struct moat_authz *authz,
                                       const char *arn)
{
    for (size_t i = 0; i < authz->resource_count; i++)
        if (!strcmp(authz->resources[i], arn))
            return NULL;
    if (authz->resource_count == MOAT_AUTHZ_MAX_RESOURCES)
        return moat_internal(call, "ssm: more resources than authorization can name");
    authz->resources[authz->resource_count++] = arn;
    return NULL;
}

static struct moat_error *context_failed(struct moat_call *call)
{
    return moat_internal(call, "ssm: request context is full");
}

/* aws:ResourceTag/<key> and ssm:resourceTag/<key> from the parameter's tags. */
static struct moat_error *resource_tags(struct moat_call *call, struct moat_authz *authz,
                                        struct moat_slice raw)
{
    struct ssm_ref ref;
    if (!ssm_ref_parse(raw, &ref) || ref.problem != SSM_NAME_OK || ssm_public_is(ref.name.given))
        return NULL;
    if (ref.arn && (!moat_slice_eq_cstr(ref.arn_region, call->region) ||
                    !moat_slice_eq_cstr(ref.arn_account, call->account_id)))
        return NULL;
    struct ssm_param p;
    bool found;
    struct moat_error *err = ssm_load(call, ref.name.key, &p, &found);
    if (err || !found)
        return err;
    for (size_t i = 0; i < p.tag_count; i++)
        if (!iam_context_set_split(authz->context, MOAT_LIT("aws:ResourceTag/"), p.tags[i].key,
                                   p.tags[i].value) ||
            !iam_context_set_split(authz->context, MOAT_LIT("ssm:resourceTag/"), p.tags[i].key,
                                   p.tags[i].value))
            return context_failed(call);
    return NULL;
}

/* aws:RequestTag/<key> and aws:TagKeys from a TagList. */
static struct moat_error *request_tags(struct moat_call *call, struct moat_authz *authz,
                                       const struct moat_value *tags)
{
    if (!tags)
        return NULL;
    struct moat_slice *keys =
        moat_arena_alloc(call->arena, (tags->count ? tags->count : 1) * sizeof(*keys));
    for (uint32_t i = 0; i < tags->count; i++) {
        keys[i] = moat_get_str(tags->u.items[i], SSM_TAG_KEY);
        if (!iam_context_set_split(authz->context, MOAT_LIT("aws:RequestTag/"), keys[i],
                                   moat_get_str(tags->u.items[i], SSM_TAG_VALUE)))
            return context_failed(call);
    }
    if (!iam_context_set_multi(authz->context, MOAT_LIT("aws:TagKeys"), keys, tags->count))
        return context_failed(call);
    return NULL;
}

static struct moat_error *one_name(struct moat_call *call, struct moat_authz *authz,
                                   struct moat_slice raw)
{
    struct moat_error *err = add_resource(call, authz, ref_arn(call, raw));
    return err ? err : resource_tags(call, authz, raw);
}

static struct moat_error *authz_put(struct moat_call *call, const struct moat_value *in,
                                    struct moat_authz *authz)
{
    struct moat_error *err =
        one_name(call, authz, moat_get_str(in, SSM_PUT_PARAMETER_REQUEST_NAME));
    if (err)
        return err;
    bool overwrite = moat_get_bool(in, SSM_PUT_PARAMETER_REQUEST_OVERWRITE, false);
    if (!iam_context_set_bool(authz->context, MOAT_LIT("ssm:Overwrite"), overwrite))
        return context_failed(call);
    return request_tags(call, authz, moat_get(in, SSM_PUT_PARAMETER_REQUEST_TAGS));
}

static struct moat_error *authz_get(struct moat_call *call, const struct moat_value *in,
                                    struct moat_authz *authz)
{
    return one_name(call, authz, moat_get_str(in, SSM_GET_PARAMETER_REQUEST_NAME));
}

static struct moat_error *authz_history(struct moat_call *call, const struct moat_value *in,
                                        struct moat_authz *authz)
{
    return one_name(call, authz, moat_get_str(in, SSM_GET_PARAMETER_HISTORY_REQUEST_NAME));
}

static struct moat_error *authz_delete(struct moat_call *call, const struct moat_value *in,
                                       struct moat_authz *authz)
{
    return one_name(call, authz, moat_get_str(in, SSM_DELETE_PARAMETER_REQUEST_NAME));
}

static struct moat_error *authz_label(struct moat_call *call, const struct moat_value *in,
                                      struct moat_authz *authz)
{
    return one_name(call, authz, moat_get_str(in, SSM_LABEL_PARAMETER_VERSION_REQUEST_NAME));
}

static struct moat_error *authz_unlabel(struct moat_call *call, const struct moat_value *in,
                                        struct moat_authz *authz)
{
    return one_name(call, authz, moat_get_str(in, SSM_UNLABEL_PARAMETER_VERSION_REQUEST_NAME));
}

/* Operations on several names name every parameter (one per distinct name). */
static struct moat_error *names_resources(struct moat_call *call, const struct moat_value *names,
                                          struct moat_authz *authz)
{
    for (uint32_t i = 0; names && i < names->count; i++) {
        struct moat_error *err = add_resource(call, authz, ref_arn(call, names->u.items[i]->u.s));
        if (err)
            return err;
    }
    return NULL;
}

static struct moat_error *authz_get_many(struct moat_call *call, const struct moat_value *in,
                                         struct moat_authz *authz)
{
    return names_resources(call, moat_get(in, SSM_GET_PARAMETERS_REQUEST_NAMES), authz);
}

static struct moat_error *authz_delete_many(struct moat_call *call, const struct moat_value *in,
                                            struct moat_authz *authz)
{
    return names_resources(call, moat_get(in, SSM_DELETE_PARAMETERS_REQUEST_NAMES), authz);
}

/* GetParametersByPath names the path: access to a path is access to all below it. */
static struct moat_error *authz_by_path(struct moat_call *call, const struct moat_value *in,
                                        struct moat_authz *authz)
{
    struct moat_slice path =
        moat_slice_trim(moat_get_str(in, SSM_GET_PARAMETERS_BY_PATH_REQUEST_PATH));
    while (path.len > 1 && path.ptr[path.len - 1] == '/')
        path.len--;
    const char *arn = ssm_public_is(path) || moat_slice_eq_cstr(path, "/aws/service")
                          ? ssm_public_arn(call->arena, call->region, path)
                          : ssm_arn(call->arena, call->region, call->account_id, path);
    struct moat_error *err = add_resource(call, authz, arn);
    if (err)
        return err;
    bool recursive = moat_get_bool(in, SSM_GET_PARAMETERS_BY_PATH_REQUEST_RECURSIVE, false);
    if (!iam_context_set_bool(authz->context, MOAT_LIT("ssm:Recursive"), recursive))
        return context_failed(call);
    return NULL;
}

static struct moat_error *authz_tag_target(struct moat_call *call, struct moat_authz *authz,
                                           struct moat_slice type, struct moat_slice id)
{
    if (!moat_slice_eq_cstr(type, "Parameter"))
        return NULL; /* refused by the handler; nothing to name */
    return one_name(call, authz, id);
}

static struct moat_error *authz_add_tags(struct moat_call *call, const struct moat_value *in,
                                         struct moat_authz *authz)
{
    struct moat_error *err = authz_tag_target(
        call, authz, moat_get_str(in, SSM_ADD_TAGS_TO_RESOURCE_REQUEST_RESOURCE_TYPE),
        moat_get_str(in, SSM_ADD_TAGS_TO_RESOURCE_REQUEST_RESOURCE_ID));
    return err ? err
               : request_tags(call, authz, moat_get(in, SSM_ADD_TAGS_TO_RESOURCE_REQUEST_TAGS));
}

static struct moat_error *authz_remove_tags(struct moat_call *call, const struct moat_value *in,
                                            struct moat_authz *authz)
{
    struct moat_error *err = authz_tag_target(
        call, authz, moat_get_str(in, SSM_REMOVE_TAGS_FROM_RESOURCE_REQUEST_RESOURCE_TYPE),
        moat_get_str(in, SSM_REMOVE_TAGS_FROM_RESOURCE_REQUEST_RESOURCE_ID));
    if (err)
        return err;
    const struct moat_value *keys = moat_get(in, SSM_REMOVE_TAGS_FROM_RESOURCE_REQUEST_TAG_KEYS);
    size_t n = keys ? keys->count : 0;
    struct moat_slice *k = moat_arena_alloc(call->arena, (n ? n : 1) * sizeof(*k));
    for (size_t i = 0; i < n; i++)
        k[i] = keys->u.items[i]->u.s;
    if (!iam_context_set_multi(authz->context, MOAT_LIT("aws:TagKeys"), k, n))
        return context_failed(call);
    return NULL;
}

static struct moat_error *authz_list_tags(struct moat_call *call, const struct moat_value *in,
                                          struct moat_authz *authz)
{
    return authz_tag_target(call, authz,
                            moat_get_str(in, SSM_LIST_TAGS_FOR_RESOURCE_REQUEST_RESOURCE_TYPE),
                            moat_get_str(in, SSM_LIST_TAGS_FOR_RESOURCE_REQUEST_RESOURCE_ID));
}

/* DescribeParameters has no resource type: AWS names the account's SSM scope. */
static struct moat_error *authz_describe(struct moat_call *call, const struct moat_value *in,
                                         struct moat_authz *authz)
{
    MOAT_UNUSED(in);
    return add_resource(call, authz,
                        moat_arena_printf(call->arena, "arn:%s:ssm:%s:%s:*",
                                          ssm_partition(call->region), call->region,
                                          call->account_id));
}

/* ---- the table -------------------------------------------------------------------- */

static const struct moat_operation ssm_operations[] = {
    {.shape = SSM_OP_PUT_PARAMETER,
     .handler = ssm_put_parameter,
     .action = "ssm:PutParameter",
     .authz = authz_put,
     .flags = MOAT_OP_MUTATES},
    {.shape = SSM_OP_GET_PARAMETER,
     .handler = ssm_get_parameter,
     .action = "ssm:GetParameter",
     .authz = authz_get,
     .flags = MOAT_OP_READ_ONLY},
    {.shape = SSM_OP_GET_PARAMETERS,
     .handler = ssm_get_parameters,
     .action = "ssm:GetParameters",
     .authz = authz_get_many,
     .flags = MOAT_OP_READ_ONLY},
    {.shape = SSM_OP_GET_PARAMETERS_BY_PATH,
     .handler = ssm_get_parameters_by_path,
     .action = "ssm:GetParametersByPath",
     .authz = authz_by_path,
     .flags = MOAT_OP_READ_ONLY},
    {.shape = SSM_OP_DESCRIBE_PARAMETERS,
     .handler = ssm_describe_parameters,
     .action = "ssm:DescribeParameters",
     .authz = authz_describe,
     .flags = MOAT_OP_READ_ONLY},
    {.shape = SSM_OP_GET_PARAMETER_HISTORY,
     .handler = ssm_get_parameter_history,
     .action = "ssm:GetParameterHistory",
     .authz = authz_history,
     .flags = MOAT_OP_READ_ONLY},
    {.shape = SSM_OP_LABEL_PARAMETER_VERSION,
     .handler = ssm_label_parameter_version,
     .action = "ssm:LabelParameterVersion",
     .authz = authz_label,
     .flags = MOAT_OP_MUTATES},
    {.shape = SSM_OP_UNLABEL_PARAMETER_VERSION,
     .handler = ssm_unlabel_parameter_version,
     .action = "ssm:UnlabelParameterVersion",
     .authz = authz_unlabel,
     .flags = MOAT_OP_MUTATES},
    {.shape = SSM_OP_DELETE_PARAMETER,
     .handler = ssm_delete_parameter,
     .action = "ssm:DeleteParameter",
     .authz = authz_delete,
     .flags = MOAT_OP_MUTATES},
    {.shape = SSM_OP_DELETE_PARAMETERS,
     .handler = ssm_delete_parameters,
     .action = "ssm:DeleteParameters",
     .authz = authz_delete_many,
     .flags = MOAT_OP_MUTATES},
    {.shape = SSM_OP_ADD_TAGS_TO_RESOURCE,
     .handler = ssm_add_tags_to_resource,
     .action = "ssm:AddTagsToResource",
     .authz = authz_add_tags,
     .flags = MOAT_OP_MUTATES},
    {.shape = SSM_OP_REMOVE_TAGS_FROM_RESOURCE,
     .handler = ssm_remove_tags_from_resource,
     .action = "ssm:RemoveTagsFromResource",
     .authz = authz_remove_tags,
     .flags = MOAT_OP_MUTATES},
    {.shape = SSM_OP_LIST_TAGS_FOR_RESOURCE,
     .handler = ssm_list_tags_for_resource,
     .action = "ssm:ListTagsForResource",
     .authz = authz_list_tags,
     .flags = MOAT_OP_READ_ONLY},
};

static bool ssm_init(struct moat_server *server)
{
    MOAT_UNUSED(server);
    ssm_policy_job_register();
    return true;
}

const struct moat_service ssm_service = {
    .name = "ssm",
    .event_source = "ssm.amazonaws.com",
    .shapes = &ssm_shapes,
    .operations = ssm_operations,
    .operation_count = MOAT_COUNT(ssm_operations),
    .validation_error = &ssm_validation,
    .access_denied = &ssm_access_denied,
    .init = ssm_init,
};

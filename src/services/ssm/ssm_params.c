/* ssm_params.c: PutParameter, GetParameter, GetParameters, DeleteParameter and
 * DeleteParameters: names and selectors, types, tiers and their limits, versions,
 * allowed patterns, policies and SecureString values sealed through KMS.
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html */
#include "services/ssm/ssm.h"

#include "aws/shapes/shapes_ssm.h"
#include "core/buf.h"
#include "iam/iam_principal.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#define PATH_WORDING                                                                               \
    "Parameter name: can't be prefixed with \"ssm\" (case-insensitive). If formed as a path, it "  \
    "can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of "   \
    "letters, numbers and the following 3 symbols .-_"

/* ---- names ------------------------------------------------------------------ */

struct moat_error *ssm_name_error(struct moat_call *call, const struct ssm_name *n,
                                  enum ssm_name_problem problem)
{
    switch (problem) {
    case SSM_NAME_OK:
        return NULL;
    case SSM_NAME_NOT_QUALIFIED:
        return moat_fail(call, &ssm_validation, "Parameter name must be a fully qualified name.");
    case SSM_NAME_TOO_DEEP:
        return moat_fail(call, &ssm_hierarchy_level_limit_exceeded,
                         "A hierarchy can have a maximum of 15 levels. For more information, see "
                         "About requirements and constraints for parameter names in the AWS "
                         "Systems Manager User Guide. Parameter name %.*s has %zu levels.",
                         MOAT_FMT(n->given), n->depth);
    default:
        return moat_fail(call, &ssm_validation, PATH_WORDING);
    }
}

/* Checks a name that is about to be created or changed: syntax, the reserved
 * prefixes and the length including the ARN before it. */
struct moat_error *ssm_name_check_new(struct moat_call *call, struct moat_slice raw,
                                      struct ssm_name *n)
{
    struct moat_error *err = ssm_name_error(call, n, ssm_name_parse(raw, n));
    if (err)
        return err;
    switch (ssm_name_reserved(n)) {
    case SSM_RESERVED_NAME:
        return moat_fail(call, &ssm_validation,
                         "Parameter name: can't be prefixed with \"aws\" or \"ssm\" "
                         "(case-insensitive).");
    case SSM_RESERVED_PATH:
        return moat_fail(call, &ssm_validation, PATH_WORDING);
    case SSM_RESERVED_AWS_PATH:
        return moat_fail(call, &ssm_access_denied, "No access to reserved parameter name: %.*s.",
                         MOAT_FMT(n->given));
    default:
        break;
    }
    const char *arn = ssm_arn(call->arena, call->region, call->account_id, n->key);
    size_t len = strlen(arn);
    if (len > SSM_NAME_ARN_MAX)
        return moat_fail(call, &ssm_validation,
                         "Parameter name is too long: with the ARN text before it (%s) it has "
                         "%zu characters, and the maximum is %d.",
                         moat_arena_printf(call->arena, "arn:%s:ssm:%s:%s:parameter/",
                                           ssm_partition(call->region), call->region,
                                           call->account_id),
                         len, SSM_NAME_ARN_MAX);
    return NULL;
}

static struct moat_error *not_found(struct moat_call *call, struct moat_slice name)
{
    return moat_fail(call, &ssm_parameter_not_found, "Parameter %.*s not found.", MOAT_FMT(name));
}

static struct moat_error *version_not_found(struct moat_call *call, int64_t version,
                                            struct moat_slice name)
{
    return moat_fail(call, &ssm_parameter_version_not_found,
                     "Systems Manager could not find version %lld of %.*s. Verify the version "
                     "and try again.",
                     (long long)version, MOAT_FMT(name));
}

/* ---- responses -------------------------------------------------------------------- */

struct moat_error *ssm_fill_parameter(struct moat_call *call, struct moat_value *st,
                                      const struct ssm_param *p, struct moat_slice display,
                                      struct moat_slice selector, bool decrypt)
{
    struct moat_arena *a = call->arena;
    const char *arn = ssm_arn(a, call->region, call->account_id, p->key);
    moat_set_str(a, st, SSM_PARAMETER_NAME, display);
    moat_set_cstr(a, st, SSM_PARAMETER_TYPE, ssm_type_name(p->type));
    if (p->type == SSM_SECURE_STRING && decrypt) {
        struct moat_slice plain;
        struct moat_error *err = ssm_unseal_value(call, arn, p, &plain);
        if (err)
            return err;
        moat_set_str(a, st, SSM_PARAMETER_VALUE, plain);
    } else {
        moat_set_str(a, st, SSM_PARAMETER_VALUE, p->value);
    }
    moat_set_int(a, st, SSM_PARAMETER_VERSION, p->version);
    if (selector.len)
        moat_set_str(a, st, SSM_PARAMETER_SELECTOR, selector);
    moat_set_ts(a, st, SSM_PARAMETER_LAST_MODIFIED_DATE, p->modified_ms);
    moat_set_cstr(a, st, SSM_PARAMETER_ARN, arn);
    moat_set_str(a, st, SSM_PARAMETER_DATA_TYPE, p->data_type);
    return NULL;
}

void ssm_fill_policies(struct moat_call *call, struct moat_value *st, unsigned member,
                       const struct ssm_param *p)
{
    struct moat_arena *a = call->arena;
    struct moat_value *list = moat_set_list(a, st, member);
    for (size_t i = 0; i < p->policy_count; i++) {
        struct moat_value *pol = moat_list_add_struct(a, list);
        moat_set_str(a, pol, SSM_PARAMETER_INLINE_POLICY_POLICY_TEXT, p->policies[i].text);
        moat_set_str(a, pol, SSM_PARAMETER_INLINE_POLICY_POLICY_TYPE, p->policies[i].type);
        moat_set_str(a, pol, SSM_PARAMETER_INLINE_POLICY_POLICY_STATUS, p->policies[i].status);
    }
}

/* ---- resolving a read ------------------------------------------------------------------ */

enum resolve_outcome { RESOLVED = 0, NOT_FOUND, VERSION_NOT_FOUND };

/* Finds the version a reference names. Store failures come back as errors; a missing
 * parameter, version or label as an outcome. */
static struct moat_error *resolve(struct moat_call *call, const struct ssm_ref *ref,
                                  struct ssm_param *out, enum resolve_outcome *outcome)
{
    *outcome = NOT_FOUND;
    if (ref->problem != SSM_NAME_OK)
        return NULL;
    if (ref->arn && (!moat_slice_eq_cstr(ref->arn_region, call->region) ||
                     !moat_slice_eq_cstr(ref->arn_account, call->account_id)))
        return NULL; /* nothing is shared with this account */
    bool found;
    struct moat_error *err = ssm_load(call, ref->name.key, out, &found);
    if (err || !found)
        return err;
    int64_t version = 0;
    if (ref->sel == SSM_SEL_VERSION) {
        version = ref->version;
        if (!version) {
            *outcome = VERSION_NOT_FOUND;
            return NULL;
        }
    } else if (ref->sel == SSM_SEL_LABEL) {
        version = ssm_label_version(out, ref->label);
        if (!version)
            return NULL;
    }
    if (version && version != out->version) {
        struct ssm_param old;
        err = ssm_load_version(call, ref->name.key, version, &old, &found);
        if (err)
            return err;
        if (!found) {
            *outcome = ref->sel == SSM_SEL_VERSION ? VERSION_NOT_FOUND : NOT_FOUND;
            return NULL;
        }
        *out = old;
    }
    *outcome = RESOLVED;
    return NULL;
}

/* A public parameter as a Parameter struct. */
static bool fill_public(struct moat_call *call, struct moat_value *st, const struct ssm_ref *ref)
{
    struct ssm_public pub;
    struct moat_arena *a = call->arena;
    /* A public parameter's ARN has no account: arn:aws:ssm:<region>::parameter/aws/... */
    if (ref->arn && (ref->arn_account.len || !moat_slice_eq_cstr(ref->arn_region, call->region)))
        return false;
    if (!ssm_public_get(a, ref->name.given, &pub))
        return false;
    if (ref->sel == SSM_SEL_LABEL || (ref->sel == SSM_SEL_VERSION && ref->version != 1))
        return false;
    moat_set_str(a, st, SSM_PARAMETER_NAME, ref->display);
    moat_set_cstr(a, st, SSM_PARAMETER_TYPE, "String");
    moat_set_str(a, st, SSM_PARAMETER_VALUE, pub.value);
    moat_set_int(a, st, SSM_PARAMETER_VERSION, 1);
    if (ref->selector.len)
        moat_set_str(a, st, SSM_PARAMETER_SELECTOR, ref->selector);
    moat_set_ts(a, st, SSM_PARAMETER_LAST_MODIFIED_DATE, ssm_public_modified_ms());
    moat_set_cstr(a, st, SSM_PARAMETER_ARN, ssm_public_arn(a, call->region, pub.name));
    moat_set_cstr(a, st, SSM_PARAMETER_DATA_TYPE, "text");
    return true;
}

/* ---- GetParameter ------------------------------------------------------------------------ */

SSM_HANDLER(ssm_get_parameter)
{
    struct moat_slice name = moat_get_str(in, SSM_GET_PARAMETER_REQUEST_NAME);
    bool decrypt = moat_get_bool(in, SSM_GET_PARAMETER_REQUEST_WITH_DECRYPTION, false);
    struct moat_value *param =
        moat_set_struct(call->arena, out, SSM_GET_PARAMETER_RESULT_PARAMETER);
    if (ssm_is_secret_reference(moat_slice_trim(name))) {
        if (!decrypt)
            return moat_fail(call, &ssm_validation,
                             "WithDecryption flag must be True for retrieving a Secret Manager "
                             "secret.");
        return ssm_get_secret_reference(call, moat_slice_trim(name), param);
    }
    struct ssm_ref ref;
    if (!ssm_ref_parse(name, &ref))
        return not_found(call, moat_slice_trim(name));
    /* Reads refuse spaces inside a name and a hierarchy without its leading slash. */
    if (ref.problem == SSM_NAME_NOT_QUALIFIED || ref.problem == SSM_NAME_INNER_SPACE)
        return ssm_name_error(call, &ref.name, ref.problem);
    if (ssm_public_is(ref.name.given)) {
        if (!fill_public(call, param, &ref))
            return not_found(call, ref.raw);
        return NULL;
    }
    struct ssm_param p;
    enum resolve_outcome outcome;
    struct moat_error *err = resolve(call, &ref, &p, &outcome);
    if (err)
        return err;
    if (outcome == VERSION_NOT_FOUND)
        return version_not_found(call, ref.version, ref.display);
    if (outcome == NOT_FOUND)
        return not_found(call, ref.raw);
    return ssm_fill_parameter(call, param, &p, ref.display, ref.selector, decrypt);
}

/* ---- GetParameters ----------------------------------------------------------------------------
 */

static int by_name(const void *x, const void *y)
{
    const struct moat_value *const *a = x, *const *b = y;
    return moat_slice_cmp(moat_get_str(*a, SSM_PARAMETER_NAME),
                          moat_get_str(*b, SSM_PARAMETER_NAME));
}

SSM_HANDLER(ssm_get_parameters)
{
    struct moat_arena *a = call->arena;
    const struct moat_value *names = moat_get(in, SSM_GET_PARAMETERS_REQUEST_NAMES);
    bool decrypt = moat_get_bool(in, SSM_GET_PARAMETERS_REQUEST_WITH_DECRYPTION, false);
    struct moat_value *found = moat_set_list(a, out, SSM_GET_PARAMETERS_RESULT_PARAMETERS);
    struct moat_value *invalid =
        moat_set_list(a, out, SSM_GET_PARAMETERS_RESULT_INVALID_PARAMETERS);
    for (uint32_t i = 0; names && i < names->count; i++) {
        struct moat_slice raw = names->u.items[i]->u.s;
        bool dup = false;
        for (uint32_t k = 0; k < i; k++)
            if (moat_slice_eq(names->u.items[k]->u.s, raw))
                dup = true;
        if (dup)
            continue;
        if (ssm_is_secret_reference(moat_slice_trim(raw))) {
            if (!decrypt)
                return moat_fail(call, &ssm_validation,
                                 "WithDecryption flag must be True for retrieving a Secret "
                                 "Manager secret.");
            struct moat_value *param = moat_struct_new(a, found->shape ? found->shape->item : NULL);
            struct moat_error *err = ssm_get_secret_reference(call, moat_slice_trim(raw), param);
            if (err && (err->kind == &ssm_parameter_not_found ||
                        err->kind == &ssm_parameter_version_not_found)) {
                moat_list_add_str(a, invalid, raw);
                continue;
            }
            if (err)
                return err;
            moat_list_push(a, found, param);
            continue;
        }
        struct ssm_ref ref;
        if (!ssm_ref_parse(raw, &ref)) {
            moat_list_add_str(a, invalid, raw);
            continue;
        }
        if (ref.problem == SSM_NAME_INNER_SPACE)
            return ssm_name_error(call, &ref.name, ref.problem);
        struct moat_value *param = moat_struct_new(a, found->shape ? found->shape->item : NULL);
        if (ssm_public_is(ref.name.given)) {
            if (fill_public(call, param, &ref))
                moat_list_push(a, found, param);
            else
                moat_list_add_str(a, invalid, raw);
            continue;
        }
        struct ssm_param p;
        enum resolve_outcome outcome;
        struct moat_error *err = resolve(call, &ref, &p, &outcome);
        if (err)
            return err;
        if (outcome != RESOLVED) {
            moat_list_add_str(a, invalid, raw);
            continue;
        }
        err = ssm_fill_parameter(call, param, &p, ref.display, ref.selector, decrypt);
        if (err)
            return err;
        moat_list_push(a, found, param);
    }
    /* "The results for GetParameters requests are listed in alphabetical order." */
    if (found->count > 1)
        qsort(found->u.items, found->count, sizeof(*found->u.items), by_name);
    return NULL;
}

/* ---- PutParameter
 * ----------------------------------------------------------------------------------- */

/* Java's Pattern.find over the value (AWS's examples anchor with ^ and $). */
static struct moat_error *check_allowed_pattern(struct moat_call *call, struct moat_slice pattern,
                                                struct moat_slice value)
{
    int code;
    PCRE2_SIZE offset;
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_ALT_BSUX);
    pcre2_set_max_pattern_length(cc, 1024);
    pcre2_code *re = pcre2_compile(pattern.len ? pattern.ptr : (PCRE2_SPTR) "", pattern.len,
                                   PCRE2_UTF, &code, &offset, cc);
    pcre2_compile_context_free(cc);
    if (!re)
        return moat_fail(call, &ssm_invalid_allowed_pattern,
                         "The request doesn't meet the regular expression requirement: the "
                         "AllowedPattern does not compile at offset %zu.",
                         (size_t)offset);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(mc, 1000000);
    pcre2_set_depth_limit(mc, 10000);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, value.len ? value.ptr : (PCRE2_SPTR) "", value.len, 0, 0, md, mc);
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    pcre2_code_free(re);
    if (rc < 0)
        return moat_fail(call, &ssm_parameter_pattern_mismatch,
                         "Parameter value, cannot be validated against allowedPattern: %.*s",
                         MOAT_FMT(pattern));
    return NULL;
}

static bool ami_id(struct moat_slice v)
{
    if (!moat_slice_starts_with(v, MOAT_LIT("ami-")) || v.len < 12 || v.len > 21)
        return false;
    for (size_t i = 4; i < v.len; i++) {
        uint8_t c = v.ptr[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

static struct moat_error *check_tags(struct moat_call *call, const struct moat_value *tags)
{
    if (!tags)
        return NULL;
    if (tags->count > SSM_MAX_TAGS)
        return moat_fail(call, &ssm_validation,
                         "A parameter can have at most %d tags; the request has %u.", SSM_MAX_TAGS,
                         tags->count);
    for (uint32_t i = 0; i < tags->count; i++) {
        struct moat_slice k = moat_get_str(tags->u.items[i], SSM_TAG_KEY);
        if (moat_slice_starts_with(k, MOAT_LIT("aws:")))
            return moat_fail(call, &ssm_validation,
                             "Tag keys beginning with \"aws:\" are reserved for AWS use: %.*s",
                             MOAT_FMT(k));
        for (uint32_t j = 0; j < i; j++)
            if (moat_slice_eq(k, moat_get_str(tags->u.items[j], SSM_TAG_KEY)))
                return moat_fail(call, &ssm_validation, "Duplicate tag key %.*s in the request.",
                                 MOAT_FMT(k));
    }
    return NULL;
}

SSM_HANDLER(ssm_put_parameter)
{
    struct moat_arena *a = call->arena;
    struct ssm_name n;
    struct moat_error *err =
        ssm_name_check_new(call, moat_get_str(in, SSM_PUT_PARAMETER_REQUEST_NAME), &n);
    if (err)
        return err;
    struct moat_slice value = moat_get_str(in, SSM_PUT_PARAMETER_REQUEST_VALUE);
    if (!value.len)
        return moat_fail(call, &ssm_validation,
                         "1 validation error detected: Value '' at 'value' failed to satisfy "
                         "constraint: Member must have length greater than or equal to 1.");
    bool overwrite = moat_get_bool(in, SSM_PUT_PARAMETER_REQUEST_OVERWRITE, false);
    const struct moat_value *tags = moat_get(in, SSM_PUT_PARAMETER_REQUEST_TAGS);
    if (overwrite && tags)
        return moat_fail(call, &ssm_validation,
                         "Invalid request: tags and overwrite can't be used together. To create "
                         "a parameter with tags, please remove overwrite flag. To update tags for "
                         "an existing parameter, please use AddTagsToResource or "
                         "RemoveTagsFromResource.");
    err = check_tags(call, tags);
    if (err)
        return err;

    struct ssm_param cur;
    bool exists;
    err = ssm_load(call, n.key, &cur, &exists);
    if (err)
        return err;
    if (exists && !overwrite)
        return moat_fail(call, &ssm_parameter_already_exists,
                         "The parameter already exists. To overwrite this value, set the "
                         "overwrite option in the request to true.");

    enum ssm_type type;
    if (moat_has(in, SSM_PUT_PARAMETER_REQUEST_TYPE)) {
        if (!ssm_type_parse(moat_get_str(in, SSM_PUT_PARAMETER_REQUEST_TYPE), &type))
            return moat_fail(call, &ssm_unsupported_parameter_type,
                             "The parameter type isn't supported.");
    } else if (exists) {
        type = cur.type;
    } else {
        return moat_fail(call, &ssm_validation,
                         "A parameter type is required when you create a parameter.");
    }
    /* AWS refuses a type change on any name, one level or hierarchical. */
    if (exists && type != cur.type)
        return moat_fail(call, &ssm_hierarchy_type_mismatch,
                         "Parameter Store doesn't support changing a parameter type in a "
                         "hierarchy. For example, you can't change a parameter from a String "
                         "type to a SecureString type. You must create a new, unique parameter.");
    bool has_key = moat_has(in, SSM_PUT_PARAMETER_REQUEST_KEY_ID);
    if (has_key && type != SSM_SECURE_STRING)
        return moat_fail(call, &ssm_validation,
                         "KeyId is required for SecureString type parameter only.");

    struct ssm_param p;
    memset(&p, 0, sizeof(p));
    p.type = type;
    p.key = n.key;
    p.name = exists ? cur.name : n.given;
    p.version = exists ? cur.version + 1 : 1;
    p.modified_ms = call->now_ms;
    /* The caller's own ARN: an assumed role's session ARN, not the role's. */
    p.modified_user = call->principal->arn;

    /* data type */
    if (moat_has(in, SSM_PUT_PARAMETER_REQUEST_DATA_TYPE))
        p.data_type = moat_get_str(in, SSM_PUT_PARAMETER_REQUEST_DATA_TYPE);
    else
        p.data_type = exists ? cur.data_type : MOAT_LIT("text");
    if (moat_slice_eq_cstr(p.data_type, "aws:ec2:image")) {
        if (type != SSM_STRING)
            return moat_fail(call, &ssm_validation,
                             "The aws:ec2:image data type is supported only for parameters of "
                             "type String.");
        if (!ami_id(value))
            return moat_fail(call, &ssm_validation,
                             "The value of a parameter of data type aws:ec2:image must be an AMI "
                             "ID such as ami-0123456789abcdef0.");
    } else if (moat_slice_eq_cstr(p.data_type, "aws:ssm:integration")) {
        return moat_fail(call, &ssm_validation,
                         "The aws:ssm:integration data type is not supported by this endpoint.");
    } else if (!moat_slice_eq_cstr(p.data_type, "text")) {
        return moat_fail(call, &ssm_validation,
                         "The following data type is not supported: %.*s (Data type names are "
                         "all lowercase.)",
                         MOAT_FMT(p.data_type));
    }

    /* description and allowed pattern carry over when not given */
    p.has_description = moat_has(in, SSM_PUT_PARAMETER_REQUEST_DESCRIPTION);
    if (p.has_description)
        p.description = moat_get_str(in, SSM_PUT_PARAMETER_REQUEST_DESCRIPTION);
    else if (exists && cur.has_description)
        p.description = cur.description, p.has_description = true;
    p.has_allowed_pattern = moat_has(in, SSM_PUT_PARAMETER_REQUEST_ALLOWED_PATTERN);
    if (p.has_allowed_pattern)
        p.allowed_pattern = moat_get_str(in, SSM_PUT_PARAMETER_REQUEST_ALLOWED_PATTERN);
    else if (exists && cur.has_allowed_pattern)
        p.allowed_pattern = cur.allowed_pattern, p.has_allowed_pattern = true;
    if (p.has_allowed_pattern && p.allowed_pattern.len) {
        err = check_allowed_pattern(call, p.allowed_pattern, value);
        if (err)
            return err;
    }

    /* policies: new ones replace the old set; absent keeps it ("[]" clears it) */
    if (moat_has(in, SSM_PUT_PARAMETER_REQUEST_POLICIES)) {
        struct ssm_policies parsed;
        const struct moat_error_kind *kind;
        struct moat_slice msg;
        if (!ssm_policies_parse(a, moat_get_str(in, SSM_PUT_PARAMETER_REQUEST_POLICIES), &parsed,
                                &kind, &msg))
            return moat_fail(call, kind, "%.*s", MOAT_FMT(msg));
        p.policies = moat_arena_calloc(a, (parsed.count ? parsed.count : 1) * sizeof(*p.policies));
        for (size_t i = 0; i < parsed.count; i++) {
            p.policies[i].text = parsed.items[i].text;
            p.policies[i].type = moat_slice_cstr(ssm_policy_type_name(parsed.items[i].type));
            p.policies[i].status = MOAT_LIT("Pending");
            p.policies[i].at_ms = parsed.items[i].timestamp_ms;
            p.policies[i].period_ms = parsed.items[i].period_ms;
        }
        p.policy_count = parsed.count;
        p.policies_created_ms = call->now_ms;
    } else if (exists) {
        p.policies = cur.policies;
        p.policy_count = cur.policy_count;
        p.policies_created_ms = cur.policies_created_ms;
        /* A change restarts the NoChangeNotification clock. */
        for (size_t i = 0; i < p.policy_count; i++)
            if (moat_slice_eq_cstr(p.policies[i].type, "NoChangeNotification"))
                p.policies[i].status = MOAT_LIT("Pending");
    }

    /* tier */
    struct moat_slice tier_req = moat_get_str(in, SSM_PUT_PARAMETER_REQUEST_TIER);
    bool was_advanced = exists && cur.tier == SSM_TIER_ADVANCED;
    int64_t all = 0, advanced = 0;
    bool counted = false;
    if (was_advanced) {
        if (moat_slice_eq_cstr(tier_req, "Standard"))
            return moat_fail(call, &ssm_validation,
                             "This parameter uses the advanced-parameter tier. You can't "
                             "downgrade a parameter from the advanced-parameter tier to the "
                             "standard-parameter tier. If necessary, you can delete the advanced "
                             "parameter and recreate it as a standard parameter.");
        p.tier = SSM_TIER_ADVANCED;
    } else if (moat_slice_eq_cstr(tier_req, "Advanced")) {
        p.tier = SSM_TIER_ADVANCED;
    } else if (moat_slice_eq_cstr(tier_req, "Intelligent-Tiering")) {
        /* Advanced only when the request needs it: a value over 4 KB, a policy, or no room
         * left among the 10,000 standard parameters. */
        p.tier = SSM_TIER_STANDARD;
        if (value.len > SSM_STANDARD_VALUE_MAX || p.policy_count)
            p.tier = SSM_TIER_ADVANCED;
        else if (!exists) {
            err = ssm_count(call, &all, &advanced);
            if (err)
                return err;
            counted = true;
            if (all - advanced >= SSM_STANDARD_COUNT_MAX)
                p.tier = SSM_TIER_ADVANCED;
        }
    } else {
        p.tier = SSM_TIER_STANDARD; /* the default tier */
    }
    if (p.tier == SSM_TIER_STANDARD) {
        if (value.len > SSM_STANDARD_VALUE_MAX)
            return moat_fail(call, &ssm_validation,
                             "Standard tier parameters support a maximum parameter value of 4096 "
                             "characters. To create a larger parameter value, upgrade the "
                             "parameter to use the advanced-parameter tier. For more information, "
                             "see https://docs.aws.amazon.com/systems-manager/latest/userguide/"
                             "parameter-store-advanced-parameters.html");
        if (p.policy_count)
            return moat_fail(call, &ssm_validation,
                             "Standard tier parameters don't support parameter policies. To "
                             "assign policies, use the advanced-parameter tier. For more "
                             "information, see https://docs.aws.amazon.com/systems-manager/latest/"
                             "userguide/parameter-store-policies.html");
    } else if (value.len > SSM_ADVANCED_VALUE_MAX) {
        return moat_fail(call, &ssm_validation,
                         "Advanced tier parameters support a maximum parameter value of 8192 "
                         "characters.");
    }
    bool new_standard = !exists && p.tier == SSM_TIER_STANDARD;
    bool new_advanced = p.tier == SSM_TIER_ADVANCED && !was_advanced;
    if ((new_standard || new_advanced) && !counted) {
        err = ssm_count(call, &all, &advanced);
        if (err)
            return err;
    }
    if (new_standard && all - advanced >= SSM_STANDARD_COUNT_MAX)
        return moat_fail(call, &ssm_parameter_limit_exceeded,
                         "You have reached the maximum number of standard parameters for this AWS "
                         "account and Region (%d). To add more parameters, either delete existing "
                         "parameters or upgrade to the advanced-parameter tier (charges apply).",
                         SSM_STANDARD_COUNT_MAX);
    if (new_advanced && advanced >= SSM_ADVANCED_COUNT_MAX)
        return moat_fail(call, &ssm_parameter_limit_exceeded,
                         "You have reached the maximum number of advanced parameters for this AWS "
                         "account and Region (%d). Delete one or more parameters and try again.",
                         SSM_ADVANCED_COUNT_MAX);

    /* history keeps the 100 newest versions, unless the oldest has a label */
    p.oldest_version = exists ? cur.oldest_version : 1;
    if (exists) {
        p.label_names = cur.label_names;
        p.label_versions = cur.label_versions;
        p.label_count = cur.label_count;
        p.tags = cur.tags;
        p.tag_count = cur.tag_count;
        p.due_keys = cur.due_keys;
        p.due_count = cur.due_count;
        p.store_version = cur.store_version;
        if (cur.version - cur.oldest_version + 1 >= SSM_VERSIONS_KEPT) {
            for (size_t i = 0; i < cur.label_count; i++)
                if (cur.label_versions[i] == cur.oldest_version)
                    return moat_fail(call, &ssm_parameter_max_version_limit_exceeded,
                                     "You attempted to create a new version of %.*s by calling "
                                     "the PutParameter API with the overwrite flag. Version %lld, "
                                     "the oldest version, can't be deleted because it has a label "
                                     "associated with it. Move the label to another version of "
                                     "the parameter, and try again.",
                                     MOAT_FMT(p.name), (long long)cur.oldest_version);
            err = ssm_drop_version(call, n.key, cur.oldest_version);
            if (err)
                return err;
            p.oldest_version = cur.oldest_version + 1;
        }
    } else if (tags) {
        p.tags = moat_arena_alloc(a, (tags->count ? tags->count : 1) * sizeof(*p.tags));
        for (uint32_t i = 0; i < tags->count; i++) {
            p.tags[i].key = moat_get_str(tags->u.items[i], SSM_TAG_KEY);
            p.tags[i].value = moat_get_str(tags->u.items[i], SSM_TAG_VALUE);
        }
        p.tag_count = tags->count;
    }

    /* the value */
    if (type == SSM_SECURE_STRING) {
        if (has_key)
            p.key_id = moat_get_str(in, SSM_PUT_PARAMETER_REQUEST_KEY_ID);
        else if (exists && cur.type == SSM_SECURE_STRING)
            p.key_id = cur.key_id;
        else
            p.key_id = MOAT_LIT("alias/aws/ssm");
        err = ssm_seal_value(call, ssm_arn(a, call->region, call->account_id, n.key), &p, value);
        if (err)
            return err;
    } else {
        p.value = value;
        p.seal = SSM_SEAL_NONE;
    }

    err = ssm_schedule(call, call->account_id, call->region, &p);
    if (!err)
        err = ssm_store_current(call, &p, true);
    if (!err)
        err = ssm_event_change(call, call->account_id, call->region, &p,
                               exists ? "Update" : "Create");
    if (err)
        return err;
    moat_set_int(a, out, SSM_PUT_PARAMETER_RESULT_VERSION, p.version);
    moat_set_cstr(a, out, SSM_PUT_PARAMETER_RESULT_TIER, ssm_tier_name(p.tier));
    return NULL;
}

/* ---- DeleteParameter(s)
 * -------------------------------------------------------------------------- */

/* Deletes the parameter a name (or ARN) names; *found false when there is none. */
static struct moat_error *delete_one(struct moat_call *call, struct moat_slice raw, bool *found)
{
    struct ssm_ref ref;
    *found = false;
    if (!ssm_ref_parse(raw, &ref) || ref.sel != SSM_SEL_NONE || ref.problem != SSM_NAME_OK)
        return NULL;
    if (ref.arn && (!moat_slice_eq_cstr(ref.arn_region, call->region) ||
                    !moat_slice_eq_cstr(ref.arn_account, call->account_id)))
        return NULL;
    struct ssm_param p;
    struct moat_error *err = ssm_load(call, ref.name.key, &p, found);
    if (err || !*found)
        return err;
    err = ssm_store_delete(call, call->account_id, call->region, &p);
    if (!err)
        err = ssm_event_change(call, call->account_id, call->region, &p, "Delete");
    return err;
}

SSM_HANDLER(ssm_delete_parameter)
{
    struct moat_slice name = moat_get_str(in, SSM_DELETE_PARAMETER_REQUEST_NAME);
    bool found;
    struct moat_error *err = delete_one(call, name, &found);
    if (err)
        return err;
    if (!found)
        return not_found(call, moat_slice_trim(name));
    MOAT_UNUSED(out);
    return NULL;
}

SSM_HANDLER(ssm_delete_parameters)
{
    struct moat_arena *a = call->arena;
    const struct moat_value *names = moat_get(in, SSM_DELETE_PARAMETERS_REQUEST_NAMES);
    struct moat_value *deleted =
        moat_set_list(a, out, SSM_DELETE_PARAMETERS_RESULT_DELETED_PARAMETERS);
    struct moat_value *invalid =
        moat_set_list(a, out, SSM_DELETE_PARAMETERS_RESULT_INVALID_PARAMETERS);
    for (uint32_t i = 0; names && i < names->count; i++) {
        struct moat_slice raw = names->u.items[i]->u.s;
        bool dup = false;
        for (uint32_t k = 0; k < i; k++)
            if (moat_slice_eq(names->u.items[k]->u.s, raw))
                dup = true;
        if (dup)
            continue;
        bool found;
        struct moat_error *err = delete_one(call, raw, &found);
        if (err)
            return err;
        moat_list_add_str(a, found ? deleted : invalid, raw);
    }
    return NULL;
}

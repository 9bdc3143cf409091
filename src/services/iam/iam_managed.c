/* iam_managed.c: managed policies: customer managed policies with up to five
 * versions, the AWS managed policies moat ships, attachment records, and the
 * CreatePolicy ... ListEntitiesForPolicy operations.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-versioning.html */
#include "auth/auth.h"
#include "aws/shapes/shapes_iam.h"
#include "core/encoding.h"
#include "services/iam/iam.h"
#include "services/iam/iam_handlers.h"

#include <stdio.h>
#include <string.h>

/* ---- AWS managed policies ----------------------------------------------------------- */

/* Documents written for moat with the scope of AWS's policies of the same name over the
 * services moat offers. The creation date is the same for all of them. */
static const struct iam_aws_policy aws_policies[] = {
    {"AdministratorAccess", "/", "Provides full access to AWS services and resources.",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\","
     "\"Resource\":\"*\"}]}",
     "ANPAIWMBCKSKIEE64ZLYK"},
    {"PowerUserAccess", "/",
     "Provides full access to AWS services and resources, but does not allow management of "
     "Users and groups.",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"NotAction\":[\"iam:*\","
     "\"organizations:*\",\"account:*\"],\"Resource\":\"*\"},{\"Effect\":\"Allow\",\"Action\":["
     "\"iam:CreateServiceLinkedRole\",\"iam:DeleteServiceLinkedRole\",\"iam:ListRoles\","
     "\"organizations:DescribeOrganization\",\"account:ListRegions\"],\"Resource\":\"*\"}]}",
     "ANPAJYRXTHIB4FOVS3ZXS"},
    {"ReadOnlyAccess", "/", "Provides read-only access to AWS services and resources.",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":["
     "\"acm:Describe*\",\"acm:Get*\",\"acm:List*\",\"cloudtrail:Describe*\",\"cloudtrail:Get*\","
     "\"cloudtrail:List*\",\"cloudtrail:LookupEvents\",\"cloudwatch:Describe*\","
     "\"cloudwatch:Get*\",\"cloudwatch:List*\",\"config:Describe*\",\"config:Get*\","
     "\"config:List*\",\"config:Select*\",\"events:Describe*\",\"events:List*\","
     "\"events:Test*\",\"guardduty:Describe*\",\"guardduty:Get*\",\"guardduty:List*\","
     "\"iam:Generate*\",\"iam:Get*\",\"iam:List*\",\"iam:Simulate*\",\"inspector2:Get*\","
     "\"inspector2:List*\",\"kms:Describe*\",\"kms:Get*\",\"kms:List*\",\"logs:Describe*\","
     "\"logs:FilterLogEvents\",\"logs:Get*\",\"logs:List*\",\"logs:TestMetricFilter\","
     "\"organizations:Describe*\",\"organizations:List*\",\"s3:Get*\",\"s3:List*\","
     "\"secretsmanager:Describe*\",\"secretsmanager:GetResourcePolicy\","
     "\"secretsmanager:List*\",\"securityhub:BatchGet*\",\"securityhub:Describe*\","
     "\"securityhub:Get*\",\"securityhub:List*\",\"sns:Get*\",\"sns:List*\",\"sqs:Get*\","
     "\"sqs:List*\",\"ssm:Describe*\",\"ssm:Get*\",\"ssm:List*\",\"sts:GetAccessKeyInfo\","
     "\"wafv2:Describe*\",\"wafv2:Get*\",\"wafv2:List*\"],\"Resource\":\"*\"}]}",
     "ANPAILL3HVNFSB6DCOWYQ"},
    {"IAMFullAccess", "/", "Provides full access to IAM via the AWS Management Console.",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iam:*\","
     "\"organizations:DescribeAccount\",\"organizations:DescribeOrganization\","
     "\"organizations:DescribeOrganizationalUnit\",\"organizations:DescribePolicy\","
     "\"organizations:ListChildren\",\"organizations:ListParents\","
     "\"organizations:ListPoliciesForTarget\",\"organizations:ListRoots\","
     "\"organizations:ListPolicies\",\"organizations:ListTargetsForPolicy\"],"
     "\"Resource\":\"*\"}]}",
     "ANPAI7XKCFMBPM3QQRRVQ"},
    {"IAMReadOnlyAccess", "/", "Provides read only access to IAM via the AWS Management Console.",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":["
     "\"iam:GenerateCredentialReport\",\"iam:GenerateServiceLastAccessedDetails\","
     "\"iam:Get*\",\"iam:List*\",\"iam:SimulateCustomPolicy\",\"iam:SimulatePrincipalPolicy\"],"
     "\"Resource\":\"*\"}]}",
     "ANPAJKSO7NDY4T57MWDSQ"},
    {"AWSOrganizationsFullAccess", "/", "Provides full access to AWS Organizations.",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
     "\"organizations:*\",\"Resource\":\"*\"}]}",
     "ANPAJZXBNRCJKNLQHSB5M"},
    {"AWSOrganizationsReadOnlyAccess", "/", "Provides read-only access to AWS Organizations.",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":["
     "\"organizations:Describe*\",\"organizations:List*\"],\"Resource\":\"*\"}]}",
     "ANPAJY5RQATUV77PEPVOM"},
    {"AWSKeyManagementServicePowerUser", "/",
     "Provides access to AWS Key Management Service (KMS).",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":["
     "\"kms:CreateAlias\",\"kms:CreateKey\",\"kms:DeleteAlias\",\"kms:Describe*\","
     "\"kms:GenerateRandom\",\"kms:Get*\",\"kms:List*\",\"kms:TagResource\","
     "\"kms:UntagResource\",\"iam:ListGroups\",\"iam:ListRoles\",\"iam:ListUsers\"],"
     "\"Resource\":\"*\"}]}",
     "ANPAJNPP7PPPPMJRV2SA4"},
    {"SecurityAudit", "/",
     "The security audit template grants access to read security configuration metadata.",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":["
     "\"acm:Describe*\",\"acm:List*\",\"cloudtrail:DescribeTrails\",\"cloudtrail:"
     "GetEventSelectors\","
     "\"cloudtrail:GetTrail\",\"cloudtrail:GetTrailStatus\",\"cloudtrail:ListTrails\","
     "\"cloudtrail:LookupEvents\",\"config:Describe*\",\"config:Get*\",\"config:List*\","
     "\"guardduty:Get*\",\"guardduty:List*\",\"iam:GenerateCredentialReport\",\"iam:Get*\","
     "\"iam:List*\",\"iam:SimulateCustomPolicy\",\"iam:SimulatePrincipalPolicy\","
     "\"kms:Describe*\",\"kms:Get*\",\"kms:List*\",\"logs:Describe*\","
     "\"organizations:Describe*\",\"organizations:List*\",\"s3:GetBucket*\","
     "\"s3:GetEncryptionConfiguration\",\"s3:ListAllMyBuckets\",\"secretsmanager:DescribeSecret\","
     "\"secretsmanager:ListSecrets\",\"secretsmanager:GetResourcePolicy\","
     "\"securityhub:Describe*\",\"securityhub:Get*\",\"securityhub:List*\","
     "\"sns:GetTopicAttributes\",\"sns:ListTopics\",\"sqs:GetQueueAttributes\","
     "\"sqs:ListQueues\",\"ssm:Describe*\",\"ssm:ListDocuments\"],\"Resource\":\"*\"}]}",
     "ANPAIX2T3QCXHR2OGGCTO"},
};

/* 2015-02-06T18:39:46Z, when AWS published its first managed policies. */
#define AWS_POLICY_CREATED_MS 1423247986000LL

const struct iam_aws_policy *iam_aws_policies(size_t *count)
{
    *count = MOAT_COUNT(aws_policies);
    return aws_policies;
}

static struct moat_value *aws_policy_record(struct moat_arena *a, const struct iam_aws_policy *p)
{
    struct moat_value *rec = moat_value_map(a);
    moat_map_set_cstr(a, rec, "PolicyName", p->name);
    moat_map_set_cstr(a, rec, "PolicyId", p->id);
    moat_map_set_cstr(a, rec, "Arn",
                      moat_arena_printf(a, "arn:aws:iam::aws:policy%s%s", p->path, p->name));
    moat_map_set_cstr(a, rec, "Path", p->path);
    moat_map_set_cstr(a, rec, "Description", p->description);
    moat_map_set_cstr(a, rec, "DefaultVersionId", "v1");
    moat_map_set_int(a, rec, "CreateDate", AWS_POLICY_CREATED_MS);
    moat_map_set_int(a, rec, "UpdateDate", AWS_POLICY_CREATED_MS);
    struct moat_value *versions = iam_rec_list(a, rec, "Versions");
    struct moat_value *v = moat_value_map(a);
    moat_map_set_cstr(a, v, "VersionId", "v1");
    moat_map_set_cstr(a, v, "Document", p->document);
    moat_map_set_int(a, v, "CreateDate", AWS_POLICY_CREATED_MS);
    moat_list_push(a, versions, v);
    return rec;
}

/* ---- lookups --------------------------------------------------------------------------- */

bool iam_parse_policy_arn(struct moat_slice arn, struct moat_slice *account,
                          struct moat_slice *path, struct moat_slice *name)
{
    struct moat_slice prefix = MOAT_LIT("arn:aws:iam::");
    if (!moat_slice_starts_with(arn, prefix))
        return false;
    struct moat_slice rest = moat_slice_sub(arn, prefix.len, arn.len);
    long colon = moat_slice_index(rest, ':');
    if (colon <= 0)
        return false;
    *account = moat_slice_sub(rest, 0, (size_t)colon);
    if (!moat_slice_eq_cstr(*account, "aws") && !auth_is_account_id(*account))
        return false;
    rest = moat_slice_sub(rest, (size_t)colon + 1, rest.len);
    if (!moat_slice_starts_with(rest, MOAT_LIT("policy/")))
        return false;
    rest = moat_slice_sub(rest, 6, rest.len); /* "/path/name" */
    size_t last = 0;
    for (size_t i = 0; i < rest.len; i++)
        if (rest.ptr[i] == '/')
            last = i;
    *path = moat_slice_sub(rest, 0, last + 1);
    *name = moat_slice_sub(rest, last + 1, rest.len);
    return name->len > 0;
}

struct moat_error *iam_managed_find(struct moat_call *call, struct moat_slice account,
                                    struct moat_slice arn, struct iam_managed *out, bool *found)
{
    memset(out, 0, sizeof(*out));
    *found = false;
    struct moat_slice acct, path, name;
    if (!iam_parse_policy_arn(arn, &acct, &path, &name))
        return moat_fail(call, &iam_invalid_input, "ARN %.*s is not valid.", MOAT_FMT(arn));
    if (moat_slice_eq_cstr(acct, "aws")) {
        for (size_t i = 0; i < MOAT_COUNT(aws_policies); i++) {
            if (moat_slice_eq_cstr(name, aws_policies[i].name) &&
                moat_slice_eq_cstr(path, aws_policies[i].path)) {
                out->rec = aws_policy_record(call->arena, &aws_policies[i]);
                out->aws = true;
                *found = true;
                return NULL;
            }
        }
        return NULL;
    }
    if (!moat_slice_eq(acct, account))
        return NULL;
    out->key = iam_name_key(call->arena, acct, name);
    bool f;
    struct moat_error *err =
        iam_record_get(call, IAM_NS_POLICY, out->key, &out->rec, &out->version, &f);
    if (err || !f)
        return err;
    *found = moat_slice_eq(moat_map_str(out->rec, "Arn"), arn);
    return NULL;
}

static struct moat_value *find_version(const struct moat_value *rec, struct moat_slice id)
{
    struct moat_value *versions = moat_map_get(rec, "Versions");
    for (uint32_t i = 0; versions && versions->type == MOAT_V_LIST && i < versions->count; i++)
        if (moat_slice_eq(moat_map_str(versions->u.items[i], "VersionId"), id))
            return versions->u.items[i];
    return NULL;
}

struct moat_slice iam_managed_document(const struct iam_managed *m)
{
    struct moat_value *v = find_version(m->rec, moat_map_str(m->rec, "DefaultVersionId"));
    return v ? moat_map_str(v, "Document") : MOAT_NULL_SLICE;
}

/* Loads a policy by ARN for an operation on it: NoSuchEntity in AWS's wording. */
static struct moat_error *load_policy(struct moat_call *call, struct moat_slice arn,
                                      struct iam_managed *m)
{
    bool found;
    struct moat_error *err = iam_managed_find(call, iam_account(call), arn, m, &found);
    if (err)
        return err;
    if (!found)
        return moat_fail(call, &iam_no_such_entity, "Policy %.*s was not found.", MOAT_FMT(arn));
    return NULL;
}

static struct moat_error *load_customer_policy(struct moat_call *call, struct moat_slice arn,
                                               struct iam_managed *m)
{
    struct moat_error *err = load_policy(call, arn, m);
    if (!err && m->aws)
        return moat_fail(call, &iam_invalid_input,
                         "The operation cannot be performed on AWS managed policy %.*s.",
                         MOAT_FMT(arn));
    return err;
}

/* ---- attachments ------------------------------------------------------------------------ */

static struct moat_slice attachment_prefix(struct moat_arena *a, struct moat_slice account,
                                           struct moat_slice arn, const char *usage)
{
    return moat_slice_cstr(
        moat_arena_printf(a, "%.*s|%.*s|%s", MOAT_FMT(account), MOAT_FMT(arn), usage ? usage : ""));
}

struct moat_error *iam_attachment_put(struct moat_call *call, struct moat_slice account,
                                      struct moat_slice policy_arn, bool boundary,
                                      enum iam_entity_kind kind, struct moat_slice name, bool add)
{
    struct moat_slice lower = iam_lower(call->arena, name);
    struct moat_slice key = moat_slice_cstr(moat_arena_printf(
        call->arena, "%.*s|%.*s|%c|%c|%.*s", MOAT_FMT(account), MOAT_FMT(policy_arn),
        boundary ? 'B' : 'P', iam_entity_letter(kind), MOAT_FMT(lower)));
    if (!add)
        return iam_record_delete(call, IAM_NS_ATTACH, key);
    struct moat_value *rec = moat_value_map(call->arena);
    moat_map_set_str(call->arena, rec, "Name", name);
    return iam_record_put(call, IAM_NS_ATTACH, key, rec, STORE_ANY_VERSION);
}

struct moat_error *iam_attachment_count(struct moat_call *call, struct moat_slice account,
                                        struct moat_slice policy_arn, const char *usage,
                                        int64_t *count)
{
    return iam_record_count(call, IAM_NS_ATTACH,
                            attachment_prefix(call->arena, account, policy_arn, usage), count);
}

#define IAM_MAX_ATTACHED 10

struct moat_error *iam_entity_attach(struct moat_call *call, struct iam_entity *e,
                                     struct moat_slice account, struct moat_slice policy_arn)
{
    struct iam_managed m;
    bool found;
    struct moat_error *err = iam_managed_find(call, account, policy_arn, &m, &found);
    if (err)
        return err;
    if (!found)
        return moat_fail(call, &iam_no_such_entity,
                         "Policy %.*s does not exist or is not attachable.", MOAT_FMT(policy_arn));
    struct moat_value *att = iam_rec_list(call->arena, e->rec, "AttachedPolicies");
    struct moat_slice arn = moat_map_str(m.rec, "Arn");
    if (iam_list_has(att, arn, false))
        return NULL; /* attaching twice changes nothing */
    if (att->count >= IAM_MAX_ATTACHED)
        return moat_fail(call, &iam_limit_exceeded, "Cannot exceed quota for PoliciesPer%s: %d",
                         e->kind == IAM_ENTITY_USER    ? "User"
                         : e->kind == IAM_ENTITY_GROUP ? "Group"
                                                       : "Role",
                         IAM_MAX_ATTACHED);
    iam_list_add(call->arena, att, arn);
    return iam_attachment_put(call, account, arn, false, e->kind, e->name, true);
}

/* ---- output ------------------------------------------------------------------------------- */

static struct moat_error *fill_policy(struct moat_call *call, struct moat_value *o,
                                      const struct iam_managed *m, bool description)
{
    struct moat_arena *a = call->arena;
    const struct moat_value *rec = m->rec;
    struct moat_slice arn = moat_map_str(rec, "Arn");
    int64_t attached = 0, bounded = 0;
    struct moat_error *err = iam_attachment_count(call, iam_account(call), arn, "P", &attached);
    if (!err)
        err = iam_attachment_count(call, iam_account(call), arn, "B", &bounded);
    if (err)
        return err;
    moat_set_str(a, o, IAM_POLICY_POLICY_NAME, moat_map_str(rec, "PolicyName"));
    moat_set_str(a, o, IAM_POLICY_POLICY_ID, moat_map_str(rec, "PolicyId"));
    moat_set_str(a, o, IAM_POLICY_ARN, arn);
    moat_set_str(a, o, IAM_POLICY_PATH, moat_map_str(rec, "Path"));
    moat_set_str(a, o, IAM_POLICY_DEFAULT_VERSION_ID, moat_map_str(rec, "DefaultVersionId"));
    moat_set_int(a, o, IAM_POLICY_ATTACHMENT_COUNT, attached);
    moat_set_int(a, o, IAM_POLICY_PERMISSIONS_BOUNDARY_USAGE_COUNT, bounded);
    moat_set_bool(a, o, IAM_POLICY_IS_ATTACHABLE, true);
    struct moat_slice desc = moat_map_str(rec, "Description");
    if (description && desc.len)
        moat_set_str(a, o, IAM_POLICY_DESCRIPTION, desc);
    moat_set_ts(a, o, IAM_POLICY_CREATE_DATE, moat_map_int(rec, "CreateDate", 0));
    moat_set_ts(a, o, IAM_POLICY_UPDATE_DATE, moat_map_int(rec, "UpdateDate", 0));
    iam_tags_output(call, o, IAM_POLICY_TAGS, rec);
    return NULL;
}

static void fill_version(struct moat_call *call, struct moat_value *o, const struct moat_value *rec,
                         const struct moat_value *v, bool document)
{
    struct moat_arena *a = call->arena;
    struct moat_slice id = moat_map_str(v, "VersionId");
    if (document)
        moat_set_str(a, o, IAM_POLICY_VERSION_DOCUMENT,
                     iam_url_encode(a, moat_map_str(v, "Document")));
    moat_set_str(a, o, IAM_POLICY_VERSION_VERSION_ID, id);
    moat_set_bool(a, o, IAM_POLICY_VERSION_IS_DEFAULT_VERSION,
                  moat_slice_eq(id, moat_map_str(rec, "DefaultVersionId")));
    moat_set_ts(a, o, IAM_POLICY_VERSION_CREATE_DATE, moat_map_int(v, "CreateDate", 0));
}

/* ---- operations ------------------------------------------------------------------------------ */

/* CreatePolicy. https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html */
struct moat_error *iam_create_policy(struct moat_call *call, const struct moat_value *in,
                                     struct moat_value *out)
{
    iam_begin_change(call);
    struct moat_arena *a = call->arena;
    struct moat_slice name = moat_get_str(in, IAM_CREATE_POLICY_REQUEST_POLICY_NAME);
    struct moat_slice path = moat_get_str(in, IAM_CREATE_POLICY_REQUEST_PATH);
    struct moat_slice doc = moat_get_str(in, IAM_CREATE_POLICY_REQUEST_POLICY_DOCUMENT);
    if (!path.len)
        path = MOAT_LIT("/");
    struct moat_error *err = iam_check_policy(call, IAM_POLICY_IDENTITY, doc, 0, "PolicySize");
    if (err)
        return err;
    err = iam_tags_check(call, moat_get(in, IAM_CREATE_POLICY_REQUEST_TAGS));
    if (err)
        return err;
    struct moat_slice key = iam_name_key(a, iam_account(call), name);
    struct moat_value *old;
    bool found;
    err = iam_record_get(call, IAM_NS_POLICY, key, &old, NULL, &found);
    if (err)
        return err;
    if (found)
        return moat_fail(call, &iam_entity_already_exists,
                         "A policy called %.*s already exists. Duplicate names are not allowed.",
                         MOAT_FMT(name));
    char id[22];
    auth_new_unique_id(id, "ANPA");
    struct moat_value *rec = moat_value_map(a);
    moat_map_set_str(a, rec, "PolicyName", name);
    moat_map_set_cstr(a, rec, "PolicyId", id);
    moat_map_set_str(a, rec, "Arn", iam_arn(a, iam_account(call), "policy", path, name));
    moat_map_set_str(a, rec, "Path", path);
    moat_map_set_str(a, rec, "AccountId", iam_account(call));
    struct moat_slice desc = moat_get_str(in, IAM_CREATE_POLICY_REQUEST_DESCRIPTION);
    if (desc.len)
        moat_map_set_str(a, rec, "Description", desc);
    moat_map_set_cstr(a, rec, "DefaultVersionId", "v1");
    moat_map_set_int(a, rec, "CreateDate", call->now_ms);
    moat_map_set_int(a, rec, "UpdateDate", call->now_ms);
    moat_map_set_int(a, rec, "NextVersion", 2);
    struct moat_value *v = moat_value_map(a);
    moat_map_set_cstr(a, v, "VersionId", "v1");
    moat_map_set_str(a, v, "Document", doc);
    moat_map_set_int(a, v, "CreateDate", call->now_ms);
    moat_list_push(a, iam_rec_list(a, rec, "Versions"), v);
    err = iam_tags_apply(call, rec, moat_get(in, IAM_CREATE_POLICY_REQUEST_TAGS), "TagsPerPolicy");
    if (!err)
        err = iam_record_put(call, IAM_NS_POLICY, key, rec, STORE_MUST_NOT_EXIST);
    if (err)
        return err;
    struct iam_managed m = {.rec = rec};
    return fill_policy(call, moat_set_struct(a, out, IAM_CREATE_POLICY_RESPONSE_POLICY), &m, false);
}

struct moat_error *iam_get_policy(struct moat_call *call, const struct moat_value *in,
                                  struct moat_value *out)
{
    struct iam_managed m;
    struct moat_error *err =
        load_policy(call, moat_get_str(in, IAM_GET_POLICY_REQUEST_POLICY_ARN), &m);
    if (err)
        return err;
    return fill_policy(call, moat_set_struct(call->arena, out, IAM_GET_POLICY_RESPONSE_POLICY), &m,
                       true);
}

struct list_policies {
    struct moat_value *list;
    struct moat_slice path_prefix;
    bool only_attached;
    const char *usage; /* "P", "B" or NULL */
    struct moat_error *err;
};

static bool policy_listed(struct moat_call *call, struct list_policies *lp, struct iam_managed *m)
{
    if (!moat_slice_starts_with(moat_map_str(m->rec, "Path"), lp->path_prefix))
        return false;
    if (lp->only_attached) {
        int64_t n = 0;
        struct moat_error *err = iam_attachment_count(
            call, iam_account(call), moat_map_str(m->rec, "Arn"), lp->usage ? lp->usage : "P", &n);
        if (err) {
            lp->err = err;
            return false;
        }
        return n > 0;
    }
    return true;
}

static bool list_policy_fn(struct moat_call *call, const struct store_record *r,
                           struct moat_value *rec, void *arg, bool add)
{
    struct list_policies *lp = arg;
    struct iam_managed m = {.rec = rec};
    if (!policy_listed(call, lp, &m))
        return false;
    if (add) {
        struct moat_value *o = moat_list_add_struct(call->arena, lp->list);
        struct moat_error *err = fill_policy(call, o, &m, false);
        if (err)
            lp->err = err;
    }
    return true;
}

/* ListPolicies: the AWS managed policies (Scope All or AWS) first, then the account's.
 * Marker keys are "A<name>" for the former and "L<store key>" for the latter. */
struct moat_error *iam_list_policies(struct moat_call *call, const struct moat_value *in,
                                     struct moat_value *out)
{
    struct moat_arena *a = call->arena;
    struct iam_page page;
    struct moat_error *err = iam_page_begin(call, in, IAM_LIST_POLICIES_REQUEST_MARKER,
                                            IAM_LIST_POLICIES_REQUEST_MAX_ITEMS, &page);
    if (err)
        return err;
    struct moat_slice scope = moat_get_str(in, IAM_LIST_POLICIES_REQUEST_SCOPE);
    struct moat_slice filter = moat_get_str(in, IAM_LIST_POLICIES_REQUEST_POLICY_USAGE_FILTER);
    struct list_policies lp = {
        .list = moat_set_list(a, out, IAM_LIST_POLICIES_RESPONSE_POLICIES),
        .path_prefix = moat_get_str(in, IAM_LIST_POLICIES_REQUEST_PATH_PREFIX),
        .only_attached = moat_get_bool(in, IAM_LIST_POLICIES_REQUEST_ONLY_ATTACHED, false),
        .usage = moat_slice_eq_cstr(filter, "PermissionsPolicy")     ? "P"
                 : moat_slice_eq_cstr(filter, "PermissionsBoundary") ? "B"
                                                                     : NULL,
    };
    if (!lp.path_prefix.len)
        lp.path_prefix = MOAT_LIT("/");
    bool want_aws = !moat_slice_eq_cstr(scope, "Local");
    bool want_local = !moat_slice_eq_cstr(scope, "AWS");
    size_t listed = 0;
    bool truncated = false;
    struct moat_slice last = MOAT_NULL_SLICE;
    bool past_aws = page.after.len && page.after.ptr[0] == 'L';
    if (want_aws && !past_aws) {
        struct moat_slice after =
            page.after.len ? moat_slice_sub(page.after, 1, page.after.len) : MOAT_NULL_SLICE;
        bool skipping = after.len > 0;
        for (size_t i = 0; i < MOAT_COUNT(aws_policies); i++) {
            if (skipping) {
                if (moat_slice_eq_cstr(after, aws_policies[i].name))
                    skipping = false;
                continue;
            }
            struct iam_managed m = {.rec = aws_policy_record(a, &aws_policies[i]), .aws = true};
            struct list_policies probe = lp;
            probe.list = NULL;
            if (!policy_listed(call, &probe, &m))
                continue;
            if (listed == page.max_items) {
                truncated = true;
                break;
            }
            if ((err = fill_policy(call, moat_list_add_struct(a, lp.list), &m, false)))
                return err;
            listed++;
            last = moat_slice_cstr(moat_arena_printf(a, "A%s", aws_policies[i].name));
        }
    }
    if (!truncated && want_local) {
        struct iam_page local = {page.max_items - listed, MOAT_NULL_SLICE};
        if (past_aws)
            local.after = moat_slice_sub(page.after, 1, page.after.len);
        struct moat_slice prefix = moat_slice_cstr(moat_arena_printf(a, "%s/", call->account_id));
        struct moat_slice local_last;
        if (local.max_items == 0) {
            /* the page is full: is anything left? */
            struct iam_page probe = {0, local.after};
            err = iam_scan(call, IAM_NS_POLICY, prefix, &probe, list_policy_fn, &lp, &truncated,
                           &local_last);
        } else {
            err = iam_scan(call, IAM_NS_POLICY, prefix, &local, list_policy_fn, &lp, &truncated,
                           &local_last);
            if (local_last.len)
                last = moat_slice_cstr(moat_arena_printf(a, "L%.*s", MOAT_FMT(local_last)));
        }
        if (err)
            return err;
    }
    if (lp.err)
        return lp.err;
    iam_page_end(call, out, IAM_LIST_POLICIES_RESPONSE_IS_TRUNCATED,
                 IAM_LIST_POLICIES_RESPONSE_MARKER, truncated, last);
    return NULL;
}

struct moat_error *iam_delete_policy(struct moat_call *call, const struct moat_value *in,
                                     struct moat_value *out)
{
    iam_begin_change(call);
    struct iam_managed m;
    struct moat_slice arn = moat_get_str(in, IAM_DELETE_POLICY_REQUEST_POLICY_ARN);
    struct moat_error *err = load_customer_policy(call, arn, &m);
    if (err)
        return err;
    int64_t n = 0;
    if ((err = iam_attachment_count(call, iam_account(call), arn, NULL, &n)))
        return err;
    if (n)
        return moat_fail(call, &iam_delete_conflict,
                         "Cannot delete a policy attached to entities.");
    struct moat_value *versions = moat_map_get(m.rec, "Versions");
    if (versions && versions->count > 1)
        return moat_fail(call, &iam_delete_conflict,
                         "This policy has more than one version. Before you delete a policy, you "
                         "must delete the policy's versions. The default version is deleted with "
                         "the policy.");
    return iam_record_delete(call, IAM_NS_POLICY, m.key);
}

#define IAM_MAX_POLICY_VERSIONS 5

struct moat_error *iam_create_policy_version(struct moat_call *call, const struct moat_value *in,
                                             struct moat_value *out)
{
    iam_begin_change(call);
    struct moat_arena *a = call->arena;
    struct iam_managed m;
    struct moat_error *err = load_customer_policy(
        call, moat_get_str(in, IAM_CREATE_POLICY_VERSION_REQUEST_POLICY_ARN), &m);
    if (err)
        return err;
    struct moat_slice doc = moat_get_str(in, IAM_CREATE_POLICY_VERSION_REQUEST_POLICY_DOCUMENT);
    if ((err = iam_check_policy(call, IAM_POLICY_IDENTITY, doc, 0, "PolicySize")))
        return err;
    struct moat_value *versions = iam_rec_list(a, m.rec, "Versions");
    if (versions->count >= IAM_MAX_POLICY_VERSIONS)
        return moat_fail(call, &iam_limit_exceeded,
                         "A managed policy can have up to %d versions. Before you create a new "
                         "version, you must delete an existing version.",
                         IAM_MAX_POLICY_VERSIONS);
    int64_t next = moat_map_int(m.rec, "NextVersion", (int64_t)versions->count + 1);
    const char *id = moat_arena_printf(a, "v%lld", (long long)next);
    struct moat_value *v = moat_value_map(a);
    moat_map_set_cstr(a, v, "VersionId", id);
    moat_map_set_str(a, v, "Document", doc);
    moat_map_set_int(a, v, "CreateDate", call->now_ms);
    moat_list_push(a, versions, v);
    moat_map_set_int(a, m.rec, "NextVersion", next + 1);
    if (moat_get_bool(in, IAM_CREATE_POLICY_VERSION_REQUEST_SET_AS_DEFAULT, false))
        moat_map_set_cstr(a, m.rec, "DefaultVersionId", id);
    moat_map_set_int(a, m.rec, "UpdateDate", call->now_ms);
    if ((err = iam_record_put(call, IAM_NS_POLICY, m.key, m.rec, m.version)))
        return err;
    fill_version(call, moat_set_struct(a, out, IAM_CREATE_POLICY_VERSION_RESPONSE_POLICY_VERSION),
                 m.rec, v, false);
    return NULL;
}

static struct moat_error *no_such_version(struct moat_call *call, struct moat_slice arn,
                                          struct moat_slice id)
{
    return moat_fail(call, &iam_no_such_entity, "Policy %.*s version %.*s does not exist.",
                     MOAT_FMT(arn), MOAT_FMT(id));
}

struct moat_error *iam_get_policy_version(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out)
{
    struct iam_managed m;
    struct moat_slice arn = moat_get_str(in, IAM_GET_POLICY_VERSION_REQUEST_POLICY_ARN);
    struct moat_slice id = moat_get_str(in, IAM_GET_POLICY_VERSION_REQUEST_VERSION_ID);
    struct moat_error *err = load_policy(call, arn, &m);
    if (err)
        return err;
    struct moat_value *v = find_version(m.rec, id);
    if (!v)
        return no_such_version(call, arn, id);
    fill_version(call,
                 moat_set_struct(call->arena, out, IAM_GET_POLICY_VERSION_RESPONSE_POLICY_VERSION),
                 m.rec, v, true);
    return NULL;
}

struct moat_error *iam_list_policy_versions(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out)
{
    struct iam_managed m;
    struct moat_error *err =
        load_policy(call, moat_get_str(in, IAM_LIST_POLICY_VERSIONS_REQUEST_POLICY_ARN), &m);
    if (err)
        return err;
    struct moat_value *list =
        moat_set_list(call->arena, out, IAM_LIST_POLICY_VERSIONS_RESPONSE_VERSIONS);
    struct moat_value *versions = moat_map_get(m.rec, "Versions");
    /* Newest first, as IAM lists them. */
    for (uint32_t i = versions ? versions->count : 0; i > 0; i--)
        fill_version(call, moat_list_add_struct(call->arena, list), m.rec, versions->u.items[i - 1],
                     false);
    moat_set_bool(call->arena, out, IAM_LIST_POLICY_VERSIONS_RESPONSE_IS_TRUNCATED, false);
    return NULL;
}

struct moat_error *iam_delete_policy_version(struct moat_call *call, const struct moat_value *in,
                                             struct moat_value *out)
{
    iam_begin_change(call);
    struct iam_managed m;
    struct moat_slice arn = moat_get_str(in, IAM_DELETE_POLICY_VERSION_REQUEST_POLICY_ARN);
    struct moat_slice id = moat_get_str(in, IAM_DELETE_POLICY_VERSION_REQUEST_VERSION_ID);
    struct moat_error *err = load_customer_policy(call, arn, &m);
    if (err)
        return err;
    struct moat_value *v = find_version(m.rec, id);
    if (!v)
        return no_such_version(call, arn, id);
    if (moat_slice_eq(id, moat_map_str(m.rec, "DefaultVersionId")))
        return moat_fail(call, &iam_delete_conflict,
                         "Cannot delete the default version of a "
                         "policy.");
    struct moat_value *versions = moat_map_get(m.rec, "Versions");
    for (uint32_t i = 0; i < versions->count; i++) {
        if (versions->u.items[i] == v) {
            memmove(&versions->u.items[i], &versions->u.items[i + 1],
                    (versions->count - i - 1) * sizeof(versions->u.items[0]));
            versions->count--;
            break;
        }
    }
    return iam_record_put(call, IAM_NS_POLICY, m.key, m.rec, m.version);
}

struct moat_error *iam_set_default_policy_version(struct moat_call *call,
                                                  const struct moat_value *in,
                                                  struct moat_value *out)
{
    iam_begin_change(call);
    struct iam_managed m;
    struct moat_slice arn = moat_get_str(in, IAM_SET_DEFAULT_POLICY_VERSION_REQUEST_POLICY_ARN);
    struct moat_slice id = moat_get_str(in, IAM_SET_DEFAULT_POLICY_VERSION_REQUEST_VERSION_ID);
    struct moat_error *err = load_customer_policy(call, arn, &m);
    if (err)
        return err;
    if (!find_version(m.rec, id))
        return no_such_version(call, arn, id);
    moat_map_set_str(call->arena, m.rec, "DefaultVersionId", id);
    moat_map_set_int(call->arena, m.rec, "UpdateDate", call->now_ms);
    return iam_record_put(call, IAM_NS_POLICY, m.key, m.rec, m.version);
}

struct moat_error *iam_tag_policy(struct moat_call *call, const struct moat_value *in,
                                  struct moat_value *out)
{
    iam_begin_change(call);
    struct iam_managed m;
    struct moat_error *err =
        load_customer_policy(call, moat_get_str(in, IAM_TAG_POLICY_REQUEST_POLICY_ARN), &m);
    if (!err)
        err =
            iam_tags_apply(call, m.rec, moat_get(in, IAM_TAG_POLICY_REQUEST_TAGS), "TagsPerPolicy");
    if (!err)
        err = iam_record_put(call, IAM_NS_POLICY, m.key, m.rec, m.version);
    return err;
}

struct moat_error *iam_untag_policy(struct moat_call *call, const struct moat_value *in,
                                    struct moat_value *out)
{
    iam_begin_change(call);
    struct iam_managed m;
    struct moat_error *err =
        load_customer_policy(call, moat_get_str(in, IAM_UNTAG_POLICY_REQUEST_POLICY_ARN), &m);
    if (err)
        return err;
    iam_tags_remove(m.rec, moat_get(in, IAM_UNTAG_POLICY_REQUEST_TAG_KEYS));
    return iam_record_put(call, IAM_NS_POLICY, m.key, m.rec, m.version);
}

struct moat_error *iam_list_policy_tags(struct moat_call *call, const struct moat_value *in,
                                        struct moat_value *out)
{
    struct iam_managed m;
    struct moat_error *err =
        load_policy(call, moat_get_str(in, IAM_LIST_POLICY_TAGS_REQUEST_POLICY_ARN), &m);
    if (err)
        return err;
    moat_set_list(call->arena, out, IAM_LIST_POLICY_TAGS_RESPONSE_TAGS);
    iam_tags_output(call, out, IAM_LIST_POLICY_TAGS_RESPONSE_TAGS, m.rec);
    moat_set_bool(call->arena, out, IAM_LIST_POLICY_TAGS_RESPONSE_IS_TRUNCATED, false);
    return NULL;
}

struct list_entities {
    struct moat_value *groups, *users, *roles;
    struct moat_slice path_prefix;
    char only; /* 'u', 'g', 'r' or 0 */
};

static bool list_entity_fn(struct moat_call *call, const struct store_record *r,
                           struct moat_value *rec, void *arg, bool add)
{
    struct list_entities *le = arg;
    /* key: <acct>|<arn>|<P|B>|<u|g|r>|<name> */
    struct moat_slice k = r->key;
    if (k.len < 4)
        return false;
    long bar = -1;
    for (size_t i = k.len; i > 0; i--)
        if (k.ptr[i - 1] == '|') {
            bar = (long)i - 1;
            break;
        }
    if (bar < 2)
        return false;
    char letter = (char)k.ptr[bar - 1];
    if (le->only && le->only != letter)
        return false;
    enum iam_entity_kind kind = letter == 'u'   ? IAM_ENTITY_USER
                                : letter == 'g' ? IAM_ENTITY_GROUP
                                                : IAM_ENTITY_ROLE;
    struct iam_entity e;
    bool found;
    if (iam_entity_find(call, kind, iam_account(call), moat_map_str(rec, "Name"), &e, &found) ||
        !found)
        return false;
    if (!moat_slice_starts_with(e.path, le->path_prefix))
        return false;
    if (!add)
        return true;
    struct moat_arena *a = call->arena;
    if (kind == IAM_ENTITY_USER) {
        struct moat_value *o = moat_list_add_struct(a, le->users);
        moat_set_str(a, o, IAM_POLICY_USER_USER_NAME, e.name);
        moat_set_str(a, o, IAM_POLICY_USER_USER_ID, e.id);
    } else if (kind == IAM_ENTITY_GROUP) {
        struct moat_value *o = moat_list_add_struct(a, le->groups);
        moat_set_str(a, o, IAM_POLICY_GROUP_GROUP_NAME, e.name);
        moat_set_str(a, o, IAM_POLICY_GROUP_GROUP_ID, e.id);
    } else {
        struct moat_value *o = moat_list_add_struct(a, le->roles);
        moat_set_str(a, o, IAM_POLICY_ROLE_ROLE_NAME, e.name);
        moat_set_str(a, o, IAM_POLICY_ROLE_ROLE_ID, e.id);
    }
    return true;
}

struct moat_error *iam_list_entities_for_policy(struct moat_call *call, const struct moat_value *in,
                                                struct moat_value *out)
{
    struct moat_arena *a = call->arena;
    struct iam_managed m;
    struct moat_slice arn = moat_get_str(in, IAM_LIST_ENTITIES_FOR_POLICY_REQUEST_POLICY_ARN);
    struct moat_error *err = load_policy(call, arn, &m);
    if (err)
        return err;
    struct iam_page page;
    if ((err = iam_page_begin(call, in, IAM_LIST_ENTITIES_FOR_POLICY_REQUEST_MARKER,
                              IAM_LIST_ENTITIES_FOR_POLICY_REQUEST_MAX_ITEMS, &page)))
        return err;
    struct moat_slice filter = moat_get_str(in, IAM_LIST_ENTITIES_FOR_POLICY_REQUEST_ENTITY_FILTER);
    struct moat_slice usage =
        moat_get_str(in, IAM_LIST_ENTITIES_FOR_POLICY_REQUEST_POLICY_USAGE_FILTER);
    struct list_entities le = {
        .groups = moat_set_list(a, out, IAM_LIST_ENTITIES_FOR_POLICY_RESPONSE_POLICY_GROUPS),
        .users = moat_set_list(a, out, IAM_LIST_ENTITIES_FOR_POLICY_RESPONSE_POLICY_USERS),
        .roles = moat_set_list(a, out, IAM_LIST_ENTITIES_FOR_POLICY_RESPONSE_POLICY_ROLES),
        .path_prefix = moat_get_str(in, IAM_LIST_ENTITIES_FOR_POLICY_REQUEST_PATH_PREFIX),
        .only = moat_slice_eq_cstr(filter, "User")    ? 'u'
                : moat_slice_eq_cstr(filter, "Group") ? 'g'
                : moat_slice_eq_cstr(filter, "Role")  ? 'r'
                                                      : 0,
    };
    if (moat_slice_eq_cstr(filter, "LocalManagedPolicy") ||
        moat_slice_eq_cstr(filter, "AWSManagedPolicy")) {
        /* Policies are not attached to policies: nothing to list. */
        moat_set_bool(a, out, IAM_LIST_ENTITIES_FOR_POLICY_RESPONSE_IS_TRUNCATED, false);
        return NULL;
    }
    const char *u = moat_slice_eq_cstr(usage, "PermissionsBoundary") ? "B" : usage.len ? "P" : "";
    struct moat_slice prefix =
        attachment_prefix(a, iam_account(call), moat_map_str(m.rec, "Arn"), u);
    bool truncated;
    struct moat_slice last;
    if ((err =
             iam_scan(call, IAM_NS_ATTACH, prefix, &page, list_entity_fn, &le, &truncated, &last)))
        return err;
    iam_page_end(call, out, IAM_LIST_ENTITIES_FOR_POLICY_RESPONSE_IS_TRUNCATED,
                 IAM_LIST_ENTITIES_FOR_POLICY_RESPONSE_MARKER, truncated, last);
    return NULL;
}

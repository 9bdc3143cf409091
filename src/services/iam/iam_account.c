/* iam_account.c: account-wide IAM operations: GetAccountAuthorizationDetails (every
 * user, group, role and managed policy with their policies), GetAccountSummary and the
 * account alias.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html */
#include "auth/auth.h"
#include "aws/shapes/shapes_iam.h"
#include "core/json.h"
#include "services/iam/iam.h"
#include "services/iam/iam_handlers.h"

#include <stdio.h>
#include <string.h>

#define IAM_NS_ALIAS_NAME                                                                          \
    "iam/alias-name" /* alias -> {"AccountId": ...} (unique across accounts) */

/* ---- GetAccountAuthorizationDetails ---------------------------------------------------- */

static void inline_list(struct moat_call *call, struct moat_value *o, unsigned member,
                        const struct moat_value *rec)
{
    struct moat_value *list = moat_set_list(call->arena, o, member);
    struct moat_value *inl = moat_map_get(rec, "InlinePolicies");
    for (uint32_t i = 0; inl && inl->type == MOAT_V_MAP && i < inl->count; i++) {
        struct moat_value *p = moat_list_add_struct(call->arena, list);
        moat_set_str(call->arena, p, IAM_POLICY_DETAIL_POLICY_NAME, inl->u.entries[i].key);
        if (moat_value_is_string(inl->u.entries[i].value))
            moat_set_str(call->arena, p, IAM_POLICY_DETAIL_POLICY_DOCUMENT,
                         iam_url_encode(call->arena, inl->u.entries[i].value->u.s));
    }
}

static struct moat_error *attached_list(struct moat_call *call, struct moat_value *o,
                                        unsigned member, const struct moat_value *rec)
{
    struct moat_value *list = moat_set_list(call->arena, o, member);
    struct moat_value *att = moat_map_get(rec, "AttachedPolicies");
    for (uint32_t i = 0; att && att->type == MOAT_V_LIST && i < att->count; i++) {
        struct iam_managed m;
        bool found;
        struct moat_error *err =
            iam_managed_find(call, iam_account(call), att->u.items[i]->u.s, &m, &found);
        if (err)
            return err;
        if (!found)
            continue;
        struct moat_value *p = moat_list_add_struct(call->arena, list);
        moat_set_str(call->arena, p, IAM_ATTACHED_POLICY_POLICY_NAME,
                     moat_map_str(m.rec, "PolicyName"));
        moat_set_str(call->arena, p, IAM_ATTACHED_POLICY_POLICY_ARN, moat_map_str(m.rec, "Arn"));
    }
    return NULL;
}

static void boundary(struct moat_call *call, struct moat_value *o, unsigned member,
                     const struct moat_value *rec)
{
    struct moat_slice pb = moat_map_str(rec, "PermissionsBoundary");
    if (!pb.len)
        return;
    struct moat_value *b = moat_set_struct(call->arena, o, member);
    moat_set_cstr(call->arena, b, IAM_ATTACHED_PERMISSIONS_BOUNDARY_PERMISSIONS_BOUNDARY_TYPE,
                  "PermissionsBoundaryPolicy");
    moat_set_str(call->arena, b, IAM_ATTACHED_PERMISSIONS_BOUNDARY_PERMISSIONS_BOUNDARY_ARN, pb);
}

static struct moat_error *user_detail(struct moat_call *call, struct moat_value *o,
                                      const struct moat_value *rec)
{
    struct moat_arena *a = call->arena;
    moat_set_str(a, o, IAM_USER_DETAIL_PATH, moat_map_str(rec, "Path"));
    moat_set_str(a, o, IAM_USER_DETAIL_USER_NAME, moat_map_str(rec, "UserName"));
    moat_set_str(a, o, IAM_USER_DETAIL_USER_ID, moat_map_str(rec, "UserId"));
    moat_set_str(a, o, IAM_USER_DETAIL_ARN, moat_map_str(rec, "Arn"));
    moat_set_ts(a, o, IAM_USER_DETAIL_CREATE_DATE, moat_map_int(rec, "CreateDate", 0));
    inline_list(call, o, IAM_USER_DETAIL_USER_POLICY_LIST, rec);
    struct moat_value *groups = moat_set_list(a, o, IAM_USER_DETAIL_GROUP_LIST);
    struct moat_value *g = moat_map_get(rec, "Groups");
    for (uint32_t i = 0; g && g->type == MOAT_V_LIST && i < g->count; i++)
        moat_list_add_str(a, groups, g->u.items[i]->u.s);
    boundary(call, o, IAM_USER_DETAIL_PERMISSIONS_BOUNDARY, rec);
    iam_tags_output(call, o, IAM_USER_DETAIL_TAGS, rec);
    return attached_list(call, o, IAM_USER_DETAIL_ATTACHED_MANAGED_POLICIES, rec);
}

static struct moat_error *group_detail(struct moat_call *call, struct moat_value *o,
                                       const struct moat_value *rec)
{
    struct moat_arena *a = call->arena;
    moat_set_str(a, o, IAM_GROUP_DETAIL_PATH, moat_map_str(rec, "Path"));
    moat_set_str(a, o, IAM_GROUP_DETAIL_GROUP_NAME, moat_map_str(rec, "GroupName"));
    moat_set_str(a, o, IAM_GROUP_DETAIL_GROUP_ID, moat_map_str(rec, "GroupId"));
    moat_set_str(a, o, IAM_GROUP_DETAIL_ARN, moat_map_str(rec, "Arn"));
    moat_set_ts(a, o, IAM_GROUP_DETAIL_CREATE_DATE, moat_map_int(rec, "CreateDate", 0));
    inline_list(call, o, IAM_GROUP_DETAIL_GROUP_POLICY_LIST, rec);
    return attached_list(call, o, IAM_GROUP_DETAIL_ATTACHED_MANAGED_POLICIES, rec);
}

static struct moat_error *role_detail(struct moat_call *call, struct moat_value *o,
                                      const struct moat_value *rec)
{
    struct moat_arena *a = call->arena;
    moat_set_str(a, o, IAM_ROLE_DETAIL_PATH, moat_map_str(rec, "Path"));
    moat_set_str(a, o, IAM_ROLE_DETAIL_ROLE_NAME, moat_map_str(rec, "RoleName"));
    moat_set_str(a, o, IAM_ROLE_DETAIL_ROLE_ID, moat_map_str(rec, "RoleId"));
    moat_set_str(a, o, IAM_ROLE_DETAIL_ARN, moat_map_str(rec, "Arn"));
    moat_set_ts(a, o, IAM_ROLE_DETAIL_CREATE_DATE, moat_map_int(rec, "CreateDate", 0));
    moat_set_str(a, o, IAM_ROLE_DETAIL_ASSUME_ROLE_POLICY_DOCUMENT,
                 iam_url_encode(a, moat_map_str(rec, "AssumeRolePolicyDocument")));
    moat_set_list(a, o, IAM_ROLE_DETAIL_INSTANCE_PROFILE_LIST);
    inline_list(call, o, IAM_ROLE_DETAIL_ROLE_POLICY_LIST, rec);
    boundary(call, o, IAM_ROLE_DETAIL_PERMISSIONS_BOUNDARY, rec);
    iam_tags_output(call, o, IAM_ROLE_DETAIL_TAGS, rec);
    struct moat_value *lu = moat_set_struct(a, o, IAM_ROLE_DETAIL_ROLE_LAST_USED);
    int64_t last = moat_map_int(rec, "LastUsedDate", 0);
    if (last) {
        moat_set_ts(a, lu, IAM_ROLE_LAST_USED_LAST_USED_DATE, last);
        moat_set_str(a, lu, IAM_ROLE_LAST_USED_REGION, moat_map_str(rec, "LastUsedRegion"));
    }
    return attached_list(call, o, IAM_ROLE_DETAIL_ATTACHED_MANAGED_POLICIES, rec);
}

static struct moat_error *policy_detail(struct moat_call *call, struct moat_value *o,
                                        const struct moat_value *rec)
{
    struct moat_arena *a = call->arena;
    struct moat_slice arn = moat_map_str(rec, "Arn");
    int64_t attached = 0, bounded = 0;
    struct moat_error *err = iam_attachment_count(call, iam_account(call), arn, "P", &attached);
    if (!err)
        err = iam_attachment_count(call, iam_account(call), arn, "B", &bounded);
    if (err)
        return err;
    moat_set_str(a, o, IAM_MANAGED_POLICY_DETAIL_POLICY_NAME, moat_map_str(rec, "PolicyName"));
    moat_set_str(a, o, IAM_MANAGED_POLICY_DETAIL_POLICY_ID, moat_map_str(rec, "PolicyId"));
    moat_set_str(a, o, IAM_MANAGED_POLICY_DETAIL_ARN, arn);
    moat_set_str(a, o, IAM_MANAGED_POLICY_DETAIL_PATH, moat_map_str(rec, "Path"));
    struct moat_slice def = moat_map_str(rec, "DefaultVersionId");
    moat_set_str(a, o, IAM_MANAGED_POLICY_DETAIL_DEFAULT_VERSION_ID, def);
    moat_set_int(a, o, IAM_MANAGED_POLICY_DETAIL_ATTACHMENT_COUNT, attached);
    moat_set_int(a, o, IAM_MANAGED_POLICY_DETAIL_PERMISSIONS_BOUNDARY_USAGE_COUNT, bounded);
    moat_set_bool(a, o, IAM_MANAGED_POLICY_DETAIL_IS_ATTACHABLE, true);
    struct moat_slice desc = moat_map_str(rec, "Description");
    if (desc.len)
        moat_set_str(a, o, IAM_MANAGED_POLICY_DETAIL_DESCRIPTION, desc);
    moat_set_ts(a, o, IAM_MANAGED_POLICY_DETAIL_CREATE_DATE, moat_map_int(rec, "CreateDate", 0));
    moat_set_ts(a, o, IAM_MANAGED_POLICY_DETAIL_UPDATE_DATE, moat_map_int(rec, "UpdateDate", 0));
    struct moat_value *list = moat_set_list(a, o, IAM_MANAGED_POLICY_DETAIL_POLICY_VERSION_LIST);
    struct moat_value *versions = moat_map_get(rec, "Versions");
    for (uint32_t i = 0; versions && versions->type == MOAT_V_LIST && i < versions->count; i++) {
        const struct moat_value *v = versions->u.items[i];
        struct moat_value *pv = moat_list_add_struct(a, list);
        moat_set_str(a, pv, IAM_POLICY_VERSION_DOCUMENT,
                     iam_url_encode(a, moat_map_str(v, "Document")));
        moat_set_str(a, pv, IAM_POLICY_VERSION_VERSION_ID, moat_map_str(v, "VersionId"));
        moat_set_bool(a, pv, IAM_POLICY_VERSION_IS_DEFAULT_VERSION,
                      moat_slice_eq(moat_map_str(v, "VersionId"), def));
        moat_set_ts(a, pv, IAM_POLICY_VERSION_CREATE_DATE, moat_map_int(v, "CreateDate", 0));
    }
    return NULL;
}

/* One pass over the account in a fixed order (users, groups, roles, customer policies,
 * attached AWS managed policies); the marker is the position reached. */
struct details {
    struct moat_call *call;
    struct moat_value *out;
    size_t skip, max, seen, shown;
    bool truncated;
};

static bool details_take(struct details *d)
{
    if (d->seen++ < d->skip)
        return false;
    if (d->shown == d->max) {
        d->truncated = true;
        return false;
    }
    d->shown++;
    return true;
}

static struct moat_error *details_scan(struct details *d, const char *ns, unsigned member,
                                       struct moat_error *(*fill)(struct moat_call *,
                                                                  struct moat_value *,
                                                                  const struct moat_value *))
{
    struct moat_call *call = d->call;
    struct moat_value *list = moat_get(d->out, member);
    struct moat_slice prefix =
        moat_slice_cstr(moat_arena_printf(call->arena, "%s/", call->account_id));
    struct moat_slice after = MOAT_NULL_SLICE;
    bool more = true;
    while (more && !d->truncated) {
        struct store_record *recs;
        size_t n;
        if (store_scan(call->db, call->arena, ns, prefix, after, 200, &recs, &n, &more) != STORE_OK)
            return moat_internal(call, "store scan failed");
        for (size_t i = 0; i < n && !d->truncated; i++) {
            if (!details_take(d))
                continue;
            struct moat_value *rec;
            if (!moat_json_parse(call->arena, recs[i].value, 0, &rec, NULL))
                return moat_internal(call, "stored IAM record is not JSON");
            struct moat_error *err = fill(call, moat_list_add_struct(call->arena, list), rec);
            if (err)
                return err;
        }
        if (n)
            after = recs[n - 1].key;
    }
    return NULL;
}

static bool filter_has(const struct moat_value *filter, const char *what)
{
    if (!filter || !filter->count)
        return true;
    return iam_list_has(filter, moat_slice_cstr(what), false);
}

struct moat_error *iam_get_account_authorization_details(struct moat_call *call,
                                                         const struct moat_value *in,
                                                         struct moat_value *out)
{
    struct iam_page page;
    struct moat_error *err =
        iam_page_begin(call, in, IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS_REQUEST_MARKER,
                       IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS_REQUEST_MAX_ITEMS, &page);
    if (err)
        return err;
    uint64_t skip = 0;
    if (page.after.len && !moat_slice_to_u64(page.after, &skip))
        return moat_fail(call, &iam_invalid_input, "Invalid Marker.");
    struct details d = {call, out, (size_t)skip, page.max_items, 0, 0, false};
    const struct moat_value *filter =
        moat_get(in, IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS_REQUEST_FILTER);
    /* Every list is in the answer, empty when filtered out. */
    moat_set_list(call->arena, out,
                  IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS_RESPONSE_USER_DETAIL_LIST);
    moat_set_list(call->arena, out,
                  IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS_RESPONSE_GROUP_DETAIL_LIST);
    moat_set_list(call->arena, out,
                  IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS_RESPONSE_ROLE_DETAIL_LIST);
    moat_set_list(call->arena, out, IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS_RESPONSE_POLICIES);
    if (filter_has(filter, "User") &&
        (err = details_scan(&d, IAM_NS_USER,
                            IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS_RESPONSE_USER_DETAIL_LIST,
                            user_detail)))
        return err;
    if (filter_has(filter, "Group") &&
        (err = details_scan(&d, IAM_NS_GROUP,
                            IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS_RESPONSE_GROUP_DETAIL_LIST,
                            group_detail)))
        return err;
    if (filter_has(filter, "Role") &&
        (err = details_scan(&d, IAM_NS_ROLE,
                            IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS_RESPONSE_ROLE_DETAIL_LIST,
                            role_detail)))
        return err;
    if (filter_has(filter, "LocalManagedPolicy") &&
        (err =
             details_scan(&d, IAM_NS_POLICY,
                          IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS_RESPONSE_POLICIES, policy_detail)))
        return err;
    struct moat_value *policies =
        moat_get(out, IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS_RESPONSE_POLICIES);
    if (filter_has(filter, "AWSManagedPolicy")) {
        /* AWS managed policies in use in the account. */
        size_t n;
        const struct iam_aws_policy *aws = iam_aws_policies(&n);
        for (size_t i = 0; i < n && !d.truncated; i++) {
            struct moat_slice arn = moat_slice_cstr(moat_arena_printf(
                call->arena, "arn:aws:iam::aws:policy%s%s", aws[i].path, aws[i].name));
            int64_t used = 0;
            if ((err = iam_attachment_count(call, iam_account(call), arn, "", &used)))
                return err;
            if (!used || !details_take(&d))
                continue;
            struct iam_managed m;
            bool found;
            if ((err = iam_managed_find(call, iam_account(call), arn, &m, &found)))
                return err;
            if (found &&
                (err = policy_detail(call, moat_list_add_struct(call->arena, policies), m.rec)))
                return err;
        }
    }
    char next[24];
    snprintf(next, sizeof(next), "%zu", d.skip + d.shown);
    iam_page_end(call, out, IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS_RESPONSE_IS_TRUNCATED,
                 IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS_RESPONSE_MARKER, d.truncated,
                 moat_arena_dup(call->arena, moat_slice_cstr(next)));
    return NULL;
}

/* ---- GetAccountSummary -------------------------------------------------------------------------
 */

static struct moat_error *count(struct moat_call *call, const char *ns, int64_t *n)
{
    return iam_record_count(
        call, ns, moat_slice_cstr(moat_arena_printf(call->arena, "%s/", call->account_id)), n);
}

static void entry(struct moat_call *call, struct moat_value *map, const char *key, int64_t v)
{
    moat_map_set(call->arena, map, moat_slice_cstr(key), moat_value_int(call->arena, v));
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountSummary.html; the
 * quotas are IAM's defaults (IAM User Guide, "IAM and AWS STS quotas"). */
struct moat_error *iam_get_account_summary(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out)
{
    int64_t users = 0, groups = 0, roles = 0, policies = 0, mfa = 0;
    struct moat_error *err;
    if ((err = count(call, IAM_NS_USER, &users)) || (err = count(call, IAM_NS_GROUP, &groups)) ||
        (err = count(call, IAM_NS_ROLE, &roles)) || (err = count(call, IAM_NS_POLICY, &policies)) ||
        (err = count(call, IAM_NS_MFA, &mfa)))
        return err;
    struct moat_value *map =
        moat_set_map(call->arena, out, IAM_GET_ACCOUNT_SUMMARY_RESPONSE_SUMMARY_MAP);
    struct store_record r;
    struct moat_value *acct;
    bool root_key =
        store_get(call->db, call->arena, AUTH_NS_ACCOUNT, iam_account(call), &r) == STORE_OK &&
        moat_json_parse(call->arena, r.value, 0, &acct, NULL) &&
        moat_map_str(acct, "RootAccessKeyId").len > 0;
    entry(call, map, "Users", users);
    entry(call, map, "UsersQuota", 5000);
    entry(call, map, "Groups", groups);
    entry(call, map, "GroupsQuota", 300);
    entry(call, map, "Roles", roles);
    entry(call, map, "RolesQuota", 1000);
    entry(call, map, "Policies", policies);
    entry(call, map, "PoliciesQuota", 1500);
    entry(call, map, "MFADevices", mfa);
    entry(call, map, "AccountMFAEnabled", 0);
    entry(call, map, "AccountAccessKeysPresent", root_key ? 1 : 0);
    entry(call, map, "AccessKeysPerUserQuota", 2);
    entry(call, map, "AttachedPoliciesPerUserQuota", 10);
    entry(call, map, "AttachedPoliciesPerGroupQuota", 10);
    entry(call, map, "AttachedPoliciesPerRoleQuota", 10);
    entry(call, map, "GroupsPerUserQuota", 10);
    entry(call, map, "UserPolicySizeQuota", 2048);
    entry(call, map, "GroupPolicySizeQuota", 5120);
    entry(call, map, "RolePolicySizeQuota", 10240);
    entry(call, map, "PolicySizeQuota", 6144);
    entry(call, map, "AssumeRolePolicySizeQuota", 2048);
    entry(call, map, "VersionsPerPolicyQuota", 5);
    entry(call, map, "ServerCertificates", 0);
    entry(call, map, "ServerCertificatesQuota", 20);
    entry(call, map, "InstanceProfiles", 0);
    entry(call, map, "InstanceProfilesQuota", 1000);
    entry(call, map, "Providers", 0);
    entry(call, map, "SigningCertificatesPerUserQuota", 2);
    entry(call, map, "AccountSigningCertificatesPresent", 0);
    return NULL;
}

/* ---- the account alias
 * ---------------------------------------------------------------------------- */

/* An account has at most one alias, unique across accounts; a new one replaces it.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccountAlias.html */
struct moat_error *iam_create_account_alias(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out)
{
    struct moat_slice alias = moat_get_str(in, IAM_CREATE_ACCOUNT_ALIAS_REQUEST_ACCOUNT_ALIAS);
    struct moat_value *owner, *mine;
    bool found, have;
    struct moat_error *err = iam_record_get(call, IAM_NS_ALIAS_NAME, alias, &owner, NULL, &found);
    if (err)
        return err;
    if (found) {
        if (moat_slice_eq(moat_map_str(owner, "AccountId"), iam_account(call)))
            return NULL;
        return moat_fail(call, &iam_entity_already_exists, "The account alias %.*s already exists.",
                         MOAT_FMT(alias));
    }
    int64_t version;
    if ((err = iam_record_get(call, IAM_NS_ALIAS, iam_account(call), &mine, &version, &have)))
        return err;
    if (have && (err = iam_record_delete(call, IAM_NS_ALIAS_NAME, moat_map_str(mine, "Alias"))))
        return err;
    struct moat_value *rec = moat_value_map(call->arena);
    moat_map_set_str(call->arena, rec, "Alias", alias);
    struct moat_value *name = moat_value_map(call->arena);
    moat_map_set_str(call->arena, name, "AccountId", iam_account(call));
    if ((err = iam_record_put(call, IAM_NS_ALIAS, iam_account(call), rec,
                              have ? version : STORE_MUST_NOT_EXIST)))
        return err;
    return iam_record_put(call, IAM_NS_ALIAS_NAME, alias, name, STORE_MUST_NOT_EXIST);
}

struct moat_error *iam_list_account_aliases(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out)
{
    struct moat_value *rec;
    bool found;
    struct moat_error *err =
        iam_record_get(call, IAM_NS_ALIAS, iam_account(call), &rec, NULL, &found);
    if (err)
        return err;
    struct moat_value *list =
        moat_set_list(call->arena, out, IAM_LIST_ACCOUNT_ALIASES_RESPONSE_ACCOUNT_ALIASES);
    if (found)
        moat_list_add_str(call->arena, list, moat_map_str(rec, "Alias"));
    moat_set_bool(call->arena, out, IAM_LIST_ACCOUNT_ALIASES_RESPONSE_IS_TRUNCATED, false);
    return NULL;
}

struct moat_error *iam_delete_account_alias(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out)
{
    struct moat_slice alias = moat_get_str(in, IAM_DELETE_ACCOUNT_ALIAS_REQUEST_ACCOUNT_ALIAS);
    struct moat_value *rec;
    bool found;
    struct moat_error *err =
        iam_record_get(call, IAM_NS_ALIAS, iam_account(call), &rec, NULL, &found);
    if (err)
        return err;
    if (!found || !moat_slice_eq(moat_map_str(rec, "Alias"), alias))
        return moat_fail(call, &iam_no_such_entity, "The account alias %.*s cannot be found.",
                         MOAT_FMT(alias));
    if ((err = iam_record_delete(call, IAM_NS_ALIAS, iam_account(call))))
        return err;
    return iam_record_delete(call, IAM_NS_ALIAS_NAME, alias);
}

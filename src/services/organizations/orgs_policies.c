/* orgs_policies.c: service control policies: the AWS managed FullAWSAccess, customer
 * policies validated as SCPs, attachment to the root, OUs and accounts, and enabling
 * the policy type (which attaches FullAWSAccess everywhere, as AWS does).
 * https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html */
#include "aws/shapes/shapes_organizations.h"
#include "iam/iam_policy.h"
#include "services/iam/iam.h"
#include "services/organizations/orgs.h"

#include <string.h>

#define ORGS_MAX_SCPS_PER_TARGET 5

static const char full_access_content[] =
    "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n"
    "      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}";

static struct moat_value *full_access_record(struct moat_arena *a)
{
    struct moat_value *rec = moat_value_map(a);
    moat_map_set_cstr(a, rec, "Id", ORGS_FULL_ACCESS_ID);
    moat_map_set_cstr(a, rec, "Name", "FullAWSAccess");
    moat_map_set_cstr(a, rec, "Description", "Allows access to every operation");
    moat_map_set_cstr(a, rec, "Type", ORGS_SCP);
    moat_map_set_bool(a, rec, "AwsManaged", true);
    moat_map_set_cstr(a, rec, "Content", full_access_content);
    return rec;
}

struct moat_slice orgs_policy_content(struct moat_call *call, struct moat_slice id)
{
    if (moat_slice_eq_cstr(id, ORGS_FULL_ACCESS_ID))
        return moat_slice(full_access_content, sizeof(full_access_content) - 1);
    struct moat_value *rec;
    bool found;
    if (orgs_get(call, ORGS_NS_POLICY, id, &rec, NULL, &found) || !found)
        return MOAT_NULL_SLICE;
    return moat_map_str(rec, "Content");
}

static struct moat_error *policy_not_found(struct moat_call *call)
{
    return moat_fail(call, &orgs_policy_not_found,
                     "We can't find a policy with the PolicyId that you specified.");
}

static struct moat_error *load_policy(struct moat_call *call, const struct orgs_org *org,
                                      struct moat_slice id, struct moat_value **rec,
                                      int64_t *version)
{
    if (moat_slice_eq_cstr(id, ORGS_FULL_ACCESS_ID)) {
        *rec = full_access_record(call->arena);
        if (version)
            *version = 0;
        return NULL;
    }
    bool found;
    struct moat_error *err = orgs_get(call, ORGS_NS_POLICY, id, rec, version, &found);
    if (err)
        return err;
    if (!found || !moat_slice_eq(moat_map_str(*rec, "OrgId"), org->id))
        return policy_not_found(call);
    return NULL;
}

static void fill_summary(struct moat_call *call, struct moat_value *o, const struct orgs_org *org,
                         const struct moat_value *rec)
{
    struct moat_arena *a = call->arena;
    bool aws = moat_map_bool(rec, "AwsManaged", false);
    struct moat_slice id = moat_map_str(rec, "Id"), type = moat_map_str(rec, "Type");
    moat_set_str(a, o, ORGANIZATIONS_POLICY_SUMMARY_ID, id);
    moat_set_str(a, o, ORGANIZATIONS_POLICY_SUMMARY_ARN, orgs_policy_arn(a, org, id, type, aws));
    moat_set_str(a, o, ORGANIZATIONS_POLICY_SUMMARY_NAME, moat_map_str(rec, "Name"));
    moat_set_str(a, o, ORGANIZATIONS_POLICY_SUMMARY_DESCRIPTION, moat_map_str(rec, "Description"));
    moat_set_str(a, o, ORGANIZATIONS_POLICY_SUMMARY_TYPE, type);
    moat_set_bool(a, o, ORGANIZATIONS_POLICY_SUMMARY_AWS_MANAGED, aws);
}

static void fill_policy(struct moat_call *call, struct moat_value *o, const struct orgs_org *org,
                        const struct moat_value *rec)
{
    fill_summary(call, moat_set_struct(call->arena, o, ORGANIZATIONS_POLICY_POLICY_SUMMARY), org,
                 rec);
    moat_set_str(call->arena, o, ORGANIZATIONS_POLICY_CONTENT, moat_map_str(rec, "Content"));
}

static struct moat_error *constraint(struct moat_call *call, const char *reason,
                                     const char *message)
{
    struct moat_error *e = moat_fail(call, &orgs_constraint_violation, "%s", message);
    moat_error_add_extra(call->arena, e, "Reason", moat_slice_cstr(reason));
    return e;
}

/* moat enforces service control policies; the other Organizations policy types (tag,
 * backup, AI opt-out, resource control...) are refused rather than stored unenforced. */
static struct moat_error *check_type(struct moat_call *call, struct moat_slice type)
{
    if (moat_slice_eq_cstr(type, ORGS_SCP))
        return NULL;
    return moat_fail(call, &orgs_policy_type_not_available,
                     "The policy type %.*s is not supported by this endpoint; it supports "
                     "SERVICE_CONTROL_POLICY.",
                     MOAT_FMT(type));
}

static struct moat_error *check_content(struct moat_call *call, struct moat_slice content)
{
    struct iam_policy *pol;
    struct iam_policy_diag diag;
    enum iam_policy_status st = iam_policy_compile(IAM_POLICY_SCP, content, 0, &pol, &diag);
    if (st == IAM_POLICY_OK) {
        iam_policy_unref(pol);
        return NULL;
    }
    if (st == IAM_POLICY_LIMIT_EXCEEDED)
        return constraint(call, "POLICY_CONTENT_LIMIT_EXCEEDED",
                          "You attempted to create or update a policy with content that exceeds "
                          "the policy content size limit.");
    return moat_fail(call, &orgs_malformed_policy, "%s", diag.message);
}

/* A name used by another policy of the same type. */
static struct moat_error *name_taken(struct moat_call *call, const struct orgs_org *org,
                                     struct moat_slice name, struct moat_slice type,
                                     struct moat_slice except, bool *taken)
{
    *taken = moat_slice_eq_cstr(name, "FullAWSAccess");
    struct store_record *recs;
    size_t n;
    bool more = true;
    struct moat_slice after = MOAT_NULL_SLICE;
    while (more && !*taken) {
        if (store_scan(call->db, call->arena, ORGS_NS_POLICY, MOAT_NULL_SLICE, after, 200, &recs,
                       &n, &more) != STORE_OK)
            return moat_internal(call, "store scan failed");
        for (size_t i = 0; i < n; i++) {
            struct moat_value *rec;
            bool found;
            struct moat_error *err =
                orgs_get(call, ORGS_NS_POLICY, recs[i].key, &rec, NULL, &found);
            if (err)
                return err;
            if (found && moat_slice_eq(moat_map_str(rec, "OrgId"), org->id) &&
                !moat_slice_eq(recs[i].key, except) &&
                moat_slice_eq(moat_map_str(rec, "Type"), type) &&
                moat_slice_eq(moat_map_str(rec, "Name"), name))
                *taken = true;
        }
        if (n)
            after = recs[n - 1].key;
    }
    return NULL;
}

struct moat_error *orgs_create_policy(struct moat_call *call, const struct moat_value *in,
                                      struct moat_value *out)
{
    iam_begin_change(call);
    struct moat_arena *a = call->arena;
    struct orgs_org org;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (err)
        return err;
    struct moat_slice type = moat_get_str(in, ORGANIZATIONS_CREATE_POLICY_REQUEST_TYPE);
    struct moat_slice name = moat_get_str(in, ORGANIZATIONS_CREATE_POLICY_REQUEST_NAME);
    struct moat_slice content = moat_get_str(in, ORGANIZATIONS_CREATE_POLICY_REQUEST_CONTENT);
    bool taken;
    if ((err = check_type(call, type)) || (err = check_content(call, content)) ||
        (err = name_taken(call, &org, name, type, MOAT_NULL_SLICE, &taken)))
        return err;
    if (taken)
        return moat_fail(call, &orgs_duplicate_policy,
                         "A policy with the same name already exists.");
    struct moat_slice id = orgs_new_id(a, "p-", 8);
    struct moat_value *rec = moat_value_map(a);
    moat_map_set_str(a, rec, "Id", id);
    moat_map_set_str(a, rec, "Name", name);
    moat_map_set_str(a, rec, "Description",
                     moat_get_str(in, ORGANIZATIONS_CREATE_POLICY_REQUEST_DESCRIPTION));
    moat_map_set_str(a, rec, "Type", type);
    moat_map_set_bool(a, rec, "AwsManaged", false);
    moat_map_set_str(a, rec, "Content", content);
    moat_map_set_str(a, rec, "OrgId", org.id);
    if ((err =
             orgs_tags_apply(call, rec, moat_get(in, ORGANIZATIONS_CREATE_POLICY_REQUEST_TAGS))) ||
        (err = orgs_put(call, ORGS_NS_POLICY, id, rec, STORE_MUST_NOT_EXIST)))
        return err;
    fill_policy(call, moat_set_struct(a, out, ORGANIZATIONS_CREATE_POLICY_RESPONSE_POLICY), &org,
                rec);
    return NULL;
}

struct moat_error *orgs_describe_policy(struct moat_call *call, const struct moat_value *in,
                                        struct moat_value *out)
{
    struct orgs_org org;
    struct moat_value *rec;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = load_policy(call, &org,
                          moat_get_str(in, ORGANIZATIONS_DESCRIBE_POLICY_REQUEST_POLICY_ID), &rec,
                          NULL);
    if (err)
        return err;
    fill_policy(call,
                moat_set_struct(call->arena, out, ORGANIZATIONS_DESCRIBE_POLICY_RESPONSE_POLICY),
                &org, rec);
    return NULL;
}

static struct moat_error *aws_managed(struct moat_call *call)
{
    struct moat_error *e = moat_fail(call, &orgs_invalid_input,
                                     "You specified a policy that is managed by AWS and can't be "
                                     "modified.");
    moat_error_add_extra(call->arena, e, "Reason", MOAT_LIT("IMMUTABLE_POLICY"));
    return e;
}

struct moat_error *orgs_update_policy(struct moat_call *call, const struct moat_value *in,
                                      struct moat_value *out)
{
    iam_begin_change(call);
    struct orgs_org org;
    struct moat_value *rec;
    int64_t version;
    struct moat_slice id = moat_get_str(in, ORGANIZATIONS_UPDATE_POLICY_REQUEST_POLICY_ID);
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = load_policy(call, &org, id, &rec, &version);
    if (err)
        return err;
    if (moat_map_bool(rec, "AwsManaged", false))
        return aws_managed(call);
    struct moat_slice name = moat_get_str(in, ORGANIZATIONS_UPDATE_POLICY_REQUEST_NAME);
    struct moat_slice content = moat_get_str(in, ORGANIZATIONS_UPDATE_POLICY_REQUEST_CONTENT);
    if (name.len) {
        bool taken;
        if ((err = name_taken(call, &org, name, moat_map_str(rec, "Type"), id, &taken)))
            return err;
        if (taken)
            return moat_fail(call, &orgs_duplicate_policy,
                             "A policy with the same name already exists.");
        moat_map_set_str(call->arena, rec, "Name", name);
    }
    if (content.len) {
        if ((err = check_content(call, content)))
            return err;
        moat_map_set_str(call->arena, rec, "Content", content);
    }
    if (moat_has(in, ORGANIZATIONS_UPDATE_POLICY_REQUEST_DESCRIPTION))
        moat_map_set_str(call->arena, rec, "Description",
                         moat_get_str(in, ORGANIZATIONS_UPDATE_POLICY_REQUEST_DESCRIPTION));
    if ((err = orgs_put(call, ORGS_NS_POLICY, id, rec, version)))
        return err;
    fill_policy(call,
                moat_set_struct(call->arena, out, ORGANIZATIONS_UPDATE_POLICY_RESPONSE_POLICY),
                &org, rec);
    return NULL;
}

struct moat_error *orgs_delete_policy(struct moat_call *call, const struct moat_value *in,
                                      struct moat_value *out)
{
    iam_begin_change(call);
    struct orgs_org org;
    struct moat_value *rec;
    struct moat_slice id = moat_get_str(in, ORGANIZATIONS_DELETE_POLICY_REQUEST_POLICY_ID);
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = load_policy(call, &org, id, &rec, NULL);
    if (err)
        return err;
    if (moat_map_bool(rec, "AwsManaged", false))
        return aws_managed(call);
    int64_t n = 0;
    if (store_count(call->db, ORGS_NS_TARGET,
                    moat_slice_cstr(moat_arena_printf(call->arena, "%.*s|", MOAT_FMT(id))),
                    &n) != STORE_OK)
        return moat_internal(call, "store count failed");
    if (n)
        return moat_fail(call, &orgs_policy_in_use,
                         "The policy is attached to one or more entities. You must detach it from "
                         "all roots, OUs, and accounts before performing this operation.");
    return orgs_delete(call, ORGS_NS_POLICY, id);
}

struct policy_list {
    const struct orgs_org *org;
    struct moat_value *list;
    struct moat_slice type;
    struct moat_slice prefix; /* attachment index prefix (ListPoliciesForTarget) */
};

static bool policy_fn(struct moat_call *call, const struct store_record *r, void *arg, bool add)
{
    struct policy_list *pl = arg;
    struct moat_slice id =
        pl->prefix.len ? moat_slice_sub(r->key, pl->prefix.len, r->key.len) : r->key;
    struct moat_value *rec;
    if (moat_slice_eq_cstr(id, ORGS_FULL_ACCESS_ID)) {
        rec = full_access_record(call->arena);
    } else {
        bool found;
        if (orgs_get(call, ORGS_NS_POLICY, id, &rec, NULL, &found) || !found ||
            !moat_slice_eq(moat_map_str(rec, "OrgId"), pl->org->id))
            return false;
    }
    if (!moat_slice_eq(moat_map_str(rec, "Type"), pl->type))
        return false;
    if (add)
        fill_summary(call, moat_list_add_struct(call->arena, pl->list), pl->org, rec);
    return true;
}

struct moat_error *orgs_list_policies(struct moat_call *call, const struct moat_value *in,
                                      struct moat_value *out)
{
    struct orgs_org org;
    struct orgs_page page;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = orgs_page_begin(call, in, ORGANIZATIONS_LIST_POLICIES_REQUEST_NEXT_TOKEN,
                              ORGANIZATIONS_LIST_POLICIES_REQUEST_MAX_RESULTS, &page);
    if (err)
        return err;
    struct policy_list pl = {
        &org, moat_set_list(call->arena, out, ORGANIZATIONS_LIST_POLICIES_RESPONSE_POLICIES),
        moat_get_str(in, ORGANIZATIONS_LIST_POLICIES_REQUEST_FILTER), MOAT_NULL_SLICE};
    /* FullAWSAccess comes first, on the first page. */
    if (!page.after.len && moat_slice_eq_cstr(pl.type, ORGS_SCP)) {
        fill_summary(call, moat_list_add_struct(call->arena, pl.list), &org,
                     full_access_record(call->arena));
        if (page.max > 1)
            page.max--;
    }
    bool truncated;
    struct moat_slice last;
    if ((err = orgs_scan(call, ORGS_NS_POLICY, MOAT_NULL_SLICE, &page, policy_fn, &pl, &truncated,
                         &last)))
        return err;
    orgs_page_end(call, out, ORGANIZATIONS_LIST_POLICIES_RESPONSE_NEXT_TOKEN, truncated, last);
    return NULL;
}

/* The kind, ARN and name of a target (root, OU or account) of the organization. */
struct target {
    enum orgs_kind kind;
    struct moat_slice id, arn, name;
};

static struct moat_error *load_target(struct moat_call *call, const struct orgs_org *org,
                                      struct moat_slice id, struct target *t)
{
    t->id = id;
    t->kind = orgs_kind_of(id);
    struct moat_value *rec;
    bool found = false;
    struct moat_error *err = NULL;
    if (t->kind == ORGS_ROOT && moat_slice_eq(id, org->root_id)) {
        t->arn = orgs_arn(call->arena, org, "root", id);
        t->name = MOAT_LIT("Root");
        return NULL;
    }
    if (t->kind == ORGS_OU) {
        err = orgs_get(call, ORGS_NS_OU, id, &rec, NULL, &found);
        found = found && moat_slice_eq(moat_map_str(rec, "OrgId"), org->id);
    } else if (t->kind == ORGS_ACCOUNT) {
        err = orgs_member(call, org, id, &rec, NULL, &found);
    }
    if (err)
        return err;
    if (!found)
        return moat_fail(call, &orgs_target_not_found,
                         "We can't find a root, OU, account, or email that you specified.");
    t->arn = moat_map_str(rec, "Arn");
    t->name = moat_map_str(rec, "Name");
    return NULL;
}

/* Number of policies of a type attached to a target. */
static struct moat_error *attached_count(struct moat_call *call, struct moat_slice target,
                                         struct moat_slice type, size_t *count)
{
    struct moat_slice prefix =
        moat_slice_cstr(moat_arena_printf(call->arena, "%.*s|", MOAT_FMT(target)));
    struct store_record *recs;
    size_t n;
    bool more;
    *count = 0;
    if (store_scan(call->db, call->arena, ORGS_NS_ATTACH, prefix, MOAT_NULL_SLICE, 1000, &recs, &n,
                   &more) != STORE_OK)
        return moat_internal(call, "store scan failed");
    for (size_t i = 0; i < n; i++) {
        struct moat_value *rec;
        bool found;
        struct moat_error *err = orgs_get(call, ORGS_NS_ATTACH, recs[i].key, &rec, NULL, &found);
        if (err)
            return err;
        if (found && moat_slice_eq(moat_map_str(rec, "Type"), type))
            (*count)++;
    }
    return NULL;
}

static struct moat_error *is_attached(struct moat_call *call, struct moat_slice policy,
                                      struct moat_slice target, bool *yes)
{
    struct moat_value *rec;
    return orgs_get(call, ORGS_NS_ATTACH,
                    moat_slice_cstr(moat_arena_printf(call->arena, "%.*s|%.*s", MOAT_FMT(target),
                                                      MOAT_FMT(policy))),
                    &rec, NULL, yes);
}

struct moat_error *orgs_attach_policy(struct moat_call *call, const struct moat_value *in,
                                      struct moat_value *out)
{
    iam_begin_change(call);
    struct orgs_org org;
    struct moat_value *rec;
    struct target t;
    struct moat_slice id = moat_get_str(in, ORGANIZATIONS_ATTACH_POLICY_REQUEST_POLICY_ID);
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = load_policy(call, &org, id, &rec, NULL);
    if (!err)
        err = load_target(call, &org,
                          moat_get_str(in, ORGANIZATIONS_ATTACH_POLICY_REQUEST_TARGET_ID), &t);
    if (err)
        return err;
    struct moat_slice type = moat_map_str(rec, "Type");
    if (!orgs_type_enabled(&org, moat_arena_cstr(call->arena, type)))
        return moat_fail(call, &orgs_policy_type_not_enabled,
                         "This operation can be performed only for enabled policy types.");
    bool attached;
    size_t count;
    if ((err = is_attached(call, id, t.id, &attached)))
        return err;
    if (attached)
        return moat_fail(call, &orgs_duplicate_attachment, "This policy is already attached.");
    if ((err = attached_count(call, t.id, type, &count)))
        return err;
    if (count >= ORGS_MAX_SCPS_PER_TARGET)
        return constraint(call, "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                          "You attempted to exceed the number of policies of a certain type that "
                          "can be attached to an entity.");
    return orgs_attach(call, id, t.id, moat_arena_cstr(call->arena, type), true);
}

struct moat_error *orgs_detach_policy(struct moat_call *call, const struct moat_value *in,
                                      struct moat_value *out)
{
    iam_begin_change(call);
    struct orgs_org org;
    struct moat_value *rec;
    struct target t;
    struct moat_slice id = moat_get_str(in, ORGANIZATIONS_DETACH_POLICY_REQUEST_POLICY_ID);
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = load_policy(call, &org, id, &rec, NULL);
    if (!err)
        err = load_target(call, &org,
                          moat_get_str(in, ORGANIZATIONS_DETACH_POLICY_REQUEST_TARGET_ID), &t);
    if (err)
        return err;
    bool attached;
    size_t count;
    if ((err = is_attached(call, id, t.id, &attached)))
        return err;
    if (!attached)
        return moat_fail(call, &orgs_policy_not_attached,
                         "Could not find the policy in the target.");
    if ((err = attached_count(call, t.id, moat_map_str(rec, "Type"), &count)))
        return err;
    /* Every root, OU and account keeps at least one SCP. */
    if (count <= 1)
        return constraint(call, "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                          "You attempted to detach a policy from an entity that would leave the "
                          "entity with fewer than the minimum number of policies of that type.");
    return orgs_attach(call, id, t.id, ORGS_SCP, false);
}

struct moat_error *orgs_list_policies_for_target(struct moat_call *call,
                                                 const struct moat_value *in,
                                                 struct moat_value *out)
{
    struct orgs_org org;
    struct orgs_page page;
    struct target t;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = orgs_page_begin(call, in, ORGANIZATIONS_LIST_POLICIES_FOR_TARGET_REQUEST_NEXT_TOKEN,
                              ORGANIZATIONS_LIST_POLICIES_FOR_TARGET_REQUEST_MAX_RESULTS, &page);
    if (!err)
        err = load_target(
            call, &org, moat_get_str(in, ORGANIZATIONS_LIST_POLICIES_FOR_TARGET_REQUEST_TARGET_ID),
            &t);
    if (err)
        return err;
    struct policy_list pl = {
        &org,
        moat_set_list(call->arena, out, ORGANIZATIONS_LIST_POLICIES_FOR_TARGET_RESPONSE_POLICIES),
        moat_get_str(in, ORGANIZATIONS_LIST_POLICIES_FOR_TARGET_REQUEST_FILTER),
        moat_slice_cstr(moat_arena_printf(call->arena, "%.*s|", MOAT_FMT(t.id)))};
    bool truncated;
    struct moat_slice last;
    if ((err =
             orgs_scan(call, ORGS_NS_ATTACH, pl.prefix, &page, policy_fn, &pl, &truncated, &last)))
        return err;
    orgs_page_end(call, out, ORGANIZATIONS_LIST_POLICIES_FOR_TARGET_RESPONSE_NEXT_TOKEN, truncated,
                  last);
    return NULL;
}

struct target_list {
    const struct orgs_org *org;
    struct moat_value *list;
    struct moat_slice prefix;
};

static bool target_fn(struct moat_call *call, const struct store_record *r, void *arg, bool add)
{
    struct target_list *tl = arg;
    struct target t;
    struct moat_slice id = moat_slice_sub(r->key, tl->prefix.len, r->key.len);
    if (load_target(call, tl->org, id, &t))
        return false; /* another organization's target of FullAWSAccess */
    if (add) {
        struct moat_value *o = moat_list_add_struct(call->arena, tl->list);
        moat_set_str(call->arena, o, ORGANIZATIONS_POLICY_TARGET_SUMMARY_TARGET_ID, t.id);
        moat_set_str(call->arena, o, ORGANIZATIONS_POLICY_TARGET_SUMMARY_ARN, t.arn);
        moat_set_str(call->arena, o, ORGANIZATIONS_POLICY_TARGET_SUMMARY_NAME, t.name);
        moat_set_cstr(call->arena, o, ORGANIZATIONS_POLICY_TARGET_SUMMARY_TYPE,
                      t.kind == ORGS_ROOT ? "ROOT"
                      : t.kind == ORGS_OU ? "ORGANIZATIONAL_UNIT"
                                          : "ACCOUNT");
    }
    return true;
}

struct moat_error *orgs_list_targets_for_policy(struct moat_call *call, const struct moat_value *in,
                                                struct moat_value *out)
{
    struct orgs_org org;
    struct orgs_page page;
    struct moat_value *rec;
    struct moat_slice id =
        moat_get_str(in, ORGANIZATIONS_LIST_TARGETS_FOR_POLICY_REQUEST_POLICY_ID);
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = orgs_page_begin(call, in, ORGANIZATIONS_LIST_TARGETS_FOR_POLICY_REQUEST_NEXT_TOKEN,
                              ORGANIZATIONS_LIST_TARGETS_FOR_POLICY_REQUEST_MAX_RESULTS, &page);
    if (!err)
        err = load_policy(call, &org, id, &rec, NULL);
    if (err)
        return err;
    struct target_list tl = {
        &org,
        moat_set_list(call->arena, out, ORGANIZATIONS_LIST_TARGETS_FOR_POLICY_RESPONSE_TARGETS),
        moat_slice_cstr(moat_arena_printf(call->arena, "%.*s|", MOAT_FMT(id)))};
    bool truncated;
    struct moat_slice last;
    if ((err =
             orgs_scan(call, ORGS_NS_TARGET, tl.prefix, &page, target_fn, &tl, &truncated, &last)))
        return err;
    orgs_page_end(call, out, ORGANIZATIONS_LIST_TARGETS_FOR_POLICY_RESPONSE_NEXT_TOKEN, truncated,
                  last);
    return NULL;
}

/* ---- policy types -------------------------------------------------------------------------- */

static struct moat_error *load_root(struct moat_call *call, struct orgs_org *org,
                                    struct moat_slice root_id)
{
    struct moat_error *err = orgs_load(call, ORGS_MGMT_ONLY, org);
    if (err)
        return err;
    if (!moat_slice_eq(root_id, org->root_id))
        return moat_fail(call, &orgs_root_not_found,
                         "We can't find a root with the RootId that you specified.");
    return NULL;
}

/* Calls fn for every OU and account of the organization, then the root. */
static struct moat_error *
each_target(struct moat_call *call, const struct orgs_org *org, struct moat_slice parent,
            struct moat_error *(*fn)(struct moat_call *, struct moat_slice, void *), void *arg)
{
    struct moat_slice prefix =
        moat_slice_cstr(moat_arena_printf(call->arena, "%.*s|", MOAT_FMT(parent)));
    struct store_record *recs;
    size_t n;
    bool more = true;
    struct moat_slice after = MOAT_NULL_SLICE;
    while (more) {
        if (store_scan(call->db, call->arena, ORGS_NS_CHILD, prefix, after, 200, &recs, &n,
                       &more) != STORE_OK)
            return moat_internal(call, "store scan failed");
        for (size_t i = 0; i < n; i++) {
            /* "<parent>|<A|O>|<child>" */
            struct moat_slice rest = moat_slice_sub(recs[i].key, prefix.len, recs[i].key.len);
            struct moat_slice child = moat_slice_sub(rest, 2, rest.len);
            struct moat_error *err = fn(call, child, arg);
            if (!err && rest.ptr[0] == 'O')
                err = each_target(call, org, child, fn, arg);
            if (err)
                return err;
        }
        if (n)
            after = recs[n - 1].key;
    }
    return NULL;
}

static struct moat_error *attach_full_access(struct moat_call *call, struct moat_slice target,
                                             void *arg)
{
    return orgs_attach(call, MOAT_LIT(ORGS_FULL_ACCESS_ID), target, ORGS_SCP, true);
}

/* Detaches every policy of the type from a target. */
static struct moat_error *detach_all(struct moat_call *call, struct moat_slice target, void *arg)
{
    struct moat_slice prefix =
        moat_slice_cstr(moat_arena_printf(call->arena, "%.*s|", MOAT_FMT(target)));
    struct store_record *recs;
    size_t n;
    bool more;
    if (store_scan(call->db, call->arena, ORGS_NS_ATTACH, prefix, MOAT_NULL_SLICE, 1000, &recs, &n,
                   &more) != STORE_OK)
        return moat_internal(call, "store scan failed");
    for (size_t i = 0; i < n; i++) {
        struct moat_error *err =
            orgs_attach(call, moat_slice_sub(recs[i].key, prefix.len, recs[i].key.len), target,
                        ORGS_SCP, false);
        if (err)
            return err;
    }
    return NULL;
}

struct moat_error *orgs_enable_policy_type(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out)
{
    iam_begin_change(call);
    struct moat_arena *a = call->arena;
    struct orgs_org org;
    struct moat_error *err =
        load_root(call, &org, moat_get_str(in, ORGANIZATIONS_ENABLE_POLICY_TYPE_REQUEST_ROOT_ID));
    if (err)
        return err;
    struct moat_slice type = moat_get_str(in, ORGANIZATIONS_ENABLE_POLICY_TYPE_REQUEST_POLICY_TYPE);
    if (!moat_slice_eq_cstr(moat_map_str(org.rec, "FeatureSet"), "ALL"))
        return moat_fail(call, &orgs_policy_type_not_available,
                         "You can't use the specified policy type with the feature set currently "
                         "enabled for this organization.");
    if ((err = check_type(call, type)))
        return err;
    if (orgs_type_enabled(&org, moat_arena_cstr(a, type)))
        return moat_fail(call, &orgs_policy_type_already_enabled,
                         "The specified policy type is already enabled.");
    struct moat_value *types = moat_map_get(org.rec, "PolicyTypes");
    if (!types || types->type != MOAT_V_LIST) {
        types = moat_value_list(a);
        moat_map_set(a, org.rec, MOAT_LIT("PolicyTypes"), types);
    }
    struct moat_value *t = moat_value_map(a);
    moat_map_set_str(a, t, "Type", type);
    moat_map_set_cstr(a, t, "Status", "ENABLED");
    moat_list_push(a, types, t);
    /* AWS attaches FullAWSAccess to the root and every OU and account. */
    if ((err = attach_full_access(call, org.root_id, NULL)) ||
        (err = each_target(call, &org, org.root_id, attach_full_access, NULL)) ||
        (err = orgs_save(call, &org)))
        return err;
    orgs_fill_root(call, moat_set_struct(a, out, ORGANIZATIONS_ENABLE_POLICY_TYPE_RESPONSE_ROOT),
                   &org);
    return NULL;
}

struct moat_error *orgs_disable_policy_type(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out)
{
    iam_begin_change(call);
    struct orgs_org org;
    struct moat_error *err =
        load_root(call, &org, moat_get_str(in, ORGANIZATIONS_DISABLE_POLICY_TYPE_REQUEST_ROOT_ID));
    if (err)
        return err;
    struct moat_slice type =
        moat_get_str(in, ORGANIZATIONS_DISABLE_POLICY_TYPE_REQUEST_POLICY_TYPE);
    if (!orgs_type_enabled(&org, moat_arena_cstr(call->arena, type)))
        return moat_fail(call, &orgs_policy_type_not_enabled,
                         "This operation can be performed only for enabled policy types.");
    struct moat_value *types = moat_map_get(org.rec, "PolicyTypes");
    for (uint32_t i = 0; i < types->count; i++) {
        if (moat_slice_eq(moat_map_str(types->u.items[i], "Type"), type)) {
            memmove(&types->u.items[i], &types->u.items[i + 1],
                    (types->count - i - 1) * sizeof(types->u.items[0]));
            types->count--;
            break;
        }
    }
    if ((err = detach_all(call, org.root_id, NULL)) ||
        (err = each_target(call, &org, org.root_id, detach_all, NULL)) ||
        (err = orgs_save(call, &org)))
        return err;
    orgs_fill_root(
        call, moat_set_struct(call->arena, out, ORGANIZATIONS_DISABLE_POLICY_TYPE_RESPONSE_ROOT),
        &org);
    return NULL;
}

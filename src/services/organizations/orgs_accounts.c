/* orgs_accounts.c: the organization, its root, member accounts (CreateAccount makes a
 * new account with OrganizationAccountAccessRole trusting the management account) and
 * organizational units.
 * https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateAccount.html */
#include "auth/auth.h"
#include "aws/shapes/shapes_organizations.h"
#include "services/iam/iam.h"
#include "services/organizations/orgs.h"

#include <string.h>

#define ORGS_MAX_OU_DEPTH 5
#define ORGS_ADMIN_POLICY "arn:aws:iam::aws:policy/AdministratorAccess"

/* ---- the organization ---------------------------------------------------------------------- */

static struct moat_slice account_arn(struct moat_arena *a, struct moat_slice mgmt,
                                     struct moat_slice org, struct moat_slice account)
{
    return moat_slice_cstr(moat_arena_printf(a, "arn:aws:organizations::%.*s:account/%.*s/%.*s",
                                             MOAT_FMT(mgmt), MOAT_FMT(org), MOAT_FMT(account)));
}

/* https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateOrganization.html */
struct moat_error *orgs_create_organization(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out)
{
    iam_begin_change(call);
    struct moat_arena *a = call->arena;
    struct moat_slice caller = moat_slice_cstr(call->account_id);
    struct moat_value *member;
    bool found;
    struct moat_error *err = orgs_get(call, ORGS_NS_MEMBER, caller, &member, NULL, &found);
    if (err)
        return err;
    if (found)
        return moat_fail(call, &orgs_already_in_org,
                         "The AWS account is already a member of an organization.");
    struct moat_value *acct;
    struct moat_slice email = MOAT_LIT(""), name = caller;
    if ((err = orgs_get(call, AUTH_NS_ACCOUNT, caller, &acct, NULL, &found)))
        return err;
    if (found) {
        email = moat_map_str(acct, "Email");
        name = moat_map_str(acct, "Name");
    }
    struct orgs_org org = {0};
    org.id = orgs_new_id(a, "o-", 10);
    org.root_id = orgs_new_id(a, "r-", 4);
    org.mgmt = caller;
    org.caller_is_mgmt = true;
    org.version = STORE_MUST_NOT_EXIST;
    struct moat_slice feature =
        moat_get_str(in, ORGANIZATIONS_CREATE_ORGANIZATION_REQUEST_FEATURE_SET);
    org.rec = moat_value_map(a);
    moat_map_set_str(a, org.rec, "Id", org.id);
    moat_map_set_cstr(a, org.rec, "Arn",
                      moat_arena_printf(a, "arn:aws:organizations::%.*s:organization/%.*s",
                                        MOAT_FMT(caller), MOAT_FMT(org.id)));
    moat_map_set_str(a, org.rec, "FeatureSet", feature.len ? feature : MOAT_LIT("ALL"));
    moat_map_set_str(a, org.rec, "MasterAccountId", caller);
    moat_map_set_str(a, org.rec, "MasterAccountArn", account_arn(a, caller, org.id, caller));
    moat_map_set_str(a, org.rec, "MasterAccountEmail", email);
    moat_map_set_str(a, org.rec, "RootId", org.root_id);
    moat_map_set(a, org.rec, MOAT_LIT("PolicyTypes"), moat_value_list(a));
    member = moat_value_map(a);
    moat_map_set_str(a, member, "Id", caller);
    moat_map_set_str(a, member, "Arn", account_arn(a, caller, org.id, caller));
    moat_map_set_str(a, member, "Email", email);
    moat_map_set_str(a, member, "Name", name);
    moat_map_set_cstr(a, member, "JoinedMethod", "INVITED");
    moat_map_set_int(a, member, "JoinedTimestamp", call->now_ms);
    moat_map_set_str(a, member, "OrgId", org.id);
    moat_map_set_str(a, member, "ParentId", org.root_id);
    if ((err = orgs_save(call, &org)) ||
        (err = orgs_put(call, ORGS_NS_MEMBER, caller, member, STORE_MUST_NOT_EXIST)) ||
        (err = orgs_child_link(call, org.root_id, 'A', caller, true)))
        return err;
    orgs_fill_organization(
        call, moat_set_struct(a, out, ORGANIZATIONS_CREATE_ORGANIZATION_RESPONSE_ORGANIZATION),
        &org);
    return NULL;
}

struct moat_error *orgs_describe_organization(struct moat_call *call, const struct moat_value *in,
                                              struct moat_value *out)
{
    struct orgs_org org;
    struct moat_error *err = orgs_load(call, ORGS_ANY_MEMBER, &org);
    if (err)
        return err;
    orgs_fill_organization(
        call,
        moat_set_struct(call->arena, out,
                        ORGANIZATIONS_DESCRIBE_ORGANIZATION_RESPONSE_ORGANIZATION),
        &org);
    return NULL;
}

/* Deletes every record of ns under prefix. */
static struct moat_error *delete_prefix(struct moat_call *call, const char *ns,
                                        struct moat_slice prefix)
{
    for (;;) {
        struct store_record *recs;
        size_t n;
        bool more;
        if (store_scan(call->db, call->arena, ns, prefix, MOAT_NULL_SLICE, 200, &recs, &n, &more) !=
            STORE_OK)
            return moat_internal(call, "store scan failed");
        for (size_t i = 0; i < n; i++) {
            struct moat_error *err = orgs_delete(call, ns, recs[i].key);
            if (err)
                return err;
        }
        if (!more)
            return NULL;
    }
}

struct moat_error *orgs_delete_organization(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out)
{
    iam_begin_change(call);
    struct orgs_org org;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_ONLY, &org);
    if (err)
        return err;
    struct moat_arena *a = call->arena;
    struct store_record *recs;
    size_t n;
    bool more;
    struct moat_slice prefix =
        moat_slice_cstr(moat_arena_printf(a, "%.*s|A|", MOAT_FMT(org.root_id)));
    if (store_scan(call->db, a, ORGS_NS_CHILD, prefix, MOAT_NULL_SLICE, 2, &recs, &n, &more) !=
        STORE_OK)
        return moat_internal(call, "store scan failed");
    /* Only the management account may be left, and no OU. */
    bool others = n > 1 || more;
    struct moat_slice ou_prefix =
        moat_slice_cstr(moat_arena_printf(a, "%.*s|O|", MOAT_FMT(org.root_id)));
    int64_t ous = 0;
    if (store_count(call->db, ORGS_NS_CHILD, ou_prefix, &ous) != STORE_OK)
        return moat_internal(call, "store count failed");
    if (others || ous)
        return moat_fail(call, &orgs_not_empty,
                         "To delete an organization you must first remove all member accounts "
                         "(except the master) and organizational units.");
    /* The organization's own policies and what is attached to the root and the account. */
    if (store_scan(call->db, a, ORGS_NS_POLICY, MOAT_NULL_SLICE, MOAT_NULL_SLICE, 10000, &recs, &n,
                   &more) != STORE_OK)
        return moat_internal(call, "store scan failed");
    for (size_t i = 0; i < n; i++) {
        struct moat_value *p;
        bool found;
        if ((err = orgs_get(call, ORGS_NS_POLICY, recs[i].key, &p, NULL, &found)))
            return err;
        if (found && moat_slice_eq(moat_map_str(p, "OrgId"), org.id) &&
            ((err = delete_prefix(
                  call, ORGS_NS_TARGET,
                  moat_slice_cstr(moat_arena_printf(a, "%.*s|", MOAT_FMT(recs[i].key))))) ||
             (err = orgs_delete(call, ORGS_NS_POLICY, recs[i].key))))
            return err;
    }
    struct moat_slice mgmt_prefix =
        moat_slice_cstr(moat_arena_printf(a, "%.*s|", MOAT_FMT(org.mgmt)));
    struct moat_slice root_prefix =
        moat_slice_cstr(moat_arena_printf(a, "%.*s|", MOAT_FMT(org.root_id)));
    struct moat_slice full_prefix = moat_slice_cstr(ORGS_FULL_ACCESS_ID "|");
    if ((err = delete_prefix(call, ORGS_NS_ATTACH, mgmt_prefix)) ||
        (err = delete_prefix(call, ORGS_NS_ATTACH, root_prefix)) ||
        (err = orgs_delete(call, ORGS_NS_TARGET,
                           moat_slice_cstr(moat_arena_printf(a, "%.*s%.*s", MOAT_FMT(full_prefix),
                                                             MOAT_FMT(org.root_id))))) ||
        (err = orgs_delete(call, ORGS_NS_TARGET,
                           moat_slice_cstr(moat_arena_printf(a, "%.*s%.*s", MOAT_FMT(full_prefix),
                                                             MOAT_FMT(org.mgmt))))) ||
        (err = delete_prefix(call, ORGS_NS_DELEGATED,
                             moat_slice_cstr(moat_arena_printf(a, "%.*s|", MOAT_FMT(org.id))))) ||
        (err = orgs_child_link(call, org.root_id, 'A', org.mgmt, false)) ||
        (err = orgs_delete(call, ORGS_NS_MEMBER, org.mgmt)))
        return err;
    return orgs_delete(call, ORGS_NS_ORG, org.id);
}

struct moat_error *orgs_list_roots(struct moat_call *call, const struct moat_value *in,
                                   struct moat_value *out)
{
    struct orgs_org org;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (err)
        return err;
    struct moat_value *list =
        moat_set_list(call->arena, out, ORGANIZATIONS_LIST_ROOTS_RESPONSE_ROOTS);
    orgs_fill_root(call, moat_list_add_struct(call->arena, list), &org);
    return NULL;
}

/* ---- accounts -----------------------------------------------------------------------------------
 */

static bool email_in_use(struct moat_call *call, struct moat_slice email)
{
    struct store_record *recs;
    size_t n;
    bool more = true;
    struct moat_slice after = MOAT_NULL_SLICE;
    while (more) {
        if (store_scan(call->db, call->arena, AUTH_NS_ACCOUNT, MOAT_NULL_SLICE, after, 200, &recs,
                       &n, &more) != STORE_OK ||
            !n)
            return false;
        for (size_t i = 0; i < n; i++) {
            struct moat_value *rec;
            bool found;
            if (!orgs_get(call, AUTH_NS_ACCOUNT, recs[i].key, &rec, NULL, &found) && found &&
                moat_slice_eq_nocase(moat_map_str(rec, "Email"), email))
                return true;
        }
        after = recs[n - 1].key;
    }
    return false;
}

static void fill_status(struct moat_call *call, struct moat_value *o, const struct moat_value *rec)
{
    struct moat_arena *a = call->arena;
    moat_set_str(a, o, ORGANIZATIONS_CREATE_ACCOUNT_STATUS_ID, moat_map_str(rec, "Id"));
    moat_set_str(a, o, ORGANIZATIONS_CREATE_ACCOUNT_STATUS_ACCOUNT_NAME,
                 moat_map_str(rec, "AccountName"));
    moat_set_str(a, o, ORGANIZATIONS_CREATE_ACCOUNT_STATUS_STATE, moat_map_str(rec, "State"));
    moat_set_ts(a, o, ORGANIZATIONS_CREATE_ACCOUNT_STATUS_REQUESTED_TIMESTAMP,
                moat_map_int(rec, "RequestedTimestamp", 0));
    int64_t done = moat_map_int(rec, "CompletedTimestamp", 0);
    if (done)
        moat_set_ts(a, o, ORGANIZATIONS_CREATE_ACCOUNT_STATUS_COMPLETED_TIMESTAMP, done);
    struct moat_slice id = moat_map_str(rec, "AccountId");
    if (id.len)
        moat_set_str(a, o, ORGANIZATIONS_CREATE_ACCOUNT_STATUS_ACCOUNT_ID, id);
    struct moat_slice why = moat_map_str(rec, "FailureReason");
    if (why.len)
        moat_set_str(a, o, ORGANIZATIONS_CREATE_ACCOUNT_STATUS_FAILURE_REASON, why);
}

/* Makes the account, its place under the root and its OrganizationAccountAccessRole (or
 * RoleName) trusting the management account, with AdministratorAccess attached. The
 * request answers IN_PROGRESS as on AWS; the work is done before the answer, so
 * DescribeCreateAccountStatus reports SUCCEEDED (or FAILED with AWS's reason) at once. */
struct moat_error *orgs_create_account(struct moat_call *call, const struct moat_value *in,
                                       struct moat_value *out)
{
    iam_begin_change(call);
    struct moat_arena *a = call->arena;
    struct orgs_org org;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_ONLY, &org);
    if (err)
        return err;
    struct moat_slice email = moat_get_str(in, ORGANIZATIONS_CREATE_ACCOUNT_REQUEST_EMAIL);
    struct moat_slice name = moat_get_str(in, ORGANIZATIONS_CREATE_ACCOUNT_REQUEST_ACCOUNT_NAME);
    struct moat_slice role_name = moat_get_str(in, ORGANIZATIONS_CREATE_ACCOUNT_REQUEST_ROLE_NAME);
    if (!role_name.len)
        role_name = MOAT_LIT("OrganizationAccountAccessRole");
    struct moat_slice car_id = orgs_new_id(a, "car-", 32);
    struct moat_value *car = moat_value_map(a);
    moat_map_set_str(a, car, "Id", car_id);
    moat_map_set_str(a, car, "AccountName", name);
    moat_map_set_int(a, car, "RequestedTimestamp", call->now_ms);
    moat_map_set_str(a, car, "OrgId", org.id);
    struct moat_value *resp =
        moat_set_struct(a, out, ORGANIZATIONS_CREATE_ACCOUNT_RESPONSE_CREATE_ACCOUNT_STATUS);
    moat_set_str(a, resp, ORGANIZATIONS_CREATE_ACCOUNT_STATUS_ID, car_id);
    moat_set_str(a, resp, ORGANIZATIONS_CREATE_ACCOUNT_STATUS_ACCOUNT_NAME, name);
    moat_set_cstr(a, resp, ORGANIZATIONS_CREATE_ACCOUNT_STATUS_STATE, "IN_PROGRESS");
    moat_set_ts(a, resp, ORGANIZATIONS_CREATE_ACCOUNT_STATUS_REQUESTED_TIMESTAMP, call->now_ms);
    moat_map_set_int(a, car, "CompletedTimestamp", call->now_ms);
    if (email_in_use(call, email)) {
        moat_map_set_cstr(a, car, "State", "FAILED");
        moat_map_set_cstr(a, car, "FailureReason", "EMAIL_ALREADY_EXISTS");
        return orgs_put(call, ORGS_NS_CAR, car_id, car, STORE_MUST_NOT_EXIST);
    }
    struct moat_slice id;
    if ((err = orgs_new_account_id(call, &id)))
        return err;
    if (!auth_ensure_account(call->db, a, moat_arena_cstr(a, id), moat_arena_cstr(a, name),
                             moat_arena_cstr(a, email), call->now_ms))
        return moat_internal(call, "account write failed");
    struct moat_value *member = moat_value_map(a);
    moat_map_set_str(a, member, "Id", id);
    moat_map_set_str(a, member, "Arn", account_arn(a, org.mgmt, org.id, id));
    moat_map_set_str(a, member, "Email", email);
    moat_map_set_str(a, member, "Name", name);
    moat_map_set_cstr(a, member, "JoinedMethod", "CREATED");
    moat_map_set_int(a, member, "JoinedTimestamp", call->now_ms);
    moat_map_set_str(a, member, "OrgId", org.id);
    moat_map_set_str(a, member, "ParentId", org.root_id);
    if ((err = orgs_tags_apply(call, member,
                               moat_get(in, ORGANIZATIONS_CREATE_ACCOUNT_REQUEST_TAGS))) ||
        (err = orgs_put(call, ORGS_NS_MEMBER, id, member, STORE_MUST_NOT_EXIST)) ||
        (err = orgs_child_link(call, org.root_id, 'A', id, true)))
        return err;
    if (orgs_type_enabled(&org, ORGS_SCP) &&
        (err = orgs_attach(call, MOAT_LIT(ORGS_FULL_ACCESS_ID), id, ORGS_SCP, true)))
        return err;
    struct moat_slice trust = moat_slice_cstr(moat_arena_printf(
        a,
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
        "{\"AWS\":\"arn:aws:iam::%.*s:root\"},\"Action\":\"sts:AssumeRole\"}]}",
        MOAT_FMT(org.mgmt)));
    struct iam_entity role;
    if ((err = iam_role_create_in(call, id, role_name, trust, MOAT_NULL_SLICE, &role)) ||
        (err = iam_entity_attach(call, &role, id, MOAT_LIT(ORGS_ADMIN_POLICY))) ||
        (err = iam_entity_save(call, &role)))
        return err;
    moat_map_set_cstr(a, car, "State", "SUCCEEDED");
    moat_map_set_str(a, car, "AccountId", id);
    return orgs_put(call, ORGS_NS_CAR, car_id, car, STORE_MUST_NOT_EXIST);
}

static struct moat_error *load_status(struct moat_call *call, const struct orgs_org *org,
                                      struct moat_slice id, struct moat_value **rec)
{
    bool found;
    struct moat_error *err = orgs_get(call, ORGS_NS_CAR, id, rec, NULL, &found);
    if (err)
        return err;
    if (!found || !moat_slice_eq(moat_map_str(*rec, "OrgId"), org->id))
        return moat_fail(call, &orgs_create_status_not_found,
                         "We can't find an create account request with the "
                         "CreateAccountRequestId that you specified.");
    return NULL;
}

struct moat_error *orgs_describe_create_account_status(struct moat_call *call,
                                                       const struct moat_value *in,
                                                       struct moat_value *out)
{
    struct orgs_org org;
    struct moat_value *rec;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = load_status(
            call, &org,
            moat_get_str(
                in, ORGANIZATIONS_DESCRIBE_CREATE_ACCOUNT_STATUS_REQUEST_CREATE_ACCOUNT_REQUEST_ID),
            &rec);
    if (err)
        return err;
    fill_status(call,
                moat_set_struct(
                    call->arena, out,
                    ORGANIZATIONS_DESCRIBE_CREATE_ACCOUNT_STATUS_RESPONSE_CREATE_ACCOUNT_STATUS),
                rec);
    return NULL;
}

struct status_list {
    const struct orgs_org *org;
    struct moat_value *list;
    const struct moat_value *states;
};

static bool status_fn(struct moat_call *call, const struct store_record *r, void *arg, bool add)
{
    struct status_list *sl = arg;
    struct moat_value *rec;
    bool found;
    if (orgs_get(call, ORGS_NS_CAR, r->key, &rec, NULL, &found) || !found ||
        !moat_slice_eq(moat_map_str(rec, "OrgId"), sl->org->id))
        return false;
    if (sl->states && sl->states->count) {
        bool match = false;
        for (uint32_t i = 0; i < sl->states->count; i++)
            if (moat_value_is_string(sl->states->u.items[i]) &&
                moat_slice_eq(sl->states->u.items[i]->u.s, moat_map_str(rec, "State")))
                match = true;
        if (!match)
            return false;
    }
    if (add)
        fill_status(call, moat_list_add_struct(call->arena, sl->list), rec);
    return true;
}

struct moat_error *orgs_list_create_account_status(struct moat_call *call,
                                                   const struct moat_value *in,
                                                   struct moat_value *out)
{
    struct orgs_org org;
    struct orgs_page page;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = orgs_page_begin(call, in, ORGANIZATIONS_LIST_CREATE_ACCOUNT_STATUS_REQUEST_NEXT_TOKEN,
                              ORGANIZATIONS_LIST_CREATE_ACCOUNT_STATUS_REQUEST_MAX_RESULTS, &page);
    if (err)
        return err;
    struct status_list sl = {
        &org,
        moat_set_list(call->arena, out,
                      ORGANIZATIONS_LIST_CREATE_ACCOUNT_STATUS_RESPONSE_CREATE_ACCOUNT_STATUSES),
        moat_get(in, ORGANIZATIONS_LIST_CREATE_ACCOUNT_STATUS_REQUEST_STATES),
    };
    bool truncated;
    struct moat_slice last;
    if ((err = orgs_scan(call, ORGS_NS_CAR, MOAT_NULL_SLICE, &page, status_fn, &sl, &truncated,
                         &last)))
        return err;
    orgs_page_end(call, out, ORGANIZATIONS_LIST_CREATE_ACCOUNT_STATUS_RESPONSE_NEXT_TOKEN,
                  truncated, last);
    return NULL;
}

static struct moat_error *account_not_found(struct moat_call *call)
{
    return moat_fail(call, &orgs_account_not_found, "You specified an account that doesn't exist.");
}

struct moat_error *orgs_describe_account(struct moat_call *call, const struct moat_value *in,
                                         struct moat_value *out)
{
    struct orgs_org org;
    struct moat_value *rec;
    bool found;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = orgs_member(call, &org,
                          moat_get_str(in, ORGANIZATIONS_DESCRIBE_ACCOUNT_REQUEST_ACCOUNT_ID), &rec,
                          NULL, &found);
    if (err)
        return err;
    if (!found)
        return account_not_found(call);
    orgs_fill_account(
        call, moat_set_struct(call->arena, out, ORGANIZATIONS_DESCRIBE_ACCOUNT_RESPONSE_ACCOUNT),
        rec);
    return NULL;
}

struct account_list {
    const struct orgs_org *org;
    struct moat_value *list;
    struct moat_slice prefix; /* child index prefix, or empty: every member */
};

static bool account_fn(struct moat_call *call, const struct store_record *r, void *arg, bool add)
{
    struct account_list *al = arg;
    struct moat_slice id =
        al->prefix.len ? moat_slice_sub(r->key, al->prefix.len, r->key.len) : r->key;
    struct moat_value *rec;
    bool found;
    if (orgs_member(call, al->org, id, &rec, NULL, &found) || !found)
        return false;
    if (add)
        orgs_fill_account(call, moat_list_add_struct(call->arena, al->list), rec);
    return true;
}

struct moat_error *orgs_list_accounts(struct moat_call *call, const struct moat_value *in,
                                      struct moat_value *out)
{
    struct orgs_org org;
    struct orgs_page page;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = orgs_page_begin(call, in, ORGANIZATIONS_LIST_ACCOUNTS_REQUEST_NEXT_TOKEN,
                              ORGANIZATIONS_LIST_ACCOUNTS_REQUEST_MAX_RESULTS, &page);
    if (err)
        return err;
    struct account_list al = {
        &org, moat_set_list(call->arena, out, ORGANIZATIONS_LIST_ACCOUNTS_RESPONSE_ACCOUNTS),
        MOAT_NULL_SLICE};
    bool truncated;
    struct moat_slice last;
    if ((err = orgs_scan(call, ORGS_NS_MEMBER, MOAT_NULL_SLICE, &page, account_fn, &al, &truncated,
                         &last)))
        return err;
    orgs_page_end(call, out, ORGANIZATIONS_LIST_ACCOUNTS_RESPONSE_NEXT_TOKEN, truncated, last);
    return NULL;
}

static struct moat_error *parent_not_found(struct moat_call *call)
{
    return moat_fail(call, &orgs_parent_not_found,
                     "We can't find a root or OU with the ParentId that you specified.");
}

struct moat_error *orgs_list_accounts_for_parent(struct moat_call *call,
                                                 const struct moat_value *in,
                                                 struct moat_value *out)
{
    struct orgs_org org;
    struct orgs_page page;
    bool found;
    struct moat_slice parent =
        moat_get_str(in, ORGANIZATIONS_LIST_ACCOUNTS_FOR_PARENT_REQUEST_PARENT_ID);
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = orgs_page_begin(call, in, ORGANIZATIONS_LIST_ACCOUNTS_FOR_PARENT_REQUEST_NEXT_TOKEN,
                              ORGANIZATIONS_LIST_ACCOUNTS_FOR_PARENT_REQUEST_MAX_RESULTS, &page);
    if (!err)
        err = orgs_parent_exists(call, &org, parent, &found);
    if (err)
        return err;
    if (!found)
        return parent_not_found(call);
    struct account_list al = {
        &org,
        moat_set_list(call->arena, out, ORGANIZATIONS_LIST_ACCOUNTS_FOR_PARENT_RESPONSE_ACCOUNTS),
        moat_slice_cstr(moat_arena_printf(call->arena, "%.*s|A|", MOAT_FMT(parent)))};
    bool truncated;
    struct moat_slice last;
    if ((err =
             orgs_scan(call, ORGS_NS_CHILD, al.prefix, &page, account_fn, &al, &truncated, &last)))
        return err;
    orgs_page_end(call, out, ORGANIZATIONS_LIST_ACCOUNTS_FOR_PARENT_RESPONSE_NEXT_TOKEN, truncated,
                  last);
    return NULL;
}

struct moat_error *orgs_move_account(struct moat_call *call, const struct moat_value *in,
                                     struct moat_value *out)
{
    iam_begin_change(call);
    struct orgs_org org;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_ONLY, &org);
    if (err)
        return err;
    struct moat_slice id = moat_get_str(in, ORGANIZATIONS_MOVE_ACCOUNT_REQUEST_ACCOUNT_ID);
    struct moat_slice src = moat_get_str(in, ORGANIZATIONS_MOVE_ACCOUNT_REQUEST_SOURCE_PARENT_ID);
    struct moat_slice dst =
        moat_get_str(in, ORGANIZATIONS_MOVE_ACCOUNT_REQUEST_DESTINATION_PARENT_ID);
    struct moat_value *rec;
    int64_t version;
    bool found;
    if ((err = orgs_parent_exists(call, &org, src, &found)))
        return err;
    if (!found)
        return moat_fail(call, &orgs_source_parent_not_found,
                         "We can't find a source root or OU with the ParentId that you specified.");
    if ((err = orgs_parent_exists(call, &org, dst, &found)))
        return err;
    if (!found)
        return moat_fail(call, &orgs_destination_parent_not_found,
                         "We can't find a destination root or OU with the ParentId that you "
                         "specified.");
    if ((err = orgs_member(call, &org, id, &rec, &version, &found)))
        return err;
    if (!found || !moat_slice_eq(moat_map_str(rec, "ParentId"), src))
        return account_not_found(call);
    if (moat_slice_eq(src, dst))
        return moat_fail(call, &orgs_duplicate_account,
                         "That account is already present in the specified destination.");
    moat_map_set_str(call->arena, rec, "ParentId", dst);
    if ((err = orgs_child_link(call, src, 'A', id, false)) ||
        (err = orgs_child_link(call, dst, 'A', id, true)))
        return err;
    return orgs_put(call, ORGS_NS_MEMBER, id, rec, version);
}

/* ---- organizational units
 * ------------------------------------------------------------------------ */

static void fill_ou(struct moat_call *call, struct moat_value *o, const struct moat_value *rec)
{
    moat_set_str(call->arena, o, ORGANIZATIONS_ORGANIZATIONAL_UNIT_ID, moat_map_str(rec, "Id"));
    moat_set_str(call->arena, o, ORGANIZATIONS_ORGANIZATIONAL_UNIT_ARN, moat_map_str(rec, "Arn"));
    moat_set_str(call->arena, o, ORGANIZATIONS_ORGANIZATIONAL_UNIT_NAME, moat_map_str(rec, "Name"));
}

static struct moat_error *load_ou(struct moat_call *call, const struct orgs_org *org,
                                  struct moat_slice id, struct moat_value **rec, int64_t *version)
{
    bool found = false;
    struct moat_error *err =
        orgs_kind_of(id) == ORGS_OU ? orgs_get(call, ORGS_NS_OU, id, rec, version, &found) : NULL;
    if (err)
        return err;
    if (!found || !moat_slice_eq(moat_map_str(*rec, "OrgId"), org->id))
        return moat_fail(call, &orgs_ou_not_found,
                         "We can't find an OU with the OrganizationalUnitId that you specified.");
    return NULL;
}

/* An OU of the same name under the parent (other than `except`). */
static struct moat_error *sibling_named(struct moat_call *call, struct moat_slice parent,
                                        struct moat_slice name, struct moat_slice except,
                                        bool *taken)
{
    *taken = false;
    struct moat_slice prefix =
        moat_slice_cstr(moat_arena_printf(call->arena, "%.*s|O|", MOAT_FMT(parent)));
    struct store_record *recs;
    size_t n;
    bool more = true;
    struct moat_slice after = MOAT_NULL_SLICE;
    while (more) {
        if (store_scan(call->db, call->arena, ORGS_NS_CHILD, prefix, after, 200, &recs, &n,
                       &more) != STORE_OK)
            return moat_internal(call, "store scan failed");
        for (size_t i = 0; i < n; i++) {
            struct moat_slice id = moat_slice_sub(recs[i].key, prefix.len, recs[i].key.len);
            struct moat_value *ou;
            bool found;
            struct moat_error *err = orgs_get(call, ORGS_NS_OU, id, &ou, NULL, &found);
            if (err)
                return err;
            if (found && !moat_slice_eq(id, except) &&
                moat_slice_eq(moat_map_str(ou, "Name"), name))
                *taken = true;
        }
        if (n)
            after = recs[n - 1].key;
    }
    return NULL;
}

struct moat_error *orgs_create_organizational_unit(struct moat_call *call,
                                                   const struct moat_value *in,
                                                   struct moat_value *out)
{
    iam_begin_change(call);
    struct moat_arena *a = call->arena;
    struct orgs_org org;
    bool found;
    struct moat_slice parent =
        moat_get_str(in, ORGANIZATIONS_CREATE_ORGANIZATIONAL_UNIT_REQUEST_PARENT_ID);
    struct moat_slice name =
        moat_get_str(in, ORGANIZATIONS_CREATE_ORGANIZATIONAL_UNIT_REQUEST_NAME);
    struct moat_error *err = orgs_load(call, ORGS_MGMT_ONLY, &org);
    if (!err)
        err = orgs_parent_exists(call, &org, parent, &found);
    if (err)
        return err;
    if (!found)
        return parent_not_found(call);
    /* Depth: the root holds level 1 OUs; AWS allows five levels. */
    int depth = 1;
    for (struct moat_slice p = parent; orgs_kind_of(p) == ORGS_OU; depth++) {
        struct moat_value *ou;
        if ((err = orgs_get(call, ORGS_NS_OU, p, &ou, NULL, &found)) || !found)
            return err ? err : parent_not_found(call);
        p = moat_map_str(ou, "ParentId");
    }
    if (depth > ORGS_MAX_OU_DEPTH) {
        struct moat_error *e = moat_fail(call, &orgs_constraint_violation,
                                         "You attempted to create an OU tree that is too many "
                                         "levels deep.");
        moat_error_add_extra(a, e, "Reason", MOAT_LIT("OU_DEPTH_LIMIT_EXCEEDED"));
        return e;
    }
    bool taken;
    if ((err = sibling_named(call, parent, name, MOAT_NULL_SLICE, &taken)))
        return err;
    if (taken)
        return moat_fail(call, &orgs_duplicate_ou, "An OU with the same name already exists.");
    struct moat_slice root_suffix = moat_slice_sub(org.root_id, 2, org.root_id.len);
    struct moat_slice id =
        orgs_new_id(a, moat_arena_printf(a, "ou-%.*s-", MOAT_FMT(root_suffix)), 8);
    struct moat_value *rec = moat_value_map(a);
    moat_map_set_str(a, rec, "Id", id);
    moat_map_set_str(a, rec, "Arn", orgs_arn(a, &org, "ou", id));
    moat_map_set_str(a, rec, "Name", name);
    moat_map_set_str(a, rec, "ParentId", parent);
    moat_map_set_str(a, rec, "OrgId", org.id);
    if ((err = orgs_tags_apply(
             call, rec, moat_get(in, ORGANIZATIONS_CREATE_ORGANIZATIONAL_UNIT_REQUEST_TAGS))) ||
        (err = orgs_put(call, ORGS_NS_OU, id, rec, STORE_MUST_NOT_EXIST)) ||
        (err = orgs_child_link(call, parent, 'O', id, true)))
        return err;
    if (orgs_type_enabled(&org, ORGS_SCP) &&
        (err = orgs_attach(call, MOAT_LIT(ORGS_FULL_ACCESS_ID), id, ORGS_SCP, true)))
        return err;
    fill_ou(call,
            moat_set_struct(a, out,
                            ORGANIZATIONS_CREATE_ORGANIZATIONAL_UNIT_RESPONSE_ORGANIZATIONAL_UNIT),
            rec);
    return NULL;
}

struct moat_error *orgs_describe_organizational_unit(struct moat_call *call,
                                                     const struct moat_value *in,
                                                     struct moat_value *out)
{
    struct orgs_org org;
    struct moat_value *rec;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = load_ou(
            call, &org,
            moat_get_str(in,
                         ORGANIZATIONS_DESCRIBE_ORGANIZATIONAL_UNIT_REQUEST_ORGANIZATIONAL_UNIT_ID),
            &rec, NULL);
    if (err)
        return err;
    fill_ou(
        call,
        moat_set_struct(call->arena, out,
                        ORGANIZATIONS_DESCRIBE_ORGANIZATIONAL_UNIT_RESPONSE_ORGANIZATIONAL_UNIT),
        rec);
    return NULL;
}

struct moat_error *orgs_update_organizational_unit(struct moat_call *call,
                                                   const struct moat_value *in,
                                                   struct moat_value *out)
{
    iam_begin_change(call);
    struct orgs_org org;
    struct moat_value *rec;
    int64_t version;
    struct moat_slice id =
        moat_get_str(in, ORGANIZATIONS_UPDATE_ORGANIZATIONAL_UNIT_REQUEST_ORGANIZATIONAL_UNIT_ID);
    struct moat_error *err = orgs_load(call, ORGS_MGMT_ONLY, &org);
    if (!err)
        err = load_ou(call, &org, id, &rec, &version);
    if (err)
        return err;
    struct moat_slice name =
        moat_get_str(in, ORGANIZATIONS_UPDATE_ORGANIZATIONAL_UNIT_REQUEST_NAME);
    if (name.len) {
        bool taken;
        if ((err = sibling_named(call, moat_map_str(rec, "ParentId"), name, id, &taken)))
            return err;
        if (taken)
            return moat_fail(call, &orgs_duplicate_ou, "An OU with the same name already exists.");
        moat_map_set_str(call->arena, rec, "Name", name);
        if ((err = orgs_put(call, ORGS_NS_OU, id, rec, version)))
            return err;
    }
    fill_ou(call,
            moat_set_struct(call->arena, out,
                            ORGANIZATIONS_UPDATE_ORGANIZATIONAL_UNIT_RESPONSE_ORGANIZATIONAL_UNIT),
            rec);
    return NULL;
}

struct moat_error *orgs_delete_organizational_unit(struct moat_call *call,
                                                   const struct moat_value *in,
                                                   struct moat_value *out)
{
    iam_begin_change(call);
    struct moat_arena *a = call->arena;
    struct orgs_org org;
    struct moat_value *rec;
    struct moat_slice id =
        moat_get_str(in, ORGANIZATIONS_DELETE_ORGANIZATIONAL_UNIT_REQUEST_ORGANIZATIONAL_UNIT_ID);
    struct moat_error *err = orgs_load(call, ORGS_MGMT_ONLY, &org);
    if (!err)
        err = load_ou(call, &org, id, &rec, NULL);
    if (err)
        return err;
    int64_t children = 0;
    if (store_count(call->db, ORGS_NS_CHILD,
                    moat_slice_cstr(moat_arena_printf(a, "%.*s|", MOAT_FMT(id))),
                    &children) != STORE_OK)
        return moat_internal(call, "store count failed");
    if (children)
        return moat_fail(call, &orgs_ou_not_empty,
                         "The specified OU is not empty. Move all accounts to another root or OU, "
                         "delete all child OUs, and then try the operation again.");
    /* Detach what is attached to it. */
    struct moat_slice prefix = moat_slice_cstr(moat_arena_printf(a, "%.*s|", MOAT_FMT(id)));
    struct store_record *recs;
    size_t n;
    bool more;
    if (store_scan(call->db, a, ORGS_NS_ATTACH, prefix, MOAT_NULL_SLICE, 1000, &recs, &n, &more) !=
        STORE_OK)
        return moat_internal(call, "store scan failed");
    for (size_t i = 0; i < n; i++) {
        struct moat_slice policy = moat_slice_sub(recs[i].key, prefix.len, recs[i].key.len);
        if ((err = orgs_attach(call, policy, id, ORGS_SCP, false)))
            return err;
    }
    if ((err = orgs_child_link(call, moat_map_str(rec, "ParentId"), 'O', id, false)))
        return err;
    return orgs_delete(call, ORGS_NS_OU, id);
}

struct ou_list {
    const struct orgs_org *org;
    struct moat_value *list;
    struct moat_slice prefix;
};

static bool ou_fn(struct moat_call *call, const struct store_record *r, void *arg, bool add)
{
    struct ou_list *ol = arg;
    struct moat_value *rec;
    bool found;
    struct moat_slice id = moat_slice_sub(r->key, ol->prefix.len, r->key.len);
    if (orgs_get(call, ORGS_NS_OU, id, &rec, NULL, &found) || !found)
        return false;
    if (add)
        fill_ou(call, moat_list_add_struct(call->arena, ol->list), rec);
    return true;
}

struct moat_error *orgs_list_organizational_units_for_parent(struct moat_call *call,
                                                             const struct moat_value *in,
                                                             struct moat_value *out)
{
    struct orgs_org org;
    struct orgs_page page;
    bool found;
    struct moat_slice parent =
        moat_get_str(in, ORGANIZATIONS_LIST_ORGANIZATIONAL_UNITS_FOR_PARENT_REQUEST_PARENT_ID);
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = orgs_page_begin(
            call, in, ORGANIZATIONS_LIST_ORGANIZATIONAL_UNITS_FOR_PARENT_REQUEST_NEXT_TOKEN,
            ORGANIZATIONS_LIST_ORGANIZATIONAL_UNITS_FOR_PARENT_REQUEST_MAX_RESULTS, &page);
    if (!err)
        err = orgs_parent_exists(call, &org, parent, &found);
    if (err)
        return err;
    if (!found)
        return parent_not_found(call);
    struct ou_list ol = {
        &org,
        moat_set_list(
            call->arena, out,
            ORGANIZATIONS_LIST_ORGANIZATIONAL_UNITS_FOR_PARENT_RESPONSE_ORGANIZATIONAL_UNITS),
        moat_slice_cstr(moat_arena_printf(call->arena, "%.*s|O|", MOAT_FMT(parent)))};
    bool truncated;
    struct moat_slice last;
    if ((err = orgs_scan(call, ORGS_NS_CHILD, ol.prefix, &page, ou_fn, &ol, &truncated, &last)))
        return err;
    orgs_page_end(call, out, ORGANIZATIONS_LIST_ORGANIZATIONAL_UNITS_FOR_PARENT_RESPONSE_NEXT_TOKEN,
                  truncated, last);
    return NULL;
}

struct moat_error *orgs_list_parents(struct moat_call *call, const struct moat_value *in,
                                     struct moat_value *out)
{
    struct orgs_org org;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (err)
        return err;
    struct moat_slice child = moat_get_str(in, ORGANIZATIONS_LIST_PARENTS_REQUEST_CHILD_ID);
    struct moat_value *rec = NULL;
    bool found = false;
    if (orgs_kind_of(child) == ORGS_ACCOUNT)
        err = orgs_member(call, &org, child, &rec, NULL, &found);
    else if (orgs_kind_of(child) == ORGS_OU)
        err = orgs_get(call, ORGS_NS_OU, child, &rec, NULL, &found);
    if (err)
        return err;
    if (!found || !moat_slice_eq(moat_map_str(rec, "OrgId"), org.id))
        return moat_fail(call, &orgs_child_not_found,
                         "We can't find an organizational unit (OU) or AWS account with the "
                         "ChildId that you specified.");
    struct moat_slice parent = moat_map_str(rec, "ParentId");
    struct moat_value *list =
        moat_set_list(call->arena, out, ORGANIZATIONS_LIST_PARENTS_RESPONSE_PARENTS);
    struct moat_value *p = moat_list_add_struct(call->arena, list);
    moat_set_str(call->arena, p, ORGANIZATIONS_PARENT_ID, parent);
    moat_set_cstr(call->arena, p, ORGANIZATIONS_PARENT_TYPE,
                  orgs_kind_of(parent) == ORGS_ROOT ? "ROOT" : "ORGANIZATIONAL_UNIT");
    return NULL;
}

struct child_list {
    struct moat_value *list;
    struct moat_slice prefix;
    const char *type;
};

static bool child_fn(struct moat_call *call, const struct store_record *r, void *arg, bool add)
{
    struct child_list *cl = arg;
    if (add) {
        struct moat_value *c = moat_list_add_struct(call->arena, cl->list);
        moat_set_str(call->arena, c, ORGANIZATIONS_CHILD_ID,
                     moat_slice_sub(r->key, cl->prefix.len, r->key.len));
        moat_set_cstr(call->arena, c, ORGANIZATIONS_CHILD_TYPE, cl->type);
    }
    return true;
}

struct moat_error *orgs_list_children(struct moat_call *call, const struct moat_value *in,
                                      struct moat_value *out)
{
    struct orgs_org org;
    struct orgs_page page;
    bool found;
    struct moat_slice parent = moat_get_str(in, ORGANIZATIONS_LIST_CHILDREN_REQUEST_PARENT_ID);
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = orgs_page_begin(call, in, ORGANIZATIONS_LIST_CHILDREN_REQUEST_NEXT_TOKEN,
                              ORGANIZATIONS_LIST_CHILDREN_REQUEST_MAX_RESULTS, &page);
    if (!err)
        err = orgs_parent_exists(call, &org, parent, &found);
    if (err)
        return err;
    if (!found)
        return parent_not_found(call);
    bool accounts = moat_slice_eq_cstr(
        moat_get_str(in, ORGANIZATIONS_LIST_CHILDREN_REQUEST_CHILD_TYPE), "ACCOUNT");
    struct child_list cl = {
        moat_set_list(call->arena, out, ORGANIZATIONS_LIST_CHILDREN_RESPONSE_CHILDREN),
        moat_slice_cstr(
            moat_arena_printf(call->arena, "%.*s|%c|", MOAT_FMT(parent), accounts ? 'A' : 'O')),
        accounts ? "ACCOUNT" : "ORGANIZATIONAL_UNIT"};
    bool truncated;
    struct moat_slice last;
    if ((err = orgs_scan(call, ORGS_NS_CHILD, cl.prefix, &page, child_fn, &cl, &truncated, &last)))
        return err;
    orgs_page_end(call, out, ORGANIZATIONS_LIST_CHILDREN_RESPONSE_NEXT_TOKEN, truncated, last);
    return NULL;
}

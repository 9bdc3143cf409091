/* orgs_admin.c: delegated administrators, trusted access for AWS services, and tags on
 * the organization's accounts, OUs, root and policies.
 * https://docs.aws.amazon.com/organizations/latest/APIReference/API_RegisterDelegatedAdministrator.html
 */
#include "aws/shapes/shapes_organizations.h"
#include "services/iam/iam.h"
#include "services/organizations/orgs.h"

#include <string.h>

static struct moat_error *check_principal(struct moat_call *call, struct moat_slice sp)
{
    if (moat_slice_ends_with(sp, MOAT_LIT(".amazonaws.com")) && sp.len > 14)
        return NULL;
    struct moat_error *e =
        moat_fail(call, &orgs_invalid_input, "You specified an unrecognized service principal.");
    moat_error_add_extra(call->arena, e, "Reason", MOAT_LIT("UNRECOGNIZED_SERVICE_PRINCIPAL"));
    return e;
}

static struct moat_slice delegated_key(struct moat_arena *a, const struct orgs_org *org,
                                       struct moat_slice account, struct moat_slice sp)
{
    return moat_slice_cstr(
        moat_arena_printf(a, "%.*s|%.*s|%.*s", MOAT_FMT(org->id), MOAT_FMT(account), MOAT_FMT(sp)));
}

static struct moat_error *account_not_found(struct moat_call *call)
{
    return moat_fail(call, &orgs_account_not_found, "You specified an account that doesn't exist.");
}

struct moat_error *orgs_register_delegated_administrator(struct moat_call *call,
                                                         const struct moat_value *in,
                                                         struct moat_value *out)
{
    iam_begin_change(call);
    struct orgs_org org;
    struct moat_value *rec;
    bool found;
    struct moat_slice account =
        moat_get_str(in, ORGANIZATIONS_REGISTER_DELEGATED_ADMINISTRATOR_REQUEST_ACCOUNT_ID);
    struct moat_slice sp =
        moat_get_str(in, ORGANIZATIONS_REGISTER_DELEGATED_ADMINISTRATOR_REQUEST_SERVICE_PRINCIPAL);
    struct moat_error *err = orgs_load(call, ORGS_MGMT_ONLY, &org);
    if (!err)
        err = check_principal(call, sp);
    if (!err)
        err = orgs_member(call, &org, account, &rec, NULL, &found);
    if (err)
        return err;
    if (!found)
        return account_not_found(call);
    if (moat_slice_eq(account, org.mgmt)) {
        struct moat_error *e = moat_fail(call, &orgs_constraint_violation,
                                         "You can designate only a member account as a delegated "
                                         "administrator.");
        moat_error_add_extra(call->arena, e, "Reason",
                             MOAT_LIT("CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR"));
        return e;
    }
    struct moat_slice key = delegated_key(call->arena, &org, account, sp);
    struct moat_value *old;
    if ((err = orgs_get(call, ORGS_NS_DELEGATED, key, &old, NULL, &found)))
        return err;
    if (found)
        return moat_fail(call, &orgs_account_already_registered,
                         "The provided account is already a delegated administrator for your "
                         "organization.");
    struct moat_value *d = moat_value_map(call->arena);
    moat_map_set_int(call->arena, d, "DelegationEnabledDate", call->now_ms);
    return orgs_put(call, ORGS_NS_DELEGATED, key, d, STORE_MUST_NOT_EXIST);
}

static struct moat_error *not_registered(struct moat_call *call)
{
    return moat_fail(call, &orgs_account_not_registered,
                     "The provided account is not a registered delegated administrator for your "
                     "organization.");
}

struct moat_error *orgs_deregister_delegated_administrator(struct moat_call *call,
                                                           const struct moat_value *in,
                                                           struct moat_value *out)
{
    iam_begin_change(call);
    struct orgs_org org;
    struct moat_value *rec;
    bool found;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_ONLY, &org);
    if (err)
        return err;
    struct moat_slice key = delegated_key(
        call->arena, &org,
        moat_get_str(in, ORGANIZATIONS_DEREGISTER_DELEGATED_ADMINISTRATOR_REQUEST_ACCOUNT_ID),
        moat_get_str(in,
                     ORGANIZATIONS_DEREGISTER_DELEGATED_ADMINISTRATOR_REQUEST_SERVICE_PRINCIPAL));
    if ((err = orgs_get(call, ORGS_NS_DELEGATED, key, &rec, NULL, &found)))
        return err;
    if (!found)
        return not_registered(call);
    return orgs_delete(call, ORGS_NS_DELEGATED, key);
}

struct moat_error *orgs_list_delegated_administrators(struct moat_call *call,
                                                      const struct moat_value *in,
                                                      struct moat_value *out)
{
    struct moat_arena *a = call->arena;
    struct orgs_org org;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (err)
        return err;
    struct moat_slice sp =
        moat_get_str(in, ORGANIZATIONS_LIST_DELEGATED_ADMINISTRATORS_REQUEST_SERVICE_PRINCIPAL);
    struct moat_value *list = moat_set_list(
        a, out, ORGANIZATIONS_LIST_DELEGATED_ADMINISTRATORS_RESPONSE_DELEGATED_ADMINISTRATORS);
    struct moat_slice prefix = moat_slice_cstr(moat_arena_printf(a, "%.*s|", MOAT_FMT(org.id)));
    struct store_record *recs;
    size_t n;
    bool more;
    if (store_scan(call->db, a, ORGS_NS_DELEGATED, prefix, MOAT_NULL_SLICE, 10000, &recs, &n,
                   &more) != STORE_OK)
        return moat_internal(call, "store scan failed");
    struct moat_slice listed = MOAT_NULL_SLICE;
    for (size_t i = 0; i < n; i++) {
        /* "<org>|<account>|<service principal>" */
        struct moat_slice rest = moat_slice_sub(recs[i].key, prefix.len, recs[i].key.len);
        long bar = moat_slice_index(rest, '|');
        if (bar < 0)
            continue;
        struct moat_slice account = moat_slice_sub(rest, 0, (size_t)bar);
        struct moat_slice service = moat_slice_sub(rest, (size_t)bar + 1, rest.len);
        if ((sp.len && !moat_slice_eq(sp, service)) || moat_slice_eq(account, listed))
            continue;
        struct moat_value *member, *d;
        bool found;
        if ((err = orgs_member(call, &org, account, &member, NULL, &found)))
            return err;
        if (!found || (err = orgs_get(call, ORGS_NS_DELEGATED, recs[i].key, &d, NULL, &found)))
            continue;
        struct moat_value *o = moat_list_add_struct(a, list);
        moat_set_str(a, o, ORGANIZATIONS_DELEGATED_ADMINISTRATOR_ID, account);
        moat_set_str(a, o, ORGANIZATIONS_DELEGATED_ADMINISTRATOR_ARN, moat_map_str(member, "Arn"));
        moat_set_str(a, o, ORGANIZATIONS_DELEGATED_ADMINISTRATOR_EMAIL,
                     moat_map_str(member, "Email"));
        moat_set_str(a, o, ORGANIZATIONS_DELEGATED_ADMINISTRATOR_NAME,
                     moat_map_str(member, "Name"));
        moat_set_cstr(a, o, ORGANIZATIONS_DELEGATED_ADMINISTRATOR_STATUS, "ACTIVE");
        moat_set_cstr(a, o, ORGANIZATIONS_DELEGATED_ADMINISTRATOR_STATE, "ACTIVE");
        moat_set_str(a, o, ORGANIZATIONS_DELEGATED_ADMINISTRATOR_JOINED_METHOD,
                     moat_map_str(member, "JoinedMethod"));
        moat_set_ts(a, o, ORGANIZATIONS_DELEGATED_ADMINISTRATOR_JOINED_TIMESTAMP,
                    moat_map_int(member, "JoinedTimestamp", 0));
        moat_set_ts(a, o, ORGANIZATIONS_DELEGATED_ADMINISTRATOR_DELEGATION_ENABLED_DATE,
                    moat_map_int(d, "DelegationEnabledDate", 0));
        listed = account;
    }
    return NULL;
}

struct moat_error *orgs_list_delegated_services_for_account(struct moat_call *call,
                                                            const struct moat_value *in,
                                                            struct moat_value *out)
{
    struct moat_arena *a = call->arena;
    struct orgs_org org;
    struct moat_value *member;
    bool found;
    struct moat_slice account =
        moat_get_str(in, ORGANIZATIONS_LIST_DELEGATED_SERVICES_FOR_ACCOUNT_REQUEST_ACCOUNT_ID);
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = orgs_member(call, &org, account, &member, NULL, &found);
    if (err)
        return err;
    if (!found)
        return account_not_found(call);
    struct moat_slice prefix =
        moat_slice_cstr(moat_arena_printf(a, "%.*s|%.*s|", MOAT_FMT(org.id), MOAT_FMT(account)));
    struct store_record *recs;
    size_t n;
    bool more;
    if (store_scan(call->db, a, ORGS_NS_DELEGATED, prefix, MOAT_NULL_SLICE, 1000, &recs, &n,
                   &more) != STORE_OK)
        return moat_internal(call, "store scan failed");
    if (!n)
        return not_registered(call);
    struct moat_value *list = moat_set_list(
        a, out, ORGANIZATIONS_LIST_DELEGATED_SERVICES_FOR_ACCOUNT_RESPONSE_DELEGATED_SERVICES);
    for (size_t i = 0; i < n; i++) {
        struct moat_value *d;
        if ((err = orgs_get(call, ORGS_NS_DELEGATED, recs[i].key, &d, NULL, &found)))
            return err;
        struct moat_value *o = moat_list_add_struct(a, list);
        moat_set_str(a, o, ORGANIZATIONS_DELEGATED_SERVICE_SERVICE_PRINCIPAL,
                     moat_slice_sub(recs[i].key, prefix.len, recs[i].key.len));
        moat_set_ts(a, o, ORGANIZATIONS_DELEGATED_SERVICE_DELEGATION_ENABLED_DATE,
                    moat_map_int(d, "DelegationEnabledDate", 0));
    }
    return NULL;
}

/* ---- trusted access -------------------------------------------------------------------------- */

static struct moat_value *service_access(struct moat_arena *a, struct orgs_org *org)
{
    struct moat_value *list = moat_map_get(org->rec, "ServiceAccess");
    if (!list || list->type != MOAT_V_LIST) {
        list = moat_value_list(a);
        moat_map_set(a, org->rec, MOAT_LIT("ServiceAccess"), list);
    }
    return list;
}

static long find_access(const struct moat_value *list, struct moat_slice sp)
{
    for (uint32_t i = 0; i < list->count; i++)
        if (moat_slice_eq(moat_map_str(list->u.items[i], "ServicePrincipal"), sp))
            return (long)i;
    return -1;
}

struct moat_error *orgs_enable_aws_service_access(struct moat_call *call,
                                                  const struct moat_value *in,
                                                  struct moat_value *out)
{
    iam_begin_change(call);
    struct orgs_org org;
    struct moat_slice sp =
        moat_get_str(in, ORGANIZATIONS_ENABLE_AWS_SERVICE_ACCESS_REQUEST_SERVICE_PRINCIPAL);
    struct moat_error *err = orgs_load(call, ORGS_MGMT_ONLY, &org);
    if (!err)
        err = check_principal(call, sp);
    if (err)
        return err;
    struct moat_value *list = service_access(call->arena, &org);
    if (find_access(list, sp) >= 0)
        return NULL;
    struct moat_value *e = moat_value_map(call->arena);
    moat_map_set_str(call->arena, e, "ServicePrincipal", sp);
    moat_map_set_int(call->arena, e, "DateEnabled", call->now_ms);
    moat_list_push(call->arena, list, e);
    return orgs_save(call, &org);
}

struct moat_error *orgs_disable_aws_service_access(struct moat_call *call,
                                                   const struct moat_value *in,
                                                   struct moat_value *out)
{
    iam_begin_change(call);
    struct orgs_org org;
    struct moat_slice sp =
        moat_get_str(in, ORGANIZATIONS_DISABLE_AWS_SERVICE_ACCESS_REQUEST_SERVICE_PRINCIPAL);
    struct moat_error *err = orgs_load(call, ORGS_MGMT_ONLY, &org);
    if (!err)
        err = check_principal(call, sp);
    if (err)
        return err;
    struct moat_value *list = service_access(call->arena, &org);
    long i = find_access(list, sp);
    if (i < 0)
        return NULL;
    memmove(&list->u.items[i], &list->u.items[i + 1],
            (list->count - (size_t)i - 1) * sizeof(list->u.items[0]));
    list->count--;
    return orgs_save(call, &org);
}

struct moat_error *orgs_list_aws_service_access_for_organization(struct moat_call *call,
                                                                 const struct moat_value *in,
                                                                 struct moat_value *out)
{
    struct orgs_org org;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (err)
        return err;
    struct moat_value *out_list = moat_set_list(
        call->arena, out,
        ORGANIZATIONS_LIST_AWS_SERVICE_ACCESS_FOR_ORGANIZATION_RESPONSE_ENABLED_SERVICE_PRINCIPALS);
    struct moat_value *list = service_access(call->arena, &org);
    for (uint32_t i = 0; i < list->count; i++) {
        struct moat_value *o = moat_list_add_struct(call->arena, out_list);
        moat_set_str(call->arena, o, ORGANIZATIONS_ENABLED_SERVICE_PRINCIPAL_SERVICE_PRINCIPAL,
                     moat_map_str(list->u.items[i], "ServicePrincipal"));
        moat_set_ts(call->arena, o, ORGANIZATIONS_ENABLED_SERVICE_PRINCIPAL_DATE_ENABLED,
                    moat_map_int(list->u.items[i], "DateEnabled", 0));
    }
    return NULL;
}

/* ---- tags -------------------------------------------------------------------------------------
 */

/* The record holding a resource's tags: a member account, an OU, a policy, or the root
 * (kept in the organization record under RootTags). */
struct tagged {
    const char *ns;
    struct moat_slice key;
    struct moat_value *rec;         /* the record to write back */
    struct moat_value *tags_holder; /* where "Tags" lives */
    int64_t version;
};

static struct moat_error *load_tagged(struct moat_call *call, struct orgs_org *org,
                                      struct moat_slice id, struct tagged *t)
{
    bool found = false;
    struct moat_error *err = NULL;
    t->key = id;
    if (moat_slice_eq(id, org->root_id)) {
        t->ns = ORGS_NS_ORG;
        t->key = org->id;
        t->rec = org->rec;
        t->version = org->version;
        struct moat_value *holder = moat_map_get(org->rec, "Root");
        if (!holder || holder->type != MOAT_V_MAP) {
            holder = moat_value_map(call->arena);
            moat_map_set(call->arena, org->rec, MOAT_LIT("Root"), holder);
        }
        t->tags_holder = holder;
        return NULL;
    }
    if (orgs_kind_of(id) == ORGS_ACCOUNT) {
        t->ns = ORGS_NS_MEMBER;
        err = orgs_member(call, org, id, &t->rec, &t->version, &found);
    } else if (orgs_kind_of(id) == ORGS_OU) {
        t->ns = ORGS_NS_OU;
        err = orgs_get(call, ORGS_NS_OU, id, &t->rec, &t->version, &found);
        found = found && moat_slice_eq(moat_map_str(t->rec, "OrgId"), org->id);
    } else if (moat_slice_starts_with(id, MOAT_LIT("p-")) &&
               !moat_slice_eq_cstr(id, ORGS_FULL_ACCESS_ID)) {
        t->ns = ORGS_NS_POLICY;
        err = orgs_get(call, ORGS_NS_POLICY, id, &t->rec, &t->version, &found);
        found = found && moat_slice_eq(moat_map_str(t->rec, "OrgId"), org->id);
    }
    if (err)
        return err;
    if (!found)
        return moat_fail(call, &orgs_target_not_found,
                         "We can't find a root, OU, account, or email that you specified.");
    t->tags_holder = t->rec;
    return NULL;
}

struct moat_error *orgs_tag_resource(struct moat_call *call, const struct moat_value *in,
                                     struct moat_value *out)
{
    struct orgs_org org;
    struct tagged t;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = load_tagged(call, &org,
                          moat_get_str(in, ORGANIZATIONS_TAG_RESOURCE_REQUEST_RESOURCE_ID), &t);
    if (!err)
        err = orgs_tags_apply(call, t.tags_holder,
                              moat_get(in, ORGANIZATIONS_TAG_RESOURCE_REQUEST_TAGS));
    if (!err)
        err = orgs_put(call, t.ns, t.key, t.rec, t.version);
    return err;
}

struct moat_error *orgs_untag_resource(struct moat_call *call, const struct moat_value *in,
                                       struct moat_value *out)
{
    struct orgs_org org;
    struct tagged t;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = load_tagged(call, &org,
                          moat_get_str(in, ORGANIZATIONS_UNTAG_RESOURCE_REQUEST_RESOURCE_ID), &t);
    if (err)
        return err;
    struct moat_value *tags = moat_map_get(t.tags_holder, "Tags");
    const struct moat_value *keys = moat_get(in, ORGANIZATIONS_UNTAG_RESOURCE_REQUEST_TAG_KEYS);
    for (uint32_t k = 0; tags && tags->type == MOAT_V_LIST && keys && k < keys->count; k++) {
        for (uint32_t j = 0; j < tags->count; j++) {
            if (moat_value_is_string(keys->u.items[k]) &&
                moat_slice_eq(moat_map_str(tags->u.items[j], "Key"), keys->u.items[k]->u.s)) {
                memmove(&tags->u.items[j], &tags->u.items[j + 1],
                        (tags->count - j - 1) * sizeof(tags->u.items[0]));
                tags->count--;
                break;
            }
        }
    }
    return orgs_put(call, t.ns, t.key, t.rec, t.version);
}

struct moat_error *orgs_list_tags_for_resource(struct moat_call *call, const struct moat_value *in,
                                               struct moat_value *out)
{
    struct orgs_org org;
    struct tagged t;
    struct moat_error *err = orgs_load(call, ORGS_MGMT_OR_DELEGATED, &org);
    if (!err)
        err = load_tagged(
            call, &org, moat_get_str(in, ORGANIZATIONS_LIST_TAGS_FOR_RESOURCE_REQUEST_RESOURCE_ID),
            &t);
    if (err)
        return err;
    struct moat_value *list =
        moat_set_list(call->arena, out, ORGANIZATIONS_LIST_TAGS_FOR_RESOURCE_RESPONSE_TAGS);
    struct moat_value *tags = moat_map_get(t.tags_holder, "Tags");
    for (uint32_t i = 0; tags && tags->type == MOAT_V_LIST && i < tags->count; i++) {
        struct moat_value *o = moat_list_add_struct(call->arena, list);
        moat_set_str(call->arena, o, ORGANIZATIONS_TAG_KEY, moat_map_str(tags->u.items[i], "Key"));
        moat_set_str(call->arena, o, ORGANIZATIONS_TAG_VALUE,
                     moat_map_str(tags->u.items[i], "Value"));
    }
    return NULL;
}

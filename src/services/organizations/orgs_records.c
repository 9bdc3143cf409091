/* orgs_records.c: the stored organization: loading it for a caller (management account,
 * delegated administrator or member), identifiers and ARNs, parent/child and policy
 * attachment indexes, pagination and output structs. */
#include "auth/auth.h"
#include "aws/shapes/shapes_organizations.h"
#include "core/encoding.h"
#include "core/json.h"
#include "crypto/rootkey.h"
#include "services/organizations/orgs.h"

#include <string.h>

const struct moat_error_kind orgs_validation = {"ValidationException", 400, true};
const struct moat_error_kind orgs_access_denied = {"AccessDeniedException", 400, true};
const struct moat_error_kind orgs_not_in_use = {"AWSOrganizationsNotInUseException", 400, true};
const struct moat_error_kind orgs_already_in_org = {"AlreadyInOrganizationException", 400, true};
const struct moat_error_kind orgs_constraint_violation = {"ConstraintViolationException", 400,
                                                          true};
const struct moat_error_kind orgs_invalid_input = {"InvalidInputException", 400, true};
const struct moat_error_kind orgs_account_not_found = {"AccountNotFoundException", 400, true};
const struct moat_error_kind orgs_create_status_not_found = {"CreateAccountStatusNotFoundException",
                                                             400, true};
const struct moat_error_kind orgs_parent_not_found = {"ParentNotFoundException", 400, true};
const struct moat_error_kind orgs_child_not_found = {"ChildNotFoundException", 400, true};
const struct moat_error_kind orgs_ou_not_found = {"OrganizationalUnitNotFoundException", 400, true};
const struct moat_error_kind orgs_ou_not_empty = {"OrganizationalUnitNotEmptyException", 400, true};
const struct moat_error_kind orgs_duplicate_ou = {"DuplicateOrganizationalUnitException", 400,
                                                  true};
const struct moat_error_kind orgs_source_parent_not_found = {"SourceParentNotFoundException", 400,
                                                             true};
const struct moat_error_kind orgs_destination_parent_not_found = {
    "DestinationParentNotFoundException", 400, true};
const struct moat_error_kind orgs_duplicate_account = {"DuplicateAccountException", 400, true};
const struct moat_error_kind orgs_policy_not_found = {"PolicyNotFoundException", 400, true};
const struct moat_error_kind orgs_duplicate_policy = {"DuplicatePolicyException", 400, true};
const struct moat_error_kind orgs_duplicate_attachment = {"DuplicatePolicyAttachmentException", 400,
                                                          true};
const struct moat_error_kind orgs_policy_not_attached = {"PolicyNotAttachedException", 400, true};
const struct moat_error_kind orgs_policy_in_use = {"PolicyInUseException", 400, true};
const struct moat_error_kind orgs_target_not_found = {"TargetNotFoundException", 400, true};
const struct moat_error_kind orgs_malformed_policy = {"MalformedPolicyDocumentException", 400,
                                                      true};
const struct moat_error_kind orgs_policy_type_not_enabled = {"PolicyTypeNotEnabledException", 400,
                                                             true};
const struct moat_error_kind orgs_policy_type_already_enabled = {
    "PolicyTypeAlreadyEnabledException", 400, true};
const struct moat_error_kind orgs_policy_type_not_available = {
    "PolicyTypeNotAvailableForOrganizationException", 400, true};
const struct moat_error_kind orgs_root_not_found = {"RootNotFoundException", 400, true};
const struct moat_error_kind orgs_not_empty = {"OrganizationNotEmptyException", 400, true};
const struct moat_error_kind orgs_account_already_registered = {"AccountAlreadyRegisteredException",
                                                                400, true};
const struct moat_error_kind orgs_account_not_registered = {"AccountNotRegisteredException", 400,
                                                            true};
const struct moat_error_kind orgs_concurrent_modification = {"ConcurrentModificationException", 400,
                                                             true};

/* ---- records ------------------------------------------------------------------------------ */

struct moat_error *orgs_get(struct moat_call *call, const char *ns, struct moat_slice key,
                            struct moat_value **rec, int64_t *version, bool *found)
{
    return moat_record_get(call, ns, key, rec, version, found);
}

struct moat_error *orgs_put(struct moat_call *call, const char *ns, struct moat_slice key,
                            const struct moat_value *rec, int64_t version)
{
    return moat_record_put(call, ns, key, rec, version, &orgs_concurrent_modification,
                           "The target of the operation is currently being modified by a "
                           "different request. Try again later.");
}

struct moat_error *orgs_delete(struct moat_call *call, const char *ns, struct moat_slice key)
{
    return moat_record_delete(call, ns, key);
}

static struct moat_error *not_in_use(struct moat_call *call)
{
    return moat_fail(call, &orgs_not_in_use, "Your account is not a member of an organization.");
}

struct moat_error *orgs_load(struct moat_call *call, enum orgs_caller who, struct orgs_org *org)
{
    memset(org, 0, sizeof(*org));
    struct moat_value *member;
    bool found;
    struct moat_slice caller = moat_slice_cstr(call->account_id);
    struct moat_error *err = orgs_get(call, ORGS_NS_MEMBER, caller, &member, NULL, &found);
    if (err)
        return err;
    if (!found)
        return not_in_use(call);
    org->id = moat_map_str(member, "OrgId");
    if ((err = orgs_get(call, ORGS_NS_ORG, org->id, &org->rec, &org->version, &found)))
        return err;
    if (!found)
        return not_in_use(call);
    org->mgmt = moat_map_str(org->rec, "MasterAccountId");
    org->root_id = moat_map_str(org->rec, "RootId");
    org->caller_is_mgmt = moat_slice_eq(org->mgmt, caller);
    if (org->caller_is_mgmt || who == ORGS_ANY_MEMBER)
        return NULL;
    if (who == ORGS_MGMT_OR_DELEGATED) {
        int64_t n = 0;
        struct moat_slice prefix = moat_slice_cstr(
            moat_arena_printf(call->arena, "%.*s|%s|", MOAT_FMT(org->id), call->account_id));
        if (store_count(call->db, ORGS_NS_DELEGATED, prefix, &n) != STORE_OK)
            return moat_internal(call, "store count failed");
        if (n)
            return NULL;
    }
    return moat_fail(call, &orgs_access_denied,
                     "You don't have permissions to access this resource.");
}

struct moat_error *orgs_save(struct moat_call *call, struct orgs_org *org)
{
    return orgs_put(call, ORGS_NS_ORG, org->id, org->rec, org->version);
}

bool orgs_type_enabled(const struct orgs_org *org, const char *type)
{
    struct moat_value *types = moat_map_get(org->rec, "PolicyTypes");
    for (uint32_t i = 0; types && types->type == MOAT_V_LIST && i < types->count; i++)
        if (moat_slice_eq_cstr(moat_map_str(types->u.items[i], "Type"), type) &&
            moat_slice_eq_cstr(moat_map_str(types->u.items[i], "Status"), "ENABLED"))
            return true;
    return false;
}

/* ---- identifiers and ARNs --------------------------------------------------------------- */

struct moat_slice orgs_new_id(struct moat_arena *a, const char *prefix, size_t n)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    size_t plen = strlen(prefix);
    uint8_t *r = moat_arena_alloc(a, n);
    crypto_random(r, n);
    char *out = moat_arena_alloc(a, plen + n + 1);
    memcpy(out, prefix, plen);
    for (size_t i = 0; i < n; i++)
        out[plen + i] = alphabet[r[i] % 36];
    out[plen + n] = 0;
    return moat_slice(out, plen + n);
}

struct moat_error *orgs_new_account_id(struct moat_call *call, struct moat_slice *out)
{
    for (int attempt = 0; attempt < 16; attempt++) {
        uint8_t r[12];
        crypto_random(r, sizeof(r));
        char *id = moat_arena_alloc(call->arena, 13);
        for (int i = 0; i < 12; i++)
            id[i] = (char)('0' + r[i] % 10);
        id[0] = (char)('1' + r[0] % 9); /* not a leading zero: never the default account */
        id[12] = 0;
        *out = moat_slice(id, 12);
        if (!auth_account_exists(call->db, call->arena, *out))
            return NULL;
    }
    return moat_internal(call, "no free account id");
}

struct moat_slice orgs_arn(struct moat_arena *a, const struct orgs_org *org, const char *kind,
                           struct moat_slice id)
{
    return moat_slice_cstr(moat_arena_printf(a, "arn:aws:organizations::%.*s:%s/%.*s/%.*s",
                                             MOAT_FMT(org->mgmt), kind, MOAT_FMT(org->id),
                                             MOAT_FMT(id)));
}

struct moat_slice orgs_policy_arn(struct moat_arena *a, const struct orgs_org *org,
                                  struct moat_slice policy_id, struct moat_slice type,
                                  bool aws_managed)
{
    struct moat_buf b;
    moat_buf_init(&b, a, 128);
    if (aws_managed)
        moat_buf_append_cstr(&b, "arn:aws:organizations::aws:policy/");
    else
        moat_buf_printf(&b, "arn:aws:organizations::%.*s:policy/%.*s/", MOAT_FMT(org->mgmt),
                        MOAT_FMT(org->id));
    for (size_t i = 0; i < type.len; i++) {
        uint8_t c = type.ptr[i];
        moat_buf_append_u8(&b, c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c);
    }
    moat_buf_printf(&b, "/%.*s", MOAT_FMT(policy_id));
    return moat_buf_slice(&b);
}

enum orgs_kind orgs_kind_of(struct moat_slice id)
{
    if (moat_slice_starts_with(id, MOAT_LIT("r-")))
        return ORGS_ROOT;
    if (moat_slice_starts_with(id, MOAT_LIT("ou-")))
        return ORGS_OU;
    if (auth_is_account_id(id))
        return ORGS_ACCOUNT;
    return ORGS_UNKNOWN;
}

struct moat_error *orgs_member(struct moat_call *call, const struct orgs_org *org,
                               struct moat_slice account, struct moat_value **rec, int64_t *version,
                               bool *found)
{
    struct moat_error *err = orgs_get(call, ORGS_NS_MEMBER, account, rec, version, found);
    if (!err && *found && !moat_slice_eq(moat_map_str(*rec, "OrgId"), org->id))
        *found = false;
    return err;
}

struct moat_error *orgs_parent_exists(struct moat_call *call, const struct orgs_org *org,
                                      struct moat_slice id, bool *found)
{
    *found = false;
    if (moat_slice_eq(id, org->root_id)) {
        *found = true;
        return NULL;
    }
    if (orgs_kind_of(id) != ORGS_OU)
        return NULL;
    struct moat_value *ou;
    struct moat_error *err = orgs_get(call, ORGS_NS_OU, id, &ou, NULL, found);
    if (!err && *found && !moat_slice_eq(moat_map_str(ou, "OrgId"), org->id))
        *found = false;
    return err;
}

struct moat_error *orgs_child_link(struct moat_call *call, struct moat_slice parent, char type,
                                   struct moat_slice child, bool add)
{
    struct moat_slice key = moat_slice_cstr(
        moat_arena_printf(call->arena, "%.*s|%c|%.*s", MOAT_FMT(parent), type, MOAT_FMT(child)));
    if (!add)
        return orgs_delete(call, ORGS_NS_CHILD, key);
    return orgs_put(call, ORGS_NS_CHILD, key, moat_value_map(call->arena), STORE_ANY_VERSION);
}

struct moat_error *orgs_attach(struct moat_call *call, struct moat_slice policy,
                               struct moat_slice target, const char *type, bool add)
{
    struct moat_arena *a = call->arena;
    struct moat_slice k1 =
        moat_slice_cstr(moat_arena_printf(a, "%.*s|%.*s", MOAT_FMT(target), MOAT_FMT(policy)));
    struct moat_slice k2 =
        moat_slice_cstr(moat_arena_printf(a, "%.*s|%.*s", MOAT_FMT(policy), MOAT_FMT(target)));
    if (!add) {
        struct moat_error *err = orgs_delete(call, ORGS_NS_ATTACH, k1);
        return err ? err : orgs_delete(call, ORGS_NS_TARGET, k2);
    }
    struct moat_value *rec = moat_value_map(a);
    moat_map_set_cstr(a, rec, "Type", type);
    struct moat_error *err = orgs_put(call, ORGS_NS_ATTACH, k1, rec, STORE_ANY_VERSION);
    return err ? err : orgs_put(call, ORGS_NS_TARGET, k2, rec, STORE_ANY_VERSION);
}

/* ---- pagination ---------------------------------------------------------------------------- */

struct moat_error *orgs_page_begin(struct moat_call *call, const struct moat_value *in,
                                   unsigned token_member, unsigned max_member,
                                   struct orgs_page *page)
{
    page->max = (size_t)moat_get_int(in, max_member, 20);
    page->after = MOAT_NULL_SLICE;
    struct moat_slice token = moat_get_str(in, token_member);
    if (token.len &&
        (!moat_base64url_decode(call->arena, token, &page->after) || !page->after.len)) {
        struct moat_error *e = moat_fail(call, &orgs_invalid_input,
                                         "You specified an invalid value for nextToken. You must "
                                         "get the value from the response to a previous call to "
                                         "the API.");
        moat_error_add_extra(call->arena, e, "Reason", MOAT_LIT("INVALID_NEXT_TOKEN"));
        return e;
    }
    return NULL;
}

void orgs_page_end(struct moat_call *call, struct moat_value *out, unsigned token_member,
                   bool truncated, struct moat_slice last)
{
    if (!truncated || !last.len)
        return;
    struct moat_buf b;
    moat_buf_init(&b, call->arena, last.len * 2);
    moat_base64url_encode(&b, last);
    moat_set_str(call->arena, out, token_member, moat_buf_slice(&b));
}

struct moat_error *orgs_scan(struct moat_call *call, const char *ns, struct moat_slice prefix,
                             const struct orgs_page *page, orgs_scan_fn fn, void *arg,
                             bool *truncated, struct moat_slice *last)
{
    struct moat_slice after = page->after;
    size_t accepted = 0;
    *truncated = false;
    *last = MOAT_NULL_SLICE;
    for (;;) {
        struct store_record *recs;
        size_t n;
        bool more;
        if (store_scan(call->db, call->arena, ns, prefix, after, 200, &recs, &n, &more) != STORE_OK)
            return moat_internal(call, "store scan failed");
        for (size_t i = 0; i < n; i++) {
            if (accepted == page->max) {
                if (fn(call, &recs[i], arg, false)) {
                    *truncated = true;
                    return NULL;
                }
                continue;
            }
            if (fn(call, &recs[i], arg, true)) {
                accepted++;
                *last = recs[i].key;
            }
        }
        if (!more || !n)
            return NULL;
        after = recs[n - 1].key;
    }
}

/* ---- output ------------------------------------------------------------------------------------
 */

void orgs_fill_account(struct moat_call *call, struct moat_value *o, const struct moat_value *rec)
{
    struct moat_arena *a = call->arena;
    moat_set_str(a, o, ORGANIZATIONS_ACCOUNT_ID, moat_map_str(rec, "Id"));
    moat_set_str(a, o, ORGANIZATIONS_ACCOUNT_ARN, moat_map_str(rec, "Arn"));
    moat_set_str(a, o, ORGANIZATIONS_ACCOUNT_EMAIL, moat_map_str(rec, "Email"));
    moat_set_str(a, o, ORGANIZATIONS_ACCOUNT_NAME, moat_map_str(rec, "Name"));
    moat_set_cstr(a, o, ORGANIZATIONS_ACCOUNT_STATUS, "ACTIVE");
    moat_set_cstr(a, o, ORGANIZATIONS_ACCOUNT_STATE, "ACTIVE");
    moat_set_str(a, o, ORGANIZATIONS_ACCOUNT_JOINED_METHOD, moat_map_str(rec, "JoinedMethod"));
    moat_set_ts(a, o, ORGANIZATIONS_ACCOUNT_JOINED_TIMESTAMP,
                moat_map_int(rec, "JoinedTimestamp", 0));
}

void orgs_fill_organization(struct moat_call *call, struct moat_value *o,
                            const struct orgs_org *org)
{
    struct moat_arena *a = call->arena;
    const struct moat_value *rec = org->rec;
    moat_set_str(a, o, ORGANIZATIONS_ORGANIZATION_ID, org->id);
    moat_set_str(a, o, ORGANIZATIONS_ORGANIZATION_ARN, moat_map_str(rec, "Arn"));
    moat_set_str(a, o, ORGANIZATIONS_ORGANIZATION_FEATURE_SET, moat_map_str(rec, "FeatureSet"));
    moat_set_str(a, o, ORGANIZATIONS_ORGANIZATION_MASTER_ACCOUNT_ARN,
                 moat_map_str(rec, "MasterAccountArn"));
    moat_set_str(a, o, ORGANIZATIONS_ORGANIZATION_MASTER_ACCOUNT_ID, org->mgmt);
    moat_set_str(a, o, ORGANIZATIONS_ORGANIZATION_MASTER_ACCOUNT_EMAIL,
                 moat_map_str(rec, "MasterAccountEmail"));
    /* Deprecated by AWS, still returned: the policy types the organization can use. */
    struct moat_value *types =
        moat_set_list(a, o, ORGANIZATIONS_ORGANIZATION_AVAILABLE_POLICY_TYPES);
    if (moat_slice_eq_cstr(moat_map_str(rec, "FeatureSet"), "ALL")) {
        struct moat_value *t = moat_list_add_struct(a, types);
        moat_set_cstr(a, t, ORGANIZATIONS_POLICY_TYPE_SUMMARY_TYPE, ORGS_SCP);
        moat_set_cstr(a, t, ORGANIZATIONS_POLICY_TYPE_SUMMARY_STATUS, "ENABLED");
    }
}

void orgs_fill_root(struct moat_call *call, struct moat_value *o, const struct orgs_org *org)
{
    struct moat_arena *a = call->arena;
    moat_set_str(a, o, ORGANIZATIONS_ROOT_ID, org->root_id);
    moat_set_str(a, o, ORGANIZATIONS_ROOT_ARN, orgs_arn(a, org, "root", org->root_id));
    moat_set_cstr(a, o, ORGANIZATIONS_ROOT_NAME, "Root");
    struct moat_value *list = moat_set_list(a, o, ORGANIZATIONS_ROOT_POLICY_TYPES);
    struct moat_value *types = moat_map_get(org->rec, "PolicyTypes");
    for (uint32_t i = 0; types && types->type == MOAT_V_LIST && i < types->count; i++) {
        struct moat_value *t = moat_list_add_struct(a, list);
        moat_set_str(a, t, ORGANIZATIONS_POLICY_TYPE_SUMMARY_TYPE,
                     moat_map_str(types->u.items[i], "Type"));
        moat_set_str(a, t, ORGANIZATIONS_POLICY_TYPE_SUMMARY_STATUS,
                     moat_map_str(types->u.items[i], "Status"));
    }
}

#define ORGS_MAX_TAGS 50

struct moat_error *orgs_tags_apply(struct moat_call *call, struct moat_value *rec,
                                   const struct moat_value *tags)
{
    if (!tags || tags->type != MOAT_V_LIST)
        return NULL;
    struct moat_arena *a = call->arena;
    struct moat_value *list = moat_map_get(rec, "Tags");
    if (!list || list->type != MOAT_V_LIST) {
        list = moat_value_list(a);
        moat_map_set(a, rec, MOAT_LIT("Tags"), list);
    }
    for (uint32_t i = 0; i < tags->count; i++) {
        struct moat_slice k = moat_get_str(tags->u.items[i], ORGANIZATIONS_TAG_KEY);
        struct moat_slice v = moat_get_str(tags->u.items[i], ORGANIZATIONS_TAG_VALUE);
        bool replaced = false;
        for (uint32_t j = 0; j < list->count; j++) {
            if (moat_slice_eq(moat_map_str(list->u.items[j], "Key"), k)) {
                moat_map_set_str(a, list->u.items[j], "Value", v);
                replaced = true;
            }
        }
        if (!replaced) {
            struct moat_value *t = moat_value_map(a);
            moat_map_set_str(a, t, "Key", k);
            moat_map_set_str(a, t, "Value", v);
            moat_list_push(a, list, t);
        }
    }
    if (list->count > ORGS_MAX_TAGS) {
        struct moat_error *e = moat_fail(call, &orgs_constraint_violation,
                                         "You have exceeded the allowed number of tags for a "
                                         "resource.");
        moat_error_add_extra(a, e, "Reason", MOAT_LIT("MAX_TAG_LIMIT_EXCEEDED"));
        return e;
    }
    return NULL;
}

/* iam_authz.c: what each IAM operation is authorised on: the resource ARNs of the
 * Service Authorization Reference (user, group, role, policy, mfa) and the condition
 * keys IAM adds (aws:RequestTag, aws:TagKeys, aws:ResourceTag, iam:ResourceTag,
 * iam:PermissionsBoundary, iam:PolicyARN).
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
 */
#include "auth/auth.h"
#include "aws/shapes/shapes_iam.h"
#include "iam/iam_context.h"
#include "services/iam/iam.h"
#include "services/iam/iam_authz.h"

#include <string.h>

static struct moat_error *ctx_fail(struct moat_call *call)
{
    return moat_internal(call, "request context is full");
}

static void set_resource(struct moat_authz *authz, struct moat_slice arn, struct moat_arena *a)
{
    authz->resources[0] = moat_arena_cstr(a, arn);
    authz->resource_count = 1;
}

/* aws:ResourceTag/<k> and iam:ResourceTag/<k> from a stored record's tags. */
static struct moat_error *resource_tags(struct moat_call *call, struct moat_authz *authz,
                                        const struct moat_value *rec)
{
    struct moat_value *tags = moat_map_get(rec, "Tags");
    for (uint32_t i = 0; tags && tags->type == MOAT_V_LIST && i < tags->count; i++) {
        struct moat_slice k = moat_map_str(tags->u.items[i], "Key");
        struct moat_slice v = moat_map_str(tags->u.items[i], "Value");
        if (!iam_context_set_split(authz->context, MOAT_LIT("aws:ResourceTag/"), k, v) ||
            !iam_context_set_split(authz->context, MOAT_LIT("iam:ResourceTag/"), k, v))
            return ctx_fail(call);
    }
    return NULL;
}

/* aws:RequestTag/<k> and aws:TagKeys from a Tags input list. */
static struct moat_error *request_tags(struct moat_call *call, struct moat_authz *authz,
                                       const struct moat_value *list)
{
    if (!list || list->type != MOAT_V_LIST)
        return NULL;
    struct moat_slice *keys = moat_arena_alloc(call->arena, (list->count + 1) * sizeof(*keys));
    for (uint32_t i = 0; i < list->count; i++) {
        keys[i] = moat_get_str(list->u.items[i], IAM_TAG_KEY);
        if (!iam_context_set_split(authz->context, MOAT_LIT("aws:RequestTag/"), keys[i],
                                   moat_get_str(list->u.items[i], IAM_TAG_VALUE)))
            return ctx_fail(call);
    }
    if (!iam_context_set_multi(authz->context, MOAT_LIT("aws:TagKeys"), keys, list->count))
        return ctx_fail(call);
    return NULL;
}

/* aws:TagKeys from a TagKeys input list (Untag*). */
static struct moat_error *tag_keys(struct moat_call *call, struct moat_authz *authz,
                                   const struct moat_value *list)
{
    if (!list || list->type != MOAT_V_LIST)
        return NULL;
    struct moat_slice *keys = moat_arena_alloc(call->arena, (list->count + 1) * sizeof(*keys));
    for (uint32_t i = 0; i < list->count; i++)
        keys[i] = moat_value_is_string(list->u.items[i]) ? list->u.items[i]->u.s : MOAT_LIT("");
    if (!iam_context_set_multi(authz->context, MOAT_LIT("aws:TagKeys"), keys, list->count))
        return ctx_fail(call);
    return NULL;
}

static struct moat_error *set_key(struct moat_call *call, struct moat_authz *authz, const char *key,
                                  struct moat_slice value)
{
    if (!value.len)
        return NULL;
    if (!iam_context_set(authz->context, moat_slice_cstr(key), value))
        return ctx_fail(call);
    return NULL;
}

/* The ARN of a named user, group or role (its stored path), with its tags as resource
 * tags. A missing entity is named with the default path; the handler then answers
 * NoSuchEntity. */
static struct moat_error *entity(struct moat_call *call, struct moat_authz *authz,
                                 enum iam_entity_kind kind, struct moat_slice name)
{
    struct iam_entity e;
    bool found;
    struct moat_error *err = iam_entity_find(call, kind, iam_account(call), name, &e, &found);
    if (err)
        return err;
    if (!found) {
        set_resource(
            authz,
            iam_arn(call->arena, iam_account(call), iam_entity_noun(kind), MOAT_LIT("/"), name),
            call->arena);
        return NULL;
    }
    set_resource(authz, e.arn, call->arena);
    return kind == IAM_ENTITY_GROUP ? NULL : resource_tags(call, authz, e.rec);
}

/* Member 0 names a user; absent, the caller. */
struct moat_error *iam_authz_user(struct moat_call *call, const struct moat_value *in,
                                  struct moat_authz *authz)
{
    struct moat_slice name;
    bool root;
    struct moat_error *err = iam_caller_user_name(call, moat_get_str(in, 0), &name, &root);
    if (err)
        return NULL; /* the handler reports it after authorization */
    if (root) {
        set_resource(authz,
                     moat_slice_cstr(
                         moat_arena_printf(call->arena, "arn:aws:iam::%s:root", call->account_id)),
                     call->arena);
        return NULL;
    }
    return entity(call, authz, IAM_ENTITY_USER, name);
}

struct moat_error *iam_authz_group(struct moat_call *call, const struct moat_value *in,
                                   struct moat_authz *authz)
{
    return entity(call, authz, IAM_ENTITY_GROUP, moat_get_str(in, 0));
}

struct moat_error *iam_authz_role(struct moat_call *call, const struct moat_value *in,
                                  struct moat_authz *authz)
{
    return entity(call, authz, IAM_ENTITY_ROLE, moat_get_str(in, 0));
}

/* Tag* on users and roles: member 0 names it, member 1 holds the tags. */
struct moat_error *iam_authz_tag_user(struct moat_call *call, const struct moat_value *in,
                                      struct moat_authz *authz)
{
    struct moat_error *err = entity(call, authz, IAM_ENTITY_USER, moat_get_str(in, 0));
    return err ? err : request_tags(call, authz, moat_get(in, IAM_TAG_USER_REQUEST_TAGS));
}

struct moat_error *iam_authz_tag_role(struct moat_call *call, const struct moat_value *in,
                                      struct moat_authz *authz)
{
    struct moat_error *err = entity(call, authz, IAM_ENTITY_ROLE, moat_get_str(in, 0));
    return err ? err : request_tags(call, authz, moat_get(in, IAM_TAG_ROLE_REQUEST_TAGS));
}

struct moat_error *iam_authz_untag_user(struct moat_call *call, const struct moat_value *in,
                                        struct moat_authz *authz)
{
    struct moat_error *err = entity(call, authz, IAM_ENTITY_USER, moat_get_str(in, 0));
    return err ? err : tag_keys(call, authz, moat_get(in, IAM_UNTAG_USER_REQUEST_TAG_KEYS));
}

struct moat_error *iam_authz_untag_role(struct moat_call *call, const struct moat_value *in,
                                        struct moat_authz *authz)
{
    struct moat_error *err = entity(call, authz, IAM_ENTITY_ROLE, moat_get_str(in, 0));
    return err ? err : tag_keys(call, authz, moat_get(in, IAM_UNTAG_ROLE_REQUEST_TAG_KEYS));
}

/* Put*PermissionsBoundary: iam:PermissionsBoundary. */
struct moat_error *iam_authz_user_boundary(struct moat_call *call, const struct moat_value *in,
                                           struct moat_authz *authz)
{
    struct moat_error *err = entity(call, authz, IAM_ENTITY_USER, moat_get_str(in, 0));
    return err ? err : set_key(call, authz, "iam:PermissionsBoundary", moat_get_str(in, 1));
}

struct moat_error *iam_authz_role_boundary(struct moat_call *call, const struct moat_value *in,
                                           struct moat_authz *authz)
{
    struct moat_error *err = entity(call, authz, IAM_ENTITY_ROLE, moat_get_str(in, 0));
    return err ? err : set_key(call, authz, "iam:PermissionsBoundary", moat_get_str(in, 1));
}

/* Delete*PermissionsBoundary: the boundary in place. */
static struct moat_error *current_boundary(struct moat_call *call, struct moat_authz *authz,
                                           enum iam_entity_kind kind, struct moat_slice name)
{
    struct moat_error *err = entity(call, authz, kind, name);
    if (err)
        return err;
    struct iam_entity e;
    bool found;
    if ((err = iam_entity_find(call, kind, iam_account(call), name, &e, &found)) || !found)
        return err;
    return set_key(call, authz, "iam:PermissionsBoundary",
                   moat_map_str(e.rec, "PermissionsBoundary"));
}

struct moat_error *iam_authz_user_boundary_current(struct moat_call *call,
                                                   const struct moat_value *in,
                                                   struct moat_authz *authz)
{
    return current_boundary(call, authz, IAM_ENTITY_USER, moat_get_str(in, 0));
}

struct moat_error *iam_authz_role_boundary_current(struct moat_call *call,
                                                   const struct moat_value *in,
                                                   struct moat_authz *authz)
{
    return current_boundary(call, authz, IAM_ENTITY_ROLE, moat_get_str(in, 0));
}

/* Attach/Detach*Policy: iam:PolicyARN; a user or role with a boundary also names it. */
static struct moat_error *attach(struct moat_call *call, const struct moat_value *in,
                                 struct moat_authz *authz, enum iam_entity_kind kind)
{
    struct moat_error *err = entity(call, authz, kind, moat_get_str(in, 0));
    if (!err)
        err = set_key(call, authz, "iam:PolicyARN", moat_get_str(in, 1));
    if (err || kind == IAM_ENTITY_GROUP)
        return err;
    struct iam_entity e;
    bool found;
    if ((err = iam_entity_find(call, kind, iam_account(call), moat_get_str(in, 0), &e, &found)) ||
        !found)
        return err;
    return set_key(call, authz, "iam:PermissionsBoundary",
                   moat_map_str(e.rec, "PermissionsBoundary"));
}

struct moat_error *iam_authz_attach_user(struct moat_call *call, const struct moat_value *in,
                                         struct moat_authz *authz)
{
    return attach(call, in, authz, IAM_ENTITY_USER);
}

struct moat_error *iam_authz_attach_group(struct moat_call *call, const struct moat_value *in,
                                          struct moat_authz *authz)
{
    return attach(call, in, authz, IAM_ENTITY_GROUP);
}

struct moat_error *iam_authz_attach_role(struct moat_call *call, const struct moat_value *in,
                                         struct moat_authz *authz)
{
    return attach(call, in, authz, IAM_ENTITY_ROLE);
}

/* Create*: the new entity's ARN from path and name, with its request tags and boundary. */
struct moat_error *iam_authz_create_user(struct moat_call *call, const struct moat_value *in,
                                         struct moat_authz *authz)
{
    set_resource(authz,
                 iam_arn(call->arena, iam_account(call), "user",
                         moat_get_str(in, IAM_CREATE_USER_REQUEST_PATH),
                         moat_get_str(in, IAM_CREATE_USER_REQUEST_USER_NAME)),
                 call->arena);
    struct moat_error *err = request_tags(call, authz, moat_get(in, IAM_CREATE_USER_REQUEST_TAGS));
    return err ? err
               : set_key(call, authz, "iam:PermissionsBoundary",
                         moat_get_str(in, IAM_CREATE_USER_REQUEST_PERMISSIONS_BOUNDARY));
}

struct moat_error *iam_authz_create_group(struct moat_call *call, const struct moat_value *in,
                                          struct moat_authz *authz)
{
    set_resource(authz,
                 iam_arn(call->arena, iam_account(call), "group",
                         moat_get_str(in, IAM_CREATE_GROUP_REQUEST_PATH),
                         moat_get_str(in, IAM_CREATE_GROUP_REQUEST_GROUP_NAME)),
                 call->arena);
    return NULL;
}

struct moat_error *iam_authz_create_role(struct moat_call *call, const struct moat_value *in,
                                         struct moat_authz *authz)
{
    set_resource(authz,
                 iam_arn(call->arena, iam_account(call), "role",
                         moat_get_str(in, IAM_CREATE_ROLE_REQUEST_PATH),
                         moat_get_str(in, IAM_CREATE_ROLE_REQUEST_ROLE_NAME)),
                 call->arena);
    struct moat_error *err = request_tags(call, authz, moat_get(in, IAM_CREATE_ROLE_REQUEST_TAGS));
    return err ? err
               : set_key(call, authz, "iam:PermissionsBoundary",
                         moat_get_str(in, IAM_CREATE_ROLE_REQUEST_PERMISSIONS_BOUNDARY));
}

struct moat_error *iam_authz_create_policy(struct moat_call *call, const struct moat_value *in,
                                           struct moat_authz *authz)
{
    set_resource(authz,
                 iam_arn(call->arena, iam_account(call), "policy",
                         moat_get_str(in, IAM_CREATE_POLICY_REQUEST_PATH),
                         moat_get_str(in, IAM_CREATE_POLICY_REQUEST_POLICY_NAME)),
                 call->arena);
    return request_tags(call, authz, moat_get(in, IAM_CREATE_POLICY_REQUEST_TAGS));
}

/* Member 0 is a policy ARN: the policy, with its tags. */
struct moat_error *iam_authz_policy(struct moat_call *call, const struct moat_value *in,
                                    struct moat_authz *authz)
{
    struct moat_slice arn = moat_get_str(in, 0);
    set_resource(authz, arn, call->arena);
    struct iam_managed m;
    bool found;
    struct moat_error *err = iam_managed_find(call, iam_account(call), arn, &m, &found);
    if (err || !found)
        return NULL; /* the handler answers InvalidInput or NoSuchEntity */
    return resource_tags(call, authz, m.rec);
}

struct moat_error *iam_authz_tag_policy(struct moat_call *call, const struct moat_value *in,
                                        struct moat_authz *authz)
{
    struct moat_error *err = iam_authz_policy(call, in, authz);
    return err ? err : request_tags(call, authz, moat_get(in, IAM_TAG_POLICY_REQUEST_TAGS));
}

struct moat_error *iam_authz_untag_policy(struct moat_call *call, const struct moat_value *in,
                                          struct moat_authz *authz)
{
    struct moat_error *err = iam_authz_policy(call, in, authz);
    return err ? err : tag_keys(call, authz, moat_get(in, IAM_UNTAG_POLICY_REQUEST_TAG_KEYS));
}

/* List{Users,Groups,Roles}: the path prefix as a resource, e.g. arn:aws:iam::A:user/. */
static struct moat_error *listing(struct moat_call *call, struct moat_authz *authz,
                                  const char *type, struct moat_slice prefix)
{
    set_resource(authz, iam_arn(call->arena, iam_account(call), type, prefix, MOAT_NULL_SLICE),
                 call->arena);
    return NULL;
}

struct moat_error *iam_authz_list_users(struct moat_call *call, const struct moat_value *in,
                                        struct moat_authz *authz)
{
    return listing(call, authz, "user", moat_get_str(in, IAM_LIST_USERS_REQUEST_PATH_PREFIX));
}

struct moat_error *iam_authz_list_groups(struct moat_call *call, const struct moat_value *in,
                                         struct moat_authz *authz)
{
    return listing(call, authz, "group", moat_get_str(in, IAM_LIST_GROUPS_REQUEST_PATH_PREFIX));
}

struct moat_error *iam_authz_list_roles(struct moat_call *call, const struct moat_value *in,
                                        struct moat_authz *authz)
{
    return listing(call, authz, "role", moat_get_str(in, IAM_LIST_ROLES_REQUEST_PATH_PREFIX));
}

struct moat_error *iam_authz_list_policies(struct moat_call *call, const struct moat_value *in,
                                           struct moat_authz *authz)
{
    return listing(call, authz, "policy", moat_get_str(in, IAM_LIST_POLICIES_REQUEST_PATH_PREFIX));
}

/* Virtual MFA devices: arn:aws:iam::A:mfa/<path><name>. */
struct moat_error *iam_authz_create_mfa(struct moat_call *call, const struct moat_value *in,
                                        struct moat_authz *authz)
{
    set_resource(
        authz,
        iam_arn(call->arena, iam_account(call), "mfa",
                moat_get_str(in, IAM_CREATE_VIRTUAL_MFA_DEVICE_REQUEST_PATH),
                moat_get_str(in, IAM_CREATE_VIRTUAL_MFA_DEVICE_REQUEST_VIRTUAL_MFA_DEVICE_NAME)),
        call->arena);
    return request_tags(call, authz, moat_get(in, IAM_CREATE_VIRTUAL_MFA_DEVICE_REQUEST_TAGS));
}

struct moat_error *iam_authz_mfa_serial(struct moat_call *call, const struct moat_value *in,
                                        struct moat_authz *authz)
{
    set_resource(authz, moat_get_str(in, IAM_DELETE_VIRTUAL_MFA_DEVICE_REQUEST_SERIAL_NUMBER),
                 call->arena);
    return NULL;
}

struct moat_error *iam_authz_list_mfa(struct moat_call *call, const struct moat_value *in,
                                      struct moat_authz *authz)
{
    return listing(call, authz, "mfa", MOAT_NULL_SLICE);
}

/* GetMFADevice names the user in member 1. */
struct moat_error *iam_authz_get_mfa(struct moat_call *call, const struct moat_value *in,
                                     struct moat_authz *authz)
{
    struct moat_slice name;
    bool root;
    if (iam_caller_user_name(call, moat_get_str(in, IAM_GET_MFA_DEVICE_REQUEST_USER_NAME), &name,
                             &root))
        return NULL;
    if (root)
        return NULL;
    return entity(call, authz, IAM_ENTITY_USER, name);
}

/* GetAccessKeyLastUsed: the key's owner. */
struct moat_error *iam_authz_key_owner(struct moat_call *call, const struct moat_value *in,
                                       struct moat_authz *authz)
{
    struct moat_value *rec;
    struct moat_slice id = moat_get_str(in, IAM_GET_ACCESS_KEY_LAST_USED_REQUEST_ACCESS_KEY_ID);
    if (auth_access_key_record(call->db, call->arena, id, &rec) != STORE_OK)
        return NULL;
    struct moat_slice arn = moat_map_str(rec, "UserArn");
    if (!arn.len)
        arn = moat_slice_cstr(moat_arena_printf(call->arena, "arn:aws:iam::%.*s:root",
                                                MOAT_FMT(moat_map_str(rec, "AccountId"))));
    set_resource(authz, arn, call->arena);
    return NULL;
}

/* SimulatePrincipalPolicy, GetContextKeysForPrincipalPolicy: the principal. */
struct moat_error *iam_authz_policy_source(struct moat_call *call, const struct moat_value *in,
                                           struct moat_authz *authz)
{
    set_resource(authz, moat_get_str(in, 0), call->arena);
    return NULL;
}

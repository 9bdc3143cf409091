/* iam_entities.c: what users, groups and roles share: inline policies, attached
 * managed policies, tags and permissions boundaries. The three entity kinds have the
 * same member layout for these operations, so one handler serves each trio.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html */
#include "aws/shapes/shapes_iam.h"
#include "services/iam/iam.h"
#include "services/iam/iam_handlers.h"

#include <string.h>

/* Member layouts the generic handlers rely on. */
_Static_assert(IAM_PUT_USER_POLICY_REQUEST_USER_NAME == 0 &&
                   (int)IAM_PUT_GROUP_POLICY_REQUEST_GROUP_NAME == 0 &&
                   (int)IAM_PUT_ROLE_POLICY_REQUEST_ROLE_NAME == 0 &&
                   (int)IAM_PUT_USER_POLICY_REQUEST_POLICY_NAME == 1 &&
                   (int)IAM_PUT_GROUP_POLICY_REQUEST_POLICY_NAME == 1 &&
                   (int)IAM_PUT_ROLE_POLICY_REQUEST_POLICY_NAME == 1 &&
                   (int)IAM_PUT_USER_POLICY_REQUEST_POLICY_DOCUMENT == 2 &&
                   (int)IAM_PUT_GROUP_POLICY_REQUEST_POLICY_DOCUMENT == 2 &&
                   (int)IAM_PUT_ROLE_POLICY_REQUEST_POLICY_DOCUMENT == 2,
               "Put*Policy layout");
_Static_assert(IAM_GET_USER_POLICY_RESPONSE_USER_NAME == 0 &&
                   (int)IAM_GET_GROUP_POLICY_RESPONSE_GROUP_NAME == 0 &&
                   (int)IAM_GET_ROLE_POLICY_RESPONSE_ROLE_NAME == 0 &&
                   (int)IAM_GET_USER_POLICY_RESPONSE_POLICY_NAME == 1 &&
                   (int)IAM_GET_ROLE_POLICY_RESPONSE_POLICY_NAME == 1 &&
                   (int)IAM_GET_GROUP_POLICY_RESPONSE_POLICY_DOCUMENT == 2 &&
                   (int)IAM_GET_ROLE_POLICY_RESPONSE_POLICY_DOCUMENT == 2,
               "Get*Policy layout");
_Static_assert(IAM_LIST_USER_POLICIES_RESPONSE_POLICY_NAMES == 0 &&
                   (int)IAM_LIST_GROUP_POLICIES_RESPONSE_IS_TRUNCATED == 1 &&
                   (int)IAM_LIST_ROLE_POLICIES_RESPONSE_IS_TRUNCATED == 1 &&
                   (int)IAM_LIST_ATTACHED_USER_POLICIES_RESPONSE_ATTACHED_POLICIES == 0 &&
                   (int)IAM_LIST_ATTACHED_GROUP_POLICIES_RESPONSE_IS_TRUNCATED == 1 &&
                   (int)IAM_LIST_ATTACHED_ROLE_POLICIES_REQUEST_PATH_PREFIX == 1 &&
                   (int)IAM_LIST_ATTACHED_GROUP_POLICIES_REQUEST_PATH_PREFIX == 1 &&
                   (int)IAM_ATTACH_GROUP_POLICY_REQUEST_POLICY_ARN == 1 &&
                   (int)IAM_ATTACH_ROLE_POLICY_REQUEST_POLICY_ARN == 1 &&
                   (int)IAM_DETACH_GROUP_POLICY_REQUEST_POLICY_ARN == 1 &&
                   (int)IAM_DETACH_ROLE_POLICY_REQUEST_POLICY_ARN == 1,
               "List*Policies and Attach layout");
_Static_assert(IAM_TAG_ROLE_REQUEST_TAGS == (int)IAM_TAG_USER_REQUEST_TAGS &&
                   (int)IAM_UNTAG_ROLE_REQUEST_TAG_KEYS == (int)IAM_UNTAG_USER_REQUEST_TAG_KEYS &&
                   (int)IAM_LIST_ROLE_TAGS_RESPONSE_TAGS == (int)IAM_LIST_USER_TAGS_RESPONSE_TAGS &&
                   (int)IAM_LIST_ROLE_TAGS_RESPONSE_IS_TRUNCATED ==
                       (int)IAM_LIST_USER_TAGS_RESPONSE_IS_TRUNCATED &&
                   (int)IAM_PUT_ROLE_PERMISSIONS_BOUNDARY_REQUEST_PERMISSIONS_BOUNDARY ==
                       (int)IAM_PUT_USER_PERMISSIONS_BOUNDARY_REQUEST_PERMISSIONS_BOUNDARY,
               "tag and boundary layout");

static struct moat_error *load(struct moat_call *call, const struct moat_value *in,
                               enum iam_entity_kind kind, struct iam_entity *e)
{
    return iam_entity_load(call, kind, iam_account(call), moat_get_str(in, 0), e);
}

/* ---- inline policies ---------------------------------------------------------------------- */

static struct moat_error *put_inline(struct moat_call *call, const struct moat_value *in,
                                     enum iam_entity_kind kind)
{
    iam_begin_change(call);
    struct moat_arena *a = call->arena;
    struct iam_entity e;
    struct moat_error *err = load(call, in, kind, &e);
    if (err)
        return err;
    struct moat_slice name = moat_get_str(in, 1), doc = moat_get_str(in, 2);
    size_t limit = iam_entity_inline_limit(kind);
    struct iam_policy *pol;
    struct iam_policy_diag diag;
    enum iam_policy_status st = iam_policy_compile(IAM_POLICY_IDENTITY, doc, limit, &pol, &diag);
    if (st == IAM_POLICY_MALFORMED)
        return moat_fail(call, &iam_malformed_policy, "%s", diag.message);
    /* The quota is on the aggregate of the entity's inline policies, white space aside. */
    size_t total = iam_policy_counted_size(IAM_POLICY_IDENTITY, doc);
    if (st == IAM_POLICY_OK)
        iam_policy_unref(pol);
    struct moat_value *inl = iam_rec_map(a, e.rec, "InlinePolicies");
    for (uint32_t i = 0; i < inl->count; i++)
        if (!moat_slice_eq_nocase(inl->u.entries[i].key, name) &&
            moat_value_is_string(inl->u.entries[i].value))
            total += iam_policy_counted_size(IAM_POLICY_IDENTITY, inl->u.entries[i].value->u.s);
    if (st == IAM_POLICY_LIMIT_EXCEEDED || total > limit)
        return moat_fail(call, &iam_limit_exceeded,
                         "Maximum policy size of %zu bytes exceeded for %s %.*s", limit,
                         iam_entity_noun(kind), MOAT_FMT(e.name));
    /* Policy names are unique regardless of case; a put replaces. */
    for (uint32_t i = 0; i < inl->count; i++) {
        if (moat_slice_eq_nocase(inl->u.entries[i].key, name)) {
            moat_map_remove(inl, inl->u.entries[i].key);
            break;
        }
    }
    moat_map_set(a, inl, moat_arena_dup(a, name), moat_value_string(a, doc));
    return iam_entity_save(call, &e);
}

static struct moat_value *find_inline(const struct iam_entity *e, struct moat_slice name)
{
    struct moat_value *inl = moat_map_get(e->rec, "InlinePolicies");
    for (uint32_t i = 0; inl && inl->type == MOAT_V_MAP && i < inl->count; i++)
        if (moat_slice_eq_nocase(inl->u.entries[i].key, name))
            return inl->u.entries[i].value;
    return NULL;
}

static struct moat_error *no_such_inline(struct moat_call *call, enum iam_entity_kind kind,
                                         struct moat_slice name)
{
    return moat_fail(call, &iam_no_such_entity, "The %s policy with name %.*s cannot be found.",
                     iam_entity_noun(kind), MOAT_FMT(name));
}

static struct moat_error *get_inline(struct moat_call *call, const struct moat_value *in,
                                     struct moat_value *out, enum iam_entity_kind kind)
{
    struct iam_entity e;
    struct moat_error *err = load(call, in, kind, &e);
    if (err)
        return err;
    struct moat_slice name = moat_get_str(in, 1);
    struct moat_value *doc = find_inline(&e, name);
    if (!doc || !moat_value_is_string(doc))
        return no_such_inline(call, kind, name);
    struct moat_value *inl = moat_map_get(e.rec, "InlinePolicies");
    for (uint32_t i = 0; i < inl->count; i++)
        if (inl->u.entries[i].value == doc)
            name = inl->u.entries[i].key;
    moat_set_str(call->arena, out, 0, e.name);
    moat_set_str(call->arena, out, 1, name);
    moat_set_str(call->arena, out, 2, iam_url_encode(call->arena, doc->u.s));
    return NULL;
}

static struct moat_error *list_inline(struct moat_call *call, const struct moat_value *in,
                                      struct moat_value *out, enum iam_entity_kind kind)
{
    struct iam_entity e;
    struct moat_error *err = load(call, in, kind, &e);
    if (err)
        return err;
    struct moat_value *list = moat_set_list(call->arena, out, 0);
    struct moat_value *inl = moat_map_get(e.rec, "InlinePolicies");
    for (uint32_t i = 0; inl && inl->type == MOAT_V_MAP && i < inl->count; i++)
        moat_list_add_str(call->arena, list, inl->u.entries[i].key);
    moat_set_bool(call->arena, out, 1, false);
    return NULL;
}

static struct moat_error *delete_inline(struct moat_call *call, const struct moat_value *in,
                                        enum iam_entity_kind kind)
{
    iam_begin_change(call);
    struct iam_entity e;
    struct moat_error *err = load(call, in, kind, &e);
    if (err)
        return err;
    struct moat_slice name = moat_get_str(in, 1);
    struct moat_value *inl = moat_map_get(e.rec, "InlinePolicies");
    for (uint32_t i = 0; inl && inl->type == MOAT_V_MAP && i < inl->count; i++) {
        if (moat_slice_eq_nocase(inl->u.entries[i].key, name)) {
            moat_map_remove(inl, inl->u.entries[i].key);
            return iam_entity_save(call, &e);
        }
    }
    return no_such_inline(call, kind, name);
}

/* ---- attached managed policies ------------------------------------------------------------ */

static struct moat_error *attach(struct moat_call *call, const struct moat_value *in,
                                 enum iam_entity_kind kind)
{
    iam_begin_change(call);
    struct iam_entity e;
    struct moat_error *err = load(call, in, kind, &e);
    if (err)
        return err;
    if ((err = iam_entity_attach(call, &e, iam_account(call), moat_get_str(in, 1))))
        return err;
    return iam_entity_save(call, &e);
}

static struct moat_error *detach(struct moat_call *call, const struct moat_value *in,
                                 enum iam_entity_kind kind)
{
    iam_begin_change(call);
    struct iam_entity e;
    struct moat_error *err = load(call, in, kind, &e);
    if (err)
        return err;
    struct moat_slice arn = moat_get_str(in, 1);
    struct moat_value *att = moat_map_get(e.rec, "AttachedPolicies");
    if (!iam_list_remove(att, arn, false))
        return moat_fail(call, &iam_no_such_entity, "Policy %.*s was not found.", MOAT_FMT(arn));
    if ((err = iam_attachment_put(call, iam_account(call), arn, false, kind, e.name, false)))
        return err;
    return iam_entity_save(call, &e);
}

static struct moat_error *list_attached(struct moat_call *call, const struct moat_value *in,
                                        struct moat_value *out, enum iam_entity_kind kind)
{
    struct iam_entity e;
    struct moat_error *err = load(call, in, kind, &e);
    if (err)
        return err;
    struct moat_slice prefix = moat_get_str(in, 1);
    struct moat_value *list = moat_set_list(call->arena, out, 0);
    struct moat_value *att = moat_map_get(e.rec, "AttachedPolicies");
    for (uint32_t i = 0; att && att->type == MOAT_V_LIST && i < att->count; i++) {
        struct iam_managed m;
        bool found;
        if ((err = iam_managed_find(call, iam_account(call), att->u.items[i]->u.s, &m, &found)))
            return err;
        if (!found || !moat_slice_starts_with(moat_map_str(m.rec, "Path"), prefix))
            continue;
        struct moat_value *o = moat_list_add_struct(call->arena, list);
        moat_set_str(call->arena, o, IAM_ATTACHED_POLICY_POLICY_NAME,
                     moat_map_str(m.rec, "PolicyName"));
        moat_set_str(call->arena, o, IAM_ATTACHED_POLICY_POLICY_ARN, moat_map_str(m.rec, "Arn"));
    }
    moat_set_bool(call->arena, out, 1, false);
    return NULL;
}

/* ---- tags and boundaries (users and roles) ------------------------------------------------- */

static struct moat_error *tag(struct moat_call *call, const struct moat_value *in,
                              enum iam_entity_kind kind)
{
    iam_begin_change(call);
    struct iam_entity e;
    struct moat_error *err = load(call, in, kind, &e);
    if (!err)
        err = iam_tags_apply(call, e.rec, moat_get(in, IAM_TAG_USER_REQUEST_TAGS),
                             kind == IAM_ENTITY_USER ? "TagsPerUser" : "TagsPerRole");
    if (!err)
        err = iam_entity_save(call, &e);
    return err;
}

static struct moat_error *untag(struct moat_call *call, const struct moat_value *in,
                                enum iam_entity_kind kind)
{
    iam_begin_change(call);
    struct iam_entity e;
    struct moat_error *err = load(call, in, kind, &e);
    if (err)
        return err;
    iam_tags_remove(e.rec, moat_get(in, IAM_UNTAG_USER_REQUEST_TAG_KEYS));
    return iam_entity_save(call, &e);
}

static struct moat_error *list_tags(struct moat_call *call, const struct moat_value *in,
                                    struct moat_value *out, enum iam_entity_kind kind)
{
    struct iam_entity e;
    struct moat_error *err = load(call, in, kind, &e);
    if (err)
        return err;
    moat_set_list(call->arena, out, IAM_LIST_USER_TAGS_RESPONSE_TAGS);
    iam_tags_output(call, out, IAM_LIST_USER_TAGS_RESPONSE_TAGS, e.rec);
    moat_set_bool(call->arena, out, IAM_LIST_USER_TAGS_RESPONSE_IS_TRUNCATED, false);
    return NULL;
}

static struct moat_error *put_boundary(struct moat_call *call, const struct moat_value *in,
                                       enum iam_entity_kind kind)
{
    iam_begin_change(call);
    struct iam_entity e;
    struct moat_error *err = load(call, in, kind, &e);
    if (!err)
        err = iam_set_boundary(
            call, &e,
            moat_get_str(in, IAM_PUT_USER_PERMISSIONS_BOUNDARY_REQUEST_PERMISSIONS_BOUNDARY));
    if (!err)
        err = iam_entity_save(call, &e);
    return err;
}

static struct moat_error *delete_boundary(struct moat_call *call, const struct moat_value *in,
                                          enum iam_entity_kind kind)
{
    iam_begin_change(call);
    struct iam_entity e;
    struct moat_error *err = load(call, in, kind, &e);
    if (err)
        return err;
    struct moat_slice pb = moat_map_str(e.rec, "PermissionsBoundary");
    if (!pb.len)
        return moat_fail(call, &iam_no_such_entity,
                         "The %s with name %.*s does not have a permissions boundary.",
                         iam_entity_noun(kind), MOAT_FMT(e.name));
    if ((err = iam_attachment_put(call, iam_account(call), pb, true, kind, e.name, false)))
        return err;
    moat_map_remove(e.rec, MOAT_LIT("PermissionsBoundary"));
    return iam_entity_save(call, &e);
}

/* ---- the handlers the table names ---------------------------------------------------------- */

struct moat_error *iam_put_user_policy(struct moat_call *call, const struct moat_value *in,
                                       struct moat_value *out)
{
    return put_inline(call, in, IAM_ENTITY_USER);
}

struct moat_error *iam_put_group_policy(struct moat_call *call, const struct moat_value *in,
                                        struct moat_value *out)
{
    return put_inline(call, in, IAM_ENTITY_GROUP);
}

struct moat_error *iam_put_role_policy(struct moat_call *call, const struct moat_value *in,
                                       struct moat_value *out)
{
    return put_inline(call, in, IAM_ENTITY_ROLE);
}

struct moat_error *iam_get_user_policy(struct moat_call *call, const struct moat_value *in,
                                       struct moat_value *out)
{
    return get_inline(call, in, out, IAM_ENTITY_USER);
}

struct moat_error *iam_get_group_policy(struct moat_call *call, const struct moat_value *in,
                                        struct moat_value *out)
{
    return get_inline(call, in, out, IAM_ENTITY_GROUP);
}

struct moat_error *iam_get_role_policy(struct moat_call *call, const struct moat_value *in,
                                       struct moat_value *out)
{
    return get_inline(call, in, out, IAM_ENTITY_ROLE);
}

struct moat_error *iam_list_user_policies(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out)
{
    return list_inline(call, in, out, IAM_ENTITY_USER);
}

struct moat_error *iam_list_group_policies(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out)
{
    return list_inline(call, in, out, IAM_ENTITY_GROUP);
}

struct moat_error *iam_list_role_policies(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out)
{
    return list_inline(call, in, out, IAM_ENTITY_ROLE);
}

struct moat_error *iam_delete_user_policy(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out)
{
    return delete_inline(call, in, IAM_ENTITY_USER);
}

struct moat_error *iam_delete_group_policy(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out)
{
    return delete_inline(call, in, IAM_ENTITY_GROUP);
}

struct moat_error *iam_delete_role_policy(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out)
{
    return delete_inline(call, in, IAM_ENTITY_ROLE);
}

struct moat_error *iam_attach_user_policy(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out)
{
    return attach(call, in, IAM_ENTITY_USER);
}

struct moat_error *iam_attach_group_policy(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out)
{
    return attach(call, in, IAM_ENTITY_GROUP);
}

struct moat_error *iam_attach_role_policy(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out)
{
    return attach(call, in, IAM_ENTITY_ROLE);
}

struct moat_error *iam_detach_user_policy(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out)
{
    return detach(call, in, IAM_ENTITY_USER);
}

struct moat_error *iam_detach_group_policy(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out)
{
    return detach(call, in, IAM_ENTITY_GROUP);
}

struct moat_error *iam_detach_role_policy(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out)
{
    return detach(call, in, IAM_ENTITY_ROLE);
}

struct moat_error *iam_list_attached_user_policies(struct moat_call *call,
                                                   const struct moat_value *in,
                                                   struct moat_value *out)
{
    return list_attached(call, in, out, IAM_ENTITY_USER);
}

struct moat_error *iam_list_attached_group_policies(struct moat_call *call,
                                                    const struct moat_value *in,
                                                    struct moat_value *out)
{
    return list_attached(call, in, out, IAM_ENTITY_GROUP);
}

struct moat_error *iam_list_attached_role_policies(struct moat_call *call,
                                                   const struct moat_value *in,
                                                   struct moat_value *out)
{
    return list_attached(call, in, out, IAM_ENTITY_ROLE);
}

struct moat_error *iam_tag_user(struct moat_call *call, const struct moat_value *in,
                                struct moat_value *out)
{
    return tag(call, in, IAM_ENTITY_USER);
}

struct moat_error *iam_tag_role(struct moat_call *call, const struct moat_value *in,
                                struct moat_value *out)
{
    return tag(call, in, IAM_ENTITY_ROLE);
}

struct moat_error *iam_untag_user(struct moat_call *call, const struct moat_value *in,
                                  struct moat_value *out)
{
    return untag(call, in, IAM_ENTITY_USER);
}

struct moat_error *iam_untag_role(struct moat_call *call, const struct moat_value *in,
                                  struct moat_value *out)
{
    return untag(call, in, IAM_ENTITY_ROLE);
}

struct moat_error *iam_list_user_tags(struct moat_call *call, const struct moat_value *in,
                                      struct moat_value *out)
{
    return list_tags(call, in, out, IAM_ENTITY_USER);
}

struct moat_error *iam_list_role_tags(struct moat_call *call, const struct moat_value *in,
                                      struct moat_value *out)
{
    return list_tags(call, in, out, IAM_ENTITY_ROLE);
}

struct moat_error *iam_put_user_permissions_boundary(struct moat_call *call,
                                                     const struct moat_value *in,
                                                     struct moat_value *out)
{
    return put_boundary(call, in, IAM_ENTITY_USER);
}

struct moat_error *iam_put_role_permissions_boundary(struct moat_call *call,
                                                     const struct moat_value *in,
                                                     struct moat_value *out)
{
    return put_boundary(call, in, IAM_ENTITY_ROLE);
}

struct moat_error *iam_delete_user_permissions_boundary(struct moat_call *call,
                                                        const struct moat_value *in,
                                                        struct moat_value *out)
{
    return delete_boundary(call, in, IAM_ENTITY_USER);
}

struct moat_error *iam_delete_role_permissions_boundary(struct moat_call *call,
                                                        const struct moat_value *in,
                                                        struct moat_value *out)
{
    return delete_boundary(call, in, IAM_ENTITY_ROLE);
}

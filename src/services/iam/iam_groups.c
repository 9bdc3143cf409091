/* iam_groups.c: IAM groups and their membership. A user lists its groups (which the
 * principal source reads); iam/member records list a group's users (GetGroup).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_groups.html */
#include "aws/shapes/shapes_iam.h"
#include "services/iam/iam.h"
#include "services/iam/iam_handlers.h"

#include <string.h>

static void fill_group(struct moat_call *call, struct moat_value *o, const struct moat_value *rec,
                       bool details)
{
    struct moat_arena *a = call->arena;
    moat_set_str(a, o, IAM_GROUP_PATH, moat_map_str(rec, "Path"));
    moat_set_str(a, o, IAM_GROUP_GROUP_NAME, moat_map_str(rec, "GroupName"));
    moat_set_str(a, o, IAM_GROUP_GROUP_ID, moat_map_str(rec, "GroupId"));
    moat_set_str(a, o, IAM_GROUP_ARN, moat_map_str(rec, "Arn"));
    moat_set_ts(a, o, IAM_GROUP_CREATE_DATE, moat_map_int(rec, "CreateDate", 0));
}

static struct moat_slice member_key(struct moat_arena *a, struct moat_slice account,
                                    struct moat_slice group, struct moat_slice user)
{
    struct moat_slice g = iam_lower(a, group), u = iam_lower(a, user);
    return moat_slice_cstr(
        moat_arena_printf(a, "%.*s|%.*s|%.*s", MOAT_FMT(account), MOAT_FMT(g), MOAT_FMT(u)));
}

struct moat_error *iam_create_group(struct moat_call *call, const struct moat_value *in,
                                    struct moat_value *out)
{
    iam_begin_change(call);
    struct moat_slice name = moat_get_str(in, IAM_CREATE_GROUP_REQUEST_GROUP_NAME);
    struct iam_entity e;
    bool found;
    struct moat_error *err =
        iam_entity_find(call, IAM_ENTITY_GROUP, iam_account(call), name, &e, &found);
    if (err)
        return err;
    if (found)
        return moat_fail(call, &iam_entity_already_exists, "Group with name %.*s already exists.",
                         MOAT_FMT(name));
    iam_entity_new(call, IAM_ENTITY_GROUP, iam_account(call), name,
                   moat_get_str(in, IAM_CREATE_GROUP_REQUEST_PATH), &e);
    if ((err = iam_entity_save(call, &e)))
        return err;
    fill_group(call, moat_set_struct(call->arena, out, IAM_CREATE_GROUP_RESPONSE_GROUP), e.rec,
               true);
    return NULL;
}

struct group_users {
    struct moat_value *list;
    struct moat_slice prefix;
};

static bool group_user_fn(struct moat_call *call, const struct store_record *r,
                          struct moat_value *rec, void *arg, bool add)
{
    struct group_users *gu = arg;
    struct moat_slice user = moat_slice_sub(r->key, gu->prefix.len, r->key.len);
    struct iam_entity u;
    bool found;
    if (iam_entity_find(call, IAM_ENTITY_USER, iam_account(call), user, &u, &found) || !found)
        return false;
    if (add)
        iam_fill_user(call, moat_list_add_struct(call->arena, gu->list), u.rec, false);
    return true;
}

struct moat_error *iam_get_group(struct moat_call *call, const struct moat_value *in,
                                 struct moat_value *out)
{
    struct moat_arena *a = call->arena;
    struct iam_entity e;
    struct moat_error *err =
        iam_entity_load(call, IAM_ENTITY_GROUP, iam_account(call),
                        moat_get_str(in, IAM_GET_GROUP_REQUEST_GROUP_NAME), &e);
    if (err)
        return err;
    struct iam_page page;
    if ((err = iam_page_begin(call, in, IAM_GET_GROUP_REQUEST_MARKER,
                              IAM_GET_GROUP_REQUEST_MAX_ITEMS, &page)))
        return err;
    fill_group(call, moat_set_struct(a, out, IAM_GET_GROUP_RESPONSE_GROUP), e.rec, true);
    struct moat_slice g = iam_lower(a, e.name);
    struct group_users gu = {
        moat_set_list(a, out, IAM_GET_GROUP_RESPONSE_USERS),
        moat_slice_cstr(moat_arena_printf(a, "%s|%.*s|", call->account_id, MOAT_FMT(g))),
    };
    bool truncated;
    struct moat_slice last;
    if ((err = iam_scan(call, IAM_NS_MEMBER, gu.prefix, &page, group_user_fn, &gu, &truncated,
                        &last)))
        return err;
    iam_page_end(call, out, IAM_GET_GROUP_RESPONSE_IS_TRUNCATED, IAM_GET_GROUP_RESPONSE_MARKER,
                 truncated, last);
    return NULL;
}

struct moat_error *iam_list_groups(struct moat_call *call, const struct moat_value *in,
                                   struct moat_value *out)
{
    return iam_list_entities(call, in, out, IAM_ENTITY_GROUP, fill_group);
}

struct moat_error *iam_update_group(struct moat_call *call, const struct moat_value *in,
                                    struct moat_value *out)
{
    iam_begin_change(call);
    struct iam_entity e;
    struct moat_error *err =
        iam_entity_load(call, IAM_ENTITY_GROUP, iam_account(call),
                        moat_get_str(in, IAM_UPDATE_GROUP_REQUEST_GROUP_NAME), &e);
    if (err)
        return err;
    return iam_rename_entity(call, &e, moat_get_str(in, IAM_UPDATE_GROUP_REQUEST_NEW_GROUP_NAME),
                             moat_get_str(in, IAM_UPDATE_GROUP_REQUEST_NEW_PATH));
}

struct moat_error *iam_delete_group(struct moat_call *call, const struct moat_value *in,
                                    struct moat_value *out)
{
    iam_begin_change(call);
    struct moat_arena *a = call->arena;
    struct iam_entity e;
    struct moat_error *err =
        iam_entity_load(call, IAM_ENTITY_GROUP, iam_account(call),
                        moat_get_str(in, IAM_DELETE_GROUP_REQUEST_GROUP_NAME), &e);
    if (err)
        return err;
    struct moat_slice g = iam_lower(a, e.name);
    int64_t members = 0;
    if ((err = iam_record_count(
             call, IAM_NS_MEMBER,
             moat_slice_cstr(moat_arena_printf(a, "%s|%.*s|", call->account_id, MOAT_FMT(g))),
             &members)))
        return err;
    if (members)
        return moat_fail(call, &iam_delete_conflict,
                         "Cannot delete entity, must remove users from group first.");
    struct moat_value *inl = moat_map_get(e.rec, "InlinePolicies");
    if (inl && inl->count)
        return moat_fail(call, &iam_delete_conflict,
                         "Cannot delete entity, must delete policies first.");
    struct moat_value *att = moat_map_get(e.rec, "AttachedPolicies");
    if (att && att->count)
        return moat_fail(call, &iam_delete_conflict,
                         "Cannot delete entity, must detach all policies first.");
    return iam_entity_delete(call, &e);
}

#define IAM_MAX_GROUPS_PER_USER 10

struct moat_error *iam_add_user_to_group(struct moat_call *call, const struct moat_value *in,
                                         struct moat_value *out)
{
    iam_begin_change(call);
    struct moat_arena *a = call->arena;
    struct iam_entity g, u;
    struct moat_error *err =
        iam_entity_load(call, IAM_ENTITY_GROUP, iam_account(call),
                        moat_get_str(in, IAM_ADD_USER_TO_GROUP_REQUEST_GROUP_NAME), &g);
    if (!err)
        err = iam_entity_load(call, IAM_ENTITY_USER, iam_account(call),
                              moat_get_str(in, IAM_ADD_USER_TO_GROUP_REQUEST_USER_NAME), &u);
    if (err)
        return err;
    struct moat_value *groups = iam_rec_list(a, u.rec, "Groups");
    if (iam_list_has(groups, g.name, true))
        return NULL; /* already a member */
    if (groups->count >= IAM_MAX_GROUPS_PER_USER)
        return moat_fail(call, &iam_limit_exceeded, "Cannot exceed quota for GroupsPerUser: %d",
                         IAM_MAX_GROUPS_PER_USER);
    iam_list_add(a, groups, g.name);
    if ((err = iam_record_put(call, IAM_NS_MEMBER, member_key(a, iam_account(call), g.name, u.name),
                              moat_value_map(a), STORE_ANY_VERSION)))
        return err;
    return iam_entity_save(call, &u);
}

struct moat_error *iam_remove_user_from_group(struct moat_call *call, const struct moat_value *in,
                                              struct moat_value *out)
{
    iam_begin_change(call);
    struct moat_arena *a = call->arena;
    struct iam_entity g, u;
    struct moat_error *err =
        iam_entity_load(call, IAM_ENTITY_GROUP, iam_account(call),
                        moat_get_str(in, IAM_REMOVE_USER_FROM_GROUP_REQUEST_GROUP_NAME), &g);
    if (!err)
        err = iam_entity_load(call, IAM_ENTITY_USER, iam_account(call),
                              moat_get_str(in, IAM_REMOVE_USER_FROM_GROUP_REQUEST_USER_NAME), &u);
    if (err)
        return err;
    if (!iam_list_remove(moat_map_get(u.rec, "Groups"), g.name, true))
        return moat_fail(call, &iam_no_such_entity,
                         "The user with name %.*s cannot be found in group %.*s.", MOAT_FMT(u.name),
                         MOAT_FMT(g.name));
    if ((err = iam_record_delete(call, IAM_NS_MEMBER,
                                 member_key(a, iam_account(call), g.name, u.name))))
        return err;
    return iam_entity_save(call, &u);
}

struct moat_error *iam_list_groups_for_user(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out)
{
    struct iam_entity u;
    struct moat_error *err =
        iam_entity_load(call, IAM_ENTITY_USER, iam_account(call),
                        moat_get_str(in, IAM_LIST_GROUPS_FOR_USER_REQUEST_USER_NAME), &u);
    if (err)
        return err;
    struct moat_value *list =
        moat_set_list(call->arena, out, IAM_LIST_GROUPS_FOR_USER_RESPONSE_GROUPS);
    struct moat_value *groups = moat_map_get(u.rec, "Groups");
    for (uint32_t i = 0; groups && groups->type == MOAT_V_LIST && i < groups->count; i++) {
        struct iam_entity g;
        bool found;
        if ((err = iam_entity_find(call, IAM_ENTITY_GROUP, iam_account(call),
                                   groups->u.items[i]->u.s, &g, &found)))
            return err;
        if (found)
            fill_group(call, moat_list_add_struct(call->arena, list), g.rec, false);
    }
    moat_set_bool(call->arena, out, IAM_LIST_GROUPS_FOR_USER_RESPONSE_IS_TRUNCATED, false);
    return NULL;
}

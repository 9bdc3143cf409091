/* iam_users.c: IAM users and their access keys.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html */
#include "auth/auth.h"
#include "aws/shapes/shapes_iam.h"
#include "core/json.h"
#include "services/iam/iam.h"
#include "services/iam/iam_handlers.h"

#include <string.h>

/* The user an operation names, or the caller when UserName is absent (AWS: "If you do not
 * specify a user name, IAM determines the user name implicitly based on the AWS access
 * key ID used to sign the request"). *root when the caller is the root user. */
struct moat_error *iam_caller_user_name(struct moat_call *call, struct moat_slice given,
                                        struct moat_slice *name, bool *root)
{
    *root = false;
    if (given.len) {
        *name = given;
        return NULL;
    }
    const struct iam_principal *p = call->principal;
    if (p->type == IAM_PRINCIPAL_USER) {
        *name = p->name;
        return NULL;
    }
    if (p->type == IAM_PRINCIPAL_ROOT) {
        *root = true;
        *name = MOAT_NULL_SLICE;
        return NULL;
    }
    return moat_fail(call, &iam_validation_error,
                     "Must specify userName when calling with non-User credentials");
}

static void fill_boundary(struct moat_call *call, struct moat_value *o, unsigned member,
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

void iam_fill_user(struct moat_call *call, struct moat_value *o, const struct moat_value *rec,
                   bool details)
{
    struct moat_arena *a = call->arena;
    moat_set_str(a, o, IAM_USER_PATH, moat_map_str(rec, "Path"));
    moat_set_str(a, o, IAM_USER_USER_NAME, moat_map_str(rec, "UserName"));
    moat_set_str(a, o, IAM_USER_USER_ID, moat_map_str(rec, "UserId"));
    moat_set_str(a, o, IAM_USER_ARN, moat_map_str(rec, "Arn"));
    moat_set_ts(a, o, IAM_USER_CREATE_DATE, moat_map_int(rec, "CreateDate", 0));
    if (details) {
        fill_boundary(call, o, IAM_USER_PERMISSIONS_BOUNDARY, rec);
        iam_tags_output(call, o, IAM_USER_TAGS, rec);
    }
}

/* Checks a permissions boundary ARN and records it on a new or existing entity. */
struct moat_error *iam_set_boundary(struct moat_call *call, struct iam_entity *e,
                                    struct moat_slice arn)
{
    struct iam_managed m;
    bool found;
    struct moat_error *err = iam_managed_find(call, iam_account(call), arn, &m, &found);
    if (err && err->kind == &iam_invalid_input)
        return moat_fail(call, &iam_invalid_input, "ARN %.*s is not valid.", MOAT_FMT(arn));
    if (err)
        return err;
    if (!found)
        return moat_fail(call, &iam_no_such_entity,
                         "Scope ARN: %.*s does not exist or is not attachable.", MOAT_FMT(arn));
    struct moat_slice old = moat_map_str(e->rec, "PermissionsBoundary");
    if (old.len &&
        (err = iam_attachment_put(call, iam_account(call), old, true, e->kind, e->name, false)))
        return err;
    moat_map_set_str(call->arena, e->rec, "PermissionsBoundary", moat_map_str(m.rec, "Arn"));
    return iam_attachment_put(call, iam_account(call), moat_map_str(m.rec, "Arn"), true, e->kind,
                              e->name, true);
}

/* ---- users ------------------------------------------------------------------------------- */

struct moat_error *iam_create_user(struct moat_call *call, const struct moat_value *in,
                                   struct moat_value *out)
{
    iam_begin_change(call);
    struct moat_slice name = moat_get_str(in, IAM_CREATE_USER_REQUEST_USER_NAME);
    struct iam_entity e;
    bool found;
    struct moat_error *err =
        iam_entity_find(call, IAM_ENTITY_USER, iam_account(call), name, &e, &found);
    if (err)
        return err;
    if (found)
        return moat_fail(call, &iam_entity_already_exists, "User with name %.*s already exists.",
                         MOAT_FMT(name));
    iam_entity_new(call, IAM_ENTITY_USER, iam_account(call), name,
                   moat_get_str(in, IAM_CREATE_USER_REQUEST_PATH), &e);
    err = iam_tags_apply(call, e.rec, moat_get(in, IAM_CREATE_USER_REQUEST_TAGS), "TagsPerUser");
    struct moat_slice pb = moat_get_str(in, IAM_CREATE_USER_REQUEST_PERMISSIONS_BOUNDARY);
    if (!err && pb.len)
        err = iam_set_boundary(call, &e, pb);
    if (!err)
        err = iam_entity_save(call, &e);
    if (err)
        return err;
    iam_fill_user(call, moat_set_struct(call->arena, out, IAM_CREATE_USER_RESPONSE_USER), e.rec,
                  true);
    return NULL;
}

struct moat_error *iam_get_user(struct moat_call *call, const struct moat_value *in,
                                struct moat_value *out)
{
    struct moat_slice name;
    bool root;
    struct moat_error *err =
        iam_caller_user_name(call, moat_get_str(in, IAM_GET_USER_REQUEST_USER_NAME), &name, &root);
    if (err)
        return err;
    struct moat_value *o = moat_set_struct(call->arena, out, IAM_GET_USER_RESPONSE_USER);
    if (root) {
        /* The root user: its ARN and the account id as its unique id. */
        struct moat_value *acct;
        struct store_record r;
        int64_t created = 0;
        if (store_get(call->db, call->arena, AUTH_NS_ACCOUNT, iam_account(call), &r) == STORE_OK &&
            moat_json_parse(call->arena, r.value, 0, &acct, NULL))
            created = moat_map_int(acct, "CreateDate", 0);
        moat_set_cstr(call->arena, o, IAM_USER_PATH, "/");
        moat_set_str(call->arena, o, IAM_USER_USER_ID, iam_account(call));
        moat_set_cstr(call->arena, o, IAM_USER_ARN,
                      moat_arena_printf(call->arena, "arn:aws:iam::%s:root", call->account_id));
        moat_set_ts(call->arena, o, IAM_USER_CREATE_DATE, created);
        return NULL;
    }
    struct iam_entity e;
    if ((err = iam_entity_load(call, IAM_ENTITY_USER, iam_account(call), name, &e)))
        return err;
    iam_fill_user(call, o, e.rec, true);
    return NULL;
}

struct path_filter {
    struct moat_value *list;
    struct moat_slice prefix;
    void (*fill)(struct moat_call *call, struct moat_value *o, const struct moat_value *rec,
                 bool details);
};

static bool list_by_path(struct moat_call *call, const struct store_record *r,
                         struct moat_value *rec, void *arg, bool add)
{
    struct path_filter *pf = arg;
    if (!moat_slice_starts_with(moat_map_str(rec, "Path"), pf->prefix))
        return false;
    if (add)
        pf->fill(call, moat_list_add_struct(call->arena, pf->list), rec, false);
    return true;
}

/* Lists users, groups or roles of the caller's account whose path starts with a prefix. */
struct moat_error *iam_list_entities(struct moat_call *call, const struct moat_value *in,
                                     struct moat_value *out, enum iam_entity_kind kind,
                                     void (*fill)(struct moat_call *, struct moat_value *,
                                                  const struct moat_value *, bool))
{
    /* ListUsers, ListGroups and ListRoles share their member layout. */
    _Static_assert(IAM_LIST_USERS_REQUEST_PATH_PREFIX == (int)IAM_LIST_ROLES_REQUEST_PATH_PREFIX &&
                       (int)IAM_LIST_USERS_REQUEST_MARKER == (int)IAM_LIST_GROUPS_REQUEST_MARKER &&
                       (int)IAM_LIST_USERS_REQUEST_MAX_ITEMS ==
                           (int)IAM_LIST_ROLES_REQUEST_MAX_ITEMS &&
                       (int)IAM_LIST_USERS_RESPONSE_USERS == (int)IAM_LIST_GROUPS_RESPONSE_GROUPS &&
                       (int)IAM_LIST_USERS_RESPONSE_IS_TRUNCATED ==
                           (int)IAM_LIST_ROLES_RESPONSE_IS_TRUNCATED &&
                       (int)IAM_LIST_USERS_RESPONSE_MARKER == (int)IAM_LIST_GROUPS_RESPONSE_MARKER,
                   "list member layouts differ");
    struct iam_page page;
    struct moat_error *err = iam_page_begin(call, in, IAM_LIST_USERS_REQUEST_MARKER,
                                            IAM_LIST_USERS_REQUEST_MAX_ITEMS, &page);
    if (err)
        return err;
    struct path_filter pf = {moat_set_list(call->arena, out, IAM_LIST_USERS_RESPONSE_USERS),
                             moat_get_str(in, IAM_LIST_USERS_REQUEST_PATH_PREFIX), fill};
    struct moat_slice prefix =
        moat_slice_cstr(moat_arena_printf(call->arena, "%s/", call->account_id));
    bool truncated;
    struct moat_slice last;
    if ((err = iam_scan(call, iam_entity_ns(kind), prefix, &page, list_by_path, &pf, &truncated,
                        &last)))
        return err;
    iam_page_end(call, out, IAM_LIST_USERS_RESPONSE_IS_TRUNCATED, IAM_LIST_USERS_RESPONSE_MARKER,
                 truncated, last);
    return NULL;
}

struct moat_error *iam_list_users(struct moat_call *call, const struct moat_value *in,
                                  struct moat_value *out)
{
    return iam_list_entities(call, in, out, IAM_ENTITY_USER, iam_fill_user);
}

/* Moves a user's or group's records to a new name and/or path (UpdateUser, UpdateGroup). */
struct moat_error *iam_rename_entity(struct moat_call *call, struct iam_entity *e,
                                     struct moat_slice new_name, struct moat_slice new_path)
{
    struct moat_arena *a = call->arena;
    struct moat_slice acct = iam_account(call);
    struct moat_slice old_name = e->name;
    if (!new_name.len)
        new_name = old_name;
    if (!new_path.len)
        new_path = e->path;
    struct moat_slice new_key = iam_name_key(a, acct, new_name);
    bool moved = !moat_slice_eq(new_key, e->key);
    struct moat_error *err;
    if (moved) {
        struct iam_entity other;
        bool found;
        if ((err = iam_entity_find(call, e->kind, acct, new_name, &other, &found)))
            return err;
        if (found)
            return moat_fail(call, &iam_entity_already_exists, "%s with name %.*s already exists.",
                             e->kind == IAM_ENTITY_USER ? "User" : "Group", MOAT_FMT(new_name));
    }
    const char *name_key = e->kind == IAM_ENTITY_USER ? "UserName" : "GroupName";
    struct moat_slice new_arn = iam_arn(a, acct, iam_entity_noun(e->kind), new_path, new_name);
    /* Attachments are keyed by name. */
    struct moat_value *att = moat_map_get(e->rec, "AttachedPolicies");
    for (uint32_t i = 0; att && att->type == MOAT_V_LIST && i < att->count; i++) {
        struct moat_slice arn = att->u.items[i]->u.s;
        if ((err = iam_attachment_put(call, acct, arn, false, e->kind, old_name, false)) ||
            (err = iam_attachment_put(call, acct, arn, false, e->kind, new_name, true)))
            return err;
    }
    struct moat_slice pb = moat_map_str(e->rec, "PermissionsBoundary");
    if (pb.len && ((err = iam_attachment_put(call, acct, pb, true, e->kind, old_name, false)) ||
                   (err = iam_attachment_put(call, acct, pb, true, e->kind, new_name, true))))
        return err;
    struct moat_value *empty = moat_value_map(a);
    if (e->kind == IAM_ENTITY_USER) {
        struct moat_value *groups = moat_map_get(e->rec, "Groups");
        for (uint32_t i = 0; groups && groups->type == MOAT_V_LIST && i < groups->count; i++) {
            struct moat_slice g = iam_lower(a, groups->u.items[i]->u.s);
            struct moat_slice ou = iam_lower(a, old_name), nu = iam_lower(a, new_name);
            if ((err = iam_record_delete(
                     call, IAM_NS_MEMBER,
                     moat_slice_cstr(moat_arena_printf(a, "%.*s|%.*s|%.*s", MOAT_FMT(acct),
                                                       MOAT_FMT(g), MOAT_FMT(ou))))) ||
                (err = iam_record_put(
                     call, IAM_NS_MEMBER,
                     moat_slice_cstr(moat_arena_printf(a, "%.*s|%.*s|%.*s", MOAT_FMT(acct),
                                                       MOAT_FMT(g), MOAT_FMT(nu))),
                     empty, STORE_ANY_VERSION)))
                return err;
        }
        struct moat_value *keys = moat_map_get(e->rec, "AccessKeys");
        for (uint32_t i = 0; keys && keys->type == MOAT_V_LIST && i < keys->count; i++) {
            enum store_status st =
                auth_access_key_set_owner(call->db, a, keys->u.items[i]->u.s, new_name, new_arn);
            if (st != STORE_OK && st != STORE_NOT_FOUND)
                return moat_internal(call, "access key update failed");
        }
        struct moat_value *mfas = moat_map_get(e->rec, "MFADevices");
        for (uint32_t i = 0; mfas && mfas->type == MOAT_V_LIST && i < mfas->count; i++) {
            struct moat_slice key = moat_slice_cstr(
                moat_arena_printf(a, "%.*s/%.*s", MOAT_FMT(acct), MOAT_FMT(mfas->u.items[i]->u.s)));
            struct moat_value *dev;
            int64_t ver;
            bool found;
            if ((err = iam_record_get(call, IAM_NS_MFA, key, &dev, &ver, &found)))
                return err;
            if (!found)
                continue;
            moat_map_set_str(a, dev, "UserName", new_name);
            if ((err = iam_record_put(call, IAM_NS_MFA, key, dev, ver)))
                return err;
        }
    } else {
        /* A group's members list it by name. */
        struct moat_slice og = iam_lower(a, old_name), ng = iam_lower(a, new_name);
        struct moat_slice prefix =
            moat_slice_cstr(moat_arena_printf(a, "%.*s|%.*s|", MOAT_FMT(acct), MOAT_FMT(og)));
        struct store_record *recs;
        size_t n;
        bool more = true;
        struct moat_slice after = MOAT_NULL_SLICE;
        while (more) {
            if (store_scan(call->db, a, IAM_NS_MEMBER, prefix, after, 200, &recs, &n, &more) !=
                STORE_OK)
                return moat_internal(call, "store scan failed");
            for (size_t i = 0; i < n; i++) {
                struct moat_slice user = moat_slice_sub(recs[i].key, prefix.len, recs[i].key.len);
                struct iam_entity u;
                bool found;
                if ((err = iam_entity_find(call, IAM_ENTITY_USER, acct, user, &u, &found)))
                    return err;
                if (found) {
                    struct moat_value *groups = iam_rec_list(a, u.rec, "Groups");
                    iam_list_remove(groups, old_name, true);
                    iam_list_add(a, groups, new_name);
                    if ((err = iam_entity_save(call, &u)))
                        return err;
                }
                if (moved && ((err = iam_record_delete(call, IAM_NS_MEMBER, recs[i].key)) ||
                              (err = iam_record_put(call, IAM_NS_MEMBER,
                                                    moat_slice_cstr(moat_arena_printf(
                                                        a, "%.*s|%.*s|%.*s", MOAT_FMT(acct),
                                                        MOAT_FMT(ng), MOAT_FMT(user))),
                                                    empty, STORE_ANY_VERSION))))
                    return err;
            }
            if (n)
                after = recs[n - 1].key;
        }
    }
    moat_map_set_str(a, e->rec, name_key, new_name);
    moat_map_set_str(a, e->rec, "Path", new_path);
    moat_map_set_str(a, e->rec, "Arn", new_arn);
    if (moved) {
        if ((err = iam_entity_delete(call, e)))
            return err;
        e->key = new_key;
        e->version = STORE_MUST_NOT_EXIST;
    }
    return iam_entity_save(call, e);
}

struct moat_error *iam_update_user(struct moat_call *call, const struct moat_value *in,
                                   struct moat_value *out)
{
    iam_begin_change(call);
    struct iam_entity e;
    struct moat_error *err =
        iam_entity_load(call, IAM_ENTITY_USER, iam_account(call),
                        moat_get_str(in, IAM_UPDATE_USER_REQUEST_USER_NAME), &e);
    if (err)
        return err;
    return iam_rename_entity(call, &e, moat_get_str(in, IAM_UPDATE_USER_REQUEST_NEW_USER_NAME),
                             moat_get_str(in, IAM_UPDATE_USER_REQUEST_NEW_PATH));
}

static bool has_items(const struct moat_value *rec, const char *key)
{
    struct moat_value *v = moat_map_get(rec, key);
    return v && (v->type == MOAT_V_LIST || v->type == MOAT_V_MAP) && v->count > 0;
}

struct moat_error *iam_delete_user(struct moat_call *call, const struct moat_value *in,
                                   struct moat_value *out)
{
    iam_begin_change(call);
    struct iam_entity e;
    struct moat_error *err =
        iam_entity_load(call, IAM_ENTITY_USER, iam_account(call),
                        moat_get_str(in, IAM_DELETE_USER_REQUEST_USER_NAME), &e);
    if (err)
        return err;
    /* https://docs.aws.amazon.com/IAM/latest/UserGuide/id_users_remove.html#id_users_deleting_cli
     */
    if (has_items(e.rec, "AccessKeys"))
        return moat_fail(call, &iam_delete_conflict,
                         "Cannot delete entity, must delete access keys first.");
    if (has_items(e.rec, "MFADevices"))
        return moat_fail(call, &iam_delete_conflict,
                         "Cannot delete entity, must delete MFA device first.");
    if (has_items(e.rec, "InlinePolicies"))
        return moat_fail(call, &iam_delete_conflict,
                         "Cannot delete entity, must delete policies first.");
    if (has_items(e.rec, "AttachedPolicies"))
        return moat_fail(call, &iam_delete_conflict,
                         "Cannot delete entity, must detach all policies first.");
    if (has_items(e.rec, "Groups"))
        return moat_fail(call, &iam_delete_conflict,
                         "Cannot delete entity, must remove users from group first.");
    struct moat_slice pb = moat_map_str(e.rec, "PermissionsBoundary");
    if (pb.len &&
        (err = iam_attachment_put(call, iam_account(call), pb, true, e.kind, e.name, false)))
        return err;
    return iam_entity_delete(call, &e);
}

/* ---- access keys -------------------------------------------------------------------------- */

#define IAM_MAX_ACCESS_KEYS 2
#define IAM_NS_ROOT_KEYS "iam/rootkeys" /* "<acct>" -> {"AccessKeys": [...]} */

/* The access key list of a user, or of the root user (the bootstrap key and those made
 * with CreateAccessKey). */
struct key_owner {
    bool root;
    struct iam_entity user; /* !root */
    struct moat_value *rec; /* root: the iam/rootkeys record */
    int64_t version;
    struct moat_value *keys;     /* list of ids */
    struct moat_slice bootstrap; /* root: the account's first key */
};

static struct moat_error *load_owner(struct moat_call *call, struct moat_slice given,
                                     struct key_owner *o)
{
    memset(o, 0, sizeof(*o));
    struct moat_slice name;
    struct moat_error *err = iam_caller_user_name(call, given, &name, &o->root);
    if (err)
        return err;
    if (!o->root) {
        if ((err = iam_entity_load(call, IAM_ENTITY_USER, iam_account(call), name, &o->user)))
            return err;
        o->keys = iam_rec_list(call->arena, o->user.rec, "AccessKeys");
        return NULL;
    }
    bool found;
    if ((err = iam_record_get(call, IAM_NS_ROOT_KEYS, iam_account(call), &o->rec, &o->version,
                              &found)))
        return err;
    if (!found) {
        o->rec = moat_value_map(call->arena);
        o->version = STORE_MUST_NOT_EXIST;
    }
    o->keys = iam_rec_list(call->arena, o->rec, "AccessKeys");
    struct moat_value *acct;
    struct store_record r;
    if (store_get(call->db, call->arena, AUTH_NS_ACCOUNT, iam_account(call), &r) == STORE_OK &&
        moat_json_parse(call->arena, r.value, 0, &acct, NULL))
        o->bootstrap = moat_map_str(acct, "RootAccessKeyId");
    return NULL;
}

static struct moat_error *save_owner(struct moat_call *call, struct key_owner *o)
{
    if (!o->root)
        return iam_entity_save(call, &o->user);
    return iam_record_put(call, IAM_NS_ROOT_KEYS, iam_account(call), o->rec, o->version);
}

static bool owner_has_key(const struct key_owner *o, struct moat_slice id)
{
    return iam_list_has(o->keys, id, false) || (o->root && moat_slice_eq(o->bootstrap, id));
}

struct moat_error *iam_create_access_key(struct moat_call *call, const struct moat_value *in,
                                         struct moat_value *out)
{
    iam_begin_change(call);
    struct key_owner o;
    struct moat_error *err =
        load_owner(call, moat_get_str(in, IAM_CREATE_ACCESS_KEY_REQUEST_USER_NAME), &o);
    if (err)
        return err;
    size_t have = o.keys->count + (o.root && o.bootstrap.len ? 1 : 0);
    if (have >= IAM_MAX_ACCESS_KEYS)
        return moat_fail(call, &iam_limit_exceeded, "Cannot exceed quota for AccessKeysPerUser: %d",
                         IAM_MAX_ACCESS_KEYS);
    char akid[21], secret[41];
    auth_new_access_key_id(akid, false);
    auth_new_secret(secret);
    struct moat_arena *a = call->arena;
    char *secret_copy = moat_arena_strdup(a, secret);
    moat_arena_wipe_on_free(a, secret_copy, 40);
    memset(secret, 0, sizeof(secret));
    const char *user_name = o.root ? NULL : moat_arena_cstr(a, o.user.name);
    if (!auth_put_access_key(call->server, call->db, a, call->account_id, akid, secret_copy,
                             user_name, o.root ? NULL : moat_arena_cstr(a, o.user.id),
                             o.root ? NULL : moat_arena_cstr(a, o.user.arn), "Active",
                             call->now_ms))
        return moat_internal(call, "access key write failed");
    iam_list_add(a, o.keys, moat_slice_cstr(moat_arena_strdup(a, akid)));
    if ((err = save_owner(call, &o)))
        return err;
    struct moat_value *k = moat_set_struct(a, out, IAM_CREATE_ACCESS_KEY_RESPONSE_ACCESS_KEY);
    if (user_name)
        moat_set_cstr(a, k, IAM_ACCESS_KEY_USER_NAME, user_name);
    moat_set_cstr(a, k, IAM_ACCESS_KEY_ACCESS_KEY_ID, akid);
    moat_set_cstr(a, k, IAM_ACCESS_KEY_STATUS, "Active");
    moat_set_str(a, k, IAM_ACCESS_KEY_SECRET_ACCESS_KEY, moat_slice(secret_copy, 40));
    moat_set_ts(a, k, IAM_ACCESS_KEY_CREATE_DATE, call->now_ms);
    return NULL;
}

static void list_key(struct moat_call *call, struct moat_value *list, struct moat_slice id,
                     const struct key_owner *o)
{
    struct moat_value *rec;
    if (auth_access_key_record(call->db, call->arena, id, &rec) != STORE_OK)
        return;
    struct moat_value *m = moat_list_add_struct(call->arena, list);
    if (!o->root)
        moat_set_str(call->arena, m, IAM_ACCESS_KEY_METADATA_USER_NAME, o->user.name);
    moat_set_str(call->arena, m, IAM_ACCESS_KEY_METADATA_ACCESS_KEY_ID, id);
    moat_set_str(call->arena, m, IAM_ACCESS_KEY_METADATA_STATUS, moat_map_str(rec, "Status"));
    moat_set_ts(call->arena, m, IAM_ACCESS_KEY_METADATA_CREATE_DATE,
                moat_map_int(rec, "CreateDate", 0));
}

struct moat_error *iam_list_access_keys(struct moat_call *call, const struct moat_value *in,
                                        struct moat_value *out)
{
    struct key_owner o;
    struct moat_error *err =
        load_owner(call, moat_get_str(in, IAM_LIST_ACCESS_KEYS_REQUEST_USER_NAME), &o);
    if (err)
        return err;
    struct moat_value *list =
        moat_set_list(call->arena, out, IAM_LIST_ACCESS_KEYS_RESPONSE_ACCESS_KEY_METADATA);
    if (o.root && o.bootstrap.len)
        list_key(call, list, o.bootstrap, &o);
    for (uint32_t i = 0; i < o.keys->count; i++)
        list_key(call, list, o.keys->u.items[i]->u.s, &o);
    moat_set_bool(call->arena, out, IAM_LIST_ACCESS_KEYS_RESPONSE_IS_TRUNCATED, false);
    return NULL;
}

static struct moat_error *no_such_key(struct moat_call *call, struct moat_slice id)
{
    return moat_fail(call, &iam_no_such_entity, "The Access Key with id %.*s cannot be found.",
                     MOAT_FMT(id));
}

struct moat_error *iam_update_access_key(struct moat_call *call, const struct moat_value *in,
                                         struct moat_value *out)
{
    iam_begin_change(call);
    struct key_owner o;
    struct moat_slice id = moat_get_str(in, IAM_UPDATE_ACCESS_KEY_REQUEST_ACCESS_KEY_ID);
    struct moat_error *err =
        load_owner(call, moat_get_str(in, IAM_UPDATE_ACCESS_KEY_REQUEST_USER_NAME), &o);
    if (err)
        return err;
    if (!owner_has_key(&o, id))
        return no_such_key(call, id);
    struct moat_slice status = moat_get_str(in, IAM_UPDATE_ACCESS_KEY_REQUEST_STATUS);
    enum store_status st =
        auth_access_key_set_status(call->db, call->arena, id, moat_arena_cstr(call->arena, status));
    if (st == STORE_NOT_FOUND)
        return no_such_key(call, id);
    if (st != STORE_OK)
        return moat_internal(call, "access key update failed");
    return NULL;
}

struct moat_error *iam_delete_access_key(struct moat_call *call, const struct moat_value *in,
                                         struct moat_value *out)
{
    iam_begin_change(call);
    struct key_owner o;
    struct moat_slice id = moat_get_str(in, IAM_DELETE_ACCESS_KEY_REQUEST_ACCESS_KEY_ID);
    struct moat_error *err =
        load_owner(call, moat_get_str(in, IAM_DELETE_ACCESS_KEY_REQUEST_USER_NAME), &o);
    if (err)
        return err;
    if (!owner_has_key(&o, id))
        return no_such_key(call, id);
    enum store_status st = auth_access_key_delete(call->db, id);
    if (st != STORE_OK && st != STORE_NOT_FOUND)
        return moat_internal(call, "access key delete failed");
    if (o.root && moat_slice_eq(o.bootstrap, id)) {
        /* The account's first key: `moat env` no longer has credentials to print. */
        struct store_record r;
        struct moat_value *acct;
        if (store_get(call->db, call->arena, AUTH_NS_ACCOUNT, iam_account(call), &r) == STORE_OK &&
            moat_json_parse(call->arena, r.value, 0, &acct, NULL)) {
            moat_map_remove(acct, MOAT_LIT("RootAccessKeyId"));
            if ((err = iam_record_put(call, AUTH_NS_ACCOUNT, iam_account(call), acct, r.version)))
                return err;
        }
        return NULL;
    }
    iam_list_remove(o.keys, id, false);
    return save_owner(call, &o);
}

/* GetAccessKeyLastUsed: read from the audit log, which records the access key id of every
 * request (newest first), so the answer is exact rather than AWS's four-hour estimate.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccessKeyLastUsed.html */
struct moat_error *iam_get_access_key_last_used(struct moat_call *call, const struct moat_value *in,
                                                struct moat_value *out)
{
    struct moat_arena *a = call->arena;
    struct moat_slice id = moat_get_str(in, IAM_GET_ACCESS_KEY_LAST_USED_REQUEST_ACCESS_KEY_ID);
    struct moat_value *rec;
    enum store_status st = auth_access_key_record(call->db, a, id, &rec);
    if (st == STORE_NOT_FOUND ||
        (st == STORE_OK && !moat_slice_eq(moat_map_str(rec, "AccountId"), iam_account(call))))
        return no_such_key(call, id);
    if (st != STORE_OK)
        return moat_internal(call, "access key read failed");
    if (moat_slice_eq_cstr(moat_map_str(rec, "Type"), "user"))
        moat_set_str(a, out, IAM_GET_ACCESS_KEY_LAST_USED_RESPONSE_USER_NAME,
                     moat_map_str(rec, "UserName"));
    struct moat_value *lu =
        moat_set_struct(a, out, IAM_GET_ACCESS_KEY_LAST_USED_RESPONSE_ACCESS_KEY_LAST_USED);
    struct store_audit_query q = {
        .account_id = iam_account(call),
        .start_ms = 0,
        .end_ms = INT64_MAX,
        .attr = STORE_AUDIT_ACCESS_KEY_ID,
        .value = id,
        .limit = 1,
    };
    struct store_audit_row *rows;
    size_t n = 0;
    if (store_audit_lookup(call->db, a, &q, &rows, &n) != STORE_OK)
        return moat_internal(call, "audit lookup failed");
    struct moat_value *event;
    if (n && moat_json_parse(a, rows[0].record, 0, &event, NULL)) {
        struct moat_slice source = moat_map_str(event, "eventSource");
        long dot = moat_slice_index(source, '.');
        moat_set_ts(a, lu, IAM_ACCESS_KEY_LAST_USED_LAST_USED_DATE, rows[0].event_time_ms);
        moat_set_str(a, lu, IAM_ACCESS_KEY_LAST_USED_SERVICE_NAME,
                     dot > 0 ? moat_slice_sub(source, 0, (size_t)dot) : source);
        moat_set_str(a, lu, IAM_ACCESS_KEY_LAST_USED_REGION, moat_map_str(event, "awsRegion"));
    } else {
        moat_set_cstr(a, lu, IAM_ACCESS_KEY_LAST_USED_SERVICE_NAME, "N/A");
        moat_set_cstr(a, lu, IAM_ACCESS_KEY_LAST_USED_REGION, "N/A");
    }
    return NULL;
}

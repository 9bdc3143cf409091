/* iam_roles.c: IAM roles with their trust (assume-role) policies.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html */
#include "auth/auth.h"
#include "aws/shapes/shapes_iam.h"
#include "core/json.h"
#include "services/iam/iam.h"
#include "services/iam/iam_handlers.h"

#include <string.h>

/* IAM User Guide, "IAM and AWS STS quotas": role trust policy length. */
#define IAM_TRUST_POLICY_LIMIT 2048

static void fill_role(struct moat_call *call, struct moat_value *o, const struct moat_value *rec,
                      bool details)
{
    struct moat_arena *a = call->arena;
    moat_set_str(a, o, IAM_ROLE_PATH, moat_map_str(rec, "Path"));
    moat_set_str(a, o, IAM_ROLE_ROLE_NAME, moat_map_str(rec, "RoleName"));
    moat_set_str(a, o, IAM_ROLE_ROLE_ID, moat_map_str(rec, "RoleId"));
    moat_set_str(a, o, IAM_ROLE_ARN, moat_map_str(rec, "Arn"));
    moat_set_ts(a, o, IAM_ROLE_CREATE_DATE, moat_map_int(rec, "CreateDate", 0));
    moat_set_str(a, o, IAM_ROLE_ASSUME_ROLE_POLICY_DOCUMENT,
                 iam_url_encode(a, moat_map_str(rec, "AssumeRolePolicyDocument")));
    struct moat_slice desc = moat_map_str(rec, "Description");
    if (desc.len)
        moat_set_str(a, o, IAM_ROLE_DESCRIPTION, desc);
    moat_set_int(a, o, IAM_ROLE_MAX_SESSION_DURATION,
                 moat_map_int(rec, "MaxSessionDuration", 3600));
    if (!details)
        return;
    struct moat_slice pb = moat_map_str(rec, "PermissionsBoundary");
    if (pb.len) {
        struct moat_value *b = moat_set_struct(a, o, IAM_ROLE_PERMISSIONS_BOUNDARY);
        moat_set_cstr(a, b, IAM_ATTACHED_PERMISSIONS_BOUNDARY_PERMISSIONS_BOUNDARY_TYPE,
                      "PermissionsBoundaryPolicy");
        moat_set_str(a, b, IAM_ATTACHED_PERMISSIONS_BOUNDARY_PERMISSIONS_BOUNDARY_ARN, pb);
    }
    iam_tags_output(call, o, IAM_ROLE_TAGS, rec);
    struct moat_value *lu = moat_set_struct(a, o, IAM_ROLE_ROLE_LAST_USED);
    int64_t last = moat_map_int(rec, "LastUsedDate", 0);
    if (last) {
        moat_set_ts(a, lu, IAM_ROLE_LAST_USED_LAST_USED_DATE, last);
        moat_set_str(a, lu, IAM_ROLE_LAST_USED_REGION, moat_map_str(rec, "LastUsedRegion"));
    }
}

/* A user or role ARN a trust policy names must exist when its account is one of moat's
 * (IAM refuses "Invalid principal in policy" on write); accounts moat does not hold are
 * taken on trust, as their principals cannot be checked here. */
static struct moat_error *check_principal_arn(struct moat_call *call, struct moat_slice arn)
{
    struct moat_slice prefix = MOAT_LIT("arn:aws:iam::");
    if (!moat_slice_starts_with(arn, prefix) || arn.len < prefix.len + 14)
        return NULL;
    struct moat_slice account = moat_slice_sub(arn, prefix.len, prefix.len + 12);
    struct moat_slice rest = moat_slice_sub(arn, prefix.len + 13, arn.len);
    enum iam_entity_kind kind;
    if (moat_slice_starts_with(rest, MOAT_LIT("user/")))
        kind = IAM_ENTITY_USER;
    else if (moat_slice_starts_with(rest, MOAT_LIT("role/")))
        kind = IAM_ENTITY_ROLE;
    else
        return NULL;
    if (!auth_account_exists(call->db, call->arena, account))
        return NULL;
    struct moat_slice name = rest;
    for (size_t i = rest.len; i > 0; i--)
        if (rest.ptr[i - 1] == '/') {
            name = moat_slice_sub(rest, i, rest.len);
            break;
        }
    struct iam_entity e;
    bool found;
    struct moat_error *err = iam_entity_find(call, kind, account, name, &e, &found);
    if (err)
        return err;
    if (!found || !moat_slice_eq(e.arn, arn))
        return moat_fail(call, &iam_malformed_policy,
                         "Invalid principal in policy: \"AWS\":\"%.*s\"", MOAT_FMT(arn));
    return NULL;
}

static struct moat_error *check_trust(struct moat_call *call, struct moat_slice doc)
{
    struct moat_error *err =
        iam_check_policy(call, IAM_POLICY_TRUST, doc, IAM_TRUST_POLICY_LIMIT, "ACLSizePerRole");
    if (err)
        return err;
    struct moat_value *root;
    if (!moat_json_parse(call->arena, doc, 0, &root, NULL))
        return NULL; /* compiled above, so this does not happen */
    struct moat_value *st = moat_map_get(root, "Statement");
    size_t n = st && st->type == MOAT_V_LIST ? st->count : st ? 1 : 0;
    for (size_t i = 0; i < n; i++) {
        struct moat_value *s = st->type == MOAT_V_LIST ? st->u.items[i] : st;
        struct moat_value *aws = moat_map_get(moat_map_get(s, "Principal"), "AWS");
        size_t m = aws && aws->type == MOAT_V_LIST ? aws->count : aws ? 1 : 0;
        for (size_t j = 0; j < m; j++) {
            struct moat_value *v = aws->type == MOAT_V_LIST ? aws->u.items[j] : aws;
            if (moat_value_is_string(v) && (err = check_principal_arn(call, v->u.s)))
                return err;
        }
    }
    return NULL;
}

struct moat_error *iam_role_create_in(struct moat_call *call, struct moat_slice account,
                                      struct moat_slice name, struct moat_slice trust_policy,
                                      struct moat_slice description, struct iam_entity *out)
{
    bool found;
    struct moat_error *err = iam_entity_find(call, IAM_ENTITY_ROLE, account, name, out, &found);
    if (err)
        return err;
    if (found)
        return moat_fail(call, &iam_entity_already_exists, "Role with name %.*s already exists.",
                         MOAT_FMT(name));
    if ((err = check_trust(call, trust_policy)))
        return err;
    iam_entity_new(call, IAM_ENTITY_ROLE, account, name, MOAT_LIT("/"), out);
    moat_map_set_str(call->arena, out->rec, "AssumeRolePolicyDocument", trust_policy);
    if (description.len)
        moat_map_set_str(call->arena, out->rec, "Description", description);
    moat_map_set_int(call->arena, out->rec, "MaxSessionDuration", 3600);
    return NULL;
}

struct moat_error *iam_create_role(struct moat_call *call, const struct moat_value *in,
                                   struct moat_value *out)
{
    iam_begin_change(call);
    struct moat_arena *a = call->arena;
    struct moat_slice name = moat_get_str(in, IAM_CREATE_ROLE_REQUEST_ROLE_NAME);
    struct iam_entity e;
    struct moat_error *err =
        iam_role_create_in(call, iam_account(call), name,
                           moat_get_str(in, IAM_CREATE_ROLE_REQUEST_ASSUME_ROLE_POLICY_DOCUMENT),
                           moat_get_str(in, IAM_CREATE_ROLE_REQUEST_DESCRIPTION), &e);
    if (err)
        return err;
    struct moat_slice path = moat_get_str(in, IAM_CREATE_ROLE_REQUEST_PATH);
    if (path.len) {
        moat_map_set_str(a, e.rec, "Path", path);
        moat_map_set_str(a, e.rec, "Arn", iam_arn(a, iam_account(call), "role", path, name));
    }
    moat_map_set_int(a, e.rec, "MaxSessionDuration",
                     moat_get_int(in, IAM_CREATE_ROLE_REQUEST_MAX_SESSION_DURATION, 3600));
    err = iam_tags_apply(call, e.rec, moat_get(in, IAM_CREATE_ROLE_REQUEST_TAGS), "TagsPerRole");
    struct moat_slice pb = moat_get_str(in, IAM_CREATE_ROLE_REQUEST_PERMISSIONS_BOUNDARY);
    if (!err && pb.len) {
        e.name = moat_map_str(e.rec, "RoleName");
        err = iam_set_boundary(call, &e, pb);
    }
    if (!err)
        err = iam_entity_save(call, &e);
    if (err)
        return err;
    fill_role(call, moat_set_struct(a, out, IAM_CREATE_ROLE_RESPONSE_ROLE), e.rec, true);
    /* CreateRole answers without RoleLastUsed. */
    moat_set(moat_get(out, IAM_CREATE_ROLE_RESPONSE_ROLE), IAM_ROLE_ROLE_LAST_USED, NULL);
    return NULL;
}

struct moat_error *iam_get_role(struct moat_call *call, const struct moat_value *in,
                                struct moat_value *out)
{
    struct iam_entity e;
    struct moat_error *err = iam_entity_load(call, IAM_ENTITY_ROLE, iam_account(call),
                                             moat_get_str(in, IAM_GET_ROLE_REQUEST_ROLE_NAME), &e);
    if (err)
        return err;
    fill_role(call, moat_set_struct(call->arena, out, IAM_GET_ROLE_RESPONSE_ROLE), e.rec, true);
    return NULL;
}

struct moat_error *iam_list_roles(struct moat_call *call, const struct moat_value *in,
                                  struct moat_value *out)
{
    return iam_list_entities(call, in, out, IAM_ENTITY_ROLE, fill_role);
}

struct moat_error *iam_update_role(struct moat_call *call, const struct moat_value *in,
                                   struct moat_value *out)
{
    iam_begin_change(call);
    struct iam_entity e;
    struct moat_error *err =
        iam_entity_load(call, IAM_ENTITY_ROLE, iam_account(call),
                        moat_get_str(in, IAM_UPDATE_ROLE_REQUEST_ROLE_NAME), &e);
    if (err)
        return err;
    if (moat_has(in, IAM_UPDATE_ROLE_REQUEST_DESCRIPTION))
        moat_map_set_str(call->arena, e.rec, "Description",
                         moat_get_str(in, IAM_UPDATE_ROLE_REQUEST_DESCRIPTION));
    if (moat_has(in, IAM_UPDATE_ROLE_REQUEST_MAX_SESSION_DURATION))
        moat_map_set_int(call->arena, e.rec, "MaxSessionDuration",
                         moat_get_int(in, IAM_UPDATE_ROLE_REQUEST_MAX_SESSION_DURATION, 3600));
    return iam_entity_save(call, &e);
}

struct moat_error *iam_update_role_description(struct moat_call *call, const struct moat_value *in,
                                               struct moat_value *out)
{
    iam_begin_change(call);
    struct iam_entity e;
    struct moat_error *err =
        iam_entity_load(call, IAM_ENTITY_ROLE, iam_account(call),
                        moat_get_str(in, IAM_UPDATE_ROLE_DESCRIPTION_REQUEST_ROLE_NAME), &e);
    if (err)
        return err;
    moat_map_set_str(call->arena, e.rec, "Description",
                     moat_get_str(in, IAM_UPDATE_ROLE_DESCRIPTION_REQUEST_DESCRIPTION));
    if ((err = iam_entity_save(call, &e)))
        return err;
    fill_role(call, moat_set_struct(call->arena, out, IAM_UPDATE_ROLE_DESCRIPTION_RESPONSE_ROLE),
              e.rec, true);
    return NULL;
}

struct moat_error *iam_delete_role(struct moat_call *call, const struct moat_value *in,
                                   struct moat_value *out)
{
    iam_begin_change(call);
    struct iam_entity e;
    struct moat_error *err =
        iam_entity_load(call, IAM_ENTITY_ROLE, iam_account(call),
                        moat_get_str(in, IAM_DELETE_ROLE_REQUEST_ROLE_NAME), &e);
    if (err)
        return err;
    struct moat_value *inl = moat_map_get(e.rec, "InlinePolicies");
    if (inl && inl->count)
        return moat_fail(call, &iam_delete_conflict,
                         "Cannot delete entity, must delete policies first.");
    struct moat_value *att = moat_map_get(e.rec, "AttachedPolicies");
    if (att && att->count)
        return moat_fail(call, &iam_delete_conflict,
                         "Cannot delete entity, must detach all policies first.");
    struct moat_slice pb = moat_map_str(e.rec, "PermissionsBoundary");
    if (pb.len &&
        (err = iam_attachment_put(call, iam_account(call), pb, true, e.kind, e.name, false)))
        return err;
    return iam_entity_delete(call, &e);
}

struct moat_error *iam_update_assume_role_policy(struct moat_call *call,
                                                 const struct moat_value *in,
                                                 struct moat_value *out)
{
    iam_begin_change(call);
    struct iam_entity e;
    struct moat_error *err =
        iam_entity_load(call, IAM_ENTITY_ROLE, iam_account(call),
                        moat_get_str(in, IAM_UPDATE_ASSUME_ROLE_POLICY_REQUEST_ROLE_NAME), &e);
    if (err)
        return err;
    struct moat_slice doc = moat_get_str(in, IAM_UPDATE_ASSUME_ROLE_POLICY_REQUEST_POLICY_DOCUMENT);
    if ((err = check_trust(call, doc)))
        return err;
    moat_map_set_str(call->arena, e.rec, "AssumeRolePolicyDocument", doc);
    return iam_entity_save(call, &e);
}

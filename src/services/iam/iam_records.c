/* iam_records.c: the stored shape of IAM entities (users, groups, roles) and the
 * helpers every IAM handler shares: keys, JSON records, pagination, tags, ARNs. */
#include "auth/auth.h"
#include "aws/shapes/shapes_iam.h"
#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "services/iam/iam.h"

#include <string.h>

const struct moat_error_kind iam_no_such_entity = {"NoSuchEntity", 404, true};
const struct moat_error_kind iam_entity_already_exists = {"EntityAlreadyExists", 409, true};
const struct moat_error_kind iam_malformed_policy = {"MalformedPolicyDocument", 400, true};
const struct moat_error_kind iam_limit_exceeded = {"LimitExceeded", 409, true};
const struct moat_error_kind iam_delete_conflict = {"DeleteConflict", 409, true};
const struct moat_error_kind iam_invalid_input = {"InvalidInput", 400, true};
const struct moat_error_kind iam_validation_error = {"ValidationError", 400, true};
const struct moat_error_kind iam_access_denied = {"AccessDenied", 403, true};
const struct moat_error_kind iam_concurrent_modification = {"ConcurrentModification", 409, true};
const struct moat_error_kind iam_unmodifiable_entity = {"UnmodifiableEntity", 400, true};
const struct moat_error_kind iam_invalid_authentication_code = {"InvalidAuthenticationCode", 403,
                                                                true};
const struct moat_error_kind iam_policy_not_attachable = {"PolicyNotAttachable", 400, true};
const struct moat_error_kind iam_policy_evaluation = {"PolicyEvaluation", 500, false};

/* ---- keys and records -------------------------------------------------------- */

struct moat_slice iam_lower(struct moat_arena *a, struct moat_slice s)
{
    uint8_t *p = moat_arena_alloc(a, s.len + 1);
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        p[i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
    }
    p[s.len] = 0;
    return moat_slice(p, s.len);
}

struct moat_slice iam_name_key(struct moat_arena *a, struct moat_slice account,
                               struct moat_slice name)
{
    struct moat_slice lower = iam_lower(a, name);
    return moat_slice_cstr(moat_arena_printf(a, "%.*s/%.*s", MOAT_FMT(account), MOAT_FMT(lower)));
}

struct moat_slice iam_account(const struct moat_call *call)
{
    return moat_slice_cstr(call->account_id);
}

struct moat_error *iam_record_get(struct moat_call *call, const char *ns, struct moat_slice key,
                                  struct moat_value **rec, int64_t *version, bool *found)
{
    return moat_record_get(call, ns, key, rec, version, found);
}

struct moat_error *iam_record_put(struct moat_call *call, const char *ns, struct moat_slice key,
                                  const struct moat_value *rec, int64_t version)
{
    return moat_record_put(call, ns, key, rec, version, &iam_concurrent_modification,
                           "The request was rejected because multiple requests to change this "
                           "object were submitted simultaneously. Wait a few minutes and submit "
                           "your request again.");
}

struct moat_error *iam_record_delete(struct moat_call *call, const char *ns, struct moat_slice key)
{
    return moat_record_delete(call, ns, key);
}

struct moat_error *iam_record_count(struct moat_call *call, const char *ns,
                                    struct moat_slice prefix, int64_t *count)
{
    if (store_count(call->db, ns, prefix, count) != STORE_OK)
        return moat_internal(call, "store count failed");
    return NULL;
}

/* ---- lists inside records ------------------------------------------------------ */

bool iam_list_has(const struct moat_value *list, struct moat_slice s, bool nocase)
{
    if (!list || list->type != MOAT_V_LIST)
        return false;
    for (uint32_t i = 0; i < list->count; i++) {
        const struct moat_value *v = list->u.items[i];
        if (moat_value_is_string(v) &&
            (nocase ? moat_slice_eq_nocase(v->u.s, s) : moat_slice_eq(v->u.s, s)))
            return true;
    }
    return false;
}

void iam_list_add(struct moat_arena *a, struct moat_value *list, struct moat_slice s)
{
    moat_list_push(a, list, moat_value_string(a, s));
}

bool iam_list_remove(struct moat_value *list, struct moat_slice s, bool nocase)
{
    if (!list || list->type != MOAT_V_LIST)
        return false;
    for (uint32_t i = 0; i < list->count; i++) {
        const struct moat_value *v = list->u.items[i];
        if (moat_value_is_string(v) &&
            (nocase ? moat_slice_eq_nocase(v->u.s, s) : moat_slice_eq(v->u.s, s))) {
            memmove(&list->u.items[i], &list->u.items[i + 1],
                    (list->count - i - 1) * sizeof(list->u.items[0]));
            list->count--;
            return true;
        }
    }
    return false;
}

struct moat_value *iam_rec_list(struct moat_arena *a, struct moat_value *rec, const char *key)
{
    struct moat_value *v = moat_map_get(rec, key);
    if (v && v->type == MOAT_V_LIST)
        return v;
    v = moat_value_list(a);
    moat_map_set(a, rec, moat_slice_cstr(key), v);
    return v;
}

struct moat_value *iam_rec_map(struct moat_arena *a, struct moat_value *rec, const char *key)
{
    struct moat_value *v = moat_map_get(rec, key);
    if (v && v->type == MOAT_V_MAP)
        return v;
    v = moat_value_map(a);
    moat_map_set(a, rec, moat_slice_cstr(key), v);
    return v;
}

struct moat_slice iam_url_encode(struct moat_arena *a, struct moat_slice doc)
{
    struct moat_buf b;
    moat_buf_init(&b, a, doc.len + doc.len / 2 + 16);
    moat_url_encode(&b, doc, false);
    return moat_buf_slice(&b);
}

struct moat_slice iam_arn(struct moat_arena *a, struct moat_slice account, const char *type,
                          struct moat_slice path, struct moat_slice name)
{
    if (!path.len)
        path = MOAT_LIT("/");
    return moat_slice_cstr(moat_arena_printf(a, "arn:aws:iam::%.*s:%s%.*s%.*s", MOAT_FMT(account),
                                             type, MOAT_FMT(path), MOAT_FMT(name)));
}

void iam_begin_change(struct moat_call *call)
{
    auth_state_changing(call);
}

/* ---- policy documents --------------------------------------------------------- */

struct moat_error *iam_check_policy(struct moat_call *call, enum iam_policy_kind kind,
                                    struct moat_slice doc, size_t limit, const char *limit_name)
{
    struct iam_policy *pol;
    struct iam_policy_diag diag;
    enum iam_policy_status st = iam_policy_compile(kind, doc, limit, &pol, &diag);
    if (st == IAM_POLICY_OK) {
        iam_policy_unref(pol);
        return NULL;
    }
    if (st == IAM_POLICY_LIMIT_EXCEEDED) {
        if (limit_name)
            return moat_fail(call, &iam_limit_exceeded, "Cannot exceed quota for %s: %zu",
                             limit_name, limit ? limit : iam_policy_default_limit(kind));
        return moat_fail(call, &iam_limit_exceeded, "%s", diag.message);
    }
    return moat_fail(call, &iam_malformed_policy, "%s", diag.message);
}

/* ---- pagination ------------------------------------------------------------------ */

struct moat_error *iam_page_begin(struct moat_call *call, const struct moat_value *in,
                                  unsigned marker_member, unsigned max_member,
                                  struct iam_page *page)
{
    page->max_items = (size_t)moat_get_int(in, max_member, 100);
    page->after = MOAT_NULL_SLICE;
    struct moat_slice marker = moat_get_str(in, marker_member);
    if (marker.len) {
        struct moat_slice key;
        if (!moat_base64url_decode(call->arena, marker, &key) || !key.len)
            return moat_fail(call, &iam_invalid_input, "Invalid Marker: %.*s", MOAT_FMT(marker));
        page->after = key;
    }
    return NULL;
}

void iam_page_end(struct moat_call *call, struct moat_value *out, unsigned truncated_member,
                  unsigned marker_member, bool truncated, struct moat_slice last_key)
{
    moat_set_bool(call->arena, out, truncated_member, truncated);
    if (truncated && last_key.len) {
        struct moat_buf b;
        moat_buf_init(&b, call->arena, last_key.len * 2);
        moat_base64url_encode(&b, last_key);
        moat_set_str(call->arena, out, marker_member, moat_buf_slice(&b));
    }
}

struct moat_error *iam_scan(struct moat_call *call, const char *ns, struct moat_slice prefix,
                            const struct iam_page *page, iam_scan_fn fn, void *arg, bool *truncated,
                            struct moat_slice *last)
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
            struct moat_value *rec;
            if (!moat_json_parse(call->arena, recs[i].value, 0, &rec, NULL))
                return moat_internal(call, "stored IAM record is not JSON");
            if (accepted == page->max_items) {
                /* One more that would be listed means the page is truncated. */
                if (fn(call, &recs[i], rec, arg, false)) {
                    *truncated = true;
                    return NULL;
                }
                continue;
            }
            if (fn(call, &recs[i], rec, arg, true)) {
                accepted++;
                *last = recs[i].key;
            }
        }
        if (!more || !n)
            return NULL;
        after = recs[n - 1].key;
    }
}

/* ---- tags ------------------------------------------------------------------------- */

#define IAM_MAX_TAGS 50

struct moat_error *iam_tags_check(struct moat_call *call, const struct moat_value *tag_list)
{
    if (!tag_list || tag_list->type != MOAT_V_LIST)
        return NULL;
    for (uint32_t i = 0; i < tag_list->count; i++) {
        struct moat_slice k = moat_get_str(tag_list->u.items[i], IAM_TAG_KEY);
        if (k.len >= 4 && moat_slice_eq_nocase(moat_slice_sub(k, 0, 4), MOAT_LIT("aws:")))
            return moat_fail(call, &iam_invalid_input,
                             "User-defined tag keys can't start with \"aws:\". This prefix is "
                             "reserved for AWS tags.");
        for (uint32_t j = 0; j < i; j++)
            if (moat_slice_eq_nocase(k, moat_get_str(tag_list->u.items[j], IAM_TAG_KEY)))
                return moat_fail(call, &iam_invalid_input,
                                 "Duplicate tag keys found. Please note that Tag keys are case "
                                 "insensitive.");
    }
    if (tag_list->count > IAM_MAX_TAGS)
        return moat_fail(call, &iam_limit_exceeded,
                         "The number of tags has reached the maximum "
                         "limit.");
    return NULL;
}

struct moat_error *iam_tags_apply(struct moat_call *call, struct moat_value *rec,
                                  const struct moat_value *tag_list, const char *quota_name)
{
    struct moat_error *err = iam_tags_check(call, tag_list);
    if (err || !tag_list)
        return err;
    struct moat_value *tags = iam_rec_list(call->arena, rec, "Tags");
    for (uint32_t i = 0; i < tag_list->count; i++) {
        struct moat_slice k = moat_get_str(tag_list->u.items[i], IAM_TAG_KEY);
        struct moat_slice v = moat_get_str(tag_list->u.items[i], IAM_TAG_VALUE);
        bool replaced = false;
        for (uint32_t j = 0; j < tags->count; j++) {
            if (moat_slice_eq_nocase(moat_map_str(tags->u.items[j], "Key"), k)) {
                moat_map_set_str(call->arena, tags->u.items[j], "Value", v);
                replaced = true;
                break;
            }
        }
        if (!replaced) {
            struct moat_value *t = moat_value_map(call->arena);
            moat_map_set_str(call->arena, t, "Key", k);
            moat_map_set_str(call->arena, t, "Value", v);
            moat_list_push(call->arena, tags, t);
        }
    }
    if (tags->count > IAM_MAX_TAGS)
        return moat_fail(call, &iam_limit_exceeded, "Cannot exceed quota for %s: %d", quota_name,
                         IAM_MAX_TAGS);
    return NULL;
}

void iam_tags_remove(struct moat_value *rec, const struct moat_value *keys)
{
    struct moat_value *tags = moat_map_get(rec, "Tags");
    if (!tags || tags->type != MOAT_V_LIST || !keys || keys->type != MOAT_V_LIST)
        return;
    for (uint32_t k = 0; k < keys->count; k++) {
        if (!moat_value_is_string(keys->u.items[k]))
            continue;
        for (uint32_t j = 0; j < tags->count; j++) {
            if (moat_slice_eq_nocase(moat_map_str(tags->u.items[j], "Key"),
                                     keys->u.items[k]->u.s)) {
                memmove(&tags->u.items[j], &tags->u.items[j + 1],
                        (tags->count - j - 1) * sizeof(tags->u.items[0]));
                tags->count--;
                break;
            }
        }
    }
}

void iam_tags_output(struct moat_call *call, struct moat_value *out_struct, unsigned member,
                     const struct moat_value *rec)
{
    struct moat_value *tags = moat_map_get(rec, "Tags");
    if (!tags || tags->type != MOAT_V_LIST || !tags->count)
        return;
    struct moat_value *list = moat_set_list(call->arena, out_struct, member);
    for (uint32_t i = 0; i < tags->count; i++) {
        struct moat_value *t = moat_list_add_struct(call->arena, list);
        moat_set_str(call->arena, t, IAM_TAG_KEY, moat_map_str(tags->u.items[i], "Key"));
        moat_set_str(call->arena, t, IAM_TAG_VALUE, moat_map_str(tags->u.items[i], "Value"));
    }
}

/* ---- entities ----------------------------------------------------------------------- */

const char *iam_entity_noun(enum iam_entity_kind kind)
{
    return kind == IAM_ENTITY_USER ? "user" : kind == IAM_ENTITY_GROUP ? "group" : "role";
}

const char *iam_entity_ns(enum iam_entity_kind kind)
{
    return kind == IAM_ENTITY_USER    ? IAM_NS_USER
           : kind == IAM_ENTITY_GROUP ? IAM_NS_GROUP
                                      : IAM_NS_ROLE;
}

char iam_entity_letter(enum iam_entity_kind kind)
{
    return kind == IAM_ENTITY_USER ? 'u' : kind == IAM_ENTITY_GROUP ? 'g' : 'r';
}

/* IAM User Guide, "IAM and AWS STS quotas": aggregate inline policy size. */
size_t iam_entity_inline_limit(enum iam_entity_kind kind)
{
    return kind == IAM_ENTITY_USER ? 2048 : kind == IAM_ENTITY_GROUP ? 5120 : 10240;
}

static void entity_fill(struct iam_entity *e)
{
    const char *name_key = e->kind == IAM_ENTITY_USER    ? "UserName"
                           : e->kind == IAM_ENTITY_GROUP ? "GroupName"
                                                         : "RoleName";
    const char *id_key = e->kind == IAM_ENTITY_USER    ? "UserId"
                         : e->kind == IAM_ENTITY_GROUP ? "GroupId"
                                                       : "RoleId";
    e->name = moat_map_str(e->rec, name_key);
    e->id = moat_map_str(e->rec, id_key);
    e->arn = moat_map_str(e->rec, "Arn");
    e->path = moat_map_str(e->rec, "Path");
}

struct moat_error *iam_entity_find(struct moat_call *call, enum iam_entity_kind kind,
                                   struct moat_slice account, struct moat_slice name,
                                   struct iam_entity *out, bool *found)
{
    memset(out, 0, sizeof(*out));
    out->kind = kind;
    out->key = iam_name_key(call->arena, account, name);
    struct moat_error *err =
        iam_record_get(call, iam_entity_ns(kind), out->key, &out->rec, &out->version, found);
    if (err || !*found)
        return err;
    entity_fill(out);
    return NULL;
}

struct moat_error *iam_entity_load(struct moat_call *call, enum iam_entity_kind kind,
                                   struct moat_slice account, struct moat_slice name,
                                   struct iam_entity *out)
{
    bool found;
    struct moat_error *err = iam_entity_find(call, kind, account, name, out, &found);
    if (err)
        return err;
    if (!found)
        return moat_fail(call, &iam_no_such_entity, "The %s with name %.*s cannot be found.",
                         iam_entity_noun(kind), MOAT_FMT(name));
    return NULL;
}

struct moat_error *iam_entity_save(struct moat_call *call, struct iam_entity *e)
{
    return iam_record_put(call, iam_entity_ns(e->kind), e->key, e->rec, e->version);
}

struct moat_error *iam_entity_delete(struct moat_call *call, struct iam_entity *e)
{
    return iam_record_delete(call, iam_entity_ns(e->kind), e->key);
}

void iam_entity_new(struct moat_call *call, enum iam_entity_kind kind, struct moat_slice account,
                    struct moat_slice name, struct moat_slice path, struct iam_entity *out)
{
    struct moat_arena *a = call->arena;
    memset(out, 0, sizeof(*out));
    out->kind = kind;
    out->version = STORE_MUST_NOT_EXIST;
    out->key = iam_name_key(a, account, name);
    if (!path.len)
        path = MOAT_LIT("/");
    char id[22];
    auth_new_unique_id(id, kind == IAM_ENTITY_USER    ? "AIDA"
                           : kind == IAM_ENTITY_GROUP ? "AGPA"
                                                      : "AROA");
    out->rec = moat_value_map(a);
    const char *name_key = kind == IAM_ENTITY_USER    ? "UserName"
                           : kind == IAM_ENTITY_GROUP ? "GroupName"
                                                      : "RoleName";
    const char *id_key = kind == IAM_ENTITY_USER    ? "UserId"
                         : kind == IAM_ENTITY_GROUP ? "GroupId"
                                                    : "RoleId";
    moat_map_set_str(a, out->rec, name_key, moat_arena_dup(a, name));
    moat_map_set_cstr(a, out->rec, id_key, id);
    moat_map_set_str(a, out->rec, "Path", moat_arena_dup(a, path));
    moat_map_set_str(a, out->rec, "Arn", iam_arn(a, account, iam_entity_noun(kind), path, name));
    moat_map_set_str(a, out->rec, "AccountId", moat_arena_dup(a, account));
    moat_map_set_int(a, out->rec, "CreateDate", call->now_ms);
    entity_fill(out);
}

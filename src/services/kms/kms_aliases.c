/* kms_aliases.c: alias records (CreateAlias, UpdateAlias, DeleteAlias, ListAliases).
 * A key's record also lists its aliases, for kms:ResourceAliases.
 * https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html */
#include "aws/shapes/shapes_kms.h"
#include "core/buf.h"
#include "core/json.h"
#include "services/kms/kms.h"
#include "store/store.h"

#include <string.h>

#define ALIASES_PER_KEY 50

bool kms_alias_is_aws(struct moat_slice name)
{
    return moat_slice_starts_with(name, MOAT_LIT("alias/aws/"));
}

/* AWS's own checks on an alias name beyond the model's pattern. */
static struct moat_error *check_name(struct moat_call *call, struct moat_slice name)
{
    if (!moat_slice_starts_with(name, MOAT_LIT("alias/")) || name.len == 6)
        return moat_fail(call, &kms_validation_exception,
                         "1 validation error detected: Value '%.*s' at 'aliasName' failed to "
                         "satisfy constraint: Member must satisfy regular expression pattern: "
                         "^alias/[a-zA-Z0-9/_-]+$",
                         MOAT_FMT(name));
    for (size_t i = 6; i < name.len; i++)
        if (name.ptr[i] == ':')
            return moat_fail(call, &kms_validation_exception,
                             "1 validation error detected: Value '%.*s' at 'aliasName' failed "
                             "to satisfy constraint: Member must satisfy regular expression "
                             "pattern: ^alias/[a-zA-Z0-9/_-]+$",
                             MOAT_FMT(name));
    if (kms_alias_is_aws(name))
        return moat_fail(call, &kms_not_authorized,
                         "Alias names that begin with alias/aws/ are reserved for AWS managed "
                         "keys.");
    return NULL;
}

static struct moat_slice alias_key(struct moat_call *call, struct moat_slice name)
{
    return moat_slice_cstr(moat_arena_printf(call->arena, "%s/%s/%.*s", call->account_id,
                                             call->region, MOAT_FMT(name)));
}

struct moat_error *kms_alias_put(struct moat_call *call, struct moat_slice name, const char *key_id,
                                 int64_t created_ms, int64_t version)
{
    struct moat_arena *a = call->arena;
    struct moat_value *doc = moat_value_map(a);
    kms_doc_set_str(a, doc, "AliasName", name);
    moat_map_set_cstr(a, doc, "TargetKeyId", key_id);
    moat_map_set_int(a, doc, "Created", created_ms);
    moat_map_set_int(a, doc, "Updated", call->now_ms);
    struct moat_buf b;
    moat_buf_init(&b, a, 256);
    moat_json_write(&b, doc);
    struct moat_slice rk = alias_key(call, name);
    int64_t nv = 0;
    enum store_status st = store_put(call->db, KMS_NS_ALIAS, rk, moat_buf_slice(&b),
                                     version ? version : STORE_MUST_NOT_EXIST, &nv);
    if (st == STORE_CONFLICT && !version)
        return moat_fail(
            call, &kms_already_exists, "An alias with the name %s already exists",
            kms_alias_arn(a, call->region, call->account_id, moat_arena_cstr(a, name)));
    if (st != STORE_OK)
        return moat_internal(call, "store write of a KMS alias failed");
    kms_cache_forget(KMS_NS_ALIAS, rk, nv);
    return NULL;
}

/* Adds or removes an alias name in a key record's list. */
static struct moat_error *key_alias_list(struct moat_call *call, const char *key_id,
                                         struct moat_slice name, bool add)
{
    struct kms_key key;
    struct moat_error *err = kms_key_read(call, call->account_id, call->region, key_id, &key);
    if (err)
        return err;
    struct moat_value *list = moat_map_get(key.doc, "Aliases");
    if (!list || list->type != MOAT_V_LIST) {
        list = moat_value_list(call->arena);
        moat_map_set(call->arena, key.doc, MOAT_LIT("Aliases"), list);
    }
    for (uint32_t i = 0; i < list->count; i++) {
        if (moat_value_is_string(list->u.items[i]) && moat_slice_eq(list->u.items[i]->u.s, name)) {
            if (add)
                return NULL;
            memmove(&list->u.items[i], &list->u.items[i + 1],
                    (list->count - i - 1) * sizeof(*list->u.items));
            list->count--;
            return kms_key_save(call, &key);
        }
    }
    if (!add)
        return NULL;
    if (list->count >= ALIASES_PER_KEY)
        return moat_fail(call, &kms_limit_exceeded,
                         "The KMS key %s already has the maximum of %d aliases.", key.arn,
                         ALIASES_PER_KEY);
    moat_list_push(call->arena, list,
                   moat_value_string(call->arena, moat_arena_dup(call->arena, name)));
    return kms_key_save(call, &key);
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html */
KMS_HANDLER(kms_create_alias)
{
    struct kms_call *st = kms_call_state(call);
    struct moat_slice name = moat_get_str(in, KMS_CREATE_ALIAS_REQUEST_ALIAS_NAME);
    struct moat_error *err = check_name(call, name);
    if (err)
        return err;
    if (strcmp(st->ref.account, call->account_id) != 0)
        return moat_fail(call, &kms_not_found, "Key '%s' does not exist", st->key->arn);
    struct kms_key key;
    err = kms_key_read(call, st->ref.account, st->ref.region, st->ref.key_id, &key);
    if (!err)
        err = kms_require_not_pending(call, &key, false);
    if (!err)
        err = kms_alias_put(call, name, key.key_id, call->now_ms, 0);
    if (!err)
        err = key_alias_list(call, key.key_id, name, true);
    return err;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdateAlias.html */
KMS_HANDLER(kms_update_alias)
{
    struct kms_call *st = kms_call_state(call);
    struct moat_slice name = moat_get_str(in, KMS_UPDATE_ALIAS_REQUEST_ALIAS_NAME);
    struct moat_error *err = check_name(call, name);
    if (err)
        return err;
    struct store_record r;
    struct moat_value *doc;
    enum store_status s = store_get(call->db, call->arena, KMS_NS_ALIAS, alias_key(call, name), &r);
    if (s == STORE_NOT_FOUND)
        return moat_fail(call, &kms_not_found, "Alias %s is not found.",
                         kms_alias_arn(call->arena, call->region, call->account_id,
                                       moat_arena_cstr(call->arena, name)));
    if (s != STORE_OK || !moat_json_parse(call->arena, r.value, 0, &doc, NULL))
        return moat_internal(call, "store read of a KMS alias failed");
    if (strcmp(st->ref.account, call->account_id) != 0)
        return moat_fail(call, &kms_not_found, "Key '%s' does not exist", st->key->arn);
    struct kms_key newkey, oldkey;
    const char *old_id = moat_arena_cstr(call->arena, moat_map_str(doc, "TargetKeyId"));
    err = kms_key_read(call, st->ref.account, st->ref.region, st->ref.key_id, &newkey);
    if (!err)
        err = kms_require_not_pending(call, &newkey, false);
    if (!err)
        err = kms_key_read(call, call->account_id, call->region, old_id, &oldkey);
    if (err)
        return err;
    bool same_type =
        oldkey.usage == newkey.usage &&
        (oldkey.spec->family == KMS_FAMILY_AES) == (newkey.spec->family == KMS_FAMILY_AES) &&
        (oldkey.spec->family == KMS_FAMILY_HMAC) == (newkey.spec->family == KMS_FAMILY_HMAC);
    if (!same_type)
        return moat_fail(call, &kms_validation_exception,
                         "%s and %s are not the same type of KMS key (key spec class and key "
                         "usage must match) for UpdateAlias.",
                         oldkey.arn, newkey.arn);
    if (strcmp(old_id, newkey.key_id) == 0)
        return NULL;
    err = kms_alias_put(call, name, newkey.key_id, moat_map_int(doc, "Created", call->now_ms),
                        r.version);
    if (!err)
        err = key_alias_list(call, old_id, name, false);
    if (!err)
        err = key_alias_list(call, newkey.key_id, name, true);
    return err;
}

struct moat_error *kms_alias_delete(struct moat_call *call, struct moat_slice name,
                                    const char *key_id, int64_t version)
{
    struct moat_slice rk = alias_key(call, name);
    enum store_status s = store_delete(call->db, KMS_NS_ALIAS, rk, version);
    if (s == STORE_NOT_FOUND)
        return moat_fail(call, &kms_not_found, "Alias %s is not found.",
                         kms_alias_arn(call->arena, call->region, call->account_id,
                                       moat_arena_cstr(call->arena, name)));
    if (s != STORE_OK)
        return moat_internal(call, "store delete of a KMS alias failed");
    kms_cache_forget(KMS_NS_ALIAS, rk, version > 0 ? version + 1 : INT64_MAX);
    return key_id ? key_alias_list(call, key_id, name, false) : NULL;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_DeleteAlias.html */
KMS_HANDLER(kms_delete_alias)
{
    struct moat_slice name = moat_get_str(in, KMS_DELETE_ALIAS_REQUEST_ALIAS_NAME);
    struct moat_error *err = check_name(call, name);
    if (err)
        return err;
    struct store_record r;
    struct moat_value *doc;
    enum store_status s = store_get(call->db, call->arena, KMS_NS_ALIAS, alias_key(call, name), &r);
    if (s == STORE_NOT_FOUND)
        return moat_fail(call, &kms_not_found, "Alias %s is not found.",
                         kms_alias_arn(call->arena, call->region, call->account_id,
                                       moat_arena_cstr(call->arena, name)));
    if (s != STORE_OK || !moat_json_parse(call->arena, r.value, 0, &doc, NULL))
        return moat_internal(call, "store read of a KMS alias failed");
    return kms_alias_delete(
        call, name, moat_arena_cstr(call->arena, moat_map_str(doc, "TargetKeyId")), r.version);
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_ListAliases.html */
KMS_HANDLER(kms_list_aliases)
{
    struct moat_arena *a = call->arena;
    const char *only = NULL;
    if (moat_has(in, KMS_LIST_ALIASES_REQUEST_KEY_ID)) {
        struct kms_ref ref;
        const struct kms_key *key;
        struct moat_error *err =
            kms_resolve(call, moat_get_str(in, KMS_LIST_ALIASES_REQUEST_KEY_ID), false, &ref);
        if (!err)
            err = kms_key_get(call, &ref, &key, NULL);
        if (err)
            return err;
        only = key->key_id;
    }
    int64_t limit = moat_get_int(in, KMS_LIST_ALIASES_REQUEST_LIMIT, 50);
    if (limit > 100)
        limit = 100;
    struct moat_slice after;
    struct moat_error *err = kms_marker_decode(call, in, KMS_LIST_ALIASES_REQUEST_MARKER, &after);
    if (err)
        return err;
    struct moat_slice prefix =
        moat_slice_cstr(moat_arena_printf(a, "%s/%s/", call->account_id, call->region));
    struct moat_value *list = moat_set_list(a, out, KMS_LIST_ALIASES_RESPONSE_ALIASES);
    struct moat_slice last = MOAT_NULL_SLICE;
    bool truncated = false;
    for (;;) {
        struct store_record *recs;
        size_t n;
        bool more;
        if (store_scan(call->db, a, KMS_NS_ALIAS, prefix, after, 100, &recs, &n, &more) != STORE_OK)
            return moat_internal(call, "store scan of KMS aliases failed");
        for (size_t i = 0; i < n && !truncated; i++) {
            after = recs[i].key;
            struct moat_value *doc;
            if (!moat_json_parse(a, recs[i].value, 0, &doc, NULL))
                continue;
            struct moat_slice target = moat_map_str(doc, "TargetKeyId");
            if (only && !moat_slice_eq_cstr(target, only))
                continue;
            if ((int64_t)list->count == limit) {
                truncated = true;
                break;
            }
            struct moat_slice name = moat_map_str(doc, "AliasName");
            struct moat_value *e = moat_list_add_struct(a, list);
            moat_set_str(a, e, KMS_ALIAS_LIST_ENTRY_ALIAS_NAME, name);
            moat_set_cstr(
                a, e, KMS_ALIAS_LIST_ENTRY_ALIAS_ARN,
                kms_alias_arn(a, call->region, call->account_id, moat_arena_cstr(a, name)));
            moat_set_str(a, e, KMS_ALIAS_LIST_ENTRY_TARGET_KEY_ID, target);
            moat_set_ts(a, e, KMS_ALIAS_LIST_ENTRY_CREATION_DATE, moat_map_int(doc, "Created", 0));
            moat_set_ts(a, e, KMS_ALIAS_LIST_ENTRY_LAST_UPDATED_DATE,
                        moat_map_int(doc, "Updated", 0));
            last = recs[i].key;
        }
        if (truncated || !more || !n)
            break;
    }
    moat_set_bool(a, out, KMS_LIST_ALIASES_RESPONSE_TRUNCATED, truncated);
    if (truncated)
        moat_set_str(a, out, KMS_LIST_ALIASES_RESPONSE_NEXT_MARKER, kms_marker_encode(a, last));
    return NULL;
}

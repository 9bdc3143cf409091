/* kms_grants.c: grants, KMS's own way to allow a principal to use a key: records,
 * CreateGrant/ListGrants/ListRetirableGrants/RetireGrant/RevokeGrant, and the
 * matching that authorization consults when the policies do not allow a call.
 * https://docs.aws.amazon.com/kms/latest/developerguide/grants.html */
#include "aws/shapes/shapes_kms.h"
#include "core/buf.h"
#include "core/json.h"
#include "crypto/rootkey.h"
#include "server/authorize.h"
#include "server/server.h"
#include "services/kms/kms.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#define GRANTS_PER_KEY 50000

/* Operations whose requests carry an encryption context (grant constraints apply). */
static const char *const context_ops[] = {"Decrypt",
                                          "Encrypt",
                                          "GenerateDataKey",
                                          "GenerateDataKeyWithoutPlaintext",
                                          "ReEncryptFrom",
                                          "ReEncryptTo",
                                          "GenerateDataKeyPair",
                                          "GenerateDataKeyPairWithoutPlaintext",
                                          "CreateGrant",
                                          "RetireGrant",
                                          NULL};

/* Which grant operations each key usage allows. */
static bool op_fits_usage(struct moat_slice op, enum kms_usage usage)
{
    static const char *const any[] = {"CreateGrant", "RetireGrant", "DescribeKey", NULL};
    static const char *const enc[] = {"Decrypt",
                                      "Encrypt",
                                      "GenerateDataKey",
                                      "GenerateDataKeyWithoutPlaintext",
                                      "ReEncryptFrom",
                                      "ReEncryptTo",
                                      "GenerateDataKeyPair",
                                      "GenerateDataKeyPairWithoutPlaintext",
                                      "GetPublicKey",
                                      NULL};
    static const char *const sign[] = {"Sign", "Verify", "GetPublicKey", NULL};
    static const char *const mac[] = {"GenerateMac", "VerifyMac", NULL};
    static const char *const ka[] = {"DeriveSharedSecret", "GetPublicKey", NULL};
    if (kms_alg_in(any, op))
        return true;
    switch (usage) {
    case KMS_USAGE_ENCRYPT_DECRYPT:
        return kms_alg_in(enc, op);
    case KMS_USAGE_SIGN_VERIFY:
        return kms_alg_in(sign, op);
    case KMS_USAGE_GENERATE_VERIFY_MAC:
        return kms_alg_in(mac, op);
    case KMS_USAGE_KEY_AGREEMENT:
        return kms_alg_in(ka, op);
    }
    return false;
}

bool kms_principal_matches(const struct iam_principal *p, struct moat_slice principal)
{
    if (!principal.len)
        return false;
    if (moat_slice_eq(principal, p->arn))
        return true;
    if (p->type == IAM_PRINCIPAL_ASSUMED_ROLE && moat_slice_eq(principal, p->role_arn))
        return true;
    return false;
}

/* "arn:aws:iam::<account>:root" or a bare account id: the account. */
static bool account_principal(struct moat_slice principal, struct moat_slice *account)
{
    if (principal.len == 12) {
        *account = principal;
        return true;
    }
    if (moat_slice_starts_with(principal, MOAT_LIT("arn:aws:iam::")) &&
        moat_slice_ends_with(principal, MOAT_LIT(":root")) && principal.len == 13 + 12 + 5) {
        *account = moat_slice_sub(principal, 13, 25);
        return true;
    }
    return false;
}

/* ec satisfies a grant's constraints? */
static bool constraints_hold(const struct moat_value *grant, const struct moat_value *ec)
{
    const struct moat_value *eq = moat_map_get(grant, "Equals");
    const struct moat_value *sub = moat_map_get(grant, "Subset");
    uint32_t n = ec && ec->type == MOAT_V_MAP ? ec->count : 0;
    if (eq && eq->type == MOAT_V_MAP) {
        if (eq->count != n)
            return false;
        for (uint32_t i = 0; i < eq->count; i++) {
            const struct moat_value *v = moat_map_get_slice(ec, eq->u.entries[i].key);
            if (!v || !moat_value_is_string(v) ||
                !moat_slice_eq(v->u.s, moat_value_is_string(eq->u.entries[i].value)
                                           ? eq->u.entries[i].value->u.s
                                           : MOAT_NULL_SLICE))
                return false;
        }
    }
    if (sub && sub->type == MOAT_V_MAP) {
        for (uint32_t i = 0; i < sub->count; i++) {
            const struct moat_value *v = n ? moat_map_get_slice(ec, sub->u.entries[i].key) : NULL;
            if (!v || !moat_value_is_string(v) ||
                !moat_slice_eq(v->u.s, moat_value_is_string(sub->u.entries[i].value)
                                           ? sub->u.entries[i].value->u.s
                                           : MOAT_NULL_SLICE))
                return false;
        }
    }
    return true;
}

static bool list_has(const struct moat_value *list, struct moat_slice s)
{
    for (uint32_t i = 0; list && list->type == MOAT_V_LIST && i < list->count; i++)
        if (moat_value_is_string(list->u.items[i]) && moat_slice_eq(list->u.items[i]->u.s, s))
            return true;
    return false;
}

/* The grant's grantee is the caller (or the caller's account, whose IAM policies must then
 * allow the action). */
static bool grantee_is_caller(struct moat_call *call, const struct moat_value *g,
                              const char *action, const char *key_arn)
{
    struct moat_slice grantee = moat_map_str(g, "Grantee"), account;
    if (kms_principal_matches(call->principal, grantee))
        return true;
    if (account_principal(grantee, &account) && moat_slice_eq(account, call->principal->account_id))
        return authorize_check(call, action, key_arn, call->account_id, NULL, 0,
                               call->authz.context, NULL, NULL) == IAM_DECISION_ALLOW;
    return false;
}

/* A CreateGrant under a grant may only hand on its operations with its constraints. */
static bool create_grant_within(const struct moat_value *g, const struct moat_value *in)
{
    const struct moat_value *ops = moat_get(in, KMS_CREATE_GRANT_REQUEST_OPERATIONS);
    const struct moat_value *gops = moat_map_get(g, "Ops");
    for (uint32_t i = 0; ops && i < ops->count; i++)
        if (!list_has(gops, ops->u.items[i]->u.s))
            return false;
    const struct moat_value *c = moat_get(in, KMS_CREATE_GRANT_REQUEST_CONSTRAINTS);
    const struct moat_value *eq = moat_get(c, KMS_GRANT_CONSTRAINTS_ENCRYPTION_CONTEXT_EQUALS);
    const struct moat_value *sub = moat_get(c, KMS_GRANT_CONSTRAINTS_ENCRYPTION_CONTEXT_SUBSET);
    if (moat_map_get(g, "Equals"))
        return eq && constraints_hold(g, eq);
    if (moat_map_get(g, "Subset"))
        return (eq && constraints_hold(g, eq)) || (sub && constraints_hold(g, sub));
    return true;
}

/* Scans the key's grants, calling fn on each until it returns true. */
static bool each_grant(struct moat_call *call, const struct kms_key *key,
                       bool (*fn)(struct moat_call *, const struct moat_value *, void *), void *arg)
{
    struct moat_slice prefix = moat_slice_cstr(
        moat_arena_printf(call->arena, "%s/%s/%s/", key->account, key->region, key->key_id));
    struct moat_slice after = MOAT_NULL_SLICE;
    for (;;) {
        struct store_record *recs;
        size_t n;
        bool more;
        if (store_scan(call->db, call->arena, KMS_NS_GRANT, prefix, after, 100, &recs, &n, &more) !=
            STORE_OK)
            return false;
        for (size_t i = 0; i < n; i++) {
            struct moat_value *g;
            if (moat_json_parse(call->arena, recs[i].value, 0, &g, NULL) && fn(call, g, arg))
                return true;
        }
        if (!more || !n)
            return false;
        after = recs[n - 1].key;
    }
}

struct allow_arg {
    const struct kms_key *key;
    const char *operation;
    const struct moat_value *ec;
};

static bool grant_allows(struct moat_call *call, const struct moat_value *g, void *arg)
{
    struct allow_arg *a = arg;
    struct moat_slice op = moat_slice_cstr(a->operation);
    if (strcmp(a->operation, "RetireGrant") == 0) {
        /* Only the grant being retired counts: its retiring principal, or its grantee when
         * RetireGrant is one of its operations. */
        struct moat_slice want = moat_get_str(call->input, KMS_RETIRE_GRANT_REQUEST_GRANT_ID);
        struct moat_slice arn, id;
        if (!want.len &&
            kms_grant_token_parse(call->arena,
                                  moat_get_str(call->input, KMS_RETIRE_GRANT_REQUEST_GRANT_TOKEN),
                                  &arn, &id))
            want = id;
        if (!moat_slice_eq(moat_map_str(g, "GrantId"), want))
            return false;
        return kms_principal_matches(call->principal, moat_map_str(g, "Retiring")) ||
               (list_has(moat_map_get(g, "Ops"), op) &&
                kms_principal_matches(call->principal, moat_map_str(g, "Grantee")));
    }
    if (!list_has(moat_map_get(g, "Ops"), op))
        return false;
    if (strcmp(a->operation, "CreateGrant") == 0) {
        if (!create_grant_within(g, call->input))
            return false;
    } else if (kms_alg_in(context_ops, op) && !constraints_hold(g, a->ec)) {
        return false;
    }
    const char *action = moat_arena_printf(call->arena, "kms:%s", a->operation);
    return grantee_is_caller(call, g, action, a->key->arn);
}

bool kms_grants_allow(struct moat_call *call, const struct kms_key *key, const char *operation,
                      const struct moat_value *ctx)
{
    struct allow_arg a = {key, operation, ctx};
    return each_grant(call, key, grant_allows, &a);
}

/* ---- grant records --------------------------------------------------------------------- */

static struct moat_slice grant_record_key(struct moat_arena *a, const struct kms_key *key,
                                          struct moat_slice grant_id)
{
    return moat_slice_cstr(moat_arena_printf(a, "%s/%s/%s/%.*s", key->account, key->region,
                                             key->key_id, MOAT_FMT(grant_id)));
}

static struct moat_value *copy_map(struct moat_arena *a, const struct moat_value *m)
{
    struct moat_value *out = moat_value_map(a);
    for (uint32_t i = 0; m && i < m->count; i++)
        moat_map_push(a, out, moat_arena_dup(a, m->u.entries[i].key),
                      moat_value_string(a, moat_arena_dup(a, m->u.entries[i].value->u.s)));
    return out;
}

static bool same_map(const struct moat_value *a, const struct moat_value *b)
{
    uint32_t na = a ? a->count : 0, nb = b ? b->count : 0;
    if (na != nb)
        return false;
    for (uint32_t i = 0; i < na; i++) {
        const struct moat_value *v = moat_map_get_slice(b, a->u.entries[i].key);
        if (!v || !moat_value_is_string(v) || !moat_slice_eq(v->u.s, a->u.entries[i].value->u.s))
            return false;
    }
    return true;
}

static bool valid_principal(struct moat_slice p)
{
    struct moat_slice acct;
    if (account_principal(p, &acct))
        return true;
    if (moat_slice_ends_with(p, MOAT_LIT(".amazonaws.com")))
        return true;
    return moat_slice_starts_with(p, MOAT_LIT("arn:aws:iam::")) ||
           moat_slice_starts_with(p, MOAT_LIT("arn:aws:sts::"));
}

struct same_arg {
    const struct moat_value *in;
    struct moat_slice found;
};

/* CreateGrant is idempotent for a request with the same name and parameters. */
static bool same_grant(struct moat_call *call, const struct moat_value *g, void *arg)
{
    struct same_arg *s = arg;
    const struct moat_value *in = s->in;
    if (!moat_has(in, KMS_CREATE_GRANT_REQUEST_NAME) ||
        !moat_slice_eq(moat_map_str(g, "Name"), moat_get_str(in, KMS_CREATE_GRANT_REQUEST_NAME)) ||
        !moat_slice_eq(moat_map_str(g, "Grantee"),
                       moat_get_str(in, KMS_CREATE_GRANT_REQUEST_GRANTEE_PRINCIPAL)) ||
        !moat_slice_eq(moat_map_str(g, "Retiring"),
                       moat_get_str(in, KMS_CREATE_GRANT_REQUEST_RETIRING_PRINCIPAL)))
        return false;
    const struct moat_value *ops = moat_get(in, KMS_CREATE_GRANT_REQUEST_OPERATIONS);
    const struct moat_value *gops = moat_map_get(g, "Ops");
    if (!gops || gops->count != ops->count)
        return false;
    for (uint32_t i = 0; i < ops->count; i++)
        if (!list_has(gops, ops->u.items[i]->u.s))
            return false;
    const struct moat_value *c = moat_get(in, KMS_CREATE_GRANT_REQUEST_CONSTRAINTS);
    if (!same_map(moat_get(c, KMS_GRANT_CONSTRAINTS_ENCRYPTION_CONTEXT_EQUALS),
                  moat_map_get(g, "Equals")) ||
        !same_map(moat_get(c, KMS_GRANT_CONSTRAINTS_ENCRYPTION_CONTEXT_SUBSET),
                  moat_map_get(g, "Subset")))
        return false;
    s->found = moat_map_str(g, "GrantId");
    return true;
}

/* CreateGrant: https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html */
KMS_HANDLER(kms_create_grant)
{
    struct moat_arena *a = call->arena;
    struct kms_call *st = kms_call_state(call);
    struct kms_key key;
    struct moat_error *err =
        kms_key_read(call, st->ref.account, st->ref.region, st->ref.key_id, &key);
    if (!err)
        err = kms_require_not_pending(call, &key, false);
    if (err)
        return err;
    struct moat_slice grantee = moat_get_str(in, KMS_CREATE_GRANT_REQUEST_GRANTEE_PRINCIPAL);
    if (!valid_principal(grantee))
        return moat_fail(call, &kms_invalid_arn, "Invalid principal: %.*s", MOAT_FMT(grantee));
    if (moat_has(in, KMS_CREATE_GRANT_REQUEST_RETIRING_PRINCIPAL) &&
        !valid_principal(moat_get_str(in, KMS_CREATE_GRANT_REQUEST_RETIRING_PRINCIPAL)))
        return moat_fail(call, &kms_invalid_arn, "Invalid principal: %.*s",
                         MOAT_FMT(moat_get_str(in, KMS_CREATE_GRANT_REQUEST_RETIRING_PRINCIPAL)));
    const struct moat_value *ops = moat_get(in, KMS_CREATE_GRANT_REQUEST_OPERATIONS);
    const struct moat_value *c = moat_get(in, KMS_CREATE_GRANT_REQUEST_CONSTRAINTS);
    const struct moat_value *eq = moat_get(c, KMS_GRANT_CONSTRAINTS_ENCRYPTION_CONTEXT_EQUALS);
    const struct moat_value *sub = moat_get(c, KMS_GRANT_CONSTRAINTS_ENCRYPTION_CONTEXT_SUBSET);
    if (eq && sub)
        return moat_fail(call, &kms_validation_exception,
                         "A grant can have an EncryptionContextEquals or an "
                         "EncryptionContextSubset constraint, not both.");
    for (uint32_t i = 0; i < ops->count; i++) {
        struct moat_slice op = ops->u.items[i]->u.s;
        if (!op_fits_usage(op, key.usage))
            return moat_fail(call, &kms_validation_exception,
                             "The grant operation %.*s is not valid for a KMS key with KeyUsage "
                             "%s.",
                             MOAT_FMT(op), kms_usage_name(key.usage));
        if ((eq || sub) && !kms_alg_in(context_ops, op))
            return moat_fail(call, &kms_validation_exception,
                             "Grant constraints are not supported for the %.*s operation, which "
                             "takes no encryption context.",
                             MOAT_FMT(op));
    }
    if (moat_get_bool(in, KMS_CREATE_GRANT_REQUEST_DRY_RUN, false))
        return kms_dry_run(call);

    struct same_arg same = {in, MOAT_NULL_SLICE};
    if (each_grant(call, &key, same_grant, &same)) {
        const char *id = moat_arena_cstr(a, same.found);
        moat_set_cstr(a, out, KMS_CREATE_GRANT_RESPONSE_GRANT_ID, id);
        moat_set_cstr(a, out, KMS_CREATE_GRANT_RESPONSE_GRANT_TOKEN,
                      kms_grant_token(a, id, key.arn));
        return NULL;
    }
    int64_t count = 0;
    if (store_count(
            call->db, KMS_NS_GRANT,
            moat_slice_cstr(moat_arena_printf(a, "%s/%s/%s/", key.account, key.region, key.key_id)),
            &count) != STORE_OK)
        return moat_internal(call, "store count of KMS grants failed");
    if (count >= GRANTS_PER_KEY)
        return moat_fail(call, &kms_limit_exceeded,
                         "The KMS key %s already has the maximum of %d grants.", key.arn,
                         GRANTS_PER_KEY);

    uint8_t raw[32];
    crypto_random(raw, sizeof(raw));
    char *id = moat_arena_alloc(a, 65);
    for (int i = 0; i < 32; i++)
        snprintf(id + 2 * i, 3, "%02x", raw[i]);
    struct moat_value *g = moat_value_map(a);
    moat_map_set_cstr(a, g, "GrantId", id);
    moat_map_set_cstr(a, g, "KeyArn", key.arn);
    if (moat_has(in, KMS_CREATE_GRANT_REQUEST_NAME))
        kms_doc_set_str(a, g, "Name", moat_get_str(in, KMS_CREATE_GRANT_REQUEST_NAME));
    moat_map_set_int(a, g, "Created", call->now_ms);
    kms_doc_set_str(a, g, "Grantee", grantee);
    if (moat_has(in, KMS_CREATE_GRANT_REQUEST_RETIRING_PRINCIPAL))
        kms_doc_set_str(a, g, "Retiring",
                        moat_get_str(in, KMS_CREATE_GRANT_REQUEST_RETIRING_PRINCIPAL));
    moat_map_set_cstr(
        a, g, "Issuing",
        moat_arena_printf(a, "arn:aws:iam::%.*s:root", MOAT_FMT(call->principal->account_id)));
    struct moat_value *gops = moat_value_list(a);
    for (uint32_t i = 0; i < ops->count; i++)
        if (!list_has(gops, ops->u.items[i]->u.s))
            moat_list_push(a, gops, moat_value_string(a, ops->u.items[i]->u.s));
    moat_map_set(a, g, MOAT_LIT("Ops"), gops);
    if (eq)
        moat_map_set(a, g, MOAT_LIT("Equals"), copy_map(a, eq));
    if (sub)
        moat_map_set(a, g, MOAT_LIT("Subset"), copy_map(a, sub));
    struct moat_buf b;
    moat_buf_init(&b, a, 512);
    moat_json_write(&b, g);
    if (store_put(call->db, KMS_NS_GRANT, grant_record_key(a, &key, moat_slice_cstr(id)),
                  moat_buf_slice(&b), STORE_MUST_NOT_EXIST, NULL) != STORE_OK)
        return moat_internal(call, "store write of a KMS grant failed");
    moat_set_cstr(a, out, KMS_CREATE_GRANT_RESPONSE_GRANT_ID, id);
    moat_set_cstr(a, out, KMS_CREATE_GRANT_RESPONSE_GRANT_TOKEN, kms_grant_token(a, id, key.arn));
    return NULL;
}

/* Fills a GrantListEntry from a record. */
static void grant_entry(struct moat_arena *a, const struct moat_value *g, struct moat_value *e)
{
    moat_set_str(a, e, KMS_GRANT_LIST_ENTRY_KEY_ID, moat_map_str(g, "KeyArn"));
    moat_set_str(a, e, KMS_GRANT_LIST_ENTRY_GRANT_ID, moat_map_str(g, "GrantId"));
    if (moat_map_get(g, "Name"))
        moat_set_str(a, e, KMS_GRANT_LIST_ENTRY_NAME, moat_map_str(g, "Name"));
    moat_set_ts(a, e, KMS_GRANT_LIST_ENTRY_CREATION_DATE, moat_map_int(g, "Created", 0));
    moat_set_str(a, e, KMS_GRANT_LIST_ENTRY_GRANTEE_PRINCIPAL, moat_map_str(g, "Grantee"));
    if (moat_map_get(g, "Retiring"))
        moat_set_str(a, e, KMS_GRANT_LIST_ENTRY_RETIRING_PRINCIPAL, moat_map_str(g, "Retiring"));
    moat_set_str(a, e, KMS_GRANT_LIST_ENTRY_ISSUING_ACCOUNT, moat_map_str(g, "Issuing"));
    struct moat_value *ops = moat_set_list(a, e, KMS_GRANT_LIST_ENTRY_OPERATIONS);
    const struct moat_value *gops = moat_map_get(g, "Ops");
    for (uint32_t i = 0; gops && i < gops->count; i++)
        moat_list_add_str(a, ops, gops->u.items[i]->u.s);
    const struct moat_value *eq = moat_map_get(g, "Equals"), *sub = moat_map_get(g, "Subset");
    if (eq || sub) {
        struct moat_value *c = moat_set_struct(a, e, KMS_GRANT_LIST_ENTRY_CONSTRAINTS);
        unsigned member = eq ? KMS_GRANT_CONSTRAINTS_ENCRYPTION_CONTEXT_EQUALS
                             : KMS_GRANT_CONSTRAINTS_ENCRYPTION_CONTEXT_SUBSET;
        struct moat_value *m = moat_set_map(a, c, member);
        const struct moat_value *src = eq ? eq : sub;
        for (uint32_t i = 0; i < src->count; i++)
            moat_map_push(a, m, src->u.entries[i].key, src->u.entries[i].value);
    }
}

/* Lists grant records under a prefix, filtered, one page at a time. */
static struct moat_error *list_page(struct moat_call *call, struct moat_slice prefix,
                                    const struct moat_value *in, unsigned limit_member,
                                    unsigned marker_member, struct moat_slice grant_id,
                                    struct moat_slice grantee, struct moat_slice retiring,
                                    struct moat_value *out, unsigned list_member,
                                    unsigned next_member, unsigned truncated_member)
{
    struct moat_arena *a = call->arena;
    int64_t limit = moat_get_int(in, limit_member, 50);
    if (limit > 100)
        limit = 100;
    struct moat_slice after;
    struct moat_error *err = kms_marker_decode(call, in, marker_member, &after);
    if (err)
        return err;
    struct moat_value *list = moat_set_list(a, out, list_member);
    struct moat_slice last = MOAT_NULL_SLICE;
    bool truncated = false;
    for (;;) {
        struct store_record *recs;
        size_t n;
        bool more;
        if (store_scan(call->db, a, KMS_NS_GRANT, prefix, after, 100, &recs, &n, &more) != STORE_OK)
            return moat_internal(call, "store scan of KMS grants failed");
        for (size_t i = 0; i < n; i++) {
            after = recs[i].key;
            struct moat_value *g;
            if (!moat_json_parse(a, recs[i].value, 0, &g, NULL))
                continue;
            if ((grant_id.len && !moat_slice_eq(moat_map_str(g, "GrantId"), grant_id)) ||
                (grantee.len && !moat_slice_eq(moat_map_str(g, "Grantee"), grantee)) ||
                (retiring.len && !moat_slice_eq(moat_map_str(g, "Retiring"), retiring)))
                continue;
            if ((int64_t)list->count == limit) {
                truncated = true;
                break;
            }
            grant_entry(a, g, moat_list_add_struct(a, list));
            last = recs[i].key;
        }
        if (truncated || !more || !n)
            break;
    }
    moat_set_bool(a, out, truncated_member, truncated);
    if (truncated)
        moat_set_str(a, out, next_member, kms_marker_encode(a, last));
    return NULL;
}

/* ListGrants: https://docs.aws.amazon.com/kms/latest/APIReference/API_ListGrants.html */
KMS_HANDLER(kms_list_grants)
{
    struct kms_call *st = kms_call_state(call);
    const struct kms_key *key = st->key;
    struct moat_slice prefix = moat_slice_cstr(
        moat_arena_printf(call->arena, "%s/%s/%s/", key->account, key->region, key->key_id));
    return list_page(call, prefix, in, KMS_LIST_GRANTS_REQUEST_LIMIT,
                     KMS_LIST_GRANTS_REQUEST_MARKER,
                     moat_get_str(in, KMS_LIST_GRANTS_REQUEST_GRANT_ID),
                     moat_get_str(in, KMS_LIST_GRANTS_REQUEST_GRANTEE_PRINCIPAL), MOAT_NULL_SLICE,
                     out, KMS_LIST_GRANTS_RESPONSE_GRANTS, KMS_LIST_GRANTS_RESPONSE_NEXT_MARKER,
                     KMS_LIST_GRANTS_RESPONSE_TRUNCATED);
}

/* ListRetirableGrants: the grants of the caller's account and Region that name the
 * principal as retiring principal. */
KMS_HANDLER(kms_list_retirable_grants)
{
    struct moat_slice prefix =
        moat_slice_cstr(moat_arena_printf(call->arena, "%s/%s/", call->account_id, call->region));
    return list_page(call, prefix, in, KMS_LIST_RETIRABLE_GRANTS_REQUEST_LIMIT,
                     KMS_LIST_RETIRABLE_GRANTS_REQUEST_MARKER, MOAT_NULL_SLICE, MOAT_NULL_SLICE,
                     moat_get_str(in, KMS_LIST_RETIRABLE_GRANTS_REQUEST_RETIRING_PRINCIPAL), out,
                     KMS_LIST_GRANTS_RESPONSE_GRANTS, KMS_LIST_GRANTS_RESPONSE_NEXT_MARKER,
                     KMS_LIST_GRANTS_RESPONSE_TRUNCATED);
}

static struct moat_error *delete_grant(struct moat_call *call, const struct kms_key *key,
                                       struct moat_slice grant_id)
{
    if (grant_id.len != 64)
        return moat_fail(call, &kms_invalid_grant_id, "Invalid grant ID %.*s", MOAT_FMT(grant_id));
    enum store_status s = store_delete(
        call->db, KMS_NS_GRANT, grant_record_key(call->arena, key, grant_id), STORE_ANY_VERSION);
    if (s == STORE_NOT_FOUND)
        return moat_fail(call, &kms_not_found, "Grant ID %.*s not found", MOAT_FMT(grant_id));
    if (s != STORE_OK)
        return moat_internal(call, "store delete of a KMS grant failed");
    return NULL;
}

/* RetireGrant: https://docs.aws.amazon.com/kms/latest/APIReference/API_RetireGrant.html */
KMS_HANDLER(kms_retire_grant)
{
    struct kms_call *st = kms_call_state(call);
    struct moat_slice id = moat_get_str(in, KMS_RETIRE_GRANT_REQUEST_GRANT_ID);
    struct moat_slice arn, tid;
    if (!id.len &&
        kms_grant_token_parse(call->arena, moat_get_str(in, KMS_RETIRE_GRANT_REQUEST_GRANT_TOKEN),
                              &arn, &tid))
        id = tid;
    if (!id.len)
        return moat_fail(call, &kms_validation_exception,
                         "Either the grant token or both the KeyId and the GrantId must be "
                         "specified.");
    if (moat_get_bool(in, KMS_RETIRE_GRANT_REQUEST_DRY_RUN, false))
        return kms_dry_run(call);
    return delete_grant(call, st->key, id);
}

/* RevokeGrant: https://docs.aws.amazon.com/kms/latest/APIReference/API_RevokeGrant.html */
KMS_HANDLER(kms_revoke_grant)
{
    struct kms_call *st = kms_call_state(call);
    if (moat_get_bool(in, KMS_REVOKE_GRANT_REQUEST_DRY_RUN, false))
        return kms_dry_run(call);
    return delete_grant(call, st->key, moat_get_str(in, KMS_REVOKE_GRANT_REQUEST_GRANT_ID));
}

struct moat_error *kms_grants_delete_all(struct moat_call *call, const struct kms_key *key)
{
    struct moat_slice prefix = moat_slice_cstr(
        moat_arena_printf(call->arena, "%s/%s/%s/", key->account, key->region, key->key_id));
    for (;;) {
        struct store_record *recs;
        size_t n;
        bool more;
        if (store_scan(call->db, call->arena, KMS_NS_GRANT, prefix, MOAT_NULL_SLICE, 100, &recs, &n,
                       &more) != STORE_OK)
            return moat_internal(call, "store scan of KMS grants failed");
        for (size_t i = 0; i < n; i++)
            if (store_delete(call->db, KMS_NS_GRANT, recs[i].key, STORE_ANY_VERSION) != STORE_OK)
                return moat_internal(call, "store delete of a KMS grant failed");
        if (!more || !n)
            return NULL;
    }
}

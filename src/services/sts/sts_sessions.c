/* sts_sessions.c: the operations that issue temporary credentials (AssumeRole,
 * GetSessionToken, GetFederationToken): an ASIA access key id, a secret and a session
 * token whose hash, expiry, principal, MFA state, tags and session policies are kept in
 * the store (auth/session) for authentication and the principal source.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html */
#include "auth/auth.h"
#include "aws/shapes/shapes_sts.h"
#include "core/buf.h"
#include "core/encoding.h"
#include "crypto/rootkey.h"
#include "iam/iam_message.h"
#include "server/authorize.h"
#include "server/server.h"
#include "services/iam/iam.h"
#include "services/sts/sts.h"

#include <openssl/crypto.h>
#include <string.h>
#include <zlib.h>

/* IAM User Guide, "IAM and AWS STS quotas" and the STS API reference. */
#define STS_ROLE_CHAINING_MAX_S 3600
#define STS_SESSION_TOKEN_DEFAULT_S 43200
#define STS_ROOT_SESSION_MAX_S 3600
#define STS_MAX_SESSION_TAGS 50
#define STS_PACKED_LIMIT 2048 /* bytes of packed session policies and tags */
#define STS_TOKEN_BYTES 96

/* What a new temporary credential stands for. */
struct grant {
    const char *type; /* "AssumedRole", "FederatedUser", "User", "Root" */
    struct moat_slice account, arn, principal_id, name;
    struct moat_slice role_arn, role_name, role_id, parent_user_arn, parent_user_id;
    int64_t duration_s;
    bool mfa;
    int64_t mfa_time_ms;
    struct moat_slice source_identity;
    const struct iam_tag *tags;
    size_t tag_count;
    const struct moat_slice *transitive;
    size_t transitive_count;
    struct moat_slice policy;
    const struct moat_value *policy_arns; /* list of PolicyDescriptorType structs */
};

static void set_str(struct moat_arena *a, struct moat_value *m, const char *k, struct moat_slice v)
{
    if (v.len)
        moat_map_set_str(a, m, k, v);
}

/* Writes the session and fills a Credentials struct. */
static struct moat_error *issue(struct moat_call *call, const struct grant *g,
                                struct moat_value *creds)
{
    struct moat_arena *a = call->arena;
    char akid[21], secret[41];
    auth_new_access_key_id(akid, true);
    auth_new_secret(secret);
    char *secret_copy = moat_arena_strdup(a, secret);
    moat_arena_wipe_on_free(a, secret_copy, 40);
    OPENSSL_cleanse(secret, sizeof(secret));
    uint8_t raw[STS_TOKEN_BYTES];
    crypto_random(raw, sizeof(raw));
    struct moat_buf token;
    moat_buf_init(&token, a, STS_TOKEN_BYTES * 2);
    moat_base64_encode(&token, moat_slice(raw, sizeof(raw)));
    OPENSSL_cleanse(raw, sizeof(raw));
    moat_arena_wipe_on_free(a, token.ptr, token.cap);
    int64_t expires = call->now_ms + g->duration_s * 1000;

    struct moat_value *rec = moat_value_map(a);
    moat_map_set_str(a, rec, "AccountId", g->account);
    moat_map_set_int(a, rec, "Expiration", expires);
    moat_map_set_int(a, rec, "IssuedAt", call->now_ms);
    moat_map_set_bool(a, rec, "MfaAuthenticated", g->mfa);
    if (g->mfa)
        moat_map_set_int(a, rec, "MfaAuthTime", g->mfa_time_ms);
    set_str(a, rec, "SourceIdentity", g->source_identity);
    set_str(a, rec, "SourceAccessKeyId", call->access_key_id);
    if (g->tag_count) {
        struct moat_value *tags = moat_value_map(a);
        for (size_t i = 0; i < g->tag_count; i++)
            moat_map_set(a, tags, g->tags[i].key, moat_value_string(a, g->tags[i].value));
        moat_map_set(a, rec, MOAT_LIT("Tags"), tags);
    }
    if (g->transitive_count) {
        struct moat_value *tk = moat_value_list(a);
        for (size_t i = 0; i < g->transitive_count; i++)
            moat_list_push(a, tk, moat_value_string(a, g->transitive[i]));
        moat_map_set(a, rec, MOAT_LIT("TransitiveTagKeys"), tk);
    }
    set_str(a, rec, "Policy", g->policy);
    if (g->policy_arns && g->policy_arns->count) {
        struct moat_value *arns = moat_value_list(a);
        for (uint32_t i = 0; i < g->policy_arns->count; i++)
            moat_list_push(a, arns,
                           moat_value_string(a, moat_get_str(g->policy_arns->u.items[i],
                                                             STS_POLICY_DESCRIPTOR_TYPE_ARN)));
        moat_map_set(a, rec, MOAT_LIT("PolicyArns"), arns);
    }
    struct moat_value *p = moat_value_map(a);
    moat_map_set_cstr(a, p, "Type", g->type);
    set_str(a, p, "Arn", g->arn);
    set_str(a, p, "PrincipalId", g->principal_id);
    set_str(a, p, "Name", g->name);
    set_str(a, p, "RoleArn", g->role_arn);
    set_str(a, p, "RoleName", g->role_name);
    set_str(a, p, "RoleId", g->role_id);
    set_str(a, p, "ParentUserArn", g->parent_user_arn);
    set_str(a, p, "ParentUserId", g->parent_user_id);
    moat_map_set(a, rec, MOAT_LIT("Principal"), p);
    if (!auth_put_session(call->server, call->db, a, akid, moat_slice(secret_copy, 40),
                          moat_buf_slice(&token), rec))
        return moat_internal(call, "session write failed");

    moat_set_cstr(a, creds, STS_CREDENTIALS_ACCESS_KEY_ID, moat_arena_strdup(a, akid));
    moat_set_str(a, creds, STS_CREDENTIALS_SECRET_ACCESS_KEY, moat_slice(secret_copy, 40));
    moat_set_str(a, creds, STS_CREDENTIALS_SESSION_TOKEN, moat_buf_slice(&token));
    moat_set_ts(a, creds, STS_CREDENTIALS_EXPIRATION, expires);
    return NULL;
}

/* ---- shared checks --------------------------------------------------------------------- */

static struct moat_error *mfa_failed(struct moat_call *call)
{
    return moat_fail(call, &sts_access_denied,
                     "MultiFactorAuthentication failed with invalid MFA one time pass code. ");
}

/* Checks SerialNumber + TokenCode for the calling IAM user. */
static struct moat_error *check_mfa(struct moat_call *call, struct moat_slice serial,
                                    struct moat_slice code, int64_t *step, bool *ok)
{
    *ok = false;
    if (!serial.len && !code.len)
        return NULL;
    const struct iam_principal *p = call->principal;
    if (!serial.len || !code.len || p->type != IAM_PRINCIPAL_USER)
        return mfa_failed(call);
    struct moat_error *err = iam_mfa_check(call, p->account_id, p->name, serial, code, step, ok);
    if (err)
        return err;
    if (!*ok)
        return mfa_failed(call);
    return NULL;
}

/* Session policies: the inline document (a session policy, at most 2,048 characters by
 * the model) and up to ten managed policy ARNs. */
static struct moat_error *check_session_policy(struct moat_call *call, struct moat_slice doc,
                                               const struct moat_value *arns)
{
    if (doc.len) {
        struct iam_policy *pol;
        struct iam_policy_diag diag;
        enum iam_policy_status st = iam_policy_compile(IAM_POLICY_SESSION, doc, 0, &pol, &diag);
        if (st == IAM_POLICY_LIMIT_EXCEEDED)
            return moat_fail(call, &sts_packed_policy_too_large,
                             "The session policy exceeds the 2,048 character limit.");
        if (st != IAM_POLICY_OK)
            return moat_fail(call, &sts_malformed_policy, "%s", diag.message);
        iam_policy_unref(pol);
    }
    for (uint32_t i = 0; arns && i < arns->count; i++) {
        struct moat_slice arn = moat_get_str(arns->u.items[i], STS_POLICY_DESCRIPTOR_TYPE_ARN);
        if (!moat_slice_starts_with(arn, MOAT_LIT("arn:aws:iam::")) ||
            moat_slice_index(arn, '/') < 0)
            return moat_fail(call, &sts_validation_error, "Invalid policy ARN: %.*s",
                             MOAT_FMT(arn));
    }
    return NULL;
}

/* Session tags from the request plus the transitive tags of the calling session. */
struct tags {
    struct iam_tag *tags;
    size_t count;
    struct moat_slice *transitive;
    size_t transitive_count;
};

static struct moat_error *collect_tags(struct moat_call *call, const struct moat_value *list,
                                       const struct moat_value *transitive, struct tags *t)
{
    struct moat_arena *a = call->arena;
    const struct iam_principal *p = call->principal;
    size_t n = list ? list->count : 0;
    size_t cap = n + p->transitive_tag_key_count + 1;
    t->tags = moat_arena_alloc(a, cap * sizeof(*t->tags));
    t->transitive = moat_arena_alloc(a, cap * sizeof(*t->transitive));
    t->count = t->transitive_count = 0;
    /* Tags a role chain passes on cannot be set again (IAM User Guide, "Chaining roles
     * with session tags"). */
    for (size_t i = 0; i < p->transitive_tag_key_count; i++) {
        struct moat_slice k = p->transitive_tag_keys[i], v = MOAT_NULL_SLICE;
        for (size_t j = 0; j < p->tag_count; j++)
            if (moat_slice_eq_nocase(p->tags[j].key, k))
                v = p->tags[j].value;
        t->tags[t->count++] = (struct iam_tag){k, v};
        t->transitive[t->transitive_count++] = k;
    }
    size_t inherited = t->count;
    for (size_t i = 0; i < n; i++) {
        struct moat_slice k = moat_get_str(list->u.items[i], STS_TAG_KEY);
        for (size_t j = 0; j < t->count; j++) {
            if (moat_slice_eq_nocase(t->tags[j].key, k))
                return moat_fail(call, &sts_validation_error,
                                 j < inherited
                                     ? "The session tag key %.*s is set transitively by the "
                                       "calling session and cannot be set again."
                                     : "Duplicate tag keys found. Please note that Tag keys "
                                       "are case insensitive: %.*s",
                                 MOAT_FMT(k));
        }
        t->tags[t->count++] = (struct iam_tag){k, moat_get_str(list->u.items[i], STS_TAG_VALUE)};
    }
    if (t->count > STS_MAX_SESSION_TAGS)
        return moat_fail(call, &sts_validation_error,
                         "The number of session tags exceeds the limit of %d.",
                         STS_MAX_SESSION_TAGS);
    for (uint32_t i = 0; transitive && i < transitive->count; i++) {
        struct moat_slice k = moat_value_is_string(transitive->u.items[i])
                                  ? transitive->u.items[i]->u.s
                                  : MOAT_NULL_SLICE;
        bool known = false;
        for (size_t j = inherited; j < t->count; j++)
            if (moat_slice_eq_nocase(t->tags[j].key, k))
                known = true;
        if (!known)
            return moat_fail(call, &sts_validation_error,
                             "The transitive tag key %.*s is not one of the session tags.",
                             MOAT_FMT(k));
        t->transitive[t->transitive_count++] = k;
    }
    return NULL;
}

/* AWS packs session policies and tags into the token; the packed form must fit
 * (PackedPolicyTooLarge otherwise). moat measures the DEFLATE size of the same
 * content against STS_PACKED_LIMIT and reports it as a percentage, as AWS does. */
static struct moat_error *packed_size(struct moat_call *call, struct moat_slice policy,
                                      const struct moat_value *arns, const struct tags *t,
                                      int64_t *percent)
{
    struct moat_buf b;
    moat_buf_init(&b, call->arena, 1024);
    moat_buf_append(&b, policy);
    for (uint32_t i = 0; arns && i < arns->count; i++)
        moat_buf_append(&b, moat_get_str(arns->u.items[i], STS_POLICY_DESCRIPTOR_TYPE_ARN));
    for (size_t i = 0; t && i < t->count; i++) {
        moat_buf_append(&b, t->tags[i].key);
        moat_buf_append_u8(&b, '=');
        moat_buf_append(&b, t->tags[i].value);
    }
    *percent = 0;
    if (!b.len)
        return NULL;
    uLongf out_len = compressBound(b.len);
    uint8_t *out = moat_arena_alloc(call->arena, out_len);
    if (compress2(out, &out_len, b.ptr, b.len, Z_BEST_COMPRESSION) != Z_OK)
        return moat_internal(call, "compress failed");
    *percent = (int64_t)((out_len * 100 + STS_PACKED_LIMIT - 1) / STS_PACKED_LIMIT);
    if (*percent > 100)
        return moat_fail(call, &sts_packed_policy_too_large,
                         "Packed size of the session policies and session tags is %lld%% of "
                         "the allowed size.",
                         (long long)*percent);
    return NULL;
}

/* A second action the same request needs (sts:TagSession, sts:SetSourceIdentity),
 * authorised on the same role and trust policy as sts:AssumeRole. */
static struct moat_error *also_allowed(struct moat_call *call, const char *action)
{
    struct moat_authz *authz = &call->authz;
    const char *resource = authz->resource_count ? authz->resources[0] : "*";
    struct iam_eval_result r;
    if (authorize_check(call, action, resource, authz->resource_account, authz->resource_policy,
                        authz->trust ? IAM_EVAL_TRUST_POLICY : 0, authz->context, &r,
                        NULL) == IAM_DECISION_ALLOW)
        return NULL;
    struct moat_buf b;
    moat_buf_init(&b, call->arena, 256);
    iam_message_denied(&b, call->principal, moat_slice_cstr(action), moat_slice_cstr(resource), &r);
    call->error_is_denial = true;
    return moat_fail(call, &sts_access_denied, "%.*s", MOAT_FMT(moat_buf_slice(&b)));
}

/* ---- AssumeRole -------------------------------------------------------------------------- */

bool sts_parse_role_arn(struct moat_slice arn, struct moat_slice *account, struct moat_slice *name)
{
    struct moat_slice prefix = MOAT_LIT("arn:aws:iam::");
    if (!moat_slice_starts_with(arn, prefix) || arn.len < prefix.len + 13)
        return false;
    *account = moat_slice_sub(arn, prefix.len, prefix.len + 12);
    struct moat_slice rest = moat_slice_sub(arn, prefix.len + 12, arn.len);
    if (!auth_is_account_id(*account) || !moat_slice_starts_with(rest, MOAT_LIT(":role/")))
        return false;
    size_t last = 0;
    for (size_t i = 0; i < rest.len; i++)
        if (rest.ptr[i] == '/')
            last = i;
    *name = moat_slice_sub(rest, last + 1, rest.len);
    return name->len > 0;
}

static struct moat_error *ctx_set(struct moat_call *call, const char *key, struct moat_slice v)
{
    if (v.len && !iam_context_set(call->authz.context, moat_slice_cstr(key), v))
        return moat_internal(call, "request context is full");
    return NULL;
}

/* sts:AssumeRole is authorised on the role with its trust policy as the resource policy,
 * which must allow the caller explicitly; the request's sts: keys and tags are in the
 * context. A role that does not exist is an implicit deny, as on AWS. */
struct moat_error *sts_authz_assume_role(struct moat_call *call, const struct moat_value *in,
                                         struct moat_authz *authz)
{
    struct moat_arena *a = call->arena;
    struct moat_slice arn = moat_get_str(in, STS_ASSUME_ROLE_REQUEST_ROLE_ARN);
    authz->resources[0] = moat_arena_cstr(a, arn);
    authz->resource_count = 1;
    authz->trust = true;
    struct moat_slice account, name;
    if (sts_parse_role_arn(arn, &account, &name)) {
        authz->resource_account = moat_arena_cstr(a, account);
        struct iam_entity role;
        bool found;
        struct moat_error *err =
            iam_entity_find(call, IAM_ENTITY_ROLE, account, name, &role, &found);
        if (err)
            return err;
        if (found && moat_slice_eq(role.arn, arn))
            authz->resource_policy = iam_compile_cached(
                a, IAM_POLICY_TRUST, moat_map_str(role.rec, "AssumeRolePolicyDocument"));
        struct moat_value *tags = found ? moat_map_get(role.rec, "Tags") : NULL;
        for (uint32_t i = 0; tags && tags->type == MOAT_V_LIST && i < tags->count; i++)
            if (!iam_context_set_split(authz->context, MOAT_LIT("aws:ResourceTag/"),
                                       moat_map_str(tags->u.items[i], "Key"),
                                       moat_map_str(tags->u.items[i], "Value")))
                return moat_internal(call, "request context is full");
    }
    struct moat_error *err;
    if ((err = ctx_set(call, "sts:ExternalId",
                       moat_get_str(in, STS_ASSUME_ROLE_REQUEST_EXTERNAL_ID))) ||
        (err = ctx_set(call, "sts:RoleSessionName",
                       moat_get_str(in, STS_ASSUME_ROLE_REQUEST_ROLE_SESSION_NAME))) ||
        (err = ctx_set(call, "sts:SourceIdentity",
                       moat_get_str(in, STS_ASSUME_ROLE_REQUEST_SOURCE_IDENTITY))))
        return err;
    const struct moat_value *tags = moat_get(in, STS_ASSUME_ROLE_REQUEST_TAGS);
    if (tags) {
        struct moat_slice *keys = moat_arena_alloc(a, (tags->count + 1) * sizeof(*keys));
        for (uint32_t i = 0; i < tags->count; i++) {
            keys[i] = moat_get_str(tags->u.items[i], STS_TAG_KEY);
            if (!iam_context_set_split(authz->context, MOAT_LIT("aws:RequestTag/"), keys[i],
                                       moat_get_str(tags->u.items[i], STS_TAG_VALUE)))
                return moat_internal(call, "request context is full");
        }
        if (!iam_context_set_multi(authz->context, MOAT_LIT("aws:TagKeys"), keys, tags->count))
            return moat_internal(call, "request context is full");
    }
    const struct moat_value *tt = moat_get(in, STS_ASSUME_ROLE_REQUEST_TRANSITIVE_TAG_KEYS);
    if (tt) {
        struct moat_slice *keys = moat_arena_alloc(a, (tt->count + 1) * sizeof(*keys));
        for (uint32_t i = 0; i < tt->count; i++)
            keys[i] = moat_value_is_string(tt->u.items[i]) ? tt->u.items[i]->u.s : MOAT_LIT("");
        if (!iam_context_set_multi(authz->context, MOAT_LIT("sts:TransitiveTagKeys"), keys,
                                   tt->count))
            return moat_internal(call, "request context is full");
    }
    /* An MFA code sent with the request is checked here, so that a trust policy can
     * require aws:MultiFactorAuthPresent. */
    int64_t step;
    bool ok;
    if ((err = check_mfa(call, moat_get_str(in, STS_ASSUME_ROLE_REQUEST_SERIAL_NUMBER),
                         moat_get_str(in, STS_ASSUME_ROLE_REQUEST_TOKEN_CODE), &step, &ok)))
        return err;
    if (ok &&
        (!iam_context_set_bool(authz->context, MOAT_LIT("aws:MultiFactorAuthPresent"), true) ||
         !iam_context_set(authz->context, MOAT_LIT("aws:MultiFactorAuthAge"), MOAT_LIT("0"))))
        return moat_internal(call, "request context is full");
    return NULL;
}

struct moat_error *sts_assume_role(struct moat_call *call, const struct moat_value *in,
                                   struct moat_value *out)
{
    struct moat_arena *a = call->arena;
    const struct iam_principal *p = call->principal;
    /* https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html */
    if (p->type == IAM_PRINCIPAL_ROOT)
        return moat_fail(call, &sts_access_denied, "Roles may not be assumed by root accounts.");
    struct moat_slice arn = moat_get_str(in, STS_ASSUME_ROLE_REQUEST_ROLE_ARN);
    struct moat_slice account, name;
    struct iam_entity role;
    bool found = false;
    struct moat_error *err = NULL;
    if (sts_parse_role_arn(arn, &account, &name))
        err = iam_entity_find(call, IAM_ENTITY_ROLE, account, name, &role, &found);
    if (err)
        return err;
    if (!found || !moat_slice_eq(role.arn, arn))
        return moat_fail(call, &sts_access_denied,
                         "User: %.*s is not authorized to perform: sts:AssumeRole on resource: "
                         "%.*s",
                         MOAT_FMT(p->arn), MOAT_FMT(arn));

    int64_t max = moat_map_int(role.rec, "MaxSessionDuration", 3600);
    int64_t duration = moat_get_int(in, STS_ASSUME_ROLE_REQUEST_DURATION_SECONDS, 3600);
    if (p->type == IAM_PRINCIPAL_ASSUMED_ROLE && duration > STS_ROLE_CHAINING_MAX_S)
        return moat_fail(call, &sts_validation_error,
                         "The requested DurationSeconds exceeds the 1 hour session limit for "
                         "roles assumed by role chaining.");
    if (duration > max)
        return moat_fail(call, &sts_validation_error,
                         "The requested DurationSeconds exceeds the MaxSessionDuration set for "
                         "this role.");
    struct moat_slice policy = moat_get_str(in, STS_ASSUME_ROLE_REQUEST_POLICY);
    const struct moat_value *arns = moat_get(in, STS_ASSUME_ROLE_REQUEST_POLICY_ARNS);
    if ((err = check_session_policy(call, policy, arns)))
        return err;
    struct tags t;
    const struct moat_value *req_tags = moat_get(in, STS_ASSUME_ROLE_REQUEST_TAGS);
    if ((err = collect_tags(call, req_tags,
                            moat_get(in, STS_ASSUME_ROLE_REQUEST_TRANSITIVE_TAG_KEYS), &t)))
        return err;
    int64_t packed;
    if ((err = packed_size(call, policy, arns, &t, &packed)))
        return err;
    if (req_tags && req_tags->count && (err = also_allowed(call, "sts:TagSession")))
        return err;
    /* A source identity, once set, stays with every session chained from it. */
    struct moat_slice si = moat_get_str(in, STS_ASSUME_ROLE_REQUEST_SOURCE_IDENTITY);
    if (si.len) {
        if (p->source_identity.len && !moat_slice_eq(p->source_identity, si))
            return moat_fail(call, &sts_access_denied,
                             "The source identity of the calling session (%.*s) cannot be "
                             "changed.",
                             MOAT_FMT(p->source_identity));
        if ((err = also_allowed(call, "sts:SetSourceIdentity")))
            return err;
    } else {
        si = p->source_identity;
    }
    struct moat_slice serial = moat_get_str(in, STS_ASSUME_ROLE_REQUEST_SERIAL_NUMBER);
    int64_t step = 0;
    bool mfa = false;
    if ((err = check_mfa(call, serial, moat_get_str(in, STS_ASSUME_ROLE_REQUEST_TOKEN_CODE), &step,
                         &mfa)))
        return err;
    if (mfa && (err = iam_mfa_mark_used(call, p->account_id, serial, step)))
        return err;

    struct moat_slice session = moat_get_str(in, STS_ASSUME_ROLE_REQUEST_ROLE_SESSION_NAME);
    struct moat_slice role_name = moat_map_str(role.rec, "RoleName");
    struct grant g = {
        .type = "AssumedRole",
        .account = account,
        .arn = moat_slice_cstr(moat_arena_printf(a, "arn:aws:sts::%.*s:assumed-role/%.*s/%.*s",
                                                 MOAT_FMT(account), MOAT_FMT(role_name),
                                                 MOAT_FMT(session))),
        .principal_id = moat_slice_cstr(
            moat_arena_printf(a, "%.*s:%.*s", MOAT_FMT(role.id), MOAT_FMT(session))),
        .name = session,
        .role_arn = role.arn,
        .role_name = role_name,
        .role_id = role.id,
        .duration_s = duration,
        .mfa = mfa,
        .mfa_time_ms = call->now_ms,
        .source_identity = si,
        .tags = t.tags,
        .tag_count = t.count,
        .transitive = t.transitive,
        .transitive_count = t.transitive_count,
        .policy = policy,
        .policy_arns = arns,
    };
    if ((err = issue(call, &g, moat_set_struct(a, out, STS_ASSUME_ROLE_RESPONSE_CREDENTIALS))))
        return err;
    struct moat_value *u = moat_set_struct(a, out, STS_ASSUME_ROLE_RESPONSE_ASSUMED_ROLE_USER);
    moat_set_str(a, u, STS_ASSUMED_ROLE_USER_ASSUMED_ROLE_ID, g.principal_id);
    moat_set_str(a, u, STS_ASSUMED_ROLE_USER_ARN, g.arn);
    if (policy.len || (arns && arns->count) || t.count)
        moat_set_int(a, out, STS_ASSUME_ROLE_RESPONSE_PACKED_POLICY_SIZE, packed);
    if (si.len)
        moat_set_str(a, out, STS_ASSUME_ROLE_RESPONSE_SOURCE_IDENTITY, si);
    /* RoleLastUsed (GetRole). */
    moat_map_set_int(a, role.rec, "LastUsedDate", call->now_ms);
    moat_map_set_cstr(a, role.rec, "LastUsedRegion", call->region);
    return iam_entity_save(call, &role);
}

/* ---- GetSessionToken ----------------------------------------------------------------------- */

/* GetSessionToken and GetFederationToken need long-term credentials of an IAM user
 * or of the root user. */
static struct moat_error *long_term_caller(struct moat_call *call, const char *operation)
{
    const struct iam_principal *p = call->principal;
    if (p->temporary)
        return moat_fail(call, &sts_access_denied, "Cannot call %s with session credentials",
                         operation);
    if (p->type != IAM_PRINCIPAL_USER && p->type != IAM_PRINCIPAL_ROOT)
        return moat_fail(call, &sts_access_denied,
                         "%s needs the long-term credentials of an IAM user or of the root user",
                         operation);
    return NULL;
}

/* No permission is needed (AWS: "You cannot use policies to control authentication
 * operations"); it needs long-term credentials of an IAM user or the root user.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html */
struct moat_error *sts_get_session_token(struct moat_call *call, const struct moat_value *in,
                                         struct moat_value *out)
{
    const struct iam_principal *p = call->principal;
    struct moat_error *err = long_term_caller(call, "GetSessionToken");
    if (err)
        return err;
    int64_t duration = moat_get_int(in, STS_GET_SESSION_TOKEN_REQUEST_DURATION_SECONDS,
                                    STS_SESSION_TOKEN_DEFAULT_S);
    if (p->type == IAM_PRINCIPAL_ROOT && duration > STS_ROOT_SESSION_MAX_S)
        duration = STS_ROOT_SESSION_MAX_S; /* root sessions last at most an hour */
    struct moat_slice serial = moat_get_str(in, STS_GET_SESSION_TOKEN_REQUEST_SERIAL_NUMBER);
    int64_t step = 0;
    bool mfa = false;
    err = check_mfa(call, serial, moat_get_str(in, STS_GET_SESSION_TOKEN_REQUEST_TOKEN_CODE), &step,
                    &mfa);
    if (err)
        return err;
    if (mfa && (err = iam_mfa_mark_used(call, p->account_id, serial, step)))
        return err;
    struct grant g = {
        .type = p->type == IAM_PRINCIPAL_ROOT ? "Root" : "User",
        .account = p->account_id,
        .arn = p->arn,
        .principal_id = p->principal_id,
        .name = p->name,
        .duration_s = duration,
        .mfa = mfa,
        .mfa_time_ms = call->now_ms,
    };
    return issue(call, &g,
                 moat_set_struct(call->arena, out, STS_GET_SESSION_TOKEN_RESPONSE_CREDENTIALS));
}

/* ---- GetFederationToken ---------------------------------------------------------------------- */

struct moat_error *sts_authz_federation_token(struct moat_call *call, const struct moat_value *in,
                                              struct moat_authz *authz)
{
    authz->resources[0] =
        moat_arena_printf(call->arena, "arn:aws:sts::%s:federated-user/%.*s", call->account_id,
                          MOAT_FMT(moat_get_str(in, STS_GET_FEDERATION_TOKEN_REQUEST_NAME)));
    authz->resource_count = 1;
    const struct moat_value *tags = moat_get(in, STS_GET_FEDERATION_TOKEN_REQUEST_TAGS);
    if (tags) {
        struct moat_slice *keys = moat_arena_alloc(call->arena, (tags->count + 1) * sizeof(*keys));
        for (uint32_t i = 0; i < tags->count; i++) {
            keys[i] = moat_get_str(tags->u.items[i], STS_TAG_KEY);
            if (!iam_context_set_split(authz->context, MOAT_LIT("aws:RequestTag/"), keys[i],
                                       moat_get_str(tags->u.items[i], STS_TAG_VALUE)))
                return moat_internal(call, "request context is full");
        }
        if (!iam_context_set_multi(authz->context, MOAT_LIT("aws:TagKeys"), keys, tags->count))
            return moat_internal(call, "request context is full");
    }
    return NULL;
}

/* https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html */
struct moat_error *sts_get_federation_token(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out)
{
    struct moat_arena *a = call->arena;
    const struct iam_principal *p = call->principal;
    struct moat_error *err = long_term_caller(call, "GetFederationToken");
    if (err)
        return err;
    int64_t duration = moat_get_int(in, STS_GET_FEDERATION_TOKEN_REQUEST_DURATION_SECONDS,
                                    STS_SESSION_TOKEN_DEFAULT_S);
    if (p->type == IAM_PRINCIPAL_ROOT && duration > STS_ROOT_SESSION_MAX_S)
        duration = STS_ROOT_SESSION_MAX_S;
    struct moat_slice policy = moat_get_str(in, STS_GET_FEDERATION_TOKEN_REQUEST_POLICY);
    const struct moat_value *arns = moat_get(in, STS_GET_FEDERATION_TOKEN_REQUEST_POLICY_ARNS);
    err = check_session_policy(call, policy, arns);
    if (err)
        return err;
    struct tags t;
    const struct moat_value *req_tags = moat_get(in, STS_GET_FEDERATION_TOKEN_REQUEST_TAGS);
    if ((err = collect_tags(call, req_tags, NULL, &t)))
        return err;
    int64_t packed;
    if ((err = packed_size(call, policy, arns, &t, &packed)))
        return err;
    if (req_tags && req_tags->count && (err = also_allowed(call, "sts:TagSession")))
        return err;
    struct moat_slice name = moat_get_str(in, STS_GET_FEDERATION_TOKEN_REQUEST_NAME);
    struct grant g = {
        .type = "FederatedUser",
        .account = p->account_id,
        .arn = moat_slice_cstr(moat_arena_printf(a, "arn:aws:sts::%.*s:federated-user/%.*s",
                                                 MOAT_FMT(p->account_id), MOAT_FMT(name))),
        .principal_id = moat_slice_cstr(
            moat_arena_printf(a, "%.*s:%.*s", MOAT_FMT(p->account_id), MOAT_FMT(name))),
        .name = name,
        .duration_s = duration,
        .tags = t.tags,
        .tag_count = t.count,
        .policy = policy,
        .policy_arns = arns,
    };
    if (p->type == IAM_PRINCIPAL_USER) {
        g.parent_user_arn = p->arn;
        g.parent_user_id = p->principal_id;
    }
    if ((err = issue(call, &g,
                     moat_set_struct(a, out, STS_GET_FEDERATION_TOKEN_RESPONSE_CREDENTIALS))))
        return err;
    struct moat_value *fu =
        moat_set_struct(a, out, STS_GET_FEDERATION_TOKEN_RESPONSE_FEDERATED_USER);
    moat_set_str(a, fu, STS_FEDERATED_USER_FEDERATED_USER_ID, g.principal_id);
    moat_set_str(a, fu, STS_FEDERATED_USER_ARN, g.arn);
    if (policy.len || (arns && arns->count) || t.count)
        moat_set_int(a, out, STS_GET_FEDERATION_TOKEN_RESPONSE_PACKED_POLICY_SIZE, packed);
    return NULL;
}

/* ---- CloudTrail
 * ---------------------------------------------------------------------------------- */

/* The response without the session token (the secret is a sensitive member already);
 * the request without an MFA code. Secrets never reach the audit log. */
void sts_audit_credentials(struct moat_call *call, struct moat_value **request_parameters,
                           struct moat_value **response_elements)
{
    struct moat_arena *a = call->arena;
    *request_parameters = NULL;
    *response_elements = NULL;
    if (call->input && call->input->count) {
        struct moat_value *req = moat_struct_new(a, call->input->shape);
        for (uint32_t i = 0; i < call->input->count; i++) {
            const struct moat_member *m = moat_member_of(call->input, i);
            if (m && strcmp(m->name, "TokenCode") != 0)
                req->u.members[i] = call->input->u.members[i];
        }
        *request_parameters = req;
    }
    if (call->error || !call->output)
        return;
    struct moat_value *resp = moat_struct_new(a, call->output->shape);
    for (uint32_t i = 0; i < call->output->count; i++) {
        struct moat_value *v = call->output->u.members[i];
        const struct moat_member *m = moat_member_of(call->output, i);
        if (v && m && strcmp(m->name, "Credentials") == 0) {
            struct moat_value *c = moat_struct_new(a, v->shape);
            c->u.members[STS_CREDENTIALS_ACCESS_KEY_ID] =
                moat_get(v, STS_CREDENTIALS_ACCESS_KEY_ID);
            c->u.members[STS_CREDENTIALS_EXPIRATION] = moat_get(v, STS_CREDENTIALS_EXPIRATION);
            v = c;
        }
        resp->u.members[i] = v;
    }
    *response_elements = resp;
}

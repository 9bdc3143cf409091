/* kms_authz.c: authorization the KMS way. Every operation row's authz function
 * names the key (ARN, owner account, compiled key policy), adds the kms: condition
 * keys AWS documents, and lets grants allow what the policies leave implicitly denied.
 * https://docs.aws.amazon.com/kms/latest/developerguide/policy-conditions.html */
#include "aws/shapes/shapes_kms.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "crypto/rootkey.h"
#include "iam/iam_context.h"
#include "iam/iam_message.h"
#include "server/authorize.h"
#include "services/kms/kms.h"

#include <stdio.h>
#include <string.h>

#define M(x) ((x) + 1) /* member ids shifted so that 0 means "none" */

enum {
    ALIAS_OK = 1 << 0,     /* the key may be named by an alias */
    KEY_OPTIONAL = 1 << 1, /* no key parameter: none (or the ciphertext names it) */
    FROM_BLOB = 1 << 2,    /* the ciphertext blob names the key when KeyId is absent */
};

struct op_authz {
    unsigned key; /* M(member) of the key parameter, 0: the operation has no key */
    unsigned flags;
    unsigned ctx;         /* M(EncryptionContext member) */
    unsigned tokens;      /* M(GrantTokens member) */
    unsigned blob;        /* M(CiphertextBlob member) */
    const char *grant_op; /* the grant operation that allows it, NULL: grants cannot */
};

static const struct op_authz op_table[] = {
    [KMS_OP_ENCRYPT] = {M(KMS_ENCRYPT_REQUEST_KEY_ID), ALIAS_OK,
                        M(KMS_ENCRYPT_REQUEST_ENCRYPTION_CONTEXT),
                        M(KMS_ENCRYPT_REQUEST_GRANT_TOKENS), 0, "Encrypt"},
    [KMS_OP_DECRYPT] = {M(KMS_DECRYPT_REQUEST_KEY_ID), ALIAS_OK | FROM_BLOB,
                        M(KMS_DECRYPT_REQUEST_ENCRYPTION_CONTEXT),
                        M(KMS_DECRYPT_REQUEST_GRANT_TOKENS), M(KMS_DECRYPT_REQUEST_CIPHERTEXT_BLOB),
                        "Decrypt"},
    [KMS_OP_RE_ENCRYPT] = {M(KMS_RE_ENCRYPT_REQUEST_SOURCE_KEY_ID), ALIAS_OK | FROM_BLOB,
                           M(KMS_RE_ENCRYPT_REQUEST_SOURCE_ENCRYPTION_CONTEXT),
                           M(KMS_RE_ENCRYPT_REQUEST_GRANT_TOKENS),
                           M(KMS_RE_ENCRYPT_REQUEST_CIPHERTEXT_BLOB), "ReEncryptFrom"},
    [KMS_OP_GENERATE_DATA_KEY] = {M(KMS_GENERATE_DATA_KEY_REQUEST_KEY_ID), ALIAS_OK,
                                  M(KMS_GENERATE_DATA_KEY_REQUEST_ENCRYPTION_CONTEXT),
                                  M(KMS_GENERATE_DATA_KEY_REQUEST_GRANT_TOKENS), 0,
                                  "GenerateDataKey"},
    [KMS_OP_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT] =
        {M(KMS_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT_REQUEST_KEY_ID), ALIAS_OK,
         M(KMS_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT_REQUEST_ENCRYPTION_CONTEXT),
         M(KMS_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT_REQUEST_GRANT_TOKENS), 0,
         "GenerateDataKeyWithoutPlaintext"},
    [KMS_OP_GENERATE_DATA_KEY_PAIR] = {M(KMS_GENERATE_DATA_KEY_PAIR_REQUEST_KEY_ID), ALIAS_OK,
                                       M(KMS_GENERATE_DATA_KEY_PAIR_REQUEST_ENCRYPTION_CONTEXT),
                                       M(KMS_GENERATE_DATA_KEY_PAIR_REQUEST_GRANT_TOKENS), 0,
                                       "GenerateDataKeyPair"},
    [KMS_OP_GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT] =
        {M(KMS_GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT_REQUEST_KEY_ID), ALIAS_OK,
         M(KMS_GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT_REQUEST_ENCRYPTION_CONTEXT),
         M(KMS_GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT_REQUEST_GRANT_TOKENS), 0,
         "GenerateDataKeyPairWithoutPlaintext"},
    [KMS_OP_SIGN] = {M(KMS_SIGN_REQUEST_KEY_ID), ALIAS_OK, 0, M(KMS_SIGN_REQUEST_GRANT_TOKENS), 0,
                     "Sign"},
    [KMS_OP_VERIFY] = {M(KMS_VERIFY_REQUEST_KEY_ID), ALIAS_OK, 0,
                       M(KMS_VERIFY_REQUEST_GRANT_TOKENS), 0, "Verify"},
    [KMS_OP_GET_PUBLIC_KEY] = {M(KMS_GET_PUBLIC_KEY_REQUEST_KEY_ID), ALIAS_OK, 0,
                               M(KMS_GET_PUBLIC_KEY_REQUEST_GRANT_TOKENS), 0, "GetPublicKey"},
    [KMS_OP_GENERATE_MAC] = {M(KMS_GENERATE_MAC_REQUEST_KEY_ID), ALIAS_OK, 0,
                             M(KMS_GENERATE_MAC_REQUEST_GRANT_TOKENS), 0, "GenerateMac"},
    [KMS_OP_VERIFY_MAC] = {M(KMS_VERIFY_MAC_REQUEST_KEY_ID), ALIAS_OK, 0,
                           M(KMS_VERIFY_MAC_REQUEST_GRANT_TOKENS), 0, "VerifyMac"},
    [KMS_OP_DERIVE_SHARED_SECRET] = {M(KMS_DERIVE_SHARED_SECRET_REQUEST_KEY_ID), ALIAS_OK, 0,
                                     M(KMS_DERIVE_SHARED_SECRET_REQUEST_GRANT_TOKENS), 0,
                                     "DeriveSharedSecret"},
    [KMS_OP_DESCRIBE_KEY] = {M(KMS_DESCRIBE_KEY_REQUEST_KEY_ID), ALIAS_OK, 0,
                             M(KMS_DESCRIBE_KEY_REQUEST_GRANT_TOKENS), 0, "DescribeKey"},
    [KMS_OP_CREATE_GRANT] = {M(KMS_CREATE_GRANT_REQUEST_KEY_ID), 0, 0,
                             M(KMS_CREATE_GRANT_REQUEST_GRANT_TOKENS), 0, "CreateGrant"},
    [KMS_OP_RETIRE_GRANT] = {M(KMS_RETIRE_GRANT_REQUEST_KEY_ID), KEY_OPTIONAL, 0, 0, 0,
                             "RetireGrant"},
    [KMS_OP_REVOKE_GRANT] = {M(KMS_REVOKE_GRANT_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_LIST_GRANTS] = {M(KMS_LIST_GRANTS_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_ENABLE_KEY] = {M(KMS_ENABLE_KEY_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_DISABLE_KEY] = {M(KMS_DISABLE_KEY_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_SCHEDULE_KEY_DELETION] = {M(KMS_SCHEDULE_KEY_DELETION_REQUEST_KEY_ID), 0, 0, 0, 0,
                                      NULL},
    [KMS_OP_CANCEL_KEY_DELETION] = {M(KMS_CANCEL_KEY_DELETION_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_UPDATE_KEY_DESCRIPTION] = {M(KMS_UPDATE_KEY_DESCRIPTION_REQUEST_KEY_ID), 0, 0, 0, 0,
                                       NULL},
    [KMS_OP_TAG_RESOURCE] = {M(KMS_TAG_RESOURCE_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_UNTAG_RESOURCE] = {M(KMS_UNTAG_RESOURCE_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_LIST_RESOURCE_TAGS] = {M(KMS_LIST_RESOURCE_TAGS_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_GET_KEY_POLICY] = {M(KMS_GET_KEY_POLICY_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_PUT_KEY_POLICY] = {M(KMS_PUT_KEY_POLICY_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_LIST_KEY_POLICIES] = {M(KMS_LIST_KEY_POLICIES_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_ENABLE_KEY_ROTATION] = {M(KMS_ENABLE_KEY_ROTATION_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_DISABLE_KEY_ROTATION] = {M(KMS_DISABLE_KEY_ROTATION_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_GET_KEY_ROTATION_STATUS] = {M(KMS_GET_KEY_ROTATION_STATUS_REQUEST_KEY_ID), 0, 0, 0, 0,
                                        NULL},
    [KMS_OP_ROTATE_KEY_ON_DEMAND] = {M(KMS_ROTATE_KEY_ON_DEMAND_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_LIST_KEY_ROTATIONS] = {M(KMS_LIST_KEY_ROTATIONS_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_REPLICATE_KEY] = {M(KMS_REPLICATE_KEY_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_UPDATE_PRIMARY_REGION] = {M(KMS_UPDATE_PRIMARY_REGION_REQUEST_KEY_ID), 0, 0, 0, 0,
                                      NULL},
    [KMS_OP_GET_PARAMETERS_FOR_IMPORT] = {M(KMS_GET_PARAMETERS_FOR_IMPORT_REQUEST_KEY_ID), 0, 0, 0,
                                          0, NULL},
    [KMS_OP_IMPORT_KEY_MATERIAL] = {M(KMS_IMPORT_KEY_MATERIAL_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_DELETE_IMPORTED_KEY_MATERIAL] = {M(KMS_DELETE_IMPORTED_KEY_MATERIAL_REQUEST_KEY_ID), 0,
                                             0, 0, 0, NULL},
    [KMS_OP_GET_KEY_LAST_USAGE] = {M(KMS_GET_KEY_LAST_USAGE_REQUEST_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_CREATE_ALIAS] = {M(KMS_CREATE_ALIAS_REQUEST_TARGET_KEY_ID), 0, 0, 0, 0, NULL},
    [KMS_OP_UPDATE_ALIAS] = {M(KMS_UPDATE_ALIAS_REQUEST_TARGET_KEY_ID), 0, 0, 0, 0, NULL},
};

struct kms_call *kms_call_state(struct moat_call *call)
{
    if (!call->service_data)
        call->service_data = moat_arena_calloc(call->arena, sizeof(struct kms_call));
    return call->service_data;
}

/* Context sets cannot fail: the context has the call's arena. */
static void kept(bool set)
{
    MOAT_UNUSED(set);
}

/* ---- grant tokens ------------------------------------------------------------------ */

const char *kms_grant_token(struct moat_arena *a, const char *grant_id, const char *key_arn)
{
    struct moat_buf b;
    moat_buf_init(&b, a, 256);
    uint8_t nonce[24];
    crypto_random(nonce, sizeof(nonce));
    moat_buf_append_cstr(&b, "AQpAMoat.");
    moat_base64url_encode(&b, moat_slice_cstr(key_arn));
    moat_buf_append_u8(&b, '.');
    moat_base64url_encode(&b, moat_slice_cstr(grant_id));
    moat_buf_append_u8(&b, '.');
    moat_base64url_encode(&b, moat_slice(nonce, sizeof(nonce)));
    return moat_buf_cstr(&b);
}

bool kms_grant_token_parse(struct moat_arena *a, struct moat_slice token, struct moat_slice *arn,
                           struct moat_slice *grant_id)
{
    struct moat_slice rest = token, prefix, arn64, id64, nonce64, nonce;
    return moat_slice_split(&rest, '.', &prefix) && moat_slice_eq_cstr(prefix, "AQpAMoat") &&
           moat_slice_split(&rest, '.', &arn64) && moat_slice_split(&rest, '.', &id64) &&
           moat_slice_split(&rest, '.', &nonce64) && !rest.len &&
           moat_base64url_decode(a, arn64, arn) && moat_slice_starts_with(*arn, MOAT_LIT("arn:")) &&
           moat_base64url_decode(a, id64, grant_id) && grant_id->len == 64 &&
           moat_base64url_decode(a, nonce64, &nonce) && nonce.len == 24;
}

struct moat_error *kms_check_grant_tokens(struct moat_call *call, const struct moat_value *tokens)
{
    if (!tokens || tokens->type != MOAT_V_LIST)
        return NULL;
    for (uint32_t i = 0; i < tokens->count; i++) {
        struct moat_slice t =
            moat_value_is_string(tokens->u.items[i]) ? tokens->u.items[i]->u.s : MOAT_NULL_SLICE;
        struct moat_slice arn, id;
        if (!kms_grant_token_parse(call->arena, t, &arn, &id))
            return moat_fail(call, &kms_invalid_grant_token, "Invalid grant token.");
    }
    return NULL;
}

/* ---- condition keys ------------------------------------------------------------------ */

static void set(struct iam_context *ctx, const char *k, const char *v)
{
    if (v)
        kept(iam_context_set_cstr(ctx, k, v));
}

static void set_s(struct iam_context *ctx, const char *k, struct moat_slice v)
{
    kept(iam_context_set(ctx, moat_slice_cstr(k), v));
}

static void set_b(struct iam_context *ctx, const char *k, bool v)
{
    kept(iam_context_set_bool(ctx, moat_slice_cstr(k), v));
}

/* Keys every KMS request carries: the caller's account and, for calls a service makes
 * on the caller's behalf, the service endpoint. */
static void common_keys(struct moat_call *call, struct iam_context *ctx)
{
    set_s(ctx, "kms:CallerAccount", call->principal->account_id);
    if (call->via_service)
        set(ctx, "kms:ViaService",
            moat_arena_printf(call->arena, "%s.%s.amazonaws.com", call->via_service, call->region));
}

/* Keys that describe the key the request uses. */
static void key_keys(struct moat_call *call, struct iam_context *ctx, const struct kms_key *key)
{
    set(ctx, "kms:KeySpec", key->spec->name);
    set(ctx, "kms:CustomerMasterKeySpec", key->spec->name);
    set(ctx, "kms:KeyUsage", kms_usage_name(key->usage));
    set(ctx, "kms:CustomerMasterKeyUsage", kms_usage_name(key->usage));
    set(ctx, "kms:KeyOrigin", key->origin);
    set_b(ctx, "kms:MultiRegion", key->multi_region);
    if (key->multi_region)
        set(ctx, "kms:MultiRegionKeyType", key->primary ? "PRIMARY" : "REPLICA");
    kept(iam_context_set_multi(ctx, MOAT_LIT("kms:ResourceAliases"), key->aliases,
                               key->alias_count));
    for (size_t i = 0; i < key->tag_count; i++)
        kept(iam_context_set_split(ctx, MOAT_LIT("aws:ResourceTag/"), key->tags[i].key,
                                   key->tags[i].value));
    set(ctx, "aws:ResourceAccount", key->account);
}

static void context_keys(struct moat_call *call, struct iam_context *ctx,
                         const struct moat_value *ec)
{
    if (!ec || ec->type != MOAT_V_MAP || !ec->count)
        return;
    struct moat_slice *keys = moat_arena_alloc(call->arena, ec->count * sizeof(*keys));
    for (uint32_t i = 0; i < ec->count; i++) {
        keys[i] = ec->u.entries[i].key;
        const struct moat_value *v = ec->u.entries[i].value;
        kept(iam_context_set_split(ctx, MOAT_LIT("kms:EncryptionContext:"), keys[i],
                                   moat_value_is_string(v) ? v->u.s : MOAT_NULL_SLICE));
    }
    kept(iam_context_set_multi(ctx, MOAT_LIT("kms:EncryptionContextKeys"), keys, ec->count));
}

static void request_tags(struct moat_call *call, struct iam_context *ctx,
                         const struct moat_value *tags, bool values)
{
    if (!tags || tags->type != MOAT_V_LIST)
        return;
    struct moat_slice *keys = moat_arena_alloc(call->arena, (tags->count + 1) * sizeof(*keys));
    for (uint32_t i = 0; i < tags->count; i++) {
        const struct moat_value *t = tags->u.items[i];
        if (values) {
            keys[i] = moat_get_str(t, KMS_TAG_TAG_KEY);
            kept(iam_context_set_split(ctx, MOAT_LIT("aws:RequestTag/"), keys[i],
                                       moat_get_str(t, KMS_TAG_TAG_VALUE)));
        } else {
            keys[i] = moat_value_is_string(t) ? t->u.s : MOAT_NULL_SLICE;
        }
    }
    kept(iam_context_set_multi(ctx, MOAT_LIT("aws:TagKeys"), keys, tags->count));
}

static const char *int_str(struct moat_call *call, int64_t v)
{
    return moat_arena_printf(call->arena, "%lld", (long long)v);
}

/* The operation's own keys (algorithms, windows, grant details...). */
static void op_keys(struct moat_call *call, const struct moat_value *in, struct iam_context *ctx)
{
    switch (call->op->shape) {
    case KMS_OP_ENCRYPT:
        set_s(ctx, "kms:EncryptionAlgorithm",
              moat_has(in, KMS_ENCRYPT_REQUEST_ENCRYPTION_ALGORITHM)
                  ? moat_get_str(in, KMS_ENCRYPT_REQUEST_ENCRYPTION_ALGORITHM)
                  : MOAT_LIT("SYMMETRIC_DEFAULT"));
        break;
    case KMS_OP_DECRYPT:
        set_s(ctx, "kms:EncryptionAlgorithm",
              moat_has(in, KMS_DECRYPT_REQUEST_ENCRYPTION_ALGORITHM)
                  ? moat_get_str(in, KMS_DECRYPT_REQUEST_ENCRYPTION_ALGORITHM)
                  : MOAT_LIT("SYMMETRIC_DEFAULT"));
        break;
    case KMS_OP_RE_ENCRYPT:
        set_s(ctx, "kms:EncryptionAlgorithm",
              moat_has(in, KMS_RE_ENCRYPT_REQUEST_SOURCE_ENCRYPTION_ALGORITHM)
                  ? moat_get_str(in, KMS_RE_ENCRYPT_REQUEST_SOURCE_ENCRYPTION_ALGORITHM)
                  : MOAT_LIT("SYMMETRIC_DEFAULT"));
        break;
    case KMS_OP_GENERATE_DATA_KEY:
    case KMS_OP_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT:
        set(ctx, "kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
        break;
    case KMS_OP_GENERATE_DATA_KEY_PAIR:
        set(ctx, "kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
        set_s(ctx, "kms:DataKeyPairSpec",
              moat_get_str(in, KMS_GENERATE_DATA_KEY_PAIR_REQUEST_KEY_PAIR_SPEC));
        break;
    case KMS_OP_GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT:
        set(ctx, "kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
        set_s(ctx, "kms:DataKeyPairSpec",
              moat_get_str(in, KMS_GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT_REQUEST_KEY_PAIR_SPEC));
        break;
    case KMS_OP_SIGN:
        set_s(ctx, "kms:SigningAlgorithm", moat_get_str(in, KMS_SIGN_REQUEST_SIGNING_ALGORITHM));
        set_s(ctx, "kms:MessageType",
              moat_has(in, KMS_SIGN_REQUEST_MESSAGE_TYPE)
                  ? moat_get_str(in, KMS_SIGN_REQUEST_MESSAGE_TYPE)
                  : MOAT_LIT("RAW"));
        break;
    case KMS_OP_VERIFY:
        set_s(ctx, "kms:SigningAlgorithm", moat_get_str(in, KMS_VERIFY_REQUEST_SIGNING_ALGORITHM));
        set_s(ctx, "kms:MessageType",
              moat_has(in, KMS_VERIFY_REQUEST_MESSAGE_TYPE)
                  ? moat_get_str(in, KMS_VERIFY_REQUEST_MESSAGE_TYPE)
                  : MOAT_LIT("RAW"));
        break;
    case KMS_OP_GENERATE_MAC:
        set_s(ctx, "kms:MacAlgorithm", moat_get_str(in, KMS_GENERATE_MAC_REQUEST_MAC_ALGORITHM));
        break;
    case KMS_OP_VERIFY_MAC:
        set_s(ctx, "kms:MacAlgorithm", moat_get_str(in, KMS_VERIFY_MAC_REQUEST_MAC_ALGORITHM));
        break;
    case KMS_OP_DERIVE_SHARED_SECRET:
        set_s(ctx, "kms:KeyAgreementAlgorithm",
              moat_get_str(in, KMS_DERIVE_SHARED_SECRET_REQUEST_KEY_AGREEMENT_ALGORITHM));
        break;
    case KMS_OP_CREATE_GRANT: {
        const struct moat_value *ops = moat_get(in, KMS_CREATE_GRANT_REQUEST_OPERATIONS);
        if (ops && ops->type == MOAT_V_LIST) {
            struct moat_slice *v = moat_arena_alloc(call->arena, (ops->count + 1) * sizeof(*v));
            for (uint32_t i = 0; i < ops->count; i++)
                v[i] = ops->u.items[i]->u.s;
            kept(iam_context_set_multi(ctx, MOAT_LIT("kms:GrantOperations"), v, ops->count));
        }
        set_s(ctx, "kms:GranteePrincipal",
              moat_get_str(in, KMS_CREATE_GRANT_REQUEST_GRANTEE_PRINCIPAL));
        if (moat_has(in, KMS_CREATE_GRANT_REQUEST_RETIRING_PRINCIPAL))
            set_s(ctx, "kms:RetiringPrincipal",
                  moat_get_str(in, KMS_CREATE_GRANT_REQUEST_RETIRING_PRINCIPAL));
        const struct moat_value *c = moat_get(in, KMS_CREATE_GRANT_REQUEST_CONSTRAINTS);
        struct moat_slice types[2];
        size_t nt = 0;
        if (moat_has(c, KMS_GRANT_CONSTRAINTS_ENCRYPTION_CONTEXT_EQUALS))
            types[nt++] = MOAT_LIT("EncryptionContextEquals");
        if (moat_has(c, KMS_GRANT_CONSTRAINTS_ENCRYPTION_CONTEXT_SUBSET))
            types[nt++] = MOAT_LIT("EncryptionContextSubset");
        if (nt) {
            struct moat_slice *v = moat_arena_alloc(call->arena, sizeof(types));
            memcpy(v, types, sizeof(types));
            kept(iam_context_set_multi(ctx, MOAT_LIT("kms:GrantConstraintType"), v, nt));
        }
        /* a grant's encryption-context constraint is checked like a request's */
        context_keys(call, ctx, moat_get(c, KMS_GRANT_CONSTRAINTS_ENCRYPTION_CONTEXT_EQUALS));
        context_keys(call, ctx, moat_get(c, KMS_GRANT_CONSTRAINTS_ENCRYPTION_CONTEXT_SUBSET));
        set_b(ctx, "kms:GrantIsForAWSResource", call->via_service != NULL);
        break;
    }
    case KMS_OP_LIST_GRANTS:
    case KMS_OP_REVOKE_GRANT:
        set_b(ctx, "kms:GrantIsForAWSResource", call->via_service != NULL);
        break;
    case KMS_OP_SCHEDULE_KEY_DELETION:
        set(ctx, "kms:ScheduleKeyDeletionPendingWindowInDays",
            int_str(call, moat_get_int(in, KMS_SCHEDULE_KEY_DELETION_REQUEST_PENDING_WINDOW_IN_DAYS,
                                       30)));
        break;
    case KMS_OP_ENABLE_KEY_ROTATION:
        set(ctx, "kms:RotationPeriodInDays",
            int_str(call, moat_get_int(in, KMS_ENABLE_KEY_ROTATION_REQUEST_ROTATION_PERIOD_IN_DAYS,
                                       365)));
        break;
    case KMS_OP_PUT_KEY_POLICY:
        set_b(ctx, "kms:BypassPolicyLockoutSafetyCheck",
              moat_get_bool(in, KMS_PUT_KEY_POLICY_REQUEST_BYPASS_POLICY_LOCKOUT_SAFETY_CHECK,
                            false));
        break;
    case KMS_OP_TAG_RESOURCE:
        request_tags(call, ctx, moat_get(in, KMS_TAG_RESOURCE_REQUEST_TAGS), true);
        break;
    case KMS_OP_UNTAG_RESOURCE:
        request_tags(call, ctx, moat_get(in, KMS_UNTAG_RESOURCE_REQUEST_TAG_KEYS), false);
        break;
    case KMS_OP_REPLICATE_KEY:
        set_s(ctx, "kms:ReplicaRegion", moat_get_str(in, KMS_REPLICATE_KEY_REQUEST_REPLICA_REGION));
        set_b(
            ctx, "kms:BypassPolicyLockoutSafetyCheck",
            moat_get_bool(in, KMS_REPLICATE_KEY_REQUEST_BYPASS_POLICY_LOCKOUT_SAFETY_CHECK, false));
        request_tags(call, ctx, moat_get(in, KMS_REPLICATE_KEY_REQUEST_TAGS), true);
        break;
    case KMS_OP_UPDATE_PRIMARY_REGION:
        set_s(ctx, "kms:PrimaryRegion",
              moat_get_str(in, KMS_UPDATE_PRIMARY_REGION_REQUEST_PRIMARY_REGION));
        break;
    case KMS_OP_GET_PARAMETERS_FOR_IMPORT:
        set_s(ctx, "kms:WrappingAlgorithm",
              moat_get_str(in, KMS_GET_PARAMETERS_FOR_IMPORT_REQUEST_WRAPPING_ALGORITHM));
        set_s(ctx, "kms:WrappingKeySpec",
              moat_get_str(in, KMS_GET_PARAMETERS_FOR_IMPORT_REQUEST_WRAPPING_KEY_SPEC));
        break;
    case KMS_OP_IMPORT_KEY_MATERIAL: {
        set_s(ctx, "kms:ExpirationModel",
              moat_has(in, KMS_IMPORT_KEY_MATERIAL_REQUEST_EXPIRATION_MODEL)
                  ? moat_get_str(in, KMS_IMPORT_KEY_MATERIAL_REQUEST_EXPIRATION_MODEL)
                  : MOAT_LIT("KEY_MATERIAL_EXPIRES"));
        if (moat_has(in, KMS_IMPORT_KEY_MATERIAL_REQUEST_VALID_TO))
            set(ctx, "kms:ValidTo",
                int_str(call, moat_get_ts(in, KMS_IMPORT_KEY_MATERIAL_REQUEST_VALID_TO, 0) / 1000));
        break;
    }
    default:
        break;
    }
}

/* ---- authorization of one key -------------------------------------------------------- */

static bool grant_check(struct moat_call *call, size_t i)
{
    struct kms_call *st = call->service_data;
    const struct op_authz *d = &op_table[call->op->shape];
    if (!st || !st->key || !d->grant_op || i != 0)
        return false;
    return kms_grants_allow(call, st->key, d->grant_op,
                            d->ctx ? moat_get(call->input, d->ctx - 1) : NULL);
}

/* Names the key as the call's resource, with its policy and keys. */
static void name_key(struct moat_call *call, struct moat_authz *authz, const struct kms_key *key,
                     const struct iam_policy *policy)
{
    authz->resources[authz->resource_count] = key->arn;
    authz->resource_types[authz->resource_count] = "AWS::KMS::Key";
    authz->resource_count++;
    authz->resource_account = key->account;
    authz->resource_policy = policy;
    authz->kms_key = true;
    moat_call_add_resource(call, "AWS::KMS::Key", key->arn);
}

/* The key a Decrypt/ReEncrypt ciphertext names (symmetric blobs only). */
static struct moat_error *key_from_blob(struct moat_call *call, struct kms_call *st,
                                        struct moat_slice blob)
{
    if (!kms_blob_parse(blob, &st->blob))
        return moat_fail(call, &kms_invalid_ciphertext,
                         "The ciphertext is not a symmetric KMS ciphertext; asymmetric "
                         "ciphertexts need the KeyId of their key.");
    st->blob_parsed = true;
    st->ref.account = moat_arena_cstr(call->arena, st->blob.account);
    st->ref.region = call->region;
    st->ref.key_id = moat_arena_cstr(call->arena, st->blob.key_id);
    return NULL;
}

/* A denial of a second key (ReEncrypt's destination, an alias's other key). */
static struct moat_error *check_other(struct moat_call *call, const char *action,
                                      const char *resource, const char *account,
                                      const struct iam_policy *policy, unsigned flags,
                                      const struct kms_key *grant_key, const char *grant_op,
                                      const struct moat_value *ec)
{
    struct iam_eval_result r;
    if (authorize_check(call, action, resource, account, policy, flags, call->authz.context, &r,
                        NULL) == IAM_DECISION_ALLOW)
        return NULL;
    if (r.decision == IAM_DECISION_IMPLICIT_DENY && grant_key && grant_op &&
        kms_grants_allow(call, grant_key, grant_op, ec))
        return NULL;
    call->error_is_denial = true;
    struct moat_buf b;
    moat_buf_init(&b, call->arena, 256);
    iam_message_denied(&b, call->principal, moat_slice_cstr(action), moat_slice_cstr(resource), &r);
    return moat_fail(call, &kms_access_denied, "%.*s", MOAT_FMT(moat_buf_slice(&b)));
}

struct moat_error *kms_authz(struct moat_call *call, const struct moat_value *in,
                             struct moat_authz *authz)
{
    struct iam_context *ctx = authz->context;
    struct kms_call *st = kms_call_state(call);
    unsigned op = call->op->shape;
    const struct op_authz *d = op < MOAT_COUNT(op_table) ? &op_table[op] : NULL;
    common_keys(call, ctx);
    if (d && d->tokens) {
        struct moat_error *err = kms_check_grant_tokens(call, moat_get(in, d->tokens - 1));
        if (err)
            return err;
    }
    op_keys(call, in, ctx);
    if (!d || !d->key)
        return NULL;

    struct moat_error *err = NULL;
    bool has_key = moat_has(in, d->key - 1);
    if (has_key) {
        err = kms_resolve(call, moat_get_str(in, d->key - 1), (d->flags & ALIAS_OK) != 0, &st->ref);
    } else if (d->flags & FROM_BLOB) {
        if (!moat_has(in, d->blob - 1))
            return NULL; /* the handler answers (DryRun without a ciphertext, or null) */
        err = key_from_blob(call, st, moat_get_blob(in, d->blob - 1));
    } else if (d->flags & KEY_OPTIONAL) {
        return NULL;
    } else {
        return NULL; /* validation already refused a missing required key */
    }
    if (err)
        return err;
    err = kms_key_get(call, &st->ref, &st->key, &st->policy);
    if (err)
        return err;
    if (st->ref.alias)
        set(ctx, "kms:RequestAlias", st->ref.alias);
    key_keys(call, ctx, st->key);
    if (d->ctx)
        context_keys(call, ctx, moat_get(in, d->ctx - 1));
    name_key(call, authz, st->key, st->policy);
    authz->grant_check = grant_check;

    if (op == KMS_OP_RE_ENCRYPT) {
        err = kms_resolve(call, moat_get_str(in, KMS_RE_ENCRYPT_REQUEST_DESTINATION_KEY_ID), true,
                          &st->dest_ref);
        const struct iam_policy *dpol = NULL;
        if (!err)
            err = kms_key_get(call, &st->dest_ref, &st->dest_key, &dpol);
        if (err)
            return err;
        moat_call_add_resource(call, "AWS::KMS::Key", st->dest_key->arn);
        set_b(ctx, "kms:ReEncryptOnSameKey", strcmp(st->dest_key->arn, st->key->arn) == 0);
        /* kms:ReEncryptTo sees the destination's context and key. */
        struct iam_context *saved = call->authz.context;
        call->authz.context = NULL;
        struct iam_context *dctx = authorize_context(call);
        call->authz.context = saved;
        common_keys(call, dctx);
        key_keys(call, dctx, st->dest_key);
        if (st->dest_ref.alias)
            set(dctx, "kms:RequestAlias", st->dest_ref.alias);
        const struct moat_value *dec =
            moat_get(in, KMS_RE_ENCRYPT_REQUEST_DESTINATION_ENCRYPTION_CONTEXT);
        context_keys(call, dctx, dec);
        set_b(dctx, "kms:ReEncryptOnSameKey", strcmp(st->dest_key->arn, st->key->arn) == 0);
        set_s(dctx, "kms:EncryptionAlgorithm",
              moat_has(in, KMS_RE_ENCRYPT_REQUEST_DESTINATION_ENCRYPTION_ALGORITHM)
                  ? moat_get_str(in, KMS_RE_ENCRYPT_REQUEST_DESTINATION_ENCRYPTION_ALGORITHM)
                  : MOAT_LIT("SYMMETRIC_DEFAULT"));
        struct iam_context *main_ctx = call->authz.context;
        call->authz.context = dctx;
        err = check_other(call, "kms:ReEncryptTo", st->dest_key->arn, st->dest_key->account, dpol,
                          IAM_EVAL_KMS_KEY, st->dest_key, "ReEncryptTo", dec);
        call->authz.context = main_ctx;
        if (err)
            return err;
    }
    if (op == KMS_OP_CREATE_ALIAS || op == KMS_OP_UPDATE_ALIAS) {
        /* The alias itself is authorised by IAM policies only. */
        struct moat_slice name =
            moat_get_str(in, op == KMS_OP_CREATE_ALIAS ? KMS_CREATE_ALIAS_REQUEST_ALIAS_NAME
                                                       : KMS_UPDATE_ALIAS_REQUEST_ALIAS_NAME);
        const char *alias_arn = kms_alias_arn(call->arena, call->region, call->account_id,
                                              moat_arena_cstr(call->arena, name));
        err = check_other(call, call->op->action, alias_arn, call->account_id, NULL, 0, NULL, NULL,
                          NULL);
        if (err)
            return err;
    }
    return NULL;
}

/* DeleteAlias and UpdateAlias also need the permission on the key the alias names now. */
struct moat_error *kms_authz_alias(struct moat_call *call, const struct moat_value *in,
                                   struct moat_authz *authz)
{
    struct kms_call *st = kms_call_state(call);
    unsigned op = call->op->shape;
    struct moat_slice name =
        moat_get_str(in, op == KMS_OP_DELETE_ALIAS ? KMS_DELETE_ALIAS_REQUEST_ALIAS_NAME
                                                   : KMS_UPDATE_ALIAS_REQUEST_ALIAS_NAME);
    if (op == KMS_OP_UPDATE_ALIAS) {
        struct moat_error *err = kms_authz(call, in, authz);
        if (err)
            return err;
    } else {
        common_keys(call, authz->context);
        const char *alias_arn = kms_alias_arn(call->arena, call->region, call->account_id,
                                              moat_arena_cstr(call->arena, name));
        authz->resources[authz->resource_count] = alias_arn;
        authz->resource_types[authz->resource_count] = "AWS::KMS::Alias";
        authz->resource_count++;
    }
    if (!moat_slice_starts_with(name, MOAT_LIT("alias/")) || kms_alias_is_aws(name))
        return NULL; /* the handler answers with AWS's error */
    struct kms_ref old;
    struct moat_error *err = kms_resolve(call, name, true, &old);
    if (err)
        return err;
    const struct kms_key *key;
    const struct iam_policy *pol;
    err = kms_key_get(call, &old, &key, &pol);
    if (err)
        return err;
    if (op == KMS_OP_UPDATE_ALIAS) {
        st->dest_ref = old;
        st->dest_key = key;
    } else {
        st->ref = old;
        st->key = key;
        key_keys(call, authz->context, key);
    }
    moat_call_add_resource(call, "AWS::KMS::Key", key->arn);
    return check_other(call, call->op->action, key->arn, key->account, pol, IAM_EVAL_KMS_KEY, NULL,
                       NULL, NULL);
}

/* CreateKey: the key does not exist yet; IAM policies decide, with the new key's
 * properties as condition keys. */
struct moat_error *kms_authz_create_key(struct moat_call *call, const struct moat_value *in,
                                        struct moat_authz *authz)
{
    struct iam_context *ctx = authz->context;
    common_keys(call, ctx);
    struct moat_slice spec = moat_has(in, KMS_CREATE_KEY_REQUEST_KEY_SPEC)
                                 ? moat_get_str(in, KMS_CREATE_KEY_REQUEST_KEY_SPEC)
                             : moat_has(in, KMS_CREATE_KEY_REQUEST_CUSTOMER_MASTER_KEY_SPEC)
                                 ? moat_get_str(in, KMS_CREATE_KEY_REQUEST_CUSTOMER_MASTER_KEY_SPEC)
                                 : MOAT_LIT("SYMMETRIC_DEFAULT");
    struct moat_slice usage = moat_has(in, KMS_CREATE_KEY_REQUEST_KEY_USAGE)
                                  ? moat_get_str(in, KMS_CREATE_KEY_REQUEST_KEY_USAGE)
                                  : MOAT_LIT("ENCRYPT_DECRYPT");
    set_s(ctx, "kms:KeySpec", spec);
    set_s(ctx, "kms:CustomerMasterKeySpec", spec);
    set_s(ctx, "kms:KeyUsage", usage);
    set_s(ctx, "kms:CustomerMasterKeyUsage", usage);
    set_s(ctx, "kms:KeyOrigin",
          moat_has(in, KMS_CREATE_KEY_REQUEST_ORIGIN)
              ? moat_get_str(in, KMS_CREATE_KEY_REQUEST_ORIGIN)
              : MOAT_LIT("AWS_KMS"));
    bool mr = moat_get_bool(in, KMS_CREATE_KEY_REQUEST_MULTI_REGION, false);
    set_b(ctx, "kms:MultiRegion", mr);
    if (mr)
        set(ctx, "kms:MultiRegionKeyType", "PRIMARY");
    set_b(ctx, "kms:BypassPolicyLockoutSafetyCheck",
          moat_get_bool(in, KMS_CREATE_KEY_REQUEST_BYPASS_POLICY_LOCKOUT_SAFETY_CHECK, false));
    request_tags(call, ctx, moat_get(in, KMS_CREATE_KEY_REQUEST_TAGS), true);
    /* Tagging a key as it is created also needs kms:TagResource (IAM policies decide). */
    if (moat_has(in, KMS_CREATE_KEY_REQUEST_TAGS))
        return check_other(call, "kms:TagResource", "*", call->account_id, NULL, 0, NULL, NULL,
                           NULL);
    return NULL;
}

/* ---- key policies -------------------------------------------------------------------- */

/* AWS's default key policy, in the layout GetKeyPolicy returns it.
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html */
struct moat_slice kms_default_policy(struct moat_arena *a, const char *account)
{
    return moat_slice_cstr(moat_arena_printf(a,
                                             "{\n"
                                             "  \"Version\" : \"2012-10-17\",\n"
                                             "  \"Id\" : \"key-default-1\",\n"
                                             "  \"Statement\" : [ {\n"
                                             "    \"Sid\" : \"Enable IAM User Permissions\",\n"
                                             "    \"Effect\" : \"Allow\",\n"
                                             "    \"Principal\" : {\n"
                                             "      \"AWS\" : \"arn:aws:iam::%s:root\"\n"
                                             "    },\n"
                                             "    \"Action\" : \"kms:*\",\n"
                                             "    \"Resource\" : \"*\"\n"
                                             "  } ]\n"
                                             "}",
                                             account));
}

struct moat_error *kms_policy_compile(struct moat_call *call, struct moat_slice text,
                                      struct iam_policy **out)
{
    struct iam_policy_diag diag;
    if (text.len > 32768)
        return moat_fail(call, &kms_limit_exceeded,
                         "The key policy is %zu bytes; a key policy can have at most 32768.",
                         text.len);
    enum iam_policy_status s = iam_policy_compile(IAM_POLICY_RESOURCE, text, 32768, out, &diag);
    if (s == IAM_POLICY_LIMIT_EXCEEDED)
        return moat_fail(call, &kms_limit_exceeded, "%s", diag.message);
    if (s != IAM_POLICY_OK)
        return moat_fail(call, &kms_malformed_policy, "%s", diag.message);
    return NULL;
}

/* https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#prevent-unmanageable-key
 */
struct moat_error *kms_policy_lockout_check(struct moat_call *call, const struct iam_policy *policy,
                                            const char *key_arn, const char *account)
{
    struct iam_context *saved = call->authz.context;
    call->authz.context = NULL;
    struct iam_context *ctx = authorize_context(call);
    call->authz.context = saved;
    common_keys(call, ctx);
    if (authorize_check(call, "kms:PutKeyPolicy", key_arn, account, policy, IAM_EVAL_KMS_KEY, ctx,
                        NULL, NULL) == IAM_DECISION_ALLOW)
        return NULL;
    return moat_fail(call, &kms_malformed_policy,
                     "The new key policy will not allow you to update the key policy in the "
                     "future.");
}

/* RetireGrant names its grant by KeyId + GrantId or by the grant token alone. Permission
 * comes from the grant (its retiring principal, or its grantee when RetireGrant is one of
 * its operations) or from the policies (kms:RetireGrant).
 * https://docs.aws.amazon.com/kms/latest/developerguide/grant-delete.html */
struct moat_error *kms_authz_retire_grant(struct moat_call *call, const struct moat_value *in,
                                          struct moat_authz *authz)
{
    struct kms_call *st = kms_call_state(call);
    struct moat_slice token = moat_get_str(in, KMS_RETIRE_GRANT_REQUEST_GRANT_TOKEN);
    struct moat_slice arn, id;
    if (moat_has(in, KMS_RETIRE_GRANT_REQUEST_GRANT_TOKEN) &&
        !kms_grant_token_parse(call->arena, token, &arn, &id))
        return moat_fail(call, &kms_invalid_grant_token, "Invalid grant token.");
    if (moat_has(in, KMS_RETIRE_GRANT_REQUEST_KEY_ID))
        return kms_authz(call, in, authz);
    common_keys(call, authz->context);
    if (!moat_has(in, KMS_RETIRE_GRANT_REQUEST_GRANT_TOKEN))
        return moat_fail(call, &kms_validation_exception,
                         "Either the grant token or both the KeyId and the GrantId must be "
                         "specified.");
    struct moat_error *err = kms_resolve(call, arn, false, &st->ref);
    if (!err)
        err = kms_key_get(call, &st->ref, &st->key, &st->policy);
    if (err)
        return err;
    key_keys(call, authz->context, st->key);
    name_key(call, authz, st->key, st->policy);
    authz->grant_check = grant_check;
    return NULL;
}

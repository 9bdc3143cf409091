/* kms_asym.c: operations on asymmetric and HMAC keys: Sign, Verify, GetPublicKey,
 * GenerateMac, VerifyMac and DeriveSharedSecret (ECDH). */
#include "aws/shapes/shapes_kms.h"
#include "server/server.h"
#include "services/kms/kms.h"

#include <openssl/crypto.h>
#include <string.h>

static struct moat_error *usable_for(struct moat_call *call, const struct kms_key *key,
                                     enum kms_usage usage, const char *op)
{
    struct moat_error *err = kms_require_usable(call, key);
    if (err)
        return err;
    if (key->usage != usage)
        return moat_fail(call, &kms_invalid_key_usage,
                         "%s key usage is %s, which is not valid for %s.", key->arn,
                         kms_usage_name(key->usage), op);
    return NULL;
}

static struct moat_error *check_algorithm(struct moat_call *call, const struct kms_key *key,
                                          const char *const *list, struct moat_slice alg)
{
    if (!kms_alg_in(list, alg))
        return moat_fail(call, &kms_invalid_key_usage,
                         "Algorithm %.*s is incompatible with key spec %s.", MOAT_FMT(alg),
                         key->spec->name);
    return NULL;
}

/* The message checks Sign and Verify share: DIGEST needs a digest of the algorithm's
 * length; Ed25519 signs raw messages only (Ed25519ph needs OpenSSL 3.2). */
static struct moat_error *check_message(struct moat_call *call, struct moat_slice alg,
                                        struct moat_slice type, struct moat_slice msg, bool *digest)
{
    *digest = moat_slice_eq_cstr(type, "DIGEST");
    if (moat_slice_eq_cstr(type, "EXTERNAL_MU"))
        return moat_fail(call, &kms_validation_exception,
                         "MessageType EXTERNAL_MU is valid only with ML-DSA keys.");
    if (moat_slice_eq_cstr(alg, "ED25519_PH_SHA_512"))
        return moat_fail(call, &kms_unsupported_operation,
                         "Signing algorithm ED25519_PH_SHA_512 is not supported by this KMS "
                         "endpoint; use ED25519_SHA_512 with MessageType RAW.");
    if (moat_slice_eq_cstr(alg, "ED25519_SHA_512")) {
        if (*digest)
            return moat_fail(call, &kms_validation_exception,
                             "ED25519_SHA_512 signs raw messages; MessageType must be RAW.");
        return NULL;
    }
    if (*digest) {
        size_t need = 0;
        kms_sign_digest(alg, &need);
        if (msg.len != need)
            return moat_fail(call, &kms_validation_exception,
                             "Digest is invalid length for algorithm %.*s.", MOAT_FMT(alg));
    }
    return NULL;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html */
KMS_HANDLER(kms_sign)
{
    const struct kms_key *key = kms_call_state(call)->key;
    struct moat_slice alg = moat_get_str(in, KMS_SIGN_REQUEST_SIGNING_ALGORITHM);
    struct moat_slice type = moat_has(in, KMS_SIGN_REQUEST_MESSAGE_TYPE)
                                 ? moat_get_str(in, KMS_SIGN_REQUEST_MESSAGE_TYPE)
                                 : MOAT_LIT("RAW");
    struct moat_slice msg = moat_get_blob(in, KMS_SIGN_REQUEST_MESSAGE);
    bool digest;
    struct moat_error *err = usable_for(call, key, KMS_USAGE_SIGN_VERIFY, "Sign");
    if (!err)
        err = check_algorithm(call, key, key->spec->signing_algorithms, alg);
    if (!err)
        err = check_message(call, alg, type, msg, &digest);
    if (!err && moat_get_bool(in, KMS_SIGN_REQUEST_DRY_RUN, false))
        err = kms_dry_run(call);
    if (err)
        return err;
    struct moat_slice sig;
    if (!kms_crypto_sign(call->arena, key->current->pkey, alg, digest, msg, &sig))
        return moat_internal(call, "signing failed");
    moat_set_cstr(call->arena, out, KMS_SIGN_RESPONSE_KEY_ID, key->arn);
    moat_set_blob(call->arena, out, KMS_SIGN_RESPONSE_SIGNATURE, sig);
    moat_set_str(call->arena, out, KMS_SIGN_RESPONSE_SIGNING_ALGORITHM, alg);
    return NULL;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_Verify.html */
KMS_HANDLER(kms_verify)
{
    const struct kms_key *key = kms_call_state(call)->key;
    struct moat_slice alg = moat_get_str(in, KMS_VERIFY_REQUEST_SIGNING_ALGORITHM);
    struct moat_slice type = moat_has(in, KMS_VERIFY_REQUEST_MESSAGE_TYPE)
                                 ? moat_get_str(in, KMS_VERIFY_REQUEST_MESSAGE_TYPE)
                                 : MOAT_LIT("RAW");
    struct moat_slice msg = moat_get_blob(in, KMS_VERIFY_REQUEST_MESSAGE);
    bool digest;
    struct moat_error *err = usable_for(call, key, KMS_USAGE_SIGN_VERIFY, "Verify");
    if (!err)
        err = check_algorithm(call, key, key->spec->signing_algorithms, alg);
    if (!err)
        err = check_message(call, alg, type, msg, &digest);
    if (!err && moat_get_bool(in, KMS_VERIFY_REQUEST_DRY_RUN, false))
        err = kms_dry_run(call);
    if (err)
        return err;
    if (!kms_crypto_verify(key->current->pkey, alg, digest, msg,
                           moat_get_blob(in, KMS_VERIFY_REQUEST_SIGNATURE)))
        return moat_fail(call, &kms_invalid_signature,
                         "The signature is not valid for this message, key and signing "
                         "algorithm.");
    moat_set_cstr(call->arena, out, KMS_VERIFY_RESPONSE_KEY_ID, key->arn);
    moat_set_bool(call->arena, out, KMS_VERIFY_RESPONSE_SIGNATURE_VALID, true);
    moat_set_str(call->arena, out, KMS_VERIFY_RESPONSE_SIGNING_ALGORITHM, alg);
    return NULL;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_GetPublicKey.html */
KMS_HANDLER(kms_get_public_key)
{
    struct moat_arena *a = call->arena;
    const struct kms_key *key = kms_call_state(call)->key;
    struct moat_error *err = kms_require_usable(call, key);
    if (err)
        return err;
    if (key->spec->family == KMS_FAMILY_AES || key->spec->family == KMS_FAMILY_HMAC)
        return moat_fail(call, &kms_unsupported_operation,
                         "%s is not an asymmetric KMS key; it has no public key.", key->arn);
    struct moat_slice pub = kms_crypto_public_der(a, key->current->pkey);
    moat_set_cstr(a, out, KMS_GET_PUBLIC_KEY_RESPONSE_KEY_ID, key->arn);
    moat_set_blob(a, out, KMS_GET_PUBLIC_KEY_RESPONSE_PUBLIC_KEY, pub);
    moat_set_cstr(a, out, KMS_GET_PUBLIC_KEY_RESPONSE_CUSTOMER_MASTER_KEY_SPEC, key->spec->name);
    moat_set_cstr(a, out, KMS_GET_PUBLIC_KEY_RESPONSE_KEY_SPEC, key->spec->name);
    moat_set_cstr(a, out, KMS_GET_PUBLIC_KEY_RESPONSE_KEY_USAGE, kms_usage_name(key->usage));
    const char *const *algs = NULL;
    unsigned member = 0;
    if (key->usage == KMS_USAGE_ENCRYPT_DECRYPT) {
        algs = key->spec->encryption_algorithms;
        member = KMS_GET_PUBLIC_KEY_RESPONSE_ENCRYPTION_ALGORITHMS;
    } else if (key->usage == KMS_USAGE_SIGN_VERIFY) {
        algs = key->spec->signing_algorithms;
        member = KMS_GET_PUBLIC_KEY_RESPONSE_SIGNING_ALGORITHMS;
    } else if (key->usage == KMS_USAGE_KEY_AGREEMENT) {
        algs = key->spec->key_agreement_algorithms;
        member = KMS_GET_PUBLIC_KEY_RESPONSE_KEY_AGREEMENT_ALGORITHMS;
    }
    if (algs) {
        struct moat_value *l = moat_set_list(a, out, member);
        for (size_t i = 0; algs[i]; i++)
            moat_list_add_str(a, l, moat_slice_cstr(algs[i]));
    }
    return NULL;
}

/* The HMAC of a GenerateMac/VerifyMac request. */
static struct moat_error *compute_mac(struct moat_call *call, const struct kms_key *key,
                                      struct moat_slice alg, struct moat_slice msg, uint8_t *mac,
                                      size_t *mac_len, const char *op)
{
    struct moat_error *err = usable_for(call, key, KMS_USAGE_GENERATE_VERIFY_MAC, op);
    if (!err)
        err = check_algorithm(call, key, key->spec->mac_algorithms, alg);
    if (err)
        return err;
    if (!kms_crypto_hmac(key->current->secret, alg, msg, mac, mac_len))
        return moat_internal(call, "HMAC failed");
    return NULL;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateMac.html */
KMS_HANDLER(kms_generate_mac)
{
    const struct kms_key *key = kms_call_state(call)->key;
    struct moat_slice alg = moat_get_str(in, KMS_GENERATE_MAC_REQUEST_MAC_ALGORITHM);
    uint8_t *mac = moat_arena_alloc(call->arena, 64);
    size_t n = 0;
    struct moat_error *err =
        compute_mac(call, key, alg, moat_get_blob(in, KMS_GENERATE_MAC_REQUEST_MESSAGE), mac, &n,
                    "GenerateMac");
    if (!err && moat_get_bool(in, KMS_GENERATE_MAC_REQUEST_DRY_RUN, false))
        err = kms_dry_run(call);
    if (err)
        return err;
    moat_set_blob(call->arena, out, KMS_GENERATE_MAC_RESPONSE_MAC, moat_slice(mac, n));
    moat_set_str(call->arena, out, KMS_GENERATE_MAC_RESPONSE_MAC_ALGORITHM, alg);
    moat_set_cstr(call->arena, out, KMS_GENERATE_MAC_RESPONSE_KEY_ID, key->arn);
    return NULL;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_VerifyMac.html */
KMS_HANDLER(kms_verify_mac)
{
    const struct kms_key *key = kms_call_state(call)->key;
    struct moat_slice alg = moat_get_str(in, KMS_VERIFY_MAC_REQUEST_MAC_ALGORITHM);
    uint8_t mac[64];
    size_t n = 0;
    struct moat_error *err = compute_mac(
        call, key, alg, moat_get_blob(in, KMS_VERIFY_MAC_REQUEST_MESSAGE), mac, &n, "VerifyMac");
    if (!err && moat_get_bool(in, KMS_VERIFY_MAC_REQUEST_DRY_RUN, false))
        err = kms_dry_run(call);
    if (err)
        return err;
    struct moat_slice given = moat_get_blob(in, KMS_VERIFY_MAC_REQUEST_MAC);
    bool ok = given.len == n && CRYPTO_memcmp(given.ptr, mac, n) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    if (!ok)
        return moat_fail(call, &kms_invalid_mac,
                         "The MAC is not valid for this message, key and MAC algorithm.");
    moat_set_cstr(call->arena, out, KMS_VERIFY_MAC_RESPONSE_KEY_ID, key->arn);
    moat_set_bool(call->arena, out, KMS_VERIFY_MAC_RESPONSE_MAC_VALID, true);
    moat_set_str(call->arena, out, KMS_VERIFY_MAC_RESPONSE_MAC_ALGORITHM, alg);
    return NULL;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_DeriveSharedSecret.html */
KMS_HANDLER(kms_derive_shared_secret)
{
    const struct kms_key *key = kms_call_state(call)->key;
    struct moat_slice alg =
        moat_get_str(in, KMS_DERIVE_SHARED_SECRET_REQUEST_KEY_AGREEMENT_ALGORITHM);
    struct moat_error *err = usable_for(call, key, KMS_USAGE_KEY_AGREEMENT, "DeriveSharedSecret");
    if (!err)
        err = check_algorithm(call, key, key->spec->key_agreement_algorithms, alg);
    if (!err && moat_has(in, KMS_DERIVE_SHARED_SECRET_REQUEST_RECIPIENT))
        err = moat_fail(call, &kms_unsupported_operation,
                        "Recipient attestation documents (Nitro Enclaves) are not supported by "
                        "this KMS endpoint.");
    if (!err && moat_get_bool(in, KMS_DERIVE_SHARED_SECRET_REQUEST_DRY_RUN, false))
        err = kms_dry_run(call);
    if (err)
        return err;
    struct moat_slice secret;
    if (!kms_crypto_ecdh(call->arena, key->current->pkey,
                         moat_get_blob(in, KMS_DERIVE_SHARED_SECRET_REQUEST_PUBLIC_KEY), &secret))
        return moat_fail(call, &kms_validation_exception,
                         "PublicKey must be a DER-encoded SubjectPublicKeyInfo of a point on the "
                         "%s curve.",
                         key->spec->name);
    moat_set_cstr(call->arena, out, KMS_DERIVE_SHARED_SECRET_RESPONSE_KEY_ID, key->arn);
    moat_set_blob(call->arena, out, KMS_DERIVE_SHARED_SECRET_RESPONSE_SHARED_SECRET, secret);
    moat_set_str(call->arena, out, KMS_DERIVE_SHARED_SECRET_RESPONSE_KEY_AGREEMENT_ALGORITHM, alg);
    moat_set_cstr(call->arena, out, KMS_DERIVE_SHARED_SECRET_RESPONSE_KEY_ORIGIN, key->origin);
    return NULL;
}

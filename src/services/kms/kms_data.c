/* kms_data.c: encryption with KMS keys: Encrypt, Decrypt, ReEncrypt and the data key
 * operations (GenerateDataKey*, GenerateDataKeyPair*). The hot path: the key, its
 * material and its compiled policy come from the cache; nothing is parsed twice. */
#include "aws/shapes/shapes_kms.h"
#include "crypto/rootkey.h"
#include "server/server.h"
#include "services/kms/kms.h"

#include <string.h>

static struct moat_error *wrong_usage(struct moat_call *call, const struct kms_key *key,
                                      const char *op)
{
    return moat_fail(call, &kms_invalid_key_usage, "%s key usage is %s, which is not valid for %s.",
                     key->arn, kms_usage_name(key->usage), op);
}

/* The algorithm a request names (default SYMMETRIC_DEFAULT), checked against the key. */
static struct moat_error *encryption_algorithm(struct moat_call *call, const struct kms_key *key,
                                               const struct moat_value *in, unsigned member,
                                               struct moat_slice *alg)
{
    *alg = moat_has(in, member) ? moat_get_str(in, member) : MOAT_LIT("SYMMETRIC_DEFAULT");
    if (!kms_alg_in(key->spec->encryption_algorithms, *alg))
        return moat_fail(call, &kms_invalid_key_usage,
                         "Algorithm %.*s is incompatible with key spec %s.", MOAT_FMT(*alg),
                         key->spec->name);
    return NULL;
}

static struct moat_error *no_context_for_asymmetric(struct moat_call *call,
                                                    const struct moat_value *ctx)
{
    if (ctx && ctx->count)
        return moat_fail(call, &kms_validation_exception,
                         "EncryptionContext is not supported with asymmetric KMS keys.");
    return NULL;
}

static struct moat_error *no_recipient(struct moat_call *call, const struct moat_value *in,
                                       unsigned member)
{
    if (moat_has(in, member))
        return moat_fail(call, &kms_unsupported_operation,
                         "Recipient attestation documents (Nitro Enclaves) are not supported by "
                         "this KMS endpoint.");
    return NULL;
}

static struct moat_error *null_ciphertext(struct moat_call *call)
{
    return moat_fail(call, &kms_validation_exception,
                     "1 validation error detected: Value null at 'ciphertextBlob' failed to "
                     "satisfy constraint: Member must not be null");
}

/* Encrypts under a key with an algorithm already checked against it. */
static struct moat_error *encrypt_with(struct moat_call *call, const struct kms_key *key,
                                       struct moat_slice alg, const struct moat_value *ctx,
                                       struct moat_slice plain, struct moat_slice *blob)
{
    if (key->spec->family == KMS_FAMILY_AES)
        return kms_seal(call, key, ctx, plain, blob);
    struct moat_error *err = no_context_for_asymmetric(call, ctx);
    if (err)
        return err;
    size_t max = kms_crypto_oaep_max(key->current->pkey, alg);
    if (plain.len > max)
        return moat_fail(call, &kms_validation_exception,
                         "Plaintext is %zu bytes; %s with %.*s encrypts at most %zu bytes.",
                         plain.len, key->spec->name, MOAT_FMT(alg), max);
    if (!kms_crypto_rsa_encrypt(call->arena, key->current->pkey, alg, plain, blob))
        return moat_internal(call, "RSA encryption failed");
    return NULL;
}

/* Decrypts a ciphertext with a key (for symmetric keys the blob must name it). */
static struct moat_error *decrypt_with(struct moat_call *call, const struct kms_key *key,
                                       struct moat_slice alg, const struct moat_value *ctx,
                                       struct moat_slice ct, const struct kms_blob *parsed,
                                       struct moat_slice *plain,
                                       const struct kms_material **material)
{
    if (key->spec->family == KMS_FAMILY_AES) {
        struct kms_blob local;
        if (!parsed) {
            if (!kms_blob_parse(ct, &local))
                return moat_fail(call, &kms_invalid_ciphertext,
                                 "The ciphertext is not a valid KMS ciphertext.");
            parsed = &local;
        }
        if (!moat_slice_eq_cstr(parsed->key_id, key->key_id) ||
            !moat_slice_eq_cstr(parsed->account, key->account))
            return moat_fail(call, &kms_incorrect_key,
                             "The key ID in the request does not identify a KMS key that can "
                             "perform this operation.");
        return kms_open(call, key, parsed, ctx, plain, material);
    }
    struct moat_error *err = no_context_for_asymmetric(call, ctx);
    if (err)
        return err;
    if (!kms_crypto_rsa_decrypt(call->arena, key->current->pkey, alg, ct, plain))
        return moat_fail(call, &kms_invalid_ciphertext,
                         "The ciphertext does not decrypt with this key and algorithm.");
    if (material)
        *material = key->current;
    return NULL;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html */
KMS_HANDLER(kms_encrypt)
{
    const struct kms_key *key = kms_call_state(call)->key;
    struct moat_error *err = kms_require_usable(call, key);
    if (err)
        return err;
    if (key->usage != KMS_USAGE_ENCRYPT_DECRYPT)
        return wrong_usage(call, key, "Encrypt");
    struct moat_slice alg;
    err = encryption_algorithm(call, key, in, KMS_ENCRYPT_REQUEST_ENCRYPTION_ALGORITHM, &alg);
    if (err)
        return err;
    if (moat_get_bool(in, KMS_ENCRYPT_REQUEST_DRY_RUN, false))
        return kms_dry_run(call);
    struct moat_slice blob;
    err = encrypt_with(call, key, alg, moat_get(in, KMS_ENCRYPT_REQUEST_ENCRYPTION_CONTEXT),
                       moat_get_blob(in, KMS_ENCRYPT_REQUEST_PLAINTEXT), &blob);
    if (err)
        return err;
    moat_set_blob(call->arena, out, KMS_ENCRYPT_RESPONSE_CIPHERTEXT_BLOB, blob);
    moat_set_cstr(call->arena, out, KMS_ENCRYPT_RESPONSE_KEY_ID, key->arn);
    moat_set_str(call->arena, out, KMS_ENCRYPT_RESPONSE_ENCRYPTION_ALGORITHM, alg);
    return NULL;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html */
KMS_HANDLER(kms_decrypt)
{
    struct kms_call *st = kms_call_state(call);
    const struct kms_key *key = st->key;
    if (!key)
        return null_ciphertext(call);
    struct moat_error *err = no_recipient(call, in, KMS_DECRYPT_REQUEST_RECIPIENT);
    if (!err)
        err = kms_require_usable(call, key);
    if (err)
        return err;
    if (key->usage != KMS_USAGE_ENCRYPT_DECRYPT)
        return wrong_usage(call, key, "Decrypt");
    struct moat_slice alg;
    err = encryption_algorithm(call, key, in, KMS_DECRYPT_REQUEST_ENCRYPTION_ALGORITHM, &alg);
    if (err)
        return err;
    bool dry = moat_get_bool(in, KMS_DECRYPT_REQUEST_DRY_RUN, false);
    const struct moat_value *mods = moat_get(in, KMS_DECRYPT_REQUEST_DRY_RUN_MODIFIERS);
    bool ignore_ct = dry && mods && mods->count;
    if (!moat_has(in, KMS_DECRYPT_REQUEST_CIPHERTEXT_BLOB) && !ignore_ct)
        return null_ciphertext(call);
    if (ignore_ct)
        return kms_dry_run(call);
    struct moat_slice plain;
    const struct kms_material *m = NULL;
    err = decrypt_with(call, key, alg, moat_get(in, KMS_DECRYPT_REQUEST_ENCRYPTION_CONTEXT),
                       moat_get_blob(in, KMS_DECRYPT_REQUEST_CIPHERTEXT_BLOB),
                       st->blob_parsed ? &st->blob : NULL, &plain, &m);
    if (err)
        return err;
    if (dry)
        return kms_dry_run(call);
    moat_set_cstr(call->arena, out, KMS_DECRYPT_RESPONSE_KEY_ID, key->arn);
    moat_set_blob(call->arena, out, KMS_DECRYPT_RESPONSE_PLAINTEXT, plain);
    moat_set_str(call->arena, out, KMS_DECRYPT_RESPONSE_ENCRYPTION_ALGORITHM, alg);
    if (key->spec->family == KMS_FAMILY_AES && m)
        moat_set_cstr(call->arena, out, KMS_DECRYPT_RESPONSE_KEY_MATERIAL_ID, m->id);
    return NULL;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_ReEncrypt.html */
KMS_HANDLER(kms_re_encrypt)
{
    struct kms_call *st = kms_call_state(call);
    const struct kms_key *src = st->key, *dst = st->dest_key;
    if (!src || !dst)
        return null_ciphertext(call);
    struct moat_error *err = kms_require_usable(call, src);
    if (!err)
        err = kms_require_usable(call, dst);
    if (err)
        return err;
    if (src->usage != KMS_USAGE_ENCRYPT_DECRYPT)
        return wrong_usage(call, src, "ReEncrypt");
    if (dst->usage != KMS_USAGE_ENCRYPT_DECRYPT)
        return wrong_usage(call, dst, "ReEncrypt");
    struct moat_slice salg, dalg;
    err = encryption_algorithm(call, src, in, KMS_RE_ENCRYPT_REQUEST_SOURCE_ENCRYPTION_ALGORITHM,
                               &salg);
    if (!err)
        err = encryption_algorithm(call, dst, in,
                                   KMS_RE_ENCRYPT_REQUEST_DESTINATION_ENCRYPTION_ALGORITHM, &dalg);
    if (err)
        return err;
    bool dry = moat_get_bool(in, KMS_RE_ENCRYPT_REQUEST_DRY_RUN, false);
    const struct moat_value *mods = moat_get(in, KMS_RE_ENCRYPT_REQUEST_DRY_RUN_MODIFIERS);
    if (dry && mods && mods->count)
        return kms_dry_run(call);
    struct moat_slice plain, blob;
    const struct kms_material *sm = NULL;
    err = decrypt_with(call, src, salg,
                       moat_get(in, KMS_RE_ENCRYPT_REQUEST_SOURCE_ENCRYPTION_CONTEXT),
                       moat_get_blob(in, KMS_RE_ENCRYPT_REQUEST_CIPHERTEXT_BLOB),
                       st->blob_parsed ? &st->blob : NULL, &plain, &sm);
    if (err)
        return err;
    if (dry)
        return kms_dry_run(call);
    err = encrypt_with(call, dst, dalg,
                       moat_get(in, KMS_RE_ENCRYPT_REQUEST_DESTINATION_ENCRYPTION_CONTEXT), plain,
                       &blob);
    if (err)
        return err;
    struct moat_arena *a = call->arena;
    moat_set_blob(a, out, KMS_RE_ENCRYPT_RESPONSE_CIPHERTEXT_BLOB, blob);
    moat_set_cstr(a, out, KMS_RE_ENCRYPT_RESPONSE_SOURCE_KEY_ID, src->arn);
    moat_set_cstr(a, out, KMS_RE_ENCRYPT_RESPONSE_KEY_ID, dst->arn);
    moat_set_str(a, out, KMS_RE_ENCRYPT_RESPONSE_SOURCE_ENCRYPTION_ALGORITHM, salg);
    moat_set_str(a, out, KMS_RE_ENCRYPT_RESPONSE_DESTINATION_ENCRYPTION_ALGORITHM, dalg);
    if (src->spec->family == KMS_FAMILY_AES && sm)
        moat_set_cstr(a, out, KMS_RE_ENCRYPT_RESPONSE_SOURCE_KEY_MATERIAL_ID, sm->id);
    if (dst->spec->family == KMS_FAMILY_AES)
        moat_set_cstr(a, out, KMS_RE_ENCRYPT_RESPONSE_DESTINATION_KEY_MATERIAL_ID,
                      dst->current->id);
    return NULL;
}

/* ---- data keys -------------------------------------------------------------------------- */

/* The checks every data key operation makes on its symmetric key. */
static struct moat_error *data_key_usable(struct moat_call *call, const struct kms_key *key,
                                          const char *op)
{
    struct moat_error *err = kms_require_usable(call, key);
    if (err)
        return err;
    if (key->usage != KMS_USAGE_ENCRYPT_DECRYPT || key->spec->family != KMS_FAMILY_AES)
        return moat_fail(call, &kms_invalid_key_usage,
                         "%s is not a symmetric encryption KMS key; %s needs one.", key->arn, op);
    return NULL;
}

static struct moat_error *data_key_size(struct moat_call *call, const struct moat_value *in,
                                        unsigned spec_member, unsigned bytes_member, size_t *n)
{
    bool has_spec = moat_has(in, spec_member), has_bytes = moat_has(in, bytes_member);
    if (has_spec == has_bytes)
        return moat_fail(call, &kms_validation_exception,
                         "Please specify either number of bytes or key spec.");
    if (has_bytes)
        *n = (size_t)moat_get_int(in, bytes_member, 32);
    else
        *n = moat_slice_eq_cstr(moat_get_str(in, spec_member), "AES_128") ? 16 : 32;
    return NULL;
}

static struct moat_error *generate_data_key(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out, bool with_plaintext)
{
    const struct kms_key *key = kms_call_state(call)->key;
    struct moat_arena *a = call->arena;
    struct moat_error *err;
    size_t n;
    if (with_plaintext) {
        err = no_recipient(call, in, KMS_GENERATE_DATA_KEY_REQUEST_RECIPIENT);
        if (!err)
            err = data_key_usable(call, key, "GenerateDataKey");
        if (!err)
            err = data_key_size(call, in, KMS_GENERATE_DATA_KEY_REQUEST_KEY_SPEC,
                                KMS_GENERATE_DATA_KEY_REQUEST_NUMBER_OF_BYTES, &n);
        if (!err && moat_get_bool(in, KMS_GENERATE_DATA_KEY_REQUEST_DRY_RUN, false))
            err = kms_dry_run(call);
    } else {
        err = data_key_usable(call, key, "GenerateDataKeyWithoutPlaintext");
        if (!err)
            err =
                data_key_size(call, in, KMS_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT_REQUEST_KEY_SPEC,
                              KMS_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT_REQUEST_NUMBER_OF_BYTES, &n);
        if (!err &&
            moat_get_bool(in, KMS_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT_REQUEST_DRY_RUN, false))
            err = kms_dry_run(call);
    }
    if (err)
        return err;
    uint8_t *dk = moat_arena_alloc(a, n);
    moat_arena_wipe_on_free(a, dk, n);
    crypto_random(dk, n);
    struct moat_slice blob;
    const struct moat_value *ctx = moat_get(
        in, with_plaintext ? KMS_GENERATE_DATA_KEY_REQUEST_ENCRYPTION_CONTEXT
                           : KMS_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT_REQUEST_ENCRYPTION_CONTEXT);
    err = kms_seal(call, key, ctx, moat_slice(dk, n), &blob);
    if (err)
        return err;
    if (with_plaintext) {
        moat_set_blob(a, out, KMS_GENERATE_DATA_KEY_RESPONSE_CIPHERTEXT_BLOB, blob);
        moat_set_blob(a, out, KMS_GENERATE_DATA_KEY_RESPONSE_PLAINTEXT, moat_slice(dk, n));
        moat_set_cstr(a, out, KMS_GENERATE_DATA_KEY_RESPONSE_KEY_ID, key->arn);
        moat_set_cstr(a, out, KMS_GENERATE_DATA_KEY_RESPONSE_KEY_MATERIAL_ID, key->current->id);
    } else {
        moat_set_blob(a, out, KMS_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT_RESPONSE_CIPHERTEXT_BLOB,
                      blob);
        moat_set_cstr(a, out, KMS_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT_RESPONSE_KEY_ID, key->arn);
        moat_set_cstr(a, out, KMS_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT_RESPONSE_KEY_MATERIAL_ID,
                      key->current->id);
    }
    return NULL;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html */
KMS_HANDLER(kms_generate_data_key)
{
    return generate_data_key(call, in, out, true);
}

KMS_HANDLER(kms_generate_data_key_without_plaintext)
{
    return generate_data_key(call, in, out, false);
}

static struct moat_error *generate_pair(struct moat_call *call, const struct moat_value *in,
                                        struct moat_value *out, bool with_plaintext)
{
    const struct kms_key *key = kms_call_state(call)->key;
    struct moat_arena *a = call->arena;
    const char *op = with_plaintext ? "GenerateDataKeyPair" : "GenerateDataKeyPairWithoutPlaintext";
    struct moat_error *err =
        with_plaintext ? no_recipient(call, in, KMS_GENERATE_DATA_KEY_PAIR_REQUEST_RECIPIENT)
                       : NULL;
    if (!err)
        err = data_key_usable(call, key, op);
    if (err)
        return err;
    struct moat_slice spec_name = moat_get_str(
        in, with_plaintext ? KMS_GENERATE_DATA_KEY_PAIR_REQUEST_KEY_PAIR_SPEC
                           : KMS_GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT_REQUEST_KEY_PAIR_SPEC);
    const struct kms_spec *spec = kms_spec_find(spec_name);
    if (!spec || !spec->supported || spec->family == KMS_FAMILY_AES ||
        spec->family == KMS_FAMILY_HMAC)
        return moat_fail(call, &kms_unsupported_operation,
                         "KeyPairSpec %.*s is not supported by this KMS endpoint.",
                         MOAT_FMT(spec_name));
    if (moat_get_bool(in,
                      with_plaintext ? KMS_GENERATE_DATA_KEY_PAIR_REQUEST_DRY_RUN
                                     : KMS_GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT_REQUEST_DRY_RUN,
                      false))
        return kms_dry_run(call);
    struct moat_slice priv;
    if (!kms_crypto_generate(a, spec, &priv))
        return moat_internal(call, "data key pair generation failed");
    EVP_PKEY *pkey = kms_crypto_load_private(priv);
    if (!pkey)
        return moat_internal(call, "generated key pair does not load");
    struct moat_slice pub = kms_crypto_public_der(a, pkey);
    EVP_PKEY_free(pkey);
    struct moat_slice blob;
    err = kms_seal(
        call, key,
        moat_get(in, with_plaintext
                         ? KMS_GENERATE_DATA_KEY_PAIR_REQUEST_ENCRYPTION_CONTEXT
                         : KMS_GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT_REQUEST_ENCRYPTION_CONTEXT),
        priv, &blob);
    if (err)
        return err;
    if (with_plaintext) {
        moat_set_blob(a, out, KMS_GENERATE_DATA_KEY_PAIR_RESPONSE_PRIVATE_KEY_CIPHERTEXT_BLOB,
                      blob);
        moat_set_blob(a, out, KMS_GENERATE_DATA_KEY_PAIR_RESPONSE_PRIVATE_KEY_PLAINTEXT, priv);
        moat_set_blob(a, out, KMS_GENERATE_DATA_KEY_PAIR_RESPONSE_PUBLIC_KEY, pub);
        moat_set_cstr(a, out, KMS_GENERATE_DATA_KEY_PAIR_RESPONSE_KEY_ID, key->arn);
        moat_set_cstr(a, out, KMS_GENERATE_DATA_KEY_PAIR_RESPONSE_KEY_PAIR_SPEC, spec->name);
        moat_set_cstr(a, out, KMS_GENERATE_DATA_KEY_PAIR_RESPONSE_KEY_MATERIAL_ID,
                      key->current->id);
    } else {
        moat_set_blob(
            a, out,
            KMS_GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT_RESPONSE_PRIVATE_KEY_CIPHERTEXT_BLOB,
            blob);
        moat_set_blob(a, out, KMS_GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT_RESPONSE_PUBLIC_KEY,
                      pub);
        moat_set_cstr(a, out, KMS_GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT_RESPONSE_KEY_ID,
                      key->arn);
        moat_set_cstr(a, out, KMS_GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT_RESPONSE_KEY_PAIR_SPEC,
                      spec->name);
        moat_set_cstr(a, out, KMS_GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT_RESPONSE_KEY_MATERIAL_ID,
                      key->current->id);
    }
    return NULL;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyPair.html */
KMS_HANDLER(kms_generate_data_key_pair)
{
    return generate_pair(call, in, out, true);
}

KMS_HANDLER(kms_generate_data_key_pair_without_plaintext)
{
    return generate_pair(call, in, out, false);
}

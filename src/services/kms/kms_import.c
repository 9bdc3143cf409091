/* kms_import.c: imported key material (Origin EXTERNAL): GetParametersForImport hands
 * out an RSA wrapping key and an import token; ImportKeyMaterial unwraps and checks the
 * material; DeleteImportedKeyMaterial (and expiry) take it away again.
 * https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys.html */
#include "aws/shapes/shapes_kms.h"
#include "core/buf.h"
#include "crypto/digest.h"
#include "crypto/rootkey.h"
#include "server/server.h"
#include "services/kms/kms.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define TOKEN_TTL_MS (24LL * 3600 * 1000)
#define TOKEN_VERSION 1

static struct moat_slice token_aad(struct moat_arena *a, const struct kms_key *key)
{
    return moat_slice_cstr(
        moat_arena_printf(a, "kms/import-token/%s/%s/%s", key->account, key->region, key->key_id));
}

static struct moat_error *require_external(struct moat_call *call, const struct kms_key *key)
{
    if (strcmp(key->origin, "EXTERNAL") != 0)
        return moat_fail(call, &kms_unsupported_operation,
                         "%s has Origin %s; key material can be imported only into KMS keys "
                         "whose Origin is EXTERNAL.",
                         key->arn, key->origin);
    return kms_require_not_pending(call, key, false);
}

/* The import token is self-contained: the wrapping private key, the algorithm and the
 * expiry, sealed under the root key and bound to the KMS key, so that the call that
 * hands it out writes nothing. */
KMS_HANDLER(kms_get_parameters_for_import)
{
    struct moat_arena *a = call->arena;
    const struct kms_key *key = kms_call_state(call)->key;
    struct moat_error *err = require_external(call, key);
    if (err)
        return err;
    struct moat_slice alg =
        moat_get_str(in, KMS_GET_PARAMETERS_FOR_IMPORT_REQUEST_WRAPPING_ALGORITHM);
    struct moat_slice spec_name =
        moat_get_str(in, KMS_GET_PARAMETERS_FOR_IMPORT_REQUEST_WRAPPING_KEY_SPEC);
    if (moat_slice_eq_cstr(alg, "SM2PKE") || moat_slice_eq_cstr(spec_name, "SM2"))
        return moat_fail(call, &kms_unsupported_operation,
                         "SM2 wrapping is offered only in China Regions.");
    if (moat_slice_eq_cstr(alg, "RSAES_PKCS1_V1_5"))
        return moat_fail(call, &kms_unsupported_operation,
                         "The RSAES_PKCS1_V1_5 wrapping algorithm is deprecated and no longer "
                         "supported; use RSAES_OAEP_SHA_256 or RSA_AES_KEY_WRAP_SHA_256.");
    const struct kms_spec *spec = kms_spec_find(spec_name);
    struct moat_slice priv;
    if (!spec || !kms_crypto_generate(a, spec, &priv))
        return moat_internal(call, "wrapping key generation failed");
    EVP_PKEY *pkey = kms_crypto_load_private(priv);
    if (!pkey)
        return moat_internal(call, "wrapping key does not load");
    struct moat_slice pub = kms_crypto_public_der(a, pkey);
    EVP_PKEY_free(pkey);
    int64_t valid_to = call->now_ms + TOKEN_TTL_MS;
    /* version(1) | expiry ms (8, big-endian) | algorithm length(1) | algorithm | key */
    struct moat_buf b;
    moat_buf_init(&b, a, priv.len + 64);
    moat_arena_wipe_on_free(a, b.ptr, b.cap);
    moat_buf_append_u8(&b, TOKEN_VERSION);
    for (int i = 7; i >= 0; i--)
        moat_buf_append_u8(&b, (uint8_t)((uint64_t)valid_to >> (8 * i)));
    moat_buf_append_u8(&b, (uint8_t)alg.len);
    moat_buf_append(&b, alg);
    moat_buf_append(&b, priv);
    struct moat_slice token =
        rootkey_seal(call->server->rootkey, a, token_aad(a, key), moat_buf_slice(&b));
    moat_set_cstr(a, out, KMS_GET_PARAMETERS_FOR_IMPORT_RESPONSE_KEY_ID, key->arn);
    moat_set_blob(a, out, KMS_GET_PARAMETERS_FOR_IMPORT_RESPONSE_IMPORT_TOKEN, token);
    moat_set_blob(a, out, KMS_GET_PARAMETERS_FOR_IMPORT_RESPONSE_PUBLIC_KEY, pub);
    moat_set_ts(a, out, KMS_GET_PARAMETERS_FOR_IMPORT_RESPONSE_PARAMETERS_VALID_TO, valid_to);
    return NULL;
}

/* A value derived from the material (HMAC keyed with it) that tells whether a later
 * import is the same material, without keeping the material once it is deleted. */
static void material_check(struct moat_slice material, char out[65])
{
    uint8_t mac[32];
    struct moat_slice msg = MOAT_LIT("moat kms imported key material check");
    crypto_hmac_sha256(material, &msg, 1, mac);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    OPENSSL_cleanse(mac, sizeof(mac));
}

/* Is the material right for the key spec? */
static bool material_fits(const struct kms_spec *spec, struct moat_slice m)
{
    switch (spec->family) {
    case KMS_FAMILY_AES:
        return m.len == 32;
    case KMS_FAMILY_HMAC:
        return m.len >= (size_t)spec->bits / 8 && m.len <= 128;
    default:
        break;
    }
    EVP_PKEY *pkey = kms_crypto_load_private(m);
    if (!pkey)
        return false;
    bool ok = false;
    char group[64];
    size_t n;
    if (spec->family == KMS_FAMILY_RSA)
        ok = EVP_PKEY_is_a(pkey, "RSA") && EVP_PKEY_get_bits(pkey) == spec->bits;
    else if (spec->family == KMS_FAMILY_ED)
        ok = EVP_PKEY_is_a(pkey, "ED25519");
    else
        ok = EVP_PKEY_is_a(pkey, "EC") && EVP_PKEY_get_group_name(pkey, group, sizeof(group), &n) &&
             strcmp(group, spec->curve) == 0;
    EVP_PKEY_free(pkey);
    return ok;
}

/* The material entry (id and check value, no secret) another copy of a multi-Region key
 * has, or NULL. */
static struct moat_error *sibling_material(struct moat_call *call, const struct kms_key *key,
                                           struct moat_value **out)
{
    *out = NULL;
    for (size_t i = 0; i <= key->replica_count; i++) {
        const char *region = i < key->replica_count ? key->replicas[i] : key->primary_region;
        if (!region || strcmp(region, key->region) == 0)
            continue;
        struct kms_key other;
        struct moat_error *err = kms_key_read(call, key->account, region, key->key_id, &other);
        if (err && err->kind == &kms_not_found)
            continue;
        if (err)
            return err;
        struct moat_value *mats = moat_map_get(other.doc, "Materials");
        if (!mats || mats->type != MOAT_V_LIST || !mats->count)
            continue;
        struct moat_value *src = mats->u.items[mats->count - 1];
        struct moat_value *m = moat_value_map(call->arena);
        moat_map_set(call->arena, m, MOAT_LIT("Id"), moat_map_get(src, "Id"));
        moat_map_set(call->arena, m, MOAT_LIT("Created"), moat_map_get(src, "Created"));
        moat_map_set(call->arena, m, MOAT_LIT("Check"), moat_map_get(src, "Check"));
        moat_map_set_bool(call->arena, m, "Imported", true);
        moat_map_set_bool(call->arena, m, "Present", false);
        *out = m;
        return NULL;
    }
    return NULL;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_ImportKeyMaterial.html */
KMS_HANDLER(kms_import_key_material)
{
    struct moat_arena *a = call->arena;
    struct kms_call *st = kms_call_state(call);
    struct kms_key key;
    struct moat_error *err =
        kms_key_read(call, st->ref.account, st->ref.region, st->ref.key_id, &key);
    if (!err)
        err = require_external(call, &key);
    if (err)
        return err;
    struct moat_slice model =
        moat_has(in, KMS_IMPORT_KEY_MATERIAL_REQUEST_EXPIRATION_MODEL)
            ? moat_get_str(in, KMS_IMPORT_KEY_MATERIAL_REQUEST_EXPIRATION_MODEL)
            : MOAT_LIT("KEY_MATERIAL_EXPIRES");
    bool expires = moat_slice_eq_cstr(model, "KEY_MATERIAL_EXPIRES");
    bool has_valid_to = moat_has(in, KMS_IMPORT_KEY_MATERIAL_REQUEST_VALID_TO);
    int64_t valid_to = moat_get_ts(in, KMS_IMPORT_KEY_MATERIAL_REQUEST_VALID_TO, 0);
    if (expires && !has_valid_to)
        return moat_fail(call, &kms_validation_exception,
                         "A ValidTo date is required when ExpirationModel is "
                         "KEY_MATERIAL_EXPIRES.");
    if (!expires && has_valid_to)
        return moat_fail(call, &kms_validation_exception,
                         "ValidTo is allowed only when ExpirationModel is KEY_MATERIAL_EXPIRES.");
    if (expires && (valid_to <= call->now_ms || valid_to > call->now_ms + 365LL * 24 * 3600 * 1000))
        return moat_fail(call, &kms_validation_exception,
                         "ValidTo must be in the future and at most 365 days from now.");

    /* the token */
    struct moat_slice tok;
    if (!rootkey_unseal(call->server->rootkey, a, token_aad(a, &key),
                        moat_get_blob(in, KMS_IMPORT_KEY_MATERIAL_REQUEST_IMPORT_TOKEN), &tok))
        return moat_fail(call, &kms_invalid_import_token, "The import token is not valid for %s.",
                         key.arn);
    struct moat_slice cur = tok, algs, priv;
    uint8_t version, alen;
    uint64_t expiry = 0;
    bool ok = moat_slice_read_u8(&cur, &version) && version == TOKEN_VERSION;
    for (int i = 0; ok && i < 8; i++) {
        uint8_t byte;
        ok = moat_slice_read_u8(&cur, &byte);
        expiry = (expiry << 8) | byte;
    }
    ok = ok && moat_slice_read_u8(&cur, &alen) && moat_slice_read_bytes(&cur, alen, &algs);
    priv = cur;
    if (!ok)
        return moat_fail(call, &kms_invalid_import_token, "The import token is not valid for %s.",
                         key.arn);
    if ((int64_t)expiry <= call->now_ms)
        return moat_fail(call, &kms_expired_import_token,
                         "The import token expired; call GetParametersForImport again.");
    EVP_PKEY *wrapping = kms_crypto_load_private(priv);
    if (!wrapping)
        return moat_internal(call, "wrapping key in the import token does not load");
    struct moat_slice material;
    ok = kms_crypto_unwrap_import(
        a, wrapping, algs,
        moat_get_blob(in, KMS_IMPORT_KEY_MATERIAL_REQUEST_ENCRYPTED_KEY_MATERIAL), &material);
    EVP_PKEY_free(wrapping);
    if (!ok)
        return moat_fail(call, &kms_invalid_ciphertext,
                         "The encrypted key material does not unwrap with the wrapping key of "
                         "this import token and algorithm %.*s.",
                         MOAT_FMT(algs));
    if (!material_fits(key.spec, material))
        return moat_fail(call, &kms_incorrect_key_material,
                         "The key material is not valid for a KMS key with KeySpec %s.",
                         key.spec->name);
    char check[65];
    material_check(material, check);

    /* Re-import: it must be the material imported before; it keeps its material id, so
     * that old ciphertexts decrypt again. */
    struct moat_value *mats = moat_map_get(key.doc, "Materials");
    struct moat_value *prior = mats && mats->count ? mats->u.items[mats->count - 1] : NULL;
    if (!prior && key.multi_region) {
        /* The copies of a multi-Region key share their material: the first import into one
         * copy must be what another copy holds, under the same material id. */
        err = sibling_material(call, &key, &prior);
        if (err)
            return err;
        if (prior) {
            if (!mats || mats->type != MOAT_V_LIST) {
                mats = moat_value_list(a);
                moat_map_set(a, key.doc, MOAT_LIT("Materials"), mats);
            }
            moat_list_push(a, mats, prior);
        }
    }
    struct moat_slice import_type = moat_get_str(in, KMS_IMPORT_KEY_MATERIAL_REQUEST_IMPORT_TYPE);
    if (prior && moat_slice_eq_cstr(import_type, "NEW_KEY_MATERIAL"))
        return moat_fail(call, &kms_unsupported_operation,
                         "Importing new key material for on-demand rotation is not supported by "
                         "this KMS endpoint; re-import the existing key material.");
    if (prior && !moat_slice_eq_cstr(moat_map_str(prior, "Check"), check))
        return moat_fail(call, &kms_incorrect_key_material,
                         "The key material is not the key material that was previously imported "
                         "into %s.",
                         key.arn);
    if (moat_has(in, KMS_IMPORT_KEY_MATERIAL_REQUEST_KEY_MATERIAL_ID) && prior &&
        !moat_slice_eq(moat_map_str(prior, "Id"),
                       moat_get_str(in, KMS_IMPORT_KEY_MATERIAL_REQUEST_KEY_MATERIAL_ID)))
        return moat_fail(
            call, &kms_not_found, "Key material %.*s does not exist for %s.",
            MOAT_FMT(moat_get_str(in, KMS_IMPORT_KEY_MATERIAL_REQUEST_KEY_MATERIAL_ID)), key.arn);
    const char *id;
    if (prior) {
        /* sealed again under the same id */
        id = moat_arena_cstr(a, moat_map_str(prior, "Id"));
        moat_map_set_str(a, prior, "Sealed", kms_material_seal(call, &key, id, material));
        moat_map_set_bool(a, prior, "Present", true);
        if (expires)
            moat_map_set_int(a, prior, "ValidTo", valid_to);
        else
            moat_map_remove(prior, MOAT_LIT("ValidTo"));
        moat_map_set_cstr(a, key.doc, "Current", id);
    } else {
        id = kms_material_add(call, &key, material, NULL, true, expires ? valid_to : 0, true);
        struct moat_value *m = moat_map_get(key.doc, "Materials");
        moat_map_set_cstr(a, m->u.items[m->count - 1], "Check", check);
    }
    struct moat_value *all = moat_map_get(key.doc, "Materials");
    struct moat_value *entry = all && all->count ? all->u.items[all->count - 1] : NULL;
    if (entry && moat_has(in, KMS_IMPORT_KEY_MATERIAL_REQUEST_KEY_MATERIAL_DESCRIPTION))
        kms_doc_set_str(a, entry, "Description",
                        moat_get_str(in, KMS_IMPORT_KEY_MATERIAL_REQUEST_KEY_MATERIAL_DESCRIPTION));
    if (key.state == KMS_STATE_PENDING_IMPORT)
        moat_map_set_cstr(a, key.doc, "State", "Enabled");
    err = kms_key_save(call, &key);
    if (err)
        return err;
    moat_set_cstr(a, out, KMS_IMPORT_KEY_MATERIAL_RESPONSE_KEY_ID, key.arn);
    moat_set_cstr(a, out, KMS_IMPORT_KEY_MATERIAL_RESPONSE_KEY_MATERIAL_ID, id);
    return NULL;
}

/* Takes the imported material away (DeleteImportedKeyMaterial, or its ValidTo passed):
 * the key becomes PendingImport until the same material is imported again. */
struct moat_error *kms_import_remove(struct moat_call *call, struct kms_key *key)
{
    struct moat_value *mats = moat_map_get(key->doc, "Materials");
    for (uint32_t i = 0; mats && i < mats->count; i++) {
        struct moat_value *m = mats->u.items[i];
        moat_map_remove(m, MOAT_LIT("Sealed"));
        moat_map_set_bool(call->arena, m, "Present", false);
        moat_map_remove(m, MOAT_LIT("ValidTo"));
    }
    if (key->state != KMS_STATE_PENDING_DELETION)
        moat_map_set_cstr(call->arena, key->doc, "State", "PendingImport");
    return kms_key_save(call, key);
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_DeleteImportedKeyMaterial.html */
KMS_HANDLER(kms_delete_imported_key_material)
{
    struct kms_call *st = kms_call_state(call);
    struct kms_key key;
    struct moat_error *err =
        kms_key_read(call, st->ref.account, st->ref.region, st->ref.key_id, &key);
    if (!err)
        err = require_external(call, &key);
    if (err)
        return err;
    const char *id = key.current ? moat_arena_strdup(call->arena, key.current->id) : NULL;
    if (moat_has(in, KMS_DELETE_IMPORTED_KEY_MATERIAL_REQUEST_KEY_MATERIAL_ID) &&
        (!id ||
         !moat_slice_eq_cstr(
             moat_get_str(in, KMS_DELETE_IMPORTED_KEY_MATERIAL_REQUEST_KEY_MATERIAL_ID), id)))
        return moat_fail(
            call, &kms_not_found, "Key material %.*s does not exist for %s.",
            MOAT_FMT(moat_get_str(in, KMS_DELETE_IMPORTED_KEY_MATERIAL_REQUEST_KEY_MATERIAL_ID)),
            key.arn);
    err = kms_import_remove(call, &key);
    if (err)
        return err;
    moat_set_cstr(call->arena, out, KMS_DELETE_IMPORTED_KEY_MATERIAL_RESPONSE_KEY_ID, key.arn);
    if (id)
        moat_set_cstr(call->arena, out, KMS_DELETE_IMPORTED_KEY_MATERIAL_RESPONSE_KEY_MATERIAL_ID,
                      id);
    return NULL;
}

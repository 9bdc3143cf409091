/* ssm_crypto.c: SecureString values through KMS, as Parameter Store does it. Standard
 * parameters are encrypted directly with KMS Encrypt; advanced ones (up to 8 KB, past
 * what Encrypt takes) with a KMS data key (GenerateDataKey) and AES-256-GCM here. Both
 * use the encryption context {"PARAMETER_ARN": <parameter ARN>}, and every KMS call is an
 * internal call on the caller's behalf (kms:ViaService ssm.<region>.amazonaws.com, its
 * own CloudTrail record).
 * https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html */
#include "services/ssm/ssm.h"

#include "aws/shapes/shapes_kms.h"
#include "core/buf.h"
#include "core/encoding.h"
#include "crypto/rootkey.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define ENVELOPE_VERSION 1
#define IV_LEN 12
#define TAG_LEN 16
#define DATA_KEY_LEN 32

static struct moat_value *context(struct moat_call *call, struct moat_value *in, unsigned member,
                                  const char *arn)
{
    struct moat_value *ctx = moat_set_map(call->arena, in, member);
    moat_map_set_cstr(call->arena, ctx, "PARAMETER_ARN", arn);
    return ctx;
}

/* A KMS refusal as Parameter Store reports it: the KMS message with its origin. */
static struct moat_error *kms_failed(struct moat_call *call, const struct moat_call *child)
{
    const struct moat_error *e = child->error;
    const char *code = e->kind->code;
    const struct moat_error_kind *kind;
    if (!strcmp(code, "AccessDeniedException"))
        kind = &ssm_access_denied;
    else if (e->kind->http_status >= 500 && strcmp(code, "KeyUnavailableException"))
        kind = &ssm_internal_error;
    else if (!strcmp(code, "ValidationException"))
        kind = &ssm_validation;
    else
        kind = &ssm_invalid_key_id; /* NotFound, Disabled, KMSInvalidState, InvalidKeyUsage... */
    return moat_fail(call, kind,
                     "%.*s (Service: AWSKMS; Status Code: %u; Error Code: %s; Request ID: %s; "
                     "Proxy: null)",
                     MOAT_FMT(e->message), e->kind->http_status, code, child->request_id);
}

static bool gcm(bool seal, struct moat_slice key, const uint8_t *iv, struct moat_slice aad,
                struct moat_slice in, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    bool ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, seal ? 1 : 0) == 1 &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) == 1 &&
              EVP_CipherInit_ex(c, NULL, NULL, key.ptr, iv, seal ? 1 : 0) == 1 &&
              EVP_CipherUpdate(c, NULL, &n, aad.ptr, (int)aad.len) == 1 &&
              (in.len == 0 || EVP_CipherUpdate(c, out, &n, in.ptr, (int)in.len) == 1);
    if (ok && !seal)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1;
    if (ok)
        ok = EVP_CipherFinal_ex(c, out + (in.len ? n : 0), &n) == 1;
    if (ok && seal)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok;
}

static void set_value(struct moat_call *call, struct ssm_param *p, struct moat_slice blob,
                      enum ssm_seal seal)
{
    struct moat_buf b;
    moat_buf_init(&b, call->arena, blob.len * 4 / 3 + 8);
    moat_base64_encode(&b, blob);
    p->value = moat_buf_slice(&b);
    p->seal = seal;
}

struct moat_error *ssm_seal_value(struct moat_call *call, const char *arn, struct ssm_param *p,
                                  struct moat_slice value)
{
    struct moat_arena *a = call->arena;
    if (p->tier == SSM_TIER_STANDARD) {
        struct moat_value *in = moat_call_internal_input(call, "kms", "Encrypt");
        moat_set_str(a, in, KMS_ENCRYPT_REQUEST_KEY_ID, p->key_id);
        moat_set_blob(a, in, KMS_ENCRYPT_REQUEST_PLAINTEXT, value);
        context(call, in, KMS_ENCRYPT_REQUEST_ENCRYPTION_CONTEXT, arn);
        struct moat_call *child = moat_call_internal(call, "kms", "Encrypt", in);
        if (child->error)
            return kms_failed(call, child);
        struct moat_slice blob = moat_get_blob(child->output, KMS_ENCRYPT_RESPONSE_CIPHERTEXT_BLOB);
        if (!blob.len)
            return moat_internal(call, "ssm: KMS Encrypt returned no ciphertext");
        set_value(call, p, blob, SSM_SEAL_KMS);
        return NULL;
    }
    struct moat_value *in = moat_call_internal_input(call, "kms", "GenerateDataKey");
    moat_set_str(a, in, KMS_GENERATE_DATA_KEY_REQUEST_KEY_ID, p->key_id);
    moat_set_cstr(a, in, KMS_GENERATE_DATA_KEY_REQUEST_KEY_SPEC, "AES_256");
    context(call, in, KMS_GENERATE_DATA_KEY_REQUEST_ENCRYPTION_CONTEXT, arn);
    struct moat_call *child = moat_call_internal(call, "kms", "GenerateDataKey", in);
    if (child->error)
        return kms_failed(call, child);
    struct moat_slice key = moat_get_blob(child->output, KMS_GENERATE_DATA_KEY_RESPONSE_PLAINTEXT);
    struct moat_slice edk =
        moat_get_blob(child->output, KMS_GENERATE_DATA_KEY_RESPONSE_CIPHERTEXT_BLOB);
    if (key.len != DATA_KEY_LEN || !edk.len || edk.len > 0xffff)
        return moat_internal(call, "ssm: KMS GenerateDataKey returned no usable key");
    moat_arena_wipe_on_free(a, key.ptr, key.len);
    /* version(1) | edk length(2, big-endian) | edk | iv(12) | ciphertext | tag(16) */
    size_t len = 3 + edk.len + IV_LEN + value.len + TAG_LEN;
    uint8_t *blob = moat_arena_alloc(a, len), *iv = blob + 3 + edk.len;
    blob[0] = ENVELOPE_VERSION;
    blob[1] = (uint8_t)(edk.len >> 8);
    blob[2] = (uint8_t)edk.len;
    memcpy(blob + 3, edk.ptr, edk.len);
    crypto_random(iv, IV_LEN);
    if (!gcm(true, key, iv, moat_slice_cstr(arn), value, iv + IV_LEN, iv + IV_LEN + value.len))
        return moat_internal(call, "ssm: AES-GCM seal failed");
    set_value(call, p, moat_slice(blob, len), SSM_SEAL_KMS_ENVELOPE);
    return NULL;
}

static struct moat_error *kms_decrypt(struct moat_call *call, const char *arn,
                                      struct moat_slice blob, struct moat_slice *plain)
{
    struct moat_value *in = moat_call_internal_input(call, "kms", "Decrypt");
    moat_set_blob(call->arena, in, KMS_DECRYPT_REQUEST_CIPHERTEXT_BLOB, blob);
    context(call, in, KMS_DECRYPT_REQUEST_ENCRYPTION_CONTEXT, arn);
    struct moat_call *child = moat_call_internal(call, "kms", "Decrypt", in);
    if (child->error)
        return kms_failed(call, child);
    *plain = moat_get_blob(child->output, KMS_DECRYPT_RESPONSE_PLAINTEXT);
    moat_arena_wipe_on_free(call->arena, plain->ptr, plain->len);
    return NULL;
}

struct moat_error *ssm_unseal_value(struct moat_call *call, const char *arn,
                                    const struct ssm_param *p, struct moat_slice *plain)
{
    struct moat_arena *a = call->arena;
    struct moat_slice blob;
    if (!moat_base64_decode(a, p->value, &blob))
        return moat_internal(call, "ssm: stored ciphertext is not base64");
    if (p->seal == SSM_SEAL_KMS)
        return kms_decrypt(call, arn, blob, plain);
    if (p->seal != SSM_SEAL_KMS_ENVELOPE || blob.len < 3 + IV_LEN + TAG_LEN ||
        blob.ptr[0] != ENVELOPE_VERSION)
        return moat_internal(call, "ssm: stored ciphertext has an unknown form");
    size_t edk_len = (size_t)blob.ptr[1] << 8 | blob.ptr[2];
    if (blob.len < 3 + edk_len + IV_LEN + TAG_LEN)
        return moat_internal(call, "ssm: stored envelope is truncated");
    struct moat_slice key;
    struct moat_error *err = kms_decrypt(call, arn, moat_slice(blob.ptr + 3, edk_len), &key);
    if (err)
        return err;
    if (key.len != DATA_KEY_LEN)
        return moat_internal(call, "ssm: data key has the wrong length");
    const uint8_t *iv = blob.ptr + 3 + edk_len;
    size_t ct_len = blob.len - 3 - edk_len - IV_LEN - TAG_LEN;
    uint8_t *out = moat_arena_alloc(a, ct_len + 1);
    moat_arena_wipe_on_free(a, out, ct_len + 1);
    uint8_t tag[TAG_LEN];
    memcpy(tag, iv + IV_LEN + ct_len, TAG_LEN);
    if (!gcm(false, key, iv, moat_slice_cstr(arn), moat_slice(iv + IV_LEN, ct_len), out, tag))
        return moat_internal(call, "ssm: SecureString envelope does not open");
    *plain = moat_slice(out, ct_len);
    return NULL;
}

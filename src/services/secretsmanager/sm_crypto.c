/* sm_crypto.c: secret values at rest, with KMS envelope encryption as Secrets Manager
 * does it: a data key from kms:GenerateDataKey encrypts each version's value (AES-256-GCM)
 * and is stored wrapped; reads unwrap it with kms:Decrypt. The encryption context is
 * {"SecretARN": arn, "SecretVersionId": version}, so key policies can test it.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html */
#include "aws/shapes/shapes_kms.h"
#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "core/thread.h"
#include "crypto/rootkey.h"
#include "services/secretsmanager/sm.h"
#include "store/store.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define IV_LEN 12
#define TAG_LEN 16
#define DATA_KEY_LEN 32

/* ---- AES-256-GCM under the data key ---------------------------------------------------- */

/* One cipher context per thread, with the cipher fetched once: each value then costs a
 * key schedule, not a context and a provider lookup. */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *aes_gcm;
static __thread EVP_CIPHER_CTX *thread_ctx;

static void fetch_cipher(void)
{
    aes_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (!aes_gcm)
        abort();
}

static void free_ctx(void *unused)
{
    EVP_CIPHER_CTX_free(thread_ctx);
    thread_ctx = NULL;
}

static EVP_CIPHER_CTX *cipher_ctx(void)
{
    pthread_once(&fetch_once, fetch_cipher);
    if (!thread_ctx) {
        thread_ctx = EVP_CIPHER_CTX_new();
        if (!thread_ctx)
            moat_oom();
        moat_thread_on_exit(free_ctx, NULL);
    }
    return thread_ctx;
}

/* The additional data binds a ciphertext to its secret and version. */
static struct moat_slice gcm_aad(struct moat_arena *a, const struct sm_secret *s,
                                 struct moat_slice vid)
{
    return moat_slice_cstr(moat_arena_printf(a, "%s\n%.*s", s->arn, MOAT_FMT(vid)));
}

static bool gcm_seal(struct moat_arena *a, struct moat_slice key, struct moat_slice aad,
                     struct moat_slice plain, struct moat_slice *out)
{
    uint8_t *buf = moat_arena_alloc(a, IV_LEN + plain.len + TAG_LEN);
    crypto_random(buf, IV_LEN);
    EVP_CIPHER_CTX *c = cipher_ctx();
    int len = 0, fin = 0;
    bool ok = EVP_EncryptInit_ex2(c, aes_gcm, key.ptr, buf, NULL) &&
              EVP_EncryptUpdate(c, NULL, &len, aad.ptr, (int)aad.len) &&
              EVP_EncryptUpdate(c, buf + IV_LEN, &len, plain.ptr, (int)plain.len) &&
              EVP_EncryptFinal_ex(c, buf + IV_LEN + len, &fin) &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, buf + IV_LEN + plain.len);
    EVP_CIPHER_CTX_reset(c); /* the data key's schedule does not outlive the call */
    *out = moat_slice(buf, IV_LEN + plain.len + TAG_LEN);
    return ok;
}

static bool gcm_open(struct moat_arena *a, struct moat_slice key, struct moat_slice aad,
                     struct moat_slice blob, struct moat_slice *plain)
{
    if (blob.len < IV_LEN + TAG_LEN)
        return false;
    size_t n = blob.len - IV_LEN - TAG_LEN;
    uint8_t *out = moat_arena_alloc(a, n + 1);
    moat_arena_wipe_on_free(a, out, n + 1);
    EVP_CIPHER_CTX *c = cipher_ctx();
    int len = 0, fin = 0;
    bool ok =
        EVP_DecryptInit_ex2(c, aes_gcm, key.ptr, blob.ptr, NULL) &&
        EVP_DecryptUpdate(c, NULL, &len, aad.ptr, (int)aad.len) &&
        EVP_DecryptUpdate(c, out, &len, blob.ptr + IV_LEN, (int)n) &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, (void *)(blob.ptr + IV_LEN + n)) &&
        EVP_DecryptFinal_ex(c, out + len, &fin) == 1;
    EVP_CIPHER_CTX_reset(c);
    out[n] = 0;
    *plain = moat_slice(out, n);
    return ok;
}

/* ---- KMS calls -------------------------------------------------------------------------- */

static void encryption_context(struct moat_call *call, struct moat_value *in, unsigned member,
                               const struct sm_secret *s, struct moat_slice vid)
{
    struct moat_value *ctx = moat_set_map(call->arena, in, member);
    moat_map_push(call->arena, ctx, MOAT_LIT("SecretARN"), moat_value_cstring(call->arena, s->arn));
    moat_map_push(call->arena, ctx, MOAT_LIT("SecretVersionId"),
                  moat_value_string(call->arena, moat_arena_dup(call->arena, vid)));
}

static bool is_default_key(struct moat_slice key)
{
    return !key.len || moat_slice_eq_cstr(key, SM_DEFAULT_KEY) ||
           moat_slice_ends_with(key, MOAT_LIT(":" SM_DEFAULT_KEY));
}

/* Secrets Manager's answer when KMS refused: access is AccessDeniedException ("Access to
 * KMS is not allowed"), anything else about the key Encryption/DecryptionFailure. */
static struct moat_error *kms_refused(struct moat_call *call, const struct moat_call *child,
                                      const struct sm_secret *s, bool encrypting)
{
    const struct moat_error *e = child->error;
    if (!encrypting && strcmp(s->account, call->account_id) != 0 &&
        (child->error_is_denial || !strcmp(e->kind->code, "AccessDeniedException")) &&
        s->version_count && is_default_key(s->kms_key_id))
        return moat_fail(call, &sm_invalid_request,
                         "You can't access a secret from a different AWS account if you encrypt "
                         "the secret with the default KMS service key.");
    if (child->error_is_denial || !strcmp(e->kind->code, "AccessDeniedException"))
        return moat_fail(call, &sm_access_denied, "Access to KMS is not allowed");
    if (e->kind->http_status >= 500)
        return moat_internal(call, "secretsmanager: KMS failed");
    if (encrypting)
        return moat_fail(call, &sm_encryption_failure,
                         "Secrets Manager can't encrypt the protected secret text using the "
                         "provided KMS key. Check that the KMS key is available, enabled, and not "
                         "in an invalid state. (%s: %.*s)",
                         e->kind->code, MOAT_FMT(e->message));
    return moat_fail(call, &sm_decryption_failure,
                     "Secrets Manager can't decrypt the protected secret text using the provided "
                     "KMS key. (%s: %.*s)",
                     e->kind->code, MOAT_FMT(e->message));
}

/* Wraps a fresh data key under the KMS key `key_id` (GenerateDataKey). */
static struct moat_error *new_data_key(struct moat_call *call, const struct sm_secret *s,
                                       struct moat_slice key_id, struct moat_slice vid,
                                       struct moat_slice *plain_key, struct moat_slice *wrapped,
                                       struct moat_slice *key_arn)
{
    struct moat_value *in = moat_call_internal_input(call, "kms", "GenerateDataKey");
    moat_set_str(call->arena, in, KMS_GENERATE_DATA_KEY_REQUEST_KEY_ID,
                 key_id.len ? key_id : MOAT_LIT(SM_DEFAULT_KEY));
    moat_set_cstr(call->arena, in, KMS_GENERATE_DATA_KEY_REQUEST_KEY_SPEC, "AES_256");
    encryption_context(call, in, KMS_GENERATE_DATA_KEY_REQUEST_ENCRYPTION_CONTEXT, s, vid);
    struct moat_call *child = moat_call_internal(call, "kms", "GenerateDataKey", in);
    if (child->error)
        return kms_refused(call, child, s, true);
    *plain_key = moat_get_blob(child->output, KMS_GENERATE_DATA_KEY_RESPONSE_PLAINTEXT);
    *wrapped = moat_get_blob(child->output, KMS_GENERATE_DATA_KEY_RESPONSE_CIPHERTEXT_BLOB);
    *key_arn = moat_get_str(child->output, KMS_GENERATE_DATA_KEY_RESPONSE_KEY_ID);
    if (plain_key->len != DATA_KEY_LEN || !wrapped->len)
        return moat_internal(call, "secretsmanager: KMS returned no data key");
    return NULL;
}

/* Unwraps a version's data key (Decrypt). */
static struct moat_error *open_data_key(struct moat_call *call, const struct sm_secret *s,
                                        struct moat_slice vid, struct moat_slice key_arn,
                                        struct moat_slice wrapped, struct moat_slice *plain_key)
{
    struct moat_value *in = moat_call_internal_input(call, "kms", "Decrypt");
    moat_set_blob(call->arena, in, KMS_DECRYPT_REQUEST_CIPHERTEXT_BLOB, wrapped);
    if (key_arn.len)
        moat_set_str(call->arena, in, KMS_DECRYPT_REQUEST_KEY_ID, key_arn);
    encryption_context(call, in, KMS_DECRYPT_REQUEST_ENCRYPTION_CONTEXT, s, vid);
    struct moat_call *child = moat_call_internal(call, "kms", "Decrypt", in);
    if (child->error)
        return kms_refused(call, child, s, false);
    *plain_key = moat_get_blob(child->output, KMS_DECRYPT_RESPONSE_PLAINTEXT);
    if (plain_key->len != DATA_KEY_LEN)
        return moat_internal(call, "secretsmanager: KMS returned a data key of the wrong size");
    return NULL;
}

/* ---- value records ------------------------------------------------------------------------ */

struct value_record {
    bool binary;
    struct moat_slice key_arn, wrapped, data;
};

static struct moat_error *write_record(struct moat_call *call, const struct sm_secret *s,
                                       struct moat_slice vid, const struct value_record *r)
{
    struct moat_arena *a = call->arena;
    struct moat_buf b;
    moat_buf_init(&b, a, (r->wrapped.len + r->data.len) * 4 / 3 + r->key_arn.len + 96);
    moat_buf_printf(&b, "{\"Binary\":%s,\"Key\":", r->binary ? "true" : "false");
    moat_json_write_string(&b, r->key_arn);
    moat_buf_append_cstr(&b, ",\"DataKey\":\"");
    moat_base64_encode(&b, r->wrapped);
    moat_buf_append_cstr(&b, "\",\"Data\":\"");
    moat_base64_encode(&b, r->data);
    moat_buf_append_cstr(&b, "\"}");
    if (sm_record_put(call, SM_NS_VALUE, moat_slice_cstr(sm_value_key(a, s, vid)),
                      moat_buf_slice(&b), STORE_ANY_VERSION, NULL) != STORE_OK)
        return moat_internal(call, "secretsmanager: writing a value failed");
    return NULL;
}

static struct moat_error *read_record(struct moat_call *call, const struct sm_secret *s,
                                      struct moat_slice vid, struct value_record *r)
{
    struct moat_arena *a = call->arena;
    struct moat_slice rec;
    int64_t version;
    int st =
        sm_record_get(call, SM_NS_VALUE, moat_slice_cstr(sm_value_key(a, s, vid)), &rec, &version);
    if (st == STORE_NOT_FOUND)
        return moat_fail(call, &sm_not_found,
                         "Secrets Manager can't find the specified secret value for VersionId: "
                         "%.*s",
                         MOAT_FMT(vid));
    if (st != STORE_OK)
        return moat_internal(call, "secretsmanager: reading a value failed");
    struct moat_value *doc;
    if (!moat_json_parse(a, rec, 0, &doc, NULL) ||
        !moat_base64_decode(a, moat_map_str(doc, "DataKey"), &r->wrapped) ||
        !moat_base64_decode(a, moat_map_str(doc, "Data"), &r->data))
        return moat_internal(call, "secretsmanager: a value record does not parse");
    r->binary = moat_map_bool(doc, "Binary", false);
    r->key_arn = moat_map_str(doc, "Key");
    return NULL;
}

struct moat_error *sm_value_put(struct moat_call *call, struct sm_secret *s, struct sm_version *v,
                                struct moat_slice plaintext, bool binary)
{
    struct moat_arena *a = call->arena;
    struct moat_slice dk, wrapped, key_arn;
    struct moat_error *err = new_data_key(call, s, s->kms_key_id, v->id, &dk, &wrapped, &key_arn);
    if (err)
        return err;
    struct value_record r = {.binary = binary, .key_arn = key_arn, .wrapped = wrapped};
    if (!gcm_seal(a, dk, gcm_aad(a, s, v->id), plaintext, &r.data))
        return moat_internal(call, "secretsmanager: AES-GCM failed");
    err = write_record(call, s, v->id, &r);
    if (err)
        return err;
    v->key_arn = moat_arena_dup(a, key_arn);
    return NULL;
}

struct moat_error *sm_value_get(struct moat_call *call, const struct sm_secret *s,
                                const struct sm_version *v, struct moat_slice *plaintext,
                                bool *binary)
{
    struct moat_arena *a = call->arena;
    struct value_record r;
    struct moat_error *err = read_record(call, s, v->id, &r);
    if (err)
        return err;
    struct moat_slice dk;
    err = open_data_key(call, s, v->id, r.key_arn, r.wrapped, &dk);
    if (err)
        return err;
    if (!gcm_open(a, dk, gcm_aad(a, s, v->id), r.data, plaintext))
        return moat_fail(call, &sm_decryption_failure,
                         "Secrets Manager can't decrypt the protected secret text using the "
                         "provided KMS key.");
    *binary = r.binary;
    return NULL;
}

/* UpdateSecret with a new KmsKeyId: "If you don't have kms:Encrypt permission to the new
 * key, Secrets Manager does not re-encrypt existing secret versions with the new key." */
struct moat_error *sm_value_rewrap(struct moat_call *call, struct sm_secret *s,
                                   struct sm_version *v, struct moat_slice new_key)
{
    struct value_record r;
    struct moat_error *err = read_record(call, s, v->id, &r);
    if (err)
        return err;
    struct moat_slice dk;
    err = open_data_key(call, s, v->id, r.key_arn, r.wrapped, &dk);
    if (err)
        return err;
    struct moat_value *in = moat_call_internal_input(call, "kms", "Encrypt");
    moat_set_str(call->arena, in, KMS_ENCRYPT_REQUEST_KEY_ID,
                 new_key.len ? new_key : MOAT_LIT(SM_DEFAULT_KEY));
    moat_set_blob(call->arena, in, KMS_ENCRYPT_REQUEST_PLAINTEXT, dk);
    encryption_context(call, in, KMS_ENCRYPT_REQUEST_ENCRYPTION_CONTEXT, s, v->id);
    struct moat_call *child = moat_call_internal(call, "kms", "Encrypt", in);
    if (child->error) {
        if (child->error_is_denial || !strcmp(child->error->kind->code, "AccessDeniedException"))
            return NULL; /* the version keeps its key */
        return kms_refused(call, child, s, true);
    }
    r.wrapped = moat_get_blob(child->output, KMS_ENCRYPT_RESPONSE_CIPHERTEXT_BLOB);
    r.key_arn = moat_get_str(child->output, KMS_ENCRYPT_RESPONSE_KEY_ID);
    err = write_record(call, s, v->id, &r);
    if (err)
        return err;
    v->key_arn = moat_arena_dup(call->arena, r.key_arn);
    return NULL;
}

struct moat_error *sm_value_copy(struct moat_call *call, const struct sm_secret *from,
                                 const struct sm_version *v, struct sm_secret *to,
                                 struct sm_version *to_v)
{
    /* The read runs in the primary's Region, the write in the replica's. */
    const char *region = call->region;
    call->region = from->region;
    struct moat_slice plain;
    bool binary;
    struct moat_error *err = sm_value_get(call, from, v, &plain, &binary);
    call->region = region;
    if (err)
        return err;
    return sm_value_put(call, to, to_v, plain, binary);
}

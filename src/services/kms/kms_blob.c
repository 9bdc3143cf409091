/* kms_blob.c: moat's symmetric ciphertext blob (which names its key and the key
 * material version, so Decrypt needs no KeyId and rotated keys keep decrypting) and
 * the canonical encryption context that is bound to it as additional data. */
#include "crypto/rootkey.h"
#include "server/server.h"
#include "services/kms/kms.h"

#include <stdlib.h>
#include <string.h>

#define BLOB_VERSION 1
#define BLOB_KIND_AES_GCM 0

bool kms_blob_parse(struct moat_slice in, struct kms_blob *out)
{
    memset(out, 0, sizeof(*out));
    struct moat_slice cur = in;
    uint8_t version, kind, idlen;
    struct moat_slice account, key_id, material, iv, tag;
    if (!moat_slice_read_u8(&cur, &version) || version != BLOB_VERSION ||
        !moat_slice_read_u8(&cur, &kind) || kind != BLOB_KIND_AES_GCM ||
        !moat_slice_read_bytes(&cur, 12, &account) || !moat_slice_read_u8(&cur, &idlen) ||
        idlen == 0 || idlen > 64 || !moat_slice_read_bytes(&cur, idlen, &key_id) ||
        !moat_slice_read_bytes(&cur, KMS_MATERIAL_ID_LEN, &material) ||
        !moat_slice_read_bytes(&cur, 12, &iv) || cur.len < 16)
        return false;
    for (size_t i = 0; i < 12; i++)
        if (account.ptr[i] < '0' || account.ptr[i] > '9')
            return false;
    for (size_t i = 0; i < key_id.len; i++) {
        uint8_t c = key_id.ptr[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-' || c == 'm' ||
              c == 'r' || c == 'k'))
            return false;
    }
    tag = moat_slice(cur.ptr + cur.len - 16, 16);
    out->header = moat_slice(in.ptr, (size_t)(material.ptr + KMS_MATERIAL_ID_LEN - in.ptr));
    out->account = account;
    out->key_id = key_id;
    out->material_id = material.ptr;
    out->iv = iv.ptr;
    out->ciphertext = moat_slice(cur.ptr, cur.len - 16);
    out->tag = tag.ptr;
    return true;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct moat_map_entry *x = *(const struct moat_map_entry *const *)a;
    const struct moat_map_entry *y = *(const struct moat_map_entry *const *)b;
    return moat_slice_cmp(x->key, y->key);
}

static void put_u32(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

struct moat_slice kms_context_canonical(struct moat_arena *a, const struct moat_value *ctx)
{
    if (!ctx || ctx->type != MOAT_V_MAP || ctx->count == 0)
        return MOAT_NULL_SLICE;
    const struct moat_map_entry **sorted = moat_arena_alloc(a, ctx->count * sizeof(*sorted));
    size_t total = 0;
    for (uint32_t i = 0; i < ctx->count; i++) {
        sorted[i] = &ctx->u.entries[i];
        const struct moat_value *v = ctx->u.entries[i].value;
        total += 8 + ctx->u.entries[i].key.len + (moat_value_is_string(v) ? v->u.s.len : 0);
    }
    if (ctx->count > 1)
        qsort(sorted, ctx->count, sizeof(*sorted), cmp_entry);
    uint8_t *buf = moat_arena_alloc(a, total), *p = buf;
    for (uint32_t i = 0; i < ctx->count; i++) {
        struct moat_slice k = sorted[i]->key;
        const struct moat_value *v = sorted[i]->value;
        struct moat_slice val = moat_value_is_string(v) ? v->u.s : MOAT_NULL_SLICE;
        put_u32(p, k.len);
        memcpy(p + 4, k.ptr, k.len);
        p += 4 + k.len;
        put_u32(p, val.len);
        if (val.len)
            memcpy(p + 4, val.ptr, val.len);
        p += 4 + val.len;
    }
    return moat_slice(buf, total);
}

struct moat_error *kms_seal(struct moat_call *call, const struct kms_key *key,
                            const struct moat_value *ctx, struct moat_slice plain,
                            struct moat_slice *blob)
{
    const struct kms_material *m = key->current;
    if (!m || m->secret.len != 32)
        return moat_internal(call, "symmetric key without usable material");
    size_t idlen = strlen(key->key_id);
    size_t hlen = 1 + 1 + 12 + 1 + idlen + KMS_MATERIAL_ID_LEN;
    size_t total = hlen + 12 + plain.len + 16;
    uint8_t *b = moat_arena_alloc(call->arena, total);
    b[0] = BLOB_VERSION;
    b[1] = BLOB_KIND_AES_GCM;
    memcpy(b + 2, key->account, 12);
    b[14] = (uint8_t)idlen;
    memcpy(b + 15, key->key_id, idlen);
    memcpy(b + 15 + idlen, m->raw_id, KMS_MATERIAL_ID_LEN);
    uint8_t *iv = b + hlen;
    crypto_random(iv, 12);
    kms_aes_gcm_seal(m->secret.ptr, iv, moat_slice(b, hlen),
                     kms_context_canonical(call->arena, ctx), plain, iv + 12, iv + 12 + plain.len);
    *blob = moat_slice(b, total);
    return NULL;
}

struct moat_error *kms_open(struct moat_call *call, const struct kms_key *key,
                            const struct kms_blob *blob, const struct moat_value *ctx,
                            struct moat_slice *plain, const struct kms_material **material)
{
    const struct kms_material *m = kms_key_material(key, blob->material_id);
    if (!m || !m->present || m->secret.len != 32)
        return moat_fail(call, &kms_invalid_ciphertext,
                         "The ciphertext refers to key material that is not available for "
                         "this KMS key.");
    uint8_t *out = moat_arena_alloc(call->arena, blob->ciphertext.len + 1);
    moat_arena_wipe_on_free(call->arena, out, blob->ciphertext.len);
    if (!kms_aes_gcm_open(m->secret.ptr, blob->iv, blob->header,
                          kms_context_canonical(call->arena, ctx), blob->ciphertext, blob->tag,
                          out))
        return moat_fail(call, &kms_invalid_ciphertext,
                         "The ciphertext is invalid or was altered, or the encryption context "
                         "does not match the one it was encrypted with.");
    *plain = moat_slice(out, blob->ciphertext.len);
    if (material)
        *material = m;
    return NULL;
}

/* fuzz_kms_blob.c: the KMS ciphertext blob parser and the canonical encryption
 * context, then a round trip: bytes sealed as a blob must parse and open again,
 * and any blob that parses must fail to open (not crash) with another key. */
#include "server/server.h"
#include "services/kms/kms.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fill_key(struct kms_key *key, struct kms_material *m, const uint8_t secret[32],
                     const char *key_id)
{
    memset(key, 0, sizeof(*key));
    memset(m, 0, sizeof(*m));
    memset(m->raw_id, 0x5a, sizeof(m->raw_id));
    memset(m->id, 'a', sizeof(m->id) - 1);
    m->present = true;
    m->secret = moat_slice(secret, 32);
    key->account = "000000000000";
    key->region = "us-east-1";
    key->key_id = key_id;
    key->arn = "arn:aws:kms:us-east-1:000000000000:key/fuzz";
    key->spec = kms_spec_symmetric();
    key->materials = m;
    key->material_count = 1;
    key->current = m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct moat_arena *a = moat_arena_new(4096);
    struct moat_call call;
    memset(&call, 0, sizeof(call));
    call.arena = a;
    static const uint8_t secret[32] = {1, 2, 3};
    struct kms_material m;
    struct kms_key key;
    fill_key(&key, &m, secret, "11111111-2222-4333-8444-555555555555");

    /* 1: whatever the bytes are, parsing never reads outside them */
    struct kms_blob blob;
    struct moat_slice in = moat_slice(data, size);
    if (kms_blob_parse(in, &blob)) {
        if (blob.header.ptr != data || blob.header.len > size ||
            blob.ciphertext.ptr + blob.ciphertext.len + 16 != data + size)
            __builtin_trap();
        struct moat_slice plain;
        struct moat_error *e = kms_open(&call, &key, &blob, NULL, &plain, NULL);
        MOAT_UNUSED(e);
    }

    /* 2: the bytes as an encryption context (key=value lines) and a plaintext */
    struct moat_value *ctx = moat_value_map(a);
    struct moat_slice rest = in, line;
    size_t n = 0;
    while (n < 16 && moat_slice_split(&rest, '\n', &line)) {
        long eq = moat_slice_index(line, '=');
        struct moat_slice k = eq < 0 ? line : moat_slice_sub(line, 0, (size_t)eq);
        struct moat_slice v =
            eq < 0 ? MOAT_NULL_SLICE : moat_slice_sub(line, (size_t)eq + 1, line.len);
        moat_map_set(a, ctx, k, moat_value_string(a, v));
        n++;
    }
    struct moat_slice canon = kms_context_canonical(a, ctx);
    if (ctx->count && !canon.len)
        __builtin_trap();
    struct moat_slice sealed, opened;
    if (kms_seal(&call, &key, ctx, in, &sealed))
        __builtin_trap();
    struct kms_blob b2;
    if (!kms_blob_parse(sealed, &b2) || kms_open(&call, &key, &b2, ctx, &opened, NULL) ||
        opened.len != size || (size && memcmp(opened.ptr, data, size) != 0))
        __builtin_trap();
    /* another context, or another key, must not open it */
    if (ctx->count) {
        if (!kms_open(&call, &key, &b2, NULL, &opened, NULL))
            __builtin_trap();
    }
    static const uint8_t other[32] = {9};
    struct kms_material m2;
    struct kms_key key2;
    fill_key(&key2, &m2, other, "11111111-2222-4333-8444-555555555555");
    if (!kms_open(&call, &key2, &b2, ctx, &opened, NULL))
        __builtin_trap();
    moat_arena_free(a);
    return 0;
}

/* test_kms_blob.c: the KMS ciphertext blob (seal, parse, open; truncated, altered and
 * oversized input), the canonical encryption context and key id parsing. */
#include "harness.h"
#include "services/kms/kms.h"

#include <string.h>

static const uint8_t secret[32] = {7, 7, 7};
static const char key_id[] = "11111111-2222-4333-8444-555555555555";

static void make_key(struct kms_key *key, struct kms_material *m, const uint8_t *s)
{
    memset(key, 0, sizeof(*key));
    memset(m, 0, sizeof(*m));
    memset(m->raw_id, 0x11, sizeof(m->raw_id));
    m->present = true;
    m->secret = moat_slice(s, 32);
    key->account = "123456789012";
    key->region = "us-east-1";
    key->key_id = key_id;
    key->arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-4333-8444-555555555555";
    key->spec = kms_spec_symmetric();
    key->materials = m;
    key->material_count = 1;
    key->current = m;
}

static struct moat_value *context(struct moat_arena *a, const char *k1, const char *v1,
                                  const char *k2, const char *v2)
{
    struct moat_value *m = moat_value_map(a);
    if (k1)
        moat_map_push(a, m, moat_slice_cstr(k1), moat_value_cstring(a, v1));
    if (k2)
        moat_map_push(a, m, moat_slice_cstr(k2), moat_value_cstring(a, v2));
    return m;
}

MOAT_TEST(seal_parse_open)
{
    struct moat_call call = {.arena = a};
    struct kms_key key;
    struct kms_material m;
    make_key(&key, &m, secret);
    struct moat_value *ctx = context(a, "b", "2", "a", "1");
    struct moat_slice blob, plain;
    CHECK(kms_seal(&call, &key, ctx, MOAT_LIT("attack at dawn"), &blob) == NULL);
    CHECK_EQ_INT(blob.len, KMS_BLOB_OVERHEAD(36) + 14);
    struct kms_blob b;
    CHECK(kms_blob_parse(blob, &b));
    CHECK_SLICE(b.account, "123456789012");
    CHECK_SLICE(b.key_id, key_id);
    CHECK(memcmp(b.material_id, m.raw_id, 32) == 0);
    CHECK_EQ_INT(b.ciphertext.len, 14);
    const struct kms_material *used = NULL;
    /* the same context in another order opens it */
    CHECK(kms_open(&call, &key, &b, context(a, "a", "1", "b", "2"), &plain, &used) == NULL);
    CHECK_SLICE(plain, "attack at dawn");
    CHECK(used == &m);
    /* another context, no context, another value: refused */
    struct moat_error *e =
        kms_open(&call, &key, &b, context(a, "a", "1", NULL, NULL), &plain, NULL);
    CHECK(e && strcmp(e->kind->code, "InvalidCiphertextException") == 0);
    CHECK(kms_open(&call, &key, &b, NULL, &plain, NULL) != NULL);
    CHECK(kms_open(&call, &key, &b, context(a, "a", "1", "b", "3"), &plain, NULL) != NULL);
    /* another key material */
    uint8_t other[32] = {8};
    struct kms_key key2;
    struct kms_material m2;
    make_key(&key2, &m2, other);
    CHECK(kms_open(&call, &key2, &b, ctx, &plain, NULL) != NULL);
    /* a material id the key does not have */
    memset(m2.raw_id, 0x22, sizeof(m2.raw_id));
    e = kms_open(&call, &key2, &b, ctx, &plain, NULL);
    CHECK(e && strcmp(e->kind->code, "InvalidCiphertextException") == 0);
}

MOAT_TEST(every_altered_byte_fails)
{
    struct moat_call call = {.arena = a};
    struct kms_key key;
    struct kms_material m;
    make_key(&key, &m, secret);
    struct moat_slice blob, plain;
    CHECK(kms_seal(&call, &key, NULL, MOAT_LIT("x"), &blob) == NULL);
    uint8_t *copy = moat_arena_alloc(a, blob.len);
    for (size_t i = 0; i < blob.len; i++) {
        memcpy(copy, blob.ptr, blob.len);
        copy[i] ^= 0x01;
        struct kms_blob b;
        if (!kms_blob_parse(moat_slice(copy, blob.len), &b))
            continue; /* header damage: not a blob at all */
        if (kms_open(&call, &key, &b, NULL, &plain, NULL) == NULL && kms_blob_parse(blob, &b)) {
            fprintf(stderr, "  byte %zu altered and still opened\n", i);
            moat_test_failures++;
        }
    }
}

MOAT_TEST(parse_refuses_malformed)
{
    struct moat_call call = {.arena = a};
    struct kms_key key;
    struct kms_material m;
    make_key(&key, &m, secret);
    struct moat_slice blob;
    CHECK(kms_seal(&call, &key, NULL, MOAT_LIT("payload"), &blob) == NULL);
    struct kms_blob b;
    for (size_t n = 0; n < KMS_BLOB_OVERHEAD(36); n++)
        CHECK(!kms_blob_parse(moat_slice(blob.ptr, n), &b));                /* truncated */
    CHECK(kms_blob_parse(moat_slice(blob.ptr, KMS_BLOB_OVERHEAD(36)), &b)); /* empty plaintext */
    CHECK_EQ_INT(b.ciphertext.len, 0);
    uint8_t *copy = moat_arena_alloc(a, blob.len);
    memcpy(copy, blob.ptr, blob.len);
    copy[0] = 2; /* unknown version */
    CHECK(!kms_blob_parse(moat_slice(copy, blob.len), &b));
    memcpy(copy, blob.ptr, blob.len);
    copy[1] = 1; /* unknown kind */
    CHECK(!kms_blob_parse(moat_slice(copy, blob.len), &b));
    memcpy(copy, blob.ptr, blob.len);
    copy[5] = 'x'; /* account not digits */
    CHECK(!kms_blob_parse(moat_slice(copy, blob.len), &b));
    memcpy(copy, blob.ptr, blob.len);
    copy[14] = 0; /* empty key id */
    CHECK(!kms_blob_parse(moat_slice(copy, blob.len), &b));
    memcpy(copy, blob.ptr, blob.len);
    copy[14] = 200; /* key id longer than the blob */
    CHECK(!kms_blob_parse(moat_slice(copy, blob.len), &b));
    memcpy(copy, blob.ptr, blob.len);
    copy[16] = '!'; /* not a key id character */
    CHECK(!kms_blob_parse(moat_slice(copy, blob.len), &b));
    CHECK(!kms_blob_parse(MOAT_NULL_SLICE, &b));
}

MOAT_TEST(canonical_context)
{
    CHECK_EQ_INT(kms_context_canonical(a, NULL).len, 0);
    CHECK_EQ_INT(kms_context_canonical(a, moat_value_map(a)).len, 0);
    struct moat_slice c1 = kms_context_canonical(a, context(a, "b", "2", "a", "1"));
    struct moat_slice c2 = kms_context_canonical(a, context(a, "a", "1", "b", "2"));
    CHECK(moat_slice_eq(c1, c2));
    CHECK_EQ_INT(c1.len, 2 * (4 + 1 + 4 + 1));
    /* lengths are part of the encoding: "ab"="" differs from "a"="b" */
    struct moat_slice c3 = kms_context_canonical(a, context(a, "ab", "", NULL, NULL));
    struct moat_slice c4 = kms_context_canonical(a, context(a, "a", "b", NULL, NULL));
    CHECK(!moat_slice_eq(c3, c4));
}

MOAT_TEST(key_id_parse)
{
    struct kms_id_parts p;
    CHECK(kms_key_id_parse(MOAT_LIT("11111111-2222-4333-8444-555555555555"), &p));
    CHECK(p.kind == KMS_ID_KEY && !p.arn);
    CHECK(kms_key_id_parse(MOAT_LIT("mrk-0123456789abcdef0123456789ABCDEF"), &p));
    CHECK(kms_key_id_parse(
        MOAT_LIT("arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-4333-8444-555555555555"),
        &p));
    CHECK(p.arn && p.kind == KMS_ID_KEY);
    CHECK_SLICE(p.region, "eu-west-1");
    CHECK_SLICE(p.account, "123456789012");
    CHECK_SLICE(p.id, "11111111-2222-4333-8444-555555555555");
    CHECK(kms_key_id_parse(MOAT_LIT("alias/app"), &p) && p.kind == KMS_ID_ALIAS);
    CHECK(kms_key_id_parse(MOAT_LIT("arn:aws:kms:us-east-1:123456789012:alias/app"), &p));
    CHECK(p.kind == KMS_ID_ALIAS);
    CHECK_SLICE(p.id, "alias/app");
    CHECK(!kms_key_id_parse(MOAT_LIT("alias/"), &p));
    CHECK(!kms_key_id_parse(MOAT_LIT("not-a-key"), &p) && p.kind == KMS_ID_BAD_KEY);
    CHECK(!kms_key_id_parse(MOAT_LIT("11111111-2222-4333-8444-55555555555"), &p));
    CHECK(!kms_key_id_parse(MOAT_LIT("11111111x2222-4333-8444-555555555555"), &p));
    CHECK(!kms_key_id_parse(MOAT_LIT("mrk-0123"), &p));
    CHECK(!kms_key_id_parse(MOAT_LIT("arn:aws:s3:us-east-1:123456789012:key/x"), &p));
    CHECK(p.kind == KMS_ID_BAD_ARN);
    CHECK(!kms_key_id_parse(
        MOAT_LIT("arn:aws:kms:us-east-1:12345:key/11111111-2222-4333-8444-555555555555"), &p));
    CHECK(!kms_key_id_parse(
        MOAT_LIT("arn:aws:kms::123456789012:key/11111111-2222-4333-8444-555555555555"), &p));
    CHECK(!kms_key_id_parse(MOAT_LIT("arn:aws:kms:us-east-1:123456789012:key/zz"), &p));
    CHECK(!kms_key_id_parse(MOAT_LIT("arn:aws:kms:us-east-1:123456789012:grant/x"), &p));
    CHECK(!kms_key_id_parse(MOAT_LIT("arn:"), &p));
}

MOAT_TEST(grant_tokens)
{
    const char *tok =
        kms_grant_token(a, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                        "arn:aws:kms:us-east-1:123456789012:key/k");
    struct moat_slice arn, id;
    CHECK(kms_grant_token_parse(a, moat_slice_cstr(tok), &arn, &id));
    CHECK_SLICE(arn, "arn:aws:kms:us-east-1:123456789012:key/k");
    CHECK_EQ_INT(id.len, 64);
    CHECK(!kms_grant_token_parse(a, MOAT_LIT("AQpAMoat.x.y.z"), &arn, &id));
    CHECK(!kms_grant_token_parse(a, MOAT_LIT(""), &arn, &id));
    CHECK(!kms_grant_token_parse(a, moat_slice(tok, strlen(tok) - 1), &arn, &id));
}

MOAT_TEST(specs)
{
    const struct kms_spec *s = kms_spec_find(MOAT_LIT("ECC_SECG_P256K1"));
    CHECK(s && s->supported && (s->usages & (1u << KMS_USAGE_SIGN_VERIFY)));
    CHECK(!(s->usages & (1u << KMS_USAGE_KEY_AGREEMENT)));
    CHECK(kms_spec_find(MOAT_LIT("ML_DSA_44")) && !kms_spec_find(MOAT_LIT("ML_DSA_44"))->supported);
    CHECK(!kms_spec_find(MOAT_LIT("RSA_1024")));
    CHECK(kms_alg_in(kms_spec_symmetric()->encryption_algorithms, MOAT_LIT("SYMMETRIC_DEFAULT")));
    CHECK(!kms_alg_in(kms_spec_symmetric()->encryption_algorithms, MOAT_LIT("SYMMETRIC")));
    CHECK_EQ_STR(kms_state_name(kms_state_parse(MOAT_LIT("PendingDeletion"))), "PendingDeletion");
    CHECK(kms_state_parse(MOAT_LIT("bogus")) == KMS_STATE_UNAVAILABLE);
}

MOAT_TEST_MAIN(MOAT_CASE(seal_parse_open), MOAT_CASE(every_altered_byte_fails),
               MOAT_CASE(parse_refuses_malformed), MOAT_CASE(canonical_context),
               MOAT_CASE(key_id_parse), MOAT_CASE(grant_tokens), MOAT_CASE(specs))

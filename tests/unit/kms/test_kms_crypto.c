/* test_kms_crypto.c: key generation and the asymmetric primitives KMS uses, checked
 * against each other and against malformed input: signatures (RAW and DIGEST), OAEP
 * limits, HMAC, ECDH agreement between two keys, and import unwrapping. */
#include "crypto/digest.h"
#include "harness.h"
#include "services/kms/kms.h"

#include <openssl/evp.h>
#include <string.h>

static EVP_PKEY *generate(struct moat_arena *a, const char *spec)
{
    struct moat_slice der;
    if (!kms_crypto_generate(a, kms_spec_find(moat_slice_cstr(spec)), &der))
        return NULL;
    return kms_crypto_load_private(der);
}

static void sign_round_trip(struct moat_arena *a, const char *spec, const char *alg)
{
    EVP_PKEY *k = generate(a, spec);
    CHECK(k != NULL);
    if (!k)
        return;
    struct moat_slice sig, msg = MOAT_LIT("message to sign");
    struct moat_slice al = moat_slice_cstr(alg);
    CHECK(kms_crypto_sign(a, k, al, false, msg, &sig));
    CHECK(kms_crypto_verify(k, al, false, msg, sig));
    CHECK(!kms_crypto_verify(k, al, false, MOAT_LIT("message to sigN"), sig));
    size_t dlen = 0;
    const char *md = kms_sign_digest(al, &dlen);
    if (md && !EVP_PKEY_is_a(k, "ED25519")) {
        uint8_t d[64];
        unsigned int n = 0;
        CHECK(EVP_Digest(msg.ptr, msg.len, d, &n, EVP_get_digestbyname(md), NULL));
        CHECK_EQ_INT(n, dlen);
        /* a signature over the raw message verifies as one over its digest */
        CHECK(kms_crypto_verify(k, al, true, moat_slice(d, n), sig));
        struct moat_slice sig2;
        CHECK(kms_crypto_sign(a, k, al, true, moat_slice(d, n), &sig2));
        CHECK(kms_crypto_verify(k, al, false, msg, sig2));
    }
    CHECK(!kms_crypto_verify(k, al, false, msg, MOAT_LIT("garbage")));
    EVP_PKEY_free(k);
}

MOAT_TEST(signatures)
{
    sign_round_trip(a, "ECC_NIST_P256", "ECDSA_SHA_256");
    sign_round_trip(a, "ECC_NIST_P384", "ECDSA_SHA_384");
    sign_round_trip(a, "ECC_SECG_P256K1", "ECDSA_SHA_256");
    sign_round_trip(a, "RSA_2048", "RSASSA_PSS_SHA_384");
    sign_round_trip(a, "RSA_2048", "RSASSA_PKCS1_V1_5_SHA_512");
    sign_round_trip(a, "ECC_NIST_EDWARDS25519", "ED25519_SHA_512");
}

MOAT_TEST(oaep)
{
    EVP_PKEY *k = generate(a, "RSA_2048");
    CHECK_EQ_INT(kms_crypto_oaep_max(k, MOAT_LIT("RSAES_OAEP_SHA_1")), 214);
    CHECK_EQ_INT(kms_crypto_oaep_max(k, MOAT_LIT("RSAES_OAEP_SHA_256")), 190);
    uint8_t big[191];
    memset(big, 'x', sizeof(big));
    struct moat_slice ct, pt;
    CHECK(kms_crypto_rsa_encrypt(a, k, MOAT_LIT("RSAES_OAEP_SHA_256"), moat_slice(big, 190), &ct));
    CHECK(kms_crypto_rsa_decrypt(a, k, MOAT_LIT("RSAES_OAEP_SHA_256"), ct, &pt));
    CHECK_EQ_INT(pt.len, 190);
    CHECK(!kms_crypto_rsa_decrypt(a, k, MOAT_LIT("RSAES_OAEP_SHA_1"), ct, &pt));
    CHECK(!kms_crypto_rsa_encrypt(a, k, MOAT_LIT("RSAES_OAEP_SHA_256"), moat_slice(big, 191), &ct));
    CHECK(!kms_crypto_rsa_decrypt(a, k, MOAT_LIT("RSAES_OAEP_SHA_256"), MOAT_LIT("short"), &pt));
    EVP_PKEY_free(k);
}

MOAT_TEST(hmac_and_ecdh)
{
    uint8_t mac[64], mac2[64];
    size_t n = 0, n2 = 0;
    CHECK(kms_crypto_hmac(MOAT_LIT("key"), MOAT_LIT("HMAC_SHA_256"), MOAT_LIT("msg"), mac, &n));
    CHECK_EQ_INT(n, 32);
    uint8_t ref[32];
    struct moat_slice part = MOAT_LIT("msg");
    crypto_hmac_sha256(MOAT_LIT("key"), &part, 1, ref);
    CHECK(memcmp(mac, ref, 32) == 0);
    CHECK(kms_crypto_hmac(MOAT_LIT("key"), MOAT_LIT("HMAC_SHA_224"), MOAT_NULL_SLICE, mac2, &n2));
    CHECK_EQ_INT(n2, 28);
    EVP_PKEY *x = generate(a, "ECC_NIST_P256"), *y = generate(a, "ECC_NIST_P256");
    EVP_PKEY *z = generate(a, "ECC_NIST_P384");
    struct moat_slice s1, s2, s3;
    CHECK(kms_crypto_ecdh(a, x, kms_crypto_public_der(a, y), &s1));
    CHECK(kms_crypto_ecdh(a, y, kms_crypto_public_der(a, x), &s2));
    CHECK(moat_slice_eq(s1, s2) && s1.len == 32);
    CHECK(!kms_crypto_ecdh(a, x, kms_crypto_public_der(a, z), &s3)); /* other curve */
    CHECK(!kms_crypto_ecdh(a, x, MOAT_LIT("not der"), &s3));
    EVP_PKEY_free(x);
    EVP_PKEY_free(y);
    EVP_PKEY_free(z);
}

MOAT_TEST(load_refuses_garbage)
{
    CHECK(kms_crypto_load_private(MOAT_LIT("")) == NULL);
    CHECK(kms_crypto_load_private(MOAT_LIT("0\x82\x01")) == NULL);
    struct moat_slice der;
    CHECK(kms_crypto_generate(a, kms_spec_find(MOAT_LIT("ECC_NIST_P256")), &der));
    CHECK(kms_crypto_load_private(moat_slice(der.ptr, der.len - 1)) == NULL);
    uint8_t *longer = moat_arena_alloc(a, der.len + 1);
    memcpy(longer, der.ptr, der.len);
    longer[der.len] = 0;
    CHECK(kms_crypto_load_private(moat_slice(longer, der.len + 1)) == NULL); /* trailing byte */
    struct moat_slice sym;
    CHECK(kms_crypto_generate(a, kms_spec_symmetric(), &sym) && sym.len == 32);
    CHECK(kms_crypto_generate(a, kms_spec_find(MOAT_LIT("HMAC_384")), &sym) && sym.len == 48);
}

MOAT_TEST(unwrap_import)
{
    EVP_PKEY *w = generate(a, "RSA_2048");
    uint8_t material[32];
    memset(material, 0x42, sizeof(material));
    struct moat_slice wrapped, out;
    CHECK(kms_crypto_rsa_encrypt(a, w, MOAT_LIT("RSAES_OAEP_SHA_256"), moat_slice(material, 32),
                                 &wrapped));
    CHECK(kms_crypto_unwrap_import(a, w, MOAT_LIT("RSAES_OAEP_SHA_256"), wrapped, &out));
    CHECK(out.len == 32 && memcmp(out.ptr, material, 32) == 0);
    CHECK(!kms_crypto_unwrap_import(a, w, MOAT_LIT("RSAES_OAEP_SHA_1"), wrapped, &out));
    CHECK(!kms_crypto_unwrap_import(a, w, MOAT_LIT("RSA_AES_KEY_WRAP_SHA_256"), wrapped, &out));
    CHECK(!kms_crypto_unwrap_import(a, w, MOAT_LIT("RSAES_OAEP_SHA_256"),
                                    moat_slice(wrapped.ptr, wrapped.len - 1), &out));
    EVP_PKEY_free(w);
}

MOAT_TEST_MAIN(MOAT_CASE(signatures), MOAT_CASE(oaep), MOAT_CASE(hmac_and_ecdh),
               MOAT_CASE(load_refuses_garbage), MOAT_CASE(unwrap_import))

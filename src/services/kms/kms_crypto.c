/* kms_crypto.c: the cryptography behind KMS keys, on OpenSSL 3: AES-256-GCM with
 * per-thread contexts (the hot path), key generation, RSA/ECDSA/Ed25519 signatures,
 * RSAES-OAEP, HMAC, ECDH and the unwrapping of imported key material. */
#include "core/thread.h"
#include "crypto/rootkey.h"
#include "services/kms/kms.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static EVP_CIPHER *aes_gcm;
static EVP_CIPHER *aes_wrap_pad;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static __thread EVP_CIPHER_CTX *enc_ctx, *dec_ctx;

static void fetch(void)
{
    aes_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    aes_wrap_pad = EVP_CIPHER_fetch(NULL, "AES-256-WRAP-PAD", NULL);
    if (!aes_gcm || !aes_wrap_pad)
        abort();
}

static void release(void *unused)
{
    EVP_CIPHER_CTX_free(enc_ctx);
    EVP_CIPHER_CTX_free(dec_ctx);
    enc_ctx = dec_ctx = NULL;
}

static void ensure(void)
{
    if (moat_likely(enc_ctx != NULL))
        return;
    pthread_once(&once, fetch);
    enc_ctx = EVP_CIPHER_CTX_new();
    dec_ctx = EVP_CIPHER_CTX_new();
    if (!enc_ctx || !dec_ctx)
        moat_oom();
    if (!EVP_EncryptInit_ex2(enc_ctx, aes_gcm, NULL, NULL, NULL) ||
        !EVP_DecryptInit_ex2(dec_ctx, aes_gcm, NULL, NULL, NULL))
        abort();
    moat_thread_on_exit(release, NULL);
}

void kms_aes_gcm_seal(const uint8_t key[32], const uint8_t iv[12], struct moat_slice aad1,
                      struct moat_slice aad2, struct moat_slice plain, uint8_t *out,
                      uint8_t tag[16])
{
    ensure();
    int n;
    if (!EVP_EncryptInit_ex2(enc_ctx, NULL, key, iv, NULL))
        abort();
    if (aad1.len && !EVP_EncryptUpdate(enc_ctx, NULL, &n, aad1.ptr, (int)aad1.len))
        abort();
    if (aad2.len && !EVP_EncryptUpdate(enc_ctx, NULL, &n, aad2.ptr, (int)aad2.len))
        abort();
    if (plain.len && !EVP_EncryptUpdate(enc_ctx, out, &n, plain.ptr, (int)plain.len))
        abort();
    if (!EVP_EncryptFinal_ex(enc_ctx, out + plain.len, &n) ||
        !EVP_CIPHER_CTX_ctrl(enc_ctx, EVP_CTRL_GCM_GET_TAG, 16, tag))
        abort();
}

bool kms_aes_gcm_open(const uint8_t key[32], const uint8_t iv[12], struct moat_slice aad1,
                      struct moat_slice aad2, struct moat_slice ct, const uint8_t tag[16],
                      uint8_t *out)
{
    ensure();
    int n;
    if (!EVP_DecryptInit_ex2(dec_ctx, NULL, key, iv, NULL))
        abort();
    if (aad1.len && !EVP_DecryptUpdate(dec_ctx, NULL, &n, aad1.ptr, (int)aad1.len))
        return false;
    if (aad2.len && !EVP_DecryptUpdate(dec_ctx, NULL, &n, aad2.ptr, (int)aad2.len))
        return false;
    if (ct.len && !EVP_DecryptUpdate(dec_ctx, out, &n, ct.ptr, (int)ct.len))
        return false;
    if (!EVP_CIPHER_CTX_ctrl(dec_ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag))
        return false;
    if (EVP_DecryptFinal_ex(dec_ctx, out + ct.len, &n) <= 0) {
        OPENSSL_cleanse(out, ct.len);
        return false;
    }
    return true;
}

/* ---- keys ----------------------------------------------------------------------- */

/* PKCS#8 DER of a private key, in the arena and wiped with it. */
static bool private_der(struct moat_arena *a, EVP_PKEY *pkey, struct moat_slice *out)
{
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pkey);
    if (!p8)
        return false;
    int len = i2d_PKCS8_PRIV_KEY_INFO(p8, NULL);
    if (len <= 0) {
        PKCS8_PRIV_KEY_INFO_free(p8);
        return false;
    }
    uint8_t *buf = moat_arena_alloc(a, (size_t)len);
    moat_arena_wipe_on_free(a, buf, (size_t)len);
    uint8_t *p = buf;
    i2d_PKCS8_PRIV_KEY_INFO(p8, &p);
    PKCS8_PRIV_KEY_INFO_free(p8);
    *out = moat_slice(buf, (size_t)len);
    return true;
}

bool kms_crypto_generate(struct moat_arena *a, const struct kms_spec *spec,
                         struct moat_slice *secret)
{
    if (spec->family == KMS_FAMILY_AES || spec->family == KMS_FAMILY_HMAC) {
        size_t n = (size_t)spec->bits / 8;
        uint8_t *k = moat_arena_alloc(a, n);
        moat_arena_wipe_on_free(a, k, n);
        crypto_random(k, n);
        *secret = moat_slice(k, n);
        return true;
    }
    EVP_PKEY *pkey = NULL;
    if (spec->family == KMS_FAMILY_RSA)
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)spec->bits);
    else if (spec->family == KMS_FAMILY_ED)
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    else
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", spec->curve);
    if (!pkey)
        return false;
    bool ok = private_der(a, pkey, secret);
    EVP_PKEY_free(pkey);
    return ok;
}

EVP_PKEY *kms_crypto_load_private(struct moat_slice der)
{
    const uint8_t *p = der.ptr;
    PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)der.len);
    if (!p8)
        return NULL;
    EVP_PKEY *pkey = p == der.ptr + der.len ? EVP_PKCS82PKEY(p8) : NULL;
    PKCS8_PRIV_KEY_INFO_free(p8);
    return pkey;
}

struct moat_slice kms_crypto_public_der(struct moat_arena *a, EVP_PKEY *pkey)
{
    int len = i2d_PUBKEY(pkey, NULL);
    if (len <= 0)
        return MOAT_NULL_SLICE;
    uint8_t *buf = moat_arena_alloc(a, (size_t)len);
    uint8_t *p = buf;
    i2d_PUBKEY(pkey, &p);
    return moat_slice(buf, (size_t)len);
}

/* ---- signatures ------------------------------------------------------------------ */

const char *kms_sign_digest(struct moat_slice alg, size_t *len)
{
    if (moat_slice_ends_with(alg, MOAT_LIT("SHA_256"))) {
        *len = 32;
        return "SHA256";
    }
    if (moat_slice_ends_with(alg, MOAT_LIT("SHA_384"))) {
        *len = 48;
        return "SHA384";
    }
    if (moat_slice_ends_with(alg, MOAT_LIT("SHA_512"))) {
        *len = 64;
        return "SHA512";
    }
    return NULL;
}

static bool is_pss(struct moat_slice alg)
{
    return moat_slice_starts_with(alg, MOAT_LIT("RSASSA_PSS_"));
}

/* Sets RSA padding on a signing context (PSS: salt = digest length, MGF1 = digest). */
static bool set_rsa_padding(EVP_PKEY_CTX *pctx, struct moat_slice alg)
{
    if (!is_pss(alg))
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0;
}

bool kms_crypto_sign(struct moat_arena *a, EVP_PKEY *pkey, struct moat_slice alg, bool digest,
                     struct moat_slice msg, struct moat_slice *sig)
{
    size_t dlen = 0;
    const char *md = kms_sign_digest(alg, &dlen);
    bool ed = EVP_PKEY_is_a(pkey, "ED25519");
    bool rsa = EVP_PKEY_is_a(pkey, "RSA");
    size_t cap = (size_t)EVP_PKEY_get_size(pkey);
    uint8_t *out = moat_arena_alloc(a, cap ? cap : 1);
    size_t outlen = cap;
    bool ok = false;
    if (ed) {
        EVP_MD_CTX *mctx = EVP_MD_CTX_new();
        ok = mctx && EVP_DigestSignInit_ex(mctx, NULL, NULL, NULL, NULL, pkey, NULL) > 0 &&
             EVP_DigestSign(mctx, out, &outlen, msg.ptr, msg.len) > 0;
        EVP_MD_CTX_free(mctx);
    } else if (!digest) {
        EVP_MD_CTX *mctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        ok = mctx && EVP_DigestSignInit_ex(mctx, &pctx, md, NULL, NULL, pkey, NULL) > 0 &&
             (!rsa || set_rsa_padding(pctx, alg)) &&
             EVP_DigestSign(mctx, out, &outlen, msg.ptr, msg.len) > 0;
        EVP_MD_CTX_free(mctx);
    } else {
        EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        ok = pctx && EVP_PKEY_sign_init(pctx) > 0 &&
             EVP_PKEY_CTX_set_signature_md(pctx, EVP_get_digestbyname(md)) > 0 &&
             (!rsa || set_rsa_padding(pctx, alg)) &&
             EVP_PKEY_sign(pctx, out, &outlen, msg.ptr, msg.len) > 0;
        EVP_PKEY_CTX_free(pctx);
    }
    if (!ok)
        return false;
    *sig = moat_slice(out, outlen);
    return true;
}

bool kms_crypto_verify(EVP_PKEY *pkey, struct moat_slice alg, bool digest, struct moat_slice msg,
                       struct moat_slice sig)
{
    size_t dlen = 0;
    const char *md = kms_sign_digest(alg, &dlen);
    bool ed = EVP_PKEY_is_a(pkey, "ED25519");
    bool rsa = EVP_PKEY_is_a(pkey, "RSA");
    bool ok = false;
    if (ed || !digest) {
        EVP_MD_CTX *mctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        ok = mctx &&
             EVP_DigestVerifyInit_ex(mctx, &pctx, ed ? NULL : md, NULL, NULL, pkey, NULL) > 0 &&
             (!rsa || set_rsa_padding(pctx, alg)) &&
             EVP_DigestVerify(mctx, sig.ptr, sig.len, msg.ptr, msg.len) == 1;
        EVP_MD_CTX_free(mctx);
    } else {
        EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        ok = pctx && EVP_PKEY_verify_init(pctx) > 0 &&
             EVP_PKEY_CTX_set_signature_md(pctx, EVP_get_digestbyname(md)) > 0 &&
             (!rsa || set_rsa_padding(pctx, alg)) &&
             EVP_PKEY_verify(pctx, sig.ptr, sig.len, msg.ptr, msg.len) == 1;
        EVP_PKEY_CTX_free(pctx);
    }
    return ok;
}

/* ---- RSAES-OAEP ----------------------------------------------------------------- */

static const char *oaep_md(struct moat_slice alg)
{
    return moat_slice_ends_with(alg, MOAT_LIT("SHA_1")) ? "SHA1" : "SHA256";
}

size_t kms_crypto_oaep_max(EVP_PKEY *pkey, struct moat_slice alg)
{
    size_t k = (size_t)EVP_PKEY_get_size(pkey);
    size_t h = moat_slice_ends_with(alg, MOAT_LIT("SHA_1")) ? 20 : 32;
    return k > 2 * h + 2 ? k - 2 * h - 2 : 0;
}

static EVP_PKEY_CTX *oaep_ctx(EVP_PKEY *pkey, struct moat_slice alg, bool encrypt)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    const char *md = oaep_md(alg);
    if (!pctx || (encrypt ? EVP_PKEY_encrypt_init(pctx) : EVP_PKEY_decrypt_init(pctx)) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_get_digestbyname(md)) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_get_digestbyname(md)) <= 0) {
        EVP_PKEY_CTX_free(pctx);
        return NULL;
    }
    return pctx;
}

bool kms_crypto_rsa_encrypt(struct moat_arena *a, EVP_PKEY *pkey, struct moat_slice alg,
                            struct moat_slice plain, struct moat_slice *out)
{
    EVP_PKEY_CTX *pctx = oaep_ctx(pkey, alg, true);
    if (!pctx)
        return false;
    size_t len = (size_t)EVP_PKEY_get_size(pkey);
    uint8_t *buf = moat_arena_alloc(a, len);
    bool ok = EVP_PKEY_encrypt(pctx, buf, &len, plain.ptr, plain.len) > 0;
    EVP_PKEY_CTX_free(pctx);
    if (ok)
        *out = moat_slice(buf, len);
    return ok;
}

bool kms_crypto_rsa_decrypt(struct moat_arena *a, EVP_PKEY *pkey, struct moat_slice alg,
                            struct moat_slice ct, struct moat_slice *out)
{
    EVP_PKEY_CTX *pctx = oaep_ctx(pkey, alg, false);
    if (!pctx)
        return false;
    size_t len = (size_t)EVP_PKEY_get_size(pkey);
    uint8_t *buf = moat_arena_alloc(a, len);
    moat_arena_wipe_on_free(a, buf, len);
    bool ok = EVP_PKEY_decrypt(pctx, buf, &len, ct.ptr, ct.len) > 0;
    EVP_PKEY_CTX_free(pctx);
    if (ok)
        *out = moat_slice(buf, len);
    return ok;
}

/* ---- HMAC and ECDH ----------------------------------------------------------------- */

bool kms_crypto_hmac(struct moat_slice key, struct moat_slice alg, struct moat_slice msg,
                     uint8_t *out, size_t *out_len)
{
    const char *md = moat_slice_ends_with(alg, MOAT_LIT("224"))   ? "SHA224"
                     : moat_slice_ends_with(alg, MOAT_LIT("256")) ? "SHA256"
                     : moat_slice_ends_with(alg, MOAT_LIT("384")) ? "SHA384"
                                                                  : "SHA512";
    static const uint8_t empty = 0;
    return EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, key.ptr, key.len, msg.len ? msg.ptr : &empty,
                     msg.len, out, 64, out_len) != NULL;
}

bool kms_crypto_ecdh(struct moat_arena *a, EVP_PKEY *pkey, struct moat_slice peer_der,
                     struct moat_slice *secret)
{
    const uint8_t *p = peer_der.ptr;
    EVP_PKEY *peer = d2i_PUBKEY(NULL, &p, (long)peer_der.len);
    if (!peer)
        return false;
    bool ok = false;
    char g1[64] = "", g2[64] = "";
    size_t n;
    if (p == peer_der.ptr + peer_der.len && EVP_PKEY_is_a(peer, "EC") &&
        EVP_PKEY_get_group_name(pkey, g1, sizeof(g1), &n) &&
        EVP_PKEY_get_group_name(peer, g2, sizeof(g2), &n) && strcmp(g1, g2) == 0) {
        EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        size_t len = 0;
        if (pctx && EVP_PKEY_derive_init(pctx) > 0 && EVP_PKEY_derive_set_peer(pctx, peer) > 0 &&
            EVP_PKEY_derive(pctx, NULL, &len) > 0) {
            uint8_t *buf = moat_arena_alloc(a, len);
            moat_arena_wipe_on_free(a, buf, len);
            if (EVP_PKEY_derive(pctx, buf, &len) > 0) {
                *secret = moat_slice(buf, len);
                ok = true;
            }
        }
        EVP_PKEY_CTX_free(pctx);
    }
    EVP_PKEY_free(peer);
    return ok;
}

/* ---- imported key material ----------------------------------------------------------- */

/* RSA_AES_KEY_WRAP_SHA_*: RSAES-OAEP(ephemeral AES-256 key) || AES key wrap with padding
 * (RFC 5649) of the material. RSAES_OAEP_SHA_*: the material under RSAES-OAEP.
 * https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys-encrypt-key-material.html */
bool kms_crypto_unwrap_import(struct moat_arena *a, EVP_PKEY *wrapping, struct moat_slice alg,
                              struct moat_slice blob, struct moat_slice *material)
{
    size_t k = (size_t)EVP_PKEY_get_size(wrapping);
    bool key_wrap = moat_slice_starts_with(alg, MOAT_LIT("RSA_AES_KEY_WRAP_"));
    struct moat_slice oaep_alg =
        moat_slice_ends_with(alg, MOAT_LIT("SHA_1")) ? MOAT_LIT("SHA_1") : MOAT_LIT("SHA_256");
    if (!key_wrap)
        return blob.len == k && kms_crypto_rsa_decrypt(a, wrapping, oaep_alg, blob, material);
    if (blob.len <= k + 8)
        return false;
    struct moat_slice aes_key;
    if (!kms_crypto_rsa_decrypt(a, wrapping, oaep_alg, moat_slice(blob.ptr, k), &aes_key) ||
        aes_key.len != 32)
        return false;
    pthread_once(&once, fetch);
    struct moat_slice wrapped = moat_slice(blob.ptr + k, blob.len - k);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx)
        moat_oom();
    EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    uint8_t *out = moat_arena_alloc(a, wrapped.len + 16);
    moat_arena_wipe_on_free(a, out, wrapped.len + 16);
    int n = 0, m = 0;
    bool ok = EVP_DecryptInit_ex2(ctx, aes_wrap_pad, aes_key.ptr, NULL, NULL) > 0 &&
              EVP_DecryptUpdate(ctx, out, &n, wrapped.ptr, (int)wrapped.len) > 0 &&
              EVP_DecryptFinal_ex(ctx, out + n, &m) > 0;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok)
        return false;
    *material = moat_slice(out, (size_t)(n + m));
    return true;
}

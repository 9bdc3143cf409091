/* sigv4_crypto.c: the SHA-256 and HMAC-SHA256 primitives of SigV4 and the
 * per-thread cache of signing keys, each cached key kept loaded in its own MAC context. */
#include "aws/sigv4.h"

#include "core/log.h"
#include "core/thread.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

/* A small fixed table, no locks: a thread serves few distinct principals in
 * any given minute, and the same key serves every request of a day/region/service. */
#define KEY_CACHE_SLOTS 8
#define KEY_CACHE_SECRET_MAX 128
#define KEY_CACHE_NAME_MAX 48

struct key_slot {
    EVP_MAC_CTX *mac; /* initialised with `key`; NULL when the slot is empty */
    uint8_t key[32];
    uint8_t secret[KEY_CACHE_SECRET_MAX];
    uint8_t date[8];
    uint8_t region[KEY_CACHE_NAME_MAX];
    uint8_t service[KEY_CACHE_NAME_MAX];
    uint8_t secret_len, region_len, service_len;
};

struct crypto_thread {
    EVP_MD *sha256;
    EVP_MD_CTX *md;
    EVP_MAC *hmac;
    EVP_MAC_CTX *mac; /* scratch context, key set per use */
    struct key_slot slots[KEY_CACHE_SLOTS];
    unsigned next_victim;
};

static _Thread_local struct crypto_thread *thread_state;

/* Runs at thread exit (core/thread.h): frees the contexts and wipes the keys. */
static void crypto_thread_free(void *p)
{
    struct crypto_thread *t = p;
    if (!t)
        return;
    if (thread_state == t)
        thread_state = NULL;
    for (size_t i = 0; i < KEY_CACHE_SLOTS; i++)
        EVP_MAC_CTX_free(t->slots[i].mac);
    OPENSSL_cleanse(t->slots, sizeof(t->slots));
    EVP_MAC_CTX_free(t->mac);
    EVP_MAC_free(t->hmac);
    EVP_MD_CTX_free(t->md);
    EVP_MD_free(t->sha256);
    free(t);
}

/* A fresh HMAC context with the digest set, so later EVP_MAC_init calls need no parameters. */
static EVP_MAC_CTX *new_hmac_ctx(EVP_MAC *hmac)
{
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (ctx && !EVP_MAC_CTX_set_params(ctx, params)) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

/* The calling thread's state, created on first use; NULL if OpenSSL cannot
 * provide SHA-256 or HMAC (a broken provider configuration). */
static struct crypto_thread *crypto_thread(void)
{
    if (moat_likely(thread_state != NULL))
        return thread_state;
    struct crypto_thread *t = moat_xcalloc(1, sizeof(*t));
    t->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    t->md = EVP_MD_CTX_new();
    t->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    t->mac = t->hmac ? new_hmac_ctx(t->hmac) : NULL;
    if (!t->sha256 || !t->md || !t->hmac || !t->mac) {
        moat_log_error("sigv4: cannot fetch SHA256/HMAC-SHA256 from OpenSSL");
        crypto_thread_free(t);
        return NULL;
    }
    moat_thread_on_exit(crypto_thread_free, t);
    thread_state = t;
    return t;
}

static void hex_lower(const uint8_t *p, size_t n, char *out)
{
    static const char pairs[513] =
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
        "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
        "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
        "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
        "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
        "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
    for (size_t i = 0; i < n; i++)
        memcpy(out + 2 * i, pairs + 2 * p[i], 2);
    out[2 * n] = 0;
}

static bool sha256(struct crypto_thread *t, struct moat_slice msg, uint8_t out[32])
{
    unsigned int n = 0;
    return EVP_DigestInit_ex2(t->md, t->sha256, NULL) &&
           EVP_DigestUpdate(t->md, msg.ptr, msg.len) && EVP_DigestFinal_ex(t->md, out, &n) &&
           n == 32;
}

bool sigv4_sha256_hex(struct moat_slice msg, char out[65])
{
    struct crypto_thread *t = crypto_thread();
    uint8_t d[32];
    if (!t || !sha256(t, msg, d)) {
        memset(out, 0, 65);
        return false;
    }
    hex_lower(d, 32, out);
    return true;
}

/* MAC of msg with ctx; key == NULL re-uses the key already loaded in ctx. */
static bool mac_run(EVP_MAC_CTX *ctx, const uint8_t *key, size_t key_len, const void *msg,
                    size_t msg_len, uint8_t out[32])
{
    size_t n = 0;
    return EVP_MAC_init(ctx, key, key_len, NULL) && EVP_MAC_update(ctx, msg, msg_len) &&
           EVP_MAC_final(ctx, out, &n, 32) && n == 32;
}

static bool derive_key(struct crypto_thread *t, struct moat_slice secret, struct moat_slice date,
                       struct moat_slice region, struct moat_slice service, uint8_t out[32])
{
    uint8_t stack[4 + 256];
    size_t n = 4 + secret.len;
    uint8_t *k = n <= sizeof(stack) ? stack : moat_xmalloc(n);
    memcpy(k, "AWS4", 4);
    if (secret.len)
        memcpy(k + 4, secret.ptr, secret.len);
    bool ok = mac_run(t->mac, k, n, date.ptr, date.len, out) &&
              mac_run(t->mac, out, 32, region.ptr, region.len, out) &&
              mac_run(t->mac, out, 32, service.ptr, service.len, out) &&
              mac_run(t->mac, out, 32, "aws4_request", 12, out);
    OPENSSL_cleanse(k, n);
    if (k != stack)
        free(k);
    if (!ok)
        OPENSSL_cleanse(out, 32);
    return ok;
}

static bool slot_matches(const struct key_slot *s, struct moat_slice secret, struct moat_slice date,
                         struct moat_slice region, struct moat_slice service)
{
    return s->mac && s->secret_len == secret.len && s->region_len == region.len &&
           s->service_len == service.len && memcmp(s->date, date.ptr, 8) == 0 &&
           memcmp(s->region, region.ptr, region.len) == 0 &&
           memcmp(s->service, service.ptr, service.len) == 0 &&
           CRYPTO_memcmp(s->secret, secret.ptr, secret.len) == 0;
}

static bool cacheable(struct moat_slice secret, struct moat_slice date, struct moat_slice region,
                      struct moat_slice service)
{
    return secret.len <= KEY_CACHE_SECRET_MAX && date.len == 8 &&
           region.len <= KEY_CACHE_NAME_MAX && service.len <= KEY_CACHE_NAME_MAX;
}

/* The slot holding kSigning for these inputs, deriving it into a slot if
 * needed; NULL when the inputs are too long to cache or OpenSSL fails. */
static struct key_slot *lookup_slot(struct crypto_thread *t, struct moat_slice secret,
                                    struct moat_slice date, struct moat_slice region,
                                    struct moat_slice service)
{
    if (!cacheable(secret, date, region, service))
        return NULL;
    for (size_t i = 0; i < KEY_CACHE_SLOTS; i++) {
        if (slot_matches(&t->slots[i], secret, date, region, service))
            return &t->slots[i];
    }
    struct key_slot *s = &t->slots[t->next_victim];
    t->next_victim = (t->next_victim + 1) % KEY_CACHE_SLOTS;
    if (!s->mac) {
        s->mac = new_hmac_ctx(t->hmac);
        if (!s->mac)
            return NULL;
    }
    OPENSSL_cleanse(s->key, sizeof(s->key));
    OPENSSL_cleanse(s->secret, sizeof(s->secret));
    s->secret_len = 0;
    if (!derive_key(t, secret, date, region, service, s->key) ||
        !EVP_MAC_init(s->mac, s->key, 32, NULL)) {
        EVP_MAC_CTX_free(s->mac);
        s->mac = NULL;
        OPENSSL_cleanse(s->key, sizeof(s->key));
        return NULL;
    }
    if (secret.len)
        memcpy(s->secret, secret.ptr, secret.len);
    memcpy(s->date, date.ptr, 8);
    if (region.len)
        memcpy(s->region, region.ptr, region.len);
    if (service.len)
        memcpy(s->service, service.ptr, service.len);
    s->secret_len = (uint8_t)secret.len;
    s->region_len = (uint8_t)region.len;
    s->service_len = (uint8_t)service.len;
    return s;
}

bool sigv4_signing_key(struct moat_slice secret, struct moat_slice date, struct moat_slice region,
                       struct moat_slice service, uint8_t out[32])
{
    struct crypto_thread *t = crypto_thread();
    if (!t) {
        memset(out, 0, 32);
        return false;
    }
    struct key_slot *s = lookup_slot(t, secret, date, region, service);
    if (s) {
        memcpy(out, s->key, 32);
        return true;
    }
    if (derive_key(t, secret, date, region, service, out))
        return true;
    memset(out, 0, 32);
    return false;
}

bool sigv4_hmac_hex(const uint8_t key[32], struct moat_slice msg, char out[65])
{
    struct crypto_thread *t = crypto_thread();
    uint8_t d[32];
    if (!t || !mac_run(t->mac, key, 32, msg.ptr, msg.len, d)) {
        memset(out, 0, 65);
        return false;
    }
    hex_lower(d, 32, out);
    return true;
}

bool sigv4_sign_hex(struct moat_slice secret, struct moat_slice date, struct moat_slice region,
                    struct moat_slice service, struct moat_slice msg, char out[65])
{
    struct crypto_thread *t = crypto_thread();
    uint8_t d[32];
    if (!t)
        goto fail;
    struct key_slot *s = lookup_slot(t, secret, date, region, service);
    if (s) {
        if (!mac_run(s->mac, NULL, 0, msg.ptr, msg.len, d))
            goto fail;
    } else {
        uint8_t key[32];
        bool ok = derive_key(t, secret, date, region, service, key) &&
                  mac_run(t->mac, key, 32, msg.ptr, msg.len, d);
        OPENSSL_cleanse(key, sizeof(key));
        if (!ok)
            goto fail;
    }
    hex_lower(d, 32, out);
    return true;
fail:
    memset(out, 0, 65);
    return false;
}

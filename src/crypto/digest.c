/* digest.c: per-thread SHA-256 / HMAC contexts, fetched once per process and
 * released when their thread exits. */
#include "crypto/digest.h"

#include "core/thread.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>

static EVP_MD *sha256;
static EVP_MAC *hmac;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static __thread EVP_MD_CTX *md_ctx;
static __thread EVP_MAC_CTX *mac_ctx;

static void fetch(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!sha256 || !hmac)
        abort();
}

static void release(void *unused)
{
    EVP_MD_CTX_free(md_ctx);
    EVP_MAC_CTX_free(mac_ctx);
    md_ctx = NULL;
    mac_ctx = NULL;
}

static void ensure(void)
{
    pthread_once(&once, fetch);
    if (!md_ctx) {
        md_ctx = EVP_MD_CTX_new();
        mac_ctx = EVP_MAC_CTX_new(hmac);
        if (!md_ctx || !mac_ctx)
            moat_oom();
        moat_thread_on_exit(release, NULL);
    }
}

void crypto_sha256(const struct moat_slice *parts, size_t count, uint8_t out[32])
{
    ensure();
    unsigned int n = 32;
    if (!EVP_DigestInit_ex2(md_ctx, sha256, NULL))
        abort();
    for (size_t i = 0; i < count; i++)
        if (parts[i].len && !EVP_DigestUpdate(md_ctx, parts[i].ptr, parts[i].len))
            abort();
    if (!EVP_DigestFinal_ex(md_ctx, out, &n))
        abort();
}

void crypto_sha256_one(struct moat_slice in, uint8_t out[32])
{
    crypto_sha256(&in, 1, out);
}

void crypto_hmac_sha256(struct moat_slice key, const struct moat_slice *parts, size_t count,
                        uint8_t out[32])
{
    ensure();
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
                            OSSL_PARAM_construct_end()};
    size_t n = 32;
    static const uint8_t empty = 0;
    if (!EVP_MAC_init(mac_ctx, key.len ? key.ptr : &empty, key.len, params))
        abort();
    for (size_t i = 0; i < count; i++)
        if (parts[i].len && !EVP_MAC_update(mac_ctx, parts[i].ptr, parts[i].len))
            abort();
    if (!EVP_MAC_final(mac_ctx, out, &n, 32))
        abort();
}

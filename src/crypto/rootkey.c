/* rootkey.c: root key file handling and the AES-256-GCM envelope. One
 * cipher context per thread keeps the key schedule warm. */
#include "crypto/rootkey.h"

#include "core/log.h"
#include "core/thread.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROOTKEY_LEN 32
#define BLOB_VERSION 1
#define IV_LEN 12
#define TAG_LEN 16

struct rootkey {
    uint8_t key[ROOTKEY_LEN];
    uint64_t generation; /* distinguishes root keys in per-thread contexts */
};

static _Atomic uint64_t next_generation = 1;

struct thread_ctx {
    EVP_CIPHER_CTX *enc, *dec;
    uint64_t generation;
};
static __thread struct thread_ctx tctx;
static EVP_CIPHER *aes_gcm;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_cipher(void)
{
    aes_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (!aes_gcm)
        abort();
}

void crypto_random(void *out, size_t n)
{
    if (RAND_bytes(out, (int)n) != 1) {
        moat_log_error("RAND_bytes failed");
        abort();
    }
}

struct rootkey *rootkey_open(const char *path, bool create, char *errbuf, size_t errlen)
{
    struct rootkey *rk = moat_xcalloc(1, sizeof(*rk));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        crypto_random(rk->key, ROOTKEY_LEN);
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        int wfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (wfd < 0 || write(wfd, rk->key, ROOTKEY_LEN) != ROOTKEY_LEN || fsync(wfd) != 0) {
            snprintf(errbuf, errlen, "cannot write root key %s: %s", tmp, strerror(errno));
            if (wfd >= 0)
                close(wfd);
            goto fail;
        }
        close(wfd);
        if (rename(tmp, path) != 0) {
            snprintf(errbuf, errlen, "cannot create root key %s: %s", path, strerror(errno));
            goto fail;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        snprintf(errbuf, errlen, "cannot open root key %s: %s", path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size != ROOTKEY_LEN) {
        snprintf(errbuf, errlen, "root key %s must be exactly %d bytes", path, ROOTKEY_LEN);
        close(fd);
        goto fail;
    }
    if (st.st_mode & 077) {
        snprintf(errbuf, errlen, "root key %s must not be readable by group or others (mode %o)",
                 path, (unsigned)(st.st_mode & 0777));
        close(fd);
        goto fail;
    }
    ssize_t got = read(fd, rk->key, ROOTKEY_LEN);
    close(fd);
    if (got != ROOTKEY_LEN) {
        snprintf(errbuf, errlen, "cannot read root key %s", path);
        goto fail;
    }
    rk->generation = atomic_fetch_add(&next_generation, 1);
    pthread_once(&fetch_once, fetch_cipher);
    return rk;
fail:
    OPENSSL_cleanse(rk->key, ROOTKEY_LEN);
    free(rk);
    return NULL;
}

void rootkey_close(struct rootkey *rk)
{
    if (!rk)
        return;
    OPENSSL_cleanse(rk->key, ROOTKEY_LEN);
    free(rk);
}

static void free_ctx(void *unused)
{
    EVP_CIPHER_CTX_free(tctx.enc);
    EVP_CIPHER_CTX_free(tctx.dec);
    tctx.enc = tctx.dec = NULL;
}

static void ensure_ctx(struct rootkey *rk)
{
    if (tctx.enc && tctx.generation == rk->generation)
        return;
    if (!tctx.enc) {
        tctx.enc = EVP_CIPHER_CTX_new();
        tctx.dec = EVP_CIPHER_CTX_new();
        if (!tctx.enc || !tctx.dec)
            moat_oom();
        moat_thread_on_exit(free_ctx, NULL);
    }
    if (!EVP_EncryptInit_ex2(tctx.enc, aes_gcm, rk->key, NULL, NULL) ||
        !EVP_DecryptInit_ex2(tctx.dec, aes_gcm, rk->key, NULL, NULL))
        abort();
    tctx.generation = rk->generation;
}

struct moat_slice rootkey_seal(struct rootkey *rk, struct moat_arena *a, struct moat_slice aad,
                               struct moat_slice plaintext)
{
    ensure_ctx(rk);
    size_t n = 1 + IV_LEN + plaintext.len + TAG_LEN;
    uint8_t *blob = moat_arena_alloc(a, n);
    blob[0] = BLOB_VERSION;
    crypto_random(blob + 1, IV_LEN);
    int len = 0;
    if (!EVP_EncryptInit_ex2(tctx.enc, NULL, NULL, blob + 1, NULL) ||
        (aad.len && !EVP_EncryptUpdate(tctx.enc, NULL, &len, aad.ptr, (int)aad.len)) ||
        !EVP_EncryptUpdate(tctx.enc, blob + 1 + IV_LEN, &len, plaintext.ptr, (int)plaintext.len) ||
        !EVP_EncryptFinal_ex(tctx.enc, blob + 1 + IV_LEN + len, &len) ||
        !EVP_CIPHER_CTX_ctrl(tctx.enc, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
                             blob + 1 + IV_LEN + plaintext.len))
        abort();
    return moat_slice(blob, n);
}

bool rootkey_unseal(struct rootkey *rk, struct moat_arena *a, struct moat_slice aad,
                    struct moat_slice blob, struct moat_slice *plaintext)
{
    if (blob.len < 1 + IV_LEN + TAG_LEN || blob.ptr[0] != BLOB_VERSION)
        return false;
    ensure_ctx(rk);
    size_t ct_len = blob.len - 1 - IV_LEN - TAG_LEN;
    uint8_t *out = moat_arena_alloc(a, ct_len + 1);
    moat_arena_wipe_on_free(a, out, ct_len + 1);
    int len = 0;
    if (!EVP_DecryptInit_ex2(tctx.dec, NULL, NULL, blob.ptr + 1, NULL) ||
        (aad.len && !EVP_DecryptUpdate(tctx.dec, NULL, &len, aad.ptr, (int)aad.len)) ||
        !EVP_DecryptUpdate(tctx.dec, out, &len, blob.ptr + 1 + IV_LEN, (int)ct_len) ||
        !EVP_CIPHER_CTX_ctrl(tctx.dec, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
                             (void *)(blob.ptr + blob.len - TAG_LEN)))
        return false;
    int fin = 0;
    if (EVP_DecryptFinal_ex(tctx.dec, out + len, &fin) != 1) {
        OPENSSL_cleanse(out, ct_len);
        return false;
    }
    out[ct_len] = 0;
    *plaintext = moat_slice(out, ct_len);
    return true;
}

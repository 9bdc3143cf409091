/* http_tls.c: OpenSSL for the server side: the context, the SNI callback, the
 * tlsDetails of a connection and the self-signed certificate generator. */
#include "http/http_tls.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static void set_error(char *errbuf, size_t errlen, const char *what)
{
    char detail[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, detail, sizeof(detail));
    ERR_clear_error();
    snprintf(errbuf, errlen, "%s: %s", what, e ? detail : "unknown error");
}

/* Chooses the certificate for the server name the client asked for. moat has
 * one certificate today; per-name contexts (ACM-issued certificates, loaded
 * lazily) are switched in here with SSL_set_SSL_CTX. A client without SNI
 * gets the default. */
static int on_servername(SSL *ssl, int *alert, void *arg)
{
    SSL_CTX *chosen = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    MOAT_UNUSED(alert);
    if (name && SSL_get_SSL_CTX(ssl) != chosen)
        SSL_set_SSL_CTX(ssl, chosen);
    return SSL_TLSEXT_ERR_OK;
}

SSL_CTX *http_tls_ctx_new(const char *cert_file, const char *key_file, char *errbuf, size_t errlen)
{
    if (!cert_file || !key_file) {
        snprintf(errbuf, errlen, "TLS listener needs a certificate and a key file");
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        set_error(errbuf, errlen, "SSL_CTX_new");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* The loop retries writes from a buffer that may move, and in pieces. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"moat", 4);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        set_error(errbuf, errlen, cert_file);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        set_error(errbuf, errlen, key_file);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        set_error(errbuf, errlen, "certificate and key do not match");
        goto fail;
    }
    SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
    SSL_CTX_set_tlsext_servername_arg(ctx, ctx);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

void http_tls_info_fill(SSL *ssl, struct http_tls_info *info)
{
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    info->version = SSL_get_version(ssl);
    info->cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl));
    info->sni = moat_slice_cstr(sni);
}

static bool add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (!ext)
        return false;
    bool ok = X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/* A leaf that is its own trust anchor: CA:FALSE and no keyUsage, so strict
 * verifiers (Python's VERIFY_X509_STRICT) accept it when told to trust it. */
static X509 *make_cert(EVP_PKEY *key)
{
    X509 *x = X509_new();
    unsigned char serial[16];
    if (!x || RAND_bytes(serial, sizeof(serial)) != 1)
        goto fail;
    serial[0] &= 0x7f; /* positive */
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    if (!ok || X509_set_version(x, 2) != 1)
        goto fail;
    if (!X509_gmtime_adj(X509_getm_notBefore(x), -60) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), 3653, 0, NULL))
        goto fail;
    X509_NAME *name = X509_get_subject_name(x);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
                                   -1, 0) != 1 ||
        X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, key) != 1)
        goto fail;
    if (!add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(x, NID_ext_key_usage, "serverAuth") ||
        !add_ext(x, NID_subject_key_identifier, "hash") ||
        !add_ext(x, NID_authority_key_identifier, "keyid:always") ||
        !add_ext(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"))
        goto fail;
    if (X509_sign(x, key, EVP_sha256()) <= 0)
        goto fail;
    return x;
fail:
    X509_free(x);
    return NULL;
}

bool http_tls_make_self_signed(const char *cert_file, const char *key_file, char *errbuf,
                               size_t errlen)
{
    bool ok = false;
    FILE *kf = NULL, *cf = NULL;
    X509 *x = NULL;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (!key) {
        set_error(errbuf, errlen, "EC key generation");
        return false;
    }
    x = make_cert(key);
    if (!x) {
        set_error(errbuf, errlen, "certificate");
        goto out;
    }
    int fd = open(key_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) != 0 || !(kf = fdopen(fd, "w"))) {
        snprintf(errbuf, errlen, "%s: cannot write", key_file);
        if (fd >= 0)
            close(fd);
        goto out;
    }
    if (PEM_write_PrivateKey(kf, key, NULL, NULL, 0, NULL, NULL) != 1) {
        set_error(errbuf, errlen, key_file);
        goto out;
    }
    cf = fopen(cert_file, "w");
    if (!cf || PEM_write_X509(cf, x) != 1) {
        snprintf(errbuf, errlen, "%s: cannot write", cert_file);
        goto out;
    }
    ok = true;
out:
    if (kf && fclose(kf) != 0 && ok) {
        snprintf(errbuf, errlen, "%s: cannot write", key_file);
        ok = false;
    }
    if (cf && fclose(cf) != 0 && ok) {
        snprintf(errbuf, errlen, "%s: cannot write", cert_file);
        ok = false;
    }
    X509_free(x);
    EVP_PKEY_free(key);
    return ok;
}

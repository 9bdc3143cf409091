/* http_tls.h: the server's OpenSSL context (TLS 1.2+, the SNI hook where a
 * certificate is chosen per name) and what a handshake tells CloudTrail. */
#ifndef MOAT_HTTP_TLS_H
#define MOAT_HTTP_TLS_H

#include "http/http.h"

#include <openssl/ssl.h>

/* Loads the PEM chain and key; NULL with a reason in errbuf on failure. */
SSL_CTX *http_tls_ctx_new(const char *cert_file, const char *key_file, char *errbuf, size_t errlen);
/* Fills version, cipher and SNI of a connection whose handshake finished.
 * The strings belong to OpenSSL and live as long as the SSL object. */
void http_tls_info_fill(SSL *ssl, struct http_tls_info *info);

#endif

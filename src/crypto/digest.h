/* digest.h: SHA-256 and HMAC-SHA256 over scattered inputs with per-thread
 * contexts (OpenSSL's one-shot helpers fetch the algorithm on every call). */
#ifndef MOAT_DIGEST_H
#define MOAT_DIGEST_H

#include "core/slice.h"

void crypto_sha256(const struct moat_slice *parts, size_t count, uint8_t out[32]);
void crypto_sha256_one(struct moat_slice in, uint8_t out[32]);
void crypto_hmac_sha256(struct moat_slice key, const struct moat_slice *parts, size_t count,
                        uint8_t out[32]);

#endif

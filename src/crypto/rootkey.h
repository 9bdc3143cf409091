/* rootkey.h: the root key that encrypts every secret at rest (key material,
 * secret values, SecureString parameters, access-key secrets), and the
 * envelope format sealed under it. A file in the data directory by default. */
#ifndef MOAT_ROOTKEY_H
#define MOAT_ROOTKEY_H

#include "core/arena.h"

struct rootkey;

/* Loads data_dir/root.key, creating it (32 random bytes, mode 0600) if absent.
 * NULL with a reason in errbuf on failure (wrong size, bad permissions). */
struct rootkey *rootkey_open(const char *path, bool create, char *errbuf, size_t errlen);
void rootkey_close(struct rootkey *rk);

/* Seals plaintext with AES-256-GCM under the root key. `aad` binds the blob to
 * its purpose and owner (e.g. "iam/akid/AKIA..."): a blob moved elsewhere fails.
 * Blob: version(1) || iv(12) || ciphertext || tag(16), in the arena. */
struct moat_slice rootkey_seal(struct rootkey *rk, struct moat_arena *a, struct moat_slice aad,
                               struct moat_slice plaintext);
/* Opens a sealed blob. The plaintext lives in the arena and is wiped when the
 * arena is freed. False if the blob was altered or sealed for another aad. */
bool rootkey_unseal(struct rootkey *rk, struct moat_arena *a, struct moat_slice aad,
                    struct moat_slice blob, struct moat_slice *plaintext);

/* Random bytes from the OpenSSL DRBG; aborts if it fails (no entropy is fatal). */
void crypto_random(void *out, size_t n);

#endif

/* iam_totp.c: the time-based one-time passwords of virtual MFA devices (RFC 6238 over
 * RFC 4226: HMAC-SHA1, 30-second steps, 6 digits) and the base32 seed encoding
 * (RFC 4648) that authenticator apps read. */
#include "services/iam/iam.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

uint32_t iam_totp(struct moat_slice seed, int64_t step)
{
    uint8_t counter[8];
    for (int i = 7; i >= 0; i--) {
        counter[i] = (uint8_t)(step & 0xff);
        step >>= 8;
    }
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha1(), seed.ptr, (int)seed.len, counter, sizeof(counter), mac, &mac_len) ||
        mac_len < 20)
        return UINT32_MAX; /* matches no six-digit code */
    /* RFC 4226 section 5.3: dynamic truncation. */
    unsigned offset = mac[mac_len - 1] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[offset] & 0x7f) << 24) | ((uint32_t)mac[offset + 1] << 16) |
                   ((uint32_t)mac[offset + 2] << 8) | mac[offset + 3];
    OPENSSL_cleanse(mac, sizeof(mac));
    return bin % 1000000;
}

void iam_base32_encode(struct moat_buf *out, struct moat_slice in)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    uint32_t buffer = 0;
    int bits = 0;
    for (size_t i = 0; i < in.len; i++) {
        buffer = (buffer << 8) | in.ptr[i];
        bits += 8;
        while (bits >= 5) {
            moat_buf_append_u8(out, (uint8_t)alphabet[(buffer >> (bits - 5)) & 31]);
            bits -= 5;
        }
    }
    if (bits > 0)
        moat_buf_append_u8(out, (uint8_t)alphabet[(buffer << (5 - bits)) & 31]);
}

/* Parses a six-digit code; false for anything else. */
bool iam_totp_parse(struct moat_slice code, uint32_t *out)
{
    if (code.len != 6)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < 6; i++) {
        if (code.ptr[i] < '0' || code.ptr[i] > '9')
            return false;
        v = v * 10 + (uint32_t)(code.ptr[i] - '0');
    }
    *out = v;
    return true;
}

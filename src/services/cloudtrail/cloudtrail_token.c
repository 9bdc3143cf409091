/* cloudtrail_token.c: LookupEvents NextToken: the position of the last event a
 * page examined, sealed under the root key and bound to the query it pages. */
#include "services/cloudtrail/cloudtrail.h"

#include "core/encoding.h"
#include "crypto/rootkey.h"

#include <string.h>

#define TOKEN_VERSION 1
#define PAYLOAD_LEN 9                          /* version, seq (8 bytes, big-endian) */
#define SEALED_LEN (1 + 12 + PAYLOAD_LEN + 16) /* rootkey envelope around the payload */
#define TOKEN_MAX_TEXT 128

static struct moat_slice token_aad(struct moat_arena *a, struct moat_slice query)
{
    struct moat_buf b;
    moat_buf_init(&b, a, 64 + query.len);
    moat_buf_append_cstr(&b, "cloudtrail/lookup-events-token");
    moat_buf_append_u8(&b, 0);
    moat_buf_append(&b, query);
    return moat_buf_slice(&b);
}

void cloudtrail_token_encode(struct rootkey *rk, struct moat_arena *a, struct moat_slice query,
                             int64_t seq, struct moat_buf *out)
{
    uint8_t payload[PAYLOAD_LEN];
    payload[0] = TOKEN_VERSION;
    for (int i = 0; i < 8; i++)
        payload[1 + i] = (uint8_t)((uint64_t)seq >> (56 - 8 * i));
    struct moat_slice sealed =
        rootkey_seal(rk, a, token_aad(a, query), moat_slice(payload, sizeof(payload)));
    moat_base64url_encode(out, sealed);
}

bool cloudtrail_token_decode(struct rootkey *rk, struct moat_arena *a, struct moat_slice query,
                             struct moat_slice token, int64_t *seq)
{
    *seq = 0;
    if (token.len == 0 || token.len > TOKEN_MAX_TEXT)
        return false;
    struct moat_slice sealed, payload;
    if (!moat_base64url_decode(a, token, &sealed) || sealed.len != SEALED_LEN)
        return false;
    if (!rootkey_unseal(rk, a, token_aad(a, query), sealed, &payload) ||
        payload.len != PAYLOAD_LEN || payload.ptr[0] != TOKEN_VERSION)
        return false;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | payload.ptr[1 + i];
    if (v == 0 || v > (uint64_t)INT64_MAX)
        return false;
    *seq = (int64_t)v;
    return true;
}

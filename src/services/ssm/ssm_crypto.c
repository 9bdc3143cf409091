/* ssm_crypto.c: sealing and opening SecureString values. */
#include "services/ssm/ssm.h"

#include "core/buf.h"
#include "core/encoding.h"
#include "crypto/rootkey.h"
#include "server/server.h"

static struct moat_slice seal_aad(struct moat_arena *a, const char *arn)
{
    return moat_slice_cstr(moat_arena_printf(a, "ssm/parameter/%s", arn));
}

struct moat_error *ssm_seal_value(struct moat_call *call, const char *arn, struct ssm_param *p,
                                  struct moat_slice value)
{
    struct moat_slice blob =
        rootkey_seal(call->server->rootkey, call->arena, seal_aad(call->arena, arn), value);
    struct moat_buf b;
    moat_buf_init(&b, call->arena, blob.len * 4 / 3 + 8);
    moat_base64_encode(&b, blob);
    p->value = moat_buf_slice(&b);
    p->seal = SSM_SEAL_KMS;
    return NULL;
}

struct moat_error *ssm_unseal_value(struct moat_call *call, const char *arn,
                                    const struct ssm_param *p, struct moat_slice *plain)
{
    struct moat_slice blob;
    if (!moat_base64_decode(call->arena, p->value, &blob) ||
        !rootkey_unseal(call->server->rootkey, call->arena, seal_aad(call->arena, arn), blob,
                        plain))
        return moat_internal(call, "ssm: SecureString value does not open");
    return NULL;
}

/* sm_crypto.c: secret values at rest. Each version's value is stored encrypted in
 * SM_NS_VALUE; plaintext lives only in the call's arena and is wiped with it. */
#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "crypto/rootkey.h"
#include "server/server.h"
#include "services/secretsmanager/sm.h"
#include "store/store.h"

static struct moat_slice value_aad(struct moat_arena *a, const struct sm_secret *s,
                                   struct moat_slice vid)
{
    return moat_slice_cstr(
        moat_arena_printf(a, "secretsmanager/value/%s/%.*s", s->arn, MOAT_FMT(vid)));
}

struct moat_error *sm_value_put(struct moat_call *call, struct sm_secret *s,
                                struct sm_version *v, struct moat_slice plaintext, bool binary)
{
    struct moat_arena *a = call->arena;
    struct moat_slice sealed =
        rootkey_seal(call->server->rootkey, a, value_aad(a, s, v->id), plaintext);
    struct moat_buf b;
    moat_buf_init(&b, a, sealed.len * 4 / 3 + 64);
    moat_buf_printf(&b, "{\"Binary\":%s,\"Sealed\":\"", binary ? "true" : "false");
    moat_base64_encode(&b, sealed);
    moat_buf_append_cstr(&b, "\"}");
    if (store_put(call->db, SM_NS_VALUE, moat_slice_cstr(sm_value_key(a, s, v->id)),
                  moat_buf_slice(&b), STORE_ANY_VERSION, NULL) != STORE_OK)
        return moat_internal(call, "secretsmanager: writing a value failed");
    v->key_arn = MOAT_NULL_SLICE;
    return NULL;
}

struct moat_error *sm_value_get(struct moat_call *call, const struct sm_secret *s,
                                const struct sm_version *v, struct moat_slice *plaintext,
                                bool *binary)
{
    struct moat_arena *a = call->arena;
    struct store_record r;
    enum store_status st = store_get(call->db, a, SM_NS_VALUE,
                                     moat_slice_cstr(sm_value_key(a, s, v->id)), &r);
    if (st == STORE_NOT_FOUND)
        return moat_fail(call, &sm_not_found,
                         "Secrets Manager can't find the specified secret value for VersionId: "
                         "%.*s",
                         MOAT_FMT(v->id));
    if (st != STORE_OK)
        return moat_internal(call, "secretsmanager: reading a value failed");
    struct moat_value *doc;
    struct moat_slice sealed;
    if (!moat_json_parse(a, r.value, 0, &doc, NULL) ||
        !moat_base64_decode(a, moat_map_str(doc, "Sealed"), &sealed))
        return moat_internal(call, "secretsmanager: a value record does not parse");
    if (!rootkey_unseal(call->server->rootkey, a, value_aad(a, s, v->id), sealed, plaintext))
        return moat_fail(call, &sm_decryption_failure,
                         "Secrets Manager can't decrypt the protected secret text using the "
                         "provided KMS key.");
    *binary = moat_map_bool(doc, "Binary", false);
    return NULL;
}

struct moat_error *sm_value_rewrap(struct moat_call *call, struct sm_secret *s,
                                   struct sm_version *v, struct moat_slice new_key)
{
    MOAT_UNUSED(call);
    MOAT_UNUSED(s);
    MOAT_UNUSED(v);
    MOAT_UNUSED(new_key);
    return NULL;
}

struct moat_error *sm_value_copy(struct moat_call *call, const struct sm_secret *from,
                                 const struct sm_version *v, struct sm_secret *to,
                                 struct sm_version *to_v)
{
    struct moat_slice plain;
    bool binary;
    struct moat_error *err = sm_value_get(call, from, v, &plain, &binary);
    if (err)
        return err;
    return sm_value_put(call, to, to_v, plain, binary);
}

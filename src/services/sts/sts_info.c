/* sts_info.c: GetAccessKeyInfo and the encoded authorization messages that
 * DecodeAuthorizationMessage opens.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html */
#include "auth/auth.h"
#include "aws/shapes/shapes_sts.h"
#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "crypto/rootkey.h"
#include "iam/iam_context.h"
#include "server/server.h"
#include "services/sts/sts.h"

#include <string.h>

/* https://docs.aws.amazon.com/STS/latest/APIReference/API_GetAccessKeyInfo.html */
struct moat_error *sts_get_access_key_info(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out)
{
    struct moat_slice id = moat_get_str(in, STS_GET_ACCESS_KEY_INFO_REQUEST_ACCESS_KEY_ID);
    const char *ns =
        moat_slice_starts_with(id, MOAT_LIT("ASIA")) ? AUTH_NS_SESSION : AUTH_NS_ACCESS_KEY;
    struct store_record r;
    struct moat_value *rec;
    enum store_status st = store_get(call->db, call->arena, ns, id, &r);
    if (st == STORE_NOT_FOUND)
        return moat_fail(call, &sts_validation_error,
                         "The access key ID %.*s does not belong to any account.", MOAT_FMT(id));
    if (st != STORE_OK || !moat_json_parse(call->arena, r.value, 0, &rec, NULL))
        return moat_internal(call, "access key read failed");
    moat_set_str(call->arena, out, STS_GET_ACCESS_KEY_INFO_RESPONSE_ACCOUNT,
                 moat_map_str(rec, "AccountId"));
    return NULL;
}

/* ---- encoded authorization messages ------------------------------------------------------ */

static struct moat_slice message_aad(struct moat_arena *a, struct moat_slice account)
{
    return moat_slice_cstr(
        moat_arena_printf(a, "sts/authorization-message/%.*s", MOAT_FMT(account)));
}

static void items_open(struct moat_buf *b, const char *name)
{
    moat_buf_printf(b, "\"%s\":{\"items\":[", name);
}

/* The layout DecodeAuthorizationMessage returns on AWS: allowed, explicitDeny,
 * matchedStatements, failures and the request context (principal, action, resource,
 * conditions). */
struct moat_slice sts_encode_authorization_message(struct moat_call *call, const char *action,
                                                   const char *resource,
                                                   const struct iam_eval_result *result,
                                                   const struct iam_eval_trace *trace)
{
    struct moat_arena *a = call->arena;
    const struct iam_principal *p = call->principal;
    struct moat_buf b;
    moat_buf_init(&b, a, 1024);
    moat_buf_printf(&b, "{\"allowed\":%s,\"explicitDeny\":%s,",
                    result->decision == IAM_DECISION_ALLOW ? "true" : "false",
                    result->decision == IAM_DECISION_EXPLICIT_DENY ? "true" : "false");
    items_open(&b, "matchedStatements");
    size_t n = trace ? MOAT_MIN(trace->matched_count, trace->matched_cap) : 0;
    for (size_t i = 0; i < n; i++) {
        const struct iam_matched_statement *m = &trace->matched[i];
        struct iam_statement_info info;
        if (!iam_policy_statement_info(m->policy, m->statement_index, &info))
            continue;
        moat_buf_append_cstr(&b, i ? ",{\"statementId\":" : "{\"statementId\":");
        moat_json_write_string(&b, info.sid);
        moat_buf_printf(&b, ",\"effect\":\"%s\",\"policyType\":\"%s\"}",
                        info.allow ? "ALLOW" : "DENY", iam_policy_type_name(m->type));
    }
    moat_buf_append_cstr(&b, "]},");
    items_open(&b, "failures");
    moat_buf_append_cstr(&b, "]},\"context\":{\"principal\":{\"id\":");
    moat_json_write_string(&b, p->principal_id);
    if (p->name.len) {
        moat_buf_append_cstr(&b, ",\"name\":");
        moat_json_write_string(&b, p->name);
    }
    moat_buf_append_cstr(&b, ",\"arn\":");
    moat_json_write_string(&b, p->arn);
    moat_buf_append_cstr(&b, "},\"action\":");
    moat_json_write_string(&b, moat_slice_cstr(action));
    moat_buf_append_cstr(&b, ",\"resource\":");
    moat_json_write_string(&b, moat_slice_cstr(resource ? resource : "*"));
    moat_buf_append_u8(&b, ',');
    items_open(&b, "conditions");
    const struct iam_context *ctx = call->authz.context;
    for (size_t i = 0; ctx && i < ctx->count; i++) {
        const struct iam_context_entry *e = &ctx->entries[i];
        moat_buf_append_cstr(&b, i ? ",{\"key\":\"" : "{\"key\":\"");
        moat_buf_append_json_escaped(&b, e->key_prefix);
        moat_buf_append_json_escaped(&b, e->key_suffix);
        moat_buf_append_cstr(&b, "\",\"values\":{\"items\":[");
        const struct moat_slice *v = iam_context_entry_values(e);
        for (uint32_t j = 0; j < e->count; j++) {
            moat_buf_append_cstr(&b, j ? ",{\"value\":" : "{\"value\":");
            moat_json_write_string(&b, v[j]);
            moat_buf_append_u8(&b, '}');
        }
        moat_buf_append_cstr(&b, "]}}");
    }
    moat_buf_append_cstr(&b, "]}}}");
    struct moat_slice sealed =
        rootkey_seal(call->server->rootkey, a, message_aad(a, p->account_id), moat_buf_slice(&b));
    struct moat_buf enc;
    moat_buf_init(&enc, a, sealed.len * 2);
    moat_base64url_encode(&enc, sealed);
    return moat_buf_slice(&enc);
}

/* Only the account the message was made for can open it (the root key seals it with the
 * account as associated data). */
struct moat_error *sts_decode_authorization_message(struct moat_call *call,
                                                    const struct moat_value *in,
                                                    struct moat_value *out)
{
    struct moat_slice enc =
        moat_get_str(in, STS_DECODE_AUTHORIZATION_MESSAGE_REQUEST_ENCODED_MESSAGE);
    struct moat_slice sealed, json;
    if (!moat_base64url_decode(call->arena, enc, &sealed) ||
        !rootkey_unseal(call->server->rootkey, call->arena,
                        message_aad(call->arena, moat_slice_cstr(call->account_id)), sealed, &json))
        return moat_fail(call, &sts_invalid_authorization_message,
                         "The encoded authorization message is not valid or was not issued to "
                         "this account.");
    moat_set_str(call->arena, out, STS_DECODE_AUTHORIZATION_MESSAGE_RESPONSE_DECODED_MESSAGE, json);
    return NULL;
}

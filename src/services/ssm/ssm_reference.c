/* ssm_reference.c: /aws/reference/secretsmanager/<secret-id>[:stage-or-version], a secret
 * read through Parameter Store. Parameter Store keeps nothing: it calls Secrets Manager
 * GetSecretValue on the caller's behalf, so the secret's own policies apply.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/integration-ps-secretsmanager.html
 */
#include "services/ssm/ssm.h"

#include "aws/shapes/shapes_secretsmanager.h"
#include "aws/shapes/shapes_ssm.h"
#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "services/registry.h"

#include <string.h>

#define PREFIX "/aws/reference/secretsmanager/"

bool ssm_is_secret_reference(struct moat_slice name)
{
    return moat_slice_starts_with(name, MOAT_LIT(PREFIX));
}

static bool uuid_like(struct moat_slice s)
{
    if (s.len != 36)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-'
                 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* Splits "<id>[:selector]"; a secret ARN has six colons of its own. */
static void split_selector(struct moat_slice id, struct moat_slice *secret,
                           struct moat_slice *selector)
{
    size_t colons = 0, skip = moat_slice_starts_with(id, MOAT_LIT("arn:")) ? 6 : 0;
    *secret = id;
    *selector = MOAT_NULL_SLICE;
    for (size_t i = 0; i < id.len; i++) {
        if (id.ptr[i] != ':')
            continue;
        if (colons++ == skip) {
            *secret = moat_slice_sub(id, 0, i);
            *selector = moat_slice_sub(id, i, id.len);
            return;
        }
    }
}

struct moat_error *ssm_get_secret_reference(struct moat_call *call, struct moat_slice name,
                                            struct moat_value *param)
{
    struct moat_arena *a = call->arena;
    struct moat_slice id = moat_slice_sub(name, strlen(PREFIX), name.len), secret, selector;
    split_selector(id, &secret, &selector);
    if (!secret.len)
        return moat_fail(call, &ssm_parameter_not_found, "Parameter %.*s not found.",
                         MOAT_FMT(name));
    if (!registry_by_signing_name(MOAT_LIT("secretsmanager")))
        return moat_fail(call, &ssm_validation,
                         "Secrets Manager references are not available: this endpoint does not "
                         "run Secrets Manager.");
    struct moat_value *in = moat_call_internal_input(call, "secretsmanager", "GetSecretValue");
    moat_set_str(a, in, SECRETSMANAGER_GET_SECRET_VALUE_REQUEST_SECRET_ID, secret);
    if (selector.len > 1) {
        struct moat_slice word = moat_slice_sub(selector, 1, selector.len);
        moat_set_str(a, in,
                     uuid_like(word) ? SECRETSMANAGER_GET_SECRET_VALUE_REQUEST_VERSION_ID
                                     : SECRETSMANAGER_GET_SECRET_VALUE_REQUEST_VERSION_STAGE,
                     word);
    }
    struct moat_call *child = moat_call_internal(call, "secretsmanager", "GetSecretValue", in);
    if (child->error) {
        const char *code = child->error->kind->code;
        if (!strcmp(code, "ResourceNotFoundException"))
            return moat_fail(call, &ssm_parameter_not_found,
                             "An error occurred (ParameterNotFound) when referencing Secrets "
                             "Manager: Secret %.*s not found.",
                             MOAT_FMT(name));
        if (!strcmp(code, "AccessDeniedException"))
            return moat_fail(call, &ssm_access_denied, "%.*s", MOAT_FMT(child->error->message));
        if (child->error->kind->http_status >= 500)
            return moat_fail(call, &ssm_internal_error,
                             "An error occurred when referencing Secrets Manager (%s).", code);
        return moat_fail(call, &ssm_validation,
                         "An error occurred (%s) when referencing Secrets Manager: %.*s", code,
                         MOAT_FMT(child->error->message));
    }
    const struct moat_value *o = child->output;
    struct moat_value *s = moat_get(o, SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_SECRET_STRING),
                      *b = moat_get(o, SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_SECRET_BINARY),
                      *arn = moat_get(o, SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_ARN),
                      *sname = moat_get(o, SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_NAME),
                      *vid = moat_get(o, SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_VERSION_ID),
                      *stages =
                          moat_get(o, SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_VERSION_STAGES),
                      *created = moat_get(o, SECRETSMANAGER_GET_SECRET_VALUE_RESPONSE_CREATED_DATE);
    struct moat_slice value = MOAT_NULL_SLICE;
    struct moat_buf bin;
    if (s && s->type == MOAT_V_STRING) {
        value = s->u.s;
    } else if (b && (b->type == MOAT_V_BLOB || b->type == MOAT_V_STRING)) {
        moat_buf_init(&bin, a, b->u.s.len * 4 / 3 + 8);
        moat_base64_encode(&bin, b->u.s);
        value = moat_buf_slice(&bin);
    }
    /* SourceResult: what Secrets Manager answered, as JSON. */
    struct moat_buf src;
    /* Sized so that it never grows: a grown buffer would leave an unwiped copy behind. */
    moat_buf_init(&src, a, 1024 + 12 * value.len);
    moat_buf_append_u8(&src, '{');
    bool first = true;
    const char *keys[] = {"ARN", "Name", "VersionId", "SecretString"};
    struct moat_value *vals[] = {arn, sname, vid, s};
    for (size_t i = 0; i < MOAT_COUNT(keys); i++) {
        if (!vals[i] || vals[i]->type != MOAT_V_STRING)
            continue;
        moat_buf_printf(&src, "%s\"%s\":", first ? "" : ",", keys[i]);
        moat_json_write_string(&src, vals[i]->u.s);
        first = false;
    }
    if (b && !s) {
        moat_buf_printf(&src, "%s\"SecretBinary\":", first ? "" : ",");
        moat_json_write_string(&src, value);
        first = false;
    }
    if (stages && stages->type == MOAT_V_LIST) {
        moat_buf_printf(&src, "%s\"VersionStages\":[", first ? "" : ",");
        for (uint32_t i = 0; i < stages->count; i++) {
            if (i)
                moat_buf_append_u8(&src, ',');
            moat_json_write_string(&src, stages->u.items[i]->u.s);
        }
        moat_buf_append_u8(&src, ']');
        first = false;
    }
    if (created && created->type == MOAT_V_TIMESTAMP) {
        moat_buf_printf(&src, "%s\"CreatedDate\":", first ? "" : ",");
        moat_json_write_double(&src, (double)created->u.ts_ms / 1000.0);
    }
    moat_buf_append_u8(&src, '}');
    /* The SecretString inside SourceResult is as secret as Value: wipe both with the call. */
    moat_arena_wipe_on_free(a, src.ptr, src.len);

    moat_set_str(a, param, SSM_PARAMETER_NAME,
                 name.len > selector.len ? moat_slice_sub(name, 0, name.len - selector.len) : name);
    moat_set_cstr(a, param, SSM_PARAMETER_TYPE, "SecureString");
    moat_set_str(a, param, SSM_PARAMETER_VALUE, value);
    moat_set_int(a, param, SSM_PARAMETER_VERSION, 0);
    if (selector.len)
        moat_set_str(a, param, SSM_PARAMETER_SELECTOR, selector);
    moat_set_str(a, param, SSM_PARAMETER_SOURCE_RESULT, moat_buf_slice(&src));
    if (created && created->type == MOAT_V_TIMESTAMP)
        moat_set_ts(a, param, SSM_PARAMETER_LAST_MODIFIED_DATE, created->u.ts_ms);
    if (arn && arn->type == MOAT_V_STRING)
        moat_set_str(a, param, SSM_PARAMETER_ARN, arn->u.s);
    moat_set_cstr(a, param, SSM_PARAMETER_DATA_TYPE, "text");
    return NULL;
}

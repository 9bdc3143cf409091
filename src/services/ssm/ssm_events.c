/* ssm_events.c: the events Parameter Store sends to EventBridge ("Parameter Store
 * Change", "Parameter Store Policy Action"), written in AWS's envelope to the
 * events/pending namespace, in the same transaction as the change, for an event bus
 * to drain. Key: "<time ms, 16 digits>/<event id>"; value: the event JSON.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-cwe.html */
#include "services/ssm/ssm.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "crypto/rootkey.h"
#include "store/store.h"

#include <stdio.h>

static void uuid4(char out[37])
{
    uint8_t r[16];
    crypto_random(r, sizeof(r));
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
}

static void field(struct moat_buf *b, const char *k, struct moat_slice v)
{
    moat_buf_append_u8(b, ',');
    moat_json_write_string(b, moat_slice_cstr(k));
    moat_buf_append_u8(b, ':');
    moat_json_write_string(b, v);
}

/* Opens the envelope up to "detail":{ and returns the event id. */
static const char *envelope(struct moat_call *call, struct moat_buf *b, const char *account,
                            const char *region, const char *detail_type, const char *arn)
{
    char *id = moat_arena_alloc(call->arena, 37);
    uuid4(id);
    char when[32];
    moat_time_format_iso8601(call->now_ms / 1000, when);
    moat_buf_append_cstr(b, "{\"version\":\"0\"");
    field(b, "id", moat_slice_cstr(id));
    field(b, "detail-type", moat_slice_cstr(detail_type));
    field(b, "source", MOAT_LIT("aws.ssm"));
    field(b, "account", moat_slice_cstr(account));
    field(b, "time", moat_slice_cstr(when));
    field(b, "region", moat_slice_cstr(region));
    moat_buf_append_cstr(b, ",\"resources\":[");
    moat_json_write_string(b, moat_slice_cstr(arn));
    moat_buf_append_cstr(b, "],\"detail\":{");
    return id;
}

static struct moat_error *put_event(struct moat_call *call, const char *id, struct moat_buf *b)
{
    moat_buf_append_cstr(b, "}}");
    char *key = moat_arena_printf(call->arena, "%016lld/%s", (long long)call->now_ms, id);
    if (store_put(call->db, SSM_NS_EVENTS, moat_slice_cstr(key), moat_buf_slice(b),
                  STORE_MUST_NOT_EXIST, NULL) != STORE_OK)
        return moat_internal(call, "ssm: event write failed");
    return NULL;
}

struct moat_error *ssm_event_change(struct moat_call *call, const char *account, const char *region,
                                    const struct ssm_param *p, const char *operation)
{
    struct moat_buf b;
    moat_buf_init(&b, call->arena, 512);
    const char *arn = ssm_arn(call->arena, region, account, p->key);
    const char *id = envelope(call, &b, account, region, "Parameter Store Change", arn);
    moat_buf_append_cstr(&b, "\"operation\":");
    moat_json_write_string(&b, moat_slice_cstr(operation));
    field(&b, "name", p->name);
    field(&b, "type", moat_slice_cstr(ssm_type_name(p->type)));
    if (p->has_description)
        field(&b, "description", p->description);
    return put_event(call, id, &b);
}

struct moat_error *ssm_event_policy(struct moat_call *call, const char *account, const char *region,
                                    const struct ssm_param *p,
                                    const struct ssm_stored_policy *policy, const char *status,
                                    const char *reason)
{
    struct moat_buf b;
    moat_buf_init(&b, call->arena, 512);
    const char *arn = ssm_arn(call->arena, region, account, p->key);
    const char *id = envelope(call, &b, account, region, "Parameter Store Policy Action", arn);
    moat_buf_append_cstr(&b, "\"policy-type\":");
    moat_json_write_string(&b, policy->type);
    field(&b, "parameter-name", p->name);
    field(&b, "parameter-type", moat_slice_cstr(ssm_type_name(p->type)));
    field(&b, "policy-content", policy->text);
    field(&b, "action-status", moat_slice_cstr(status));
    field(&b, "action-reason", moat_slice_cstr(reason));
    return put_event(call, id, &b);
}

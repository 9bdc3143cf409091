/* audit_record.c: builds a call's CloudTrail record (eventVersion 1.11) in
 * AWS's field order, with the userIdentity shape of its principal.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html */
#include "audit/audit.h"

#include "aws/validate.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "core/json.h"
#include "crypto/digest.h"
#include "crypto/rootkey.h"
#include "http/http.h"
#include "iam/iam_principal.h"
#include "services/service.h"

#include <stdio.h>
#include <string.h>

static void key(struct moat_buf *b, bool *first, const char *name)
{
    if (!*first)
        moat_buf_append_u8(b, ',');
    *first = false;
    moat_json_write_string(b, moat_slice_cstr(name));
    moat_buf_append_u8(b, ':');
}

static void kv_str(struct moat_buf *b, bool *first, const char *name, struct moat_slice v)
{
    key(b, first, name);
    moat_json_write_string(b, v);
}

static void kv_cstr(struct moat_buf *b, bool *first, const char *name, const char *v)
{
    kv_str(b, first, name, moat_slice_cstr(v ? v : ""));
}

/* CloudTrail writes Java's Date.toString-like "Nov 28, 2026 1:50:03 PM" for
 * timestamps inside responseElements. */
static void java_date(struct moat_buf *b, int64_t ms)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char iso[32];
    moat_time_format_iso8601(ms / 1000, iso); /* YYYY-MM-DDTHH:MM:SSZ */
    int y, mo, d, h, mi, s;
    if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi, &s) != 6)
        return;
    int h12 = h % 12 == 0 ? 12 : h % 12;
    moat_buf_printf(b, "\"%s %d, %d %d:%02d:%02d %s\"", months[mo - 1], d, y, h12, mi, s,
                    h < 12 ? "AM" : "PM");
}

static void write_logged(struct moat_buf *b, const struct moat_shape *shape,
                         const struct moat_value *v);

static bool loggable(const struct moat_shape *shape, const struct moat_value *v)
{
    if (!v || v->type == MOAT_V_NULL)
        return false;
    if (shape && (shape->flags & MOAT_SHAPE_SENSITIVE))
        return false;
    /* Binary members (ciphertexts, plaintexts, key blobs) are not logged. */
    if (v->type == MOAT_V_BLOB || (shape && shape->type == MOAT_SHAPE_BLOB))
        return false;
    return true;
}

static void write_struct_logged(struct moat_buf *b, const struct moat_shape *shape,
                                const struct moat_value *v)
{
    moat_buf_append_u8(b, '{');
    bool first = true;
    for (unsigned i = 0; shape && i < shape->count && i < v->count; i++) {
        const struct moat_member *m = &shape->members[i];
        if (!loggable(m->shape, v->u.members[i]))
            continue;
        if (!first)
            moat_buf_append_u8(b, ',');
        first = false;
        struct moat_buf name;
        moat_buf_init(&name, NULL, 32);
        aws_lower_camel(&name, m->name);
        moat_json_write_string(b, moat_buf_slice(&name));
        moat_buf_release(&name);
        moat_buf_append_u8(b, ':');
        write_logged(b, m->shape, v->u.members[i]);
    }
    moat_buf_append_u8(b, '}');
}

static void write_logged(struct moat_buf *b, const struct moat_shape *shape,
                         const struct moat_value *v)
{
    switch (v->type) {
    case MOAT_V_STRUCT:
        write_struct_logged(b, shape, v);
        return;
    case MOAT_V_LIST:
        moat_buf_append_u8(b, '[');
        for (uint32_t i = 0; i < v->count; i++) {
            if (i)
                moat_buf_append_u8(b, ',');
            write_logged(b, shape ? shape->item : NULL, v->u.items[i]);
        }
        moat_buf_append_u8(b, ']');
        return;
    case MOAT_V_MAP:
        moat_buf_append_u8(b, '{');
        for (uint32_t i = 0; i < v->count; i++) {
            if (i)
                moat_buf_append_u8(b, ',');
            moat_json_write_string(b, v->u.entries[i].key);
            moat_buf_append_u8(b, ':');
            write_logged(b, shape ? shape->item : NULL, v->u.entries[i].value);
        }
        moat_buf_append_u8(b, '}');
        return;
    case MOAT_V_TIMESTAMP:
        java_date(b, v->u.ts_ms);
        return;
    default:
        moat_json_write(b, v);
    }
}

static void user_identity(struct moat_buf *b, const struct moat_call *call)
{
    const struct iam_principal *p = call->principal;
    bool first = true;
    moat_buf_append_u8(b, '{');
    if (call->event_type && !strcmp(call->event_type, "AwsServiceEvent")) {
        /* A service acting on its own (a key deleted when its waiting period ends). */
        kv_cstr(b, &first, "accountId", call->account_id);
        kv_cstr(b, &first, "invokedBy", call->service ? call->service->event_source : "");
        moat_buf_append_u8(b, '}');
        return;
    }
    if (!p || p->type == IAM_PRINCIPAL_ANONYMOUS) {
        if (p && p->account_id.len) {
            kv_cstr(b, &first, "type", "AWSAccount");
            kv_str(b, &first, "accountId", p->account_id);
        } else {
            kv_cstr(b, &first, "type", "Unknown");
            if (call->access_key_id.len)
                kv_str(b, &first, "accessKeyId", call->access_key_id);
        }
        moat_buf_append_u8(b, '}');
        return;
    }
    switch (p->type) {
    case IAM_PRINCIPAL_ROOT:
        kv_cstr(b, &first, "type", "Root");
        break;
    case IAM_PRINCIPAL_USER:
        kv_cstr(b, &first, "type", "IAMUser");
        break;
    case IAM_PRINCIPAL_ASSUMED_ROLE:
        kv_cstr(b, &first, "type", "AssumedRole");
        break;
    case IAM_PRINCIPAL_FEDERATED_USER:
        kv_cstr(b, &first, "type", "FederatedUser");
        break;
    case IAM_PRINCIPAL_SERVICE:
        kv_cstr(b, &first, "type", "AWSService");
        kv_str(b, &first, "invokedBy", p->arn);
        moat_buf_append_u8(b, '}');
        return;
    default:
        break;
    }
    kv_str(b, &first, "principalId", p->principal_id);
    kv_str(b, &first, "arn", p->arn);
    kv_str(b, &first, "accountId", p->account_id);
    if (p->access_key_id.len)
        kv_str(b, &first, "accessKeyId", p->access_key_id);
    if (p->type == IAM_PRINCIPAL_USER)
        kv_str(b, &first, "userName", p->name);
    if (call->via_service) {
        const struct moat_call *top = call;
        while (top->parent)
            top = top->parent;
        kv_cstr(b, &first, "invokedBy", top->service ? top->service->event_source : "");
    }
    if (p->temporary) {
        key(b, &first, "sessionContext");
        bool f2 = true;
        moat_buf_append_u8(b, '{');
        if (p->type == IAM_PRINCIPAL_ASSUMED_ROLE) {
            key(b, &f2, "sessionIssuer");
            bool f3 = true;
            moat_buf_append_u8(b, '{');
            kv_cstr(b, &f3, "type", "Role");
            kv_str(b, &f3, "principalId", p->role_id);
            kv_str(b, &f3, "arn", p->role_arn);
            kv_str(b, &f3, "accountId", p->account_id);
            kv_str(b, &f3, "userName", p->role_name);
            moat_buf_append_u8(b, '}');
        } else if (p->type == IAM_PRINCIPAL_FEDERATED_USER) {
            key(b, &f2, "sessionIssuer");
            bool f3 = true;
            moat_buf_append_u8(b, '{');
            kv_cstr(b, &f3, "type", p->parent_user_arn.len ? "IAMUser" : "Root");
            kv_str(b, &f3, "principalId", p->parent_user_id.len ? p->parent_user_id
                                                                 : p->account_id);
            kv_str(b, &f3, "arn", p->parent_user_arn);
            kv_str(b, &f3, "accountId", p->account_id);
            moat_buf_append_u8(b, '}');
        }
        key(b, &f2, "attributes");
        moat_buf_append_u8(b, '{');
        bool f4 = true;
        char ts[32];
        moat_time_format_iso8601(p->issued_at_ms / 1000, ts);
        kv_cstr(b, &f4, "creationDate", ts);
        kv_cstr(b, &f4, "mfaAuthenticated", p->mfa_authenticated ? "true" : "false");
        moat_buf_append_u8(b, '}');
        if (p->source_identity.len)
            kv_str(b, &f2, "sourceIdentity", p->source_identity);
        moat_buf_append_u8(b, '}');
    }
    moat_buf_append_u8(b, '}');
}

static void uuid4(char out[37])
{
    uint8_t r[16];
    crypto_random(r, sizeof(r));
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
             r[15]);
}

void audit_record_build(struct moat_call *call, struct store_audit_row *row)
{
    struct moat_arena *a = call->arena;
    const struct moat_service *svc = call->service;
    const struct iam_principal *p = call->principal;
    char *event_id = moat_arena_alloc(a, 37);
    uuid4(event_id);
    struct moat_buf b;
    moat_buf_init(&b, a, 1024);
    bool first = true;
    moat_buf_append_u8(&b, '{');
    kv_cstr(&b, &first, "eventVersion", "1.11");
    key(&b, &first, "userIdentity");
    user_identity(&b, call);
    char ts[32];
    moat_time_format_iso8601(call->now_ms / 1000, ts);
    kv_cstr(&b, &first, "eventTime", ts);
    kv_cstr(&b, &first, "eventSource", svc ? svc->event_source : "");
    const char *event_name =
        call->event_name ? call->event_name : call->op_shape ? call->op_shape->name : "";
    kv_cstr(&b, &first, "eventName", event_name);
    kv_cstr(&b, &first, "awsRegion", call->region ? call->region : "us-east-1");
    /* Calls a service makes itself show the service as source and agent. */
    const char *acting = NULL;
    if (call->via_service || call->event_type) {
        const struct moat_call *top = call;
        while (top->parent)
            top = top->parent;
        acting = top->service ? top->service->event_source : "";
    }
    if (acting) {
        kv_cstr(&b, &first, "sourceIPAddress", acting);
        kv_cstr(&b, &first, "userAgent", acting);
    } else {
        kv_str(&b, &first, "sourceIPAddress", call->source_ip);
        kv_str(&b, &first, "userAgent", call->user_agent);
    }
    if (call->error) {
        kv_cstr(&b, &first, "errorCode", call->error->kind->code);
        kv_str(&b, &first, "errorMessage", call->error->message);
    }

    struct moat_value *req_params = NULL, *resp_elements = NULL;
    bool custom = call->op && call->op->audit;
    if (custom)
        call->op->audit(call, &req_params, &resp_elements);
    key(&b, &first, "requestParameters");
    if (custom ? req_params != NULL : call->input && call->input->count) {
        const struct moat_value *v = custom ? req_params : call->input;
        if (v->type == MOAT_V_STRUCT)
            write_struct_logged(&b, call->op_shape ? call->op_shape->input : NULL, v);
        else
            moat_json_write(&b, v);
    } else {
        moat_buf_append_cstr(&b, "null");
    }
    key(&b, &first, "responseElements");
    bool log_response = call->op && ((call->op->flags & MOAT_OP_MUTATES) ||
                                     (call->op->flags & MOAT_OP_LOG_RESPONSE));
    if (custom ? resp_elements != NULL : (!call->error && log_response && call->output)) {
        const struct moat_value *v = custom ? resp_elements : call->output;
        if (v->type == MOAT_V_STRUCT)
            write_struct_logged(&b, call->op_shape ? call->op_shape->output : NULL, v);
        else
            moat_json_write(&b, v);
    } else {
        moat_buf_append_cstr(&b, "null");
    }
    if (call->additional_event_data) {
        key(&b, &first, "additionalEventData");
        moat_json_write(&b, call->additional_event_data);
    }
    kv_cstr(&b, &first, "requestID", call->request_id);
    kv_cstr(&b, &first, "eventID", event_id);
    bool read_only = call->op ? !(call->op->flags & MOAT_OP_MUTATES) : call->read_only_event;
    key(&b, &first, "readOnly");
    moat_buf_append_cstr(&b, read_only ? "true" : "false");
    const char *acct = call->account_id ? call->account_id : "";
    if (call->audit_resource_count) {
        key(&b, &first, "resources");
        moat_buf_append_u8(&b, '[');
        for (size_t i = 0; i < call->audit_resource_count; i++) {
            if (i)
                moat_buf_append_u8(&b, ',');
            bool f = true;
            moat_buf_append_u8(&b, '{');
            kv_cstr(&b, &f, "accountId",
                    call->authz.resource_account ? call->authz.resource_account : acct);
            kv_cstr(&b, &f, "type", call->audit_resource_types[i]);
            kv_cstr(&b, &f, "ARN", call->audit_resource_arns[i]);
            moat_buf_append_u8(&b, '}');
        }
        moat_buf_append_u8(&b, ']');
    }
    kv_cstr(&b, &first, "eventType", call->event_type ? call->event_type : "AwsApiCall");
    if (svc && svc->shapes && !call->event_type)
        kv_cstr(&b, &first, "apiVersion", svc->shapes->api_version);
    if (call->service_event_details) {
        key(&b, &first, "serviceEventDetails");
        moat_json_write(&b, call->service_event_details);
    }
    bool data = call->op && (call->op->flags & MOAT_OP_DATA_EVENT);
    key(&b, &first, "managementEvent");
    moat_buf_append_cstr(&b, data ? "false" : "true");
    kv_cstr(&b, &first, "recipientAccountId", acct);
    kv_cstr(&b, &first, "eventCategory", data ? "Data" : "Management");
    if (call->http && call->http->tls) {
        key(&b, &first, "tlsDetails");
        bool f = true;
        moat_buf_append_u8(&b, '{');
        kv_cstr(&b, &f, "tlsVersion", call->http->tls_info.version);
        kv_cstr(&b, &f, "cipherSuite", call->http->tls_info.cipher);
        struct moat_slice host = MOAT_NULL_SLICE;
        http_header(call->http, "host", &host);
        kv_str(&b, &f, "clientProvidedHostHeader", host);
        moat_buf_append_u8(&b, '}');
    }
    moat_buf_append_u8(&b, '}');

    memset(row, 0, sizeof(*row));
    row->event_time_ms = call->now_ms;
    row->account_id = moat_slice_cstr(acct);
    row->event_id = moat_slice_cstr(event_id);
    row->event_name = moat_slice_cstr(event_name);
    row->event_source = moat_slice_cstr(svc ? svc->event_source : "");
    if (p) {
        if (p->type == IAM_PRINCIPAL_USER)
            row->username = p->name;
        else if (p->type == IAM_PRINCIPAL_ROOT)
            row->username = MOAT_LIT("root");
        else if (p->type == IAM_PRINCIPAL_ASSUMED_ROLE)
            row->username = p->name;
        else
            row->username = p->name;
    }
    /* Columns must be valid UTF-8 without NUL (PostgreSQL refuses anything else, and one
     * bad row would fail its whole batch): the access key id comes from the wire. */
    row->access_key_id = moat_utf8_sanitize(a, call->access_key_id);
    row->username = moat_utf8_sanitize(a, row->username);
    row->read_only = read_only;
    row->management = !data;
    for (size_t i = 0; i < call->audit_resource_count && i < STORE_AUDIT_MAX_RESOURCES; i++) {
        row->resource_types[i] = moat_slice_cstr(call->audit_resource_types[i]);
        row->resource_names[i] = moat_slice_cstr(call->audit_resource_arns[i]);
        row->resource_count++;
    }
    row->record = moat_buf_slice(&b);
}

void audit_chain_hash(const uint8_t prev[32], int64_t seq, struct moat_slice record,
                      uint8_t out[32])
{
    uint8_t be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)((uint64_t)seq >> (56 - 8 * i));
    struct moat_slice parts[3] = {moat_slice(prev, 32), moat_slice(be, 8), record};
    crypto_sha256(parts, 3, out);
}

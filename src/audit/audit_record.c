/* audit_record.c: builds a call's CloudTrail record (eventVersion 1.11) in
 * AWS's field order, with the userIdentity shape of its principal, and the
 * LookupEvents columns of its row; a cross-account call also gets the
 * resource owner's copy. Records and columns are always valid UTF-8.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
 */
#include "audit/audit.h"

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
    moat_buf_append_u8(b, '"');
    moat_buf_append_cstr(b, name);
    moat_buf_append_bytes(b, "\":", 2);
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

static void kv_bool(struct moat_buf *b, bool *first, const char *name, bool v)
{
    key(b, first, name);
    moat_buf_append_cstr(b, v ? "true" : "false");
}

/* CloudTrail writes timestamps inside requestParameters and responseElements in
 * Java's medium date style: "Nov 28, 2026 1:50:03 PM" (UTC). */
static void java_date(struct moat_buf *b, int64_t ms)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char iso[32];
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    moat_time_format_iso8601(secs, iso); /* YYYY-MM-DDTHH:MM:SSZ */
    int y, mo, d, h, mi, s;
    if (sscanf(iso, "%d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi, &s) != 6 || mo < 1 ||
        mo > 12) {
        moat_buf_append_cstr(b, "null");
        return;
    }
    int h12 = h % 12 == 0 ? 12 : h % 12;
    moat_buf_printf(b, "\"%s %d, %d %d:%02d:%02d %s\"", months[mo - 1], d, y, h12, mi, s,
                    h < 12 ? "AM" : "PM");
}

/* ---- requestParameters / responseElements ------------------------------------------------ */

/* Sensitive members (passwords, secret values, private keys: marked so in the
 * model) and binary members (plaintexts, ciphertexts, key blobs) are left out,
 * as AWS leaves them out. */
static bool loggable(const struct moat_shape *shape, const struct moat_value *v)
{
    if (!v || v->type == MOAT_V_NULL || v->type == MOAT_V_BLOB)
        return false;
    if (shape && ((shape->flags & MOAT_SHAPE_SENSITIVE) || shape->type == MOAT_SHAPE_BLOB))
        return false;
    return true;
}

static void write_value(struct moat_buf *b, const struct moat_shape *shape,
                        const struct moat_value *v);

static void write_struct(struct moat_buf *b, const struct moat_shape *shape,
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
        /* lowerCamelCase member name: AWS lower-cases the first character only. */
        char c0 = m->name[0];
        moat_buf_append_u8(b, '"');
        moat_buf_append_u8(b, (uint8_t)(c0 >= 'A' && c0 <= 'Z' ? c0 + 32 : c0));
        moat_buf_append_cstr(b, m->name + 1);
        moat_buf_append_bytes(b, "\":", 2);
        write_value(b, m->shape, v->u.members[i]);
    }
    moat_buf_append_u8(b, '}');
}

static void write_value(struct moat_buf *b, const struct moat_shape *shape,
                        const struct moat_value *v)
{
    if (!v) {
        moat_buf_append_cstr(b, "null");
        return;
    }
    switch (v->type) {
    case MOAT_V_STRUCT:
        write_struct(b, shape ? shape : v->shape, v);
        return;
    case MOAT_V_LIST:
        moat_buf_append_u8(b, '[');
        for (uint32_t i = 0, n = 0; i < v->count; i++) {
            const struct moat_shape *item = shape ? shape->item : NULL;
            if (!loggable(item, v->u.items[i]))
                continue;
            if (n++)
                moat_buf_append_u8(b, ',');
            write_value(b, item, v->u.items[i]);
        }
        moat_buf_append_u8(b, ']');
        return;
    case MOAT_V_MAP: {
        moat_buf_append_u8(b, '{');
        const struct moat_shape *item = shape ? shape->item : NULL;
        for (uint32_t i = 0, n = 0; i < v->count; i++) {
            if (!loggable(item, v->u.entries[i].value))
                continue;
            if (n++)
                moat_buf_append_u8(b, ',');
            moat_json_write_string(b, v->u.entries[i].key);
            moat_buf_append_u8(b, ':');
            write_value(b, item, v->u.entries[i].value);
        }
        moat_buf_append_u8(b, '}');
        return;
    }
    case MOAT_V_TIMESTAMP:
        java_date(b, v->u.ts_ms);
        return;
    case MOAT_V_STRING:
        moat_json_write_string(b, v->u.s);
        return;
    case MOAT_V_NUMBER:
        /* the JSON parser checked the number's text */
        moat_buf_append(b, v->u.s);
        return;
    case MOAT_V_BOOL:
        moat_buf_append_cstr(b, v->u.b ? "true" : "false");
        return;
    case MOAT_V_INT:
        moat_buf_append_i64(b, v->u.i);
        return;
    case MOAT_V_DOUBLE:
        moat_json_write_double(b, v->u.d);
        return;
    default:
        moat_buf_append_cstr(b, "null");
    }
}

/* Whether a value would log as something: a struct needs a loggable member. */
static bool has_content(const struct moat_value *v)
{
    if (!v || v->type == MOAT_V_NULL)
        return false;
    if (v->type != MOAT_V_STRUCT)
        return true;
    const struct moat_shape *shape = v->shape;
    for (uint32_t i = 0; i < v->count; i++)
        if (loggable(shape && i < shape->count ? shape->members[i].shape : NULL, v->u.members[i]))
            return true;
    return false;
}

/* ---- userIdentity ---------------------------------------------------------------------- */

static const struct moat_call *top_of(const struct moat_call *call)
{
    while (call->parent)
        call = call->parent;
    return call;
}

static void session_attributes(struct moat_buf *b, bool *first, const struct iam_principal *p)
{
    key(b, first, "attributes");
    bool f = true;
    char ts[32];
    moat_buf_append_u8(b, '{');
    moat_time_format_iso8601(p->issued_at_ms / 1000, ts);
    kv_cstr(b, &f, "creationDate", ts);
    kv_cstr(b, &f, "mfaAuthenticated", p->mfa_authenticated ? "true" : "false");
    moat_buf_append_u8(b, '}');
}

/* The name after the last '/' of an ARN (a user's name from its ARN). */
static struct moat_slice arn_last(struct moat_slice arn)
{
    size_t i = arn.len;
    while (i > 0 && arn.ptr[i - 1] != '/')
        i--;
    return moat_slice_sub(arn, i, arn.len);
}

static void session_context(struct moat_buf *b, bool *first, const struct iam_principal *p)
{
    key(b, first, "sessionContext");
    bool f = true;
    moat_buf_append_u8(b, '{');
    key(b, &f, "sessionIssuer");
    bool g = true;
    moat_buf_append_u8(b, '{');
    if (p->type == IAM_PRINCIPAL_ASSUMED_ROLE) {
        kv_cstr(b, &g, "type", "Role");
        kv_str(b, &g, "principalId", p->role_id);
        kv_str(b, &g, "arn", p->role_arn);
        kv_str(b, &g, "accountId", p->account_id);
        kv_str(b, &g, "userName", p->role_name);
    } else if (p->type == IAM_PRINCIPAL_FEDERATED_USER) {
        bool by_user = p->parent_user_arn.len > 0;
        kv_cstr(b, &g, "type", by_user ? "IAMUser" : "Root");
        kv_str(b, &g, "principalId", by_user ? p->parent_user_id : p->account_id);
        if (by_user) {
            kv_str(b, &g, "arn", p->parent_user_arn);
        } else {
            key(b, &g, "arn");
            moat_buf_printf(b, "\"arn:aws:iam::%.*s:root\"", MOAT_FMT(p->account_id));
        }
        kv_str(b, &g, "accountId", p->account_id);
        if (by_user)
            kv_str(b, &g, "userName", arn_last(p->parent_user_arn));
    }
    moat_buf_append_u8(b, '}');
    key(b, &f, "webIdFederationData");
    moat_buf_append_u8(b, '{');
    if (p->federated_provider.len) {
        bool h = true;
        kv_str(b, &h, "federatedProvider", p->federated_provider);
        key(b, &h, "attributes");
        moat_buf_append_cstr(b, "{}");
    }
    moat_buf_append_u8(b, '}');
    session_attributes(b, &f, p);
    if (p->source_identity.len)
        kv_str(b, &f, "sourceIdentity", p->source_identity);
    moat_buf_append_u8(b, '}');
}

/* The access key the record names: the principal's, or for a request that did
 * not authenticate, the one it claimed. The row's AccessKeyId column is the same. */
static struct moat_slice identity_access_key(const struct moat_call *call, bool as_account)
{
    const struct iam_principal *p = call->principal;
    if (as_account || (call->event_type && !strcmp(call->event_type, "AwsServiceEvent")))
        return MOAT_NULL_SLICE;
    if (!p || p->type == IAM_PRINCIPAL_ANONYMOUS)
        return call->access_key_id;
    if (p->type == IAM_PRINCIPAL_SERVICE)
        return MOAT_NULL_SLICE;
    return p->access_key_id;
}

/* userIdentity by identity type. `as_account`: the resource owner's copy of a
 * cross-account event, where the caller appears as type AWSAccount. */
static void user_identity(struct moat_buf *b, const struct moat_call *call, bool as_account)
{
    const struct iam_principal *p = call->principal;
    bool first = true;
    moat_buf_append_u8(b, '{');
    const char *invoked_by = NULL;
    if (call->via_service) {
        const struct moat_call *top = top_of(call);
        invoked_by = top->service ? top->service->event_source : "";
    }
    if (call->event_type && !strcmp(call->event_type, "AwsServiceEvent")) {
        /* A service acting on its own (a key deleted when its waiting period ends). */
        kv_cstr(b, &first, "accountId", call->account_id);
        kv_cstr(b, &first, "invokedBy", call->service ? call->service->event_source : "");
    } else if (as_account) {
        kv_cstr(b, &first, "type", "AWSAccount");
        kv_str(b, &first, "principalId", p->principal_id);
        kv_str(b, &first, "accountId", p->account_id);
        if (invoked_by)
            kv_cstr(b, &first, "invokedBy", invoked_by);
    } else if (!p || p->type == IAM_PRINCIPAL_ANONYMOUS) {
        /* The request did not authenticate: who sent it is not known. */
        kv_cstr(b, &first, "type", p && p->account_id.len ? "AWSAccount" : "Unknown");
        if (p && p->account_id.len)
            kv_str(b, &first, "accountId", p->account_id);
        if (call->access_key_id.len)
            kv_str(b, &first, "accessKeyId", identity_access_key(call, false));
    } else if (p->type == IAM_PRINCIPAL_SERVICE) {
        kv_cstr(b, &first, "type", "AWSService");
        kv_str(b, &first, "invokedBy", p->arn);
    } else {
        static const char *const types[] = {
            [IAM_PRINCIPAL_ROOT] = "Root",
            [IAM_PRINCIPAL_USER] = "IAMUser",
            [IAM_PRINCIPAL_ASSUMED_ROLE] = "AssumedRole",
            [IAM_PRINCIPAL_FEDERATED_USER] = "FederatedUser",
        };
        kv_cstr(b, &first, "type", types[p->type]);
        kv_str(b, &first, "principalId", p->principal_id);
        kv_str(b, &first, "arn", p->arn);
        kv_str(b, &first, "accountId", p->account_id);
        if (p->access_key_id.len)
            kv_str(b, &first, "accessKeyId", p->access_key_id);
        if (p->type == IAM_PRINCIPAL_USER)
            kv_str(b, &first, "userName", p->name);
        if (p->temporary)
            session_context(b, &first, p);
        if (invoked_by)
            kv_cstr(b, &first, "invokedBy", invoked_by);
    }
    moat_buf_append_u8(b, '}');
}

/* ---- the record ------------------------------------------------------------------------- */

static void uuid_text(const uint8_t r[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[r[i] >> 4];
        *o++ = hex[r[i] & 15];
    }
    *o = 0;
}

/* A random (version 4) UUID. */
static void uuid4(char out[37])
{
    uint8_t r[16];
    crypto_random(r, sizeof(r));
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    uuid_text(r, out);
}

/* An event id: a version 7 UUID (RFC 9562: 48-bit millisecond time, then 74
 * random bits). Ids that grow with time keep the store's event-id index
 * appending at its end instead of touching a random page per record, which
 * is most of what a group commit writes. */
static void event_uuid(char out[37])
{
    uint8_t r[16];
    crypto_random(r, sizeof(r));
    uint64_t ms = (uint64_t)moat_clock_real_ms();
    for (int i = 0; i < 6; i++)
        r[i] = (uint8_t)(ms >> (40 - 8 * i));
    r[6] = (r[6] & 0x0f) | 0x70;
    r[8] = (r[8] & 0x3f) | 0x80;
    uuid_text(r, out);
}

const char *audit_cross_account(const struct moat_call *call)
{
    const struct iam_principal *p = call->principal;
    const char *owner = call->authz.resource_account;
    if (!owner || !*owner || !p || !p->account_id.len || call->event_type)
        return NULL;
    return moat_slice_eq_cstr(p->account_id, owner) ? NULL : owner;
}

/* The error code a record shows: AWS records authorization denials as
 * "AccessDenied" whatever code the service's API answers with (KMS and
 * CloudTrail answer AccessDeniedException). */
static const char *record_error_code(const struct moat_call *call)
{
    return call->error_is_denial ? "AccessDenied" : call->error->kind->code;
}

struct record_view {
    const char *recipient;       /* recipientAccountId */
    bool as_account;             /* the resource owner's copy of a cross-account event */
    const char *shared_event_id; /* cross-account events: both copies carry it */
    const char *event_id;
};

/* readOnly: operations that change nothing, and those AWS logs as reads although moat
 * stores something for them (STS credentials). */
static bool read_only_of(const struct moat_call *call)
{
    if (!call->op)
        return call->read_only_event;
    return !(call->op->flags & MOAT_OP_MUTATES) || (call->op->flags & MOAT_OP_READ_ONLY_EVENT);
}

static struct moat_slice build_json(struct moat_call *call, const struct record_view *view)
{
    const struct moat_service *svc = call->service;
    struct moat_buf b;
    moat_buf_init(&b, call->arena, 1024);
    bool first = true;
    bool service_event = call->event_type && !strcmp(call->event_type, "AwsServiceEvent");
    moat_buf_append_u8(&b, '{');
    kv_cstr(&b, &first, "eventVersion", "1.11");
    key(&b, &first, "userIdentity");
    user_identity(&b, call, view->as_account);
    char ts[32];
    moat_time_format_iso8601(call->now_ms / 1000, ts);
    kv_cstr(&b, &first, "eventTime", ts);
    kv_cstr(&b, &first, "eventSource", svc ? svc->event_source : "");
    const char *event_name = call->event_name ? call->event_name
                             : call->op_shape ? call->op_shape->name
                                              : "";
    kv_cstr(&b, &first, "eventName", event_name);
    kv_cstr(&b, &first, "awsRegion", call->region ? call->region : "us-east-1");
    /* Calls a service makes itself show the service as source and agent. */
    if (call->via_service || call->event_type) {
        const struct moat_call *top = top_of(call);
        const char *acting = top->service ? top->service->event_source : "";
        kv_cstr(&b, &first, "sourceIPAddress", acting);
        kv_cstr(&b, &first, "userAgent", acting);
    } else {
        kv_str(&b, &first, "sourceIPAddress", call->source_ip);
        kv_str(&b, &first, "userAgent", call->user_agent);
    }
    if (call->error) {
        kv_cstr(&b, &first, "errorCode", record_error_code(call));
        kv_str(&b, &first, "errorMessage", call->error->message);
    }

    struct moat_value *req_params = NULL, *resp_elements = NULL;
    bool custom = call->op && call->op->audit;
    if (custom)
        call->op->audit(call, &req_params, &resp_elements);
    key(&b, &first, "requestParameters");
    const struct moat_value *rp = custom ? req_params : call->input;
    if (has_content(rp))
        write_value(&b, custom ? rp->shape : call->op_shape ? call->op_shape->input : NULL, rp);
    else
        moat_buf_append_cstr(&b, "null");
    key(&b, &first, "responseElements");
    /* AWS logs responses of calls that change something (or when the row asks). */
    bool log_response = call->op && (call->op->flags & (MOAT_OP_MUTATES | MOAT_OP_LOG_RESPONSE));
    const struct moat_value *re =
        custom ? resp_elements : (!call->error && log_response ? call->output : NULL);
    if (has_content(re))
        write_value(&b, custom ? re->shape : call->op_shape ? call->op_shape->output : NULL, re);
    else
        moat_buf_append_cstr(&b, "null");
    if (call->additional_event_data) {
        key(&b, &first, "additionalEventData");
        write_value(&b, call->additional_event_data->shape, call->additional_event_data);
    }
    if (!service_event)
        kv_cstr(&b, &first, "requestID", call->request_id);
    kv_cstr(&b, &first, "eventID", view->event_id);
    kv_bool(&b, &first, "readOnly", read_only_of(call));
    if (call->audit_resource_count) {
        const char *owner =
            call->authz.resource_account ? call->authz.resource_account : call->account_id;
        key(&b, &first, "resources");
        moat_buf_append_u8(&b, '[');
        for (size_t i = 0; i < call->audit_resource_count; i++) {
            bool f = true;
            moat_buf_append_cstr(&b, i ? ",{" : "{");
            kv_cstr(&b, &f, "accountId", owner);
            kv_cstr(&b, &f, "type", call->audit_resource_types[i]);
            kv_cstr(&b, &f, "ARN", call->audit_resource_arns[i]);
            moat_buf_append_u8(&b, '}');
        }
        moat_buf_append_u8(&b, ']');
    }
    kv_cstr(&b, &first, "eventType", call->event_type ? call->event_type : "AwsApiCall");
    bool data = call->op && (call->op->flags & MOAT_OP_DATA_EVENT);
    kv_bool(&b, &first, "managementEvent", !data);
    kv_cstr(&b, &first, "recipientAccountId", view->recipient);
    if (view->shared_event_id)
        kv_cstr(&b, &first, "sharedEventID", view->shared_event_id);
    if (call->service_event_details) {
        key(&b, &first, "serviceEventDetails");
        write_value(&b, call->service_event_details->shape, call->service_event_details);
    }
    kv_cstr(&b, &first, "eventCategory", data ? "Data" : "Management");
    if (call->http && call->http->tls && !call->via_service && !call->event_type) {
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
    return moat_buf_slice(&b);
}

/* The user name LookupEvents filters on: the IAM user's name, "root", or the
 * session's name; nothing for the owner's copy of a cross-account event. */
static struct moat_slice username_of(const struct iam_principal *p, bool as_account)
{
    if (!p || as_account)
        return MOAT_NULL_SLICE;
    switch (p->type) {
    case IAM_PRINCIPAL_ROOT:
        return MOAT_LIT("root");
    case IAM_PRINCIPAL_USER:
    case IAM_PRINCIPAL_ASSUMED_ROLE:
    case IAM_PRINCIPAL_FEDERATED_USER:
        return p->name;
    default:
        return MOAT_NULL_SLICE;
    }
}

static void fill_row(struct moat_call *call, const struct record_view *view,
                     struct store_audit_row *row)
{
    struct moat_arena *a = call->arena;
    const struct moat_service *svc = call->service;
    memset(row, 0, sizeof(*row));
    row->record = build_json(call, view);
    row->event_time_ms = call->now_ms;
    row->account_id = moat_utf8_sanitize(a, moat_slice_cstr(view->recipient));
    row->event_id = moat_slice_cstr(view->event_id);
    row->event_name = moat_utf8_sanitize(a, moat_slice_cstr(call->event_name ? call->event_name
                                                            : call->op_shape ? call->op_shape->name
                                                                             : ""));
    row->event_source = moat_slice_cstr(svc ? svc->event_source : "");
    row->username = moat_utf8_sanitize(a, username_of(call->principal, view->as_account));
    row->access_key_id = moat_utf8_sanitize(a, identity_access_key(call, view->as_account));
    row->read_only = read_only_of(call);
    row->management = !(call->op && (call->op->flags & MOAT_OP_DATA_EVENT));
    for (size_t i = 0; i < call->audit_resource_count && i < STORE_AUDIT_MAX_RESOURCES; i++) {
        row->resource_types[i] =
            moat_utf8_sanitize(a, moat_slice_cstr(call->audit_resource_types[i]));
        row->resource_names[i] =
            moat_utf8_sanitize(a, moat_slice_cstr(call->audit_resource_arns[i]));
        row->resource_count++;
    }
}

size_t audit_record_build(struct moat_call *call, const char *owner, struct store_audit_row rows[2])
{
    struct moat_arena *a = call->arena;
    char *event_id = moat_arena_alloc(a, 37);
    event_uuid(event_id);
    struct record_view view = {
        .recipient = call->account_id ? call->account_id : "",
        .event_id = event_id,
    };
    if (!owner) {
        fill_row(call, &view, &rows[0]);
        return 1;
    }
    /* One event in each account, tied by sharedEventID. */
    char *shared = moat_arena_alloc(a, 37);
    uuid4(shared);
    view.shared_event_id = shared;
    fill_row(call, &view, &rows[0]);
    char *owner_event_id = moat_arena_alloc(a, 37);
    event_uuid(owner_event_id);
    struct record_view theirs = {
        .recipient = owner,
        .as_account = true,
        .shared_event_id = shared,
        .event_id = owner_event_id,
    };
    fill_row(call, &theirs, &rows[1]);
    return 2;
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

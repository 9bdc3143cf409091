/* dispatch.c: the request path, as one straight line:
 *   route -> authenticate -> find operation -> decode -> validate -> authorize
 *   -> handle -> audit (group commit) -> encode -> respond.
 * Services supply tables and handlers; nothing here knows a service. */
#include "server/dispatch.h"

#include "audit/audit.h"
#include "auth/auth.h"
#include "aws/proto.h"
#include "aws/sigv4.h"
#include "aws/validate.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "crypto/rootkey.h"
#include "http/http.h"
#include "server/admin.h"
#include "server/authorize.h"
#include "server/server.h"
#include "services/registry.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

/* The dispatcher's view of a call: the handler-visible part plus the response. */
struct dcall {
    struct moat_call call;
    struct moat_slice op_name;
    struct proto_form form;
    struct sigv4_request sreq;
    struct sigv4_auth sauth;
    int status;
    struct moat_header headers[6];
    size_t header_count;
    struct moat_slice body;
};

static const struct moat_error_kind unknown_operation_json = {"UnknownOperationException", 400,
                                                              true};
static const struct moat_error_kind invalid_action_query = {"InvalidAction", 400, true};
static const struct moat_error_kind missing_action_query = {"MissingAction", 400, true};
static const struct moat_error_kind not_implemented_xml = {"NotImplemented", 501, false};
static const struct moat_error_kind invalid_region = {"InvalidSignatureException", 400, true};

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

static void add_header(struct dcall *d, const char *name, const char *value)
{
    if (d->header_count < MOAT_COUNT(d->headers)) {
        d->headers[d->header_count].name = moat_slice_cstr(name);
        d->headers[d->header_count].value = moat_slice_cstr(value);
        d->header_count++;
    }
}

/* ---- encoding ------------------------------------------------------------ */

static const char *json_content_type(const struct moat_service *svc)
{
    const char *v = svc && svc->shapes->json_version ? svc->shapes->json_version : "1.1";
    return strcmp(v, "1.0") == 0 ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1";
}

/* Turns the call's output or error into status, headers and body, in the
 * protocol the request came in. */
static void encode(struct dcall *d)
{
    struct moat_call *call = &d->call;
    struct moat_buf b;
    moat_buf_init(&b, call->arena, 512);
    d->header_count = 0;
    add_header(d, "x-amzn-RequestId", call->request_id);
    const struct moat_service *svc = call->service;
    const struct moat_error *e = call->error;
    switch (call->protocol) {
    case MOAT_PROTO_JSON:
    case MOAT_PROTO_REST_JSON:
    case MOAT_PROTO_CBOR:
        add_header(d, "Content-Type", json_content_type(svc));
        if (e) {
            d->status = e->kind->http_status;
            add_header(d, "x-amzn-ErrorType", e->kind->code);
            proto_json_encode_error(&b, e);
        } else {
            d->status = call->op_shape ? call->op_shape->http_status : 200;
            proto_json_encode(&b, call->op_shape ? call->op_shape->output : NULL, call->output);
        }
        break;
    case MOAT_PROTO_QUERY:
        add_header(d, "Content-Type", "text/xml");
        if (e) {
            d->status = e->kind->http_status;
            proto_query_encode_error(&b, e, svc ? svc->shapes->xml_namespace : NULL,
                                     call->request_id);
        } else {
            d->status = 200;
            proto_query_encode(&b, call->op_shape, svc->shapes->xml_namespace, call->output,
                               call->request_id);
        }
        break;
    case MOAT_PROTO_REST_XML:
    default:
        add_header(d, "Content-Type", "application/xml");
        add_header(d, "x-amz-request-id", call->request_id);
        if (e) {
            d->status = e->kind->http_status;
            moat_buf_append_cstr(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
            moat_buf_append_xml_escaped(&b, moat_slice_cstr(e->kind->code));
            moat_buf_append_cstr(&b, "</Code><Message>");
            moat_buf_append_xml_escaped(&b, e->message);
            moat_buf_append_cstr(&b, "</Message>");
            for (size_t i = 0; i < e->extra_count; i++) {
                moat_buf_printf(&b, "<%s>", e->extra_names[i]);
                moat_buf_append_xml_escaped(&b, e->extra_values[i]);
                moat_buf_printf(&b, "</%s>", e->extra_names[i]);
            }
            moat_buf_printf(&b, "<RequestId>%s</RequestId></Error>", call->request_id);
        } else {
            d->status = 200;
        }
        break;
    }
    d->body = moat_buf_slice(&b);
}

static void respond(struct dcall *d)
{
    http_respond(d->call.http, d->status, d->headers, d->header_count, d->body);
}

/* ---- completion (writer thread) -------------------------------------------- */

static void on_durable(struct moat_call *call, bool durable)
{
    struct dcall *d = (struct dcall *)call;
    if (!durable) {
        call->error = moat_fail(call, &moat_internal_failure,
                                "The request could not be recorded durably; nothing was changed.");
        encode(d);
    } else if (call->op && (call->op->flags & MOAT_OP_MUTATES) && !d->body.ptr) {
        encode(d);
    }
    respond(d);
}

static void run_handler(struct moat_call *call)
{
    call->output = moat_struct_new(call->arena, call->op_shape->output);
    struct moat_error *err = call->op->handler(call, call->input, call->output);
    if (err) {
        call->error = err;
        call->output = NULL;
    }
}

/* Audits a finished (or failed) call and releases its response once durable. */
static void finish(struct dcall *d)
{
    struct moat_call *call = &d->call;
    encode(d);
    audit_submit(call->server->audit, call, NULL, on_durable);
}

static void fail(struct dcall *d, struct moat_error *err)
{
    d->call.error = err;
    finish(d);
}

/* ---- routing ------------------------------------------------------------- */

static void sigv4_request_from_http(struct dcall *d, struct http_request *req)
{
    d->sreq.method = req->method;
    d->sreq.path = req->path;
    d->sreq.query = req->query;
    d->sreq.headers = req->headers;
    d->sreq.header_count = req->header_count;
    d->sreq.body = req->body;
    d->sreq.s3 = false;
}

/* Finds the service, protocol and operation name. Returns false when the
 * request names no service moat knows; the response is then already sent. */
static bool route(struct dcall *d, struct http_request *req)
{
    struct moat_call *call = &d->call;
    struct moat_arena *a = call->arena;
    struct moat_slice target, ctype = MOAT_NULL_SLICE;
    http_header(req, "content-type", &ctype);
    if (http_header(req, "x-amz-target", &target)) {
        call->protocol = MOAT_PROTO_JSON;
        long dot = -1;
        for (size_t i = 0; i < target.len; i++)
            if (target.ptr[i] == '.')
                dot = (long)i;
        if (dot > 0) {
            call->service = registry_by_target_prefix(moat_slice(target.ptr, (size_t)dot));
            d->op_name = moat_slice_sub(target, (size_t)dot + 1, target.len);
        }
        if (!call->service) {
            call->error = moat_fail(call, &unknown_operation_json,
                                    "The target %.*s names no service this endpoint offers",
                                    MOAT_FMT(target));
            encode(d);
            respond(d);
            return false;
        }
        return true;
    }
    bool form = moat_slice_starts_with(ctype, MOAT_LIT("application/x-www-form-urlencoded"));
    bool action_in_query = moat_slice_starts_with(req->query, MOAT_LIT("Action=")) ||
                           moat_slice_index(req->query, '&') >= 0 ||
                           moat_slice_starts_with(req->query, MOAT_LIT("X-Amz-"));
    if ((moat_slice_eq_cstr(req->method, "POST") && form) ||
        (moat_slice_eq_cstr(req->method, "GET") && action_in_query &&
         moat_slice_eq_cstr(req->path, "/"))) {
        call->protocol = MOAT_PROTO_QUERY;
        bool ok = proto_form_parse(a, req->query, &d->form);
        if (ok && moat_slice_eq_cstr(req->method, "POST"))
            ok = proto_form_parse(a, req->body, &d->form);
        struct moat_slice version = MOAT_NULL_SLICE, action = MOAT_NULL_SLICE;
        proto_form_get(&d->form, "Action", &action);
        proto_form_get(&d->form, "Version", &version);
        d->op_name = action;
        /* The service is the one the request was signed for; without a
         * signature, the API version says which Query service is meant. */
        if (d->sauth.form != SIGV4_FORM_NONE && d->sauth.service.len)
            call->service = registry_by_signing_name(d->sauth.service);
        if (!call->service)
            call->service = registry_by_query_version(version);
        if (!ok) {
            call->error = moat_fail(call, &proto_malformed_query,
                                    "The request's query string or form body is malformed");
            encode(d);
            respond(d);
            return false;
        }
        if (!call->service) {
            call->error = moat_fail(call, &invalid_action_query,
                                    "No service of this endpoint answers Query API version '%.*s'",
                                    MOAT_FMT(version));
            encode(d);
            respond(d);
            return false;
        }
        return true;
    }
    call->protocol = MOAT_PROTO_REST_XML;
    call->error = moat_fail(call, &not_implemented_xml,
                            "moat does not implement a service for %.*s %.*s",
                            MOAT_FMT(req->method), MOAT_FMT(req->path));
    encode(d);
    respond(d);
    return false;
}

static bool plausible_region(struct moat_slice r)
{
    if (r.len < 4 || r.len > 32)
        return false;
    for (size_t i = 0; i < r.len; i++) {
        uint8_t c = r.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

/* ---- the request path ------------------------------------------------------- */

void dispatch_request(struct http_request *req, void *app)
{
    struct moat_server *srv = app;
    if (admin_handle(srv, req))
        return;

    struct dcall *d = moat_arena_calloc(req->arena, sizeof(*d));
    struct moat_call *call = &d->call;
    struct moat_arena *a = req->arena;
    call->arena = a;
    call->server = srv;
    call->http = req;
    call->now_ms = moat_clock_now_ms();
    uuid4(call->request_id);
    call->source_ip = moat_slice_cstr(req->peer_ip);
    http_header(req, "user-agent", &call->user_agent);
    call->secure_transport = req->tls;
    call->db = moat_server_db(srv);
    call->region = srv->config.region;
    call->account_id = srv->config.account_id;

    /* The signature names the service for Query requests, so parse it first. */
    sigv4_request_from_http(d, req);
    const char *detail = NULL;
    enum sigv4_status sst =
        sigv4_parse(a, &d->sreq, NULL, NULL, call->now_ms / 1000, &d->sauth, &detail);

    if (!route(d, req))
        return;
    /* The record names the operation asked for, even when it fails before the
     * operation is found (bad signature, unknown or unsupported operation). */
    if (d->op_name.len)
        call->event_name = moat_arena_cstr(a, d->op_name);
    const struct moat_service *svc = call->service;
    if (!call->db) {
        fail(d, moat_internal(call, "no store connection"));
        return;
    }

    /* authenticate */
    if (sst == SIGV4_OK && d->sauth.service.len &&
        !moat_slice_eq_cstr(d->sauth.service, svc->shapes->signing_name))
        sst = SIGV4_WRONG_SERVICE;
    if (sst != SIGV4_OK) {
        if (sst == SIGV4_WRONG_SERVICE && !detail)
            detail = moat_arena_printf(a, "Credential should be scoped to correct service: '%s'.",
                                       svc->shapes->signing_name);
        call->access_key_id = d->sauth.access_key_id;
        fail(d, sigv4_error(a, call->protocol, sst, detail));
        return;
    }
    if (!plausible_region(d->sauth.region)) {
        fail(d, moat_fail(call, &invalid_region, "Credential should be scoped to a valid region."));
        return;
    }
    struct moat_error *err = auth_authenticate(call, &d->sreq, &d->sauth);
    if (err) {
        fail(d, err);
        return;
    }
    if (svc->global)
        call->region = "us-east-1";

    /* find the operation */
    call->op = registry_find_op(svc, d->op_name);
    if (!call->op) {
        bool real = moat_shapes_has_op(svc->shapes, d->op_name);
        if (call->protocol == MOAT_PROTO_QUERY) {
            if (!d->op_name.ptr)
                err = moat_fail(call, &missing_action_query, "The request must contain the parameter Action.");
            else
                err = moat_fail(call, &invalid_action_query,
                                real ? "The action %.*s is not supported by moat's %s endpoint yet."
                                     : "Could not find operation %.*s for version %s",
                                MOAT_FMT(d->op_name), real ? svc->name : svc->shapes->api_version);
        } else {
            err = moat_fail(call, &unknown_operation_json,
                            real ? "The operation %.*s is not supported by moat's %s endpoint yet."
                                 : "The operation %.*s is not known to %s",
                            MOAT_FMT(d->op_name), svc->name);
        }
        fail(d, err);
        return;
    }
    call->op_shape = &svc->shapes->ops[call->op->shape];

    /* decode and validate */
    if (call->protocol == MOAT_PROTO_QUERY)
        err = proto_query_decode(a, call->op_shape->input, &d->form, svc->validation_error,
                                 &call->input);
    else
        err = proto_json_decode(a, call->op_shape->input, req->body, &call->input);
    if (!err)
        err = aws_validate(a, call->op_shape->input, call->input, svc->validation_error);
    if (err) {
        fail(d, err);
        return;
    }

    /* authorize */
    err = authorize_call(call);
    if (err) {
        fail(d, err);
        return;
    }

    /* handle */
    if (call->op->flags & MOAT_OP_MUTATES) {
        /* The writer runs it inside the batch transaction with its record. */
        audit_submit(srv->audit, call, run_handler, on_durable);
        return;
    }
    run_handler(call);
    finish(d);
}

/* ---- internal calls ---------------------------------------------------------- */

static const struct moat_error_kind internal_unknown = {"InternalFailure", 500, false};

static const struct moat_service *service_named(const char *name)
{
    return registry_by_signing_name(moat_slice_cstr(name));
}

struct moat_value *moat_call_internal_input(struct moat_call *parent, const char *service,
                                            const char *operation)
{
    const struct moat_service *svc = service_named(service);
    const struct moat_op_shape *shape =
        svc ? moat_shapes_find_op(svc->shapes, moat_slice_cstr(operation)) : NULL;
    return moat_struct_new(parent->arena, shape ? shape->input : NULL);
}

struct moat_call *moat_call_internal(struct moat_call *parent, const char *service,
                                     const char *operation, struct moat_value *input)
{
    struct moat_call *call = moat_arena_calloc(parent->arena, sizeof(*call));
    call->arena = parent->arena;
    call->server = parent->server;
    call->http = parent->http;
    call->protocol = parent->protocol;
    call->principal = parent->principal;
    call->account_id = parent->account_id;
    call->region = parent->region;
    call->now_ms = parent->now_ms;
    call->source_ip = parent->source_ip;
    call->user_agent = parent->user_agent;
    call->secure_transport = parent->secure_transport;
    call->access_key_id = parent->access_key_id;
    call->db = parent->db;
    call->writable = parent->writable;
    call->parent = parent;
    call->via_service = parent->service->name;
    uuid4(call->request_id);
    if (parent->last_child)
        parent->last_child->next_sibling = call;
    else
        parent->first_child = call;
    parent->last_child = call;

    call->service = service_named(service);
    call->op = call->service ? registry_find_op(call->service, moat_slice_cstr(operation)) : NULL;
    if (!call->op) {
        call->error = moat_fail(call, &internal_unknown, "internal call to unknown %s:%s",
                                service, operation);
        return call;
    }
    call->op_shape = &call->service->shapes->ops[call->op->shape];
    call->input = input ? input : moat_struct_new(call->arena, call->op_shape->input);
    bool parent_mutates = parent->op && (parent->op->flags & MOAT_OP_MUTATES);
    if ((call->op->flags & MOAT_OP_MUTATES) && !parent_mutates) {
        call->error = moat_internal(call, "mutating internal call from a read-only operation");
        return call;
    }
    struct moat_error *err = aws_validate(call->arena, call->op_shape->input, call->input,
                                          call->service->validation_error);
    if (!err)
        err = authorize_call(call);
    if (err) {
        call->error = err;
        return call;
    }
    run_handler(call);
    return call;
}

bool dispatch_headers(struct http_request *req, void *app)
{
    MOAT_UNUSED(req);
    MOAT_UNUSED(app);
    return true;
}

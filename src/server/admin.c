/* admin.c: unauthenticated health endpoints and the opt-in test endpoints
 * (/_moat/reset, /_moat/clock) that are off unless serve enables them. */
#include "server/admin.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "http/http.h"
#include "server/scheduler.h"
#include "server/server.h"
#include "services/registry.h"
#include "version.h"

static const struct moat_header json_headers[] = {
    {MOAT_LIT("Content-Type"), MOAT_LIT("application/json")},
};

static void reply(struct http_request *req, int status, struct moat_slice body)
{
    http_respond(req, status, json_headers, MOAT_COUNT(json_headers), body);
}

static void health(struct moat_server *srv, struct http_request *req, bool localstack)
{
    struct moat_buf b;
    moat_buf_init(&b, req->arena, 512);
    if (localstack) {
        /* LocalStack's shape, so that tooling that waits on it works unchanged. */
        moat_buf_append_cstr(&b, "{\"services\":{");
        for (size_t i = 0; i < registry_count(); i++) {
            moat_buf_printf(&b, "%s\"%s\":\"running\"", i ? "," : "", registry_at(i)->name);
        }
        moat_buf_printf(&b, "},\"edition\":\"community\",\"version\":\"%s\"}", MOAT_VERSION);
    } else {
        moat_buf_printf(&b, "{\"status\":\"ok\",\"version\":\"%s\",\"uptime_ms\":%lld}",
                        MOAT_VERSION, (long long)(moat_clock_monotonic_ms() - srv->started_ms));
    }
    reply(req, 200, moat_buf_slice(&b));
}

static void clock_endpoint(struct moat_server *srv, struct http_request *req)
{
    struct moat_value *doc;
    if (!moat_json_parse(req->arena, req->body, MOAT_JSON_ALLOW_EMPTY, &doc, NULL)) {
        reply(req, 400, MOAT_LIT("{\"error\":\"body must be JSON\"}"));
        return;
    }
    int64_t v;
    if (moat_value_as_int(moat_map_get(doc, "advance_seconds"), &v))
        moat_clock_set_offset_ms(moat_clock_offset_ms() + v * 1000);
    else if (moat_value_as_int(moat_map_get(doc, "offset_seconds"), &v))
        moat_clock_set_offset_ms(v * 1000);
    moat_log_info("test clock offset is now %lld s", (long long)(moat_clock_offset_ms() / 1000));
    scheduler_kick();
    struct moat_buf b;
    moat_buf_init(&b, req->arena, 64);
    moat_buf_printf(&b, "{\"offset_seconds\":%lld,\"now\":%lld}",
                    (long long)(moat_clock_offset_ms() / 1000),
                    (long long)(moat_clock_now_ms() / 1000));
    reply(req, 200, moat_buf_slice(&b));
}

bool admin_handle(struct moat_server *srv, struct http_request *req)
{
    struct moat_slice path = req->path;
    bool get = moat_slice_eq_cstr(req->method, "GET") || moat_slice_eq_cstr(req->method, "HEAD");
    bool post = moat_slice_eq_cstr(req->method, "POST");
    if (moat_slice_eq_cstr(path, "/_moat/health") && get) {
        health(srv, req, false);
        return true;
    }
    if ((moat_slice_eq_cstr(path, "/_localstack/health") ||
         moat_slice_eq_cstr(path, "/health")) && get) {
        health(srv, req, true);
        return true;
    }
    if (moat_slice_eq_cstr(path, "/_moat/reset") && post) {
        if (!srv->config.allow_reset) {
            reply(req, 403, MOAT_LIT("{\"error\":\"reset is disabled; start serve with --allow-reset\"}"));
        } else if (!moat_server_reset(srv)) {
            reply(req, 500, MOAT_LIT("{\"error\":\"reset failed\"}"));
        } else {
            reply(req, 200, MOAT_LIT("{\"reset\":true}"));
        }
        return true;
    }
    if (moat_slice_eq_cstr(path, "/_moat/clock") && post) {
        if (!srv->config.allow_test_clock)
            reply(req, 403, MOAT_LIT("{\"error\":\"the test clock is disabled; start serve with --allow-test-clock\"}"));
        else
            clock_endpoint(srv, req);
        return true;
    }
    if (moat_slice_starts_with(path, MOAT_LIT("/_moat/")) ||
        moat_slice_starts_with(path, MOAT_LIT("/_localstack/"))) {
        reply(req, 404, MOAT_LIT("{\"error\":\"no such endpoint\"}"));
        return true;
    }
    return false;
}

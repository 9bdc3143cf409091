/* call.c: helpers every handler uses on its struct moat_call: errors in the
 * call's arena and the resources named in its CloudTrail record. */
#include "core/log.h"
#include "services/service.h"

#include <stdarg.h>

struct moat_error *moat_fail(struct moat_call *call, const struct moat_error_kind *kind,
                             const char *fmt, ...)
{
    struct moat_error *e = moat_arena_calloc(call->arena, sizeof(*e));
    e->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    e->message = moat_arena_vformat(call->arena, fmt, ap);
    va_end(ap);
    return e;
}

struct moat_error *moat_internal(struct moat_call *call, const char *why)
{
    moat_log(MOAT_LOG_ERROR, "internal failure", "request_id", call->request_id, "why", why,
             NULL);
    return moat_fail(call, &moat_internal_failure,
                     "An internal error occurred. Try again; request %s.", call->request_id);
}

void moat_call_add_resource(struct moat_call *call, const char *type, const char *arn)
{
    if (call->audit_resource_count >= MOAT_AUTHZ_MAX_RESOURCES)
        return;
    call->audit_resource_types[call->audit_resource_count] = type;
    call->audit_resource_arns[call->audit_resource_count] = arn;
    call->audit_resource_count++;
}

/* call.c: helpers every handler uses on its struct moat_call: errors in the
 * call's arena and the resources named in its CloudTrail record. */
#include "core/json.h"
#include "core/log.h"
#include "services/service.h"
#include "store/store.h"

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
    moat_log(MOAT_LOG_ERROR, "internal failure", "request_id", call->request_id, "why", why, NULL);
    return moat_fail(call, &moat_internal_failure,
                     "An internal error occurred. Try again; request %s.", call->request_id);
}

struct moat_error *moat_record_get(struct moat_call *call, const char *ns, struct moat_slice key,
                                   struct moat_value **rec, int64_t *version, bool *found)
{
    struct store_record r;
    *found = false;
    enum store_status st = store_get(call->db, call->arena, ns, key, &r);
    if (st == STORE_NOT_FOUND)
        return NULL;
    if (st != STORE_OK)
        return moat_internal(call, "store read failed");
    if (!moat_json_parse(call->arena, r.value, 0, rec, NULL) || (*rec)->type != MOAT_V_MAP)
        return moat_internal(call, "a stored record is not a JSON object");
    if (version)
        *version = r.version;
    *found = true;
    return NULL;
}

struct moat_error *moat_record_put(struct moat_call *call, const char *ns, struct moat_slice key,
                                   const struct moat_value *rec, int64_t version,
                                   const struct moat_error_kind *conflict,
                                   const char *conflict_message)
{
    struct moat_buf b;
    moat_buf_init(&b, call->arena, 512);
    moat_json_write(&b, rec);
    enum store_status st = store_put(call->db, ns, key, moat_buf_slice(&b), version, NULL);
    if (st == STORE_CONFLICT)
        return moat_fail(call, conflict, "%s", conflict_message);
    if (st != STORE_OK)
        return moat_internal(call, "store write failed");
    return NULL;
}

struct moat_error *moat_record_delete(struct moat_call *call, const char *ns, struct moat_slice key)
{
    enum store_status st = store_delete(call->db, ns, key, STORE_ANY_VERSION);
    if (st != STORE_OK && st != STORE_NOT_FOUND)
        return moat_internal(call, "store delete failed");
    return NULL;
}

void moat_call_add_resource(struct moat_call *call, const char *type, const char *arn)
{
    if (call->audit_resource_count >= MOAT_AUTHZ_MAX_RESOURCES)
        return;
    call->audit_resource_types[call->audit_resource_count] = type;
    call->audit_resource_arns[call->audit_resource_count] = arn;
    call->audit_resource_count++;
}

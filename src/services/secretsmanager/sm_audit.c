/* sm_audit.c: the responseElements of Secrets Manager's CloudTrail records. The generic
 * rule would write the ARN member as "aRN", as Secrets Manager did before February 2024;
 * since then it writes "arn".
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html */
#include "aws/shape.h"
#include "core/clock.h"
#include "services/secretsmanager/sm.h"

#include <stdio.h>
#include <string.h>

/* CloudTrail's "Nov 28, 2026 1:50:03 PM" for timestamps in responseElements. */
static struct moat_value *java_date(struct moat_arena *a, int64_t ms)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char iso[32];
    moat_time_format_iso8601(ms / 1000, iso);
    int y, mo, d, h, mi, s;
    if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi, &s) != 6)
        return moat_value_null(a);
    return moat_value_cstring(a, moat_arena_printf(a, "%s %d, %d %d:%02d:%02d %s", months[mo - 1],
                                                   d, y, h % 12 == 0 ? 12 : h % 12, mi, s,
                                                   h < 12 ? "AM" : "PM"));
}

static struct moat_slice camel(struct moat_arena *a, const char *name)
{
    size_t n = strlen(name);
    char *out = moat_arena_alloc(a, n + 1);
    bool all_caps = true;
    for (size_t i = 0; i < n; i++)
        all_caps = all_caps && !(name[i] >= 'a' && name[i] <= 'z');
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        out[i] = (i == 0 || all_caps) && c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
    out[n] = 0;
    return moat_slice(out, n);
}

static struct moat_value *logged(struct moat_arena *a, const struct moat_shape *shape,
                                 const struct moat_value *v);

static struct moat_value *logged_struct(struct moat_arena *a, const struct moat_shape *shape,
                                        const struct moat_value *v)
{
    struct moat_value *m = moat_value_map(a);
    for (unsigned i = 0; shape && i < shape->count && i < v->count; i++) {
        const struct moat_member *mem = &shape->members[i];
        const struct moat_value *x = v->u.members[i];
        if (!x || x->type == MOAT_V_NULL || (mem->shape->flags & MOAT_SHAPE_SENSITIVE) ||
            x->type == MOAT_V_BLOB || mem->shape->type == MOAT_SHAPE_BLOB)
            continue;
        moat_map_push(a, m, camel(a, mem->name), logged(a, mem->shape, x));
    }
    return m;
}

static struct moat_value *logged(struct moat_arena *a, const struct moat_shape *shape,
                                 const struct moat_value *v)
{
    switch (v->type) {
    case MOAT_V_STRUCT:
        return logged_struct(a, shape, v);
    case MOAT_V_LIST: {
        struct moat_value *l = moat_value_list(a);
        for (uint32_t i = 0; i < v->count; i++)
            moat_list_push(a, l, logged(a, shape ? shape->item : NULL, v->u.items[i]));
        return l;
    }
    case MOAT_V_TIMESTAMP:
        return java_date(a, v->u.ts_ms);
    default:
        return (struct moat_value *)v;
    }
}

void sm_audit(struct moat_call *call, struct moat_value **request_parameters,
              struct moat_value **response_elements)
{
    /* requestParameters: the generic rule (the input struct, sensitive members omitted). */
    *request_parameters = call->input && call->input->count ? call->input : NULL;
    *response_elements = NULL;
    if (call->error || !call->output || !call->op_shape)
        return;
    *response_elements = logged_struct(call->arena, call->op_shape->output, call->output);
}

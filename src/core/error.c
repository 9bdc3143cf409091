/* error.c: building errors in an arena. The kinds live with their services;
 * only the two that any layer may raise are defined here. */
#include "core/error.h"

#include <stdarg.h>
#include <string.h>

const struct moat_error_kind moat_internal_failure = {"InternalFailure", 500, false};
const struct moat_error_kind moat_service_unavailable = {"ServiceUnavailable", 503, false};

struct moat_error *moat_error_new(struct moat_arena *a, const struct moat_error_kind *kind,
                                  const char *fmt, ...)
{
    struct moat_error *e = moat_arena_calloc(a, sizeof(*e));
    e->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    e->message = moat_arena_vformat(a, fmt, ap);
    va_end(ap);
    return e;
}

void moat_error_add_extra(struct moat_arena *a, struct moat_error *e, const char *name,
                          struct moat_slice value)
{
    const char **names = moat_arena_alloc(a, (e->extra_count + 1) * sizeof(*names));
    struct moat_slice *values = moat_arena_alloc(a, (e->extra_count + 1) * sizeof(*values));
    if (e->extra_count) {
        memcpy(names, e->extra_names, e->extra_count * sizeof(*names));
        memcpy(values, e->extra_values, e->extra_count * sizeof(*values));
    }
    names[e->extra_count] = name;
    values[e->extra_count] = value;
    e->extra_names = names;
    e->extra_values = values;
    e->extra_count++;
}

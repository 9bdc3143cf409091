/* error.h: the one error type. Fallible functions return a struct moat_error *
 * (NULL = success); only a protocol encoder turns it into wire bytes. */
#ifndef MOAT_ERROR_H
#define MOAT_ERROR_H

#include "core/arena.h"

struct moat_error_kind {
    const char *code;     /* AWS error code, e.g. "NotFoundException" */
    uint16_t http_status; /* for this service's protocol */
    bool sender_fault;    /* Query <Type>Sender</Type> vs Receiver */
};

struct moat_error {
    const struct moat_error_kind *kind;
    struct moat_slice message;
    /* Extra members some errors carry (S3's <Resource>, SigV4's StringToSign...). */
    const char *const *extra_names;
    const struct moat_slice *extra_values;
    size_t extra_count;
};

/* Formats the message into the arena and returns the error. */
struct moat_error *moat_error_new(struct moat_arena *a, const struct moat_error_kind *kind,
                                  const char *fmt, ...) MOAT_PRINTF(3, 4);
void moat_error_add_extra(struct moat_arena *a, struct moat_error *e, const char *name,
                          struct moat_slice value);

/* Kinds shared by every service. */
extern const struct moat_error_kind moat_internal_failure;      /* InternalFailure 500 */
extern const struct moat_error_kind moat_service_unavailable;   /* ServiceUnavailable 503 */

#endif

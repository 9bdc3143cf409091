/* authorize.h: the one place that decides whether a call may proceed. It
 * reads the operation row (action, resources, condition keys) and asks the
 * IAM evaluator; no service checks permissions itself. */
#ifndef MOAT_AUTHORIZE_H
#define MOAT_AUTHORIZE_H

#include "services/service.h"

/* NULL when allowed; otherwise the service's access-denied error with AWS's
 * message (and call->error_is_denial set). */
struct moat_error *authorize_call(struct moat_call *call);

#endif

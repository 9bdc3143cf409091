/* registry.h: the one list of services and the indexes the request path
 * uses to find a service (by X-Amz-Target prefix, signing name or Query API
 * version) and an operation row (by name). */
#ifndef MOAT_REGISTRY_H
#define MOAT_REGISTRY_H

#include "services/service.h"

/* Checks every row (handler, action, generated shape) and builds the
 * indexes. False (with the reason logged) if a table is inconsistent. */
bool registry_init(void);

const struct moat_service *registry_by_target_prefix(struct moat_slice prefix);
const struct moat_service *registry_by_signing_name(struct moat_slice name);
const struct moat_service *registry_by_query_version(struct moat_slice version);
const struct moat_operation *registry_find_op(const struct moat_service *svc,
                                              struct moat_slice name);

/* Iteration, for start-up hooks and the health endpoint. */
size_t registry_count(void);
const struct moat_service *registry_at(size_t i);

#endif

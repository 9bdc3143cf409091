/* admin.h: moat's own endpoints under /_moat/ (health, reset, test clock)
 * and LocalStack's /_localstack/health, answered without authentication. */
#ifndef MOAT_ADMIN_H
#define MOAT_ADMIN_H

#include "core/base.h"

struct moat_server;
struct http_request;

/* True if the request was an admin endpoint (and has been answered). */
bool admin_handle(struct moat_server *srv, struct http_request *req);

#endif

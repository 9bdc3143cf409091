/* dispatch.h: the HTTP callbacks that run moat's request path. */
#ifndef MOAT_DISPATCH_H
#define MOAT_DISPATCH_H

#include "core/base.h"

struct http_request;

/* http_request_fn: the whole request path for one request (app = struct moat_server). */
void dispatch_request(struct http_request *req, void *app);
/* http_headers_fn: checks that can refuse a request before its body arrives. */
bool dispatch_headers(struct http_request *req, void *app);

#endif

/* http.h: moat's HTTP/1.1 server: one epoll loop per core on SO_REUSEPORT
 * listeners (plain and TLS), a strict request parser, limits and timeouts.
 * The application sees complete requests and answers each exactly once with
 * http_respond(), from any thread; the loop that owns the connection writes it. */
#ifndef MOAT_HTTP_H
#define MOAT_HTTP_H

#include "core/arena.h"

struct http_server;

struct http_tls_info {
    const char *version;      /* "TLSv1.3" */
    const char *cipher;       /* "TLS_AES_128_GCM_SHA256" */
    struct moat_slice sni;    /* client's server name, may be empty */
};

struct http_request {
    struct moat_arena *arena;  /* owned by the server; valid until the response is written */
    struct moat_slice method;
    struct moat_slice target;  /* request-target as received */
    struct moat_slice path;    /* target before '?' (still percent-encoded) */
    struct moat_slice query;   /* target after '?', may be empty */
    struct moat_header *headers; /* in arrival order, names as received */
    size_t header_count;
    struct moat_slice body;    /* de-chunked body */
    int http_minor;            /* 0 or 1 */
    bool tls;
    struct http_tls_info tls_info;
    char peer_ip[46];          /* textual IPv4 or IPv6 */
    uint16_t peer_port;
    uint16_t local_port;
    uint64_t received_ms;      /* monotonic time when the headers completed */
    void *server_private;      /* the connection; do not touch */
};

/* Case-insensitive lookup of the first header named `lower_name`. */
bool http_header(const struct http_request *req, const char *lower_name, struct moat_slice *value);

/* Called on a loop thread once the headers are complete, before the body is
 * read and before any `100 Continue` is sent. Return true to go on reading
 * the body; or answer now with http_respond() and return false (the body is
 * then discarded, or the connection closed if it cannot be skipped safely). */
typedef bool (*http_headers_fn)(struct http_request *req, void *app);
/* Called on a loop thread with a complete request. Must lead to exactly one
 * http_respond() call, now or later, from any thread. */
typedef void (*http_request_fn)(struct http_request *req, void *app);

struct http_config {
    const char *listen;        /* "127.0.0.1:4566", "[::1]:4566"; NULL = no plain listener */
    const char *tls_listen;    /* NULL = no TLS listener */
    const char *tls_cert_file; /* PEM certificate chain */
    const char *tls_key_file;  /* PEM private key */
    int threads;               /* event loops; 0 = number of cores */
    size_t max_header_bytes;   /* request line + headers; beyond: 431 */
    size_t max_headers;        /* header count; beyond: 431 */
    size_t max_body_bytes;     /* beyond: 413 */
    int header_timeout_ms;     /* whole header block must arrive in this time (slowloris): 408 */
    int body_timeout_ms;       /* body must arrive in this time: 408 */
    int idle_timeout_ms;       /* keep-alive idle connection close */
    int max_conns_per_ip;      /* beyond: the new connection is closed at once; <= 0: no cap */
    int max_conns;             /* all connections, same treatment; <= 0: no cap */
    http_headers_fn on_headers;
    http_request_fn on_request;
    void *app;
};

/* Sensible defaults for every limit (16 KiB headers, 100 headers, 16 MiB body,
 * 10 s header / 60 s body / 60 s idle timeouts, 256 connections per IP,
 * 10000 in all). A timeout <= 0 disables that timer; max_header_bytes and
 * max_headers of 0 take the default. The idle timeout also bounds a write
 * that makes no progress. */
void http_config_defaults(struct http_config *cfg);

/* Binds the listeners (so a port conflict is reported at once) and loads TLS
 * material. NULL with a reason in errbuf on failure. */
struct http_server *http_server_new(const struct http_config *cfg, char *errbuf, size_t errlen);
/* Runs the loops (threads - 1 new threads plus the caller); returns after
 * http_server_stop() once every in-flight request has been answered and
 * written (or timed out). */
void http_server_run(struct http_server *srv);
/* Async-signal-safe: stop accepting, close idle connections, let requests
 * already arriving or dispatched finish (their responses say Connection:
 * close), then make run() return. */
void http_server_stop(struct http_server *srv);
void http_server_free(struct http_server *srv);
/* The port a listener actually bound (useful with port 0). */
int http_server_port(const struct http_server *srv, bool tls);

/* Answers a request, exactly once, with a final status (200..999). The server
 * adds Content-Length, Date, Connection and Server and drops those (and
 * Transfer-Encoding) from `headers`, except that the answer to a HEAD request
 * may carry its own Content-Length; header lines with CR, LF or NUL are dropped.
 * Thread-safe; the request and everything passed here must stay valid until
 * the server has written it, which holds when they live in req->arena. */
void http_respond(struct http_request *req, int status, const struct moat_header *headers,
                  size_t header_count, struct moat_slice body);

/* Generates a self-signed certificate (EC P-256, CN=localhost, SAN localhost,
 * 127.0.0.1, ::1) into the two PEM files, mode 0600 for the key. */
bool http_tls_make_self_signed(const char *cert_file, const char *key_file, char *errbuf,
                               size_t errlen);

#endif

/* test_http_server.c: a live server on 127.0.0.1 (port 0, in a thread) driven
 * by raw sockets and an OpenSSL client: framing, limits, timers, async, drain. */
#include "harness.h"
#include "core/clock.h"
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/* ---- the application under test ---- */

static atomic_int headers_calls, request_calls, async_done;
static struct http_request *_Atomic held; /* "/hold" waits here for "/release" */

struct delayed {
    struct http_request *req;
    int delay_ms;
};

static struct moat_header *one_header(struct http_request *req, const char *name,
                                      struct moat_slice value)
{
    struct moat_header *h = moat_arena_alloc(req->arena, sizeof(*h));
    h->name = moat_slice_cstr(name);
    h->value = value;
    return h;
}

static void *answer_later(void *arg)
{
    struct delayed *d = arg;
    usleep((useconds_t)d->delay_ms * 1000);
    struct http_request *req = d->req;
    atomic_fetch_add(&async_done, 1); /* before: the client may see the answer at once */
    http_respond(req, 200, one_header(req, "x-path", req->path), 1, MOAT_LIT("late"));
    return NULL;
}

static bool app_headers(struct http_request *req, void *app)
{
    atomic_fetch_add(&headers_calls, 1);
    if (moat_slice_starts_with(req->path, MOAT_LIT("/reject"))) {
        http_respond(req, 403, NULL, 0, MOAT_LIT("denied"));
        return false;
    }
    return true;
}

static void app_request(struct http_request *req, void *app)
{
    atomic_fetch_add(&request_calls, 1);
    if (moat_slice_eq(req->path, MOAT_LIT("/async")) ||
        moat_slice_eq(req->path, MOAT_LIT("/slow"))) {
        struct delayed *d = moat_arena_alloc(req->arena, sizeof(*d));
        d->req = req;
        d->delay_ms = moat_slice_eq(req->path, MOAT_LIT("/slow")) ? 300 : 100;
        pthread_t t;
        pthread_create(&t, NULL, answer_later, d);
        pthread_detach(t);
        return;
    }
    if (moat_slice_eq(req->path, MOAT_LIT("/hold"))) {
        atomic_store(&held, req);
        return;
    }
    if (moat_slice_eq(req->path, MOAT_LIT("/release"))) {
        /* Answers another connection's request from this one's callback. */
        struct http_request *h = atomic_exchange(&held, NULL);
        if (h)
            http_respond(h, 200, NULL, 0, MOAT_LIT("released"));
        http_respond(req, h ? 200 : 404, NULL, 0, MOAT_LIT("done"));
        return;
    }
    if (moat_slice_eq(req->path, MOAT_LIT("/big"))) {
        size_t n = 1 << 20;
        uint8_t *p = moat_arena_alloc(req->arena, n);
        for (size_t i = 0; i < n; i++)
            p[i] = (uint8_t)('a' + i % 26);
        http_respond(req, 200, NULL, 0, moat_slice(p, n));
        return;
    }
    if (moat_slice_eq(req->path, MOAT_LIT("/tls"))) {
        const char *s = moat_arena_printf(req->arena, "%d|%s|%s|%.*s", req->tls,
                                          req->tls_info.version ? req->tls_info.version : "-",
                                          req->tls_info.cipher ? req->tls_info.cipher : "-",
                                          MOAT_FMT(req->tls_info.sni));
        http_respond(req, 200, NULL, 0, moat_slice_cstr(s));
        return;
    }
    struct moat_header *h = moat_arena_alloc(req->arena, 2 * sizeof(*h));
    h[0] = (struct moat_header){MOAT_LIT("x-path"), req->path};
    h[1] = (struct moat_header){MOAT_LIT("x-method"), req->method};
    http_respond(req, 200, h, 2, req->body);
}

/* ---- server and client plumbing ---- */

struct test_server {
    struct http_server *srv;
    pthread_t thread;
    int port, tls_port;
};

static void *server_main(void *arg)
{
    http_server_run(arg);
    return NULL;
}

static void base_config(struct http_config *cfg)
{
    http_config_defaults(cfg);
    cfg->listen = "127.0.0.1:0";
    cfg->threads = 2;
    cfg->on_headers = app_headers;
    cfg->on_request = app_request;
}

static bool server_start(struct test_server *ts, const struct http_config *cfg)
{
    char err[256];
    ts->srv = http_server_new(cfg, err, sizeof(err));
    if (!ts->srv) {
        fprintf(stderr, "  server: %s\n", err);
        return false;
    }
    ts->port = http_server_port(ts->srv, false);
    ts->tls_port = http_server_port(ts->srv, true);
    pthread_create(&ts->thread, NULL, server_main, ts->srv);
    return true;
}

/* Stops the server; false if run() did not return within 5 s. */
static bool server_stop(struct test_server *ts)
{
    http_server_stop(ts->srv);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 5;
    if (pthread_timedjoin_np(ts->thread, NULL, &deadline) != 0)
        return false;
    http_server_free(ts->srv);
    return true;
}

struct client {
    int fd;
    SSL *ssl;
    size_t len;
    char buf[1 << 21];
};

struct resp {
    int status;
    char head[4096];
    const char *body; /* inside a static buffer, valid until the next read */
    size_t body_len;
};

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 3};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static struct client *client_open(int port)
{
    struct client *c = moat_xcalloc(1, sizeof(*c));
    c->fd = connect_to(port);
    return c;
}

static void client_close(struct client *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

static bool c_send(struct client *c, const void *p, size_t n)
{
    while (n) {
        ssize_t w = c->ssl ? SSL_write(c->ssl, p, (int)n) : send(c->fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p = (const char *)p + w;
        n -= (size_t)w;
    }
    return true;
}

static bool c_send_str(struct client *c, const char *s)
{
    return c_send(c, s, strlen(s));
}

/* >0 bytes, 0 EOF, -1 error, -2 timeout. */
static int c_fill(struct client *c)
{
    size_t space = sizeof(c->buf) - c->len;
    ssize_t n;
    if (c->ssl) {
        n = SSL_read(c->ssl, c->buf + c->len, (int)space);
        if (n <= 0) {
            int e = SSL_get_error(c->ssl, (int)n);
            ERR_clear_error();
            if (e == SSL_ERROR_ZERO_RETURN)
                return 0;
            return errno == EAGAIN ? -2 : -1;
        }
    } else {
        n = recv(c->fd, c->buf + c->len, space, 0);
        if (n < 0)
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? -2 : -1;
        if (n == 0)
            return 0;
    }
    c->len += (size_t)n;
    return (int)n;
}

static bool resp_header(const struct resp *r, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    const char *line = strstr(r->head, "\r\n");
    while (line && line[2] != '\r') {
        line += 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            snprintf(out, outlen, "%.*s", (int)(e - v), v);
            return true;
        }
        line = strstr(line, "\r\n");
    }
    return false;
}

/* Reads one response (a 100 Continue counts as one). head_request: the
 * response has Content-Length but no body. */
static bool read_response(struct client *c, struct resp *r, bool head_request)
{
    static char body[1 << 21];
    for (;;) {
        char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (end) {
            size_t hl = (size_t)(end + 4 - c->buf);
            if (hl >= sizeof(r->head))
                return false;
            memcpy(r->head, c->buf, hl);
            r->head[hl] = 0;
            r->status = atoi(r->head + 9);
            char v[64];
            size_t cl = 0;
            if (r->status >= 200 && !head_request && resp_header(r, "content-length", v, sizeof(v)))
                cl = (size_t)strtoull(v, NULL, 10);
            while (c->len < hl + cl)
                if (c_fill(c) <= 0)
                    return false;
            memcpy(body, c->buf + hl, cl);
            r->body = body;
            r->body_len = cl;
            memmove(c->buf, c->buf + hl + cl, c->len - hl - cl);
            c->len -= hl + cl;
            return true;
        }
        if (c_fill(c) <= 0)
            return false;
    }
}

/* True when the server closed the connection (EOF or reset) without sending more. */
static bool closed_by_server(struct client *c)
{
    if (c->len)
        return false;
    int r = c_fill(c);
    return r == 0 || r == -1;
}

static bool roundtrip(struct client *c, const char *req, struct resp *r)
{
    return c_send_str(c, req) && read_response(c, r, false);
}

static bool body_is(const struct resp *r, const char *s)
{
    return r->body_len == strlen(s) && memcmp(r->body, s, r->body_len) == 0;
}

static bool header_is(const struct resp *r, const char *name, const char *value)
{
    char v[256];
    return resp_header(r, name, v, sizeof(v)) && strcmp(v, value) == 0;
}

/* ---- cases ---- */

MOAT_TEST(get_and_post)
{
    struct http_config cfg;
    struct test_server ts;
    base_config(&cfg);
    if (!server_start(&ts, &cfg)) {
        CHECK(false);
        return;
    }
    struct client *c = client_open(ts.port);
    struct resp r;
    CHECK(roundtrip(c, "GET /echo?x=1 HTTP/1.1\r\nHost: t\r\n\r\n", &r));
    CHECK_EQ_INT(r.status, 200);
    CHECK(header_is(&r, "server", "moat"));
    CHECK(header_is(&r, "connection", "keep-alive"));
    CHECK(header_is(&r, "content-length", "0"));
    CHECK(header_is(&r, "x-path", "/echo"));
    char date[64];
    int64_t epoch;
    CHECK(resp_header(&r, "date", date, sizeof(date)) &&
          moat_time_parse_http(moat_slice_cstr(date), &epoch));
    CHECK(roundtrip(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello", &r));
    CHECK_EQ_INT(r.status, 200);
    CHECK(header_is(&r, "x-method", "POST"));
    CHECK(body_is(&r, "hello"));
    /* HEAD: the length of the body, but no body. */
    CHECK(c_send_str(c, "HEAD /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"));
    CHECK(read_response(c, &r, true));
    CHECK(header_is(&r, "content-length", "3"));
    CHECK(roundtrip(c, "GET /again HTTP/1.1\r\nHost: t\r\n\r\n", &r));
    CHECK(header_is(&r, "x-path", "/again"));
    /* HTTP/1.0 closes unless asked to keep alive. */
    CHECK(roundtrip(c, "GET /ten HTTP/1.0\r\n\r\n", &r));
    CHECK(header_is(&r, "connection", "close"));
    CHECK(closed_by_server(c));
    client_close(c);

    c = client_open(ts.port);
    CHECK(roundtrip(c, "GET /ten HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r));
    CHECK(header_is(&r, "connection", "keep-alive"));
    CHECK(roundtrip(c, "GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &r));
    CHECK(header_is(&r, "connection", "close"));
    CHECK(closed_by_server(c));
    client_close(c);
    CHECK(server_stop(&ts));
}

MOAT_TEST(keep_alive_and_pipelining)
{
    struct http_config cfg;
    struct test_server ts;
    base_config(&cfg);
    if (!server_start(&ts, &cfg)) {
        CHECK(false);
        return;
    }
    struct client *c = client_open(ts.port);
    struct resp r;
    for (int i = 0; i < 20; i++) {
        char req[128], path[32];
        snprintf(path, sizeof(path), "/k%d", i);
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
        CHECK(roundtrip(c, req, &r));
        CHECK(header_is(&r, "x-path", path));
    }
    /* Pipelined, including an asynchronous answer in the middle: in order. */
    CHECK(c_send_str(c, "GET /p1 HTTP/1.1\r\nHost: t\r\n\r\n"
                        "POST /p2 HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi"
                        "GET /async HTTP/1.1\r\nHost: t\r\n\r\n"
                        "PUT /p4 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "3\r\nabc\r\n0\r\n\r\n"
                        "GET /p5 HTTP/1.1\r\nHost: t\r\n\r\n"));
    static const char *const paths[] = {"/p1", "/p2", "/async", "/p4", "/p5"};
    static const char *const bodies[] = {"", "hi", "late", "abc", ""};
    for (size_t i = 0; i < MOAT_COUNT(paths); i++) {
        CHECK(read_response(c, &r, false));
        CHECK(header_is(&r, "x-path", paths[i]));
        CHECK(body_is(&r, bodies[i]));
    }
    client_close(c);
    CHECK(server_stop(&ts));
}

MOAT_TEST(bodies)
{
    struct http_config cfg;
    struct test_server ts;
    base_config(&cfg);
    cfg.max_body_bytes = 300000;
    if (!server_start(&ts, &cfg)) {
        CHECK(false);
        return;
    }
    struct client *c = client_open(ts.port);
    struct resp r;
    CHECK(roundtrip(c,
                    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n",
                    &r));
    CHECK_EQ_INT(r.status, 200);
    CHECK(body_is(&r, "hello, world"));

    /* A large body, in several reads; echoed from the request's memory. */
    size_t n = 250000;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('A' + i % 23);
    char head[128];
    snprintf(head, sizeof(head), "PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n", n);
    CHECK(c_send_str(c, head) && c_send(c, big, n));
    CHECK(read_response(c, &r, false));
    CHECK(r.body_len == n && memcmp(r.body, big, n) == 0);
    free(big);

    /* A large response that the client is slow to read (output backpressure). */
    CHECK(c_send_str(c,
                     "GET /big HTTP/1.1\r\nHost: t\r\n\r\nGET /after HTTP/1.1\r\nHost: t\r\n\r\n"));
    usleep(200 * 1000);
    CHECK(read_response(c, &r, false));
    CHECK_EQ_INT(r.body_len, 1 << 20);
    bool pattern = true;
    for (size_t i = 0; i < r.body_len; i++)
        pattern = pattern && r.body[i] == (char)('a' + i % 26);
    CHECK(pattern);
    CHECK(read_response(c, &r, false));
    CHECK(header_is(&r, "x-path", "/after"));

    /* Over the body limit: 413 and close, before the body is read. */
    CHECK(roundtrip(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 300001\r\n\r\n", &r));
    CHECK_EQ_INT(r.status, 413);
    CHECK(header_is(&r, "connection", "close"));
    CHECK(header_is(&r, "content-type", "text/plain"));
    CHECK(closed_by_server(c));
    client_close(c);

    /* Chunked over the limit. */
    c = client_open(ts.port);
    CHECK(roundtrip(c,
                    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "493e2\r\n",
                    &r));
    CHECK_EQ_INT(r.status, 413);
    client_close(c);
    CHECK(server_stop(&ts));
}

MOAT_TEST(bad_requests)
{
    struct http_config cfg;
    struct test_server ts;
    base_config(&cfg);
    cfg.max_header_bytes = 2048;
    if (!server_start(&ts, &cfg)) {
        CHECK(false);
        return;
    }
    static const struct {
        const char *req;
        int status;
    } cases[] = {
        {"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
         "0\r\n\r\n",
         400},
        {"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n", 501},
        {"GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n", 400},
        {"GET / HTTP/1.1\nHost: t\n\n", 400},
        {"GET / HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505},
        {"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
    };
    for (size_t i = 0; i < MOAT_COUNT(cases); i++) {
        struct client *c = client_open(ts.port);
        struct resp r;
        CHECK(roundtrip(c, cases[i].req, &r));
        CHECK_EQ_INT(r.status, cases[i].status);
        CHECK(header_is(&r, "connection", "close"));
        CHECK(closed_by_server(c));
        client_close(c);
    }
    /* Oversized head: 431; oversized request line: 414. */
    char *huge = malloc(4096);
    memset(huge, 'h', 4095);
    huge[4095] = 0;
    struct client *c = client_open(ts.port);
    struct resp r;
    CHECK(c_send_str(c, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: ") && c_send_str(c, huge));
    CHECK(read_response(c, &r, false));
    CHECK_EQ_INT(r.status, 431);
    client_close(c);
    c = client_open(ts.port);
    CHECK(c_send_str(c, "GET /") && c_send_str(c, huge));
    CHECK(read_response(c, &r, false));
    CHECK_EQ_INT(r.status, 414);
    client_close(c);
    free(huge);
    CHECK(server_stop(&ts));
}

MOAT_TEST(expect_continue)
{
    struct http_config cfg;
    struct test_server ts;
    base_config(&cfg);
    if (!server_start(&ts, &cfg)) {
        CHECK(false);
        return;
    }
    struct client *c = client_open(ts.port);
    struct resp r;
    int calls = atomic_load(&request_calls);
    CHECK(c_send_str(c, "PUT /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                        "Content-Length: 5\r\n\r\n"));
    CHECK(read_response(c, &r, false));
    CHECK_EQ_INT(r.status, 100);
    CHECK_EQ_INT(atomic_load(&request_calls), calls); /* body not here yet */
    CHECK(c_send_str(c, "hello"));
    CHECK(read_response(c, &r, false));
    CHECK_EQ_INT(r.status, 200);
    CHECK(body_is(&r, "hello"));

    /* Body sent along with the headers: no 100. */
    CHECK(roundtrip(c,
                    "PUT /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                    "Content-Length: 2\r\n\r\nok",
                    &r));
    CHECK_EQ_INT(r.status, 200);
    CHECK(body_is(&r, "ok"));

    /* The hook refuses: the final status comes first, no 100, and the
     * connection closes since the client may never send the body. */
    calls = atomic_load(&request_calls);
    CHECK(roundtrip(c,
                    "PUT /reject HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                    "Content-Length: 5\r\n\r\n",
                    &r));
    CHECK_EQ_INT(r.status, 403);
    CHECK(body_is(&r, "denied"));
    CHECK(header_is(&r, "connection", "close"));
    CHECK(closed_by_server(c));
    CHECK_EQ_INT(atomic_load(&request_calls), calls);
    client_close(c);

    /* Refused without Expect: a small body that follows is skipped and the
     * connection stays usable. */
    c = client_open(ts.port);
    CHECK(roundtrip(c, "PUT /reject HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n", &r));
    CHECK_EQ_INT(r.status, 403);
    CHECK(header_is(&r, "connection", "keep-alive"));
    CHECK(roundtrip(c, "0123456789GET /next HTTP/1.1\r\nHost: t\r\n\r\n", &r));
    CHECK_EQ_INT(r.status, 200);
    CHECK(header_is(&r, "x-path", "/next"));
    client_close(c);
    CHECK(server_stop(&ts));
}

MOAT_TEST(timeouts)
{
    struct http_config cfg;
    struct test_server ts;
    base_config(&cfg);
    cfg.header_timeout_ms = 200;
    cfg.body_timeout_ms = 200;
    cfg.idle_timeout_ms = 200;
    if (!server_start(&ts, &cfg)) {
        CHECK(false);
        return;
    }
    struct resp r;
    /* Slowloris: a byte every 50 ms does not extend the header deadline. */
    struct client *c = client_open(ts.port);
    int64_t t0 = moat_clock_monotonic_ms();
    const char *drip = "GET / HTTP/1.1\r\nHost: t\r\n";
    for (size_t i = 0; i < strlen(drip) && moat_clock_monotonic_ms() - t0 < 1000; i++) {
        char peek;
        if (recv(c->fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) == 1 || !c_send(c, drip + i, 1))
            break;
        usleep(50 * 1000);
    }
    CHECK(read_response(c, &r, false));
    CHECK_EQ_INT(r.status, 408);
    CHECK(header_is(&r, "connection", "close"));
    int64_t took = moat_clock_monotonic_ms() - t0;
    CHECK(took >= 190 && took < 800);
    CHECK(closed_by_server(c));
    client_close(c);

    /* A connection that sends nothing is closed silently. */
    c = client_open(ts.port);
    t0 = moat_clock_monotonic_ms();
    CHECK(closed_by_server(c));
    CHECK(moat_clock_monotonic_ms() - t0 < 800);
    client_close(c);

    /* Body timeout. */
    c = client_open(ts.port);
    CHECK(roundtrip(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc", &r));
    CHECK_EQ_INT(r.status, 408);
    client_close(c);

    /* Idle keep-alive: closed silently after a served request. */
    c = client_open(ts.port);
    CHECK(roundtrip(c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n", &r));
    t0 = moat_clock_monotonic_ms();
    CHECK(closed_by_server(c));
    took = moat_clock_monotonic_ms() - t0;
    CHECK(took >= 150 && took < 800);
    client_close(c);
    CHECK(server_stop(&ts));
}

MOAT_TEST(connection_caps)
{
    struct http_config cfg;
    struct test_server ts;
    base_config(&cfg);
    cfg.max_conns_per_ip = 2;
    if (!server_start(&ts, &cfg)) {
        CHECK(false);
        return;
    }
    struct resp r;
    struct client *c1 = client_open(ts.port), *c2 = client_open(ts.port);
    CHECK(roundtrip(c1, "GET /1 HTTP/1.1\r\nHost: t\r\n\r\n", &r));
    CHECK(roundtrip(c2, "GET /2 HTTP/1.1\r\nHost: t\r\n\r\n", &r));
    struct client *c3 = client_open(ts.port);
    CHECK(closed_by_server(c3));
    client_close(c3);
    client_close(c1);
    usleep(100 * 1000);
    c3 = client_open(ts.port);
    CHECK(roundtrip(c3, "GET /3 HTTP/1.1\r\nHost: t\r\n\r\n", &r));
    CHECK_EQ_INT(r.status, 200);
    client_close(c2);
    client_close(c3);
    CHECK(server_stop(&ts));

    /* The global cap. */
    base_config(&cfg);
    cfg.max_conns = 1;
    if (!server_start(&ts, &cfg)) {
        CHECK(false);
        return;
    }
    c1 = client_open(ts.port);
    CHECK(roundtrip(c1, "GET /1 HTTP/1.1\r\nHost: t\r\n\r\n", &r));
    c2 = client_open(ts.port);
    CHECK(closed_by_server(c2));
    client_close(c1);
    client_close(c2);
    CHECK(server_stop(&ts));
}

MOAT_TEST(async_and_disconnect)
{
    struct http_config cfg;
    struct test_server ts;
    base_config(&cfg);
    if (!server_start(&ts, &cfg)) {
        CHECK(false);
        return;
    }
    struct resp r;
    struct client *c = client_open(ts.port);
    int64_t t0 = moat_clock_monotonic_ms();
    CHECK(roundtrip(c, "GET /async HTTP/1.1\r\nHost: t\r\n\r\n", &r));
    CHECK(moat_clock_monotonic_ms() - t0 >= 95);
    CHECK(body_is(&r, "late"));
    CHECK(roundtrip(c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n", &r));
    CHECK_EQ_INT(r.status, 200);
    client_close(c);

    /* The peer leaves while the application holds the request: the answer
     * arrives later and the connection is released then. */
    int done = atomic_load(&async_done);
    for (int i = 0; i < 4; i++) {
        c = client_open(ts.port);
        CHECK(c_send_str(c, "GET /async HTTP/1.1\r\nHost: t\r\n\r\n"));
        usleep(10 * 1000);
        struct linger lg = {.l_onoff = 1, .l_linger = 0}; /* reset, not FIN */
        if (i % 2)
            setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        client_close(c);
    }
    usleep(300 * 1000);
    CHECK_EQ_INT(atomic_load(&async_done), done + 4);
    c = client_open(ts.port);
    CHECK(roundtrip(c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n", &r));
    CHECK_EQ_INT(r.status, 200);
    client_close(c);
    CHECK(server_stop(&ts));
}

MOAT_TEST(answer_from_another_callback)
{
    struct http_config cfg;
    struct test_server ts;
    base_config(&cfg);
    cfg.threads = 1; /* both connections on one loop */
    if (!server_start(&ts, &cfg)) {
        CHECK(false);
        return;
    }
    struct resp r;
    struct client *a1 = client_open(ts.port), *b1 = client_open(ts.port);
    for (int i = 0; i < 3; i++) {
        CHECK(c_send_str(a1, "GET /hold HTTP/1.1\r\nHost: t\r\n\r\n"));
        while (!atomic_load(&held))
            usleep(1000);
        CHECK(roundtrip(b1, "GET /release HTTP/1.1\r\nHost: t\r\n\r\n", &r));
        CHECK_EQ_INT(r.status, 200);
        CHECK(read_response(a1, &r, false));
        CHECK(body_is(&r, "released"));
    }
    client_close(a1);
    client_close(b1);
    CHECK(server_stop(&ts));
}

MOAT_TEST(drain)
{
    struct http_config cfg;
    struct test_server ts;
    base_config(&cfg);
    if (!server_start(&ts, &cfg)) {
        CHECK(false);
        return;
    }
    struct resp r;
    struct client *idle = client_open(ts.port);
    CHECK(roundtrip(idle, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n", &r));
    struct client *busy = client_open(ts.port);
    CHECK(c_send_str(busy, "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"));
    usleep(50 * 1000);
    int64_t t0 = moat_clock_monotonic_ms();
    http_server_stop(ts.srv);
    CHECK(closed_by_server(idle));
    CHECK(read_response(busy, &r, false));
    CHECK_EQ_INT(r.status, 200);
    CHECK(body_is(&r, "late"));
    CHECK(header_is(&r, "connection", "close"));
    CHECK(closed_by_server(busy));
    CHECK(server_stop(&ts)); /* run() has returned */
    CHECK(moat_clock_monotonic_ms() - t0 < 2000);
    CHECK_EQ_INT(connect_to(ts.port), -1);
    client_close(idle);
    client_close(busy);
}

static SSL_CTX *client_ctx(const char *ca_file, int max_version)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx, ca_file, NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), X509_V_FLAG_X509_STRICT);
    if (max_version)
        SSL_CTX_set_max_proto_version(ctx, max_version);
    return ctx;
}

static struct client *tls_open(SSL_CTX *ctx, int port, const char *sni, const char *ip)
{
    struct client *c = client_open(port);
    c->ssl = SSL_new(ctx);
    SSL_set_fd(c->ssl, c->fd);
    if (sni) {
        SSL_set_tlsext_host_name(c->ssl, sni);
        SSL_set1_host(c->ssl, sni);
    } else {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), ip);
    }
    if (SSL_connect(c->ssl) != 1 || SSL_get_verify_result(c->ssl) != X509_V_OK) {
        ERR_print_errors_fp(stderr);
        client_close(c);
        return NULL;
    }
    return c;
}

MOAT_TEST(tls)
{
    char dir[] = "/tmp/moat-http-tls-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char cert[64], key[64], err[256];
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    CHECK(http_tls_make_self_signed(cert, key, err, sizeof(err)));
    struct stat st;
    CHECK(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600);

    struct http_config cfg;
    struct test_server ts;
    base_config(&cfg);
    cfg.tls_listen = "127.0.0.1:0";
    cfg.tls_cert_file = cert;
    cfg.tls_key_file = key;
    if (!server_start(&ts, &cfg)) {
        CHECK(false);
        return;
    }
    CHECK(ts.tls_port > 0 && ts.tls_port != ts.port);
    struct resp r;
    SSL_CTX *ctx = client_ctx(cert, 0);
    struct client *c = tls_open(ctx, ts.tls_port, "localhost", NULL);
    CHECK(c != NULL);
    if (c) {
        CHECK(roundtrip(c, "GET /tls HTTP/1.1\r\nHost: localhost\r\n\r\n", &r));
        CHECK(body_is(&r, "1|TLSv1.3|TLS_AES_256_GCM_SHA384|localhost"));
        /* Keep-alive and pipelining over TLS, and a large response. */
        CHECK(c_send_str(c, "POST /echo HTTP/1.1\r\nHost: l\r\nContent-Length: 3\r\n\r\nabc"
                            "GET /big HTTP/1.1\r\nHost: l\r\n\r\n"));
        CHECK(read_response(c, &r, false));
        CHECK(body_is(&r, "abc"));
        CHECK(read_response(c, &r, false));
        CHECK_EQ_INT(r.body_len, 1 << 20);
        client_close(c);
    }
    /* By IP address, without SNI. */
    c = tls_open(ctx, ts.tls_port, NULL, "127.0.0.1");
    CHECK(c != NULL);
    if (c) {
        CHECK(roundtrip(c, "GET /tls HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", &r));
        CHECK(body_is(&r, "1|TLSv1.3|TLS_AES_256_GCM_SHA384|"));
        client_close(c);
    }
    SSL_CTX_free(ctx);
    /* TLS 1.2. */
    ctx = client_ctx(cert, TLS1_2_VERSION);
    c = tls_open(ctx, ts.tls_port, "localhost", NULL);
    CHECK(c != NULL);
    if (c) {
        CHECK(roundtrip(c, "GET /tls HTTP/1.1\r\nHost: localhost\r\n\r\n", &r));
        CHECK(r.body_len > 10 && memcmp(r.body, "1|TLSv1.2|", 10) == 0);
        client_close(c);
    }
    SSL_CTX_free(ctx);
    /* The plain listener of the same server still answers. */
    c = client_open(ts.port);
    CHECK(roundtrip(c, "GET /tls HTTP/1.1\r\nHost: t\r\n\r\n", &r));
    CHECK(body_is(&r, "0|-|-|"));
    client_close(c);
    /* Garbage instead of a ClientHello: the connection is dropped. */
    c = client_open(ts.tls_port);
    CHECK(c_send_str(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(closed_by_server(c));
    client_close(c);
    CHECK(server_stop(&ts));
    unlink(cert);
    unlink(key);
    rmdir(dir);
}

MOAT_TEST(config_errors)
{
    struct http_config cfg;
    char err[256];
    base_config(&cfg);
    cfg.listen = "127.0.0.1";
    CHECK(http_server_new(&cfg, err, sizeof(err)) == NULL);
    cfg.listen = NULL;
    cfg.tls_listen = "127.0.0.1:0";
    cfg.tls_cert_file = "/nonexistent/cert.pem";
    cfg.tls_key_file = "/nonexistent/key.pem";
    CHECK(http_server_new(&cfg, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "/nonexistent/cert.pem") != NULL);
    /* A port in use (without SO_REUSEPORT) is reported at once. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sin);
    CHECK(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 && listen(fd, 1) == 0);
    getsockname(fd, (struct sockaddr *)&sin, &sl);
    char spec[64];
    snprintf(spec, sizeof(spec), "127.0.0.1:%d", ntohs(sin.sin_port));
    base_config(&cfg);
    cfg.listen = spec;
    CHECK(http_server_new(&cfg, err, sizeof(err)) == NULL);
    close(fd);
    /* Nor may a second server join a running one's port through SO_REUSEPORT. */
    struct test_server ts;
    base_config(&cfg);
    if (!server_start(&ts, &cfg)) {
        CHECK(false);
        return;
    }
    snprintf(spec, sizeof(spec), "127.0.0.1:%d", ts.port);
    cfg.listen = spec;
    struct http_server *second = http_server_new(&cfg, err, sizeof(err));
    CHECK(second == NULL);
    CHECK(strstr(err, "in use") != NULL);
    http_server_free(second);
    CHECK(server_stop(&ts));
}

MOAT_TEST_MAIN(MOAT_CASE(get_and_post), MOAT_CASE(keep_alive_and_pipelining), MOAT_CASE(bodies),
               MOAT_CASE(bad_requests), MOAT_CASE(expect_continue), MOAT_CASE(timeouts),
               MOAT_CASE(connection_caps), MOAT_CASE(async_and_disconnect),
               MOAT_CASE(answer_from_another_callback), MOAT_CASE(drain), MOAT_CASE(tls),
               MOAT_CASE(config_errors))

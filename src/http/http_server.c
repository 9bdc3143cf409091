/* http_server.c: the event loops: listeners, connections, the request cycle
 * (read, parse, dispatch, respond, write), timers, limits and graceful drain. */
#include "http/http.h"

#include "core/clock.h"
#include "core/log.h"
#include "http/http_limits.h"
#include "http/http_parser.h"
#include "http/http_tls.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define IN_INITIAL 4096      /* input buffer of a new connection */
#define READ_MIN 2048        /* free space wanted before a read */
#define READ_BODY 65536      /* ... while a body streams in */
#define ARENA_FIRST 8192     /* first block of a request arena */
#define COPY_BODY_MAX 16384  /* response bodies up to this are copied, larger ones sent in place */
#define OUT_HIGH_WATER 65536 /* unsent bytes that stop serving pipelined requests */
#define BODY_KEEP 65536      /* body buffer kept between requests */
#define SKIP_MAX 65536       /* unread body we still wait for after an early answer */
#define LINGER_MS 2000       /* after a close-after-response, read and drop this long */
#define RUN_ROUNDS 16        /* reads per connection before others get a turn */
#define MAX_EVENTS 256

enum tag_type { TAG_LISTENER = 0, TAG_CONN, TAG_WAKE, TAG_STOP };

enum conn_state {
    ST_HANDSHAKE = 0, /* TLS handshake */
    ST_HEAD,          /* reading a request head, or idle between requests */
    ST_BODY,          /* reading the body of an accepted request */
    ST_APP,           /* the application holds the request */
    ST_RESPONDED,     /* response queued; the request's memory may still be in use */
    ST_SKIP,          /* answered early: dropping the unread body */
    ST_CLOSING,       /* writing the last response */
    ST_LINGER,        /* write side shut: reading and dropping until EOF or timeout */
};

enum timer_kind { T_NONE = -1, T_HEADER = 0, T_BODY, T_IDLE, T_WRITE, T_LINGER, T_COUNT };

struct loop;

struct conn {
    enum tag_type tag; /* first: epoll data points here */
    struct loop *loop;
    int fd;
    SSL *ssl;
    enum conn_state state;
    bool rd_ready;        /* edge-triggered: the socket may hold unread bytes */
    bool rdhup;           /* the peer shut its side: read until EOF */
    bool dead;            /* socket closed while the application holds the request */
    bool in_callback;     /* inside on_headers/on_request: http_respond answers directly */
    bool responded;       /* the loop has seen the application's answer */
    bool early;           /* answered from on_headers, the body is unread */
    bool is_head;         /* HEAD request: no response body */
    bool wrote;           /* output progressed since the timer was set */
    bool linger;          /* the client may still be sending: linger before closing */
    atomic_bool answered; /* http_respond was called for this request */
    uint64_t served;

    uint8_t *in;
    size_t in_start, in_end, in_cap;
    struct http_parser parser;
    struct moat_arena *arena;
    struct moat_buf body;
    struct http_request req;

    struct moat_buf out;
    size_t out_sent;
    struct moat_slice out_body; /* large response body, sent from the application's memory */

    /* The application's answer, handed over under the loop's lock. */
    int status;
    const struct moat_header *resp_headers;
    size_t resp_count;
    struct moat_slice resp_body;

    int timer;
    int64_t deadline;
    struct conn *tprev, *tnext; /* timer list */
    struct conn *aprev, *anext; /* all connections of the loop */
    struct conn *rprev, *rnext; /* ready list */
    bool on_ready;
    struct conn *post_next; /* answers posted to the loop */
    uint8_t addr[16];
};

struct listener {
    enum tag_type tag;
    int fd;
    bool tls;
    uint16_t port;
};

struct conn_list {
    struct conn *head, *tail;
};

struct loop {
    struct http_server *srv;
    int epfd;
    int wake_fd;
    enum tag_type wake_tag, stop_tag;
    struct listener listeners[2];
    int listener_count;
    pthread_t thread;

    pthread_mutex_t post_lock;
    struct conn *posted, *posted_tail;

    struct conn_list timers[T_COUNT];
    int timeout_ms[T_COUNT];
    struct conn *all;
    struct conn *ready_head, *ready_tail;
    int conn_count;
    bool draining;
    bool self_posted;            /* an answer was posted from this loop's own thread */
    int64_t accept_paused_until; /* 0 = accepting */

    int64_t now;
    int64_t date_s;
    char date[32];
};

struct http_server {
    struct http_config cfg;
    int loop_count;
    struct loop *loops;
    int stop_fd;
    SSL_CTX *tls_ctx;
    int port, tls_port;
    struct http_limits limits;
};

static _Thread_local struct loop *current_loop;

static void conn_run(struct conn *c);
static void conn_close(struct conn *c);

/* ---- lists and timers ---- */

static void timer_set(struct conn *c, int kind, bool rearm)
{
    struct loop *l = c->loop;
    if (kind >= 0 && l->timeout_ms[kind] <= 0)
        kind = T_NONE;
    if (c->timer == kind && !rearm)
        return;
    if (c->timer != T_NONE) {
        struct conn_list *tl = &l->timers[c->timer];
        if (c->tprev)
            c->tprev->tnext = c->tnext;
        else
            tl->head = c->tnext;
        if (c->tnext)
            c->tnext->tprev = c->tprev;
        else
            tl->tail = c->tprev;
        c->tprev = c->tnext = NULL;
    }
    c->timer = kind;
    if (kind == T_NONE)
        return;
    /* Every timeout of one kind is the same length, so appending keeps each
     * list sorted by deadline. */
    struct conn_list *tl = &l->timers[kind];
    c->deadline = l->now + l->timeout_ms[kind];
    c->tprev = tl->tail;
    if (tl->tail)
        tl->tail->tnext = c;
    else
        tl->head = c;
    tl->tail = c;
}

static void ready_remove(struct conn *c)
{
    if (!c->on_ready)
        return;
    struct loop *l = c->loop;
    if (c->rprev)
        c->rprev->rnext = c->rnext;
    else
        l->ready_head = c->rnext;
    if (c->rnext)
        c->rnext->rprev = c->rprev;
    else
        l->ready_tail = c->rprev;
    c->rprev = c->rnext = NULL;
    c->on_ready = false;
}

static void ready_add(struct conn *c)
{
    struct loop *l = c->loop;
    if (c->on_ready)
        return;
    c->on_ready = true;
    c->rprev = l->ready_tail;
    if (l->ready_tail)
        l->ready_tail->rnext = c;
    else
        l->ready_head = c;
    l->ready_tail = c;
}

static void update_clock(struct loop *l)
{
    l->now = moat_clock_monotonic_ms();
    /* Service time: SDKs correct their clock skew from this header. */
    int64_t s = moat_clock_now_ms() / 1000;
    if (s != l->date_s) {
        l->date_s = s;
        moat_time_format_rfc1123(s, l->date);
    }
}

/* ---- connection lifetime ---- */

static void conn_free(struct conn *c)
{
    struct loop *l = c->loop;
    timer_set(c, T_NONE, false);
    ready_remove(c);
    if (c->aprev)
        c->aprev->anext = c->anext;
    else
        l->all = c->anext;
    if (c->anext)
        c->anext->aprev = c->aprev;
    moat_arena_free(c->arena);
    moat_buf_release(&c->body);
    moat_buf_release(&c->out);
    free(c->in);
    free(c);
    l->conn_count--;
}

/* Closes the socket. The connection itself goes too, unless the application
 * still holds its request: then it is freed when the answer arrives. */
static void conn_close(struct conn *c)
{
    timer_set(c, T_NONE, false);
    ready_remove(c);
    if (c->fd >= 0) {
        if (c->ssl)
            SSL_free(c->ssl);
        c->ssl = NULL;
        close(c->fd);
        c->fd = -1;
        http_limits_release(&c->loop->srv->limits, c->addr);
    }
    if (c->state == ST_APP && !c->responded) {
        c->dead = true;
        return;
    }
    conn_free(c);
}

static void conn_new(struct loop *l, int fd, SSL *ssl, const struct listener *ls,
                     const struct sockaddr_storage *ss, const uint8_t addr[16])
{
    struct http_server *srv = l->srv;
    struct conn *c = moat_xcalloc(1, sizeof(*c));
    c->tag = TAG_CONN;
    c->loop = l;
    c->fd = fd;
    c->timer = T_NONE;
    memcpy(c->addr, addr, 16);
    c->in_cap = IN_INITIAL;
    c->in = moat_xmalloc(c->in_cap);
    c->arena = moat_arena_new(ARENA_FIRST);
    moat_buf_init(&c->body, NULL, 0);
    moat_buf_init(&c->out, NULL, 0);
    http_parser_init(&c->parser, srv->cfg.max_header_bytes, srv->cfg.max_headers,
                     srv->cfg.max_body_bytes);
    c->req.arena = c->arena;
    c->req.server_private = c;
    c->req.tls = ls->tls;
    c->req.local_port = ls->port;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &sin->sin_addr, c->req.peer_ip, sizeof(c->req.peer_ip));
        c->req.peer_port = ntohs(sin->sin_port);
    } else {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, c->req.peer_ip, sizeof(c->req.peer_ip));
        c->req.peer_port = ntohs(sin6->sin6_port);
    }
    c->ssl = ssl;
    c->state = ssl ? ST_HANDSHAKE : ST_HEAD;
    c->anext = l->all;
    if (l->all)
        l->all->aprev = c;
    l->all = c;
    l->conn_count++;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        moat_log_warn("http: epoll_ctl: %s", strerror(errno));
        conn_close(c);
        return;
    }
    /* Clients usually send the request right behind the handshake or connect:
     * try reading now rather than after another epoll_wait. */
    c->rd_ready = true;
    timer_set(c, T_HEADER, false);
    conn_run(c);
}

/* ---- socket I/O (plain or TLS) ---- */

enum { IO_AGAIN = -1, IO_ERROR = -2 };

static ssize_t conn_recv(struct conn *c, uint8_t *p, size_t n)
{
    if (!c->ssl) {
        ssize_t r = recv(c->fd, p, n, 0);
        if (r >= 0)
            return r;
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? IO_AGAIN : IO_ERROR;
    }
    ERR_clear_error();
    int r = SSL_read(c->ssl, p, (int)MOAT_MIN(n, (size_t)INT_MAX));
    if (r > 0)
        return r;
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return IO_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    default:
        ERR_clear_error();
        return IO_ERROR;
    }
}

static ssize_t conn_send(struct conn *c)
{
    struct iovec iov[2];
    int n = 0;
    if (c->out_sent < c->out.len)
        iov[n++] = (struct iovec){c->out.ptr + c->out_sent, c->out.len - c->out_sent};
    if (c->out_body.len)
        iov[n++] = (struct iovec){(void *)c->out_body.ptr, c->out_body.len};
    if (!c->ssl) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t r = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        if (r >= 0)
            return r;
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? IO_AGAIN : IO_ERROR;
    }
    ERR_clear_error();
    int r = SSL_write(c->ssl, iov[0].iov_base, (int)MOAT_MIN(iov[0].iov_len, (size_t)INT_MAX));
    if (r > 0)
        return r;
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return IO_AGAIN;
    default:
        ERR_clear_error();
        return IO_ERROR;
    }
}

static bool output_pending(const struct conn *c)
{
    return c->out_sent < c->out.len || c->out_body.len;
}

/* Writes what can be written. False when the connection was closed. */
static bool conn_flush(struct conn *c)
{
    while (output_pending(c)) {
        ssize_t n = conn_send(c);
        if (n == IO_AGAIN)
            return true;
        if (n <= 0) {
            conn_close(c);
            return false;
        }
        c->wrote = true;
        size_t k = (size_t)n, head = c->out.len - c->out_sent;
        if (k >= head) {
            c->out_sent = c->out.len = 0;
            k -= head;
            c->out_body.ptr += k;
            c->out_body.len -= k;
        } else {
            c->out_sent += k;
        }
    }
    if (c->out.cap > OUT_HIGH_WATER)
        moat_buf_release(&c->out);
    if (c->state == ST_CLOSING) {
        if (c->ssl) {
            ERR_clear_error();
            SSL_shutdown(c->ssl); /* close_notify */
            ERR_clear_error();
        }
        if (c->rdhup || (!c->linger && c->in_start == c->in_end)) {
            conn_close(c);
            return false;
        }
        /* Lingering close: closing with unread input would send a reset that
         * can destroy our response at the client. Shut our side and drop
         * what still comes, for a while. */
        shutdown(c->fd, SHUT_WR);
        c->state = ST_LINGER;
        c->in_start = c->in_end = 0;
    }
    return true;
}

/* Reads once into the input buffer: 1 bytes arrived, 0 none for now, -1 the
 * connection was closed (EOF or error). */
static int conn_fill(struct conn *c)
{
    const struct http_config *cfg = &c->loop->srv->cfg;
    size_t want = c->state == ST_BODY ? READ_BODY : READ_MIN;
    size_t max_cap = MOAT_MAX(2 * cfg->max_header_bytes + READ_MIN, (size_t)READ_BODY);
    if (c->in_start == c->in_end)
        c->in_start = c->in_end = 0;
    if (c->in_cap - c->in_end < want && c->in_start) {
        memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
        c->in_end -= c->in_start;
        c->in_start = 0;
    }
    if (c->in_cap - c->in_end < want && c->in_cap < max_cap) {
        size_t cap = c->in_cap;
        while (cap - c->in_end < want && cap < max_cap)
            cap *= 2;
        c->in = moat_xrealloc(c->in, cap);
        c->in_cap = cap;
    }
    size_t space = c->in_cap - c->in_end;
    if (!space) {
        /* Cannot happen within the parser's limits; refuse rather than spin. */
        conn_close(c);
        return -1;
    }
    ssize_t n = conn_recv(c, c->in + c->in_end, space);
    if (n > 0) {
        c->in_end += (size_t)n;
        /* A short plain read drained the socket: the next bytes bring a new edge. */
        if (!c->ssl && (size_t)n < space && !c->rdhup)
            c->rd_ready = false;
        return 1;
    }
    if (n == IO_AGAIN) {
        c->rd_ready = false;
        return 0;
    }
    /* EOF or error: nothing more will come. A request still being received
     * is abandoned; one the application holds is not affected (we do not
     * read then). */
    conn_close(c);
    return -1;
}

/* ---- responses ---- */

static const struct {
    int status;
    const char *text;
} reasons[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

/* An unknown status gets an empty reason phrase, which RFC 9112 allows. */
static const char *reason_phrase(int status)
{
    for (size_t i = 0; i < MOAT_COUNT(reasons); i++)
        if (reasons[i].status == status)
            return reasons[i].text;
    return "";
}

static bool header_bytes_ok(struct moat_slice s, bool name)
{
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (c == '\r' || c == '\n' || c == 0 || (name && (c <= ' ' || c == ':')))
            return false;
    }
    return name ? s.len > 0 : true;
}

/* Whether an unread body (after an early answer) can be skipped to keep the
 * connection: when it is already buffered, or small and not held back by
 * Expect (the client then waits for a 100 that never comes). */
static bool body_skippable(struct conn *c)
{
    if (!c->early || !http_parser_has_body(&c->parser))
        return true;
    struct http_parser probe = c->parser;
    size_t used;
    if (http_parse_body(&probe, moat_slice(c->in + c->in_start, c->in_end - c->in_start), &used,
                        NULL) == HTTP_PARSE_DONE)
        return true;
    return !c->parser.expect_continue && !c->parser.chunked && c->parser.remaining <= SKIP_MAX;
}

/* Serialises a final response into the output buffer. The server owns
 * framing: Content-Length, Connection, Date and Server. */
static void format_response(struct conn *c, int status, const struct moat_header *headers,
                            size_t count, struct moat_slice body, bool close)
{
    struct moat_buf *o = &c->out;
    struct loop *l = c->loop;
    bool no_body = status == 204 || status == 304;
    bool keep = !close && c->parser.keep_alive && !l->draining && body_skippable(c);
    bool app_length = false;

    moat_buf_append_cstr(o, "HTTP/1.1 ");
    moat_buf_append_u64(o, (uint64_t)status);
    moat_buf_append_u8(o, ' ');
    moat_buf_append_cstr(o, reason_phrase(status));
    moat_buf_append_cstr(o, "\r\nServer: moat\r\nDate: ");
    moat_buf_append_cstr(o, l->date);
    moat_buf_append_cstr(o, "\r\n");
    for (size_t i = 0; i < count; i++) {
        struct moat_slice n = headers[i].name, v = headers[i].value;
        bool is_cl = moat_slice_eq_nocase(n, MOAT_LIT("content-length"));
        /* A HEAD answer may announce the length of what GET would send. */
        if (is_cl && c->is_head && !app_length) {
            app_length = true;
        } else if (is_cl || moat_slice_eq_nocase(n, MOAT_LIT("connection")) ||
                   moat_slice_eq_nocase(n, MOAT_LIT("transfer-encoding")) ||
                   moat_slice_eq_nocase(n, MOAT_LIT("date")) ||
                   moat_slice_eq_nocase(n, MOAT_LIT("server"))) {
            continue;
        }
        if (!header_bytes_ok(n, true) || !header_bytes_ok(v, false)) {
            moat_log_warn("http: dropped a response header with forbidden bytes");
            continue;
        }
        moat_buf_append(o, n);
        moat_buf_append_cstr(o, ": ");
        moat_buf_append(o, v);
        moat_buf_append_cstr(o, "\r\n");
    }
    if (!no_body && !app_length) {
        moat_buf_append_cstr(o, "Content-Length: ");
        moat_buf_append_u64(o, body.len);
        moat_buf_append_cstr(o, "\r\n");
    }
    moat_buf_append_cstr(o, keep ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
    if (!no_body && !c->is_head && body.len) {
        if (body.len <= COPY_BODY_MAX)
            moat_buf_append(o, body);
        else
            c->out_body = body;
    }
    c->parser.keep_alive = keep;
    if (!keep && c->early)
        c->linger = true;
}

/* Answers a request the server refuses itself, then closes. */
static void conn_fail(struct conn *c, int status)
{
    static const struct moat_header plain[] = {
        {MOAT_LIT("Content-Type"), MOAT_LIT("text/plain")},
    };
    char text[64];
    int n = snprintf(text, sizeof(text), "%s\n", reason_phrase(status));
    c->is_head = false;
    c->linger = true;
    format_response(c, status, plain, MOAT_COUNT(plain), moat_slice(text, (size_t)n), true);
    c->state = ST_CLOSING;
    c->in_start = c->in_end = 0;
}

/* ---- the request cycle ---- */

static void dispatch(struct conn *c)
{
    const struct http_config *cfg = &c->loop->srv->cfg;
    c->req.body = c->body.ptr ? moat_buf_slice(&c->body) : moat_slice("", 0);
    c->state = ST_APP;
    timer_set(c, T_NONE, false);
    c->in_callback = true;
    cfg->on_request(&c->req, cfg->app);
    c->in_callback = false;
}

/* The head is complete: ask the application, then read the body or dispatch. */
static void begin_request(struct conn *c)
{
    const struct http_config *cfg = &c->loop->srv->cfg;
    struct http_parser *p = &c->parser;
    c->req.received_ms = c->loop->now;
    c->req.body = moat_slice("", 0);
    c->is_head = moat_slice_eq(c->req.method, MOAT_LIT("HEAD"));
    timer_set(c, T_NONE, false);
    if (cfg->on_headers) {
        c->state = ST_APP;
        c->in_callback = true;
        bool go_on = cfg->on_headers(&c->req, cfg->app);
        c->in_callback = false;
        if (!go_on || c->responded) {
            c->early = true;
            return;
        }
    }
    if (!http_parser_has_body(p)) {
        dispatch(c);
        return;
    }
    if (p->expect_continue && c->in_start == c->in_end)
        moat_buf_append_cstr(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
    if (p->content_length)
        moat_buf_reserve(&c->body, (size_t)MOAT_MIN(p->content_length, (uint64_t)BODY_KEEP));
    c->state = ST_BODY;
}

/* The response is out (or queued without references): ready for the next request. */
static void finish_request(struct conn *c)
{
    moat_arena_reset(c->arena);
    c->body.len = 0;
    if (c->body.cap > BODY_KEEP)
        moat_buf_release(&c->body);
    if (c->in_start == c->in_end && c->in_cap > 4 * IN_INITIAL) {
        free(c->in);
        c->in_cap = IN_INITIAL;
        c->in = moat_xmalloc(c->in_cap);
        c->in_start = c->in_end = 0;
    }
    http_parser_reset(&c->parser);
    c->responded = c->early = c->is_head = false;
    atomic_store(&c->answered, false);
    c->served++;
    timer_set(c, T_NONE, false);
    c->state = c->loop->draining ? ST_CLOSING : ST_HEAD;
}

/* Advances the request cycle with what is buffered. False when the
 * connection was closed. */
static bool conn_step(struct conn *c)
{
    struct moat_slice in;
    size_t used;
    int r;
    for (;;) {
        in = moat_slice(c->in + c->in_start, c->in_end - c->in_start);
        switch (c->state) {
        case ST_HANDSHAKE:
            ERR_clear_error();
            r = SSL_do_handshake(c->ssl);
            if (r == 1) {
                http_tls_info_fill(c->ssl, &c->req.tls_info);
                c->state = ST_HEAD;
                c->rd_ready = true;
                continue;
            }
            r = SSL_get_error(c->ssl, r);
            if (r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE)
                return true;
            ERR_clear_error();
            conn_close(c);
            return false;
        case ST_HEAD:
            if (c->out.len - c->out_sent > OUT_HIGH_WATER || c->out_body.len || !in.len)
                return true;
            r = http_parse_head(&c->parser, c->arena, in, &used, &c->req);
            if (r == HTTP_PARSE_MORE)
                return true;
            if (r == HTTP_PARSE_ERROR) {
                conn_fail(c, c->parser.error);
                continue;
            }
            c->in_start += used;
            begin_request(c);
            continue;
        case ST_BODY:
        case ST_SKIP:
            r = http_parse_body(&c->parser, in, &used, c->state == ST_BODY ? &c->body : NULL);
            c->in_start += used;
            if (r == HTTP_PARSE_MORE)
                return true;
            if (r == HTTP_PARSE_ERROR && c->state == ST_SKIP) {
                /* Bad framing after an early answer: send that answer, then go. */
                c->linger = true;
                c->state = ST_CLOSING;
                c->in_start = c->in_end = 0;
                continue;
            }
            if (r == HTTP_PARSE_ERROR) {
                conn_fail(c, c->parser.error);
                continue;
            }
            if (c->state == ST_BODY)
                dispatch(c);
            else
                finish_request(c);
            continue;
        case ST_APP:
            if (!c->responded)
                return true;
            format_response(c, c->status, c->resp_headers, c->resp_count, c->resp_body, false);
            c->state = c->parser.keep_alive ? ST_RESPONDED : ST_CLOSING;
            continue;
        case ST_RESPONDED:
            if (c->out_body.len)
                return true;
            if (c->early)
                c->state = ST_SKIP;
            else
                finish_request(c);
            continue;
        case ST_CLOSING:
            return true;
        case ST_LINGER:
            c->in_start = c->in_end = 0;
            return true;
        }
    }
}

static bool wants_input(const struct conn *c)
{
    switch (c->state) {
    case ST_HEAD:
        return c->out.len - c->out_sent <= OUT_HIGH_WATER && !c->out_body.len;
    case ST_BODY:
    case ST_SKIP:
    case ST_LINGER:
        return true;
    default:
        return false;
    }
}

static void conn_set_timer(struct conn *c)
{
    int kind;
    bool rearm = false;
    if (output_pending(c)) {
        kind = T_WRITE;
        rearm = c->wrote; /* a stall, not a slow transfer, is what times out */
    } else {
        switch (c->state) {
        case ST_HANDSHAKE:
            kind = T_HEADER;
            break;
        case ST_HEAD:
            /* The header deadline starts with the first byte of a request on
             * a kept-alive connection, and at accept on a new one. */
            kind = (c->in_end > c->in_start || c->served == 0) ? T_HEADER : T_IDLE;
            break;
        case ST_BODY:
        case ST_SKIP:
            kind = T_BODY;
            break;
        case ST_LINGER:
            kind = T_LINGER;
            break;
        default:
            kind = T_NONE;
            break;
        }
    }
    c->wrote = false;
    timer_set(c, kind, rearm);
}

/* Moves a connection as far as its buffers, its socket and the application
 * allow. Called on events, on answers and on timeouts. */
static void conn_run(struct conn *c)
{
    for (int round = 0;; round++) {
        if (!conn_step(c))
            return;
        bool backlog = output_pending(c);
        if (!conn_flush(c))
            return;
        if (backlog && !output_pending(c))
            continue; /* drained: a response's memory is free, pipelined requests may go on */
        if (!wants_input(c) || !c->rd_ready)
            break;
        if (round == RUN_ROUNDS) {
            ready_add(c); /* let the others run; resume next iteration */
            break;
        }
        int r = conn_fill(c);
        if (r < 0)
            return;
        if (r == 0)
            break;
    }
    conn_set_timer(c);
}

static void on_timeout(struct conn *c)
{
    int kind = c->timer;
    timer_set(c, T_NONE, false);
    bool mid_request = (c->state == ST_HEAD && c->in_end > c->in_start) || c->state == ST_BODY;
    if ((kind == T_HEADER || kind == T_BODY) && mid_request && !output_pending(c)) {
        conn_fail(c, 408);
        conn_run(c);
        return;
    }
    conn_close(c);
}

void http_respond(struct http_request *req, int status, const struct moat_header *headers,
                  size_t header_count, struct moat_slice body)
{
    struct conn *c = req->server_private;
    assert(status >= 200 && status <= 999);
    if (atomic_exchange(&c->answered, true)) {
        moat_log_error("http: a request was answered twice");
        abort();
    }
    c->status = status;
    c->resp_headers = headers;
    c->resp_count = header_count;
    c->resp_body = body;
    struct loop *l = c->loop;
    if (current_loop == l && c->in_callback) {
        c->responded = true;
        return;
    }
    /* Another thread, or this loop outside the request's own callback: hand
     * the answer to the loop, which serialises it. The lock orders the
     * stores above before the loop reads them. */
    pthread_mutex_lock(&l->post_lock);
    bool was_empty = !l->posted;
    c->post_next = NULL;
    if (l->posted_tail)
        l->posted_tail->post_next = c;
    else
        l->posted = c;
    l->posted_tail = c;
    pthread_mutex_unlock(&l->post_lock);
    if (current_loop == l) {
        l->self_posted = true; /* run_posted sees it before the next wait */
    } else if (was_empty) {
        uint64_t one = 1;
        (void)!write(l->wake_fd, &one, sizeof(one));
    }
}

static void run_posted(struct loop *l)
{
    l->self_posted = false;
    for (;;) {
        pthread_mutex_lock(&l->post_lock);
        struct conn *c = l->posted;
        l->posted = l->posted_tail = NULL;
        pthread_mutex_unlock(&l->post_lock);
        if (!c)
            return;
        while (c) {
            struct conn *next = c->post_next;
            c->responded = true;
            if (c->dead)
                conn_free(c);
            else
                conn_run(c);
            c = next;
        }
    }
}

static void run_ready(struct loop *l)
{
    int budget = l->conn_count;
    struct conn *c;
    while (budget-- > 0 && (c = l->ready_head)) {
        ready_remove(c);
        conn_run(c);
    }
}

static void run_timers(struct loop *l)
{
    for (int k = 0; k < T_COUNT; k++) {
        struct conn *c;
        while ((c = l->timers[k].head) && c->deadline <= l->now)
            on_timeout(c);
    }
}

/* ---- listeners and the loop ---- */

static void listeners_watch(struct loop *l, bool on)
{
    for (int i = 0; i < l->listener_count; i++) {
        struct listener *ls = &l->listeners[i];
        if (ls->fd < 0)
            continue;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = ls};
        epoll_ctl(l->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, ls->fd, &ev);
    }
}

static void to_addr16(const struct sockaddr_storage *ss, uint8_t addr[16])
{
    if (ss->ss_family == AF_INET) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(addr, mapped, 12);
        memcpy(addr + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    } else {
        memcpy(addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
    }
}

static void on_accept(struct loop *l, struct listener *ls)
{
    for (int i = 0; i < 64 && !l->draining; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(ls->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: stop accepting for a moment instead of
                 * spinning on a listener that stays readable. */
                moat_log_warn("http: accept: %s", strerror(errno));
                listeners_watch(l, false);
                l->accept_paused_until = l->now + 100;
            }
            return;
        }
        uint8_t addr[16];
        to_addr16(&ss, addr);
        if (!http_limits_acquire(&l->srv->limits, addr)) {
            close(fd); /* over the per-address or global cap */
            continue;
        }
        SSL *ssl = NULL;
        if (ls->tls) {
            ssl = SSL_new(l->srv->tls_ctx);
            if (!ssl || SSL_set_fd(ssl, fd) != 1) {
                moat_log_warn("http: SSL_new failed");
                ERR_clear_error();
                SSL_free(ssl);
                close(fd);
                http_limits_release(&l->srv->limits, addr);
                continue;
            }
            SSL_set_accept_state(ssl);
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        conn_new(l, fd, ssl, ls, &ss, addr);
    }
}

/* Stop accepting, close idle connections; busy ones finish and then close. */
static void loop_drain(struct loop *l)
{
    l->draining = true;
    listeners_watch(l, false);
    for (int i = 0; i < l->listener_count; i++) {
        if (l->listeners[i].fd >= 0)
            close(l->listeners[i].fd);
        l->listeners[i].fd = -1;
    }
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->srv->stop_fd, NULL);
    struct conn *c = l->all, *next;
    for (; c; c = next) {
        next = c->anext;
        bool idle = c->state == ST_HANDSHAKE ||
                    (c->state == ST_HEAD && c->in_start == c->in_end && !output_pending(c));
        if (idle)
            conn_close(c);
    }
}

static int next_timeout(struct loop *l)
{
    if (l->ready_head || l->self_posted)
        return 0;
    int64_t next = -1;
    for (int k = 0; k < T_COUNT; k++) {
        struct conn *c = l->timers[k].head;
        if (c && (next < 0 || c->deadline < next))
            next = c->deadline;
    }
    if (l->accept_paused_until && (next < 0 || l->accept_paused_until < next))
        next = l->accept_paused_until;
    if (next < 0)
        return -1;
    return next <= l->now ? 0 : (int)MOAT_MIN(next - l->now, (int64_t)INT_MAX);
}

static void *loop_main(void *arg)
{
    struct loop *l = arg;
    struct epoll_event evs[MAX_EVENTS];
    current_loop = l;
    update_clock(l);
    while (!(l->draining && l->conn_count == 0)) {
        int n = epoll_wait(l->epfd, evs, MAX_EVENTS, next_timeout(l));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            moat_log_error("http: epoll_wait: %s", strerror(errno));
            break;
        }
        update_clock(l);
        bool stop = false;
        for (int i = 0; i < n; i++) {
            enum tag_type *tag = evs[i].data.ptr;
            uint32_t e = evs[i].events;
            if (*tag == TAG_CONN) {
                struct conn *c = (struct conn *)tag;
                if (e & (EPOLLERR | EPOLLHUP)) {
                    conn_close(c);
                    continue;
                }
                if (e & EPOLLRDHUP)
                    c->rdhup = true;
                if (e & (EPOLLIN | EPOLLRDHUP))
                    c->rd_ready = true;
                conn_run(c);
            } else if (*tag == TAG_LISTENER) {
                on_accept(l, (struct listener *)tag);
            } else if (*tag == TAG_WAKE) {
                uint64_t v;
                (void)!read(l->wake_fd, &v, sizeof(v));
            } else {
                stop = true; /* handled after the batch: it closes connections */
            }
        }
        run_posted(l);
        run_ready(l);
        if (stop && !l->draining)
            loop_drain(l);
        if (l->accept_paused_until && l->now >= l->accept_paused_until) {
            l->accept_paused_until = 0;
            if (!l->draining)
                listeners_watch(l, true);
        }
        run_timers(l);
    }
    current_loop = NULL;
    return NULL;
}

/* ---- setup ---- */

void http_config_defaults(struct http_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_header_bytes = 16 * 1024;
    cfg->max_headers = 100;
    cfg->max_body_bytes = 16 * 1024 * 1024;
    cfg->header_timeout_ms = 10 * 1000;
    cfg->body_timeout_ms = 60 * 1000;
    cfg->idle_timeout_ms = 60 * 1000;
    cfg->max_conns_per_ip = 256;
    cfg->max_conns = 10000;
}

/* Resolves "host:port", "[v6]:port" or ":port" (all addresses). */
static bool resolve(const char *spec, struct sockaddr_storage *ss, socklen_t *len, char *errbuf,
                    size_t errlen)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon - spec >= (long)sizeof(host)) {
        snprintf(errbuf, errlen, "listen address \"%s\": expected host:port", spec);
        return false;
    }
    size_t hl = (size_t)(colon - spec);
    memcpy(host, spec, hl);
    host[hl] = 0;
    char *h = host;
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = 0;
        h = host + 1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(errbuf, errlen, "listen address \"%s\": %s", spec, gai_strerror(rc));
        return false;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
    return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
                                          : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* SO_REUSEPORT lets any process of the same user join a port, so a second
 * server would silently take half of the first one's connections. A probe
 * bound without it fails if anything listens there; it also picks the port
 * when 0 was asked for. */
static bool probe_port(struct sockaddr_storage *ss, socklen_t len, const char *spec, char *errbuf,
                       size_t errlen)
{
    int one = 1;
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ss->ss_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    if (fd < 0 || bind(fd, (struct sockaddr *)ss, len) != 0) {
        snprintf(errbuf, errlen, "listen %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    struct sockaddr_storage got;
    socklen_t gl = sizeof(got);
    getsockname(fd, (struct sockaddr *)&got, &gl);
    set_port(ss, port_of(&got));
    close(fd);
    return true;
}

static int bind_listener(const struct sockaddr_storage *ss, socklen_t len, char *errbuf,
                         size_t errlen)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0)
        goto fail;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
        goto fail;
    if (ss->ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, 1024) != 0)
        goto fail;
    return fd;
fail:
    snprintf(errbuf, errlen, "listen: %s", strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

static bool loop_init(struct http_server *srv, struct loop *l, char *errbuf, size_t errlen)
{
    const struct http_config *cfg = &srv->cfg;
    l->srv = srv;
    l->wake_tag = TAG_WAKE;
    l->stop_tag = TAG_STOP;
    l->date_s = -1;
    pthread_mutex_init(&l->post_lock, NULL);
    l->timeout_ms[T_HEADER] = cfg->header_timeout_ms;
    l->timeout_ms[T_BODY] = cfg->body_timeout_ms;
    l->timeout_ms[T_IDLE] = cfg->idle_timeout_ms;
    l->timeout_ms[T_WRITE] = cfg->idle_timeout_ms;
    l->timeout_ms[T_LINGER] = LINGER_MS;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->epfd < 0 || l->wake_fd < 0) {
        snprintf(errbuf, errlen, "epoll/eventfd: %s", strerror(errno));
        return false;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->wake_tag};
    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake_fd, &ev);
    ev.data.ptr = &l->stop_tag;
    epoll_ctl(l->epfd, EPOLL_CTL_ADD, srv->stop_fd, &ev);
    return true;
}

struct http_server *http_server_new(const struct http_config *config, char *errbuf, size_t errlen)
{
    struct http_server *srv = moat_xcalloc(1, sizeof(*srv));
    struct http_config *cfg = &srv->cfg;
    struct http_config defaults;
    http_config_defaults(&defaults);
    *cfg = *config;
    if (!cfg->max_header_bytes)
        cfg->max_header_bytes = defaults.max_header_bytes;
    if (!cfg->max_headers)
        cfg->max_headers = defaults.max_headers;
    cfg->listen = cfg->tls_listen = cfg->tls_cert_file = cfg->tls_key_file = NULL;
    srv->stop_fd = -1;
    srv->port = srv->tls_port = -1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    srv->loop_count = config->threads > 0 ? config->threads : (int)(cores > 0 ? cores : 1);
    srv->loops = moat_xcalloc((size_t)srv->loop_count, sizeof(*srv->loops));
    for (int i = 0; i < srv->loop_count; i++)
        srv->loops[i].epfd = srv->loops[i].wake_fd = -1;
    http_limits_init(&srv->limits, config->max_conns_per_ip, config->max_conns);
    /* TLS writes go through OpenSSL's socket BIO, which cannot pass MSG_NOSIGNAL. */
    signal(SIGPIPE, SIG_IGN);

    if (!config->on_request || (!config->listen && !config->tls_listen)) {
        snprintf(errbuf, errlen, "http: on_request and a listener are required");
        goto fail;
    }
    if (config->tls_listen) {
        srv->tls_ctx =
            http_tls_ctx_new(config->tls_cert_file, config->tls_key_file, errbuf, errlen);
        if (!srv->tls_ctx)
            goto fail;
    }
    srv->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (srv->stop_fd < 0) {
        snprintf(errbuf, errlen, "eventfd: %s", strerror(errno));
        goto fail;
    }
    for (int i = 0; i < srv->loop_count; i++)
        if (!loop_init(srv, &srv->loops[i], errbuf, errlen))
            goto fail;
    const char *specs[2] = {config->listen, config->tls_listen};
    for (int k = 0; k < 2; k++) {
        if (!specs[k])
            continue;
        struct sockaddr_storage ss;
        socklen_t len;
        if (!resolve(specs[k], &ss, &len, errbuf, errlen) ||
            !probe_port(&ss, len, specs[k], errbuf, errlen))
            goto fail;
        for (int i = 0; i < srv->loop_count; i++) {
            struct loop *l = &srv->loops[i];
            struct listener *ls = &l->listeners[l->listener_count++];
            ls->tag = TAG_LISTENER;
            ls->tls = k == 1;
            ls->port = port_of(&ss);
            ls->fd = bind_listener(&ss, len, errbuf, errlen);
            if (ls->fd < 0)
                goto fail;
        }
        *(k ? &srv->tls_port : &srv->port) = port_of(&ss);
    }
    for (int i = 0; i < srv->loop_count; i++)
        listeners_watch(&srv->loops[i], true);
    return srv;
fail:
    http_server_free(srv);
    return NULL;
}

void http_server_run(struct http_server *srv)
{
    for (int i = 1; i < srv->loop_count; i++)
        if (pthread_create(&srv->loops[i].thread, NULL, loop_main, &srv->loops[i]) != 0) {
            moat_log_error("http: cannot start loop thread");
            abort();
        }
    loop_main(&srv->loops[0]);
    for (int i = 1; i < srv->loop_count; i++)
        pthread_join(srv->loops[i].thread, NULL);
}

void http_server_stop(struct http_server *srv)
{
    uint64_t one = 1;
    (void)!write(srv->stop_fd, &one, sizeof(one));
}

void http_server_free(struct http_server *srv)
{
    if (!srv)
        return;
    for (int i = 0; i < srv->loop_count; i++) {
        struct loop *l = &srv->loops[i];
        while (l->all) {
            l->all->state = ST_HEAD; /* never run: nobody holds a request */
            conn_close(l->all);
        }
        for (int k = 0; k < l->listener_count; k++)
            if (l->listeners[k].fd >= 0)
                close(l->listeners[k].fd);
        if (l->epfd >= 0)
            close(l->epfd);
        if (l->wake_fd >= 0)
            close(l->wake_fd);
        if (l->srv)
            pthread_mutex_destroy(&l->post_lock);
    }
    free(srv->loops);
    if (srv->stop_fd >= 0)
        close(srv->stop_fd);
    SSL_CTX_free(srv->tls_ctx);
    http_limits_cleanup(&srv->limits);
    free(srv);
}

int http_server_port(const struct http_server *srv, bool tls)
{
    return tls ? srv->tls_port : srv->port;
}

/* http_parser.c: strict HTTP/1.1 request framing (RFC 9112). Anything that two
 * parsers could read differently (CL+TE, obs-fold, bare CR/LF) is refused. */
#include "http/http_parser.h"

#include <string.h>

enum body_state {
    B_DONE = 0,
    B_LENGTH,  /* Content-Length bytes */
    B_SIZE,    /* chunk-size hex digits */
    B_SIZE_WS, /* BWS between the size and ';' */
    B_EXT,     /* chunk extensions, up to CR */
    B_SIZE_LF,
    B_DATA,
    B_DATA_CR,
    B_DATA_LF,
    B_TRAILER, /* start of a trailer line, or CR of the final empty line */
    B_TNAME,
    B_TVALUE,
    B_TLF,
    B_END_LF,
};

static int fail(struct http_parser *p, int status)
{
    p->error = status;
    return HTTP_PARSE_ERROR;
}

static bool is_tchar(uint8_t c)
{
    static const char punct[] = "!#$%&'*+-.^_`|~";
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && memchr(punct, c, sizeof(punct) - 1) != NULL;
}

/* field-vchar, SP, HTAB and obs-text: anything but CTLs and DEL. */
static bool is_field_char(uint8_t c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

void http_parser_init(struct http_parser *p, size_t max_header_bytes, size_t max_headers,
                      uint64_t max_body_bytes)
{
    memset(p, 0, sizeof(*p));
    p->max_header_bytes = max_header_bytes;
    p->max_headers = max_headers;
    p->max_body_bytes = max_body_bytes;
}

void http_parser_reset(struct http_parser *p)
{
    http_parser_init(p, p->max_header_bytes, p->max_headers, p->max_body_bytes);
}

bool http_parser_has_body(const struct http_parser *p)
{
    return p->chunked || p->content_length > 0;
}

static struct moat_slice trim_ows(struct moat_slice s)
{
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
        s.ptr++;
        s.len--;
    }
    while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
        s.len--;
    return s;
}

/* What the special headers told us, gathered while the lines are read. */
struct framing {
    bool has_cl, has_te, te_final_chunked, te_bad_order, te_other;
    bool conn_close, conn_keep_alive, expect_other;
    uint64_t cl;
    size_t hosts;
};

static int on_content_length(struct http_parser *p, struct framing *f, struct moat_slice v)
{
    uint64_t n;
    for (size_t i = 0; i < v.len; i++)
        if (v.ptr[i] < '0' || v.ptr[i] > '9')
            return fail(p, 400);
    if (!moat_slice_to_u64(v, &n))
        return fail(p, 400);
    if (f->has_cl && n != f->cl)
        return fail(p, 400);
    f->has_cl = true;
    f->cl = n;
    return HTTP_PARSE_DONE;
}

/* Transfer-Encoding may be split over several lines; only the list as a whole
 * matters: exactly one coding, "chunked", is accepted. */
static int on_transfer_encoding(struct http_parser *p, struct framing *f, struct moat_slice v)
{
    struct moat_slice rest = v, item;
    while (moat_slice_split(&rest, ',', &item)) {
        item = trim_ows(item);
        if (!item.len)
            return fail(p, 400);
        if (f->te_final_chunked)
            f->te_bad_order = true; /* something follows chunked */
        f->te_final_chunked = moat_slice_eq_nocase(item, MOAT_LIT("chunked"));
        if (!f->te_final_chunked)
            f->te_other = true;
    }
    f->has_te = true;
    return HTTP_PARSE_DONE;
}

static void on_connection(struct framing *f, struct moat_slice v)
{
    struct moat_slice rest = v, item;
    while (moat_slice_split(&rest, ',', &item)) {
        item = trim_ows(item);
        if (moat_slice_eq_nocase(item, MOAT_LIT("close")))
            f->conn_close = true;
        else if (moat_slice_eq_nocase(item, MOAT_LIT("keep-alive")))
            f->conn_keep_alive = true;
    }
}

static bool host_ok(struct moat_slice v)
{
    for (size_t i = 0; i < v.len; i++) {
        uint8_t c = v.ptr[i];
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == '?' || c == '#' || c == '@' || c == '\\')
            return false;
    }
    return true;
}

static int on_header(struct http_parser *p, struct framing *f, const struct http_request *req,
                     struct moat_header h)
{
    switch (h.name.len) {
    case 4:
        if (moat_slice_eq_nocase(h.name, MOAT_LIT("host"))) {
            f->hosts++;
            if (!host_ok(h.value))
                return fail(p, 400);
        }
        break;
    case 6:
        if (moat_slice_eq_nocase(h.name, MOAT_LIT("expect"))) {
            /* HTTP/1.0 clients cannot expect 100 (RFC 9110 10.1.1): ignored. */
            if (req->http_minor == 0)
                break;
            if (moat_slice_eq_nocase(h.value, MOAT_LIT("100-continue")))
                p->expect_continue = true;
            else
                f->expect_other = true;
        }
        break;
    case 10:
        if (moat_slice_eq_nocase(h.name, MOAT_LIT("connection")))
            on_connection(f, h.value);
        break;
    case 14:
        if (moat_slice_eq_nocase(h.name, MOAT_LIT("content-length")))
            return on_content_length(p, f, h.value);
        break;
    case 17:
        if (moat_slice_eq_nocase(h.name, MOAT_LIT("transfer-encoding")))
            return on_transfer_encoding(p, f, h.value);
        break;
    default:
        break;
    }
    return HTTP_PARSE_DONE;
}

/* Splits the request-target into path and query. Accepts origin-form,
 * absolute-form (http/https) and "*" for OPTIONS; refuses fragments. */
static int split_target(struct http_parser *p, struct http_request *req)
{
    struct moat_slice t = req->target;
    struct moat_slice rest;
    if (t.ptr[0] == '/') {
        rest = t;
    } else if (t.len == 1 && t.ptr[0] == '*') {
        if (!moat_slice_eq(req->method, MOAT_LIT("OPTIONS")))
            return fail(p, 400);
        req->path = t;
        req->query = moat_slice(t.ptr + 1, 0);
        return HTTP_PARSE_DONE;
    } else {
        size_t skip;
        if (t.len > 7 && moat_slice_eq_nocase(moat_slice(t.ptr, 7), MOAT_LIT("http://")))
            skip = 7;
        else if (t.len > 8 && moat_slice_eq_nocase(moat_slice(t.ptr, 8), MOAT_LIT("https://")))
            skip = 8;
        else
            return fail(p, 400);
        size_t end = skip;
        while (end < t.len && t.ptr[end] != '/' && t.ptr[end] != '?')
            end++;
        if (end == skip || !host_ok(moat_slice(t.ptr + skip, end - skip)))
            return fail(p, 400);
        rest = moat_slice(t.ptr + end, t.len - end);
    }
    long q = moat_slice_index(rest, '?');
    if (q < 0) {
        req->path = rest;
        req->query = moat_slice(rest.ptr + rest.len, 0);
    } else {
        req->path = moat_slice(rest.ptr, (size_t)q);
        req->query = moat_slice(rest.ptr + q + 1, rest.len - (size_t)q - 1);
    }
    if (!req->path.len)
        req->path = MOAT_LIT("/"); /* absolute-form without a path */
    return HTTP_PARSE_DONE;
}

/* Parses a complete head whose lines all end in CRLF (the scanner checked
 * that) and that contains no NUL. */
static int parse_head(struct http_parser *p, struct moat_arena *a, const uint8_t *h, size_t len,
                      struct http_request *req)
{
    const uint8_t *q = h, *e = h + len;

    const uint8_t *m = q;
    while (is_tchar(*q))
        q++;
    if (q == m || *q != ' ')
        return fail(p, 400);
    req->method = moat_slice(m, (size_t)(q - m));
    q++;

    const uint8_t *t = q;
    while (*q > 0x20 && *q < 0x7f && *q != '#')
        q++;
    if (q == t || *q != ' ')
        return fail(p, 400);
    req->target = moat_slice(t, (size_t)(q - t));
    q++;

    if (e - q < 10 || memcmp(q, "HTTP/", 5) != 0 || q[6] != '.' || q[5] < '0' || q[5] > '9' ||
        q[7] < '0' || q[7] > '9' || q[8] != '\r')
        return fail(p, 400);
    if (q[5] != '1')
        return fail(p, 505);
    req->http_minor = q[7] == '0' ? 0 : 1; /* 1.x with x > 1 is served as 1.1 */
    q += 10;

    if (moat_slice_eq(req->method, MOAT_LIT("CONNECT")))
        return fail(p, 501);
    if (split_target(p, req) != HTTP_PARSE_DONE)
        return HTTP_PARSE_ERROR;

    struct framing f = {0};
    size_t cap = p->lines > 2 ? p->lines - 2 : 1;
    req->headers = moat_arena_alloc(a, cap * sizeof(struct moat_header));
    req->header_count = 0;
    while (q[0] != '\r') {
        /* A line starting with whitespace is obs-fold (or whitespace before
         * the first field): refused, as RFC 9112 5.2 allows. */
        const uint8_t *n = q;
        while (is_tchar(*q))
            q++;
        if (q == n || *q != ':')
            return fail(p, 400);
        struct moat_header hd;
        hd.name = moat_slice(n, (size_t)(q - n));
        q++;
        const uint8_t *v = q;
        while (*q != '\r') {
            if (!is_field_char(*q))
                return fail(p, 400);
            q++;
        }
        hd.value = trim_ows(moat_slice(v, (size_t)(q - v)));
        q += 2;
        if (req->header_count == p->max_headers)
            return fail(p, 431);
        req->headers[req->header_count++] = hd;
        if (on_header(p, &f, req, hd) != HTTP_PARSE_DONE)
            return HTTP_PARSE_ERROR;
    }
    if (q + 2 != e)
        return fail(p, 400);

    if (f.hosts > 1 || (req->http_minor == 1 && f.hosts == 0))
        return fail(p, 400);
    if (f.has_te) {
        /* RFC 9112 6.1: Transfer-Encoding in HTTP/1.0, or with Content-Length,
         * is faulty framing. */
        if (f.has_cl || req->http_minor == 0 || f.te_bad_order)
            return fail(p, 400);
        if (!f.te_final_chunked)
            return fail(p, f.te_other ? 501 : 400);
        if (f.te_other)
            return fail(p, 501); /* e.g. "gzip, chunked": coding not implemented */
        p->chunked = true;
        p->body_state = B_SIZE;
    } else if (f.has_cl) {
        if (f.cl > p->max_body_bytes)
            return fail(p, 413);
        p->content_length = f.cl;
        p->remaining = f.cl;
        p->body_state = f.cl ? B_LENGTH : B_DONE;
    } else {
        p->body_state = B_DONE; /* a request without framing has no body */
    }
    if (f.expect_other)
        return fail(p, 417);
    p->keep_alive = !f.conn_close && (req->http_minor == 1 || f.conn_keep_alive);
    return HTTP_PARSE_DONE;
}

int http_parse_head(struct http_parser *p, struct moat_arena *a, struct moat_slice in,
                    size_t *consumed, struct http_request *req)
{
    const uint8_t *s = in.ptr;
    size_t i = p->scanned;

    /* RFC 9112 2.2: empty lines before the request line are ignored. */
    while (!p->started) {
        if (i >= in.len || (s[i] == '\r' && i + 1 >= in.len)) {
            p->scanned = i;
            return HTTP_PARSE_MORE;
        }
        if (s[i] == '\r' && s[i + 1] == '\n') {
            i += 2;
            p->skipped = i;
            if (p->skipped > p->max_header_bytes)
                return fail(p, 400);
            continue;
        }
        if (s[i] == '\r' || s[i] == '\n')
            return fail(p, 400);
        p->started = true;
    }

    size_t limit = p->skipped + p->max_header_bytes;
    size_t end = MOAT_MIN(in.len, limit);
    for (; i < end; i++) {
        uint8_t c = s[i];
        if (moat_likely(c > '\r'))
            continue;
        if (c == '\0')
            return fail(p, 400);
        if (c == '\r') {
            if (i + 1 == in.len)
                break; /* decided when the next byte arrives */
            if (s[i + 1] != '\n')
                return fail(p, 400); /* bare CR */
            continue;
        }
        if (c != '\n')
            continue; /* other controls are refused by parse_head */
        if (s[i - 1] != '\r')
            return fail(p, 400); /* bare LF */
        p->lines++;
        if (p->lines > p->max_headers + 2)
            return fail(p, 431);
        if (i - p->skipped >= 3 && s[i - 2] == '\n') {
            size_t head_len = i + 1 - p->skipped;
            uint8_t *h = moat_arena_alloc(a, head_len);
            memcpy(h, s + p->skipped, head_len);
            *consumed = i + 1;
            p->scanned = i + 1;
            return parse_head(p, a, h, head_len, req);
        }
    }
    p->scanned = i;
    if (i >= limit)
        return fail(p, p->lines == 0 ? 414 : 431);
    return HTTP_PARSE_MORE;
}

/* One byte of chunk framing or trailers; returns HTTP_PARSE_MORE to go on. */
static int chunk_byte(struct http_parser *p, uint8_t c)
{
    int v;
    switch (p->body_state) {
    case B_SIZE:
        v = hex_value(c);
        if (v >= 0) {
            if (++p->digits > 16)
                return fail(p, 400); /* would overflow 64 bits */
            p->remaining = p->remaining << 4 | (uint64_t)v;
            if (p->remaining > p->max_body_bytes - p->body_len)
                return fail(p, 413);
            return HTTP_PARSE_MORE;
        }
        if (!p->digits)
            return fail(p, 400);
        if (c == ';')
            p->body_state = B_EXT;
        else if (c == ' ' || c == '\t')
            p->body_state = B_SIZE_WS;
        else if (c == '\r')
            p->body_state = B_SIZE_LF;
        else
            return fail(p, 400);
        return HTTP_PARSE_MORE;
    case B_SIZE_WS:
        if (c == ';')
            p->body_state = B_EXT;
        else if (c != ' ' && c != '\t')
            return fail(p, 400);
        return HTTP_PARSE_MORE;
    case B_EXT:
        /* Extensions are allowed and ignored, but bounded: tiny chunks with
         * long extensions would otherwise cost CPU for free. */
        if (c == '\r')
            p->body_state = B_SIZE_LF;
        else if (!is_field_char(c) || ++p->ext_bytes > p->max_header_bytes)
            return fail(p, 400);
        return HTTP_PARSE_MORE;
    case B_SIZE_LF:
        if (c != '\n')
            return fail(p, 400);
        if (p->remaining == 0) {
            p->body_state = B_TRAILER;
        } else {
            p->body_len += p->remaining;
            p->body_state = B_DATA;
        }
        return HTTP_PARSE_MORE;
    case B_DATA_CR:
        if (c != '\r')
            return fail(p, 400);
        p->body_state = B_DATA_LF;
        return HTTP_PARSE_MORE;
    case B_DATA_LF:
        if (c != '\n')
            return fail(p, 400);
        p->body_state = B_SIZE;
        p->digits = 0;
        p->remaining = 0;
        return HTTP_PARSE_MORE;
    default:
        break;
    }

    /* Trailers: validated like header lines, bounded, then dropped. */
    if (++p->trailer_bytes > p->max_header_bytes)
        return fail(p, 431);
    switch (p->body_state) {
    case B_TRAILER:
        if (c == '\r') {
            p->body_state = B_END_LF;
        } else if (is_tchar(c)) {
            if (++p->trailer_count > p->max_headers)
                return fail(p, 431);
            p->body_state = B_TNAME;
        } else {
            return fail(p, 400);
        }
        return HTTP_PARSE_MORE;
    case B_TNAME:
        if (c == ':')
            p->body_state = B_TVALUE;
        else if (!is_tchar(c))
            return fail(p, 400);
        return HTTP_PARSE_MORE;
    case B_TVALUE:
        if (c == '\r')
            p->body_state = B_TLF;
        else if (!is_field_char(c))
            return fail(p, 400);
        return HTTP_PARSE_MORE;
    case B_TLF:
        if (c != '\n')
            return fail(p, 400);
        p->body_state = B_TRAILER;
        return HTTP_PARSE_MORE;
    case B_END_LF:
        if (c != '\n')
            return fail(p, 400);
        p->body_state = B_DONE;
        return HTTP_PARSE_MORE;
    default:
        return fail(p, 400);
    }
}

int http_parse_body(struct http_parser *p, struct moat_slice in, size_t *consumed,
                    struct moat_buf *out)
{
    size_t i = 0;
    *consumed = 0;
    while (p->body_state != B_DONE) {
        if (p->body_state == B_LENGTH || p->body_state == B_DATA) {
            size_t take = (size_t)MOAT_MIN(p->remaining, (uint64_t)(in.len - i));
            if (out)
                moat_buf_append_bytes(out, in.ptr + i, take);
            i += take;
            p->remaining -= take;
            if (p->remaining)
                break;
            p->body_state = p->body_state == B_LENGTH ? B_DONE : B_DATA_CR;
            continue;
        }
        if (i == in.len)
            break;
        if (chunk_byte(p, in.ptr[i++]) == HTTP_PARSE_ERROR)
            return HTTP_PARSE_ERROR;
    }
    *consumed = i;
    return p->body_state == B_DONE ? HTTP_PARSE_DONE : HTTP_PARSE_MORE;
}

bool http_header(const struct http_request *req, const char *lower_name, struct moat_slice *value)
{
    struct moat_slice name = moat_slice_cstr(lower_name);
    for (size_t i = 0; i < req->header_count; i++) {
        if (moat_slice_eq_nocase(req->headers[i].name, name)) {
            *value = req->headers[i].value;
            return true;
        }
    }
    return false;
}

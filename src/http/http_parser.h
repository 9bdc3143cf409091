/* http_parser.h: the strict, incremental HTTP/1.1 request parser. It finds and
 * validates a request head, then decodes the body (Content-Length or chunked). */
#ifndef MOAT_HTTP_PARSER_H
#define MOAT_HTTP_PARSER_H

#include "core/buf.h"
#include "http/http.h"

enum http_parse_result {
    HTTP_PARSE_ERROR = -1, /* answer parser.error and close the connection */
    HTTP_PARSE_MORE = 0,   /* feed more bytes */
    HTTP_PARSE_DONE = 1,
};

struct http_parser {
    /* Limits, set by http_parser_init. */
    size_t max_header_bytes; /* request line + headers; also bounds trailers and chunk extensions */
    size_t max_headers;      /* also bounds the trailer count */
    uint64_t max_body_bytes;

    /* Framing of the current request, valid once the head is done. */
    uint64_t content_length;
    bool chunked;
    bool keep_alive;
    bool expect_continue;

    int error; /* HTTP status to answer after HTTP_PARSE_ERROR */

    /* Private scanning state. */
    size_t scanned; /* head bytes already checked */
    size_t skipped; /* empty lines before the request line */
    size_t lines;   /* line feeds seen in the head */
    bool started;   /* first byte of the request line seen */
    int body_state;
    uint64_t remaining; /* of the current chunk or Content-Length */
    uint64_t body_len;  /* de-chunked bytes so far */
    size_t digits;      /* of the current chunk size */
    size_t ext_bytes;   /* chunk extension bytes of this request */
    size_t trailer_bytes, trailer_count;
};

void http_parser_init(struct http_parser *p, size_t max_header_bytes, size_t max_headers,
                      uint64_t max_body_bytes);
/* Forgets the current request, keeps the limits. */
void http_parser_reset(struct http_parser *p);

/* Looks for a complete request head at the start of `in`. Call again with the
 * same bytes plus more after HTTP_PARSE_MORE; bytes already checked are not
 * scanned twice. On HTTP_PARSE_DONE the head is copied into `a`, the request's
 * method, target, path, query, headers and version point into that copy, the
 * framing fields of `p` are set and *consumed is the length of the head. */
int http_parse_head(struct http_parser *p, struct moat_arena *a, struct moat_slice in,
                    size_t *consumed, struct http_request *req);

/* Decodes body bytes that follow the head: consumes framing and data from `in`
 * and appends the payload to `out` (NULL discards it). *consumed is what was
 * used; bytes after the body (a pipelined request) are left alone. */
int http_parse_body(struct http_parser *p, struct moat_slice in, size_t *consumed,
                    struct moat_buf *out);

/* True when the request announced a body (chunked or Content-Length > 0). */
bool http_parser_has_body(const struct http_parser *p);

#endif

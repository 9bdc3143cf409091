/* fuzz_http.c: feeds arbitrary bytes to the request parser as a stream of
 * pipelined requests, whole and split at a point the input chooses; both
 * feeds must parse the same requests and stop at the same place. */
#include "http/http_parser.h"

#include <stdlib.h>
#include <string.h>

#define MAX_HEADER 4096
#define MAX_HEADERS 32
#define MAX_BODY 65536

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211u;
    return h;
}

static uint64_t mix_slice(uint64_t h, struct moat_slice s)
{
    h = mix(h, &s.len, sizeof(s.len));
    return s.len ? mix(h, s.ptr, s.len) : h;
}

static bool inside(struct moat_slice part, struct moat_slice whole)
{
    return part.len <= whole.len && part.ptr >= whole.ptr &&
           part.ptr + part.len <= whole.ptr + whole.len;
}

/* Parses requests one after another, the way a connection does. The first
 * `split` bytes arrive first, the rest later. Returns a digest of everything
 * parsed. */
static uint64_t run(struct moat_arena *a, const uint8_t *data, size_t size, size_t split)
{
    struct http_parser p;
    struct moat_buf body;
    uint64_t h = 14695981039346656037u;
    size_t pos = 0, avail = split;
    http_parser_init(&p, MAX_HEADER, MAX_HEADERS, MAX_BODY);
    for (int n = 0; n < 64; n++) {
        struct http_request req;
        size_t used;
        int r;
        memset(&req, 0, sizeof(req));
        moat_arena_reset(a);
        http_parser_reset(&p);
        moat_buf_init(&body, a, 0);
        while ((r = http_parse_head(&p, a, moat_slice(data + pos, avail - pos), &used, &req)) ==
                   HTTP_PARSE_MORE &&
               avail < size)
            avail = size;
        h = mix(h, &r, sizeof(r));
        if (r != HTTP_PARSE_DONE) {
            if (r == HTTP_PARSE_ERROR)
                return mix(h, &p.error, sizeof(p.error));
            break;
        }
        /* The path is part of the target, or "/" for "http://host" alone. */
        bool path_ok = inside(req.path, req.target) || moat_slice_eq(req.path, MOAT_LIT("/"));
        if (used > avail - pos || !req.method.len || !path_ok || req.header_count > MAX_HEADERS)
            abort();
        pos += used;
        h = mix_slice(h, req.method);
        h = mix_slice(h, req.target);
        h = mix_slice(h, req.path);
        h = mix_slice(h, req.query);
        for (size_t i = 0; i < req.header_count; i++) {
            if (!req.headers[i].name.len)
                abort();
            h = mix_slice(h, req.headers[i].name);
            h = mix_slice(h, req.headers[i].value);
        }
        for (;;) {
            r = http_parse_body(&p, moat_slice(data + pos, avail - pos), &used, &body);
            if (used > avail - pos)
                abort();
            pos += used;
            if (r != HTTP_PARSE_MORE || avail == size)
                break;
            avail = size;
        }
        h = mix(h, &r, sizeof(r));
        if (r != HTTP_PARSE_DONE) {
            if (r == HTTP_PARSE_ERROR)
                return mix(h, &p.error, sizeof(p.error));
            break;
        }
        if (body.len > MAX_BODY || (!p.chunked && body.len != p.content_length))
            abort();
        h = mix_slice(h, moat_buf_slice(&body));
        h = mix(h, &p.keep_alive, sizeof(p.keep_alive));
    }
    /* Where parsing stopped matters when it waits for more, not after an
     * error (a split feed may have consumed part of the bad bytes). */
    return mix(h, &pos, sizeof(pos));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct moat_arena *a;
    if (!a)
        a = moat_arena_new(16384);
    uint64_t whole = run(a, data, size, size);
    size_t split = size ? (size_t)(mix(7, data, size) % (size + 1)) : 0;
    if (run(a, data, size, split) != whole)
        abort();
    return 0;
}

/* test_http_parser.c: the strict request parser: valid forms, smuggling
 * vectors, limits, pipelining, and the same results when fed byte by byte. */
#include "harness.h"
#include "http/http_parser.h"

#include <dirent.h>

#define MAX_HEADER 1024
#define MAX_HEADERS 16
#define MAX_BODY 4096

struct parsed {
    int result; /* HTTP_PARSE_DONE when head and body are complete */
    int error;
    size_t consumed; /* head + body */
    struct http_request req;
    struct http_parser p;
    struct moat_buf body;
};

/* Feeds `in` the way the server does, `step` more bytes at a time: the head
 * parser sees the growing prefix, the body parser what is left after it. */
static void feed(struct moat_arena *a, struct moat_slice in, size_t step, struct parsed *o)
{
    memset(o, 0, sizeof(*o));
    http_parser_init(&o->p, MAX_HEADER, MAX_HEADERS, MAX_BODY);
    moat_buf_init(&o->body, a, 0);
    size_t avail = 0, head = 0;
    int r;
    do {
        avail = MOAT_MIN(avail + step, in.len);
        r = http_parse_head(&o->p, a, moat_slice(in.ptr, avail), &head, &o->req);
    } while (r == HTTP_PARSE_MORE && avail < in.len);
    if (r != HTTP_PARSE_DONE) {
        o->result = r;
        o->error = o->p.error;
        return;
    }
    size_t pos = head;
    avail = MOAT_MAX(avail, pos);
    for (;;) {
        size_t used;
        r = http_parse_body(&o->p, moat_slice(in.ptr + pos, avail - pos), &used, &o->body);
        pos += used;
        if (r != HTTP_PARSE_MORE || avail == in.len)
            break;
        avail = MOAT_MIN(avail + step, in.len);
    }
    o->result = r;
    o->error = r == HTTP_PARSE_ERROR ? o->p.error : 0;
    o->consumed = pos;
}

/* Parses whole, byte by byte and 7 bytes at a time; all three must agree. */
static struct parsed *parse(struct moat_arena *a, struct moat_slice in)
{
    struct parsed *whole = moat_arena_alloc(a, sizeof(*whole));
    feed(a, in, in.len ? in.len : 1, whole);
    static const size_t steps[] = {1, 7};
    for (size_t i = 0; i < MOAT_COUNT(steps); i++) {
        struct parsed piece;
        feed(a, in, steps[i], &piece);
        CHECK_EQ_INT(piece.result, whole->result);
        CHECK_EQ_INT(piece.error, whole->error);
        if (whole->result == HTTP_PARSE_DONE) {
            CHECK_EQ_INT(piece.consumed, whole->consumed);
            CHECK(moat_slice_eq(moat_buf_slice(&piece.body), moat_buf_slice(&whole->body)));
            CHECK(moat_slice_eq(piece.req.method, whole->req.method));
            CHECK(moat_slice_eq(piece.req.target, whole->req.target));
            CHECK_EQ_INT(piece.req.header_count, whole->req.header_count);
        }
    }
    return whole;
}

#define PARSE(lit) parse(a, MOAT_LIT(lit))

static void expect_error(struct moat_arena *a, struct moat_slice in, int status, int line)
{
    struct parsed *o = parse(a, in);
    if (o->result != HTTP_PARSE_ERROR || o->error != status) {
        fprintf(stderr, "  line %d: result %d error %d, expected error %d\n", line, o->result,
                o->error, status);
        moat_test_failures++;
    }
}

#define EXPECT_ERROR(lit, status) expect_error(a, MOAT_LIT(lit), status, __LINE__)

static void expect_ok(struct moat_arena *a, struct moat_slice in, int line)
{
    struct parsed *o = parse(a, in);
    if (o->result != HTTP_PARSE_DONE) {
        fprintf(stderr, "  line %d: result %d error %d, expected success\n", line, o->result,
                o->error);
        moat_test_failures++;
    }
}

#define EXPECT_OK(lit) expect_ok(a, MOAT_LIT(lit), __LINE__)

MOAT_TEST(simple_get)
{
    struct parsed *o = PARSE("GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\n"
                             "User-Agent:  curl/8  \r\nX-Empty:\r\n\r\n");
    CHECK_EQ_INT(o->result, HTTP_PARSE_DONE);
    CHECK_SLICE(o->req.method, "GET");
    CHECK_SLICE(o->req.target, "/a/b?x=1&y=2");
    CHECK_SLICE(o->req.path, "/a/b");
    CHECK_SLICE(o->req.query, "x=1&y=2");
    CHECK_EQ_INT(o->req.http_minor, 1);
    CHECK_EQ_INT(o->req.header_count, 3);
    CHECK_SLICE(o->req.headers[0].name, "Host");
    CHECK_SLICE(o->req.headers[0].value, "example.com");
    CHECK_SLICE(o->req.headers[1].value, "curl/8");
    CHECK_SLICE(o->req.headers[2].value, "");
    CHECK(o->p.keep_alive);
    CHECK(!o->p.expect_continue);
    CHECK(!http_parser_has_body(&o->p));
    CHECK_EQ_INT(o->body.len, 0);
    struct moat_slice v;
    CHECK(http_header(&o->req, "user-agent", &v));
    CHECK_SLICE(v, "curl/8");
    CHECK(!http_header(&o->req, "content-type", &v));
}

MOAT_TEST(target_forms)
{
    struct parsed *o = PARSE("GET http://example.com:80/p/q?z HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_EQ_INT(o->result, HTTP_PARSE_DONE);
    CHECK_SLICE(o->req.path, "/p/q");
    CHECK_SLICE(o->req.query, "z");
    o = PARSE("GET HTTPS://example.com?k=v HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_EQ_INT(o->result, HTTP_PARSE_DONE);
    CHECK_SLICE(o->req.path, "/");
    CHECK_SLICE(o->req.query, "k=v");
    o = PARSE("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_EQ_INT(o->result, HTTP_PARSE_DONE);
    CHECK_SLICE(o->req.path, "*");
    o = PARSE("GET /? HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_SLICE(o->req.path, "/");
    CHECK_SLICE(o->req.query, "");
    EXPECT_ERROR("GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("GET example.com/ HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("GET http:/// HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("GET ftp://h/ HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("GET /a#frag HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("GET /\x80 HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n", 501);
}

MOAT_TEST(request_line)
{
    EXPECT_OK("get / HTTP/1.1\r\nHost: x\r\n\r\n"); /* methods are case-sensitive tokens */
    EXPECT_ERROR("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR(" GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("GE(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("GET HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("GET /\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("GET / http/1.1\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.10\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505);
    EXPECT_ERROR("GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505);
    struct parsed *o = PARSE("GET / HTTP/1.2\r\nHost: x\r\n\r\n");
    CHECK_EQ_INT(o->req.http_minor, 1);
    /* Empty lines before the request line are skipped; a bare LF is not. */
    o = PARSE("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_EQ_INT(o->result, HTTP_PARSE_DONE);
    CHECK_EQ_INT(o->consumed, 4 + 27);
    CHECK_SLICE(o->req.method, "GET");
    EXPECT_ERROR("\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("\r\rGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400);
}

MOAT_TEST(versions_and_persistence)
{
    struct parsed *o = PARSE("GET / HTTP/1.0\r\n\r\n");
    CHECK_EQ_INT(o->result, HTTP_PARSE_DONE);
    CHECK_EQ_INT(o->req.http_minor, 0);
    CHECK(!o->p.keep_alive);
    o = PARSE("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    CHECK(o->p.keep_alive);
    o = PARSE("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
    CHECK(!o->p.keep_alive);
    o = PARSE("GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade, CLOSE\r\n\r\n");
    CHECK(!o->p.keep_alive);
    o = PARSE("GET / HTTP/1.1\r\nHost: x\r\nConnection: te\r\n\r\n");
    CHECK(o->p.keep_alive);
}

MOAT_TEST(host_rules)
{
    EXPECT_ERROR("GET / HTTP/1.1\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400);
    EXPECT_OK("GET / HTTP/1.1\r\nHost: [::1]:4566\r\n\r\n");
    EXPECT_OK("GET / HTTP/1.1\r\nHost:\r\n\r\n"); /* empty is allowed (RFC 9110 7.2) */
    EXPECT_OK("GET / HTTP/1.0\r\n\r\n");
}

MOAT_TEST(header_syntax)
{
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\tfolded\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: x\r\nX(a): v\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01z\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fz\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: x\r\nX-\xc3\xa9: v\r\n\r\n", 400);
    struct parsed *o = PARSE("GET / HTTP/1.1\r\nHost: x\r\nX-A: \t caf\xc3\xa9 \"q\" \t\r\n\r\n");
    CHECK_EQ_INT(o->result, HTTP_PARSE_DONE);
    CHECK_SLICE(o->req.headers[1].value, "caf\xc3\xa9 \"q\"");
}

MOAT_TEST(line_endings_and_nul)
{
    EXPECT_ERROR("GET / HTTP/1.1\nHost: x\n\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: x\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: x\r\n\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\rHost: x\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: x\r\n\r\r\n", 400);
    EXPECT_ERROR("GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 400);
}

MOAT_TEST(content_length)
{
    struct parsed *o = PARSE("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    CHECK_EQ_INT(o->result, HTTP_PARSE_DONE);
    CHECK_SLICE(moat_buf_slice(&o->body), "hello");
    CHECK_EQ_INT(o->consumed, 53);
    CHECK(http_parser_has_body(&o->p));
    /* The same value twice is one length; RFC 9110 8.6 allows accepting it. */
    o = PARSE("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi");
    CHECK_EQ_INT(o->result, HTTP_PARSE_DONE);
    o = PARSE("POST / HTTP/1.1\r\nHost: x\r\nContent-Length:  0 \r\n\r\n");
    CHECK_EQ_INT(o->result, HTTP_PARSE_DONE);
    CHECK(!http_parser_has_body(&o->p));
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nhi",
                 400);
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\nhi", 400);
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400);
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\nhi", 400);
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x2\r\n\r\nhi", 400);
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\nhi", 400);
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", 400);
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                 400);
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4097\r\n\r\n", 413);
    /* Incomplete body: more is needed. */
    o = PARSE("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello");
    CHECK_EQ_INT(o->result, HTTP_PARSE_MORE);
}

MOAT_TEST(chunked)
{
    struct parsed *o = PARSE("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "5\r\nhello\r\n1;ext=1;flag\r\n,\r\n00B\r\n 0123456789\r\n"
                             "0\r\n\r\n");
    CHECK_EQ_INT(o->result, HTTP_PARSE_DONE);
    CHECK_SLICE(moat_buf_slice(&o->body), "hello, 0123456789");
    CHECK(o->p.chunked);
    struct moat_slice in = MOAT_LIT("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked"
                                    "\r\n\r\n3 ; a=\"q; x\"\r\nabc\r\n0\r\nX-Checksum: abc\r\n"
                                    "X-B:\r\n\r\nGET");
    o = parse(a, in);
    CHECK_EQ_INT(o->result, HTTP_PARSE_DONE);
    CHECK_SLICE(moat_buf_slice(&o->body), "abc");
    CHECK_EQ_INT(o->consumed, in.len - 3); /* stops before "GET" */
    o = PARSE("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    CHECK_EQ_INT(o->result, HTTP_PARSE_DONE);
    CHECK_EQ_INT(o->body.len, 0);
    o = PARSE(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n");
    CHECK_EQ_INT(o->result, HTTP_PARSE_MORE);
}

MOAT_TEST(transfer_encoding_smuggling)
{
#define TE_REQ(te) "POST / HTTP/1.1\r\nHost: x\r\n" te "\r\n0\r\n\r\n"
    EXPECT_ERROR(TE_REQ("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400);
    EXPECT_ERROR(TE_REQ("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400);
    EXPECT_ERROR(TE_REQ("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n"), 400);
    EXPECT_ERROR(TE_REQ("Transfer-Encoding: chunked, identity\r\n"), 400);
    EXPECT_ERROR(TE_REQ("Transfer-Encoding: chunked, chunked\r\n"), 400);
    EXPECT_ERROR(TE_REQ("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400);
    EXPECT_ERROR(TE_REQ("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"), 400);
    EXPECT_ERROR(TE_REQ("Transfer-Encoding: identity\r\n"), 501);
    EXPECT_ERROR(TE_REQ("Transfer-Encoding: xchunked\r\n"), 501);
    EXPECT_ERROR(TE_REQ("Transfer-Encoding: chunkedx\r\n"), 501);
    EXPECT_ERROR(TE_REQ("Transfer-Encoding: gzip, chunked\r\n"), 501);
    EXPECT_ERROR(TE_REQ("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), 501);
    EXPECT_ERROR(TE_REQ("Transfer-Encoding: chunked;q=1\r\n"), 501);
    EXPECT_ERROR(TE_REQ("Transfer-Encoding: , chunked\r\n"), 400);
    EXPECT_ERROR(TE_REQ("Transfer-Encoding:\r\n"), 400);
    EXPECT_ERROR(TE_REQ("Transfer-Encoding : chunked\r\n"), 400);
    EXPECT_ERROR(TE_REQ("Transfer-Encoding: \x0b"
                        "chunked\r\n"),
                 400);
    EXPECT_ERROR(TE_REQ("X: y\r\n Transfer-Encoding: chunked\r\n"), 400);
    EXPECT_ERROR("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
    EXPECT_OK(TE_REQ("Transfer-Encoding:  chunked \r\n"));
#undef TE_REQ
}

MOAT_TEST(chunk_size_attacks)
{
#define CH(body) "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" body
    EXPECT_ERROR(CH("10000000000000005\r\nhello\r\n0\r\n\r\n"), 413);
    /* More than 16 digits could overflow 64 bits, even when the value is small. */
    EXPECT_ERROR(CH("00000000000000000005\r\nhello\r\n0\r\n\r\n"), 400);
    EXPECT_OK(CH("0000000000000005\r\nhello\r\n0\r\n\r\n"));
    EXPECT_ERROR(CH("ffffffffffffffff\r\nhello\r\n0\r\n\r\n"), 413);
    EXPECT_ERROR(CH("1001\r\n"), 413); /* 4097 > max body */
    EXPECT_ERROR(CH("-5\r\nhello\r\n0\r\n\r\n"), 400);
    EXPECT_ERROR(CH("0x5\r\nhello\r\n0\r\n\r\n"), 400);
    EXPECT_ERROR(CH("5g\r\nhello\r\n0\r\n\r\n"), 400);
    EXPECT_ERROR(CH("g\r\n"), 400);
    EXPECT_ERROR(CH("\r\nhello\r\n0\r\n\r\n"), 400);
    EXPECT_ERROR(CH("5 \r\nhello\r\n0\r\n\r\n"), 400);
    EXPECT_ERROR(CH("5\nhello\r\n0\r\n\r\n"), 400);
    EXPECT_ERROR(CH("5\rhello\r\n0\r\n\r\n"), 400);
    EXPECT_ERROR(CH("5\r\nhelloX\r\n0\r\n\r\n"), 400);
    EXPECT_ERROR(CH("5\r\nhello\n0\r\n\r\n"), 400);
    EXPECT_ERROR(CH("5;a\x01\r\nhello\r\n0\r\n\r\n"), 400);
    EXPECT_ERROR(CH("5\r\nhello\r\n0\r\n\n"), 400);
    EXPECT_ERROR(CH("5\r\nhello\r\n0\r\nX-T\r\n\r\n"), 400);
    EXPECT_ERROR(CH("5\r\nhello\r\n0\r\nX-T: a\r\n folded\r\n\r\n"), 400);
    EXPECT_ERROR(CH("5\r\nhello\r\n0\r\nX-T : a\r\n\r\n"), 400);
    EXPECT_ERROR(CH("5\r\nhello\r\n0\r\nX-T: a\x01\r\n\r\n"), 400);
#undef CH
}

MOAT_TEST(chunk_limits)
{
    struct moat_buf b;
    moat_buf_init(&b, a, 0);
    moat_buf_append_cstr(&b, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 3; i++) {
        moat_buf_append_cstr(&b, "800\r\n");
        for (int j = 0; j < 0x800; j++)
            moat_buf_append_u8(&b, 'a');
        moat_buf_append_cstr(&b, "\r\n");
    }
    moat_buf_append_cstr(&b, "0\r\n\r\n");
    expect_error(a, moat_buf_slice(&b), 413, __LINE__);

    /* Extensions are bounded (by the header limit). */
    moat_buf_init(&b, a, 0);
    moat_buf_append_cstr(&b, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 300; i++)
        moat_buf_append_cstr(&b, "1;abcd\r\nx\r\n");
    moat_buf_append_cstr(&b, "0\r\n\r\n");
    expect_error(a, moat_buf_slice(&b), 400, __LINE__);

    /* Trailers are bounded in count and size. */
    moat_buf_init(&b, a, 0);
    moat_buf_append_cstr(&b,
                         "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
    for (int i = 0; i < MAX_HEADERS + 1; i++)
        moat_buf_append_cstr(&b, "X-T: 1\r\n");
    moat_buf_append_cstr(&b, "\r\n");
    expect_error(a, moat_buf_slice(&b), 431, __LINE__);
    moat_buf_init(&b, a, 0);
    moat_buf_append_cstr(&b, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
                             "X-T: ");
    for (int i = 0; i < MAX_HEADER; i++)
        moat_buf_append_u8(&b, 'v');
    moat_buf_append_cstr(&b, "\r\n\r\n");
    expect_error(a, moat_buf_slice(&b), 431, __LINE__);
}

MOAT_TEST(head_limits)
{
    struct moat_buf b;
    /* A header block just under the limit passes, one byte more does not. */
    const char *start = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ";
    size_t fixed = strlen(start) + 4;
    for (size_t extra = 0; extra < 2; extra++) {
        moat_buf_init(&b, a, 0);
        moat_buf_append_cstr(&b, start);
        for (size_t i = 0; i < MAX_HEADER - fixed + extra; i++)
            moat_buf_append_u8(&b, 'p');
        moat_buf_append_cstr(&b, "\r\n\r\n");
        if (extra)
            expect_error(a, moat_buf_slice(&b), 431, __LINE__);
        else
            expect_ok(a, moat_buf_slice(&b), __LINE__);
    }
    /* A huge header, never terminated: refused once the limit is reached. */
    moat_buf_init(&b, a, 0);
    moat_buf_append_cstr(&b, start);
    for (size_t i = 0; i < 100000; i++)
        moat_buf_append_u8(&b, 'h');
    expect_error(a, moat_buf_slice(&b), 431, __LINE__);
    /* The request line alone is too long: 414. */
    moat_buf_init(&b, a, 0);
    moat_buf_append_cstr(&b, "GET /");
    for (size_t i = 0; i < MAX_HEADER; i++)
        moat_buf_append_u8(&b, 'u');
    moat_buf_append_cstr(&b, " HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_error(a, moat_buf_slice(&b), 414, __LINE__);
    /* Too many headers. */
    moat_buf_init(&b, a, 0);
    moat_buf_append_cstr(&b, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < MAX_HEADERS; i++)
        moat_buf_append_cstr(&b, "X: y\r\n");
    moat_buf_append_cstr(&b, "\r\n");
    expect_error(a, moat_buf_slice(&b), 431, __LINE__);
    moat_buf_init(&b, a, 0);
    moat_buf_append_cstr(&b, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < MAX_HEADERS - 1; i++)
        moat_buf_append_cstr(&b, "X: y\r\n");
    moat_buf_append_cstr(&b, "\r\n");
    expect_ok(a, moat_buf_slice(&b), __LINE__);
}

MOAT_TEST(expect)
{
    struct parsed *o = PARSE("PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n"
                             "Content-Length: 2\r\n\r\nhi");
    CHECK_EQ_INT(o->result, HTTP_PARSE_DONE);
    CHECK(o->p.expect_continue);
    o = PARSE("PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi");
    CHECK(!o->p.expect_continue);
    EXPECT_ERROR("PUT / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n", 417);
}

MOAT_TEST(pipelining)
{
    struct moat_slice in = MOAT_LIT("GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
                                    "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                                    "PUT /three HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                                    "\r\n\r\n2\r\nde\r\n0\r\n\r\n"
                                    "GET /four HTTP/1.0\r\n\r\n");
    static const char *const paths[] = {"/one", "/two", "/three", "/four"};
    static const char *const bodies[] = {"", "abc", "de", ""};
    struct http_parser p;
    http_parser_init(&p, MAX_HEADER, MAX_HEADERS, MAX_BODY);
    size_t pos = 0;
    for (size_t i = 0; i < MOAT_COUNT(paths); i++) {
        struct http_request req = {0};
        struct moat_buf body;
        size_t used;
        moat_buf_init(&body, a, 0);
        http_parser_reset(&p);
        CHECK_EQ_INT(http_parse_head(&p, a, moat_slice(in.ptr + pos, in.len - pos), &used, &req),
                     HTTP_PARSE_DONE);
        pos += used;
        CHECK_SLICE(req.path, paths[i]);
        CHECK_EQ_INT(http_parse_body(&p, moat_slice(in.ptr + pos, in.len - pos), &used, &body),
                     HTTP_PARSE_DONE);
        pos += used;
        CHECK_SLICE(moat_buf_slice(&body), bodies[i]);
    }
    CHECK_EQ_INT(pos, in.len);
}

MOAT_TEST(incomplete)
{
    struct parsed *o = PARSE("GET / HTTP/1.1\r\nHost: x\r\n");
    CHECK_EQ_INT(o->result, HTTP_PARSE_MORE);
    o = PARSE("GET / HTTP/1.1\r\nHost: x\r\n\r");
    CHECK_EQ_INT(o->result, HTTP_PARSE_MORE);
    o = PARSE("\r\n\r");
    CHECK_EQ_INT(o->result, HTTP_PARSE_MORE);
    o = PARSE("");
    CHECK_EQ_INT(o->result, HTTP_PARSE_MORE);
}

/* The head is scanned once: feeding it byte by byte must not rescan from the
 * start (a slowloris would otherwise cost quadratic CPU). */
MOAT_TEST(scan_is_linear)
{
    struct moat_slice in = MOAT_LIT("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n");
    struct http_parser p;
    struct http_request req = {0};
    size_t used;
    http_parser_init(&p, MAX_HEADER, MAX_HEADERS, MAX_BODY);
    for (size_t n = 1; n < in.len; n++) {
        CHECK_EQ_INT(http_parse_head(&p, a, moat_slice(in.ptr, n), &used, &req), HTTP_PARSE_MORE);
        CHECK(p.scanned >= n - 1);
    }
    CHECK_EQ_INT(http_parse_head(&p, a, in, &used, &req), HTTP_PARSE_DONE);
    CHECK_EQ_INT(used, in.len);
}

/* The fuzz seeds replay here: whole and split feeds agree, and the known-bad
 * seeds are refused. Run from the repository root. */
static void count_refused(const char *name, struct moat_slice data, void *arg)
{
    (void)name;
    struct moat_arena *a = moat_arena_new(4096);
    *(int *)arg += parse(a, data)->result == HTTP_PARSE_ERROR;
    moat_arena_free(a);
}

MOAT_TEST(fuzz_corpus_replay)
{
    int refused = 0;
    CHECK(moat_test_each_file(a, "fuzz/http/corpus", count_refused, &refused) >= 10);
    CHECK_EQ_INT(refused, 6);
}

MOAT_TEST_MAIN(MOAT_CASE(simple_get), MOAT_CASE(target_forms), MOAT_CASE(request_line),
               MOAT_CASE(versions_and_persistence), MOAT_CASE(host_rules), MOAT_CASE(header_syntax),
               MOAT_CASE(line_endings_and_nul), MOAT_CASE(content_length), MOAT_CASE(chunked),
               MOAT_CASE(transfer_encoding_smuggling), MOAT_CASE(chunk_size_attacks),
               MOAT_CASE(chunk_limits), MOAT_CASE(head_limits), MOAT_CASE(expect),
               MOAT_CASE(pipelining), MOAT_CASE(incomplete), MOAT_CASE(scan_is_linear),
               MOAT_CASE(fuzz_corpus_replay))

/* http_hello.c: the trivial moat HTTP application (200 "ok" from on_request)
 * that bench/http/run.sh puts beside nginx under wrk. Build from the root:
 *   make BUILD=build-http build-http/libmoat.a
 *   cc -O2 -std=c17 -D_GNU_SOURCE -Isrc bench/http/http_hello.c build-http/libmoat.a \
 *      -lssl -lcrypto -lm -pthread -o build-http/http_hello
 * Usage: http_hello [port] [threads]; SIGINT/SIGTERM drain and exit. */
#include "http/http.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static struct http_server *server;

static void on_signal(int sig)
{
    MOAT_UNUSED(sig);
    http_server_stop(server); /* async-signal-safe */
}

static void hello(struct http_request *req, void *app)
{
    MOAT_UNUSED(app);
    static const struct moat_header type[] = {{MOAT_LIT("Content-Type"), MOAT_LIT("text/plain")}};
    http_respond(req, 200, type, 1, MOAT_LIT("ok"));
}

int main(int argc, char **argv)
{
    char listen[64], err[256];
    struct http_config cfg;
    http_config_defaults(&cfg);
    snprintf(listen, sizeof(listen), "127.0.0.1:%s", argc > 1 ? argv[1] : "18081");
    cfg.listen = listen;
    cfg.threads = argc > 2 ? atoi(argv[2]) : 0;
    cfg.max_conns_per_ip = 0; /* wrk opens every connection from 127.0.0.1 */
    cfg.on_request = hello;
    server = http_server_new(&cfg, err, sizeof(err));
    if (!server) {
        fprintf(stderr, "http_hello: %s\n", err);
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    http_server_run(server);
    http_server_free(server);
    return 0;
}

/* server.h: the process-wide context of `moat serve`: configuration, the
 * store, the root key, the audit writer and the HTTP server, and the entry
 * point of the request path (dispatch.c). */
#ifndef MOAT_SERVER_H
#define MOAT_SERVER_H

#include "core/arena.h"

struct store;
struct store_conn;
struct rootkey;
struct http_server;
struct audit_writer;
struct moat_call;

enum moat_auth_mode { MOAT_AUTH_ENFORCE = 0, MOAT_AUTH_PERMISSIVE };

struct moat_config {
    const char *listen;        /* host:port, default 127.0.0.1:4566 */
    const char *tls_listen;    /* host:port or NULL */
    const char *tls_cert;      /* PEM; default data_dir/tls.crt (generated) */
    const char *tls_key;
    const char *data_dir;      /* default ~/.moat or /var/lib/moat */
    const char *store_url;     /* default sqlite in data_dir */
    const char *log_level;
    const char *log_file;      /* NULL = stderr */
    enum moat_auth_mode auth;
    const char *account_id;    /* default account, 000000000000 */
    const char *region;        /* default region for moat env, us-east-1 */
    bool allow_reset;          /* POST /_moat/reset */
    bool allow_test_clock;     /* POST /_moat/clock (advance service time) */
    int threads;               /* 0 = cores */
    long long max_body_bytes;  /* 0 = the HTTP layer's default */
    int header_timeout_ms;     /* 0 = default */
    int idle_timeout_ms;       /* 0 = default */
    int max_conns_per_ip;      /* 0 = default */
    const char *lookup_events_rate; /* CloudTrail LookupEvents per second; NULL = AWS's 2 */
    const char *root_access_key_id;     /* pinned root credentials (CI), optional */
    const char *root_secret_access_key;
};

struct moat_server {
    struct moat_config config;
    struct store *store;
    struct rootkey *rootkey;
    struct audit_writer *audit;
    struct http_server *http;
    char *root_key_path;
    int64_t started_ms;
};

/* The connection of the calling thread (opened on first use, one per thread). */
struct store_conn *moat_server_db(struct moat_server *srv);

/* Applies defaults and MOAT_* environment variables (flags set later win). */
void moat_config_defaults(struct moat_config *cfg);
void moat_config_from_env(struct moat_config *cfg);
/* The default data directory ($MOAT_DATA_DIR, else $HOME/.moat). */
const char *moat_default_data_dir(void);

enum moat_open_mode {
    MOAT_OPEN_SERVE,   /* create what is missing; print first-start credentials */
    MOAT_OPEN_INSPECT, /* `moat env`, `moat audit verify`: create and change nothing */
};

/* Opens the data directory, root key and store. To serve, creates what is
 * missing and bootstraps the default account and its root access key on first
 * start (printing the credentials); to inspect, needs an existing data
 * directory, root key and store and writes nothing. False with a reason logged. */
bool moat_server_open(struct moat_server *srv, enum moat_open_mode mode);
void moat_server_close(struct moat_server *srv);
/* Runs the HTTP server until SIGTERM/SIGINT. */
int moat_server_run(struct moat_server *srv);

/* Wipes all state and bootstraps again (POST /_moat/reset). */
bool moat_server_reset(struct moat_server *srv);

/* Bumped by every reset: in-memory caches of stored state compare it and
 * drop their entries when it changed. */
uint64_t moat_state_generation(void);

#endif

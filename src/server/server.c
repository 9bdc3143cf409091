/* server.c: start-up and shutdown of `moat serve`: configuration defaults,
 * the data directory, root key, store, first-start bootstrap, per-thread
 * store connections, signals and the HTTP server. */
#include "server/server.h"

#include "audit/audit.h"
#include "auth/auth.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/thread.h"
#include "crypto/rootkey.h"
#include "http/http.h"
#include "server/dispatch.h"
#include "server/scheduler.h"
#include "services/registry.h"
#include "services/service.h"
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static __thread struct store_conn *thread_db;
static __thread struct store *thread_db_store;

static void close_thread_db(void *unused)
{
    if (thread_db)
        store_disconnect(thread_db);
    thread_db = NULL;
    thread_db_store = NULL;
}

struct store_conn *moat_server_db(struct moat_server *srv)
{
    if (thread_db && thread_db_store == srv->store)
        return thread_db;
    if (thread_db)
        store_disconnect(thread_db);
    else
        moat_thread_on_exit(close_thread_db, NULL);
    thread_db = store_connect(srv->store, false);
    thread_db_store = thread_db ? srv->store : NULL;
    return thread_db;
}

const char *moat_default_data_dir(void)
{
    const char *d = getenv("MOAT_DATA_DIR");
    if (d && *d)
        return d;
    static char path[4096];
    const char *home = getenv("HOME");
    snprintf(path, sizeof(path), "%s/.moat", home && *home ? home : ".");
    return path;
}

void moat_config_defaults(struct moat_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen = "127.0.0.1:4566";
    cfg->data_dir = moat_default_data_dir();
    cfg->log_level = "info";
    cfg->auth = MOAT_AUTH_ENFORCE;
    cfg->account_id = "000000000000";
    cfg->region = "us-east-1";
}

static bool env_bool(const char *name)
{
    const char *v = getenv(name);
    return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"));
}

void moat_config_from_env(struct moat_config *cfg)
{
    const char *v;
#define ENV_STR(name, field)                                                                       \
    if ((v = getenv(name)) && *v)                                                                  \
    cfg->field = v
    ENV_STR("MOAT_LISTEN", listen);
    ENV_STR("MOAT_TLS_LISTEN", tls_listen);
    ENV_STR("MOAT_TLS_CERT", tls_cert);
    ENV_STR("MOAT_TLS_KEY", tls_key);
    ENV_STR("MOAT_DATA_DIR", data_dir);
    ENV_STR("MOAT_STORE", store_url);
    ENV_STR("MOAT_LOG_LEVEL", log_level);
    ENV_STR("MOAT_LOG_FILE", log_file);
    ENV_STR("MOAT_ACCOUNT_ID", account_id);
    ENV_STR("MOAT_REGION", region);
    ENV_STR("MOAT_ROOT_ACCESS_KEY_ID", root_access_key_id);
    ENV_STR("MOAT_ROOT_SECRET_ACCESS_KEY", root_secret_access_key);
    ENV_STR("MOAT_LOOKUP_EVENTS_RATE", lookup_events_rate);
#undef ENV_STR
    if ((v = getenv("MOAT_AUTH")) && *v)
        cfg->auth = strcmp(v, "permissive") == 0 ? MOAT_AUTH_PERMISSIVE : MOAT_AUTH_ENFORCE;
    if ((v = getenv("MOAT_THREADS")) && *v)
        cfg->threads = atoi(v);
    if ((v = getenv("MOAT_MAX_BODY_BYTES")) && *v)
        cfg->max_body_bytes = atoll(v);
    if ((v = getenv("MOAT_HEADER_TIMEOUT_MS")) && *v)
        cfg->header_timeout_ms = atoi(v);
    if ((v = getenv("MOAT_IDLE_TIMEOUT_MS")) && *v)
        cfg->idle_timeout_ms = atoi(v);
    if ((v = getenv("MOAT_MAX_CONNS_PER_IP")) && *v)
        cfg->max_conns_per_ip = atoi(v);
    if (env_bool("MOAT_ALLOW_RESET"))
        cfg->allow_reset = true;
    if (env_bool("MOAT_ALLOW_TEST_CLOCK"))
        cfg->allow_test_clock = true;
}

static bool ensure_data_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            moat_log_error("data directory %s is not a directory", dir);
            return false;
        }
        if (st.st_mode & 077)
            moat_log_warn("data directory %s is accessible by group or others (mode %o)", dir,
                          (unsigned)(st.st_mode & 0777));
        return true;
    }
    if (mkdir(dir, 0700) != 0) {
        moat_log_error("cannot create data directory %s: %s", dir, strerror(errno));
        return false;
    }
    return true;
}

/* The default account and its root access key, once. Pinned credentials
 * (MOAT_ROOT_ACCESS_KEY_ID / _SECRET_) replace a generated pair. */
static bool bootstrap(struct moat_server *srv, bool announce)
{
    struct moat_arena *a = moat_arena_new(8192);
    struct store_conn *db = store_connect(srv->store, true);
    bool ok = false;
    if (!db)
        goto out;
    const struct moat_config *cfg = &srv->config;
    int64_t now = moat_clock_now_ms();
    if (store_begin(db, true) != STORE_OK)
        goto out;
    if (!auth_ensure_account(db, a, cfg->account_id, "moat", "root@moat.local", now))
        goto rollback;
    struct store_record r;
    struct moat_value *acct;
    if (store_get(db, a, AUTH_NS_ACCOUNT, moat_slice_cstr(cfg->account_id), &r) != STORE_OK ||
        !moat_json_parse(a, r.value, 0, &acct, NULL))
        goto rollback;
    struct moat_slice current = moat_map_str(acct, "RootAccessKeyId");
    const char *akid = NULL, *secret = NULL;
    char gen_akid[21], gen_secret[41];
    bool pinned = cfg->root_access_key_id && cfg->root_secret_access_key;
    if (pinned) {
        akid = cfg->root_access_key_id;
        secret = cfg->root_secret_access_key;
    } else if (!current.len) {
        auth_new_access_key_id(gen_akid, false);
        auth_new_secret(gen_secret);
        akid = gen_akid;
        secret = gen_secret;
    }
    if (akid) {
        if (current.len && !moat_slice_eq_cstr(current, akid))
            (void)store_delete(db, AUTH_NS_ACCESS_KEY, current, STORE_ANY_VERSION);
        if (!auth_put_access_key(srv, db, a, cfg->account_id, akid, secret, NULL, NULL, NULL,
                                 "Active", now))
            goto rollback;
        moat_map_set_cstr(a, acct, "RootAccessKeyId", akid);
        struct moat_buf json;
        moat_buf_init(&json, a, 256);
        moat_json_write(&json, acct);
        if (store_put(db, AUTH_NS_ACCOUNT, moat_slice_cstr(cfg->account_id),
                      moat_buf_slice(&json), r.version, NULL) != STORE_OK)
            goto rollback;
    }
    if (store_commit(db) != STORE_OK)
        goto out;
    if (akid && !pinned && announce) {
        /* Printed once, on first start; `moat env` shows them again. */
        printf("moat: created account %s with root credentials\n"
               "  AWS_ACCESS_KEY_ID=%s\n  AWS_SECRET_ACCESS_KEY=%s\n"
               "  (eval \"$(moat env --data-dir %s)\" exports them)\n",
               cfg->account_id, akid, secret, cfg->data_dir);
        fflush(stdout);
    }
    ok = true;
    goto out;
rollback:
    (void)store_rollback(db);
out:
    if (!ok)
        moat_log_error("bootstrap of the default account failed");
    if (db)
        store_disconnect(db);
    moat_arena_free(a);
    return ok;
}

bool moat_server_open(struct moat_server *srv, enum moat_open_mode mode)
{
    struct moat_config *cfg = &srv->config;
    bool serve = mode == MOAT_OPEN_SERVE;
    srv->started_ms = moat_clock_monotonic_ms();
    if (serve ? !ensure_data_dir(cfg->data_dir) : access(cfg->data_dir, R_OK | X_OK) != 0) {
        if (!serve)
            moat_log_error("no data directory %s (moat serve creates it)", cfg->data_dir);
        return false;
    }
    char errbuf[512];
    size_t n = strlen(cfg->data_dir) + 32;
    srv->root_key_path = moat_xmalloc(n);
    snprintf(srv->root_key_path, n, "%s/root.key", cfg->data_dir);
    srv->rootkey = rootkey_open(srv->root_key_path, serve, errbuf, sizeof(errbuf));
    if (!srv->rootkey) {
        moat_log_error("%s", errbuf);
        return false;
    }
    char dbpath[4096];
    const char *url = cfg->store_url;
    if (!url) {
        snprintf(dbpath, sizeof(dbpath), "sqlite://%s/moat.db", cfg->data_dir);
        url = dbpath;
        if (!serve && access(dbpath + strlen("sqlite://"), R_OK) != 0) {
            moat_log_error("no store in %s (moat serve creates it; give --store for another)",
                           cfg->data_dir);
            return false;
        }
    }
    srv->store = store_open(url, errbuf, sizeof(errbuf));
    if (!srv->store) {
        moat_log_error("cannot open store: %s", errbuf);
        return false;
    }
    if (!registry_init())
        return false;
    for (size_t i = 0; i < registry_count(); i++) {
        const struct moat_service *svc = registry_at(i);
        if (svc->init && !svc->init(srv)) {
            moat_log_error("service %s failed to start", svc->name);
            return false;
        }
    }
    return serve ? bootstrap(srv, true) : true;
}

static _Atomic uint64_t state_generation = 1;

uint64_t moat_state_generation(void)
{
    return atomic_load(&state_generation);
}

bool moat_server_reset(struct moat_server *srv)
{
    struct store_conn *db = store_connect(srv->store, true);
    if (!db)
        return false;
    bool ok = store_wipe(db) == STORE_OK;
    store_disconnect(db);
    auth_invalidate();
    atomic_fetch_add(&state_generation, 1);
    if (ok)
        ok = bootstrap(srv, false);
    moat_log_info("state reset %s", ok ? "done" : "failed");
    return ok;
}

void moat_server_close(struct moat_server *srv)
{
    if (srv->store)
        store_close(srv->store);
    rootkey_close(srv->rootkey);
    free(srv->root_key_path);
    srv->store = NULL;
    srv->rootkey = NULL;
    srv->root_key_path = NULL;
}

/* Signals are handled by one thread with sigwait, so that the handlers may
 * do ordinary work (reopen logs). */
static void *signal_thread(void *arg)
{
    struct moat_server *srv = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    for (;;) {
        int sig;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            moat_log_reopen();
            moat_log_info("logs reopened");
            continue;
        }
        moat_log_info("signal %d: draining in-flight requests", sig);
        http_server_stop(srv->http);
        return NULL;
    }
}

int moat_server_run(struct moat_server *srv)
{
    struct moat_config *cfg = &srv->config;
    char cert[4096], key[4096], errbuf[512];
    struct http_config hc;
    http_config_defaults(&hc);
    hc.listen = cfg->listen;
    hc.tls_listen = cfg->tls_listen;
    hc.threads = cfg->threads;
    if (cfg->max_body_bytes > 0)
        hc.max_body_bytes = (size_t)cfg->max_body_bytes;
    if (cfg->header_timeout_ms > 0)
        hc.header_timeout_ms = cfg->header_timeout_ms;
    if (cfg->idle_timeout_ms > 0)
        hc.idle_timeout_ms = cfg->idle_timeout_ms;
    if (cfg->max_conns_per_ip > 0)
        hc.max_conns_per_ip = cfg->max_conns_per_ip;
    hc.on_request = dispatch_request;
    hc.on_headers = dispatch_headers;
    hc.app = srv;
    if (cfg->tls_listen) {
        if (cfg->tls_cert && cfg->tls_key) {
            hc.tls_cert_file = cfg->tls_cert;
            hc.tls_key_file = cfg->tls_key;
        } else {
            snprintf(cert, sizeof(cert), "%s/tls.crt", cfg->data_dir);
            snprintf(key, sizeof(key), "%s/tls.key", cfg->data_dir);
            if (access(cert, R_OK) != 0 || access(key, R_OK) != 0) {
                if (!http_tls_make_self_signed(cert, key, errbuf, sizeof(errbuf))) {
                    moat_log_error("cannot create a self-signed certificate: %s", errbuf);
                    return 1;
                }
                moat_log_info("generated a self-signed certificate %s", cert);
            }
            hc.tls_cert_file = cert;
            hc.tls_key_file = key;
        }
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    srv->audit = audit_writer_start(srv);
    if (!srv->audit) {
        moat_log_error("cannot start the audit writer");
        return 1;
    }
    srv->http = http_server_new(&hc, errbuf, sizeof(errbuf));
    if (!srv->http) {
        moat_log_error("cannot listen: %s", errbuf);
        audit_writer_stop(srv->audit);
        return 1;
    }
    char ports[128];
    snprintf(ports, sizeof(ports), "%d", http_server_port(srv->http, false));
    char tls_port[32] = "";
    if (cfg->tls_listen)
        snprintf(tls_port, sizeof(tls_port), "%d", http_server_port(srv->http, true));
    moat_log(MOAT_LOG_INFO, "listening", "listen", cfg->listen, "port", ports, "tls_port",
             tls_port, "data_dir", cfg->data_dir, "auth",
             cfg->auth == MOAT_AUTH_PERMISSIVE ? "permissive" : "enforce", NULL);
    if (!scheduler_start(srv)) {
        moat_log_error("cannot start the scheduler");
        return 1;
    }
    pthread_t sig;
    pthread_create(&sig, NULL, signal_thread, srv);
    http_server_run(srv->http);
    pthread_cancel(sig);
    pthread_join(sig, NULL);
    scheduler_stop();
    /* Every response has been written; the writer has nothing left to release. */
    audit_writer_stop(srv->audit);
    srv->audit = NULL;
    http_server_free(srv->http);
    srv->http = NULL;
    moat_thread_cleanup_now();
    moat_log_info("stopped");
    return 0;
}

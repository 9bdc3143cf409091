/* main.c: the `moat` command: serve, env, audit verify, version.
 * Every option also reads a MOAT_* environment variable; flags win. */
#include "audit/audit.h"
#include "auth/auth.h"
#include "core/log.h"
#include "server/server.h"
#include "store/store.h"
#include "version.h"

#include <getopt.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage_main(FILE *f)
{
    fprintf(f, "usage: moat <command> [options]\n\n"
               "commands:\n"
               "  serve          run the server (default 127.0.0.1:4566, SQLite in the data dir)\n"
               "  env            print export lines for the root user's credentials\n"
               "  audit verify   check the audit log's hash chain\n"
               "  version        print the version\n"
               "\n`moat <command> --help` describes each command's options.\n");
}

static void usage_serve(FILE *f)
{
    fprintf(f,
            "usage: moat serve [options]\n\n"
            "  --listen HOST:PORT      plain HTTP listener (MOAT_LISTEN, default 127.0.0.1:4566)\n"
            "  --tls-listen HOST:PORT  HTTPS listener (MOAT_TLS_LISTEN, off by default)\n"
            "  --tls-cert FILE         PEM certificate chain (MOAT_TLS_CERT; default: a\n"
            "                          self-signed one generated in the data dir)\n"
            "  --tls-key FILE          PEM private key (MOAT_TLS_KEY)\n"
            "  --data-dir DIR          data directory (MOAT_DATA_DIR, default ~/.moat)\n"
            "  --store URL             sqlite:///path/moat.db or postgres://... (MOAT_STORE;\n"
            "                          default: SQLite in the data dir)\n"
            "  --log-level LEVEL       debug, info, warn, error (MOAT_LOG_LEVEL, default info)\n"
            "  --log-file FILE         JSON-lines log file (MOAT_LOG_FILE, default stderr);\n"
            "                          SIGHUP reopens it\n"
            "  --auth MODE             enforce (verify every signature, the default) or\n"
            "                          permissive (any well-formed SigV4 request is the root\n"
            "                          user of the account its 12-digit access key names)\n"
            "                          (MOAT_AUTH)\n"
            "  --account-id ID         default account (MOAT_ACCOUNT_ID, default 000000000000)\n"
            "  --threads N             event loops (MOAT_THREADS, default: one per core)\n"
            "  --max-body-bytes N      largest request body (MOAT_MAX_BODY_BYTES, 16 MiB)\n"
            "  --header-timeout-ms N   time allowed for a request's headers (slow clients)\n"
            "                          (MOAT_HEADER_TIMEOUT_MS, 10000)\n"
            "  --idle-timeout-ms N     keep-alive idle time (MOAT_IDLE_TIMEOUT_MS, 60000)\n"
            "  --max-conns-per-ip N    connections per client address (MOAT_MAX_CONNS_PER_IP)\n"
            "  --lookup-events-rate N  CloudTrail LookupEvents calls per second per account and\n"
            "                          region (MOAT_LOOKUP_EVENTS_RATE; AWS's 2 by default,\n"
            "                          0 for no limit)\n"
            "  --allow-reset           enable POST /_moat/reset, which wipes all state\n"
            "                          (MOAT_ALLOW_RESET=1; tests only)\n"
            "  --allow-test-clock      enable POST /_moat/clock, which moves service time\n"
            "                          (MOAT_ALLOW_TEST_CLOCK=1; tests only)\n"
            "\nMOAT_ROOT_ACCESS_KEY_ID and MOAT_ROOT_SECRET_ACCESS_KEY pin the root credentials\n"
            "of the default account (for CI) instead of generating them on first start.\n");
}

static void usage_env(FILE *f)
{
    fprintf(f, "usage: moat env [--data-dir DIR] [--store URL] [--listen HOST:PORT]\n"
               "                [--account-id ID] [--region REGION]\n\n"
               "Prints export lines (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL,\n"
               "AWS_REGION, AWS_DEFAULT_REGION) for the root user of the account:\n"
               "  eval \"$(moat env)\"\n");
}

static void usage_audit(FILE *f)
{
    fprintf(f, "usage: moat audit verify [--data-dir DIR] [--store URL]\n\n"
               "Walks the audit log's hash chain and reports the first record that was\n"
               "altered, removed or inserted. Exit status 0 when the chain verifies.\n");
}

enum {
    OPT_LISTEN = 1,
    OPT_TLS_LISTEN,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_DATA_DIR,
    OPT_STORE,
    OPT_LOG_LEVEL,
    OPT_LOG_FILE,
    OPT_AUTH,
    OPT_ACCOUNT,
    OPT_THREADS,
    OPT_RESET,
    OPT_CLOCK,
    OPT_REGION,
    OPT_HELP,
    OPT_MAX_BODY,
    OPT_HEADER_TIMEOUT,
    OPT_IDLE_TIMEOUT,
    OPT_CONNS_PER_IP,
    OPT_LOOKUP_RATE,
};

static const struct option long_options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"tls-listen", required_argument, NULL, OPT_TLS_LISTEN},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"data-dir", required_argument, NULL, OPT_DATA_DIR},
    {"store", required_argument, NULL, OPT_STORE},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"log-file", required_argument, NULL, OPT_LOG_FILE},
    {"auth", required_argument, NULL, OPT_AUTH},
    {"account-id", required_argument, NULL, OPT_ACCOUNT},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"allow-reset", no_argument, NULL, OPT_RESET},
    {"allow-test-clock", no_argument, NULL, OPT_CLOCK},
    {"region", required_argument, NULL, OPT_REGION},
    {"help", no_argument, NULL, OPT_HELP},
    {"max-body-bytes", required_argument, NULL, OPT_MAX_BODY},
    {"header-timeout-ms", required_argument, NULL, OPT_HEADER_TIMEOUT},
    {"idle-timeout-ms", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"max-conns-per-ip", required_argument, NULL, OPT_CONNS_PER_IP},
    {"lookup-events-rate", required_argument, NULL, OPT_LOOKUP_RATE},
    {NULL, 0, NULL, 0},
};

/* Parses options into cfg; returns -1 on error, 1 for --help, 0 otherwise. */
static int parse_options(int argc, char **argv, struct moat_config *cfg)
{
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN: cfg->listen = optarg; break;
        case OPT_TLS_LISTEN: cfg->tls_listen = optarg; break;
        case OPT_TLS_CERT: cfg->tls_cert = optarg; break;
        case OPT_TLS_KEY: cfg->tls_key = optarg; break;
        case OPT_DATA_DIR: cfg->data_dir = optarg; break;
        case OPT_STORE: cfg->store_url = optarg; break;
        case OPT_LOG_LEVEL: cfg->log_level = optarg; break;
        case OPT_LOG_FILE: cfg->log_file = optarg; break;
        case OPT_ACCOUNT: cfg->account_id = optarg; break;
        case OPT_THREADS: cfg->threads = atoi(optarg); break;
        case OPT_RESET: cfg->allow_reset = true; break;
        case OPT_CLOCK: cfg->allow_test_clock = true; break;
        case OPT_REGION: cfg->region = optarg; break;
        case OPT_MAX_BODY: cfg->max_body_bytes = atoll(optarg); break;
        case OPT_HEADER_TIMEOUT: cfg->header_timeout_ms = atoi(optarg); break;
        case OPT_IDLE_TIMEOUT: cfg->idle_timeout_ms = atoi(optarg); break;
        case OPT_CONNS_PER_IP: cfg->max_conns_per_ip = atoi(optarg); break;
        case OPT_LOOKUP_RATE: cfg->lookup_events_rate = optarg; break;
        case OPT_AUTH:
            if (strcmp(optarg, "enforce") == 0) {
                cfg->auth = MOAT_AUTH_ENFORCE;
            } else if (strcmp(optarg, "permissive") == 0) {
                cfg->auth = MOAT_AUTH_PERMISSIVE;
            } else {
                fprintf(stderr, "moat: --auth must be enforce or permissive\n");
                return -1;
            }
            break;
        case 'h':
        case OPT_HELP: return 1;
        default: return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "moat: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!auth_is_account_id(moat_slice_cstr(cfg->account_id))) {
        fprintf(stderr, "moat: the account id must be 12 digits\n");
        return -1;
    }
    return 0;
}

static bool start_logging(const struct moat_config *cfg)
{
    enum moat_log_level level;
    if (!moat_log_parse_level(cfg->log_level, &level)) {
        fprintf(stderr, "moat: unknown log level '%s'\n", cfg->log_level);
        return false;
    }
    if (!moat_log_open(cfg->log_file, level)) {
        fprintf(stderr, "moat: cannot open log file %s\n", cfg->log_file);
        return false;
    }
    return true;
}

static int cmd_serve(int argc, char **argv)
{
    struct moat_server srv;
    memset(&srv, 0, sizeof(srv));
    moat_config_defaults(&srv.config);
    moat_config_from_env(&srv.config);
    int r = parse_options(argc, argv, &srv.config);
    if (r) {
        usage_serve(r > 0 ? stdout : stderr);
        return r > 0 ? 0 : 2;
    }
    if (!start_logging(&srv.config))
        return 2;
    if (!moat_server_open(&srv, MOAT_OPEN_SERVE)) {
        moat_server_close(&srv);
        return 1;
    }
    int rc = moat_server_run(&srv);
    moat_server_close(&srv);
    return rc;
}

/* env and audit read an existing data directory; they never create one. */
static bool data_dir_exists(const struct moat_config *cfg)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/root.key", cfg->data_dir);
    if (access(path, R_OK) == 0)
        return true;
    fprintf(stderr, "moat: no moat data in %s (start `moat serve` first, or pass --data-dir)\n",
            cfg->data_dir);
    return false;
}

static int cmd_env(int argc, char **argv)
{
    struct moat_server srv;
    memset(&srv, 0, sizeof(srv));
    moat_config_defaults(&srv.config);
    moat_config_from_env(&srv.config);
    int r = parse_options(argc, argv, &srv.config);
    if (r) {
        usage_env(r > 0 ? stdout : stderr);
        return r > 0 ? 0 : 2;
    }
    moat_log_open(NULL, MOAT_LOG_WARN);
    if (!data_dir_exists(&srv.config))
        return 1;
    if (!moat_server_open(&srv, MOAT_OPEN_INSPECT)) {
        moat_server_close(&srv);
        return 1;
    }
    struct moat_arena *a = moat_arena_new(4096);
    struct store_conn *db = store_connect(srv.store, false);
    const char *akid = NULL, *secret = NULL;
    bool ok = db && auth_root_credentials(&srv, db, a, srv.config.account_id, &akid, &secret);
    if (ok) {
        const char *listen = srv.config.listen;
        if (strncmp(listen, "0.0.0.0:", 8) == 0)
            listen += 7, printf("export AWS_ENDPOINT_URL=http://127.0.0.1%s\n", listen);
        else
            printf("export AWS_ENDPOINT_URL=http://%s\n", listen);
        printf("export AWS_ACCESS_KEY_ID=%s\n", akid);
        printf("export AWS_SECRET_ACCESS_KEY=%s\n", secret);
        printf("export AWS_REGION=%s\n", srv.config.region);
        printf("export AWS_DEFAULT_REGION=%s\n", srv.config.region);
        printf("unset AWS_SESSION_TOKEN\n");
    } else {
        fprintf(stderr, "moat: no root credentials for account %s in %s\n",
                srv.config.account_id, srv.config.data_dir);
    }
    if (db)
        store_disconnect(db);
    moat_arena_free(a);
    moat_server_close(&srv);
    return ok ? 0 : 1;
}

static int cmd_audit(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "verify") != 0) {
        usage_audit(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
        return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
    }
    struct moat_server srv;
    memset(&srv, 0, sizeof(srv));
    moat_config_defaults(&srv.config);
    moat_config_from_env(&srv.config);
    int r = parse_options(argc - 1, argv + 1, &srv.config);
    if (r) {
        usage_audit(r > 0 ? stdout : stderr);
        return r > 0 ? 0 : 2;
    }
    moat_log_open(NULL, MOAT_LOG_WARN);
    if (!data_dir_exists(&srv.config))
        return 1;
    if (!moat_server_open(&srv, MOAT_OPEN_INSPECT)) {
        moat_server_close(&srv);
        return 1;
    }
    struct store_conn *db = store_connect(srv.store, false);
    struct audit_verify_report rep;
    bool ok = db && audit_verify(db, &rep);
    if (!db)
        fprintf(stderr, "moat: cannot connect to the store\n");
    else if (ok)
        printf("audit chain verified: %lld records, no break\n", (long long)rep.records);
    else
        printf("audit chain BROKEN at record %lld: %s (%lld records verified before it)\n",
               (long long)rep.first_bad, rep.problem, (long long)rep.records);
    if (db)
        store_disconnect(db);
    moat_server_close(&srv);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "serve"))
        return cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "env"))
        return cmd_env(argc - 1, argv + 1);
    if (!strcmp(cmd, "audit"))
        return cmd_audit(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("moat %s\n", MOAT_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage_main(stdout);
        return 0;
    }
    fprintf(stderr, "moat: unknown command '%s'\n", cmd);
    usage_main(stderr);
    return 2;
}

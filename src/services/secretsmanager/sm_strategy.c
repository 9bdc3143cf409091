/* sm_strategy.c: the built-in rotation functions: PostgreSQL single user and alternating
 * users (what AWS's rotation templates of those names do, over libpq), and a plain
 * generated password. New passwords are sent to PostgreSQL as SCRAM verifiers computed
 * here, so the plaintext never travels to the server or its logs. */
#include "core/buf.h"
#include "core/json.h"
#include "services/secretsmanager/sm.h"
#include "services/secretsmanager/sm_strategy.h"

#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

/* AWS's PostgreSQL templates exclude these from generated passwords. */
#define PG_EXCLUDE ":/@\"'\\"

/* ---- secret values as JSON --------------------------------------------------------- */

struct wipe_tree {
    struct moat_value *doc;
    struct moat_slice input;
};

static void wipe_copies(struct moat_value *v, struct moat_slice input)
{
    if (!v)
        return;
    if (v->type == MOAT_V_STRING || v->type == MOAT_V_NUMBER) {
        const uint8_t *p = v->u.s.ptr;
        if (p && v->u.s.len && (p < input.ptr || p >= input.ptr + input.len))
            OPENSSL_cleanse((void *)p, v->u.s.len);
    } else if (v->type == MOAT_V_LIST) {
        for (uint32_t i = 0; i < v->count; i++)
            wipe_copies(v->u.items[i], input);
    } else if (v->type == MOAT_V_MAP) {
        for (uint32_t i = 0; i < v->count; i++)
            wipe_copies(v->u.entries[i].value, input);
    }
}

static void wipe_tree_cb(void *arg)
{
    struct wipe_tree *w = arg;
    wipe_copies(w->doc, w->input);
}

/* Parses a secret value; strings the parser had to copy (they had escapes) are wiped
 * with the arena like the value itself. NULL when it is not a JSON object. */
static struct moat_value *secret_doc(struct moat_arena *a, struct moat_slice text)
{
    struct moat_value *doc;
    if (!moat_json_parse(a, text, 0, &doc, NULL))
        return NULL;
    struct wipe_tree *w = moat_arena_alloc(a, sizeof(*w));
    w->doc = doc;
    w->input = text;
    moat_arena_on_free(a, wipe_tree_cb, w);
    return doc->type == MOAT_V_MAP ? doc : NULL;
}

static struct moat_slice secret_json(struct moat_arena *a, const struct moat_value *doc)
{
    struct moat_buf b;
    moat_buf_init(&b, a, 256);
    moat_json_write(&b, doc);
    /* Growth may have left copies in earlier blocks of the arena: those are wiped by
     * nothing, so write once more into a buffer of the right size. */
    size_t n = b.len;
    struct moat_buf exact;
    moat_buf_init(&exact, a, n + 1);
    moat_json_write(&exact, doc);
    moat_arena_wipe_on_free(a, b.ptr, b.cap);
    moat_arena_wipe_on_free(a, exact.ptr, exact.cap);
    return moat_buf_slice(&exact);
}

/* A member as text: strings as they are, numbers (a port) as their digits. */
static const char *member_cstr(struct moat_arena *a, const struct moat_value *doc, const char *key)
{
    const struct moat_value *v = moat_map_get(doc, key);
    if (!v)
        return NULL;
    if (v->type == MOAT_V_STRING || v->type == MOAT_V_NUMBER) {
        char *s = moat_arena_cstr(a, v->u.s);
        moat_arena_wipe_on_free(a, s, v->u.s.len);
        return s;
    }
    if (v->type == MOAT_V_INT)
        return moat_arena_printf(a, "%lld", (long long)v->u.i);
    return NULL;
}

static const char *new_password(struct moat_arena *a, struct moat_slice *out, bool pg)
{
    struct sm_password_rules r;
    sm_password_rules_default(&r);
    if (pg)
        r.exclude = MOAT_LIT(PG_EXCLUDE);
    const char *why = sm_password_generate(a, &r, out);
    return why ? "a new password could not be generated" : NULL;
}

const char *sm_strategy_create(struct moat_arena *a, enum sm_strategy strategy,
                               struct moat_slice current, struct moat_slice *pending)
{
    struct moat_value *doc = secret_doc(a, current);
    if (!doc)
        return "createSecret: the current secret value (AWSCURRENT) is not a JSON object";
    bool pg = strategy == SM_STRATEGY_PG_SINGLE || strategy == SM_STRATEGY_PG_MULTI;
    if (pg) {
        const char *engine = member_cstr(a, doc, "engine");
        if (engine && strcmp(engine, "postgres") != 0 && strcmp(engine, "postgresql") != 0 &&
            strcmp(engine, "aurora-postgresql") != 0)
            return "createSecret: the secret's engine is not postgres";
        if (!member_cstr(a, doc, "host") || !member_cstr(a, doc, "username"))
            return "createSecret: the secret needs host, username and password";
    }
    if (strategy == SM_STRATEGY_PG_MULTI) {
        const char *user = member_cstr(a, doc, "username");
        size_t n = strlen(user);
        const char *next;
        if (n > 6 && strcmp(user + n - 6, "_clone") == 0)
            next = moat_arena_printf(a, "%.*s", (int)(n - 6), user);
        else if (n + 6 <= 63)
            next = moat_arena_printf(a, "%s_clone", user);
        else
            return "createSecret: the username is too long to add _clone to it";
        moat_map_set_cstr(a, doc, "username", next);
        if (!member_cstr(a, doc, "masterarn"))
            return "createSecret: the secret needs masterarn for alternating-users rotation";
    }
    struct moat_slice pw;
    const char *why = new_password(a, &pw, pg);
    if (why)
        return why;
    moat_map_set_str(a, doc, "password", pw);
    *pending = secret_json(a, doc);
    return NULL;
}

struct moat_slice sm_strategy_master_id(struct moat_arena *a, enum sm_strategy strategy,
                                        struct moat_slice current)
{
    if (strategy != SM_STRATEGY_PG_MULTI)
        return MOAT_NULL_SLICE;
    struct moat_value *doc = secret_doc(a, current);
    const char *m = doc ? member_cstr(a, doc, "masterarn") : NULL;
    return m ? moat_slice_cstr(m) : MOAT_NULL_SLICE;
}

/* ---- PostgreSQL ----------------------------------------------------------------------- */

static void quiet_notices(void *arg, const char *message)
{
    MOAT_UNUSED(arg);
    MOAT_UNUSED(message);
}

/* libpq's message, first line only, for the reason a step failed. */
static const char *pg_reason(char *errbuf, size_t errlen, const char *what, PGconn *c)
{
    const char *m = c ? PQerrorMessage(c) : "out of memory";
    size_t n = strcspn(m, "\n");
    snprintf(errbuf, errlen, "%s: %.*s", what, (int)MOAT_MIN(n, 200), m);
    return errbuf;
}

/* Connects with the connection facts of `conn_doc` and the credentials of `cred_doc`. */
static PGconn *pg_connect(struct moat_arena *a, const struct moat_value *conn_doc,
                          const struct moat_value *cred_doc)
{
    const char *keys[9], *vals[9];
    int n = 0;
    const char *host = member_cstr(a, conn_doc, "host");
    const char *port = member_cstr(a, conn_doc, "port");
    const char *db = member_cstr(a, conn_doc, "dbname");
    keys[n] = "host", vals[n++] = host ? host : "";
    if (port)
        keys[n] = "port", vals[n++] = port;
    keys[n] = "dbname", vals[n++] = db ? db : "postgres";
    const char *user = member_cstr(a, cred_doc, "username");
    const char *pw = member_cstr(a, cred_doc, "password");
    keys[n] = "user", vals[n++] = user ? user : "";
    keys[n] = "password", vals[n++] = pw ? pw : "";
    keys[n] = "connect_timeout", vals[n++] = "5";
    keys[n] = "application_name", vals[n++] = "moat-rotation";
    keys[n] = "options", vals[n++] = "-c statement_timeout=10000";
    keys[n] = NULL, vals[n] = NULL;
    PGconn *c = PQconnectdbParams(keys, vals, 0);
    if (c)
        PQsetNoticeProcessor(c, quiet_notices, NULL);
    return c;
}

static bool pg_ok(PGconn *c)
{
    return c && PQstatus(c) == CONNECTION_OK;
}

static bool pg_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    PQclear(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* ALTER ROLE / CREATE ROLE with the password as a verifier computed here. */
static const char *pg_set_password(PGconn *c, const char *user, const char *password, bool create,
                                   const char *member_of, char *errbuf, size_t errlen)
{
    char *verifier = PQencryptPasswordConn(c, password, user, NULL);
    if (!verifier)
        return pg_reason(errbuf, errlen, "setSecret: hashing the new password failed", c);
    char *ident = PQescapeIdentifier(c, user, strlen(user));
    char *lit = PQescapeLiteral(c, verifier, strlen(verifier));
    OPENSSL_cleanse(verifier, strlen(verifier));
    PQfreemem(verifier);
    const char *why = NULL;
    if (!ident || !lit) {
        why = pg_reason(errbuf, errlen, "setSecret: escaping failed", c);
    } else {
        size_t n = strlen(ident) + strlen(lit) + 64;
        char buf[1024];
        if (n > sizeof(buf)) {
            why = "setSecret: the role name is too long";
        } else {
            snprintf(buf, sizeof(buf), "%s ROLE %s WITH %sPASSWORD %s", create ? "CREATE" : "ALTER",
                     ident, create ? "LOGIN " : "", lit);
            if (!pg_exec(c, buf))
                why = pg_reason(
                    errbuf, errlen,
                    create ? "setSecret: CREATE ROLE failed" : "setSecret: ALTER ROLE failed", c);
            OPENSSL_cleanse(buf, sizeof(buf));
        }
        if (!why && member_of) {
            char *of = PQescapeIdentifier(c, member_of, strlen(member_of));
            snprintf(buf, sizeof(buf), "GRANT %s TO %s", of ? of : "\"\"", ident);
            if (!of || !pg_exec(c, buf))
                why = pg_reason(errbuf, errlen, "setSecret: GRANT of the current role failed", c);
            PQfreemem(of);
        }
    }
    if (lit) {
        OPENSSL_cleanse(lit, strlen(lit));
        PQfreemem(lit);
    }
    PQfreemem(ident);
    return why;
}

static const char *pg_set_single(struct moat_arena *a, const struct sm_rotation_values *v,
                                 char *errbuf, size_t errlen)
{
    struct moat_value *cur = secret_doc(a, v->current), *pend = secret_doc(a, v->pending);
    if (!cur || !pend)
        return "setSecret: a secret value is not a JSON object";
    /* Already set (a retried rotation)? */
    PGconn *c = pg_connect(a, pend, pend);
    bool done = pg_ok(c);
    PQfinish(c);
    if (done)
        return NULL;
    c = pg_connect(a, cur, cur);
    if (!pg_ok(c)) {
        const char *why = pg_reason(errbuf, errlen,
                                    "setSecret: unable to log into the database with the current "
                                    "secret",
                                    c);
        PQfinish(c);
        return why;
    }
    const char *why =
        pg_set_password(c, member_cstr(a, pend, "username"), member_cstr(a, pend, "password"),
                        false, NULL, errbuf, errlen);
    PQfinish(c);
    return why;
}

static const char *pg_set_multi(struct moat_arena *a, const struct sm_rotation_values *v,
                                char *errbuf, size_t errlen)
{
    struct moat_value *cur = secret_doc(a, v->current), *pend = secret_doc(a, v->pending),
                      *master = secret_doc(a, v->master);
    if (!cur || !pend || !master)
        return "setSecret: a secret value (or the master secret's) is not a JSON object";
    const char *mhost = member_cstr(a, master, "host"), *phost = member_cstr(a, pend, "host");
    if (!mhost || !phost || strcmp(mhost, phost) != 0)
        return "setSecret: the master secret and the rotated secret name different hosts";
    PGconn *c = pg_connect(a, pend, master);
    if (!pg_ok(c)) {
        const char *why = pg_reason(errbuf, errlen,
                                    "setSecret: unable to log into the database with the master "
                                    "secret",
                                    c);
        PQfinish(c);
        return why;
    }
    const char *user = member_cstr(a, pend, "username");
    const char *params[1] = {user};
    PGresult *r = PQexecParams(c, "SELECT 1 FROM pg_roles WHERE rolname = $1", 1, NULL, params,
                               NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    bool exists = ok && PQntuples(r) > 0;
    PQclear(r);
    const char *why;
    if (!ok)
        why = pg_reason(errbuf, errlen, "setSecret: looking up the role failed", c);
    else
        why = pg_set_password(c, user, member_cstr(a, pend, "password"), !exists,
                              exists ? NULL : member_cstr(a, cur, "username"), errbuf, errlen);
    PQfinish(c);
    return why;
}

static const char *pg_test(struct moat_arena *a, const struct sm_rotation_values *v, char *errbuf,
                           size_t errlen)
{
    struct moat_value *pend = secret_doc(a, v->pending);
    if (!pend)
        return "testSecret: the pending secret value is not a JSON object";
    PGconn *c = pg_connect(a, pend, pend);
    const char *why = NULL;
    if (!pg_ok(c))
        why = pg_reason(errbuf, errlen,
                        "testSecret: unable to log into the database with the pending secret", c);
    else if (!pg_exec(c, "SELECT now()"))
        why = pg_reason(errbuf, errlen, "testSecret: a query with the pending secret failed", c);
    PQfinish(c);
    return why;
}

const char *sm_strategy_set(enum sm_strategy strategy, const struct sm_rotation_values *v,
                            struct moat_arena *a, char *errbuf, size_t errlen)
{
    switch (strategy) {
    case SM_STRATEGY_PG_SINGLE:
        return pg_set_single(a, v, errbuf, errlen);
    case SM_STRATEGY_PG_MULTI:
        return pg_set_multi(a, v, errbuf, errlen);
    case SM_STRATEGY_PASSWORD:
        return NULL; /* nothing outside Secrets Manager holds the password */
    default:
        return "setSecret: no rotation function";
    }
}

const char *sm_strategy_test(enum sm_strategy strategy, const struct sm_rotation_values *v,
                             struct moat_arena *a, char *errbuf, size_t errlen)
{
    switch (strategy) {
    case SM_STRATEGY_PG_SINGLE:
    case SM_STRATEGY_PG_MULTI:
        return pg_test(a, v, errbuf, errlen);
    case SM_STRATEGY_PASSWORD:
        return secret_doc(a, v->pending) ? NULL
                                         : "testSecret: the pending value is not a JSON object";
    default:
        return "testSecret: no rotation function";
    }
}

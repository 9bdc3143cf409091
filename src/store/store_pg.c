/* store_pg.c: the scale-out store on PostgreSQL through libpq: schema under an
 * advisory lock, one PGconn per connection with its prepared statements, binary I/O. */
#include "store/store_impl.h"

#include "core/buf.h"
#include "core/log.h"

#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pg_advisory_lock key held while the schema is created or migrated ("moat" as an int). */
#define PG_MIGRATION_LOCK "1836016756"

/* Type OIDs of the parameters we send (pg_type.dat). */
#define PG_BOOL 16
#define PG_BYTEA 17
#define PG_INT8 20
#define PG_INT4 23
#define PG_TEXT 25
#define PG_BOOL_ARRAY 1000
#define PG_BYTEA_ARRAY 1001
#define PG_INT4_ARRAY 1007
#define PG_TEXT_ARRAY 1009
#define PG_INT8_ARRAY 1016

static const char *const pg_migrations[] = {
    "CREATE TABLE records ("
    " ns text COLLATE \"C\" NOT NULL, key bytea NOT NULL, value bytea NOT NULL,"
    " version bigint NOT NULL, PRIMARY KEY (ns, key));"
    "CREATE TABLE audit ("
    " seq bigint PRIMARY KEY, event_time_ms bigint NOT NULL,"
    " account_id text COLLATE \"C\" NOT NULL, event_id text COLLATE \"C\" NOT NULL,"
    " event_name text COLLATE \"C\" NOT NULL, event_source text COLLATE \"C\" NOT NULL,"
    " username text COLLATE \"C\" NOT NULL, access_key_id text COLLATE \"C\" NOT NULL,"
    " read_only boolean NOT NULL, management boolean NOT NULL, record text NOT NULL,"
    " prev_hash bytea NOT NULL, hash bytea NOT NULL);"
    "CREATE INDEX audit_account_time ON audit (account_id, event_time_ms, seq);"
    "CREATE INDEX audit_event_id ON audit (event_id);"
    "CREATE INDEX audit_event_name ON audit (account_id, event_name, event_time_ms, seq);"
    "CREATE INDEX audit_username ON audit (account_id, username, event_time_ms, seq);"
    "CREATE INDEX audit_event_source ON audit (account_id, event_source, event_time_ms, seq);"
    "CREATE INDEX audit_access_key ON audit (account_id, access_key_id, event_time_ms, seq);"
    "CREATE INDEX audit_read_only ON audit (account_id, read_only, event_time_ms, seq);"
    /* See store_sqlite.c: *_first marks the first occurrence in its event. */
    "CREATE TABLE audit_resources ("
    " seq bigint NOT NULL, idx integer NOT NULL, account_id text COLLATE \"C\" NOT NULL,"
    " event_time_ms bigint NOT NULL, type text COLLATE \"C\" NOT NULL,"
    " name text COLLATE \"C\" NOT NULL, type_first boolean NOT NULL,"
    " name_first boolean NOT NULL, PRIMARY KEY (seq, idx));"
    "CREATE INDEX audit_res_type ON audit_resources (account_id, type, event_time_ms, seq)"
    " WHERE type_first;"
    "CREATE INDEX audit_res_name ON audit_resources (account_id, name, event_time_ms, seq)"
    " WHERE name_first;"
    "CREATE TABLE audit_head ("
    " id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL, hash bytea NOT NULL);"
    "INSERT INTO audit_head VALUES (1, 0, decode(repeat('00', 32), 'hex'));",
    /* 2: see store_sqlite.c: one durable row per record, a derived index. */
    "ALTER TABLE audit ADD COLUMN resources text NOT NULL DEFAULT '[]';"
    "UPDATE audit SET resources = r.list FROM (SELECT seq, json_agg(json_build_array(type, name)"
    " ORDER BY idx)::text AS list FROM audit_resources GROUP BY seq) r WHERE r.seq = audit.seq;"
    "DROP TABLE audit_resources;"
    "DROP INDEX audit_account_time, audit_event_id, audit_event_name, audit_username,"
    " audit_event_source, audit_access_key, audit_read_only;"
    "CREATE TABLE audit_index ("
    " account_id text COLLATE \"C\" NOT NULL, attr integer NOT NULL,"
    " value text COLLATE \"C\" NOT NULL, event_time_ms bigint NOT NULL, seq bigint NOT NULL,"
    " management boolean NOT NULL,"
    " PRIMARY KEY (account_id, attr, value, event_time_ms, seq));"
    "CREATE INDEX audit_index_seq ON audit_index (seq);"
    "CREATE TABLE audit_indexed (id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL);"
    "INSERT INTO audit_indexed VALUES (1, 0);",
};

enum pg_stmt {
    PG_GET = 0,
    PG_INSERT_NEW,
    PG_UPSERT,
    PG_UPDATE_IF,
    PG_DELETE,
    PG_DELETE_IF,
    PG_EXISTS,
    PG_SCAN,
    PG_SCAN_OPEN,
    PG_COUNT,
    PG_COUNT_OPEN,
    PG_HEAD,
    PG_HEAD_LOCK,
    PG_HEAD_MOVE,
    PG_AUDIT_INSERT,
    PG_TIME_OF,
    PG_LOOKUP,
    PG_AUDIT_SCAN,
    PG_MARK,
    PG_MARK_LOCK,
    PG_MARK_SET,
    PG_INDEX_INSERT,
    PG_INDEX_READ,
    PG_WIPE_RECORDS,
    PG_WIPE_AUDIT,
    PG_WIPE_INDEX,
    PG_WIPE_MARK,
    PG_WIPE_HEAD,
    PG_STMT_COUNT,
};

#define PG_LOOKUP_SQL                                                                              \
    "SELECT a.seq, a.event_time_ms, a.record FROM audit_index i JOIN audit a ON a.seq = i.seq"     \
    " WHERE i.account_id = $1 AND i.attr = $9 AND i.value = $2"                                    \
    " AND i.event_time_ms BETWEEN $3 AND $4 AND (i.event_time_ms < $5 OR i.seq < $6)"              \
    " AND (NOT $7 OR i.management) ORDER BY i.event_time_ms DESC, i.seq DESC LIMIT $8"
#define PG_AUDIT_COLS                                                                              \
    "seq, event_time_ms, account_id, event_id, event_name, event_source, username,"                \
    " access_key_id, read_only, management, record, prev_hash, hash, resources"

/* types: one letter per parameter: t text, b bytea, l int8, o bool; capitals
 * are arrays of the same. */
static const struct {
    const char *name;
    const char *sql;
    const char *types;
} pg_sql[PG_STMT_COUNT] = {
    [PG_GET] = {"get", "SELECT value, version FROM records WHERE ns = $1 AND key = $2", "tb"},
    [PG_INSERT_NEW] = {"put_new",
                       "INSERT INTO records (ns, key, value, version)"
                       " VALUES ($1, $2, $3, 1) ON CONFLICT DO NOTHING",
                       "tbb"},
    [PG_UPSERT] = {"put_any",
                   "INSERT INTO records (ns, key, value, version)"
                   " VALUES ($1, $2, $3, 1) ON CONFLICT (ns, key) DO UPDATE"
                   " SET value = EXCLUDED.value, version = records.version + 1"
                   " RETURNING version",
                   "tbb"},
    [PG_UPDATE_IF] = {"put_if",
                      "UPDATE records SET value = $3, version = version + 1"
                      " WHERE ns = $1 AND key = $2 AND version = $4 RETURNING version",
                      "tbbl"},
    [PG_DELETE] = {"delete", "DELETE FROM records WHERE ns = $1 AND key = $2", "tb"},
    [PG_DELETE_IF] = {"delete_if",
                      "DELETE FROM records WHERE ns = $1 AND key = $2 AND version = $3", "tbl"},
    [PG_EXISTS] = {"exists", "SELECT 1 FROM records WHERE ns = $1 AND key = $2", "tb"},
    [PG_SCAN] = {"scan",
                 "SELECT key, value, version FROM records"
                 " WHERE ns = $1 AND key >= $2 AND key < $3 ORDER BY key LIMIT $4",
                 "tbbl"},
    [PG_SCAN_OPEN] = {"scan_open",
                      "SELECT key, value, version FROM records"
                      " WHERE ns = $1 AND key >= $2 ORDER BY key LIMIT $4",
                      "tbbl"},
    [PG_COUNT] = {"count", "SELECT count(*) FROM records WHERE ns = $1 AND key >= $2 AND key < $3",
                  "tbb"},
    [PG_COUNT_OPEN] = {"count_open", "SELECT count(*) FROM records WHERE ns = $1 AND key >= $2",
                       "tb"},
    [PG_HEAD] = {"audit_head", "SELECT seq, hash FROM audit_head WHERE id = 1", ""},
    /* Nodes sharing the database queue here; each then sees the latest head. */
    [PG_HEAD_LOCK] = {"audit_head_lock", "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
                      ""},
    [PG_HEAD_MOVE] = {"audit_head_move",
                      "UPDATE audit_head SET seq = $1, hash = $2"
                      " WHERE id = 1 AND seq = $3 AND hash = $4",
                      "lblb"},
    /* One statement per batch: each column arrives as one binary array. */
    [PG_AUDIT_INSERT] = {"audit_insert",
                         "INSERT INTO audit (" PG_AUDIT_COLS ")"
                         " SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8,"
                         " $9, $10, $11, $12, $13, $14)",
                         "LLTTTTTTOOTBBT"},
    [PG_TIME_OF] = {"audit_time_of", "SELECT event_time_ms FROM audit WHERE seq = $1", "l"},
    [PG_LOOKUP] = {"lookup", PG_LOOKUP_SQL, "ttlllloli"},
    [PG_AUDIT_SCAN] = {"audit_scan",
                       "SELECT " PG_AUDIT_COLS " FROM audit WHERE seq >= $1"
                       " ORDER BY seq LIMIT $2",
                       "ll"},
    [PG_MARK] = {"audit_mark", "SELECT seq FROM audit_indexed WHERE id = 1", ""},
    /* Indexers on several nodes queue here; each then sees the latest mark. */
    [PG_MARK_LOCK] = {"audit_mark_lock", "SELECT seq FROM audit_indexed WHERE id = 1 FOR UPDATE",
                      ""},
    [PG_MARK_SET] = {"audit_mark_set", "UPDATE audit_indexed SET seq = $1 WHERE id = 1", "l"},
    [PG_INDEX_INSERT] = {"audit_index_insert",
                         "INSERT INTO audit_index (account_id, attr, value, event_time_ms, seq,"
                         " management) SELECT * FROM unnest($1, $2, $3, $4, $5, $6)"
                         " ON CONFLICT DO NOTHING",
                         "TITLLO"},
    [PG_INDEX_READ] = {"audit_index_read",
                       "SELECT account_id, attr, value, event_time_ms, seq, management"
                       " FROM audit_index WHERE seq BETWEEN $1 AND $2",
                       "ll"},
    [PG_WIPE_RECORDS] = {"wipe_records", "DELETE FROM records", ""},
    [PG_WIPE_AUDIT] = {"wipe_audit", "DELETE FROM audit", ""},
    [PG_WIPE_INDEX] = {"wipe_audit_index", "DELETE FROM audit_index", ""},
    [PG_WIPE_MARK] = {"wipe_audit_mark", "UPDATE audit_indexed SET seq = 0", ""},
    [PG_WIPE_HEAD] = {"wipe_audit_head",
                      "UPDATE audit_head SET seq = 0, hash = decode(repeat('00', 32), 'hex')", ""},
};

_Static_assert(PG_STMT_COUNT <= 64, "prepared statements are tracked in a 64-bit mask");

struct pg_store {
    struct store base;
    char *url;
};

struct pg_conn {
    struct store_conn base;
    PGconn *pg;
    uint64_t prepared; /* bit per enum pg_stmt */
};

static const struct store_ops pg_ops;

static struct pg_conn *conn_of(struct store_conn *c)
{
    return (struct pg_conn *)c;
}

static void ignore_notice(void *arg, const char *message)
{
    MOAT_UNUSED(arg);
    MOAT_UNUSED(message);
}

/* Logs the SQLSTATE and primary message only: DETAIL lines can quote key values. */
static void log_result(struct pg_conn *c, PGresult *res, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg) {
        msg = PQerrorMessage(c->pg);
        if (!*msg && res)
            msg = PQresStatus(PQresultStatus(res));
    }
    int len = (int)strcspn(msg, "\n");
    moat_log_error("store: postgres %s failed: %.*s (%s)", what, len, msg, state ? state : "-");
}

/* ---- parameters and results ---------------------------------------------- */

#define PG_MAX_PARAMS 16

struct pg_params {
    int n;
    const char *values[PG_MAX_PARAMS];
    int lengths[PG_MAX_PARAMS];
    int formats[PG_MAX_PARAMS];
    uint8_t scratch[PG_MAX_PARAMS][8];
};

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Binary format of bytea and text is the bytes themselves. A NULL pointer
 * would be SQL NULL, hence "" for an empty slice. */
static void p_bytes(struct pg_params *p, struct moat_slice s)
{
    p->values[p->n] = s.ptr ? (const char *)s.ptr : "";
    p->lengths[p->n] = (int)s.len;
    p->formats[p->n] = 1;
    p->n++;
}

static void p_int8(struct pg_params *p, int64_t v)
{
    put_be64(p->scratch[p->n], (uint64_t)v);
    p_bytes(p, moat_slice(p->scratch[p->n], 8));
}

static void p_int4(struct pg_params *p, int32_t v)
{
    put_be32(p->scratch[p->n], (uint32_t)v);
    p_bytes(p, moat_slice(p->scratch[p->n], 4));
}

static void p_bool(struct pg_params *p, bool v)
{
    p->scratch[p->n][0] = v ? 1 : 0;
    p_bytes(p, moat_slice(p->scratch[p->n], 1));
}

static void p_null(struct pg_params *p)
{
    p->values[p->n] = NULL;
    p->lengths[p->n] = 0;
    p->formats[p->n] = 1;
    p->n++;
}

static int64_t get_int8(const PGresult *res, int row, int col)
{
    const uint8_t *p = (const uint8_t *)PQgetvalue(res, row, col);
    if (PQgetlength(res, row, col) != 8)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

static int32_t get_int4(const PGresult *res, int row, int col)
{
    const uint8_t *p = (const uint8_t *)PQgetvalue(res, row, col);
    if (PQgetlength(res, row, col) != 4)
        return 0;
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

static bool get_bool(const PGresult *res, int row, int col)
{
    return PQgetlength(res, row, col) == 1 && PQgetvalue(res, row, col)[0] != 0;
}

static struct moat_slice get_slice(struct moat_arena *a, const PGresult *res, int row, int col)
{
    return moat_arena_dup(
        a, moat_slice(PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col)));
}

static bool get_hash(const PGresult *res, int row, int col, uint8_t out[32])
{
    if (PQgetlength(res, row, col) != 32)
        return false;
    memcpy(out, PQgetvalue(res, row, col), 32);
    return true;
}

static Oid type_oid(char t)
{
    switch (t) {
    case 't':
        return PG_TEXT;
    case 'b':
        return PG_BYTEA;
    case 'l':
        return PG_INT8;
    case 'i':
        return PG_INT4;
    case 'o':
        return PG_BOOL;
    case 'T':
        return PG_TEXT_ARRAY;
    case 'B':
        return PG_BYTEA_ARRAY;
    case 'L':
        return PG_INT8_ARRAY;
    case 'I':
        return PG_INT4_ARRAY;
    case 'O':
        return PG_BOOL_ARRAY;
    default:
        return 0;
    }
}

/* ---- connections ---------------------------------------------------------- */

/* Settings every session needs; run after connect and after a reset. */
static bool session_setup(struct pg_conn *c)
{
    PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
    c->prepared = 0;
    /* The writer's commits must be durable whatever the server default is. */
    const char *sql = c->base.writer ? "SET synchronous_commit = on" : "SELECT 1";
    PGresult *res = PQexec(c->pg, sql);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        log_result(c, res, "session setup");
    PQclear(res);
    return ok;
}

/* Outside a transaction a lost connection is re-established; inside one the
 * transaction is lost anyway and the caller sees the error. */
static bool ensure_connected(struct pg_conn *c)
{
    if (PQstatus(c->pg) == CONNECTION_OK)
        return true;
    if (c->base.txn != STORE_TXN_NONE)
        return false;
    moat_log_warn("store: postgres connection lost; reconnecting");
    PQreset(c->pg);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        log_result(c, NULL, "reconnect");
        return false;
    }
    return session_setup(c);
}

/* Runs a prepared statement (preparing it on first use in this session) with
 * binary results. Returns the result when its status is the expected one. */
static PGresult *exec_stmt(struct pg_conn *c, enum pg_stmt id, const struct pg_params *p,
                           ExecStatusType want)
{
    if (!ensure_connected(c)) {
        log_result(c, NULL, pg_sql[id].name);
        return NULL;
    }
    char name[16];
    snprintf(name, sizeof(name), "m%d", (int)id);
    if (!(c->prepared & (UINT64_C(1) << id))) {
        Oid types[PG_MAX_PARAMS];
        int n = (int)strlen(pg_sql[id].types);
        for (int i = 0; i < n; i++)
            types[i] = type_oid(pg_sql[id].types[i]);
        PGresult *res = PQprepare(c->pg, name, pg_sql[id].sql, n, types);
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok)
            log_result(c, res, pg_sql[id].name);
        PQclear(res);
        if (!ok)
            return NULL;
        c->prepared |= UINT64_C(1) << id;
    }
    int n = p ? p->n : 0;
    PGresult *res = PQexecPrepared(c->pg, name, n, p ? p->values : NULL, p ? p->lengths : NULL,
                                   p ? p->formats : NULL, 1);
    if (PQresultStatus(res) != want) {
        log_result(c, res, pg_sql[id].name);
        PQclear(res);
        return NULL;
    }
    return res;
}

static enum store_status exec_simple(struct pg_conn *c, const char *sql, const char *what)
{
    if (!ensure_connected(c)) {
        log_result(c, NULL, what);
        return STORE_ERROR;
    }
    PGresult *res = PQexec(c->pg, sql);
    ExecStatusType st = PQresultStatus(res);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        log_result(c, res, what);
    PQclear(res);
    return ok ? STORE_OK : STORE_ERROR;
}

/* Rows changed by an INSERT/UPDATE/DELETE result. */
static long affected(PGresult *res)
{
    return strtol(PQcmdTuples(res), NULL, 10);
}

static bool migrate(PGconn *pg, char *errbuf, size_t errlen)
{
    /* Several processes may start at once on an empty database: the lock
     * makes one create the schema while the others wait and then find it. */
    static const char *const steps[] = {
        "SELECT pg_advisory_lock(" PG_MIGRATION_LOCK ")",
        "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)",
        "BEGIN",
    };
    PGresult *res = NULL;
    for (size_t i = 0; i < MOAT_COUNT(steps); i++) {
        res = PQexec(pg, steps[i]);
        if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
            goto fail;
        PQclear(res);
    }
    res = PQexec(pg, "SELECT version FROM schema_version FOR UPDATE");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        goto fail;
    long version = 0;
    bool fresh = PQntuples(res) == 0;
    if (!fresh)
        version = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (fresh) {
        res = PQexec(pg, "INSERT INTO schema_version VALUES (0)");
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            goto fail;
        PQclear(res);
    }
    if (version < 0 || (size_t)version > MOAT_COUNT(pg_migrations)) {
        snprintf(errbuf, errlen, "PostgreSQL schema version %ld is newer than this moat (%zu)",
                 version, MOAT_COUNT(pg_migrations));
        return false; /* PQfinish rolls back and drops the lock */
    }
    for (size_t v = (size_t)version; v < MOAT_COUNT(pg_migrations); v++) {
        res = PQexec(pg, pg_migrations[v]);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            goto fail;
        PQclear(res);
        char sql[64];
        snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %zu", v + 1);
        res = PQexec(pg, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            goto fail;
        PQclear(res);
    }
    res = PQexec(pg, "COMMIT");
    if (PQresultStatus(res) != PGRES_COMMAND_OK || strcmp(PQcmdStatus(res), "COMMIT") != 0)
        goto fail;
    PQclear(res);
    res = PQexec(pg, "SELECT pg_advisory_unlock(" PG_MIGRATION_LOCK ")");
    PQclear(res);
    return true;

fail:;
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    snprintf(errbuf, errlen, "PostgreSQL schema migration failed: %s",
             msg ? msg : PQerrorMessage(pg));
    PQclear(res);
    return false;
}

struct store *store_pg_open(const char *url, char *errbuf, size_t errlen)
{
    PGconn *pg = PQconnectdb(url);
    if (PQstatus(pg) != CONNECTION_OK) {
        const char *msg = PQerrorMessage(pg);
        snprintf(errbuf, errlen, "cannot connect to PostgreSQL: %.*s", (int)strcspn(msg, "\n"),
                 msg);
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeProcessor(pg, ignore_notice, NULL);
    bool ok = migrate(pg, errbuf, errlen);
    PQfinish(pg);
    if (!ok)
        return NULL;
    struct pg_store *s = moat_xcalloc(1, sizeof(*s));
    s->base.ops = &pg_ops;
    s->base.backend = STORE_POSTGRES;
    atomic_init(&s->base.fault_countdown, 0);
    s->url = moat_xstrdup(url);
    return &s->base;
}

static void pg_close(struct store *base)
{
    struct pg_store *s = (struct pg_store *)base;
    free(s->url);
    free(s);
}

static struct store_conn *pg_connect(struct store *base, bool writer)
{
    struct pg_store *s = (struct pg_store *)base;
    struct pg_conn *c = moat_xcalloc(1, sizeof(*c));
    c->base.writer = writer;
    c->pg = PQconnectdb(s->url);
    if (PQstatus(c->pg) != CONNECTION_OK || !session_setup(c)) {
        log_result(c, NULL, "connect");
        PQfinish(c->pg);
        free(c);
        return NULL;
    }
    return &c->base;
}

static void pg_disconnect(struct store_conn *base)
{
    struct pg_conn *c = conn_of(base);
    PQfinish(c->pg);
    free(c);
}

/* ---- transactions ------------------------------------------------------------ */

static enum store_status pg_begin(struct store_conn *base, bool write)
{
    struct pg_conn *c = conn_of(base);
    /* Read committed for writers: versions and the head lock guard what they
     * change. Readers get one snapshot, taken now by the SELECT (PostgreSQL
     * takes it at the first statement, not at BEGIN). */
    if (write)
        return exec_simple(c, "BEGIN", "begin");
    return exec_simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1", "begin");
}

static enum store_status pg_commit(struct store_conn *base)
{
    struct pg_conn *c = conn_of(base);
    PGresult *res = PQexec(c->pg, "COMMIT");
    /* COMMIT of an aborted transaction "succeeds" with the tag ROLLBACK. */
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(res), "COMMIT") == 0;
    if (!ok)
        log_result(c, res, "commit");
    PQclear(res);
    return ok ? STORE_OK : STORE_ERROR;
}

static enum store_status pg_rollback(struct store_conn *base)
{
    struct pg_conn *c = conn_of(base);
    if (PQstatus(c->pg) != CONNECTION_OK)
        return STORE_OK; /* the server dropped the transaction with the connection */
    return exec_simple(c, "ROLLBACK", "rollback");
}

static enum store_status pg_savepoint(struct store_conn *base, unsigned level)
{
    char sql[32];
    snprintf(sql, sizeof(sql), "SAVEPOINT sp%u", level);
    return exec_simple(conn_of(base), sql, "savepoint");
}

static enum store_status pg_release(struct store_conn *base, unsigned level)
{
    char sql[40];
    snprintf(sql, sizeof(sql), "RELEASE SAVEPOINT sp%u", level);
    return exec_simple(conn_of(base), sql, "release");
}

static enum store_status pg_rollback_to(struct store_conn *base, unsigned level)
{
    char sql[40];
    snprintf(sql, sizeof(sql), "ROLLBACK TO SAVEPOINT sp%u", level);
    return exec_simple(conn_of(base), sql, "rollback_to");
}

/* ---- records ---------------------------------------------------------------- */

static enum store_status pg_get(struct store_conn *base, struct moat_arena *a, const char *ns,
                                struct moat_slice key, struct store_record *out)
{
    struct pg_conn *c = conn_of(base);
    struct pg_params p = {0};
    p_bytes(&p, moat_slice_cstr(ns));
    p_bytes(&p, key);
    PGresult *res = exec_stmt(c, PG_GET, &p, PGRES_TUPLES_OK);
    if (!res)
        return STORE_ERROR;
    enum store_status st = STORE_NOT_FOUND;
    if (PQntuples(res) == 1) {
        out->key = moat_arena_dup(a, key);
        out->value = get_slice(a, res, 0, 0);
        out->version = get_int8(res, 0, 1);
        st = STORE_OK;
    }
    PQclear(res);
    return st;
}

static bool too_long(struct moat_slice s)
{
    if (s.len <= INT_MAX / 2)
        return false;
    moat_log_error("store: postgres value too large (%zu bytes)", s.len);
    return true;
}

static enum store_status pg_put(struct store_conn *base, const char *ns, struct moat_slice key,
                                struct moat_slice value, int64_t expect_version,
                                int64_t *new_version)
{
    struct pg_conn *c = conn_of(base);
    if (too_long(key) || too_long(value))
        return STORE_ERROR;
    enum pg_stmt id = expect_version == STORE_MUST_NOT_EXIST ? PG_INSERT_NEW
                      : expect_version == STORE_ANY_VERSION  ? PG_UPSERT
                                                             : PG_UPDATE_IF;
    struct pg_params p = {0};
    p_bytes(&p, moat_slice_cstr(ns));
    p_bytes(&p, key);
    p_bytes(&p, value);
    if (id == PG_UPDATE_IF)
        p_int8(&p, expect_version);
    if (store_fault_fire(base->store))
        return STORE_ERROR;
    PGresult *res = exec_stmt(c, id, &p, id == PG_INSERT_NEW ? PGRES_COMMAND_OK : PGRES_TUPLES_OK);
    if (!res)
        return STORE_ERROR;
    int64_t version = -1;
    if (id == PG_INSERT_NEW)
        version = affected(res) == 1 ? 1 : -1;
    else if (PQntuples(res) == 1)
        version = get_int8(res, 0, 0);
    PQclear(res);
    if (version < 0)
        return STORE_CONFLICT;
    *new_version = version;
    return STORE_OK;
}

static enum store_status pg_del(struct store_conn *base, const char *ns, struct moat_slice key,
                                int64_t expect_version)
{
    struct pg_conn *c = conn_of(base);
    enum pg_stmt id = expect_version == STORE_ANY_VERSION ? PG_DELETE : PG_DELETE_IF;
    struct pg_params p = {0};
    p_bytes(&p, moat_slice_cstr(ns));
    p_bytes(&p, key);
    if (id == PG_DELETE_IF)
        p_int8(&p, expect_version);
    if (store_fault_fire(base->store))
        return STORE_ERROR;
    PGresult *res = exec_stmt(c, id, &p, PGRES_COMMAND_OK);
    if (!res)
        return STORE_ERROR;
    long n = affected(res);
    PQclear(res);
    if (n == 1)
        return STORE_OK;
    if (id == PG_DELETE)
        return STORE_NOT_FOUND;
    p.n = 2;
    res = exec_stmt(c, PG_EXISTS, &p, PGRES_TUPLES_OK);
    if (!res)
        return STORE_ERROR;
    n = PQntuples(res);
    PQclear(res);
    return n ? STORE_CONFLICT : STORE_NOT_FOUND;
}

static void range_params(struct pg_params *p, const char *ns, const struct store_range *r)
{
    p_bytes(p, moat_slice_cstr(ns));
    p_bytes(p, r->lo);
    if (r->has_hi)
        p_bytes(p, r->hi);
    else
        p_null(p);
}

static enum store_status pg_scan(struct store_conn *base, struct moat_arena *a, const char *ns,
                                 const struct store_range *r, int64_t fetch,
                                 struct store_record **out, size_t *count)
{
    struct pg_conn *c = conn_of(base);
    struct pg_params p = {0};
    range_params(&p, ns, r);
    p_int8(&p, fetch);
    PGresult *res = exec_stmt(c, r->has_hi ? PG_SCAN : PG_SCAN_OPEN, &p, PGRES_TUPLES_OK);
    if (!res)
        return STORE_ERROR;
    int n = PQntuples(res);
    struct store_record *recs = n ? moat_arena_alloc(a, (size_t)n * sizeof(*recs)) : NULL;
    for (int i = 0; i < n; i++) {
        recs[i].key = get_slice(a, res, i, 0);
        recs[i].value = get_slice(a, res, i, 1);
        recs[i].version = get_int8(res, i, 2);
    }
    PQclear(res);
    *out = recs;
    *count = (size_t)n;
    return STORE_OK;
}

static enum store_status pg_count(struct store_conn *base, const char *ns,
                                  const struct store_range *r, int64_t *count)
{
    struct pg_conn *c = conn_of(base);
    struct pg_params p = {0};
    range_params(&p, ns, r);
    if (!r->has_hi)
        p.n = 2;
    PGresult *res = exec_stmt(c, r->has_hi ? PG_COUNT : PG_COUNT_OPEN, &p, PGRES_TUPLES_OK);
    if (!res)
        return STORE_ERROR;
    bool ok = PQntuples(res) == 1;
    if (ok)
        *count = get_int8(res, 0, 0);
    PQclear(res);
    return ok ? STORE_OK : STORE_ERROR;
}

/* ---- audit -------------------------------------------------------------------- */

static enum store_status pg_audit_head(struct store_conn *base, int64_t *seq, uint8_t hash[32])
{
    struct pg_conn *c = conn_of(base);
    enum pg_stmt id = base->txn == STORE_TXN_WRITE ? PG_HEAD_LOCK : PG_HEAD;
    PGresult *res = exec_stmt(c, id, NULL, PGRES_TUPLES_OK);
    if (!res)
        return STORE_ERROR;
    bool ok = PQntuples(res) == 1 && get_hash(res, 0, 1, hash);
    if (ok)
        *seq = get_int8(res, 0, 0);
    else
        moat_log_error("store: postgres audit head row is missing or malformed");
    PQclear(res);
    return ok ? STORE_OK : STORE_ERROR;
}

/* One-dimensional arrays in PostgreSQL's binary format (array_recv): a header,
 * then a length-prefixed element each. */
static void array_begin(struct moat_buf *b, Oid elem, size_t count)
{
    uint8_t h[20];
    put_be32(h, 1);     /* dimensions */
    put_be32(h + 4, 0); /* no NULLs */
    put_be32(h + 8, elem);
    put_be32(h + 12, (uint32_t)count);
    put_be32(h + 16, 1); /* lower bound */
    moat_buf_append_bytes(b, h, sizeof(h));
}

static void array_elem(struct moat_buf *b, const void *p, size_t n)
{
    uint8_t len[4];
    put_be32(len, (uint32_t)n);
    moat_buf_append_bytes(b, len, 4);
    moat_buf_append_bytes(b, p, n);
}

static void array_int8(struct moat_buf *b, int64_t v)
{
    uint8_t x[8];
    put_be64(x, (uint64_t)v);
    array_elem(b, x, 8);
}

static void array_int4(struct moat_buf *b, int32_t v)
{
    uint8_t x[4];
    put_be32(x, (uint32_t)v);
    array_elem(b, x, 4);
}

static void array_bool(struct moat_buf *b, bool v)
{
    uint8_t x = v ? 1 : 0;
    array_elem(b, &x, 1);
}

static bool params_from(struct pg_params *p, struct moat_buf *cols, int n)
{
    for (int i = 0; i < n; i++) {
        if (cols[i].failed || cols[i].len > INT_MAX) {
            moat_log_error("store: postgres audit batch too large");
            return false;
        }
        p_bytes(p, moat_buf_slice(&cols[i]));
    }
    return true;
}

static enum store_status insert_rows(struct pg_conn *c, struct moat_arena *a,
                                     const struct store_audit_row *rows, size_t count)
{
    struct moat_buf col[14];
    static const Oid types[14] = {PG_INT8, PG_INT8, PG_TEXT, PG_TEXT, PG_TEXT,  PG_TEXT,  PG_TEXT,
                                  PG_TEXT, PG_BOOL, PG_BOOL, PG_TEXT, PG_BYTEA, PG_BYTEA, PG_TEXT};
    struct moat_buf resources;
    moat_buf_init(&resources, a, 256);
    for (int i = 0; i < 14; i++) {
        moat_buf_init(&col[i], a, 64 + count * (i == 10 ? 1024 : 48));
        array_begin(&col[i], types[i], count);
    }
    for (size_t i = 0; i < count; i++) {
        const struct store_audit_row *r = &rows[i];
        array_int8(&col[0], r->seq);
        array_int8(&col[1], r->event_time_ms);
        array_elem(&col[2], r->account_id.ptr, r->account_id.len);
        array_elem(&col[3], r->event_id.ptr, r->event_id.len);
        array_elem(&col[4], r->event_name.ptr, r->event_name.len);
        array_elem(&col[5], r->event_source.ptr, r->event_source.len);
        array_elem(&col[6], r->username.ptr, r->username.len);
        array_elem(&col[7], r->access_key_id.ptr, r->access_key_id.len);
        array_bool(&col[8], r->read_only);
        array_bool(&col[9], r->management);
        array_elem(&col[10], r->record.ptr, r->record.len);
        array_elem(&col[11], r->prev_hash, 32);
        array_elem(&col[12], r->hash, 32);
        resources.len = 0;
        store_resources_encode(&resources, r);
        array_elem(&col[13], resources.ptr, resources.len);
    }
    struct pg_params p = {0};
    if (!params_from(&p, col, 14))
        return STORE_ERROR;
    if (store_fault_fire(c->base.store))
        return STORE_ERROR;
    PGresult *res = exec_stmt(c, PG_AUDIT_INSERT, &p, PGRES_COMMAND_OK);
    if (!res)
        return STORE_ERROR;
    PQclear(res);
    return STORE_OK;
}

static enum store_status pg_audit_append(struct store_conn *base,
                                         const struct store_audit_row *rows, size_t count)
{
    struct pg_conn *c = conn_of(base);
    const struct store_audit_row *first = &rows[0], *last = &rows[count - 1];
    struct pg_params p = {0};
    p_int8(&p, last->seq);
    p_bytes(&p, moat_slice(last->hash, 32));
    p_int8(&p, first->seq - 1);
    p_bytes(&p, moat_slice(first->prev_hash, 32));
    if (store_fault_fire(base->store))
        return STORE_ERROR;
    PGresult *res = exec_stmt(c, PG_HEAD_MOVE, &p, PGRES_COMMAND_OK);
    if (!res)
        return STORE_ERROR;
    long moved = affected(res);
    PQclear(res);
    if (moved != 1)
        return STORE_CONFLICT;
    struct moat_arena *a = moat_arena_new(64 * 1024);
    enum store_status st = insert_rows(c, a, rows, count);
    moat_arena_free(a);
    return st;
}

static enum store_status pg_audit_time_of(struct store_conn *base, int64_t seq, int64_t *time_ms)
{
    struct pg_conn *c = conn_of(base);
    struct pg_params p = {0};
    p_int8(&p, seq);
    PGresult *res = exec_stmt(c, PG_TIME_OF, &p, PGRES_TUPLES_OK);
    if (!res)
        return STORE_ERROR;
    enum store_status st = STORE_NOT_FOUND;
    if (PQntuples(res) == 1) {
        *time_ms = get_int8(res, 0, 0);
        st = STORE_OK;
    }
    PQclear(res);
    return st;
}

static enum store_status pg_audit_lookup(struct store_conn *base, struct moat_arena *a,
                                         const struct store_audit_query *q,
                                         const struct store_audit_bounds *b,
                                         struct store_audit_row **out, size_t *count)
{
    struct pg_conn *c = conn_of(base);
    struct pg_params p = {0};
    p_bytes(&p, q->account_id);
    if (q->attr == STORE_AUDIT_READ_ONLY)
        p_bytes(&p, b->read_only ? MOAT_LIT("true") : MOAT_LIT("false"));
    else if (q->attr == STORE_AUDIT_ANY)
        p_bytes(&p, MOAT_LIT(""));
    else
        p_bytes(&p, q->value);
    p_int8(&p, b->lo_ms);
    p_int8(&p, b->hi_ms);
    p_int8(&p, b->before_ms);
    p_int8(&p, b->before_seq);
    p_bool(&p, q->management_only);
    p_int8(&p, b->limit);
    p_int4(&p, (int32_t)q->attr);
    PGresult *res = exec_stmt(c, PG_LOOKUP, &p, PGRES_TUPLES_OK);
    if (!res)
        return STORE_ERROR;
    int n = PQntuples(res);
    struct store_audit_row *rows = n ? moat_arena_calloc(a, (size_t)n * sizeof(*rows)) : NULL;
    for (int i = 0; i < n; i++) {
        rows[i].seq = get_int8(res, i, 0);
        rows[i].event_time_ms = get_int8(res, i, 1);
        rows[i].record = get_slice(a, res, i, 2);
    }
    PQclear(res);
    *out = rows;
    *count = (size_t)n;
    return STORE_OK;
}

static enum store_status pg_audit_scan(struct store_conn *base, struct moat_arena *a,
                                       int64_t from_seq, int64_t limit,
                                       struct store_audit_row **out, size_t *count)
{
    struct pg_conn *c = conn_of(base);
    struct pg_params p = {0};
    p_int8(&p, from_seq);
    p_int8(&p, limit);
    PGresult *res = exec_stmt(c, PG_AUDIT_SCAN, &p, PGRES_TUPLES_OK);
    if (!res)
        return STORE_ERROR;
    int n = PQntuples(res);
    struct store_audit_row *rows = n ? moat_arena_calloc(a, (size_t)n * sizeof(*rows)) : NULL;
    bool bad = false;
    for (int i = 0; i < n; i++) {
        struct store_audit_row *r = &rows[i];
        r->seq = get_int8(res, i, 0);
        r->event_time_ms = get_int8(res, i, 1);
        r->account_id = get_slice(a, res, i, 2);
        r->event_id = get_slice(a, res, i, 3);
        r->event_name = get_slice(a, res, i, 4);
        r->event_source = get_slice(a, res, i, 5);
        r->username = get_slice(a, res, i, 6);
        r->access_key_id = get_slice(a, res, i, 7);
        r->read_only = get_bool(res, i, 8);
        r->management = get_bool(res, i, 9);
        r->record = get_slice(a, res, i, 10);
        if (!get_hash(res, i, 11, r->prev_hash) || !get_hash(res, i, 12, r->hash) ||
            !store_resources_decode(a, get_slice(a, res, i, 13), r))
            bad = true;
    }
    PQclear(res);
    if (bad) {
        moat_log_error("store: postgres audit row with a malformed hash or resource list");
        return STORE_ERROR;
    }
    *out = rows;
    *count = (size_t)n;
    return STORE_OK;
}

static enum store_status pg_audit_mark(struct store_conn *base, bool lock, int64_t *seq)
{
    struct pg_conn *c = conn_of(base);
    enum pg_stmt id = lock && base->txn == STORE_TXN_WRITE ? PG_MARK_LOCK : PG_MARK;
    PGresult *res = exec_stmt(c, id, NULL, PGRES_TUPLES_OK);
    if (!res)
        return STORE_ERROR;
    bool ok = PQntuples(res) == 1;
    if (ok)
        *seq = get_int8(res, 0, 0);
    else
        moat_log_error("store: postgres audit index mark is missing");
    PQclear(res);
    return ok ? STORE_OK : STORE_ERROR;
}

static enum store_status pg_audit_mark_set(struct store_conn *base, int64_t seq)
{
    struct pg_conn *c = conn_of(base);
    struct pg_params p = {0};
    p_int8(&p, seq);
    if (store_fault_fire(base->store))
        return STORE_ERROR;
    PGresult *res = exec_stmt(c, PG_MARK_SET, &p, PGRES_COMMAND_OK);
    if (!res)
        return STORE_ERROR;
    PQclear(res);
    return STORE_OK;
}

static enum store_status pg_audit_index_insert(struct store_conn *base,
                                               const struct store_index_entry *e, size_t count)
{
    struct pg_conn *c = conn_of(base);
    if (!count)
        return STORE_OK;
    struct moat_arena *a = moat_arena_new(64 * 1024);
    struct moat_buf col[6];
    static const Oid types[6] = {PG_TEXT, PG_INT4, PG_TEXT, PG_INT8, PG_INT8, PG_BOOL};
    for (int i = 0; i < 6; i++) {
        moat_buf_init(&col[i], a, 64 + count * 48);
        array_begin(&col[i], types[i], count);
    }
    for (size_t i = 0; i < count; i++) {
        array_elem(&col[0], e[i].account_id.ptr, e[i].account_id.len);
        array_int4(&col[1], e[i].attr);
        array_elem(&col[2], e[i].value.ptr, e[i].value.len);
        array_int8(&col[3], e[i].event_time_ms);
        array_int8(&col[4], e[i].seq);
        array_bool(&col[5], e[i].management);
    }
    struct pg_params p = {0};
    enum store_status st = STORE_ERROR;
    if (params_from(&p, col, 6) && !store_fault_fire(base->store)) {
        PGresult *res = exec_stmt(c, PG_INDEX_INSERT, &p, PGRES_COMMAND_OK);
        if (res) {
            PQclear(res);
            st = STORE_OK;
        }
    }
    moat_arena_free(a);
    return st;
}

static enum store_status pg_audit_index_read(struct store_conn *base, struct moat_arena *a,
                                             int64_t lo, int64_t hi, struct store_index_entry **out,
                                             size_t *count)
{
    struct pg_conn *c = conn_of(base);
    struct pg_params p = {0};
    p_int8(&p, lo);
    p_int8(&p, hi);
    PGresult *res = exec_stmt(c, PG_INDEX_READ, &p, PGRES_TUPLES_OK);
    if (!res)
        return STORE_ERROR;
    int n = PQntuples(res);
    struct store_index_entry *e = n ? moat_arena_calloc(a, (size_t)n * sizeof(*e)) : NULL;
    for (int i = 0; i < n; i++) {
        e[i].account_id = get_slice(a, res, i, 0);
        e[i].attr = get_int4(res, i, 1);
        e[i].value = get_slice(a, res, i, 2);
        e[i].event_time_ms = get_int8(res, i, 3);
        e[i].seq = get_int8(res, i, 4);
        e[i].management = get_bool(res, i, 5);
    }
    PQclear(res);
    *out = e;
    *count = (size_t)n;
    return STORE_OK;
}

static enum store_status pg_wipe(struct store_conn *base)
{
    struct pg_conn *c = conn_of(base);
    static const enum pg_stmt ids[] = {PG_WIPE_RECORDS, PG_WIPE_AUDIT, PG_WIPE_INDEX, PG_WIPE_MARK,
                                       PG_WIPE_HEAD};
    for (size_t i = 0; i < MOAT_COUNT(ids); i++) {
        if (store_fault_fire(base->store))
            return STORE_ERROR;
        PGresult *res = exec_stmt(c, ids[i], NULL, PGRES_COMMAND_OK);
        if (!res)
            return STORE_ERROR;
        PQclear(res);
    }
    return STORE_OK;
}

static const struct store_ops pg_ops = {
    .name = "postgres",
    .close = pg_close,
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .savepoint = pg_savepoint,
    .release = pg_release,
    .rollback_to = pg_rollback_to,
    .get = pg_get,
    .put = pg_put,
    .del = pg_del,
    .scan = pg_scan,
    .count = pg_count,
    .audit_head = pg_audit_head,
    .audit_append = pg_audit_append,
    .audit_time_of = pg_audit_time_of,
    .audit_lookup = pg_audit_lookup,
    .audit_scan = pg_audit_scan,
    .audit_mark = pg_audit_mark,
    .audit_mark_set = pg_audit_mark_set,
    .audit_index_insert = pg_audit_index_insert,
    .audit_index_read = pg_audit_index_read,
    .wipe = pg_wipe,
};

/* store_sqlite.c: the embedded store on SQLite 3 in WAL mode: schema and
 * migrations, one sqlite3 handle per connection with its prepared statements. */
#include "store/store_impl.h"

#include "core/buf.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SQ_BUSY_TIMEOUT_MS 10000

/* Schema migrations; entry i moves the schema from version i to i + 1. */
static const char *const sq_migrations[] = {
    "CREATE TABLE records ("
    " ns TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, version INTEGER NOT NULL,"
    " PRIMARY KEY (ns, key)) WITHOUT ROWID;"
    "CREATE TABLE audit ("
    " seq INTEGER PRIMARY KEY, event_time_ms INTEGER NOT NULL, account_id TEXT NOT NULL,"
    " event_id TEXT NOT NULL, event_name TEXT NOT NULL, event_source TEXT NOT NULL,"
    " username TEXT NOT NULL, access_key_id TEXT NOT NULL, read_only INTEGER NOT NULL,"
    " management INTEGER NOT NULL, record TEXT NOT NULL, prev_hash BLOB NOT NULL,"
    " hash BLOB NOT NULL);"
    /* seq is the rowid, so each index ends in it and yields (time, seq) order. */
    "CREATE INDEX audit_account_time ON audit (account_id, event_time_ms);"
    "CREATE INDEX audit_event_id ON audit (event_id);"
    "CREATE INDEX audit_event_name ON audit (account_id, event_name, event_time_ms);"
    "CREATE INDEX audit_username ON audit (account_id, username, event_time_ms);"
    "CREATE INDEX audit_event_source ON audit (account_id, event_source, event_time_ms);"
    "CREATE INDEX audit_access_key ON audit (account_id, access_key_id, event_time_ms);"
    "CREATE INDEX audit_read_only ON audit (account_id, read_only, event_time_ms);"
    /* One row per (event, resource); *_first marks the first occurrence of a
     * type or name in its event so that a filtered lookup meets each event once. */
    "CREATE TABLE audit_resources ("
    " seq INTEGER NOT NULL, idx INTEGER NOT NULL, account_id TEXT NOT NULL,"
    " event_time_ms INTEGER NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL,"
    " type_first INTEGER NOT NULL, name_first INTEGER NOT NULL,"
    " PRIMARY KEY (seq, idx)) WITHOUT ROWID;"
    "CREATE INDEX audit_res_type ON audit_resources (account_id, type, event_time_ms)"
    " WHERE type_first = 1;"
    "CREATE INDEX audit_res_name ON audit_resources (account_id, name, event_time_ms)"
    " WHERE name_first = 1;"
    "CREATE TABLE audit_head ("
    " id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash BLOB NOT NULL);"
    "INSERT INTO audit_head VALUES (1, 0, zeroblob(32));",
    /* 2: a durable record is one row; the LookupEvents index is derived data,
     * one table filled after commit (store_audit_index), up to audit_indexed. */
    "ALTER TABLE audit ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';"
    "UPDATE audit SET resources = (SELECT json_group_array(json_array(type, name))"
    " FROM (SELECT type, name FROM audit_resources r WHERE r.seq = audit.seq ORDER BY idx))"
    " WHERE seq IN (SELECT seq FROM audit_resources);"
    "DROP TABLE audit_resources;"
    "DROP INDEX audit_account_time; DROP INDEX audit_event_id; DROP INDEX audit_event_name;"
    "DROP INDEX audit_username; DROP INDEX audit_event_source; DROP INDEX audit_access_key;"
    "DROP INDEX audit_read_only;"
    "CREATE TABLE audit_index ("
    " account_id TEXT NOT NULL, attr INTEGER NOT NULL, value TEXT NOT NULL,"
    " event_time_ms INTEGER NOT NULL, seq INTEGER NOT NULL, management INTEGER NOT NULL,"
    " PRIMARY KEY (account_id, attr, value, event_time_ms, seq)) WITHOUT ROWID;"
    "CREATE INDEX audit_index_seq ON audit_index (seq);" /* moat audit verify */
    "CREATE TABLE audit_indexed (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);"
    "INSERT INTO audit_indexed VALUES (1, 0);",
};

enum sq_stmt {
    SQ_BEGIN_READ = 0,
    SQ_SNAPSHOT,
    SQ_BEGIN_WRITE,
    SQ_COMMIT,
    SQ_ROLLBACK,
    SQ_GET,
    SQ_INSERT_NEW,
    SQ_UPSERT,
    SQ_UPDATE_IF,
    SQ_DELETE,
    SQ_DELETE_IF,
    SQ_EXISTS,
    SQ_SCAN,
    SQ_SCAN_OPEN,
    SQ_COUNT,
    SQ_COUNT_OPEN,
    SQ_HEAD,
    SQ_HEAD_MOVE,
    SQ_AUDIT_INSERT,
    SQ_TIME_OF,
    SQ_LOOKUP,
    SQ_AUDIT_SCAN,
    SQ_MARK,
    SQ_MARK_SET,
    SQ_INDEX_INSERT,
    SQ_INDEX_READ,
    SQ_WIPE_RECORDS,
    SQ_WIPE_AUDIT,
    SQ_WIPE_INDEX,
    SQ_WIPE_MARK,
    SQ_WIPE_HEAD,
    SQ_STMT_COUNT,
};

/* The lookup binds ?1 account, ?2 attribute value, ?3..?4 time range,
 * ?5..?6 page bound, ?7 management only, ?8 limit, ?9 attribute. CROSS JOIN
 * makes SQLite drive it from the index's range. */
#define SQ_LOOKUP_SQL                                                                              \
    "SELECT a.seq, a.event_time_ms, a.record FROM audit_index i CROSS JOIN audit a"                \
    " ON a.seq = i.seq WHERE i.account_id = ?1 AND i.attr = ?9 AND i.value = ?2"                   \
    " AND i.event_time_ms BETWEEN ?3 AND ?4 AND (i.event_time_ms < ?5 OR i.seq < ?6)"              \
    " AND (?7 = 0 OR i.management = 1) ORDER BY i.event_time_ms DESC, i.seq DESC LIMIT ?8"

#define SQ_AUDIT_COLS                                                                              \
    "seq, event_time_ms, account_id, event_id, event_name, event_source, username,"                \
    " access_key_id, read_only, management, record, prev_hash, hash, resources"

static const struct {
    const char *name;
    const char *sql;
} sq_sql[SQ_STMT_COUNT] = {
    [SQ_BEGIN_READ] = {"begin", "BEGIN DEFERRED"},
    /* A deferred transaction takes its snapshot at the first read. */
    [SQ_SNAPSHOT] = {"snapshot", "SELECT seq FROM audit_head WHERE id = 1"},
    [SQ_BEGIN_WRITE] = {"begin_write", "BEGIN IMMEDIATE"},
    [SQ_COMMIT] = {"commit", "COMMIT"},
    [SQ_ROLLBACK] = {"rollback", "ROLLBACK"},
    [SQ_GET] = {"get", "SELECT value, version FROM records WHERE ns = ?1 AND key = ?2"},
    [SQ_INSERT_NEW] = {"put_new", "INSERT INTO records (ns, key, value, version)"
                                  " VALUES (?1, ?2, ?3, 1) ON CONFLICT DO NOTHING"},
    [SQ_UPSERT] = {"put_any", "INSERT INTO records (ns, key, value, version)"
                              " VALUES (?1, ?2, ?3, 1) ON CONFLICT (ns, key) DO UPDATE"
                              " SET value = excluded.value, version = records.version + 1"
                              " RETURNING version"},
    [SQ_UPDATE_IF] = {"put_if", "UPDATE records SET value = ?3, version = version + 1"
                                " WHERE ns = ?1 AND key = ?2 AND version = ?4 RETURNING version"},
    [SQ_DELETE] = {"delete", "DELETE FROM records WHERE ns = ?1 AND key = ?2"},
    [SQ_DELETE_IF] = {"delete_if",
                      "DELETE FROM records WHERE ns = ?1 AND key = ?2 AND version = ?3"},
    [SQ_EXISTS] = {"exists", "SELECT 1 FROM records WHERE ns = ?1 AND key = ?2"},
    [SQ_SCAN] = {"scan", "SELECT key, value, version FROM records"
                         " WHERE ns = ?1 AND key >= ?2 AND key < ?3 ORDER BY key LIMIT ?4"},
    [SQ_SCAN_OPEN] = {"scan_open", "SELECT key, value, version FROM records"
                                   " WHERE ns = ?1 AND key >= ?2 ORDER BY key LIMIT ?4"},
    [SQ_COUNT] = {"count", "SELECT count(*) FROM records WHERE ns = ?1 AND key >= ?2 AND key < ?3"},
    [SQ_COUNT_OPEN] = {"count_open", "SELECT count(*) FROM records WHERE ns = ?1 AND key >= ?2"},
    [SQ_HEAD] = {"audit_head", "SELECT seq, hash FROM audit_head WHERE id = 1"},
    [SQ_HEAD_MOVE] = {"audit_head_move", "UPDATE audit_head SET seq = ?1, hash = ?2"
                                         " WHERE id = 1 AND seq = ?3 AND hash = ?4"},
    [SQ_AUDIT_INSERT] = {"audit_insert", "INSERT INTO audit (" SQ_AUDIT_COLS ")"
                                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
                                         " ?11, ?12, ?13, ?14)"},
    [SQ_TIME_OF] = {"audit_time_of", "SELECT event_time_ms FROM audit WHERE seq = ?1"},
    [SQ_LOOKUP] = {"lookup", SQ_LOOKUP_SQL},
    [SQ_AUDIT_SCAN] = {"audit_scan", "SELECT " SQ_AUDIT_COLS " FROM audit WHERE seq >= ?1"
                                     " ORDER BY seq LIMIT ?2"},
    [SQ_MARK] = {"audit_mark", "SELECT seq FROM audit_indexed WHERE id = 1"},
    [SQ_MARK_SET] = {"audit_mark_set", "UPDATE audit_indexed SET seq = ?1 WHERE id = 1"},
    [SQ_INDEX_INSERT] = {"audit_index_insert",
                         "INSERT OR IGNORE INTO audit_index (account_id, attr, value,"
                         " event_time_ms, seq, management) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
    [SQ_WIPE_RECORDS] = {"wipe_records", "DELETE FROM records"},
    [SQ_WIPE_AUDIT] = {"wipe_audit", "DELETE FROM audit"},
    [SQ_INDEX_READ] = {"audit_index_read",
                       "SELECT account_id, attr, value, event_time_ms, seq, management"
                       " FROM audit_index WHERE seq BETWEEN ?1 AND ?2"},
    [SQ_WIPE_INDEX] = {"wipe_audit_index", "DELETE FROM audit_index"},
    [SQ_WIPE_MARK] = {"wipe_audit_mark", "UPDATE audit_indexed SET seq = 0"},
    [SQ_WIPE_HEAD] = {"wipe_audit_head", "UPDATE audit_head SET seq = 0, hash = zeroblob(32)"},
};

enum sq_sp { SQ_SP_SAVE = 0, SQ_SP_RELEASE, SQ_SP_ROLLBACK_TO, SQ_SP_KINDS };

struct sq_store {
    struct store base;
    char *path;
};

struct sq_conn {
    struct store_conn base;
    sqlite3 *db;
    sqlite3_stmt *stmts[SQ_STMT_COUNT];
    sqlite3_stmt *sp[SQ_SP_KINDS][STORE_MAX_SAVEPOINTS];
};

static const struct store_ops sq_ops;

static struct sq_conn *conn_of(struct store_conn *c)
{
    return (struct sq_conn *)c;
}

static void log_db(sqlite3 *db, const char *what)
{
    moat_log_error("store: sqlite %s failed: %s (code %d)", what, sqlite3_errmsg(db),
                   sqlite3_extended_errcode(db));
}

/* The cached statement, prepared on first use. NULL on failure (logged). */
static sqlite3_stmt *stmt(struct sq_conn *c, enum sq_stmt id)
{
    if (c->stmts[id])
        return c->stmts[id];
    if (sqlite3_prepare_v3(c->db, sq_sql[id].sql, -1, SQLITE_PREPARE_PERSISTENT, &c->stmts[id],
                           NULL) != SQLITE_OK) {
        log_db(c->db, sq_sql[id].name);
        c->stmts[id] = NULL;
    }
    return c->stmts[id];
}

/* Empty slices must still bind as a zero-length value: SQLite binds a NULL
 * pointer as SQL NULL. */
static const void *nonnull(struct moat_slice s)
{
    return s.ptr ? (const void *)s.ptr : "";
}

static void bind_blob(sqlite3_stmt *st, int i, struct moat_slice s)
{
    sqlite3_bind_blob64(st, i, nonnull(s), s.len, SQLITE_STATIC);
}

static void bind_text(sqlite3_stmt *st, int i, struct moat_slice s)
{
    sqlite3_bind_text64(st, i, nonnull(s), s.len, SQLITE_STATIC, SQLITE_UTF8);
}

static void bind_ns(sqlite3_stmt *st, const char *ns)
{
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
}

static struct moat_slice column_slice(struct moat_arena *a, sqlite3_stmt *st, int i)
{
    const void *p = sqlite3_column_blob(st, i);
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    return moat_arena_dup(a, moat_slice(p, p ? n : 0));
}

/* Steps a statement that returns no rows (or whose rows are ignored) and resets it. */
static enum store_status run(struct sq_conn *c, sqlite3_stmt *st, enum sq_stmt id)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_db(c->db, sq_sql[id].name);
        return STORE_ERROR;
    }
    return STORE_OK;
}

/* Before each write statement: the injected fault, if armed, fails this one. */
static bool faulted(struct sq_conn *c, sqlite3_stmt *st)
{
    if (!store_fault_fire(c->base.store))
        return false;
    sqlite3_reset(st);
    return true;
}

static enum store_status run_simple(struct sq_conn *c, enum sq_stmt id)
{
    sqlite3_stmt *st = stmt(c, id);
    if (!st)
        return STORE_ERROR;
    return run(c, st, id);
}

/* ---- open, migrate, connect ----------------------------------------------- */

static int exec_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_NOTFOUND;
    }
    sqlite3_finalize(st);
    return rc;
}

/* WAL is a property of the file: set once at open, every later connection
 * uses it. Switching needs an exclusive lock for which SQLite returns BUSY at
 * once, without the busy handler, when another process opens the file at the
 * same moment; so retry for as long as the busy timeout. */
static bool set_wal(sqlite3 *db, char *errbuf, size_t errlen)
{
    for (int waited_ms = 0;; waited_ms += 5) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
            break;
        int rc = sqlite3_step(st);
        bool wal = rc == SQLITE_ROW &&
                   sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
        sqlite3_finalize(st);
        if (wal)
            return true;
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) {
            snprintf(errbuf, errlen, "cannot switch the SQLite database to WAL mode: %s",
                     rc == SQLITE_ROW ? "refused" : sqlite3_errmsg(db));
            return false;
        }
        if (waited_ms >= SQ_BUSY_TIMEOUT_MS)
            break;
        usleep(5000);
    }
    snprintf(errbuf, errlen, "cannot switch the SQLite database to WAL mode: %s",
             sqlite3_errmsg(db));
    return false;
}

static bool migrate(sqlite3 *db, char *errbuf, size_t errlen)
{
    if (!set_wal(db, errbuf, errlen))
        return false;
    /* IMMEDIATE serialises processes that start together on one file. */
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(errbuf, errlen, "SQLite schema migration failed: %s", sqlite3_errmsg(db));
        return false;
    }
    if (sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK)
        goto fail_txn;
    int64_t version = 0;
    int rc = exec_int(db, "SELECT version FROM schema_version", &version);
    if (rc == SQLITE_NOTFOUND) {
        if (sqlite3_exec(db, "INSERT INTO schema_version VALUES (0)", NULL, NULL, NULL) !=
            SQLITE_OK)
            goto fail_txn;
    } else if (rc != SQLITE_OK) {
        goto fail_txn;
    }
    if (version < 0 || (size_t)version > MOAT_COUNT(sq_migrations)) {
        snprintf(errbuf, errlen, "SQLite schema version %lld is newer than this moat (%zu)",
                 (long long)version, MOAT_COUNT(sq_migrations));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return false;
    }
    for (size_t v = (size_t)version; v < MOAT_COUNT(sq_migrations); v++) {
        if (sqlite3_exec(db, sq_migrations[v], NULL, NULL, NULL) != SQLITE_OK)
            goto fail_txn;
        char sql[64];
        snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %zu", v + 1);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            goto fail_txn;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto fail_txn;
    return true;

fail_txn:
    snprintf(errbuf, errlen, "SQLite schema migration failed: %s", sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return false;
}

/* SQLite's own busy timeout sleeps in steps of 1 to 100 ms, which a commit
 * waiting behind a short write of another connection (a scheduler lease) would
 * pay in full. Retry every 50-250 µs instead, up to the same total. */
static int sq_busy(void *unused, int count)
{
    MOAT_UNUSED(unused);
    long step_us = count < 20 ? 50 : count < 200 ? 100 : 250;
    /* ~1 ms over the first 20 tries, ~19 ms over the next 180, then 250 µs steps. */
    long waited_us = count < 20    ? count * 50L
                     : count < 200 ? 1000 + (count - 20) * 100L
                                   : 19000 + (count - 200) * 250L;
    if (waited_us >= SQ_BUSY_TIMEOUT_MS * 1000L)
        return 0;
    usleep((useconds_t)step_us);
    return 1;
}

static sqlite3 *open_db(const char *path, char *errbuf, size_t errlen)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(errbuf, errlen, "cannot open SQLite database: %s",
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_handler(db, sq_busy, NULL);
    return db;
}

/* fsync the directory holding path, so that a file just created there survives power loss. */
static bool sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        moat_oom();
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    bool ok = fd >= 0 && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Creates the file ourselves so that it (and the -wal and -shm files, which
 * SQLite gives the database's mode) are private to the owner. */
static bool create_file(const char *path, char *errbuf, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool created = fd >= 0;
    if (fd < 0 && errno == EEXIST)
        fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(errbuf, errlen, "cannot open %s: %s", path, strerror(errno));
        return false;
    }
    struct stat st;
    if (!created && fstat(fd, &st) == 0 && (st.st_mode & 077))
        moat_log_warn("store: %s is accessible to other users (mode %03o)", path,
                      (unsigned)(st.st_mode & 0777));
    bool ok = !created || (fsync(fd) == 0 && sync_parent_dir(path));
    close(fd);
    if (!ok)
        snprintf(errbuf, errlen, "cannot sync %s: %s", path, strerror(errno));
    return ok;
}

struct store *store_sqlite_open(const char *path, char *errbuf, size_t errlen)
{
    if (!create_file(path, errbuf, errlen))
        return NULL;
    sqlite3 *db = open_db(path, errbuf, errlen);
    if (!db)
        return NULL;
    bool ok = migrate(db, errbuf, errlen);
    sqlite3_close(db);
    if (!ok)
        return NULL;
    struct sq_store *s = moat_xcalloc(1, sizeof(*s));
    s->base.ops = &sq_ops;
    s->base.backend = STORE_SQLITE;
    atomic_init(&s->base.fault_countdown, 0);
    s->path = moat_xstrdup(path);
    return &s->base;
}

static void sq_close(struct store *base)
{
    struct sq_store *s = (struct sq_store *)base;
    free(s->path);
    free(s);
}

static struct store_conn *sq_connect(struct store *base, bool writer)
{
    struct sq_store *s = (struct sq_store *)base;
    char err[256];
    sqlite3 *db = open_db(s->path, err, sizeof(err));
    if (!db) {
        moat_log_error("store: sqlite connect failed: %s", err);
        return NULL;
    }
    /* The writer fsyncs the WAL at each commit; readers only read, and a write
     * on a reader connection is not promised to survive power loss. */
    const char *pragmas = writer ? "PRAGMA synchronous=FULL; PRAGMA trusted_schema=OFF;"
                                   " PRAGMA wal_autocheckpoint=0"
                                 : "PRAGMA synchronous=NORMAL; PRAGMA trusted_schema=OFF";
    if (sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
        log_db(db, "connect pragmas");
        sqlite3_close(db);
        return NULL;
    }
    struct sq_conn *c = moat_xcalloc(1, sizeof(*c));
    c->db = db;
    return &c->base;
}

static void sq_disconnect(struct store_conn *base)
{
    struct sq_conn *c = conn_of(base);
    for (size_t i = 0; i < SQ_STMT_COUNT; i++)
        sqlite3_finalize(c->stmts[i]);
    for (size_t k = 0; k < SQ_SP_KINDS; k++)
        for (size_t l = 0; l < STORE_MAX_SAVEPOINTS; l++)
            sqlite3_finalize(c->sp[k][l]);
    if (sqlite3_close(c->db) != SQLITE_OK)
        log_db(c->db, "close");
    free(c);
}

/* ---- transactions ------------------------------------------------------------ */

static enum store_status sq_begin(struct store_conn *base, bool write)
{
    struct sq_conn *c = conn_of(base);
    if (write)
        return run_simple(c, SQ_BEGIN_WRITE);
    if (run_simple(c, SQ_BEGIN_READ) != STORE_OK)
        return STORE_ERROR;
    if (run_simple(c, SQ_SNAPSHOT) != STORE_OK) {
        (void)run_simple(c, SQ_ROLLBACK);
        return STORE_ERROR;
    }
    return STORE_OK;
}

static enum store_status sq_commit(struct store_conn *base)
{
    return run_simple(conn_of(base), SQ_COMMIT);
}

static enum store_status sq_rollback(struct store_conn *base)
{
    struct sq_conn *c = conn_of(base);
    /* Some errors (I/O, disk full) already rolled the transaction back. */
    if (sqlite3_get_autocommit(c->db))
        return STORE_OK;
    return run_simple(c, SQ_ROLLBACK);
}

static enum store_status sp_exec(struct sq_conn *c, enum sq_sp kind, unsigned level)
{
    static const char *const verbs[SQ_SP_KINDS] = {"SAVEPOINT", "RELEASE", "ROLLBACK TO"};
    sqlite3_stmt **st = &c->sp[kind][level - 1];
    if (!*st) {
        char sql[64];
        snprintf(sql, sizeof(sql), "%s sp%u", verbs[kind], level);
        if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
            log_db(c->db, verbs[kind]);
            *st = NULL;
            return STORE_ERROR;
        }
    }
    int rc = sqlite3_step(*st);
    sqlite3_reset(*st);
    if (rc != SQLITE_DONE) {
        log_db(c->db, verbs[kind]);
        return STORE_ERROR;
    }
    return STORE_OK;
}

static enum store_status sq_savepoint(struct store_conn *base, unsigned level)
{
    return sp_exec(conn_of(base), SQ_SP_SAVE, level);
}

static enum store_status sq_release(struct store_conn *base, unsigned level)
{
    return sp_exec(conn_of(base), SQ_SP_RELEASE, level);
}

static enum store_status sq_rollback_to(struct store_conn *base, unsigned level)
{
    struct sq_conn *c = conn_of(base);
    if (sqlite3_get_autocommit(c->db)) {
        moat_log_error("store: sqlite transaction was already rolled back");
        return STORE_ERROR;
    }
    return sp_exec(c, SQ_SP_ROLLBACK_TO, level);
}

/* ---- records ---------------------------------------------------------------- */

static enum store_status sq_get(struct store_conn *base, struct moat_arena *a, const char *ns,
                                struct moat_slice key, struct store_record *out)
{
    struct sq_conn *c = conn_of(base);
    sqlite3_stmt *st = stmt(c, SQ_GET);
    if (!st)
        return STORE_ERROR;
    bind_ns(st, ns);
    bind_blob(st, 2, key);
    int rc = sqlite3_step(st);
    enum store_status res = STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        out->key = moat_arena_dup(a, key);
        out->value = column_slice(a, st, 0);
        out->version = sqlite3_column_int64(st, 1);
        res = STORE_OK;
    } else if (rc != SQLITE_DONE) {
        log_db(c->db, sq_sql[SQ_GET].name);
        res = STORE_ERROR;
    }
    sqlite3_reset(st);
    return res;
}

static enum store_status sq_put(struct store_conn *base, const char *ns, struct moat_slice key,
                                struct moat_slice value, int64_t expect_version,
                                int64_t *new_version)
{
    struct sq_conn *c = conn_of(base);
    enum sq_stmt id = expect_version == STORE_MUST_NOT_EXIST ? SQ_INSERT_NEW
                      : expect_version == STORE_ANY_VERSION  ? SQ_UPSERT
                                                             : SQ_UPDATE_IF;
    sqlite3_stmt *st = stmt(c, id);
    if (!st)
        return STORE_ERROR;
    if (faulted(c, st))
        return STORE_ERROR;
    bind_ns(st, ns);
    bind_blob(st, 2, key);
    bind_blob(st, 3, value);
    if (id == SQ_UPDATE_IF)
        sqlite3_bind_int64(st, 4, expect_version);
    int64_t version = -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        version = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_db(c->db, sq_sql[id].name);
        return STORE_ERROR;
    }
    if (id == SQ_INSERT_NEW)
        version = sqlite3_changes(c->db) == 1 ? 1 : -1;
    if (version < 0)
        return STORE_CONFLICT;
    *new_version = version;
    return STORE_OK;
}

static enum store_status sq_del(struct store_conn *base, const char *ns, struct moat_slice key,
                                int64_t expect_version)
{
    struct sq_conn *c = conn_of(base);
    enum sq_stmt id = expect_version == STORE_ANY_VERSION ? SQ_DELETE : SQ_DELETE_IF;
    sqlite3_stmt *st = stmt(c, id);
    if (!st)
        return STORE_ERROR;
    if (faulted(c, st))
        return STORE_ERROR;
    bind_ns(st, ns);
    bind_blob(st, 2, key);
    if (id == SQ_DELETE_IF)
        sqlite3_bind_int64(st, 3, expect_version);
    if (run(c, st, id) != STORE_OK)
        return STORE_ERROR;
    if (sqlite3_changes(c->db) == 1)
        return STORE_OK;
    if (id == SQ_DELETE)
        return STORE_NOT_FOUND;
    /* Nothing deleted with a version given: absent, or present at another version. */
    st = stmt(c, SQ_EXISTS);
    if (!st)
        return STORE_ERROR;
    bind_ns(st, ns);
    bind_blob(st, 2, key);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return STORE_CONFLICT;
    if (rc == SQLITE_DONE)
        return STORE_NOT_FOUND;
    log_db(c->db, sq_sql[SQ_EXISTS].name);
    return STORE_ERROR;
}

static enum store_status sq_scan(struct store_conn *base, struct moat_arena *a, const char *ns,
                                 const struct store_range *r, int64_t fetch,
                                 struct store_record **out, size_t *count)
{
    struct sq_conn *c = conn_of(base);
    enum sq_stmt id = r->has_hi ? SQ_SCAN : SQ_SCAN_OPEN;
    sqlite3_stmt *st = stmt(c, id);
    if (!st)
        return STORE_ERROR;
    bind_ns(st, ns);
    bind_blob(st, 2, r->lo);
    if (r->has_hi)
        bind_blob(st, 3, r->hi);
    sqlite3_bind_int64(st, 4, fetch);
    struct store_record *recs = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        recs = store_grow(a, recs, sizeof(*recs), n, &cap);
        recs[n].key = column_slice(a, st, 0);
        recs[n].value = column_slice(a, st, 1);
        recs[n].version = sqlite3_column_int64(st, 2);
        n++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_db(c->db, sq_sql[id].name);
        return STORE_ERROR;
    }
    *out = recs;
    *count = n;
    return STORE_OK;
}

static enum store_status sq_count(struct store_conn *base, const char *ns,
                                  const struct store_range *r, int64_t *count)
{
    struct sq_conn *c = conn_of(base);
    enum sq_stmt id = r->has_hi ? SQ_COUNT : SQ_COUNT_OPEN;
    sqlite3_stmt *st = stmt(c, id);
    if (!st)
        return STORE_ERROR;
    bind_ns(st, ns);
    bind_blob(st, 2, r->lo);
    if (r->has_hi)
        bind_blob(st, 3, r->hi);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) {
        log_db(c->db, sq_sql[id].name);
        return STORE_ERROR;
    }
    return STORE_OK;
}

/* ---- audit -------------------------------------------------------------------- */

static enum store_status sq_audit_head(struct store_conn *base, int64_t *seq, uint8_t hash[32])
{
    /* A write transaction began IMMEDIATE, so it already holds the only write
     * lock: nobody else can move the head until it ends. */
    struct sq_conn *c = conn_of(base);
    sqlite3_stmt *st = stmt(c, SQ_HEAD);
    if (!st)
        return STORE_ERROR;
    int rc = sqlite3_step(st);
    enum store_status res = STORE_ERROR;
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == 32) {
        *seq = sqlite3_column_int64(st, 0);
        memcpy(hash, sqlite3_column_blob(st, 1), 32);
        res = STORE_OK;
    } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        moat_log_error("store: sqlite audit head row is missing or malformed");
    } else {
        log_db(c->db, sq_sql[SQ_HEAD].name);
    }
    sqlite3_reset(st);
    return res;
}

static enum store_status sq_audit_append(struct store_conn *base,
                                         const struct store_audit_row *rows, size_t count)
{
    struct sq_conn *c = conn_of(base);
    const struct store_audit_row *first = &rows[0], *last = &rows[count - 1];
    sqlite3_stmt *st = stmt(c, SQ_HEAD_MOVE);
    if (!st || faulted(c, st))
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, last->seq);
    sqlite3_bind_blob(st, 2, last->hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, first->seq - 1);
    sqlite3_bind_blob(st, 4, first->prev_hash, 32, SQLITE_STATIC);
    if (run(c, st, SQ_HEAD_MOVE) != STORE_OK)
        return STORE_ERROR;
    if (sqlite3_changes(c->db) != 1)
        return STORE_CONFLICT;

    sqlite3_stmt *ins = stmt(c, SQ_AUDIT_INSERT);
    if (!ins)
        return STORE_ERROR;
    struct moat_buf res;
    moat_buf_init(&res, NULL, 256);
    enum store_status out = STORE_OK;
    for (size_t i = 0; i < count && out == STORE_OK; i++) {
        const struct store_audit_row *r = &rows[i];
        if (faulted(c, ins)) {
            out = STORE_ERROR;
            break;
        }
        res.len = 0;
        store_resources_encode(&res, r);
        sqlite3_bind_int64(ins, 1, r->seq);
        sqlite3_bind_int64(ins, 2, r->event_time_ms);
        bind_text(ins, 3, r->account_id);
        bind_text(ins, 4, r->event_id);
        bind_text(ins, 5, r->event_name);
        bind_text(ins, 6, r->event_source);
        bind_text(ins, 7, r->username);
        bind_text(ins, 8, r->access_key_id);
        sqlite3_bind_int(ins, 9, r->read_only);
        sqlite3_bind_int(ins, 10, r->management);
        bind_text(ins, 11, r->record);
        sqlite3_bind_blob(ins, 12, r->prev_hash, 32, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 13, r->hash, 32, SQLITE_STATIC);
        bind_text(ins, 14, moat_buf_slice(&res));
        out = run(c, ins, SQ_AUDIT_INSERT);
    }
    moat_buf_release(&res);
    return out;
}

static enum store_status sq_audit_time_of(struct store_conn *base, int64_t seq, int64_t *time_ms)
{
    struct sq_conn *c = conn_of(base);
    sqlite3_stmt *st = stmt(c, SQ_TIME_OF);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, seq);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *time_ms = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    if (rc == SQLITE_DONE)
        return STORE_NOT_FOUND;
    log_db(c->db, sq_sql[SQ_TIME_OF].name);
    return STORE_ERROR;
}

static enum store_status sq_audit_lookup(struct store_conn *base, struct moat_arena *a,
                                         const struct store_audit_query *q,
                                         const struct store_audit_bounds *b,
                                         struct store_audit_row **out, size_t *count)
{
    struct sq_conn *c = conn_of(base);
    sqlite3_stmt *st = stmt(c, SQ_LOOKUP);
    if (!st)
        return STORE_ERROR;
    bind_text(st, 1, q->account_id);
    if (q->attr == STORE_AUDIT_READ_ONLY)
        bind_text(st, 2, b->read_only ? MOAT_LIT("true") : MOAT_LIT("false"));
    else if (q->attr == STORE_AUDIT_ANY)
        bind_text(st, 2, MOAT_LIT(""));
    else
        bind_text(st, 2, q->value);
    sqlite3_bind_int64(st, 3, b->lo_ms);
    sqlite3_bind_int64(st, 4, b->hi_ms);
    sqlite3_bind_int64(st, 5, b->before_ms);
    sqlite3_bind_int64(st, 6, b->before_seq);
    sqlite3_bind_int(st, 7, q->management_only);
    sqlite3_bind_int64(st, 8, b->limit);
    sqlite3_bind_int(st, 9, (int)q->attr);
    struct store_audit_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rows = store_grow(a, rows, sizeof(*rows), n, &cap);
        memset(&rows[n], 0, sizeof(rows[n]));
        rows[n].seq = sqlite3_column_int64(st, 0);
        rows[n].event_time_ms = sqlite3_column_int64(st, 1);
        rows[n].record = column_slice(a, st, 2);
        n++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_db(c->db, sq_sql[SQ_LOOKUP].name);
        return STORE_ERROR;
    }
    *out = rows;
    *count = n;
    return STORE_OK;
}

static bool column_hash(sqlite3_stmt *st, int i, uint8_t out[32])
{
    if (sqlite3_column_bytes(st, i) != 32)
        return false;
    memcpy(out, sqlite3_column_blob(st, i), 32);
    return true;
}

static enum store_status sq_audit_scan(struct store_conn *base, struct moat_arena *a,
                                       int64_t from_seq, int64_t limit,
                                       struct store_audit_row **out, size_t *count)
{
    struct sq_conn *c = conn_of(base);
    sqlite3_stmt *st = stmt(c, SQ_AUDIT_SCAN);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, from_seq);
    sqlite3_bind_int64(st, 2, limit);
    struct store_audit_row *rows = NULL;
    size_t n = 0, cap = 0;
    bool bad = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rows = store_grow(a, rows, sizeof(*rows), n, &cap);
        struct store_audit_row *r = &rows[n++];
        memset(r, 0, sizeof(*r));
        r->seq = sqlite3_column_int64(st, 0);
        r->event_time_ms = sqlite3_column_int64(st, 1);
        r->account_id = column_slice(a, st, 2);
        r->event_id = column_slice(a, st, 3);
        r->event_name = column_slice(a, st, 4);
        r->event_source = column_slice(a, st, 5);
        r->username = column_slice(a, st, 6);
        r->access_key_id = column_slice(a, st, 7);
        r->read_only = sqlite3_column_int(st, 8) != 0;
        r->management = sqlite3_column_int(st, 9) != 0;
        r->record = column_slice(a, st, 10);
        if (!column_hash(st, 11, r->prev_hash) || !column_hash(st, 12, r->hash) ||
            !store_resources_decode(a, column_slice(a, st, 13), r))
            bad = true;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_db(c->db, sq_sql[SQ_AUDIT_SCAN].name);
        return STORE_ERROR;
    }
    if (bad) {
        moat_log_error("store: sqlite audit row with a malformed hash or resource list");
        return STORE_ERROR;
    }
    *out = rows;
    *count = n;
    return STORE_OK;
}

static enum store_status sq_audit_mark(struct store_conn *base, bool lock, int64_t *seq)
{
    /* A write transaction began IMMEDIATE: it holds the only write lock already. */
    MOAT_UNUSED(lock);
    struct sq_conn *c = conn_of(base);
    sqlite3_stmt *st = stmt(c, SQ_MARK);
    if (!st)
        return STORE_ERROR;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *seq = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    log_db(c->db, sq_sql[SQ_MARK].name);
    return STORE_ERROR;
}

static enum store_status sq_audit_mark_set(struct store_conn *base, int64_t seq)
{
    struct sq_conn *c = conn_of(base);
    sqlite3_stmt *st = stmt(c, SQ_MARK_SET);
    if (!st || faulted(c, st))
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, seq);
    return run(c, st, SQ_MARK_SET);
}

static enum store_status sq_audit_index_insert(struct store_conn *base,
                                               const struct store_index_entry *e, size_t count)
{
    struct sq_conn *c = conn_of(base);
    sqlite3_stmt *st = stmt(c, SQ_INDEX_INSERT);
    if (!st)
        return STORE_ERROR;
    for (size_t i = 0; i < count; i++) {
        if (faulted(c, st))
            return STORE_ERROR;
        bind_text(st, 1, e[i].account_id);
        sqlite3_bind_int(st, 2, e[i].attr);
        bind_text(st, 3, e[i].value);
        sqlite3_bind_int64(st, 4, e[i].event_time_ms);
        sqlite3_bind_int64(st, 5, e[i].seq);
        sqlite3_bind_int(st, 6, e[i].management);
        if (run(c, st, SQ_INDEX_INSERT) != STORE_OK)
            return STORE_ERROR;
    }
    return STORE_OK;
}

static enum store_status sq_audit_index_read(struct store_conn *base, struct moat_arena *a,
                                             int64_t lo, int64_t hi, struct store_index_entry **out,
                                             size_t *count)
{
    struct sq_conn *c = conn_of(base);
    sqlite3_stmt *st = stmt(c, SQ_INDEX_READ);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, lo);
    sqlite3_bind_int64(st, 2, hi);
    struct store_index_entry *e = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        e = store_grow(a, e, sizeof(*e), n, &cap);
        e[n].account_id = column_slice(a, st, 0);
        e[n].attr = sqlite3_column_int(st, 1);
        e[n].value = column_slice(a, st, 2);
        e[n].event_time_ms = sqlite3_column_int64(st, 3);
        e[n].seq = sqlite3_column_int64(st, 4);
        e[n].management = sqlite3_column_int(st, 5) != 0;
        n++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_db(c->db, sq_sql[SQ_INDEX_READ].name);
        return STORE_ERROR;
    }
    *out = e;
    *count = n;
    return STORE_OK;
}

/* Copies the WAL back into the database without blocking the writer, so that
 * its commits never pay for a checkpoint (the writer's own is switched off). */
static enum store_status sq_checkpoint(struct store_conn *base)
{
    struct sq_conn *c = conn_of(base);
    int log_frames = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &done);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
        log_db(c->db, "checkpoint");
        return STORE_ERROR;
    }
    return STORE_OK;
}

static enum store_status sq_wipe(struct store_conn *base)
{
    struct sq_conn *c = conn_of(base);
    static const enum sq_stmt ids[] = {SQ_WIPE_RECORDS, SQ_WIPE_AUDIT, SQ_WIPE_INDEX, SQ_WIPE_MARK,
                                       SQ_WIPE_HEAD};
    for (size_t i = 0; i < MOAT_COUNT(ids); i++) {
        sqlite3_stmt *st = stmt(c, ids[i]);
        if (!st || faulted(c, st) || run(c, st, ids[i]) != STORE_OK)
            return STORE_ERROR;
    }
    return STORE_OK;
}

char *store_sqlite_plan(struct store_conn *base, struct moat_arena *a, const char *which)
{
    if (base->store->backend != STORE_SQLITE)
        return NULL;
    struct sq_conn *c = conn_of(base);
    int id = -1;
    if (strcmp(which, "scan") == 0)
        id = SQ_SCAN;
    else if (strcmp(which, "scan_open") == 0)
        id = SQ_SCAN_OPEN;
    else if (strcmp(which, "count") == 0)
        id = SQ_COUNT;
    else if (strncmp(which, "lookup", 6) == 0)
        id = SQ_LOOKUP;
    if (id < 0)
        return NULL;
    char *sql = moat_arena_printf(a, "EXPLAIN QUERY PLAN %s", sq_sql[id].sql);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_db(c->db, "explain");
        return NULL;
    }
    struct moat_buf b;
    moat_buf_init(&b, a, 256);
    while (sqlite3_step(st) == SQLITE_ROW) {
        moat_buf_append_cstr(&b, (const char *)sqlite3_column_text(st, 3));
        moat_buf_append_u8(&b, '\n');
    }
    sqlite3_finalize(st);
    return moat_buf_cstr(&b);
}

static const struct store_ops sq_ops = {
    .name = "sqlite",
    .close = sq_close,
    .connect = sq_connect,
    .disconnect = sq_disconnect,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .savepoint = sq_savepoint,
    .release = sq_release,
    .rollback_to = sq_rollback_to,
    .get = sq_get,
    .put = sq_put,
    .del = sq_del,
    .scan = sq_scan,
    .count = sq_count,
    .audit_head = sq_audit_head,
    .audit_append = sq_audit_append,
    .audit_time_of = sq_audit_time_of,
    .audit_lookup = sq_audit_lookup,
    .audit_scan = sq_audit_scan,
    .audit_mark = sq_audit_mark,
    .audit_mark_set = sq_audit_mark_set,
    .audit_index_insert = sq_audit_index_insert,
    .audit_index_read = sq_audit_index_read,
    .checkpoint = sq_checkpoint,
    .wipe = sq_wipe,
};

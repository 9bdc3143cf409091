/* store.h: the one storage interface, with two backends (SQLite, the embedded
 * default; PostgreSQL for scale-out) that pass the same test suite.
 *
 * Model: namespaced records (ns, key) -> (value bytes, version) with ordered
 * prefix scans, plus an append-only, hash-chained audit log with the indexes
 * LookupEvents needs. A struct store is shared by all threads; each thread
 * opens its own struct store_conn. Write transactions happen on one writer
 * thread per process (group commit); readers use their own connections. */
#ifndef MOAT_STORE_H
#define MOAT_STORE_H

#include "core/arena.h"

struct store;
struct store_conn;

enum store_status {
    STORE_OK = 0,
    STORE_NOT_FOUND, /* get/delete: no such record */
    STORE_CONFLICT,  /* put/delete: the expected version did not match */
    STORE_ERROR,     /* backend failure; details were logged */
};

enum store_backend { STORE_SQLITE = 0, STORE_POSTGRES };

/* Versions for optimistic concurrency. A stored record's version starts at 1
 * and grows by one with every put. */
#define STORE_ANY_VERSION (-1) /* put/delete regardless of the current version */
#define STORE_MUST_NOT_EXIST 0 /* put only if absent */

/* url: "sqlite:///path/file.db" (everything after "sqlite://" is the path), a
 * bare path, or "postgres://..." / "postgresql://..." (a libpq URI). SQLite
 * files are created with mode 0600 and put in WAL mode; ":memory:" is refused
 * since every connection opens the file anew. Creates or migrates the schema
 * (safe when several processes open one database at once) and refuses a schema
 * newer than this build. On failure returns NULL and writes a reason to errbuf. */
struct store *store_open(const char *url, char *errbuf, size_t errlen);
/* After every connection of the store is disconnected. */
void store_close(struct store *s);
enum store_backend store_backend(const struct store *s);

/* One connection per thread. `writer` marks the connection that commits
 * durably (SQLite: synchronous=FULL; PostgreSQL: synchronous_commit=on). Other
 * connections are for reading (SQLite: synchronous=NORMAL, so a write made on
 * one is not promised to survive power loss). NULL on failure (logged). */
struct store_conn *store_connect(struct store *s, bool writer);
void store_disconnect(struct store_conn *c);

/* Transactions. begin(write=false) gives a consistent read snapshot, taken at
 * begin; writes inside it are refused. begin(write=true) takes SQLite's write
 * lock at once (BEGIN IMMEDIATE); on PostgreSQL it is READ COMMITTED, versions
 * and the audit head lock guarding what it changes.
 * Savepoints nest inside a write transaction (one level per request; at most
 * 8 deep). As in SQL, store_rollback_to discards the work done since the
 * innermost savepoint and leaves it open; store_release ends it (keeping
 * whatever it holds). A request: savepoint, work, [rollback_to,] release.
 * A STORE_ERROR inside a transaction fails it, as on PostgreSQL: every call
 * but store_rollback (or store_rollback_to the savepoint the error happened
 * in, which recovers) then returns STORE_ERROR, and store_commit rolls back
 * and returns STORE_ERROR. NOT_FOUND and CONFLICT do not fail a transaction.
 * Outside a transaction each call commits on its own. */
enum store_status store_begin(struct store_conn *c, bool write);
enum store_status store_commit(struct store_conn *c);
enum store_status store_rollback(struct store_conn *c);
enum store_status store_savepoint(struct store_conn *c);
enum store_status store_release(struct store_conn *c);
enum store_status store_rollback_to(struct store_conn *c);
bool store_in_transaction(const struct store_conn *c);

struct store_record {
    struct moat_slice key;
    struct moat_slice value;
    int64_t version;
};

/* Reads one record; value and key are copied into the arena. */
enum store_status store_get(struct store_conn *c, struct moat_arena *a, const char *ns,
                            struct moat_slice key, struct store_record *out);
/* Writes a record. expect_version: STORE_ANY_VERSION, STORE_MUST_NOT_EXIST, or the
 * version the caller read (CONFLICT if it changed). *new_version may be NULL. */
enum store_status store_put(struct store_conn *c, const char *ns, struct moat_slice key,
                            struct moat_slice value, int64_t expect_version, int64_t *new_version);
enum store_status store_delete(struct store_conn *c, const char *ns, struct moat_slice key,
                               int64_t expect_version);
/* Records of ns whose key starts with prefix and is strictly greater than
 * `after` (empty: from the start), in byte order of the key, at most `limit`.
 * *more is set when further records exist (limit 0: nothing returned, *more
 * tells whether anything matches). Runs as one index range search. */
enum store_status store_scan(struct store_conn *c, struct moat_arena *a, const char *ns,
                             struct moat_slice prefix, struct moat_slice after, size_t limit,
                             struct store_record **out, size_t *count, bool *more);
/* Number of records under a prefix (quotas). */
enum store_status store_count(struct store_conn *c, const char *ns, struct moat_slice prefix,
                              int64_t *count);

/* ---- audit log -------------------------------------------------------- */

#define STORE_AUDIT_MAX_RESOURCES 16

/* One CloudTrail record with the columns LookupEvents filters on. */
struct store_audit_row {
    int64_t seq; /* position in the chain, 1-based, gapless */
    int64_t event_time_ms;
    struct moat_slice account_id; /* recipient account */
    struct moat_slice event_id;
    struct moat_slice event_name;
    struct moat_slice event_source; /* kms.amazonaws.com */
    struct moat_slice username;
    struct moat_slice access_key_id;
    bool read_only;
    bool management; /* management event (LookupEvents shows only these) */
    size_t resource_count;
    struct moat_slice resource_types[STORE_AUDIT_MAX_RESOURCES];
    struct moat_slice resource_names[STORE_AUDIT_MAX_RESOURCES];
    struct moat_slice record; /* the CloudTrail JSON record */
    uint8_t prev_hash[32];
    uint8_t hash[32];
};

/* Last seq and hash of the chain (0 and zeros when empty). Inside a write
 * transaction this also locks the head (PostgreSQL: FOR UPDATE), so that
 * nodes sharing one database extend one chain. */
enum store_status store_audit_head(struct store_conn *c, int64_t *seq, uint8_t hash[32]);
/* Appends rows (seq already assigned, consecutive after the head) and moves the head.
 * Must be called inside a write transaction. CONFLICT (nothing written) when
 * rows[0] does not follow the head (seq - 1 and prev_hash); STORE_ERROR when
 * the rows are not a chain among themselves, have more than
 * STORE_AUDIT_MAX_RESOURCES resources, or a text column (all but the hashes)
 * holds a NUL byte or invalid UTF-8 (PostgreSQL refuses those). */
enum store_status store_audit_append(struct store_conn *c, const struct store_audit_row *rows,
                                     size_t count);

enum store_audit_attr {
    STORE_AUDIT_ANY = 0,
    STORE_AUDIT_EVENT_ID,
    STORE_AUDIT_EVENT_NAME,
    STORE_AUDIT_READ_ONLY, /* value "true" / "false" */
    STORE_AUDIT_USERNAME,
    STORE_AUDIT_RESOURCE_TYPE,
    STORE_AUDIT_RESOURCE_NAME,
    STORE_AUDIT_EVENT_SOURCE,
    STORE_AUDIT_ACCESS_KEY_ID,
};

struct store_audit_query {
    struct moat_slice account_id; /* matched exactly */
    int64_t start_ms, end_ms;     /* inclusive bounds on event time */
    enum store_audit_attr attr;
    struct moat_slice value; /* matched exactly; READ_ONLY: "true"/"false" (any case),
                                anything else matches nothing */
    bool management_only;
    int64_t before_seq; /* pagination: only rows after row before_seq in the
                           result order (0 = from the newest) */
    size_t limit;
};

/* Newest first: ordered by (event_time_ms, seq) descending, so that a test
 * clock that moved back still yields AWS's order. To page, pass the last
 * row's seq as before_seq (if that row is gone, seq < before_seq applies).
 * Exact even while indexing lags: rows the index does not cover yet are read
 * and matched directly, in the same snapshot. Rows' slices live in the
 * arena; only seq, event_time_ms and record are filled. */
enum store_status store_audit_lookup(struct store_conn *c, struct moat_arena *a,
                                     const struct store_audit_query *q,
                                     struct store_audit_row **out, size_t *count);
/* Oldest first from seq >= from_seq, every column filled (for chain verification). */
enum store_status store_audit_scan(struct store_conn *c, struct moat_arena *a, int64_t from_seq,
                                   size_t limit, struct store_audit_row **out, size_t *count);

/* The LookupEvents index is derived data, built after the records commit so
 * that a durable record costs one row: indexes up to max_rows records past
 * the index's mark, in its own transaction (c must not be in one; it need not
 * be the writer: a lost index is rebuilt from the mark). *indexed_to is the
 * new mark; *more says records remain. Several nodes may run it at once. */
enum store_status store_audit_index(struct store_conn *c, size_t max_rows, int64_t *indexed_to,
                                    bool *more);

/* `moat audit verify`: checks the LookupEvents index of the records with
 * lo <= seq <= hi, which are rows[0..count) (none past the chain head): each
 * record the index covers has exactly the entries its columns call for, and
 * no entry names a record it does not cover. *bad_seq is the first record
 * whose entries differ (0 when none), in one snapshot. */
enum store_status store_audit_index_check(struct store_conn *c, int64_t lo, int64_t hi,
                                          const struct store_audit_row *rows, size_t count,
                                          int64_t *bad_seq);

/* Housekeeping outside the writer's path: SQLite copies the write-ahead log
 * back into the database (a passive checkpoint) when it has grown; nothing
 * on PostgreSQL. c must not be in a transaction. */
enum store_status store_checkpoint(struct store_conn *c);

/* Removes every record and the audit log (POST /_moat/reset, tests only). */
enum store_status store_wipe(struct store_conn *c);

/* Test hook: the n-th following write statement on any connection fails with
 * STORE_ERROR (0 disables). Used to prove that nothing is half-written. */
void store_fault_inject(struct store *s, int n);

#endif

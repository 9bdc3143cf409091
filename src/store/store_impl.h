/* store_impl.h: what the front (store.c) shares with the backends: the vtable,
 * the common head of struct store and struct store_conn, and helpers. Private to src/store/. */
#ifndef MOAT_STORE_IMPL_H
#define MOAT_STORE_IMPL_H

#include "store/store.h"

#include "core/buf.h"

#include <stdatomic.h>

/* Deepest savepoint nesting the front accepts (one level per request is the use). */
#define STORE_MAX_SAVEPOINTS 8

enum store_txn { STORE_TXN_NONE = 0, STORE_TXN_READ, STORE_TXN_WRITE };

/* A key range [lo, hi) computed by the front from (prefix, after); hi absent
 * when the prefix has no successor (empty, or all 0xFF bytes). */
struct store_range {
    struct moat_slice lo;
    struct moat_slice hi;
    bool has_hi;
};

/* The audit query after the front resolved pagination: rows with
 * lo_ms <= time <= hi_ms and (time < before_ms or seq < before_seq). */
struct store_audit_bounds {
    int64_t lo_ms, hi_ms;
    int64_t before_ms, before_seq;
    int read_only; /* STORE_AUDIT_READ_ONLY: 0 or 1 */
    int64_t limit;
};

/* One LookupEvents index entry: the record seq is found under
 * (account, attr, value) at its event time. */
struct store_index_entry {
    struct moat_slice account_id;
    int attr; /* enum store_audit_attr; STORE_AUDIT_ANY with an empty value */
    struct moat_slice value;
    int64_t event_time_ms;
    int64_t seq;
    bool management;
};

/* Resources of a row as stored in its column: a JSON array of [type, name]. */
void store_resources_encode(struct moat_buf *out, const struct store_audit_row *r);
bool store_resources_decode(struct moat_arena *a, struct moat_slice text,
                            struct store_audit_row *r);

/* Each backend call gets arguments the front has already checked: the
 * connection is in the right transaction state and not failed. A backend
 * logs its own failures and returns STORE_ERROR. */
struct store_ops {
    const char *name;
    void (*close)(struct store *s);
    struct store_conn *(*connect)(struct store *s, bool writer);
    void (*disconnect)(struct store_conn *c);

    enum store_status (*begin)(struct store_conn *c, bool write);
    enum store_status (*commit)(struct store_conn *c);
    enum store_status (*rollback)(struct store_conn *c);
    /* level is the 1-based depth of the savepoint being created, rolled back to or released. */
    enum store_status (*savepoint)(struct store_conn *c, unsigned level);
    enum store_status (*release)(struct store_conn *c, unsigned level);
    enum store_status (*rollback_to)(struct store_conn *c, unsigned level);

    enum store_status (*get)(struct store_conn *c, struct moat_arena *a, const char *ns,
                             struct moat_slice key, struct store_record *out);
    enum store_status (*put)(struct store_conn *c, const char *ns, struct moat_slice key,
                             struct moat_slice value, int64_t expect_version, int64_t *new_version);
    enum store_status (*del)(struct store_conn *c, const char *ns, struct moat_slice key,
                             int64_t expect_version);
    /* At most `fetch` records of the range, in key order; *out in the arena. */
    enum store_status (*scan)(struct store_conn *c, struct moat_arena *a, const char *ns,
                              const struct store_range *r, int64_t fetch, struct store_record **out,
                              size_t *count);
    enum store_status (*count)(struct store_conn *c, const char *ns, const struct store_range *r,
                               int64_t *count);

    enum store_status (*audit_head)(struct store_conn *c, int64_t *seq, uint8_t hash[32]);
    /* rows are validated (consecutive, linked, text columns clean); CONFLICT
     * when the head is not (rows[0].seq - 1, rows[0].prev_hash). */
    enum store_status (*audit_append)(struct store_conn *c, const struct store_audit_row *rows,
                                      size_t count);
    /* Event time of one row (pagination); NOT_FOUND if absent. */
    enum store_status (*audit_time_of)(struct store_conn *c, int64_t seq, int64_t *time_ms);
    /* Matching rows the index covers (seq <= the mark), in result order. */
    enum store_status (*audit_lookup)(struct store_conn *c, struct moat_arena *a,
                                      const struct store_audit_query *q,
                                      const struct store_audit_bounds *b,
                                      struct store_audit_row **out, size_t *count);
    enum store_status (*audit_scan)(struct store_conn *c, struct moat_arena *a, int64_t from_seq,
                                    int64_t limit, struct store_audit_row **out, size_t *count);
    /* The index's mark: every record with seq <= it is indexed. lock: inside a write
     * transaction, also lock the mark (PostgreSQL FOR UPDATE) against other indexers. */
    enum store_status (*audit_mark)(struct store_conn *c, bool lock, int64_t *seq);
    enum store_status (*audit_mark_set)(struct store_conn *c, int64_t seq);
    enum store_status (*audit_index_insert)(struct store_conn *c,
                                            const struct store_index_entry *entries, size_t count);
    /* Every entry with lo <= seq <= hi, in no particular order. */
    enum store_status (*audit_index_read)(struct store_conn *c, struct moat_arena *a, int64_t lo,
                                          int64_t hi, struct store_index_entry **out,
                                          size_t *count);
    /* May be NULL (nothing to do). */
    enum store_status (*checkpoint)(struct store_conn *c);
    /* Runs inside a write transaction that the front opened if needed. */
    enum store_status (*wipe)(struct store_conn *c);
};

struct store {
    const struct store_ops *ops;
    enum store_backend backend;
    atomic_int fault_countdown; /* store_fault_inject: 0 = off */
};

struct store_conn {
    struct store *store;
    bool writer;
    enum store_txn txn;
    unsigned savepoints;
    /* A statement failed inside the transaction: like PostgreSQL, everything
     * but rollback (or rollback_to a savepoint) fails until then. */
    bool failed;
    unsigned failed_level; /* savepoint depth at which it failed */
};

/* Backend constructors: NULL with a reason in errbuf on failure. */
struct store *store_sqlite_open(const char *path, char *errbuf, size_t errlen);
struct store *store_pg_open(const char *url, char *errbuf, size_t errlen);

/* Called by a backend right before each write statement: true when the
 * injected fault fires on this one (it has then been logged). */
bool store_fault_fire(struct store *s);

/* The smallest byte string greater than every string with this prefix:
 * the prefix without its trailing 0xFF bytes, last byte plus one. False
 * when there is none (empty or all 0xFF). The result lives in the arena. */
bool store_prefix_successor(struct moat_arena *a, struct moat_slice prefix, struct moat_slice *out);

/* Growable result arrays in an arena: returns a pointer to the next free
 * element, doubling the array (by copy) when full. */
void *store_grow(struct moat_arena *a, void *items, size_t elem, size_t count, size_t *cap);

/* SQLite only, for tests: the query plan of one of the backend's statements,
 * one line per plan step, into the arena. which: "scan", "scan_open", "count",
 * "lookup:<attr number>". NULL if unknown or on failure. */
char *store_sqlite_plan(struct store_conn *c, struct moat_arena *a, const char *which);

#endif

/* store.c: the backend-independent front of the store: URL dispatch, the
 * transaction state machine both backends share, argument checks and fault injection. */
#include "store/store_impl.h"

#include "core/encoding.h"
#include "core/log.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

struct store *store_open(const char *url, char *errbuf, size_t errlen)
{
    if (errlen)
        errbuf[0] = 0;
    if (!url || !*url) {
        snprintf(errbuf, errlen, "empty store URL");
        return NULL;
    }
    if (has_prefix(url, "postgres://") || has_prefix(url, "postgresql://"))
        return store_pg_open(url, errbuf, errlen);
    const char *path = url;
    if (has_prefix(url, "sqlite://"))
        path = url + strlen("sqlite://");
    else if (strstr(url, "://")) {
        snprintf(errbuf, errlen, "unknown store URL scheme (want sqlite:// or postgres://)");
        return NULL;
    }
    /* Every connection opens the file again, so a private in-memory database
     * would give each one its own empty store. */
    if (!*path || path[0] == ':') {
        snprintf(errbuf, errlen, "the SQLite store needs a file path");
        return NULL;
    }
    return store_sqlite_open(path, errbuf, errlen);
}

void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}

enum store_backend store_backend(const struct store *s)
{
    return s->backend;
}

struct store_conn *store_connect(struct store *s, bool writer)
{
    struct store_conn *c = s->ops->connect(s, writer);
    if (!c)
        return NULL;
    c->store = s;
    c->writer = writer;
    c->txn = STORE_TXN_NONE;
    c->savepoints = 0;
    c->failed = false;
    return c;
}

void store_disconnect(struct store_conn *c)
{
    if (!c)
        return;
    if (c->txn != STORE_TXN_NONE)
        (void)c->store->ops->rollback(c);
    c->store->ops->disconnect(c);
}

void store_fault_inject(struct store *s, int n)
{
    atomic_store(&s->fault_countdown, n > 0 ? n : 0);
}

bool store_fault_fire(struct store *s)
{
    int n = atomic_load(&s->fault_countdown);
    while (n > 0) {
        if (atomic_compare_exchange_weak(&s->fault_countdown, &n, n - 1)) {
            if (n == 1) {
                moat_log_error("store: injected fault on a write statement");
                return true;
            }
            return false;
        }
    }
    return false;
}

/* ---- transaction state ---------------------------------------------------- */

/* A backend failure inside a transaction poisons it (see struct store_conn). */
static enum store_status note(struct store_conn *c, enum store_status st)
{
    if (st == STORE_ERROR && c->txn != STORE_TXN_NONE && !c->failed) {
        c->failed = true;
        c->failed_level = c->savepoints;
    }
    return st;
}

static bool usable(struct store_conn *c, const char *op)
{
    if (c->failed) {
        moat_log_error("store: %s in a failed transaction (roll back first)", op);
        return false;
    }
    return true;
}

static bool writable(struct store_conn *c, const char *op)
{
    if (!usable(c, op))
        return false;
    if (c->txn == STORE_TXN_READ) {
        moat_log_error("store: %s inside a read transaction", op);
        return false;
    }
    return true;
}

enum store_status store_begin(struct store_conn *c, bool write)
{
    if (c->txn != STORE_TXN_NONE) {
        moat_log_error("store: begin inside a transaction");
        return STORE_ERROR;
    }
    enum store_status st = c->store->ops->begin(c, write);
    if (st == STORE_OK) {
        c->txn = write ? STORE_TXN_WRITE : STORE_TXN_READ;
        c->savepoints = 0;
        c->failed = false;
    }
    return st;
}

static void end_txn(struct store_conn *c)
{
    c->txn = STORE_TXN_NONE;
    c->savepoints = 0;
    c->failed = false;
}

enum store_status store_commit(struct store_conn *c)
{
    if (c->txn == STORE_TXN_NONE) {
        moat_log_error("store: commit outside a transaction");
        return STORE_ERROR;
    }
    if (c->failed) {
        /* Committing a transaction with a failed statement would keep half of it. */
        moat_log_error("store: commit of a failed transaction; rolled back");
        (void)c->store->ops->rollback(c);
        end_txn(c);
        return STORE_ERROR;
    }
    enum store_status st = c->store->ops->commit(c);
    if (st != STORE_OK)
        (void)c->store->ops->rollback(c);
    end_txn(c);
    return st;
}

enum store_status store_rollback(struct store_conn *c)
{
    if (c->txn == STORE_TXN_NONE) {
        moat_log_error("store: rollback outside a transaction");
        return STORE_ERROR;
    }
    enum store_status st = c->store->ops->rollback(c);
    end_txn(c);
    return st;
}

enum store_status store_savepoint(struct store_conn *c)
{
    if (c->txn != STORE_TXN_WRITE || !usable(c, "savepoint")) {
        if (c->txn != STORE_TXN_WRITE)
            moat_log_error("store: savepoint outside a write transaction");
        return STORE_ERROR;
    }
    if (c->savepoints >= STORE_MAX_SAVEPOINTS) {
        moat_log_error("store: savepoints nested too deep");
        return STORE_ERROR;
    }
    enum store_status st = note(c, c->store->ops->savepoint(c, c->savepoints + 1));
    if (st == STORE_OK)
        c->savepoints++;
    return st;
}

enum store_status store_release(struct store_conn *c)
{
    if (c->txn != STORE_TXN_WRITE || c->savepoints == 0) {
        moat_log_error("store: release without a savepoint");
        return STORE_ERROR;
    }
    if (!usable(c, "release"))
        return STORE_ERROR;
    enum store_status st = note(c, c->store->ops->release(c, c->savepoints));
    if (st == STORE_OK)
        c->savepoints--;
    return st;
}

enum store_status store_rollback_to(struct store_conn *c)
{
    if (c->txn != STORE_TXN_WRITE || c->savepoints == 0) {
        moat_log_error("store: rollback_to without a savepoint");
        return STORE_ERROR;
    }
    /* A failure at an outer level is not undone by rolling back an inner savepoint. */
    if (c->failed && c->failed_level < c->savepoints) {
        moat_log_error("store: rollback_to cannot undo a failure before the savepoint");
        return STORE_ERROR;
    }
    enum store_status st = c->store->ops->rollback_to(c, c->savepoints);
    if (st != STORE_OK) {
        if (!c->failed) {
            c->failed = true;
            c->failed_level = 0;
        }
        return STORE_ERROR;
    }
    c->failed = false; /* the savepoint stays open, as in SQL */
    return STORE_OK;
}

bool store_in_transaction(const struct store_conn *c)
{
    return c->txn != STORE_TXN_NONE;
}

/* ---- records -------------------------------------------------------------- */

enum store_status store_get(struct store_conn *c, struct moat_arena *a, const char *ns,
                            struct moat_slice key, struct store_record *out)
{
    if (!usable(c, "get"))
        return STORE_ERROR;
    return note(c, c->store->ops->get(c, a, ns, key, out));
}

enum store_status store_put(struct store_conn *c, const char *ns, struct moat_slice key,
                            struct moat_slice value, int64_t expect_version, int64_t *new_version)
{
    if (!writable(c, "put"))
        return STORE_ERROR;
    if (expect_version < STORE_ANY_VERSION) {
        moat_log_error("store: put with an invalid expected version");
        return STORE_ERROR;
    }
    int64_t v = 0;
    enum store_status st = note(c, c->store->ops->put(c, ns, key, value, expect_version, &v));
    if (st == STORE_OK && new_version)
        *new_version = v;
    return st;
}

enum store_status store_delete(struct store_conn *c, const char *ns, struct moat_slice key,
                               int64_t expect_version)
{
    if (!writable(c, "delete"))
        return STORE_ERROR;
    if (expect_version < STORE_ANY_VERSION) {
        moat_log_error("store: delete with an invalid expected version");
        return STORE_ERROR;
    }
    return note(c, c->store->ops->del(c, ns, key, expect_version));
}

bool store_prefix_successor(struct moat_arena *a, struct moat_slice prefix, struct moat_slice *out)
{
    size_t n = prefix.len;
    while (n > 0 && prefix.ptr[n - 1] == 0xFF)
        n--;
    if (n == 0)
        return false;
    struct moat_slice dup = moat_arena_dup(a, moat_slice(prefix.ptr, n));
    ((uint8_t *)dup.ptr)[n - 1]++;
    *out = dup;
    return true;
}

void *store_grow(struct moat_arena *a, void *items, size_t elem, size_t count, size_t *cap)
{
    if (count < *cap)
        return items;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *n = moat_arena_alloc(a, ncap * elem);
    if (count)
        memcpy(n, items, count * elem);
    *cap = ncap;
    return n;
}

/* Key range of (prefix, after): lo = max(prefix, after + 0x00), since after
 * followed by a zero byte is the smallest key greater than after. */
static void make_range(struct moat_arena *a, struct moat_slice prefix, struct moat_slice after,
                       struct store_range *r)
{
    r->lo = prefix;
    if (after.len && moat_slice_cmp(after, prefix) >= 0) {
        uint8_t *p = moat_arena_alloc(a, after.len + 1);
        memcpy(p, after.ptr, after.len);
        p[after.len] = 0;
        r->lo = moat_slice(p, after.len + 1);
    }
    r->has_hi = store_prefix_successor(a, prefix, &r->hi);
}

enum store_status store_scan(struct store_conn *c, struct moat_arena *a, const char *ns,
                             struct moat_slice prefix, struct moat_slice after, size_t limit,
                             struct store_record **out, size_t *count, bool *more)
{
    *out = NULL;
    *count = 0;
    if (more)
        *more = false;
    if (!usable(c, "scan"))
        return STORE_ERROR;
    struct store_range r;
    make_range(a, prefix, after, &r);
    /* One extra row tells whether more follow. */
    int64_t fetch = limit >= (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit + 1;
    enum store_status st = note(c, c->store->ops->scan(c, a, ns, &r, fetch, out, count));
    if (st != STORE_OK)
        return st;
    if (*count > limit) {
        *count = limit;
        if (more)
            *more = true;
    }
    return STORE_OK;
}

enum store_status store_count(struct store_conn *c, const char *ns, struct moat_slice prefix,
                              int64_t *count)
{
    *count = 0;
    if (!usable(c, "count"))
        return STORE_ERROR;
    struct moat_arena *a = moat_arena_new(256);
    struct store_range r;
    make_range(a, prefix, MOAT_NULL_SLICE, &r);
    enum store_status st = note(c, c->store->ops->count(c, ns, &r, count));
    moat_arena_free(a);
    return st;
}

/* ---- audit ---------------------------------------------------------------- */

enum store_status store_audit_head(struct store_conn *c, int64_t *seq, uint8_t hash[32])
{
    if (!usable(c, "audit_head"))
        return STORE_ERROR;
    return note(c, c->store->ops->audit_head(c, seq, hash));
}

/* PostgreSQL refuses NUL and invalid UTF-8 in text columns; SQLite would
 * store them. Refusing them here keeps the two backends alike. */
static bool clean_text(struct moat_slice s)
{
    return memchr(s.ptr ? (const void *)s.ptr : "", 0, s.len) == NULL && moat_utf8_valid(s);
}

static bool row_clean(const struct store_audit_row *r)
{
    if (r->resource_count > STORE_AUDIT_MAX_RESOURCES)
        return false;
    if (!clean_text(r->account_id) || !clean_text(r->event_id) || !clean_text(r->event_name) ||
        !clean_text(r->event_source) || !clean_text(r->username) || !clean_text(r->access_key_id) ||
        !clean_text(r->record))
        return false;
    for (size_t i = 0; i < r->resource_count; i++)
        if (!clean_text(r->resource_types[i]) || !clean_text(r->resource_names[i]))
            return false;
    return true;
}

enum store_status store_audit_append(struct store_conn *c, const struct store_audit_row *rows,
                                     size_t count)
{
    if (c->txn != STORE_TXN_WRITE) {
        moat_log_error("store: audit_append outside a write transaction");
        return STORE_ERROR;
    }
    if (!usable(c, "audit_append"))
        return STORE_ERROR;
    if (count == 0)
        return STORE_OK;
    if (rows[0].seq < 1) {
        moat_log_error("store: audit_append with seq %lld", (long long)rows[0].seq);
        return STORE_ERROR;
    }
    for (size_t i = 0; i < count; i++) {
        if (i > 0 && (rows[i].seq != rows[i - 1].seq + 1 ||
                      memcmp(rows[i].prev_hash, rows[i - 1].hash, 32) != 0)) {
            moat_log_error("store: audit rows are not a chain at seq %lld", (long long)rows[i].seq);
            return STORE_ERROR;
        }
        if (!row_clean(&rows[i])) {
            moat_log_error("store: audit row %lld has a bad text column or too many resources",
                           (long long)rows[i].seq);
            return STORE_ERROR;
        }
    }
    return note(c, c->store->ops->audit_append(c, rows, count));
}

static bool parse_read_only(struct moat_slice v, int *out)
{
    if (moat_slice_eq_nocase(v, MOAT_LIT("true")))
        *out = 1;
    else if (moat_slice_eq_nocase(v, MOAT_LIT("false")))
        *out = 0;
    else
        return false;
    return true;
}

enum store_status store_audit_lookup(struct store_conn *c, struct moat_arena *a,
                                     const struct store_audit_query *q,
                                     struct store_audit_row **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    if (!usable(c, "audit_lookup"))
        return STORE_ERROR;
    if (q->attr > STORE_AUDIT_ACCESS_KEY_ID) {
        moat_log_error("store: audit_lookup with an unknown attribute");
        return STORE_ERROR;
    }
    struct store_audit_bounds b = {
        .lo_ms = q->start_ms,
        .hi_ms = q->end_ms,
        .before_ms = INT64_MAX,
        .before_seq = INT64_MAX,
        .limit = q->limit >= (size_t)INT64_MAX ? INT64_MAX : (int64_t)q->limit,
    };
    if (q->attr == STORE_AUDIT_READ_ONLY && !parse_read_only(q->value, &b.read_only))
        return STORE_OK; /* neither true nor false: nothing matches */
    if (q->limit == 0 || q->start_ms > q->end_ms)
        return STORE_OK;
    if (q->before_seq > 0) {
        /* The page ends at row before_seq in (time, seq) order. When that row
         * is gone (wiped), fall back to seq alone. */
        int64_t t;
        enum store_status st = note(c, c->store->ops->audit_time_of(c, q->before_seq, &t));
        if (st == STORE_OK) {
            b.before_ms = t;
            if (t < b.hi_ms)
                b.hi_ms = t;
        } else if (st == STORE_NOT_FOUND) {
            b.before_ms = INT64_MIN;
        } else {
            return st;
        }
        b.before_seq = q->before_seq;
    }
    return note(c, c->store->ops->audit_lookup(c, a, q, &b, out, count));
}

enum store_status store_audit_scan(struct store_conn *c, struct moat_arena *a, int64_t from_seq,
                                   size_t limit, struct store_audit_row **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    if (!usable(c, "audit_scan"))
        return STORE_ERROR;
    if (limit == 0)
        return STORE_OK;
    int64_t l = limit >= (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
    return note(c, c->store->ops->audit_scan(c, a, from_seq, l, out, count));
}

enum store_status store_wipe(struct store_conn *c)
{
    if (!writable(c, "wipe"))
        return STORE_ERROR;
    if (c->txn == STORE_TXN_WRITE)
        return note(c, c->store->ops->wipe(c));
    enum store_status st = store_begin(c, true);
    if (st != STORE_OK)
        return st;
    st = note(c, c->store->ops->wipe(c));
    if (st != STORE_OK) {
        (void)store_rollback(c);
        return st;
    }
    return store_commit(c);
}

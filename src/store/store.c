/* store.c: the backend-independent front of the store: URL dispatch, the
 * transaction state machine both backends share, argument checks and fault injection. */
#include "store/store_impl.h"

#include "core/encoding.h"
#include "core/json.h"
#include "core/log.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
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

void store_resources_encode(struct moat_buf *out, const struct store_audit_row *r)
{
    moat_buf_append_u8(out, '[');
    for (size_t i = 0; i < r->resource_count; i++) {
        moat_buf_append_cstr(out, i ? ",[\"" : "[\"");
        moat_buf_append_json_escaped(out, r->resource_types[i]);
        moat_buf_append_cstr(out, "\",\"");
        moat_buf_append_json_escaped(out, r->resource_names[i]);
        moat_buf_append_cstr(out, "\"]");
    }
    moat_buf_append_u8(out, ']');
}

bool store_resources_decode(struct moat_arena *a, struct moat_slice text, struct store_audit_row *r)
{
    struct moat_value *v;
    r->resource_count = 0;
    if (!moat_json_parse(a, text, 0, &v, NULL) || v->type != MOAT_V_LIST ||
        v->count > STORE_AUDIT_MAX_RESOURCES)
        return false;
    for (uint32_t i = 0; i < v->count; i++) {
        const struct moat_value *pair = v->u.items[i];
        if (pair->type != MOAT_V_LIST || pair->count != 2 ||
            pair->u.items[0]->type != MOAT_V_STRING || pair->u.items[1]->type != MOAT_V_STRING)
            return false;
        r->resource_types[i] = pair->u.items[0]->u.s;
        r->resource_names[i] = pair->u.items[1]->u.s;
        r->resource_count++;
    }
    return true;
}

/* Does a row (every column read) match the query and the page bounds? */
static bool row_matches(const struct store_audit_row *r, const struct store_audit_query *q,
                        const struct store_audit_bounds *b)
{
    if (!moat_slice_eq(r->account_id, q->account_id) || r->event_time_ms < b->lo_ms ||
        r->event_time_ms > b->hi_ms || !(r->event_time_ms < b->before_ms || r->seq < b->before_seq))
        return false;
    if (q->management_only && !r->management)
        return false;
    switch (q->attr) {
    case STORE_AUDIT_ANY:
        return true;
    case STORE_AUDIT_EVENT_ID:
        return moat_slice_eq(r->event_id, q->value);
    case STORE_AUDIT_EVENT_NAME:
        return moat_slice_eq(r->event_name, q->value);
    case STORE_AUDIT_READ_ONLY:
        return (int)r->read_only == b->read_only;
    case STORE_AUDIT_USERNAME:
        return moat_slice_eq(r->username, q->value);
    case STORE_AUDIT_EVENT_SOURCE:
        return moat_slice_eq(r->event_source, q->value);
    case STORE_AUDIT_ACCESS_KEY_ID:
        return moat_slice_eq(r->access_key_id, q->value);
    case STORE_AUDIT_RESOURCE_TYPE:
    case STORE_AUDIT_RESOURCE_NAME:
        for (size_t i = 0; i < r->resource_count; i++) {
            struct moat_slice v =
                q->attr == STORE_AUDIT_RESOURCE_TYPE ? r->resource_types[i] : r->resource_names[i];
            if (moat_slice_eq(v, q->value))
                return true;
        }
        return false;
    }
    return false;
}

/* Result order: newest event time first, then newest seq. */
static bool newer(const struct store_audit_row *x, const struct store_audit_row *y)
{
    return x->event_time_ms != y->event_time_ms ? x->event_time_ms > y->event_time_ms
                                                : x->seq > y->seq;
}

/* Records past the index's mark, matched directly. The mark is read in the
 * same snapshot as the index, so every record is seen exactly once. */
#define STORE_TAIL_PAGE 1024

static enum store_status lookup_tail(struct store_conn *c, struct moat_arena *a, int64_t mark,
                                     const struct store_audit_query *q,
                                     const struct store_audit_bounds *b,
                                     struct store_audit_row **out, size_t *count)
{
    struct store_audit_row *hits = NULL;
    size_t n = 0, cap = 0;
    for (int64_t from = mark + 1;;) {
        struct store_audit_row *rows;
        size_t got;
        enum store_status st =
            note(c, c->store->ops->audit_scan(c, a, from, STORE_TAIL_PAGE, &rows, &got));
        if (st != STORE_OK)
            return st;
        for (size_t i = 0; i < got; i++) {
            if (!row_matches(&rows[i], q, b))
                continue;
            hits = store_grow(a, hits, sizeof(*hits), n, &cap);
            hits[n++] = rows[i];
        }
        if (got < STORE_TAIL_PAGE)
            break;
        from = rows[got - 1].seq + 1;
    }
    /* Insertion sort: the tail is short and nearly in order already. */
    for (size_t i = 1; i < n; i++) {
        struct store_audit_row r = hits[i];
        size_t j = i;
        while (j > 0 && newer(&r, &hits[j - 1])) {
            hits[j] = hits[j - 1];
            j--;
        }
        hits[j] = r;
    }
    *out = hits;
    *count = n;
    return STORE_OK;
}

static enum store_status lookup_in(struct store_conn *c, struct moat_arena *a,
                                   const struct store_audit_query *q,
                                   const struct store_audit_bounds *b, struct store_audit_row **out,
                                   size_t *count)
{
    int64_t mark;
    enum store_status st = note(c, c->store->ops->audit_mark(c, false, &mark));
    if (st != STORE_OK)
        return st;
    struct store_audit_row *indexed, *tail;
    size_t ni, nt;
    st = note(c, c->store->ops->audit_lookup(c, a, q, b, &indexed, &ni));
    if (st == STORE_OK)
        st = lookup_tail(c, a, mark, q, b, &tail, &nt);
    if (st != STORE_OK)
        return st;
    size_t limit = (size_t)b->limit, n = 0, i = 0, j = 0;
    struct store_audit_row *rows =
        moat_arena_alloc(a, (MOAT_MIN(ni + nt, limit) + 1) * sizeof(*rows));
    while (n < limit && (i < ni || j < nt)) {
        bool take_tail = j < nt && (i == ni || newer(&tail[j], &indexed[i]));
        struct store_audit_row *r = take_tail ? &tail[j++] : &indexed[i++];
        memset(&rows[n], 0, sizeof(rows[n]));
        rows[n].seq = r->seq;
        rows[n].event_time_ms = r->event_time_ms;
        rows[n].record = r->record;
        n++;
    }
    *out = rows;
    *count = n;
    return STORE_OK;
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
    /* One snapshot for the mark, the page bound, the index and the tail. */
    bool own = c->txn == STORE_TXN_NONE;
    enum store_status st = own ? store_begin(c, false) : STORE_OK;
    if (st != STORE_OK)
        return st;
    if (q->before_seq > 0) {
        /* The page ends at row before_seq in (time, seq) order. When that row
         * is gone (wiped), fall back to seq alone. */
        int64_t t;
        st = note(c, c->store->ops->audit_time_of(c, q->before_seq, &t));
        if (st == STORE_OK) {
            b.before_ms = t;
            if (t < b.hi_ms)
                b.hi_ms = t;
        } else if (st == STORE_NOT_FOUND) {
            b.before_ms = INT64_MIN;
            st = STORE_OK;
        }
        b.before_seq = q->before_seq;
    }
    if (st == STORE_OK)
        st = lookup_in(c, a, q, &b, out, count);
    if (own) {
        if (st == STORE_OK)
            st = store_commit(c);
        else
            (void)store_rollback(c);
    }
    if (st != STORE_OK) {
        *out = NULL;
        *count = 0;
    }
    return st;
}

#define STORE_INDEX_ENTRIES_MAX (7 + 2 * STORE_AUDIT_MAX_RESOURCES)

static void add_entry(struct store_index_entry *e, const struct store_audit_row *r,
                      enum store_audit_attr attr, struct moat_slice value)
{
    e->account_id = r->account_id;
    e->attr = attr;
    e->value = value;
    e->event_time_ms = r->event_time_ms;
    e->seq = r->seq;
    e->management = r->management;
}

/* The index entries of one record: every attribute LookupEvents can search,
 * each resource type and name once. */
static size_t index_entries(const struct store_audit_row *r, struct store_index_entry *e)
{
    size_t n = 0;
#define ENTRY(a, v) add_entry(&e[n++], r, (a), (v))
    ENTRY(STORE_AUDIT_ANY, MOAT_LIT(""));
    ENTRY(STORE_AUDIT_EVENT_ID, r->event_id);
    ENTRY(STORE_AUDIT_EVENT_NAME, r->event_name);
    ENTRY(STORE_AUDIT_READ_ONLY, r->read_only ? MOAT_LIT("true") : MOAT_LIT("false"));
    ENTRY(STORE_AUDIT_USERNAME, r->username);
    ENTRY(STORE_AUDIT_EVENT_SOURCE, r->event_source);
    ENTRY(STORE_AUDIT_ACCESS_KEY_ID, r->access_key_id);
    for (size_t i = 0; i < r->resource_count; i++) {
        bool type_first = true, name_first = true;
        for (size_t j = 0; j < i; j++) {
            type_first = type_first && !moat_slice_eq(r->resource_types[j], r->resource_types[i]);
            name_first = name_first && !moat_slice_eq(r->resource_names[j], r->resource_names[i]);
        }
        if (type_first)
            ENTRY(STORE_AUDIT_RESOURCE_TYPE, r->resource_types[i]);
        if (name_first)
            ENTRY(STORE_AUDIT_RESOURCE_NAME, r->resource_names[i]);
    }
#undef ENTRY
    return n;
}

static int entry_cmp(const void *pa, const void *pb)
{
    const struct store_index_entry *x = pa, *y = pb;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    if (x->attr != y->attr)
        return x->attr < y->attr ? -1 : 1;
    int d = moat_slice_cmp(x->value, y->value);
    if (d)
        return d;
    d = moat_slice_cmp(x->account_id, y->account_id);
    if (d)
        return d;
    if (x->event_time_ms != y->event_time_ms)
        return x->event_time_ms < y->event_time_ms ? -1 : 1;
    return (int)x->management - (int)y->management;
}

enum store_status store_audit_index_check(struct store_conn *c, int64_t lo, int64_t hi,
                                          const struct store_audit_row *rows, size_t count,
                                          int64_t *bad_seq)
{
    *bad_seq = 0;
    if (!usable(c, "audit_index_check"))
        return STORE_ERROR;
    struct moat_arena *a = moat_arena_new(64 * 1024);
    bool own = c->txn == STORE_TXN_NONE;
    enum store_status st = own ? store_begin(c, false) : STORE_OK;
    int64_t mark = 0;
    struct store_index_entry *have = NULL;
    size_t nhave = 0;
    if (st == STORE_OK)
        st = note(c, c->store->ops->audit_mark(c, false, &mark));
    if (st == STORE_OK)
        st = note(c, c->store->ops->audit_index_read(c, a, lo, hi, &have, &nhave));
    if (own) {
        if (st == STORE_OK)
            st = store_commit(c);
        else
            (void)store_rollback(c);
    }
    if (st == STORE_OK) {
        struct store_index_entry *want =
            moat_arena_alloc(a, (count ? count : 1) * STORE_INDEX_ENTRIES_MAX * sizeof(*want));
        size_t nwant = 0;
        for (size_t i = 0; i < count; i++)
            if (rows[i].seq <= mark)
                nwant += index_entries(&rows[i], want + nwant);
        qsort(want, nwant, sizeof(*want), entry_cmp);
        if (nhave)
            qsort(have, nhave, sizeof(*have), entry_cmp);
        size_t i = 0;
        while (i < nwant && i < nhave && entry_cmp(&want[i], &have[i]) == 0)
            i++;
        if (i < nwant || i < nhave) {
            int64_t w = i < nwant ? want[i].seq : INT64_MAX;
            int64_t h = i < nhave ? have[i].seq : INT64_MAX;
            *bad_seq = w < h ? w : h;
        }
    }
    moat_arena_free(a);
    return st;
}

enum store_status store_audit_index(struct store_conn *c, size_t max_rows, int64_t *indexed_to,
                                    bool *more)
{
    *more = false;
    if (c->txn != STORE_TXN_NONE) {
        moat_log_error("store: audit_index inside a transaction");
        return STORE_ERROR;
    }
    if (!max_rows)
        return STORE_OK;
    struct moat_arena *a = moat_arena_new(64 * 1024);
    enum store_status st = store_begin(c, true);
    int64_t mark = 0;
    if (st == STORE_OK)
        st = note(c, c->store->ops->audit_mark(c, true, &mark));
    struct store_audit_row *rows = NULL;
    size_t got = 0;
    if (st == STORE_OK)
        st = note(c, c->store->ops->audit_scan(c, a, mark + 1, (int64_t)max_rows, &rows, &got));
    if (st == STORE_OK && got) {
        struct store_index_entry *entries =
            moat_arena_alloc(a, got * STORE_INDEX_ENTRIES_MAX * sizeof(*entries));
        size_t n = 0;
        for (size_t i = 0; i < got; i++)
            n += index_entries(&rows[i], entries + n);
        st = note(c, c->store->ops->audit_index_insert(c, entries, n));
        if (st == STORE_OK)
            st = note(c, c->store->ops->audit_mark_set(c, rows[got - 1].seq));
    }
    if (st == STORE_OK)
        st = store_commit(c);
    else if (c->txn != STORE_TXN_NONE)
        (void)store_rollback(c);
    if (st == STORE_OK) {
        *indexed_to = got ? rows[got - 1].seq : mark;
        *more = got == max_rows;
    }
    moat_arena_free(a);
    return st;
}

enum store_status store_checkpoint(struct store_conn *c)
{
    if (c->txn != STORE_TXN_NONE) {
        moat_log_error("store: checkpoint inside a transaction");
        return STORE_ERROR;
    }
    return c->store->ops->checkpoint ? c->store->ops->checkpoint(c) : STORE_OK;
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

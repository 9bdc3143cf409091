/* audit_writer.c: the group-commit writer. Calls queue up while a batch
 * commits; the next batch takes them all, runs mutating handlers under
 * savepoints, appends every record to the hash chain, commits once, and only
 * then releases the responses. Records of read-only calls are built by the
 * thread that submits them, so the writer only runs handlers, hashes and writes. */
#include "audit/audit.h"

#include "auth/auth.h"
#include "core/log.h"
#include "core/thread.h"
#include "server/server.h"
#include "services/service.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BATCH 1024
/* Longest a batch waits for the rest of a wave of calls (see writer_main). */
#define COALESCE_MAX_NS 1000000

/* bench/audit/run.sh compiles a measurement build with -DMOAT_BENCH_AUDIT_OFF, in
 * which no record is built or written (state changes still commit), to show what
 * auditing itself costs. No normal build contains it and no option turns it on. */
#ifdef MOAT_BENCH_AUDIT_OFF
#define AUDIT_RECORDS false
#else
#define AUDIT_RECORDS true
#endif

struct job {
    struct job *next;
    struct moat_call *call;
    audit_exec_fn exec;
    audit_done_fn done;
    struct store_audit_row *rows; /* built at submission (calls without exec) */
    size_t row_count;
};

struct audit_writer {
    struct moat_server *srv;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job *head, *tail;
    size_t queued;
    bool stopping;
    bool gathering;    /* the writer waits for more calls: wake it on each */
    size_t last_batch; /* calls in the previous batch */
    int64_t last_commit_ns;
    struct store_conn *db;
    /* the batch's rows, reused from batch to batch */
    struct store_audit_row *rows;
    size_t row_cap;

    /* The LookupEvents index is derived data: the writer builds it on its own
     * thread between batches, through a second connection whose commits need
     * no fsync, while no call waits; lookups stay exact meanwhile (they read
     * unindexed records directly). */
    struct store_conn *index_db;
    int64_t head_seq;      /* last record committed */
    int64_t indexed_to;    /* the index's mark as last seen */
    int64_t last_batch_ms; /* monotonic ms at the end of the last batch */
    /* The checkpointer copies SQLite's log back into the database, off the
     * writer's path (the writer's connection never checkpoints itself). */
    pthread_t checkpointer;
    pthread_mutex_t cp_lock;
    pthread_cond_t cp_cond;
    bool cp_stopping;
    struct store_conn *cp_db;
};

/* The index is built when the writer has been idle for INDEX_IDLE_MS, INDEX_BATCH
 * records a step (a call that arrives meanwhile waits one step, ~3 ms). Under
 * sustained load it is deferred until it lags by INDEX_LAG records (lookups then
 * match at most that many records directly), and then every batch is followed
 * by a step of twice its records (INDEX_BATCH to INDEX_CATCH_UP). */
#define INDEX_BATCH 64
#define INDEX_IDLE_MS 10
#ifndef INDEX_LAG
#define INDEX_LAG 16384
#endif
#define INDEX_CATCH_UP 256
#ifndef CHECKPOINT_EVERY_MS
#define CHECKPOINT_EVERY_MS 250
#endif

/* A call's records and those of the calls made on its behalf, children first,
 * appended to *rows (an arena array grown as needed). `db` decides whether the
 * owner of a cross-account call's resources is an account of this store. */
static void collect(struct moat_call *call, struct store_conn *db, struct store_audit_row **rows,
                    size_t *count, size_t *cap)
{
    for (struct moat_call *c = call->first_child; c; c = c->next_sibling)
        collect(c, db, rows, count, cap);
    if (!call->service && !call->event_name)
        return; /* not an AWS call: nothing to record */
    if (*count + 2 > *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        struct store_audit_row *n = moat_arena_alloc(call->arena, ncap * sizeof(*n));
        if (*count)
            memcpy(n, *rows, *count * sizeof(*n));
        *rows = n;
        *cap = ncap;
    }
    const char *owner = audit_cross_account(call);
    if (owner && !(db && auth_account_exists(db, call->arena, moat_slice_cstr(owner))))
        owner = NULL; /* an account moat does not have keeps no log here */
    *count += audit_record_build(call, owner, *rows + *count);
}

static void reserve(struct audit_writer *w, size_t n)
{
    if (n <= w->row_cap)
        return;
    size_t cap = w->row_cap ? w->row_cap : 256;
    while (cap < n)
        cap *= 2;
    w->rows = moat_xrealloc(w->rows, cap * sizeof(*w->rows));
    w->row_cap = cap;
}

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void run_batch(struct audit_writer *w, struct job **jobs, size_t n)
{
    struct store_conn *db = w->db;
    int64_t started = mono_ns();
    bool writes = AUDIT_RECORDS;
    for (size_t i = 0; i < n && !writes; i++)
        writes = jobs[i]->exec != NULL;

    bool ok = !writes || store_begin(db, true) == STORE_OK;
    int64_t seq = 0;
    uint8_t hash[32];
    if (ok && AUDIT_RECORDS)
        ok = store_audit_head(db, &seq, hash) == STORE_OK;
    size_t used = 0;
    for (size_t i = 0; ok && i < n; i++) {
        struct job *j = jobs[i];
        struct moat_call *call = j->call;
        if (j->exec) {
            struct store_conn *saved = call->db;
            call->db = db;
            call->writable = true;
            if (store_savepoint(db) != STORE_OK) {
                ok = false;
                break;
            }
            j->exec(call);
            enum store_status st = call->error ? store_rollback_to(db) : STORE_OK;
            if (st == STORE_OK)
                st = store_release(db);
            if (st != STORE_OK)
                ok = false;
            size_t cap = 0;
            if (AUDIT_RECORDS)
                collect(call, db, &j->rows, &j->row_count, &cap);
            call->db = saved;
            call->writable = false;
        }
        reserve(w, used + j->row_count);
        memcpy(w->rows + used, j->rows, j->row_count * sizeof(*w->rows));
        used += j->row_count;
    }
    /* The chain: each record hashed after its predecessor. */
    for (size_t i = 0; ok && i < used; i++) {
        struct store_audit_row *row = &w->rows[i];
        row->seq = ++seq;
        memcpy(row->prev_hash, hash, 32);
        audit_chain_hash(hash, row->seq, row->record, row->hash);
        memcpy(hash, row->hash, 32);
    }
    if (ok && used)
        ok = store_audit_append(db, w->rows, used) == STORE_OK;
    if (ok && writes)
        ok = store_commit(db) == STORE_OK;
    w->last_commit_ns = writes ? mono_ns() - started : 0;
    w->last_batch = n;
    if (!ok) {
        moat_log_error("audit batch of %zu calls failed to commit; answering InternalFailure", n);
        if (store_in_transaction(db))
            (void)store_rollback(db);
    }
    if (ok && used)
        w->head_seq = seq;
    /* A job lives in its call's arena, which done() may hand back: read it first. */
    for (size_t i = 0; i < n; i++) {
        audit_done_fn done = jobs[i]->done;
        done(jobs[i]->call, ok);
    }
}

static struct timespec deadline_ms(int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    return until;
}

/* One indexing step on the writer's thread, of at most max_rows records. */
static void index_step(struct audit_writer *w, size_t max_rows)
{
    int64_t mark;
    bool more;
    if (store_audit_index(w->index_db, max_rows, &mark, &more) == STORE_OK) {
        /* Without `more`, the index covers every record committed so far,
         * this writer's and any other node's. */
        w->indexed_to = mark;
        if (!more)
            w->head_seq = mark;
        else if (w->head_seq <= mark)
            w->head_seq = mark + 1;
    } else {
        w->indexed_to = w->head_seq; /* logged by the store; retried after the next batch */
    }
}

static void *checkpointer_main(void *arg)
{
    struct audit_writer *w = arg;
    pthread_mutex_lock(&w->cp_lock);
    while (!w->cp_stopping) {
        struct timespec until = deadline_ms(CHECKPOINT_EVERY_MS);
        pthread_cond_timedwait(&w->cp_cond, &w->cp_lock, &until);
        pthread_mutex_unlock(&w->cp_lock);
        (void)store_checkpoint(w->cp_db);
        pthread_mutex_lock(&w->cp_lock);
    }
    pthread_mutex_unlock(&w->cp_lock);
    moat_thread_cleanup_now();
    return NULL;
}

static void *writer_main(void *arg)
{
    struct audit_writer *w = arg;
    struct job **batch = moat_xmalloc(MAX_BATCH * sizeof(*batch));
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->head && !w->stopping) {
            int64_t idle_ms = mono_ns() / 1000000 - w->last_batch_ms;
            bool lagging = w->head_seq > w->indexed_to;
            if (lagging && idle_ms >= INDEX_IDLE_MS) {
                pthread_mutex_unlock(&w->lock);
                index_step(w, INDEX_BATCH);
                pthread_mutex_lock(&w->lock);
                continue;
            }
            struct timespec until = deadline_ms(lagging ? INDEX_IDLE_MS - idle_ms : 1000);
            pthread_cond_timedwait(&w->cond, &w->lock, &until);
        }
        if (!w->head && w->stopping) {
            pthread_mutex_unlock(&w->lock);
            break;
        }
        /* Group commit across waves: clients answered by one batch come back
         * while the next one commits, so batches alternate between two halves
         * of the callers. When fewer calls wait than the last batch carried,
         * the rest usually arrives within a fraction of a commit: waiting that
         * long (at most half the last commit, at most 1 ms) lets one commit
         * carry them all. A lone caller never waits. */
        if (w->queued < w->last_batch && w->last_commit_ns > 0 && !w->stopping) {
            int64_t wait = w->last_commit_ns / 2;
            if (wait > COALESCE_MAX_NS)
                wait = COALESCE_MAX_NS;
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_nsec += (long)wait;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            w->gathering = true;
            while (w->queued < w->last_batch && !w->stopping)
                if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT)
                    break;
            w->gathering = false;
        }
        size_t n = 0;
        while (w->head && n < MAX_BATCH) {
            batch[n++] = w->head;
            w->head = w->head->next;
        }
        if (!w->head)
            w->tail = NULL;
        w->queued -= n;
        pthread_mutex_unlock(&w->lock);
        int64_t before = w->head_seq;
        run_batch(w, batch, n);
        w->last_batch_ms = mono_ns() / 1000000;
        if (w->head_seq - w->indexed_to >= INDEX_LAG) {
            /* Twice what the batch added: the lag shrinks, and no step holds
             * the next batch much longer than this one took. */
            int64_t step = 2 * (w->head_seq - before);
            index_step(w, (size_t)(step < INDEX_BATCH      ? INDEX_BATCH
                                   : step > INDEX_CATCH_UP ? INDEX_CATCH_UP
                                                           : step));
        }
    }
    free(batch);
    moat_thread_cleanup_now();
    return NULL;
}

struct audit_writer *audit_writer_start(struct moat_server *srv)
{
    struct audit_writer *w = moat_xcalloc(1, sizeof(*w));
    w->srv = srv;
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_mutex_init(&w->cp_lock, NULL);
    pthread_cond_init(&w->cp_cond, &ca);
    pthread_condattr_destroy(&ca);
    /* Records of an earlier run may still be unindexed: one pass at start. */
    w->head_seq = 1;
    w->db = store_connect(srv->store, true);
    w->index_db = store_connect(srv->store, false);
    w->cp_db = store_connect(srv->store, false);
    bool writer = false;
    if (!w->db || !w->index_db || !w->cp_db ||
        !(writer = pthread_create(&w->thread, NULL, writer_main, w) == 0) ||
        pthread_create(&w->checkpointer, NULL, checkpointer_main, w) != 0) {
        if (writer) {
            pthread_mutex_lock(&w->lock);
            w->stopping = true;
            pthread_cond_signal(&w->cond);
            pthread_mutex_unlock(&w->lock);
            pthread_join(w->thread, NULL);
        }
        if (w->db)
            store_disconnect(w->db);
        if (w->index_db)
            store_disconnect(w->index_db);
        if (w->cp_db)
            store_disconnect(w->cp_db);
        free(w);
        return NULL;
    }
    if (!AUDIT_RECORDS)
        moat_log_warn("measurement build: no audit record is written (benchmarks only)");
    return w;
}

void audit_writer_stop(struct audit_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    /* A clean stop leaves the LookupEvents index complete. */
    int64_t mark;
    bool more = true;
    while (more && store_audit_index(w->index_db, 4096, &mark, &more) == STORE_OK)
        ;
    pthread_mutex_lock(&w->cp_lock);
    w->cp_stopping = true;
    pthread_cond_signal(&w->cp_cond);
    pthread_mutex_unlock(&w->cp_lock);
    pthread_join(w->checkpointer, NULL);
    store_disconnect(w->cp_db);
    store_disconnect(w->index_db);
    store_disconnect(w->db);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->cp_lock);
    pthread_cond_destroy(&w->cp_cond);
    free(w->rows);
    free(w);
}

void audit_submit(struct audit_writer *w, struct moat_call *call, audit_exec_fn exec,
                  audit_done_fn done)
{
    struct job *j = moat_arena_calloc(call->arena, sizeof(*j));
    j->call = call;
    j->exec = exec;
    j->done = done;
    if (!exec && AUDIT_RECORDS) {
        /* Finished already: its record needs nothing from the writer. */
        size_t cap = 0;
        collect(call, call->db, &j->rows, &j->row_count, &cap);
    }
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->queued++;
    bool wake = w->head == j || w->gathering;
    pthread_mutex_unlock(&w->lock);
    if (wake)
        pthread_cond_signal(&w->cond);
}

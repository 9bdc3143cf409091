/* audit_writer.c: the group-commit writer. Calls queue up while a batch
 * commits; the next batch takes them all, runs mutating handlers under
 * savepoints, appends their records to the hash chain, commits once, and only
 * then releases the responses. */
#include "audit/audit.h"

#include "core/log.h"
#include "core/thread.h"
#include "server/server.h"
#include "services/service.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCH 256

struct job {
    struct job *next;
    struct moat_call *call;
    audit_exec_fn exec;
    audit_done_fn done;
};

struct audit_writer {
    struct moat_server *srv;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job *head, *tail;
    size_t queued;
    bool stopping;
    struct store_conn *db;
};

/* A call's record and those of the calls made on its behalf, children first. */
static size_t records_of(struct moat_call *call)
{
    size_t n = call->service || call->event_name ? 1 : 0;
    for (struct moat_call *c = call->first_child; c; c = c->next_sibling)
        n += records_of(c);
    return n;
}

static void append_records(struct moat_call *call, struct store_audit_row *rows, size_t *next,
                           int64_t *seq, uint8_t hash[32])
{
    for (struct moat_call *c = call->first_child; c; c = c->next_sibling)
        append_records(c, rows, next, seq, hash);
    if (!call->service && !call->event_name)
        return; /* not an AWS call: nothing to record */
    struct store_audit_row *row = &rows[(*next)++];
    audit_record_build(call, row);
    row->seq = ++*seq;
    memcpy(row->prev_hash, hash, 32);
    audit_chain_hash(hash, row->seq, row->record, row->hash);
    memcpy(hash, row->hash, 32);
}

static void run_batch(struct audit_writer *w, struct job **jobs, size_t n)
{
    struct store_conn *db = w->db;
    size_t nrows = 0;
    for (size_t i = 0; i < n; i++)
        if (!jobs[i]->exec)
            nrows += records_of(jobs[i]->call);
    struct store_audit_row *rows = NULL;
    bool ok = store_begin(db, true) == STORE_OK;
    int64_t seq = 0;
    uint8_t hash[32];
    if (ok)
        ok = store_audit_head(db, &seq, hash) == STORE_OK;
    size_t cap = 0, used = 0;
    for (size_t i = 0; ok && i < n; i++) {
        struct moat_call *call = jobs[i]->call;
        if (jobs[i]->exec) {
            struct store_conn *saved = call->db;
            call->db = db;
            call->writable = true;
            if (store_savepoint(db) != STORE_OK) {
                ok = false;
                break;
            }
            jobs[i]->exec(call);
            enum store_status st =
                call->error ? store_rollback_to(db) : STORE_OK;
            if (st == STORE_OK)
                st = store_release(db);
            if (st != STORE_OK)
                ok = false;
            call->db = saved;
            call->writable = false;
        }
        size_t need = records_of(call);
        if (used + need > cap) {
            cap = (used + need) * 2 + nrows;
            rows = moat_xrealloc(rows, cap * sizeof(*rows));
        }
        append_records(call, rows, &used, &seq, hash);
    }
    if (ok && used)
        ok = store_audit_append(db, rows, used) == STORE_OK;
    if (ok)
        ok = store_commit(db) == STORE_OK;
    if (!ok) {
        moat_log_error("audit batch of %zu records failed to commit; answering InternalFailure", n);
        if (store_in_transaction(db))
            (void)store_rollback(db);
    }
    free(rows);
    for (size_t i = 0; i < n; i++)
        jobs[i]->done(jobs[i]->call, ok);
}

static void *writer_main(void *arg)
{
    struct audit_writer *w = arg;
    struct job *batch[MAX_BATCH];
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->cond, &w->lock);
        if (!w->head && w->stopping) {
            pthread_mutex_unlock(&w->lock);
            break;
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
        run_batch(w, batch, n);
        for (size_t i = 0; i < n; i++)
            free(batch[i]);
    }
    moat_thread_cleanup_now();
    return NULL;
}

struct audit_writer *audit_writer_start(struct moat_server *srv)
{
    struct audit_writer *w = moat_xcalloc(1, sizeof(*w));
    w->srv = srv;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->db = store_connect(srv->store, true);
    if (!w->db) {
        free(w);
        return NULL;
    }
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        store_disconnect(w->db);
        free(w);
        return NULL;
    }
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
    store_disconnect(w->db);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    free(w);
}

void audit_submit(struct audit_writer *w, struct moat_call *call, audit_exec_fn exec,
                  audit_done_fn done)
{
    struct job *j = moat_xmalloc(sizeof(*j));
    j->next = NULL;
    j->call = call;
    j->exec = exec;
    j->done = done;
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->queued++;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

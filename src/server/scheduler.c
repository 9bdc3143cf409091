/* scheduler.c: one thread that runs registered jobs under store leases, and
 * moat_service_event(), which commits a job's changes with their records. */
#include "server/scheduler.h"

#include "audit/audit.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/thread.h"
#include "crypto/rootkey.h"
#include "server/server.h"
#include "services/registry.h"
#include "services/service.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define MAX_JOBS 32
#define LEASE_NS "sched/lease"
#define TICK_MS 250

static const struct moat_job *jobs[MAX_JOBS];
static int64_t last_run[MAX_JOBS];
static size_t job_count;
static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static bool running, stopping, kicked;
static struct moat_server *server;
static char node_id[33];

void scheduler_register(const struct moat_job *job)
{
    for (size_t i = 0; i < job_count; i++)
        if (jobs[i] == job)
            return;
    if (job_count < MAX_JOBS)
        jobs[job_count++] = job;
}

/* Takes or renews the job's lease; false if another node holds it. */
static bool take_lease(struct store_conn *db, struct moat_arena *a, const struct moat_job *job,
                       int64_t now)
{
    struct store_record r;
    struct moat_slice key = moat_slice_cstr(job->name);
    enum store_status st = store_get(db, a, LEASE_NS, key, &r);
    int64_t expect = STORE_MUST_NOT_EXIST;
    if (st == STORE_OK) {
        struct moat_value *v;
        if (moat_json_parse(a, r.value, 0, &v, NULL) &&
            !moat_slice_eq_cstr(moat_map_str(v, "Owner"), node_id) &&
            moat_map_int(v, "Until", 0) > now)
            return false;
        expect = r.version;
    } else if (st != STORE_NOT_FOUND) {
        return false;
    }
    char value[128];
    int n = snprintf(value, sizeof(value), "{\"Owner\":\"%s\",\"Until\":%lld}", node_id,
                     (long long)(now + 3 * job->interval_ms + 5000));
    return store_put(db, LEASE_NS, key, moat_slice(value, (size_t)n), expect, NULL) == STORE_OK;
}

/* On a clean stop, hands this node's leases back so that a restarted node (or
 * another one) runs the jobs at once instead of waiting for the leases to expire. */
static void release_leases(struct store_conn *db)
{
    for (size_t i = 0; i < job_count; i++) {
        struct moat_arena *a = moat_arena_new(1024);
        struct store_record r;
        struct moat_value *v;
        struct moat_slice key = moat_slice_cstr(jobs[i]->name);
        if (store_get(db, a, LEASE_NS, key, &r) == STORE_OK &&
            moat_json_parse(a, r.value, 0, &v, NULL) &&
            moat_slice_eq_cstr(moat_map_str(v, "Owner"), node_id))
            (void)store_delete(db, LEASE_NS, key, r.version);
        moat_arena_free(a);
    }
}

static void *scheduler_main(void *arg)
{
    struct store_conn *db = store_connect(server->store, false);
    for (;;) {
        pthread_mutex_lock(&lock);
        if (!stopping && !kicked) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += TICK_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&cond, &lock, &ts);
        }
        bool stop = stopping, force = kicked;
        kicked = false;
        pthread_mutex_unlock(&lock);
        if (stop)
            break;
        int64_t mono = moat_clock_monotonic_ms();
        for (size_t i = 0; i < job_count && db; i++) {
            if (!force && mono - last_run[i] < jobs[i]->interval_ms)
                continue;
            last_run[i] = mono;
            struct moat_arena *a = moat_arena_new(16384);
            int64_t now = moat_clock_now_ms();
            if (take_lease(db, a, jobs[i], moat_clock_real_ms()))
                jobs[i]->run(server, a, now);
            moat_arena_free(a);
        }
    }
    if (db) {
        release_leases(db);
        store_disconnect(db);
    }
    moat_thread_cleanup_now();
    return NULL;
}

bool scheduler_start(struct moat_server *srv)
{
    uint8_t r[16];
    crypto_random(r, sizeof(r));
    for (int i = 0; i < 16; i++)
        snprintf(node_id + 2 * i, 3, "%02x", r[i]);
    server = srv;
    stopping = false;
    if (pthread_create(&thread, NULL, scheduler_main, NULL) != 0)
        return false;
    running = true;
    return true;
}

void scheduler_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&lock);
    stopping = true;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
    running = false;
}

void scheduler_kick(void)
{
    pthread_mutex_lock(&lock);
    kicked = true;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

/* ---- service events ------------------------------------------------------- */

struct service_event {
    struct moat_call call; /* first: the writer sees a struct moat_call */
    moat_service_event_fn exec;
    void *arg;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done, durable;
};

static void event_exec(struct moat_call *call)
{
    struct service_event *ev = (struct service_event *)call;
    ev->exec(call, ev->arg);
}

static void event_done(struct moat_call *call, bool durable)
{
    struct service_event *ev = (struct service_event *)call;
    pthread_mutex_lock(&ev->lock);
    ev->done = true;
    ev->durable = durable;
    pthread_cond_signal(&ev->cond);
    pthread_mutex_unlock(&ev->lock);
}

bool moat_service_event(struct moat_server *srv, const char *service, const char *event_name,
                        const char *account_id, const char *region, bool read_only,
                        moat_service_event_fn exec, void *arg)
{
    struct moat_arena *a = moat_arena_new(8192);
    struct service_event *ev = moat_arena_calloc(a, sizeof(*ev));
    struct moat_call *call = &ev->call;
    call->arena = a;
    call->server = srv;
    call->service = registry_by_signing_name(moat_slice_cstr(service));
    call->event_type = "AwsServiceEvent";
    call->event_name = event_name;
    call->account_id = account_id;
    call->region = region;
    call->now_ms = moat_clock_now_ms();
    call->read_only_event = read_only;
    uint8_t r[16];
    crypto_random(r, sizeof(r));
    snprintf(call->request_id, sizeof(call->request_id),
             "%02x%02x%02x%02x-%02x%02x-4%01x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6] & 15, r[7], (r[8] & 0x3f) | 0x80, r[9], r[10], r[11],
             r[12], r[13], r[14], r[15]);
    ev->exec = exec;
    ev->arg = arg;
    pthread_mutex_init(&ev->lock, NULL);
    pthread_cond_init(&ev->cond, NULL);
    audit_submit(srv->audit, call, event_exec, event_done);
    pthread_mutex_lock(&ev->lock);
    while (!ev->done)
        pthread_cond_wait(&ev->cond, &ev->lock);
    pthread_mutex_unlock(&ev->lock);
    bool ok = ev->durable && !call->error;
    if (call->error)
        moat_log_warn("service event %s/%s failed: %.*s", service, event_name,
                      MOAT_FMT(call->error->message));
    pthread_mutex_destroy(&ev->lock);
    pthread_cond_destroy(&ev->cond);
    moat_arena_free(a);
    return ok;
}

/* scheduler.h: background work (key deletion after the waiting period,
 * rotation, parameter expiry, trail delivery...). Each job runs on one node at
 * a time (a lease in the store) every interval; its changes are committed as
 * CloudTrail service events through the audit writer. */
#ifndef MOAT_SCHEDULER_H
#define MOAT_SCHEDULER_H

#include "core/arena.h"

struct moat_server;
struct moat_call;

struct moat_job {
    const char *name;      /* unique; also the lease key */
    int64_t interval_ms;   /* wall time between runs */
    /* Finds due work (service time now_ms, moved by the test clock) and commits it
     * with moat_service_event(). `a` is freed after the run. */
    void (*run)(struct moat_server *srv, struct moat_arena *a, int64_t now_ms);
};

/* Registers a job; call from a service's init hook, before the scheduler starts. */
void scheduler_register(const struct moat_job *job);
bool scheduler_start(struct moat_server *srv);
void scheduler_stop(void);
/* Runs every job now (after the test clock moved). */
void scheduler_kick(void);

typedef void (*moat_service_event_fn)(struct moat_call *call, void *arg);

/* Commits a service's own work as one CloudTrail event of type AwsServiceEvent
 * (userIdentity {accountId, invokedBy}): exec runs inside the writer's
 * transaction with call->db set and may set call->error (then its changes are
 * rolled back). Blocks until the record is durable. Not for the writer thread.
 * True when exec succeeded and the commit was durable. */
bool moat_service_event(struct moat_server *srv, const char *service, const char *event_name,
                        const char *account_id, const char *region, bool read_only,
                        moat_service_event_fn exec, void *arg);

#endif

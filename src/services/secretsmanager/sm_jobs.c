/* sm_jobs.c: Secrets Manager's background work on the scheduler: rotations (the four
 * steps, each state change committed as a CloudTrail service event), deletion when the
 * recovery window ends, the outbox of service events, and LastAccessedDate notes. */
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "iam/iam_principal.h"
#include "server/scheduler.h"
#include "server/server.h"
#include "services/secretsmanager/sm.h"
#include "services/secretsmanager/sm_strategy.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SM_RESOURCE_TYPE "AWS::SecretsManager::Secret"
#define JOB_BATCH 16
#define ROTATION_RETRIES 5

/* ---- LastAccessedDate -------------------------------------------------------------------
 * GetSecretValue is read-only, so it only notes the access in memory; a job writes the
 * day (AWS reports the date, not the time) to SM_NS_ACCESS. */

struct access_note {
    char *key;
    int64_t day;
};

#define ACCESS_QUEUE 4096
static pthread_mutex_t access_lock = PTHREAD_MUTEX_INITIALIZER;
static struct access_note access_queue[ACCESS_QUEUE];
static size_t access_count;

static __thread struct {
    uint64_t hash;
    int64_t day;
} access_seen[512];

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static void note_key(const char *key, int64_t day)
{
    uint64_t h = fnv(key);
    size_t slot = h % MOAT_COUNT(access_seen);
    if (access_seen[slot].hash == h && access_seen[slot].day == day)
        return;
    access_seen[slot].hash = h;
    access_seen[slot].day = day;
    pthread_mutex_lock(&access_lock);
    if (access_count < ACCESS_QUEUE) {
        access_queue[access_count].key = moat_xstrdup(key);
        access_queue[access_count].day = day;
        access_count++;
    }
    pthread_mutex_unlock(&access_lock);
}

void sm_access_note(const struct sm_secret *s, const struct sm_version *v, int64_t now_ms)
{
    int64_t day = sm_day_ms(now_ms);
    note_key(s->key, day);
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "%s#%.*s", s->key, MOAT_FMT(v->id));
    if (n > 0 && (size_t)n < sizeof(buf))
        note_key(buf, day);
}

int64_t sm_access_day(struct moat_call *call, const struct sm_secret *s, const struct sm_version *v)
{
    const char *key = v ? sm_value_key(call->arena, s, v->id) : s->key;
    struct store_record r;
    if (store_get(call->db, call->arena, SM_NS_ACCESS, moat_slice_cstr(key), &r) != STORE_OK)
        return 0;
    int64_t day;
    return moat_slice_to_i64(r.value, &day) ? day : 0;
}

static void flush_access(struct store_conn *db)
{
    struct access_note batch[ACCESS_QUEUE];
    pthread_mutex_lock(&access_lock);
    size_t n = access_count;
    memcpy(batch, access_queue, n * sizeof(*batch));
    access_count = 0;
    pthread_mutex_unlock(&access_lock);
    for (size_t i = 0; i < n; i++) {
        char day[24];
        int len = snprintf(day, sizeof(day), "%lld", (long long)batch[i].day);
        /* Bookkeeping, not a change of the secret: written outside the audited path,
         * the way AWS updates LastAccessedDate without a CloudTrail event. */
        if (store_put(db, SM_NS_ACCESS, moat_slice_cstr(batch[i].key), moat_slice(day, (size_t)len),
                      STORE_ANY_VERSION, NULL) != STORE_OK)
            moat_log_warn("secretsmanager: recording an access date failed");
        free(batch[i].key);
    }
}

/* ---- the outbox ------------------------------------------------------------------------- */

struct moat_error *sm_outbox_add(struct moat_call *call, const char *event_name,
                                 const struct sm_secret *s)
{
    struct moat_arena *a = call->arena;
    struct moat_value *doc = moat_value_map(a);
    moat_map_set_cstr(a, doc, "Event", event_name);
    moat_map_set_cstr(a, doc, "Account", s->account);
    moat_map_set_cstr(a, doc, "Region", s->region);
    moat_map_set_cstr(a, doc, "Arn", s->arn);
    struct moat_buf b;
    moat_buf_init(&b, a, 256);
    moat_json_write(&b, doc);
    const char *key =
        moat_arena_printf(a, "%016lld/%.*s", (long long)call->now_ms, MOAT_FMT(sm_uuid(a)));
    if (store_put(call->db, SM_NS_OUTBOX, moat_slice_cstr(key), moat_buf_slice(&b),
                  STORE_MUST_NOT_EXIST, NULL) != STORE_OK)
        return moat_internal(call, "secretsmanager: writing the event outbox failed");
    return NULL;
}

static void secret_event_data(struct moat_call *call, const char *arn)
{
    struct moat_value *d = moat_value_map(call->arena);
    moat_map_set_cstr(call->arena, d, "SecretId", arn);
    call->additional_event_data = d;
    moat_call_add_resource(call, SM_RESOURCE_TYPE, moat_arena_strdup(call->arena, arn));
}

struct outbox_item {
    struct moat_slice key;
    int64_t version;
    const char *arn;
};

static void exec_outbox(struct moat_call *call, void *arg)
{
    struct outbox_item *it = arg;
    secret_event_data(call, it->arn);
    enum store_status st = store_delete(call->db, SM_NS_OUTBOX, it->key, it->version);
    if (st != STORE_OK)
        call->error = moat_internal(call, "secretsmanager: the outbox entry is gone");
}

static void run_outbox(struct moat_server *srv, struct store_conn *db, struct moat_arena *a)
{
    struct store_record *recs;
    size_t n;
    bool more;
    if (store_scan(db, a, SM_NS_OUTBOX, MOAT_NULL_SLICE, MOAT_NULL_SLICE, JOB_BATCH, &recs, &n,
                   &more) != STORE_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        struct moat_value *doc;
        if (!moat_json_parse(a, recs[i].value, 0, &doc, NULL))
            continue;
        struct outbox_item it = {recs[i].key, recs[i].version,
                                 moat_arena_cstr(a, moat_map_str(doc, "Arn"))};
        moat_service_event(srv, "secretsmanager", moat_arena_cstr(a, moat_map_str(doc, "Event")),
                           moat_arena_cstr(a, moat_map_str(doc, "Account")),
                           moat_arena_cstr(a, moat_map_str(doc, "Region")), false, exec_outbox,
                           &it);
    }
}

/* ---- deletion at the end of the recovery window ---------------------------------------- */

struct target {
    const char *account, *region;
    struct moat_slice name;
};

static void exec_purge(struct moat_call *call, void *arg)
{
    struct target *t = arg;
    struct sm_secret *s;
    struct moat_error *err = sm_secret_load(call, t->account, t->region, t->name, &s);
    if (!err && s) {
        secret_event_data(call, s->arn);
        if (s->deleted_ms && s->delete_at_ms <= call->now_ms)
            err = sm_secret_purge(call, s);
    }
    if (err)
        call->error = err;
}

/* ---- rotation ---------------------------------------------------------------------------- */

struct rotation {
    struct moat_arena *a; /* the job's: outlives each service event */
    struct target t;
    struct moat_slice token;
    bool test;
    enum sm_strategy strategy;
    struct sm_rotation_values v;
    const char *error; /* why the rotation fails; never contains a secret */
    const char *arn;
};

/* Service events act for the account: calls they make to KMS are authorised as the
 * account's root user and recorded as invoked by Secrets Manager. */
static void act_for_account(struct moat_call *call)
{
    struct iam_principal *p = moat_arena_calloc(call->arena, sizeof(*p));
    const char *arn = moat_arena_printf(call->arena, "arn:aws:iam::%s:root", call->account_id);
    if (iam_principal_from_arn(call->arena, moat_slice_cstr(arn), p))
        call->principal = p;
}

static struct moat_slice keep(struct rotation *r, struct moat_slice plain)
{
    struct moat_slice copy = moat_arena_dup(r->a, plain);
    moat_arena_wipe_on_free(r->a, copy.ptr, copy.len + 1);
    return copy;
}

static const char *fail_reason(struct rotation *r, const char *step, const struct moat_error *e)
{
    return moat_arena_printf(r->a, "%s: %s (%.*s)", step, e->kind->code, MOAT_FMT(e->message));
}

static bool store_trouble(const struct moat_error *e)
{
    return e->kind == &moat_internal_failure || e->kind == &sm_internal_error;
}

/* RotationStarted: createSecret (the AWSPENDING version, unless it exists from an
 * earlier attempt), and the values the other steps need. */
static void exec_start(struct moat_call *call, void *arg)
{
    struct rotation *r = arg;
    act_for_account(call);
    struct sm_secret *s;
    struct moat_error *err = sm_secret_load(call, r->t.account, r->t.region, r->t.name, &s);
    if (err || !s) {
        call->error = err;
        r->error = "the secret is gone";
        return;
    }
    r->arn = moat_arena_strdup(r->a, s->arn);
    secret_event_data(call, s->arn);
    if (!s->rot_token.len) {
        /* A scheduled rotation window opened. */
        s->rot_token = sm_uuid(call->arena);
        s->rot_test = false;
        s->rot_attempts = 0;
    }
    s->rot_due_ms = call->now_ms;
    r->token = moat_arena_dup(r->a, s->rot_token);
    r->test = s->rot_test;
    r->strategy = sm_strategy_of(s, s->rotation_lambda);
    if (r->strategy == SM_STRATEGY_NONE) {
        r->error = "the rotation function can't be invoked";
    } else {
        struct sm_version *cur = sm_label_holder(s, "AWSCURRENT");
        struct moat_slice plain;
        bool binary;
        if (!cur) {
            r->error = "createSecret: the secret has no AWSCURRENT version";
        } else if ((err = sm_value_get(call, s, cur, &plain, &binary))) {
            r->error = fail_reason(r, "createSecret", err);
        } else {
            r->v.current = keep(r, plain);
            struct sm_version *pend = sm_version_find(s, r->token);
            if (r->test) {
                /* "This test creates an AWSPENDING version of the secret and then removes
                 * it": the test runs on a copy that is never stored. */
                r->v.pending = r->v.current;
            } else if (pend) {
                if ((err = sm_value_get(call, s, pend, &plain, &binary)))
                    r->error = fail_reason(r, "createSecret", err);
                else
                    r->v.pending = keep(r, plain);
                if (!sm_version_has(pend, MOAT_LIT("AWSPENDING")))
                    sm_label_move(call->arena, s, pend, MOAT_LIT("AWSPENDING"));
            } else {
                struct moat_slice fresh;
                const char *why =
                    sm_strategy_create(call->arena, r->strategy, r->v.current, &fresh);
                static const struct moat_slice pending_label[] = {MOAT_LIT("AWSPENDING")};
                bool created;
                if (why) {
                    r->error = moat_arena_strdup(r->a, why);
                } else if ((err = sm_version_put(call, s, r->token, fresh, false, pending_label, 1,
                                                 true, &pend, &created))) {
                    r->error = fail_reason(r, "createSecret", err);
                    if (store_trouble(err))
                        call->error = err;
                } else {
                    r->v.pending = keep(r, fresh);
                }
            }
            struct moat_slice master_id =
                sm_strategy_master_id(call->arena, r->strategy, r->v.current);
            if (!r->error && master_id.len) {
                struct sm_secret *m;
                struct sm_version *mv;
                if ((err = sm_secret_find(call, master_id, &m, NULL)) || !m ||
                    !(mv = sm_label_holder(m, "AWSCURRENT"))) {
                    r->error = "setSecret: the master secret (masterarn) can't be found";
                } else if ((err = sm_value_get(call, m, mv, &plain, &binary))) {
                    r->error = fail_reason(r, "setSecret: the master secret", err);
                } else {
                    r->v.master = keep(r, plain);
                }
            }
        }
    }
    if (call->error)
        return;
    err = sm_secret_save(call, s);
    if (err)
        call->error = err;
}

/* RotationSucceeded (finishSecret) or RotationFailed, and the Test* events of a rotation
 * started with RotateImmediately=false. */
static void exec_finish(struct moat_call *call, void *arg)
{
    struct rotation *r = arg;
    act_for_account(call);
    struct sm_secret *s;
    struct moat_error *err = sm_secret_load(call, r->t.account, r->t.region, r->t.name, &s);
    if (err || !s) {
        call->error = err;
        return;
    }
    secret_event_data(call, s->arn);
    if (!moat_slice_eq(s->rot_token, r->token))
        return; /* cancelled or abandoned meanwhile */
    struct sm_version *v = sm_version_find(s, r->token);
    if (!r->error && !r->test && !v)
        r->error = "finishSecret: the AWSPENDING version is gone";
    if (!r->error) {
        if (!r->test) {
            sm_label_move(call->arena, s, v, MOAT_LIT("AWSCURRENT"));
            sm_label_remove(v, MOAT_LIT("AWSPENDING"));
            s->last_rotated_ms = call->now_ms;
            s->value_changed_ms = call->now_ms;
            s->changed_ms = call->now_ms;
        }
        s->rot_token = MOAT_NULL_SLICE;
        s->rot_due_ms = 0;
        s->rot_attempts = 0;
        s->rot_test = false;
        s->rot_error = MOAT_NULL_SLICE;
        err = sm_rotation_schedule_next(call, s, call->now_ms + 1);
        if (!err && !r->test)
            err = sm_replicas_sync(call, s);
    } else {
        s->rot_error = moat_slice_cstr(moat_arena_strdup(call->arena, r->error));
        if (r->test) {
            s->rot_token = MOAT_NULL_SLICE;
            s->rot_due_ms = 0;
            s->rot_test = false;
        } else {
            /* AWSCURRENT stays where it is; AWSPENDING stays on the new version and the
             * rotation is tried again, then left for the next window. */
            s->rot_attempts++;
            if (s->rot_attempts < ROTATION_RETRIES)
                s->rot_due_ms = call->now_ms + (60000LL << (s->rot_attempts - 1));
            else
                s->rot_due_ms = s->next_rotation_ms > call->now_ms ? s->next_rotation_ms : 0;
        }
    }
    if (!err)
        err = sm_secret_save(call, s);
    if (err)
        call->error = err;
}

static void run_rotation(struct moat_server *srv, struct moat_arena *a, const struct target *t)
{
    struct rotation *r = moat_arena_calloc(a, sizeof(*r));
    r->a = a;
    r->t = *t;
    /* The job does not know yet whether this is a test; the event name follows the stored
     * state, read here (the writer re-checks it). */
    struct moat_call probe = {.arena = a, .db = moat_server_db(srv), .now_ms = 0};
    struct sm_secret *s;
    if (!probe.db || sm_secret_load(&probe, t->account, t->region, t->name, &s) || !s)
        return;
    bool test = s->rot_token.len && s->rot_test;
    if (!moat_service_event(srv, "secretsmanager", test ? "TestRotationStarted" : "RotationStarted",
                            t->account, t->region, false, exec_start, r))
        return; /* nothing committed: the next run tries again */
    char errbuf[256];
    if (!r->error && !r->test)
        r->error = sm_strategy_set(r->strategy, &r->v, a, errbuf, sizeof(errbuf));
    if (!r->error)
        r->error = sm_strategy_test(r->strategy, &r->v, a, errbuf, sizeof(errbuf));
    if (r->error) {
        r->error = moat_arena_strdup(a, r->error);
        moat_log_warn("secretsmanager: rotation of %s failed: %s", r->arn ? r->arn : "?", r->error);
    }
    const char *name = r->test ? (r->error ? "TestRotationFailed" : "TestRotationSucceeded")
                               : (r->error ? "RotationFailed" : "RotationSucceeded");
    moat_service_event(srv, "secretsmanager", name, t->account, t->region, false, exec_finish, r);
}

/* ---- the job ------------------------------------------------------------------------------ */

/* Due entries: "<16-digit ms>/<account>/<region>/<name>". */
static bool parse_due(struct moat_arena *a, struct moat_slice key, int64_t *when, struct target *t,
                      struct moat_slice *secret_key)
{
    struct moat_slice rest = key, ms, account, region;
    if (!moat_slice_split(&rest, '/', &ms) || !moat_slice_to_i64(ms, when) ||
        !moat_slice_split(&rest, '/', &account) || !moat_slice_split(&rest, '/', &region) ||
        !rest.len)
        return false;
    *secret_key = moat_slice_sub(key, ms.len + 1, key.len);
    t->account = moat_arena_cstr(a, account);
    t->region = moat_arena_cstr(a, region);
    t->name = rest;
    return true;
}

static void run_due(struct moat_server *srv, struct store_conn *db, struct moat_arena *a,
                    int64_t now)
{
    struct store_record *recs;
    size_t n;
    bool more;
    if (store_scan(db, a, SM_NS_DUE, MOAT_NULL_SLICE, MOAT_NULL_SLICE, JOB_BATCH, &recs, &n,
                   &more) != STORE_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        int64_t when;
        struct target t;
        struct moat_slice skey;
        if (!parse_due(a, recs[i].key, &when, &t, &skey)) {
            (void)store_delete(db, SM_NS_DUE, recs[i].key, STORE_ANY_VERSION);
            continue;
        }
        if (when > now)
            break;
        struct store_record sr;
        struct sm_secret *s = NULL;
        if (store_get(db, a, SM_NS_SECRET, skey, &sr) == STORE_OK)
            s = sm_secret_parse(a, sr.key, sr.value, sr.version);
        if (!s || !moat_slice_eq(s->due_key, recs[i].key)) {
            /* Left over from a state that changed: the index is only a hint. */
            (void)store_delete(db, SM_NS_DUE, recs[i].key, STORE_ANY_VERSION);
            continue;
        }
        if (s->deleted_ms)
            moat_service_event(srv, "secretsmanager", "EndSecretVersionDelete", t.account, t.region,
                               false, exec_purge, &t);
        else
            run_rotation(srv, a, &t);
    }
}

static void sm_job_run(struct moat_server *srv, struct moat_arena *a, int64_t now_ms)
{
    struct store_conn *db = moat_server_db(srv);
    if (!db)
        return;
    flush_access(db);
    run_outbox(srv, db, a);
    run_due(srv, db, a, now_ms);
}

static const struct moat_job sm_job = {
    .name = "secretsmanager",
    .interval_ms = 1000,
    .run = sm_job_run,
};

void sm_jobs_register(void)
{
    scheduler_register(&sm_job);
}

/* ssm_job.c: the scheduler job that enforces parameter policies. ssm/due holds one
 * entry per pending policy keyed by when it is due; each due entry is carried out as a
 * service event (its own CloudTrail record): Expiration deletes the parameter,
 * ExpirationNotification and NoChangeNotification emit "Parameter Store Policy Action"
 * events. Everything is re-checked inside the writer's transaction, so a parameter
 * changed meanwhile is never acted on with stale policies. */
#include "services/ssm/ssm.h"

#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "server/scheduler.h"
#include "server/server.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#define BATCH 64

struct due_item {
    struct moat_slice due_key;
    char account[64], region[64];
    struct moat_slice key; /* parameter key */
    size_t index;          /* policy index */
};

static bool parse_due(struct moat_arena *a, const struct store_record *r, struct due_item *out)
{
    struct moat_value *v;
    if (!moat_json_parse(a, r->value, 0, &v, NULL))
        return false;
    struct moat_slice acct = moat_map_str(v, "A"), region = moat_map_str(v, "R");
    int64_t idx = moat_map_int(v, "I", -1);
    if (!acct.len || acct.len >= sizeof(out->account) || !region.len ||
        region.len >= sizeof(out->region) || idx < 0 || idx >= SSM_MAX_POLICIES)
        return false;
    memcpy(out->account, acct.ptr, acct.len);
    out->account[acct.len] = 0;
    memcpy(out->region, region.ptr, region.len);
    out->region[region.len] = 0;
    out->key = moat_map_str(v, "K");
    out->index = (size_t)idx;
    out->due_key = r->key;
    return out->key.len > 0;
}

static void iso_ms(int64_t ms, char out[32])
{
    moat_time_format_iso8601_ms(ms, out);
}

/* Runs inside the writer's transaction as a service event. */
static void carry_out(struct moat_call *call, void *arg)
{
    const struct due_item *item = arg;
    struct moat_arena *a = call->arena;
    struct store_record r;
    enum store_status st = store_get(call->db, a, SSM_NS_DUE, item->due_key, &r);
    if (st == STORE_NOT_FOUND)
        return; /* handled meanwhile */
    if (st != STORE_OK) {
        call->error = moat_internal(call, "ssm: policy schedule read failed");
        return;
    }
    struct ssm_param p;
    bool found;
    struct moat_error *err = ssm_load(call, item->key, &p, &found);
    if (!err && !found) {
        if (store_delete(call->db, SSM_NS_DUE, item->due_key, STORE_ANY_VERSION) != STORE_OK)
            err = moat_internal(call, "ssm: stale schedule delete failed");
        call->error = err;
        return;
    }
    bool ours = false;
    for (size_t i = 0; !err && i < p.due_count; i++)
        ours |= moat_slice_eq(p.due_keys[i], item->due_key);
    if (!err && (!ours || item->index >= p.policy_count)) {
        /* The parameter was rescheduled: this entry is stale. */
        if (store_delete(call->db, SSM_NS_DUE, item->due_key, STORE_ANY_VERSION) != STORE_OK)
            err = moat_internal(call, "ssm: stale schedule delete failed");
        call->error = err;
        return;
    }
    if (err) {
        call->error = err;
        return;
    }
    struct ssm_stored_policy *pol = &p.policies[item->index];
    struct moat_value *details = moat_value_map(a);
    moat_map_set_str(a, details, "parameterName", p.name);
    moat_map_set_str(a, details, "policyType", pol->type);
    call->service_event_details = details;
    char when[32], created[32];
    iso_ms(p.policies_created_ms, created);
    if (moat_slice_eq_cstr(pol->type, "Expiration")) {
        iso_ms(pol->at_ms, when);
        const char *reason = moat_arena_printf(
            a,
            "The parameter expired at %s and was deleted. This action was taken based on the "
            "policy created at %s",
            when, created);
        err = ssm_store_delete(call, item->account, item->region, &p);
        if (!err)
            err = ssm_event_policy(call, item->account, item->region, &p, pol, "Success", reason);
        if (!err)
            err = ssm_event_change(call, item->account, item->region, &p, "Delete");
        call->error = err;
        return;
    }
    const char *reason;
    if (moat_slice_eq_cstr(pol->type, "ExpirationNotification")) {
        iso_ms(ssm_expiration_ms(&p), when);
        reason = moat_arena_printf(a,
                                   "The parameter will expire at %s. This notification was "
                                   "generated based on the policy created at %s",
                                   when, created);
    } else {
        int64_t hours = pol->period_ms / 3600000;
        bool days = hours % 24 == 0;
        reason = moat_arena_printf(a,
                                   "The parameter has not been changed for %lld %s. This "
                                   "notification was generated based on the policy created at %s",
                                   (long long)(days ? hours / 24 : hours), days ? "days" : "hours",
                                   created);
    }
    /* The policy is done; copy the list so that its status can change. */
    struct ssm_stored_policy *copy = moat_arena_alloc(a, p.policy_count * sizeof(*copy));
    memcpy(copy, p.policies, p.policy_count * sizeof(*copy));
    copy[item->index].status = MOAT_LIT("Finished");
    p.policies = copy;
    err = ssm_schedule(call, item->account, item->region, &p);
    if (!err)
        err = ssm_store_current(call, &p, false);
    if (!err)
        err = ssm_event_policy(call, item->account, item->region, &p, &copy[item->index], "Success",
                               reason);
    call->error = err;
}

static void run(struct moat_server *srv, struct moat_arena *a, int64_t now_ms)
{
    struct store_conn *db = moat_server_db(srv);
    if (!db)
        return;
    struct moat_slice after = MOAT_NULL_SLICE;
    char bound[24];
    snprintf(bound, sizeof(bound), "%016lld/", (long long)now_ms);
    for (int rounds = 0; rounds < 16; rounds++) {
        struct store_record *recs;
        size_t n;
        bool more;
        if (store_scan(db, a, SSM_NS_DUE, MOAT_NULL_SLICE, after, BATCH, &recs, &n, &more) !=
            STORE_OK)
            return;
        for (size_t i = 0; i < n; i++) {
            /* Keys start with the due time: stop at the first one in the future. */
            if (moat_slice_cmp(moat_slice_sub(recs[i].key, 0, 17), moat_slice_cstr(bound)) > 0)
                return;
            struct due_item item;
            if (!parse_due(a, &recs[i], &item))
                continue;
            /* Name the event after what the policy does. */
            const char *event = "ParameterPolicyNotification";
            {
                struct ssm_param p;
                struct store_record pr;
                struct moat_slice pk = ssm_param_key(a, item.account, item.region, item.key);
                if (store_get(db, a, SSM_NS_PARAM, pk, &pr) == STORE_OK &&
                    ssm_record_decode(a, pr.value, &p) && item.index < p.policy_count &&
                    moat_slice_eq_cstr(p.policies[item.index].type, "Expiration"))
                    event = "DeleteParameter";
            }
            moat_service_event(srv, "ssm", event, item.account, item.region, false, carry_out,
                               &item);
        }
        if (!more || !n)
            return;
        after = recs[n - 1].key;
    }
}

static const struct moat_job policy_job = {
    .name = "ssm-parameter-policies",
    .interval_ms = 1000,
    .run = run,
};

void ssm_policy_job_register(void)
{
    scheduler_register(&policy_job);
}

/* cloudtrail_lookup.c: LookupEvents over the audit log: management events of
 * the caller's account and region in the last 90 days, newest first, one
 * lookup attribute, sealed pagination tokens, and AWS's per-account rate limit.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html */
#include "services/cloudtrail/cloudtrail.h"

#include "aws/shapes/shapes_cloudtrail.h"
#include "core/clock.h"
#include "core/json.h"
#include "server/server.h"
#include "store/store.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define WINDOW_MS (90LL * 24 * 3600 * 1000)
#define DEFAULT_MAX_RESULTS 50
/* Rows one call examines at most before it answers with what it found and a
 * token (other regions' events are skipped, so a page can be short). */
#define EXAMINE_BUDGET 2000
#define FETCH_CHUNK 100

/* ---- rate limit: a token bucket per account and region ------------------------------ */

#define BUCKETS 1024

struct bucket {
    char key[64];
    double tokens;
    int64_t last_ms;
};

static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bucket buckets[BUCKETS];
static double rate_per_second = 2.0;

void cloudtrail_lookup_set_rate(double per_second)
{
    pthread_mutex_lock(&rate_lock);
    rate_per_second = per_second;
    memset(buckets, 0, sizeof(buckets));
    pthread_mutex_unlock(&rate_lock);
}

/* True when the call may proceed. The bucket holds one second's worth of calls. */
static bool rate_take(const char *account, const char *region)
{
    char key[64];
    snprintf(key, sizeof(key), "%s/%s", account, region);
    uint64_t h = 1469598103934665603ull;
    for (const char *p = key; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    int64_t now = moat_clock_monotonic_ms();
    pthread_mutex_lock(&rate_lock);
    double rate = rate_per_second;
    bool ok = true;
    if (rate > 0) {
        double cap = rate < 1 ? 1 : rate;
        struct bucket *b = &buckets[h % BUCKETS];
        if (strcmp(b->key, key) != 0) {
            /* a new (or colliding) key starts full */
            snprintf(b->key, sizeof(b->key), "%s", key);
            b->tokens = cap;
            b->last_ms = now;
        }
        b->tokens = fmin(cap, b->tokens + (double)(now - b->last_ms) * rate / 1000.0);
        b->last_ms = now;
        if (b->tokens >= 1.0)
            b->tokens -= 1.0;
        else
            ok = false;
    }
    pthread_mutex_unlock(&rate_lock);
    return ok;
}

/* ---- events ---------------------------------------------------------------------------- */

static const struct {
    const char *key;
    enum store_audit_attr attr;
} attributes[] = {
    {"EventId", STORE_AUDIT_EVENT_ID},           {"EventName", STORE_AUDIT_EVENT_NAME},
    {"ReadOnly", STORE_AUDIT_READ_ONLY},         {"Username", STORE_AUDIT_USERNAME},
    {"ResourceType", STORE_AUDIT_RESOURCE_TYPE}, {"ResourceName", STORE_AUDIT_RESOURCE_NAME},
    {"EventSource", STORE_AUDIT_EVENT_SOURCE},   {"AccessKeyId", STORE_AUDIT_ACCESS_KEY_ID},
};

static struct moat_slice text_of(const struct moat_value *m, const char *key)
{
    const struct moat_value *v = moat_map_get(m, key);
    return v && v->type == MOAT_V_STRING ? v->u.s : MOAT_NULL_SLICE;
}

/* The user name LookupEvents shows (and filters on): the IAM user's name,
 * "root", or a session's name. */
static struct moat_slice username_of(const struct moat_value *ident)
{
    struct moat_slice type = text_of(ident, "type");
    if (moat_slice_eq_cstr(type, "Root"))
        return MOAT_LIT("root");
    if (moat_slice_eq_cstr(type, "IAMUser"))
        return text_of(ident, "userName");
    if (moat_slice_eq_cstr(type, "AssumedRole") || moat_slice_eq_cstr(type, "FederatedUser")) {
        struct moat_slice arn = text_of(ident, "arn");
        size_t i = arn.len;
        while (i > 0 && arn.ptr[i - 1] != '/')
            i--;
        return moat_slice_sub(arn, i, arn.len);
    }
    return MOAT_NULL_SLICE;
}

/* Adds the event of a record to the list; false when the record is not of this
 * region (or not a record at all). */
static bool add_event(struct moat_call *call, struct moat_value *list,
                      const struct store_audit_row *row)
{
    struct moat_arena *a = call->arena;
    struct moat_value *rec;
    if (!moat_json_parse(a, row->record, 0, &rec, NULL) || rec->type != MOAT_V_MAP)
        return false;
    if (!moat_slice_eq_cstr(text_of(rec, "awsRegion"), call->region))
        return false;
    struct moat_value *e = moat_list_add_struct(a, list);
    moat_set_str(a, e, CLOUDTRAIL_EVENT_EVENT_ID, text_of(rec, "eventID"));
    moat_set_str(a, e, CLOUDTRAIL_EVENT_EVENT_NAME, text_of(rec, "eventName"));
    const struct moat_value *ro = moat_map_get(rec, "readOnly");
    moat_set_cstr(a, e, CLOUDTRAIL_EVENT_READ_ONLY,
                  ro && ro->type == MOAT_V_BOOL && ro->u.b ? "true" : "false");
    const struct moat_value *ident = moat_map_get(rec, "userIdentity");
    struct moat_slice akid = text_of(ident, "accessKeyId");
    if (akid.len)
        moat_set_str(a, e, CLOUDTRAIL_EVENT_ACCESS_KEY_ID, akid);
    moat_set_ts(a, e, CLOUDTRAIL_EVENT_EVENT_TIME, row->event_time_ms / 1000 * 1000);
    moat_set_str(a, e, CLOUDTRAIL_EVENT_EVENT_SOURCE, text_of(rec, "eventSource"));
    struct moat_slice user = username_of(ident);
    if (user.len)
        moat_set_str(a, e, CLOUDTRAIL_EVENT_USERNAME, user);
    struct moat_value *res = moat_set_list(a, e, CLOUDTRAIL_EVENT_RESOURCES);
    const struct moat_value *rl = moat_map_get(rec, "resources");
    for (uint32_t i = 0; rl && rl->type == MOAT_V_LIST && i < rl->count; i++) {
        struct moat_value *r = moat_list_add_struct(a, res);
        moat_set_str(a, r, CLOUDTRAIL_RESOURCE_RESOURCE_TYPE, text_of(rl->u.items[i], "type"));
        moat_set_str(a, r, CLOUDTRAIL_RESOURCE_RESOURCE_NAME, text_of(rl->u.items[i], "ARN"));
    }
    moat_set_str(a, e, CLOUDTRAIL_EVENT_CLOUD_TRAIL_EVENT, row->record);
    return true;
}

/* The filters a token is bound to, in one canonical string. */
static struct moat_slice query_text(struct moat_call *call, struct moat_slice key,
                                    struct moat_slice value, const struct moat_value *in)
{
    struct moat_buf b;
    moat_buf_init(&b, call->arena, 128);
    moat_buf_printf(&b, "%s|%s|", call->account_id, call->region);
    moat_buf_append(&b, key);
    moat_buf_append_u8(&b, 0);
    moat_buf_append(&b, value);
    moat_buf_append_u8(&b, 0);
    if (moat_has(in, CLOUDTRAIL_LOOKUP_EVENTS_REQUEST_START_TIME))
        moat_buf_append_i64(&b, moat_get_ts(in, CLOUDTRAIL_LOOKUP_EVENTS_REQUEST_START_TIME, 0));
    moat_buf_append_u8(&b, '|');
    if (moat_has(in, CLOUDTRAIL_LOOKUP_EVENTS_REQUEST_END_TIME))
        moat_buf_append_i64(&b, moat_get_ts(in, CLOUDTRAIL_LOOKUP_EVENTS_REQUEST_END_TIME, 0));
    moat_buf_append_u8(&b, '|');
    moat_buf_append(&b, moat_get_str(in, CLOUDTRAIL_LOOKUP_EVENTS_REQUEST_EVENT_CATEGORY));
    return moat_buf_slice(&b);
}

struct moat_error *cloudtrail_lookup_events(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out)
{
    struct moat_arena *a = call->arena;
    if (!rate_take(call->account_id, call->region))
        return moat_fail(call, &cloudtrail_throttling, "Rate exceeded");

    const struct moat_value *attrs =
        moat_get(in, CLOUDTRAIL_LOOKUP_EVENTS_REQUEST_LOOKUP_ATTRIBUTES);
    struct store_audit_query q;
    memset(&q, 0, sizeof(q));
    q.attr = STORE_AUDIT_ANY;
    struct moat_slice key = MOAT_NULL_SLICE, value = MOAT_NULL_SLICE;
    if (attrs && attrs->count > 1)
        return moat_fail(call, &cloudtrail_invalid_lookup_attributes,
                         "LookupAttributes can contain only one item; %u were given.",
                         attrs->count);
    if (attrs && attrs->count == 1) {
        key = moat_get_str(attrs->u.items[0], CLOUDTRAIL_LOOKUP_ATTRIBUTE_ATTRIBUTE_KEY);
        value = moat_get_str(attrs->u.items[0], CLOUDTRAIL_LOOKUP_ATTRIBUTE_ATTRIBUTE_VALUE);
        bool known = false;
        for (size_t i = 0; i < MOAT_COUNT(attributes); i++)
            if (moat_slice_eq_cstr(key, attributes[i].key)) {
                q.attr = attributes[i].attr;
                known = true;
            }
        if (!known)
            return moat_fail(call, &cloudtrail_invalid_lookup_attributes,
                             "Lookup attribute key %.*s is not valid.",
                             MOAT_FMT(moat_slice_sub(key, 0, 64)));
        q.value = value;
    }
    bool insight = moat_has(in, CLOUDTRAIL_LOOKUP_EVENTS_REQUEST_EVENT_CATEGORY);
    if (insight && q.attr != STORE_AUDIT_ANY && q.attr != STORE_AUDIT_EVENT_ID &&
        q.attr != STORE_AUDIT_EVENT_NAME && q.attr != STORE_AUDIT_EVENT_SOURCE)
        return moat_fail(call, &cloudtrail_invalid_lookup_attributes,
                         "For Insights events, only the EventId, EventName and EventSource lookup "
                         "attributes are supported.");

    int64_t now = call->now_ms;
    bool has_start = moat_has(in, CLOUDTRAIL_LOOKUP_EVENTS_REQUEST_START_TIME);
    bool has_end = moat_has(in, CLOUDTRAIL_LOOKUP_EVENTS_REQUEST_END_TIME);
    int64_t start = moat_get_ts(in, CLOUDTRAIL_LOOKUP_EVENTS_REQUEST_START_TIME, now - WINDOW_MS);
    int64_t end = moat_get_ts(in, CLOUDTRAIL_LOOKUP_EVENTS_REQUEST_END_TIME, now);
    if (has_start && has_end && start > end)
        return moat_fail(call, &cloudtrail_invalid_time_range,
                         "Start time must be earlier than or equal to end time.");
    if (!has_end && start > now)
        end = start; /* a start in the future and no end: nothing yet */
    q.account_id = moat_slice_cstr(call->account_id);
    q.start_ms = start > now - WINDOW_MS ? start : now - WINDOW_MS; /* 90 days at most */
    /* Records show event times to the second and EndTime is inclusive: an end on a
     * whole second covers that second. */
    q.end_ms = end % 1000 == 0 && end < INT64_MAX - 999 ? end + 999 : end;
    q.management_only = true;

    int64_t max =
        moat_get_int(in, CLOUDTRAIL_LOOKUP_EVENTS_REQUEST_MAX_RESULTS, DEFAULT_MAX_RESULTS);
    struct moat_slice qtext = query_text(call, key, value, in);
    if (moat_has(in, CLOUDTRAIL_LOOKUP_EVENTS_REQUEST_NEXT_TOKEN) &&
        !cloudtrail_token_decode(call->server->rootkey, a, qtext,
                                 moat_get_str(in, CLOUDTRAIL_LOOKUP_EVENTS_REQUEST_NEXT_TOKEN),
                                 &q.before_seq))
        return moat_fail(call, &cloudtrail_invalid_next_token,
                         "Invalid NextToken: it is malformed, or it was issued for a request with "
                         "different parameters.");

    struct moat_value *list = moat_set_list(a, out, CLOUDTRAIL_LOOKUP_EVENTS_RESPONSE_EVENTS);
    /* moat records no Insights events: that category is always empty. */
    if (insight || q.start_ms > q.end_ms)
        return NULL;
    int64_t examined = 0, last_seq = 0;
    bool more = true;
    while ((int64_t)list->count < max && examined < EXAMINE_BUDGET) {
        q.limit = FETCH_CHUNK;
        struct store_audit_row *rows;
        size_t n;
        if (store_audit_lookup(call->db, a, &q, &rows, &n) != STORE_OK)
            return moat_internal(call, "cloudtrail: audit lookup failed");
        size_t i = 0;
        for (; i < n && (int64_t)list->count < max; i++) {
            last_seq = rows[i].seq;
            examined++;
            (void)add_event(call, list, &rows[i]);
        }
        if (n < FETCH_CHUNK && i == n) {
            more = false;
            break;
        }
        q.before_seq = last_seq;
    }
    if (more && last_seq > 0) {
        struct moat_buf tok;
        moat_buf_init(&tok, a, 64);
        cloudtrail_token_encode(call->server->rootkey, a, qtext, last_seq, &tok);
        moat_set_str(a, out, CLOUDTRAIL_LOOKUP_EVENTS_RESPONSE_NEXT_TOKEN, moat_buf_slice(&tok));
    }
    return NULL;
}

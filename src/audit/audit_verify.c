/* audit_verify.c: `moat audit verify`: walks the stored chain and reports the
 * first record that was altered, removed or inserted, or whose LookupEvents
 * columns no longer say what the record says. */
#include "audit/audit.h"

#include "core/clock.h"
#include "core/encoding.h"
#include "core/json.h"

#include <string.h>

#define VERIFY_PAGE 1000

static struct moat_slice text(const struct moat_value *m, const char *key)
{
    const struct moat_value *v = moat_map_get(m, key);
    return v && v->type == MOAT_V_STRING ? v->u.s : MOAT_LIT("");
}

static bool flag(const struct moat_value *m, const char *key, bool dflt)
{
    const struct moat_value *v = moat_map_get(m, key);
    return v && v->type == MOAT_V_BOOL ? v->u.b : dflt;
}

/* The user name column as the record builder derives it from the principal. */
static struct moat_slice username(const struct moat_value *ident)
{
    struct moat_slice type = text(ident, "type");
    if (moat_slice_eq_cstr(type, "Root"))
        return MOAT_LIT("root");
    if (moat_slice_eq_cstr(type, "IAMUser"))
        return text(ident, "userName");
    if (moat_slice_eq_cstr(type, "AssumedRole") || moat_slice_eq_cstr(type, "FederatedUser")) {
        struct moat_slice arn = text(ident, "arn");
        size_t i = arn.len;
        while (i > 0 && arn.ptr[i - 1] != '/')
            i--;
        return moat_slice_sub(arn, i, arn.len);
    }
    return MOAT_LIT("");
}

static bool same(struct moat_arena *a, struct moat_slice column, struct moat_slice from_record)
{
    return moat_slice_eq(column, moat_utf8_sanitize(a, from_record));
}

const char *audit_row_check(struct moat_arena *a, const struct store_audit_row *row)
{
    struct moat_value *rec;
    if (!moat_json_parse(a, row->record, 0, &rec, NULL) || rec->type != MOAT_V_MAP)
        return "the record is not a JSON object";
    const struct moat_value *ident = moat_map_get(rec, "userIdentity");
    if (!same(a, row->account_id, text(rec, "recipientAccountId")))
        return "its account column does not match the record's recipientAccountId (altered)";
    if (!same(a, row->event_id, text(rec, "eventID")))
        return "its event id column does not match the record (altered)";
    if (!same(a, row->event_name, text(rec, "eventName")))
        return "its event name column does not match the record (altered)";
    if (!same(a, row->event_source, text(rec, "eventSource")))
        return "its event source column does not match the record (altered)";
    if (!same(a, row->username, username(ident)))
        return "its user name column does not match the record's userIdentity (altered)";
    if (!same(a, row->access_key_id, text(ident, "accessKeyId")))
        return "its access key column does not match the record's userIdentity (altered)";
    if (row->read_only != flag(rec, "readOnly", false))
        return "its read-only column does not match the record (altered)";
    if (row->management != flag(rec, "managementEvent", true))
        return "its management column does not match the record (altered)";
    int64_t t;
    if (!moat_time_parse_iso8601(text(rec, "eventTime"), &t) ||
        t / 1000 != (row->event_time_ms >= 0 ? row->event_time_ms / 1000
                                             : (row->event_time_ms - 999) / 1000))
        return "its event time column does not match the record's eventTime (altered)";
    const struct moat_value *res = moat_map_get(rec, "resources");
    size_t n = res && res->type == MOAT_V_LIST ? res->count : 0;
    if (n > STORE_AUDIT_MAX_RESOURCES)
        n = STORE_AUDIT_MAX_RESOURCES;
    if (row->resource_count != n)
        return "its resource rows do not match the record's resources (altered)";
    for (size_t i = 0; i < n; i++)
        if (!same(a, row->resource_types[i], text(res->u.items[i], "type")) ||
            !same(a, row->resource_names[i], text(res->u.items[i], "ARN")))
            return "its resource rows do not match the record's resources (altered)";
    return NULL;
}

bool audit_verify(struct store_conn *db, struct audit_verify_report *report)
{
    memset(report, 0, sizeof(*report));
    uint8_t prev[32] = {0};
    int64_t expect = 1, orphan = 0;
    for (;;) {
        struct moat_arena *a = moat_arena_new(1 << 20);
        struct store_audit_row *rows;
        size_t count;
        if (store_audit_scan(db, a, expect, VERIFY_PAGE, &rows, &count) != STORE_OK) {
            moat_arena_free(a);
            report->first_bad = expect;
            report->problem = "the audit log cannot be read";
            return false;
        }
        /* The page's index entries, checked in the same pass: an entry removed
         * or altered would hide a record from LookupEvents. */
        int64_t bad_index = 0;
        int64_t hi = count < VERIFY_PAGE ? INT64_MAX : rows[count - 1].seq;
        if (store_audit_index_check(db, expect, hi, rows, count, &bad_index) != STORE_OK) {
            moat_arena_free(a);
            report->first_bad = expect;
            report->problem = "the LookupEvents index cannot be read";
            return false;
        }
        for (size_t i = 0; i < count; i++) {
            const struct store_audit_row *r = &rows[i];
            const char *problem = NULL;
            int64_t at = r->seq;
            uint8_t h[32];
            if (r->seq != expect) {
                at = expect;
                problem = "record missing (sequence gap)";
            } else if (memcmp(r->prev_hash, prev, 32) != 0) {
                problem = "previous-hash link does not match the preceding record";
            } else {
                audit_chain_hash(prev, r->seq, r->record, h);
                if (memcmp(h, r->hash, 32) != 0)
                    problem = "record content does not match its hash (altered)";
                else
                    problem = audit_row_check(a, r);
            }
            if (!problem && bad_index && bad_index <= r->seq) {
                at = bad_index;
                problem = "its LookupEvents index entries do not match the record (altered)";
            }
            if (problem) {
                report->first_bad = at;
                report->problem = problem;
                moat_arena_free(a);
                return false;
            }
            memcpy(prev, r->hash, 32);
            expect++;
            report->records++;
        }
        if (bad_index && (count == 0 || bad_index > rows[count - 1].seq))
            orphan = bad_index; /* reported after the head, which explains a removed record */
        moat_arena_free(a);
        if (count < VERIFY_PAGE)
            break;
    }
    int64_t head_seq;
    uint8_t head_hash[32];
    if (store_audit_head(db, &head_seq, head_hash) != STORE_OK) {
        report->first_bad = expect;
        report->problem = "the chain head cannot be read";
        return false;
    }
    if (head_seq != expect - 1 || (head_seq && memcmp(head_hash, prev, 32) != 0)) {
        report->first_bad = head_seq > expect - 1 ? expect : head_seq;
        report->problem = "records at the end of the chain were removed or the head was altered";
        return false;
    }
    if (orphan) {
        report->first_bad = orphan;
        report->problem = "the LookupEvents index names a record that does not exist";
        return false;
    }
    return true;
}

/* audit_verify.c: `moat audit verify`: walks the stored chain and reports
 * the first record that was altered, removed or inserted. */
#include "audit/audit.h"

#include <string.h>

#define VERIFY_PAGE 1000

bool audit_verify(struct store_conn *db, struct audit_verify_report *report)
{
    memset(report, 0, sizeof(*report));
    uint8_t prev[32] = {0};
    int64_t expect = 1;
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
        for (size_t i = 0; i < count; i++) {
            const struct store_audit_row *r = &rows[i];
            if (r->seq != expect) {
                report->first_bad = expect;
                report->problem = "record missing (sequence gap)";
                moat_arena_free(a);
                return false;
            }
            if (memcmp(r->prev_hash, prev, 32) != 0) {
                report->first_bad = r->seq;
                report->problem = "previous-hash link does not match the preceding record";
                moat_arena_free(a);
                return false;
            }
            uint8_t h[32];
            audit_chain_hash(prev, r->seq, r->record, h);
            if (memcmp(h, r->hash, 32) != 0) {
                report->first_bad = r->seq;
                report->problem = "record content does not match its hash (altered)";
                moat_arena_free(a);
                return false;
            }
            memcpy(prev, r->hash, 32);
            expect++;
            report->records++;
        }
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
    return true;
}

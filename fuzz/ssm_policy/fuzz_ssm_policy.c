/* fuzz_ssm_policy.c: arbitrary bytes as PutParameter's Policies (and as a policy
 * timestamp). Whatever parses must hold at most ten policies, each one's PolicyText must
 * parse again alone (or after an Expiration, for a notification) to the same policy, and a
 * refusal must carry an error kind and a message.
 * Build: make build-fuzz/ssm_policy/fuzz_ssm_policy; corpus: fuzz/ssm_policy/corpus. */
#include "core/buf.h"
#include "services/ssm/ssm.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EXPIRATION                                                                                 \
    "{\"Type\":\"Expiration\",\"Version\":\"1.0\",\"Attributes\":{\"Timestamp\":"                  \
    "\"2030-01-01T00:00:00Z\"}}"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct moat_arena *a = moat_arena_new(4096);
    struct moat_slice in = moat_slice(data, size);
    int64_t ms;
    (void)ssm_policy_parse_time(in, &ms);

    struct ssm_policies p;
    const struct moat_error_kind *kind = NULL;
    struct moat_slice msg = MOAT_NULL_SLICE;
    if (!ssm_policies_parse(a, in, &p, &kind, &msg)) {
        if (!kind || !msg.len)
            abort();
        moat_arena_free(a);
        return 0;
    }
    if (p.count > SSM_MAX_POLICIES)
        abort();
    size_t expirations = 0;
    for (size_t i = 0; i < p.count; i++) {
        const struct ssm_policy *pol = &p.items[i];
        expirations += pol->type == SSM_POLICY_EXPIRATION;
        if (pol->type != SSM_POLICY_EXPIRATION && pol->period_ms <= 0)
            abort();
        struct moat_buf b;
        moat_buf_init(&b, a, pol->text.len + 128);
        moat_buf_append_u8(&b, '[');
        if (pol->type == SSM_POLICY_EXPIRATION_NOTIFICATION)
            moat_buf_append_cstr(&b, EXPIRATION ",");
        moat_buf_append(&b, pol->text);
        moat_buf_append_u8(&b, ']');
        struct ssm_policies again;
        if (!ssm_policies_parse(a, moat_buf_slice(&b), &again, &kind, &msg))
            abort();
        const struct ssm_policy *q = &again.items[again.count - 1];
        if (q->type != pol->type || q->timestamp_ms != pol->timestamp_ms ||
            q->period_ms != pol->period_ms || q->text.len != pol->text.len ||
            memcmp(q->text.ptr, pol->text.ptr, q->text.len) != 0)
            abort();
    }
    if (expirations > 1)
        abort();
    moat_arena_free(a);
    return 0;
}

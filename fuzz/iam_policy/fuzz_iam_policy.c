/* fuzz_iam_policy.c: arbitrary bytes compiled as every policy kind; whatever compiles is
 * evaluated in each place that kind can take, for several callers, with and without a trace.
 * Build: make build-fuzz/iam_policy/fuzz_iam_policy; corpus: fuzz/iam_policy/corpus. */
#include "iam/iam_eval.h"
#include "iam/iam_message.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const callers[] = {
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:sts::111122223333:assumed-role/app/sess1",
    "arn:aws:iam::111122223333:root",
    "arn:aws:sts::444455556666:federated-user/fed",
    "anonymous",
    "service:cloudtrail.amazonaws.com",
};

static const struct {
    const char *action, *resource;
} requests[] = {
    {"s3:GetObject", "arn:aws:s3:::bkt/home/alice/a.txt"},
    {"kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
    {"sts:AssumeRole", "arn:aws:iam::111122223333:role/target"},
    {"ec2:DescribeInstances", "*"},
};

static void evaluate(struct moat_arena *a, const struct iam_policy *pol, enum iam_policy_kind kind)
{
    static const struct iam_tag tags[] = {{MOAT_LIT("team"), MOAT_LIT("blue")}};
    static const struct moat_slice tag_keys[] = {MOAT_LIT("env"), MOAT_LIT("team")};
    const struct iam_policy *one[] = {pol};
    struct iam_policy_set set = {one, 1}, none = {NULL, 0};
    for (size_t c = 0; c < MOAT_COUNT(callers); c++) {
        struct iam_principal p;
        if (!iam_principal_from_arn(a, moat_slice_cstr(callers[c]), &p))
            abort();
        p.tags = tags;
        p.tag_count = 1;
        p.role_id = MOAT_LIT("AROAEXAMPLEID12345678");
        struct iam_context *ctx = moat_arena_alloc(a, sizeof(*ctx));
        iam_context_init(ctx, a);
        struct iam_request_facts f = {.now_ms = 1704067200000,
                                      .source_ip = MOAT_LIT("2001:db8::7"),
                                      .secure_transport = true,
                                      .requested_region = MOAT_LIT("us-east-1")};
        if (!iam_context_fill_global(ctx, &p, &f) ||
            !iam_context_set_multi(ctx, MOAT_LIT("aws:TagKeys"), tag_keys, 2) ||
            !iam_context_set(ctx, MOAT_LIT("s3:prefix"), MOAT_LIT("home/alice/")) ||
            !iam_context_set(ctx, MOAT_LIT("s3:max-keys"), MOAT_LIT("10")))
            abort();
        for (size_t r = 0; r < MOAT_COUNT(requests); r++) {
            struct iam_eval_input in = {.principal = &p,
                                        .context = ctx,
                                        .action = moat_slice_cstr(requests[r].action),
                                        .resource = moat_slice_cstr(requests[r].resource)};
            switch (kind) {
            case IAM_POLICY_IDENTITY:
                in.identity = set;
                break;
            case IAM_POLICY_SESSION:
                in.session = &set;
                break;
            case IAM_POLICY_RESOURCE:
                in.resource_policies = set;
                in.flags = r == 1 ? IAM_EVAL_KMS_KEY : 0;
                in.resource_account = r == 0 ? MOAT_LIT("999988887777") : MOAT_NULL_SLICE;
                break;
            case IAM_POLICY_TRUST:
                in.resource_policies = set;
                in.flags = IAM_EVAL_TRUST_POLICY;
                break;
            case IAM_POLICY_SCP:
                in.scp_levels = &set;
                in.scp_level_count = 1;
                in.identity = set; /* an SCP is a valid identity document too */
                break;
            case IAM_POLICY_RCP:
                in.rcp_levels = &set;
                in.rcp_level_count = 1;
                in.boundary = &none;
                break;
            case IAM_POLICY_KIND_COUNT:
                break;
            }
            struct iam_eval_result plain, traced;
            struct iam_matched_statement m[4];
            struct moat_slice missing[4];
            struct iam_eval_trace t = {m, 4, 0, missing, 4, 0};
            iam_evaluate(&in, &plain, NULL);
            iam_evaluate(&in, &traced, &t);
            /* a trace must never change the decision */
            if (plain.decision != traced.decision || plain.cause != traced.cause)
                abort();
            struct moat_buf b;
            moat_buf_init(&b, a, 128);
            iam_message_denied(&b, &p, in.action, in.resource, &plain);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct moat_arena *a = moat_arena_new(16384);
    for (int k = 0; k < IAM_POLICY_KIND_COUNT; k++) {
        struct iam_policy *pol;
        struct iam_policy_diag d;
        enum iam_policy_status st = iam_policy_compile(k, moat_slice(data, size), 0, &pol, &d);
        if ((st == IAM_POLICY_OK) != (pol != NULL) || (st != IAM_POLICY_OK && !d.message[0]))
            abort();
        if (!pol)
            continue;
        size_t n = iam_policy_statement_count(pol);
        for (size_t i = 0; i < n; i++) {
            struct iam_statement_info info;
            if (!iam_policy_statement_info(pol, i, &info) || (n <= 1024 && info.start.line == 0))
                abort();
        }
        evaluate(a, pol, (enum iam_policy_kind)k);
        iam_policy_unref(pol);
    }
    moat_arena_free(a);
    return 0;
}

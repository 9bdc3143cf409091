/* bench_iam_eval.c: single-threaded evaluations per second of a realistic policy set
 * (identity + permissions boundary + bucket policy, conditions, wildcards, variables).
 *
 * Build and run from the repository root:
 *   make BUILD=build-iam build-iam/libmoat.a
 *   cc -O2 -std=c17 -D_GNU_SOURCE -Isrc bench/iam/bench_iam_eval.c build-iam/libmoat.a \
 *      $(pkg-config --libs openssl) -lm -pthread -o build-iam/bench_iam_eval
 *   ./build-iam/bench_iam_eval [seconds per measurement, default 2] [eval]
 * With "eval" only the evaluation loop runs (for profiling).
 */
#include "iam/iam_eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char identity_policy[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":["
    "{\"Sid\":\"ListOwnPrefix\",\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\","
    " \"Resource\":\"arn:aws:s3:::corp-data\","
    " \"Condition\":{\"StringLike\":{\"s3:prefix\":[\"home/${aws:username}/*\",\"shared/*\"]}}},"
    "{\"Sid\":\"OwnObjects\",\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject*\",\"s3:PutObject*\","
    "\"s3:DeleteObject\"],"
    " \"Resource\":\"arn:aws:s3:::corp-data/home/${aws:username}/*\"},"
    "{\"Sid\":\"TeamObjects\",\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\","
    " \"Resource\":\"arn:aws:s3:::corp-data/teams/*\","
    " \"Condition\":{\"StringEquals\":{\"s3:ExistingObjectTag/team\":\"${aws:PrincipalTag/"
    "team}\"}}},"
    "{\"Sid\":\"KmsUse\",\"Effect\":\"Allow\",\"Action\":[\"kms:Decrypt\",\"kms:GenerateDataKey*\"]"
    ","
    " \"Resource\":\"arn:aws:kms:*:111122223333:key/*\","
    " \"Condition\":{\"StringLike\":{\"kms:ViaService\":\"s3.*.amazonaws.com\"}}},"
    "{\"Sid\":\"Secrets\",\"Effect\":\"Allow\",\"Action\":\"secretsmanager:GetSecretValue\","
    " \"Resource\":\"arn:aws:secretsmanager:us-east-1:111122223333:secret:app/*\","
    " \"Condition\":{\"StringEquals\":{\"aws:ResourceTag/owner\":\"${aws:username}\"}}},"
    "{\"Sid\":\"Params\",\"Effect\":\"Allow\",\"Action\":[\"ssm:GetParameter*\"],"
    " \"Resource\":\"arn:aws:ssm:*:111122223333:parameter/app/*\"},"
    "{\"Sid\":\"Ec2Describe\",\"Effect\":\"Allow\",\"Action\":\"ec2:Describe*\",\"Resource\":\"*\","
    " \"Condition\":{\"StringEquals\":{\"aws:RequestedRegion\":[\"us-east-1\",\"eu-west-1\"]}}},"
    "{\"Sid\":\"Logs\",\"Effect\":\"Allow\",\"Action\":[\"logs:CreateLogStream\",\"logs:"
    "PutLogEvents\"],"
    " \"Resource\":\"arn:aws:logs:*:111122223333:log-group:/app/*:*\"},"
    "{\"Sid\":\"TagOnCreate\",\"Effect\":\"Allow\",\"Action\":\"sqs:TagQueue\",\"Resource\":\"*\","
    " \"Condition\":{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"env\",\"team\"]}}},"
    "{\"Sid\":\"DenyOutsideNetwork\",\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\","
    " \"Condition\":{\"NotIpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"192.0.2.0/"
    "24\",\"2001:db8::/32\"]},"
    "               \"Bool\":{\"aws:ViaAWSService\":\"false\"}}},"
    "{\"Sid\":\"DenyIam\",\"Effect\":\"Deny\",\"NotAction\":[\"iam:Get*\",\"iam:List*\"],"
    " \"Resource\":\"arn:aws:iam::*:*\"},"
    "{\"Sid\":\"DenyAfterContract\",\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\","
    " \"Condition\":{\"DateGreaterThan\":{\"aws:CurrentTime\":\"2030-01-01T00:00:00Z\"}}}"
    "]}";

static const char boundary_policy[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":["
    "{\"Effect\":\"Allow\",\"Action\":[\"s3:*\",\"kms:*\",\"secretsmanager:Get*\",\"ssm:Get*\","
    " \"ec2:Describe*\",\"logs:*\",\"sqs:*\",\"iam:Get*\",\"iam:List*\"],\"Resource\":\"*\"},"
    "{\"Effect\":\"Deny\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::audit-*\"},"
    "{\"Effect\":\"Deny\",\"Action\":[\"kms:ScheduleKeyDeletion\",\"kms:DisableKey\"],\"Resource\":"
    "\"*\"},"
    "{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\","
    " \"Condition\":{\"StringNotEquals\":{\"aws:RequestedRegion\":[\"us-east-1\",\"eu-west-1\"]}}}"
    "]}";

static const char bucket_policy[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":["
    "{\"Sid\":\"DenyInsecure\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\","
    " \"Resource\":[\"arn:aws:s3:::corp-data\",\"arn:aws:s3:::corp-data/*\"],"
    " \"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}},"
    "{\"Sid\":\"DenyOtherOrgs\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\","
    " \"Resource\":\"arn:aws:s3:::corp-data/*\","
    " \"Condition\":{\"StringNotEquals\":{\"aws:PrincipalOrgID\":\"o-abc123\"}}},"
    "{\"Sid\":\"Account\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"111122223333\"},"
    " \"Action\":[\"s3:GetObject\",\"s3:ListBucket\"],"
    " \"Resource\":[\"arn:aws:s3:::corp-data\",\"arn:aws:s3:::corp-data/*\"]},"
    "{\"Sid\":\"Pipeline\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
    " [\"arn:aws:iam::111122223333:role/pipeline\",\"arn:aws:iam::444455556666:root\"]},"
    " \"Action\":\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::corp-data/builds/*\","
    " \"Condition\":{\"StringEquals\":{\"s3:x-amz-server-side-encryption\":\"aws:kms\"},"
    "               "
    "\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:codebuild:*:111122223333:project/*\"}}}"
    "]}";

static struct iam_policy *compile(enum iam_policy_kind kind, const char *text)
{
    struct iam_policy *p;
    struct iam_policy_diag d;
    if (iam_policy_compile(kind, moat_slice_cstr(text), 0, &p, &d) != IAM_POLICY_OK) {
        fprintf(stderr, "policy refused: %s\n", d.message);
        exit(1);
    }
    return p;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall time, and the CPU time this process got (the machine may be shared). */
static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static double cpu_s(void)
{
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

struct request {
    const char *action, *resource;
    enum iam_decision expect;
};

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    const struct iam_policy *ident[] = {compile(IAM_POLICY_IDENTITY, identity_policy)};
    const struct iam_policy *bound[] = {compile(IAM_POLICY_IDENTITY, boundary_policy)};
    const struct iam_policy *res[] = {compile(IAM_POLICY_RESOURCE, bucket_policy)};
    struct iam_policy_set bset = {bound, 1};

    struct moat_arena *a = moat_arena_new(1 << 16);
    struct iam_principal p;
    if (!iam_principal_from_arn(a, MOAT_LIT("arn:aws:iam::111122223333:user/alice"), &p))
        return 1;
    p.principal_id = MOAT_LIT("AIDAEXAMPLEALICE00001");
    static const struct iam_tag tags[] = {{MOAT_LIT("team"), MOAT_LIT("blue")},
                                          {MOAT_LIT("cost-center"), MOAT_LIT("1234")}};
    p.tags = tags;
    p.tag_count = 2;
    p.org_id = MOAT_LIT("o-abc123");
    p.has_permissions_boundary = true;
    struct iam_request_facts facts = {.now_ms = 1767225600000,
                                      .source_ip = MOAT_LIT("10.1.2.3"),
                                      .secure_transport = true,
                                      .requested_region = MOAT_LIT("us-east-1")};

    static const struct request reqs[] = {
        {"s3:GetObject", "arn:aws:s3:::corp-data/home/alice/report.csv", IAM_DECISION_ALLOW},
        {"s3:PutObject", "arn:aws:s3:::corp-data/home/bob/x", IAM_DECISION_IMPLICIT_DENY},
        {"s3:ListBucket", "arn:aws:s3:::corp-data", IAM_DECISION_ALLOW},
        {"iam:CreateUser", "arn:aws:iam::111122223333:user/eve", IAM_DECISION_EXPLICIT_DENY},
    };
    struct iam_context *ctx = moat_arena_alloc(a, sizeof(*ctx));
    iam_context_init(ctx, a);
    if (!iam_context_fill_global(ctx, &p, &facts) ||
        !iam_context_set(ctx, MOAT_LIT("s3:prefix"), MOAT_LIT("home/alice/")))
        return 1;

    struct iam_eval_input in = {
        .principal = &p,
        .context = ctx,
        .identity = {ident, 1},
        .boundary = &bset,
        .resource_policies = {res, 1},
    };
    struct iam_eval_result out;
    for (size_t i = 0; i < MOAT_COUNT(reqs); i++) {
        in.action = moat_slice_cstr(reqs[i].action);
        in.resource = moat_slice_cstr(reqs[i].resource);
        if (iam_evaluate(&in, &out, NULL) != reqs[i].expect) {
            fprintf(stderr, "unexpected decision for %s: %s\n", reqs[i].action,
                    iam_decision_name(out.decision));
            return 1;
        }
    }

    /* Evaluation alone, cycling through the requests. */
    struct moat_slice actions[4], resources[4];
    for (size_t i = 0; i < 4; i++) {
        actions[i] = moat_slice_cstr(reqs[i].action);
        resources[i] = moat_slice_cstr(reqs[i].resource);
    }
    unsigned long n = 0, allows = 0;
    double start = now_s(), cpu_start = cpu_s(), elapsed, cpu;
    do {
        for (int k = 0; k < 4096; k++, n++) {
            in.action = actions[n & 3];
            in.resource = resources[n & 3];
            allows += iam_evaluate(&in, &out, NULL) == IAM_DECISION_ALLOW;
        }
        elapsed = now_s() - start;
    } while (elapsed < seconds);
    cpu = cpu_s() - cpu_start;
    printf("evaluate: %lu evaluations in %.2f s wall, %.2f s CPU = %.0f evaluations per CPU "
           "second (%.0f ns each; %.0f per wall second; %lu allows)\n",
           n, elapsed, cpu, (double)n / cpu, cpu * 1e9 / (double)n, (double)n / elapsed, allows);
    if (argc > 2 && !strcmp(argv[2], "eval"))
        return 0;

    /* Per request: build the context (global keys) and evaluate. */
    n = 0;
    start = now_s();
    cpu_start = cpu_s();
    do {
        for (int k = 0; k < 4096; k++, n++) {
            iam_context_init(ctx, NULL);
            if (!iam_context_fill_global(ctx, &p, &facts))
                return 1;
            in.action = actions[n & 3];
            in.resource = resources[n & 3];
            allows += iam_evaluate(&in, &out, NULL) == IAM_DECISION_ALLOW;
        }
        elapsed = now_s() - start;
    } while (elapsed < seconds);
    cpu = cpu_s() - cpu_start;
    printf("context + evaluate: %.0f requests per CPU second (%.0f ns each)\n", (double)n / cpu,
           cpu * 1e9 / (double)n);

    /* Compilation of the three documents. */
    n = 0;
    start = now_s();
    cpu_start = cpu_s();
    do {
        for (int k = 0; k < 64; k++, n++) {
            iam_policy_unref(compile(IAM_POLICY_IDENTITY, identity_policy));
            iam_policy_unref(compile(IAM_POLICY_IDENTITY, boundary_policy));
            iam_policy_unref(compile(IAM_POLICY_RESOURCE, bucket_policy));
        }
        elapsed = now_s() - start;
    } while (elapsed < seconds / 2);
    cpu = cpu_s() - cpu_start;
    printf("compile: %.0f policy sets per CPU second (%.1f us per set of 3)\n", (double)n / cpu,
           cpu * 1e6 / (double)n);

    iam_policy_unref((struct iam_policy *)ident[0]);
    iam_policy_unref((struct iam_policy *)bound[0]);
    iam_policy_unref((struct iam_policy *)res[0]);
    moat_arena_free(a);
    return 0;
}

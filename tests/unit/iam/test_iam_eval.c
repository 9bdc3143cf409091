/* test_iam_eval.c: the evaluator against every case of vectors/iam-eval/cases.json, then
 * each operator family, variables, principals, policy-type combinations and messages. */
#include "harness.h"

#include "core/json.h"
#include "iam/iam_compiled.h"
#include "iam/iam_eval.h"
#include "iam/iam_message.h"

#include <stdarg.h>
#include <stdlib.h>

/* ---- helpers -------------------------------------------------------------------------- */

static void release_policy(void *p)
{
    iam_policy_unref(p);
}

/* Compiles text or fails the test (NULL). The arena drops the reference. */
static const struct iam_policy *compile(struct moat_arena *a, enum iam_policy_kind kind,
                                        const char *text)
{
    struct iam_policy *pol;
    struct iam_policy_diag d;
    if (iam_policy_compile(kind, moat_slice_cstr(text), 0, &pol, &d) != IAM_POLICY_OK) {
        fprintf(stderr, "  policy refused (%s): %s\n", d.message, text);
        moat_test_failures++;
        return NULL;
    }
    moat_arena_on_free(a, release_policy, pol);
    return pol;
}

#define MAXP 8

/* One request under construction. */
struct req {
    struct moat_arena *a;
    struct iam_principal p;
    struct iam_context ctx;
    const struct iam_policy *ident[MAXP], *bound[MAXP], *sess[MAXP], *res[MAXP];
    size_t ni, nb, ns, nr;
    bool has_boundary, has_session;
    const struct iam_policy *scp[4][MAXP], *rcp[4][MAXP];
    size_t nscp[4], nrcp[4], scp_levels, rcp_levels;
    struct iam_policy_set bset, sset, scpset[4], rcpset[4];
    struct iam_eval_input in;
    struct iam_eval_result out;
};

static struct req *req_new(struct moat_arena *a, const char *principal, const char *action,
                           const char *resource)
{
    struct req *r = moat_arena_calloc(a, sizeof(*r));
    r->a = a;
    if (!iam_principal_from_arn(a, moat_slice_cstr(principal), &r->p)) {
        fprintf(stderr, "  bad principal %s\n", principal);
        moat_test_failures++;
    }
    iam_context_init(&r->ctx, a);
    r->in.action = moat_slice_cstr(action);
    r->in.resource = moat_slice_cstr(resource);
    return r;
}

static void add(struct req *r, enum iam_policy_type type, const char *text)
{
    if (type == IAM_PTYPE_BOUNDARY)
        r->has_boundary = true;
    if (type == IAM_PTYPE_SESSION)
        r->has_session = true;
    enum iam_policy_kind kind = type == IAM_PTYPE_RESOURCE && (r->in.flags & IAM_EVAL_TRUST_POLICY)
                                    ? IAM_POLICY_TRUST
                                : type == IAM_PTYPE_RESOURCE ? IAM_POLICY_RESOURCE
                                : type == IAM_PTYPE_SESSION  ? IAM_POLICY_SESSION
                                                             : IAM_POLICY_IDENTITY;
    const struct iam_policy *pol = compile(r->a, kind, text);
    if (!pol)
        return;
    switch (type) {
    case IAM_PTYPE_IDENTITY:
        r->ident[r->ni++] = pol;
        break;
    case IAM_PTYPE_BOUNDARY:
        r->bound[r->nb++] = pol;
        break;
    case IAM_PTYPE_SESSION:
        r->sess[r->ns++] = pol;
        break;
    case IAM_PTYPE_RESOURCE:
        r->res[r->nr++] = pol;
        break;
    default:
        break;
    }
}

static void add_scp(struct req *r, size_t level, const char *text)
{
    const struct iam_policy *pol = compile(r->a, IAM_POLICY_SCP, text);
    if (pol)
        r->scp[level][r->nscp[level]++] = pol;
    if (level + 1 > r->scp_levels)
        r->scp_levels = level + 1;
}

static void add_rcp(struct req *r, size_t level, const char *text)
{
    const struct iam_policy *pol = compile(r->a, IAM_POLICY_RCP, text);
    if (pol)
        r->rcp[level][r->nrcp[level]++] = pol;
    if (level + 1 > r->rcp_levels)
        r->rcp_levels = level + 1;
}

static void ctx_set(struct req *r, const char *key, const char *value)
{
    CHECK(iam_context_set_cstr(&r->ctx, key, value));
}

static enum iam_decision run_traced(struct req *r, struct iam_eval_trace *trace)
{
    r->p.has_permissions_boundary = r->has_boundary;
    r->in.principal = &r->p;
    r->in.context = &r->ctx;
    r->in.identity = (struct iam_policy_set){r->ident, r->ni};
    r->bset = (struct iam_policy_set){r->bound, r->nb};
    r->sset = (struct iam_policy_set){r->sess, r->ns};
    r->in.boundary = r->has_boundary ? &r->bset : NULL;
    r->in.session = r->has_session ? &r->sset : NULL;
    r->in.resource_policies = (struct iam_policy_set){r->res, r->nr};
    for (size_t l = 0; l < r->scp_levels; l++)
        r->scpset[l] = (struct iam_policy_set){r->scp[l], r->nscp[l]};
    for (size_t l = 0; l < r->rcp_levels; l++)
        r->rcpset[l] = (struct iam_policy_set){r->rcp[l], r->nrcp[l]};
    r->in.scp_levels = r->scpset;
    r->in.scp_level_count = r->scp_levels;
    r->in.rcp_levels = r->rcpset;
    r->in.rcp_level_count = r->rcp_levels;
    return iam_evaluate(&r->in, &r->out, trace);
}

static enum iam_decision run(struct req *r)
{
    /* Every decision must be the same with and without a trace. */
    struct iam_matched_statement m[16];
    struct moat_slice missing[16];
    struct iam_eval_trace t = {m, 16, 0, missing, 16, 0};
    enum iam_decision traced = run_traced(r, &t);
    struct iam_eval_result traced_out = r->out;
    enum iam_decision d = run_traced(r, NULL);
    CHECK_EQ_INT(traced, d);
    CHECK_EQ_INT(traced_out.cause, r->out.cause);
    return d;
}

static const char *message(struct req *r)
{
    struct moat_buf b;
    moat_buf_init(&b, r->a, 256);
    iam_message_denied(&b, &r->p, r->in.action, r->in.resource, &r->out);
    return moat_buf_cstr(&b);
}

#define ALLOW IAM_DECISION_ALLOW
#define IMPLICIT IAM_DECISION_IMPLICIT_DENY
#define EXPLICIT IAM_DECISION_EXPLICIT_DENY

#define ALICE "arn:aws:iam::111122223333:user/alice"
#define BOB "arn:aws:iam::111122223333:user/bob"
#define SESS "arn:aws:sts::111122223333:assumed-role/app/sess1"
#define ROOT "arn:aws:iam::111122223333:root"
#define OBJ "arn:aws:s3:::bkt/a.txt"
#define ALLOW_ALL                                                                                  \
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","            \
    "\"Resource\":\"*\"}}"

/* An identity policy allowing s3:GetObject on * under one condition block. */
static const char *cond_policy(struct moat_arena *a, const char *condition)
{
    return moat_arena_printf(a,
                             "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                             "\"Action\":\"s3:GetObject\",\"Resource\":\"*\",\"Condition\":%s}]}",
                             condition);
}

/* Decision for alice's s3:GetObject under one condition and a context of key=value pairs
 * (a value starting with '[' is a comma-separated set). */
static enum iam_decision with_condition(struct moat_arena *a, const char *condition, ...)
{
    struct req *r = req_new(a, ALICE, "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_IDENTITY, cond_policy(a, condition));
    CHECK(iam_context_add_principal(&r->ctx, &r->p, 0));
    va_list ap;
    va_start(ap, condition);
    const char *k;
    while ((k = va_arg(ap, const char *))) {
        const char *v = va_arg(ap, const char *);
        if (v[0] == '[') {
            struct moat_slice *vals = moat_arena_alloc(a, 16 * sizeof(*vals));
            size_t n = 0;
            struct moat_slice rest = moat_slice(v + 1, strlen(v) - 2), head;
            while (rest.len && moat_slice_split(&rest, ',', &head))
                vals[n++] = head;
            CHECK(iam_context_set_multi(&r->ctx, moat_slice_cstr(k), vals, n));
        } else {
            ctx_set(r, k, v);
        }
    }
    va_end(ap);
    return run(r);
}

/* ---- the shared vectors --------------------------------------------------------------- */

static enum iam_policy_kind kind_for(const char *type)
{
    if (!strcmp(type, "resource"))
        return IAM_POLICY_RESOURCE;
    if (!strcmp(type, "session"))
        return IAM_POLICY_SESSION;
    if (!strcmp(type, "scp"))
        return IAM_POLICY_SCP;
    if (!strcmp(type, "rcp"))
        return IAM_POLICY_RCP;
    return IAM_POLICY_IDENTITY;
}

/* Compiles the documents of one policy type of a case into a set. */
static size_t case_policies(struct moat_arena *a, const struct moat_value *policies,
                            const char *type, const struct iam_policy **out)
{
    const struct moat_value *list = moat_map_get(policies, type);
    size_t n = 0;
    for (uint32_t i = 0; list && i < list->count && n < MAXP; i++) {
        struct moat_buf b;
        moat_buf_init(&b, a, 256);
        moat_json_write(&b, list->u.items[i]);
        const struct iam_policy *p = compile(a, kind_for(type), moat_buf_cstr(&b));
        if (p)
            out[n++] = p;
    }
    return n;
}

MOAT_TEST(vectors_cases)
{
    struct moat_slice text =
        moat_test_read_file(a, moat_test_shared_path("vectors/iam-eval/cases.json"));
    CHECK(text.len > 0);
    struct moat_value *doc;
    struct moat_json_error err;
    CHECK(moat_json_parse(a, text, 0, &doc, &err));
    const struct moat_value *cases = moat_map_get(doc, "cases");
    CHECK(cases && cases->count == 100);
    int passed = 0;
    for (uint32_t i = 0; cases && i < cases->count; i++) {
        const struct moat_value *c = cases->u.items[i];
        const struct moat_value *pol = moat_map_get(c, "policies");
        const struct moat_value *rq = moat_map_get(c, "request");
        struct req *r = req_new(a, moat_arena_cstr(a, moat_map_str(rq, "principal")),
                                moat_arena_cstr(a, moat_map_str(rq, "action")),
                                moat_arena_cstr(a, moat_map_str(rq, "resource")));
        r->ni = case_policies(a, pol, "identity", r->ident);
        r->nr = case_policies(a, pol, "resource", r->res);
        r->nb = case_policies(a, pol, "boundary", r->bound);
        r->ns = case_policies(a, pol, "session", r->sess);
        r->has_boundary = r->nb > 0;
        r->has_session = r->ns > 0;
        /* The vectors give SCPs and RCPs as one flat list: a single level. */
        r->nscp[0] = case_policies(a, pol, "scp", r->scp[0]);
        r->scp_levels = r->nscp[0] ? 1 : 0;
        r->nrcp[0] = case_policies(a, pol, "rcp", r->rcp[0]);
        r->rcp_levels = r->nrcp[0] ? 1 : 0;
        r->in.resource_account = moat_map_str(rq, "resource_account");
        if (moat_slice_eq_cstr(moat_map_str(rq, "resource_kind"), "kms-key"))
            r->in.flags |= IAM_EVAL_KMS_KEY;
        r->p.has_permissions_boundary = r->has_boundary;
        CHECK(iam_context_add_principal(&r->ctx, &r->p, 0));
        const struct moat_value *ctx = moat_map_get(rq, "context");
        for (uint32_t k = 0; ctx && k < ctx->count; k++) {
            struct moat_slice key = ctx->u.entries[k].key;
            const struct moat_value *v = ctx->u.entries[k].value;
            if (v->type == MOAT_V_LIST) {
                struct moat_slice *vals = moat_arena_alloc(a, (v->count + 1) * sizeof(*vals));
                for (uint32_t j = 0; j < v->count; j++)
                    vals[j] = v->u.items[j]->u.s;
                CHECK(iam_context_set_multi(&r->ctx, key, vals, v->count));
            } else {
                CHECK(iam_context_set(&r->ctx, key, v->u.s));
            }
        }
        enum iam_decision d = run(r);
        struct moat_slice expected = moat_map_str(c, "expected");
        if (moat_slice_eq_cstr(expected, iam_decision_name(d))) {
            passed++;
        } else {
            fprintf(stderr, "  case %.*s: got %s, expected %.*s\n",
                    MOAT_FMT(moat_map_str(c, "name")), iam_decision_name(d), MOAT_FMT(expected));
            moat_test_failures++;
        }
    }
    CHECK_EQ_INT(passed, 100);
}

/* ---- operator families ---------------------------------------------------------------- */

MOAT_TEST(string_operators)
{
    CHECK_EQ_INT(
        with_condition(a, "{\"StringEquals\":{\"s3:prefix\":\"a/b\"}}", "s3:prefix", "a/b", NULL),
        ALLOW);
    CHECK_EQ_INT(
        with_condition(a, "{\"StringEquals\":{\"s3:prefix\":\"a/*\"}}", "s3:prefix", "a/b", NULL),
        IMPLICIT);
    CHECK_EQ_INT(
        with_condition(a, "{\"StringEquals\":{\"s3:prefix\":\"a/*\"}}", "s3:prefix", "a/*", NULL),
        ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"StringNotEquals\":{\"s3:prefix\":[\"x\",\"y\"]}}",
                                "s3:prefix", "z", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"StringNotEquals\":{\"s3:prefix\":[\"x\",\"y\"]}}",
                                "s3:prefix", "y", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"StringEqualsIgnoreCase\":{\"s3:prefix\":\"ABC\"}}",
                                "s3:prefix", "aBc", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"StringNotEqualsIgnoreCase\":{\"s3:prefix\":\"ABC\"}}",
                                "s3:prefix", "abc", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"StringNotEqualsIgnoreCase\":{\"s3:prefix\":\"ABC\"}}", NULL),
                 ALLOW);
    /* StringLike wildcards span '/' and ':' */
    CHECK_EQ_INT(
        with_condition(a, "{\"StringLike\":{\"s3:prefix\":\"a*z\"}}", "s3:prefix", "a/b:c/z", NULL),
        ALLOW);
    CHECK_EQ_INT(
        with_condition(a, "{\"StringLike\":{\"s3:prefix\":\"a?z\"}}", "s3:prefix", "a/z", NULL),
        ALLOW);
    CHECK_EQ_INT(
        with_condition(a, "{\"StringLike\":{\"s3:prefix\":\"a?z\"}}", "s3:prefix", "az", NULL),
        IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"StringLike\":{\"s3:prefix\":\"a?z\"}}", "s3:prefix",
                                "a\xc3\xa9z", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"StringNotLike\":{\"s3:prefix\":[\"a*\",\"b*\"]}}",
                                "s3:prefix", "cat", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"StringNotLike\":{\"s3:prefix\":[\"a*\",\"b*\"]}}",
                                "s3:prefix", "bat", NULL),
                 IMPLICIT);
    /* a backslash in a policy value is an ordinary character */
    CHECK_EQ_INT(with_condition(a, "{\"StringLike\":{\"s3:prefix\":\"a\\\\*\"}}", "s3:prefix",
                                "a\\zz", NULL),
                 ALLOW);
    CHECK_EQ_INT(
        with_condition(a, "{\"StringLike\":{\"s3:prefix\":\"a\\\\*\"}}", "s3:prefix", "a*", NULL),
        IMPLICIT);
    /* JSON numbers and booleans compare as their text */
    CHECK_EQ_INT(
        with_condition(a, "{\"StringEquals\":{\"s3:max-keys\":10}}", "s3:max-keys", "10", NULL),
        ALLOW);
}

MOAT_TEST(numeric_operators)
{
    CHECK_EQ_INT(with_condition(a, "{\"NumericEquals\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys",
                                "10", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"NumericEquals\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys",
                                "10.0", NULL),
                 ALLOW);
    CHECK_EQ_INT(
        with_condition(a, "{\"NumericEquals\":{\"s3:max-keys\":10}}", "s3:max-keys", "11", NULL),
        IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"NumericNotEquals\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys",
                                "11", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"NumericLessThan\":{\"s3:max-keys\":\"2.5\"}}", "s3:max-keys",
                                "2.49", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"NumericLessThan\":{\"s3:max-keys\":\"2.5\"}}", "s3:max-keys",
                                "2.5", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"NumericLessThanEquals\":{\"s3:max-keys\":\"-3\"}}",
                                "s3:max-keys", "-3", NULL),
                 ALLOW);
    CHECK_EQ_INT(
        with_condition(a, "{\"NumericGreaterThan\":{\"s3:max-keys\":\"9223372036854775806\"}}",
                       "s3:max-keys", "9223372036854775807", NULL),
        ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"NumericGreaterThanEquals\":{\"s3:max-keys\":\"100\"}}",
                                "s3:max-keys", "99", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"NumericGreaterThan\":{\"s3:max-keys\":\"1\"}}",
                                "s3:max-keys", "lots", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"NumericGreaterThan\":{\"s3:max-keys\":\"1\"}}",
                                "s3:max-keys", "0x10", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"NumericLessThan\":{\"s3:max-keys\":\"1e3\"}}", "s3:max-keys",
                                "999", NULL),
                 ALLOW);
}

MOAT_TEST(date_operators)
{
    CHECK_EQ_INT(with_condition(a, "{\"DateGreaterThan\":{\"aws:CurrentTime\":\"2024-01-01\"}}",
                                "aws:CurrentTime", "2024-01-01T00:00:01Z", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a,
                                "{\"DateEquals\":{\"aws:CurrentTime\":\"2024-01-01T00:00:00Z\"}}",
                                "aws:CurrentTime", "1704067200", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"DateEquals\":{\"aws:EpochTime\":1704067200}}",
                                "aws:EpochTime", "2024-01-01T01:00:00+01:00", NULL),
                 ALLOW);
    CHECK_EQ_INT(
        with_condition(a, "{\"DateNotEquals\":{\"aws:CurrentTime\":\"2024-01-01T00:00:00Z\"}}",
                       "aws:CurrentTime", "2024-01-01T00:00:00.500Z", NULL),
        ALLOW);
    CHECK_EQ_INT(
        with_condition(a, "{\"DateLessThanEquals\":{\"aws:CurrentTime\":\"2024-01-01T00:00:00Z\"}}",
                       "aws:CurrentTime", "2024-01-01T00:00:00Z", NULL),
        ALLOW);
    CHECK_EQ_INT(
        with_condition(a,
                       "{\"DateGreaterThanEquals\":{\"aws:CurrentTime\":\"2024-01-01T00:00:00Z\"}}",
                       "aws:CurrentTime", "2023-12-31T23:59:59Z", NULL),
        IMPLICIT);
    CHECK_EQ_INT(with_condition(a,
                                "{\"DateLessThan\":{\"aws:CurrentTime\":\"2024-01-01T00:00:00Z\"}}",
                                "aws:CurrentTime", "yesterday", NULL),
                 IMPLICIT);
    /* leap days and impossible dates */
    CHECK_EQ_INT(with_condition(a, "{\"DateEquals\":{\"aws:CurrentTime\":\"1709164800\"}}",
                                "aws:CurrentTime", "2024-02-29T00:00:00Z", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"DateLessThan\":{\"aws:CurrentTime\":\"2030-01-01\"}}",
                                "aws:CurrentTime", "2023-02-29T00:00:00Z", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"DateLessThan\":{\"aws:CurrentTime\":\"2030-01-01\"}}",
                                "aws:CurrentTime", "2024-13-01T00:00:00Z", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"DateLessThan\":{\"aws:CurrentTime\":\"2030-01-01\"}}",
                                "aws:CurrentTime", "2024-04-31T00:00:00Z", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"DateLessThan\":{\"aws:CurrentTime\":\"2030-01-01\"}}",
                                "aws:CurrentTime", "2024-04-30T23:59:59Z", NULL),
                 ALLOW);
    CHECK_EQ_INT(
        with_condition(a, "{\"DateGreaterThan\":{\"aws:CurrentTime\":\"1999-12-31T23:59:59Z\"}}",
                       "aws:CurrentTime", "2000-01-01T00:00:00Z", NULL),
        ALLOW);
}

MOAT_TEST(bool_binary_null)
{
    CHECK_EQ_INT(with_condition(a, "{\"Bool\":{\"aws:SecureTransport\":true}}",
                                "aws:SecureTransport", "true", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"Bool\":{\"aws:SecureTransport\":\"true\"}}",
                                "aws:SecureTransport", "TRUE", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"Bool\":{\"aws:SecureTransport\":\"true\"}}",
                                "aws:SecureTransport", "false", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"Bool\":{\"aws:SecureTransport\":\"true\"}}",
                                "aws:SecureTransport", "yes", NULL),
                 IMPLICIT);
    /* "aGk=" is base64 of "hi"; the context holds the bytes */
    CHECK_EQ_INT(
        with_condition(a, "{\"BinaryEquals\":{\"x:blob\":\"aGk=\"}}", "x:blob", "hi", NULL), ALLOW);
    CHECK_EQ_INT(
        with_condition(a, "{\"BinaryEquals\":{\"x:blob\":\"aGk=\"}}", "x:blob", "aGk=", NULL),
        IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"Null\":{\"aws:TokenIssueTime\":\"true\"}}", NULL), ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"Null\":{\"aws:TokenIssueTime\":\"false\"}}", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"Null\":{\"aws:TokenIssueTime\":false}}",
                                "aws:TokenIssueTime", "2024-01-01T00:00:00Z", NULL),
                 ALLOW);
    CHECK_EQ_INT(
        with_condition(a, "{\"Null\":{\"aws:TagKeys\":\"true\"}}", "aws:TagKeys", "[]", NULL),
        ALLOW);
}

MOAT_TEST(ip_operators)
{
    CHECK_EQ_INT(with_condition(a, "{\"IpAddress\":{\"aws:SourceIp\":\"10.1.0.0/16\"}}",
                                "aws:SourceIp", "10.1.200.3", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"IpAddress\":{\"aws:SourceIp\":\"10.1.0.0/16\"}}",
                                "aws:SourceIp", "10.2.0.1", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.7\"}}",
                                "aws:SourceIp", "192.0.2.7", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.7\"}}",
                                "aws:SourceIp", "192.0.2.8", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/0\"}}",
                                "aws:SourceIp", "8.8.8.8", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/0\"}}",
                                "aws:SourceIp", "2001:db8::1", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"IpAddress\":{\"aws:SourceIp\":\"2001:db8:abcd::/48\"}}",
                                "aws:SourceIp", "2001:DB8:ABCD:12::7", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"IpAddress\":{\"aws:SourceIp\":\"2001:db8:abcd::/48\"}}",
                                "aws:SourceIp", "2001:db8:abce::1", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"IpAddress\":{\"aws:SourceIp\":\"::1\"}}", "aws:SourceIp",
                                "0:0:0:0:0:0:0:1", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"IpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}",
                                "aws:SourceIp", "::ffff:203.0.113.9", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/9\"}}",
                                "aws:SourceIp", "10.127.255.255", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/9\"}}",
                                "aws:SourceIp", "10.128.0.0", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}",
                                "aws:SourceIp", "10.0.0.256", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"NotIpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}",
                                "aws:SourceIp", "11.0.0.1", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"NotIpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", NULL),
                 IMPLICIT);

    struct iam_cidr c;
    CHECK(iam_parse_cidr(MOAT_LIT("::"), &c) && c.family == 6 && c.prefix == 128);
    CHECK(iam_parse_cidr(MOAT_LIT("1::"), &c) && c.addr[1] == 1);
    CHECK(iam_parse_cidr(MOAT_LIT("1:2:3:4:5:6:7:8"), &c) && c.addr[15] == 8);
    CHECK(iam_parse_cidr(MOAT_LIT("::2:3:4:5:6:7:8"), &c) && c.addr[2] == 0 && c.addr[3] == 2);
    CHECK(!iam_parse_cidr(MOAT_LIT("1:2:3:4:5:6:7:8:9"), &c));
    CHECK(!iam_parse_cidr(MOAT_LIT("1::2::3"), &c));
    CHECK(!iam_parse_cidr(MOAT_LIT("12345::"), &c));
    CHECK(!iam_parse_cidr(MOAT_LIT(":1::"), &c));
    CHECK(!iam_parse_cidr(MOAT_LIT("1:"), &c));
    CHECK(!iam_parse_cidr(MOAT_LIT("10.0.0.0/33"), &c));
    CHECK(!iam_parse_cidr(MOAT_LIT("::/129"), &c));
    CHECK(!iam_parse_cidr(MOAT_LIT("1.2.3"), &c));
    CHECK(!iam_parse_cidr(MOAT_LIT("1.2.3.4/"), &c));
}

MOAT_TEST(arn_operators)
{
    const char *src = "aws:SourceArn";
    const char *topic = "arn:aws:sns:us-east-1:111122223333:topic-a";
    CHECK_EQ_INT(
        with_condition(
            a, "{\"ArnEquals\":{\"aws:SourceArn\":\"arn:aws:sns:us-east-1:111122223333:topic-a\"}}",
            src, topic, NULL),
        ALLOW);
    CHECK_EQ_INT(
        with_condition(a, "{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:sns:*:111122223333:*\"}}", src,
                       topic, NULL),
        ALLOW);
    /* a wildcard in one component does not span colons into the next */
    CHECK_EQ_INT(with_condition(a, "{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:sns:*:topic-a\"}}",
                                src, topic, NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(
                     a,
                     "{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:sns:us-*:1111222?3333:topic-*\"}}",
                     src, topic, NULL),
                 ALLOW);
    /* the resource part takes the rest, colons included */
    CHECK_EQ_INT(
        with_condition(
            a,
            "{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:logs:us-east-1:111122223333:log-group:*\"}}",
            src, "arn:aws:logs:us-east-1:111122223333:log-group:g:log-stream:s", NULL),
        ALLOW);
    CHECK_EQ_INT(
        with_condition(
            a, "{\"ArnEquals\":{\"aws:SourceArn\":\"arn:aws:sns:us-east-1:111122223333:topic-a\"}}",
            src, "not-an-arn", NULL),
        IMPLICIT);
    CHECK_EQ_INT(with_condition(a,
                                "{\"ArnNotLike\":{\"aws:SourceArn\":\"arn:aws:sns:*:*:topic-b\"}}",
                                src, topic, NULL),
                 ALLOW);
    CHECK_EQ_INT(
        with_condition(a, "{\"ArnNotEquals\":{\"aws:SourceArn\":\"arn:aws:sns:*:*:topic-a\"}}", src,
                       topic, NULL),
        IMPLICIT);
    CHECK_EQ_INT(
        with_condition(a, "{\"ArnNotLike\":{\"aws:SourceArn\":\"arn:aws:sns:*:*:topic-a\"}}", NULL),
        ALLOW);
    /* ARNs are case-sensitive */
    CHECK_EQ_INT(with_condition(a, "{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:SNS:*:*:*\"}}", src,
                                topic, NULL),
                 IMPLICIT);
}

MOAT_TEST(if_exists_and_sets)
{
    CHECK_EQ_INT(with_condition(a, "{\"NumericLessThanIfExists\":{\"s3:max-keys\":\"10\"}}", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"NumericLessThanIfExists\":{\"s3:max-keys\":\"10\"}}",
                                "s3:max-keys", "11", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(
        with_condition(a, "{\"IpAddressIfExists\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", NULL),
        ALLOW);
    CHECK_EQ_INT(with_condition(a,
                                "{\"ArnLikeIfExists\":{\"aws:SourceArn\":\"arn:aws:sns:*:*:x\"}}",
                                "aws:SourceArn", "arn:aws:sns:r:1:y", NULL),
                 IMPLICIT);
    /* ForAllValues: every request value in the set; empty or missing is vacuously true */
    CHECK_EQ_INT(with_condition(a,
                                "{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"a\",\"b\"]}}",
                                "aws:TagKeys", "[b,a]", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a,
                                "{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"a\",\"b\"]}}",
                                "aws:TagKeys", "[a,c]", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"a\"]}}",
                                "aws:TagKeys", "[]", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a,
                                "{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"a\"]},\"Null\":"
                                "{\"aws:TagKeys\":\"false\"}}",
                                "aws:TagKeys", "[]", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a,
                                "{\"ForAllValues:StringNotEquals\":{\"aws:TagKeys\":[\"secret\"]}}",
                                "aws:TagKeys", "[a,b]", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a,
                                "{\"ForAllValues:StringNotEquals\":{\"aws:TagKeys\":[\"secret\"]}}",
                                "aws:TagKeys", "[a,secret]", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"ForAllValues:StringLike\":{\"aws:TagKeys\":[\"team-*\"]}}",
                                "aws:TagKeys", "[team-a,team-b]", NULL),
                 ALLOW);
    /* ForAnyValue: at least one; empty or missing is false */
    CHECK_EQ_INT(with_condition(a, "{\"ForAnyValue:StringEquals\":{\"aws:TagKeys\":[\"a\"]}}",
                                "aws:TagKeys", "[]", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a,
                                "{\"ForAnyValue:StringNotEquals\":{\"aws:TagKeys\":[\"a\",\"b\"]}}",
                                "aws:TagKeys", "[a,b]", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a,
                                "{\"ForAnyValue:StringNotEquals\":{\"aws:TagKeys\":[\"a\",\"b\"]}}",
                                "aws:TagKeys", "[a,c]", NULL),
                 ALLOW);
    CHECK_EQ_INT(
        with_condition(a, "{\"ForAnyValue:StringEqualsIfExists\":{\"aws:TagKeys\":[\"a\"]}}", NULL),
        ALLOW);
    /* a set operator on a single-valued key treats it as a one-element set */
    CHECK_EQ_INT(
        with_condition(a, "{\"ForAnyValue:StringEquals\":{\"aws:username\":[\"alice\"]}}", NULL),
        ALLOW);
    /* a plain operator on a multivalued key: any value matches; negated: none matches */
    CHECK_EQ_INT(with_condition(a, "{\"StringEquals\":{\"aws:TagKeys\":\"b\"}}", "aws:TagKeys",
                                "[a,b]", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"StringNotEquals\":{\"aws:TagKeys\":\"b\"}}", "aws:TagKeys",
                                "[a,b]", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"StringNotEquals\":{\"aws:TagKeys\":\"b\"}}", "aws:TagKeys",
                                "[]", NULL),
                 ALLOW);
    /* operator and key names are case-insensitive; values are not */
    CHECK_EQ_INT(with_condition(a, "{\"stringequals\":{\"AWS:USERNAME\":\"alice\"}}", NULL), ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"StringEquals\":{\"aws:username\":\"Alice\"}}", NULL),
                 IMPLICIT);
}

/* ---- policy variables ----------------------------------------------------------------- */

MOAT_TEST(variables)
{
    struct req *r = req_new(a, ALICE, "s3:GetObject", "arn:aws:s3:::bkt/home/alice/x");
    add(r, IAM_PTYPE_IDENTITY,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:"
        "GetObject\",\"Resource\":\"arn:aws:s3:::bkt/home/${aws:username}/*\"}}");
    CHECK(iam_context_add_principal(&r->ctx, &r->p, 0));
    CHECK_EQ_INT(run(r), ALLOW);

    /* principal tags, case-insensitive key lookup */
    r = req_new(a, ALICE, "s3:GetObject", "arn:aws:s3:::bkt/eng/x");
    static const struct iam_tag tags[] = {{MOAT_LIT("Dept"), MOAT_LIT("eng")}};
    r->p.tags = tags;
    r->p.tag_count = 1;
    add(r, IAM_PTYPE_IDENTITY,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:"
        "GetObject\",\"Resource\":\"arn:aws:s3:::bkt/${aws:principaltag/dept}/*\"}}");
    CHECK(iam_context_add_principal(&r->ctx, &r->p, 0));
    CHECK_EQ_INT(run(r), ALLOW);

    /* defaults */
    r = req_new(a, SESS, "s3:GetObject", "arn:aws:s3:::bkt/guest/x");
    add(r, IAM_PTYPE_IDENTITY,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:"
        "GetObject\",\"Resource\":\"arn:aws:s3:::bkt/${aws:username, 'guest'}/*\"}}");
    CHECK(iam_context_add_principal(&r->ctx, &r->p, 0));
    CHECK_EQ_INT(run(r), ALLOW);
    CHECK_EQ_INT(
        with_condition(a, "{\"StringEquals\":{\"s3:prefix\":\"${aws:PrincipalTag/none,'x y'}\"}}",
                       "s3:prefix", "x y", NULL),
        ALLOW);

    /* no value and no default: positive operators do not match, negated ones do */
    CHECK_EQ_INT(with_condition(a,
                                "{\"StringEquals\":{\"s3:prefix\":\"${aws:PrincipalTag/none}\"}}",
                                "s3:prefix", "", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"StringLike\":{\"s3:prefix\":\"${aws:PrincipalTag/none}*\"}}",
                                "s3:prefix", "x", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(
        with_condition(a, "{\"StringNotEquals\":{\"s3:prefix\":\"${aws:PrincipalTag/none}\"}}",
                       "s3:prefix", "x", NULL),
        ALLOW);
    CHECK_EQ_INT(with_condition(a,
                                "{\"StringNotLike\":{\"s3:prefix\":\"${aws:PrincipalTag/none}\"}}",
                                "s3:prefix", "x", NULL),
                 ALLOW);

    /* escapes are literal characters, also next to variables */
    CHECK_EQ_INT(with_condition(a,
                                "{\"StringLike\":{\"s3:prefix\":\"${aws:username}${*}${?}${$}\"}}",
                                "aws:username", "al", "s3:prefix", "al*?$", NULL),
                 ALLOW);
    CHECK_EQ_INT(with_condition(a, "{\"StringLike\":{\"s3:prefix\":\"${aws:username}${*}\"}}",
                                "aws:username", "al", "s3:prefix", "alx", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(
        with_condition(a, "{\"StringEquals\":{\"s3:prefix\":\"a${*}\"}}", "s3:prefix", "a*", NULL),
        ALLOW);
    /* a wildcard inside a variable's value is literal */
    CHECK_EQ_INT(with_condition(a,
                                "{\"StringLike\":{\"s3:prefix\":\"home/${aws:PrincipalTag/p}\"}}",
                                "aws:PrincipalTag/p", "*", "s3:prefix", "home/zz", NULL),
                 IMPLICIT);
    CHECK_EQ_INT(with_condition(a,
                                "{\"StringLike\":{\"s3:prefix\":\"home/${aws:PrincipalTag/p}\"}}",
                                "aws:PrincipalTag/p", "*", "s3:prefix", "home/*", NULL),
                 ALLOW);
    /* variables in ARN and Bool operators */
    CHECK_EQ_INT(
        with_condition(
            a, "{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:sns:*:${aws:PrincipalAccount}:*\"}}",
            "aws:PrincipalAccount", "111122223333", "aws:SourceArn", "arn:aws:sns:r:111122223333:t",
            NULL),
        ALLOW);
    CHECK_EQ_INT(
        with_condition(
            a, "{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:sns:*:${aws:PrincipalAccount}:*\"}}",
            "aws:PrincipalAccount", "111122223333", "aws:SourceArn", "arn:aws:sns:r:444455556666:t",
            NULL),
        IMPLICIT);
    CHECK_EQ_INT(with_condition(a, "{\"Bool\":{\"x:flag\":\"${x:want}\"}}", "x:want", "true",
                                "x:flag", "true", NULL),
                 ALLOW);

    /* variables in the resource part, after wildcard parts, or in the account */
    static const char *const patterns[] = {
        "arn:aws:s3:::bkt/home/${aws:username}", "arn:aws:s3:*:*:bkt/home/${aws:username}",
        "arn:aws:s3:::bkt/h?me/${aws:username}${*}",
        "arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username}"};
    static const char *const subjects[] = {
        "arn:aws:s3:::bkt/home/alice", "arn:aws:s3:::bkt/home/alice",
        "arn:aws:s3:::bkt/home/alice*", "arn:aws:iam::111122223333:user/alice"};
    for (size_t i = 0; i < MOAT_COUNT(patterns); i++) {
        const char *doc = moat_arena_printf(a,
                                            "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":"
                                            "\"Allow\",\"Action\":\"*\",\"Resource\":\"%s\"}}",
                                            patterns[i]);
        r = req_new(a, ALICE, "s3:GetObject", subjects[i]);
        add(r, IAM_PTYPE_IDENTITY, doc);
        CHECK(iam_context_add_principal(&r->ctx, &r->p, 0));
        CHECK_EQ_INT(run(r), ALLOW);
        r->in.resource = moat_slice_cstr(moat_arena_printf(a, "%sx", subjects[i]));
        CHECK_EQ_INT(run(r), IMPLICIT);
        r->in.resource = MOAT_LIT("arn:aws:s3:::bkt");
        CHECK_EQ_INT(run(r), IMPLICIT);
        r->in.resource = MOAT_LIT("*");
        CHECK_EQ_INT(run(r), IMPLICIT);
    }

    /* Version 2008-10-17: the text is literal */
    r = req_new(a, ALICE, "s3:GetObject", "arn:aws:s3:::bkt/${aws:username}");
    add(r, IAM_PTYPE_IDENTITY,
        "{\"Version\":\"2008-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:"
        "GetObject\",\"Resource\":\"arn:aws:s3:::bkt/${aws:username}\"}}");
    CHECK(iam_context_add_principal(&r->ctx, &r->p, 0));
    CHECK_EQ_INT(run(r), ALLOW);
    /* and without Version */
    r = req_new(a, ALICE, "s3:GetObject", "arn:aws:s3:::bkt/alice");
    add(r, IAM_PTYPE_IDENTITY,
        "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:"
        "s3:::bkt/${aws:username}\"}}");
    CHECK(iam_context_add_principal(&r->ctx, &r->p, 0));
    CHECK_EQ_INT(run(r), IMPLICIT);
}

/* ---- actions and resources ------------------------------------------------------------ */

MOAT_TEST(actions_and_resources)
{
    struct req *r = req_new(a, ALICE, "KMS:decrypt", "arn:aws:kms:us-east-1:111122223333:key/k1");
    add(r, IAM_PTYPE_IDENTITY,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"kms:De*\","
        "\"Resource\":\"arn:aws:kms:*:111122223333:key/*\"}}");
    CHECK_EQ_INT(run(r), ALLOW);
    r = req_new(a, ALICE, "kms:Decrypt", "arn:aws:kms:us-east-1:444455556666:key/k1");
    add(r, IAM_PTYPE_IDENTITY,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"kms:*\","
        "\"Resource\":\"arn:aws:kms:*:111122223333:key/*\"}}");
    CHECK_EQ_INT(run(r), IMPLICIT);
    /* wildcards inside components */
    r = req_new(a, ALICE, "kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/k1");
    add(r, IAM_PTYPE_IDENTITY,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"kms:*\","
        "\"Resource\":\"arn:aws:kms:*:*3333:key/k?\"}}");
    CHECK_EQ_INT(run(r), ALLOW);
    r->in.resource = MOAT_LIT("arn:aws:kms:us-east-1:111122223334:key/k1");
    CHECK_EQ_INT(run(r), IMPLICIT);
    /* service wildcard, ?-wildcard in the service */
    r = req_new(a, ALICE, "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_IDENTITY,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s?:Get*\","
        "\"Resource\":\"arn:aws:s3:::bkt/?.txt\"}}");
    CHECK_EQ_INT(run(r), ALLOW);
    /* an action for another service with the same name does not match */
    r = req_new(a, ALICE, "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_IDENTITY,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3x:"
        "GetObject\",\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), IMPLICIT);
    /* actions without a resource: only "*" matches */
    r = req_new(a, ALICE, "kms:CreateKey", "*");
    add(r, IAM_PTYPE_IDENTITY,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"kms:"
        "CreateKey\",\"Resource\":\"arn:aws:kms:*:*:*\"}}");
    CHECK_EQ_INT(run(r), IMPLICIT);
    /* NotAction with Deny spares only the listed actions; NotResource likewise */
    r = req_new(a, ALICE, "iam:CreateUser", "*");
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    add(r, IAM_PTYPE_IDENTITY,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\",\"NotAction\":[\"s3:*\","
        "\"iam:Get*\"],\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), EXPLICIT);
    r = req_new(a, ALICE, "iam:GetUser", "*");
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    add(r, IAM_PTYPE_IDENTITY,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\",\"NotAction\":[\"s3:*\","
        "\"iam:Get*\"],\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), ALLOW);
    r = req_new(a, ALICE, "s3:GetObject", "arn:aws:s3:::public/x");
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    add(r, IAM_PTYPE_IDENTITY,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\",\"Action\":\"s3:*\","
        "\"NotResource\":[\"arn:aws:s3:::public\",\"arn:aws:s3:::public/*\"]}}");
    CHECK_EQ_INT(run(r), ALLOW);
}

/* ---- principals and policy types ------------------------------------------------------ */

MOAT_TEST(not_principal)
{
    const char *deny_but_alice_and_app =
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":"
        "[\"arn:aws:iam::111122223333:user/alice\",\"arn:aws:sts::111122223333:assumed-role/app/"
        "sess1\","
        "\"arn:aws:iam::111122223333:role/"
        "app\",\"111122223333\"]},\"Action\":\"s3:*\",\"Resource\":\"*\"}}";
    struct req *r = req_new(a, ALICE, "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    add(r, IAM_PTYPE_RESOURCE, deny_but_alice_and_app);
    CHECK_EQ_INT(run(r), ALLOW);
    r = req_new(a, SESS, "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    add(r, IAM_PTYPE_RESOURCE, deny_but_alice_and_app);
    CHECK_EQ_INT(run(r), ALLOW);
    r = req_new(a, "arn:aws:sts::111122223333:assumed-role/app/other", "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    add(r, IAM_PTYPE_RESOURCE, deny_but_alice_and_app);
    CHECK_EQ_INT(run(r), EXPLICIT);
    /* a principal with a permissions boundary is never spared */
    r = req_new(a, ALICE, "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    add(r, IAM_PTYPE_BOUNDARY, ALLOW_ALL);
    add(r, IAM_PTYPE_RESOURCE, deny_but_alice_and_app);
    CHECK_EQ_INT(run(r), EXPLICIT);
    CHECK_EQ_INT(r->out.cause, IAM_PTYPE_RESOURCE);
    /* the user alone, without the account: not reliably spared, so denied */
    r = req_new(a, ALICE, "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    add(r, IAM_PTYPE_RESOURCE,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":"
        "\"arn:aws:iam::111122223333:user/alice\"},\"Action\":\"s3:*\",\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), EXPLICIT);
    /* anonymous callers are never spared by an AWS list */
    r = req_new(a, "anonymous", "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_RESOURCE,
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
        "\"Action\":\"s3:GetObject\",\"Resource\":\"*\"},{\"Effect\":\"Deny\",\"NotPrincipal\":{"
        "\"AWS\":\"111122223333\"},\"Action\":\"s3:*\",\"Resource\":\"*\"}]}");
    CHECK_EQ_INT(run(r), EXPLICIT);
}

MOAT_TEST(same_account_resource_grants)
{
    const char *grant_role =
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"arn:aws:iam::111122223333:role/app\"},\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}}";
    /* role ARN grant: no identity policy needed ... */
    struct req *r = req_new(a, SESS, "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_RESOURCE, grant_role);
    CHECK_EQ_INT(run(r), ALLOW);
    /* ... but the session policy still limits it */
    r = req_new(a, SESS, "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_RESOURCE, grant_role);
    add(r, IAM_PTYPE_SESSION,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"ec2:*\","
        "\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_INT(r->out.cause, IAM_PTYPE_SESSION);
    /* role unique id (what IAM stores for a role ARN) */
    r = req_new(a, SESS, "s3:GetObject", OBJ);
    r->p.role_id = MOAT_LIT("AROAEXAMPLEID12345678");
    add(r, IAM_PTYPE_RESOURCE,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"AROAEXAMPLEID12345678\"},\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), ALLOW);
    /* the role recreated: a new id, the old grant no longer matches */
    r = req_new(a, SESS, "s3:GetObject", OBJ);
    r->p.role_id = MOAT_LIT("AROANEWID00000000000");
    add(r, IAM_PTYPE_RESOURCE,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"AROAEXAMPLEID12345678\"},\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), IMPLICIT);
    /* federated user: a grant to its ARN stands alone; without a session policy it has
     * nothing else; a grant to the IAM user who federated is limited by it */
    r = req_new(a, "arn:aws:sts::111122223333:federated-user/fed", "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_INT(r->out.cause, IAM_PTYPE_SESSION);
    add(r, IAM_PTYPE_SESSION, ALLOW_ALL);
    CHECK_EQ_INT(run(r), ALLOW);
    r = req_new(a, "arn:aws:sts::111122223333:federated-user/fed", "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_RESOURCE,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"arn:aws:sts::111122223333:federated-user/"
        "fed\"},\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), ALLOW);
    r = req_new(a, "arn:aws:sts::111122223333:federated-user/fed", "s3:GetObject", OBJ);
    r->p.parent_user_arn = MOAT_LIT(ALICE);
    add(r, IAM_PTYPE_RESOURCE,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"" ALICE "\"},\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), IMPLICIT);
    add(r, IAM_PTYPE_SESSION, ALLOW_ALL);
    CHECK_EQ_INT(run(r), ALLOW);
    /* a resource-policy deny naming the account denies its users */
    r = req_new(a, ALICE, "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    add(r, IAM_PTYPE_RESOURCE,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\",\"Principal\":{\"AWS\":"
        "\"111122223333\"},\"Action\":\"s3:*\",\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), EXPLICIT);
    /* a grant to another principal does not help */
    r = req_new(a, BOB, "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_RESOURCE,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"" ALICE "\"},\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_INT(r->out.cause, IAM_PTYPE_IDENTITY);
}

MOAT_TEST(cross_account)
{
    const char *bob = "arn:aws:iam::444455556666:user/bob";
    struct req *r = req_new(a, bob, "s3:GetObject", OBJ);
    r->in.resource_account = MOAT_LIT("111122223333");
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    add(r, IAM_PTYPE_RESOURCE,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"arn:aws:iam::444455556666:root\"},\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), ALLOW);
    /* the other account's boundary still applies */
    add(r, IAM_PTYPE_BOUNDARY,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"ec2:*\","
        "\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_INT(r->out.cause, IAM_PTYPE_BOUNDARY);
    /* a grant to the user directly still needs its identity policy */
    r = req_new(a, bob, "s3:GetObject", OBJ);
    r->in.resource_account = MOAT_LIT("111122223333");
    add(r, IAM_PTYPE_RESOURCE,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"arn:aws:iam::444455556666:user/bob\"},\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_INT(r->out.cause, IAM_PTYPE_IDENTITY);
    /* identity only: the message names the resource-based policy */
    r = req_new(a, bob, "s3:GetObject", OBJ);
    r->in.resource_account = MOAT_LIT("111122223333");
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_INT(r->out.cause, IAM_PTYPE_RESOURCE);
    /* the root of another account is not the root of this one */
    r = req_new(a, "arn:aws:iam::444455556666:root", "s3:GetObject", OBJ);
    r->in.resource_account = MOAT_LIT("111122223333");
    CHECK_EQ_INT(run(r), IMPLICIT);
    add(r, IAM_PTYPE_RESOURCE,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"444455556666\"},\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), ALLOW);
}

MOAT_TEST(scp_levels)
{
    const char *allow_all_scp = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                                "\"Action\":\"*\",\"Resource\":\"*\"}}";
    const char *allow_s3_scp = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                               "\"Action\":\"s3:*\",\"Resource\":\"*\"}}";
    struct req *r = req_new(a, ALICE, "ec2:RunInstances", "*");
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    add_scp(r, 0, allow_all_scp); /* root */
    add_scp(r, 1, allow_s3_scp);  /* an OU that allows only S3 */
    add_scp(r, 2, allow_all_scp); /* the account */
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_INT(r->out.cause, IAM_PTYPE_SCP);
    CHECK_EQ_INT(r->in.scp_level_count, 3);
    r->in.action = MOAT_LIT("s3:GetObject");
    CHECK_EQ_INT(run(r), ALLOW);
    /* a level with no policy at all allows nothing */
    r = req_new(a, ALICE, "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    add_scp(r, 0, allow_all_scp);
    r->scp_levels = 2;
    CHECK_EQ_INT(run(r), IMPLICIT);
    /* a deny at any level is explicit; root is subject to SCPs */
    r = req_new(a, ROOT, "s3:GetObject", OBJ);
    add_scp(r, 0, allow_all_scp);
    add_scp(r, 1, allow_all_scp);
    add_scp(r, 1,
            "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\",\"Action\":\"s3:*\","
            "\"Resource\":\"*\",\"Condition\":{\"StringNotEquals\":{\"aws:RequestedRegion\":\"eu-"
            "west-1\"}}}}");
    ctx_set(r, "aws:RequestedRegion", "us-east-1");
    CHECK_EQ_INT(run(r), EXPLICIT);
    CHECK_EQ_INT(r->out.cause, IAM_PTYPE_SCP);
    CHECK(r->out.deny_policy == r->scp[1][1]);
    /* service-linked roles are outside SCPs */
    r->p.service_linked_role = true;
    CHECK_EQ_INT(run(r), ALLOW);
    /* SCPs never grant */
    r = req_new(a, ALICE, "s3:GetObject", OBJ);
    add_scp(r, 0, allow_all_scp);
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_INT(r->out.cause, IAM_PTYPE_IDENTITY);
}

MOAT_TEST(rcp_levels)
{
    const char *full = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                       "\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\"}}";
    const char *deny_ext =
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\",\"Principal\":\"*\","
        "\"Action\":\"s3:*\",\"Resource\":\"*\",\"Condition\":{\"StringNotEqualsIfExists\":{\"aws:"
        "PrincipalOrgID\":\"o-abc\"},\"BoolIfExists\":{\"aws:PrincipalIsAWSService\":\"false\"}}}}";
    struct req *r = req_new(a, "anonymous", "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_RESOURCE,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\","
        "\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}}");
    add_rcp(r, 0, full);
    CHECK(iam_context_add_principal(&r->ctx, &r->p, 0));
    CHECK_EQ_INT(run(r), ALLOW);
    add_rcp(r, 1, full);
    add_rcp(r, 1, deny_ext);
    CHECK_EQ_INT(run(r), EXPLICIT);
    CHECK_EQ_INT(r->out.cause, IAM_PTYPE_RCP);
    /* a member of the organization passes */
    r = req_new(a, ALICE, "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    add_rcp(r, 0, full);
    add_rcp(r, 0, deny_ext);
    r->p.org_id = MOAT_LIT("o-abc");
    CHECK(iam_context_add_principal(&r->ctx, &r->p, 0));
    CHECK_EQ_INT(run(r), ALLOW);
    /* a level without RCPFullAWSAccess denies implicitly */
    r->rcp_levels = 2;
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_INT(r->out.cause, IAM_PTYPE_RCP);
}

MOAT_TEST(kms_key_policies)
{
    const char *key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const char *admin_only =
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"arn:aws:iam::111122223333:role/key-admin\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}}";
    const char *default_policy =
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Sid\":\"Enable IAM User "
        "Permissions\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:"
        "root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}}";
    /* without the account statement an administrator's IAM policy grants nothing */
    struct req *r = req_new(a, ALICE, "kms:Decrypt", key);
    r->in.flags = IAM_EVAL_KMS_KEY;
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    add(r, IAM_PTYPE_RESOURCE, admin_only);
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_INT(r->out.cause, IAM_PTYPE_RESOURCE);
    CHECK_EQ_STR(
        message(r),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Decrypt on "
        "resource: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab "
        "because no resource-based policy allows the kms:Decrypt action");
    /* nor the root user's */
    r = req_new(a, ROOT, "kms:Decrypt", key);
    r->in.flags = IAM_EVAL_KMS_KEY;
    add(r, IAM_PTYPE_RESOURCE, admin_only);
    CHECK_EQ_INT(run(r), IMPLICIT);
    /* the default key policy lets root in and turns IAM policies on */
    r = req_new(a, ROOT, "kms:ScheduleKeyDeletion", key);
    r->in.flags = IAM_EVAL_KMS_KEY;
    add(r, IAM_PTYPE_RESOURCE, default_policy);
    CHECK_EQ_INT(run(r), ALLOW);
    /* a key policy naming the role: a session needs no IAM policy, but the boundary binds */
    r = req_new(a, "arn:aws:sts::111122223333:assumed-role/key-admin/s", "kms:Decrypt", key);
    r->in.flags = IAM_EVAL_KMS_KEY;
    add(r, IAM_PTYPE_RESOURCE, admin_only);
    CHECK_EQ_INT(run(r), ALLOW);
    add(r, IAM_PTYPE_BOUNDARY,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"kms:"
        "Encrypt\",\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_INT(r->out.cause, IAM_PTYPE_BOUNDARY);
    /* no key policy at all */
    r = req_new(a, ALICE, "kms:Decrypt", key);
    r->in.flags = IAM_EVAL_KMS_KEY;
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    CHECK_EQ_INT(run(r), IMPLICIT);
    /* cross account: the key policy allows the other account, whose IAM policy allows */
    r = req_new(a, "arn:aws:iam::444455556666:user/bob", "kms:Decrypt", key);
    r->in.flags = IAM_EVAL_KMS_KEY;
    r->in.resource_account = MOAT_LIT("111122223333");
    add(r, IAM_PTYPE_RESOURCE,
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"arn:aws:iam::111122223333:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"},{\"Effect\":"
        "\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::444455556666:root\"},\"Action\":\"kms:"
        "Decrypt\",\"Resource\":\"*\"}]}");
    CHECK_EQ_INT(run(r), IMPLICIT);
    add(r, IAM_PTYPE_IDENTITY,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"kms:"
        "Decrypt\",\"Resource\":\"arn:aws:kms:*:111122223333:key/*\"}}");
    CHECK_EQ_INT(run(r), ALLOW);
}

MOAT_TEST(trust_policies)
{
    const char *role = "arn:aws:iam::111122223333:role/target";
    const char *trust_account =
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"111122223333\"},\"Action\":\"sts:AssumeRole\"}}";
    const char *trust_alice =
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"" ALICE "\"},\"Action\":[\"sts:AssumeRole\",\"sts:TagSession\"]}}";
    const char *may_assume =
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"sts:"
        "AssumeRole\",\"Resource\":\"arn:aws:iam::*:role/target\"}}";
    /* naming the account: the caller's identity policy must allow sts:AssumeRole */
    struct req *r = req_new(a, ALICE, "sts:AssumeRole", role);
    r->in.flags = IAM_EVAL_TRUST_POLICY;
    add(r, IAM_PTYPE_RESOURCE, trust_account);
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_INT(r->out.cause, IAM_PTYPE_IDENTITY);
    add(r, IAM_PTYPE_IDENTITY, may_assume);
    CHECK_EQ_INT(run(r), ALLOW);
    /* naming the user: enough in the same account */
    r = req_new(a, ALICE, "sts:AssumeRole", role);
    r->in.flags = IAM_EVAL_TRUST_POLICY;
    add(r, IAM_PTYPE_RESOURCE, trust_alice);
    CHECK_EQ_INT(run(r), ALLOW);
    /* another user of the account */
    r = req_new(a, BOB, "sts:AssumeRole", role);
    r->in.flags = IAM_EVAL_TRUST_POLICY;
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    add(r, IAM_PTYPE_RESOURCE, trust_alice);
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_STR(message(r),
                 "User: arn:aws:iam::111122223333:user/bob is not authorized to perform: "
                 "sts:AssumeRole on resource: arn:aws:iam::111122223333:role/target");
    /* cross account: both the trust policy and the caller's policy */
    r = req_new(a, "arn:aws:iam::444455556666:user/carol", "sts:AssumeRole", role);
    r->in.flags = IAM_EVAL_TRUST_POLICY;
    r->in.resource_account = MOAT_LIT("111122223333");
    add(r, IAM_PTYPE_RESOURCE,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"arn:aws:iam::444455556666:user/"
        "carol\"},\"Action\":\"sts:AssumeRole\",\"Condition\":{\"StringEquals\":{\"sts:"
        "ExternalId\":\"x-1\"}}}}");
    add(r, IAM_PTYPE_IDENTITY, may_assume);
    CHECK_EQ_INT(run(r), IMPLICIT);
    ctx_set(r, "sts:ExternalId", "x-1");
    CHECK_EQ_INT(run(r), ALLOW);
    /* a service principal (e.g. Lambda assuming its execution role) */
    r = req_new(a, "service:lambda.amazonaws.com", "sts:AssumeRole", role);
    r->in.flags = IAM_EVAL_TRUST_POLICY;
    add(r, IAM_PTYPE_RESOURCE,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{"
        "\"Service\":[\"lambda.amazonaws.com\"]},\"Action\":\"sts:AssumeRole\"}}");
    CHECK_EQ_INT(run(r), ALLOW);
    r->p.arn = MOAT_LIT("ec2.amazonaws.com");
    CHECK_EQ_INT(run(r), IMPLICIT);
    /* web identity: the federated provider */
    r = req_new(a, "anonymous", "sts:AssumeRoleWithWebIdentity", role);
    r->in.flags = IAM_EVAL_TRUST_POLICY;
    r->p.federated_provider = MOAT_LIT("cognito-identity.amazonaws.com");
    add(r, IAM_PTYPE_RESOURCE,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{"
        "\"Federated\":\"cognito-identity.amazonaws.com\"},\"Action\":\"sts:"
        "AssumeRoleWithWebIdentity\"}}");
    CHECK_EQ_INT(run(r), ALLOW);
}

/* ---- messages ------------------------------------------------------------------------- */

MOAT_TEST(messages)
{
    const char *deny_s3 = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\","
                          "\"Action\":\"iam:*\",\"Resource\":\"*\"}}";
    const char *res = "arn:aws:iam::000000000000:user/";
    struct req *r = req_new(a, "arn:aws:iam::000000000000:user/alice", "iam:ListUsers", res);
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_STR(message(r), "User: arn:aws:iam::000000000000:user/alice is not authorized to "
                             "perform: iam:ListUsers on resource: arn:aws:iam::000000000000:user/ "
                             "because no identity-based policy allows the iam:ListUsers action");
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    CHECK_EQ_INT(run(r), ALLOW);
    CHECK_EQ_STR(message(r), "");
    add(r, IAM_PTYPE_BOUNDARY,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
        "\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_STR(message(r), "User: arn:aws:iam::000000000000:user/alice is not authorized to "
                             "perform: iam:ListUsers on resource: arn:aws:iam::000000000000:user/ "
                             "because no permissions boundary allows the iam:ListUsers action");
    add(r, IAM_PTYPE_BOUNDARY, deny_s3);
    CHECK_EQ_INT(run(r), EXPLICIT);
    CHECK_EQ_STR(message(r), "User: arn:aws:iam::000000000000:user/alice is not authorized to "
                             "perform: iam:ListUsers on resource: arn:aws:iam::000000000000:user/ "
                             "with an explicit deny in a permissions boundary");
    add(r, IAM_PTYPE_IDENTITY, deny_s3);
    CHECK_EQ_INT(run(r), EXPLICIT);
    CHECK_EQ_STR(message(r), "User: arn:aws:iam::000000000000:user/alice is not authorized to "
                             "perform: iam:ListUsers on resource: arn:aws:iam::000000000000:user/ "
                             "with an explicit deny in an identity-based policy");
    add_scp(r, 0,
            "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
            "\"Resource\":\"*\"}}");
    add_scp(r, 0, deny_s3);
    CHECK_EQ_INT(run(r), EXPLICIT);
    CHECK_EQ_STR(message(r), "User: arn:aws:iam::000000000000:user/alice is not authorized to "
                             "perform: iam:ListUsers on resource: arn:aws:iam::000000000000:user/ "
                             "with an explicit deny in a service control policy");

    r = req_new(a, "arn:aws:iam::000000000000:user/alice", "ec2:DescribeInstances", "*");
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    add_scp(r, 0,
            "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
            "\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_STR(message(r), "User: arn:aws:iam::000000000000:user/alice is not authorized to "
                             "perform: ec2:DescribeInstances because no service control policy "
                             "allows the ec2:DescribeInstances action");

    r = req_new(a, "arn:aws:sts::000000000000:assumed-role/app/s1", "secretsmanager:GetSecretValue",
                "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf");
    add(r, IAM_PTYPE_IDENTITY, ALLOW_ALL);
    add(r, IAM_PTYPE_SESSION,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
        "\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_STR(message(r),
                 "User: arn:aws:sts::000000000000:assumed-role/app/s1 is not authorized to "
                 "perform: secretsmanager:GetSecretValue on resource: "
                 "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf because no "
                 "session policy allows the secretsmanager:GetSecretValue action");
    add(r, IAM_PTYPE_SESSION,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\",\"Action\":"
        "\"secretsmanager:*\",\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), EXPLICIT);
    CHECK_EQ_STR(message(r), "User: arn:aws:sts::000000000000:assumed-role/app/s1 is not "
                             "authorized to perform: secretsmanager:GetSecretValue on resource: "
                             "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf with "
                             "an explicit deny in a session policy");
    add(r, IAM_PTYPE_RESOURCE,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\",\"Principal\":\"*\","
        "\"Action\":\"secretsmanager:*\",\"Resource\":\"*\"}}");
    CHECK_EQ_INT(run(r), EXPLICIT);
    CHECK_EQ_STR(message(r), "User: arn:aws:sts::000000000000:assumed-role/app/s1 is not "
                             "authorized to perform: secretsmanager:GetSecretValue on resource: "
                             "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf with "
                             "an explicit deny in a resource-based policy");

    r = req_new(a, "anonymous", "s3:GetObject", OBJ);
    CHECK_EQ_INT(run(r), IMPLICIT);
    CHECK_EQ_STR(
        message(r),
        "User: anonymous is not authorized to perform: s3:GetObject on resource: "
        "arn:aws:s3:::bkt/a.txt because no resource-based policy allows the s3:GetObject action");
    CHECK_EQ_STR(iam_message_policy_type(IAM_PTYPE_RCP), "resource control policy");
}

/* ---- trace (policy simulator) --------------------------------------------------------- */

MOAT_TEST(trace)
{
    struct req *r = req_new(a, ALICE, "s3:GetObject", OBJ);
    add(r, IAM_PTYPE_IDENTITY,
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Sid\": \"One\", \"Effect\": "
        "\"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"},\n"
        "    {\"Sid\": \"Two\", \"Effect\": \"Allow\", \"Action\": \"s3:Get*\", \"Resource\": "
        "\"*\",\n"
        "     \"Condition\": {\"StringEquals\": {\"aws:PrincipalTag/team\": \"x\"}, "
        "\"IpAddressIfExists\": {\"aws:SourceIp\": \"10.0.0.0/8\"}}},\n"
        "    {\"Sid\": \"Three\", \"Effect\": \"Allow\", \"Action\": \"s3:Get*\", \"Resource\": "
        "\"*\"}\n  ]\n}");
    struct iam_matched_statement m[1];
    struct moat_slice missing[4];
    struct iam_eval_trace t = {m, 1, 0, missing, 4, 0};
    CHECK_EQ_INT(run_traced(r, &t), ALLOW);
    CHECK_EQ_INT(t.matched_count, 2);
    CHECK_EQ_INT(m[0].statement_index, 0);
    CHECK_EQ_INT(m[0].type, IAM_PTYPE_IDENTITY);
    CHECK_EQ_INT(t.missing_count, 1);
    CHECK_SLICE(missing[0], "aws:PrincipalTag/team");
    struct iam_statement_info info;
    CHECK(iam_policy_statement_info(r->ident[0], 1, &info));
    CHECK_SLICE(info.sid, "Two");
    CHECK_EQ_INT(info.start.line, 5);
    CHECK_EQ_INT(info.start.column, 5);
    CHECK_EQ_INT(info.end.line, 6);
    CHECK_EQ_INT(info.end.column, 120);
    CHECK(!iam_policy_statement_info(r->ident[0], 3, &info));
    CHECK_EQ_STR(iam_policy_type_name(m[0].type), "IAM Policy");
}

/* ---- context -------------------------------------------------------------------------- */

MOAT_TEST(context_keys)
{
    struct iam_context *ctx = moat_arena_alloc(a, sizeof(*ctx));
    iam_context_init(ctx, NULL);
    CHECK(iam_context_set_cstr(ctx, "aws:SourceIp", "10.0.0.1"));
    CHECK(iam_context_set_cstr(ctx, "AWS:SOURCEIP", "10.0.0.2"));
    CHECK_EQ_INT(ctx->count, 1);
    struct moat_slice v;
    CHECK(iam_context_get_one(ctx, MOAT_LIT("aws:sourceip"), &v));
    CHECK_SLICE(v, "10.0.0.2");
    CHECK(
        iam_context_set_split(ctx, MOAT_LIT("aws:RequestTag/"), MOAT_LIT("Env"), MOAT_LIT("prod")));
    CHECK(iam_context_get_one(ctx, MOAT_LIT("AWS:requesttag/env"), &v));
    CHECK_SLICE(v, "prod");
    CHECK(!iam_context_get(ctx, MOAT_LIT("aws:RequestTag/En")));
    CHECK(iam_context_remove(ctx, MOAT_LIT("aws:sourceIP")));
    CHECK(!iam_context_get(ctx, MOAT_LIT("aws:SourceIp")));
    /* without an arena the table is bounded */
    char keys[IAM_CONTEXT_INLINE + 1][16];
    size_t ok = 0;
    for (size_t i = 0; i <= IAM_CONTEXT_INLINE; i++) {
        snprintf(keys[i], sizeof(keys[i]), "x:k%zu", i);
        ok += iam_context_set_cstr(ctx, keys[i], "v");
    }
    CHECK_EQ_INT(ok, IAM_CONTEXT_INLINE - 1);
    /* with one it grows, and single values survive the move */
    iam_context_init(ctx, a);
    for (size_t i = 0; i <= IAM_CONTEXT_INLINE; i++)
        CHECK(iam_context_set_cstr(ctx, keys[i], keys[i]));
    CHECK(iam_context_get_one(ctx, MOAT_LIT("x:k3"), &v));
    CHECK_SLICE(v, "x:k3");
    CHECK(iam_context_get_one(ctx, moat_slice_cstr(keys[IAM_CONTEXT_INLINE]), &v));
    /* past the hash index's capacity lookups still work, and removal keeps the rest */
    iam_context_init(ctx, a);
    for (size_t i = 0; i < 300; i++)
        CHECK(iam_context_set(ctx, moat_slice_cstr(moat_arena_printf(a, "x:K%zu", i)),
                              moat_slice_cstr(moat_arena_printf(a, "%zu", i))));
    CHECK(!ctx->indexed);
    CHECK(iam_context_get_one(ctx, MOAT_LIT("X:k299"), &v));
    CHECK_SLICE(v, "299");
    CHECK(iam_context_remove(ctx, MOAT_LIT("x:k0")));
    CHECK(iam_context_get_one(ctx, MOAT_LIT("x:k150"), &v));
    CHECK_SLICE(v, "150");
    CHECK(!iam_context_get(ctx, MOAT_LIT("x:k0")));
    iam_context_init(ctx, a);
    for (size_t i = 0; i < 100; i++)
        CHECK(iam_context_set(ctx, moat_slice_cstr(moat_arena_printf(a, "y:k%zu", i)),
                              MOAT_LIT("v")));
    CHECK(ctx->indexed);
    CHECK(iam_context_remove(ctx, MOAT_LIT("y:k10")));
    for (size_t i = 0; i < 100; i++)
        CHECK((iam_context_get(ctx, moat_slice_cstr(moat_arena_printf(a, "Y:K%zu", i))) != NULL) ==
              (i != 10));
}

MOAT_TEST(context_global_keys)
{
    struct iam_context *ctx = moat_arena_alloc(a, sizeof(*ctx));
    struct iam_principal p;
    struct moat_slice v;
    /* long-term keys: no MFA keys at all */
    iam_context_init(ctx, a);
    CHECK(iam_principal_from_arn(a, MOAT_LIT(ALICE), &p));
    p.principal_id = MOAT_LIT("AIDAEXAMPLE");
    struct moat_slice via[] = {MOAT_LIT("cloudformation.amazonaws.com")};
    struct iam_request_facts f = {.now_ms = 1704067200123,
                                  .source_ip = MOAT_LIT("192.0.2.1"),
                                  .secure_transport = true,
                                  .requested_region = MOAT_LIT("us-east-1"),
                                  .via_aws_service = true,
                                  .called_via = via,
                                  .called_via_count = 1};
    CHECK(iam_context_fill_global(ctx, &p, &f));
    CHECK(!iam_context_get(ctx, MOAT_LIT("aws:MultiFactorAuthPresent")));
    CHECK(!iam_context_get(ctx, MOAT_LIT("aws:MultiFactorAuthAge")));
    CHECK(iam_context_get_one(ctx, MOAT_LIT("aws:CurrentTime"), &v));
    CHECK_SLICE(v, "2024-01-01T00:00:00Z");
    CHECK(iam_context_get_one(ctx, MOAT_LIT("aws:EpochTime"), &v));
    CHECK_SLICE(v, "1704067200");
    CHECK(iam_context_get_one(ctx, MOAT_LIT("aws:username"), &v));
    CHECK_SLICE(v, "alice");
    CHECK(iam_context_get_one(ctx, MOAT_LIT("aws:userid"), &v));
    CHECK_SLICE(v, "AIDAEXAMPLE");
    CHECK(iam_context_get_one(ctx, MOAT_LIT("aws:PrincipalType"), &v));
    CHECK_SLICE(v, "User");
    CHECK(iam_context_get_one(ctx, MOAT_LIT("aws:SecureTransport"), &v));
    CHECK_SLICE(v, "true");
    CHECK(iam_context_get_one(ctx, MOAT_LIT("aws:CalledViaFirst"), &v));
    CHECK_SLICE(v, "cloudformation.amazonaws.com");
    CHECK(iam_context_get(ctx, MOAT_LIT("aws:CalledVia"))->multi);
    CHECK(!iam_context_get(ctx, MOAT_LIT("aws:TokenIssueTime")));

    /* a role session without MFA: present and false, no age, no username */
    iam_context_init(ctx, a);
    CHECK(iam_principal_from_arn(a, MOAT_LIT(SESS), &p));
    p.issued_at_ms = 1704067000000;
    CHECK(iam_context_add_principal(ctx, &p, f.now_ms));
    CHECK(iam_context_get_one(ctx, MOAT_LIT("aws:MultiFactorAuthPresent"), &v));
    CHECK_SLICE(v, "false");
    CHECK(!iam_context_get(ctx, MOAT_LIT("aws:MultiFactorAuthAge")));
    CHECK(!iam_context_get(ctx, MOAT_LIT("aws:username")));
    CHECK(iam_context_get_one(ctx, MOAT_LIT("aws:PrincipalArn"), &v));
    CHECK_SLICE(v, "arn:aws:iam::111122223333:role/app");
    CHECK(iam_context_get_one(ctx, MOAT_LIT("aws:TokenIssueTime"), &v));
    CHECK_SLICE(v, "2023-12-31T23:56:40Z");
    /* with MFA: the age in seconds */
    iam_context_init(ctx, a);
    p.mfa_authenticated = true;
    p.mfa_auth_time_ms = f.now_ms - 300500;
    CHECK(iam_context_add_principal(ctx, &p, f.now_ms));
    CHECK(iam_context_get_one(ctx, MOAT_LIT("aws:MultiFactorAuthPresent"), &v));
    CHECK_SLICE(v, "true");
    CHECK(iam_context_get_one(ctx, MOAT_LIT("aws:MultiFactorAuthAge"), &v));
    CHECK_SLICE(v, "300");
    /* anonymous and service principals */
    iam_context_init(ctx, a);
    CHECK(iam_principal_from_arn(a, MOAT_LIT("anonymous"), &p));
    CHECK(iam_context_add_principal(ctx, &p, 0));
    CHECK(iam_context_get_one(ctx, MOAT_LIT("aws:userid"), &v));
    CHECK_SLICE(v, "anonymous");
    CHECK(!iam_context_get(ctx, MOAT_LIT("aws:PrincipalArn")));
    iam_context_init(ctx, a);
    CHECK(iam_principal_from_arn(a, MOAT_LIT("service:cloudtrail.amazonaws.com"), &p));
    CHECK(iam_context_add_principal(ctx, &p, 0));
    CHECK(iam_context_get_one(ctx, MOAT_LIT("aws:PrincipalIsAWSService"), &v));
    CHECK_SLICE(v, "true");
    CHECK(iam_context_get_one(ctx, MOAT_LIT("aws:PrincipalServiceName"), &v));
    CHECK_SLICE(v, "cloudtrail.amazonaws.com");
}

MOAT_TEST(principal_from_arn)
{
    struct iam_principal p;
    CHECK(iam_principal_from_arn(a, MOAT_LIT("arn:aws:iam::111122223333:user/division/alice"), &p));
    CHECK_EQ_INT(p.type, IAM_PRINCIPAL_USER);
    CHECK_SLICE(p.name, "alice");
    CHECK(iam_principal_from_arn(a, MOAT_LIT("arn:aws:sts::111122223333:federated-user/f"), &p));
    CHECK_SLICE(p.principal_id, "111122223333:f");
    CHECK(iam_principal_from_arn(a, MOAT_LIT(ROOT), &p));
    CHECK_SLICE(p.principal_id, "111122223333");
    CHECK(!iam_principal_from_arn(a, MOAT_LIT("arn:aws:iam::111122223333:group/g"), &p));
    CHECK(!iam_principal_from_arn(a, MOAT_LIT("arn:aws:iam::1111:user/x"), &p));
    CHECK(!iam_principal_from_arn(a, MOAT_LIT("arn:aws:sts::111122223333:assumed-role/r"), &p));
    CHECK(!iam_principal_from_arn(a, MOAT_LIT("arn:aws:sts::111122223333:assumed-role/r/s/t"), &p));
    CHECK(!iam_principal_from_arn(a, MOAT_LIT("user/alice"), &p));
    CHECK(!iam_principal_from_arn(a, MOAT_LIT("service:"), &p));
}

MOAT_TEST_MAIN(MOAT_CASE(vectors_cases), MOAT_CASE(string_operators), MOAT_CASE(numeric_operators),
               MOAT_CASE(date_operators), MOAT_CASE(bool_binary_null), MOAT_CASE(ip_operators),
               MOAT_CASE(arn_operators), MOAT_CASE(if_exists_and_sets), MOAT_CASE(variables),
               MOAT_CASE(actions_and_resources), MOAT_CASE(not_principal),
               MOAT_CASE(same_account_resource_grants), MOAT_CASE(cross_account),
               MOAT_CASE(scp_levels), MOAT_CASE(rcp_levels), MOAT_CASE(kms_key_policies),
               MOAT_CASE(trust_policies), MOAT_CASE(messages), MOAT_CASE(trace),
               MOAT_CASE(context_keys), MOAT_CASE(context_global_keys),
               MOAT_CASE(principal_from_arn))

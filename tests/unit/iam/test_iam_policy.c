/* test_iam_policy.c: policy validation and compilation: every invalid policy of the shared
 * vectors refused for its kind, every policy of cases.json accepted, and the grammar rules. */
#include "harness.h"

#include "core/json.h"
#include "iam/iam_compiled.h"
#include "iam/iam_policy.h"

static enum iam_policy_kind kind_named(struct moat_slice k)
{
    if (moat_slice_eq_cstr(k, "resource"))
        return IAM_POLICY_RESOURCE;
    if (moat_slice_eq_cstr(k, "trust"))
        return IAM_POLICY_TRUST;
    if (moat_slice_eq_cstr(k, "scp"))
        return IAM_POLICY_SCP;
    if (moat_slice_eq_cstr(k, "rcp"))
        return IAM_POLICY_RCP;
    if (moat_slice_eq_cstr(k, "session"))
        return IAM_POLICY_SESSION;
    return IAM_POLICY_IDENTITY;
}

/* Compiles and returns the status; the message goes to *msg (arena copy). */
static enum iam_policy_status try_compile(struct moat_arena *a, enum iam_policy_kind kind,
                                          struct moat_slice text, const char **msg)
{
    struct iam_policy *p;
    struct iam_policy_diag d;
    enum iam_policy_status st = iam_policy_compile(kind, text, 0, &p, &d);
    if (msg)
        *msg = moat_arena_strdup(a, d.message);
    if (st == IAM_POLICY_OK) {
        if (!p)
            moat_test_failures++;
        iam_policy_unref(p);
    } else if (p || !d.message[0]) {
        moat_test_failures++;
    }
    return st;
}

static enum iam_policy_status status_of(struct moat_arena *a, enum iam_policy_kind kind,
                                        const char *text, const char **msg)
{
    return try_compile(a, kind, moat_slice_cstr(text), msg);
}

#define OK IAM_POLICY_OK
#define BAD IAM_POLICY_MALFORMED
#define BIG IAM_POLICY_LIMIT_EXCEEDED

MOAT_TEST(vectors_invalid_policies)
{
    struct moat_slice text =
        moat_test_read_file(a, moat_test_shared_path("vectors/iam-eval/invalid-policies.json"));
    CHECK(text.len > 0);
    struct moat_value *doc;
    CHECK(moat_json_parse(a, text, 0, &doc, NULL));
    const struct moat_value *list = moat_map_get(doc, "policies");
    CHECK(list && list->count == 43);
    int refused = 0;
    for (uint32_t i = 0; list && i < list->count; i++) {
        const struct moat_value *e = list->u.items[i];
        struct moat_slice name = moat_map_str(e, "name");
        const char *msg;
        enum iam_policy_status st =
            try_compile(a, kind_named(moat_map_str(e, "kind")), moat_map_str(e, "policy"), &msg);
        bool oversize = moat_slice_starts_with(name, MOAT_LIT("oversize")) ||
                        moat_slice_ends_with(name, MOAT_LIT("-oversize")) ||
                        moat_slice_starts_with(name, MOAT_LIT("scp-oversize"));
        enum iam_policy_status want = oversize ? BIG : BAD;
        if (st == want) {
            refused++;
        } else {
            fprintf(stderr, "  %.*s: status %d (%s), expected %d\n", MOAT_FMT(name), st, msg, want);
            moat_test_failures++;
        }
        /* the same document is fine as another kind where the rule is kind-specific */
        if (moat_slice_eq_cstr(name, "principal-in-identity-policy"))
            CHECK_EQ_INT(try_compile(a, IAM_POLICY_RESOURCE, moat_map_str(e, "policy"), NULL), OK);
        if (moat_slice_eq_cstr(name, "resource-policy-missing-principal"))
            CHECK_EQ_INT(try_compile(a, IAM_POLICY_IDENTITY, moat_map_str(e, "policy"), NULL), OK);
        if (moat_slice_eq_cstr(name, "trust-policy-with-resource"))
            CHECK_EQ_INT(try_compile(a, IAM_POLICY_RESOURCE, moat_map_str(e, "policy"), NULL), OK);
        if (moat_slice_eq_cstr(name, "scp-oversize-by-whitespace"))
            CHECK_EQ_INT(try_compile(a, IAM_POLICY_IDENTITY, moat_map_str(e, "policy"), NULL), OK);
        if (moat_slice_eq_cstr(name, "sid-invalid-characters"))
            CHECK_EQ_INT(
                try_compile(a, IAM_POLICY_RESOURCE,
                            moat_slice_cstr(moat_arena_printf(
                                a, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":"
                                   "\"Allow S3-read\",\"Effect\":\"Allow\",\"Principal\":"
                                   "\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}")),
                            NULL),
                OK);
    }
    CHECK_EQ_INT(refused, 43);
}

MOAT_TEST(vectors_case_policies_accepted)
{
    struct moat_slice text =
        moat_test_read_file(a, moat_test_shared_path("vectors/iam-eval/cases.json"));
    struct moat_value *doc;
    CHECK(moat_json_parse(a, text, 0, &doc, NULL));
    const struct moat_value *cases = moat_map_get(doc, "cases");
    int compiled = 0;
    static const char *const types[] = {"identity", "resource", "boundary",
                                        "scp",      "session",  "rcp"};
    for (uint32_t i = 0; cases && i < cases->count; i++) {
        const struct moat_value *pol = moat_map_get(cases->u.items[i], "policies");
        for (size_t t = 0; t < MOAT_COUNT(types); t++) {
            const struct moat_value *list = moat_map_get(pol, types[t]);
            for (uint32_t j = 0; list && j < list->count; j++) {
                struct moat_buf b;
                moat_buf_init(&b, a, 256);
                moat_json_write(&b, list->u.items[j]);
                const char *msg;
                enum iam_policy_kind kind = !strcmp(types[t], "boundary")
                                                ? IAM_POLICY_IDENTITY
                                                : kind_named(moat_slice_cstr(types[t]));
                if (try_compile(a, kind, moat_buf_slice(&b), &msg) == OK) {
                    compiled++;
                } else {
                    fprintf(stderr, "  case %.*s %s policy refused: %s\n",
                            MOAT_FMT(moat_map_str(cases->u.items[i], "name")), types[t], msg);
                    moat_test_failures++;
                }
            }
        }
    }
    CHECK(compiled > 100);
}

MOAT_TEST(messages)
{
    const char *m;
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                           "\"Action\":\"s3:GetObject\",\"Resource\":\"*\",}]}",
                           &m),
                 BAD);
    CHECK_EQ_STR(m, "Syntax errors in policy.");
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                           "\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
                           &m),
                 BAD);
    CHECK_EQ_STR(m, "Policy document should not specify a principal.");
    CHECK_EQ_INT(
        status_of(
            a, IAM_POLICY_IDENTITY,
            "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Resource\":\"*\"}}",
            &m),
        BAD);
    CHECK_EQ_STR(m, "Policy statement must contain actions.");
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                           "\"Action\":[],\"Resource\":\"*\"}}",
                           &m),
                 BAD);
    CHECK_EQ_STR(m, "Policy statement must contain actions.");
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                           "\"Action\":\"s3:*\",\"Resource\":[]}}",
                           &m),
                 BAD);
    CHECK_EQ_STR(m, "Policy statement must contain resources.");
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                           "\"Action\":\"GetObject\",\"Resource\":\"*\"}}",
                           &m),
                 BAD);
    CHECK_EQ_STR(m, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
    CHECK_EQ_INT(
        status_of(a, IAM_POLICY_IDENTITY,
                  "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:"
                  "*\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"SourceIp\":\"x\"}}}}",
                  &m),
        BAD);
    CHECK_EQ_STR(m, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"A\",\"Effect\":"
                           "\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"},{\"Sid\":\"A\","
                           "\"Effect\":\"Deny\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}",
                           &m),
                 BAD);
    CHECK_EQ_STR(m, "Statement IDs (SID) in a single policy must be unique.");
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                           "\"Action\":\"s3:*\",\"Resource\":\"*\",\"Resources\":\"*\"}}",
                           &m),
                 BAD);
    CHECK_EQ_STR(m, "Unknown field Resources");
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                           "\"Action\":\"s3:*\",\"Resource\":\"bkt\"}}",
                           &m),
                 BAD);
    CHECK_EQ_STR(m, "Resource bkt must be in ARN format or \"*\".");
    CHECK_EQ_INT(
        status_of(a, IAM_POLICY_RESOURCE,
                  "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{"
                  "\"AWS\":\"alice\"},\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
                  &m),
        BAD);
    CHECK_EQ_STR(m, "Invalid principal in policy");
    CHECK_EQ_INT(status_of(a, IAM_POLICY_RESOURCE,
                           "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                           "\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
                           &m),
                 BAD);
    CHECK_EQ_STR(m, "Missing required field Principal");
    CHECK_EQ_INT(status_of(a, IAM_POLICY_TRUST,
                           "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                           "\"Principal\":\"*\",\"Action\":\"sts:AssumeRole\",\"Resource\":\"*\"}}",
                           &m),
                 BAD);
    CHECK_EQ_STR(m, "Has prohibited field Resource");
    CHECK_EQ_INT(
        status_of(a, IAM_POLICY_IDENTITY,
                  "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:"
                  "*\",\"Resource\":\"*\",\"Condition\":{\"StringEqualz\":{\"aws:x\":\"y\"}}}}",
                  &m),
        BAD);
    CHECK_EQ_STR(m, "Invalid Condition type : StringEqualz");
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Version\":\"2012-10-18\",\"Statement\":{\"Effect\":\"Allow\","
                           "\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
                           &m),
                 BAD);
    CHECK_EQ_STR(m, "The policy failed legacy parsing");
}

MOAT_TEST(grammar)
{
    /* a single statement object and string-or-array values */
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\","
                           "\"NotAction\":[\"iam:*\"],\"NotResource\":\"arn:aws:s3:::x\"}}",
                           NULL),
                 OK);
    /* no Version: 2008-10-17 is assumed */
    CHECK_EQ_INT(
        status_of(a, IAM_POLICY_IDENTITY,
                  "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}",
                  NULL),
        OK);
    /* wrong types */
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY, "[]", NULL), BAD);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY, "", NULL), BAD);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Version\":2012,\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
                           "\"Resource\":\"*\"}}",
                           NULL),
                 BAD);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY, "{\"Statement\":\"x\"}", NULL), BAD);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY, "{\"Statement\":[1]}", NULL), BAD);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":1,\"Resource\":\"*\"}}",
                           NULL),
                 BAD);
    CHECK_EQ_INT(
        status_of(
            a, IAM_POLICY_IDENTITY,
            "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":[\"s3:*\",null],\"Resource\":\"*\"}}",
            NULL),
        BAD);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Statement\":{\"Effect\":true,\"Action\":\"*\",\"Resource\":\"*\"}}",
                           NULL),
                 BAD);
    CHECK_EQ_INT(
        status_of(
            a, IAM_POLICY_IDENTITY,
            "{\"Statement\":{\"Sid\":1,\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}",
            NULL),
        BAD);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*"
                           "\",\"Condition\":{\"StringEquals\":{\"aws:x\":null}}}}",
                           NULL),
                 BAD);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*"
                           "\",\"Condition\":{\"StringEquals\":{\"aws:x\":{\"a\":1}}}}}",
                           NULL),
                 BAD);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*"
                           "\",\"Condition\":{\"StringEquals\":\"aws:x\"}}}",
                           NULL),
                 BAD);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*"
                           "\"},\"Extra\":1}",
                           NULL),
                 BAD);
    /* Id: not in identity policies, fine in resource policies */
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Id\":\"x\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
                           "\"Resource\":\"*\"}}",
                           NULL),
                 BAD);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_RESOURCE,
                           "{\"Id\":\"key-default-1\",\"Statement\":{\"Effect\":\"Allow\","
                           "\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\"}}",
                           NULL),
                 OK);
    /* operators: set prefixes, IfExists, case */
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*"
                           "\",\"Condition\":{\"ForAllValues:StringLikeIfExists\":{\"aws:TagKeys\":"
                           "[\"a*\"]},\"forAnyValue:stringequals\":{\"aws:TagKeys\":\"b\"}}}}",
                           NULL),
                 OK);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*"
                           "\",\"Condition\":{\"ForAnyValue:Null\":{\"aws:TagKeys\":\"true\"}}}}",
                           NULL),
                 BAD);
    CHECK_EQ_INT(
        status_of(a, IAM_POLICY_IDENTITY,
                  "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\","
                  "\"Condition\":{\"ForSomeValues:StringEquals\":{\"aws:TagKeys\":\"b\"}}}}",
                  NULL),
        BAD);
    /* resource ARNs */
    CHECK_EQ_INT(
        status_of(a, IAM_POLICY_IDENTITY,
                  "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":[\"arn:aws:"
                  "iam::aws:policy/ReadOnlyAccess\",\"arn:aws:s3:::b\",\"arn:*:iam::*:role/"
                  "*\",\"arn:aws:iam::${aws:PrincipalAccount}:user/"
                  "x\",\"arn:aws:iam::11112222333?:root\"]}}",
                  NULL),
        OK);
    CHECK_EQ_INT(
        status_of(
            a, IAM_POLICY_IDENTITY,
            "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"arn::s3:::b\"}}",
            NULL),
        BAD);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":"
                           "\"arn:aws:iam::abcdefabcdef:user/x\"}}",
                           NULL),
                 BAD);
}

MOAT_TEST(principals)
{
#define fmt                                                                                        \
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":%s,\"Action\":" \
    "\"s3:*\",\"Resource\":\"*\"}}"
    static const char *const good[] = {
        "\"*\"",
        "{\"AWS\":\"*\"}",
        "{\"AWS\":[\"111122223333\",\"arn:aws:iam::111122223333:root\"]}",
        "{\"AWS\":\"arn:aws:iam::111122223333:user/path/alice\"}",
        "{\"AWS\":\"arn:aws:iam::111122223333:role/r\"}",
        "{\"AWS\":\"arn:aws:sts::111122223333:assumed-role/r/s\"}",
        "{\"AWS\":\"arn:aws:sts::111122223333:federated-user/f\"}",
        "{\"AWS\":\"arn:aws-cn:iam::111122223333:root\"}",
        "{\"AWS\":\"AIDAJQABLZS4A3QDU576Q\"}",
        "{\"Service\":[\"cloudtrail.amazonaws.com\",\"logs.us-east-1.amazonaws.com\"]}",
        "{\"Federated\":\"arn:aws:iam::111122223333:saml-provider/idp\"}",
        "{\"CanonicalUser\":\"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be\"}",
        "{\"AWS\":\"111122223333\",\"Service\":\"s3.amazonaws.com\"}",
    };
    static const char *const bad[] = {
        "\"arn:aws:iam::111122223333:root\"",
        "[]",
        "{}",
        "{\"AWS\":[]}",
        "{\"AWS\":1}",
        "{\"AWS\":\"arn:aws:iam::111122223333:user/*\"}",
        "{\"AWS\":\"arn:aws:iam::*:root\"}",
        "{\"AWS\":\"1111\"}",
        "{\"AWS\":\"arn:aws:iam::111122223333:group/g\"}",
        "{\"AWS\":\"arn:aws:s3:::bkt\"}",
        "{\"AWS\":\"arn:aws:sts::111122223333:assumed-role/r\"}",
        "{\"AWS\":\"arn:aws:iam:us-east-1:111122223333:root\"}",
        "{\"Service\":\"*\"}",
        "{\"Service\":\"\"}",
        "{\"IAM\":\"x\"}",
        "{\"aws\":\"*\"}",
    };
    for (size_t i = 0; i < MOAT_COUNT(good); i++) {
        const char *m;
        if (status_of(a, IAM_POLICY_RESOURCE, moat_arena_printf(a, fmt, good[i]), &m) != OK) {
            fprintf(stderr, "  refused principal %s: %s\n", good[i], m);
            moat_test_failures++;
        }
    }
    for (size_t i = 0; i < MOAT_COUNT(bad); i++) {
        if (status_of(a, IAM_POLICY_RESOURCE, moat_arena_printf(a, fmt, bad[i]), NULL) == OK) {
            fprintf(stderr, "  accepted principal %s\n", bad[i]);
            moat_test_failures++;
        }
    }
    /* accounts are normalised to the root ARN */
    struct iam_policy *p;
    struct iam_policy_diag d;
    CHECK_EQ_INT(
        iam_policy_compile(IAM_POLICY_RESOURCE,
                           moat_slice_cstr(moat_arena_printf(a, fmt, "{\"AWS\":\"111122223333\"}")),
                           0, &p, &d),
        OK);
    CHECK_EQ_INT(p->statements[0].principals.aws_count, 1);
    CHECK_SLICE(p->statements[0].principals.aws[0].value, "arn:aws:iam::111122223333:root");
    CHECK_EQ_INT(p->statements[0].principals.aws[0].kind, IAM_AWS_ACCOUNT);
    iam_policy_unref(p);
#undef fmt
    /* RCPs: only "*" */
    CHECK_EQ_INT(
        status_of(a, IAM_POLICY_RCP,
                  "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\",\"Principal\":{"
                  "\"AWS\":\"111122223333\"},\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
                  NULL),
        BAD);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_RCP,
                           "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\","
                           "\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
                           NULL),
                 OK);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_RCP,
                           "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\","
                           "\"NotPrincipal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
                           NULL),
                 BAD);
    /* NotPrincipal with Deny in resource policies */
    CHECK_EQ_INT(
        status_of(a, IAM_POLICY_RESOURCE,
                  "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\",\"NotPrincipal\":"
                  "{\"AWS\":\"111122223333\"},\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
                  NULL),
        OK);
}

MOAT_TEST(variables_grammar)
{
#define fmt                                                                                        \
    "{\"Version\":\"%s\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"%" \
    "s\"}}"
    CHECK_EQ_INT(
        status_of(a, IAM_POLICY_IDENTITY,
                  moat_arena_printf(
                      a, fmt, "2012-10-17",
                      "arn:aws:s3:::b/${aws:username}/${*}${?}${$}/${aws:PrincipalTag/t, 'd'}"),
                  NULL),
        OK);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           moat_arena_printf(a, fmt, "2012-10-17", "arn:aws:s3:::b/${aws:username"),
                           NULL),
                 BAD);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           moat_arena_printf(a, fmt, "2012-10-17", "arn:aws:s3:::b/${ }"), NULL),
                 BAD);
    CHECK_EQ_INT(
        status_of(a, IAM_POLICY_IDENTITY,
                  moat_arena_printf(a, fmt, "2012-10-17", "arn:aws:s3:::b/${aws:username, guest}"),
                  NULL),
        BAD);
    /* 2008-10-17: literal text, nothing to check */
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           moat_arena_printf(a, fmt, "2008-10-17", "arn:aws:s3:::b/${aws:username"),
                           NULL),
                 OK);
    /* operators that do not take variables */
#define cfmt                                                                                       \
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\","         \
    "\"Resource\":\"*\",\"Condition\":{\"%s\":{\"x:k\":\"${aws:username}\"}}}}"
    static const char *const no_vars[] = {"NumericEquals", "DateLessThan", "BinaryEquals",
                                          "IpAddress", "Null"};
    for (size_t i = 0; i < MOAT_COUNT(no_vars); i++)
        CHECK_EQ_INT(
            status_of(a, IAM_POLICY_IDENTITY, moat_arena_printf(a, cfmt, no_vars[i]), NULL), BAD);
    static const char *const vars[] = {"StringEquals", "StringNotLikeIfExists", "ArnLike",
                                       "ForAnyValue:ArnNotEquals", "Bool"};
    for (size_t i = 0; i < MOAT_COUNT(vars); i++)
        CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY, moat_arena_printf(a, cfmt, vars[i]), NULL),
                     OK);
#undef fmt
#undef cfmt
}

MOAT_TEST(sizes_and_characters)
{
    /* IAM counts characters without white space; SCPs count all of them */
    CHECK_EQ_INT(iam_policy_counted_size(IAM_POLICY_IDENTITY, MOAT_LIT("{ \"a\" :\n\t1 }")), 7);
    CHECK_EQ_INT(iam_policy_counted_size(IAM_POLICY_SCP, MOAT_LIT("{ \"a\" :\n\t1 }")), 12);
    CHECK_EQ_INT(iam_policy_counted_size(IAM_POLICY_IDENTITY, MOAT_LIT("\xc3\xa9\xc3\xa9")), 2);
    struct moat_buf b;
    moat_buf_init(&b, a, 8192);
    moat_buf_append_cstr(&b, "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                             "\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::");
    size_t head = iam_policy_counted_size(IAM_POLICY_IDENTITY, moat_buf_slice(&b));
    for (size_t i = head; i < 6144 - 3; i++)
        moat_buf_append_u8(&b, 'x');
    moat_buf_append_cstr(&b, "\"}}");
    CHECK_EQ_INT(iam_policy_counted_size(IAM_POLICY_IDENTITY, moat_buf_slice(&b)), 6144);
    const char *m;
    CHECK_EQ_INT(try_compile(a, IAM_POLICY_IDENTITY, moat_buf_slice(&b), &m), OK);
    /* white space never counts for IAM */
    struct moat_buf c;
    moat_buf_init(&c, a, 16384);
    moat_buf_append(&c, moat_buf_slice(&b));
    for (int i = 0; i < 5000; i++)
        moat_buf_append_u8(&c, ' ');
    CHECK_EQ_INT(try_compile(a, IAM_POLICY_IDENTITY, moat_buf_slice(&c), &m), OK);
    b.len -= 3;
    moat_buf_append_cstr(&b, "y\"}}");
    CHECK_EQ_INT(try_compile(a, IAM_POLICY_IDENTITY, moat_buf_slice(&b), &m), BIG);
    CHECK_EQ_STR(m, "Cannot exceed quota for PolicySize: 6144");
    /* a caller's own limit (inline policies, a service's resource policy limit) */
    struct iam_policy *p;
    struct iam_policy_diag d;
    CHECK_EQ_INT(iam_policy_compile(IAM_POLICY_IDENTITY, moat_buf_slice(&b), 10240, &p, &d), OK);
    iam_policy_unref(p);
    CHECK_EQ_INT(iam_policy_compile(IAM_POLICY_TRUST, moat_buf_slice(&b), 0, &p, &d), BIG);
    CHECK_EQ_STR(d.message, "Cannot exceed quota for ACLSizePerRole: 2048");
    CHECK(!p);
    /* characters: IAM policies take tab, LF, CR and U+0020..U+00FF only */
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":"
                           "\"arn:aws:s3:::b/caf\xc3\xa9\xc3\xbf\"}}",
                           NULL),
                 OK);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":"
                           "\"arn:aws:s3:::b/\xc4\x80\"}}",
                           NULL),
                 BAD);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_IDENTITY,
                           "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":"
                           "\"arn:aws:s3:::b/\xff\"}}",
                           NULL),
                 BAD);
    CHECK_EQ_INT(status_of(a, IAM_POLICY_RESOURCE,
                           "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*"
                           "\",\"Resource\":\"arn:aws:s3:::b/\xe2\x82\xac\"}}",
                           NULL),
                 OK);
}

MOAT_TEST(compiled_form)
{
    struct iam_policy *p;
    struct iam_policy_diag d;
    const char *text =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"S1\",\"Effect\":\"Allow\","
        "\"Action\":[\"S3:Get*\",\"*\"],\"Resource\":\"arn:aws:s3:::b/lit${*}\","
        "\"Condition\":{\"NumericLessThan\":{\"s3:max-keys\":[\"10\",\"1.5\",\"x\"]},"
        "\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"},"
        "\"DateLessThan\":{\"aws:CurrentTime\":\"2025-01-01\"}}}]}";
    CHECK_EQ_INT(iam_policy_compile(IAM_POLICY_IDENTITY, moat_slice_cstr(text), 0, &p, &d), OK);
    if (!p)
        return;
    CHECK(p->variables);
    CHECK_SLICE(iam_policy_version(p), "2012-10-17");
    CHECK_EQ_INT(iam_policy_kind_of(p), IAM_POLICY_IDENTITY);
    CHECK_EQ_INT(iam_policy_statement_count(p), 1);
    const struct iam_statement *st = &p->statements[0];
    CHECK_EQ_INT(st->action_count, 2);
    CHECK(moat_slice_eq_cstr(moat_slice(st->actions[0].service.ptr, st->actions[0].service.len),
                             "s3"));
    CHECK_EQ_INT(st->actions[0].name.kind, IAM_GLOB_PREFIX);
    CHECK(st->actions[1].any);
    CHECK_EQ_INT(st->resources[0].tmpl.count, 0);
    CHECK_EQ_INT(st->resources[0].arn.count, 6);
    CHECK(moat_slice_eq_cstr(
        moat_slice(st->resources[0].arn.part[5].ptr, st->resources[0].arn.part[5].len),
        "b/lit\\*"));
    CHECK_EQ_INT(st->condition_count, 3);
    CHECK_EQ_INT(st->conditions[0].op, IAM_OP_NUMERIC_LESS_THAN);
    CHECK(st->conditions[0].values[0].valid && st->conditions[0].values[0].u.num.is_int);
    CHECK(st->conditions[0].values[1].valid && !st->conditions[0].values[1].u.num.is_int);
    CHECK(!st->conditions[0].values[2].valid);
    CHECK_EQ_INT(st->conditions[1].values[0].u.cidr.prefix, 8);
    CHECK_EQ_INT(st->conditions[2].values[0].u.date_ms, 1735689600000LL);
    CHECK_SLICE(iam_policy_text(p), text);
    /* refcounting: the last unref frees */
    iam_policy_ref(p);
    iam_policy_unref(p);
    CHECK_EQ_INT(atomic_load(&p->refs), 1);
    iam_policy_unref(p);
    iam_policy_unref(NULL);
}

MOAT_TEST(positions)
{
    struct iam_policy *p;
    struct iam_policy_diag d;
    const char *text =
        "{\"Version\":\"2012-10-17\",\r\n\"St\\u0061tement\":[\n  "
        "{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::caf\xc3\xa9\"},\n  "
        "{\"Effect\":\"Deny\",\n   \"Action\":\"iam:*\",\"Resource\":\"*\"}\n]}";
    CHECK_EQ_INT(iam_policy_compile(IAM_POLICY_IDENTITY, moat_slice_cstr(text), 0, &p, &d), OK);
    if (!p)
        return;
    struct iam_statement_info info;
    CHECK(iam_policy_statement_info(p, 0, &info));
    CHECK(info.allow);
    CHECK_EQ_INT(info.start.line, 3);
    CHECK_EQ_INT(info.start.column, 3);
    CHECK_EQ_INT(info.end.line, 3);
    CHECK_EQ_INT(info.end.column, 67);
    CHECK(iam_policy_statement_info(p, 1, &info));
    CHECK(!info.allow);
    CHECK_EQ_INT(info.start.line, 4);
    CHECK_EQ_INT(info.end.line, 5);
    CHECK_EQ_INT(info.end.column, 35);
    iam_policy_unref(p);
}

MOAT_TEST(glob)
{
    struct iam_glob g;
    iam_glob_init(&g, MOAT_LIT("*"));
    CHECK_EQ_INT(g.kind, IAM_GLOB_ANY);
    iam_glob_init(&g, MOAT_LIT("abc*"));
    CHECK_EQ_INT(g.kind, IAM_GLOB_PREFIX);
    CHECK(iam_glob_match(&g, MOAT_LIT("abc"), false));
    CHECK(iam_glob_match(&g, MOAT_LIT("ABCd"), true));
    CHECK(!iam_glob_match(&g, MOAT_LIT("ab"), false));
    iam_glob_init(&g, MOAT_LIT(""));
    CHECK_EQ_INT(g.kind, IAM_GLOB_LITERAL);
    CHECK(iam_glob_match(&g, MOAT_NULL_SLICE, false));
    CHECK(!iam_glob_match(&g, MOAT_LIT("a"), false));
    CHECK(iam_glob_match_raw(MOAT_LIT("a*b*c"), MOAT_LIT("aXXbYYbZc"), false));
    CHECK(!iam_glob_match_raw(MOAT_LIT("a*b*c"), MOAT_LIT("aXXbYYbZ"), false));
    CHECK(iam_glob_match_raw(MOAT_LIT("*?"), MOAT_LIT("x"), false));
    CHECK(!iam_glob_match_raw(MOAT_LIT("*??"), MOAT_LIT("x"), false));
    CHECK(iam_glob_match_raw(MOAT_LIT("a\\*"), MOAT_LIT("a*"), false));
    CHECK(!iam_glob_match_raw(MOAT_LIT("a\\*"), MOAT_LIT("ab"), false));
    CHECK(iam_glob_match_raw(MOAT_LIT("a\\\\"), MOAT_LIT("a\\"), false));
    CHECK(iam_glob_match_raw(MOAT_LIT("***a"), MOAT_LIT("bba"), false));
    CHECK(!iam_glob_has_wildcard(MOAT_LIT("a\\*\\?")));
    CHECK(iam_glob_has_wildcard(MOAT_LIT("a\\**")));
    /* a pathological pattern stays fast: pattern x subject at worst */
    char subject[4096], pattern[64];
    memset(subject, 'a', sizeof(subject));
    for (int i = 0; i < 30; i++) {
        pattern[2 * i] = '*';
        pattern[2 * i + 1] = 'a';
    }
    pattern[60] = 'b';
    CHECK(
        !iam_glob_match_raw(moat_slice(pattern, 61), moat_slice(subject, sizeof(subject)), false));
}

MOAT_TEST_MAIN(MOAT_CASE(vectors_invalid_policies), MOAT_CASE(vectors_case_policies_accepted),
               MOAT_CASE(messages), MOAT_CASE(grammar), MOAT_CASE(principals),
               MOAT_CASE(variables_grammar), MOAT_CASE(sizes_and_characters),
               MOAT_CASE(compiled_form), MOAT_CASE(positions), MOAT_CASE(glob))

/* test_ssm_name.c: Parameter Store names (characters, levels, the leading slash,
 * reserved prefixes), ARNs, read references with selectors, and labels. */
#include "harness.h"
#include "services/ssm/ssm.h"

#include <string.h>

static enum ssm_name_problem parse(const char *s, struct ssm_name *n)
{
    return ssm_name_parse(moat_slice_cstr(s), n);
}

MOAT_TEST(names)
{
    struct ssm_name n;
    CHECK_EQ_INT(parse("db-url", &n), SSM_NAME_OK);
    CHECK(!n.hierarchical && n.depth == 1);
    CHECK_SLICE(n.key, "db-url");
    CHECK_EQ_INT(parse("/db-url", &n), SSM_NAME_OK);
    CHECK(!n.hierarchical && n.depth == 1);
    CHECK_SLICE(n.key, "db-url"); /* "/a" and "a" are one parameter */
    CHECK_SLICE(n.given, "/db-url");
    CHECK_EQ_INT(parse("  /prod/app/db-url  ", &n), SSM_NAME_OK);
    CHECK(n.hierarchical && n.depth == 3);
    CHECK_SLICE(n.key, "/prod/app/db-url");
    CHECK_EQ_INT(parse("A.b_c-9", &n), SSM_NAME_OK);
}

MOAT_TEST(bad_names)
{
    struct ssm_name n;
    CHECK_EQ_INT(parse("", &n), SSM_NAME_EMPTY);
    CHECK_EQ_INT(parse("   ", &n), SSM_NAME_EMPTY);
    CHECK_EQ_INT(parse("/", &n), SSM_NAME_BAD_CHARS);
    CHECK_EQ_INT(parse("//a", &n), SSM_NAME_BAD_CHARS);
    CHECK_EQ_INT(parse("/a//b", &n), SSM_NAME_BAD_CHARS);
    CHECK_EQ_INT(parse("/a/b/", &n), SSM_NAME_BAD_CHARS);
    CHECK_EQ_INT(parse("a b", &n), SSM_NAME_INNER_SPACE);
    CHECK_EQ_INT(parse("a:b", &n), SSM_NAME_BAD_CHARS);
    CHECK_EQ_INT(parse("a\xc3\xa9", &n), SSM_NAME_BAD_CHARS);
    CHECK_EQ_INT(parse("a/b", &n), SSM_NAME_NOT_QUALIFIED);
    CHECK_EQ_INT(parse("/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15", &n), SSM_NAME_OK);
    CHECK_EQ_INT(n.depth, 15);
    CHECK_EQ_INT(parse("/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16", &n), SSM_NAME_TOO_DEEP);
}

MOAT_TEST(reserved)
{
    struct ssm_name n;
    struct {
        const char *name;
        enum ssm_reserved want;
    } cases[] = {
        {"aws", SSM_RESERVED_NAME},        {"AWSfoo", SSM_RESERVED_NAME},
        {"/ssm", SSM_RESERVED_NAME},       {"ssm-x", SSM_RESERVED_NAME},
        {"/aws/x", SSM_RESERVED_AWS_PATH}, {"/Aws/x/y", SSM_RESERVED_AWS_PATH},
        {"/SSM/x", SSM_RESERVED_PATH},     {"/awsome/x", SSM_RESERVED_AWS_PATH},
        {"my-aws", SSM_RESERVED_NONE},     {"/prod/aws", SSM_RESERVED_NONE},
        {"as", SSM_RESERVED_NONE},
    };
    for (size_t i = 0; i < MOAT_COUNT(cases); i++) {
        CHECK_EQ_INT(parse(cases[i].name, &n), SSM_NAME_OK);
        if (ssm_name_reserved(&n) != cases[i].want)
            fprintf(stderr, "  reserved(%s)\n", cases[i].name);
        CHECK_EQ_INT(ssm_name_reserved(&n), cases[i].want);
    }
}

MOAT_TEST(arns)
{
    CHECK_EQ_STR(ssm_arn(a, "us-east-1", "111122223333", MOAT_LIT("/a/b")),
                 "arn:aws:ssm:us-east-1:111122223333:parameter/a/b");
    CHECK_EQ_STR(ssm_arn(a, "us-east-1", "111122223333", MOAT_LIT("a")),
                 "arn:aws:ssm:us-east-1:111122223333:parameter/a");
    CHECK_EQ_STR(ssm_arn(a, "cn-north-1", "111122223333", MOAT_LIT("a")),
                 "arn:aws-cn:ssm:cn-north-1:111122223333:parameter/a");
    CHECK_EQ_STR(ssm_partition("us-gov-west-1"), "aws-us-gov");
}

MOAT_TEST(references)
{
    struct ssm_ref r;
    CHECK(ssm_ref_parse(MOAT_LIT("/a/b:12"), &r));
    CHECK(r.sel == SSM_SEL_VERSION && r.version == 12 && !r.arn);
    CHECK_SLICE(r.display, "/a/b");
    CHECK_SLICE(r.selector, ":12");
    CHECK_SLICE(r.name.key, "/a/b");
    CHECK(ssm_ref_parse(MOAT_LIT("name:prod"), &r));
    CHECK(r.sel == SSM_SEL_LABEL && r.problem == SSM_NAME_OK);
    CHECK_SLICE(r.label, "prod");
    CHECK(ssm_ref_parse(MOAT_LIT("arn:aws:ssm:eu-west-1:111122223333:parameter/a/b:prod"), &r));
    CHECK(r.arn && r.sel == SSM_SEL_LABEL);
    CHECK_SLICE(r.arn_region, "eu-west-1");
    CHECK_SLICE(r.arn_account, "111122223333");
    CHECK_SLICE(r.name.key, "/a/b");
    CHECK_SLICE(r.display, "arn:aws:ssm:eu-west-1:111122223333:parameter/a/b");
    CHECK(ssm_ref_parse(MOAT_LIT("arn:aws:ssm:eu-west-1:111122223333:parameter/one"), &r));
    CHECK_SLICE(r.name.key, "one");
    CHECK(ssm_ref_parse(MOAT_LIT("/a:99999999999999999999999"), &r));
    CHECK(r.sel == SSM_SEL_VERSION && r.version == 0); /* out of range: no such version */
    CHECK(!ssm_ref_parse(MOAT_LIT("/a:"), &r));
    CHECK(!ssm_ref_parse(MOAT_LIT("/a:b:c"), &r));
    CHECK(!ssm_ref_parse(MOAT_LIT("arn:aws:kms:us-east-1:1:key/x"), &r));
    CHECK(!ssm_ref_parse(MOAT_LIT("arn:aws:ssm:us-east-1:1:document/x"), &r));
    CHECK(!ssm_ref_parse(MOAT_LIT("arn:aws:ssm"), &r));
    CHECK(ssm_ref_parse(MOAT_LIT("a/b"), &r));
    CHECK_EQ_INT(r.problem, SSM_NAME_NOT_QUALIFIED);
}

MOAT_TEST(labels)
{
    CHECK(ssm_label_valid(MOAT_LIT("Prod")));
    CHECK(ssm_label_valid(MOAT_LIT("a.b-c_d9")));
    CHECK(!ssm_label_valid(MOAT_LIT("")));
    CHECK(!ssm_label_valid(MOAT_LIT("9lives")));
    CHECK(!ssm_label_valid(MOAT_LIT("awsx")));
    CHECK(!ssm_label_valid(MOAT_LIT("SSMx")));
    CHECK(!ssm_label_valid(MOAT_LIT("a b")));
    CHECK(!ssm_label_valid(MOAT_LIT("a/b")));
    char long_label[102];
    memset(long_label, 'x', 101);
    long_label[101] = 0;
    CHECK(!ssm_label_valid(moat_slice_cstr(long_label)));
    long_label[100] = 0;
    CHECK(ssm_label_valid(moat_slice_cstr(long_label)));
}

MOAT_TEST(public_table)
{
    struct ssm_public p;
    CHECK(ssm_public_get(
        a, MOAT_LIT("/aws/service/global-infrastructure/regions/us-west-2/longName"), &p));
    CHECK_SLICE(p.value, "US West (Oregon)");
    CHECK(!ssm_public_get(a, MOAT_LIT("/aws/service/global-infrastructure/regions"), &p));
    struct ssm_public items[8];
    bool more;
    size_t n = ssm_public_list(a, MOAT_LIT("/aws/service/global-infrastructure/regions/eu-west-1"),
                               false, MOAT_NULL_SLICE, 8, items, &more);
    CHECK_EQ_INT(n, 5); /* domain, geolocationCountry, geolocationRegion, longName, partition */
    CHECK(!more);
    CHECK_SLICE(items[0].name, "/aws/service/global-infrastructure/regions/eu-west-1/domain");
    n = ssm_public_list(a, MOAT_LIT("/aws/service/global-infrastructure/services"), false,
                        MOAT_NULL_SLICE, 2, items, &more);
    CHECK(n == 2 && more);
    struct moat_slice after = items[1].name;
    n = ssm_public_list(a, MOAT_LIT("/aws/service/global-infrastructure/services"), false, after, 2,
                        items, &more);
    CHECK(n == 2 && moat_slice_cmp(items[0].name, after) > 0);
}

MOAT_TEST_MAIN(MOAT_CASE(names), MOAT_CASE(bad_names), MOAT_CASE(reserved), MOAT_CASE(arns),
               MOAT_CASE(references), MOAT_CASE(labels), MOAT_CASE(public_table))

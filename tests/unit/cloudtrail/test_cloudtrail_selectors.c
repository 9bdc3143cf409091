/* test_cloudtrail_selectors.c: parsing, validation, canonical form and
 * evaluation of basic and advanced event selectors, and the trail scope
 * (logging, account, organization, region, global events) around them. */
#include "core/json.h"
#include "harness.h"
#include "services/cloudtrail/cloudtrail.h"

static const char *parse_into(struct moat_arena *a, const char *json,
                              struct cloudtrail_selectors *s)
{
    struct moat_value *doc;
    if (!moat_json_parse(a, moat_slice_cstr(json), 0, &doc, NULL))
        return "(test JSON does not parse)";
    return cloudtrail_selectors_parse(a, doc, s);
}

static struct cloudtrail_trail trail_with(struct moat_arena *a, const char *json)
{
    struct cloudtrail_trail t = {
        .account_id = MOAT_LIT("111122223333"),
        .home_region = MOAT_LIT("us-east-1"),
        .include_global_service_events = true,
        .logging = true,
    };
    if (json) {
        const char *why = parse_into(a, json, &t.selectors);
        if (why) {
            fprintf(stderr, "  selectors refused: %s\n", why);
            moat_test_failures++;
        }
    } else {
        cloudtrail_selectors_default(&t.selectors);
    }
    return t;
}

static struct cloudtrail_event_facts mgmt(const char *source, const char *name, bool read_only)
{
    struct cloudtrail_event_facts e = {
        .recipient_account_id = MOAT_LIT("111122223333"),
        .aws_region = MOAT_LIT("us-east-1"),
        .category = CLOUDTRAIL_CAT_MANAGEMENT,
        .event_source = moat_slice_cstr(source),
        .event_name = moat_slice_cstr(name),
        .event_type = MOAT_LIT("AwsApiCall"),
        .read_only = read_only,
    };
    return e;
}

static const struct moat_slice s3_type[] = {MOAT_LIT("AWS::S3::Object")};
static const struct moat_slice s3_arn[] = {MOAT_LIT("arn:aws:s3:::bucket-a/logs/x.txt")};
static const struct moat_slice s3_other[] = {MOAT_LIT("arn:aws:s3:::bucket-b/x.txt")};

static struct cloudtrail_event_facts s3_event(const char *name, bool read_only,
                                              const struct moat_slice *arn)
{
    struct cloudtrail_event_facts e = mgmt("s3.amazonaws.com", name, read_only);
    e.category = CLOUDTRAIL_CAT_DATA;
    e.resource_count = 1;
    e.resource_types = s3_type;
    e.resource_arns = arn;
    return e;
}

MOAT_TEST(default_selects_all_management_events)
{
    struct cloudtrail_trail t = trail_with(a, NULL);
    struct cloudtrail_event_facts e = mgmt("kms.amazonaws.com", "CreateKey", false);
    CHECK(cloudtrail_selectors_match(&t, &e));
    e.read_only = true;
    CHECK(cloudtrail_selectors_match(&t, &e));
    struct cloudtrail_event_facts d = s3_event("GetObject", true, s3_arn);
    CHECK(!cloudtrail_selectors_match(&t, &d)); /* data events need a selector */
}

MOAT_TEST(trail_scope)
{
    struct cloudtrail_trail t = trail_with(a, NULL);
    struct cloudtrail_event_facts e = mgmt("kms.amazonaws.com", "Encrypt", true);
    t.logging = false;
    CHECK(!cloudtrail_selectors_match(&t, &e)); /* a stopped trail logs nothing */
    t.logging = true;
    e.recipient_account_id = MOAT_LIT("444455556666");
    CHECK(!cloudtrail_selectors_match(&t, &e)); /* another account's event */
    e.organization_id = MOAT_LIT("o-abc123");
    t.organization_trail = true;
    t.organization_id = MOAT_LIT("o-abc123");
    CHECK(cloudtrail_selectors_match(&t, &e)); /* ...unless the trail is its organization's */
    t.organization_id = MOAT_LIT("o-zzz999");
    CHECK(!cloudtrail_selectors_match(&t, &e));
    e = mgmt("kms.amazonaws.com", "Encrypt", true);
    e.aws_region = MOAT_LIT("eu-west-1");
    t.organization_trail = false;
    CHECK(!cloudtrail_selectors_match(&t, &e)); /* another region */
    t.multi_region = true;
    CHECK(cloudtrail_selectors_match(&t, &e));
    struct cloudtrail_event_facts g = mgmt("iam.amazonaws.com", "CreateUser", false);
    g.global_service = true;
    t.multi_region = false;
    t.home_region = MOAT_LIT("ap-south-1");
    CHECK(cloudtrail_selectors_match(&t, &g)); /* global events go to trails that include them */
    t.include_global_service_events = false;
    CHECK(!cloudtrail_selectors_match(&t, &g));
}

MOAT_TEST(basic_read_write_and_exclusions)
{
    struct cloudtrail_trail t =
        trail_with(a, "{\"EventSelectors\":[{\"ReadWriteType\":\"WriteOnly\","
                      "\"ExcludeManagementEventSources\":[\"kms.amazonaws.com\"]}]}");
    struct cloudtrail_event_facts w = mgmt("iam.amazonaws.com", "CreateUser", false);
    struct cloudtrail_event_facts r = mgmt("iam.amazonaws.com", "GetUser", true);
    struct cloudtrail_event_facts k = mgmt("kms.amazonaws.com", "CreateKey", false);
    CHECK(cloudtrail_selectors_match(&t, &w));
    CHECK(!cloudtrail_selectors_match(&t, &r));
    CHECK(!cloudtrail_selectors_match(&t, &k));
    t = trail_with(a, "{\"EventSelectors\":[{\"ReadWriteType\":\"ReadOnly\"},"
                      "{\"IncludeManagementEvents\":false,\"ReadWriteType\":\"All\"}]}");
    CHECK(cloudtrail_selectors_match(&t, &r));
    CHECK(!cloudtrail_selectors_match(&t, &w));
    t = trail_with(a, "{\"EventSelectors\":[]}");
    CHECK(!cloudtrail_selectors_match(&t, &r)); /* no selectors: nothing */
}

MOAT_TEST(basic_data_resources)
{
    struct cloudtrail_trail t = trail_with(
        a, "{\"EventSelectors\":[{\"ReadWriteType\":\"All\",\"IncludeManagementEvents\":false,"
           "\"DataResources\":[{\"Type\":\"AWS::S3::Object\","
           "\"Values\":[\"arn:aws:s3:::bucket-a/logs/\"]}]}]}");
    struct cloudtrail_event_facts in = s3_event("PutObject", false, s3_arn);
    struct cloudtrail_event_facts out = s3_event("PutObject", false, s3_other);
    CHECK(cloudtrail_selectors_match(&t, &in));
    CHECK(!cloudtrail_selectors_match(&t, &out));
    struct cloudtrail_event_facts m = mgmt("kms.amazonaws.com", "CreateKey", false);
    CHECK(!cloudtrail_selectors_match(&t, &m));
    t = trail_with(a, "{\"EventSelectors\":[{\"DataResources\":[{\"Type\":\"AWS::S3::Object\","
                      "\"Values\":[\"arn:aws:s3\"]}]}]}");
    CHECK(cloudtrail_selectors_match(&t, &out)); /* every bucket */
    static const struct moat_slice fn_type[] = {MOAT_LIT("AWS::Lambda::Function")};
    static const struct moat_slice fn_arn[] = {
        MOAT_LIT("arn:aws:lambda:us-east-1:111122223333:function:hello")};
    struct cloudtrail_event_facts f = s3_event("Invoke", false, fn_arn);
    f.resource_types = fn_type;
    CHECK(!cloudtrail_selectors_match(&t, &f));
    t = trail_with(a, "{\"EventSelectors\":[{\"DataResources\":[{\"Type\":"
                      "\"AWS::Lambda::Function\",\"Values\":["
                      "\"arn:aws:lambda:us-east-1:111122223333:function:hello\"]}]}]}");
    CHECK(cloudtrail_selectors_match(&t, &f));
}

MOAT_TEST(advanced_selectors)
{
    struct cloudtrail_trail t =
        trail_with(a, "{\"AdvancedEventSelectors\":["
                      "{\"Name\":\"mgmt writes\",\"FieldSelectors\":["
                      "{\"Field\":\"eventCategory\",\"Equals\":[\"Management\"]},"
                      "{\"Field\":\"readOnly\",\"Equals\":[\"false\"]},"
                      "{\"Field\":\"eventSource\",\"NotEquals\":[\"kms.amazonaws.com\"]}]},"
                      "{\"FieldSelectors\":["
                      "{\"Field\":\"eventCategory\",\"Equals\":[\"Data\"]},"
                      "{\"Field\":\"resources.type\",\"Equals\":[\"AWS::S3::Object\"]},"
                      "{\"Field\":\"resources.ARN\",\"StartsWith\":[\"arn:aws:s3:::bucket-a/\"],"
                      "\"NotEndsWith\":[\".tmp\"]},"
                      "{\"Field\":\"eventName\",\"NotStartsWith\":[\"Get\",\"Head\"]}]}]}");
    struct cloudtrail_event_facts e = mgmt("iam.amazonaws.com", "CreateUser", false);
    CHECK(cloudtrail_selectors_match(&t, &e));
    e.read_only = true;
    CHECK(!cloudtrail_selectors_match(&t, &e));
    e = mgmt("kms.amazonaws.com", "CreateKey", false);
    CHECK(!cloudtrail_selectors_match(&t, &e));
    struct cloudtrail_event_facts d = s3_event("PutObject", false, s3_arn);
    CHECK(cloudtrail_selectors_match(&t, &d));
    d.event_name = MOAT_LIT("GetObject");
    CHECK(!cloudtrail_selectors_match(&t, &d));
    static const struct moat_slice tmp_arn[] = {MOAT_LIT("arn:aws:s3:::bucket-a/x.tmp")};
    struct cloudtrail_event_facts tmp = s3_event("PutObject", false, tmp_arn);
    CHECK(!cloudtrail_selectors_match(&t, &tmp));
    struct cloudtrail_event_facts other = s3_event("PutObject", false, s3_other);
    CHECK(!cloudtrail_selectors_match(&t, &other));
}

MOAT_TEST(advanced_resource_conditions_hold_for_one_resource)
{
    struct cloudtrail_trail t =
        trail_with(a, "{\"AdvancedEventSelectors\":[{\"FieldSelectors\":["
                      "{\"Field\":\"eventCategory\",\"Equals\":[\"Data\"]},"
                      "{\"Field\":\"resources.type\",\"Equals\":[\"AWS::DynamoDB::Table\"]},"
                      "{\"Field\":\"resources.ARN\",\"EndsWith\":[\"/orders\"]}]}]}");
    static const struct moat_slice types[] = {MOAT_LIT("AWS::S3::Object"),
                                              MOAT_LIT("AWS::DynamoDB::Table")};
    static const struct moat_slice arns[] = {MOAT_LIT("arn:aws:s3:::b/orders"),
                                             MOAT_LIT("arn:aws:dynamodb:us-east-1:1:table/users")};
    struct cloudtrail_event_facts e = s3_event("PutItem", false, arns);
    e.resource_count = 2;
    e.resource_types = types;
    /* type matches the second resource, ARN the first: no single resource matches both */
    CHECK(!cloudtrail_selectors_match(&t, &e));
    static const struct moat_slice arns2[] = {
        MOAT_LIT("arn:aws:s3:::b/x"), MOAT_LIT("arn:aws:dynamodb:us-east-1:1:table/orders")};
    e.resource_arns = arns2;
    CHECK(cloudtrail_selectors_match(&t, &e));
}

MOAT_TEST(validation_refuses)
{
    const char *bad[] = {
        "[]",
        "{}",
        "{\"EventSelectors\":[],\"AdvancedEventSelectors\":[]}",
        "{\"EventSelectors\":{}}",
        "{\"EventSelectors\":[1]}",
        "{\"EventSelectors\":[{},{},{},{},{},{}]}",
        "{\"EventSelectors\":[{\"ReadWriteType\":\"Sometimes\"}]}",
        "{\"EventSelectors\":[{\"ReadWriteType\":7}]}",
        "{\"EventSelectors\":[{\"IncludeManagementEvents\":\"yes\"}]}",
        "{\"EventSelectors\":[{\"DataResources\":[{\"Type\":\"AWS::S3::Object\"}]}]}",
        "{\"EventSelectors\":[{\"DataResources\":[{\"Type\":\"AWS::S3::Object\","
        "\"Values\":[\"s3://bucket\"]}]}]}",
        "{\"EventSelectors\":[{\"DataResources\":[{\"Type\":\"AWS::S3::Object\","
        "\"Values\":[\"\"]}]}]}",
        "{\"EventSelectors\":[{\"DataResources\":[{\"Type\":\"AWS::EC2::Thing\","
        "\"Values\":[\"arn:aws:ec2\"]}]}]}",
        "{\"EventSelectors\":[{\"ExcludeManagementEventSources\":[\"s3.amazonaws.com\"]}]}",
        "{\"AdvancedEventSelectors\":[{}]}",
        "{\"AdvancedEventSelectors\":[{\"FieldSelectors\":[]}]}",
        "{\"AdvancedEventSelectors\":[{\"FieldSelectors\":[{\"Field\":\"eventName\","
        "\"Equals\":[\"x\"]}]}]}",
        "{\"AdvancedEventSelectors\":[{\"FieldSelectors\":[{\"Field\":\"eventCategory\","
        "\"Equals\":[\"Management\",\"Data\"]}]}]}",
        "{\"AdvancedEventSelectors\":[{\"FieldSelectors\":[{\"Field\":\"eventCategory\","
        "\"StartsWith\":[\"Manage\"]}]}]}",
        "{\"AdvancedEventSelectors\":[{\"FieldSelectors\":[{\"Field\":\"eventCategory\","
        "\"Equals\":[\"Management\"]},{\"Field\":\"eventCategory\",\"Equals\":[\"Management\"]}]}]"
        "}",
        "{\"AdvancedEventSelectors\":[{\"FieldSelectors\":[{\"Field\":\"eventCategory\","
        "\"Equals\":[\"Management\"]},{\"Field\":\"readOnly\"}]}]}",
        "{\"AdvancedEventSelectors\":[{\"FieldSelectors\":[{\"Field\":\"eventCategory\","
        "\"Equals\":[\"Management\"]},{\"Field\":\"readOnly\",\"Equals\":[]}]}]}",
        "{\"AdvancedEventSelectors\":[{\"FieldSelectors\":[{\"Field\":\"eventCategory\","
        "\"Equals\":[\"Management\"]},{\"Field\":\"eventSource\",\"Equals\":[\"kms.amazonaws.com\"]"
        "}]}]}",
        "{\"AdvancedEventSelectors\":[{\"FieldSelectors\":[{\"Field\":\"eventCategory\","
        "\"Equals\":[\"Data\"]},{\"Field\":\"resources.type\",\"Equals\":[\"S3\"]}]}]}",
        "{\"AdvancedEventSelectors\":[{\"FieldSelectors\":[{\"Field\":\"eventCategory\","
        "\"Equals\":[\"Data\"]},{\"Field\":\"resources.type\",\"StartsWith\":[\"AWS::S3\"]}]}]}",
        "{\"AdvancedEventSelectors\":[{\"FieldSelectors\":[{\"Field\":\"eventCategory\","
        "\"Equals\":[\"NetworkActivity\"]}]}]}",
        "{\"AdvancedEventSelectors\":[{\"FieldSelectors\":[{\"Field\":\"eventCategory\","
        "\"Equals\":[\"Data\"]},{\"Field\":\"resources.type\",\"Equals\":[\"AWS::S3::Object\"]},"
        "{\"Field\":\"errorCode\",\"Equals\":[\"VpceAccessDenied\"]}]}]}",
        "{\"AdvancedEventSelectors\":[{\"Name\":7,\"FieldSelectors\":[{\"Field\":\"eventCategory\","
        "\"Equals\":[\"Management\"]}]}]}",
    };
    for (size_t i = 0; i < MOAT_COUNT(bad); i++) {
        struct cloudtrail_selectors s;
        const char *why = parse_into(a, bad[i], &s);
        if (!why || !*why) {
            fprintf(stderr, "  accepted: %s\n", bad[i]);
            moat_test_failures++;
        }
    }
}

MOAT_TEST(value_limits)
{
    struct moat_buf b;
    moat_buf_init(&b, a, 16384);
    moat_buf_append_cstr(&b, "{\"AdvancedEventSelectors\":[{\"FieldSelectors\":["
                             "{\"Field\":\"eventCategory\",\"Equals\":[\"Data\"]},"
                             "{\"Field\":\"resources.type\",\"Equals\":[\"AWS::S3::Object\"]},"
                             "{\"Field\":\"resources.ARN\",\"StartsWith\":[");
    for (int i = 0; i < 498; i++)
        moat_buf_printf(&b, "%s\"arn:aws:s3:::b/%d\"", i ? "," : "", i);
    moat_buf_append_cstr(&b, "]}]}]}");
    struct cloudtrail_selectors s;
    CHECK(parse_into(a, moat_buf_cstr(&b), &s) == NULL); /* 500 values: the limit */
    b.len -= 6;
    moat_buf_append_cstr(&b, ",\"one-more\"]}]}]}");
    const char *why = parse_into(a, moat_buf_cstr(&b), &s);
    CHECK(why && strstr(why, "500"));
}

MOAT_TEST(canonical_form_round_trips)
{
    const char *inputs[] = {
        "{\"EventSelectors\":[{}]}",
        "{\"EventSelectors\":[{\"ReadWriteType\":\"ReadOnly\",\"IncludeManagementEvents\":false,"
        "\"DataResources\":[{\"Type\":\"AWS::DynamoDB::Table\",\"Values\":[\"arn:aws:dynamodb\"]}],"
        "\"ExcludeManagementEventSources\":[\"rdsdata.amazonaws.com\"]}]}",
        "{\"AdvancedEventSelectors\":[{\"Name\":\"n\",\"FieldSelectors\":["
        "{\"Field\":\"eventCategory\",\"Equals\":[\"Management\"]},"
        "{\"Field\":\"readOnly\",\"NotEquals\":[\"true\"]}]}]}",
    };
    for (size_t i = 0; i < MOAT_COUNT(inputs); i++) {
        struct cloudtrail_selectors s, s2;
        CHECK(parse_into(a, inputs[i], &s) == NULL);
        struct moat_buf b1, b2;
        moat_buf_init(&b1, a, 256);
        cloudtrail_selectors_write(&b1, &s);
        CHECK(parse_into(a, moat_buf_cstr(&b1), &s2) == NULL);
        moat_buf_init(&b2, a, 256);
        cloudtrail_selectors_write(&b2, &s2);
        CHECK(b1.len == b2.len && memcmp(b1.ptr, b2.ptr, b1.len) == 0);
    }
    struct cloudtrail_selectors d;
    cloudtrail_selectors_default(&d);
    struct moat_buf b;
    moat_buf_init(&b, a, 256);
    cloudtrail_selectors_write(&b, &d);
    CHECK_EQ_STR(moat_buf_cstr(&b),
                 "{\"EventSelectors\":[{\"ReadWriteType\":\"All\",\"IncludeManagementEvents\":true,"
                 "\"DataResources\":[],\"ExcludeManagementEventSources\":[]}]}");
}

MOAT_TEST(facts_from_a_record)
{
    const char *rec =
        "{\"eventVersion\":\"1.11\",\"userIdentity\":{\"type\":\"IAMUser\","
        "\"arn\":\"arn:aws:iam::111122223333:user/alice\"},\"eventTime\":\"2026-01-01T00:00:00Z\","
        "\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"PutObject\",\"awsRegion\":\"us-east-"
        "1\","
        "\"readOnly\":false,\"resources\":[{\"accountId\":\"111122223333\","
        "\"type\":\"AWS::S3::Object\",\"ARN\":\"arn:aws:s3:::bucket-a/logs/x.txt\"}],"
        "\"eventType\":\"AwsApiCall\",\"managementEvent\":false,"
        "\"recipientAccountId\":\"111122223333\",\"eventCategory\":\"Data\"}";
    struct moat_value *doc;
    CHECK(moat_json_parse(a, moat_slice_cstr(rec), 0, &doc, NULL));
    struct cloudtrail_event_facts e;
    CHECK(cloudtrail_event_facts_from_record(a, doc, &e));
    CHECK(e.category == CLOUDTRAIL_CAT_DATA && !e.read_only && e.resource_count == 1);
    CHECK_SLICE(e.user_identity_arn, "arn:aws:iam::111122223333:user/alice");
    struct cloudtrail_trail t =
        trail_with(a, "{\"AdvancedEventSelectors\":[{\"FieldSelectors\":["
                      "{\"Field\":\"eventCategory\",\"Equals\":[\"Data\"]},"
                      "{\"Field\":\"resources.type\",\"Equals\":[\"AWS::S3::Object\"]},"
                      "{\"Field\":\"userIdentity.arn\",\"EndsWith\":[\"/alice\"]}]}]}");
    CHECK(cloudtrail_selectors_match(&t, &e));
    CHECK(moat_json_parse(a, MOAT_LIT("{\"eventName\":\"x\"}"), 0, &doc, NULL));
    CHECK(!cloudtrail_event_facts_from_record(a, doc, &e));
    CHECK(!cloudtrail_event_facts_from_record(a, NULL, &e));
}

MOAT_TEST_MAIN(MOAT_CASE(default_selects_all_management_events), MOAT_CASE(trail_scope),
               MOAT_CASE(basic_read_write_and_exclusions), MOAT_CASE(basic_data_resources),
               MOAT_CASE(advanced_selectors),
               MOAT_CASE(advanced_resource_conditions_hold_for_one_resource),
               MOAT_CASE(validation_refuses), MOAT_CASE(value_limits),
               MOAT_CASE(canonical_form_round_trips), MOAT_CASE(facts_from_a_record))

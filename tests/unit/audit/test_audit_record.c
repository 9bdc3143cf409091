/* test_audit_record.c: CloudTrail records as audit_record_build writes them:
 * userIdentity per identity type, errors and denials, the generic rule for
 * requestParameters / responseElements (sensitive and binary members left
 * out, Java-style dates), cross-account copies, internal calls, service
 * events, UTF-8 safety, the chain hash and the verifier's column check. */
#include "audit/audit.h"
#include "aws/shapes/shapes_cloudtrail.h"
#include "aws/shapes/shapes_kms.h"
#include "core/json.h"
#include "harness.h"
#include "iam/iam_principal.h"
#include "services/service.h"

#include <openssl/sha.h>
#include <string.h>

static const struct moat_error_kind denied_kind = {"AccessDeniedException", 400, true};
static const struct moat_error_kind not_found_kind = {"TrailNotFoundException", 400, true};

static struct moat_error *no_handler(struct moat_call *c, const struct moat_value *in,
                                     struct moat_value *out)
{
    return NULL;
}

static const struct moat_operation ct_ops[] = {
    {.shape = CLOUDTRAIL_OP_CREATE_TRAIL,
     .handler = no_handler,
     .action = "cloudtrail:CreateTrail",
     .flags = MOAT_OP_MUTATES},
    {.shape = CLOUDTRAIL_OP_GET_TRAIL,
     .handler = no_handler,
     .action = "cloudtrail:GetTrail",
     .flags = MOAT_OP_READ_ONLY},
    {.shape = CLOUDTRAIL_OP_LOOKUP_EVENTS,
     .handler = no_handler,
     .action = "cloudtrail:LookupEvents",
     .flags = MOAT_OP_READ_ONLY},
};
static const struct moat_service ct_svc = {
    .name = "cloudtrail",
    .event_source = "cloudtrail.amazonaws.com",
    .shapes = &cloudtrail_shapes,
    .operations = ct_ops,
    .operation_count = 3,
};
static const struct moat_operation kms_ops[] = {
    {.shape = KMS_OP_ENCRYPT,
     .handler = no_handler,
     .action = "kms:Encrypt",
     .flags = MOAT_OP_READ_ONLY},
};
static const struct moat_service kms_svc = {
    .name = "kms",
    .event_source = "kms.amazonaws.com",
    .shapes = &kms_shapes,
    .operations = kms_ops,
    .operation_count = 1,
};

static struct iam_principal root = {
    .type = IAM_PRINCIPAL_ROOT,
    .account_id = MOAT_LIT("111122223333"),
    .arn = MOAT_LIT("arn:aws:iam::111122223333:root"),
    .principal_id = MOAT_LIT("111122223333"),
    .access_key_id = MOAT_LIT("AKIAROOTKEY000000001"),
};

static struct moat_call *new_call(struct moat_arena *a, const struct moat_service *svc,
                                  const struct moat_operation *op, struct iam_principal *p)
{
    struct moat_call *c = moat_arena_calloc(a, sizeof(*c));
    c->arena = a;
    c->service = svc;
    c->op = op;
    c->op_shape = op ? &svc->shapes->ops[op->shape] : NULL;
    c->principal = p;
    c->account_id = p && p->account_id.len ? moat_arena_cstr(a, p->account_id) : "111122223333";
    c->region = "us-east-1";
    c->now_ms = 1795873803123; /* 2026-11-28T13:50:03.123Z */
    strcpy(c->request_id, "5f1a2b3c-0000-4000-8000-000000000001");
    c->source_ip = MOAT_LIT("192.0.2.10");
    c->user_agent = MOAT_LIT("aws-cli/2.13.0");
    c->access_key_id = p ? p->access_key_id : MOAT_NULL_SLICE;
    c->input = c->op_shape ? moat_struct_new(a, c->op_shape->input) : NULL;
    c->output = c->op_shape ? moat_struct_new(a, c->op_shape->output) : NULL;
    return c;
}

static struct moat_value *record_of(struct moat_arena *a, const struct store_audit_row *row)
{
    struct moat_value *v = NULL;
    if (!moat_json_parse(a, row->record, MOAT_JSON_REJECT_DUPLICATES, &v, NULL)) {
        fprintf(stderr, "  record is not JSON: %.*s\n", MOAT_FMT(row->record));
        moat_test_failures++;
    }
    CHECK(audit_row_check(a, row) == NULL);
    return v;
}

static const char *json_of(struct moat_arena *a, const struct moat_value *v)
{
    struct moat_buf b;
    moat_buf_init(&b, a, 256);
    moat_json_write(&b, v);
    return moat_buf_cstr(&b);
}

MOAT_TEST(root_fields_in_aws_order)
{
    struct moat_call *c = new_call(a, &ct_svc, &ct_ops[0], &root);
    moat_set_cstr(a, c->input, CLOUDTRAIL_CREATE_TRAIL_REQUEST_NAME, "t1");
    moat_set_cstr(a, c->input, CLOUDTRAIL_CREATE_TRAIL_REQUEST_S3_BUCKET_NAME, "bkt");
    moat_set_bool(a, c->input, CLOUDTRAIL_CREATE_TRAIL_REQUEST_IS_MULTI_REGION_TRAIL, true);
    moat_set_cstr(a, c->output, CLOUDTRAIL_CREATE_TRAIL_RESPONSE_TRAIL_ARN,
                  "arn:aws:cloudtrail:us-east-1:111122223333:trail/t1");
    moat_call_add_resource(c, "AWS::CloudTrail::Trail",
                           "arn:aws:cloudtrail:us-east-1:111122223333:trail/t1");
    struct store_audit_row rows[2];
    CHECK_EQ_INT(audit_record_build(c, NULL, rows), 1);
    struct moat_value *r = record_of(a, &rows[0]);
    static const char *const order[] = {
        "eventVersion",       "userIdentity",     "eventTime",       "eventSource",
        "eventName",          "awsRegion",        "sourceIPAddress", "userAgent",
        "requestParameters",  "responseElements", "requestID",       "eventID",
        "readOnly",           "resources",        "eventType",       "managementEvent",
        "recipientAccountId", "eventCategory",
    };
    CHECK_EQ_INT(r->count, MOAT_COUNT(order));
    for (size_t i = 0; i < MOAT_COUNT(order) && i < r->count; i++)
        CHECK_SLICE(r->u.entries[i].key, order[i]);
    CHECK_EQ_STR(json_of(a, moat_map_get(r, "userIdentity")),
                 "{\"type\":\"Root\",\"principalId\":\"111122223333\","
                 "\"arn\":\"arn:aws:iam::111122223333:root\",\"accountId\":\"111122223333\","
                 "\"accessKeyId\":\"AKIAROOTKEY000000001\"}");
    CHECK_SLICE(moat_map_str(r, "eventTime"), "2026-11-28T13:50:03Z");
    CHECK_SLICE(moat_map_str(r, "eventName"), "CreateTrail");
    CHECK_EQ_STR(json_of(a, moat_map_get(r, "requestParameters")),
                 "{\"name\":\"t1\",\"s3BucketName\":\"bkt\",\"isMultiRegionTrail\":true}");
    CHECK_EQ_STR(json_of(a, moat_map_get(r, "responseElements")),
                 "{\"trailARN\":\"arn:aws:cloudtrail:us-east-1:111122223333:trail/t1\"}");
    CHECK(moat_map_bool(r, "readOnly", true) == false);
    CHECK_EQ_STR(json_of(a, moat_map_get(r, "resources")),
                 "[{\"accountId\":\"111122223333\",\"type\":\"AWS::CloudTrail::Trail\","
                 "\"ARN\":\"arn:aws:cloudtrail:us-east-1:111122223333:trail/t1\"}]");
    /* the row's columns */
    CHECK_SLICE(rows[0].account_id, "111122223333");
    CHECK_SLICE(rows[0].username, "root");
    CHECK_SLICE(rows[0].access_key_id, "AKIAROOTKEY000000001");
    CHECK_SLICE(rows[0].event_source, "cloudtrail.amazonaws.com");
    CHECK(!rows[0].read_only && rows[0].management && rows[0].resource_count == 1);
    CHECK_EQ_INT(rows[0].event_time_ms, 1795873803123);
    CHECK_SLICE(rows[0].event_id, moat_arena_cstr(a, moat_map_str(r, "eventID")));
    /* event ids are version 7 UUIDs: they sort by the time they were made */
    struct moat_slice id = moat_map_str(r, "eventID");
    CHECK(id.len == 36 && id.ptr[14] == '7' && id.ptr[8] == '-');
    struct store_audit_row later[2];
    audit_record_build(c, NULL, later);
    CHECK(moat_slice_cmp(later[0].event_id, rows[0].event_id) != 0);
    CHECK(memcmp(later[0].event_id.ptr, rows[0].event_id.ptr, 8) >= 0);
}

MOAT_TEST(read_only_call_logs_no_response_and_dates_java_style)
{
    struct moat_call *c = new_call(a, &ct_svc, &ct_ops[2], &root);
    moat_set_ts(a, c->input, CLOUDTRAIL_LOOKUP_EVENTS_REQUEST_START_TIME, 1795873803000);
    moat_set_int(a, c->input, CLOUDTRAIL_LOOKUP_EVENTS_REQUEST_MAX_RESULTS, 5);
    moat_set_list(a, c->output, CLOUDTRAIL_LOOKUP_EVENTS_RESPONSE_EVENTS);
    struct store_audit_row rows[2];
    audit_record_build(c, NULL, rows);
    struct moat_value *r = record_of(a, &rows[0]);
    CHECK_EQ_STR(json_of(a, moat_map_get(r, "requestParameters")),
                 "{\"startTime\":\"Nov 28, 2026 1:50:03 PM\",\"maxResults\":5}");
    CHECK(moat_map_get(r, "responseElements")->type == MOAT_V_NULL);
    CHECK(moat_map_bool(r, "readOnly", false) && rows[0].read_only);
    /* no input at all: requestParameters null */
    c = new_call(a, &ct_svc, &ct_ops[2], &root);
    audit_record_build(c, NULL, rows);
    r = record_of(a, &rows[0]);
    CHECK(moat_map_get(r, "requestParameters")->type == MOAT_V_NULL);
}

MOAT_TEST(sensitive_and_binary_members_are_left_out)
{
    struct moat_call *c = new_call(a, &kms_svc, &kms_ops[0], &root);
    moat_set_cstr(a, c->input, KMS_ENCRYPT_REQUEST_KEY_ID, "alias/k");
    moat_set_blob(a, c->input, KMS_ENCRYPT_REQUEST_PLAINTEXT, MOAT_LIT("TOP-SECRET-PLAINTEXT"));
    struct moat_value *ctx = moat_set_map(a, c->input, KMS_ENCRYPT_REQUEST_ENCRYPTION_CONTEXT);
    moat_map_push(a, ctx, MOAT_LIT("purpose"), moat_value_cstring(a, "test"));
    struct store_audit_row rows[2];
    audit_record_build(c, NULL, rows);
    struct moat_value *r = record_of(a, &rows[0]);
    CHECK_EQ_STR(json_of(a, moat_map_get(r, "requestParameters")),
                 "{\"keyId\":\"alias/k\",\"encryptionContext\":{\"purpose\":\"test\"}}");
    CHECK(!memmem(rows[0].record.ptr, rows[0].record.len, "TOP-SECRET", 10));
    CHECK(!memmem(rows[0].record.ptr, rows[0].record.len, "VE9QLVNFQ1JFVC", 14)); /* base64 */
}

MOAT_TEST(errors_and_denials)
{
    struct moat_call *c = new_call(a, &ct_svc, &ct_ops[1], &root);
    c->error = moat_fail(c, &not_found_kind, "Unknown trail: t9 for the user: 111122223333");
    struct store_audit_row rows[2];
    audit_record_build(c, NULL, rows);
    struct moat_value *r = record_of(a, &rows[0]);
    CHECK_SLICE(moat_map_str(r, "errorCode"), "TrailNotFoundException");
    CHECK_SLICE(moat_map_str(r, "errorMessage"), "Unknown trail: t9 for the user: 111122223333");
    CHECK_SLICE(r->u.entries[8].key, "errorCode"); /* after userAgent */
    /* a denial is recorded as AccessDenied whatever the API answered */
    c = new_call(a, &ct_svc, &ct_ops[1], &root);
    c->error = moat_fail(c, &denied_kind, "User: x is not authorized");
    c->error_is_denial = true;
    audit_record_build(c, NULL, rows);
    r = record_of(a, &rows[0]);
    CHECK_SLICE(moat_map_str(r, "errorCode"), "AccessDenied");
}

MOAT_TEST(iam_user_with_and_without_session)
{
    struct iam_principal u = {
        .type = IAM_PRINCIPAL_USER,
        .account_id = MOAT_LIT("111122223333"),
        .arn = MOAT_LIT("arn:aws:iam::111122223333:user/team/alice"),
        .principal_id = MOAT_LIT("AIDAEXAMPLEALICE00001"),
        .name = MOAT_LIT("alice"),
        .access_key_id = MOAT_LIT("AKIAALICE00000000001"),
    };
    struct moat_call *c = new_call(a, &ct_svc, &ct_ops[1], &u);
    struct store_audit_row rows[2];
    audit_record_build(c, NULL, rows);
    struct moat_value *r = record_of(a, &rows[0]);
    CHECK_EQ_STR(json_of(a, moat_map_get(r, "userIdentity")),
                 "{\"type\":\"IAMUser\",\"principalId\":\"AIDAEXAMPLEALICE00001\","
                 "\"arn\":\"arn:aws:iam::111122223333:user/team/alice\","
                 "\"accountId\":\"111122223333\",\"accessKeyId\":\"AKIAALICE00000000001\","
                 "\"userName\":\"alice\"}");
    CHECK_SLICE(rows[0].username, "alice");
    u.temporary = true;
    u.access_key_id = MOAT_LIT("ASIAALICE00000000001");
    u.issued_at_ms = 1795870000000;
    u.mfa_authenticated = true;
    c = new_call(a, &ct_svc, &ct_ops[1], &u);
    audit_record_build(c, NULL, rows);
    r = record_of(a, &rows[0]);
    CHECK_EQ_STR(json_of(a, moat_map_get(moat_map_get(r, "userIdentity"), "sessionContext")),
                 "{\"sessionIssuer\":{},\"webIdFederationData\":{},\"attributes\":"
                 "{\"creationDate\":\"2026-11-28T12:46:40Z\",\"mfaAuthenticated\":\"true\"}}");
}

static struct iam_principal role_session(void)
{
    struct iam_principal p = {
        .type = IAM_PRINCIPAL_ASSUMED_ROLE,
        .account_id = MOAT_LIT("111122223333"),
        .arn = MOAT_LIT("arn:aws:sts::111122223333:assumed-role/Admin/sess-1"),
        .principal_id = MOAT_LIT("AROAEXAMPLEROLE000001:sess-1"),
        .name = MOAT_LIT("sess-1"),
        .role_arn = MOAT_LIT("arn:aws:iam::111122223333:role/ops/Admin"),
        .role_name = MOAT_LIT("Admin"),
        .role_id = MOAT_LIT("AROAEXAMPLEROLE000001"),
        .access_key_id = MOAT_LIT("ASIAROLE000000000001"),
        .temporary = true,
        .issued_at_ms = 1795870000000,
        .source_identity = MOAT_LIT("carol"),
    };
    return p;
}

MOAT_TEST(assumed_role)
{
    struct iam_principal p = role_session();
    struct moat_call *c = new_call(a, &ct_svc, &ct_ops[1], &p);
    struct store_audit_row rows[2];
    audit_record_build(c, NULL, rows);
    struct moat_value *r = record_of(a, &rows[0]);
    CHECK_EQ_STR(json_of(a, moat_map_get(r, "userIdentity")),
                 "{\"type\":\"AssumedRole\",\"principalId\":\"AROAEXAMPLEROLE000001:sess-1\","
                 "\"arn\":\"arn:aws:sts::111122223333:assumed-role/Admin/sess-1\","
                 "\"accountId\":\"111122223333\",\"accessKeyId\":\"ASIAROLE000000000001\","
                 "\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\","
                 "\"principalId\":\"AROAEXAMPLEROLE000001\","
                 "\"arn\":\"arn:aws:iam::111122223333:role/ops/Admin\","
                 "\"accountId\":\"111122223333\",\"userName\":\"Admin\"},"
                 "\"webIdFederationData\":{},\"attributes\":{\"creationDate\":"
                 "\"2026-11-28T12:46:40Z\",\"mfaAuthenticated\":\"false\"},"
                 "\"sourceIdentity\":\"carol\"}}");
    CHECK_SLICE(rows[0].username, "sess-1");
}

MOAT_TEST(federated_users)
{
    struct iam_principal p = {
        .type = IAM_PRINCIPAL_FEDERATED_USER,
        .account_id = MOAT_LIT("111122223333"),
        .arn = MOAT_LIT("arn:aws:sts::111122223333:federated-user/bob"),
        .principal_id = MOAT_LIT("111122223333:bob"),
        .name = MOAT_LIT("bob"),
        .parent_user_arn = MOAT_LIT("arn:aws:iam::111122223333:user/alice"),
        .parent_user_id = MOAT_LIT("AIDAEXAMPLEALICE00001"),
        .access_key_id = MOAT_LIT("ASIAFED0000000000001"),
        .temporary = true,
    };
    struct moat_call *c = new_call(a, &ct_svc, &ct_ops[1], &p);
    struct store_audit_row rows[2];
    audit_record_build(c, NULL, rows);
    struct moat_value *r = record_of(a, &rows[0]);
    struct moat_value *ui = moat_map_get(r, "userIdentity");
    CHECK_SLICE(moat_map_str(ui, "type"), "FederatedUser");
    CHECK_EQ_STR(json_of(a, moat_map_get(moat_map_get(ui, "sessionContext"), "sessionIssuer")),
                 "{\"type\":\"IAMUser\",\"principalId\":\"AIDAEXAMPLEALICE00001\","
                 "\"arn\":\"arn:aws:iam::111122223333:user/alice\","
                 "\"accountId\":\"111122223333\",\"userName\":\"alice\"}");
    CHECK_SLICE(rows[0].username, "bob");
    p.parent_user_arn = MOAT_NULL_SLICE;
    p.parent_user_id = MOAT_NULL_SLICE;
    c = new_call(a, &ct_svc, &ct_ops[1], &p);
    audit_record_build(c, NULL, rows);
    r = record_of(a, &rows[0]);
    ui = moat_map_get(r, "userIdentity");
    CHECK_EQ_STR(json_of(a, moat_map_get(moat_map_get(ui, "sessionContext"), "sessionIssuer")),
                 "{\"type\":\"Root\",\"principalId\":\"111122223333\","
                 "\"arn\":\"arn:aws:iam::111122223333:root\",\"accountId\":\"111122223333\"}");
}

MOAT_TEST(unauthenticated_and_service_principals)
{
    struct iam_principal anon = {.type = IAM_PRINCIPAL_ANONYMOUS};
    struct moat_call *c = new_call(a, &ct_svc, &ct_ops[1], &anon);
    c->access_key_id = MOAT_LIT("AKIAUNKNOWN\xff\xfe");
    struct store_audit_row rows[2];
    audit_record_build(c, NULL, rows);
    struct moat_value *r = record_of(a, &rows[0]);
    CHECK_EQ_STR(json_of(a, moat_map_get(r, "userIdentity")),
                 "{\"type\":\"Unknown\",\"accessKeyId\":\"AKIAUNKNOWN\xef\xbf\xbd\xef\xbf\xbd\"}");
    CHECK_SLICE(rows[0].access_key_id, "AKIAUNKNOWN\xef\xbf\xbd\xef\xbf\xbd");
    CHECK(rows[0].username.len == 0);
    struct iam_principal svc = {.type = IAM_PRINCIPAL_SERVICE,
                                .arn = MOAT_LIT("config.amazonaws.com")};
    c = new_call(a, &ct_svc, &ct_ops[1], &svc);
    audit_record_build(c, NULL, rows);
    r = record_of(a, &rows[0]);
    CHECK_EQ_STR(json_of(a, moat_map_get(r, "userIdentity")),
                 "{\"type\":\"AWSService\",\"invokedBy\":\"config.amazonaws.com\"}");
}

MOAT_TEST(cross_account_writes_one_record_per_account)
{
    struct iam_principal p = role_session();
    struct moat_call *c = new_call(a, &kms_svc, &kms_ops[0], &p);
    c->authz.resource_account = "444455556666";
    moat_call_add_resource(
        c, "AWS::KMS::Key",
        "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    CHECK_EQ_STR(audit_cross_account(c), "444455556666");
    struct store_audit_row rows[2];
    CHECK_EQ_INT(audit_record_build(c, "444455556666", rows), 2);
    struct moat_value *mine = record_of(a, &rows[0]);
    struct moat_value *theirs = record_of(a, &rows[1]);
    CHECK_SLICE(moat_map_str(mine, "recipientAccountId"), "111122223333");
    CHECK_SLICE(moat_map_str(theirs, "recipientAccountId"), "444455556666");
    struct moat_slice shared = moat_map_str(mine, "sharedEventID");
    CHECK(shared.len == 36 && moat_slice_eq(shared, moat_map_str(theirs, "sharedEventID")));
    CHECK(!moat_slice_eq(moat_map_str(mine, "eventID"), moat_map_str(theirs, "eventID")));
    CHECK(moat_slice_eq(moat_map_str(mine, "requestID"), moat_map_str(theirs, "requestID")));
    CHECK_SLICE(moat_map_str(moat_map_get(mine, "userIdentity"), "type"), "AssumedRole");
    CHECK_EQ_STR(json_of(a, moat_map_get(theirs, "userIdentity")),
                 "{\"type\":\"AWSAccount\",\"principalId\":\"AROAEXAMPLEROLE000001:sess-1\","
                 "\"accountId\":\"111122223333\"}");
    /* the key's owner shows in both copies' resources */
    CHECK_SLICE(moat_map_str(moat_map_get(theirs, "resources")->u.items[0], "accountId"),
                "444455556666");
    CHECK_SLICE(rows[0].account_id, "111122223333");
    CHECK_SLICE(rows[1].account_id, "444455556666");
    CHECK_SLICE(rows[0].username, "sess-1");
    CHECK(rows[1].username.len == 0 && rows[1].access_key_id.len == 0);
    /* same account: not cross-account */
    c->authz.resource_account = "111122223333";
    CHECK(audit_cross_account(c) == NULL);
}

MOAT_TEST(internal_calls_and_service_events)
{
    struct moat_call *parent = new_call(a, &ct_svc, &ct_ops[0], &root);
    struct moat_call *child = new_call(a, &kms_svc, &kms_ops[0], &root);
    child->parent = parent;
    child->via_service = "cloudtrail";
    struct store_audit_row rows[2];
    audit_record_build(child, NULL, rows);
    struct moat_value *r = record_of(a, &rows[0]);
    CHECK_SLICE(moat_map_str(moat_map_get(r, "userIdentity"), "invokedBy"),
                "cloudtrail.amazonaws.com");
    CHECK_SLICE(moat_map_str(r, "sourceIPAddress"), "cloudtrail.amazonaws.com");
    CHECK_SLICE(moat_map_str(r, "userAgent"), "cloudtrail.amazonaws.com");

    struct moat_call *ev = new_call(a, &kms_svc, NULL, NULL);
    ev->event_type = "AwsServiceEvent";
    ev->event_name = "DeleteKey";
    ev->account_id = "111122223333";
    ev->read_only_event = false;
    audit_record_build(ev, NULL, rows);
    r = record_of(a, &rows[0]);
    CHECK_EQ_STR(json_of(a, moat_map_get(r, "userIdentity")),
                 "{\"accountId\":\"111122223333\",\"invokedBy\":\"kms.amazonaws.com\"}");
    CHECK(!moat_map_get(r, "requestID"));
    CHECK_SLICE(moat_map_str(r, "eventType"), "AwsServiceEvent");
    CHECK_SLICE(moat_map_str(r, "eventName"), "DeleteKey");
    CHECK(moat_map_get(r, "requestParameters")->type == MOAT_V_NULL);
}

MOAT_TEST(wire_text_stays_valid_utf8)
{
    struct moat_call *c = new_call(a, &ct_svc, &ct_ops[1], &root);
    c->user_agent = MOAT_LIT("agent\xff\xc0\x80\"\\\n");
    moat_set_str(a, c->input, CLOUDTRAIL_GET_TRAIL_REQUEST_NAME, MOAT_LIT("t\xed\xa0\x80x"));
    struct store_audit_row rows[2];
    audit_record_build(c, NULL, rows);
    struct moat_value *r = record_of(a, &rows[0]);
    CHECK_SLICE(moat_map_str(r, "userAgent"), "agent\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"\\\n");
    CHECK(r != NULL);
}

MOAT_TEST(row_check_detects_changed_columns)
{
    struct moat_call *c = new_call(a, &ct_svc, &ct_ops[0], &root);
    moat_call_add_resource(c, "AWS::CloudTrail::Trail", "arn:t");
    struct store_audit_row rows[2];
    audit_record_build(c, NULL, rows);
    CHECK(audit_row_check(a, &rows[0]) == NULL);
    struct store_audit_row r = rows[0];
    r.event_name = MOAT_LIT("DeleteTrail");
    CHECK(audit_row_check(a, &r) != NULL);
    r = rows[0];
    r.username = MOAT_LIT("mallory");
    CHECK(audit_row_check(a, &r) != NULL);
    r = rows[0];
    r.read_only = true;
    CHECK(audit_row_check(a, &r) != NULL);
    r = rows[0];
    r.event_time_ms += 5000;
    CHECK(audit_row_check(a, &r) != NULL);
    r = rows[0];
    r.resource_names[0] = MOAT_LIT("arn:other");
    CHECK(audit_row_check(a, &r) != NULL);
    r = rows[0];
    r.account_id = MOAT_LIT("999999999999");
    CHECK(audit_row_check(a, &r) != NULL);
    r = rows[0];
    r.record = MOAT_LIT("{not json");
    CHECK(audit_row_check(a, &r) != NULL);
}

MOAT_TEST(chain_hash)
{
    uint8_t zero[32] = {0}, h1[32], h2[32], h3[32];
    audit_chain_hash(zero, 1, MOAT_LIT("{\"a\":1}"), h1);
    audit_chain_hash(zero, 1, MOAT_LIT("{\"a\":1}"), h2);
    CHECK(memcmp(h1, h2, 32) == 0);
    audit_chain_hash(zero, 2, MOAT_LIT("{\"a\":1}"), h3);
    CHECK(memcmp(h1, h3, 32) != 0); /* the position is hashed */
    audit_chain_hash(h1, 1, MOAT_LIT("{\"a\":1}"), h3);
    CHECK(memcmp(h1, h3, 32) != 0); /* so is the predecessor */
    /* SHA-256(prev || seq as 8 bytes big-endian || record), computed independently */
    uint8_t msg[32 + 8 + 1] = {0};
    msg[32 + 6] = 0x01;
    msg[32 + 7] = 0x02; /* seq 258 */
    msg[40] = 'x';
    uint8_t want[32];
    SHA256(msg, sizeof(msg), want);
    audit_chain_hash(zero, 258, MOAT_LIT("x"), h1);
    CHECK(memcmp(h1, want, 32) == 0);
}

MOAT_TEST_MAIN(MOAT_CASE(root_fields_in_aws_order),
               MOAT_CASE(read_only_call_logs_no_response_and_dates_java_style),
               MOAT_CASE(sensitive_and_binary_members_are_left_out), MOAT_CASE(errors_and_denials),
               MOAT_CASE(iam_user_with_and_without_session), MOAT_CASE(assumed_role),
               MOAT_CASE(federated_users), MOAT_CASE(unauthenticated_and_service_principals),
               MOAT_CASE(cross_account_writes_one_record_per_account),
               MOAT_CASE(internal_calls_and_service_events), MOAT_CASE(wire_text_stays_valid_utf8),
               MOAT_CASE(row_check_detects_changed_columns), MOAT_CASE(chain_hash))

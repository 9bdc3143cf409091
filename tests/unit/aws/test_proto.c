/* test_proto.c: the JSON and Query codecs and validation, over a small
 * hand-written model with every kind of member. */
#include "aws/proto.h"
#include "aws/validate.h"
#include "core/json.h"
#include "harness.h"

#include "proto_fixture.h"

static const struct moat_error_kind invalid = {"ValidationException", 400, true};

MOAT_TEST(json_decode_and_encode)
{
    struct moat_value *in;
    struct moat_error *e = proto_json_decode(
        a, &s_in,
        MOAT_LIT("{\"Name\":\"bob\",\"Colour\":\"RED\",\"Count\":3,\"Flag\":true,"
                 "\"Secret\":\"aGk=\",\"When\":1440938160.5,\"Unknown\":[1],"
                 "\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}],\"Context\":{\"a\":\"b\"}}"),
        &in);
    CHECK(!e);
    CHECK_SLICE(moat_get_str(in, IN_NAME), "bob");
    CHECK_EQ_INT(moat_get_int(in, IN_COUNT, 0), 3);
    CHECK(moat_get_bool(in, IN_FLAG, false));
    CHECK_SLICE(moat_get_blob(in, IN_SECRET), "hi");
    CHECK_EQ_INT(moat_get_ts(in, IN_WHEN, 0), 1440938160500LL);
    struct moat_value *tags = moat_get(in, IN_TAGS);
    CHECK(tags && tags->count == 1);
    CHECK_SLICE(moat_get_str(tags->u.items[0], 0), "k");
    CHECK(!aws_validate(a, &s_in, in, &invalid));
    struct moat_buf b;
    moat_buf_init(&b, a, 128);
    proto_json_encode(&b, &s_in, in);
    CHECK_EQ_STR(moat_buf_cstr(&b),
                 "{\"Name\":\"bob\",\"Colour\":\"RED\",\"Count\":3,\"Flag\":true,"
                 "\"Secret\":\"aGk=\",\"When\":1440938160.5,"
                 "\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}],\"Context\":{\"a\":\"b\"}}");
}

MOAT_TEST(json_type_errors)
{
    const char *bad[] = {"{\"Name\":1}", "{\"Count\":\"3\"}", "{\"Count\":3.5}",
                         "{\"Flag\":\"true\"}", "{\"Secret\":\"***\"}", "{\"Tags\":{}}",
                         "{\"Tags\":[1]}", "{\"Context\":[]}", "[]", "{\"Count\":99999999999}",
                         "{\"Name\":\"x\"", "nul", "{\"When\":20157715777773}"};
    for (size_t i = 0; i < MOAT_COUNT(bad); i++) {
        struct moat_value *in;
        struct moat_error *e = proto_json_decode(a, &s_in, moat_slice_cstr(bad[i]), &in);
        if (!e || strcmp(e->kind->code, "SerializationException") != 0) {
            fprintf(stderr, "  not refused: %s\n", bad[i]);
            moat_test_failures++;
        }
    }
    struct moat_value *in;
    CHECK(!proto_json_decode(a, &s_in, MOAT_LIT(""), &in) && in->type == MOAT_V_STRUCT);
}

MOAT_TEST(validation_messages)
{
    struct moat_value *in;
    CHECK(!proto_json_decode(a, &s_in, MOAT_LIT("{\"Count\":0}"), &in));
    struct moat_error *e = aws_validate(a, &s_in, in, &invalid);
    CHECK(e != NULL);
    CHECK_EQ_STR(moat_arena_cstr(a, e->message),
                 "2 validation errors detected: Value null at 'name' failed to satisfy "
                 "constraint: Member must not be null; Value '0' at 'count' failed to satisfy "
                 "constraint: Member must have value greater than or equal to 1");
    CHECK(!proto_json_decode(a, &s_in,
                             MOAT_LIT("{\"Name\":\"a b\",\"Colour\":\"BLUE\",\"Tags\":[{\"Value\":"
                                      "\"123456789\"},{\"Key\":\"k\"},{\"Key\":\"k\"},{\"Key\":\"k\"}]}"),
                             &in));
    e = aws_validate(a, &s_in, in, &invalid);
    CHECK(e != NULL);
    const char *m = e ? moat_arena_cstr(a, e->message) : "";
    CHECK(strstr(m, "5 validation errors detected") != NULL);
    CHECK(strstr(m, "Value 'a b' at 'name' failed to satisfy constraint: Member must satisfy "
                    "regular expression pattern: [\\w+=,.@-]+") != NULL);
    CHECK(strstr(m, "Member must satisfy enum value set: [RED, GREEN]") != NULL);
    CHECK(strstr(m, "at 'tags' failed to satisfy constraint: Member must have length less than "
                    "or equal to 3") != NULL);
    CHECK(strstr(m, "Value null at 'tags.1.member.key'") != NULL);
    CHECK(strstr(m, "Value '123456789' at 'tags.1.member.value'") != NULL);
    /* sensitive values are not echoed */
    static const struct moat_shape s_short_secret = {.name = "S", .type = MOAT_SHAPE_STRING,
                                                     .flags = MOAT_SHAPE_SENSITIVE |
                                                              MOAT_SHAPE_HAS_MAX,
                                                     .max = 2};
    static const struct moat_member sm[] = {{"Pw", "Pw", &s_short_secret, MOAT_LOC_BODY, 0}};
    static const struct moat_shape s_sin = {.name = "SIn", .type = MOAT_SHAPE_STRUCTURE,
                                            .count = 1, .members = sm};
    CHECK(!proto_json_decode(a, &s_sin, MOAT_LIT("{\"Pw\":\"hunter2\"}"), &in));
    e = aws_validate(a, &s_sin, in, &invalid);
    CHECK(e && !strstr(moat_arena_cstr(a, e->message), "hunter2"));
}

MOAT_TEST(query_decode)
{
    struct proto_form form = {0};
    CHECK(proto_form_parse(a,
                           MOAT_LIT("Action=X&Name=al%2Bice&Count=4&Flag=false&Secret=aGk%3D&"
                                    "When=2015-08-30T12%3A36%3A00Z&Tags.member.1.Key=a&"
                                    "Tags.member.1.Value=b+c&Tags.member.2.Key=d&"
                                    "Context.entry.1.key=k1&Context.entry.1.value=v1"),
                           &form));
    struct moat_value *in;
    CHECK(!proto_query_decode(a, &s_in, &form, &invalid, &in));
    CHECK_SLICE(moat_get_str(in, IN_NAME), "al+ice");
    CHECK_EQ_INT(moat_get_int(in, IN_COUNT, 0), 4);
    CHECK(!moat_get_bool(in, IN_FLAG, true) && moat_has(in, IN_FLAG));
    CHECK_SLICE(moat_get_blob(in, IN_SECRET), "hi");
    CHECK_EQ_INT(moat_get_ts(in, IN_WHEN, 0), 1440938160000LL);
    struct moat_value *tags = moat_get(in, IN_TAGS);
    CHECK(tags && tags->count == 2);
    CHECK_SLICE(moat_get_str(tags->u.items[0], 1), "b c");
    CHECK(!moat_has(tags->u.items[1], 1));
    CHECK_SLICE(moat_map_str(moat_get(in, IN_CTX), "k1"), "v1");

    struct proto_form f2 = {0};
    CHECK(proto_form_parse(a, MOAT_LIT("Name=x&Tags="), &f2));
    CHECK(!proto_query_decode(a, &s_in, &f2, &invalid, &in));
    CHECK(moat_get(in, IN_TAGS) && moat_get(in, IN_TAGS)->count == 0);

    /* Epoch seconds past the bound every protocol shares (milliseconds would overflow). */
    const char *bad[] = {"Count=abc", "Flag=yes", "Secret=!!", "When=yesterday",
                         "Count=99999999999", "When=20157715777773",
                         "When=-9223372036854775807"};
    for (size_t i = 0; i < MOAT_COUNT(bad); i++) {
        struct proto_form f = {0};
        CHECK(proto_form_parse(a, moat_slice_cstr(bad[i]), &f));
        if (!proto_query_decode(a, &s_in, &f, &invalid, &in)) {
            fprintf(stderr, "  not refused: %s\n", bad[i]);
            moat_test_failures++;
        }
    }
    struct proto_form f3 = {0};
    CHECK(!proto_form_parse(a, MOAT_LIT("Name=%zz"), &f3));
}

MOAT_TEST(query_encode)
{
    struct moat_value *out = moat_struct_new(a, &s_in);
    moat_set_str(a, out, IN_NAME, MOAT_LIT("a<b&c"));
    moat_set_int(a, out, IN_COUNT, 2);
    moat_set_ts(a, out, IN_WHEN, 1440938160000LL);
    struct moat_value *tags = moat_set_list(a, out, IN_TAGS);
    struct moat_value *t = moat_list_add_struct(a, tags);
    moat_set_str(a, t, 0, MOAT_LIT("k"));
    struct moat_value *ctx = moat_set_map(a, out, IN_CTX);
    moat_map_set_str(a, ctx, "x", MOAT_LIT("y"));
    static const struct moat_op_shape op = {"DoIt", "POST", "/", NULL, &s_in, "DoItResult", 200};
    struct moat_buf b;
    moat_buf_init(&b, a, 256);
    proto_query_encode(&b, &op, "https://x/doc/", out, "req-1");
    CHECK_EQ_STR(moat_buf_cstr(&b),
                 "<DoItResponse xmlns=\"https://x/doc/\"><DoItResult><Name>a&lt;b&amp;c</Name>"
                 "<Count>2</Count><When>2015-08-30T12:36:00Z</When><Tags><member><Key>k</Key>"
                 "</member></Tags><Context><entry><key>x</key><value>y</value></entry></Context>"
                 "</DoItResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"
                 "</DoItResponse>");
    struct moat_error *e = moat_error_new(a, &invalid, "bad <thing>");
    moat_buf_init(&b, a, 256);
    proto_query_encode_error(&b, e, "ns", "r2");
    CHECK_EQ_STR(moat_buf_cstr(&b),
                 "<ErrorResponse xmlns=\"ns\"><Error><Type>Sender</Type><Code>ValidationException"
                 "</Code><Message>bad &lt;thing&gt;</Message></Error><RequestId>r2</RequestId>"
                 "</ErrorResponse>");
    moat_buf_init(&b, a, 64);
    proto_json_encode_error(&b, e);
    CHECK_EQ_STR(moat_buf_cstr(&b), "{\"__type\":\"ValidationException\",\"message\":\"bad <thing>\"}");
}

MOAT_TEST_MAIN(MOAT_CASE(json_decode_and_encode), MOAT_CASE(json_type_errors),
               MOAT_CASE(validation_messages), MOAT_CASE(query_decode), MOAT_CASE(query_encode))

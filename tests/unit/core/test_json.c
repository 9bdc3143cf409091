/* test_json.c: the strict JSON parser and the generic writer. */
#include "core/encoding.h"
#include "core/json.h"
#include "harness.h"

static struct moat_value *parse(struct moat_arena *a, const char *text, unsigned flags)
{
    struct moat_value *v = NULL;
    struct moat_json_error err;
    if (!moat_json_parse(a, moat_slice_cstr(text), flags, &v, &err))
        return NULL;
    return v;
}

static const char *roundtrip(struct moat_arena *a, const char *text)
{
    struct moat_value *v = parse(a, text, 0);
    if (!v)
        return "(parse error)";
    struct moat_buf b;
    moat_buf_init(&b, a, 64);
    moat_json_write(&b, v);
    return moat_buf_cstr(&b);
}

MOAT_TEST(objects_arrays_scalars)
{
    struct moat_value *v = parse(a, " {\"a\": [1, -2.5e3, true, false, null], \"b\": {\"c\": \"d\"}} ", 0);
    CHECK(v && v->type == MOAT_V_MAP && v->count == 2);
    struct moat_value *arr = moat_map_get(v, "a");
    CHECK(arr && arr->type == MOAT_V_LIST && arr->count == 5);
    CHECK(arr->u.items[0]->type == MOAT_V_NUMBER);
    CHECK_SLICE(arr->u.items[1]->u.s, "-2.5e3");
    CHECK(arr->u.items[2]->type == MOAT_V_BOOL && arr->u.items[2]->u.b);
    CHECK(arr->u.items[4]->type == MOAT_V_NULL);
    CHECK_SLICE(moat_map_str(moat_map_get(v, "b"), "c"), "d");
    int64_t n;
    CHECK(moat_value_as_int(arr->u.items[0], &n) && n == 1);
}

MOAT_TEST(string_escapes)
{
    struct moat_value *v = parse(a, "\"a\\n\\t\\\"\\\\\\/\\u00e9\\ud83d\\ude00\"", 0);
    CHECK(v && v->type == MOAT_V_STRING);
    CHECK_SLICE(v->u.s, "a\n\t\"\\/\xc3\xa9\xf0\x9f\x98\x80");
    CHECK_EQ_STR(roundtrip(a, "\"\\u0001x\""), "\"\\u0001x\"");
}

MOAT_TEST(rejects_malformed)
{
    const char *bad[] = {
        "", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5", "-", "1e",
        "tru", "nul", "\"abc", "\"\\x\"", "\"\\ud800\"", "\"\\udc00x\"", "\"a\x01\"", "[1] 2",
        "{\"a\":1}}", "\"\xc3\x28\"", "\"\xed\xa0\x80\"", "\"\xc0\xaf\"", "NaN", "Infinity",
    };
    for (size_t i = 0; i < MOAT_COUNT(bad); i++) {
        if (parse(a, bad[i], 0)) {
            fprintf(stderr, "  accepted: %s\n", bad[i]);
            moat_test_failures++;
        }
    }
}

MOAT_TEST(depth_limit)
{
    char deep[200], too_deep[200];
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = 0;
    memset(too_deep, '[', 65);
    memset(too_deep + 65, ']', 65);
    too_deep[130] = 0;
    CHECK(parse(a, deep, 0) != NULL);
    CHECK(parse(a, too_deep, 0) == NULL);
}

MOAT_TEST(duplicates_and_empty)
{
    CHECK(parse(a, "{\"a\":1,\"a\":2}", 0) != NULL);
    CHECK(parse(a, "{\"a\":1,\"a\":2}", MOAT_JSON_REJECT_DUPLICATES) == NULL);
    struct moat_value *v = parse(a, "  ", MOAT_JSON_ALLOW_EMPTY);
    CHECK(v && v->type == MOAT_V_NULL);
    CHECK(parse(a, "  ", 0) == NULL);
}

MOAT_TEST(error_offset)
{
    struct moat_value *v;
    struct moat_json_error err;
    CHECK(!moat_json_parse(a, MOAT_LIT("{\"a\": tru}"), 0, &v, &err));
    CHECK(err.what != NULL);
    CHECK_EQ_INT(err.offset, 6);
}

MOAT_TEST(writer)
{
    CHECK_EQ_STR(roundtrip(a, "{\"k\":[1,2,{\"x\":null}],\"s\":\"q\\\"\"}"),
                 "{\"k\":[1,2,{\"x\":null}],\"s\":\"q\\\"\"}");
    struct moat_buf b;
    moat_buf_init(&b, a, 16);
    moat_json_write_double(&b, 1.5);
    moat_buf_append_u8(&b, ' ');
    moat_json_write_double(&b, 1700000000.0);
    moat_buf_append_u8(&b, ' ');
    moat_json_write_double(&b, 0.1);
    CHECK_EQ_STR(moat_buf_cstr(&b), "1.5 1700000000 0.1");
    struct moat_value *m = moat_value_map(a);
    moat_map_set(a, m, MOAT_LIT("blob"), moat_value_blob(a, MOAT_LIT("hi")));
    moat_map_set_int(a, m, "n", -7);
    moat_buf_init(&b, a, 16);
    moat_json_write(&b, m);
    CHECK_EQ_STR(moat_buf_cstr(&b), "{\"blob\":\"aGk=\",\"n\":-7}");
}

MOAT_TEST(writer_keeps_utf8_valid)
{
    struct moat_buf b;
    moat_buf_init(&b, a, 16);
    moat_json_write_string(&b, MOAT_LIT("a\xff" "b\xc3\xa9\xe2\x82"));
    CHECK_EQ_STR(moat_buf_cstr(&b), "\"a\\ufffd" "b\xc3\xa9\\ufffd\\ufffd\"");
    struct moat_value *v;
    CHECK(moat_json_parse(a, moat_buf_slice(&b), 0, &v, NULL));
    struct moat_slice clean = moat_utf8_sanitize(a, MOAT_LIT("k\x00\xff"));
    CHECK(clean.len == 7 && moat_utf8_valid(clean));
    CHECK(moat_utf8_sanitize(a, MOAT_LIT("ok")).ptr != NULL);
}

MOAT_TEST_MAIN(MOAT_CASE(writer_keeps_utf8_valid), MOAT_CASE(objects_arrays_scalars), MOAT_CASE(string_escapes),
               MOAT_CASE(rejects_malformed), MOAT_CASE(depth_limit),
               MOAT_CASE(duplicates_and_empty), MOAT_CASE(error_offset), MOAT_CASE(writer))

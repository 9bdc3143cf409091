/* test_ssm_policy.c: the parameter-policy parser: the three policy types, their
 * attributes and units, timestamps in ISO_INSTANT and ISO_OFFSET_DATE_TIME, and every
 * refusal with its error kind. */
#include "core/buf.h"
#include "harness.h"
#include "services/ssm/ssm.h"

static bool parse(struct moat_arena *a, const char *json, struct ssm_policies *out,
                  const struct moat_error_kind **kind)
{
    struct moat_slice msg;
    *kind = NULL;
    bool ok = ssm_policies_parse(a, moat_slice_cstr(json), out, kind, &msg);
    if (!ok)
        CHECK(msg.len > 0 && *kind != NULL);
    return ok;
}

MOAT_TEST(valid)
{
    struct ssm_policies p;
    const struct moat_error_kind *k;
    CHECK(parse(a,
                "[{\"Type\":\"Expiration\",\"Version\":\"1.0\",\"Attributes\":{\"Timestamp\":"
                "\"2018-12-02T21:34:33.000Z\"}},{\"Type\":\"ExpirationNotification\",\"Version\":"
                "\"1.0\",\"Attributes\":{\"Before\":\"15\",\"Unit\":\"Days\"}},{\"Type\":"
                "\"NoChangeNotification\",\"Version\":\"1.0\",\"Attributes\":{\"After\":\"20\","
                "\"Unit\":\"Hours\"}}]",
                &p, &k));
    CHECK_EQ_INT(p.count, 3);
    CHECK_EQ_INT(p.items[0].type, SSM_POLICY_EXPIRATION);
    CHECK_EQ_INT(p.items[0].timestamp_ms, 1543786473000LL);
    CHECK_EQ_INT(p.items[1].period_ms, 15LL * 24 * 3600 * 1000);
    CHECK_EQ_INT(p.items[2].period_ms, 20LL * 3600 * 1000);
    CHECK_SLICE(p.items[2].text, "{\"Type\":\"NoChangeNotification\",\"Version\":\"1.0\","
                                 "\"Attributes\":{\"After\":\"20\",\"Unit\":\"Hours\"}}");
    CHECK(parse(a, "[]", &p, &k) && p.count == 0);
    CHECK(parse(a,
                " [ {\"Type\":\"NoChangeNotification\",\"Version\":\"1.0\",\"Attributes\":"
                "{\"After\":3,\"Unit\":\"Days\"}} ] ",
                &p, &k));
}

MOAT_TEST(times)
{
    int64_t ms;
    CHECK(ssm_policy_parse_time(MOAT_LIT("2019-11-01T22:13:48.87+10:30:00"), &ms));
    CHECK_EQ_INT(ms, 1572646428870LL - (10 * 3600 + 30 * 60) * 1000LL);
    CHECK(ssm_policy_parse_time(MOAT_LIT("2020-05-13T00:00Z"), &ms));
    CHECK_EQ_INT(ms, 1589328000000LL);
    CHECK(ssm_policy_parse_time(MOAT_LIT("2020-05-13T00:00:00-05:00"), &ms));
    CHECK_EQ_INT(ms, 1589346000000LL);
    CHECK(ssm_policy_parse_time(MOAT_LIT("2024-02-29T12:00:00.123456789Z"), &ms));
    CHECK(!ssm_policy_parse_time(MOAT_LIT("2023-02-29T12:00:00Z"), &ms));
    CHECK(!ssm_policy_parse_time(MOAT_LIT("2020-05-13T00:00:00"), &ms)); /* no zone */
    CHECK(!ssm_policy_parse_time(MOAT_LIT("2020-05-13"), &ms));
    CHECK(!ssm_policy_parse_time(MOAT_LIT("2020-05-13T24:00:00Z"), &ms));
    CHECK(!ssm_policy_parse_time(MOAT_LIT("2020-05-13T00:00:00.Z"), &ms));
    CHECK(!ssm_policy_parse_time(MOAT_LIT("2020-05-13T00:00:00Zjunk"), &ms));
    CHECK(!ssm_policy_parse_time(MOAT_LIT("2020-05-13T00:00:00+1030"), &ms));
    CHECK(!ssm_policy_parse_time(MOAT_LIT(""), &ms));
}

MOAT_TEST(refusals)
{
    struct ssm_policies p;
    const struct moat_error_kind *k;
    struct {
        const char *json;
        const struct moat_error_kind *kind;
    } cases[] = {
        {"", &ssm_invalid_policy_attribute},
        {"[", &ssm_invalid_policy_attribute},
        {"{}", &ssm_invalid_policy_attribute},
        {"[1]", &ssm_invalid_policy_attribute},
        {"[{}]", &ssm_invalid_policy_type},
        {"[{\"Type\":\"Nope\",\"Version\":\"1.0\",\"Attributes\":{}}]", &ssm_invalid_policy_type},
        {"[{\"Type\":\"Expiration\",\"Attributes\":{\"Timestamp\":\"2030-01-01T00:00:00Z\"}}]",
         &ssm_invalid_policy_attribute},
        {"[{\"Type\":\"Expiration\",\"Version\":\"1.0\"}]", &ssm_invalid_policy_attribute},
        {"[{\"Type\":\"Expiration\",\"Version\":\"1.0\",\"Attributes\":{}}]",
         &ssm_invalid_policy_attribute},
        {"[{\"Type\":\"Expiration\",\"Version\":\"1.0\",\"Attributes\":{\"Timestamp\":\"x\"}}]",
         &ssm_invalid_policy_attribute},
        {"[{\"Type\":\"Expiration\",\"Version\":\"1.0\",\"Attributes\":{\"Timestamp\":"
         "\"2030-01-01T00:00:00Z\",\"Other\":1}}]",
         &ssm_invalid_policy_attribute},
        {"[{\"Type\":\"Expiration\",\"Version\":\"1.0\",\"Extra\":1,\"Attributes\":{}}]",
         &ssm_invalid_policy_attribute},
        {"[{\"Type\":\"Expiration\",\"Version\":\"1.0\",\"Attributes\":{\"Timestamp\":"
         "\"2030-01-01T00:00:00Z\"}},{\"Type\":\"Expiration\",\"Version\":\"1.0\","
         "\"Attributes\":{\"Timestamp\":\"2031-01-01T00:00:00Z\"}}]",
         &ssm_incompatible_policy},
        {"[{\"Type\":\"ExpirationNotification\",\"Version\":\"1.0\",\"Attributes\":{\"Before\":"
         "\"1\",\"Unit\":\"Days\"}}]",
         &ssm_incompatible_policy},
        {"[{\"Type\":\"NoChangeNotification\",\"Version\":\"1.0\",\"Attributes\":{\"After\":"
         "\"0\",\"Unit\":\"Days\"}}]",
         &ssm_invalid_policy_attribute},
        {"[{\"Type\":\"NoChangeNotification\",\"Version\":\"1.0\",\"Attributes\":{\"After\":"
         "\"1.5\",\"Unit\":\"Days\"}}]",
         &ssm_invalid_policy_attribute},
        {"[{\"Type\":\"NoChangeNotification\",\"Version\":\"1.0\",\"Attributes\":{\"After\":"
         "\"99999999999999999999\",\"Unit\":\"Days\"}}]",
         &ssm_invalid_policy_attribute},
        {"[{\"Type\":\"NoChangeNotification\",\"Version\":\"1.0\",\"Attributes\":{\"After\":"
         "\"1\",\"Unit\":\"days\"}}]",
         &ssm_invalid_policy_attribute},
        {"[{\"Type\":\"NoChangeNotification\",\"Version\":\"1.0\",\"Attributes\":{\"After\":"
         "\"1\"}}]",
         &ssm_invalid_policy_attribute},
        {"[{\"Type\":\"Expiration\",\"Type\":\"Expiration\",\"Version\":\"1.0\",\"Attributes\":"
         "{}}]",
         &ssm_invalid_policy_attribute},
    };
    for (size_t i = 0; i < MOAT_COUNT(cases); i++) {
        bool ok = parse(a, cases[i].json, &p, &k);
        if (ok || k != cases[i].kind)
            fprintf(stderr, "  case %zu: %s\n", i, cases[i].json);
        CHECK(!ok);
        CHECK(k == cases[i].kind);
    }
    /* eleven policies */
    struct moat_buf b;
    moat_buf_init(&b, a, 2048);
    moat_buf_append_u8(&b, '[');
    for (int i = 0; i < 11; i++)
        moat_buf_printf(&b,
                        "%s{\"Type\":\"NoChangeNotification\",\"Version\":\"1.0\","
                        "\"Attributes\":{\"After\":\"%d\",\"Unit\":\"Days\"}}",
                        i ? "," : "", i + 1);
    moat_buf_append_u8(&b, ']');
    CHECK(!parse(a, moat_buf_cstr(&b), &p, &k));
    CHECK(k == &ssm_policies_limit_exceeded);
}

MOAT_TEST_MAIN(MOAT_CASE(valid), MOAT_CASE(times), MOAT_CASE(refusals))

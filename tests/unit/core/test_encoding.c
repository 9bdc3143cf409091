/* test_encoding.c: base64, hex, percent-coding, UTF-8 checks and dates. */
#include "core/clock.h"
#include "core/encoding.h"
#include "harness.h"

MOAT_TEST(base64)
{
    struct moat_buf b;
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < MOAT_COUNT(in); i++) {
        moat_buf_init(&b, a, 16);
        moat_base64_encode(&b, moat_slice_cstr(in[i]));
        CHECK_EQ_STR(moat_buf_cstr(&b), out[i]);
        struct moat_slice dec;
        CHECK(moat_base64_decode(a, moat_slice_cstr(out[i]), &dec));
        CHECK_SLICE(dec, in[i]);
    }
    struct moat_slice dec;
    CHECK(!moat_base64_decode(a, MOAT_LIT("Zm9"), &dec));     /* bad length */
    CHECK(!moat_base64_decode(a, MOAT_LIT("Zm9v!A=="), &dec)); /* bad char */
    CHECK(!moat_base64_decode(a, MOAT_LIT("Zh=="), &dec));     /* non-canonical */
    CHECK(!moat_base64_decode(a, MOAT_LIT("Zm 9v"), &dec));
    CHECK(moat_base64url_decode(a, MOAT_LIT("_-8"), &dec) && dec.len == 2);
}

MOAT_TEST(hex_and_url)
{
    struct moat_slice out;
    CHECK(moat_hex_decode(a, MOAT_LIT("00ffA0"), &out) && out.len == 3 && out.ptr[1] == 0xff);
    CHECK(!moat_hex_decode(a, MOAT_LIT("0g"), &out));
    CHECK(!moat_hex_decode(a, MOAT_LIT("abc"), &out));
    CHECK(moat_url_decode(a, MOAT_LIT("a%20b+c%2F"), true, &out));
    CHECK_SLICE(out, "a b c/");
    CHECK(moat_url_decode(a, MOAT_LIT("a+b"), false, &out));
    CHECK_SLICE(out, "a+b");
    CHECK(!moat_url_decode(a, MOAT_LIT("%2"), false, &out));
    CHECK(!moat_url_decode(a, MOAT_LIT("%zz"), false, &out));
    struct moat_buf b;
    moat_buf_init(&b, a, 16);
    moat_url_encode(&b, MOAT_LIT("a b/~\xc3\xa9"), false);
    CHECK_EQ_STR(moat_buf_cstr(&b), "a%20b%2F~%C3%A9");
}

MOAT_TEST(utf8)
{
    CHECK(moat_utf8_valid(MOAT_LIT("h\xc3\xa9llo \xf0\x9f\x98\x80")));
    CHECK(!moat_utf8_valid(MOAT_LIT("\xff")));
    CHECK(!moat_utf8_valid(MOAT_LIT("\xe2\x82")));
    CHECK(!moat_utf8_valid(MOAT_LIT("\xf4\x90\x80\x80")));
    CHECK_EQ_INT(moat_utf8_count(MOAT_LIT("h\xc3\xa9\xf0\x9f\x98\x80")), 3);
}

MOAT_TEST(dates)
{
    char buf[40];
    moat_time_format_iso8601(1440938160, buf);
    CHECK_EQ_STR(buf, "2015-08-30T12:36:00Z");
    moat_time_format_basic(1440938160, buf);
    CHECK_EQ_STR(buf, "20150830T123600Z");
    moat_time_format_rfc1123(1440938160, buf);
    CHECK_EQ_STR(buf, "Sun, 30 Aug 2015 12:36:00 GMT");
    int64_t t, ms;
    CHECK(moat_time_parse_basic(MOAT_LIT("20150830T123600Z"), &t) && t == 1440938160);
    CHECK(!moat_time_parse_basic(MOAT_LIT("20150230T123600Z"), &t));
    CHECK(!moat_time_parse_basic(MOAT_LIT("20150830T123600"), &t));
    CHECK(moat_time_parse_http(MOAT_LIT("Sun, 30 Aug 2015 12:36:00 GMT"), &t) && t == 1440938160);
    CHECK(moat_time_parse_iso8601(MOAT_LIT("2015-08-30T12:36:00.250Z"), &ms) &&
          ms == 1440938160250LL);
    CHECK(moat_time_parse_iso8601(MOAT_LIT("2015-08-30T14:36:00+02:00"), &ms) &&
          ms == 1440938160000LL);
    CHECK(moat_time_parse_iso8601(MOAT_LIT("2015-08-30"), &ms) && ms == 1440892800000LL);
    CHECK(!moat_time_parse_iso8601(MOAT_LIT("2015-13-01"), &ms));
    CHECK(!moat_time_parse_iso8601(MOAT_LIT("2015-08-30T12"), &ms));
    CHECK(moat_time_parse_iso8601(MOAT_LIT("2024-02-29T00:00:00Z"), &ms));
    CHECK(!moat_time_parse_iso8601(MOAT_LIT("2023-02-29T00:00:00Z"), &ms));
}

/* Long text: ASCII runs are checked a word at a time; a bad or multi-byte
 * sequence at any offset around a word boundary must still be judged. */
MOAT_TEST(utf8_long)
{
    static const char *const inserts[] = {"\xff", "\xe2\x82", "\xed\xa0\x80", "\xc3\xa9",
                                          "\xf0\x9f\x98\x80", "\xe2\x82\xac"};
    static const bool valid[] = {false, false, false, true, true, true};
    for (size_t k = 0; k < MOAT_COUNT(inserts); k++) {
        for (size_t at = 0; at < 24; at++) {
            char buf[64];
            size_t n = strlen(inserts[k]);
            memset(buf, 'a', sizeof(buf));
            memcpy(buf + at, inserts[k], n);
            CHECK(moat_utf8_valid(moat_slice(buf, at + n + 9)) == valid[k]);
            CHECK(moat_utf8_valid(moat_slice(buf, at + n)) == valid[k]);
        }
    }
    char ascii[40];
    memset(ascii, 'x', sizeof(ascii));
    CHECK(moat_utf8_valid(moat_slice(ascii, sizeof(ascii))));
}

MOAT_TEST_MAIN(MOAT_CASE(base64), MOAT_CASE(hex_and_url), MOAT_CASE(utf8), MOAT_CASE(utf8_long),
               MOAT_CASE(dates))

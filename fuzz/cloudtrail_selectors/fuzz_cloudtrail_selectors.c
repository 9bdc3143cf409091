/* fuzz_cloudtrail_selectors.c: arbitrary bytes as a PutEventSelectors document and as a
 * stored CloudTrail record. Whatever the parser accepts must write a canonical form that
 * parses back to the same canonical form, and evaluates against a set of events.
 * Build: make build-fuzz/cloudtrail_selectors/fuzz_cloudtrail_selectors. */
#include "core/json.h"
#include "services/cloudtrail/cloudtrail.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct moat_slice types[] = {MOAT_LIT("AWS::S3::Object"),
                                          MOAT_LIT("AWS::DynamoDB::Table")};
static const struct moat_slice arns[] = {MOAT_LIT("arn:aws:s3:::bucket-a/logs/x"),
                                         MOAT_LIT("arn:aws:dynamodb:us-east-1:1:table/t")};

static void evaluate(const struct cloudtrail_selectors *s, const struct cloudtrail_event_facts *e)
{
    struct cloudtrail_trail t = {
        .account_id = MOAT_LIT("111122223333"),
        .home_region = MOAT_LIT("us-east-1"),
        .include_global_service_events = true,
        .logging = true,
        .selectors = *s,
    };
    for (int multi = 0; multi < 2; multi++) {
        t.multi_region = multi;
        (void)cloudtrail_selectors_match(&t, e);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct moat_arena *a = moat_arena_new(4096);
    struct moat_value *doc;
    if (moat_json_parse(a, moat_slice(data, size), 0, &doc, NULL)) {
        struct cloudtrail_selectors s;
        if (cloudtrail_selectors_parse(a, doc, &s) == NULL) {
            struct moat_buf b1, b2;
            moat_buf_init(&b1, a, 256);
            cloudtrail_selectors_write(&b1, &s);
            struct moat_value *doc2;
            struct cloudtrail_selectors s2;
            if (!moat_json_parse(a, moat_buf_slice(&b1), 0, &doc2, NULL) ||
                cloudtrail_selectors_parse(a, doc2, &s2) != NULL)
                abort(); /* the canonical form must read back */
            moat_buf_init(&b2, a, 256);
            cloudtrail_selectors_write(&b2, &s2);
            if (b1.len != b2.len || memcmp(b1.ptr, b2.ptr, b1.len) != 0)
                abort();
            for (int cat = 0; cat < 3; cat++)
                for (int ro = 0; ro < 2; ro++) {
                    struct cloudtrail_event_facts e = {
                        .recipient_account_id = MOAT_LIT("111122223333"),
                        .aws_region = ro ? MOAT_LIT("us-east-1") : MOAT_LIT("eu-west-1"),
                        .category = (enum cloudtrail_category)cat,
                        .event_source = MOAT_LIT("s3.amazonaws.com"),
                        .event_name = MOAT_LIT("PutObject"),
                        .event_type = MOAT_LIT("AwsApiCall"),
                        .read_only = ro,
                        .resource_count = (size_t)cat,
                        .resource_types = types,
                        .resource_arns = arns,
                    };
                    evaluate(&s2, &e);
                }
        }
        /* the same document as a stored record */
        struct cloudtrail_event_facts e;
        if (cloudtrail_event_facts_from_record(a, doc, &e)) {
            struct cloudtrail_selectors d;
            cloudtrail_selectors_default(&d);
            evaluate(&d, &e);
        }
    }
    moat_arena_free(a);
    return 0;
}

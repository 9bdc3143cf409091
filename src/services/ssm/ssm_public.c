/* ssm_public.c: the public parameters AWS publishes under /aws/service/global-infrastructure
 * (Regions with their long name, domain, partition and location, the services offered in
 * each, and the services with the Regions they run in), compiled into moat as read-only
 * data and served in name order for GetParameter(s) and GetParametersByPath.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters-global-infrastructure.html
 */
#include "services/ssm/ssm.h"

#include "core/buf.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROOT "/aws/service/global-infrastructure"

/* When this table was compiled (the LastModifiedDate of its parameters). */
#define COMPILED_MS 1795824000000LL /* 2026-11-28T00:00:00Z */

struct region {
    const char *name, *long_name, *domain, *partition, *country, *location;
};

static const struct region regions[] = {
    {"af-south-1", "Africa (Cape Town)", "amazonaws.com", "aws", "ZA", "ZA-WC"},
    {"ap-east-1", "Asia Pacific (Hong Kong)", "amazonaws.com", "aws", "CN", "CN-HK"},
    {"ap-east-2", "Asia Pacific (Taipei)", "amazonaws.com", "aws", "TW", "TW-TPE"},
    {"ap-northeast-1", "Asia Pacific (Tokyo)", "amazonaws.com", "aws", "JP", "JP-13"},
    {"ap-northeast-2", "Asia Pacific (Seoul)", "amazonaws.com", "aws", "KR", "KR-28"},
    {"ap-northeast-3", "Asia Pacific (Osaka)", "amazonaws.com", "aws", "JP", "JP-27"},
    {"ap-south-1", "Asia Pacific (Mumbai)", "amazonaws.com", "aws", "IN", "IN-MH"},
    {"ap-south-2", "Asia Pacific (Hyderabad)", "amazonaws.com", "aws", "IN", "IN-TG"},
    {"ap-southeast-1", "Asia Pacific (Singapore)", "amazonaws.com", "aws", "SG", "SG-01"},
    {"ap-southeast-2", "Asia Pacific (Sydney)", "amazonaws.com", "aws", "AU", "AU-NSW"},
    {"ap-southeast-3", "Asia Pacific (Jakarta)", "amazonaws.com", "aws", "ID", "ID-JK"},
    {"ap-southeast-4", "Asia Pacific (Melbourne)", "amazonaws.com", "aws", "AU", "AU-VIC"},
    {"ap-southeast-5", "Asia Pacific (Malaysia)", "amazonaws.com", "aws", "MY", "MY-14"},
    {"ap-southeast-6", "Asia Pacific (New Zealand)", "amazonaws.com", "aws", "NZ", "NZ-AUK"},
    {"ap-southeast-7", "Asia Pacific (Thailand)", "amazonaws.com", "aws", "TH", "TH-10"},
    {"ca-central-1", "Canada (Central)", "amazonaws.com", "aws", "CA", "CA-QC"},
    {"ca-west-1", "Canada West (Calgary)", "amazonaws.com", "aws", "CA", "CA-AB"},
    {"cn-north-1", "China (Beijing)", "amazonaws.com.cn", "aws-cn", "CN", "CN-BJ"},
    {"cn-northwest-1", "China (Ningxia)", "amazonaws.com.cn", "aws-cn", "CN", "CN-NX"},
    {"eu-central-1", "Europe (Frankfurt)", "amazonaws.com", "aws", "DE", "DE-HE"},
    {"eu-central-2", "Europe (Zurich)", "amazonaws.com", "aws", "CH", "CH-ZH"},
    {"eu-north-1", "Europe (Stockholm)", "amazonaws.com", "aws", "SE", "SE-AB"},
    {"eu-south-1", "Europe (Milan)", "amazonaws.com", "aws", "IT", "IT-MI"},
    {"eu-south-2", "Europe (Spain)", "amazonaws.com", "aws", "ES", "ES-AR"},
    {"eu-west-1", "Europe (Ireland)", "amazonaws.com", "aws", "IE", "IE-D"},
    {"eu-west-2", "Europe (London)", "amazonaws.com", "aws", "GB", "GB-LND"},
    {"eu-west-3", "Europe (Paris)", "amazonaws.com", "aws", "FR", "FR-75C"},
    {"eusc-de-east-1", "AWS European Sovereign Cloud (Germany)", "amazonaws.eu", "aws-eusc", "DE",
     "DE-BE"},
    {"il-central-1", "Israel (Tel Aviv)", "amazonaws.com", "aws", "IL", "IL-TA"},
    {"me-central-1", "Middle East (UAE)", "amazonaws.com", "aws", "AE", "AE-DU"},
    {"me-south-1", "Middle East (Bahrain)", "amazonaws.com", "aws", "BH", "BH-14"},
    {"mx-central-1", "Mexico (Central)", "amazonaws.com", "aws", "MX", "MX-QUE"},
    {"sa-east-1", "South America (Sao Paulo)", "amazonaws.com", "aws", "BR", "BR-SP"},
    {"us-east-1", "US East (N. Virginia)", "amazonaws.com", "aws", "US", "US-VA"},
    {"us-east-2", "US East (Ohio)", "amazonaws.com", "aws", "US", "US-OH"},
    {"us-gov-east-1", "AWS GovCloud (US-East)", "amazonaws.com", "aws-us-gov", "US", "US-OH"},
    {"us-gov-west-1", "AWS GovCloud (US-West)", "amazonaws.com", "aws-us-gov", "US", "US-OR"},
    {"us-west-1", "US West (N. California)", "amazonaws.com", "aws", "US", "US-CA"},
    {"us-west-2", "US West (Oregon)", "amazonaws.com", "aws", "US", "US-OR"},
};

/* The security-plane services and their neighbours; `absent` lists the Regions a
 * service does not run in (space-separated, each followed by a space). */
struct service {
    const char *name, *long_name, *home, *absent;
};

static const struct service services[] = {
    {"acm", "AWS Certificate Manager", "https://aws.amazon.com/certificate-manager/", ""},
    {"acm-pca", "AWS Private Certificate Authority", "https://aws.amazon.com/private-ca/", ""},
    {"cloudhsmv2", "AWS CloudHSM", "https://aws.amazon.com/cloudhsm/",
     "ap-east-2 ap-southeast-4 cn-north-1 cn-northwest-1 eusc-de-east-1 "},
    {"cloudtrail", "AWS CloudTrail", "https://aws.amazon.com/cloudtrail/", ""},
    {"cloudwatch", "Amazon CloudWatch", "https://aws.amazon.com/cloudwatch/", ""},
    {"config", "AWS Config", "https://aws.amazon.com/config/", ""},
    {"dynamodb", "Amazon DynamoDB", "https://aws.amazon.com/dynamodb/", ""},
    {"ec2", "Amazon Elastic Compute Cloud (EC2)", "https://aws.amazon.com/ec2/", ""},
    {"eventbridge", "Amazon EventBridge", "https://aws.amazon.com/eventbridge/", ""},
    {"events", "Amazon CloudWatch Events", NULL, ""},
    {"fms", "AWS Firewall Manager", "https://aws.amazon.com/firewall-manager/", "eusc-de-east-1 "},
    {"guardduty", "Amazon GuardDuty", "https://aws.amazon.com/guardduty/", ""},
    {"iam", "AWS Identity and Access Management (IAM)", "https://aws.amazon.com/iam", ""},
    {"inspector2", "Amazon Inspector", "https://aws.amazon.com/inspector/",
     "ap-east-2 ap-southeast-6 eusc-de-east-1 "},
    {"kms", "AWS Key Management Service", "https://aws.amazon.com/kms/", ""},
    {"lambda", "AWS Lambda", "https://aws.amazon.com/lambda/", ""},
    {"logs", "Amazon CloudWatch Logs", "https://aws.amazon.com/cloudwatch/", ""},
    {"organizations", "AWS Organizations", "https://aws.amazon.com/organizations", ""},
    {"s3", "Amazon Simple Storage Service (S3)", "https://aws.amazon.com/s3/", ""},
    {"secretsmanager", "AWS Secrets Manager", "https://aws.amazon.com/secrets-manager/", ""},
    {"securityhub", "AWS Security Hub", "https://aws.amazon.com/security-hub/", ""},
    {"shield", "AWS Shield", "https://aws.amazon.com/shield/",
     "ap-east-2 ap-southeast-6 cn-north-1 cn-northwest-1 eusc-de-east-1 us-gov-east-1 "
     "us-gov-west-1 "},
    {"sns", "Amazon Simple Notification Service (SNS)", "https://aws.amazon.com/sns/", ""},
    {"sqs", "Amazon Simple Queue Service (SQS)", "https://aws.amazon.com/sqs/", ""},
    {"ssm", "AWS Systems Manager", "https://aws.amazon.com/systems-manager/", ""},
    {"sts", "AWS Security Token Service", NULL, ""},
    {"waf", "AWS WAF", "https://aws.amazon.com/waf/", ""},
};

struct entry {
    char *name, *value;
};

static struct entry *table;
static size_t table_count, table_cap;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void add(const char *value, const char *fmt, ...) MOAT_PRINTF(2, 3);

static void add(const char *value, const char *fmt, ...)
{
    if (table_count == table_cap) {
        table_cap = table_cap ? table_cap * 2 : 1024;
        table = moat_xrealloc(table, table_cap * sizeof(*table));
    }
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    table[table_count].name = moat_xstrdup(buf);
    table[table_count].value = moat_xstrdup(value);
    table_count++;
}

static bool runs_in(const struct service *s, const char *region)
{
    size_t n = strlen(region);
    for (const char *p = s->absent; (p = strstr(p, region)) != NULL; p += n)
        if ((p == s->absent || p[-1] == ' ') && p[n] == ' ')
            return false;
    return true;
}

static int by_name(const void *x, const void *y)
{
    return strcmp(((const struct entry *)x)->name, ((const struct entry *)y)->name);
}

/* Built once, never freed: process-lifetime read-only data. */
static void build(void)
{
    for (size_t r = 0; r < MOAT_COUNT(regions); r++) {
        const struct region *g = &regions[r];
        add(g->name, ROOT "/regions/%s", g->name);
        add(g->long_name, ROOT "/regions/%s/longName", g->name);
        add(g->domain, ROOT "/regions/%s/domain", g->name);
        add(g->partition, ROOT "/regions/%s/partition", g->name);
        add(g->country, ROOT "/regions/%s/geolocationCountry", g->name);
        add(g->location, ROOT "/regions/%s/geolocationRegion", g->name);
        for (size_t s = 0; s < MOAT_COUNT(services); s++)
            if (runs_in(&services[s], g->name))
                add(services[s].name, ROOT "/regions/%s/services/%s", g->name, services[s].name);
    }
    for (size_t s = 0; s < MOAT_COUNT(services); s++) {
        const struct service *v = &services[s];
        add(v->name, ROOT "/services/%s", v->name);
        add(v->long_name, ROOT "/services/%s/longName", v->name);
        if (v->home)
            add(v->home, ROOT "/services/%s/marketingHomeURL", v->name);
        for (size_t r = 0; r < MOAT_COUNT(regions); r++)
            if (runs_in(v, regions[r].name))
                add(regions[r].name, ROOT "/services/%s/regions/%s", v->name, regions[r].name);
    }
    qsort(table, table_count, sizeof(*table), by_name);
}

static void ensure(void)
{
    pthread_once(&table_once, build);
}

/* Index of the first entry whose name is >= key. */
static size_t lower_bound(struct moat_slice key)
{
    size_t lo = 0, hi = table_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (moat_slice_cmp(moat_slice_cstr(table[mid].name), key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int64_t ssm_public_modified_ms(void)
{
    return COMPILED_MS;
}

bool ssm_public_is(struct moat_slice name)
{
    return moat_slice_starts_with(name, MOAT_LIT("/aws/service/"));
}

bool ssm_public_get(struct moat_arena *a, struct moat_slice name, struct ssm_public *out)
{
    MOAT_UNUSED(a);
    ensure();
    size_t i = lower_bound(name);
    if (i == table_count || !moat_slice_eq_cstr(name, table[i].name))
        return false;
    out->name = moat_slice_cstr(table[i].name);
    out->value = moat_slice_cstr(table[i].value);
    return true;
}

size_t ssm_public_list(struct moat_arena *a, struct moat_slice path, bool recursive,
                       struct moat_slice after, size_t limit, struct ssm_public *out, bool *more)
{
    ensure();
    *more = false;
    struct moat_buf pb;
    moat_buf_init(&pb, a, path.len + 2);
    moat_buf_append(&pb, path);
    moat_buf_append_u8(&pb, '/');
    struct moat_slice prefix = moat_buf_slice(&pb);
    size_t i = lower_bound(after.len && moat_slice_cmp(after, prefix) > 0 ? after : prefix);
    size_t n = 0;
    for (; i < table_count; i++) {
        struct moat_slice name = moat_slice_cstr(table[i].name);
        if (!moat_slice_starts_with(name, prefix))
            break;
        if (after.len && moat_slice_cmp(name, after) <= 0)
            continue;
        if (!recursive && moat_slice_index(moat_slice_sub(name, prefix.len, name.len), '/') >= 0)
            continue;
        if (n == limit) {
            *more = true;
            break;
        }
        out[n].name = name;
        out[n].value = moat_slice_cstr(table[i].value);
        n++;
    }
    return n;
}

const char *ssm_public_arn(struct moat_arena *a, const char *region, struct moat_slice name)
{
    return moat_arena_printf(a, "arn:%s:ssm:%s::parameter%.*s", ssm_partition(region), region,
                             MOAT_FMT(name));
}

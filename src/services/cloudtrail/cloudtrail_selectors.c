/* cloudtrail_selectors.c: basic and advanced event selectors: parsing and
 * validation (AWS's limits and field rules), canonical storage form, and the
 * one function that decides whether a trail logs an event.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_PutEventSelectors.html
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedFieldSelector.html */
#include "services/cloudtrail/cloudtrail.h"

#include "core/encoding.h"
#include "core/json.h"

#include <stdio.h>
#include <string.h>

static const char *const field_names[CLOUDTRAIL_FIELD_COUNT] = {
    [CLOUDTRAIL_FIELD_EVENT_CATEGORY] = "eventCategory",
    [CLOUDTRAIL_FIELD_EVENT_SOURCE] = "eventSource",
    [CLOUDTRAIL_FIELD_EVENT_NAME] = "eventName",
    [CLOUDTRAIL_FIELD_EVENT_TYPE] = "eventType",
    [CLOUDTRAIL_FIELD_READ_ONLY] = "readOnly",
    [CLOUDTRAIL_FIELD_RESOURCES_TYPE] = "resources.type",
    [CLOUDTRAIL_FIELD_RESOURCES_ARN] = "resources.ARN",
    [CLOUDTRAIL_FIELD_ERROR_CODE] = "errorCode",
    [CLOUDTRAIL_FIELD_SESSION_FROM_CONSOLE] = "sessionCredentialFromConsole",
    [CLOUDTRAIL_FIELD_USER_IDENTITY_ARN] = "userIdentity.arn",
    [CLOUDTRAIL_FIELD_VPC_ENDPOINT_ID] = "vpcEndpointId",
};

static const char *const match_names[CLOUDTRAIL_MATCH_COUNT] = {
    "Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith",
};

static const char *const category_names[] = {"Management", "Data", "NetworkActivity"};

/* Management event sources a trail may exclude (AWS allows only these two). */
static const char *const excludable_sources[] = {"kms.amazonaws.com", "rdsdata.amazonaws.com"};

/* Services whose events are global: recorded in us-east-1 and delivered by
 * trails that include global service events. */
static const char *const global_sources[] = {
    "iam.amazonaws.com",     "organizations.amazonaws.com", "cloudfront.amazonaws.com",
    "route53.amazonaws.com", "waf.amazonaws.com",           "signin.amazonaws.com",
    "account.amazonaws.com",
};

#define VALUE_MAX_LEN 2048
#define NAME_MAX_LEN 1000

static bool in_list(struct moat_slice s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (moat_slice_eq_cstr(s, list[i]))
            return true;
    return false;
}

static bool is_null(const struct moat_value *v)
{
    return !v || v->type == MOAT_V_NULL;
}

/* A list of non-empty strings (absent = empty list). NULL or a message. */
static const char *string_list(struct moat_arena *a, const struct moat_value *v, const char *what,
                               size_t max_len, struct cloudtrail_values *out)
{
    out->items = NULL;
    out->count = 0;
    if (is_null(v))
        return NULL;
    if (v->type != MOAT_V_LIST)
        return moat_arena_printf(a, "%s must be a list of strings.", what);
    struct moat_slice *items = moat_arena_alloc(a, (v->count ? v->count : 1) * sizeof(*items));
    for (uint32_t i = 0; i < v->count; i++) {
        const struct moat_value *it = v->u.items[i];
        if (!it || it->type != MOAT_V_STRING)
            return moat_arena_printf(a, "%s must be a list of strings.", what);
        if (!it->u.s.len || !moat_utf8_valid(it->u.s) || moat_utf8_count(it->u.s) > max_len)
            return moat_arena_printf(a, "Each value of %s must be between 1 and %zu characters.",
                                     what, max_len);
        items[i] = it->u.s;
    }
    out->items = items;
    out->count = v->count;
    return NULL;
}

/* ---- basic selectors ----------------------------------------------------------------- */

static bool arn_partition_prefix(struct moat_slice v, const char *service, struct moat_slice *rest)
{
    static const char *const partitions[] = {"aws", "aws-cn", "aws-us-gov"};
    for (size_t i = 0; i < MOAT_COUNT(partitions); i++) {
        char head[64];
        int n = snprintf(head, sizeof(head), "arn:%s:%s", partitions[i], service);
        struct moat_slice h = moat_slice(head, (size_t)n);
        if (moat_slice_starts_with(v, h)) {
            *rest = moat_slice_sub(v, (size_t)n, v.len);
            return true;
        }
    }
    return false;
}

/* A 12-digit account id followed by `sep`; advances *s past both. */
static bool take_region_account(struct moat_slice *s)
{
    /* ":<region>:<account>:" */
    struct moat_slice rest = *s, region, account;
    if (!rest.len || rest.ptr[0] != ':')
        return false;
    rest = moat_slice_sub(rest, 1, rest.len);
    if (!moat_slice_split(&rest, ':', &region) || !region.len)
        return false;
    if (!moat_slice_split(&rest, ':', &account) || account.len != 12)
        return false;
    for (size_t i = 0; i < 12; i++)
        if (account.ptr[i] < '0' || account.ptr[i] > '9')
            return false;
    *s = rest;
    return true;
}

static const char *check_data_value(struct moat_arena *a, struct moat_slice type,
                                    struct moat_slice v)
{
    struct moat_slice rest;
    if (moat_slice_eq_cstr(type, "AWS::S3::Object")) {
        /* arn:aws:s3 (every bucket) or arn:aws:s3:::bucket[/prefix] */
        if (arn_partition_prefix(v, "s3", &rest) &&
            (rest.len == 0 || (moat_slice_starts_with(rest, MOAT_LIT(":::")) && rest.len >= 6)))
            return NULL;
    } else if (moat_slice_eq_cstr(type, "AWS::Lambda::Function")) {
        if (arn_partition_prefix(v, "lambda", &rest) &&
            (rest.len == 0 ||
             (take_region_account(&rest) && moat_slice_starts_with(rest, MOAT_LIT("function:")) &&
              rest.len > 9)))
            return NULL;
    } else if (moat_slice_eq_cstr(type, "AWS::DynamoDB::Table")) {
        if (arn_partition_prefix(v, "dynamodb", &rest) &&
            (rest.len == 0 || (take_region_account(&rest) &&
                               moat_slice_starts_with(rest, MOAT_LIT("table/")) && rest.len > 6)))
            return NULL;
    }
    return moat_arena_printf(a, "Value %.*s for data resource type %.*s is not a valid ARN.",
                             MOAT_FMT(moat_slice_sub(v, 0, 256)), MOAT_FMT(type));
}

static const char *parse_basic(struct moat_arena *a, const struct moat_value *list,
                               struct cloudtrail_selectors *out)
{
    if (list->type != MOAT_V_LIST)
        return "EventSelectors must be a list.";
    if (list->count > CLOUDTRAIL_MAX_EVENT_SELECTORS)
        return moat_arena_printf(a, "A trail can have at most %d event selectors; %u were given.",
                                 CLOUDTRAIL_MAX_EVENT_SELECTORS, list->count);
    struct cloudtrail_event_selector *sel =
        moat_arena_calloc(a, (list->count ? list->count : 1) * sizeof(*sel));
    size_t total_values = 0;
    for (uint32_t i = 0; i < list->count; i++) {
        const struct moat_value *m = list->u.items[i];
        struct cloudtrail_event_selector *s = &sel[i];
        if (!m || m->type != MOAT_V_MAP)
            return "Each event selector must be an object.";
        const struct moat_value *rw = moat_map_get(m, "ReadWriteType");
        s->rw = CLOUDTRAIL_RW_ALL;
        if (!is_null(rw)) {
            if (rw->type != MOAT_V_STRING)
                return "ReadWriteType must be ReadOnly, WriteOnly or All.";
            if (moat_slice_eq_cstr(rw->u.s, "ReadOnly"))
                s->rw = CLOUDTRAIL_RW_READ_ONLY;
            else if (moat_slice_eq_cstr(rw->u.s, "WriteOnly"))
                s->rw = CLOUDTRAIL_RW_WRITE_ONLY;
            else if (!moat_slice_eq_cstr(rw->u.s, "All"))
                return moat_arena_printf(a,
                                         "Value %.*s for ReadWriteType is not valid: use ReadOnly, "
                                         "WriteOnly or All.",
                                         MOAT_FMT(moat_slice_sub(rw->u.s, 0, 64)));
        }
        const struct moat_value *im = moat_map_get(m, "IncludeManagementEvents");
        s->include_management = true;
        if (!is_null(im)) {
            if (im->type != MOAT_V_BOOL)
                return "IncludeManagementEvents must be true or false.";
            s->include_management = im->u.b;
        }
        const struct moat_value *dr = moat_map_get(m, "DataResources");
        if (!is_null(dr)) {
            if (dr->type != MOAT_V_LIST)
                return "DataResources must be a list.";
            struct cloudtrail_data_resource *d =
                moat_arena_calloc(a, (dr->count ? dr->count : 1) * sizeof(*d));
            for (uint32_t j = 0; j < dr->count; j++) {
                const struct moat_value *dm = dr->u.items[j];
                if (!dm || dm->type != MOAT_V_MAP)
                    return "Each data resource must be an object.";
                const struct moat_value *t = moat_map_get(dm, "Type");
                if (is_null(t) || t->type != MOAT_V_STRING || !t->u.s.len)
                    return "Each data resource needs a Type.";
                d[j].type = t->u.s;
                if (!moat_slice_eq_cstr(t->u.s, "AWS::S3::Object") &&
                    !moat_slice_eq_cstr(t->u.s, "AWS::Lambda::Function") &&
                    !moat_slice_eq_cstr(t->u.s, "AWS::DynamoDB::Table"))
                    return moat_arena_printf(
                        a,
                        "Data resource type %.*s is not valid for event selectors: use "
                        "AWS::S3::Object, AWS::Lambda::Function or AWS::DynamoDB::Table, or "
                        "advanced event selectors for other resource types.",
                        MOAT_FMT(moat_slice_sub(t->u.s, 0, 128)));
                const char *why = string_list(a, moat_map_get(dm, "Values"), "Values",
                                              VALUE_MAX_LEN, &d[j].values);
                if (why)
                    return why;
                if (!d[j].values.count)
                    return moat_arena_printf(a, "Data resource %.*s needs at least one value.",
                                             MOAT_FMT(t->u.s));
                for (size_t k = 0; k < d[j].values.count; k++) {
                    why = check_data_value(a, t->u.s, d[j].values.items[k]);
                    if (why)
                        return why;
                }
                total_values += d[j].values.count;
            }
            s->data = d;
            s->data_count = dr->count;
        }
        const char *why =
            string_list(a, moat_map_get(m, "ExcludeManagementEventSources"),
                        "ExcludeManagementEventSources", VALUE_MAX_LEN, &s->exclude_sources);
        if (why)
            return why;
        for (size_t k = 0; k < s->exclude_sources.count; k++)
            if (!in_list(s->exclude_sources.items[k], excludable_sources,
                         MOAT_COUNT(excludable_sources)))
                return moat_arena_printf(
                    a,
                    "Management event source %.*s cannot be excluded: only "
                    "kms.amazonaws.com and rdsdata.amazonaws.com can.",
                    MOAT_FMT(moat_slice_sub(s->exclude_sources.items[k], 0, 128)));
    }
    if (total_values > CLOUDTRAIL_MAX_DATA_RESOURCE_VALUES)
        return moat_arena_printf(a,
                                 "A trail can have at most %d data resource values across its "
                                 "event selectors; %zu were given.",
                                 CLOUDTRAIL_MAX_DATA_RESOURCE_VALUES, total_values);
    out->advanced = false;
    out->basic = sel;
    out->basic_count = list->count;
    return NULL;
}

/* ---- advanced selectors --------------------------------------------------------------- */

static bool field_allowed(enum cloudtrail_category c, enum cloudtrail_field f)
{
    switch (c) {
    case CLOUDTRAIL_CAT_MANAGEMENT:
        return f == CLOUDTRAIL_FIELD_EVENT_CATEGORY || f == CLOUDTRAIL_FIELD_READ_ONLY ||
               f == CLOUDTRAIL_FIELD_EVENT_SOURCE;
    case CLOUDTRAIL_CAT_DATA:
        return f != CLOUDTRAIL_FIELD_ERROR_CODE && f != CLOUDTRAIL_FIELD_VPC_ENDPOINT_ID;
    case CLOUDTRAIL_CAT_NETWORK_ACTIVITY:
        return f == CLOUDTRAIL_FIELD_EVENT_CATEGORY || f == CLOUDTRAIL_FIELD_EVENT_SOURCE ||
               f == CLOUDTRAIL_FIELD_ERROR_CODE || f == CLOUDTRAIL_FIELD_VPC_ENDPOINT_ID;
    }
    return false;
}

static bool only_ops(const struct cloudtrail_field_selector *fs, unsigned allowed_mask)
{
    for (int k = 0; k < CLOUDTRAIL_MATCH_COUNT; k++)
        if (fs->ops[k].count && !(allowed_mask & (1u << k)))
            return false;
    return true;
}

static bool values_in(const struct cloudtrail_values *v, const char *const *list, size_t n)
{
    for (size_t i = 0; i < v->count; i++)
        if (!in_list(v->items[i], list, n))
            return false;
    return true;
}

#define EQ_MASK (1u << CLOUDTRAIL_MATCH_EQUALS)
#define NE_MASK (1u << CLOUDTRAIL_MATCH_NOT_EQUALS)

/* Rules that depend on the selector's category, once its fields are known. */
static const char *check_advanced(struct moat_arena *a, struct cloudtrail_advanced_selector *s,
                                  const struct cloudtrail_field_selector *by_field[])
{
    static const char *const bools[] = {"true", "false"};
    for (size_t i = 0; i < s->field_count; i++) {
        const struct cloudtrail_field_selector *fs = &s->fields[i];
        const char *fname = field_names[fs->field];
        if (!field_allowed(s->category, fs->field))
            return moat_arena_printf(a, "Field %s is not supported for %s events.", fname,
                                     category_names[s->category]);
        switch (fs->field) {
        case CLOUDTRAIL_FIELD_READ_ONLY:
        case CLOUDTRAIL_FIELD_SESSION_FROM_CONSOLE:
            if (!only_ops(fs, EQ_MASK | NE_MASK) ||
                !values_in(&fs->ops[CLOUDTRAIL_MATCH_EQUALS], bools, 2) ||
                !values_in(&fs->ops[CLOUDTRAIL_MATCH_NOT_EQUALS], bools, 2))
                return moat_arena_printf(a,
                                         "Field %s supports only Equals or NotEquals with the "
                                         "values true or false.",
                                         fname);
            break;
        case CLOUDTRAIL_FIELD_EVENT_SOURCE:
            if (s->category == CLOUDTRAIL_CAT_MANAGEMENT &&
                (!only_ops(fs, NE_MASK) ||
                 !values_in(&fs->ops[CLOUDTRAIL_MATCH_NOT_EQUALS], excludable_sources,
                            MOAT_COUNT(excludable_sources))))
                return "For management events, eventSource supports only NotEquals with "
                       "kms.amazonaws.com or rdsdata.amazonaws.com.";
            if (s->category == CLOUDTRAIL_CAT_NETWORK_ACTIVITY && !only_ops(fs, EQ_MASK))
                return "For network activity events, eventSource supports only Equals.";
            break;
        case CLOUDTRAIL_FIELD_RESOURCES_TYPE:
            if (!only_ops(fs, EQ_MASK) || fs->ops[CLOUDTRAIL_MATCH_EQUALS].count != 1)
                return "Field resources.type supports only Equals, with one resource type.";
            {
                struct moat_slice t = fs->ops[CLOUDTRAIL_MATCH_EQUALS].items[0];
                if (!moat_slice_starts_with(t, MOAT_LIT("AWS::")) || t.len < 10)
                    return moat_arena_printf(a, "Resource type %.*s is not valid.",
                                             MOAT_FMT(moat_slice_sub(t, 0, 128)));
            }
            break;
        case CLOUDTRAIL_FIELD_ERROR_CODE:
            if (!only_ops(fs, EQ_MASK))
                return "Field errorCode supports only Equals.";
            {
                static const char *const codes[] = {"VpceAccessDenied"};
                if (!values_in(&fs->ops[CLOUDTRAIL_MATCH_EQUALS], codes, 1))
                    return "Field errorCode supports only the value VpceAccessDenied.";
            }
            break;
        case CLOUDTRAIL_FIELD_EVENT_TYPE:
            if (!only_ops(fs, EQ_MASK | NE_MASK))
                return "Field eventType supports only Equals or NotEquals.";
            break;
        default:
            break;
        }
    }
    if (s->category == CLOUDTRAIL_CAT_DATA && !by_field[CLOUDTRAIL_FIELD_RESOURCES_TYPE])
        return "An advanced event selector for data events must include a resources.type "
               "field selector.";
    if (s->category == CLOUDTRAIL_CAT_NETWORK_ACTIVITY && !by_field[CLOUDTRAIL_FIELD_EVENT_SOURCE])
        return "An advanced event selector for network activity events must include an "
               "eventSource field selector.";
    return NULL;
}

static const char *parse_advanced(struct moat_arena *a, const struct moat_value *list,
                                  struct cloudtrail_selectors *out)
{
    if (list->type != MOAT_V_LIST)
        return "AdvancedEventSelectors must be a list.";
    struct cloudtrail_advanced_selector *sel =
        moat_arena_calloc(a, (list->count ? list->count : 1) * sizeof(*sel));
    size_t total_values = 0;
    for (uint32_t i = 0; i < list->count; i++) {
        const struct moat_value *m = list->u.items[i];
        struct cloudtrail_advanced_selector *s = &sel[i];
        if (!m || m->type != MOAT_V_MAP)
            return "Each advanced event selector must be an object.";
        const struct moat_value *name = moat_map_get(m, "Name");
        if (!is_null(name)) {
            if (name->type != MOAT_V_STRING || !moat_utf8_valid(name->u.s) ||
                moat_utf8_count(name->u.s) > NAME_MAX_LEN)
                return "The Name of an advanced event selector must be a string of at most 1000 "
                       "characters.";
            s->name = name->u.s;
        }
        const struct moat_value *fl = moat_map_get(m, "FieldSelectors");
        if (is_null(fl) || fl->type != MOAT_V_LIST || fl->count == 0)
            return "Each advanced event selector needs at least one field selector.";
        struct cloudtrail_field_selector *fields =
            moat_arena_calloc(a, fl->count * sizeof(*fields));
        const struct cloudtrail_field_selector *by_field[CLOUDTRAIL_FIELD_COUNT] = {0};
        for (uint32_t j = 0; j < fl->count; j++) {
            const struct moat_value *fm = fl->u.items[j];
            struct cloudtrail_field_selector *fs = &fields[j];
            if (!fm || fm->type != MOAT_V_MAP)
                return "Each field selector must be an object.";
            const struct moat_value *f = moat_map_get(fm, "Field");
            if (is_null(f) || f->type != MOAT_V_STRING)
                return "Each field selector needs a Field.";
            int which = -1;
            for (int k = 0; k < CLOUDTRAIL_FIELD_COUNT; k++)
                if (moat_slice_eq_cstr(f->u.s, field_names[k]))
                    which = k;
            if (which < 0)
                return moat_arena_printf(a,
                                         "Field %.*s is not a valid advanced event selector "
                                         "field.",
                                         MOAT_FMT(moat_slice_sub(f->u.s, 0, 128)));
            if (by_field[which])
                return moat_arena_printf(a,
                                         "Field %s appears more than once in one advanced "
                                         "event selector.",
                                         field_names[which]);
            fs->field = (enum cloudtrail_field)which;
            by_field[which] = fs;
            size_t nvalues = 0;
            for (int k = 0; k < CLOUDTRAIL_MATCH_COUNT; k++) {
                const struct moat_value *ov = moat_map_get(fm, match_names[k]);
                const char *why = string_list(a, ov, match_names[k], VALUE_MAX_LEN, &fs->ops[k]);
                if (why)
                    return why;
                if (!is_null(ov) && !fs->ops[k].count)
                    return moat_arena_printf(a, "%s of field %s needs at least one value.",
                                             match_names[k], field_names[which]);
                nvalues += fs->ops[k].count;
            }
            if (!nvalues)
                return moat_arena_printf(a, "Field selector %s needs an operator with values.",
                                         field_names[which]);
            total_values += nvalues;
        }
        s->fields = fields;
        s->field_count = fl->count;
        const struct cloudtrail_field_selector *cat = by_field[CLOUDTRAIL_FIELD_EVENT_CATEGORY];
        if (!cat || !only_ops(cat, EQ_MASK) || cat->ops[CLOUDTRAIL_MATCH_EQUALS].count != 1)
            return "Each advanced event selector needs an eventCategory field selector with "
                   "Equals and one value.";
        struct moat_slice c = cat->ops[CLOUDTRAIL_MATCH_EQUALS].items[0];
        if (moat_slice_eq_cstr(c, "Management"))
            s->category = CLOUDTRAIL_CAT_MANAGEMENT;
        else if (moat_slice_eq_cstr(c, "Data"))
            s->category = CLOUDTRAIL_CAT_DATA;
        else if (moat_slice_eq_cstr(c, "NetworkActivity"))
            s->category = CLOUDTRAIL_CAT_NETWORK_ACTIVITY;
        else
            return moat_arena_printf(a,
                                     "Value %.*s for eventCategory is not valid for trails: use "
                                     "Management, Data or NetworkActivity.",
                                     MOAT_FMT(moat_slice_sub(c, 0, 128)));
        const char *why = check_advanced(a, s, by_field);
        if (why)
            return why;
    }
    if (total_values > CLOUDTRAIL_MAX_ADVANCED_VALUES)
        return moat_arena_printf(a,
                                 "A trail can have at most %d values across all conditions of its "
                                 "advanced event selectors; %zu were given.",
                                 CLOUDTRAIL_MAX_ADVANCED_VALUES, total_values);
    out->advanced = true;
    out->adv = sel;
    out->adv_count = list->count;
    return NULL;
}

const char *cloudtrail_selectors_parse(struct moat_arena *a, const struct moat_value *doc,
                                       struct cloudtrail_selectors *out)
{
    memset(out, 0, sizeof(*out));
    if (!doc || doc->type != MOAT_V_MAP)
        return "The event selectors must be an object.";
    const struct moat_value *basic = moat_map_get(doc, "EventSelectors");
    const struct moat_value *adv = moat_map_get(doc, "AdvancedEventSelectors");
    if (!is_null(basic) && !is_null(adv))
        return "You can specify EventSelectors or AdvancedEventSelectors, but not both.";
    if (!is_null(basic))
        return parse_basic(a, basic, out);
    if (!is_null(adv))
        return parse_advanced(a, adv, out);
    return "Specify EventSelectors or AdvancedEventSelectors.";
}

void cloudtrail_selectors_default(struct cloudtrail_selectors *out)
{
    static const struct cloudtrail_event_selector all = {
        .rw = CLOUDTRAIL_RW_ALL,
        .include_management = true,
    };
    memset(out, 0, sizeof(*out));
    out->basic = &all;
    out->basic_count = 1;
}

static void write_values(struct moat_buf *b, const struct cloudtrail_values *v)
{
    moat_buf_append_u8(b, '[');
    for (size_t i = 0; i < v->count; i++) {
        if (i)
            moat_buf_append_u8(b, ',');
        moat_json_write_string(b, v->items[i]);
    }
    moat_buf_append_u8(b, ']');
}

void cloudtrail_selectors_write(struct moat_buf *b, const struct cloudtrail_selectors *s)
{
    static const char *const rw_names[] = {"All", "ReadOnly", "WriteOnly"};
    if (!s->advanced) {
        moat_buf_append_cstr(b, "{\"EventSelectors\":[");
        for (size_t i = 0; i < s->basic_count; i++) {
            const struct cloudtrail_event_selector *e = &s->basic[i];
            moat_buf_printf(b,
                            "%s{\"ReadWriteType\":\"%s\",\"IncludeManagementEvents\":%s,"
                            "\"DataResources\":[",
                            i ? "," : "", rw_names[e->rw],
                            e->include_management ? "true" : "false");
            for (size_t j = 0; j < e->data_count; j++) {
                moat_buf_append_cstr(b, j ? ",{\"Type\":" : "{\"Type\":");
                moat_json_write_string(b, e->data[j].type);
                moat_buf_append_cstr(b, ",\"Values\":");
                write_values(b, &e->data[j].values);
                moat_buf_append_u8(b, '}');
            }
            moat_buf_append_cstr(b, "],\"ExcludeManagementEventSources\":");
            write_values(b, &e->exclude_sources);
            moat_buf_append_u8(b, '}');
        }
        moat_buf_append_cstr(b, "]}");
        return;
    }
    moat_buf_append_cstr(b, "{\"AdvancedEventSelectors\":[");
    for (size_t i = 0; i < s->adv_count; i++) {
        const struct cloudtrail_advanced_selector *e = &s->adv[i];
        moat_buf_append_cstr(b, i ? ",{" : "{");
        if (e->name.len) {
            moat_buf_append_cstr(b, "\"Name\":");
            moat_json_write_string(b, e->name);
            moat_buf_append_u8(b, ',');
        }
        moat_buf_append_cstr(b, "\"FieldSelectors\":[");
        for (size_t j = 0; j < e->field_count; j++) {
            const struct cloudtrail_field_selector *fs = &e->fields[j];
            moat_buf_printf(b, "%s{\"Field\":\"%s\"", j ? "," : "", field_names[fs->field]);
            for (int k = 0; k < CLOUDTRAIL_MATCH_COUNT; k++) {
                if (!fs->ops[k].count)
                    continue;
                moat_buf_printf(b, ",\"%s\":", match_names[k]);
                write_values(b, &fs->ops[k]);
            }
            moat_buf_append_u8(b, '}');
        }
        moat_buf_append_cstr(b, "]}");
    }
    moat_buf_append_cstr(b, "]}");
}

/* ---- evaluation ------------------------------------------------------------------------- */

static bool rw_selects(enum cloudtrail_rw rw, bool read_only)
{
    return rw == CLOUDTRAIL_RW_ALL || (rw == CLOUDTRAIL_RW_READ_ONLY) == read_only;
}

static bool has_value(const struct cloudtrail_values *v, struct moat_slice s)
{
    for (size_t i = 0; i < v->count; i++)
        if (moat_slice_eq(v->items[i], s))
            return true;
    return false;
}

/* A basic data resource value selects an ARN: the bare "arn:aws:s3" style value
 * selects every resource of its type, an S3 value is a bucket/prefix, the others
 * name one function or table. */
static bool data_value_selects(struct moat_slice type, struct moat_slice value,
                               struct moat_slice arn)
{
    struct moat_slice rest;
    const char *svc = moat_slice_eq_cstr(type, "AWS::S3::Object")         ? "s3"
                      : moat_slice_eq_cstr(type, "AWS::Lambda::Function") ? "lambda"
                                                                          : "dynamodb";
    if (arn_partition_prefix(value, svc, &rest) && rest.len == 0)
        return arn_partition_prefix(arn, svc, &rest);
    if (!strcmp(svc, "s3"))
        return moat_slice_starts_with(arn, value);
    return moat_slice_eq(arn, value);
}

static bool basic_selects(const struct cloudtrail_selectors *s,
                          const struct cloudtrail_event_facts *e)
{
    for (size_t i = 0; i < s->basic_count; i++) {
        const struct cloudtrail_event_selector *sel = &s->basic[i];
        if (!rw_selects(sel->rw, e->read_only))
            continue;
        if (e->category == CLOUDTRAIL_CAT_MANAGEMENT) {
            if (sel->include_management && !has_value(&sel->exclude_sources, e->event_source))
                return true;
            continue;
        }
        if (e->category != CLOUDTRAIL_CAT_DATA)
            continue;
        for (size_t j = 0; j < sel->data_count; j++) {
            const struct cloudtrail_data_resource *d = &sel->data[j];
            for (size_t r = 0; r < e->resource_count; r++) {
                if (!moat_slice_eq(d->type, e->resource_types[r]))
                    continue;
                for (size_t k = 0; k < d->values.count; k++)
                    if (data_value_selects(d->type, d->values.items[k], e->resource_arns[r]))
                        return true;
            }
        }
    }
    return false;
}

static bool op_holds(enum cloudtrail_match op, const struct cloudtrail_values *v,
                     struct moat_slice s)
{
    bool any = false;
    for (size_t i = 0; i < v->count && !any; i++) {
        switch (op) {
        case CLOUDTRAIL_MATCH_EQUALS:
        case CLOUDTRAIL_MATCH_NOT_EQUALS:
            any = moat_slice_eq(s, v->items[i]);
            break;
        case CLOUDTRAIL_MATCH_STARTS_WITH:
        case CLOUDTRAIL_MATCH_NOT_STARTS_WITH:
            any = moat_slice_starts_with(s, v->items[i]);
            break;
        default:
            any = moat_slice_ends_with(s, v->items[i]);
            break;
        }
    }
    bool negated = op >= CLOUDTRAIL_MATCH_NOT_EQUALS;
    return negated ? !any : any;
}

static bool field_holds(const struct cloudtrail_field_selector *fs, struct moat_slice value)
{
    for (int k = 0; k < CLOUDTRAIL_MATCH_COUNT; k++)
        if (fs->ops[k].count && !op_holds((enum cloudtrail_match)k, &fs->ops[k], value))
            return false;
    return true;
}

/* The value an event has for a field; resource fields read resource r (or the
 * empty string when the event names none). */
static struct moat_slice field_value(const struct cloudtrail_event_facts *e,
                                     enum cloudtrail_field f, size_t r)
{
    switch (f) {
    case CLOUDTRAIL_FIELD_EVENT_CATEGORY:
        return moat_slice_cstr(category_names[e->category]);
    case CLOUDTRAIL_FIELD_EVENT_SOURCE:
        return e->event_source;
    case CLOUDTRAIL_FIELD_EVENT_NAME:
        return e->event_name;
    case CLOUDTRAIL_FIELD_EVENT_TYPE:
        return e->event_type;
    case CLOUDTRAIL_FIELD_READ_ONLY:
        return e->read_only ? MOAT_LIT("true") : MOAT_LIT("false");
    case CLOUDTRAIL_FIELD_RESOURCES_TYPE:
        return r < e->resource_count ? e->resource_types[r] : MOAT_LIT("");
    case CLOUDTRAIL_FIELD_RESOURCES_ARN:
        return r < e->resource_count ? e->resource_arns[r] : MOAT_LIT("");
    case CLOUDTRAIL_FIELD_ERROR_CODE:
        return e->error_code;
    case CLOUDTRAIL_FIELD_SESSION_FROM_CONSOLE:
        return e->session_credential_from_console ? MOAT_LIT("true") : MOAT_LIT("false");
    case CLOUDTRAIL_FIELD_USER_IDENTITY_ARN:
        return e->user_identity_arn;
    case CLOUDTRAIL_FIELD_VPC_ENDPOINT_ID:
        return e->vpc_endpoint_id;
    default:
        return MOAT_LIT("");
    }
}

static bool is_resource_field(enum cloudtrail_field f)
{
    return f == CLOUDTRAIL_FIELD_RESOURCES_TYPE || f == CLOUDTRAIL_FIELD_RESOURCES_ARN;
}

/* Every field selector holds; resource conditions hold together for one resource. */
static bool advanced_selects(const struct cloudtrail_advanced_selector *s,
                             const struct cloudtrail_event_facts *e)
{
    if (s->category != e->category)
        return false;
    bool has_resource_fields = false;
    for (size_t i = 0; i < s->field_count; i++) {
        if (is_resource_field(s->fields[i].field)) {
            has_resource_fields = true;
            continue;
        }
        if (!field_holds(&s->fields[i], field_value(e, s->fields[i].field, 0)))
            return false;
    }
    if (!has_resource_fields)
        return true;
    size_t n = e->resource_count ? e->resource_count : 1;
    for (size_t r = 0; r < n; r++) {
        bool all = true;
        for (size_t i = 0; i < s->field_count && all; i++)
            if (is_resource_field(s->fields[i].field))
                all = field_holds(&s->fields[i], field_value(e, s->fields[i].field, r));
        if (all)
            return true;
    }
    return false;
}

bool cloudtrail_selectors_match(const struct cloudtrail_trail *trail,
                                const struct cloudtrail_event_facts *e)
{
    if (!trail->logging)
        return false;
    bool own = moat_slice_eq(e->recipient_account_id, trail->account_id);
    bool org = trail->organization_trail && trail->organization_id.len &&
               moat_slice_eq(e->organization_id, trail->organization_id);
    if (!own && !org)
        return false;
    if (e->global_service) {
        if (!trail->include_global_service_events)
            return false;
    } else if (!trail->multi_region && !moat_slice_eq(e->aws_region, trail->home_region)) {
        return false;
    }
    const struct cloudtrail_selectors *s = &trail->selectors;
    if (!s->advanced)
        return basic_selects(s, e);
    for (size_t i = 0; i < s->adv_count; i++)
        if (advanced_selects(&s->adv[i], e))
            return true;
    return false;
}

static struct moat_slice map_text(const struct moat_value *m, const char *key)
{
    const struct moat_value *v = moat_map_get(m, key);
    return v && v->type == MOAT_V_STRING ? v->u.s : MOAT_LIT("");
}

bool cloudtrail_event_facts_from_record(struct moat_arena *a, const struct moat_value *record,
                                        struct cloudtrail_event_facts *out)
{
    memset(out, 0, sizeof(*out));
    if (!record || record->type != MOAT_V_MAP)
        return false;
    out->event_source = map_text(record, "eventSource");
    out->event_name = map_text(record, "eventName");
    out->aws_region = map_text(record, "awsRegion");
    out->recipient_account_id = map_text(record, "recipientAccountId");
    if (!out->event_source.len || !out->event_name.len || !out->aws_region.len ||
        !out->recipient_account_id.len)
        return false;
    struct moat_slice cat = map_text(record, "eventCategory");
    out->category = moat_slice_eq_cstr(cat, "Data")              ? CLOUDTRAIL_CAT_DATA
                    : moat_slice_eq_cstr(cat, "NetworkActivity") ? CLOUDTRAIL_CAT_NETWORK_ACTIVITY
                                                                 : CLOUDTRAIL_CAT_MANAGEMENT;
    const struct moat_value *ro = moat_map_get(record, "readOnly");
    out->read_only = ro && ro->type == MOAT_V_BOOL && ro->u.b;
    out->event_type = map_text(record, "eventType");
    out->error_code = map_text(record, "errorCode");
    out->vpc_endpoint_id = map_text(record, "vpcEndpointId");
    out->user_identity_arn = map_text(moat_map_get(record, "userIdentity"), "arn");
    const struct moat_value *sc = moat_map_get(record, "sessionCredentialFromConsole");
    out->session_credential_from_console =
        sc && ((sc->type == MOAT_V_BOOL && sc->u.b) ||
               (sc->type == MOAT_V_STRING && moat_slice_eq_cstr(sc->u.s, "true")));
    out->global_service = in_list(out->event_source, global_sources, MOAT_COUNT(global_sources));
    const struct moat_value *res = moat_map_get(record, "resources");
    if (res && res->type == MOAT_V_LIST && res->count) {
        struct moat_slice *types = moat_arena_alloc(a, res->count * sizeof(*types));
        struct moat_slice *arns = moat_arena_alloc(a, res->count * sizeof(*arns));
        for (uint32_t i = 0; i < res->count; i++) {
            types[i] = map_text(res->u.items[i], "type");
            arns[i] = map_text(res->u.items[i], "ARN");
        }
        out->resource_types = types;
        out->resource_arns = arns;
        out->resource_count = res->count;
    }
    return true;
}

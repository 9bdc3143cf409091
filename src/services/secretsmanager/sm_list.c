/* sm_list.c: ListSecrets with its filters, sort orders and pagination; the same
 * filters select the secrets of BatchGetSecretValue. */
#include "aws/shapes/shapes_secretsmanager.h"
#include "services/secretsmanager/sm.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

/* ---- filters ----------------------------------------------------------------------
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Filter.html
 *   description: prefix match, not case-sensitive (of the words of the description)
 *   name, tag-key, tag-value, primary-region, owning-service: prefix match, case-sensitive
 *   all: breaks the value into words and searches every attribute; not case-sensitive
 * A value starting with '!' negates. Values of one filter are ORed, filters are ANDed. */

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool is_alnum(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

static bool prefix_match(struct moat_slice value, struct moat_slice prefix, bool nocase)
{
    if (prefix.len > value.len)
        return false;
    for (size_t i = 0; i < prefix.len; i++) {
        uint8_t a = value.ptr[i], b = prefix.ptr[i];
        if (nocase ? lower(a) != lower(b) : a != b)
            return false;
    }
    return true;
}

/* Next word of s from *pos: runs of letters and digits, also split where a lowercase
 * letter is followed by an uppercase one ("MyDatabase" is "My" and "Database"). */
static bool next_word(struct moat_slice s, size_t *pos, struct moat_slice *word)
{
    size_t i = *pos;
    while (i < s.len && !is_alnum(s.ptr[i]))
        i++;
    if (i >= s.len)
        return false;
    size_t start = i++;
    while (i < s.len && is_alnum(s.ptr[i]) &&
           !(s.ptr[i] >= 'A' && s.ptr[i] <= 'Z' && s.ptr[i - 1] >= 'a' && s.ptr[i - 1] <= 'z'))
        i++;
    *word = moat_slice_sub(s, start, i);
    *pos = i;
    return true;
}

/* Every word of the pattern starts some word of the value (case-insensitive). */
static bool words_match(struct moat_slice value, struct moat_slice pattern)
{
    size_t p = 0;
    struct moat_slice pw;
    bool any = false;
    while (next_word(pattern, &p, &pw)) {
        any = true;
        size_t v = 0;
        struct moat_slice vw;
        bool found = false;
        while (!found && next_word(value, &v, &vw))
            found = prefix_match(vw, pw, true);
        if (!found)
            return false;
    }
    return any;
}

enum filter_key { F_DESCRIPTION = 0, F_NAME, F_TAG_KEY, F_TAG_VALUE, F_REGION, F_SERVICE, F_ALL };

static int filter_key(struct moat_slice k)
{
    static const char *const names[] = {"description",    "name",           "tag-key", "tag-value",
                                        "primary-region", "owning-service", "all"};
    for (size_t i = 0; i < MOAT_COUNT(names); i++)
        if (moat_slice_eq_cstr(k, names[i]))
            return (int)i;
    return -1;
}

/* Whether one (non-negated) value matches the secret under a key. */
static bool value_matches(const struct sm_secret *s, int key, struct moat_slice v)
{
    switch (key) {
    case F_DESCRIPTION:
        return s->has_description && words_match(s->description, v);
    case F_NAME:
        return prefix_match(s->name, v, false);
    case F_TAG_KEY:
        for (size_t i = 0; i < s->tag_count; i++)
            if (prefix_match(s->tags[i].key, v, false))
                return true;
        return false;
    case F_TAG_VALUE:
        for (size_t i = 0; i < s->tag_count; i++)
            if (prefix_match(s->tags[i].value, v, false))
                return true;
        return false;
    case F_REGION:
        return prefix_match(s->primary_region.len ? s->primary_region : moat_slice_cstr(s->region),
                            v, false);
    case F_SERVICE:
        return prefix_match(s->owning_service, v, false);
    case F_ALL:
        if (words_match(s->name, v) || (s->has_description && words_match(s->description, v)))
            return true;
        for (size_t i = 0; i < s->tag_count; i++)
            if (words_match(s->tags[i].key, v) || words_match(s->tags[i].value, v))
                return true;
        return false;
    default:
        return false;
    }
}

struct moat_error *sm_filters_check(struct moat_call *call, const struct moat_value *filters)
{
    for (uint32_t i = 0; filters && i < filters->count; i++) {
        const struct moat_value *f = filters->u.items[i];
        if (!moat_has(f, SECRETSMANAGER_FILTER_KEY) ||
            filter_key(moat_get_str(f, SECRETSMANAGER_FILTER_KEY)) < 0)
            return moat_fail(call, &sm_invalid_parameter,
                             "Invalid filter key. Valid keys are description, name, tag-key, "
                             "tag-value, primary-region, owning-service and all.");
        const struct moat_value *vals = moat_get(f, SECRETSMANAGER_FILTER_VALUES);
        if (!vals || !vals->count)
            return moat_fail(call, &sm_invalid_parameter,
                             "The filter %.*s needs at least one value.",
                             MOAT_FMT(moat_get_str(f, SECRETSMANAGER_FILTER_KEY)));
    }
    return NULL;
}

bool sm_filters_match(const struct sm_secret *s, const struct moat_value *filters)
{
    for (uint32_t i = 0; filters && i < filters->count; i++) {
        const struct moat_value *f = filters->u.items[i];
        int key = filter_key(moat_get_str(f, SECRETSMANAGER_FILTER_KEY));
        const struct moat_value *vals = moat_get(f, SECRETSMANAGER_FILTER_VALUES);
        bool any = false;
        for (uint32_t k = 0; vals && k < vals->count && !any; k++) {
            struct moat_slice v = vals->u.items[k]->u.s;
            if (v.len && v.ptr[0] == '!')
                any = !value_matches(s, key, moat_slice_sub(v, 1, v.len));
            else
                any = value_matches(s, key, v);
        }
        if (!any)
            return false;
    }
    return true;
}

/* ---- listing ------------------------------------------------------------------------ */

struct sort_item {
    struct sm_secret *s;
    int64_t key_ms;
};

static int sort_by_time(const void *x, const void *y)
{
    const struct sort_item *a = x, *b = y;
    if (a->key_ms != b->key_ms)
        return a->key_ms < b->key_ms ? -1 : 1;
    return moat_slice_cmp(a->s->name, b->s->name);
}

static int sort_by_name(const void *x, const void *y)
{
    const struct sort_item *a = x, *b = y;
    return moat_slice_cmp(a->s->name, b->s->name);
}

struct moat_error *sm_list_page(struct moat_call *call, const struct moat_value *filters,
                                bool include_deleted, struct moat_slice sort_order,
                                struct moat_slice sort_by, struct moat_slice next_token, size_t max,
                                struct sm_secret ***page, size_t *count, struct moat_slice *next)
{
    struct moat_arena *a = call->arena;
    *count = 0;
    *next = MOAT_NULL_SLICE;
    size_t offset;
    struct moat_error *err = sm_token_decode(call, next_token, &offset);
    if (err)
        return err;
    err = sm_filters_check(call, filters);
    if (err)
        return err;
    const char *prefix = moat_arena_printf(a, "%s/%s/", call->account_id, call->region);
    size_t cap = 64, n = 0;
    struct sort_item *items = moat_arena_alloc(a, cap * sizeof(*items));
    bool by_name = moat_slice_eq_cstr(sort_by, "name");
    bool by_access = moat_slice_eq_cstr(sort_by, "last-accessed-date");
    bool by_change = moat_slice_eq_cstr(sort_by, "last-changed-date");
    struct moat_slice after = MOAT_NULL_SLICE;
    for (;;) {
        struct store_record *recs;
        size_t got;
        bool more;
        if (store_scan(call->db, a, SM_NS_SECRET, moat_slice_cstr(prefix), after, 256, &recs, &got,
                       &more) != STORE_OK)
            return moat_internal(call, "secretsmanager: listing secrets failed");
        for (size_t i = 0; i < got; i++) {
            struct sm_secret *s = sm_secret_parse(a, recs[i].key, recs[i].value, recs[i].version);
            if (!s || (s->deleted_ms && !include_deleted) || !sm_filters_match(s, filters))
                continue;
            if (n == cap) {
                struct sort_item *bigger = moat_arena_alloc(a, 2 * cap * sizeof(*items));
                memcpy(bigger, items, n * sizeof(*items));
                items = bigger;
                cap *= 2;
            }
            items[n].s = s;
            items[n].key_ms = by_access   ? sm_access_day(call, s, NULL)
                              : by_change ? s->changed_ms
                                          : s->created_ms;
            n++;
        }
        if (!more || !got)
            break;
        after = recs[got - 1].key;
    }
    qsort(items, n, sizeof(*items), by_name ? sort_by_name : sort_by_time);
    bool desc = moat_slice_eq_cstr(sort_order, "desc");
    if (offset > n)
        offset = n;
    size_t take = MOAT_MIN(max, n - offset);
    *page = moat_arena_alloc(a, (take ? take : 1) * sizeof(**page));
    for (size_t i = 0; i < take; i++) {
        size_t idx = offset + i;
        (*page)[i] = items[desc ? n - 1 - idx : idx].s;
    }
    *count = take;
    if (offset + take < n)
        *next = sm_token_encode(a, offset + take);
    return NULL;
}

static const struct sm_describe_ids list_entry_ids = {
    .arn = SECRETSMANAGER_SECRET_LIST_ENTRY_ARN,
    .name = SECRETSMANAGER_SECRET_LIST_ENTRY_NAME,
    .description = SECRETSMANAGER_SECRET_LIST_ENTRY_DESCRIPTION,
    .kms_key_id = SECRETSMANAGER_SECRET_LIST_ENTRY_KMS_KEY_ID,
    .rotation_enabled = SECRETSMANAGER_SECRET_LIST_ENTRY_ROTATION_ENABLED,
    .rotation_lambda_arn = SECRETSMANAGER_SECRET_LIST_ENTRY_ROTATION_LAMBDA_ARN,
    .rotation_rules = SECRETSMANAGER_SECRET_LIST_ENTRY_ROTATION_RULES,
    .last_rotated_date = SECRETSMANAGER_SECRET_LIST_ENTRY_LAST_ROTATED_DATE,
    .last_changed_date = SECRETSMANAGER_SECRET_LIST_ENTRY_LAST_CHANGED_DATE,
    .last_accessed_date = SECRETSMANAGER_SECRET_LIST_ENTRY_LAST_ACCESSED_DATE,
    .deleted_date = SECRETSMANAGER_SECRET_LIST_ENTRY_DELETED_DATE,
    .next_rotation_date = SECRETSMANAGER_SECRET_LIST_ENTRY_NEXT_ROTATION_DATE,
    .tags = SECRETSMANAGER_SECRET_LIST_ENTRY_TAGS,
    .versions_to_stages = SECRETSMANAGER_SECRET_LIST_ENTRY_SECRET_VERSIONS_TO_STAGES,
    .owning_service = SECRETSMANAGER_SECRET_LIST_ENTRY_OWNING_SERVICE,
    .created_date = SECRETSMANAGER_SECRET_LIST_ENTRY_CREATED_DATE,
    .primary_region = SECRETSMANAGER_SECRET_LIST_ENTRY_PRIMARY_REGION,
};

/* https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecrets.html */
SM_HANDLER(sm_list_secrets)
{
    struct moat_arena *a = call->arena;
    struct sm_secret **page;
    size_t n;
    struct moat_slice next;
    struct moat_slice order = moat_get_str(in, SECRETSMANAGER_LIST_SECRETS_REQUEST_SORT_ORDER);
    struct moat_slice by = moat_get_str(in, SECRETSMANAGER_LIST_SECRETS_REQUEST_SORT_BY);
    struct moat_error *err = sm_list_page(
        call, moat_get(in, SECRETSMANAGER_LIST_SECRETS_REQUEST_FILTERS),
        moat_get_bool(in, SECRETSMANAGER_LIST_SECRETS_REQUEST_INCLUDE_PLANNED_DELETION, false),
        order.len ? order : MOAT_LIT("asc"), by.len ? by : MOAT_LIT("created-date"),
        moat_get_str(in, SECRETSMANAGER_LIST_SECRETS_REQUEST_NEXT_TOKEN),
        (size_t)moat_get_int(in, SECRETSMANAGER_LIST_SECRETS_REQUEST_MAX_RESULTS, 100), &page, &n,
        &next);
    if (err)
        return err;
    struct moat_value *list =
        moat_set_list(a, out, SECRETSMANAGER_LIST_SECRETS_RESPONSE_SECRET_LIST);
    for (size_t i = 0; i < n; i++)
        sm_describe_out(call, page[i], &list_entry_ids, moat_list_add_struct(a, list));
    if (next.len)
        moat_set_str(a, out, SECRETSMANAGER_LIST_SECRETS_RESPONSE_NEXT_TOKEN, next);
    return NULL;
}

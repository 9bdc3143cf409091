/* ssm_query.c: GetParametersByPath and DescribeParameters: ordered prefix scans of
 * the account-region's parameters, ParameterFilters, and opaque NextTokens.
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParametersByPath.html
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeParameters.html */
#include "services/ssm/ssm.h"

#include "aws/shapes/shapes_ssm.h"
#include "core/buf.h"
#include "core/encoding.h"
#include "store/store.h"

#include <string.h>

#define SCAN_CHUNK 100
#define SCAN_BUDGET 1000 /* records examined per call before answering with a NextToken */

/* ---- filters ------------------------------------------------------------------- */

enum fkey { F_NAME = 0, F_TYPE, F_KEY_ID, F_PATH, F_TIER, F_DATA_TYPE, F_TAG, F_LABEL };
enum fopt { O_EQUALS = 0, O_BEGINS_WITH, O_CONTAINS, O_RECURSIVE, O_ONE_LEVEL };

struct filter {
    enum fkey key;
    enum fopt opt;
    struct moat_slice key_text; /* as written ("tag:env") */
    struct moat_slice tag_key;
    struct moat_slice *values;
    size_t value_count;
};

struct filters {
    struct filter *items;
    size_t count;
};

static bool key_of(struct moat_slice k, enum fkey *out, struct moat_slice *tag)
{
    static const struct {
        const char *name;
        enum fkey key;
    } names[] = {{"Name", F_NAME}, {"Type", F_TYPE},          {"KeyId", F_KEY_ID}, {"Path", F_PATH},
                 {"Tier", F_TIER}, {"DataType", F_DATA_TYPE}, {"Label", F_LABEL}};
    for (size_t i = 0; i < MOAT_COUNT(names); i++)
        if (moat_slice_eq_cstr(k, names[i].name)) {
            *out = names[i].key;
            return true;
        }
    if (moat_slice_starts_with(k, MOAT_LIT("tag:")) && k.len > 4) {
        *out = F_TAG;
        *tag = moat_slice_sub(k, 4, k.len);
        return true;
    }
    return false;
}

static bool valid_path_value(struct moat_slice v)
{
    if (!v.len || v.ptr[0] != '/')
        return false;
    for (size_t i = 0; i < v.len; i++) {
        uint8_t c = v.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-' || c == '/'))
            return false;
        if (c == '/' && i + 1 < v.len && v.ptr[i + 1] == '/')
            return false;
    }
    return true;
}

static bool starts_nocase(struct moat_slice s, const char *p)
{
    size_t n = strlen(p);
    if (s.len < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s.ptr[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c + 32);
        if (c != (uint8_t)p[i])
            return false;
    }
    return true;
}

/* Parses and checks ParameterFilters with AWS's error wording. */
static struct moat_error *parse_filters(struct moat_call *call, const struct moat_value *list,
                                        bool by_path, struct filters *out)
{
    out->count = 0;
    out->items = NULL;
    if (!list || !list->count)
        return NULL;
    out->items = moat_arena_calloc(call->arena, list->count * sizeof(*out->items));
    for (uint32_t i = 0; i < list->count; i++) {
        const struct moat_value *f = list->u.items[i];
        struct filter *flt = &out->items[out->count];
        flt->key_text = moat_get_str(f, SSM_PARAMETER_STRING_FILTER_KEY);
        if (!key_of(flt->key_text, &flt->key, &flt->tag_key))
            return moat_fail(call, &ssm_invalid_filter_key,
                             "The following filter key is not valid: %.*s.",
                             MOAT_FMT(flt->key_text));
        if (by_path && flt->key != F_TYPE && flt->key != F_KEY_ID && flt->key != F_LABEL)
            return moat_fail(call, &ssm_invalid_filter_key,
                             "The following filter key is not valid: %.*s. Valid filter keys "
                             "include: [Type, KeyId, Label].",
                             MOAT_FMT(flt->key_text));
        if (!by_path && flt->key == F_LABEL)
            return moat_fail(call, &ssm_invalid_filter_key,
                             "The following filter key is not valid: Label. Valid filter keys "
                             "include: [Path, Name, Type, KeyId, Tier].");
        for (size_t k = 0; k < out->count; k++)
            if (moat_slice_eq(out->items[k].key_text, flt->key_text))
                return moat_fail(call, &ssm_invalid_filter_key,
                                 "The following filter is duplicated in the request: %.*s. A "
                                 "request can contain only one occurrence of a specific filter.",
                                 MOAT_FMT(flt->key_text));
        const struct moat_value *vals = moat_get(f, SSM_PARAMETER_STRING_FILTER_VALUES);
        if (vals && vals->count) {
            flt->values = moat_arena_alloc(call->arena, vals->count * sizeof(*flt->values));
            for (uint32_t k = 0; k < vals->count; k++)
                flt->values[k] = vals->u.items[k]->u.s;
            flt->value_count = vals->count;
        }
        if (!flt->value_count && flt->key != F_TAG)
            return moat_fail(call, &ssm_invalid_filter_value,
                             "The following filter values are missing : null for filter key "
                             "%.*s.",
                             MOAT_FMT(flt->key_text));
        bool has_opt = moat_has(f, SSM_PARAMETER_STRING_FILTER_OPTION);
        struct moat_slice opt = moat_get_str(f, SSM_PARAMETER_STRING_FILTER_OPTION);
        if (flt->key == F_PATH) {
            if (!has_opt || moat_slice_eq_cstr(opt, "OneLevel"))
                flt->opt = O_ONE_LEVEL;
            else if (moat_slice_eq_cstr(opt, "Recursive"))
                flt->opt = O_RECURSIVE;
            else
                return moat_fail(call, &ssm_invalid_filter_option,
                                 "The following filter option is not valid: %.*s. Valid options "
                                 "include: [Recursive, OneLevel].",
                                 MOAT_FMT(opt));
            for (size_t k = 0; k < flt->value_count; k++) {
                struct moat_slice v = flt->values[k];
                if (starts_nocase(v, "/aws") || starts_nocase(v, "/ssm"))
                    return moat_fail(call, &ssm_validation,
                                     "Filters for common parameters can't be prefixed with "
                                     "\"aws\" or \"ssm\" (case-insensitive). When using global "
                                     "parameters, please specify within a global namespace.");
                if (!valid_path_value(v))
                    return moat_fail(
                        call, &ssm_validation,
                        "The parameter doesn't meet the parameter name requirements. The "
                        "parameter name must begin with a forward slash \"/\". It can't be "
                        "prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only "
                        "letters, numbers, or the following symbols: . (period), - (hyphen), _ "
                        "(underscore). Special characters are not allowed. All sub-paths, if "
                        "specified, must use the forward slash symbol \"/\". Valid example: "
                        "/get/parameters2-/by1./path0_.");
            }
        } else if (!has_opt || moat_slice_eq_cstr(opt, "Equals")) {
            flt->opt = O_EQUALS;
        } else if (moat_slice_eq_cstr(opt, "BeginsWith") && flt->key != F_LABEL) {
            flt->opt = O_BEGINS_WITH;
        } else if (moat_slice_eq_cstr(opt, "Contains") && flt->key == F_NAME) {
            flt->opt = O_CONTAINS;
        } else {
            return moat_fail(call, &ssm_invalid_filter_option,
                             "The following filter option is not valid: %.*s. Valid options "
                             "include: %s.",
                             MOAT_FMT(opt),
                             flt->key == F_LABEL  ? "[Equals]"
                             : flt->key == F_NAME ? "[BeginsWith, Equals, Contains]"
                                                  : "[BeginsWith, Equals]");
        }
        for (size_t k = 0; k < flt->value_count; k++) {
            struct moat_slice v = flt->values[k];
            if (flt->key == F_TYPE && flt->opt == O_EQUALS && !moat_slice_eq_cstr(v, "String") &&
                !moat_slice_eq_cstr(v, "StringList") && !moat_slice_eq_cstr(v, "SecureString"))
                return moat_fail(call, &ssm_invalid_filter_value,
                                 "The following filter value is not valid: %.*s. Valid values "
                                 "include: [String, StringList, SecureString].",
                                 MOAT_FMT(v));
            if (flt->key == F_TIER && flt->opt == O_EQUALS && !moat_slice_eq_cstr(v, "Standard") &&
                !moat_slice_eq_cstr(v, "Advanced") && !moat_slice_eq_cstr(v, "Intelligent-Tiering"))
                return moat_fail(call, &ssm_invalid_filter_value,
                                 "The following filter value is not valid: %.*s. Valid values "
                                 "include: [Standard, Advanced, Intelligent-Tiering].",
                                 MOAT_FMT(v));
        }
        out->count++;
    }
    return NULL;
}

/* "/" + the name without its leading slash: how Name filters compare. */
static struct moat_slice slashed(struct moat_arena *a, struct moat_slice s)
{
    if (s.len && s.ptr[0] == '/')
        return s;
    return moat_slice_cstr(moat_arena_printf(a, "/%.*s", MOAT_FMT(s)));
}

static bool text_match(enum fopt opt, struct moat_slice what, struct moat_slice v)
{
    switch (opt) {
    case O_EQUALS:
        return moat_slice_eq(what, v);
    case O_BEGINS_WITH:
        return moat_slice_starts_with(what, v);
    case O_CONTAINS:
        if (v.len > what.len)
            return false;
        for (size_t i = 0; i + v.len <= what.len; i++)
            if (!memcmp(what.ptr + i, v.ptr, v.len))
                return true;
        return false;
    default:
        return false;
    }
}

/* Is the parameter with normalised key `key` in path (one level or below)? */
static bool path_match(struct moat_arena *a, struct moat_slice key, struct moat_slice path,
                       bool recursive)
{
    struct moat_slice name = slashed(a, key);
    while (path.len > 1 && path.ptr[path.len - 1] == '/')
        path.len--;
    if (path.len == 1) /* "/" */
        return recursive || moat_slice_index(moat_slice_sub(name, 1, name.len), '/') < 0;
    if (name.len <= path.len + 1 || !moat_slice_starts_with(name, path) ||
        name.ptr[path.len] != '/')
        return false;
    return recursive || moat_slice_index(moat_slice_sub(name, path.len + 1, name.len), '/') < 0;
}

/* Does p pass every filter? *label_version gets the version a Label filter selects. */
static bool matches(struct moat_arena *a, const struct filters *fs, const struct ssm_param *p,
                    int64_t *label_version)
{
    *label_version = 0;
    for (size_t i = 0; i < fs->count; i++) {
        const struct filter *f = &fs->items[i];
        bool any = false;
        if (f->key == F_TAG) {
            for (size_t t = 0; t < p->tag_count && !any; t++) {
                if (!moat_slice_eq(p->tags[t].key, f->tag_key))
                    continue;
                if (!f->value_count)
                    any = true;
                for (size_t k = 0; k < f->value_count && !any; k++)
                    any = text_match(f->opt, p->tags[t].value, f->values[k]);
            }
        } else if (f->key == F_LABEL) {
            for (size_t k = 0; k < f->value_count && !any; k++) {
                int64_t v = ssm_label_version(p, f->values[k]);
                if (v) {
                    any = true;
                    *label_version = v;
                }
            }
        }
        for (size_t k = 0; k < f->value_count && !any; k++) {
            struct moat_slice v = f->values[k];
            switch (f->key) {
            case F_NAME:
                any = text_match(f->opt, slashed(a, p->key),
                                 f->opt == O_CONTAINS ? v : slashed(a, v));
                break;
            case F_TYPE:
                any = text_match(f->opt, moat_slice_cstr(ssm_type_name(p->type)), v);
                break;
            case F_KEY_ID:
                any = p->type == SSM_SECURE_STRING && text_match(f->opt, p->key_id, v);
                break;
            case F_PATH:
                any = path_match(a, p->key, v, f->opt == O_RECURSIVE);
                break;
            case F_TIER:
                any = text_match(f->opt, moat_slice_cstr(ssm_tier_name(p->tier)), v);
                break;
            case F_DATA_TYPE:
                any = text_match(f->opt, p->data_type, v);
                break;
            default:
                break;
            }
        }
        if (!any)
            return false;
    }
    return true;
}

/* ---- tokens ------------------------------------------------------------------------- */

/* A NextToken is base64url("<op letter>" NUL "<store key to continue after>"). */
const char *ssm_token_make(struct moat_arena *a, char op, struct moat_slice after)
{
    struct moat_buf raw, b;
    moat_buf_init(&raw, a, after.len + 2);
    moat_buf_append_u8(&raw, (uint8_t)op);
    moat_buf_append_u8(&raw, 0);
    moat_buf_append(&raw, after);
    moat_buf_init(&b, a, raw.len * 2 + 4);
    moat_base64url_encode(&b, moat_buf_slice(&raw));
    return moat_buf_cstr(&b);
}

/* False when the token is not one this operation issued for this scope. */
bool ssm_token_read(struct moat_arena *a, struct moat_slice token, char op,
                    struct moat_slice prefix, struct moat_slice *after)
{
    struct moat_slice raw;
    if (!moat_base64url_decode(a, token, &raw) || raw.len < 2 || raw.ptr[0] != (uint8_t)op ||
        raw.ptr[1] != 0)
        return false;
    *after = moat_slice_sub(raw, 2, raw.len);
    return moat_slice_starts_with(*after, prefix) && after->len > prefix.len;
}

/* ---- the scan --------------------------------------------------------------------------- */

struct scan {
    struct moat_slice prefix; /* every key of the listing starts with it */
    bool one_level;           /* only direct children of prefix */
    bool root;                /* prefix is the scope: one-level names have no '/' */
    const struct filters *filters;
    size_t want;
    /* results */
    struct ssm_param *params;
    int64_t *label_versions;
    size_t count;
    struct moat_slice next_after; /* set when a NextToken is due */
};

/* Runs the scan from `after`, filling up to `want` parameters. */
static struct moat_error *run_scan(struct moat_call *call, struct scan *s, struct moat_slice after)
{
    struct moat_arena *a = call->arena;
    s->params = moat_arena_calloc(a, (s->want ? s->want : 1) * sizeof(*s->params));
    s->label_versions = moat_arena_calloc(a, (s->want ? s->want : 1) * sizeof(int64_t));
    size_t budget = SCAN_BUDGET;
    for (;;) {
        struct store_record *recs;
        size_t n;
        bool more, skipped = false;
        if (store_scan(call->db, a, SSM_NS_PARAM, s->prefix, after, SCAN_CHUNK, &recs, &n, &more) !=
            STORE_OK)
            return moat_internal(call, "ssm: parameter scan failed");
        size_t examined = 0;
        for (size_t i = 0; i < n; i++) {
            struct moat_slice rest = moat_slice_sub(recs[i].key, s->prefix.len, recs[i].key.len);
            after = recs[i].key;
            examined++;
            if (s->one_level) {
                long slash = moat_slice_index(rest, '/');
                if (s->root ? rest.len && rest.ptr[0] == '/' : slash >= 0) {
                    /* A deeper level: skip its whole subtree. Name characters all sort
                     * below 0x7f, so "<child>/\x7f" is past every key under it. */
                    size_t child = s->root ? 0 : (size_t)slash;
                    after = moat_slice_cstr(moat_arena_printf(a, "%.*s/\x7f",
                                                              (int)(s->prefix.len + child),
                                                              (const char *)recs[i].key.ptr));
                    skipped = true;
                    break;
                }
            }
            struct ssm_param p;
            if (!ssm_record_decode(a, recs[i].value, &p))
                return moat_internal(call, "ssm: corrupt parameter record");
            p.store_version = recs[i].version;
            int64_t lv;
            if (!matches(a, s->filters, &p, &lv))
                continue;
            s->label_versions[s->count] = lv;
            s->params[s->count++] = p;
            if (s->count == s->want) {
                /* Full: a token only when something may follow. */
                if (i + 1 < n || more)
                    s->next_after = after;
                return NULL;
            }
        }
        if (!skipped && !more)
            return NULL; /* the listing is exhausted */
        if (budget <= examined) {
            s->next_after = after; /* best effort: the caller continues with the token */
            return NULL;
        }
        budget -= examined;
    }
}

/* ---- GetParametersByPath ------------------------------------------------------------------ */

static struct moat_error *path_error(struct moat_call *call)
{
    return moat_fail(
        call, &ssm_validation,
        "The parameter doesn't meet the parameter name requirements. The parameter "
        "name must begin with a forward slash \"/\". It can't be prefixed with \"aws\" "
        "or \"ssm\" (case-insensitive). It must use only letters, numbers, or the "
        "following symbols: . (period), - (hyphen), _ (underscore). Special "
        "characters are not allowed. All sub-paths, if specified, must use the "
        "forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.");
}

static struct moat_error *public_by_path(struct moat_call *call, const struct moat_value *in,
                                         struct moat_value *out, struct moat_slice path,
                                         bool recursive, const struct filters *fs, size_t want)
{
    struct moat_arena *a = call->arena;
    struct moat_slice after = MOAT_NULL_SLICE;
    if (moat_has(in, SSM_GET_PARAMETERS_BY_PATH_REQUEST_NEXT_TOKEN) &&
        !ssm_token_read(a, moat_get_str(in, SSM_GET_PARAMETERS_BY_PATH_REQUEST_NEXT_TOKEN), 'p',
                        path, &after))
        return moat_fail(call, &ssm_invalid_next_token, "The specified token isn't valid.");
    struct moat_value *list = moat_set_list(a, out, SSM_GET_PARAMETERS_BY_PATH_RESULT_PARAMETERS);
    struct ssm_public *items = moat_arena_alloc(a, want * sizeof(*items));
    bool more;
    size_t n = ssm_public_list(a, path, recursive, after, want, items, &more);
    for (size_t i = 0; i < n; i++) {
        struct ssm_param p;
        memset(&p, 0, sizeof(p));
        p.key = items[i].name;
        p.name = items[i].name;
        p.type = SSM_STRING;
        p.data_type = MOAT_LIT("text");
        int64_t lv;
        if (!matches(a, fs, &p, &lv))
            continue;
        struct moat_value *st = moat_list_add_struct(a, list);
        moat_set_str(a, st, SSM_PARAMETER_NAME, items[i].name);
        moat_set_cstr(a, st, SSM_PARAMETER_TYPE, "String");
        moat_set_str(a, st, SSM_PARAMETER_VALUE, items[i].value);
        moat_set_int(a, st, SSM_PARAMETER_VERSION, 1);
        moat_set_ts(a, st, SSM_PARAMETER_LAST_MODIFIED_DATE, ssm_public_modified_ms());
        moat_set_cstr(a, st, SSM_PARAMETER_ARN, ssm_public_arn(a, call->region, items[i].name));
        moat_set_cstr(a, st, SSM_PARAMETER_DATA_TYPE, "text");
    }
    if (more && n)
        moat_set_cstr(a, out, SSM_GET_PARAMETERS_BY_PATH_RESULT_NEXT_TOKEN,
                      ssm_token_make(a, 'p', items[n - 1].name));
    return NULL;
}

SSM_HANDLER(ssm_get_parameters_by_path)
{
    struct moat_arena *a = call->arena;
    struct moat_slice path =
        moat_slice_trim(moat_get_str(in, SSM_GET_PARAMETERS_BY_PATH_REQUEST_PATH));
    bool recursive = moat_get_bool(in, SSM_GET_PARAMETERS_BY_PATH_REQUEST_RECURSIVE, false);
    bool decrypt = moat_get_bool(in, SSM_GET_PARAMETERS_BY_PATH_REQUEST_WITH_DECRYPTION, false);
    size_t want = (size_t)moat_get_int(in, SSM_GET_PARAMETERS_BY_PATH_REQUEST_MAX_RESULTS, 10);
    while (path.len > 1 && path.ptr[path.len - 1] == '/')
        path.len--;
    bool root = moat_slice_eq_cstr(path, "/");
    if (!root) {
        struct ssm_name n;
        enum ssm_name_problem pr = ssm_name_parse(path, &n);
        if (pr == SSM_NAME_TOO_DEEP)
            return moat_fail(call, &ssm_hierarchy_level_limit_exceeded,
                             "A hierarchy can have a maximum of 15 levels. For more information, "
                             "see About requirements and constraints for parameter names in the "
                             "AWS Systems Manager User Guide.");
        if (pr != SSM_NAME_OK || path.ptr[0] != '/')
            return path_error(call);
    }
    if (ssm_is_secret_reference(path) ||
        moat_slice_eq_cstr(path, "/aws/reference/secretsmanager") ||
        moat_slice_eq_cstr(path, "/aws/reference"))
        return moat_fail(call, &ssm_validation,
                         "GetParametersByPath is not supported for Secrets Manager references; "
                         "use GetParameter or GetParameters with "
                         "/aws/reference/secretsmanager/<secret-id>.");
    struct filters fs;
    struct moat_error *err = parse_filters(
        call, moat_get(in, SSM_GET_PARAMETERS_BY_PATH_REQUEST_PARAMETER_FILTERS), true, &fs);
    if (err)
        return err;
    if (moat_slice_eq_cstr(path, "/aws/service") ||
        moat_slice_starts_with(path, MOAT_LIT("/aws/service/")))
        return public_by_path(call, in, out, path, recursive, &fs, want);

    struct scan s;
    memset(&s, 0, sizeof(s));
    struct moat_slice scope = ssm_scope_prefix(a, call->account_id, call->region);
    s.root = root;
    s.prefix =
        root ? scope
             : moat_slice_cstr(moat_arena_printf(a, "%.*s%.*s/", MOAT_FMT(scope), MOAT_FMT(path)));
    s.one_level = !recursive;
    s.filters = &fs;
    s.want = want;
    struct moat_slice after = MOAT_NULL_SLICE;
    if (moat_has(in, SSM_GET_PARAMETERS_BY_PATH_REQUEST_NEXT_TOKEN) &&
        !ssm_token_read(a, moat_get_str(in, SSM_GET_PARAMETERS_BY_PATH_REQUEST_NEXT_TOKEN), 'p',
                        s.prefix, &after))
        return moat_fail(call, &ssm_invalid_next_token, "The specified token isn't valid.");
    err = run_scan(call, &s, after);
    if (err)
        return err;
    struct moat_value *list = moat_set_list(a, out, SSM_GET_PARAMETERS_BY_PATH_RESULT_PARAMETERS);
    for (size_t i = 0; i < s.count; i++) {
        struct ssm_param *p = &s.params[i];
        if (s.label_versions[i] && s.label_versions[i] != p->version) {
            struct ssm_param old;
            bool found;
            err = ssm_load_version(call, p->key, s.label_versions[i], &old, &found);
            if (err)
                return err;
            if (!found)
                continue;
            old.name = p->name;
            *p = old;
        }
        struct moat_value *st = moat_list_add_struct(a, list);
        err = ssm_fill_parameter(call, st, p, p->name, MOAT_NULL_SLICE, decrypt);
        if (err)
            return err;
    }
    if (s.next_after.len)
        moat_set_cstr(a, out, SSM_GET_PARAMETERS_BY_PATH_RESULT_NEXT_TOKEN,
                      ssm_token_make(a, 'p', s.next_after));
    return NULL;
}

/* ---- DescribeParameters ---------------------------------------------------------------- */

/* The deprecated Filters member, as ParameterFilters: Name BeginsWith, Type and KeyId
 * Equals. */
static struct moat_error *legacy_filters(struct moat_call *call, const struct moat_value *list,
                                         struct filters *out)
{
    out->count = 0;
    out->items =
        moat_arena_calloc(call->arena, (list->count ? list->count : 1) * sizeof(*out->items));
    for (uint32_t i = 0; i < list->count; i++) {
        const struct moat_value *f = list->u.items[i];
        struct filter *flt = &out->items[out->count++];
        flt->key_text = moat_get_str(f, SSM_PARAMETERS_FILTER_KEY);
        if (!key_of(flt->key_text, &flt->key, &flt->tag_key))
            return moat_fail(call, &ssm_invalid_filter_key,
                             "The following filter key is not valid: %.*s.",
                             MOAT_FMT(flt->key_text));
        flt->opt = flt->key == F_NAME ? O_BEGINS_WITH : O_EQUALS;
        const struct moat_value *vals = moat_get(f, SSM_PARAMETERS_FILTER_VALUES);
        flt->value_count = vals ? vals->count : 0;
        flt->values = moat_arena_alloc(call->arena, (flt->value_count ? flt->value_count : 1) *
                                                        sizeof(*flt->values));
        for (size_t k = 0; k < flt->value_count; k++)
            flt->values[k] = vals->u.items[k]->u.s;
    }
    return NULL;
}

SSM_HANDLER(ssm_describe_parameters)
{
    struct moat_arena *a = call->arena;
    const struct moat_value *legacy = moat_get(in, SSM_DESCRIBE_PARAMETERS_REQUEST_FILTERS);
    const struct moat_value *pf = moat_get(in, SSM_DESCRIBE_PARAMETERS_REQUEST_PARAMETER_FILTERS);
    if (legacy && legacy->count && pf && pf->count)
        return moat_fail(call, &ssm_validation,
                         "You can use either Filters or ParameterFilters in a single request.");
    struct filters fs;
    struct moat_error *err = legacy && legacy->count ? legacy_filters(call, legacy, &fs)
                                                     : parse_filters(call, pf, false, &fs);
    if (err)
        return err;
    struct moat_value *list = moat_set_list(a, out, SSM_DESCRIBE_PARAMETERS_RESULT_PARAMETERS);
    struct moat_slice scope = ssm_scope_prefix(a, call->account_id, call->region);
    struct moat_slice after = MOAT_NULL_SLICE;
    if (moat_has(in, SSM_DESCRIBE_PARAMETERS_REQUEST_NEXT_TOKEN) &&
        !ssm_token_read(a, moat_get_str(in, SSM_DESCRIBE_PARAMETERS_REQUEST_NEXT_TOKEN), 'd', scope,
                        &after))
        return moat_fail(call, &ssm_invalid_next_token, "The specified token isn't valid.");
    /* Nothing is shared with this account through AWS RAM. */
    if (moat_get_bool(in, SSM_DESCRIBE_PARAMETERS_REQUEST_SHARED, false))
        return NULL;
    struct scan s;
    memset(&s, 0, sizeof(s));
    s.prefix = scope;
    s.filters = &fs;
    s.want = (size_t)moat_get_int(in, SSM_DESCRIBE_PARAMETERS_REQUEST_MAX_RESULTS, 10);
    err = run_scan(call, &s, after);
    if (err)
        return err;
    for (size_t i = 0; i < s.count; i++) {
        const struct ssm_param *p = &s.params[i];
        struct moat_value *st = moat_list_add_struct(a, list);
        moat_set_str(a, st, SSM_PARAMETER_METADATA_NAME, p->name);
        moat_set_cstr(a, st, SSM_PARAMETER_METADATA_ARN,
                      ssm_arn(a, call->region, call->account_id, p->key));
        moat_set_cstr(a, st, SSM_PARAMETER_METADATA_TYPE, ssm_type_name(p->type));
        if (p->type == SSM_SECURE_STRING)
            moat_set_str(a, st, SSM_PARAMETER_METADATA_KEY_ID, p->key_id);
        moat_set_ts(a, st, SSM_PARAMETER_METADATA_LAST_MODIFIED_DATE, p->modified_ms);
        moat_set_str(a, st, SSM_PARAMETER_METADATA_LAST_MODIFIED_USER, p->modified_user);
        if (p->has_description)
            moat_set_str(a, st, SSM_PARAMETER_METADATA_DESCRIPTION, p->description);
        if (p->has_allowed_pattern)
            moat_set_str(a, st, SSM_PARAMETER_METADATA_ALLOWED_PATTERN, p->allowed_pattern);
        moat_set_int(a, st, SSM_PARAMETER_METADATA_VERSION, p->version);
        moat_set_cstr(a, st, SSM_PARAMETER_METADATA_TIER, ssm_tier_name(p->tier));
        ssm_fill_policies(call, st, SSM_PARAMETER_METADATA_POLICIES, p);
        moat_set_str(a, st, SSM_PARAMETER_METADATA_DATA_TYPE, p->data_type);
    }
    if (s.next_after.len)
        moat_set_cstr(a, out, SSM_DESCRIBE_PARAMETERS_RESULT_NEXT_TOKEN,
                      ssm_token_make(a, 'd', s.next_after));
    return NULL;
}

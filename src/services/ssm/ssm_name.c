/* ssm_name.c: Parameter Store names, hierarchies, ARNs, selectors (name:version,
 * name:label) and labels, as AWS documents their rules. Pure functions over slices.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html */
#include "services/ssm/ssm.h"

#include <string.h>

static bool name_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == '/';
}

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool starts_nocase(struct moat_slice s, const char *prefix)
{
    size_t n = strlen(prefix);
    if (s.len < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s.ptr[i]) != (uint8_t)prefix[i])
            return false;
    return true;
}

enum ssm_name_problem ssm_name_parse(struct moat_slice raw, struct ssm_name *out)
{
    memset(out, 0, sizeof(*out));
    /* AWS removes spaces around a name; spaces inside it are an error. */
    struct moat_slice s = moat_slice_trim(raw);
    out->given = s;
    out->key = s;
    if (!s.len)
        return SSM_NAME_EMPTY;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] == ' ')
            return SSM_NAME_INNER_SPACE;
        if (!name_char(s.ptr[i]))
            return SSM_NAME_BAD_CHARS;
    }
    if (moat_slice_index(s, '/') < 0) {
        out->depth = 1;
        return SSM_NAME_OK;
    }
    if (s.ptr[0] != '/')
        return SSM_NAME_NOT_QUALIFIED;
    size_t depth = 0, seg = 0;
    for (size_t i = 1; i <= s.len; i++) {
        if (i == s.len || s.ptr[i] == '/') {
            if (!seg)
                return SSM_NAME_BAD_CHARS; /* "//", a trailing '/' or "/" alone */
            depth++;
            seg = 0;
        } else {
            seg++;
        }
    }
    out->depth = depth;
    if (depth == 1) {
        out->key = moat_slice_sub(s, 1, s.len); /* "/a" is the parameter "a" */
        return SSM_NAME_OK;
    }
    out->hierarchical = true;
    return depth > SSM_MAX_DEPTH ? SSM_NAME_TOO_DEEP : SSM_NAME_OK;
}

enum ssm_reserved ssm_name_reserved(const struct ssm_name *n)
{
    struct moat_slice s = n->given;
    struct moat_slice bare = s.len && s.ptr[0] == '/' ? moat_slice_sub(s, 1, s.len) : s;
    if (!starts_nocase(bare, "aws") && !starts_nocase(bare, "ssm"))
        return SSM_RESERVED_NONE;
    if (!n->hierarchical)
        return SSM_RESERVED_NAME;
    return starts_nocase(s, "/aws") ? SSM_RESERVED_AWS_PATH : SSM_RESERVED_PATH;
}

const char *ssm_partition(const char *region)
{
    if (!strncmp(region, "cn-", 3))
        return "aws-cn";
    if (!strncmp(region, "us-gov-", 7))
        return "aws-us-gov";
    return "aws";
}

const char *ssm_arn(struct moat_arena *a, const char *region, const char *account,
                    struct moat_slice key)
{
    bool slash = key.len && key.ptr[0] == '/';
    return moat_arena_printf(a, "arn:%s:ssm:%s:%s:parameter%s%.*s", ssm_partition(region), region,
                             account, slash ? "" : "/", MOAT_FMT(key));
}

/* Splits "arn:partition:ssm:region:account:parameter/name" into its fields; `name`
 * keeps the slash before it so that one-level and hierarchical names parse alike. */
static bool parse_arn(struct moat_slice s, struct moat_slice *region, struct moat_slice *account,
                      struct moat_slice *name)
{
    struct moat_slice rest = s, f[5];
    for (int i = 0; i < 5; i++) {
        long c = moat_slice_index(rest, ':');
        if (c < 0)
            return false;
        f[i] = moat_slice_sub(rest, 0, (size_t)c);
        rest = moat_slice_sub(rest, (size_t)c + 1, rest.len);
    }
    if (!moat_slice_eq_cstr(f[0], "arn") || !f[1].len || !moat_slice_eq_cstr(f[2], "ssm") ||
        !f[3].len)
        return false;
    if (!moat_slice_starts_with(rest, MOAT_LIT("parameter/")))
        return false;
    *region = f[3];
    *account = f[4];
    *name = moat_slice_sub(rest, 9, rest.len);
    return true;
}

bool ssm_ref_parse(struct moat_slice raw, struct ssm_ref *out)
{
    memset(out, 0, sizeof(*out));
    struct moat_slice s = moat_slice_trim(raw);
    out->raw = s;
    out->display = s;
    struct moat_slice namepart = s;
    if (moat_slice_starts_with(s, MOAT_LIT("arn:"))) {
        if (!parse_arn(s, &out->arn_region, &out->arn_account, &namepart))
            return false;
        out->arn = true;
    }
    long colon = moat_slice_index(namepart, ':');
    if (colon >= 0) {
        struct moat_slice sel = moat_slice_sub(namepart, (size_t)colon, namepart.len);
        struct moat_slice word = moat_slice_sub(sel, 1, sel.len);
        if (!word.len || moat_slice_index(word, ':') >= 0)
            return false;
        out->selector = sel;
        namepart = moat_slice_sub(namepart, 0, (size_t)colon);
        out->display = moat_slice_sub(s, 0, s.len - sel.len);
        bool digits = true;
        for (size_t i = 0; i < word.len; i++)
            if (word.ptr[i] < '0' || word.ptr[i] > '9')
                digits = false;
        if (digits) {
            uint64_t v = 0;
            out->sel = SSM_SEL_VERSION;
            out->version = moat_slice_to_u64(word, &v) && v <= INT64_MAX ? (int64_t)v : 0;
        } else {
            out->sel = SSM_SEL_LABEL;
            out->label = word;
        }
    }
    out->problem = ssm_name_parse(namepart, &out->name);
    return true;
}

bool ssm_label_valid(struct moat_slice label)
{
    if (!label.len || label.len > 100)
        return false;
    if (label.ptr[0] >= '0' && label.ptr[0] <= '9')
        return false;
    if (starts_nocase(label, "aws") || starts_nocase(label, "ssm"))
        return false;
    for (size_t i = 0; i < label.len; i++) {
        uint8_t c = label.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_'))
            return false;
    }
    return true;
}

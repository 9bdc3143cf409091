/* iam_policy.c: policy documents to compiled policies: size and character limits, the
 * grammar of each policy kind with AWS's messages, pre-split patterns and conditions. */
#include "iam/iam_compiled.h"

#include "core/encoding.h"
#include "core/json.h"
#include "iam/iam_context.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* IAM User Guide, "IAM and AWS STS quotas"; AWS Organizations, "Quotas". */
size_t iam_policy_default_limit(enum iam_policy_kind kind)
{
    switch (kind) {
    case IAM_POLICY_IDENTITY:
        return 6144;
    case IAM_POLICY_SESSION:
        return 2048;
    case IAM_POLICY_TRUST:
        return 2048;
    case IAM_POLICY_SCP:
    case IAM_POLICY_RCP:
        return 5120;
    case IAM_POLICY_RESOURCE:
        return 20480;
    case IAM_POLICY_KIND_COUNT:
        break;
    }
    return 6144;
}

static bool is_iam_kind(enum iam_policy_kind kind)
{
    return kind == IAM_POLICY_IDENTITY || kind == IAM_POLICY_SESSION || kind == IAM_POLICY_TRUST;
}

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t iam_policy_counted_size(enum iam_policy_kind kind, struct moat_slice text)
{
    bool skip_space = is_iam_kind(kind);
    size_t n = 0;
    for (size_t i = 0; i < text.len; i++) {
        uint8_t c = text.ptr[i];
        if ((c & 0xC0) == 0x80)
            continue; /* count characters, not bytes */
        if (skip_space && is_space(c))
            continue;
        n++;
    }
    return n;
}

struct compiler {
    struct moat_arena *a; /* the policy's arena */
    enum iam_policy_kind kind;
    bool variables;
    struct moat_slice text; /* the policy's copy */
    struct iam_policy_diag *diag;
};

static bool fail(struct compiler *c, const char *fmt, ...) MOAT_PRINTF(2, 3);
static bool fail(struct compiler *c, const char *fmt, ...)
{
    c->diag->status = IAM_POLICY_MALFORMED;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->diag->message, sizeof(c->diag->message), fmt, ap);
    va_end(ap);
    return false;
}

static const char syntax_error[] = "Syntax errors in policy.";

/* Names in messages are cut so that the message stays readable. */
#define SHOW(s) (int)MOAT_MIN((s).len, 128), (const char *)(s).ptr

/* A string from the value tree lives in the text copy unless it had escapes; those were
 * decoded into the parse arena, which dies after compilation. */
static struct moat_slice keep(struct compiler *c, struct moat_slice s)
{
    if (!s.len)
        return MOAT_LIT("");
    if (s.ptr >= c->text.ptr && s.ptr + s.len <= c->text.ptr + c->text.len)
        return s;
    return moat_arena_dup(c->a, s);
}

static struct moat_slice lowercase(struct compiler *c, struct moat_slice s)
{
    uint8_t *p = moat_arena_alloc(c->a, s.len + 1);
    for (size_t i = 0; i < s.len; i++)
        p[i] = (s.ptr[i] >= 'A' && s.ptr[i] <= 'Z') ? (uint8_t)(s.ptr[i] + 32) : s.ptr[i];
    p[s.len] = 0;
    return moat_slice(p, s.len);
}

/* A string or a non-empty array of strings. items/count point into the tree. */
static bool string_list(struct compiler *c, const struct moat_value *v,
                        struct moat_value *const **items, uint32_t *count,
                        struct moat_value **single)
{
    if (v->type == MOAT_V_STRING) {
        *single = (struct moat_value *)v;
        *items = single;
        *count = 1;
        return true;
    }
    if (v->type != MOAT_V_LIST)
        return fail(c, syntax_error);
    for (uint32_t i = 0; i < v->count; i++)
        if (v->u.items[i]->type != MOAT_V_STRING)
            return fail(c, syntax_error);
    *items = v->u.items;
    *count = v->count;
    return true;
}

/* ---- policy variables ---------------------------------------------------------------- */

struct strform {
    struct iam_template tmpl;  /* count > 0 when a ${key} needs a value at evaluation */
    struct moat_slice raw;     /* without variables: the literal string */
    struct moat_slice escaped; /* without variables: the glob form */
};

static bool has_wild(uint8_t ch)
{
    return ch == '*' || ch == '?' || ch == '\\';
}

/* Splits s into text, escaped characters and variables (IAM User Guide, "IAM policy
 * elements: Variables and tags"): ${*} ${?} ${$}, ${key} and ${key, 'default'}. Fails
 * on an unterminated or empty variable. With Version 2008-10-17 the text is literal. */
static bool parse_string_form(struct compiler *c, struct moat_slice s, bool allow_vars,
                              const char *where, struct strform *out)
{
    memset(out, 0, sizeof(*out));
    struct iam_piece pieces[64];
    uint32_t n = 0;
    bool any_var = false;
    size_t i = 0, text_start = 0;
    if (c->variables) {
        while (i + 1 < s.len) {
            if (s.ptr[i] != '$' || s.ptr[i + 1] != '{') {
                i++;
                continue;
            }
            if (!allow_vars)
                return fail(c, "Policy variables are not supported in %s.", where);
            size_t close = i + 2;
            while (close < s.len && s.ptr[close] != '}')
                close++;
            if (close >= s.len)
                return fail(c, "Invalid policy variable in %.*s: missing closing brace.", SHOW(s));
            if (n + 2 > MOAT_COUNT(pieces))
                return fail(c, "Too many policy variables in %.*s.", SHOW(s));
            if (i > text_start)
                pieces[n++] = (struct iam_piece){.kind = IAM_PIECE_TEXT,
                                                 .text = moat_slice_sub(s, text_start, i)};
            struct moat_slice inner = moat_slice_trim(moat_slice_sub(s, i + 2, close));
            if (!inner.len)
                return fail(c, "Invalid policy variable in %.*s: empty variable.", SHOW(s));
            struct iam_piece *pc = &pieces[n++];
            memset(pc, 0, sizeof(*pc));
            if (inner.len == 1 &&
                (inner.ptr[0] == '*' || inner.ptr[0] == '?' || inner.ptr[0] == '$')) {
                pc->kind = IAM_PIECE_CHAR;
                pc->text = inner;
            } else {
                pc->kind = IAM_PIECE_VAR;
                any_var = true;
                long comma = moat_slice_index(inner, ',');
                struct moat_slice key = inner;
                if (comma >= 0) {
                    key = moat_slice_trim(moat_slice_sub(inner, 0, (size_t)comma));
                    struct moat_slice d =
                        moat_slice_trim(moat_slice_sub(inner, (size_t)comma + 1, inner.len));
                    if (d.len < 2 || d.ptr[0] != '\'' || d.ptr[d.len - 1] != '\'')
                        return fail(c, "Invalid policy variable in %.*s: bad default value.",
                                    SHOW(s));
                    pc->has_default = true;
                    pc->dflt = moat_slice_sub(d, 1, d.len - 1);
                }
                if (!key.len || moat_slice_index(key, '$') >= 0 || moat_slice_index(key, '{') >= 0)
                    return fail(c, "Invalid policy variable in %.*s.", SHOW(s));
                pc->text = key;
                pc->hash = iam_key_hash(key, MOAT_NULL_SLICE);
            }
            i = text_start = close + 1;
        }
    }
    if (text_start < s.len && (n || any_var))
        pieces[n++] = (struct iam_piece){.kind = IAM_PIECE_TEXT,
                                         .text = moat_slice_sub(s, text_start, s.len)};
    if (any_var) {
        struct iam_piece *keepp = moat_arena_alloc(c->a, n * sizeof(*keepp));
        for (uint32_t k = 0; k < n; k++) {
            keepp[k] = pieces[k];
            keepp[k].text = keep(c, pieces[k].text);
            keepp[k].dflt = keep(c, pieces[k].dflt);
        }
        out->tmpl.pieces = keepp;
        out->tmpl.count = n;
        return true;
    }
    /* No variable: fold the escapes into a literal and a glob form. */
    if (!n)
        pieces[n++] = (struct iam_piece){.kind = IAM_PIECE_TEXT, .text = s};
    size_t total = 0;
    for (uint32_t k = 0; k < n; k++)
        total += pieces[k].text.len;
    uint8_t *raw = moat_arena_alloc(c->a, total + 1), *esc = moat_arena_alloc(c->a, 2 * total + 1);
    size_t rn = 0, en = 0;
    for (uint32_t k = 0; k < n; k++) {
        struct moat_slice t = pieces[k].text;
        for (size_t j = 0; j < t.len; j++) {
            uint8_t ch = t.ptr[j];
            raw[rn++] = ch;
            if (pieces[k].kind == IAM_PIECE_CHAR ? has_wild(ch) : ch == '\\')
                esc[en++] = '\\';
            esc[en++] = ch;
        }
    }
    raw[rn] = esc[en] = 0;
    out->raw = moat_slice(raw, rn);
    out->escaped = moat_slice(esc, en);
    return true;
}

/* ---- actions and resources ------------------------------------------------------------ */

static bool compile_action(struct compiler *c, struct moat_slice s, struct iam_action_pattern *out)
{
    memset(out, 0, sizeof(*out));
    if (s.len == 1 && s.ptr[0] == '*') {
        out->any = true;
        return true;
    }
    long colon = moat_slice_index(s, ':');
    if (colon <= 0 || (size_t)colon + 1 >= s.len)
        return fail(c,
                    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
    struct moat_slice low = lowercase(c, s);
    iam_glob_init(&out->service, moat_slice_sub(low, 0, (size_t)colon));
    /* Action text cannot hold escapes: a backslash is an ordinary byte, so escape it. */
    struct moat_slice name = moat_slice_sub(low, (size_t)colon + 1, low.len);
    if (moat_slice_index(low, '\\') >= 0) {
        uint8_t *e = moat_arena_alloc(c->a, 2 * name.len + 1);
        size_t en = 0;
        for (size_t i = 0; i < name.len; i++) {
            if (name.ptr[i] == '\\')
                e[en++] = '\\';
            e[en++] = name.ptr[i];
        }
        name = moat_slice(e, en);
        struct moat_slice svc = moat_slice_sub(low, 0, (size_t)colon);
        if (moat_slice_index(svc, '\\') >= 0)
            return fail(
                c, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
    }
    iam_glob_init(&out->name, name);
    return true;
}

static bool is_digits(struct moat_slice s, size_t n)
{
    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    return true;
}

/* arn:partition:service:region:account:resource, IAM Access Analyzer's ARN checks: the
 * prefix, six fields and a 12-digit (or "aws", or wildcard/variable) account. */
static bool resource_arn_ok(struct moat_slice s)
{
    if (!moat_slice_starts_with(s, MOAT_LIT("arn:")))
        return false;
    struct moat_slice rest = moat_slice_sub(s, 4, s.len), f[4];
    for (int i = 0; i < 4; i++) {
        long colon = moat_slice_index(rest, ':');
        if (colon < 0)
            return false;
        f[i] = moat_slice_sub(rest, 0, (size_t)colon);
        rest = moat_slice_sub(rest, (size_t)colon + 1, rest.len);
    }
    if (!f[0].len) /* partition */
        return false;
    struct moat_slice acct = f[3];
    if (!acct.len || is_digits(acct, 12) || moat_slice_eq_cstr(acct, "aws"))
        return true;
    for (size_t i = 0; i < acct.len; i++)
        if (acct.ptr[i] == '*' || acct.ptr[i] == '?' || acct.ptr[i] == '$')
            return true;
    return false;
}

static bool compile_resource(struct compiler *c, struct moat_slice s,
                             struct iam_resource_pattern *out)
{
    memset(out, 0, sizeof(*out));
    if (s.len == 1 && s.ptr[0] == '*') {
        out->any = true;
        return true;
    }
    if (!resource_arn_ok(s))
        return fail(c, "Resource %.*s must be in ARN format or \"*\".", SHOW(s));
    struct strform f;
    if (!parse_string_form(c, s, true, "this element", &f))
        return false;
    out->tmpl = f.tmpl;
    if (!f.tmpl.count) {
        iam_arn_pattern_init(&out->arn, f.escaped);
        return true;
    }
    /* Variables usually sit in the resource part ("arn:aws:s3:::bkt/${aws:username}/x"):
     * compile the five parts before it (with their colons) so that evaluation expands
     * only the rest. */
    size_t colons = 0, i = 0;
    for (; i < s.len && colons < IAM_ARN_PARTS - 1; i++) {
        if (s.ptr[i] == '$' && i + 1 < s.len && s.ptr[i + 1] == '{')
            return true; /* a variable before the resource part: expand it all */
        if (s.ptr[i] == ':')
            colons++;
    }
    struct strform head, rest;
    if (colons < IAM_ARN_PARTS - 1 ||
        !parse_string_form(c, moat_slice_sub(s, 0, i), true, "this element", &head) ||
        !parse_string_form(c, moat_slice_sub(s, i, s.len), true, "this element", &rest) ||
        head.tmpl.count || !rest.tmpl.count)
        return true;
    iam_arn_pattern_init(&out->arn, head.escaped);
    out->tmpl = rest.tmpl;
    out->split = out->arn.count == IAM_ARN_PARTS; /* the sixth part is empty */
    if (!out->split)
        out->tmpl = f.tmpl;
    return true;
}

/* ---- principals ----------------------------------------------------------------------- */

static bool invalid_principal(struct compiler *c)
{
    return fail(c, "Invalid principal in policy");
}

static bool has_wildcard_char(struct moat_slice s)
{
    return moat_slice_index(s, '*') >= 0 || moat_slice_index(s, '?') >= 0;
}

/* An IAM unique id as IAM stores it in place of a deleted-and-recreated principal. */
static bool is_unique_id(struct moat_slice s)
{
    if (s.len < 16 || s.len > 128 ||
        !(moat_slice_starts_with(s, MOAT_LIT("AIDA")) ||
          moat_slice_starts_with(s, MOAT_LIT("AROA"))))
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!((s.ptr[i] >= 'A' && s.ptr[i] <= 'Z') || (s.ptr[i] >= '0' && s.ptr[i] <= '9')))
            return false;
    return true;
}

static bool compile_aws_principal(struct compiler *c, struct moat_slice s,
                                  struct iam_aws_entry *out)
{
    if (is_digits(s, 12)) {
        out->kind = IAM_AWS_ACCOUNT;
        out->account = keep(c, s);
        out->value =
            moat_slice_cstr(moat_arena_printf(c->a, "arn:aws:iam::%.*s:root", MOAT_FMT(s)));
        return true;
    }
    if (is_unique_id(s)) {
        out->kind = IAM_AWS_UNIQUE_ID;
        out->value = keep(c, s);
        out->account = MOAT_NULL_SLICE;
        return true;
    }
    if (has_wildcard_char(s) || !moat_slice_starts_with(s, MOAT_LIT("arn:")))
        return invalid_principal(c);
    struct moat_slice rest = moat_slice_sub(s, 4, s.len), f[4];
    for (int i = 0; i < 4; i++) {
        long colon = moat_slice_index(rest, ':');
        if (colon < 0)
            return invalid_principal(c);
        f[i] = moat_slice_sub(rest, 0, (size_t)colon);
        rest = moat_slice_sub(rest, (size_t)colon + 1, rest.len);
    }
    struct moat_slice partition = f[0], service = f[1], region = f[2], acct = f[3];
    if (!partition.len || region.len || !is_digits(acct, 12))
        return invalid_principal(c);
    out->account = keep(c, acct);
    if (moat_slice_eq_cstr(service, "iam")) {
        if (moat_slice_eq_cstr(rest, "root")) {
            out->kind = IAM_AWS_ACCOUNT;
            out->value = keep(c, s);
            return true;
        }
        static const char *const iam_types[] = {"user/", "role/", "federated-user/",
                                                "assumed-role/"};
        for (size_t i = 0; i < MOAT_COUNT(iam_types); i++) {
            struct moat_slice t = moat_slice_cstr(iam_types[i]);
            if (moat_slice_starts_with(rest, t) && rest.len > t.len &&
                rest.ptr[rest.len - 1] != '/') {
                out->kind = IAM_AWS_ARN;
                out->value = keep(c, s);
                return true;
            }
        }
        return invalid_principal(c);
    }
    if (moat_slice_eq_cstr(service, "sts")) {
        if (moat_slice_starts_with(rest, MOAT_LIT("assumed-role/"))) {
            struct moat_slice rs = moat_slice_sub(rest, 13, rest.len);
            long slash = moat_slice_index(rs, '/');
            if (slash <= 0 || (size_t)slash + 1 >= rs.len)
                return invalid_principal(c);
        } else if (!(moat_slice_starts_with(rest, MOAT_LIT("federated-user/")) && rest.len > 15)) {
            return invalid_principal(c);
        }
        out->kind = IAM_AWS_ARN;
        out->value = keep(c, s);
        return true;
    }
    return invalid_principal(c);
}

static bool compile_principal(struct compiler *c, const struct moat_value *v,
                              struct iam_principal_set *out)
{
    memset(out, 0, sizeof(*out));
    if (v->type == MOAT_V_STRING) {
        if (!moat_slice_eq_cstr(v->u.s, "*"))
            return invalid_principal(c);
        out->any = true;
        return true;
    }
    if (v->type != MOAT_V_MAP)
        return fail(c, syntax_error);
    if (!v->count)
        return invalid_principal(c);
    for (uint32_t k = 0; k < v->count; k++) {
        struct moat_slice name = v->u.entries[k].key;
        struct moat_value *one, *const *items;
        uint32_t count;
        if (!string_list(c, v->u.entries[k].value, &items, &count, &one))
            return false;
        if (!count)
            return invalid_principal(c);
        if (moat_slice_eq_cstr(name, "AWS")) {
            struct iam_aws_entry *e = moat_arena_alloc(c->a, count * sizeof(*e));
            uint32_t n = 0;
            for (uint32_t i = 0; i < count; i++) {
                struct moat_slice s = items[i]->u.s;
                if (moat_slice_eq_cstr(s, "*")) {
                    out->any = true;
                    continue;
                }
                if (!compile_aws_principal(c, s, &e[n++]))
                    return false;
            }
            out->aws = e;
            out->aws_count = n;
            continue;
        }
        struct moat_slice *list = moat_arena_alloc(c->a, count * sizeof(*list));
        for (uint32_t i = 0; i < count; i++) {
            struct moat_slice s = items[i]->u.s;
            if (!s.len || has_wildcard_char(s))
                return invalid_principal(c);
            list[i] = keep(c, s);
        }
        if (moat_slice_eq_cstr(name, "Service")) {
            out->services = list;
            out->service_count = count;
        } else if (moat_slice_eq_cstr(name, "Federated")) {
            out->federated = list;
            out->federated_count = count;
        } else if (moat_slice_eq_cstr(name, "CanonicalUser")) {
            out->canonical = list;
            out->canonical_count = count;
        } else {
            return invalid_principal(c);
        }
    }
    return true;
}

/* ---- conditions ----------------------------------------------------------------------- */

static bool compile_condition_values(struct compiler *c, struct iam_condition *cond,
                                     const struct moat_value *v)
{
    const struct moat_value *const *items = (const struct moat_value *const *)&v;
    uint32_t count = 1;
    if (v->type == MOAT_V_LIST) {
        items = (const struct moat_value *const *)v->u.items;
        count = v->count;
    }
    struct iam_cond_value *vals = moat_arena_calloc(c->a, (count ? count : 1) * sizeof(*vals));
    const struct iam_op_info *info = &iam_op_table[cond->op];
    for (uint32_t i = 0; i < count; i++) {
        const struct moat_value *x = items[i];
        struct moat_slice text;
        if (x->type == MOAT_V_STRING || x->type == MOAT_V_NUMBER)
            text = x->u.s;
        else if (x->type == MOAT_V_BOOL)
            text = x->u.b ? MOAT_LIT("true") : MOAT_LIT("false");
        else
            return fail(c, syntax_error);
        struct iam_cond_value *cv = &vals[i];
        cv->text = keep(c, text);
        char where[80];
        snprintf(where, sizeof(where), "the %s condition operator", info->name);
        struct strform f;
        if (!parse_string_form(c, cv->text, info->variables, where, &f))
            return false;
        cv->tmpl = f.tmpl;
        if (f.tmpl.count) {
            cv->valid = true;
            continue;
        }
        /* Equality operators compare against the literal (escapes folded). */
        if (info->family == IAM_FAM_STRING || info->family == IAM_FAM_BOOL)
            cv->text = f.raw;
        iam_condition_prepare_value(c->a, cond->op, cv, f.escaped);
    }
    cond->values = vals;
    cond->value_count = count;
    return true;
}

static bool compile_conditions(struct compiler *c, const struct moat_value *v,
                               struct iam_statement *st)
{
    if (v->type != MOAT_V_MAP)
        return fail(c, syntax_error);
    uint32_t total = 0;
    for (uint32_t i = 0; i < v->count; i++) {
        const struct moat_value *block = v->u.entries[i].value;
        if (block->type != MOAT_V_MAP)
            return fail(c, syntax_error);
        total += block->count;
    }
    struct iam_condition *conds = moat_arena_calloc(c->a, (total ? total : 1) * sizeof(*conds));
    uint32_t n = 0;
    for (uint32_t i = 0; i < v->count; i++) {
        struct moat_slice opname = v->u.entries[i].key;
        enum iam_cond_op op;
        enum iam_set_mode set;
        bool if_exists;
        if (!iam_condition_parse_operator(opname, &op, &set, &if_exists))
            return fail(c, "Invalid Condition type : %.*s", SHOW(opname));
        const struct moat_value *block = v->u.entries[i].value;
        for (uint32_t k = 0; k < block->count; k++) {
            struct moat_slice key = block->u.entries[k].key;
            long colon = moat_slice_index(key, ':');
            if (colon <= 0 || (size_t)colon + 1 >= key.len)
                return fail(c, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, "
                               "ec2, etc.");
            const struct moat_value *vals = block->u.entries[k].value;
            if (vals->type == MOAT_V_LIST) {
                for (uint32_t j = 0; j < vals->count; j++) {
                    enum moat_vtype t = vals->u.items[j]->type;
                    if (t != MOAT_V_STRING && t != MOAT_V_NUMBER && t != MOAT_V_BOOL)
                        return fail(c, syntax_error);
                }
            } else if (vals->type != MOAT_V_STRING && vals->type != MOAT_V_NUMBER &&
                       vals->type != MOAT_V_BOOL) {
                return fail(c, syntax_error);
            }
            struct iam_condition *cond = &conds[n++];
            cond->op = op;
            cond->set = set;
            cond->if_exists = if_exists;
            cond->negated = iam_op_table[op].negated;
            cond->key = keep(c, key);
            cond->key_hash = iam_key_hash(key, MOAT_NULL_SLICE);
            if (!compile_condition_values(c, cond, vals))
                return false;
        }
    }
    st->conditions = conds;
    st->condition_count = n;
    return true;
}

/* ---- statements ----------------------------------------------------------------------- */

static bool sid_ok(struct moat_slice s)
{
    for (size_t i = 0; i < s.len; i++) {
        uint8_t ch = s.ptr[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
            return false;
    }
    return true;
}

static bool compile_statement(struct compiler *c, const struct moat_value *v,
                              struct iam_statement *st)
{
    memset(st, 0, sizeof(*st));
    if (v->type != MOAT_V_MAP)
        return fail(c, syntax_error);
    const struct moat_value *effect = NULL, *principal = NULL, *not_principal = NULL,
                            *action = NULL, *not_action = NULL, *resource = NULL,
                            *not_resource = NULL, *condition = NULL, *sid = NULL;
    for (uint32_t i = 0; i < v->count; i++) {
        struct moat_slice k = v->u.entries[i].key;
        const struct moat_value *x = v->u.entries[i].value;
        if (moat_slice_eq_cstr(k, "Sid"))
            sid = x;
        else if (moat_slice_eq_cstr(k, "Effect"))
            effect = x;
        else if (moat_slice_eq_cstr(k, "Principal"))
            principal = x;
        else if (moat_slice_eq_cstr(k, "NotPrincipal"))
            not_principal = x;
        else if (moat_slice_eq_cstr(k, "Action"))
            action = x;
        else if (moat_slice_eq_cstr(k, "NotAction"))
            not_action = x;
        else if (moat_slice_eq_cstr(k, "Resource"))
            resource = x;
        else if (moat_slice_eq_cstr(k, "NotResource"))
            not_resource = x;
        else if (moat_slice_eq_cstr(k, "Condition"))
            condition = x;
        else
            return fail(c, "Unknown field %.*s", SHOW(k));
    }

    if (sid) {
        if (sid->type != MOAT_V_STRING)
            return fail(c, syntax_error);
        if (is_iam_kind(c->kind) && !sid_ok(sid->u.s))
            return fail(c, "Statement IDs (SID) must be alpha-numeric. Check that your input "
                           "satisfies the regular expression [0-9A-Za-z]*");
        st->sid = keep(c, sid->u.s);
    }

    if (!effect)
        return fail(c, "Missing required field Effect");
    if (effect->type != MOAT_V_STRING)
        return fail(c, syntax_error);
    if (moat_slice_eq_cstr(effect->u.s, "Allow"))
        st->allow = true;
    else if (!moat_slice_eq_cstr(effect->u.s, "Deny"))
        return fail(c, "Invalid effect: %.*s", SHOW(effect->u.s));

    /* Principal / NotPrincipal, by policy kind (IAM User Guide, "AWS JSON policy elements:
     * Principal" and "NotPrincipal"; Organizations, "SCP syntax" and "RCP syntax"). */
    switch (c->kind) {
    case IAM_POLICY_IDENTITY:
    case IAM_POLICY_SESSION:
    case IAM_POLICY_SCP:
        if (principal || not_principal)
            return fail(c, "Policy document should not specify a principal.");
        break;
    case IAM_POLICY_RESOURCE:
        if (principal && not_principal)
            return fail(c, "Policy statement must contain either Principal or NotPrincipal, "
                           "not both.");
        if (!principal && !not_principal)
            return fail(c, "Missing required field Principal");
        if (not_principal && st->allow)
            return fail(c, "NotPrincipal is supported only with Effect Deny.");
        break;
    case IAM_POLICY_TRUST:
        if (not_principal)
            return fail(c, "Has prohibited field NotPrincipal");
        if (!principal)
            return fail(c, "Missing required field Principal");
        break;
    case IAM_POLICY_RCP:
        if (not_principal)
            return fail(c, "Has prohibited field NotPrincipal");
        break;
    case IAM_POLICY_KIND_COUNT:
        break;
    }
    if (principal || not_principal) {
        if (!compile_principal(c, principal ? principal : not_principal, &st->principals))
            return false;
        st->has_principal = true;
        st->not_principal = not_principal != NULL;
        if (c->kind == IAM_POLICY_RCP && !st->principals.any)
            return fail(c, "Invalid principal in policy");
    }

    /* Action / NotAction */
    if (action && not_action)
        return fail(c, "Policy statement must contain either Action or NotAction, not both.");
    if (!action && !not_action)
        return fail(c, "Policy statement must contain actions.");
    {
        struct moat_value *one, *const *items;
        uint32_t count;
        if (!string_list(c, action ? action : not_action, &items, &count, &one))
            return false;
        if (!count)
            return fail(c, "Policy statement must contain actions.");
        struct iam_action_pattern *acts = moat_arena_alloc(c->a, count * sizeof(*acts));
        st->service_bloom = 0;
        for (uint32_t i = 0; i < count; i++) {
            if (!compile_action(c, items[i]->u.s, &acts[i]))
                return false;
            if (acts[i].any || acts[i].service.kind != IAM_GLOB_LITERAL)
                st->service_bloom = ~(uint64_t)0;
            else
                st->service_bloom |= iam_service_bit(iam_key_hash(
                    moat_slice(acts[i].service.ptr, acts[i].service.len), MOAT_NULL_SLICE));
        }
        st->actions = acts;
        st->action_count = count;
        st->not_action = not_action != NULL;
        if (st->not_action)
            st->service_bloom = ~(uint64_t)0;
    }

    /* Resource / NotResource */
    if (c->kind == IAM_POLICY_TRUST) {
        if (resource)
            return fail(c, "Has prohibited field Resource");
        if (not_resource)
            return fail(c, "Has prohibited field NotResource");
    } else {
        if (resource && not_resource)
            return fail(c, "Policy statement must contain either Resource or NotResource, "
                           "not both.");
        if (!resource && !not_resource)
            return fail(c, "Policy statement must contain resources.");
        struct moat_value *one, *const *items;
        uint32_t count;
        if (!string_list(c, resource ? resource : not_resource, &items, &count, &one))
            return false;
        if (!count)
            return fail(c, "Policy statement must contain resources.");
        struct iam_resource_pattern *res = moat_arena_alloc(c->a, count * sizeof(*res));
        for (uint32_t i = 0; i < count; i++)
            if (!compile_resource(c, items[i]->u.s, &res[i]))
                return false;
        st->resources = res;
        st->resource_count = count;
        st->has_resource = true;
        st->not_resource = not_resource != NULL;
    }

    if (condition && !compile_conditions(c, condition, st))
        return false;
    return true;
}

/* ---- statement positions -------------------------------------------------------------- */

/* A minimal walker over text that is already known to be valid JSON. */
struct walker {
    const uint8_t *p, *end;
};

static void w_space(struct walker *w)
{
    while (w->p < w->end && is_space(*w->p))
        w->p++;
}

static void w_string(struct walker *w, struct moat_slice *raw)
{
    const uint8_t *s = ++w->p;
    while (w->p < w->end && *w->p != '"')
        w->p += *w->p == '\\' ? 2 : 1;
    if (raw)
        *raw = moat_slice(s, (size_t)(w->p - s));
    w->p++;
}

static void w_value(struct walker *w)
{
    w_space(w);
    if (w->p >= w->end)
        return;
    if (*w->p == '"') {
        w_string(w, NULL);
        return;
    }
    if (*w->p != '{' && *w->p != '[') {
        while (w->p < w->end && !is_space(*w->p) && *w->p != ',' && *w->p != '}' && *w->p != ']')
            w->p++;
        return;
    }
    int depth = 0;
    while (w->p < w->end) {
        uint8_t ch = *w->p;
        if (ch == '"') {
            w_string(w, NULL);
            continue;
        }
        w->p++;
        if (ch == '{' || ch == '[')
            depth++;
        else if ((ch == '}' || ch == ']') && --depth == 0)
            return;
    }
}

/* Is the raw (possibly escaped) key text "Statement"? */
static bool key_is_statement(struct moat_arena *tmp, struct moat_slice raw)
{
    if (moat_slice_index(raw, '\\') < 0)
        return moat_slice_eq_cstr(raw, "Statement");
    struct moat_buf b;
    moat_buf_init(&b, tmp, raw.len + 2);
    moat_buf_append_u8(&b, '"');
    moat_buf_append(&b, raw);
    moat_buf_append_u8(&b, '"');
    struct moat_value *v;
    return moat_json_parse(tmp, moat_buf_slice(&b), 0, &v, NULL) && v->type == MOAT_V_STRING &&
           moat_slice_eq_cstr(v->u.s, "Statement");
}

static void position_at(struct moat_slice text, size_t *cursor, struct iam_position *pos,
                        size_t offset)
{
    /* Advance from the last position (offsets only grow). */
    for (size_t i = *cursor; i < offset && i < text.len; i++) {
        uint8_t ch = text.ptr[i];
        if (ch == '\n') {
            pos->line++;
            pos->column = 1;
        } else if ((ch & 0xC0) != 0x80) {
            pos->column++;
        }
    }
    *cursor = offset;
}

/* Finds each statement's '{' and '}' in document order. */
static void locate_statements(struct moat_arena *tmp, struct moat_slice text,
                              struct iam_statement *st, uint32_t count)
{
    struct walker w = {text.ptr, text.ptr + text.len};
    w_space(&w);
    if (w.p >= w.end || *w.p != '{')
        return;
    w.p++;
    const uint8_t *found = NULL;
    for (;;) {
        w_space(&w);
        if (w.p >= w.end || *w.p != '"')
            break;
        struct moat_slice key;
        w_string(&w, &key);
        w_space(&w);
        w.p++; /* ':' */
        w_space(&w);
        if (key_is_statement(tmp, key))
            found = w.p; /* the last one wins, as in the tree (duplicates are refused) */
        w_value(&w);
        w_space(&w);
        if (w.p < w.end && *w.p == ',')
            w.p++;
        else
            break;
    }
    if (!found)
        return;
    const uint8_t *starts[1024], *ends[1024];
    uint32_t n = 0;
    w.p = found;
    if (*w.p == '{') {
        starts[0] = w.p;
        w_value(&w);
        ends[0] = w.p - 1;
        n = 1;
    } else if (*w.p == '[') {
        w.p++;
        for (;;) {
            w_space(&w);
            if (w.p >= w.end || *w.p == ']')
                break;
            const uint8_t *s = w.p;
            w_value(&w);
            if (n < MOAT_COUNT(starts)) {
                starts[n] = s;
                ends[n] = w.p - 1;
            }
            n++;
            w_space(&w);
            if (w.p < w.end && *w.p == ',')
                w.p++;
        }
    }
    if (n != count || n > MOAT_COUNT(starts))
        return;
    size_t cursor = 0;
    struct iam_position pos = {1, 1};
    for (uint32_t i = 0; i < n; i++) {
        position_at(text, &cursor, &pos, (size_t)(starts[i] - text.ptr));
        st[i].start = pos;
        position_at(text, &cursor, &pos, (size_t)(ends[i] - text.ptr));
        st[i].end = pos;
    }
}

/* ---- documents ------------------------------------------------------------------------ */

static bool chars_allowed(struct compiler *c, struct moat_slice text)
{
    if (!moat_utf8_valid(text))
        return fail(c, syntax_error);
    /* IAM User Guide, "IAM and AWS STS quotas": tab, LF, CR and U+0020 through U+00FF. */
    for (size_t i = 0; i < text.len; i++) {
        uint8_t ch = text.ptr[i];
        bool ok = ch == '\t' || ch == '\n' || ch == '\r' || (ch >= 0x20 && ch < 0x80) ||
                  ((ch == 0xC2 || ch == 0xC3) && i + 1 < text.len);
        if (!ok)
            return fail(c, "The policy document contains characters outside the allowed range "
                           "(tab, line feed, carriage return and U+0020 through U+00FF).");
        if (ch >= 0xC2)
            i++;
    }
    return true;
}

static bool compile_document(struct compiler *c, struct moat_arena *tmp, struct iam_policy *pol)
{
    struct moat_value *root;
    struct moat_json_error jerr;
    if (!moat_json_parse(tmp, c->text, MOAT_JSON_REJECT_DUPLICATES, &root, &jerr))
        return fail(c, syntax_error);
    if (root->type != MOAT_V_MAP)
        return fail(c, syntax_error);
    const struct moat_value *version = NULL, *statement = NULL, *id = NULL;
    for (uint32_t i = 0; i < root->count; i++) {
        struct moat_slice k = root->u.entries[i].key;
        if (moat_slice_eq_cstr(k, "Version"))
            version = root->u.entries[i].value;
        else if (moat_slice_eq_cstr(k, "Statement"))
            statement = root->u.entries[i].value;
        else if (moat_slice_eq_cstr(k, "Id"))
            id = root->u.entries[i].value;
        else
            return fail(c, "Unknown field %.*s", SHOW(k));
    }
    c->variables = false;
    if (version) {
        if (version->type != MOAT_V_STRING)
            return fail(c, syntax_error);
        if (moat_slice_eq_cstr(version->u.s, "2012-10-17"))
            c->variables = true;
        else if (!moat_slice_eq_cstr(version->u.s, "2008-10-17"))
            return fail(c, "The policy failed legacy parsing");
        pol->version = keep(c, version->u.s);
    }
    if (id) {
        if (id->type != MOAT_V_STRING)
            return fail(c, syntax_error);
        if (c->kind == IAM_POLICY_IDENTITY || c->kind == IAM_POLICY_SESSION)
            return fail(c, "Policy document should not specify an Id.");
    }
    if (!statement)
        return fail(c, "Missing required field Statement");
    const struct moat_value *const *items = (const struct moat_value *const *)&statement;
    uint32_t count = 1;
    if (statement->type == MOAT_V_LIST) {
        items = (const struct moat_value *const *)statement->u.items;
        count = statement->count;
    } else if (statement->type != MOAT_V_MAP) {
        return fail(c, syntax_error);
    }
    if (!count)
        return fail(c, syntax_error);
    struct iam_statement *st = moat_arena_calloc(c->a, count * sizeof(*st));
    for (uint32_t i = 0; i < count; i++)
        if (!compile_statement(c, items[i], &st[i]))
            return false;
    /* IAM User Guide, "IAM JSON policy elements: Sid": unique within a policy (IAM,
     * Organizations); resource services define their own rules. */
    if (c->kind != IAM_POLICY_RESOURCE)
        for (uint32_t i = 0; i < count; i++)
            for (uint32_t j = i + 1; st[i].sid.len && j < count; j++)
                if (moat_slice_eq(st[i].sid, st[j].sid))
                    return fail(c, "Statement IDs (SID) in a single policy must be unique.");
    locate_statements(tmp, c->text, st, count);
    pol->statements = st;
    pol->statement_count = count;
    pol->variables = c->variables;
    return true;
}

enum iam_policy_status iam_policy_compile(enum iam_policy_kind kind, struct moat_slice text,
                                          size_t size_limit, struct iam_policy **out,
                                          struct iam_policy_diag *diag)
{
    *out = NULL;
    diag->status = IAM_POLICY_OK;
    diag->message[0] = 0;
    if ((unsigned)kind >= IAM_POLICY_KIND_COUNT) {
        diag->status = IAM_POLICY_MALFORMED;
        snprintf(diag->message, sizeof(diag->message), "%s", syntax_error);
        return diag->status;
    }
    if (!size_limit)
        size_limit = iam_policy_default_limit(kind);
    size_t size = iam_policy_counted_size(kind, text);
    if (size > size_limit) {
        diag->status = IAM_POLICY_LIMIT_EXCEEDED;
        snprintf(diag->message, sizeof(diag->message), "Cannot exceed quota for %s: %zu",
                 kind == IAM_POLICY_TRUST ? "ACLSizePerRole" : "PolicySize", size_limit);
        return diag->status;
    }

    struct moat_arena *a = moat_arena_new(4096 + text.len * 2);
    struct iam_policy *pol = moat_arena_calloc(a, sizeof(*pol));
    atomic_init(&pol->refs, 1);
    pol->arena = a;
    pol->kind = kind;
    pol->text = moat_arena_dup(a, text);
    struct compiler c = {a, kind, false, pol->text, diag};
    struct moat_arena *tmp = moat_arena_new(4096 + text.len * 4);
    bool ok =
        (!is_iam_kind(kind) || chars_allowed(&c, pol->text)) && compile_document(&c, tmp, pol);
    moat_arena_free(tmp);
    if (!ok) {
        moat_arena_free(a);
        return diag->status;
    }
    *out = pol;
    return IAM_POLICY_OK;
}

struct iam_policy *iam_policy_ref(struct iam_policy *p)
{
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}

void iam_policy_unref(struct iam_policy *p)
{
    if (p && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
        moat_arena_free(p->arena);
}

enum iam_policy_kind iam_policy_kind_of(const struct iam_policy *p)
{
    return p->kind;
}

struct moat_slice iam_policy_text(const struct iam_policy *p)
{
    return p->text;
}

struct moat_slice iam_policy_version(const struct iam_policy *p)
{
    return p->version;
}

size_t iam_policy_statement_count(const struct iam_policy *p)
{
    return p->statement_count;
}

bool iam_policy_statement_info(const struct iam_policy *p, size_t index,
                               struct iam_statement_info *out)
{
    if (index >= p->statement_count)
        return false;
    const struct iam_statement *st = &p->statements[index];
    out->sid = st->sid;
    out->allow = st->allow;
    out->start = st->start;
    out->end = st->end;
    return true;
}

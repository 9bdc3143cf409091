/* iam_condition.c: the condition operators (names, families, IfExists and set prefixes)
 * and the value parsers they share with the evaluator: numbers, dates, CIDRs, ARNs. */
#include "iam/iam_compiled.h"

#include "core/clock.h"
#include "core/encoding.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* IAM User Guide, "IAM JSON policy elements: Condition operators". Variables are allowed
 * with String and ARN operators and, as that page says, with Bool. */
const struct iam_op_info iam_op_table[IAM_OP_COUNT] = {
    [IAM_OP_STRING_EQUALS] = {"StringEquals", IAM_FAM_STRING, false, true},
    [IAM_OP_STRING_NOT_EQUALS] = {"StringNotEquals", IAM_FAM_STRING, true, true},
    [IAM_OP_STRING_EQUALS_IGNORE_CASE] = {"StringEqualsIgnoreCase", IAM_FAM_STRING, false, true},
    [IAM_OP_STRING_NOT_EQUALS_IGNORE_CASE] = {"StringNotEqualsIgnoreCase", IAM_FAM_STRING, true,
                                              true},
    [IAM_OP_STRING_LIKE] = {"StringLike", IAM_FAM_STRING, false, true},
    [IAM_OP_STRING_NOT_LIKE] = {"StringNotLike", IAM_FAM_STRING, true, true},
    [IAM_OP_NUMERIC_EQUALS] = {"NumericEquals", IAM_FAM_NUMERIC, false, false},
    [IAM_OP_NUMERIC_NOT_EQUALS] = {"NumericNotEquals", IAM_FAM_NUMERIC, true, false},
    [IAM_OP_NUMERIC_LESS_THAN] = {"NumericLessThan", IAM_FAM_NUMERIC, false, false},
    [IAM_OP_NUMERIC_LESS_THAN_EQUALS] = {"NumericLessThanEquals", IAM_FAM_NUMERIC, false, false},
    [IAM_OP_NUMERIC_GREATER_THAN] = {"NumericGreaterThan", IAM_FAM_NUMERIC, false, false},
    [IAM_OP_NUMERIC_GREATER_THAN_EQUALS] = {"NumericGreaterThanEquals", IAM_FAM_NUMERIC, false,
                                            false},
    [IAM_OP_DATE_EQUALS] = {"DateEquals", IAM_FAM_DATE, false, false},
    [IAM_OP_DATE_NOT_EQUALS] = {"DateNotEquals", IAM_FAM_DATE, true, false},
    [IAM_OP_DATE_LESS_THAN] = {"DateLessThan", IAM_FAM_DATE, false, false},
    [IAM_OP_DATE_LESS_THAN_EQUALS] = {"DateLessThanEquals", IAM_FAM_DATE, false, false},
    [IAM_OP_DATE_GREATER_THAN] = {"DateGreaterThan", IAM_FAM_DATE, false, false},
    [IAM_OP_DATE_GREATER_THAN_EQUALS] = {"DateGreaterThanEquals", IAM_FAM_DATE, false, false},
    [IAM_OP_BOOL] = {"Bool", IAM_FAM_BOOL, false, true},
    [IAM_OP_BINARY_EQUALS] = {"BinaryEquals", IAM_FAM_BINARY, false, false},
    [IAM_OP_IP_ADDRESS] = {"IpAddress", IAM_FAM_IP, false, false},
    [IAM_OP_NOT_IP_ADDRESS] = {"NotIpAddress", IAM_FAM_IP, true, false},
    [IAM_OP_ARN_EQUALS] = {"ArnEquals", IAM_FAM_ARN, false, true},
    [IAM_OP_ARN_LIKE] = {"ArnLike", IAM_FAM_ARN, false, true},
    [IAM_OP_ARN_NOT_EQUALS] = {"ArnNotEquals", IAM_FAM_ARN, true, true},
    [IAM_OP_ARN_NOT_LIKE] = {"ArnNotLike", IAM_FAM_ARN, true, true},
    [IAM_OP_NULL] = {"Null", IAM_FAM_NULL, false, false},
};

static bool strip_prefix_nocase(struct moat_slice *s, const char *prefix)
{
    struct moat_slice p = moat_slice_cstr(prefix);
    if (s->len < p.len || !moat_slice_eq_nocase(moat_slice(s->ptr, p.len), p))
        return false;
    s->ptr += p.len;
    s->len -= p.len;
    return true;
}

static bool strip_suffix_nocase(struct moat_slice *s, const char *suffix)
{
    struct moat_slice x = moat_slice_cstr(suffix);
    if (s->len < x.len || !moat_slice_eq_nocase(moat_slice(s->ptr + s->len - x.len, x.len), x))
        return false;
    s->len -= x.len;
    return true;
}

bool iam_condition_parse_operator(struct moat_slice name, enum iam_cond_op *op,
                                  enum iam_set_mode *set, bool *if_exists)
{
    *set = IAM_SET_NONE;
    if (strip_prefix_nocase(&name, "ForAllValues:"))
        *set = IAM_SET_FOR_ALL;
    else if (strip_prefix_nocase(&name, "ForAnyValue:"))
        *set = IAM_SET_FOR_ANY;
    *if_exists = strip_suffix_nocase(&name, "IfExists");
    for (int i = 0; i < IAM_OP_COUNT; i++) {
        if (!moat_slice_eq_nocase(name, moat_slice_cstr(iam_op_table[i].name)))
            continue;
        if (i == IAM_OP_NULL && (*if_exists || *set != IAM_SET_NONE))
            return false;
        *op = (enum iam_cond_op)i;
        return true;
    }
    return false;
}

bool iam_parse_number(struct moat_slice s, struct iam_number *out)
{
    if (!s.len || s.len > 64)
        return false;
    if (moat_slice_to_i64(s, &out->i)) {
        out->is_int = true;
        out->d = (double)out->i;
        return true;
    }
    /* Decimal: [sign] digits [. digits] [e [sign] digits]; no hex, inf or nan. */
    size_t i = 0;
    if (s.ptr[i] == '-' || s.ptr[i] == '+')
        i++;
    size_t digits = 0;
    while (i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9')
        i++, digits++;
    if (i < s.len && s.ptr[i] == '.') {
        i++;
        while (i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9')
            i++, digits++;
    }
    if (!digits)
        return false;
    if (i < s.len && (s.ptr[i] == 'e' || s.ptr[i] == 'E')) {
        i++;
        if (i < s.len && (s.ptr[i] == '-' || s.ptr[i] == '+'))
            i++;
        size_t e = 0;
        while (i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9')
            i++, e++;
        if (!e)
            return false;
    }
    if (i != s.len)
        return false;
    char buf[65];
    memcpy(buf, s.ptr, s.len);
    buf[s.len] = 0;
    double d = strtod(buf, NULL);
    if (!isfinite(d))
        return false;
    out->is_int = false;
    out->d = d;
    return true;
}

int iam_number_cmp(const struct iam_number *a, const struct iam_number *b)
{
    if (a->is_int && b->is_int)
        return a->i < b->i ? -1 : a->i > b->i;
    return a->d < b->d ? -1 : a->d > b->d;
}

static bool two_digits(const uint8_t *p, unsigned *out)
{
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
        return false;
    *out = (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
    return true;
}

/* "YYYY-MM-DDTHH:MM:SSZ", what aws:CurrentTime holds: parsed without the general path. */
static bool parse_canonical_time(struct moat_slice s, int64_t *ms)
{
    const uint8_t *p = s.ptr;
    unsigned c, y, mo, d, h, mi, sec;
    if (s.len != 20 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':' ||
        p[19] != 'Z' || !two_digits(p, &c) || !two_digits(p + 2, &y) || !two_digits(p + 5, &mo) ||
        !two_digits(p + 8, &d) || !two_digits(p + 11, &h) || !two_digits(p + 14, &mi) ||
        !two_digits(p + 17, &sec))
        return false;
    static const uint8_t mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 59)
        return false;
    if (mo == 2 && d == 29) /* leave leap years to the general parser */
        return false;
    *ms = (moat_days_from_civil(c * 100 + y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1000;
    return true;
}

bool iam_parse_date(struct moat_slice s, int64_t *ms)
{
    if (!s.len || s.len > 64)
        return false;
    if (parse_canonical_time(s, ms))
        return true;
    bool numeric = true;
    for (size_t i = 0; i < s.len; i++)
        if (!((s.ptr[i] >= '0' && s.ptr[i] <= '9') || s.ptr[i] == '.' ||
              (i == 0 && s.ptr[i] == '-')))
            numeric = false;
    if (numeric) {
        struct iam_number n;
        if (!iam_parse_number(s, &n))
            return false;
        if (n.is_int) {
            if (n.i > INT64_MAX / 1000 || n.i < INT64_MIN / 1000)
                return false;
            *ms = n.i * 1000;
        } else {
            if (fabs(n.d) > 9.0e15)
                return false;
            *ms = (int64_t)llround(n.d * 1000.0);
        }
        return true;
    }
    return moat_time_parse_iso8601(s, ms);
}

static bool parse_ipv4(const uint8_t *p, size_t n, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= n || p[i] != '.')
                return false;
            i++;
        }
        unsigned v = 0, digits = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(p[i] - '0');
            i++;
            digits++;
        }
        if (!digits || digits > 3 || v > 255)
            return false;
        out[part] = (uint8_t)v;
    }
    return i == n;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 4291 text form: groups of up to 4 hex digits, at most one "::", an optional
 * trailing dotted IPv4. out must be zeroed by the caller. */
static bool parse_ipv6(const uint8_t *p, size_t n, uint8_t out[16])
{
    uint16_t g[8];
    int count = 0, gap = -1;
    size_t i = 0;
    if (!n)
        return false;
    if (p[0] == ':') {
        if (n < 2 || p[1] != ':')
            return false;
        gap = 0;
        i = 2;
    }
    while (i < n) {
        size_t start = i;
        unsigned v = 0;
        while (i < n && i - start < 4 && hexval(p[i]) >= 0)
            v = v << 4 | (unsigned)hexval(p[i++]);
        if (i < n && p[i] == '.') {
            uint8_t v4[4];
            if (count > 6 || !parse_ipv4(p + start, n - start, v4))
                return false;
            g[count++] = (uint16_t)(v4[0] << 8 | v4[1]);
            g[count++] = (uint16_t)(v4[2] << 8 | v4[3]);
            break;
        }
        if (i == start || count == 8)
            return false;
        g[count++] = (uint16_t)v;
        if (i == n)
            break;
        if (p[i] != ':')
            return false;
        i++;
        if (i < n && p[i] == ':') {
            if (gap >= 0)
                return false;
            gap = count;
            i++;
        } else if (i == n) {
            return false;
        }
    }
    if (gap < 0 ? count != 8 : count > 7)
        return false;
    int o = 0;
    for (int k = 0; k < count; k++) {
        if (k == gap)
            o += 8 - count;
        out[2 * o] = (uint8_t)(g[k] >> 8);
        out[2 * o + 1] = (uint8_t)g[k];
        o++;
    }
    return true;
}

bool iam_parse_cidr(struct moat_slice s, struct iam_cidr *out)
{
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t'))
        s.ptr++, s.len--;
    while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
        s.len--;
    if (!s.len || s.len > 64)
        return false;
    long slash = -1;
    bool colon = false;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] == '/' && slash < 0)
            slash = (long)i;
        else if (s.ptr[i] == ':' && slash < 0)
            colon = true;
    }
    size_t addr_len = s.len;
    unsigned prefix = 0;
    bool has_prefix = slash >= 0;
    if (has_prefix) {
        addr_len = (size_t)slash;
        struct moat_slice ps = moat_slice_sub(s, (size_t)slash + 1, s.len);
        uint64_t v;
        if (!ps.len || ps.len > 3 || !moat_slice_to_u64(ps, &v))
            return false;
        prefix = (unsigned)v;
    }
    memset(out->addr, 0, sizeof(out->addr));
    if (colon) {
        if (!parse_ipv6(s.ptr, addr_len, out->addr))
            return false;
        out->family = 6;
        if (!has_prefix)
            prefix = 128;
        if (prefix > 128)
            return false;
        /* An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 address. */
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(out->addr, mapped, 12) == 0 && prefix >= 96) {
            memmove(out->addr, out->addr + 12, 4);
            memset(out->addr + 4, 0, 12);
            out->family = 4;
            prefix -= 96;
        }
    } else {
        if (!parse_ipv4(s.ptr, addr_len, out->addr))
            return false;
        out->family = 4;
        if (!has_prefix)
            prefix = 32;
        if (prefix > 32)
            return false;
    }
    out->prefix = (uint8_t)prefix;
    return true;
}

bool iam_cidr_contains(const struct iam_cidr *net, const struct iam_cidr *ip)
{
    if (net->family != ip->family)
        return false;
    unsigned bits = net->prefix, full = bits / 8, rest = bits % 8;
    if (memcmp(net->addr, ip->addr, full) != 0)
        return false;
    if (rest) {
        uint8_t mask = (uint8_t)(0xFF << (8 - rest));
        if ((net->addr[full] & mask) != (ip->addr[full] & mask))
            return false;
    }
    return true;
}

void iam_arn_pattern_init(struct iam_arn_pattern *p, struct moat_slice s)
{
    struct moat_slice all = s;
    p->count = 0;
    p->flat = true;
    while (p->count < IAM_ARN_PARTS - 1) {
        long c = moat_slice_index(s, ':');
        if (c < 0)
            break;
        iam_glob_init(&p->part[p->count], moat_slice(s.ptr, (size_t)c));
        if (p->part[p->count].kind != IAM_GLOB_LITERAL)
            p->flat = false;
        p->count++;
        s = moat_slice_sub(s, (size_t)c + 1, s.len);
    }
    iam_glob_init(&p->part[p->count++], s);
    iam_glob_init(&p->whole, all);
}

void iam_condition_prepare_value(struct moat_arena *a, enum iam_cond_op op,
                                 struct iam_cond_value *v, struct moat_slice escaped_glob)
{
    v->valid = false;
    switch (iam_op_table[op].family) {
    case IAM_FAM_STRING:
        if (op == IAM_OP_STRING_LIKE || op == IAM_OP_STRING_NOT_LIKE)
            iam_glob_init(&v->u.glob, escaped_glob);
        v->valid = true;
        break;
    case IAM_FAM_ARN:
        iam_arn_pattern_init(&v->u.arn, escaped_glob);
        v->valid = true;
        break;
    case IAM_FAM_NUMERIC:
        v->valid = iam_parse_number(moat_slice_trim(v->text), &v->u.num);
        break;
    case IAM_FAM_DATE:
        v->valid = iam_parse_date(moat_slice_trim(v->text), &v->u.date_ms);
        break;
    case IAM_FAM_BOOL:
    case IAM_FAM_NULL:
        if (moat_slice_eq_nocase(v->text, MOAT_LIT("true"))) {
            v->u.b = true;
            v->valid = true;
        } else if (moat_slice_eq_nocase(v->text, MOAT_LIT("false"))) {
            v->u.b = false;
            v->valid = true;
        }
        break;
    case IAM_FAM_BINARY:
        v->valid = moat_base64_decode(a, v->text, &v->u.bytes);
        break;
    case IAM_FAM_IP:
        v->valid = iam_parse_cidr(v->text, &v->u.cidr);
        break;
    }
}

/* ssm_policy.c: the parser of parameter policies (Expiration, ExpirationNotification,
 * NoChangeNotification), the JSON array PutParameter takes in Policies.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-policies.html */
#include "services/ssm/ssm.h"

#include "core/clock.h"
#include "core/json.h"

#include <string.h>

#define MAX_PERIOD_HOURS (100LL * 366 * 24) /* a century is plenty */

const char *ssm_policy_type_name(enum ssm_policy_type t)
{
    switch (t) {
    case SSM_POLICY_EXPIRATION:
        return "Expiration";
    case SSM_POLICY_EXPIRATION_NOTIFICATION:
        return "ExpirationNotification";
    default:
        return "NoChangeNotification";
    }
}

static bool digits(const uint8_t *p, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = v;
    return true;
}

static unsigned month_days(unsigned y, unsigned m)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* YYYY-MM-DDTHH:MM[:SS[.fraction]] followed by Z or +HH:MM[:SS] / -HH:MM[:SS]: what
 * Java's ISO_INSTANT and ISO_OFFSET_DATE_TIME accept. */
bool ssm_policy_parse_time(struct moat_slice s, int64_t *ms)
{
    const uint8_t *p = s.ptr;
    size_t n = s.len, i;
    unsigned y, mo, d, h, mi, sec = 0;
    if (n < 17 || !digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) || p[7] != '-' ||
        !digits(p + 8, 2, &d) || (p[10] != 'T' && p[10] != 't') || !digits(p + 11, 2, &h) ||
        p[13] != ':' || !digits(p + 14, 2, &mi))
        return false;
    i = 16;
    int64_t frac_ms = 0;
    if (i < n && p[i] == ':') {
        if (n - i < 3 || !digits(p + i + 1, 2, &sec))
            return false;
        i += 3;
        if (i < n && p[i] == '.') {
            i++;
            size_t got = 0;
            int scale = 100;
            while (i < n && p[i] >= '0' && p[i] <= '9') {
                if (got < 3) {
                    frac_ms += (p[i] - '0') * scale;
                    scale /= 10;
                }
                got++;
                i++;
            }
            if (!got || got > 9)
                return false;
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 || sec > 59)
        return false;
    int64_t offset = 0;
    if (i < n && (p[i] == 'Z' || p[i] == 'z')) {
        i++;
    } else if (i < n && (p[i] == '+' || p[i] == '-')) {
        int sign = p[i] == '-' ? -1 : 1;
        unsigned oh, om, os = 0;
        i++;
        if (n - i < 5 || !digits(p + i, 2, &oh) || p[i + 2] != ':' || !digits(p + i + 3, 2, &om))
            return false;
        i += 5;
        if (i < n && p[i] == ':') {
            if (n - i < 3 || !digits(p + i + 1, 2, &os))
                return false;
            i += 3;
        }
        if (oh > 18 || om > 59 || os > 59)
            return false;
        offset = sign * (int64_t)(oh * 3600 + om * 60 + os);
    } else {
        return false; /* a zone is required */
    }
    if (i != n)
        return false;
    int64_t t = moat_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    *ms = t * 1000 + frac_ms;
    return true;
}

static bool fail(struct moat_arena *a, const struct moat_error_kind **kind,
                 struct moat_slice *message, const struct moat_error_kind *k, const char *fmt, ...)
    MOAT_PRINTF(5, 6);

static bool fail(struct moat_arena *a, const struct moat_error_kind **kind,
                 struct moat_slice *message, const struct moat_error_kind *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *message = moat_arena_vformat(a, fmt, ap);
    va_end(ap);
    *kind = k;
    return false;
}

/* A positive whole number written as a JSON string ("15", as AWS documents) or a number. */
static bool period_amount(const struct moat_value *v, int64_t *out)
{
    if (!v || (v->type != MOAT_V_STRING && v->type != MOAT_V_NUMBER && v->type != MOAT_V_INT))
        return false;
    if (v->type == MOAT_V_INT) {
        *out = v->u.i;
    } else {
        uint64_t u;
        if (!moat_slice_to_u64(v->u.s, &u) || u > (uint64_t)MAX_PERIOD_HOURS)
            return false;
        *out = (int64_t)u;
    }
    return *out > 0 && *out <= MAX_PERIOD_HOURS;
}

static bool notification(struct moat_arena *a, const struct moat_value *attrs,
                         const char *amount_name, struct ssm_policy *pol,
                         const struct moat_error_kind **kind, struct moat_slice *message)
{
    const char *type = ssm_policy_type_name(pol->type);
    for (uint32_t i = 0; i < attrs->count; i++) {
        struct moat_slice k = attrs->u.entries[i].key;
        if (!moat_slice_eq_cstr(k, amount_name) && !moat_slice_eq_cstr(k, "Unit"))
            return fail(a, kind, message, &ssm_invalid_policy_attribute,
                        "A policy attribute or its value is invalid: %s policies take only the "
                        "attributes %s and Unit, not %.*s.",
                        type, amount_name, MOAT_FMT(k));
    }
    int64_t amount;
    if (!period_amount(moat_map_get(attrs, amount_name), &amount))
        return fail(a, kind, message, &ssm_invalid_policy_attribute,
                    "A policy attribute or its value is invalid: the %s attribute of a %s policy "
                    "must be a positive whole number, such as \"15\".",
                    amount_name, type);
    struct moat_value *unit = moat_map_get(attrs, "Unit");
    int64_t hours;
    if (unit && unit->type == MOAT_V_STRING && moat_slice_eq_cstr(unit->u.s, "Days"))
        hours = amount * 24;
    else if (unit && unit->type == MOAT_V_STRING && moat_slice_eq_cstr(unit->u.s, "Hours"))
        hours = amount;
    else
        return fail(a, kind, message, &ssm_invalid_policy_attribute,
                    "A policy attribute or its value is invalid: the Unit attribute of a %s "
                    "policy must be Days or Hours.",
                    type);
    if (hours > MAX_PERIOD_HOURS)
        return fail(a, kind, message, &ssm_invalid_policy_attribute,
                    "A policy attribute or its value is invalid: the %s attribute of a %s policy "
                    "is too large.",
                    amount_name, type);
    pol->period_ms = hours * 3600 * 1000;
    return true;
}

bool ssm_policies_parse(struct moat_arena *a, struct moat_slice json, struct ssm_policies *out,
                        const struct moat_error_kind **kind, struct moat_slice *message)
{
    memset(out, 0, sizeof(*out));
    struct moat_value *doc;
    struct moat_json_error jerr = {0};
    if (!moat_json_parse(a, json, MOAT_JSON_REJECT_DUPLICATES, &doc, &jerr))
        return fail(a, kind, message, &ssm_invalid_policy_attribute,
                    "A policy attribute or its value is invalid: the policies are not valid JSON "
                    "(%s at offset %zu).",
                    jerr.what ? jerr.what : "syntax error", jerr.offset);
    if (doc->type != MOAT_V_LIST)
        return fail(a, kind, message, &ssm_invalid_policy_attribute,
                    "A policy attribute or its value is invalid: policies must be a JSON array of "
                    "policy objects.");
    if (doc->count > SSM_MAX_POLICIES)
        return fail(a, kind, message, &ssm_policies_limit_exceeded,
                    "You specified more than the maximum number of allowed policies for the "
                    "parameter. The maximum is %d.",
                    SSM_MAX_POLICIES);
    bool have_expiration = false, have_notification = false;
    for (uint32_t i = 0; i < doc->count; i++) {
        const struct moat_value *item = doc->u.items[i];
        struct ssm_policy *pol = &out->items[out->count];
        if (item->type != MOAT_V_MAP)
            return fail(a, kind, message, &ssm_invalid_policy_attribute,
                        "A policy attribute or its value is invalid: policy %u is not a JSON "
                        "object.",
                        i + 1);
        for (uint32_t k = 0; k < item->count; k++) {
            struct moat_slice key = item->u.entries[k].key;
            if (!moat_slice_eq_cstr(key, "Type") && !moat_slice_eq_cstr(key, "Version") &&
                !moat_slice_eq_cstr(key, "Attributes"))
                return fail(a, kind, message, &ssm_invalid_policy_attribute,
                            "A policy attribute or its value is invalid: unknown field %.*s in "
                            "policy %u; a policy has Type, Version and Attributes.",
                            MOAT_FMT(key), i + 1);
        }
        struct moat_value *type = moat_map_get(item, "Type");
        if (!type || type->type != MOAT_V_STRING)
            return fail(a, kind, message, &ssm_invalid_policy_type,
                        "Policy %u has no Type. Parameter Store supports the following policy "
                        "types: Expiration, ExpirationNotification, and NoChangeNotification.",
                        i + 1);
        if (moat_slice_eq_cstr(type->u.s, "Expiration"))
            pol->type = SSM_POLICY_EXPIRATION;
        else if (moat_slice_eq_cstr(type->u.s, "ExpirationNotification"))
            pol->type = SSM_POLICY_EXPIRATION_NOTIFICATION;
        else if (moat_slice_eq_cstr(type->u.s, "NoChangeNotification"))
            pol->type = SSM_POLICY_NO_CHANGE_NOTIFICATION;
        else
            return fail(a, kind, message, &ssm_invalid_policy_type,
                        "The policy type %.*s isn't supported. Parameter Store supports the "
                        "following policy types: Expiration, ExpirationNotification, and "
                        "NoChangeNotification.",
                        (int)MOAT_MIN(type->u.s.len, 64), (const char *)type->u.s.ptr);
        struct moat_value *version = moat_map_get(item, "Version");
        if (!version || version->type != MOAT_V_STRING || !moat_slice_eq_cstr(version->u.s, "1.0"))
            return fail(a, kind, message, &ssm_invalid_policy_attribute,
                        "A policy attribute or its value is invalid: the Version of a %s policy "
                        "must be \"1.0\".",
                        ssm_policy_type_name(pol->type));
        struct moat_value *attrs = moat_map_get(item, "Attributes");
        if (!attrs || attrs->type != MOAT_V_MAP)
            return fail(a, kind, message, &ssm_invalid_policy_attribute,
                        "A policy attribute or its value is invalid: a %s policy needs an "
                        "Attributes object.",
                        ssm_policy_type_name(pol->type));
        if (pol->type == SSM_POLICY_EXPIRATION) {
            if (have_expiration)
                return fail(a, kind, message, &ssm_incompatible_policy,
                            "There is a conflict in the policies specified for this parameter. "
                            "You can't, for example, specify two Expiration policies for a "
                            "parameter. Review your policies, and try again.");
            have_expiration = true;
            struct moat_value *ts = moat_map_get(attrs, "Timestamp");
            if (attrs->count != 1 || !ts || ts->type != MOAT_V_STRING ||
                !ssm_policy_parse_time(ts->u.s, &pol->timestamp_ms))
                return fail(a, kind, message, &ssm_invalid_policy_attribute,
                            "A policy attribute or its value is invalid: an Expiration policy "
                            "takes one attribute, Timestamp, in ISO_INSTANT or "
                            "ISO_OFFSET_DATE_TIME format (for example 2020-05-13T00:00:00.000Z).");
        } else if (pol->type == SSM_POLICY_EXPIRATION_NOTIFICATION) {
            have_notification = true;
            if (!notification(a, attrs, "Before", pol, kind, message))
                return false;
        } else {
            if (!notification(a, attrs, "After", pol, kind, message))
                return false;
        }
        struct moat_buf text;
        moat_buf_init(&text, a, 128);
        moat_json_write(&text, item);
        pol->text = moat_buf_slice(&text);
        out->count++;
    }
    if (have_notification && !have_expiration)
        return fail(a, kind, message, &ssm_incompatible_policy,
                    "There is a conflict in the policies specified for this parameter: an "
                    "ExpirationNotification policy needs an Expiration policy. Review your "
                    "policies, and try again.");
    return true;
}

/* sm_schedule.c: the rate()/cron() parser of rotation schedules and the next-window
 * computation. Pure functions over bytes: fuzzed by fuzz/sm_schedule. */
#include "services/secretsmanager/sm_schedule.h"

#include <stdio.h>
#include <string.h>

#define MINUTE_MS 60000LL
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL
#define YEAR_MIN 1970
#define YEAR_MAX 2199

/* ---- calendar --------------------------------------------------------------------- */

/* Days since 1970-01-01 to (y, m, d), proleptic Gregorian. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m)
{
    static const int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return n[m - 1];
}

/* 1 = Sunday ... 7 = Saturday (1970-01-01 was a Thursday). */
static int weekday(int64_t days)
{
    int64_t w = (days + 4) % 7;
    if (w < 0)
        w += 7;
    return (int)w + 1;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ---- parsing ------------------------------------------------------------------------ */

struct cursor {
    const uint8_t *p, *end;
};

static bool ws(uint8_t c)
{
    return c == ' ';
}

static bool eat(struct cursor *c, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(c->end - c->p) < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t a = c->p[i], b = (uint8_t)lit[i];
        if (a >= 'A' && a <= 'Z')
            a = (uint8_t)(a + 32);
        if (a != b)
            return false;
    }
    c->p += n;
    return true;
}

static bool number(struct cursor *c, int64_t *out)
{
    int64_t v = 0;
    const uint8_t *start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        if (v > 100000)
            return false;
        v = v * 10 + (*c->p - '0');
        c->p++;
    }
    *out = v;
    return c->p > start;
}

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* A value of a field: a number, or a month / day name where the field takes them. */
static bool field_value(struct cursor *c, const char *const *names, int name_count, int64_t *out)
{
    if (number(c, out))
        return true;
    for (int i = 0; names && i < name_count; i++)
        if (eat(c, names[i])) {
            *out = i + 1;
            return true;
        }
    return false;
}

struct field {
    int lo, hi;
    const char *const *names;
    int name_count;
};

static void set_bit(uint8_t *bits, int i)
{
    bits[i / 8] |= (uint8_t)(1u << (i % 8));
}

static bool get_bit(const uint8_t *bits, int i)
{
    return bits[i / 8] & (1u << (i % 8));
}

/* Parses a list of '*', n, n-m, and any of these followed by /step, into bits[lo..hi].
 * The text is one whole field (no spaces). */
static bool parse_list(struct moat_slice text, const struct field *f, uint8_t *bits)
{
    struct cursor c = {text.ptr, text.ptr + text.len};
    for (;;) {
        int64_t a, b, step = 1;
        if (c.p < c.end && *c.p == '*') {
            c.p++;
            a = f->lo;
            b = f->hi;
        } else {
            if (!field_value(&c, f->names, f->name_count, &a))
                return false;
            b = a;
            if (c.p < c.end && *c.p == '-') {
                c.p++;
                if (!field_value(&c, f->names, f->name_count, &b))
                    return false;
            }
        }
        if (c.p < c.end && *c.p == '/') {
            c.p++;
            if (!number(&c, &step) || step < 1)
                return false;
            if (a == b && !(c.p < c.end && *c.p == ','))
                b = f->hi; /* "5/15": from 5 to the end of the range */
        }
        if (a < f->lo || a > f->hi || b < f->lo || b > f->hi || a > b)
            return false;
        for (int64_t v = a; v <= b; v += step)
            set_bit(bits, (int)(v - f->lo));
        if (c.p == c.end)
            return true;
        if (*c.p != ',')
            return false;
        c.p++;
    }
}

static const char *parse_cron(struct moat_slice body, struct sm_schedule *s, char *errbuf,
                              size_t errlen)
{
    struct moat_slice fld[6];
    size_t n = 0, i = 0;
    while (i < body.len) {
        while (i < body.len && ws(body.ptr[i]))
            i++;
        if (i == body.len)
            break;
        size_t start = i;
        while (i < body.len && !ws(body.ptr[i]))
            i++;
        if (n == 6)
            return "A cron() expression has six fields: minutes hours day-of-month month "
                   "day-of-week year.";
        fld[n++] = moat_slice_sub(body, start, i);
    }
    if (n != 6)
        return "A cron() expression has six fields: minutes hours day-of-month month "
               "day-of-week year.";
    static const struct field f_min = {0, 59, NULL, 0}, f_hour = {0, 23, NULL, 0},
                              f_dom = {1, 31, NULL, 0}, f_month = {1, 12, month_names, 12},
                              f_dow = {1, 7, day_names, 7}, f_year = {YEAR_MIN, YEAR_MAX, NULL, 0};
    uint8_t bits[32];
    memset(bits, 0, sizeof(bits));
    if (!parse_list(fld[0], &f_min, bits))
        goto bad_minutes;
    s->minutes = 0;
    for (int k = 0; k < 60; k++)
        if (get_bit(bits, k))
            s->minutes |= 1ull << k;
    memset(bits, 0, sizeof(bits));
    if (!parse_list(fld[1], &f_hour, bits)) {
        snprintf(errbuf, errlen, "The hours field of the cron() expression is invalid: %.*s",
                 MOAT_FMT(fld[1]));
        return errbuf;
    }
    s->hours = 0;
    for (int k = 0; k < 24; k++)
        if (get_bit(bits, k))
            s->hours |= 1u << k;
    memset(bits, 0, sizeof(bits));
    if (!parse_list(fld[3], &f_month, bits)) {
        snprintf(errbuf, errlen, "The month field of the cron() expression is invalid: %.*s",
                 MOAT_FMT(fld[3]));
        return errbuf;
    }
    s->months = 0;
    for (int k = 0; k < 12; k++)
        if (get_bit(bits, k))
            s->months |= (uint16_t)(1u << (k + 1));
    memset(s->years, 0, sizeof(s->years));
    if (!parse_list(fld[5], &f_year, s->years)) {
        snprintf(errbuf, errlen, "The year field of the cron() expression is invalid: %.*s",
                 MOAT_FMT(fld[5]));
        return errbuf;
    }

    /* Day of month and day of week: exactly one of them is '?'. */
    bool dom_q = moat_slice_eq_cstr(fld[2], "?"), dow_q = moat_slice_eq_cstr(fld[4], "?");
    if (dom_q == dow_q)
        return "In a cron() expression, exactly one of the day-of-month and day-of-week fields "
               "must be '?'.";
    s->dom_any = dom_q;
    if (!dom_q) {
        struct moat_slice d = fld[2];
        if (moat_slice_eq_cstr(d, "L")) {
            s->dom_last = true;
        } else if (moat_slice_eq_cstr(d, "LW")) {
            s->dom_last_weekday = true;
        } else if (d.len >= 2 && d.ptr[d.len - 1] == 'W') {
            int64_t day;
            if (!moat_slice_to_i64(moat_slice_sub(d, 0, d.len - 1), &day) || day < 1 || day > 31)
                goto bad_dom;
            s->dom_weekday = (int)day;
        } else {
            memset(bits, 0, sizeof(bits));
            if (!parse_list(d, &f_dom, bits))
                goto bad_dom;
            s->dom = 0;
            for (int k = 0; k < 31; k++)
                if (get_bit(bits, k))
                    s->dom |= 1u << (k + 1);
        }
    }
    if (!dow_q) {
        struct moat_slice d = fld[4];
        long hash = moat_slice_index(d, '#');
        struct cursor c = {d.ptr, d.ptr + d.len};
        int64_t day, nth;
        if (hash >= 0) {
            if (!field_value(&c, day_names, 7, &day) || c.p >= c.end || *c.p != '#' ||
                (c.p++, !number(&c, &nth)) || c.p != c.end || day < 1 || day > 7 || nth < 1 ||
                nth > 5)
                goto bad_dow;
            s->dow_nth_day = (int)day;
            s->dow_nth = (int)nth;
        } else if (d.len >= 2 && d.ptr[d.len - 1] == 'L') {
            c.end--;
            if (!field_value(&c, day_names, 7, &day) || c.p != c.end || day < 1 || day > 7)
                goto bad_dow;
            s->dow_last = (int)day;
        } else {
            memset(bits, 0, sizeof(bits));
            if (!parse_list(d, &f_dow, bits))
                goto bad_dow;
            s->dow = 0;
            for (int k = 0; k < 7; k++)
                if (get_bit(bits, k))
                    s->dow |= (uint8_t)(1u << (k + 1));
        }
    }
    /* A schedule "in days" fires once a day (its window runs to the end of the day);
     * one that fires several times a day is a schedule in hours (one-hour windows). */
    int per_day = __builtin_popcountll(s->minutes) * __builtin_popcount(s->hours);
    s->daily_schedule = per_day == 1;
    return NULL;
bad_minutes:
    snprintf(errbuf, errlen, "The minutes field of the cron() expression is invalid: %.*s",
             MOAT_FMT(fld[0]));
    return errbuf;
bad_dom:
    snprintf(errbuf, errlen, "The day-of-month field of the cron() expression is invalid: %.*s",
             MOAT_FMT(fld[2]));
    return errbuf;
bad_dow:
    snprintf(errbuf, errlen, "The day-of-week field of the cron() expression is invalid: %.*s",
             MOAT_FMT(fld[4]));
    return errbuf;
}

/* The times of day (in minutes) a cron() fires at, ascending; returns how many. */
static int day_times(const struct sm_schedule *s, int *times)
{
    int n = 0;
    for (int h = 0; h < 24; h++)
        if (s->hours & (1u << h))
            for (int m = 0; m < 60; m++)
                if (s->minutes & (1ull << m))
                    times[n++] = h * 60 + m;
    return n;
}

const char *sm_schedule_parse(int64_t days, struct moat_slice expr, struct moat_slice duration,
                              struct sm_schedule *out, char *errbuf, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (days && expr.len)
        return "You can't specify both AutomaticallyAfterDays and ScheduleExpression in "
               "RotationRules.";
    if (!days && !expr.len)
        return "RotationRules needs AutomaticallyAfterDays or ScheduleExpression.";
    if (days) {
        if (days < 1 || days > 1000)
            return "AutomaticallyAfterDays must be between 1 and 1000.";
        out->kind = SM_SCHEDULE_DAYS;
        out->every = days;
        out->daily_schedule = true;
    } else if (moat_slice_starts_with(expr, MOAT_LIT("rate(")) &&
               moat_slice_ends_with(expr, MOAT_LIT(")"))) {
        struct cursor c = {expr.ptr + 5, expr.ptr + expr.len - 1};
        int64_t n;
        if (!number(&c, &n) || c.p >= c.end || *c.p != ' ')
            return "A rate() expression is rate(N hours) or rate(N days).";
        c.p++;
        if (eat(&c, "hours") || eat(&c, "hour")) {
            out->kind = SM_SCHEDULE_HOURS;
            if (n < 4 || n > 24)
                return "A rate() in hours must be between rate(4 hours) and rate(24 hours): "
                       "Secrets Manager rotates a secret at most every four hours.";
        } else if (eat(&c, "days") || eat(&c, "day")) {
            out->kind = SM_SCHEDULE_DAYS;
            out->daily_schedule = true;
            if (n < 1 || n > 1000)
                return "A rate() in days must be between rate(1 day) and rate(1000 days).";
        } else {
            return "A rate() expression is rate(N hours) or rate(N days).";
        }
        if (c.p != c.end)
            return "A rate() expression is rate(N hours) or rate(N days).";
        out->every = n;
    } else if (moat_slice_starts_with(expr, MOAT_LIT("cron(")) &&
               moat_slice_ends_with(expr, MOAT_LIT(")"))) {
        out->kind = SM_SCHEDULE_CRON;
        const char *why = parse_cron(moat_slice_sub(expr, 5, expr.len - 1), out, errbuf, errlen);
        if (why)
            return why;
        int times[24 * 60];
        int n = day_times(out, times);
        if (!n)
            return "The cron() expression never fires.";
        for (int i = 1; i < n; i++)
            if (times[i] - times[i - 1] < 240)
                return "The cron() expression rotates more often than every four hours, which "
                       "Secrets Manager does not allow.";
        bool every_day = !out->dom_any ? (out->dom == 0xfffffffeu) : (out->dow == 0xfe);
        if (every_day && n > 1 && times[0] + 1440 - times[n - 1] < 240)
            return "The cron() expression rotates more often than every four hours, which "
                   "Secrets Manager does not allow.";
    } else {
        return "A ScheduleExpression is a rate() or a cron() expression.";
    }

    /* The window: Duration, or one hour for schedules in hours, or the rest of the day. */
    if (duration.len) {
        int64_t h;
        if (duration.len < 2 || duration.ptr[duration.len - 1] != 'h' ||
            !moat_slice_to_i64(moat_slice_sub(duration, 0, duration.len - 1), &h) || h < 1 ||
            h > 24)
            return "Duration must be a number of hours from 1h to 24h, for example 3h.";
        out->window_ms = h * HOUR_MS;
        if (out->kind == SM_SCHEDULE_HOURS && h > out->every)
            return "The rotation window (Duration) can't extend into the next rotation window.";
        if (out->kind == SM_SCHEDULE_CRON) {
            int times[24 * 60];
            int n = day_times(out, times);
            for (int i = 0; i < n; i++) {
                if (times[i] * MINUTE_MS + out->window_ms > DAY_MS)
                    return "The rotation window (Duration) can't extend into the next UTC day.";
                if (i + 1 < n && times[i] * MINUTE_MS + out->window_ms > times[i + 1] * MINUTE_MS)
                    return "The rotation window (Duration) can't extend into the next rotation "
                           "window.";
            }
        }
        if (out->kind == SM_SCHEDULE_HOURS && (23 / out->every) * out->every + h > 24)
            return "The rotation window (Duration) can't extend into the next UTC day.";
    } else if (out->kind == SM_SCHEDULE_HOURS ||
               (out->kind == SM_SCHEDULE_CRON && !out->daily_schedule)) {
        out->window_ms = HOUR_MS;
    } else {
        out->window_ms = 0; /* to the end of the UTC day */
    }
    return NULL;
}

/* ---- next window -------------------------------------------------------------------- */

static bool cron_day_matches(const struct sm_schedule *s, int64_t days)
{
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < YEAR_MIN || y > YEAR_MAX || !get_bit(s->years, (int)(y - YEAR_MIN)))
        return false;
    if (!(s->months & (1u << m)))
        return false;
    int dim = days_in_month(y, m);
    int wd = weekday(days);
    if (!s->dom_any) {
        if (s->dom_last)
            return d == dim;
        if (s->dom_last_weekday || s->dom_weekday) {
            /* The weekday (Mon-Fri) nearest the day, within the month. */
            int target = s->dom_last_weekday ? dim : MOAT_MIN(s->dom_weekday, dim);
            int twd = weekday(days - d + target);
            int nearest = target;
            if (twd == 7)
                nearest = target == 1 ? target + 2 : target - 1;
            else if (twd == 1)
                nearest = target == dim ? target - 2 : target + 1;
            return d == nearest;
        }
        return s->dom & (1u << d);
    }
    if (s->dow_last)
        return wd == s->dow_last && d + 7 > dim;
    if (s->dow_nth)
        return wd == s->dow_nth_day && (d - 1) / 7 + 1 == s->dow_nth;
    return s->dow & (1u << wd);
}

int64_t sm_schedule_next(const struct sm_schedule *s, int64_t base_ms, int64_t not_before_ms)
{
    if (s->kind == SM_SCHEDULE_DAYS) {
        /* The window opens at midnight, `every` days after the day of the base. */
        int64_t day = floor_div(base_ms, DAY_MS) + s->every;
        int64_t floor_day = floor_div(not_before_ms, DAY_MS);
        if (not_before_ms % DAY_MS != 0)
            floor_day++;
        if (day < floor_day)
            day = floor_day;
        return day * DAY_MS;
    }
    if (s->kind == SM_SCHEDULE_HOURS) {
        /* Windows open at midnight and every `every` hours after it, within the day. */
        int64_t t = base_ms + s->every * HOUR_MS;
        if (t < not_before_ms)
            t = not_before_ms;
        int64_t day = floor_div(t, DAY_MS);
        int64_t into = t - day * DAY_MS;
        int64_t step = s->every * HOUR_MS;
        int64_t k = (into + step - 1) / step;
        if (k * step >= DAY_MS)
            return (day + 1) * DAY_MS;
        return day * DAY_MS + k * step;
    }
    int times[24 * 60];
    int n = day_times(s, times);
    if (!n)
        return 0;
    int64_t t = not_before_ms;
    int64_t day = floor_div(t, DAY_MS);
    int64_t minute = (t - day * DAY_MS + MINUTE_MS - 1) / MINUTE_MS;
    int64_t last_day = days_from_civil(YEAR_MAX, 12, 31);
    for (; day <= last_day; day++, minute = 0) {
        if (!cron_day_matches(s, day))
            continue;
        for (int i = 0; i < n; i++)
            if (times[i] >= minute)
                return day * DAY_MS + times[i] * MINUTE_MS;
    }
    return 0;
}

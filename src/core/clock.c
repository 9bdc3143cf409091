/* clock.c: time sources and the date formats AWS uses on the wire.
 * Conversions are done by hand (no timegm/TZ), so they are thread-safe and exact. */
#include "core/clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic int64_t clock_offset_ms;

int64_t moat_clock_real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t moat_clock_now_ms(void)
{
    return moat_clock_real_ms() + atomic_load_explicit(&clock_offset_ms, memory_order_relaxed);
}

int64_t moat_clock_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void moat_clock_set_offset_ms(int64_t offset)
{
    atomic_store(&clock_offset_ms, offset);
}

int64_t moat_clock_offset_ms(void)
{
    return atomic_load(&clock_offset_ms);
}

/* Howard Hinnant's days_from_civil / civil_from_days algorithms. */
int64_t moat_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

struct tmparts {
    int64_t y;
    unsigned mo, d, h, mi, s, wday;
};

static struct tmparts split_time(int64_t t)
{
    struct tmparts p;
    int64_t days = t / 86400, rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, &p.y, &p.mo, &p.d);
    p.h = (unsigned)(rem / 3600);
    p.mi = (unsigned)(rem % 3600 / 60);
    p.s = (unsigned)(rem % 60);
    p.wday = (unsigned)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
    return p;
}

void moat_time_format_iso8601(int64_t t, char *buf)
{
    struct tmparts p = split_time(t);
    snprintf(buf, 21, "%04d-%02u-%02uT%02u:%02u:%02uZ", (int)p.y, p.mo, p.d, p.h, p.mi, p.s);
}

void moat_time_format_iso8601_ms(int64_t ms, char *buf)
{
    int64_t s = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        s--;
    }
    struct tmparts p = split_time(s);
    snprintf(buf, 25, "%04d-%02u-%02uT%02u:%02u:%02u.%03dZ", (int)p.y, p.mo, p.d, p.h, p.mi, p.s,
             (int)frac);
}

void moat_time_format_basic(int64_t t, char *buf)
{
    struct tmparts p = split_time(t);
    snprintf(buf, 17, "%04d%02u%02uT%02u%02u%02uZ", (int)p.y, p.mo, p.d, p.h, p.mi, p.s);
}

static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void moat_time_format_rfc1123(int64_t t, char *buf)
{
    struct tmparts p = split_time(t);
    snprintf(buf, 30, "%s, %02u %s %04d %02u:%02u:%02u GMT", wdays[p.wday], p.d, months[p.mo - 1],
             (int)p.y, p.h, p.mi, p.s);
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

static unsigned month_len(int64_t y, unsigned m)
{
    static const unsigned len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : len[m - 1];
}

static bool make_time(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
                      int64_t *out)
{
    if (mo < 1 || mo > 12 || d < 1 || d > month_len(y, mo) || h > 23 || mi > 59 || s > 60)
        return false;
    *out = moat_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return true;
}

bool moat_time_parse_basic(struct moat_slice s, int64_t *out)
{
    unsigned y, mo, d, h, mi, sec;
    if (s.len != 16 || s.ptr[8] != 'T' || s.ptr[15] != 'Z')
        return false;
    if (!digits(s.ptr, 4, &y) || !digits(s.ptr + 4, 2, &mo) || !digits(s.ptr + 6, 2, &d) ||
        !digits(s.ptr + 9, 2, &h) || !digits(s.ptr + 11, 2, &mi) || !digits(s.ptr + 13, 2, &sec))
        return false;
    return make_time(y, mo, d, h, mi, sec, out);
}

bool moat_time_parse_iso8601(struct moat_slice s, int64_t *out_ms)
{
    unsigned y, mo, d, h = 0, mi = 0, sec = 0;
    const uint8_t *p = s.ptr;
    size_t n = s.len;
    if (n < 10 || !digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) || p[7] != '-' ||
        !digits(p + 8, 2, &d))
        return false;
    size_t i = 10;
    int64_t ms = 0, offset_s = 0;
    if (i < n && (p[i] == 'T' || p[i] == 't' || p[i] == ' ')) {
        i++;
        if (n - i < 5 || !digits(p + i, 2, &h) || p[i + 2] != ':' || !digits(p + i + 3, 2, &mi))
            return false;
        i += 5;
        if (i < n && p[i] == ':') {
            if (n - i < 3 || !digits(p + i + 1, 2, &sec))
                return false;
            i += 3;
            if (i < n && (p[i] == '.' || p[i] == ',')) {
                i++;
                int scale = 100, got = 0;
                while (i < n && p[i] >= '0' && p[i] <= '9') {
                    ms += (p[i] - '0') * scale;
                    scale /= 10;
                    i++;
                    got++;
                }
                if (!got)
                    return false;
            }
        }
        if (i < n && (p[i] == 'Z' || p[i] == 'z')) {
            i++;
        } else if (i < n && (p[i] == '+' || p[i] == '-')) {
            unsigned oh, om;
            int sign = p[i] == '-' ? -1 : 1;
            i++;
            if (n - i >= 5 && p[i + 2] == ':' && digits(p + i, 2, &oh) &&
                digits(p + i + 3, 2, &om)) {
                i += 5;
            } else if (n - i >= 4 && digits(p + i, 2, &oh) && digits(p + i + 2, 2, &om)) {
                i += 4;
            } else {
                return false;
            }
            offset_s = sign * (int64_t)(oh * 3600 + om * 60);
        }
    }
    if (i != n)
        return false;
    int64_t t;
    if (!make_time(y, mo, d, h, mi, sec, &t))
        return false;
    *out_ms = (t - offset_s) * 1000 + ms;
    return true;
}

static int month_index(const uint8_t *p)
{
    for (int i = 0; i < 12; i++)
        if (memcmp(p, months[i], 3) == 0)
            return i + 1;
    return 0;
}

bool moat_time_parse_http(struct moat_slice s, int64_t *out)
{
    /* RFC 1123: "Sun, 06 Nov 1994 08:49:37 GMT" */
    const uint8_t *p = s.ptr;
    unsigned d, y, h, mi, sec;
    if (s.len == 29 && p[3] == ',' && p[4] == ' ' && p[7] == ' ' && p[11] == ' ' &&
        p[16] == ' ' && p[19] == ':' && p[22] == ':' && memcmp(p + 25, " GMT", 4) == 0) {
        int mo = month_index(p + 8);
        if (!mo || !digits(p + 5, 2, &d) || !digits(p + 12, 4, &y) || !digits(p + 17, 2, &h) ||
            !digits(p + 20, 2, &mi) || !digits(p + 23, 2, &sec))
            return false;
        return make_time(y, (unsigned)mo, d, h, mi, sec, out);
    }
    /* asctime: "Sun Nov  6 08:49:37 1994" */
    if (s.len == 24 && p[3] == ' ' && p[7] == ' ' && p[10] == ' ' && p[13] == ':' &&
        p[16] == ':' && p[19] == ' ') {
        int mo = month_index(p + 4);
        uint8_t dd[2] = {p[8] == ' ' ? '0' : p[8], p[9]};
        if (!mo || !digits(dd, 2, &d) || !digits(p + 11, 2, &h) || !digits(p + 14, 2, &mi) ||
            !digits(p + 17, 2, &sec) || !digits(p + 20, 4, &y))
            return false;
        return make_time(y, (unsigned)mo, d, h, mi, sec, out);
    }
    return false;
}

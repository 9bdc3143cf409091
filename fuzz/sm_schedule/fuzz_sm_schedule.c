/* fuzz_sm_schedule.c: the rotation schedule parser (rate(), cron(), Duration) and the
 * next-window computation: never crashes, refusals say why, and every window it returns
 * is no earlier than asked and matches the expression. */
#include "services/secretsmanager/sm_schedule.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DAY_MS 86400000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Input: "<expression>\n<duration>"; a leading byte 0x01 means AutomaticallyAfterDays
     * taken from the next two bytes instead of an expression. */
    int64_t days = 0;
    if (size >= 3 && data[0] == 0x01) {
        days = (int64_t)data[1] << 8 | data[2];
        data += 3;
        size -= 3;
    }
    const uint8_t *nl = memchr(data, '\n', size);
    struct moat_slice expr = moat_slice(data, nl ? (size_t)(nl - data) : size);
    struct moat_slice duration = nl ? moat_slice(nl + 1, size - expr.len - 1) : MOAT_NULL_SLICE;
    if (days)
        expr = MOAT_NULL_SLICE;
    struct sm_schedule s;
    char errbuf[256];
    const char *why = sm_schedule_parse(days, expr, duration, &s, errbuf, sizeof(errbuf));
    if (why) {
        if (!*why)
            abort();
        return 0;
    }
    if (s.window_ms < 0 || s.window_ms > DAY_MS)
        abort();
    static const int64_t starts[] = {0, 1795876944291LL, 4102444800000LL - 1, 1700000000000LL};
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        int64_t t = starts[i];
        for (int k = 0; k < 4; k++) {
            int64_t n = sm_schedule_next(&s, t - 1, t);
            if (!n)
                break;
            if (n < t)
                abort();
            int64_t in_day = ((n % DAY_MS) + DAY_MS) % DAY_MS;
            if (s.kind == SM_SCHEDULE_DAYS && in_day != 0)
                abort();
            if (s.kind == SM_SCHEDULE_CRON) {
                int h = (int)(in_day / 3600000), m = (int)(in_day / 60000 % 60);
                if (!(s.hours & (1u << h)) || !(s.minutes & (1ull << m)))
                    abort();
            }
            t = n + 1;
        }
    }
    return 0;
}

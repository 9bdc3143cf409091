/* test_sm_schedule.c: rotation schedules: rate() and cron() parsing with Secrets Manager's
 * limits, Duration windows, and the next rotation window. */
#include "core/clock.h"
#include "harness.h"
#include "services/secretsmanager/sm_schedule.h"

#include <stdio.h>

#define HOUR 3600000LL
#define DAY (24 * HOUR)

static const char *parse(int64_t days, const char *expr, const char *duration,
                         struct sm_schedule *s)
{
    static char errbuf[256];
    return sm_schedule_parse(days, moat_slice_cstr(expr), moat_slice_cstr(duration), s, errbuf,
                             sizeof(errbuf));
}

/* Epoch ms of a UTC date and time. */
static int64_t at(int y, int mo, int d, int h, int mi)
{
    return moat_days_from_civil(y, (unsigned)mo, (unsigned)d) * DAY + h * HOUR + mi * 60000LL;
}

static const char *iso(struct moat_arena *a, int64_t ms)
{
    char buf[32];
    moat_time_format_iso8601(ms / 1000, buf);
    return moat_arena_strdup(a, buf);
}

MOAT_TEST(automatically_after_days)
{
    struct sm_schedule s;
    CHECK(parse(30, "", "", &s) == NULL);
    CHECK_EQ_INT(s.kind, SM_SCHEDULE_DAYS);
    CHECK_EQ_INT(s.window_ms, 0);
    /* the window opens at midnight, 30 days after the day of the last rotation */
    CHECK_EQ_STR(iso(a, sm_schedule_next(&s, at(2026, 1, 10, 15, 30), at(2026, 1, 10, 15, 30))),
                 "2026-02-09T00:00:00Z");
    /* never earlier than asked */
    CHECK_EQ_STR(iso(a, sm_schedule_next(&s, at(2025, 1, 1, 0, 0), at(2026, 3, 3, 10, 0))),
                 "2026-03-04T00:00:00Z");
    CHECK(parse(0, "", "", &s) != NULL);
    CHECK(parse(1001, "", "", &s) != NULL);
    CHECK(parse(5, "rate(5 days)", "", &s) != NULL); /* not both */
}

MOAT_TEST(rate_days_and_hours)
{
    struct sm_schedule s;
    CHECK(parse(0, "rate(10 days)", "", &s) == NULL);
    CHECK_EQ_INT(s.kind, SM_SCHEDULE_DAYS);
    CHECK_EQ_INT(s.every, 10);
    CHECK(parse(0, "rate(1 day)", "3h", &s) == NULL);
    CHECK_EQ_INT(s.window_ms, 3 * HOUR);
    CHECK(parse(0, "rate(12 hours)", "", &s) == NULL);
    CHECK_EQ_INT(s.kind, SM_SCHEDULE_HOURS);
    CHECK_EQ_INT(s.window_ms, HOUR);
    /* windows open at midnight and every 12 hours after it */
    CHECK_EQ_STR(iso(a, sm_schedule_next(&s, at(2026, 5, 1, 1, 0), at(2026, 5, 1, 1, 0))),
                 "2026-05-02T00:00:00Z");
    CHECK_EQ_STR(
        iso(a, sm_schedule_next(&s, at(2026, 5, 1, 0, 0) - 12 * HOUR, at(2026, 5, 1, 0, 0))),
        "2026-05-01T00:00:00Z");
    CHECK(parse(0, "rate(5 hours)", "", &s) == NULL);
    CHECK_EQ_STR(iso(a, sm_schedule_next(&s, at(2026, 5, 1, 6, 0), at(2026, 5, 1, 6, 0))),
                 "2026-05-01T15:00:00Z");
    CHECK(parse(0, "rate(5 hours)", "5h", &s) != NULL); /* 20:00 + 5h crosses the day */
    CHECK(parse(0, "rate(6 hours)", "7h", &s) != NULL); /* into the next window */
    CHECK(parse(0, "rate(3 hours)", "", &s) != NULL);   /* more often than every 4 hours */
    CHECK(parse(0, "rate(0 days)", "", &s) != NULL);
    CHECK(parse(0, "rate(1001 days)", "", &s) != NULL);
    CHECK(parse(0, "rate(10 minutes)", "", &s) != NULL);
    CHECK(parse(0, "rate(10days)", "", &s) != NULL);
    CHECK(parse(0, "rate(10 days", "", &s) != NULL);
    CHECK(parse(0, "rate( days)", "", &s) != NULL);
}

MOAT_TEST(cron_expressions)
{
    struct sm_schedule s;
    /* the first and fifteenth of every month at 16:00 */
    CHECK(parse(0, "cron(0 16 1,15 * ? *)", "", &s) == NULL);
    CHECK(s.daily_schedule);
    CHECK_EQ_STR(iso(a, sm_schedule_next(&s, 0, at(2026, 3, 2, 0, 0))), "2026-03-15T16:00:00Z");
    CHECK_EQ_STR(iso(a, sm_schedule_next(&s, 0, at(2026, 3, 15, 16, 0))), "2026-03-15T16:00:00Z");
    CHECK_EQ_STR(iso(a, sm_schedule_next(&s, 0, at(2026, 3, 15, 16, 1))), "2026-04-01T16:00:00Z");
    /* every Sunday at noon, named days */
    CHECK(parse(0, "cron(0 12 ? * SUN *)", "2h", &s) == NULL);
    CHECK_EQ_STR(iso(a, sm_schedule_next(&s, 0, at(2026, 11, 26, 0, 0))), "2026-11-29T12:00:00Z");
    /* last day of the month */
    CHECK(parse(0, "cron(0 8 L * ? *)", "", &s) == NULL);
    CHECK_EQ_STR(iso(a, sm_schedule_next(&s, 0, at(2028, 2, 3, 0, 0))), "2028-02-29T08:00:00Z");
    /* second Tuesday, last Friday */
    CHECK(parse(0, "cron(0 9 ? * 3#2 *)", "", &s) == NULL);
    CHECK_EQ_STR(iso(a, sm_schedule_next(&s, 0, at(2026, 12, 1, 0, 0))), "2026-12-08T09:00:00Z");
    CHECK(parse(0, "cron(0 9 ? * 6L *)", "", &s) == NULL);
    CHECK_EQ_STR(iso(a, sm_schedule_next(&s, 0, at(2026, 12, 1, 0, 0))), "2026-12-25T09:00:00Z");
    CHECK(parse(0, "cron(0 9 ? * FRIL *)", "", &s) == NULL);
    CHECK_EQ_STR(iso(a, sm_schedule_next(&s, 0, at(2026, 12, 1, 0, 0))), "2026-12-25T09:00:00Z");
    /* nearest weekday to the 1st of a month that starts on a Saturday: Monday the 3rd */
    CHECK(parse(0, "cron(0 9 1W * ? *)", "", &s) == NULL);
    CHECK_EQ_STR(iso(a, sm_schedule_next(&s, 0, at(2026, 8, 1, 0, 0))), "2026-08-03T09:00:00Z");
    /* ranges, steps, months, years */
    CHECK(parse(0, "cron(0 0/6 ? JAN-MAR MON-FRI 2027)", "", &s) == NULL);
    CHECK(!s.daily_schedule);
    CHECK_EQ_INT(s.window_ms, HOUR);
    CHECK_EQ_STR(iso(a, sm_schedule_next(&s, 0, at(2026, 6, 1, 0, 0))), "2027-01-01T00:00:00Z");
    CHECK_EQ_STR(iso(a, sm_schedule_next(&s, 0, at(2027, 1, 1, 0, 1))), "2027-01-01T06:00:00Z");
    CHECK_EQ_STR(iso(a, sm_schedule_next(&s, 0, at(2027, 1, 1, 18, 1))), "2027-01-04T00:00:00Z");
    CHECK_EQ_INT(sm_schedule_next(&s, 0, at(2028, 1, 1, 0, 0)), 0); /* the years have passed */
}

MOAT_TEST(cron_refusals)
{
    struct sm_schedule s;
    CHECK(parse(0, "cron(0 16 1 * * *)", "", &s) != NULL);   /* both day fields */
    CHECK(parse(0, "cron(0 16 ? * ? *)", "", &s) != NULL);   /* neither */
    CHECK(parse(0, "cron(0 16 1 * ?)", "", &s) != NULL);     /* five fields */
    CHECK(parse(0, "cron(0 16 1 * ? * *)", "", &s) != NULL); /* seven */
    CHECK(parse(0, "cron(60 16 1 * ? *)", "", &s) != NULL);
    CHECK(parse(0, "cron(0 24 1 * ? *)", "", &s) != NULL);
    CHECK(parse(0, "cron(0 1 32 * ? *)", "", &s) != NULL);
    CHECK(parse(0, "cron(0 1 1 13 ? *)", "", &s) != NULL);
    CHECK(parse(0, "cron(0 1 ? * 8 *)", "", &s) != NULL);
    CHECK(parse(0, "cron(0 1 1 * ? 1969)", "", &s) != NULL);
    CHECK(parse(0, "cron(0 1 5-2 * ? *)", "", &s) != NULL);
    CHECK(parse(0, "cron(0 1 1/0 * ? *)", "", &s) != NULL);
    CHECK(parse(0, "cron(0 1 ? * 2#6 *)", "", &s) != NULL);
    CHECK(parse(0, "cron(0/30 1 * * ? *)", "", &s) != NULL); /* every 30 minutes */
    CHECK(parse(0, "cron(0 1,3 * * ? *)", "", &s) != NULL);  /* two hours apart */
    CHECK(parse(0, "cron(0 1,22 * * ? *)", "", &s) != NULL); /* 3 hours across midnight */
    CHECK(parse(0, "cron(0 1,22 ? * MON *)", "", &s) == NULL);
    CHECK(parse(0, "cron(0 22 * * ? *)", "3h", &s) != NULL);  /* window crosses the day */
    CHECK(parse(0, "cron(0 4,8 * * ? *)", "5h", &s) != NULL); /* into the next window */
    CHECK(parse(0, "cron(0 4,8 * * ? *)", "4h", &s) == NULL);
    CHECK(parse(0, "cron(0 4 * * ? *)", "0h", &s) != NULL);
    CHECK(parse(0, "cron(0 4 * * ? *)", "25h", &s) != NULL);
    CHECK(parse(0, "cron(0 4 * * ? *)", "h", &s) != NULL);
    CHECK(parse(0, "weekly", "", &s) != NULL);
    CHECK(parse(0, "cron()", "", &s) != NULL);
}

MOAT_TEST(next_is_never_earlier_than_asked)
{
    static const char *const exprs[] = {"cron(0 16 1,15 * ? *)", "cron(30 4 ? * 2-6 *)",
                                        "rate(4 hours)",         "rate(7 days)",
                                        "cron(0 0 L 2 ? *)",     "cron(15 10 ? * 1#1 2026-2030)"};
    for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
        struct sm_schedule s;
        CHECK(parse(0, exprs[i], "", &s) == NULL);
        int64_t t = at(2026, 1, 1, 0, 0);
        for (int k = 0; k < 50; k++) {
            int64_t n = sm_schedule_next(&s, t - 1, t);
            if (!n)
                break;
            CHECK(n >= t);
            t = n + 1;
        }
    }
}

MOAT_TEST_MAIN(MOAT_CASE(automatically_after_days), MOAT_CASE(rate_days_and_hours),
               MOAT_CASE(cron_expressions), MOAT_CASE(cron_refusals),
               MOAT_CASE(next_is_never_earlier_than_asked))

/* sm_schedule.h: rotation schedules: AutomaticallyAfterDays, rate() and cron() expressions
 * with an optional Duration window, and the start of the next rotation window.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_schedule.html */
#ifndef MOAT_SM_SCHEDULE_H
#define MOAT_SM_SCHEDULE_H

#include "core/slice.h"

enum sm_schedule_kind {
    SM_SCHEDULE_DAYS = 0, /* AutomaticallyAfterDays N, or rate(N days) */
    SM_SCHEDULE_HOURS,    /* rate(N hours) */
    SM_SCHEDULE_CRON,     /* cron(minutes hours day-of-month month day-of-week year) */
};

struct sm_schedule {
    enum sm_schedule_kind kind;
    int64_t every; /* DAYS / HOURS: the interval */
    /* CRON fields as sets (bit i = value i). */
    uint64_t minutes;         /* 0-59 */
    uint32_t hours;           /* 0-23 */
    uint32_t dom;             /* 1-31 */
    uint16_t months;          /* 1-12 */
    uint8_t dow;              /* 1-7, Sunday = 1 */
    bool dom_any;             /* '?' in day-of-month: the day-of-week field decides */
    bool dom_last;            /* L: last day of the month */
    bool dom_last_weekday;    /* LW */
    int dom_weekday;          /* nW: weekday nearest day n (0: none) */
    int dow_last;             /* nL: last weekday n of the month (0: none) */
    int dow_nth_day, dow_nth; /* n#k: k-th weekday n of the month (0: none) */
    bool daily_schedule;      /* the expression fires on days, not hours: window to end of day */
    uint8_t years[(2199 - 1970) / 8 + 1]; /* 1970-2199 */
    int64_t window_ms;                    /* length of the rotation window */
};

/* Parses RotationRules: exactly one of days (> 0) and expr (non-empty), and an optional
 * duration ("3h"). Returns NULL, or a message saying what is wrong (static text or
 * written into errbuf). Enforces Secrets Manager's limits: no rotation more often than
 * every four hours, a window that neither crosses the UTC day nor reaches the next
 * window. */
const char *sm_schedule_parse(int64_t days, struct moat_slice expr, struct moat_slice duration,
                              struct sm_schedule *out, char *errbuf, size_t errlen);

/* Start of the first rotation window at or after `not_before_ms` (an epoch time in ms),
 * or 0 when the schedule never fires again (a cron() whose years have passed). For
 * DAYS and HOURS schedules, pass the last rotation (or when rotation was turned on) as
 * `base_ms`: the window opens `every` days or hours after it, at a boundary of the day. */
int64_t sm_schedule_next(const struct sm_schedule *s, int64_t base_ms, int64_t not_before_ms);

#endif

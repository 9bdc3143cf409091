/* clock.h: wall-clock and monotonic time, ISO 8601 / RFC 1123 formatting and
 * parsing, and the offset of the test clock (an admin-only mechanism). */
#ifndef MOAT_CLOCK_H
#define MOAT_CLOCK_H

#include "core/slice.h"

/* Real wall-clock milliseconds since the epoch (logs). */
int64_t moat_clock_real_ms(void);
/* Service time: real time plus the test-clock offset. Everything that AWS
 * semantics depend on (expiry, deletion windows, signatures) uses this. */
int64_t moat_clock_now_ms(void);
int64_t moat_clock_monotonic_ms(void);
void moat_clock_set_offset_ms(int64_t offset);
int64_t moat_clock_offset_ms(void);

/* "2026-11-28T13:50:03Z" (buf >= 21). */
void moat_time_format_iso8601(int64_t epoch_s, char *buf);
/* "2026-11-28T13:50:03.123Z" (buf >= 25). */
void moat_time_format_iso8601_ms(int64_t epoch_ms, char *buf);
/* "20261128T135003Z" (buf >= 17). */
void moat_time_format_basic(int64_t epoch_s, char *buf);
/* "Sat, 28 Nov 2026 13:50:03 GMT" (buf >= 30). */
void moat_time_format_rfc1123(int64_t epoch_s, char *buf);

/* Parses YYYYMMDD'T'HHMMSS'Z'. */
bool moat_time_parse_basic(struct moat_slice s, int64_t *epoch_s);
/* Parses ISO 8601: date, date-time with optional fraction and Z or +hh:mm offset.
 * The result is in milliseconds. */
bool moat_time_parse_iso8601(struct moat_slice s, int64_t *epoch_ms);
/* Parses RFC 1123 / RFC 850 / asctime HTTP dates. */
bool moat_time_parse_http(struct moat_slice s, int64_t *epoch_s);

int64_t moat_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif

/* log.h: structured logs, one JSON object per line, written with a single
 * write(2) so that threads never interleave. Never pass secret material here. */
#ifndef MOAT_LOG_H
#define MOAT_LOG_H

#include "core/base.h"

enum moat_log_level { MOAT_LOG_DEBUG = 0, MOAT_LOG_INFO, MOAT_LOG_WARN, MOAT_LOG_ERROR };

/* path NULL or "-" logs to stderr. Returns false if the file cannot be opened. */
bool moat_log_open(const char *path, enum moat_log_level level);
/* Reopens the same path (SIGHUP, after rotation). */
void moat_log_reopen(void);
bool moat_log_parse_level(const char *name, enum moat_log_level *out);
bool moat_log_enabled(enum moat_log_level level);

/* msg is a fixed text; fields is zero or more "key", "value" C-string pairs
 * terminated by NULL. Values are JSON-escaped. */
void moat_log(enum moat_log_level level, const char *msg, ...);
void moat_logf(enum moat_log_level level, const char *fmt, ...) MOAT_PRINTF(2, 3);

#define moat_log_error(...) moat_logf(MOAT_LOG_ERROR, __VA_ARGS__)
#define moat_log_warn(...) moat_logf(MOAT_LOG_WARN, __VA_ARGS__)
#define moat_log_info(...) moat_logf(MOAT_LOG_INFO, __VA_ARGS__)
#define moat_log_debug(...)                                                                        \
    do {                                                                                           \
        if (moat_log_enabled(MOAT_LOG_DEBUG))                                                      \
            moat_logf(MOAT_LOG_DEBUG, __VA_ARGS__);                                                \
    } while (0)

#endif

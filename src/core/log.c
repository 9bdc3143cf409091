/* log.c: JSON-lines logger with level filter and reopen-on-SIGHUP.
 * The fd is swapped atomically so that writers never see a closed one. */
#include "core/log.h"

#include "core/buf.h"
#include "core/clock.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Atomic int log_fd = 2;
static enum moat_log_level log_level = MOAT_LOG_INFO;
static char *log_path;
static pthread_mutex_t reopen_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

bool moat_log_parse_level(const char *name, enum moat_log_level *out)
{
    for (size_t i = 0; i < MOAT_COUNT(level_names); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum moat_log_level)i;
            return true;
        }
    }
    return false;
}

bool moat_log_enabled(enum moat_log_level level)
{
    return level >= log_level;
}

static int open_path(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

bool moat_log_open(const char *path, enum moat_log_level level)
{
    log_level = level;
    if (!path || strcmp(path, "-") == 0)
        return true;
    int fd = open_path(path);
    if (fd < 0)
        return false;
    free(log_path);
    log_path = moat_xstrdup(path);
    int old = atomic_exchange(&log_fd, fd);
    if (old > 2)
        close(old);
    return true;
}

void moat_log_reopen(void)
{
    pthread_mutex_lock(&reopen_lock);
    if (log_path) {
        int fd = open_path(log_path);
        if (fd >= 0) {
            int old = atomic_exchange(&log_fd, fd);
            /* A writer may still hold `old` for one write; closing it then makes
             * that write fail with EBADF, which loses one line but is safe. */
            if (old > 2)
                close(old);
        }
    }
    pthread_mutex_unlock(&reopen_lock);
}

static void emit(struct moat_buf *b)
{
    moat_buf_append_u8(b, '\n');
    (void)!write(atomic_load(&log_fd), b->ptr, b->len);
}

static void begin(struct moat_buf *b, enum moat_log_level level)
{
    char ts[40];
    moat_time_format_iso8601_ms(moat_clock_real_ms(), ts);
    moat_buf_printf(b, "{\"time\":\"%s\",\"level\":\"%s\"", ts, level_names[level]);
}

void moat_log(enum moat_log_level level, const char *msg, ...)
{
    if (level < log_level)
        return;
    struct moat_buf b;
    moat_buf_init(&b, NULL, 256);
    begin(&b, level);
    moat_buf_append_cstr(&b, ",\"msg\":\"");
    moat_buf_append_json_escaped(&b, moat_slice_cstr(msg));
    moat_buf_append_u8(&b, '"');
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        moat_buf_append_cstr(&b, ",\"");
        moat_buf_append_json_escaped(&b, moat_slice_cstr(k));
        moat_buf_append_cstr(&b, "\":\"");
        moat_buf_append_json_escaped(&b, moat_slice_cstr(v ? v : ""));
        moat_buf_append_u8(&b, '"');
    }
    va_end(ap);
    moat_buf_append_u8(&b, '}');
    emit(&b);
    moat_buf_release(&b);
}

void moat_logf(enum moat_log_level level, const char *fmt, ...)
{
    if (level < log_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct moat_buf b;
    moat_buf_init(&b, NULL, 256);
    begin(&b, level);
    moat_buf_append_cstr(&b, ",\"msg\":\"");
    moat_buf_append_json_escaped(&b, moat_slice_cstr(msg));
    moat_buf_append_cstr(&b, "\"}");
    emit(&b);
    moat_buf_release(&b);
}

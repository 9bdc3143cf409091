/* thread.h: per-thread cleanups. Thread-local caches (cipher contexts,
 * signing keys, prepared statements) register here so that they are released
 * when their thread exits, and leak checkers stay quiet. */
#ifndef MOAT_THREAD_H
#define MOAT_THREAD_H

#include "core/base.h"

typedef void (*moat_thread_cleanup_fn)(void *arg);

/* Runs fn(arg) when the calling thread exits (last registered first). */
void moat_thread_on_exit(moat_thread_cleanup_fn fn, void *arg);
/* Runs the calling thread's cleanups now (for the main thread before exit). */
void moat_thread_cleanup_now(void);

#endif

/* thread.c: a pthread key whose destructor runs the registered per-thread
 * cleanups in reverse order. */
#include "core/thread.h"

#include <pthread.h>
#include <stdlib.h>

struct cleanup {
    struct cleanup *next;
    moat_thread_cleanup_fn fn;
    void *arg;
};

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void run(void *head)
{
    struct cleanup *c = head;
    while (c) {
        struct cleanup *next = c->next;
        c->fn(c->arg);
        free(c);
        c = next;
    }
}

static void make_key(void)
{
    pthread_key_create(&key, run);
}

void moat_thread_on_exit(moat_thread_cleanup_fn fn, void *arg)
{
    pthread_once(&once, make_key);
    struct cleanup *c = moat_xmalloc(sizeof(*c));
    c->fn = fn;
    c->arg = arg;
    c->next = pthread_getspecific(key);
    pthread_setspecific(key, c);
}

void moat_thread_cleanup_now(void)
{
    pthread_once(&once, make_key);
    struct cleanup *head = pthread_getspecific(key);
    pthread_setspecific(key, NULL);
    run(head);
}

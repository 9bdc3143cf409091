/* http_limits.h: connection caps shared by every event loop: a global count
 * and a count per peer address, in a small mutex-protected hash table. */
#ifndef MOAT_HTTP_LIMITS_H
#define MOAT_HTTP_LIMITS_H

#include "core/base.h"

#include <pthread.h>

struct http_ip_entry;

struct http_limits {
    pthread_mutex_t lock;
    struct http_ip_entry **buckets;
    size_t bucket_count; /* power of two */
    int max_per_ip;      /* <= 0: no per-address cap */
    int max_total;       /* <= 0: no global cap */
    int total;
};

void http_limits_init(struct http_limits *l, int max_per_ip, int max_total);
void http_limits_cleanup(struct http_limits *l);
/* Counts a new connection from `addr` (16 bytes: IPv6, or IPv4 mapped into
 * ::ffff:0:0/96). False, and nothing counted, when a cap would be exceeded. */
bool http_limits_acquire(struct http_limits *l, const uint8_t addr[16]);
void http_limits_release(struct http_limits *l, const uint8_t addr[16]);
/* Connections counted for one address (tests). */
int http_limits_count(struct http_limits *l, const uint8_t addr[16]);

#endif

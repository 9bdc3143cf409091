/* http_limits.c: the per-address and global connection counts. Entries exist
 * only while their address has connections, so the table stays small. */
#include "http/http_limits.h"

#include <stdlib.h>
#include <string.h>

struct http_ip_entry {
    struct http_ip_entry *next;
    uint8_t addr[16];
    int count;
};

void http_limits_init(struct http_limits *l, int max_per_ip, int max_total)
{
    memset(l, 0, sizeof(*l));
    pthread_mutex_init(&l->lock, NULL);
    l->bucket_count = 1024;
    l->buckets = moat_xcalloc(l->bucket_count, sizeof(*l->buckets));
    l->max_per_ip = max_per_ip;
    l->max_total = max_total;
}

void http_limits_cleanup(struct http_limits *l)
{
    for (size_t i = 0; i < l->bucket_count; i++) {
        struct http_ip_entry *e = l->buckets[i];
        while (e) {
            struct http_ip_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(l->buckets);
    pthread_mutex_destroy(&l->lock);
}

/* FNV-1a: addresses are not secret and the chains are short; a peer that
 * wants to grow one chain needs as many source addresses as entries. */
static size_t bucket_of(const struct http_limits *l, const uint8_t addr[16])
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 16777619u;
    return h & (l->bucket_count - 1);
}

static struct http_ip_entry **find(struct http_limits *l, const uint8_t addr[16])
{
    struct http_ip_entry **pe = &l->buckets[bucket_of(l, addr)];
    while (*pe && memcmp((*pe)->addr, addr, 16) != 0)
        pe = &(*pe)->next;
    return pe;
}

bool http_limits_acquire(struct http_limits *l, const uint8_t addr[16])
{
    bool ok = false;
    pthread_mutex_lock(&l->lock);
    struct http_ip_entry **pe = find(l, addr);
    if (l->max_total > 0 && l->total >= l->max_total)
        goto out;
    if (l->max_per_ip > 0 && *pe && (*pe)->count >= l->max_per_ip)
        goto out;
    if (!*pe) {
        struct http_ip_entry *e = moat_xcalloc(1, sizeof(*e));
        memcpy(e->addr, addr, 16);
        *pe = e;
    }
    (*pe)->count++;
    l->total++;
    ok = true;
out:
    pthread_mutex_unlock(&l->lock);
    return ok;
}

void http_limits_release(struct http_limits *l, const uint8_t addr[16])
{
    pthread_mutex_lock(&l->lock);
    struct http_ip_entry **pe = find(l, addr);
    if (*pe) {
        l->total--;
        if (--(*pe)->count == 0) {
            struct http_ip_entry *e = *pe;
            *pe = e->next;
            free(e);
        }
    }
    pthread_mutex_unlock(&l->lock);
}

int http_limits_count(struct http_limits *l, const uint8_t addr[16])
{
    pthread_mutex_lock(&l->lock);
    struct http_ip_entry *e = *find(l, addr);
    int n = e ? e->count : 0;
    pthread_mutex_unlock(&l->lock);
    return n;
}

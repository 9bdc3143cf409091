/* test_http_limits.c: the per-address and global connection counts shared by
 * the event loops, including concurrent use from several threads. */
#include "harness.h"
#include "http/http_limits.h"

#include <pthread.h>

static void addr_of(uint32_t n, uint8_t out[16])
{
    memset(out, 0, 16);
    out[10] = out[11] = 0xff;
    out[12] = (uint8_t)(n >> 24);
    out[13] = (uint8_t)(n >> 16);
    out[14] = (uint8_t)(n >> 8);
    out[15] = (uint8_t)n;
}

MOAT_TEST(per_address_cap)
{
    struct http_limits l;
    uint8_t x[16], y[16];
    http_limits_init(&l, 2, 0);
    addr_of(0x7f000001, x);
    addr_of(0x0a000001, y);
    CHECK(http_limits_acquire(&l, x));
    CHECK(http_limits_acquire(&l, x));
    CHECK(!http_limits_acquire(&l, x));
    CHECK_EQ_INT(http_limits_count(&l, x), 2);
    CHECK(http_limits_acquire(&l, y)); /* another address is not affected */
    http_limits_release(&l, x);
    CHECK_EQ_INT(http_limits_count(&l, x), 1);
    CHECK(http_limits_acquire(&l, x));
    http_limits_release(&l, x);
    http_limits_release(&l, x);
    http_limits_release(&l, y);
    CHECK_EQ_INT(http_limits_count(&l, x), 0);
    CHECK_EQ_INT(l.total, 0);
    http_limits_cleanup(&l);
}

MOAT_TEST(global_cap_and_many_addresses)
{
    struct http_limits l;
    uint8_t x[16];
    http_limits_init(&l, 0, 5000);
    /* More addresses than buckets: chains work and entries go when unused. */
    for (uint32_t i = 0; i < 5000; i++) {
        addr_of(i * 2654435761u, x);
        CHECK(http_limits_acquire(&l, x));
    }
    addr_of(12345, x);
    CHECK(!http_limits_acquire(&l, x));
    CHECK_EQ_INT(l.total, 5000);
    for (uint32_t i = 0; i < 5000; i++) {
        addr_of(i * 2654435761u, x);
        http_limits_release(&l, x);
    }
    CHECK_EQ_INT(l.total, 0);
    size_t entries = 0;
    for (size_t b = 0; b < l.bucket_count; b++)
        entries += l.buckets[b] != NULL;
    CHECK_EQ_INT(entries, 0);
    http_limits_cleanup(&l);
}

static struct http_limits shared;

static void *churn(void *arg)
{
    uint8_t x[16];
    addr_of((uint32_t)(uintptr_t)arg, x);
    for (int i = 0; i < 20000; i++) {
        if (http_limits_acquire(&shared, x))
            http_limits_release(&shared, x);
    }
    return NULL;
}

MOAT_TEST(threads)
{
    pthread_t t[4];
    http_limits_init(&shared, 3, 0);
    for (uintptr_t i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, churn, (void *)(i % 2));
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_INT(shared.total, 0);
    http_limits_cleanup(&shared);
}

MOAT_TEST_MAIN(MOAT_CASE(per_address_cap), MOAT_CASE(global_cap_and_many_addresses),
               MOAT_CASE(threads))

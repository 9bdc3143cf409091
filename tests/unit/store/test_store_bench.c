/* test_store_bench.c: store write throughput on the writer connection (puts in
 * transactions of 100, single-row commits, audit batches of 16 and 100 ~1 KB rows). */
#include "harness.h"

#include "core/buf.h"
#include "store/store.h"

#include <ftw.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* MOAT_BENCH_SECONDS per figure (default 0.3), MOAT_BENCH_RUNS runs each
 * (default 1; with more, the median and the range are printed). Wall time:
 * durable commits wait for the disk, not the CPU. */
static double bench_seconds(void)
{
    const char *s = getenv("MOAT_BENCH_SECONDS");
    double v = s ? atof(s) : 0.3;
    return v > 0 ? v : 0.3;
}

static int bench_runs(void)
{
    const char *s = getenv("MOAT_BENCH_RUNS");
    int v = s ? atoi(s) : 1;
    return v > 0 && v < 100 ? v : 1;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    MOAT_UNUSED(st);
    MOAT_UNUSED(flag);
    MOAT_UNUSED(ftw);
    return remove(path);
}

struct bench {
    struct store *s;
    struct store_conn *c;
    struct moat_arena *a;
    int64_t next_key; /* keys written so far */
    int64_t head_seq; /* audit rows appended so far */
    uint8_t head_hash[32];
    uint8_t value[256];
    char record[1100];
    int errors;
};

/* One unit of work; returns the rows it wrote (0 on failure). */
typedef int (*bench_op)(struct bench *b, int batch);

static bool put_next(struct bench *b)
{
    char key[32];
    int n = snprintf(key, sizeof(key), "bench/key/%012lld", (long long)b->next_key++);
    return store_put(b->c, "bench", moat_slice(key, (size_t)n), moat_slice(b->value, 256),
                     STORE_MUST_NOT_EXIST, NULL) == STORE_OK;
}

static int op_put_txn(struct bench *b, int batch)
{
    bool ok = store_begin(b->c, true) == STORE_OK;
    for (int i = 0; i < batch && ok; i++)
        ok = put_next(b);
    ok = ok && store_commit(b->c) == STORE_OK;
    return ok ? batch : 0;
}

static int op_put_single(struct bench *b, int batch)
{
    MOAT_UNUSED(batch);
    bool ok = store_begin(b->c, true) == STORE_OK && put_next(b) && store_commit(b->c) == STORE_OK;
    return ok ? 1 : 0;
}

/* A batch as the group-commit writer makes it: head, rows, append, commit. */
static int op_audit(struct bench *b, int batch)
{
    struct store_audit_row rows[100];
    memset(rows, 0, sizeof(rows[0]) * (size_t)batch);
    int64_t seq;
    uint8_t hash[32];
    bool ok = store_begin(b->c, true) == STORE_OK && store_audit_head(b->c, &seq, hash) == STORE_OK;
    for (int i = 0; i < batch && ok; i++) {
        struct store_audit_row *r = &rows[i];
        r->seq = seq + 1 + i;
        r->event_time_ms = 1764338000000 + r->seq;
        r->account_id = MOAT_LIT("111122223333");
        r->event_id =
            moat_slice_cstr(moat_arena_printf(b->a, "%016llx-bench", (unsigned long long)r->seq));
        r->event_name = MOAT_LIT("Encrypt");
        r->event_source = MOAT_LIT("kms.amazonaws.com");
        r->username = MOAT_LIT("alice");
        r->access_key_id = MOAT_LIT("AKIAIOSFODNN7EXAMPLE");
        r->read_only = true;
        r->management = false;
        r->resource_count = 1;
        r->resource_types[0] = MOAT_LIT("AWS::KMS::Key");
        r->resource_names[0] =
            MOAT_LIT("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab");
        r->record = moat_slice(b->record, 1024);
        memcpy(r->prev_hash, i ? rows[i - 1].hash : hash, 32);
        for (int j = 0; j < 32; j++)
            r->hash[j] = (uint8_t)(r->seq * 17 + j);
    }
    ok = ok && store_audit_append(b->c, rows, (size_t)batch) == STORE_OK;
    ok = ok && store_commit(b->c) == STORE_OK;
    if (ok) {
        b->head_seq = rows[batch - 1].seq;
        memcpy(b->head_hash, rows[batch - 1].hash, 32);
    }
    moat_arena_reset(b->a);
    return ok ? batch : 0;
}

static int cmp_double(const void *x, const void *y)
{
    double p = *(const double *)x, q = *(const double *)y;
    return p < q ? -1 : p > q;
}

static void measure(struct bench *b, const char *backend, const char *what, bench_op op, int batch)
{
    double rates[100], cpu_us = 0;
    int runs = bench_runs();
    for (int r = 0; r < runs; r++) {
        double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        double t1 = t0;
        long rows = 0;
        while (t1 - t0 < bench_seconds()) {
            int n = op(b, batch);
            if (n == 0) {
                b->errors++;
                if (store_in_transaction(b->c))
                    (void)store_rollback(b->c);
                break;
            }
            rows += n;
            t1 = clock_s(CLOCK_MONOTONIC);
        }
        rates[r] = (double)rows / (t1 - t0);
        cpu_us += (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1e6 / (double)(rows ? rows : 1);
    }
    qsort(rates, (size_t)runs, sizeof(rates[0]), cmp_double);
    printf("  %-8s %-36s %9.0f rows/s", backend, what, rates[runs / 2]);
    if (runs > 1)
        printf(" (%.0f..%.0f)", rates[0], rates[runs - 1]);
    printf("  client CPU %.1f us/row\n", cpu_us / runs);
}

static void run_bench(struct moat_arena *a, const char *backend, const char *url)
{
    char err[256];
    struct bench b = {.a = moat_arena_new(64 * 1024)};
    b.s = store_open(url, err, sizeof(err));
    CHECK(b.s != NULL);
    if (!b.s) {
        fprintf(stderr, "  %s: %s\n", backend, err);
        moat_arena_free(b.a);
        return;
    }
    b.c = store_connect(b.s, true);
    CHECK(b.c != NULL);
    CHECK_EQ_INT(store_wipe(b.c), STORE_OK);
    for (size_t i = 0; i < sizeof(b.value); i++)
        b.value[i] = (uint8_t)(i * 13);
    /* A ~1 KB CloudTrail-looking record. */
    struct moat_buf rec;
    moat_buf_init(&rec, a, 1100);
    moat_buf_append_cstr(&rec, "{\"eventVersion\":\"1.08\",\"eventSource\":\"kms.amazonaws.com\","
                               "\"eventName\":\"Encrypt\",\"awsRegion\":\"us-east-1\",\"x\":\"");
    while (rec.len < 1022)
        moat_buf_append_u8(&rec, 'a' + rec.len % 26);
    moat_buf_append_cstr(&rec, "\"}");
    memcpy(b.record, rec.ptr, 1024);

    measure(&b, backend, "put, 100 per transaction", op_put_txn, 100);
    measure(&b, backend, "put, one per commit", op_put_single, 1);
    measure(&b, backend, "audit append, batches of 16 (~1 KB)", op_audit, 16);
    measure(&b, backend, "audit append, batches of 100 (~1 KB)", op_audit, 100);

    /* Everything measured was really written. */
    CHECK_EQ_INT(b.errors, 0);
    int64_t count = -1, seq = -1;
    uint8_t hash[32];
    CHECK_EQ_INT(store_count(b.c, "bench", MOAT_LIT("bench/"), &count), STORE_OK);
    CHECK_EQ_INT(count, b.next_key);
    CHECK_EQ_INT(store_audit_head(b.c, &seq, hash), STORE_OK);
    CHECK_EQ_INT(seq, b.head_seq);
    CHECK(b.head_seq > 0 && memcmp(hash, b.head_hash, 32) == 0);
    struct store_audit_row *rows;
    size_t n;
    CHECK_EQ_INT(store_audit_scan(b.c, a, b.head_seq, 10, &rows, &n), STORE_OK);
    CHECK(n == 1 && rows[0].record.len == 1024 && rows[0].resource_count == 1);
    CHECK_EQ_INT(store_wipe(b.c), STORE_OK);
    store_disconnect(b.c);
    store_close(b.s);
    moat_arena_free(b.a);
}

MOAT_TEST(write_throughput)
{
    char dir[] = "/tmp/moat-store-bench-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    run_bench(a, "sqlite", moat_arena_printf(a, "sqlite://%s/bench.db", dir));
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    const char *pg = getenv("MOAT_TEST_PG_URL");
    if (pg && *pg)
        run_bench(a, "postgres", pg);
    else
        printf("  postgres: MOAT_TEST_PG_URL is not set; skipped\n");
}

MOAT_TEST_MAIN(MOAT_CASE(write_throughput))

/* bench_audit_record.c: where the time of a durable audit record goes, one
 * step at a time: building a record (an STS GetCallerIdentity call by an IAM
 * user), hashing it into the chain, and appending batches of rows to a SQLite
 * store and committing them durably (one fsync per batch).
 *
 *   make BUILD=build-bench build-bench/libmoat.a
 *   cc -O2 -std=c17 -D_GNU_SOURCE -Isrc bench/audit/bench_audit_record.c build-bench/libmoat.a \
 *      $(pkg-config --libs openssl sqlite3 libpq libpcre2-8 zlib) -lm -pthread -o /tmp/bar
 *   /tmp/bar [dir]       (dir: where the SQLite file goes, default /tmp) */
#include "audit/audit.h"
#include "aws/shapes/shapes_sts.h"
#include "core/clock.h"
#include "iam/iam_principal.h"
#include "services/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct moat_error *nothing(struct moat_call *c, const struct moat_value *in,
                                  struct moat_value *out)
{
    return NULL;
}

static const struct moat_operation op = {.shape = STS_OP_GET_CALLER_IDENTITY,
                                         .handler = nothing,
                                         .action = "sts:GetCallerIdentity",
                                         .flags = MOAT_OP_READ_ONLY | MOAT_OP_NO_AUTHZ};
static const struct moat_service svc = {.name = "sts",
                                        .event_source = "sts.amazonaws.com",
                                        .shapes = &sts_shapes,
                                        .operations = &op,
                                        .operation_count = 1};

static struct iam_principal user = {
    .type = IAM_PRINCIPAL_USER,
    .account_id = MOAT_LIT("111122223333"),
    .arn = MOAT_LIT("arn:aws:iam::111122223333:user/alice"),
    .principal_id = MOAT_LIT("AIDAEXAMPLEALICE00001"),
    .name = MOAT_LIT("alice"),
    .access_key_id = MOAT_LIT("AKIAALICE00000000001"),
};

static void make_call(struct moat_arena *a, struct moat_call *c)
{
    memset(c, 0, sizeof(*c));
    c->arena = a;
    c->service = &svc;
    c->op = &op;
    c->op_shape = &sts_shapes.ops[op.shape];
    c->principal = &user;
    c->account_id = "111122223333";
    c->region = "us-east-1";
    c->now_ms = moat_clock_now_ms();
    strcpy(c->request_id, "5f1a2b3c-0000-4000-8000-000000000001");
    c->source_ip = MOAT_LIT("127.0.0.1");
    c->user_agent = MOAT_LIT("Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.1 "
                             "md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython "
                             "cfg/retry-mode#legacy Botocore/1.43.11");
    c->access_key_id = user.access_key_id;
    c->input = moat_struct_new(a, c->op_shape->input);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    enum { N = 200000 };
    /* 1. building records */
    struct moat_arena *a = moat_arena_new(1 << 20);
    struct moat_call call;
    struct store_audit_row rows[2];
    double t0 = now_s();
    size_t bytes = 0;
    for (int i = 0; i < N; i++) {
        if (i % 1000 == 0)
            moat_arena_reset(a);
        make_call(a, &call);
        audit_record_build(&call, NULL, rows);
        bytes += rows[0].record.len;
    }
    double build = (now_s() - t0) / N;
    /* 2. the chain hash */
    uint8_t h[32] = {0};
    t0 = now_s();
    for (int i = 0; i < N; i++)
        audit_chain_hash(h, i + 1, rows[0].record, h);
    double hash = (now_s() - t0) / N;
    printf("record build   %6.2f us  (%zu bytes)\n", build * 1e6, bytes / N);
    printf("chain hash     %6.2f us\n", hash * 1e6);

    /* 3. appending batches durably (SQLite, synchronous=FULL on the writer connection) */
    char path[4096], err[256];
    snprintf(path, sizeof(path), "sqlite://%s/bench-audit-%d.db", dir, (int)getpid());
    struct store *s = store_open(path, err, sizeof(err));
    if (!s) {
        fprintf(stderr, "store: %s\n", err);
        return 1;
    }
    struct store_conn *db = store_connect(s, true);
    static const int batches[] = {1, 16, 64, 256};
    struct store_audit_row *batch = calloc(256, sizeof(*batch));
    int64_t seq = 0;
    uint8_t prev[32] = {0};
    for (size_t k = 0; k < sizeof(batches) / sizeof(batches[0]); k++) {
        int n = batches[k], commits = 0;
        double append = 0, commit = 0;
        double until = now_s() + 3;
        while (now_s() < until) {
            moat_arena_reset(a);
            for (int i = 0; i < n; i++) {
                make_call(a, &call);
                audit_record_build(&call, NULL, &batch[i]);
                batch[i].seq = ++seq;
                memcpy(batch[i].prev_hash, prev, 32);
                audit_chain_hash(prev, batch[i].seq, batch[i].record, batch[i].hash);
                memcpy(prev, batch[i].hash, 32);
            }
            double a0 = now_s();
            if (store_begin(db, true) != STORE_OK || store_audit_append(db, batch, n) != STORE_OK)
                return 1;
            double a1 = now_s();
            if (store_commit(db) != STORE_OK)
                return 1;
            double a2 = now_s();
            append += a1 - a0;
            commit += a2 - a1;
            commits++;
        }
        printf("batch %3d: append %6.2f us/row, commit %7.3f ms/batch, %8.0f rows/s\n", n,
               append * 1e6 / (commits * n), commit * 1e3 / commits,
               commits * n / (append + commit));
    }
    store_disconnect(db);
    store_close(s);
    char file[4096];
    snprintf(file, sizeof(file), "%s/bench-audit-%d.db", dir, (int)getpid());
    unlink(file);
    strcat(file, "-wal");
    unlink(file);
    snprintf(file, sizeof(file), "%s/bench-audit-%d.db-shm", dir, (int)getpid());
    unlink(file);
    free(batch);
    moat_arena_free(a);
    return 0;
}

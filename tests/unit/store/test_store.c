/* test_store.c: the store suite. Every case runs on SQLite in a temp dir and,
 * when MOAT_TEST_PG_URL is set, on PostgreSQL too, with the same expectations. */
#include "harness.h"

#include "core/buf.h"
#include "core/log.h"
#include "store/store.h"
#include "store/store_impl.h"

#include <fcntl.h>
#include <ftw.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- environment ------------------------------------------------------------ */

struct env {
    const char *backend; /* "sqlite" or "postgres" */
    char url[1024];
    char dir[256]; /* SQLite: the temp dir holding the file */
    struct store *s;
};

static char log_path[256];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    MOAT_UNUSED(st);
    MOAT_UNUSED(flag);
    MOAT_UNUSED(ftw);
    return remove(path);
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_log(void)
{
    unlink(log_path);
}

/* Logs go to a file so that tests can read what the store logged. */
static void setup_once(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    snprintf(log_path, sizeof(log_path), "/tmp/moat-store-log-%d", (int)getpid());
    if (moat_log_open(log_path, MOAT_LOG_INFO))
        atexit(remove_log);
    if (!getenv("MOAT_TEST_PG_URL") || !*getenv("MOAT_TEST_PG_URL"))
        printf("test_store: MOAT_TEST_PG_URL is not set; PostgreSQL cases skipped "
               "(eval \"$(tests/pg/pg-start.sh)\" to run them)\n");
}

static struct store_conn *must_connect(struct store *s, bool writer)
{
    struct store_conn *c = store_connect(s, writer);
    if (!c) {
        fprintf(stderr, "  cannot connect (see %s)\n", log_path);
        abort();
    }
    return c;
}

static bool env_open(struct env *e, bool pg)
{
    char err[256];
    memset(e, 0, sizeof(*e));
    if (pg) {
        const char *url = getenv("MOAT_TEST_PG_URL");
        if (!url || !*url)
            return false;
        e->backend = "postgres";
        snprintf(e->url, sizeof(e->url), "%s", url);
    } else {
        e->backend = "sqlite";
        snprintf(e->dir, sizeof(e->dir), "/tmp/moat-store-XXXXXX");
        if (!mkdtemp(e->dir)) {
            perror("mkdtemp");
            abort();
        }
        snprintf(e->url, sizeof(e->url), "sqlite://%s/moat.db", e->dir);
    }
    e->s = store_open(e->url, err, sizeof(err));
    if (!e->s) {
        fprintf(stderr, "  store_open(%s): %s\n", e->backend, err);
        abort();
    }
    if (pg) {
        /* The database is shared by every case: start each from nothing. */
        struct store_conn *c = must_connect(e->s, true);
        if (store_wipe(c) != STORE_OK)
            abort();
        store_disconnect(c);
    }
    return true;
}

static void env_close(struct env *e)
{
    store_fault_inject(e->s, 0);
    store_close(e->s);
    if (e->dir[0])
        rm_tree(e->dir);
}

typedef void (*suite_fn)(struct moat_arena *a, struct env *e);

static void run_suite(struct moat_arena *a, suite_fn fn, const char *name)
{
    setup_once();
    for (int pg = 0; pg <= 1; pg++) {
        struct env e;
        if (!env_open(&e, pg))
            continue;
        int before = moat_test_failures;
        fn(a, &e);
        if (moat_test_failures != before)
            fprintf(stderr, "  (%s failed on %s)\n", name, e.backend);
        env_close(&e);
    }
}

#define SUITE(name)                                                                                \
    static void suite_##name(struct moat_arena *a, struct env *e);                                 \
    MOAT_TEST(name)                                                                                \
    {                                                                                              \
        run_suite(a, suite_##name, #name);                                                         \
    }                                                                                              \
    static void suite_##name(struct moat_arena *a, struct env *e)

#define S(lit) MOAT_LIT(lit)

/* ---- open ----------------------------------------------------------------- */

MOAT_TEST(open_urls)
{
    setup_once();
    char err[256];
    const char *bad[] = {"",
                         "ftp://example.com/x",
                         "sqlite://",
                         ":memory:",
                         "sqlite://:memory:",
                         "/nonexistent-moat-dir/sub/x.db",
                         "postgres://127.0.0.1:1/none"};
    for (size_t i = 0; i < MOAT_COUNT(bad); i++) {
        err[0] = 0;
        struct store *s = store_open(bad[i], err, sizeof(err));
        CHECK(s == NULL);
        CHECK(err[0] != 0);
        store_close(s);
    }
    err[0] = 0;
    CHECK(store_open(NULL, err, sizeof(err)) == NULL);
    CHECK(err[0] != 0);

    char dir[] = "/tmp/moat-store-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    /* A bare path and its sqlite:// URL name the same store; reopening migrates nothing. */
    char *path = moat_arena_printf(a, "%s/bare.db", dir);
    struct store *s = store_open(path, err, sizeof(err));
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ_INT(store_backend(s), STORE_SQLITE);
        struct store_conn *c = must_connect(s, true);
        CHECK_EQ_INT(store_put(c, "ns", S("k"), S("v"), STORE_MUST_NOT_EXIST, NULL), STORE_OK);
        store_disconnect(c);
        store_close(s);
    }
    s = store_open(moat_arena_printf(a, "sqlite://%s", path), err, sizeof(err));
    CHECK(s != NULL);
    if (s) {
        struct store_conn *c = must_connect(s, false);
        struct store_record r;
        CHECK_EQ_INT(store_get(c, a, "ns", S("k"), &r), STORE_OK);
        store_disconnect(c);
        store_close(s);
    }
    /* A schema newer than this build is refused, not used. */
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "UPDATE schema_version SET version = 99", NULL, NULL, NULL) ==
          SQLITE_OK);
    sqlite3_close(db);
    err[0] = 0;
    CHECK(store_open(path, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "newer") != NULL);
    rm_tree(dir);
}

/* ---- records -------------------------------------------------------------- */

SUITE(records_versions)
{
    struct store_conn *c = must_connect(e->s, true);
    struct store_record r;
    int64_t v = 0;

    CHECK_EQ_INT(store_get(c, a, "kms", S("k1"), &r), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_put(c, "kms", S("k1"), S("one"), STORE_MUST_NOT_EXIST, &v), STORE_OK);
    CHECK_EQ_INT(v, 1);
    CHECK_EQ_INT(store_get(c, a, "kms", S("k1"), &r), STORE_OK);
    CHECK_SLICE(r.key, "k1");
    CHECK_SLICE(r.value, "one");
    CHECK_EQ_INT(r.version, 1);

    /* MUST_NOT_EXIST on an existing key, stale version, version of an absent key. */
    CHECK_EQ_INT(store_put(c, "kms", S("k1"), S("x"), STORE_MUST_NOT_EXIST, &v), STORE_CONFLICT);
    CHECK_EQ_INT(store_put(c, "kms", S("k1"), S("two"), 1, &v), STORE_OK);
    CHECK_EQ_INT(v, 2);
    CHECK_EQ_INT(store_put(c, "kms", S("k1"), S("x"), 1, &v), STORE_CONFLICT);
    CHECK_EQ_INT(store_put(c, "kms", S("k1"), S("x"), 7, &v), STORE_CONFLICT);
    CHECK_EQ_INT(store_put(c, "kms", S("absent"), S("x"), 1, &v), STORE_CONFLICT);
    CHECK_EQ_INT(store_get(c, a, "kms", S("absent"), &r), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_put(c, "kms", S("k1"), S("three"), STORE_ANY_VERSION, &v), STORE_OK);
    CHECK_EQ_INT(v, 3);
    CHECK_EQ_INT(store_put(c, "kms", S("fresh"), S("f"), STORE_ANY_VERSION, NULL), STORE_OK);
    CHECK_EQ_INT(store_get(c, a, "kms", S("fresh"), &r), STORE_OK);
    CHECK_EQ_INT(r.version, 1);
    CHECK_EQ_INT(store_get(c, a, "kms", S("k1"), &r), STORE_OK);
    CHECK_SLICE(r.value, "three");
    CHECK_EQ_INT(r.version, 3);
    /* A failed put changed nothing. */
    CHECK_EQ_INT(store_put(c, "kms", S("k1"), S("nope"), 2, &v), STORE_CONFLICT);
    CHECK_EQ_INT(store_get(c, a, "kms", S("k1"), &r), STORE_OK);
    CHECK_SLICE(r.value, "three");

    /* Namespaces are separate. */
    CHECK_EQ_INT(store_get(c, a, "ssm", S("k1"), &r), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_put(c, "ssm", S("k1"), S("other"), STORE_MUST_NOT_EXIST, &v), STORE_OK);
    CHECK_EQ_INT(v, 1);

    /* Deletes: wrong version, absent key (with and without a version), MUST_NOT_EXIST. */
    CHECK_EQ_INT(store_delete(c, "kms", S("k1"), 2), STORE_CONFLICT);
    CHECK_EQ_INT(store_delete(c, "kms", S("k1"), STORE_MUST_NOT_EXIST), STORE_CONFLICT);
    CHECK_EQ_INT(store_delete(c, "kms", S("absent"), STORE_ANY_VERSION), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_delete(c, "kms", S("absent"), 3), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_get(c, a, "kms", S("k1"), &r), STORE_OK);
    CHECK_EQ_INT(store_delete(c, "kms", S("k1"), 3), STORE_OK);
    CHECK_EQ_INT(store_get(c, a, "kms", S("k1"), &r), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_delete(c, "kms", S("k1"), STORE_ANY_VERSION), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_delete(c, "kms", S("fresh"), STORE_ANY_VERSION), STORE_OK);
    CHECK_EQ_INT(store_get(c, a, "ssm", S("k1"), &r), STORE_OK);
    /* After a delete the key starts again at version 1. */
    CHECK_EQ_INT(store_put(c, "kms", S("k1"), S("again"), STORE_MUST_NOT_EXIST, &v), STORE_OK);
    CHECK_EQ_INT(v, 1);

    /* Invalid expected versions are refused. */
    CHECK_EQ_INT(store_put(c, "kms", S("k1"), S("x"), -2, &v), STORE_ERROR);
    CHECK_EQ_INT(store_delete(c, "kms", S("k1"), -7), STORE_ERROR);
    store_disconnect(c);
}

SUITE(records_binary)
{
    struct store_conn *c = must_connect(e->s, true);
    struct store_record r;
    /* Empty key and empty value are values, not NULL. */
    CHECK_EQ_INT(store_put(c, "b", MOAT_NULL_SLICE, MOAT_NULL_SLICE, STORE_MUST_NOT_EXIST, NULL),
                 STORE_OK);
    CHECK_EQ_INT(store_get(c, a, "b", MOAT_NULL_SLICE, &r), STORE_OK);
    CHECK_EQ_INT(r.value.len, 0);
    CHECK_EQ_INT(r.key.len, 0);
    CHECK(r.value.ptr != NULL);

    uint8_t key[] = {0x00, 0xFF, 0x00, 0x80};
    size_t big = 1 << 20;
    uint8_t *val = moat_arena_alloc(a, big);
    for (size_t i = 0; i < big; i++)
        val[i] = (uint8_t)(i * 7 + (i >> 9));
    CHECK_EQ_INT(store_put(c, "b", moat_slice(key, sizeof(key)), moat_slice(val, big),
                           STORE_MUST_NOT_EXIST, NULL),
                 STORE_OK);
    CHECK_EQ_INT(store_get(c, a, "b", moat_slice(key, sizeof(key)), &r), STORE_OK);
    CHECK_EQ_INT(r.value.len, big);
    CHECK(r.value.len == big && memcmp(r.value.ptr, val, big) == 0);
    /* A key that differs only after a NUL byte is another key. */
    uint8_t key2[] = {0x00, 0xFF, 0x00, 0x81};
    CHECK_EQ_INT(store_get(c, a, "b", moat_slice(key2, sizeof(key2)), &r), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_get(c, a, "b", moat_slice(key, 3), &r), STORE_NOT_FOUND);
    store_disconnect(c);
}

/* ---- scans ---------------------------------------------------------------- */

struct key {
    uint8_t b[6];
    size_t n;
};

static int key_cmp(const void *x, const void *y)
{
    const struct key *p = x, *q = y;
    return moat_slice_cmp(moat_slice(p->b, p->n), moat_slice(q->b, q->n));
}

static struct moat_slice key_slice(const struct key *k)
{
    return moat_slice(k->b, k->n);
}

/* The keys of `all` (sorted) in [prefix, ...) after `after`, at most limit. */
static size_t reference_scan(const struct key *all, size_t n, struct moat_slice prefix,
                             struct moat_slice after, size_t limit, size_t *idx, bool *more)
{
    size_t m = 0;
    *more = false;
    for (size_t i = 0; i < n; i++) {
        struct moat_slice k = key_slice(&all[i]);
        if (!moat_slice_starts_with(k, prefix))
            continue;
        if (after.len && moat_slice_cmp(k, after) <= 0)
            continue;
        if (m == limit) {
            *more = true;
            break;
        }
        idx[m++] = i;
    }
    return m;
}

static const uint8_t alphabet[] = {0x00, 0x01, 'a', 0x7F, 0x80, 0xFE, 0xFF};

static void random_key(unsigned *seed, struct key *k, size_t maxlen)
{
    k->n = (size_t)rand_r(seed) % (maxlen + 1);
    for (size_t j = 0; j < k->n; j++)
        k->b[j] = alphabet[(size_t)rand_r(seed) % sizeof(alphabet)];
}

SUITE(scan_bytewise)
{
    struct store_conn *c = must_connect(e->s, true);
    struct key keys[300];
    size_t n = 0;
    unsigned seed = 12345;
    /* Distinct random keys over an alphabet rich in 0x00 and 0xFF, plus edge keys. */
    static const struct key fixed[] = {
        {{0}, 0},
        {{0x00}, 1},
        {{0xFF}, 1},
        {{0xFF, 0xFF}, 2},
        {{'a'}, 1},
        {{'a', 0x00}, 2},
        {{'a', 0xFF}, 2},
        {{'a', 0xFF, 0xFF}, 3},
        {{'a', 0xFF, 0x00}, 3},
        {{'b'}, 1},
        {{0xFF, 0xFF, 0xFF}, 3},
        {{0x00, 0x00}, 2},
    };
    for (size_t i = 0; i < MOAT_COUNT(fixed); i++)
        keys[n++] = fixed[i];
    while (n < MOAT_COUNT(keys)) {
        struct key k;
        random_key(&seed, &k, 5);
        bool dup = false;
        for (size_t i = 0; i < n && !dup; i++)
            dup = key_cmp(&keys[i], &k) == 0;
        if (!dup)
            keys[n++] = k;
    }
    CHECK_EQ_INT(store_begin(c, true), STORE_OK);
    for (size_t i = 0; i < n; i++) {
        char val[24];
        snprintf(val, sizeof(val), "v%zu", i);
        CHECK_EQ_INT(store_put(c, "scan", key_slice(&keys[i]), moat_slice_cstr(val),
                               STORE_MUST_NOT_EXIST, NULL),
                     STORE_OK);
    }
    /* Neighbouring namespaces must not leak into scans. */
    CHECK_EQ_INT(store_put(c, "scan0", S("a"), S("x"), STORE_ANY_VERSION, NULL), STORE_OK);
    CHECK_EQ_INT(store_put(c, "sca", S("a"), S("x"), STORE_ANY_VERSION, NULL), STORE_OK);
    CHECK_EQ_INT(store_commit(c), STORE_OK);
    qsort(keys, n, sizeof(keys[0]), key_cmp);

    /* Whole namespace in one go: byte order. */
    struct store_record *out;
    size_t count;
    bool more;
    CHECK_EQ_INT(
        store_scan(c, a, "scan", MOAT_NULL_SLICE, MOAT_NULL_SLICE, 1000, &out, &count, &more),
        STORE_OK);
    CHECK_EQ_INT(count, n);
    CHECK(!more);
    bool ordered = count == n;
    for (size_t i = 0; i < count && ordered; i++)
        ordered = moat_slice_eq(out[i].key, key_slice(&keys[i])) && out[i].version == 1;
    CHECK(ordered);

    /* Random (prefix, after, limit) against the reference, including prefixes
     * ending in 0xFF and 'after' outside the prefix. */
    size_t idx[300];
    int mismatches = 0;
    for (int t = 0; t < 400; t++) {
        struct key prefix, after;
        random_key(&seed, &prefix, t % 4 == 0 ? 1 : 3);
        if (t % 5 == 0) {
            prefix.b[prefix.n] = 0xFF;
            prefix.n++;
        }
        if (t % 3 == 0)
            after.n = 0;
        else if (t % 3 == 1)
            after = keys[(size_t)rand_r(&seed) % n];
        else
            random_key(&seed, &after, 5);
        size_t limit = (size_t)(t % 7 == 0 ? 0 : 1 + rand_r(&seed) % 40);
        bool ref_more;
        size_t m =
            reference_scan(keys, n, key_slice(&prefix), key_slice(&after), limit, idx, &ref_more);
        if (store_scan(c, a, "scan", key_slice(&prefix), key_slice(&after), limit, &out, &count,
                       &more) != STORE_OK) {
            mismatches++;
            continue;
        }
        bool same = count == m && more == ref_more;
        for (size_t i = 0; i < count && same; i++)
            same = moat_slice_eq(out[i].key, key_slice(&keys[idx[i]]));
        if (!same)
            mismatches++;
        int64_t cnt = -1;
        bool cref;
        size_t all =
            reference_scan(keys, n, key_slice(&prefix), MOAT_NULL_SLICE, SIZE_MAX, idx, &cref);
        if (store_count(c, "scan", key_slice(&prefix), &cnt) != STORE_OK || cnt != (int64_t)all)
            mismatches++;
    }
    CHECK_EQ_INT(mismatches, 0);

    /* Pagination with `after` walks every key of a prefix exactly once. */
    struct moat_slice prefix = S("a");
    struct moat_slice after = MOAT_NULL_SLICE;
    size_t seen = 0, pages = 0;
    bool ok = true;
    do {
        CHECK_EQ_INT(store_scan(c, a, "scan", prefix, after, 3, &out, &count, &more), STORE_OK);
        for (size_t i = 0; i < count; i++)
            ok = ok && moat_slice_starts_with(out[i].key, prefix);
        seen += count;
        pages++;
        if (count)
            after = out[count - 1].key;
    } while (more && pages < 1000);
    bool dummy;
    CHECK(ok);
    CHECK_EQ_INT(seen, reference_scan(keys, n, prefix, MOAT_NULL_SLICE, SIZE_MAX, idx, &dummy));

    /* Prefix of only 0xFF bytes: no upper bound. */
    CHECK_EQ_INT(store_scan(c, a, "scan", S("\xff\xff"), MOAT_NULL_SLICE, 100, &out, &count, &more),
                 STORE_OK);
    CHECK_EQ_INT(count, reference_scan(keys, n, S("\xff\xff"), MOAT_NULL_SLICE, 100, idx, &dummy));
    CHECK(count >= 2 && moat_slice_eq(out[0].key, S("\xff\xff")));
    /* Limit 0 returns nothing but reports more. */
    CHECK_EQ_INT(store_scan(c, a, "scan", S("a"), MOAT_NULL_SLICE, 0, &out, &count, &more),
                 STORE_OK);
    CHECK_EQ_INT(count, 0);
    CHECK(more);
    /* An empty namespace and a prefix nothing has. */
    CHECK_EQ_INT(
        store_scan(c, a, "nothing", MOAT_NULL_SLICE, MOAT_NULL_SLICE, 10, &out, &count, &more),
        STORE_OK);
    CHECK_EQ_INT(count, 0);
    CHECK(!more);
    int64_t cnt = -1;
    CHECK_EQ_INT(store_count(c, "scan", MOAT_NULL_SLICE, &cnt), STORE_OK);
    CHECK_EQ_INT(cnt, n);
    CHECK_EQ_INT(store_count(c, "sca", MOAT_NULL_SLICE, &cnt), STORE_OK);
    CHECK_EQ_INT(cnt, 1);
    store_disconnect(c);
}

/* ---- transactions --------------------------------------------------------------- */

SUITE(transactions)
{
    struct store_conn *c = must_connect(e->s, true);
    struct store_record r;
    CHECK(!store_in_transaction(c));
    CHECK_EQ_INT(store_commit(c), STORE_ERROR);
    CHECK_EQ_INT(store_rollback(c), STORE_ERROR);

    CHECK_EQ_INT(store_begin(c, true), STORE_OK);
    CHECK(store_in_transaction(c));
    CHECK_EQ_INT(store_begin(c, true), STORE_ERROR);
    CHECK_EQ_INT(store_put(c, "t", S("gone"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_OK);
    CHECK_EQ_INT(store_get(c, a, "t", S("gone"), &r), STORE_OK); /* own writes are visible */
    CHECK_EQ_INT(store_rollback(c), STORE_OK);
    CHECK(!store_in_transaction(c));
    CHECK_EQ_INT(store_get(c, a, "t", S("gone"), &r), STORE_NOT_FOUND);

    CHECK_EQ_INT(store_begin(c, true), STORE_OK);
    CHECK_EQ_INT(store_put(c, "t", S("kept"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_OK);
    CHECK_EQ_INT(store_put(c, "t", S("kept"), S("2"), 1, NULL), STORE_OK);
    CHECK_EQ_INT(store_commit(c), STORE_OK);
    CHECK_EQ_INT(store_get(c, a, "t", S("kept"), &r), STORE_OK);
    CHECK_EQ_INT(r.version, 2);

    /* Writes are refused inside a read transaction, and leave it usable... */
    CHECK_EQ_INT(store_begin(c, false), STORE_OK);
    CHECK_EQ_INT(store_put(c, "t", S("ro"), S("1"), STORE_ANY_VERSION, NULL), STORE_ERROR);
    CHECK_EQ_INT(store_delete(c, "t", S("kept"), STORE_ANY_VERSION), STORE_ERROR);
    CHECK_EQ_INT(store_wipe(c), STORE_ERROR);
    CHECK_EQ_INT(store_savepoint(c), STORE_ERROR);
    CHECK_EQ_INT(store_get(c, a, "t", S("kept"), &r), STORE_OK);
    CHECK_EQ_INT(store_commit(c), STORE_OK);
    CHECK_EQ_INT(store_get(c, a, "t", S("ro"), &r), STORE_NOT_FOUND);

    /* ...while a backend failure poisons the transaction until rollback. */
    CHECK_EQ_INT(store_begin(c, true), STORE_OK);
    CHECK_EQ_INT(store_put(c, "t", S("half"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_OK);
    store_fault_inject(e->s, 1);
    CHECK_EQ_INT(store_put(c, "t", S("half2"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_ERROR);
    CHECK_EQ_INT(store_get(c, a, "t", S("half"), &r), STORE_ERROR);
    CHECK_EQ_INT(store_put(c, "t", S("half3"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_ERROR);
    CHECK_EQ_INT(store_commit(c), STORE_ERROR); /* rolls back */
    CHECK(!store_in_transaction(c));
    CHECK_EQ_INT(store_get(c, a, "t", S("half"), &r), STORE_NOT_FOUND);

    /* Disconnecting inside a transaction rolls it back. */
    CHECK_EQ_INT(store_begin(c, true), STORE_OK);
    CHECK_EQ_INT(store_put(c, "t", S("dropped"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_OK);
    store_disconnect(c);
    c = must_connect(e->s, false);
    CHECK_EQ_INT(store_get(c, a, "t", S("dropped"), &r), STORE_NOT_FOUND);
    store_disconnect(c);
}

SUITE(snapshot)
{
    struct store_conn *w = must_connect(e->s, true);
    struct store_conn *rd = must_connect(e->s, false);
    struct store_record r;
    CHECK_EQ_INT(store_put(w, "snap", S("k"), S("v1"), STORE_ANY_VERSION, NULL), STORE_OK);

    CHECK_EQ_INT(store_begin(rd, false), STORE_OK);
    /* The writer commits after the reader began, before its first read. */
    CHECK_EQ_INT(store_begin(w, true), STORE_OK);
    CHECK_EQ_INT(store_put(w, "snap", S("k"), S("v2"), 1, NULL), STORE_OK);
    CHECK_EQ_INT(store_put(w, "snap", S("k2"), S("new"), STORE_MUST_NOT_EXIST, NULL), STORE_OK);
    CHECK_EQ_INT(store_commit(w), STORE_OK);

    CHECK_EQ_INT(store_get(rd, a, "snap", S("k"), &r), STORE_OK);
    CHECK_SLICE(r.value, "v1");
    CHECK_EQ_INT(store_get(rd, a, "snap", S("k2"), &r), STORE_NOT_FOUND);
    struct store_record *out;
    size_t count;
    bool more;
    CHECK_EQ_INT(
        store_scan(rd, a, "snap", MOAT_NULL_SLICE, MOAT_NULL_SLICE, 10, &out, &count, &more),
        STORE_OK);
    CHECK_EQ_INT(count, 1);
    int64_t head = -1;
    uint8_t hash[32];
    CHECK_EQ_INT(store_audit_head(rd, &head, hash), STORE_OK);
    CHECK_EQ_INT(head, 0);

    /* Another commit during the snapshot, then more reads: still stable. */
    CHECK_EQ_INT(store_delete(w, "snap", S("k"), STORE_ANY_VERSION), STORE_OK);
    CHECK_EQ_INT(store_get(rd, a, "snap", S("k"), &r), STORE_OK);
    CHECK_SLICE(r.value, "v1");
    CHECK_EQ_INT(store_commit(rd), STORE_OK);

    /* After the snapshot ends the reader sees the latest state. */
    CHECK_EQ_INT(store_get(rd, a, "snap", S("k"), &r), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_get(rd, a, "snap", S("k2"), &r), STORE_OK);
    CHECK_SLICE(r.value, "new");
    store_disconnect(rd);
    store_disconnect(w);
}

SUITE(savepoints)
{
    struct store_conn *c = must_connect(e->s, true);
    struct store_record r;
    CHECK_EQ_INT(store_savepoint(c), STORE_ERROR); /* outside a transaction */
    CHECK_EQ_INT(store_release(c), STORE_ERROR);
    CHECK_EQ_INT(store_rollback_to(c), STORE_ERROR);

    CHECK_EQ_INT(store_begin(c, true), STORE_OK);
    CHECK_EQ_INT(store_release(c), STORE_ERROR); /* no savepoint yet; not a failure */
    CHECK_EQ_INT(store_put(c, "sp", S("a"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_OK);

    CHECK_EQ_INT(store_savepoint(c), STORE_OK);
    CHECK_EQ_INT(store_put(c, "sp", S("b"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_OK);
    CHECK_EQ_INT(store_put(c, "sp", S("a"), S("changed"), 1, NULL), STORE_OK);
    CHECK_EQ_INT(store_rollback_to(c), STORE_OK);
    /* Inner work is gone, outer work intact. */
    CHECK_EQ_INT(store_get(c, a, "sp", S("b"), &r), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_get(c, a, "sp", S("a"), &r), STORE_OK);
    CHECK_SLICE(r.value, "1");
    CHECK_EQ_INT(r.version, 1);
    /* As in SQL the savepoint is still open: work after it, a second
     * rollback_to, more work, then release keeps only that last work. */
    CHECK_EQ_INT(store_put(c, "sp", S("b2"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_OK);
    CHECK_EQ_INT(store_rollback_to(c), STORE_OK);
    CHECK_EQ_INT(store_put(c, "sp", S("b3"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_OK);
    CHECK_EQ_INT(store_release(c), STORE_OK);
    CHECK_EQ_INT(store_rollback_to(c), STORE_ERROR); /* released: no savepoint left */
    CHECK_EQ_INT(store_release(c), STORE_ERROR);

    CHECK_EQ_INT(store_savepoint(c), STORE_OK);
    CHECK_EQ_INT(store_put(c, "sp", S("c"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_OK);
    /* Nested: the inner one is discarded, the outer one released. */
    CHECK_EQ_INT(store_savepoint(c), STORE_OK);
    CHECK_EQ_INT(store_put(c, "sp", S("d"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_OK);
    CHECK_EQ_INT(store_rollback_to(c), STORE_OK);
    CHECK_EQ_INT(store_release(c), STORE_OK);
    CHECK_EQ_INT(store_release(c), STORE_OK);

    /* The group-commit pattern: savepoint per request; a request that fails
     * (here with a failed statement) is rolled back to it, then released. */
    CHECK_EQ_INT(store_savepoint(c), STORE_OK);
    CHECK_EQ_INT(store_put(c, "sp", S("e"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_OK);
    store_fault_inject(e->s, 1);
    CHECK_EQ_INT(store_put(c, "sp", S("f"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_ERROR);
    CHECK_EQ_INT(store_put(c, "sp", S("g"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_ERROR);
    CHECK_EQ_INT(store_release(c), STORE_ERROR); /* cannot keep a failed request */
    CHECK_EQ_INT(store_rollback_to(c), STORE_OK);
    CHECK_EQ_INT(store_release(c), STORE_OK);
    CHECK_EQ_INT(store_savepoint(c), STORE_OK);
    CHECK_EQ_INT(store_put(c, "sp", S("h"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_OK);
    CHECK_EQ_INT(store_release(c), STORE_OK);
    /* Too deep. */
    int made = 0;
    while (store_savepoint(c) == STORE_OK && made < 100)
        made++;
    CHECK_EQ_INT(made, STORE_MAX_SAVEPOINTS);
    for (int i = 0; i < made; i++)
        CHECK_EQ_INT(store_release(c), STORE_OK);
    CHECK_EQ_INT(store_commit(c), STORE_OK);

    const char *present[] = {"a", "b3", "c", "h"};
    const char *absent[] = {"b", "b2", "d", "e", "f", "g"};
    for (size_t i = 0; i < MOAT_COUNT(present); i++)
        CHECK_EQ_INT(store_get(c, a, "sp", moat_slice_cstr(present[i]), &r), STORE_OK);
    for (size_t i = 0; i < MOAT_COUNT(absent); i++)
        CHECK_EQ_INT(store_get(c, a, "sp", moat_slice_cstr(absent[i]), &r), STORE_NOT_FOUND);

    /* A failure outside any savepoint cannot be undone by one. */
    CHECK_EQ_INT(store_begin(c, true), STORE_OK);
    CHECK_EQ_INT(store_put(c, "sp", S("i"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_OK);
    store_fault_inject(e->s, 1);
    CHECK_EQ_INT(store_put(c, "sp", S("j"), S("1"), STORE_MUST_NOT_EXIST, NULL), STORE_ERROR);
    CHECK_EQ_INT(store_savepoint(c), STORE_ERROR);
    CHECK_EQ_INT(store_rollback_to(c), STORE_ERROR);
    CHECK_EQ_INT(store_commit(c), STORE_ERROR);
    CHECK_EQ_INT(store_get(c, a, "sp", S("i"), &r), STORE_NOT_FOUND);
    store_disconnect(c);
}

/* ---- audit helpers --------------------------------------------------------------- */

struct event {
    int64_t time;
    const char *account, *id, *name, *source, *user, *akid;
    bool ro, mgmt;
    size_t nres;
    const char *rtype[4], *rname[4];
};

static void fake_hash(int64_t seq, uint8_t out[32])
{
    for (int i = 0; i < 32; i++)
        out[i] = (uint8_t)(seq * 131 + i * 7 + (seq >> 3));
}

/* Rows for events, chained after (head_seq, head_hash). */
static struct store_audit_row *make_rows(struct moat_arena *a, const struct event *ev, size_t n,
                                         int64_t head_seq, const uint8_t head_hash[32])
{
    struct store_audit_row *rows = moat_arena_calloc(a, n * sizeof(*rows));
    for (size_t i = 0; i < n; i++) {
        struct store_audit_row *r = &rows[i];
        r->seq = head_seq + 1 + (int64_t)i;
        r->event_time_ms = ev[i].time;
        r->account_id = moat_slice_cstr(ev[i].account);
        r->event_id = moat_slice_cstr(ev[i].id);
        r->event_name = moat_slice_cstr(ev[i].name);
        r->event_source = moat_slice_cstr(ev[i].source);
        r->username = moat_slice_cstr(ev[i].user);
        r->access_key_id = moat_slice_cstr(ev[i].akid);
        r->read_only = ev[i].ro;
        r->management = ev[i].mgmt;
        r->resource_count = ev[i].nres;
        for (size_t j = 0; j < ev[i].nres; j++) {
            r->resource_types[j] = moat_slice_cstr(ev[i].rtype[j]);
            r->resource_names[j] = moat_slice_cstr(ev[i].rname[j]);
        }
        r->record = moat_slice_cstr(moat_arena_printf(
            a, "{\"eventID\":\"%s\",\"eventName\":\"%s\",\"note\":\"\\u00e9\xc3\xa9\"}", ev[i].id,
            ev[i].name));
        memcpy(r->prev_hash, i ? rows[i - 1].hash : head_hash, 32);
        fake_hash(r->seq, r->hash);
    }
    return rows;
}

static enum store_status append_events(struct store_conn *c, struct moat_arena *a,
                                       const struct event *ev, size_t n)
{
    if (store_begin(c, true) != STORE_OK)
        return STORE_ERROR;
    int64_t seq;
    uint8_t hash[32];
    enum store_status st = store_audit_head(c, &seq, hash);
    if (st == STORE_OK)
        st = store_audit_append(c, make_rows(a, ev, n, seq, hash), n);
    if (st != STORE_OK) {
        (void)store_rollback(c);
        return st;
    }
    return store_commit(c);
}

static bool rows_equal(const struct store_audit_row *x, const struct store_audit_row *y)
{
    if (x->seq != y->seq || x->event_time_ms != y->event_time_ms ||
        !moat_slice_eq(x->account_id, y->account_id) || !moat_slice_eq(x->event_id, y->event_id) ||
        !moat_slice_eq(x->event_name, y->event_name) ||
        !moat_slice_eq(x->event_source, y->event_source) ||
        !moat_slice_eq(x->username, y->username) ||
        !moat_slice_eq(x->access_key_id, y->access_key_id) || x->read_only != y->read_only ||
        x->management != y->management || !moat_slice_eq(x->record, y->record) ||
        memcmp(x->prev_hash, y->prev_hash, 32) != 0 || memcmp(x->hash, y->hash, 32) != 0 ||
        x->resource_count != y->resource_count)
        return false;
    for (size_t j = 0; j < x->resource_count; j++)
        if (!moat_slice_eq(x->resource_types[j], y->resource_types[j]) ||
            !moat_slice_eq(x->resource_names[j], y->resource_names[j]))
            return false;
    return true;
}

/* ---- audit ------------------------------------------------------------------ */

SUITE(audit_chain)
{
    struct store_conn *c = must_connect(e->s, true);
    int64_t seq = -1;
    uint8_t hash[32], zero[32] = {0};
    CHECK_EQ_INT(store_audit_head(c, &seq, hash), STORE_OK);
    CHECK_EQ_INT(seq, 0);
    CHECK(memcmp(hash, zero, 32) == 0);

    static const struct event ev[] = {
        {1000,
         "111122223333",
         "e1",
         "CreateKey",
         "kms.amazonaws.com",
         "alice",
         "AKIA1",
         false,
         true,
         2,
         {"AWS::KMS::Key", "AWS::KMS::Alias"},
         {"arn:key/1", "alias/one"}},
        {1001,
         "111122223333",
         "e2",
         "Encrypt",
         "kms.amazonaws.com",
         "bob",
         "AKIA2",
         true,
         false,
         0,
         {0},
         {0}},
        {1002,
         "111122223333",
         "e3",
         "PutParameter",
         "ssm.amazonaws.com",
         "",
         "",
         false,
         true,
         1,
         {"AWS::SSM::Parameter"},
         {"/a/b"}},
    };
    struct store_audit_row *rows = make_rows(a, ev, 3, 0, zero);
    /* Outside a transaction or in a read one: refused. */
    CHECK_EQ_INT(store_audit_append(c, rows, 3), STORE_ERROR);
    CHECK_EQ_INT(store_begin(c, false), STORE_OK);
    CHECK_EQ_INT(store_audit_append(c, rows, 3), STORE_ERROR);
    CHECK_EQ_INT(store_rollback(c), STORE_OK);

    CHECK_EQ_INT(store_begin(c, true), STORE_OK);
    CHECK_EQ_INT(store_audit_head(c, &seq, hash), STORE_OK);
    CHECK_EQ_INT(store_audit_append(c, rows, 0), STORE_OK);
    CHECK_EQ_INT(store_audit_append(c, rows, 3), STORE_OK);
    CHECK_EQ_INT(store_audit_head(c, &seq, hash), STORE_OK);
    CHECK_EQ_INT(seq, 3);
    CHECK(memcmp(hash, rows[2].hash, 32) == 0);
    CHECK_EQ_INT(store_commit(c), STORE_OK);

    /* The same rows again: the head moved, so they no longer follow it. */
    CHECK_EQ_INT(store_begin(c, true), STORE_OK);
    CHECK_EQ_INT(store_audit_append(c, rows, 3), STORE_CONFLICT);
    /* A gap after the head, or the right seq with the wrong previous hash. */
    struct store_audit_row *gap = make_rows(a, ev, 1, 4, rows[2].hash);
    CHECK_EQ_INT(store_audit_append(c, gap, 1), STORE_CONFLICT);
    struct store_audit_row *fork = make_rows(a, ev, 1, 3, zero);
    CHECK_EQ_INT(store_audit_append(c, fork, 1), STORE_CONFLICT);
    /* Conflicts are not failures: the transaction goes on. */
    struct store_audit_row *next = make_rows(a, ev, 2, 3, rows[2].hash);
    CHECK_EQ_INT(store_audit_append(c, next, 2), STORE_OK);
    CHECK_EQ_INT(store_commit(c), STORE_OK);

    /* Malformed batches are errors. */
    struct store_audit_row *bad = make_rows(a, ev, 3, 5, next[1].hash);
    CHECK_EQ_INT(store_begin(c, true), STORE_OK);
    bad[1].seq = 9;
    CHECK_EQ_INT(store_audit_append(c, bad, 3), STORE_ERROR);
    bad[1].seq = 7;
    bad[2].prev_hash[0] ^= 1;
    CHECK_EQ_INT(store_audit_append(c, bad, 3), STORE_ERROR);
    bad[2].prev_hash[0] ^= 1;
    bad[1].username = moat_slice("a\0b", 3);
    CHECK_EQ_INT(store_audit_append(c, bad, 3), STORE_ERROR);
    bad[1].username = S("\xc3");
    CHECK_EQ_INT(store_audit_append(c, bad, 3), STORE_ERROR);
    bad[1].username = S("ok");
    bad[1].resource_count = STORE_AUDIT_MAX_RESOURCES + 1;
    CHECK_EQ_INT(store_audit_append(c, bad, 3), STORE_ERROR);
    bad[1].resource_count = 0;
    bad[0].seq = 0;
    CHECK_EQ_INT(store_audit_append(c, bad, 1), STORE_ERROR);
    CHECK_EQ_INT(store_rollback(c), STORE_OK);

    /* Scan returns every column, resources in order. */
    struct store_audit_row *out;
    size_t count;
    CHECK_EQ_INT(store_audit_scan(c, a, 1, 100, &out, &count), STORE_OK);
    CHECK_EQ_INT(count, 5);
    if (count == 5) {
        for (size_t i = 0; i < 3; i++)
            CHECK(rows_equal(&out[i], &rows[i]));
        CHECK(rows_equal(&out[3], &next[0]));
        CHECK(rows_equal(&out[4], &next[1]));
        CHECK_SLICE(out[0].resource_names[1], "alias/one");
        CHECK(out[1].read_only && !out[1].management);
    }
    CHECK_EQ_INT(store_audit_scan(c, a, 2, 2, &out, &count), STORE_OK);
    CHECK_EQ_INT(count, 2);
    CHECK(count == 2 && out[0].seq == 2 && out[1].seq == 3 && out[1].resource_count == 1);
    CHECK_EQ_INT(store_audit_scan(c, a, 6, 10, &out, &count), STORE_OK);
    CHECK_EQ_INT(count, 0);
    CHECK_EQ_INT(store_audit_scan(c, a, 1, 0, &out, &count), STORE_OK);
    CHECK_EQ_INT(count, 0);
    store_disconnect(c);
}

/* Does event ev match the query (attribute, account, time, management)? */
static bool ref_match(const struct event *ev, const struct store_audit_query *q)
{
    if (!moat_slice_eq_cstr(q->account_id, ev->account) || ev->time < q->start_ms ||
        ev->time > q->end_ms || (q->management_only && !ev->mgmt))
        return false;
    switch (q->attr) {
    case STORE_AUDIT_ANY:
        return true;
    case STORE_AUDIT_EVENT_ID:
        return moat_slice_eq_cstr(q->value, ev->id);
    case STORE_AUDIT_EVENT_NAME:
        return moat_slice_eq_cstr(q->value, ev->name);
    case STORE_AUDIT_READ_ONLY:
        return moat_slice_eq_cstr(q->value, ev->ro ? "true" : "false");
    case STORE_AUDIT_USERNAME:
        return moat_slice_eq_cstr(q->value, ev->user);
    case STORE_AUDIT_EVENT_SOURCE:
        return moat_slice_eq_cstr(q->value, ev->source);
    case STORE_AUDIT_ACCESS_KEY_ID:
        return moat_slice_eq_cstr(q->value, ev->akid);
    case STORE_AUDIT_RESOURCE_TYPE:
    case STORE_AUDIT_RESOURCE_NAME:
        for (size_t j = 0; j < ev->nres; j++)
            if (moat_slice_eq_cstr(q->value, q->attr == STORE_AUDIT_RESOURCE_TYPE ? ev->rtype[j]
                                                                                  : ev->rname[j]))
                return true;
        return false;
    }
    return false;
}

/* Reference answer: matching seqs, newest (time, seq) first. */
static size_t ref_lookup(const struct event *ev, size_t n, const struct store_audit_query *q,
                         int64_t *seqs)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (ref_match(&ev[i], q))
            seqs[m++] = (int64_t)i + 1;
    for (size_t i = 1; i < m; i++) /* insertion sort by (time desc, seq desc) */
        for (size_t j = i; j > 0; j--) {
            const struct event *x = &ev[seqs[j - 1] - 1], *y = &ev[seqs[j] - 1];
            if (x->time > y->time || (x->time == y->time && seqs[j - 1] > seqs[j]))
                break;
            int64_t t = seqs[j];
            seqs[j] = seqs[j - 1];
            seqs[j - 1] = t;
        }
    return m;
}

SUITE(audit_lookup)
{
    struct store_conn *c = must_connect(e->s, true);
    /* 60 events over two accounts; times repeat and sometimes go backwards in
     * seq order (test clock); resources repeat types and names within an event. */
    enum { N = 60 };
    static const char *const names[] = {"CreateKey", "Encrypt", "Decrypt", "PutParameter"};
    static const char *const sources[] = {"kms.amazonaws.com", "ssm.amazonaws.com"};
    static const char *const users[] = {"alice", "bob", ""};
    static const char *const akids[] = {"AKIAA", "ASIAB", ""};
    static const char *const types[] = {"AWS::KMS::Key", "AWS::SSM::Parameter"};
    static const char *const rnames[] = {"arn:k1", "arn:k2", "/p/1"};
    struct event ev[N];
    char ids[N][16];
    for (int i = 0; i < N; i++) {
        struct event *x = &ev[i];
        memset(x, 0, sizeof(*x));
        snprintf(ids[i], sizeof(ids[i]), "id-%02d", i);
        x->time = 5000 + (i / 3) * 10 - (i % 7 == 3 ? 25 : 0);
        x->account = i % 5 == 4 ? "999999999999" : "111122223333";
        x->id = ids[i];
        x->name = names[i % 4];
        x->source = sources[(i / 2) % 2];
        x->user = users[i % 3];
        x->akid = akids[(i + 1) % 3];
        x->ro = i % 4 == 1 || i % 4 == 2;
        x->mgmt = i % 6 != 1;
        x->nres = (size_t)(i % 4);
        for (size_t j = 0; j < x->nres; j++) {
            x->rtype[j] = types[(i + (int)j) % 2 == 0 ? 0 : (j == 2 ? 0 : 1)];
            x->rname[j] = rnames[(i + (int)j * 2) % 3];
        }
    }
    /* Append in batches of varying size. */
    for (size_t at = 0; at < N;) {
        size_t k = MOAT_MIN((size_t)N - at, 1 + at % 13);
        CHECK_EQ_INT(append_events(c, a, ev + at, k), STORE_OK);
        at += k;
    }

    struct store_audit_query q;
    int64_t ref[N];
    int mismatches = 0, queries = 0;
    static const char *const values[][4] = {
        [STORE_AUDIT_ANY] = {""},
        [STORE_AUDIT_EVENT_ID] = {"id-07", "id-59", "id-99"},
        [STORE_AUDIT_EVENT_NAME] = {"CreateKey", "Encrypt", "Nope"},
        [STORE_AUDIT_READ_ONLY] = {"true", "false", "maybe"},
        [STORE_AUDIT_USERNAME] = {"alice", "bob", "", "carol"},
        [STORE_AUDIT_RESOURCE_TYPE] = {"AWS::KMS::Key", "AWS::SSM::Parameter", "AWS::S3::Bucket"},
        [STORE_AUDIT_RESOURCE_NAME] = {"arn:k1", "/p/1", "arn:none"},
        [STORE_AUDIT_EVENT_SOURCE] = {"kms.amazonaws.com", "ssm.amazonaws.com", "x"},
        [STORE_AUDIT_ACCESS_KEY_ID] = {"AKIAA", "ASIAB", "AKIAZ"},
    };
    static const int64_t ranges[][2] = {{0, INT64_MAX}, {5050, 5120}, {5100, 5100}, {7000, 8000}};
    /* The index is derived data filled after commit: lookups are exact with none of the
     * records indexed, with part of them (the rest read directly) and with all. */
    for (int phase = 0; phase < 3; phase++) {
        if (phase > 0) {
            int64_t mark = -1;
            bool more = true;
            if (phase == 1) {
                CHECK_EQ_INT(store_audit_index(c, 23, &mark, &more), STORE_OK);
                CHECK_EQ_INT(mark, 23);
                CHECK(more);
            } else {
                for (int k = 0; more && k < 10; k++)
                    CHECK_EQ_INT(store_audit_index(c, 16, &mark, &more), STORE_OK);
                CHECK_EQ_INT(mark, N);
                CHECK(!more);
                CHECK_EQ_INT(store_audit_index(c, 16, &mark, &more), STORE_OK);
                CHECK_EQ_INT(mark, N);
            }
        }
        for (int attr = STORE_AUDIT_ANY; attr <= STORE_AUDIT_ACCESS_KEY_ID; attr++) {
            for (int vi = 0; vi < 4 && values[attr][vi]; vi++) {
                for (size_t ri = 0; ri < MOAT_COUNT(ranges); ri++) {
                    for (int acct = 0; acct < 2; acct++) {
                        for (int mo = 0; mo < 2; mo++) {
                            memset(&q, 0, sizeof(q));
                            q.account_id = moat_slice_cstr(acct ? "999999999999" : "111122223333");
                            q.attr = (enum store_audit_attr)attr;
                            q.value = moat_slice_cstr(values[attr][vi]);
                            q.start_ms = ranges[ri][0];
                            q.end_ms = ranges[ri][1];
                            q.management_only = mo;
                            size_t m = ref_lookup(ev, N, &q, ref);
                            /* Page through with before_seq, page size 1..7. */
                            q.limit = (size_t)(1 + (attr + vi + (int)ri) % 7);
                            size_t got = 0;
                            bool same = true;
                            for (int page = 0; page < 100; page++) {
                                struct store_audit_row *out;
                                size_t count;
                                queries++;
                                if (store_audit_lookup(c, a, &q, &out, &count) != STORE_OK) {
                                    same = false;
                                    break;
                                }
                                for (size_t i = 0; i < count && same; i++) {
                                    same = got < m && out[i].seq == ref[got] &&
                                           out[i].event_time_ms == ev[ref[got] - 1].time &&
                                           moat_slice_starts_with(out[i].record,
                                                                  S("{\"eventID\":\"id-"));
                                    got++;
                                }
                                if (!same || count < q.limit)
                                    break;
                                q.before_seq = out[count - 1].seq;
                            }
                            if (!same || got != m) {
                                if (mismatches < 5)
                                    fprintf(stderr,
                                            "  phase %d lookup attr %d value '%s' range %zu acct "
                                            "%d mo %d: got %zu of %zu\n",
                                            phase, attr, values[attr][vi], ri, acct, mo, got, m);
                                mismatches++;
                            }
                        }
                    }
                }
            }
        }
    }
    CHECK_EQ_INT(mismatches, 0);
    CHECK(queries > 1500);

    /* A one-shot query with a large limit equals the reference; limit 0 and
     * an inverted range return nothing. */
    memset(&q, 0, sizeof(q));
    q.account_id = S("111122223333");
    q.end_ms = INT64_MAX;
    q.limit = 1000;
    struct store_audit_row *out;
    size_t count;
    CHECK_EQ_INT(store_audit_lookup(c, a, &q, &out, &count), STORE_OK);
    CHECK_EQ_INT(count, ref_lookup(ev, N, &q, ref));
    CHECK(count > 0 && out[0].seq == ref[0] && out[count - 1].seq == ref[count - 1]);
    q.limit = 0;
    CHECK_EQ_INT(store_audit_lookup(c, a, &q, &out, &count), STORE_OK);
    CHECK_EQ_INT(count, 0);
    q.limit = 10;
    q.start_ms = 6000;
    q.end_ms = 5000;
    CHECK_EQ_INT(store_audit_lookup(c, a, &q, &out, &count), STORE_OK);
    CHECK_EQ_INT(count, 0);
    q.start_ms = 0;
    q.end_ms = INT64_MAX;
    q.attr = (enum store_audit_attr)42;
    CHECK_EQ_INT(store_audit_lookup(c, a, &q, &out, &count), STORE_ERROR);
    /* before_seq of a row that does not exist falls back to seq order. */
    q.attr = STORE_AUDIT_ANY;
    q.before_seq = 1000;
    CHECK_EQ_INT(store_audit_lookup(c, a, &q, &out, &count), STORE_OK);
    CHECK_EQ_INT(count, 10);
    q.before_seq = 3;
    CHECK_EQ_INT(store_audit_lookup(c, a, &q, &out, &count), STORE_OK);
    /* Row 3 has the earliest time among 1..3 only if times say so: use the reference. */
    size_t m = ref_lookup(ev, N, &q, ref), pos = 0;
    while (pos < m && ref[pos] != 3)
        pos++;
    CHECK_EQ_INT(count, MOAT_MIN(m - pos - 1, (size_t)10));
    store_disconnect(c);
}

SUITE(wipe)
{
    struct store_conn *c = must_connect(e->s, true);
    static const struct event ev[] = {
        {1, "1", "a", "n", "s", "u", "k", false, true, 1, {"T"}, {"N"}},
        {2, "1", "b", "n", "s", "u", "k", false, true, 0, {0}, {0}},
    };
    CHECK_EQ_INT(append_events(c, a, ev, 2), STORE_OK);
    CHECK_EQ_INT(store_put(c, "w", S("k"), S("v"), STORE_ANY_VERSION, NULL), STORE_OK);
    CHECK_EQ_INT(store_put(c, "w2", S("k"), S("v"), STORE_ANY_VERSION, NULL), STORE_OK);
    /* A failed wipe (fault on its second statement) leaves everything. */
    store_fault_inject(e->s, 2);
    CHECK_EQ_INT(store_wipe(c), STORE_ERROR);
    CHECK(!store_in_transaction(c));
    int64_t n = 0;
    CHECK_EQ_INT(store_count(c, "w", MOAT_NULL_SLICE, &n), STORE_OK);
    CHECK_EQ_INT(n, 1);
    struct store_audit_row *out;
    size_t count;
    CHECK_EQ_INT(store_audit_scan(c, a, 1, 10, &out, &count), STORE_OK);
    CHECK_EQ_INT(count, 2);

    CHECK_EQ_INT(store_wipe(c), STORE_OK);
    CHECK_EQ_INT(store_count(c, "w", MOAT_NULL_SLICE, &n), STORE_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(store_count(c, "w2", MOAT_NULL_SLICE, &n), STORE_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(store_audit_scan(c, a, 1, 10, &out, &count), STORE_OK);
    CHECK_EQ_INT(count, 0);
    int64_t seq = -1;
    uint8_t hash[32], zero[32] = {0};
    CHECK_EQ_INT(store_audit_head(c, &seq, hash), STORE_OK);
    CHECK_EQ_INT(seq, 0);
    CHECK(memcmp(hash, zero, 32) == 0);
    struct store_audit_query q = {.account_id = S("1"),
                                  .end_ms = INT64_MAX,
                                  .limit = 10,
                                  .attr = STORE_AUDIT_RESOURCE_NAME,
                                  .value = S("N")};
    CHECK_EQ_INT(store_audit_lookup(c, a, &q, &out, &count), STORE_OK);
    CHECK_EQ_INT(count, 0);
    /* The chain starts again at 1. */
    CHECK_EQ_INT(append_events(c, a, ev, 1), STORE_OK);
    CHECK_EQ_INT(store_audit_head(c, &seq, hash), STORE_OK);
    CHECK_EQ_INT(seq, 1);
    /* Wipe inside a caller's transaction follows that transaction. */
    CHECK_EQ_INT(store_begin(c, true), STORE_OK);
    CHECK_EQ_INT(store_wipe(c), STORE_OK);
    CHECK_EQ_INT(store_rollback(c), STORE_OK);
    CHECK_EQ_INT(store_audit_head(c, &seq, hash), STORE_OK);
    CHECK_EQ_INT(seq, 1);
    store_disconnect(c);
}

/* ---- fault injection --------------------------------------------------------------- */

/* Everything the store holds, as one byte string, to compare states. */
static struct moat_slice dump(struct moat_arena *a, struct store_conn *c)
{
    struct moat_buf b;
    moat_buf_init(&b, a, 1024);
    static const char *const nss[] = {"f1", "f2"};
    for (size_t i = 0; i < MOAT_COUNT(nss); i++) {
        struct store_record *out;
        size_t count;
        bool more;
        if (store_scan(c, a, nss[i], MOAT_NULL_SLICE, MOAT_NULL_SLICE, 1000, &out, &count, &more) !=
            STORE_OK)
            return MOAT_NULL_SLICE;
        for (size_t j = 0; j < count; j++) {
            moat_buf_printf(&b, "%s|%.*s|%.*s|%lld\n", nss[i], MOAT_FMT(out[j].key),
                            MOAT_FMT(out[j].value), (long long)out[j].version);
        }
    }
    struct store_audit_row *rows;
    size_t count;
    if (store_audit_scan(c, a, 0, 1000, &rows, &count) != STORE_OK)
        return MOAT_NULL_SLICE;
    for (size_t j = 0; j < count; j++)
        moat_buf_printf(&b, "audit %lld %zu %.*s\n", (long long)rows[j].seq, rows[j].resource_count,
                        MOAT_FMT(rows[j].record));
    int64_t seq;
    uint8_t hash[32];
    if (store_audit_head(c, &seq, hash) != STORE_OK)
        return MOAT_NULL_SLICE;
    moat_buf_printf(&b, "head %lld ", (long long)seq);
    moat_buf_append_hex(&b, hash, 32);
    struct store_audit_query q = {.account_id = S("1"),
                                  .end_ms = INT64_MAX,
                                  .limit = 100,
                                  .attr = STORE_AUDIT_RESOURCE_TYPE,
                                  .value = S("T")};
    if (store_audit_lookup(c, a, &q, &rows, &count) != STORE_OK)
        return MOAT_NULL_SLICE;
    moat_buf_printf(&b, " lookup %zu", count);
    return moat_buf_slice(&b);
}

/* One request-sized transaction: puts, an update, a delete, an audit batch. */
static enum store_status faulty_txn(struct store_conn *c, struct moat_arena *a)
{
    static const struct event ev[] = {
        {10, "1", "x1", "n", "s", "u", "k", false, true, 3, {"T", "T", "U"}, {"a", "b", "a"}},
        {11, "1", "x2", "n", "s", "u", "k", false, true, 0, {0}, {0}},
        {12, "1", "x3", "n", "s", "u", "k", true, false, 2, {"T", "V"}, {"c", "d"}},
    };
    enum store_status st = store_begin(c, true);
    if (st != STORE_OK)
        return st;
    const char *keys[] = {"n1", "n2", "n3", "n4"};
    for (size_t i = 0; i < MOAT_COUNT(keys) && st == STORE_OK; i++)
        st = store_put(c, "f1", moat_slice_cstr(keys[i]), S("new"), STORE_MUST_NOT_EXIST, NULL);
    if (st == STORE_OK)
        st = store_put(c, "f2", S("base1"), S("changed"), 1, NULL);
    if (st == STORE_OK)
        st = store_delete(c, "f2", S("base2"), STORE_ANY_VERSION);
    int64_t seq = 0;
    uint8_t hash[32];
    if (st == STORE_OK)
        st = store_audit_head(c, &seq, hash);
    if (st == STORE_OK)
        st = store_audit_append(c, make_rows(a, ev, 3, seq, hash), 3);
    if (st == STORE_OK)
        st = store_put(c, "f1", S("last"), S("new"), STORE_MUST_NOT_EXIST, NULL);
    if (st != STORE_OK) {
        /* The commit of a failed transaction must fail and leave nothing. */
        enum store_status cst = store_commit(c);
        return cst == STORE_ERROR ? st : STORE_OK;
    }
    return store_commit(c);
}

SUITE(fault_injection)
{
    struct store_conn *c = must_connect(e->s, true);
    static const struct event base_ev[] = {
        {1, "1", "b1", "n", "s", "u", "k", false, true, 1, {"T"}, {"z"}},
    };
    CHECK_EQ_INT(store_put(c, "f2", S("base1"), S("orig"), STORE_MUST_NOT_EXIST, NULL), STORE_OK);
    CHECK_EQ_INT(store_put(c, "f2", S("base2"), S("orig"), STORE_MUST_NOT_EXIST, NULL), STORE_OK);
    CHECK_EQ_INT(append_events(c, a, base_ev, 1), STORE_OK);
    struct moat_slice before = moat_arena_dup(a, dump(a, c));
    CHECK(before.len > 0);

    /* Fail the 1st, 2nd, ... write statement until the transaction gets through. */
    int n, failures = 0, wrong = 0;
    for (n = 1; n < 100; n++) {
        store_fault_inject(e->s, n);
        enum store_status st = faulty_txn(c, a);
        if (st == STORE_OK)
            break;
        failures++;
        if (st != STORE_ERROR || store_in_transaction(c))
            wrong++;
        struct moat_slice now = dump(a, c);
        if (!moat_slice_eq(now, before)) {
            if (wrong < 3)
                fprintf(stderr, "  after fault %d the store changed:\n%.*s\n---\n%.*s\n", n,
                        MOAT_FMT(now), MOAT_FMT(before));
            wrong++;
        }
    }
    store_fault_inject(e->s, 0);
    CHECK_EQ_INT(wrong, 0);
    /* Every write statement of the transaction was made to fail once: at least
     * the 7 record writes and the head move plus one audit insert. */
    CHECK(failures >= 9);
    CHECK(n < 100);
    /* The run without a fault committed all of it. */
    struct store_record r;
    CHECK_EQ_INT(store_get(c, a, "f1", S("last"), &r), STORE_OK);
    CHECK_EQ_INT(store_get(c, a, "f2", S("base2"), &r), STORE_NOT_FOUND);
    int64_t seq;
    uint8_t hash[32];
    CHECK_EQ_INT(store_audit_head(c, &seq, hash), STORE_OK);
    CHECK_EQ_INT(seq, 4);
    struct moat_slice after = dump(a, c);
    CHECK(!moat_slice_eq(after, before));

    /* Autocommit writes fail alone; the fault fires once, then is disarmed. */
    store_fault_inject(e->s, 2);
    CHECK_EQ_INT(store_put(c, "f1", S("auto1"), S("v"), STORE_ANY_VERSION, NULL), STORE_OK);
    CHECK_EQ_INT(store_put(c, "f1", S("auto2"), S("v"), STORE_ANY_VERSION, NULL), STORE_ERROR);
    CHECK_EQ_INT(store_put(c, "f1", S("auto3"), S("v"), STORE_ANY_VERSION, NULL), STORE_OK);
    CHECK_EQ_INT(store_get(c, a, "f1", S("auto2"), &r), STORE_NOT_FOUND);
    /* Reads are not write statements. */
    store_fault_inject(e->s, 1);
    CHECK_EQ_INT(store_get(c, a, "f1", S("auto1"), &r), STORE_OK);
    int64_t cnt;
    CHECK_EQ_INT(store_count(c, "f1", MOAT_NULL_SLICE, &cnt), STORE_OK);
    CHECK_EQ_INT(store_delete(c, "f1", S("auto1"), STORE_ANY_VERSION), STORE_ERROR);
    CHECK_EQ_INT(store_delete(c, "f1", S("auto1"), STORE_ANY_VERSION), STORE_OK);
    /* Faults are counted across connections. */
    struct store_conn *c2 = must_connect(e->s, false);
    store_fault_inject(e->s, 2);
    CHECK_EQ_INT(store_put(c, "f1", S("x"), S("v"), STORE_ANY_VERSION, NULL), STORE_OK);
    CHECK_EQ_INT(store_put(c2, "f1", S("y"), S("v"), STORE_ANY_VERSION, NULL), STORE_ERROR);
    store_disconnect(c2);

    /* The log says what failed but never carries record values. */
    store_fault_inject(e->s, 1);
    CHECK_EQ_INT(store_put(c, "f1", S("secret"), S("VALUE-7f3a9c-SHOULD-NOT-BE-LOGGED"),
                           STORE_ANY_VERSION, NULL),
                 STORE_ERROR);
    struct moat_slice log = moat_test_read_file(a, log_path);
    CHECK(moat_slice_index(log, '{') >= 0);
    CHECK(strstr((const char *)log.ptr, "injected fault") != NULL);
    CHECK(strstr((const char *)log.ptr, "VALUE-7f3a9c") == NULL);
    store_disconnect(c);
}

/* ---- concurrency -------------------------------------------------------------- */

struct conc {
    struct store *s;
    atomic_bool done;
    atomic_int writer_errors, reader_errors, inconsistent;
    atomic_long commits, reads;
    int iterations;
};

enum { CONC_KEYS = 10 };

static void conc_value(uint8_t out[8], int64_t i)
{
    for (int j = 0; j < 8; j++)
        out[j] = (uint8_t)(i >> (56 - 8 * j));
}

static int64_t conc_parse(struct moat_slice v)
{
    if (v.len != 8)
        return -1;
    int64_t x = 0;
    for (size_t j = 0; j < 8; j++)
        x = x << 8 | v.ptr[j];
    return x;
}

static void *conc_writer(void *arg)
{
    struct conc *k = arg;
    struct store_conn *c = store_connect(k->s, true);
    struct moat_arena *a = moat_arena_new(4096);
    if (!c) {
        k->writer_errors++;
        k->done = true;
        return NULL;
    }
    static const struct event ev = {1, "1", "c", "n", "s", "u", "k", false, true, 0, {0}, {0}};
    for (int i = 1; i <= k->iterations; i++) {
        uint8_t v[8];
        conc_value(v, i);
        bool ok = store_begin(c, true) == STORE_OK;
        for (int j = 0; j < CONC_KEYS && ok; j++) {
            char key[16];
            snprintf(key, sizeof(key), "k%d", j);
            ok = store_put(c, "conc", moat_slice_cstr(key), moat_slice(v, 8), STORE_ANY_VERSION,
                           NULL) == STORE_OK;
        }
        int64_t seq;
        uint8_t hash[32];
        ok = ok && store_audit_head(c, &seq, hash) == STORE_OK && seq == i - 1;
        ok = ok && store_audit_append(c, make_rows(a, &ev, 1, seq, hash), 1) == STORE_OK;
        ok = ok && store_commit(c) == STORE_OK;
        if (!ok) {
            k->writer_errors++;
            if (store_in_transaction(c))
                (void)store_rollback(c);
        } else {
            k->commits++;
        }
        moat_arena_reset(a);
    }
    k->done = true;
    moat_arena_free(a);
    store_disconnect(c);
    return NULL;
}

static void *conc_reader(void *arg)
{
    struct conc *k = arg;
    struct store_conn *c = store_connect(k->s, false);
    struct moat_arena *a = moat_arena_new(4096);
    if (!c) {
        k->reader_errors++;
        return NULL;
    }
    int64_t last = 0;
    for (int round = 0; !k->done || round < 3; round++) {
        bool txn = round % 3 != 2; /* every third round reads outside a transaction */
        if (txn && store_begin(c, false) != STORE_OK) {
            k->reader_errors++;
            continue;
        }
        struct store_record *out;
        size_t count;
        bool more;
        if (store_scan(c, a, "conc", S("k"), MOAT_NULL_SLICE, 100, &out, &count, &more) !=
            STORE_OK) {
            k->reader_errors++;
        } else {
            int64_t v = count ? conc_parse(out[0].value) : -1;
            bool ok = count == CONC_KEYS && !more && v >= last;
            for (size_t i = 1; i < count && ok; i++)
                ok = conc_parse(out[i].value) == v;
            if (ok && txn) {
                /* Within the snapshot, a point read and the audit head agree. */
                struct store_record r;
                int64_t seq;
                uint8_t hash[32];
                ok = store_get(c, a, "conc", S("k7"), &r) == STORE_OK && conc_parse(r.value) == v &&
                     store_audit_head(c, &seq, hash) == STORE_OK && seq == v;
            }
            if (!ok)
                k->inconsistent++;
            last = v;
            k->reads++;
        }
        if (txn && store_commit(c) != STORE_OK)
            k->reader_errors++;
        moat_arena_reset(a);
    }
    moat_arena_free(a);
    store_disconnect(c);
    return NULL;
}

SUITE(concurrency)
{
    struct store_conn *c = must_connect(e->s, true);
    uint8_t v[8];
    conc_value(v, 0);
    for (int j = 0; j < CONC_KEYS; j++) {
        char key[16];
        snprintf(key, sizeof(key), "k%d", j);
        CHECK_EQ_INT(
            store_put(c, "conc", moat_slice_cstr(key), moat_slice(v, 8), STORE_ANY_VERSION, NULL),
            STORE_OK);
    }
    store_disconnect(c);
    struct conc k = {.s = e->s, .iterations = 300};
    pthread_t w, r1, r2;
    pthread_create(&r1, NULL, conc_reader, &k);
    pthread_create(&r2, NULL, conc_reader, &k);
    pthread_create(&w, NULL, conc_writer, &k);
    pthread_join(w, NULL);
    pthread_join(r1, NULL);
    pthread_join(r2, NULL);
    CHECK_EQ_INT(k.writer_errors, 0);
    CHECK_EQ_INT(k.reader_errors, 0);
    CHECK_EQ_INT(k.inconsistent, 0);
    CHECK_EQ_INT(k.commits, k.iterations);
    CHECK(k.reads > 6);
    printf("  concurrency on %s: %ld commits, %ld consistent reads\n", e->backend, (long)k.commits,
           (long)k.reads);
}

/* Two nodes (two stores on one database) append to the audit chain at once:
 * the head lock makes them take turns, so neither sees a conflict. */
struct node {
    const char *url;
    int appended, errors;
};

static void *node_thread(void *arg)
{
    struct node *nd = arg;
    char err[256];
    struct store *s = store_open(nd->url, err, sizeof(err));
    struct store_conn *c = s ? store_connect(s, true) : NULL;
    struct moat_arena *a = moat_arena_new(4096);
    static const struct event ev = {1, "1", "n", "n", "s", "u", "k", false, true, 0, {0}, {0}};
    for (int i = 0; c && i < 100; i++) {
        int64_t seq;
        uint8_t hash[32];
        bool ok = store_begin(c, true) == STORE_OK && store_audit_head(c, &seq, hash) == STORE_OK;
        /* Hold the head a moment so that the other node surely queues behind it. */
        if (ok && i % 10 == 0)
            usleep(2000);
        ok = ok && store_audit_append(c, make_rows(a, &ev, 1, seq, hash), 1) == STORE_OK;
        ok = ok && store_commit(c) == STORE_OK;
        if (ok) {
            nd->appended++;
        } else {
            nd->errors++;
            if (store_in_transaction(c))
                (void)store_rollback(c);
        }
        moat_arena_reset(a);
    }
    if (!c)
        nd->errors++;
    moat_arena_free(a);
    store_disconnect(c);
    store_close(s);
    return NULL;
}

SUITE(two_nodes_one_chain)
{
    struct node n1 = {.url = e->url}, n2 = {.url = e->url};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, node_thread, &n1);
    pthread_create(&t2, NULL, node_thread, &n2);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    CHECK_EQ_INT(n1.errors + n2.errors, 0);
    CHECK_EQ_INT(n1.appended + n2.appended, 200);
    /* One gapless chain. */
    struct store_conn *c = must_connect(e->s, false);
    struct store_audit_row *rows;
    size_t count;
    CHECK_EQ_INT(store_audit_scan(c, a, 1, 1000, &rows, &count), STORE_OK);
    CHECK_EQ_INT(count, 200);
    bool linked = count == 200;
    for (size_t i = 0; i < count && linked; i++)
        linked = rows[i].seq == (int64_t)i + 1 &&
                 (i == 0 || memcmp(rows[i].prev_hash, rows[i - 1].hash, 32) == 0);
    CHECK(linked);
    store_disconnect(c);
}

/* Several processes' worth of store_open at once on one database. */
struct opener {
    const char *url;
    bool ok;
};

static void *open_thread(void *arg)
{
    struct opener *o = arg;
    char err[256];
    struct store *s = store_open(o->url, err, sizeof(err));
    o->ok = s != NULL;
    if (!s)
        fprintf(stderr, "  concurrent store_open: %s\n", err);
    if (s) {
        struct store_conn *c = store_connect(s, true);
        o->ok = c && store_put(c, "o", S("k"), S("v"), STORE_ANY_VERSION, NULL) == STORE_OK;
        store_disconnect(c);
    }
    store_close(s);
    return NULL;
}

static void open_race(const char *url)
{
    struct opener o[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        o[i] = (struct opener){.url = url};
        pthread_create(&t[i], NULL, open_thread, &o[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(o[i].ok);
    }
}

static bool pg_admin(const char *url, const char *sql)
{
    PGconn *pg = PQconnectdb(url);
    PGresult *res = PQexec(pg, sql);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "  %s: %s", sql, PQerrorMessage(pg));
    PQclear(res);
    PQfinish(pg);
    return ok;
}

SUITE(schema_race)
{
    if (!e->dir[0]) {
        /* A fresh database on the same server, created by four openers at once. */
        char db[64], url[1100];
        snprintf(db, sizeof(db), "moat_race_%d", (int)getpid());
        const char *slash = strrchr(e->url, '/');
        const char *query = strchr(slash, '?');
        snprintf(url, sizeof(url), "%.*s/%s%s", (int)(slash - e->url), e->url, db,
                 query ? query : "");
        char *sql = moat_arena_printf(a, "CREATE DATABASE %s", db);
        if (!pg_admin(e->url, sql)) {
            CHECK(false);
            return;
        }
        open_race(url);
        pg_admin(e->url, moat_arena_printf(a, "DROP DATABASE %s", db));
        return;
    }
    open_race(moat_arena_printf(a, "%s/race.db", e->dir));
}

/* ---- durability ----------------------------------------------------------- */

SUITE(durability)
{
    /* A child process commits and reports; then it is killed without any
     * cleanup. A fresh store_open in this process must see the commit. */
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        char err[256];
        struct store *s = store_open(e->url, err, sizeof(err));
        struct store_conn *c = s ? store_connect(s, true) : NULL;
        struct moat_arena *ca = moat_arena_new(4096);
        static const struct event ev = {7, "1", "d", "n", "s", "u", "k", false, true, 0, {0}, {0}};
        char ok =
            c && store_begin(c, true) == STORE_OK &&
            store_put(c, "dur", S("k"), S("survives"), STORE_MUST_NOT_EXIST, NULL) == STORE_OK &&
            store_audit_append(c, make_rows(ca, &ev, 1, 0, (uint8_t[32]){0}), 1) == STORE_OK &&
            store_commit(c) == STORE_OK;
        /* Begun but never committed: must not survive. */
        if (ok && store_begin(c, true) == STORE_OK)
            (void)store_put(c, "dur", S("uncommitted"), S("x"), STORE_ANY_VERSION, NULL);
        if (write(fds[1], &ok, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(fds[1]);
    char ok = 0;
    CHECK(read(fds[0], &ok, 1) == 1);
    CHECK(ok == 1);
    close(fds[0]);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    char err[256];
    struct store *s = store_open(e->url, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    struct store_conn *c = must_connect(s, false);
    struct store_record r;
    CHECK_EQ_INT(store_get(c, a, "dur", S("k"), &r), STORE_OK);
    CHECK_SLICE(r.value, "survives");
    CHECK_EQ_INT(store_get(c, a, "dur", S("uncommitted"), &r), STORE_NOT_FOUND);
    int64_t seq;
    uint8_t hash[32];
    CHECK_EQ_INT(store_audit_head(c, &seq, hash), STORE_OK);
    CHECK_EQ_INT(seq, 1);
    store_disconnect(c);
    store_close(s);
}

/* ---- SQLite specifics ---------------------------------------------------------- */

SUITE(sqlite_files_and_plans)
{
    if (!e->dir[0])
        return;
    struct store_conn *c = must_connect(e->s, true);
    CHECK_EQ_INT(store_put(c, "m", S("k"), S("v"), STORE_ANY_VERSION, NULL), STORE_OK);
    /* The database and its WAL are private to the owner. */
    const char *files[] = {"moat.db", "moat.db-wal", "moat.db-shm"};
    for (size_t i = 0; i < MOAT_COUNT(files); i++) {
        struct stat st;
        char *path = moat_arena_printf(a, "%s/%s", e->dir, files[i]);
        CHECK(stat(path, &st) == 0);
        CHECK_EQ_INT(st.st_mode & 0777, 0600);
    }
    /* Prefix scans and lookups are index range searches, with no sort step. */
    const char *scan = store_sqlite_plan(c, a, "scan");
    CHECK(scan && strstr(scan, "SEARCH records USING PRIMARY KEY (ns=? AND key>? AND key<?)"));
    const char *count = store_sqlite_plan(c, a, "count");
    CHECK(count && strstr(count, "key>? AND key<?"));
    /* Every filter is one range search of the index table, in result order,
     * then a lookup of each record by its seq. */
    const char *plan = store_sqlite_plan(c, a, "lookup");
    CHECK(plan != NULL);
    if (plan) {
        bool indexed = strstr(plan, "SEARCH i USING PRIMARY KEY (account_id=? AND attr=? AND "
                                    "value=? AND event_time_ms>? AND event_time_ms<?)") != NULL;
        bool by_seq = strstr(plan, "SEARCH a USING INTEGER PRIMARY KEY (rowid=?)") != NULL;
        bool sorted = strstr(plan, "TEMP B-TREE") != NULL;
        if (!indexed || !by_seq || sorted || strstr(plan, "SCAN "))
            fprintf(stderr, "  lookup plan:\n%s", plan);
        CHECK(indexed);
        CHECK(by_seq);
        CHECK(!sorted);
        CHECK(strstr(plan, "SCAN ") == NULL);
    }
    CHECK(store_sqlite_plan(c, a, "nonsense") == NULL);
    store_disconnect(c);

    /* A file that is not a database is refused with a reason. */
    char *junk = moat_arena_printf(a, "%s/junk.db", e->dir);
    FILE *f = fopen(junk, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("this is not an SQLite database, and it is long enough to have a header......", f);
        fclose(f);
    }
    char err[256] = "";
    CHECK(store_open(junk, err, sizeof(err)) == NULL);
    CHECK(err[0] != 0);
}

MOAT_TEST_MAIN(MOAT_CASE(open_urls), MOAT_CASE(records_versions), MOAT_CASE(records_binary),
               MOAT_CASE(scan_bytewise), MOAT_CASE(transactions), MOAT_CASE(snapshot),
               MOAT_CASE(savepoints), MOAT_CASE(audit_chain), MOAT_CASE(audit_lookup),
               MOAT_CASE(wipe), MOAT_CASE(fault_injection), MOAT_CASE(concurrency),
               MOAT_CASE(two_nodes_one_chain), MOAT_CASE(schema_race), MOAT_CASE(durability),
               MOAT_CASE(sqlite_files_and_plans))

/* orgs_source.c: the organization source of authorization: an account's organization id
 * and OU path (aws:PrincipalOrgID, aws:PrincipalOrgPaths) and the service control
 * policies on its path (root, each OU, the account), compiled and kept per thread. SCPs
 * do not apply to the management account or to accounts outside an organization. */
#include "auth/auth.h"
#include "core/clock.h"
#include "core/thread.h"
#include "server/authorize.h"
#include "services/iam/iam.h"
#include "services/organizations/orgs.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define ORGS_MAX_LEVELS 8 /* root, five levels of OUs, the account */

struct org_bundle {
    _Atomic int refs;
    struct moat_arena *arena; /* owns the bundle */
    char account[16];
    uint64_t generation;
    int64_t loaded_ms;
    struct iam_policy_set *levels;
    size_t level_count;
    struct moat_slice org_id;
    struct moat_slice *paths;
    size_t path_count;
};

static void bundle_unref(void *arg)
{
    struct org_bundle *b = arg;
    if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
        moat_arena_free(b->arena);
}

#define BUNDLE_SLOTS 64
#define BUNDLE_TTL_MS 2000

static __thread struct org_bundle **bundles;

static void bundles_free(void *unused)
{
    if (!bundles)
        return;
    for (size_t i = 0; i < BUNDLE_SLOTS; i++)
        bundle_unref(bundles[i]);
    free(bundles);
    bundles = NULL;
}

/* The SCPs attached to one target, compiled into the bundle's arena. */
static struct moat_error *level(struct moat_call *bc, struct moat_slice target,
                                struct iam_policy_set *out)
{
    struct moat_arena *a = bc->arena;
    struct moat_slice prefix = moat_slice_cstr(moat_arena_printf(a, "%.*s|", MOAT_FMT(target)));
    struct store_record *recs;
    size_t n;
    bool more;
    if (store_scan(bc->db, a, ORGS_NS_ATTACH, prefix, MOAT_NULL_SLICE, 64, &recs, &n, &more) !=
        STORE_OK)
        return moat_internal(bc, "store scan failed");
    const struct iam_policy **set = moat_arena_alloc(a, (n ? n : 1) * sizeof(*set));
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        struct moat_value *att;
        bool found;
        struct moat_error *err = orgs_get(bc, ORGS_NS_ATTACH, recs[i].key, &att, NULL, &found);
        if (err)
            return err;
        if (!found || !moat_slice_eq_cstr(moat_map_str(att, "Type"), ORGS_SCP))
            continue;
        struct moat_slice content =
            orgs_policy_content(bc, moat_slice_sub(recs[i].key, prefix.len, recs[i].key.len));
        const struct iam_policy *p =
            content.len ? iam_compile_cached(a, IAM_POLICY_SCP, content) : NULL;
        if (p)
            set[count++] = p;
    }
    out->policies = set;
    out->count = count;
    return NULL;
}

static struct moat_error *build(struct moat_call *call, struct moat_slice account,
                                struct org_bundle *b)
{
    struct moat_call bcall = *call;
    bcall.arena = b->arena;
    struct moat_call *bc = &bcall;
    struct moat_value *member, *org;
    bool found;
    struct moat_error *err = orgs_get(bc, ORGS_NS_MEMBER, account, &member, NULL, &found);
    if (err || !found)
        return err;
    struct moat_slice org_id = moat_map_str(member, "OrgId");
    if ((err = orgs_get(bc, ORGS_NS_ORG, org_id, &org, NULL, &found)) || !found)
        return err;
    /* The path from the root down to the account's parent. */
    struct moat_slice chain[ORGS_MAX_LEVELS];
    size_t depth = 0;
    struct moat_slice p = moat_map_str(member, "ParentId");
    while (depth < ORGS_MAX_LEVELS - 1) {
        chain[depth++] = p;
        if (orgs_kind_of(p) != ORGS_OU)
            break;
        struct moat_value *ou;
        if ((err = orgs_get(bc, ORGS_NS_OU, p, &ou, NULL, &found)))
            return err;
        if (!found)
            break;
        p = moat_map_str(ou, "ParentId");
    }
    struct moat_buf path;
    moat_buf_init(&path, b->arena, 128);
    moat_buf_printf(&path, "%.*s/", MOAT_FMT(org_id));
    for (size_t i = depth; i > 0; i--)
        moat_buf_printf(&path, "%.*s/", MOAT_FMT(chain[i - 1]));
    b->org_id = org_id;
    b->paths = moat_arena_alloc(b->arena, sizeof(*b->paths));
    b->paths[0] = moat_buf_slice(&path);
    b->path_count = 1;

    /* SCPs: when the type is enabled, for member accounts only. */
    struct orgs_org o = {.rec = org};
    if (moat_slice_eq(moat_map_str(org, "MasterAccountId"), account) ||
        !orgs_type_enabled(&o, ORGS_SCP))
        return NULL;
    b->levels = moat_arena_alloc(b->arena, (depth + 1) * sizeof(*b->levels));
    for (size_t i = depth; i > 0; i--)
        if ((err = level(bc, chain[i - 1], &b->levels[b->level_count++])))
            return err;
    return level(bc, account, &b->levels[b->level_count++]);
}

/* The account's bundle, from this thread's cache or built; the call holds a reference. */
static struct moat_error *bundle_get(struct moat_call *call, struct moat_slice account,
                                     struct org_bundle **out)
{
    *out = NULL;
    if (account.len >= sizeof(((struct org_bundle *)0)->account))
        return NULL;
    if (!bundles) {
        bundles = moat_xcalloc(BUNDLE_SLOTS, sizeof(*bundles));
        moat_thread_on_exit(bundles_free, NULL);
    }
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < account.len; i++)
        h = (h ^ account.ptr[i]) * 1099511628211ull;
    struct org_bundle **slot = &bundles[h % BUNDLE_SLOTS];
    uint64_t gen = auth_state_generation();
    int64_t mono = moat_clock_monotonic_ms();
    struct org_bundle *b = *slot;
    if (!(b && b->generation == gen && mono - b->loaded_ms < BUNDLE_TTL_MS &&
          strlen(b->account) == account.len && memcmp(b->account, account.ptr, account.len) == 0)) {
        bool settled = auth_state_settled();
        struct moat_arena *a = moat_arena_new(4096);
        b = moat_arena_calloc(a, sizeof(*b));
        b->arena = a;
        atomic_init(&b->refs, 1);
        b->generation = gen;
        b->loaded_ms = mono;
        memcpy(b->account, account.ptr, account.len);
        if (build(call, account, b)) {
            moat_arena_free(a);
            return moat_internal(call, "loading the account's organization failed");
        }
        /* Cached only if nothing changed while it was read (auth.h). */
        if (settled && auth_state_generation() == gen) {
            bundle_unref(*slot);
            atomic_fetch_add(&b->refs, 1);
            *slot = b;
        }
    } else {
        atomic_fetch_add(&b->refs, 1);
    }
    moat_arena_on_free(call->arena, bundle_unref, b);
    *out = b;
    return NULL;
}

static struct moat_error *org_source(struct moat_call *call, struct moat_slice account,
                                     struct iam_principal *principal,
                                     const struct iam_policy_set **levels, size_t *level_count)
{
    *levels = NULL;
    *level_count = 0;
    struct org_bundle *b;
    struct moat_error *err = bundle_get(call, account, &b);
    if (err || !b)
        return err;
    *levels = b->levels;
    *level_count = b->level_count;
    if (principal && moat_slice_eq(principal->account_id, account)) {
        principal->org_id = b->org_id;
        principal->org_paths = b->paths;
        principal->org_path_count = b->path_count;
    }
    return NULL;
}

static struct moat_error *org_info(struct moat_call *call, struct moat_slice account,
                                   struct moat_slice *org_id, struct moat_slice *org_path)
{
    struct org_bundle *b;
    struct moat_error *err = bundle_get(call, account, &b);
    if (err || !b)
        return err;
    *org_id = b->org_id;
    *org_path = b->path_count ? b->paths[0] : MOAT_NULL_SLICE;
    return NULL;
}

void orgs_source_init(void)
{
    authorize_set_org_source(org_source);
    authorize_set_org_info_source(org_info);
}

/* iam_source.c: the principal source of authorization: the policies that apply to
 * a user, role session or federated user (identity, boundary, session), compiled
 * once through a shared cache and kept per thread in refcounted bundles. */
#include "auth/auth.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/thread.h"
#include "crypto/digest.h"
#include "server/authorize.h"
#include "server/server.h"
#include "services/iam/iam.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---- compiled policies, shared by every thread ----------------------------------- */

#define POLICY_CACHE_SLOTS 2048
#define POLICY_CACHE_PROBE 8

struct policy_slot {
    uint8_t hash[32];
    struct iam_policy *policy; /* one reference held by the cache */
};

static struct policy_slot policy_cache[POLICY_CACHE_SLOTS];
static pthread_mutex_t policy_cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* A new reference to the compiled `text`, or NULL if it does not compile. */
static struct iam_policy *policy_get(enum iam_policy_kind kind, struct moat_slice text,
                                     size_t limit)
{
    uint8_t k = (uint8_t)kind;
    struct moat_slice parts[2] = {moat_slice(&k, 1), text};
    uint8_t hash[32];
    crypto_sha256(parts, 2, hash);
    size_t home = ((size_t)hash[0] | (size_t)hash[1] << 8) % POLICY_CACHE_SLOTS;
    pthread_mutex_lock(&policy_cache_lock);
    for (size_t i = 0; i < POLICY_CACHE_PROBE; i++) {
        struct policy_slot *s = &policy_cache[(home + i) % POLICY_CACHE_SLOTS];
        if (s->policy && memcmp(s->hash, hash, 32) == 0) {
            struct iam_policy *p = iam_policy_ref(s->policy);
            pthread_mutex_unlock(&policy_cache_lock);
            return p;
        }
    }
    pthread_mutex_unlock(&policy_cache_lock);

    struct iam_policy *p;
    struct iam_policy_diag diag;
    if (iam_policy_compile(kind, text, limit, &p, &diag) != IAM_POLICY_OK) {
        moat_log_error("a stored policy document does not compile: %s", diag.message);
        return NULL;
    }
    pthread_mutex_lock(&policy_cache_lock);
    struct policy_slot *victim = &policy_cache[home];
    for (size_t i = 0; i < POLICY_CACHE_PROBE; i++) {
        struct policy_slot *s = &policy_cache[(home + i) % POLICY_CACHE_SLOTS];
        if (!s->policy) {
            victim = s;
            break;
        }
    }
    iam_policy_unref(victim->policy);
    memcpy(victim->hash, hash, 32);
    victim->policy = iam_policy_ref(p);
    pthread_mutex_unlock(&policy_cache_lock);
    return p;
}

static void unref_policy(void *p)
{
    iam_policy_unref(p);
}

static const struct iam_policy *compile_in(struct moat_arena *a, enum iam_policy_kind kind,
                                           struct moat_slice text, size_t limit)
{
    struct iam_policy *p = policy_get(kind, text, limit);
    if (p)
        moat_arena_on_free(a, unref_policy, p);
    return p;
}

const struct iam_policy *iam_compile_cached(struct moat_arena *a, enum iam_policy_kind kind,
                                            struct moat_slice text)
{
    /* Stored documents passed validation when written; the limit only guards. */
    return compile_in(a, kind, text, 64 * 1024);
}

/* ---- the policies of an entity ------------------------------------------------------ */

struct collect {
    struct iam_source_policy *items;
    size_t count, cap;
};

static void collect_add(struct moat_arena *a, struct collect *c, const struct iam_policy *p,
                        const char *id, const char *type)
{
    if (!p)
        return;
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        struct iam_source_policy *n = moat_arena_alloc(a, cap * sizeof(*n));
        if (c->count)
            memcpy(n, c->items, c->count * sizeof(*n));
        c->items = n;
        c->cap = cap;
    }
    c->items[c->count++] = (struct iam_source_policy){p, id, type};
}

/* Compiles a managed policy's default version (customer or AWS managed). */
static struct moat_error *add_managed(struct moat_call *call, struct moat_slice account,
                                      struct moat_slice arn, struct collect *c)
{
    struct iam_managed m;
    bool found;
    struct moat_error *err = iam_managed_find(call, account, arn, &m, &found);
    if (err && err->kind == &iam_invalid_input)
        return NULL; /* a session policy ARN that names no policy grants nothing */
    if (err)
        return err;
    if (!found)
        return NULL; /* detached by a racing delete, or never existed: nothing to grant */
    const struct iam_policy *p =
        iam_compile_cached(call->arena, IAM_POLICY_IDENTITY, iam_managed_document(&m));
    collect_add(call->arena, c, p, moat_arena_cstr(call->arena, arn),
                m.aws ? "aws-managed" : "user-managed");
    return NULL;
}

static struct moat_error *add_entity(struct moat_call *call, const struct iam_entity *e,
                                     struct moat_slice account, struct collect *c)
{
    struct moat_value *inl = moat_map_get(e->rec, "InlinePolicies");
    if (inl && inl->type == MOAT_V_MAP) {
        for (uint32_t i = 0; i < inl->count; i++) {
            struct moat_value *doc = inl->u.entries[i].value;
            if (!moat_value_is_string(doc))
                continue;
            const struct iam_policy *p =
                iam_compile_cached(call->arena, IAM_POLICY_IDENTITY, doc->u.s);
            collect_add(call->arena, c, p, moat_arena_cstr(call->arena, inl->u.entries[i].key),
                        iam_entity_noun(e->kind));
        }
    }
    struct moat_value *att = moat_map_get(e->rec, "AttachedPolicies");
    for (uint32_t i = 0; att && att->type == MOAT_V_LIST && i < att->count; i++) {
        if (!moat_value_is_string(att->u.items[i]))
            continue;
        struct moat_error *err = add_managed(call, account, att->u.items[i]->u.s, c);
        if (err)
            return err;
    }
    return NULL;
}

struct moat_error *iam_entity_policies(struct moat_call *call, const struct iam_entity *e,
                                       struct iam_entity_policies *out)
{
    memset(out, 0, sizeof(*out));
    struct moat_slice account = moat_map_str(e->rec, "AccountId");
    struct collect ident = {0}, bound = {0};
    struct moat_error *err = add_entity(call, e, account, &ident);
    if (err)
        return err;
    if (e->kind == IAM_ENTITY_USER) {
        struct moat_value *groups = moat_map_get(e->rec, "Groups");
        for (uint32_t i = 0; groups && groups->type == MOAT_V_LIST && i < groups->count; i++) {
            if (!moat_value_is_string(groups->u.items[i]))
                continue;
            struct iam_entity g;
            bool found;
            err = iam_entity_find(call, IAM_ENTITY_GROUP, account, groups->u.items[i]->u.s, &g,
                                  &found);
            if (err)
                return err;
            if (found && (err = add_entity(call, &g, account, &ident)))
                return err;
        }
    }
    struct moat_slice pb = moat_map_str(e->rec, "PermissionsBoundary");
    if (pb.len && (err = add_managed(call, account, pb, &bound)))
        return err;
    out->identity = ident.items;
    out->identity_count = ident.count;
    out->boundary = bound.items;
    out->boundary_count = pb.len ? 1 : 0;
    if (pb.len && !bound.count) {
        /* A boundary that no longer resolves allows nothing. */
        out->boundary_count = 0;
        out->boundary = NULL;
    }
    struct moat_value *tags = moat_map_get(e->rec, "Tags");
    if (tags && tags->type == MOAT_V_LIST && tags->count) {
        struct iam_tag *t = moat_arena_alloc(call->arena, tags->count * sizeof(*t));
        for (uint32_t i = 0; i < tags->count; i++) {
            t[i].key = moat_map_str(tags->u.items[i], "Key");
            t[i].value = moat_map_str(tags->u.items[i], "Value");
        }
        out->tags = t;
        out->tag_count = tags->count;
    }
    out->id = e->id;
    return NULL;
}

/* ---- bundles: everything a principal's authorization needs --------------------------- */

struct bundle {
    _Atomic int refs;
    struct moat_arena *arena; /* owns the bundle and everything it points to */
    char key[64];
    uint64_t generation;
    int64_t loaded_ms;
    struct authz_principal_policies pp;
    const struct iam_tag *tags;
    size_t tag_count;
    bool replace_tags; /* the principal's tags become these */
    bool has_boundary_attached;
};

static void bundle_unref(void *arg)
{
    struct bundle *b = arg;
    if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
        moat_arena_free(b->arena);
}

#define BUNDLE_SLOTS 128
#define BUNDLE_TTL_MS 2000

static __thread struct bundle **bundles;

static void bundles_free(void *unused)
{
    if (!bundles)
        return;
    for (size_t i = 0; i < BUNDLE_SLOTS; i++)
        bundle_unref(bundles[i]);
    free(bundles);
    bundles = NULL;
}

static size_t bundle_slot(struct moat_slice key)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < key.len; i++)
        h = (h ^ key.ptr[i]) * 1099511628211ull;
    return h % BUNDLE_SLOTS;
}

static const struct iam_policy *const *policy_array(struct moat_arena *a,
                                                    const struct iam_source_policy *src, size_t n)
{
    const struct iam_policy **arr = moat_arena_alloc(a, (n ? n : 1) * sizeof(*arr));
    for (size_t i = 0; i < n; i++)
        arr[i] = src[i].policy;
    return arr;
}

/* Tags of a role session: the role's, overridden by the session's (IAM User Guide,
 * "Passing session tags in AWS STS"). */
static void merge_tags(struct moat_arena *a, struct bundle *b, const struct iam_tag *role,
                       size_t role_count, const struct iam_principal *p)
{
    struct iam_tag *t = moat_arena_alloc(a, (role_count + p->tag_count + 1) * sizeof(*t));
    size_t n = 0;
    for (size_t i = 0; i < p->tag_count; i++)
        t[n++] = (struct iam_tag){moat_arena_dup(a, p->tags[i].key),
                                  moat_arena_dup(a, p->tags[i].value)};
    for (size_t i = 0; i < role_count; i++) {
        bool overridden = false;
        for (size_t j = 0; j < p->tag_count; j++)
            if (moat_slice_eq_nocase(role[i].key, p->tags[j].key))
                overridden = true;
        if (!overridden)
            t[n++] = role[i];
    }
    b->tags = t;
    b->tag_count = n;
    b->replace_tags = true;
}

/* Session policies recorded with a temporary credential (AssumeRole, GetFederationToken). */
static struct moat_error *session_policies(struct moat_call *bc, struct bundle *b,
                                           const struct iam_principal *p, struct moat_slice account)
{
    struct moat_value *rec;
    bool found;
    struct moat_error *err =
        iam_record_get(bc, AUTH_NS_SESSION, p->access_key_id, &rec, NULL, &found);
    if (err || !found)
        return err;
    struct collect c = {0};
    struct moat_slice inline_doc = moat_map_str(rec, "Policy");
    bool any = false;
    if (inline_doc.len) {
        any = true;
        collect_add(bc->arena, &c, iam_compile_cached(bc->arena, IAM_POLICY_SESSION, inline_doc),
                    "session", "session");
    }
    struct moat_value *arns = moat_map_get(rec, "PolicyArns");
    for (uint32_t i = 0; arns && arns->type == MOAT_V_LIST && i < arns->count; i++) {
        if (!moat_value_is_string(arns->u.items[i]))
            continue;
        any = true;
        if ((err = add_managed(bc, account, arns->u.items[i]->u.s, &c)))
            return err;
    }
    if (any) {
        b->pp.has_session = true;
        b->pp.session.policies = policy_array(bc->arena, c.items, c.count);
        b->pp.session.count = c.count;
    }
    return NULL;
}

static struct moat_slice last_segment(struct moat_slice arn)
{
    for (size_t i = arn.len; i > 0; i--)
        if (arn.ptr[i - 1] == '/')
            return moat_slice_sub(arn, i, arn.len);
    return arn;
}

static const char allow_all[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\","
    "\"Resource\":\"*\"}]}";

static struct moat_error *bundle_build(struct moat_call *call, const struct iam_principal *p,
                                       struct bundle *b)
{
    /* Everything read for the bundle lives in its arena. */
    struct moat_call bcall = *call;
    bcall.arena = b->arena;
    struct moat_call *bc = &bcall;
    struct moat_slice account = p->account_id;
    struct iam_entity e;
    bool found = false;
    struct moat_error *err = NULL;
    switch (p->type) {
    case IAM_PRINCIPAL_USER:
        err = iam_entity_find(bc, IAM_ENTITY_USER, account, p->name, &e, &found);
        if (found && p->principal_id.len && !moat_slice_eq(e.id, p->principal_id))
            found = false; /* a user of the same name created since */
        break;
    case IAM_PRINCIPAL_ASSUMED_ROLE:
        err = iam_entity_find(bc, IAM_ENTITY_ROLE, account, p->role_name, &e, &found);
        if (found && p->role_id.len && !moat_slice_eq(e.id, p->role_id))
            found = false; /* the role was deleted and created again */
        break;
    case IAM_PRINCIPAL_FEDERATED_USER:
        if (p->parent_user_arn.len) {
            err = iam_entity_find(bc, IAM_ENTITY_USER, account, last_segment(p->parent_user_arn),
                                  &e, &found);
        } else {
            /* Federated by the root user: its permissions, narrowed by the session policy. */
            const struct iam_policy *all = compile_in(
                b->arena, IAM_POLICY_IDENTITY, moat_slice(allow_all, sizeof(allow_all) - 1), 0);
            b->pp.identity.policies =
                policy_array(b->arena, &(struct iam_source_policy){all, "", ""}, 1);
            b->pp.identity.count = all ? 1 : 0;
        }
        break;
    default:
        break;
    }
    if (err)
        return err;
    if (found) {
        struct iam_entity_policies ep;
        if ((err = iam_entity_policies(bc, &e, &ep)))
            return err;
        b->pp.identity.policies = policy_array(b->arena, ep.identity, ep.identity_count);
        b->pp.identity.count = ep.identity_count;
        if (moat_map_str(e.rec, "PermissionsBoundary").len) {
            b->has_boundary_attached = true;
            b->pp.has_boundary = true;
            b->pp.boundary.policies = policy_array(b->arena, ep.boundary, ep.boundary_count);
            b->pp.boundary.count = ep.boundary_count;
        }
        if (p->type == IAM_PRINCIPAL_ASSUMED_ROLE) {
            merge_tags(b->arena, b, ep.tags, ep.tag_count, p);
        } else if (p->type == IAM_PRINCIPAL_USER) {
            b->tags = ep.tags;
            b->tag_count = ep.tag_count;
            b->replace_tags = true;
        }
    }
    if (p->temporary && p->access_key_id.len &&
        (p->type == IAM_PRINCIPAL_ASSUMED_ROLE || p->type == IAM_PRINCIPAL_FEDERATED_USER))
        err = session_policies(bc, b, p, account);
    return err;
}

static struct moat_error *principal_source(struct moat_call *call, struct iam_principal *p,
                                           struct authz_principal_policies *out)
{
    if (p->type != IAM_PRINCIPAL_USER && p->type != IAM_PRINCIPAL_ASSUMED_ROLE &&
        p->type != IAM_PRINCIPAL_FEDERATED_USER)
        return NULL; /* root, anonymous and service principals have no identity policies */
    struct moat_slice key = p->access_key_id.len ? p->access_key_id : p->arn;
    if (!bundles) {
        bundles = moat_xcalloc(BUNDLE_SLOTS, sizeof(*bundles));
        moat_thread_on_exit(bundles_free, NULL);
    }
    struct bundle **slot = &bundles[bundle_slot(key)];
    uint64_t gen = auth_state_generation();
    int64_t mono = moat_clock_monotonic_ms();
    struct bundle *b = *slot;
    if (!(b && b->generation == gen && mono - b->loaded_ms < BUNDLE_TTL_MS &&
          strlen(b->key) == key.len && memcmp(b->key, key.ptr, key.len) == 0)) {
        bool settled = auth_state_settled();
        struct moat_arena *a = moat_arena_new(8192);
        b = moat_arena_calloc(a, sizeof(*b));
        b->arena = a;
        atomic_init(&b->refs, 1);
        b->generation = gen;
        b->loaded_ms = mono;
        if (key.len < sizeof(b->key))
            memcpy(b->key, key.ptr, key.len);
        struct moat_error *err = bundle_build(call, p, b);
        if (err) {
            moat_arena_free(a);
            return moat_internal(call, "loading the caller's policies failed");
        }
        /* Cached only if nothing changed while it was read (auth.h). */
        if (settled && key.len < sizeof(b->key) && auth_state_generation() == gen) {
            bundle_unref(*slot);
            atomic_fetch_add(&b->refs, 1);
            *slot = b;
        }
        moat_arena_on_free(call->arena, bundle_unref, b); /* the call's reference */
    } else {
        atomic_fetch_add(&b->refs, 1);
        moat_arena_on_free(call->arena, bundle_unref, b);
    }
    *out = b->pp;
    if (b->replace_tags) {
        p->tags = b->tags;
        p->tag_count = b->tag_count;
    }
    p->has_permissions_boundary = b->has_boundary_attached;
    return NULL;
}

void iam_source_init(void)
{
    authorize_set_principal_source(principal_source);
}

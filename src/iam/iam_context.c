/* iam_context.c: the request-context table (case-insensitive keys, single or set
 * values, no heap) and the global keys AWS derives from the principal and request. */
#include "iam/iam_context.h"

#include "core/clock.h"

#include <stdio.h>
#include <string.h>

static inline uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static uint32_t hash_more(uint32_t h, struct moat_slice s)
{
    for (size_t i = 0; i < s.len; i++) {
        h ^= lower(s.ptr[i]);
        h *= 16777619u;
    }
    return h;
}

uint32_t iam_key_hash(struct moat_slice prefix, struct moat_slice suffix)
{
    return hash_more(hash_more(2166136261u, prefix), suffix);
}

void iam_context_init(struct iam_context *ctx, struct moat_arena *arena)
{
    ctx->arena = arena;
    ctx->entries = ctx->inline_entries;
    ctx->count = 0;
    ctx->cap = IAM_CONTEXT_INLINE;
    ctx->indexed = true;
    memset(ctx->slots, 0, sizeof(ctx->slots));
    ctx->current_time[0] = ctx->epoch_time[0] = ctx->token_issue_time[0] = ctx->mfa_age[0] = 0;
}

/* Keys usually arrive in the case the policy uses: compare eight bytes at a time and
 * fold only where they differ. */
static inline bool eq_fold(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x == y)
            continue;
        for (size_t k = i; k < i + 8; k++)
            if (a[k] != b[k] && lower(a[k]) != lower(b[k]))
                return false;
    }
    for (; i < n; i++)
        if (a[i] != b[i] && lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/* Compares an entry's two-piece key with key, ignoring ASCII case. */
static inline bool key_equals(const struct iam_context_entry *e, struct moat_slice key)
{
    size_t n = e->key_prefix.len;
    return n + e->key_suffix.len == key.len && eq_fold(e->key_prefix.ptr, key.ptr, n) &&
           eq_fold(e->key_suffix.ptr, key.ptr + n, e->key_suffix.len);
}

static bool key_equals_split(const struct iam_context_entry *e, struct moat_slice prefix,
                             struct moat_slice suffix)
{
    if (e->key_prefix.len + e->key_suffix.len != prefix.len + suffix.len)
        return false;
    /* Compare position by position across both split points. */
    size_t n = prefix.len + suffix.len;
    for (size_t i = 0; i < n; i++) {
        uint8_t a =
            i < e->key_prefix.len ? e->key_prefix.ptr[i] : e->key_suffix.ptr[i - e->key_prefix.len];
        uint8_t b = i < prefix.len ? prefix.ptr[i] : suffix.ptr[i - prefix.len];
        if (lower(a) != lower(b))
            return false;
    }
    return true;
}

const struct iam_context_entry *iam_context_get_hashed(const struct iam_context *ctx,
                                                       struct moat_slice key, uint32_t hash)
{
    if (ctx->indexed) {
        for (uint32_t j = hash & (IAM_CONTEXT_SLOTS - 1); ctx->slots[j];
             j = (j + 1) & (IAM_CONTEXT_SLOTS - 1)) {
            const struct iam_context_entry *e = &ctx->entries[ctx->slots[j] - 1];
            if (e->hash == hash && key_equals(e, key))
                return e;
        }
        return NULL;
    }
    for (size_t i = 0; i < ctx->count; i++) {
        const struct iam_context_entry *e = &ctx->entries[i];
        if (e->hash == hash && key_equals(e, key))
            return e;
    }
    return NULL;
}

/* Adds entry i to the hash index, or gives the index up when it is getting full. */
static void index_entry(struct iam_context *ctx, size_t i)
{
    if (!ctx->indexed)
        return;
    if (i >= IAM_CONTEXT_SLOTS * 3 / 4) {
        ctx->indexed = false;
        return;
    }
    uint32_t j = ctx->entries[i].hash & (IAM_CONTEXT_SLOTS - 1);
    while (ctx->slots[j])
        j = (j + 1) & (IAM_CONTEXT_SLOTS - 1);
    ctx->slots[j] = (uint16_t)(i + 1);
}

const struct iam_context_entry *iam_context_get(const struct iam_context *ctx,
                                                struct moat_slice key)
{
    return iam_context_get_hashed(ctx, key, iam_key_hash(key, MOAT_NULL_SLICE));
}

bool iam_context_get_one(const struct iam_context *ctx, struct moat_slice key,
                         struct moat_slice *value)
{
    const struct iam_context_entry *e = iam_context_get(ctx, key);
    if (!e || e->count != 1)
        return false;
    *value = iam_context_entry_values(e)[0];
    return true;
}

/* Finds the entry for the key or appends an empty one. NULL when full without arena. */
static struct iam_context_entry *slot(struct iam_context *ctx, struct moat_slice prefix,
                                      struct moat_slice suffix)
{
    uint32_t h = iam_key_hash(prefix, suffix);
    if (ctx->indexed) {
        for (uint32_t j = h & (IAM_CONTEXT_SLOTS - 1); ctx->slots[j];
             j = (j + 1) & (IAM_CONTEXT_SLOTS - 1)) {
            struct iam_context_entry *e = &ctx->entries[ctx->slots[j] - 1];
            if (e->hash == h && key_equals_split(e, prefix, suffix))
                return e;
        }
    } else {
        for (size_t i = 0; i < ctx->count; i++) {
            struct iam_context_entry *e = &ctx->entries[i];
            if (e->hash == h && key_equals_split(e, prefix, suffix))
                return e;
        }
    }
    if (ctx->count == ctx->cap) {
        if (!ctx->arena)
            return NULL;
        size_t cap = ctx->cap * 2;
        struct iam_context_entry *grown = moat_arena_alloc(ctx->arena, cap * sizeof(*grown));
        memcpy(grown, ctx->entries, ctx->count * sizeof(*grown));
        ctx->entries = grown;
        ctx->cap = cap;
    }
    struct iam_context_entry *e = &ctx->entries[ctx->count];
    e->key_prefix = prefix;
    e->key_suffix = suffix;
    e->hash = h;
    index_entry(ctx, ctx->count++);
    return e;
}

bool iam_context_set_split(struct iam_context *ctx, struct moat_slice prefix,
                           struct moat_slice suffix, struct moat_slice value)
{
    struct iam_context_entry *e = slot(ctx, prefix, suffix);
    if (!e)
        return false;
    e->multi = false;
    e->count = 1;
    e->values = NULL;
    e->one = value;
    return true;
}

bool iam_context_set(struct iam_context *ctx, struct moat_slice key, struct moat_slice value)
{
    return iam_context_set_split(ctx, key, MOAT_NULL_SLICE, value);
}

bool iam_context_set_cstr(struct iam_context *ctx, const char *key, const char *value)
{
    return iam_context_set(ctx, moat_slice_cstr(key), moat_slice_cstr(value));
}

bool iam_context_set_bool(struct iam_context *ctx, struct moat_slice key, bool value)
{
    return iam_context_set(ctx, key, value ? MOAT_LIT("true") : MOAT_LIT("false"));
}

bool iam_context_set_multi(struct iam_context *ctx, struct moat_slice key,
                           const struct moat_slice *values, size_t count)
{
    struct iam_context_entry *e = slot(ctx, key, MOAT_NULL_SLICE);
    if (!e)
        return false;
    e->multi = true;
    e->count = (uint32_t)count;
    e->values = count ? values : NULL;
    e->one = MOAT_NULL_SLICE;
    if (!count) {
        /* Keep `values` non-NULL so that the single-value shortcut is not taken. */
        static const struct moat_slice none[1];
        e->values = none;
    }
    return true;
}

bool iam_context_remove(struct iam_context *ctx, struct moat_slice key)
{
    const struct iam_context_entry *found = iam_context_get(ctx, key);
    if (!found)
        return false;
    size_t i = (size_t)(found - ctx->entries);
    memmove(&ctx->entries[i], &ctx->entries[i + 1], (ctx->count - i - 1) * sizeof(ctx->entries[0]));
    ctx->count--;
    /* Entries moved: rebuild the index. */
    ctx->indexed = true;
    memset(ctx->slots, 0, sizeof(ctx->slots));
    for (size_t k = 0; k < ctx->count; k++)
        index_entry(ctx, k);
    return true;
}

#define SET(key, value)                                                                            \
    do {                                                                                           \
        if (!iam_context_set(ctx, MOAT_LIT(key), (value)))                                         \
            return false;                                                                          \
    } while (0)

/* Context keys available for each principal type: IAM User Guide, "AWS global condition
 * context keys" and "IAM policy elements: Variables and tags" (request information table). */
bool iam_context_add_principal(struct iam_context *ctx, const struct iam_principal *p,
                               int64_t now_ms)
{
    const char *type = iam_principal_type_name(p->type);
    SET("aws:PrincipalIsAWSService",
        p->type == IAM_PRINCIPAL_SERVICE ? MOAT_LIT("true") : MOAT_LIT("false"));
    if (p->type == IAM_PRINCIPAL_SERVICE) {
        SET("aws:PrincipalServiceName", p->arn);
        return true;
    }
    SET("aws:PrincipalType", moat_slice_cstr(type));
    if (p->type == IAM_PRINCIPAL_ANONYMOUS) {
        SET("aws:userid", MOAT_LIT("anonymous"));
        if (p->federated_provider.len)
            SET("aws:FederatedProvider", p->federated_provider);
        return true;
    }
    struct moat_slice arn = iam_principal_arn_for_policy(p);
    if (arn.len)
        SET("aws:PrincipalArn", arn);
    if (p->account_id.len)
        SET("aws:PrincipalAccount", p->account_id);
    if (p->principal_id.len)
        SET("aws:userid", p->principal_id);
    if (p->type == IAM_PRINCIPAL_USER && p->name.len)
        SET("aws:username", p->name);
    for (size_t i = 0; i < p->tag_count; i++)
        if (!iam_context_set_split(ctx, MOAT_LIT("aws:PrincipalTag/"), p->tags[i].key,
                                   p->tags[i].value))
            return false;
    if (p->org_id.len)
        SET("aws:PrincipalOrgID", p->org_id);
    if (p->org_path_count && !iam_context_set_multi(ctx, MOAT_LIT("aws:PrincipalOrgPaths"),
                                                    p->org_paths, p->org_path_count))
        return false;
    /* MFA keys: present (true or false) with temporary credentials, absent with
     * long-term access keys; the age only when MFA was used. */
    if (p->temporary) {
        SET("aws:MultiFactorAuthPresent",
            p->mfa_authenticated ? MOAT_LIT("true") : MOAT_LIT("false"));
        if (p->mfa_authenticated) {
            int64_t age = (now_ms - p->mfa_auth_time_ms) / 1000;
            if (age < 0)
                age = 0;
            int n = snprintf(ctx->mfa_age, sizeof(ctx->mfa_age), "%lld", (long long)age);
            SET("aws:MultiFactorAuthAge", moat_slice(ctx->mfa_age, (size_t)n));
        }
        if (p->issued_at_ms) {
            moat_time_format_iso8601(p->issued_at_ms / 1000, ctx->token_issue_time);
            SET("aws:TokenIssueTime", moat_slice_cstr(ctx->token_issue_time));
        }
    }
    if (p->source_identity.len)
        SET("aws:SourceIdentity", p->source_identity);
    if (p->federated_provider.len)
        SET("aws:FederatedProvider", p->federated_provider);
    return true;
}

bool iam_context_add_request(struct iam_context *ctx, const struct iam_request_facts *f)
{
    moat_time_format_iso8601(f->now_ms / 1000, ctx->current_time);
    SET("aws:CurrentTime", moat_slice_cstr(ctx->current_time));
    int n =
        snprintf(ctx->epoch_time, sizeof(ctx->epoch_time), "%lld", (long long)(f->now_ms / 1000));
    SET("aws:EpochTime", moat_slice(ctx->epoch_time, (size_t)n));
    SET("aws:SecureTransport", f->secure_transport ? MOAT_LIT("true") : MOAT_LIT("false"));
    if (f->source_ip.len)
        SET("aws:SourceIp", f->source_ip);
    if (f->requested_region.len)
        SET("aws:RequestedRegion", f->requested_region);
    SET("aws:ViaAWSService", f->via_aws_service ? MOAT_LIT("true") : MOAT_LIT("false"));
    if (f->called_via_count) {
        if (!iam_context_set_multi(ctx, MOAT_LIT("aws:CalledVia"), f->called_via,
                                   f->called_via_count))
            return false;
        SET("aws:CalledViaFirst", f->called_via[0]);
        SET("aws:CalledViaLast", f->called_via[f->called_via_count - 1]);
    }
    if (f->user_agent.len)
        SET("aws:UserAgent", f->user_agent);
    if (f->referer.len)
        SET("aws:Referer", f->referer);
    return true;
}

bool iam_context_fill_global(struct iam_context *ctx, const struct iam_principal *p,
                             const struct iam_request_facts *f)
{
    return iam_context_add_principal(ctx, p, f->now_ms) && iam_context_add_request(ctx, f);
}

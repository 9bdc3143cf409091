/* iam_context.h: the request context an evaluation reads: condition keys mapped to
 * one or several values, looked up case-insensitively as AWS does for key names. */
#ifndef MOAT_IAM_CONTEXT_H
#define MOAT_IAM_CONTEXT_H

#include "core/arena.h"
#include "iam/iam_principal.h"

/* One key. A key is stored as two borrowed pieces (prefix + suffix) so that keys such
 * as "aws:PrincipalTag/" + tag key need no formatting. */
struct iam_context_entry {
    struct moat_slice key_prefix;
    struct moat_slice key_suffix;
    uint32_t hash;                   /* iam_key_hash of the whole key */
    bool multi;                      /* a set-valued key (it may hold 0 or 1 values too) */
    uint32_t count;                  /* number of values */
    const struct moat_slice *values; /* borrowed; NULL: the single value is `one` */
    struct moat_slice one;
};

static inline const struct moat_slice *iam_context_entry_values(const struct iam_context_entry *e)
{
    return e->values ? e->values : &e->one;
}

#define IAM_CONTEXT_INLINE 48
#define IAM_CONTEXT_SLOTS 256 /* hash index; past 3/4 full lookups scan */

/* A request's context. Lives on the stack or in the request arena; initialise it with
 * iam_context_init. Values and keys are borrowed and must outlive the context, except
 * the formatted global values (times, numbers), which live inside the struct. When the
 * inline entries are used up more come from the arena; without an arena a set fails.
 * The struct points into itself: never copy it by value. */
struct iam_context {
    struct moat_arena *arena; /* may be NULL */
    struct iam_context_entry *entries;
    size_t count, cap;
    bool indexed;                      /* slots is usable */
    uint16_t slots[IAM_CONTEXT_SLOTS]; /* entry index + 1 by hash, 0 = empty */
    struct iam_context_entry inline_entries[IAM_CONTEXT_INLINE];
    /* Storage for values formatted by iam_context_add_principal/_add_request. */
    char current_time[32];
    char epoch_time[24];
    char token_issue_time[32];
    char mfa_age[24];
};

/* Facts about the request itself (as opposed to who makes it). */
struct iam_request_facts {
    int64_t now_ms;                      /* service time (moat_clock_now_ms) */
    struct moat_slice source_ip;         /* textual IPv4 or IPv6; empty: absent */
    bool secure_transport;               /* TLS */
    struct moat_slice requested_region;  /* empty: absent */
    bool via_aws_service;                /* a service made the call on the principal's behalf */
    const struct moat_slice *called_via; /* service principals, first to last */
    size_t called_via_count;
    struct moat_slice user_agent; /* empty: absent */
    struct moat_slice referer;    /* empty: absent */
};

void iam_context_init(struct iam_context *ctx, struct moat_arena *arena);

/* The case-insensitive hash the context and compiled policies use for key names. */
uint32_t iam_key_hash(struct moat_slice prefix, struct moat_slice suffix);

/* Sets a single-valued key, replacing any value it had. False only when the table is
 * full and there is no arena. */
MOAT_MUST_CHECK bool iam_context_set(struct iam_context *ctx, struct moat_slice key,
                                     struct moat_slice value);
MOAT_MUST_CHECK bool iam_context_set_cstr(struct iam_context *ctx, const char *key,
                                          const char *value);
MOAT_MUST_CHECK bool iam_context_set_bool(struct iam_context *ctx, struct moat_slice key,
                                          bool value);
/* Sets a set-valued key (aws:TagKeys, aws:CalledVia, aws:PrincipalOrgPaths...). An
 * empty set is recorded as present and empty. `values` is borrowed. */
MOAT_MUST_CHECK bool iam_context_set_multi(struct iam_context *ctx, struct moat_slice key,
                                           const struct moat_slice *values, size_t count);
/* Sets prefix + suffix as the key (e.g. "aws:RequestTag/" + tag key). */
MOAT_MUST_CHECK bool iam_context_set_split(struct iam_context *ctx, struct moat_slice prefix,
                                           struct moat_slice suffix, struct moat_slice value);
/* Removes a key; true if it was there. */
bool iam_context_remove(struct iam_context *ctx, struct moat_slice key);

/* Case-insensitive lookup; NULL when absent. */
const struct iam_context_entry *iam_context_get(const struct iam_context *ctx,
                                                struct moat_slice key);
const struct iam_context_entry *iam_context_get_hashed(const struct iam_context *ctx,
                                                       struct moat_slice key, uint32_t hash);
/* The value of a single-valued key, or false when absent or not exactly one value. */
bool iam_context_get_one(const struct iam_context *ctx, struct moat_slice key,
                         struct moat_slice *value);

/* Global keys that come from the principal:
 * aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:userid, aws:username
 * (IAM users only), aws:PrincipalTag/<key>, aws:PrincipalOrgID, aws:PrincipalOrgPaths,
 * aws:PrincipalIsAWSService, aws:PrincipalServiceName (service principals),
 * aws:MultiFactorAuthPresent (present, true or false, on temporary credentials only),
 * aws:MultiFactorAuthAge (only when MFA was used), aws:TokenIssueTime (temporary
 * credentials), aws:SourceIdentity, aws:FederatedProvider. now_ms gives the MFA age. */
MOAT_MUST_CHECK bool iam_context_add_principal(struct iam_context *ctx,
                                               const struct iam_principal *p, int64_t now_ms);
/* Global keys that come from the request: aws:CurrentTime (ISO 8601), aws:EpochTime,
 * aws:SecureTransport, aws:SourceIp, aws:RequestedRegion, aws:ViaAWSService,
 * aws:CalledVia, aws:CalledViaFirst, aws:CalledViaLast, aws:UserAgent, aws:Referer. */
MOAT_MUST_CHECK bool iam_context_add_request(struct iam_context *ctx,
                                             const struct iam_request_facts *f);
/* Both of the above. Services then add their own keys (aws:RequestTag/<key>, aws:TagKeys,
 * aws:ResourceTag/<key>, aws:ResourceAccount, kms:..., s3:...). */
MOAT_MUST_CHECK bool iam_context_fill_global(struct iam_context *ctx, const struct iam_principal *p,
                                             const struct iam_request_facts *f);

#endif

/* iam_policy.h: policy documents in, compiled immutable policies out. Validation follows
 * what IAM, Organizations and the resource services reject on write (AWS's messages). */
#ifndef MOAT_IAM_POLICY_H
#define MOAT_IAM_POLICY_H

#include "core/slice.h"

/* What a document is written as; it decides the grammar and the size limit. */
enum iam_policy_kind {
    IAM_POLICY_IDENTITY = 0, /* managed or inline policy; also a permissions boundary */
    IAM_POLICY_SESSION,      /* a session policy passed to AssumeRole*, GetFederationToken */
    IAM_POLICY_RESOURCE,     /* bucket, key, secret, queue, topic... policies */
    IAM_POLICY_TRUST,        /* a role's trust (assume-role) policy */
    IAM_POLICY_SCP,          /* service control policy */
    IAM_POLICY_RCP,          /* resource control policy */
    IAM_POLICY_KIND_COUNT,
};

enum iam_policy_status {
    IAM_POLICY_OK = 0,
    IAM_POLICY_MALFORMED,      /* IAM MalformedPolicyDocument, S3 MalformedPolicy, KMS
                                * MalformedPolicyDocumentException... */
    IAM_POLICY_LIMIT_EXCEEDED, /* IAM LimitExceeded, Organizations ConstraintViolation... */
};

/* Why a document was refused. message is AWS's wording where AWS has one. */
struct iam_policy_diag {
    enum iam_policy_status status;
    char message[256];
};

/* A compiled policy: immutable, safe to share between threads, refcounted. */
struct iam_policy;

/* 1-based position in the document, as the policy simulator reports it. */
struct iam_position {
    uint32_t line;
    uint32_t column;
};

/* Default size limit for a kind (IAM User Guide "IAM and AWS STS quotas"; Organizations
 * quotas): identity 6,144 (managed policy), session 2,048, trust 2,048, SCP and RCP
 * 5,120, resource 20,480 (services with another limit pass theirs). */
size_t iam_policy_default_limit(enum iam_policy_kind kind);
/* The size a kind counts: IAM policies count characters other than white space; SCPs,
 * RCPs and resource policies count every character. */
size_t iam_policy_counted_size(enum iam_policy_kind kind, struct moat_slice text);

/* Parses, validates and compiles one document. size_limit 0 takes the kind's default.
 * On success *out holds one reference (release it with iam_policy_unref) and the
 * compiled policy keeps its own copy of the text. On failure *out is NULL and diag says
 * why. Never crashes on any input. */
MOAT_MUST_CHECK enum iam_policy_status iam_policy_compile(enum iam_policy_kind kind,
                                                          struct moat_slice text, size_t size_limit,
                                                          struct iam_policy **out,
                                                          struct iam_policy_diag *diag);

struct iam_policy *iam_policy_ref(struct iam_policy *p);
void iam_policy_unref(struct iam_policy *p); /* NULL is fine */

enum iam_policy_kind iam_policy_kind_of(const struct iam_policy *p);
struct moat_slice iam_policy_text(const struct iam_policy *p);
struct moat_slice iam_policy_version(const struct iam_policy *p); /* as written, may be empty */
size_t iam_policy_statement_count(const struct iam_policy *p);

/* A statement's Sid (empty when none), effect and extent in the document. */
struct iam_statement_info {
    struct moat_slice sid;
    bool allow;
    struct iam_position start; /* the statement's '{' */
    struct iam_position end;   /* its closing '}' */
};
bool iam_policy_statement_info(const struct iam_policy *p, size_t index,
                               struct iam_statement_info *out);

#endif

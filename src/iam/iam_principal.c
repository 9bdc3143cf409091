/* iam_principal.c: names of principal types and building a principal from its ARN
 * (the policy simulator's CallerArn, tests). Authentication builds real principals. */
#include "iam/iam_principal.h"

#include <string.h>

const char *iam_principal_type_name(enum iam_principal_type type)
{
    switch (type) {
    case IAM_PRINCIPAL_ANONYMOUS:
        return "Anonymous";
    case IAM_PRINCIPAL_ROOT:
        return "Account";
    case IAM_PRINCIPAL_USER:
        return "User";
    case IAM_PRINCIPAL_ASSUMED_ROLE:
        return "AssumedRole";
    case IAM_PRINCIPAL_FEDERATED_USER:
        return "FederatedUser";
    case IAM_PRINCIPAL_SERVICE:
        return NULL;
    }
    return NULL;
}

struct moat_slice iam_principal_arn_for_policy(const struct iam_principal *p)
{
    switch (p->type) {
    case IAM_PRINCIPAL_ASSUMED_ROLE:
        return p->role_arn;
    case IAM_PRINCIPAL_ROOT:
    case IAM_PRINCIPAL_USER:
    case IAM_PRINCIPAL_FEDERATED_USER:
        return p->arn;
    case IAM_PRINCIPAL_ANONYMOUS:
    case IAM_PRINCIPAL_SERVICE:
        return MOAT_NULL_SLICE;
    }
    return MOAT_NULL_SLICE;
}

static bool is_account_id(struct moat_slice s)
{
    if (s.len != 12)
        return false;
    for (size_t i = 0; i < 12; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    return true;
}

/* Text after the last '/' of s. */
static struct moat_slice last_segment(struct moat_slice s)
{
    size_t i = s.len;
    while (i > 0 && s.ptr[i - 1] != '/')
        i--;
    return moat_slice_sub(s, i, s.len);
}

bool iam_principal_from_arn(struct moat_arena *a, struct moat_slice arn, struct iam_principal *out)
{
    memset(out, 0, sizeof(*out));
    if (moat_slice_eq_cstr(arn, "anonymous")) {
        out->type = IAM_PRINCIPAL_ANONYMOUS;
        return true;
    }
    if (moat_slice_starts_with(arn, MOAT_LIT("service:"))) {
        out->type = IAM_PRINCIPAL_SERVICE;
        out->arn = moat_slice_sub(arn, 8, arn.len);
        out->name = out->arn;
        return out->arn.len > 0;
    }
    /* arn:partition:service:region:account:resource */
    struct moat_slice rest = arn, f[5];
    for (int i = 0; i < 5; i++) {
        long c = moat_slice_index(rest, ':');
        if (c < 0)
            return false;
        f[i] = moat_slice_sub(rest, 0, (size_t)c);
        rest = moat_slice_sub(rest, (size_t)c + 1, rest.len);
    }
    if (!moat_slice_eq_cstr(f[0], "arn") || !f[1].len || f[3].len || !is_account_id(f[4]))
        return false;
    struct moat_slice partition = f[1], account = f[4], res = rest;
    out->account_id = account;
    out->arn = arn;
    if (moat_slice_eq_cstr(f[2], "iam")) {
        if (moat_slice_eq_cstr(res, "root")) {
            out->type = IAM_PRINCIPAL_ROOT;
            out->principal_id = account;
            return true;
        }
        if (moat_slice_starts_with(res, MOAT_LIT("user/")) && res.len > 5 &&
            res.ptr[res.len - 1] != '/') {
            out->type = IAM_PRINCIPAL_USER;
            out->name = last_segment(res);
            return true;
        }
        return false;
    }
    if (!moat_slice_eq_cstr(f[2], "sts"))
        return false;
    if (moat_slice_starts_with(res, MOAT_LIT("assumed-role/"))) {
        struct moat_slice rs = moat_slice_sub(res, 13, res.len);
        long slash = moat_slice_index(rs, '/');
        if (slash <= 0 || (size_t)slash + 1 >= rs.len)
            return false;
        out->type = IAM_PRINCIPAL_ASSUMED_ROLE;
        out->temporary = true;
        out->role_name = moat_slice_sub(rs, 0, (size_t)slash);
        out->name = moat_slice_sub(rs, (size_t)slash + 1, rs.len);
        if (moat_slice_index(out->name, '/') >= 0)
            return false;
        out->role_arn = moat_slice_cstr(moat_arena_printf(a, "arn:%.*s:iam::%.*s:role/%.*s",
                                                          MOAT_FMT(partition), MOAT_FMT(account),
                                                          MOAT_FMT(out->role_name)));
        return true;
    }
    if (moat_slice_starts_with(res, MOAT_LIT("federated-user/")) && res.len > 15) {
        out->type = IAM_PRINCIPAL_FEDERATED_USER;
        out->temporary = true;
        out->name = moat_slice_sub(res, 15, res.len);
        out->principal_id = moat_slice_cstr(
            moat_arena_printf(a, "%.*s:%.*s", MOAT_FMT(account), MOAT_FMT(out->name)));
        return true;
    }
    return false;
}

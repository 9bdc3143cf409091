/* fuzz_iam_inputs.c: the small parsers IAM, STS and Organizations apply to request
 * members before any store access: policy and role ARNs, MFA codes, organization ids,
 * principal ARNs, base32 seeds and the QR code of a device's URI. Each result must point inside its
 * input and satisfy the grammar it claims. Build: make build-fuzz/iam_inputs/fuzz_iam_inputs;
 * corpus: fuzz/iam_inputs/corpus. */
#include "iam/iam_principal.h"
#include "services/iam/iam.h"
#include "services/organizations/orgs.h"
#include "services/sts/sts.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(struct moat_slice part, struct moat_slice whole)
{
    if (part.len && (part.ptr < whole.ptr || part.ptr + part.len > whole.ptr + whole.len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct moat_slice in = moat_slice(data, size);
    struct moat_slice acct, path, name;
    if (iam_parse_policy_arn(in, &acct, &path, &name)) {
        inside(acct, in);
        inside(path, in);
        inside(name, in);
        if (!name.len || !path.len || path.ptr[0] != '/' || path.ptr[path.len - 1] != '/' ||
            memchr(name.ptr, '/', name.len))
            abort();
        if (!moat_slice_eq_cstr(acct, "aws") && acct.len != 12)
            abort();
    }
    if (sts_parse_role_arn(in, &acct, &name)) {
        inside(acct, in);
        inside(name, in);
        if (acct.len != 12 || !name.len || memchr(name.ptr, '/', name.len))
            abort();
    }
    uint32_t code;
    if (iam_totp_parse(in, &code) && (size != 6 || code > 999999))
        abort();
    enum orgs_kind kind = orgs_kind_of(in);
    if (kind == ORGS_ACCOUNT && size != 12)
        abort();
    struct moat_arena *a = moat_arena_new(1024);
    struct iam_principal p;
    if (iam_principal_from_arn(a, in, &p) && p.type != IAM_PRINCIPAL_ANONYMOUS &&
        p.type != IAM_PRINCIPAL_SERVICE && p.account_id.len != 12)
        abort();
    /* base32: 8 characters for every 5 bytes, from the RFC 4648 alphabet. */
    struct moat_buf b;
    moat_buf_init(&b, a, size * 2 + 8);
    iam_base32_encode(&b, in);
    if (b.len != (size * 8 + 4) / 5)
        abort();
    for (size_t i = 0; i < b.len; i++)
        if (!((b.ptr[i] >= 'A' && b.ptr[i] <= 'Z') || (b.ptr[i] >= '2' && b.ptr[i] <= '7')))
            abort();
    /* QR code of short texts starting with "otpauth" (it is slower than the parsers; longer
     * texts, up to version 20, are the unit test's): a PNG. */
    struct moat_slice png;
    if (size <= 80 && moat_slice_starts_with(in, MOAT_LIT("otpauth")) &&
        (!iam_qr_png(a, in, &png) || png.len < 8 || memcmp(png.ptr, "\x89PNG", 4) != 0))
        abort();
    moat_arena_free(a);
    return 0;
}

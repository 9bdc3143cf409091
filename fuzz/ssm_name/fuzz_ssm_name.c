/* fuzz_ssm_name.c: arbitrary bytes as a parameter name, a read reference (name or ARN
 * with a version or label selector) and a label. Accepted names hold only name
 * characters, have between 1 and 15 levels and a key that is the name or the name without
 * its one leading slash; references reparse to the same name.
 * Build: make build-fuzz/ssm_name/fuzz_ssm_name; corpus: fuzz/ssm_name/corpus. */
#include "services/ssm/ssm.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const struct ssm_name *n)
{
    if (!n->key.len || n->depth < 1 || n->depth > SSM_MAX_DEPTH)
        abort();
    for (size_t i = 0; i < n->key.len; i++) {
        uint8_t c = n->key.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-' || c == '/'))
            abort();
    }
    if (n->hierarchical != (n->key.ptr[0] == '/'))
        abort();
    if (n->key.len != n->given.len && !(n->key.len + 1 == n->given.len && n->given.ptr[0] == '/'))
        abort();
    (void)ssm_name_reserved(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct moat_arena *a = moat_arena_new(1024);
    struct moat_slice in = moat_slice(data, size);
    struct ssm_name n;
    if (ssm_name_parse(in, &n) == SSM_NAME_OK) {
        check_name(&n);
        const char *arn = ssm_arn(a, "us-east-1", "111122223333", n.key);
        struct ssm_ref r;
        if (!ssm_ref_parse(moat_slice_cstr(arn), &r) || !r.arn || r.problem != SSM_NAME_OK ||
            !moat_slice_eq(r.name.key, n.key))
            abort();
    }
    struct ssm_ref ref;
    if (ssm_ref_parse(in, &ref)) {
        if (ref.problem == SSM_NAME_OK)
            check_name(&ref.name);
        if (ref.sel == SSM_SEL_LABEL &&
            (!ref.label.len || memchr(ref.label.ptr, ':', ref.label.len)))
            abort();
        if (ref.sel != SSM_SEL_NONE && ref.display.len + ref.selector.len != ref.raw.len)
            abort();
    }
    if (ssm_label_valid(in) && (size > 100 || (data[0] >= '0' && data[0] <= '9')))
        abort();
    moat_arena_free(a);
    return 0;
}

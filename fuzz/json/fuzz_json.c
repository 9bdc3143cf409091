/* fuzz_json.c: the strict JSON parser; whatever parses must serialise and
 * parse again to the same bytes. */
#include "core/json.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct moat_arena *a = moat_arena_new(4096);
    struct moat_value *v;
    unsigned flags = size && (data[0] & 1) ? MOAT_JSON_REJECT_DUPLICATES : 0;
    if (moat_json_parse(a, moat_slice(data, size), flags, &v, NULL)) {
        struct moat_buf b1, b2;
        moat_buf_init(&b1, a, 64);
        moat_json_write(&b1, v);
        struct moat_value *v2;
        if (!moat_json_parse(a, moat_buf_slice(&b1), 0, &v2, NULL))
            abort();
        moat_buf_init(&b2, a, 64);
        moat_json_write(&b2, v2);
        if (b1.len != b2.len || memcmp(b1.ptr, b2.ptr, b1.len) != 0)
            abort();
    }
    moat_arena_free(a);
    return 0;
}

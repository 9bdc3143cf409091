/* kms_random.c: GenerateRandom, the one KMS operation that touches no key.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateRandom.html */
#include "aws/shapes/shapes_kms.h"
#include "crypto/rootkey.h"
#include "services/kms/kms.h"

struct moat_error *kms_generate_random(struct moat_call *call, const struct moat_value *in,
                                       struct moat_value *out)
{
    if (moat_has(in, KMS_GENERATE_RANDOM_REQUEST_CUSTOM_KEY_STORE_ID))
        return moat_fail(
            call, &kms_custom_key_store_not_found,
            "Custom key store ID %.*s does not exist in this account and region",
            MOAT_FMT(moat_get_str(in, KMS_GENERATE_RANDOM_REQUEST_CUSTOM_KEY_STORE_ID)));
    if (moat_has(in, KMS_GENERATE_RANDOM_REQUEST_RECIPIENT))
        return moat_fail(call, &kms_unsupported_operation,
                         "Recipient attestation documents (Nitro Enclaves) are not supported "
                         "by this KMS endpoint");
    if (!moat_has(in, KMS_GENERATE_RANDOM_REQUEST_NUMBER_OF_BYTES))
        return moat_fail(call, &kms_validation_exception,
                         "1 validation error detected: Value null at 'numberOfBytes' failed to "
                         "satisfy constraint: Member must not be null");
    int64_t n = moat_get_int(in, KMS_GENERATE_RANDOM_REQUEST_NUMBER_OF_BYTES, 0);
    uint8_t *bytes = moat_arena_alloc(call->arena, (size_t)n);
    moat_arena_wipe_on_free(call->arena, bytes, (size_t)n);
    crypto_random(bytes, (size_t)n);
    moat_set_blob(call->arena, out, KMS_GENERATE_RANDOM_RESPONSE_PLAINTEXT,
                  moat_slice(bytes, (size_t)n));
    return NULL;
}

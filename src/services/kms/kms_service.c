/* kms_service.c: the Key Management Service's operation table. Handlers
 * live in kms_<area>.c files; this file only says what KMS offers. */
#include "aws/shapes/shapes_kms.h"
#include "services/kms/kms.h"

const struct moat_error_kind kms_validation_exception = {"ValidationException", 400, true};
const struct moat_error_kind kms_access_denied = {"AccessDeniedException", 400, true};
const struct moat_error_kind kms_custom_key_store_not_found = {
    "CustomKeyStoreNotFoundException", 400, true};
const struct moat_error_kind kms_unsupported_operation = {"UnsupportedOperationException", 400,
                                                          true};

static const struct moat_operation kms_operations[] = {
    {.shape = KMS_OP_GENERATE_RANDOM, .handler = kms_generate_random,
     .action = "kms:GenerateRandom", .flags = MOAT_OP_READ_ONLY},
};

const struct moat_service kms_service = {
    .name = "kms",
    .event_source = "kms.amazonaws.com",
    .shapes = &kms_shapes,
    .operations = kms_operations,
    .operation_count = MOAT_COUNT(kms_operations),
    .validation_error = &kms_validation_exception,
    .access_denied = &kms_access_denied,
};

/* kms.h: what the KMS handler files share: error kinds and handlers. */
#ifndef MOAT_KMS_H
#define MOAT_KMS_H

#include "services/service.h"

extern const struct moat_error_kind kms_validation_exception;
extern const struct moat_error_kind kms_access_denied;
extern const struct moat_error_kind kms_custom_key_store_not_found;
extern const struct moat_error_kind kms_unsupported_operation;

struct moat_error *kms_generate_random(struct moat_call *call, const struct moat_value *in,
                                       struct moat_value *out);

#endif

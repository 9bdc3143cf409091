/* kms_errors.c: KMS's error kinds (all HTTP 400, sender faults, as the KMS JSON
 * protocol answers them) and the messages AWS gives for a key in the wrong state. */
#include "services/kms/kms.h"

const struct moat_error_kind kms_validation_exception = {"ValidationException", 400, true};
const struct moat_error_kind kms_access_denied = {"AccessDeniedException", 400, true};
const struct moat_error_kind kms_custom_key_store_not_found = {"CustomKeyStoreNotFoundException",
                                                               400, true};
const struct moat_error_kind kms_unsupported_operation = {"UnsupportedOperationException", 400,
                                                          true};
const struct moat_error_kind kms_not_found = {"NotFoundException", 400, true};
const struct moat_error_kind kms_disabled = {"DisabledException", 400, true};
const struct moat_error_kind kms_invalid_state = {"KMSInvalidStateException", 400, true};
const struct moat_error_kind kms_key_unavailable = {"KeyUnavailableException", 500, false};
const struct moat_error_kind kms_invalid_ciphertext = {"InvalidCiphertextException", 400, true};
const struct moat_error_kind kms_incorrect_key = {"IncorrectKeyException", 400, true};
const struct moat_error_kind kms_invalid_key_usage = {"InvalidKeyUsageException", 400, true};
const struct moat_error_kind kms_invalid_grant_token = {"InvalidGrantTokenException", 400, true};
const struct moat_error_kind kms_invalid_grant_id = {"InvalidGrantIdException", 400, true};
const struct moat_error_kind kms_already_exists = {"AlreadyExistsException", 400, true};
const struct moat_error_kind kms_limit_exceeded = {"LimitExceededException", 400, true};
const struct moat_error_kind kms_malformed_policy = {"MalformedPolicyDocumentException", 400, true};
const struct moat_error_kind kms_invalid_signature = {"KMSInvalidSignatureException", 400, true};
const struct moat_error_kind kms_invalid_mac = {"KMSInvalidMacException", 400, true};
const struct moat_error_kind kms_invalid_alias_name = {"InvalidAliasNameException", 400, true};
const struct moat_error_kind kms_not_authorized = {"NotAuthorizedException", 400, true};
const struct moat_error_kind kms_tag_exception = {"TagException", 400, true};
const struct moat_error_kind kms_invalid_marker = {"InvalidMarkerException", 400, true};
const struct moat_error_kind kms_invalid_arn = {"InvalidArnException", 400, true};
const struct moat_error_kind kms_incorrect_key_material = {"IncorrectKeyMaterialException", 400,
                                                           true};
const struct moat_error_kind kms_expired_import_token = {"ExpiredImportTokenException", 400, true};
const struct moat_error_kind kms_invalid_import_token = {"InvalidImportTokenException", 400, true};
const struct moat_error_kind kms_dry_run_operation = {"DryRunOperationException", 412, true};
const struct moat_error_kind kms_conflict = {"ConflictException", 409, true};

/* https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html */
struct moat_error *kms_state_error(struct moat_call *call, const struct kms_key *key)
{
    switch (key->state) {
    case KMS_STATE_DISABLED:
        return moat_fail(call, &kms_disabled, "%s is disabled.", key->arn);
    case KMS_STATE_PENDING_DELETION:
        return moat_fail(call, &kms_invalid_state, "%s is pending deletion.", key->arn);
    case KMS_STATE_PENDING_REPLICA_DELETION:
        return moat_fail(call, &kms_invalid_state, "%s is pending replica deletion.", key->arn);
    case KMS_STATE_PENDING_IMPORT:
        return moat_fail(call, &kms_invalid_state, "%s is pending import.", key->arn);
    case KMS_STATE_UNAVAILABLE:
        return moat_fail(call, &kms_key_unavailable, "%s is unavailable.", key->arn);
    case KMS_STATE_CREATING:
    case KMS_STATE_UPDATING:
        return moat_fail(call, &kms_invalid_state, "%s is %s.", key->arn,
                         key->state == KMS_STATE_CREATING ? "being created" : "being updated");
    case KMS_STATE_ENABLED:
        break;
    }
    return NULL;
}

struct moat_error *kms_require_usable(struct moat_call *call, const struct kms_key *key)
{
    return key->state == KMS_STATE_ENABLED ? NULL : kms_state_error(call, key);
}

struct moat_error *kms_require_not_pending(struct moat_call *call, const struct kms_key *key,
                                           bool disabled_too)
{
    if (key->state == KMS_STATE_PENDING_DELETION ||
        key->state == KMS_STATE_PENDING_REPLICA_DELETION ||
        (disabled_too && key->state == KMS_STATE_DISABLED))
        return kms_state_error(call, key);
    return NULL;
}

struct moat_error *kms_dry_run(struct moat_call *call)
{
    return moat_fail(call, &kms_dry_run_operation,
                     "The request would have succeeded, but the DryRun option is set.");
}

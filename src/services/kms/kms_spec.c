/* kms_spec.c: the key specs KMS offers, the usages and algorithms each allows, and
 * the names of key states and usages.
 * https://docs.aws.amazon.com/kms/latest/developerguide/symm-asymm-choose-key-spec.html */
#include "services/kms/kms.h"

#include <string.h>

#define U(x) (1u << (x))

static const char *const enc_symmetric[] = {"SYMMETRIC_DEFAULT", NULL};
static const char *const enc_rsa[] = {"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", NULL};
static const char *const sign_rsa[] = {"RSASSA_PKCS1_V1_5_SHA_256",
                                       "RSASSA_PKCS1_V1_5_SHA_384",
                                       "RSASSA_PKCS1_V1_5_SHA_512",
                                       "RSASSA_PSS_SHA_256",
                                       "RSASSA_PSS_SHA_384",
                                       "RSASSA_PSS_SHA_512",
                                       NULL};
static const char *const sign_p256[] = {"ECDSA_SHA_256", NULL};
static const char *const sign_p384[] = {"ECDSA_SHA_384", NULL};
static const char *const sign_p521[] = {"ECDSA_SHA_512", NULL};
static const char *const sign_ed25519[] = {"ED25519_SHA_512", "ED25519_PH_SHA_512", NULL};
static const char *const sign_sm2[] = {"SM2DSA", NULL};
static const char *const sign_ml44[] = {"ML_DSA_SHAKE_256", NULL};
static const char *const enc_sm2[] = {"SM2PKE", NULL};
static const char *const ka_ecdh[] = {"ECDH", NULL};
static const char *const mac_224[] = {"HMAC_SHA_224", NULL};
static const char *const mac_256[] = {"HMAC_SHA_256", NULL};
static const char *const mac_384[] = {"HMAC_SHA_384", NULL};
static const char *const mac_512[] = {"HMAC_SHA_512", NULL};

/* Key agreement is offered for the NIST curves (and SM2 in China); secp256k1 signs only. */
static const struct kms_spec specs[] = {
    {"SYMMETRIC_DEFAULT", KMS_FAMILY_AES, 256, NULL, U(KMS_USAGE_ENCRYPT_DECRYPT), true,
     enc_symmetric, NULL, NULL, NULL},
    {"RSA_2048", KMS_FAMILY_RSA, 2048, NULL,
     U(KMS_USAGE_ENCRYPT_DECRYPT) | U(KMS_USAGE_SIGN_VERIFY), true, enc_rsa, sign_rsa, NULL, NULL},
    {"RSA_3072", KMS_FAMILY_RSA, 3072, NULL,
     U(KMS_USAGE_ENCRYPT_DECRYPT) | U(KMS_USAGE_SIGN_VERIFY), true, enc_rsa, sign_rsa, NULL, NULL},
    {"RSA_4096", KMS_FAMILY_RSA, 4096, NULL,
     U(KMS_USAGE_ENCRYPT_DECRYPT) | U(KMS_USAGE_SIGN_VERIFY), true, enc_rsa, sign_rsa, NULL, NULL},
    {"ECC_NIST_P256", KMS_FAMILY_EC, 256, "prime256v1",
     U(KMS_USAGE_SIGN_VERIFY) | U(KMS_USAGE_KEY_AGREEMENT), true, NULL, sign_p256, NULL, ka_ecdh},
    {"ECC_NIST_P384", KMS_FAMILY_EC, 384, "secp384r1",
     U(KMS_USAGE_SIGN_VERIFY) | U(KMS_USAGE_KEY_AGREEMENT), true, NULL, sign_p384, NULL, ka_ecdh},
    {"ECC_NIST_P521", KMS_FAMILY_EC, 521, "secp521r1",
     U(KMS_USAGE_SIGN_VERIFY) | U(KMS_USAGE_KEY_AGREEMENT), true, NULL, sign_p521, NULL, ka_ecdh},
    {"ECC_SECG_P256K1", KMS_FAMILY_EC, 256, "secp256k1", U(KMS_USAGE_SIGN_VERIFY), true, NULL,
     sign_p256, NULL, NULL},
    {"ECC_NIST_EDWARDS25519", KMS_FAMILY_ED, 256, "ED25519", U(KMS_USAGE_SIGN_VERIFY), true, NULL,
     sign_ed25519, NULL, NULL},
    {"HMAC_224", KMS_FAMILY_HMAC, 224, NULL, U(KMS_USAGE_GENERATE_VERIFY_MAC), true, NULL, NULL,
     mac_224, NULL},
    {"HMAC_256", KMS_FAMILY_HMAC, 256, NULL, U(KMS_USAGE_GENERATE_VERIFY_MAC), true, NULL, NULL,
     mac_256, NULL},
    {"HMAC_384", KMS_FAMILY_HMAC, 384, NULL, U(KMS_USAGE_GENERATE_VERIFY_MAC), true, NULL, NULL,
     mac_384, NULL},
    {"HMAC_512", KMS_FAMILY_HMAC, 512, NULL, U(KMS_USAGE_GENERATE_VERIFY_MAC), true, NULL, NULL,
     mac_512, NULL},
    /* Offered by AWS but not by this build (SM2 only in China Regions; ML-DSA needs
     * OpenSSL 3.5). CreateKey refuses them with UnsupportedOperationException. */
    {"SM2", KMS_FAMILY_EC, 256, "SM2",
     U(KMS_USAGE_ENCRYPT_DECRYPT) | U(KMS_USAGE_SIGN_VERIFY) | U(KMS_USAGE_KEY_AGREEMENT), false,
     enc_sm2, sign_sm2, NULL, ka_ecdh},
    {"ML_DSA_44", KMS_FAMILY_EC, 0, NULL, U(KMS_USAGE_SIGN_VERIFY), false, NULL, sign_ml44, NULL,
     NULL},
    {"ML_DSA_65", KMS_FAMILY_EC, 0, NULL, U(KMS_USAGE_SIGN_VERIFY), false, NULL, sign_ml44, NULL,
     NULL},
    {"ML_DSA_87", KMS_FAMILY_EC, 0, NULL, U(KMS_USAGE_SIGN_VERIFY), false, NULL, sign_ml44, NULL,
     NULL},
};

const struct kms_spec *kms_spec_find(struct moat_slice name)
{
    for (size_t i = 0; i < MOAT_COUNT(specs); i++)
        if (moat_slice_eq_cstr(name, specs[i].name))
            return &specs[i];
    return NULL;
}

const struct kms_spec *kms_spec_symmetric(void)
{
    return &specs[0];
}

static const char *const usage_names[] = {
    [KMS_USAGE_ENCRYPT_DECRYPT] = "ENCRYPT_DECRYPT",
    [KMS_USAGE_SIGN_VERIFY] = "SIGN_VERIFY",
    [KMS_USAGE_GENERATE_VERIFY_MAC] = "GENERATE_VERIFY_MAC",
    [KMS_USAGE_KEY_AGREEMENT] = "KEY_AGREEMENT",
};

const char *kms_usage_name(enum kms_usage u)
{
    return (size_t)u < MOAT_COUNT(usage_names) ? usage_names[u] : "ENCRYPT_DECRYPT";
}

bool kms_usage_parse(struct moat_slice s, enum kms_usage *out)
{
    for (size_t i = 0; i < MOAT_COUNT(usage_names); i++)
        if (moat_slice_eq_cstr(s, usage_names[i])) {
            *out = (enum kms_usage)i;
            return true;
        }
    return false;
}

bool kms_alg_in(const char *const *list, struct moat_slice alg)
{
    for (size_t i = 0; list && list[i]; i++)
        if (moat_slice_eq_cstr(alg, list[i]))
            return true;
    return false;
}

static const char *const state_names[] = {
    [KMS_STATE_ENABLED] = "Enabled",
    [KMS_STATE_DISABLED] = "Disabled",
    [KMS_STATE_PENDING_DELETION] = "PendingDeletion",
    [KMS_STATE_PENDING_IMPORT] = "PendingImport",
    [KMS_STATE_PENDING_REPLICA_DELETION] = "PendingReplicaDeletion",
    [KMS_STATE_UNAVAILABLE] = "Unavailable",
    [KMS_STATE_CREATING] = "Creating",
    [KMS_STATE_UPDATING] = "Updating",
};

const char *kms_state_name(enum kms_state s)
{
    return (size_t)s < MOAT_COUNT(state_names) ? state_names[s] : "Unavailable";
}

enum kms_state kms_state_parse(struct moat_slice s)
{
    for (size_t i = 0; i < MOAT_COUNT(state_names); i++)
        if (moat_slice_eq_cstr(s, state_names[i]))
            return (enum kms_state)i;
    return KMS_STATE_UNAVAILABLE;
}

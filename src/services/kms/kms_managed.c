/* kms_managed.c: AWS managed keys (alias/aws/<service>), created the first time one of
 * moat's services uses them on an account's behalf. Their policy lets the account use
 * them only through that service; nobody may change, disable or delete them.
 * https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key */
#include "server/server.h"
#include "services/kms/kms.h"

#include <string.h>

#define DAY_MS (24LL * 3600 * 1000)

/* The key policy of an AWS managed key, in the layout GetKeyPolicy returns. */
static struct moat_slice managed_policy(struct moat_call *call, const char *service)
{
    return moat_slice_cstr(moat_arena_printf(
        call->arena,
        "{\n"
        "  \"Version\" : \"2012-10-17\",\n"
        "  \"Id\" : \"auto-%s-1\",\n"
        "  \"Statement\" : [ {\n"
        "    \"Sid\" : \"Allow access through %s for all principals in the account that are "
        "authorized to use %s\",\n"
        "    \"Effect\" : \"Allow\",\n"
        "    \"Principal\" : {\n"
        "      \"AWS\" : \"*\"\n"
        "    },\n"
        "    \"Action\" : [ \"kms:Encrypt\", \"kms:Decrypt\", \"kms:ReEncrypt*\", "
        "\"kms:GenerateDataKey*\", \"kms:CreateGrant\", \"kms:DescribeKey\" ],\n"
        "    \"Resource\" : \"*\",\n"
        "    \"Condition\" : {\n"
        "      \"StringEquals\" : {\n"
        "        \"kms:CallerAccount\" : \"%s\",\n"
        "        \"kms:ViaService\" : \"%s.%s.amazonaws.com\"\n"
        "      }\n"
        "    }\n"
        "  }, {\n"
        "    \"Sid\" : \"Allow direct access to key metadata to the account\",\n"
        "    \"Effect\" : \"Allow\",\n"
        "    \"Principal\" : {\n"
        "      \"AWS\" : \"arn:aws:iam::%s:root\"\n"
        "    },\n"
        "    \"Action\" : [ \"kms:Describe*\", \"kms:Get*\", \"kms:List*\", "
        "\"kms:RevokeGrant\" ],\n"
        "    \"Resource\" : \"*\"\n"
        "  } ]\n"
        "}",
        service, service, service, call->account_id, service, call->region, call->account_id));
}

struct moat_error *kms_managed_key_create(struct moat_call *call, struct moat_slice alias)
{
    struct moat_arena *a = call->arena;
    const char *service = moat_arena_cstr(a, moat_slice_sub(alias, 10, alias.len));
    char key_id[40];
    kms_new_key_id(key_id, false);
    struct kms_key key;
    memset(&key, 0, sizeof(key));
    key.account = call->account_id;
    key.region = call->region;
    key.key_id = key_id;
    key.doc = kms_doc_new(
        call, key_id, call->account_id, call->region, kms_spec_symmetric(),
        KMS_USAGE_ENCRYPT_DECRYPT, "AWS_KMS", true,
        moat_slice_cstr(moat_arena_printf(
            a, "Default key that protects my %s data when no other key is defined", service)),
        managed_policy(call, service), false);
    struct moat_value *rot = moat_value_map(a);
    moat_map_set_bool(a, rot, "Enabled", true);
    moat_map_set_int(a, rot, "PeriodDays", 365);
    moat_map_set_int(a, rot, "Next", call->now_ms + 365 * DAY_MS);
    moat_map_set(a, key.doc, MOAT_LIT("Rotation"), rot);
    struct moat_value *aliases = moat_map_get(key.doc, "Aliases");
    moat_list_push(a, aliases, moat_value_string(a, moat_arena_dup(a, alias)));
    struct moat_slice secret;
    if (!kms_crypto_generate(a, kms_spec_symmetric(), &secret))
        return moat_internal(call, "key generation failed");
    kms_material_add(call, &key, secret, NULL, false, 0, true);
    struct moat_error *err = kms_key_save(call, &key);
    if (!err)
        err = kms_alias_put(call, alias, key_id, call->now_ms, 0);
    return err;
}

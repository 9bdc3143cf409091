/* kms_managed.c: AWS managed keys (alias/aws/<service>), created the first time one of
 * moat's services uses them on an account's behalf. Their policy lets the account use
 * them only through that service; nobody may change, disable or delete them.
 * https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key */
#include "server/server.h"
#include "server/scheduler.h"
#include "server/server.h"
#include "services/kms/kms.h"
#include "store/store.h"

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

/* The aliases AWS predefines for its managed keys (a DescribeKey on one creates it). */
static const char *const predefined[] = {"acm",
                                         "backup",
                                         "cloudtrail",
                                         "codecommit",
                                         "dynamodb",
                                         "ebs",
                                         "elasticfilesystem",
                                         "es",
                                         "fsx",
                                         "glue",
                                         "kinesis",
                                         "kinesisvideo",
                                         "lambda",
                                         "lightsail",
                                         "rds",
                                         "redshift",
                                         "s3",
                                         "secretsmanager",
                                         "sns",
                                         "sqs",
                                         "ssm",
                                         "xray",
                                         NULL};

bool kms_alias_is_predefined(struct moat_slice name)
{
    return kms_alias_is_aws(name) && kms_alg_in(predefined, moat_slice_sub(name, 10, name.len));
}

struct create_arg {
    struct moat_slice alias;
};

static void create_exec(struct moat_call *call, void *arg)
{
    struct create_arg *c = arg;
    struct store_record r;
    struct moat_slice rk = kms_record_key(call->arena, call->account_id, call->region,
                                          moat_arena_cstr(call->arena, c->alias));
    enum store_status st = store_get(call->db, call->arena, KMS_NS_ALIAS, rk, &r);
    if (st == STORE_OK)
        return; /* another request made it meanwhile */
    if (st != STORE_NOT_FOUND) {
        call->error = moat_internal(call, "store read of a KMS alias failed");
        return;
    }
    call->error = kms_managed_key_create(call, c->alias);
}

struct moat_error *kms_managed_key_event(struct moat_call *call, struct moat_slice alias)
{
    struct create_arg c = {alias};
    if (!moat_service_event(call->server, "kms", "CreateKey", call->account_id, call->region, false,
                            create_exec, &c))
        return moat_internal(call, "creating an AWS managed key failed");
    return NULL;
}

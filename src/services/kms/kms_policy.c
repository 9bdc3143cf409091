/* kms_policy.c: key policies: GetKeyPolicy, PutKeyPolicy (with the lockout safety
 * check) and ListKeyPolicies. A KMS key has exactly one policy, named "default".
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html */
#include "aws/shapes/shapes_kms.h"
#include "iam/iam_policy.h"
#include "server/server.h"
#include "services/kms/kms.h"

static struct moat_error *check_name(struct moat_call *call, const struct moat_value *in,
                                     unsigned member)
{
    if (moat_has(in, member) && !moat_slice_eq_cstr(moat_get_str(in, member), "default"))
        return moat_fail(call, &kms_not_found,
                         "No such policy exists: %.*s. A KMS key has one key policy, named "
                         "default.",
                         MOAT_FMT(moat_get_str(in, member)));
    return NULL;
}

KMS_HANDLER(kms_get_key_policy)
{
    struct moat_error *err = check_name(call, in, KMS_GET_KEY_POLICY_REQUEST_POLICY_NAME);
    if (err)
        return err;
    const struct kms_key *key = kms_call_state(call)->key;
    moat_set_str(call->arena, out, KMS_GET_KEY_POLICY_RESPONSE_POLICY, key->policy);
    moat_set_cstr(call->arena, out, KMS_GET_KEY_POLICY_RESPONSE_POLICY_NAME, "default");
    return NULL;
}

KMS_HANDLER(kms_list_key_policies)
{
    struct moat_value *l =
        moat_set_list(call->arena, out, KMS_LIST_KEY_POLICIES_RESPONSE_POLICY_NAMES);
    moat_list_add_str(call->arena, l, MOAT_LIT("default"));
    moat_set_bool(call->arena, out, KMS_LIST_KEY_POLICIES_RESPONSE_TRUNCATED, false);
    return NULL;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html */
KMS_HANDLER(kms_put_key_policy)
{
    struct moat_error *err = check_name(call, in, KMS_PUT_KEY_POLICY_REQUEST_POLICY_NAME);
    if (err)
        return err;
    struct kms_call *st = kms_call_state(call);
    struct kms_key key;
    err = kms_key_read(call, st->ref.account, st->ref.region, st->ref.key_id, &key);
    if (err)
        return err;
    struct moat_slice text = moat_get_str(in, KMS_PUT_KEY_POLICY_REQUEST_POLICY);
    struct iam_policy *compiled = NULL;
    err = kms_policy_compile(call, text, &compiled);
    if (err)
        return err;
    if (!moat_get_bool(in, KMS_PUT_KEY_POLICY_REQUEST_BYPASS_POLICY_LOCKOUT_SAFETY_CHECK, false))
        err = kms_policy_lockout_check(call, compiled, key.arn, key.account);
    iam_policy_unref(compiled);
    if (err)
        return err;
    kms_doc_set_str(call->arena, key.doc, "Policy", text);
    return kms_key_save(call, &key);
}

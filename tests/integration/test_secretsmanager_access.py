"""Who may read a secret: IAM policies with Secrets Manager's actions and condition keys,
secret resource policies, KMS key policies reached through Secrets Manager
(kms:ViaService, kms:EncryptionContext), and a secret shared with another account of the
organization through its resource policy and a key policy that lets that account decrypt
only via Secrets Manager."""
import json
import uuid

import pytest
from botocore.exceptions import ClientError
from moat_harness import doc, allow, deny

MGMT = "000000000000"
VIA = "secretsmanager.us-east-1.amazonaws.com"


def uniq(prefix="a"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def err(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def user(moat, *statements):
    iam = moat.client("iam")
    name = uniq("u")
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    arn = iam.get_user(UserName=name)["User"]["Arn"]
    return arn, lambda service: moat.client(service, access_key=key["AccessKeyId"],
                                            secret_key=key["SecretAccessKey"])


@pytest.fixture(scope="module")
def sm(moat):
    return moat.client("secretsmanager")


# ---- IAM and KMS --------------------------------------------------------------------------


def test_get_secret_value_needs_kms_decrypt(moat, sm):
    name = uniq("kmsdeny")
    sm.create_secret(Name=name, SecretString="hidden")
    _, reader = user(moat, allow("secretsmanager:GetSecretValue"))
    # aws/secretsmanager's key policy lets every principal of the account use it through
    # Secrets Manager: no kms permission is needed in the user's policy.
    assert reader("secretsmanager").get_secret_value(SecretId=name)["SecretString"] == "hidden"
    _, denied = user(moat, allow("secretsmanager:GetSecretValue"), deny("kms:Decrypt"))
    with pytest.raises(ClientError) as e:
        denied("secretsmanager").get_secret_value(SecretId=name)
    assert err(e) == ("AccessDeniedException", "Access to KMS is not allowed")
    _, writer = user(moat, allow(["secretsmanager:CreateSecret", "secretsmanager:PutSecretValue"]),
                     deny("kms:GenerateDataKey"))
    with pytest.raises(ClientError) as e:
        writer("secretsmanager").create_secret(Name=uniq("nokey"), SecretString="x")
    assert err(e) == ("AccessDeniedException", "Access to KMS is not allowed")
    # nothing of the refused CreateSecret was kept
    with pytest.raises(ClientError) as e:
        writer("secretsmanager").put_secret_value(SecretId=name, SecretString="y")
    assert err(e)[0] == "AccessDeniedException"
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "hidden"


def test_denial_message_and_tag_conditions(moat, sm):
    blue = sm.create_secret(Name=uniq("blue"), SecretString="b",
                            Tags=[{"Key": "team", "Value": "blue"}])["ARN"]
    red = sm.create_secret(Name=uniq("red"), SecretString="r",
                           Tags=[{"Key": "team", "Value": "red"}])["ARN"]
    arn, c = user(moat, allow("secretsmanager:GetSecretValue", Condition={
        "StringEquals": {"secretsmanager:ResourceTag/team": "blue"}}))
    assert c("secretsmanager").get_secret_value(SecretId=blue)["SecretString"] == "b"
    with pytest.raises(ClientError) as e:
        c("secretsmanager").get_secret_value(SecretId=red)
    assert err(e) == ("AccessDeniedException",
                      "User: %s is not authorized to perform: secretsmanager:GetSecretValue on "
                      "resource: %s because no identity-based policy allows the "
                      "secretsmanager:GetSecretValue action" % (arn, red))
    # aws:ResourceTag works the same
    _, c2 = user(moat, allow("secretsmanager:DescribeSecret", Condition={
        "StringEquals": {"aws:ResourceTag/team": "red"}}))
    assert c2("secretsmanager").describe_secret(SecretId=red)["ARN"] == red
    with pytest.raises(ClientError):
        c2("secretsmanager").describe_secret(SecretId=blue)


def test_version_stage_and_secret_id_conditions(moat, sm):
    name = uniq("stage")
    arn = sm.create_secret(Name=name, SecretString="v1")["ARN"]
    sm.put_secret_value(SecretId=name, SecretString="v2")
    _, c = user(moat, allow("secretsmanager:GetSecretValue", Condition={
        "StringEquals": {"secretsmanager:VersionStage": "AWSPREVIOUS",
                         "secretsmanager:SecretId": arn}}))
    assert c("secretsmanager").get_secret_value(SecretId=name,
                                                VersionStage="AWSPREVIOUS")["SecretString"] == "v1"
    with pytest.raises(ClientError) as e:
        c("secretsmanager").get_secret_value(SecretId=name)
    assert err(e)[0] == "AccessDeniedException"


def test_a_secret_that_does_not_exist_is_not_revealed(moat):
    _, c = user(moat, allow("secretsmanager:GetSecretValue",
                            "arn:aws:secretsmanager:*:*:secret:mine-*"))
    with pytest.raises(ClientError) as e:
        c("secretsmanager").get_secret_value(SecretId=uniq("theirs"))
    assert err(e)[0] == "AccessDeniedException"
    # a name the policy covers: the caller may know that it does not exist
    with pytest.raises(ClientError) as e:
        c("secretsmanager").get_secret_value(SecretId=uniq("mine"))
    assert err(e)[0] == "ResourceNotFoundException"


def test_create_secret_conditions(moat):
    _, c = user(moat, allow("secretsmanager:CreateSecret", Condition={
        "StringLike": {"secretsmanager:Name": "team-a/*"},
        "StringEquals": {"aws:RequestTag/owner": "a"}}))
    s = c("secretsmanager")
    s.create_secret(Name="team-a/" + uniq(), SecretString="x", Tags=[{"Key": "owner", "Value": "a"}])
    for kw in ({"Name": "team-b/" + uniq(), "Tags": [{"Key": "owner", "Value": "a"}]},
               {"Name": "team-a/" + uniq(), "Tags": [{"Key": "owner", "Value": "b"}]}):
        with pytest.raises(ClientError) as e:
            s.create_secret(SecretString="x", **kw)
        assert err(e)[0] == "AccessDeniedException"


def test_resource_policy_grants_and_denies(moat, sm):
    name = uniq("rp")
    arn = sm.create_secret(Name=name, SecretString="shared")["ARN"]
    reader_arn, reader = user(moat)  # no identity policy at all
    blocked_arn, blocked = user(moat, allow("secretsmanager:*"))
    with pytest.raises(ClientError):
        reader("secretsmanager").get_secret_value(SecretId=arn)
    sm.put_resource_policy(SecretId=name, ResourcePolicy=doc(
        {"Effect": "Allow", "Principal": {"AWS": reader_arn},
         "Action": "secretsmanager:GetSecretValue", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": blocked_arn},
         "Action": "secretsmanager:*", "Resource": "*"}))
    assert reader("secretsmanager").get_secret_value(SecretId=arn)["SecretString"] == "shared"
    with pytest.raises(ClientError) as e:
        reader("secretsmanager").describe_secret(SecretId=arn)
    assert err(e)[0] == "AccessDeniedException"
    with pytest.raises(ClientError) as e:
        blocked("secretsmanager").get_secret_value(SecretId=arn)
    assert err(e)[0] == "AccessDeniedException"
    assert "explicit deny in a resource-based policy" in err(e)[1]


def test_batch_get_checks_each_secret(moat, sm):
    s = moat.client("secretsmanager")
    if "BatchGetSecretValue" not in s.meta.service_model.operation_names:
        pytest.skip("this botocore has no BatchGetSecretValue")
    ok = sm.create_secret(Name=uniq("bok"), SecretString="1", Tags=[{"Key": "b", "Value": "y"}])
    no = sm.create_secret(Name=uniq("bno"), SecretString="2")
    _, c = user(moat, allow("secretsmanager:BatchGetSecretValue"),
                allow("secretsmanager:GetSecretValue", Condition={
                    "StringEquals": {"secretsmanager:ResourceTag/b": "y"}}))
    r = c("secretsmanager").batch_get_secret_value(SecretIdList=[ok["ARN"], no["ARN"]])
    assert [v["ARN"] for v in r["SecretValues"]] == [ok["ARN"]]
    assert [(x["SecretId"], x["ErrorCode"]) for x in r["Errors"]] == \
        [(no["ARN"], "AccessDeniedException")]
    with pytest.raises(ClientError) as e:  # filters need secretsmanager:ListSecrets too
        c("secretsmanager").batch_get_secret_value(Filters=[{"Key": "name", "Values": ["b"]}])
    assert err(e)[0] == "AccessDeniedException"


def test_customer_key_policy_via_secrets_manager_only(moat, sm):
    kms = moat.client("kms")
    arn, c = user(moat, allow("secretsmanager:*"))
    key = kms.create_key(Policy=doc(
        {"Sid": "root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % MGMT},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "via", "Effect": "Allow", "Principal": {"AWS": arn},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": VIA}}}))["KeyMetadata"]
    name = uniq("cmk")
    created = c("secretsmanager").create_secret(Name=name, SecretString="via-only",
                                                KmsKeyId=key["Arn"])
    d = sm.describe_secret(SecretId=name)
    assert d["KmsKeyId"] == key["Arn"]
    versions = sm.list_secret_version_ids(SecretId=name)["Versions"]
    assert versions[0]["KmsKeyIds"] == [key["Arn"]]
    assert c("secretsmanager").get_secret_value(SecretId=name)["SecretString"] == "via-only"
    # the same user may not use the key directly
    with pytest.raises(ClientError) as e:
        c("kms").encrypt(KeyId=key["Arn"], Plaintext=b"x")
    assert err(e)[0] == "AccessDeniedException"
    blob = moat.client("kms").encrypt(KeyId=key["Arn"], Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as e:
        c("kms").decrypt(CiphertextBlob=blob)
    assert err(e)[0] == "AccessDeniedException"
    assert created["VersionId"]


def test_encryption_context_condition_and_key_change(moat, sm):
    kms = moat.client("kms")
    name = uniq("ctx")
    # the key may only protect one secret: its ARN is not known before it exists, so the
    # secret starts under aws/secretsmanager and moves to the key afterwards
    arn = sm.create_secret(Name=name, SecretString="first")["ARN"]
    key = kms.create_key(Policy=doc(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % MGMT},
         "Action": ["kms:DescribeKey", "kms:PutKeyPolicy", "kms:GetKeyPolicy",
                    "kms:DisableKey", "kms:EnableKey"], "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % MGMT},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:SecretARN": arn}}}))["KeyMetadata"]
    sm.update_secret(SecretId=name, KmsKeyId=key["KeyId"])
    # the AWSCURRENT version was re-encrypted under the new key
    v = sm.list_secret_version_ids(SecretId=name)["Versions"][0]
    assert v["KmsKeyIds"] == [key["Arn"]]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "first"
    sm.put_secret_value(SecretId=name, SecretString="second")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "second"
    other = uniq("ctx-other")
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name=other, SecretString="x", KmsKeyId=key["Arn"])
    assert err(e) == ("AccessDeniedException", "Access to KMS is not allowed")
    with pytest.raises(ClientError) as e:
        sm.describe_secret(SecretId=other)
    assert err(e)[0] == "ResourceNotFoundException"
    # a disabled key: reads fail with DecryptionFailure
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId=name)
    assert err(e)[0] == "DecryptionFailure"
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name=uniq(), SecretString="x", KmsKeyId="alias/does-not-exist")
    assert err(e)[0] == "EncryptionFailure"
    kms.enable_key(KeyId=key["KeyId"])
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "second"


# ---- two accounts ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def member(moat):
    """A member account of an organization, reached from an admin user of the management
    account through OrganizationAccountAccessRole."""
    o = moat.client("organizations")
    o.create_organization(FeatureSet="ALL")
    iam = moat.client("iam")
    iam.create_user(UserName="sm-admin")
    iam.attach_user_policy(UserName="sm-admin",
                           PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    k = iam.create_access_key(UserName="sm-admin")["AccessKey"]
    st = o.create_account(Email="sm-member@example.com", AccountName="sm-member")
    req = st["CreateAccountStatus"]["Id"]
    account = o.describe_create_account_status(
        CreateAccountRequestId=req)["CreateAccountStatus"]["AccountId"]
    sts = moat.client("sts", access_key=k["AccessKeyId"], secret_key=k["SecretAccessKey"])
    c = sts.assume_role(RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % account,
                        RoleSessionName="reader")["Credentials"]
    return account, lambda service: moat.client(service, access_key=c["AccessKeyId"],
                                                secret_key=c["SecretAccessKey"],
                                                session_token=c["SessionToken"])


def test_secret_shared_with_another_account(moat, sm, member):
    account, as_member = member
    kms = moat.client("kms")
    key = kms.create_key(Policy=doc(
        {"Sid": "owner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % MGMT},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "member-via-secrets-manager", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::%s:root" % account}, "Action": "kms:Decrypt",
         "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": VIA}}}))["KeyMetadata"]
    name = uniq("shared")
    arn = sm.create_secret(Name=name, SecretString="for the member", KmsKeyId=key["Arn"])["ARN"]
    reader = as_member("secretsmanager")
    assert as_member("sts").get_caller_identity()["Account"] == account
    # no resource policy yet: the owner's account does not trust the member
    with pytest.raises(ClientError) as e:
        reader.get_secret_value(SecretId=arn)
    assert err(e)[0] == "AccessDeniedException"
    sm.put_resource_policy(SecretId=name, BlockPublicPolicy=True, ResourcePolicy=doc(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % account},
         "Action": "secretsmanager:GetSecretValue", "Resource": "*"}))
    assert reader.get_secret_value(SecretId=arn)["SecretString"] == "for the member"
    # by name the member finds only its own account's secrets
    with pytest.raises(ClientError) as e:
        reader.get_secret_value(SecretId=name)
    assert err(e)[0] in ("ResourceNotFoundException", "AccessDeniedException")
    # the resource policy grants GetSecretValue only
    with pytest.raises(ClientError) as e:
        reader.put_secret_value(SecretId=arn, SecretString="overwrite")
    assert err(e)[0] == "AccessDeniedException"
    # the key policy lets the member decrypt only through Secrets Manager
    blob = kms.encrypt(KeyId=key["Arn"], Plaintext=b"direct")["CiphertextBlob"]
    with pytest.raises(ClientError) as e:
        as_member("kms").decrypt(CiphertextBlob=blob, KeyId=key["Arn"])
    assert err(e)[0] == "AccessDeniedException"
    # CloudTrail: the owner's records show the member's call and the KMS call it caused
    recs = []
    import sqlite3
    if not moat.store_url:
        db = sqlite3.connect("file:%s/moat.db?mode=ro" % moat.data_dir, uri=True)
        recs = [json.loads(r[0]) for r in db.execute(
            "SELECT record FROM audit WHERE event_name IN ('GetSecretValue', 'Decrypt') "
            "ORDER BY seq")]
        db.close()
        mine = [r for r in recs if r["userIdentity"].get("accountId") == account and
                r["eventName"] == "Decrypt" and
                r["requestParameters"].get("encryptionContext", {}).get("SecretARN") == arn]
        assert mine and mine[-1]["userIdentity"]["invokedBy"] == "secretsmanager.amazonaws.com"


def test_default_key_cannot_be_shared(moat, sm, member):
    account, as_member = member
    name = uniq("default-key")
    arn = sm.create_secret(Name=name, SecretString="x")["ARN"]
    sm.put_resource_policy(SecretId=name, ResourcePolicy=doc(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % account},
         "Action": "secretsmanager:GetSecretValue", "Resource": "*"}))
    with pytest.raises(ClientError) as e:
        as_member("secretsmanager").get_secret_value(SecretId=arn)
    assert err(e) == ("InvalidRequestException",
                      "You can't access a secret from a different AWS account if you encrypt the "
                      "secret with the default KMS service key.")

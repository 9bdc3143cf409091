"""KMS authorization with IAM principals: the key policy is the primary control and IAM
policies count only where it lets the account in; grants add permissions; kms:
condition keys; and cross-account use of a key through its policy (a second account
from Organizations CreateAccount, reached with sts:AssumeRole)."""
import datetime
import json
import time

import pytest
from botocore.exceptions import ClientError

from moat_harness import client_error_code, doc

A = "000000000000"
ROOT = "arn:aws:iam::%s:root" % A


def allow(actions, resource="*", condition=None, principal=None, effect="Allow"):
    st = {"Effect": effect, "Action": actions, "Resource": resource}
    if principal:
        st["Principal"] = principal
    if condition:
        st["Condition"] = condition
    return st


def err(e):
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


@pytest.fixture(scope="module")
def env(moat):
    iam = moat.client("iam")
    users = {}
    for name in ("alice", "bob", "admin"):
        arn = iam.create_user(UserName=name)["User"]["Arn"]
        k = iam.create_access_key(UserName=name)["AccessKey"]
        users[name] = (arn, moat.client("kms", access_key=k["AccessKeyId"], secret_key=k["SecretAccessKey"]),
                       k["AccessKeyId"], k["SecretAccessKey"])
    iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=doc(allow("*")))
    return {"iam": iam, "users": users, "root": moat.client("kms"), "moat": moat}


def test_iam_policies_count_only_through_the_key_policy(env):
    root, iam = env["root"], env["iam"]
    alice_arn, alice, _, _ = env["users"]["alice"]
    default_key = root.create_key()["KeyMetadata"]
    with pytest.raises(ClientError) as e:
        alice.encrypt(KeyId=default_key["KeyId"], Plaintext=b"x")
    code, msg = err(e)
    assert code == "AccessDeniedException"
    assert msg == ("User: %s is not authorized to perform: kms:Encrypt on resource: %s because no "
                   "identity-based policy allows the kms:Encrypt action" % (alice_arn, default_key["Arn"]))
    iam.put_user_policy(UserName="alice", PolicyName="kms", PolicyDocument=doc(
        allow(["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"])))
    alice.encrypt(KeyId=default_key["KeyId"], Plaintext=b"x")
    # a key policy that does not let the account in: IAM policies do not count
    closed = root.create_key(Policy=doc(allow("kms:*", principal={"AWS": env["users"]["admin"][0]})),
                             BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]
    with pytest.raises(ClientError) as e:
        alice.encrypt(KeyId=closed["KeyId"], Plaintext=b"x")
    code, msg = err(e)
    assert code == "AccessDeniedException" and "no resource-based policy allows" in msg
    env["users"]["admin"][1].encrypt(KeyId=closed["KeyId"], Plaintext=b"x")
    # a key policy that names alice allows her without any IAM policy
    bob_arn, bob, _, _ = env["users"]["bob"]
    direct = root.create_key(Policy=doc(allow("kms:*", principal={"AWS": ROOT}),
                                        allow(["kms:Encrypt", "kms:DescribeKey"], principal={"AWS": bob_arn})))["KeyMetadata"]
    bob.encrypt(KeyId=direct["KeyId"], Plaintext=b"x")
    with pytest.raises(ClientError) as e:
        bob.decrypt(CiphertextBlob=bob.encrypt(KeyId=direct["KeyId"], Plaintext=b"x")["CiphertextBlob"])
    assert client_error_code(e.value) == "AccessDeniedException"
    # an explicit deny in IAM wins over the key policy
    iam.put_user_policy(UserName="bob", PolicyName="deny", PolicyDocument=doc(
        allow("kms:Encrypt", effect="Deny")))
    with pytest.raises(ClientError) as e:
        bob.encrypt(KeyId=direct["KeyId"], Plaintext=b"x")
    code, msg = err(e)
    assert code == "AccessDeniedException" and "explicit deny in an identity-based policy" in msg
    iam.delete_user_policy(UserName="bob", PolicyName="deny")


def test_create_key_with_tags_needs_tag_resource(env):
    iam = env["iam"]
    _, bob, _, _ = env["users"]["bob"]
    iam.put_user_policy(UserName="bob", PolicyName="create", PolicyDocument=doc(allow("kms:CreateKey")))
    bob.create_key(Description="untagged")
    with pytest.raises(ClientError) as e:
        bob.create_key(Tags=[{"TagKey": "a", "TagValue": "b"}])
    code, msg = err(e)
    assert code == "AccessDeniedException" and "kms:TagResource" in msg
    iam.put_user_policy(UserName="bob", PolicyName="create", PolicyDocument=doc(
        allow(["kms:CreateKey", "kms:TagResource"], condition={"StringEquals": {"aws:RequestTag/a": "b"}})))
    bob.create_key(Tags=[{"TagKey": "a", "TagValue": "b"}])
    with pytest.raises(ClientError) as e:
        bob.create_key(Tags=[{"TagKey": "a", "TagValue": "c"}])
    assert client_error_code(e.value) == "AccessDeniedException"
    iam.delete_user_policy(UserName="bob", PolicyName="create")


def test_condition_keys(env):
    root, iam = env["root"], env["iam"]
    _, alice, _, _ = env["users"]["alice"]
    key = root.create_key(Tags=[{"TagKey": "project", "TagValue": "blue"}])["KeyMetadata"]
    root.create_alias(AliasName="alias/blue-app", TargetKeyId=key["KeyId"])
    iam.put_user_policy(UserName="alice", PolicyName="kms", PolicyDocument=doc(
        allow("kms:Encrypt", condition={"StringEquals": {"kms:EncryptionContext:tenant": "t1",
                                                          "aws:ResourceTag/project": "blue"}}),
        allow("kms:GenerateDataKey", condition={"StringEquals": {"kms:RequestAlias": "alias/blue-app"}}),
        allow("kms:Decrypt", condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/blue-app"},
                                        "StringEquals": {"kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
                                                         "kms:CallerAccount": A}}),
        allow("kms:DescribeKey", condition={"StringEquals": {"kms:KeySpec": "SYMMETRIC_DEFAULT",
                                                             "kms:KeyOrigin": "AWS_KMS",
                                                             "kms:KeyUsage": "ENCRYPT_DECRYPT"},
                                            "Bool": {"kms:MultiRegion": "false"}}),
        allow("kms:ScheduleKeyDeletion", condition={"NumericGreaterThanEquals": {
            "kms:ScheduleKeyDeletionPendingWindowInDays": 20}})))
    blob = alice.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"tenant": "t1"})["CiphertextBlob"]
    with pytest.raises(ClientError) as e:
        alice.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"tenant": "t2"})
    assert client_error_code(e.value) == "AccessDeniedException"
    alice.generate_data_key(KeyId="alias/blue-app", KeySpec="AES_256")
    with pytest.raises(ClientError) as e:
        alice.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")
    assert client_error_code(e.value) == "AccessDeniedException"
    assert alice.decrypt(CiphertextBlob=blob, EncryptionContext={"tenant": "t1"})["Plaintext"] == b"x"
    alice.describe_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as e:
        alice.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    assert client_error_code(e.value) == "AccessDeniedException"
    alice.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=25)
    root.cancel_key_deletion(KeyId=key["KeyId"])
    # removing the tag removes the permission
    root.untag_resource(KeyId=key["KeyId"], TagKeys=["project"])
    with pytest.raises(ClientError) as e:
        alice.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"tenant": "t1"})
    assert client_error_code(e.value) == "AccessDeniedException"
    iam.delete_user_policy(UserName="alice", PolicyName="kms")


def test_grants_for_users(env):
    root = env["root"]
    alice_arn, alice, _, _ = env["users"]["alice"]
    bob_arn, bob, _, _ = env["users"]["bob"]
    key = root.create_key()["KeyMetadata"]
    with pytest.raises(ClientError) as e:
        alice.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    assert client_error_code(e.value) == "AccessDeniedException"
    g = root.create_grant(KeyId=key["KeyId"], GranteePrincipal=alice_arn, RetiringPrincipal=bob_arn,
                          Operations=["Encrypt", "Decrypt", "CreateGrant"],
                          Constraints={"EncryptionContextSubset": {"dept": "x"}})
    blob = alice.encrypt(KeyId=key["Arn"], Plaintext=b"x", EncryptionContext={"dept": "x", "more": "1"},
                         GrantTokens=[g["GrantToken"]])["CiphertextBlob"]
    assert alice.decrypt(CiphertextBlob=blob, EncryptionContext={"dept": "x", "more": "1"})["Plaintext"] == b"x"
    with pytest.raises(ClientError) as e:
        alice.encrypt(KeyId=key["Arn"], Plaintext=b"x", EncryptionContext={"dept": "y"})
    assert client_error_code(e.value) == "AccessDeniedException"
    with pytest.raises(ClientError) as e:
        alice.generate_data_key(KeyId=key["Arn"], KeySpec="AES_256", EncryptionContext={"dept": "x"})
    assert client_error_code(e.value) == "AccessDeniedException"
    # alice may hand on what she has, no more
    g2 = alice.create_grant(KeyId=key["Arn"], GranteePrincipal=bob_arn, Operations=["Decrypt"],
                            Constraints={"EncryptionContextSubset": {"dept": "x"}})
    assert bob.decrypt(CiphertextBlob=blob, EncryptionContext={"dept": "x", "more": "1"})["Plaintext"] == b"x"
    with pytest.raises(ClientError) as e:
        alice.create_grant(KeyId=key["Arn"], GranteePrincipal=bob_arn, Operations=["Decrypt"])
    assert client_error_code(e.value) == "AccessDeniedException"
    with pytest.raises(ClientError) as e:
        alice.create_grant(KeyId=key["Arn"], GranteePrincipal=bob_arn, Operations=["GenerateDataKey"],
                           Constraints={"EncryptionContextSubset": {"dept": "x"}})
    assert client_error_code(e.value) == "AccessDeniedException"
    # bob is the retiring principal of alice's grant; alice cannot retire it
    with pytest.raises(ClientError) as e:
        alice.retire_grant(KeyId=key["Arn"], GrantId=g["GrantId"])
    assert client_error_code(e.value) == "AccessDeniedException"
    bob.retire_grant(KeyId=key["Arn"], GrantId=g["GrantId"])
    with pytest.raises(ClientError) as e:
        alice.encrypt(KeyId=key["Arn"], Plaintext=b"x", EncryptionContext={"dept": "x"})
    assert client_error_code(e.value) == "AccessDeniedException"
    root.revoke_grant(KeyId=key["KeyId"], GrantId=g2["GrantId"])


# ---- cross-account -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def account_b(env):
    """A second account (Organizations CreateAccount) and a session in it."""
    moat = env["moat"]
    _, _, ak, sk = env["users"]["admin"]
    org = moat.client("organizations", access_key=ak, secret_key=sk)
    org.create_organization(FeatureSet="ALL")
    st = org.create_account(Email="b@example.com", AccountName="b")["CreateAccountStatus"]
    for _ in range(100):
        st = org.describe_create_account_status(CreateAccountRequestId=st["Id"])["CreateAccountStatus"]
        if st["State"] != "IN_PROGRESS":
            break
        time.sleep(0.05)
    assert st["State"] == "SUCCEEDED"
    b = st["AccountId"]
    cr = moat.client("sts", access_key=ak, secret_key=sk).assume_role(
        RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % b, RoleSessionName="crossacct")["Credentials"]
    return b, moat.client("kms", access_key=cr["AccessKeyId"], secret_key=cr["SecretAccessKey"],
                          session_token=cr["SessionToken"])


def test_cross_account_through_the_key_policy(env, account_b):
    root = env["root"]
    b, kms_b = account_b
    shared = root.create_key(Policy=doc(
        allow("kms:*", principal={"AWS": ROOT}),
        allow(["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
              principal={"AWS": "arn:aws:iam::%s:root" % b})))["KeyMetadata"]
    private = root.create_key()["KeyMetadata"]
    blob = kms_b.encrypt(KeyId=shared["Arn"], Plaintext=b"across", EncryptionContext={"x": "1"})["CiphertextBlob"]
    # the blob names the key and its account: Decrypt needs no KeyId
    d = kms_b.decrypt(CiphertextBlob=blob, EncryptionContext={"x": "1"})
    assert d["Plaintext"] == b"across" and d["KeyId"] == shared["Arn"]
    assert root.decrypt(CiphertextBlob=blob, EncryptionContext={"x": "1"})["Plaintext"] == b"across"
    assert kms_b.describe_key(KeyId=shared["Arn"])["KeyMetadata"]["AWSAccountId"] == A
    # a bare key id means a key of the caller's own account
    with pytest.raises(ClientError) as e:
        kms_b.encrypt(KeyId=shared["KeyId"], Plaintext=b"x")
    assert client_error_code(e.value) == "NotFoundException"
    with pytest.raises(ClientError) as e:
        kms_b.encrypt(KeyId=private["Arn"], Plaintext=b"x")
    code, msg = err(e)
    assert code == "AccessDeniedException" and "no resource-based policy allows" in msg
    with pytest.raises(ClientError) as e:
        kms_b.schedule_key_deletion(KeyId=shared["Arn"], PendingWindowInDays=7)
    assert client_error_code(e.value) == "AccessDeniedException"
    # a grant to the other account's role works across accounts too
    role = "arn:aws:iam::%s:role/OrganizationAccountAccessRole" % b
    g = root.create_grant(KeyId=private["KeyId"], GranteePrincipal=role, Operations=["Encrypt"])
    kms_b.encrypt(KeyId=private["Arn"], Plaintext=b"x", GrantTokens=[g["GrantToken"]])
    # both accounts see the call in CloudTrail
    now = datetime.datetime.now(datetime.timezone.utc)
    recs = [json.loads(e["CloudTrailEvent"]) for e in env["moat"].client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": shared["Arn"]}],
        StartTime=now - datetime.timedelta(hours=1), EndTime=now + datetime.timedelta(minutes=5))["Events"]]
    enc = [r for r in recs if r["eventName"] == "Encrypt"]
    assert enc and enc[0]["recipientAccountId"] == A
    assert enc[0]["userIdentity"]["accountId"] == b

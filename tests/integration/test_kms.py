"""KMS with symmetric keys, end to end with boto3 and the aws CLI: key life cycle,
Encrypt/Decrypt/ReEncrypt, data keys used for local AES-GCM, aliases, tags, key
policies, grants, deletion after the waiting period (test clock) and AWS's errors."""
import base64
import datetime
import json
import os
import re
import subprocess
import tempfile
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from moat_harness import Moat, client_error_code

ACCOUNT = "000000000000"
ARN_RE = r"arn:aws:kms:us-east-1:%s:key/[0-9a-f-]{36}" % ACCOUNT


def err(e):
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


@pytest.fixture(scope="module")
def kms(moat):
    return moat.client("kms")


def knows(kms, shape, member=None):
    """Whether this botocore's model has an operation/shape member (older clients drop
    members they do not know, and refuse parameters they do not know)."""
    model = kms.meta.service_model
    try:
        if member is None:
            return shape in model.operation_names
        return member in model.shape_for(shape).members
    except Exception:
        return False


def new_key(kms, **kw):
    return kms.create_key(**kw)["KeyMetadata"]


# ---- key life cycle -------------------------------------------------------------


def test_create_and_describe_key(kms):
    md = new_key(kms, Description="billing", Tags=[{"TagKey": "team", "TagValue": "a"}])
    assert re.fullmatch(ARN_RE, md["Arn"])
    assert md["AWSAccountId"] == ACCOUNT
    assert md["KeyState"] == "Enabled" and md["Enabled"] is True
    assert md["KeySpec"] == "SYMMETRIC_DEFAULT" and md["CustomerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert md["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert md["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert md["Origin"] == "AWS_KMS" and md["KeyManager"] == "CUSTOMER"
    assert md["MultiRegion"] is False
    assert md["Description"] == "billing"
    if knows(kms, "KeyMetadata", "CurrentKeyMaterialId"):
        assert re.fullmatch(r"[0-9a-f]{64}", md["CurrentKeyMaterialId"])
    d = kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]
    assert d["Arn"] == md["Arn"] and d["CreationDate"] == md["CreationDate"]
    assert kms.describe_key(KeyId=md["Arn"])["KeyMetadata"]["KeyId"] == md["KeyId"]
    # upper-case hex is the same key
    assert kms.describe_key(KeyId=md["KeyId"].upper())["KeyMetadata"]["KeyId"] == md["KeyId"]
    tags = kms.list_resource_tags(KeyId=md["KeyId"])
    assert tags["Tags"] == [{"TagKey": "team", "TagValue": "a"}] and tags["Truncated"] is False


def test_not_found_errors(kms):
    missing = "11111111-2222-4333-8444-555555555555"
    with pytest.raises(ClientError) as e:
        kms.describe_key(KeyId=missing)
    code, msg = err(e)
    assert code == "NotFoundException"
    assert msg == "Key 'arn:aws:kms:us-east-1:%s:key/%s' does not exist" % (ACCOUNT, missing)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as e:
        kms.describe_key(KeyId="not-a-key")
    assert err(e) == ("NotFoundException", "Invalid keyId not-a-key")
    with pytest.raises(ClientError) as e:
        kms.describe_key(KeyId="alias/nothing-here")
    assert err(e) == ("NotFoundException",
                      "Alias arn:aws:kms:us-east-1:%s:alias/nothing-here is not found." % ACCOUNT)
    with pytest.raises(ClientError) as e:
        kms.describe_key(KeyId="arn:aws:kms:eu-west-1:%s:key/%s" % (ACCOUNT, missing))
    assert err(e) == ("NotFoundException", "Invalid arn eu-west-1")


def test_list_keys_pagination(moat, fresh_moat):
    m = fresh_moat()
    kms = m.client("kms")
    ids = sorted(new_key(kms)["KeyId"] for _ in range(5))
    page = kms.list_keys(Limit=2)
    assert len(page["Keys"]) == 2 and page["Truncated"] is True
    seen = [k["KeyId"] for k in page["Keys"]]
    while page["Truncated"]:
        page = kms.list_keys(Limit=2, Marker=page["NextMarker"])
        seen += [k["KeyId"] for k in page["Keys"]]
    assert sorted(seen) == ids
    for k in kms.list_keys()["Keys"]:
        assert k["KeyArn"].endswith(k["KeyId"])
    with pytest.raises(ClientError) as e:
        kms.list_keys(Marker="garbage")
    assert client_error_code(e.value) == "InvalidMarkerException"
    # the CLI's own paginator walks the pages
    out = m.aws("kms", "list-keys", "--page-size", "2")
    assert sorted(k["KeyId"] for k in out["Keys"]) == ids


def test_enable_disable(kms):
    key = new_key(kms)["KeyId"]
    ct = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    kms.disable_key(KeyId=key)
    md = kms.describe_key(KeyId=key)["KeyMetadata"]
    assert md["KeyState"] == "Disabled" and md["Enabled"] is False
    arn = md["Arn"]
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=key, Plaintext=b"x")
    assert err(e) == ("DisabledException", "%s is disabled." % arn)
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=ct)
    assert client_error_code(e.value) == "DisabledException"
    kms.enable_key(KeyId=key)
    assert kms.decrypt(CiphertextBlob=ct)["Plaintext"] == b"x"


def test_update_description_and_tags(kms):
    key = new_key(kms)["KeyId"]
    kms.update_key_description(KeyId=key, Description="new words")
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["Description"] == "new words"
    kms.tag_resource(KeyId=key, Tags=[{"TagKey": "a", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"}])
    kms.tag_resource(KeyId=key, Tags=[{"TagKey": "a", "TagValue": "3"}])
    kms.untag_resource(KeyId=key, TagKeys=["b"])
    assert kms.list_resource_tags(KeyId=key)["Tags"] == [{"TagKey": "a", "TagValue": "3"}]
    with pytest.raises(ClientError) as e:
        kms.tag_resource(KeyId=key, Tags=[{"TagKey": "aws:x", "TagValue": "1"}])
    assert client_error_code(e.value) == "TagException"
    with pytest.raises(ClientError) as e:
        kms.tag_resource(KeyId=key, Tags=[{"TagKey": "t%d" % i, "TagValue": "v"} for i in range(51)])
    assert client_error_code(e.value) == "LimitExceededException"
    # nothing of the failed request was kept
    assert kms.list_resource_tags(KeyId=key)["Tags"] == [{"TagKey": "a", "TagValue": "3"}]


# ---- encryption ------------------------------------------------------------------------


def test_encrypt_decrypt_with_context(kms):
    md = new_key(kms)
    ctx = {"app": "billing", "tenant": "42"}
    r = kms.encrypt(KeyId=md["KeyId"], Plaintext=b"secret bytes", EncryptionContext=ctx)
    assert r["KeyId"] == md["Arn"] and r["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = r["CiphertextBlob"]
    assert b"secret bytes" not in blob
    d = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"tenant": "42", "app": "billing"})
    assert d["Plaintext"] == b"secret bytes" and d["KeyId"] == md["Arn"]
    assert d["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    if knows(kms, "DecryptResponse", "KeyMaterialId"):
        assert d["KeyMaterialId"] == md["CurrentKeyMaterialId"]
    for bad in ({}, {"app": "billing"}, {"app": "billing", "tenant": "43"}):
        with pytest.raises(ClientError) as e:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=bad)
        assert client_error_code(e.value) == "InvalidCiphertextException"
    # any altered byte fails
    for i in (0, 20, len(blob) // 2, len(blob) - 1):
        t = bytearray(blob)
        t[i] ^= 1
        with pytest.raises(ClientError) as e:
            kms.decrypt(CiphertextBlob=bytes(t), EncryptionContext=ctx)
        assert client_error_code(e.value) in ("InvalidCiphertextException", "NotFoundException")
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=b"short")
    assert client_error_code(e.value) == "InvalidCiphertextException"


def test_decrypt_with_wrong_key_id(kms):
    a, b = new_key(kms)["KeyId"], new_key(kms)["KeyId"]
    blob = kms.encrypt(KeyId=a, Plaintext=b"p")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, KeyId=a)["Plaintext"] == b"p"
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=blob, KeyId=b)
    assert client_error_code(e.value) == "IncorrectKeyException"


def test_plaintext_limits(moat, kms):
    key = new_key(kms)["KeyId"]
    big = b"a" * 4096
    assert kms.decrypt(CiphertextBlob=kms.encrypt(KeyId=key, Plaintext=big)["CiphertextBlob"])["Plaintext"] == big
    raw = moat.client("kms", parameter_validation=False)
    with pytest.raises(ClientError) as e:
        raw.encrypt(KeyId=key, Plaintext=b"a" * 4097)
    code, msg = err(e)
    assert code == "ValidationException"
    assert "plaintext" in msg and "4096" in msg


def test_reencrypt(kms):
    a, b = new_key(kms), new_key(kms)
    blob = kms.encrypt(KeyId=a["KeyId"], Plaintext=b"move me", EncryptionContext={"k": "1"})["CiphertextBlob"]
    r = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"k": "1"},
                       DestinationKeyId=b["KeyId"], DestinationEncryptionContext={"k": "2"})
    assert r["SourceKeyId"] == a["Arn"] and r["KeyId"] == b["Arn"]
    assert r["SourceEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert r["DestinationEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    d = kms.decrypt(CiphertextBlob=r["CiphertextBlob"], EncryptionContext={"k": "2"})
    assert d["Plaintext"] == b"move me" and d["KeyId"] == b["Arn"]
    with pytest.raises(ClientError) as e:
        kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=b["KeyId"])
    assert client_error_code(e.value) == "InvalidCiphertextException"


def test_data_keys_local_aes_gcm(kms):
    key = new_key(kms)["KeyId"]
    dk = kms.generate_data_key(KeyId=key, KeySpec="AES_256", EncryptionContext={"f": "x"})
    assert len(dk["Plaintext"]) == 32
    nonce = os.urandom(12)
    sealed = AESGCM(dk["Plaintext"]).encrypt(nonce, b"file contents", b"aad")
    # later: only the encrypted data key is kept
    plain_key = kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext={"f": "x"})["Plaintext"]
    assert AESGCM(plain_key).decrypt(nonce, sealed, b"aad") == b"file contents"
    assert len(kms.generate_data_key(KeyId=key, KeySpec="AES_128")["Plaintext"]) == 16
    assert len(kms.generate_data_key(KeyId=key, NumberOfBytes=7)["Plaintext"]) == 7
    wp = kms.generate_data_key_without_plaintext(KeyId=key, KeySpec="AES_256")
    assert "Plaintext" not in wp
    assert len(kms.decrypt(CiphertextBlob=wp["CiphertextBlob"])["Plaintext"]) == 32
    with pytest.raises(ClientError) as e:
        kms.generate_data_key(KeyId=key)
    assert client_error_code(e.value) == "ValidationException"
    with pytest.raises(ClientError) as e:
        kms.generate_data_key(KeyId=key, KeySpec="AES_256", NumberOfBytes=32)
    assert client_error_code(e.value) == "ValidationException"


def test_cli_fileb_round_trip(moat, kms):
    key = new_key(kms)["KeyId"]
    moat.aws("kms", "create-alias", "--alias-name", "alias/cli-app", "--target-key-id", key)
    with tempfile.TemporaryDirectory() as d:
        pt = os.path.join(d, "secret.bin")
        with open(pt, "wb") as f:
            f.write(os.urandom(100))
        out = moat.aws("kms", "encrypt", "--key-id", "alias/cli-app", "--plaintext", "fileb://" + pt,
                       "--encryption-context", "app=billing")
        ct = os.path.join(d, "ct.bin")
        with open(ct, "wb") as f:
            f.write(base64.b64decode(out["CiphertextBlob"]))
        back = moat.aws("kms", "decrypt", "--ciphertext-blob", "fileb://" + ct,
                        "--encryption-context", "app=billing")
        with open(pt, "rb") as f:
            assert base64.b64decode(back["Plaintext"]) == f.read()
        p = moat.aws("kms", "decrypt", "--ciphertext-blob", "fileb://" + ct, raw=True)
        assert p.returncode != 0 and "InvalidCiphertextException" in p.stderr


def test_dry_run(kms):
    if not knows(kms, "EncryptRequest", "DryRun"):
        pytest.skip("this botocore has no DryRun")
    key = new_key(kms)["KeyId"]
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=key, Plaintext=b"x", DryRun=True)
    assert client_error_code(e.value) == "DryRunOperationException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412


# ---- aliases -------------------------------------------------------------------------------


def test_aliases(kms):
    a, b = new_key(kms), new_key(kms)
    kms.create_alias(AliasName="alias/app", TargetKeyId=a["KeyId"])
    assert kms.encrypt(KeyId="alias/app", Plaintext=b"x")["KeyId"] == a["Arn"]
    alias_arn = "arn:aws:kms:us-east-1:%s:alias/app" % ACCOUNT
    assert kms.describe_key(KeyId=alias_arn)["KeyMetadata"]["Arn"] == a["Arn"]
    with pytest.raises(ClientError) as e:
        kms.create_alias(AliasName="alias/app", TargetKeyId=b["KeyId"])
    assert err(e) == ("AlreadyExistsException",
                      "An alias with the name %s already exists" % alias_arn)
    kms.update_alias(AliasName="alias/app", TargetKeyId=b["KeyId"])
    assert kms.encrypt(KeyId="alias/app", Plaintext=b"x")["KeyId"] == b["Arn"]
    entries = {x["AliasName"]: x for x in kms.list_aliases()["Aliases"]}
    assert entries["alias/app"]["TargetKeyId"] == b["KeyId"]
    assert entries["alias/app"]["AliasArn"] == alias_arn
    assert [x["AliasName"] for x in kms.list_aliases(KeyId=b["KeyId"])["Aliases"]] == ["alias/app"]
    assert kms.list_aliases(KeyId=a["KeyId"])["Aliases"] == []
    kms.delete_alias(AliasName="alias/app")
    with pytest.raises(ClientError) as e:
        kms.describe_key(KeyId="alias/app")
    assert client_error_code(e.value) == "NotFoundException"
    with pytest.raises(ClientError) as e:
        kms.delete_alias(AliasName="alias/app")
    assert client_error_code(e.value) == "NotFoundException"


def test_alias_names(kms):
    key = new_key(kms)["KeyId"]
    with pytest.raises(ClientError) as e:
        kms.create_alias(AliasName="alias/aws/mine", TargetKeyId=key)
    assert client_error_code(e.value) == "NotAuthorizedException"
    with pytest.raises(ClientError) as e:
        kms.create_alias(AliasName="no-prefix", TargetKeyId=key)
    assert client_error_code(e.value) == "ValidationException"
    with pytest.raises(ClientError) as e:
        kms.create_alias(AliasName="alias/x", TargetKeyId="11111111-2222-4333-8444-555555555555")
    assert client_error_code(e.value) == "NotFoundException"


# ---- key policies --------------------------------------------------------------------------


def test_default_key_policy(kms):
    key = new_key(kms)["KeyId"]
    r = kms.get_key_policy(KeyId=key, PolicyName="default")
    doc = json.loads(r["Policy"])
    assert doc["Id"] == "key-default-1"
    st = doc["Statement"][0]
    assert st["Sid"] == "Enable IAM User Permissions"
    assert st["Principal"] == {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}
    assert st["Action"] == "kms:*" and st["Resource"] == "*"
    if not kms.meta.service_model.operation_model("GetKeyPolicy").input_shape.required_members:
        assert kms.get_key_policy(KeyId=key)["PolicyName"] == "default"
    assert kms.list_key_policies(KeyId=key)["PolicyNames"] == ["default"]
    with pytest.raises(ClientError) as e:
        kms.get_key_policy(KeyId=key, PolicyName="other")
    assert client_error_code(e.value) == "NotFoundException"


def test_put_key_policy_denies_and_lockout(kms):
    key = new_key(kms)["KeyId"]
    root = "arn:aws:iam::%s:root" % ACCOUNT
    deny_encrypt = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "admin", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "no", "Effect": "Deny", "Principal": {"AWS": root}, "Action": "kms:Encrypt", "Resource": "*",
             "Condition": {"StringEquals": {"kms:EncryptionContext:app": "blocked"}}},
        ]}
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(deny_encrypt))
    kms.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"app": "fine"})
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"app": "blocked"})
    code, msg = err(e)
    assert code == "AccessDeniedException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "kms:Encrypt" in msg and "explicit deny" in msg
    # a policy that would lock the caller out is refused unless bypassed
    lock = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:Encrypt", "Resource": "*"}]}
    with pytest.raises(ClientError) as e:
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(lock))
    assert err(e) == ("MalformedPolicyDocumentException",
                      "The new key policy will not allow you to update the key policy in the future.")
    with pytest.raises(ClientError) as e:
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy="{not json")
    assert client_error_code(e.value) == "MalformedPolicyDocumentException"
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(lock), BypassPolicyLockoutSafetyCheck=True)
    kms.encrypt(KeyId=key, Plaintext=b"x")
    with pytest.raises(ClientError) as e:
        kms.describe_key(KeyId=key)
    assert client_error_code(e.value) == "AccessDeniedException"
    with pytest.raises(ClientError) as e:
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(deny_encrypt))
    assert client_error_code(e.value) == "AccessDeniedException"


def test_create_key_with_policy_lockout(kms):
    root = "arn:aws:iam::%s:root" % ACCOUNT
    lock = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:Decrypt", "Resource": "*"}]}
    with pytest.raises(ClientError) as e:
        kms.create_key(Policy=json.dumps(lock))
    assert client_error_code(e.value) == "MalformedPolicyDocumentException"
    md = kms.create_key(Policy=json.dumps(lock), BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]
    assert md["KeyState"] == "Enabled"


# ---- grants ---------------------------------------------------------------------------------


def test_grants_list_retire_revoke(kms):
    key = new_key(kms)
    kid = key["KeyId"]
    grantee = "arn:aws:iam::%s:user/alice" % ACCOUNT
    retiring = "arn:aws:iam::%s:root" % ACCOUNT
    g = kms.create_grant(KeyId=kid, GranteePrincipal=grantee, RetiringPrincipal=retiring,
                         Operations=["Encrypt", "Decrypt"], Name="g1",
                         Constraints={"EncryptionContextSubset": {"app": "x"}})
    assert re.fullmatch(r"[0-9a-f]{64}", g["GrantId"]) and g["GrantToken"]
    again = kms.create_grant(KeyId=kid, GranteePrincipal=grantee, RetiringPrincipal=retiring,
                             Operations=["Decrypt", "Encrypt"], Name="g1",
                             Constraints={"EncryptionContextSubset": {"app": "x"}})
    assert again["GrantId"] == g["GrantId"]
    grants = kms.list_grants(KeyId=kid)["Grants"]
    assert len(grants) == 1
    gr = grants[0]
    assert gr["KeyId"] == key["Arn"] and gr["GranteePrincipal"] == grantee
    assert gr["RetiringPrincipal"] == retiring and gr["Name"] == "g1"
    assert sorted(gr["Operations"]) == ["Decrypt", "Encrypt"]
    assert gr["Constraints"] == {"EncryptionContextSubset": {"app": "x"}}
    assert gr["IssuingAccount"] == "arn:aws:iam::%s:root" % ACCOUNT
    assert [x["GrantId"] for x in kms.list_retirable_grants(RetiringPrincipal=retiring)["Grants"]] == [g["GrantId"]]
    # the token is usable at once
    kms.encrypt(KeyId=kid, Plaintext=b"x", GrantTokens=[g["GrantToken"]])
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=kid, Plaintext=b"x", GrantTokens=["not-a-token"])
    assert client_error_code(e.value) == "InvalidGrantTokenException"
    kms.retire_grant(GrantToken=g["GrantToken"])
    assert kms.list_grants(KeyId=kid)["Grants"] == []
    g2 = kms.create_grant(KeyId=kid, GranteePrincipal=grantee, Operations=["Decrypt"])
    with pytest.raises(ClientError) as e:
        kms.create_grant(KeyId=kid, GranteePrincipal=grantee, Operations=["Sign"])
    assert client_error_code(e.value) == "ValidationException"
    with pytest.raises(ClientError) as e:
        kms.create_grant(KeyId=kid, GranteePrincipal=grantee, Operations=["DescribeKey"],
                         Constraints={"EncryptionContextEquals": {"a": "b"}})
    assert client_error_code(e.value) == "ValidationException"
    kms.revoke_grant(KeyId=kid, GrantId=g2["GrantId"])
    with pytest.raises(ClientError) as e:
        kms.revoke_grant(KeyId=kid, GrantId=g2["GrantId"])
    assert client_error_code(e.value) == "NotFoundException"
    for i in range(3):
        kms.create_grant(KeyId=kid, GranteePrincipal=grantee, Operations=["Decrypt"], Name="n%d" % i)
    p1 = kms.list_grants(KeyId=kid, Limit=2)
    assert len(p1["Grants"]) == 2 and p1["Truncated"]
    p2 = kms.list_grants(KeyId=kid, Limit=2, Marker=p1["NextMarker"])
    assert len(p2["Grants"]) == 1 and not p2["Truncated"]


def test_grant_allows_what_key_policy_does_not(kms):
    """The root user of the account is the grantee; the key policy lets root only
    manage the key, so Encrypt works only through the grant and its constraint."""
    root = "arn:aws:iam::%s:root" % ACCOUNT
    admin_only = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root},
         "Action": ["kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:DescribeKey", "kms:CreateGrant",
                    "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*"}]}
    md = kms.create_key(Policy=json.dumps(admin_only))["KeyMetadata"]
    kid = md["KeyId"]
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=kid, Plaintext=b"x")
    code, msg = err(e)
    assert code == "AccessDeniedException"
    assert msg.startswith("User: arn:aws:iam::%s:root is not authorized to perform: kms:Encrypt on resource: %s"
                          % (ACCOUNT, md["Arn"]))
    g = kms.create_grant(KeyId=kid, GranteePrincipal=root, Operations=["Encrypt", "Decrypt"],
                         Constraints={"EncryptionContextEquals": {"purpose": "test"}})
    blob = kms.encrypt(KeyId=kid, Plaintext=b"x", EncryptionContext={"purpose": "test"},
                       GrantTokens=[g["GrantToken"]])["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"purpose": "test"})["Plaintext"] == b"x"
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=kid, Plaintext=b"x", EncryptionContext={"purpose": "test", "more": "1"})
    assert client_error_code(e.value) == "AccessDeniedException"
    with pytest.raises(ClientError) as e:
        kms.generate_data_key(KeyId=kid, KeySpec="AES_256", EncryptionContext={"purpose": "test"})
    assert client_error_code(e.value) == "AccessDeniedException"
    kms.revoke_grant(KeyId=kid, GrantId=g["GrantId"])
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=kid, Plaintext=b"x", EncryptionContext={"purpose": "test"})
    assert client_error_code(e.value) == "AccessDeniedException"


# ---- deletion --------------------------------------------------------------------------------


def set_offset(m, seconds):
    req = urllib.request.Request(m.endpoint + "/_moat/clock", method="POST",
                                 data=json.dumps({"offset_seconds": seconds}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def deleted_after(m, kms, key, seconds, tries=40):
    """Moves service time forward (which runs the scheduler), then back so that clients
    signing with real time are accepted again, until the key is gone."""
    for _ in range(tries):
        set_offset(m, seconds)
        time.sleep(0.25)
        set_offset(m, 0)
        try:
            kms.describe_key(KeyId=key)
        except ClientError as e:
            if client_error_code(e) == "NotFoundException":
                return True
            raise
    return False


def test_schedule_and_cancel_deletion(kms):
    md = new_key(kms)
    kid = md["KeyId"]
    blob = kms.encrypt(KeyId=kid, Plaintext=b"x")["CiphertextBlob"]
    for days in (6, 31):
        with pytest.raises(ClientError) as e:
            kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=days)
        assert client_error_code(e.value) == "ValidationException"
    r = kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7)
    assert r["KeyId"] == md["Arn"] and r["KeyState"] == "PendingDeletion"
    assert r["PendingWindowInDays"] == 7
    d = kms.describe_key(KeyId=kid)["KeyMetadata"]
    assert d["KeyState"] == "PendingDeletion" and "DeletionDate" in d
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=blob)
    assert err(e) == ("KMSInvalidStateException", "%s is pending deletion." % md["Arn"])
    with pytest.raises(ClientError) as e:
        kms.schedule_key_deletion(KeyId=kid)
    assert client_error_code(e.value) == "KMSInvalidStateException"
    with pytest.raises(ClientError) as e:
        kms.enable_key(KeyId=kid)
    assert client_error_code(e.value) == "KMSInvalidStateException"
    assert kms.cancel_key_deletion(KeyId=kid)["KeyId"] == md["Arn"]
    assert kms.describe_key(KeyId=kid)["KeyMetadata"]["KeyState"] == "Disabled"
    with pytest.raises(ClientError) as e:
        kms.cancel_key_deletion(KeyId=kid)
    assert client_error_code(e.value) == "KMSInvalidStateException"
    kms.enable_key(KeyId=kid)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_deletion_after_window_survives_restart(fresh_moat):
    m = fresh_moat(args=["--allow-test-clock"])
    kms = m.client("kms")
    doomed = new_key(kms)["KeyId"]
    kept = new_key(kms)["KeyId"]
    kms.create_alias(AliasName="alias/doomed", TargetKeyId=doomed)
    kms.create_grant(KeyId=doomed, GranteePrincipal="arn:aws:iam::%s:root" % ACCOUNT,
                     Operations=["Decrypt"])
    kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)
    set_offset(m, 6 * 86400)
    time.sleep(0.5)
    set_offset(m, 0)
    assert kms.describe_key(KeyId=doomed)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    m.restart()  # the schedule lives in the store
    kms = m.client("kms")
    assert deleted_after(m, kms, doomed, 7 * 86400 + 60)
    assert kms.describe_key(KeyId=kept)["KeyMetadata"]["KeyState"] == "Enabled"
    assert [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/doomed"] == []
    assert doomed not in [k["KeyId"] for k in kms.list_keys()["Keys"]]
    # the event happened at service time, a week ahead of the real clock
    now = datetime.datetime.now(datetime.timezone.utc)
    ev = m.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DeleteKey"}],
        StartTime=now - datetime.timedelta(days=1), EndTime=now + datetime.timedelta(days=30))["Events"]
    assert ev, "a DeleteKey service event is recorded"
    rec = json.loads(ev[0]["CloudTrailEvent"])
    assert rec["eventType"] == "AwsServiceEvent"
    assert rec["resources"][0]["ARN"].endswith(doomed)


def test_test_clock_is_off_by_default(moat):
    req = urllib.request.Request(moat.endpoint + "/_moat/clock", method="POST",
                                 data=b'{"advance_seconds": 1}')
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 403


# ---- audit --------------------------------------------------------------------------------------


def test_cloudtrail_records_never_hold_plaintext(moat, kms):
    key = new_key(kms)["KeyId"]
    secret = b"TOP-SECRET-PLAINTEXT-123"
    blob = kms.encrypt(KeyId=key, Plaintext=secret, EncryptionContext={"who": "audit"})["CiphertextBlob"]
    kms.decrypt(CiphertextBlob=blob, EncryptionContext={"who": "audit"})
    dk = kms.generate_data_key(KeyId=key, KeySpec="AES_256")
    ct = moat.client("cloudtrail")
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "ResourceName",
                                                 "AttributeValue": kms.describe_key(KeyId=key)["KeyMetadata"]["Arn"]}],
                              MaxResults=50)["Events"]
    recs = {e["EventName"]: json.loads(e["CloudTrailEvent"]) for e in events}
    enc = recs["Encrypt"]
    assert enc["requestParameters"]["keyId"] == key
    assert enc["requestParameters"]["encryptionContext"] == {"who": "audit"}
    assert enc["requestParameters"]["encryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert enc["responseElements"] is None and enc["readOnly"] is True
    dec = recs["Decrypt"]
    assert "keyId" not in dec["requestParameters"]
    assert dec["resources"][0]["type"] == "AWS::KMS::Key"
    assert recs["CreateKey"]["responseElements"]["keyMetadata"]["keyId"] == key
    text = json.dumps([e["CloudTrailEvent"] for e in events])
    assert secret.decode() not in text
    assert base64.b64encode(secret).decode() not in text
    assert base64.b64encode(dk["Plaintext"]).decode() not in text
    assert base64.b64encode(blob).decode() not in text
    with open(moat.log_path) as f:
        log = f.read()
    assert base64.b64encode(dk["Plaintext"]).decode() not in log


def test_get_key_last_usage(kms):
    if not knows(kms, "GetKeyLastUsage"):
        pytest.skip("this botocore has no GetKeyLastUsage")
    key = new_key(kms)["KeyId"]
    r = kms.get_key_last_usage(KeyId=key)
    assert "KeyLastUsage" not in r or not r["KeyLastUsage"]
    kms.encrypt(KeyId=key, Plaintext=b"x")
    r = kms.get_key_last_usage(KeyId=key)
    assert r["KeyLastUsage"]["Operation"] == "Encrypt"
    assert r["KeyLastUsage"]["CloudTrailEventId"]


def test_custom_key_stores_are_absent(kms):
    r = kms.describe_custom_key_stores()
    assert r["CustomKeyStores"] == [] and r["Truncated"] is False
    with pytest.raises(ClientError) as e:
        kms.describe_custom_key_stores(CustomKeyStoreId="cks-1234567890abcdef0")
    assert client_error_code(e.value) == "CustomKeyStoreNotFoundException"
    with pytest.raises(ClientError) as e:
        kms.create_key(CustomKeyStoreId="cks-1234567890abcdef0")
    assert client_error_code(e.value) == "CustomKeyStoreNotFoundException"
    with pytest.raises(ClientError) as e:
        kms.create_custom_key_store(CustomKeyStoreName="x", CloudHsmClusterId="cluster-1234567890a",
                                    TrustAnchorCertificate="x", KeyStorePassword="password1")
    assert "not supported" in err(e)[1]


def test_cloudtrail_create_key_and_grant_records(moat, kms):
    md = new_key(kms, Description="ct")
    g = kms.create_grant(KeyId=md["KeyId"], GranteePrincipal="arn:aws:iam::%s:root" % ACCOUNT,
                         Operations=["Decrypt"])
    events = moat.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": md["Arn"]}])["Events"]
    recs = {e["EventName"]: json.loads(e["CloudTrailEvent"]) for e in events}
    ck = recs["CreateKey"]
    assert ck["readOnly"] is False
    assert ck["requestParameters"]["keySpec"] == "SYMMETRIC_DEFAULT"
    assert ck["requestParameters"]["keyUsage"] == "ENCRYPT_DECRYPT"
    assert ck["requestParameters"]["origin"] == "AWS_KMS"
    assert ck["requestParameters"]["bypassPolicyLockoutSafetyCheck"] is False
    assert ck["requestParameters"]["multiRegion"] is False
    assert ck["responseElements"]["keyMetadata"]["arn"] == md["Arn"]
    cg = recs["CreateGrant"]
    assert cg["responseElements"] == {"grantId": g["GrantId"]}
    assert g["GrantToken"] not in json.dumps(cg)

"""SecureString parameters through KMS: Encrypt for standard parameters and data keys for
advanced ones, the PARAMETER_ARN encryption context, the AWS managed key alias/aws/ssm
usable only through Parameter Store (kms:ViaService), customer keys and their policies,
KMS failures as SSM errors with nothing half-written, and the KMS calls in CloudTrail."""
import base64
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from test_ssm import audit_records, err

ACCOUNT = "000000000000"
REGION = "us-east-1"
ROOT = "arn:aws:iam::%s:root" % ACCOUNT


def arn(name):
    return "arn:aws:ssm:%s:%s:parameter%s" % (REGION, ACCOUNT, name)


def uniq():
    return "/kms/" + uuid.uuid4().hex[:10]


def policy(*statements):
    admin = {"Sid": "admin", "Effect": "Allow", "Principal": {"AWS": ROOT},
             "Action": ["kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:DescribeKey",
                        "kms:DisableKey", "kms:EnableKey", "kms:CreateAlias"],
             "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [admin] + list(statements)})


@pytest.fixture(scope="module")
def clients(moat):
    return moat.client("ssm"), moat.client("kms")


def test_managed_key_only_through_ssm(clients):
    ssm, kms = clients
    name = uniq()
    ssm.put_parameter(Name=name, Value="through-ssm", Type="SecureString")
    aliases = {a["AliasName"]: a for a in kms.list_aliases()["Aliases"]}
    assert "alias/aws/ssm" in aliases
    key = kms.describe_key(KeyId="alias/aws/ssm")["KeyMetadata"]
    assert key["KeyManager"] == "AWS"
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "through-ssm"
    blob = base64.b64decode(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    # the same ciphertext, asked of KMS directly, is refused: the key serves only via SSM
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"PARAMETER_ARN": arn(name)})
    assert err(e)[0] == "AccessDeniedException"


def test_customer_key_and_encryption_context(moat, clients):
    ssm, kms = clients
    key_id = kms.create_key(Description="app key")["KeyMetadata"]["KeyId"]
    alias = "alias/app-" + uuid.uuid4().hex[:6]
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    name = uniq()
    out = moat.aws("ssm", "put-parameter", "--name", name, "--type", "SecureString",
                   "--value", "postgres://db", "--key-id", alias)
    assert out["Version"] == 1
    md = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])
    assert md["Parameters"][0]["KeyId"] == alias
    found = ssm.describe_parameters(ParameterFilters=[{"Key": "KeyId", "Values": [alias]}])
    assert [p["Name"] for p in found["Parameters"]] == [name]
    got = moat.aws("ssm", "get-parameter", "--name", name, "--with-decryption")
    assert got["Parameter"]["Value"] == "postgres://db"
    # standard parameters are KMS ciphertexts bound to PARAMETER_ARN
    blob = base64.b64decode(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    plain = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"PARAMETER_ARN": arn(name)})
    assert plain["Plaintext"] == b"postgres://db" and plain["KeyId"].endswith(key_id)
    for ctx in ({}, {"PARAMETER_ARN": arn(name + "x")}):
        with pytest.raises(ClientError) as e:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)
        assert err(e)[0] == "InvalidCiphertextException"
    # an overwrite keeps the parameter's key
    ssm.put_parameter(Name=name, Value="v2", Overwrite=True)
    hist = ssm.get_parameter_history(Name=name, WithDecryption=True)["Parameters"]
    assert [(h["KeyId"], h["Value"]) for h in hist] == [(alias, "postgres://db"), (alias, "v2")]
    # the key ARN and id forms work too
    full = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    for kid in (key_id, full):
        n = uniq()
        ssm.put_parameter(Name=n, Value="k", Type="SecureString", KeyId=kid)
        assert ssm.get_parameter(Name=n, WithDecryption=True)["Parameter"]["Value"] == "k"


def test_via_service_key_policy(clients):
    ssm, kms = clients
    key_id = kms.create_key(Policy=policy({
        "Sid": "only through Parameter Store", "Effect": "Allow", "Principal": {"AWS": ROOT},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": "ssm.%s.amazonaws.com" % REGION}}}))[
        "KeyMetadata"]["KeyId"]
    name = uniq()
    ssm.put_parameter(Name=name, Value="guarded", Type="SecureString", KeyId=key_id)
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "guarded"
    big = "B" * 6000
    ssm.put_parameter(Name=name + "-adv", Value=big, Type="SecureString", KeyId=key_id,
                      Tier="Advanced")
    assert ssm.get_parameter(Name=name + "-adv", WithDecryption=True)["Parameter"]["Value"] == big
    blob = base64.b64decode(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"PARAMETER_ARN": arn(name)})
    assert err(e)[0] == "AccessDeniedException"
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=key_id, Plaintext=b"direct")
    assert err(e)[0] == "AccessDeniedException"


def test_encryption_context_condition(clients):
    ssm, kms = clients
    allowed = "/ctx-ok/" + uuid.uuid4().hex[:6]
    key_id = kms.create_key(Policy=policy(
        {"Sid": "encrypt", "Effect": "Allow", "Principal": {"AWS": ROOT},
         "Action": ["kms:Encrypt"], "Resource": "*"},
        {"Sid": "decrypt one path", "Effect": "Allow", "Principal": {"AWS": ROOT},
         "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringLike": {"kms:EncryptionContext:PARAMETER_ARN":
                                      arn(allowed) + "/*"}}}))["KeyMetadata"]["KeyId"]
    ssm.put_parameter(Name=allowed + "/a", Value="yes", Type="SecureString", KeyId=key_id)
    ssm.put_parameter(Name=uniq(), Value="no", Type="SecureString", KeyId=key_id)
    other = uniq()
    ssm.put_parameter(Name=other, Value="no", Type="SecureString", KeyId=key_id)
    assert ssm.get_parameter(Name=allowed + "/a", WithDecryption=True)["Parameter"]["Value"] == "yes"
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=other, WithDecryption=True)
    code, msg, status = err(e)
    assert code == "AccessDeniedException" and status == 400
    assert "kms:Decrypt" in msg and "Service: AWSKMS" in msg
    # without decryption nothing asks KMS
    assert ssm.get_parameter(Name=other)["Parameter"]["Value"] != "no"
    with pytest.raises(ClientError) as e:
        ssm.get_parameters(Names=[allowed + "/a", other], WithDecryption=True)
    assert err(e)[0] == "AccessDeniedException"


def test_kms_failures_write_nothing(clients):
    ssm, kms = clients
    name = uniq()
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=name, Value="x", Type="SecureString", KeyId="alias/nope-" + name[5:])
    code, msg, _ = err(e)
    assert code == "InvalidKeyId" and "NotFoundException" in msg
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=name)
    assert err(e)[0] == "ParameterNotFound"
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    ssm.put_parameter(Name=name, Value="before", Type="SecureString", KeyId=key_id)
    kms.disable_key(KeyId=key_id)
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=name, WithDecryption=True)
    code, msg, _ = err(e)
    assert code == "InvalidKeyId" and "DisabledException" in msg
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=name, Value="after", Overwrite=True)
    assert err(e)[0] == "InvalidKeyId"
    kms.enable_key(KeyId=key_id)
    p = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert (p["Value"], p["Version"]) == ("before", 1)
    assert len(ssm.get_parameter_history(Name=name)["Parameters"]) == 1


def test_kms_calls_in_cloudtrail(fresh_moat):
    m = fresh_moat()
    ssm = m.client("ssm")
    ssm.put_parameter(Name="/trail/std", Value="std-secret", Type="SecureString")
    ssm.put_parameter(Name="/trail/adv", Value="adv-secret", Type="SecureString", Tier="Advanced")
    ssm.get_parameters_by_path(Path="/trail", WithDecryption=True)
    recs = audit_records(m)
    kms_recs = [r for r in recs if r["eventSource"] == "kms.amazonaws.com"]
    by_name = {}
    for r in kms_recs:
        by_name.setdefault(r["eventName"], []).append(r)
    enc = by_name["Encrypt"][0]
    assert enc["userIdentity"]["invokedBy"] == "ssm.amazonaws.com"
    assert enc["userIdentity"]["arn"] == ROOT
    assert enc["sourceIPAddress"] == "ssm.amazonaws.com"
    assert enc["requestParameters"]["keyId"] == "alias/aws/ssm"
    assert enc["requestParameters"]["encryptionContext"] == {"PARAMETER_ARN": arn("/trail/std")}
    gdk = by_name["GenerateDataKey"][0]
    assert gdk["requestParameters"]["encryptionContext"] == {"PARAMETER_ARN": arn("/trail/adv")}
    assert sorted(r["requestParameters"]["encryptionContext"]["PARAMETER_ARN"]
                  for r in by_name["Decrypt"]) == [arn("/trail/adv"), arn("/trail/std")]
    assert all(r["readOnly"] is True for r in kms_recs)
    # each KMS record sits right before the SSM call it served, in one chain
    i = recs.index(enc)
    assert recs[i + 1]["eventName"] == "PutParameter"
    for r in recs:
        assert "std-secret" not in json.dumps(r) and "adv-secret" not in json.dumps(r)

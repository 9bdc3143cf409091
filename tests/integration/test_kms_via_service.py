"""KMS as moat's own services use it: Secrets Manager calls KMS on the caller's
behalf (kms:ViaService), the AWS managed key alias/aws/secretsmanager is created on
first use and cannot be used directly or changed, and CloudTrail records the KMS
calls as AWS does (invokedBy, the service as source)."""
import datetime
import json

import pytest
from botocore.exceptions import ClientError

from moat_harness import client_error_code

ACCOUNT = "000000000000"
ROOT = "arn:aws:iam::%s:root" % ACCOUNT


@pytest.fixture(scope="module")
def clients(moat):
    return moat.client("kms"), moat.client("secretsmanager"), moat.client("cloudtrail")


def kms_events(ct, name):
    now = datetime.datetime.now(datetime.timezone.utc)
    ev = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}],
                          StartTime=now - datetime.timedelta(hours=1), EndTime=now + datetime.timedelta(minutes=5),
                          MaxResults=50)["Events"]
    return [json.loads(e["CloudTrailEvent"]) for e in ev
            if json.loads(e["CloudTrailEvent"])["eventSource"] == "kms.amazonaws.com"]


def test_aws_managed_key_created_on_first_use(clients):
    kms, sm, ct = clients
    assert "alias/aws/secretsmanager" not in [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    sm.create_secret(Name="managed-1", SecretString="hunter2")
    assert "alias/aws/secretsmanager" in [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    assert sm.get_secret_value(SecretId="managed-1")["SecretString"] == "hunter2"
    md = kms.describe_key(KeyId="alias/aws/secretsmanager")["KeyMetadata"]
    assert md["KeyManager"] == "AWS" and md["KeyState"] == "Enabled"
    assert md["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert kms.get_key_rotation_status(KeyId=md["KeyId"])["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=md["KeyId"], PolicyName="default")["Policy"])
    cond = policy["Statement"][0]["Condition"]["StringEquals"]
    assert cond["kms:ViaService"] == "secretsmanager.us-east-1.amazonaws.com"
    assert cond["kms:CallerAccount"] == ACCOUNT
    # a second secret reuses the key
    sm.create_secret(Name="managed-2", SecretString="x")
    aliases = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/aws/secretsmanager"]
    assert len(aliases) == 1 and aliases[0]["TargetKeyId"] == md["KeyId"]

    # the account cannot use it directly, nor change, disable or delete it
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId="alias/aws/secretsmanager", Plaintext=b"x")
    assert client_error_code(e.value) == "AccessDeniedException"
    with pytest.raises(ClientError) as e:
        kms.put_key_policy(KeyId=md["KeyId"], PolicyName="default",
                           Policy=json.dumps({"Version": "2012-10-17", "Statement": [
                               {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*",
                                "Resource": "*"}]}))
    assert client_error_code(e.value) == "AccessDeniedException"
    for call in (lambda: kms.disable_key(KeyId=md["KeyId"]),
                 lambda: kms.schedule_key_deletion(KeyId=md["KeyId"], PendingWindowInDays=7),
                 lambda: kms.disable_key_rotation(KeyId=md["KeyId"])):
        with pytest.raises(ClientError) as e:
            call()
        assert client_error_code(e.value) == "AccessDeniedException"
    assert kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"

    # CloudTrail: the KMS calls Secrets Manager made, on the caller's behalf
    recs = kms_events(ct, "GenerateDataKey")
    assert recs, "GenerateDataKey by Secrets Manager is recorded"
    r = recs[0]
    assert r["userIdentity"]["invokedBy"] == "secretsmanager.amazonaws.com"
    assert r["sourceIPAddress"] == "secretsmanager.amazonaws.com"
    assert r["resources"][0]["ARN"] == md["Arn"]
    assert "SecretARN" in json.dumps(r["requestParameters"])


def test_customer_key_only_through_the_service(clients):
    kms, sm, _ = clients
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "admin", "Effect": "Allow", "Principal": {"AWS": ROOT},
         "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:Put*", "kms:Enable*", "kms:Disable*",
                    "kms:CreateGrant", "kms:ScheduleKeyDeletion"], "Resource": "*"},
        {"Sid": "via", "Effect": "Allow", "Principal": {"AWS": ROOT},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com",
                                        "kms:CallerAccount": ACCOUNT}}}]}
    key = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]
    sm.create_secret(Name="cust-1", SecretString="only via sm", KmsKeyId=key["Arn"])
    assert sm.get_secret_value(SecretId="cust-1")["SecretString"] == "only via sm"
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"direct")
    code, msg = e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]
    assert code == "AccessDeniedException" and "kms:Encrypt" in msg
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId="cust-1")
    assert client_error_code(e.value) in ("DecryptionFailure", "KMSDisabledException")
    kms.enable_key(KeyId=key["KeyId"])
    assert sm.get_secret_value(SecretId="cust-1")["SecretString"] == "only via sm"


def test_describe_key_on_a_predefined_alias_creates_the_managed_key(fresh_moat):
    m = fresh_moat()
    kms = m.client("kms")
    md = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
    assert md["KeyManager"] == "AWS" and md["KeyState"] == "Enabled"
    assert kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["KeyId"] == md["KeyId"]
    assert {"AliasName": "alias/aws/ebs", "TargetKeyId": md["KeyId"]}.items() <= \
        next(a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/aws/ebs").items()
    with pytest.raises(ClientError) as e:
        kms.describe_key(KeyId="alias/aws/not-a-service")
    assert client_error_code(e.value) == "NotFoundException"
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId="alias/aws/rds", Plaintext=b"x")  # only DescribeKey creates it
    assert client_error_code(e.value) == "NotFoundException"

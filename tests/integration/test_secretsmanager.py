"""Secrets Manager through boto3 and the aws CLI: secrets, versions and staging labels,
tags, resource policies, listing, deletion and restore, random passwords, batch reads,
and what CloudTrail records of them."""
import base64
import json
import os
import shutil
import sqlite3
import subprocess
import time
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from moat_harness import client_error_code

ACCOUNT = "000000000000"


def uniq(prefix="s"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


@pytest.fixture(scope="module")
def sm(moat):
    return moat.client("secretsmanager")


@pytest.fixture(scope="module")
def raw(moat):
    """A client that sends what it is given, so that moat's own validation answers."""
    return moat.client("secretsmanager", parameter_validation=False)


def has_member(client, op, member):
    """Whether this botocore knows a request member (older clients lack newer ones)."""
    try:
        shape = client.meta.service_model.operation_model(op).input_shape
    except Exception:
        return False
    return member is None or member in shape.members


def err(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def audit_records(m, event_source="secretsmanager.amazonaws.com"):
    """Every CloudTrail record moat stored, straight from its store (LookupEvents is
    rate-limited as AWS's is)."""
    sql = "SELECT record FROM audit WHERE event_source = '%s' ORDER BY seq" % event_source
    if m.store_url:
        psql = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
        out = subprocess.run([psql, m.store_url, "-Atqc", sql], check=True, capture_output=True,
                             text=True).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]
    db = sqlite3.connect("file:%s/moat.db?mode=ro" % m.data_dir, uri=True)
    try:
        return [json.loads(r[0]) for r in db.execute(sql)]
    finally:
        db.close()


def set_clock(m, **kw):
    req = urllib.request.Request(m.endpoint + "/_moat/clock", data=json.dumps(kw).encode(),
                                 method="POST")
    with urllib.request.urlopen(req) as r:
        return json.load(r)


# ---- create, get, describe -------------------------------------------------------------


def test_create_and_get_string(sm):
    name = uniq("app/db")
    value = json.dumps({"username": "app", "password": "pa55"})
    r = sm.create_secret(Name=name, SecretString=value, Description="the db")
    assert r["Name"] == name
    assert r["ARN"].startswith("arn:aws:secretsmanager:us-east-1:%s:secret:%s-" % (ACCOUNT, name))
    assert len(r["ARN"]) == len("arn:aws:secretsmanager:us-east-1:%s:secret:%s-" % (ACCOUNT, name)) + 6
    g = sm.get_secret_value(SecretId=name)
    assert g["SecretString"] == value
    assert g["VersionId"] == r["VersionId"]
    assert g["VersionStages"] == ["AWSCURRENT"]
    assert "SecretBinary" not in g
    d = sm.describe_secret(SecretId=r["ARN"])
    assert d["Description"] == "the db"
    assert d["VersionIdsToStages"] == {r["VersionId"]: ["AWSCURRENT"]}
    assert "KmsKeyId" not in d and "RotationEnabled" not in d and "DeletedDate" not in d
    assert d["CreatedDate"] and d["LastChangedDate"]


def test_create_and_get_binary(sm):
    name = uniq("bin")
    blob = bytes(range(256))
    sm.create_secret(Name=name, SecretBinary=blob)
    g = sm.get_secret_value(SecretId=name)
    assert g["SecretBinary"] == blob and "SecretString" not in g


def test_partial_and_full_arn_lookup(sm):
    name = uniq("lookup")
    arn = sm.create_secret(Name=name, SecretString="v")["ARN"]
    partial = arn[:-7]
    assert sm.get_secret_value(SecretId=partial)["ARN"] == arn
    assert sm.get_secret_value(SecretId=arn)["ARN"] == arn
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId=arn[:-6] + "zzzzzz")
    assert err(e) == ("ResourceNotFoundException",
                      "Secrets Manager can't find the specified secret.")


def test_create_without_value_has_no_version(sm):
    name = uniq("empty")
    r = sm.create_secret(Name=name)
    assert "VersionId" not in r
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId=name)
    assert err(e) == ("ResourceNotFoundException",
                      "Secrets Manager can't find the specified secret value for staging label: "
                      "AWSCURRENT")
    assert sm.describe_secret(SecretId=name)["VersionIdsToStages"] == {}


def test_create_errors(sm, raw):
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name="bad name!", SecretString="x")
    assert err(e)[0] == "ValidationException"
    assert "Invalid name" in err(e)[1]
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name=uniq(), SecretString="x", SecretBinary=b"y")
    assert err(e) == ("InvalidParameterException",
                      "You can't specify both a binary secret value and a string secret value in "
                      "the same secret.")
    name = uniq("dup")
    sm.create_secret(Name=name, SecretString="x")
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name=name, SecretString="x")
    assert err(e) == ("ResourceExistsException",
                      "The operation failed because the secret %s already exists." % name)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as e:
        raw.create_secret(Name=uniq(), SecretString="")
    assert err(e)[0] == "ValidationException"
    assert "'secretString' failed to satisfy constraint: Member must have length greater than " \
           "or equal to 1" in err(e)[1]
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name=uniq(), SecretString="x", Tags=[{"Key": "aws:x", "Value": "y"}])
    assert err(e)[0] == "InvalidParameterException"


def test_create_is_idempotent_with_the_same_token(sm):
    name, token = uniq("idem"), str(uuid.uuid4())
    a = sm.create_secret(Name=name, SecretString="v1", ClientRequestToken=token)
    b = sm.create_secret(Name=name, SecretString="v1", ClientRequestToken=token)
    assert a["VersionId"] == b["VersionId"] == token and a["ARN"] == b["ARN"]
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name=name, SecretString="other", ClientRequestToken=token)
    assert err(e)[0] == "ResourceExistsException"


def test_cli_round_trip(moat):
    name = uniq("cli/db")
    out = moat.aws("secretsmanager", "create-secret", "--name", name, "--secret-string",
                   '{"engine":"postgres","password":"p"}')
    assert out["Name"] == name
    got = moat.aws("secretsmanager", "get-secret-value", "--secret-id", name)
    assert json.loads(got["SecretString"])["engine"] == "postgres"
    d = moat.aws("secretsmanager", "describe-secret", "--secret-id", out["ARN"])
    assert d["Name"] == name
    p = moat.aws("secretsmanager", "get-secret-value", "--secret-id", uniq("none"), raw=True)
    assert p.returncode != 0 and "ResourceNotFoundException" in p.stderr


# ---- versions and staging labels -------------------------------------------------------


def test_put_secret_value_moves_labels(sm):
    name = uniq("ver")
    v1 = sm.create_secret(Name=name, SecretString="one")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="two")
    assert v2["VersionStages"] == ["AWSCURRENT"]
    v3 = sm.put_secret_value(SecretId=name, SecretString="three")
    stages = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
    assert stages == {v3["VersionId"]: ["AWSCURRENT"], v2["VersionId"]: ["AWSPREVIOUS"]}
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"] == "two"
    assert sm.get_secret_value(SecretId=name, VersionId=v1)["SecretString"] == "one"
    # v1 has no label now: deprecated, listed only on request
    ids = [v["VersionId"] for v in sm.list_secret_version_ids(SecretId=name)["Versions"]]
    assert v1 not in ids and len(ids) == 2
    ids = [v["VersionId"] for v in
           sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]]
    assert v1 in ids and len(ids) == 3


def test_pending_and_custom_labels(sm):
    name = uniq("lab")
    cur = sm.create_secret(Name=name, SecretString="c")["VersionId"]
    pend = sm.put_secret_value(SecretId=name, SecretString="p",
                               VersionStages=["AWSPENDING", "blue"])["VersionId"]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "c"
    assert sm.get_secret_value(SecretId=name, VersionStage="blue")["SecretString"] == "p"
    g = sm.get_secret_value(SecretId=name, VersionStage="AWSPENDING")
    assert sorted(g["VersionStages"]) == ["AWSPENDING", "blue"]
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId=name, VersionId=cur, VersionStage="blue")
    assert err(e)[0] == "InvalidRequestException"
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId=name, VersionStage="green")
    assert err(e) == ("ResourceNotFoundException",
                      "Secrets Manager can't find the specified secret value for staging label: "
                      "green")
    assert pend


def test_put_secret_value_token_rules(sm):
    name = uniq("tok")
    sm.create_secret(Name=name, SecretString="a")
    token = str(uuid.uuid4())
    r1 = sm.put_secret_value(SecretId=name, SecretString="b", ClientRequestToken=token)
    r2 = sm.put_secret_value(SecretId=name, SecretString="b", ClientRequestToken=token)
    assert r1["VersionId"] == r2["VersionId"] == token
    with pytest.raises(ClientError) as e:
        sm.put_secret_value(SecretId=name, SecretString="c", ClientRequestToken=token)
    assert err(e)[0] == "ResourceExistsException" and token in err(e)[1]
    with pytest.raises(ClientError) as e:
        sm.put_secret_value(SecretId=name)
    assert err(e)[0] == "InvalidParameterException"
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "b"


def test_update_secret_version_stage(sm):
    name = uniq("uvs")
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="2", VersionStages=["staged"])["VersionId"]
    with pytest.raises(ClientError) as e:  # AWSCURRENT is on v1: it must be named
        sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=v2)
    assert err(e)[0] == "InvalidParameterException"
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT",
                                   MoveToVersionId=v2, RemoveFromVersionId=v1)
    stages = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
    assert sorted(stages[v2]) == ["AWSCURRENT", "staged"]
    assert stages[v1] == ["AWSPREVIOUS"]
    sm.update_secret_version_stage(SecretId=name, VersionStage="staged", RemoveFromVersionId=v2)
    assert sm.describe_secret(SecretId=name)["VersionIdsToStages"][v2] == ["AWSCURRENT"]
    with pytest.raises(ClientError) as e:
        sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT",
                                       RemoveFromVersionId=v2)
    assert err(e)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        sm.update_secret_version_stage(SecretId=name, VersionStage="x",
                                       MoveToVersionId=str(uuid.uuid4()))
    assert err(e)[0] == "InvalidParameterException"


def test_labels_limit(sm):
    name = uniq("lim")
    sm.create_secret(Name=name, SecretString="0")
    for i in range(19):
        sm.put_secret_value(SecretId=name, SecretString=str(i), VersionStages=["l%d" % i])
    with pytest.raises(ClientError) as e:
        sm.put_secret_value(SecretId=name, SecretString="x", VersionStages=["one-too-many"])
    assert err(e)[0] == "LimitExceededException"
    # nothing was written by the refused call
    assert len(sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]) == 20


def test_list_secret_version_ids_pages(sm):
    name = uniq("pages")
    sm.create_secret(Name=name, SecretString="0")
    for i in range(5):
        sm.put_secret_value(SecretId=name, SecretString=str(i + 1), VersionStages=["p%d" % i])
    seen, token = [], None
    while True:
        kw = {"NextToken": token} if token else {}
        page = sm.list_secret_version_ids(SecretId=name, MaxResults=2, **kw)
        assert len(page["Versions"]) <= 2
        seen += [v["VersionId"] for v in page["Versions"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == 6 == len(set(seen))
    with pytest.raises(ClientError) as e:
        sm.list_secret_version_ids(SecretId=name, NextToken="garbage")
    assert err(e)[0] == "InvalidNextTokenException"


# ---- update, tags ----------------------------------------------------------------------


def test_update_secret(sm):
    name = uniq("upd")
    v1 = sm.create_secret(Name=name, SecretString="1", Description="d1")["VersionId"]
    r = sm.update_secret(SecretId=name, Description="d2")
    assert "VersionId" not in r
    r = sm.update_secret(SecretId=name, SecretString="2")
    assert r["VersionId"] != v1
    d = sm.describe_secret(SecretId=name)
    assert d["Description"] == "d2"
    assert d["VersionIdsToStages"] == {r["VersionId"]: ["AWSCURRENT"], v1: ["AWSPREVIOUS"]}


def test_tags(sm):
    name = uniq("tags")
    sm.create_secret(Name=name, SecretString="x", Tags=[{"Key": "a", "Value": "1"}])
    sm.tag_resource(SecretId=name, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}])
    tags = {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId=name)["Tags"]}
    assert tags == {"a": "3", "b": "2"}
    sm.untag_resource(SecretId=name, TagKeys=["a"])
    assert sm.describe_secret(SecretId=name)["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as e:
        sm.tag_resource(SecretId=name, Tags=[{"Key": "k%d" % i, "Value": "v"} for i in range(50)])
    assert err(e)[0] == "InvalidParameterException"


# ---- listing ---------------------------------------------------------------------------


def test_list_secrets_filters_sort_and_pages(moat, sm, raw):
    tag = uniq("team")
    names = []
    for i, (desc, env) in enumerate([("Primary database", "prod"), ("cache", "dev"),
                                     ("Reporting DB", "prod")]):
        n = "%s/svc%d" % (tag, i)
        sm.create_secret(Name=n, SecretString="x", Description=desc,
                         Tags=[{"Key": "env", "Value": env}, {"Key": tag, "Value": "yes"}])
        names.append(n)
        time.sleep(0.01)

    def listed(**kw):
        out, token = [], None
        while True:
            page = sm.list_secrets(**kw, **({"NextToken": token} if token else {}))
            out += [s["Name"] for s in page["SecretList"]]
            token = page.get("NextToken")
            if not token:
                return out

    assert listed(Filters=[{"Key": "name", "Values": [tag + "/"]}]) == names
    assert listed(Filters=[{"Key": "tag-key", "Values": [tag]},
                           {"Key": "tag-value", "Values": ["prod"]}]) == [names[0], names[2]]
    assert listed(Filters=[{"Key": "description", "Values": ["database"]},
                           {"Key": "tag-key", "Values": [tag]}]) == [names[0]]
    assert listed(Filters=[{"Key": "all", "Values": ["reporting"]},
                           {"Key": "tag-key", "Values": [tag]}]) == [names[2]]
    assert listed(Filters=[{"Key": "tag-key", "Values": [tag]},
                           {"Key": "tag-value", "Values": ["!prod"]}]) == [names[1]]
    assert listed(Filters=[{"Key": "name", "Values": [tag]}], SortOrder="desc") == names[::-1]
    assert listed(Filters=[{"Key": "name", "Values": [tag]}], MaxResults=1) == names
    if has_member(sm, "ListSecrets", "SortBy"):
        assert listed(Filters=[{"Key": "name", "Values": [tag]}], SortBy="name",
                      SortOrder="desc") == sorted(names)[::-1]
    sm.delete_secret(SecretId=names[1])
    assert listed(Filters=[{"Key": "name", "Values": [tag]}]) == [names[0], names[2]]
    if has_member(sm, "ListSecrets", "IncludePlannedDeletion"):
        assert listed(Filters=[{"Key": "name", "Values": [tag]}],
                      IncludePlannedDeletion=True) == names
    with pytest.raises(ClientError) as e:
        raw.list_secrets(Filters=[{"Key": "name", "Values": ["bad*value"]}])
    assert err(e)[0] == "ValidationException"
    out = moat.aws("secretsmanager", "list-secrets", "--filters", "Key=name,Values=" + tag)
    assert [s["Name"] for s in out["SecretList"]] == [names[0], names[2]]


# ---- deletion ----------------------------------------------------------------------------


def test_delete_restore_and_force(sm):
    name = uniq("del")
    arn = sm.create_secret(Name=name, SecretString="x")["ARN"]
    with pytest.raises(ClientError) as e:
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=6)
    assert err(e) == ("InvalidParameterException",
                      "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
    with pytest.raises(ClientError) as e:
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True)
    assert err(e)[0] == "InvalidParameterException"
    r = sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    assert r["ARN"] == arn
    assert 6.9 * 86400 < r["DeletionDate"].timestamp() - time.time() < 7.1 * 86400
    d = sm.describe_secret(SecretId=name)
    assert "DeletedDate" in d
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId=name)
    assert err(e) == ("InvalidRequestException",
                      "You tried to perform the operation on a secret that's currently marked "
                      "deleted.")
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name=name, SecretString="y")
    assert err(e)[0] == "InvalidRequestException"
    with pytest.raises(ClientError) as e:
        sm.delete_secret(SecretId=name)
    assert err(e)[0] == "InvalidRequestException"
    sm.restore_secret(SecretId=name)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "x"
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    with pytest.raises(ClientError) as e:
        sm.describe_secret(SecretId=name)
    assert err(e)[0] == "ResourceNotFoundException"
    # force on a secret that does not exist: no ResourceNotFoundException
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    with pytest.raises(ClientError) as e:
        sm.delete_secret(SecretId=uniq("never"))
    assert err(e)[0] == "ResourceNotFoundException"
    # the name is free again, with a new ARN
    arn2 = sm.create_secret(Name=name, SecretString="z")["ARN"]
    assert arn2 != arn
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId=arn)
    assert err(e)[0] == "ResourceNotFoundException"


def test_deleted_after_the_recovery_window(fresh_moat):
    m = fresh_moat(args=["--allow-test-clock"])
    sm = m.client("secretsmanager")
    keep = sm.create_secret(Name="keep", SecretString="k")["ARN"]
    gone = sm.create_secret(Name="gone", SecretString="g")["ARN"]
    sm.delete_secret(SecretId="gone", RecoveryWindowInDays=7)
    sm.delete_secret(SecretId="keep", RecoveryWindowInDays=30)
    set_clock(m, advance_seconds=8 * 86400)
    deadline = time.time() + 10
    # The job runs on service time; requests are signed with real time, so look with the
    # clock set back.
    while time.time() < deadline:
        time.sleep(0.3)
        set_clock(m, offset_seconds=0)
        try:
            sm.describe_secret(SecretId=gone)
        except ClientError as e:
            assert client_error_code(e) == "ResourceNotFoundException"
            break
        set_clock(m, advance_seconds=8 * 86400)
    else:
        pytest.fail("the secret was not deleted after its recovery window")
    set_clock(m, offset_seconds=0)
    assert sm.describe_secret(SecretId=keep)["Name"] == "keep"
    # the event happened at service time, eight days ahead
    events = m.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "EndSecretVersionDelete"}],
        StartTime=time.time() - 3600, EndTime=time.time() + 10 * 86400)
    recs = [json.loads(e["CloudTrailEvent"]) for e in events["Events"]]
    assert len(recs) == 1
    assert recs[0]["eventType"] == "AwsServiceEvent"
    assert recs[0]["userIdentity"]["invokedBy"] == "secretsmanager.amazonaws.com"
    assert recs[0]["additionalEventData"]["SecretId"] == gone
    # the name can be used again
    sm.create_secret(Name="gone", SecretString="again")


# ---- resource policies ---------------------------------------------------------------------


def policy(principal, condition=None):
    st = {"Effect": "Allow", "Principal": principal, "Action": "secretsmanager:GetSecretValue",
          "Resource": "*"}
    if condition:
        st["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


def test_resource_policy(sm):
    name = uniq("pol")
    arn = sm.create_secret(Name=name, SecretString="x")["ARN"]
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)
    doc = policy({"AWS": "arn:aws:iam::111122223333:root"})
    r = sm.put_resource_policy(SecretId=name, ResourcePolicy=doc, BlockPublicPolicy=True)
    assert r == {"ARN": arn, "Name": name, "ResponseMetadata": r["ResponseMetadata"]}
    assert json.loads(sm.get_resource_policy(SecretId=name)["ResourcePolicy"]) == json.loads(doc)
    with pytest.raises(ClientError) as e:
        sm.put_resource_policy(SecretId=name, ResourcePolicy=policy("*"), BlockPublicPolicy=True)
    assert err(e)[0] == "PublicPolicyException"
    sm.put_resource_policy(SecretId=name, ResourcePolicy=policy(
        "*", {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}), BlockPublicPolicy=True)
    with pytest.raises(ClientError) as e:
        sm.put_resource_policy(SecretId=name, ResourcePolicy='{"Version": "2012-10-17"')
    assert err(e)[0] == "MalformedPolicyDocumentException"
    with pytest.raises(ClientError) as e:
        sm.put_resource_policy(SecretId=name, ResourcePolicy=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Principal": "*",
                                                     "Action": "*", "Resource": "*"}]}))
    assert err(e)[0] == "MalformedPolicyDocumentException"
    v = sm.validate_resource_policy(SecretId=name, ResourcePolicy=policy("*"))
    assert v["PolicyValidationPassed"] is False and v["ValidationErrors"]
    v = sm.validate_resource_policy(ResourcePolicy=doc)
    assert v["PolicyValidationPassed"] is True and v["ValidationErrors"] == []
    sm.delete_resource_policy(SecretId=name)
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)


# ---- random passwords ----------------------------------------------------------------------


def test_get_random_password(moat, sm, raw):
    pw = sm.get_random_password()["RandomPassword"]
    assert len(pw) == 32
    assert any(c.islower() for c in pw) and any(c.isupper() for c in pw)
    assert any(c.isdigit() for c in pw) and any(not c.isalnum() for c in pw)
    for _ in range(20):
        pw = sm.get_random_password(PasswordLength=12, ExcludePunctuation=True,
                                    ExcludeCharacters="abcdef0123")["RandomPassword"]
        assert len(pw) == 12 and pw.isalnum() and not set(pw) & set("abcdef0123")
    pw = sm.get_random_password(PasswordLength=40, ExcludeNumbers=True, ExcludeUppercase=True,
                                ExcludePunctuation=True, IncludeSpace=True)["RandomPassword"]
    assert set(pw) <= set("abcdefghijklmnopqrstuvwxyz ")
    with pytest.raises(ClientError) as e:
        sm.get_random_password(PasswordLength=3)
    assert err(e)[0] == "InvalidParameterException"
    assert len(sm.get_random_password(PasswordLength=3,
                                      RequireEachIncludedType=False)["RandomPassword"]) == 3
    with pytest.raises(ClientError) as e:
        sm.get_random_password(ExcludeLowercase=True, ExcludeUppercase=True, ExcludeNumbers=True,
                               ExcludePunctuation=True)
    assert err(e)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        raw.get_random_password(PasswordLength=4097)
    assert err(e)[0] == "ValidationException"
    out = moat.aws("secretsmanager", "get-random-password", "--password-length", "20",
                   "--exclude-punctuation")
    assert len(out["RandomPassword"]) == 20 and out["RandomPassword"].isalnum()


# ---- batch reads -----------------------------------------------------------------------------


def test_batch_get_secret_value(moat, sm):
    if not has_member(sm, "BatchGetSecretValue", None):
        pytest.skip("this botocore has no BatchGetSecretValue")
    tag = uniq("batch")
    arns = [sm.create_secret(Name="%s/%d" % (tag, i), SecretString="v%d" % i,
                             Tags=[{"Key": tag, "Value": "1"}])["ARN"] for i in range(3)]
    missing = uniq("missing")
    r = sm.batch_get_secret_value(SecretIdList=[arns[0], "%s/2" % tag, missing])
    assert sorted(v["SecretString"] for v in r["SecretValues"]) == ["v0", "v2"]
    assert r["Errors"] == [{"SecretId": missing, "ErrorCode": "ResourceNotFoundException",
                            "Message": "Secrets Manager can't find the specified secret."}]
    r = sm.batch_get_secret_value(Filters=[{"Key": "tag-key", "Values": [tag]}], MaxResults=2)
    assert len(r["SecretValues"]) == 2 and r["NextToken"]
    r2 = sm.batch_get_secret_value(Filters=[{"Key": "tag-key", "Values": [tag]}],
                                   NextToken=r["NextToken"])
    got = {v["ARN"] for v in r["SecretValues"] + r2["SecretValues"]}
    assert got == set(arns)
    with pytest.raises(ClientError) as e:
        sm.batch_get_secret_value(SecretIdList=[arns[0]],
                                  Filters=[{"Key": "tag-key", "Values": [tag]}])
    assert err(e)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        sm.batch_get_secret_value(SecretIdList=[arns[0]], MaxResults=2)
    assert err(e)[0] == "InvalidParameterException"


# ---- CloudTrail --------------------------------------------------------------------------------


def test_cloudtrail_records_never_hold_secret_values(moat, sm):
    marker = "TOPSECRET-" + uuid.uuid4().hex
    name = uniq("ct")
    sm.create_secret(Name=name, SecretString=marker + "-1")
    sm.put_secret_value(SecretId=name, SecretString=marker + "-2")
    sm.update_secret(SecretId=name, SecretString=marker + "-3")
    sm.create_secret(Name=uniq("ctb"), SecretBinary=marker.encode())
    assert sm.get_secret_value(SecretId=name)["SecretString"] == marker + "-3"
    if has_member(sm, "BatchGetSecretValue", None):
        sm.batch_get_secret_value(SecretIdList=[name])
    pw = sm.get_random_password()["RandomPassword"]
    seen = {}
    time.sleep(0.2)
    for r in audit_records(moat, "secretsmanager.amazonaws.com") + audit_records(
            moat, "kms.amazonaws.com"):
        rec = json.dumps(r)
        assert marker not in rec and base64.b64encode(marker.encode()).decode() not in rec
        assert pw not in rec
        seen.setdefault(r["eventName"], []).append(r)
    assert {"CreateSecret", "PutSecretValue", "UpdateSecret", "GetSecretValue",
            "GetRandomPassword"} <= set(seen)
    # nor is any value at rest in plaintext: the store holds only ciphertext
    if not moat.store_url:
        for f in os.listdir(moat.data_dir):
            if f.startswith("moat.db"):
                with open(os.path.join(moat.data_dir, f), "rb") as fh:
                    assert marker.encode() not in fh.read(), f
    create = [r for r in seen["CreateSecret"] if r["requestParameters"]["name"] == name][0]
    assert create["readOnly"] is False and create["responseElements"]["name"] == name
    arn = create["responseElements"]["arn"]
    assert "aRN" not in create["responseElements"]
    # envelope encryption: GenerateDataKey on the caller's behalf, with the secret as context
    gdk = [r for r in seen["GenerateDataKey"]
           if r["requestParameters"]["encryptionContext"]["SecretARN"] == arn]
    assert len(gdk) == 3  # CreateSecret, PutSecretValue, UpdateSecret
    assert gdk[0]["userIdentity"]["invokedBy"] == "secretsmanager.amazonaws.com"
    assert gdk[0]["sourceIPAddress"] == "secretsmanager.amazonaws.com"
    assert gdk[0]["requestParameters"]["keyId"] == "alias/aws/secretsmanager"
    assert set(gdk[0]["requestParameters"]["encryptionContext"]) == {"SecretARN",
                                                                      "SecretVersionId"}
    dec = [r for r in seen["Decrypt"]
           if r["requestParameters"]["encryptionContext"]["SecretARN"] == arn]
    assert dec and dec[0]["userIdentity"]["invokedBy"] == "secretsmanager.amazonaws.com"
    assert "secretString" not in create["requestParameters"]
    get = [r for r in seen["GetSecretValue"] if r["requestParameters"]["secretId"] == name]
    assert get and get[0]["readOnly"] is True and get[0]["responseElements"] is None
    assert get[0]["resources"][0]["type"] == "AWS::SecretsManager::Secret"


def test_last_accessed_date(sm):
    name = uniq("acc")
    v = sm.create_secret(Name=name, SecretString="x")["VersionId"]
    assert "LastAccessedDate" not in sm.describe_secret(SecretId=name)
    sm.get_secret_value(SecretId=name)
    today = int(time.time()) // 86400 * 86400
    deadline = time.time() + 10
    while True:  # written by the background job, within a second
        d = sm.describe_secret(SecretId=name)
        if "LastAccessedDate" in d:
            break
        assert time.time() < deadline
        time.sleep(0.2)
    # AWS reports the day, not the time
    assert d["LastAccessedDate"].timestamp() == today
    versions = sm.list_secret_version_ids(SecretId=name)["Versions"]
    assert versions[0]["VersionId"] == v and versions[0]["LastAccessedDate"].timestamp() == today


@pytest.mark.slow  # a long aws CLI flow: run with each client, not each store
def test_cli_lifecycle(moat, tmp_path):
    name = uniq("cli/life")
    moat.aws("secretsmanager", "create-secret", "--name", name, "--description", "d",
             "--tags", "Key=env,Value=test")
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(200)))
    put = moat.aws("secretsmanager", "put-secret-value", "--secret-id", name,
                   "--secret-binary", "fileb://" + str(blob))
    got = moat.aws("secretsmanager", "get-secret-value", "--secret-id", name)
    assert base64.b64decode(got["SecretBinary"]) == bytes(range(200))
    put2 = moat.aws("secretsmanager", "put-secret-value", "--secret-id", name, "--secret-string",
                    "text", "--version-stages", "AWSPENDING")
    moat.aws("secretsmanager", "update-secret-version-stage", "--secret-id", name,
             "--version-stage", "AWSCURRENT", "--move-to-version-id", put2["VersionId"],
             "--remove-from-version-id", put["VersionId"])
    ids = moat.aws("secretsmanager", "list-secret-version-ids", "--secret-id", name)
    stages = {v["VersionId"]: sorted(v["VersionStages"]) for v in ids["Versions"]}
    assert stages == {put2["VersionId"]: ["AWSCURRENT", "AWSPENDING"],
                      put["VersionId"]: ["AWSPREVIOUS"]}
    moat.aws("secretsmanager", "tag-resource", "--secret-id", name, "--tags",
             "Key=team,Value=a")
    moat.aws("secretsmanager", "untag-resource", "--secret-id", name, "--tag-keys", "env")
    d = moat.aws("secretsmanager", "describe-secret", "--secret-id", name)
    assert d["Tags"] == [{"Key": "team", "Value": "a"}] and d["Description"] == "d"
    moat.aws("secretsmanager", "put-resource-policy", "--secret-id", name, "--resource-policy",
             policy({"AWS": "arn:aws:iam::%s:root" % ACCOUNT}), "--block-public-policy")
    p = moat.aws("secretsmanager", "validate-resource-policy", "--resource-policy", policy("*"))
    assert p["PolicyValidationPassed"] is False
    out = moat.aws("secretsmanager", "delete-secret", "--secret-id", name,
                   "--recovery-window-in-days", "10")
    assert out["Name"] == name
    moat.aws("secretsmanager", "restore-secret", "--secret-id", name)
    assert moat.aws("secretsmanager", "get-secret-value", "--secret-id", name)["SecretString"] == \
        "text"
    moat.aws("secretsmanager", "delete-secret", "--secret-id", name,
             "--force-delete-without-recovery")
    p = moat.aws("secretsmanager", "describe-secret", "--secret-id", name, raw=True)
    assert p.returncode != 0 and "ResourceNotFoundException" in p.stderr

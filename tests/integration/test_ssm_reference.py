"""Secrets Manager secrets read through Parameter Store
(/aws/reference/secretsmanager/<secret-id>[:stage-or-version]): a pass-through call to
GetSecretValue on the caller's behalf, with AWS's restrictions."""
import base64
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from test_ssm import audit_records, err

REF = "/aws/reference/secretsmanager/"


@pytest.fixture(scope="module")
def secret(moat):
    sm = moat.client("secretsmanager")
    name = "prod/db-" + uuid.uuid4().hex[:6]
    first = sm.create_secret(Name=name, SecretString='{"user":"app","password":"one"}')
    second = sm.put_secret_value(SecretId=name, SecretString='{"user":"app","password":"two"}')
    return name, first, second


def test_get_secret_through_ssm(moat, secret):
    name, first, second = secret
    ssm = moat.client("ssm")
    p = ssm.get_parameter(Name=REF + name, WithDecryption=True)["Parameter"]
    assert p["Name"] == REF + name and p["Type"] == "SecureString"
    assert p["Value"] == '{"user":"app","password":"two"}'
    assert p["Version"] == 0 and p["ARN"] == first["ARN"] and p["DataType"] == "text"
    src = json.loads(p["SourceResult"])
    assert src["Name"] == name and src["ARN"] == first["ARN"]
    assert src["VersionId"] == second["VersionId"] and src["VersionStages"] == ["AWSCURRENT"]
    prev = ssm.get_parameter(Name=REF + name + ":AWSPREVIOUS", WithDecryption=True)["Parameter"]
    assert prev["Value"] == '{"user":"app","password":"one"}' and prev["Selector"] == ":AWSPREVIOUS"
    assert prev["Name"] == REF + name
    by_id = ssm.get_parameter(Name=REF + name + ":" + first["VersionId"],
                              WithDecryption=True)["Parameter"]
    assert by_id["Value"] == '{"user":"app","password":"one"}'
    by_arn = ssm.get_parameter(Name=REF + first["ARN"], WithDecryption=True)["Parameter"]
    assert by_arn["Value"] == '{"user":"app","password":"two"}'


def test_reference_rules(moat, secret):
    name, _, _ = secret
    ssm = moat.client("ssm")
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=REF + name)
    assert err(e)[:2] == ("ValidationException",
                          "WithDecryption flag must be True for retrieving a Secret Manager "
                          "secret.")
    with pytest.raises(ClientError) as e:
        ssm.get_parameters(Names=[REF + name])
    assert err(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=REF + "no/such/secret", WithDecryption=True)
    code, msg, _ = err(e)
    assert code == "ParameterNotFound" and "Secrets Manager" in msg
    with pytest.raises(ClientError) as e:
        ssm.get_parameters_by_path(Path=REF.rstrip("/"), Recursive=True)
    assert err(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=REF + name, Value="x", Type="String")
    assert err(e)[0] == "AccessDeniedException"
    ssm.put_parameter(Name="/plain/" + name, Value="p", Type="String")
    r = ssm.get_parameters(Names=[REF + name, REF + "missing-" + name, "/plain/" + name],
                           WithDecryption=True)
    assert sorted(p["Name"] for p in r["Parameters"]) == [REF + name, "/plain/" + name]
    assert r["InvalidParameters"] == [REF + "missing-" + name]


def test_binary_secret_and_cli(moat):
    sm = moat.client("secretsmanager")
    name = "bin-" + uuid.uuid4().hex[:6]
    sm.create_secret(Name=name, SecretBinary=b"\x00\x01secret\xff")
    out = moat.aws("ssm", "get-parameter", "--name", REF + name, "--with-decryption")
    assert base64.b64decode(out["Parameter"]["Value"]) == b"\x00\x01secret\xff"
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    p = moat.aws("ssm", "get-parameter", "--name", REF + name, "--with-decryption", raw=True)
    assert p.returncode != 0 and "ValidationException" in p.stderr


def test_reference_calls_in_cloudtrail(fresh_moat):
    m = fresh_moat()
    m.client("secretsmanager").create_secret(Name="traced", SecretString="t0p-secret")
    m.client("ssm").get_parameter(Name=REF + "traced", WithDecryption=True)
    recs = audit_records(m)
    gsv = [r for r in recs if r["eventName"] == "GetSecretValue"]
    assert len(gsv) == 1
    assert gsv[0]["userIdentity"]["invokedBy"] == "ssm.amazonaws.com"
    assert gsv[0]["sourceIPAddress"] == "ssm.amazonaws.com"
    get = [r for r in recs if r["eventName"] == "GetParameter"][0]
    assert get["requestParameters"] == {"name": REF + "traced", "withDecryption": True}
    for r in recs:
        assert "t0p-secret" not in json.dumps(r)

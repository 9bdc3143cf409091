"""Parameter Store under IAM: every operation's action and resource (the parameter ARN,
the path for GetParametersByPath, "*" for DescribeParameters), the ssm:Overwrite and
ssm:Recursive condition keys, aws:ResourceTag / ssm:resourceTag, aws:RequestTag /
aws:TagKeys, and the KMS permissions a SecureString needs (none through aws/ssm)."""
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from test_ssm import audit_records, err
from moat_harness import doc, allow, deny

ACCOUNT = "000000000000"
REGION = "us-east-1"
P = "arn:aws:ssm:%s:%s:parameter" % (REGION, ACCOUNT)


def user_client(moat, policy, service="ssm"):
    iam = moat.client("iam")
    name = "u-" + uuid.uuid4().hex[:8]
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, moat.client(service, access_key=key["AccessKeyId"],
                             secret_key=key["SecretAccessKey"])


@pytest.fixture(scope="module")
def tree(moat):
    ssm = moat.client("ssm")
    base = "/" + uuid.uuid4().hex[:8]
    ssm.put_parameter(Name=base + "/app/a", Value="A", Type="String")
    ssm.put_parameter(Name=base + "/app/deep/b", Value="B", Type="String")
    ssm.put_parameter(Name=base + "/other/c", Value="C", Type="String")
    ssm.put_parameter(Name=base + "/tagged/blue", Value="blue", Type="String",
                      Tags=[{"Key": "team", "Value": "blue"}])
    ssm.put_parameter(Name=base + "/tagged/red", Value="red", Type="String",
                      Tags=[{"Key": "team", "Value": "red"}])
    ssm.put_parameter(Name=base + "/app/secret", Value="s3", Type="SecureString")
    return base


def test_nothing_allowed(moat, tree):
    user, ssm = user_client(moat, doc(allow("sts:GetCallerIdentity")))
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=tree + "/app/a")
    code, msg, status = err(e)
    assert code == "AccessDeniedException" and status == 400
    assert msg == ("User: arn:aws:iam::%s:user/%s is not authorized to perform: ssm:GetParameter "
                   "on resource: %s%s/app/a because no identity-based policy allows the "
                   "ssm:GetParameter action" % (ACCOUNT, user, P, tree))
    with pytest.raises(ClientError) as e:
        ssm.describe_parameters()
    code, msg, _ = err(e)
    assert code == "AccessDeniedException"
    assert "ssm:DescribeParameters on resource: arn:aws:ssm:%s:%s:*" % (REGION, ACCOUNT) in msg
    recs = [r for r in audit_records(moat) if r["eventName"] == "GetParameter" and
            r.get("userIdentity", {}).get("userName") == user]
    assert recs and recs[-1]["errorCode"] in ("AccessDenied", "AccessDeniedException")


def test_parameter_arns(moat, tree):
    _, ssm = user_client(moat, doc(allow(["ssm:GetParameter", "ssm:GetParameters"],
                                         P + tree + "/app/*")))
    assert ssm.get_parameter(Name=tree + "/app/a")["Parameter"]["Value"] == "A"
    assert ssm.get_parameter(Name=tree + "/app/deep/b:1")["Parameter"]["Value"] == "B"
    assert ssm.get_parameter(Name=P + tree + "/app/a")["Parameter"]["Value"] == "A"
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=tree + "/other/c")
    assert err(e)[0] == "AccessDeniedException"
    # GetParameters is all or nothing
    r = ssm.get_parameters(Names=[tree + "/app/a", tree + "/app/missing"])
    assert [p["Name"] for p in r["Parameters"]] == [tree + "/app/a"]
    with pytest.raises(ClientError) as e:
        ssm.get_parameters(Names=[tree + "/app/a", tree + "/other/c"])
    assert err(e)[0] == "AccessDeniedException" and tree + "/other/c" in err(e)[1]
    many = [tree + "/app/n%d" % i for i in range(10)]
    assert len(ssm.get_parameters(Names=many)["InvalidParameters"]) == 10


def test_by_path_and_recursive(moat, tree):
    _, ssm = user_client(moat, doc(
        allow("ssm:GetParametersByPath", P + tree + "/app"),
        deny("ssm:GetParametersByPath", P + tree + "/app",
             Condition={"StringEquals": {"ssm:Recursive": "true"}})))
    got = ssm.get_parameters_by_path(Path=tree + "/app")["Parameters"]
    assert sorted(p["Name"] for p in got) == [tree + "/app/a", tree + "/app/secret"]
    with pytest.raises(ClientError) as e:
        ssm.get_parameters_by_path(Path=tree + "/app", Recursive=True)
    assert err(e)[0] == "AccessDeniedException"
    with pytest.raises(ClientError) as e:
        ssm.get_parameters_by_path(Path=tree + "/other")
    assert err(e)[0] == "AccessDeniedException"
    # access to a path is access to everything below it
    _, ssm = user_client(moat, doc(allow("ssm:GetParametersByPath", P + tree)))
    got = ssm.get_parameters_by_path(Path=tree, Recursive=True)["Parameters"]
    assert len(got) == 6


def test_overwrite_condition(moat, tree):
    _, ssm = user_client(moat, doc(
        allow("ssm:PutParameter", P + tree + "/w/*"),
        deny("ssm:PutParameter", "*", Condition={"Bool": {"ssm:Overwrite": "true"}})))
    ssm.put_parameter(Name=tree + "/w/x", Value="1", Type="String")
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=tree + "/w/x", Value="2", Overwrite=True)
    assert err(e)[0] == "AccessDeniedException"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=tree + "/elsewhere", Value="1", Type="String")
    assert err(e)[0] == "AccessDeniedException"


def test_resource_tags(moat, tree):
    for key in ("aws:ResourceTag/team", "ssm:resourceTag/team"):
        _, ssm = user_client(moat, doc(allow(
            ["ssm:GetParameter", "ssm:GetParameterHistory", "ssm:LabelParameterVersion"], "*",
            Condition={"StringEquals": {key: "blue"}})))
        assert ssm.get_parameter(Name=tree + "/tagged/blue")["Parameter"]["Value"] == "blue"
        assert len(ssm.get_parameter_history(Name=tree + "/tagged/blue")["Parameters"]) == 1
        with pytest.raises(ClientError) as e:
            ssm.get_parameter(Name=tree + "/tagged/red")
        assert err(e)[0] == "AccessDeniedException"
        with pytest.raises(ClientError) as e:
            ssm.label_parameter_version(Name=tree + "/tagged/red", Labels=["x"])
        assert err(e)[0] == "AccessDeniedException"


def test_request_tags(moat, tree):
    _, ssm = user_client(moat, doc(
        allow(["ssm:PutParameter", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource"],
              P + tree + "/rt/*",
              Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}}),
        deny(["ssm:PutParameter", "ssm:AddTagsToResource"], "*",
             Condition={"StringEquals": {"aws:RequestTag/env": "prod"}})))
    ssm.put_parameter(Name=tree + "/rt/a", Value="1", Type="String",
                      Tags=[{"Key": "team", "Value": "x"}])
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=tree + "/rt/b", Value="1", Type="String",
                          Tags=[{"Key": "owner", "Value": "x"}])
    assert err(e)[0] == "AccessDeniedException"
    with pytest.raises(ClientError) as e:
        ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=tree + "/rt/a",
                                 Tags=[{"Key": "env", "Value": "prod"}])
    assert err(e)[0] == "AccessDeniedException"
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=tree + "/rt/a",
                             Tags=[{"Key": "env", "Value": "dev"}])
    with pytest.raises(ClientError) as e:
        ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=tree + "/rt/a",
                                      TagKeys=["owner"])
    assert err(e)[0] == "AccessDeniedException"
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=tree + "/rt/a",
                                  TagKeys=["env"])


def test_other_actions(moat, tree):
    _, ssm = user_client(moat, doc(allow("ssm:DescribeParameters")))
    assert isinstance(ssm.describe_parameters()["Parameters"], list)
    for call, kw in ((ssm.delete_parameter, {"Name": tree + "/app/a"}),
                     (ssm.delete_parameters, {"Names": [tree + "/app/a"]}),
                     (ssm.get_parameter_history, {"Name": tree + "/app/a"}),
                     (ssm.unlabel_parameter_version, {"Name": tree + "/app/a",
                                                      "ParameterVersion": 1, "Labels": ["x"]}),
                     (ssm.list_tags_for_resource, {"ResourceType": "Parameter",
                                                   "ResourceId": tree + "/app/a"})):
        with pytest.raises(ClientError) as e:
            call(**kw)
        assert err(e)[0] == "AccessDeniedException", call
    assert moat.client("ssm").get_parameter(Name=tree + "/app/a")["Parameter"]["Value"] == "A"


def test_secure_strings_and_kms(moat, tree):
    # aws/ssm's key policy lets the account use it through Parameter Store: ssm:* suffices
    _, ssm = user_client(moat, doc(allow(["ssm:GetParameter", "ssm:PutParameter"], "*")))
    assert ssm.get_parameter(Name=tree + "/app/secret", WithDecryption=True)["Parameter"][
        "Value"] == "s3"
    ssm.put_parameter(Name=tree + "/mine", Value="m", Type="SecureString")
    # a customer key's default policy defers to IAM: kms:Decrypt (via ssm) is needed
    kms = moat.client("kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    moat.client("ssm").put_parameter(Name=tree + "/cmk", Value="cmk-secret", Type="SecureString",
                                     KeyId=key_id)
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=tree + "/cmk", WithDecryption=True)
    code, msg, _ = err(e)
    assert code == "AccessDeniedException" and "kms:Decrypt" in msg
    assert ssm.get_parameter(Name=tree + "/cmk")["Parameter"]["Value"] != "cmk-secret"
    key_arn = "arn:aws:kms:%s:%s:key/%s" % (REGION, ACCOUNT, key_id)
    _, ssm2 = user_client(moat, doc(
        allow("ssm:GetParameter", "*"),
        allow("kms:Decrypt", key_arn,
              Condition={"StringEquals": {"kms:ViaService": "ssm.%s.amazonaws.com" % REGION}})))
    assert ssm2.get_parameter(Name=tree + "/cmk", WithDecryption=True)["Parameter"][
        "Value"] == "cmk-secret"


def test_last_modified_user_is_the_session(moat, tree):
    iam = moat.client("iam")
    user, _ = user_client(moat, doc(allow("sts:AssumeRole")))
    role = "r-" + uuid.uuid4().hex[:8]
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=doc({
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"AWS": "arn:aws:iam::%s:user/%s" % (ACCOUNT, user)}}))
    iam.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=doc(
        allow(["ssm:PutParameter", "ssm:DescribeParameters", "ssm:GetParameterHistory"])))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    sts = moat.client("sts", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    creds = sts.assume_role(RoleArn="arn:aws:iam::%s:role/%s" % (ACCOUNT, role),
                            RoleSessionName="deploy")["Credentials"]
    ssm = moat.client("ssm", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                      session_token=creds["SessionToken"])
    name = tree + "/by-role"
    ssm.put_parameter(Name=name, Value="v", Type="String")
    md = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])
    session = "arn:aws:sts::%s:assumed-role/%s/deploy" % (ACCOUNT, role)
    assert md["Parameters"][0]["LastModifiedUser"] == session
    assert ssm.get_parameter_history(Name=name)["Parameters"][0]["LastModifiedUser"] == session

"""Authorization on real requests: each global condition key in a real request, explicit
deny over allow, permissions boundaries capping, session policies, SCP-free accounts, and
the policy simulator agreeing with enforcement on the same cases."""
import datetime
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from moat_harness import doc

ACCOUNT = "000000000000"


def allow(action, resource="*", **cond):
    s = {"Effect": "Allow", "Action": action, "Resource": resource}
    if cond:
        s["Condition"] = cond
    return s


def deny(action, resource="*", **cond):
    s = {"Effect": "Deny", "Action": action, "Resource": resource}
    if cond:
        s["Condition"] = cond
    return s


def name(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def user(moat, *statements, **kw):
    iam = moat.client("iam")
    u = name("u")
    iam.create_user(UserName=u, **kw)
    if statements:
        iam.put_user_policy(UserName=u, PolicyName="p", PolicyDocument=doc(*statements))
    key = iam.create_access_key(UserName=u)["AccessKey"]
    return u, key


def client(moat, service, creds, **kw):
    return moat.client(service, access_key=creds["AccessKeyId"],
                       secret_key=creds["SecretAccessKey"],
                       session_token=creds.get("SessionToken"), **kw)


def allowed(fn, **kw):
    try:
        fn(**kw)
        return True
    except ClientError as e:
        code = e.response["Error"]["Code"]
        assert code in ("AccessDenied", "AccessDeniedException"), e
        return False


def rand(moat, key, **kw):
    return allowed(client(moat, "kms", key, **kw).generate_random, NumberOfBytes=4)


# ---- request keys --------------------------------------------------------------------------


def test_source_ip_inside_and_outside(moat):
    _, inside = user(moat, allow("kms:GenerateRandom", IpAddress={"aws:SourceIp": "127.0.0.0/8"}))
    _, outside = user(moat, allow("kms:GenerateRandom", IpAddress={"aws:SourceIp": "10.0.0.0/8"}))
    _, denied = user(moat, allow("kms:GenerateRandom"),
                     deny("*", NotIpAddress={"aws:SourceIp": ["192.0.2.0/24", "10.1.0.0/16"]}))
    assert rand(moat, inside)
    assert not rand(moat, outside)
    assert not rand(moat, denied)


def test_secure_transport_http_vs_https(fresh_moat):
    m = fresh_moat(tls=True)
    _, key = user(m, allow("kms:GenerateRandom"),
                  deny("*", Bool={"aws:SecureTransport": "false"}))
    assert not rand(m, key)
    assert rand(m, key, tls=True)


def test_requested_region(moat):
    _, key = user(moat, allow("kms:GenerateRandom",
                              StringEquals={"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}))
    assert rand(moat, key, region="eu-west-1")
    assert not rand(moat, key, region="ap-southeast-2")


def test_current_and_epoch_time(moat):
    now = datetime.datetime.now(datetime.timezone.utc)
    soon = (now + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _, key = user(moat, allow("kms:GenerateRandom", DateLessThan={"aws:CurrentTime": soon},
                              NumericGreaterThan={"aws:EpochTime": str(int(now.timestamp()) - 60)}))
    assert rand(moat, key)
    _, expired = user(moat, allow("kms:GenerateRandom",
                                  DateLessThan={"aws:CurrentTime": "2020-01-01T00:00:00Z"}))
    assert not rand(moat, expired)


# ---- principal keys ------------------------------------------------------------------------------


def test_principal_arn_account_type_userid_username(moat):
    u = name("who")
    arn = "arn:aws:iam::%s:user/%s" % (ACCOUNT, u)
    _, key = user(moat, allow("kms:GenerateRandom", StringEquals={
        "aws:PrincipalArn": arn, "aws:PrincipalAccount": ACCOUNT, "aws:PrincipalType": "User",
        "aws:username": u}, StringLike={"aws:userid": "AIDA*"}))
    assert not rand(moat, key)  # the policy names another user's ARN
    iam = moat.client("iam")
    iam.create_user(UserName=u)
    iam.put_user_policy(UserName=u, PolicyName="p", PolicyDocument=doc(allow(
        "kms:GenerateRandom", StringEquals={
            "aws:PrincipalArn": arn, "aws:PrincipalAccount": ACCOUNT, "aws:PrincipalType": "User",
            "aws:username": u}, StringLike={"aws:userid": "AIDA*"})))
    own = iam.create_access_key(UserName=u)["AccessKey"]
    assert rand(moat, own)


def test_principal_tags(moat):
    statement = allow("kms:GenerateRandom", StringEquals={"aws:PrincipalTag/team": "blue"})
    _, blue = user(moat, statement, Tags=[{"Key": "team", "Value": "blue"}])
    red_name, red = user(moat, statement, Tags=[{"Key": "team", "Value": "red"}])
    assert rand(moat, blue)
    assert not rand(moat, red)
    moat.client("iam").tag_user(UserName=red_name, Tags=[{"Key": "team", "Value": "blue"}])
    assert rand(moat, red)


def test_token_issue_time_and_source_identity(moat):
    iam = moat.client("iam")
    r = name("role")
    arn = iam.create_role(RoleName=r, AssumeRolePolicyDocument=doc({
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
        "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"]}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=r, PolicyName="p", PolicyDocument=doc(allow(
        "kms:GenerateRandom", DateGreaterThan={"aws:TokenIssueTime": "2020-01-01T00:00:00Z"},
        StringEquals={"aws:SourceIdentity": "carol"})))
    _, key = user(moat, allow(["sts:AssumeRole", "sts:SetSourceIdentity"]),
                  allow("kms:GenerateRandom", DateGreaterThan={"aws:TokenIssueTime": "2020-01-01T00:00:00Z"}))
    assert not rand(moat, key)  # long-term keys have no aws:TokenIssueTime
    sts = client(moat, "sts", key)
    with_si = sts.assume_role(RoleArn=arn, RoleSessionName="si", SourceIdentity="carol")["Credentials"]
    without = sts.assume_role(RoleArn=arn, RoleSessionName="nosi")["Credentials"]
    assert rand(moat, with_si)
    assert not rand(moat, without)


# ---- request and resource tags ------------------------------------------------------------------


def test_request_tags_and_tag_keys(moat):
    _, key = user(moat, allow("iam:CreateUser", StringEquals={"aws:RequestTag/team": "blue"},
                              **{"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}}),
                  allow("iam:TagUser"))
    iam = client(moat, "iam", key)
    iam.create_user(UserName=name("tagged"), Tags=[{"Key": "team", "Value": "blue"}])
    assert not allowed(iam.create_user, UserName=name("untagged"))
    assert not allowed(iam.create_user, UserName=name("red"), Tags=[{"Key": "team", "Value": "red"}])
    assert not allowed(iam.create_user, UserName=name("extra"),
                       Tags=[{"Key": "team", "Value": "blue"}, {"Key": "owner", "Value": "x"}])


def test_resource_tags(moat):
    admin = moat.client("iam")
    dev, prod = name("dev"), name("prod")
    admin.create_user(UserName=dev, Tags=[{"Key": "env", "Value": "dev"}])
    admin.create_user(UserName=prod, Tags=[{"Key": "env", "Value": "prod"}])
    _, key = user(moat, allow("iam:GetUser", StringEquals={"aws:ResourceTag/env": "dev"}),
                  allow("iam:ListUserTags", StringEquals={"iam:ResourceTag/env": "dev"}))
    iam = client(moat, "iam", key)
    assert allowed(iam.get_user, UserName=dev)
    assert not allowed(iam.get_user, UserName=prod)
    assert allowed(iam.list_user_tags, UserName=dev)
    assert not allowed(iam.list_user_tags, UserName=prod)


def test_resource_account(moat):
    _, own = user(moat, allow("kms:GenerateRandom", StringEquals={"aws:ResourceAccount": ACCOUNT}))
    _, other = user(moat, allow("kms:GenerateRandom",
                                StringEquals={"aws:ResourceAccount": "111122223333"}))
    assert rand(moat, own)
    assert not rand(moat, other)


def test_resource_org_id(fresh_moat):
    m = fresh_moat()
    org_id = m.client("organizations").create_organization()["Organization"]["Id"]
    _, inside = user(m, allow("kms:GenerateRandom", StringEquals={"aws:ResourceOrgID": org_id}))
    _, wrong = user(m, allow("kms:GenerateRandom",
                             StringEquals={"aws:ResourceOrgID": "o-aaaaaaaaaa"}))
    _, principal_org = user(m, allow("kms:GenerateRandom", StringEquals={"aws:PrincipalOrgID": org_id}))
    assert rand(m, inside)
    assert not rand(m, wrong)
    assert rand(m, principal_org)


def test_via_aws_service_and_called_via(moat):
    """SSM encrypts a SecureString by calling KMS on the caller's behalf: the KMS call
    carries aws:ViaAWSService and aws:CalledVia. The key's default policy delegates to the
    account, so the caller's identity policy decides."""
    key_arn = moat.client("kms").create_key()["KeyMetadata"]["Arn"]
    via_ssm = allow(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
                    Bool={"aws:ViaAWSService": "true"},
                    **{"ForAnyValue:StringEquals": {"aws:CalledVia": ["ssm.amazonaws.com"]}})
    _, key = user(moat, allow(["ssm:PutParameter", "ssm:GetParameter"]), via_ssm)
    ssm = client(moat, "ssm", key)
    pname = "/authz/%s" % uuid.uuid4().hex[:8]
    ssm.put_parameter(Name=pname, Value="s3cret", Type="SecureString", KeyId=key_arn)
    got = ssm.get_parameter(Name=pname, WithDecryption=True)["Parameter"]["Value"]
    assert got == "s3cret"
    with pytest.raises(ClientError) as e:
        client(moat, "kms", key).encrypt(KeyId=key_arn, Plaintext=b"x")
    assert "no identity-based policy allows the kms:Encrypt action" in \
        e.value.response["Error"]["Message"]
    wrong = allow(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
                  **{"ForAnyValue:StringEquals": {"aws:CalledVia": ["secretsmanager.amazonaws.com"]}})
    _, other = user(moat, allow(["ssm:PutParameter"]), wrong)
    assert not allowed(client(moat, "ssm", other).put_parameter, Name=pname + "x", Value="v",
                       Type="SecureString", KeyId=key_arn)


# ---- policy types -------------------------------------------------------------------------------


def test_permissions_boundary_caps(moat):
    iam = moat.client("iam")
    boundary = iam.create_policy(PolicyName=name("pb"), PolicyDocument=doc(
        allow(["iam:List*", "iam:Get*", "kms:GenerateRandom"])))["Policy"]["Arn"]
    u, key = user(moat, PermissionsBoundary=boundary)
    iam.attach_user_policy(UserName=u, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    ui = client(moat, "iam", key)
    ui.list_users()
    assert rand(moat, key)
    with pytest.raises(ClientError) as e:
        ui.create_user(UserName=name("x"))
    assert e.value.response["Error"]["Message"].endswith(
        "because no permissions boundary allows the iam:CreateUser action")
    iam.delete_user_permissions_boundary(UserName=u)
    ui.create_user(UserName=name("y"))


def test_explicit_deny_in_a_group_policy_beats_user_allow(moat):
    iam = moat.client("iam")
    g = name("g")
    iam.create_group(GroupName=g)
    iam.put_group_policy(GroupName=g, PolicyName="d", PolicyDocument=doc(deny("kms:GenerateRandom")))
    u, key = user(moat, allow("kms:*"))
    assert rand(moat, key)
    iam.add_user_to_group(GroupName=g, UserName=u)
    with pytest.raises(ClientError) as e:
        client(moat, "kms", key).generate_random(NumberOfBytes=4)
    assert e.value.response["Error"]["Message"].endswith(
        "with an explicit deny in an identity-based policy")


def test_root_user_is_allowed_everything_in_its_account(moat):
    assert len(moat.client("kms").generate_random(NumberOfBytes=4)["Plaintext"]) == 4
    moat.client("iam").list_users()


# ---- the simulator agrees with enforcement ------------------------------------------------------


def test_simulator_agrees_with_enforcement(moat):
    iam = moat.client("iam")
    boundary = iam.create_policy(PolicyName=name("simpb"), PolicyDocument=doc(
        allow(["iam:List*", "kms:GenerateRandom", "iam:CreateUser"])))["Policy"]["Arn"]
    u, key = user(moat, allow(["iam:ListUsers", "iam:ListRoles", "iam:CreateUser", "iam:ListGroups"]),
                  deny("iam:ListRoles"),
                  allow("kms:GenerateRandom", IpAddress={"aws:SourceIp": "127.0.0.0/8"}),
                  PermissionsBoundary=boundary)
    arn = "arn:aws:iam::%s:user/%s" % (ACCOUNT, u)
    ui, kms = client(moat, "iam", key), client(moat, "kms", key)
    real = {
        "iam:ListUsers": allowed(ui.list_users),
        "iam:ListRoles": allowed(ui.list_roles),
        "iam:ListGroups": allowed(ui.list_groups),
        "kms:GenerateRandom": allowed(kms.generate_random, NumberOfBytes=4),
        "iam:ListPolicies": allowed(ui.list_policies),
    }
    sim = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=list(real),
        ContextEntries=[{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["127.0.0.1"],
                         "ContextKeyType": "ip"}])["EvaluationResults"]
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in sim}
    assert {a: d == "allowed" for a, d in decisions.items()} == real
    assert decisions["iam:ListRoles"] == "explicitDeny"
    assert decisions["iam:ListPolicies"] == "implicitDeny"
    by = {r["EvalActionName"]: r for r in sim}
    assert by["iam:ListUsers"]["PermissionsBoundaryDecisionDetail"] == {
        "AllowedByPermissionsBoundary": True}
    stmt = by["iam:ListRoles"]["MatchedStatements"][0]
    assert stmt["SourcePolicyId"] == "p" and stmt["SourcePolicyType"] == "user"
    assert stmt["StartPosition"]["Line"] == 1
    # outside the CIDR the simulator denies, and reports the key it needed when absent
    out = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["kms:GenerateRandom"],
        ContextEntries=[{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.1.2.3"],
                         "ContextKeyType": "ip"}])["EvaluationResults"][0]
    assert out["EvalDecision"] == "implicitDeny"
    missing = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["kms:GenerateRandom"])
    assert missing["EvaluationResults"][0]["MissingContextValues"] == ["aws:SourceIp"]
    # what the boundary does not allow, the simulator reports as such
    capped = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["iam:DeleteUser"],
                                           PolicyInputList=[doc(allow("iam:DeleteUser"))])
    r = capped["EvaluationResults"][0]
    assert r["EvalDecision"] == "implicitDeny"
    assert r["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    keys = iam.get_context_keys_for_principal_policy(PolicySourceArn=arn)["ContextKeyNames"]
    assert keys == ["aws:SourceIp"]


def test_simulate_custom_policy(moat):
    iam = moat.client("iam")
    res = iam.simulate_custom_policy(
        PolicyInputList=[doc(allow("s3:GetObject", "arn:aws:s3:::bkt/*")),
                         doc(deny("s3:GetObject", "arn:aws:s3:::bkt/secret/*"))],
        ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=["arn:aws:s3:::bkt/a.txt", "arn:aws:s3:::bkt/secret/b.txt"])["EvaluationResults"]
    got = {(r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"] for r in res}
    assert got == {
        ("s3:GetObject", "arn:aws:s3:::bkt/a.txt"): "allowed",
        ("s3:GetObject", "arn:aws:s3:::bkt/secret/b.txt"): "explicitDeny",
        ("s3:PutObject", "arn:aws:s3:::bkt/a.txt"): "implicitDeny",
        ("s3:PutObject", "arn:aws:s3:::bkt/secret/b.txt"): "implicitDeny",
    }
    denied = [r for r in res if r["EvalDecision"] == "explicitDeny"][0]
    assert denied["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.2"
    with pytest.raises(ClientError) as e:
        iam.simulate_custom_policy(PolicyInputList=['{"Statement":"x"}'], ActionNames=["s3:*"])
    assert e.value.response["Error"]["Code"] == "InvalidInput"
    keys = iam.get_context_keys_for_custom_policy(PolicyInputList=[doc(
        allow("s3:*", StringEquals={"aws:RequestTag/a": "b"}, Bool={"aws:SecureTransport": "true"}))])
    assert sorted(keys["ContextKeyNames"]) == ["aws:RequestTag/a", "aws:SecureTransport"]


def test_account_authorization_details_and_summary(moat):
    iam = moat.client("iam")
    u, _ = user(moat, allow("s3:*"))
    iam.attach_user_policy(UserName=u, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    d = iam.get_account_authorization_details(Filter=["User", "AWSManagedPolicy"])
    mine = [x for x in d["UserDetailList"] if x["UserName"] == u][0]
    assert mine["UserPolicyList"][0]["PolicyDocument"]["Statement"][0]["Action"] == "s3:*"
    assert mine["AttachedManagedPolicies"] == [{"PolicyName": "ReadOnlyAccess",
                                                "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]
    assert "ReadOnlyAccess" in [p["PolicyName"] for p in d["Policies"]]
    assert d["GroupDetailList"] == [] and d["RoleDetailList"] == []
    pages = list(iam.get_paginator("get_account_authorization_details").paginate(
        PaginationConfig={"PageSize": 2}))
    users = [x["UserName"] for p in pages for x in p["UserDetailList"]]
    assert u in users and len(users) == len(set(users))
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["Users"] >= 1 and summary["AccessKeysPerUserQuota"] == 2
    iam.create_account_alias(AccountAlias="moat-%s" % uuid.uuid4().hex[:6])
    aliases = iam.list_account_aliases()["AccountAliases"]
    assert len(aliases) == 1
    iam.delete_account_alias(AccountAlias=aliases[0])
    assert iam.list_account_aliases()["AccountAliases"] == []

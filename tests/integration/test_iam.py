"""IAM through real clients: users, groups, roles, access keys, inline and managed
policies with versions, attachments, tags, boundaries and the errors AWS answers; and
IAM users enforced on every request (allowed vs denied, with AWS's message)."""
import json
import os
import shutil
import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError

from moat_harness import allow, client_error_code, deny, doc

ACCOUNT = "000000000000"


def name(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def user_with_key(moat, policy=None, username=None):
    iam = moat.client("iam")
    username = username or name("u")
    iam.create_user(UserName=username)
    if policy:
        iam.put_user_policy(UserName=username, PolicyName="p", PolicyDocument=policy)
    key = iam.create_access_key(UserName=username)["AccessKey"]
    return username, key


def as_key(moat, service, key, **kw):
    return moat.client(service, access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"],
                       **kw)


def error(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"], \
        exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


# ---- users ---------------------------------------------------------------------------


def test_user_lifecycle(moat):
    iam = moat.client("iam")
    u = name("alice")
    created = iam.create_user(UserName=u, Path="/eng/", Tags=[{"Key": "team", "Value": "blue"}])
    user = created["User"]
    assert user["Arn"] == "arn:aws:iam::%s:user/eng/%s" % (ACCOUNT, u)
    assert user["UserId"].startswith("AIDA") and len(user["UserId"]) == 21
    assert user["Tags"] == [{"Key": "team", "Value": "blue"}]
    got = iam.get_user(UserName=u.upper())["User"]  # names are case-insensitive
    assert got["UserName"] == u and got["UserId"] == user["UserId"]
    names = [x["UserName"] for x in iam.list_users(PathPrefix="/eng/")["Users"]]
    assert u in names
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName=u.upper())
    assert error(e) == ("EntityAlreadyExists", "User with name %s already exists." % u.upper(), 409)
    iam.tag_user(UserName=u, Tags=[{"Key": "env", "Value": "dev"}])
    iam.untag_user(UserName=u, TagKeys=["team"])
    assert iam.list_user_tags(UserName=u)["Tags"] == [{"Key": "env", "Value": "dev"}]
    new = u + "-2"
    iam.update_user(UserName=u, NewUserName=new, NewPath="/ops/")
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName=u)
    assert error(e) == ("NoSuchEntity", "The user with name %s cannot be found." % u, 404)
    assert iam.get_user(UserName=new)["User"]["Arn"].endswith(":user/ops/" + new)
    iam.delete_user(UserName=new)
    assert new not in [x["UserName"] for x in iam.list_users()["Users"]]


def test_list_users_paginates(moat):
    iam = moat.client("iam")
    prefix = "/page-%s/" % uuid.uuid4().hex[:6]
    made = sorted(name("p") for _ in range(5))
    for u in made:
        iam.create_user(UserName=u, Path=prefix)
    page = iam.list_users(PathPrefix=prefix, MaxItems=2)
    assert page["IsTruncated"] and len(page["Users"]) == 2
    seen = [x["UserName"] for x in page["Users"]]
    while page["IsTruncated"]:
        page = iam.list_users(PathPrefix=prefix, MaxItems=2, Marker=page["Marker"])
        seen += [x["UserName"] for x in page["Users"]]
    assert seen == made
    paginated = [x["UserName"] for p in iam.get_paginator("list_users").paginate(
        PathPrefix=prefix, PaginationConfig={"PageSize": 3}) for x in p["Users"]]
    assert paginated == made


def test_delete_user_conflicts(moat):
    iam = moat.client("iam")
    u, key = user_with_key(moat, doc(allow("s3:GetObject")))
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName=u)
    assert error(e) == ("DeleteConflict", "Cannot delete entity, must delete access keys first.", 409)
    iam.delete_access_key(UserName=u, AccessKeyId=key["AccessKeyId"])
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName=u)
    assert error(e)[:2] == ("DeleteConflict", "Cannot delete entity, must delete policies first.")
    iam.delete_user_policy(UserName=u, PolicyName="p")
    iam.delete_user(UserName=u)


# ---- access keys -------------------------------------------------------------------------


def test_access_keys(moat):
    iam = moat.client("iam")
    u, k1 = user_with_key(moat)
    assert k1["AccessKeyId"].startswith("AKIA") and len(k1["SecretAccessKey"]) == 40
    k2 = iam.create_access_key(UserName=u)["AccessKey"]
    with pytest.raises(ClientError) as e:
        iam.create_access_key(UserName=u)
    assert error(e) == ("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409)
    listed = iam.list_access_keys(UserName=u)["AccessKeyMetadata"]
    assert sorted(k["AccessKeyId"] for k in listed) == sorted([k1["AccessKeyId"], k2["AccessKeyId"]])
    assert all(k["Status"] == "Active" and "SecretAccessKey" not in k for k in listed)
    # the key works, then stops working when made inactive, then when deleted
    sts = as_key(moat, "sts", k1)
    assert sts.get_caller_identity()["Arn"] == "arn:aws:iam::%s:user/%s" % (ACCOUNT, u)
    iam.update_access_key(UserName=u, AccessKeyId=k1["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as e:
        sts.get_caller_identity()
    assert client_error_code(e.value) == "InvalidClientTokenId"
    iam.update_access_key(UserName=u, AccessKeyId=k1["AccessKeyId"], Status="Active")
    assert sts.get_caller_identity()["Account"] == ACCOUNT
    iam.delete_access_key(UserName=u, AccessKeyId=k1["AccessKeyId"])
    with pytest.raises(ClientError) as e:
        sts.get_caller_identity()
    assert client_error_code(e.value) == "InvalidClientTokenId"
    with pytest.raises(ClientError) as e:
        iam.delete_access_key(UserName=u, AccessKeyId=k1["AccessKeyId"])
    assert error(e) == ("NoSuchEntity", "The Access Key with id %s cannot be found." %
                        k1["AccessKeyId"], 404)


def test_access_key_last_used(moat):
    iam = moat.client("iam")
    u, key = user_with_key(moat)
    fresh = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert fresh["UserName"] == u
    assert fresh["AccessKeyLastUsed"]["ServiceName"] == "N/A"
    assert "LastUsedDate" not in fresh["AccessKeyLastUsed"]
    as_key(moat, "sts", key, region="eu-west-1").get_caller_identity()
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert used["ServiceName"] == "sts" and used["Region"] == "eu-west-1"
    assert "LastUsedDate" in used


def test_user_manages_own_keys_without_user_name(moat):
    u, key = user_with_key(moat, doc(allow(["iam:ListAccessKeys", "iam:CreateAccessKey"],
                                           "arn:aws:iam::%s:user/${aws:username}" % ACCOUNT)))
    iam = as_key(moat, "iam", key)
    assert [k["UserName"] for k in iam.list_access_keys()["AccessKeyMetadata"]] == [u]
    assert iam.create_access_key()["AccessKey"]["UserName"] == u


# ---- policies ------------------------------------------------------------------------------


def test_inline_policies(moat):
    iam = moat.client("iam")
    u, _ = user_with_key(moat)
    policy = doc(allow("s3:GetObject", "arn:aws:s3:::bucket/*"))
    iam.put_user_policy(UserName=u, PolicyName="Read", PolicyDocument=policy)
    got = iam.get_user_policy(UserName=u, PolicyName="read")
    assert got["PolicyName"] == "Read" and got["PolicyDocument"] == json.loads(policy)
    assert iam.list_user_policies(UserName=u)["PolicyNames"] == ["Read"]
    with pytest.raises(ClientError) as e:
        iam.get_user_policy(UserName=u, PolicyName="nope")
    assert error(e) == ("NoSuchEntity", "The user policy with name nope cannot be found.", 404)
    with pytest.raises(ClientError) as e:
        iam.put_user_policy(UserName=u, PolicyName="bad", PolicyDocument='{"Version":"2012-10-17"}')
    assert error(e)[0::2] == ("MalformedPolicyDocument", 400)
    big = doc(*[allow("s3:GetObject", "arn:aws:s3:::b%04d/*" % i) for i in range(60)])
    with pytest.raises(ClientError) as e:
        iam.put_user_policy(UserName=u, PolicyName="big", PolicyDocument=big)
    assert error(e) == ("LimitExceeded",
                        "Maximum policy size of 2048 bytes exceeded for user %s" % u, 409)


def test_managed_policy_versions(moat):
    iam = moat.client("iam")
    pname = name("pol")
    v1 = doc(allow("s3:GetObject"))
    p = iam.create_policy(PolicyName=pname, Path="/team/", PolicyDocument=v1,
                          Description="reads")["Policy"]
    arn = p["Arn"]
    assert arn == "arn:aws:iam::%s:policy/team/%s" % (ACCOUNT, pname)
    assert p["DefaultVersionId"] == "v1" and p["AttachmentCount"] == 0
    with pytest.raises(ClientError) as e:
        iam.create_policy(PolicyName=pname, PolicyDocument=v1)
    assert error(e) == ("EntityAlreadyExists", "A policy called %s already exists. Duplicate "
                        "names are not allowed." % pname, 409)
    for i in range(2, 6):
        v = iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(allow("s3:Get*")),
                                      SetAsDefault=(i == 3))["PolicyVersion"]
        assert v["VersionId"] == "v%d" % i
    with pytest.raises(ClientError) as e:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=v1)
    assert error(e)[0] == "LimitExceeded"
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["IsDefaultVersion"] for v in versions].count(True) == 1
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert got["Document"] == json.loads(v1)
    with pytest.raises(ClientError) as e:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    assert error(e) == ("DeleteConflict", "Cannot delete the default version of a policy.", 409)
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=arn)
    assert error(e)[0] == "DeleteConflict"
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    for v in ("v2", "v3", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as e:
        iam.get_policy(PolicyArn=arn)
    assert error(e) == ("NoSuchEntity", "Policy %s was not found." % arn, 404)


def test_attach_detach_and_entities(moat):
    iam = moat.client("iam")
    arn = iam.create_policy(PolicyName=name("att"), PolicyDocument=doc(allow("sqs:*")))["Policy"]["Arn"]
    u, _ = user_with_key(moat)
    g = name("grp")
    iam.create_group(GroupName=g)
    iam.attach_user_policy(UserName=u, PolicyArn=arn)
    iam.attach_group_policy(GroupName=g, PolicyArn=arn)
    iam.attach_user_policy(UserName=u, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    attached = iam.list_attached_user_policies(UserName=u)["AttachedPolicies"]
    assert {a["PolicyArn"] for a in attached} == {arn, "arn:aws:iam::aws:policy/ReadOnlyAccess"}
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 2
    ents = iam.list_entities_for_policy(PolicyArn=arn)
    assert [x["UserName"] for x in ents["PolicyUsers"]] == [u]
    assert [x["GroupName"] for x in ents["PolicyGroups"]] == [g]
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=arn)
    assert error(e) == ("DeleteConflict", "Cannot delete a policy attached to entities.", 409)
    with pytest.raises(ClientError) as e:
        iam.attach_user_policy(UserName=u, PolicyArn="arn:aws:iam::%s:policy/none" % ACCOUNT)
    assert error(e) == ("NoSuchEntity", "Policy arn:aws:iam::%s:policy/none does not exist or is "
                        "not attachable." % ACCOUNT, 404)
    with pytest.raises(ClientError) as e:
        iam.attach_user_policy(UserName=u, PolicyArn="not-an-arn-at-all-really")
    assert error(e)[0::2] == ("InvalidInput", 400)
    iam.detach_user_policy(UserName=u, PolicyArn=arn)
    iam.detach_group_policy(GroupName=g, PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0
    aws = iam.list_policies(Scope="AWS")["Policies"]
    assert "AdministratorAccess" in [p["PolicyName"] for p in aws]
    assert arn in [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]]
    only = [p["Arn"] for p in iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]]
    assert only == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]


def test_groups_and_membership(moat):
    iam = moat.client("iam")
    g = name("devs")
    iam.create_group(GroupName=g, Path="/eng/")
    u1, k1 = user_with_key(moat)
    u2, _ = user_with_key(moat)
    iam.add_user_to_group(GroupName=g, UserName=u1)
    iam.add_user_to_group(GroupName=g, UserName=u2)
    got = iam.get_group(GroupName=g)
    assert got["Group"]["Arn"] == "arn:aws:iam::%s:group/eng/%s" % (ACCOUNT, g)
    assert sorted(x["UserName"] for x in got["Users"]) == sorted([u1, u2])
    assert [x["GroupName"] for x in iam.list_groups_for_user(UserName=u1)["Groups"]] == [g]
    with pytest.raises(ClientError) as e:
        iam.delete_group(GroupName=g)
    assert error(e)[0] == "DeleteConflict"
    # the group's inline policy applies to its members
    sqs_list = doc(allow("iam:ListGroups"))
    iam.put_group_policy(GroupName=g, PolicyName="list", PolicyDocument=sqs_list)
    assert g in [x["GroupName"] for x in as_key(moat, "iam", k1).list_groups()["Groups"]]
    iam.remove_user_from_group(GroupName=g, UserName=u1)
    with pytest.raises(ClientError) as e:
        as_key(moat, "iam", k1).list_groups()
    assert error(e)[0] == "AccessDenied"
    new = g + "x"
    iam.update_group(GroupName=g, NewGroupName=new)
    assert [x["UserName"] for x in iam.get_group(GroupName=new)["Users"]] == [u2]
    assert [x["GroupName"] for x in iam.list_groups_for_user(UserName=u2)["Groups"]] == [new]
    iam.remove_user_from_group(GroupName=new, UserName=u2)
    iam.delete_group_policy(GroupName=new, PolicyName="list")
    iam.delete_group(GroupName=new)


def test_roles(moat):
    iam = moat.client("iam")
    r = name("role")
    trust = doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                 "Action": "sts:AssumeRole"})
    role = iam.create_role(RoleName=r, AssumeRolePolicyDocument=trust, Description="d",
                           MaxSessionDuration=7200, Tags=[{"Key": "k", "Value": "v"}])["Role"]
    assert role["RoleId"].startswith("AROA")
    assert role["AssumeRolePolicyDocument"] == json.loads(trust)
    got = iam.get_role(RoleName=r)["Role"]
    assert got["MaxSessionDuration"] == 7200 and got["Tags"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName=r, AssumeRolePolicyDocument=trust)
    assert error(e) == ("EntityAlreadyExists", "Role with name %s already exists." % r, 409)
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName=name("bad"), AssumeRolePolicyDocument=doc(allow("s3:*")))
    assert error(e)[0] == "MalformedPolicyDocument"
    ghost = doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Principal": {"AWS": "arn:aws:iam::%s:user/nobody-%s" % (ACCOUNT, r)}})
    with pytest.raises(ClientError) as e:
        iam.update_assume_role_policy(RoleName=r, PolicyDocument=ghost)
    assert error(e) == ("MalformedPolicyDocument", 'Invalid principal in policy: "AWS":'
                        '"arn:aws:iam::%s:user/nobody-%s"' % (ACCOUNT, r), 400)
    iam.update_role(RoleName=r, Description="new", MaxSessionDuration=3600)
    assert iam.get_role(RoleName=r)["Role"]["Description"] == "new"
    iam.put_role_policy(RoleName=r, PolicyName="inline", PolicyDocument=doc(allow("s3:*")))
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName=r)
    assert error(e)[:2] == ("DeleteConflict", "Cannot delete entity, must delete policies first.")
    iam.delete_role_policy(RoleName=r, PolicyName="inline")
    iam.delete_role(RoleName=r)


def test_permissions_boundary_records(moat):
    iam = moat.client("iam")
    arn = iam.create_policy(PolicyName=name("pb"), PolicyDocument=doc(allow("s3:*")))["Policy"]["Arn"]
    u = name("bu")
    user = iam.create_user(UserName=u, PermissionsBoundary=arn)["User"]
    assert user["PermissionsBoundary"] == {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                                           "PermissionsBoundaryArn": arn}
    assert iam.get_policy(PolicyArn=arn)["Policy"]["PermissionsBoundaryUsageCount"] == 1
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName=name("bu"), PermissionsBoundary=arn + "x")
    assert error(e) == ("NoSuchEntity", "Scope ARN: %sx does not exist or is not attachable." % arn,
                        404)
    iam.delete_user_permissions_boundary(UserName=u)
    assert "PermissionsBoundary" not in iam.get_user(UserName=u)["User"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["PermissionsBoundaryUsageCount"] == 0


# ---- enforcement ---------------------------------------------------------------------------


def test_user_without_policy_is_denied_with_aws_message(moat):
    u, key = user_with_key(moat)
    iam = as_key(moat, "iam", key)
    with pytest.raises(ClientError) as e:
        iam.list_users()
    assert error(e) == (
        "AccessDenied",
        "User: arn:aws:iam::%s:user/%s is not authorized to perform: iam:ListUsers on resource: "
        "arn:aws:iam::%s:user/ because no identity-based policy allows the iam:ListUsers action"
        % (ACCOUNT, u, ACCOUNT), 403)
    kms = as_key(moat, "kms", key)
    with pytest.raises(ClientError) as e:
        kms.generate_random(NumberOfBytes=8)
    assert error(e)[0] == "AccessDeniedException"
    # get-caller-identity needs no permission
    assert as_key(moat, "sts", key).get_caller_identity()["Arn"].endswith(":user/" + u)


def test_policy_changes_take_effect_at_once(moat):
    iam = moat.client("iam")
    u, key = user_with_key(moat)
    kms = as_key(moat, "kms", key)
    for _ in range(2):
        iam.put_user_policy(UserName=u, PolicyName="rand", PolicyDocument=doc(allow("kms:GenerateRandom")))
        assert len(kms.generate_random(NumberOfBytes=4)["Plaintext"]) == 4
        iam.delete_user_policy(UserName=u, PolicyName="rand")
        with pytest.raises(ClientError):
            kms.generate_random(NumberOfBytes=4)


def test_explicit_deny_wins(moat):
    iam = moat.client("iam")
    u, key = user_with_key(moat, doc(allow("iam:*")))
    arn = iam.create_policy(PolicyName=name("deny"),
                            PolicyDocument=doc(deny("iam:ListUsers")))["Policy"]["Arn"]
    ui = as_key(moat, "iam", key)
    ui.list_users()
    iam.attach_user_policy(UserName=u, PolicyArn=arn)
    with pytest.raises(ClientError) as e:
        ui.list_users()
    assert error(e)[1].endswith("with an explicit deny in an identity-based policy")
    ui.list_groups()  # still allowed


def test_resource_arns_with_paths_and_variables(moat):
    iam = moat.client("iam")
    u, key = user_with_key(moat, doc(allow("iam:GetUser", "arn:aws:iam::%s:user/team/*" % ACCOUNT),
                                     allow("iam:*AccessKey*",
                                           "arn:aws:iam::%s:user/${aws:username}" % ACCOUNT)))
    inside, outside = name("in"), name("out")
    iam.create_user(UserName=inside, Path="/team/")
    iam.create_user(UserName=outside)
    ui = as_key(moat, "iam", key)
    ui.get_user(UserName=inside)
    with pytest.raises(ClientError) as e:
        ui.get_user(UserName=outside)
    assert "on resource: arn:aws:iam::%s:user/%s " % (ACCOUNT, outside) in error(e)[1]
    ui.list_access_keys(UserName=u)
    with pytest.raises(ClientError):
        ui.list_access_keys(UserName=inside)


@pytest.mark.slow  # a long aws CLI flow: run with each client, not each store
def test_aws_cli_user_flow(moat, tmp_path):
    u = name("cli")
    out = moat.aws("iam", "create-user", "--user-name", u)
    assert out["User"]["UserName"] == u
    key = moat.aws("iam", "create-access-key", "--user-name", u)["AccessKey"]
    p = tmp_path / "p.json"
    p.write_text(doc(allow("iam:GetUser", "arn:aws:iam::%s:user/%s" % (ACCOUNT, u))))
    moat.aws("iam", "put-user-policy", "--user-name", u, "--policy-name", "p",
             "--policy-document", "file://%s" % p)
    who = moat.aws("sts", "get-caller-identity", access_key=key["AccessKeyId"],
                   secret_key=key["SecretAccessKey"])
    assert who["Arn"] == "arn:aws:iam::%s:user/%s" % (ACCOUNT, u)
    r = moat.aws("iam", "list-users", access_key=key["AccessKeyId"],
                 secret_key=key["SecretAccessKey"], raw=True)
    assert r.returncode != 0
    assert "AccessDenied" in r.stderr and "iam:ListUsers" in r.stderr and u in r.stderr
    got = moat.aws("iam", "get-user-policy", "--user-name", u, "--policy-name", "p")
    assert got["PolicyDocument"]["Statement"][0]["Action"] == "iam:GetUser"
    sim = moat.aws("iam", "simulate-principal-policy", "--policy-source-arn",
                   "arn:aws:iam::%s:user/%s" % (ACCOUNT, u), "--action-names", "kms:Decrypt",
                   "iam:GetUser", "--resource-arns", "arn:aws:iam::%s:user/%s" % (ACCOUNT, u))
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in sim["EvaluationResults"]}
    assert decisions == {"kms:Decrypt": "implicitDeny", "iam:GetUser": "allowed"}


def test_secret_never_stored_or_logged_in_plaintext(moat):
    u, key = user_with_key(moat)
    assert key["SecretAccessKey"] not in moat.read_log()
    if moat.store_url:
        # The whole database as PostgreSQL would hand it to a backup.
        pg_dump = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"
        dump = subprocess.run([pg_dump, moat.store_url], capture_output=True, check=True).stdout
        assert b"CREATE TABLE" in dump and key["AccessKeyId"].encode() in dump
        assert key["SecretAccessKey"].encode() not in dump
        return
    for f in os.listdir(moat.data_dir):
        if f.startswith("moat.db"):
            with open(os.path.join(moat.data_dir, f), "rb") as fh:
                assert key["SecretAccessKey"].encode() not in fh.read()

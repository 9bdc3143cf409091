"""Organizations through real clients: the organization and its root, CreateAccount with
OrganizationAccountAccessRole reached through AssumeRole, OUs and moves, service control
policies enforced in member accounts, delegated administrators, trusted access, tags."""
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from moat_harness import doc

MGMT = "000000000000"
FULL = "p-FullAWSAccess"


def error(exc):
    r = exc.value.response
    return r["Error"]["Code"], r["Error"]["Message"]


def name(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


@pytest.fixture(scope="module")
def org(moat):
    """An organization whose management account has an admin IAM user (roots may not
    assume roles), and one member account."""
    o = moat.client("organizations")
    created = o.create_organization(FeatureSet="ALL")["Organization"]
    iam = moat.client("iam")
    iam.create_user(UserName="org-admin")
    iam.attach_user_policy(UserName="org-admin",
                           PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName="org-admin")["AccessKey"]
    st = o.create_account(Email="member@example.com", AccountName="member")["CreateAccountStatus"]
    account = o.describe_create_account_status(CreateAccountRequestId=st["Id"])["CreateAccountStatus"]["AccountId"]
    return {"org": created, "client": o, "key": key, "member": account,
            "root": o.list_roots()["Roots"][0]["Id"]}


def admin(moat, org, service):
    k = org["key"]
    return moat.client(service, access_key=k["AccessKeyId"], secret_key=k["SecretAccessKey"])


def member_session(moat, org, account=None):
    account = account or org["member"]
    c = admin(moat, org, "sts").assume_role(
        RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % account,
        RoleSessionName="ops")["Credentials"]
    return lambda service: moat.client(service, access_key=c["AccessKeyId"],
                                       secret_key=c["SecretAccessKey"],
                                       session_token=c["SessionToken"])


def test_organization_shape(moat, org):
    o = org["org"]
    assert o["Id"].startswith("o-") and len(o["Id"]) == 12
    assert o["Arn"] == "arn:aws:organizations::%s:organization/%s" % (MGMT, o["Id"])
    assert o["FeatureSet"] == "ALL" and o["MasterAccountId"] == MGMT
    assert org["client"].describe_organization()["Organization"]["Id"] == o["Id"]
    with pytest.raises(ClientError) as e:
        org["client"].create_organization()
    assert error(e) == ("AlreadyInOrganizationException",
                        "The AWS account is already a member of an organization.")
    root = org["client"].list_roots()["Roots"][0]
    assert root["Id"].startswith("r-") and root["Name"] == "Root"


def test_not_in_organization(fresh_moat):
    m = fresh_moat()
    with pytest.raises(ClientError) as e:
        m.client("organizations").describe_organization()
    assert error(e) == ("AWSOrganizationsNotInUseException",
                        "Your account is not a member of an organization.")


def test_create_account_and_its_role(moat, org):
    o = org["client"]
    st = o.create_account(Email="second@example.com", AccountName="second",
                          Tags=[{"Key": "env", "Value": "dev"}])["CreateAccountStatus"]
    assert st["State"] == "IN_PROGRESS" and st["Id"].startswith("car-")
    done = o.describe_create_account_status(CreateAccountRequestId=st["Id"])["CreateAccountStatus"]
    assert done["State"] == "SUCCEEDED"
    acct = done["AccountId"]
    assert len(acct) == 12 and acct.isdigit() and acct != MGMT
    described = o.describe_account(AccountId=acct)["Account"]
    assert described["Name"] == "second" and described["JoinedMethod"] == "CREATED"
    assert acct in [a["Id"] for a in o.list_accounts()["Accounts"]]
    assert o.list_tags_for_resource(ResourceId=acct)["Tags"] == [{"Key": "env", "Value": "dev"}]
    session = member_session(moat, org, acct)
    who = session("sts").get_caller_identity()
    assert who["Account"] == acct
    assert who["Arn"] == "arn:aws:sts::%s:assumed-role/OrganizationAccountAccessRole/ops" % acct
    role = session("iam").get_role(RoleName="OrganizationAccountAccessRole")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": "arn:aws:iam::%s:root" % MGMT}
    attached = session("iam").list_attached_role_policies(RoleName="OrganizationAccountAccessRole")
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == ["AdministratorAccess"]
    # the new account is separate: its IAM users are its own
    session("iam").create_user(UserName="inside")
    assert "inside" not in [u["UserName"] for u in moat.client("iam").list_users()["Users"]]
    # a duplicate email fails asynchronously, as on AWS
    dup = o.create_account(Email="second@example.com", AccountName="again")["CreateAccountStatus"]
    failed = o.describe_create_account_status(CreateAccountRequestId=dup["Id"])["CreateAccountStatus"]
    assert failed["State"] == "FAILED" and failed["FailureReason"] == "EMAIL_ALREADY_EXISTS"
    with pytest.raises(ClientError) as e:
        o.describe_create_account_status(CreateAccountRequestId="car-" + "0" * 32)
    assert error(e)[0] == "CreateAccountStatusNotFoundException"


def test_member_account_cannot_manage_the_organization(moat, org):
    orgs = member_session(moat, org)("organizations")
    assert orgs.describe_organization()["Organization"]["Id"] == org["org"]["Id"]
    with pytest.raises(ClientError) as e:
        orgs.list_accounts()
    assert error(e) == ("AccessDeniedException",
                        "You don't have permissions to access this resource.")


def test_organizational_units(moat, org):
    o = org["client"]
    root = org["root"]
    ou = o.create_organizational_unit(ParentId=root, Name=name("eng"))["OrganizationalUnit"]
    assert ou["Id"].startswith("ou-" + root[2:] + "-")
    child = o.create_organizational_unit(ParentId=ou["Id"], Name="team")["OrganizationalUnit"]
    with pytest.raises(ClientError) as e:
        o.create_organizational_unit(ParentId=ou["Id"], Name="team")
    assert error(e)[0] == "DuplicateOrganizationalUnitException"
    with pytest.raises(ClientError) as e:
        o.create_organizational_unit(ParentId="ou-zzzz-zzzzzzzz", Name="x")
    assert error(e)[0] == "ParentNotFoundException"
    st = o.create_account(Email=name("mv") + "@example.com", AccountName="mover")["CreateAccountStatus"]
    acct = o.describe_create_account_status(CreateAccountRequestId=st["Id"])["CreateAccountStatus"]["AccountId"]
    o.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=child["Id"])
    assert o.list_parents(ChildId=acct)["Parents"] == [{"Id": child["Id"], "Type": "ORGANIZATIONAL_UNIT"}]
    assert [a["Id"] for a in o.list_accounts_for_parent(ParentId=child["Id"])["Accounts"]] == [acct]
    assert [c["Id"] for c in o.list_children(ParentId=ou["Id"], ChildType="ORGANIZATIONAL_UNIT")["Children"]] == [child["Id"]]
    with pytest.raises(ClientError) as e:
        o.move_account(AccountId=acct, SourceParentId=child["Id"], DestinationParentId=child["Id"])
    assert error(e)[0] == "DuplicateAccountException"
    with pytest.raises(ClientError) as e:
        o.delete_organizational_unit(OrganizationalUnitId=child["Id"])
    assert error(e)[0] == "OrganizationalUnitNotEmptyException"
    o.move_account(AccountId=acct, SourceParentId=child["Id"], DestinationParentId=root)
    o.update_organizational_unit(OrganizationalUnitId=child["Id"], Name="team2")
    assert o.describe_organizational_unit(OrganizationalUnitId=child["Id"])["OrganizationalUnit"]["Name"] == "team2"
    o.delete_organizational_unit(OrganizationalUnitId=child["Id"])
    o.delete_organizational_unit(OrganizationalUnitId=ou["Id"])


def test_scp_denies_in_member_account_while_admin_policy_allows(moat, org):
    o = org["client"]
    root = org["root"]
    with pytest.raises(ClientError) as e:
        o.attach_policy(PolicyId=FULL, TargetId=root)
    assert error(e)[0] in ("PolicyTypeNotEnabledException", "DuplicatePolicyAttachmentException")
    types = o.list_roots()["Roots"][0]["PolicyTypes"]
    if not types:
        enabled = o.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")["Root"]
        assert enabled["PolicyTypes"] == [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]
    targets = {t["TargetId"] for t in o.list_targets_for_policy(PolicyId=FULL)["Targets"]}
    assert {root, org["member"], MGMT} <= targets
    session = member_session(moat, org)
    session("iam").create_user(UserName=name("before"))
    p = o.create_policy(Name=name("no-iam-users"), Description="d", Type="SERVICE_CONTROL_POLICY",
                        Content=doc({"Effect": "Deny", "Action": "iam:CreateUser",
                                     "Resource": "*"}))["Policy"]["PolicySummary"]
    o.attach_policy(PolicyId=p["Id"], TargetId=org["member"])
    with pytest.raises(ClientError) as e:
        session("iam").create_user(UserName=name("after"))
    assert error(e)[1].endswith("with an explicit deny in a service control policy")
    session("iam").list_users()  # other actions still allowed
    # the management account is not affected by SCPs
    o.attach_policy(PolicyId=p["Id"], TargetId=MGMT)
    moat.client("iam").create_user(UserName=name("mgmt"))
    o.detach_policy(PolicyId=p["Id"], TargetId=MGMT)
    with pytest.raises(ClientError) as e:
        o.delete_policy(PolicyId=p["Id"])
    assert error(e)[0] == "PolicyInUseException"
    o.detach_policy(PolicyId=p["Id"], TargetId=org["member"])
    session("iam").create_user(UserName=name("again"))
    # an SCP that no longer allows an action at one level denies it implicitly
    allow_iam = o.create_policy(Name=name("only-iam"), Description="d",
                                Type="SERVICE_CONTROL_POLICY",
                                Content=doc({"Effect": "Allow", "Action": "iam:*",
                                             "Resource": "*"}))["Policy"]["PolicySummary"]
    o.attach_policy(PolicyId=allow_iam["Id"], TargetId=org["member"])
    o.detach_policy(PolicyId=FULL, TargetId=org["member"])
    with pytest.raises(ClientError) as e:
        session("kms").generate_random(NumberOfBytes=8)
    assert "because no service control policy allows the kms:GenerateRandom action" in error(e)[1]
    with pytest.raises(ClientError) as e:
        o.detach_policy(PolicyId=allow_iam["Id"], TargetId=org["member"])
    assert error(e)[0] == "ConstraintViolationException"
    assert e.value.response["Reason"] == "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"
    o.attach_policy(PolicyId=FULL, TargetId=org["member"])
    o.detach_policy(PolicyId=allow_iam["Id"], TargetId=org["member"])
    assert len(session("kms").generate_random(NumberOfBytes=8)["Plaintext"]) == 8
    o.delete_policy(PolicyId=allow_iam["Id"])
    o.delete_policy(PolicyId=p["Id"])


def test_policy_errors(moat, org):
    o = org["client"]
    with pytest.raises(ClientError) as e:
        o.create_policy(Name="bad", Description="d", Type="SERVICE_CONTROL_POLICY",
                        Content='{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}')
    assert error(e)[0] == "MalformedPolicyDocumentException"
    with pytest.raises(ClientError) as e:
        o.describe_policy(PolicyId="p-abcdefgh")
    assert error(e) == ("PolicyNotFoundException",
                        "We can't find a policy with the PolicyId that you specified.")
    full = o.describe_policy(PolicyId=FULL)["Policy"]
    assert full["PolicySummary"]["AwsManaged"] is True
    assert full["PolicySummary"]["Arn"] == "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"
    with pytest.raises(ClientError) as e:
        o.update_policy(PolicyId=FULL, Name="x")
    assert error(e)[0] == "InvalidInputException"
    with pytest.raises(ClientError) as e:
        o.create_policy(Name="tags", Description="d", Type="TAG_POLICY", Content="{}")
    assert error(e)[0] == "PolicyTypeNotAvailableForOrganizationException"


def test_delegated_administrators_and_service_access(moat, org):
    o = org["client"]
    o.enable_aws_service_access(ServicePrincipal="guardduty.amazonaws.com")
    enabled = o.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert "guardduty.amazonaws.com" in [s["ServicePrincipal"] for s in enabled]
    o.register_delegated_administrator(AccountId=org["member"],
                                       ServicePrincipal="guardduty.amazonaws.com")
    with pytest.raises(ClientError) as e:
        o.register_delegated_administrator(AccountId=org["member"],
                                           ServicePrincipal="guardduty.amazonaws.com")
    assert error(e)[0] == "AccountAlreadyRegisteredException"
    with pytest.raises(ClientError) as e:
        o.register_delegated_administrator(AccountId=MGMT, ServicePrincipal="guardduty.amazonaws.com")
    assert error(e)[0] == "ConstraintViolationException"
    admins = o.list_delegated_administrators(ServicePrincipal="guardduty.amazonaws.com")
    assert [a["Id"] for a in admins["DelegatedAdministrators"]] == [org["member"]]
    services = o.list_delegated_services_for_account(AccountId=org["member"])["DelegatedServices"]
    assert [s["ServicePrincipal"] for s in services] == ["guardduty.amazonaws.com"]
    # a delegated administrator may read the organization
    member_orgs = member_session(moat, org)("organizations")
    assert org["member"] in [a["Id"] for a in member_orgs.list_accounts()["Accounts"]]
    o.deregister_delegated_administrator(AccountId=org["member"],
                                         ServicePrincipal="guardduty.amazonaws.com")
    with pytest.raises(ClientError) as e:
        o.list_delegated_services_for_account(AccountId=org["member"])
    assert error(e)[0] == "AccountNotRegisteredException"
    o.disable_aws_service_access(ServicePrincipal="guardduty.amazonaws.com")


def test_principal_org_id_condition(moat, org):
    """aws:PrincipalOrgID and aws:PrincipalOrgPaths come from the organization."""
    session = member_session(moat, org)
    iam = session("iam")
    r = name("orgrole")
    org_id = org["org"]["Id"]
    iam.create_role(RoleName=r, AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id},
                       "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [org_id + "/r-*/"]}}}))
    arn = "arn:aws:iam::%s:role/%s" % (org["member"], r)
    admin(moat, org, "sts").assume_role(RoleArn=arn, RoleSessionName="org")
    iam.update_assume_role_policy(RoleName=r, PolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-0000000000"}}}))
    with pytest.raises(ClientError):
        admin(moat, org, "sts").assume_role(RoleArn=arn, RoleSessionName="org")


def test_aws_cli(moat, org):
    out = moat.aws("organizations", "list-accounts")
    assert org["member"] in [a["Id"] for a in out["Accounts"]]
    pol = moat.aws("organizations", "list-policies", "--filter", "SERVICE_CONTROL_POLICY")
    assert FULL in [p["Id"] for p in pol["Policies"]]

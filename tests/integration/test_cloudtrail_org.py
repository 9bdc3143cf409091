"""Organization trails: only the management account of an organization with all
features, with trusted access for CloudTrail enabled, may create one; CloudTrail
asks Organizations on the caller's behalf and those calls are recorded."""
import json

import pytest
from botocore.exceptions import ClientError

from moat_harness import client_error_code
from test_audit_records import audit_rows, offered, supports

MGMT = "000000000000"


def code(e):
    return client_error_code(e.value)


@pytest.fixture
def orgs(fresh_moat):
    m = fresh_moat()
    assert "organizations" in offered(m) and supports(m, "organizations",
                                                      "DescribeOrganization")
    return m


def test_without_an_organization(orgs):
    c = orgs.client("cloudtrail")
    with pytest.raises(ClientError) as e:
        c.create_trail(Name="org-trail", S3BucketName="bkt-org", IsOrganizationTrail=True)
    assert code(e) == "OrganizationsNotInUseException"
    assert c.describe_trails()["trailList"] == []


def test_consolidated_billing_is_not_enough(orgs):
    orgs.client("organizations").create_organization(FeatureSet="CONSOLIDATED_BILLING")
    with pytest.raises(ClientError) as e:
        orgs.client("cloudtrail").create_trail(Name="org-trail", S3BucketName="bkt-org",
                                               IsOrganizationTrail=True)
    assert code(e) == "OrganizationNotInAllFeaturesModeException"


def test_management_account_with_trusted_access(orgs):
    o = orgs.client("organizations")
    org = o.create_organization(FeatureSet="ALL")["Organization"]
    c = orgs.client("cloudtrail")
    with pytest.raises(ClientError) as e:
        c.create_trail(Name="org-trail", S3BucketName="bkt-org", IsOrganizationTrail=True)
    assert code(e) == "CloudTrailAccessNotEnabledException"
    o.enable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
    t = c.create_trail(Name="org-trail", S3BucketName="bkt-org", IsOrganizationTrail=True,
                       IsMultiRegionTrail=True)
    assert t["IsOrganizationTrail"] is True
    assert c.get_trail(Name="org-trail")["Trail"]["IsOrganizationTrail"] is True
    # an existing trail becomes one, and stops being one
    c.create_trail(Name="plain-trail", S3BucketName="bkt-org")
    assert c.update_trail(Name="plain-trail", IsOrganizationTrail=True)["IsOrganizationTrail"]
    assert c.update_trail(Name="plain-trail", IsOrganizationTrail=False)[
        "IsOrganizationTrail"] is False
    # CloudTrail asked Organizations on the caller's behalf; those calls are recorded
    asked = [r for _, _, r in audit_rows(orgs) if r["sourceIPAddress"] == "cloudtrail.amazonaws.com"]
    assert {r["eventName"] for r in asked} == {"DescribeOrganization",
                                              "ListAWSServiceAccessForOrganization"}
    for r in asked:
        assert r["userIdentity"]["invokedBy"] == "cloudtrail.amazonaws.com"
        assert r["userIdentity"]["type"] == "Root" and r["readOnly"] is True
        assert r["eventSource"] == "organizations.amazonaws.com"
    assert org["MasterAccountId"] == MGMT


def test_member_account_cannot_create_one(orgs):
    o = orgs.client("organizations")
    o.create_organization(FeatureSet="ALL")
    o.enable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
    st = o.create_account(Email="member@example.com", AccountName="member")["CreateAccountStatus"]
    member = o.describe_create_account_status(CreateAccountRequestId=st["Id"])[
        "CreateAccountStatus"]["AccountId"]
    iam = orgs.client("iam")
    iam.create_user(UserName="org-admin")
    iam.attach_user_policy(UserName="org-admin",
                           PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName="org-admin")["AccessKey"]
    creds = orgs.client("sts", access_key=key["AccessKeyId"],
                        secret_key=key["SecretAccessKey"]).assume_role(
        RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % member,
        RoleSessionName="ops")["Credentials"]
    c = orgs.client("cloudtrail", access_key=creds["AccessKeyId"],
                    secret_key=creds["SecretAccessKey"], session_token=creds["SessionToken"])
    with pytest.raises(ClientError) as e:
        c.create_trail(Name="member-org-trail", S3BucketName="bkt-org", IsOrganizationTrail=True)
    assert code(e) == "NotOrganizationMasterAccountException"
    # an ordinary trail of its own is fine
    t = c.create_trail(Name="member-trail", S3BucketName="bkt-org")
    assert t["TrailARN"] == "arn:aws:cloudtrail:us-east-1:%s:trail/member-trail" % member
    # records of the member's calls land in the member's account
    mine = [r for _, acct, r in audit_rows(orgs) if acct == member and
            r["eventName"] == "CreateTrail"]
    assert len(mine) == 2 and all(r["recipientAccountId"] == member for r in mine)
    assert all(r["userIdentity"]["type"] == "AssumedRole" for r in mine)


def test_denied_caller_gets_insufficient_dependency_permission(orgs):
    o = orgs.client("organizations")
    o.create_organization(FeatureSet="ALL")
    o.enable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
    iam = orgs.client("iam")
    iam.create_user(UserName="trail-only")
    iam.put_user_policy(UserName="trail-only", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="trail-only")["AccessKey"]
    c = orgs.client("cloudtrail", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        c.create_trail(Name="org-trail", S3BucketName="bkt-org", IsOrganizationTrail=True)
    assert code(e) == "InsufficientDependencyServiceAccessPermissionException"
    assert "organizations:DescribeOrganization" in e.value.response["Error"]["Message"]
    # the denied internal call is recorded too, as AccessDenied
    denied = [r for _, _, r in audit_rows(orgs) if r["eventName"] == "DescribeOrganization"
              and r.get("errorCode")]
    assert denied and denied[-1]["errorCode"] == "AccessDenied"
    assert c.describe_trails()["trailList"] == []


def test_member_accounts_see_the_organization_trail_read_only(orgs):
    o = orgs.client("organizations")
    o.create_organization(FeatureSet="ALL")
    o.enable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
    st = o.create_account(Email="m2@example.com", AccountName="m2")["CreateAccountStatus"]
    member = o.describe_create_account_status(CreateAccountRequestId=st["Id"])[
        "CreateAccountStatus"]["AccountId"]
    ct = orgs.client("cloudtrail")
    arn = ct.create_trail(Name="org-wide", S3BucketName="bkt-org", IsOrganizationTrail=True,
                          IsMultiRegionTrail=True)["TrailARN"]
    ct.create_trail(Name="mgmt-only", S3BucketName="bkt-org")
    iam = orgs.client("iam")
    iam.create_user(UserName="org-admin")
    iam.attach_user_policy(UserName="org-admin",
                           PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName="org-admin")["AccessKey"]
    creds = orgs.client("sts", access_key=key["AccessKeyId"],
                        secret_key=key["SecretAccessKey"]).assume_role(
        RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % member,
        RoleSessionName="ops")["Credentials"]

    def client(region="us-east-1"):
        return orgs.client("cloudtrail", access_key=creds["AccessKeyId"],
                           secret_key=creds["SecretAccessKey"],
                           session_token=creds["SessionToken"], region=region)
    c = client()
    assert [t["TrailARN"] for t in c.describe_trails()["trailList"]] == [arn]
    assert c.describe_trails(includeShadowTrails=False)["trailList"] == []
    assert [t["TrailARN"] for t in client("eu-west-1").describe_trails()["trailList"]] == [arn]
    assert c.get_trail(Name=arn)["Trail"]["IsOrganizationTrail"] is True
    assert c.get_trail_status(Name=arn)["IsLogging"] is False
    assert [t["TrailARN"] for t in c.list_trails()["Trails"]] == [arn]
    for call in (lambda: c.stop_logging(Name=arn),
                 lambda: c.update_trail(Name=arn, S3BucketName="other-bkt"),
                 lambda: c.delete_trail(Name=arn),
                 lambda: c.add_tags(ResourceId=arn, TagsList=[{"Key": "k", "Value": "v"}])):
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == "NotOrganizationMasterAccountException"
    # the management account's other trails stay invisible
    with pytest.raises(ClientError) as e:
        c.get_trail(Name=arn.replace("org-wide", "mgmt-only"))
    assert code(e) == "TrailNotFoundException"
    # once it is no longer an organization trail, members no longer see it
    ct.update_trail(Name="org-wide", IsOrganizationTrail=False)
    assert c.describe_trails()["trailList"] == []
    ct.delete_trail(Name="org-wide")

"""STS through real clients: AssumeRole with trust policies, ExternalId, durations,
session policies, session tags and source identity; GetSessionToken with a virtual MFA
device (TOTP computed here); GetFederationToken; GetAccessKeyInfo; expiry; and no
session secret in the audit log."""
import base64
import datetime
import os
import shutil
import subprocess
import hashlib
import hmac
import json
import struct
import time
import urllib.request
import uuid
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

import rawsig
from moat_harness import allow, doc

ACCOUNT = "000000000000"


def name(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def error(exc):
    r = exc.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def totp(seed_b32, step):
    """RFC 6238: HMAC-SHA1 over the 30-second step, dynamic truncation, six digits."""
    seed = base64.b32decode(seed_b32 + b"=" * (-len(seed_b32) % 8))
    mac = hmac.new(seed, struct.pack(">Q", step), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def now_step():
    return int(time.time()) // 30


def user(moat, *statements):
    iam = moat.client("iam")
    u = name("u")
    iam.create_user(UserName=u)
    if statements:
        iam.put_user_policy(UserName=u, PolicyName="p", PolicyDocument=doc(*statements))
    key = iam.create_access_key(UserName=u)["AccessKey"]
    return u, key


def client(moat, service, creds, **kw):
    if "SessionToken" in creds:
        return moat.client(service, access_key=creds["AccessKeyId"],
                           secret_key=creds["SecretAccessKey"],
                           session_token=creds["SessionToken"], **kw)
    return moat.client(service, access_key=creds["AccessKeyId"],
                       secret_key=creds["SecretAccessKey"], **kw)


def role(moat, trust_statement, *policies, **kw):
    iam = moat.client("iam")
    r = name("role")
    trust = {"Effect": "Allow", "Action": "sts:AssumeRole"}
    trust.update(trust_statement)
    arn = iam.create_role(RoleName=r, AssumeRolePolicyDocument=doc(trust), **kw)["Role"]["Arn"]
    if policies:
        iam.put_role_policy(RoleName=r, PolicyName="p", PolicyDocument=doc(*policies))
    return r, arn


ACCOUNT_PRINCIPAL = {"Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}}


# ---- AssumeRole ------------------------------------------------------------------------------


def test_assume_role_allowed_and_refused_by_trust(moat):
    u, key = user(moat, allow("sts:AssumeRole"))
    user_arn = "arn:aws:iam::%s:user/%s" % (ACCOUNT, u)
    r_ok, arn_ok = role(moat, {"Principal": {"AWS": user_arn}}, allow("iam:ListRoles"))
    other, _ = user(moat)
    r_no, arn_no = role(moat, {"Principal": {"AWS": "arn:aws:iam::%s:user/%s" % (ACCOUNT, other)}})
    sts = client(moat, "sts", key)
    out = sts.assume_role(RoleArn=arn_ok, RoleSessionName="sess1")
    role_id = moat.client("iam").get_role(RoleName=r_ok)["Role"]["RoleId"]
    assert out["AssumedRoleUser"] == {
        "AssumedRoleId": role_id + ":sess1",
        "Arn": "arn:aws:sts::%s:assumed-role/%s/sess1" % (ACCOUNT, r_ok)}
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"]
    exp = creds["Expiration"]
    left = (exp - datetime.datetime.now(exp.tzinfo)).total_seconds()
    assert 3500 < left <= 3600
    who = client(moat, "sts", creds).get_caller_identity()
    assert who == {"UserId": role_id + ":sess1", "Account": ACCOUNT,
                   "Arn": out["AssumedRoleUser"]["Arn"],
                   "ResponseMetadata": who["ResponseMetadata"]}
    assert r_ok in [x["RoleName"] for x in client(moat, "iam", creds).list_roles()["Roles"]]
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn_no, RoleSessionName="sess1")
    assert error(e) == ("AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole "
                        "on resource: %s" % (user_arn, arn_no), 403)
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn="arn:aws:iam::%s:role/does-not-exist" % ACCOUNT,
                        RoleSessionName="sess1")
    assert error(e)[0] == "AccessDenied"


def test_account_trust_needs_identity_permission(moat):
    _, arn = role(moat, ACCOUNT_PRINCIPAL)
    _, without = user(moat)
    _, with_ = user(moat, allow("sts:AssumeRole", arn))
    with pytest.raises(ClientError) as e:
        client(moat, "sts", without).assume_role(RoleArn=arn, RoleSessionName="ab")
    assert error(e)[1].endswith("because no identity-based policy allows the sts:AssumeRole action")
    client(moat, "sts", with_).assume_role(RoleArn=arn, RoleSessionName="ab")


def test_root_cannot_assume_roles(moat):
    _, arn = role(moat, ACCOUNT_PRINCIPAL)
    with pytest.raises(ClientError) as e:
        moat.client("sts").assume_role(RoleArn=arn, RoleSessionName="ab")
    assert error(e) == ("AccessDenied", "Roles may not be assumed by root accounts.", 403)


def test_external_id(moat):
    _, arn = role(moat, dict(ACCOUNT_PRINCIPAL, Condition={"StringEquals": {"sts:ExternalId": "x-42"}}))
    _, key = user(moat, allow("sts:AssumeRole"))
    sts = client(moat, "sts", key)
    for bad in ({}, {"ExternalId": "x-41"}):
        with pytest.raises(ClientError) as e:
            sts.assume_role(RoleArn=arn, RoleSessionName="ext", **bad)
        assert error(e)[0] == "AccessDenied"
    sts.assume_role(RoleArn=arn, RoleSessionName="ext", ExternalId="x-42")


def test_duration_bounds(moat):
    _, arn = role(moat, ACCOUNT_PRINCIPAL, MaxSessionDuration=7200)
    _, key = user(moat, allow("sts:AssumeRole"))
    sts = client(moat, "sts", key, parameter_validation=False)
    c = sts.assume_role(RoleArn=arn, RoleSessionName="dd", DurationSeconds=7200)["Credentials"]
    left = (c["Expiration"] - datetime.datetime.now(c["Expiration"].tzinfo)).total_seconds()
    assert 7100 < left <= 7200
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName="dd", DurationSeconds=7201)
    assert error(e) == ("ValidationError", "The requested DurationSeconds exceeds the "
                        "MaxSessionDuration set for this role.", 400)
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName="dd", DurationSeconds=899)
    assert error(e)[0] == "ValidationError" and "durationSeconds" in error(e)[1]
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName="bad name!")
    assert error(e)[0] == "ValidationError" and "roleSessionName" in error(e)[1]


def test_role_chaining_limits_duration(moat):
    r1, arn1 = role(moat, ACCOUNT_PRINCIPAL, allow("sts:AssumeRole"), MaxSessionDuration=7200)
    _, arn2 = role(moat, {"Principal": {"AWS": arn1}}, MaxSessionDuration=7200)
    _, key = user(moat, allow("sts:AssumeRole"))
    first = client(moat, "sts", key).assume_role(RoleArn=arn1, RoleSessionName="one")["Credentials"]
    chained = client(moat, "sts", first)
    with pytest.raises(ClientError) as e:
        chained.assume_role(RoleArn=arn2, RoleSessionName="two", DurationSeconds=3601)
    assert error(e)[1] == ("The requested DurationSeconds exceeds the 1 hour session limit for "
                           "roles assumed by role chaining.")
    second = chained.assume_role(RoleArn=arn2, RoleSessionName="two")
    assert second["AssumedRoleUser"]["Arn"].endswith(":assumed-role/%s/two" % arn2.split("/")[-1])


def test_session_policy_narrows(moat):
    iam = moat.client("iam")
    _, arn = role(moat, ACCOUNT_PRINCIPAL, allow(["iam:ListRoles", "iam:ListUsers"]))
    _, key = user(moat, allow("sts:AssumeRole"))
    sts = client(moat, "sts", key)
    narrow = sts.assume_role(RoleArn=arn, RoleSessionName="nn", Policy=doc(allow("iam:ListRoles")))
    assert 0 < narrow["PackedPolicySize"] <= 100
    ri = client(moat, "iam", narrow["Credentials"])
    ri.list_roles()
    with pytest.raises(ClientError) as e:
        ri.list_users()
    assert error(e)[1].endswith("because no session policy allows the iam:ListUsers action")
    # a session policy cannot widen the role's permissions
    wide = sts.assume_role(RoleArn=arn, RoleSessionName="ww", Policy=doc(allow("iam:*")))
    with pytest.raises(ClientError):
        client(moat, "iam", wide["Credentials"]).list_groups()
    # managed policies as session policies
    parn = iam.create_policy(PolicyName=name("sp"), PolicyDocument=doc(allow("iam:ListUsers")))["Policy"]["Arn"]
    m = sts.assume_role(RoleArn=arn, RoleSessionName="mm", PolicyArns=[{"arn": parn}])
    mi = client(moat, "iam", m["Credentials"])
    mi.list_users()
    with pytest.raises(ClientError):
        mi.list_roles()
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName="xx", Policy='{"Statement": "nope"}')
    assert error(e)[0::2] == ("MalformedPolicyDocument", 400)


def test_session_tags_and_transitive_tags(moat):
    iam = moat.client("iam")
    trust = dict(ACCOUNT_PRINCIPAL, Action=["sts:AssumeRole", "sts:TagSession"])
    _, arn1 = role(moat, trust, allow("sts:AssumeRole"), allow("sts:TagSession"))
    r2 = name("role")
    arn2 = iam.create_role(RoleName=r2, AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": arn1}, "Action": ["sts:AssumeRole", "sts:TagSession"]}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=r2, PolicyName="p", PolicyDocument=doc(
        allow("iam:ListRoles", Condition={"StringEquals": {"aws:PrincipalTag/project": "apollo"}})))
    _, key = user(moat, allow(["sts:AssumeRole", "sts:TagSession"]))
    first = client(moat, "sts", key).assume_role(
        RoleArn=arn1, RoleSessionName="t1",
        Tags=[{"Key": "project", "Value": "apollo"}, {"Key": "cost", "Value": "1"}],
        TransitiveTagKeys=["project"])["Credentials"]
    chained = client(moat, "sts", first)
    second = chained.assume_role(RoleArn=arn2, RoleSessionName="t2")["Credentials"]
    client(moat, "iam", second).list_roles()  # the transitive tag arrived
    with pytest.raises(ClientError) as e:
        chained.assume_role(RoleArn=arn2, RoleSessionName="t3",
                            Tags=[{"Key": "project", "Value": "gemini"}])
    assert error(e)[0] == "ValidationError"
    # without sts:TagSession in the trust policy, tags are refused
    _, plain = role(moat, ACCOUNT_PRINCIPAL)
    with pytest.raises(ClientError) as e:
        client(moat, "sts", key).assume_role(RoleArn=plain, RoleSessionName="t4",
                                             Tags=[{"Key": "a", "Value": "b"}])
    assert error(e)[0] == "AccessDenied" and "sts:TagSession" in error(e)[1]
    with pytest.raises(ClientError) as e:
        client(moat, "sts", key).assume_role(RoleArn=arn1, RoleSessionName="t5",
                                             Tags=[{"Key": "a", "Value": "b"}],
                                             TransitiveTagKeys=["zzz"])
    assert error(e)[0] == "ValidationError"


def test_source_identity(moat):
    trust = dict(ACCOUNT_PRINCIPAL, Action=["sts:AssumeRole", "sts:SetSourceIdentity"])
    _, arn = role(moat, trust, allow("sts:AssumeRole"), allow("sts:SetSourceIdentity"))
    _, key = user(moat, allow(["sts:AssumeRole", "sts:SetSourceIdentity"]))
    out = client(moat, "sts", key).assume_role(RoleArn=arn, RoleSessionName="si",
                                               SourceIdentity="alice@example.com")
    assert out["SourceIdentity"] == "alice@example.com"
    _, plain = role(moat, ACCOUNT_PRINCIPAL)
    with pytest.raises(ClientError) as e:
        client(moat, "sts", key).assume_role(RoleArn=plain, RoleSessionName="si",
                                             SourceIdentity="alice@example.com")
    assert "sts:SetSourceIdentity" in error(e)[1]


# ---- MFA and GetSessionToken ---------------------------------------------------------------


def enable_mfa(moat, u):
    iam = moat.client("iam")
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName=name("mfa"))["VirtualMFADevice"]
    seed = dev["Base32StringSeed"]
    assert len(seed) == 64 and dev["QRCodePNG"].startswith(b"\x89PNG\r\n\x1a\n")
    s = now_step()
    with pytest.raises(ClientError) as e:
        iam.enable_mfa_device(UserName=u, SerialNumber=dev["SerialNumber"],
                              AuthenticationCode1=totp(seed, s), AuthenticationCode2=totp(seed, s))
    assert error(e) == ("InvalidAuthenticationCode", "Authentication code for device is not "
                        "valid.", 403)
    iam.enable_mfa_device(UserName=u, SerialNumber=dev["SerialNumber"],
                          AuthenticationCode1=totp(seed, s - 1), AuthenticationCode2=totp(seed, s))
    return dev["SerialNumber"], seed


def decode_qr(png, tmp_path):
    f = tmp_path / "qr.png"
    f.write_bytes(png)
    out = subprocess.run(["zbarimg", "-q", "--raw", str(f)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.skipif(not shutil.which("zbarimg"), reason="zbarimg (zbar-tools) not installed")
def test_qr_code_png(moat, tmp_path):
    """QRCodePNG encodes otpauth://totp/$virtualMFADeviceName@$AccountName?secret=$seed."""
    iam = moat.client("iam")
    for n in ("q1", name("qr"), "x" * 200):
        dev = iam.create_virtual_mfa_device(VirtualMFADeviceName=n)["VirtualMFADevice"]
        assert decode_qr(dev["QRCodePNG"], tmp_path) == "otpauth://totp/%s@%s?secret=%s" % (
            n, ACCOUNT, dev["Base32StringSeed"].decode())
    # the CLI writes it to --outfile
    png = tmp_path / "cli.png"
    n = name("cli")
    moat.aws("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", n,
             "--outfile", str(png), "--bootstrap-method", "QRCodePNG")
    assert decode_qr(png.read_bytes(), tmp_path).startswith("otpauth://totp/%s@%s?secret=" %
                                                            (n, ACCOUNT))


def test_mfa_device_lifecycle(moat):
    iam = moat.client("iam")
    u, _ = user(moat)
    serial, seed = enable_mfa(moat, u)
    assert serial.startswith("arn:aws:iam::%s:mfa/" % ACCOUNT)
    assert [d["SerialNumber"] for d in iam.list_mfa_devices(UserName=u)["MFADevices"]] == [serial]
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert [d["User"]["UserName"] for d in assigned if d["SerialNumber"] == serial] == [u]
    assert all("Base32StringSeed" not in d for d in assigned)
    with pytest.raises(ClientError) as e:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error(e)[0] == "DeleteConflict"
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName=u)
    assert error(e)[0] == "DeleteConflict"
    iam.deactivate_mfa_device(UserName=u, SerialNumber=serial)
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert seed.decode() not in moat.read_log()


def test_get_session_token_with_mfa(moat):
    u, key = user(moat, allow("iam:ListUsers", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
                  allow("iam:ListRoles", Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "300"}}))
    serial, seed = enable_mfa(moat, u)
    sts = client(moat, "sts", key)
    # long-term keys: aws:MultiFactorAuthPresent is absent, so the Bool condition fails
    with pytest.raises(ClientError):
        client(moat, "iam", key).list_users()
    plain = sts.get_session_token(DurationSeconds=900)["Credentials"]
    with pytest.raises(ClientError):
        client(moat, "iam", plain).list_users()
    with pytest.raises(ClientError) as e:
        sts.get_session_token(SerialNumber=serial, TokenCode="000000" if totp(seed, now_step()) != "000000" else "111111")
    assert error(e) == ("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one "
                        "time pass code. ", 403)
    code = totp(seed, now_step() + 1)
    mfa = sts.get_session_token(SerialNumber=serial, TokenCode=code)["Credentials"]
    with pytest.raises(ClientError) as e:  # a code is used once
        sts.get_session_token(SerialNumber=serial, TokenCode=code)
    assert error(e)[0] == "AccessDenied"
    mi = client(moat, "iam", mfa)
    assert u in [x["UserName"] for x in mi.list_users()["Users"]]
    mi.list_roles()
    assert client(moat, "sts", mfa).get_caller_identity()["Arn"].endswith(":user/" + u)
    with pytest.raises(ClientError) as e:
        client(moat, "sts", mfa).get_session_token()
    assert error(e) == ("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)


def test_assume_role_requiring_mfa(moat):
    u, key = user(moat, allow("sts:AssumeRole"))
    serial, seed = enable_mfa(moat, u)
    _, arn = role(moat, dict(ACCOUNT_PRINCIPAL, Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    sts = client(moat, "sts", key)
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName="mm")
    assert error(e)[0] == "AccessDenied"
    sts.assume_role(RoleArn=arn, RoleSessionName="mm", SerialNumber=serial,
                    TokenCode=totp(seed, now_step() + 1))


# ---- other operations ---------------------------------------------------------------------------


def test_get_federation_token(moat):
    u, key = user(moat, allow(["sts:GetFederationToken", "iam:ListUsers", "iam:ListRoles"]))
    sts = client(moat, "sts", key)
    out = sts.get_federation_token(Name="fed-bob", Policy=doc(allow("iam:ListUsers")),
                                   DurationSeconds=900)
    assert out["FederatedUser"] == {"FederatedUserId": "%s:fed-bob" % ACCOUNT,
                                    "Arn": "arn:aws:sts::%s:federated-user/fed-bob" % ACCOUNT}
    fi = client(moat, "iam", out["Credentials"])
    fi.list_users()
    with pytest.raises(ClientError):
        fi.list_roles()  # the session policy does not allow it
    # without a session policy a federated user has no permissions
    bare = client(moat, "iam", sts.get_federation_token(Name="fed-x")["Credentials"])
    with pytest.raises(ClientError):
        bare.list_users()


def test_get_access_key_info(moat):
    _, key = user(moat)
    sts = moat.client("sts")
    assert sts.get_access_key_info(AccessKeyId=key["AccessKeyId"])["Account"] == ACCOUNT
    with pytest.raises(ClientError) as e:
        sts.get_access_key_info(AccessKeyId="AKIAAAAAAAAAAAAAAAAA")
    assert error(e)[0] == "ValidationError"
    _, denied = user(moat)
    with pytest.raises(ClientError) as e:
        client(moat, "sts", denied).get_access_key_info(AccessKeyId=key["AccessKeyId"])
    assert error(e)[0] == "AccessDenied"


def test_decode_authorization_message_refuses_foreign_blobs(moat):
    sts = moat.client("sts")
    for blob in ("not-base64!", base64.urlsafe_b64encode(b"x" * 64).decode().rstrip("=")):
        with pytest.raises(ClientError) as e:
            sts.decode_authorization_message(EncodedMessage=blob)
        assert error(e)[0::2] == ("InvalidAuthorizationMessageException", 400)
    _, key = user(moat)
    with pytest.raises(ClientError) as e:
        client(moat, "sts", key).decode_authorization_message(EncodedMessage="abcd")
    assert error(e)[0] == "AccessDenied"


def set_offset(m, seconds):
    req = urllib.request.Request(m.endpoint + "/_moat/clock", method="POST",
                                 data=json.dumps({"offset_seconds": seconds}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def test_session_expires(fresh_moat):
    m = fresh_moat(args=["--allow-test-clock"])
    sts = m.client("sts")
    creds = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert client(m, "sts", creds).get_caller_identity()["Account"] == ACCOUNT
    set_offset(m, 1000)
    try:
        later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=1000)
        status, _, body = rawsig.sts_request(m, when=later, access_key=creds["AccessKeyId"],
                                             secret=creds["SecretAccessKey"],
                                             session_token=creds["SessionToken"])
    finally:
        set_offset(m, 0)
    root = ET.fromstring(body)
    code = [e.text for e in root.iter() if e.tag.endswith("Code")][0]
    assert status in (400, 403) and code == "ExpiredToken"
    # a wrong token for a live key is refused too
    with pytest.raises(ClientError) as e:
        m.client("sts", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                 session_token=creds["SessionToken"][:-4] + "AAAA").get_caller_identity()
    assert error(e)[0] == "InvalidClientTokenId"


def test_session_secrets_not_logged(moat):
    _, key = user(moat, allow("sts:AssumeRole"))
    _, arn = role(moat, ACCOUNT_PRINCIPAL)
    c = client(moat, "sts", key).assume_role(RoleArn=arn, RoleSessionName="log")["Credentials"]
    t = moat.client("sts").get_session_token()["Credentials"]
    log = moat.read_log()
    for secret in (c["SecretAccessKey"], c["SessionToken"], t["SecretAccessKey"], t["SessionToken"]):
        assert secret not in log


def test_aws_cli_assume_role(moat):
    u, key = user(moat, allow("sts:AssumeRole"))
    _, arn = role(moat, ACCOUNT_PRINCIPAL, allow("iam:ListRoles"))
    out = moat.aws("sts", "assume-role", "--role-arn", arn, "--role-session-name", "cli",
                   access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    c = out["Credentials"]
    who = moat.aws("sts", "get-caller-identity", access_key=c["AccessKeyId"],
                   secret_key=c["SecretAccessKey"], session_token=c["SessionToken"])
    assert who["Arn"] == out["AssumedRoleUser"]["Arn"]

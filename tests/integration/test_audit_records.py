"""Every request yields exactly one CloudTrail record (one per account for a
cross-account call), in AWS's format: the userIdentity shape of the caller,
readOnly from the operation, AccessDenied for denials, errors for failures,
sensitive values left out. The tests sweep every operation of every service
the server offers, so they pick up services and operations as they arrive."""
import json
import os
import shutil
import sqlite3
import subprocess
import time

import botocore
import pytest
from botocore.exceptions import ClientError

import rawsig
from moat_harness import Moat, client_error_code

ACCOUNT = "000000000000"
FAST = {"MOAT_LOOKUP_EVENTS_RATE": "1000"}


# ---- reading the audit log straight from the store ---------------------------------


def audit_rows(m):
    """(seq, account_id, record) of every row, oldest first, read from the store itself."""
    if m.store_url and m.store_url.startswith("postgres"):
        psql = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
        out = subprocess.run([psql, m.store_url, "-At", "-F", "\t", "-c",
                              "SELECT seq, account_id, record FROM audit ORDER BY seq"],
                             capture_output=True, text=True, check=True).stdout
        rows = []
        for line in out.splitlines():
            seq, acct, rec = line.split("\t", 2)
            rows.append((int(seq), acct, json.loads(rec)))
        return rows
    con = sqlite3.connect("file:%s?mode=ro" % os.path.join(m.data_dir, "moat.db"), uri=True)
    try:
        return [(s, a, json.loads(r)) for s, a, r in
                con.execute("SELECT seq, account_id, record FROM audit ORDER BY seq")]
    finally:
        con.close()


def records_by_request(m):
    out = {}
    for _, acct, rec in audit_rows(m):
        out.setdefault(rec.get("requestID"), []).append((acct, rec))
    return out


def request_id(resp_or_exc):
    if isinstance(resp_or_exc, ClientError):
        return resp_or_exc.response["ResponseMetadata"]["RequestId"]
    return resp_or_exc["ResponseMetadata"]["RequestId"]


def call(fn, **kw):
    try:
        return fn(**kw)
    except ClientError as e:
        return e


def offered(m):
    import urllib.request
    with urllib.request.urlopen(m.endpoint + "/_localstack/health") as r:
        return sorted(json.load(r)["services"])


def supports(m, service, operation):
    """Whether the server implements service:operation (not 'not supported')."""
    c = m.client(service, parameter_validation=False)
    try:
        getattr(c, botocore.xform_name(operation))()
    except ClientError as e:
        code, msg = client_error_code(e), e.response["Error"]["Message"]
        return not (code in ("UnknownOperationException", "InvalidAction") and
                    ("not supported" in msg or "not known" in msg or "Could not find" in msg))
    return True


# AWS marks these families read-only (KMS's cryptographic operations included).
READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Lookup", "Simulate", "Decode", "Encrypt",
                      "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateRandom", "GenerateMac",
                      "VerifyMac", "Sign", "Verify")
WRITE_PREFIXES = ("Create", "Delete", "Put", "Update", "Tag", "Untag", "Add", "Remove", "Attach",
                  "Detach", "Enable", "Disable", "Start", "Stop", "Set", "Schedule", "Cancel",
                  "Import", "Rotate", "Retire", "Revoke", "Move", "Register", "Deregister",
                  "Change", "Upload", "Reset", "Restore")


def expected_read_only(op):
    if op.startswith(READ_ONLY_PREFIXES) and not op.startswith("GetSessionToken"):
        return True
    if op.startswith(WRITE_PREFIXES):
        return False
    return None


ROOT_IDENTITY = {"type": "Root", "principalId": ACCOUNT, "arn": "arn:aws:iam::%s:root" % ACCOUNT,
                 "accountId": ACCOUNT, "accessKeyId": "AKIAMOATTESTROOT0001"}


# ---- every operation of every service ------------------------------------------------------


def test_every_operation_yields_exactly_one_record(fresh_moat):
    m = fresh_moat(env=FAST)
    sent = []  # (service, operation, request id, implemented, unsigned)
    for service in offered(m):
        c = m.client(service, parameter_validation=False)
        model = c.meta.service_model
        for op in model.operation_names:
            r = call(getattr(c, botocore.xform_name(op)))
            implemented = True
            if isinstance(r, ClientError):
                code, msg = client_error_code(r), r.response["Error"]["Message"]
                implemented = not (code in ("UnknownOperationException", "InvalidAction") and
                                   "not supported" in msg)
            om = model.operation_model(op)
            unsigned = om.auth_type == "none" or "smithy.api#noAuth" in (
                getattr(om, "auth", None) or []) or op in ("AssumeRoleWithSAML",
                                                           "AssumeRoleWithWebIdentity")
            sent.append((service, op, request_id(r), implemented, unsigned))
    assert len(sent) > 60
    recs = records_by_request(m)
    checked_ro = 0
    for service, op, rid, implemented, unsigned in sent:
        got = recs.get(rid, [])
        assert len(got) == 1, (service, op, rid, got)
        acct, rec = got[0]
        assert acct == ACCOUNT and rec["recipientAccountId"] == ACCOUNT
        assert rec["eventName"] == op, (service, op)
        assert rec["eventSource"] == "%s.amazonaws.com" % service
        assert rec["eventVersion"] == "1.11" and rec["eventType"] == "AwsApiCall"
        if unsigned:  # AssumeRoleWithSAML and friends are sent without a signature
            assert rec["userIdentity"]["type"] in ("Unknown", "SAMLUser", "WebIdentityUser")
        else:
            assert rec["userIdentity"] == ROOT_IDENTITY, (service, op)
        assert rec["eventCategory"] == "Management" and rec["managementEvent"] is True
        want = expected_read_only(op)
        if implemented and want is not None:
            assert rec["readOnly"] is want, (service, op)
            checked_ro += 1
        if not implemented:
            assert rec["errorCode"] in ("UnknownOperationException", "InvalidAction")
    assert checked_ro >= 15


def test_successful_calls_and_their_parameters(fresh_moat):
    m = fresh_moat(env=FAST)
    ct = m.client("cloudtrail")
    created = ct.create_trail(Name="rec-trail", S3BucketName="bkt-rec")
    got = ct.get_trail(Name="rec-trail")
    rnd = m.client("kms").generate_random(NumberOfBytes=32)
    ident = m.client("sts").get_caller_identity()
    recs = records_by_request(m)
    (_, c), = recs[request_id(created)]
    assert c["requestParameters"] == {"name": "rec-trail", "s3BucketName": "bkt-rec"}
    re = c["responseElements"]
    assert re["trailARN"] == created["TrailARN"] and re["name"] == "rec-trail"
    assert re["s3BucketName"] == "bkt-rec" and re["isMultiRegionTrail"] is False
    assert c["readOnly"] is False and "errorCode" not in c
    assert c["resources"] == [{"accountId": ACCOUNT, "type": "AWS::CloudTrail::Trail",
                               "ARN": created["TrailARN"]}]
    assert c["sourceIPAddress"] == "127.0.0.1" and "Botocore" in c["userAgent"]
    assert c["awsRegion"] == "us-east-1"
    (_, g), = recs[request_id(got)]
    assert g["readOnly"] is True and g["responseElements"] is None
    assert g["requestParameters"] == {"name": "rec-trail"}
    # plaintext is never logged, and read-only responses are not logged at all
    (_, r), = recs[request_id(rnd)]
    assert r["requestParameters"] == {"numberOfBytes": 32} and r["responseElements"] is None
    import base64
    assert base64.b64encode(rnd["Plaintext"]).decode() not in json.dumps(r)
    (_, s), = recs[request_id(ident)]
    assert s["eventSource"] == "sts.amazonaws.com" and s["requestParameters"] is None
    for rec in (c, g, r, s):
        assert len(rec["eventID"]) == 36 and rec["eventID"] != rec["requestID"]
        assert rec["eventTime"].endswith("Z") and "tlsDetails" not in rec
        assert "sharedEventID" not in rec and "apiVersion" not in rec


def test_failed_requests_are_recorded_once(fresh_moat):
    m = fresh_moat(env=FAST)
    ids = {}
    # bad signature with a known key
    e = call(m.client("kms", secret_key="wrong" * 8).generate_random, NumberOfBytes=4)
    ids["InvalidSignatureException"] = request_id(e)
    # unknown access key
    e = call(m.client("sts", access_key="AKIAUNKNOWNKEY000000").get_caller_identity)
    ids["InvalidClientTokenId"] = request_id(e)
    # validation
    e = call(m.client("kms", parameter_validation=False).generate_random, NumberOfBytes=0)
    ids["ValidationException"] = request_id(e)
    # service error
    e = call(m.client("cloudtrail").get_trail, Name="missing-trail")
    ids["TrailNotFoundException"] = request_id(e)
    # unknown operation of a known service
    status, headers, body = rawsig.kms_request(m, target="TrentService.NoSuchThing", body=b"{}")
    ids["UnknownOperationException"] = headers["x-amzn-requestid"]
    recs = records_by_request(m)
    for code, rid in ids.items():
        got = recs.get(rid, [])
        assert len(got) == 1, (code, got)
        rec = got[0][1]
        assert rec["errorCode"] == code and rec["errorMessage"], rec
        assert rec["responseElements"] is None
    unknown = recs[ids["InvalidClientTokenId"]][0][1]
    assert unknown["userIdentity"] == {"type": "Unknown", "accessKeyId": "AKIAUNKNOWNKEY000000"}
    assert unknown["eventName"] == "GetCallerIdentity"
    assert recs[ids["UnknownOperationException"]][0][1]["eventName"] == "NoSuchThing"
    # a signature that does not verify names the key it claimed
    bad_sig = recs[ids["InvalidSignatureException"]][0][1]
    assert bad_sig["userIdentity"]["accessKeyId"] == m.access_key
    # requests that name no service are not AWS calls and leave no record
    before = len(audit_rows(m))
    import urllib.request
    urllib.request.urlopen(m.endpoint + "/_moat/health").read()
    assert len(audit_rows(m)) == before


def test_tls_details(fresh_moat):
    m = fresh_moat(tls=True)
    import urllib3
    urllib3.disable_warnings()
    r = m.client("sts", tls=True).get_caller_identity()
    (_, rec), = records_by_request(m)[request_id(r)]
    tls = rec["tlsDetails"]
    assert tls["tlsVersion"].startswith("TLSv1.") and tls["cipherSuite"]
    assert tls["clientProvidedHostHeader"] == "127.0.0.1:%d" % m.tls_port
    plain = m.client("sts").get_caller_identity()
    (_, rec), = records_by_request(m)[request_id(plain)]
    assert "tlsDetails" not in rec


def test_record_order_and_durability_before_response(fresh_moat):
    """A response is only sent once its record is in the store."""
    m = fresh_moat(env=FAST)
    kms = m.client("kms")
    for _ in range(5):
        rid = request_id(kms.generate_random(NumberOfBytes=1))
        assert len(records_by_request(m)[rid]) == 1
    seqs = [s for s, _, _ in audit_rows(m)]
    assert seqs == list(range(1, len(seqs) + 1))


# ---- identities other than root (as the IAM and STS services provide them) ------------------


def _need(m, *ops):
    for service, op in ops:
        if service not in offered(m) or not supports(m, service, op):
            pytest.skip("%s:%s is not available on this server yet" % (service, op))


def _make_user(m, name, policy=None):
    iam = m.client("iam")
    iam.create_user(UserName=name)
    if policy:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return k["AccessKeyId"], k["SecretAccessKey"]


def test_iam_user_identity_and_denial(fresh_moat):
    m = fresh_moat(env=FAST)
    _need(m, ("iam", "CreateUser"), ("iam", "CreateAccessKey"))
    akid, secret = _make_user(m, "alice")
    time.sleep(0.1)
    ok = m.client("sts", access_key=akid, secret_key=secret).get_caller_identity()
    denied = call(m.client("cloudtrail", access_key=akid, secret_key=secret).describe_trails)
    assert isinstance(denied, ClientError)
    assert client_error_code(denied) == "AccessDeniedException"
    recs = records_by_request(m)
    (_, rec), = recs[request_id(ok)]
    ui = rec["userIdentity"]
    assert ui["type"] == "IAMUser" and ui["userName"] == "alice"
    assert ui["arn"] == "arn:aws:iam::%s:user/alice" % ACCOUNT
    assert ui["principalId"].startswith("AIDA") and ui["accountId"] == ACCOUNT
    assert ui["accessKeyId"] == akid and "sessionContext" not in ui
    (_, rec), = recs[request_id(denied)]
    assert rec["errorCode"] == "AccessDenied"  # as CloudTrail records denials
    assert rec["errorMessage"].startswith(
        "User: arn:aws:iam::%s:user/alice is not authorized to perform: "
        "cloudtrail:DescribeTrails" % ACCOUNT)
    assert rec["userIdentity"]["userName"] == "alice" and rec["readOnly"] is True
    # the secret of the new key is in no record
    assert all(secret not in json.dumps(r) for _, _, r in audit_rows(m))
    # and LookupEvents finds alice's calls by user name
    ct = m.client("cloudtrail")
    ev = ct.lookup_events(LookupAttributes=[{"AttributeKey": "Username",
                                             "AttributeValue": "alice"}])["Events"]
    assert sorted(e["EventName"] for e in ev) == ["DescribeTrails", "GetCallerIdentity"]
    assert all(e["Username"] == "alice" and e["AccessKeyId"] == akid for e in ev)


def test_assumed_role_identity(fresh_moat):
    m = fresh_moat(env=FAST)
    _need(m, ("iam", "CreateRole"), ("sts", "AssumeRole"))
    iam = m.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
        "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="auditor", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    # AWS refuses AssumeRole with root credentials: an IAM user assumes the role.
    key = _assuming_user(iam)
    creds = m.client("sts", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"]) \
        .assume_role(RoleArn=role["Arn"], RoleSessionName="sess-1")["Credentials"]
    c = m.client("sts", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                 session_token=creds["SessionToken"])
    r = c.get_caller_identity()
    (_, rec), = records_by_request(m)[request_id(r)]
    ui = rec["userIdentity"]
    assert ui["type"] == "AssumedRole"
    assert ui["arn"] == "arn:aws:sts::%s:assumed-role/auditor/sess-1" % ACCOUNT
    assert ui["principalId"] == "%s:sess-1" % role["RoleId"]
    assert ui["accessKeyId"] == creds["AccessKeyId"] and ui["accountId"] == ACCOUNT
    sc = ui["sessionContext"]
    assert sc["sessionIssuer"] == {"type": "Role", "principalId": role["RoleId"],
                                   "arn": role["Arn"], "accountId": ACCOUNT,
                                   "userName": "auditor"}
    assert sc["webIdFederationData"] == {}
    assert sc["attributes"]["mfaAuthenticated"] == "false"
    assert sc["attributes"]["creationDate"].endswith("Z")
    # the session's secret and token are in no record
    for _, _, rec in audit_rows(m):
        text = json.dumps(rec)
        assert creds["SecretAccessKey"] not in text and creds["SessionToken"] not in text
    ev = m.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "Username", "AttributeValue": "sess-1"}])["Events"]
    assert [e["EventName"] for e in ev] == ["GetCallerIdentity"]


def _assuming_user(iam):
    """An IAM user allowed to call sts:AssumeRole, and its access key."""
    iam.create_user(UserName="assumer")
    iam.put_user_policy(UserName="assumer", PolicyName="assume", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    return iam.create_access_key(UserName="assumer")["AccessKey"]


def _second_account(m, account, key_id, secret):
    """Adds a second account (with its root key) to m's store: a moat started once
    on the same data with that account as its default one."""
    assert m.stop() == 0
    other = Moat(data_dir=m.data_dir, store_url=m.store_url, pin_root=True,
                 args=["--account-id", account],
                 env={"MOAT_ROOT_ACCESS_KEY_ID": key_id, "MOAT_ROOT_SECRET_ACCESS_KEY": secret})
    assert other.stop() == 0
    m.start()


def test_cross_account_call_is_recorded_in_both_accounts(fresh_moat):
    """A role in one account assumed from another: one record in each account, with
    one sharedEventID; the role owner's copy shows the caller as AWSAccount."""
    m = fresh_moat(env=FAST)
    _need(m, ("iam", "CreateRole"), ("sts", "AssumeRole"))
    other, other_key, other_secret = "111122223333", "AKIAMOATTESTOTHER001", "o" * 40
    _second_account(m, other, other_key, other_secret)
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % other},
        "Action": "sts:AssumeRole"}]}
    role = m.client("iam").create_role(RoleName="shared",
                                       AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    key = _assuming_user(m.client("iam", access_key=other_key, secret_key=other_secret))
    sts = m.client("sts", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    caller = sts.get_caller_identity()
    r = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="x-acct")
    got = records_by_request(m)[request_id(r)]
    assert sorted(a for a, _ in got) == sorted([ACCOUNT, other])
    mine = next(rec for a, rec in got if a == other)
    theirs = next(rec for a, rec in got if a == ACCOUNT)
    assert mine["recipientAccountId"] == other and theirs["recipientAccountId"] == ACCOUNT
    assert mine["sharedEventID"] == theirs["sharedEventID"]
    assert mine["eventID"] != theirs["eventID"]
    assert mine["userIdentity"]["type"] == "IAMUser" and mine["userIdentity"]["accountId"] == other
    assert theirs["userIdentity"] == {"type": "AWSAccount", "principalId": caller["UserId"],
                                      "accountId": other}
    # each account sees its own copy in LookupEvents (the failed probe of _need aside)
    def succeeded(events):
        recs = [json.loads(e["CloudTrailEvent"]) for e in events]
        return [rec["eventID"] for rec in recs if "errorCode" not in rec]
    ev = m.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}])["Events"]
    assert succeeded(ev) == [theirs["eventID"]]
    ev = m.client("cloudtrail", access_key=other_key, secret_key=other_secret).lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}])["Events"]
    assert succeeded(ev) == [mine["eventID"]]

"""Parameter policies: the parser's errors, and their enforcement by the scheduler under
the test clock. Expiration really deletes; ExpirationNotification and NoChangeNotification
leave "Parameter Store Policy Action" events (AWS's EventBridge shape) in events/pending,
and every action is a CloudTrail service event."""
import datetime
import json
import time
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from test_ssm import audit_records, err, store_rows

ACCOUNT = "000000000000"
REGION = "us-east-1"
HOUR = 3600


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def expiration(at):
    return {"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": iso(at)}}


def clock(m, **kw):
    req = urllib.request.Request(m.endpoint + "/_moat/clock", data=json.dumps(kw).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def param_stored(m, key):
    sql = "SELECT count(*) FROM records WHERE ns='ssm/param' AND key=%s" % (
        "convert_to('%s/%s/%s','UTF8')" % (ACCOUNT, REGION, key)
        if m.store_url else "CAST('%s/%s/%s' AS BLOB)" % (ACCOUNT, REGION, key))
    return int(store_rows(m, sql)[0]) > 0


def events(m):
    col = "convert_from(value,'UTF8')" if m.store_url else "value"
    return [json.loads(v) for v in store_rows(
        m, "SELECT %s FROM records WHERE ns='events/pending' ORDER BY key" % col)]


def wait_for(pred, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


@pytest.fixture
def clocked(fresh_moat):
    m = fresh_moat(args=["--allow-test-clock"])
    yield m
    clock(m, offset_seconds=0)


# ---- the parser ------------------------------------------------------------------


@pytest.mark.parametrize("policies,code", [
    ("not json", "InvalidPolicyAttributeException"),
    ('{"Type":"Expiration"}', "InvalidPolicyAttributeException"),
    ('[{"Type":"Rotation","Version":"1.0","Attributes":{}}]', "InvalidPolicyTypeException"),
    ('[{"Type":"Expiration","Version":"2.0","Attributes":{"Timestamp":"2030-01-01T00:00:00Z"}}]',
     "InvalidPolicyAttributeException"),
    ('[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"tomorrow"}}]',
     "InvalidPolicyAttributeException"),
    ('[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-01-01T00:00:00"}}]',
     "InvalidPolicyAttributeException"),
    ('[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-01-01T00:00:00Z"}},'
     '{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2031-01-01T00:00:00Z"}}]',
     "IncompatiblePolicyException"),
    ('[{"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"2","Unit":"Days"}}]',
     "IncompatiblePolicyException"),
    ('[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"2","Unit":"Weeks"}}]',
     "InvalidPolicyAttributeException"),
    ('[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"-2","Unit":"Days"}}]',
     "InvalidPolicyAttributeException"),
    ('[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"2","Unit":"Days",'
     '"Extra":"1"}}]', "InvalidPolicyAttributeException"),
    ("[" + ",".join(['{"Type":"NoChangeNotification","Version":"1.0","Attributes":'
                     '{"After":"%d","Unit":"Days"}}' % (i + 1) for i in range(11)]) + "]",
     "PoliciesLimitExceededException"),
])
def test_policy_errors(moat, policies, code):
    ssm = moat.client("ssm")
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/pol/" + uuid.uuid4().hex[:8], Value="x", Type="String",
                          Tier="Advanced", Policies=policies)
    assert err(e)[0] == code and err(e)[2] == 400


def test_policies_are_described(moat):
    ssm = moat.client("ssm")
    name = "/pol/" + uuid.uuid4().hex[:8]
    pols = [expiration(now() + datetime.timedelta(days=30)),
            {"Type": "ExpirationNotification", "Version": "1.0",
             "Attributes": {"Before": "5", "Unit": "Days"}},
            {"Type": "NoChangeNotification", "Version": "1.0",
             "Attributes": {"After": "60", "Unit": "Days"}}]
    ssm.put_parameter(Name=name, Value="x", Type="String", Tier="Advanced",
                      Policies=json.dumps(pols))
    md = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])
    got = md["Parameters"][0]["Policies"]
    assert [p["PolicyType"] for p in got] == ["Expiration", "ExpirationNotification",
                                              "NoChangeNotification"]
    assert all(p["PolicyStatus"] == "Pending" for p in got)
    assert [json.loads(p["PolicyText"]) for p in got] == pols
    # an update without Policies keeps them; "[]" removes them
    ssm.put_parameter(Name=name, Value="y", Overwrite=True)
    md = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])
    assert len(md["Parameters"][0]["Policies"]) == 3
    hist = ssm.get_parameter_history(Name=name)["Parameters"]
    assert len(hist[0]["Policies"]) == 3
    ssm.put_parameter(Name=name, Value="z", Overwrite=True, Policies="[]")
    md = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])
    assert md["Parameters"][0]["Policies"] == []
    # ISO_OFFSET_DATE_TIME, as AWS documents it
    ssm.put_parameter(Name=name + "b", Value="x", Type="String", Tier="Advanced",
                      Policies=json.dumps([{"Type": "Expiration", "Version": "1.0", "Attributes": {
                          "Timestamp": "2099-11-01T22:13:48.87+10:30:00"}}]))


# ---- enforcement under the test clock -----------------------------------------------


def test_expiration_deletes(clocked):
    m = clocked
    ssm = m.client("ssm")
    at = now() + datetime.timedelta(hours=1)
    policy = expiration(at)
    ssm.put_parameter(Name="/exp/soon", Value="bye", Type="SecureString", Tier="Advanced",
                      Policies=json.dumps([policy]))
    ssm.put_parameter(Name="/exp/later", Value="stay", Type="String", Tier="Advanced",
                      Policies=json.dumps([expiration(now() + datetime.timedelta(days=3))]))
    clock(m, advance_seconds=2 * HOUR)
    assert wait_for(lambda: not param_stored(m, "/exp/soon"))
    assert param_stored(m, "/exp/later")
    clock(m, offset_seconds=0)
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name="/exp/soon")
    assert err(e)[0] == "ParameterNotFound"
    with pytest.raises(ClientError) as e:
        ssm.get_parameter_history(Name="/exp/soon")
    assert err(e)[0] == "ParameterNotFound"
    assert ssm.get_parameter(Name="/exp/later")["Parameter"]["Value"] == "stay"
    ev = [e for e in events(m) if e["detail-type"] == "Parameter Store Policy Action"]
    assert len(ev) == 1
    e = ev[0]
    assert e["source"] == "aws.ssm" and e["account"] == ACCOUNT and e["region"] == REGION
    assert e["version"] == "0" and len(e["id"]) == 36
    assert e["resources"] == ["arn:aws:ssm:%s:%s:parameter/exp/soon" % (REGION, ACCOUNT)]
    d = e["detail"]
    assert d["policy-type"] == "Expiration" and d["parameter-name"] == "/exp/soon"
    assert d["parameter-type"] == "SecureString" and d["action-status"] == "Success"
    assert json.loads(d["policy-content"]) == policy
    change = [e for e in events(m) if e["detail-type"] == "Parameter Store Change"]
    assert [(c["detail"]["name"], c["detail"]["operation"]) for c in change][-1] == (
        "/exp/soon", "Delete")
    svc = [r for r in audit_records(m) if r.get("eventType") == "AwsServiceEvent"]
    assert len(svc) == 1
    r = svc[0]
    assert r["eventName"] == "DeleteParameter" and r["eventSource"] == "ssm.amazonaws.com"
    assert r["userIdentity"] == {"accountId": ACCOUNT, "invokedBy": "ssm.amazonaws.com"}
    assert r["serviceEventDetails"] == {"parameterName": "/exp/soon", "policyType": "Expiration"}
    assert "bye" not in json.dumps(r)


def test_expiration_notification(clocked):
    m = clocked
    ssm = m.client("ssm")
    pols = [expiration(now() + datetime.timedelta(days=3)),
            {"Type": "ExpirationNotification", "Version": "1.0",
             "Attributes": {"Before": "1", "Unit": "Days"}}]
    ssm.put_parameter(Name="notify-me", Value="v", Type="String", Tier="Advanced",
                      Policies=json.dumps(pols))
    clock(m, advance_seconds=24 * HOUR)
    time.sleep(1.5)
    assert [e for e in events(m) if e["detail-type"] == "Parameter Store Policy Action"] == []
    clock(m, advance_seconds=26 * HOUR)
    assert wait_for(lambda: any(e["detail-type"] == "Parameter Store Policy Action"
                                for e in events(m)))
    clock(m, offset_seconds=0)
    ev = [e for e in events(m) if e["detail-type"] == "Parameter Store Policy Action"]
    assert len(ev) == 1
    d = ev[0]["detail"]
    assert d["policy-type"] == "ExpirationNotification" and d["parameter-name"] == "notify-me"
    assert d["action-status"] == "Success" and "will expire" in d["action-reason"]
    assert ev[0]["resources"] == ["arn:aws:ssm:%s:%s:parameter/notify-me" % (REGION, ACCOUNT)]
    md = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["notify-me"]}])
    status = {p["PolicyType"]: p["PolicyStatus"] for p in md["Parameters"][0]["Policies"]}
    assert status == {"Expiration": "Pending", "ExpirationNotification": "Finished"}
    assert ssm.get_parameter(Name="notify-me")["Parameter"]["Value"] == "v"


def test_no_change_notification(clocked):
    m = clocked
    ssm = m.client("ssm")
    pol = {"Type": "NoChangeNotification", "Version": "1.0",
           "Attributes": {"After": "2", "Unit": "Hours"}}
    ssm.put_parameter(Name="/stale/p", Value="v1", Type="String", Tier="Advanced",
                      Policies=json.dumps([pol]))

    def notified():
        return [e for e in events(m) if e["detail-type"] == "Parameter Store Policy Action"]

    clock(m, advance_seconds=1 * HOUR)
    time.sleep(1.5)
    assert notified() == []
    # a change restarts the clock: it is now due two hours after this put
    clock(m, offset_seconds=0)
    ssm.put_parameter(Name="/stale/p", Value="v2", Overwrite=True)
    clock(m, advance_seconds=90 * 60)
    time.sleep(1.5)
    assert notified() == []
    clock(m, advance_seconds=60 * 60)
    assert wait_for(lambda: len(notified()) == 1)
    d = notified()[0]["detail"]
    assert d["policy-type"] == "NoChangeNotification" and d["parameter-name"] == "/stale/p"
    assert d["action-reason"].startswith("The parameter has not been changed for 2 hours.")
    assert json.loads(d["policy-content"]) == pol
    time.sleep(1.5)
    assert len(notified()) == 1  # once


def test_policies_survive_restart(fresh_moat):
    m = fresh_moat(args=["--allow-test-clock"])
    ssm = m.client("ssm")
    ssm.put_parameter(Name="/persist/exp", Value="x", Type="String", Tier="Advanced",
                      Policies=json.dumps([expiration(now() + datetime.timedelta(hours=5))]))
    m.restart()
    try:
        clock(m, advance_seconds=6 * HOUR)
        assert wait_for(lambda: not param_stored(m, "/persist/exp"))
    finally:
        clock(m, offset_seconds=0)

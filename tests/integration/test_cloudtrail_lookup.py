"""LookupEvents with real clients: every lookup attribute, time ranges, the
90-day window, pagination with tokens bound to their query, management
events of the caller's region only, AWS's rate limit, and events that
survive a restart."""
import datetime
import json
import time

import pytest
from botocore.exceptions import ClientError

import rawsig
from moat_harness import client_error_code

ACCOUNT = "000000000000"
FAST = {"MOAT_LOOKUP_EVENTS_RATE": "1000"}


def lookup_all(c, **kw):
    out, token = [], None
    while True:
        page = c.lookup_events(**kw, **({"NextToken": token} if token else {}))
        out += page["Events"]
        token = page.get("NextToken")
        if not token:
            return out


def by(c, key, value, **kw):
    return lookup_all(c, LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}], **kw)


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    """One server with a known set of calls, shared by the read-only tests."""
    from moat_harness import Moat
    m = Moat(env=FAST)
    ids = {}
    sts = m.client("sts")
    r = sts.get_caller_identity()
    ids["GetCallerIdentity"] = r["ResponseMetadata"]["RequestId"]
    kms = m.client("kms")
    for _ in range(3):
        kms.generate_random(NumberOfBytes=8)
    ct = m.client("cloudtrail")
    trail = ct.create_trail(Name="lookup-trail", S3BucketName="bkt-lookup")
    ids["CreateTrail"] = trail["ResponseMetadata"]["RequestId"]
    ct.add_tags(ResourceId=trail["TrailARN"], TagsList=[{"Key": "k", "Value": "v"}])
    ct.get_trail(Name="lookup-trail")
    m.client("kms", region="eu-west-1").generate_random(NumberOfBytes=4)
    m.trail_arn = trail["TrailARN"]
    m.ids = ids
    yield m
    m.close()


def names(events):
    return [e["EventName"] for e in events]


def test_event_fields(populated):
    c = populated.client("cloudtrail")
    ev = by(c, "EventName", "CreateTrail")
    assert len(ev) == 1
    e = ev[0]
    rec = json.loads(e["CloudTrailEvent"])
    assert rec["requestID"] == populated.ids["CreateTrail"]
    assert e["EventId"] == rec["eventID"] and e["EventSource"] == "cloudtrail.amazonaws.com"
    assert e["ReadOnly"] == "false" and e["Username"] == "root"
    assert e["AccessKeyId"] == populated.access_key
    assert e["Resources"] == [{"ResourceType": "AWS::CloudTrail::Trail",
                               "ResourceName": populated.trail_arn}]
    assert abs(e["EventTime"].timestamp() - time.time()) < 600
    assert rec["eventTime"] == e["EventTime"].astimezone(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def test_every_lookup_attribute(populated):
    c = populated.client("cloudtrail")
    all_events = lookup_all(c)
    assert "GetCallerIdentity" in names(all_events)
    e = by(c, "EventId", all_events[0]["EventId"])
    assert [x["EventId"] for x in e] == [all_events[0]["EventId"]]
    assert names(by(c, "EventName", "GenerateRandom")) == ["GenerateRandom"] * 3
    ro = by(c, "ReadOnly", "false")
    assert sorted(set(names(ro))) == ["AddTags", "CreateTrail"]
    assert all(x["ReadOnly"] == "true" for x in by(c, "ReadOnly", "true"))
    assert {x["Username"] for x in by(c, "Username", "root")} == {"root"}
    assert by(c, "Username", "nobody") == []
    rt = by(c, "ResourceType", "AWS::CloudTrail::Trail")
    assert sorted(names(rt)) == ["AddTags", "CreateTrail", "GetTrail"]
    rn = by(c, "ResourceName", populated.trail_arn)
    assert sorted(names(rn)) == ["AddTags", "CreateTrail", "GetTrail"]
    es = by(c, "EventSource", "sts.amazonaws.com")
    assert names(es) == ["GetCallerIdentity"]
    ak = by(c, "AccessKeyId", populated.access_key)
    assert len(ak) >= 8 and {x["AccessKeyId"] for x in ak} == {populated.access_key}


def test_newest_first_and_only_this_region(populated):
    c = populated.client("cloudtrail")
    ev = lookup_all(c)
    times = [x["EventTime"] for x in ev]
    assert times == sorted(times, reverse=True)
    assert all(json.loads(x["CloudTrailEvent"])["awsRegion"] == "us-east-1" for x in ev)
    eu = populated.client("cloudtrail", region="eu-west-1")
    eu_events = by(eu, "EventName", "GenerateRandom")
    assert len(eu_events) == 1
    assert json.loads(eu_events[0]["CloudTrailEvent"])["awsRegion"] == "eu-west-1"


def test_lookup_with_the_cli(populated):
    out = populated.aws("cloudtrail", "lookup-events", "--lookup-attributes",
                        "AttributeKey=EventName,AttributeValue=CreateTrail")
    assert [e["EventName"] for e in out["Events"]] == ["CreateTrail"]
    start = (datetime.datetime.utcnow() - datetime.timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    end = (datetime.datetime.utcnow() + datetime.timedelta(minutes=5)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    out = populated.aws("cloudtrail", "lookup-events", "--lookup-attributes",
                        "AttributeKey=Username,AttributeValue=root", "--start-time", start,
                        "--end-time", end)
    assert "CreateTrail" in [e["EventName"] for e in out["Events"]]
    out = populated.aws("cloudtrail", "lookup-events", "--lookup-attributes",
                        "AttributeKey=Username,AttributeValue=root", "--end-time", start)
    assert out["Events"] == []


def test_time_range(populated):
    c = populated.client("cloudtrail")
    now = datetime.datetime.now(datetime.timezone.utc)
    with pytest.raises(ClientError) as e:
        c.lookup_events(StartTime=now, EndTime=now - datetime.timedelta(hours=1))
    assert client_error_code(e.value) == "InvalidTimeRangeException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert c.lookup_events(EndTime=now - datetime.timedelta(days=1))["Events"] == []
    assert c.lookup_events(StartTime=now + datetime.timedelta(hours=1))["Events"] == []
    recent = lookup_all(c, StartTime=now - datetime.timedelta(hours=1),
                        EndTime=now + datetime.timedelta(minutes=5))
    assert "CreateTrail" in names(recent)
    # an event's own second covers it: EndTime is inclusive
    ev = by(c, "EventName", "CreateTrail")[0]
    t = ev["EventTime"]
    assert names(by(c, "EventName", "CreateTrail", StartTime=t, EndTime=t)) == ["CreateTrail"]


def test_parameter_errors(populated):
    c = populated.client("cloudtrail", parameter_validation=False)
    with pytest.raises(ClientError) as e:
        c.lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "CreateTrail"},
            {"AttributeKey": "Username", "AttributeValue": "root"}])
    assert client_error_code(e.value) == "InvalidLookupAttributesException"
    with pytest.raises(ClientError) as e:
        c.lookup_events(LookupAttributes=[{"AttributeKey": "Colour", "AttributeValue": "x"}])
    assert client_error_code(e.value) in ("InvalidLookupAttributesException",
                                          "InvalidParameterException")
    for n in (0, 51):
        with pytest.raises(ClientError) as e:
            c.lookup_events(MaxResults=n)
        assert client_error_code(e.value) == "InvalidParameterException"
        assert "maxResults" in e.value.response["Error"]["Message"]
    # moat records no Insights events
    assert c.lookup_events(EventCategory="insight")["Events"] == []


def test_pagination(fresh_moat):
    m = fresh_moat(env=FAST)
    kms = m.client("kms")
    for _ in range(23):
        kms.generate_random(NumberOfBytes=1)
    c = m.client("cloudtrail")
    attrs = [{"AttributeKey": "EventName", "AttributeValue": "GenerateRandom"}]
    seen, token, pages = [], None, 0
    while True:
        kw = {"NextToken": token} if token else {}
        page = c.lookup_events(LookupAttributes=attrs, MaxResults=10, **kw)
        assert len(page["Events"]) <= 10
        seen += [e["EventId"] for e in page["Events"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == 23 and len(set(seen)) == 23 and pages == 3
    # botocore's paginator drives the same tokens
    paginator = c.get_paginator("lookup_events")
    got = [e["EventId"] for p in paginator.paginate(LookupAttributes=attrs,
                                                    PaginationConfig={"PageSize": 7})
           for e in p["Events"]]
    assert got == seen
    # 23 GenerateRandom and 7 LookupEvents calls: one default page (up to 50) holds them
    page = c.lookup_events()
    assert len(page["Events"]) == 30 and "NextToken" not in page


def test_tokens_are_bound_to_their_query(fresh_moat):
    m = fresh_moat(env=FAST)
    kms = m.client("kms")
    for _ in range(4):
        kms.generate_random(NumberOfBytes=1)
    c = m.client("cloudtrail")
    attrs = [{"AttributeKey": "EventName", "AttributeValue": "GenerateRandom"}]
    token = c.lookup_events(LookupAttributes=attrs, MaxResults=2)["NextToken"]
    assert len(c.lookup_events(LookupAttributes=attrs, MaxResults=2, NextToken=token)[
        "Events"]) == 2
    other = [{"AttributeKey": "EventSource", "AttributeValue": "kms.amazonaws.com"}]
    bad_tokens = [token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "garbage", "x" * 300,
                  token + "A"]
    for kw in ({"LookupAttributes": other}, {"LookupAttributes": attrs, "StartTime":
                                             datetime.datetime(2020, 1, 1)}, {}):
        with pytest.raises(ClientError) as e:
            c.lookup_events(NextToken=token, **kw)
        assert client_error_code(e.value) == "InvalidNextTokenException"
    for t in bad_tokens:
        with pytest.raises(ClientError) as e:
            c.lookup_events(LookupAttributes=attrs, NextToken=t)
        assert client_error_code(e.value) == "InvalidNextTokenException", t
    # a token stays good across a restart (sealed under the root key)
    assert m.restart() == 0
    c = m.client("cloudtrail")
    assert len(c.lookup_events(LookupAttributes=attrs, MaxResults=2, NextToken=token)[
        "Events"]) == 2


def test_management_events_only(populated):
    """LookupEvents shows management events; every event moat records so far is one."""
    c = populated.client("cloudtrail")
    for e in lookup_all(c):
        assert json.loads(e["CloudTrailEvent"])["managementEvent"] is True


def test_rate_limit_is_aws_default(fresh_moat):
    m = fresh_moat()
    c = m.client("cloudtrail")
    codes = []
    for _ in range(20):
        try:
            c.lookup_events(MaxResults=1)
            codes.append("ok")
        except ClientError as e:
            codes.append(client_error_code(e))
            assert e.response["Error"]["Message"] == "Rate exceeded"
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert codes[0] == "ok" and "ThrottlingException" in codes
    assert set(codes) == {"ok", "ThrottlingException"}
    # the limit is per account and region
    m.client("cloudtrail", region="eu-north-1").lookup_events(MaxResults=1)
    # throttled calls are audited like any other
    time.sleep(1.1)
    ev = by(m.client("cloudtrail", region="eu-north-1"), "EventName", "LookupEvents")
    assert ev  # eu-north-1's own call
    time.sleep(1.1)
    ev = lookup_all(m.client("cloudtrail"), LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "LookupEvents"}])
    errors = [json.loads(x["CloudTrailEvent"]).get("errorCode") for x in ev]
    # (botocore may retry a throttled call itself: each attempt is a request of its own)
    assert errors.count("ThrottlingException") >= codes.count("ThrottlingException")
    assert errors.count(None) >= codes.count("ok")


def _lookup_at(m, when, attrs):
    body = json.dumps({"LookupAttributes": attrs}).encode()
    h = rawsig.sign("POST", "127.0.0.1:%d" % m.port, "/", [], {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"},
        body, m.access_key, m.secret_key, "us-east-1", "cloudtrail", when=when)
    status, _, data = rawsig.send(m.port, "POST", "/", h, body)
    assert status == 200, data
    return json.loads(data)["Events"]


def test_ninety_day_window(fresh_moat):
    m = fresh_moat(args=["--allow-test-clock"], env=FAST)
    m.client("kms").generate_random(NumberOfBytes=2)
    attrs = [{"AttributeKey": "EventName", "AttributeValue": "GenerateRandom"}]
    now = datetime.datetime.now(datetime.timezone.utc)
    assert len(_lookup_at(m, now, attrs)) == 1
    import urllib.request
    req = urllib.request.Request(m.endpoint + "/_moat/clock", method="POST",
                                 data=json.dumps({"advance_seconds": 89 * 86400}).encode())
    urllib.request.urlopen(req).read()
    assert len(_lookup_at(m, now + datetime.timedelta(days=89), attrs)) == 1
    req = urllib.request.Request(m.endpoint + "/_moat/clock", method="POST",
                                 data=json.dumps({"advance_seconds": 2 * 86400}).encode())
    urllib.request.urlopen(req).read()
    assert _lookup_at(m, now + datetime.timedelta(days=91), attrs) == []
    # the record is still in the audit log: the window only limits LookupEvents
    assert m.stop() == 0
    import subprocess
    from moat_harness import MOAT_BIN
    p = subprocess.run([MOAT_BIN, "audit", "verify", "--data-dir", m.data_dir] +
                       (["--store", m.store_url] if m.store_url else []),
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_events_survive_restart(fresh_moat):
    m = fresh_moat(env=FAST)
    rid = m.client("kms").generate_random(NumberOfBytes=3)["ResponseMetadata"]["RequestId"]
    assert m.restart() == 0
    ev = by(m.client("cloudtrail"), "EventName", "GenerateRandom")
    assert [json.loads(e["CloudTrailEvent"])["requestID"] for e in ev] == [rid]


def test_rate_limit_is_configurable(fresh_moat):
    m = fresh_moat(args=["--lookup-events-rate", "0"])
    c = m.client("cloudtrail")
    for _ in range(15):
        c.lookup_events(MaxResults=1)  # no limit: none is throttled
    import subprocess
    from moat_harness import MOAT_BIN
    p = subprocess.run([MOAT_BIN, "serve", "--data-dir", m.data_dir, "--listen", "127.0.0.1:0",
                        "--lookup-events-rate", "fast"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode != 0
    out = subprocess.run([MOAT_BIN, "serve", "--help"], capture_output=True, text=True).stdout
    assert "--lookup-events-rate" in out

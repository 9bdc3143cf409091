"""CloudTrail trail configuration with real clients: CreateTrail, UpdateTrail,
DeleteTrail, GetTrail, DescribeTrails, ListTrails, GetTrailStatus, StartLogging,
StopLogging, PutEventSelectors, GetEventSelectors and the tagging operations,
with AWS's errors for bad input."""
import pytest
from botocore.exceptions import ClientError

from moat_harness import client_error_code

ACCOUNT = "000000000000"


def arn(name, region="us-east-1", account=ACCOUNT):
    return "arn:aws:cloudtrail:%s:%s:trail/%s" % (region, account, name)


def err(e):
    return client_error_code(e.value), e.value.response["Error"]["Message"]


@pytest.fixture
def ct(fresh_moat):
    m = fresh_moat()
    return m, m.client("cloudtrail")


def test_create_get_describe_list(ct):
    m, c = ct
    r = c.create_trail(Name="main-trail", S3BucketName="audit-bucket", S3KeyPrefix="logs",
                       EnableLogFileValidation=True, TagsList=[{"Key": "team", "Value": "sec"}])
    assert r["Name"] == "main-trail" and r["TrailARN"] == arn("main-trail")
    assert r["S3BucketName"] == "audit-bucket" and r["S3KeyPrefix"] == "logs"
    assert r["IncludeGlobalServiceEvents"] is True and r["IsMultiRegionTrail"] is False
    assert r["LogFileValidationEnabled"] is True and r["IsOrganizationTrail"] is False
    t = c.get_trail(Name="main-trail")["Trail"]
    assert t["HomeRegion"] == "us-east-1" and t["HasCustomEventSelectors"] is False
    assert t["HasInsightSelectors"] is False
    assert c.get_trail(Name=arn("main-trail"))["Trail"]["Name"] == "main-trail"
    trails = c.describe_trails()["trailList"]
    assert [x["Name"] for x in trails] == ["main-trail"]
    assert c.describe_trails(trailNameList=["nope", "main-trail"])["trailList"][0]["Name"] == \
        "main-trail"
    assert c.describe_trails(trailNameList=["nope-trail"])["trailList"] == []
    assert c.list_trails()["Trails"] == [
        {"TrailARN": arn("main-trail"), "Name": "main-trail", "HomeRegion": "us-east-1"}]
    # a new trail is not logging until StartLogging, as with the API in AWS
    status = c.get_trail_status(Name="main-trail")
    assert status["IsLogging"] is False and "LatestDeliveryError" not in status


@pytest.mark.slow  # a long aws CLI flow: run with each client, not each store
def test_create_trail_with_the_cli(fresh_moat):
    m = fresh_moat()
    out = m.aws("cloudtrail", "create-trail", "--name", "cli-trail", "--s3-bucket-name",
                "cli-bucket", "--is-multi-region-trail")
    assert out["TrailARN"] == arn("cli-trail") and out["IsMultiRegionTrail"] is True
    m.aws("cloudtrail", "start-logging", "--name", "cli-trail")
    assert m.aws("cloudtrail", "get-trail-status", "--name", "cli-trail")["IsLogging"] is True
    out = m.aws("cloudtrail", "describe-trails")
    assert out["trailList"][0]["Name"] == "cli-trail"
    m.aws("cloudtrail", "delete-trail", "--name", "cli-trail")
    assert m.aws("cloudtrail", "list-trails")["Trails"] == []


def test_logging_and_delivery_status(ct):
    m, c = ct
    c.create_trail(Name="t-status", S3BucketName="bkt-status", SnsTopicName="topic1",
                   EnableLogFileValidation=True,
                   CloudWatchLogsLogGroupArn="arn:aws:logs:us-east-1:%s:log-group:ct:*" % ACCOUNT,
                   CloudWatchLogsRoleArn="arn:aws:iam::%s:role/ct-logs" % ACCOUNT)
    assert c.start_logging(Name="t-status")["ResponseMetadata"]["HTTPStatusCode"] == 200
    s = c.get_trail_status(Name="t-status")
    assert s["IsLogging"] is True and "StartLoggingTime" in s
    # delivery cannot happen yet: the status says so instead of pretending
    assert "bkt-status" in s["LatestDeliveryError"] and "S3" in s["LatestDeliveryError"]
    assert "S3" in s["LatestDigestDeliveryError"]
    assert "SNS" in s["LatestNotificationError"]
    assert "CloudWatch Logs" in s["LatestCloudWatchLogsDeliveryError"]
    assert "LatestDeliveryTime" not in s
    c.start_logging(Name="t-status")  # idempotent
    c.stop_logging(Name=arn("t-status"))
    s = c.get_trail_status(Name="t-status")
    assert s["IsLogging"] is False and s["StopLoggingTime"] >= s["StartLoggingTime"]


def test_update_trail(ct):
    m, c = ct
    c.create_trail(Name="t-upd", S3BucketName="bkt-one", SnsTopicName="topic-a")
    r = c.update_trail(Name="t-upd", S3BucketName="bkt-two", S3KeyPrefix="p",
                       IsMultiRegionTrail=True,
                       KmsKeyId="alias/trail-key")
    assert r["S3BucketName"] == "bkt-two" and r["S3KeyPrefix"] == "p"
    assert r["IsMultiRegionTrail"] is True
    assert r["KmsKeyId"] == "arn:aws:kms:us-east-1:%s:alias/trail-key" % ACCOUNT
    assert r["SnsTopicARN"] == "arn:aws:sns:us-east-1:%s:topic-a" % ACCOUNT
    # empty strings remove optional destinations
    r = c.update_trail(Name="t-upd", S3KeyPrefix="", SnsTopicName="", KmsKeyId="")
    assert "S3KeyPrefix" not in r and "SnsTopicName" not in r and "KmsKeyId" not in r
    t = c.get_trail(Name="t-upd")["Trail"]
    assert t["S3BucketName"] == "bkt-two" and t["IsMultiRegionTrail"] is True
    with pytest.raises(ClientError) as e:
        c.update_trail(Name="t-upd", IncludeGlobalServiceEvents=False)
    assert err(e) == ("InvalidParameterCombinationException",
                      "Multi-Region trail must include global service events.")
    with pytest.raises(ClientError) as e:
        c.update_trail(Name="no-such-trail", S3BucketName="bkt-two")
    assert client_error_code(e.value) == "TrailNotFoundException"


def test_delete_trail(ct):
    m, c = ct
    c.create_trail(Name="t-del", S3BucketName="bkt-del")
    c.delete_trail(Name=arn("t-del"))
    with pytest.raises(ClientError) as e:
        c.get_trail(Name="t-del")
    assert err(e) == ("TrailNotFoundException",
                      "Unknown trail: t-del for the user: %s" % ACCOUNT)
    with pytest.raises(ClientError) as e:
        c.delete_trail(Name="t-del")
    assert client_error_code(e.value) == "TrailNotFoundException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # the name is free again
    c.create_trail(Name="t-del", S3BucketName="bkt-del")


@pytest.mark.parametrize("name,fragment", [
    ("ab", "too short"),
    ("a" * 129, "too long"),
    ("-abc", "must starts with a letter or number"),
    ("abc_", "must ends with a letter or number"),
    ("my--trail", "adjacent"),
    ("my trail", "can only contain"),
    ("192.168.5.4", "IP address"),
])
def test_invalid_trail_names(ct, name, fragment):
    m, c = ct
    with pytest.raises(ClientError) as e:
        c.create_trail(Name=name, S3BucketName="bkt-names")
    code, msg = err(e)
    assert code == "InvalidTrailNameException" and fragment in msg


def test_create_trail_parameter_errors(ct):
    m, c = ct
    cases = [
        (dict(S3BucketName="Bad_Bucket"), "InvalidS3BucketNameException"),
        (dict(S3BucketName="ab"), "InvalidS3BucketNameException"),
        (dict(S3BucketName="bkt", S3KeyPrefix="x" * 201), "InvalidS3PrefixException"),
        (dict(S3BucketName="bkt-ok", SnsTopicName="bad topic"), "InvalidSnsTopicNameException"),
        (dict(S3BucketName="bkt-ok", KmsKeyId="not-a-key"), "InvalidKmsKeyIdException"),
        (dict(S3BucketName="bkt-ok",
              CloudWatchLogsLogGroupArn="arn:aws:logs:us-east-1:%s:log-group:g:*" % ACCOUNT),
         "InvalidCloudWatchLogsRoleArnException"),
        (dict(S3BucketName="bkt-ok", CloudWatchLogsLogGroupArn="not-an-arn",
              CloudWatchLogsRoleArn="arn:aws:iam::%s:role/r" % ACCOUNT),
         "InvalidCloudWatchLogsLogGroupArnException"),
        (dict(S3BucketName="bkt-ok", IsMultiRegionTrail=True, IncludeGlobalServiceEvents=False),
         "InvalidParameterCombinationException"),
        (dict(S3BucketName="bkt-ok", TagsList=[{"Key": "aws:x", "Value": "y"}]),
         "InvalidTagParameterException"),
        (dict(S3BucketName="bkt-ok", TagsList=[{"Key": "k%d" % i} for i in range(51)]),
         "TagsLimitExceededException"),
    ]
    for kw, code in cases:
        with pytest.raises(ClientError) as e:
            c.create_trail(Name="t-bad", **kw)
        assert client_error_code(e.value) == code, kw
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # nothing was half-written by any of them
    assert c.describe_trails()["trailList"] == []


def test_organization_trail_needs_an_organization(ct):
    m, c = ct
    with pytest.raises(ClientError) as e:
        c.create_trail(Name="org-trail", S3BucketName="bkt-org", IsOrganizationTrail=True)
    code, msg = err(e)
    assert code in ("OrganizationsNotInUseException", "NotOrganizationMasterAccountException",
                    "OrganizationNotInAllFeaturesModeException",
                    "CloudTrailAccessNotEnabledException")
    assert c.describe_trails()["trailList"] == []


def test_trail_already_exists_and_quota(ct):
    m, c = ct
    for i in range(5):
        c.create_trail(Name="q-%d" % i, S3BucketName="bkt-quota")
    with pytest.raises(ClientError) as e:
        c.create_trail(Name="q-0", S3BucketName="bkt-quota")
    assert err(e) == ("TrailAlreadyExistsException",
                      "Trail q-0 already exists for customer: %s" % ACCOUNT)
    with pytest.raises(ClientError) as e:
        c.create_trail(Name="q-5", S3BucketName="bkt-quota")
    assert client_error_code(e.value) == "MaximumNumberOfTrailsExceededException"
    # another region has room of its own
    m.client("cloudtrail", region="eu-west-1").create_trail(Name="q-5", S3BucketName="bkt-quota")


def test_multi_region_trails_are_shadows_elsewhere(ct):
    m, c = ct
    c.create_trail(Name="global-trail", S3BucketName="bkt-mr", IsMultiRegionTrail=True)
    c.create_trail(Name="local-trail", S3BucketName="bkt-mr")
    eu = m.client("cloudtrail", region="eu-west-1")
    names = [t["Name"] for t in eu.describe_trails()["trailList"]]
    assert names == ["global-trail"]
    t = eu.get_trail(Name="global-trail")["Trail"]
    assert t["HomeRegion"] == "us-east-1" and t["TrailARN"] == arn("global-trail")
    assert eu.describe_trails(includeShadowTrails=False)["trailList"] == []
    with pytest.raises(ClientError) as e:
        eu.get_trail(Name="local-trail")
    assert client_error_code(e.value) == "TrailNotFoundException"
    # changes only from the home region
    for call in (lambda: eu.stop_logging(Name="global-trail"),
                 lambda: eu.update_trail(Name="global-trail", S3BucketName="other-bkt"),
                 lambda: eu.delete_trail(Name=arn("global-trail")),
                 lambda: eu.put_event_selectors(TrailName="global-trail", EventSelectors=[])):
        with pytest.raises(ClientError) as e:
            call()
        assert client_error_code(e.value) == "InvalidHomeRegionException"
    # its name is taken in every region
    with pytest.raises(ClientError) as e:
        eu.create_trail(Name="global-trail", S3BucketName="bkt-mr")
    assert client_error_code(e.value) == "TrailAlreadyExistsException"
    # ListTrails lists every trail of the account, with its home region
    listed = sorted((t["Name"], t["HomeRegion"]) for t in eu.list_trails()["Trails"])
    assert listed == [("global-trail", "us-east-1"), ("local-trail", "us-east-1")]


def test_arn_errors(ct):
    m, c = ct
    with pytest.raises(ClientError) as e:
        c.get_trail(Name="arn:aws:cloudtrail:us-east-1:%s:nottrail/x" % ACCOUNT)
    assert client_error_code(e.value) == "CloudTrailARNInvalidException"
    with pytest.raises(ClientError) as e:
        c.get_trail(Name=arn("someone-elses", account="111122223333"))
    assert client_error_code(e.value) == "TrailNotFoundException"


def test_default_and_basic_event_selectors(ct):
    m, c = ct
    c.create_trail(Name="t-sel", S3BucketName="bkt-sel")
    r = c.get_event_selectors(TrailName="t-sel")
    assert r["TrailARN"] == arn("t-sel")
    assert r["EventSelectors"] == [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                                    "DataResources": [], "ExcludeManagementEventSources": []}]
    sel = [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
            "ExcludeManagementEventSources": ["kms.amazonaws.com"],
            "DataResources": [{"Type": "AWS::S3::Object",
                               "Values": ["arn:aws:s3:::bucket-a/", "arn:aws:s3"]}]}]
    r = c.put_event_selectors(TrailName="t-sel", EventSelectors=sel)
    assert r["EventSelectors"] == sel and r["TrailARN"] == arn("t-sel")
    assert c.get_event_selectors(TrailName=arn("t-sel"))["EventSelectors"] == sel
    assert c.get_trail(Name="t-sel")["Trail"]["HasCustomEventSelectors"] is True
    # defaults are filled in
    r = c.put_event_selectors(TrailName="t-sel", EventSelectors=[{}])
    assert r["EventSelectors"] == [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                                    "DataResources": [], "ExcludeManagementEventSources": []}]


def test_advanced_event_selectors(ct):
    m, c = ct
    c.create_trail(Name="t-adv", S3BucketName="bkt-adv")
    adv = [
        {"Name": "management writes", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]},
            {"Field": "readOnly", "Equals": ["false"]},
            {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}]},
        {"Name": "s3 objects", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::bucket-a/"]},
            {"Field": "eventName", "NotEquals": ["GetObject"]}]},
    ]
    r = c.put_event_selectors(TrailName="t-adv", AdvancedEventSelectors=adv)
    assert r["AdvancedEventSelectors"] == adv and "EventSelectors" not in r
    got = c.get_event_selectors(TrailName="t-adv")
    assert got["AdvancedEventSelectors"] == adv and "EventSelectors" not in got
    # switching back to basic selectors replaces them
    c.put_event_selectors(TrailName="t-adv", EventSelectors=[{"ReadWriteType": "ReadOnly"}])
    got = c.get_event_selectors(TrailName="t-adv")
    assert "AdvancedEventSelectors" not in got and got["EventSelectors"][0]["ReadWriteType"] == \
        "ReadOnly"


@pytest.mark.parametrize("kw,fragment", [
    (dict(EventSelectors=[{}] * 6), "at most 5"),
    (dict(EventSelectors=[{"DataResources": [{"Type": "AWS::EC2::Instance",
                                              "Values": ["arn:aws:ec2"]}]}]), "not valid"),
    (dict(EventSelectors=[{"DataResources": [{"Type": "AWS::S3::Object",
                                              "Values": ["bucket-a"]}]}]), "not a valid ARN"),
    (dict(EventSelectors=[{"ExcludeManagementEventSources": ["iam.amazonaws.com"]}]),
     "cannot be excluded"),
    (dict(EventSelectors=[{"DataResources": [{"Type": "AWS::S3::Object",
                                              "Values": ["arn:aws:s3:::b%d/" % i
                                                         for i in range(251)]}]}]), "250"),
    (dict(EventSelectors=[{}], AdvancedEventSelectors=[
        {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]), "not both"),
    (dict(AdvancedEventSelectors=[{"FieldSelectors": [{"Field": "readOnly", "Equals": ["true"]}]}]),
     "eventCategory"),
    (dict(AdvancedEventSelectors=[{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]}]}]), "resources.type"),
    (dict(AdvancedEventSelectors=[{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "eventName", "Equals": ["CreateUser"]}]}]), "not supported for Management"),
    (dict(AdvancedEventSelectors=[{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "readOnly", "Equals": ["maybe"]}]}]), "true or false"),
    (dict(AdvancedEventSelectors=[{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Sometimes"]}]}]), "not valid"),
    (dict(AdvancedEventSelectors=[{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::b/%d" % i for i in range(500)]}]}]),
     "500"),
    (dict(AdvancedEventSelectors=[{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "noSuchField", "Equals": ["x"]}]}]), "not a valid"),
])
def test_invalid_event_selectors(ct, kw, fragment):
    m, c = ct
    c.create_trail(Name="t-badsel", S3BucketName="bkt-badsel")
    with pytest.raises(ClientError) as e:
        c.put_event_selectors(TrailName="t-badsel", **kw)
    code, msg = err(e)
    assert code == "InvalidEventSelectorsException" and fragment in msg, msg
    # the trail keeps what it had
    assert c.get_event_selectors(TrailName="t-badsel")["EventSelectors"][0]["ReadWriteType"] == \
        "All"


def test_tags(ct):
    m, c = ct
    t = c.create_trail(Name="t-tags", S3BucketName="bkt-tags",
                       TagsList=[{"Key": "a", "Value": "1"}])["TrailARN"]
    c.add_tags(ResourceId=t, TagsList=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"},
                                       {"Key": "novalue"}])
    tags = c.list_tags(ResourceIdList=[t])["ResourceTagList"]
    assert tags == [{"ResourceId": t, "TagsList": [{"Key": "a", "Value": "3"},
                                                  {"Key": "b", "Value": "2"},
                                                  {"Key": "novalue"}]}]
    c.remove_tags(ResourceId=t, TagsList=[{"Key": "a"}, {"Key": "absent"}])
    tags = c.list_tags(ResourceIdList=[t])["ResourceTagList"][0]["TagsList"]
    assert [x["Key"] for x in tags] == ["b", "novalue"]
    with pytest.raises(ClientError) as e:
        c.add_tags(ResourceId=t, TagsList=[{"Key": "k%d" % i, "Value": "v"} for i in range(49)])
    assert client_error_code(e.value) == "TagsLimitExceededException"
    assert len(c.list_tags(ResourceIdList=[t])["ResourceTagList"][0]["TagsList"]) == 2
    with pytest.raises(ClientError) as e:
        c.add_tags(ResourceId=t, TagsList=[{"Key": "dup", "Value": "1"},
                                           {"Key": "dup", "Value": "2"}])
    assert client_error_code(e.value) == "InvalidTagParameterException"
    for rid, code in ((arn("absent-trail"), "ResourceNotFoundException"),
                      ("t-tags", "CloudTrailARNInvalidException"),
                      ("arn:aws:cloudtrail:us-east-1:%s:eventdatastore/abc" % ACCOUNT,
                       "EventDataStoreNotFoundException"),
                      ("arn:aws:cloudtrail:us-east-1:%s:channel/abc" % ACCOUNT,
                       "ChannelNotFoundException")):
        with pytest.raises(ClientError) as e:
            c.add_tags(ResourceId=rid, TagsList=[{"Key": "x", "Value": "y"}])
        assert client_error_code(e.value) == code, rid
    with pytest.raises(ClientError) as e:
        c.list_tags(ResourceIdList=[arn("x%d-trail" % i) for i in range(21)])
    assert client_error_code(e.value) == "InvalidParameterException"


def test_trails_survive_restart(fresh_moat):
    m = fresh_moat()
    c = m.client("cloudtrail")
    c.create_trail(Name="durable-trail", S3BucketName="bkt-durable")
    c.start_logging(Name="durable-trail")
    c.put_event_selectors(TrailName="durable-trail",
                          EventSelectors=[{"ReadWriteType": "WriteOnly"}])
    assert m.restart() == 0
    c = m.client("cloudtrail")
    assert c.get_trail_status(Name="durable-trail")["IsLogging"] is True
    assert c.get_event_selectors(TrailName="durable-trail")["EventSelectors"][0][
        "ReadWriteType"] == "WriteOnly"

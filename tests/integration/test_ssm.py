"""SSM Parameter Store through boto3 and the aws CLI against a live moat: names and
hierarchies, types, versions, selectors, labels, history, tiers and their limits,
DescribeParameters and GetParametersByPath with filters and pagination, tags, public
parameters, CloudTrail records and restart survival."""
import json
import os
import shutil
import sqlite3
import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError


ACCOUNT = "000000000000"
REGION = "us-east-1"


def uniq(prefix="/t"):
    return "%s/%s" % (prefix, uuid.uuid4().hex[:10])


def err(exc):
    e = exc.value.response
    return e["Error"]["Code"], e["Error"].get("Message", ""), e["ResponseMetadata"]["HTTPStatusCode"]


def store_rows(m, sql):
    """Rows of a query on the server's store (SQLite file or PostgreSQL)."""
    if m.store_url and m.store_url.startswith("postgres"):
        psql = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
        out = subprocess.run([psql, m.store_url, "-At", "-c", sql], check=True,
                             capture_output=True, text=True).stdout
        return [line for line in out.split("\n") if line]
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(m.data_dir, "moat.db"), uri=True)
    try:
        return [r[0].decode() if isinstance(r[0], bytes) else r[0] for r in db.execute(sql)]
    finally:
        db.close()


def audit_records(m):
    return [json.loads(r) for r in store_rows(m, "SELECT record FROM audit ORDER BY seq")]


@pytest.fixture(scope="module")
def ssm(moat):
    return moat.client("ssm")


# ---- basics ------------------------------------------------------------------


def test_put_get_string_types(ssm):
    base = uniq()
    r = ssm.put_parameter(Name=base + "/s", Value="hello", Type="String", Description="d1")
    assert r["Version"] == 1 and r["Tier"] == "Standard"
    ssm.put_parameter(Name=base + "/l", Value="a,b,c", Type="StringList")
    p = ssm.get_parameter(Name=base + "/s")["Parameter"]
    assert p["Name"] == base + "/s" and p["Type"] == "String" and p["Value"] == "hello"
    assert p["Version"] == 1 and p["DataType"] == "text"
    assert p["ARN"] == "arn:aws:ssm:%s:%s:parameter%s/s" % (REGION, ACCOUNT, base)
    assert "Selector" not in p
    p = ssm.get_parameter(Name=base + "/l")["Parameter"]
    assert p["Type"] == "StringList" and p["Value"] == "a,b,c"


def test_secure_string_is_sealed(ssm):
    name = uniq()
    ssm.put_parameter(Name=name, Value="pa55w0rd!", Type="SecureString")
    clear = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert clear["Value"] == "pa55w0rd!" and clear["Type"] == "SecureString"
    sealed = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    assert sealed != "pa55w0rd!" and "pa55w0rd" not in sealed
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])
    assert meta["Parameters"][0]["KeyId"] == "alias/aws/ssm"


def test_overwrite_and_versions(ssm):
    name = uniq()
    ssm.put_parameter(Name=name, Value="v1", Type="String", Description="keep me",
                      AllowedPattern="^v[0-9]+$")
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=name, Value="v2", Type="String")
    code, msg, status = err(e)
    assert code == "ParameterAlreadyExists" and status == 400
    assert "overwrite" in msg
    r = ssm.put_parameter(Name=name, Value="v2", Overwrite=True)  # type carries over
    assert r["Version"] == 2
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])
    md = meta["Parameters"][0]
    assert md["Version"] == 2 and md["Description"] == "keep me"
    assert md["AllowedPattern"] == "^v[0-9]+$" and md["Type"] == "String"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=name, Value="nope", Overwrite=True)
    code, msg, _ = err(e)
    assert code == "ParameterPatternMismatchException"
    assert msg == "Parameter value, cannot be validated against allowedPattern: ^v[0-9]+$"
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "v2"


def test_type_required_and_type_rules(ssm):
    name = uniq()
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=name, Value="x")
    assert err(e)[:2] == ("ValidationException",
                          "A parameter type is required when you create a parameter.")
    ssm.put_parameter(Name=name, Value="x", Type="String")
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=name, Value="x", Type="SecureString", Overwrite=True)
    assert err(e)[0] == "HierarchyTypeMismatchException"
    flat = "flat" + uuid.uuid4().hex[:8]
    ssm.put_parameter(Name=flat, Value="x", Type="SecureString")
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=flat, Value="x", Type="String", Overwrite=True)
    assert err(e)[0] == "HierarchyTypeMismatchException"
    assert ssm.put_parameter(Name=flat, Value="y", Type="SecureString", Overwrite=True)["Version"] == 2
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=uniq(), Value="x", Type="String", KeyId="alias/aws/ssm")
    assert err(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=uniq(), Value="", Type="String")
    assert err(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=uniq(), Value="x", Type="String", AllowedPattern="([a-z")
    assert err(e)[0] == "InvalidAllowedPatternException"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=uniq(), Value="x", Type="String", DataType="Text")
    assert err(e)[1] == ("The following data type is not supported: Text (Data type names are "
                         "all lowercase.)")
    ssm.put_parameter(Name=uniq(), Value="ami-0123456789abcdef0", Type="String",
                      DataType="aws:ec2:image")
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=uniq(), Value="not-an-ami", Type="String", DataType="aws:ec2:image")
    assert err(e)[0] == "ValidationException"


def test_type_enum_is_validated(moat):
    ssm = moat.client("ssm", parameter_validation=False)
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=uniq(), Value="x", Type="Number")
    code, msg, status = err(e)
    assert code == "ValidationException" and status == 400
    assert "Member must satisfy enum value set" in msg


# ---- names ---------------------------------------------------------------------


@pytest.mark.parametrize("name,code,message", [
    ("awsThing", "ValidationException",
     'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).'),
    ("SSM-thing", "ValidationException",
     'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).'),
    ("/ssm/thing", "ValidationException", None),
    ("/aws/thing", "AccessDeniedException", "No access to reserved parameter name: /aws/thing."),
    ("a/b", "ValidationException", "Parameter name must be a fully qualified name."),
    ("/a//b", "ValidationException", None),
    ("/a/b/", "ValidationException", None),
    ("/a b", "ValidationException", None),
    ("/a/b$c", "ValidationException", None),
])
def test_name_rules(ssm, name, code, message):
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=name, Value="x", Type="String")
    got_code, got_msg, status = err(e)
    assert (got_code, status) == (code, 400)
    if message:
        assert got_msg == message
    else:
        assert "sub-paths divided by slash symbol" in got_msg


def test_hierarchy_depth(ssm):
    base = "/" + uuid.uuid4().hex[:6]
    fifteen = base + "".join("/l%d" % i for i in range(2, 16))
    assert fifteen.count("/") == 15
    ssm.put_parameter(Name=fifteen, Value="deep", Type="String")
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=fifteen + "/l16", Value="x", Type="String")
    assert err(e)[0] == "HierarchyLevelLimitExceededException"


def test_name_length_counts_the_arn(ssm):
    arn_prefix = len("arn:aws:ssm:%s:%s:parameter" % (REGION, ACCOUNT))
    ok = "/" + "n" * (1011 - arn_prefix - 1)
    ssm.put_parameter(Name=ok, Value="x", Type="String")
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=ok + "n", Value="x", Type="String")
    code, msg, _ = err(e)
    assert code == "ValidationException" and "1011" in msg


def test_one_level_names_with_or_without_slash(ssm):
    bare = "lvl" + uuid.uuid4().hex[:8]
    ssm.put_parameter(Name=bare, Value="one", Type="String")
    p = ssm.get_parameter(Name="/" + bare)["Parameter"]
    assert p["Value"] == "one"
    assert p["ARN"].endswith(":parameter/" + bare)
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/" + bare, Value="two", Type="String")
    assert err(e)[0] == "ParameterAlreadyExists"
    # spaces around a name are removed
    assert ssm.get_parameter(Name="  %s " % bare)["Parameter"]["Value"] == "one"


def test_spaces_inside_names_on_reads(ssm):
    for call, kw in ((ssm.get_parameter, {"Name": "/a b"}),
                     (ssm.get_parameters, {"Names": ["/ok", "/a b"]}),
                     (ssm.get_parameter_history, {"Name": "/a b"}),
                     (ssm.label_parameter_version, {"Name": "/a b", "Labels": ["x"]}),
                     (ssm.get_parameters_by_path, {"Path": "/a b"})):
        with pytest.raises(ClientError) as e:
            call(**kw)
        assert err(e)[0] == "ValidationException", call


def test_not_found_errors(ssm):
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=uniq())
    assert err(e)[0] == "ParameterNotFound" and err(e)[2] == 400
    with pytest.raises(ClientError) as e:
        ssm.delete_parameter(Name=uniq())
    assert err(e)[0] == "ParameterNotFound"
    with pytest.raises(ClientError) as e:
        ssm.get_parameter_history(Name=uniq())
    assert err(e)[0] == "ParameterNotFound"


# ---- selectors, GetParameters ------------------------------------------------------


def test_selectors_and_arns(ssm):
    name = uniq()
    ssm.put_parameter(Name=name, Value="one", Type="String")
    ssm.put_parameter(Name=name, Value="two", Type="String", Overwrite=True)
    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["stable"])
    p = ssm.get_parameter(Name=name + ":1")["Parameter"]
    assert (p["Value"], p["Version"], p["Selector"], p["Name"]) == ("one", 1, ":1", name)
    p = ssm.get_parameter(Name=name + ":stable")["Parameter"]
    assert (p["Value"], p["Selector"]) == ("one", ":stable")
    assert ssm.get_parameter(Name=name + ":2")["Parameter"]["Value"] == "two"
    arn = "arn:aws:ssm:%s:%s:parameter%s" % (REGION, ACCOUNT, name)
    p = ssm.get_parameter(Name=arn)["Parameter"]
    assert p["Value"] == "two" and p["Name"] == arn
    assert ssm.get_parameter(Name=arn + ":1")["Parameter"]["Value"] == "one"
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=name + ":7")
    code, msg, _ = err(e)
    assert code == "ParameterVersionNotFound"
    assert msg == ("Systems Manager could not find version 7 of %s. Verify the version and try "
                   "again." % name)
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=name + ":nolabel")
    assert err(e)[0] == "ParameterNotFound"
    other_account = "arn:aws:ssm:%s:111122223333:parameter%s" % (REGION, name)
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=other_account)
    assert err(e)[0] in ("ParameterNotFound", "AccessDeniedException")


def test_get_parameters(ssm):
    base = uniq()
    for n in ("c", "a", "b"):
        ssm.put_parameter(Name="%s/%s" % (base, n), Value=n.upper(), Type="String")
    ssm.put_parameter(Name=base + "/s", Value="secret-b", Type="SecureString")
    names = [base + "/c", base + "/a", base + "/missing", base + "/b:9", base + "/b:1",
             base + "/a", base + "/s"]
    r = ssm.get_parameters(Names=names, WithDecryption=True)
    got = [(p["Name"], p["Value"]) for p in r["Parameters"]]
    assert got == sorted(got)
    assert dict(got) == {base + "/a": "A", base + "/b": "B", base + "/c": "C",
                         base + "/s": "secret-b"}
    assert sorted(r["InvalidParameters"]) == sorted([base + "/missing", base + "/b:9"])
    r = ssm.get_parameters(Names=[base + "/s"])
    assert r["Parameters"][0]["Value"] != "secret-b"


def test_get_parameters_limit(moat):
    ssm = moat.client("ssm", parameter_validation=False)
    with pytest.raises(ClientError) as e:
        ssm.get_parameters(Names=["/x%d" % i for i in range(11)])
    code, msg, _ = err(e)
    assert code == "ValidationException" and "less than or equal to 10" in msg


# ---- history and labels ------------------------------------------------------------


def test_history(ssm):
    name = uniq()
    ssm.put_parameter(Name=name, Value="v1", Type="SecureString", Description="first")
    ssm.put_parameter(Name=name, Value="v2", Overwrite=True, Description="second")
    ssm.put_parameter(Name=name, Value="v3", Overwrite=True)
    ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["prod", "blue"])
    h = ssm.get_parameter_history(Name=name, WithDecryption=True)["Parameters"]
    assert [v["Version"] for v in h] == [1, 2, 3]
    assert [v["Value"] for v in h] == ["v1", "v2", "v3"]
    assert h[0]["Description"] == "first" and h[2]["Description"] == "second"
    assert sorted(h[1]["Labels"]) == ["blue", "prod"] and h[0]["Labels"] == []
    assert all(v["KeyId"] == "alias/aws/ssm" and v["Type"] == "SecureString" for v in h)
    assert h[0]["LastModifiedUser"] == "arn:aws:iam::%s:root" % ACCOUNT
    sealed = ssm.get_parameter_history(Name=name)["Parameters"]
    assert all(v["Value"] not in ("v1", "v2", "v3") for v in sealed)
    page = ssm.get_parameter_history(Name=name, MaxResults=2)
    assert [v["Version"] for v in page["Parameters"]] == [1, 2]
    rest = ssm.get_parameter_history(Name=name, MaxResults=2, NextToken=page["NextToken"])
    assert [v["Version"] for v in rest["Parameters"]] == [3] and "NextToken" not in rest
    with pytest.raises(ClientError) as e:
        ssm.get_parameter_history(Name=name, NextToken="garbage")
    assert err(e)[0] == "InvalidNextToken"


def test_labels(ssm):
    name = uniq()
    for i in range(3):
        ssm.put_parameter(Name=name, Value="v%d" % i, Type="String", Overwrite=i > 0)
    r = ssm.label_parameter_version(Name=name, Labels=["Prod", "1bad", "awsLabel", "ok.x-y_z",
                                                       "bad label"])
    assert r["ParameterVersion"] == 3
    assert sorted(r["InvalidLabels"]) == sorted(["1bad", "awsLabel", "bad label"])
    # moving a label to another version
    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["Prod"])
    assert ssm.get_parameter(Name=name + ":Prod")["Parameter"]["Version"] == 1
    h = {v["Version"]: v["Labels"] for v in ssm.get_parameter_history(Name=name)["Parameters"]}
    assert h[1] == ["Prod"] and h[3] == ["ok.x-y_z"]
    with pytest.raises(ClientError) as e:
        ssm.label_parameter_version(Name=name, ParameterVersion=9, Labels=["x"])
    assert err(e)[0] == "ParameterVersionNotFound"
    with pytest.raises(ClientError) as e:
        ssm.label_parameter_version(Name=name, ParameterVersion=2,
                                    Labels=["l%d" % i for i in range(11)])
    assert err(e)[0] in ("ParameterVersionLabelLimitExceeded", "ValidationException")
    ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["l%d" % i for i in range(10)])
    with pytest.raises(ClientError) as e:
        ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["eleventh"])
    assert err(e)[0] == "ParameterVersionLabelLimitExceeded"
    r = ssm.unlabel_parameter_version(Name=name, ParameterVersion=1, Labels=["Prod", "ghost"])
    assert r["RemovedLabels"] == ["Prod"] and r["InvalidLabels"] == ["ghost"]
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=name + ":Prod")
    assert err(e)[0] == "ParameterNotFound"


def test_hundred_versions(ssm):
    name = uniq()
    ssm.put_parameter(Name=name, Value="v1", Type="String")
    for i in range(2, 101):
        ssm.put_parameter(Name=name, Value="v%d" % i, Overwrite=True)
    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["oldest"])
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=name, Value="v101", Overwrite=True)
    code, msg, _ = err(e)
    assert code == "ParameterMaxVersionLimitExceeded"
    assert "Version 1, the oldest version, can't be deleted" in msg
    ssm.label_parameter_version(Name=name, ParameterVersion=50, Labels=["oldest"])
    assert ssm.put_parameter(Name=name, Value="v101", Overwrite=True)["Version"] == 101
    versions = []
    kw = {}
    while True:
        page = ssm.get_parameter_history(Name=name, **kw)
        versions += [v["Version"] for v in page["Parameters"]]
        if "NextToken" not in page:
            break
        kw = {"NextToken": page["NextToken"]}
    assert versions == list(range(2, 102))
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=name + ":1")
    assert err(e)[0] == "ParameterVersionNotFound"


# ---- tiers --------------------------------------------------------------------------


def test_tiers(ssm):
    big = "x" * 5000
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=uniq(), Value=big, Type="String")
    code, msg, _ = err(e)
    assert code == "ValidationException"
    assert msg.startswith("Standard tier parameters support a maximum parameter value of 4096")
    assert ssm.put_parameter(Name=uniq(), Value="x" * 4096, Type="String")["Tier"] == "Standard"
    assert ssm.put_parameter(Name=uniq(), Value=big, Type="String",
                             Tier="Advanced")["Tier"] == "Advanced"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=uniq(), Value="x" * 8193, Type="String", Tier="Advanced")
    assert err(e)[0] == "ValidationException"
    assert ssm.put_parameter(Name=uniq(), Value="small", Type="String",
                             Tier="Intelligent-Tiering")["Tier"] == "Standard"
    assert ssm.put_parameter(Name=uniq(), Value=big, Type="SecureString",
                             Tier="Intelligent-Tiering")["Tier"] == "Advanced"
    name = uniq()
    ssm.put_parameter(Name=name, Value="a", Type="String", Tier="Advanced")
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=name, Value="b", Overwrite=True, Tier="Standard")
    code, msg, _ = err(e)
    assert code == "ValidationException" and "downgrade" in msg
    assert ssm.put_parameter(Name=name, Value="b", Overwrite=True)["Tier"] == "Advanced"
    # a standard parameter can be upgraded
    name = uniq()
    ssm.put_parameter(Name=name, Value="a", Type="String")
    assert ssm.put_parameter(Name=name, Value=big, Overwrite=True,
                             Tier="Advanced")["Tier"] == "Advanced"
    # an advanced SecureString over 4 KB opens again
    name = uniq()
    ssm.put_parameter(Name=name, Value=big, Type="SecureString", Tier="Advanced")
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == big


def test_policies_need_advanced(ssm):
    pol = json.dumps([{"Type": "NoChangeNotification", "Version": "1.0",
                       "Attributes": {"After": "30", "Unit": "Days"}}])
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=uniq(), Value="x", Type="String", Policies=pol)
    assert err(e)[0] == "ValidationException"
    r = ssm.put_parameter(Name=uniq(), Value="x", Type="String", Policies=pol,
                          Tier="Intelligent-Tiering")
    assert r["Tier"] == "Advanced"


# ---- DescribeParameters -----------------------------------------------------------------


@pytest.fixture(scope="module")
def tree(ssm):
    base = "/" + uuid.uuid4().hex[:8]
    names = {
        base + "/app/db": ("String", "db"),
        base + "/app/key": ("SecureString", "k"),
        base + "/app/list": ("StringList", "1,2"),
        base + "/app/deep/x": ("String", "x"),
        base + "/app/deep/y": ("SecureString", "y"),
        base + "/other": ("String", "o"),
    }
    for n, (t, v) in sorted(names.items()):
        kw = {"Tags": [{"Key": "team", "Value": "blue" if "deep" in n else "red"}]}
        ssm.put_parameter(Name=n, Value=v, Type=t, **kw)
    ssm.put_parameter(Name=base + "/app/adv", Value="a", Type="String", Tier="Advanced")
    return base, names


def describe_all(ssm, **kw):
    out, token = [], None
    while True:
        args = dict(kw)
        if token:
            args["NextToken"] = token
        page = ssm.describe_parameters(**args)
        out += page["Parameters"]
        token = page.get("NextToken")
        if not token:
            return out


def test_describe_filters(ssm, tree):
    base, names = tree
    rec = describe_all(ssm, ParameterFilters=[{"Key": "Path", "Option": "Recursive",
                                               "Values": [base]}])
    assert sorted(p["Name"] for p in rec) == sorted(list(names) + [base + "/app/adv"])
    one = describe_all(ssm, ParameterFilters=[{"Key": "Path", "Values": [base + "/app"]}])
    assert sorted(p["Name"] for p in one) == sorted(
        [base + "/app/db", base + "/app/key", base + "/app/list", base + "/app/adv"])
    sec = describe_all(ssm, ParameterFilters=[
        {"Key": "Path", "Option": "Recursive", "Values": [base]},
        {"Key": "Type", "Values": ["SecureString"]}])
    assert sorted(p["Name"] for p in sec) == [base + "/app/deep/y", base + "/app/key"]
    assert all(p["KeyId"] == "alias/aws/ssm" for p in sec)
    key = describe_all(ssm, ParameterFilters=[
        {"Key": "Path", "Option": "Recursive", "Values": [base]},
        {"Key": "KeyId", "Values": ["alias/aws/ssm"]}])
    assert len(key) == 2
    blue = describe_all(ssm, ParameterFilters=[
        {"Key": "Path", "Option": "Recursive", "Values": [base]},
        {"Key": "tag:team", "Values": ["blue"]}])
    assert sorted(p["Name"] for p in blue) == [base + "/app/deep/x", base + "/app/deep/y"]
    tagged = describe_all(ssm, ParameterFilters=[
        {"Key": "Path", "Option": "Recursive", "Values": [base]}, {"Key": "tag:team"}])
    assert len(tagged) == 6
    begins = describe_all(ssm, ParameterFilters=[
        {"Key": "Name", "Option": "BeginsWith", "Values": [base + "/app/d"]}])
    assert sorted(p["Name"] for p in begins) == [base + "/app/db", base + "/app/deep/x",
                                                 base + "/app/deep/y"]
    contains = describe_all(ssm, ParameterFilters=[
        {"Key": "Name", "Option": "Contains", "Values": [base[1:] + "/app/li"]}])
    assert [p["Name"] for p in contains] == [base + "/app/list"]
    adv = describe_all(ssm, ParameterFilters=[
        {"Key": "Path", "Option": "Recursive", "Values": [base]},
        {"Key": "Tier", "Values": ["Advanced"]}])
    assert [p["Name"] for p in adv] == [base + "/app/adv"]
    legacy = describe_all(ssm, Filters=[{"Key": "Name", "Values": [base + "/oth"]}])
    assert [p["Name"] for p in legacy] == [base + "/other"]
    md = [p for p in rec if p["Name"] == base + "/app/db"][0]
    if "ARN" in ssm.meta.service_model.shape_for("ParameterMetadata").members:
        assert md["ARN"] == "arn:aws:ssm:%s:%s:parameter%s/app/db" % (REGION, ACCOUNT, base)
    assert md["Tier"] == "Standard" and md["Version"] == 1 and md["Policies"] == []
    assert md["LastModifiedUser"] == "arn:aws:iam::%s:root" % ACCOUNT


@pytest.mark.parametrize("filters,code", [
    ([{"Key": "Label", "Values": ["x"]}], "InvalidFilterKey"),
    ([{"Key": "Name", "Values": ["/a"]}, {"Key": "Name", "Values": ["/b"]}], "InvalidFilterKey"),
    ([{"Key": "Type", "Option": "Contains", "Values": ["String"]}], "InvalidFilterOption"),
    ([{"Key": "Path", "Option": "Equals", "Values": ["/a"]}], "InvalidFilterOption"),
    ([{"Key": "Type", "Values": ["Number"]}], "InvalidFilterValue"),
    ([{"Key": "Name"}], "InvalidFilterValue"),
    ([{"Key": "Path", "Values": ["/aws/x"]}], "ValidationException"),
    ([{"Key": "Path", "Values": ["no-slash"]}], "ValidationException"),
    ([{"Key": "Bogus", "Values": ["x"]}], "ValidationException"),
])
def test_describe_filter_errors(ssm, filters, code):
    with pytest.raises(ClientError) as e:
        ssm.describe_parameters(ParameterFilters=filters)
    assert err(e)[0] == code and err(e)[2] == 400


def test_describe_pagination(ssm, tree):
    base, names = tree
    filt = [{"Key": "Path", "Option": "Recursive", "Values": [base]}]
    seen, token, pages = [], None, 0
    while True:
        kw = {"ParameterFilters": filt, "MaxResults": 2}
        if token:
            kw["NextToken"] = token
        page = ssm.describe_parameters(**kw)
        assert len(page["Parameters"]) <= 2
        seen += [p["Name"] for p in page["Parameters"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert seen == sorted(seen) and len(seen) == 7 and pages >= 4
    with pytest.raises(ClientError) as e:
        ssm.describe_parameters(NextToken="bm90IGEgdG9rZW4")
    assert err(e)[0] == "InvalidNextToken"
    if "Shared" in ssm.meta.service_model.shape_for("DescribeParametersRequest").members:
        assert ssm.describe_parameters(Shared=True)["Parameters"] == []
    with pytest.raises(ClientError) as e:
        ssm.describe_parameters(Filters=[{"Key": "Name", "Values": ["x"]}],
                                ParameterFilters=[{"Key": "Name", "Values": ["x"]}])
    assert err(e)[0] == "ValidationException"


# ---- GetParametersByPath ----------------------------------------------------------------


def by_path_all(ssm, **kw):
    out, token = [], None
    while True:
        args = dict(kw)
        if token:
            args["NextToken"] = token
        page = ssm.get_parameters_by_path(**args)
        out += page["Parameters"]
        token = page.get("NextToken")
        if not token:
            return out


def test_by_path(ssm, tree):
    base, names = tree
    one = by_path_all(ssm, Path=base + "/app")
    assert [p["Name"] for p in one] == sorted(
        [base + "/app/adv", base + "/app/db", base + "/app/key", base + "/app/list"])
    assert [p for p in one if p["Name"].endswith("/key")][0]["Value"] != "k"
    rec = by_path_all(ssm, Path=base + "/", Recursive=True, WithDecryption=True)
    assert {p["Name"]: p["Value"] for p in rec if p["Name"] in names} == {
        n: v for n, (t, v) in names.items()}
    paged = by_path_all(ssm, Path=base, Recursive=True, MaxResults=1)
    assert [p["Name"] for p in paged] == [p["Name"] for p in rec]
    sec = by_path_all(ssm, Path=base, Recursive=True,
                      ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}])
    assert sorted(p["Name"] for p in sec) == [base + "/app/deep/y", base + "/app/key"]
    assert by_path_all(ssm, Path=base + "/nothing-here", Recursive=True) == []


def test_by_path_labels_and_errors(ssm):
    base = uniq()
    ssm.put_parameter(Name=base + "/a", Value="a1", Type="String")
    ssm.put_parameter(Name=base + "/a", Value="a2", Type="String", Overwrite=True)
    ssm.put_parameter(Name=base + "/b", Value="b1", Type="String")
    ssm.label_parameter_version(Name=base + "/a", ParameterVersion=1, Labels=["golden"])
    got = ssm.get_parameters_by_path(Path=base, ParameterFilters=[
        {"Key": "Label", "Option": "Equals", "Values": ["golden"]}])["Parameters"]
    assert [(p["Name"], p["Value"], p["Version"]) for p in got] == [(base + "/a", "a1", 1)]
    for filters, code in (([{"Key": "Name", "Values": ["x"]}], "InvalidFilterKey"),
                          ([{"Key": "tag:x", "Values": ["x"]}], "InvalidFilterKey"),
                          ([{"Key": "Label", "Option": "BeginsWith", "Values": ["g"]}],
                           "InvalidFilterOption")):
        with pytest.raises(ClientError) as e:
            ssm.get_parameters_by_path(Path=base, ParameterFilters=filters)
        assert err(e)[0] == code
    for path in ("no-slash", "/a b", "/a//b"):
        with pytest.raises(ClientError) as e:
            ssm.get_parameters_by_path(Path=path)
        assert err(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ssm.get_parameters_by_path(Path=base, NextToken="AAAA")
    assert err(e)[0] == "InvalidNextToken"


def test_by_path_root_one_level(ssm):
    bare = "root" + uuid.uuid4().hex[:8]
    ssm.put_parameter(Name=bare, Value="r", Type="String")
    names = [p["Name"] for p in by_path_all(ssm, Path="/")]
    assert bare in names and all("/" not in n.lstrip("/") for n in names)


# ---- delete ----------------------------------------------------------------------


def test_delete(ssm):
    base = uniq()
    for n in ("a", "b", "c"):
        ssm.put_parameter(Name="%s/%s" % (base, n), Value=n, Type="String")
    ssm.delete_parameter(Name=base + "/a")
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=base + "/a")
    assert err(e)[0] == "ParameterNotFound"
    r = ssm.delete_parameters(Names=[base + "/b", base + "/zz", base + "/c"])
    assert sorted(r["DeletedParameters"]) == [base + "/b", base + "/c"]
    assert r["InvalidParameters"] == [base + "/zz"]
    # a deleted name starts again at version 1, with no history
    assert ssm.put_parameter(Name=base + "/a", Value="new", Type="String")["Version"] == 1
    assert len(ssm.get_parameter_history(Name=base + "/a")["Parameters"]) == 1


# ---- tags ------------------------------------------------------------------------


def test_tags(ssm):
    name = uniq()
    ssm.put_parameter(Name=name, Value="x", Type="String", Tags=[{"Key": "env", "Value": "dev"}])
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name,
                             Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "a"}])
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "prod"), ("team", "a")]
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=name, TagKeys=["env"])
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert tags == [{"Key": "team", "Value": "a"}]
    # tagging makes no new version
    assert ssm.get_parameter(Name=name)["Parameter"]["Version"] == 1
    with pytest.raises(ClientError) as e:
        ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=uniq())
    assert err(e)[0] == "InvalidResourceId"
    with pytest.raises(ClientError) as e:
        ssm.list_tags_for_resource(ResourceType="Document", ResourceId="doc")
    assert err(e)[0] == "InvalidResourceType"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=name, Value="y", Overwrite=True, Tags=[{"Key": "a", "Value": "b"}])
    assert err(e)[0] == "ValidationException"
    assert "tags and overwrite can't be used together" in err(e)[1]
    with pytest.raises(ClientError) as e:
        ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name,
                                 Tags=[{"Key": "k%d" % i, "Value": "v"} for i in range(50)])
    assert err(e)[0] == "TooManyTagsError"


# ---- public parameters ---------------------------------------------------------------


def test_public_global_infrastructure(ssm):
    root = "/aws/service/global-infrastructure"
    p = ssm.get_parameter(Name=root + "/regions/eu-west-1/longName")["Parameter"]
    assert p["Value"] == "Europe (Ireland)" and p["Type"] == "String"
    assert p["ARN"] == "arn:aws:ssm:%s::parameter%s/regions/eu-west-1/longName" % (REGION, root)
    assert ssm.get_parameter(Name=p["ARN"])["Parameter"]["Value"] == "Europe (Ireland)"
    regions = [p["Value"] for p in by_path_all(ssm, Path=root + "/regions")]
    assert "us-east-1" in regions and "eu-central-1" in regions and len(regions) >= 30
    attrs = {p["Name"].rsplit("/", 1)[1]: p["Value"]
             for p in by_path_all(ssm, Path=root + "/regions/cn-north-1")}
    assert attrs["partition"] == "aws-cn" and attrs["domain"] == "amazonaws.com.cn"
    assert attrs["longName"] == "China (Beijing)"
    kms_regions = [p["Value"] for p in by_path_all(ssm, Path=root + "/services/kms/regions")]
    assert "us-east-1" in kms_regions
    r = ssm.get_parameters(Names=[root + "/services/ssm/longName", root + "/regions/nowhere-1"])
    assert r["Parameters"][0]["Value"] == "AWS Systems Manager"
    assert r["InvalidParameters"] == [root + "/regions/nowhere-1"]
    everything = by_path_all(ssm, Path=root, Recursive=True)
    assert len(everything) > 1000
    assert [p["Name"] for p in everything] == sorted(p["Name"] for p in everything)
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=root + "/regions/mine", Value="x", Type="String")
    assert err(e)[0] == "AccessDeniedException"


# ---- the aws CLI ------------------------------------------------------------------


@pytest.mark.slow  # a long aws CLI flow: run with each client, not each store
def test_cli(moat):
    base = uniq("/cli")
    out = moat.aws("ssm", "put-parameter", "--name", base + "/db-url", "--type", "SecureString",
                   "--value", "postgres://u:p@h/db")
    assert out["Version"] == 1
    moat.aws("ssm", "put-parameter", "--name", base + "/sub/flag", "--type", "String",
             "--value", "on")
    out = moat.aws("ssm", "get-parameters-by-path", "--path", base, "--recursive",
                   "--with-decryption")
    assert {p["Name"]: p["Value"] for p in out["Parameters"]} == {
        base + "/db-url": "postgres://u:p@h/db", base + "/sub/flag": "on"}
    out = moat.aws("ssm", "get-parameter", "--name", base + "/db-url", "--with-decryption",
                   "--query", "Parameter.Value", "--output", "text", raw=True)
    assert out.stdout.strip() == "postgres://u:p@h/db"
    p = moat.aws("ssm", "get-parameter", "--name", uniq(), raw=True)
    assert p.returncode != 0 and "ParameterNotFound" in p.stderr
    out = moat.aws("ssm", "describe-parameters", "--parameter-filters",
                   "Key=Path,Option=Recursive,Values=" + base)
    assert sorted(p["Name"] for p in out["Parameters"]) == [base + "/db-url", base + "/sub/flag"]
    moat.aws("ssm", "label-parameter-version", "--name", base + "/sub/flag", "--labels", "live")
    out = moat.aws("ssm", "get-parameter-history", "--name", base + "/sub/flag")
    assert out["Parameters"][0]["Labels"] == ["live"]
    moat.aws("ssm", "add-tags-to-resource", "--resource-type", "Parameter", "--resource-id",
             base + "/sub/flag", "--tags", "Key=k,Value=v")
    out = moat.aws("ssm", "list-tags-for-resource", "--resource-type", "Parameter",
                   "--resource-id", base + "/sub/flag")
    assert out["TagList"] == [{"Key": "k", "Value": "v"}]
    moat.aws("ssm", "delete-parameter", "--name", base + "/sub/flag")
    out = moat.aws("ssm", "get-parameters", "--names", base + "/sub/flag", base + "/db-url")
    assert out["InvalidParameters"] == [base + "/sub/flag"]


# ---- CloudTrail and secrets at rest -------------------------------------------------


def test_cloudtrail_records_without_secret_values(fresh_moat):
    m = fresh_moat()
    ssm = m.client("ssm")
    secret = "s3cret-" + uuid.uuid4().hex
    ssm.put_parameter(Name="/ct/secure", Value=secret, Type="SecureString", Overwrite=False)
    ssm.get_parameter(Name="/ct/secure", WithDecryption=True)
    ssm.get_parameters(Names=["/ct/secure"], WithDecryption=True)
    ssm.get_parameters_by_path(Path="/ct", WithDecryption=True)
    ssm.get_parameter_history(Name="/ct/secure", WithDecryption=True)
    with pytest.raises(ClientError):
        ssm.put_parameter(Name="/ct/secure", Value=secret + "x", Type="SecureString",
                          AllowedPattern="^nope$", Overwrite=True)
    recs = audit_records(m)
    put = [r for r in recs if r["eventName"] == "PutParameter" and "errorCode" not in r][0]
    assert put["eventSource"] == "ssm.amazonaws.com" and put["readOnly"] is False
    assert put["requestParameters"]["name"] == "/ct/secure"
    assert put["requestParameters"]["type"] == "SecureString"
    assert "value" not in put["requestParameters"]
    assert put["responseElements"] == {"version": 1, "tier": "Standard"}
    assert put["eventType"] == "AwsApiCall"
    get = [r for r in recs if r["eventName"] == "GetParameter"][0]
    assert get["readOnly"] is True and get["responseElements"] is None
    assert get["requestParameters"] == {"name": "/ct/secure", "withDecryption": True}
    failed = [r for r in recs if r["eventName"] == "PutParameter" and "errorCode" in r][0]
    assert failed["errorCode"] == "ParameterPatternMismatchException"
    for r in recs:
        assert secret not in json.dumps(r)
    m.stop()
    for root, _, files in os.walk(m.data_dir):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                assert secret.encode() not in fh.read(), f
    if m.store_url:
        assert store_rows(m, "SELECT count(*) FROM records WHERE position(convert_to('%s', "
                             "'UTF8') in value) > 0" % secret) == ["0"]
        assert store_rows(m, "SELECT count(*) FROM audit WHERE record LIKE '%%%s%%'" %
                          secret) == ["0"]
    m.start()


def test_restart_survival(fresh_moat):
    m = fresh_moat()
    ssm = m.client("ssm")
    ssm.put_parameter(Name="/keep/plain", Value="p", Type="String")
    ssm.put_parameter(Name="/keep/secret", Value="s-1", Type="SecureString")
    ssm.put_parameter(Name="/keep/secret", Value="s-2", Type="SecureString", Overwrite=True)
    ssm.label_parameter_version(Name="/keep/secret", ParameterVersion=1, Labels=["old"])
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/keep/plain",
                             Tags=[{"Key": "a", "Value": "b"}])
    assert m.restart() == 0
    ssm = m.client("ssm")
    assert ssm.get_parameter(Name="/keep/plain")["Parameter"]["Value"] == "p"
    assert ssm.get_parameter(Name="/keep/secret", WithDecryption=True)["Parameter"]["Value"] == "s-2"
    assert ssm.get_parameter(Name="/keep/secret:old",
                             WithDecryption=True)["Parameter"]["Value"] == "s-1"
    assert ssm.list_tags_for_resource(ResourceType="Parameter",
                                      ResourceId="/keep/plain")["TagList"] == [
        {"Key": "a", "Value": "b"}]


# ---- quotas ------------------------------------------------------------------------


@pytest.mark.slow
def test_standard_parameter_quota(fresh_moat):
    """10,000 standard parameters per account and Region; Intelligent-Tiering then picks
    the advanced tier, and deleting one makes room again."""
    from concurrent.futures import ThreadPoolExecutor
    m = fresh_moat()
    clients = [m.client("ssm") for _ in range(8)]

    def put(i):
        clients[i % 8].put_parameter(Name="/quota/p%05d" % i, Value="v", Type="String")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, range(10000)))
    ssm = clients[0]
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/quota/one-more", Value="v", Type="String")
    code, msg, _ = err(e)
    assert code == "ParameterLimitExceeded" and "(10000)" in msg
    # overwriting an existing standard parameter is still fine
    assert ssm.put_parameter(Name="/quota/p00000", Value="w", Overwrite=True)["Version"] == 2
    assert ssm.put_parameter(Name="/quota/smart", Value="v", Type="String",
                             Tier="Intelligent-Tiering")["Tier"] == "Advanced"
    assert ssm.put_parameter(Name="/quota/adv", Value="v", Type="String",
                             Tier="Advanced")["Tier"] == "Advanced"
    ssm.delete_parameter(Name="/quota/p00001")
    assert ssm.put_parameter(Name="/quota/one-more", Value="v", Type="String")["Tier"] == "Standard"

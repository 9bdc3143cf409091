"""Secrets Manager rotation: RotateSecret and CancelRotateSecret, schedules, the four steps
with AWSPENDING, failures that leave AWSCURRENT alone, scheduled rotation across a restart,
and the built-in PostgreSQL rotations against a real PostgreSQL server this module starts
(single user: the role's password changes; alternating users: a clone role)."""
import json
import os
import shutil
import subprocess
import time
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from moat_harness import ROOT

ACCOUNT = "000000000000"
PSQL = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
LAMBDA = "arn:aws:lambda:us-east-1:%s:function:%%s" % ACCOUNT
SINGLE = LAMBDA % "moat-rotation-postgresql-single-user"
MULTI = LAMBDA % "moat-rotation-postgresql-multi-user"
PASSWORD = LAMBDA % "moat-rotation-password"


def uniq(prefix="r"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def knows_next_rotation(sm):
    """Older botocore models lack NextRotationDate and drop it from responses."""
    return "NextRotationDate" in sm.meta.service_model.operation_model(
        "DescribeSecret").output_shape.members


def err(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def set_clock(m, **kw):
    req = urllib.request.Request(m.endpoint + "/_moat/clock", data=json.dumps(kw).encode(),
                                 method="POST")
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def audit_events(m, names):
    """Secrets Manager records with these event names, from moat's store."""
    sql = ("SELECT record FROM audit WHERE event_source = 'secretsmanager.amazonaws.com' "
           "ORDER BY seq")
    if m.store_url:
        out = subprocess.run([PSQL, m.store_url, "-Atqc", sql], check=True, capture_output=True,
                             text=True).stdout.splitlines()
    else:
        import sqlite3
        db = sqlite3.connect("file:%s/moat.db?mode=ro" % m.data_dir, uri=True)
        out = [r[0] for r in db.execute(sql)]
        db.close()
    recs = [json.loads(r) for r in out if r.strip()]
    return [r for r in recs if r["eventName"] in names]


def wait_until(pred, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    pytest.fail("timed out")


def rotated(sm, name, old_version):
    """The rotation finished: AWSCURRENT moved off old_version and no AWSPENDING is left."""
    def check():
        stages = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
        cur = [v for v, s in stages.items() if "AWSCURRENT" in s]
        pending = [v for v, s in stages.items() if "AWSPENDING" in s]
        return cur and cur[0] != old_version and not pending and cur[0]
    return check


# ---- the PostgreSQL server ---------------------------------------------------------------


class Postgres:
    """A throwaway cluster (tests/pg/pg-start.sh) where roles log in with passwords."""

    def __init__(self):
        out = subprocess.run([os.path.join(ROOT, "tests", "pg", "pg-start.sh")], check=True,
                             capture_output=True, text=True).stdout
        env = dict(line.split(" ", 1)[1].split("=", 1) for line in out.splitlines()
                   if line.startswith("export "))
        self.dir = env["MOAT_TEST_PG_DIR"]
        url = env["MOAT_TEST_PG_URL"]
        self.port = int(url.rsplit(":", 1)[1].split("/")[0])
        # The superuser keeps trust; every other role must give its password.
        hba = os.path.join(self.dir, "data", "pg_hba.conf")
        with open(hba, "w") as f:
            f.write("host all postgres 127.0.0.1/32 trust\n"
                    "host all all 127.0.0.1/32 scram-sha-256\n")
        self.admin("SELECT pg_reload_conf()")

    def admin(self, sql):
        return subprocess.run([PSQL, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                               "-d", "postgres", "-Atqc", sql], check=True, capture_output=True,
                              text=True).stdout.strip()

    def login(self, user, password, sql="SELECT current_user"):
        """The output of sql run as user, or None when the login is refused."""
        env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="5")
        p = subprocess.run([PSQL, "-h", "127.0.0.1", "-p", str(self.port), "-U", user, "-d",
                            "postgres", "-w", "-Atqc", sql], env=env, capture_output=True,
                           text=True)
        return p.stdout.strip() if p.returncode == 0 else None

    def stop(self):
        subprocess.run([os.path.join(ROOT, "tests", "pg", "pg-stop.sh"), self.dir], check=False,
                       capture_output=True)


@pytest.fixture(scope="module")
def pg():
    # The rotation strategies are tested against a real server: `make check` installs
    # PostgreSQL 15, so its absence is a broken setup, not a reason to pass.
    if not os.path.exists("/usr/lib/postgresql/15/bin/initdb"):
        pytest.fail("PostgreSQL 15 is not installed (tools/deps.sh test installs it)")
    p = Postgres()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def sm(moat):
    return moat.client("secretsmanager")


def db_secret(pg, user, password, **extra):
    d = {"engine": "postgres", "host": "127.0.0.1", "port": pg.port, "username": user,
         "password": password, "dbname": "postgres"}
    d.update(extra)
    return json.dumps(d)


# ---- PostgreSQL single user ----------------------------------------------------------------


def test_postgresql_single_user_with_the_cli(moat, sm, pg):
    role = "app_" + uuid.uuid4().hex[:6]
    pg.admin("CREATE ROLE %s LOGIN PASSWORD 'old-password-1'" % role)
    assert pg.login(role, "old-password-1") == role
    name = uniq("prod/db")
    created = moat.aws("secretsmanager", "create-secret", "--name", name, "--secret-string",
                       db_secret(pg, role, "old-password-1"))
    out = moat.aws("secretsmanager", "rotate-secret", "--secret-id", name,
                   "--rotation-lambda-arn", SINGLE, "--rotation-rules",
                   "AutomaticallyAfterDays=30", "--rotate-immediately")
    assert out["ARN"] == created["ARN"] and out["VersionId"] != created["VersionId"]
    current = wait_until(rotated(sm, name, created["VersionId"]))
    assert current == out["VersionId"]
    new = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])
    assert new["username"] == role and new["password"] != "old-password-1"
    assert not set(new["password"]) & set(":/@\"'\\")
    # the old password no longer works; the new AWSCURRENT one does
    assert pg.login(role, "old-password-1") is None
    assert pg.login(role, new["password"]) == role
    prev = json.loads(sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"])
    assert prev["password"] == "old-password-1"
    d = sm.describe_secret(SecretId=name)
    assert d["RotationEnabled"] is True and d["RotationLambdaARN"] == SINGLE
    assert d["RotationRules"]["AutomaticallyAfterDays"] == 30
    assert d["LastRotatedDate"]
    if knows_next_rotation(sm):
        assert 29 * 86400 < d["NextRotationDate"].timestamp() - time.time() < 31 * 86400
    # CloudTrail: the service's own events around the steps, with no secret in them
    time.sleep(0.2)
    recs = [r for r in audit_events(moat, {"RotationStarted", "RotationSucceeded"})
            if r["additionalEventData"]["SecretId"] == created["ARN"]]
    assert [r["eventName"] for r in recs] == ["RotationStarted", "RotationSucceeded"]
    for r in recs:
        assert r["eventType"] == "AwsServiceEvent"
        assert r["userIdentity"] == {"accountId": ACCOUNT,
                                     "invokedBy": "secretsmanager.amazonaws.com"}
        assert new["password"] not in json.dumps(r) and "old-password-1" not in json.dumps(r)


def test_postgresql_alternating_users(moat, sm, pg):
    tag = uuid.uuid4().hex[:6]
    admin, app = "admin_" + tag, "app_" + tag
    pg.admin("CREATE ROLE %s LOGIN CREATEROLE PASSWORD 'admin-pw'" % admin)
    pg.admin("CREATE ROLE %s LOGIN PASSWORD 'app-pw-1'" % app)
    pg.admin("CREATE TABLE t_%s (v int); INSERT INTO t_%s VALUES (42); "
             "ALTER TABLE t_%s OWNER TO %s" % (tag, tag, tag, app))
    master = sm.create_secret(Name=uniq("master"), SecretString=db_secret(pg, admin, "admin-pw"))
    name = uniq("multi")
    first = sm.create_secret(Name=name, SecretString=db_secret(
        pg, app, "app-pw-1", masterarn=master["ARN"]))["VersionId"]
    r = sm.rotate_secret(SecretId=name, RotationLambdaARN=MULTI,
                         RotationRules={"ScheduleExpression": "rate(10 days)"})
    wait_until(rotated(sm, name, first))
    s1 = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])
    assert s1["username"] == app + "_clone" and s1["masterarn"] == master["ARN"]
    # the clone logs in and has the original role's privileges; the original still works
    assert pg.login(s1["username"], s1["password"], "SELECT v FROM t_%s" % tag) == "42"
    assert pg.login(app, "app-pw-1") == app
    second = r["VersionId"]
    sm.rotate_secret(SecretId=name)
    wait_until(rotated(sm, name, second))
    s2 = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])
    assert s2["username"] == app and s2["password"] != "app-pw-1"
    assert pg.login(app, "app-pw-1") is None
    assert pg.login(app, s2["password"]) == app
    assert pg.login(s1["username"], s1["password"]) == s1["username"]


def test_failed_rotation_leaves_awscurrent(moat, sm, pg):
    role = "app_" + uuid.uuid4().hex[:6]
    pg.admin("CREATE ROLE %s LOGIN PASSWORD 'right-password'" % role)
    name = uniq("broken")
    first = sm.create_secret(Name=name, SecretString=db_secret(pg, role, "wrong-password"))
    r = sm.rotate_secret(SecretId=name, RotationLambdaARN=SINGLE,
                         RotationRules={"AutomaticallyAfterDays": 7})

    def failed():
        return [x for x in audit_events(moat, {"RotationFailed"})
                if x["additionalEventData"]["SecretId"] == first["ARN"]]
    wait_until(failed)
    stages = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
    assert stages[first["VersionId"]] == ["AWSCURRENT"]
    assert stages[r["VersionId"]] == ["AWSPENDING"]
    assert json.loads(sm.get_secret_value(SecretId=name)["SecretString"])["password"] == \
        "wrong-password"
    assert pg.login(role, "right-password") == role
    with pytest.raises(ClientError) as e:
        sm.rotate_secret(SecretId=name)
    assert err(e) == ("InvalidRequestException",
                      "A previous rotation isn't complete. That rotation will be reattempted.")
    # AWS's remedy: take AWSPENDING off the pending version, fix the value, rotate again
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSPENDING",
                                   RemoveFromVersionId=r["VersionId"])
    fixed = sm.put_secret_value(SecretId=name,
                                SecretString=db_secret(pg, role, "right-password"))["VersionId"]
    sm.rotate_secret(SecretId=name)
    wait_until(rotated(sm, name, fixed))
    new = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])
    assert pg.login(role, new["password"]) == role
    assert pg.login(role, "right-password") is None


def test_rotate_without_rotating_immediately_tests_only(moat, sm, pg):
    role = "app_" + uuid.uuid4().hex[:6]
    pg.admin("CREATE ROLE %s LOGIN PASSWORD 'pw-keep'" % role)
    name = uniq("testonly")
    first = sm.create_secret(Name=name, SecretString=db_secret(pg, role, "pw-keep"))
    sm.rotate_secret(SecretId=name, RotationLambdaARN=SINGLE, RotateImmediately=False,
                     RotationRules={"ScheduleExpression": "cron(0 16 1,15 * ? *)",
                                    "Duration": "2h"})

    def tested():
        return [x for x in audit_events(moat, {"TestRotationSucceeded", "TestRotationFailed"})
                if x["additionalEventData"]["SecretId"] == first["ARN"]]
    recs = wait_until(tested)
    assert recs[0]["eventName"] == "TestRotationSucceeded"
    d = sm.describe_secret(SecretId=name)
    assert d["VersionIdsToStages"] == {first["VersionId"]: ["AWSCURRENT"]}
    assert d["RotationRules"] == {"ScheduleExpression": "cron(0 16 1,15 * ? *)",
                                  "Duration": "2h"}
    if knows_next_rotation(sm):
        nxt = d["NextRotationDate"]
        assert nxt.day in (1, 15) and nxt.hour == 16 and nxt.minute == 0
    assert "LastRotatedDate" not in d
    assert pg.login(role, "pw-keep") == role


# ---- API errors ------------------------------------------------------------------------------


def test_rotation_errors(sm):
    name = uniq("errs")
    sm.create_secret(Name=name, SecretString=json.dumps({"password": "p"}))
    with pytest.raises(ClientError) as e:
        sm.rotate_secret(SecretId=name)
    assert err(e) == ("InvalidRequestException",
                      "No Lambda rotation function ARN is associated with this secret.")
    with pytest.raises(ClientError) as e:
        sm.rotate_secret(SecretId=name, RotationLambdaARN=LAMBDA % "my-own-function")
    assert err(e) == ("AccessDeniedException",
                      "Secrets Manager cannot invoke the specified Lambda function. Ensure that "
                      "the function policy grants access to the principal "
                      "secretsmanager.amazonaws.com.")
    with pytest.raises(ClientError) as e:  # a reserved name in another account
        sm.rotate_secret(SecretId=name, RotationLambdaARN=SINGLE.replace(ACCOUNT, "111122223333"))
    assert err(e)[0] == "AccessDeniedException"
    for rules in ({"AutomaticallyAfterDays": 5, "ScheduleExpression": "rate(5 days)"},
                  {"ScheduleExpression": "rate(2 hours)"},
                  {"ScheduleExpression": "cron(0 16 1 * * *)"},
                  {"ScheduleExpression": "cron(0 23 * * ? *)", "Duration": "3h"}):
        with pytest.raises(ClientError) as e:
            sm.rotate_secret(SecretId=name, RotationLambdaARN=PASSWORD, RotationRules=rules)
        assert err(e)[0] == "InvalidParameterException", rules
    # nothing was configured by the refused calls
    assert "RotationEnabled" not in sm.describe_secret(SecretId=name)
    with pytest.raises(ClientError) as e:
        sm.cancel_rotate_secret(SecretId=name)
    assert err(e)[0] == "InvalidRequestException"


def test_cancel_and_abandon(moat, sm):
    name = uniq("cancel")
    arn = sm.create_secret(Name=name, SecretString=json.dumps({"password": "p0"}))["ARN"]
    r = sm.rotate_secret(SecretId=name, RotationLambdaARN=PASSWORD,
                         RotationRules={"AutomaticallyAfterDays": 1})
    wait_until(lambda: "AWSPENDING" not in json.dumps(
        sm.describe_secret(SecretId=name)["VersionIdsToStages"]) and
        json.loads(sm.get_secret_value(SecretId=name)["SecretString"])["password"] != "p0")
    assert sm.get_secret_value(SecretId=name)["VersionId"] == r["VersionId"]
    c = sm.cancel_rotate_secret(SecretId=name)
    assert c["ARN"] == arn and "VersionId" not in c
    d = sm.describe_secret(SecretId=name)
    assert d["RotationEnabled"] is False and "NextRotationDate" not in d
    # A value written by hand while AWSPENDING waits abandons that rotation.
    pend = sm.put_secret_value(SecretId=name, SecretString="half",
                               VersionStages=["AWSPENDING"])["VersionId"]
    cur = sm.put_secret_value(SecretId=name, SecretString="by hand")["VersionId"]
    stages = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
    assert stages[cur] == ["AWSCURRENT"] and pend not in stages

    def abandoned():
        return [x for x in audit_events(moat, {"RotationAbandoned"})
                if x["additionalEventData"]["SecretId"] == arn]
    rec = wait_until(abandoned)[0]
    assert rec["eventType"] == "AwsServiceEvent"


def test_password_rotation_with_binary_or_text_fails(moat, sm):
    name = uniq("text")
    first = sm.create_secret(Name=name, SecretString="not json")
    sm.rotate_secret(SecretId=name, RotationLambdaARN=PASSWORD)

    def failed():
        return [x for x in audit_events(moat, {"RotationFailed"})
                if x["additionalEventData"]["SecretId"] == first["ARN"]]
    wait_until(failed)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "not json"
    assert sm.get_secret_value(SecretId=name)["VersionId"] == first["VersionId"]


# ---- schedules, restarts ---------------------------------------------------------------------


def test_scheduled_rotation_survives_a_restart(fresh_moat):
    m = fresh_moat(args=["--allow-test-clock"])
    sm = m.client("secretsmanager")
    name = "sched"
    first = sm.create_secret(Name=name, SecretString=json.dumps({"password": "p0"}))["VersionId"]
    sm.rotate_secret(SecretId=name, RotationLambdaARN=PASSWORD, RotateImmediately=False,
                     RotationRules={"ScheduleExpression": "rate(2 days)"})
    if knows_next_rotation(sm):
        nxt = sm.describe_secret(SecretId=name)["NextRotationDate"].timestamp()
        assert 1 * 86400 < nxt - time.time() <= 3 * 86400
    else:  # rate(2 days): midnight two days after today
        nxt = (int(time.time()) // 86400 + 2) * 86400
    time.sleep(1.5)  # the test step runs and changes nothing
    assert sm.get_secret_value(SecretId=name)["VersionId"] == first
    assert m.restart() == 0
    # Two days and a bit later the window has opened: the job rotates once.
    ahead = int(nxt - time.time()) + 3600
    deadline = time.time() + 20
    while True:
        set_clock(m, offset_seconds=ahead)
        time.sleep(0.6)
        set_clock(m, offset_seconds=0)
        stages = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
        if stages.get(first) == ["AWSPREVIOUS"]:
            break
        assert time.time() < deadline, stages
    d = sm.describe_secret(SecretId=name)
    if knows_next_rotation(sm):
        assert d["NextRotationDate"].timestamp() > nxt + 86400
    assert json.loads(sm.get_secret_value(SecretId=name)["SecretString"])["password"] != "p0"
    assert len(d["VersionIdsToStages"]) == 2


def test_pending_rotation_resumes_after_a_restart(fresh_moat, pg):
    """A rotation whose setSecret failed (the database was unreachable) is retried by the
    scheduler of the restarted server once the database is back."""
    m = fresh_moat(args=["--allow-test-clock"])
    sm = m.client("secretsmanager")
    role = "app_" + uuid.uuid4().hex[:6]
    pg.admin("CREATE ROLE %s LOGIN PASSWORD 'before'" % role)
    pg.admin("ALTER ROLE %s NOLOGIN" % role)  # unreachable for the rotation
    name = "resume"
    first = sm.create_secret(Name=name, SecretString=db_secret(pg, role, "before"))
    r = sm.rotate_secret(SecretId=name, RotationLambdaARN=SINGLE)
    wait_until(lambda: [x for x in audit_events(m, {"RotationFailed"})])
    assert m.restart() == 0
    pg.admin("ALTER ROLE %s LOGIN" % role)
    deadline = time.time() + 20
    while True:  # the retry comes a minute later on service time
        set_clock(m, offset_seconds=120)
        time.sleep(0.6)
        set_clock(m, offset_seconds=0)
        stages = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
        if stages.get(r["VersionId"]) == ["AWSCURRENT"]:
            break
        assert time.time() < deadline, stages
    assert stages[first["VersionId"]] == ["AWSPREVIOUS"]
    new = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])
    assert pg.login(role, new["password"]) == role
    assert pg.login(role, "before") is None

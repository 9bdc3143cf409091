#!/usr/bin/env python3
"""End-to-end cost of authorization: the same SigV4-signed request replayed with wrk
(shared/bench/sigv4_wrk.py) as the root user and as an IAM user whose policies are a
realistic set (12 identity statements with conditions, wildcards and variables, plus a
4-statement permissions boundary), alternating root / user for several rounds.

    bench/iam/e2e.py [--moat build/moat] [--duration 5s] [--rounds 3] [--ops ...]

Ops: sts-get-caller-identity (authenticated, never authorised, as on AWS) and kms-encrypt
(authorised: the principal's policies, the key policy and the request context are
evaluated on every request). The root user's requests skip the principal's policies
(root has none) but still build the context and evaluate the key policy, so the
difference measures what an IAM user's policies add. Prints one table; exits non-zero if
any response was not 2xx.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("MOAT_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
ROOT_KEY, ROOT_SECRET = "AKIAMOATBENCHROOT001", "moatBenchRootSecretKey000000000000000000"
ACCOUNT = "000000000000"


def statement(effect, action, resource="*", **cond):
    s = {"Effect": effect, "Resource": resource}
    s["NotAction" if effect == "DenyNot" else "Action"] = action
    if effect == "DenyNot":
        s["Effect"] = "Deny"
    if cond:
        s["Condition"] = cond
    return s


IDENTITY = {"Version": "2012-10-17", "Statement": [
    statement("Allow", ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
              "arn:aws:kms:*:%s:key/*" % ACCOUNT,
              StringEquals={"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}),
    statement("Allow", ["kms:Describe*", "kms:List*", "kms:CreateKey", "kms:CreateAlias"]),
    statement("Allow", "s3:ListBucket", "arn:aws:s3:::corp-data",
              StringLike={"s3:prefix": ["home/${aws:username}/*", "shared/*"]}),
    statement("Allow", ["s3:GetObject*", "s3:PutObject*"],
              "arn:aws:s3:::corp-data/home/${aws:username}/*"),
    statement("Allow", "secretsmanager:GetSecretValue",
              "arn:aws:secretsmanager:*:%s:secret:app/*" % ACCOUNT,
              StringEquals={"aws:ResourceTag/owner": "${aws:username}"}),
    statement("Allow", "ssm:GetParameter*", "arn:aws:ssm:*:%s:parameter/app/*" % ACCOUNT),
    statement("Allow", "ec2:Describe*",
              StringEquals={"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}),
    statement("Allow", ["logs:CreateLogStream", "logs:PutLogEvents"],
              "arn:aws:logs:*:%s:log-group:/app/*:*" % ACCOUNT),
    statement("Allow", "sqs:TagQueue",
              **{"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}}),
    statement("Deny", "*", NotIpAddress={"aws:SourceIp": ["127.0.0.0/8", "10.0.0.0/8"]},
              Bool={"aws:ViaAWSService": "false"}),
    statement("DenyNot", ["iam:Get*", "iam:List*"], "arn:aws:iam::*:*"),
    statement("Deny", "*", DateGreaterThan={"aws:CurrentTime": "2099-01-01T00:00:00Z"}),
]}

BOUNDARY = {"Version": "2012-10-17", "Statement": [
    statement("Allow", ["s3:*", "kms:*", "secretsmanager:Get*", "ssm:Get*", "ec2:Describe*",
                        "logs:*", "sqs:*", "iam:Get*", "iam:List*"]),
    statement("Deny", "s3:*", "arn:aws:s3:::audit-*"),
    statement("Deny", ["kms:ScheduleKeyDeletion", "kms:DisableKey"]),
    statement("Deny", "*",
              StringNotEquals={"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}),
]}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, data_dir, port):
    env = dict(os.environ, MOAT_ROOT_ACCESS_KEY_ID=ROOT_KEY, MOAT_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET)
    log = open(os.path.join(data_dir, "stdout.txt"), "ab")
    proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:%d" % port, "--data-dir",
                             data_dir, "--log-file", os.path.join(data_dir, "moat.log"),
                             "--log-level", "warn"], env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("moat did not start")


def make_user(endpoint):
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET)
    b = iam.create_policy(PolicyName="bench-boundary", PolicyDocument=json.dumps(BOUNDARY))
    iam.create_user(UserName="bench", PermissionsBoundary=b["Policy"]["Arn"],
                    Tags=[{"Key": "team", "Value": "platform"}])
    iam.put_user_policy(UserName="bench", PolicyName="workload",
                        PolicyDocument=json.dumps(IDENTITY))
    k = iam.create_access_key(UserName="bench")["AccessKey"]
    return k["AccessKeyId"], k["SecretAccessKey"]


def cpu_seconds(pid):
    """User + system CPU time of a process (all its threads)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(endpoint, op, label, key, secret, args, out):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
               BENCH_PREFIX="iambench")
    env.pop("AWS_SESSION_TOKEN", None)
    cmd = [sys.executable, os.path.join(SHARED, "bench", "sigv4_wrk.py"), "--endpoint", endpoint,
           "--op", op, "--threads", "1", "--connections", str(args.connections), "--duration",
           args.duration, "--warmup", args.warmup, "--label", label, "--json-out", out]
    before = cpu_seconds(args.pid)
    rc = subprocess.run(cmd, env=env).returncode
    spent = cpu_seconds(args.pid) - before
    # CPU per request: less sensitive than req/s to other load on the machine. It
    # includes the setup and warm-up requests, the same for both sides.
    with open(out) as f:
        last = json.loads(f.readlines()[-1])
    with open(out + ".cpu", "a") as f:
        f.write(json.dumps({"op": op, "label": label, "cpu_s": spent,
                            "requests": last.get("requests", 0)}) + "\n")
    return rc


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moat", default=os.path.join(ROOT, "build", "moat"))
    ap.add_argument("--duration", default="5s")
    ap.add_argument("--warmup", default="1s")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--ops", nargs="+", default=["sts-get-caller-identity", "kms-encrypt"])
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found (apt-get install -y wrk)")
    data_dir = tempfile.mkdtemp(prefix="moat-iam-bench-")
    port = free_port()
    endpoint = "http://127.0.0.1:%d" % port
    proc = start(args.moat, data_dir, port)
    args.pid = proc.pid
    out = os.path.join(data_dir, "results.jsonl")
    bad = 0
    try:
        user_key, user_secret = make_user(endpoint)
        for op in args.ops:
            for _ in range(args.rounds):
                bad |= run(endpoint, op, "root", ROOT_KEY, ROOT_SECRET, args, out)
                bad |= run(endpoint, op, "iam-user", user_key, user_secret, args, out)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    rows = [json.loads(line) for line in open(out)]
    cpu = [json.loads(line) for line in open(out + ".cpu")]
    print("| op | root req/s (median) | IAM user req/s (median) | user/root | p50 root ms | "
          "p50 user ms | root CPU us/req | user CPU us/req | CPU overhead | non-2xx |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for op in args.ops:
        def med(label, field):
            return statistics.median(r[field] for r in rows if r["op"] == op and r["label"] == label)
        r_rps, u_rps = med("root", "rps"), med("iam-user", "rps")
        nbad = sum(r["non2xx"] + r["socket_errors"] for r in rows if r["op"] == op)

        def us_per_req(label):
            return statistics.median(c["cpu_s"] * 1e6 / max(c["requests"], 1)
                                     for c in cpu if c["op"] == op and c["label"] == label)
        r_cpu, u_cpu = us_per_req("root"), us_per_req("iam-user")
        print("| %s | %.0f | %.0f | %.3f | %.2f | %.2f | %.1f | %.1f | %+.1f%% | %d |" % (
            op, r_rps, u_rps, u_rps / r_rps, med("root", "p50_ms"), med("iam-user", "p50_ms"),
            r_cpu, u_cpu, (u_cpu - r_cpu) * 100 / r_cpu, nbad))
    print("rounds=%d duration=%s connections=%d cores=%d" % (
        args.rounds, args.duration, args.connections, os.cpu_count()))
    shutil.rmtree(data_dir, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

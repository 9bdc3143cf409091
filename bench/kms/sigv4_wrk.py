#!/usr/bin/env python3
"""Replay one correctly SigV4-signed AWS request with wrk and report throughput.

(bench/kms copy of shared/bench/sigv4_wrk.py with more ops: kms-sign, ECDSA on an
ECC_NIST_P256 key; iam-get-user and sts-assume-role, an IAM read and STS issuing
temporary credentials.)

For one --op it:
  (a) creates the resources the op needs, idempotently, with boto3;
  (b) lets botocore build and sign the exact request the SDK would send
      (the client's own serializer and RequestSigner; the request is captured
      at botocore's 'before-send' hook and never sent by botocore);
  (c) writes a wrk Lua script that replays that request byte for byte
      (method, path, every signed header, body) and counts non-2xx statuses;
  (d) runs wrk and prints ONE summary line:
      op endpoint req/s p50 p99 non2xx (plus socket errors and run parameters).

A signed request stays valid for AWS's 15-minute clock-skew window, so keep
--duration well under that; the request is signed right before wrk starts.

Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
If absent, dummy credentials are used (fine for servers that do not verify).
BENCH_VERIFY_TLS=0 accepts a self-signed certificate on an https endpoint
(wrk itself never verifies). BENCH_PREFIX renames the created resources.

Exit status: 0 if the run completed and every response was 2xx, 3 if any
non-2xx or socket error occurred (the summary line is printed either way),
2 on setup/usage failure.
"""
import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

import boto3
import botocore
from botocore.config import Config

OPS = [
    "kms-encrypt",
    "kms-decrypt",
    "kms-generate-data-key",
    "kms-sign",
    "secrets-get",
    "ssm-get",
    "sts-get-caller-identity",
    "iam-get-user",
    "sts-assume-role",
    "s3-put-1k",
    "s3-get-1k",
]

PREFIX = os.environ.get("BENCH_PREFIX", "moatbench")
KMS_ALIAS = f"alias/{PREFIX}-key"
KMS_SIGN_ALIAS = f"alias/{PREFIX}-sign-p256"
SECRET_NAME = f"{PREFIX}/secret"
PARAM_NAME = f"/{PREFIX}/secure-param"
BUCKET = f"{PREFIX}-bucket"
GET_KEY = "obj-1k"
PUT_KEY = "put-1k"
# Deterministic payloads so that both servers get byte-identical work.
PLAINTEXT_64 = bytes(range(64))
BODY_1K = bytes((i * 7 + 3) % 256 for i in range(1024))


class _Captured(Exception):
    def __init__(self, request):
        super().__init__("captured")
        self.request = request


VERIFY_TLS = os.environ.get("BENCH_VERIFY_TLS", "1") != "0"


def make_client(service, endpoint, region, creds=None, **extra_cfg):
    cfg = Config(
        retries={"max_attempts": 1, "mode": "standard"},
        s3={"addressing_style": "path"},
        connect_timeout=10,
        read_timeout=60,
        **extra_cfg,
    )
    kwargs = dict(endpoint_url=endpoint, region_name=region, config=cfg, verify=VERIFY_TLS)
    if creds:
        kwargs.update(aws_access_key_id=creds[0], aws_secret_access_key=creds[1])
    elif not os.environ.get("AWS_ACCESS_KEY_ID"):
        kwargs.update(aws_access_key_id="benchtest", aws_secret_access_key="benchtest")
    return boto3.client(service, **kwargs)


# --------------------------------------------------------------------------
# (a) idempotent setup
# --------------------------------------------------------------------------
def _code(err):
    return err.response.get("Error", {}).get("Code", "")


def ensure_kms_key(endpoint, region):
    kms = make_client("kms", endpoint, region)
    try:
        md = kms.describe_key(KeyId=KMS_ALIAS)["KeyMetadata"]
        if md.get("KeyState") == "Enabled":
            return md["KeyId"]
    except botocore.exceptions.ClientError as e:
        if _code(e) not in ("NotFoundException",):
            raise
    key_id = kms.create_key(
        KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT", Description=f"{PREFIX} bench key"
    )["KeyMetadata"]["KeyId"]
    try:
        kms.create_alias(AliasName=KMS_ALIAS, TargetKeyId=key_id)
    except botocore.exceptions.ClientError as e:
        if _code(e) != "AlreadyExistsException":
            raise
        kms.update_alias(AliasName=KMS_ALIAS, TargetKeyId=key_id)
    return key_id


IAM_USER = f"{PREFIX}-user"
IAM_ROLE = f"{PREFIX}-role"


def ensure_iam_user(endpoint, region):
    iam = make_client("iam", endpoint, region)
    try:
        iam.get_user(UserName=IAM_USER)
    except botocore.exceptions.ClientError as e:
        if _code(e) != "NoSuchEntity":
            raise
        iam.create_user(UserName=IAM_USER)
    return IAM_USER


def ensure_iam_role(endpoint, region):
    iam = make_client("iam", endpoint, region)
    try:
        return iam.get_role(RoleName=IAM_ROLE)["Role"]["Arn"]
    except botocore.exceptions.ClientError as e:
        if _code(e) != "NoSuchEntity":
            raise
    account = make_client("sts", endpoint, region).get_caller_identity()["Account"]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "sts:AssumeRole"}]}
    return iam.create_role(RoleName=IAM_ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def ensure_iam_user_keys(endpoint, region, role_arn):
    """The bench user, allowed sts:AssumeRole on the role, and a fresh access key."""
    iam = make_client("iam", endpoint, region)
    user = ensure_iam_user(endpoint, region)
    iam.put_user_policy(UserName=user, PolicyName="assume", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}]}))
    for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=user, AccessKeyId=k["AccessKeyId"])
    key = iam.create_access_key(UserName=user)["AccessKey"]
    time.sleep(0.5)  # a new key may take a moment to be usable on some servers
    return key["AccessKeyId"], key["SecretAccessKey"]


def ensure_kms_sign_key(endpoint, region):
    kms = make_client("kms", endpoint, region)
    try:
        md = kms.describe_key(KeyId=KMS_SIGN_ALIAS)["KeyMetadata"]
        if md.get("KeyState") == "Enabled":
            return md["KeyId"]
    except botocore.exceptions.ClientError as e:
        if _code(e) not in ("NotFoundException",):
            raise
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY",
                            Description=f"{PREFIX} signing key")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=KMS_SIGN_ALIAS, TargetKeyId=key_id)
    return key_id


def ensure_secret(endpoint, region):
    sm = make_client("secretsmanager", endpoint, region)
    try:
        sm.describe_secret(SecretId=SECRET_NAME)
    except botocore.exceptions.ClientError as e:
        if _code(e) != "ResourceNotFoundException":
            raise
        sm.create_secret(Name=SECRET_NAME, SecretString=json.dumps({"user": "bench", "password": "x" * 32}))
    return SECRET_NAME


def ensure_parameter(endpoint, region, key_id):
    ssm = make_client("ssm", endpoint, region)
    try:
        ssm.get_parameter(Name=PARAM_NAME, WithDecryption=True)
    except botocore.exceptions.ClientError as e:
        if _code(e) != "ParameterNotFound":
            raise
        ssm.put_parameter(Name=PARAM_NAME, Value="s3cr3t-" + "v" * 40, Type="SecureString", KeyId=key_id)
    return PARAM_NAME


def ensure_bucket_object(endpoint, region):
    s3 = make_client("s3", endpoint, region)
    try:
        s3.head_bucket(Bucket=BUCKET)
    except botocore.exceptions.ClientError as e:
        if _code(e) not in ("404", "NoSuchBucket", "NotFound"):
            raise
        kw = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=BUCKET, **kw)
    s3.put_object(Bucket=BUCKET, Key=GET_KEY, Body=BODY_1K)
    return BUCKET


def setup(op, endpoint, region):
    """Create what the op needs; return a dict of values used to build the request."""
    ctx = {}
    if op == "kms-sign":
        ctx["key_id"] = ensure_kms_sign_key(endpoint, region)
    elif op.startswith("kms-"):
        ctx["key_id"] = ensure_kms_key(endpoint, region)
        if op == "kms-decrypt":
            kms = make_client("kms", endpoint, region)
            ctx["ciphertext"] = kms.encrypt(KeyId=ctx["key_id"], Plaintext=PLAINTEXT_64)["CiphertextBlob"]
    elif op == "iam-get-user":
        ctx["user"] = ensure_iam_user(endpoint, region)
    elif op == "sts-assume-role":
        # A root user may not assume roles (AWS's rule): an IAM user allowed to does.
        ctx["role_arn"] = ensure_iam_role(endpoint, region)
        ctx["creds"] = ensure_iam_user_keys(endpoint, region, ctx["role_arn"])
    elif op == "secrets-get":
        ctx["secret"] = ensure_secret(endpoint, region)
    elif op == "ssm-get":
        ctx["param"] = ensure_parameter(endpoint, region, ensure_kms_key(endpoint, region))
    elif op.startswith("s3-"):
        ctx["bucket"] = ensure_bucket_object(endpoint, region)
    return ctx


# --------------------------------------------------------------------------
# (b) build the signed request with botocore itself
# --------------------------------------------------------------------------
def _call(op, endpoint, region, ctx):
    """Return (service, callable(client)) performing the op through boto3."""
    if op == "kms-encrypt":
        return "kms", lambda c: c.encrypt(KeyId=ctx["key_id"], Plaintext=PLAINTEXT_64)
    if op == "kms-decrypt":
        return "kms", lambda c: c.decrypt(KeyId=ctx["key_id"], CiphertextBlob=ctx["ciphertext"])
    if op == "kms-generate-data-key":
        return "kms", lambda c: c.generate_data_key(KeyId=ctx["key_id"], KeySpec="AES_256")
    if op == "kms-sign":
        return "kms", lambda c: c.sign(KeyId=ctx["key_id"], Message=PLAINTEXT_64, MessageType="RAW",
                                       SigningAlgorithm="ECDSA_SHA_256")
    if op == "secrets-get":
        return "secretsmanager", lambda c: c.get_secret_value(SecretId=ctx["secret"])
    if op == "ssm-get":
        return "ssm", lambda c: c.get_parameter(Name=ctx["param"], WithDecryption=True)
    if op == "sts-get-caller-identity":
        return "sts", lambda c: c.get_caller_identity()
    if op == "iam-get-user":
        return "iam", lambda c: c.get_user(UserName=ctx["user"])
    if op == "sts-assume-role":
        return "sts", lambda c: c.assume_role(RoleArn=ctx["role_arn"], RoleSessionName="bench")
    if op == "s3-put-1k":
        return "s3", lambda c: c.put_object(Bucket=ctx["bucket"], Key=PUT_KEY, Body=BODY_1K)
    if op == "s3-get-1k":
        return "s3", lambda c: c.get_object(Bucket=ctx["bucket"], Key=GET_KEY)
    raise SystemExit(f"unknown op {op!r}; known: {', '.join(OPS)}")


def build_signed_request(op, endpoint, region, ctx):
    service, fn = _call(op, endpoint, region, ctx)
    client = make_client(service, endpoint, region, creds=ctx.get("creds"))

    def grab(request, **kwargs):
        raise _Captured(request)

    client.meta.events.register_first("before-send", grab)
    try:
        fn(client)
    except _Captured as cap:
        req = cap.request
    else:
        raise RuntimeError("botocore sent the request without passing before-send")
    url = urllib.parse.urlsplit(req.url)
    path = url.path or "/"
    if url.query:
        path += "?" + url.query
    headers = {}
    for k, v in req.headers.items():
        headers[k] = v.decode("latin-1") if isinstance(v, bytes) else str(v)
    headers["Host"] = url.netloc  # what botocore signed as 'host'
    # 'Expect: 100-continue' is never signed (botocore excludes it) and wrk cannot
    # parse interim 1xx responses, so the replay sends the body straight away.
    for k in [k for k in headers if k.lower() == "expect"]:
        del headers[k]
    body = req.body
    if body is None:
        body = b""
    elif hasattr(body, "read"):
        body = body.read()
    elif isinstance(body, str):
        body = body.encode("utf-8")
    return {
        "method": req.method,
        "url": req.url,
        "scheme": url.scheme,
        "netloc": url.netloc,
        "path": path,
        "headers": headers,
        "body": bytes(body),
    }


def probe_once(sreq, timeout=30):
    """Send the captured request once (stdlib http.client); return (status, body snippet)."""
    import http.client

    if sreq["scheme"] == "https":
        import ssl

        tls = ssl.create_default_context() if VERIFY_TLS else ssl._create_unverified_context()
        conn = http.client.HTTPSConnection(sreq["netloc"], timeout=timeout, context=tls)
    else:
        conn = http.client.HTTPConnection(sreq["netloc"], timeout=timeout)
    try:
        hdrs = dict(sreq["headers"])
        hdrs.pop("Host", None)
        conn.putrequest(sreq["method"], sreq["path"], skip_host=False, skip_accept_encoding=True)
        for k, v in hdrs.items():
            conn.putheader(k, v)
        if sreq["body"] or sreq["method"] in ("POST", "PUT"):
            if "Content-Length" not in hdrs and "content-length" not in {h.lower() for h in hdrs}:
                conn.putheader("Content-Length", str(len(sreq["body"])))
        conn.endheaders(sreq["body"] or None)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, data[:300]
    finally:
        conn.close()


# --------------------------------------------------------------------------
# (c) wrk Lua script
# --------------------------------------------------------------------------
def lua_string(b):
    out = ['"']
    for ch in b:
        if ch in (0x22, 0x5C):  # " and backslash
            out.append("\\" + chr(ch))
        elif 0x20 <= ch < 0x7F:
            out.append(chr(ch))
        else:
            out.append("\\%03d" % ch)
    out.append('"')
    return "".join(out)


LUA_TEMPLATE = r"""-- generated by sigv4_wrk.py for op %(op)s against %(url)s
-- replays ONE SigV4-signed request; valid for ~15 minutes after %(amzdate)s
wrk.method = %(method)s
wrk.path = %(path)s
wrk.body = %(body)s
wrk.headers = {}
%(headers)s
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  non2xx = 0
  first_bad = ""
end
function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == "" then
      first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 200)
    end
  end
end
local function jstr(s)
  s = string.gsub(s, '[%%c"\\]', function(c) return string.format("\\u%%04x", string.byte(c)) end)
  return '"' .. s .. '"'
end
function done(summary, latency, requests)
  local n, bad = 0, ""
  for _, t in ipairs(threads) do
    n = n + (t:get("non2xx") or 0)
    local fb = t:get("first_bad")
    if bad == "" and fb and fb ~= "" then bad = fb end
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"bytes":%%d,"non2xx":%%d,' ..
    '"err_connect":%%d,"err_read":%%d,"err_write":%%d,"err_status":%%d,"err_timeout":%%d,' ..
    '"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"max_us":%%d,"mean_us":%%.1f,"first_bad":%%s}\n',
    summary.requests, summary.duration, summary.bytes, n,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, jstr(bad)))
end
"""


def write_lua(op, sreq, path):
    lines = []
    for k, v in sreq["headers"].items():
        lines.append("wrk.headers[%s] = %s" % (lua_string(k.encode()), lua_string(v.encode("latin-1"))))
    src = LUA_TEMPLATE % {
        "op": op,
        "url": sreq["url"],
        "amzdate": sreq["headers"].get("X-Amz-Date", "?"),
        "method": lua_string(sreq["method"].encode()),
        "path": lua_string(sreq["path"].encode()),
        "body": lua_string(sreq["body"]) if sreq["body"] else "nil",
        "headers": "\n".join(lines),
    }
    with open(path, "w") as f:
        f.write(src)


# --------------------------------------------------------------------------
# (d) run wrk
# --------------------------------------------------------------------------
def run_wrk(wrk, base_url, lua, threads, connections, duration, timeout):
    cmd = [wrk, "-t", str(threads), "-c", str(connections), "-d", duration,
           "--timeout", timeout, "--latency", "-s", lua, base_url]
    p = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"^WRKJSON (\{.*\})\s*$", p.stdout, re.M)
    if p.returncode != 0 or not m:
        sys.stderr.write(p.stdout + p.stderr)
        raise RuntimeError(f"wrk failed (rc={p.returncode})")
    res = json.loads(m.group(1))
    res["wrk_stdout"] = p.stdout
    return res


def loadavg1():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return None


def fmt_ms(us):
    return f"{us / 1000.0:.2f}ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True, help="e.g. http://127.0.0.1:5000")
    ap.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    ap.add_argument("--op", required=True, choices=OPS)
    ap.add_argument("--threads", "-t", type=int, default=1)
    ap.add_argument("--connections", "-c", type=int, default=16)
    ap.add_argument("--duration", "-d", default="10s")
    ap.add_argument("--timeout", default="5s", help="wrk per-request timeout")
    ap.add_argument("--warmup", default="0", help="wrk warm-up duration discarded before measuring, e.g. 2s (0 = none)")
    ap.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    ap.add_argument("--label", default=None, help="name printed instead of the endpoint")
    ap.add_argument("--json-out", default=None, help="append a JSON result record to this file")
    ap.add_argument("--keep-lua", default=None, help="write the wrk Lua script here and keep it")
    ap.add_argument("--setup-only", action="store_true", help="create resources, sign, probe once, no wrk")
    a = ap.parse_args()

    endpoint = a.endpoint.rstrip("/")
    try:
        ctx = setup(a.op, endpoint, a.region)
    except Exception as e:  # noqa: BLE001
        print(f"SETUP-FAILED op={a.op} endpoint={endpoint}: {type(e).__name__}: {e}", file=sys.stderr)
        return 2

    lua = a.keep_lua or tempfile.mktemp(prefix=f"sigv4wrk-{a.op}-", suffix=".lua")

    def sign_and_write():
        sreq = build_signed_request(a.op, endpoint, a.region, ctx)
        write_lua(a.op, sreq, lua)
        return sreq

    sreq = sign_and_write()
    status, snippet = probe_once(sreq)
    probe_ok = 200 <= status <= 299
    if not probe_ok:
        print(f"WARNING: single probe of signed {a.op} request got HTTP {status}: {snippet!r}", file=sys.stderr)
    if a.setup_only:
        print(f"{a.op}\t{endpoint}\tprobe HTTP {status}\t{sreq['method']} {sreq['path']}\t"
              f"headers={sorted(sreq['headers'])}\tbody={len(sreq['body'])}B")
        return 0 if probe_ok else 3

    base_url = f"{sreq['scheme']}://{sreq['netloc']}"
    if a.warmup not in ("0", "0s", ""):
        run_wrk(a.wrk, base_url, lua, a.threads, a.connections, a.warmup, a.timeout)
        sreq = sign_and_write()  # fresh signature for the measured run
    t0 = time.time()
    load_before = loadavg1()
    res = run_wrk(a.wrk, base_url, lua, a.threads, a.connections, a.duration, a.timeout)
    if not a.keep_lua:
        try:
            os.unlink(lua)
        except OSError:
            pass
    secs = res["duration_us"] / 1e6 if res["duration_us"] else 1.0
    rps = res["requests"] / secs
    sock_err = res["err_connect"] + res["err_read"] + res["err_write"] + res["err_timeout"]
    label = a.label or endpoint
    record = {
        "op": a.op, "endpoint": endpoint, "label": label, "rps": round(rps, 1),
        "p50_ms": res["p50_us"] / 1000.0, "p90_ms": res["p90_us"] / 1000.0, "p99_ms": res["p99_us"] / 1000.0,
        "max_ms": res["max_us"] / 1000.0, "requests": res["requests"], "non2xx": res["non2xx"],
        "socket_errors": sock_err, "first_bad": res["first_bad"], "probe_status": status,
        "threads": a.threads, "connections": a.connections, "duration": a.duration,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)),
        "load1_before": load_before, "load1_after": loadavg1(), "cpus": os.cpu_count(),
    }
    line = (f"op={a.op} endpoint={label} req/s={rps:.1f} p50={fmt_ms(res['p50_us'])} "
            f"p99={fmt_ms(res['p99_us'])} non2xx={res['non2xx']} sockerr={sock_err} "
            f"requests={res['requests']} (t{a.threads} c{a.connections} {a.duration})")
    if res["non2xx"]:
        line += f" first_bad={res['first_bad'][:120]!r}"
    print(line, flush=True)
    if a.json_out:
        with open(a.json_out, "a") as f:
            f.write(json.dumps(record) + "\n")
    return 0 if (res["non2xx"] == 0 and sock_err == 0 and res["requests"] > 0) else 3


if __name__ == "__main__":
    sys.exit(main())

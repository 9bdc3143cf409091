"""The spine: a real moat serve answers STS (Query) and KMS GenerateRandom
(JSON) for the aws CLI, boto3 and curl, verifies every signature, and keeps
its credentials across restarts."""
import base64
import datetime
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET

import botocore
import pytest
from botocore.exceptions import ClientError

from moat_harness import MOAT_BIN, Moat, client_error_code
import rawsig

ACCOUNT = "000000000000"


def query_error(body):
    root = ET.fromstring(body)
    ns = {"a": root.tag.split("}")[0][1:]} if root.tag.startswith("{") else {}
    code = root.find(".//a:Error/a:Code", ns) if ns else root.find(".//Error/Code")
    msg = root.find(".//a:Error/a:Message", ns) if ns else root.find(".//Error/Message")
    return code.text, msg.text


# ---- happy paths -------------------------------------------------------------


def test_get_caller_identity_boto3(moat):
    ident = moat.client("sts").get_caller_identity()
    assert ident["Account"] == ACCOUNT
    assert ident["Arn"] == "arn:aws:iam::%s:root" % ACCOUNT
    assert ident["UserId"] == ACCOUNT
    assert re.fullmatch(r"[0-9a-f-]{36}", ident["ResponseMetadata"]["RequestId"])


def test_get_caller_identity_aws_cli(moat):
    out = moat.aws("sts", "get-caller-identity")
    assert out == {"UserId": ACCOUNT, "Account": ACCOUNT, "Arn": "arn:aws:iam::%s:root" % ACCOUNT}


@pytest.mark.skipif(not shutil.which("curl"), reason="curl not installed")
def test_get_caller_identity_curl(moat):
    p = subprocess.run(
        ["curl", "-sS", "--fail-with-body", "--aws-sigv4", "aws:amz:us-east-1:sts",
         "--user", "%s:%s" % (moat.access_key, moat.secret_key),
         "-d", "Action=GetCallerIdentity&Version=2011-06-15", moat.endpoint + "/"],
        capture_output=True, text=True)
    assert p.returncode == 0, p.stderr + p.stdout
    assert "<Arn>arn:aws:iam::%s:root</Arn>" % ACCOUNT in p.stdout
    assert "<GetCallerIdentityResult>" in p.stdout


def test_generate_random_boto3(moat):
    kms = moat.client("kms")
    a = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    b = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    assert len(a) == 32 and len(b) == 32 and a != b


def test_generate_random_aws_cli(moat):
    out = moat.aws("kms", "generate-random", "--number-of-bytes", "64")
    assert len(base64.b64decode(out["Plaintext"])) == 64


def test_response_headers_carry_request_id(moat):
    status, headers, body = rawsig.kms_request(moat)
    assert status == 200
    assert re.fullmatch(r"[0-9a-f-]{36}", headers["x-amzn-requestid"])
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert len(base64.b64decode(json.loads(body)["Plaintext"])) == 16


# ---- protocol error shapes ----------------------------------------------------


def test_json_validation_error_shape(moat):
    kms = moat.client("kms", parameter_validation=False)
    for n, constraint in ((0, "greater than or equal to 1"), (1025, "less than or equal to 1024")):
        with pytest.raises(ClientError) as e:
            kms.generate_random(NumberOfBytes=n)
        err = e.value.response["Error"]
        assert err["Code"] == "ValidationException"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert err["Message"] == (
            "1 validation error detected: Value '%d' at 'numberOfBytes' failed to satisfy "
            "constraint: Member must have value %s" % (n, constraint))


def test_json_missing_required_value(moat):
    status, headers, body = rawsig.kms_request(moat, body=b"{}")
    assert status == 400
    doc = json.loads(body)
    assert doc["__type"] == "ValidationException"
    assert "numberOfBytes" in doc["message"]
    assert headers["x-amzn-errortype"] == "ValidationException"


def test_json_malformed_body(moat):
    for body in (b'{"NumberOfBytes": 16', b'{"NumberOfBytes": "sixteen"}', b"[1,2]"):
        status, _, data = rawsig.kms_request(moat, body=body)
        assert status == 400, body
        assert json.loads(data)["__type"] == "SerializationException", body


def test_json_unknown_and_unsupported_operations(moat):
    status, _, data = rawsig.kms_request(moat, target="TrentService.NoSuchThing", body=b"{}")
    assert status == 400
    doc = json.loads(data)
    assert doc["__type"] == "UnknownOperationException"
    status, _, data = rawsig.kms_request(moat, target="TrentService.ConnectCustomKeyStore",
                                         body=b'{"CustomKeyStoreId":"cks-1"}')
    doc = json.loads(data)
    assert status == 400 and doc["__type"] == "UnknownOperationException"
    assert "not supported" in doc["message"]
    status, _, data = rawsig.kms_request(moat, target="NoSuchService_2020.Op", body=b"{}")
    assert status == 400 and json.loads(data)["__type"] == "UnknownOperationException"


def test_query_invalid_action(moat):
    status, headers, body = rawsig.sts_request(moat, body=b"Action=NoSuchAction&Version=2011-06-15")
    assert status == 400
    assert headers["content-type"].startswith("text/xml")
    code, msg = query_error(body)
    assert code == "InvalidAction"
    assert "NoSuchAction" in msg


def test_query_error_shape_from_cli(moat):
    p = moat.aws("sts", "get-caller-identity", secret_key="x" * 40, raw=True)
    assert p.returncode != 0
    assert "SignatureDoesNotMatch" in p.stderr


# ---- SigV4 failure modes ---------------------------------------------------------


def test_wrong_secret(moat):
    sts = moat.client("sts", secret_key="wrong" * 8)
    with pytest.raises(ClientError) as e:
        sts.get_caller_identity()
    assert client_error_code(e.value) == "SignatureDoesNotMatch"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    kms = moat.client("kms", secret_key="wrong" * 8)
    with pytest.raises(ClientError) as e:
        kms.generate_random(NumberOfBytes=8)
    assert client_error_code(e.value) == "InvalidSignatureException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_unknown_access_key(moat):
    sts = moat.client("sts", access_key="AKIAUNKNOWNKEY000000")
    with pytest.raises(ClientError) as e:
        sts.get_caller_identity()
    assert client_error_code(e.value) == "InvalidClientTokenId"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    kms = moat.client("kms", access_key="AKIAUNKNOWNKEY000000")
    with pytest.raises(ClientError) as e:
        kms.generate_random(NumberOfBytes=8)
    assert client_error_code(e.value) == "UnrecognizedClientException"


def test_expired_and_future_dates(moat):
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    status, _, body = rawsig.sts_request(moat, when=old)
    assert status == 403
    code, msg = query_error(body)
    assert code == "SignatureDoesNotMatch" and "Signature expired" in msg
    status, _, body = rawsig.kms_request(moat, when=old)
    doc = json.loads(body)
    assert status == 400 and doc["__type"] == "InvalidSignatureException"
    assert doc["message"].startswith("Signature expired: ")
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=20)
    status, _, body = rawsig.kms_request(moat, when=future)
    doc = json.loads(body)
    assert status == 400 and doc["__type"] == "InvalidSignatureException"
    assert "not yet current" in doc["message"]
    # inside the 15-minute window: accepted
    near = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
    assert rawsig.sts_request(moat, when=near)[0] == 200


def test_tampered_body(moat):
    def tamper(h, body):
        return h, body.replace(b"GetCallerIdentity", b"GetCallerIdentitx")
    status, _, body = rawsig.sts_request(moat, tamper=tamper)
    assert status == 403 and query_error(body)[0] == "SignatureDoesNotMatch"

    def tamper_json(h, body):
        return h, b'{"NumberOfBytes": 17}'
    status, _, body = rawsig.kms_request(moat, tamper=tamper_json)
    assert status == 400 and json.loads(body)["__type"] == "InvalidSignatureException"


def test_tampered_signed_header(moat):
    def tamper(h, body):
        h["X-Amz-Target"] = "TrentService.GenerateRandom "
        h["Content-Type"] = "application/x-amz-json-1.0"
        return h, body
    status, _, body = rawsig.kms_request(moat, tamper=tamper)
    assert status == 400 and json.loads(body)["__type"] == "InvalidSignatureException"


def test_missing_signed_header(moat):
    def drop(h, body):
        del h["Content-Type"]
        return h, body
    status, _, body = rawsig.kms_request(moat, tamper=drop)
    assert status == 400
    assert json.loads(body)["__type"] in ("InvalidSignatureException",
                                          "IncompleteSignatureException")


def test_unsigned_host_is_refused(moat):
    host = "127.0.0.1:%d" % moat.port
    h = rawsig.sign("POST", host, "/", [], {"Content-Type": "application/x-amz-json-1.1",
                                             "X-Amz-Target": "TrentService.GenerateRandom"},
                    b'{"NumberOfBytes": 4}', moat.access_key, moat.secret_key, "us-east-1", "kms",
                    signed=["content-type", "x-amz-date", "x-amz-target"])
    status, _, body = rawsig.send(moat.port, "POST", "/", h, b'{"NumberOfBytes": 4}')
    assert status == 400
    assert json.loads(body)["__type"] in ("InvalidSignatureException",
                                          "IncompleteSignatureException")


def test_missing_authentication(moat):
    status, _, body = rawsig.send(moat.port, "POST", "/", {
        "Host": "127.0.0.1", "Content-Type": "application/x-www-form-urlencoded"},
        b"Action=GetCallerIdentity&Version=2011-06-15")
    assert status == 403
    assert query_error(body)[0] == "MissingAuthenticationToken"
    status, _, body = rawsig.send(moat.port, "POST", "/", {
        "Host": "127.0.0.1", "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "TrentService.GenerateRandom"}, b"{}")
    assert status == 400
    assert json.loads(body)["__type"] == "MissingAuthenticationTokenException"


def test_malformed_authorization(moat):
    for auth in ("AWS4-HMAC-SHA256 Credential=%s/20200101/us-east-1/sts/aws4_request" % moat.access_key,
                 "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc",
                 "Basic dXNlcjpwYXNz"):
        status, _, body = rawsig.send(moat.port, "POST", "/", {
            "Host": "127.0.0.1", "Content-Type": "application/x-www-form-urlencoded",
            "X-Amz-Date": datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ"),
            "Authorization": auth}, b"Action=GetCallerIdentity&Version=2011-06-15")
        assert status in (400, 403), auth
        assert query_error(body)[0] in ("IncompleteSignature", "InvalidClientTokenId",
                                        "MissingAuthenticationToken"), auth


def test_presigned_url_and_expiry(moat):
    sts = moat.client("sts")
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=2, HttpMethod="GET")
    with urllib.request.urlopen(url) as r:
        body = r.read().decode()
    assert "arn:aws:iam::%s:root" % ACCOUNT in body
    time.sleep(3.2)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url)
    assert e.value.code in (400, 403)
    code, msg = query_error(e.value.read())
    assert code in ("RequestExpired", "AccessDenied", "SignatureDoesNotMatch", "ExpiredToken")


def test_presigned_url_tampered(moat):
    sts = moat.client("sts")
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=300, HttpMethod="GET")
    bad = url.replace("X-Amz-Expires=300", "X-Amz-Expires=301")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(bad)
    assert e.value.code == 403
    assert query_error(e.value.read())[0] == "SignatureDoesNotMatch"


def test_wrong_service_in_scope(moat):
    status, _, body = rawsig.kms_request(moat, service="sts")
    assert status == 400
    doc = json.loads(body)
    assert doc["__type"] == "InvalidSignatureException"
    assert "service" in doc["message"]


def test_other_regions_are_served(moat):
    ident = moat.client("sts", region="eu-west-3").get_caller_identity()
    assert ident["Account"] == ACCOUNT
    assert len(moat.client("kms", region="ap-southeast-2").generate_random(NumberOfBytes=3)["Plaintext"]) == 3


# ---- HTTP limits -------------------------------------------------------------


def raw_exchange(port, data, read_timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    s.sendall(data)
    chunks = []
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            chunks.append(c)
            if b"\r\n\r\n" in b"".join(chunks):
                head = b"".join(chunks).split(b"\r\n\r\n")[0]
                m = re.search(rb"content-length: *(\d+)", head, re.I)
                if m and len(b"".join(chunks)) >= len(head) + 4 + int(m.group(1)):
                    break
    except socket.timeout:
        pass
    s.close()
    return b"".join(chunks)


def test_oversized_header_is_431(moat):
    req = b"GET /_moat/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n"
    resp = raw_exchange(moat.port, req)
    assert resp.startswith(b"HTTP/1.1 431")


def test_oversized_body_is_413(fresh_moat):
    m = fresh_moat(args=["--max-body-bytes", "1024"])
    body = b"Action=GetCallerIdentity&Version=2011-06-15&Pad=" + b"x" * 2000
    req = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body)) + body
    resp = raw_exchange(m.port, req)
    assert resp.startswith(b"HTTP/1.1 413")


def test_slow_client_is_cut_off(fresh_moat):
    m = fresh_moat(args=["--header-timeout-ms", "500"])
    s = socket.create_connection(("127.0.0.1", m.port), timeout=5)
    s.sendall(b"GET /_moat/health HTTP/1.1\r\nHost: x\r\n")
    t0 = time.time()
    data = b""
    try:
        while True:
            c = s.recv(4096)
            if not c:
                break
            data += c
    except socket.timeout:
        pass
    s.close()
    assert time.time() - t0 < 4
    assert data == b"" or data.startswith(b"HTTP/1.1 408")


def test_smuggling_framing_is_refused(moat):
    req = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"0\r\n\r\n")
    assert raw_exchange(moat.port, req).startswith(b"HTTP/1.1 400")
    req = b"GET /_moat/health HTTP/1.1\nHost: x\n\n"
    assert raw_exchange(moat.port, req).startswith(b"HTTP/1.1 400")


def test_keep_alive_and_chunked_body(moat):
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    host = "127.0.0.1:%d" % moat.port
    h = rawsig.sign("POST", host, "/", [], {"Content-Type": "application/x-www-form-urlencoded"},
                    body, moat.access_key, moat.secret_key, "us-east-1", "sts")
    head = "".join("%s: %s\r\n" % kv for kv in h.items()).encode()
    chunked = b"10\r\n" + body[:16] + b"\r\n" + (b"%x\r\n" % (len(body) - 16)) + body[16:] + b"\r\n0\r\n\r\n"
    req = b"POST / HTTP/1.1\r\n" + head + b"Transfer-Encoding: chunked\r\n\r\n" + chunked
    s = socket.create_connection(("127.0.0.1", moat.port), timeout=5)
    for _ in range(3):
        s.sendall(req)
        data = b""
        while b"</GetCallerIdentityResponse>" not in data:
            c = s.recv(65536)
            assert c, data
            data += c
        assert data.startswith(b"HTTP/1.1 200")
    s.close()


# ---- process, data directory, credentials -------------------------------------


def test_health_endpoints_need_no_auth(moat):
    with urllib.request.urlopen(moat.endpoint + "/_moat/health") as r:
        assert json.load(r)["status"] == "ok"
    with urllib.request.urlopen(moat.endpoint + "/_localstack/health") as r:
        doc = json.load(r)
    assert doc["services"]["sts"] == "running" and doc["services"]["kms"] == "running"


def test_reset_is_off_by_default(moat):
    req = urllib.request.Request(moat.endpoint + "/_moat/reset", method="POST", data=b"")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 403


def test_first_start_generates_credentials_and_restart_keeps_them(fresh_moat):
    m = fresh_moat(pin_root=False)
    out = m.read_stdout()
    assert m.access_key in out and m.secret_key in out
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", m.access_key)
    assert len(m.secret_key) == 40
    st = os.stat(m.data_dir)
    assert stat.S_IMODE(st.st_mode) == 0o700 or not m.owns_dir
    assert stat.S_IMODE(os.stat(os.path.join(m.data_dir, "root.key")).st_mode) == 0o600
    ident = m.client("sts").get_caller_identity()
    assert ident["Arn"] == "arn:aws:iam::%s:root" % ACCOUNT
    assert m.restart() == 0
    assert m.env_credentials() == (m.access_key, m.secret_key)
    # printed once: the restart did not print them again
    assert m.read_stdout().count(m.secret_key) == 1
    assert m.client("sts").get_caller_identity()["Account"] == ACCOUNT
    # the secret is not stored in plaintext anywhere in the data directory
    for name in os.listdir(m.data_dir):
        path = os.path.join(m.data_dir, name)
        if os.path.isfile(path) and name not in ("stdout.txt",):
            with open(path, "rb") as f:
                assert m.secret_key.encode() not in f.read(), name
    assert m.secret_key not in m.read_log()


def test_moat_env_output(fresh_moat):
    m = fresh_moat(pin_root=False)
    store = ["--store", m.store_url] if m.store_url else []
    before = sorted(os.listdir(m.data_dir))
    out = subprocess.run([MOAT_BIN, "env", "--data-dir", m.data_dir, "--listen",
                          "127.0.0.1:%d" % m.port] + store, capture_output=True, text=True,
                         check=True).stdout
    env = dict(re.findall(r"export (\w+)=(\S+)", out))
    assert env["AWS_ENDPOINT_URL"] == m.endpoint
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_ACCESS_KEY_ID"] == m.access_key
    p = subprocess.run([MOAT_BIN, "env", "--data-dir", "/nonexistent/moat"], capture_output=True,
                       text=True)
    assert p.returncode != 0 and "no moat data" in p.stderr
    # Inspecting writes nothing: no new files, and a data directory without a
    # store is refused instead of being given a fresh account.
    assert sorted(os.listdir(m.data_dir)) == before
    empty = os.path.join(m.data_dir, "empty")
    os.mkdir(empty, 0o700)
    p = subprocess.run([MOAT_BIN, "env", "--data-dir", empty], capture_output=True, text=True)
    assert p.returncode != 0 and os.listdir(empty) == []
    p = subprocess.run([MOAT_BIN, "audit", "verify", "--data-dir", empty], capture_output=True,
                       text=True)
    assert p.returncode != 0 and os.listdir(empty) == []


def test_sigterm_exits_cleanly(fresh_moat):
    m = fresh_moat()
    m.client("sts").get_caller_identity()
    assert m.stop() == 0
    assert '"stopped"' in m.read_log() or "stopped" in m.read_log()


def test_logs_are_json_lines_without_secrets(moat):
    moat.client("sts").get_caller_identity()
    lines = [l for l in moat.read_log().splitlines() if l.strip()]
    assert lines
    for l in lines:
        doc = json.loads(l)
        assert "level" in doc and "time" in doc
    assert moat.secret_key not in moat.read_log()


def test_version_and_help():
    out = subprocess.run([MOAT_BIN, "version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("moat ")
    for args in (["--help"], ["serve", "--help"], ["env", "--help"], ["audit", "--help"]):
        p = subprocess.run([MOAT_BIN] + args, capture_output=True, text=True)
        assert p.returncode == 0 and "usage: moat" in p.stdout, args
    p = subprocess.run([MOAT_BIN, "serve", "--auth", "sometimes"], capture_output=True, text=True)
    assert p.returncode == 2


def test_env_variables_configure_serve(fresh_moat):
    m = fresh_moat(env={"MOAT_ACCOUNT_ID": "123456789012"})
    assert m.client("sts").get_caller_identity()["Account"] == "123456789012"


# ---- permissive mode -----------------------------------------------------------


def test_permissive_mode(fresh_moat):
    m = fresh_moat(args=["--auth", "permissive"])
    ident = m.client("sts", access_key="test", secret_key="test").get_caller_identity()
    assert ident["Arn"] == "arn:aws:iam::%s:root" % ACCOUNT
    ident = m.client("sts", access_key="111122223333", secret_key="x").get_caller_identity()
    assert ident["Account"] == "111122223333"
    assert len(m.client("kms", access_key="a", secret_key="b").generate_random(NumberOfBytes=5)["Plaintext"]) == 5
    # still SigV4: an unsigned request is refused
    status, _, body = rawsig.send(m.port, "POST", "/", {
        "Host": "127.0.0.1", "Content-Type": "application/x-www-form-urlencoded"},
        b"Action=GetCallerIdentity&Version=2011-06-15")
    assert status == 403


# ---- TLS ----------------------------------------------------------------------


def test_https_listener_with_generated_certificate(fresh_moat):
    m = fresh_moat(tls=True)
    import urllib3
    urllib3.disable_warnings()
    ident = m.client("sts", tls=True).get_caller_identity()
    assert ident["Account"] == ACCOUNT
    assert os.path.exists(os.path.join(m.data_dir, "tls.crt"))
    key_mode = stat.S_IMODE(os.stat(os.path.join(m.data_dir, "tls.key")).st_mode)
    assert key_mode == 0o600


def test_non_utf8_header_bytes_do_not_break_auditing(moat):
    """A user agent or access key id that is not UTF-8 is recorded sanitised;
    it must not fail the audit batch (and so the other requests in it)."""
    h = rawsig.sign("POST", "127.0.0.1:%d" % moat.port, "/", [],
                    {"Content-Type": "application/x-www-form-urlencoded"},
                    b"Action=GetCallerIdentity&Version=2011-06-15", moat.access_key,
                    moat.secret_key, "us-east-1", "sts")
    h["User-Agent"] = "agent-\udcff-\udcfe".encode("utf-8", "surrogateescape").decode("latin-1")
    status, _, body = rawsig.send(moat.port, "POST", "/", h,
                                  b"Action=GetCallerIdentity&Version=2011-06-15")
    assert status == 200, body
    bad = dict(h)
    bad["Authorization"] = bad["Authorization"].replace(moat.access_key, "AKIA\xff\xfe\x01BAD")
    status, _, body = rawsig.send(moat.port, "POST", "/", bad,
                                  b"Action=GetCallerIdentity&Version=2011-06-15")
    assert status in (400, 403)
    assert moat.client("sts").get_caller_identity()["Account"] == ACCOUNT

"""An independent SigV4 signer for tests that need to send requests no SDK
would send: signed at another time, tampered after signing, missing headers.
Written from the AWS documentation (non-S3 rules), separate from moat's code."""
import datetime
import hashlib
import hmac
import http.client
import urllib.parse


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _enc(s, safe="-_.~"):
    return urllib.parse.quote(s, safe=safe)


def sign(method, host, path, query, headers, body, access_key, secret, region, service,
         when=None, session_token=None, signed=None):
    """Returns headers with X-Amz-Date and Authorization added.
    headers: dict; body: bytes; query: list of (k, v); signed: header names to sign
    (default: all given headers plus host and x-amz-date)."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    headers = dict(headers)
    headers["Host"] = host
    headers["X-Amz-Date"] = amz_date
    if session_token:
        headers["X-Amz-Security-Token"] = session_token
    lower = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    names = sorted(signed if signed is not None else lower.keys())
    canonical_headers = "".join("%s:%s\n" % (n, lower.get(n, "")) for n in names)
    cq = "&".join("%s=%s" % (_enc(k), _enc(v)) for k, v in sorted(query))
    payload = hashlib.sha256(body).hexdigest()
    creq = "\n".join([method, path, cq, canonical_headers, ";".join(names), payload])
    scope = "%s/%s/%s/aws4_request" % (date, region, service)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = _hmac(("AWS4" + secret).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    k = _hmac(k, "aws4_request")
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        access_key, scope, ";".join(names), sig)
    return headers


def send(port, method, path, headers, body=b"", query=None):
    """Sends a request over http.client; returns (status, headers dict, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    target = path
    if query:
        target += "?" + "&".join("%s=%s" % (_enc(k), _enc(v)) for k, v in query)
    conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    for k, v in headers.items():
        conn.putheader(k, v)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    r = conn.getresponse()
    data = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    conn.close()
    return r.status, hdrs, data


def sts_request(moat, body=b"Action=GetCallerIdentity&Version=2011-06-15", **kw):
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    host = "127.0.0.1:%d" % moat.port
    kw.setdefault("access_key", moat.access_key)
    kw.setdefault("secret", moat.secret_key)
    kw.setdefault("region", "us-east-1")
    kw.setdefault("service", "sts")
    tamper = kw.pop("tamper", None)
    h = sign("POST", host, "/", [], headers, body, **kw)
    if tamper:
        h, body = tamper(h, body)
    return send(moat.port, "POST", "/", h, body)


def kms_request(moat, target="TrentService.GenerateRandom", body=b'{"NumberOfBytes": 16}', **kw):
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
    host = "127.0.0.1:%d" % moat.port
    kw.setdefault("access_key", moat.access_key)
    kw.setdefault("secret", moat.secret_key)
    kw.setdefault("region", "us-east-1")
    kw.setdefault("service", "kms")
    tamper = kw.pop("tamper", None)
    h = sign("POST", host, "/", [], headers, body, **kw)
    if tamper:
        h, body = tamper(h, body)
    return send(moat.port, "POST", "/", h, body)

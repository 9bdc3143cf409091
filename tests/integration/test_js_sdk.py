"""The AWS SDK for JavaScript v3 (@aws-sdk/client-sts and client-kms, installed in
tests/js by tools/check.sh) against a live moat: GetCallerIdentity, Encrypt/Decrypt
and Sign/Verify, with node's crypto checking the signature too."""
import json
import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
JS = os.path.join(os.path.dirname(HERE), "js")

pytestmark = pytest.mark.needs_node


def test_js_sdk_sts_and_kms(moat):
    node = shutil.which("node")
    assert node, "node is needed for the JavaScript SDK test"
    assert os.path.isdir(os.path.join(JS, "node_modules", "@aws-sdk", "client-kms")), \
        "run `npm ci` in tests/js (tools/check.sh does)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(MOAT_ENDPOINT=moat.endpoint, AWS_ACCESS_KEY_ID=moat.access_key,
               AWS_SECRET_ACCESS_KEY=moat.secret_key, AWS_REGION="us-east-1",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    p = subprocess.run([node, os.path.join(JS, "kms_roundtrip.mjs")], cwd=JS, env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr + p.stdout
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["account"] == "000000000000"
    assert out["arn"] == "arn:aws:iam::000000000000:root"
    assert out["decrypted"] == "secret from javascript"
    assert out["encryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert out["wrongContext"] == "InvalidCiphertextException"
    assert out["signatureValid"] is True and out["signingAlgorithm"] == "ECDSA_SHA_256"
    assert out["localVerify"] is True
    assert out["badSignature"] == "KMSInvalidSignatureException"

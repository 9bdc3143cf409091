"""Every KMS operation through the aws CLI (v2 from Debian, v1 with the newest
botocore): the commands people type, with their file arguments and outputs."""
import base64
import functools
import os
import subprocess
import tempfile

import pytest

from moat_harness import AWS_CLI

ACCOUNT = "000000000000"

pytestmark = pytest.mark.slow  # one CLI process per command


@functools.lru_cache(maxsize=None)
def cli_commands():
    p = subprocess.run([AWS_CLI, "kms", "help"], capture_output=True, text=True,
                       env=dict(os.environ, AWS_PAGER="", PAGER="cat"))
    return p.stdout.replace("\b", "")


def has(cmd):
    return ("o %s" % cmd) in cli_commands() or (" %s\n" % cmd) in cli_commands()


def fail(moat, *args, code):
    p = moat.aws(*args, raw=True)
    assert p.returncode != 0, args
    assert code in p.stderr, p.stderr
    return p.stderr


def test_key_management_commands(moat):
    key = moat.aws("kms", "create-key", "--description", "cli", "--tags",
                   "TagKey=env,TagValue=test")["KeyMetadata"]
    kid, arn = key["KeyId"], key["Arn"]
    assert moat.aws("kms", "describe-key", "--key-id", kid)["KeyMetadata"]["Arn"] == arn
    assert kid in [k["KeyId"] for k in moat.aws("kms", "list-keys")["Keys"]]
    moat.aws("kms", "update-key-description", "--key-id", kid, "--description", "renamed")
    moat.aws("kms", "tag-resource", "--key-id", kid, "--tags", "TagKey=team,TagValue=x")
    moat.aws("kms", "untag-resource", "--key-id", kid, "--tag-keys", "env")
    assert moat.aws("kms", "list-resource-tags", "--key-id", kid)["Tags"] == [{"TagKey": "team", "TagValue": "x"}]
    moat.aws("kms", "create-alias", "--alias-name", "alias/cli-1", "--target-key-id", kid)
    other = moat.aws("kms", "create-key")["KeyMetadata"]["KeyId"]
    moat.aws("kms", "update-alias", "--alias-name", "alias/cli-1", "--target-key-id", other)
    names = {a["AliasName"]: a.get("TargetKeyId") for a in moat.aws("kms", "list-aliases")["Aliases"]}
    assert names["alias/cli-1"] == other
    moat.aws("kms", "delete-alias", "--alias-name", "alias/cli-1")
    pol = moat.aws("kms", "get-key-policy", "--key-id", kid, "--policy-name", "default")["Policy"]
    moat.aws("kms", "put-key-policy", "--key-id", kid, "--policy-name", "default", "--policy", pol)
    assert moat.aws("kms", "list-key-policies", "--key-id", kid)["PolicyNames"] == ["default"]
    moat.aws("kms", "disable-key", "--key-id", kid)
    fail(moat, "kms", "encrypt", "--key-id", kid, "--plaintext", "aGVsbG8=", code="DisabledException")
    moat.aws("kms", "enable-key", "--key-id", kid)
    moat.aws("kms", "enable-key-rotation", "--key-id", kid)
    assert moat.aws("kms", "get-key-rotation-status", "--key-id", kid)["KeyRotationEnabled"] is True
    moat.aws("kms", "disable-key-rotation", "--key-id", kid)
    if has("rotate-key-on-demand"):
        moat.aws("kms", "rotate-key-on-demand", "--key-id", kid)
        rot = moat.aws("kms", "list-key-rotations", "--key-id", kid)["Rotations"]
        assert rot[0]["RotationType"] == "ON_DEMAND"
    r = moat.aws("kms", "schedule-key-deletion", "--key-id", kid, "--pending-window-in-days", "7")
    assert r["KeyState"] == "PendingDeletion" and r["PendingWindowInDays"] == 7
    assert moat.aws("kms", "cancel-key-deletion", "--key-id", kid)["KeyId"] == arn
    assert moat.aws("kms", "describe-custom-key-stores")["CustomKeyStores"] == []
    assert len(base64.b64decode(moat.aws("kms", "generate-random", "--number-of-bytes", "12")["Plaintext"])) == 12
    if has("get-key-last-usage"):
        assert moat.aws("kms", "get-key-last-usage", "--key-id", kid)["KeyId"] == kid


def test_encryption_commands(moat):
    kid = moat.aws("kms", "create-key")["KeyMetadata"]["KeyId"]
    dest = moat.aws("kms", "create-key")["KeyMetadata"]["KeyId"]
    with tempfile.TemporaryDirectory() as d:
        pt = os.path.join(d, "pt")
        with open(pt, "wb") as f:
            f.write(b"cli secret")
        ct = moat.aws("kms", "encrypt", "--key-id", kid, "--plaintext", "fileb://" + pt,
                      "--encryption-context", "purpose=cli")["CiphertextBlob"]
        ct_path = os.path.join(d, "ct")
        with open(ct_path, "wb") as f:
            f.write(base64.b64decode(ct))
        re = moat.aws("kms", "re-encrypt", "--ciphertext-blob", "fileb://" + ct_path,
                      "--source-encryption-context", "purpose=cli", "--destination-key-id", dest)
        assert re["KeyId"].endswith(dest)
        with open(ct_path, "wb") as f:
            f.write(base64.b64decode(re["CiphertextBlob"]))
        out = moat.aws("kms", "decrypt", "--ciphertext-blob", "fileb://" + ct_path)
        assert base64.b64decode(out["Plaintext"]) == b"cli secret" and out["KeyId"].endswith(dest)
        dk = moat.aws("kms", "generate-data-key", "--key-id", kid, "--key-spec", "AES_256")
        assert len(base64.b64decode(dk["Plaintext"])) == 32
        wp = moat.aws("kms", "generate-data-key-without-plaintext", "--key-id", kid, "--number-of-bytes", "16")
        assert "Plaintext" not in wp
        pair = moat.aws("kms", "generate-data-key-pair", "--key-id", kid, "--key-pair-spec", "ECC_NIST_P384")
        assert pair["KeyPairSpec"] == "ECC_NIST_P384"
        assert "PrivateKeyPlaintext" not in moat.aws(
            "kms", "generate-data-key-pair-without-plaintext", "--key-id", kid, "--key-pair-spec", "RSA_2048")
        grantee = "arn:aws:iam::%s:root" % ACCOUNT
        g = moat.aws("kms", "create-grant", "--key-id", kid, "--grantee-principal", grantee,
                     "--retiring-principal", grantee, "--operations", "Decrypt", "Encrypt")
        assert [x["GrantId"] for x in moat.aws("kms", "list-grants", "--key-id", kid)["Grants"]] == [g["GrantId"]]
        assert g["GrantId"] in [x["GrantId"] for x in moat.aws(
            "kms", "list-retirable-grants", "--retiring-principal", grantee)["Grants"]]
        moat.aws("kms", "retire-grant", "--grant-token", g["GrantToken"])
        g2 = moat.aws("kms", "create-grant", "--key-id", kid, "--grantee-principal", grantee,
                      "--operations", "Decrypt")
        moat.aws("kms", "revoke-grant", "--key-id", kid, "--grant-id", g2["GrantId"])
        assert moat.aws("kms", "list-grants", "--key-id", kid)["Grants"] == []


def test_asymmetric_and_mac_commands(moat):
    sk = moat.aws("kms", "create-key", "--key-spec", "ECC_NIST_P256", "--key-usage", "SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    mk = moat.aws("kms", "create-key", "--key-spec", "HMAC_256", "--key-usage", "GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    with tempfile.TemporaryDirectory() as d:
        msg = os.path.join(d, "msg")
        with open(msg, "wb") as f:
            f.write(b"sign me")
        sig = moat.aws("kms", "sign", "--key-id", sk, "--message", "fileb://" + msg,
                       "--signing-algorithm", "ECDSA_SHA_256")["Signature"]
        sig_path = os.path.join(d, "sig")
        with open(sig_path, "wb") as f:
            f.write(base64.b64decode(sig))
        v = moat.aws("kms", "verify", "--key-id", sk, "--message", "fileb://" + msg, "--signature",
                     "fileb://" + sig_path, "--signing-algorithm", "ECDSA_SHA_256")
        assert v["SignatureValid"] is True
        pub = base64.b64decode(moat.aws("kms", "get-public-key", "--key-id", sk)["PublicKey"])
        pub_path, pem = os.path.join(d, "pub.der"), os.path.join(d, "pub.pem")
        with open(pub_path, "wb") as f:
            f.write(pub)
        subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-in", pub_path, "-out", pem], check=True)
        ok = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pem, "-signature", sig_path, msg],
                            capture_output=True, text=True)
        assert "Verified OK" in ok.stdout
        mac = moat.aws("kms", "generate-mac", "--key-id", mk, "--message", "fileb://" + msg,
                       "--mac-algorithm", "HMAC_SHA_256")["Mac"]
        mac_path = os.path.join(d, "mac")
        with open(mac_path, "wb") as f:
            f.write(base64.b64decode(mac))
        assert moat.aws("kms", "verify-mac", "--key-id", mk, "--message", "fileb://" + msg, "--mac",
                        "fileb://" + mac_path, "--mac-algorithm", "HMAC_SHA_256")["MacValid"] is True
        if has("derive-shared-secret"):
            ka = moat.aws("kms", "create-key", "--key-spec", "ECC_NIST_P256", "--key-usage",
                          "KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
            peer = os.path.join(d, "peer.pem")
            peer_der = os.path.join(d, "peer.der")
            subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                            "-out", peer], check=True)
            subprocess.run(["openssl", "pkey", "-in", peer, "-pubout", "-outform", "DER", "-out", peer_der], check=True)
            r = moat.aws("kms", "derive-shared-secret", "--key-id", ka, "--key-agreement-algorithm", "ECDH",
                         "--public-key", "fileb://" + peer_der)
            assert len(base64.b64decode(r["SharedSecret"])) == 32


def test_import_and_multi_region_commands(moat):
    ext = moat.aws("kms", "create-key", "--origin", "EXTERNAL")["KeyMetadata"]["KeyId"]
    params = moat.aws("kms", "get-parameters-for-import", "--key-id", ext, "--wrapping-algorithm",
                      "RSAES_OAEP_SHA_256", "--wrapping-key-spec", "RSA_2048")
    with tempfile.TemporaryDirectory() as d:
        paths = {n: os.path.join(d, n) for n in ("pub.der", "pub.pem", "material", "wrapped", "token")}
        with open(paths["pub.der"], "wb") as f:
            f.write(base64.b64decode(params["PublicKey"]))
        with open(paths["token"], "wb") as f:
            f.write(base64.b64decode(params["ImportToken"]))
        with open(paths["material"], "wb") as f:
            f.write(os.urandom(32))
        subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-in", paths["pub.der"], "-out",
                        paths["pub.pem"]], check=True)
        subprocess.run(["openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey", paths["pub.pem"], "-in",
                        paths["material"], "-out", paths["wrapped"], "-pkeyopt", "rsa_padding_mode:oaep",
                        "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256"], check=True)
        moat.aws("kms", "import-key-material", "--key-id", ext, "--encrypted-key-material",
                 "fileb://" + paths["wrapped"], "--import-token", "fileb://" + paths["token"],
                 "--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert moat.aws("kms", "describe-key", "--key-id", ext)["KeyMetadata"]["KeyState"] == "Enabled"
    moat.aws("kms", "delete-imported-key-material", "--key-id", ext)
    assert moat.aws("kms", "describe-key", "--key-id", ext)["KeyMetadata"]["KeyState"] == "PendingImport"
    mrk = moat.aws("kms", "create-key", "--multi-region")["KeyMetadata"]["KeyId"]
    rep = moat.aws("kms", "replicate-key", "--key-id", mrk, "--replica-region", "us-west-2")
    assert rep["ReplicaKeyMetadata"]["Arn"].startswith("arn:aws:kms:us-west-2:")
    moat.aws("kms", "update-primary-region", "--key-id", mrk, "--primary-region", "us-west-2")
    md = moat.aws("kms", "describe-key", "--key-id", mrk, region="us-west-2")["KeyMetadata"]
    assert md["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"

"""KMS asymmetric and HMAC keys: signatures checked with openssl and the cryptography
package against GetPublicKey, RSAES-OAEP done locally and decrypted by KMS, HMAC,
ECDH key agreement, data key pairs, and AWS's errors for the wrong key or algorithm."""
import hashlib
import os
import subprocess
import tempfile

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from moat_harness import client_error_code


@pytest.fixture(scope="module")
def kms(moat):
    return moat.client("kms")


def knows(kms, shape, member=None, value=None):
    model = kms.meta.service_model
    try:
        if member is None and value is None:
            return shape in model.operation_names
        s = model.shape_for(shape)
        if value is not None:
            return value in (s.enum or [])
        return member in s.members
    except Exception:
        return False


def create(kms, spec, usage):
    return kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]


def public_key(kms, key):
    der = kms.get_public_key(KeyId=key)["PublicKey"]
    return serialization.load_der_public_key(der), der


HASHES = {"SHA_256": hashes.SHA256(), "SHA_384": hashes.SHA384(), "SHA_512": hashes.SHA512()}
HASHLIB = {"SHA_256": hashlib.sha256, "SHA_384": hashlib.sha384, "SHA_512": hashlib.sha512}


def local_verify(pub, alg, sig, msg):
    h = HASHES[alg[-7:]]
    if alg.startswith("ECDSA"):
        pub.verify(sig, msg, ec.ECDSA(h))
    elif alg.startswith("RSASSA_PSS"):
        pub.verify(sig, msg, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    else:
        pub.verify(sig, msg, padding.PKCS1v15(), h)


@pytest.mark.parametrize("spec,alg", [
    ("ECC_NIST_P256", "ECDSA_SHA_256"),
    ("ECC_NIST_P384", "ECDSA_SHA_384"),
    ("ECC_NIST_P521", "ECDSA_SHA_512"),
    ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
])
def test_ecdsa_sign_verify(kms, spec, alg):
    md = create(kms, spec, "SIGN_VERIFY")
    assert md["SigningAlgorithms"] == [alg]
    assert "EncryptionAlgorithms" not in md
    pub, der = public_key(kms, md["KeyId"])
    msg = os.urandom(300)
    r = kms.sign(KeyId=md["KeyId"], Message=msg, MessageType="RAW", SigningAlgorithm=alg)
    assert r["KeyId"] == md["Arn"] and r["SigningAlgorithm"] == alg
    local_verify(pub, alg, r["Signature"], msg)
    v = kms.verify(KeyId=md["KeyId"], Message=msg, Signature=r["Signature"], SigningAlgorithm=alg)
    assert v["SignatureValid"] is True
    # DIGEST: the caller hashes
    digest = HASHLIB[alg[-7:]](msg).digest()
    r2 = kms.sign(KeyId=md["KeyId"], Message=digest, MessageType="DIGEST", SigningAlgorithm=alg)
    local_verify(pub, alg, r2["Signature"], msg)
    with pytest.raises(ClientError) as e:
        kms.verify(KeyId=md["KeyId"], Message=msg + b"!", Signature=r["Signature"], SigningAlgorithm=alg)
    assert client_error_code(e.value) == "KMSInvalidSignatureException"
    with pytest.raises(ClientError) as e:
        kms.sign(KeyId=md["KeyId"], Message=digest[:-1], MessageType="DIGEST", SigningAlgorithm=alg)
    assert e.value.response["Error"] == {"Code": "ValidationException",
                                         "Message": "Digest is invalid length for algorithm %s." % alg}


def test_p256_signature_verifies_with_openssl(kms):
    md = create(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    _, der = public_key(kms, md["KeyId"])
    msg = b"message signed by KMS, checked by openssl"
    sig = kms.sign(KeyId=md["KeyId"], Message=msg, SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    with tempfile.TemporaryDirectory() as d:
        paths = {n: os.path.join(d, n) for n in ("pub.der", "pub.pem", "msg", "sig")}
        for n, data in (("pub.der", der), ("msg", msg), ("sig", sig)):
            with open(paths[n], "wb") as f:
                f.write(data)
        subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-in", paths["pub.der"],
                        "-out", paths["pub.pem"]], check=True)
        ok = subprocess.run(["openssl", "dgst", "-sha256", "-verify", paths["pub.pem"],
                             "-signature", paths["sig"], paths["msg"]], capture_output=True, text=True)
        assert ok.returncode == 0 and "Verified OK" in ok.stdout
        with open(paths["msg"], "ab") as f:
            f.write(b"x")
        bad = subprocess.run(["openssl", "dgst", "-sha256", "-verify", paths["pub.pem"],
                              "-signature", paths["sig"], paths["msg"]], capture_output=True, text=True)
        assert bad.returncode != 0


@pytest.mark.parametrize("alg", ["RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
                                 "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384",
                                 "RSASSA_PKCS1_V1_5_SHA_512"])
def test_rsa_signatures(kms, rsa_sign_key, alg):
    md = rsa_sign_key
    pub, _ = public_key(kms, md["KeyId"])
    msg = os.urandom(4096)
    sig = kms.sign(KeyId=md["KeyId"], Message=msg, SigningAlgorithm=alg)["Signature"]
    assert len(sig) == 256
    local_verify(pub, alg, sig, msg)
    digest = HASHLIB[alg[-7:]](msg).digest()
    sig2 = kms.sign(KeyId=md["KeyId"], Message=digest, MessageType="DIGEST", SigningAlgorithm=alg)["Signature"]
    local_verify(pub, alg, sig2, msg)
    assert kms.verify(KeyId=md["KeyId"], Message=digest, MessageType="DIGEST", Signature=sig,
                      SigningAlgorithm=alg)["SignatureValid"]


@pytest.fixture(scope="module")
def rsa_sign_key(kms):
    md = create(kms, "RSA_2048", "SIGN_VERIFY")
    assert sorted(md["SigningAlgorithms"]) == sorted([
        "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
        "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512"])
    return md


def test_sign_errors(kms, rsa_sign_key):
    key = rsa_sign_key["KeyId"]
    with pytest.raises(ClientError) as e:
        kms.sign(KeyId=key, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    assert client_error_code(e.value) == "InvalidKeyUsageException"
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=key, Plaintext=b"m")
    assert client_error_code(e.value) == "InvalidKeyUsageException"
    sym = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as e:
        kms.sign(KeyId=sym, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    assert client_error_code(e.value) == "InvalidKeyUsageException"
    with pytest.raises(ClientError) as e:
        kms.get_public_key(KeyId=sym)
    assert client_error_code(e.value) == "UnsupportedOperationException"
    raw = kms  # message of 4097 bytes is refused by the model's length limit
    with pytest.raises(Exception):
        raw.sign(KeyId=key, Message=b"m" * 4097, SigningAlgorithm="RSASSA_PSS_SHA_256")


@pytest.mark.parametrize("spec,max_sha1,max_sha256", [("RSA_2048", 214, 190), ("RSA_3072", 342, 318)])
def test_rsa_oaep(kms, spec, max_sha1, max_sha256):
    md = create(kms, spec, "ENCRYPT_DECRYPT")
    assert md["EncryptionAlgorithms"] == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
    pub, _ = public_key(kms, md["KeyId"])
    for alg, h, limit in (("RSAES_OAEP_SHA_1", hashes.SHA1(), max_sha1),
                          ("RSAES_OAEP_SHA_256", hashes.SHA256(), max_sha256)):
        secret = os.urandom(limit)
        ct = pub.encrypt(secret, padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None))
        d = kms.decrypt(KeyId=md["KeyId"], CiphertextBlob=ct, EncryptionAlgorithm=alg)
        assert d["Plaintext"] == secret and d["EncryptionAlgorithm"] == alg
        blob = kms.encrypt(KeyId=md["KeyId"], Plaintext=secret, EncryptionAlgorithm=alg)["CiphertextBlob"]
        assert kms.decrypt(KeyId=md["KeyId"], CiphertextBlob=blob, EncryptionAlgorithm=alg)["Plaintext"] == secret
        with pytest.raises(ClientError) as e:
            kms.encrypt(KeyId=md["KeyId"], Plaintext=os.urandom(limit + 1), EncryptionAlgorithm=alg)
        assert client_error_code(e.value) == "ValidationException"
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=md["KeyId"], Plaintext=b"x")  # SYMMETRIC_DEFAULT does not fit RSA
    assert client_error_code(e.value) == "InvalidKeyUsageException"
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=os.urandom(256))  # asymmetric ciphertexts need the KeyId
    assert client_error_code(e.value) == "InvalidCiphertextException"
    with pytest.raises(ClientError) as e:
        kms.decrypt(KeyId=md["KeyId"], CiphertextBlob=os.urandom(len(ct)),
                    EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert client_error_code(e.value) == "InvalidCiphertextException"


@pytest.mark.parametrize("spec,alg,n", [("HMAC_224", "HMAC_SHA_224", 28), ("HMAC_256", "HMAC_SHA_256", 32),
                                        ("HMAC_384", "HMAC_SHA_384", 48), ("HMAC_512", "HMAC_SHA_512", 64)])
def test_hmac(kms, spec, alg, n):
    md = create(kms, spec, "GENERATE_VERIFY_MAC")
    assert md["MacAlgorithms"] == [alg]
    m = kms.generate_mac(KeyId=md["KeyId"], Message=b"hello", MacAlgorithm=alg)
    assert len(m["Mac"]) == n and m["MacAlgorithm"] == alg and m["KeyId"] == md["Arn"]
    assert kms.generate_mac(KeyId=md["KeyId"], Message=b"hello", MacAlgorithm=alg)["Mac"] == m["Mac"]
    assert kms.verify_mac(KeyId=md["KeyId"], Message=b"hello", MacAlgorithm=alg, Mac=m["Mac"])["MacValid"]
    with pytest.raises(ClientError) as e:
        kms.verify_mac(KeyId=md["KeyId"], Message=b"hellO", MacAlgorithm=alg, Mac=m["Mac"])
    assert client_error_code(e.value) == "KMSInvalidMacException"
    other = "HMAC_SHA_256" if alg != "HMAC_SHA_256" else "HMAC_SHA_512"
    with pytest.raises(ClientError) as e:
        kms.generate_mac(KeyId=md["KeyId"], Message=b"hello", MacAlgorithm=other)
    assert client_error_code(e.value) == "InvalidKeyUsageException"
    with pytest.raises(ClientError) as e:
        kms.get_public_key(KeyId=md["KeyId"])
    assert client_error_code(e.value) == "UnsupportedOperationException"


def test_hmac_keys_differ(kms):
    a, b = create(kms, "HMAC_256", "GENERATE_VERIFY_MAC"), create(kms, "HMAC_256", "GENERATE_VERIFY_MAC")
    ma = kms.generate_mac(KeyId=a["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    mb = kms.generate_mac(KeyId=b["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert ma != mb


@pytest.mark.parametrize("spec,curve", [("ECC_NIST_P256", ec.SECP256R1()), ("ECC_NIST_P384", ec.SECP384R1()),
                                        ("ECC_NIST_P521", ec.SECP521R1())])
def test_derive_shared_secret(kms, spec, curve):
    if not knows(kms, "DeriveSharedSecret"):
        pytest.skip("this botocore has no DeriveSharedSecret")
    md = create(kms, spec, "KEY_AGREEMENT")
    assert md["KeyAgreementAlgorithms"] == ["ECDH"]
    kms_pub, _ = public_key(kms, md["KeyId"])
    mine = ec.generate_private_key(curve)
    my_der = mine.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    r = kms.derive_shared_secret(KeyId=md["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=my_der)
    assert r["SharedSecret"] == mine.exchange(ec.ECDH(), kms_pub)
    assert r["KeyAgreementAlgorithm"] == "ECDH" and r["KeyOrigin"] == "AWS_KMS"
    other = ec.generate_private_key(ec.SECP256K1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(ClientError) as e:
        kms.derive_shared_secret(KeyId=md["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=other)
    assert client_error_code(e.value) == "ValidationException"
    with pytest.raises(ClientError) as e:
        kms.sign(KeyId=md["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    assert client_error_code(e.value) == "InvalidKeyUsageException"


def test_ed25519(kms):
    if not knows(kms, "KeySpec", value="ECC_NIST_EDWARDS25519"):
        pytest.skip("this botocore has no Ed25519 key spec")
    md = create(kms, "ECC_NIST_EDWARDS25519", "SIGN_VERIFY")
    pub, _ = public_key(kms, md["KeyId"])
    assert isinstance(pub, ed25519.Ed25519PublicKey)
    sig = kms.sign(KeyId=md["KeyId"], Message=b"edwards", SigningAlgorithm="ED25519_SHA_512")["Signature"]
    pub.verify(sig, b"edwards")
    with pytest.raises(ClientError) as e:
        kms.sign(KeyId=md["KeyId"], Message=hashlib.sha512(b"x").digest(), MessageType="DIGEST",
                 SigningAlgorithm="ED25519_PH_SHA_512")
    assert client_error_code(e.value) == "UnsupportedOperationException"


def test_key_spec_errors(kms):
    with pytest.raises(ClientError) as e:
        kms.create_key(KeySpec="RSA_2048")
    assert client_error_code(e.value) == "ValidationException"
    with pytest.raises(ClientError) as e:
        kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="ENCRYPT_DECRYPT")
    assert e.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "KeyUsage ENCRYPT_DECRYPT is not compatible with KeySpec ECC_NIST_P256"}
    with pytest.raises(ClientError) as e:
        kms.create_key(KeySpec="HMAC_256", KeyUsage="SIGN_VERIFY")
    assert client_error_code(e.value) == "ValidationException"
    unsupported = ["SM2"] + (["ML_DSA_65"] if knows(kms, "KeySpec", value="ML_DSA_65") else [])
    for spec in unsupported:
        with pytest.raises(ClientError) as e:
            kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")
        assert client_error_code(e.value) == "UnsupportedOperationException", spec
    # HMAC keys default to GENERATE_VERIFY_MAC
    assert kms.create_key(KeySpec="HMAC_384")["KeyMetadata"]["KeyUsage"] == "GENERATE_VERIFY_MAC"
    # the deprecated parameter still works, but not together with KeySpec
    assert kms.create_key(CustomerMasterKeySpec="RSA_4096", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeySpec"] == "RSA_4096"
    with pytest.raises(ClientError) as e:
        kms.create_key(KeySpec="RSA_2048", CustomerMasterKeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    assert client_error_code(e.value) == "ValidationException"


@pytest.mark.parametrize("spec", ["RSA_2048", "ECC_NIST_P256", "ECC_SECG_P256K1"])
def test_generate_data_key_pair(kms, spec):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    r = kms.generate_data_key_pair(KeyId=key, KeyPairSpec=spec, EncryptionContext={"use": "pair"})
    assert r["KeyPairSpec"] == spec
    priv = serialization.load_der_private_key(r["PrivateKeyPlaintext"], password=None)
    pub = serialization.load_der_public_key(r["PublicKey"])
    assert pub.public_numbers() == priv.public_key().public_numbers()
    back = kms.decrypt(CiphertextBlob=r["PrivateKeyCiphertextBlob"], EncryptionContext={"use": "pair"})
    assert back["Plaintext"] == r["PrivateKeyPlaintext"]
    w = kms.generate_data_key_pair_without_plaintext(KeyId=key, KeyPairSpec=spec)
    assert "PrivateKeyPlaintext" not in w
    priv2 = serialization.load_der_private_key(kms.decrypt(CiphertextBlob=w["PrivateKeyCiphertextBlob"])["Plaintext"],
                                               password=None)
    assert serialization.load_der_public_key(w["PublicKey"]).public_numbers() == priv2.public_key().public_numbers()
    sign_key = create(kms, "ECC_NIST_P256", "SIGN_VERIFY")["KeyId"]
    with pytest.raises(ClientError) as e:
        kms.generate_data_key_pair(KeyId=sign_key, KeyPairSpec=spec)
    assert client_error_code(e.value) == "InvalidKeyUsageException"


def test_rsa_4096_and_cli(moat, kms):
    md = create(kms, "RSA_4096", "SIGN_VERIFY")
    with tempfile.TemporaryDirectory() as d:
        msg = os.path.join(d, "msg")
        with open(msg, "wb") as f:
            f.write(b"cli message")
        out = moat.aws("kms", "sign", "--key-id", md["KeyId"], "--message", "fileb://" + msg,
                       "--message-type", "RAW", "--signing-algorithm", "RSASSA_PSS_SHA_512")
        import base64
        sig = base64.b64decode(out["Signature"])
        assert len(sig) == 512
        pub, _ = public_key(kms, md["KeyId"])
        local_verify(pub, "RSASSA_PSS_SHA_512", sig, b"cli message")
        pk = moat.aws("kms", "get-public-key", "--key-id", md["KeyId"])
        assert pk["KeySpec"] == "RSA_4096" and pk["KeyUsage"] == "SIGN_VERIFY"

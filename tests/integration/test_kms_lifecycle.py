"""KMS key material over time: rotation (on demand and on schedule, old ciphertexts
keep decrypting), multi-Region keys (a ciphertext from one Region decrypts in the
replica's), and imported key material wrapped locally with openssl (expiry, deletion,
re-import)."""
import contextlib
import datetime
import importlib
import json
import os
import subprocess
import tempfile
import time
import types
import urllib.request

import botocore.auth
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from moat_harness import client_error_code

ACCOUNT = "000000000000"


def knows(kms, shape, member=None):
    model = kms.meta.service_model
    try:
        if member is None:
            return shape in model.operation_names
        return member in model.shape_for(shape).members
    except Exception:
        return False


def set_offset(m, seconds):
    req = urllib.request.Request(m.endpoint + "/_moat/clock", method="POST",
                                 data=json.dumps({"offset_seconds": seconds}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


@contextlib.contextmanager
def service_time(m, seconds):
    """Moves moat's service time forward and signs boto3 requests with the same clock
    (SigV4 refuses a signature 15 minutes away from service time)."""
    delta = datetime.timedelta(seconds=seconds)
    real = datetime.datetime

    class Shifted(real):
        @classmethod
        def utcnow(cls):
            return real.utcnow() + delta

        @classmethod
        def now(cls, tz=None):
            return real.now(tz) + delta

    shim = types.SimpleNamespace(datetime=Shifted, timedelta=datetime.timedelta,
                                 timezone=datetime.timezone)
    modules = [botocore.auth]
    try:
        modules.append(importlib.import_module("botocore.crt.auth"))
    except ImportError:
        pass
    saved = []
    for mod in modules:  # SigV4Auth, and CrtSigV4Auth when awscrt is importable
        if hasattr(mod, "get_current_datetime"):
            orig = mod.get_current_datetime
            saved.append((mod, "get_current_datetime", orig))
            mod.get_current_datetime = (lambda o: lambda *a, **k: o(*a, **k) + delta)(orig)
        if hasattr(mod, "datetime"):
            saved.append((mod, "datetime", mod.datetime))
            mod.datetime = shim
    set_offset(m, seconds)
    try:
        yield
    finally:
        set_offset(m, 0)
        for mod, name, value in saved:
            setattr(mod, name, value)


def eventually(fn, timeout=10):
    deadline = time.time() + timeout
    while True:
        try:
            if fn():
                return True
        except ClientError:
            pass
        if time.time() > deadline:
            return False
        time.sleep(0.1)


@pytest.fixture(scope="module")
def clock_moat(fresh_moat_module):
    return fresh_moat_module


@pytest.fixture(scope="module")
def fresh_moat_module():
    from moat_harness import Moat
    m = Moat(args=["--allow-test-clock"])
    yield m
    m.close()


@pytest.fixture(scope="module")
def kms(clock_moat):
    return clock_moat.client("kms")


# ---- rotation --------------------------------------------------------------------------


def test_rotation_settings(clock_moat, kms):
    raw = clock_moat.client("kms", parameter_validation=False)
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    st = kms.get_key_rotation_status(KeyId=key)
    assert st["KeyRotationEnabled"] is False
    if knows(kms, "EnableKeyRotationRequest", "RotationPeriodInDays"):
        kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=90)
        st = kms.get_key_rotation_status(KeyId=key)
        assert st["KeyRotationEnabled"] is True and st["RotationPeriodInDays"] == 90
        delta = st["NextRotationDate"] - datetime.datetime.now(datetime.timezone.utc)
        assert 89 <= delta.days <= 90
        with pytest.raises(ClientError) as e:
            raw.enable_key_rotation(KeyId=key, RotationPeriodInDays=89)
        assert client_error_code(e.value) == "ValidationException"
    else:
        kms.enable_key_rotation(KeyId=key)
        assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is True
    kms.disable_key_rotation(KeyId=key)
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is False
    asym = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as e:
        kms.enable_key_rotation(KeyId=asym)
    assert client_error_code(e.value) == "UnsupportedOperationException"
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError) as e:
        kms.enable_key_rotation(KeyId=key)
    assert client_error_code(e.value) == "DisabledException"


def test_rotate_on_demand_keeps_old_ciphertexts(kms):
    if not knows(kms, "RotateKeyOnDemand"):
        pytest.skip("this botocore has no RotateKeyOnDemand")
    md = kms.create_key()["KeyMetadata"]
    key = md["KeyId"]
    old = kms.encrypt(KeyId=key, Plaintext=b"before", EncryptionContext={"v": "1"})["CiphertextBlob"]
    assert kms.rotate_key_on_demand(KeyId=key)["KeyId"] == key
    md2 = kms.describe_key(KeyId=key)["KeyMetadata"]
    assert md2["CurrentKeyMaterialId"] != md["CurrentKeyMaterialId"]
    new = kms.encrypt(KeyId=key, Plaintext=b"after")["CiphertextBlob"]
    d_old = kms.decrypt(CiphertextBlob=old, EncryptionContext={"v": "1"})
    assert d_old["Plaintext"] == b"before" and d_old["KeyMaterialId"] == md["CurrentKeyMaterialId"]
    d_new = kms.decrypt(CiphertextBlob=new)
    assert d_new["Plaintext"] == b"after" and d_new["KeyMaterialId"] == md2["CurrentKeyMaterialId"]
    rot = kms.list_key_rotations(KeyId=key)["Rotations"]
    assert len(rot) == 1 and rot[0]["RotationType"] == "ON_DEMAND"
    assert rot[0]["KeyMaterialId"] == md2["CurrentKeyMaterialId"]
    # re-encrypt moves an old ciphertext to the current material
    re = kms.re_encrypt(CiphertextBlob=old, SourceEncryptionContext={"v": "1"}, DestinationKeyId=key)
    assert re["SourceKeyMaterialId"] == md["CurrentKeyMaterialId"]
    assert re["DestinationKeyMaterialId"] == md2["CurrentKeyMaterialId"]


def test_automatic_rotation_on_schedule(clock_moat, kms):
    if not knows(kms, "ListKeyRotations"):
        pytest.skip("this botocore has no ListKeyRotations")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=90)
    old = kms.encrypt(KeyId=key, Plaintext=b"old")["CiphertextBlob"]
    with service_time(clock_moat, 91 * 86400):
        assert eventually(lambda: len(kms.list_key_rotations(KeyId=key)["Rotations"]) == 1)
        rot = kms.list_key_rotations(KeyId=key)["Rotations"][0]
        assert rot["RotationType"] == "AUTOMATIC"
        assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"old"
        st = kms.get_key_rotation_status(KeyId=key)
        assert (st["NextRotationDate"] - datetime.datetime.now(datetime.timezone.utc)).days >= 170
        now = datetime.datetime.now(datetime.timezone.utc)
        ev = clock_moat.client("cloudtrail").lookup_events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "RotateKey"}],
            StartTime=now, EndTime=now + datetime.timedelta(days=92))["Events"]
        assert any(key in json.dumps(json.loads(e["CloudTrailEvent"])["resources"]) for e in ev)


# ---- multi-Region keys ---------------------------------------------------------------------


def test_multi_region_replica_decrypts(clock_moat, kms):
    east = kms
    west = clock_moat.client("kms", region="eu-west-1")
    md = east.create_key(MultiRegion=True, Description="mrk")["KeyMetadata"]
    kid = md["KeyId"]
    assert kid.startswith("mrk-") and md["MultiRegion"] is True
    cfg = md["MultiRegionConfiguration"]
    assert cfg["MultiRegionKeyType"] == "PRIMARY" and cfg["ReplicaKeys"] == []
    blob = east.encrypt(KeyId=kid, Plaintext=b"cross region", EncryptionContext={"r": "1"})["CiphertextBlob"]
    with pytest.raises(ClientError) as e:
        west.describe_key(KeyId=kid)
    assert client_error_code(e.value) == "NotFoundException"
    r = east.replicate_key(KeyId=kid, ReplicaRegion="eu-west-1", Description="replica",
                           Tags=[{"TagKey": "where", "TagValue": "west"}])
    rep = r["ReplicaKeyMetadata"]
    assert rep["Arn"] == "arn:aws:kms:eu-west-1:%s:key/%s" % (ACCOUNT, kid)
    assert rep["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    assert rep["MultiRegionConfiguration"]["PrimaryKey"]["Region"] == "us-east-1"
    assert r["ReplicaTags"] == [{"TagKey": "where", "TagValue": "west"}]
    assert json.loads(r["ReplicaPolicy"])["Id"] == "key-default-1"
    d = west.decrypt(CiphertextBlob=blob, EncryptionContext={"r": "1"})
    assert d["Plaintext"] == b"cross region" and d["KeyId"] == rep["Arn"]
    back = west.encrypt(KeyId=kid, Plaintext=b"from west")["CiphertextBlob"]
    assert east.decrypt(CiphertextBlob=back)["Plaintext"] == b"from west"
    prim = east.describe_key(KeyId=kid)["KeyMetadata"]["MultiRegionConfiguration"]
    assert prim["ReplicaKeys"] == [{"Arn": rep["Arn"], "Region": "eu-west-1"}]
    # shared: key material; not shared: tags, description, aliases, state
    assert east.list_resource_tags(KeyId=kid)["Tags"] == []
    west.disable_key(KeyId=kid)
    assert east.encrypt(KeyId=kid, Plaintext=b"x")
    west.enable_key(KeyId=kid)
    with pytest.raises(ClientError) as e:
        east.replicate_key(KeyId=kid, ReplicaRegion="eu-west-1")
    assert client_error_code(e.value) == "AlreadyExistsException"
    with pytest.raises(ClientError) as e:
        west.replicate_key(KeyId=kid, ReplicaRegion="ap-south-1")
    assert client_error_code(e.value) == "UnsupportedOperationException"
    plain = east.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as e:
        east.replicate_key(KeyId=plain, ReplicaRegion="eu-west-1")
    assert client_error_code(e.value) == "UnsupportedOperationException"
    # rotation of the primary reaches the replica
    if knows(east, "RotateKeyOnDemand"):
        east.rotate_key_on_demand(KeyId=kid)
        fresh = east.encrypt(KeyId=kid, Plaintext=b"rotated")["CiphertextBlob"]
        assert west.decrypt(CiphertextBlob=fresh)["Plaintext"] == b"rotated"
        assert west.decrypt(CiphertextBlob=blob, EncryptionContext={"r": "1"})["Plaintext"] == b"cross region"
    # the primary moves to eu-west-1
    east.update_primary_region(KeyId=kid, PrimaryRegion="eu-west-1")
    assert east.describe_key(KeyId=kid)["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    wcfg = west.describe_key(KeyId=kid)["KeyMetadata"]["MultiRegionConfiguration"]
    assert wcfg["MultiRegionKeyType"] == "PRIMARY"
    assert wcfg["ReplicaKeys"] == [{"Arn": md["Arn"], "Region": "us-east-1"}]
    assert east.decrypt(CiphertextBlob=blob, EncryptionContext={"r": "1"})["Plaintext"] == b"cross region"


def test_replica_deletion(clock_moat, kms):
    west = clock_moat.client("kms", region="eu-west-1")
    kid = kms.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    kms.replicate_key(KeyId=kid, ReplicaRegion="eu-west-1")
    r = kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7)
    assert r["KeyState"] == "PendingReplicaDeletion"
    west.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7)
    with service_time(clock_moat, 8 * 86400):
        def replica_gone():
            try:
                west.describe_key(KeyId=kid)
                return False
            except ClientError as e:
                return client_error_code(e) == "NotFoundException"
        assert eventually(replica_gone)
        assert eventually(lambda: kms.describe_key(KeyId=kid)["KeyMetadata"]["KeyState"] == "PendingDeletion")
        assert kms.describe_key(KeyId=kid)["KeyMetadata"]["MultiRegionConfiguration"]["ReplicaKeys"] == []


# ---- imported key material -----------------------------------------------------------------


def openssl_wrap(public_der, material, algorithm, workdir):
    """Wraps key material the way AWS documents with openssl: RSAES-OAEP directly, or an
    ephemeral AES-256 key under RSAES-OAEP followed by AES key wrap with padding."""
    pub_der = os.path.join(workdir, "wrap.der")
    pub_pem = os.path.join(workdir, "wrap.pem")
    mat = os.path.join(workdir, "material.bin")
    with open(pub_der, "wb") as f:
        f.write(public_der)
    with open(mat, "wb") as f:
        f.write(material)
    subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-in", pub_der, "-out", pub_pem], check=True)
    md = "sha256" if algorithm.endswith("SHA_256") else "sha1"
    oaep = ["openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey", pub_pem,
            "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:" + md,
            "-pkeyopt", "rsa_mgf1_md:" + md]
    if algorithm.startswith("RSAES_OAEP"):
        return subprocess.run(oaep + ["-in", mat], check=True, capture_output=True).stdout
    aes = os.urandom(32)
    aes_path = os.path.join(workdir, "aes.bin")
    with open(aes_path, "wb") as f:
        f.write(aes)
    wrapped_key = subprocess.run(oaep + ["-in", aes_path], check=True, capture_output=True).stdout
    wrapped_material = subprocess.run(
        ["openssl", "enc", "-id-aes256-wrap-pad", "-K", aes.hex(), "-iv", "A65959A6", "-in", mat],
        check=True, capture_output=True).stdout
    return wrapped_key + wrapped_material


def import_params(kms, key, alg="RSAES_OAEP_SHA_256", spec="RSA_2048"):
    return kms.get_parameters_for_import(KeyId=key, WrappingAlgorithm=alg, WrappingKeySpec=spec)


def test_import_symmetric_material(kms):
    md = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    key = md["KeyId"]
    assert md["Origin"] == "EXTERNAL" and md["KeyState"] == "PendingImport" and md["Enabled"] is False
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=key, Plaintext=b"x")
    assert e.value.response["Error"] == {"Code": "KMSInvalidStateException",
                                         "Message": "%s is pending import." % md["Arn"]}
    material = os.urandom(32)
    p = import_params(kms, key)
    assert p["KeyId"] == md["Arn"]
    assert (p["ParametersValidTo"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds() > 23 * 3600
    with tempfile.TemporaryDirectory() as d:
        wrapped = openssl_wrap(p["PublicKey"], material, "RSAES_OAEP_SHA_256", d)
        # a token of another key is refused
        other = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
        with pytest.raises(ClientError) as e:
            kms.import_key_material(KeyId=other, ImportToken=p["ImportToken"], EncryptedKeyMaterial=wrapped,
                                    ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
        assert client_error_code(e.value) == "InvalidImportTokenException"
        with pytest.raises(ClientError) as e:
            kms.import_key_material(KeyId=key, ImportToken=p["ImportToken"], EncryptedKeyMaterial=wrapped)
        assert client_error_code(e.value) == "ValidationException"  # ValidTo needed by default
        kms.import_key_material(KeyId=key, ImportToken=p["ImportToken"], EncryptedKeyMaterial=wrapped,
                                ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
        md = kms.describe_key(KeyId=key)["KeyMetadata"]
        assert md["KeyState"] == "Enabled" and md["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
        blob = kms.encrypt(KeyId=key, Plaintext=b"imported")["CiphertextBlob"]
        # other material is refused
        p2 = import_params(kms, key)
        wrong = openssl_wrap(p2["PublicKey"], os.urandom(32), "RSAES_OAEP_SHA_256", d)
        with pytest.raises(ClientError) as e:
            kms.import_key_material(KeyId=key, ImportToken=p2["ImportToken"], EncryptedKeyMaterial=wrong,
                                    ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
        assert client_error_code(e.value) == "IncorrectKeyMaterialException"
        # garbage does not unwrap
        with pytest.raises(ClientError) as e:
            kms.import_key_material(KeyId=key, ImportToken=p2["ImportToken"], EncryptedKeyMaterial=os.urandom(256),
                                    ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
        assert client_error_code(e.value) == "InvalidCiphertextException"
        # delete, then the same material again brings the old ciphertexts back
        kms.delete_imported_key_material(KeyId=key)
        assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingImport"
        with pytest.raises(ClientError) as e:
            kms.decrypt(CiphertextBlob=blob)
        assert client_error_code(e.value) == "KMSInvalidStateException"
        p3 = import_params(kms, key, alg="RSA_AES_KEY_WRAP_SHA_256", spec="RSA_3072")
        again = openssl_wrap(p3["PublicKey"], material, "RSA_AES_KEY_WRAP_SHA_256", d)
        kms.import_key_material(KeyId=key, ImportToken=p3["ImportToken"], EncryptedKeyMaterial=again,
                                ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"imported"
    aws_key = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as e:
        import_params(kms, aws_key)
    assert client_error_code(e.value) == "UnsupportedOperationException"


def test_import_expiry_and_token_expiry(clock_moat, kms):
    key = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    material = os.urandom(32)
    p = import_params(kms, key)
    with tempfile.TemporaryDirectory() as d:
        wrapped = openssl_wrap(p["PublicKey"], material, "RSAES_OAEP_SHA_256", d)
    valid_to = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)
    kms.import_key_material(KeyId=key, ImportToken=p["ImportToken"], EncryptedKeyMaterial=wrapped,
                            ValidTo=valid_to)
    md = kms.describe_key(KeyId=key)["KeyMetadata"]
    assert md["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"
    assert abs((md["ValidTo"] - valid_to).total_seconds()) < 2
    with service_time(clock_moat, 3 * 86400):
        # the import token (24 hours) has expired too
        with pytest.raises(ClientError) as e:
            kms.import_key_material(KeyId=key, ImportToken=p["ImportToken"], EncryptedKeyMaterial=wrapped,
                                    ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
        assert client_error_code(e.value) in ("ExpiredImportTokenException",)
        assert eventually(lambda: kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingImport")


def test_import_asymmetric_key(kms):
    md = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Origin="EXTERNAL")["KeyMetadata"]
    key = md["KeyId"]
    local = ec.generate_private_key(ec.SECP256R1())
    pkcs8 = local.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    p = import_params(kms, key, alg="RSA_AES_KEY_WRAP_SHA_256", spec="RSA_4096")
    with tempfile.TemporaryDirectory() as d:
        wrapped = openssl_wrap(p["PublicKey"], pkcs8, "RSA_AES_KEY_WRAP_SHA_256", d)
        # a P-384 key does not fit a P-256 KMS key
        wrong = ec.generate_private_key(ec.SECP384R1()).private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        with pytest.raises(ClientError) as e:
            kms.import_key_material(KeyId=key, ImportToken=p["ImportToken"],
                                    EncryptedKeyMaterial=openssl_wrap(p["PublicKey"], wrong, "RSA_AES_KEY_WRAP_SHA_256", d),
                                    ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
        assert client_error_code(e.value) == "IncorrectKeyMaterialException"
    kms.import_key_material(KeyId=key, ImportToken=p["ImportToken"], EncryptedKeyMaterial=wrapped,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    pub = serialization.load_der_public_key(kms.get_public_key(KeyId=key)["PublicKey"])
    assert pub.public_numbers() == local.public_key().public_numbers()
    sig = kms.sign(KeyId=key, Message=b"imported signer", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    local.public_key().verify(sig, b"imported signer", ec.ECDSA(hashes.SHA256()))


def test_multi_region_imported_material(clock_moat, kms):
    west = clock_moat.client("kms", region="eu-west-1")
    md = kms.create_key(Origin="EXTERNAL", MultiRegion=True)["KeyMetadata"]
    kid = md["KeyId"]
    material = os.urandom(32)
    with tempfile.TemporaryDirectory() as d:
        p = import_params(kms, kid)
        kms.import_key_material(KeyId=kid, ImportToken=p["ImportToken"],
                                EncryptedKeyMaterial=openssl_wrap(p["PublicKey"], material, "RSAES_OAEP_SHA_256", d),
                                ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
        blob = kms.encrypt(KeyId=kid, Plaintext=b"imported everywhere")["CiphertextBlob"]
        rep = kms.replicate_key(KeyId=kid, ReplicaRegion="eu-west-1")["ReplicaKeyMetadata"]
        assert rep["KeyState"] == "PendingImport"
        pw = import_params(west, kid)
        with pytest.raises(ClientError) as e:
            west.import_key_material(KeyId=kid, ImportToken=pw["ImportToken"],
                                     EncryptedKeyMaterial=openssl_wrap(pw["PublicKey"], os.urandom(32),
                                                                       "RSAES_OAEP_SHA_256", d),
                                     ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
        assert client_error_code(e.value) == "IncorrectKeyMaterialException"
        west.import_key_material(KeyId=kid, ImportToken=pw["ImportToken"],
                                 EncryptedKeyMaterial=openssl_wrap(pw["PublicKey"], material, "RSAES_OAEP_SHA_256", d),
                                 ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert west.decrypt(CiphertextBlob=blob)["Plaintext"] == b"imported everywhere"
    back = west.encrypt(KeyId=kid, Plaintext=b"from the replica")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=back)["Plaintext"] == b"from the replica"

"""KMS on two nodes sharing one PostgreSQL store (and one root key): a key made on one
node works on the other, and a change on one is seen on the other within the key
cache's two seconds; deletion by the scheduler runs once."""
import os
import shutil
import tempfile
import time

import pytest
from botocore.exceptions import ClientError

from moat_harness import Moat, client_error_code

pytestmark = [pytest.mark.needs_postgres,
              pytest.mark.skipif(os.environ.get("MOAT_TEST_STORE") != "postgres",
                                 reason="needs MOAT_TEST_STORE=postgres")]


@pytest.fixture
def two_nodes():
    a = Moat()
    d = tempfile.mkdtemp(prefix="moat-test-node2-")
    os.chmod(d, 0o700)
    shutil.copy2(os.path.join(a.data_dir, "root.key"), os.path.join(d, "root.key"))
    os.chmod(os.path.join(d, "root.key"), 0o600)
    b = Moat(data_dir=d, store_url=a.store_url)
    yield a, b
    b.close()
    shutil.rmtree(d, ignore_errors=True)
    a.close()


def eventually(fn, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if fn():
                return True
        except ClientError:
            pass
        time.sleep(0.1)
    return False


def test_key_changes_reach_the_other_node(two_nodes):
    a, b = two_nodes
    ka, kb = a.client("kms"), b.client("kms")
    key = ka.create_key()["KeyMetadata"]["KeyId"]
    ka.create_alias(AliasName="alias/shared", TargetKeyId=key)
    blob = kb.encrypt(KeyId="alias/shared", Plaintext=b"two nodes")["CiphertextBlob"]
    assert ka.decrypt(CiphertextBlob=blob)["Plaintext"] == b"two nodes"
    ka.disable_key(KeyId=key)

    def refused():
        try:
            kb.encrypt(KeyId=key, Plaintext=b"x")
            return False
        except ClientError as e:
            return client_error_code(e) == "DisabledException"
    assert eventually(refused, 4.0), "node b sees the disabled key within the cache's lifetime"
    ka.enable_key(KeyId=key)
    assert eventually(lambda: kb.decrypt(CiphertextBlob=blob)["Plaintext"] == b"two nodes", 4.0)
    other = ka.create_key()["KeyMetadata"]["KeyId"]
    ka.update_alias(AliasName="alias/shared", TargetKeyId=other)
    assert eventually(lambda: kb.encrypt(KeyId="alias/shared", Plaintext=b"x")["KeyId"].endswith(other), 4.0)

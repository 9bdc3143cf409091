"""Multi-Region secrets: replicas in other Regions that follow the primary, encrypted under
their own Region's KMS key, read-only until promoted."""
import json
import uuid

import pytest
from botocore.exceptions import ClientError


def uniq(prefix="rep"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def err(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


@pytest.fixture(scope="module")
def east(moat):
    return moat.client("secretsmanager", region="us-east-1")


@pytest.fixture(scope="module")
def west(moat):
    return moat.client("secretsmanager", region="us-west-2")


@pytest.fixture(scope="module")
def eu(moat):
    return moat.client("secretsmanager", region="eu-west-1")


def test_replica_follows_the_primary(moat, east, west):
    name = uniq()
    r = east.create_secret(Name=name, SecretString="v1", Description="replicated",
                           Tags=[{"Key": "k", "Value": "v"}],
                           AddReplicaRegions=[{"Region": "us-west-2"}])
    assert r["ReplicationStatus"] == [{"Region": "us-west-2", "KmsKeyId": "alias/aws/secretsmanager",
                                       "Status": "InSync"}]
    replica_arn = r["ARN"].replace("us-east-1", "us-west-2")
    g = west.get_secret_value(SecretId=name)
    assert g["SecretString"] == "v1" and g["ARN"] == replica_arn
    assert g["VersionId"] == r["VersionId"]
    d = west.describe_secret(SecretId=replica_arn)
    assert d["PrimaryRegion"] == "us-east-1" and d["Description"] == "replicated"
    assert d["Tags"] == [{"Key": "k", "Value": "v"}]
    assert east.describe_secret(SecretId=name)["PrimaryRegion"] == "us-east-1"
    # the replica's value is encrypted under a key of its own Region
    kid = west.list_secret_version_ids(SecretId=name)["Versions"][0]["KmsKeyIds"][0]
    assert kid.startswith("arn:aws:kms:us-west-2:")
    v2 = east.put_secret_value(SecretId=name, SecretString="v2")["VersionId"]
    g = west.get_secret_value(SecretId=name)
    assert g["SecretString"] == "v2" and g["VersionId"] == v2
    assert west.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"] == "v1"
    east.tag_resource(SecretId=name, Tags=[{"Key": "k2", "Value": "v2"}])
    assert len(west.describe_secret(SecretId=name)["Tags"]) == 2
    # replicas are read-only
    for call in (lambda: west.put_secret_value(SecretId=name, SecretString="x"),
                 lambda: west.update_secret(SecretId=name, Description="x"),
                 lambda: west.delete_secret(SecretId=name),
                 lambda: west.tag_resource(SecretId=name, Tags=[{"Key": "a", "Value": "b"}])):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == ("InvalidRequestException",
                          "Operation not permitted on a replica secret. Call must be made in "
                          "primary secret's region.")
    # a primary with replicas can't be deleted
    with pytest.raises(ClientError) as e:
        east.delete_secret(SecretId=name)
    assert err(e)[0] == "InvalidRequestException"
    west_names = [s["Name"] for s in west.list_secrets(
        Filters=[{"Key": "primary-region", "Values": ["us-east-1"]}])["SecretList"]]
    assert name in west_names


def test_replicate_remove_and_promote(moat, east, west, eu):
    name = uniq()
    arn = east.create_secret(Name=name, SecretString="p")["ARN"]
    # a secret of that name already in eu-west-1: replication fails without overwrite
    eu.create_secret(Name=name, SecretString="local")
    r = east.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[
        {"Region": "us-west-2"}, {"Region": "eu-west-1"}])
    status = {s["Region"]: s for s in r["ReplicationStatus"]}
    assert status["us-west-2"]["Status"] == "InSync"
    assert status["eu-west-1"]["Status"] == "Failed" and status["eu-west-1"]["StatusMessage"]
    assert eu.get_secret_value(SecretId=name)["SecretString"] == "local"
    with pytest.raises(ClientError) as e:
        east.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[{"Region": "us-east-1"}])
    assert err(e)[0] == "InvalidParameterException"
    r = east.remove_regions_from_replication(SecretId=name, RemoveReplicaRegions=["eu-west-1"])
    assert [s["Region"] for s in r["ReplicationStatus"]] == ["us-west-2"]
    r = east.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[{"Region": "eu-west-1"}],
                                         ForceOverwriteReplicaSecret=True)
    assert {s["Region"]: s["Status"] for s in r["ReplicationStatus"]} == {
        "us-west-2": "InSync", "eu-west-1": "InSync"}
    assert eu.get_secret_value(SecretId=name)["SecretString"] == "p"
    east.remove_regions_from_replication(SecretId=name, RemoveReplicaRegions=["eu-west-1"])
    with pytest.raises(ClientError) as e:
        eu.get_secret_value(SecretId=name)
    assert err(e)[0] == "ResourceNotFoundException"
    # promote the us-west-2 replica: it becomes a secret of its own
    with pytest.raises(ClientError) as e:
        east.stop_replication_to_replica(SecretId=name)
    assert err(e)[0] == "InvalidRequestException"
    west.stop_replication_to_replica(SecretId=name)
    assert "ReplicationStatus" not in east.describe_secret(SecretId=arn)
    west.put_secret_value(SecretId=name, SecretString="west only")
    assert west.get_secret_value(SecretId=name)["SecretString"] == "west only"
    assert east.get_secret_value(SecretId=name)["SecretString"] == "p"
    assert "PrimaryRegion" not in west.describe_secret(SecretId=name)
    east.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_replica_with_its_own_key(moat, east, west):
    key = moat.client("kms", region="us-west-2").create_key()["KeyMetadata"]
    name = uniq()
    east.create_secret(Name=name, SecretString=json.dumps({"a": 1}),
                       AddReplicaRegions=[{"Region": "us-west-2", "KmsKeyId": key["Arn"]}])
    v = west.list_secret_version_ids(SecretId=name)["Versions"][0]
    assert v["KmsKeyIds"] == [key["Arn"]]
    assert json.loads(west.get_secret_value(SecretId=name)["SecretString"]) == {"a": 1}
    assert east.describe_secret(SecretId=name)["ReplicationStatus"][0]["KmsKeyId"] == key["Arn"]

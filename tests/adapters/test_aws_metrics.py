"""AwsCallCounter and the factory's shared, counted session; preflight checks of AWS resources."""

from __future__ import annotations

import pytest
import yaml

from reconciler.adapters.aws_metrics import AwsCallCounter, format_calls
from reconciler.adapters.dynamo_state import DynamoState
from reconciler.adapters.factory import open_backends
from reconciler.adapters.glue_catalog import GlueCatalog
from reconciler.adapters.s3_store import S3Store
from reconciler.config import load_profile
from reconciler.errors import BackendError
from reconciler.ports import CatalogTable


def test_format_calls_sorts_and_totals():
    assert format_calls({}) == "none"
    text = format_calls({"s3.PutObject": 2, "glue.GetPartitions": 1, "dynamodb.Query": 1200})
    assert text == "dynamodb.Query=1,200, glue.GetPartitions=1, s3.PutObject=2 (total 1,203)"


def test_counter_reads_service_and_operation_from_the_event_name():
    c = AwsCallCounter()
    c._seen(event_name="before-call.s3.ListObjectsV2")
    c._seen(event_name="before-call.s3.ListObjectsV2")
    c._seen(event_name="before-call.glue.GetPartitions")
    c._seen(event_name="unexpected")
    assert c.counts() == {"glue.GetPartitions": 1, "s3.ListObjectsV2": 2}
    assert c["s3.ListObjectsV2"] == 2 and c["s3.DeleteObjects"] == 0 and c.total == 3
    assert str(c) == "AWS calls: glue.GetPartitions=1, s3.ListObjectsV2=2 (total 3)"
    c.reset()
    assert c.total == 0


def _aws_profile(tmp_path, url, **over):
    sections = {
        "store": {"kind": "s3", "bucket": "hoops-edge", "endpoint_url": url},
        "engine": {"kind": "duckdb"},
        "catalog": {"kind": "glue", "endpoint_url": url},
        "state": {"kind": "dynamodb", "endpoint_url": url},
    }
    for k, v in over.items():
        sections[k] = {**sections[k], **v}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"default_profile": "aws", "profiles": {"aws": sections}}))
    return load_profile(path)


@pytest.mark.aws
def test_counter_counts_a_clients_calls(moto_url, boto_session):
    s3 = boto_session.client("s3", endpoint_url=moto_url)
    calls = AwsCallCounter().attach(s3)
    s3.list_objects_v2(Bucket="hoops-edge")
    s3.put_object(Bucket="hoops-edge", Key="k", Body=b"1")
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="hoops-edge", Key="absent")
    assert calls.counts() == {"s3.GetObject": 1, "s3.ListObjectsV2": 1, "s3.PutObject": 1}


@pytest.mark.aws
def test_backends_share_one_counted_session(tmp_path, moto_url):
    b = open_backends(_aws_profile(tmp_path, moto_url))
    try:
        assert b.aws_calls is not None
        b.preflight()
        assert b.aws_calls.counts() == {"dynamodb.DescribeTable": 1, "glue.GetDatabase": 2, "s3.HeadBucket": 1}
        b.store.put("silver/x", b"1")
        list(b.store.list_objects("silver/"))
        b.state.load_units("plays")
        b.catalog.put_table(CatalogTable("cbbd_silver", "fct_plays", "silver/fct_plays/"))
        b.catalog.list_partitions("cbbd_silver", "fct_plays")
        counts = b.aws_calls.counts()
        assert counts["s3.PutObject"] == 1 and counts["s3.ListObjectsV2"] == 1
        assert counts["dynamodb.Query"] == 1 and counts["glue.GetPartitions"] == 1
    finally:
        b.close()


def test_local_backends_count_nothing(tmp_path):
    (tmp_path / "lake").mkdir()
    path = tmp_path / "config.yaml"
    prof = {"store": {"kind": "local", "path": "lake"}, "state": {"kind": "sqlite", "path": "s.db"}}
    path.write_text(yaml.safe_dump({"default_profile": "p", "profiles": {"p": prof}}))
    b = open_backends(load_profile(path))
    try:
        assert b.aws_calls is None
        b.preflight()  # nothing to check
    finally:
        b.close()


def _adapter(kind, url, session, name):
    if kind == "store":
        return S3Store(name, endpoint_url=url, session=session)
    if kind == "catalog":
        catalog = GlueCatalog("hoops-edge", endpoint_url=url, session=session)
        catalog.databases = ("cbbd_bronze", name)
        return catalog
    return DynamoState(name, endpoint_url=url, session=session)


@pytest.mark.aws
@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("store", "S3 bucket nope-bucket does not exist at http://.*: create it, or fix store.bucket"),
        ("catalog", "Glue database nope-bucket does not exist at http://.*: create it .*catalog.silver_database"),
        ("state", "DynamoDB table nope-bucket does not exist at http://.*: create it .*state.table"),
    ],
)
def test_check_names_the_missing_resource_and_the_fix(moto_url, boto_session, kind, message):
    with pytest.raises(BackendError, match=message) as err:
        _adapter(kind, moto_url, boto_session, "nope-bucket").check()
    assert "\n" not in str(err.value)
    _adapter(
        kind, moto_url, boto_session, {"store": "hoops-edge", "catalog": "cbbd_silver"}.get(kind, "cbbd_checkpoints")
    ).check()


@pytest.mark.aws
def test_check_refuses_a_table_with_another_key_schema(moto_url, boto_session):
    ddb = boto_session.client("dynamodb", endpoint_url=moto_url)
    ddb.create_table(
        TableName="other",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    with pytest.raises(BackendError, match=r"keyed hash pk \(S\); the checkpoint table must have hash key"):
        DynamoState("other", endpoint_url=moto_url, session=boto_session).check()

"""AwsCallCounter and the factory's shared, counted session; preflight checks of AWS resources."""

from __future__ import annotations

import boto3
import pytest
import yaml

from reconciler.adapters.aws_metrics import AwsCallCounter, format_calls
from reconciler.adapters.factory import open_backends
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
def test_counter_on_a_session_counts_its_clients_calls(moto_url):
    session = boto3.session.Session(region_name="us-east-1")
    calls = AwsCallCounter().attach(session)
    s3 = session.client("s3", endpoint_url=moto_url)
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


@pytest.mark.aws
@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"store": {"bucket": "no-such-bucket"}}, "S3 bucket no-such-bucket does not exist at http"),
        ({"catalog": {"silver_database": "nope"}}, "Glue database nope does not exist at http"),
        ({"state": {"table": "nope"}}, "DynamoDB table nope does not exist at http"),
    ],
)
def test_preflight_names_the_missing_resource(tmp_path, moto_url, override, message):
    b = open_backends(_aws_profile(tmp_path, moto_url, **override))
    try:
        with pytest.raises(BackendError, match=message) as err:
            b.preflight()
        assert "\n" not in str(err.value)
    finally:
        b.close()


@pytest.mark.aws
def test_preflight_refuses_a_table_with_another_key_schema(tmp_path, moto_url):
    ddb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=moto_url)
    ddb.create_table(
        TableName="other",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    b = open_backends(_aws_profile(tmp_path, moto_url, state={"table": "other"}))
    try:
        with pytest.raises(BackendError, match=r"keyed hash pk \(S\); the checkpoint table must have hash key"):
            b.preflight()
    finally:
        b.close()

"""Glue's per-entry errors (Stubber: the real response shapes) and key changes that keep the table's settings (moto)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber

from reconciler.adapters.glue_catalog import GlueCatalog
from reconciler.errors import BackendError
from reconciler.ports import CatalogTable, PartitionSpec

TABLE = {
    "Name": "fct_games",
    "DatabaseName": "cbbd_silver",
    "PartitionKeys": [{"Name": "season", "Type": "string"}],
    "StorageDescriptor": {
        "Columns": [{"Name": "gameId", "Type": "bigint"}],
        "Location": "s3://hoops-edge/silver/fct_games/",
    },
}
PARTS = [PartitionSpec((str(s),), f"silver/fct_games/season={s}/") for s in (2024, 2025, 2026)]


def _error(season: int, code: str, message: str = "Rate exceeded") -> dict:
    return {"PartitionValues": [str(season)], "ErrorDetail": {"ErrorCode": code, "ErrorMessage": message}}


@pytest.fixture
def stubbed():
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    catalog = GlueCatalog("hoops-edge", session=session)
    slept: list[float] = []
    catalog._sleep = slept.append
    with Stubber(catalog.client) as stub:
        stub.add_response("get_table", {"Table": TABLE}, {"DatabaseName": "cbbd_silver", "Name": "fct_games"})
        yield catalog, stub, slept
        stub.assert_no_pending_responses()


def _sent(values: list[str]) -> dict:
    return {"DatabaseName": "cbbd_silver", "TableName": "fct_games", "PartitionInputList": [
        {"Values": [v], "StorageDescriptor": ANY} for v in values
    ]}  # fmt: skip


def test_entries_glue_throttled_are_sent_again_alone(stubbed):
    catalog, stub, slept = stubbed
    stub.add_response(
        "batch_create_partition",
        {"Errors": [_error(2025, "ThrottlingException"), _error(2026, "AlreadyExistsException", "exists")]},
        _sent(["2024", "2025", "2026"]),
    )
    stub.add_response("batch_create_partition", {"Errors": []}, _sent(["2025"]))  # only the throttled entry
    assert catalog.create_partitions("cbbd_silver", "fct_games", PARTS) == 2
    assert len(slept) == 1 and 0 <= slept[0] <= 0.4  # jittered: uniform(0, 0.2 * 2**1)


def test_a_passing_failure_that_lasts_is_one_line_after_the_attempts(stubbed):
    catalog, stub, slept = stubbed
    for _ in range(catalog.item_attempts):
        stub.add_response(
            "batch_create_partition", {"Errors": [_error(2026, "InternalServiceException", "Internal error")]}, None
        )
    with pytest.raises(BackendError) as info:
        catalog.create_partitions("cbbd_silver", "fct_games", PARTS)
    assert str(info.value) == (
        "registering cbbd_silver.fct_games partition season=2026 failed after 5 attempts: InternalServiceException: "
        "Internal error: wait a minute and run again (the apply resumes)"
    )
    assert len(slept) == 4 and all(0 <= d <= catalog.max_backoff for d in slept)


def test_a_lasting_failure_beside_a_passing_one_fails_at_once(stubbed):
    catalog, stub, slept = stubbed
    stub.add_response(
        "batch_create_partition",
        {"Errors": [_error(2024, "ThrottlingException"), _error(2025, "InvalidInputException", "bad location")]},
        None,
    )
    with pytest.raises(BackendError) as info:
        catalog.create_partitions("cbbd_silver", "fct_games", PARTS)
    assert str(info.value) == (
        "registering cbbd_silver.fct_games partition season=2025 failed: InvalidInputException: bad location"
    )
    assert slept == []


def test_deletes_retry_passing_failures_too(stubbed):
    catalog, stub, _ = stubbed
    stub.add_response(
        "batch_delete_partition",
        {
            "Errors": [
                _error(2026, "ConcurrentModificationException", "Update table failed due to concurrent modifications")
            ]
        },
        None,
    )
    stub.add_response(
        "batch_delete_partition",
        {},
        {"DatabaseName": "cbbd_silver", "TableName": "fct_games", "PartitionsToDelete": [{"Values": ["2026"]}]},
    )
    assert catalog.delete_partitions("cbbd_silver", "fct_games", PARTS) == 2


@pytest.mark.aws
def test_a_key_change_keeps_parameters_serde_and_storage(moto_url, boto_session):
    glue = boto_session.client("glue", endpoint_url=moto_url)
    glue.create_table(
        DatabaseName="cbbd_silver",
        TableInput={
            "Name": "fct_plays",
            "Description": "plays, by the pipeline",
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {
                "classification": "parquet",
                "EXTERNAL": "TRUE",
                "parquet.compression": "ZSTD",
                "owner": "etl",
            },
            "PartitionKeys": [{"Name": "season", "Type": "string"}, {"Name": "asof", "Type": "string"}],
            "StorageDescriptor": {
                "Columns": [{"Name": "id", "Type": "bigint", "Comment": "play id"}, {"Name": "date", "Type": "string"}],
                "Location": "s3://hoops-edge/silver/fct_plays/",
                "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                "Compressed": True,
                "SerdeInfo": {
                    "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                    "Parameters": {"serialization.format": "1", "custom": "kept"},
                },
            },
        },
    )
    catalog = GlueCatalog("hoops-edge", endpoint_url=moto_url, session=boto_session)
    table = catalog.get_table("cbbd_silver", "fct_plays")
    assert table is not None
    catalog.put_table(
        CatalogTable(
            "cbbd_silver", "fct_plays", table.location, (("id", "bigint"),), (("season", "string"), ("date", "string"))
        )
    )
    after = glue.get_table(DatabaseName="cbbd_silver", Name="fct_plays")["Table"]
    assert after["Parameters"] == {
        "classification": "parquet",
        "EXTERNAL": "TRUE",
        "parquet.compression": "ZSTD",
        "owner": "etl",
    }
    assert after["Description"] == "plays, by the pipeline"
    sd = after["StorageDescriptor"]
    assert sd["SerdeInfo"]["Parameters"] == {"serialization.format": "1", "custom": "kept"}
    assert sd["Compressed"] is True and sd["Location"] == "s3://hoops-edge/silver/fct_plays/"
    assert sd["Columns"] == [
        {"Name": "id", "Type": "bigint", "Comment": "play id"}
    ]  # the comment stays with its column
    assert [k["Name"] for k in after["PartitionKeys"]] == ["season", "date"]

"""GlueCatalog specifics (moto): table input shape, locations, partial batch failures."""

from __future__ import annotations

import boto3
import pytest

from reconciler.adapters.glue_catalog import GlueCatalog
from reconciler.errors import BackendError
from reconciler.ports import CatalogTable, PartitionSpec

pytestmark = pytest.mark.aws

GAMES = CatalogTable(
    database="cbbd_silver",
    name="fct_games",
    location="silver/fct_games/",
    columns=(("gameId", "bigint"), ("status", "string")),
    partition_keys=(("season", "string"),),
)


@pytest.fixture
def glue(moto_url):
    return boto3.client("glue", region_name="us-east-1", endpoint_url=moto_url)


@pytest.fixture
def catalog(moto_url, boto_session):
    cat = GlueCatalog("hoops-edge", endpoint_url=moto_url, session=boto_session)
    cat.put_table(GAMES)
    return cat


def test_tables_are_external_parquet_at_s3_locations(glue, catalog):
    t = glue.get_table(DatabaseName="cbbd_silver", Name="fct_games")["Table"]
    assert t["TableType"] == "EXTERNAL_TABLE"
    assert t["Parameters"]["classification"] == "parquet"
    sd = t["StorageDescriptor"]
    assert sd["Location"] == "s3://hoops-edge/silver/fct_games/"
    assert sd["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert [k["Name"] for k in t["PartitionKeys"]] == ["season"]


def test_partitions_copy_the_table_descriptor_with_their_location(glue, catalog):
    catalog.create_partitions("cbbd_silver", "fct_games", [PartitionSpec(("2025",), "silver/fct_games/season=2025")])
    (p,) = glue.get_partitions(DatabaseName="cbbd_silver", TableName="fct_games")["Partitions"]
    assert p["Values"] == ["2025"]
    assert p["StorageDescriptor"]["Location"] == "s3://hoops-edge/silver/fct_games/season=2025/"
    assert p["StorageDescriptor"]["Columns"][0]["Name"] == "gameId"


def test_terraform_placeholder_table_is_read(glue, catalog):
    glue.create_table(
        DatabaseName="cbbd_silver",
        TableInput={
            "Name": "fct_plays",
            "StorageDescriptor": {
                "Columns": [{"Name": "placeholder", "Type": "string"}],
                "Location": "s3://hoops-edge/silver/fct_plays/",
            },
        },
    )
    assert catalog.get_table("cbbd_silver", "fct_plays") == CatalogTable(
        "cbbd_silver", "fct_plays", "silver/fct_plays/", (("placeholder", "string"),), ()
    )


class _PartialFailure:
    """BatchCreate/DeletePartition reporting per-partition errors, as Glue does."""

    def __init__(self, client, code):
        self._client = client
        self.code = code

    def __getattr__(self, name):
        return getattr(self._client, name)

    def _errors(self, values_list):
        detail = {"ErrorCode": self.code, "ErrorMessage": "nope"}
        return {"Errors": [{"PartitionValues": v, "ErrorDetail": detail} for v in values_list]}

    def batch_create_partition(self, **kwargs):
        return self._errors([p["Values"] for p in kwargs["PartitionInputList"]][-2:])

    def batch_delete_partition(self, **kwargs):
        return self._errors([p["Values"] for p in kwargs["PartitionsToDelete"]][-1:])


def test_partial_create_failure_names_the_partition(catalog):
    catalog.client = _PartialFailure(catalog.client, "InvalidInputException")
    parts = [PartitionSpec((str(s),), f"silver/fct_games/season={s}/") for s in (2024, 2025, 2026)]
    with pytest.raises(BackendError) as info:
        catalog.create_partitions("cbbd_silver", "fct_games", parts)
    # Not a passing failure: reported at once, with no retry.
    assert str(info.value) == (
        "registering cbbd_silver.fct_games partition season=2025 failed: InvalidInputException: nope (and 1 more)"
    )


def test_already_exists_on_create_is_not_an_error(catalog):
    catalog.client = _PartialFailure(catalog.client, "AlreadyExistsException")
    assert catalog.create_partitions("cbbd_silver", "fct_games", [PartitionSpec(("2025",), "x/")]) == 1


def test_partial_delete_failure_names_the_partition(catalog):
    catalog.client = _PartialFailure(catalog.client, "InvalidInputException")
    with pytest.raises(BackendError, match=r"removing cbbd_silver\.fct_games partition season=2026 failed"):
        catalog.delete_partitions("cbbd_silver", "fct_games", [PartitionSpec(("2026",), "")])


def test_foreign_locations_are_kept_whole(glue, catalog):
    glue.create_partition(
        DatabaseName="cbbd_silver",
        TableName="fct_games",
        PartitionInput={"Values": ["1999"], "StorageDescriptor": {"Location": "s3://other-bucket/x/"}},
    )
    assert catalog.list_partitions("cbbd_silver", "fct_games") == [PartitionSpec(("1999",), "s3://other-bucket/x/")]


def test_missing_database_on_put_says_what_to_fix(catalog):
    with pytest.raises(BackendError, match="not found in the Glue catalog"):
        catalog.put_table(CatalogTable("cbbd_gold", "x", "gold/x/"))

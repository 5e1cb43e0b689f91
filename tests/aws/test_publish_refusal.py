"""A sandbox published into an account that holds the real lake: refused before anything is written."""

from __future__ import annotations

import boto3
import pytest

from tests.aws.conftest import write_aws_config
from tests.aws.moto_counting import REGION
from tests.e2e_helpers import cli

pytestmark = pytest.mark.aws


def test_a_real_table_outside_the_bucket_is_never_repointed(tmp_path, moto):
    session = boto3.session.Session(region_name=REGION)
    session.client("s3", endpoint_url=moto.url).create_bucket(Bucket="sandbox-test")
    glue = session.client("glue", endpoint_url=moto.url)
    glue.create_table(
        DatabaseName="cbbd_silver",
        TableInput={
            "Name": "fct_plays",
            "TableType": "EXTERNAL_TABLE",
            "StorageDescriptor": {"Columns": [], "Location": "s3://hoops-edge/silver/fct_plays/"},
            "PartitionKeys": [{"Name": "season", "Type": "string"}, {"Name": "date", "Type": "string"}],
        },
    )
    cfg = write_aws_config(tmp_path / "aws.yaml", moto.url, store={"bucket": "sandbox-test"})
    sb = tmp_path / "sb"
    r = cli(["sandbox", "init", str(sb), "--seasons", "2015", "--scale", "0.005", "--into-config", str(cfg)])
    assert r.exit_code == 1, r.output
    lines = [ln for ln in r.output.strip().splitlines() if ln.strip()]
    assert lines == [
        "Error: cbbd_silver.fct_plays already exists in the profile's catalog and points at "
        "s3://hoops-edge/silver/fct_plays/, outside this profile's s3://sandbox-test/: it looks like a real lake's "
        "table; a sandbox only creates tables, never updates one: drop it, or publish into other databases "
        "(catalog.bronze_database, catalog.silver_database)"
    ]
    assert moto.counts().get("s3.PutObject", 0) == 0
    assert moto.counts().get("glue.UpdateTable", 0) == 0 and moto.counts().get("glue.CreateTable", 0) == 1
    table = glue.get_table(DatabaseName="cbbd_silver", Name="fct_plays")["Table"]
    assert table["StorageDescriptor"]["Location"] == "s3://hoops-edge/silver/fct_plays/"

"""Re-keying a catalog table keeps it readable: a table whose files carry ``date``, keyed ``season, asof``.

The catalog holds fct_plays keyed ``season, asof`` with ``date`` among its data columns (the
shape Athena refuses: a column and a key of one name), its partitions registered under that
shape. One ``apply --target partitions`` re-keys it to the declared ``season, date``: ``date``
leaves the columns, the partitions whose path fits the new keys are moved, the others dropped,
and the engine that reads only registered partitions (as Athena does) sees every unit the files
hold. On Glue, the table's Parameters and SerDe survive.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.adapters.catalog_files import catalog_filter
from reconciler.adapters.duckdb_engine import DuckDBEngine
from reconciler.adapters.glue_catalog import GlueCatalog
from reconciler.adapters.local_catalog import LocalCatalog
from reconciler.adapters.local_store import LocalStore
from reconciler.adapters.s3_store import S3Store
from reconciler.ports import Catalog, CatalogTable, ObjectStore, PartitionSpec
from reconciler.sandbox.publish import lake_tables, publish_catalog
from tests.e2e_helpers import cli, make_sandbox, plan_json, plays_units, see_through_catalog

SEASONS = "2025"
ASOF = (("season", "string"), ("asof", "string"))
STRAY = PartitionSpec(("2025", "2025-02-21"), "silver/fct_plays/season=2025/asof=2025-02-21/")


def _rekeyed_by_the_pipeline(catalog: Catalog) -> int:
    """Key fct_plays ``season, asof`` with ``date`` a data column, plus a stray ``asof=`` partition."""
    table = catalog.get_table("cbbd_silver", "fct_plays")
    assert table is not None and [k for k, _ in table.partition_keys] == ["season", "date"]
    catalog.put_table(
        CatalogTable(table.database, table.name, table.location, (*table.columns, ("date", "string")), ASOF)
    )
    catalog.create_partitions("cbbd_silver", "fct_plays", [STRAY])
    return len(catalog.list_partitions("cbbd_silver", "fct_plays"))


def _check_rekeyed(cfg: Path, catalog: Catalog, store: ObjectStore, registered: int) -> None:
    plan = plan_json(cfg, SEASONS, "--target", "partitions")
    (fix,) = [a for t in plan["targets"] for a in t["actions"] if a["address"].endswith("[partition-keys]")]
    assert fix["details"]["drop_columns"] == ["date"]
    assert fix["details"]["partitions"] == {"move": registered - 1, "drop": 1}
    assert "drop the data column(s) date" in fix["reason"]

    r = cli(["apply", "--config", str(cfg), "--seasons", SEASONS, "--target", "partitions", "--auto-approve"])
    assert r.exit_code == 0, r.output[-3000:]

    table = catalog.get_table("cbbd_silver", "fct_plays")
    assert table is not None
    assert [k for k, _ in table.partition_keys] == ["season", "date"]
    # What Athena requires of a table: no column named like a partition key.
    assert not {c.lower() for c, _ in table.columns} & {"season", "date"}
    parts = catalog.list_partitions("cbbd_silver", "fct_plays")
    assert len(parts) == registered - 1 and STRAY.values not in {p.values for p in parts}
    assert all(p.location.endswith(f"season={p.values[0]}/date={p.values[1]}/") for p in parts)

    athena = DuckDBEngine(store, files_filter=catalog_filter(catalog, "registered"))
    files = DuckDBEngine(store)
    try:
        # readable, and it sees every unit the files hold
        assert plays_units(athena, int(SEASONS)) == plays_units(files, int(SEASONS))
    finally:
        athena.close()
        files.close()
    r = cli(["plan", "--config", str(cfg), "--seasons", SEASONS, "--target", "partitions"])
    assert r.exit_code == 0 and "No changes" in r.output, r.output[-3000:]


def test_rekey_season_asof_to_season_date_locally(tmp_path: Path) -> None:
    cfg, _, _ = make_sandbox(tmp_path / "sb", seasons=SEASONS, scale=0.005, seed=3)
    see_through_catalog(cfg)
    catalog = LocalCatalog(cfg.parent / ".reconcile" / "catalog.sqlite")
    try:
        registered = _rekeyed_by_the_pipeline(catalog)
        _check_rekeyed(cfg, catalog, LocalStore(cfg.parent / "lake"), registered)
    finally:
        catalog.close()


PARAMETERS = {"classification": "parquet", "EXTERNAL": "TRUE", "parquet.compression": "SNAPPY", "team": "data-eng"}


@pytest.mark.aws
def test_rekey_on_glue_keeps_parameters_and_serde(tmp_path: Path, moto_url: str, boto_session: Any) -> None:
    cfg, _, _ = make_sandbox(tmp_path / "sb", seasons=SEASONS, scale=0.005, seed=3)
    lake = cfg.parent / "lake"
    store = S3Store("hoops-edge", endpoint_url=moto_url, session=boto_session)
    for path in sorted(p for p in lake.rglob("*") if p.is_file()):
        store.put(path.relative_to(lake).as_posix(), path.read_bytes())
    catalog = GlueCatalog("hoops-edge", endpoint_url=moto_url, session=boto_session)
    publish_catalog(lake_tables(LocalStore(lake), {"bronze": "cbbd_bronze", "silver": "cbbd_silver"}), catalog)
    registered = _rekeyed_by_the_pipeline(catalog)
    glue = boto_session.client("glue", endpoint_url=moto_url)
    raw = glue.get_table(DatabaseName="cbbd_silver", Name="fct_plays")["Table"]
    sd = {**raw["StorageDescriptor"], "SerdeInfo": {**raw["StorageDescriptor"]["SerdeInfo"], "Name": "pipeline"}}
    glue.update_table(
        DatabaseName="cbbd_silver",
        TableInput={
            "Name": "fct_plays",
            "TableType": "EXTERNAL_TABLE",
            "Parameters": PARAMETERS,
            "StorageDescriptor": sd,
            "PartitionKeys": raw["PartitionKeys"],
        },
    )
    doc = yaml.safe_load(cfg.read_text())
    profile = doc["profiles"][doc["default_profile"]]
    profile["store"] = {"kind": "s3", "bucket": "hoops-edge", "endpoint_url": moto_url}
    profile["engine"] = {"kind": "duckdb", "sees": "catalog"}
    profile["catalog"] = {"kind": "glue", "endpoint_url": moto_url}
    cfg.write_text(yaml.safe_dump(doc))

    _check_rekeyed(cfg, catalog, store, registered)
    after = glue.get_table(DatabaseName="cbbd_silver", Name="fct_plays")["Table"]
    assert after["Parameters"] == PARAMETERS
    assert after["StorageDescriptor"]["SerdeInfo"]["Name"] == "pipeline"
    assert after["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")

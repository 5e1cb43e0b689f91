"""open_backends: each port's adapter chosen independently from the profile."""

from __future__ import annotations

import pyarrow as pa
import pytest
import yaml

from reconciler.adapters.athena_engine import AthenaEngine
from reconciler.adapters.duckdb_engine import DuckDBEngine
from reconciler.adapters.dynamo_state import DynamoState
from reconciler.adapters.factory import Backends, catalog_path, open_backends
from reconciler.adapters.glue_catalog import GlueCatalog
from reconciler.adapters.local_catalog import LocalCatalog
from reconciler.adapters.local_store import LocalStore
from reconciler.adapters.s3_store import S3Store
from reconciler.adapters.sqlite_state import SqliteState
from reconciler.config import load_profile
from reconciler.errors import ConfigError, LakeError
from reconciler.lake.writer import encode_parquet
from reconciler.ports import CatalogTable, UnitRecord


def _profile(tmp_path, **profile):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"default_profile": "p", "profiles": {"p": profile}}))
    return load_profile(path)


def test_local_profile(tmp_path):
    (tmp_path / "lake").mkdir()
    profile = _profile(
        tmp_path,
        store={"kind": "local", "path": "lake"},
        state={"kind": "sqlite", "path": ".reconcile/deep/state.sqlite"},
    )
    backends = open_backends(profile)
    try:
        assert isinstance(backends.store, LocalStore)
        assert isinstance(backends.engine, DuckDBEngine)
        assert isinstance(backends.catalog, LocalCatalog)
        assert isinstance(backends.state, SqliteState)
        assert (tmp_path / ".reconcile/deep/state.sqlite").is_file()
        assert backends.catalog.path == tmp_path / ".reconcile/deep/catalog.sqlite"
        backends.state.record_units([UnitRecord("plays", "1", "done")])
        backends.store.put("silver/fct_games/season=2025/part-a.parquet", encode_parquet(pa.table({"gameId": [1]})))
        assert backends.engine.query("SELECT count(*) AS n FROM cbbd_silver.fct_games").table.to_pylist() == [{"n": 1}]
    finally:
        backends.close()


def test_missing_local_lake_is_a_lake_error(tmp_path):
    profile = _profile(tmp_path, store={"kind": "local", "path": "nope"}, state={"kind": "sqlite", "path": "s.db"})
    with pytest.raises(LakeError, match="lake directory does not exist"):
        open_backends(profile)


@pytest.mark.aws
def test_s3_glue_dynamodb_with_duckdb(tmp_path, moto_url):
    profile = _profile(
        tmp_path,
        store={"kind": "s3", "bucket": "hoops-edge", "endpoint_url": moto_url},
        engine={"kind": "duckdb"},
        catalog={"kind": "glue", "endpoint_url": moto_url},
        state={"kind": "dynamodb", "endpoint_url": moto_url},
    )
    backends = open_backends(profile)
    try:
        assert isinstance(backends, Backends)
        assert isinstance(backends.store, S3Store)
        assert isinstance(backends.catalog, GlueCatalog)
        assert isinstance(backends.state, DynamoState)
        backends.store.put("silver/fct_games/season=2025/part-a.parquet", encode_parquet(pa.table({"gameId": [1, 2]})))
        assert backends.engine.query("SELECT sum(gameId) AS s FROM cbbd_silver.fct_games").table.to_pylist() == [
            {"s": 3}
        ]
        backends.catalog.put_table(CatalogTable("cbbd_silver", "fct_games", "silver/fct_games/"))
        assert backends.catalog.get_table("cbbd_silver", "fct_games") is not None
        backends.state.set_meta("k", "v")
        assert backends.state.get_meta("k") == "v"
    finally:
        backends.close()


@pytest.mark.aws
def test_athena_engine_and_local_catalog_beside_the_config(tmp_path, aws_env):
    profile = _profile(
        tmp_path,
        store={"kind": "s3", "bucket": "hoops-edge"},
        engine={"kind": "athena", "output_location": "s3://hoops-edge/athena/"},
        catalog={"kind": "local"},
        state={"kind": "dynamodb"},
    )
    assert catalog_path(profile) == tmp_path / ".reconcile" / "catalog.sqlite"
    backends = open_backends(profile)
    try:
        assert isinstance(backends.engine, AthenaEngine)
        assert backends.engine.workgroup == "cbbd"
    finally:
        backends.close()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"catalog": {"kind": "glue"}}, "glue locations are s3:// URIs"),
        ({"engine": {"kind": "athena"}}, "athena reads S3"),
    ],
)
def test_impossible_combinations(tmp_path, section, message):
    (tmp_path / "lake").mkdir()
    profile = _profile(
        tmp_path, store={"kind": "local", "path": "lake"}, state={"kind": "sqlite", "path": "s.db"}, **section
    )
    with pytest.raises(ConfigError, match=message):
        open_backends(profile)

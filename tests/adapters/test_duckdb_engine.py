"""DuckDBEngine specifics over a local lake: settings, timeouts, cleanup, source planning."""

from __future__ import annotations

import pyarrow as pa
import pytest

from reconciler.adapters.duckdb_engine import DuckDBEngine, declared_empty_schemas
from reconciler.adapters.duckdb_sources import lake_files
from reconciler.adapters.local_store import LocalStore
from reconciler.config import CatalogSettings, EngineSettings
from reconciler.errors import QueryError
from reconciler.lake.writer import encode_parquet
from reconciler.sql import TableRef


@pytest.fixture
def lake(tmp_path):
    store = LocalStore(tmp_path / "lake", create=True)
    store.put(
        "silver/fct_games/season=2025/part-a.parquet",
        encode_parquet(pa.table({"gameId": pa.array([1, 2], pa.int64())})),
    )
    return store


def test_from_settings_maps_database_names_to_layers(lake):
    lake.put(
        "bronze/games/season=2025/asof=2026-02-23/part-b.parquet",
        encode_parquet(pa.table({"id": pa.array([7], pa.int64())})),
    )
    engine = DuckDBEngine.from_settings(
        lake,
        EngineSettings(threads=1, query_timeout_seconds=30),
        CatalogSettings(silver_database="my_silver", bronze_database="my_bronze"),
    )
    assert engine.query("SELECT count(*) AS n FROM my_silver.fct_games").table.to_pylist() == [{"n": 2}]
    assert engine.query("SELECT id, asof FROM MY_BRONZE.games").table.to_pylist() == [{"id": 7, "asof": "2026-02-23"}]
    with pytest.raises(QueryError, match="unknown database cbbd_silver"):
        engine.query("SELECT * FROM cbbd_silver.fct_games")
    engine.close()


def test_unqualified_tables_resolve_in_the_silver_database(lake):
    engine = DuckDBEngine(lake)
    assert engine.query("SELECT count(*) AS n FROM fct_games").table.to_pylist() == [{"n": 2}]


def test_timeout_interrupts_the_query(lake):
    engine = DuckDBEngine(lake, timeout_seconds=0.2)
    with pytest.raises(QueryError, match=r"timed out after 0\.2 s"):
        engine.query("SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b")
    # the engine is still usable afterwards
    assert engine.query("SELECT count(*) AS n FROM cbbd_silver.fct_games").table.num_rows == 1


def test_helper_views_do_not_outlive_a_query(lake):
    engine = DuckDBEngine(lake)
    engine.query("SELECT * FROM cbbd_silver.fct_games")
    views = engine._con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    assert views == []


def test_error_messages_name_lake_tables_not_helper_views(lake):
    engine = DuckDBEngine(lake)
    with pytest.raises(QueryError) as info:
        engine.query("SELECT x.nope FROM cbbd_silver.fct_games x")
    assert "__lake__" not in str(info.value)


def test_declared_empty_schemas_add_partition_columns():
    schemas = declared_empty_schemas("cbbd_silver", "cbbd_bronze")
    plays = schemas[TableRef("cbbd_silver", "fct_plays")]
    assert plays.field("season").type == pa.int64()
    assert plays.field("date").type == pa.string()
    assert TableRef("cbbd_bronze", "plays_game") in schemas


def test_lake_files_ignore_non_parquet_and_parse_partitions(lake):
    for key in ("silver/fct_games/.keep", "silver/fct_games/_SUCCESS", "silver/fct_games/season=2025/x.json"):
        lake.put(key, b"")
    lake.put("silver/fct_games/season=2025/.hidden.parquet", b"")
    files = lake_files(lake, "silver/fct_games/")
    assert [(f.key, f.partitions) for f in files] == [
        ("silver/fct_games/season=2025/part-a.parquet", (("season", "2025"),))
    ]

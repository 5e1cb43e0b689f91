"""DuckDBEngine specifics over a local lake: settings, timeouts, views, the result cache, source planning."""

from __future__ import annotations

import pyarrow as pa
import pytest

from reconciler.adapters.duckdb_engine import DuckDBEngine, declared_empty_schemas
from reconciler.adapters.duckdb_sources import lake_files
from reconciler.adapters.local_store import LocalStore
from reconciler.adapters.obs_cache import ObservationCache
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


def _views(engine: DuckDBEngine) -> list[str]:
    return [r[0] for r in engine._con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()]


def test_a_view_is_kept_while_its_listing_is_unchanged_and_remade_when_it_changes(lake):
    engine = DuckDBEngine(lake)
    n = "SELECT count(*) AS n FROM cbbd_silver.fct_games"
    assert engine.query(n).table.to_pylist() == [{"n": 2}]
    assert _views(engine) == ["__lake__cbbd_silver__fct_games"]
    assert engine.query(n).table.to_pylist() == [{"n": 2}]
    assert _views(engine) == ["__lake__cbbd_silver__fct_games"]
    # A new file is seen by the next query (apply writes between queries).
    lake.put(
        "silver/fct_games/season=2025/part-b.parquet",
        encode_parquet(pa.table({"gameId": pa.array([3], pa.int64())})),
    )
    assert engine.query(n).table.to_pylist() == [{"n": 3}]
    # A table that lost every file answers over its declared (empty) schema.
    lake.delete(["silver/fct_games/season=2025/part-a.parquet", "silver/fct_games/season=2025/part-b.parquet"])
    assert engine.query(n).table.to_pylist() == [{"n": 0}]
    assert sorted(_views(engine)) == ["__lake__cbbd_silver__fct_games", "__lake__cbbd_silver__fct_games__empty"]


def test_the_result_cache_answers_only_while_the_files_are_unchanged(lake, tmp_path):
    cache = ObservationCache(tmp_path / "cache")
    engine = DuckDBEngine(lake, cache=cache)
    q = 'SELECT sum("gameId") AS s FROM cbbd_silver.fct_games'
    assert engine.query(q).table.to_pylist() == [{"s": 3}]
    assert (cache.hits, cache.misses) == (0, 1)
    # A second engine (the next plan) is answered from the cache: no view is defined.
    again = DuckDBEngine(lake, cache=cache)
    assert again.query(q).table.to_pylist() == [{"s": 3}]
    assert cache.hits == 1 and _views(again) == []
    # Any change to the table's files is a miss.
    lake.put(
        "silver/fct_games/season=2025/part-b.parquet",
        encode_parquet(pa.table({"gameId": pa.array([10], pa.int64())})),
    )
    assert again.query(q).table.to_pylist() == [{"s": 13}]
    assert cache.misses == 2
    # Queries that read the clock are never cached.
    clock = "SELECT count(*) AS n FROM cbbd_silver.fct_games WHERE current_date > DATE '2000-01-01'"
    stored = len(list((tmp_path / "cache" / "results").glob("*.arrow")))
    again.query(clock)
    again.query(clock)
    assert (cache.hits, cache.misses) == (1, 2)
    assert len(list((tmp_path / "cache" / "results").glob("*.arrow"))) == stored


def test_an_unreadable_cache_entry_is_a_miss(lake, tmp_path):
    cache = ObservationCache(tmp_path / "cache")
    q = "SELECT count(*) AS n FROM cbbd_silver.fct_games"
    DuckDBEngine(lake, cache=cache).query(q)
    for entry in (tmp_path / "cache" / "results").glob("*.arrow"):
        entry.write_bytes(b"not arrow")
    assert DuckDBEngine(lake, cache=cache).query(q).table.to_pylist() == [{"n": 2}]
    assert cache.hits == 0


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


def test_idle_frees_the_connection_and_the_next_query_sees_the_lake_as_it_is_then(lake):
    engine = DuckDBEngine(lake)
    n = "SELECT count(*) AS n FROM cbbd_silver.fct_games"
    assert engine.query(n).table.to_pylist() == [{"n": 2}]
    engine.idle()
    assert engine._connection is None and engine._views == {}
    lake.put(
        "silver/fct_games/season=2025/part-c.parquet",
        encode_parquet(pa.table({"gameId": pa.array([4], pa.int64())})),
    )
    assert engine.query(n).table.to_pylist() == [{"n": 3}]
    assert _views(engine) == ["__lake__cbbd_silver__fct_games"]
    engine.idle()
    engine.idle()  # twice is harmless
    engine.close()
    with pytest.raises(QueryError, match="closed"):
        engine.query(n)

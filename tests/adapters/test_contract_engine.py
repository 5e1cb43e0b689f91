"""The DuckDB engine over a local lake and over S3 (moto): the same data gives the same rows.

Every test writes its lake through the parametrised store and compares against one expected
value, so local and S3 are held to identical results.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from reconciler.adapters.duckdb_engine import DuckDBEngine
from reconciler.errors import QueryError
from reconciler.lake.writer import encode_parquet

I32, I64, F64, STR = pa.int32(), pa.int64(), pa.float64(), pa.string()


def _pq(**cols):
    return encode_parquet(pa.table({k: pa.array(v, t) for k, (v, t) in cols.items()}))


def _games(ids, season, excitement, ex_type, status="final"):
    return _pq(
        gameId=(ids, I64),
        season=([season] * len(ids), I32),
        status=([status] * len(ids), STR),
        startDate=([f"{season - 1}-12-01T00:00:00.000Z"] * len(ids), STR),
        excitement=(excitement, ex_type),
    )


LAKE = {
    # three layouts in one table, and excitement drifting int64 → double
    "silver/fct_games/season=2024/part-a.parquet": _games([1, 2], 2024, [3, None], I64),
    "silver/fct_games/season=2025/asof=2025-01-05/part-b.parquet": _games([3], 2025, [2.5], F64),
    "silver/fct_games/season=2025/date=2024-12-01/part-c.parquet": _games([4, 5], 2025, [7, 1], I64),
    "silver/fct_games/season=2025/date=2024-12-02/part-d.parquet": _games([6], 2025, [1], I64, "scheduled"),
    # the physical season column (2099 here) is hidden by the partition key, as in Athena
    "silver/fct_plays/season=2025/date=2024-12-01/part-1.parquet": _pq(
        id=([10, 11, 12], I64), gameId=([4, 4, 5], I64), season=([2099] * 3, I32)
    ),
    "silver/fct_plays/season=2024/date=2023-12-01/part-2.parquet": _pq(
        id=([13], I64), gameId=([1], I64), season=([2024], I32), shot_made=([True], pa.bool_())
    ),
    # string vs double in one column becomes text
    "silver/fct_lines/season=2025/part-l1.parquet": _pq(gameId=([4], I64), overUnderOpen=(["141.5"], STR)),
    "silver/fct_lines/season=2025/part-l2.parquet": _pq(gameId=([5], I64), overUnderOpen=([150.0], F64)),
    # a fan-out file written without game metadata
    "bronze/plays_game/season=unknown/date=2026-02-23/part-x.parquet": _pq(id=([99], I64), gameId=([9], I64)),
    # noise every listing must ignore
    "silver/fct_games/.keep": b"",
    "silver/fct_games/season=2025/part-zz.parquet.tmp": b"partial",
    "silver/fct_games/season=2025/notes.json": b"{}",
    "silver/fct_empty/.keep": b"",
}


@pytest.fixture
def engine(store):
    for key, data in LAKE.items():
        store.put(key, data)
    eng = DuckDBEngine(store, threads=2)
    yield eng
    eng.close()


def _rows(engine, sql, params=None):
    return engine.query(sql, params).table.to_pylist()


def test_mixed_layouts_types_and_partition_columns(engine):
    res = engine.query("SELECT * FROM cbbd_silver.fct_games ORDER BY gameid")
    t = res.table
    assert res.engine == "duckdb"
    assert res.bytes_scanned == 0
    assert t.schema.field("season").type == pa.int64()
    assert t.schema.field("date").type == pa.string()  # date=2024-12-01 stays a string
    assert t.schema.field("asof").type == pa.string()
    assert t.schema.field("excitement").type == pa.float64()  # int64 + double → double
    got = [(r["gameId"], r["season"], r["date"], r["asof"], r["excitement"]) for r in t.to_pylist()]
    assert got == [
        (1, 2024, None, None, 3.0),
        (2, 2024, None, None, None),
        (3, 2025, None, "2025-01-05", 2.5),
        (4, 2025, "2024-12-01", None, 7.0),
        (5, 2025, "2024-12-01", None, 1.0),
        (6, 2025, "2024-12-02", None, 1.0),
    ]


def test_partition_key_hides_the_physical_column(engine):
    assert _rows(engine, "SELECT season, count(*) AS n FROM cbbd_silver.fct_plays GROUP BY season ORDER BY 1") == [
        {"season": 2024, "n": 1},
        {"season": 2025, "n": 3},
    ]


def test_the_plan_query_with_parameters(engine):
    sql = """
        WITH expected AS (
            SELECT "gameId" AS game_id, season, substr(startDate, 1, 10) AS game_date
            FROM cbbd_silver.fct_games
            WHERE season BETWEEN :season_start AND :season_end AND status = :status
        )
        SELECT e.game_id, e.season, e.game_date, count(p.id) AS plays
        FROM expected e LEFT JOIN cbbd_silver.fct_plays p ON p.gameid = e.game_id
        GROUP BY 1, 2, 3 ORDER BY 1
    """
    got = _rows(engine, sql, {"season_start": 2025, "season_end": 2026, "status": "final"})
    assert got == [
        {"game_id": 3, "season": 2025, "game_date": "2024-12-01", "plays": 0},
        {"game_id": 4, "season": 2025, "game_date": "2024-12-01", "plays": 2},
        {"game_id": 5, "season": 2025, "game_date": "2024-12-01", "plays": 1},
    ]


def test_string_and_double_drift_becomes_text(engine):
    t = engine.query("SELECT gameId, overUnderOpen FROM cbbd_silver.fct_lines ORDER BY 1").table
    assert t.schema.field("overUnderOpen").type == pa.string()
    assert t.column("overUnderOpen").to_pylist() == ["141.5", "150.0"]


def test_columns_missing_from_some_files_are_null(engine):
    got = _rows(engine, "SELECT id, shot_made FROM cbbd_silver.fct_plays ORDER BY id")
    assert got == [
        {"id": 10, "shot_made": None},
        {"id": 11, "shot_made": None},
        {"id": 12, "shot_made": None},
        {"id": 13, "shot_made": True},
    ]


def test_non_integer_season_partition_is_null(engine):
    assert _rows(engine, "SELECT gameId, season, date FROM cbbd_bronze.plays_game") == [
        {"gameId": 9, "season": None, "date": "2026-02-23"}
    ]


def test_declared_table_without_files_answers_empty(engine):
    t = engine.query("SELECT DISTINCT gameId FROM cbbd_silver.fct_substitutions WHERE season = 2024").table
    assert t.num_rows == 0
    assert t.column_names == ["gameId"]


def test_undeclared_table_without_parquet_names_the_table(engine):
    with pytest.raises(QueryError, match=r"cbbd_silver\.fct_empty has no data: no \.parquet objects under"):
        engine.query("SELECT * FROM cbbd_silver.fct_empty")


def test_rewritten_file_is_seen_by_the_next_query(engine, store):
    key = "silver/fct_lines/season=2025/part-l1.parquet"
    assert _rows(engine, "SELECT count(*) AS n FROM cbbd_silver.fct_lines") == [{"n": 2}]
    store.put(key, _pq(gameId=([4, 7, 8], I64), overUnderOpen=(["1", "2", "3"], STR)))
    assert _rows(engine, "SELECT count(*) AS n FROM cbbd_silver.fct_lines") == [{"n": 4}]


def test_an_unreadable_file_is_left_out_and_named(engine, store):
    """One bad object does not fail the table's queries: it is left out and named, with its table, once."""
    before = engine.query("SELECT count(*) AS n FROM cbbd_silver.fct_lines").table.column("n")[0].as_py()
    store.put("silver/fct_lines/season=2026/part-bad.parquet", b"not parquet at all")
    after = engine.query("SELECT count(*) AS n FROM cbbd_silver.fct_lines").table.column("n")[0].as_py()
    assert after == before
    (notice,) = engine.notices
    assert "cbbd_silver.fct_lines" in notice and "part-bad.parquet" in notice and "not readable Parquet" in notice


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT * FROM cbbd_gold.team_quality_daily", "unknown database cbbd_gold"),
        ("SELECT nope FROM cbbd_silver.fct_games", 'DuckDB: Binder Error: Referenced column "nope"'),
        ("SELECT FROM WHERE", "does not parse as Athena SQL"),
        ("DELETE FROM cbbd_silver.fct_games", "only SELECT queries"),
        ("SELECT 1; SELECT 2", "one query is allowed"),
        (
            "SELECT * FROM cbbd_silver.fct_games WHERE season = :season",
            "parameter\\(s\\) :season have no value",
        ),
    ],
)
def test_errors_are_one_line_query_errors(engine, sql, message):
    with pytest.raises(QueryError, match=message) as info:
        engine.query(sql)
    assert "\n" not in str(info.value)

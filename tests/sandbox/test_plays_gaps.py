from __future__ import annotations

import json
from collections import defaultdict

import pyarrow.compute as pc
import pyarrow.parquet as pq

from reconciler.lake.layout import hash8
from reconciler.lake.schemas import BRONZE_TABLES, SILVER_TABLES
from reconciler.lake.writer import decode_raw
from reconciler.sandbox import INGEST_DATE
from reconciler.sandbox.games_layer import consolidated_key
from reconciler.synth.schedule import FINAL

from .conftest import SEASONS, Sandbox
from .helpers import files, partition, read_all


def _finals(sandbox: Sandbox, season: int) -> set[int]:
    sg = sandbox.universe.season_games(season)
    return set(sg.game_id[sg.status == FINAL].tolist())


def test_wholly_missing_season(sandbox: Sandbox) -> None:
    assert sandbox.manifest.wholly_missing["plays"] == [2016]
    cov = sandbox.manifest.targets["plays"].seasons["2016"]
    assert cov.wholly_missing and cov.present == 0 and sorted(cov.missing) == sorted(_finals(sandbox, 2016))
    assert not files(sandbox.lake, "silver/fct_plays/season=2016/")
    assert not files(sandbox.lake, "bronze/plays_date/season=2016/")


def test_silver_plays_match_the_manifest_exactly(sandbox: Sandbox) -> None:
    for season in SEASONS:
        cov = sandbox.manifest.targets["plays"].seasons[str(season)]
        table = read_all(sandbox.lake, f"silver/fct_plays/season={season}/", sandbox.drift_keys)
        present = set() if table is None else set(table["gameId"].to_pylist())
        assert present == _finals(sandbox, season) - set(cov.missing), season
        assert cov.present == len(present) and cov.expected == len(_finals(sandbox, season))
        assert cov.silver_rows == (0 if table is None else table.num_rows)
        if season != 2016:
            assert cov.counts["fetchable"] >= 1 and cov.counts["api_empty"] >= 1 and cov.partial
        assert set(cov.api_empty) <= set(cov.missing)
        assert not set(cov.partial) & set(cov.missing)


def test_api_empty_and_fetchable_games(sandbox: Sandbox) -> None:
    u = sandbox.universe
    for season in SEASONS:
        cov = sandbox.manifest.targets["plays"].seasons[str(season)]
        for gid in cov.api_empty:
            assert u.plays(int(gid)) == []
        for gid in sorted(set(cov.missing) - set(cov.api_empty))[:5]:
            assert u.plays(int(gid))


def test_partial_games_stop_after_period_one(sandbox: Sandbox) -> None:
    for season in SEASONS:
        cov = sandbox.manifest.targets["plays"].seasons[str(season)]
        table = read_all(sandbox.lake, f"silver/fct_plays/season={season}/", sandbox.drift_keys)
        if table is None:
            continue
        for gid in cov.partial:
            rows = table.filter(pc.equal(table["gameId"], gid))
            assert rows.num_rows > 0
            assert set(rows["period"].to_pylist()) == {1}
            assert "End Game" not in rows["playType"].to_pylist()
        complete = set(table["gameId"].to_pylist()) - set(cov.partial)
        ends = table.filter(pc.equal(table["playType"], "End Game"))
        assert set(ends["gameId"].to_pylist()) == complete


def test_silver_rows_equal_the_api_for_complete_games(sandbox: Sandbox) -> None:
    table = read_all(sandbox.lake, "silver/fct_plays/season=2025/", sandbox.drift_keys)
    assert table is not None and table.schema.equals(SILVER_TABLES["fct_plays"].schema)
    gid = sorted(set(table["gameId"].to_pylist()) - set(sandbox.manifest.targets["plays"].seasons["2025"].partial))[0]
    rows = table.filter(pc.equal(table["gameId"], gid))
    assert rows.equals(sandbox.universe.plays_table([gid]))


def test_bronze_and_raw_hold_exactly_the_silver_rows(sandbox: Sandbox) -> None:
    lake = sandbox.lake
    silver_by_date: dict[tuple[str, str], list[int]] = defaultdict(list)
    for path in files(lake, "silver/fct_plays/", ".parquet"):
        if path.relative_to(lake).as_posix() in sandbox.drift_keys:
            continue
        part = partition(path, lake)
        t = pq.read_table(path)
        key = consolidated_key("fct_plays", int(part["season"]), t.num_rows, part["date"])
        assert path.relative_to(lake).as_posix() == key
        silver_by_date[(part["season"], part["date"])] = t["id"].to_pylist()
    bronze = files(lake, "bronze/plays_date/", ".parquet")
    assert len(bronze) == len(silver_by_date)
    for path in bronze:
        part = partition(path, lake)
        assert path.name == f"part-{hash8({'date': part['date']})}.parquet"
        t = pq.read_table(path)
        assert t.schema.equals(BRONZE_TABLES["plays_date"].schema)
        assert t["id"].to_pylist() == silver_by_date[(part["season"], part["date"])]
        raw = lake / f"raw/plays/date/ingested_at={INGEST_DATE}/{path.name[:-8]}.json.gz"
        data = raw.read_bytes()
        records = decode_raw(data)
        assert [r["id"] for r in records] == t["id"].to_pylist()
    sample = decode_raw(raw.read_bytes())[:50]
    gid = sample[0]["gameId"]
    api = {r["id"]: r for r in sandbox.universe.plays(gid)}
    for r in sample:
        if r["gameId"] == gid:
            assert json.dumps(r) == json.dumps(api[r["id"]])

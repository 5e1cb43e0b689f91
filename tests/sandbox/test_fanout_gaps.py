from __future__ import annotations

import json

import pyarrow.compute as pc
import pyarrow.parquet as pq

from reconciler.lake.layout import hash8
from reconciler.lake.schemas import BRONZE_TABLES, SILVER_TABLES, records_to_table
from reconciler.lake.writer import decode_raw
from reconciler.sandbox import INGEST_DATE
from reconciler.synth.schedule import FINAL

from .conftest import SEASONS, Sandbox
from .helpers import files, partition, read_all


def test_substitutions_only_in_2024_and_collapsed(sandbox: Sandbox) -> None:
    m = sandbox.manifest.targets["substitutions"]
    assert sandbox.manifest.wholly_missing["substitutions"] == [2015, 2016, 2025]
    for season in SEASONS:
        cov = m.seasons[str(season)]
        table = read_all(sandbox.lake, f"silver/fct_substitutions/season={season}/")
        if season != 2024:
            assert table is None and cov.wholly_missing and cov.present == 0
            assert len(cov.missing) == cov.expected
            continue
        assert table is not None and table.schema.equals(SILVER_TABLES["fct_substitutions"].schema)
        ids = table["gameId"].to_pylist()
        assert len(ids) == len(set(ids)), "one row per game (the key bug)"
        assert sorted(ids) == sorted(cov.collapsed) and cov.complete == 0
        assert cov.missing == cov.api_empty and cov.missing
        sg = sandbox.universe.season_games(season)
        assert set(cov.api_empty) == set(sg.game_id[(sg.status == FINAL) & ~sg.has_subs].tolist())


def test_substitutions_bronze_and_raw_are_complete(sandbox: Sandbox) -> None:
    lake, u = sandbox.lake, sandbox.universe
    cov = sandbox.manifest.targets["substitutions"].seasons["2024"]
    bronze = files(lake, "bronze/substitutions_game/", ".parquet")
    assert len(bronze) == len(cov.collapsed)
    by_name = {f"part-{hash8({'gameId': g})}.parquet": int(g) for g in cov.collapsed}
    for path in bronze:
        gid = by_name[path.name]
        api = u.substitutions(gid)
        t = pq.read_table(path)
        assert t.equals(records_to_table(BRONZE_TABLES["substitutions_game"], api, {"season": 2024}))
        assert partition(path, lake) == {"season": "2024", "date": api[0]["startDate"][:10]}
        raw = lake / f"raw/substitutions/game/ingested_at={INGEST_DATE}/{path.name[:-8]}.json.gz"
        assert decode_raw(raw.read_bytes()) == api
    for gid in cov.deadlettered:
        dl = lake / f"deadletter/substitutions_game/ingested_at={INGEST_DATE}/part-{hash8({'gameId': gid})}.json"
        body = json.loads(dl.read_text())
        assert body == {
            "reason": "empty_response",
            "params": {"gameId": gid},
            "endpoint": "substitutions_game",
        }
        assert u.substitutions(int(gid)) == []


def test_lineups_only_in_2025_collapsed_and_one_team(sandbox: Sandbox) -> None:
    lake, u = sandbox.lake, sandbox.universe
    cov = sandbox.manifest.targets["lineups"].seasons["2025"]
    table = read_all(lake, "silver/fct_lineups/season=2025/")
    assert table is not None and table.schema.equals(SILVER_TABLES["fct_lineups"].schema)
    units = {f"{g}:{t}" for g, t in zip(table["gameId"].to_pylist(), table["teamid"].to_pylist(), strict=True)}
    assert units == set(cov.collapsed) | {f"{g}:{u.game(g)['homeTeamId']}" for g in cov.one_team_only}
    assert cov.one_team_only and cov.collapsed
    for gid in cov.one_team_only:
        home = u.game(gid)["homeTeamId"]
        rows = table.filter(pc.equal(table["gameId"], gid))
        api_home = [r for r in u.lineups(gid) if r["teamId"] == home]
        assert sorted(rows["idhash"].to_pylist()) == sorted(r["idHash"] for r in api_home)
    for unit in cov.collapsed:
        gid = int(str(unit).split(":")[0])
        assert table.filter(pc.equal(table["gameId"], gid)).num_rows == 1
    sg = u.season_games(2025)
    finals = sg.game_id[sg.status == FINAL].tolist()
    assert cov.expected == 2 * len(finals)
    assert set(cov.missing) | units == {
        f"{g}:{t}" for g in finals for t in (u.game(g)["homeTeamId"], u.game(g)["awayTeamId"])
    }
    for unit in cov.api_empty:
        gid, tid = (int(x) for x in str(unit).split(":"))
        assert not [r for r in u.lineups(gid) if r["teamId"] == tid]
    fetchable = set(cov.missing) - set(cov.api_empty)
    assert fetchable
    gid, tid = (int(x) for x in str(sorted(fetchable)[0]).split(":"))
    assert [r for r in u.lineups(gid) if r["teamId"] == tid]
    for season in (2015, 2016, 2024):
        assert not files(lake, f"silver/fct_lineups/season={season}/")
        assert sandbox.manifest.targets["lineups"].seasons[str(season)].wholly_missing


def test_lineups_bronze_and_raw_carry_the_injected_keys(sandbox: Sandbox) -> None:
    lake, u = sandbox.lake, sandbox.universe
    bronze = files(lake, "bronze/lineups_game/", ".parquet")
    assert bronze
    for path in bronze[:10]:
        t = pq.read_table(path)
        assert t.schema.equals(BRONZE_TABLES["lineups_game"].schema)
        gid = t["gameId"][0].as_py()
        api = u.lineups(gid)
        assert t.num_rows == len(api)
        raw = decode_raw((lake / f"raw/lineups/game/ingested_at={INGEST_DATE}/{path.name[:-8]}.json.gz").read_bytes())
        date = partition(path, lake)["date"]
        assert raw == [{**r, "season": 2025, "date": date, "gameId": gid} for r in api]

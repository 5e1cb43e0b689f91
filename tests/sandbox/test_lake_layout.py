from __future__ import annotations

import re

import pyarrow.parquet as pq

from reconciler.lake.layout import hash8
from reconciler.lake.schemas import BRONZE_TABLES, SILVER_TABLES
from reconciler.lake.writer import decode_raw
from reconciler.sandbox import INGEST_DATE
from reconciler.sandbox.games_layer import consolidated_key, game_slices

from .conftest import SEASONS, Sandbox
from .helpers import files, partition

S = r"season=20\d\d"
D = r"date=20\d\d-\d\d-\d\d"
H = r"part-[0-9a-f]{8}"
ING = f"ingested_at={INGEST_DATE}"
PATTERNS = [
    rf"silver/fct_games/{S}/{H}\.parquet",
    rf"silver/fct_games/{S}/asof=2026-02-21/{H}\.parquet",  # drift
    rf"silver/fct_plays/{S}/asof=2026-02-21/{H}\.parquet",  # drift
    rf"bronze/games/{S}/asof={INGEST_DATE}/{H}\.parquet",
    rf"raw/games/{ING}/{H}\.json\.gz",
    rf"silver/fct_plays/{S}/{D}/{H}\.parquet",
    rf"bronze/plays_date/{S}/{D}/{H}\.parquet",
    rf"raw/plays/date/{ING}/{H}\.json\.gz",
    rf"silver/fct_substitutions/{S}/{D}/{H}\.parquet",
    rf"bronze/substitutions_game/{S}/{D}/{H}\.parquet",
    rf"raw/substitutions/game/{ING}/{H}\.json\.gz",
    rf"silver/fct_lineups/{S}/{D}/{H}\.parquet",
    rf"bronze/lineups_game/{S}/{D}/{H}\.parquet",
    rf"raw/lineups/game/{ING}/{H}\.json\.gz",
    rf"deadletter/(substitutions|lineups)_game/{ING}/{H}\.json",
]


def test_every_key_follows_the_cbbd_etl_layout(sandbox: Sandbox) -> None:
    keys = [p.relative_to(sandbox.lake).as_posix() for p in files(sandbox.lake, "")]
    assert len(keys) > 100
    bad = [k for k in keys if not any(re.fullmatch(p, k) for p in PATTERNS)]
    assert not bad, bad[:5]


def test_fct_games_silver_bronze_raw(sandbox: Sandbox) -> None:
    lake, u = sandbox.lake, sandbox.universe
    for season in SEASONS:
        sg = u.season_games(season)
        ids = set(sg.game_id.tolist())
        silver = [p for p in files(lake, f"silver/fct_games/season={season}/") if p.parent.name.startswith("season=")]
        consolidated = [
            p for p in silver if p.relative_to(lake).as_posix() == consolidated_key("fct_games", season, len(ids))
        ]
        assert len(consolidated) == 1
        table = pq.read_table(consolidated[0])
        assert table.schema.equals(SILVER_TABLES["fct_games"].schema)
        assert set(table["gameId"].to_pylist()) == ids and table.num_rows == len(ids)
        slices = {hash8(p): p for p in game_slices(season)}
        seen: list[int] = []
        for path in files(lake, f"bronze/games/season={season}/"):
            params = slices[path.name[5:13]]
            t = pq.read_table(path)
            assert t.schema.equals(BRONZE_TABLES["games"].schema)
            days = {d[:10] for d in t["startDate"].to_pylist()}
            assert all(params["startDateRange"][:10] <= d <= params["endDateRange"][:10] for d in days)
            raw = decode_raw((lake / f"raw/games/ingested_at={INGEST_DATE}/{path.name[:-8]}.json.gz").read_bytes())
            assert [r["id"] for r in raw] == t["id"].to_pylist()
            seen.extend(t["id"].to_pylist())
        assert sorted(seen) == sorted(ids)


def test_manifest_game_counts(sandbox: Sandbox) -> None:
    for season in SEASONS:
        counts = sandbox.manifest.games[str(season)]
        assert counts["games"] == len(sandbox.universe.season_games(season))
        assert counts["non_final"] >= 1 and counts["midnight_utc_starts"] >= 1
        assert counts["final"] == sandbox.manifest.targets["plays"].seasons[str(season)].expected


def test_file_tallies(sandbox: Sandbox) -> None:
    drift = sandbox.drift_keys  # drift adds objects after the tally
    for key, tally in sandbox.manifest.files.items():
        paths = [p for p in files(sandbox.lake, key + "/") if p.relative_to(sandbox.lake).as_posix() not in drift]
        assert tally["objects"] == len(paths), key
        assert tally["bytes"] == sum(p.stat().st_size for p in paths), key


def test_partitions_use_the_game_date(sandbox: Sandbox) -> None:
    paths = [p for p in files(sandbox.lake, "silver/fct_plays/", ".parquet") if "/asof=" not in p.as_posix()]
    for path in paths[:30]:
        part = partition(path, sandbox.lake)
        t = pq.read_table(path, columns=["gameStartDate", "season"])
        assert {d[:10] for d in t["gameStartDate"].to_pylist()} == {part["date"]}
        assert set(t["season"].to_pylist()) == {int(part["season"])}

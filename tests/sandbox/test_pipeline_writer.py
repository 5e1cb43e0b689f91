"""`sandbox init --writer pipeline`: a lake written the way cbbd_etl writes it, checked by opening its files."""

from __future__ import annotations

import ast
import datetime as dt
import gzip
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from reconciler.adapters.local_catalog import LocalCatalog
from reconciler.lake.layout import hash8, parse_partition_path
from reconciler.sandbox import Manifest, init_sandbox, load_manifest
from reconciler.sandbox.games_layer import consolidated_key, game_slices
from reconciler.sandbox.pipeline_plays import bronze_batch, json_to_repr, play_source, silver_batch
from reconciler.sandbox.pipeline_rules import normalize, wire
from reconciler.synth import Universe
from reconciler.synth.playrender import play_pieces
from reconciler.synth.schedule import FINAL

from .conftest import Sandbox

SEASONS = (2015, 2024, 2025)
SCALE = 0.01
SEED = 5


@dataclass(frozen=True)
class Pipe:
    dest: Path
    lake: Path
    manifest: Manifest
    universe: Universe

    def keys(self, prefix: str, suffix: str = ".parquet") -> list[str]:
        base = self.lake / prefix
        return sorted(
            p.relative_to(self.lake).as_posix() for p in base.rglob("*") if p.is_file() and p.name.endswith(suffix)
        )

    def read(self, key: str, columns: list[str] | None = None) -> pa.Table:
        return pq.read_table(self.lake / key, columns=columns)

    def schema(self, key: str) -> pa.Schema:
        return pq.read_schema(self.lake / key)


@pytest.fixture(scope="module")
def pipe(tmp_path_factory: pytest.TempPathFactory) -> Pipe:
    dest = tmp_path_factory.mktemp("pipeline")
    manifest = init_sandbox(dest, seasons=SEASONS, scale=SCALE, seed=SEED, api_port=8899, writer="pipeline")
    return Pipe(dest, dest / "lake", manifest, Universe(SEED, SCALE, SEASONS))


def _plays_date_key(key: str) -> bool:
    """A plays_date object (named by its day) rather than a per-game one."""
    part = parse_partition_path(key)
    return "date" in part and key.endswith(f"part-{hash8({'date': part['date']})}.parquet")


def _present(pipe: Pipe) -> dict[int, set[int]]:
    cov = pipe.manifest.targets["plays"].seasons
    out = {}
    for s in SEASONS:
        sg = pipe.universe.season_games(s)
        finals = set(sg.game_id[sg.status == FINAL].tolist())
        out[s] = finals - {int(g) for g in cov[str(s)].missing}
    return out


# ------------------------------------------------------------------ manifest, config, default writer


def test_manifest_and_config_record_the_writer(pipe: Pipe) -> None:
    assert pipe.manifest.writer == "pipeline"
    assert load_manifest(pipe.dest) == pipe.manifest
    doc = yaml.safe_load((pipe.dest / "config.yaml").read_text())
    assert doc["sandbox"]["writer"] == "pipeline"
    section = pipe.manifest.pipeline
    for name in ("layouts", "duplicates", "zero_column_files", "unknown_partitions", "catalog", "history"):
        assert section[name], name


def test_the_default_writer_leaves_writer_out(sandbox: Sandbox) -> None:
    text = (sandbox.dest / "manifest.json").read_text()
    assert '"writer"' not in text and '"pipeline"' not in text
    assert "writer" not in yaml.safe_load((sandbox.dest / "config.yaml").read_text())["sandbox"]
    # the default writer's consolidated per-date fct_plays files, not per-game ones
    plays = [p for p in (sandbox.lake / "silver/fct_plays").rglob("*.parquet") if "/asof=" not in p.as_posix()]
    assert plays and all("date" in parse_partition_path(p.as_posix()) for p in plays)


def test_an_unknown_writer_is_refused(tmp_path: Path) -> None:
    from reconciler.errors import InputError

    with pytest.raises(InputError, match="--writer"):
        init_sandbox(tmp_path / "x", seasons=(2024,), scale=0.005, writer="etl")


# ------------------------------------------------------------------ object names


def test_fanout_objects_are_named_by_their_game(pipe: Pipe) -> None:
    checked = 0
    for layer, table in (
        ("silver", "fct_plays"),
        ("bronze", "plays_game"),
        ("silver", "fct_substitutions"),
        ("bronze", "substitutions_game"),
        ("silver", "fct_lineups"),
        ("bronze", "lineups_game"),
    ):
        for key in pipe.keys(f"{layer}/{table}/"):
            part = parse_partition_path(key)
            if _plays_date_key(key) or ("date" not in part and "asof" not in part):
                continue  # plays_date objects and consolidated files are checked below
            games = set(pipe.read(key, ["gameId"])["gameId"].to_pylist())
            assert len(games) == 1, key
            assert key.endswith(f"/part-{hash8({'gameId': games.pop()})}.parquet"), key
            checked += 1
    assert checked > 100
    raw_names = {k.rsplit("/", 1)[1] for k in pipe.keys("raw/plays/game/", ".json.gz")}
    lake_games = set().union(*_present(pipe).values())
    assert raw_names <= {f"part-{hash8({'gameId': g})}.json.gz" for g in lake_games}


def test_games_are_30_day_slices_named_by_their_params(pipe: Pipe) -> None:
    for s in SEASONS:
        names = {f"part-{hash8(p)}.parquet" for p in game_slices(s)}
        silver = pipe.keys(f"silver/fct_games/season={s}/")
        assert silver and {k.rsplit("/", 1)[1] for k in silver} <= names
        bronze = pipe.keys(f"bronze/games/season={s}/")
        assert bronze and all("/asof=" in k for k in bronze)
    for key in pipe.keys("raw/games/", ".json.gz"):
        with gzip.open(pipe.lake / key, "rt") as fh:
            first = fh.readline()
        assert ", " in first and ": " in first  # Python's default separators


# ------------------------------------------------------------------ types


def test_plays_are_typed_per_batch(pipe: Pipe) -> None:
    seed_types: set[str] = set()
    for key in pipe.keys("silver/fct_plays/") + pipe.keys("bronze/plays_game/"):
        schema = pipe.schema(key)
        if not schema.names:
            continue  # the zero-column file
        assert schema.names == sorted(schema.names), key
        assert schema.field("scoreValue").type == pa.int64()
        assert schema.field("season").type == pa.int32()
        seed_types.add(str(schema.field("teamSeed").type))
    seeded = False
    for s, games in _present(pipe).items():
        sg = pipe.universe.season_games(s)
        in_lake = np.isin(sg.game_id, np.asarray(sorted(games), dtype=np.int64))
        seeded |= bool(((sg.home_seed >= 0) | (sg.away_seed >= 0))[in_lake].any())
    assert "string" in seed_types
    assert ("int64" in seed_types) == bool(seeded)


def test_games_excitement_follows_the_first_value_of_each_slice(pipe: Pipe) -> None:
    seen = set()
    for key in pipe.keys("raw/games/", ".json.gz"):
        with gzip.open(pipe.lake / key, "rt") as fh:
            records = [json.loads(line) for line in fh]
        first = next((r["excitement"] for r in records if r["excitement"] is not None), None)
        day = key.split("ingested_at=")[1][:10]
        season = records[0]["season"]
        name = key.rsplit("/", 1)[1].replace(".json.gz", ".parquet")
        bronze = pq.read_schema(pipe.lake / f"bronze/games/season={season}/asof={day}/{name}")
        want = {type(None): pa.string(), int: pa.int64(), float: pa.float64()}[type(first)]
        assert bronze.field("excitement").type == want, key
        assert bronze.field("homeSeed").type in (pa.string(), pa.int64())
        seen.add(str(want))
    silver = {str(pipe.schema(k).field("excitement").type) for k in pipe.keys("silver/fct_games/")}
    assert "double" in seen and silver <= {"double", "int64", "string"}
    assert all(pipe.schema(k).field("homeSeed").type == pa.string() for k in pipe.keys("silver/fct_games/"))


def test_substitutions_have_the_13_wire_columns_and_python_repr(pipe: Pipe) -> None:
    keys = pipe.keys("silver/fct_substitutions/")
    assert keys
    wire_cols = {
        "gameId",
        "startDate",
        "teamId",
        "team",
        "conference",
        "athleteId",
        "athlete",
        "position",
        "opponentId",
        "opponent",
        "opponentConference",
        "subIn",
        "subOut",
    }
    for key in keys:
        t = pipe.read(key)
        assert set(t.column_names) == wire_cols and t.num_rows == 1, key
        text = t["subIn"][0].as_py()
        assert set(ast.literal_eval(text)) == {"opponentPoints", "teamPoints", "secondsRemaining", "period"}
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
    bronze = pipe.keys("bronze/substitutions_game/")
    gid = int(pipe.read(bronze[0], ["gameId"])["gameId"][0].as_py())
    assert pipe.read(bronze[0]).num_rows == len(pipe.universe.substitutions(gid)) > 1  # bronze is complete


def test_lineups_are_lower_case_with_injected_keys(pipe: Pipe) -> None:
    keys = pipe.keys("silver/fct_lineups/")
    assert keys
    t = pipe.read(keys[0])
    assert set(t.column_names) == {
        *("teamid", "team", "conference", "idhash", "athletes", "totalseconds", "pace"),
        *("offenserating", "defenserating", "netrating", "teamstats", "opponentstats", "season", "date", "gameId"),
    }
    assert t.schema.field("teamid").type == pa.int64() and t.schema.field("season").type == pa.int32()
    json.loads(t["athletes"][0].as_py())  # JSON text in silver
    bronze = pq.read_table(pipe.lake / keys[0].replace("silver/fct_lineups", "bronze/lineups_game"))
    assert {"teamId", "idHash", "season", "date", "gameId"} <= set(bronze.column_names)
    ast.literal_eval(bronze["athletes"][0].as_py())  # Python repr in bronze


def test_vectorised_plays_match_the_record_rules() -> None:
    universe = Universe(3, 0.02, (2024,))
    sg = universe.season_games(2024)
    rows = np.flatnonzero(sg.plays_ok)[-12:]  # the season's end: seeded tournament games
    frame = universe.play_frame(2024, rows)
    src = play_source(play_pieces(frame, universe.team_table, 3), np.ones(len(frame), bool), raw=True)
    for gi, gid in enumerate(src.game_ids.tolist()):
        lo, hi = int(src.starts[gi]), int(src.starts[gi + 1])
        records = [wire(r) for r in universe.plays(gid)]
        assert bronze_batch(src, lo, hi).equals(normalize("plays_game", records))
        assert silver_batch(src, lo, hi).equals(normalize("fct_plays", _plays_aliases(records)))
        assert src.lines is not None
        assert src.lines.slice(lo, hi - lo).to_pylist() == [json.dumps(r) for r in records]


def _plays_aliases(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """orchestrate.py:_apply_key_aliases("fct_plays") for the API's values, record by record."""
    out = []
    for r in records:
        rec = dict(r)
        floor, parts, shot = rec["onFloor"], rec["participants"], rec["shotInfo"]
        for k in ("onFloor", "participants", "shotInfo"):
            rec[k] = json.dumps(rec[k]) if isinstance(rec[k], list | dict) else rec[k]
        ids = [p.get("id") for p in floor]
        rec.update({f"onfloor_player{i + 1}": ids[i] if i < len(ids) else None for i in range(10)})
        rec["participant_id"] = parts[0].get("id") if parts else None
        if isinstance(shot, dict):
            loc = shot["location"]
            rec.update(
                shot_shooter_id=shot["shooter"]["id"],
                shot_shooter_name=shot["shooter"]["name"],
                shot_made=shot["made"],
                shot_range=shot["range"],
                shot_assisted=shot["assisted"],
                shot_assisted_by_id=shot["assistedBy"]["id"],
                shot_assisted_by_name=shot["assistedBy"]["name"],
                shot_loc_x=None if loc["x"] is None else float(loc["x"]),
                shot_loc_y=None if loc["y"] is None else float(loc["y"]),
            )
        out.append(rec)
    return out


def test_json_to_repr_is_python_repr() -> None:
    values = [{"name": "Isaac O'Brien", "id": 3, "made": True, "by": {"name": None, "x": 28.5}}, []]
    got = json_to_repr(pa.array([json.dumps(v) for v in values])).to_pylist()
    assert got == [str(v) for v in values]


# ------------------------------------------------------------------ layouts and quirks


def test_plays_live_in_date_asof_and_consolidated_files(pipe: Pipe) -> None:
    keys = pipe.keys("silver/fct_plays/")
    assert any("/asof=" in k and "/season=" in k for k in keys)
    assert any("/date=" in k and not _plays_date_key(k) for k in keys)
    for season, layout in pipe.manifest.pipeline["layouts"].items():
        loose = layout["loose"]
        assert loose["key"] == consolidated_key("fct_plays", int(season), loose["rows"])
        assert pipe.read(loose["key"], ["id"]).num_rows == loose["rows"]
        assert all(n > 0 for n in layout["games"].values()), layout["games"]
    rebuilt = [k for k in pipe.keys("bronze/plays_game/") if "/date=2026-" in k]
    assert rebuilt  # rebuild_from_raw's bronze: date = the raw ingest day


def test_plays_date_objects_sit_under_the_calendar_year(pipe: Pipe) -> None:
    found = [k for k in pipe.keys("silver/fct_plays/") + pipe.keys("bronze/plays_date/") if _plays_date_key(k)]
    assert len(found) >= 4
    for key in found:
        part = parse_partition_path(key)
        assert part["season"] == part["date"][:4], key
    autumn = [k for k in found if int(parse_partition_path(k)["date"][5:7]) >= 8]
    for key in autumn:  # the CBBD season of those games is the next year
        t = pipe.read(key)
        if t.num_columns:
            assert set(t["season"].to_pylist()) == {int(parse_partition_path(key)["season"]) + 1}


def test_a_zero_column_file_and_a_season_unknown_partition(pipe: Pipe) -> None:
    zero = pipe.manifest.pipeline["zero_column_files"]
    assert zero
    t = pipe.read(zero[0]["key"])
    assert t.num_columns == 0 and t.num_rows == 0
    bronze = pipe.keys("bronze/plays_game/season=unknown/")
    assert bronze and all(k.split("/")[3].startswith("date=") for k in bronze)
    assert [u["bronze"] for u in pipe.manifest.pipeline["unknown_partitions"]] == bronze
    stray = pipe.manifest.pipeline["unknown_partitions"][0]["silver"]
    assert stray.startswith("silver/fct_plays/asof=")


def test_markers(pipe: Pipe) -> None:
    for prefix in ("raw", "bronze", "silver", "gold", "ref", "meta", "deadletter", "tmp", "athena"):
        assert (pipe.lake / prefix / ".keep").stat().st_size == 0
    tmp = [p for p in (pipe.lake / "tmp").rglob("*.tmp")]
    assert len(tmp) > 100 and all(p.stat().st_size == 0 for p in tmp)


def test_duplicates_are_recorded_and_real(pipe: Pipe) -> None:
    kinds = {d["kind"] for d in pipe.manifest.pipeline["duplicates"]}
    assert {"plays_date_vs_plays_game", "asof_and_date", "one_call_root_asof", "old_asof_layout_runs"} <= kinds
    for dup in pipe.manifest.pipeline["duplicates"]:
        assert all((pipe.lake / k).is_file() for k in dup["objects"]), dup
        column = "gameId"
        counts: dict[int, int] = defaultdict(int)
        for key in dup["objects"]:
            for g in set(pipe.read(key, [column])[column].to_pylist()):
                counts[g] += 1
        assert sum(1 for n in counts.values() if n > 1) >= 1, dup


# ------------------------------------------------------------------ the catalog lags storage


def test_catalog_lags_storage(pipe: Pipe) -> None:
    catalog = LocalCatalog(pipe.dest / ".reconcile" / "catalog.sqlite")
    try:
        table = catalog.get_table("cbbd_silver", "fct_plays")
        assert table is not None and table.partition_keys == (("season", "string"), ("date", "string"))
        assert ("gameId", "bigint") in table.columns and all(n != "season" for n, _ in table.columns)
        registered = {p.location for p in catalog.list_partitions("cbbd_silver", "fct_plays")}
        stored = {
            "/".join(k.split("/")[:4]) + "/"
            for k in pipe.keys("silver/fct_plays/")
            if list(parse_partition_path(k)) == ["season", "date"]
        }
        assert registered and registered < stored
        repair = pipe.manifest.pipeline["catalog"]["repair_day"]
        assert dt.date.fromisoformat(repair)
        assert not catalog.list_partitions("cbbd_bronze", "plays_date")  # never repaired
        placeholder = catalog.get_table("cbbd_bronze", "plays_team")
        assert placeholder is not None and placeholder.columns == (("placeholder", "string"),)
    finally:
        catalog.close()


# ------------------------------------------------------------------ the manifest is true of the lake


def test_the_manifest_coverage_is_what_the_lake_holds(pipe: Pipe) -> None:
    periods: dict[int, int] = defaultdict(int)
    for key in pipe.keys("silver/fct_plays/"):
        if not pipe.schema(key).names:
            continue
        t = pipe.read(key, ["gameId", "period"])
        for g, p in zip(t["gameId"].to_pylist(), t["period"].to_pylist(), strict=True):
            periods[g] = max(periods[g], p)
    present = _present(pipe)
    assert set(periods) == set().union(*present.values())
    for s in SEASONS:
        cov = pipe.manifest.targets["plays"].seasons[str(s)]
        partial = {int(g) for g in cov.partial}
        assert all(periods[g] == 1 for g in partial)
        assert all(periods[g] >= 2 for g in present[s] - partial)
        assert cov.present == len(present[s])
    subs = {g for k in pipe.keys("silver/fct_substitutions/") for g in pipe.read(k, ["gameId"])["gameId"].to_pylist()}
    want = {int(u) for c in pipe.manifest.targets["substitutions"].seasons.values() for u in c.collapsed}
    assert subs == want
    units: set[str] = set()
    for key in pipe.keys("silver/fct_lineups/"):
        t = pipe.read(key, ["gameId", "teamid"])
        units.update(f"{g}:{tm}" for g, tm in zip(t["gameId"].to_pylist(), t["teamid"].to_pylist(), strict=True))
    want_units: set[str] = set()
    for season, lcov in pipe.manifest.targets["lineups"].seasons.items():
        sg = pipe.universe.season_games(int(season))
        home = {int(g): int(pipe.universe.team_table.team_id[h]) for g, h in zip(sg.game_id, sg.home, strict=True)}
        want_units.update(str(u) for u in lcov.collapsed)
        want_units.update(f"{g}:{home[g]}" for g in lcov.one_team_only)
    assert units == want_units


# ------------------------------------------------------------------ determinism, drift


def test_same_arguments_same_lake_and_drift_only_touches_the_catalog(tmp_path: Path) -> None:
    def listing(dest: Path) -> dict[str, str]:
        lake = dest / "lake"
        return {
            p.relative_to(lake).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in lake.rglob("*")
            if p.is_file()
        }

    kw: dict[str, Any] = {"seasons": (2024, 2025), "scale": 0.005, "seed": 11, "writer": "pipeline"}
    a = init_sandbox(tmp_path / "a", **kw)
    b = init_sandbox(tmp_path / "b", drift=True, **kw)
    assert listing(tmp_path / "a") == listing(tmp_path / "b")
    assert a.targets == b.targets and a.pipeline["duplicates"] == b.pipeline["duplicates"]
    assert {"catalog_orphan_partitions", "catalog_partition_keys"} <= set(b.drift) or "catalog" in b.drift

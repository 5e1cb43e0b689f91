"""The gap-fill path end to end: sandbox lake → simulator on loopback → `reconcile apply` → lake.

Every test runs the real CLI against a real HTTP simulator serving the sandbox's own data.
"""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reconciler.adapters.sqlite_state import SqliteState
from reconciler.ports import UnitRecord
from reconciler.sandbox import load_universe_from_config
from tests.e2e_helpers import (
    cli,
    duplicate_keys,
    make_sandbox,
    max_in_window,
    plan_json,
    read_silver,
    request_log,
    simulator,
)
from tests.invariant import check_apply, check_plan, lake_keys
from tests.lineups_oracle import oracle_units
from tests.text_edits import replaced

SEASONS = "2015-2016"
KEYS = {
    "fct_plays": ["id"],
    "fct_substitutions": ["gameId", "athleteId", "sub_in_period", "sub_in_seconds_remaining"],
    "fct_lineups": ["gameId", "teamid", "idhash"],
    "fct_games": ["gameId"],
}


@pytest.fixture
def sandbox(tmp_path):
    cfg, port, manifest = make_sandbox(tmp_path / "sb", seasons=SEASONS, scale=0.005)
    return cfg, port, manifest


def _apply(cfg, *extra):
    return cli(["apply", "--config", str(cfg), "--seasons", SEASONS, "--auto-approve", *extra])


def _plays_units(lake: Path) -> set[int]:
    t = read_silver(lake, "fct_plays", ["gameId"])
    return set(t.column("gameId").to_pylist()) if t is not None else set()


def _manifest_sets(manifest, target="plays"):
    missing, empty, partial = set(), set(), set()
    for s in manifest.targets[target].seasons.values():
        missing |= set(s.missing)
        empty |= set(s.api_empty)
        partial |= set(s.partial)
    return missing, empty, partial


def test_gap_fill_writes_raw_bronze_and_silver_then_plan_is_clean(sandbox):
    cfg, port, manifest = sandbox
    lake = cfg.parent / "lake"
    missing, api_empty, partial = _manifest_sets(manifest)
    fetchable = missing - api_empty
    assert fetchable, "the sandbox must have gaps to fill"
    assert not fetchable & _plays_units(lake)
    before = plan_json(cfg, SEASONS, "--target", "plays")
    plays = next(t for t in before["targets"] if t["target"] == "plays")
    planned = {int(u) for a in plays["actions"] for u in a["units"]}
    assert planned == missing | partial

    with simulator(cfg, port, request_log=cfg.parent / "req.jsonl"):
        r = _apply(cfg, "--target", "plays")
    assert r.exit_code == 0, r.output
    assert "Apply complete" in r.output

    assert fetchable <= _plays_units(lake)
    assert not api_empty & _plays_units(lake)
    # raw: gzip JSON Lines of untouched API records; bronze and silver: Parquet.
    raws = list((lake / "raw" / "plays").rglob("*.json.gz"))
    assert raws
    recs = [json.loads(line) for line in gzip.decompress(raws[-1].read_bytes()).decode().splitlines()]
    assert recs and {"id", "gameId", "shotInfo", "onFloor"} <= set(recs[0])
    bronze_files = [p for p in (lake / "bronze").rglob("*.parquet") if "plays_" in str(p)]
    assert any("plays_game" in str(p) or "plays_date" in str(p) or "plays_team" in str(p) for p in bronze_files)
    # Empty responses are recorded as verified empty, and the next plan has nothing to do.
    state = SqliteState(cfg.parent / ".reconcile" / "state.sqlite")
    units = state.load_units("plays")
    state.close()
    assert {int(k) for k, u in units.items() if u.status == "empty"} == api_empty
    after = plan_json(cfg, SEASONS, "--target", "plays")
    assert after["summary"]["api_calls"] == 0
    cov = next(t for t in after["targets"] if t["target"] == "plays")["coverage"]
    assert sum(c["verified_empty"] for c in cov.values()) == len(api_empty)
    assert duplicate_keys(lake, "fct_plays", KEYS["fct_plays"]) == 0


def test_empty_units_are_not_fetched_again(sandbox):
    cfg, port, _ = sandbox
    log = cfg.parent / "req.jsonl"
    with simulator(cfg, port, request_log=log):
        assert _apply(cfg, "--target", "plays").exit_code == 0
        n = len(request_log(log))
        r = _apply(cfg, "--target", "plays")
        assert r.exit_code == 0
        assert "No changes" in r.output
        assert len(request_log(log)) == n


def test_empty_responses_are_fetched_again_when_the_spec_does_not_record_them(sandbox):
    """``empty_response: {record: false}``: an empty response leaves no checkpoint, so it is fetched again."""
    cfg, port, manifest = sandbox
    spec = cfg.parent / "specs" / "plays.yaml"
    spec.write_text(replaced(spec.read_text(), "empty_response: {record: true,", "empty_response: {record: false,"))
    _, api_empty, _ = _manifest_sets(manifest)
    assert api_empty, "the sandbox must have games the API has no plays for"
    # One of them failed in an earlier apply: its empty answer now replaces that failure.
    failed = min(api_empty)
    state = SqliteState(cfg.parent / ".reconcile" / "state.sqlite")
    state.record_units([UnitRecord("plays", str(failed), "failed", attempts=1, error="TransientApiError: 503")])
    state.close()
    log = cfg.parent / "req.jsonl"
    with simulator(cfg, port, request_log=log):
        assert _apply(cfg, "--target", "plays").exit_code == 0
        state = SqliteState(cfg.parent / ".reconcile" / "state.sqlite")
        units = state.load_units("plays")
        state.close()
        assert units[str(failed)].status == "empty"  # the last outcome, not the old failure
        after = plan_json(cfg, SEASONS, "--target", "plays")
        plays = next(t for t in after["targets"] if t["target"] == "plays")
        assert {int(u) for a in plays["actions"] for u in a["units"]} == api_empty  # those, and only those
        cov = plays["coverage"].values()
        assert sum(c["verified_empty"] + c["failed"] + c["quarantined"] for c in cov) == 0
        n = len(request_log(log))
        again = _apply(cfg, "--target", "plays")
        assert again.exit_code == 0, again.output
        assert len(request_log(log)) > n  # fetched again, as asked
    assert duplicate_keys(cfg.parent / "lake", "fct_plays", KEYS["fct_plays"]) == 0


def test_5xx_and_timeouts_are_retried(sandbox):
    cfg, port, manifest = sandbox
    log = cfg.parent / "req.jsonl"
    faults = {"5xx": 0.15, "504": 0.05, "timeout": 0.05, "reset": 0.05}
    with simulator(cfg, port, request_log=log, fault_rates=faults, hang_seconds=3.0, seed=3):
        r = _apply(cfg, "--target", "plays")
    assert r.exit_code == 0, r.output
    entries = request_log(log)
    seen = {e["fault"] for e in entries if e["fault"]}
    assert {"5xx", "timeout"} <= seen or len(seen) >= 2
    missing, api_empty, _ = _manifest_sets(manifest)
    assert missing - api_empty <= _plays_units(cfg.parent / "lake")
    assert duplicate_keys(cfg.parent / "lake", "fct_plays", ["id"]) == 0


class _BrokenGame:
    """The sandbox's API data, except that one game's plays come back malformed (ids not integers)."""

    def __init__(self, data, game_id):
        self._data, self.game_id = data, game_id

    def __getattr__(self, name):
        return getattr(self._data, name)

    def plays(self, game_id):
        recs = self._data.plays(game_id)
        if game_id == self.game_id:
            return [{**r, "id": f"bad-{r['id']}"} for r in recs]
        return recs


def test_a_permanently_failing_item_does_not_stop_the_others(sandbox):
    cfg, port, manifest = sandbox
    missing, api_empty, _ = _manifest_sets(manifest)
    broken = min(missing - api_empty)
    data = _BrokenGame(load_universe_from_config(cfg), broken)
    lake = cfg.parent / "lake"
    with simulator(cfg, port, data=data):
        r = _apply(cfg, "--target", "plays")
    assert r.exit_code == 1
    assert "malformed payload" in r.output
    have = _plays_units(lake)
    assert broken not in have  # a bad payload never reaches silver
    assert (missing - api_empty - {broken}) <= have
    # The failed unit stays in the plan, with its attempt count.
    plan = plan_json(cfg, SEASONS, "--target", "plays")
    plays = next(t for t in plan["targets"] if t["target"] == "plays")
    assert any(str(broken) in a["units"] for a in plays["actions"])
    assert sum(c["failed"] for c in plays["coverage"].values()) >= 1
    # Once the API serves it correctly, the next apply fills it.
    with simulator(cfg, port):
        assert _apply(cfg, "--target", "plays").exit_code == 0
    assert broken in _plays_units(lake)


def test_quota_429_stops_cleanly_and_resumes(sandbox):
    cfg, port, manifest = sandbox
    lake = cfg.parent / "lake"
    log = cfg.parent / "req.jsonl"
    with simulator(cfg, port, quota=4, request_log=log):
        r = _apply(cfg, "--target", "plays")
    assert r.exit_code == 1
    assert "quota" in r.output.lower()
    entries = request_log(log)
    assert sum(1 for e in entries if e["status"] == 200) == 4
    # Only requests started before the 429 (at most the in-flight ones) are refused, then it stops.
    assert sum(1 for e in entries if e["status"] == 429) <= 3
    state = SqliteState(cfg.parent / ".reconcile" / "state.sqlite")
    done = {k for k, u in state.load_units("plays").items() if u.status in ("done", "empty")}
    assert state.get_meta("api.calllimit_remaining") == "0"
    state.close()
    assert done  # everything finished before the 429 is kept
    with simulator(cfg, port, request_log=log):
        r = _apply(cfg, "--target", "plays")
    assert r.exit_code == 0, r.output
    missing, api_empty, _ = _manifest_sets(manifest)
    assert missing - api_empty <= _plays_units(lake)
    assert duplicate_keys(lake, "fct_plays", ["id"]) == 0


def test_apply_twice_never_duplicates_any_table(sandbox):
    cfg, port, _ = sandbox
    lake = cfg.parent / "lake"
    with simulator(cfg, port):
        assert _apply(cfg).exit_code == 0
        second = _apply(cfg)
    assert second.exit_code == 0
    assert "No changes" in second.output
    for table, key in KEYS.items():
        assert duplicate_keys(lake, table, key) == 0, table
    plan = plan_json(cfg, SEASONS)
    assert plan["summary"]["api_calls"] == 0
    assert all(a == [] for a in (t["actions"] for t in plan["targets"]))


def test_pacing_limit_holds_in_the_request_log(tmp_path, monkeypatch):
    # The simulator runs in its own process, as the API would: in this process the GIL (held by
    # a response being written while the next requests go out) could delay the server's stamps.
    cfg, port, _ = make_sandbox(tmp_path / "sb", seasons="2016", scale=0.005, rate=3)
    log = tmp_path / "req.jsonl"
    sends = tmp_path / "sends.jsonl"
    monkeypatch.setenv("RECONCILE_SEND_LOG", str(sends))  # the client's own start stamps
    cmd = [sys.executable, "-m", "reconciler.cli.app", "sim", "serve", "--config", str(cfg)]
    server = subprocess.Popen([*cmd, "--request-log", str(log), "--latency-ms", "20"], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60  # a guard against a server that never starts, not a timing check
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None and time.monotonic() < deadline, "the simulator did not start"
            time.sleep(0.1)
        r = _apply_seasons(cfg, "2016", "--target", "plays", "--target", "substitutions")
    finally:
        server.terminate()
        server.wait(30)
    assert r.exit_code == 0, r.output
    # Pacing is asserted on the client's own start stamps: the server stamps a request when its
    # process gets the CPU, which on a loaded machine can be ~0.1 s after the request arrived.
    started = request_log(sends)
    assert len(started) >= 6 and len(started) == len(request_log(log))
    assert max_in_window([e["ts"] for e in started]) <= 3
    assert sorted(e["path"].split("?")[0] for e in started) == sorted(e["path"] for e in request_log(log))


def _apply_seasons(cfg, seasons, *extra):
    return cli(["apply", "--config", str(cfg), "--seasons", seasons, "--auto-approve", *extra])


def test_lineups_are_derived_at_zero_calls_and_match_the_api(sandbox):
    cfg, port, _ = sandbox
    lake = cfg.parent / "lake"
    log = cfg.parent / "req.jsonl"
    with simulator(cfg, port, request_log=log):
        r = _apply(cfg)
    assert r.exit_code == 0, r.output
    assert not [e for e in request_log(log) if e["path"].startswith("/lineups")]
    universe = load_universe_from_config(cfg)
    rows = read_silver(lake, "fct_lineups").to_pylist()
    by_game: dict[int, list] = {}
    for row in rows:
        by_game.setdefault(row["gameId"], []).append(row)
    # Units silver held before the fill, reduced to one row by cbbd_etl's key bug: the fill adds
    # the game's other units beside that row, so those games hold one row the oracle may not name.
    manifest = json.loads((cfg.parent / "manifest.json").read_text())
    collapsed = {
        int(u.split(":")[0]) for s in manifest["targets"]["lineups"]["seasons"].values() for u in s["collapsed"]
    }
    extra_games = set()
    for game, mine in by_game.items():
        # The brute-force oracle over the simulator's own substitutions and plays (not derive_lineups).
        want = oracle_units(universe.substitutions(game), universe.plays(game))
        got: dict[tuple[int, str], list] = {}
        for m in mine:
            got.setdefault((m["teamid"], m["idhash"]), []).append(m)
        assert all(len(v) == 1 for v in got.values()), game  # each unit's key once
        for key, (seconds, own, opp) in want.items():
            (m,) = got.pop(key)
            stats = (m["totalseconds"], json.loads(m["teamstats"])["points"], json.loads(m["opponentstats"])["points"])
            assert stats == (seconds, own, opp), (game, key)
        if got:  # never skipped: only a collapsed game may hold a row the oracle does not name
            assert game in collapsed and len(got) == 1, (game, sorted(got))
            extra_games.add(game)
    assert len(by_game) >= 5
    assert extra_games <= collapsed
    assert plan_json(cfg, SEASONS)["summary"]["api_calls"] == 0


def test_gap_fill_on_a_lake_written_the_pipelines_way_keeps_each_key_once(tmp_path):
    """Per-batch types (teamSeed string or bigint), 13-column substitutions, asof= and loose plays,
    plays_date under the calendar year, pre-existing duplicates: the fill derives lineups from those
    inputs without a type error, adds no duplicate and loses no row; --allow-delete then leaves none."""
    seasons = "2024-2025"
    cfg, port, _ = make_sandbox(tmp_path / "sb", seasons=seasons, scale=0.005, seed=5, writer="pipeline")
    lake = cfg.parent / "lake"
    before = lake_keys(lake)
    first = plan_json(cfg, seasons)
    assert check_plan(first) == []
    with simulator(cfg, port):
        r = cli(["apply", "--config", str(cfg), "--seasons", seasons, "--auto-approve"])
        assert r.exit_code == 0, r.output[-3000:]
        after = lake_keys(lake)
        second = plan_json(cfg, seasons)
        assert check_apply(before, after, second) == []
        assert {a["type"] for t in second["targets"] for a in t["actions"]} <= {"relayout", "dedupe", "delete"}
        # Every stint of every game is there now, once (the collapsed 2024 silver was refilled).
        universe = load_universe_from_config(cfg)
        stints = after.keys["fct_substitutions"]
        games = {k[0] for k in stints}
        assert games and all(sum(1 for k in stints if k[0] == g) == len(universe.substitutions(g)) for g in games)
        r = cli(["apply", "--config", str(cfg), "--seasons", seasons, "--auto-approve", "--allow-delete"])
        assert r.exit_code == 0, r.output[-3000:]
    final = lake_keys(lake)
    assert check_apply(before, final) == []
    assert all(not final.duplicated(t) for t in ("fct_plays", "fct_substitutions", "fct_lineups"))
    r = cli(["plan", "--config", str(cfg), "--seasons", seasons])
    assert r.exit_code == 0 and "No changes" in r.output, r.output[-3000:]

"""A unit whose payload is always bad is quarantined after max_failed_applies applies, until --retry-failed."""

from __future__ import annotations

from reconciler.sandbox import load_universe_from_config
from tests.e2e_helpers import cli, make_sandbox, plan_json, read_silver, simulator
from tests.test_gap_fill import _BrokenGame

SEASON = "2016"


def _apply(cfg, *extra):
    return cli(["apply", "--config", str(cfg), "--seasons", SEASON, "--auto-approve", "--target", "plays", *extra])


def test_an_always_bad_unit_is_quarantined_then_retried_on_request(tmp_path):
    cfg, port, _ = make_sandbox(tmp_path / "sb", seasons=SEASON)
    plays = next(t for t in plan_json(cfg, SEASON, "--target", "plays")["targets"] if t["target"] == "plays")
    universe = load_universe_from_config(cfg)
    fetched = sorted(int(u) for a in plays["actions"] if a["type"] == "fetch" for u in a["units"])
    broken = next(g for g in fetched if universe.plays(g))
    data = _BrokenGame(universe, broken)
    with simulator(cfg, port, data=data):
        for attempt in (1, 2, 3):  # max_failed_applies: 3
            r = _apply(cfg)
            assert r.exit_code == 1, (attempt, r.output)
            assert "malformed payload" in r.output
        quiet = _apply(cfg)
    assert quiet.exit_code == 0, quiet.output
    assert f"quarantined plays[season=2016][gameId={broken}] after 3 failed applies" in quiet.output
    assert "malformed payload" in quiet.output  # its last error
    plan = plan_json(cfg, SEASON, "--target", "plays")
    t = next(t for t in plan["targets"] if t["target"] == "plays")
    assert t["actions"] == [] and [q["unit"] for q in t["quarantined"]] == [str(broken)]
    assert broken not in set(read_silver(cfg.parent / "lake", "fct_plays", ["gameId"]).column("gameId").to_pylist())
    with simulator(cfg, port):  # the API is fixed: --retry-failed plans it again
        fixed = _apply(cfg, "--retry-failed")
    assert fixed.exit_code == 0, fixed.output
    assert broken in set(read_silver(cfg.parent / "lake", "fct_plays", ["gameId"]).column("gameId").to_pylist())

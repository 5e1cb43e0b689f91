"""`sandbox init --complete`: a lake with no injected gap, the steady state a nightly plan sees."""

from __future__ import annotations

import shutil
from contextlib import closing

import pytest

from reconciler.errors import InputError
from reconciler.sandbox import init_sandbox
from tests.e2e_helpers import cli, fast_config, make_sandbox, plan_json, simulator


def test_a_complete_lake_lacks_only_what_the_api_lacks(tmp_path):
    manifest = init_sandbox(tmp_path / "sb", seasons=(2015, 2016), scale=0.005, seed=7, complete=True)
    assert manifest.wholly_missing == {"plays": [], "substitutions": [], "lineups": []}
    cfg = tmp_path / "sb" / "config.yaml"
    fast_config(cfg, 20)
    plan = plan_json(cfg, "2015-2016")
    for t in plan["targets"]:
        if t["target"] not in ("plays", "substitutions", "lineups"):
            continue
        for season, c in t["coverage"].items():
            target = manifest.targets[t["target"]].seasons[season]
            # Every unit the API has is complete in silver; only the API's empty ones are lacking.
            assert c["present"] == target.complete == c["expected"] - len(target.api_empty), (t["target"], season)
            assert c["incomplete"] == 0


def test_complete_is_the_default_writer_without_drift(tmp_path):
    with pytest.raises(InputError, match="--complete"):
        init_sandbox(tmp_path / "a", seasons=(2015,), scale=0.005, drift=True, complete=True)
    with pytest.raises(InputError, match="--complete"):
        init_sandbox(tmp_path / "b", seasons=(2015,), scale=0.005, writer="pipeline", complete=True)


def _empties(state_path) -> set[tuple[str, str, int]]:
    import sqlite3

    with closing(sqlite3.connect(state_path)) as db:
        return set(db.execute("SELECT target, unit, season FROM units WHERE status = 'empty'"))


def test_its_checkpoints_are_those_a_real_apply_leaves(tmp_path):
    """The sandbox records empty exactly what an apply of the same lake, asking the API, records."""
    cfg, port, _ = make_sandbox(tmp_path / "sb", seasons="2015-2016", scale=0.005, rate=100, complete=True)
    state = cfg.parent / ".reconcile" / "state.sqlite"
    written = _empties(state)
    assert written and {t for t, _, _ in written} == {"plays", "substitutions", "lineups"}
    # The same lake without the checkpoints, filled by an apply against the simulator.
    other = tmp_path / "applied"
    shutil.copytree(cfg.parent, other)
    for p in (other / ".reconcile").glob("state.sqlite*"):
        p.unlink()
    with simulator(other / "config.yaml", port):
        r = cli(["apply", "--config", str(other / "config.yaml"), "--seasons", "2015-2016", "--auto-approve"])
    assert r.exit_code == 0, r.output
    assert _empties(other / ".reconcile" / "state.sqlite") == written
    # So the steady state's plan fetches nothing and lists no unit: one row per target and season.
    plan = plan_json(
        cfg, "2015-2016", "--target", "games", "--target", "plays", "--target", "substitutions", "--target", "lineups"
    )
    assert plan["summary"]["api_calls"] == 0 and not any(t["actions"] for t in plan["targets"])
    assert plan["observation"]["rows_returned"] == 4 * 2
    empty = sum(c["verified_empty"] for t in plan["targets"] for c in t["coverage"].values())
    assert empty == len(written)


def test_the_cli_says_the_lacking_units_are_checkpointed(tmp_path):
    r = cli(["sandbox", "init", str(tmp_path / "sb"), "--seasons", "2015", "--scale", "0.003", "--complete"])
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "units the API lacks, checkpointed empty" in text and "units missing" not in text


def test_the_audit_divides_missing_games_by_every_game_played(tmp_path, monkeypatch):
    """The audit's missing-games picture counts the games played each day from every unit.

    A plan lists only the units it must act on (complete and verified-empty ones are counted), so
    the audit observes whole: its per-day "played" denominator is that of a whole observation.
    """
    import reconciler.cli.audit_cmd as audit_cmd
    from reconciler.config import load_profile
    from reconciler.render.audit import audit_targets
    from reconciler.render.pictures import missing_by_date
    from reconciler.service import Session

    manifest = init_sandbox(tmp_path / "sb", seasons=(2015,), scale=0.005, seed=7, complete=True)
    assert manifest.wholly_missing["plays"] == []
    cfg = tmp_path / "sb" / "config.yaml"
    fast_config(cfg, 20)
    # One day's plays removed: those games are missing, the day's other targets complete.
    days = sorted((tmp_path / "sb" / "lake" / "silver" / "fct_plays" / "season=2015").iterdir())
    shutil.rmtree(days[len(days) // 2])
    seen = []

    def recorded(*args, **kwargs):
        got = missing_by_date(*args, **kwargs)
        seen.append(got)
        return got

    monkeypatch.setattr(audit_cmd, "missing_by_date", recorded)
    out = tmp_path / "audit.md"
    r = cli(["audit", "--config", str(cfg), "--seasons", "2015", "--output", str(out), "--no-images"])
    assert r.exit_code == 0, r.output
    session = Session.open(load_profile(cfg))
    try:
        plan, _ = session.plan([2015])
        whole = missing_by_date(plan, session.observe([2015], whole=True), audit_targets(plan))
    finally:
        session.close()
    assert len(seen) == 1 and seen[0].tables == whole.tables
    assert seen[0].played.tolist() == whole.played.tolist() and int(whole.played.sum()) > 0
    assert all(seen[0].counts[t].tolist() == whole.counts[t].tolist() for t in whole.tables)
    assert int(whole.counts["fct_plays"].sum()) > 0

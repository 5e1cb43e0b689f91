"""Saved plans: `plan --out` then `apply PLAN` runs exactly that plan, and a stale one is refused."""

from __future__ import annotations

import json
from collections import Counter

from reconciler.adapters.sqlite_state import SqliteState
from tests.apply_helpers import duplicates
from tests.e2e_helpers import cli, make_sandbox, plan_json, request_log, simulator

SEASON = "2016"


def _filled(plan: dict, target: str) -> int:
    t = next(t for t in plan["targets"] if t["target"] == target)
    return sum(c["present"] + c["verified_empty"] for c in t["coverage"].values())


def test_a_saved_plan_runs_exactly_and_a_stale_one_is_refused(tmp_path):
    cfg, port, _ = make_sandbox(tmp_path / "sb", seasons=SEASON)
    base = ["--config", str(cfg), "--seasons", SEASON]
    whole, subset = tmp_path / "whole.json", tmp_path / "subset.json"
    assert cli(["plan", *base, "--out", str(whole)]).exit_code == 0
    # A plan of two plays requests only: applying it must not do the rest of the plays plan.
    r = cli(["plan", *base, "--target", "plays[season=2016][gameId=*]", "--out", str(subset)])
    assert r.exit_code == 0, r.output
    saved = json.loads(subset.read_text())
    actions = [a for t in saved["targets"] for a in t["actions"]]
    assert actions and all(a["target"] == "plays" for a in actions)
    fresh_plays = next(t for t in plan_json(cfg, SEASON, "--target", "plays")["targets"] if t["target"] == "plays")
    assert len(fresh_plays["actions"]) > len(actions)
    before = plan_json(cfg, SEASON, "--target", "plays")

    log = tmp_path / "req.jsonl"
    with simulator(cfg, port, request_log=log):
        r = cli(["apply", str(subset), "--config", str(cfg), "--auto-approve"])
        assert r.exit_code == 0, r.output
        # Exactly the saved plan's requests, each once.
        sent = Counter((e["path"], json.dumps(e["query"], sort_keys=True)) for e in request_log(log))
        planned = Counter(
            (a["request"]["path"], json.dumps({k: str(v) for k, v in a["request"]["params"].items()}, sort_keys=True))
            for a in actions
        )
        assert sent == planned
        state = SqliteState(cfg.parent / ".reconcile" / "state.sqlite")
        recorded = {u.extra.get("address") for u in state.load_units("plays").values()}
        state.close()
        assert recorded == {a["address"] for a in actions}

        # The lake changed under the whole plan: refused, saying what changed and how much.
        filled = _filled(plan_json(cfg, SEASON, "--target", "plays"), "plays") - _filled(before, "plays")
        assert filled > 0
        n = len(request_log(log))
        stale = cli(["apply", str(whole), "--config", str(cfg), "--auto-approve"])
        assert stale.exit_code == 1
        assert f"observed: {filled} plays units filled since the plan was made" in stale.output
        assert "--replan" in stale.output
        assert len(request_log(log)) == n  # nothing was fetched

        replanned = cli(["apply", str(whole), "--config", str(cfg), "--auto-approve", "--replan"])
        assert replanned.exit_code == 0, replanned.output
        assert "replanned" in replanned.output
    assert "No changes" in cli(["plan", *base]).output
    assert duplicates(cfg.parent / "lake") == {}

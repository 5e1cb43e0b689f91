"""Sandbox → plan through the CLI: the plan reports exactly the gaps the manifest lists."""

from __future__ import annotations

import json

from tests.e2e_helpers import cli


def test_plan_reports_exactly_the_injected_gaps(tmp_path):
    sb = tmp_path / "sb"
    r = cli(["sandbox", "init", str(sb), "--seasons", "2010-2026", "--scale", "0.002", "--seed", "11"])
    assert r.exit_code == 0, r.output
    manifest = json.loads((sb / "manifest.json").read_text())
    r = cli(["plan", "--config", str(sb / "config.yaml"), "--seasons", "2010-2026", "--format", "json"])
    assert r.exit_code == 0, r.output
    plan = json.loads(r.stdout)
    assert plan["format_version"] == 1 and plan["seasons"] == [2010, 2026]
    assert {"plan_id", "fingerprint", "created_at", "targets", "summary"} <= set(plan)
    targets = {t["target"]: t for t in plan["targets"]}
    for name in ("plays", "substitutions"):
        planned: dict[str, set[str]] = {}
        for a in targets[name]["actions"]:
            planned.setdefault(str(a["season"]), set()).update(a["units"])
        for season, cov in manifest["targets"][name]["seasons"].items():
            want = {str(u) for u in cov["missing"] + cov["partial"] + cov["collapsed"]}
            assert planned.get(season, set()) == want, (name, season)
            c = targets[name]["coverage"][season]
            assert c["expected"] == cov["expected"], (name, season)
            assert c["missing"] == len(cov["missing"]), (name, season)
    # Lineups wait for substitutions and plays where those are being filled, else are planned.
    lineups = targets["lineups"]
    for season, cov in manifest["targets"]["lineups"]["seasons"].items():
        want = len(cov["missing"]) + len(cov["collapsed"])
        c = lineups["coverage"][season]
        planned_n = sum(a["covers"] for a in lineups["actions"] if str(a["season"]) == season)
        assert planned_n + c["after_apply"] == want, season
    # The whole of a wholly missing season is covered by one call per game date at most.
    gone = manifest["wholly_missing"]["plays"][0]
    acts = [a for a in targets["plays"]["actions"] if a["season"] == gone]
    dates = {u for a in acts for u in a["units"]}
    assert sum(a["api_calls"] for a in acts) <= len(dates)

"""The apply's summary says what happened and what is left (issue 18: item 7, and the targeted apply).

* A unit that failed and then succeeded in the same run's replan counts as done: the summary
  does not report it failed, and the apply exits 0.
* "No changes. The lake matches the specs." only when it is true: after a targeted apply, the
  summary names the targets it did not plan and the command that shows them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from reconciler.sandbox import load_universe_from_config
from tests.e2e_helpers import cli, make_sandbox, plan_json, simulator

SEASON = "2016"


class _FailsOnce:
    """The sandbox's API data, except that one game's plays are malformed the first time they are asked for."""

    def __init__(self, data: Any, game_id: int) -> None:
        self._data, self.game_id, self.asked = data, game_id, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._data, name)

    def plays(self, game_id: int) -> list[dict[str, Any]]:
        recs = self._data.plays(game_id)
        if game_id == self.game_id:
            self.asked += 1
            if self.asked == 1:
                return [{**r, "id": f"bad-{r['id']}"} for r in recs]
        return recs


def test_a_unit_that_failed_then_succeeded_in_the_replan_is_done(tmp_path: Path) -> None:
    cfg, port, _ = make_sandbox(tmp_path / "sb", seasons=SEASON)
    plan = plan_json(cfg, SEASON)
    assert any(t["target"] == "lineups" and t["coverage"][SEASON]["after_apply"] for t in plan["targets"])
    universe = load_universe_from_config(cfg)
    plays = next(t for t in plan["targets"] if t["target"] == "plays")
    game = next(int(u) for a in plays["actions"] for u in a["units"] if universe.plays(int(u)))
    data = _FailsOnce(universe, game)
    with simulator(cfg, port, data=data):
        r = cli(["apply", "--config", str(cfg), "--seasons", SEASON, "--auto-approve"])
    assert data.asked == 2, r.output  # failed in the first pass, fetched again by the replan
    assert "Replanning" in r.output
    assert r.exit_code == 0, r.output
    assert "Some units failed" not in r.output and "failed: " not in r.output
    lines = r.output.splitlines()
    head = max(i for i, ln in enumerate(lines) if "done ┃ empty ┃ failed" in ln)
    row = lines[head + 2]  # after the header's rule
    assert row.split("│")[2].strip() == "0", row  # the "failed" column
    assert "Apply complete. No changes. The lake matches the specs." in r.output


def test_a_targeted_apply_says_what_it_did_not_plan(tmp_path: Path) -> None:
    cfg, port, _ = make_sandbox(tmp_path / "sb", seasons=SEASON)
    with simulator(cfg, port):
        r = cli(["apply", "--config", str(cfg), "--seasons", SEASON, "--auto-approve", "--target", "plays"])
    assert r.exit_code == 0, r.output
    assert "The lake matches the specs" not in r.output
    assert "Not planned by this apply (not selected): substitutions, lineups, layout." in r.output
    assert f"See what is left with: reconcile plan --seasons {SEASON} --config {cfg}" in r.output
    again = cli(["plan", "--config", str(cfg), "--seasons", SEASON, "--target", "plays"])
    assert "No changes in games, plays. Not planned (not selected): substitutions, lineups, layout." in again.output


class _AlwaysBad(_FailsOnce):
    """One game's plays are malformed every time they are asked for."""

    def plays(self, game_id: int) -> list[dict[str, Any]]:
        recs = self._data.plays(game_id)
        if game_id == self.game_id:
            self.asked += 1
            return [{**r, "id": f"bad-{r['id']}"} for r in recs]
        return recs


def test_a_unit_failing_in_every_replan_of_one_apply_is_charged_one_failed_apply(tmp_path: Path) -> None:
    """Quarantine comes after ``max_failed_applies`` failed *applies*: the replans of one apply are one."""
    cfg, port, _ = make_sandbox(tmp_path / "sb", seasons=SEASON)
    plan = plan_json(cfg, SEASON)
    universe = load_universe_from_config(cfg)
    plays = next(t for t in plan["targets"] if t["target"] == "plays")
    game = next(int(u) for a in plays["actions"] for u in a["units"] if universe.plays(int(u)))
    data = _AlwaysBad(universe, game)
    with simulator(cfg, port, data=data):
        r = cli(["apply", "--config", str(cfg), "--seasons", SEASON, "--auto-approve"])
    assert data.asked >= 3, r.output  # asked in the first pass and again by the replans
    assert r.exit_code == 1, r.output
    assert "! quarantined" not in r.output, r.output
    failures = [ln for ln in r.output.splitlines() if ln.strip().startswith("failed: ")]
    assert len([ln for ln in failures if f"plays[season={SEASON}][gameId={game}]" in ln]) == 1, failures
    with sqlite3.connect(cfg.parent / ".reconcile" / "state.sqlite") as con:
        (attempts,) = con.execute(
            "SELECT attempts FROM units WHERE target = 'plays' AND unit = ?", (str(game),)
        ).fetchone()
    assert attempts == 1
    again = plan_json(cfg, SEASON, "--target", "plays")
    coverage = next(t for t in again["targets"] if t["target"] == "plays")["coverage"][SEASON]
    assert coverage["quarantined"] == 0 and coverage["failed"] == 1

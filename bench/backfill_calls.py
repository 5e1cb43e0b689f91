"""API calls of the chosen strategies against one call per game and target (issue 4 / bench item 2).

Builds the expected units from the synthetic universe's games (scale 1.0 = the real per-season
counts) and plans them with the real planner against three observed states: an empty fact
layer, one wholly missing season, and scattered 2% gaps. Prints a JSON summary.
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.core.observed import ExpectedUnit, ObservedState, ObservedTarget, PresentUnit
from reconciler.core.planner import PlanOptions, build_plan
from reconciler.spec.loader import load_specs
from reconciler.synth.universe import Universe

SEASONS = tuple(range(2010, 2027))


def expected(universe: Universe) -> dict[str, list[ExpectedUnit]]:
    games = [g for g in universe.games() if g["status"] == "final"]
    per_game, per_team = [], []
    for g in games:
        date = g["startDate"][:10]
        cols = {
            "game_id": g["id"],
            "season": g["season"],
            "date": date,
            "home_team": g["homeTeam"],
            "away_team": g["awayTeam"],
        }
        per_game.append(ExpectedUnit(key=str(g["id"]), season=g["season"], date=date, cols=cols))
        for side in ("home", "away"):
            tcols = {**cols, "team_id": g[f"{side}TeamId"], "team": g[f"{side}Team"]}
            per_team.append(
                ExpectedUnit(key=f"{g['id']}:{g[side + 'TeamId']}", season=g["season"], date=date, cols=tcols)
            )
    return {"plays": per_game, "substitutions": per_game, "lineups": per_team}


def observe(
    units: dict[str, list[ExpectedUnit]], present_share: dict[str, float], seed: int, missing_season: int | None = None
) -> ObservedState:
    rng = random.Random(seed)
    keep_games: set[str] = set()
    season_unit = {s: ExpectedUnit(key=str(s), season=s, date=f"{s}-01-01", cols={"season": s}) for s in SEASONS}
    targets = {
        "games": ObservedTarget(
            name="games",
            expected=tuple(season_unit.values()),
            present={str(s): PresentUnit(6000, True) for s in SEASONS},
        )
    }
    for name, us in units.items():
        share = present_share.get(name, 0.0)
        if name == "lineups":  # present exactly when plays and substitutions of the game are
            present = {u.key: PresentUnit(20, True) for u in us if u.key.split(":")[0] in keep_games}
        else:
            keep_games = keep_games or {u.key for u in us if rng.random() < share and u.season != missing_season}
            present = {k: PresentUnit(300, True) for k in keep_games}
        targets[name] = ObservedTarget(name=name, expected=tuple(us), present=present)
    return ObservedState(seasons=SEASONS, targets=targets)


def main() -> None:
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    t0 = time.perf_counter()
    universe = Universe(7, scale, SEASONS)
    units = expected(universe)
    specs = load_specs(Path(__file__).parents[1] / "specs")
    games = len(units["plays"])
    baseline = 3 * games  # one call per game and target (lineups: per game, both teams)
    out: dict[str, Any] = {"scale": scale, "final_games": games, "one_call_per_game_and_target": baseline}
    scenarios = {
        "empty_fact_layer": observe(units, {}, 1),
        "one_season_missing_2015": observe(units, {"plays": 1.0, "substitutions": 1.0}, 2, missing_season=2015),
        "scattered_2pct": observe(units, {"plays": 0.98, "substitutions": 0.98}, 3),
    }
    for name, obs in scenarios.items():
        t = time.perf_counter()
        plan = build_plan(specs, obs, datetime(2026, 11, 25, tzinfo=UTC), PlanOptions())
        by_target = {tp.target: sum(a.api_calls for a in tp.actions) for tp in plan.targets}
        waiting = {tp.target: sum(c.after_apply for c in tp.coverage.values()) for tp in plan.targets}
        missing = {tp.target: sum(c.missing + c.incomplete for c in tp.coverage.values()) for tp in plan.targets}
        per_game = missing["plays"] + missing["substitutions"] + (missing["lineups"] + 1) // 2
        out[name] = {
            "api_calls": plan.summary.api_calls,
            "by_target": by_target,
            "units_to_fill": missing,
            "lineups_waiting_for_inputs_then_derived": waiting.get("lineups", 0),
            "one_call_per_game_and_target": per_game,
            "ratio": round(plan.summary.api_calls / max(1, per_game), 4),
            "plan_seconds": round(time.perf_counter() - t, 1),
        }
    out["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

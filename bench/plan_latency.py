"""Bench item 1: plan latency on the scale-1.0 sandbox against the bare DuckDB anti-join floor."""

from __future__ import annotations

import cProfile
import io
import pstats
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import RECONCILE, log

SEASONS = "2010-2026"

# The floor: final games anti-joined with each fact table's complete units (the spec's completeness
# aggregates), Athena dialect through the same engine the observer uses.
_FLOOR = {
    "plays": ('"gameId"', "count(*) >= 20 AND max(period) >= 2", "fct_plays", False),
    "substitutions": ('"gameId"', 'count(*) >= 10 AND count(DISTINCT "teamId") = 2', "fct_substitutions", False),
    "lineups": ('"gameId", teamid', "count(*) >= 3", "fct_lineups", True),
}


def floor_queries() -> dict[str, str]:
    """The bare anti-join queries computing the same missing/incomplete sets as the plan."""
    out = {}
    rng = "CAST(season AS integer) BETWEEN :season_start AND :season_end"
    final = f"FROM cbbd_silver.fct_games WHERE {rng} AND status = 'final'"
    for name, (unit, ok, table, per_team) in _FLOOR.items():
        if per_team:
            games = f'SELECT "gameId" AS g, "homeTeamId" AS t {final} UNION ALL SELECT "gameId", "awayTeamId" {final}'
            join = "u.g = e.g AND u.t = e.t"
            units = f'SELECT "gameId" AS g, teamid AS t FROM cbbd_silver.{table} WHERE {rng} GROUP BY 1, 2 HAVING {ok}'
        else:
            games = f'SELECT DISTINCT "gameId" AS g {final}'
            join = "u.g = e.g"
            units = f"SELECT {unit} AS g FROM cbbd_silver.{table} WHERE {rng} GROUP BY 1 HAVING {ok}"
        out[name] = (
            f"SELECT count(*) AS missing FROM ({games}) AS e "
            f"WHERE NOT EXISTS (SELECT 1 FROM ({units}) AS u WHERE {join})"
        )
    return out


def _cli(cfg: Path) -> float:
    t = time.perf_counter()
    subprocess.run(
        [RECONCILE, "plan", "--config", str(cfg), "--seasons", SEASONS, "--format", "json"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - t


def _profile_top(prof: cProfile.Profile, n: int = 12) -> str:
    s = io.StringIO()
    pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(n)
    lines = [ln for ln in s.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if "ncalls" in ln), 0)
    return "\n".join(lines[start : start + n + 1])


def measure(cfg: Path, profile: bool = True) -> dict[str, Any]:
    """Cold + warm CLI plan, the in-process breakdown, and the floor."""
    from reconciler.config import load_profile
    from reconciler.core.planner import PlanOptions, build_plan
    from reconciler.seasons import parse_seasons
    from reconciler.service import Session
    from reconciler.spec.loader import load_waivers

    out: dict[str, Any] = {}
    log("plan latency: CLI, first run")
    out["cli_first"] = _cli(cfg)
    log("plan latency: CLI, warm second run")
    out["cli_warm"] = _cli(cfg)

    seasons = parse_seasons(SEASONS)
    prof = load_profile(cfg)
    t0 = time.perf_counter()
    session = Session.open(prof)
    try:
        t1 = time.perf_counter()
        observed = session.observe(seasons)
        t2 = time.perf_counter()
        opts = PlanOptions(
            waivers=tuple(load_waivers(prof.waivers)),
            rate_per_sec=float(prof.api.rate_limit_per_sec),
            quota_reserve=prof.api.quota_reserve,
            profile=prof.name,
        )
        plan = build_plan(session.specs, observed, datetime.now(UTC), opts)
        t3 = time.perf_counter()
        text = plan.to_json()
        t4 = time.perf_counter()
        out.update(open=t1 - t0, observe=t2 - t1, build_plan=t3 - t2, render_json=t4 - t3, plan_bytes=len(text))
        out["api_calls"] = plan.summary.api_calls
        # per-target observation time
        from reconciler.observe.observer import Observer
        from reconciler.service import layer_map

        b = session.backends
        obs = Observer(store=b.store, engine=b.engine, state=b.state, layer_of=layer_map(prof))  # type: ignore[attr-defined]
        per: dict[str, float] = {}
        for spec in session.specs:
            t = time.perf_counter()
            obs.observe_target(spec, seasons)
            per[spec.name] = time.perf_counter() - t
        out["observe_per_target"] = per
        # the floor
        floor: dict[str, float] = {}
        counts: dict[str, int] = {}
        for name, sql in floor_queries().items():
            t = time.perf_counter()
            res = b.engine.query(sql, {"season_start": min(seasons), "season_end": max(seasons)})  # type: ignore[attr-defined]
            floor[name] = time.perf_counter() - t
            counts[name] = int(res.table.column(0)[0].as_py())
        out["floor"] = floor
        out["floor_total"] = sum(floor.values())
        out["floor_missing"] = counts
        out["plan_missing"] = {
            tp.target: sum(c.missing + c.incomplete for c in tp.coverage.values()) for tp in plan.targets
        }
        if profile:
            log("plan latency: cProfile of observe + build_plan")
            pr = cProfile.Profile()
            pr.enable()
            o2 = session.observe(seasons)
            build_plan(session.specs, o2, datetime.now(UTC), opts)
            pr.disable()
            out["profile"] = _profile_top(pr, 25)
    finally:
        session.close()
    return out

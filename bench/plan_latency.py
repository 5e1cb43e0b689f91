"""Bench item 1: plan latency on the scale-1.0 sandbox against the bare DuckDB anti-join floor."""

from __future__ import annotations

import cProfile
import io
import pstats
import shutil
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

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


#: The fan-out targets and their source, without the layout target: the missing sets the floor computes.
SPEC_TARGETS = ("--target", "games", "--target", "plays", "--target", "substitutions", "--target", "lineups")


def _cli(cfg: Path, *extra: str) -> float:
    t = time.perf_counter()
    subprocess.run(
        [RECONCILE, "plan", "--config", str(cfg), "--seasons", SEASONS, "--format", "json", *extra],
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


def _clear_cache(cfg: Path) -> None:
    from reconciler.adapters.factory import cache_path
    from reconciler.config import load_profile

    shutil.rmtree(cache_path(load_profile(cfg)), ignore_errors=True)


def _phases(cfg: Path) -> tuple[dict[str, float], Any]:
    """One plan in process, timed by phase, as `reconcile plan` runs it (specs, then layout)."""
    from reconciler.config import load_profile
    from reconciler.core.planner import PlanOptions, build_plan
    from reconciler.seasons import parse_seasons
    from reconciler.service import Session
    from reconciler.spec.loader import load_waivers

    seasons = parse_seasons(SEASONS)
    prof = load_profile(cfg)
    t0 = time.perf_counter()
    session = Session.open(prof)
    try:
        t1 = time.perf_counter()
        observed = session.observe(seasons)
        t2 = time.perf_counter()
        layout, _ = session.plan_layout(seasons)
        t3 = time.perf_counter()
        opts = PlanOptions(
            waivers=tuple(load_waivers(prof.waivers)),
            rate_per_sec=float(prof.api.rate_limit_per_sec),
            quota_reserve=prof.api.quota_reserve,
            profile=prof.name,
            extra_targets=(layout,),
        )
        plan = build_plan(session.specs, observed, datetime.now(UTC), opts)
        t4 = time.perf_counter()
        text = plan.to_json()
        t5 = time.perf_counter()
    finally:
        session.close()
    times = {"open": t1 - t0, "observe": t2 - t1, "layout": t3 - t2, "build_plan": t4 - t3, "render_json": t5 - t4}
    times["total"] = t5 - t1
    return times, (plan, len(text))


def _floors(cfg: Path) -> dict[str, Any]:
    """The bare queries, on an engine without the observation cache (each run twice, best kept)."""
    from reconciler.adapters.duckdb_engine import DuckDBEngine
    from reconciler.adapters.local_store import LocalStore
    from reconciler.config import load_profile
    from reconciler.lake.keys import key_parts, key_sql
    from reconciler.observe.layout_tables import declared_tables
    from reconciler.observe.queries import duplicate_seasons_query
    from reconciler.seasons import parse_seasons
    from reconciler.service import Session

    prof = load_profile(cfg)
    seasons = parse_seasons(SEASONS)
    params = {"season_start": min(seasons), "season_end": max(seasons)}
    assert prof.store.path is not None
    engine = DuckDBEngine(LocalStore(prof.store.path))
    session = Session.open(prof)
    specs = session.specs
    session.close()
    out: dict[str, Any] = {"floor": {}, "floor_missing": {}, "census": {}}
    try:
        for name, sql in floor_queries().items():
            best = float("inf")
            for _ in range(2):
                t = time.perf_counter()
                res = engine.query(sql, params)
                best = min(best, time.perf_counter() - t)
            out["floor"][name] = best
            out["floor_missing"][name] = int(res.table.column(0)[0].as_py())
        for decl in declared_tables(specs, prof.catalog.silver_database, prof.catalog.bronze_database):
            if not decl.dedupe or not decl.key:
                continue
            t = time.perf_counter()
            try:
                keys = key_sql(key_parts(decl.table, decl.key))
                engine.query(duplicate_seasons_query(decl.database, decl.table, keys), params)
            except Exception:  # a table without files has nothing to count
                continue
            out["census"][decl.qualified] = time.perf_counter() - t
    finally:
        engine.close()
    out["floor_total"] = sum(out["floor"].values())
    out["census_total"] = sum(out["census"].values())
    return out


def measure(cfg: Path, profile: bool = True) -> dict[str, Any]:
    """Cold and warm CLI plans, the in-process phases of both, a cold profile, and the floor.

    Cold means the observation cache is emptied first (the OS page cache stays warm: the lake
    was just read by the previous step); warm is the next plan over the unchanged lake.
    """
    out: dict[str, Any] = {}
    _clear_cache(cfg)
    log("plan latency: CLI, the spec targets only (no layout target), cold then warm")
    out["cli_specs_cold"] = _cli(cfg, *SPEC_TARGETS)
    out["cli_specs_warm"] = _cli(cfg, *SPEC_TARGETS)
    _clear_cache(cfg)
    log("plan latency: CLI, cold (observation cache emptied)")
    out["cli_first"] = _cli(cfg)
    log("plan latency: CLI, warm second run")
    out["cli_warm"] = _cli(cfg)
    log("plan latency: in process, warm phases")
    out["warm"], (plan, size) = _phases(cfg)
    out["plan_bytes"] = size
    out["api_calls"] = plan.summary.api_calls
    out["plan_missing"] = {
        tp.target: sum(c.missing + c.incomplete for c in tp.coverage.values()) for tp in plan.targets
    }
    _clear_cache(cfg)
    log("plan latency: in process, cold phases" + (" (under cProfile)" if profile else ""))
    pr = cProfile.Profile()
    if profile:
        pr.enable()
    out["cold"], _ = _phases(cfg)
    if profile:
        pr.disable()
        out["profile"] = _profile_top(pr, 30)
    log("plan latency: the floor (bare anti-joins) and the duplicate census, without the cache")
    out.update(_floors(cfg))
    return out


def startup() -> float:
    """Interpreter start-up: a fresh interpreter importing what `reconcile plan` imports (best of 3).

    The modules are the CLI's and the ports the plan opens (typer, rich, pydantic, pyarrow,
    DuckDB, sqlglot come with them); no lake is read.
    """
    code = (
        "import reconciler.cli.app, reconciler.service, reconciler.adapters.factory, "
        "reconciler.adapters.duckdb_engine, reconciler.observe.observer, reconciler.core.planner, "
        "reconciler.observe.layout, reconciler.render.text"
    )
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        best = min(best, time.perf_counter() - t)
    return best


class _Counting:
    """A query engine that counts the rows each caller label received (what crossed into Python)."""

    def __init__(self, inner: Any, rows: Counter[str], label: list[str]) -> None:
        """Wrap ``inner``; rows go to ``rows[label[-1]]``."""
        self.inner, self.rows, self.label = inner, rows, label

    def query(self, sql: str, params: Any = None) -> Any:
        """The inner engine's result, its rows counted."""
        res = self.inner.query(sql, params)
        self.rows[self.label[-1]] += res.table.num_rows
        return res

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


#: Each spec target's verified-empty units in the last :func:`rows_by_target` plan.
RAW_EMPTY: dict[str, int] = {}


def rows_by_target(cfg: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Rows the engine returned to one plan (all targets), by the target whose observation asked.

    Each spec target's gap query, lake-source lookups and derivation inputs count for it; the
    layout target's queries (duplicate census) count for ``layout``.

    Returns:
        Rows by target, and each spec target's units that are not complete (its gap: the units
        the plan must name, which no observation can leave in the engine).
    """
    import dataclasses

    from reconciler.config import load_profile
    from reconciler.observe.layout import LayoutObserver
    from reconciler.observe.observer import Observer
    from reconciler.seasons import parse_seasons
    from reconciler.service import Session

    rows: Counter[str] = Counter()
    label = ["other"]
    saved = {
        (Observer, "observe_target"): Observer.observe_target,
        (Observer, "_with_inputs"): Observer._with_inputs,
        (LayoutObserver, "observe"): LayoutObserver.observe,
    }

    def labelled(fn: Any, name: Any) -> Any:
        def run(self: Any, *args: Any, **kw: Any) -> Any:
            label.append(name(args))
            try:
                return fn(self, *args, **kw)
            finally:
                label.pop()

        return run

    Observer.observe_target = labelled(saved[(Observer, "observe_target")], lambda a: a[0].name)  # type: ignore[method-assign]
    Observer._with_inputs = labelled(saved[(Observer, "_with_inputs")], lambda a: a[0].name)  # type: ignore[method-assign]
    LayoutObserver.observe = labelled(saved[(LayoutObserver, "observe")], lambda a: "layout")  # type: ignore[method-assign]
    session = Session.open(load_profile(cfg))
    try:
        b: Any = session.backends
        object.__setattr__(session, "backends", dataclasses.replace(b, engine=_Counting(b.engine, rows, label)))
        plan, _ = session.plan(parse_seasons(SEASONS))
    finally:
        for (cls, attr), fn in saved.items():
            setattr(cls, attr, fn)
        session.close()
    gap = {t.target: sum(c.expected - c.present for c in t.coverage.values()) for t in plan.targets}
    empty = {t.target: sum(c.verified_empty for c in t.coverage.values()) for t in plan.targets}
    RAW_EMPTY.clear()
    RAW_EMPTY.update({t: n for t, n in empty.items() if t in rows})
    return dict(rows), {t: n for t, n in gap.items() if t in rows}


#: Where the bench's machines keep the shared tier, in the sandbox's lake.
SHARED_PREFIX = "meta/cbbd-reconciler/cache/"


def _shared_machine(cfg: Path, name: str) -> Path:
    """A config over the same lake as ``cfg`` with an empty local cache of its own and the shared tier.

    The tier is emptied when the first machine's config is written, so its plan is a first one.
    """
    from reconciler.config import load_profile

    doc = yaml.safe_load(cfg.read_text())
    prof = doc["profiles"][doc["default_profile"]]
    prof["cache"] = {"path": f".reconcile/cache-machine-{name}", "shared": SHARED_PREFIX}
    out = cfg.with_name(f"machine-{name}.yaml")
    out.write_text(yaml.safe_dump(doc))
    _clear_cache(out)
    if name == "a":
        shutil.rmtree(Path(load_profile(out).store.path or "") / SHARED_PREFIX, ignore_errors=True)
    return out


def steady(cfg: Path) -> dict[str, Any]:
    """The steady-state figures: cold and warm CLI plans, the floor, start-up, rows by target."""
    out: dict[str, Any] = {}
    _clear_cache(cfg)
    log("steady state: CLI plan, cold (observation cache emptied), then warm")
    out["cli_cold"] = _cli(cfg)
    out["cli_warm"] = _cli(cfg)
    log("steady state: two machines sharing the lake's cache tier (cache.shared), the first fills it")
    first, second = (_shared_machine(cfg, name) for name in ("a", "b"))
    out["cli_shared_first"] = _cli(first)
    out["cli_shared_fresh"] = _cli(second)
    log("steady state: rows from the engine by target")
    out["rows"], out["gap_units"] = rows_by_target(cfg)
    out["verified_empty"] = dict(RAW_EMPTY)
    log("steady state: the floor, interpreter start-up")
    floors = _floors(cfg)
    out["floor"] = floors["floor"]
    out["floor_missing"] = floors["floor_missing"]
    out["floor_total"] = floors["floor_total"]
    out["startup"] = startup()
    return out

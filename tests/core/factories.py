"""Factories for planner tests: specs from the repo, synthetic observations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from reconciler.core.observed import ExpectedUnit, ObservedState, ObservedTarget, PresentUnit, UnitState
from reconciler.spec.loader import load_specs

SPECS = {s.name: s for s in load_specs(Path(__file__).parents[2] / "specs")}
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def games(season: int, dates: dict[str, int], start_id: int = 1, teams: int = 40) -> list[ExpectedUnit]:
    """Units for plays-like targets: `dates` maps a date to how many games it has."""
    out = []
    gid = start_id
    for d, n in dates.items():
        for _ in range(n):
            home, away = f"T{(gid * 7) % teams}", f"T{(gid * 13 + 1) % teams}"
            cols = {"game_id": gid, "season": season, "date": d, "home_team": home, "away_team": away}
            out.append(ExpectedUnit(key=str(gid), season=season, date=d, cols=cols))
            gid += 1
    return out


def lineup_units(units: list[ExpectedUnit]) -> list[ExpectedUnit]:
    out = []
    for u in units:
        for side, tid in (("home", 1000 + int(u.key)), ("away", 2000 + int(u.key))):
            cols = {**u.cols, "team_id": tid, "team": u.cols[f"{side}_team"]}
            out.append(ExpectedUnit(key=f"{u.key}:{tid}", season=u.season, date=u.date, cols=cols))
    return out


def observed(
    name: str,
    expected: list[ExpectedUnit] | None,
    present: dict[str, PresentUnit] | None = None,
    states: dict[str, UnitState] | None = None,
    lake: dict[str, frozenset[str]] | None = None,
    seasons: tuple[int, ...] | None = None,
    extra_targets: dict[str, ObservedTarget] | None = None,
) -> ObservedState:
    target = ObservedTarget(
        name=name,
        expected=tuple(expected) if expected is not None else None,
        present=present or {},
        states=states or {},
        lake_sources=lake or {},
    )
    seas = seasons or tuple(sorted({u.season for u in expected or []}) or [2015])
    return ObservedState(seasons=seas, targets={name: target, **(extra_targets or {})})


def full(units: list[ExpectedUnit], rows: int = 300) -> dict[str, PresentUnit]:
    return {u.key: PresentUnit(rows=rows, complete=True) for u in units}


def days_ago(n: float) -> float:
    return (NOW - timedelta(days=n)).timestamp()

"""The audit's pictures, as data: coverage per season and table, and missing games by date.

Both come from what the audit already has (the plan, and the observation it was computed from),
so drawing them reads nothing more from the lake:

* :func:`coverage_grid`: per season and table, the share of expected units present (complete),
  verified empty or waived, as the plan counts it; ``None`` where nothing is expected, and the
  "known after apply" seasons flagged;
* :func:`missing_by_date`: per fact table that depends on ``fct_games``, per season and day of the
  season (days since 1 November of the year before), the games with at least one expected unit
  that is neither present and complete nor verified empty in the observation.

:mod:`reconciler.render.pngs` draws them as PNG files, :mod:`reconciler.render.terminal` in the
terminal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from reconciler.core.observed import ObservedState
from reconciler.core.plan import Plan, TargetPlan

__all__ = ["CoverageGrid", "MissingByDate", "coverage_grid", "missing_by_date", "season_day"]


@dataclass(frozen=True, slots=True)
class CoverageGrid:
    """Coverage, season × table.

    Attributes:
        seasons: Rows.
        tables: Columns (silver table names).
        ratio: ``(seasons, tables)``: coverage in ``[0, 1]``, NaN where nothing is expected.
        pending: ``(seasons, tables)``: the expected set is known after apply.
        gaps: ``(seasons, tables)``: missing + incomplete + quarantined units.
    """

    seasons: tuple[int, ...]
    tables: tuple[str, ...]
    ratio: NDArray[np.float64]
    pending: NDArray[np.bool_]
    gaps: NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class MissingByDate:
    """Missing games per table, season and day of the season.

    Attributes:
        seasons: Rows.
        tables: One panel each (silver table names).
        first_day: The day of the season of column 0 (days since 1 November).
        counts: Table → ``(seasons, days)`` games missing.
        played: ``(seasons, days)``: games expected that day (for telling "none missing" from "no games").
    """

    seasons: tuple[int, ...]
    tables: tuple[str, ...]
    first_day: int
    counts: dict[str, NDArray[np.int64]]
    played: NDArray[np.int64]

    @property
    def days(self) -> int:
        """Columns."""
        return int(self.played.shape[1])


def _short(table: str) -> str:
    return table.rsplit(".", 1)[-1]


def season_day(season: int, date: str) -> int:
    """Days from 1 November of the year before the season to a date.

    Args:
        season: The season (ending year).
        date: ``YYYY-MM-DD``.

    Returns:
        The day (0 on 1 November; negative before).
    """
    return (dt.date.fromisoformat(date[:10]) - dt.date(season - 1, 11, 1)).days


def coverage_grid(targets: Sequence[TargetPlan], seasons: Sequence[int]) -> CoverageGrid:
    """Coverage of each table in each season, as the plan counts it.

    Args:
        targets: The targets with coverage, in report order.
        seasons: The seasons.

    Returns:
        The grid.
    """
    shape = (len(seasons), len(targets))
    ratio = np.full(shape, np.nan)
    pending = np.zeros(shape, dtype=bool)
    gaps = np.zeros(shape, dtype=np.int64)
    for j, t in enumerate(targets):
        for i, s in enumerate(seasons):
            c = t.coverage.get(str(s))
            if c is None:
                continue
            if c.known_after_apply:
                pending[i, j] = True
            elif c.expected:
                ratio[i, j] = c.ratio
            gaps[i, j] = c.missing + c.incomplete + c.quarantined
    return CoverageGrid(tuple(seasons), tuple(_short(t.table) for t in targets), ratio, pending, gaps)


def missing_by_date(plan: Plan, observed: ObservedState, targets: Sequence[TargetPlan]) -> MissingByDate:
    """Games missing from each dependent table, by season and day, from the plan's observation.

    Args:
        plan: The plan.
        observed: The observation it was computed from.
        targets: The targets with coverage; those that depend on another get a panel.

    Returns:
        The counts (a table without an observed expected set gets no panel).
    """
    seasons = tuple(plan.season_list)
    row = {s: i for i, s in enumerate(seasons)}
    per: dict[str, dict[tuple[int, int], set[str]]] = {}
    played: dict[tuple[int, int], set[str]] = {}
    for t in targets:
        obs = observed.targets.get(t.target)
        if not t.depends_on or obs is None or obs.expected is None:
            continue
        missing: dict[tuple[int, int], set[str]] = {}
        for u in obs.expected:
            if u.season not in row or not u.date:
                continue
            cell = (u.season, season_day(u.season, u.date))
            game = u.key.split(":", 1)[0]
            played.setdefault(cell, set()).add(game)
            have = obs.present.get(u.key)
            state = obs.states.get(u.key)
            if (have is not None and have.complete) or (state is not None and state.status == "empty"):
                continue
            missing.setdefault(cell, set()).add(game)
        per[_short(t.table)] = missing
    days = [d for _, d in played] or [0]
    lo, hi = min(days), max(days)
    width = hi - lo + 1
    counts: dict[str, NDArray[np.int64]] = {}
    for table, cells in per.items():
        grid = np.zeros((len(seasons), width), dtype=np.int64)
        for (s, d), games in cells.items():
            grid[row[s], d - lo] = len(games)
        counts[table] = grid
    base = np.zeros((len(seasons), width), dtype=np.int64)
    for (s, d), games in played.items():
        base[row[s], d - lo] = len(games)
    return MissingByDate(seasons, tuple(per), lo, counts, base)

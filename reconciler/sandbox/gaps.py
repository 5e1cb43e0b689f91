"""Which gaps the sandbox injects: a deterministic plan computed from the universe and the seed.

* plays: one season wholly missing (all layers); elsewhere a few percent of final games missing
  (scattered), and a few "partial" games whose lake rows stop after period 1. Games for which the
  API itself has no plays are missing too (they cannot be fetched).
* substitutions: present (bronze and raw complete, silver collapsed to one row per game) in one
  season only: 2024 when selected, else the last selected season.
* lineups: likewise in 2025 (or the last season); a few games keep every unit of the home team
  in silver and nothing of the away team.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from reconciler.synth.rng import uniform
from reconciler.synth.schedule import FINAL
from reconciler.synth.universe import Universe

__all__ = ["SeasonPlan", "complete_plan", "lineups_season", "plan_season", "plays_missing_seasons", "subs_season"]

SCATTERED_SHARE = 0.03
PARTIAL_SHARE = 0.004
ONE_TEAM_SHARE = 0.02
_S_MISSING = 9001
_S_PARTIAL = 9002
_S_ONE_TEAM = 9003


@dataclass(frozen=True, slots=True)
class SeasonPlan:
    """The gaps injected into one season.

    Attributes:
        season: The season.
        plays_wholly_missing: No plays at all in any layer.
        plays_missing: Final games (with plays at the API) left out of every layer.
        plays_partial: Games whose lake plays stop after period 1.
        substitutions: This is the season with substitutions in the lake.
        lineups: This is the season with lineups in the lake.
        lineups_one_team: Games whose silver lineups hold only the home team (complete).
        whole_silver: Substitutions and lineups silver hold every record (no collapsed batch).
    """

    season: int
    plays_wholly_missing: bool
    plays_missing: frozenset[int]
    plays_partial: frozenset[int]
    substitutions: bool
    lineups: bool
    lineups_one_team: frozenset[int]
    whole_silver: bool = False


def plays_missing_seasons(seasons: tuple[int, ...]) -> tuple[int, ...]:
    """The season(s) whose plays are wholly missing.

    Args:
        seasons: The selected seasons, ascending.

    Returns:
        The second season when three or more are selected, the first of two, none of one.
    """
    if len(seasons) >= 3:
        return (seasons[1],)
    if len(seasons) == 2:
        return (seasons[0],)
    return ()


def subs_season(seasons: tuple[int, ...]) -> int:
    """The season with substitutions in the lake (2024, like the real lake, when selected).

    Args:
        seasons: The selected seasons.

    Returns:
        The season.
    """
    return 2024 if 2024 in seasons else seasons[-1]


def lineups_season(seasons: tuple[int, ...]) -> int:
    """The season with lineups in the lake (2025, like the real lake, when selected).

    Args:
        seasons: The selected seasons.

    Returns:
        The season.
    """
    return 2025 if 2025 in seasons else seasons[-1]


def _pick(seed: int, stream: int, ids: np.ndarray, share: float, exclude: set[int]) -> frozenset[int]:
    """Games whose draw falls under ``share``; at least one when ten or more are eligible."""
    ids = np.asarray([g for g in ids.tolist() if g not in exclude], dtype=np.int64)
    if len(ids) == 0:
        return frozenset()
    u = uniform(seed, stream, ids)
    chosen = set(ids[u < share].tolist())
    if not chosen and len(ids) >= 10:
        chosen = {int(ids[int(np.argmin(u))])}
    return frozenset(int(g) for g in chosen)


def plan_season(universe: Universe, season: int) -> SeasonPlan:
    """Plan the gaps of one season.

    Args:
        universe: The universe.
        season: The season.

    Returns:
        The plan.
    """
    seed = universe.seed
    sg = universe.season_games(season)
    ok = sg.game_id[(sg.status == FINAL) & sg.plays_ok]
    wholly = season in plays_missing_seasons(universe.seasons)
    missing = frozenset() if wholly else _pick(seed, _S_MISSING, ok, SCATTERED_SHARE, set())
    partial = frozenset() if wholly else _pick(seed, _S_PARTIAL, ok, PARTIAL_SHARE, set(missing))
    is_lineups = season == lineups_season(universe.seasons)
    subs_ids = sg.game_id[sg.has_subs]
    one_team = _pick(seed, _S_ONE_TEAM, subs_ids, ONE_TEAM_SHARE, set()) if is_lineups else frozenset()
    return SeasonPlan(
        season=season,
        plays_wholly_missing=wholly,
        plays_missing=missing,
        plays_partial=partial,
        substitutions=season == subs_season(universe.seasons),
        lineups=is_lineups,
        lineups_one_team=one_team,
    )


def complete_plan(plan: SeasonPlan) -> SeasonPlan:
    """A season with no injected gap: every layer of every target holds every unit.

    What the API itself lacks (games without plays or substitutions) stays absent, as in a lake
    the pipeline has filled: the steady state a nightly plan runs against.

    Args:
        plan: The season's plan with its gaps.

    Returns:
        The same season without them.
    """
    return replace(
        plan,
        plays_wholly_missing=False,
        plays_missing=frozenset(),
        plays_partial=frozenset(),
        substitutions=True,
        lineups=True,
        lineups_one_team=frozenset(),
        whole_silver=True,
    )

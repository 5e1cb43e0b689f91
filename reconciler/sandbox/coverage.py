"""The manifest entries of one season, derived from the universe and the injected-gap plan."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from reconciler.sandbox.gaps import SeasonPlan
from reconciler.sandbox.manifest import SeasonCoverage
from reconciler.synth.schedule import FINAL
from reconciler.synth.universe import Universe

__all__ = ["lineups_coverage", "plays_coverage", "substitutions_coverage"]


def _counts(missing: list[int] | list[str], api_empty: list[int] | list[str], **extra: int) -> dict[str, int]:
    return {
        "missing": len(missing),
        "api_empty": len(api_empty),
        "fetchable": len(missing) - len(api_empty),
        **extra,
    }


def plays_coverage(universe: Universe, plan: SeasonPlan, silver_rows: int) -> SeasonCoverage:
    """The ``plays`` entry of a season.

    Args:
        universe: The universe.
        plan: The season's injected gaps.
        silver_rows: Rows written to silver.

    Returns:
        The coverage.
    """
    sg = universe.season_games(plan.season)
    final = sg.status == FINAL
    finals = sg.game_id[final].tolist()
    api_empty = sorted(sg.game_id[final & ~sg.plays_ok].tolist())
    if plan.plays_wholly_missing:
        missing, partial = sorted(finals), []
    else:
        missing = sorted(set(api_empty) | plan.plays_missing)
        partial = sorted(plan.plays_partial)
    present = len(finals) - len(missing)
    return SeasonCoverage(
        expected=len(finals),
        present=present,
        complete=present - len(partial),
        silver_rows=silver_rows,
        wholly_missing=plan.plays_wholly_missing,
        missing=list(missing),
        api_empty=list(api_empty),
        partial=list(partial),
        counts=_counts(missing, api_empty, partial=len(partial), collapsed=0),
    )


def substitutions_coverage(universe: Universe, plan: SeasonPlan, silver_rows: int) -> SeasonCoverage:
    """The ``substitutions`` entry of a season (collapsed in its one season, else all missing).

    Args:
        universe: The universe.
        plan: The season's injected gaps.
        silver_rows: Rows written to silver.

    Returns:
        The coverage.
    """
    sg = universe.season_games(plan.season)
    final = sg.status == FINAL
    finals = sorted(sg.game_id[final].tolist())
    api_empty = sorted(sg.game_id[final & ~sg.has_subs].tolist())
    whole: list[int] = []
    if plan.substitutions and plan.whole_silver:
        collapsed, missing, dead = [], api_empty, api_empty
        whole = sorted(sg.game_id[final & sg.has_subs].tolist())
    elif plan.substitutions:
        collapsed = sorted(sg.game_id[final & sg.has_subs].tolist())
        missing, dead = api_empty, api_empty
    else:
        collapsed, missing, dead = [], finals, []
    return SeasonCoverage(
        expected=len(finals),
        present=len(collapsed) + len(whole),
        complete=len(whole),
        silver_rows=silver_rows,
        wholly_missing=not plan.substitutions,
        missing=list(missing),
        api_empty=list(api_empty),
        collapsed=list(collapsed),
        deadlettered=dead,
        counts=_counts(missing, api_empty, partial=0, collapsed=len(collapsed)),
    )


def lineups_coverage(
    universe: Universe, plan: SeasonPlan, silver_rows: int, *, kept_team: Mapping[int, int] | None = None
) -> SeasonCoverage:
    """The ``lineups`` entry of a season; units are ``"gameId:teamId"``.

    Args:
        universe: The universe.
        plan: The season's injected gaps.
        silver_rows: Rows written to silver.
        kept_team: Game → team of the unit silver kept where a game collapsed to one unit
            (default: the home team's, as the default writer keeps it).

    Returns:
        The coverage.
    """
    sg = universe.season_games(plan.season)
    teams = universe.team_table
    final = np.flatnonzero(sg.status == FINAL)
    units: list[tuple[int, int, bool]] = []  # game, team id, API has lineups for it
    for row in final.tolist():
        gid = int(sg.game_id[row])
        for t in (int(sg.home[row]), int(sg.away[row])):
            units.append((gid, int(teams.team_id[t]), bool(sg.has_subs[row] and teams.d1[t])))
    home_tid = {int(sg.game_id[r]): int(teams.team_id[sg.home[r]]) for r in final.tolist()}
    api_empty = [f"{g}:{t}" for g, t, ok in units if not ok]
    collapsed: list[str] = []
    complete: list[str] = []
    dead: list[int] = []
    if plan.lineups:
        with_subs = [int(g) for g in sg.game_id[final][sg.has_subs[final]].tolist()]
        for g in with_subs:
            if plan.whole_silver:
                complete.extend(f"{gid}:{t}" for gid, t, ok in units if gid == g and ok)
            elif g in plan.lineups_one_team:
                complete.append(f"{g}:{home_tid[g]}")
            else:
                collapsed.append(f"{g}:{(kept_team or {}).get(g, home_tid[g])}")
        dead = sorted(int(g) for g in sg.game_id[final][~sg.has_subs[final]].tolist())
    present = set(collapsed) | set(complete)
    missing = [f"{g}:{t}" for g, t, _ in units if f"{g}:{t}" not in present]
    one_team = [] if plan.whole_silver else sorted(int(u.split(":")[0]) for u in complete)
    return SeasonCoverage(
        expected=len(units),
        present=len(present),
        complete=len(complete),
        silver_rows=silver_rows,
        wholly_missing=not plan.lineups,
        missing=sorted(missing),
        api_empty=sorted(api_empty),
        collapsed=sorted(collapsed),
        one_team_only=one_team,
        deadlettered=dead,
        counts=_counts(missing, api_empty, partial=0, collapsed=len(collapsed), one_team_only=len(one_team)),
    )

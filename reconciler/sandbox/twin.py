"""``reconcile sandbox init DIR --twin``: the pipeline-written lake shaped like the audited real lake.

The twin is the ``--writer pipeline`` lake (every object as cbbd_etl writes it) over a universe
built with ``twin=True`` (:mod:`reconciler.synth.twin`), with gaps and quirks taken from the real
lake's audit (``cbbd_etl_lake.md`` §6, §9, §10) instead of the default sandbox's:

* games per season exactly ``season_scale.csv`` at scale 1.0 (``round(games × scale)`` below);
* plays: no season wholly missing; in the short seasons (2010-2013, 2021) the games the derivation
  says the lake lacks (missing from raw, bronze and silver); no game cut short (the audit shows
  none); every other game with plays at the API is in the lake, in the pipeline writer's mix of
  ``date=``, ``asof=`` and consolidated layouts, with its ``plays_date`` duplicates;
* substitutions only in 2024 and lineups only in 2025 (bronze and raw complete, silver collapsed
  to the first record of each game's response), for the audited number of games;
* ``fct_games`` 2024 only under ``season=2024/asof=D`` (``normalize_fct_games_partitions.py
  --season 2024``; the later games runs skip 2024, as the repo's re-run script does by default);
  no old-layout ``fct_games`` duplicates (the 2026-02-22 audit found none after the clean-up).
"""

from __future__ import annotations

import numpy as np

from reconciler.sandbox.gaps import SeasonPlan
from reconciler.synth.twin import FANOUT_ROWS, twin_present
from reconciler.synth.universe import Universe

__all__ = ["GAMES_ASOF_SEASON", "TWIN_NOTES", "lake_rows", "twin_plan_season"]

#: The season whose ``fct_games`` the normalize script moved under ``asof=`` (its default).
GAMES_ASOF_SEASON = 2024

TWIN_NOTES = [
    "The twin of the real lake (--twin): written with the pipeline writer, shaped by the real lake's audit "
    "(season_scale.csv; cbbd_etl_lake.md §6, §9, §10); `twin` in this manifest gives the derivation per season.",
    "plays: the short seasons' missing games are a seeded uniform draw: the audit gives how many, not which.",
    "fct_games 2024 lies only under season=2024/asof=<day> (normalize_fct_games_partitions.py --season 2024); "
    "no old-layout fct_games duplicates (the 2026-02-22 audit found none after the clean-up).",
    "substitutions (2024) and lineups (2025) are collapsed to the first record of each game's response, for "
    "the audited number of games (6,125 and 5,699 at scale 1.0); other seasons have none in any layer.",
    "fct_lineups' 37 duplicates on (idhash, teamid, totalseconds) in the real lake are not reproduced: the "
    "audit does not say which rows they are.",
]


def twin_plan_season(universe: Universe, season: int) -> SeasonPlan:
    """The twin's gaps for one season.

    Args:
        universe: A twin universe.
        season: The season.

    Returns:
        The plan: the derived missing plays, no partial games, substitutions in 2024 and lineups
        in 2025 only, no one-team lineups.
    """
    sg = universe.season_games(season)
    present = twin_present(sg, universe.seed)
    missing = frozenset(int(g) for g in sg.game_id[sg.plays_ok & ~present].tolist())
    return SeasonPlan(
        season=season,
        plays_wholly_missing=False,
        plays_missing=missing,
        plays_partial=frozenset(),
        substitutions=season == FANOUT_ROWS["substitutions"][0],
        lineups=season == FANOUT_ROWS["lineups"][0],
        lineups_one_team=frozenset(),
    )


def lake_rows(universe: Universe, plan: SeasonPlan) -> np.ndarray:
    """The games of a twin season worth simulating: those with plays in the lake or fan-out data written.

    Args:
        universe: The twin universe.
        plan: The season's plan.

    Returns:
        Row indexes, in API order.
    """
    sg = universe.season_games(plan.season)
    keep = sg.plays_ok & ~np.isin(sg.game_id, np.asarray(sorted(plan.plays_missing), dtype=np.int64))
    if plan.substitutions or plan.lineups:
        keep |= sg.has_subs
    return np.flatnonzero(keep)

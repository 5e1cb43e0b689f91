"""A synthetic observation of a scale-1.0 lake (the real lake's games per season), for the planner.

Built directly as an ObservedState, so a plan for ~101,000 games takes seconds, not a sandbox.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from reconciler.core.observed import ExpectedUnit, ObservedState, ObservedTarget, PresentUnit

#: Games per season in fct_games (cbbd_etl_lake.md §9): 101,389 in all.
GAMES_PER_SEASON = {
    2010: 5793, 2011: 5795, 2012: 5741, 2013: 5838, 2014: 5995, 2015: 5949, 2016: 5991, 2017: 5982,
    2018: 5987, 2019: 6066, 2020: 5856, 2021: 5282, 2022: 6387, 2023: 6261, 2024: 6249, 2025: 6299,
    2026: 5918,
}  # fmt: skip
SEASON_DAYS = 140  # early November to late March
TEAMS = 362


def game_units(seed: int = 1) -> list[ExpectedUnit]:
    """One plays-like unit per final game, dated across the season, with home and away teams."""
    rng = random.Random(seed)
    out = []
    gid = 1
    for season, n in GAMES_PER_SEASON.items():
        start = date(season - 1, 11, 4)
        for i in range(n):
            d = (start + timedelta(days=i * SEASON_DAYS // n)).isoformat()
            home, away = rng.sample(range(TEAMS), 2)
            cols = {"game_id": gid, "season": season, "date": d, "home_team": f"T{home}", "away_team": f"T{away}"}
            out.append(ExpectedUnit(key=str(gid), season=season, date=d, cols=cols))
            gid += 1
    return out


def lineup_units(games: list[ExpectedUnit]) -> list[ExpectedUnit]:
    """Two units per game: (game, home team) and (game, away team)."""
    out = []
    for u in games:
        for side, tid in (("home", 1), ("away", 2)):
            cols = {**u.cols, "team_id": tid, "team": u.cols[f"{side}_team"]}
            out.append(ExpectedUnit(key=f"{u.key}:{tid}", season=u.season, date=u.date, cols=cols))
    return out


def scale_one_observation(
    plays_present: Callable[[int, ExpectedUnit], bool] = lambda i, u: i % 2 == 0,
    subs_present: Callable[[int, ExpectedUnit], bool] = lambda i, u: True,
    lineups_present: Callable[[int, ExpectedUnit], bool] = lambda i, u: True,
) -> ObservedState:
    """Games complete; plays, substitutions and lineups present where the predicates say (index, unit).

    The default is the issue's case: half of all plays missing (every other game, the case that
    compresses worst), everything else complete.
    """
    games = game_units()
    seasons = tuple(GAMES_PER_SEASON)
    season_units = [
        ExpectedUnit(key=str(s), season=s, date=f"{s}-01-01", cols={"season": s, "date": f"{s}-01-01"}) for s in seasons
    ]
    lineups = lineup_units(games)

    def target(
        name: str, expected: list[ExpectedUnit], keep: Callable[[int, ExpectedUnit], bool], rows: int
    ) -> ObservedTarget:
        present = {u.key: PresentUnit(rows=rows, complete=True) for i, u in enumerate(expected) if keep(i, u)}
        return ObservedTarget(name=name, expected=tuple(expected), present=present)

    return ObservedState(
        seasons=seasons,
        targets={
            "games": target("games", season_units, lambda i, u: True, 6000),
            "plays": target("plays", games, plays_present, 300),
            "substitutions": target("substitutions", games, subs_present, 60),
            "lineups": target("lineups", lineups, lineups_present, 20),
        },
    )

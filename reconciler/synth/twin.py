"""The twin of the real lake: per-season plays coverage and fan-out data derived from its audit.

The real lake's audit (``season_scale.csv``: games and ``fct_plays`` rows per season, 2010-2026)
gives totals, not which games lack plays. The twin derives how many from them:

* ``p(s) = plays_rows(s) / games(s)``, the plays per game the audit saw; ``m`` is the median of
  ``p`` over the 17 seasons (297.3, season 2019).
* A season is *short* when ``p(s) < 0.9 m`` (2010-2013 and 2021, at 57-83 % of ``m``); the others
  (95-117 % of ``m``) are within the spread of complete seasons and are taken as complete.
* In a complete season every game with plays at the API is in the lake, and such a game has
  ``plays_rows / (games with plays at the API)`` plays on average.
* In a short season a game with plays has as many as in a median season (``m`` per game of the
  season, spread over the games with plays at the API), and the lake holds only enough of them
  for its ``plays_rows``: a share ``p(s) / m`` of the games with plays at the API; the other
  ``1 - p(s) / m`` are missing from the lake (which ones is a seeded uniform draw: the audit does
  not say).

Counts are exact, not expected values: each game's play count (:func:`play_counts`) is known
before simulation, so the targets are calibrated until the season's plays add up to
``plays_rows × scale`` (complete seasons), and a short season keeps the prefix of a seeded order of
its games whose plays come closest to it.

Substitutions and lineups: the real lake's silver holds them collapsed to one row per game
(``cbbd_etl_lake.md`` §6.3) in one season each, from complete fan-outs (bronze and raw complete),
so its row count is the number of games the API had data for: 6,125 in 2024 (substitutions),
5,699 in 2025 (lineups). The twin's API has substitution (and lineup) data for exactly that many
games in those seasons (the games with the lowest draw of the universe's own ``has_subs`` stream);
other seasons keep the universe's share.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reconciler.synth.playsim import play_counts
from reconciler.synth.rng import uniform
from reconciler.synth.scale import SEASON_SCALE
from reconciler.synth.schedule import SeasonGames, play_targets

__all__ = [
    "FANOUT_ROWS",
    "SHORT_BELOW",
    "TwinSeason",
    "derivation",
    "outside_audit",
    "reference_plays_per_game",
    "twin_games",
    "twin_present",
    "twin_season",
]

#: A season whose plays per game fall below this share of the median is short of games.
SHORT_BELOW = 0.9
#: Rows of the collapsed fan-out tables in the real lake (one per game with data; §9 of the lake notes).
FANOUT_ROWS: dict[str, tuple[int, int]] = {"substitutions": (2024, 6125), "lineups": (2025, 5699)}
_S_PRESENT = 9201
_S_SUBS = 362  # the universe's own has_subs stream (schedule: ``ug(62)``)
_CALIBRATION_ROUNDS = 4


@dataclass(frozen=True, slots=True)
class TwinSeason:
    """The audit's numbers for one season and what the twin derives from them.

    Attributes:
        season: The season.
        games: Games in ``fct_games`` (the audit).
        plays_rows: Rows in ``fct_plays`` (the audit).
        per_game: ``plays_rows / games``.
        short: Below :data:`SHORT_BELOW` of the median: the lake lacks plays of some games.
        lake_share: The share of the games with plays at the API that the lake holds.
    """

    season: int
    games: int
    plays_rows: int
    per_game: float
    short: bool
    lake_share: float


def reference_plays_per_game() -> float:
    """The median plays per game over the audited seasons (``m``).

    Returns:
        297.28 (season 2019).
    """
    return float(statistics.median(plays / games for games, plays in SEASON_SCALE.values()))


def twin_season(season: int) -> TwinSeason:
    """The audit's numbers and the twin's rule for one season.

    Args:
        season: A season of the audit (2010-2026).

    Returns:
        The season's entry.

    Raises:
        KeyError: If the audit has no such season.
    """
    games, plays = SEASON_SCALE[season]
    per_game = plays / games
    m = reference_plays_per_game()
    short = per_game < SHORT_BELOW * m
    return TwinSeason(season, games, plays, per_game, short, per_game / m if short else 1.0)


def _target_rows(season: int, n_games: int) -> float:
    """The season's ``fct_plays`` rows at the twin's scale (the audit's, times games here / games there)."""
    games, plays = SEASON_SCALE[season]
    return plays * n_games / games


def twin_games(sg: SeasonGames, seed: int) -> SeasonGames:
    """A season of the universe, reshaped as the twin's API: play counts and fan-out data.

    Args:
        sg: The season as :func:`reconciler.synth.schedule.build_season` made it.
        seed: The universe seed.

    Returns:
        The same games with calibrated ``n_target`` and, in 2024 and 2025, the audited number of
        games with substitution and lineup data.
    """
    rule = twin_season(sg.season)
    ok_rows = np.flatnonzero(sg.plays_ok)
    if len(ok_rows) == 0:
        return sg
    n = len(sg)
    per_game = reference_plays_per_game() if rule.short else rule.per_game
    want = per_game * n  # the season's plays if every game with plays at the API were in the lake
    factor = want / len(ok_rows)
    out = sg
    for _ in range(_CALIBRATION_ROUNDS):
        out = replace(out, n_target=play_targets(seed, sg.game_id, sg.n_periods, factor))
        got = int(play_counts(seed, out, ok_rows).sum())
        if got == 0 or abs(got - want) <= 0.0005 * want:
            break
        factor *= want / got
    for season, rows in FANOUT_ROWS.values():
        if season == sg.season:
            k = min(len(ok_rows), round(rows * n / rule.games))
            u = uniform(seed, _S_SUBS, sg.game_id[ok_rows])
            has = np.zeros(n, dtype=bool)
            has[ok_rows[np.argsort(u, kind="stable")[:k]]] = True
            out = replace(out, has_subs=has)
    return out


def twin_present(sg: SeasonGames, seed: int) -> NDArray[np.bool_]:
    """Which games of a twin season have plays in the lake.

    Args:
        sg: The season, from :func:`twin_games`.
        seed: The universe seed.

    Returns:
        A mask over the season's games: every game with plays at the API in a complete season; in a
        short season, the prefix of a seeded order whose plays come closest to the audited rows.
    """
    ok_rows = np.flatnonzero(sg.plays_ok)
    present = np.zeros(len(sg), dtype=bool)
    if not twin_season(sg.season).short:
        present[ok_rows] = True
        return present
    order = ok_rows[np.argsort(uniform(seed, _S_PRESENT, sg.game_id[ok_rows]), kind="stable")]
    cum = np.cumsum(play_counts(seed, sg, order))
    target = _target_rows(sg.season, len(sg))
    keep = int(np.argmin(np.abs(cum - target))) + 1 if len(cum) else 0
    present[order[:keep]] = True
    return present


def derivation(seed: int, scale: float, seasons: tuple[int, ...], games: dict[int, SeasonGames]) -> dict[str, Any]:
    """The manifest's account of how the twin's coverage was derived, with the numbers per season.

    Args:
        seed: The universe seed.
        scale: The scale.
        seasons: The seasons.
        games: Each season's twin games (:func:`twin_games`).

    Returns:
        The formula in words, the reference, and per season: the audit's games and rows, the rule,
        the games with plays at the API, in the lake and missing, and the rows written.
    """
    m = reference_plays_per_game()
    per: dict[str, Any] = {}
    for s in seasons:
        rule, sg = twin_season(s), games[s]
        present = twin_present(sg, seed)
        rows = int(play_counts(seed, sg, np.flatnonzero(present)).sum())
        api = int(sg.plays_ok.sum())
        per[str(s)] = {
            "audit_games": rule.games,
            "audit_plays_rows": rule.plays_rows,
            "audit_plays_per_game": round(rule.per_game, 1),
            "share_of_median": round(rule.per_game / m, 3),
            "short": rule.short,
            "games": len(sg),
            "games_with_plays_at_api": api,
            "games_in_lake": int(present.sum()),
            "games_missing": api - int(present.sum()),
            "expected_missing": round(api * (1 - rule.lake_share)),
            "plays_rows_target": round(_target_rows(s, len(sg))),
            "plays_rows": rows,
        }
    return {
        "source": "season_scale.csv (cbbd_etl reports/full_data_audit.md, 2026-02-22)",
        "formula": (
            "p(s) = plays_rows(s) / games(s); m = median over 2010-2026 of p(s); a season is short when "
            f"p(s) < {SHORT_BELOW} m. Complete season: every game with plays at the API is in the lake. Short "
            "season: a game with plays has m plays per game of the season (spread over the games with plays at "
            "the API); the lake holds a share p(s) / m of those games and misses 1 - p(s) / m of them "
            "(missing(s) = A(s) * (1 - p(s) / m), A(s) = final games with plays at the API), chosen by a seeded "
            "uniform draw. Rows are exact: the targets are calibrated on each game's play count, and a short "
            "season keeps the games whose plays come closest to plays_rows(s) x games here / games(s)."
        ),
        "reference_plays_per_game": round(m, 2),
        "short_below": SHORT_BELOW,
        "scale": scale,
        "games_per_season": "round(games(s) x scale), at least 10 (exactly season_scale.csv at scale 1.0)",
        "fanout_rows": {
            name: {
                "season": season,
                "audit_rows": rows,
                "games_with_data": int(games[season].has_subs.sum()) if season in games else 0,
            }
            for name, (season, rows) in FANOUT_ROWS.items()
        },
        "seasons": per,
    }


def outside_audit(seasons: tuple[int, ...]) -> list[int]:
    """The seasons the audit does not cover (the twin refuses them).

    Args:
        seasons: Requested seasons.

    Returns:
        Those outside 2010-2026.
    """
    return [s for s in seasons if s not in SEASON_SCALE]

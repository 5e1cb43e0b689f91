"""Real per-season scale of the lake (``season_scale.csv``) and season calendar helpers."""

from __future__ import annotations

import datetime as dt

__all__ = [
    "SEASON_SCALE",
    "date_str",
    "games_in_season",
    "plays_per_game",
    "season_days",
]

#: season -> (games in fct_games, plays rows in fct_plays), from the 2026-02-22 audit.
SEASON_SCALE: dict[int, tuple[int, int]] = {
    2010: (5793, 1272058),
    2011: (5795, 1132739),
    2012: (5741, 967479),
    2013: (5838, 1100209),
    2014: (5995, 1694747),
    2015: (5949, 1751915),
    2016: (5991, 1831785),
    2017: (5982, 1838756),
    2018: (5987, 1823354),
    2019: (6066, 1803296),
    2020: (5856, 1751644),
    2021: (5282, 1304559),
    2022: (6387, 1861002),
    2023: (6261, 1956497),
    2024: (6249, 2004997),
    2025: (6299, 2190197),
    2026: (5918, 1879052),
}

MIN_GAMES = 10
_EPOCH = dt.date(1970, 1, 1)


def _nearest(season: int) -> tuple[int, int]:
    known = min(SEASON_SCALE, key=lambda s: (abs(s - season), s))
    return SEASON_SCALE[known]


def games_in_season(season: int, scale: float) -> int:
    """How many games the synthetic season holds.

    Args:
        season: The season (ending year). Seasons outside the table use the nearest one's numbers.
        scale: The scale factor (1.0 = the real lake).

    Returns:
        ``round(games * scale)``, at least :data:`MIN_GAMES`.
    """
    games, _ = _nearest(season)
    return max(MIN_GAMES, round(games * scale))


def plays_per_game(season: int) -> float:
    """The real mean number of plays per game of a season.

    Args:
        season: The season.

    Returns:
        plays rows / games.
    """
    games, plays = _nearest(season)
    return plays / games


def season_days(season: int) -> tuple[int, int, int]:
    """The playing calendar of a season as day numbers (days since 1970-01-01).

    Args:
        season: The season (ending year).

    Returns:
        ``(first day, first postseason day, last day)``: Nov 1 of ``season-1``, Mar 17 and Apr 7 of
        ``season``.
    """
    first = (dt.date(season - 1, 11, 1) - _EPOCH).days
    post = (dt.date(season, 3, 17) - _EPOCH).days
    last = (dt.date(season, 4, 7) - _EPOCH).days
    return first, post, last


def date_str(day_num: int) -> str:
    """Format a day number as ``YYYY-MM-DD``.

    Args:
        day_num: Days since 1970-01-01.

    Returns:
        The ISO date.
    """
    return (_EPOCH + dt.timedelta(days=int(day_num))).isoformat()

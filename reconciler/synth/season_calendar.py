"""When games are played: day weights over a season, tip-off times, and game notes."""

from __future__ import annotations

import datetime as dt

import numpy as np
from numpy.typing import NDArray

from reconciler.synth import names
from reconciler.synth.scale import season_days

__all__ = ["TIP_SLOTS", "TIP_WEIGHTS", "day_weights", "game_notes"]

#: UTC tip-off times (seconds after midnight); 00:00Z is a 7 pm US-Eastern tip-off, which
#: ``/plays/date`` returns for two days.
TIP_SLOTS = (0, 1800, 3600, 5400, 7200, 10800, 57600, 61200, 64800, 68400, 72000, 75600, 82800, 84600)
TIP_WEIGHTS = (0.20, 0.04, 0.12, 0.03, 0.08, 0.04, 0.05, 0.06, 0.06, 0.08, 0.04, 0.07, 0.10, 0.03)
_ROUNDS = ("First Four", "1st Round", "1st Round", "2nd Round", "2nd Round", "Sweet 16", "Elite 8")
_EPOCH = dt.date(1970, 1, 1)


def day_weights(
    season: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
    """Relative game density per day: busy Saturdays, quiet Christmas, a thinning postseason.

    Args:
        season: The season.

    Returns:
        ``(regular days, their weights, postseason days, their weights)``; days are day numbers.
    """
    first, post, last = season_days(season)
    reg_days = np.arange(first, post, dtype=np.int64)
    reg_w = np.ones(len(reg_days))
    for k, d in enumerate(reg_days.tolist()):
        day = _EPOCH + dt.timedelta(days=d)
        w = {5: 1.9, 6: 0.9, 0: 0.8}.get(day.weekday(), 1.0)
        if day.month == 11 and day.day < 7:
            w *= 0.1
        if day.month == 12 and 22 <= day.day <= 28:
            w *= 0.15
        reg_w[k] = w
    post_days = np.arange(post, last + 1, dtype=np.int64)
    post_w = (1.0 / (1.0 + 0.3 * np.arange(len(post_days)))).astype(np.float64)
    return reg_days, reg_w, post_days, post_w


def game_notes(
    season: int,
    day: NDArray[np.int64],
    post: NDArray[np.bool_],
    tournament: NDArray[np.int64],
    conf_tourney: NDArray[np.bool_],
    early_event: NDArray[np.bool_],
    home_conf: NDArray[np.int64],
    game_id: NDArray[np.int64],
) -> tuple[str | None, ...]:
    """``gameNotes``: tournament rounds, conference tournaments and early-season events.

    Args:
        season: The season.
        day: Day numbers of the games.
        post: Postseason games.
        tournament: 0 NCAA, 1 NIT, -1 none.
        conf_tourney: Conference-tournament games.
        early_event: Early-season neutral-site events.
        home_conf: Home conference index.
        game_id: Game ids.

    Returns:
        One note (or None) per game.
    """
    first_post = season_days(season)[1]
    notes: list[str | None] = []
    for k in range(len(day)):
        if post[k]:
            rnd = min(int(day[k] - first_post) // 3, len(_ROUNDS) - 1)
            label = "Men's Basketball Championship" if tournament[k] == 0 else "NIT"
            notes.append(f"{label} - {_ROUNDS[rnd]}")
        elif conf_tourney[k]:
            notes.append(f"{names.CONFERENCES[int(home_conf[k])][2]} Tournament")
        elif early_event[k]:
            notes.append(f"{names.PLACES[int(game_id[k]) % len(names.PLACES)]} Classic")
        else:
            notes.append(None)
    return tuple(notes)

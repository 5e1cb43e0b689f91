"""A brute-force lineups oracle: units, seconds and points counted second by second.

Independent of :func:`reconciler.lake.lineups.derive_lineups` (which sweeps stint intervals):
here every elapsed second of a game is a bucket holding the stints covering it, so a unit's
rows, seconds and points follow from counting, not from the derivation's own arithmetic.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.lake.lineups import elapsed_seconds

__all__ = ["OracleUnit", "oracle_units", "rows_at", "stint_counts"]


def _elapsed(period: Any, remaining: Any) -> int:
    got = elapsed_seconds(period, remaining)
    assert got is not None, (period, remaining)
    return got


def stint_counts(subs: Sequence[Mapping[str, Any]], team: int, length: int) -> list[Counter[int]]:
    """Per elapsed second, athlete → number of the team's stints covering it."""
    on: list[Counter[int]] = [Counter() for _ in range(length + 1)]
    for s in subs:
        if s["teamId"] != team:
            continue
        start = _elapsed(s["subIn"]["period"], s["subIn"]["secondsRemaining"])
        end = _elapsed(s["subOut"]["period"], s["subOut"]["secondsRemaining"])
        for t in range(start, end):
            on[t][s["athleteId"]] += 1
    return on


def rows_at(counts: Counter[int], id_hash: str) -> int:
    """Range rows of a unit covering one second: one per choice of a covering stint for each member."""
    return math.prod(counts[int(a)] for a in id_hash.split("-"))


#: (total seconds, the team's points, the opponent's points) of one unit.
OracleUnit = tuple[int, int, int]


def oracle_units(
    subs: Sequence[Mapping[str, Any]], plays: Sequence[Mapping[str, Any]]
) -> dict[tuple[int, str], OracleUnit]:
    """Every lineup unit of one game, by (team, idHash), with its seconds and points.

    A unit is a 5-subset of a team's players on court during a second with one of the game's
    plays; its seconds and points sum over seconds the rows its members' stints make there.
    """
    ends = [_elapsed(s["subOut"]["period"], s["subOut"]["secondsRemaining"]) for s in subs]
    ends += [_elapsed(p["period"], p["secondsRemaining"]) for p in plays]
    length = max(ends, default=0)
    teams = sorted({int(s["teamId"]) for s in subs})
    out: dict[tuple[int, str], OracleUnit] = {}
    for team in teams:
        on = stint_counts(subs, team, length)
        units: set[str] = set()
        for p in plays:
            players = sorted(a for a, n in on[_elapsed(p["period"], p["secondsRemaining"])].items() if n > 0)
            units |= {"-".join(map(str, c)) for c in itertools.combinations(players, 5)}
        for h in units:
            seconds = sum(rows_at(on[t], h) for t in range(length))
            own = opp = 0
            for p in plays:
                if p.get("scoringPlay") is not True or p["teamId"] is None:
                    continue
                value = int(p.get("scoreValue") or 0) * rows_at(on[_elapsed(p["period"], p["secondsRemaining"])], h)
                if p["teamId"] == team:
                    own += value
                else:
                    opp += value
            out[(team, h)] = (seconds, own, opp)
    return out

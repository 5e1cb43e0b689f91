"""Derive one game's ``/lineups/game/{gameId}`` response from its substitution stints and plays.

The API builds lineup (five-man unit) records server-side from ``substitution`` and ``play`` rows
(``cbbd_api.md`` §4.7). This module recomputes them, for ONE game, from the two endpoints the lake
already holds: ``/substitutions/game/{gameId}`` (``PlayerSubsititution`` stints, §4.6) and
``/plays/game/{gameId}`` (``PlayInfo``, §4.5). The output has the exact ``LineupStats`` wire shape:
every key of ``LineupStats``, ``LineupUnitStats``, ``ShootingStats``, ``LineupUnitStatsTwoPointers``
and ``LineupUnitStatsFourFactors`` is present; counts are ``int``; rates are ``float`` or ``None``.

Timeline:
    * Elapsed game seconds of ``(period, secondsRemaining)``: period 1 → ``1200 - sr``; period 2 →
      ``2400 - sr``; overtime ``p >= 3`` → ``2400 + (p - 2) * 300 - sr``. Other periods are invalid
      and such stints and plays are skipped.
    * A stint covers the half-open range ``[elapsed(subIn), elapsed(subOut))``; empty or inverted
      stints are skipped. A player whose stints overlap is still one player on court.
    * Per team, the timeline is swept; each maximal interval with exactly five of that team's
      players on court belongs to the unit of those five. Intervals with any other head-count are
      ignored. A unit may recur; its ``totalSeconds`` (``int``) is the sum of its intervals.
    * Boundary convention: a play at elapsed ``t`` belongs to the interval ``[start, end)`` with
      ``start <= t < end``, i.e. a play exactly at a substitution boundary belongs to the interval
      that starts there (the server's ``range @> seconds_elapsed`` on ``[)`` ranges). A play at the
      final buzzer (``t`` equal to the last ``subOut``) belongs to no unit.
    * ``teamStats`` aggregate the unit team's plays inside the unit's intervals; ``opponentStats``
      aggregate plays of any other non-null ``teamId`` there. Team-less plays count for neither.

Stat definitions (each per side; "made" means ``scoringPlay is True``):
    * ``points``: sum of ``scoreValue`` over scoring plays.
    * ``fieldGoals``: plays whose ``playType`` is ``JumpShot``, ``LayUpShot``, ``DunkShot`` or
      ``TipShot`` and whose ``shootingPlay`` is not ``False``.
    * ``threePointers``: field goals whose ``shotInfo.range == 'three_pointer'``.
    * ``twoPointers``: the other field goals, partitioned into ``jumpers`` (``JumpShot``), ``layups``
      (``LayUpShot``), ``dunks`` (``DunkShot``) and ``tipIns`` (``TipShot``).
    * ``freeThrows``: ``MadeFreeThrow`` plays (the type covers misses too).
    * ``assists``: made field goals with ``shotInfo.assisted`` true.
    * ``blocks`` / ``steals``: ``Block Shot`` / ``Steal``. ``turnovers``: ``playType`` containing
      ``Turnover``. ``defensiveRebounds`` / ``offensiveRebounds``: ``Defensive Rebound`` /
      ``Offensive Rebound``.
    * ``possessions`` (the server's approximation): ``Lost Ball Turnover`` and ``Defensive Rebound``
      plays plus scoring plays other than ``MadeFreeThrow``.
    * ``pct`` of a shooting bucket: ``made / attempted * 100``, ``0.0`` when nothing was attempted.
    * ``trueShooting``: ``points / (2 * (fga + 0.44 * fta)) * 100``; ``None`` when the denominator
      is 0 (the server divides unguarded and ``JSON.stringify`` turns NaN/Infinity into ``null``).
    * ``fourFactors``: ``effectiveFieldGoalPct = (fgm + 0.5 * 3pm) / fga * 100``, ``turnoverRatio =
      turnovers / possessions * 100``, ``offensiveReboundPct = orb / (orb + opponent drb) * 100``,
      ``freeThrowRate = fta / fga * 100``; each ``0.0`` when its denominator is 0 (the server guards
      these like ``pct``).
    * ``offenseRating = points / possessions * 100``; ``defenseRating = opponent points / opponent
      possessions * 100`` (the opponent's own possessions, as the server does);
      ``netRating = offenseRating - defenseRating`` from the unrounded ratings. Zero possessions
      give ``None`` (NaN/Infinity on the server), and ``netRating`` is ``None`` if either is.
    * ``pace = possessions * 2400 / totalSeconds`` (team possessions per 40 minutes).
    * Rounding is the server's ``Math.round(x * 1000) / 10`` for ratios (``Math.round(v * 10) / 10``
      for pace): JavaScript half-up rounding to one decimal, not Python's half-to-even.

Record fields and selection:
    * ``teamId``, ``team`` and ``conference`` come from the stint records; ``conferences`` (team id →
      conference abbreviation) overrides the stints' ``conference``. A team with no conference
      yields no records, as the server's inner join on conference membership drops it.
    * ``athletes`` are ``{"name", "id"}`` in ascending id (names from the stints' ``athlete``);
      ``idHash`` is the ascending ids joined by ``-``.
    * Like the server's inner join on ``play``, a unit is emitted only if at least one play (of any
      team, or none) falls in its intervals; its ``totalSeconds`` still counts all its intervals.
    * Records carry no ``gameId``, ``season`` or date; output is sorted by ``(teamId, idHash)``.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

__all__ = ["derivable", "derive_lineups", "elapsed_seconds"]

_FIELD_GOAL_BUCKETS = {"JumpShot": "jumpers", "LayUpShot": "layups", "DunkShot": "dunks", "TipShot": "tipIns"}
_POSSESSION_TYPES = frozenset({"Lost Ball Turnover", "Defensive Rebound"})
_FREE_THROW = "MadeFreeThrow"
_SIMPLE_COUNTS = {
    "Block Shot": "blocks",
    "Steal": "steals",
    "Defensive Rebound": "defensiveRebounds",
    "Offensive Rebound": "offensiveRebounds",
}


def elapsed_seconds(period: Any, seconds_remaining: Any) -> int | None:
    """Return elapsed game seconds for a period and the seconds remaining in it.

    Args:
        period: 1 and 2 are the halves, 3 and up are 5-minute overtimes.
        seconds_remaining: Seconds left in the period.

    Returns:
        The elapsed seconds, or ``None`` if either value is missing or the period is below 1.
    """
    if period is None or seconds_remaining is None or isinstance(period, bool):
        return None
    p, sr = int(period), int(seconds_remaining)
    if p == 1:
        return 1200 - sr
    if p == 2:
        return 2400 - sr
    if p >= 3:
        return 2400 + (p - 2) * 300 - sr
    return None


def derivable(substitutions: Sequence[Mapping[str, Any]], plays: Sequence[Mapping[str, Any]]) -> bool:
    """Tell whether a game's lineups can be derived: both teams have stints and plays exist.

    Args:
        substitutions: The game's ``PlayerSubsititution`` stints.
        plays: The game's ``PlayInfo`` plays.

    Returns:
        True when at least two teams have stints, every ``opponentId`` named by a stint has stints
        of its own, and there is at least one play.
    """
    teams = {s.get("teamId") for s in substitutions} - {None}
    opponents = {s.get("opponentId") for s in substitutions} - {None}
    return bool(plays) and len(teams) >= 2 and opponents <= teams


@dataclass
class _Team:
    name: str
    conference: str | None
    stints: list[tuple[int, int, int]] = field(default_factory=list)  # (start, end, athleteId)


def _stint_span(stint: Mapping[str, Any]) -> tuple[int, int] | None:
    sub_in, sub_out = stint.get("subIn") or {}, stint.get("subOut") or {}
    start = elapsed_seconds(sub_in.get("period"), sub_in.get("secondsRemaining"))
    end = elapsed_seconds(sub_out.get("period"), sub_out.get("secondsRemaining"))
    if start is None or end is None or end <= start:
        return None
    return start, end


def _five_man_intervals(stints: Sequence[tuple[int, int, int]]) -> dict[tuple[int, ...], list[tuple[int, int]]]:
    """Sweep one team's stints; map each five-man unit (ascending ids) to its maximal intervals."""
    deltas: dict[int, Counter[int]] = {}
    for start, end, athlete in stints:
        deltas.setdefault(start, Counter())[athlete] += 1
        deltas.setdefault(end, Counter())[athlete] -= 1
    on_court: Counter[int] = Counter()
    units: dict[tuple[int, ...], list[tuple[int, int]]] = {}
    times = sorted(deltas)
    for t, nxt in pairwise(times):
        on_court.update(deltas[t])
        players = tuple(sorted(a for a, n in on_court.items() if n > 0))
        if len(players) != 5:
            continue
        spans = units.setdefault(players, [])
        if spans and spans[-1][1] == t:
            spans[-1] = (spans[-1][0], nxt)
        else:
            spans.append((t, nxt))
    return units


def _tally(plays: Sequence[Mapping[str, Any]]) -> Counter[str]:
    """Count one side's events over its plays."""
    c: Counter[str] = Counter()
    for play in plays:
        kind = str(play.get("playType") or "")
        made = play.get("scoringPlay") is True
        shot = play.get("shotInfo") or {}
        if made:
            c["points"] += int(play.get("scoreValue") or 0)
        if kind in _POSSESSION_TYPES or (made and kind != _FREE_THROW):
            c["possessions"] += 1
        if kind in _SIMPLE_COUNTS:
            c[_SIMPLE_COUNTS[kind]] += 1
        if "Turnover" in kind:
            c["turnovers"] += 1
        if kind == _FREE_THROW:
            c["fta"] += 1
            c["ftm"] += made
        elif kind in _FIELD_GOAL_BUCKETS and play.get("shootingPlay") is not False:
            bucket = "three" if shot.get("range") == "three_pointer" else _FIELD_GOAL_BUCKETS[kind]
            for key in ("fg", bucket):
                c[key + "a"] += 1
                c[key + "m"] += made
            c["assists"] += int(made and shot.get("assisted") is True)
    return c


def _js_round(x: float) -> float:
    """JavaScript ``Math.round``: round half up (towards +inf)."""
    floor = math.floor(x)
    return float(floor + 1 if x - floor >= 0.5 else floor)


def _tenths(value: float) -> float | None:
    """Round an already-scaled value (``x * 1000``) to tenths like ``Math.round(v) / 10``."""
    if not math.isfinite(value):
        return None
    return _js_round(value) / 10 + 0.0  # + 0.0 turns -0.0 into 0.0, as JSON.stringify(-0) is "0"


def _ratio(num: float, den: float) -> float | None:
    """``num / den`` as a 0-100 figure with one decimal; ``None`` where JS gives NaN/Infinity."""
    if den == 0:
        return None
    return _tenths(num / den * 1000)


def _guarded(num: float, den: float) -> float:
    """Like `_ratio`, but 0.0 when the denominator is 0 (the server's guarded percentages)."""
    value = _ratio(num, den)
    return 0.0 if value is None else value


def _shooting(c: Counter[str], key: str) -> dict[str, Any]:
    made, attempted = c[key + "m"], c[key + "a"]
    return {"made": made, "attempted": attempted, "pct": _guarded(made, attempted)}


def _unit_stats(c: Counter[str], other: Counter[str]) -> dict[str, Any]:
    """Build one ``LineupUnitStats`` object; ``other`` is the opposing side (for rebound share)."""
    fgm, fga, fta = c["fgm"], c["fga"], c["fta"]
    two = {"made": fgm - c["threem"], "attempted": fga - c["threea"]}
    return {
        "possessions": c["possessions"],
        "points": c["points"],
        "blocks": c["blocks"],
        "assists": c["assists"],
        "steals": c["steals"],
        "turnovers": c["turnovers"],
        "defensiveRebounds": c["defensiveRebounds"],
        "offensiveRebounds": c["offensiveRebounds"],
        "trueShooting": _ratio(c["points"], 2 * (fga + 0.44 * fta)),
        "fieldGoals": _shooting(c, "fg"),
        "twoPointers": {
            **two,
            "pct": _guarded(two["made"], two["attempted"]),
            **{name: _shooting(c, name) for name in _FIELD_GOAL_BUCKETS.values()},
        },
        "threePointers": _shooting(c, "three"),
        "freeThrows": _shooting(c, "ft"),
        "fourFactors": {
            "freeThrowRate": _guarded(fta, fga),
            "offensiveReboundPct": _guarded(
                c["offensiveRebounds"], c["offensiveRebounds"] + other["defensiveRebounds"]
            ),
            "turnoverRatio": _guarded(c["turnovers"], c["possessions"]),
            "effectiveFieldGoalPct": _guarded(fgm + 0.5 * c["threem"], fga),
        },
    }


def _record(
    team_id: int,
    team: _Team,
    names: Mapping[int, str],
    members: tuple[int, ...],
    seconds: int,
    own: Counter[str],
    opp: Counter[str],
) -> dict[str, Any]:
    """Assemble one ``LineupStats`` record."""
    points, poss = own["points"], own["possessions"]
    opp_points, opp_poss = opp["points"], opp["possessions"]
    offense, defense = _ratio(points, poss), _ratio(opp_points, opp_poss)
    net = None if offense is None or defense is None else _tenths(points / poss * 1000 - opp_points / opp_poss * 1000)
    return {
        "teamId": team_id,
        "team": team.name,
        "conference": team.conference,
        "idHash": "-".join(str(a) for a in members),
        "athletes": [{"name": names.get(a, ""), "id": a} for a in members],
        "totalSeconds": seconds,
        "pace": None if seconds == 0 else _tenths(poss * 2400 / seconds * 10),
        "offenseRating": offense,
        "defenseRating": defense,
        "netRating": net,
        "teamStats": _unit_stats(own, opp),
        "opponentStats": _unit_stats(opp, own),
    }


def _teams(
    substitutions: Sequence[Mapping[str, Any]], conferences: Mapping[int, str] | None
) -> tuple[dict[int, _Team], dict[int, str]]:
    """Group usable stints by team; collect athlete names."""
    teams: dict[int, _Team] = {}
    names: dict[int, str] = {}
    for stint in substitutions:
        team_id, athlete = stint.get("teamId"), stint.get("athleteId")
        if team_id is None or athlete is None:
            continue
        team = teams.setdefault(int(team_id), _Team(str(stint.get("team") or ""), stint.get("conference")))
        if team.conference is None and stint.get("conference") is not None:
            team.conference = stint.get("conference")
        names.setdefault(int(athlete), str(stint.get("athlete") or ""))
        span = _stint_span(stint)
        if span is not None:
            team.stints.append((span[0], span[1], int(athlete)))
    for team_id, team in teams.items():
        if conferences is not None and team_id in conferences:
            team.conference = conferences[team_id]
    return teams, names


def derive_lineups(
    substitutions: Sequence[Mapping[str, Any]],
    plays: Sequence[Mapping[str, Any]],
    *,
    conferences: Mapping[int, str] | None = None,
) -> list[dict[str, Any]]:
    """Compute one game's ``/lineups/game/{gameId}`` records from its stints and plays.

    See the module docstring for the timeline, boundary and stat conventions.

    Args:
        substitutions: The game's ``PlayerSubsititution`` stints (both teams).
        plays: The game's ``PlayInfo`` plays (both teams), in any order.
        conferences: Optional team id → conference abbreviation, overriding the stints' values.

    Returns:
        ``LineupStats`` wire records for both teams, sorted by ``(teamId, idHash)``; ``[]`` when
        there are no substitutions.
    """
    if not substitutions:
        return []
    teams, names = _teams(substitutions, conferences)
    elapsed = [elapsed_seconds(p.get("period"), p.get("secondsRemaining")) for p in plays]
    timed = sorted(((t, i) for i, t in enumerate(elapsed) if t is not None), key=lambda pair: pair[0])
    times = [t for t, _ in timed]
    records: list[dict[str, Any]] = []
    for team_id in sorted(teams):
        team = teams[team_id]
        if team.conference is None:
            continue
        for members, spans in _five_man_intervals(team.stints).items():
            inside = [
                plays[i] for start, end in spans for _, i in timed[bisect_left(times, start) : bisect_left(times, end)]
            ]
            if not inside:
                continue
            own = _tally([p for p in inside if p.get("teamId") == team_id])
            opp = _tally([p for p in inside if p.get("teamId") not in (None, team_id)])
            seconds = sum(end - start for start, end in spans)
            records.append(_record(team_id, team, names, members, seconds, own, opp))
    records.sort(key=lambda r: (r["teamId"], r["idHash"]))
    return records

"""Derive one game's ``/lineups/game/{gameId}`` response from its substitution stints and plays.

The API builds lineup (five-man unit) records server-side from ``substitution`` and ``play`` rows
(``cbbd_api.md`` §4.7). This module recomputes them, for ONE game, from the two endpoints the lake
already holds: ``/substitutions/game/{gameId}`` (``PlayerSubsititution`` stints, §4.6) and
``/plays/game/{gameId}`` (``PlayInfo``, §4.5), following the server's code rule for rule.

Source read (public repository ``CFBD/cbb-api``; the repository has no tags, so commits are cited):
    * ``src/app/lineups/service.ts`` @ ``2c59a46dda4f4f1a9c4958e39d675828165d619b``: the SQL (Kysely)
      and the JS mapping replicated here. It is the version whose assist filter has both ``LIKE``
      patterns; an earlier stored version (``6450d252…``) has only ``'% assisted by %'``.
    * ``src/config/database.ts`` @ ``c34652df8f4ada7591b1693eab54faf642acb76a``: ``INT8`` and ``NUMERIC``
      are parsed to JS numbers, so the ``result.x ? … : 0`` guards below see ``0``, not ``"0"``.
    * ``src/app/plays/service.ts`` @ ``d9175988765a40461871c13d2c133e5ba9681da8``: the elapsed-seconds
      ``CASE`` (used for ``onFloor``) and the wire ``shootingPlay`` (forced true for ``MadeFreeThrow``).

Units (the ``ranges`` CTE):
    * Elapsed seconds of ``(period, secondsRemaining)`` use the server's ``CASE``: period 1 → ``1200 - sr``;
      period 2 → ``2400 - sr``; any other period → ``2400 + (period - 2) * 300 - sr``.
    * A stint's ``time_range`` is taken as the half-open ``[elapsed(subIn), elapsed(subOut))`` (the
      default bounds of ``numrange(lo, hi)``). Stints with a missing end, or ``lo >= hi`` (an empty
      range overlaps nothing) are skipped.
    * A range row is every combination of five stints of one team, with strictly increasing
      ``athleteId`` (``s2.athleteId > s1.athleteId`` …), whose ranges share a non-empty intersection
      (``&&`` against the running ``*`` product). The row's range is that intersection. So six
      players on court for a stretch give six units there, and a player's five-way overlap is not cut
      by a sixth player coming on. There is no head-count condition at all.
    * Rows are per STINT combination, not per player: a player with two overlapping stints (dirty
      data) yields two rows, and plays inside both are counted twice, as the server does.
    * ``idHash`` is the five ids ascending, joined by ``-``. ``totalSeconds`` is the sum of
      ``upper - lower`` over ALL rows with that ``idHash`` (the correlated ``r2`` subquery), including
      rows that hold no play.
    * The ``conferenceTeam`` inner join drops every row of a team without a conference. Multiple
      matching membership rows would duplicate rows on the server; one conference per team is assumed.

Plays (the join ``ranges.timeRange @> play.seconds_elapsed``):
    * A play at elapsed ``t`` belongs to a row with ``lower <= t < upper``: a play exactly at a
      substitution boundary belongs to the row that starts there; a play at the end of the last
      stint belongs to none.
    * A unit is emitted only if at least one play (of any team, or none) falls in one of its rows.
    * ``teamStats`` filter on ``play.teamId = ranges.teamId``; ``opponentStats`` on ``<>`` (any other
      non-null team). Team-less plays count for neither (SQL ``NULL`` comparisons) but still make the
      unit exist.

Counts (per side, over the plays of that side in the unit's rows; "made" is ``scoringPlay = true``,
"shooting" is ``shootingPlay = true``):
    * ``possessions``: ``Lost Ball Turnover`` or ``Defensive Rebound``, or made and not ``MadeFreeThrow``.
    * ``points``: sum of ``scoreValue`` over made plays (``NULL`` sums to 0 via ``Number(null)``).
    * ``fieldGoals``: shooting with ``scoreValue >= 2``. ``twoPointers``: shooting with ``scoreValue = 2``.
    * ``threePointers``: ``JumpShot`` with ``scoreValue = 3``; ``jumpers``: ``JumpShot`` with
      ``scoreValue = 2`` (neither requires ``shootingPlay``). ``layups`` / ``dunks`` / ``tipIns``:
      ``LayUpShot`` / ``DunkShot`` / ``TipShot`` by type alone. ``freeThrows``: ``MadeFreeThrow``
      (misses included). ``shotInfo`` (and its ``range``) is not used.
    * ``assists``: shooting plays, made or missed, whose lower-cased ``playText`` contains
      ``' assisted by '`` or ``' assists)'`` (``LIKE '% assisted by %'`` / ``'% assists)%'``; the
      leading space is required).
    * ``turnovers``: ``Lost Ball Turnover`` only. ``blocks`` / ``steals``: ``Block Shot`` / ``Steal``.
      ``defensiveRebounds`` / ``offensiveRebounds``: ``Defensive Rebound`` / ``Offensive Rebound``.

Rates (JS ``Number`` arithmetic, evaluated in the server's operation order; ``Math.round`` is
half-up towards +∞, replicated exactly; a NaN/±Infinity result becomes ``None``, as
``JSON.stringify`` writes ``null``; ``-0`` becomes ``0.0``):
    * ``pct``: ``attempted ? round(made / attempted * 1000) / 10 : 0``.
    * ``trueShooting``: ``round(points / (2 * (fga + 0.44 * fta)) * 1000) / 10``, unguarded.
    * ``effectiveFieldGoalPct``: ``round(1000 * (fgm + 0.5 * threesMade) / fga) / 10``. The guard is
      ``fieldGoalsMade`` for ``teamStats`` but ``oppFieldGoalsAttempted`` for ``opponentStats`` (the
      server's asymmetry, replicated on purpose).
    * ``turnoverRatio``: ``possessions ? round(100 * (turnovers / possessions)) / 100 : 0``: a 0–1
      fraction with two decimals.
    * ``offensiveReboundPct``: ``orb ? round(1000 * (orb / (drb | orb))) / 10 : 0`` with the SAME side's
      ``drb`` and a JS bitwise OR (``ToInt32`` operands). Replicated on purpose: it is what the server
      computes, not a rebound share (``drb=2, orb=2`` gives ``100.0``).
    * ``freeThrowRate``: ``fga ? round(1000 * (fta / fga)) / 10 : 0``.
    * ``offenseRating = round(points / possessions * 1000) / 10``; ``defenseRating`` the same with
      the opponent's points and possessions; ``netRating = round(off * 1000 - def * 1000) / 10`` from
      the unrounded quotients. Unguarded: zero possessions give ``None``.
    * ``pace = round((possessions + oppPossessions) / (totalSeconds * 2 / 60) * 400) / 10``: both
      teams' possessions averaged, per 40 minutes.

Record fields, types and order:
    * ``teamId``, ``team`` and ``conference`` come from the stints; ``conferences`` (team id →
      abbreviation) overrides the stints' ``conference``. ``athletes`` are ``{"id", "name"}``
      (``jsonArrayFrom`` column order) in ascending id; names from the stints' ``athlete``.
    * Keys are emitted in the server's object-literal order. Counts and ``totalSeconds`` are ``int``;
      rates are ``float`` (or ``None`` where the server yields NaN/Infinity).
    * Order: ``ORDER BY duration DESC``. Postgres leaves ties unordered; they are broken here by
      ``teamId`` then ``idHash`` (string) ascending, a documented, deterministic choice.

Not replicable from the two endpoints (documented, not guessed around):
    * The wire ``shootingPlay`` of a ``MadeFreeThrow`` is forced ``true`` by the plays endpoint, so the
      database value is unknown; free throws are treated as non-shooting here. It only matters for a
      free throw with ``scoreValue >= 2`` or an assist phrase in its text.
    * Postgres ``lower()`` follows the database collation; Python ``str.lower`` is used (same on ASCII).
    * Stints of athletes missing from ``athlete`` never reach ``/substitutions`` (inner join) but do
      reach the server's ``ranges``; such units cannot be rebuilt.
    * Records carry no ``gameId``, ``season`` or date (the server's don't either).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

__all__ = ["derive_lineups", "elapsed_seconds", "stat_counts", "sum_lineups"]

_FREE_THROW = "MadeFreeThrow"
_JUMP_SHOT = "JumpShot"
_POSSESSION_TYPES = frozenset({"Lost Ball Turnover", "Defensive Rebound"})
_TYPE_COUNTS = {
    "Block Shot": "blocks",
    "Steal": "steals",
    "Lost Ball Turnover": "turnovers",
    "Defensive Rebound": "defensiveRebounds",
    "Offensive Rebound": "offensiveRebounds",
}
_RIM_BUCKETS = {"TipShot": "tip", "DunkShot": "dunk", "LayUpShot": "layup"}
_ASSIST_PHRASES = (" assisted by ", " assists)")


def elapsed_seconds(period: Any, seconds_remaining: Any) -> int | None:
    """Return elapsed game seconds for a period and the seconds remaining in it (the server's CASE).

    Args:
        period: 1 and 2 are the halves; any other period uses the overtime branch
            ``2400 + (period - 2) * 300 - sr`` (as the server's ``ELSE`` does).
        seconds_remaining: Seconds left in the period.

    Returns:
        The elapsed seconds, or ``None`` if either value is missing.
    """
    if period is None or seconds_remaining is None or isinstance(period, bool):
        return None
    p, sr = int(period), int(seconds_remaining)
    if p == 1:
        return 1200 - sr
    if p == 2:
        return 2400 - sr
    return 2400 + (p - 2) * 300 - sr


@dataclass
class _Team:
    name: str
    conference: str | None
    stints: list[tuple[int, int, int]] = field(default_factory=list)  # (athleteId, lower, upper)


def _stint_range(stint: Mapping[str, Any]) -> tuple[int, int] | None:
    sub_in, sub_out = stint.get("subIn") or {}, stint.get("subOut") or {}
    lower = elapsed_seconds(sub_in.get("period"), sub_in.get("secondsRemaining"))
    upper = elapsed_seconds(sub_out.get("period"), sub_out.get("secondsRemaining"))
    if lower is None or upper is None or upper <= lower:
        return None
    return lower, upper


def _range_rows(stints: Sequence[tuple[int, int, int]]) -> list[tuple[tuple[int, ...], int, int]]:
    """Build the ``ranges`` CTE rows of one team as ``(athlete ids, lower, upper)``.

    Every combination of five stints with strictly ascending athlete ids whose ranges share a
    non-empty intersection; the row's range is that intersection. A combination's intersection
    starts at its latest start, where all five are on: so each is found once, among the stints
    on at that start, with at least one of them starting there (a sweep over the starts, instead
    of extending partial combinations; the rows come out in another order, which nothing uses).
    """
    ordered = sorted(stints)
    rows: list[tuple[tuple[int, ...], int, int]] = []
    for start in sorted({lo for _, lo, _ in ordered}):
        on = [s for s in ordered if s[1] <= start < s[2]]
        if len(on) < 5:
            continue
        for combo in combinations(on, 5):
            athletes = tuple(a for a, _, _ in combo)
            if any(athletes[k] >= athletes[k + 1] for k in range(4)):
                continue  # a player's two stints, or the same ids in another order
            if max(lo for _, lo, _ in combo) != start:
                continue  # found at its own latest start
            rows.append((athletes, start, min(hi for _, _, hi in combo)))
    return rows


def _score_value(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _count(c: Counter[str], play: Mapping[str, Any]) -> None:
    """Add one play's contributions to one side's counters (the SQL ``FILTER`` clauses)."""
    kind = play.get("playType")
    made = play.get("scoringPlay") is True
    shooting = play.get("shootingPlay") is True and kind != _FREE_THROW
    value = _score_value(play.get("scoreValue"))
    if kind in _POSSESSION_TYPES or (made and kind != _FREE_THROW):
        c["possessions"] += 1
    if made and value is not None:
        c["points"] += value
    if isinstance(kind, str) and kind in _TYPE_COUNTS:
        c[_TYPE_COUNTS[kind]] += 1
    bucket = None
    if kind == _FREE_THROW:
        bucket = "ft"
    elif isinstance(kind, str) and kind in _RIM_BUCKETS:
        bucket = _RIM_BUCKETS[kind]
    elif kind == _JUMP_SHOT and value in (2, 3):
        bucket = "jumper" if value == 2 else "three"
    if bucket is not None:
        c[bucket + "A"] += 1
        c[bucket + "M"] += made
    if shooting and value is not None and value >= 2:
        c["fgA"] += 1
        c["fgM"] += made
        if value == 2:
            c["twoA"] += 1
            c["twoM"] += made
    text = play.get("playText")
    if shooting and isinstance(text, str) and any(phrase in text.lower() for phrase in _ASSIST_PHRASES):
        c["assists"] += 1


# ---------------------------------------------------------------------------- JS arithmetic
def _div(num: float, den: float) -> float:
    """JS ``num / den``: division by zero gives NaN or ±Infinity instead of raising."""
    if den == 0:
        if num == 0 or math.isnan(num):
            return math.nan
        return math.copysign(math.inf, num) * math.copysign(1.0, den)
    return num / den


def _js_round(x: float) -> float:
    """JS ``Math.round``: nearest integer, ties towards +Infinity; NaN/Infinity pass through."""
    if not math.isfinite(x):
        return x
    if -0.5 <= x < 0:
        return -0.0
    floor = math.floor(x)
    return float(floor + 1 if x - floor >= 0.5 else floor)  # x - floor is exact outside (-0.5, 0)


def _js_value(x: float) -> float | None:
    """What ``JSON.stringify`` makes of a number: NaN/Infinity → ``None``, ``-0`` → ``0``."""
    return x + 0.0 if math.isfinite(x) else None


def _round_tenths(x: float) -> float | None:
    """``Math.round(x) / 10``."""
    return _js_value(_js_round(x) / 10)


def _to_int32(x: float) -> int:
    """ECMAScript ``ToInt32``."""
    if not math.isfinite(x):
        return 0
    n = math.trunc(x) % 2**32
    return n - 2**32 if n >= 2**31 else n


def _js_bitor(a: float, b: float) -> int:
    """JS ``a | b`` on numbers."""
    return _to_int32(a) | _to_int32(b)


def _shooting(made: int, attempted: int) -> dict[str, Any]:
    pct = _round_tenths(_div(made, attempted) * 1000) if attempted else 0.0
    return {"made": made, "attempted": attempted, "pct": pct}


def _unit_stats(c: Counter[str], *, team_side: bool) -> dict[str, Any]:
    """One ``LineupUnitStats`` object, keys in the server's order."""
    points, poss = c["points"], c["possessions"]
    fgm, fga, fta = c["fgM"], c["fgA"], c["ftA"]
    orb, drb = c["offensiveRebounds"], c["defensiveRebounds"]
    efg_guard = fgm if team_side else fga  # the server's asymmetric guard
    return {
        "points": points,
        "possessions": poss,
        "assists": c["assists"],
        "steals": c["steals"],
        "turnovers": c["turnovers"],
        "blocks": c["blocks"],
        "defensiveRebounds": drb,
        "offensiveRebounds": orb,
        "trueShooting": _round_tenths(_div(points, 2 * (fga + 0.44 * fta)) * 1000),
        "fieldGoals": _shooting(fgm, fga),
        "freeThrows": _shooting(c["ftM"], fta),
        "twoPointers": {
            **_shooting(c["twoM"], c["twoA"]),
            "tipIns": _shooting(c["tipM"], c["tipA"]),
            "dunks": _shooting(c["dunkM"], c["dunkA"]),
            "layups": _shooting(c["layupM"], c["layupA"]),
            "jumpers": _shooting(c["jumperM"], c["jumperA"]),
        },
        "threePointers": _shooting(c["threeM"], c["threeA"]),
        "fourFactors": {
            "effectiveFieldGoalPct": (_round_tenths(_div(1000 * (fgm + 0.5 * c["threeM"]), fga)) if efg_guard else 0.0),
            "turnoverRatio": _js_value(_js_round(100 * _div(c["turnovers"], poss)) / 100) if poss else 0.0,
            "offensiveReboundPct": _round_tenths(1000 * _div(orb, _js_bitor(drb, orb))) if orb else 0.0,
            "freeThrowRate": _round_tenths(1000 * _div(fta, fga)) if fga else 0.0,
        },
    }


def _record(
    team_id: int,
    team: _Team,
    names: Mapping[int, str],
    members: tuple[int, ...],
    duration: int,
    own: Counter[str],
    opp: Counter[str],
) -> dict[str, Any]:
    """Assemble one ``LineupStats`` record, keys in the server's order."""
    offense = _div(own["points"], own["possessions"]) * 1000
    defense = _div(opp["points"], opp["possessions"]) * 1000
    pace = _div(own["possessions"] + opp["possessions"], (duration * 2) / 60) * 400
    return {
        "teamId": team_id,
        "team": team.name,
        "conference": team.conference,
        "idHash": "-".join(str(a) for a in members),
        "athletes": [{"id": a, "name": names.get(a, "")} for a in members],
        "totalSeconds": duration,
        "pace": _round_tenths(pace),
        "offenseRating": _round_tenths(offense),
        "defenseRating": _round_tenths(defense),
        "netRating": _round_tenths(offense - defense),
        "teamStats": _unit_stats(own, team_side=True),
        "opponentStats": _unit_stats(opp, team_side=False),
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
        span = _stint_range(stint)
        if span is not None:
            team.stints.append((int(athlete), span[0], span[1]))
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

    See the module docstring for the server rules replicated and the source they were read from.

    Args:
        substitutions: The game's ``PlayerSubsititution`` stints (both teams).
        plays: The game's ``PlayInfo`` plays (both teams), in any order.
        conferences: Optional team id → conference abbreviation, overriding the stints' values.

    Returns:
        ``LineupStats`` wire records for both teams, longest ``totalSeconds`` first (ties by
        ``teamId``, then ``idHash``); ``[]`` when there are no substitutions.
    """
    if not substitutions:
        return []
    teams, names = _teams(substitutions, conferences)
    timed = sorted(
        (t, i)
        for i, p in enumerate(plays)
        if (t := elapsed_seconds(p.get("period"), p.get("secondsRemaining"))) is not None
    )
    times = [t for t, _ in timed]
    effects: dict[int, tuple[tuple[str, int], ...]] = {}  # a play's contributions (_count), once per play
    for _, i in timed:
        c: Counter[str] = Counter()
        _count(c, plays[i])
        effects[i] = tuple(c.items())
    durations: Counter[str] = Counter()  # the r2 subquery: keyed by idHash alone
    groups: dict[tuple[int, str], tuple[tuple[int, ...], Counter[str], Counter[str]]] = {}
    for team_id in sorted(teams):
        if teams[team_id].conference is None:
            continue  # the conferenceTeam inner join
        for members, lower, upper in _range_rows(teams[team_id].stints):
            id_hash = "-".join(str(a) for a in members)
            durations[id_hash] += upper - lower
            inside = timed[bisect_left(times, lower) : bisect_left(times, upper)]
            if not inside:
                continue
            _, own, opp = groups.setdefault((team_id, id_hash), (members, Counter(), Counter()))
            for _, i in inside:
                play_team = plays[i].get("teamId")
                if play_team is not None:
                    side = own if play_team == team_id else opp
                    for key, inc in effects[i]:
                        side[key] += inc
    records = [
        _record(team_id, teams[team_id], names, members, durations[id_hash], own, opp)
        for (team_id, id_hash), (members, own, opp) in groups.items()
    ]
    records.sort(key=lambda r: (-r["totalSeconds"], r["teamId"], r["idHash"]))
    return records


#: Wire ``LineupUnitStats`` paths of the counts :func:`_unit_stats` reads, by counter key.
_COUNT_PATHS: dict[str, tuple[str, ...]] = {
    "points": ("points",),
    "possessions": ("possessions",),
    "assists": ("assists",),
    "steals": ("steals",),
    "turnovers": ("turnovers",),
    "blocks": ("blocks",),
    "defensiveRebounds": ("defensiveRebounds",),
    "offensiveRebounds": ("offensiveRebounds",),
    "fgM": ("fieldGoals", "made"),
    "fgA": ("fieldGoals", "attempted"),
    "ftM": ("freeThrows", "made"),
    "ftA": ("freeThrows", "attempted"),
    "twoM": ("twoPointers", "made"),
    "twoA": ("twoPointers", "attempted"),
    "tipM": ("twoPointers", "tipIns", "made"),
    "tipA": ("twoPointers", "tipIns", "attempted"),
    "dunkM": ("twoPointers", "dunks", "made"),
    "dunkA": ("twoPointers", "dunks", "attempted"),
    "layupM": ("twoPointers", "layups", "made"),
    "layupA": ("twoPointers", "layups", "attempted"),
    "jumperM": ("twoPointers", "jumpers", "made"),
    "jumperA": ("twoPointers", "jumpers", "attempted"),
    "threeM": ("threePointers", "made"),
    "threeA": ("threePointers", "attempted"),
}


def stat_counts(stats: Mapping[str, Any] | None) -> Counter[str]:
    """The counting stats of a ``LineupUnitStats`` wire object (absent or null counts are 0).

    Args:
        stats: A record's ``teamStats`` or ``opponentStats``.

    Returns:
        The counts, keyed as the derivation keeps them.
    """
    out: Counter[str] = Counter()
    for key, path in _COUNT_PATHS.items():
        node: Any = stats or {}
        for part in path:
            node = node.get(part) if isinstance(node, Mapping) else None
        out[key] = int(node or 0)
    return out


def sum_lineups(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Merge per-game ``LineupStats`` records into one per team and unit (the simulator's ``/lineups/team``).

    The server computes a window's units with the same query as a game's, over more games: the
    counts of a unit add up, and every rate is derived again from the sums, by the same rules as
    :func:`derive_lineups`. One difference is known and kept: the server sums a unit's seconds
    over all its rows, also in games where it had no play (so no per-game record), which per-game
    records cannot see; ``totalSeconds`` and ``pace`` can therefore be lower here.

    Args:
        records: Per-game records (any order).

    Returns:
        One record per (``teamId``, ``idHash``), longest ``totalSeconds`` first (ties by ``teamId``,
        then ``idHash``), as :func:`derive_lineups` orders a game's.
    """
    groups: dict[tuple[int, str], tuple[Mapping[str, Any], list[int], Counter[str], Counter[str]]] = {}
    for rec in records:
        key = (int(rec["teamId"]), str(rec["idHash"]))
        first, seconds, own, opp = groups.setdefault(key, (rec, [0], Counter(), Counter()))
        seconds[0] += int(rec.get("totalSeconds") or 0)
        own.update(stat_counts(rec.get("teamStats")))
        opp.update(stat_counts(rec.get("opponentStats")))
    out = []
    for (team_id, _), (first, seconds, own, opp) in groups.items():
        members = tuple(int(a["id"]) for a in first["athletes"])
        names = {int(a["id"]): str(a.get("name") or "") for a in first["athletes"]}
        team = _Team(str(first.get("team") or ""), first.get("conference"))
        out.append(_record(team_id, team, names, members, seconds[0], own, opp))
    out.sort(key=lambda r: (-r["totalSeconds"], r["teamId"], r["idHash"]))
    return out

"""Lineup statistics: building LineupStats records from counts, and aggregating them across games.

``/lineups/team`` returns one record per five-man unit for the season or date window, so the
simulator sums the counting stats of a unit's per-game records and recomputes the derived ones
(percentages on a 0-100 scale, ratings per 100 possessions, pace per 40 minutes). A unit with no
possessions or attempts gets 0 where the real server would emit ``NaN``/``null``
(cbbd_api.md §4.7): the SDK declares those fields non-nullable and would reject a null.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["COUNT_KEYS", "aggregate_lineups", "lineup_record", "read_counts", "unit_stats"]

_INT_FIELDS = (
    "possessions",
    "points",
    "blocks",
    "assists",
    "steals",
    "turnovers",
    "defensiveRebounds",
    "offensiveRebounds",
)
_SHOT_GROUPS = (
    "fieldGoals",
    "twoPointers",
    "threePointers",
    "freeThrows",
    "twoPointers.jumpers",
    "twoPointers.layups",
    "twoPointers.dunks",
    "twoPointers.tipIns",
)
COUNT_KEYS: tuple[str, ...] = _INT_FIELDS + tuple(
    f"{group}.{part}" for group in _SHOT_GROUPS for part in ("made", "attempted")
)
"""The flat counting stats of a LineupUnitStats object, e.g. ``twoPointers.dunks.made``."""


def _pct(made: float, attempted: float) -> float:
    return round(made / attempted * 100, 1) if attempted else 0


def _ratio(num: float, den: float, scale: float = 100.0) -> float:
    return round(num / den * scale, 1) if den else 0.0


def read_counts(stats: Mapping[str, Any]) -> dict[str, int]:
    """The counting stats of a LineupUnitStats wire object, flattened by :data:`COUNT_KEYS`.

    Args:
        stats: A ``teamStats`` or ``opponentStats`` object.

    Returns:
        Each count key with its integer value (0 when absent or null).
    """
    out: dict[str, int] = {}
    for key in COUNT_KEYS:
        node: Any = stats
        for part in key.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        out[key] = int(node or 0)
    return out


def _shooting(counts: Mapping[str, int], group: str) -> dict[str, Any]:
    made, attempted = counts[f"{group}.made"], counts[f"{group}.attempted"]
    return {"made": made, "attempted": attempted, "pct": _pct(made, attempted)}


def unit_stats(counts: Mapping[str, int], opponent: Mapping[str, int]) -> dict[str, Any]:
    """A LineupUnitStats wire object from counts.

    Args:
        counts: This side's counts, keyed by :data:`COUNT_KEYS` (missing keys count 0).
        opponent: The other side's counts (for the offensive rebound percentage).

    Returns:
        The object, with derived percentages recomputed.
    """
    c = {key: int(counts.get(key, 0)) for key in COUNT_KEYS}
    fga, fgm = c["fieldGoals.attempted"], c["fieldGoals.made"]
    fta = c["freeThrows.attempted"]
    oreb_chances = c["offensiveRebounds"] + int(opponent.get("defensiveRebounds", 0))
    two = _shooting(c, "twoPointers")
    for sub in ("jumpers", "layups", "dunks", "tipIns"):
        two[sub] = _shooting(c, f"twoPointers.{sub}")
    stats: dict[str, Any] = {key: c[key] for key in _INT_FIELDS}
    stats["trueShooting"] = _ratio(c["points"], 2 * (fga + 0.44 * fta))
    stats["fieldGoals"] = _shooting(c, "fieldGoals")
    stats["twoPointers"] = two
    stats["threePointers"] = _shooting(c, "threePointers")
    stats["freeThrows"] = _shooting(c, "freeThrows")
    stats["fourFactors"] = {
        "freeThrowRate": _ratio(fta, fga),
        "offensiveReboundPct": _ratio(c["offensiveRebounds"], oreb_chances),
        "turnoverRatio": _ratio(c["turnovers"], c["possessions"]),
        "effectiveFieldGoalPct": _ratio(fgm + 0.5 * c["threePointers.made"], fga),
    }
    return stats


def lineup_record(
    *,
    team_id: int,
    team: str,
    conference: str,
    athletes: Sequence[Mapping[str, Any]],
    total_seconds: float,
    counts: Mapping[str, int],
    opponent_counts: Mapping[str, int],
) -> dict[str, Any]:
    """A LineupStats wire record.

    Args:
        team_id: The unit's team id.
        team: The unit's school name.
        conference: The team's conference abbreviation.
        athletes: The five ``{"name", "id"}`` athletes.
        total_seconds: Seconds the unit played.
        counts: The unit's own counts.
        opponent_counts: The opponents' counts while the unit was on the floor.

    Returns:
        The record; ``idHash`` is the ascending athlete ids joined by ``-``.
    """
    people = sorted(({"name": a["name"], "id": int(a["id"])} for a in athletes), key=lambda a: a["id"])
    poss, opp_poss = int(counts.get("possessions", 0)), int(opponent_counts.get("possessions", 0))
    offense = _ratio(int(counts.get("points", 0)), poss)
    defense = _ratio(int(opponent_counts.get("points", 0)), opp_poss)
    return {
        "teamId": team_id,
        "team": team,
        "conference": conference,
        "idHash": "-".join(str(a["id"]) for a in people),
        "athletes": people,
        "totalSeconds": total_seconds,
        "pace": _ratio(poss, total_seconds, 2400.0),
        "offenseRating": offense,
        "defenseRating": defense,
        "netRating": round(offense - defense, 1),
        "teamStats": unit_stats(counts, opponent_counts),
        "opponentStats": unit_stats(opponent_counts, counts),
    }


def aggregate_lineups(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Merge per-game LineupStats records into one record per team and unit.

    Records are grouped by (``teamId``, ``idHash``) in first-seen order; ``totalSeconds`` and the
    counting stats are summed and everything derived is recomputed.

    Args:
        records: Per-game records.

    Returns:
        One record per unit.
    """
    groups: dict[tuple[Any, Any], dict[str, Any]] = {}
    for rec in records:
        key = (rec["teamId"], rec["idHash"])
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "first": rec,
                "seconds": 0.0,
                "own": dict.fromkeys(COUNT_KEYS, 0),
                "opp": dict.fromkeys(COUNT_KEYS, 0),
            }
        group["seconds"] += float(rec.get("totalSeconds") or 0)
        for side, field in (("own", "teamStats"), ("opp", "opponentStats")):
            for k, v in read_counts(rec.get(field) or {}).items():
                group[side][k] += v
    out = []
    for group in groups.values():
        first = group["first"]
        seconds = group["seconds"]
        out.append(
            lineup_record(
                team_id=first["teamId"],
                team=first["team"],
                conference=first["conference"],
                athletes=first["athletes"],
                total_seconds=int(seconds) if seconds.is_integer() else round(seconds, 1),
                counts=group["own"],
                opponent_counts=group["opp"],
            )
        )
    return out

"""derive_lineups: hand-computed tiny games, wire shape, conventions and properties."""

from __future__ import annotations

import itertools
import json
import math
import random
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.lake.lineups import derive_lineups, elapsed_seconds

A, B = 1, 2
TEAMS = {A: ("Alpha", "AC", B), B: ("Beta", "BC", A)}

LINEUP_KEYS = {
    "teamId",
    "team",
    "conference",
    "idHash",
    "athletes",
    "totalSeconds",
    "pace",
    "offenseRating",
    "defenseRating",
    "netRating",
    "teamStats",
    "opponentStats",
}
UNIT_KEYS = {
    "possessions",
    "points",
    "blocks",
    "assists",
    "steals",
    "turnovers",
    "defensiveRebounds",
    "offensiveRebounds",
    "trueShooting",
    "fieldGoals",
    "twoPointers",
    "threePointers",
    "freeThrows",
    "fourFactors",
}
SHOOTING_KEYS = {"made", "attempted", "pct"}
TWO_KEYS = SHOOTING_KEYS | {"jumpers", "layups", "dunks", "tipIns"}
FOUR_KEYS = {"freeThrowRate", "offensiveReboundPct", "turnoverRatio", "effectiveFieldGoalPct"}


def to_clock(elapsed: int) -> tuple[int, int]:
    """Inverse of the elapsed formula (a period boundary maps to the start of the next period)."""
    if elapsed < 1200:
        return 1, 1200 - elapsed
    if elapsed < 2400:
        return 2, 2400 - elapsed
    period = 3 + (elapsed - 2400) // 300
    return period, 2400 + (period - 2) * 300 - elapsed


def to_clock_end(elapsed: int) -> tuple[int, int]:
    """Like to_clock, but a period boundary maps to the end of the earlier period (as sub-outs do)."""
    period, sr = to_clock(elapsed - 1)
    return period, sr - 1


def stint(team: int, athlete: int, start: int, end: int) -> dict[str, Any]:
    name, conf, opp = TEAMS[team]
    (p_in, sr_in), (p_out, sr_out) = to_clock(start), to_clock_end(end)
    return {
        "gameId": 99,
        "startDate": "2024-12-01T00:00:00.000Z",
        "teamId": team,
        "team": name,
        "conference": conf,
        "athleteId": athlete,
        "athlete": f"Player {athlete}",
        "position": "G",
        "opponentId": opp,
        "opponent": TEAMS[opp][0],
        "opponentConference": TEAMS[opp][1],
        "subIn": {"opponentPoints": 0, "teamPoints": 0, "secondsRemaining": sr_in, "period": p_in},
        "subOut": {"opponentPoints": 0, "teamPoints": 0, "secondsRemaining": sr_out, "period": p_out},
    }


def play(
    team: int | None,
    period: int,
    sr: int,
    kind: str,
    *,
    made: bool = False,
    value: int | None = 0,
    text: str | None = None,
    shooting: bool | None = None,
) -> dict[str, Any]:
    """A PlayInfo; ``shootingPlay`` defaults to what the plays endpoint reports for the type."""
    if shooting is None:
        shooting = kind in {"JumpShot", "LayUpShot", "DunkShot", "TipShot", "MadeFreeThrow"}
    return {
        "gameId": 99,
        "playType": kind,
        "teamId": team,
        "period": period,
        "secondsRemaining": sr,
        "scoringPlay": made,
        "shootingPlay": shooting,
        "scoreValue": value,
        "playText": text if text is not None else f"{kind} by team {team}",
        # shotInfo is deliberately misleading: the server does not use it.
        "shotInfo": {"range": "rim", "assisted": True, "made": not made} if shooting else None,
    }


def team_a_stints() -> list[dict[str, Any]]:
    # 11-14 play the whole game; 15 [0,600) and [1200,1800); 16 [600,1200) and [2200,2400); 17 [2000,2400).
    # [1800,2000) has 4 players: no unit. [2200,2400) has 6 players: all six 5-subsets are units there,
    # and 11-12-13-14-17 keeps its whole [2000,2400) (a sixth player does not cut a five-way overlap).
    return [
        *(stint(A, a, 0, 2400) for a in (11, 12, 13, 14)),
        stint(A, 15, 0, 600),
        stint(A, 16, 600, 1200),
        stint(A, 15, 1200, 1800),
        stint(A, 17, 2000, 2400),
        stint(A, 16, 2200, 2400),
    ]


def team_b_stints() -> list[dict[str, Any]]:
    return [
        *(stint(B, a, 0, 2400) for a in (21, 22, 23, 24)),
        stint(B, 25, 0, 1200),
        stint(B, 26, 1200, 2400),
    ]


def game_plays() -> list[dict[str, Any]]:
    return [
        play(A, 1, 1150, "JumpShot", made=True, value=3, text="A2 made Three Point Jumper. Assisted by A1."),  # e=50
        play(B, 1, 1100, "LayUpShot", value=2),  # e=100, missed
        play(A, 1, 1095, "Block Shot"),
        play(A, 1, 1090, "Defensive Rebound"),
        play(A, 1, 1000, "LayUpShot", made=True, value=2, text="A3 made Layup (A1 assists)"),  # e=200
        play(B, 1, 900, "Lost Ball Turnover"),  # e=300
        play(A, 1, 900, "Steal"),
        play(B, 1, 800, "MadeFreeThrow", made=True, value=1),  # e=400
        play(B, 1, 800, "MadeFreeThrow", value=1),  # missed
        play(A, 1, 790, "Defensive Rebound"),
        play(A, 1, 600, "DunkShot", made=True, value=2),  # e=600: boundary, belongs to 16's unit
        play(A, 1, 500, "JumpShot", value=2, text="A4 missed Jumper. Assisted by A2."),  # e=700, missed yet assisted
        play(A, 1, 495, "Offensive Rebound"),
        play(A, 1, 490, "TipShot", made=True, value=2),
        play(B, 1, 300, "JumpShot", made=True, value=2),  # e=900
        play(A, 1, 200, "Defensive Rebound"),  # e=1000
        play(None, 1, 0, "End Period"),  # e=1200, team-less
        play(A, 2, 1100, "Bad Pass Turnover"),  # e=1300: not a Lost Ball Turnover, counts for nothing
        play(B, 2, 1000, "DunkShot", made=True, value=2),  # e=1400
        play(A, 2, 900, "LayUpShot", made=True, value=2, shooting=False),  # e=1500: a layup, not a field goal
        play(A, 2, 500, "JumpShot", value=3),  # e=1900: A has 4 on court
        play(A, 2, 300, "MadeFreeThrow", made=True, value=1),  # e=2100
        play(B, 2, 100, "Defensive Rebound"),  # e=2300: A has 6 on court
        play(None, 2, 0, "End Game"),  # e=2400: after every stint
    ]


def shooting(made: int, attempted: int, pct: float) -> dict[str, Any]:
    return {"made": made, "attempted": attempted, "pct": pct}


def unit(**kw: Any) -> dict[str, Any]:
    """A LineupUnitStats with zero defaults; shooting buckets given as (made, attempted, pct)."""
    z = (0, 0, 0.0)
    two = kw.pop("two", z)
    out = {
        "points": kw.pop("points", 0),
        "possessions": kw.pop("possessions", 0),
        "assists": kw.pop("assists", 0),
        "steals": kw.pop("steals", 0),
        "turnovers": kw.pop("turnovers", 0),
        "blocks": kw.pop("blocks", 0),
        "defensiveRebounds": kw.pop("drb", 0),
        "offensiveRebounds": kw.pop("orb", 0),
        "trueShooting": kw.pop("ts"),
        "fieldGoals": shooting(*kw.pop("fg", z)),
        "freeThrows": shooting(*kw.pop("ft", z)),
        "twoPointers": {
            **shooting(*two),
            "tipIns": shooting(*kw.pop("tips", z)),
            "dunks": shooting(*kw.pop("dunks", z)),
            "layups": shooting(*kw.pop("layups", z)),
            "jumpers": shooting(*kw.pop("jumpers", z)),
        },
        "threePointers": shooting(*kw.pop("three", z)),
        "fourFactors": {
            "effectiveFieldGoalPct": kw.pop("efg", 0.0),
            "turnoverRatio": kw.pop("tov", 0.0),
            "offensiveReboundPct": kw.pop("orbp", 0.0),
            "freeThrowRate": kw.pop("ftr", 0.0),
        },
    }
    assert not kw, f"unknown keys {kw}"
    return out


def ratings(record: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(record[k] for k in ("pace", "offenseRating", "defenseRating", "netRating"))


@pytest.fixture
def derived() -> list[dict[str, Any]]:
    return derive_lineups(team_a_stints() + team_b_stints(), game_plays())


@pytest.fixture
def lineups(derived: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["idHash"]: r for r in derived}


SIX_ON_COURT = ["11-12-13-16-17", "11-12-14-16-17", "11-13-14-16-17", "12-13-14-16-17"]


def test_units_seconds_and_order(derived: list[dict[str, Any]]) -> None:
    # Longest first; equal durations by teamId, then idHash.
    assert [(r["idHash"], r["totalSeconds"]) for r in derived] == [
        ("11-12-13-14-15", 1200),  # recurs: [0,600) + [1200,1800)
        ("21-22-23-24-25", 1200),
        ("21-22-23-24-26", 1200),
        ("11-12-13-14-16", 800),  # [600,1200) + [2200,2400) with six on court
        ("11-12-13-14-17", 400),  # [2000,2400), uncut by the sixth player
        *((h, 200) for h in SIX_ON_COURT),  # [2200,2400): 6 players give C(6,5) = 6 units
    ]
    assert all(type(r["totalSeconds"]) is int for r in derived)
    r = derived[0]
    assert (r["teamId"], r["team"], r["conference"]) == (A, "Alpha", "AC")
    assert r["athletes"] == [{"id": a, "name": f"Player {a}"} for a in (11, 12, 13, 14, 15)]


def test_recurring_unit(lineups: dict[str, dict[str, Any]]) -> None:
    r = lineups["11-12-13-14-15"]
    # pace (5 + 2) / 40 min * 40; ratings 7/5 and 3/2 per 100.
    assert ratings(r) == (7.0, 140.0, 150.0, -10.0)
    assert r["teamStats"] == unit(
        points=7,  # 3 + 2 + the non-shooting layup's 2
        possessions=5,  # three made shots (not FTs) and two defensive rebounds
        assists=2,  # "Assisted by" and "(A1 assists)"
        steals=1,
        blocks=1,
        drb=2,  # the Bad Pass Turnover counts for nothing
        ts=175.0,  # 7 / (2 * 2)
        fg=(2, 2, 100.0),  # the shootingPlay=false layup is no field goal ...
        two=(1, 1, 100.0),
        layups=(2, 2, 100.0),  # ... but a layup all the same
        three=(1, 1, 100.0),
        efg=125.0,  # (2 + 0.5) / 2
    )
    assert r["opponentStats"] == unit(
        points=3,
        possessions=2,
        turnovers=1,
        ts=52.1,  # 3 / (2 * (2 + 0.88))
        fg=(1, 2, 50.0),
        ft=(1, 2, 50.0),
        two=(1, 2, 50.0),
        dunks=(1, 1, 100.0),
        layups=(0, 1, 0.0),
        efg=50.0,
        tov=0.5,  # a 0-1 fraction
        ftr=100.0,
    )


def test_boundary_play_and_bitwise_or_rebound_pct(lineups: dict[str, dict[str, Any]]) -> None:
    r = lineups["11-12-13-14-16"]
    # pace (3 + 2) / (800 * 2 / 60) * 400 = 75; offense 133.3; defense 100; net round(333.33) / 10.
    assert ratings(r) == (7.5, 133.3, 100.0, 33.3)
    assert r["teamStats"] == unit(
        points=4,  # the dunk exactly at e=600 belongs here, not to 15's [0,600)
        possessions=3,
        assists=1,  # the MISSED jumper "Assisted by" counts
        drb=1,
        orb=1,
        ts=66.7,
        fg=(2, 3, 66.7),
        two=(2, 3, 66.7),
        tips=(1, 1, 100.0),
        dunks=(1, 1, 100.0),
        jumpers=(0, 1, 0.0),
        efg=66.7,
        orbp=100.0,  # 1 / (drb 1 | orb 1) = 1 / 1: the server's expression, not a rebound share
    )
    assert r["opponentStats"] == unit(
        points=2,
        possessions=2,  # includes the defensive rebound at e=2300 (six on court)
        drb=1,
        ts=100.0,
        fg=(1, 1, 100.0),
        two=(1, 1, 100.0),
        jumpers=(1, 1, 100.0),
        efg=100.0,
    )


def test_zero_possessions_give_null_ratings(lineups: dict[str, dict[str, Any]]) -> None:
    r = lineups["11-12-13-14-17"]
    # pace (0 + 1) / (400 * 2 / 60) * 400 = 30; offense 1 / 0 = Infinity -> null; defense 0 / 1 = 0.
    assert ratings(r) == (3.0, None, 0.0, None)
    assert r["teamStats"] == unit(points=1, ts=113.6, ft=(1, 1, 100.0))  # 1 / (2 * 0.44); eFG guard: fgm = 0
    assert r["opponentStats"] == unit(possessions=1, drb=1, ts=None)  # 0 / 0 = NaN -> null


def test_six_on_court_units(lineups: dict[str, dict[str, Any]]) -> None:
    for h in SIX_ON_COURT:
        r = lineups[h]
        assert ratings(r) == (6.0, None, 0.0, None)  # 0/0 NaN offense; 1 opp possession in 200 s
        assert r["teamStats"] == unit(ts=None)
        assert r["opponentStats"] == unit(possessions=1, drb=1, ts=None)


def test_other_team_units(lineups: dict[str, dict[str, Any]]) -> None:
    b1 = lineups["21-22-23-24-25"]
    # pace (2 + 7) / 40 * 40 = 9; defense 9/7 -> 128.6; net round(1500 - 1285.71) / 10.
    assert ratings(b1) == (9.0, 150.0, 128.6, 21.4)
    assert b1["teamStats"] == unit(
        points=3,
        possessions=2,
        turnovers=1,
        ts=52.1,
        fg=(1, 2, 50.0),
        ft=(1, 2, 50.0),
        two=(1, 2, 50.0),
        layups=(0, 1, 0.0),
        jumpers=(1, 1, 100.0),
        efg=50.0,
        tov=0.5,
        ftr=100.0,
    )
    assert b1["opponentStats"] == unit(
        points=9,
        possessions=7,
        assists=3,
        steals=1,
        blocks=1,
        drb=3,
        orb=1,
        ts=90.0,
        fg=(4, 5, 80.0),
        two=(3, 4, 75.0),
        tips=(1, 1, 100.0),
        dunks=(1, 1, 100.0),
        layups=(1, 1, 100.0),
        jumpers=(0, 1, 0.0),
        three=(1, 1, 100.0),
        efg=90.0,
        orbp=33.3,  # 1 / (3 | 1) = 1 / 3
    )
    b2 = lineups["21-22-23-24-26"]
    # A's 4- and 6-player stretches still count for B's unit; pace (2 + 1) / 40 * 40 = 3.
    assert ratings(b2) == (3.0, 100.0, 300.0, -200.0)
    assert b2["teamStats"] == unit(
        points=2, possessions=2, drb=1, ts=100.0, fg=(1, 1, 100.0), two=(1, 1, 100.0), dunks=(1, 1, 100.0), efg=100.0
    )
    assert b2["opponentStats"] == unit(
        points=3,  # the non-shooting layup (2) and a free throw
        possessions=1,
        ts=104.2,  # 3 / (2 * (1 + 0.44))
        fg=(0, 1, 0.0),  # the missed JumpShot worth 3
        ft=(1, 1, 100.0),
        layups=(1, 1, 100.0),
        three=(0, 1, 0.0),
        ftr=100.0,
    )


SERVER_KEY_ORDER = [
    "teamId",
    "team",
    "conference",
    "idHash",
    "athletes",
    "totalSeconds",
    "pace",
    "offenseRating",
    "defenseRating",
    "netRating",
    "teamStats",
    "opponentStats",
]
UNIT_KEY_ORDER = [
    "points",
    "possessions",
    "assists",
    "steals",
    "turnovers",
    "blocks",
    "defensiveRebounds",
    "offensiveRebounds",
    "trueShooting",
    "fieldGoals",
    "freeThrows",
    "twoPointers",
    "threePointers",
    "fourFactors",
]


def assert_wire_shape(record: dict[str, Any]) -> None:
    assert set(record) == LINEUP_KEYS
    assert list(record) == SERVER_KEY_ORDER
    assert all(list(a) == ["id", "name"] for a in record["athletes"])
    assert len(record["athletes"]) == 5
    for side in (record["teamStats"], record["opponentStats"]):
        assert set(side) == UNIT_KEYS
        assert list(side) == UNIT_KEY_ORDER
        for key in ("fieldGoals", "threePointers", "freeThrows"):
            assert list(side[key]) == ["made", "attempted", "pct"]
        assert set(side["twoPointers"]) == TWO_KEYS
        assert list(side["twoPointers"])[3:] == ["tipIns", "dunks", "layups", "jumpers"]
        for key in ("jumpers", "layups", "dunks", "tipIns"):
            assert set(side["twoPointers"][key]) == SHOOTING_KEYS
        assert set(side["fourFactors"]) == FOUR_KEYS
        assert list(side["fourFactors"]) == [
            "effectiveFieldGoalPct",
            "turnoverRatio",
            "offensiveReboundPct",
            "freeThrowRate",
        ]
        for key in UNIT_KEYS - {"trueShooting", "fieldGoals", "twoPointers", "threePointers", "freeThrows"}:
            if key != "fourFactors":
                assert type(side[key]) is int
        assert side["trueShooting"] is None or type(side["trueShooting"]) is float
        assert all(type(v) is float for v in side["fourFactors"].values())
        assert 0.0 <= side["fourFactors"]["turnoverRatio"] <= 1.0
        buckets = [side[k] for k in ("fieldGoals", "threePointers", "freeThrows", "twoPointers")]
        buckets += [side["twoPointers"][k] for k in ("jumpers", "layups", "dunks", "tipIns")]
        for b in buckets:
            assert type(b["made"]) is int and type(b["attempted"]) is int and type(b["pct"]) is float
    assert type(record["totalSeconds"]) is int
    for key in ("pace", "offenseRating", "defenseRating", "netRating"):
        assert record[key] is None or type(record[key]) is float


def test_wire_shape(lineups: dict[str, dict[str, Any]]) -> None:
    for record in lineups.values():
        assert_wire_shape(record)
        json.dumps(record, allow_nan=False)


def test_sorted_and_deterministic() -> None:
    subs, plays = team_a_stints() + team_b_stints(), game_plays()
    expected = derive_lineups(subs, plays)
    keys = [(-r["totalSeconds"], r["teamId"], r["idHash"]) for r in expected]
    assert keys == sorted(keys)
    rnd = random.Random(7)
    for _ in range(5):
        rnd.shuffle(subs)
        rnd.shuffle(plays)
        assert json.dumps(derive_lineups(subs, plays)) == json.dumps(expected)


def test_overtime_periods() -> None:
    # Five players for the first OT only [2400,2700), then a change for the second OT [2700,3000).
    subs = [stint(A, a, 2400, 3000) for a in (11, 12, 13, 14)]
    subs += [stint(A, 15, 2400, 2700), stint(A, 16, 2700, 3000)]
    subs += [stint(B, a, 2400, 3000) for a in (21, 22, 23, 24, 25)]
    assert subs[-1]["subOut"] == {"opponentPoints": 0, "teamPoints": 0, "secondsRemaining": 0, "period": 4}
    plays = [
        play(A, 3, 300, "LayUpShot", made=True, value=2),  # e=2400
        play(A, 4, 150, "JumpShot", made=True, value=3),  # e=2850
        play(B, 4, 1, "Defensive Rebound"),  # e=2999
    ]
    out = derive_lineups(subs, plays)
    assert [(r["idHash"], r["totalSeconds"]) for r in out] == [
        ("21-22-23-24-25", 600),
        ("11-12-13-14-15", 300),
        ("11-12-13-14-16", 300),
    ]
    by_hash = {r["idHash"]: r for r in out}
    assert by_hash["11-12-13-14-15"]["teamStats"]["points"] == 2
    assert by_hash["11-12-13-14-16"]["teamStats"]["points"] == 3
    assert by_hash["11-12-13-14-16"]["opponentStats"]["defensiveRebounds"] == 1
    assert by_hash["21-22-23-24-25"]["opponentStats"]["points"] == 5
    assert by_hash["21-22-23-24-25"]["pace"] == 6.0  # (1 + 2) possessions / (600 * 2 / 60) * 400


def test_elapsed_formula() -> None:
    assert elapsed_seconds(1, 1200) == 0
    assert elapsed_seconds(2, 0) == 2400
    assert elapsed_seconds(3, 300) == 2400
    assert elapsed_seconds(5, 100) == 2400 + 3 * 300 - 100
    assert elapsed_seconds(0, 10) == 2400 - 2 * 300 - 10  # the server CASE's ELSE branch
    assert elapsed_seconds(None, 10) is None


def five(team: int, start: int = 0, end: int = 1200) -> list[dict[str, Any]]:
    base = 10 if team == A else 20
    return [stint(team, base + k, start, end) for k in range(1, 6)]


def test_half_up_rounding_like_javascript() -> None:
    # 1/16 = 6.25 %: JS Math.round(62.5) / 10 = 6.3 (Python's round(6.25, 1) gives 6.2).
    plays = [play(A, 1, 1000, "MadeFreeThrow", made=i == 0, value=1) for i in range(16)]
    rec = derive_lineups(five(A) + five(B), plays)[0]
    assert rec["teamId"] == A
    assert rec["teamStats"]["freeThrows"] == shooting(1, 16, 6.3)


def test_four_factor_quirks() -> None:
    plays = [
        *(play(A, 1, 1100, "Defensive Rebound") for _ in range(2)),
        *(play(A, 1, 1100, "Offensive Rebound") for _ in range(2)),
        play(A, 1, 1100, "Lost Ball Turnover"),
        # A made JumpShot worth 3 that is not a shooting play: a three, but no field goal.
        play(A, 1, 1100, "JumpShot", made=True, value=3, shooting=False),
        play(A, 1, 1100, "JumpShot", value=2),  # one missed field goal
        play(B, 1, 1100, "Defensive Rebound"),
    ]
    a, b = derive_lineups(five(A) + five(B), plays)
    ff = a["teamStats"]["fourFactors"]
    # offensiveReboundPct = 1000 * (2 / (2 | 2)) -> 100.0, whatever the opponent rebounded.
    assert ff["offensiveReboundPct"] == 100.0
    # turnoverRatio = round(100 * 1 / 4) / 100 (possessions: 2 DRB, 1 LBT, 1 made non-FT).
    assert a["teamStats"]["possessions"] == 4 and ff["turnoverRatio"] == 0.25
    # eFG of the team side is guarded by fieldGoalsMade (0) ...
    assert a["teamStats"]["fieldGoals"] == shooting(0, 1, 0.0)
    assert a["teamStats"]["threePointers"] == shooting(1, 1, 100.0)
    assert ff["effectiveFieldGoalPct"] == 0.0
    # ... while the opponent side is guarded by attempts: 1000 * (0 + 0.5 * 1) / 1 -> 50.0.
    assert b["opponentStats"]["fourFactors"]["effectiveFieldGoalPct"] == 50.0
    assert b["opponentStats"]["fourFactors"]["offensiveReboundPct"] == 100.0
    # Three possessions of 4 give 0.33; 2 of 3 give 0.67.
    plays = [play(A, 1, 1100, "Lost Ball Turnover"), *(play(A, 1, 1100, "Defensive Rebound") for _ in range(2))]
    assert derive_lineups(five(A) + five(B), plays)[0]["teamStats"]["fourFactors"]["turnoverRatio"] == 0.33
    plays = [*(play(A, 1, 1100, "Lost Ball Turnover") for _ in range(2)), play(A, 1, 1100, "Defensive Rebound")]
    assert derive_lineups(five(A) + five(B), plays)[0]["teamStats"]["fourFactors"]["turnoverRatio"] == 0.67


def test_assist_phrases_and_turnover_types() -> None:
    texts = [
        "X made Jumper. Assisted by Y.",  # counts
        "X missed Layup. Assisted by Y.",  # counts: made or missed
        "X made Dunk (Y ASSISTS)",  # counts: lower-cased
        "Assisted by Y. X made Jumper",  # no space before: LIKE '% assisted by %' fails
        "X made Jumper. Assisted by",  # no space after
        "X made Jumper (Y assists)",  # counts
    ]
    plays = [play(A, 1, 1100, "JumpShot", value=2, text=t) for t in texts]
    plays.append(play(A, 1, 1100, "Steal", text="Y steal. Assisted by Z."))  # not a shooting play
    plays += [play(A, 1, 1100, k) for k in ("Bad Pass Turnover", "Traveling Turnover", "Lost Ball Turnover")]
    rec = derive_lineups(five(A) + five(B), plays)[0]
    assert rec["teamStats"]["assists"] == 4
    assert rec["teamStats"]["turnovers"] == 1


def test_shot_classification_ignores_shot_info() -> None:
    plays = [
        play(A, 1, 1100, "JumpShot", made=True, value=3),  # three; field goal
        play(A, 1, 1100, "JumpShot", made=True, value=2),  # two-point jumper
        play(A, 1, 1100, "JumpShot", value=3, shooting=False),  # three attempt; no field goal
        play(A, 1, 1100, "LayUpShot", value=2, shooting=False),  # layup attempt; no field goal
        play(A, 1, 1100, "MadeFreeThrow", made=True, value=1),  # free throw only
        play(A, 1, 1100, "JumpShot", made=True, value=None),  # no value: none of these, no points
    ]
    side = derive_lineups(five(A) + five(B), plays)[0]["teamStats"]
    assert side["points"] == 6
    assert side["fieldGoals"] == shooting(2, 2, 100.0)
    assert side["twoPointers"]["made"] == 1 and side["twoPointers"]["attempted"] == 1
    assert side["twoPointers"]["jumpers"] == shooting(1, 1, 100.0)
    assert side["twoPointers"]["layups"] == shooting(0, 1, 0.0)
    assert side["threePointers"] == shooting(1, 2, 50.0)
    assert side["freeThrows"] == shooting(1, 1, 100.0)
    assert side["possessions"] == 3  # made non-free-throws, including the valueless one


def test_duration_counts_rows_without_plays_and_overlapping_stints_double_count() -> None:
    # 15 plays [0,300) and [600,900); only the first stretch has a play: totalSeconds is still 600.
    subs = [stint(A, a, 0, 1200) for a in (11, 12, 13, 14)] + [stint(A, 15, 0, 300), stint(A, 15, 600, 900)]
    out = derive_lineups(subs + five(B), [play(A, 1, 1100, "Steal")])
    assert [(r["idHash"], r["totalSeconds"]) for r in out] == [("21-22-23-24-25", 1200), ("11-12-13-14-15", 600)]
    # Dirty data: 15 has two overlapping stints [0,600) and [300,900). The server joins per stint,
    # so the unit gets two rows (600 + 600 seconds) and a play at e=400 is counted in both.
    subs = [stint(A, a, 0, 1200) for a in (11, 12, 13, 14)] + [stint(A, 15, 0, 600), stint(A, 15, 300, 900)]
    out = derive_lineups(subs + five(B), [play(A, 1, 800, "Steal"), play(A, 1, 1100, "Steal")])
    rec = next(r for r in out if r["teamId"] == A)
    assert rec["totalSeconds"] == 1200
    assert rec["teamStats"]["steals"] == 3  # e=400 twice, e=100 once


def test_team_less_play_alone_makes_a_unit() -> None:
    out = derive_lineups(five(A) + five(B), [play(None, 1, 600, "Official TV Timeout")])
    assert [r["teamId"] for r in out] == [A, B]
    rec = out[0]
    assert ratings(rec) == (0.0, None, None, None)
    assert rec["teamStats"] == unit(ts=None) and rec["opponentStats"] == unit(ts=None)


def test_no_substitutions_and_no_plays() -> None:
    assert derive_lineups([], game_plays()) == []
    # Units with no play in their intervals are not emitted (the server's inner join on play).
    assert derive_lineups(team_a_stints(), []) == []


def test_conference_override_and_missing_conference() -> None:
    subs = team_a_stints() + team_b_stints()
    out = derive_lineups(subs, game_plays(), conferences={B: "XX"})
    assert {r["conference"] for r in out if r["teamId"] == B} == {"XX"}
    for s in subs:
        if s["teamId"] == A:
            s["conference"] = None
    assert {r["teamId"] for r in derive_lineups(subs, game_plays())} == {B}
    assert {r["teamId"] for r in derive_lineups(subs, game_plays(), conferences={A: "AC"})} == {A, B}


# ---------------------------------------------------------------------------- properties
PLAY_KINDS = [
    "JumpShot",
    "LayUpShot",
    "DunkShot",
    "TipShot",
    "MadeFreeThrow",
    "Block Shot",
    "Steal",
    "Lost Ball Turnover",
    "Bad Pass Turnover",
    "Defensive Rebound",
    "Offensive Rebound",
    "End Period",
]


def events(side: dict[str, Any]) -> int:
    """Type-based counts on one side; every play contributes to at most one of these."""
    two = side["twoPointers"]
    return (
        side["freeThrows"]["attempted"]
        + side["threePointers"]["attempted"]
        + sum(two[k]["attempted"] for k in ("jumpers", "layups", "dunks", "tipIns"))
        + side["blocks"]
        + side["steals"]
        + side["turnovers"]
        + side["defensiveRebounds"]
        + side["offensiveRebounds"]
    )


def is_event(p: dict[str, Any]) -> bool:
    kind = p["playType"]
    if kind == "JumpShot":
        return p["scoreValue"] in (2, 3)
    return kind not in {"Bad Pass Turnover", "End Period"}


@st.composite
def team_stints(draw: st.DrawFn, team: int, base: int, length: int) -> list[dict[str, Any]]:
    """Five starters and random swaps, then dirt: dropped stints (4 on court) and extra ones (6, overlaps)."""
    roster = list(range(base + 1, base + draw(st.integers(5, 8)) + 1))
    court, bench = roster[:5], roster[5:]
    since = dict.fromkeys(court, 0)
    out = []
    for t in sorted(set(draw(st.lists(st.integers(1, length - 1), max_size=6)))):
        if bench:
            leaving, coming = draw(st.sampled_from(court)), draw(st.sampled_from(bench))
            out.append(stint(team, leaving, since.pop(leaving), t))
            court[court.index(leaving)], bench[bench.index(coming)] = coming, leaving
            since[coming] = t
    out += [stint(team, a, since[a], length) for a in court]
    out = [s for s in out if draw(st.integers(0, 9)) != 0]
    for _ in range(draw(st.integers(0, 2))):
        start = draw(st.integers(0, length - 1))
        out.append(stint(team, draw(st.sampled_from(roster)), start, draw(st.integers(start + 1, length))))
    return out


@st.composite
def games(draw: st.DrawFn) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]]]:
    length = 2400 + 300 * draw(st.integers(0, 2))
    subs = draw(team_stints(A, 10, length)) + draw(team_stints(B, 20, length))
    plays = []
    for _ in range(draw(st.integers(0, 40))):
        period, sr = to_clock(draw(st.integers(0, length)))
        kind = draw(st.sampled_from(PLAY_KINDS))
        team = None if kind == "End Period" else draw(st.sampled_from([A, B]))
        made = draw(st.booleans()) and kind != "Block Shot"
        value = draw(st.sampled_from([1, 2, 3])) if kind == "JumpShot" else 2
        plays.append(play(team, period, sr, kind, made=made, value=value, shooting=draw(st.booleans())))
    return length, subs, plays


def stint_counts(subs: list[dict[str, Any]], team: int, length: int) -> list[Counter[int]]:
    """Brute force: per elapsed second, athlete -> number of the team's stints covering it."""
    on: list[Counter[int]] = [Counter() for _ in range(length + 1)]
    for s in subs:
        start = elapsed_seconds(s["subIn"]["period"], s["subIn"]["secondsRemaining"])
        end = elapsed_seconds(s["subOut"]["period"], s["subOut"]["secondsRemaining"])
        assert start is not None and end is not None
        if s["teamId"] == team:
            for t in range(start, end):
                on[t][s["athleteId"]] += 1
    return on


def rows_at(counts: Counter[int], id_hash: str) -> int:
    """Range rows of a unit covering one second: one per choice of a covering stint for each member."""
    return math.prod(counts[int(a)] for a in id_hash.split("-"))


@settings(max_examples=60, deadline=None)
@given(games())
def test_units_match_a_per_second_oracle(game: Any) -> None:
    length, subs, plays = game
    out = derive_lineups(subs, plays)
    for record in out:
        assert_wire_shape(record)
    assert [r["totalSeconds"] for r in out] == sorted((r["totalSeconds"] for r in out), reverse=True)
    for team in (A, B):
        units = {r["idHash"]: r for r in out if r["teamId"] == team}
        on = stint_counts(subs, team, length)
        # Every 5-subset of players on court during some second with a play is a unit, and only those.
        candidates = set()
        for p in plays:
            t = elapsed_seconds(p["period"], p["secondsRemaining"])
            assert t is not None
            players = sorted(a for a, n in on[t].items() if n > 0)
            candidates |= {"-".join(map(str, c)) for c in itertools.combinations(players, 5)}
        assert set(units) == candidates
        for h, r in units.items():
            assert r["totalSeconds"] == sum(rows_at(on[t], h) for t in range(length))
            own = opp = 0
            for p in plays:
                t = elapsed_seconds(p["period"], p["secondsRemaining"])
                assert t is not None
                if p["teamId"] is None or not is_event(p):
                    continue
                if p["teamId"] == team:
                    own += rows_at(on[t], h)
                else:
                    opp += rows_at(on[t], h)
            assert events(r["teamStats"]) == own
            assert events(r["opponentStats"]) == opp

"""derive_lineups: hand-computed tiny games, wire shape, conventions and properties."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.lake.lineups import derivable, derive_lineups, elapsed_seconds

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
    value: int = 0,
    rng: str | None = None,
    assisted: bool = False,
) -> dict[str, Any]:
    shooting = kind in {"JumpShot", "LayUpShot", "DunkShot", "TipShot"}
    shot = None
    if shooting or kind == "MadeFreeThrow":
        shot = {
            "shooter": {"name": None, "id": None},
            "made": made,
            "range": rng or ("free_throw" if kind == "MadeFreeThrow" else "rim"),
            "assisted": assisted,
            "assistedBy": {"name": None, "id": None},
            "location": {"x": None, "y": None},
        }
    return {
        "gameId": 99,
        "playType": kind,
        "teamId": team,
        "period": period,
        "secondsRemaining": sr,
        "scoringPlay": made,
        "shootingPlay": shooting,
        "scoreValue": value,
        "shotInfo": shot,
    }


def team_a_stints() -> list[dict[str, Any]]:
    # 11-14 play the whole game; 15 [0,600) and [1200,1800); 16 [600,1200) and [2200,2400) (a sixth man);
    # 17 [2000,2400). So [1800,2000) has 4 players and [2200,2400) has 6: both ignored.
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
        play(A, 1, 1150, "JumpShot", made=True, value=3, rng="three_pointer", assisted=True),  # e=50
        play(B, 1, 1100, "LayUpShot", value=2),  # e=100, missed
        play(A, 1, 1095, "Block Shot"),
        play(A, 1, 1090, "Defensive Rebound"),
        play(A, 1, 1000, "LayUpShot", made=True, value=2, assisted=True),  # e=200
        play(B, 1, 900, "Lost Ball Turnover"),  # e=300
        play(A, 1, 900, "Steal"),
        play(B, 1, 800, "MadeFreeThrow", made=True, value=1),  # e=400
        play(B, 1, 800, "MadeFreeThrow", value=1),  # missed
        play(A, 1, 790, "Defensive Rebound"),
        play(A, 1, 600, "DunkShot", made=True, value=2),  # e=600: boundary, belongs to 16's unit
        play(A, 1, 500, "JumpShot", value=2, rng="jumper"),  # e=700, missed
        play(A, 1, 495, "Offensive Rebound"),
        play(A, 1, 490, "TipShot", made=True, value=2),
        play(B, 1, 300, "JumpShot", made=True, value=2, rng="jumper"),  # e=900
        play(None, 1, 0, "End Period"),  # e=1200, team-less
        play(A, 2, 1100, "Bad Pass Turnover"),  # e=1300
        play(B, 2, 1000, "DunkShot", made=True, value=2),  # e=1400
        play(A, 2, 500, "JumpShot", value=3, rng="three_pointer"),  # e=1900: A has 4 on court
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
        "possessions": kw.pop("possessions", 0),
        "points": kw.pop("points", 0),
        "blocks": kw.pop("blocks", 0),
        "assists": kw.pop("assists", 0),
        "steals": kw.pop("steals", 0),
        "turnovers": kw.pop("turnovers", 0),
        "defensiveRebounds": kw.pop("drb", 0),
        "offensiveRebounds": kw.pop("orb", 0),
        "trueShooting": kw.pop("ts"),
        "fieldGoals": shooting(*kw.pop("fg", z)),
        "twoPointers": {
            **shooting(*two),
            "jumpers": shooting(*kw.pop("jumpers", z)),
            "layups": shooting(*kw.pop("layups", z)),
            "dunks": shooting(*kw.pop("dunks", z)),
            "tipIns": shooting(*kw.pop("tips", z)),
        },
        "threePointers": shooting(*kw.pop("three", z)),
        "freeThrows": shooting(*kw.pop("ft", z)),
        "fourFactors": {
            "freeThrowRate": kw.pop("ftr", 0.0),
            "offensiveReboundPct": kw.pop("orbp", 0.0),
            "turnoverRatio": kw.pop("tov", 0.0),
            "effectiveFieldGoalPct": kw.pop("efg", 0.0),
        },
    }
    assert not kw, f"unknown keys {kw}"
    return out


@pytest.fixture
def lineups() -> dict[str, dict[str, Any]]:
    out = derive_lineups(team_a_stints() + team_b_stints(), game_plays())
    return {r["idHash"]: r for r in out}


def test_units_and_seconds(lineups: dict[str, dict[str, Any]]) -> None:
    seconds = {h: r["totalSeconds"] for h, r in lineups.items()}
    assert seconds == {
        "11-12-13-14-15": 1200,  # recurs: [0,600) + [1200,1800)
        "11-12-13-14-16": 600,
        "11-12-13-14-17": 200,  # [2000,2200); [1800,2000) had 4 and [2200,2400) had 6
        "21-22-23-24-25": 1200,
        "21-22-23-24-26": 1200,
    }
    assert all(isinstance(s, int) for s in seconds.values())
    r = lineups["11-12-13-14-15"]
    assert (r["teamId"], r["team"], r["conference"]) == (A, "Alpha", "AC")
    assert r["athletes"] == [{"name": f"Player {a}", "id": a} for a in (11, 12, 13, 14, 15)]


def test_unit_with_recurring_stretches(lineups: dict[str, dict[str, Any]]) -> None:
    r = lineups["11-12-13-14-15"]
    assert (r["pace"], r["offenseRating"], r["defenseRating"], r["netRating"]) == (8.0, 125.0, 150.0, -25.0)
    assert r["teamStats"] == unit(
        possessions=4,
        points=5,
        blocks=1,
        assists=2,
        steals=1,
        turnovers=1,
        drb=2,
        ts=125.0,
        fg=(2, 2, 100.0),
        two=(1, 1, 100.0),
        layups=(1, 1, 100.0),
        three=(1, 1, 100.0),
        tov=25.0,
        efg=125.0,
    )
    assert r["opponentStats"] == unit(
        possessions=2,
        points=3,
        turnovers=1,
        ts=52.1,  # 3 / (2 * (2 + 0.88))
        fg=(1, 2, 50.0),
        two=(1, 2, 50.0),
        layups=(0, 1, 0.0),
        dunks=(1, 1, 100.0),
        ft=(1, 2, 50.0),
        ftr=100.0,
        tov=50.0,
        efg=50.0,
    )


def test_boundary_play_belongs_to_interval_starting_there(lineups: dict[str, dict[str, Any]]) -> None:
    r = lineups["11-12-13-14-16"]
    assert (r["pace"], r["offenseRating"], r["defenseRating"], r["netRating"]) == (8.0, 200.0, 200.0, 0.0)
    assert r["teamStats"] == unit(
        possessions=2,
        points=4,
        orb=1,
        ts=66.7,
        fg=(2, 3, 66.7),
        two=(2, 3, 66.7),
        jumpers=(0, 1, 0.0),
        dunks=(1, 1, 100.0),
        tips=(1, 1, 100.0),
        orbp=100.0,
        efg=66.7,
    )
    assert r["opponentStats"] == unit(
        possessions=1, points=2, ts=100.0, fg=(1, 1, 100.0), two=(1, 1, 100.0), jumpers=(1, 1, 100.0), efg=100.0
    )


def test_zero_possessions_give_null_ratings(lineups: dict[str, dict[str, Any]]) -> None:
    r = lineups["11-12-13-14-17"]
    assert (r["pace"], r["offenseRating"], r["defenseRating"], r["netRating"]) == (0.0, None, None, None)
    assert r["teamStats"] == unit(points=1, ts=113.6, ft=(1, 1, 100.0))
    assert r["opponentStats"] == unit(ts=None)


def test_other_team_units(lineups: dict[str, dict[str, Any]]) -> None:
    b1 = lineups["21-22-23-24-25"]
    assert (b1["pace"], b1["offenseRating"], b1["defenseRating"], b1["netRating"]) == (4.0, 150.0, 150.0, 0.0)
    assert b1["teamStats"] == unit(
        possessions=2,
        points=3,
        turnovers=1,
        ts=52.1,
        fg=(1, 2, 50.0),
        two=(1, 2, 50.0),
        jumpers=(1, 1, 100.0),
        layups=(0, 1, 0.0),
        ft=(1, 2, 50.0),
        ftr=100.0,
        tov=50.0,
        efg=50.0,
    )
    assert b1["opponentStats"] == unit(
        possessions=6,
        points=9,
        blocks=1,
        assists=2,
        steals=1,
        drb=2,
        orb=1,
        ts=90.0,
        fg=(4, 5, 80.0),
        two=(3, 4, 75.0),
        jumpers=(0, 1, 0.0),
        layups=(1, 1, 100.0),
        dunks=(1, 1, 100.0),
        tips=(1, 1, 100.0),
        three=(1, 1, 100.0),
        orbp=100.0,
        efg=90.0,
    )
    b2 = lineups["21-22-23-24-26"]
    # The 4- and 6-player stretches of team A still count for team B's unit.
    assert (b2["pace"], b2["offenseRating"], b2["defenseRating"], b2["netRating"]) == (4.0, 100.0, None, None)
    assert b2["teamStats"] == unit(
        possessions=2, points=2, drb=1, ts=100.0, fg=(1, 1, 100.0), two=(1, 1, 100.0), dunks=(1, 1, 100.0), efg=100.0
    )
    assert b2["opponentStats"] == unit(
        points=1, turnovers=1, ts=34.7, fg=(0, 1, 0.0), three=(0, 1, 0.0), ft=(1, 1, 100.0), ftr=100.0
    )


def assert_wire_shape(record: dict[str, Any]) -> None:
    assert set(record) == LINEUP_KEYS
    assert all(set(a) == {"name", "id"} for a in record["athletes"])
    assert len(record["athletes"]) == 5
    for side in (record["teamStats"], record["opponentStats"]):
        assert set(side) == UNIT_KEYS
        for key in ("fieldGoals", "threePointers", "freeThrows"):
            assert set(side[key]) == SHOOTING_KEYS
        assert set(side["twoPointers"]) == TWO_KEYS
        for key in ("jumpers", "layups", "dunks", "tipIns"):
            assert set(side["twoPointers"][key]) == SHOOTING_KEYS
        assert set(side["fourFactors"]) == FOUR_KEYS
        for key in UNIT_KEYS - {"trueShooting", "fieldGoals", "twoPointers", "threePointers", "freeThrows"}:
            if key != "fourFactors":
                assert type(side[key]) is int
        assert side["trueShooting"] is None or type(side["trueShooting"]) is float
        assert all(type(v) is float for v in side["fourFactors"].values())
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
    assert [(r["teamId"], r["idHash"]) for r in expected] == sorted((r["teamId"], r["idHash"]) for r in expected)
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
        play(A, 4, 150, "JumpShot", made=True, value=3, rng="three_pointer"),  # e=2850
        play(B, 4, 1, "Defensive Rebound"),  # e=2999
    ]
    out = {r["idHash"]: r for r in derive_lineups(subs, plays)}
    assert {h: r["totalSeconds"] for h, r in out.items()} == {
        "11-12-13-14-15": 300,
        "11-12-13-14-16": 300,
        "21-22-23-24-25": 600,
    }
    assert out["11-12-13-14-15"]["teamStats"]["points"] == 2
    assert out["11-12-13-14-16"]["teamStats"]["points"] == 3
    assert out["11-12-13-14-16"]["opponentStats"]["defensiveRebounds"] == 1
    assert out["21-22-23-24-25"]["opponentStats"]["points"] == 5
    assert out["21-22-23-24-25"]["pace"] == 4.0  # 1 possession * 2400 / 600


def test_elapsed_formula() -> None:
    assert elapsed_seconds(1, 1200) == 0
    assert elapsed_seconds(2, 0) == 2400
    assert elapsed_seconds(3, 300) == 2400
    assert elapsed_seconds(5, 100) == 2400 + 3 * 300 - 100
    assert elapsed_seconds(0, 10) is None
    assert elapsed_seconds(None, 10) is None


def test_half_up_rounding_like_javascript() -> None:
    # 1/16 = 6.25 %: JS Math.round(62.5) / 10 = 6.3 (Python's round(6.25, 1) gives 6.2).
    subs = [stint(A, a, 0, 1200) for a in range(11, 16)] + [stint(B, a, 0, 1200) for a in range(21, 26)]
    plays = [play(A, 1, 1000, "MadeFreeThrow", made=i == 0, value=1) for i in range(16)]
    rec = derive_lineups(subs, plays)[0]
    assert rec["teamStats"]["freeThrows"] == shooting(1, 16, 6.3)


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


def test_derivable() -> None:
    subs = team_a_stints() + team_b_stints()
    assert derivable(subs, game_plays())
    assert not derivable(subs, [])
    assert not derivable(team_a_stints(), game_plays())
    assert not derivable([], game_plays())


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
    "Defensive Rebound",
    "Offensive Rebound",
    "End Period",
]


def events(side: dict[str, Any]) -> int:
    """Events counted on one side; every play contributes to at most one of these."""
    return (
        side["fieldGoals"]["attempted"]
        + side["freeThrows"]["attempted"]
        + side["blocks"]
        + side["steals"]
        + side["turnovers"]
        + side["defensiveRebounds"]
        + side["offensiveRebounds"]
    )


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
        made = draw(st.booleans())
        plays.append(play(team, period, sr, kind, made=made and kind != "Block Shot", value=2))
    return length, subs, plays


def oracle(subs: list[dict[str, Any]], team: int, length: int) -> list[str | None]:
    """Brute force: per elapsed second, the idHash of the team's five on court, or None if not exactly five."""
    on: list[set[int]] = [set() for _ in range(length + 1)]
    for s in subs:
        start = elapsed_seconds(s["subIn"]["period"], s["subIn"]["secondsRemaining"])
        end = elapsed_seconds(s["subOut"]["period"], s["subOut"]["secondsRemaining"])
        assert start is not None and end is not None
        if s["teamId"] == team:
            for t in range(start, end):
                on[t].add(s["athleteId"])
    return ["-".join(map(str, sorted(players))) if len(players) == 5 else None for players in on]


@settings(max_examples=60, deadline=None)
@given(games())
def test_seconds_bounded_and_each_play_counted_once_per_side(game: Any) -> None:
    length, subs, plays = game
    out = derive_lineups(subs, plays)
    for record in out:
        assert_wire_shape(record)
    for team in (A, B):
        units = {r["idHash"]: r for r in out if r["teamId"] == team}
        assert sum(r["totalSeconds"] for r in units.values()) <= length
        court = oracle(subs, team, length)
        seconds: dict[str, int] = {}
        for h in court[:length]:
            if h is not None:
                seconds[h] = seconds.get(h, 0) + 1
        assert all(r["totalSeconds"] == seconds[h] for h, r in units.items())
        own: dict[str, int] = {}
        opp: dict[str, int] = {}
        for p in plays:
            t = elapsed_seconds(p["period"], p["secondsRemaining"])
            assert t is not None
            h = court[t]
            if h is None or p["teamId"] is None or p["playType"] == "End Period":
                continue
            side = own if p["teamId"] == team else opp
            side[h] = side.get(h, 0) + 1
        for h, r in units.items():
            assert events(r["teamStats"]) == own.get(h, 0)
            assert events(r["opponentStats"]) == opp.get(h, 0)
        assert set(own) | set(opp) <= set(units)

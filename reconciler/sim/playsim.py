"""Deterministic play-by-play simulation for the fixture universe.

One game is simulated possession by possession from a seeded RNG. The same run yields the plays,
the substitution stints (players 1-3 play throughout; 4-5 the first ten minutes of each half,
6-7 the last ten) and the per-unit lineup records, so they agree with one another and with the
game's final score.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from reconciler.sim.data import iso_z
from reconciler.sim.lineups import COUNT_KEYS, lineup_record

__all__ = ["FixtureTeam", "simulate_game"]

_POSITIONS = ("G", "G", "F", "F", "C", "G", "F")


@dataclass(frozen=True, slots=True)
class FixtureTeam:
    """A team of the fixture universe."""

    id: int
    school: str
    abbreviation: str
    mascot: str
    conference_id: int | None
    conference: str | None
    venue_id: int
    venue: str
    city: str
    state: str
    color: str = "003087"


def _athlete(team: FixtureTeam, n: int) -> dict[str, Any]:
    return {"name": f"{team.school} Player {n}", "id": team.id * 100 + n}


def _unit(sr: int) -> tuple[int, ...]:
    # Players 1-3 play throughout; 4-5 play the first ten minutes of each half, 6-7 the last ten.
    return (1, 2, 3, 4, 5) if sr > 600 else (1, 2, 3, 6, 7)


@dataclass(slots=True)
class _Sim:
    """Running state of one simulated game."""

    game: dict[str, Any]
    teams: Mapping[int, FixtureTeam]
    rng: random.Random
    plays: list[dict[str, Any]] = field(default_factory=list)
    score: dict[int, int] = field(default_factory=dict)
    by_period: dict[int, list[int]] = field(default_factory=dict)
    counts: dict[tuple[int, tuple[int, ...]], dict[str, int]] = field(default_factory=dict)


def _side(sim: _Sim, team_id: int) -> tuple[FixtureTeam, FixtureTeam, bool]:
    home = sim.game["homeTeamId"] == team_id
    opp_id = sim.game["awayTeamId"] if home else sim.game["homeTeamId"]
    return sim.teams[team_id], sim.teams[opp_id], home


def _count(sim: _Sim, team_id: int, sr: int, **deltas: int) -> None:
    bucket = sim.counts.setdefault((team_id, _unit(sr)), dict.fromkeys(COUNT_KEYS, 0))
    for key, value in deltas.items():
        bucket[key.replace("__", ".")] += value


def _play(
    sim: _Sim, period: int, sr: int, team_id: int | None, play_type: str, text: str, *,
    value: int = 0, made: bool | None = None, shot_range: str | None = None,
    people: tuple[dict[str, Any], ...] = (),
) -> None:  # fmt: skip
    g = sim.game
    if made and team_id is not None:
        sim.score[team_id] += value
        sim.by_period[team_id][period - 1] += value
    home_score, away_score = sim.score[g["homeTeamId"]], sim.score[g["awayTeamId"]]
    elapsed = (period - 1) * 1200 + (1200 - sr)
    seq = len(sim.plays) + 1
    team = opp = None
    is_home = None
    if team_id is not None:
        team, opp, is_home = _side(sim, team_id)
    on_floor = [
        {"team": t.school, **_athlete(t, n)}
        for t in (sim.teams[g["homeTeamId"]], sim.teams[g["awayTeamId"]])
        for n in _unit(sr)
    ]
    p_home = 1 / (1 + math.exp(-(home_score - away_score) * (0.05 + elapsed / 2400 * 0.25)))
    shot = None
    if shot_range is not None:
        shooter = people[0]
        helper = people[1] if len(people) > 1 else {"name": None, "id": None}
        has_xy = g["season"] >= 2025 and shot_range != "free_throw"
        shot = {
            "shooter": dict(shooter),
            "made": bool(made),
            "range": shot_range,
            "assisted": len(people) > 1,
            "assistedBy": dict(helper),
            "location": {
                "x": round(sim.rng.uniform(50, 890), 1) if has_xy else None,
                "y": round(sim.rng.uniform(20, 480), 1) if has_xy else None,
            },
        }
    start = datetime.fromisoformat(g["startDate"])
    sim.plays.append(
        {
            "id": g["id"] * 10000 + seq,
            "sourceId": f"{g['sourceId']}{seq:05d}",
            "gameId": g["id"],
            "gameSourceId": g["sourceId"],
            "gameStartDate": g["startDate"],
            "season": g["season"],
            "seasonType": g["seasonType"],
            "gameType": g["gameType"] or "",
            "tournament": g["tournament"],
            "playType": play_type,
            "isHomeTeam": is_home,
            "teamId": team_id,
            "team": team.school if team else None,
            "conference": team.conference if team else None,
            "teamSeed": (g["homeSeed"] if is_home else g["awaySeed"]) if team else None,
            "opponentId": opp.id if opp else None,
            "opponent": opp.school if opp else None,
            "opponentConference": opp.conference if opp else None,
            "opponentSeed": (g["awaySeed"] if is_home else g["homeSeed"]) if team else None,
            "period": period,
            "clock": f"{sr // 60:02d}:{sr % 60:02d}",
            "secondsRemaining": sr,
            "homeScore": home_score,
            "awayScore": away_score,
            "homeWinProbability": round(p_home, 3) or None,
            "scoringPlay": bool(made) if shot_range else False,
            "shootingPlay": shot_range is not None,
            "scoreValue": value,
            "wallclock": iso_z(start + timedelta(seconds=elapsed * 2.5 + 60)),
            "playText": text,
            "participants": [dict(p) for p in people],
            "onFloor": on_floor,
            "shotInfo": shot,
        }
    )


_SHOTS = (  # play type, value, range, text, count key of the 2-point subtype
    ("JumpShot", 3, "three_pointer", "Three Point Jumper", ""),
    ("JumpShot", 2, "jumper", "Jumper", "twoPointers__jumpers"),
    ("LayUpShot", 2, "rim", "Layup", "twoPointers__layups"),
    ("DunkShot", 2, "rim", "Dunk", "twoPointers__dunks"),
    ("TipShot", 2, "rim", "Tip Shot", "twoPointers__tipIns"),
)


def _possession(sim: _Sim, period: int, sr: int, team_id: int) -> None:
    rng = sim.rng
    team, opp, _ = _side(sim, team_id)
    shooter, helper = (_athlete(team, n) for n in rng.sample(_unit(sr), 2))
    defender = _athlete(opp, rng.choice(_unit(sr)))
    roll = rng.random()
    if roll < 0.12:
        _play(sim, period, sr, team_id, "Lost Ball Turnover", f"{shooter['name']} Turnover.", people=(shooter,))
        _count(sim, team_id, sr, turnovers=1, possessions=1)
        _play(sim, period, sr, opp.id, "Steal", f"{defender['name']} Steal.", people=(defender,))
        _count(sim, opp.id, sr, steals=1)
        return
    if roll < 0.22:
        for _ in range(2):
            made = rng.random() < 0.72
            word = "made" if made else "missed"
            _play(
                sim,
                period,
                sr,
                team_id,
                "MadeFreeThrow",
                f"{shooter['name']} {word} Free Throw.",
                value=1,
                made=made,
                shot_range="free_throw",
                people=(shooter,),
            )
            _count(sim, team_id, sr, freeThrows__attempted=1, freeThrows__made=int(made), points=int(made))
        return
    play_type, value, shot_range, label, sub = _SHOTS[rng.choice((0, 0, 1, 1, 2, 2, 3, 4))]
    made = rng.random() < (0.35 if value == 3 else 0.52)
    assisted = made and rng.random() < 0.55
    people = (shooter, helper) if assisted else (shooter,)
    text = f"{shooter['name']} {'made' if made else 'missed'} {label}." + (
        f" Assisted by {helper['name']}." if assisted else ""
    )
    _play(
        sim,
        period,
        sr,
        team_id,
        play_type,
        text,
        value=value,
        made=made,
        shot_range=shot_range,
        people=people,
    )
    group = "threePointers" if value == 3 else "twoPointers"
    deltas = {
        "fieldGoals__attempted": 1,
        "fieldGoals__made": int(made),
        f"{group}__attempted": 1,
        f"{group}__made": int(made),
        "points": value * int(made),
        "assists": int(assisted),
        "possessions": int(made),
    }
    if sub:
        deltas.update({f"{sub}__attempted": 1, f"{sub}__made": int(made)})
    _count(sim, team_id, sr, **deltas)
    if made:
        return
    if rng.random() < 0.1:
        _play(sim, period, sr, opp.id, "Block Shot", f"{defender['name']} Block.", people=(defender,))
        _count(sim, opp.id, sr, blocks=1)
    if rng.random() < 0.3:
        _play(
            sim,
            period,
            sr,
            team_id,
            "Offensive Rebound",
            f"{helper['name']} Offensive Rebound.",
            people=(helper,),
        )
        _count(sim, team_id, sr, offensiveRebounds=1)
    else:
        _play(
            sim,
            period,
            sr,
            opp.id,
            "Defensive Rebound",
            f"{defender['name']} Defensive Rebound.",
            people=(defender,),
        )
        _count(sim, opp.id, sr, defensiveRebounds=1, possessions=1)


def _score_at(plays: list[dict[str, Any]], period: int, sr: int, home: bool) -> tuple[int, int]:
    home_pts = away_pts = 0
    for p in plays:
        if (p["period"], -p["secondsRemaining"]) > (period, -sr):
            break
        home_pts, away_pts = p["homeScore"], p["awayScore"]
    return (home_pts, away_pts) if home else (away_pts, home_pts)


def _stints(sim: _Sim) -> list[dict[str, Any]]:
    g, out = sim.game, []
    windows = {
        1: [((1, 1200), (2, 0))],
        2: [((1, 1200), (2, 0))],
        3: [((1, 1200), (2, 0))],
        4: [((1, 1200), (1, 600)), ((2, 1200), (2, 600))],
        5: [((1, 1200), (1, 600)), ((2, 1200), (2, 600))],
        6: [((1, 600), (1, 0)), ((2, 600), (2, 0))],
        7: [((1, 600), (1, 0)), ((2, 600), (2, 0))],
    }
    for team_id in (g["homeTeamId"], g["awayTeamId"]):
        team, opp, home = _side(sim, team_id)
        for n, spans in windows.items():
            for (p_in, s_in), (p_out, s_out) in spans:
                marks = []
                for period, sr in ((p_in, s_in), (p_out, s_out)):
                    own, other = _score_at(sim.plays, period, sr, home)
                    marks.append({"opponentPoints": other, "teamPoints": own, "secondsRemaining": sr, "period": period})
                out.append(
                    {
                        "gameId": g["id"],
                        "startDate": g["startDate"],
                        "teamId": team.id,
                        "team": team.school,
                        "conference": team.conference,
                        "athleteId": team.id * 100 + n,
                        "athlete": f"{team.school} Player {n}",
                        "position": _POSITIONS[n - 1],
                        "opponentId": opp.id,
                        "opponent": opp.school,
                        "opponentConference": opp.conference,
                        "subIn": marks[0],
                        "subOut": marks[1],
                    }
                )
    return out


def _lineups(sim: _Sim) -> list[dict[str, Any]]:
    out = []
    zero = dict.fromkeys(COUNT_KEYS, 0)
    for (team_id, unit), counts in sorted(sim.counts.items()):
        team, opp, _ = _side(sim, team_id)
        if team.conference is None:
            continue  # the server's inner join on conference membership drops such teams
        out.append(
            lineup_record(
                team_id=team.id,
                team=team.school,
                conference=team.conference,
                athletes=[_athlete(team, n) for n in unit],
                total_seconds=1200,
                counts=counts,
                opponent_counts=sim.counts.get((opp.id, unit), zero),
            )
        )
    return out


def simulate_game(
    game: dict[str, Any], teams: Mapping[int, FixtureTeam], *, with_subs: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Simulate one game, filling in its score fields.

    Args:
        game: A GameInfo record with null scores; updated in place with the final score.
        teams: The teams by id (both of the game's teams must be present).
        with_subs: Whether to also derive substitution stints and lineup records.

    Returns:
        The game's plays, substitution stints and lineup records (the last two empty when
        ``with_subs`` is false).
    """
    sim = _Sim(game=game, teams=teams, rng=random.Random(game["id"]))
    home, away = game["homeTeamId"], game["awayTeamId"]
    sim.score = {home: 0, away: 0}
    sim.by_period = {home: [0, 0], away: [0, 0]}
    for period in (1, 2):
        sr, team_id = 1200, home if period == 1 else away
        while True:
            sr -= sim.rng.randint(9, 22)
            if sr <= 0:
                break
            _possession(sim, period, sr, team_id)
            team_id = away if team_id == home else home
        _play(sim, period, 0, None, "End Period", f"End of {'1st' if period == 1 else '2nd'} half")
    h, a = sim.score[home], sim.score[away]
    game.update(
        homePoints=h,
        awayPoints=a,
        homePeriodPoints=sim.by_period[home],
        awayPeriodPoints=sim.by_period[away],
        homeWinner=h > a,
        awayWinner=a > h,
        homeTeamEloEnd=game["homeTeamEloStart"] + (6 if h > a else -6),
        awayTeamEloEnd=game["awayTeamEloStart"] + (6 if a > h else -6),
        excitement=round(sim.rng.uniform(1.0, 9.5), 1),
    )
    if not with_subs:
        return sim.plays, [], []
    return sim.plays, _stints(sim), _lineups(sim)

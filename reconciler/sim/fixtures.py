"""A small, realistic fixture universe in exact wire shape, for simulator and client tests.

:func:`fixture_data` builds six games around the traps of cbbd_api.md §5: a game at exactly
``2024-12-01T00:00:00.000Z`` (served by ``/plays/date`` for both Nov 30 and Dec 1), a
conference game later that day, an NCAA tournament game with seeds, an older-season game with
plays but no substitutions, a game against a non-D-I opponent (no conference), and a scheduled
game with no plays and null scores.

Its plays, substitution stints and lineups come from the synthetic universe's one play generator
(:func:`reconciler.synth.playsim.simulate`) and the one lineups derivation
(:func:`reconciler.lake.lineups.derive_lineups`), run over these hand-picked games and teams; so
scores, stints and lineup stats agree with one another, and with every sandbox lake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from reconciler.sim.data import InMemoryApiData
from reconciler.synth import names
from reconciler.synth.lineups import lineup_records
from reconciler.synth.playrender import play_pieces
from reconciler.synth.playsim import simulate
from reconciler.synth.playwire import wire_table
from reconciler.synth.schedule import FINAL, P_MAX, SeasonGames
from reconciler.synth.subs import substitution_records
from reconciler.synth.teams import TeamTable

__all__ = ["fixture_data", "fixture_teams"]

#: The generator's seed for the fixture games (their plays, players and names).
SEED = 11

#: (id, school, abbreviation, mascot, conference or None, venue id, venue, city, state, colour)
_TEAMS: tuple[tuple[int, str, str, str, str | None, int, str, str, str, str], ...] = (
    (72, "Duke", "DUKE", "Blue Devils", "ACC", 401, "Cameron Indoor Stadium", "Durham", "NC", "003087"),
    (153, "North Carolina", "UNC", "Tar Heels", "ACC", 402, "Dean E. Smith Center", "Chapel Hill", "NC", "7BAFD4"),
    (231, "Example State", "EXST", "Examiners", "Big Sky", 403, "Example Arena", "Example City", "MT", "006A4E"),
    (96, "Gonzaga", "GONZ", "Bulldogs", "WCC", 404, "McCarthey Athletic Center", "Spokane", "WA", "041E42"),
    (3001, "Trinity Baptist", "TBC", "Eagles", None, 405, "Trinity Gym", "Jacksonville", "FL", "8B0000"),
)  # fmt: skip
_INDEX = {t[0]: i for i, t in enumerate(_TEAMS)}
_CONF_INDEX = {abbr: i for i, (_, abbr, _) in enumerate(names.CONFERENCES)}


def _team_table() -> TeamTable:
    """The fixture teams as the generator's team table (index = position in :data:`_TEAMS`)."""
    conf_idx = np.array([_CONF_INDEX[t[4]] if t[4] else -1 for t in _TEAMS], dtype=np.int64)
    return TeamTable(
        team_id=np.array([t[0] for t in _TEAMS], dtype=np.int64),
        d1=conf_idx >= 0,
        conf_idx=conf_idx,
        school=tuple(t[1] for t in _TEAMS),
        mascot=tuple(t[3] for t in _TEAMS),
        abbreviation=tuple(t[2] for t in _TEAMS),
        city=tuple(t[7] for t in _TEAMS),
        state=tuple(t[8] for t in _TEAMS),
        venue_id=np.array([t[5] for t in _TEAMS], dtype=np.int64),
        venue=tuple(t[6] for t in _TEAMS),
        colors=tuple((t[9], "ffffff") for t in _TEAMS),
        school_pa=pa.array([t[1] for t in _TEAMS], type=pa.string()),
        conf_pa=pa.array([t[4] for t in _TEAMS], type=pa.string()),
        conf_id=np.where(conf_idx >= 0, conf_idx + 1, -1).astype(np.int64),
        conf_members=tuple(np.flatnonzero(conf_idx == c).astype(np.int64) for c in range(len(names.CONFERENCES))),
    )


TEAMS = _team_table()


def fixture_teams() -> list[dict[str, Any]]:
    """TeamInfo records of the fixture universe (the non-D-I team has no conference)."""
    return [TEAMS.info(i) for i in range(len(_TEAMS))]


def _game(gid: int, start: str, season: int, home: int, away: int, **extra: Any) -> dict[str, Any]:
    """A GameInfo record of a fixture game (scores null until :func:`_scored` fills them)."""
    h, a = TEAMS.info(_INDEX[home]), TEAMS.info(_INDEX[away])
    rec: dict[str, Any] = {
        "id": gid,
        "sourceId": str(400_000_000 + gid),
        "seasonLabel": f"{season - 1}{season}",
        "season": season,
        "seasonType": "regular",
        "startDate": start,
        "startTimeTbd": False,
        "neutralSite": False,
        "conferenceGame": h["conference"] is not None and h["conference"] == a["conference"],
        "gameType": "STD",
        "tournament": None,
        "gameNotes": None,
        "status": "final",
        "attendance": 8000 + gid,
        "homeTeamId": h["id"],
        "homeTeam": h["school"],
        "homeConferenceId": h["conferenceId"],
        "homeConference": h["conference"],
        "homeSeed": None,
        "homePoints": None,
        "homePeriodPoints": None,
        "homeWinner": None,
        "homeTeamEloStart": 1500 + h["id"],
        "homeTeamEloEnd": None,
        "awayTeamId": a["id"],
        "awayTeam": a["school"],
        "awayConferenceId": a["conferenceId"],
        "awayConference": a["conference"],
        "awaySeed": None,
        "awayPoints": None,
        "awayPeriodPoints": None,
        "awayWinner": None,
        "awayTeamEloStart": 1500 + a["id"] % 700,
        "awayTeamEloEnd": None,
        "excitement": None,
        "venueId": h["currentVenueId"],
        "venue": h["currentVenue"],
        "city": h["currentCity"],
        "state": h["currentState"],
    }
    rec.update(extra)
    return rec


#: The fixture's final games: (record, period points (home, away), plays wanted, substitutions).
_Final = tuple[dict[str, Any], tuple[tuple[int, ...], tuple[int, ...]], int, bool]


def _season_games(season: int, finals: Sequence[_Final]) -> SeasonGames:
    """The generator's season table of some fixture games (all final, all with plays)."""
    n = len(finals)
    points = np.zeros((n, 2, P_MAX), dtype=np.int64)
    for i, (_, (home, away), _, _) in enumerate(finals):
        points[i, 0, : len(home)] = home
        points[i, 1, : len(away)] = away
    recs = [f[0] for f in finals]
    epoch = np.array([np.datetime64(r["startDate"][:19], "s").astype(np.int64) for r in recs], dtype=np.int64)
    zeros, no = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    return SeasonGames(
        season=season,
        game_id=np.array([r["id"] for r in recs], dtype=np.int64),
        start_epoch=epoch,
        day=epoch // 86400,
        start_str=tuple(r["startDate"] for r in recs),
        status=np.full(n, FINAL, dtype=np.int64),
        postseason=np.array([r["seasonType"] == "postseason" for r in recs]),
        tournament=np.array([0 if r["tournament"] == "NCAA" else -1 for r in recs], dtype=np.int64),
        game_type=np.array([1 if r["gameType"] == "TRNMNT" else 0 for r in recs], dtype=np.int64),
        notes=tuple(r["gameNotes"] for r in recs),
        home=np.array([_INDEX[r["homeTeamId"]] for r in recs], dtype=np.int64),
        away=np.array([_INDEX[r["awayTeamId"]] for r in recs], dtype=np.int64),
        neutral=np.array([r["neutralSite"] for r in recs]),
        conf_game=np.array([r["conferenceGame"] for r in recs]),
        tbd=no,
        home_seed=np.array([r["homeSeed"] or -1 for r in recs], dtype=np.int64),
        away_seed=np.array([r["awaySeed"] or -1 for r in recs], dtype=np.int64),
        points=points,
        n_periods=np.array([len(f[1][0]) for f in finals], dtype=np.int64),
        attendance=zeros - 1,
        excitement10=zeros - 1,
        elo=np.full((n, 4), -1, dtype=np.int64),
        venue_team=np.array([_INDEX[r["homeTeamId"]] for r in recs], dtype=np.int64),
        n_target=np.array([f[2] for f in finals], dtype=np.int64),
        plays_ok=np.ones(n, dtype=bool),
        has_subs=np.array([f[3] for f in finals]),
    )


def _scored(record: dict[str, Any], home: Sequence[int], away: Sequence[int]) -> dict[str, Any]:
    """A final game's record with its scores filled in from its period points."""
    h, a = sum(home), sum(away)
    return {
        **record,
        "homePoints": h,
        "homePeriodPoints": list(home),
        "homeWinner": h > a,
        "awayPoints": a,
        "awayPeriodPoints": list(away),
        "awayWinner": a > h,
    }


def fixture_data() -> InMemoryApiData:
    """The fixture universe as an :class:`InMemoryApiData` (deterministic; built in milliseconds).

    Returns:
        Six games (ids 1001-1006), their plays, substitutions and lineups, and five teams.
    """
    ncaa: Mapping[str, Any] = {
        "seasonType": "postseason",
        "gameType": "TRNMNT",
        "tournament": "NCAA",
        "neutralSite": True,
        "homeSeed": 1,
        "awaySeed": 8,
        "gameNotes": "Men's Basketball Championship - South Region - 2nd Round",
        "venueId": 499,
        "venue": "Example Center",
        "city": "Lexington",
        "state": "KY",
    }
    finals: dict[int, list[_Final]] = {
        2025: [
            (_game(1001, "2024-11-30T02:00:00.000Z", 2025, 96, 3001), ((48, 41), (30, 29)), 290, False),
            (_game(1002, "2024-12-01T00:00:00.000Z", 2025, 72, 231), ((40, 38), (31, 35)), 330, True),
            (_game(1003, "2024-12-01T19:30:00.000Z", 2025, 153, 72), ((35, 38, 9), (37, 36, 7)), 360, True),
            (_game(1004, "2025-03-21T23:10:00.000Z", 2025, 72, 96, **ncaa), ((33, 41), (35, 36)), 320, True),
        ],
        2024: [(_game(1005, "2023-12-02T01:00:00.000Z", 2024, 96, 231), ((42, 39), (28, 33)), 300, False)],
    }
    games: list[dict[str, Any]] = []
    plays: dict[int, list[dict[str, Any]]] = {}
    subs: dict[int, list[dict[str, Any]]] = {}
    lineups: dict[int, list[dict[str, Any]]] = {}
    for season, season_finals in finals.items():
        table = _season_games(season, season_finals)
        frame = simulate(SEED, table, np.arange(len(season_finals), dtype=np.int64), TEAMS)
        records = wire_table(play_pieces(frame, TEAMS, SEED)).to_pylist()
        for b, (record, (home, away), _, with_subs) in enumerate(season_finals):
            gid = record["id"]
            games.append(_scored(record, home, away))
            plays[gid] = [r for r in records if r["gameId"] == gid]
            if with_subs:
                subs[gid] = substitution_records(frame, b, TEAMS, SEED)
                lineups[gid] = lineup_records(frame, b, TEAMS, SEED)
    scheduled = _game(
        1006,
        "2025-11-10T00:00:00.000Z",
        2026,
        72,
        153,
        status="scheduled",
        attendance=None,
        startTimeTbd=True,
    )
    games.sort(key=lambda g: g["id"])
    games.append(scheduled)
    return InMemoryApiData(
        games,
        plays={k: v for k, v in plays.items() if v},
        substitutions={k: v for k, v in subs.items() if v},
        lineups={k: v for k, v in lineups.items() if v},
        teams=fixture_teams(),
    )

"""A small, realistic fixture universe in exact wire shape, for simulator and client tests.

:func:`fixture_data` builds six games around the traps of cbbd_api.md §5: a game at exactly
``2024-12-01T00:00:00.000Z`` (served by ``/plays/date`` for both Nov 30 and Dec 1), a
conference game later that day, an NCAA tournament game with seeds, an older-season game with
plays but no substitutions or shot locations, a game against a non-D-I opponent (no conference),
and a scheduled game with no plays and null scores. Plays are simulated deterministically;
substitution stints and lineup records are derived from the same plays, so scores, stints and
lineup stats agree with one another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.sim.data import InMemoryApiData
from reconciler.sim.playsim import FixtureTeam, simulate_game

__all__ = ["FixtureTeam", "fixture_data", "fixture_teams"]


_TEAMS = (
    FixtureTeam(72, "Duke", "DUKE", "Blue Devils", 2, "ACC", 401, "Cameron Indoor Stadium", "Durham", "NC"),
    FixtureTeam(153, "North Carolina", "UNC", "Tar Heels", 2, "ACC", 402, "Dean E. Smith Center",
                "Chapel Hill", "NC", "7BAFD4"),
    FixtureTeam(231, "Example State", "EXST", "Examiners", 9, "Big Sky", 403, "Example Arena",
                "Example City", "MT", "006A4E"),
    FixtureTeam(96, "Gonzaga", "GONZ", "Bulldogs", 29, "WCC", 404, "McCarthey Athletic Center",
                "Spokane", "WA", "041E42"),
    FixtureTeam(3001, "Trinity Baptist", "TBC", "Eagles", None, None, 405, "Trinity Gym",
                "Jacksonville", "FL", "8B0000"),
)  # fmt: skip
_BY_ID = {t.id: t for t in _TEAMS}


def fixture_teams() -> list[dict[str, Any]]:
    """TeamInfo records of the fixture universe (the non-D-I team has no conference)."""
    return [
        {
            "id": t.id,
            "sourceId": str(2000 + t.id),
            "school": t.school,
            "mascot": t.mascot,
            "abbreviation": t.abbreviation,
            "displayName": f"{t.school} {t.mascot}",
            "shortDisplayName": t.school,
            "primaryColor": t.color,
            "secondaryColor": "ffffff",
            "currentVenueId": t.venue_id,
            "currentVenue": t.venue,
            "currentCity": t.city,
            "currentState": t.state,
            "conferenceId": t.conference_id,
            "conference": t.conference,
            "logos": [f"https://example.invalid/logos/{t.id}.png"],
        }
        for t in _TEAMS
    ]


def _game(gid: int, start: str, season: int, home: int, away: int, **extra: Any) -> dict[str, Any]:
    h, a = _BY_ID[home], _BY_ID[away]
    rec: dict[str, Any] = {
        "id": gid,
        "sourceId": str(401700000 + gid),
        "seasonLabel": f"{season - 1}{season}",
        "season": season,
        "seasonType": "regular",
        "startDate": start,
        "startTimeTbd": False,
        "neutralSite": False,
        "conferenceGame": h.conference is not None and h.conference == a.conference,
        "gameType": "STD",
        "tournament": None,
        "gameNotes": None,
        "status": "final",
        "attendance": 8000 + gid,
        "homeTeamId": h.id,
        "homeTeam": h.school,
        "homeConferenceId": h.conference_id,
        "homeConference": h.conference,
        "homeSeed": None,
        "homePoints": None,
        "homePeriodPoints": None,
        "homeWinner": None,
        "homeTeamEloStart": 1500 + h.id,
        "homeTeamEloEnd": None,
        "awayTeamId": a.id,
        "awayTeam": a.school,
        "awayConferenceId": a.conference_id,
        "awayConference": a.conference,
        "awaySeed": None,
        "awayPoints": None,
        "awayPeriodPoints": None,
        "awayWinner": None,
        "awayTeamEloStart": 1500 + a.id % 700,
        "awayTeamEloEnd": None,
        "excitement": None,
        "venueId": h.venue_id,
        "venue": h.venue,
        "city": h.city,
        "state": h.state,
    }
    rec.update(extra)
    return rec


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
    specs: list[tuple[dict[str, Any], bool]] = [
        (_game(1001, "2024-11-30T02:00:00.000Z", 2025, 96, 3001), False),
        (_game(1002, "2024-12-01T00:00:00.000Z", 2025, 72, 231), True),
        (_game(1003, "2024-12-01T19:30:00.000Z", 2025, 153, 72), True),
        (_game(1004, "2025-03-21T23:10:00.000Z", 2025, 72, 96, **ncaa), True),
        (_game(1005, "2023-12-02T01:00:00.000Z", 2024, 96, 231), False),
    ]
    games, plays, subs, lineups = [], {}, {}, {}
    for game, with_subs in specs:
        plays[game["id"]], subs[game["id"]], lineups[game["id"]] = simulate_game(game, _BY_ID, with_subs=with_subs)
        games.append(game)
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
    games.append(scheduled)
    return InMemoryApiData(
        games,
        plays={k: v for k, v in plays.items() if v},
        substitutions={k: v for k, v in subs.items() if v},
        lineups={k: v for k, v in lineups.items() if v},
        teams=fixture_teams(),
    )

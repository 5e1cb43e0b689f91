"""The wire field tables of cbbd_api.md (SDK 1.30.1): name -> (allowed JSON types, nullable)."""

from __future__ import annotations

from typing import Any

INT = (int,)
NUM = (int, float)
STR = (str,)
BOOL = (bool,)
LIST = (list,)
DICT = (dict,)

GAME_INFO: dict[str, tuple[tuple[type, ...], bool]] = {
    "id": (INT, False),
    "sourceId": (STR, False),
    "seasonLabel": (STR, False),
    "season": (INT, False),
    "seasonType": (STR, False),
    "startDate": (STR, False),
    "startTimeTbd": (BOOL, False),
    "neutralSite": (BOOL, False),
    "conferenceGame": (BOOL, False),
    "gameType": (STR, True),
    "tournament": (STR, True),
    "gameNotes": (STR, True),
    "status": (STR, False),
    "attendance": (INT, True),
    "homeTeamId": (INT, False),
    "homeTeam": (STR, False),
    "homeConferenceId": (INT, True),
    "homeConference": (STR, True),
    "homeSeed": (INT, True),
    "homePoints": (INT, True),
    "homePeriodPoints": (LIST, True),
    "homeWinner": (BOOL, True),
    "homeTeamEloStart": (INT, True),
    "homeTeamEloEnd": (INT, True),
    "awayTeamId": (INT, False),
    "awayTeam": (STR, False),
    "awayConferenceId": (INT, True),
    "awayConference": (STR, True),
    "awaySeed": (INT, True),
    "awayPoints": (INT, True),
    "awayPeriodPoints": (LIST, True),
    "awayWinner": (BOOL, True),
    "awayTeamEloStart": (INT, True),
    "awayTeamEloEnd": (INT, True),
    "excitement": (NUM, True),
    "venueId": (INT, True),
    "venue": (STR, True),
    "city": (STR, True),
    "state": (STR, True),
}

PLAY_INFO: dict[str, tuple[tuple[type, ...], bool]] = {
    "id": (INT, False),
    "sourceId": (STR, False),
    "gameId": (INT, False),
    "gameSourceId": (STR, False),
    "gameStartDate": (STR, False),
    "season": (NUM, False),
    "seasonType": (STR, False),
    "gameType": (STR, False),
    "tournament": (STR, True),
    "playType": (STR, False),
    "isHomeTeam": (BOOL, True),
    "teamId": (INT, True),
    "team": (STR, True),
    "conference": (STR, True),
    "teamSeed": (NUM, True),
    "opponentId": (INT, True),
    "opponent": (STR, True),
    "opponentConference": (STR, True),
    "opponentSeed": (NUM, True),
    "period": (INT, False),
    "clock": (STR, False),
    "secondsRemaining": (INT, False),
    "homeScore": (INT, False),
    "awayScore": (INT, False),
    "homeWinProbability": (NUM, True),
    "scoringPlay": (BOOL, True),
    "shootingPlay": (BOOL, True),
    "scoreValue": (NUM, True),
    "wallclock": (STR, True),
    "playText": (STR, True),
    "participants": (LIST, False),
    "onFloor": (LIST, False),
    "shotInfo": (DICT, True),
}

SUBSTITUTION: dict[str, tuple[tuple[type, ...], bool]] = {
    "gameId": (INT, False),
    "startDate": (STR, False),
    "teamId": (INT, False),
    "team": (STR, False),
    "conference": (STR, True),
    "athleteId": (INT, False),
    "athlete": (STR, False),
    "position": (STR, True),
    "opponentId": (INT, False),
    "opponent": (STR, False),
    "opponentConference": (STR, True),
    "subIn": (DICT, False),
    "subOut": (DICT, False),
}
SUB_IN = ("opponentPoints", "teamPoints", "secondsRemaining", "period")

LINEUP: dict[str, tuple[tuple[type, ...], bool]] = {
    "teamId": (INT, False),
    "team": (STR, False),
    "conference": (STR, False),
    "idHash": (STR, False),
    "athletes": (LIST, False),
    "totalSeconds": (NUM, False),
    "pace": (NUM, True),  # NaN on the server (0 possessions) is sent as null
    "offenseRating": (NUM, True),  # NaN on the server (0 possessions) is sent as null
    "defenseRating": (NUM, True),  # NaN on the server (0 possessions) is sent as null
    "netRating": (NUM, True),  # NaN on the server (0 possessions) is sent as null
    "teamStats": (DICT, False),
    "opponentStats": (DICT, False),
}
UNIT_STATS_INTS = (
    "possessions",
    "points",
    "blocks",
    "assists",
    "steals",
    "turnovers",
    "defensiveRebounds",
    "offensiveRebounds",
)
UNIT_STATS_KEYS = (
    *UNIT_STATS_INTS,
    "trueShooting",
    "fieldGoals",
    "twoPointers",
    "threePointers",
    "freeThrows",
    "fourFactors",
)

TEAM_INFO = (
    "id",
    "sourceId",
    "school",
    "mascot",
    "abbreviation",
    "displayName",
    "shortDisplayName",
    "primaryColor",
    "secondaryColor",
    "currentVenueId",
    "currentVenue",
    "currentCity",
    "currentState",
    "conferenceId",
    "conference",
    "logos",
)


def check_record(rec: dict[str, Any], spec: dict[str, tuple[tuple[type, ...], bool]], what: str) -> None:
    """Assert a record has exactly the spec's keys, in order, with the declared JSON types."""
    assert list(rec) == list(spec), f"{what}: keys {list(rec)}"
    for key, (types, nullable) in spec.items():
        v = rec[key]
        if v is None:
            assert nullable, f"{what}.{key} is null"
            continue
        ok = isinstance(v, types) and not (bool not in types and isinstance(v, bool))
        assert ok, f"{what}.{key}={v!r} is not {types}"

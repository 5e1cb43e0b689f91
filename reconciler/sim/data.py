"""What the simulator serves: the :class:`ApiData` provider protocol and a dict-backed provider.

A provider hands out records already in wire shape (camelCase keys, every key present, ``null``
for missing values, ``YYYY-MM-DDTHH:MM:SS.sssZ`` timestamps, ending-year seasons). The simulator
filters, orders, caps and aggregates them the way the real API does (cbbd_api.md §4); it never
invents fields. The key tuples below are the exact wire key sets of the SDK 1.30.1 models.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

__all__ = [
    "GAME_KEYS",
    "LINEUP_KEYS",
    "PLAY_KEYS",
    "SUBSTITUTION_KEYS",
    "TEAM_KEYS",
    "ApiData",
    "InMemoryApiData",
    "iso_z",
]

GAME_KEYS: tuple[str, ...] = (
    "id", "sourceId", "seasonLabel", "season", "seasonType", "startDate", "startTimeTbd",
    "neutralSite", "conferenceGame", "gameType", "tournament", "gameNotes", "status", "attendance",
    "homeTeamId", "homeTeam", "homeConferenceId", "homeConference", "homeSeed", "homePoints",
    "homePeriodPoints", "homeWinner", "homeTeamEloStart", "homeTeamEloEnd", "awayTeamId", "awayTeam",
    "awayConferenceId", "awayConference", "awaySeed", "awayPoints", "awayPeriodPoints", "awayWinner",
    "awayTeamEloStart", "awayTeamEloEnd", "excitement", "venueId", "venue", "city", "state",
)  # fmt: skip
PLAY_KEYS: tuple[str, ...] = (
    "id", "sourceId", "gameId", "gameSourceId", "gameStartDate", "season", "seasonType", "gameType",
    "tournament", "playType", "isHomeTeam", "teamId", "team", "conference", "teamSeed", "opponentId",
    "opponent", "opponentConference", "opponentSeed", "period", "clock", "secondsRemaining",
    "homeScore", "awayScore", "homeWinProbability", "scoringPlay", "shootingPlay", "scoreValue",
    "wallclock", "playText", "participants", "onFloor", "shotInfo",
)  # fmt: skip
SUBSTITUTION_KEYS: tuple[str, ...] = (
    "gameId", "startDate", "teamId", "team", "conference", "athleteId", "athlete", "position",
    "opponentId", "opponent", "opponentConference", "subIn", "subOut",
)  # fmt: skip
LINEUP_KEYS: tuple[str, ...] = (
    "teamId", "team", "conference", "idHash", "athletes", "totalSeconds", "pace", "offenseRating",
    "defenseRating", "netRating", "teamStats", "opponentStats",
)  # fmt: skip
TEAM_KEYS: tuple[str, ...] = (
    "id", "sourceId", "school", "mascot", "abbreviation", "displayName", "shortDisplayName",
    "primaryColor", "secondaryColor", "currentVenueId", "currentVenue", "currentCity", "currentState",
    "conferenceId", "conference", "logos",
)  # fmt: skip


class ApiData(Protocol):
    """The records a simulator serves. Implementations must be safe to read from many threads."""

    def games(self) -> Sequence[Mapping[str, Any]]:
        """Every GameInfo record (wire shape, all 39 keys), in any order."""
        ...

    def plays(self, game_id: int) -> list[dict[str, Any]]:
        """PlayInfo records of the game ([] if the API has none / unknown id)."""
        ...

    def substitutions(self, game_id: int) -> list[dict[str, Any]]:
        """PlayerSubsititution records of the game ([] if none)."""
        ...

    def lineups(self, game_id: int) -> list[dict[str, Any]]:
        """LineupStats records of the game, both teams, with no gameId/season ([] if none)."""
        ...

    def teams(self) -> Sequence[Mapping[str, Any]]:
        """TeamInfo records."""
        ...


class InMemoryApiData:
    """A dict-backed :class:`ApiData`, for tests and small fixtures."""

    def __init__(
        self,
        games: Iterable[Mapping[str, Any]] = (),
        *,
        plays: Mapping[int, list[dict[str, Any]]] | None = None,
        substitutions: Mapping[int, list[dict[str, Any]]] | None = None,
        lineups: Mapping[int, list[dict[str, Any]]] | None = None,
        teams: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        """Hold the given records.

        Args:
            games: GameInfo records.
            plays: PlayInfo records by game id.
            substitutions: PlayerSubsititution records by game id.
            lineups: LineupStats records by game id.
            teams: TeamInfo records.
        """
        self._games = list(games)
        self._plays = dict(plays or {})
        self._subs = dict(substitutions or {})
        self._lineups = dict(lineups or {})
        self._teams = list(teams)

    def games(self) -> Sequence[Mapping[str, Any]]:
        """Every GameInfo record."""
        return self._games

    def plays(self, game_id: int) -> list[dict[str, Any]]:
        """PlayInfo records of the game ([] if none)."""
        return list(self._plays.get(game_id, []))

    def substitutions(self, game_id: int) -> list[dict[str, Any]]:
        """PlayerSubsititution records of the game ([] if none)."""
        return list(self._subs.get(game_id, []))

    def lineups(self, game_id: int) -> list[dict[str, Any]]:
        """LineupStats records of the game ([] if none)."""
        return list(self._lineups.get(game_id, []))

    def teams(self) -> Sequence[Mapping[str, Any]]:
        """TeamInfo records."""
        return self._teams


def iso_z(moment: datetime) -> str:
    """Format a moment the way the API does: UTC, millisecond precision, ``Z`` suffix.

    Args:
        moment: An aware datetime, or a naive one taken to be UTC.

    Returns:
        e.g. ``2024-12-01T00:00:00.000Z``.
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

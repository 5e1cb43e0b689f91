"""Game lookups for the simulator, built once at startup so that a 100,000-game provider stays fast.

Games are kept in the API's order (``startDate`` then ``id``) with their start instants in
epoch milliseconds; per-team, per-season and per-conference position lists let a filtered query
touch only the games that can match, and date ranges are cut by bisection.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = ["GameIndex", "parse_instant"]

DAY_MS = 86_400_000


def parse_instant(raw: str) -> int:
    """Parse an API date-time parameter or field into epoch milliseconds.

    A date-only value means 00:00 UTC; a value without an offset is UTC (the SDK sends naive
    ``%Y-%m-%dT%H:%M:%S.%f`` values); ``Z`` and ``±HH:MM``/``±HHMM`` offsets are honoured.

    Args:
        raw: e.g. ``2024-12-01``, ``2024-12-01T00:00:00.000Z``.

    Returns:
        Milliseconds since the epoch.

    Raises:
        ValueError: If the value is not an ISO 8601 date or date-time.
    """
    text = raw.strip()
    if not text or not text[0].isdigit():
        raise ValueError(f"not a date-time: {raw!r}")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


class GameIndex:
    """The provider's games in API order, with lookups by id, team, season and conference."""

    def __init__(self, games: Sequence[Mapping[str, Any]]) -> None:
        """Index the games.

        Args:
            games: GameInfo records in any order.

        Raises:
            ValueError: If a game's ``startDate`` cannot be parsed.
        """
        keyed = sorted(((parse_instant(str(g["startDate"])), int(g["id"]), g) for g in games), key=_order)
        self._games: list[Mapping[str, Any]] = [g for _, _, g in keyed]
        self._start: list[int] = [start for start, _, _ in keyed]
        self._pos: dict[int, int] = {}
        self._team: dict[str, list[int]] = {}
        self._season: dict[int, list[int]] = {}
        self._conference: dict[str, list[int]] = {}
        for pos, (_, gid, g) in enumerate(keyed):
            self._pos[gid] = pos
            self._season.setdefault(int(g["season"]), []).append(pos)
            for index, home, away in (
                (self._team, g.get("homeTeam"), g.get("awayTeam")),
                (self._conference, g.get("homeConference"), g.get("awayConference")),
            ):
                names = {n for n in (_lower(home), _lower(away)) if n}
                for name in names:
                    index.setdefault(name, []).append(pos)

    def __len__(self) -> int:
        return len(self._games)

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        return iter(self._games)

    def get(self, game_id: int) -> Mapping[str, Any] | None:
        """The game with this id, or None."""
        pos = self._pos.get(game_id)
        return None if pos is None else self._games[pos]

    def start_ms(self, game_id: int) -> int | None:
        """The game's start in epoch milliseconds, or None for an unknown id."""
        pos = self._pos.get(game_id)
        return None if pos is None else self._start[pos]

    def select(
        self,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        team: str | None = None,
        conference: str | None = None,
        season: int | None = None,
        season_type: str | None = None,
        status: str | None = None,
        tournament: str | None = None,
        limit: int | None = None,
    ) -> list[Mapping[str, Any]]:
        """Games matching every given filter, in API order, at most ``limit`` of them.

        Args:
            start_ms: ``startDate >= start_ms`` (inclusive).
            end_ms: ``startDate <= end_ms`` (inclusive).
            team: Home or away school, case-insensitive equality.
            conference: Home or away conference, case-insensitive equality.
            season: The ending-year season.
            season_type: ``regular``, ``postseason`` or ``preseason``.
            status: The game status.
            tournament: Tournament short name, case-insensitive equality.
            limit: The cap (silent truncation, as the API does); None for no cap.

        Returns:
            The matching games.
        """
        candidates: Sequence[int]
        if team is not None:
            candidates = self._team.get(team.lower(), [])
        elif season is not None:
            candidates = self._season.get(season, [])
        elif conference is not None:
            candidates = self._conference.get(conference.lower(), [])
        else:
            candidates = range(len(self._games))
        lo = 0 if start_ms is None else bisect_left(candidates, start_ms, key=self._start.__getitem__)
        hi = len(candidates)
        if end_ms is not None:
            hi = bisect_right(candidates, end_ms, key=self._start.__getitem__)
        conf = conference.lower() if conference is not None else None
        tourney = tournament.lower() if tournament is not None else None
        out: list[Mapping[str, Any]] = []
        for i in range(lo, hi):
            g = self._games[candidates[i]]
            if season is not None and g["season"] != season:
                continue
            if conf is not None and conf not in (_lower(g["homeConference"]), _lower(g["awayConference"])):
                continue
            if season_type is not None and g["seasonType"] != season_type:
                continue
            if status is not None and g["status"] != status:
                continue
            if tourney is not None and _lower(g["tournament"]) != tourney:
                continue
            out.append(g)
            if limit is not None and len(out) >= limit:
                break
        return out

    def team_ids(self, season: int) -> set[int]:
        """Ids of every team that plays a game in the season."""
        ids: set[int] = set()
        for pos in self._season.get(season, []):
            g = self._games[pos]
            ids.update((int(g["homeTeamId"]), int(g["awayTeamId"])))
        return ids


def _order(item: tuple[int, int, Mapping[str, Any]]) -> tuple[int, int]:
    return item[0], item[1]

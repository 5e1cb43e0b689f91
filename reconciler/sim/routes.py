"""The simulator's route table: path pattern → handler, with the declared params that drive 400s.

Adding an endpoint is one decorated function::

    @route("/plays/game/{gameId}", Param("gameId", "int", required=True))
    def plays_by_game(store: SimStore, p: Params) -> list[Any]:
        return store.plays_of([p["gameId"]])

Path placeholders must be declared as params; every declared param is parsed and validated
(tsoa-style messages) before the handler runs, and unknown query params are ignored, as the API
does (cbbd_api.md §1.6).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.lake.lineups import sum_lineups
from reconciler.sim.data import ApiData
from reconciler.sim.index import DAY_MS, GameIndex, parse_instant

__all__ = ["GAMES_CAP", "ROUTES", "Param", "Route", "SimStore", "ValidationFailed", "match", "route"]

GAMES_CAP = 3000
SEASON_TYPES = ("regular", "postseason", "preseason")
GAME_STATUSES = ("scheduled", "in_progress", "final", "postponed", "cancelled")

ParamKind = Literal["int", "number", "bool", "str", "datetime", "enum"]
Params = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Param:
    """A declared parameter: its wire name, type and whether it is required."""

    name: str
    kind: ParamKind = "str"
    required: bool = False
    choices: tuple[str, ...] = ()


class ValidationFailed(Exception):
    """Parameters failed validation; ``details`` is the body's ``details`` object."""

    def __init__(self, details: dict[str, dict[str, Any]]) -> None:
        self.details = details
        super().__init__("Validation Failed")


class SimStore:
    """The provider plus its game index: what every handler reads."""

    def __init__(self, data: ApiData) -> None:
        """Index the provider's games.

        Args:
            data: The records to serve.
        """
        self.data = data
        self.index = GameIndex(data.games())

    def plays_of(self, game_ids: Sequence[int], shooting_only: bool = False) -> list[Any]:
        """Plays of the games, in the given game order, each game's ordered by period and clock."""
        out: list[Any] = []
        for gid in game_ids:
            plays = sorted(self.data.plays(gid), key=lambda p: (p["period"], -p["secondsRemaining"]))
            if shooting_only:
                plays = [p for p in plays if p.get("shootingPlay") or p.get("playType") == "MadeFreeThrow"]
            out.extend(plays)
        return out


Handler = Callable[[SimStore, Params], list[Any]]


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint: its pattern, handler and declared params."""

    pattern: str
    handler: Handler
    params: tuple[Param, ...]
    regex: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        names = re.findall(r"{(\w+)}", self.pattern)
        declared = {p.name for p in self.params}
        missing = [n for n in names if n not in declared]
        if missing:
            raise ValueError(f"{self.pattern}: path params {missing} are not declared")
        regex = "^" + re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", self.pattern) + "/?$"
        object.__setattr__(self, "regex", re.compile(regex))


ROUTES: dict[str, Route] = {}


def route(pattern: str, *params: Param) -> Callable[[Handler], Handler]:
    """Register a handler for a path pattern (``{name}`` marks a path param).

    Args:
        pattern: e.g. ``/plays/game/{gameId}``.
        *params: The params the endpoint declares (path and query).

    Returns:
        A decorator that registers the handler and returns it unchanged.
    """

    def register(handler: Handler) -> Handler:
        ROUTES[pattern] = Route(pattern, handler, tuple(params))
        return handler

    return register


def match(path: str) -> tuple[Route, dict[str, str]] | None:
    """The route serving ``path`` and its raw path params, or None (a 404)."""
    for candidate in ROUTES.values():
        found = candidate.regex.match(path)
        if found:
            return candidate, found.groupdict()
    return None


_MESSAGES = {
    "int": "invalid integer number",
    "number": "invalid float number",
    "bool": "invalid boolean value",
    "datetime": "invalid ISO 8601 datetime format, i.e. YYYY-MM-DDTHH:MM:SS",
}


def _convert(param: Param, raw: str) -> Any:
    if param.kind == "int":
        if not re.fullmatch(r"[+-]?\d+", raw.strip()):
            raise ValueError
        return int(raw)
    if param.kind == "number":
        return float(raw)
    if param.kind == "bool":
        lowered = raw.strip().lower()
        if lowered not in ("true", "false", "1", "0"):
            raise ValueError
        return lowered in ("true", "1")
    if param.kind == "datetime":
        return parse_instant(raw)
    if param.kind == "enum" and raw not in param.choices:
        raise ValueError
    return raw


def validate(found: Route, path_params: Mapping[str, str], query: Mapping[str, str]) -> Params:
    """Parse and check the declared params of a request.

    Args:
        found: The matched route.
        path_params: Raw path params from the URL.
        query: Raw query params (first value of each).

    Returns:
        Each declared param present, converted (datetimes to epoch ms), absent ones as None.

    Raises:
        ValidationFailed: With tsoa-style details for every bad or missing param.
    """
    values: Params = {}
    details: dict[str, dict[str, Any]] = {}
    for param in found.params:
        raw = path_params.get(param.name, query.get(param.name))
        if raw is None or (raw == "" and param.kind != "str"):
            if param.required:
                details[param.name] = {"message": f"'{param.name}' is required", "value": raw}
            values[param.name] = None
            continue
        try:
            values[param.name] = _convert(param, raw)
        except ValueError:
            message = _MESSAGES.get(param.kind) or "should be one of the following; [{}]".format(
                ",".join(f"'{c}'" for c in param.choices)
            )
            details[param.name] = {"message": message, "value": raw}
    if details:
        raise ValidationFailed(details)
    return values


_GAME = Param("gameId", "int", required=True)
_SEASON = Param("season", "int", required=True)
_TEAM = Param("team", "str", required=True)
_START, _END = Param("startDateRange", "datetime"), Param("endDateRange", "datetime")
_SHOOTING = Param("shootingPlaysOnly", "bool")


@route(
    "/games",
    _START,
    _END,
    Param("team"),
    Param("conference"),
    Param("season", "int"),
    Param("seasonType", "enum", choices=SEASON_TYPES),
    Param("status", "enum", choices=GAME_STATUSES),
    Param("tournament"),
)
def games(store: SimStore, p: Params) -> list[Any]:
    """GameInfo records, ``startDate`` ascending, silently capped at 3,000."""
    return store.index.select(
        start_ms=p["startDateRange"],
        end_ms=p["endDateRange"],
        team=p["team"],
        conference=p["conference"],
        season=p["season"],
        season_type=p["seasonType"],
        status=p["status"],
        tournament=p["tournament"],
        limit=GAMES_CAP,
    )


@route("/plays/game/{gameId}", _GAME, _SHOOTING)
def plays_by_game(store: SimStore, p: Params) -> list[Any]:
    """Every play of one game (``[]`` for an unknown game)."""
    return store.plays_of([p["gameId"]], bool(p["shootingPlaysOnly"]))


@route("/plays/date", Param("date", "datetime", required=True), _SHOOTING, Param("utcOffset", "number"))
def plays_by_date(store: SimStore, p: Params) -> list[Any]:
    """Plays of the games starting in ``[date, date + 1 day]``, both ends inclusive.

    ``utcOffset`` is validated but ignored: the real server's handling of it looks buggy
    (cbbd_api.md §4.5.2) and clients are advised to query UTC days.
    """
    day = store.index.select(start_ms=p["date"], end_ms=p["date"] + DAY_MS)
    return store.plays_of([g["id"] for g in day], bool(p["shootingPlaysOnly"]))


@route("/plays/team", _SEASON, _TEAM, _SHOOTING)
def plays_by_team(store: SimStore, p: Params) -> list[Any]:
    """Both teams' plays of the games where the team is home or away in the season."""
    chosen = store.index.select(team=p["team"], season=p["season"])
    return store.plays_of([g["id"] for g in chosen], bool(p["shootingPlaysOnly"]))


@route("/substitutions/game/{gameId}", _GAME)
def substitutions_by_game(store: SimStore, p: Params) -> list[Any]:
    """Both teams' stints of one game."""
    return store.data.substitutions(p["gameId"])


@route("/substitutions/team", _SEASON, _TEAM)
def substitutions_by_team(store: SimStore, p: Params) -> list[Any]:
    """The team's own stints (not its opponents') across its games of the season."""
    team = p["team"].lower()
    out: list[Any] = []
    for g in store.index.select(team=p["team"], season=p["season"]):
        out.extend(s for s in store.data.substitutions(g["id"]) if str(s["team"]).lower() == team)
    return out


@route("/lineups/game/{gameId}", _GAME)
def lineups_by_game(store: SimStore, p: Params) -> list[Any]:
    """Both teams' units of one game."""
    return store.data.lineups(p["gameId"])


@route("/lineups/team", _SEASON, _TEAM, _START, _END)
def lineups_by_team(store: SimStore, p: Params) -> list[Any]:
    """The team's units aggregated across its games of the season (or the date window)."""
    team = p["team"].lower()
    chosen = store.index.select(
        team=p["team"], season=p["season"], start_ms=p["startDateRange"], end_ms=p["endDateRange"]
    )
    per_game = (rec for g in chosen for rec in store.data.lineups(g["id"]) if str(rec["team"]).lower() == team)
    return sum_lineups(per_game)


@route("/teams", Param("conference"), Param("season", "int"))
def teams(store: SimStore, p: Params) -> list[Any]:
    """TeamInfo records; ``conference`` is case-sensitive; ``season`` keeps D-I teams playing then.

    D-I here means having a conference, the server's membership join (cbbd_api.md §4.8.1).
    """
    out = list(store.data.teams())
    if p["conference"] is not None:
        out = [t for t in out if t.get("conference") == p["conference"]]
    if p["season"] is not None:
        playing = store.index.team_ids(p["season"])
        out = [t for t in out if t.get("conference") is not None and t["id"] in playing]
    return out

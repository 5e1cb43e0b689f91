"""Fixed, declared schemas of the tables the reconciler writes, and the flattening of API records.

A silver file's schema is never inferred from its batch (the cause of the lake's type drift,
``cbbd_etl_lake.md`` §5.1): every write casts to the declared schema here. Nested values are
stored as JSON text. Column names follow the existing lake (``cbbd_etl_lake.md`` §5.3-5.6).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

__all__ = [
    "BRONZE_TABLES",
    "SILVER_TABLES",
    "TableBuilder",
    "TableSchema",
    "bronze_schema",
    "records_to_table",
    "silver_schema",
]

_I64 = pa.int64()
_I32 = pa.int32()
_F64 = pa.float64()
_STR = pa.string()
_BOOL = pa.bool_()

Row = dict[str, Any]
Flatten = Callable[[Mapping[str, Any], Mapping[str, Any]], Row]


@dataclass(frozen=True, slots=True)
class TableSchema:
    """A table's declared schema, natural key and record flattener.

    Attributes:
        name: Table name (silver table, or bronze endpoint table).
        schema: The Arrow schema every file of the table is cast to.
        key: The natural key columns (unique per row once de-duplicated).
        unit_column: The column that names the unit (``gameId``) for coverage.
        flatten: Turns one API record (plus context such as season/date) into a row.
    """

    name: str
    schema: pa.Schema
    key: tuple[str, ...]
    unit_column: str
    flatten: Flatten


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, separators=(",", ":"))


def _get(d: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(d, Mapping):
            return None
        d = d.get(p)
    return d


# ---------------------------------------------------------------------------- fct_games
_GAME_WIRE: list[tuple[str, pa.DataType]] = [
    ("id", _I64),
    ("sourceId", _STR),
    ("seasonLabel", _STR),
    ("season", _I32),
    ("seasonType", _STR),
    ("startDate", _STR),
    ("startTimeTbd", _BOOL),
    ("neutralSite", _BOOL),
    ("conferenceGame", _BOOL),
    ("gameType", _STR),
    ("tournament", _STR),
    ("gameNotes", _STR),
    ("status", _STR),
    ("attendance", _I64),
    ("homeTeamId", _I64),
    ("homeTeam", _STR),
    ("homeConferenceId", _I64),
    ("homeConference", _STR),
    ("homeSeed", _STR),
    ("homePoints", _I64),
    ("homePeriodPoints", _STR),
    ("homeWinner", _BOOL),
    ("homeTeamEloStart", _I64),
    ("homeTeamEloEnd", _I64),
    ("awayTeamId", _I64),
    ("awayTeam", _STR),
    ("awayConferenceId", _I64),
    ("awayConference", _STR),
    ("awaySeed", _STR),
    ("awayPoints", _I64),
    ("awayPeriodPoints", _STR),
    ("awayWinner", _BOOL),
    ("awayTeamEloStart", _I64),
    ("awayTeamEloEnd", _I64),
    ("excitement", _F64),
    ("venueId", _I64),
    ("venue", _STR),
    ("city", _STR),
    ("state", _STR),
]
_GAMES_SILVER = pa.schema([*_GAME_WIRE[:1], ("gameId", _I64), *_GAME_WIRE[1:]])


def _flatten_game(rec: Mapping[str, Any], ctx: Mapping[str, Any]) -> Row:
    row: Row = {name: rec.get(name) for name, _ in _GAME_WIRE}
    row["gameId"] = rec.get("id")
    for side in ("home", "away"):
        seed = rec.get(f"{side}Seed")
        row[f"{side}Seed"] = None if seed is None else str(seed)
        row[f"{side}PeriodPoints"] = _json(rec.get(f"{side}PeriodPoints"))
    return row


# ---------------------------------------------------------------------------- fct_plays
_PLAY_WIRE: list[tuple[str, pa.DataType]] = [
    ("id", _I64),
    ("sourceId", _STR),
    ("gameId", _I64),
    ("gameSourceId", _STR),
    ("gameStartDate", _STR),
    ("season", _I32),
    ("seasonType", _STR),
    ("gameType", _STR),
    ("tournament", _STR),
    ("playType", _STR),
    ("isHomeTeam", _BOOL),
    ("teamId", _I64),
    ("team", _STR),
    ("conference", _STR),
    ("teamSeed", _F64),
    ("opponentId", _I64),
    ("opponent", _STR),
    ("opponentConference", _STR),
    ("opponentSeed", _F64),
    ("period", _I64),
    ("clock", _STR),
    ("secondsRemaining", _I64),
    ("homeScore", _I64),
    ("awayScore", _I64),
    ("homeWinProbability", _F64),
    ("scoringPlay", _BOOL),
    ("shootingPlay", _BOOL),
    ("scoreValue", _F64),
    ("wallclock", _STR),
    ("playText", _STR),
    ("participants", _STR),
    ("onFloor", _STR),
    ("shotInfo", _STR),
]
_PLAY_DERIVED: list[tuple[str, pa.DataType]] = [
    *[(f"onfloor_player{i}", _I64) for i in range(1, 11)],
    ("participant_id", _I64),
    ("shot_shooter_id", _I64),
    ("shot_shooter_name", _STR),
    ("shot_made", _BOOL),
    ("shot_range", _STR),
    ("shot_assisted", _BOOL),
    ("shot_assisted_by_id", _I64),
    ("shot_assisted_by_name", _STR),
    ("shot_loc_x", _F64),
    ("shot_loc_y", _F64),
]
_PLAYS_SILVER = pa.schema(_PLAY_WIRE + _PLAY_DERIVED)
_NESTED_PLAY = ("participants", "onFloor", "shotInfo")


def _flatten_play(rec: Mapping[str, Any], ctx: Mapping[str, Any]) -> Row:
    row: Row = {name: rec.get(name) for name, _ in _PLAY_WIRE}
    for n in _NESTED_PLAY:
        row[n] = _json(rec.get(n))
    floor = rec.get("onFloor")
    ids = [p.get("id") for p in floor if isinstance(p, Mapping)] if isinstance(floor, list) else []
    for i in range(10):
        row[f"onfloor_player{i + 1}"] = ids[i] if i < len(ids) else None
    parts = rec.get("participants")
    row["participant_id"] = _get(parts[0], "id") if isinstance(parts, list) and parts else None
    shot = rec.get("shotInfo")
    row["shot_shooter_id"] = _get(shot, "shooter", "id")
    row["shot_shooter_name"] = _get(shot, "shooter", "name")
    row["shot_made"] = _get(shot, "made")
    row["shot_range"] = _get(shot, "range")
    row["shot_assisted"] = _get(shot, "assisted")
    row["shot_assisted_by_id"] = _get(shot, "assistedBy", "id")
    row["shot_assisted_by_name"] = _get(shot, "assistedBy", "name")
    row["shot_loc_x"] = _get(shot, "location", "x")
    row["shot_loc_y"] = _get(shot, "location", "y")
    return row


# ---------------------------------------------------------------------------- fct_substitutions
_SUB_WIRE: list[tuple[str, pa.DataType]] = [
    ("gameId", _I64),
    ("startDate", _STR),
    ("teamId", _I64),
    ("team", _STR),
    ("conference", _STR),
    ("athleteId", _I64),
    ("athlete", _STR),
    ("position", _STR),
    ("opponentId", _I64),
    ("opponent", _STR),
    ("opponentConference", _STR),
    ("subIn", _STR),
    ("subOut", _STR),
]
_SUB_DERIVED: list[tuple[str, pa.DataType]] = [
    ("season", _I32),
    *[
        (f"sub_{side}_{f}", _I64)
        for side in ("in", "out")
        for f in ("period", "seconds_remaining", "team_points", "opponent_points")
    ],
]
_SUBS_SILVER = pa.schema(_SUB_WIRE + _SUB_DERIVED)
_SUB_FIELDS = {
    "period": "period",
    "seconds_remaining": "secondsRemaining",
    "team_points": "teamPoints",
    "opponent_points": "opponentPoints",
}


def _flatten_sub(rec: Mapping[str, Any], ctx: Mapping[str, Any]) -> Row:
    row: Row = {name: rec.get(name) for name, _ in _SUB_WIRE}
    row["subIn"] = _json(rec.get("subIn"))
    row["subOut"] = _json(rec.get("subOut"))
    row["season"] = ctx.get("season", rec.get("season"))
    for side, wire in (("in", "subIn"), ("out", "subOut")):
        for col, field in _SUB_FIELDS.items():
            row[f"sub_{side}_{col}"] = _get(rec.get(wire), field)
    return row


# ---------------------------------------------------------------------------- fct_lineups
_LINEUPS_SILVER = pa.schema(
    [
        ("teamid", _I64),
        ("team", _STR),
        ("conference", _STR),
        ("idhash", _STR),
        ("athletes", _STR),
        ("totalseconds", _F64),
        ("pace", _F64),
        ("offenserating", _F64),
        ("defenserating", _F64),
        ("netrating", _F64),
        ("teamstats", _STR),
        ("opponentstats", _STR),
        ("season", _I32),
        ("date", _STR),
        ("gameId", _I64),
    ]
)


def _flatten_lineup(rec: Mapping[str, Any], ctx: Mapping[str, Any]) -> Row:
    return {
        "teamid": rec.get("teamId"),
        "team": rec.get("team"),
        "conference": rec.get("conference"),
        "idhash": rec.get("idHash"),
        "athletes": _json(rec.get("athletes")),
        "totalseconds": rec.get("totalSeconds"),
        "pace": rec.get("pace"),
        "offenserating": rec.get("offenseRating"),
        "defenserating": rec.get("defenseRating"),
        "netrating": rec.get("netRating"),
        "teamstats": _json(rec.get("teamStats")),
        "opponentstats": _json(rec.get("opponentStats")),
        "season": ctx.get("season", rec.get("season")),
        "date": ctx.get("date", rec.get("date")),
        "gameId": ctx.get("gameId", rec.get("gameId")),
    }


SILVER_TABLES: dict[str, TableSchema] = {
    "fct_games": TableSchema("fct_games", _GAMES_SILVER, ("gameId",), "gameId", _flatten_game),
    "fct_plays": TableSchema("fct_plays", _PLAYS_SILVER, ("id",), "gameId", _flatten_play),
    "fct_substitutions": TableSchema(
        "fct_substitutions",
        _SUBS_SILVER,
        ("gameId", "athleteId", "sub_in_period", "sub_in_seconds_remaining"),
        "gameId",
        _flatten_sub,
    ),
    "fct_lineups": TableSchema(
        "fct_lineups", _LINEUPS_SILVER, ("gameId", "teamid", "idhash"), "gameId", _flatten_lineup
    ),
}


# ---------------------------------------------------------------------------- bronze
def _bronze_flatten(wire: Sequence[tuple[str, pa.DataType]], extra: Sequence[str] = ()) -> Flatten:
    names = [n for n, _ in wire]
    # A scalar in a column declared string (e.g. the int `homeSeed`) is cast with str(), as cbbd_etl does.
    text = {n for n, t in wire if t == _STR}

    def flat(rec: Mapping[str, Any], ctx: Mapping[str, Any]) -> Row:
        row: Row = {}
        for n in names:
            v = rec.get(n)
            if isinstance(v, list | dict):
                row[n] = _json(v)
            else:
                row[n] = str(v) if n in text and v is not None and not isinstance(v, str) else v
        for n in extra:
            row[n] = ctx.get(n, rec.get(n))
        return row

    return flat


_LINEUP_WIRE: list[tuple[str, pa.DataType]] = [
    ("teamId", _I64),
    ("team", _STR),
    ("conference", _STR),
    ("idHash", _STR),
    ("athletes", _STR),
    ("totalSeconds", _F64),
    ("pace", _F64),
    ("offenseRating", _F64),
    ("defenseRating", _F64),
    ("netRating", _F64),
    ("teamStats", _STR),
    ("opponentStats", _STR),
]
_LINEUP_INJECTED: list[tuple[str, pa.DataType]] = [("season", _I32), ("date", _STR), ("gameId", _I64)]

BRONZE_TABLES: dict[str, TableSchema] = {
    "games": TableSchema("games", pa.schema(_GAME_WIRE), ("id",), "id", _bronze_flatten(_GAME_WIRE)),
    "plays_game": TableSchema("plays_game", pa.schema(_PLAY_WIRE), ("id",), "gameId", _bronze_flatten(_PLAY_WIRE)),
    "plays_date": TableSchema("plays_date", pa.schema(_PLAY_WIRE), ("id",), "gameId", _bronze_flatten(_PLAY_WIRE)),
    "plays_team": TableSchema("plays_team", pa.schema(_PLAY_WIRE), ("id",), "gameId", _bronze_flatten(_PLAY_WIRE)),
    "substitutions_game": TableSchema(
        "substitutions_game",
        pa.schema([*_SUB_WIRE, ("season", _I32)]),
        ("gameId", "athleteId", "subIn"),
        "gameId",
        _bronze_flatten(_SUB_WIRE, ("season",)),
    ),
    "substitutions_team": TableSchema(
        "substitutions_team",
        pa.schema([*_SUB_WIRE, ("season", _I32)]),
        ("gameId", "athleteId", "subIn"),
        "gameId",
        _bronze_flatten(_SUB_WIRE, ("season",)),
    ),
    "lineups_game": TableSchema(
        "lineups_game",
        pa.schema(_LINEUP_WIRE + _LINEUP_INJECTED),
        ("gameId", "teamId", "idHash"),
        "gameId",
        _bronze_flatten(_LINEUP_WIRE, ("season", "date", "gameId")),
    ),
}


def silver_schema(table: str) -> TableSchema:
    """The declared schema of a silver table.

    Args:
        table: e.g. ``fct_plays``.

    Returns:
        Its :class:`TableSchema`.

    Raises:
        KeyError: For a table without a declared schema.
    """
    return SILVER_TABLES[table]


def bronze_schema(table: str) -> TableSchema:
    """The declared schema of a bronze table (endpoint name, e.g. ``plays_game``).

    Args:
        table: The bronze table.

    Returns:
        Its :class:`TableSchema`.

    Raises:
        KeyError: For a table without a declared schema.
    """
    return BRONZE_TABLES[table]


class TableBuilder:
    """Flatten API records into a table with exactly the declared schema, a batch at a time.

    Records are flattened one at a time; every ``batch_rows`` rows the batch becomes Arrow
    arrays: at most one batch of Python values is alive, however many records pass (a day of
    plays is 10-20 MB of JSON, several times that as Python objects).
    """

    def __init__(self, schema: TableSchema, ctx: Mapping[str, Any] | None = None, batch_rows: int = 2048) -> None:
        """Start an empty table.

        Args:
            schema: The target table schema.
            ctx: Context injected into rows (e.g. ``season``, ``date``, ``gameId``).
            batch_rows: Rows flattened before they are converted to Arrow.
        """
        self._schema = schema
        self._ctx: Mapping[str, Any] = ctx or {}
        self._batch_rows = max(1, batch_rows)
        self._rows: list[Row] = []
        self._batches: list[pa.RecordBatch] = []

    def add(self, record: Mapping[str, Any]) -> None:
        """Flatten one API record (wire shape) into the table.

        Args:
            record: The record.

        Raises:
            pyarrow.ArrowInvalid: If a value of the batch it completes cannot be cast to its type.
        """
        self._rows.append(self._schema.flatten(record, self._ctx))
        if len(self._rows) >= self._batch_rows:
            self._flush()

    def _flush(self) -> None:
        rows = self._rows
        if not rows:
            return
        arrays = [pa.array([r.get(f.name) for r in rows], type=f.type, from_pandas=False) for f in self._schema.schema]
        self._batches.append(pa.RecordBatch.from_arrays(arrays, schema=self._schema.schema))
        self._rows = []

    def finish(self) -> pa.Table:
        """The table of every record added (one contiguous chunk per column).

        Returns:
            A table whose schema equals the declared schema.

        Raises:
            pyarrow.ArrowInvalid: If a value of the last batch cannot be cast to its type.
        """
        self._flush()
        table = pa.Table.from_batches(self._batches, schema=self._schema.schema).combine_chunks()
        self._batches = []
        return table


def records_to_table(
    schema: TableSchema, records: Iterable[Mapping[str, Any]], ctx: Mapping[str, Any] | None = None
) -> pa.Table:
    """Flatten API records into an Arrow table with exactly the declared schema.

    Args:
        schema: The target table schema.
        records: API records (wire shape).
        ctx: Context injected into rows (e.g. ``season``, ``date``, ``gameId``).

    Returns:
        A table whose schema equals ``schema.schema``.

    Raises:
        pyarrow.ArrowInvalid: If a value cannot be cast to its declared type.
    """
    builder = TableBuilder(schema, ctx)
    for r in records:
        builder.add(r)
    return builder.finish()

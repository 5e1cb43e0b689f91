"""API bodies straight to Arrow columns in the declared schemas, never a list of Python dicts.

A day of plays is a 9-16 MB JSON array; decoded into Python dicts it takes 35-80 MB and holds
the interpreter lock for hundreds of milliseconds, which stalls the request pacer. Here DuckDB's
JSON reader parses the body (outside the interpreter lock) and SQL projects each element onto a
table's declared columns (:mod:`reconciler.lake.schemas`), exactly as the record flatteners
there do: the same columns, types and derived values (``onfloor_player1`` … from ``onFloor``,
``shot_*`` from ``shotInfo``, ``sub_in_*`` from ``subIn``, lineups' lower-case names, context
columns such as ``season`` injected). Nested values become compact JSON text.

The raw layer keeps what the API sent: each element's own bytes, one per line.

Two known differences from the record flatteners, both within what a reader can tell apart only
by bytes: nested JSON text keeps non-ASCII characters as UTF-8 (Python escapes them), and a
fractional number in an integer column is rounded (the flatteners refuse it).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from reconciler.lake.schemas import TableSchema

__all__ = ["BodyError", "Converted", "convert_body", "fields_needed", "select_list"]

#: Where each column of a table comes from, where it is not the wire field of its own name.
#: ``("path", "$.a.b")``: a field; ``("ctx", "name")``: the context value, else the wire field.
_ONFLOOR = {f"onfloor_player{i + 1}": ("path", f"$.onFloor[{i}].id") for i in range(10)}
_SHOT = {
    "participant_id": ("path", "$.participants[0].id"),
    "shot_shooter_id": ("path", "$.shotInfo.shooter.id"),
    "shot_shooter_name": ("path", "$.shotInfo.shooter.name"),
    "shot_made": ("path", "$.shotInfo.made"),
    "shot_range": ("path", "$.shotInfo.range"),
    "shot_assisted": ("path", "$.shotInfo.assisted"),
    "shot_assisted_by_id": ("path", "$.shotInfo.assistedBy.id"),
    "shot_assisted_by_name": ("path", "$.shotInfo.assistedBy.name"),
    "shot_loc_x": ("path", "$.shotInfo.location.x"),
    "shot_loc_y": ("path", "$.shotInfo.location.y"),
}
_SUB = {
    f"sub_{side}_{col}": ("path", f"$.{wire}.{field}")
    for side, wire in (("in", "subIn"), ("out", "subOut"))
    for col, field in (
        ("period", "period"),
        ("seconds_remaining", "secondsRemaining"),
        ("team_points", "teamPoints"),
        ("opponent_points", "opponentPoints"),
    )
}
_LINEUP = {
    "teamid": ("path", "$.teamId"),
    "idhash": ("path", "$.idHash"),
    "totalseconds": ("path", "$.totalSeconds"),
    "offenserating": ("path", "$.offenseRating"),
    "defenserating": ("path", "$.defenseRating"),
    "netrating": ("path", "$.netRating"),
    "teamstats": ("path", "$.teamStats"),
    "opponentstats": ("path", "$.opponentStats"),
}
_CONTEXT = {n: ("ctx", n) for n in ("season", "date", "gameId")}
SOURCES: dict[str, dict[str, tuple[str, str]]] = {
    "fct_games": {"gameId": ("path", "$.id")},
    "fct_plays": {**_ONFLOOR, **_SHOT},
    "fct_substitutions": {**_SUB, "season": ("ctx", "season")},
    "fct_lineups": {**_LINEUP, **_CONTEXT},
    "substitutions_game": {"season": ("ctx", "season")},
    "substitutions_team": {"season": ("ctx", "season")},
    "lineups_game": dict(_CONTEXT),
}
_SQL_TYPE = {
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.string(): "VARCHAR",
}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class BodyError(ValueError):
    """The body is not a JSON array of objects, or a value does not fit its declared column.

    Attributes:
        structure: True when the body itself is not a JSON array of objects (a contract error
            of the response), False when a value does not fit its column.
    """

    def __init__(self, message: str, *, structure: bool) -> None:
        super().__init__(message)
        self.structure = structure


_KIND = {"UBIGINT": "number", "BIGINT": "number", "DOUBLE": "number", "VARCHAR": "string", "BOOLEAN": "boolean"}


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _split(path: str) -> tuple[str, str]:
    """``$.shotInfo.shooter.id`` → (``shotInfo``, ``$.shooter.id``); ``$.id`` → (``id``, ``$``)."""
    rest = path[2:]
    cut = min((i for i in (rest.find("."), rest.find("[")) if i >= 0), default=len(rest))
    return rest[:cut], "$" + rest[cut:]


@dataclass(frozen=True, slots=True)
class _Source:
    """Where a column's value comes from: a field of the element (and a path inside it), or a value."""

    field: str = ""
    rest: str = "$"
    value: Any = None


def _sources(schema: TableSchema, ctx: Mapping[str, Any]) -> list[_Source]:
    """Per declared column, in order: the element field it reads, or the context value it takes."""
    sources = SOURCES.get(schema.name, {})
    out: list[_Source] = []
    for f in schema.schema:
        if not _IDENT.fullmatch(f.name):
            raise ValueError(f"{schema.name}.{f.name}: not a plain column name")
        kind, arg = sources.get(f.name, ("path", f"$.{f.name}"))
        if kind == "ctx" and ctx.get(arg) is not None:
            out.append(_Source(value=ctx[arg]))
        else:
            field, rest = _split(arg if kind == "path" else f"$.{arg}")
            out.append(_Source(field, rest))
    return out


def fields_needed(outputs: Sequence[tuple[TableSchema, Mapping[str, Any]]]) -> list[str]:
    """The top-level element fields some output reads, each once.

    Args:
        outputs: ``(table, context)`` pairs.

    Returns:
        Field names.
    """
    seen: dict[str, None] = {}
    for schema, ctx in outputs:
        for src in _sources(schema, ctx):
            if src.field:
                seen[src.field] = None
    return list(seen)


def select_list(schema: TableSchema, ctx: Mapping[str, Any]) -> str:
    """The SELECT list projecting parsed elements (one JSON column per top-level field) onto a table.

    Args:
        schema: The table (silver or bronze).
        ctx: Context values injected into their columns (``season``, ``date``, ``gameId``).

    Returns:
        SQL: one aliased expression per declared column, in order.
    """
    cols = []
    for f, src in zip(schema.schema, _sources(schema, ctx), strict=True):
        sql_type = _SQL_TYPE.get(f.type)
        if sql_type is None:
            raise ValueError(f"{schema.name}.{f.name}: no SQL type for {f.type}")
        if not src.field:
            expr = f"CAST({_literal(src.value)} AS {sql_type})"
        else:
            value = f'"{src.field}"' if src.rest == "$" else f"json_extract(\"{src.field}\", '{src.rest}')"
            # Text: a string unquoted, anything else (a number, a list, an object) as compact JSON.
            expr = f"({value})->>'$'" if sql_type == "VARCHAR" else f"CAST({value} AS {sql_type})"
        cols.append(f'{expr} AS "{f.name}"')
    return ",\n  ".join(cols)


@dataclass(frozen=True, slots=True)
class Converted:
    """One response converted.

    Attributes:
        rows: Elements in the body.
        raw_lines: Each element's bytes as the API sent them, one per line (uncompressed).
        tables: The requested tables, in request order, each in its declared schema.
    """

    rows: int
    raw_lines: bytes
    tables: tuple[pa.Table, ...]


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def _joined(lines: pa.ChunkedArray) -> bytes:
    """The strings, each followed by a newline, joined in Arrow (no Python string per line)."""
    if len(lines) == 0:
        return b""
    flat = lines.combine_chunks().cast(pa.large_binary())
    one = pa.LargeListArray.from_arrays(pa.array([0, len(flat)], pa.int64()), flat)
    joined: bytes = pc.binary_join(one, pa.scalar(b"\n", pa.large_binary()))[0].as_buffer().to_pybytes()
    return joined + b"\n"


def convert_body(
    body: bytes, outputs: Sequence[tuple[TableSchema, Mapping[str, Any]]], *, memory_limit: str = "512MB"
) -> Converted:
    """Parse a JSON-array body and project it onto tables, outside the interpreter lock.

    Each element is parsed once, into one JSON value per top-level field the outputs read;
    the outputs cast those small values to their declared types.

    Args:
        body: The response body.
        outputs: ``(table, context)`` pairs to produce.
        memory_limit: DuckDB's memory limit for this conversion.

    Returns:
        The converted response.

    Raises:
        BodyError: If the body is not a JSON array of objects, or a value does not fit its column
            (one line, naming the element or the column).
    """
    first = body.lstrip()[:1]
    if first != b"[":
        what = {b"{": "a JSON object", b'"': "a JSON string", b"n": "JSON null", b"": "empty"}.get(first, "not JSON")
        raise BodyError(f"{what}; expected a JSON array of objects", structure=True)
    fd, path = tempfile.mkstemp(prefix="cbbd-body-", suffix=".json")
    con = duckdb.connect(":memory:", config={"threads": 1, "memory_limit": memory_limit})
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        # An element can be no bigger than the body (DuckDB's default cap is 16 MB per element).
        opts = f"format = 'array', maximum_object_size = {len(body) + 1024}"
        try:
            raw = con.sql(f"SELECT json FROM read_json_objects('{path}', {opts})").to_arrow_table().column(0)
        except duckdb.Error as exc:
            text = _first_line(exc).replace(f' in file "{path}"', "")
            raise BodyError(f"malformed JSON ({text}); expected a JSON array of objects", structure=True) from None
        kinds = con.sql(f"SELECT json_type(json) AS t FROM read_json_objects('{path}', {opts})").to_arrow_table()
        bad = [i for i, k in enumerate(kinds.column(0).to_pylist()) if k != "OBJECT"][:1]
        if bad:
            kind = str(kinds.column(0)[bad[0]].as_py())
            what = _KIND.get(kind, kind.lower())
            raise BodyError(f"element {bad[0]} is a JSON {what}; expected a JSON array of objects", structure=True)
        tables = []
        fields = fields_needed(outputs)
        if len(raw):
            columns = "{" + ", ".join(f"'{f}': 'JSON'" for f in fields) + "}"
            con.execute(f"CREATE TEMP TABLE elements AS SELECT * FROM read_json('{path}', {opts}, columns = {columns})")
        for schema, ctx in outputs:
            if not len(raw):
                tables.append(schema.schema.empty_table())
                continue
            try:
                got = con.sql(f"SELECT\n  {select_list(schema, ctx)}\nFROM elements").to_arrow_table()
            except duckdb.Error as exc:
                raise BodyError(f"{schema.name}: {_first_line(exc)}", structure=False) from None
            tables.append(got.cast(schema.schema))
        return Converted(rows=len(raw), raw_lines=_joined(raw), tables=tuple(tables))
    finally:
        con.close()
        os.unlink(path)

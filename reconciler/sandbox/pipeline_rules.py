"""cbbd_etl's record rules, reimplemented: per-batch Parquet types, silver aliases, key de-duplication.

The ``--writer pipeline`` sandbox writes every bronze and silver object the way cbbd_etl (commit
``207ade6``) does. These are its rules for lists of API records (games, substitutions, lineups;
plays use the column-wise equivalent in :mod:`reconciler.sandbox.pipeline_plays`):

* :func:`normalize` follows ``src/cbbd_etl/normalize.py:normalize_records``: the columns are the
  union of the batch's keys, sorted (Python's ``sorted``, so upper case before lower case); a
  column's type is the table's hint, overridden by the common hints, else inferred from its first
  non-null value in the batch (``_infer_type``: bool, int64, double, else string); a column with
  no non-null value is string. Values are cast by ``_cast_value``: ``int(v)`` (a float is
  truncated), ``float(v)``, ``str(v)`` (so a dict or list becomes Python-repr text).
* :func:`silver_aliases` follows ``orchestrate.py:_apply_key_aliases`` for the tables the sandbox
  writes (``fct_games``, ``fct_lineups``; ``fct_substitutions`` has none; ``fct_plays`` is
  column-wise): JSON text for the nested columns it names (``_normalize_jsonish``), the lower-case
  renames of ``fct_lineups`` with its camelCase originals dropped.
* :func:`dedupe` follows ``normalize.py:dedupe_records`` (first record of each key wins; missing
  key columns compare equal as None, which is why ``fct_substitutions`` (key ``id``) and
  ``fct_lineups`` (camelCase key, dropped by the alias step) keep one record per call).
* :func:`consolidate` follows ``scripts/deduplicate_silver.py:_concat_with_unified_schema`` and
  ``_dedup_table``: permissive concatenation, else numeric mixes as double and other mixes as
  string, then the first row of each primary key (skipped when a key column is absent).
* :func:`wire` turns universe records into what a client parses from the real API, a Node server:
  ``JSON.stringify`` writes a whole float without ``.0``, so ``excitement`` 3.0 arrives as the int 3
  (and then types its batch int64).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "COMMON_HINTS",
    "PRIMARY_KEYS",
    "TABLE_HINTS",
    "cast_value",
    "consolidate",
    "dedupe",
    "glue_type",
    "infer_type",
    "jsonish",
    "normalize",
    "silver_aliases",
    "type_hints",
    "wire",
]

#: ``normalize.py:COMMON_TYPE_HINTS`` (they override the table's own hints).
COMMON_HINTS: dict[str, pa.DataType] = {
    "id": pa.int64(),
    "gameId": pa.int64(),
    "playerId": pa.int64(),
    "teamId": pa.int64(),
    "homeTeamId": pa.int64(),
    "awayTeamId": pa.int64(),
    "season": pa.int32(),
    "year": pa.int32(),
    "week": pa.int32(),
    "date": pa.string(),
    "startTime": pa.timestamp("s"),
    "endTime": pa.timestamp("s"),
}

_I64, _F64, _STR, _BOOL = pa.int64(), pa.float64(), pa.string(), pa.bool_()
#: The ``normalize.py:TABLE_SPECS`` hints of the silver tables the sandbox writes. Bronze tables
#: (named after endpoints) have no entry, so only the common hints apply to them.
TABLE_HINTS: dict[str, dict[str, pa.DataType]] = {
    "fct_games": {"gameId": _I64, "homeSeed": _STR, "awaySeed": _STR},
    "fct_plays": {
        "id": _I64,
        "gameId": _I64,
        **{f"onfloor_player{k}": _I64 for k in range(1, 11)},
        "participant_id": _I64,
        "shot_shooter_id": _I64,
        "shot_shooter_name": _STR,
        "shot_made": _BOOL,
        "shot_range": _STR,
        "shot_assisted": _BOOL,
        "shot_assisted_by_id": _I64,
        "shot_assisted_by_name": _STR,
        "shot_loc_x": _F64,
        "shot_loc_y": _F64,
    },
    "fct_substitutions": {"id": _I64, "gameId": _I64},
    "fct_lineups": {
        "athletes": _STR,
        "conference": _STR,
        "defenserating": _F64,
        "idhash": _STR,
        "netrating": _F64,
        "offenserating": _F64,
        "opponentstats": _STR,
        "pace": _F64,
        "team": _STR,
        "teamid": _I64,
        "teamstats": _STR,
        "totalseconds": _F64,
    },
}

#: ``TABLE_SPECS`` primary keys of those tables (as declared, even where the data lacks them).
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "fct_games": ("gameId",),
    "fct_plays": ("id",),
    "fct_substitutions": ("id",),
    "fct_lineups": ("idHash", "teamId", "totalSeconds"),
}

_GLUE = {pa.int64(): "bigint", pa.int32(): "int", pa.float64(): "double", pa.bool_(): "boolean"}


def type_hints(table: str) -> dict[str, pa.DataType]:
    """The hints ``normalize_records`` applies to a table: its own, then the common ones on top.

    Args:
        table: A silver table or bronze endpoint name.

    Returns:
        Column name → Arrow type.
    """
    return {**TABLE_HINTS.get(table, {}), **COMMON_HINTS}


def infer_type(value: Any) -> pa.DataType:
    """``normalize.py:_infer_type``: the Arrow type of a column from its first non-null value.

    Args:
        value: The value (None for a column with no non-null value).

    Returns:
        bool, int64, double, or string for anything else (None, str, list, dict).
    """
    if isinstance(value, bool):
        return _BOOL
    if isinstance(value, int):
        return _I64
    if isinstance(value, float):
        return _F64
    return _STR


def cast_value(value: Any, dtype: pa.DataType) -> Any:
    """``normalize.py:_cast_value``: one value cast to its column's type (None when it cannot be).

    Args:
        value: The record's value.
        dtype: The column type.

    Returns:
        The cast value.
    """
    if value is None:
        return None
    if pa.types.is_integer(dtype):
        try:
            return int(value)
        except (TypeError, ValueError, OverflowError):
            return None
    if pa.types.is_floating(dtype):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if pa.types.is_boolean(dtype):
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return bool(value)
    if pa.types.is_timestamp(dtype):
        # cbbd_etl parses with dateutil; the sandbox's records carry no startTime/endTime.
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return str(value)


def normalize(table: str, records: Sequence[Mapping[str, Any]]) -> pa.Table:
    """``normalize.py:normalize_records``: a batch of records as a table typed by the batch alone.

    Args:
        table: The silver table or bronze endpoint name (selects the hints).
        records: The batch; an empty batch gives a table with no columns and no rows.

    Returns:
        The table.
    """
    hints = type_hints(table)
    names: set[str] = set()
    for rec in records:
        names.update(rec)
    fields = []
    for name in sorted(names):
        dtype = hints.get(name)
        if dtype is None:
            first = next((r[name] for r in records if r.get(name) is not None), None)
            dtype = infer_type(first)
        fields.append(pa.field(name, dtype))
    schema = pa.schema(fields)
    return pa.Table.from_arrays([_column([r.get(f.name) for r in records], f.type) for f in schema], schema=schema)


#: Python types whose values Arrow takes as they are, i.e. where ``_cast_value`` changes nothing.
_AS_IS: dict[str, tuple[type, ...]] = {
    "int64": (int,),
    "int32": (int,),
    "double": (float,),
    "bool": (bool,),
    "string": (str,),
}


def _column(values: list[Any], dtype: pa.DataType) -> pa.Array:
    """One column: straight to Arrow when every value already has the column's type, else cast."""
    ok = _AS_IS.get(str(dtype))
    if ok is not None and all(v is None or (type(v) in ok) for v in values):
        return pa.array(values, type=dtype)
    return pa.array([cast_value(v, dtype) for v in values], type=dtype)


def dedupe(records: Sequence[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """``normalize.py:dedupe_records``: keep the first record of each key (absent columns are None).

    Args:
        records: The batch.
        keys: The table's declared primary key.

    Returns:
        The kept records, in order.
    """
    seen: set[tuple[Any, ...]] = set()
    out = []
    for rec in records:
        key = tuple(rec.get(k) for k in keys)
        if key not in seen:
            seen.add(key)
            out.append(rec)
    return out


def jsonish(value: Any) -> Any:
    """``orchestrate.py:_normalize_jsonish`` for the values the API sends: lists and dicts as JSON text.

    Args:
        value: A record value.

    Returns:
        ``json.dumps(value)`` (Python's default separators) for a list or dict, else the value.
    """
    if isinstance(value, list | dict):
        return json.dumps(value)
    return value


_LINEUP_RENAMES = (
    ("teamId", "teamid"),
    ("idHash", "idhash"),
    ("totalSeconds", "totalseconds"),
    ("defenseRating", "defenserating"),
    ("netRating", "netrating"),
    ("offenseRating", "offenserating"),
)


def _lineup(rec: dict[str, Any]) -> dict[str, Any]:
    out = dict(rec)
    for camel, lower in _LINEUP_RENAMES:
        if out.get(lower) is None and out.get(camel) is not None:
            out[lower] = out[camel]
    for camel, lower in (("opponentStats", "opponentstats"), ("teamStats", "teamstats")):
        source = out.get(camel) if out.get(lower) is None and out.get(camel) is not None else out.get(lower)
        out[lower] = jsonish(source)
    out["athletes"] = jsonish(out.get("athletes"))
    for camel in ("teamId", "idHash", "totalSeconds", "defenseRating", "netRating", "offenseRating"):
        out.pop(camel, None)
    out.pop("opponentStats", None)
    out.pop("teamStats", None)
    return out


def silver_aliases(table: str, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``orchestrate.py:_apply_key_aliases`` for ``fct_games``, ``fct_substitutions`` and ``fct_lineups``.

    Args:
        table: The silver table.
        records: The batch (not modified; cbbd_etl mutates them in place after the bronze write).

    Returns:
        The aliased records.
    """
    if table == "fct_games":
        return [
            {**r, "gameId": r["id"]} if r.get("gameId") is None and r.get("id") is not None else dict(r)
            for r in records
        ]
    if table == "fct_lineups":
        return [_lineup(dict(r)) for r in records]
    return [dict(r) for r in records]


def wire(value: Any) -> Any:
    """A universe value as a client parses it from the API: whole floats become ints (recursively).

    Args:
        value: A record, list or scalar.

    Returns:
        The value with every whole float replaced by an int.
    """
    kind = type(value)
    if kind is float:
        return int(value) if value.is_integer() else value
    if kind is dict:
        return {k: wire(v) for k, v in value.items()}
    if kind is list:
        return [wire(v) for v in value]
    return value


def glue_type(dtype: pa.DataType) -> str:
    """``glue_catalog.py:_pa_to_glue``: the Glue column type cbbd_etl gives an Arrow type.

    Args:
        dtype: The Arrow type.

    Returns:
        ``bigint``, ``int``, ``double``, ``boolean``, ``timestamp`` or ``string``.
    """
    if pa.types.is_timestamp(dtype):
        return "timestamp"
    return _GLUE.get(dtype, "string")


_NUMERIC = {pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.float16(), pa.float32(), pa.float64()}


def _unified(tables: Sequence[pa.Table]) -> pa.Table:
    types: dict[str, pa.DataType] = {}
    for t in tables:
        for f in t.schema:
            have = types.get(f.name)
            if have is None:
                types[f.name] = f.type
            elif have != f.type:
                types[f.name] = pa.float64() if have in _NUMERIC and f.type in _NUMERIC else pa.string()
    aligned = []
    for t in tables:
        cols = []
        for name, typ in types.items():
            if name in t.column_names:
                col = t.column(name)
                cols.append(col.cast(typ, safe=False) if col.type != typ else col)
            else:
                cols.append(pa.nulls(t.num_rows, type=typ))
        aligned.append(pa.table(cols, names=list(types)))
    return pa.concat_tables(aligned)


def consolidate(tables: Sequence[pa.Table], keys: Sequence[str]) -> pa.Table:
    """Merge a season's files into one table as ``deduplicate_silver.py`` does.

    Args:
        tables: The files' tables, in the order the listing returned their keys.
        keys: The table's ``TABLE_SPECS`` primary key.

    Returns:
        The merged rows, first row of each key kept.
    """
    try:
        merged = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        merged = _unified(tables)
    if merged.num_rows == 0 or any(k not in merged.column_names for k in keys):
        return merged
    if len(keys) == 1 and pc.count_distinct(merged[keys[0]], mode="all").as_py() == merged.num_rows:
        return merged
    seen: set[tuple[Any, ...]] = set()
    take = []
    columns = [merged[k].to_pylist() for k in keys]
    for i, key in enumerate(zip(*columns, strict=True)):
        if key not in seen:
            seen.add(key)
            take.append(i)
    return merged.take(take)

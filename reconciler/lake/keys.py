"""Natural keys as every file of a table yields them, whoever wrote it (pure; Arrow and SQL).

A silver table's declared key names columns, but not every writer stores them. The pipeline's
``fct_substitutions`` files have the API's 13 columns: the key parts ``sub_in_period`` and
``sub_in_seconds_remaining`` are not columns there, only fields of the ``subIn`` text (Python
repr, where this tool writes JSON). So a key part is either a column, or a field of a nested
text column; both writers' files then give the same key for the same stint.

Values are normalised so that the same key compares equal across the type drift of the lake
(``cbbd_etl_lake.md`` §5.1): an integral number or a digit string is an ``int``.

* :func:`key_parts` says how a table's key is read;
* :func:`source_columns` the physical columns to read for it;
* :func:`key_tuples` the normalised key of every row of an Arrow table;
* :func:`key_sql` the same key as Athena-dialect expressions (regular expressions over the text
  column, which read the JSON and the Python-repr dialects alike).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.sql import quote_ident

__all__ = ["KeyPart", "key_parts", "key_sql", "key_tuples", "norm_key_value", "source_columns", "unit_strings"]


@dataclass(frozen=True, slots=True)
class KeyPart:
    """One part of a natural key.

    Attributes:
        name: The key part's name in the spec (``sub_in_period``).
        column: The physical column holding it (``subIn``).
        field: The field inside the column's nested text, or None when the column is the value.
    """

    name: str
    column: str
    field: str | None = None


#: Key parts stored inside nested text, by table: (key part, text column, field).
_NESTED: dict[str, dict[str, tuple[str, str]]] = {
    "fct_substitutions": {
        "sub_in_period": ("subIn", "period"),
        "sub_in_seconds_remaining": ("subIn", "secondsRemaining"),
    },
}
_INT = re.compile(r"[+-]?\d+")


def key_parts(table: str, key: Sequence[str]) -> tuple[KeyPart, ...]:
    """How a table's natural key is read from its files.

    Args:
        table: The silver table (``fct_substitutions``).
        key: The declared key (the spec's ``target.silver.key``).

    Returns:
        One part per key name.
    """
    nested = _NESTED.get(table, {})
    return tuple(KeyPart(k, *nested[k]) if k in nested else KeyPart(k, k) for k in key)


def source_columns(parts: Sequence[KeyPart]) -> list[str]:
    """The physical columns a key is read from, each once, in key order.

    Args:
        parts: The key parts.

    Returns:
        Column names.
    """
    return list(dict.fromkeys(p.column for p in parts))


def norm_key_value(value: Any) -> Any:
    """One key value, normalised across the lake's type drift.

    Args:
        value: A value as read (int, float, str, None, ...).

    Returns:
        ``int`` for integral numbers and digit strings; other values unchanged.
    """
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value)
    return value


def _field_pattern(field: str, group: str = "") -> str:
    """A regular expression whose (first) group is a numeric field of JSON or Python-repr text."""
    name = f"?P<{group}>" if group else ""
    return "[\"']" + re.escape(field) + "[\"']\\s*:\\s*(" + name + "-?[0-9]+(?:\\.[0-9]+)?)"


def _nested_values(column: pa.ChunkedArray | pa.Array, field: str) -> list[Any]:
    text = pc.cast(column, pa.string()) if not pa.types.is_string(column.type) else column
    found = pc.extract_regex(text, _field_pattern(field, "v"))
    return [None if v is None else norm_key_value(v["v"]) for v in found.to_pylist()]


def key_tuples(table: pa.Table, parts: Sequence[KeyPart]) -> list[tuple[Any, ...]] | None:
    """The normalised natural key of every row.

    Args:
        table: Rows holding the key's source columns (any types).
        parts: The key parts.

    Returns:
        One tuple per row, or None when a source column is missing (the key cannot be read).
    """
    if any(p.column not in table.column_names for p in parts):
        return None
    cols: list[list[Any]] = []
    for p in parts:
        col = table.column(p.column)
        if p.field is None:
            cols.append([norm_key_value(v) for v in col.to_pylist()])
        else:
            cols.append(_nested_values(col, p.field))
    return list(zip(*cols, strict=True)) if cols else [() for _ in range(table.num_rows)]


def unit_strings(table: pa.Table, columns: Sequence[str]) -> list[str]:
    """Every row's unit key text (``1234`` or ``1234:72``), normalised like :func:`norm_key_value`.

    Args:
        table: Rows holding the unit columns.
        columns: The unit columns.

    Returns:
        One key per row.
    """
    parts = [[str(norm_key_value(v)) for v in table.column(c).to_pylist()] for c in columns]
    if len(parts) == 1:
        return parts[0]
    return [":".join(p) for p in zip(*parts, strict=True)]


def key_sql(parts: Sequence[KeyPart]) -> list[str]:
    """The key as Athena-dialect expressions (one per part), for census queries.

    Args:
        parts: The key parts.

    Returns:
        Expressions; a nested part is a regular expression over its text column, cast to bigint.
    """
    out = []
    for p in parts:
        if p.field is None:
            out.append(quote_ident(p.column))
        else:
            pattern = _field_pattern(p.field).replace("'", "''")
            out.append(f"TRY_CAST(regexp_extract({quote_ident(p.column)}, '{pattern}', 1) AS bigint)")
    return out

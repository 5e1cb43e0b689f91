"""Combine tables whose column types drift, as the lake's readers do (``cbbd_etl_lake.md`` §5.1, §10.2).

The pipeline infers each file's types from its own batch, so one column is int64 in one file,
double or string in the next, and ``string`` wherever a batch held only nulls. Its readers (and
Athena's "read as" rules, and DuckDB's ``union_by_name``) unify them: a column that is integer in
every file stays integer (widened to int64), a numeric mix becomes double, and any other mix
becomes string. Pure Arrow; every read of several objects in this tool goes through here, so a
type mix never fails a read (``Unable to merge: Field teamSeed has incompatible types``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["unified_type", "unify_tables"]


def unified_type(types: Sequence[pa.DataType]) -> pa.DataType:
    """The type that several files' types of one column are read as.

    Args:
        types: The column's type in each file (null-typed files ignored).

    Returns:
        The common type: the type itself if all agree; int64 for integers; double for a
        numeric mix; string otherwise (and for a column null in every file).
    """
    real = [t for t in types if not pa.types.is_null(t)]
    if not real:
        return pa.string()
    first = real[0]
    if all(t == first for t in real):
        return first
    if all(pa.types.is_integer(t) for t in real):
        return pa.int64()
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in real):
        return pa.float64()
    return pa.string()


def _cast(column: pa.ChunkedArray, to: pa.DataType) -> pa.ChunkedArray:
    if column.type == to:
        return column
    if pa.types.is_null(column.type):
        return pa.chunked_array([pa.nulls(len(column), to)], to)
    return pc.cast(column, to)


def unify_tables(tables: Sequence[pa.Table]) -> pa.Table:
    """Concatenate tables by column name, promoting drifted types as the readers do.

    A column absent from a table is null there. Column order: first appearance.

    Args:
        tables: The tables.

    Returns:
        One table.
    """
    tables = [t for t in tables if t.num_columns]
    if not tables:
        return pa.table({})
    names: dict[str, list[pa.DataType]] = {}
    for t in tables:
        for f in t.schema:
            names.setdefault(f.name, []).append(f.type)
    schema = pa.schema([(n, unified_type(ts)) for n, ts in names.items()])
    out = []
    for t in tables:
        cols = [
            _cast(t.column(f.name), f.type)
            if f.name in t.column_names
            else pa.chunked_array([pa.nulls(t.num_rows, f.type)], f.type)
            for f in schema
        ]
        out.append(pa.Table.from_arrays(cols, schema=schema))
    return pa.concat_tables(out)

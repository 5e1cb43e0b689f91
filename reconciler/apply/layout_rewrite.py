"""The rewrite primitives of relayout and dedupe: conform, place, de-duplicate, name.

* :func:`cast_columns` casts only the columns that break a reader to their declared types; every
  other column keeps the type it was written with.
* :func:`canonical_partitions` says where each row belongs under the declared layout:
  ``season`` from the row (else the path), ``date`` from the game's UTC date (the row's
  ``date``, ``gameStartDate`` or ``startDate``), ``asof`` from the path (else the object's day).
* :func:`output_key` names a replacement deterministically from its source and partition.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.core.layout_observed import TableDecl
from reconciler.errors import LakeError
from reconciler.lake.layout import hash8
from reconciler.lake.schemas import BRONZE_TABLES, SILVER_TABLES

__all__ = ["DATE_COLUMNS", "canonical_partitions", "cast_columns", "output_key", "split_rows"]

log = logging.getLogger(__name__)

#: Columns holding the game's UTC date (ISO text; the first 10 characters are the day).
DATE_COLUMNS = ("date", "gameStartDate", "startDate")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _declared(decl: TableDecl) -> pa.Schema | None:
    tables = SILVER_TABLES if decl.layer == "silver" else BRONZE_TABLES
    t = tables.get(decl.table)
    return t.schema if t is not None else None


def cast_columns(table: pa.Table, decl: TableDecl, columns: Sequence[str], key: str) -> pa.Table:
    """Cast some columns to their declared types, leaving every other column as written.

    A rewrite keeps the object's own columns and types (type drift the readers tolerate is not
    rewritten); only columns that break a reader (unit or key columns Athena cannot read as the
    table declares them) are cast.

    Args:
        table: The rows.
        decl: The table.
        columns: The columns to cast (absent or undeclared ones are skipped).
        key: The source object, for messages.

    Returns:
        The rows.

    Raises:
        LakeError: If a value cannot be cast (the column and types are named).
    """
    schema = _declared(decl)
    if schema is None:
        return table
    for name in columns:
        if name not in table.column_names or name not in schema.names:
            continue
        want = schema.field(name).type
        col = table.column(name)
        if col.type == want:
            continue
        try:
            cast = pc.cast(col, want)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise LakeError(
                f"{key}: column {name} cannot be cast from {col.type} to the declared {want} "
                f"({str(exc).splitlines()[0]})"
            ) from None
        table = table.set_column(table.schema.get_field_index(name), pa.field(name, want), cast)
    return table


def _column(table: pa.Table, name: str) -> list[Any] | None:
    return table.column(name).to_pylist() if name in table.column_names else None


def canonical_partitions(
    table: pa.Table, decl: TableDecl, path: Mapping[str, str], mtime: float, key: str
) -> list[str]:
    """Each row's partition under the declared layout.

    Args:
        table: The rows.
        decl: The table.
        path: The source object's partition values (``season``, ``asof``, ...).
        mtime: The source object's modification time (its ingest day, for ``asof``).
        key: The source object, for messages.

    Returns:
        One partition path per row, e.g. ``season=2025/date=2024-12-01``.

    Raises:
        LakeError: If some rows cannot be placed (no season, or no game date).
    """
    n = table.num_rows
    per_key: list[list[str | None]] = []
    for k in decl.partition_keys:
        if k == "season":
            col = _column(table, "season") or [None] * n
            fallback = path.get("season", "")
            vals = [str(v) if v is not None else (fallback if fallback.isdigit() else None) for v in col]
            vals = [v if v is not None and v.isdigit() and len(v) == 4 else None for v in vals]
        elif k == "date":
            src = next((c for c in DATE_COLUMNS if c in table.column_names), None)
            raw = _column(table, src) if src else [None] * n
            vals = [str(v)[:10] if v is not None and _DAY.match(str(v)[:10]) else None for v in raw or []]
        elif k == "asof":
            day = path.get("asof") or datetime.fromtimestamp(mtime, UTC).date().isoformat()
            vals = [day] * n
        else:
            other = _column(table, k)
            vals = [str(v) if v is not None else path.get(k) for v in other] if other else [path.get(k)] * n
        bad = sum(1 for v in vals if not v)
        if bad:
            raise LakeError(f"{key}: {bad:,} of {n:,} rows have no {k} to place them under {decl.layout}")
        per_key.append(vals)
    return ["/".join(f"{k}={v[i]}" for k, v in zip(decl.partition_keys, per_key, strict=True)) for i in range(n)]


def output_key(decl: TableDecl, partition: str, source: str, op: str) -> str:
    """The deterministic key of a replacement copy.

    Args:
        decl: The table.
        partition: The partition path it goes to.
        source: The original it replaces.
        op: ``relayout`` or ``dedupe``.

    Returns:
        ``<layer>/<table>/<partition>/part-<hash8>.parquet``.
    """
    mid = f"{partition}/" if partition else ""
    return f"{decl.prefix}{mid}part-{hash8({'reconcile': op, 'source': source, 'partition': partition})}.parquet"


def split_rows(table: pa.Table, parts: Sequence[str]) -> dict[str, pa.Table]:
    """Group rows by partition.

    Args:
        table: The rows.
        parts: One partition per row.

    Returns:
        Partition → rows, in row order.
    """
    idx: dict[str, list[int]] = {}
    for i, p in enumerate(parts):
        idx.setdefault(p, []).append(i)
    return {p: table.take(pa.array(ix, pa.int64())) for p, ix in sorted(idx.items())}

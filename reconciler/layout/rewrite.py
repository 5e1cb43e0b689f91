"""The rewrite primitives of relayout and dedupe: conform, place, de-duplicate, name.

* :func:`conform` casts rows to the table's declared schema (the cure for type drift).
* :func:`canonical_partitions` says where each row belongs under the declared layout:
  ``season`` from the row (else the path), ``date`` from the game's UTC date (the row's
  ``date``, ``gameStartDate`` or ``startDate``), ``asof`` from the path (else the object's day).
* :func:`held_keys` reads the natural keys the canonical layout already holds in a partition,
  ignoring superseded originals and the rewrite's own earlier output (so a retried rewrite
  reproduces exactly what it wrote before).
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

from reconciler.core.layout_observed import TableDecl, in_declared_layout
from reconciler.errors import LakeError
from reconciler.lake.layout import hash8
from reconciler.lake.schemas import BRONZE_TABLES, SILVER_TABLES
from reconciler.layout.files import file_obs, key_rows, list_table
from reconciler.layout.superseded import Superseded, same_object
from reconciler.ports import ObjectStore

__all__ = ["DATE_COLUMNS", "canonical_partitions", "conform", "held_keys", "output_key", "rc_alias", "split_rows"]

log = logging.getLogger(__name__)

#: Columns holding the game's UTC date (ISO text; the first 10 characters are the day).
DATE_COLUMNS = ("date", "gameStartDate", "startDate")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _declared(decl: TableDecl) -> pa.Schema | None:
    tables = SILVER_TABLES if decl.layer == "silver" else BRONZE_TABLES
    t = tables.get(decl.table)
    return t.schema if t is not None else None


def conform(table: pa.Table, decl: TableDecl, key: str) -> pa.Table:
    """Cast rows to the table's declared schema (unchanged when none is declared).

    Declared columns the rows lack become nulls; columns the declaration does not name are
    dropped (and logged), exactly as every other write of this tool.

    Args:
        table: The rows.
        decl: The table.
        key: The source object, for messages.

    Returns:
        The rows in the declared schema.

    Raises:
        LakeError: If a value cannot be cast (the column and types are named).
    """
    schema = _declared(decl)
    if schema is None:
        return table
    cols = []
    for f in schema:
        if f.name not in table.column_names:
            cols.append(pa.nulls(table.num_rows, f.type))
            continue
        col = table.column(f.name)
        if col.type != f.type:
            try:
                col = pc.cast(col, f.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise LakeError(
                    f"{key}: column {f.name} cannot be cast from {col.type} to the declared {f.type} "
                    f"({str(exc).splitlines()[0]})"
                ) from None
        cols.append(col)
    dropped = [c for c in table.column_names if c not in schema.names]
    if dropped:
        log.warning("%s: columns %s are not in the declared schema of %s; not copied", key, dropped, decl.table)
    return pa.Table.from_arrays(cols, schema=schema)


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


def rc_alias(key: str) -> str:
    """The key :func:`reconciler.apply.lakeio.write_parquet` uses when another writer holds ``key``.

    Args:
        key: A ``.parquet`` key.

    Returns:
        ``…-rc.parquet``.
    """
    return key.removesuffix(".parquet") + "-rc.parquet"


def held_keys(
    store: ObjectStore,
    decl: TableDecl,
    partition: str,
    exclude: set[str],
    superseded: Mapping[str, Superseded],
) -> set[tuple[Any, ...]]:
    """Natural keys the canonical layout already holds in one partition.

    Args:
        store: The object store.
        decl: The table.
        partition: The partition path.
        exclude: Object keys to ignore (the source; the rewrite's own earlier output).
        superseded: Superseded-object records (their keys are held by their replacements).

    Returns:
        The keys, as tuples.
    """
    out: set[tuple[Any, ...]] = set()
    prefix = f"{decl.prefix}{partition}/" if partition else decl.prefix
    for info in list_table(store, decl, prefix):
        f = file_obs(decl, info)
        if info.key in exclude or f.partition_dir != partition or not in_declared_layout(decl, f):
            continue
        rec = superseded.get(info.key)
        if rec is not None and same_object(rec, info):
            continue
        rows = key_rows(store, info.key, decl.key)
        if rows is not None:
            out.update(rows)
    return out


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

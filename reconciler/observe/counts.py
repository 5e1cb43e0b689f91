"""Record counts per season for the audit: rows, distinct units and keys, surplus duplicate rows.

Read-only, through the ports: one grouped count query and one duplicates query per table
(Athena dialect; DuckDB translates). A table with no Parquet object yet counts as empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.core.observed import TableCounts
from reconciler.lake.keys import key_parts, key_sql
from reconciler.lake.layout import is_data_object
from reconciler.observe.queries import duplicates_query, quote_ident, season_filter
from reconciler.ports import ObjectStore, QueryEngine
from reconciler.spec.models import Spec

__all__ = ["TableCounts", "audit_counts_query", "table_counts"]


def _distinct(exprs: Sequence[str]) -> str:
    if len(exprs) == 1:
        return f"count(DISTINCT {exprs[0]})"
    joined = " || ':' || ".join(f"CAST({e} AS varchar)" for e in exprs)
    return f"count(DISTINCT {joined})"


def audit_counts_query(database: str, table: str, unit_columns: Sequence[str], key_exprs: Sequence[str]) -> str:
    """Rows, distinct units and distinct natural keys per season.

    Args:
        database: Glue database.
        table: Table.
        unit_columns: The unit columns.
        key_exprs: The natural key as Athena expressions (:func:`reconciler.lake.keys.key_sql`).

    Returns:
        A query with columns ``season``, ``n``, ``units`` and ``keys`` (a composite unit or key
        with a NULL part is not counted); ``:season_start`` and ``:season_end`` are placeholders.
    """
    return (
        f"SELECT TRY_CAST(season AS integer) AS season, count(*) AS n, "
        f"{_distinct([quote_ident(c) for c in unit_columns])} AS units, {_distinct(key_exprs)} AS keys\n"
        f"FROM {database}.{table}\n"
        f"WHERE {season_filter(spill=False)}\n"
        f"GROUP BY 1"
    )


def _column(result: Any, name: str) -> list[Any]:
    return list(result.table.column(name).to_pylist())


def _by_season(result: Any, name: str) -> dict[int, int]:
    return {
        int(s): int(v or 0)
        for s, v in zip(_column(result, "season"), _column(result, name), strict=True)
        if s is not None
    }


def table_counts(
    store: ObjectStore, engine: QueryEngine, spec: Spec, layer: str, seasons: Sequence[int]
) -> TableCounts:
    """Count one spec's silver table.

    Args:
        store: The object store (to tell an absent table from an empty one).
        engine: The query engine.
        spec: The spec naming the table.
        layer: The lake prefix of the table's database (``silver``).
        seasons: Selected seasons.

    Returns:
        The counts (empty mappings when the table has no Parquet object).
    """
    silver = spec.target.silver
    name = f"{silver.database}.{silver.table}"
    units_cols, key_cols = tuple(silver.unit_columns), tuple(silver.key)
    prefix = f"{layer}/{silver.table}/"
    if not any(is_data_object(o.key) for o in store.list_objects(prefix)):
        return TableCounts(name, {}, {}, {}, {}, units_cols, key_cols)
    params = {"season_start": min(seasons), "season_end": max(seasons)}
    key_exprs = key_sql(key_parts(silver.table, key_cols))
    counts = engine.query(audit_counts_query(silver.database, silver.table, units_cols, key_exprs), params)
    dups = engine.query(duplicates_query(silver.database, silver.table, key_exprs), params)
    return TableCounts(
        table=name,
        rows=_by_season(counts, "n"),
        units=_by_season(counts, "units"),
        dup_rows=_by_season(dups, "dup_rows"),
        keys=_by_season(counts, "keys"),
        unit_columns=units_cols,
        key_columns=key_cols,
    )

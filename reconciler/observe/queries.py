"""Athena-dialect SQL for observation, produced by pure functions (tested on their text)."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.sql import quote_ident

__all__ = ["coverage_query", "duplicates_query", "quote_ident", "season_counts_query"]


def coverage_query(
    database: str,
    table: str,
    unit_columns: Sequence[str],
    *,
    min_rows: int = 1,
    expression: str | None = None,
    season_column: str = "season",
) -> str:
    """Rows per unit and whether each unit is complete, for the selected seasons.

    Args:
        database: Glue database (``cbbd_silver``).
        table: Table name.
        unit_columns: The columns that identify a unit (``gameId``).
        min_rows: A complete unit has at least this many rows.
        expression: An extra Athena boolean aggregate a complete unit satisfies.
        season_column: The season column or partition key.

    Returns:
        A query with columns ``u0..uN`` (unit parts as text), ``n`` and ``ok``;
        ``:season_start`` and ``:season_end`` are placeholders.
    """
    units = ", ".join(f"CAST({quote_ident(c)} AS varchar) AS u{i}" for i, c in enumerate(unit_columns))
    ok = f"count(*) >= {int(min_rows)}"
    if expression:
        ok = f"({ok}) AND ({expression})"
    group = ", ".join(str(i + 1) for i in range(len(unit_columns)))
    season = f"CAST({quote_ident(season_column)} AS integer)"
    return (
        f"SELECT {units}, count(*) AS n, ({ok}) AS ok\n"
        f"FROM {database}.{table}\n"
        f"WHERE {season} BETWEEN :season_start AND :season_end\n"
        f"GROUP BY {group}"
    )


def season_counts_query(database: str, table: str, unit_columns: Sequence[str]) -> str:
    """Rows and distinct units per season.

    Args:
        database: Glue database.
        table: Table.
        unit_columns: The unit columns.

    Returns:
        A query with columns ``season``, ``n`` and ``units``.
    """
    unit = " || ':' || ".join(f"CAST({quote_ident(c)} AS varchar)" for c in unit_columns)
    return (
        f"SELECT CAST(season AS integer) AS season, count(*) AS n, count(DISTINCT {unit}) AS units\n"
        f"FROM {database}.{table}\n"
        f"WHERE CAST(season AS integer) BETWEEN :season_start AND :season_end\n"
        f"GROUP BY 1"
    )


def duplicates_query(database: str, table: str, key_columns: Sequence[str]) -> str:
    """Surplus rows per season: rows whose natural key appears more than once.

    Args:
        database: Glue database.
        table: Table.
        key_columns: The natural key.

    Returns:
        A query with columns ``season``, ``dup_rows`` and ``dup_keys``.
    """
    keys = ", ".join(quote_ident(c) for c in key_columns)
    return (
        "SELECT season, sum(c - 1) AS dup_rows, count(*) AS dup_keys FROM (\n"
        f"  SELECT CAST(season AS integer) AS season, {keys}, count(*) AS c\n"
        f"  FROM {database}.{table}\n"
        f"  WHERE CAST(season AS integer) BETWEEN :season_start AND :season_end\n"
        f"  GROUP BY CAST(season AS integer), {keys}\n"
        "  HAVING count(*) > 1\n"
        ") AS d\nGROUP BY season"
    )

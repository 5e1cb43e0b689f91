"""Athena-dialect SQL for observation, produced by pure functions (tested on their text)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["coverage_query", "quote_ident"]


def quote_ident(name: str) -> str:
    """Quote an identifier for Athena (Trino): ``"gameId"``.

    Args:
        name: The identifier.

    Returns:
        The quoted identifier.
    """
    return '"' + name.replace('"', '""') + '"'


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

"""Athena-dialect SQL for observation, produced by pure functions (tested on their text)."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.sql import quote_ident

__all__ = [
    "coverage_query",
    "duplicate_seasons_query",
    "duplicates_query",
    "quote_ident",
    "season_filter",
    "season_rows_query",
]


def season_filter(season_column: str = "season", *, spill: bool = True) -> str:
    """The WHERE clause selecting the rows a plan of ``:season_start``..``:season_end`` reads.

    ``TRY_CAST``, because a partition such as ``season=unknown`` (a fan-out write without game
    metadata) is no integer, and Athena's ``CAST`` would fail the whole query. With ``spill``,
    rows filed under the season before, or under no season at all, are read too: ``plays_date``
    files the calendar year of its date (``cbbd_etl_lake.md`` §3.3), so a game of season 2025
    played in December 2024 may sit under ``season=2024``; a write without metadata lands at
    the table root or under ``season=unknown``. Units are matched by their own columns, so rows
    read this way count for the unit they belong to, whatever folder holds them.

    Args:
        season_column: The season column or partition key.
        spill: Also read the previous season's folder and rows with no season.

    Returns:
        The condition text (``:season_start``/``:season_end`` placeholders).
    """
    season = f"TRY_CAST({quote_ident(season_column)} AS integer)"
    if not spill:
        return f"{season} BETWEEN :season_start AND :season_end"
    return f"({season} BETWEEN :season_start - 1 AND :season_end OR {season} IS NULL)"


def coverage_query(
    database: str,
    table: str,
    unit_columns: Sequence[str],
    *,
    min_rows: int = 1,
    expression: str | None = None,
    season_column: str = "season",
    where: str = "",
) -> str:
    """Rows per unit and whether each unit is complete, for the selected seasons.

    Rows are read from every folder that can hold the seasons' units (:func:`season_filter`);
    units of other seasons that this reads are dropped by the caller.

    Args:
        database: Glue database (``cbbd_silver``).
        table: Table name.
        unit_columns: The columns that identify a unit (``gameId``).
        min_rows: A complete unit has at least this many rows.
        expression: An extra Athena boolean aggregate a complete unit satisfies.
        season_column: The season column or partition key.
        where: An extra condition on the rows read (e.g. the units of interest).

    Returns:
        A query with columns ``u0..uN`` (unit parts as text), ``n`` and ``ok``;
        ``:season_start`` and ``:season_end`` are placeholders.
    """
    units = ", ".join(f"CAST({quote_ident(c)} AS varchar) AS u{i}" for i, c in enumerate(unit_columns))
    ok = f"count(*) >= {int(min_rows)}"
    if expression:
        ok = f"({ok}) AND ({expression})"
    group = ", ".join(str(i + 1) for i in range(len(unit_columns)))
    return (
        f"SELECT {units}, count(*) AS n, ({ok}) AS ok\n"
        f"FROM {database}.{table}\n"
        f"WHERE {season_filter(season_column)}{f' AND ({where})' if where else ''}\n"
        f"GROUP BY {group}"
    )


def duplicates_query(database: str, table: str, key_exprs: Sequence[str]) -> str:
    """Surplus rows per season: rows whose natural key appears more than once in the whole table.

    A key counts as duplicated wherever its rows are (two layouts, two season folders); its
    surplus is attributed to the earliest season folder holding it.

    Args:
        database: Glue database.
        table: Table.
        key_exprs: The natural key as Athena expressions (:func:`reconciler.lake.keys.key_sql`;
            a plain column is its quoted name).

    Returns:
        A query with columns ``season``, ``dup_rows`` and ``dup_keys``.
    """
    keys = ", ".join(f"{e} AS k{i}" for i, e in enumerate(key_exprs))
    names = ", ".join(f"k{i}" for i in range(len(key_exprs)))
    return (
        "SELECT season, sum(c - 1) AS dup_rows, count(*) AS dup_keys FROM (\n"
        f"  SELECT min(season) AS season, {names}, count(*) AS c FROM (\n"
        f"    SELECT TRY_CAST(season AS integer) AS season, {keys}\n"
        f"    FROM {database}.{table}\n"
        f"    WHERE {season_filter()}\n"
        "  ) AS k\n"
        f"  GROUP BY {names}\n"
        "  HAVING count(*) > 1\n"
        ") AS d\nGROUP BY season"
    )


def duplicate_seasons_query(database: str, table: str, key_exprs: Sequence[str]) -> str:
    """The season folders holding a row of a duplicated natural key (NULL: rows with no season).

    Args:
        database: Glue database.
        table: Table.
        key_exprs: The natural key as Athena expressions.

    Returns:
        A query with one column, ``season``.
    """
    keys = ", ".join(f"{e} AS k{i}" for i, e in enumerate(key_exprs))
    names = ", ".join(f"k{i}" for i in range(len(key_exprs)))
    on = " AND ".join(f"k.k{i} = d.k{i}" for i in range(len(key_exprs)))
    return (
        "WITH k AS (\n"
        f"  SELECT TRY_CAST(season AS integer) AS season, {keys}\n"
        f"  FROM {database}.{table}\n"
        f"  WHERE {season_filter()}\n"
        f"), d AS (SELECT {names} FROM k GROUP BY {names} HAVING count(*) > 1)\n"
        f"SELECT DISTINCT k.season FROM k JOIN d ON {on}"
    )


def season_rows_query(database: str, table: str) -> str:
    """The season folders holding any row (NULL: rows with no season folder).

    Args:
        database: Glue database.
        table: Table.

    Returns:
        A query with one column, ``season``.
    """
    return f"SELECT DISTINCT TRY_CAST(season AS integer) AS season\nFROM {database}.{table}\nWHERE {season_filter()}"

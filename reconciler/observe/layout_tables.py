"""The tables the specs name, in bronze and silver, with their declared layouts and schemas.

Silver layouts come from each spec's ``target.silver.layout``. Bronze layouts follow what
cbbd_etl writes per endpoint type (``cbbd_etl_lake.md`` §3.3): a request for one game or one
date files its response under ``season=S/date=D`` (the game's UTC date, or the query date);
a request for a season or a team-season under ``season=S/asof=<ingest day>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import sqlglot
import sqlglot.errors

from reconciler.core.layout_observed import TableDecl
from reconciler.lake.keys import key_parts, source_columns
from reconciler.lake.schemas import BRONZE_TABLES, SILVER_TABLES
from reconciler.ports import CatalogTable
from reconciler.spec.models import FetchStrategy, Spec

__all__ = [
    "BRONZE_BY_DATE",
    "BRONZE_BY_INGEST",
    "athena_type",
    "bronze_layout",
    "bronze_partition",
    "catalog_definition",
    "declared_tables",
    "expression_columns",
]

BRONZE_BY_DATE = "season={season}/date={date}"
BRONZE_BY_INGEST = "season={season}/asof={asof}"
_BY_DATE_COVERS = frozenset({"game", "date"})
_ATHENA = {
    pa.int64(): "bigint",
    pa.int32(): "int",
    pa.float64(): "double",
    pa.bool_(): "boolean",
    pa.string(): "string",
}


def bronze_layout(strategy: FetchStrategy) -> str:
    """The layout of the bronze table a strategy writes.

    Args:
        strategy: The fetch strategy.

    Returns:
        :data:`BRONZE_BY_DATE` for per-game and per-date requests, else :data:`BRONZE_BY_INGEST`.
    """
    return BRONZE_BY_DATE if strategy.covers in _BY_DATE_COVERS else BRONZE_BY_INGEST


def bronze_partition(strategy: FetchStrategy | None, ctx: Mapping[str, Any], today: str) -> str:
    """The bronze partition of one response, by the strategy's declared layout.

    Args:
        strategy: The strategy that made the request (None: decide by the context alone).
        ctx: The response's context (``season``; ``date`` when its units share one).
        today: The UTC ingest day.

    Returns:
        e.g. ``season=2025/date=2024-12-01`` or ``season=2025/asof=2026-11-25``.
    """
    by_date = bronze_layout(strategy) == BRONZE_BY_DATE if strategy is not None else "date" in ctx
    if by_date and "date" in ctx:
        return f"season={ctx.get('season')}/date={ctx['date']}"
    return f"season={ctx.get('season')}/asof={today}"


def _columns(schema: pa.Schema | None) -> tuple[tuple[str, str], ...]:
    return tuple((f.name, str(f.type)) for f in schema) if schema is not None else ()


def declared_tables(specs: Sequence[Spec], silver_database: str, bronze_database: str) -> list[TableDecl]:
    """Every table the specs name, silver first, each once.

    Args:
        specs: The specs.
        silver_database: The silver catalog database.
        bronze_database: The bronze catalog database.

    Returns:
        The declarations, sorted by layer then name.
    """
    out: dict[tuple[str, str], TableDecl] = {}
    for spec in specs:
        s = spec.target.silver
        declared = SILVER_TABLES.get(s.table)
        out.setdefault(
            ("silver", s.table),
            TableDecl(
                layer="silver",
                database=silver_database,
                table=s.table,
                layout=s.layout,
                key=tuple(s.key),
                columns=_columns(declared.schema if declared else None),
                dedupe=True,
                key_columns=tuple(source_columns(key_parts(s.table, s.key))),
                unit_columns=tuple(s.unit_columns),
                check_columns=expression_columns(spec.expect.complete.expression),
            ),
        )
        for strat in spec.fetch:
            if not strat.bronze:
                continue
            b = BRONZE_TABLES.get(strat.bronze)
            out.setdefault(
                ("bronze", strat.bronze),
                TableDecl(
                    layer="bronze",
                    database=bronze_database,
                    table=strat.bronze,
                    layout=bronze_layout(strat),
                    key=b.key if b else (),
                    columns=_columns(b.schema if b else None),
                    dedupe=False,
                ),
            )
    return [out[k] for k in sorted(out, key=lambda k: (k[0] != "silver", k[1]))]


def expression_columns(expression: str | None) -> tuple[str, ...]:
    """The columns an Athena expression reads (a completeness rule such as ``max(period) >= 2``).

    Args:
        expression: The expression, or None.

    Returns:
        Column names, sorted (none when there is no expression or it does not parse).
    """
    if not expression:
        return ()
    try:
        tree = sqlglot.parse_one(f"SELECT {expression} FROM t", read="athena")
    except sqlglot.errors.ParseError:
        return ()
    return tuple(sorted({c.name for c in tree.find_all(sqlglot.exp.Column)}))


def athena_type(arrow_type: str) -> str:
    """The Athena type cbbd_etl gives a column of an Arrow type.

    Args:
        arrow_type: The Arrow type text (``int64``).

    Returns:
        ``bigint``, ``int``, ``double``, ``boolean`` or ``string`` (everything else).
    """
    for t, name in _ATHENA.items():
        if str(t) == arrow_type:
            return name
    return "string"


def catalog_definition(decl: TableDecl) -> CatalogTable:
    """The catalog table for a declaration, as cbbd_etl defines it.

    Columns are the declared ones minus the partition key names; partition keys are all
    ``string`` (``cbbd_etl_lake.md`` §7).

    Args:
        decl: The declaration.

    Returns:
        The table definition.
    """
    keys = decl.partition_keys
    lowered = {k.lower() for k in keys}
    return CatalogTable(
        database=decl.database,
        name=decl.table,
        location=decl.prefix,
        columns=tuple((n, athena_type(t)) for n, t in decl.columns if n.lower() not in lowered),
        partition_keys=tuple((k, "string") for k in keys),
    )

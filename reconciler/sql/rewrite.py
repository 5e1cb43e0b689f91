"""Parse Athena-dialect SQL with sqlglot, find and replace its lake tables, and transpile it.

Pure text → text helpers: no engine here. The DuckDB engine uses them to point
``cbbd_silver.fct_games`` at the lake's Parquet files; the Athena engine uses :func:`parse_query`
only to refuse a malformed or non-``SELECT`` query before it costs a round trip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from reconciler.errors import QueryError

__all__ = ["TableRef", "deterministic", "parse_query", "replace_tables", "table_refs", "to_dialect"]

#: Expressions whose value changes between two runs over the same files.
_VOLATILE: tuple[type[exp.Expr], ...] = tuple(
    t
    for t in (
        getattr(exp, name, None)
        for name in (
            "CurrentDate",
            "CurrentDatetime",
            "CurrentTime",
            "CurrentTimestamp",
            "Localtime",
            "Localtimestamp",
            "Rand",
            "Randn",
            "Shuffle",
            "TableSample",
            "Uuid",
        )
    )
    if isinstance(t, type)
)
_VOLATILE_NAMES = frozenset({"now", "random", "rand", "uuid", "current_date", "current_timestamp", "shuffle"})


@dataclass(frozen=True, slots=True, order=True)
class TableRef:
    """A table a query reads, as ``database.name`` (lower-case, as Athena resolves names).

    Attributes:
        database: The database (``cbbd_silver``).
        name: The table (``fct_games``).
    """

    database: str
    name: str

    def __str__(self) -> str:
        """``database.name``."""
        return f"{self.database}.{self.name}"


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return lines[0] if lines else "unknown error"


def _parse_problem(exc: ParseError) -> str:
    if exc.errors:
        err = exc.errors[0]
        what = str(err.get("description") or "syntax error")
        if "<Token" in what:
            what = what.split("<Token", 1)[0].strip() + " something else"
        near = str(err.get("highlight") or "").strip()
        where = f"line {err.get('line')}, column {err.get('col')}"
        return f"{what} at {where}" + (f" near {near!r}" if near else "")
    return _first_line(str(exc))


def parse_query(sql: str) -> exp.Expr:
    """Parse one Athena (Trino) ``SELECT``/``WITH`` query.

    Args:
        sql: The query text, placeholders already bound.

    Returns:
        The sqlglot expression tree.

    Raises:
        QueryError: If the text does not parse, holds several statements, or is not a query
            (DDL, DML and engine commands are refused: the engines only read).
    """
    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except ParseError as exc:
        raise QueryError(f"SQL does not parse as Athena SQL: {_parse_problem(exc)}") from None
    except SqlglotError as exc:
        raise QueryError(f"SQL does not parse as Athena SQL: {_first_line(str(exc))}") from None
    if not statements:
        raise QueryError("SQL is empty")
    if len(statements) > 1:
        raise QueryError(f"SQL holds {len(statements)} statements; one query is allowed")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        kind = type(tree).__name__.upper()
        raise QueryError(f"only SELECT queries can run here, not {kind}")
    return tree


def _cte_names(tree: exp.Expr) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def _ref(table: exp.Table, default_database: str | None, ctes: set[str]) -> TableRef | None:
    name = table.name.lower()
    db = table.db.lower()
    if not name or isinstance(table.this, exp.Func):
        return None  # UNNEST(...), a table function or a VALUES list
    if not db:
        if name in ctes or default_database is None:
            return None
        db = default_database
    return TableRef(db, name)


def deterministic(tree: exp.Expr) -> bool:
    """Whether a query gives the same rows every time it runs over the same data.

    Args:
        tree: A parsed query.

    Returns:
        False when it reads the clock or a random source (``current_date``, ``now()``, ``rand()``,
        ``TABLESAMPLE``), or files through a table function (``read_parquet(...)``), whose
        changes no listing of the lake's tables would show.
    """
    for node in tree.walk():
        if isinstance(node, _VOLATILE):
            return False
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Func):
            return False
        if isinstance(node, exp.Anonymous) and str(node.name).lower() in _VOLATILE_NAMES:
            return False
    return True


def table_refs(tree: exp.Expr, default_database: str | None = None) -> list[TableRef]:
    """The distinct tables a query reads, sorted.

    Args:
        tree: A parsed query.
        default_database: The database of unqualified names that are not CTEs (Athena's
            current database), or None to ignore unqualified names.

    Returns:
        The table references.
    """
    ctes = _cte_names(tree)
    refs = {r for t in tree.find_all(exp.Table) if (r := _ref(t, default_database, ctes)) is not None}
    return sorted(refs)


def replace_tables(
    tree: exp.Expr,
    name_for: Callable[[TableRef], str],
    default_database: str | None = None,
) -> exp.Expr:
    """Point every lake table at another relation name, keeping aliases.

    ``cbbd_silver.fct_games g`` becomes ``"<name_for(ref)>" AS g``; an unaliased table keeps its
    own name as alias so that ``fct_games.col`` still resolves.

    Args:
        tree: A parsed query (not modified).
        name_for: The relation name to use for a table reference.
        default_database: As for :func:`table_refs`.

    Returns:
        A new tree.
    """
    ctes = _cte_names(tree)

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and node.args.get("db") is not None:
            # cbbd_silver.fct_games.col → fct_games.col (the table keeps its name as alias)
            node.set("db", None)
            node.set("catalog", None)
            return node
        if not isinstance(node, exp.Table):
            return node
        ref = _ref(node, default_database, ctes)
        if ref is None:
            return node
        alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name))
        return exp.Table(this=exp.to_identifier(name_for(ref), quoted=True), alias=alias)

    return tree.transform(swap, copy=True)


def to_dialect(tree: exp.Expr, dialect: str) -> str:
    """Render a parsed query in another SQL dialect.

    Args:
        tree: A parsed query.
        dialect: A sqlglot dialect name (``duckdb``, ``athena``).

    Returns:
        The SQL text.

    Raises:
        QueryError: If sqlglot cannot express the query in that dialect.
    """
    try:
        return tree.sql(dialect=dialect, unsupported_level=sqlglot.ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise QueryError(f"SQL cannot be translated to {dialect}: {_first_line(str(exc))}") from None

"""Pure SQL helpers shared by the query engines: parameter binding and sqlglot rewriting."""

from __future__ import annotations

from reconciler.sql.params import bind_params, placeholders, quote_ident, sql_literal
from reconciler.sql.rewrite import TableRef, deterministic, parse_query, replace_tables, table_refs, to_dialect

__all__ = [
    "TableRef",
    "bind_params",
    "deterministic",
    "parse_query",
    "placeholders",
    "quote_ident",
    "replace_tables",
    "sql_literal",
    "table_refs",
    "to_dialect",
]

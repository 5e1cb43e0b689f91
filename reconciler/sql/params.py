"""Bind ``:name`` placeholders in Athena-dialect SQL as SQL literals.

Shared by both query engines, so a spec's query means the same thing on DuckDB and on Athena.
Only integers and strings are accepted: anything else is refused rather than guessed at.
Placeholders inside string literals, quoted identifiers and comments are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import QueryError

__all__ = ["bind_params", "placeholders", "quote_ident", "sql_literal"]


def quote_ident(name: str) -> str:
    """Quote an identifier, as Athena (Trino) and DuckDB both read it: ``"gameId"``.

    Args:
        name: The identifier.

    Returns:
        ``"name"`` with inner quotes doubled.
    """
    return '"' + name.replace('"', '""') + '"'


def sql_literal(name: str, value: Any) -> str:
    """Render one parameter value as an Athena (Trino) SQL literal.

    Args:
        name: The parameter name, for error messages.
        value: An ``int`` (not ``bool``) or a ``str``.

    Returns:
        The literal: ``2024`` or ``'it''s'``.

    Raises:
        QueryError: If the value has another type or a string holds a NUL character.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise QueryError(f"parameter :{name} is a {type(value).__name__}; only int and str can be bound")
    if isinstance(value, int):
        return str(value)
    if "\x00" in value:
        raise QueryError(f"parameter :{name} holds a NUL character")
    return "'" + value.replace("'", "''") + "'"


def _is_name_start(ch: str) -> bool:
    return ch.isascii() and (ch.isalpha() or ch == "_")


def _is_name_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def _skip_quoted(sql: str, i: int, quote: str) -> int:
    """Index just past the quoted run starting at ``sql[i]`` (doubled quotes are escapes)."""
    n = len(sql)
    j = i + 1
    while j < n:
        if sql[j] == quote:
            if j + 1 < n and sql[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return n


def _scan(sql: str) -> list[tuple[int, int, str]]:
    """Every placeholder as (start, end, name), outside literals, identifiers and comments."""
    found: list[tuple[int, int, str]] = []
    n = len(sql)
    i = 0
    while i < n:
        ch = sql[i]
        if ch in ("'", '"', "`"):
            i = _skip_quoted(sql, i, ch)
        elif sql.startswith("--", i):
            nl = sql.find("\n", i)
            i = n if nl < 0 else nl + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif ch == ":" and i + 1 < n and _is_name_start(sql[i + 1]) and (i == 0 or sql[i - 1] != ":"):
            j = i + 2
            while j < n and _is_name_char(sql[j]):
                j += 1
            found.append((i, j, sql[i + 1 : j]))
            i = j
        else:
            i += 1
    return found


def placeholders(sql: str) -> list[str]:
    """The distinct placeholder names of a query, in order of first appearance.

    Args:
        sql: Athena-dialect SQL with ``:name`` placeholders.

    Returns:
        The names without the colon.
    """
    seen: dict[str, None] = {}
    for _, _, name in _scan(sql):
        seen.setdefault(name, None)
    return list(seen)


def bind_params(sql: str, params: Mapping[str, Any] | None) -> str:
    """Replace every ``:name`` placeholder with the literal of ``params[name]``.

    Parameters the query does not use are ignored (specs pass a standard set).

    Args:
        sql: Athena-dialect SQL.
        params: Name → value (``int`` or ``str``).

    Returns:
        The SQL with literals in place of placeholders.

    Raises:
        QueryError: If a placeholder has no value, or a value cannot be bound.
    """
    found = _scan(sql)
    if not found:
        return sql
    params = params or {}
    missing = sorted({name for _, _, name in found if name not in params})
    if missing:
        names = ", ".join(f":{m}" for m in missing)
        raise QueryError(f"query parameter(s) {names} have no value")
    out: list[str] = []
    pos = 0
    for start, end, name in found:
        out.append(sql[pos:start])
        out.append(sql_literal(name, params[name]))
        pos = end
    out.append(sql[pos:])
    return "".join(out)

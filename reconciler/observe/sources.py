"""Checks of the specs' source queries against the lake: they run, and return the unit columns.

``reconcile validate`` runs each source query once, wrapped in ``LIMIT 0`` (no rows are read,
but the engine binds every table and column), so a query that fails, or lacks a unit column,
``season`` or ``date``, is one line naming the spec file and field instead of a target that
plans "ok" with an unknown expected set.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.errors import QueryError, SpecError
from reconciler.ports import QueryEngine
from reconciler.spec.models import Spec

__all__ = ["missing_columns", "source_problems"]


def missing_columns(spec: Spec, columns: Sequence[str]) -> str:
    """Why a source query's columns cannot give a spec's units ("" when they can).

    Args:
        spec: The spec.
        columns: The columns the query returns.

    Returns:
        e.g. ``source query returns no column 'game_id' (has gid, season, date)``.
    """
    lacking = [c for c in (*spec.unit, "season", "date") if c not in columns]
    if not lacking:
        return ""
    names = ", ".join(repr(c) for c in lacking)
    return f"source query returns no column {names} (has {', '.join(columns) or 'none'})"


def _probe(query: str) -> str:
    return f"SELECT * FROM (\n{query.strip().rstrip(';')}\n) AS source_probe LIMIT 0"


def source_problems(engine: QueryEngine, specs: Sequence[Spec], season: int) -> list[SpecError]:
    """Run every spec's source query once with ``LIMIT 0`` and check the columns it returns.

    Args:
        engine: The profile's query engine.
        specs: The specs.
        season: The season bound to ``:season_start`` and ``:season_end``.

    Returns:
        One problem per spec whose query fails or lacks a column (file and field named).
    """
    out = []
    for spec in specs:
        try:
            res = engine.query(_probe(spec.source.query), {"season_start": season, "season_end": season})
        except QueryError as exc:
            out.append(SpecError(f"the query fails on the lake: {exc}", file=spec.file, field="source.query"))
            continue
        why = missing_columns(spec, res.table.column_names)
        if why:
            out.append(SpecError(f"{why}; the unit is {spec.unit}", file=spec.file, field="source.query"))
    return out

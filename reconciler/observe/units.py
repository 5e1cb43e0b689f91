"""Expected units from a source query's rows, in Python (the whole observation's way)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.core.observed import ExpectedUnit

__all__ = ["expected_units", "unit_key"]


def unit_key(values: Sequence[Any]) -> str:
    """The text key of a unit from its column values (``1234`` or ``1234:72``).

    Args:
        values: The unit's column values in spec order.

    Returns:
        The key.
    """
    return ":".join(str(int(v)) if isinstance(v, float) and v.is_integer() else str(v) for v in values)


def _key_column(table: pa.Table, columns: Sequence[str]) -> list[str]:
    """Every row's unit key, as :func:`unit_key` would give it (integer and text columns fast)."""
    parts: list[list[str]] = []
    for c in columns:
        col = table.column(c)
        if pa.types.is_integer(col.type) or pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            parts.append([str(v) for v in col.to_pylist()])
        else:
            parts.append([unit_key([v]) for v in col.to_pylist()])
    if len(parts) == 1:
        return parts[0]
    return [":".join(p) for p in zip(*parts, strict=True)]


def expected_units(table: pa.Table, unit: Sequence[str], seasons: Sequence[int]) -> tuple[ExpectedUnit, ...]:
    """The source rows of the selected seasons as units, one per key, ordered by season, date, key.

    Args:
        table: The source query's rows.
        unit: The unit's columns.
        seasons: The selected seasons.

    Returns:
        The units (the first row of a key, in that order, wins).
    """
    season = pc.cast(table.column("season"), pa.int64())
    wanted = pc.is_in(season, value_set=pa.array(sorted(set(seasons)), pa.int64()))
    table, season = table.filter(wanted), season.filter(wanted)
    if table.num_rows == 0:
        return ()
    keys = _key_column(table, unit)
    dates = [str(d)[:10] for d in table.column("date").to_pylist()]
    # Sort like the plan reads (season, date, key) in Arrow; the first row of a key then wins.
    idx = pc.sort_indices(
        pa.table({"s": season, "d": pa.array(dates), "k": pa.array(keys)}),
        sort_keys=[("s", "ascending"), ("d", "ascending"), ("k", "ascending")],
    )
    table = table.take(idx)
    perm = idx.to_pylist()
    seasons_col = season.take(idx).to_pylist()
    out: dict[str, ExpectedUnit] = {}
    for i, season_no, row in zip(perm, seasons_col, table.to_pylist(), strict=True):
        key = keys[i]
        if key not in out:
            out[key] = ExpectedUnit(key=key, season=season_no, date=dates[i], cols=row)
    return tuple(out.values())

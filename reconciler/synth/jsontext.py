"""Vectorised JSON text: build ``json.dumps`` output column-wise with Arrow string kernels.

Every helper returns non-null string arrays (JSON ``null`` is the text ``"null"``), so they can be
concatenated freely. Two separator styles exist: :data:`COMPACT` (``json.dumps(v,
separators=(",", ":"))``, the silver JSON columns) and :data:`PYTHON` (Python's defaults, the raw
layer). Strings are quoted without escaping: the universe only produces plain ASCII text with no
quotes, backslashes or control characters. Floats are rendered through lookup tables built with
``repr`` so they match Python exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

__all__ = [
    "COMPACT",
    "PYTHON",
    "Style",
    "bool_text",
    "cat",
    "clock_table",
    "int_text",
    "iso_seconds",
    "js_number",
    "js_tenths_table",
    "js_thousandths_table",
    "json_obj",
    "quoted",
    "tenths_table",
    "thousandths_table",
]

#: A string array or a ``str`` literal (pyarrow is untyped, hence ``Any``).
Part: TypeAlias = Any


@dataclass(frozen=True, slots=True)
class Style:
    """JSON separators.

    Attributes:
        item: Between items (``","`` or ``", "``).
        kv: Between a key and its value (``":"`` or ``": "``).
    """

    item: str
    kv: str


COMPACT = Style(",", ":")
PYTHON = Style(", ", ": ")


def cat(*parts: Part) -> pa.Array:
    """Concatenate string arrays and literals element-wise (adjacent literals are merged).

    Args:
        *parts: Arrays (same length, no nulls) and ``str`` literals.

    Returns:
        The concatenation.
    """
    merged: list[Part] = []
    for p in parts:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + p
        elif not (isinstance(p, str) and not p):
            merged.append(p)
    if not any(isinstance(p, pa.Array | pa.ChunkedArray) for p in merged):
        raise ValueError("cat needs at least one array")
    return pc.binary_join_element_wise(*merged, "")


def quoted(values: pa.Array) -> pa.Array:
    """JSON strings (``"x"``), ``null`` where the value is null.

    Args:
        values: A string array.

    Returns:
        JSON text.
    """
    return pc.fill_null(cat('"', values, '"'), "null")


def int_text(values: NDArray[np.int64], null: NDArray[np.bool_] | None = None) -> pa.Array:
    """JSON integers, ``null`` where ``null`` is set.

    Args:
        values: Integers.
        null: Null mask, or None.

    Returns:
        JSON text.
    """
    text = pc.cast(pa.array(values, type=pa.int64()), pa.string())
    if null is None:
        return text
    return pc.if_else(pa.array(null, type=pa.bool_()), "null", text)


def bool_text(values: NDArray[np.bool_], null: NDArray[np.bool_] | None = None) -> pa.Array:
    """JSON booleans, ``null`` where ``null`` is set.

    Args:
        values: Booleans.
        null: Null mask, or None.

    Returns:
        JSON text.
    """
    idx = values.astype(np.int64)
    if null is not None:
        idx = np.where(null, 2, idx)
    return pc.take(pa.array(["false", "true", "null"]), pa.array(idx))


def json_obj(style: Style, fields: Sequence[tuple[str, Part]]) -> pa.Array:
    """JSON objects from per-field value texts, keys in the given order.

    Args:
        style: Separators.
        fields: ``(key, value text)`` pairs; a ``str`` value is a literal JSON text.

    Returns:
        JSON text.
    """
    parts: list[Part] = ["{"]
    for i, (key, value) in enumerate(fields):
        parts.append(("" if i == 0 else style.item) + f'"{key}"' + style.kv)
        parts.append(value)
    parts.append("}")
    return cat(*parts)


@cache
def thousandths_table() -> pa.Array:
    """``repr(k / 1000)`` for k in 0..1000 (win probabilities).

    Returns:
        The strings.
    """
    return pa.array([repr(k / 1000) for k in range(1001)], type=pa.string())


@cache
def tenths_table(n: int) -> pa.Array:
    """``repr(k / 10)`` for k in 0..n-1 (shot coordinates).

    Args:
        n: Table size.

    Returns:
        The strings.
    """
    return pa.array([repr(k / 10) for k in range(n)], type=pa.string())


def js_number(x: float) -> str:
    """A float as JavaScript's ``JSON.stringify`` writes it: whole values without ``.0``.

    The CBBD API is a Node server, so ``3.0`` goes on the wire as ``3`` (``cbbd_api.md`` §2 shows
    ``"location": {"x": 874.2, "y": 285}``); other values match Python's ``repr``.

    Args:
        x: A finite float.

    Returns:
        The text.
    """
    return str(int(x)) if float(x).is_integer() else repr(x)


@cache
def js_thousandths_table() -> pa.Array:
    """:func:`thousandths_table` as the API's JSON writes it (``0`` and ``1`` without ``.0``).

    Returns:
        The strings.
    """
    return pa.array([js_number(k / 1000) for k in range(1001)], type=pa.string())


@cache
def js_tenths_table(n: int) -> pa.Array:
    """:func:`tenths_table` as the API's JSON writes it (whole coordinates without ``.0``).

    Args:
        n: Table size.

    Returns:
        The strings.
    """
    return pa.array([js_number(k / 10) for k in range(n)], type=pa.string())


@cache
def clock_table() -> pa.Array:
    """``"MM:SS"`` for 0..1200 seconds.

    Returns:
        The strings.
    """
    return pa.array([f"{s // 60:02d}:{s % 60:02d}" for s in range(1201)], type=pa.string())


@cache
def _time_of_day() -> pa.Array:
    return pa.array([f"T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000Z" for s in range(86400)])


def iso_seconds(epoch: NDArray[np.int64]) -> pa.Array:
    """Format epoch seconds as ``YYYY-MM-DDTHH:MM:SS.000Z`` (the API's timestamp form).

    Args:
        epoch: Non-negative epoch seconds.

    Returns:
        Strings.
    """
    if len(epoch) == 0:
        return pa.array([], type=pa.string())
    day = epoch // 86400
    lo = int(day.min())
    hi = int(day.max())
    base = dt.date(1970, 1, 1)
    dates = pa.array([(base + dt.timedelta(days=d)).isoformat() for d in range(lo, hi + 1)])
    return cat(pc.take(dates, pa.array(day - lo)), pc.take(_time_of_day(), pa.array(epoch % 86400)))

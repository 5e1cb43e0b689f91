"""Per-game bronze and silver plays tables of a :class:`PlaySource`, typed for a whole frame at once.

:func:`reconciler.sandbox.pipeline_plays.bronze_batch` and :func:`silver_batch` type each batch's
columns one by one (``normalize_records``: a hint, else the batch's first non-null value); per
game, over a whole lake, that costs about a third of encoding the files. :class:`GameBatches`
makes the same decisions for every game of a frame with array operations (non-null counts per
game, each game's first non-null value, each column cast once per type it can take) and then
only slices. The tables equal the per-batch functions', column for column and type for type
(``tests/sandbox/test_pipeline_batches.py``); a game whose column would need the record-wise
cast falls back to them.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from reconciler.sandbox.pipeline_plays import (
    BRONZE_HINTS,
    BRONZE_NAMES,
    KIND,
    NESTED,
    SILVER_HINTS,
    SILVER_NAMES,
    SILVER_SHOT_NAMES,
    PlaySource,
    bronze_batch,
    silver_batch,
)

__all__ = ["GameBatches"]

_STR, _I64, _F64, _BOOL = pa.string(), pa.int64(), pa.float64(), pa.bool_()


@cache
def _field(name: str, dtype: pa.DataType) -> pa.Field:
    return pa.field(name, dtype)


class _Column:
    """One source column: its type in each game's batch, and the column cast to each such type."""

    def __init__(
        self, name: str, values: pa.Array, kind: str, hint: pa.DataType | None, starts: NDArray[np.int64]
    ) -> None:
        self.name = name
        self.values = values
        self.kind = kind
        self.hint = hint
        heads = starts[:-1]
        if values.null_count:
            valid = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        else:
            valid = np.ones(len(values), dtype=bool)
        counts = np.add.reduceat(valid.astype(np.int64), heads) if len(heads) else np.zeros(0, dtype=np.int64)
        self.all_null: NDArray[np.bool_] = counts == 0
        self.whole: NDArray[np.bool_] | None = None
        if hint is None and kind == "float":  # the type follows each game's first non-null value
            where = np.flatnonzero(valid)
            first = np.minimum(np.searchsorted(where, heads), max(len(where) - 1, 0))
            nums = pc.fill_null(values, 0).to_numpy(zero_copy_only=False) if len(values) else np.zeros(0)
            pick = nums[where[first]] if len(where) else np.zeros(len(heads))
            self.whole = np.asarray(np.floor(pick) == pick, dtype=bool)
        self._casts: dict[str, pa.Array | None] = {}

    def dtype(self, g: int) -> pa.DataType:
        """The column's type in game ``g``'s batch (``pipeline_plays._typed``'s rule)."""
        if self.hint is not None:
            return self.hint
        if self.kind in ("str", "nested") or self.all_null[g]:
            return _STR
        if self.whole is not None:
            return _I64 if self.whole[g] else _F64
        return _I64 if self.kind == "int" else _BOOL

    def cast(self, dtype: pa.DataType) -> pa.Array | None:
        """The whole column as ``dtype``; None when only the record-wise cast could make it."""
        key = str(dtype)
        if key not in self._casts:
            v = self.values
            out: pa.Array | None = None
            if v.type == dtype:
                out = v
            elif pa.types.is_floating(v.type) and pa.types.is_integer(dtype):
                out = pc.cast(pc.trunc(v), dtype)
            elif pa.types.is_integer(v.type) and (pa.types.is_integer(dtype) or pa.types.is_floating(dtype)):
                out = pc.cast(v, dtype)
            self._casts[key] = out
        return self._casts[key]


class GameBatches:
    """The bronze and silver tables of each game of a source, equal to the per-batch functions'."""

    def __init__(self, src: PlaySource) -> None:
        """Decide every column's type in every game's batch.

        Args:
            src: The source (each game's events contiguous, games in ``src.starts``).
        """
        self.src = src
        starts = src.starts if len(src.game_ids) else np.zeros(1, dtype=np.int64)  # no game: nothing to type

        def column(name: str, nested: dict[str, pa.Array], hints: dict[str, pa.DataType]) -> _Column:
            values = nested[name] if name in NESTED else src.values[name]
            return _Column(name, values, KIND.get(name, "derived"), hints.get(name), starts)

        self._bronze = [column(n, src.repr, BRONZE_HINTS) for n in BRONZE_NAMES]
        silver = {n: column(n, src.json, SILVER_HINTS) for n in SILVER_SHOT_NAMES}
        self._silver_plain = [silver[n] for n in SILVER_NAMES]
        self._silver_shot = [silver[n] for n in SILVER_SHOT_NAMES]
        shots = src.is_shot.astype(np.int64)
        self._has_shot = np.add.reduceat(shots, starts[:-1]) > 0 if len(starts) > 1 else np.zeros(0, dtype=bool)

    def _table(self, cols: list[_Column], g: int) -> pa.Table | None:
        lo, hi = int(self.src.starts[g]), int(self.src.starts[g + 1])
        fields, arrays = [], []
        for c in cols:
            dtype = c.dtype(g)
            if c.all_null[g]:
                arr = pa.nulls(hi - lo, type=dtype)
            else:
                whole = c.cast(dtype)
                if whole is None:
                    return None
                arr = whole.slice(lo, hi - lo)
            fields.append(_field(c.name, dtype))
            arrays.append(arr)
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))

    def bronze(self, g: int) -> pa.Table:
        """Game ``g``'s ``plays_game`` bronze table (as :func:`bronze_batch` makes it).

        Args:
            g: The game's position in the source.

        Returns:
            The table.
        """
        out = self._table(self._bronze, g)
        return out if out is not None else bronze_batch(self.src, int(self.src.starts[g]), int(self.src.starts[g + 1]))

    def silver(self, g: int) -> pa.Table:
        """Game ``g``'s ``fct_plays`` silver table (as :func:`silver_batch` makes it).

        Args:
            g: The game's position in the source.

        Returns:
            The table.
        """
        out = self._table(self._silver_shot if self._has_shot[g] else self._silver_plain, g)
        return out if out is not None else silver_batch(self.src, int(self.src.starts[g]), int(self.src.starts[g + 1]))

"""A silver table as a full scan sees it, for the units one apply writes: held keys and rows.

Athena and the pipeline's readers read every Parquet object under a table, whatever its
partition path: ``season=S/date=D/``, ``season=S/asof=A/``, loose files under ``season=S/``,
``season=unknown/``, the table root. So before apply writes a unit's rows it asks this index
which of the unit's natural keys the table already holds, anywhere, including in objects this
apply wrote moments before; and a derivation reads its inputs through it, de-duplicated.

Where a unit's rows can be (so only those objects are read):

* under ``season=S/`` for the unit's season, or ``season=Y/`` for the calendar year of its date
  (``plays_date`` files the calendar year, ``cbbd_etl_lake.md`` §3.3);
* there, in ``date=`` partitions within a day of the unit's date (``/plays/date`` also returns
  the games starting exactly at the next midnight, §6.2), or in any partition that is not a date
  (``asof=``, loose files);
* anywhere outside a four-digit ``season=`` folder (the table root, ``season=unknown``).

The lake is listed once per index (lazily, and only if a unit present at observation is
written); the objects this apply writes are added as it goes. Each object is read once, for the
key and unit columns only, and only its rows of units of interest are kept.
"""

from __future__ import annotations

import io
import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from reconciler.core.observed import ExpectedUnit
from reconciler.lake.keys import KeyPart, key_parts, key_tuples, source_columns, unit_strings
from reconciler.lake.layout import is_data_object, partition_pairs
from reconciler.lake.promote import unify_tables
from reconciler.ports import ObjectInfo, ObjectStore
from reconciler.spec.models import Spec

__all__ = ["TableIndex", "read_permissive"]

log = logging.getLogger(__name__)


def read_permissive(store: ObjectStore, key: str, columns: Sequence[str] | None = None) -> pa.Table | None:
    """Read one Parquet object's columns as written (absent columns skipped).

    Args:
        store: The object store.
        key: The object key.
        columns: Columns to read (default: all).

    Returns:
        The rows without schema metadata, or None for a file with no columns at all (the
        pipeline writes such files; they hold no data), and None for an object that is not
        readable Parquet: no reader can see its rows (DuckDB leaves it out of every query, the
        layout plan quarantines it), so it holds no key a full scan finds.
    """
    try:
        pf = pq.ParquetFile(io.BytesIO(store.get(key)))
        have = pf.schema_arrow.names
        if not have:
            return None
        cols = [c for c in columns if c in have] if columns is not None else None
        table = pf.read(columns=cols)
    except (pa.ArrowInvalid, OSError) as exc:
        log.warning("%s: not readable Parquet (%s); no reader sees its rows", key, str(exc).splitlines()[0])
        return None
    return table.replace_schema_metadata(None)


def _near_days(days: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for d in days:
        try:
            day = date.fromisoformat(d[:10])
        except ValueError:
            continue
        out.update((day + timedelta(days=i)).isoformat() for i in (-1, 0, 1))
    return out


@dataclass
class TableIndex:
    """One silver table's objects and keys, for one apply.

    Attributes:
        store: The object store.
        table: The silver table (``fct_plays``).
        parts: Its natural key, as files yield it.
        unit_columns: The columns naming a unit.
        interest: Units whose rows in the lake matter (present at observation); rows of other
            units are not kept when an object is read.
    """

    store: ObjectStore
    table: str
    parts: tuple[KeyPart, ...]
    unit_columns: tuple[str, ...]
    interest: frozenset[str] = frozenset()
    _listing: dict[str, ObjectInfo] | None = None
    _own: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _read: dict[tuple[str, int, float, bool], dict[str, list[tuple[Any, ...]]]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @classmethod
    def for_spec(cls, store: ObjectStore, spec: Spec, interest: Iterable[str] = ()) -> TableIndex:
        """The index of a spec's silver table.

        Args:
            store: The object store.
            spec: The spec.
            interest: Units present at observation.

        Returns:
            The index.
        """
        silver = spec.target.silver
        parts = key_parts(silver.table, silver.key)
        return cls(store, silver.table, parts, tuple(silver.unit_columns), frozenset(interest))

    @property
    def prefix(self) -> str:
        """The table's storage prefix."""
        return f"silver/{self.table}/"

    def _objects(self) -> dict[str, ObjectInfo]:
        if self._listing is None:
            self._listing = {o.key: o for o in self.store.list_objects(self.prefix) if is_data_object(o.key)}
            log.debug("%s: %d objects listed", self.prefix, len(self._listing))
        return self._listing

    def warm(self) -> int:
        """List the table now (once per run), so that the first write does not wait on it.

        Returns:
            The data objects under the table.
        """
        with self._lock:
            return len(self._objects())

    def candidates(self, units: Iterable[ExpectedUnit]) -> list[ObjectInfo]:
        """The objects that can hold rows of some units (see the module docstring).

        Args:
            units: The units.

        Returns:
            The objects, in key order.
        """
        units = list(units)
        seasons = {str(u.season) for u in units} | {u.date[:4] for u in units if u.date[:4].isdigit()}
        days = _near_days(u.date for u in units)
        out = []
        with self._lock:
            objects = list(self._objects().values())
        for o in objects:
            where = dict(partition_pairs(self.prefix, o.key))
            season = where.get("season", "")
            if season.isdigit() and len(season) == 4 and season not in seasons:
                continue
            if "date" in where and where["date"] not in days:
                continue
            out.append(o)
        return sorted(out, key=lambda o: o.key)

    def _keys_of(self, info: ObjectInfo, wanted: frozenset[str] | None) -> dict[str, list[tuple[Any, ...]]]:
        """The natural keys an object holds, by unit (units in ``wanted`` only, or all); read once."""
        ident = (info.key, info.size, info.mtime, wanted is None)
        with self._lock:
            cached = self._read.get(ident)
        if cached is not None:
            return cached
        table = read_permissive(self.store, info.key, [*source_columns(self.parts), *self.unit_columns])
        out: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        if table is not None and all(c in table.column_names for c in self.unit_columns) and table.num_rows:
            units = unit_strings(table, self.unit_columns)
            mask = [wanted is None or u in wanted for u in units]
            if any(mask):
                rows = table.filter(pa.array(mask, pa.bool_()))
                keys = key_tuples(rows, self.parts)
                if keys is None:
                    log.warning("%s: lacks a key column (%s)", info.key, ", ".join(source_columns(self.parts)))
                else:
                    for u, k in zip([u for u, m in zip(units, mask, strict=True) if m], keys, strict=True):
                        out[u].append(k)
        with self._lock:
            self._read[ident] = dict(out)
        return out

    def held(self, units: Mapping[str, ExpectedUnit], exclude: set[str]) -> set[tuple[Any, ...]]:
        """Natural keys the table holds for some units, as a full scan sees it.

        Units present at observation (:attr:`interest`) are looked for in every object that can
        hold them; the others (absent at observation) only in objects this apply wrote.

        Args:
            units: The units, by key.
            exclude: Objects to leave out (our own earlier write that this write replaces).

        Returns:
            The keys.
        """
        out: set[tuple[Any, ...]] = set()
        scan = [u for k, u in units.items() if k in self.interest]
        seen: set[str] = set(exclude)
        if scan:
            for info in self.candidates(scan):
                if info.key in seen:
                    continue
                seen.add(info.key)
                got = self._keys_of(info, self.interest)
                for k in units:
                    out.update(got.get(k, ()))
        with self._lock:
            own = {o for k in units for o in self._own.get(k, ())} - seen
            objects = self._objects() if own else {}
        for key in sorted(own):
            mine = objects.get(key)
            if mine is not None:
                got = self._keys_of(mine, None)
                for k in units:
                    out.update(got.get(k, ()))
        return out

    def note_written(self, key: str, units: Iterable[str]) -> None:
        """Record an object this apply wrote (with the units it holds).

        Args:
            key: The object key.
            units: Unit keys of its rows.
        """
        info = next((o for o in self.store.list_objects(key) if o.key == key), None)
        with self._lock:
            for u in units:
                self._own[u].add(key)
            if info is not None and self._listing is not None:
                self._listing[key] = info  # (not listed yet: the listing, when made, will include it)

    def rows(self, units: Mapping[str, ExpectedUnit]) -> pa.Table:
        """Every row of some units, whatever its object, each natural key once (newest object wins).

        Args:
            units: The units, by key.

        Returns:
            The rows (drifted column types unified as the readers do).
        """
        tables = []
        with self._lock:
            own = {o for k in units for o in self._own.get(k, ())}
        objects = {o.key: o for o in self.candidates(units.values())}
        with self._lock:
            listing = self._objects()
        for key in own:
            if key in listing:
                objects[key] = listing[key]
        wanted = pa.array(sorted(units), pa.string())
        for info in sorted(objects.values(), key=lambda o: (o.mtime, o.key), reverse=True):
            t = read_permissive(self.store, info.key)
            if t is None or t.num_rows == 0 or any(c not in t.column_names for c in self.unit_columns):
                continue
            mask = pc.is_in(pa.array(unit_strings(t, self.unit_columns), pa.string()), value_set=wanted)
            t = t.filter(mask)
            if t.num_rows:
                tables.append(t)
        if not tables:
            return pa.table({})
        combined = unify_tables(tables)
        keys = key_tuples(combined, self.parts)
        if keys is None:
            return combined
        seen: set[tuple[Any, ...]] = set()
        keep = []
        for k in keys:  # newest object first: its row wins
            keep.append(k not in seen)
            seen.add(k)
        return combined.filter(pa.array(keep, pa.bool_()))

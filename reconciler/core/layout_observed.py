"""What layout observation hands the layout planner: plain, read-only values (no I/O handles).

One :class:`TableObs` per table the specs name, in bronze and silver: its declaration (layout,
key, declared column types as text), the Parquet objects under its prefix (partition path and
footer schema, never the data), the catalog's definition and registered partitions, and the
duplicate natural keys found between objects. The rules that say whether an object sits in the
declared layout, or has drifted from the declared schema, live here too, so that observation
(which reads only the objects that matter) and planning apply exactly the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from reconciler.lake.layout import layout_keys

__all__ = [
    "CatalogObs",
    "FileObs",
    "LayoutObservation",
    "Overlap",
    "RegisteredPartition",
    "TableDecl",
    "TableObs",
    "drifted_columns",
    "in_declared_layout",
    "partition_path",
]

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class TableDecl:
    """A table as the specs declare it.

    Attributes:
        layer: ``silver`` or ``bronze``.
        database: Catalog database (``cbbd_silver``).
        table: Table name (bronze: the endpoint name).
        layout: The declared partition layout, e.g. ``season={season}/date={date}``.
        key: The natural key.
        columns: Declared column types as ``(name, Arrow type text)``; empty when undeclared.
        dedupe: Whether the key must be unique across the table (silver facts; bronze keeps
            every API response, so repeats across ``asof`` days are history, not duplicates).
    """

    layer: str
    database: str
    table: str
    layout: str
    key: tuple[str, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()
    dedupe: bool = False

    @property
    def prefix(self) -> str:
        """The table's storage prefix (``silver/fct_plays/``)."""
        return f"{self.layer}/{self.table}/"

    @property
    def partition_keys(self) -> tuple[str, ...]:
        """The declared partition key names, in order."""
        return layout_keys(self.layout)

    @property
    def qualified(self) -> str:
        """``database.table``."""
        return f"{self.database}.{self.table}"


@dataclass(frozen=True, slots=True)
class FileObs:
    """One Parquet object under a table prefix.

    Attributes:
        key: The object key.
        size: Bytes.
        mtime: Last modified, epoch seconds.
        partition: The ``key=value`` directories under the table prefix, in path order.
        rows: Rows, from the footer.
        columns: The footer's schema as ``(name, Arrow type text)``.
        unreadable: Why the footer could not be read, if it could not.
        superseded_by: The action whose replacement copy superseded this object (pending delete).
        replacements: The replacement objects that action wrote.
    """

    key: str
    size: int
    mtime: float
    partition: tuple[tuple[str, str], ...] = ()
    rows: int = 0
    columns: tuple[tuple[str, str], ...] = ()
    unreadable: str = ""
    superseded_by: str = ""
    replacements: tuple[str, ...] = ()

    @property
    def partition_dir(self) -> str:
        """The partition path, e.g. ``season=2025/asof=2026-02-21`` (empty at the table root)."""
        return partition_path(self.partition)


@dataclass(frozen=True, slots=True)
class RegisteredPartition:
    """A partition the catalog has registered.

    Attributes:
        values: Its values, in the catalog table's key order.
        location: Its storage prefix, relative to the lake root, ending with ``/``.
    """

    values: tuple[str, ...]
    location: str


@dataclass(frozen=True, slots=True)
class CatalogObs:
    """The catalog's view of a table.

    Attributes:
        partition_keys: Partition keys as ``(name, type)``.
        location: The table's storage prefix.
        partitions: Registered partitions (those of the selected seasons).
    """

    partition_keys: tuple[tuple[str, str], ...]
    location: str
    partitions: tuple[RegisteredPartition, ...] = ()


@dataclass(frozen=True, slots=True)
class Overlap:
    """Two objects holding rows with the same natural key.

    Attributes:
        a: One object key.
        b: The other (``a < b``).
        keys: How many natural keys both hold.
    """

    a: str
    b: str
    keys: int


@dataclass(frozen=True, slots=True)
class TableObs:
    """Everything observed about one table's layout.

    Attributes:
        decl: The declaration.
        files: Parquet objects of the selected seasons (and those with no season in their path).
        catalog: The catalog's definition, or None when the catalog has no such table.
        overlaps: Duplicate keys between live objects in the declared layout and schema.
        internal: Surplus rows of objects that repeat a key within themselves, by object key.
        notes: What observation could not check, for people.
    """

    decl: TableDecl
    files: tuple[FileObs, ...] = ()
    catalog: CatalogObs | None = None
    overlaps: tuple[Overlap, ...] = ()
    internal: Mapping[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LayoutObservation:
    """The whole layout observation.

    Attributes:
        tables: One entry per table the specs name.
        registration: The profile's ``catalog.partition_registration``.
        msck_available: Whether ``MSCK REPAIR TABLE`` can run (Athena over Glue).
        catalog_kind: ``local`` or ``glue``.
    """

    tables: tuple[TableObs, ...]
    registration: Literal["batch", "msck"] = "batch"
    msck_available: bool = False
    catalog_kind: str = "local"


def partition_path(partition: tuple[tuple[str, str], ...] | Mapping[str, str]) -> str:
    """A partition path from its ``(key, value)`` pairs.

    Args:
        partition: Pairs in order, or a mapping.

    Returns:
        e.g. ``season=2025/date=2024-12-01``.
    """
    items = partition.items() if isinstance(partition, Mapping) else partition
    return "/".join(f"{k}={v}" for k, v in items)


def _valid(key: str, value: str) -> bool:
    if key == "season":
        return value.isdigit() and len(value) == 4
    if key in ("date", "asof"):
        return _DAY.fullmatch(value) is not None
    return bool(value)


def in_declared_layout(decl: TableDecl, f: FileObs) -> bool:
    """Whether an object sits in the declared layout, with well-formed partition values.

    ``season=unknown`` (a fan-out write without game metadata) is not well formed.

    Args:
        decl: The table's declaration.
        f: The object.

    Returns:
        True when its partition keys are exactly the declared ones, in order.
    """
    if tuple(k for k, _ in f.partition) != decl.partition_keys:
        return False
    return all(_valid(k, v) for k, v in f.partition)


def drifted_columns(decl: TableDecl, f: FileObs) -> list[str]:
    """The columns of an object whose type disagrees with the declared schema.

    Columns the declaration does not name, and declared columns the object lacks, are not
    drift (real files lack ``shot_*`` columns when a game had no shot).

    Args:
        decl: The table's declaration.
        f: The object (its footer schema).

    Returns:
        e.g. ``["excitement int64 (declared double)"]``.
    """
    declared = dict(decl.columns)
    out = []
    for name, typ in f.columns:
        want = declared.get(name)
        if want is not None and want != typ:
            out.append(f"{name} {typ} (declared {want})")
    return out

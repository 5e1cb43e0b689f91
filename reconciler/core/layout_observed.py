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
from functools import lru_cache
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
    "athena_reads",
    "athena_type_of",
    "breaking_drift",
    "in_declared_layout",
    "misplaced",
    "partition_path",
    "row_seasons",
    "table_types",
    "tolerated_drift",
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
        key_columns: The physical columns the key is read from (``subIn`` for a key part stored
            in nested text); default: the key itself.
        unit_columns: The columns naming a unit.
        check_columns: The columns the target's completeness rule reads (``period`` of
            ``max(period) >= 2``): every coverage query reads them too.
    """

    layer: str
    database: str
    table: str
    layout: str
    key: tuple[str, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()
    dedupe: bool = False
    key_columns: tuple[str, ...] = ()
    unit_columns: tuple[str, ...] = ()
    check_columns: tuple[str, ...] = ()

    @property
    def read_columns(self) -> frozenset[str]:
        """The columns every coverage, key and dedupe query reads: the key's, the unit's, the completeness rule's."""
        return frozenset((*(self.key_columns or self.key), *self.unit_columns, *self.check_columns))

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
        ranges: ``(column, min, max)`` of the columns saying where its rows belong (``season``,
            the game's date), from the footer's statistics.
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
    ranges: tuple[tuple[str, str, str], ...] = ()

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
        columns: Data columns as ``(name, Athena type)``.
    """

    partition_keys: tuple[tuple[str, str], ...]
    location: str
    partitions: tuple[RegisteredPartition, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()


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
    return _path_of(tuple(partition.items()) if isinstance(partition, Mapping) else tuple(partition))


@lru_cache(maxsize=1 << 16)
def _path_of(partition: tuple[tuple[str, str], ...]) -> str:
    """:func:`partition_path` of pairs (a folder's many objects share them)."""
    return "/".join(f"{k}={v}" for k, v in partition)


def _valid(key: str, value: str) -> bool:
    if key == "season":
        return value.isdigit() and len(value) == 4
    if key in ("date", "asof"):
        return _DAY.fullmatch(value) is not None
    return bool(value)


def row_seasons(f: FileObs) -> tuple[int, int] | None:
    """The seasons of an object's rows, from its ``season`` column's statistics, if known.

    Args:
        f: The object.

    Returns:
        ``(min, max)``, or None when the object has no such statistics.
    """
    for col, lo, hi in f.ranges:
        if col == "season" and lo.lstrip("-").isdigit() and hi.lstrip("-").isdigit():
            return int(lo), int(hi)
    return None


def misplaced(decl: TableDecl, f: FileObs) -> str:
    """Why an object's rows do not all belong to the partition it sits in ("" when they do, or unknown).

    ``plays_date`` files the calendar year of its date (a December game of season 2025 lands under
    ``season=2024``), and ``/plays/date`` returns the games starting at the next midnight too.
    Silver only: a bronze object is one API response, filed by its call (a date query under its
    query date), not by its rows.

    Args:
        decl: The table's declaration.
        f: The object (its footer statistics).

    Returns:
        e.g. ``rows of season 2025 under season=2024``.
    """
    if decl.layer != "silver":
        return ""
    where = dict(f.partition)
    seasons = row_seasons(f)
    folder = where.get("season", "")
    if "season" in decl.partition_keys and seasons is not None and folder.isdigit() and seasons != (int(folder),) * 2:
        first, last = seasons
        span = str(first) if first == last else f"{first}-{last}"
        return f"rows of season {span} under season={folder}"
    if "date" in decl.partition_keys and "date" in where:
        for col, lo, hi in f.ranges:
            if col in ("date", "gameStartDate", "startDate") and (lo[:10], hi[:10]) != (where["date"],) * 2:
                span = lo[:10] if lo[:10] == hi[:10] else f"{lo[:10]}..{hi[:10]}"
                return f"rows of {span} under date={where['date']}"
    return ""


def in_declared_layout(decl: TableDecl, f: FileObs) -> bool:
    """Whether an object sits in the declared layout, with well-formed partition values that its rows match.

    ``season=unknown`` (a fan-out write without game metadata) is not well formed; an object whose
    rows belong to another partition (:func:`misplaced`) is not in the declared layout either.

    Args:
        decl: The table's declaration.
        f: The object.

    Returns:
        True when its partition keys are exactly the declared ones, in order, and fit its rows.
    """
    # The answer depends only on the partition and the statistics, which a folder's objects
    # share: computed once per distinct pair.
    return _placed(decl.layer, decl.partition_keys, tuple(f.partition), tuple(f.ranges))


@lru_cache(maxsize=1 << 16)
def _placed(
    layer: str,
    keys: tuple[str, ...],
    partition: tuple[tuple[str, str], ...],
    ranges: tuple[tuple[str, str, str], ...],
) -> bool:
    """:func:`in_declared_layout` of an object with this partition and these statistics."""
    if tuple(k for k, _ in partition) != keys:
        return False
    decl = TableDecl(layer=layer, database="", table="", layout="/".join(f"{k}=" for k in keys))
    f = FileObs("", 0, 0.0, partition=partition, ranges=ranges)
    return all(_valid(k, v) for k, v in partition) and not misplaced(decl, f)


#: Arrow type text → the Athena type cbbd_etl's catalog gives it (``glue_catalog.py``).
_ATHENA_OF = {
    "int8": "tinyint",
    "int16": "smallint",
    "int32": "int",
    "int64": "bigint",
    "float": "float",
    "double": "double",
    "bool": "boolean",
    "string": "string",
    "large_string": "string",
}
#: What Athena reads as another type ("Change a column data type", Athena User Guide): a column
#: stored as the first type can be read through a table that declares one of the second.
_ATHENA_READS_AS = {
    "string": {"tinyint", "smallint", "int", "bigint"},
    "tinyint": {"smallint", "int", "bigint"},
    "smallint": {"int", "bigint"},
    "int": {"bigint"},
    "float": {"double"},
}


def athena_type_of(arrow_type: str) -> str:
    """The Athena type of a Parquet column, as the pipeline's catalog names it.

    Args:
        arrow_type: Arrow type text (``int64``).

    Returns:
        ``bigint``, ``int``, ``double``, ``boolean``, ``string``, ... (unknown types: ``string``).
    """
    return _ATHENA_OF.get(arrow_type, "string")


def athena_reads(file_type: str, table_type: str) -> bool:
    """Whether Athena reads a column stored as ``file_type`` through a table declaring ``table_type``.

    Args:
        file_type: The file's Arrow type text (``int64``).
        table_type: The table's Athena type (``bigint``), or an Arrow type text.

    Returns:
        True when the types agree or the file's type is one Athena reads as the table's.
    """
    have = athena_type_of(file_type)
    want = _ATHENA_OF.get(table_type, table_type).lower()
    return have == want or want in _ATHENA_READS_AS.get(have, set())


def table_types(decl: TableDecl, catalog: CatalogObs | None) -> dict[str, str]:
    """The type each column is read as: the catalog's (Athena reads through it), else the declared one.

    Args:
        decl: The table's declaration.
        catalog: The catalog's view of it, if the catalog has the table.

    Returns:
        Lower-case column name → type (Athena type text, or Arrow type text when declared only).
    """
    if catalog is not None and catalog.columns:
        return {n.lower(): t.lower() for n, t in catalog.columns}
    return {n.lower(): t for n, t in decl.columns}


def breaking_drift(decl: TableDecl, f: FileObs, types: Mapping[str, str]) -> list[str]:
    """The columns of an object whose type breaks a reader: the only drift worth a rewrite.

    The pipeline's readers and DuckDB unify drifted types (numeric mixes → double, other mixes
    → string), and so does every read in this tool, so drift breaks only Athena, and only for
    queries that read the drifted column. Every coverage, key and dedupe query, Athena's and the
    pipeline's gap discovery alike, reads the unit and natural-key columns: an object whose
    unit or key column Athena cannot read as the table declares it breaks them all, and is
    rewritten. Drift of any other column is reported (:func:`tolerated_drift`), not rewritten.

    Args:
        decl: The table's declaration.
        f: The object (its footer schema).
        types: Column → the type it is read as (:func:`table_types`).

    Returns:
        e.g. ``["gameId string: Athena cannot read it as the table's bigint"]``.
    """
    out = []
    for name, typ in f.columns:
        if name not in decl.read_columns:
            continue
        want = types.get(name.lower())
        if want is not None and not athena_reads(typ, want):
            out.append(f"{name} {typ}: Athena cannot read it as the table's {want}")
    return out


def tolerated_drift(decl: TableDecl, f: FileObs, types: Mapping[str, str]) -> list[str]:
    """Columns whose type differs from the table's but breaks no coverage or key query.

    Columns the table does not name, and named columns the object lacks, are not drift (real
    files lack ``shot_*`` columns when a game had no shot).

    Args:
        decl: The table's declaration.
        f: The object (its footer schema).
        types: Column → the type it is read as.

    Returns:
        e.g. ``["teamSeed string (table: double)"]``.
    """
    out = []
    for name, typ in f.columns:
        want = types.get(name.lower())
        if name in decl.read_columns or want is None:
            continue
        if athena_type_of(typ) != _ATHENA_OF.get(want, want):
            out.append(f"{name} {typ} (table: {want})")
    return out

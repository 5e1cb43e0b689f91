"""The four ports of the reconciler, each with an embedded and an AWS adapter.

* :class:`ObjectStore`: local directory | S3
* :class:`QueryEngine`: DuckDB | Athena (SQL is written once, in Athena dialect)
* :class:`Catalog`: local (SQLite) | Glue
* :class:`StateStore`: SQLite | DynamoDB (per-unit checkpoints, metadata, lease locks)

The planner never sees these; observation reads through them and hands the planner plain data.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import pyarrow as pa
import pyarrow.fs as pafs

from reconciler.core.empties import EmptyDigest
from reconciler.errors import ReconcilerError

__all__ = [
    "Backends",
    "CachedFooter",
    "Catalog",
    "CatalogTable",
    "LockInfo",
    "ObjectInfo",
    "ObjectStore",
    "ObservationCache",
    "PartitionSpec",
    "QueryEngine",
    "QueryResult",
    "StateStore",
    "UnitRecord",
]


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One object in the store.

    Attributes:
        key: The key relative to the lake root (``silver/fct_plays/...``).
        size: Size in bytes.
        mtime: Last-modified time, epoch seconds.
        etag: The store's content tag, when it has one (S3), else "".
    """

    key: str
    size: int
    mtime: float
    etag: str = ""


class ObjectStore(Protocol):
    """A flat key → bytes store rooted at the lake."""

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix`` (recursive), in key order."""
        ...

    def list_prefixes(self, prefix: str) -> list[str]:
        """The immediate "directories" under ``prefix`` (which should end with ``/``)."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes of one object; raises LakeError if absent."""
        ...

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        """Write an object atomically. With ``if_absent``, return False instead of overwriting."""
        ...

    def exists(self, key: str) -> bool:
        """Whether the object exists."""
        ...

    def delete(self, keys: Sequence[str]) -> int:
        """Delete objects; returns how many. Only the executor calls this, after --allow-delete."""
        ...

    def arrow(self) -> tuple[pafs.FileSystem, str]:
        """A pyarrow filesystem and the root path under which keys live (for Parquet I/O)."""
        ...

    def read_error(self, exc: BaseException, uri: str) -> ReconcilerError | None:
        """The error a failed read of a store object is, when the store failed it (None: the bytes are bad)."""
        ...

    def uri(self, key: str) -> str:
        """A human-readable location of a key (a path or ``s3://bucket/key``)."""
        ...


@dataclass(frozen=True, slots=True)
class QueryResult:
    """The rows of a query and what it cost.

    Attributes:
        table: The result rows.
        bytes_scanned: Bytes the engine reports scanning (Athena bills by them), or 0.
        engine: ``duckdb`` or ``athena``.
    """

    table: pa.Table
    bytes_scanned: int = 0
    engine: str = "duckdb"


class QueryEngine(Protocol):
    """Runs Athena-dialect SQL over the lake's tables (``cbbd_silver.fct_games`` etc.)."""

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        """Run one query; ``:name`` placeholders are bound from ``params`` as literals."""
        ...

    def close(self) -> None:
        """Release resources."""
        ...


@dataclass(frozen=True, slots=True)
class PartitionSpec:
    """A catalog partition: its values in key order and its storage location.

    Attributes:
        values: Partition values, ordered as the table's partition keys.
        location: Storage prefix (key relative to the lake root, ending with ``/``).
    """

    values: tuple[str, ...]
    location: str


@dataclass(frozen=True, slots=True)
class CatalogTable:
    """A catalog table definition.

    Attributes:
        database: Database name (``cbbd_silver``).
        name: Table name.
        location: Storage prefix relative to the lake root (``silver/fct_plays/``).
        columns: Data columns as (name, Athena type).
        partition_keys: Partition keys as (name, Athena type).
    """

    database: str
    name: str
    location: str
    columns: tuple[tuple[str, str], ...] = ()
    partition_keys: tuple[tuple[str, str], ...] = ()


class Catalog(Protocol):
    """Table definitions and registered partitions (Glue, or the embedded equivalent)."""

    def get_table(self, database: str, name: str) -> CatalogTable | None:
        """The table, or None when it does not exist."""
        ...

    def put_table(self, table: CatalogTable) -> None:
        """Create or update a table definition."""
        ...

    def list_partitions(self, database: str, name: str) -> list[PartitionSpec]:
        """All registered partitions (paginated under the hood)."""
        ...

    def create_partitions(self, database: str, name: str, parts: Sequence[PartitionSpec]) -> int:
        """Register partitions; returns the number of backend calls made."""
        ...

    def delete_partitions(self, database: str, name: str, parts: Sequence[PartitionSpec]) -> int:
        """Remove partitions from the catalog (never data); returns the number of calls."""
        ...


UnitStatus = Literal["done", "empty", "failed"]


@dataclass(frozen=True, slots=True)
class UnitRecord:
    """The durable state of one unit of one target.

    Attributes:
        target: Spec name (``plays``).
        unit: The unit key text (``1234`` or ``1234:72``).
        status: ``done`` (rows written), ``empty`` (verified empty), ``failed``.
        rows: Rows written for the unit.
        attempts: Failed applies so far (for quarantine).
        error: Last error class and message (never the key).
        updated_at: Epoch seconds of the last change.
        season: The unit's season, for reporting.
        extra: Free-form details (request address, error class).
    """

    target: str
    unit: str
    status: UnitStatus
    rows: int = 0
    attempts: int = 0
    error: str = ""
    updated_at: float = 0.0
    season: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LockInfo:
    """A lease lock on a target.

    Attributes:
        lock_id: What is locked (``plays``, or ``lake``).
        owner: A unique id of the holder.
        host: The holder's host name.
        pid: The holder's process id.
        command: The command line (key-free).
        created_at: Epoch seconds.
        expires_at: Epoch seconds; the lease may be taken over after this.
    """

    lock_id: str
    owner: str
    host: str
    pid: int
    command: str
    created_at: float
    expires_at: float


class StateStore(Protocol):
    """Per-unit checkpoints, small metadata and lease locks."""

    def load_units(self, target: str) -> dict[str, UnitRecord]:
        """Every recorded unit of a target, by unit key."""
        ...

    def load_units_for(self, target: str, units: Iterable[str]) -> dict[str, UnitRecord]:
        """The recorded units of a target among some unit keys, by unit key."""
        ...

    def empty_digests(self, target: str, young_since: float) -> dict[int, EmptyDigest]:
        """A target's ``empty`` records aggregated per season (:func:`reconciler.core.empties.digest_empties`)."""
        ...

    def record_units(self, records: Iterable[UnitRecord]) -> None:
        """Durably record unit states (called only after the data is written)."""
        ...

    def get_meta(self, key: str) -> str | None:
        """A metadata value (e.g. the last X-CallLimit-Remaining)."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Store a metadata value."""
        ...

    def acquire_lock(self, lock: LockInfo, now: float) -> LockInfo | None:
        """Take a lock if free or expired; return the current holder if someone else holds it."""
        ...

    def renew_lock(self, lock_id: str, owner: str, expires_at: float) -> bool:
        """Extend our lease; False if we no longer hold it."""
        ...

    def release_lock(self, lock_id: str, owner: str | None) -> bool:
        """Release a lock (``owner=None`` forces it); True if something was released."""
        ...

    def list_locks(self) -> list[LockInfo]:
        """Every lock currently recorded."""
        ...

    def close(self) -> None:
        """Release resources."""
        ...


@dataclass(frozen=True, slots=True)
class CachedFooter:
    """What a Parquet footer said about one object.

    Attributes:
        rows: Row count.
        columns: ``(name, arrow type)`` pairs.
        unreadable: Why the footer could not be read ("" when it could).
        ranges: ``(column, min, max)`` from the column statistics of the partition-value columns.
    """

    rows: int
    columns: tuple[tuple[str, str], ...]
    unreadable: str = ""
    ranges: tuple[tuple[str, str, str], ...] = ()


class ObservationCache(Protocol):
    """What observation keeps between plans: query results and Parquet footers (best effort).

    Any failure reading or writing it is a miss, never an error; entries are keyed by the
    objects they were computed from, so a changed lake is never answered from a stale entry.
    """

    def result(self, digest: str) -> pa.Table | None:
        """A kept table, or None."""
        ...

    def put_result(self, digest: str, table: pa.Table) -> None:
        """Keep a table under a digest."""
        ...

    def footers(
        self, lake: str, objects: Sequence[tuple[str, int, float, str]], group: str = ""
    ) -> dict[str, CachedFooter]:
        """Kept footers of the objects ((key, size, mtime, etag)) unchanged since read."""
        ...

    def put_footers(self, lake: str, entries: Sequence[tuple[tuple[str, int, float, str], CachedFooter]]) -> None:
        """Keep footers just read."""
        ...

    def share_footers(
        self,
        lake: str,
        group: str,
        entries: Sequence[tuple[tuple[str, int, float, str], CachedFooter]],
        listed: Collection[str],
    ) -> None:
        """Replace a table's entry in the shared tier after footers had to be read (no tier: nothing)."""
        ...


class Backends(Protocol):
    """A profile's open ports, as a command uses them (one store, engine, catalog and state).

    ``cache`` is the observation cache (None when the profile turns it off); ``hidden`` an
    embedded engine over the objects a catalog-reading engine misses (None when the engine reads
    the files themselves).
    """

    @property
    def store(self) -> ObjectStore:
        """The object store."""
        ...

    @property
    def engine(self) -> QueryEngine:
        """The query engine."""
        ...

    @property
    def catalog(self) -> Catalog:
        """The table catalog."""
        ...

    @property
    def state(self) -> StateStore:
        """The state store."""
        ...

    @property
    def cache(self) -> ObservationCache | None:
        """The observation cache, or None."""
        ...

    @property
    def hidden(self) -> QueryEngine | None:
        """The embedded engine over objects the catalog misses, or None."""
        ...

    def preflight(self) -> None:
        """Check that every resource the profile names exists and is reachable."""
        ...

    def close(self) -> None:
        """Close every port."""
        ...

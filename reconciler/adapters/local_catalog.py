"""The embedded catalog: table definitions and registered partitions in SQLite.

It lives in its own file, ``catalog.sqlite``, beside the state database (the factory's choice):
the catalog describes the lake, the state describes runs, and either can be rebuilt or deleted
without touching the other. It mirrors Glue's behaviour, including its batch sizes, so that
plans and their call counts do not depend on the backend.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from reconciler.adapters._batching import GLUE_CREATE_BATCH, GLUE_DELETE_BATCH, chunked
from reconciler.adapters._sqlite import Migration, SqliteDb
from reconciler.errors import BackendError
from reconciler.ports import CatalogTable, PartitionSpec

__all__ = ["LocalCatalog", "check_partition_values", "partition_name"]

log = logging.getLogger(__name__)

_MIGRATIONS: list[Migration] = [
    # 1: the initial schema.
    """
    CREATE TABLE tables (
        database       TEXT NOT NULL,
        name           TEXT NOT NULL,
        location       TEXT NOT NULL,
        columns        TEXT NOT NULL,
        partition_keys TEXT NOT NULL,
        PRIMARY KEY (database, name)
    ) WITHOUT ROWID;
    CREATE TABLE partitions (
        database TEXT NOT NULL,
        name     TEXT NOT NULL,
        vals     TEXT NOT NULL,
        location TEXT NOT NULL,
        PRIMARY KEY (database, name, vals)
    ) WITHOUT ROWID
    """,
]


def _dir(location: str) -> str:
    return location if not location or location.endswith("/") else location + "/"


def partition_name(table: CatalogTable, values: Sequence[str]) -> str:
    """A partition's Hive name (``season=2025/date=2024-12-01``), for messages.

    Args:
        table: The table (for its key names).
        values: The partition values.

    Returns:
        The name.
    """
    keys = [k for k, _ in table.partition_keys]
    return "/".join(f"{k}={v}" for k, v in zip(keys, values, strict=False))


def check_partition_values(table: CatalogTable, parts: Sequence[PartitionSpec]) -> None:
    """Refuse partitions whose value count differs from the table's partition keys.

    Args:
        table: The table.
        parts: The partitions.

    Raises:
        BackendError: Naming the first bad partition.
    """
    want = len(table.partition_keys)
    for p in parts:
        if len(p.values) != want:
            raise BackendError(
                f"{table.database}.{table.name}: partition {'/'.join(p.values)} has {len(p.values)} "
                f"value(s) but the table has {want} partition key(s)"
            )


class LocalCatalog:
    """:class:`~reconciler.ports.Catalog` on a SQLite file."""

    def __init__(self, path: str | Path) -> None:
        """Open (creating and migrating if needed) the catalog database.

        Args:
            path: The database file (conventionally ``catalog.sqlite`` beside the state file).

        Raises:
            BackendError: If the file cannot be opened or has a newer schema.
        """
        self._db = SqliteDb(path, "catalog", _MIGRATIONS)
        self.path = self._db.path

    def get_table(self, database: str, name: str) -> CatalogTable | None:
        """The table, or None when it does not exist.

        Args:
            database: Database name.
            name: Table name.

        Returns:
            The definition.
        """
        with self._db.errors(f"reading table {database}.{name}"), self._db.reading() as conn:
            row = conn.execute(
                "SELECT location, columns, partition_keys FROM tables WHERE database = ? AND name = ?",
                (database, name),
            ).fetchone()
        if row is None:
            return None
        return CatalogTable(
            database=database,
            name=name,
            location=row[0],
            columns=tuple((c, t) for c, t in json.loads(row[1])),
            partition_keys=tuple((c, t) for c, t in json.loads(row[2])),
        )

    def put_table(self, table: CatalogTable) -> None:
        """Create or replace a table definition (its partitions are kept, as in Glue).

        Args:
            table: The definition.
        """
        with self._db.errors(f"writing table {table.database}.{table.name}"), self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO tables (database, name, location, columns, partition_keys) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (database, name) DO UPDATE SET location = excluded.location, "
                "columns = excluded.columns, partition_keys = excluded.partition_keys",
                (
                    table.database,
                    table.name,
                    _dir(table.location),
                    json.dumps([list(c) for c in table.columns]),
                    json.dumps([list(k) for k in table.partition_keys]),
                ),
            )

    def _require(self, database: str, name: str) -> CatalogTable:
        table = self.get_table(database, name)
        if table is None:
            raise BackendError(f"table {database}.{name} not found in the local catalog {self.path}")
        return table

    def list_partitions(self, database: str, name: str) -> list[PartitionSpec]:
        """All registered partitions, sorted by values.

        Args:
            database: Database name.
            name: Table name.

        Returns:
            The partitions.

        Raises:
            BackendError: If the table does not exist.
        """
        self._require(database, name)
        with self._db.errors(f"listing partitions of {database}.{name}"), self._db.reading() as conn:
            rows = conn.execute(
                "SELECT vals, location FROM partitions WHERE database = ? AND name = ?", (database, name)
            ).fetchall()
        parts = [PartitionSpec(values=tuple(json.loads(v)), location=loc) for v, loc in rows]
        return sorted(parts, key=lambda p: p.values)

    def create_partitions(self, database: str, name: str, parts: Sequence[PartitionSpec]) -> int:
        """Register partitions, 100 per transaction (Glue's batch size); existing ones are kept.

        Args:
            database: Database name.
            name: Table name.
            parts: The partitions.

        Returns:
            The number of batches (what BatchCreatePartition would take).

        Raises:
            BackendError: If the table does not exist or a partition has the wrong arity.
        """
        table = self._require(database, name)
        check_partition_values(table, parts)
        calls = 0
        for chunk in chunked(list(parts), GLUE_CREATE_BATCH):
            with (
                self._db.errors(f"registering partitions of {database}.{name}"),
                self._db.transaction() as conn,
            ):
                conn.executemany(
                    "INSERT INTO partitions (database, name, vals, location) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    [(database, name, json.dumps(list(p.values)), _dir(p.location)) for p in chunk],
                )
            calls += 1
        return calls

    def delete_partitions(self, database: str, name: str, parts: Sequence[PartitionSpec]) -> int:
        """Unregister partitions (never data), 25 per transaction (Glue's batch size).

        Args:
            database: Database name.
            name: Table name.
            parts: The partitions; absent ones are ignored.

        Returns:
            The number of batches (what BatchDeletePartition would take).

        Raises:
            BackendError: If the table does not exist.
        """
        self._require(database, name)
        calls = 0
        for chunk in chunked(list(parts), GLUE_DELETE_BATCH):
            with self._db.errors(f"removing partitions of {database}.{name}"), self._db.transaction() as conn:
                conn.executemany(
                    "DELETE FROM partitions WHERE database = ? AND name = ? AND vals = ?",
                    [(database, name, json.dumps(list(p.values))) for p in chunk],
                )
            calls += 1
        return calls

    def close(self) -> None:
        """Close the database."""
        self._db.close()

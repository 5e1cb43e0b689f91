"""SQLite plumbing shared by the embedded state store and catalog.

One connection per process (per adapter instance), WAL journal, step-by-step schema migrations
recorded in a ``schema_version`` table, write transactions taken with ``BEGIN IMMEDIATE`` so
that racing processes serialise instead of failing on lock upgrade.

Durability: ``journal_mode=WAL`` with ``synchronous=FULL``, so every commit is fsynced to the WAL
before it returns. ``NORMAL`` would be safe against a crash of this process but could lose the
last commits on power loss or an OS crash; a checkpoint is the record that data was written, and
``FULL`` costs one fsync per transaction, which batching (one per ``record_units`` call) makes
cheap.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from reconciler.errors import BackendError

__all__ = ["Migration", "SqliteDb"]

log = logging.getLogger(__name__)

#: A migration step: SQL (a script) or a function given the connection inside the transaction.
Migration = str | Callable[[sqlite3.Connection], None]


class SqliteDb:
    """A SQLite database file with migrations, a process-wide lock and error translation.

    Attributes:
        path: The database file.
        component: The name under which this schema's version is recorded.
    """

    def __init__(
        self,
        path: str | Path,
        component: str,
        migrations: Sequence[Migration],
        *,
        busy_timeout: float = 30.0,
    ) -> None:
        """Open (creating if needed) and migrate the database.

        Args:
            path: The database file; its directory is created if missing.
            component: Schema name in ``schema_version`` (``state``, ``catalog``).
            migrations: Steps; step ``i`` (0-based) brings the schema to version ``i + 1``.
            busy_timeout: Seconds to wait for another process's write lock.

        Raises:
            BackendError: If the file cannot be opened, or is newer than this code.
        """
        self.path = Path(path)
        self.component = component
        self._lock = threading.RLock()
        with self.errors("open"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.migrate(migrations)

    @contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        """Translate sqlite3 errors into one-line :class:`BackendError` messages.

        Args:
            doing: What was being done, for the message.

        Yields:
            Nothing.

        Raises:
            BackendError: On any sqlite3 or OS error.
        """
        try:
            yield
        except sqlite3.OperationalError as exc:
            hint = ""
            if "locked" in str(exc) or "busy" in str(exc):
                hint = ": another process holds the database; retry when it finishes"
            raise BackendError(f"{self.path}: {doing} failed: {exc}{hint}") from exc
        except (sqlite3.Error, OSError) as exc:
            raise BackendError(f"{self.path}: {doing} failed: {exc}") from exc

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on error).

        Yields:
            The connection.
        """
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads, under the process lock.

        Yields:
            The connection.
        """
        with self._lock:
            yield self.conn

    def version(self) -> int:
        """The recorded schema version of this component (0 for a new file).

        Returns:
            The version.
        """
        with self.reading() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
            )
            row = conn.execute("SELECT version FROM schema_version WHERE component = ?", (self.component,)).fetchone()
        return int(row[0]) if row else 0

    def migrate(self, migrations: Sequence[Migration]) -> None:
        """Apply the missing steps one by one, each in its own transaction.

        Args:
            migrations: All steps, oldest first.

        Raises:
            BackendError: If the file's schema is newer than the steps known here.
        """
        current = self.version()
        if current > len(migrations):
            raise BackendError(
                f"{self.path}: {self.component} schema version {current} is newer than this "
                f"reconciler ({len(migrations)}); upgrade cbbd-reconciler"
            )
        for version in range(current + 1, len(migrations) + 1):
            with self.transaction() as conn:
                # Re-check inside the write lock: another process may have migrated meanwhile.
                row = conn.execute(
                    "SELECT version FROM schema_version WHERE component = ?", (self.component,)
                ).fetchone()
                if row and int(row[0]) >= version:
                    continue
                step = migrations[version - 1]
                if isinstance(step, str):
                    for statement in step.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                else:
                    step(conn)
                conn.execute(
                    "INSERT INTO schema_version(component, version) VALUES (?, ?) "
                    "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                    (self.component, version),
                )
            log.debug("%s: %s schema migrated to version %d", self.path, self.component, version)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self.conn.close()

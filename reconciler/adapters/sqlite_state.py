"""The embedded state store: per-unit checkpoints, metadata and lease locks in SQLite.

One file (``state.path``, e.g. ``.reconcile/state.sqlite``), WAL, ``synchronous=FULL`` (see
:mod:`reconciler.adapters._sqlite`). Lock acquisition is a single conditional upsert inside a
``BEGIN IMMEDIATE`` transaction, so of two processes racing for a free lock exactly one wins.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from reconciler.adapters._sqlite import Migration, SqliteDb
from reconciler.config import StateSettings
from reconciler.core.empties import EmptyDigest, SetDigest, key_hash
from reconciler.errors import BackendError
from reconciler.ports import LockInfo, UnitRecord

__all__ = ["SqliteState"]

log = logging.getLogger(__name__)

_MIGRATIONS: list[Migration] = [
    # 1: the initial schema.
    """
    CREATE TABLE units (
        target     TEXT NOT NULL,
        unit       TEXT NOT NULL,
        status     TEXT NOT NULL CHECK (status IN ('done', 'empty', 'failed')),
        rows       INTEGER NOT NULL DEFAULT 0,
        attempts   INTEGER NOT NULL DEFAULT 0,
        error      TEXT NOT NULL DEFAULT '',
        updated_at REAL NOT NULL DEFAULT 0,
        season     INTEGER,
        extra      TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (target, unit)
    ) WITHOUT ROWID;
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE locks (
        lock_id    TEXT PRIMARY KEY,
        owner      TEXT NOT NULL,
        host       TEXT NOT NULL,
        pid        INTEGER NOT NULL,
        command    TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL
    ) WITHOUT ROWID
    """,
    # 2: each unit's key digest (reconciler.core.empties.key_hash), so that a target's empty
    # records are aggregated per season in SQL, not hashed in Python on every plan.
    lambda conn: _add_key_hashes(conn),
]


def _add_key_hashes(conn: sqlite3.Connection) -> None:
    """Migration 2: the ``h1``/``h2`` columns, filled for the units already recorded."""
    conn.execute("ALTER TABLE units ADD COLUMN h1 INTEGER")
    conn.execute("ALTER TABLE units ADD COLUMN h2 INTEGER")
    rows = conn.execute("SELECT target, unit FROM units").fetchall()
    conn.executemany(
        "UPDATE units SET h1 = ?, h2 = ? WHERE target = ? AND unit = ?",
        [(*key_hash(str(u)), t, u) for t, u in rows],
    )


_LOCK_COLUMNS = "lock_id, owner, host, pid, command, created_at, expires_at"


def _lock(row: sqlite3.Row | tuple[Any, ...]) -> LockInfo:
    return LockInfo(
        lock_id=row[0],
        owner=row[1],
        host=row[2],
        pid=int(row[3]),
        command=row[4],
        created_at=float(row[5]),
        expires_at=float(row[6]),
    )


def _record(target: str, r: Sequence[Any]) -> UnitRecord:
    """A ``units`` row (unit, status, rows, attempts, error, updated_at, season, extra) as a record."""
    return UnitRecord(
        target=target,
        unit=r[0],
        status=r[1],
        rows=int(r[2]),
        attempts=int(r[3]),
        error=r[4],
        updated_at=float(r[5]),
        season=None if r[6] is None else int(r[6]),
        extra=json.loads(r[7]),
    )


class SqliteState:
    """:class:`~reconciler.ports.StateStore` on a SQLite file."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0) -> None:
        """Open (creating and migrating if needed) the state database.

        Args:
            path: The database file; its directory is created if missing.
            busy_timeout: Seconds to wait for another process's write transaction.

        Raises:
            BackendError: If the file cannot be opened or has a newer schema.
        """
        self._db = SqliteDb(path, "state", _MIGRATIONS, busy_timeout=busy_timeout)
        self.path = self._db.path

    @classmethod
    def from_settings(cls, settings: StateSettings) -> SqliteState:
        """Build from the profile's ``state`` section.

        Args:
            settings: State settings of kind ``sqlite``.

        Returns:
            The store.
        """
        if not settings.path:
            raise BackendError("state.path is required for sqlite state")
        return cls(settings.path)

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        return self._db.version()

    def load_units(self, target: str) -> dict[str, UnitRecord]:
        """Every recorded unit of a target.

        Args:
            target: The spec name.

        Returns:
            Unit key → record.
        """
        with self._db.errors(f"loading units of {target}"), self._db.reading() as conn:
            rows = conn.execute(
                "SELECT unit, status, rows, attempts, error, updated_at, season, extra FROM units WHERE target = ?",
                (target,),
            ).fetchall()
        return {r[0]: _record(target, r) for r in rows}

    def load_units_for(self, target: str, units: Iterable[str]) -> dict[str, UnitRecord]:
        """The recorded units among some keys (``IN`` lists of at most 500 keys).

        Args:
            target: The spec name.
            units: Unit keys.

        Returns:
            Unit key → record, for the keys that have one.
        """
        keys = sorted(set(units))
        rows: list[Any] = []
        with self._db.errors(f"loading units of {target}"), self._db.reading() as conn:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                rows.extend(
                    conn.execute(
                        "SELECT unit, status, rows, attempts, error, updated_at, season, extra FROM units "
                        f"WHERE target = ? AND unit IN ({marks})",
                        (target, *chunk),
                    ).fetchall()
                )
        return {r[0]: _record(target, r) for r in rows}

    def empty_digests(self, target: str, young_since: float) -> dict[int, EmptyDigest]:
        """A target's ``empty`` records aggregated per season (one range scan of the target's rows).

        Args:
            target: The spec name.
            young_since: Records checked after this instant are fresh by age.

        Returns:
            Season → digest (:func:`reconciler.core.empties.digest_empties`).
        """
        with self._db.errors(f"reading the empty units of {target}"), self._db.reading() as conn:
            rows = conn.execute(
                "SELECT season, count(*), count(h1) + count(h2), sum(h1), sum(h2), "
                "min(CASE WHEN updated_at <= ? THEN updated_at END) "
                "FROM units WHERE target = ? AND status = 'empty' AND season IS NOT NULL GROUP BY season",
                (young_since, target),
            ).fetchall()
        # A record without its digest (written by a process that opened the file before schema 2)
        # leaves its season out: the season's units are then listed, never wrongly counted.
        return {
            int(season): EmptyDigest(SetDigest(int(n), int(h1), int(h2)), None if old is None else float(old))
            for season, n, hashed, h1, h2, old in rows
            if hashed == 2 * n
        }

    def record_units(self, records: Iterable[UnitRecord]) -> None:
        """Durably record unit states, all in one transaction (one fsync).

        Args:
            records: The states; a later record of the same unit wins.
        """
        rows = [
            (
                r.target,
                r.unit,
                r.status,
                r.rows,
                r.attempts,
                r.error,
                r.updated_at,
                r.season,
                json.dumps(dict(r.extra), sort_keys=True, default=str),
                *key_hash(r.unit),
            )
            for r in records
        ]
        if not rows:
            return
        with self._db.errors(f"recording {len(rows)} unit(s)"), self._db.transaction() as conn:
            conn.executemany(
                "INSERT INTO units (target, unit, status, rows, attempts, error, updated_at, season, extra, h1, h2) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (target, unit) DO UPDATE SET status = excluded.status, rows = excluded.rows, "
                "attempts = excluded.attempts, error = excluded.error, updated_at = excluded.updated_at, "
                "season = excluded.season, extra = excluded.extra, h1 = excluded.h1, h2 = excluded.h2",
                rows,
            )

    def get_meta(self, key: str) -> str | None:
        """A metadata value.

        Args:
            key: The key.

        Returns:
            The value, or None.
        """
        with self._db.errors(f"reading meta {key}"), self._db.reading() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Store a metadata value.

        Args:
            key: The key.
            value: The value.
        """
        with self._db.errors(f"writing meta {key}"), self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def acquire_lock(self, lock: LockInfo, now: float) -> LockInfo | None:
        """Take a lock if it is free, expired (``expires_at < now``) or already ours.

        Args:
            lock: The lock to take (its owner is us).
            now: The current time, epoch seconds.

        Returns:
            None if we hold the lock now; otherwise the current holder.
        """
        values = (
            lock.lock_id,
            lock.owner,
            lock.host,
            lock.pid,
            lock.command,
            lock.created_at,
            lock.expires_at,
        )
        with self._db.errors(f"acquiring lock {lock.lock_id}"), self._db.transaction() as conn:
            cur = conn.execute(
                f"INSERT INTO locks ({_LOCK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (lock_id) DO UPDATE SET owner = excluded.owner, host = excluded.host, "
                "pid = excluded.pid, command = excluded.command, created_at = excluded.created_at, "
                "expires_at = excluded.expires_at "
                "WHERE locks.expires_at < ? OR locks.owner = excluded.owner",
                (*values, now),
            )
            if cur.rowcount == 1:
                return None
            row = conn.execute(f"SELECT {_LOCK_COLUMNS} FROM locks WHERE lock_id = ?", (lock.lock_id,)).fetchone()
        return _lock(row)

    def renew_lock(self, lock_id: str, owner: str, expires_at: float) -> bool:
        """Extend our lease.

        Args:
            lock_id: The lock.
            owner: Our owner id.
            expires_at: The new expiry, epoch seconds.

        Returns:
            False if we no longer hold the lock.
        """
        with self._db.errors(f"renewing lock {lock_id}"), self._db.transaction() as conn:
            cur = conn.execute(
                "UPDATE locks SET expires_at = ? WHERE lock_id = ? AND owner = ?",
                (expires_at, lock_id, owner),
            )
            return cur.rowcount == 1

    def release_lock(self, lock_id: str, owner: str | None) -> bool:
        """Release a lock; ``owner=None`` forces it (``reconcile force-unlock``).

        Args:
            lock_id: The lock.
            owner: Our owner id, or None to release whoever holds it.

        Returns:
            True if a lock was removed.
        """
        with self._db.errors(f"releasing lock {lock_id}"), self._db.transaction() as conn:
            if owner is None:
                cur = conn.execute("DELETE FROM locks WHERE lock_id = ?", (lock_id,))
            else:
                cur = conn.execute("DELETE FROM locks WHERE lock_id = ? AND owner = ?", (lock_id, owner))
            return cur.rowcount > 0

    def list_locks(self) -> list[LockInfo]:
        """Every recorded lock, expired ones included, by lock id.

        Returns:
            The locks.
        """
        with self._db.errors("listing locks"), self._db.reading() as conn:
            rows = conn.execute(f"SELECT {_LOCK_COLUMNS} FROM locks ORDER BY lock_id").fetchall()
        return [_lock(r) for r in rows]

    def close(self) -> None:
        """Close the database."""
        self._db.close()

"""SqliteState specifics: processes racing for a lock, migrations, durability settings."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest

from reconciler.adapters._sqlite import SqliteDb
from reconciler.adapters.sqlite_state import SqliteState
from reconciler.errors import BackendError
from reconciler.ports import LockInfo, UnitRecord


def _contend(path: str, owner: str, ready, go, queue) -> None:  # runs in a child process
    state = SqliteState(path)
    ready.put(owner)
    go.wait(30)
    lock = LockInfo("plays", owner, "host", 1, "cmd", created_at=0.0, expires_at=10_000.0)
    holder = state.acquire_lock(lock, now=1_000.0)
    queue.put((owner, None if holder is None else holder.owner))
    state.close()


def test_processes_racing_for_an_expired_lock_exactly_one_wins(tmp_path):
    path = str(tmp_path / "state.sqlite")
    setup = SqliteState(path)
    setup.acquire_lock(LockInfo("plays", "old", "h", 1, "c", 0.0, 500.0), now=0.0)
    ctx = multiprocessing.get_context("spawn")  # no fork: the moto server's threads may be running
    ready, results_q, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_contend, args=(path, f"p{i}", ready, go, results_q)) for i in range(2)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=60)  # every child has imported and opened the database
    go.set()
    results = [results_q.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    winners = [owner for owner, holder in results if holder is None]
    assert len(winners) == 1
    assert all(holder == winners[0] for _, holder in results if holder is not None)
    assert setup.list_locks()[0].owner == winners[0]
    setup.close()


def test_wal_and_full_sync(tmp_path):
    state = SqliteState(tmp_path / "s" / "state.sqlite")
    conn = state._db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    state.close()


def test_state_survives_reopen(tmp_path):
    path = tmp_path / "state.sqlite"
    first = SqliteState(path)
    first.record_units([UnitRecord("plays", "1", "done", rows=3)])
    first.set_meta("k", "v")
    first.close()
    second = SqliteState(path)
    assert second.load_units("plays")["1"].rows == 3
    assert second.get_meta("k") == "v"
    assert second.schema_version == 2
    second.close()


def test_migrations_run_step_by_step_and_once(tmp_path):
    path = tmp_path / "db.sqlite"
    ran = []

    def step2(conn: sqlite3.Connection) -> None:
        ran.append(2)
        conn.execute("ALTER TABLE t ADD COLUMN b TEXT")

    v1 = ["CREATE TABLE t (a INTEGER)"]
    db = SqliteDb(path, "demo", v1)
    assert db.version() == 1
    db.close()
    db = SqliteDb(path, "demo", [*v1, step2])
    assert db.version() == 2
    assert [r[1] for r in db.conn.execute("PRAGMA table_info(t)")] == ["a", "b"]
    db.close()
    db = SqliteDb(path, "demo", [*v1, step2])  # nothing left to do
    assert ran == [2]
    db.close()


def test_a_failed_migration_leaves_the_previous_version(tmp_path):
    path = tmp_path / "db.sqlite"
    SqliteDb(path, "demo", ["CREATE TABLE t (a INTEGER)"]).close()
    with pytest.raises(BackendError, match="no such table"):
        SqliteDb(path, "demo", ["CREATE TABLE t (a INTEGER)", "ALTER TABLE missing ADD COLUMN b"])
    db = SqliteDb(path, "demo", ["CREATE TABLE t (a INTEGER)"])
    assert db.version() == 1
    db.close()


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "db.sqlite"
    SqliteDb(path, "demo", ["CREATE TABLE t (a INTEGER)", "CREATE TABLE u (a INTEGER)"]).close()
    with pytest.raises(BackendError, match="schema version 2 is newer than this reconciler"):
        SqliteDb(path, "demo", ["CREATE TABLE t (a INTEGER)"])


def test_unopenable_file_is_a_backend_error(tmp_path):
    (tmp_path / "dir.sqlite").mkdir()
    with pytest.raises(BackendError, match=r"dir\.sqlite: open failed"):
        SqliteState(tmp_path / "dir.sqlite")


def test_a_version_1_state_file_gains_the_key_digests_of_its_units(tmp_path):
    """Migration 2 hashes the units recorded before it, so their empty records aggregate alike."""
    from reconciler.adapters.sqlite_state import _MIGRATIONS
    from reconciler.core.empties import EmptyDigest, SetDigest

    path = tmp_path / "state.sqlite"
    old = SqliteDb(path, "state", _MIGRATIONS[:1])
    with old.conn:
        old.conn.executemany(
            "INSERT INTO units (target, unit, status, updated_at, season) VALUES (?, ?, ?, ?, ?)",
            [("plays", "1", "empty", 10.0, 2015), ("plays", "2", "empty", 20.0, 2015), ("plays", "3", "done", 0, 2015)],
        )
    old.close()
    state = SqliteState(path)
    assert state.schema_version == 2
    state.record_units([UnitRecord("plays", "4", "empty", updated_at=30.0, season=2015)])
    got = state.empty_digests("plays", young_since=15.0)
    assert got == {2015: EmptyDigest(SetDigest.of(["1", "2", "4"]), oldest_old=10.0)}
    state.close()


def test_a_record_without_its_digest_leaves_its_season_listed_until_recorded_again(tmp_path):
    """A row written by a process that opened the file before schema 2 has no digest: never miscounted."""
    from reconciler.core.empties import EmptyDigest, SetDigest

    state = SqliteState(tmp_path / "state.sqlite")
    state.record_units(
        [UnitRecord("plays", k, "empty", updated_at=50.0, season=s) for k, s in (("1", 2015), ("2", 2016))]
    )
    with sqlite3.connect(tmp_path / "state.sqlite") as conn:  # as a schema-1 writer leaves it
        conn.execute("UPDATE units SET h1 = NULL, h2 = NULL WHERE unit = '1'")
    assert state.empty_digests("plays", young_since=0.0) == {2016: EmptyDigest(SetDigest.of(["2"]))}
    state.record_units([UnitRecord("plays", "1", "empty", updated_at=60.0, season=2015)])  # the upsert repairs it
    assert state.empty_digests("plays", young_since=0.0)[2015] == EmptyDigest(SetDigest.of(["1"]))
    state.close()

"""The lake lock's generations: one winner per race, nothing deleted per apply, a bounded pile of leases."""

from __future__ import annotations

import threading

from reconciler.adapters.local_store import LocalStore
from reconciler.apply.lake_lock import KEEP, LOCK_PREFIX, LakeLocks
from reconciler.ports import LockInfo


def _lock(owner: str, expires_at: float) -> LockInfo:
    return LockInfo("lake", owner, "host", 1, "reconcile apply", 0.0, expires_at)


def _race(locks: list[LakeLocks], now: float) -> list[LockInfo | None]:
    results: list[LockInfo | None] = [None] * len(locks)
    start = threading.Barrier(len(locks))

    def take(i: int) -> None:
        start.wait()
        results[i] = locks[i].acquire_lock(_lock(f"p{i}", now + 60), now)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(len(locks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_exactly_one_of_racing_applies_takes_a_free_or_expired_lock(tmp_path):
    (tmp_path / "lake").mkdir()
    locks = [LakeLocks(LocalStore(tmp_path / "lake")) for _ in range(8)]
    assert sum(r is None for r in _race(locks, 100.0)) == 1
    # Now expired: again exactly one takes it over.
    assert sum(r is None for r in _race(locks, 1000.0)) == 1


def test_release_deletes_nothing_and_leases_stay_bounded(tmp_path):
    (tmp_path / "lake").mkdir()
    store = LocalStore(tmp_path / "lake")
    locks = LakeLocks(store)
    for i in range(3):
        assert locks.acquire_lock(_lock(f"o{i}", 50.0), 10.0) is None
        assert [lk.owner for lk in locks.list_locks()] == [f"o{i}"]
        assert locks.release_lock("lake", f"o{i}")
        assert locks.list_locks() == []
    assert len(list(store.list_objects(LOCK_PREFIX))) == 3  # released, not deleted
    for i in range(3 * KEEP):
        assert locks.acquire_lock(_lock(f"n{i}", 50.0), 10.0) is None
        assert locks.release_lock("lake", f"n{i}")
    assert len(list(store.list_objects(LOCK_PREFIX))) <= KEEP
    assert not locks.release_lock("lake", None)  # nothing held

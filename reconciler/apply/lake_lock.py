"""The apply lock as an object in the lake itself, so that every config on one lake sees it.

The lock used to live in the state store: two configs with separate state (two SQLite files, or
two checkpoint tables) on one lake both ran, doubling the API calls against one key's quota and
racing on the same tables. The lake's object store is the one thing every writer of a lake
shares, so the lease lives there, under ``_reconcile/locks/<lock id>/`` (no table reads that
prefix; the pipeline never lists it).

Each lease is one object named by a generation number, ``<generation>.json``, holding the
holder's :class:`~reconciler.ports.LockInfo`. The highest generation is the lock. Taking a free
lock, or taking over an expired or released one, is one conditional create
(``put(if_absent=True)``) of the next generation: of two appliers racing for it exactly one
creates it, on a local directory and on S3 alike (``If-None-Match: *``). Renewing rewrites the
holder's own object after checking that it is still the newest; releasing rewrites it as
released. Nothing is deleted on the way, so an apply without ``--allow-delete`` deletes nothing;
once more than :data:`KEEP` generations have piled up, the apply that takes the next one removes
the oldest (one batch delete of lock objects, every :data:`KEEP` applies).
"""

from __future__ import annotations

import json
import logging
import posixpath
from dataclasses import asdict

from reconciler.errors import LakeError, ReconcilerError
from reconciler.ports import LockInfo, ObjectStore

__all__ = ["LOCK_PREFIX", "LakeLocks"]

log = logging.getLogger(__name__)

LOCK_PREFIX = "_reconcile/locks/"
#: Lease objects kept per lock before the oldest are removed.
KEEP = 16
_ATTEMPTS = 5
_RELEASED = "released"


def _gen_key(lock_id: str, gen: int) -> str:
    return f"{LOCK_PREFIX}{lock_id}/{gen:012d}.json"


def _gen_of(key: str) -> int | None:
    name = posixpath.basename(key)
    stem = name.removesuffix(".json")
    return int(stem) if name.endswith(".json") and stem.isdigit() else None


class LakeLocks:
    """Lease locks kept as objects in the lake's store (the lock part of a state store's interface)."""

    def __init__(self, store: ObjectStore) -> None:
        """Keep locks in a store.

        Args:
            store: The lake's object store.
        """
        self.store = store

    def _generations(self, lock_id: str) -> list[tuple[int, str]]:
        out = []
        for obj in self.store.list_objects(f"{LOCK_PREFIX}{lock_id}/"):
            gen = _gen_of(obj.key)
            if gen is not None:
                out.append((gen, obj.key))
        return sorted(out)

    def _read(self, key: str) -> tuple[LockInfo, bool] | None:
        """A lease object's holder, and whether it was released (None: gone since listed)."""
        try:
            data = json.loads(self.store.get(key))
            released = bool(data.pop(_RELEASED, False))
            return LockInfo(**data), released
        except LakeError:
            return None
        except (ValueError, TypeError) as exc:
            log.warning("%s: unreadable lock object (%s); treated as expired", key, exc)
            return LockInfo("?", "?", "?", 0, "?", 0.0, 0.0), True

    def _current(self, lock_id: str) -> tuple[int, str, LockInfo, bool] | None:
        gens = self._generations(lock_id)
        for gen, key in reversed(gens):
            got = self._read(key)
            if got is not None:
                return gen, key, got[0], got[1]
        return None

    def _write(self, key: str, lock: LockInfo, *, if_absent: bool, released: bool = False) -> bool:
        body = asdict(lock) | ({_RELEASED: True} if released else {})
        return self.store.put(key, json.dumps(body, sort_keys=True).encode(), if_absent=if_absent)

    def _forget_older(self, lock_id: str, gen: int) -> None:
        """Remove the oldest lease objects once more than :data:`KEEP` are kept."""
        if gen <= KEEP:
            return
        old = [key for g, key in self._generations(lock_id) if g <= gen - KEEP]
        if old:
            try:
                self.store.delete(old)
            except ReconcilerError as exc:  # leftovers are harmless: the highest generation rules
                log.warning("could not remove old lock objects %s: %s", old, exc)

    def acquire_lock(self, lock: LockInfo, now: float) -> LockInfo | None:
        """Take a lock that is free, expired or ours.

        Args:
            lock: The lease wanted (its ``lock_id`` names the lock).
            now: Epoch seconds.

        Returns:
            None when taken; the live holder when someone else holds it.
        """
        for _ in range(_ATTEMPTS):
            cur = self._current(lock.lock_id)
            if cur is None:
                if self._write(_gen_key(lock.lock_id, 1), lock, if_absent=True):
                    return None
                continue
            gen, key, holder, released = cur
            live = holder.expires_at >= now and not released
            if live and holder.owner == lock.owner:
                self._write(key, lock, if_absent=False)
                return None
            if live:
                return holder
            if self._write(_gen_key(lock.lock_id, gen + 1), lock, if_absent=True):
                self._forget_older(lock.lock_id, gen + 1)
                return None
        cur = self._current(lock.lock_id)
        return cur[2] if cur is not None and not cur[3] else None

    def renew_lock(self, lock_id: str, owner: str, expires_at: float) -> bool:
        """Extend our lease.

        Args:
            lock_id: The lock.
            owner: Our owner id.
            expires_at: The new expiry (epoch seconds).

        Returns:
            False when the lock is no longer ours (taken over, or broken with force-unlock).
        """
        cur = self._current(lock_id)
        if cur is None or cur[2].owner != owner or cur[3]:
            return False
        _, key, held, _ = cur
        self._write(key, LockInfo(**{**asdict(held), "expires_at": expires_at}), if_absent=False)
        return True

    def release_lock(self, lock_id: str, owner: str | None) -> bool:
        """Release a lock.

        Args:
            lock_id: The lock.
            owner: The holder it must be (None forces it: ``force-unlock``).

        Returns:
            True when a lock was released.
        """
        cur = self._current(lock_id)
        if cur is None or cur[3]:
            return False
        _, key, held, _ = cur
        if owner is not None and held.owner != owner:
            return False
        self._write(key, held, if_absent=False, released=True)
        return True

    def list_locks(self) -> list[LockInfo]:
        """The held (not released) lock of each lock id: its newest generation.

        Returns:
            The locks, by lock id.
        """
        ids = sorted({k.key[len(LOCK_PREFIX) :].split("/", 1)[0] for k in self.store.list_objects(LOCK_PREFIX)})
        out = []
        for lock_id in ids:
            cur = self._current(lock_id)
            if cur is not None and not cur[3]:
                out.append(cur[2])
        return out

"""The apply lock: one lease per lake, renewed by a heartbeat thread while apply runs.

Why one lock per lake and not per target: every target of a lake shares one API key, and the
pacing rule (never more than N requests start in any one-second window) and the quota reserve
hold only if a single process paces all requests; targets also read each other (the expected
plays come from ``fct_games``), and maintenance actions (relayout, dedupe, register) rewrite
the same tables and catalog partitions that fetches write. Running targets in parallel would
buy no throughput, since the API rate is the bottleneck, and would cost those guarantees.

The lease is taken by a conditional write (free, expired, or already ours). A holder on this
host whose process no longer exists (``kill -9``, a crash) is taken over at once, again by a
conditional write on its owner id, so that resuming after a crash does not wait for the lease
to expire; a holder on another host is taken over only once its lease has expired.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from reconciler.errors import LockHeld, ReconcilerError
from reconciler.ports import LockInfo

__all__ = ["LAKE_LOCK", "Lease", "LockStore", "describe_holder", "hold_lock", "process_alive"]

log = logging.getLogger(__name__)

LAKE_LOCK = "lake"
"""The id of the apply lock (one per lake: it is kept in the lake, see :mod:`reconciler.apply.lake_lock`)."""


class LockStore(Protocol):
    """Where leases are kept (:class:`reconciler.apply.lake_lock.LakeLocks`: the lake itself)."""

    def acquire_lock(self, lock: LockInfo, now: float) -> LockInfo | None:
        """Take a lock if free or expired; return the current holder if someone else holds it."""
        ...

    def renew_lock(self, lock_id: str, owner: str, expires_at: float) -> bool:
        """Extend our lease; False if we no longer hold it."""
        ...

    def release_lock(self, lock_id: str, owner: str | None) -> bool:
        """Release a lock (``owner=None`` forces it); True if something was released."""
        ...


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host.

    Args:
        pid: The process id.

    Returns:
        False only when the process certainly does not exist.
    """
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # e.g. EPERM: it exists, owned by someone else
    return True


def describe_holder(holder: LockInfo, now: float) -> str:
    """One line naming a lock's holder, for messages.

    Args:
        holder: The lock.
        now: Epoch seconds.

    Returns:
        e.g. ``3f2a9c1d ('reconcile apply …' on host, pid 123, started 40 s ago, lease expires in 80 s)``.
    """
    return (
        f"{holder.owner[:8]} ({holder.command!r} on {holder.host}, pid {holder.pid}, "
        f"started {max(0.0, now - holder.created_at):.0f} s ago, lease expires in {holder.expires_at - now:.0f} s)"
    )


@dataclass
class Lease:
    """A held lock.

    Attributes:
        lock_id: The lock.
        owner: Our owner id.
        lost: Why we lost the lock (empty while we hold it).
        on_lost: Called once, from the heartbeat thread, when the lock is lost.
        took_over: The dead or expired holder we replaced, if any.
    """

    lock_id: str
    owner: str
    lost: str = ""
    on_lost: Callable[[str], None] | None = None
    took_over: LockInfo | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def _lose(self, reason: str) -> None:
        if self.lost:
            return
        self.lost = reason
        log.error("%s", reason)
        if self.on_lost is not None:
            self.on_lost(reason)


def _acquire(state: LockStore, lock: LockInfo, host: str, unlock_hint: str) -> LockInfo | None:
    """Take the lock; returns the holder we replaced (or None), raises LockHeld if held."""
    now = time.time()
    holder = state.acquire_lock(lock, now)
    if holder is None:
        return None
    if holder.host == host and not process_alive(holder.pid):
        # Its process is gone: release it conditionally on its owner (a racing apply that got
        # there first makes this a no-op), then try once more.
        if state.release_lock(lock.lock_id, holder.owner):
            log.warning("took over lock %s from dead process %d on %s", lock.lock_id, holder.pid, host)
        again = state.acquire_lock(lock, time.time())
        if again is None:
            return holder
        holder = again
    raise LockHeld(
        f"the lake is locked by another apply: {describe_holder(holder, now)}; "
        f"if that apply is dead: {unlock_hint or 'reconcile force-unlock ' + lock.lock_id}"
    )


@contextmanager
def hold_lock(
    state: LockStore,
    command: str,
    host: str,
    ttl: float,
    *,
    lock_id: str = LAKE_LOCK,
    clock: Callable[[], float] = time.time,
    unlock_hint: str = "",
) -> Iterator[Lease]:
    """Hold the apply lock for the duration of the block, renewing it every ``ttl / 3`` seconds.

    The heartbeat runs in a thread, so a long synchronous step (observing a big lake) cannot
    starve it. If a renewal finds the lock taken (``force-unlock``, or a takeover after our
    lease expired), the lease's ``on_lost`` callback is called so the apply stops new work.

    Args:
        state: Where the lease is kept (the lake: :class:`reconciler.apply.lake_lock.LakeLocks`).
        command: The command line (key-free), for ``locks list``.
        host: This host's name.
        ttl: Lease length in seconds.
        lock_id: The lock to take.
        clock: Epoch seconds.
        unlock_hint: The command that breaks the lock, with the ``--config`` it needs (for the
            message when the lock is held).

    Yields:
        The lease.

    Raises:
        LockHeld: When another live apply holds the lock.
    """
    now = clock()
    owner = uuid.uuid4().hex
    info = LockInfo(lock_id, owner, host, os.getpid(), command, now, now + ttl)
    replaced = _acquire(state, info, host, unlock_hint)
    lease = Lease(lock_id, owner, took_over=replaced)

    def beat() -> None:
        last_ok = clock()
        while not lease._stop.wait(ttl / 3):
            try:
                if not state.renew_lock(lock_id, owner, clock() + ttl):
                    lease._lose(f"lost the lock {lock_id!r}: another apply or force-unlock took it")
                    return
                last_ok = clock()
            except ReconcilerError as exc:
                log.warning("renewing lock %s failed: %s", lock_id, exc)
                if clock() - last_ok > ttl:
                    lease._lose(f"could not renew the lock {lock_id!r} for {ttl:g} s: {exc}")
                    return

    thread = threading.Thread(target=beat, name=f"lock-heartbeat-{lock_id}", daemon=True)
    thread.start()
    try:
        yield lease
    finally:
        lease._stop.set()
        thread.join(timeout=max(1.0, ttl))
        try:
            state.release_lock(lock_id, owner)
        except ReconcilerError as exc:  # the lease then simply expires
            log.warning("releasing lock %s failed: %s", lock_id, exc)

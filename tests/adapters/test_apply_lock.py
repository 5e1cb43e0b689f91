"""The apply lock (reconciler.apply.locks): lease, heartbeat, takeover, loss.

Over the lake's own store (where apply keeps it: ``reconciler.apply.lake_lock``, on a local
directory and on S3), and over both state stores (which still implement the lock interface).
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from reconciler.apply.locks import LAKE_LOCK, hold_lock, process_alive
from reconciler.errors import LockHeld
from reconciler.ports import LockInfo
from tests.adapters import test_contract_state as contract

# Where a lease can be kept: the lake (local directory, S3 on moto), and the state stores of the
# StateStore contract tests (SQLite, DynamoDB on moto).
KINDS = [
    "lake-local",
    pytest.param("lake-s3", marks=pytest.mark.aws),
    "sqlite",
    pytest.param("dynamodb", marks=pytest.mark.aws),
]


@pytest.fixture(params=KINDS)
def state_kind(request):
    return request.param


@pytest.fixture
def make_state(state_kind, tmp_path, request):
    """A factory of lock stores over one backing store (each call: a new instance)."""
    if not state_kind.startswith("lake-"):
        yield from contract.make_state.__wrapped__(state_kind, tmp_path, request)
        return
    from reconciler.apply.lake_lock import LakeLocks

    if state_kind == "lake-local":
        from reconciler.adapters.local_store import LocalStore

        (tmp_path / "lake").mkdir()
        yield lambda: LakeLocks(LocalStore(tmp_path / "lake"))
        return
    from reconciler.adapters.s3_store import S3Store
    from tests.adapters.conftest import BUCKET, REGION

    url, session = request.getfixturevalue("moto_url"), request.getfixturevalue("boto_session")
    yield lambda: LakeLocks(S3Store(BUCKET, region=REGION, endpoint_url=url, session=session))


def _foreign(host: str, pid: int, expires_in: float) -> LockInfo:
    now = time.time()
    return LockInfo(LAKE_LOCK, "f" * 32, host, pid, "reconcile apply --target plays", now - 30, now + expires_in)


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    assert not process_alive(p.pid)
    return p.pid


def _poll(cond, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition never became true"
        time.sleep(0.02)


def test_a_live_holder_blocks_at_once_with_one_line_naming_it(make_state):
    first, second = make_state(), make_state()
    with (
        hold_lock(first, "reconcile apply --seasons 2015", "host-a", 60) as lease,
        pytest.raises(LockHeld) as err,
        hold_lock(second, "reconcile apply", "host-b", 60),
    ):
        pass
    msg = str(err.value)
    assert "\n" not in msg
    assert lease.owner[:8] in msg and "host-a" in msg and "'reconcile apply --seasons 2015'" in msg
    assert "force-unlock lake" in msg
    assert first.list_locks() == []  # released on exit


def test_an_expired_lease_is_taken_over(make_state):
    state = make_state()
    assert state.acquire_lock(_foreign("elsewhere", 4242, expires_in=-1), time.time() - 10) is None
    with hold_lock(state, "reconcile apply", "host-b", 60) as lease:
        (held,) = state.list_locks()
        assert held.owner == lease.owner and held.host == "host-b"


def test_a_live_lease_on_another_host_is_not_taken_over_even_if_its_pid_is_free_here(make_state):
    state = make_state()
    state.acquire_lock(_foreign("elsewhere", _dead_pid(), expires_in=60), time.time())
    with pytest.raises(LockHeld, match="elsewhere"), hold_lock(state, "reconcile apply", "here", 60):
        pass


def test_a_dead_apply_on_this_host_is_taken_over_at_once(make_state):
    state = make_state()
    dead = _dead_pid()
    state.acquire_lock(_foreign("here", dead, expires_in=60), time.time())
    with hold_lock(state, "reconcile apply", "here", 60) as lease:
        assert lease.took_over is not None and lease.took_over.pid == dead
        assert [lk.owner for lk in state.list_locks()] == [lease.owner]


def test_a_live_apply_on_this_host_is_not_taken_over(make_state):
    state = make_state()
    state.acquire_lock(_foreign("here", 1, expires_in=60), time.time())  # pid 1 is always alive
    with pytest.raises(LockHeld), hold_lock(state, "reconcile apply", "here", 60):
        pass


def test_the_heartbeat_renews_the_lease(make_state):
    state = make_state()
    with hold_lock(state, "reconcile apply", "here", 1.5):
        (first,) = state.list_locks()
        _poll(lambda: state.list_locks()[0].expires_at > first.expires_at)
    assert state.list_locks() == []


def test_losing_the_lock_is_reported(make_state):
    state, other = make_state(), make_state()
    lost: list[str] = []
    with hold_lock(state, "reconcile apply", "here", 1.5) as lease:
        lease.on_lost = lost.append
        assert other.release_lock(LAKE_LOCK, None)  # force-unlock from elsewhere
        _poll(lambda: bool(lost))
    assert "lost the lock" in lost[0] and lease.lost == lost[0]
